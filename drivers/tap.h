/*
 * tap.h - the real driver: a Linux TAP device (/dev/net/tun, IFF_TAP | IFF_NO_PI).
 *
 * ts_tap_open() attaches to the device of that name if it exists (e.g. made beforehand with
 * `ip tuntap add NAME mode tap`) or creates it. The driver never configures the kernel side:
 * addresses and link state are the administrator's (or the scripts') business, so the
 * program cannot disturb the host's own networking. The fd is non-blocking: recv() returns
 * 0 when nothing is pending (EAGAIN), and ts_stack_poll() drains it until then, in batches.
 */
#ifndef TAPSTACK_DRIVERS_TAP_H
#define TAPSTACK_DRIVERS_TAP_H

#include "drivers/netdev.h"
#include "core/api.h"

TS_EXTERN_C_BEGIN

/*
 * Opens (or creates) TAP device `name`; mtu is recorded as the netdev's IP MTU (the kernel
 * side's MTU stays the administrator's). On success *out is the device (netdev_close frees
 * it) and 0 is returned; otherwise -errno, with a reason in errbuf (errlen bytes).
 */
TS_API int ts_tap_open(struct netdev **out, const char *name, uint32_t mtu, char *errbuf, size_t errlen);

/* ts_tap_open_ex flags. */
#define TAP_OPEN_OFFLOAD 0x1u  /* IFF_VNET_HDR with TSO/checksum offload, if the kernel has it */
#define TAP_OPEN_URING   0x2u  /* the io_uring back end (batched I/O); fails if io_uring is unusable */
/* Without TAP_OPEN_URING: the plain back end, one read()/writev() per frame (ts_tap_io_name()). */
/*
 * Who owns a frame until it leaves. Neither back end copies a frame it sends: the kernel reads
 * the pbuf's bytes and the payload its ext pieces borrow (a TCP send ring) where they are.
 * The plain back end's writev() has read them when send() returns. The io_uring back end
 * only queues the write (netdev.tx_late): it holds the pbuf (pbuf_hold) until the write
 * completes, and the borrowed payload must stay unchanged until the device's flush returns,
 * which writes every queued frame. The stack keeps that promise (core_tx in core/core.h:
 * every flush goes through ts_stack_flush, and the send ring flushes first before it frees,
 * moves or hands back lent bytes); a program that drives the stack itself calls
 * ts_stack_flush() before it sleeps.
 */

/*
 * ts_tap_open with flags. With TAP_OPEN_OFFLOAD the device's netdev.offload says what the
 * kernel accepted (NETDEV_OFF_*; 0 when it has no IFF_VNET_HDR: plain frames).
 */
TS_API int ts_tap_open_ex(struct netdev **out, const char *name, uint32_t mtu, unsigned flags, char *errbuf,
                size_t errlen);

/*
 * What the device's back end did (both back ends fill what applies to them). A frame whose
 * write failed is counted here, never lost silently: tx_errors, tx_short. `tapstack stats`
 * shows them as the group "tap".
 */
#define TAP_IO_COUNTERS(X)                                                                         \
	X(tx_frames)     /* frames handed to the kernel */                                           \
	X(tx_syscalls)   /* system calls that sent them (plain: one per frame) */                    \
	X(tx_errors)     /* frames the kernel refused (the write's errno); not retried */            \
	X(tx_short)      /* writes that took less than the whole frame (io_uring) */                 \
	X(tx_early)      /* batches sent before the poll cycle ended: the send slots were full */    \
	X(rx_frames)     /* frames received */                                                       \
	X(rx_errors)     /* reads that failed */

struct tap_io_stats {
	TAP_IO_COUNTERS(COUNTER_FIELD)
};

/* "uring" or "plain": the back end this TAP device uses; NULL for a device that is not a TAP. */
TS_API const char *ts_tap_io_name(const struct netdev *dev);
/* Copies the device's back-end counters to *st: 0, or -EINVAL for a device that is not a TAP. */
TS_API int ts_tap_io_stats(const struct netdev *dev, struct tap_io_stats *st);

TS_EXTERN_C_END

#endif
