/*
 * stack.h - one TCP/IP stack instance: the value every program and test creates.
 *
 * `struct stack` aggregates the layer contexts by value (core, link, ip, tcp, udp, socket); each
 * layer sees only its own context and the ones below it (docs/architecture.md), so this
 * file and stack.c are the only places that see them all. stack.c is the one upward
 * dispatcher: a received frame climbs ether_input -> arp_input | ipv4_input ->
 * icmp_input | tcp_input | udp_input | protocol unreachable. Output goes down by direct calls.
 *
 * Time is passed in: ts_stack_poll(s, now) drains the device and fires due timers;
 * ts_stack_next_deadline() says how long the caller may sleep. stack/loop.c adds the real
 * clock and a poll(2)-based wait for programs (ts_clock_now, ts_stack_wait).
 *
 * There are no globals: a test may run two stacks in one process joined by memdev.
 */
#ifndef TAPSTACK_STACK_H
#define TAPSTACK_STACK_H

#include <poll.h>
#include <stddef.h>
#include <stdint.h>

#include "core/core.h"
#include "core/counters.h"
#include "drivers/netdev.h"
#include "ip/ip.h"
#include "link/link.h"
#include "socket/socket.h"
#include "tcp/tcp.h"
#include "udp/udp.h"
#include "core/api.h"

TS_EXTERN_C_BEGIN

/* Frames ts_stack_poll() takes from the device per call before it lets timers and apps run. */
#define STACK_POLL_BATCH 256u
/* ts_stack_poll trims the pbuf pool once a second, at most this many pbufs per size class
 * (pbuf_pool_trim): what a burst left goes back to malloc within seconds, a bounded cost. */
#define STACK_POOL_TRIM_MAX 256u
#define STACK_POOL_TRIM_USEC USEC_PER_SEC
/* Large pbufs at least, when the device delivers coalesced (GRO) or jumbo frames: one per
 * frame in flight through the stack plus TCP's out-of-order queues (which leave a quarter free). */
#define STACK_LARGE_MAX_GRO 512u

#define STACK_COUNTERS(X)                                                                          \
	X(rx_frames)          /* frames handed to ts_stack_input */                                       \
	X(drop_unknown_ethertype) /* neither ARP nor IPv4 */                                          \
	X(drop_pbuf_alloc)    /* the pool had no receive buffer: frame left in the device */           \
	X(drv_rx_errors)      /* the driver's recv() reported an error */                             \
	X(dev_settles)        /* a late device flushed early: memory a queued frame read was to change */

struct stack_counters {
	STACK_COUNTERS(COUNTER_FIELD)
};

struct stack_config {
	struct link_config link;
	struct ip_config ip;
	struct tcp_config tcp;
	struct udp_config udp;
	struct log log;
	uint64_t seed;              /* of the random generator and the ISN key; 0: from getrandom */
	uint32_t pbuf_small_max, pbuf_large_max;
	/* ts_stack_wait(): spin on the device this long before sleeping in poll(); 0: never. */
	uint32_t busy_poll_usec;
};

struct stack {
	struct core core;
	struct link_layer link;
	struct ip_layer ip;
	struct tcp_layer tcp;
	struct udp_layer udp;
	struct socket_layer sock;
	struct netdev *dev;
	struct stack_counters cnt;
	uint32_t rx_room;       /* receive buffer size: netdev_rx_room(dev) (64 KiB with GRO) */
	uint32_t busy_poll_usec; /* stack_config.busy_poll_usec (loop.c) */
	usec_t pool_trim_at;    /* the next pbuf_pool_trim (ts_stack_poll) */
	/* Only with a device that wants drop reasons (netdev rx_note): every counter's value
	 * before the frame in progress, to name the drop counter it moved. */
	uint64_t *note_snap;
	size_t note_n;
};

/*
 * 10.0.0.2/24, MTU 1500, Linux-like defaults of every layer (each layer's *_config_default).
 * MAC and seed are left zero, which ts_stack_init() fills from getrandom: every instance gets
 * its own station address and RFC 6528 ISN secret unless the caller sets them on purpose.
 */
TS_API void ts_stack_config_default(struct stack_config *cfg);

/* For tests and reproducible runs: MAC 02:00:00:00:00:02 and the given seed (0 counts as 1). */
TS_API void ts_stack_config_fixed(struct stack_config *cfg, uint64_t seed);

/*
 * Builds every layer on dev at time now and sends the gratuitous ARP. The stack owns dev
 * afterwards, also on failure (it is closed). 0 or -errno.
 */
TS_API int ts_stack_init(struct stack *s, const struct stack_config *cfg, struct netdev *dev, usec_t now);

/* Frees everything the stack holds, closes dev. */
TS_API void ts_stack_destroy(struct stack *s);

/*
 * One received Ethernet frame at pb->data (len = frame length), at time s->core.now. The
 * stack owns pb afterwards (passed up, or freed with a counter).
 */
TS_API void ts_stack_input(struct stack *s, struct pbuf *pb);

/*
 * Sets the clock to now, takes up to STACK_POLL_BATCH frames from the device through
 * ts_stack_input, then fires every due timer, then lets the device write out what it buffers
 * (its optional flush op: a capture file is live per round). For a device with the optional
 * rx_note op it names the drop counter of each received frame the stack refused. Returns the
 * number of frames taken (so a caller knows whether the device may have more), or -errno from
 * the driver.
 */
TS_API int ts_stack_poll(struct stack *s, usec_t now);

/*
 * ts_stack_poll for a program in real time (stack/loop.c, stack/blocking.c): the time is read
 * from clock before the batch and again before each frame of it, so each frame is handled
 * at its own time, as Linux stamps each packet (tcp_mstamp). With one time for the whole
 * batch, the frames of a batch that followed a long round all seemed to arrive at once:
 * HyStart saw a flight's ACKs in clumps milliseconds apart and never its ACK train
 * (docs/tcp.md, "CUBIC"). A clock never moves time backwards here. Tests drive virtual time
 * with ts_stack_poll instead.
 */
TS_API int ts_stack_poll_clock(struct stack *s, usec_t (*clock)(void));

/*
 * Lets the device write out what it holds (its optional flush op) now: ts_stack_poll does at
 * the end of every round, a loop before it sleeps, a thread after its calls queued output. A
 * late device (netdev.tx_late) has then written every frame, so memory lent to them is free
 * again; every flush must come through here, which counts them (core_tx, core/core.h).
 */
TS_API void ts_stack_flush(struct stack *s);

/* The earliest timer deadline, USEC_NEVER if none. */
TS_API usec_t ts_stack_next_deadline(const struct stack *s);

/*
 * Moves the stack's clock to now (never back) without running its timers: for a program
 * that calls ts_* from its own thread long after the last ts_stack_poll (the blocking
 * facade). What those calls send is stamped, and the timers they arm are set, from now; a
 * timer that came due meanwhile still fires at the next poll. Without it a send after a
 * second of silence carried a TSval a second old and armed its retransmission timer a
 * second in the past, and the next poll resent it at once.
 */
TS_API void ts_stack_clock(struct stack *s, usec_t now);

/* Every layer's counters (stack, eth/arp, ip/icmp, tcp, udp, pbuf, timer), then the device's own (a TAP:
 * "tap", netdev counters op) in order; returns how many were written. */
TS_API size_t ts_stack_counter_groups(const struct stack *s, struct counter_group *out, size_t max);

/* The socket layer, for the ts_* calls. */
TS_API struct socket_layer *ts_stack_sockets(struct stack *s);

/* The library's version, TAPSTACK_VERSION of the copy that was linked (a program may have been
 * compiled against another header). */
TS_API const char *tapstack_version(void);

/* ---- stack/loop.c: the real clock and a wait for programs ---- */

/* CLOCK_MONOTONIC in microseconds. */
TS_API usec_t ts_clock_now(void);

/*
 * Waits until one of the ts_* sockets in fds is ready (revents filled through ts_poll) or
 * timeout_ms passes (-1: forever, 0: just poll), driving the stack meanwhile: poll(2) on the
 * device fd with the next timer deadline, ts_stack_poll() on each wake-up. Returns how many
 * entries are ready (0 on timeout) or -errno.
 */
TS_API int ts_stack_wait(struct stack *s, struct pollfd *fds, nfds_t n, int timeout_ms);

/*
 * Like ts_stack_wait, and also watches kernel file descriptors (a program's control socket,
 * signalfd, stdin): their revents are filled in kfds as poll(2) would. Returns the number of
 * ready entries of both arrays (0 on timeout) or -errno (-EINTR when a signal arrived).
 */
TS_API int ts_stack_wait_kernel(struct stack *s, struct pollfd *fds, nfds_t n, struct pollfd *kfds, nfds_t kn,
                      int timeout_ms);

/*
 * epoll_wait(2) over a ts_epoll_create() set: drives the stack until the set has ready
 * events (up to max are returned, as ts_epoll_collect), timeout_ms passes (0 returned;
 * -1: forever), or -errno (-EINTR on a signal, the set's errors).
 */
TS_API int ts_stack_epoll_wait(struct stack *s, int epfd, struct epoll_event *evs, int max, int timeout_ms);

TS_EXTERN_C_END

#endif
