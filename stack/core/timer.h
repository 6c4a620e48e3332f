/*
 * timer.h - deadlines in one binary min-heap.
 *
 * A timer is a `struct timer` embedded in the object that owns it (a connection's RTO, an
 * ARP entry's retry, a reassembly slot's expiry). Arming puts it in the heap keyed by its
 * absolute deadline; timer_run() pops every timer whose deadline has passed and calls its
 * function, which finds its owner with container_of() and may re-arm. Arm, cancel and pop
 * are O(log n); the next deadline is O(1). No threads, signals or ticks: the loop asks
 * timer_next() how long it may sleep (ARCHITECTURE.md, "A stack is a value").
 */
#ifndef TAPSTACK_CORE_TIMER_H
#define TAPSTACK_CORE_TIMER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/time.h"

#define container_of(ptr, type, member) ((type *)(void *)((char *)(ptr) - offsetof(type, member)))

struct timer;
typedef void (*timer_fn)(struct timer *t, usec_t now);

#define TIMER_NOT_ARMED UINT32_MAX

struct timer {
	usec_t deadline;
	uint32_t heap_idx;  /* position in the heap, TIMER_NOT_ARMED when idle */
	timer_fn fn;
};

struct timer_heap {
	struct timer **v;
	uint32_t n, cap;
};

void timer_heap_init(struct timer_heap *h);
void timer_heap_destroy(struct timer_heap *h);

void timer_init(struct timer *t, timer_fn fn);

static inline bool timer_armed(const struct timer *t)
{
	return t->heap_idx != TIMER_NOT_ARMED;
}

/* (Re)arm t for the absolute deadline. -ENOMEM if the heap cannot grow (t stays as it was). */
int timer_arm(struct timer_heap *h, struct timer *t, usec_t deadline);
/* Disarm t; harmless if it is not armed. */
void timer_cancel(struct timer_heap *h, struct timer *t);
/* The earliest deadline, or USEC_NEVER. */
usec_t timer_next(const struct timer_heap *h);
/* Fire every timer due at `now`, earliest first; returns how many fired. */
unsigned timer_run(struct timer_heap *h, usec_t now);

#endif
