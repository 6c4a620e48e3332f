/*
 * test_tcp_rcvq.c - the receive queue (stack/tcp/tcp_buf.c): received payload stays in the
 * pbuf the driver read it into until recv() copies it out, the only copy; its memory is the
 * pbufs' truesize, charged to the connection and the layer, and kept near the payload:
 * 1-byte segments coalesce into the tail (Linux's tcp_try_coalesce), a sparse queue over its
 * buffer is collapsed (tcp_collapse), and in-order data prunes out-of-order data when memory
 * is short (tcp_prune_ofo_queue); a segment past the buffer is ACKed at once. Frame by frame
 * on the fake clock.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "tcp/tcp_int.h"
#include "helpers/tcp_harness.h"

/* What one received pbuf pins (pbuf_truesize of a small one). */
#define TS_SMALL ((uint32_t)(sizeof(struct pbuf) + PBUF_SMALL_CAP))
/* Where the payload of a segment without options sits in the pbuf the driver filled:
 * after the headroom and the Ethernet, IPv4 and TCP headers. */
#define PAYLOAD_AT (PBUF_HEADROOM + 14u + 20u + 20u)

static uint8_t pattern(uint32_t off)
{
	return (uint8_t)(off * 29u + (off >> 7) + 3u);
}

/* Stream bytes [off, off + len) at stream offset off (relative sequence off + 1). */
static void send_at(struct th *h, uint32_t off, uint32_t len)
{
	uint8_t buf[2048];
	for (uint32_t i = 0; i < len; i++)
		buf[i] = pattern(off + i);
	th_send(h, TCP_FLAG_ACK, h->irs + 1 + off, h->iss + 1, 65535, NULL, buf, len);
}

static struct tcp_conn *conn_of(struct th *h);

/* Reads exactly n bytes (in reads of at most `step`) and checks them against the pattern. */
static void read_check(struct th *h, uint32_t from, uint32_t n, uint32_t step)
{
	static uint8_t buf[65536];
	uint32_t got = 0;
	while (got < n) {
		uint32_t want = n - got < step ? n - got : step;
		long r = tcp_recv(conn_of(h), buf, want, false);
		assert_int_equal(r, (long)want);
		for (uint32_t i = 0; i < want; i++)
			if (buf[i] != pattern(from + got + i))
				fail_msg("byte %u differs", from + got + i);
		got += want;
	}
}

/* The only connection of the bench. */
static struct tcp_conn *conn_of(struct th *h)
{
	assert_non_null(h->st.tcp.all);
	return h->st.tcp.all;
}

/* An established connection whose receive buffer is then fixed at `cap` bytes, as
 * SO_RCVBUF cap/2 would (the window it already offered stays: it never shrinks). */
static struct tcp_conn *open_with_rcvbuf(struct th *h, uint32_t cap)
{
	(void)th_established(h);
	struct tcp_conn *c = conn_of(h);
	c->opts.rcvbuf = cap;
	c->opts.rcvbuf_locked = true;
	return c;
}

/*
 * A segment that takes the queue past its buffer (what the queue holds plus the segment's
 * bytes: Linux's tcp_can_ingest) is ACKed at once, even on a connection that delays its
 * ACKs (TCP_QUICKACK 0): the sender hears now that the window is closing (Linux's
 * ICSK_ACK_NOMEM | ICSK_ACK_NOW). One that fits waits for the delayed-ACK timer.
 */
static void test_past_the_buffer_acked_at_once(void **state)
{
	struct th *h = *state;
	(void)th_established(h);
	struct tcp_conn *c = conn_of(h);
	tcp_conn_set_quickack(c, 0); /* setsockopt(TCP_QUICKACK, 0) */
	c->opts.rcvbuf = 3000;
	c->opts.rcvbuf_locked = true;

	send_at(h, 0, 1000); /* 1000 bytes into an empty 3000-byte buffer: fits */
	th_expect_none(h);
	send_at(h, 1000, 1400); /* the queue's ~2.2 KiB plus 1400 bytes: past it */
	th_expect(h, TCP_FLAG_ACK, h->iss + 1, h->irs + 1 + 2400, TH_ANY, NULL, 0);
	assert_int_equal(c->rcvq.bytes, 2400); /* taken all the same: the memory bound is twice */
	read_check(h, 0, 2400, 2400);
}

/*
 * Four 1000-byte segments wait in the very pbufs the driver filled: each one's data starts
 * where the frame put the payload (a copy would start anywhere else), nothing was copied
 * (RcvCopiedBytes 0), and each is charged its truesize. A read that ends inside a pbuf
 * leaves it queued, its view advanced; reading the rest gives every byte back and every
 * charge.
 */
static void test_payload_stays_in_its_pbuf(void **state)
{
	struct th *h = *state;
	(void)th_established(h);
	struct tcp_conn *c = conn_of(h);
	const struct pbuf_class *small = &h->st.core.pool.cls[0];
	uint32_t in_use0 = small->in_use;

	for (uint32_t i = 0; i < 4; i++)
		send_at(h, 1000 * i, 1000);
	assert_int_equal(c->rcvq.count, 4);
	assert_int_equal(c->rcvq.bytes, 4000);
	uint32_t k = 0;
	for (struct pbuf *pb = c->rcvq.head; pb; pb = pb->next, k++) {
		assert_int_equal(pb->data - pb->storage, PAYLOAD_AT);
		assert_int_equal(pb->len, 1000);
		assert_int_equal(pb->data[0], pattern(1000 * k));
	}
	assert_int_equal(th_counter(h, "tcp", "RcvCopiedBytes"), 0);
	assert_int_equal(th_counter(h, "tcp", "RcvCoalesce"), 0);
	assert_int_equal(c->rcvq_truesize, 4 * TS_SMALL);
	assert_int_equal(tcp_rmem_alloc(c), 4 * TS_SMALL);
	assert_int_equal(h->st.tcp.mem_used, 4 * TS_SMALL);
	assert_int_equal(small->in_use, in_use0 + 4);

	read_check(h, 0, 2500, 2500);
	assert_int_equal(c->rcvq.count, 2);
	assert_int_equal(c->rcvq.head->len, 500);
	assert_int_equal(c->rcvq.head->data - c->rcvq.head->storage, PAYLOAD_AT + 500);
	assert_int_equal(c->rcvq_truesize, 2 * TS_SMALL);
	read_check(h, 2500, 1500, 1500);
	assert_int_equal(c->rcvq.count, 0);
	assert_int_equal(tcp_rmem_alloc(c), 0);
	assert_int_equal(h->st.tcp.mem_used, 0);
	assert_int_equal(small->in_use, in_use0);
	assert_int_equal(th_counter(h, "tcp", "RcvCopiedBytes"), 0);
}

/*
 * A peer sending 3000 one-byte segments: each is copied into the tail pbuf's free room
 * (RcvCoalesce), so the queue holds two pbufs, not 3000 (6 MiB of pool for 3000 bytes), and
 * the window it advertises shrinks by what those two cost. Every byte reads back in order.
 */
static void test_tiny_segments_coalesce(void **state)
{
	struct th *h = *state;
	(void)th_established(h);
	struct tcp_conn *c = conn_of(h);

	for (uint32_t i = 0; i < 3000; i++) {
		send_at(h, i, 1);
		th_drain(h);
	}
	assert_int_equal(c->rcvq.bytes, 3000);
	assert_int_equal(c->rcvq.count, 2);   /* 2048 - PAYLOAD_AT = 1834 bytes in the first */
	assert_int_equal(c->rcvq.head->len, PBUF_SMALL_CAP - PAYLOAD_AT);
	assert_int_equal(c->rcvq_truesize, 2 * TS_SMALL);
	assert_int_equal(th_counter(h, "tcp", "RcvCoalesce"), 2998);
	assert_int_equal(th_counter(h, "tcp", "RcvCopiedBytes"), 2998);
	/* The window counts Linux's charge: a segment's truesize for each pbuf queued, nothing
	 * for bytes copied into the tail (tcp_rwnd.c). */
	assert_int_equal(tcp_rwnd_held(c), 2 * tcp_seg_truesize(1));
	read_check(h, 0, 3000, 700);
	assert_int_equal(tcp_rmem_alloc(c), 0);
}

/*
 * A small buffer (8192 bytes, as SO_RCVBUF 4096 gives) and 1000-byte segments, each pinning a 2 KiB
 * pbuf: the fourth finds the queue over the buffer with more than twice its payload in
 * memory, so the three queued are copied into two packed pbufs first (RcvCollapsed 3,
 * RcvCopiedBytes 3000), as Linux's tcp_collapse does. The stream reads back exact.
 */
static void test_sparse_queue_collapses(void **state)
{
	struct th *h = *state;
	struct tcp_conn *c = open_with_rcvbuf(h, 8192);

	for (uint32_t i = 0; i < 3; i++)
		send_at(h, 1000 * i, 1000);
	assert_int_equal(c->rcvq.count, 3);
	assert_int_equal(th_counter(h, "tcp", "RcvCollapsed"), 0);
	send_at(h, 3000, 1000);
	assert_int_equal(th_counter(h, "tcp", "RcvCollapsed"), 3);
	assert_int_equal(th_counter(h, "tcp", "RcvCopiedBytes"), 3000);
	assert_int_equal(c->rcvq.count, 3);              /* 2048 + 952 bytes packed, then the 4th */
	assert_int_equal(c->rcvq.head->len, PBUF_SMALL_CAP);
	assert_int_equal(c->rcvq.bytes, 4000);
	assert_int_equal(c->rcvq_truesize, 3 * TS_SMALL);
	assert_int_equal(th_counter(h, "tcp", "RcvQDrop"), 0);
	read_check(h, 0, 4000, 1500);
	assert_int_equal(tcp_rmem_alloc(c), 0);
}

/*
 * Out-of-order data fills the memory of a small buffer (seven 2 KiB pbufs reach the bound of
 * twice 8192 bytes; the eighth segment is refused). The segment that fills the hole still
 * gets in: the highest out-of-order segment is dropped for it (OfoPruned, RFC 2018's
 * reneging), the rest move onto the receive queue, and the ACK covers them.
 */
static void test_in_order_prunes_out_of_order(void **state)
{
	struct th *h = *state;
	struct tcp_conn *c = open_with_rcvbuf(h, 8192);

	for (uint32_t i = 1; i <= 8; i++)
		send_at(h, 1000 * i, 1000);
	assert_int_equal(tcp_ooo_count(c), 7);
	assert_int_equal(tcp_rmem_alloc(c), 7 * TS_SMALL);
	assert_int_equal(th_counter(h, "tcp", "drop_ooo_full"), 1);
	th_drain(h);

	send_at(h, 0, 1000);
	assert_int_equal(th_counter(h, "tcp", "OfoPruned"), 1);
	assert_int_equal(tcp_ooo_count(c), 0);
	assert_null(c->ofo); /* emptied: given back */
	/* Over its buffer and sparse, the queue then packs its first two pbufs into one: the only
	 * bytes copied before recv(). The other five moved from one queue to the other as is. */
	assert_int_equal(th_counter(h, "tcp", "RcvCollapsed"), 2);
	assert_int_equal(th_counter(h, "tcp", "RcvCopiedBytes"), 2000);
	assert_int_equal(c->rcvq.count, 6);
	assert_int_equal(c->rcvq.bytes, 7000);
	assert_int_equal(c->rcvq_truesize, 6 * TS_SMALL);
	th_expect(h, TCP_FLAG_ACK, h->iss + 1, h->irs + 1 + 7000, TH_ANY, NULL, 0);
	read_check(h, 0, 7000, 4096);
	assert_int_equal(tcp_rmem_alloc(c), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_payload_stays_in_its_pbuf, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_past_the_buffer_acked_at_once, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_tiny_segments_coalesce, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_sparse_queue_collapses, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_in_order_prunes_out_of_order, th_setup, th_teardown),
	};
	return cmocka_run_group_tests_name("tcp_rcvq", tests, NULL, NULL);
}
