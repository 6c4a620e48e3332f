/*
 * memdev.h - the in-memory driver: a virtual cable with two ends, for tests.
 *
 * memdev_pair_create() makes two netdevs joined back to back: a frame sent on one end is
 * queued for the other end's recv(). One end is usually given to ts_stack_init(); the other is
 * held by a test (which injects frames with memdev_inject() and reads what the stack sent
 * with memdev_take()) or given to a second stack, so two stacks talk through memory.
 *
 * Impairments are seeded and deterministic (its own rng, independent of the stacks'), so a
 * run under "5% loss with reordering" repeats exactly: each frame sent may be lost,
 * duplicated, held back behind the next frame (reordered), and delayed by a fixed delay plus
 * a uniform jitter. Time is not read from a clock: each end has a pointer to the `usec_t now`
 * of its owner (e.g. &stack->core.now or a test's fake clock). A frame sent at the sender's
 * now + delay is delivered once the receiver's now reaches it; without a clock, now is 0 and
 * a zero delay delivers at once. memdev_next_due() tells a test when to advance the clock to.
 *
 * Each queue is bounded (queue_max frames); a frame sent to a full queue is dropped and
 * counted, as a real link's transmit ring would. The driver allocates one small block per
 * queued frame: it is a test driver, not a hot path.
 */
#ifndef TAPSTACK_DRIVERS_MEMDEV_H
#define TAPSTACK_DRIVERS_MEMDEV_H

#include <stddef.h>
#include <stdint.h>

#include "core/time.h"
#include "drivers/netdev.h"

#define MEMDEV_QUEUE_MAX_DEFAULT 4096u
#define MEMDEV_PPM 1000000u  /* probabilities are in parts per million */

struct memdev_config {
	uint64_t seed;          /* impairment generator seed */
	uint32_t loss_ppm;      /* probability a sent frame is lost */
	uint32_t dup_ppm;       /* probability a sent frame is delivered twice */
	uint32_t reorder_ppm;   /* probability a sent frame is held back behind the next one */
	usec_t delay_usec;      /* one-way delay added to every frame */
	usec_t jitter_usec;     /* plus a uniform 0..jitter_usec per frame (may reorder too) */
	uint32_t queue_max;     /* frames queued per direction; 0 = MEMDEV_QUEUE_MAX_DEFAULT */
	uint32_t mtu;           /* netdev mtu of both ends; 0 = 1500 */
	uint32_t offload;       /* NETDEV_OFF_* of both ends (docs/drivers.md "The offload path"): a
	                         * TSO super-frame crosses whole, as if the far end's GRO had put
	                         * it together again, its partial checksum finished on the way */
};

/* What happened to the frames sent from one end. */
struct memdev_stats {
	uint64_t tx;            /* frames sent on this end */
	uint64_t rx;            /* frames received on this end */
	uint64_t lost;          /* dropped by the loss impairment */
	uint64_t duplicated;    /* extra copies queued */
	uint64_t reordered;     /* frames held back behind a later one */
	uint64_t overflow;      /* dropped because the peer's queue was full */
	uint64_t too_big;       /* larger than NETDEV_RX_ROOM, dropped */
};

/* All impairments off, queue_max and mtu defaults. */
void memdev_config_default(struct memdev_config *cfg);

/*
 * Creates two joined ends named "mem0"/"mem1"; cfg NULL = defaults. Each end is freed by
 * its own netdev_close() (or ts_stack_destroy()); the shared state goes with the last one.
 * Returns 0 or -ENOMEM.
 */
int memdev_pair_create(struct netdev **a, struct netdev **b, const struct memdev_config *cfg);

/* The clock this end reads when it sends (stamping) and receives (delivery); NULL = time 0. */
void memdev_set_clock(struct netdev *end, const usec_t *now);

/* Changes the impairments of both directions (e.g. loss only after the handshake). */
void memdev_set_impairments(struct netdev *end, const struct memdev_config *cfg);

/* Sends len bytes as a frame from this end (same impairments as send()). 0 or -errno. */
int memdev_inject(struct netdev *end, const void *frame, size_t len);

/*
 * Takes the next frame due for this end into buf (cap bytes). Returns its length, 0 when
 * none is due, or -EMSGSIZE (the frame is consumed) when cap is too small.
 */
int memdev_take(struct netdev *end, void *buf, size_t cap);

/* Frames queued for this end (due or not). */
uint32_t memdev_pending(const struct netdev *end);

/* When the earliest frame queued for this end becomes due, or USEC_NEVER. */
usec_t memdev_next_due(const struct netdev *end);

/* Counters of this end. */
struct memdev_stats memdev_stats(const struct netdev *end);

#endif
