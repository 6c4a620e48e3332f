/*
 * test_core.c - core/: checksum vectors (RFC 1071) and a randomized comparison of the fast
 * checksum with a plain reference, pbuf push/pull/pool reuse, timer heap
 * ordering and cancellation, SipHash test vector.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "core/byteorder.h"
#include "core/checksum.h"
#include "core/pbuf.h"
#include "core/ring.h"
#include "core/rng.h"
#include "core/spares.h"
#include "core/timer.h"

/* RFC 1071 section 3 example: the words 0001 f203 f4f5 f6f7 sum to ddf2 (before complement). */
static void test_checksum_rfc1071_example(void **state)
{
	(void)state;
	const uint8_t data[] = {0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7};
	assert_int_equal(csum_finish(csum_add(0, data, sizeof(data))), (uint16_t)~0xddf2);
}

/* A real IPv4 header (from a capture) verifies to zero and its checksum field is reproduced. */
static void test_checksum_ipv4_header(void **state)
{
	(void)state;
	uint8_t hdr[] = {0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11,
	                 0xb8, 0x61, 0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7};
	assert_int_equal(csum_finish(csum_add(0, hdr, sizeof(hdr))), 0);
	hdr[10] = hdr[11] = 0;
	assert_int_equal(csum_finish(csum_add(0, hdr, sizeof(hdr))), 0xb861);
}

/* Odd lengths pad the last byte with zero; chunks of even length combine. */
static void test_checksum_odd_and_chunks(void **state)
{
	(void)state;
	const uint8_t odd[] = {0x12, 0x34, 0x56};
	const uint8_t padded[] = {0x12, 0x34, 0x56, 0x00};
	assert_int_equal(csum_finish(csum_add(0, odd, 3)), csum_finish(csum_add(0, padded, 4)));
	uint8_t big[1001];
	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (uint8_t)(i * 7 + 3);
	uint32_t whole = csum_add(0, big, sizeof(big));
	uint32_t parts = csum_add(csum_add(0, big, 500), big + 500, 501);
	assert_int_equal(csum_finish(whole), csum_finish(parts));
	assert_int_equal(csum_finish(csum_add(0, NULL, 0)), 0xffff);
}

/* The plain RFC 1071 loop, one big-endian 16-bit word at a time: the reference. */
static uint32_t csum_add_reference(uint32_t sum, const uint8_t *p, size_t len)
{
	uint64_t acc = sum;

	for (; len >= 2; p += 2, len -= 2)
		acc += (uint32_t)(p[0] << 8 | p[1]);
	if (len)
		acc += (uint32_t)p[0] << 8;
	while (acc >> 16)
		acc = (acc & 0xffff) + (acc >> 16);
	return (uint32_t)acc;
}

/*
 * The wide, native-order csum_add() against the reference on random data: every length
 * 0..300 and random ones up to 9000, at every alignment 0..7, from random starting sums,
 * whole and cut into random even-length chunks. Also all-0xff data (the largest carries)
 * and all zeros. The raw folded sums must be identical, not just their complements.
 */
static void test_checksum_matches_reference(void **state)
{
	(void)state;
	static uint8_t buf[9000 + 8];
	struct rng r;
	rng_seed(&r, 1071);

	for (int iter = 0; iter < 3000; iter++) {
		size_t len = iter <= 300 ? (size_t)iter : rng_u32(&r) % 9001;
		size_t align = rng_u32(&r) % 8;
		uint32_t start = iter % 3 == 0 ? 0 : rng_u32(&r) % 0x10000;
		uint8_t *p = buf + align;
		int fill = iter % 50;

		for (size_t i = 0; i < len; i++)
			p[i] = fill == 0 ? 0xff : fill == 1 ? 0 : (uint8_t)rng_u32(&r);
		uint32_t want = csum_add_reference(start, p, len);
		assert_int_equal(csum_add(start, p, len), want);

		/* The same bytes in chunks: every chunk but the last has an even length. */
		uint32_t sum = start;
		size_t off = 0;
		while (off < len) {
			size_t n = (rng_u32(&r) % 200) & ~(size_t)1;
			if (n == 0 || off + n >= len)
				n = len - off;
			sum = csum_add(sum, p + off, n);
			off += n;
		}
		assert_int_equal(sum, want);

		/* Cut once at an odd length: the rest added with csum_add_odd (a wrapped send ring). */
		if (len >= 2) {
			size_t k = (rng_u32(&r) % (len - 1)) | 1u;
			uint32_t two = csum_add_odd(csum_add(start, p, k), p + k, len - k);
			assert_int_equal(csum_finish(two), csum_finish(want));
		}
	}
}

/* RFC 1624: a checksum updated for one changed word still verifies, on random messages
 * and words (0x0000 and 0xffff included, and messages that become all zero, whose only
 * valid checksum is 0xffff), and equals a full recomputation up to the two forms of zero. */
static void test_checksum_replace16(void **state)
{
	(void)state;
	uint8_t msg[64];
	struct rng r;
	rng_seed(&r, 1624);

	/* An echo request with id 0, seq 0 and no data (checksum 0xf7ff) becomes an all-zero
	 * reply: its checksum must be 0xffff, not 0. */
	assert_int_equal(csum_replace16(0xf7ff, 0x0800, 0x0000), 0xffff);

	for (int iter = 0; iter < 20000; iter++) {
		size_t len = 4 + 2 * (rng_u32(&r) % 30);
		for (size_t i = 0; i < len; i++)
			msg[i] = iter % 7 == 0 ? 0xff : (uint8_t)rng_u32(&r);
		put_be16(msg + 2, 0);
		put_be16(msg + 2, csum_finish(csum_add(0, msg, len)));    /* a valid message */

		size_t at = 2 * (rng_u32(&r) % (len / 2));
		if (at == 2)
			at = 0;                                         /* not the checksum field itself */
		uint16_t new_word = iter % 5 == 0 ? 0 : iter % 5 == 1 ? 0xffff : (uint16_t)rng_u32(&r);
		uint16_t old_word = get_be16(msg + at);
		put_be16(msg + at, new_word);
		uint16_t inc = csum_replace16(get_be16(msg + 2), old_word, new_word);
		put_be16(msg + 2, inc);
		assert_int_equal(csum_finish(csum_add(0, msg, len)), 0);
		put_be16(msg + 2, 0);
		uint16_t full = csum_finish(csum_add(0, msg, len));
		assert_true(inc == full || (inc == 0xffff && full == 0));
	}
}

static void test_pbuf_push_pull_and_reuse(void **state)
{
	(void)state;
	struct pbuf_pool pool;
	pbuf_pool_init(&pool, 2, 1);
	struct pbuf *a = pbuf_alloc(&pool, PBUF_HEADROOM, 100);
	assert_non_null(a);
	assert_int_equal(pbuf_headroom(a), PBUF_HEADROOM);
	memcpy(pbuf_put(a, 4), "data", 4);
	uint8_t *h = pbuf_push(a, 14);
	assert_non_null(h);
	assert_int_equal(a->len, 18);
	assert_non_null(pbuf_pull(a, 14));
	assert_memory_equal(a->data, "data", 4);
	assert_null(pbuf_pull(a, 5));
	assert_null(pbuf_push(a, PBUF_HEADROOM + 1));

	struct pbuf *b = pbuf_alloc(&pool, 0, 10);
	assert_non_null(b);
	assert_null(pbuf_alloc(&pool, 0, 10)); /* small class bound is 2 */
	assert_int_equal(pool.alloc_fail, 1);
	pbuf_free(b);
	struct pbuf *c = pbuf_alloc(&pool, 0, 10);
	assert_ptr_equal(b, c); /* recycled, not malloc'ed again */
	struct pbuf *big = pbuf_alloc(&pool, PBUF_HEADROOM, 9000);
	assert_non_null(big);
	assert_true(big->cap >= 9000 + PBUF_HEADROOM);
	assert_null(pbuf_alloc(&pool, 0, PBUF_LARGE_CAP + 1));
	assert_null(pbuf_alloc(&pool, PBUF_HEADROOM, UINT32_MAX - 100)); /* headroom + size would wrap */
	assert_null(pbuf_alloc(&pool, UINT32_MAX, 2));
	pbuf_free(a);
	pbuf_free(c);
	pbuf_free(big);
	pbuf_pool_destroy(&pool);
}

/*
 * The pool gives back what nobody used (pbuf_pool_trim): after a burst, the pbufs that stayed
 * on the free list through a whole interval, at most `max` per call; a steady load that uses
 * its free pbufs every interval keeps them.
 */
static void test_pbuf_pool_trim(void **state)
{
	(void)state;
	struct pbuf_pool pool;
	struct pbuf *pb[10];
	pbuf_pool_init(&pool, 16, 1);
	for (int i = 0; i < 10; i++)
		assert_non_null(pb[i] = pbuf_alloc(&pool, 0, 100));
	for (int i = 0; i < 10; i++)
		pbuf_free(pb[i]);
	assert_int_equal(pbuf_pool_trim(&pool, 4), 0);   /* the burst was in this interval */
	assert_int_equal(pbuf_pool_trim(&pool, 4), 4);   /* idle since: 4 at a time */
	assert_int_equal(pool.cls[0].allocated, 6);
	/* A load of 3 at a time: what it uses stays, the rest goes. */
	for (int round = 0; round < 3; round++) {
		for (int i = 0; i < 3; i++)
			assert_non_null(pb[i] = pbuf_alloc(&pool, 0, 100));
		for (int i = 0; i < 3; i++)
			pbuf_free(pb[i]);
		pbuf_pool_trim(&pool, 4);
	}
	assert_int_equal(pool.cls[0].allocated, 3);
	assert_int_equal(pool.trimmed, 7);
	assert_int_equal(pool.cls[0].in_use, 0);
	pbuf_pool_destroy(&pool);
}

static void test_pbuf_ext_linearize(void **state)
{
	(void)state;
	struct pbuf_pool pool;
	pbuf_pool_init(&pool, 4, 1);
	struct pbuf *pb = pbuf_alloc(&pool, PBUF_HEADROOM, 64);
	memcpy(pbuf_put(pb, 2), "hd", 2);
	pb->ext[0] = (struct pbuf_ext){(const uint8_t *)"abc", 3};
	pb->ext[1] = (struct pbuf_ext){(const uint8_t *)"de", 2};
	assert_int_equal(pbuf_frame_len(pb), 7);
	struct pbuf *copy = pbuf_clone(&pool, pb, 0);
	assert_int_equal(copy->len, 7);
	assert_memory_equal(copy->data, "hdabcde", 7);
	assert_int_equal(pbuf_linearize(pb), 0);
	assert_int_equal(pb->len, 7);
	assert_int_equal(pb->ext[0].len, 0);
	assert_memory_equal(pb->data, "hdabcde", 7);
	struct pbuf_queue q = {0};
	pbuf_queue_push(&q, pb);
	pbuf_queue_push(&q, copy);
	assert_int_equal(q.count, 2);
	assert_int_equal(q.bytes, 14);
	assert_ptr_equal(pbuf_queue_pop(&q), pb);
	pbuf_free(pb);
	pbuf_queue_purge(&q);
	assert_int_equal(q.count, 0);
	assert_int_equal(pool.cls[0].in_use, 0);
	pbuf_pool_destroy(&pool);
}

struct fired {
	struct timer t;
	int id;
	int *log;
	int *n;
};

static void record_fire(struct timer *t, usec_t now)
{
	(void)now;
	struct fired *f = container_of(t, struct fired, t);
	f->log[(*f->n)++] = f->id;
}

static void test_timer_heap_order_cancel_rearm(void **state)
{
	(void)state;
	struct timer_heap h;
	timer_heap_init(&h);
	int log[200], n = 0;
	struct fired f[100];
	for (int i = 0; i < 100; i++) {
		f[i] = (struct fired){.id = i, .log = log, .n = &n};
		timer_init(&f[i].t, record_fire);
		/* deadlines in a scrambled order */
		assert_int_equal(timer_arm(&h, &f[i].t, (usec_t)((i * 37) % 100) * 10), 0);
	}
	assert_int_equal(timer_next(&h), 0);
	timer_cancel(&h, &f[0].t);               /* deadline 0 */
	assert_false(timer_armed(&f[0].t));
	timer_arm(&h, &f[1].t, 5000);            /* moved later */
	assert_int_equal(timer_run(&h, 499), 48); /* deadlines 10..490 but the moved one */
	for (int i = 1; i < n; i++) {
		int a = log[i - 1], b = log[i];
		assert_true((a * 37) % 100 < (b * 37) % 100);
	}
	timer_run(&h, 4999);
	assert_int_equal(n, 98);
	assert_int_equal(timer_next(&h), 5000);
	timer_run(&h, 5000);
	assert_int_equal(log[n - 1], 1);
	assert_int_equal(timer_next(&h), USEC_NEVER);
	timer_heap_destroy(&h);
}

/* Lazy re-arming (timer.h): arming later keeps the heap untouched and the timer fires at
 * its last deadline; arming earlier moves it at once; a stopped timer never fires and leaves
 * the heap when its key comes up; timers fire in deadline order even when a stale key sits
 * ahead of an earlier deadline. */
static void test_timer_lazy_rearm_and_stop(void **state)
{
	(void)state;
	struct timer_heap h;
	timer_heap_init(&h);
	int log[8], n = 0;
	struct fired f[3];
	for (int i = 0; i < 3; i++) {
		f[i] = (struct fired){.id = i, .log = log, .n = &n};
		timer_init(&f[i].t, record_fire);
	}
	assert_int_equal(timer_arm(&h, &f[0].t, 100), 0);
	uint64_t ops = h.ops;
	assert_int_equal(timer_arm(&h, &f[0].t, 300), 0);   /* later: no heap work */
	assert_int_equal(h.ops, ops);
	assert_true(timer_armed(&f[0].t));
	assert_int_equal(timer_next(&h), 100);              /* the stale key may wake the loop */
	assert_int_equal(timer_run(&h, 100), 0);            /* ... which moves it, firing nothing */
	assert_int_equal(timer_next(&h), 300);
	assert_int_equal(timer_run(&h, 299), 0);
	assert_int_equal(timer_run(&h, 300), 1);
	assert_int_equal(n, 1);
	assert_false(timer_armed(&f[0].t));
	assert_int_equal(timer_next(&h), USEC_NEVER);

	/* Earlier than the key: moved at once. */
	assert_int_equal(timer_arm(&h, &f[0].t, 500), 0);
	assert_int_equal(timer_arm(&h, &f[0].t, 400), 0);
	assert_int_equal(timer_next(&h), 400);

	/* Stopped: stays in the heap, never fires; armed again later, it fires then. */
	timer_stop(&f[0].t);
	assert_false(timer_armed(&f[0].t));
	assert_int_equal(timer_run(&h, 450), 0);
	assert_int_equal(timer_next(&h), USEC_NEVER);
	assert_int_equal(timer_arm(&h, &f[0].t, 600), 0);
	timer_stop(&f[0].t);
	assert_int_equal(timer_arm(&h, &f[0].t, 700), 0);   /* re-armed while still in the heap */
	assert_int_equal(timer_run(&h, 699), 0);
	assert_int_equal(timer_run(&h, 700), 1);
	assert_int_equal(n, 2);

	/* Order: f1 placed at 1000 then moved to 1050; f2 at 1040. Both due at 2000: f2 first. */
	assert_int_equal(timer_arm(&h, &f[1].t, 1000), 0);
	assert_int_equal(timer_arm(&h, &f[1].t, 1050), 0);
	assert_int_equal(timer_arm(&h, &f[2].t, 1040), 0);
	assert_int_equal(timer_run(&h, 2000), 2);
	assert_int_equal(log[2], 2);
	assert_int_equal(log[3], 1);

	/* timer_cancel takes a stopped timer out of the heap at once (its owner may be freed). */
	assert_int_equal(timer_arm(&h, &f[2].t, 3000), 0);
	timer_stop(&f[2].t);
	assert_int_equal(h.n, 1);
	timer_cancel(&h, &f[2].t);
	assert_int_equal(h.n, 0);
	timer_heap_destroy(&h);
}

/* SipHash-2-4 reference vector: key 00..0f, message 00..0e, output a129ca6149be45e5. */
/* ring_grow: enough room keeps the block; growing doubles and unwraps the records in
 * order (here 3 records wrapped around the end of a ring of 4, from head 2). */
static void test_ring_grow_unwraps(void **state)
{
	(void)state;
	uint32_t cap = 0, head = 0;
	uint32_t *r = ring_grow(NULL, sizeof(*r), &cap, &head, 0, 3, 4);
	assert_non_null(r);
	assert_int_equal(cap, 4);
	head = 2;
	r[2] = 10;
	r[3] = 11;
	r[0] = 12;
	assert_ptr_equal(ring_grow(r, sizeof(*r), &cap, &head, 3, 4, 4), r); /* fits: unchanged */
	assert_int_equal(head, 2);
	r = ring_grow(r, sizeof(*r), &cap, &head, 3, 5, 4);
	assert_non_null(r);
	assert_int_equal(cap, 8);
	assert_int_equal(head, 0);
	assert_int_equal(r[0], 10);
	assert_int_equal(r[1], 11);
	assert_int_equal(r[2], 12);
	r = ring_grow(r, sizeof(*r), &cap, &head, 3, 20, 4);
	assert_int_equal(cap, 32);
	assert_int_equal(r[2], 12);
	free(r);
}

/* spares: a block given back is the next one taken (last in, first out); the shelf keeps
 * at most `max` and only blocks of its size; drain empties it. (ASan's leak check in
 * make test-san proves that a block refused by a full shelf, or drained, is freed.) */
static void test_spares_keep_and_bound(void **state)
{
	(void)state;
	struct spares sp;
	spares_init(&sp, 64, 2);
	uint8_t *a = spares_take(&sp, 64), *b = spares_take(&sp, 64), *c = spares_take(&sp, 64);
	assert_non_null(a);
	assert_non_null(b);
	assert_non_null(c);
	memset(a, 0xaa, 64); /* each is a block of the full size */
	assert_int_equal(sp.n, 0);
	spares_give(&sp, a, 64);
	spares_give(&sp, b, 64);
	spares_give(&sp, c, 64); /* the shelf is full: c is freed */
	assert_int_equal(sp.n, 2);
	assert_ptr_equal(spares_take(&sp, 64), b);
	uint8_t *other = spares_take(&sp, 128); /* another size: not from the shelf */
	assert_non_null(other);
	assert_int_equal(sp.n, 1);
	spares_give(&sp, other, 128); /* nor kept on it */
	assert_int_equal(sp.n, 1);
	spares_give(&sp, NULL, 64);
	assert_int_equal(sp.n, 1);
	spares_give(&sp, b, 64);
	assert_int_equal(sp.n, 2);
	spares_drain(&sp);
	assert_int_equal(sp.n, 0);

	/* max above SPARES_MAX is clamped; a shelf never set up keeps nothing; no shelf at all
	 * is plain malloc and free. */
	spares_init(&sp, 8, 1000);
	assert_int_equal(sp.max, SPARES_MAX);
	struct spares zero = { 0 };
	void *z = spares_take(&zero, 16);
	assert_non_null(z);
	spares_give(&zero, z, 16);
	assert_int_equal(zero.n, 0);
	void *n = spares_take(NULL, 16);
	assert_non_null(n);
	spares_give(NULL, n, 16);
}

static void test_siphash_vector(void **state)
{
	(void)state;
	uint8_t key[16], msg[15];
	for (int i = 0; i < 16; i++)
		key[i] = (uint8_t)i;
	for (int i = 0; i < 15; i++)
		msg[i] = (uint8_t)i;
	assert_true(siphash24(key, msg, 15) == 0xa129ca6149be45e5ULL);
	struct rng r1, r2;
	rng_seed(&r1, 42);
	rng_seed(&r2, 42);
	assert_true(rng_next(&r1) == rng_next(&r2));
}

static void test_byteorder(void **state)
{
	(void)state;
	uint8_t b[4];
	put_be32(b, 0x01020304);
	assert_int_equal(b[0], 1);
	assert_int_equal(b[3], 4);
	assert_int_equal(get_be32(b), 0x01020304);
	put_be16(b, 0xabcd);
	assert_int_equal(get_be16(b), 0xabcd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_checksum_rfc1071_example),
		cmocka_unit_test(test_checksum_ipv4_header),
		cmocka_unit_test(test_checksum_odd_and_chunks),
		cmocka_unit_test(test_checksum_matches_reference),
		cmocka_unit_test(test_checksum_replace16),
		cmocka_unit_test(test_pbuf_push_pull_and_reuse),
		cmocka_unit_test(test_pbuf_ext_linearize),
		cmocka_unit_test(test_pbuf_pool_trim),
		cmocka_unit_test(test_timer_heap_order_cancel_rearm),
		cmocka_unit_test(test_timer_lazy_rearm_and_stop),
		cmocka_unit_test(test_ring_grow_unwraps),
		cmocka_unit_test(test_spares_keep_and_bound),
		cmocka_unit_test(test_siphash_vector),
		cmocka_unit_test(test_byteorder),
	};
	return cmocka_run_group_tests_name("core", tests, NULL, NULL);
}
