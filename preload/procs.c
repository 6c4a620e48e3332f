/*
 * procs.c - the processes sharing one stack and the sockets each holds (see procs.h).
 * Every function runs with the stack's lock held (the caller's), except procs_live, which
 * only takes its own slot's life mutex.
 */
#include "preload/procs.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

int procs_init(struct procs *p, procs_close_fn *fn, void *arg)
{
	pthread_mutexattr_t ma;
	memset(p, 0, sizeof(*p));
	p->close_fn = fn;
	p->close_arg = arg;
	if (getrandom(&p->nonce, sizeof(p->nonce), 0) != (ssize_t)sizeof(p->nonce))
		p->nonce = (uint32_t)getpid();
	pthread_mutexattr_init(&ma);
	pthread_mutexattr_setpshared(&ma, PTHREAD_PROCESS_SHARED);
	pthread_mutexattr_setrobust(&ma, PTHREAD_MUTEX_ROBUST);
	for (int i = 0; i < PROCS_MAX; i++) {
		int rc = pthread_mutex_init(&p->slot[i].life, &ma);
		if (rc) {
			pthread_mutexattr_destroy(&ma);
			return -rc;
		}
	}
	pthread_mutexattr_destroy(&ma);
	procs_attach(p, 0, getpid());
	return 0;
}

static bool procs_reserve_ts(struct procs *p, int ts)
{
	if ((uint32_t)ts < p->cap)
		return true;
	uint32_t n = p->cap ? p->cap : 256;
	while (n <= (uint32_t)ts)
		n *= 2;
	uint64_t *h = realloc(p->holders, n * sizeof(*h));
	if (!h)
		return false;
	memset(h + p->cap, 0, (n - p->cap) * sizeof(*h));
	p->holders = h;
	p->cap = n;
	return true;
}

bool procs_hold(struct procs *p, int ts, int slot)
{
	if (ts < 0 || !procs_reserve_ts(p, ts))
		return false;
	p->holders[ts] |= 1ull << slot;
	return true;
}

bool procs_alive(struct procs *p, int slot)
{
	struct procs_slot *s = &p->slot[slot];
	if (!s->used)
		return false;
	int rc = pthread_mutex_trylock(&s->life);
	if (rc == EBUSY)
		return true; /* its mailbox thread holds it: the process is there */
	if (rc == EOWNERDEAD) {
		/* The kernel released it for a thread that exited or a process that died or
		 * exec'd: the slot's process is gone. */
		pthread_mutex_consistent(&s->life);
		pthread_mutex_unlock(&s->life);
		return false;
	}
	if (rc == 0)
		pthread_mutex_unlock(&s->life);
	/* Nobody holds it yet: a child between fork() and its mailbox thread. */
	return s->pid == 0 || kill(s->pid, 0) == 0 || errno != ESRCH;
}

/* Slot k's process is gone: it lets go of every socket; those nobody else holds close. */
static void procs_free_slot(struct procs *p, int k)
{
	uint64_t bit = 1ull << k;
	for (uint32_t ts = 0; ts < p->cap; ts++) {
		if (!(p->holders[ts] & bit))
			continue;
		p->holders[ts] &= ~bit;
		if (p->holders[ts] == 0 && p->close_fn)
			p->close_fn(p->close_arg, (int)ts);
	}
	struct procs_slot *s = &p->slot[k];
	s->used = false;
	s->pid = 0;
	s->rung = false;
	s->npending = 0;
}

void procs_sweep(struct procs *p, int self)
{
	for (int k = 0; k < PROCS_MAX; k++)
		if (k != self && p->slot[k].used && !procs_alive(p, k))
			procs_free_slot(p, k);
}

bool procs_release(struct procs *p, int ts, int slot)
{
	if (ts < 0 || (uint32_t)ts >= p->cap)
		return false;
	p->holders[ts] &= ~(1ull << slot);
	if (p->holders[ts] == 0)
		return true;
	/* Others hold it: only live ones count. Sweeping a dead one closes ts itself when that
	 * was the last holder (and any other socket it alone still held). */
	uint64_t others = p->holders[ts];
	for (int k = 0; k < PROCS_MAX; k++)
		if ((others & (1ull << k)) && !procs_alive(p, k))
			procs_free_slot(p, k);
	return false;
}

int procs_reserve(struct procs *p, int parent)
{
	procs_sweep(p, parent);
	for (int k = 0; k < PROCS_MAX; k++) {
		struct procs_slot *s = &p->slot[k];
		if (s->used)
			continue;
		s->used = true;
		s->pid = 0;
		s->gen++;
		s->rung = false;
		s->npending = 0;
		uint64_t from = 1ull << parent, to = 1ull << k;
		for (uint32_t ts = 0; ts < p->cap; ts++)
			if (p->holders[ts] & from)
				p->holders[ts] |= to;
		return k;
	}
	return -1;
}

void procs_attach(struct procs *p, int slot, pid_t pid)
{
	p->slot[slot].used = true;
	p->slot[slot].pid = pid;
}

void procs_live(struct procs *p, int slot)
{
	if (pthread_mutex_lock(&p->slot[slot].life) == EOWNERDEAD)
		pthread_mutex_consistent(&p->slot[slot].life);
}

bool procs_pend(struct procs *p, int slot, int efd)
{
	struct procs_slot *s = &p->slot[slot];
	for (uint32_t i = 0; i < s->npending; i++)
		if (s->pending[i] == efd)
			return false;
	if (s->npending < PROCS_PENDING_MAX)
		s->pending[s->npending++] = efd;
	if (s->rung)
		return false;
	s->rung = true;
	return true;
}

uint32_t procs_take(struct procs *p, int slot, int32_t *out, uint32_t max)
{
	struct procs_slot *s = &p->slot[slot];
	uint32_t n = s->npending < max ? s->npending : max;
	memcpy(out, s->pending, n * sizeof(*out));
	s->npending = 0;
	s->rung = false;
	return n;
}

void procs_unpend(struct procs *p, int slot, int efd)
{
	struct procs_slot *s = &p->slot[slot];
	for (uint32_t i = 0; i < s->npending; i++)
		if (s->pending[i] == efd) {
			s->pending[i] = s->pending[--s->npending];
			return;
		}
}
