/*
 * test_socket_options.c - socket options have one owner (stack/socket/socket.c ts_opts):
 * an option set on a listener after listen() reaches the connections it accepts from then
 * on (TCP_NODELAY, SO_RCVBUF, SO_KEEPALIVE and its knobs inherited as Linux clones them when
 * the handshake completes; TCP_DEFER_ACCEPT acts on the listener itself), and the options
 * real programs set: TCP_KEEPIDLE/KEEPINTVL/KEEPCNT, TCP_QUICKACK, TCP_LINGER2,
 * SO_RCVTIMEO/SO_SNDTIMEO, with Linux's ranges and errnos. Packet bench, fake clock.
 */
#include <errno.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <cmocka.h>

#include "helpers/tcp_harness.h"
#include "socket/socket.h"

static int set_int(struct socket_layer *sl, int fd, int level, int name, int v)
{
	return ts_setsockopt(sl, fd, level, name, &v, sizeof(v));
}

/* getsockopt of an int option, which must succeed. */
static int get_int(struct socket_layer *sl, int fd, int level, int name)
{
	int v = -12345;
	socklen_t len = sizeof(v);
	assert_int_equal(ts_getsockopt(sl, fd, level, name, &v, &len), 0);
	assert_int_equal(len, sizeof(int));
	return v;
}

/* Options set on a listener after listen() are what the next accepted connection has; a
 * connection whose handshake completed before keeps the old ones (Linux clones the
 * listener when the final ACK arrives). */
static void test_setsockopt_after_listen_reaches_next_connection(void **state)
{
	struct th *h = *state;
	struct socket_layer *sl = th_sl(h);
	int lfd = th_listen(h, 80, 8);

	h->peer_port = 40001;
	int before = th_open_passive(h, lfd, NULL, 65535);
	th_drain(h);
	assert_int_equal(set_int(sl, lfd, IPPROTO_TCP, TCP_NODELAY, 1), 0);
	assert_int_equal(set_int(sl, lfd, SOL_SOCKET, SO_RCVBUF, 50000), 0);
	assert_int_equal(set_int(sl, lfd, SOL_SOCKET, SO_KEEPALIVE, 1), 0);
	assert_int_equal(set_int(sl, lfd, IPPROTO_TCP, TCP_KEEPIDLE, 30), 0);
	assert_int_equal(set_int(sl, lfd, IPPROTO_TCP, TCP_LINGER2, 7), 0);
	/* The listener reads them back (they were lost before: a copy nobody used). */
	assert_int_equal(get_int(sl, lfd, IPPROTO_TCP, TCP_NODELAY), 1);
	assert_int_equal(get_int(sl, lfd, SOL_SOCKET, SO_RCVBUF), 100000);

	h->peer_port = 40002;
	h->irs = 777000;
	int after = th_open_passive(h, lfd, NULL, 65535);
	assert_int_equal(get_int(sl, after, IPPROTO_TCP, TCP_NODELAY), 1);
	assert_int_equal(get_int(sl, after, SOL_SOCKET, SO_RCVBUF), 100000);
	assert_int_equal(get_int(sl, after, SOL_SOCKET, SO_KEEPALIVE), 1);
	assert_int_equal(get_int(sl, after, IPPROTO_TCP, TCP_KEEPIDLE), 30);
	assert_int_equal(get_int(sl, after, IPPROTO_TCP, TCP_LINGER2), 7);

	assert_int_equal(get_int(sl, before, IPPROTO_TCP, TCP_NODELAY), 0);
	assert_int_equal(get_int(sl, before, SOL_SOCKET, SO_KEEPALIVE), 0);
	assert_int_equal(get_int(sl, before, SOL_SOCKET, SO_RCVBUF), 131072);

	/* And the keepalive idle time really is the inherited 30 s. */
	th_drain(h);
	assert_int_equal(th_advance_until_seg(h, 29 * 1000), -1);
	assert_true(th_advance_until_seg(h, 2000) >= 0);
	th_expect(h, TCP_FLAG_ACK, h->iss, h->irs + 1, TH_ANY, NULL, 0);
}

/* TCP_DEFER_ACCEPT set after listen() acts on the listener: a bare final ACK leaves the
 * connection out of the accept queue, the first data puts it there. The seconds read
 * back as Linux rounds them (5 -> three retransmissions -> 1 + 2 + 4 = 7). */
static void test_defer_accept_after_listen(void **state)
{
	struct th *h = *state;
	struct socket_layer *sl = th_sl(h);
	int lfd = th_listen(h, 80, 8);
	assert_int_equal(set_int(sl, lfd, IPPROTO_TCP, TCP_DEFER_ACCEPT, 5), 0);
	assert_int_equal(get_int(sl, lfd, IPPROTO_TCP, TCP_DEFER_ACCEPT), 7);
	struct tcp_opts mss = th_mss_opts(1460);
	th_syn_synack(h, &mss);
	th_send(h, TCP_FLAG_ACK, h->irs + 1, h->iss + 1, 65535, NULL, NULL, 0);
	assert_int_equal(ts_accept(sl, lfd, NULL, SOCK_NONBLOCK), -EAGAIN);
	th_send(h, TCP_FLAG_ACK | TCP_FLAG_PSH, h->irs + 1, h->iss + 1, 65535, NULL, "GET", 3);
	int fd = ts_accept(sl, lfd, NULL, SOCK_NONBLOCK);
	assert_true(fd >= 0);
	char buf[4];
	assert_int_equal(ts_recv(sl, fd, buf, sizeof(buf), 0), 3);
}

/* TCP_KEEPIDLE 10, TCP_KEEPINTVL 2, TCP_KEEPCNT 3: the first probe after 10 s idle, then
 * every 2 s, and after the third unanswered one the connection ends with ETIMEDOUT. */
static void test_keepalive_knobs(void **state)
{
	struct th *h = *state;
	struct socket_layer *sl = th_sl(h);
	int fd = th_established(h);
	assert_int_equal(get_int(sl, fd, IPPROTO_TCP, TCP_KEEPIDLE), 7200); /* the stack's defaults */
	assert_int_equal(get_int(sl, fd, IPPROTO_TCP, TCP_KEEPINTVL), 75);
	assert_int_equal(get_int(sl, fd, IPPROTO_TCP, TCP_KEEPCNT), 9);
	assert_int_equal(set_int(sl, fd, IPPROTO_TCP, TCP_KEEPIDLE, 10), 0);
	assert_int_equal(set_int(sl, fd, IPPROTO_TCP, TCP_KEEPINTVL, 2), 0);
	assert_int_equal(set_int(sl, fd, IPPROTO_TCP, TCP_KEEPCNT, 3), 0);
	assert_int_equal(set_int(sl, fd, SOL_SOCKET, SO_KEEPALIVE, 1), 0);
	assert_int_equal(th_advance_until_seg(h, 9 * 1000), -1);
	long t = th_advance_until_seg(h, 2000);
	assert_true(t >= 0);
	th_expect(h, TCP_FLAG_ACK, h->iss, h->irs + 1, TH_ANY, NULL, 0);
	for (int i = 1; i < 3; i++) {
		t = th_advance_until_seg(h, 10000);
		if (t < 1900 || t > 2100)
			fail_msg("probe %d after %ld ms, expected 2 s", i + 1, t);
		th_expect(h, TCP_FLAG_ACK, h->iss, h->irs + 1, TH_ANY, NULL, 0);
	}
	assert_int_equal(th_advance_until_seg(h, 10000), -1);
	char buf[4];
	assert_int_equal(ts_recv(sl, fd, buf, sizeof(buf), 0), -ETIMEDOUT);
}

/* Linux's ranges: KEEPIDLE and KEEPINTVL 1..32767, KEEPCNT 1..127 (EINVAL outside);
 * SO_RCVTIMEO with tv_usec outside [0, 1e6) is EDOM, a short option EINVAL. */
static void test_option_ranges(void **state)
{
	struct th *h = *state;
	struct socket_layer *sl = th_sl(h);
	int fd = ts_socket(sl, AF_INET, SOCK_STREAM, 0);
	assert_int_equal(set_int(sl, fd, IPPROTO_TCP, TCP_KEEPIDLE, 0), -EINVAL);
	assert_int_equal(set_int(sl, fd, IPPROTO_TCP, TCP_KEEPIDLE, 32768), -EINVAL);
	assert_int_equal(set_int(sl, fd, IPPROTO_TCP, TCP_KEEPIDLE, 32767), 0);
	assert_int_equal(set_int(sl, fd, IPPROTO_TCP, TCP_KEEPINTVL, -1), -EINVAL);
	assert_int_equal(set_int(sl, fd, IPPROTO_TCP, TCP_KEEPCNT, 128), -EINVAL);
	assert_int_equal(set_int(sl, fd, IPPROTO_TCP, TCP_KEEPCNT, 127), 0);
	assert_int_equal(get_int(sl, fd, IPPROTO_TCP, TCP_KEEPCNT), 127);

	struct timeval tv = { .tv_sec = 1, .tv_usec = 1000000 };
	assert_int_equal(ts_setsockopt(sl, fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)), -EDOM);
	assert_int_equal(ts_setsockopt(sl, fd, SOL_SOCKET, SO_RCVTIMEO, &tv, 4), -EINVAL);
	tv.tv_usec = 250000;
	assert_int_equal(ts_setsockopt(sl, fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)), 0);
	struct timeval got = { 0 };
	socklen_t len = sizeof(got);
	assert_int_equal(ts_getsockopt(sl, fd, SOL_SOCKET, SO_SNDTIMEO, &got, &len), 0);
	assert_int_equal(got.tv_sec, 1);
	assert_int_equal(got.tv_usec, 250000);
	len = sizeof(got);
	assert_int_equal(ts_getsockopt(sl, fd, SOL_SOCKET, SO_RCVTIMEO, &got, &len), 0);
	assert_int_equal(got.tv_sec, 0);
	assert_int_equal(got.tv_usec, 0);
	tv.tv_sec = -5; /* Linux: a negative time means no timeout */
	tv.tv_usec = 0;
	assert_int_equal(ts_setsockopt(sl, fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)), 0);
	len = sizeof(got);
	ts_getsockopt(sl, fd, SOL_SOCKET, SO_SNDTIMEO, &got, &len);
	assert_int_equal(got.tv_sec, 0);

	/* TCP_LINGER2: -1 stays -1, 0 reads back as tcp_fin_timeout, above 120 clamps. */
	assert_int_equal(set_int(sl, fd, IPPROTO_TCP, TCP_LINGER2, -1), 0);
	assert_int_equal(get_int(sl, fd, IPPROTO_TCP, TCP_LINGER2), -1);
	assert_int_equal(set_int(sl, fd, IPPROTO_TCP, TCP_LINGER2, 0), 0);
	assert_int_equal(get_int(sl, fd, IPPROTO_TCP, TCP_LINGER2), 60);
	assert_int_equal(set_int(sl, fd, IPPROTO_TCP, TCP_LINGER2, 500), 0);
	assert_int_equal(get_int(sl, fd, IPPROTO_TCP, TCP_LINGER2), 120);
	assert_int_equal(get_int(sl, fd, IPPROTO_TCP, TCP_QUICKACK), 1);
	ts_close(sl, fd);
}

/* Close after our FIN was acknowledged: the orphan waits in FIN-WAIT-2 for TCP_LINGER2
 * seconds (5 here, not the default 60), then it is gone. */
static void test_linger2_holds_fin_wait_2(void **state)
{
	struct th *h = *state;
	struct socket_layer *sl = th_sl(h);
	int fd = th_established(h);
	assert_int_equal(set_int(sl, fd, IPPROTO_TCP, TCP_LINGER2, 5), 0);
	assert_int_equal(ts_shutdown(sl, fd, SHUT_WR), 0);
	th_expect(h, TCP_FLAG_FIN | TCP_FLAG_ACK, h->iss + 1, h->irs + 1, TH_ANY, NULL, 0);
	th_send(h, TCP_FLAG_ACK, h->irs + 1, h->iss + 2, 65535, NULL, NULL, 0);
	th_assert_state(h, TH_PEER_PORT, "FIN-WAIT-2");
	assert_int_equal(ts_close(sl, fd), 0);
	th_advance(h, 4900);
	th_assert_state(h, TH_PEER_PORT, "FIN-WAIT-2");
	th_advance(h, 200);
	assert_null(th_state(h, TH_PEER_PORT));
}

/* The peer acknowledges everything sent so far, until nothing more leaves; returns the
 * bytes acknowledged. */
static uint32_t ack_all_sent(struct th *h)
{
	uint32_t top = h->iss + 1;
	for (int round = 0; round < 50; round++) {
		struct th_seg s;
		bool any = false;
		while (th_pop_seg(h, &s)) {
			if ((int32_t)(s.hdr.seq + s.len - top) > 0)
				top = s.hdr.seq + s.len;
			any = true;
		}
		if (!any)
			break;
		th_send(h, TCP_FLAG_ACK, h->irs + 1, top, 65535, NULL, NULL, 0);
	}
	return top - (h->iss + 1);
}

/*
 * TCP_NOTSENT_LOWAT (Linux's tcp_stream_memory_free): 0 by default (the stack's setting,
 * no limit); with 4000, a write starts no new skb once 4000 bytes wait unsent, and the
 * socket is writable again only when less than half that waits (2 * unsent < 4000): once
 * the peer's ACKs have let the rest go.
 */
static void test_notsent_lowat(void **state)
{
	struct th *h = *state;
	struct socket_layer *sl = th_sl(h);
	int fd = th_established(h);
	static char big[60000];
	memset(big, 'n', sizeof(big));
	assert_int_equal(get_int(sl, fd, IPPROTO_TCP, TCP_NOTSENT_LOWAT), 0);
	assert_int_equal(set_int(sl, fd, IPPROTO_TCP, TCP_NOTSENT_LOWAT, 4000), 0);
	assert_int_equal(get_int(sl, fd, IPPROTO_TCP, TCP_NOTSENT_LOWAT), 4000);

	ssize_t n = ts_send(sl, fd, big, sizeof(big), 0);
	assert_true(n > 14600 && n < (ssize_t)sizeof(big)); /* the initial window, then one more skb */
	assert_false(ts_revents(sl, fd) & POLLOUT);
	assert_int_equal(ts_send(sl, fd, big, sizeof(big), 0), -EAGAIN);
	assert_int_equal(ack_all_sent(h), (uint32_t)n);
	assert_true(ts_revents(sl, fd) & POLLOUT);

	/* Without the mark the same write fills the send buffer instead. */
	assert_int_equal(set_int(sl, fd, IPPROTO_TCP, TCP_NOTSENT_LOWAT, 0), 0);
	ssize_t m = ts_send(sl, fd, big, sizeof(big), 0);
	assert_true(m > n);
}

/* The options Linux answers for every TCP socket, read back as Linux does: the protocol and
 * domain, the low-water marks (1), SO_BROADCAST and SO_PRIORITY as set (no effect on TCP
 * here, none on Linux's TCP either, or only its qdisc), IP_TOS, IP_MTU_DISCOVER (default
 * IP_PMTUDISC_WANT; out of range EINVAL) and IP_RECVERR as set. And bind() to an address
 * that is not the stack's is EADDRNOTAVAIL (Linux inet_bind). */
static void test_linux_option_reads(void **state)
{
	struct th *h = *state;
	struct socket_layer *sl = th_sl(h);
	int fd = ts_socket(sl, AF_INET, SOCK_STREAM, 0);
	assert_true(fd >= 0);
	assert_int_equal(get_int(sl, fd, SOL_SOCKET, SO_PROTOCOL), IPPROTO_TCP);
	assert_int_equal(get_int(sl, fd, SOL_SOCKET, SO_DOMAIN), AF_INET);
	assert_int_equal(get_int(sl, fd, SOL_SOCKET, SO_RCVLOWAT), 1);
	assert_int_equal(get_int(sl, fd, SOL_SOCKET, SO_SNDLOWAT), 1);
	assert_int_equal(get_int(sl, fd, SOL_SOCKET, SO_BROADCAST), 0);
	assert_int_equal(set_int(sl, fd, SOL_SOCKET, SO_BROADCAST, 1), 0);
	assert_int_equal(get_int(sl, fd, SOL_SOCKET, SO_BROADCAST), 1);
	assert_int_equal(set_int(sl, fd, SOL_SOCKET, SO_PRIORITY, 3), 0);
	assert_int_equal(get_int(sl, fd, SOL_SOCKET, SO_PRIORITY), 3);
	assert_int_equal(set_int(sl, fd, IPPROTO_IP, IP_TOS, 0x10), 0);
	assert_int_equal(get_int(sl, fd, IPPROTO_IP, IP_TOS), 0x10);
	assert_int_equal(get_int(sl, fd, IPPROTO_IP, IP_MTU_DISCOVER), IP_PMTUDISC_WANT);
	assert_int_equal(set_int(sl, fd, IPPROTO_IP, IP_MTU_DISCOVER, IP_PMTUDISC_DO), 0);
	assert_int_equal(get_int(sl, fd, IPPROTO_IP, IP_MTU_DISCOVER), IP_PMTUDISC_DO);
	assert_int_equal(set_int(sl, fd, IPPROTO_IP, IP_MTU_DISCOVER, 9), -EINVAL);
	assert_int_equal(set_int(sl, fd, IPPROTO_IP, IP_RECVERR, 1), 0);
	assert_int_equal(get_int(sl, fd, IPPROTO_IP, IP_RECVERR), 1);
	/* A short room gets the int's first bytes (Linux copies min(len, 4)); an IP option
	 * that fits gets one unsigned char; a level nobody knows is EOPNOTSUPP to get and
	 * ENOPROTOOPT to set (ip_getsockopt, ip_setsockopt). */
	unsigned char b[4] = { 0xee, 0xee, 0xee, 0xee };
	socklen_t blen = 2;
	assert_int_equal(set_int(sl, fd, SOL_SOCKET, SO_RCVBUF, 0x4000), 0);
	assert_int_equal(ts_getsockopt(sl, fd, SOL_SOCKET, SO_RCVBUF, b, &blen), 0);
	assert_int_equal(blen, 2);
	assert_int_equal(b[0] | b[1] << 8, 0x8000);
	assert_int_equal(b[2], 0xee);
	/* Clamped to net.core.rmem_max / wmem_max (212992) before doubling; a negative value
	 * is a huge one; at least SOCK_MIN_RCVBUF / SOCK_MIN_SNDBUF (sock_setsockopt). */
	assert_int_equal(set_int(sl, fd, SOL_SOCKET, SO_RCVBUF, 1 << 30), 0);
	assert_int_equal(get_int(sl, fd, SOL_SOCKET, SO_RCVBUF), 425984);
	assert_int_equal(set_int(sl, fd, SOL_SOCKET, SO_SNDBUF, -1), 0);
	assert_int_equal(get_int(sl, fd, SOL_SOCKET, SO_SNDBUF), 425984);
	assert_int_equal(set_int(sl, fd, SOL_SOCKET, SO_RCVBUF, 1), 0);
	assert_int_equal(get_int(sl, fd, SOL_SOCKET, SO_RCVBUF), 2304);
	assert_int_equal(set_int(sl, fd, SOL_SOCKET, SO_SNDBUF, 0), 0);
	assert_int_equal(get_int(sl, fd, SOL_SOCKET, SO_SNDBUF), 4608);
	/* SO_LINGER with a negative time lingers for ever (Linux: MAX_SCHEDULE_TIMEOUT), read
	 * back as that over HZ in an int; not the abortive close of a zero time. */
	struct linger lg = { 1, -5 };
	assert_int_equal(ts_setsockopt(sl, fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)), 0);
	socklen_t llen = sizeof(lg);
	assert_int_equal(ts_getsockopt(sl, fd, SOL_SOCKET, SO_LINGER, &lg, &llen), 0);
	assert_int_equal(lg.l_onoff, 1);
	assert_int_equal(lg.l_linger, -1752346657); /* INT64_MAX / 250, its low 32 bits */
	blen = 2;
	assert_int_equal(ts_getsockopt(sl, fd, IPPROTO_IP, IP_TOS, b, &blen), 0);
	assert_int_equal(blen, 1);
	assert_int_equal(b[0], 0x10);
	blen = 0;
	assert_int_equal(ts_getsockopt(sl, fd, IPPROTO_TCP, TCP_NODELAY, b, &blen), 0);
	assert_int_equal(blen, 0);
	blen = sizeof(b);
	assert_int_equal(ts_getsockopt(sl, fd, 12345, 1, b, &blen), -EOPNOTSUPP);
	assert_int_equal(set_int(sl, fd, 12345, 1, 1), -ENOPROTOOPT);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(5555), .sin_addr.s_addr = htonl(0x01020304) };
	assert_int_equal(ts_bind(sl, fd, &a), -EADDRNOTAVAIL);
	a.sin_addr.s_addr = htonl(TH_LOCAL_IP);
	assert_int_equal(ts_bind(sl, fd, &a), 0);
	/* shutdown(SHUT_WR) of a listener does nothing and succeeds (Linux inet_shutdown). */
	assert_int_equal(ts_listen(sl, fd, 4), 0);
	assert_int_equal(ts_shutdown(sl, fd, SHUT_WR), 0);
	assert_int_equal(get_int(sl, fd, SOL_SOCKET, SO_ACCEPTCONN), 1);
	assert_int_equal(ts_close(sl, fd), 0);
}

/* IP_TOS and IP_TTL as Linux applies them (RFC 9293 MUST-48, SHLD-21, RFC 1122 3.2.1.7):
 * the SYN-ACK carries the listener's values, not the SYN's TOS (tcp_reflect_tos 0), the
 * accepted connection inherits them, a change on a connection reaches its next segment, a
 * stream socket's ECN bits are not the program's to set, IP_TTL -1 is the default (64) and
 * 0, 256 or -2 EINVAL. A RST for a closed port answers with the SYN's TOS less ECN. */
static void test_ip_tos_and_ttl(void **state)
{
	struct th *h = *state;
	struct socket_layer *sl = th_sl(h);
	int lfd = th_listen(h, 80, 8);
	assert_int_equal(get_int(sl, lfd, IPPROTO_IP, IP_TTL), 64);
	assert_int_equal(set_int(sl, lfd, IPPROTO_IP, IP_TOS, 0x28), 0);
	assert_int_equal(set_int(sl, lfd, IPPROTO_IP, IP_TTL, 9), 0);
	assert_int_equal(get_int(sl, lfd, IPPROTO_IP, IP_TTL), 9);
	for (int bad = 0; bad < 3; bad++)
		assert_int_equal(set_int(sl, lfd, IPPROTO_IP, IP_TTL, (int[]){ 0, 256, -2 }[bad]), -EINVAL);
	unsigned char one = 17; /* a char argument, as Linux takes for IP options */
	assert_int_equal(ts_setsockopt(sl, lfd, IPPROTO_IP, IP_TTL, &one, 1), 0);
	assert_int_equal(get_int(sl, lfd, IPPROTO_IP, IP_TTL), 17);

	h->tos = 0xb8;
	th_send(h, TCP_FLAG_SYN, h->irs, 0, 65535, NULL, NULL, 0);
	struct th_seg s = th_expect(h, TCP_FLAG_SYN | TCP_FLAG_ACK, TH_ANY, h->irs + 1, TH_ANY, TH_ANY_OPTS, 0);
	assert_int_equal(s.tos, 0x28);
	assert_int_equal(s.ttl, 17);
	h->iss = s.hdr.seq;
	th_send(h, TCP_FLAG_ACK, h->irs + 1, h->iss + 1, 65535, NULL, NULL, 0);
	struct sockaddr_in peer;
	int fd = ts_accept(sl, lfd, &peer, SOCK_NONBLOCK);
	assert_true(fd >= 0);
	assert_int_equal(get_int(sl, fd, IPPROTO_IP, IP_TOS), 0x28);
	assert_int_equal(ts_send(sl, fd, "a", 1, 0), 1);
	s = th_expect(h, TCP_FLAG_ACK | TH_PSH_ANY, h->iss + 1, h->irs + 1, TH_ANY, NULL, 1);
	assert_int_equal(s.tos, 0x28);
	assert_int_equal(s.ttl, 17);
	th_send(h, TCP_FLAG_ACK, h->irs + 1, h->iss + 2, 65535, NULL, NULL, 0);

	assert_int_equal(set_int(sl, fd, IPPROTO_IP, IP_TOS, 0x13), 0);
	assert_int_equal(get_int(sl, fd, IPPROTO_IP, IP_TOS), 0x10);
	assert_int_equal(set_int(sl, fd, IPPROTO_IP, IP_TTL, -1), 0);
	assert_int_equal(get_int(sl, fd, IPPROTO_IP, IP_TTL), 64);
	assert_int_equal(ts_send(sl, fd, "b", 1, 0), 1);
	s = th_expect(h, TCP_FLAG_ACK | TH_PSH_ANY, h->iss + 2, h->irs + 1, TH_ANY, NULL, 1);
	assert_int_equal(s.tos, 0x10);
	assert_int_equal(s.ttl, 64);

	h->tos = 0xbb;
	h->local_port = 81;
	th_send(h, TCP_FLAG_SYN, 5000, 0, 65535, NULL, NULL, 0);
	s = th_expect(h, TCP_FLAG_RST | TCP_FLAG_ACK, 0, 5001, 0, NULL, 0);
	assert_int_equal(s.tos, 0xb8);
	assert_int_equal(s.ttl, 64);

	int ufd = ts_socket(sl, AF_INET, SOCK_DGRAM, 0);
	assert_true(ufd >= 0);
	assert_int_equal(get_int(sl, ufd, IPPROTO_IP, IP_TTL), 64);
	assert_int_equal(set_int(sl, ufd, IPPROTO_IP, IP_TTL, 1), 0);
	assert_int_equal(get_int(sl, ufd, IPPROTO_IP, IP_TTL), 1);
	assert_int_equal(set_int(sl, ufd, IPPROTO_IP, IP_TTL, 0), -EINVAL);
	assert_int_equal(ts_close(sl, ufd), 0);
}

/* TCP_WINDOW_CLAMP as Linux (tcp_set_window_clamp, tcp_select_initial_window): set on a
 * listener it bounds the SYN-ACK's window and the scale offered (none needed for 5000), and
 * the accepted connection starts from it; on the connection it moves the clamp, never below
 * SOCK_MIN_RCVBUF / 2, and 0 is refused while the connection lives. */
static void test_window_clamp(void **state)
{
	struct th *h = *state;
	struct socket_layer *sl = th_sl(h);
	int lfd = th_listen(h, 80, 8);
	assert_int_equal(get_int(sl, lfd, IPPROTO_TCP, TCP_WINDOW_CLAMP), 0);
	assert_int_equal(set_int(sl, lfd, IPPROTO_TCP, TCP_WINDOW_CLAMP, 0), -EINVAL);
	assert_int_equal(set_int(sl, lfd, IPPROTO_TCP, TCP_WINDOW_CLAMP, 5000), 0);
	struct tcp_opts syn = th_linux_syn_opts(100);
	th_send(h, TCP_FLAG_SYN, h->irs, 0, 65535, &syn, NULL, 0);
	struct th_seg s = th_expect(h, TCP_FLAG_SYN | TCP_FLAG_ACK, TH_ANY, h->irs + 1, TH_ANY, TH_ANY_OPTS, 0);
	assert_true(s.hdr.win <= 5000 && s.hdr.win > 0);
	assert_true(s.hdr.opts.has_wscale);
	assert_int_equal(s.hdr.opts.wscale, 0);
	h->iss = s.hdr.seq;
	struct tcp_opts ack = { .has_ts = true, .ts_val = 101, .ts_ecr = s.hdr.opts.ts_val };
	th_send(h, TCP_FLAG_ACK, h->irs + 1, h->iss + 1, 65535, &ack, NULL, 0);
	struct sockaddr_in peer;
	int fd = ts_accept(sl, lfd, &peer, SOCK_NONBLOCK);
	assert_true(fd >= 0);
	int clamp = get_int(sl, fd, IPPROTO_TCP, TCP_WINDOW_CLAMP);
	assert_true(clamp > 0 && clamp <= 5000);
	assert_int_equal(set_int(sl, fd, IPPROTO_TCP, TCP_WINDOW_CLAMP, 0), -EINVAL);
	assert_int_equal(set_int(sl, fd, IPPROTO_TCP, TCP_WINDOW_CLAMP, 100), 0);
	assert_int_equal(get_int(sl, fd, IPPROTO_TCP, TCP_WINDOW_CLAMP), 1152);
	assert_int_equal(set_int(sl, fd, IPPROTO_TCP, TCP_WINDOW_CLAMP, 3000), 0);
	assert_int_equal(get_int(sl, fd, IPPROTO_TCP, TCP_WINDOW_CLAMP), 3000);
}

/* TCP_LINGER2 -1: closing in FIN-WAIT-2 resets at once instead of waiting (Linux). */
static void test_linger2_negative_resets(void **state)
{
	struct th *h = *state;
	struct socket_layer *sl = th_sl(h);
	int fd = th_established(h);
	assert_int_equal(set_int(sl, fd, IPPROTO_TCP, TCP_LINGER2, -1), 0);
	assert_int_equal(ts_shutdown(sl, fd, SHUT_WR), 0);
	th_expect(h, TCP_FLAG_FIN | TCP_FLAG_ACK, h->iss + 1, h->irs + 1, TH_ANY, NULL, 0);
	th_send(h, TCP_FLAG_ACK, h->irs + 1, h->iss + 2, 65535, NULL, NULL, 0);
	assert_int_equal(ts_close(sl, fd), 0);
	th_expect(h, TCP_FLAG_RST | TCP_FLAG_ACK, h->iss + 2, h->irs + 1, TH_ANY, NULL, 0);
	assert_null(th_state(h, TH_PEER_PORT));
}

/*
 * TCP_QUICKACK 1 and a read release a held ACK as Linux's __tcp_cleanup_rbuf does: a short
 * segment waits for the delayed-ACK timer; TCP_QUICKACK 1 while it is still unread sends
 * nothing, the read that empties the queue sends the ACK at once. The whole sequence,
 * quick ACKs included, is what Linux 6.18 sends for the same packetdrill script (run on
 * this machine's kernel): SO_RCVBUF 20000, the peer's MSS 1000, twelve segments 10 ms
 * apart, each read at once - nine quick ACKs while the window grows, a delayed one, one
 * for two segments, a delayed one.
 */
static void test_quickack_and_read_release_held_ack(void **state)
{
	struct th *h = *state;
	struct socket_layer *sl = th_sl(h);
	int lfd = th_listen(h, 80, 8);
	assert_int_equal(set_int(sl, lfd, SOL_SOCKET, SO_RCVBUF, 20000), 0);
	struct tcp_opts o = th_mss_opts(1000);
	int fd = th_open_passive(h, lfd, &o, 65535);
	char seg[1000], buf[1000];
	memset(seg, 'a', sizeof(seg));
	uint32_t seq = h->irs + 1;
	for (int i = 0; i < 12; i++) {
		th_advance(h, 10);
		th_send(h, TCP_FLAG_ACK, seq, h->iss + 1, 65535, NULL, seg, sizeof(seg));
		seq += sizeof(seg);
		if (i < 9 || i == 10)
			th_expect(h, TCP_FLAG_ACK, h->iss + 1, seq, TH_ANY, NULL, 0);
		else
			th_expect_none(h);
		assert_int_equal(ts_recv(sl, fd, buf, sizeof(buf), 0), (ssize_t)sizeof(buf));
		if (i == 9)
			th_expect_none(h); /* one segment unacknowledged: the read does not send it */
	}
	assert_int_equal(th_advance_until_seg(h, 1000), 40);
	th_expect(h, TCP_FLAG_ACK, h->iss + 1, seq, TH_ANY, NULL, 0);

	th_advance(h, 150); /* less than the RTO: a longer silence would start quick-ACK mode again */
	th_send(h, TCP_FLAG_ACK | TCP_FLAG_PSH, seq, h->iss + 1, 65535, NULL, "x", 1);
	seq += 1;
	th_expect_none(h);
	th_advance(h, 10);
	assert_int_equal(set_int(sl, fd, IPPROTO_TCP, TCP_QUICKACK, 1), 0);
	th_expect_none(h); /* the byte is still unread */
	th_advance(h, 10);
	assert_int_equal(ts_recv(sl, fd, buf, sizeof(buf), 0), 1);
	th_expect(h, TCP_FLAG_ACK, h->iss + 1, seq, TH_ANY, NULL, 0);
	th_expect_none(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_setsockopt_after_listen_reaches_next_connection, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_defer_accept_after_listen, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_keepalive_knobs, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_option_ranges, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_linger2_holds_fin_wait_2, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_linger2_negative_resets, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_quickack_and_read_release_held_ack, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_notsent_lowat, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_linux_option_reads, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_ip_tos_and_ttl, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_window_clamp, th_setup, th_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
