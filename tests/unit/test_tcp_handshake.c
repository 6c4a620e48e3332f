/*
 * test_tcp_handshake.c - the passive open, frame by frame (RFC 9293 3.5, 3.10.7.2; Linux's
 * listen/request-sock behaviour): the stack completes the handshake itself and accept()
 * only dequeues; the SYN-ACK's options answer the SYN's as Linux does; the SYN-ACK is
 * retransmitted at 1, 2, 4, 8, 16 s and the request dropped after 5 retries; a full accept
 * queue drops SYNs (ListenOverflows/ListenDrops) without a RST; data that arrives before
 * accept() is kept and ACKed. Also the active open: connect() with Linux's SYN options,
 * refused by a RST, and the SYN retransmission schedule ending in ETIMEDOUT.
 *
 * Every test but one plays the peer 10.0.0.1:40000 against a listener on 10.0.0.2:80
 * through the recording driver and the fake clock of tests/unit/helpers/tcp_harness.c;
 * test_cookie_clients_not_reset runs real clients on a second stack (helpers/stack_pair.h).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include <netinet/tcp.h>

#include "socket/socket.h"
#include "helpers/stack_pair.h"
#include "helpers/tcp_harness.h"

#define SYNACK (TCP_FLAG_SYN | TCP_FLAG_ACK)

/* SYN -> SYN-ACK -> ACK: accept() says -EAGAIN until the final ACK, then hands over an
 * established connection whose addresses are right; the final ACK is not answered. */
static void test_handshake_listen_accept(void **state)
{
	struct th *h = *state;
	struct socket_layer *sl = th_sl(h);
	int lfd = th_listen(h, 80, 16);
	struct sockaddr_in peer;

	assert_int_equal(ts_accept(sl, lfd, &peer, SOCK_NONBLOCK), -EAGAIN);
	assert_false(ts_revents(sl, lfd) & POLLIN);

	struct tcp_opts mss = th_mss_opts(1460);
	struct th_seg s = th_syn_synack(h, &mss);
	assert_true(s.hdr.win > 0);
	th_expect_none(h);
	th_assert_state(h, TH_PEER_PORT, "SYN-RECEIVED");

	/* Half-open: nothing to accept yet, and the listener is not readable. */
	assert_int_equal(ts_accept(sl, lfd, &peer, SOCK_NONBLOCK), -EAGAIN);
	assert_false(ts_revents(sl, lfd) & POLLIN);

	th_send(h, TCP_FLAG_ACK, h->irs + 1, h->iss + 1, 65535, NULL, NULL, 0);
	th_expect_none(h);
	th_assert_state(h, TH_PEER_PORT, "ESTABLISHED");
	assert_true(ts_revents(sl, lfd) & POLLIN);

	memset(&peer, 0, sizeof(peer));
	int fd = ts_accept(sl, lfd, &peer, SOCK_NONBLOCK);
	assert_true(fd >= 0);
	assert_int_equal(ntohl(peer.sin_addr.s_addr), TH_PEER_IP);
	assert_int_equal(ntohs(peer.sin_port), TH_PEER_PORT);
	struct sockaddr_in a;
	assert_int_equal(ts_getsockname(sl, fd, &a), 0);
	assert_int_equal(ntohl(a.sin_addr.s_addr), TH_LOCAL_IP);
	assert_int_equal(ntohs(a.sin_port), 80);
	assert_int_equal(ts_getpeername(sl, fd, &a), 0);
	assert_int_equal(ntohl(a.sin_addr.s_addr), TH_PEER_IP);
	assert_int_equal(ntohs(a.sin_port), TH_PEER_PORT);
	assert_true(ts_revents(sl, fd) & POLLOUT);
	assert_int_equal(ts_accept(sl, lfd, &peer, SOCK_NONBLOCK), -EAGAIN);

	/* The connection works: data in, ACK out, data readable. */
	th_send(h, TCP_FLAG_ACK | TCP_FLAG_PSH, h->irs + 1, h->iss + 1, 65535, NULL, "hello", 5);
	assert_true(th_advance_until_seg(h, 200) >= 0);
	th_expect(h, TCP_FLAG_ACK, h->iss + 1, h->irs + 6, TH_ANY, NULL, 0);
	char buf[16];
	assert_int_equal(ts_recv(sl, fd, buf, sizeof(buf), 0), 5);
	assert_memory_equal(buf, "hello", 5);

	assert_int_equal(th_counter(h, "tcp", "PassiveOpens"), 1);
}

/* A SYN with Linux's options gets MSS 1460 (MTU 1500 - 40), SACK-permitted, a timestamp
 * echoing the SYN's TSval and a window scale (RFC 7323 2.2, RFC 2018 2, RFC 9293 3.7.1). */
static void test_synack_options_linux_syn(void **state)
{
	struct th *h = *state;
	th_listen(h, 80, 16);
	struct tcp_opts o = th_linux_syn_opts(12345);
	th_send(h, TCP_FLAG_SYN, h->irs, 0, 64240, &o, NULL, 0);
	struct th_seg s = th_expect(h, SYNACK, TH_ANY, h->irs + 1, TH_ANY, TH_ANY_OPTS, 0);
	const struct tcp_opts *g = &s.hdr.opts;
	assert_true(g->has_mss);
	assert_int_equal(g->mss, 1460);
	assert_true(g->sack_ok);
	assert_true(g->has_ts);
	assert_int_equal(g->ts_ecr, 12345);
	assert_true(g->has_wscale);
	assert_true(g->wscale <= 14);   /* RFC 7323 2.3: at most 14 */
	assert_int_equal(g->sack_count, 0);
	/* RFC 7323 2.2: the window of a SYN-ACK is never scaled. */
	assert_true(s.hdr.win > 0);
}

/* ts_handshake(): what the SYN offered, what the SYN-ACK answered (compared with the frame
 * itself), and the moments of SYN, SYN-ACK, final ACK and accept() in the stack's clock. */
static void test_handshake_record(void **state)
{
	struct th *h = *state;
	struct socket_layer *sl = th_sl(h);
	int lfd = th_listen(h, 80, 16);
	struct tcp_opts o = th_linux_syn_opts(12345);
	usec_t t0 = h->now;
	th_send(h, TCP_FLAG_SYN, h->irs, 0, 64240, &o, NULL, 0);
	struct th_seg s = th_expect(h, SYNACK, TH_ANY, h->irs + 1, TH_ANY, TH_ANY_OPTS, 0);
	h->iss = s.hdr.seq;
	th_advance(h, 10);
	struct tcp_opts ts = { .has_ts = true, .ts_val = 12355, .ts_ecr = s.hdr.opts.ts_val };
	th_send(h, TCP_FLAG_ACK, h->irs + 1, h->iss + 1, 502, &ts, NULL, 0);
	th_advance(h, 5);
	struct sockaddr_in peer;
	int fd = ts_accept(sl, lfd, &peer, SOCK_NONBLOCK);
	assert_true(fd >= 0);

	struct ts_handshake hs;
	assert_int_equal(ts_handshake(sl, fd, &hs), 0);
	assert_int_equal(hs.client_isn, h->irs);
	assert_int_equal(hs.server_isn, h->iss);
	assert_int_equal(hs.syn_mss, 1460);
	assert_int_equal(hs.syn_win, 64240);
	assert_int_equal(hs.syn_wscale, 7);
	assert_true(hs.syn_sack && hs.syn_ts);
	assert_int_equal(hs.syn_tsval, 12345);
	assert_int_equal(hs.synack_mss, s.hdr.opts.mss);
	assert_int_equal(hs.synack_win, s.hdr.win);
	assert_int_equal(hs.synack_wscale, s.hdr.opts.wscale);
	assert_true(hs.synack_sack && hs.synack_ts);
	assert_int_equal(hs.syn_at_us, t0);
	assert_int_equal(hs.synack_at_us, t0);
	assert_int_equal(hs.ack_at_us - hs.syn_at_us, 10 * USEC_PER_MS);
	assert_int_equal(hs.accept_at_us - hs.ack_at_us, 5 * USEC_PER_MS);
	/* A listener is no connection; a bad descriptor is refused. */
	assert_int_equal(ts_handshake(sl, lfd, &hs), -ENOTCONN);
	assert_int_equal(ts_handshake(sl, 999, &hs), -EBADF);
}

/* A SYN without options: the SYN-ACK carries only MSS (always sent, RFC 9293 3.7.1), no
 * SACK-permitted, timestamps or window scale; the peer's MSS is then 536 (RFC 9293 3.7.1,
 * RFC 1122 4.2.2.6), so 1000 bytes leave as 536 + 464. */
static void test_synack_options_bare_syn(void **state)
{
	struct th *h = *state;
	struct socket_layer *sl = th_sl(h);
	int lfd = th_listen(h, 80, 16);
	th_send(h, TCP_FLAG_SYN, h->irs, 0, 65535, NULL, NULL, 0);
	struct tcp_opts mss = th_mss_opts(1460);
	struct th_seg s = th_expect(h, SYNACK, TH_ANY, h->irs + 1, TH_ANY, &mss, 0);
	h->iss = s.hdr.seq;
	th_send(h, TCP_FLAG_ACK, h->irs + 1, h->iss + 1, 65535, NULL, NULL, 0);
	struct sockaddr_in peer;
	int fd = ts_accept(sl, lfd, &peer, SOCK_NONBLOCK);
	assert_true(fd >= 0);
	assert_int_equal(ts_setsockopt(sl, fd, IPPROTO_TCP, TCP_NODELAY, &(int){1}, sizeof(int)), 0);

	uint8_t data[1000];
	memset(data, 'x', sizeof(data));
	assert_int_equal(ts_send(sl, fd, data, sizeof(data), 0), 1000);
	th_expect(h, TH_ANY, h->iss + 1, h->irs + 1, TH_ANY, NULL, 536);
	th_expect(h, TH_ANY, h->iss + 537, h->irs + 1, TH_ANY, NULL, 464);
}

/* Window scale only when both sides offer it (RFC 7323 2.2): a SYN with MSS and
 * timestamps but no window scale gets MSS and timestamps, no window scale, no SACK. */
static void test_synack_options_as_negotiated(void **state)
{
	struct th *h = *state;
	th_listen(h, 80, 16);
	struct tcp_opts o = th_mss_opts(1400);
	o.has_ts = true;
	o.ts_val = 777;
	th_send(h, TCP_FLAG_SYN, h->irs, 0, 65535, &o, NULL, 0);
	struct th_seg s = th_expect(h, SYNACK, TH_ANY, h->irs + 1, TH_ANY, TH_ANY_OPTS, 0);
	assert_true(s.hdr.opts.has_mss);
	assert_int_equal(s.hdr.opts.mss, 1460);
	assert_true(s.hdr.opts.has_ts);
	assert_int_equal(s.hdr.opts.ts_ecr, 777);
	assert_false(s.hdr.opts.has_wscale);
	assert_false(s.hdr.opts.sack_ok);
}

/* The SYN-ACK is retransmitted 1, 2, 4, 8 and 16 s apart, identical each time; 5 retries
 * then the request is dropped (Linux tcp_synack_retries = 5): a late final ACK then finds
 * no request and gets a RST (SEQ = SEG.ACK), and nothing is ever accepted. */
static void test_synack_retransmission_schedule(void **state)
{
	struct th *h = *state;
	struct socket_layer *sl = th_sl(h);
	int lfd = th_listen(h, 80, 16);
	struct tcp_opts mss = th_mss_opts(1460);
	(void)th_syn_synack(h, &mss);

	static const long gaps_ms[] = {1000, 2000, 4000, 8000, 16000};
	for (size_t i = 0; i < sizeof(gaps_ms) / sizeof(gaps_ms[0]); i++) {
		long t = th_advance_until_seg(h, 40000);
		if (t < 0)
			fail_msg("SYN-ACK retransmission %zu never came", i + 1);
		/* Exactly on schedule (virtual time; a small tolerance for timer granularity). */
		if (t < gaps_ms[i] - 5 || t > gaps_ms[i] + 5)
			fail_msg("SYN-ACK retransmission %zu after %ld ms, expected %ld", i + 1, t, gaps_ms[i]);
		th_expect(h, SYNACK, h->iss, h->irs + 1, TH_ANY, &mss, 0);
		th_expect_none(h);
	}
	/* No sixth. */
	assert_int_equal(th_advance_until_seg(h, 120000), -1);
	assert_null(th_state(h, TH_PEER_PORT));
	struct sockaddr_in peer;
	assert_int_equal(ts_accept(sl, lfd, &peer, SOCK_NONBLOCK), -EAGAIN);

	th_send(h, TCP_FLAG_ACK, h->irs + 1, h->iss + 1, 65535, NULL, NULL, 0);
	th_expect(h, TCP_FLAG_RST, h->iss + 1, TH_ANY, 0, NULL, 0);
	assert_int_equal(ts_accept(sl, lfd, &peer, SOCK_NONBLOCK), -EAGAIN);
}

/* A retransmitted SYN (same ISN) while the request is pending gets the same SYN-ACK again,
 * and no second request is made. */
static void test_syn_retransmit_gets_same_synack(void **state)
{
	struct th *h = *state;
	struct socket_layer *sl = th_sl(h);
	int lfd = th_listen(h, 80, 16);
	struct tcp_opts mss = th_mss_opts(1460);
	(void)th_syn_synack(h, &mss);
	th_advance(h, 300);
	th_send(h, TCP_FLAG_SYN, h->irs, 0, 65535, &mss, NULL, 0);
	th_expect(h, SYNACK, h->iss, h->irs + 1, TH_ANY, &mss, 0);
	th_send(h, TCP_FLAG_ACK, h->irs + 1, h->iss + 1, 65535, NULL, NULL, 0);
	th_expect_none(h);
	struct sockaddr_in peer;
	assert_true(ts_accept(sl, lfd, &peer, SOCK_NONBLOCK) >= 0);
	assert_int_equal(ts_accept(sl, lfd, &peer, SOCK_NONBLOCK), -EAGAIN);
}

/* Completes a handshake from peer port `port`; returns false if the SYN got no SYN-ACK. */
static bool open_from_port(struct th *h, uint16_t port)
{
	h->peer_port = port;
	struct tcp_opts mss = th_mss_opts(1460);
	th_send(h, TCP_FLAG_SYN, h->irs, 0, 65535, &mss, NULL, 0);
	if (th_pending(h) == 0)
		return false;
	struct th_seg s = th_expect(h, SYNACK, TH_ANY, h->irs + 1, TH_ANY, &mss, 0);
	h->iss = s.hdr.seq;
	th_send(h, TCP_FLAG_ACK, h->irs + 1, h->iss + 1, 65535, NULL, NULL, 0);
	th_expect_none(h);
	return true;
}

/* Backlog 2: Linux queues backlog + 1 established connections (sk_acceptq_is_full is
 * "len > backlog"); the next SYN is dropped silently and counted as ListenOverflows and
 * ListenDrops, its retransmissions too (the client times out: no RST); once accept()
 * makes room, the retried SYN is answered. accept() hands connections over in FIFO order. */
static void test_accept_queue_overflow(void **state)
{
	struct th *h = *state;
	struct socket_layer *sl = th_sl(h);
	int lfd = th_listen(h, 80, 2);

	for (uint16_t i = 0; i < 3; i++)
		if (!open_from_port(h, (uint16_t)(41000 + i)))
			fail_msg("connection %u of backlog+1 = 3 got no SYN-ACK", i + 1);

	uint64_t ov0 = th_counter(h, "tcp", "ListenOverflows");
	uint64_t dr0 = th_counter(h, "tcp", "ListenDrops");
	h->peer_port = 41003;
	struct tcp_opts mss = th_mss_opts(1460);
	th_send(h, TCP_FLAG_SYN, h->irs, 0, 65535, &mss, NULL, 0);
	th_expect_none(h);  /* dropped: no SYN-ACK and no RST */
	assert_int_equal(th_counter(h, "tcp", "ListenOverflows"), ov0 + 1);
	assert_int_equal(th_counter(h, "tcp", "ListenDrops"), dr0 + 1);
	assert_null(th_state(h, 41003));

	/* The client retransmits its SYN at 1 s and 3 s: still dropped, nothing sent. */
	th_advance(h, 1000);
	th_send(h, TCP_FLAG_SYN, h->irs, 0, 65535, &mss, NULL, 0);
	th_expect_none(h);
	th_advance(h, 2000);
	th_send(h, TCP_FLAG_SYN, h->irs, 0, 65535, &mss, NULL, 0);
	th_expect_none(h);
	assert_int_equal(th_counter(h, "tcp", "ListenOverflows"), ov0 + 3);

	/* FIFO order. */
	struct sockaddr_in peer;
	int fd = ts_accept(sl, lfd, &peer, SOCK_NONBLOCK);
	assert_true(fd >= 0);
	assert_int_equal(ntohs(peer.sin_port), 41000);

	/* Room again: the next retry is answered and completes. */
	th_advance(h, 4000);
	if (!open_from_port(h, 41003))
		fail_msg("SYN after accept() made room got no SYN-ACK");
	static const uint16_t order[] = {41001, 41002, 41003};
	for (size_t i = 0; i < 3; i++) {
		fd = ts_accept(sl, lfd, &peer, SOCK_NONBLOCK);
		assert_true(fd >= 0);
		assert_int_equal(ntohs(peer.sin_port), order[i]);
	}
	assert_int_equal(ts_accept(sl, lfd, &peer, SOCK_NONBLOCK), -EAGAIN);
}

/* Data that arrives before accept() (on the final ACK itself, and after it) is kept and
 * ACKed, and a FIN before accept() too: accept() then returns a connection that reads the
 * bytes and then end of stream. */
static void test_data_before_accept(void **state)
{
	struct th *h = *state;
	struct socket_layer *sl = th_sl(h);
	int lfd = th_listen(h, 80, 16);
	struct tcp_opts mss = th_mss_opts(1460);
	(void)th_syn_synack(h, &mss);

	/* The final ACK carries "GET " (a client that sends at once, like curl). */
	th_send(h, TCP_FLAG_ACK | TCP_FLAG_PSH, h->irs + 1, h->iss + 1, 65535, NULL, "GET ", 4);
	assert_true(th_advance_until_seg(h, 200) >= 0);
	th_expect(h, TCP_FLAG_ACK, h->iss + 1, h->irs + 5, TH_ANY, NULL, 0);

	th_send(h, TCP_FLAG_ACK | TCP_FLAG_PSH, h->irs + 5, h->iss + 1, 65535, NULL, "/ HTTP", 6);
	th_send(h, TCP_FLAG_ACK | TCP_FLAG_FIN, h->irs + 11, h->iss + 1, 65535, NULL, NULL, 0);
	assert_true(th_advance_until_seg(h, 200) >= 0);
	struct th_seg a = th_expect(h, TCP_FLAG_ACK, h->iss + 1, TH_ANY, TH_ANY, NULL, 0);
	if (a.hdr.ack != h->irs + 12) {
		/* The data may have been ACKed on its own first; the FIN must be ACKed next. */
		assert_int_equal(a.hdr.ack, h->irs + 11);
		assert_true(th_advance_until_seg(h, 200) >= 0);
		th_expect(h, TCP_FLAG_ACK, h->iss + 1, h->irs + 12, TH_ANY, NULL, 0);
	}
	th_expect_none(h);

	struct sockaddr_in peer;
	int fd = ts_accept(sl, lfd, &peer, SOCK_NONBLOCK);
	assert_true(fd >= 0);
	char buf[32];
	assert_int_equal(ts_inq(sl, fd), 10);
	assert_int_equal(ts_recv(sl, fd, buf, sizeof(buf), 0), 10);
	assert_memory_equal(buf, "GET / HTTP", 10);
	assert_int_equal(ts_recv(sl, fd, buf, sizeof(buf), 0), 0);
}

/* A second listener on the same port is refused; another port is fine. */
static void test_listen_same_port_eaddrinuse(void **state)
{
	struct th *h = *state;
	struct socket_layer *sl = th_sl(h);
	th_listen(h, 80, 16);
	int fd = ts_socket(sl, AF_INET, SOCK_STREAM, 0);
	assert_true(fd >= 0);
	struct sockaddr_in sa;
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons(80);
	sa.sin_addr.s_addr = htonl(INADDR_ANY);
	assert_int_equal(ts_bind(sl, fd, &sa), -EADDRINUSE);
	sa.sin_port = htons(81);
	assert_int_equal(ts_bind(sl, fd, &sa), 0);
	assert_int_equal(ts_listen(sl, fd, 4), 0);
}

/* bind() to a port its TIME-WAIT entries or connections still use, as Linux decides it
 * (inet_bind_conflict): busy unless the binder and every holder set SO_REUSEADDR. The
 * classic: a server restarted without SO_REUSEADDR while its old connections wait out
 * TIME-WAIT gets EADDRINUSE; one whose listener and new socket set it may restart. */
static int bind_port(struct socket_layer *sl, uint16_t port, bool reuse)
{
	int fd = ts_socket(sl, AF_INET, SOCK_STREAM, 0), one = 1;
	assert_true(fd >= 0);
	if (reuse)
		assert_int_equal(ts_setsockopt(sl, fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)), 0);
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port) };
	int rc = ts_bind(sl, fd, &sa);
	assert_int_equal(ts_close(sl, fd), 0);
	return rc;
}

/* The server closes first: its side of the connection waits in TIME-WAIT on port 80. */
static void server_closes_into_time_wait(struct th *h, int lfd, uint16_t peer_port)
{
	struct socket_layer *sl = th_sl(h);
	h->peer_port = peer_port;
	int fd = th_open_passive(h, lfd, NULL, 65535);
	assert_int_equal(ts_close(sl, fd), 0);
	th_expect(h, TCP_FLAG_FIN | TCP_FLAG_ACK, h->iss + 1, h->irs + 1, TH_ANY, NULL, 0);
	th_send(h, TCP_FLAG_FIN | TCP_FLAG_ACK, h->irs + 1, h->iss + 2, 65535, NULL, NULL, 0);
	th_expect(h, TCP_FLAG_ACK, h->iss + 2, h->irs + 2, TH_ANY, NULL, 0);
	th_assert_state(h, peer_port, "TIME-WAIT");
}

static void test_bind_over_time_wait(void **state)
{
	struct th *h = *state;
	struct socket_layer *sl = th_sl(h);
	int lfd = th_listen(h, 80, 8);               /* no SO_REUSEADDR */
	server_closes_into_time_wait(h, lfd, 40001);
	assert_int_equal(ts_close(sl, lfd), 0);
	assert_int_equal(bind_port(sl, 80, false), -EADDRINUSE);
	assert_int_equal(bind_port(sl, 80, true), -EADDRINUSE); /* the entry did not set it */
	th_advance(h, 61000);                        /* TIME-WAIT over: the port is free */
	assert_int_equal(bind_port(sl, 80, false), 0);

	/* A listener with SO_REUSEADDR: its connections have it too (Linux clones sk_reuse). */
	int one = 1;
	lfd = ts_socket(sl, AF_INET, SOCK_STREAM, 0);
	assert_int_equal(ts_setsockopt(sl, lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)), 0);
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(80) };
	assert_int_equal(ts_bind(sl, lfd, &sa), 0);
	assert_int_equal(ts_listen(sl, lfd, 8), 0);
	h->irs += 100000;
	server_closes_into_time_wait(h, lfd, 40002);
	assert_int_equal(ts_close(sl, lfd), 0);
	assert_int_equal(bind_port(sl, 80, false), -EADDRINUSE);
	assert_int_equal(bind_port(sl, 80, true), 0);  /* the restart that SO_REUSEADDR is for */

	/* A connection's own port, chosen by connect(), is held while it lives. */
	struct th_seg syn;
	int cfd = th_connect(h, 8080, &syn);
	assert_int_equal(bind_port(sl, syn.hdr.sport, true), -EADDRINUSE);
	assert_int_equal(ts_close(sl, cfd), 0);        /* in SYN-SENT: gone at once */
	assert_int_equal(bind_port(sl, syn.hdr.sport, false), 0);
}

/* A listener of port 80 with SO_REUSEPORT (and its bind), or the bind's error. */
static int reuseport_listener(struct socket_layer *sl, bool reuseport)
{
	int fd = ts_socket(sl, AF_INET, SOCK_STREAM, 0), one = 1;
	assert_true(fd >= 0);
	if (reuseport)
		assert_int_equal(ts_setsockopt(sl, fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)), 0);
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(80) };
	int rc = ts_bind(sl, fd, &sa);
	if (rc) {
		ts_close(sl, fd);
		return rc;
	}
	assert_int_equal(ts_listen(sl, fd, 64), 0);
	return fd;
}

/* SO_REUSEPORT as Linux: listeners that all set it share a port, each handshake goes to
 * one of them by the peer's address and port (every segment of it to the same one), a
 * socket without it is refused, and when one listener closes the others take everything. */
static void test_reuseport_shares_a_port(void **state)
{
	struct th *h = *state;
	struct socket_layer *sl = th_sl(h);
	int l[2] = { reuseport_listener(sl, true), reuseport_listener(sl, true) };
	assert_true(l[0] >= 0 && l[1] >= 0);
	assert_int_equal(reuseport_listener(sl, false), -EADDRINUSE);
	int got[2] = { 0, 0 };
	for (int i = 0; i < 24; i++) {
		h->peer_port = (uint16_t)(41000 + i);
		h->irs = 5000u + 100000u * (uint32_t)i;
		th_send(h, TCP_FLAG_SYN, h->irs, 0, 65535, NULL, NULL, 0);
		struct th_seg s = th_expect(h, TCP_FLAG_SYN | TCP_FLAG_ACK, TH_ANY, h->irs + 1, TH_ANY, TH_ANY_OPTS, 0);
		th_send(h, TCP_FLAG_ACK, h->irs + 1, s.hdr.seq + 1, 65535, NULL, NULL, 0);
		struct sockaddr_in peer;
		int n = 0;
		for (int k = 0; k < 2; k++) {
			int fd = ts_accept(sl, l[k], &peer, SOCK_NONBLOCK);
			if (fd >= 0) {
				got[k]++;
				n++;
				assert_int_equal(ntohs(peer.sin_port), h->peer_port);
			}
		}
		assert_int_equal(n, 1);
	}
	assert_true(got[0] > 0 && got[1] > 0);
	assert_int_equal(got[0] + got[1], 24);
	assert_int_equal(ts_close(sl, l[0]), 0);
	h->peer_port = 42000;
	h->irs = 9000000;
	int fd = th_open_passive(h, l[1], NULL, 65535);
	assert_true(fd >= 0);
	int one = 0;
	socklen_t len = sizeof(one);
	assert_int_equal(ts_getsockopt(sl, l[1], SOL_SOCKET, SO_REUSEPORT, &one, &len), 0);
	assert_int_equal(one, 1);
}

/* Starts an active open to the peer's port 80: returns the socket; the SYN is popped and
 * checked (Linux's options: MSS 1460, SACK-permitted, timestamps, window scale), h->iss
 * learned, and h's ports switched to this connection. */
static int start_connect(struct th *h, struct th_seg *syn)
{
	int fd = th_connect(h, 80, syn);
	assert_int_equal(syn->hdr.flags, TCP_FLAG_SYN);
	assert_int_equal(syn->hdr.dport, 80);
	assert_int_equal(syn->len, 0);
	assert_true(syn->hdr.sport >= 1024);
	return fd;
}

/* Active open (RFC 9293 3.5): SYN with Linux's options, the peer's SYN-ACK (MSS only) is
 * ACKed with no options, connect() completes as POLLOUT. Asked again, connect() says
 * EALREADY while the handshake runs, then 0 once it is done, then EISCONN (Linux's
 * __inet_stream_connect: a non-blocking connect leaves the socket SS_CONNECTING until a
 * connect() call sees it established). */
static void test_active_open(void **state)
{
	struct th *h = *state;
	struct socket_layer *sl = th_sl(h);
	struct th_seg syn;
	int fd = start_connect(h, &syn);
	assert_true(syn.hdr.opts.has_mss);
	assert_int_equal(syn.hdr.opts.mss, 1460);
	assert_true(syn.hdr.opts.sack_ok);
	assert_true(syn.hdr.opts.has_ts);
	assert_true(syn.hdr.opts.has_wscale);
	assert_true(syn.hdr.win > 0);
	assert_false(ts_revents(sl, fd) & POLLOUT);
	th_assert_state(h, 80, "SYN-SENT");
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(80), .sin_addr.s_addr = htonl(TH_PEER_IP) };
	assert_int_equal(ts_connect(sl, fd, &sa), -EALREADY);

	struct tcp_opts mss = th_mss_opts(1460);
	th_send(h, SYNACK, h->irs, h->iss + 1, 65535, &mss, NULL, 0);
	th_expect(h, TCP_FLAG_ACK, h->iss + 1, h->irs + 1, TH_ANY, NULL, 0);
	th_expect_none(h);
	th_assert_state(h, 80, "ESTABLISHED");
	assert_true(ts_revents(sl, fd) & POLLOUT);
	assert_int_equal(ts_connect(sl, fd, &sa), 0);
	assert_int_equal(ts_connect(sl, fd, &sa), -EISCONN);
	assert_int_equal(ts_connect(sl, fd, &sa), -EISCONN);
	struct sockaddr_in a;
	assert_int_equal(ts_getpeername(sl, fd, &a), 0);
	assert_int_equal(ntohl(a.sin_addr.s_addr), TH_PEER_IP);
	assert_int_equal(ntohs(a.sin_port), 80);
	assert_int_equal(ts_send(sl, fd, "GET", 3, 0), 3);
	th_expect(h, TCP_FLAG_ACK | TH_PSH_ANY, h->iss + 1, h->irs + 1, TH_ANY, NULL, 3);
}

/* connect() to a closed port: the peer's RST|ACK makes it fail with ECONNREFUSED. */
static void test_connect_refused(void **state)
{
	struct th *h = *state;
	struct socket_layer *sl = th_sl(h);
	struct th_seg syn;
	int fd = start_connect(h, &syn);
	th_send(h, TCP_FLAG_RST | TCP_FLAG_ACK, 0, h->iss + 1, 0, NULL, NULL, 0);
	th_expect_none(h);
	assert_true(ts_revents(sl, fd) & (POLLERR | POLLHUP));
	int err = 0;
	socklen_t len = sizeof(err);
	assert_int_equal(ts_getsockopt(sl, fd, SOL_SOCKET, SO_ERROR, &err, &len), 0);
	assert_int_equal(err, ECONNREFUSED);
	assert_null(th_state(h, 80));
	assert_int_equal(th_counter(h, "tcp", "AttemptFails"), 1);
	/* The error taken by SO_ERROR, a second connect() reports the attempt as aborted
	 * (Linux __inet_stream_connect: sock_error() ?: -ECONNABORTED); a third starts over. */
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(80), .sin_addr.s_addr = htonl(TH_PEER_IP) };
	assert_int_equal(ts_connect(sl, fd, &sa), -ECONNABORTED);
	assert_int_equal(ts_connect(sl, fd, &sa), -EINPROGRESS);
	struct th_seg again; /* from a new ephemeral port: the failed attempt let its port go */
	assert_true(th_pop_seg(h, &again));
	assert_int_equal(again.hdr.flags, TCP_FLAG_SYN);
	/* Refused again and not read: the next connect() says so itself, then starts over. */
	h->local_port = again.hdr.sport;
	th_send(h, TCP_FLAG_RST | TCP_FLAG_ACK, 0, again.hdr.seq + 1, 0, NULL, NULL, 0);
	assert_int_equal(ts_connect(sl, fd, &sa), -ECONNREFUSED);
	assert_int_equal(ts_connect(sl, fd, &sa), -EINPROGRESS);
}

/* The SYN is retransmitted after 1, 2, 4, 8, 16 and 32 s (Linux tcp_syn_retries = 6), then
 * connect() fails with ETIMEDOUT 64 s later, with nothing more sent. */
static void test_syn_retransmission_timeout(void **state)
{
	struct th *h = *state;
	struct socket_layer *sl = th_sl(h);
	struct th_seg syn;
	int fd = start_connect(h, &syn);
	static const long gaps_ms[] = {1000, 2000, 4000, 8000, 16000, 32000};
	for (size_t i = 0; i < 6; i++) {
		long t = th_advance_until_seg(h, 100000);
		if (t < gaps_ms[i] - 5 || t > gaps_ms[i] + 5)
			fail_msg("SYN retransmission %zu after %ld ms, expected %ld", i + 1, t, gaps_ms[i]);
		th_expect(h, TCP_FLAG_SYN, h->iss, 0, TH_ANY, TH_ANY_OPTS, 0);
	}
	assert_false(ts_revents(sl, fd) & POLLERR);
	assert_int_equal(th_advance_until_seg(h, 70000), -1);
	assert_true(ts_revents(sl, fd) & POLLERR);
	int err = 0;
	socklen_t len = sizeof(err);
	assert_int_equal(ts_getsockopt(sl, fd, SOL_SOCKET, SO_ERROR, &err, &len), 0);
	assert_int_equal(err, ETIMEDOUT);
	assert_null(th_state(h, 80));
}

/* TCP_SYNCNT (here set in SYN-SENT, which Linux allows too) bounds the retransmissions of
 * this connection's SYN: two, after 1 and 2 s, then ETIMEDOUT 4 s later; 0 and 128 are
 * EINVAL, and it reads back. */
static void test_syncnt_bounds_syn_retries(void **state)
{
	struct th *h = *state;
	struct socket_layer *sl = th_sl(h);
	struct th_seg syn;
	int fd = start_connect(h, &syn);
	int v = 0;
	socklen_t len = sizeof(v);
	assert_int_equal(ts_getsockopt(sl, fd, IPPROTO_TCP, TCP_SYNCNT, &v, &len), 0);
	assert_int_equal(v, 6); /* the stack's syn_retries until set */
	v = 0;
	assert_int_equal(ts_setsockopt(sl, fd, IPPROTO_TCP, TCP_SYNCNT, &v, sizeof(v)), -EINVAL);
	v = 128;
	assert_int_equal(ts_setsockopt(sl, fd, IPPROTO_TCP, TCP_SYNCNT, &v, sizeof(v)), -EINVAL);
	v = 2;
	assert_int_equal(ts_setsockopt(sl, fd, IPPROTO_TCP, TCP_SYNCNT, &v, sizeof(v)), 0);
	assert_int_equal(ts_getsockopt(sl, fd, IPPROTO_TCP, TCP_SYNCNT, &v, &len), 0);
	assert_int_equal(v, 2);
	for (long gap = 1000; gap <= 2000; gap *= 2) {
		long t = th_advance_until_seg(h, 100000);
		if (t < gap - 5 || t > gap + 5)
			fail_msg("SYN retransmission after %ld ms, expected %ld", t, gap);
		th_expect(h, TCP_FLAG_SYN, h->iss, 0, TH_ANY, TH_ANY_OPTS, 0);
	}
	th_advance(h, 3990);
	assert_false(ts_revents(sl, fd) & POLLERR);
	th_advance(h, 20);
	assert_true(ts_revents(sl, fd) & POLLERR);
	int err = 0;
	assert_int_equal(ts_getsockopt(sl, fd, SOL_SOCKET, SO_ERROR, &err, &len), 0);
	assert_int_equal(err, ETIMEDOUT);
}

/* A RST for a half-open connection (in window) removes the request (RFC 9293 3.10.7.4,
 * SYN-RECEIVED, passive open: "return this connection to LISTEN"): no more SYN-ACKs,
 * nothing to accept, and the late ACK gets a RST. */
static void test_rst_in_syn_received(void **state)
{
	struct th *h = *state;
	struct socket_layer *sl = th_sl(h);
	int lfd = th_listen(h, 80, 8);
	struct tcp_opts mss = th_mss_opts(1460);
	(void)th_syn_synack(h, &mss);
	th_send(h, TCP_FLAG_RST, h->irs + 1, 0, 0, NULL, NULL, 0);
	th_expect_none(h);
	assert_null(th_state(h, TH_PEER_PORT));
	assert_int_equal(th_advance_until_seg(h, 5000), -1);
	th_send(h, TCP_FLAG_ACK, h->irs + 1, h->iss + 1, 65535, NULL, NULL, 0);
	th_expect(h, TCP_FLAG_RST, h->iss + 1, 0, 0, NULL, 0);
	struct sockaddr_in peer;
	assert_int_equal(ts_accept(sl, lfd, &peer, SOCK_NONBLOCK), -EAGAIN);
}

/* In SYN-RECEIVED an ACK that does not acknowledge our SYN gets <SEQ=SEG.ACK><CTL=RST>
 * (RFC 9293 3.10.7.4) and the request survives: the right ACK still completes it. */
static void test_bad_ack_in_syn_received(void **state)
{
	struct th *h = *state;
	struct socket_layer *sl = th_sl(h);
	int lfd = th_listen(h, 80, 8);
	struct tcp_opts mss = th_mss_opts(1460);
	(void)th_syn_synack(h, &mss);
	th_send(h, TCP_FLAG_ACK, h->irs + 1, h->iss + 1000, 65535, NULL, NULL, 0);
	th_expect(h, TCP_FLAG_RST, h->iss + 1000, 0, 0, NULL, 0);
	struct sockaddr_in peer;
	assert_int_equal(ts_accept(sl, lfd, &peer, SOCK_NONBLOCK), -EAGAIN);
	th_send(h, TCP_FLAG_ACK, h->irs + 1, h->iss + 1, 65535, NULL, NULL, 0);
	th_expect_none(h);
	assert_true(ts_accept(sl, lfd, &peer, SOCK_NONBLOCK) >= 0);
}

/* Data on a SYN (no TCP Fast Open) is not acknowledged by the SYN-ACK (Linux discards it;
 * the peer sends it again after the handshake). */
static void test_syn_with_data_not_acked(void **state)
{
	struct th *h = *state;
	struct socket_layer *sl = th_sl(h);
	int lfd = th_listen(h, 80, 8);
	struct tcp_opts mss = th_mss_opts(1460);
	th_send(h, TCP_FLAG_SYN, h->irs, 0, 65535, &mss, "early", 5);
	struct th_seg s = th_expect(h, SYNACK, TH_ANY, h->irs + 1, TH_ANY, &mss, 0);
	h->iss = s.hdr.seq;
	th_send(h, TCP_FLAG_ACK | TCP_FLAG_PSH, h->irs + 1, h->iss + 1, 65535, NULL, "early", 5);
	assert_true(th_advance_until_seg(h, 200) >= 0);
	th_expect(h, TCP_FLAG_ACK, h->iss + 1, h->irs + 6, TH_ANY, NULL, 0);
	struct sockaddr_in peer;
	int fd = ts_accept(sl, lfd, &peer, SOCK_NONBLOCK);
	assert_true(fd >= 0);
	char buf[16];
	assert_int_equal(ts_recv(sl, fd, buf, sizeof(buf), 0), 5);
	assert_memory_equal(buf, "early", 5);
}

/* Closing a listener resets the connections nobody accepted (RST|ACK, as Linux's
 * inet_csk_listen_stop) and forgets half-open ones; new SYNs to the port are refused. */
static void test_listener_close_resets_queue(void **state)
{
	struct th *h = *state;
	struct socket_layer *sl = th_sl(h);
	int lfd = th_listen(h, 80, 8);
	assert_true(open_from_port(h, 42000));
	uint32_t iss_a = h->iss;
	h->peer_port = 42001;
	struct tcp_opts mss = th_mss_opts(1460);
	th_send(h, TCP_FLAG_SYN, h->irs, 0, 65535, &mss, NULL, 0);
	th_expect(h, SYNACK, TH_ANY, h->irs + 1, TH_ANY, &mss, 0);

	assert_int_equal(ts_close(sl, lfd), 0);
	h->peer_port = 42000;
	struct th_seg s;
	assert_true(th_pop_seg(h, &s));
	assert_int_equal(s.hdr.dport, 42000);
	assert_int_equal(s.hdr.flags & TCP_FLAG_RST, TCP_FLAG_RST);
	assert_int_equal(s.hdr.seq, iss_a + 1);
	th_expect_none(h);
	assert_null(th_state(h, 42000));
	assert_null(th_state(h, 42001));

	h->peer_port = 42002;
	th_send(h, TCP_FLAG_SYN, 5000, 0, 65535, &mss, NULL, 0);
	th_expect(h, TCP_FLAG_RST | TCP_FLAG_ACK, 0, 5001, 0, NULL, 0);
}

/* The final ACK arrives while the accept queue is full: Linux's default drops that ACK
 * (ListenOverflows) and keeps the request, whose SYN-ACK retransmission lets the client
 * ACK again once accept() made room. Backlog 2: A and B established, C and D half-open,
 * C's ACK fills the queue (3 = backlog + 1), D's ACK finds it full. */
static uint32_t fill_queue_leave_one_half_open(struct th *h, uint16_t base)
{
	struct tcp_opts mss = th_mss_opts(1460);
	assert_true(open_from_port(h, base));
	assert_true(open_from_port(h, (uint16_t)(base + 1)));
	uint32_t iss[2];
	for (uint16_t i = 0; i < 2; i++) {
		h->peer_port = (uint16_t)(base + 2 + i);
		th_send(h, TCP_FLAG_SYN, h->irs, 0, 65535, &mss, NULL, 0);
		iss[i] = th_expect(h, SYNACK, TH_ANY, h->irs + 1, TH_ANY, &mss, 0).hdr.seq;
	}
	h->peer_port = (uint16_t)(base + 2);
	th_send(h, TCP_FLAG_ACK, h->irs + 1, iss[0] + 1, 65535, NULL, NULL, 0);
	th_expect_none(h);
	h->peer_port = (uint16_t)(base + 3);
	return iss[1];
}

static void test_final_ack_on_full_queue_dropped(void **state)
{
	struct th *h = *state;
	struct socket_layer *sl = th_sl(h);
	int lfd = th_listen(h, 80, 2);
	struct tcp_opts mss = th_mss_opts(1460);
	uint32_t iss_d = fill_queue_leave_one_half_open(h, 43000);
	uint64_t ov = th_counter(h, "tcp", "ListenOverflows");
	th_send(h, TCP_FLAG_ACK, h->irs + 1, iss_d + 1, 65535, NULL, NULL, 0);
	th_expect_none(h);
	assert_int_equal(th_counter(h, "tcp", "ListenOverflows"), ov + 1);

	struct sockaddr_in peer;
	assert_true(ts_accept(sl, lfd, &peer, SOCK_NONBLOCK) >= 0);
	assert_int_equal(ntohs(peer.sin_port), 43000);
	/* The request is still there: its SYN-ACK comes again, the client ACKs, it completes. */
	if (th_advance_until_seg(h, 20000) < 0)
		fail_msg("the request whose final ACK was dropped never retransmitted its SYN-ACK");
	th_expect(h, SYNACK, iss_d, h->irs + 1, TH_ANY, &mss, 0);
	th_send(h, TCP_FLAG_ACK, h->irs + 1, iss_d + 1, 65535, NULL, NULL, 0);
	th_expect_none(h);
	static const uint16_t order[] = {43001, 43002, 43003};
	for (int i = 0; i < 3; i++) {
		assert_true(ts_accept(sl, lfd, &peer, SOCK_NONBLOCK) >= 0);
		assert_int_equal(ntohs(peer.sin_port), order[i]);
	}
}

static void tweak_abort_on_overflow(struct stack_config *cfg)
{
	cfg->tcp.abort_on_overflow = true;
}

static void tweak_cookies_always(struct stack_config *cfg)
{
	cfg->tcp.syncookies = 2;
}

/*
 * tcp_syncookies = 2: every SYN gets a cookie, and with timestamps the cookie keeps the
 * client's window scale and SACK in the low six bits of the SYN-ACK's TSval (Linux
 * cookie_init_timestamp): 7 | SACK (0x10) here. The final ACK echoes it in TSecr and the
 * connection has them all (TCP_INFO), as a queued request would. A SYN without timestamps
 * gets a cookie SYN-ACK with the MSS only.
 */
static void test_cookie_keeps_options_in_timestamp(void **state)
{
	th_free(*state);
	struct th *h = *state = th_new(tweak_cookies_always);
	struct socket_layer *sl = th_sl(h);
	int lfd = th_listen(h, 80, 8);
	struct tcp_opts o = th_mss_opts(1460);
	o.has_wscale = true;
	o.wscale = 7;
	o.sack_ok = true;
	o.has_ts = true;
	o.ts_val = 100;
	th_send(h, TCP_FLAG_SYN, h->irs, 0, 65535, &o, NULL, 0);
	struct th_seg s = th_expect(h, TCP_FLAG_SYN | TCP_FLAG_ACK, TH_ANY, h->irs + 1, TH_ANY, TH_ANY_OPTS, 0);
	assert_int_equal(th_counter(h, "tcp", "SyncookiesSent"), 1);
	assert_true(s.hdr.opts.has_wscale && s.hdr.opts.sack_ok && s.hdr.opts.has_ts);
	assert_int_equal(s.hdr.opts.ts_ecr, 100);
	assert_int_equal((s.hdr.opts.ts_val - s.hdr.seq * 0x9e3779b1u) & 0x3fu, 7u | 0x10u);
	h->iss = s.hdr.seq;

	struct tcp_opts a;
	memset(&a, 0, sizeof(a));
	a.has_ts = true;
	a.ts_val = 110;
	a.ts_ecr = s.hdr.opts.ts_val;
	th_send(h, TCP_FLAG_ACK, h->irs + 1, h->iss + 1, 512, &a, NULL, 0);
	assert_int_equal(th_counter(h, "tcp", "SyncookiesRecv"), 1);
	int fd = ts_accept(sl, lfd, NULL, 0);
	assert_true(fd >= 0);
	struct tcp_info ti;
	socklen_t len = sizeof(ti);
	assert_int_equal(ts_getsockopt(sl, fd, IPPROTO_TCP, TCP_INFO, &ti, &len), 0);
	assert_int_equal(ti.tcpi_snd_wscale, 7);
	assert_int_equal(ti.tcpi_options & (TCPI_OPT_SACK | TCPI_OPT_TIMESTAMPS | TCPI_OPT_WSCALE),
	                 TCPI_OPT_SACK | TCPI_OPT_TIMESTAMPS | TCPI_OPT_WSCALE);

	/* No timestamps: the MSS only. */
	h->peer_port = 40100;
	o = th_mss_opts(1460);
	o.has_wscale = true;
	o.wscale = 7;
	o.sack_ok = true;
	th_send(h, TCP_FLAG_SYN, h->irs, 0, 65535, &o, NULL, 0);
	s = th_expect(h, TCP_FLAG_SYN | TCP_FLAG_ACK, TH_ANY, h->irs + 1, TH_ANY, TH_ANY_OPTS, 0);
	assert_false(s.hdr.opts.has_wscale || s.hdr.opts.sack_ok || s.hdr.opts.has_ts);
	assert_int_equal(th_counter(h, "tcp", "SyncookiesSent"), 2);
}

/* With the abort-on-overflow option (Linux tcp_abort_on_overflow = 1) that final ACK gets
 * a RST instead (SEQ = SEG.ACK) and the request is gone. */
static void test_final_ack_on_full_queue_abort_option(void **state)
{
	th_free(*state);
	struct th *h = *state = th_new(tweak_abort_on_overflow);
	th_listen(h, 80, 2);
	uint32_t iss_d = fill_queue_leave_one_half_open(h, 44000);
	th_send(h, TCP_FLAG_ACK, h->irs + 1, iss_d + 1, 65535, NULL, NULL, 0);
	struct th_seg s;
	assert_true(th_pop_seg(h, &s));
	assert_true(s.hdr.flags & TCP_FLAG_RST);
	assert_int_equal(s.hdr.seq, iss_d + 1);
	th_expect_none(h);
	assert_null(th_state(h, 44003));
}

/*
 * SYN cookies meet a full accept queue (backlog 1: one request fills the SYN queue, so B and
 * C get cookies; A and B then fill the accept queue). C's valid cookie ACK is dropped and
 * counted as Linux does (SyncookiesRecv, ListenOverflows, ListenDrops); returns C's cookie,
 * *lfd the listener.
 */
static uint32_t cookie_ack_meets_full_queue(struct th *h, uint16_t base, int *lfd)
{
	struct tcp_opts mss = th_mss_opts(1460);
	uint32_t iss[3];

	*lfd = th_listen(h, 80, 1);
	for (uint16_t i = 0; i < 3; i++) {
		h->peer_port = (uint16_t)(base + i);
		th_send(h, TCP_FLAG_SYN, h->irs, 0, 65535, &mss, NULL, 0);
		iss[i] = th_expect(h, SYNACK, TH_ANY, h->irs + 1, TH_ANY, &mss, 0).hdr.seq;
	}
	assert_int_equal(th_counter(h, "tcp", "SyncookiesSent"), 2);
	for (uint16_t i = 0; i < 2; i++) {
		h->peer_port = (uint16_t)(base + i);
		th_send(h, TCP_FLAG_ACK, h->irs + 1, iss[i] + 1, 65535, NULL, NULL, 0);
		th_expect_none(h);
	}
	assert_int_equal(th_counter(h, "tcp", "SyncookiesRecv"), 1);
	uint64_t ov = th_counter(h, "tcp", "ListenOverflows");
	uint64_t drops = th_counter(h, "tcp", "ListenDrops");
	h->peer_port = (uint16_t)(base + 2);
	th_send(h, TCP_FLAG_ACK, h->irs + 1, iss[2] + 1, 65535, NULL, NULL, 0);
	assert_int_equal(th_counter(h, "tcp", "ListenOverflows"), ov + 1);
	assert_int_equal(th_counter(h, "tcp", "ListenDrops"), drops + 1);
	assert_int_equal(th_counter(h, "tcp", "SyncookiesRecv"), 2);
	assert_int_equal(th_counter(h, "tcp", "SyncookiesFailed"), 0);
	return iss[2];
}

/* Once accept() has made room, the client's next segment (its first data) completes the
 * handshake from the request the cookie left (tcp_req_keep_cookie): nobody saw
 * "connection reset". */
static void test_cookie_ack_on_full_queue_dropped(void **state)
{
	struct th *h = *state;
	struct socket_layer *sl = th_sl(h);
	struct sockaddr_in peer;
	char buf[8];
	int lfd, fd;
	uint32_t cookie = cookie_ack_meets_full_queue(h, 45000, &lfd);

	th_expect_none(h);
	assert_int_equal(th_counter(h, "tcp", "SyncookiesKept"), 1);
	th_assert_state(h, 45002, "SYN-RECEIVED");
	assert_true(ts_accept(sl, lfd, &peer, SOCK_NONBLOCK) >= 0);
	assert_int_equal(ntohs(peer.sin_port), 45000);
	th_send(h, TCP_FLAG_ACK | TCP_FLAG_PSH, h->irs + 1, cookie + 1, 65535, NULL, "hi", 2);
	assert_int_equal(th_counter(h, "tcp", "SyncookiesRecv"), 2); /* found the request: no second check */
	th_assert_state(h, 45002, "ESTABLISHED");
	assert_true(ts_accept(sl, lfd, &peer, SOCK_NONBLOCK) >= 0);
	assert_int_equal(ntohs(peer.sin_port), 45001);
	fd = ts_accept(sl, lfd, &peer, SOCK_NONBLOCK);
	assert_true(fd >= 0);
	assert_int_equal(ntohs(peer.sin_port), 45002);
	assert_int_equal(ts_recv(sl, fd, buf, sizeof(buf), 0), 2);
	assert_memory_equal(buf, "hi", 2);
}

/*
 * The segment that used to reset the client: its data past the first byte. A client whose
 * cookie ACK was dropped goes on sending (up to its congestion window); no cookie check
 * can verify a segment that starts beyond ISN+1 (the cookie hashes the ISN), and Linux
 * answers it as a stray ACK to a listener, with a RST. The request kept from the cookie
 * (tcp_req_keep_cookie) drops those quietly instead, retransmits the SYN-ACK (MSS only, as
 * the cookie's) after 1 s, and once accept() has made room the client's retransmissions
 * complete the handshake and deliver every byte. Fails without the kept request: the
 * second segment gets <SEQ=cookie+1><CTL=RST>.
 */
static void test_cookie_ack_on_full_queue_later_data(void **state)
{
	struct th *h = *state;
	struct socket_layer *sl = th_sl(h);
	struct tcp_opts mss = th_mss_opts(1460);
	struct sockaddr_in peer;
	uint8_t data[3000], got[3000];
	int lfd, fd;
	uint32_t cookie = cookie_ack_meets_full_queue(h, 47000, &lfd);
	uint64_t ov = th_counter(h, "tcp", "ListenOverflows");

	for (uint32_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 7 + i / 251);
	for (uint32_t off = 0; off < sizeof(data); off += 1000)
		th_send(h, TCP_FLAG_ACK | TCP_FLAG_PSH, h->irs + 1 + off, cookie + 1, 65535, NULL, data + off, 1000);
	th_expect_none(h);
	assert_int_equal(th_counter(h, "tcp", "ListenOverflows"), ov + 3);
	assert_int_equal(th_counter(h, "tcp", "SyncookiesFailed"), 0);
	assert_int_equal(th_counter(h, "tcp", "OutRsts"), 0);
	th_assert_state(h, 47002, "SYN-RECEIVED");

	/* The kept request's SYN-ACK timer, as for any request the client acknowledged. */
	th_advance(h, 1000);
	th_expect(h, SYNACK, cookie, h->irs + 1, TH_ANY, &mss, 0);
	th_expect_none(h);

	/* accept() makes room; the client's retransmission timer resends from its first byte. */
	assert_true(ts_accept(sl, lfd, &peer, SOCK_NONBLOCK) >= 0);
	assert_int_equal(ntohs(peer.sin_port), 47000);
	for (uint32_t off = 0; off < sizeof(data); off += 1000)
		th_send(h, TCP_FLAG_ACK | TCP_FLAG_PSH, h->irs + 1 + off, cookie + 1, 65535, NULL, data + off, 1000);
	th_assert_state(h, 47002, "ESTABLISHED");
	th_advance(h, 200);
	struct th_seg s;
	uint32_t acked = 0;
	while (th_pop_seg(h, &s)) {
		assert_false(s.hdr.flags & TCP_FLAG_RST);
		assert_int_equal(s.hdr.seq, cookie + 1);
		acked = s.hdr.ack;
	}
	assert_int_equal(acked, h->irs + 1 + sizeof(data));
	assert_int_equal(th_counter(h, "tcp", "OutRsts"), 0);
	assert_int_equal(th_counter(h, "tcp", "SyncookiesKept"), 1);

	assert_true(ts_accept(sl, lfd, &peer, SOCK_NONBLOCK) >= 0);
	assert_int_equal(ntohs(peer.sin_port), 47001);
	fd = ts_accept(sl, lfd, &peer, SOCK_NONBLOCK);
	assert_true(fd >= 0);
	assert_int_equal(ntohs(peer.sin_port), 47002);
	assert_int_equal(ts_recv(sl, fd, got, sizeof(got), 0), (int)sizeof(data));
	assert_memory_equal(got, data, sizeof(data));
}

/*
 * The requests kept from cookies are bounded: they may take the SYN queue to twice its limit
 * (backlog 1: two). Five clients: the first gets a request, four get cookies; the first two
 * handshakes fill the accept queue, the next two cookie ACKs are kept, the fifth finds the
 * bound and is dropped with nothing kept, as Linux drops it: its data past the first byte
 * then gets Linux's RST.
 */
static void test_cookie_keep_bounded(void **state)
{
	struct th *h = *state;
	struct tcp_opts mss = th_mss_opts(1460);
	uint32_t iss[5];

	th_listen(h, 80, 1);
	for (uint16_t i = 0; i < 5; i++) {
		h->peer_port = (uint16_t)(48000 + i);
		th_send(h, TCP_FLAG_SYN, h->irs, 0, 65535, &mss, NULL, 0);
		iss[i] = th_expect(h, SYNACK, TH_ANY, h->irs + 1, TH_ANY, &mss, 0).hdr.seq;
	}
	assert_int_equal(th_counter(h, "tcp", "SyncookiesSent"), 4);
	for (uint16_t i = 0; i < 5; i++) {
		h->peer_port = (uint16_t)(48000 + i);
		th_send(h, TCP_FLAG_ACK, h->irs + 1, iss[i] + 1, 65535, NULL, NULL, 0);
		th_expect_none(h);
	}
	assert_int_equal(th_counter(h, "tcp", "SyncookiesRecv"), 4);
	assert_int_equal(th_counter(h, "tcp", "SyncookiesKept"), 2);
	th_assert_state(h, 48002, "SYN-RECEIVED");
	th_assert_state(h, 48003, "SYN-RECEIVED");
	assert_null(th_state(h, 48004));

	h->peer_port = 48004;
	th_send(h, TCP_FLAG_ACK | TCP_FLAG_PSH, h->irs + 1001, iss[4] + 1, 65535, NULL, "x", 1);
	th_expect(h, TCP_FLAG_RST, iss[4] + 1, TH_ANY, TH_ANY, NULL, 0);
	assert_int_equal(th_counter(h, "tcp", "SyncookiesFailed"), 1);
	h->peer_port = 48003;
	th_send(h, TCP_FLAG_ACK | TCP_FLAG_PSH, h->irs + 1001, iss[3] + 1, 65535, NULL, "x", 1);
	th_expect_none(h);
}

/* With the abort-on-overflow option the same cookie ACK gets a RST (SEQ = SEG.ACK). */
static void test_cookie_ack_on_full_queue_abort_option(void **state)
{
	th_free(*state);
	struct th *h = *state = th_new(tweak_abort_on_overflow);
	int lfd;
	uint32_t cookie = cookie_ack_meets_full_queue(h, 46000, &lfd);

	th_expect(h, TCP_FLAG_RST, cookie + 1, TH_ANY, TH_ANY, NULL, 0);
	th_expect_none(h);
	assert_null(th_state(h, 46002));
}

/*
 * The same with real clients (stack B) against a listener of backlog 1 on stack A, as
 * tests/net/test_preload_fork.sh meets it with a forking server: one client connects, then
 * three at once; the SYN queue overflows (cookies for two), the accept queue fills, and
 * the two cookie clients send 20,000 bytes each believing they are connected: ten
 * segments each, nine of which start past the first byte. Nobody is reset; once the server
 * accepts, every client's bytes arrive exactly.
 */
#define PAIR_CLIENTS 4
#define PAIR_BYTES 20000

static void pair_fill(uint8_t *buf, int client)
{
	for (int i = 0; i < PAIR_BYTES; i++)
		buf[i] = (uint8_t)(client * 37 + i * 13 + i / 509);
}

static void test_cookie_clients_not_reset(void **state)
{
	(void)state;
	static struct stack a, b;
	static uint8_t out[PAIR_CLIENTS][PAIR_BYTES], in[PAIR_CLIENTS][PAIR_BYTES];
	usec_t now = USEC_PER_SEC;
	stack_pair_init(&a, &b, now);
	struct socket_layer *sa = ts_stack_sockets(&a), *sb = ts_stack_sockets(&b);
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(80) };
	int lfd = ts_socket(sa, AF_INET, SOCK_STREAM, 0), cfd[PAIR_CLIENTS], afd[PAIR_CLIENTS];
	size_t sent[PAIR_CLIENTS] = { 0 }, got[PAIR_CLIENTS] = { 0 };
	int accepted = 0, done = 0;
	assert_int_equal(ts_bind(sa, lfd, &sin), 0);
	assert_int_equal(ts_listen(sa, lfd, 1), 0);
	sin.sin_addr.s_addr = htonl(STACK_PAIR_A_IP);
	for (int i = 0; i < PAIR_CLIENTS; i++) {
		pair_fill(out[i], i);
		cfd[i] = ts_socket(sb, AF_INET, SOCK_STREAM, 0);
		assert_true(cfd[i] >= 0);
		assert_int_equal(ts_connect(sb, cfd[i], &sin), -EINPROGRESS);
		if (i == 0) /* the first one alone (it also resolves the addresses) */
			stack_pair_run(&a, &b, &now, 20);
	}
	stack_pair_run(&a, &b, &now, 20);
	assert_int_equal(th_stack_counter(&a, "tcp", "SyncookiesSent"), 2);
	assert_int_equal(th_stack_counter(&a, "tcp", "SyncookiesKept"), 2);

	/* Every client believes it is connected and sends; nobody accepts for 100 ms. Then the
	 * server accepts and reads, and the clients' retransmissions complete the handshakes. */
	for (int i = 0; i < PAIR_CLIENTS; i++)
		assert_true(ts_revents(sb, cfd[i]) & POLLOUT);
	for (int r = 0; r < 30000 && done < PAIR_CLIENTS; r++) {
		for (int i = 0; i < PAIR_CLIENTS; i++) {
			assert_false(ts_revents(sb, cfd[i]) & POLLERR);
			ssize_t n = ts_send(sb, cfd[i], out[i] + sent[i], PAIR_BYTES - sent[i], 0);
			if (n > 0)
				sent[i] += (size_t)n;
		}
		if (r == 100) {
			assert_int_equal(th_stack_counter(&a, "tcp", "OutRsts"), 0);
			assert_int_equal(th_stack_counter(&a, "tcp", "SyncookiesFailed"), 0);
			assert_true(th_stack_counter(&a, "tcp", "ListenOverflows") >= 2 * 10);
		}
		if (r >= 100) {
			int fd = ts_accept(sa, lfd, NULL, 0);
			if (fd >= 0) {
				assert_true(accepted < PAIR_CLIENTS);
				afd[accepted++] = fd;
			}
		}
		done = 0;
		for (int i = 0; i < accepted; i++) {
			ssize_t n = ts_recv(sa, afd[i], in[i] + got[i], PAIR_BYTES - got[i], 0);
			if (n > 0)
				got[i] += (size_t)n;
			done += got[i] == PAIR_BYTES;
		}
		stack_pair_run(&a, &b, &now, 1);
	}
	assert_int_equal(accepted, PAIR_CLIENTS);
	for (int i = 0; i < PAIR_CLIENTS; i++) {
		/* accept() order is the handshakes' order; the data says which client it is */
		assert_int_equal(got[i], PAIR_BYTES);
		int client = -1;
		for (int c = 0; c < PAIR_CLIENTS; c++)
			if (memcmp(in[i], out[c], PAIR_BYTES) == 0)
				client = c;
		assert_true(client >= 0);
		assert_false(ts_revents(sb, cfd[client]) & POLLERR);
	}
	assert_int_equal(th_stack_counter(&a, "tcp", "OutRsts"), 0);
	assert_int_equal(th_stack_counter(&b, "tcp", "EstabResets"), 0);
	ts_stack_destroy(&a);
	ts_stack_destroy(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_handshake_listen_accept, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_synack_options_linux_syn, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_handshake_record, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_synack_options_bare_syn, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_synack_options_as_negotiated, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_synack_retransmission_schedule, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_syn_retransmit_gets_same_synack, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_accept_queue_overflow, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_data_before_accept, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_final_ack_on_full_queue_dropped, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_cookie_keeps_options_in_timestamp, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_final_ack_on_full_queue_abort_option, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_cookie_ack_on_full_queue_dropped, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_cookie_ack_on_full_queue_later_data, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_cookie_keep_bounded, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_cookie_ack_on_full_queue_abort_option, th_setup, th_teardown),
		cmocka_unit_test(test_cookie_clients_not_reset),
		cmocka_unit_test_setup_teardown(test_listen_same_port_eaddrinuse, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_bind_over_time_wait, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_reuseport_shares_a_port, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_rst_in_syn_received, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_bad_ack_in_syn_received, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_syn_with_data_not_acked, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_listener_close_resets_queue, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_active_open, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_connect_refused, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_syn_retransmission_timeout, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_syncnt_bounds_syn_retries, th_setup, th_teardown),
	};
	return cmocka_run_group_tests_name("tcp_handshake", tests, NULL, NULL);
}
