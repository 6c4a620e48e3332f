/*
 * pcap.h - a wrapper driver that records every frame both ways to a pcap file.
 *
 * ts_pcap_wrap() returns a netdev that forwards recv/send/pollfd to the wrapped device and
 * writes each frame (received or sent) as one record to a classic libpcap file:
 * LINKTYPE_ETHERNET, microsecond timestamps, so `tcpdump -r FILE` and Wireshark open it.
 * Timestamps come from a clock the owner provides (a pointer to a usec_t it keeps current,
 * e.g. &stack->core.now) plus a base so records show wall-clock time; nothing here reads a
 * clock. Closing the wrapper flushes and closes the file, then closes the wrapped device.
 *
 * It also carries an optional frame hook (the program's --trace printer) called for every
 * frame with its direction, so the trace and the capture see exactly the same frames.
 */
#ifndef TAPSTACK_DRIVERS_PCAP_H
#define TAPSTACK_DRIVERS_PCAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/time.h"
#include "drivers/netdev.h"
#include "core/api.h"

TS_EXTERN_C_BEGIN

#define PCAP_LINKTYPE_ETHERNET 1u
/* Whole frames always, offload super-frames (64 KiB + headers) included; tcpdump's own limit. */
#define PCAP_SNAPLEN 262144u

/* Called with each whole frame; out = sent by the stack, otherwise received. */
typedef void (*netdev_frame_hook)(void *arg, bool out, const uint8_t *frame, uint32_t len);

struct pcap_wrap_config {
	const char *path;           /* pcap file to write; NULL: no file (unless fd), hook only */
	int fd;                     /* with path NULL and fd > 0: write to this descriptor (a pipe,
	                             * standard output); the wrapper owns it. 0: none */
	const usec_t *clock;        /* owner's monotonic now; NULL = time 0 */
	usec_t (*now)(void);        /* if set, each record's own time (ts_clock_now); else *clock */
	bool pcapng;                /* pcapng: each frame's direction, and why the stack dropped it */
	usec_t wall_base_usec;      /* added to *clock for record timestamps (wall time - monotonic) */
	netdev_frame_hook hook;     /* optional */
	void *hook_arg;
};

/*
 * Wraps inner. On success *out is the wrapper, which owns inner from then on. On failure
 * -errno (reason in errbuf) and inner is left to the caller.
 */
TS_API int ts_pcap_wrap(struct netdev **out, struct netdev *inner, const struct pcap_wrap_config *cfg, char *errbuf,
              size_t errlen);

/* Writes buffered records to the file now (also done after every batch: the netdev flush op). */
TS_API void ts_pcap_flush(struct netdev *wrapper);

/* Records written so far. */
TS_API uint64_t ts_pcap_records(const struct netdev *wrapper);

TS_EXTERN_C_END

#endif
