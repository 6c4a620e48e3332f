/*
 * test_tcp_rwnd.c - the receive window chosen from the receive buffer (stack/tcp/tcp_rwnd.c,
 * docs/tcp.md "The receive window"): Linux's truesize model, the SYN-ACK's window and scale
 * from SO_RCVBUF, the window after data (exact values, worked out in the comments with
 * Linux's formulas), the edge never taken back, segments that end beyond the window, and
 * the buffer growing with what the reader takes (stack/tcp/tcp_rcvbuf.c).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "helpers/tcp_harness.h"
#include "socket/socket.h"
#undef TCP_MSS_DEFAULT /* <netinet/tcp.h> has one too; tcp_int.h's is the same 536 */
#include "tcp/tcp_int.h"

/* What Linux's receive path spends on a datagram (IP header included). */
static void test_truesize_model(void **state)
{
	(void)state;
	assert_int_equal(tcp_truesize(140), 640 + 256);     /* the small-head cache */
	assert_int_equal(tcp_truesize(1063), 2048 + 256);   /* a 2 KiB kmalloc head */
	assert_int_equal(tcp_truesize(1500), 2048 + 256);
	assert_int_equal(tcp_truesize(4040), 4352 + 4096);  /* a page-sized head + one page */
	assert_int_equal(tcp_truesize(9040), 4352 + 8192);  /* + an order-1 chunk */
	assert_int_equal(tcp_truesize(10040), 4352 + 8192);
	assert_int_equal(tcp_truesize(14377), 4352 + 8192 + 4096);
	assert_int_equal(tcp_truesize(65535), 4352 + 32768 + 32768);
}

/* A listener with SO_RCVBUF = n (doubled to 2n, as Linux). */
static int listen_rcvbuf(struct th *h, int n)
{
	int lfd = th_listen(h, 80, 8);
	assert_int_equal(ts_setsockopt(th_sl(h), lfd, SOL_SOCKET, SO_RCVBUF, &n, sizeof(n)), 0);
	return lfd;
}

/*
 * The SYN-ACK's window (Linux tcp_select_initial_window): half the buffer, cut to whole
 * segments of our MSS less the timestamp option, at most 65535; the scale from the buffer
 * the connection may grow to (SO_RCVBUF when set, else tcp_rmem[2]).
 */
static void test_synack_window_from_rcvbuf(void **state)
{
	struct th *h = *state;
	struct tcp_opts o = th_mss_opts(1000);
	o.has_wscale = true;
	o.wscale = 7;
	/* SO_RCVBUF 10000: 20000 of memory, 10000 of window, 8760 in segments of 1460; no
	 * scale (10000 fits 16 bits). */
	int lfd = listen_rcvbuf(h, 10000);
	th_send(h, TCP_FLAG_SYN, h->irs, 0, 65535, &o, NULL, 0);
	struct th_seg s = th_expect(h, TCP_FLAG_SYN | TCP_FLAG_ACK, TH_ANY, h->irs + 1, 8760, TH_ANY_OPTS, 0);
	assert_true(s.hdr.opts.has_wscale);
	assert_int_equal(s.hdr.opts.wscale, 0);
	ts_close(th_sl(h), lfd);

	/* The default buffer (131072) with timestamps: 65536 in segments of 1448 is 65160; the
	 * scale is 7, for tcp_rmem[2] of 6 MiB. */
	h->peer_port++;
	h->local_port = 81;
	lfd = th_listen(h, 81, 8);
	o.has_ts = true;
	o.ts_val = 1;
	th_send(h, TCP_FLAG_SYN, h->irs, 0, 65535, &o, NULL, 0);
	s = th_expect(h, TCP_FLAG_SYN | TCP_FLAG_ACK, TH_ANY, h->irs + 1, 65160, TH_ANY_OPTS, 0);
	assert_int_equal(s.hdr.opts.wscale, 7);
	(void)lfd;
}

/* An established connection on a listener with SO_RCVBUF n; the SYN-ACK offered `syn_wnd`. */
static int open_rcvbuf(struct th *h, int n, uint32_t syn_wnd)
{
	int lfd = listen_rcvbuf(h, n);
	struct tcp_opts o = th_mss_opts(1000);
	int fd = th_open_passive(h, lfd, &o, 65535);
	assert_int_equal(h->synack_win, syn_wnd);
	return fd;
}

static uint8_t payload[2000];

/* The peer sends len bytes at relative seq rel; our ACK must say ack (relative) and win. */
#define exchange(h, rel, len, ack, win)                                                            \
	do {                                                                                       \
		th_send((h), TCP_FLAG_ACK, (h)->irs + 1 + (rel), (h)->iss + 1, 65535, NULL, payload, (len)); \
		th_expect((h), TCP_FLAG_ACK, (h)->iss + 1, (h)->irs + 1 + (ack), (win), NULL, 0);     \
	} while (0)

/*
 * The window after data, worked out as Linux does. Each 1000-byte segment (a 1040-byte
 * datagram) costs 2304 bytes of truesize, so the measured ratio is 1000 * 256 / 2304 = 111.
 * While the data waits unread the edge offered in the SYN-ACK (1 + 8760) is kept: the free
 * buffer would allow less, but an offer is not taken back. Once it is read, the free
 * buffer decides again: (20000 - 2304) * 111 / 256 = 7673 bytes, in whole segments of the
 * peer's 1000: win 7000.
 */
static void test_window_after_data(void **state)
{
	struct th *h = *state;
	struct socket_layer *sl = th_sl(h);
	uint8_t buf[4000];
	int fd = open_rcvbuf(h, 10000, 8760);

	exchange(h, 0, 1000, 1000, 7760);
	exchange(h, 1000, 1000, 2000, 6760);
	exchange(h, 2000, 1000, 3000, 5760);
	/* Reading frees it all, but 2 * 5760 is more than the clamp (20000 * 111 / 256 = 8671):
	 * no update yet (Linux __tcp_cleanup_rbuf). */
	assert_int_equal(ts_recv(sl, fd, buf, sizeof(buf), 0), 3000);
	th_expect_none(h);
	exchange(h, 3000, 1000, 4000, 7000);
}

/*
 * Linux's tcp_sequence: a segment that starts in the window but ends beyond it is dropped
 * while data waits to be read (BeyondWindow, an ACK); into an empty queue it would be taken
 * whole (the corpus's tcp_rcv_big_endseq.pkt shows that). SO_RCVBUF 3000: 6000 bytes of
 * memory, a SYN-ACK window of 2920. After 1000 bytes (ratio 111, clamp 6000 * 111 / 256 =
 * 2601) the free buffer allows (6000 - 2304) * 111 / 256 = 1602, so one segment, less than
 * the 1920 left of the offer, which is kept. After 2000 bytes only 603 would be free, less
 * than a segment: the window would close, and the 920 left of the offer are kept.
 * Quick-ACK mode covered one ACK only (the 2920 offered holds 1.46 pairs of the peer's
 * segments, Linux tcp_incr_quickack), so the second segment's ACK waits for the delayed-ACK
 * timer, as Linux 6.18 sends it (checked with packetdrill on this machine's kernel).
 */
static void test_segment_beyond_window(void **state)
{
	struct th *h = *state;
	struct socket_layer *sl = th_sl(h);
	uint8_t buf[4000];
	int fd = open_rcvbuf(h, 3000, 2920);

	exchange(h, 0, 1000, 1000, 1920);
	th_send(h, TCP_FLAG_ACK, h->irs + 1001, h->iss + 1, 65535, NULL, payload, 1000);
	th_expect_none(h);
	long t = th_advance_until_seg(h, 1000);
	assert_int_equal(t, 40);
	th_expect(h, TCP_FLAG_ACK, h->iss + 1, h->irs + 2001, 920, NULL, 0);
	/* 921 bytes from 2001 end one byte past the edge 2921: refused, the window repeated. */
	exchange(h, 2000, 921, 2000, 920);
	assert_int_equal(th_counter(h, "tcp", "BeyondWindow"), 1);
	assert_int_equal(ts_inq(sl, fd), 2000);
	/* Reading everything frees the buffer: 2601 free, in whole segments 2000, at least twice
	 * the 920 offered, so the window is announced at once (Linux __tcp_cleanup_rbuf). */
	assert_int_equal(ts_recv(sl, fd, buf, sizeof(buf), 0), 2000);
	th_expect(h, TCP_FLAG_ACK, h->iss + 1, h->irs + 2001, 2000, NULL, 0);
	/* Now it fits, and quick-ACK mode is over: its ACK is delayed too (Linux). */
	th_send(h, TCP_FLAG_ACK, h->irs + 2001, h->iss + 1, 65535, NULL, payload, 921);
	th_expect_none(h);
	assert_true(th_advance_until_seg(h, 1000) >= 40);
	th_expect(h, TCP_FLAG_ACK, h->iss + 1, h->irs + 2922, TH_ANY, NULL, 0);
	assert_int_equal(th_counter(h, "tcp", "BeyondWindow"), 1);
}

/*
 * Receive buffer auto-tuning (tcp_rcvbuf.c, Linux's DRS). The peer sends rounds of 8, 16, 24
 * and 32 segments 10 ms apart, each well inside the window (so tapstack's own rule, for a
 * peer that reaches the window's edge, never applies), each read in full. Returns the
 * connection's SO_RCVBUF after them; *rcv_rtt_us its receiver RTT.
 */
static int rcvbuf_after_rounds(struct th *h, int fd, uint32_t *rcv_rtt_us)
{
	struct socket_layer *sl = th_sl(h);
	uint8_t buf[65536];
	uint32_t rel = 0;
	for (uint32_t round = 1; round <= 4; round++) {
		for (uint32_t i = 0; i < 8 * round; i++, rel += 1000)
			th_send(h, TCP_FLAG_ACK, h->irs + 1 + rel, h->iss + 1, 65535, NULL, payload, 1000);
		th_drain(h);
		while (ts_recv(sl, fd, buf, sizeof(buf), 0) > 0)
			;
		th_drain(h);
		th_advance(h, 10);
		th_drain(h);
	}
	int v = 0;
	socklen_t vl = sizeof(v);
	assert_int_equal(ts_getsockopt(sl, fd, SOL_SOCKET, SO_RCVBUF, &v, &vl), 0);
	struct tcp_info ti;
	socklen_t tl = sizeof(ti);
	assert_int_equal(ts_getsockopt(sl, fd, IPPROTO_TCP, TCP_INFO, &ti, &tl), 0);
	*rcv_rtt_us = ti.tcpi_rcv_rtt;
	return v;
}

/* A reader that takes more each round trip gets a bigger buffer than the default 128 KiB
 * (Linux tcp_rcv_space_adjust), and the receiver's RTT is measured: the time the peer took
 * to fill a window we opened (here two to three rounds of 10 ms). */
static void test_rcvbuf_follows_the_reader(void **state)
{
	struct th *h = *state;
	int fd = th_open_passive(h, th_listen(h, 80, 8), &(struct tcp_opts){ .has_mss = true, .mss = 1000 }, 65535);
	uint32_t rtt;
	int v = rcvbuf_after_rounds(h, fd, &rtt);
	assert_true(v > 131072);
	assert_true(rtt >= 10000 && rtt <= 40000);
}

/* Not after SO_RCVBUF: the application chose the buffer (Linux's SOCK_RCVBUF_LOCK). */
static void test_rcvbuf_stays_when_set(void **state)
{
	struct th *h = *state;
	int fd = open_rcvbuf(h, 65536, 64240);
	uint32_t rtt;
	assert_int_equal(rcvbuf_after_rounds(h, fd, &rtt), 131072);
	assert_true(rtt > 0); /* measured all the same */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_truesize_model),
		cmocka_unit_test_setup_teardown(test_synack_window_from_rcvbuf, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_window_after_data, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_segment_beyond_window, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_rcvbuf_follows_the_reader, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_rcvbuf_stays_when_set, th_setup, th_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
