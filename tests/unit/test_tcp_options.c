/*
 * test_tcp_options.c - the negotiated options at work after the handshake, frame by frame:
 *   timestamps (RFC 7323 3, 4, 5): every segment carries TSopt once negotiated, TSecr echoes
 *   TS.Recent, the TSval clock ticks between 1 ms and 1 s, PAWS drops an old TSval with a
 *   duplicate ACK;
 *   window scale (RFC 7323 2): the stack's windows are sent scaled, the peer's are read
 *   scaled;
 *   SACK (RFC 2018 4): out-of-order data is reported in SACK blocks, most recent first.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "helpers/tcp_harness.h"
#include "socket/socket.h"

#define SYNACK (TCP_FLAG_SYN | TCP_FLAG_ACK)

static struct tcp_opts ts_opts(uint32_t val, uint32_t ecr)
{
	struct tcp_opts o;
	memset(&o, 0, sizeof(o));
	o.has_ts = true;
	o.ts_val = val;
	o.ts_ecr = ecr;
	return o;
}

/* Timestamps: negotiated on the SYN; then the final ACK, data and ACKs all carry TSopt,
 * TSecr echoes the peer's latest in-order TSval, the stack's TSval advances at a rate
 * between 1 per second and 1 per millisecond (RFC 7323 5.4), an old TSval fails PAWS:
 * the segment is dropped (its data never delivered) and answered by a duplicate ACK. */
static void test_timestamps_and_paws(void **state)
{
	struct th *h = *state;
	struct socket_layer *sl = th_sl(h);
	int lfd = th_listen(h, 80, 8);
	struct tcp_opts syn = th_mss_opts(1460);
	syn.has_ts = true;
	syn.ts_val = 100;
	th_send(h, TCP_FLAG_SYN, h->irs, 0, 65535, &syn, NULL, 0);
	struct th_seg s = th_expect(h, SYNACK, TH_ANY, h->irs + 1, TH_ANY, TH_ANY_OPTS, 0);
	h->iss = s.hdr.seq;
	assert_true(s.hdr.opts.has_ts);
	assert_int_equal(s.hdr.opts.ts_ecr, 100);
	uint32_t tsv = s.hdr.opts.ts_val;

	struct tcp_opts o = ts_opts(101, tsv);
	th_send(h, TCP_FLAG_ACK, h->irs + 1, h->iss + 1, 65535, &o, NULL, 0);
	struct sockaddr_in peer;
	int fd = ts_accept(sl, lfd, &peer, SOCK_NONBLOCK);
	assert_true(fd >= 0);

	/* Data one second later: the ACK echoes 102, its own TSval moved 1..1000 ticks. */
	th_advance(h, 1000);
	o = ts_opts(102, tsv);
	th_send(h, TCP_FLAG_ACK | TCP_FLAG_PSH, h->irs + 1, h->iss + 1, 65535, &o, "abcd", 4);
	assert_true(th_advance_until_seg(h, 200) >= 0);
	struct tcp_opts want = ts_opts(0, 102);   /* ts_val 0: any */
	s = th_expect(h, TCP_FLAG_ACK, h->iss + 1, h->irs + 5, TH_ANY, &want, 0);
	uint32_t d = s.hdr.opts.ts_val - tsv;
	if (d < 1 || d > 1000 + 200)
		fail_msg("TSval advanced %u in about a second: not a 1 ms .. 1 s clock", d);
	tsv = s.hdr.opts.ts_val;

	/* Our data carries TSopt too. */
	assert_int_equal(ts_send(sl, fd, "xyz", 3, 0), 3);
	s = th_expect(h, TCP_FLAG_ACK | TH_PSH_ANY, h->iss + 1, h->irs + 5, TH_ANY, &want, 3);
	o = ts_opts(103, s.hdr.opts.ts_val);
	th_send(h, TCP_FLAG_ACK, h->irs + 5, h->iss + 4, 65535, &o, NULL, 0);
	th_expect_none(h);

	/* PAWS (RFC 7323 5.3): TSval 50 < TS.Recent 103: dropped, duplicate ACK at once. */
	th_advance(h, 600);    /* past Linux's 500 ms out-of-window ACK rate limit */
	o = ts_opts(50, tsv);
	th_send(h, TCP_FLAG_ACK | TCP_FLAG_PSH, h->irs + 5, h->iss + 4, 65535, &o, "EVIL", 4);
	want = ts_opts(0, 103);
	th_expect(h, TCP_FLAG_ACK, h->iss + 4, h->irs + 5, TH_ANY, &want, 0);
	th_expect_none(h);
	char buf[16];
	assert_int_equal(ts_recv(sl, fd, buf, sizeof(buf), 0), 4);
	assert_memory_equal(buf, "abcd", 4);
	assert_int_equal(ts_recv(sl, fd, buf, sizeof(buf), 0), -EAGAIN);

	/* The same bytes with a good TSval are accepted. */
	o = ts_opts(104, tsv);
	th_send(h, TCP_FLAG_ACK | TCP_FLAG_PSH, h->irs + 5, h->iss + 4, 65535, &o, "good", 4);
	assert_true(th_advance_until_seg(h, 200) >= 0);
	want = ts_opts(0, 104);
	th_expect(h, TCP_FLAG_ACK, h->iss + 4, h->irs + 9, TH_ANY, &want, 0);
	assert_int_equal(ts_recv(sl, fd, buf, sizeof(buf), 0), 4);
	assert_memory_equal(buf, "good", 4);
}

/* Window scale: the peer offers shift 2, the stack its own S. The stack's later windows
 * are sent as (window >> S) and the peer's as (wire << 2): a peer window of 1000 on the
 * wire is 4000 bytes, so at most 4000 bytes leave. */
static void test_window_scale(void **state)
{
	struct th *h = *state;
	struct socket_layer *sl = th_sl(h);
	int lfd = th_listen(h, 80, 8);
	struct tcp_opts syn = th_mss_opts(1460);
	syn.has_wscale = true;
	syn.wscale = 2;
	th_send(h, TCP_FLAG_SYN, h->irs, 0, 65535, &syn, NULL, 0);
	struct th_seg s = th_expect(h, SYNACK, TH_ANY, h->irs + 1, TH_ANY, TH_ANY_OPTS, 0);
	h->iss = s.hdr.seq;
	assert_true(s.hdr.opts.has_wscale);
	unsigned shift = s.hdr.opts.wscale;
	assert_true(shift <= 14);

	th_send(h, TCP_FLAG_ACK, h->irs + 1, h->iss + 1, 1000, NULL, NULL, 0);   /* 4000 bytes */
	struct sockaddr_in peer;
	int fd = ts_accept(sl, lfd, &peer, SOCK_NONBLOCK);
	assert_true(fd >= 0);

	/* The stack's window, scaled. */
	th_send(h, TCP_FLAG_ACK | TCP_FLAG_PSH, h->irs + 1, h->iss + 1, 1000, NULL, "hi", 2);
	assert_true(th_advance_until_seg(h, 200) >= 0);
	s = th_expect(h, TCP_FLAG_ACK, h->iss + 1, h->irs + 3, TH_ANY, NULL, 0);
	uint64_t wnd = (uint64_t)s.hdr.win << shift;
	if (wnd < 16384 || wnd > 8u * 1024 * 1024)
		fail_msg("advertised window %u << %u = %llu bytes: not a plausible receive window", s.hdr.win,
		         shift, (unsigned long long)wnd);
	if (shift >= 2 && s.hdr.win == 65535)
		fail_msg("window field 65535 with a scale of %u: the window is not being scaled", shift);

	/* The peer's window, scaled: 4000 bytes. */
	int one = 1;
	assert_int_equal(ts_setsockopt(sl, fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)), 0);
	uint8_t buf[8000];
	memset(buf, 's', sizeof(buf));
	assert_int_equal(ts_send(sl, fd, buf, sizeof(buf), 0), (ssize_t)sizeof(buf));
	uint32_t sent = 0;
	th_advance(h, 100);
	while (th_pop_seg(h, &s)) {
		if (s.len == 0)
			continue;
		assert_int_equal(s.hdr.seq, h->iss + 1 + sent);
		sent += s.len;
	}
	if (sent < 2920 || sent > 4000)
		fail_msg("sent %u bytes into a window of 1000 << 2 = 4000 bytes", sent);
}

/* SACK (RFC 2018 4): with SACK permitted, each duplicate ACK for out-of-order data carries
 * the blocks held, the most recently received first; filling the holes removes them. */
static void test_sack_blocks(void **state)
{
	struct th *h = *state;
	int lfd = th_listen(h, 80, 8);
	struct tcp_opts syn = th_mss_opts(1460);
	syn.sack_ok = true;
	int fd = th_open_passive(h, lfd, &syn, 65535);
	(void)fd;
	uint8_t data[100];
	memset(data, 'k', sizeof(data));

	struct tcp_opts want;
	memset(&want, 0, sizeof(want));
	th_send(h, TCP_FLAG_ACK, h->irs + 101, h->iss + 1, 65535, NULL, data, 100);
	want.sack_count = 1;
	want.sack[0] = (struct tcp_sack_block){h->irs + 101, h->irs + 201};
	th_expect(h, TCP_FLAG_ACK, h->iss + 1, h->irs + 1, TH_ANY, &want, 0);

	th_send(h, TCP_FLAG_ACK, h->irs + 301, h->iss + 1, 65535, NULL, data, 100);
	want.sack_count = 2;
	want.sack[0] = (struct tcp_sack_block){h->irs + 301, h->irs + 401};
	want.sack[1] = (struct tcp_sack_block){h->irs + 101, h->irs + 201};
	th_expect(h, TCP_FLAG_ACK, h->iss + 1, h->irs + 1, TH_ANY, &want, 0);

	th_send(h, TCP_FLAG_ACK, h->irs + 1, h->iss + 1, 65535, NULL, data, 100);
	want.sack_count = 1;
	want.sack[0] = (struct tcp_sack_block){h->irs + 301, h->irs + 401};
	th_expect(h, TCP_FLAG_ACK, h->iss + 1, h->irs + 201, TH_ANY, &want, 0);

	th_send(h, TCP_FLAG_ACK, h->irs + 201, h->iss + 1, 65535, NULL, data, 100);
	th_expect(h, TCP_FLAG_ACK, h->iss + 1, h->irs + 401, TH_ANY, NULL, 0);
	th_expect_none(h);
}

/* Without SACK-permitted on the SYN, no SACK blocks ever. */
static void test_no_sack_without_permission(void **state)
{
	struct th *h = *state;
	int lfd = th_listen(h, 80, 8);
	struct tcp_opts syn = th_mss_opts(1460);
	th_open_passive(h, lfd, &syn, 65535);
	uint8_t data[100];
	memset(data, 'k', sizeof(data));
	th_send(h, TCP_FLAG_ACK, h->irs + 101, h->iss + 1, 65535, NULL, data, 100);
	th_expect(h, TCP_FLAG_ACK, h->iss + 1, h->irs + 1, TH_ANY, NULL, 0);
}

/* MSS: the peer's MSS option bounds our segments (RFC 9293 3.7.1). */
static void test_peer_mss_bounds_segments(void **state)
{
	struct th *h = *state;
	struct socket_layer *sl = th_sl(h);
	int lfd = th_listen(h, 80, 8);
	struct tcp_opts syn = th_mss_opts(1000);
	int fd = th_open_passive(h, lfd, &syn, 65535);
	int one = 1;
	assert_int_equal(ts_setsockopt(sl, fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)), 0);
	uint8_t buf[2500];
	memset(buf, 'm', sizeof(buf));
	assert_int_equal(ts_send(sl, fd, buf, sizeof(buf), 0), 2500);
	th_expect(h, TCP_FLAG_ACK | TH_PSH_ANY, h->iss + 1, h->irs + 1, TH_ANY, NULL, 1000);
	th_expect(h, TCP_FLAG_ACK | TH_PSH_ANY, h->iss + 1001, h->irs + 1, TH_ANY, NULL, 1000);
	th_expect(h, TCP_FLAG_ACK | TH_PSH_ANY, h->iss + 2001, h->irs + 1, TH_ANY, NULL, 500);
}

/* A data segment that also carries SACK blocks (we hold out-of-order data from the peer)
 * must still fit the MTU: the payload shrinks by the option bytes (Linux tcp_current_mss),
 * so IP + TCP header + options + data <= 1500 and nothing is dropped by IP's DF check. Found by
 * the lossy two-stack transfer: every retransmission carried a SACK block, was 12 bytes too
 * big, and the connection died with ETIMEDOUT. */
static void test_data_with_sack_blocks_fits_mtu(void **state)
{
	struct th *h = *state;
	struct socket_layer *sl = th_sl(h);
	int lfd = th_listen(h, 80, 8);
	struct tcp_opts syn = th_linux_syn_opts(100);
	th_send(h, TCP_FLAG_SYN, h->irs, 0, 65535, &syn, NULL, 0);
	struct th_seg s = th_expect(h, SYNACK, TH_ANY, h->irs + 1, TH_ANY, TH_ANY_OPTS, 0);
	h->iss = s.hdr.seq;
	uint32_t tsv = s.hdr.opts.ts_val;
	struct tcp_opts o = ts_opts(101, tsv);
	th_send(h, TCP_FLAG_ACK, h->irs + 1, h->iss + 1, 1000, &o, NULL, 0);
	struct sockaddr_in peer;
	int fd = ts_accept(sl, lfd, &peer, SOCK_NONBLOCK);
	assert_true(fd >= 0);
	int one = 1;
	assert_int_equal(ts_setsockopt(sl, fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)), 0);

	/* Out-of-order data from the peer: the stack now owes SACK blocks on what it sends. */
	uint8_t ooo[100];
	memset(ooo, 'o', sizeof(ooo));
	o = ts_opts(102, tsv);
	th_send(h, TCP_FLAG_ACK, h->irs + 101, h->iss + 1, 1000, &o, ooo, sizeof(ooo));
	s = th_expect(h, TCP_FLAG_ACK, h->iss + 1, h->irs + 1, TH_ANY, TH_ANY_OPTS, 0);
	assert_int_equal(s.hdr.opts.sack_count, 1);

	uint64_t big0 = th_counter(h, "ip", "tx_df_too_big"), big1;
	static uint8_t buf[6000];
	memset(buf, 'd', sizeof(buf));
	assert_int_equal(ts_send(sl, fd, buf, sizeof(buf), 0), (ssize_t)sizeof(buf));
	big1 = th_counter(h, "ip", "tx_df_too_big");
	if (big1 != big0)
		fail_msg("IP dropped %llu of our segments as too big for the MTU (TCP data + SACK option)",
		         (unsigned long long)(big1 - big0));
	uint32_t sent = 0;
	while (th_pop_seg(h, &s)) {
		if (s.len == 0)
			continue;
		if (20 + s.hdr.doff + s.len > 1500)
			fail_msg("segment of %u header + %u data bytes: above the 1480 bytes the MTU allows",
			         s.hdr.doff, s.len);
		assert_int_equal(s.hdr.seq, h->iss + 1 + sent);
		sent += s.len;
	}
	if (sent < 4000)
		fail_msg("only %u of 6000 bytes left into a 128000-byte window", sent);
}

/* A passive open whose SYN carries timestamps (TSval syn_ts, then syn_ts + 1 on the ACK):
 * returns the accepted descriptor and the stack's TSval from its SYN-ACK in *tsv. */
static int ts_established(struct th *h, uint32_t syn_ts, uint32_t *tsv)
{
	struct socket_layer *sl = th_sl(h);
	int lfd = th_listen(h, 80, 8);
	struct tcp_opts syn = th_mss_opts(1460);
	syn.has_ts = true;
	syn.ts_val = syn_ts;
	th_send(h, TCP_FLAG_SYN, h->irs, 0, 65535, &syn, NULL, 0);
	struct th_seg s = th_expect(h, SYNACK, TH_ANY, h->irs + 1, TH_ANY, TH_ANY_OPTS, 0);
	h->iss = s.hdr.seq;
	*tsv = s.hdr.opts.ts_val;
	struct tcp_opts o = ts_opts(syn_ts + 1, *tsv);
	th_send(h, TCP_FLAG_ACK, h->irs + 1, h->iss + 1, 65535, &o, NULL, 0);
	struct sockaddr_in peer;
	int fd = ts_accept(sl, lfd, &peer, SOCK_NONBLOCK);
	assert_true(fd >= 0);
	return fd;
}

/* TS.Recent across a hole (RFC 7323 4.3): out-of-order segments do not update it, so the
 * duplicate ACKs echo the last in-order TSval; the retransmission that fills the hole
 * (SEG.SEQ = Last.ACK.sent) does, so its ACK echoes the retransmission's TSval. Echoing an
 * older value would make the sender measure the whole recovery time as one RTT. */
static void test_ts_recent_across_a_hole(void **state)
{
	struct th *h = *state;
	uint32_t tsv;
	ts_established(h, 10, &tsv);
	struct tcp_opts o;
	uint8_t d[100];
	memset(d, 'h', sizeof(d));

	o = ts_opts(12, tsv);
	th_send(h, TCP_FLAG_ACK, h->irs + 1, h->iss + 1, 65535, &o, d, 100);
	assert_true(th_advance_until_seg(h, 200) >= 0);
	struct tcp_opts want = ts_opts(0, 12);
	th_expect(h, TCP_FLAG_ACK, h->iss + 1, h->irs + 101, TH_ANY, &want, 0);

	/* [201,301) with TSval 14 while [101,201) (TSval 13) was lost: dup ACK echoes 12. */
	o = ts_opts(14, tsv);
	th_send(h, TCP_FLAG_ACK, h->irs + 201, h->iss + 1, 65535, &o, d, 100);
	th_expect(h, TCP_FLAG_ACK, h->iss + 1, h->irs + 101, TH_ANY, &want, 0);

	/* 1.5 s later the retransmission of [101,201) with TSval 1514: echoed. */
	th_advance(h, 1500);
	o = ts_opts(1514, tsv);
	th_send(h, TCP_FLAG_ACK, h->irs + 101, h->iss + 1, 65535, &o, d, 100);
	want = ts_opts(0, 1514);
	th_expect(h, TCP_FLAG_ACK, h->iss + 1, h->irs + 301, TH_ANY, &want, 0);
}

/* A peer MSS above our own MTU is clamped to what our link carries (1460). */
static void test_large_peer_mss_clamped(void **state)
{
	struct th *h = *state;
	struct socket_layer *sl = th_sl(h);
	int lfd = th_listen(h, 80, 8);
	struct tcp_opts syn = th_mss_opts(9000);
	int fd = th_open_passive(h, lfd, &syn, 65535);
	int one = 1;
	assert_int_equal(ts_setsockopt(sl, fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)), 0);
	static uint8_t buf[3000];
	assert_int_equal(ts_send(sl, fd, buf, sizeof(buf), 0), 3000);
	th_expect(h, TCP_FLAG_ACK | TH_PSH_ANY, h->iss + 1, h->irs + 1, TH_ANY, NULL, 1460);
	th_expect(h, TCP_FLAG_ACK | TH_PSH_ANY, h->iss + 1461, h->irs + 1, TH_ANY, NULL, 1460);
	th_expect(h, TCP_FLAG_ACK | TH_PSH_ANY, h->iss + 2921, h->irs + 1, TH_ANY, NULL, 80);
}

/* A tiny peer MSS (8 bytes) does not make the stack cut its data into 8-byte segments:
 * Linux clamps the send MSS to at least 48 bytes (tcp_min_snd_mss, after CVE-2019-11479),
 * so a hostile peer cannot multiply the segment count. The data still arrives in order. */
static void test_tiny_peer_mss_clamped(void **state)
{
	struct th *h = *state;
	struct socket_layer *sl = th_sl(h);
	int lfd = th_listen(h, 80, 8);
	struct tcp_opts syn = th_mss_opts(8);
	int fd = th_open_passive(h, lfd, &syn, 65535);
	int one = 1;
	assert_int_equal(ts_setsockopt(sl, fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)), 0);
	static uint8_t buf[480];
	assert_int_equal(ts_send(sl, fd, buf, sizeof(buf), 0), 480);
	struct th_seg s;
	uint32_t sent = 0, segs = 0;
	while (th_pop_seg(h, &s)) {
		assert_int_equal(s.hdr.seq, h->iss + 1 + sent);
		sent += s.len;
		segs++;
	}
	assert_true(sent > 0);
	if (segs > 0 && sent / segs < 48)
		fail_msg("%u segments for %u bytes: the peer's MSS of 8 was used as is (Linux: at least 48)",
		         segs, sent);
}

/* A window scale above 14 in the SYN is taken as 14 (RFC 7323 2.3): a window of 1 then
 * means 16384 bytes, not 2^15 or more. */
static void test_wscale_above_14_clamped(void **state)
{
	struct th *h = *state;
	struct socket_layer *sl = th_sl(h);
	int lfd = th_listen(h, 80, 8);
	struct tcp_opts syn = th_mss_opts(1460);
	syn.has_wscale = true;
	syn.wscale = 20;
	th_send(h, TCP_FLAG_SYN, h->irs, 0, 65535, &syn, NULL, 0);
	struct th_seg s = th_expect(h, SYNACK, TH_ANY, h->irs + 1, TH_ANY, TH_ANY_OPTS, 0);
	h->iss = s.hdr.seq;
	th_send(h, TCP_FLAG_ACK, h->irs + 1, h->iss + 1, 1, NULL, NULL, 0);   /* 1 << 14 = 16384 */
	struct sockaddr_in peer;
	int fd = ts_accept(sl, lfd, &peer, SOCK_NONBLOCK);
	assert_true(fd >= 0);
	int one = 1;
	assert_int_equal(ts_setsockopt(sl, fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)), 0);
	int sndbuf = 65536;   /* so the send buffer is not what limits the flight */
	assert_int_equal(ts_setsockopt(sl, fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf)), 0);
	static uint8_t buf[40000];
	uint32_t queued = 0;
	/* The peer ACKs everything that arrives but keeps its window field at 1: the stack may
	 * never be more than 16384 bytes beyond the last ACK, however large cwnd grows. */
	uint32_t acked = 0, top = 0;
	for (int i = 0; i < 60 && acked < 40000; i++) {
		ssize_t q = ts_send(sl, fd, buf, sizeof(buf) - queued, 0);
		if (q > 0)
			queued += (uint32_t)q;
		while (th_pop_seg(h, &s)) {
			uint32_t end = s.hdr.seq + s.len - (h->iss + 1);
			if (end > acked + 16384)
				fail_msg("sent up to %u with %u acknowledged: beyond a window of 1 << 14", end, acked);
			top = end > top ? end : top;
		}
		if (top > acked) {
			acked = top;
			th_send(h, TCP_FLAG_ACK, h->irs + 1, h->iss + 1 + acked, 1, NULL, NULL, 0);
		} else {
			th_advance(h, 300);
		}
	}
	assert_true(acked > 16384);
}

/*
 * A segment whose ACK acknowledges data never sent is dropped (silently, as Linux) and
 * must not update TS.Recent (Linux: only past tcp_ack's checks): otherwise its TSval, here
 * far ahead, would make PAWS drop the peer's next good segment (ts_recent/invalid_ack.pkt
 * in google/packetdrill is the same exchange).
 */
static void test_ack_of_unsent_data_keeps_ts_recent(void **state)
{
	struct th *h = *state;
	struct socket_layer *sl = th_sl(h);
	uint32_t tsv;
	int fd = ts_established(h, 100, &tsv);
	struct tcp_opts o;

	/* ACK 1000 bytes we never sent, TSval 5000: dropped without an answer. */
	uint64_t before = th_counter(h, "tcp", "drop_ack_unsent");
	o = ts_opts(5000, tsv);
	th_send(h, TCP_FLAG_ACK, h->irs + 1, h->iss + 1001, 65535, &o, NULL, 0);
	th_expect_none(h);
	assert_int_equal(th_counter(h, "tcp", "drop_ack_unsent"), before + 1);

	/* The peer's next real segment (TSval 102 < 5000) passes PAWS and is taken. */
	th_advance(h, 600);
	o = ts_opts(102, tsv);
	th_send(h, TCP_FLAG_ACK | TCP_FLAG_PSH, h->irs + 1, h->iss + 1, 65535, &o, "data", 4);
	assert_true(th_advance_until_seg(h, 200) >= 0);
	struct tcp_opts want = ts_opts(0, 102);
	th_expect(h, TCP_FLAG_ACK, h->iss + 1, h->irs + 5, TH_ANY, &want, 0);
	char buf[8];
	assert_int_equal(ts_recv(sl, fd, buf, sizeof(buf), 0), 4);
	assert_int_equal(th_counter(h, "tcp", "drop_paws"), 0);
}

/*
 * TCP_MAXSEG set on a socket that is already listening reaches the next SYN-ACK and the
 * connections it accepts (Linux: the request inherits the listener's user_mss), and is
 * refused outside 88..65535 with EINVAL.
 */
static void test_maxseg_on_listener_reaches_synack(void **state)
{
	struct th *h = *state;
	struct socket_layer *sl = th_sl(h);
	int lfd = th_listen(h, 80, 8);
	int mss = 1000;
	assert_int_equal(ts_setsockopt(sl, lfd, IPPROTO_TCP, TCP_MAXSEG, &mss, sizeof(mss)), 0);
	int bad = 40;
	assert_int_equal(ts_setsockopt(sl, lfd, IPPROTO_TCP, TCP_MAXSEG, &bad, sizeof(bad)), -EINVAL);
	struct tcp_opts syn = th_mss_opts(1460);
	th_send(h, TCP_FLAG_SYN, h->irs, 0, 65535, &syn, NULL, 0);
	th_poll(h);
	struct th_seg sa;
	assert_true(th_pop_seg(h, &sa));
	assert_int_equal(sa.hdr.flags, TCP_FLAG_SYN | TCP_FLAG_ACK);
	h->iss = sa.hdr.seq;
	assert_true(sa.hdr.opts.has_mss);
	assert_int_equal(sa.hdr.opts.mss, 1000);
	th_send(h, TCP_FLAG_ACK, h->irs + 1, h->iss + 1, 65535, NULL, NULL, 0);
	th_poll(h);
	struct sockaddr_in peer;
	int fd = ts_accept(sl, lfd, &peer, SOCK_NONBLOCK);
	assert_true(fd >= 0);
	int got = 0;
	socklen_t len = sizeof(got);
	assert_int_equal(ts_getsockopt(sl, fd, IPPROTO_TCP, TCP_MAXSEG, &got, &len), 0);
	assert_int_equal(got, 1000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_timestamps_and_paws, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_ts_recent_across_a_hole, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_window_scale, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_sack_blocks, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_no_sack_without_permission, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_peer_mss_bounds_segments, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_data_with_sack_blocks_fits_mtu, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_large_peer_mss_clamped, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_tiny_peer_mss_clamped, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_wscale_above_14_clamped, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_maxseg_on_listener_reaches_synack, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_ack_of_unsent_data_keeps_ts_recent, th_setup, th_teardown),
	};
	return cmocka_run_group_tests_name("tcp_options", tests, NULL, NULL);
}
