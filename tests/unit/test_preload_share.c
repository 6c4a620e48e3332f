/*
 * test_preload_share.c - what lets the processes of one program share a stack under the
 * preload library (docs/preload.md "Processes"): the MAP_SHARED arena and its allocator
 * (preload/arena.c), and the process table that counts who holds each socket and notices
 * processes that died (preload/procs.c). Forks real children; no root, nothing sleeps
 * except a child waiting to be killed.
 */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "preload/arena.h"
#include "preload/procs.h"

#define ARENA_TEST_BYTES ((size_t)64 << 20)

static void test_arena_reuses_a_freed_block(void **state)
{
	(void)state;
	struct arena *a = arena_create(ARENA_TEST_BYTES);
	assert_non_null(a);
	uint64_t base = arena_in_use(a);
	void *p = arena_alloc(a, 100);
	assert_non_null(p);
	assert_true(arena_owns(a, p));
	assert_int_equal((uintptr_t)p % 16, 0);
	assert_int_equal(arena_in_use(a) - base, 128); /* 100 + the 16-byte header: class 128 */
	arena_free(a, p);
	assert_int_equal(arena_in_use(a), base);
	assert_ptr_equal(arena_alloc(a, 90), p); /* the same class: the same block */
	int local;
	assert_false(arena_owns(a, &local));
	assert_false(arena_owns(a, NULL));
	arena_destroy(a);
}

static void test_arena_realloc_and_calloc(void **state)
{
	(void)state;
	struct arena *a = arena_create(ARENA_TEST_BYTES);
	assert_non_null(a);
	char *p = arena_alloc(a, 40);
	memcpy(p, "0123456789012345678901234567890123456789", 40);
	assert_ptr_equal(arena_realloc(a, p, 48), p); /* still fits its 64-byte block */
	char *q = arena_realloc(a, p, 5000);
	assert_non_null(q);
	assert_ptr_not_equal(q, p);
	assert_memory_equal(q, "0123456789012345678901234567890123456789", 40);
	unsigned char *z = arena_alloc(a, 4096);
	memset(z, 0xaa, 4096);
	arena_free(a, z);
	z = arena_calloc(a, 64, 64); /* the block just dirtied comes back zeroed */
	for (int i = 0; i < 4096; i++)
		assert_int_equal(z[i], 0);
	assert_null(arena_calloc(a, SIZE_MAX / 2, 4));
	assert_null(arena_alloc(a, ARENA_TEST_BYTES)); /* more than there is: NULL, not a crash */
	arena_destroy(a);
}

/* What a child allocates after fork() the parent sees, at the same address. */
static void test_arena_shared_across_fork(void **state)
{
	(void)state;
	struct arena *a = arena_create(ARENA_TEST_BYTES);
	assert_non_null(a);
	char **root = arena_calloc(a, 1, sizeof(char *));
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		char *s = arena_alloc(a, 32);
		strcpy(s, "from the child");
		*root = s;
		_exit(0);
	}
	int st;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_non_null(*root);
	assert_string_equal(*root, "from the child");
	/* The parent's next block is not the child's: the allocator's state is shared too. */
	assert_ptr_not_equal(arena_alloc(a, 32), *root);
	arena_destroy(a);
}

/* ---- procs ---- */

struct closed {
	int n;
	int ts[8];
};

static void record_close(void *arg, int ts)
{
	struct closed *c = arg;
	if (c->n < 8)
		c->ts[c->n] = ts;
	c->n++;
}

static struct procs *procs_new(struct closed *c)
{
	struct procs *p = mmap(NULL, sizeof(*p), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	assert_true(p != MAP_FAILED);
	assert_int_equal(procs_init(p, record_close, c), 0);
	return p;
}

static void procs_free(struct procs *p)
{
	free(p->holders);
	munmap(p, sizeof(*p));
}

/* A forked child that takes its slot and lives until killed; its pid. */
static pid_t child_in_slot(struct procs *p, int slot)
{
	int go[2];
	assert_int_equal(pipe(go), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		procs_attach(p, slot, getpid());
		procs_live(p, slot);
		(void)!write(go[1], "x", 1);
		pause();
		_exit(0);
	}
	char c;
	assert_int_equal(read(go[0], &c, 1), 1); /* it holds its life mutex now */
	close(go[0]);
	close(go[1]);
	return pid;
}

static void reap(pid_t pid)
{
	int st;
	kill(pid, SIGKILL);
	assert_int_equal(waitpid(pid, &st, 0), pid);
}

/* One process, dup'd names aside (those are its own count): the last release closes. */
static void test_procs_single_process(void **state)
{
	(void)state;
	struct closed c = { 0 };
	struct procs *p = procs_new(&c);
	assert_true(procs_hold(p, 3, 0));
	assert_true(procs_hold(p, 700, 0)); /* grows the table */
	assert_int_equal(p->holders[3], 1); /* slot 0's bit alone */
	assert_true(procs_release(p, 3, 0));
	assert_true(procs_release(p, 700, 0));
	assert_int_equal(c.n, 0); /* the caller closes what release names */
	procs_free(p);
}

/* fork: the child holds what the parent holds; the parent's close leaves it open while the
 * child lives; the child's death closes it at the next look. */
static void test_procs_child_holds_until_it_dies(void **state)
{
	(void)state;
	struct closed c = { 0 };
	struct procs *p = procs_new(&c);
	assert_true(procs_hold(p, 5, 0));
	assert_true(procs_hold(p, 6, 0));
	int k = procs_reserve(p, 0);
	assert_int_equal(k, 1);
	assert_int_equal(p->holders[5], 3); /* slots 0 and 1 */
	assert_true(procs_hold(p, 9, k)); /* one the child made itself */
	pid_t pid = child_in_slot(p, k);
	assert_true(procs_alive(p, k));
	assert_false(procs_release(p, 5, 0)); /* the child still has it */
	assert_int_equal(c.n, 0);
	reap(pid);
	assert_false(procs_alive(p, k));
	/* The parent lets go of 6: the dead child is swept, which closes 6, 5 and 9. */
	assert_false(procs_release(p, 6, 0));
	assert_int_equal(c.n, 3);
	assert_int_equal(c.ts[0], 5);
	assert_int_equal(c.ts[1], 6);
	assert_int_equal(c.ts[2], 9);
	assert_false(p->slot[k].used);
	assert_int_equal(procs_reserve(p, 0), k); /* the slot is free again */
	procs_free(p);
}

/* A child reserved but not yet running counts as alive; a child whose process is gone but
 * that never took its life mutex (it died at once) is found by its pid. */
static void test_procs_starting_child(void **state)
{
	(void)state;
	struct closed c = { 0 };
	struct procs *p = procs_new(&c);
	assert_true(procs_hold(p, 2, 0));
	int k = procs_reserve(p, 0);
	assert_true(procs_alive(p, k)); /* pid 0: between fork and attach */
	pid_t pid = fork();
	if (pid == 0)
		_exit(0);
	int st;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	procs_attach(p, k, pid);
	assert_false(procs_alive(p, k));
	procs_sweep(p, 0);
	assert_int_equal(c.n, 0); /* slot 0 still holds 2 */
	assert_int_equal(p->holders[2], 1); /* the dead child's bit is gone */
	procs_free(p);
}

static void test_procs_full(void **state)
{
	(void)state;
	struct closed c = { 0 };
	struct procs *p = procs_new(&c);
	for (int i = 1; i < PROCS_MAX; i++)
		assert_int_equal(procs_reserve(p, 0), i);
	assert_int_equal(procs_reserve(p, 0), -1);
	procs_free(p);
}

/* Notifications for another process: one mailbox ring until it drains, no duplicates. */
static void test_procs_pending(void **state)
{
	(void)state;
	struct closed c = { 0 };
	struct procs *p = procs_new(&c);
	int32_t out[PROCS_PENDING_MAX];
	assert_true(procs_pend(p, 1, 40));
	assert_false(procs_pend(p, 1, 40));
	assert_false(procs_pend(p, 1, 41)); /* rung already */
	assert_true(procs_pend(p, 2, 40));  /* another process's mailbox */
	procs_unpend(p, 1, 40);
	assert_int_equal(procs_take(p, 1, out, PROCS_PENDING_MAX), 1);
	assert_int_equal(out[0], 41);
	assert_int_equal(procs_take(p, 1, out, PROCS_PENDING_MAX), 0);
	assert_true(procs_pend(p, 1, 40)); /* drained: the next one rings again */
	procs_free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_arena_reuses_a_freed_block),
		cmocka_unit_test(test_arena_realloc_and_calloc),
		cmocka_unit_test(test_arena_shared_across_fork),
		cmocka_unit_test(test_procs_single_process),
		cmocka_unit_test(test_procs_child_holds_until_it_dies),
		cmocka_unit_test(test_procs_starting_child),
		cmocka_unit_test(test_procs_full),
		cmocka_unit_test(test_procs_pending),
	};
	return cmocka_run_group_tests_name("preload_share", tests, NULL, NULL);
}
