/*
 * test_tcp_acks.c - when the receiver ACKs, frame by frame under the fake clock (docs/tcp.md,
 * "When tapstack ACKs"): one ACK per receive batch (stretch ACKs, as Linux ACKs a GRO
 * super-packet), capped so the sender is never held by the batch; quick ACKs at the start
 * and again after a retransmission; out-of-order data and a filled hole ACKed at once with
 * SACK; a lone small segment on the delayed-ACK timer at its exact deadline after the timer
 * was stopped and re-armed lazily; the retransmission timer firing at the deadline of its
 * last re-arm; and the timer-heap work of a request/response exchange (stack/core/timer.c).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "core/pbuf.h"
#include "drivers/netdev.h"
#include "socket/socket.h"
#include "helpers/tcp_harness.h"

#define DATA (TCP_FLAG_ACK | TH_PSH_ANY)
#define MSS 1460u

/* Peer's data segment at relative sequence rel (1 = first byte), built but only queued:
 * the next th_poll() reads every queued frame in one batch. */
static void queue_data(struct th *h, uint32_t rel, uint32_t len)
{
	uint8_t payload[MSS], frame[TH_FRAME_MAX];
	memset(payload, 'a' + (int)(rel % 26), len);
	uint32_t n = th_build(h, frame, TCP_FLAG_ACK, h->irs + rel, h->iss + 1, 65535, NULL, payload, len);
	th_fq_push(&h->rx, frame, n, h->now);
}

/* Reads and discards everything the socket holds; returns the bytes read. */
static uint32_t drain_recv(struct th *h, int fd)
{
	uint8_t buf[4096];
	uint32_t total = 0;
	ssize_t n;
	while ((n = ts_recv(th_sl(h), fd, buf, sizeof(buf), 0)) > 0)
		total += (uint32_t)n;
	return total;
}

/* `rounds` pairs of full segments from relative seq 1, gap_ms apart, each pair ACKed at once
 * and read. Returns the next relative seq. */
static uint32_t pairs_acked(struct th *h, int fd, int rounds, uint64_t gap_ms)
{
	uint32_t rel = 1;
	for (int i = 0; i < rounds; i++) {
		queue_data(h, rel, MSS);
		queue_data(h, rel + MSS, MSS);
		th_poll(h);
		rel += 2 * MSS;
		th_expect(h, TCP_FLAG_ACK, h->iss + 1, h->irs + rel, TH_ANY, NULL, 0);
		assert_int_equal(drain_recv(h, fd), 2 * MSS);
		th_drain(h); /* a window update after the read, if any */
		if (gap_ms)
			th_advance(h, gap_ms);
	}
	return rel;
}

/* Spends the quick-ACK start, so that what follows sees the ordinary policy: pairs until the
 * window stops growing (each growth asks for a quick ACK, as Linux's tcp_grow_window) and
 * the quick ACKs are spent; no delayed ACK fires on the way, so ato stays at its 40 ms. */
static uint32_t past_quickack(struct th *h, int fd)
{
	uint32_t rel = pairs_acked(h, fd, 32, 0);
	th_advance(h, 150); /* less than the RTO: a longer silence would start quick-ACK mode again */
	th_drain(h);
	return rel;
}

/* Ten full segments in one batch: one ACK, for all of them, sent at the end of the batch. */
static void test_one_ack_per_batch(void **state)
{
	struct th *h = *state;
	int fd = th_established(h);
	uint32_t rel = past_quickack(h, fd);
	uint64_t batch_acks = th_counter(h, "tcp", "BatchAcks");
	for (int i = 0; i < 10; i++)
		queue_data(h, rel + (uint32_t)i * MSS, MSS);
	th_poll(h);
	th_expect(h, TCP_FLAG_ACK, h->iss + 1, h->irs + rel + 10 * MSS, TH_ANY, NULL, 0);
	th_expect_none(h);
	assert_int_equal(th_counter(h, "tcp", "BatchAcks"), batch_acks + 1);
	/* Nothing is left owed: no delayed ACK follows. */
	th_advance(h, 500);
	th_expect_none(h);
	assert_int_equal(drain_recv(h, fd), 10 * MSS);
}

/* In quick-ACK mode (a new connection) a batch is ACKed at its end too, once: a quick ACK
 * means "no delay", not "one per segment"; each such ACK spends one of the quick ACKs. */
static void test_quickack_batch_at_start(void **state)
{
	struct th *h = *state;
	th_established(h);
	uint64_t quick = th_counter(h, "tcp", "QuickAcks");
	/* A lone small segment: ACKed at once, not after the delayed-ACK timeout. */
	queue_data(h, 1, 100);
	th_poll(h);
	th_expect(h, TCP_FLAG_ACK, h->iss + 1, h->irs + 101, TH_ANY, NULL, 0);
	/* Three segments in one batch: one ACK. */
	queue_data(h, 101, 100);
	queue_data(h, 201, 100);
	queue_data(h, 301, 100);
	th_poll(h);
	th_expect(h, TCP_FLAG_ACK, h->iss + 1, h->irs + 401, TH_ANY, NULL, 0);
	th_expect_none(h);
	assert_int_equal(th_counter(h, "tcp", "QuickAcks"), quick + 2);
}

/* Past the quick start, a lone small segment waits for the delayed-ACK timer, and exactly
 * ato (40 ms) after it came, though the timer was stopped by an earlier ACK and is re-armed
 * lazily (still in the heap under its old key). */
static void test_delack_exact_after_lazy_rearm(void **state)
{
	struct th *h = *state;
	int fd = th_established(h);
	uint32_t rel = past_quickack(h, fd);
	/* A small segment arms the timer at t0 + 40 ms; our reply carries the ACK at t0 + 5 ms
	 * and stops the timer (lazily: it stays in the heap for t0 + 40 ms). */
	queue_data(h, rel, 10);
	th_poll(h);
	rel += 10;
	th_expect_none(h);
	th_advance(h, 5);
	assert_int_equal(ts_send(th_sl(h), fd, "reply", 5, 0), 5);
	th_expect(h, DATA, h->iss + 1, h->irs + rel, TH_ANY, NULL, 5);
	th_send(h, TCP_FLAG_ACK, h->irs + rel, h->iss + 6, 65535, NULL, NULL, 0);
	/* 20 ms later another small segment: its ACK is due 40 ms after it, at t0 + 65 ms, not
	 * at the old key t0 + 40 ms. */
	th_advance(h, 20);
	queue_data(h, rel, 10);
	th_poll(h);
	rel += 10;
	long t = th_advance_until_seg(h, 1000);
	assert_int_equal(t, 40);
	th_expect(h, TCP_FLAG_ACK, h->iss + 6, h->irs + rel, TH_ANY, NULL, 0);
	th_expect_none(h);
}

/* A pure retransmission (our ACK was lost) is ACKed at once and brings quick-ACK mode back
 * (Linux tcp_enter_quickack_mode): the next lone small segment is ACKed without delay. */
static void test_quickack_after_retransmission(void **state)
{
	struct th *h = *state;
	int fd = th_established(h);
	uint32_t rel = past_quickack(h, fd);
	/* Without quick ACKs, a small segment waits. */
	queue_data(h, rel, 10);
	th_poll(h);
	th_expect_none(h);
	/* The peer resends it: ACKed at once. */
	queue_data(h, rel, 10);
	th_poll(h);
	rel += 10;
	th_expect(h, TCP_FLAG_ACK, h->iss + 1, h->irs + rel, TH_ANY, NULL, 0);
	/* The next small segment: ACKed at once (quick-ACK mode), not 40 ms later. */
	queue_data(h, rel, 10);
	th_poll(h);
	rel += 10;
	th_expect(h, TCP_FLAG_ACK, h->iss + 1, h->irs + rel, TH_ANY, NULL, 0);
	th_expect_none(h);
	assert_int_equal(drain_recv(h, fd), 20);
}

/* Out-of-order data in a batch is not held to its end: each segment beyond a hole gets its
 * own duplicate ACK with a SACK block at once (RFC 5681 4.2, RFC 2018; the first three are
 * never merged, test_sack_compression), and the segment that fills the hole its ACK of
 * everything at once. */
static void test_ooo_in_batch_acked_at_once(void **state)
{
	struct th *h = *state;
	int lfd = th_listen(h, 80, 8);
	struct tcp_opts syn = th_mss_opts(MSS);
	syn.sack_ok = true;
	int fd = th_open_passive(h, lfd, &syn, 65535);
	uint32_t rel = past_quickack(h, fd);
	/* One batch: in order, then two beyond a one-segment hole. */
	queue_data(h, rel, MSS);
	queue_data(h, rel + 2 * MSS, MSS);
	queue_data(h, rel + 3 * MSS, MSS);
	th_poll(h);
	struct th_seg s = th_expect(h, TCP_FLAG_ACK, h->iss + 1, h->irs + rel + MSS, TH_ANY, TH_ANY_OPTS, 0);
	assert_int_equal(s.hdr.opts.sack_count, 1);
	assert_int_equal(s.hdr.opts.sack[0].start, h->irs + rel + 2 * MSS);
	assert_int_equal(s.hdr.opts.sack[0].end, h->irs + rel + 3 * MSS);
	s = th_expect(h, TCP_FLAG_ACK, h->iss + 1, h->irs + rel + MSS, TH_ANY, TH_ANY_OPTS, 0);
	assert_int_equal(s.hdr.opts.sack_count, 1);
	assert_int_equal(s.hdr.opts.sack[0].start, h->irs + rel + 2 * MSS);
	assert_int_equal(s.hdr.opts.sack[0].end, h->irs + rel + 4 * MSS);
	th_expect_none(h);
	/* The hole is filled: everything ACKed, no SACK left. */
	queue_data(h, rel + MSS, MSS);
	th_poll(h);
	s = th_expect(h, TCP_FLAG_ACK, h->iss + 1, h->irs + rel + 4 * MSS, TH_ANY, TH_ANY_OPTS, 0);
	assert_int_equal(s.hdr.opts.sack_count, 0);
	th_expect_none(h);
	assert_int_equal(drain_recv(h, fd), 4 * MSS);
}

/*
 * More holes than an option can name (RFC 2018 4, Linux tcp_sack_new_ofo_skb): the first
 * block is always the one the arriving segment joined, then the blocks changed before it;
 * a fifth block pushes the oldest out. Ten segments each beyond its own hole: every ACK
 * names the newest segment first (blocks read off the queue in sequence order named the
 * lowest holes, and past eight ranges never the new data). Then a segment that joins an
 * older block brings it to the front, merged with the block it now touches, and a block
 * RCV.NXT passes is dropped.
 */
static void test_sack_blocks_newest_first(void **state)
{
	struct th *h = *state;
	int lfd = th_listen(h, 80, 8);
	struct tcp_opts syn = th_mss_opts(MSS);
	syn.sack_ok = true;
	syn.has_ts = false; /* four blocks fit */
	int fd = th_open_passive(h, lfd, &syn, 65535);
	uint32_t rel = past_quickack(h, fd);
	uint32_t base = h->irs + rel;
	struct th_seg s;
	for (uint32_t k = 1; k <= 10; k++) {
		queue_data(h, rel + 2 * k * MSS, MSS); /* [2k, 2k+1) MSS past rel: a hole before each */
		th_poll(h);
		s = th_expect(h, TCP_FLAG_ACK, h->iss + 1, base, TH_ANY, TH_ANY_OPTS, 0);
		uint32_t want = k < 4 ? k : 4;
		assert_int_equal(s.hdr.opts.sack_count, want);
		for (uint32_t i = 0; i < want; i++) {
			assert_int_equal(s.hdr.opts.sack[i].start, base + 2 * (k - i) * MSS);
			assert_int_equal(s.hdr.opts.sack[i].end, base + (2 * (k - i) + 1) * MSS);
		}
	}
	/* Blocks [20,21) [18,19) [16,17) [14,15) (in MSS past rel); the lower ones were pushed
	 * out though still queued. A segment filling [17,18) joins [16,17), which comes first
	 * and swallows [18,19) (Linux tcp_sack_maybe_coalesce). */
	queue_data(h, rel + 17 * MSS, MSS);
	th_poll(h);
	s = th_expect(h, TCP_FLAG_ACK, h->iss + 1, base, TH_ANY, TH_ANY_OPTS, 0);
	assert_int_equal(s.hdr.opts.sack_count, 3);
	assert_int_equal(s.hdr.opts.sack[0].start, base + 16 * MSS);
	assert_int_equal(s.hdr.opts.sack[0].end, base + 19 * MSS);
	assert_int_equal(s.hdr.opts.sack[1].start, base + 20 * MSS);
	assert_int_equal(s.hdr.opts.sack[2].start, base + 14 * MSS);
	/* The holes fill one by one: RCV.NXT runs through each queued segment; the three
	 * blocks stay, in their order, until it passes [14,15), which is then dropped. */
	for (uint32_t hole = 0; hole <= 13; hole += hole == 0 ? 1 : 2) {
		queue_data(h, rel + hole * MSS, MSS);
		th_poll(h);
		uint32_t ack = hole == 0 ? 1 : hole + 2;
		s = th_expect(h, TCP_FLAG_ACK, h->iss + 1, base + ack * MSS, TH_ANY, TH_ANY_OPTS, 0);
		assert_int_equal(s.hdr.opts.sack_count, hole < 13 ? 3 : 2);
		assert_int_equal(s.hdr.opts.sack[0].start, base + 16 * MSS);
	}
	assert_int_equal(s.hdr.opts.sack[1].start, base + 20 * MSS);
	th_expect_none(h);
}

/*
 * SACK compression (Linux __tcp_ack_snd_check, tcp_sack_compress_send_ack): past quick-ACK
 * mode, data beyond a hole gets three duplicate ACKs at once; the SACKs of what follows are
 * merged into one ACK min(1 ms, RTT / 20) later (RTT 20 ms here: 1 ms). A block that would
 * push a held one out of the first two sends the held ACK first, with the blocks as they
 * were. Filling the hole is ACKed at once.
 */
static void test_sack_compression(void **state)
{
	struct th *h = *state;
	int lfd = th_listen(h, 80, 8);
	/* A fixed buffer: the window stops growing, and with it the quick ACKs each growth
	 * allows (Linux tcp_grow_window), out-of-order segments included. */
	int rcvbuf = 65536;
	assert_int_equal(ts_setsockopt(th_sl(h), lfd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf)), 0);
	struct tcp_opts syn = th_mss_opts(MSS);
	syn.sack_ok = true;
	int fd = th_open_passive_rtt(h, lfd, &syn, 65535, 20); /* SRTT 20 ms from the handshake */
	/* 30 rounds of two segments 10 ms apart: quick-ACK mode is spent, the window is at its
	 * clamp, and the receiver's RTT estimate (a window filled in about 220 ms) is above the
	 * SRTT, which therefore rules. */
	uint32_t rel = pairs_acked(h, fd, 30, 10);
	th_drain(h);
	uint32_t base = h->irs + rel;
	/* A hole at [0,1) MSS past rel; [1,2), [2,3), [3,4): three duplicate ACKs at once. */
	for (uint32_t k = 1; k <= 3; k++) {
		queue_data(h, rel + k * MSS, MSS);
		th_poll(h);
		struct th_seg s = th_expect(h, TCP_FLAG_ACK, h->iss + 1, base, TH_ANY, TH_ANY_OPTS, 0);
		assert_int_equal(s.hdr.opts.sack_count, 1);
		assert_int_equal(s.hdr.opts.sack[0].end, base + (k + 1) * MSS);
	}
	/* [4,7): held; one ACK after 1 ms names all of it. */
	uint64_t compressed = th_stack_counter(&h->st, "tcp", "AckCompressed");
	for (uint32_t k = 4; k <= 6; k++)
		queue_data(h, rel + k * MSS, MSS);
	th_poll(h);
	th_expect_none(h);
	th_advance_us(h, 999);
	th_expect_none(h);
	th_advance_us(h, 1);
	struct th_seg s = th_expect(h, TCP_FLAG_ACK, h->iss + 1, base, TH_ANY, TH_ANY_OPTS, 0);
	assert_int_equal(s.hdr.opts.sack_count, 1);
	assert_int_equal(s.hdr.opts.sack[0].start, base + MSS);
	assert_int_equal(s.hdr.opts.sack[0].end, base + 7 * MSS);
	th_expect_none(h);
	assert_int_equal(th_stack_counter(&h->st, "tcp", "AckCompressed"), compressed + 2);
	/* [9,10) is held (a second block); [11,12) would make a third: the held ACK leaves
	 * first, with the two blocks it was holding, and [11,12) is held in turn. */
	queue_data(h, rel + 9 * MSS, MSS);
	th_poll(h);
	th_expect_none(h);
	queue_data(h, rel + 11 * MSS, MSS);
	th_poll(h);
	s = th_expect(h, TCP_FLAG_ACK, h->iss + 1, base, TH_ANY, TH_ANY_OPTS, 0);
	assert_int_equal(s.hdr.opts.sack_count, 2);
	assert_int_equal(s.hdr.opts.sack[0].start, base + 9 * MSS);
	assert_int_equal(s.hdr.opts.sack[1].start, base + MSS);
	th_expect_none(h);
	th_advance(h, 1);
	s = th_expect(h, TCP_FLAG_ACK, h->iss + 1, base, TH_ANY, TH_ANY_OPTS, 0);
	assert_int_equal(s.hdr.opts.sack_count, 3);
	assert_int_equal(s.hdr.opts.sack[0].start, base + 11 * MSS);
	/* The hole fills: ACKed at once, to 7 MSS, with the two blocks beyond. */
	queue_data(h, rel, MSS);
	th_poll(h);
	s = th_expect(h, TCP_FLAG_ACK, h->iss + 1, base + 7 * MSS, TH_ANY, TH_ANY_OPTS, 0);
	assert_int_equal(s.hdr.opts.sack_count, 2);
	th_expect_none(h);
}

/*
 * A batch larger than half the window we offered is not ACKed only at its end: an ACK
 * leaves each time the unacknowledged data reaches half the window the last ACK offered
 * (or 64 KiB), so a sender with a full window in flight keeps sending. Every ACK covers at
 * least two full segments (RFC 5681 4.2's "every second segment" is never undercut).
 */
static void test_stretch_capped_by_window(void **state)
{
	struct th *h = *state;
	int fd = th_established(h);
	/* A buffer that holds the whole window with room to spare: the window offered keeps
	 * up while the data waits (with the default 128 KiB, 1460-byte segments cost 2304
	 * bytes each, the free space soon offers less than the last ACK did, and then, as in
	 * Linux, nothing is ACKed before the delayed-ACK timer: tcp_input.c tcp_ack_decide). */
	int big = 1 << 20;
	assert_int_equal(ts_setsockopt(th_sl(h), fd, SOL_SOCKET, SO_RCVBUF, &big, sizeof(big)), 0);
	uint32_t rel = past_quickack(h, fd);
	/* The window the last ACK offered, in bytes (no window scaling here). */
	th_send(h, TCP_FLAG_ACK, h->irs + rel, h->iss + 1, 65535, NULL, NULL, 0);
	assert_int_equal(ts_send(th_sl(h), fd, "x", 1, 0), 1);
	struct th_seg s = th_expect(h, DATA, h->iss + 1, h->irs + rel, TH_ANY, NULL, 1);
	uint32_t wnd = s.hdr.win;
	th_send(h, TCP_FLAG_ACK, h->irs + rel, h->iss + 2, 65535, NULL, NULL, 0);
	th_expect_none(h);
	uint32_t half = wnd / 2;
	uint32_t nseg = (wnd - MSS) / MSS;   /* what the window admits */
	for (uint32_t i = 0; i < nseg; i++)
		queue_data(h, rel + i * MSS, MSS);
	th_poll(h);
	/* ACKs at each point where the unacknowledged bytes first reach half the window. */
	uint32_t acked = 0, nacks = 0;
	struct th_seg a;
	while (th_pop_seg(h, &a)) {
		uint32_t now_acked = a.hdr.ack - (h->irs + rel);
		uint32_t covered = now_acked - acked;
		uint32_t want = (half + MSS - 1) / MSS * MSS;
		if (want < 2 * MSS)
			want = 2 * MSS;
		if (now_acked != nseg * MSS && covered != want)
			fail_msg("ACK %u covers %u bytes, want %u (window %u)", nacks, covered, want, 2 * half);
		acked = now_acked;
		nacks++;
		half = a.hdr.win / 2u; /* the next ACK: half of what this one offered (tcp_rwnd.c) */
	}
	assert_int_equal(acked, nseg * MSS);
	assert_true(nacks >= 2);
	assert_true(nacks < nseg / 2);
	assert_int_equal(drain_recv(h, fd), nseg * MSS);
}

/*
 * Linux __tcp_ack_snd_check: with more than a segment unacknowledged, the ACK goes at once
 * only if the window it would offer is at least the last one; asking ends quick-ACK mode
 * when the buffer is more than half full. Twenty segments (20 x 2304 bytes of truesize in
 * the default 128 KiB) leave less free than the 65535 offered, and the reader sleeps: the
 * batch is ACKed by the delayed-ACK timer, once, with the smaller window (the edge kept).
 * The same as Linux 6.18 does with a packetdrill burst into an unread socket.
 */
static void test_filling_buffer_waits_for_delack(void **state)
{
	struct th *h = *state;
	int fd = th_established(h);
	uint32_t rel = past_quickack(h, fd);
	for (uint32_t i = 0; i < 20; i++)
		queue_data(h, rel + i * MSS, MSS);
	th_poll(h);
	th_expect_none(h);
	long t = th_advance_until_seg(h, 1000);
	assert_int_equal(t, 40);
	struct th_seg a = th_expect(h, TCP_FLAG_ACK, h->iss + 1, h->irs + rel + 20 * MSS, TH_ANY, NULL, 0);
	assert_true(a.hdr.win < 65535);
	th_expect_none(h);
	assert_int_equal(drain_recv(h, fd), 20 * MSS);
}

/*
 * Linux's ato (tcp_delack.c): 40 ms at first; doubled when the timer had to fire; bounded
 * by the smoothed RTT (100 ms here); and after a silence longer than the RTO, data is ACKed
 * at once again (quick-ACK mode restarts). The same packets as Linux 6.18 for the same
 * packetdrill script (SO_RCVBUF 20000, so the window stops growing and quick ACKs run out).
 */
/* SO_RCVBUF 20000 (an 18980-byte window), the peer's MSS 1000, an RTT of 100 ms; twelve
 * segments 10 ms apart, each read at once: the window stops growing and the quick ACKs run
 * out (the last segment's ACK is left to the timer). *seq is the next sequence number. */
static int open_past_growth(struct th *h, uint32_t *seq)
{
	struct socket_layer *sl = th_sl(h);
	int lfd = th_listen(h, 80, 8);
	int rcvbuf = 20000;
	assert_int_equal(ts_setsockopt(sl, lfd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf)), 0);
	struct tcp_opts o = th_mss_opts(1000);
	int fd = th_open_passive_rtt(h, lfd, &o, 65535, 100);
	uint8_t seg[1000], buf[1000];
	memset(seg, 'q', sizeof(seg));
	*seq = h->irs + 1;
	for (int i = 0; i < 12; i++) {
		th_advance(h, 10);
		th_send(h, TCP_FLAG_ACK, *seq, h->iss + 1, 65535, NULL, seg, sizeof(seg));
		*seq += sizeof(seg);
		assert_int_equal(ts_recv(sl, fd, buf, sizeof(buf), 0), (ssize_t)sizeof(buf));
	}
	th_drain(h);
	return fd;
}

static void test_ato_grows_and_silence_restarts_quickack(void **state)
{
	struct th *h = *state;
	struct socket_layer *sl = th_sl(h);
	uint8_t buf[1000];
	uint32_t seq;
	int fd = open_past_growth(h, &seq);
	/* The last segment waited for the timer: 40 ms. It fired, so ato doubles. */
	assert_int_equal(th_advance_until_seg(h, 1000), 40);
	th_expect(h, TCP_FLAG_ACK, h->iss + 1, seq, TH_ANY, NULL, 0);
	th_advance(h, 100);
	th_send(h, TCP_FLAG_ACK | TCP_FLAG_PSH, seq, h->iss + 1, 65535, NULL, "a", 1);
	seq += 1;
	th_expect_none(h);
	assert_int_equal(th_advance_until_seg(h, 1000), 80);
	th_expect(h, TCP_FLAG_ACK, h->iss + 1, seq, TH_ANY, NULL, 0);
	/* A silence longer than the RTO (about 300 ms after a 100 ms round trip): at once. */
	th_advance(h, 500);
	th_send(h, TCP_FLAG_ACK | TCP_FLAG_PSH, seq, h->iss + 1, 65535, NULL, "b", 1);
	seq += 1;
	th_expect(h, TCP_FLAG_ACK, h->iss + 1, seq, TH_ANY, NULL, 0);
	assert_int_equal(ts_recv(sl, fd, buf, sizeof(buf), 0), 2);
}

/*
 * Linux's tcp_measure_rcv_mss: two short segments of the same length that could be a peer's
 * full segments (no PSH, at least 88 bytes) make that length the MSS the ACK policy counts
 * in, so 400-byte segments are ACKed every second one, not every third (more than 1000
 * unacknowledged). The same ACKs as Linux 6.18 for the same packetdrill script.
 */
static void test_rcv_mss_learned_from_short_segments(void **state)
{
	struct th *h = *state;
	struct socket_layer *sl = th_sl(h);
	uint8_t seg[400], buf[400];
	memset(seg, 's', sizeof(seg));
	uint32_t seq;
	int fd = open_past_growth(h, &seq);
	assert_int_equal(th_advance_until_seg(h, 1000), 40);
	th_drain(h);
	th_advance(h, 100);
	for (int i = 1; i <= 10; i++) {
		th_advance(h, 5);
		th_send(h, TCP_FLAG_ACK, seq, h->iss + 1, 65535, NULL, seg, sizeof(seg));
		seq += sizeof(seg);
		assert_int_equal(ts_recv(sl, fd, buf, sizeof(buf), 0), (ssize_t)sizeof(buf));
		if (i % 2)
			th_expect(h, TCP_FLAG_ACK, h->iss + 1, seq, TH_ANY, NULL, 0);
		else
			th_expect_none(h);
	}
}

/* A connection freed while it owes a batch-end ACK leaves the batch's list. Frames handed
 * to ts_stack_input() directly (as the packetdrill runner and the fuzzer do) wait for the
 * next ts_stack_poll() to be ACKed; closing with unread data in between resets and frees the
 * connection (Linux's close with unread data), and that poll must not touch it (ASan). */
static void test_freed_conn_leaves_batch(void **state)
{
	struct th *h = *state;
	int fd = th_established(h);
	uint32_t rel = past_quickack(h, fd);
	for (int i = 0; i < 2; i++) {
		uint8_t payload[MSS], frame[TH_FRAME_MAX];
		memset(payload, 'z', MSS);
		uint32_t n = th_build(h, frame, TCP_FLAG_ACK, h->irs + rel + (uint32_t)i * MSS, h->iss + 1, 65535, NULL,
		                      payload, MSS);
		struct pbuf *pb = pbuf_alloc(&h->st.core.pool, PBUF_HEADROOM, NETDEV_RX_ROOM);
		assert_non_null(pb);
		memcpy(pbuf_put(pb, n), frame, n);
		ts_stack_input(&h->st, pb);
	}
	th_expect_none(h);               /* owed at the end of the batch */
	assert_non_null(h->st.tcp.ack_batch);
	assert_int_equal(ts_close(th_sl(h), fd), 0);
	th_expect(h, TCP_FLAG_RST | TCP_FLAG_ACK, h->iss + 1, h->irs + rel + 2 * MSS, TH_ANY, NULL, 0);
	assert_null(h->st.tcp.ack_batch);
	th_poll(h);
	th_expect_none(h);
}

/*
 * The timer heap's work for a keep-alive exchange (request in, response out, the response
 * ACKed), 100 times 1 ms apart: each exchange arms the delayed-ACK timer, stops it (the
 * response carries the ACK), arms the retransmission timer and stops it (the ACK). Lazily,
 * that touches the heap only when a stale key comes up (about once per timeout), where the
 * eager heap did four O(log n) operations per exchange (docs/performance.md, "Lazy timers").
 */
static void test_timer_ops_per_request(void **state)
{
	struct th *h = *state;
	int fd = th_established(h);
	uint32_t rel = past_quickack(h, fd);
	uint32_t our = 1;
	/* The first request: the read that empties the queue of a short segment sends its ACK
	 * at once (Linux __tcp_cleanup_rbuf, ICSK_ACK_PUSHED); the answer, sent within ato of
	 * the request, makes the connection interactive (pingpong), and from then on the
	 * answers carry the ACKs. */
	th_advance(h, 1);
	queue_data(h, rel, 50);
	th_poll(h);
	rel += 50;
	th_expect_none(h);
	assert_int_equal(drain_recv(h, fd), 50);
	th_expect(h, TCP_FLAG_ACK, h->iss + our, h->irs + rel, TH_ANY, NULL, 0);
	assert_int_equal(ts_send(th_sl(h), fd, "response", 8, 0), 8);
	th_expect(h, DATA, h->iss + our, h->irs + rel, TH_ANY, NULL, 8);
	our += 8;
	th_send(h, TCP_FLAG_ACK, h->irs + rel, h->iss + our, 65535, NULL, NULL, 0);
	th_expect_none(h);
	uint64_t ops0 = h->st.core.timers.ops;
	for (int i = 0; i < 100; i++) {
		th_advance(h, 1);
		queue_data(h, rel, 50);
		th_poll(h);
		rel += 50;
		assert_int_equal(drain_recv(h, fd), 50);
		assert_int_equal(ts_send(th_sl(h), fd, "response", 8, 0), 8);
		th_expect(h, DATA, h->iss + our, h->irs + rel, TH_ANY, NULL, 8);
		our += 8;
		th_send(h, TCP_FLAG_ACK, h->irs + rel, h->iss + our, 65535, NULL, NULL, 0);
		th_expect_none(h);
	}
	uint64_t ops = h->st.core.timers.ops - ops0;
	print_message("timer heap operations for 100 exchanges: %llu\n", (unsigned long long)ops);
	/* 100 ms of exchanges: the delayed-ACK key (40 ms) comes up about 3 times, the RTO key
	 * (>= 200 ms) not at all; each costs a removal and a later insertion. */
	assert_true(ops <= 8);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_one_ack_per_batch, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_quickack_batch_at_start, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_delack_exact_after_lazy_rearm, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_quickack_after_retransmission, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_ooo_in_batch_acked_at_once, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_sack_blocks_newest_first, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_sack_compression, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_stretch_capped_by_window, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_filling_buffer_waits_for_delack, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_ato_grows_and_silence_restarts_quickack, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_rcv_mss_learned_from_short_segments, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_freed_conn_leaves_batch, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_timer_ops_per_request, th_setup, th_teardown),
	};
	return cmocka_run_group_tests_name("tcp_acks", tests, NULL, NULL);
}
