/*
 * test_memdev.c - the in-memory driver: frames cross in order, the clock gates delivery,
 * impairments are deterministic for a seed and counted, queues are bounded.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <errno.h>
#include <cmocka.h>

#include "drivers/memdev.h"

static void fill(uint8_t *f, size_t len, uint32_t tag)
{
	for (size_t i = 0; i < len; i++)
		f[i] = (uint8_t)(tag + i);
}

/* Both directions deliver byte-exact, in order, through send()/recv() and inject()/take(). */
static void test_memdev_both_ways_in_order(void **state)
{
	(void)state;
	struct netdev *a, *b;
	assert_int_equal(memdev_pair_create(&a, &b, NULL), 0);
	assert_int_equal(a->mtu, 1500);
	uint8_t f[100], out[NETDEV_RX_ROOM];
	for (uint32_t i = 0; i < 3; i++) {
		fill(f, sizeof(f), i);
		assert_int_equal(memdev_inject(a, f, 60 + i), 0);
	}
	assert_int_equal(memdev_pending(b), 3);
	assert_int_equal(memdev_pending(a), 0);
	for (uint32_t i = 0; i < 3; i++) {
		fill(f, sizeof(f), i);
		assert_int_equal(memdev_take(b, out, sizeof(out)), 60 + i);
		assert_memory_equal(out, f, 60 + i);
	}
	assert_int_equal(memdev_take(b, out, sizeof(out)), 0);

	/* The other way, through a pbuf and the netdev ops. */
	struct pbuf_pool pool;
	pbuf_pool_init(&pool, 4, 1);
	struct pbuf *pb = pbuf_alloc(&pool, 0, NETDEV_RX_ROOM);
	memcpy(pbuf_put(pb, 64), f, 64);
	assert_int_equal(netdev_send(b, pb), 0);
	pb->len = 0;
	assert_int_equal(netdev_recv(a, &pb), 64);
	assert_memory_equal(pb->data, f, 64);
	assert_int_equal(netdev_recv(a, &pb), 0);
	pbuf_free(pb);
	pbuf_pool_destroy(&pool);
	assert_int_equal(memdev_stats(a).tx, 3);
	assert_int_equal(memdev_stats(b).rx, 3);
	netdev_close(a);
	netdev_close(b);
}

/* A delayed frame is not delivered before the receiver's clock reaches sender's now + delay. */
static void test_memdev_delay_follows_clock(void **state)
{
	(void)state;
	struct memdev_config cfg;
	memdev_config_default(&cfg);
	cfg.delay_usec = 1000;
	struct netdev *a, *b;
	assert_int_equal(memdev_pair_create(&a, &b, &cfg), 0);
	usec_t now = 5000;
	memdev_set_clock(a, &now);
	memdev_set_clock(b, &now);
	uint8_t f[60] = {1}, out[100];
	assert_int_equal(memdev_inject(a, f, sizeof(f)), 0);
	assert_int_equal(memdev_next_due(b), 6000);
	now = 5999;
	assert_int_equal(memdev_take(b, out, sizeof(out)), 0);
	now = 6000;
	assert_int_equal(memdev_take(b, out, sizeof(out)), 60);
	assert_int_equal(memdev_next_due(b), USEC_NEVER);
	netdev_close(b);
	/* Sending to a closed end is silently dropped, like a cable with nobody at the far end. */
	assert_int_equal(memdev_inject(a, f, sizeof(f)), 0);
	netdev_close(a);
}

struct run_result {
	struct memdev_stats st;
	uint32_t order[2000];
	uint32_t n;
};

static void run_impaired(uint64_t seed, struct run_result *r)
{
	struct memdev_config cfg;
	memdev_config_default(&cfg);
	cfg.seed = seed;
	cfg.loss_ppm = 50000;
	cfg.dup_ppm = 20000;
	cfg.reorder_ppm = 50000;
	struct netdev *a, *b;
	assert_int_equal(memdev_pair_create(&a, &b, &cfg), 0);
	memset(r, 0, sizeof(*r));
	uint8_t f[64] = {0}, out[100];
	for (uint32_t i = 0; i < 1000; i++) {
		memcpy(f, &i, sizeof(i));
		assert_int_equal(memdev_inject(a, f, sizeof(f)), 0);
	}
	int len;
	while ((len = memdev_take(b, out, sizeof(out))) > 0) {
		assert_int_equal(len, 64);
		assert_true(r->n < 2000);
		memcpy(&r->order[r->n++], out, sizeof(uint32_t));
	}
	r->st = memdev_stats(a);
	netdev_close(a);
	netdev_close(b);
}

/* Impairments happen, are counted, account for every frame, and repeat exactly for a seed. */
static void test_memdev_impairments_deterministic(void **state)
{
	(void)state;
	static struct run_result r1, r2, r3;
	run_impaired(42, &r1);
	run_impaired(42, &r2);
	run_impaired(43, &r3);
	assert_true(r1.st.lost > 20 && r1.st.lost < 100);
	assert_true(r1.st.duplicated > 5);
	assert_true(r1.st.reordered > 20);
	assert_int_equal(r1.n, 1000 - r1.st.lost + r1.st.duplicated);
	assert_int_equal(r1.n, r2.n);
	assert_memory_equal(r1.order, r2.order, r1.n * sizeof(uint32_t));
	assert_true(r1.n != r3.n || memcmp(r1.order, r3.order, r1.n * sizeof(uint32_t)) != 0);
	uint32_t inversions = 0;
	for (uint32_t i = 1; i < r1.n; i++)
		inversions += r1.order[i] < r1.order[i - 1];
	assert_true(inversions >= r1.st.reordered / 2);
}

/* A full queue drops and counts; an oversized frame is refused. */
static void test_memdev_bounded(void **state)
{
	(void)state;
	struct memdev_config cfg;
	memdev_config_default(&cfg);
	cfg.queue_max = 4;
	struct netdev *a, *b;
	assert_int_equal(memdev_pair_create(&a, &b, &cfg), 0);
	static uint8_t f[NETDEV_RX_ROOM + 1];
	for (int i = 0; i < 10; i++)
		assert_int_equal(memdev_inject(a, f, 60), 0);
	assert_int_equal(memdev_pending(b), 4);
	assert_int_equal(memdev_stats(a).overflow, 6);
	assert_int_equal(memdev_inject(a, f, sizeof(f)), -EMSGSIZE);
	assert_int_equal(memdev_stats(a).too_big, 1);
	uint8_t small[10];
	assert_int_equal(memdev_take(b, small, sizeof(small)), -EMSGSIZE);
	assert_int_equal(memdev_pending(b), 3);
	netdev_close(a);   /* frames still queued for b are freed with b */
	netdev_close(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_memdev_both_ways_in_order),
		cmocka_unit_test(test_memdev_delay_follows_clock),
		cmocka_unit_test(test_memdev_impairments_deterministic),
		cmocka_unit_test(test_memdev_bounded),
	};
	return cmocka_run_group_tests_name("memdev", tests, NULL, NULL);
}
