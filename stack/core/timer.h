/*
 * timer.h - deadlines in one binary min-heap.
 *
 * A timer is a `struct timer` embedded in the object that owns it (a connection's RTO, an
 * ARP entry's retry, a reassembly slot's expiry). Arming puts it in the heap keyed by its
 * absolute deadline; timer_run() pops every timer whose deadline has passed and calls its
 * function, which finds its owner with container_of() and may re-arm. Arm, cancel and pop
 * are O(log n); the next deadline is O(1). No threads, signals or ticks: the loop asks
 * timer_next() how long it may sleep (docs/architecture.md, "Time is passed in").
 *
 * Lazy re-arming (Linux's retransmit and keepalive timers, FreeBSD's callout_reset on a
 * pending callout): a timer keeps its place in the heap under a key no later than its
 * deadline. Arming it again for a later deadline only stores the deadline (no heap work);
 * timer_stop() only marks it idle. When its key comes up, timer_run() moves it to its real
 * deadline, drops it if it was stopped, or fires it. A connection that re-arms its
 * retransmission and delayed-ACK timers on every exchange thus touches the heap about
 * once per timeout, not twice per request (docs/performance.md, "Lazy timers").
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
	usec_t deadline;    /* when it fires (meaningful while armed) */
	usec_t key;         /* its place in the heap: never after deadline while armed */
	uint32_t heap_idx;  /* position in the heap, TIMER_NOT_ARMED when not in it */
	bool reserved;      /* holds a slot (timer_reserve): arming it never fails */
	bool armed;         /* will fire at deadline (false: idle, or stopped but still in the heap) */
	timer_fn fn;
};

/*
 * Reservations: an owner that must not lose a deadline (a TCP connection that would never
 * retransmit, a TIME-WAIT entry that would never be freed) reserves its timers when it is
 * created, where failing is simple (refuse the object). The heap then keeps
 * cap >= (armed timers without a reservation) + (reserved timers, armed or not), so arming
 * a reserved timer never needs to grow the array.
 */
struct timer_heap {
	struct timer **v;
	uint32_t n, cap;
	uint32_t reserved;        /* timers holding a reservation */
	uint32_t reserved_armed;  /* ... of which armed (they are among the n) */
	uint32_t max;             /* most slots that may be committed; 0 = no limit (a knob, and how tests make growth fail) */
	uint64_t ops;             /* O(log n) heap operations so far (insert, remove, move): counted work */
};

void timer_heap_init(struct timer_heap *h);
void timer_heap_destroy(struct timer_heap *h);

void timer_init(struct timer *t, timer_fn fn);

static inline bool timer_armed(const struct timer *t)
{
	return t->armed;
}

/* (Re)arm t for the absolute deadline: O(1) when t is still in the heap under an earlier
 * key (lazy), else O(log n). -ENOMEM if the heap cannot grow (t stays as it was). */
int timer_arm(struct timer_heap *h, struct timer *t, usec_t deadline);
/* Promises t a slot: until timer_unreserve(), timer_arm(t) cannot fail. -ENOMEM when the
 * heap cannot grow (nothing changes). Reserving a reserved timer is a no-op. */
int timer_reserve(struct timer_heap *h, struct timer *t);
/* Cancels t and gives its slot back. Harmless if t holds no reservation. */
void timer_unreserve(struct timer_heap *h, struct timer *t);
/* Disarm t and take it out of the heap (before its owner is freed); harmless if idle. */
void timer_cancel(struct timer_heap *h, struct timer *t);
/* Disarm t lazily: it will not fire, but keeps its heap place (O(1)) so that arming it
 * again soon costs nothing; timer_run drops it when its key comes up. The owner must still
 * timer_cancel() (or timer_unreserve()) it before freeing it. */
static inline void timer_stop(struct timer *t)
{
	t->armed = false;
}
/* The earliest key: no later than the earliest deadline (a stopped or lazily re-armed
 * timer may wake the loop early, once), or USEC_NEVER. */
usec_t timer_next(const struct timer_heap *h);
/* Fire every timer due at `now`, earliest deadline first (moving lazily re-armed timers
 * to their deadline, dropping stopped ones); returns how many fired. */
unsigned timer_run(struct timer_heap *h, usec_t now);

#endif
