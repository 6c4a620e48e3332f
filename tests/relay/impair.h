/*
 * impair.h - what a lossy path does to one direction's frames, as a pure model: frames go in
 * with their arrival time, come out at the time the path would deliver them, or not at all.
 *
 * The relay (tests/relay/relay.c) keeps one of these per direction and does the socket I/O
 * around it; tests/unit/test_impair.c drives it with a fake clock. No clock is read here and
 * nothing is allocated after impair_init(): the frame slots, the free list and the delivery
 * heap are sized once.
 *
 * The model, in the order a frame meets it (the vocabulary is Linux netem's and tbf's):
 *   1. loss       with probability loss_ppm the frame vanishes;
 *   2. corruption with probability corrupt_ppm one bit of an IPv4 frame flips after the
 *                 Ethernet header, where the IPv4 or TCP checksum must catch it (other
 *                 frames are spared: ARP has no checksum, and on a real link the Ethernet
 *                 FCS stops a damaged frame before anyone reads it);
 *   3. bottleneck a link of rate_bps serialises frames one after another behind a FIFO queue
 *                 of at most queue_bytes; a frame that does not fit is dropped (tail drop);
 *   4. delay      the frame then travels delay_ns; with probability reorder_ppm it takes
 *                 reorder_delay_ns instead (netem's "reorder": 0 = it overtakes everything
 *                 still in flight).
 * Random decisions come from a generator seeded per direction, so a run repeats exactly.
 */
#ifndef TAPSTACK_TESTS_RELAY_IMPAIR_H
#define TAPSTACK_TESTS_RELAY_IMPAIR_H

#include <stddef.h>
#include <stdint.h>

#include "core/rng.h"

/* Largest frame a slot holds: an Ethernet frame of a 1500-byte MTU with a VLAN tag, with
 * room to spare. Bigger frames (a GSO super-frame from a device with offloads left on) are
 * refused and counted as oversize. */
#define IMPAIR_FRAME_MAX 2048u
#define IMPAIR_PPM 1000000u
#define IMPAIR_NS_PER_SEC 1000000000ull
#define IMPAIR_NEVER UINT64_MAX

struct impair_config {
	uint32_t loss_ppm;          /* probability a frame is dropped, per million */
	uint32_t corrupt_ppm;       /* probability one bit of an IPv4 frame is flipped */
	uint32_t reorder_ppm;       /* probability a frame takes reorder_delay_ns */
	uint64_t delay_ns;          /* one-way propagation delay */
	uint64_t reorder_delay_ns;  /* a reordered frame's delay instead of delay_ns */
	uint64_t rate_bps;          /* bottleneck rate in bits/s of Ethernet frame; 0 = none */
	uint64_t queue_bytes;       /* bytes waiting for the bottleneck at most (rate_bps > 0) */
};

/* What happened to one frame at impair_input(). */
enum impair_verdict {
	IMPAIR_QUEUED,       /* will come out of impair_peek() at its due time */
	IMPAIR_LOST,         /* dropped by the loss draw */
	IMPAIR_QUEUE_FULL,   /* dropped: the bottleneck queue had no room (tail drop) */
	IMPAIR_NO_SLOT,      /* dropped: every frame slot holds a frame in flight */
	IMPAIR_OVERSIZE,     /* dropped: longer than IMPAIR_FRAME_MAX, or empty */
};

struct impair_counters {
	uint64_t in_frames, in_bytes;     /* offered to impair_input() */
	uint64_t out_frames, out_bytes;   /* taken out with impair_pop() */
	uint64_t lost;                    /* dropped by the loss draw */
	uint64_t corrupted;               /* a bit flipped (and passed on) */
	uint64_t reordered;               /* given reorder_delay_ns */
	uint64_t queue_drops;             /* tail drops at the bottleneck */
	uint64_t slot_drops;              /* no free slot */
	uint64_t oversize;                /* too long for a slot */
	uint64_t queue_peak_bytes;        /* largest bottleneck backlog seen, this frame included */
};

struct impair_slot {
	uint64_t due_ns;      /* when the path delivers it */
	uint64_t order;       /* arrival number: equal due times leave in arrival order */
	uint32_t len;
	uint8_t data[IMPAIR_FRAME_MAX];
};

struct impair {
	struct impair_config cfg;
	struct rng rng;
	uint64_t link_free_ns;    /* when the bottleneck has serialised every frame it accepted */
	uint64_t arrivals;
	struct impair_slot *slots;
	uint32_t nslots;
	uint32_t *free_list;      /* indices of free slots (a stack) */
	uint32_t nfree;
	uint32_t *heap;           /* indices of frames in flight, a min-heap by (due_ns, order) */
	uint32_t nheap;
	struct impair_counters c;
};

/* Sizes the direction for nslots frames in flight at once; 0 on success, -ENOMEM. */
int impair_init(struct impair *im, const struct impair_config *cfg, uint64_t seed, uint32_t nslots);
void impair_free(struct impair *im);

/* One frame arrives at now_ns; the frame is copied when it is queued. */
enum impair_verdict impair_input(struct impair *im, const uint8_t *frame, size_t len, uint64_t now_ns);

/* When the next frame is due (IMPAIR_NEVER when none is in flight). */
uint64_t impair_next_due(const struct impair *im);

/* The next frame due at or before now_ns, or NULL: it stays first until impair_pop(), so a
 * send that would block can be tried again later. */
const uint8_t *impair_peek(const struct impair *im, uint64_t now_ns, size_t *len);
void impair_pop(struct impair *im);

/* Bytes waiting for the bottleneck at now_ns (0 without a rate). */
uint64_t impair_backlog_bytes(const struct impair *im, uint64_t now_ns);

/* The queue a rate needs to hold one bandwidth-delay product of an rtt_ns round trip. */
uint64_t impair_bdp_bytes(uint64_t rate_bps, uint64_t rtt_ns);

#endif
