/*
 * latedev.h - a netdev wrapper for unit tests that sends late, as the io_uring TAP does
 * (netdev.tx_late, drivers/tap_uring.c), and checks the stack's side of that bargain.
 *
 * send() only queues the frame: it holds the pbuf (pbuf_hold) and remembers where its pieces
 * are (the pbuf's bytes, the ext pieces a TCP send ring lends) and a copy of their bytes at
 * that moment. flush() (the stack's ts_stack_flush) compares every piece with its copy, counts
 * each frame whose memory changed or went away in between (violations: what the kernel would
 * have put on the wire is not the frame TCP built), then hands the frame, as it is now, to the
 * wrapped device and releases the pbuf. A full queue flushes early, as the TAP's slots do.
 * Freed memory read at the flush is what AddressSanitizer reports (make test-san).
 *
 *   struct netdev *late = latedev_wrap(memdev_end);   // the stack gets `late`
 *   ... run ... assert_int_equal(latedev_stats(late).violations, 0);
 * Closing the wrapper flushes it and closes the wrapped device.
 */
#ifndef TAPSTACK_TESTS_LATEDEV_H
#define TAPSTACK_TESTS_LATEDEV_H

#include <stdint.h>

#include "drivers/netdev.h"

#define LATEDEV_QUEUE 64u   /* frames held before an early flush, as TAP_URING_TX */

struct latedev_stats {
	uint64_t frames;        /* frames sent through */
	uint64_t flushes;       /* flushes that found frames queued */
	uint64_t violations;    /* frames whose memory changed between send() and the flush */
};

/* A late device in front of inner (which it owns from now on). */
struct netdev *latedev_wrap(struct netdev *inner);
struct latedev_stats latedev_stats(const struct netdev *late);

#endif
