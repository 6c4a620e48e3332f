/*
 * test_tcp_close.c - connection teardown, frame by frame (RFC 9293 3.6, 3.10.4, 3.10.7.4
 * "eighth, check the FIN bit"; Linux's TIME-WAIT of 60 s and RST on close with unread data).
 *
 *   passive:      ESTABLISHED -FIN-> CLOSE-WAIT -close-> LAST-ACK -ACK-> CLOSED
 *   active:       ESTABLISHED -close-> FIN-WAIT-1 -ACK-> FIN-WAIT-2 -FIN-> TIME-WAIT -60 s-> CLOSED
 *   simultaneous: FIN-WAIT-1 -FIN-> CLOSING -ACK-> TIME-WAIT
 *   both at once: FIN-WAIT-1 -FIN+ACK-> TIME-WAIT
 *   half-close:   shutdown(SHUT_WR) still receives in FIN-WAIT-2
 *   abort:        close() with unread data sends RST|ACK
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "socket/socket.h"
#include "helpers/tcp_harness.h"

#define FINACK (TCP_FLAG_FIN | TCP_FLAG_ACK)

/* Expects the ACK of everything up to rel (relative to irs), allowing a delayed ACK. */
static void expect_ack_soon(struct th *h, uint32_t snd_rel, uint32_t rcv_rel)
{
	if (th_advance_until_seg(h, 200) < 0)
		fail_msg("no ACK within 200 ms");
	th_expect(h, TCP_FLAG_ACK, h->iss + snd_rel, h->irs + rcv_rel, TH_ANY, NULL, 0);
}

static const char wbuf_x[1000] = { 0 };

/* Active close of a connection with nothing unsent: close() sends FIN|ACK at once (RFC 9293
 * 3.10.4, ESTABLISHED -> FIN-WAIT-1). */
static void close_expect_fin(struct th *h, int fd)
{
	assert_int_equal(ts_close(th_sl(h), fd), 0);
	th_expect(h, FINACK, h->iss + 1, h->irs + 1, TH_ANY, NULL, 0);
}

/* After CLOSED the 4-tuple is unknown: an ACK gets RST with SEQ = SEG.ACK. */
static void expect_gone(struct th *h, uint32_t snd_rel, uint32_t rcv_rel)
{
	assert_null(th_state(h, h->peer_port));
	th_send(h, TCP_FLAG_ACK, h->irs + rcv_rel, h->iss + snd_rel, 65535, NULL, NULL, 0);
	th_expect(h, TCP_FLAG_RST, h->iss + snd_rel, 0, 0, NULL, 0);
}

/* Data after close() (FIN-WAIT-1, the FIN not yet acknowledged): nobody will read it, so
 * the connection is reset (RFC 1122 4.2.2.13) and the segment answered as Linux answers
 * it, with RST at SEQ = SEG.ACK and no ACK (user_timeout/user_timeout.pkt in
 * google/packetdrill), counted as AbortOnData; the 4-tuple is gone. */
static void test_data_after_close_resets(void **state)
{
	struct th *h = *state;
	int fd = th_established(h);
	uint64_t before = th_counter(h, "tcp", "AbortOnData");
	close_expect_fin(h, fd);
	th_assert_state(h, TH_PEER_PORT, "FIN-WAIT-1");
	th_send(h, TCP_FLAG_ACK | TCP_FLAG_PSH, h->irs + 1, h->iss + 1, 65535, NULL, "x", 1);
	th_expect(h, TCP_FLAG_RST, h->iss + 1, 0, 0, NULL, 0);
	th_expect_none(h);
	assert_int_equal(th_counter(h, "tcp", "AbortOnData"), before + 1);
	expect_gone(h, 2, 2);
}

/* The peer resends data we have, with its FIN: the FIN is new, so this is no pure
 * retransmission. As Linux (tcp_fin resets the SACK state, then enters pingpong mode), the
 * D-SACK the old bytes earned is dropped with the stream's end, and the ACK of the FIN
 * waits for the delayed-ACK timer, without a SACK option (selftests' tcp_close_no_rst). */
static void test_fin_with_old_data_no_dsack(void **state)
{
	struct th *h = *state;
	struct socket_layer *sl = th_sl(h);
	int lfd = th_listen(h, 80, 8);
	struct tcp_opts o = th_mss_opts(1000);
	o.sack_ok = true;
	int fd = th_open_passive(h, lfd, &o, 32792);
	th_send(h, TCP_FLAG_ACK, h->irs + 1, h->iss + 1, 32792, NULL, wbuf_x, 1000);
	th_expect(h, TCP_FLAG_ACK, h->iss + 1, h->irs + 1001, TH_ANY, NULL, 0);
	char buf[1000];
	assert_int_equal(ts_recv(sl, fd, buf, sizeof(buf), 0), 1000);
	th_send(h, FINACK, h->irs + 1, h->iss + 1, 32792, NULL, wbuf_x, 1000);
	th_expect_none(h);
	assert_true(th_advance_until_seg(h, 200) <= 40);
	th_expect(h, TCP_FLAG_ACK, h->iss + 1, h->irs + 1002, TH_ANY, NULL, 0); /* NULL: no options */
	th_assert_state(h, TH_PEER_PORT, "CLOSE-WAIT");
}

/* A FIN that arrives while the unread data holds more memory than the receive buffer
 * (here SO_RCVBUF shrank under it) is taken, and its ACK goes at once: Linux accepts a
 * bare FIN even when memory is short, to break a FIN/ACK loop with stacks that send FINs
 * into a closed window (selftests' tcp_rcv_zero_wnd_fin). */
static void test_fin_over_full_buffer_acked_at_once(void **state)
{
	struct th *h = *state;
	struct socket_layer *sl = th_sl(h);
	int fd = th_established(h);
	for (uint32_t k = 0; k < 3; k++) {
		th_send(h, TCP_FLAG_ACK, h->irs + 1 + k * 1000, h->iss + 1, 65535, NULL, wbuf_x, 1000);
		th_drain(h);
	}
	int small = 1024;
	assert_int_equal(ts_setsockopt(sl, fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small)), 0);
	th_drain(h);
	th_send(h, FINACK, h->irs + 3001, h->iss + 1, 65535, NULL, NULL, 0);
	th_expect(h, TCP_FLAG_ACK, h->iss + 1, h->irs + 3002, TH_ANY, NULL, 0);
	th_assert_state(h, TH_PEER_PORT, "CLOSE-WAIT");
	char buf[4000];
	assert_int_equal(ts_recv(sl, fd, buf, sizeof(buf), 0), 3000);
	assert_int_equal(ts_recv(sl, fd, buf, sizeof(buf), 0), 0);
}

/* Passive close: the peer's FIN is ACKed, recv() says end of stream, the socket is still
 * writable (CLOSE-WAIT), close() sends FIN, the last ACK closes. LAST-ACK retransmits
 * its FIN while unacknowledged. */
static void test_passive_close(void **state)
{
	struct th *h = *state;
	struct socket_layer *sl = th_sl(h);
	int fd = th_established(h);

	th_send(h, FINACK, h->irs + 1, h->iss + 1, 65535, NULL, NULL, 0);
	expect_ack_soon(h, 1, 2);
	th_assert_state(h, TH_PEER_PORT, "CLOSE-WAIT");
	char buf[8];
	assert_int_equal(ts_recv(sl, fd, buf, sizeof(buf), 0), 0);
	assert_true(ts_revents(sl, fd) & POLLIN);

	/* Half-open the other way: we may still send. */
	assert_int_equal(ts_send(sl, fd, "bye", 3, 0), 3);
	th_expect(h, TCP_FLAG_ACK | TH_PSH_ANY, h->iss + 1, h->irs + 2, TH_ANY, NULL, 3);
	th_send(h, TCP_FLAG_ACK, h->irs + 2, h->iss + 4, 65535, NULL, NULL, 0);
	th_expect_none(h);

	assert_int_equal(ts_close(sl, fd), 0);
	th_expect(h, FINACK, h->iss + 4, h->irs + 2, TH_ANY, NULL, 0);
	th_assert_state(h, TH_PEER_PORT, "LAST-ACK");

	/* Unacknowledged: the FIN is retransmitted. */
	if (th_advance_until_seg(h, 5000) < 0)
		fail_msg("FIN in LAST-ACK never retransmitted");
	th_expect(h, FINACK, h->iss + 4, h->irs + 2, TH_ANY, NULL, 0);

	th_send(h, TCP_FLAG_ACK, h->irs + 2, h->iss + 5, 65535, NULL, NULL, 0);
	th_expect_none(h);
	expect_gone(h, 5, 2);
}

/* Active close: FIN-WAIT-1, FIN-WAIT-2 (nothing sent on the ACK), TIME-WAIT on the peer's
 * FIN, which is ACKed; a retransmitted FIN in TIME-WAIT is ACKed again; TIME-WAIT lasts
 * 60 s (restarted by that FIN, RFC 9293 3.10.7.4), then the connection is gone. */
static void test_active_close_time_wait(void **state)
{
	struct th *h = *state;
	int fd = th_established(h);

	close_expect_fin(h, fd);
	th_expect_none(h);
	th_assert_state(h, TH_PEER_PORT, "FIN-WAIT-1");

	th_send(h, TCP_FLAG_ACK, h->irs + 1, h->iss + 2, 65535, NULL, NULL, 0);
	th_expect_none(h);
	th_assert_state(h, TH_PEER_PORT, "FIN-WAIT-2");

	th_advance(h, 5000);
	th_expect_none(h);
	th_send(h, FINACK, h->irs + 1, h->iss + 2, 65535, NULL, NULL, 0);
	th_expect(h, TCP_FLAG_ACK, h->iss + 2, h->irs + 2, TH_ANY, NULL, 0);
	th_assert_state(h, TH_PEER_PORT, "TIME-WAIT");

	th_advance(h, 30000);
	th_assert_state(h, TH_PEER_PORT, "TIME-WAIT");
	/* Our ACK was lost: the peer retransmits its FIN; we ACK again and restart 2MSL. */
	th_send(h, FINACK, h->irs + 1, h->iss + 2, 65535, NULL, NULL, 0);
	th_expect(h, TCP_FLAG_ACK, h->iss + 2, h->irs + 2, TH_ANY, NULL, 0);
	th_advance(h, 59000);
	th_assert_state(h, TH_PEER_PORT, "TIME-WAIT");
	th_expect_none(h);
	th_advance(h, 1500);
	th_expect_none(h);
	expect_gone(h, 2, 2);
}

/* TIME-WAIT expires after exactly 60 s when nothing arrives. */
static void test_time_wait_expiry_60s(void **state)
{
	struct th *h = *state;
	int fd = th_established(h);
	close_expect_fin(h, fd);
	/* The peer ACKs our FIN and sends its own in one segment: straight to TIME-WAIT. */
	th_send(h, FINACK, h->irs + 1, h->iss + 2, 65535, NULL, NULL, 0);
	th_expect(h, TCP_FLAG_ACK, h->iss + 2, h->irs + 2, TH_ANY, NULL, 0);
	th_assert_state(h, TH_PEER_PORT, "TIME-WAIT");
	th_advance(h, 59900);
	th_assert_state(h, TH_PEER_PORT, "TIME-WAIT");
	th_advance(h, 200);
	assert_null(th_state(h, TH_PEER_PORT));
	th_expect_none(h);
	expect_gone(h, 2, 2);
}

/* Simultaneous close: both FINs cross. FIN-WAIT-1 + FIN (not acking ours) -> CLOSING with
 * an ACK of the FIN; the ACK of our FIN -> TIME-WAIT; 60 s later gone. */
static void test_simultaneous_close(void **state)
{
	struct th *h = *state;
	int fd = th_established(h);

	close_expect_fin(h, fd);
	th_assert_state(h, TH_PEER_PORT, "FIN-WAIT-1");

	th_send(h, FINACK, h->irs + 1, h->iss + 1, 65535, NULL, NULL, 0);
	th_expect(h, TCP_FLAG_ACK, h->iss + 2, h->irs + 2, TH_ANY, NULL, 0);
	th_assert_state(h, TH_PEER_PORT, "CLOSING");

	th_send(h, TCP_FLAG_ACK, h->irs + 2, h->iss + 2, 65535, NULL, NULL, 0);
	th_expect_none(h);
	th_assert_state(h, TH_PEER_PORT, "TIME-WAIT");
	th_advance(h, 60100);
	th_expect_none(h);
	expect_gone(h, 2, 2);
}

/* In CLOSING the unacknowledged FIN is retransmitted. */
static void test_closing_retransmits_fin(void **state)
{
	struct th *h = *state;
	int fd = th_established(h);
	close_expect_fin(h, fd);
	th_send(h, FINACK, h->irs + 1, h->iss + 1, 65535, NULL, NULL, 0);
	th_expect(h, TCP_FLAG_ACK, h->iss + 2, h->irs + 2, TH_ANY, NULL, 0);
	if (th_advance_until_seg(h, 5000) < 0)
		fail_msg("FIN never retransmitted in CLOSING");
	th_expect(h, FINACK, h->iss + 1, h->irs + 2, TH_ANY, NULL, 0);
	th_assert_state(h, TH_PEER_PORT, "CLOSING");
}

/* Half-close: shutdown(SHUT_WR) sends FIN; data still arrives in FIN-WAIT-2 and is read;
 * send() now fails with EPIPE; the peer's FIN ends the stream. */
static void test_half_close_receives(void **state)
{
	struct th *h = *state;
	struct socket_layer *sl = th_sl(h);
	int fd = th_established(h);

	assert_int_equal(ts_shutdown(sl, fd, SHUT_WR), 0);
	th_expect(h, FINACK, h->iss + 1, h->irs + 1, TH_ANY, NULL, 0);
	th_send(h, TCP_FLAG_ACK, h->irs + 1, h->iss + 2, 65535, NULL, NULL, 0);
	th_assert_state(h, TH_PEER_PORT, "FIN-WAIT-2");
	assert_int_equal(ts_send(sl, fd, "x", 1, 0), -EPIPE);

	th_send(h, TCP_FLAG_ACK | TCP_FLAG_PSH, h->irs + 1, h->iss + 2, 65535, NULL, "response", 8);
	expect_ack_soon(h, 2, 9);
	th_send(h, FINACK, h->irs + 9, h->iss + 2, 65535, NULL, NULL, 0);
	th_expect(h, TCP_FLAG_ACK, h->iss + 2, h->irs + 10, TH_ANY, NULL, 0);
	char buf[16];
	assert_int_equal(ts_recv(sl, fd, buf, sizeof(buf), 0), 8);
	assert_memory_equal(buf, "response", 8);
	assert_int_equal(ts_recv(sl, fd, buf, sizeof(buf), 0), 0);
	th_assert_state(h, TH_PEER_PORT, "TIME-WAIT");
	assert_int_equal(ts_close(sl, fd), 0);
	th_expect_none(h);
}

/* close() with unread data aborts (RFC 2525 2.17, as Linux): RST|ACK at SND.NXT acking all
 * received data, no FIN; the connection is gone at once. */
static void test_close_with_unread_data_sends_rst(void **state)
{
	struct th *h = *state;
	struct socket_layer *sl = th_sl(h);
	int fd = th_established(h);
	th_send(h, TCP_FLAG_ACK | TCP_FLAG_PSH, h->irs + 1, h->iss + 1, 65535, NULL, "unread!", 7);
	th_advance(h, 300);
	th_drain(h);   /* the (delayed) ACK of the data */

	assert_int_equal(ts_close(sl, fd), 0);
	th_expect(h, TCP_FLAG_RST | TCP_FLAG_ACK, h->iss + 1, h->irs + 8, TH_ANY, NULL, 0);
	th_expect_none(h);
	assert_null(th_state(h, TH_PEER_PORT));
	th_send(h, TCP_FLAG_ACK, h->irs + 8, h->iss + 1, 65535, NULL, NULL, 0);
	th_expect(h, TCP_FLAG_RST, h->iss + 1, 0, 0, NULL, 0);
	assert_int_equal(th_counter(h, "tcp", "EstabResets"), 1);
}

/* A RST in CLOSE-WAIT closes the connection; send then reports the reset. */
static void test_rst_in_close_wait(void **state)
{
	struct th *h = *state;
	struct socket_layer *sl = th_sl(h);
	int fd = th_established(h);
	th_send(h, FINACK, h->irs + 1, h->iss + 1, 65535, NULL, NULL, 0);
	expect_ack_soon(h, 1, 2);
	th_assert_state(h, TH_PEER_PORT, "CLOSE-WAIT");
	th_send(h, TCP_FLAG_RST, h->irs + 2, 0, 0, NULL, NULL, 0);
	th_expect_none(h);
	assert_null(th_state(h, TH_PEER_PORT));
	ssize_t r = ts_send(sl, fd, "x", 1, 0);
	assert_true(r == -ECONNRESET || r == -EPIPE);
	ts_close(sl, fd);
	th_expect_none(h);
}

/* A new SYN for a 4-tuple in TIME-WAIT with a sequence number above the old RCV.NXT starts
 * a new connection (RFC 1122 4.2.2.13, as Linux's TCP_TW_SYN): the listener answers with a
 * SYN-ACK and the new connection completes. */
static void test_syn_reuses_time_wait(void **state)
{
	struct th *h = *state;
	struct socket_layer *sl = th_sl(h);
	int lfd = th_listen(h, 80, 8);
	struct tcp_opts mss = th_mss_opts(1460);
	int fd = th_open_passive(h, lfd, &mss, 65535);
	close_expect_fin(h, fd);
	th_send(h, FINACK, h->irs + 1, h->iss + 2, 65535, NULL, NULL, 0);
	th_expect(h, TCP_FLAG_ACK, h->iss + 2, h->irs + 2, TH_ANY, NULL, 0);
	th_assert_state(h, TH_PEER_PORT, "TIME-WAIT");

	th_advance(h, 1000);
	h->irs += 100000;
	(void)th_syn_synack(h, &mss);
	th_send(h, TCP_FLAG_ACK, h->irs + 1, h->iss + 1, 65535, NULL, NULL, 0);
	th_expect_none(h);
	struct sockaddr_in peer;
	assert_true(ts_accept(sl, lfd, &peer, SOCK_NONBLOCK) >= 0);
	th_assert_state(h, TH_PEER_PORT, "ESTABLISHED");
}

/* Data after the peer's FIN is not part of the stream (RFC 9293 3.10.7.4: the FIN ends it);
 * recv() keeps reporting end of stream. */
static void test_data_after_fin_ignored(void **state)
{
	struct th *h = *state;
	struct socket_layer *sl = th_sl(h);
	int fd = th_established(h);
	th_send(h, FINACK, h->irs + 1, h->iss + 1, 65535, NULL, NULL, 0);
	expect_ack_soon(h, 1, 2);
	th_send(h, TCP_FLAG_ACK | TCP_FLAG_PSH, h->irs + 2, h->iss + 1, 65535, NULL, "late", 4);
	th_advance(h, 300);
	struct th_seg s;
	while (th_pop_seg(h, &s))
		assert_int_equal(s.hdr.ack, h->irs + 2);
	char buf[8];
	assert_int_equal(ts_recv(sl, fd, buf, sizeof(buf), 0), 0);
	assert_int_equal(ts_recv(sl, fd, buf, sizeof(buf), 0), 0);
}

/* Data still queued when close() is called leaves first, and the FIN rides on its last
 * segment ([FP.], as Linux); here the peer's window is closed until after close(). */
static void test_fin_piggybacked_on_queued_data(void **state)
{
	struct th *h = *state;
	struct socket_layer *sl = th_sl(h);
	int fd = th_established(h);
	th_send(h, TCP_FLAG_ACK, h->irs + 1, h->iss + 1, 0, NULL, NULL, 0);   /* window 0 */
	assert_int_equal(ts_send(sl, fd, "0123456789", 10, 0), 10);
	th_expect_none(h);
	assert_int_equal(ts_close(sl, fd), 0);
	th_expect_none(h);
	th_send(h, TCP_FLAG_ACK, h->irs + 1, h->iss + 1, 65535, NULL, NULL, 0);
	struct th_seg s = th_expect(h, FINACK | TH_PSH_ANY, h->iss + 1, h->irs + 1, TH_ANY, NULL, 10);
	assert_memory_equal(s.payload, "0123456789", 10);
	th_send(h, TCP_FLAG_ACK, h->irs + 1, h->iss + 12, 65535, NULL, NULL, 0);
	th_expect_none(h);
	th_assert_state(h, TH_PEER_PORT, "FIN-WAIT-2");
}

/* SO_LINGER with a zero timeout: close() aborts with a RST at once, even with nothing unread. */
static void test_linger_zero_sends_rst(void **state)
{
	struct th *h = *state;
	struct socket_layer *sl = th_sl(h);
	int fd = th_established(h);
	struct linger lg = {.l_onoff = 1, .l_linger = 0};
	assert_int_equal(ts_setsockopt(sl, fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)), 0);
	assert_int_equal(ts_close(sl, fd), 0);
	th_expect(h, TCP_FLAG_RST | TCP_FLAG_ACK, h->iss + 1, h->irs + 1, TH_ANY, NULL, 0);
	th_expect_none(h);
	assert_null(th_state(h, TH_PEER_PORT));
}

/* After the peer's FIN the socket polls readable with POLLRDHUP (Linux), still writable. */
static void test_poll_after_fin(void **state)
{
	struct th *h = *state;
	struct socket_layer *sl = th_sl(h);
	int fd = th_established(h);
	short ev = ts_revents(sl, fd);
	assert_false(ev & (POLLIN | POLLRDHUP | POLLHUP | POLLERR));
	assert_true(ev & POLLOUT);
	th_send(h, FINACK, h->irs + 1, h->iss + 1, 65535, NULL, NULL, 0);
	ev = ts_revents(sl, fd);
	assert_true(ev & POLLIN);
	assert_true(ev & POLLRDHUP);
	assert_true(ev & POLLOUT);
	assert_false(ev & (POLLHUP | POLLERR));
}

/* After a RST: the first recv reports ECONNRESET, later ones end of stream (Linux: the
 * error is reported once, then the socket is shut down both ways); send reports EPIPE;
 * poll shows POLLHUP. */
static void test_errors_after_rst(void **state)
{
	struct th *h = *state;
	struct socket_layer *sl = th_sl(h);
	int fd = th_established(h);
	th_send(h, TCP_FLAG_RST, h->irs + 1, 0, 0, NULL, NULL, 0);
	short ev = ts_revents(sl, fd);
	assert_true(ev & POLLHUP);
	assert_true(ev & (POLLERR | POLLIN));
	char b[4];
	assert_int_equal(ts_recv(sl, fd, b, sizeof(b), 0), -ECONNRESET);
	assert_int_equal(ts_recv(sl, fd, b, sizeof(b), 0), 0);
	assert_int_equal(ts_send(sl, fd, "x", 1, 0), -EPIPE);
	assert_int_equal(ts_close(sl, fd), 0);
	th_expect_none(h);
}

/* close() during the active open (SYN-SENT) just forgets the attempt: nothing is sent; the
 * late SYN-ACK then finds no connection and gets a RST with SEQ = SEG.ACK. */
static void test_close_in_syn_sent(void **state)
{
	struct th *h = *state;
	struct socket_layer *sl = th_sl(h);
	int fd = ts_socket(sl, AF_INET, SOCK_STREAM, 0);
	assert_true(fd >= 0);
	assert_int_equal(ts_set_nonblock(sl, fd, true), 0);
	struct sockaddr_in sa;
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons(80);
	sa.sin_addr.s_addr = htonl(TH_PEER_IP);
	assert_int_equal(ts_connect(sl, fd, &sa), -EINPROGRESS);
	struct th_seg syn;
	assert_true(th_pop_seg(h, &syn));
	h->local_port = syn.hdr.sport;
	h->peer_port = 80;
	h->iss = syn.hdr.seq;
	assert_int_equal(ts_close(sl, fd), 0);
	th_expect_none(h);
	assert_null(th_state(h, 80));
	assert_int_equal(th_advance_until_seg(h, 5000), -1);
	th_send(h, TCP_FLAG_SYN | TCP_FLAG_ACK, h->irs, h->iss + 1, 65535, NULL, NULL, 0);
	th_expect(h, TCP_FLAG_RST, h->iss + 1, 0, 0, NULL, 0);
}

/* An accepted connection outlives its listener. */
static void test_accepted_survives_listener_close(void **state)
{
	struct th *h = *state;
	struct socket_layer *sl = th_sl(h);
	int lfd = th_listen(h, 80, 8);
	struct tcp_opts mss = th_mss_opts(1460);
	int fd = th_open_passive(h, lfd, &mss, 65535);
	assert_int_equal(ts_close(sl, lfd), 0);
	th_expect_none(h);
	th_assert_state(h, TH_PEER_PORT, "ESTABLISHED");
	th_send(h, TCP_FLAG_ACK | TCP_FLAG_PSH, h->irs + 1, h->iss + 1, 65535, NULL, "ping", 4);
	char b[8];
	assert_int_equal(ts_recv(sl, fd, b, sizeof(b), 0), 4);
	assert_int_equal(ts_send(sl, fd, "pong", 4, 0), 4);
	th_drain(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_data_after_close_resets, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_fin_with_old_data_no_dsack, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_fin_over_full_buffer_acked_at_once, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_passive_close, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_active_close_time_wait, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_time_wait_expiry_60s, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_simultaneous_close, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_closing_retransmits_fin, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_half_close_receives, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_close_with_unread_data_sends_rst, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_rst_in_close_wait, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_syn_reuses_time_wait, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_data_after_fin_ignored, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_fin_piggybacked_on_queued_data, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_linger_zero_sends_rst, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_poll_after_fin, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_errors_after_rst, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_close_in_syn_sent, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_accepted_survives_listener_close, th_setup, th_teardown),
	};
	return cmocka_run_group_tests_name("tcp_close", tests, NULL, NULL);
}
