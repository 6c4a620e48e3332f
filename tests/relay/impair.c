/*
 * impair.c - the lossy-path model of one direction (see impair.h for the model and its
 * order: loss, corruption, bottleneck queue, delay with reordering).
 *
 * The bottleneck needs no queue of its own: frames leave a FIFO link in arrival order, so
 * each frame's end of serialisation is known when it arrives (the link is free at
 * link_free_ns; the frame occupies it len * 8 / rate after that). What is still waiting at
 * time t is therefore (link_free_ns - t) * rate / 8 bytes, which is what tail drop compares
 * with the queue bound. After serialisation the frame is only a due time in a min-heap of
 * frames in flight; a reordered frame gets an earlier due time and overtakes the others.
 * Heap operations are O(log n); frames never move, only their slot indices do.
 */
#include "tests/relay/impair.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* A draw with probability ppm per million. */
static int impair_draw(struct impair *im, uint32_t ppm)
{
	return ppm && rng_u32(&im->rng) % IMPAIR_PPM < ppm;
}

static int impair_slot_before(const struct impair *im, uint32_t a, uint32_t b)
{
	const struct impair_slot *x = &im->slots[a], *y = &im->slots[b];

	return x->due_ns < y->due_ns || (x->due_ns == y->due_ns && x->order < y->order);
}

static void impair_heap_swap(struct impair *im, uint32_t i, uint32_t j)
{
	uint32_t t = im->heap[i];

	im->heap[i] = im->heap[j];
	im->heap[j] = t;
}

static void impair_heap_push(struct impair *im, uint32_t slot)
{
	uint32_t i = im->nheap++;

	im->heap[i] = slot;
	while (i > 0 && impair_slot_before(im, im->heap[i], im->heap[(i - 1) / 2])) {
		impair_heap_swap(im, i, (i - 1) / 2);
		i = (i - 1) / 2;
	}
}

static void impair_heap_pop(struct impair *im)
{
	uint32_t i = 0;

	im->heap[0] = im->heap[--im->nheap];
	for (;;) {
		uint32_t l = 2 * i + 1, r = l + 1, m = i;

		if (l < im->nheap && impair_slot_before(im, im->heap[l], im->heap[m]))
			m = l;
		if (r < im->nheap && impair_slot_before(im, im->heap[r], im->heap[m]))
			m = r;
		if (m == i)
			return;
		impair_heap_swap(im, i, m);
		i = m;
	}
}

int impair_init(struct impair *im, const struct impair_config *cfg, uint64_t seed, uint32_t nslots)
{
	uint32_t i;

	memset(im, 0, sizeof(*im));
	im->cfg = *cfg;
	rng_seed(&im->rng, seed);
	im->slots = calloc(nslots, sizeof(*im->slots));
	im->free_list = calloc(nslots, sizeof(*im->free_list));
	im->heap = calloc(nslots, sizeof(*im->heap));
	if (!nslots || !im->slots || !im->free_list || !im->heap) {
		impair_free(im);
		return -ENOMEM;
	}
	im->nslots = im->nfree = nslots;
	for (i = 0; i < nslots; i++)
		im->free_list[i] = nslots - 1 - i;
	return 0;
}

void impair_free(struct impair *im)
{
	free(im->slots);
	free(im->free_list);
	free(im->heap);
	im->slots = NULL;
	im->free_list = im->heap = NULL;
	im->nslots = im->nfree = im->nheap = 0;
}

uint64_t impair_bdp_bytes(uint64_t rate_bps, uint64_t rtt_ns)
{
	/* rate in bits/s times seconds, over 8; split to keep the product within 64 bits. */
	return rate_bps / 8 * (rtt_ns / 1000) / 1000000 + rate_bps % 8 * (rtt_ns / 1000) / 8000000;
}

uint64_t impair_backlog_bytes(const struct impair *im, uint64_t now_ns)
{
	if (!im->cfg.rate_bps || im->link_free_ns <= now_ns)
		return 0;
	return (im->link_free_ns - now_ns) * (im->cfg.rate_bps / 8) / IMPAIR_NS_PER_SEC;
}

/* Step 3: the frame's end of serialisation at the bottleneck, or IMPAIR_NEVER on tail drop. */
static uint64_t impair_bottleneck(struct impair *im, size_t len, uint64_t now_ns)
{
	uint64_t backlog, start, tx_ns;

	if (!im->cfg.rate_bps)
		return now_ns;
	backlog = impair_backlog_bytes(im, now_ns);
	if (backlog + len > im->cfg.queue_bytes)
		return IMPAIR_NEVER;
	if (backlog + len > im->c.queue_peak_bytes)
		im->c.queue_peak_bytes = backlog + len;
	start = im->link_free_ns > now_ns ? im->link_free_ns : now_ns;
	tx_ns = (len * 8 * IMPAIR_NS_PER_SEC + im->cfg.rate_bps - 1) / im->cfg.rate_bps;
	im->link_free_ns = start + tx_ns;
	return im->link_free_ns;
}

enum impair_verdict impair_input(struct impair *im, const uint8_t *frame, size_t len, uint64_t now_ns)
{
	struct impair_slot *s;
	uint64_t sent_ns;
	uint32_t idx;

	im->c.in_frames++;
	im->c.in_bytes += len;
	if (len == 0 || len > IMPAIR_FRAME_MAX) {
		im->c.oversize++;
		return IMPAIR_OVERSIZE;
	}
	if (impair_draw(im, im->cfg.loss_ppm)) {
		im->c.lost++;
		return IMPAIR_LOST;
	}
	if (!im->nfree) {
		im->c.slot_drops++;
		return IMPAIR_NO_SLOT;
	}
	sent_ns = impair_bottleneck(im, len, now_ns);
	if (sent_ns == IMPAIR_NEVER) {
		im->c.queue_drops++;
		return IMPAIR_QUEUE_FULL;
	}
	idx = im->free_list[--im->nfree];
	s = &im->slots[idx];
	memcpy(s->data, frame, len);
	s->len = (uint32_t)len;
	s->order = im->arrivals++;
	/* Step 2 after the copy: the sender's buffer is never written. Ethernet's 14 bytes are
	 * spared so that the frame still reaches its receiver, whose checksums must refuse it;
	 * only IPv4 is corrupted, because only IPv4 has checksums to refuse it with (a damaged
	 * ARP reply would poison a neighbour cache for half a minute, which a real link's FCS
	 * prevents). */
	if (len > 14 && frame[12] == 0x08 && frame[13] == 0x00 && impair_draw(im, im->cfg.corrupt_ppm)) {
		uint32_t bit = rng_u32(&im->rng) % (uint32_t)((len - 14) * 8);

		s->data[14 + bit / 8] ^= (uint8_t)(1u << (bit % 8));
		im->c.corrupted++;
	}
	if (impair_draw(im, im->cfg.reorder_ppm)) {
		s->due_ns = sent_ns + im->cfg.reorder_delay_ns;
		im->c.reordered++;
	} else {
		s->due_ns = sent_ns + im->cfg.delay_ns;
	}
	impair_heap_push(im, idx);
	return IMPAIR_QUEUED;
}

uint64_t impair_next_due(const struct impair *im)
{
	return im->nheap ? im->slots[im->heap[0]].due_ns : IMPAIR_NEVER;
}

const uint8_t *impair_peek(const struct impair *im, uint64_t now_ns, size_t *len)
{
	const struct impair_slot *s;

	if (!im->nheap)
		return NULL;
	s = &im->slots[im->heap[0]];
	if (s->due_ns > now_ns)
		return NULL;
	*len = s->len;
	return s->data;
}

void impair_pop(struct impair *im)
{
	uint32_t idx;

	if (!im->nheap)
		return;
	idx = im->heap[0];
	impair_heap_pop(im);
	im->free_list[im->nfree++] = idx;
	im->c.out_frames++;
	im->c.out_bytes += im->slots[idx].len;
}
