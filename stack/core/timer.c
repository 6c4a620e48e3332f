/*
 * timer.c - binary min-heap of deadlines. Each timer remembers its index so that cancel
 * and re-arm are O(log n) without searching. The heap array grows by doubling, which
 * happens only when more objects hold armed timers than ever before.
 *
 * The heap is ordered by `key`, which for an armed timer is never after its `deadline`:
 * re-arming later or stopping leaves the key where it was (timer.h, "Lazy re-arming"), and
 * timer_run() settles the difference when the key comes up. "In the heap" (heap_idx) and
 * "armed" are therefore two things: a stopped timer may be in the heap, not armed.
 */
#include "core/timer.h"

#include <errno.h>
#include <stdlib.h>

void timer_heap_init(struct timer_heap *h)
{
	*h = (struct timer_heap){0}; /* no timers, no storage, no work counted */
}

void timer_heap_destroy(struct timer_heap *h)
{
	for (uint32_t i = 0; i < h->n; i++) {
		h->v[i]->heap_idx = TIMER_NOT_ARMED;
		h->v[i]->armed = false;
	}
	free(h->v);
	uint32_t max = h->max;
	timer_heap_init(h);
	h->max = max;
}

void timer_init(struct timer *t, timer_fn fn)
{
	t->deadline = t->key = USEC_NEVER;
	t->heap_idx = TIMER_NOT_ARMED;
	t->reserved = false;
	t->armed = false;
	t->fn = fn;
}

static bool timer_in_heap(const struct timer *t)
{
	return t->heap_idx != TIMER_NOT_ARMED;
}

static void heap_set(struct timer_heap *h, uint32_t i, struct timer *t)
{
	h->v[i] = t;
	t->heap_idx = i;
}

static void sift_up(struct timer_heap *h, uint32_t i)
{
	struct timer *t = h->v[i];
	while (i > 0) {
		uint32_t parent = (i - 1) / 2;
		if (h->v[parent]->key <= t->key)
			break;
		heap_set(h, i, h->v[parent]);
		i = parent;
	}
	heap_set(h, i, t);
}

static void sift_down(struct timer_heap *h, uint32_t i)
{
	struct timer *t = h->v[i];
	for (;;) {
		uint32_t child = 2 * i + 1;
		if (child >= h->n)
			break;
		if (child + 1 < h->n && h->v[child + 1]->key < h->v[child]->key)
			child++;
		if (t->key <= h->v[child]->key)
			break;
		heap_set(h, i, h->v[child]);
		i = child;
	}
	heap_set(h, i, t);
}

static void heap_remove_at(struct timer_heap *h, uint32_t i)
{
	struct timer *t = h->v[i];
	h->ops++;
	h->n--;
	if (i != h->n) {
		struct timer *last = h->v[h->n];
		heap_set(h, i, last);
		sift_down(h, i);
		sift_up(h, last->heap_idx);
	}
	t->heap_idx = TIMER_NOT_ARMED;
	t->armed = false;
	if (t->reserved)
		h->reserved_armed--;
}

/* Makes room for `need` slots: doubling, never past h->max. */
static int heap_grow(struct timer_heap *h, uint32_t need)
{
	if (h->max && need > h->max)
		return -ENOMEM;
	if (need <= h->cap)
		return 0;
	uint32_t cap = h->cap ? h->cap : 64;
	while (cap < need)
		cap *= 2;
	if (h->max && cap > h->max)
		cap = h->max;
	if (cap < need)
		return -ENOMEM;
	struct timer **v = realloc(h->v, cap * sizeof(*v));
	if (!v)
		return -ENOMEM;
	h->v = v;
	h->cap = cap;
	return 0;
}

/* Slots the heap must hold: unreserved armed timers plus every reserved one. */
static uint32_t heap_committed(const struct timer_heap *h)
{
	return h->n - h->reserved_armed + h->reserved;
}

int timer_reserve(struct timer_heap *h, struct timer *t)
{
	if (t->reserved)
		return 0;
	/* An unreserved timer in the heap is already counted in n: it just changes column. */
	uint32_t need = heap_committed(h) + (timer_in_heap(t) ? 0 : 1);
	if (heap_grow(h, need))
		return -ENOMEM;
	t->reserved = true;
	h->reserved++;
	if (timer_in_heap(t))
		h->reserved_armed++;
	return 0;
}

void timer_unreserve(struct timer_heap *h, struct timer *t)
{
	timer_cancel(h, t);
	if (!t->reserved)
		return;
	t->reserved = false;
	h->reserved--;
}

int timer_arm(struct timer_heap *h, struct timer *t, usec_t deadline)
{
	if (timer_in_heap(t)) {
		t->deadline = deadline;
		t->armed = true;
		if (deadline >= t->key)
			return 0;   /* lazy: timer_run moves it when the old key comes up */
		t->key = deadline;
		h->ops++;
		sift_up(h, t->heap_idx);
		return 0;
	}
	/* A reserved timer's slot is already counted; anything else needs one more free slot
	 * beyond the reservations (so it can never take a reserved timer's place). */
	if (!t->reserved && heap_grow(h, heap_committed(h) + 1))
		return -ENOMEM;
	t->deadline = t->key = deadline;
	t->armed = true;
	if (t->reserved)
		h->reserved_armed++;
	h->ops++;
	heap_set(h, h->n++, t);
	sift_up(h, h->n - 1);
	return 0;
}

void timer_cancel(struct timer_heap *h, struct timer *t)
{
	if (timer_in_heap(t))
		heap_remove_at(h, t->heap_idx);
}

usec_t timer_next(const struct timer_heap *h)
{
	return h->n ? h->v[0]->key : USEC_NEVER;
}

unsigned timer_run(struct timer_heap *h, usec_t now)
{
	unsigned fired = 0;
	while (h->n && h->v[0]->key <= now) {
		struct timer *t = h->v[0];
		if (t->armed && t->deadline != t->key) {
			/* Re-armed later since it was placed: move it to its deadline, which may
			 * still be due now; the loop then takes the timers in deadline order. */
			t->key = t->deadline;
			h->ops++;
			sift_down(h, 0);
			continue;
		}
		bool fire = t->armed;
		heap_remove_at(h, 0);
		if (!fire)
			continue;   /* stopped: it leaves the heap without firing */
		fired++;
		t->fn(t, now);
	}
	return fired;
}
