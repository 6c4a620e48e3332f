/*
 * procs.h - the processes that share one stack (the preload library after fork(),
 * docs/preload.md "Processes"), and which of them hold each tapstack socket: the kernel's
 * open file description reference count, for descriptors that several processes inherited.
 *
 * Lives in the shared arena, guarded by the stack's lock. A process has a slot (at most
 * PROCS_MAX at once); each socket has a bit mask of the slots that still have a name for it
 * (a process's own names of it are counted in its private table, preload/state.c). A socket
 * is closed when the last process lets go of it. A process that exits, is killed or execs
 * lets go of everything: its slot's `life` mutex is robust, held by a thread of that process
 * for its whole life, so the kernel marks it dead (EOWNERDEAD) when the process goes, and the
 * next look (procs_release, procs_reserve) sweeps the slot. tests/unit/test_procs.c.
 */
#ifndef TAPSTACK_PRELOAD_PROCS_H
#define TAPSTACK_PRELOAD_PROCS_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#define PROCS_MAX 64          /* the bits of a holder mask */
#define PROCS_PENDING_MAX 256 /* notifications queued for one process (procs_pend) */

struct procs_slot {
	pthread_mutex_t life;       /* held by the process's mailbox thread while it lives */
	int32_t pid;                /* 0: starting (forked, not yet running) */
	uint32_t gen;               /* bumped at each reservation: names its mailbox (a dead
	                             * holder's socket may outlive its life mutex by a moment) */
	bool used;
	bool rung;                  /* its mailbox was rung and has not drained yet */
	uint32_t npending;
	int32_t pending[PROCS_PENDING_MAX]; /* eventfds of that process to write */
};

/* Closes socket ts (a slot's last holder went): the caller's ts_close. */
typedef void procs_close_fn(void *arg, int ts);

struct procs {
	uint64_t *holders;          /* [cap], indexed by ts descriptor; malloc'd (the arena) */
	uint32_t cap;
	uint32_t nonce;             /* names the mailboxes of this stack's processes */
	procs_close_fn *close_fn;
	void *close_arg;
	struct procs_slot slot[PROCS_MAX];
};

/* Initialises p (in shared memory) with the calling process in slot 0; 0 or -errno. */
int procs_init(struct procs *p, procs_close_fn *fn, void *arg);
/* Process `slot` now holds socket ts (its first name of it); false when out of memory. */
bool procs_hold(struct procs *p, int ts, int slot);
/*
 * Process `slot` let go of ts (its last name of it was closed). true when nobody holds it
 * any more: the caller closes it. Holders that are dead are swept first.
 */
bool procs_release(struct procs *p, int ts, int slot);
/*
 * fork(): a slot for the child, which holds every socket `parent` holds (dead slots are
 * swept first); -1 when all PROCS_MAX are in use.
 */
int procs_reserve(struct procs *p, int parent);
/* In the child: slot is this process's (procs_reserve gave it). */
void procs_attach(struct procs *p, int slot, pid_t pid);
/* Takes slot's life mutex: call from a thread that lives as long as the process. */
void procs_live(struct procs *p, int slot);
/* Whether slot's process is still there (false for a free slot). */
bool procs_alive(struct procs *p, int slot);
/* Every dead slot lets go of its sockets (closing those nobody else holds) and is freed. */
void procs_sweep(struct procs *p, int self);
/*
 * Queues eventfd efd of process `slot` to be written by that process (a notification the
 * stack raised in another one). true when the caller must ring the slot's mailbox (the
 * first entry since it last drained); efds already queued are not queued twice.
 */
bool procs_pend(struct procs *p, int slot, int efd);
/* Takes slot's queued eventfds (at most max, into out) and clears the ring; their count. */
uint32_t procs_take(struct procs *p, int slot, int32_t *out, uint32_t max);
/* Drops efd from slot's queue (its notification set is closed). */
void procs_unpend(struct procs *p, int slot, int efd);

#endif
