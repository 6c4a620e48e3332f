/*
 * core.h - what every layer shares: the clock, the packet pool, the timers, the log and
 * the random generator. One `struct core` lives inside each `struct stack`; every layer's
 * context points to it. Nothing here knows any protocol.
 */
#ifndef TAPSTACK_CORE_CORE_H
#define TAPSTACK_CORE_CORE_H

#include <stdbool.h>
#include <stdint.h>

#include "core/log.h"
#include "core/pbuf.h"
#include "core/rng.h"
#include "core/time.h"
#include "core/timer.h"

/*
 * Memory lent to a late device (docs/drivers.md, "Who owns a frame until it leaves"). A
 * device with netdev.tx_late (the io_uring TAP) queues each frame at send() and the kernel
 * reads it at the device's flush: the frame's pbuf (held, pbuf_hold) and the payload its ext
 * pieces borrow from a TCP send ring. So whoever lends memory to a frame remembers the epoch
 * (the flushes so far) it lent in, and before that memory is freed, moved or handed back for
 * reuse in the same epoch calls core_tx_settle(), which flushes the device at once. Every
 * flush of the device goes through the stack (ts_stack_flush), which counts the epochs.
 */
struct core_tx {
	bool late;                 /* the device is tx_late: lending must be tracked */
	uint32_t epoch;            /* flushes of the device so far (starts at 1, skips 0) */
	void (*settle)(void *arg); /* the stack's: counts it (dev_settles), flushes, next epoch */
	void *arg;
};

struct core {
	usec_t now;                /* set by ts_stack_poll()/ts_stack_input() callers; never read from a clock */
	struct pbuf_pool pool;
	struct timer_heap timers;
	struct log log;
	struct rng rng;
	struct core_tx tx;
};

/* Whether memory lent in `epoch` may still be read by the device: lent since its last flush. */
static inline bool core_tx_lent(const struct core *c, uint32_t epoch)
{
	return c->tx.late && epoch == c->tx.epoch;
}

/* Memory lent in `epoch` is about to be freed or reused: the device writes what it queued first. */
static inline void core_tx_settle(struct core *c, uint32_t epoch)
{
	if (core_tx_lent(c, epoch))
		c->tx.settle(c->tx.arg);
}

#endif
