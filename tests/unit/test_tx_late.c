/*
 * test_tx_late.c - what a late device (netdev.tx_late: the io_uring TAP, which writes the
 * frames of a batch at its flush) needs from the stack, and that it gets it
 * (docs/drivers.md, "Who owns a frame until it leaves"):
 *
 * - a pbuf may be held (pbuf_hold) by the device past its owner's pbuf_free, and goes back to
 *   the pool at the later of the two;
 * - a TCP send ring keeps the bytes it lent to queued frames in place until the device's flush:
 *   handing back lent bytes (an ACK of a retransmission not yet written), moving them (the
 *   ring grows) and freeing the ring flush the device first (core_tx_settle), and nothing else
 *   does (an ACK of older bytes, lending again);
 * - a whole stack on a late device (tests/unit/helpers/latedev.c, which compares every frame's
 *   memory at the flush with what it was at send) changes no lent byte when the application
 *   writes more than the ring holds and when it aborts with frames queued.
 * The lossy transfers on late devices are in test_tcp_transfer.c (test_transfer_late_device_*).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "drivers/memdev.h"
#include "helpers/latedev.h"
#include "socket/socket.h"
#include "stack/stack.h"
#undef TCP_MSS_DEFAULT /* <netinet/tcp.h> has one too; tcp_int.h's is the same 536 */
#include "tcp/tcp_int.h"

/* ---- pbuf_hold ---- */

static void test_pbuf_hold_outlives_the_owner(void **state)
{
	(void)state;
	struct pbuf_pool pool;
	pbuf_pool_init(&pool, 4, 1);
	struct pbuf *pb = pbuf_alloc(&pool, 0, 100);
	assert_non_null(pb);
	pbuf_hold(pb);
	pbuf_free(pb);                               /* the owner lets go first */
	assert_int_equal(pool.cls[0].in_use, 1);     /* the device still reads it */
	assert_null(pool.cls[0].free);
	pbuf_release(pb);
	assert_int_equal(pool.cls[0].in_use, 0);
	assert_ptr_equal(pool.cls[0].free, pb);

	pb = pbuf_alloc(&pool, 0, 100);              /* the same block, no flag left over */
	assert_int_equal(pb->flags, 0);
	pbuf_hold(pb);
	pbuf_release(pb);                            /* the device is done first */
	assert_int_equal(pool.cls[0].in_use, 1);     /* still the owner's */
	pb->len = 7;                                 /* and still usable */
	pbuf_free(pb);
	assert_int_equal(pool.cls[0].in_use, 0);
	pbuf_pool_destroy(&pool);
}

/* ---- the send ring's lending ---- */

/* A send ring of 3000 bytes in a layer whose core's settle only counts and starts an epoch. */
struct ring_fx {
	struct core core;
	struct tcp_layer tl;
	struct tcp_ring r;
	struct pbuf_ext p[2];
	unsigned settles;
};

static void fake_settle(void *arg)
{
	struct ring_fx *f = arg;
	f->settles++;
	f->core.tx.epoch++;                          /* what ts_stack_flush does */
}

static struct ring_fx *ring_fx_new(bool late)
{
	struct ring_fx *f = calloc(1, sizeof(*f));
	assert_non_null(f);
	f->core.tx = (struct core_tx){ .late = late, .epoch = 1, .settle = fake_settle, .arg = f };
	f->tl.core = &f->core;
	f->tl.cfg.mem_high = 1u << 30;
	f->tl.cfg.mem_pressure = f->tl.cfg.mem_low = 1u << 30;
	f->r.tl = &f->tl;
	assert_int_equal(tcp_ring_reserve(&f->r, 4096), 0);
	uint8_t buf[3000];
	memset(buf, 'x', sizeof(buf));
	assert_int_equal(tcp_ring_write(&f->r, buf, sizeof(buf)), sizeof(buf));
	return f;
}

static void test_ring_settles_before_lent_bytes_change(void **state)
{
	(void)state;
	struct ring_fx *f = ring_fx_new(true);
	struct tcp_ring *r = &f->r;
	struct pbuf_ext *p = f->p;

	/* Bytes [1000, 1500) lent; an ACK of the 800 before them hands back nothing lent. */
	assert_int_equal(tcp_ring_lend(r, 1000, 500, p), 1);
	tcp_ring_drop(r, 800);
	assert_int_equal(f->settles, 0);
	/* Lending again below: [100, 200) of what is left ([900, 1000) before). */
	assert_int_equal(tcp_ring_lend(r, 100, 100, p), 1);
	tcp_ring_drop(r, 100);
	assert_int_equal(f->settles, 0);
	/* An ACK into the lent bytes (a retransmission acknowledged before its write): flush first. */
	tcp_ring_drop(r, 1);
	assert_int_equal(f->settles, 1);
	/* After the flush nothing is lent: the same again costs nothing. */
	tcp_ring_drop(r, 500);
	assert_int_equal(f->settles, 1);

	/* Growth moves the bytes: flush first when lent since the last flush, not otherwise. */
	assert_int_equal(tcp_ring_lend(r, 0, 10, p), 1);
	assert_int_equal(tcp_ring_reserve(r, 8192), 0);
	assert_int_equal(f->settles, 2);
	assert_int_equal(tcp_ring_reserve(r, 16384), 0);
	assert_int_equal(f->settles, 2);

	/* Freeing the storage: the same. */
	assert_int_equal(tcp_ring_lend(r, 0, 10, p), 1);
	tcp_ring_free(r);
	assert_int_equal(f->settles, 3);
	free(f);
}

static void test_ring_lends_nothing_to_a_prompt_device(void **state)
{
	(void)state;
	struct ring_fx *f = ring_fx_new(false);
	struct tcp_ring *r = &f->r;
	struct pbuf_ext *p = f->p;
	assert_int_equal(tcp_ring_lend(r, 0, 3000, p), 1);
	tcp_ring_drop(r, 3000);
	assert_int_equal(tcp_ring_reserve(r, 8192), 0);
	tcp_ring_free(r);
	assert_int_equal(f->settles, 0);              /* writev() had read it all at send() */
	free(f);
}

/* ---- a stack on a late device ---- */

#define START_USEC (1000 * USEC_PER_SEC)

struct late_pair {
	struct stack a, b;           /* a: 10.0.0.1 on the late device, the sender; b: 10.0.0.2 */
	struct netdev *late;
	usec_t now;
	int afd, bfd;
};

static void pair_poll(struct late_pair *p)
{
	for (int i = 0; i < 1000; i++) {
		int n = ts_stack_poll(&p->a, p->now) + ts_stack_poll(&p->b, p->now);
		if (n == 0)
			return;
	}
	fail_msg("the stacks never went quiet");
}

static void pair_init(struct late_pair *p)
{
	struct netdev *da, *db;
	memset(p, 0, sizeof(*p));
	p->now = START_USEC;
	assert_int_equal(memdev_pair_create(&da, &db, NULL), 0);
	p->late = latedev_wrap(da);
	struct stack_config ca, cb;
	ts_stack_config_default(&ca);
	ts_stack_config_fixed(&ca, 1);
	cb = ca;
	ca.link.addr = 0x0a000001u;
	cb.link.addr = 0x0a000002u;
	cb.link.mac[5] ^= 0x01;
	cb.seed = 2;
	assert_int_equal(ts_stack_init(&p->a, &ca, p->late, p->now), 0);
	assert_int_equal(ts_stack_init(&p->b, &cb, db, p->now), 0);
	assert_true(p->a.core.tx.late);
	assert_false(p->b.core.tx.late);

	struct socket_layer *sa = ts_stack_sockets(&p->a), *sb = ts_stack_sockets(&p->b);
	struct sockaddr_in addr = { .sin_family = AF_INET, .sin_port = htons(5001) };
	int lfd = ts_socket(sb, AF_INET, SOCK_STREAM, 0);
	assert_int_equal(ts_bind(sb, lfd, &addr), 0);
	assert_int_equal(ts_listen(sb, lfd, 4), 0);
	assert_int_equal(ts_set_nonblock(sb, lfd, true), 0);
	p->afd = ts_socket(sa, AF_INET, SOCK_STREAM, 0);
	assert_int_equal(ts_set_nonblock(sa, p->afd, true), 0);
	addr.sin_addr.s_addr = htonl(0x0a000002u);
	int rc = ts_connect(sa, p->afd, &addr);
	assert_true(rc == 0 || rc == -EINPROGRESS);
	pair_poll(p);
	struct sockaddr_in peer;
	p->bfd = ts_accept(sb, lfd, &peer, SOCK_NONBLOCK);
	assert_true(p->bfd >= 0);
	assert_int_equal(ts_close(sb, lfd), 0);
}

static uint8_t byte_at(uint32_t off)
{
	return (uint8_t)(off * 131u + (off >> 8));
}

/* The application's data grows the ring while the first segment is still queued. */
static void test_late_device_ring_growth(void **state)
{
	(void)state;
	struct late_pair *p = calloc(1, sizeof(*p));
	assert_non_null(p);
	pair_init(p);
	struct socket_layer *sa = ts_stack_sockets(&p->a), *sb = ts_stack_sockets(&p->b);
	enum { N = 60000 };
	static uint8_t out[N], in[N];
	for (uint32_t i = 0; i < N; i++)
		out[i] = byte_at(i);
	uint64_t settles = p->a.cnt.dev_settles, frames = latedev_stats(p->late).frames;
	assert_int_equal(ts_send(sa, p->afd, out, 100, 0), 100);  /* lent to a queued frame */
	assert_int_equal(latedev_stats(p->late).frames, frames + 1);
	ssize_t n = ts_send(sa, p->afd, out + 100, N - 100, 0);   /* the ring grows */
	assert_true(n > 0);
	assert_true(p->a.cnt.dev_settles > settles);              /* it flushed first */
	uint32_t sent = 100 + (uint32_t)n, got = 0;
	for (int round = 0; round < 10000 && got < N; round++) {
		pair_poll(p);
		ssize_t k = ts_recv(sb, p->bfd, in + got, N - got, 0);
		if (k > 0)
			got += (uint32_t)k;
		if (sent < N) {
			k = ts_send(sa, p->afd, out + sent, N - sent, 0);
			if (k > 0)
				sent += (uint32_t)k;
		}
		p->now += 1000;
	}
	assert_int_equal(got, N);
	assert_memory_equal(in, out, N);
	assert_int_equal(latedev_stats(p->late).violations, 0);
	ts_stack_destroy(&p->a);
	ts_stack_destroy(&p->b);
	free(p);
}

/* An abort frees the ring while a frame that borrows it is queued. */
static void test_late_device_abort(void **state)
{
	(void)state;
	struct late_pair *p = calloc(1, sizeof(*p));
	assert_non_null(p);
	pair_init(p);
	struct socket_layer *sa = ts_stack_sockets(&p->a);
	uint8_t out[1000];
	for (uint32_t i = 0; i < sizeof(out); i++)
		out[i] = byte_at(i);
	uint64_t settles = p->a.cnt.dev_settles;
	assert_int_equal(ts_send(sa, p->afd, out, sizeof(out), 0), (ssize_t)sizeof(out));
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };
	assert_int_equal(ts_setsockopt(sa, p->afd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)), 0);
	assert_int_equal(ts_close(sa, p->afd), 0);               /* RST; the ring is freed */
	assert_true(p->a.cnt.dev_settles > settles);
	pair_poll(p);
	assert_int_equal(latedev_stats(p->late).violations, 0);
	ts_stack_destroy(&p->a);
	ts_stack_destroy(&p->b);
	free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pbuf_hold_outlives_the_owner),
		cmocka_unit_test(test_ring_settles_before_lent_bytes_change),
		cmocka_unit_test(test_ring_lends_nothing_to_a_prompt_device),
		cmocka_unit_test(test_late_device_ring_growth),
		cmocka_unit_test(test_late_device_abort),
	};
	return cmocka_run_group_tests_name("tx_late", tests, NULL, NULL);
}
