/*
 * test_tcp_data.c - the data path, frame by frame under the fake clock:
 *   out-of-order segments (RFC 9293 3.10.7.4, RFC 5681 4.2: an immediate duplicate ACK
 *   for each, in-order delivery when the hole fills), duplicates, sequence numbers across
 *   2^32, delayed ACK (RFC 1122 4.2.3.2, RFC 5681 4.2), Nagle (RFC 896, RFC 1122 4.2.3.4)
 *   and TCP_NODELAY, the peer's zero window and persist probes (RFC 9293 3.8.6.1), our own
 *   zero window, retransmission (RFC 6298: 200 ms floor like Linux, doubling, give up after
 *   15 retries with ETIMEDOUT).
 */
#include <errno.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "core/byteorder.h"
#include "core/checksum.h"
#include "socket/socket.h"
#include "wire/ipv4.h"
#include "helpers/tcp_harness.h"

#define DATA (TCP_FLAG_ACK | TH_PSH_ANY)

/* Byte `off` of the peer's stream. */
static uint8_t pattern(uint32_t off)
{
	return (uint8_t)(off * 13u + (off >> 8) + 7u);
}

/* Sends stream bytes [rel-1, rel-1+len) at relative sequence rel (1 = first data byte). */
static void send_data(struct th *h, uint32_t rel, uint32_t len, uint16_t win)
{
	uint8_t buf[2048];
	for (uint32_t i = 0; i < len; i++)
		buf[i] = pattern(rel - 1 + i);
	th_send(h, TCP_FLAG_ACK | TCP_FLAG_PSH, h->irs + rel, h->iss + 1, win, NULL, buf, len);
}

static void recv_check(struct th *h, int fd, uint32_t from, uint32_t len)
{
	uint8_t *buf = malloc(len + 16);
	assert_non_null(buf);
	uint32_t got = 0;
	while (got < len) {
		ssize_t n = ts_recv(th_sl(h), fd, buf + got, len + 16 - got, 0);
		if (n <= 0)
			fail_msg("recv returned %zd after %u of %u bytes", n, got, len);
		got += (uint32_t)n;
	}
	assert_int_equal(got, len);
	assert_int_equal(ts_recv(th_sl(h), fd, buf, 16, 0), -EAGAIN);
	for (uint32_t i = 0; i < len; i++)
		if (buf[i] != pattern(from + i))
			fail_msg("byte %u of the stream is %u, expected %u", from + i, buf[i], pattern(from + i));
	free(buf);
}

/* Lets any window update caused by a read go out, and discards it. Less than the RTO: a
 * longer silence would start quick-ACK mode again (Linux tcp_event_data_recv). */
static void settle(struct th *h)
{
	th_advance(h, 150);
	th_drain(h);
}

/* Out of order: each segment beyond RCV.NXT gets an immediate duplicate ACK; the segment
 * that fills the hole gets an immediate ACK of everything; recv() returns the bytes in
 * order. Then overlapping out-of-order segments, and an old duplicate (ACKed at once). */
static void test_out_of_order_reassembly(void **state)
{
	struct th *h = *state;
	int fd = th_established(h);

	send_data(h, 101, 100, 65535);
	th_expect(h, TCP_FLAG_ACK, h->iss + 1, h->irs + 1, TH_ANY, NULL, 0);
	send_data(h, 201, 100, 65535);
	th_expect(h, TCP_FLAG_ACK, h->iss + 1, h->irs + 1, TH_ANY, NULL, 0);
	assert_int_equal(ts_recv(th_sl(h), fd, (char[8]){0}, 8, 0), -EAGAIN);
	send_data(h, 1, 100, 65535);
	th_expect(h, TCP_FLAG_ACK, h->iss + 1, h->irs + 301, TH_ANY, NULL, 0);
	th_expect_none(h);
	assert_int_equal(ts_inq(th_sl(h), fd), 300);

	/* Overlaps: [401,501) then [351,451) then the hole [301,401). */
	send_data(h, 401, 100, 65535);
	th_expect(h, TCP_FLAG_ACK, h->iss + 1, h->irs + 301, TH_ANY, NULL, 0);
	send_data(h, 351, 100, 65535);
	th_expect(h, TCP_FLAG_ACK, h->iss + 1, h->irs + 301, TH_ANY, NULL, 0);
	send_data(h, 301, 100, 65535);
	th_expect(h, TCP_FLAG_ACK, h->iss + 1, h->irs + 501, TH_ANY, NULL, 0);
	th_expect_none(h);

	/* An old duplicate is not acceptable: ACK at once (RFC 9293 3.10.7.4, first check). */
	send_data(h, 1, 100, 65535);
	th_expect(h, TCP_FLAG_ACK, h->iss + 1, h->irs + 501, TH_ANY, NULL, 0);
	th_expect_none(h);

	/* Everything, once, in order. */
	recv_check(h, fd, 0, 500);
}

/* Reading a little from a large window changes nothing worth telling the peer: no pure
 * window update (RFC 1122 4.2.3.3 receiver SWS avoidance; Linux tcp_cleanup_rbuf). */
static void test_no_window_update_after_small_read(void **state)
{
	struct th *h = *state;
	int fd = th_established(h);
	send_data(h, 1, 100, 65535);
	assert_true(th_advance_until_seg(h, 200) >= 0);
	th_expect(h, TCP_FLAG_ACK, h->iss + 1, h->irs + 101, TH_ANY, NULL, 0);
	recv_check(h, fd, 0, 100);
	th_advance(h, 1000);
	th_expect_none(h);
}

/* The peer's ISN just below 2^32: data, ACKs and reassembly across the wrap. */
static void test_sequence_wrap(void **state)
{
	struct th *h = *state;
	h->irs = 0xffffff00u;
	int fd = th_established(h);

	send_data(h, 1, 200, 65535);            /* 0xffffff01 .. 0xffffffc8 */
	send_data(h, 201, 100, 65535);          /* crosses 2^32 */
	th_advance(h, 250);
	struct th_seg s;
	uint32_t last = 0;
	while (th_pop_seg(h, &s))
		last = s.hdr.ack;
	assert_int_equal(last, h->irs + 301);   /* 0x0000002d */
	assert_int_equal(last, 0x2du);

	/* Out of order on the far side of the wrap. */
	send_data(h, 401, 100, 65535);
	th_expect(h, TCP_FLAG_ACK, h->iss + 1, h->irs + 301, TH_ANY, NULL, 0);
	send_data(h, 301, 100, 65535);
	th_expect(h, TCP_FLAG_ACK, h->iss + 1, h->irs + 501, TH_ANY, NULL, 0);
	recv_check(h, fd, 0, 500);
	settle(h);

	/* Our data is acknowledged across the wrap too. */
	assert_int_equal(ts_send(th_sl(h), fd, "abc", 3, 0), 3);
	th_expect(h, DATA, h->iss + 1, h->irs + 501, TH_ANY, NULL, 3);
	th_send(h, TCP_FLAG_ACK, h->irs + 501, h->iss + 4, 65535, NULL, NULL, 0);
	th_expect_none(h);
	th_assert_state(h, TH_PEER_PORT, "ESTABLISHED");
}

/* Delayed ACK: every second full-sized segment is ACKed at once; a lone small segment
 * (once the connection is past any quick-ACK start) is ACKed by the timer, later than
 * at once and within 200 ms (RFC 1122 4.2.3.2: < 0.5 s; Linux <= 200 ms). */
static void test_delayed_ack(void **state)
{
	struct th *h = *state;
	int fd = th_established(h);
	uint32_t rel = 1;
	uint32_t acked = 1;
	for (int i = 0; i < 40; i++) {
		send_data(h, rel, 1460, 65535);
		rel += 1460;
		/* Never two full segments without an ACK out at once (the first of them may have
		 * had its own: a quick ACK while the window grows, as Linux's tcp_grow_window). */
		struct th_seg s;
		while (th_pop_seg(h, &s)) {
			assert_int_equal(s.hdr.flags, TCP_FLAG_ACK);
			acked = s.hdr.ack - h->irs;
		}
		if (rel - acked >= 2 * 1460)
			fail_msg("segment %d: two full segments and no ACK (acked %u, received %u)", i, acked, rel);
		if (i % 2)
			recv_check(h, fd, rel - 1 - 2920, 2920);
	}
	settle(h);
	send_data(h, rel, 100, 65535);
	th_expect_none(h);
	long t = th_advance_until_seg(h, 1000);
	if (t < 0)
		fail_msg("a lone segment was never ACKed");
	assert_true(t > 0 && t <= 200);
	th_expect(h, TCP_FLAG_ACK, h->iss + 1, h->irs + rel + 100, TH_ANY, NULL, 0);
	th_expect_none(h);
}

/* An ACK is piggybacked on data we send: no separate pure ACK afterwards. */
static void test_ack_piggybacked_on_data(void **state)
{
	struct th *h = *state;
	int fd = th_established(h);
	for (int i = 0; i < 20; i++) {   /* leave any quick-ACK start behind */
		send_data(h, 1 + (uint32_t)i * 2920, 1460, 65535);
		send_data(h, 1461 + (uint32_t)i * 2920, 1460, 65535);
	}
	th_drain(h);
	recv_check(h, fd, 0, 20 * 2920);
	settle(h);
	uint32_t rel = 1 + 20 * 2920;
	send_data(h, rel, 10, 65535);
	th_expect_none(h);
	assert_int_equal(ts_send(th_sl(h), fd, "reply", 5, 0), 5);
	th_expect(h, DATA, h->iss + 1, h->irs + rel + 10, TH_ANY, NULL, 5);
	th_advance(h, 500);
	/* Only the retransmission timer may fire if we never ACK; ACK first. */
	th_drain(h);
	th_send(h, TCP_FLAG_ACK, h->irs + rel + 10, h->iss + 6, 65535, NULL, NULL, 0);
	th_advance(h, 500);
	th_expect_none(h);
}

/* Nagle: with a small segment unacknowledged, further small writes wait and coalesce until
 * the ACK; full-sized segments still go; TCP_NODELAY sends each write at once. */
static void test_nagle(void **state)
{
	struct th *h = *state;
	struct socket_layer *sl = th_sl(h);
	int fd = th_established(h);
	uint8_t buf[3000];
	memset(buf, 'n', sizeof(buf));

	assert_int_equal(ts_send(sl, fd, buf, 100, 0), 100);
	th_expect(h, DATA, h->iss + 1, h->irs + 1, TH_ANY, NULL, 100);
	assert_int_equal(ts_send(sl, fd, buf, 50, 0), 50);
	th_expect_none(h);
	assert_int_equal(ts_send(sl, fd, buf, 50, 0), 50);
	th_expect_none(h);
	th_advance(h, 50);   /* well before any retransmission */
	th_expect_none(h);
	th_send(h, TCP_FLAG_ACK, h->irs + 1, h->iss + 101, 65535, NULL, NULL, 0);
	th_expect(h, DATA, h->iss + 101, h->irs + 1, TH_ANY, NULL, 100);
	th_send(h, TCP_FLAG_ACK, h->irs + 1, h->iss + 201, 65535, NULL, NULL, 0);
	th_expect_none(h);

	/* Full segments are not held back by Nagle; the partial tail is. */
	assert_int_equal(ts_send(sl, fd, buf, 100, 0), 100);
	th_expect(h, DATA, h->iss + 201, h->irs + 1, TH_ANY, NULL, 100);
	assert_int_equal(ts_send(sl, fd, buf, 3000, 0), 3000);
	th_expect(h, DATA, h->iss + 301, h->irs + 1, TH_ANY, NULL, 1460);
	th_expect(h, DATA, h->iss + 1761, h->irs + 1, TH_ANY, NULL, 1460);
	th_expect_none(h);
	th_send(h, TCP_FLAG_ACK, h->irs + 1, h->iss + 3221, 65535, NULL, NULL, 0);
	th_expect(h, DATA, h->iss + 3221, h->irs + 1, TH_ANY, NULL, 80);
	th_send(h, TCP_FLAG_ACK, h->irs + 1, h->iss + 3301, 65535, NULL, NULL, 0);
	th_expect_none(h);

	/* TCP_NODELAY: every small write leaves at once. */
	int one = 1;
	assert_int_equal(ts_setsockopt(sl, fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)), 0);
	assert_int_equal(ts_send(sl, fd, buf, 10, 0), 10);
	th_expect(h, DATA, h->iss + 3301, h->irs + 1, TH_ANY, NULL, 10);
	assert_int_equal(ts_send(sl, fd, buf, 10, 0), 10);
	th_expect(h, DATA, h->iss + 3311, h->irs + 1, TH_ANY, NULL, 10);
	th_expect_none(h);
}

/* Is s a zero-window probe for SND.UNA = una: Linux's (SEQ = SND.UNA - 1, no data) or the
 * RFC's (one byte at SND.UNA)? */
static bool is_probe(const struct th_seg *s, uint32_t una)
{
	if (!(s->hdr.flags & TCP_FLAG_ACK) || (s->hdr.flags & (TCP_FLAG_SYN | TCP_FLAG_FIN | TCP_FLAG_RST)))
		return false;
	return (s->hdr.seq == una - 1 && s->len == 0) || (s->hdr.seq == una && s->len == 1);
}

/* The peer closes its window: queued data waits; the persist timer sends probes at growing
 * intervals, answered by zero-window ACKs; when the window opens the data flows at once. */
static void test_zero_window_persist_probes(void **state)
{
	struct th *h = *state;
	struct socket_layer *sl = th_sl(h);
	int fd = th_established(h);

	th_send(h, TCP_FLAG_ACK, h->irs + 1, h->iss + 1, 0, NULL, NULL, 0);   /* window 0 */
	th_expect_none(h);
	uint8_t buf[100];
	memset(buf, 'z', sizeof(buf));
	assert_int_equal(ts_send(sl, fd, buf, 100, 0), 100);
	th_expect_none(h);

	long prev = 0;
	for (int i = 0; i < 4; i++) {
		long t = th_advance_until_seg(h, 130000);
		if (t < 0)
			fail_msg("zero-window probe %d never came", i + 1);
		struct th_seg s;
		assert_true(th_pop_seg(h, &s));
		if (!is_probe(&s, h->iss + 1)) {
			char txt[256];
			th_seg_format(&s, txt, sizeof(txt));
			fail_msg("expected a zero-window probe, got %s", txt);
		}
		if (i > 0 && t < prev * 3 / 2)
			fail_msg("probe %d after %ld ms, previous interval %ld ms: no backoff", i + 1, t, prev);
		prev = t;
		th_expect_none(h);
		th_send(h, TCP_FLAG_ACK, h->irs + 1, h->iss + 1, 0, NULL, NULL, 0);
		th_expect_none(h);
	}
	th_assert_state(h, TH_PEER_PORT, "ESTABLISHED");

	/* The window opens: all 100 bytes go at once. */
	th_send(h, TCP_FLAG_ACK, h->irs + 1, h->iss + 1, 65535, NULL, NULL, 0);
	struct th_seg s = th_expect(h, DATA, h->iss + 1, h->irs + 1, TH_ANY, NULL, 100);
	assert_memory_equal(s.payload, buf, 100);
	th_send(h, TCP_FLAG_ACK, h->irs + 1, h->iss + 101, 65535, NULL, NULL, 0);
	th_advance(h, 5000);
	th_expect_none(h);
}

/* A window smaller than the MSS (shrunk from 64 KiB to 1000 bytes): never send beyond it
 * (RFC 9293 3.8.6.2.1). Sender SWS avoidance (RFC 1122 4.2.3.4) may hold the bytes until its
 * override timer, Linux until the persist timer, so the test waits up to 1 s; then the
 * window opens to 3000 and the rest follows. */
static void test_honour_peer_window(void **state)
{
	struct th *h = *state;
	struct socket_layer *sl = th_sl(h);
	int fd = th_established(h);
	int one = 1;
	assert_int_equal(ts_setsockopt(sl, fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)), 0);
	th_send(h, TCP_FLAG_ACK, h->irs + 1, h->iss + 1, 1000, NULL, NULL, 0);
	uint8_t buf[3000];
	memset(buf, 'w', sizeof(buf));
	assert_int_equal(ts_send(sl, fd, buf, 3000, 0), 3000);
	struct th_seg s;
	uint32_t sent = 0;
	if (th_advance_until_seg(h, 1000) < 0)
		fail_msg("nothing sent into a 1000-byte window within 1 s");
	while (th_pop_seg(h, &s)) {
		if (s.len == 0)
			fail_msg("got a segment without data (seq %u relative) while 1000 bytes of window are open",
			         s.hdr.seq - h->iss);
		assert_int_equal(s.hdr.seq, h->iss + 1 + sent);
		sent += s.len;
	}
	assert_true(sent > 0);
	if (sent > 1000)
		fail_msg("sent %u bytes into a 1000-byte window", sent);
	th_send(h, TCP_FLAG_ACK, h->irs + 1, h->iss + 1 + sent, 3000, NULL, NULL, 0);
	uint32_t more = 0;
	for (int i = 0; i < 10 && sent + more < 3000; i++) {
		if (th_pending(h) == 0 && th_advance_until_seg(h, 1000) < 0)
			break;
		while (th_pop_seg(h, &s)) {
			assert_int_equal(s.hdr.seq, h->iss + 1 + sent + more);
			more += s.len;
		}
	}
	assert_int_equal(sent + more, 3000);
}

/* Our receive buffer fills while the application does not read: the advertised window
 * shrinks to 0 (never moving the right edge back); a 1-byte probe then is not accepted but
 * ACKed at once with window 0; reading opens the window and the stack says so unprompted. */
static void test_receiver_zero_window(void **state)
{
	struct th *h = *state;
	struct socket_layer *sl = th_sl(h);
	int fd = th_established(h);

	uint32_t nxt = 1;           /* next relative seq we send */
	uint32_t right = 1 + h->synack_win; /* the SYN-ACK's window (never scaled) */
	uint32_t acked = 1, win = 1;
	bool have_ack = false;
	for (int i = 0; i < 2000 && !(have_ack && win == 0 && acked == nxt); i++) {
		if (nxt != right && (int32_t)(right - nxt) > 0) {
			uint32_t n = right - nxt;
			if (n > 1000)
				n = 1000;
			send_data(h, nxt, n, 65535);
			nxt += n;
		} else {
			th_advance(h, 250);
		}
		struct th_seg s;
		while (th_pop_seg(h, &s)) {
			assert_int_equal(s.hdr.flags, TCP_FLAG_ACK);
			uint32_t a = s.hdr.ack - h->irs;
			uint32_t r = a + s.hdr.win;
			if (have_ack && (int32_t)(r - right) < 0)
				fail_msg("window shrank: right edge %u after %u", r, right);
			have_ack = true;
			acked = a;
			win = s.hdr.win;
			right = r;
		}
	}
	if (!(win == 0 && acked == nxt))
		fail_msg("window never reached 0 (ack %u of %u, win %u)", acked, nxt, win);
	uint32_t total = nxt - 1;

	/* A probe beyond the closed window: not accepted, ACKed with window 0. */
	send_data(h, nxt, 1, 65535);
	th_expect(h, TCP_FLAG_ACK, h->iss + 1, h->irs + nxt, 0, NULL, 0);
	assert_int_equal(ts_inq(sl, fd), (int)total);

	/* Read everything: a window update follows without any segment from the peer. */
	recv_check(h, fd, 0, total);
	long t = th_advance_until_seg(h, 500);
	if (t < 0)
		fail_msg("no window update after the application read %u bytes", total);
	struct th_seg s = th_expect(h, TCP_FLAG_ACK, h->iss + 1, h->irs + nxt, TH_ANY, NULL, 0);
	assert_true(s.hdr.win >= 1460);
}

/* Retransmission timeout (RFC 6298, Linux): after an RTT sample the RTO sits on the 200 ms
 * floor; unanswered, the same segment is retransmitted at doubling intervals (capped at
 * 120 s) 15 times, then the connection is dropped with ETIMEDOUT and no RST. */
static void test_retransmission_backoff_and_timeout(void **state)
{
	struct th *h = *state;
	struct socket_layer *sl = th_sl(h);
	int fd = th_established(h);

	/* One RTT sample of 10 ms: RTO = max(200 ms, 10 + 4 * 5) = 200 ms. */
	assert_int_equal(ts_send(sl, fd, "ping", 4, 0), 4);
	th_expect(h, DATA, h->iss + 1, h->irs + 1, TH_ANY, NULL, 4);
	th_advance(h, 10);
	th_send(h, TCP_FLAG_ACK, h->irs + 1, h->iss + 5, 65535, NULL, NULL, 0);

	assert_int_equal(ts_send(sl, fd, "lost", 4, 0), 4);
	th_expect(h, DATA, h->iss + 5, h->irs + 1, TH_ANY, NULL, 4);

	long expect = 0, total = 0;
	for (int i = 0; i < 15; i++) {
		long t = th_advance_until_seg(h, 200000);
		if (t < 0)
			fail_msg("retransmission %d never came (after %ld ms in all)", i + 1, total);
		if (i == 0) {
			if (t < 200 || t > 230)
				fail_msg("first RTO %ld ms, expected 200 ms (the floor)", t);
			expect = t;
		} else {
			expect = expect * 2 > 120000 ? 120000 : expect * 2;
			if (labs(t - expect) > expect / 50 + 2)
				fail_msg("retransmission %d after %ld ms, expected %ld (doubling, max 120 s)", i + 1, t,
				         expect);
		}
		total += t;
		th_expect(h, DATA, h->iss + 5, h->irs + 1, TH_ANY, NULL, 4);
		th_expect_none(h);
		char b[4];
		assert_int_equal(ts_recv(sl, fd, b, sizeof(b), 0), -EAGAIN);
	}
	/* No 16th: the connection times out after one more RTO, silently. */
	assert_int_equal(th_advance_until_seg(h, 300000), -1);
	assert_null(th_state(h, TH_PEER_PORT));
	char b[4];
	assert_int_equal(ts_recv(sl, fd, b, sizeof(b), 0), -ETIMEDOUT);
	assert_int_equal(th_counter(h, "tcp", "RetransSegs"), 15);
}

/* An ACK that arrives in time resets the backoff: new data gets a fresh RTO. */
static void test_retransmission_then_recovery(void **state)
{
	struct th *h = *state;
	struct socket_layer *sl = th_sl(h);
	int fd = th_established(h);
	assert_int_equal(ts_send(sl, fd, "abcd", 4, 0), 4);
	th_expect(h, DATA, h->iss + 1, h->irs + 1, TH_ANY, NULL, 4);
	long t3 = 0;
	for (int i = 0; i < 3; i++) {
		t3 = th_advance_until_seg(h, 10000);
		assert_true(t3 > 0);
		th_expect(h, DATA, h->iss + 1, h->irs + 1, TH_ANY, NULL, 4);
	}
	th_send(h, TCP_FLAG_ACK, h->irs + 1, h->iss + 5, 65535, NULL, NULL, 0);
	th_expect_none(h);
	assert_int_equal(ts_send(sl, fd, "efgh", 4, 0), 4);
	th_expect(h, DATA, h->iss + 5, h->irs + 1, TH_ANY, NULL, 4);
	long t = th_advance_until_seg(h, 10000);
	/* Karn: no RTT sample from the retransmitted segment; the backed-off RTO may be kept
	 * (Linux) or reset, but it must not grow further. */
	assert_true(t > 0 && t <= 2 * t3);
	th_expect(h, DATA, h->iss + 5, h->irs + 1, TH_ANY, NULL, 4);
}

/* Three duplicate ACKs trigger a fast retransmit of the first unacknowledged segment before
 * the RTO (RFC 5681 3.2). */
static void test_fast_retransmit(void **state)
{
	struct th *h = *state;
	struct socket_layer *sl = th_sl(h);
	int fd = th_established(h);
	uint8_t buf[1460 * 6];
	memset(buf, 'f', sizeof(buf));
	assert_int_equal(ts_send(sl, fd, buf, sizeof(buf), 0), (ssize_t)sizeof(buf));
	struct th_seg s;
	int n = 0;
	while (th_pop_seg(h, &s)) {
		assert_int_equal(s.hdr.seq, h->iss + 1 + (uint32_t)n * 1460);
		assert_int_equal(s.len, 1460);
		n++;
	}
	assert_true(n >= 5);
	/* Segment 1 lost: the peer ACKs segment 0 then sends three duplicates. */
	th_send(h, TCP_FLAG_ACK, h->irs + 1, h->iss + 1461, 65535, NULL, NULL, 0);
	th_drain(h);   /* new data the ACK let out */
	for (int i = 0; i < 3; i++)
		th_send(h, TCP_FLAG_ACK, h->irs + 1, h->iss + 1461, 65535, NULL, NULL, 0);
	bool found = false;
	while (th_pop_seg(h, &s))
		if (s.hdr.seq == h->iss + 1461 && s.len == 1460)
			found = true;
	if (!found)
		fail_msg("no fast retransmit of the first unacknowledged segment after 3 dup ACKs");
}

/* The send buffer bounds what send() takes (partial writes, then -EAGAIN, POLLOUT clear);
 * ACKs free room and POLLOUT returns. */
static void test_send_buffer_full_and_pollout(void **state)
{
	struct th *h = *state;
	struct socket_layer *sl = th_sl(h);
	int fd = th_established(h);
	static uint8_t buf[1 << 20];
	memset(buf, 'b', sizeof(buf));
	ssize_t total = 0;
	for (int i = 0; i < 100; i++) {
		ssize_t r = ts_send(sl, fd, buf, sizeof(buf), 0);
		if (r == -EAGAIN)
			break;
		assert_true(r > 0);
		total += r;
	}
	assert_true(total > 0);
	assert_true(total < (ssize_t)sizeof(buf) * 100);
	assert_int_equal(ts_send(sl, fd, buf, 1, 0), -EAGAIN);
	assert_false(ts_revents(sl, fd) & POLLOUT);

	/* ACK everything sent so far, repeatedly, until the buffer has drained enough. */
	uint32_t acked = 0;
	for (int i = 0; i < 200 && !(ts_revents(sl, fd) & POLLOUT); i++) {
		struct th_seg s;
		while (th_pop_seg(h, &s))
			if (s.len && s.hdr.seq + s.len - (h->iss + 1) > acked)
				acked = s.hdr.seq + s.len - (h->iss + 1);
		th_send(h, TCP_FLAG_ACK, h->irs + 1, h->iss + 1 + acked, 65535, NULL, NULL, 0);
	}
	assert_true(ts_revents(sl, fd) & POLLOUT);
	assert_true(ts_send(sl, fd, buf, 1, 0) == 1);
}

/* MSG_PEEK leaves the bytes in place; ts_inq counts them. */
static void test_recv_peek(void **state)
{
	struct th *h = *state;
	struct socket_layer *sl = th_sl(h);
	int fd = th_established(h);
	send_data(h, 1, 10, 65535);
	assert_int_equal(ts_inq(sl, fd), 10);
	uint8_t a[16], b[16];
	assert_int_equal(ts_recv(sl, fd, a, 4, MSG_PEEK), 4);
	assert_int_equal(ts_inq(sl, fd), 10);
	assert_int_equal(ts_recv(sl, fd, b, sizeof(b), 0), 10);
	assert_memory_equal(a, b, 4);
	assert_int_equal(ts_inq(sl, fd), 0);
}

/* An ACK of data never sent (SEG.ACK > SND.NXT) is not acceptable: the segment is
 * dropped with its data, and without the ACK RFC 9293 3.10.7.4 (fifth check) asks for, as
 * Linux drops it (docs/tcp.md, "Linux's choice"); the connection goes on. */
static void test_ack_of_unsent_data(void **state)
{
	struct th *h = *state;
	struct socket_layer *sl = th_sl(h);
	int fd = th_established(h);
	uint64_t before = th_counter(h, "tcp", "drop_ack_unsent");
	th_send(h, TCP_FLAG_ACK | TCP_FLAG_PSH, h->irs + 1, h->iss + 5000, 65535, NULL, "bogus", 5);
	th_expect_none(h);
	assert_int_equal(th_counter(h, "tcp", "drop_ack_unsent"), before + 1);
	char buf[8];
	assert_int_equal(ts_recv(sl, fd, buf, sizeof(buf), 0), -EAGAIN);
	th_assert_state(h, TH_PEER_PORT, "ESTABLISHED");
	send_data(h, 1, 5, 65535);
	recv_check(h, fd, 0, 5);
}

/* MSG_ERRQUEUE reads the socket's error queue, which tapstack never fills (no zero-copy
 * notices, no timestamps, no queued ICMP errors): -EAGAIN at once, as Linux with an empty
 * queue, before any check of the socket's state, and the stream's data is left alone. */
static void test_recv_errqueue_empty(void **state)
{
	struct th *h = *state;
	struct socket_layer *sl = th_sl(h);
	int fresh = ts_socket(sl, AF_INET, SOCK_STREAM, 0);
	assert_true(fresh >= 0);
	char buf[8];
	assert_int_equal(ts_recv(sl, fresh, buf, sizeof(buf), MSG_ERRQUEUE), -EAGAIN);
	int udp = ts_socket(sl, AF_INET, SOCK_DGRAM, 0);
	assert_true(udp >= 0);
	assert_int_equal(ts_recv(sl, udp, buf, sizeof(buf), MSG_ERRQUEUE), -EAGAIN);
	int fd = th_established(h);
	send_data(h, 1, 5, 65535);
	assert_int_equal(ts_recv(sl, fd, buf, sizeof(buf), MSG_ERRQUEUE), -EAGAIN);
	recv_check(h, fd, 0, 5);
}

/* recv(MSG_TRUNC) on a stream (tcp(7)): the bytes are consumed without being copied - buf
 * may be NULL - and with MSG_PEEK only counted; what follows is read as usual. */
static void test_recv_trunc_discards(void **state)
{
	struct th *h = *state;
	struct socket_layer *sl = th_sl(h);
	int fd = th_established(h);
	send_data(h, 1, 10, 65535);
	assert_int_equal(ts_recv(sl, fd, NULL, 4, MSG_TRUNC), 4);
	char buf[8] = "unset";
	assert_int_equal(ts_recv(sl, fd, buf, 2, MSG_TRUNC | MSG_PEEK), 2);
	assert_string_equal(buf, "unset"); /* not touched */
	recv_check(h, fd, 4, 6);
}

/* ioctl(SIOCOUTQ) and SIOCOUTQNSD (ts_outq): bytes not yet acknowledged, and of them those
 * not yet sent; -EINVAL on a listener, as Linux. Once sending is shut (shutdown(SHUT_WR)),
 * poll says POLLOUT (Linux's tcp_poll, so a writer wakes to its EPIPE); a send on a
 * listener is EPIPE (Linux sk_stream_wait_connect). */
static void test_outq_and_send_shut(void **state)
{
	struct th *h = *state;
	struct socket_layer *sl = th_sl(h);
	int fd = th_established(h);
	static uint8_t big[20000];
	memset(big, 'q', sizeof(big));
	assert_int_equal(ts_outq(sl, fd, false), 0);
	assert_int_equal(ts_send(sl, fd, big, sizeof(big), 0), (ssize_t)sizeof(big));
	th_drain(h);                                  /* the initial window, 10 x 1460 bytes */
	assert_int_equal(ts_outq(sl, fd, false), 20000);
	assert_int_equal(ts_outq(sl, fd, true), 20000 - 14600);
	th_send(h, TCP_FLAG_ACK, h->irs + 1, h->iss + 1 + 14600, 65535, NULL, NULL, 0);
	th_drain(h);
	assert_int_equal(ts_outq(sl, fd, false), 20000 - 14600);
	assert_int_equal(ts_outq(sl, fd, true), 0);
	assert_int_equal(ts_shutdown(sl, fd, SHUT_WR), 0);
	assert_true(ts_revents(sl, fd) & POLLOUT);
	assert_int_equal(ts_send(sl, fd, big, 1, 0), -EPIPE);
	int lfd = th_listen(h, 81, 4);
	assert_int_equal(ts_outq(sl, lfd, false), -EINVAL);
	assert_int_equal(ts_send(sl, lfd, big, 1, 0), -EPIPE);
}

/* RFC 5961 5.2: an ACK below SND.UNA - MAX.SND.WND gets a challenge ACK and is dropped; as
 * Linux (tcp_ack), the window counts no more than the bytes acknowledged so far. Before any
 * data was acknowledged, an ACK 100 below SND.UNA is refused; after 1000 bytes, one 500
 * below is an old duplicate (ignored), one 1500 below is refused. */
static void test_old_ack_window_from_bytes_acked(void **state)
{
	struct th *h = *state;
	struct socket_layer *sl = th_sl(h);
	int fd = th_established(h);
	uint64_t before = th_counter(h, "tcp", "drop_old_ack");
	th_send(h, TCP_FLAG_ACK, h->irs + 1, h->iss + 1 - 100, 65535, NULL, NULL, 0);
	th_expect(h, TCP_FLAG_ACK, h->iss + 1, h->irs + 1, TH_ANY, TH_ANY_OPTS, 0);
	assert_int_equal(th_counter(h, "tcp", "drop_old_ack"), before + 1);

	static char data[1000];
	memset(data, 'x', sizeof(data));
	assert_int_equal(ts_send(sl, fd, data, sizeof(data), 0), (ssize_t)sizeof(data));
	th_expect(h, TCP_FLAG_ACK | TCP_FLAG_PSH, h->iss + 1, h->irs + 1, TH_ANY, TH_ANY_OPTS, sizeof(data));
	th_send(h, TCP_FLAG_ACK, h->irs + 1, h->iss + 1001, 65535, NULL, NULL, 0);
	th_advance(h, 1000); /* past the challenge ACKs' rate limit */
	th_send(h, TCP_FLAG_ACK, h->irs + 1, h->iss + 1001 - 500, 65535, NULL, NULL, 0);
	th_expect_none(h);
	assert_int_equal(th_counter(h, "tcp", "drop_old_ack"), before + 1);
	th_send(h, TCP_FLAG_ACK, h->irs + 1, h->iss + 1001 - 1500, 65535, NULL, NULL, 0);
	th_expect(h, TCP_FLAG_ACK, h->iss + 1001, h->irs + 1, TH_ANY, TH_ANY_OPTS, 0);
	assert_int_equal(th_counter(h, "tcp", "drop_old_ack"), before + 2);
	th_assert_state(h, TH_PEER_PORT, "ESTABLISHED");
}

/* SO_KEEPALIVE (Linux defaults: idle 7200 s, interval 75 s, 9 probes): nothing before two
 * hours; then probes (SEQ = SND.UNA - 1, no data, as Linux) every 75 s; an answer resets the
 * idle time; 9 unanswered probes end the connection with ETIMEDOUT. */
static void test_keepalive(void **state)
{
	struct th *h = *state;
	struct socket_layer *sl = th_sl(h);
	int fd = th_established(h);
	int one = 1;
	assert_int_equal(ts_setsockopt(sl, fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one)), 0);
	assert_int_equal(th_advance_until_seg(h, 7199 * 1000), -1);
	long t = th_advance_until_seg(h, 2000);
	if (t < 0)
		fail_msg("no keepalive probe after 7200 s idle");
	th_expect(h, TCP_FLAG_ACK, h->iss, h->irs + 1, TH_ANY, NULL, 0);
	/* Answered: the connection is alive, the next probe is two hours away again. */
	th_send(h, TCP_FLAG_ACK, h->irs + 1, h->iss + 1, 65535, NULL, NULL, 0);
	th_expect_none(h);
	assert_int_equal(th_advance_until_seg(h, 7199 * 1000), -1);
	assert_true(th_advance_until_seg(h, 2000) >= 0);
	th_expect(h, TCP_FLAG_ACK, h->iss, h->irs + 1, TH_ANY, NULL, 0);
	for (int i = 1; i < 9; i++) {
		t = th_advance_until_seg(h, 100000);
		if (t < 74000 || t > 76000)
			fail_msg("keepalive probe %d after %ld ms, expected 75 s", i + 1, t);
		th_expect(h, TCP_FLAG_ACK, h->iss, h->irs + 1, TH_ANY, NULL, 0);
	}
	assert_int_equal(th_advance_until_seg(h, 100000), -1);
	assert_null(th_state(h, TH_PEER_PORT));
	char buf[4];
	assert_int_equal(ts_recv(sl, fd, buf, sizeof(buf), 0), -ETIMEDOUT);
}

/* Every truncation of a data segment (and of its options) goes through the input path
 * without a crash and without changing the connection; the intact segment still works. */
static void test_truncated_segments(void **state)
{
	struct th *h = *state;
	struct socket_layer *sl = th_sl(h);
	int fd = th_established(h);
	uint8_t f[TH_FRAME_MAX];
	struct tcp_opts o = th_linux_syn_opts(7);
	o.sack_count = 2;
	o.sack[0] = (struct tcp_sack_block){1, 2};
	o.sack[1] = (struct tcp_sack_block){3, 4};
	uint32_t len = th_build(h, f, TCP_FLAG_ACK | TCP_FLAG_PSH, h->irs + 1, h->iss + 1, 65535, &o,
	                        "0123456789", 10);
	for (uint32_t cut = 0; cut < len; cut++)
		th_inject(h, f, cut);
	th_drain(h);
	char buf[16];
	assert_int_equal(ts_recv(sl, fd, buf, sizeof(buf), 0), -EAGAIN);
	th_assert_state(h, TH_PEER_PORT, "ESTABLISHED");

	/* A malformed option (length 1) drops the segment and is counted. */
	uint64_t bad0 = th_counter(h, "tcp", "drop_bad_option");
	uint8_t g[TH_FRAME_MAX];
	struct tcp_opts m = th_mss_opts(1460);
	uint32_t glen = th_build(h, g, TCP_FLAG_ACK | TCP_FLAG_PSH, h->irs + 1, h->iss + 1, 65535, &m, "x", 1);
	uint8_t *tcp = g + 14 + 20;
	tcp[21] = 1;   /* MSS option length 1 */
	put_be16(tcp + TCP_OFF_CSUM, 0);
	uint16_t tcp_len = (uint16_t)(get_be16(g + 14 + IPV4_OFF_TOTLEN) - 20);  /* not glen: padded */
	uint32_t sum = csum_pseudo_ipv4(TH_PEER_IP, TH_LOCAL_IP, 6, tcp_len);
	put_be16(tcp + TCP_OFF_CSUM, csum_finish(csum_add(sum, tcp, tcp_len)));
	th_inject(h, g, glen);
	assert_int_equal(th_counter(h, "tcp", "drop_bad_option"), bad0 + 1);
	assert_int_equal(ts_recv(sl, fd, buf, sizeof(buf), 0), -EAGAIN);

	th_inject(h, f, len);
	assert_int_equal(ts_recv(sl, fd, buf, sizeof(buf), 0), 10);
	assert_memory_equal(buf, "0123456789", 10);
}

/* After a retransmission timeout the sender resends from SND.UNA, but everything up to the
 * highest sequence number ever sent may still be acknowledged: an ACK covering segments
 * sent before the timeout is acceptable (RFC 9293 3.10.7.4 uses SND.NXT as the highest
 * sent; BSD's snd_max; Linux never moves snd_nxt back). It must advance SND.UNA, stop the
 * retransmissions and draw no reply; new data continues after it. Found by the lossy
 * two-stack transfer: both sides rejected such ACKs, answered each with an ACK, and the two
 * stacks exchanged pure ACKs every millisecond until ETIMEDOUT. */
static void test_ack_of_data_sent_before_rto(void **state)
{
	struct th *h = *state;
	struct socket_layer *sl = th_sl(h);
	int fd = th_established(h);
	int one = 1;
	assert_int_equal(ts_setsockopt(sl, fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)), 0);
	uint8_t buf[4000];
	memset(buf, 'r', sizeof(buf));
	assert_int_equal(ts_send(sl, fd, buf, 4000, 0), 4000);
	th_expect(h, DATA, h->iss + 1, h->irs + 1, TH_ANY, NULL, 1460);
	th_expect(h, DATA, h->iss + 1461, h->irs + 1, TH_ANY, NULL, 1460);
	th_expect(h, DATA, h->iss + 2921, h->irs + 1, TH_ANY, NULL, 1080);
	/* No ACK: the RTO resends the first segment. */
	assert_true(th_advance_until_seg(h, 5000) > 0);
	th_expect(h, DATA, h->iss + 1, h->irs + 1, TH_ANY, NULL, 1460);
	th_expect_none(h);
	/* The originals did arrive: the peer acknowledges all 4000 bytes. */
	th_send(h, TCP_FLAG_ACK, h->irs + 1, h->iss + 4001, 65535, NULL, NULL, 0);
	th_expect_none(h);
	assert_int_equal(th_advance_until_seg(h, 10000), -1);
	assert_int_equal(ts_send(sl, fd, "next", 4, 0), 4);
	th_expect(h, DATA, h->iss + 4001, h->irs + 1, TH_ANY, NULL, 4);
}

/* After a retransmission timeout, a pure ACK we send carries the highest sequence number
 * sent so far (BSD's snd_max, Linux's snd_nxt, which never moves back), not the rewound
 * retransmission point: the peer already holds the bytes sent before the timeout, and a
 * segment with SEG.SEQ < RCV.NXT is not acceptable to it (RFC 9293 3.10.7.4), so an ACK
 * with the rewound number is dropped unread. Found by the lossy two-stack transfer: after
 * RTOs on both sides each stack discarded the other's ACKs and answered with its own, a
 * pure-ACK exchange every millisecond until ETIMEDOUT. */
static void test_pure_ack_after_rto_carries_highest_seq(void **state)
{
	struct th *h = *state;
	struct socket_layer *sl = th_sl(h);
	int fd = th_established(h);
	int one = 1;
	assert_int_equal(ts_setsockopt(sl, fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)), 0);
	uint8_t buf[4000];
	memset(buf, 'r', sizeof(buf));
	assert_int_equal(ts_send(sl, fd, buf, 4000, 0), 4000);
	th_drain(h);
	assert_true(th_advance_until_seg(h, 5000) > 0);
	th_expect(h, DATA, h->iss + 1, h->irs + 1, TH_ANY, NULL, 1460);   /* the RTO resend */
	/* The peer's ACKs were lost; it sends data of its own. */
	send_data(h, 1, 10, 65535);
	if (th_advance_until_seg(h, 200) < 0)
		fail_msg("the peer's data was never ACKed");
	struct th_seg s;
	assert_true(th_pop_seg(h, &s));
	assert_int_equal(s.hdr.ack, h->irs + 11);
	if (s.len == 0 && s.hdr.seq != h->iss + 4001)
		fail_msg("pure ACK with seq ISS+%u after the RTO; expected ISS+4001 (the highest sent)",
		         s.hdr.seq - h->iss);
}

/* An unacceptable segment without data (a pure ACK with SEG.SEQ < RCV.NXT) gets an ACK
 * (RFC 9293 3.10.7.4), but a peer repeating it gets at most about one per 500 ms (Linux
 * tcp_oow_rate_limited / tcp_invalid_ratelimit), so two confused stacks cannot ping-pong
 * ACKs at full speed. (Old *data* is ACKed every time, as Linux does.) */
static void test_out_of_window_acks_rate_limited(void **state)
{
	struct th *h = *state;
	int fd = th_established(h);
	send_data(h, 1, 100, 65535);
	recv_check(h, fd, 0, 100);
	settle(h);
	unsigned acks = 0;
	for (int i = 0; i < 100; i++) {
		/* SEG.SEQ = IRS+50 < RCV.NXT = IRS+101, no data: not acceptable. */
		th_send(h, TCP_FLAG_ACK, h->irs + 50, h->iss + 1, 65535, NULL, NULL, 0);
		struct th_seg s;
		while (th_pop_seg(h, &s)) {
			assert_int_equal(s.hdr.ack, h->irs + 101);
			acks++;
		}
		th_advance(h, 1);
	}
	if (acks < 1 || acks > 2)
		fail_msg("%u ACKs for 100 old segments within 100 ms: expected one (rate limit 500 ms)", acks);
}

/* A FIN that arrives out of order (its data after a hole) is held with the data: nothing is
 * ended until the hole is filled, then the ACK covers the FIN and recv() returns the bytes
 * followed by end of stream (RFC 9293 3.10.7.4, eighth: "if the FIN ... is not yet in
 * sequence, do not process it"). */
static void test_out_of_order_fin(void **state)
{
	struct th *h = *state;
	struct socket_layer *sl = th_sl(h);
	int fd = th_established(h);
	uint8_t buf[100];
	for (uint32_t i = 0; i < 100; i++)
		buf[i] = pattern(100 + i);
	th_send(h, TCP_FLAG_ACK | TCP_FLAG_FIN, h->irs + 101, h->iss + 1, 65535, NULL, buf, 100);
	th_expect(h, TCP_FLAG_ACK, h->iss + 1, h->irs + 1, TH_ANY, NULL, 0);
	th_assert_state(h, TH_PEER_PORT, "ESTABLISHED");
	char b[8];
	assert_int_equal(ts_recv(sl, fd, b, sizeof(b), 0), -EAGAIN);
	send_data(h, 1, 100, 65535);
	th_expect(h, TCP_FLAG_ACK, h->iss + 1, h->irs + 202, TH_ANY, NULL, 0);
	th_assert_state(h, TH_PEER_PORT, "CLOSE-WAIT");
	uint8_t all[256];
	ssize_t got = 0;
	for (int i = 0; i < 4 && got < 200; i++) {
		ssize_t r = ts_recv(sl, fd, all + got, sizeof(all) - (size_t)got, 0);
		assert_true(r > 0);
		got += r;
	}
	assert_int_equal(got, 200);
	for (uint32_t i = 0; i < 200; i++)
		assert_int_equal(all[i], pattern(i));
	assert_int_equal(ts_recv(sl, fd, b, sizeof(b), 0), 0);
}

/* A segment straddling RCV.NXT (partly old, partly new): only the new part is taken
 * (RFC 9293 3.10.7.4, "only the new parts are processed"), byte-exact. */
static void test_segment_straddling_left_edge(void **state)
{
	struct th *h = *state;
	int fd = th_established(h);
	send_data(h, 1, 100, 65535);
	assert_true(th_advance_until_seg(h, 200) >= 0);
	th_expect(h, TCP_FLAG_ACK, h->iss + 1, h->irs + 101, TH_ANY, NULL, 0);
	send_data(h, 51, 100, 65535);       /* [51, 151): 50 old bytes, 50 new */
	assert_true(th_advance_until_seg(h, 200) >= 0);
	th_expect(h, TCP_FLAG_ACK, h->iss + 1, h->irs + 151, TH_ANY, NULL, 0);
	recv_check(h, fd, 0, 150);
}

/* The send window is updated only by segments that are not older than the last update
 * (RFC 9293 3.10.7.4: SND.WL1 < SEG.SEQ, or SND.WL1 = SEG.SEQ and SND.WL2 =< SEG.ACK): a
 * reordered old ACK advertising window 0 must not close the window. */
static void test_old_segment_does_not_update_window(void **state)
{
	struct th *h = *state;
	struct socket_layer *sl = th_sl(h);
	int fd = th_established(h);
	int one = 1;
	assert_int_equal(ts_setsockopt(sl, fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)), 0);
	send_data(h, 1, 100, 65535);                 /* SND.WL1 = IRS+1 */
	send_data(h, 101, 100, 65535);               /* SND.WL1 = IRS+101 */
	th_advance(h, 300);
	th_drain(h);
	/* The first segment again, reordered and claiming window 0. */
	th_send(h, TCP_FLAG_ACK, h->irs + 1, h->iss + 1, 0, NULL, NULL, 0);
	th_drain(h);
	assert_int_equal(ts_send(sl, fd, "still open", 10, 0), 10);
	th_expect(h, TCP_FLAG_ACK | TH_PSH_ANY, h->iss + 1, h->irs + 201, TH_ANY, NULL, 10);
}

/* Without an RTT sample the RTO is the initial 1 s (RFC 6298 2.1), or 3 s when the handshake
 * itself timed out (RFC 6298 5.7). Here the SYN-ACK is retransmitted once, so Karn's rule
 * gives no sample from the handshake; the first data segment then times out after 1 s or
 * 3 s, not the 200 ms floor. */
static void test_initial_rto_without_sample(void **state)
{
	struct th *h = *state;
	struct socket_layer *sl = th_sl(h);
	int lfd = th_listen(h, 80, 8);
	struct tcp_opts mss = th_mss_opts(1460);
	th_send(h, TCP_FLAG_SYN, h->irs, 0, 65535, &mss, NULL, 0);
	struct th_seg s = th_expect(h, TCP_FLAG_SYN | TCP_FLAG_ACK, TH_ANY, h->irs + 1, TH_ANY, &mss, 0);
	h->iss = s.hdr.seq;
	assert_int_equal(th_advance_until_seg(h, 2000), 1000);
	th_expect(h, TCP_FLAG_SYN | TCP_FLAG_ACK, h->iss, h->irs + 1, TH_ANY, &mss, 0);
	th_advance(h, 5);
	th_send(h, TCP_FLAG_ACK, h->irs + 1, h->iss + 1, 65535, NULL, NULL, 0);
	struct sockaddr_in peer;
	int fd = ts_accept(sl, lfd, &peer, SOCK_NONBLOCK);
	assert_true(fd >= 0);
	assert_int_equal(ts_send(sl, fd, "data", 4, 0), 4);
	th_expect(h, DATA, h->iss + 1, h->irs + 1, TH_ANY, NULL, 4);
	long t = th_advance_until_seg(h, 10000);
	if (!((t >= 995 && t <= 1005) || (t >= 2995 && t <= 3005)))
		fail_msg("first RTO without an RTT sample after %ld ms, expected 1000 (or 3000)", t);
	th_expect(h, DATA, h->iss + 1, h->irs + 1, TH_ANY, NULL, 4);
}

/* Receiver-side SWS avoidance (RFC 1122 4.2.3.3): with the window closed, reading a single
 * byte must not reopen it by one byte; only once at least min(MSS, buffer/2) is free does
 * the stack announce a window again. (8 KiB buffer via SO_RCVBUF 4096, doubled as Linux.) */
static void test_receiver_sws_avoidance(void **state)
{
	struct th *h = *state;
	struct socket_layer *sl = th_sl(h);
	int lfd = ts_socket(sl, AF_INET, SOCK_STREAM, 0);
	assert_true(lfd >= 0);
	int rcv = 4096;
	assert_int_equal(ts_setsockopt(sl, lfd, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof(rcv)), 0);
	struct sockaddr_in sa;
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons(80);
	assert_int_equal(ts_bind(sl, lfd, &sa), 0);
	assert_int_equal(ts_listen(sl, lfd, 8), 0);
	struct tcp_opts mss = th_mss_opts(1460);
	int fd = th_open_passive(h, lfd, &mss, 65535);

	/* Fill the window completely. */
	uint32_t nxt = 1, right = 1 + h->synack_win, win = h->synack_win;
	for (int i = 0; i < 200 && !(win == 0 && nxt == right); i++) {
		if ((int32_t)(right - nxt) > 0) {
			uint32_t n = right - nxt < 1000 ? right - nxt : 1000;
			send_data(h, nxt, n, 65535);
			nxt += n;
		} else {
			th_advance(h, 250);
		}
		struct th_seg s;
		while (th_pop_seg(h, &s)) {
			right = s.hdr.ack - h->irs + s.hdr.win;
			win = s.hdr.win;
		}
	}
	if (!(win == 0 && nxt == right))
		fail_msg("the window never closed (win %u)", win);
	uint32_t total = nxt - 1;
	assert_true(total <= 8192);

	/* One byte read: nothing announced. */
	uint8_t b[8192];
	assert_int_equal(ts_recv(sl, fd, b, 1, 0), 1);
	assert_int_equal(th_advance_until_seg(h, 500), -1);
	/* Everything read: the window reopens, by at least one MSS or half the buffer. */
	ssize_t r = ts_recv(sl, fd, b, sizeof(b), 0);
	assert_int_equal(r, (ssize_t)total - 1);
	if (th_advance_until_seg(h, 500) < 0)
		fail_msg("no window update after the buffer was emptied");
	struct th_seg s = th_expect(h, TCP_FLAG_ACK, h->iss + 1, h->irs + nxt, TH_ANY, NULL, 0);
	if (s.hdr.win < 1460 && s.hdr.win < total / 2)
		fail_msg("window reopened to only %u bytes", s.hdr.win);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_out_of_order_reassembly, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_no_window_update_after_small_read, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_sequence_wrap, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_delayed_ack, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_ack_piggybacked_on_data, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_nagle, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_zero_window_persist_probes, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_honour_peer_window, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_receiver_zero_window, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_receiver_sws_avoidance, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_retransmission_backoff_and_timeout, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_retransmission_then_recovery, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_initial_rto_without_sample, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_fast_retransmit, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_send_buffer_full_and_pollout, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_recv_peek, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_ack_of_unsent_data, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_recv_errqueue_empty, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_recv_trunc_discards, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_outq_and_send_shut, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_old_ack_window_from_bytes_acked, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_keepalive, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_truncated_segments, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_ack_of_data_sent_before_rto, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_out_of_order_fin, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_segment_straddling_left_edge, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_old_segment_does_not_update_window, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_pure_ack_after_rto_carries_highest_seq, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_out_of_window_acks_rate_limited, th_setup, th_teardown),
	};
	return cmocka_run_group_tests_name("tcp_data", tests, NULL, NULL);
}
