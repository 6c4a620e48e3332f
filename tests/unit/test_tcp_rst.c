/*
 * test_tcp_rst.c - every RST rule, frame by frame (RFC 9293 3.5.2 and 3.10.7.1, RFC 5961).
 *
 *   SYN to a closed port        -> RST|ACK, SEQ 0, ACK = SEG.SEQ + SEG.LEN (+1 SYN, +1 FIN), win 0, no options
 *   no-ACK segment, closed port -> the same rule (data and FIN count)
 *   ACK to no connection        -> RST, SEQ = SEG.ACK, no ACK bit
 *   RST to anything unknown     -> nothing
 *   broadcast (link or IP)      -> nothing
 *   ACK to a listener           -> RST, SEQ = SEG.ACK
 *   in-window RST, not exact    -> challenge ACK (RFC 5961 3.2); exact RST resets
 *   out-of-window RST           -> dropped
 *   SYN on an established conn  -> challenge ACK (RFC 5961 4.2), connection stays
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

#define RSTACK (TCP_FLAG_RST | TCP_FLAG_ACK)

/* The classic "connection refused": exactly RST|ACK seq 0 ack ISN+1 win 0, no options. */
static void test_syn_to_closed_port(void **state)
{
	struct th *h = *state;
	h->local_port = 81;
	struct tcp_opts o = th_linux_syn_opts(99);
	th_send(h, TCP_FLAG_SYN, 0x12345678, 0, 64240, &o, NULL, 0);
	th_expect(h, RSTACK, 0, 0x12345679, 0, NULL, 0);
	th_expect_none(h);
	assert_int_equal(th_counter(h, "tcp", "OutRsts"), 1);
	/* Also with a listener on another port. */
	th_listen(h, 80, 8);
	th_send(h, TCP_FLAG_SYN, 0xfffffffe, 0, 64240, NULL, NULL, 0);
	th_expect(h, RSTACK, 0, 0xffffffff, 0, NULL, 0);
	/* ISN 0xffffffff: the ACK wraps to 0. */
	th_send(h, TCP_FLAG_SYN, 0xffffffff, 0, 64240, NULL, NULL, 0);
	th_expect(h, RSTACK, 0, 0, 0, NULL, 0);
}

/* Segments without ACK: SEG.LEN counts data, SYN and FIN (RFC 9293 3.10.7.1). */
static void test_no_ack_segments_to_closed_port(void **state)
{
	struct th *h = *state;
	h->local_port = 81;
	th_send(h, TCP_FLAG_SYN, 5000, 0, 1024, NULL, "abcdefghij", 10);
	th_expect(h, RSTACK, 0, 5011, 0, NULL, 0);
	th_send(h, TCP_FLAG_FIN, 6000, 0, 1024, NULL, NULL, 0);
	th_expect(h, RSTACK, 0, 6001, 0, NULL, 0);
	th_send(h, TCP_FLAG_PSH, 7000, 0, 1024, NULL, "xyz", 3);
	th_expect(h, RSTACK, 0, 7003, 0, NULL, 0);
	th_send(h, 0, 8000, 0, 1024, NULL, NULL, 0);
	th_expect(h, RSTACK, 0, 8000, 0, NULL, 0);
	/* SYN and FIN together count two. */
	th_send(h, TCP_FLAG_SYN | TCP_FLAG_FIN, 9000, 0, 1024, NULL, NULL, 0);
	th_expect(h, RSTACK, 0, 9002, 0, NULL, 0);
	th_expect_none(h);
}

/* A segment with ACK to no connection: RST with SEQ = SEG.ACK and no ACK bit. */
static void test_ack_to_no_connection(void **state)
{
	struct th *h = *state;
	h->local_port = 81;
	th_send(h, TCP_FLAG_ACK, 1000, 0xdeadbeef, 1024, NULL, NULL, 0);
	th_expect(h, TCP_FLAG_RST, 0xdeadbeef, 0, 0, NULL, 0);
	th_send(h, TCP_FLAG_ACK | TCP_FLAG_PSH, 1000, 77, 1024, NULL, "data", 4);
	th_expect(h, TCP_FLAG_RST, 77, 0, 0, NULL, 0);
	th_send(h, TCP_FLAG_ACK | TCP_FLAG_FIN, 1000, 78, 1024, NULL, NULL, 0);
	th_expect(h, TCP_FLAG_RST, 78, 0, 0, NULL, 0);
	/* SYN|ACK to no connection (a stray reply): RST with SEQ = SEG.ACK. */
	th_send(h, TCP_FLAG_SYN | TCP_FLAG_ACK, 1000, 79, 1024, NULL, NULL, 0);
	th_expect(h, TCP_FLAG_RST, 79, 0, 0, NULL, 0);
	th_expect_none(h);
}

/* A RST never gets a RST (RFC 9293 3.10.7.1), with or without ACK, listener or not. */
static void test_rst_to_closed_port_gets_nothing(void **state)
{
	struct th *h = *state;
	h->local_port = 81;
	th_send(h, TCP_FLAG_RST, 1000, 0, 0, NULL, NULL, 0);
	th_send(h, RSTACK, 1000, 2000, 0, NULL, NULL, 0);
	th_send(h, TCP_FLAG_RST | TCP_FLAG_SYN, 1000, 0, 0, NULL, NULL, 0);
	th_expect_none(h);
	th_listen(h, 80, 8);
	h->local_port = 80;
	th_send(h, TCP_FLAG_RST, 1000, 0, 0, NULL, NULL, 0);
	th_send(h, RSTACK, 1000, 2000, 0, NULL, NULL, 0);
	th_expect_none(h);
}

/* Broadcast gets nothing: link broadcast with our IP, the subnet broadcast, the limited
 * broadcast; closed port and listening port alike (RFC 1122 4.2.3.10). */
static void test_broadcast_gets_nothing(void **state)
{
	struct th *h = *state;
	static const uint8_t bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
	static const uint8_t mcast[6] = {0x01, 0x00, 0x5e, 0x00, 0x00, 0x01};
	th_listen(h, 80, 8);
	static const uint16_t ports[] = {80, 81};
	for (size_t i = 0; i < 2; i++) {
		h->local_port = ports[i];
		h->dst_mac = bcast;
		h->dst_ip = TH_LOCAL_IP;
		th_send(h, TCP_FLAG_SYN, 1000, 0, 1024, NULL, NULL, 0);
		th_send(h, TCP_FLAG_ACK, 1000, 5, 1024, NULL, NULL, 0);
		h->dst_ip = 0x0a0000ffu;    /* 10.0.0.255 */
		th_send(h, TCP_FLAG_SYN, 1000, 0, 1024, NULL, NULL, 0);
		h->dst_ip = 0xffffffffu;
		th_send(h, TCP_FLAG_SYN, 1000, 0, 1024, NULL, NULL, 0);
		/* IP broadcast inside a unicast frame is still broadcast. */
		h->dst_mac = th_local_mac;
		h->dst_ip = 0x0a0000ffu;
		th_send(h, TCP_FLAG_SYN, 1000, 0, 1024, NULL, NULL, 0);
		h->dst_mac = mcast;
		h->dst_ip = TH_LOCAL_IP;
		th_send(h, TCP_FLAG_SYN, 1000, 0, 1024, NULL, NULL, 0);
		th_expect_none(h);
	}
	assert_null(th_state(h, TH_PEER_PORT));
	/* Unicast again: answered, so the silence above was about broadcast. */
	h->dst_mac = th_local_mac;
	h->dst_ip = TH_LOCAL_IP;
	h->local_port = 81;
	th_send(h, TCP_FLAG_SYN, 1000, 0, 1024, NULL, NULL, 0);
	th_expect(h, RSTACK, 0, 1001, 0, NULL, 0);
}

/* An ACK to a listener (no request entry matches) gets RST with SEQ = SEG.ACK
 * (RFC 9293 3.10.7.2, LISTEN: "any acknowledgment is bad"); the listener survives. */
static void test_ack_to_listener(void **state)
{
	struct th *h = *state;
	struct socket_layer *sl = th_sl(h);
	int lfd = th_listen(h, 80, 8);
	th_send(h, TCP_FLAG_ACK, 1000, 4242, 1024, NULL, NULL, 0);
	th_expect(h, TCP_FLAG_RST, 4242, 0, 0, NULL, 0);
	th_send(h, TCP_FLAG_ACK | TCP_FLAG_PSH, 1000, 4343, 1024, NULL, "hi", 2);
	th_expect(h, TCP_FLAG_RST, 4343, 0, 0, NULL, 0);
	th_expect_none(h);
	struct sockaddr_in peer;
	assert_int_equal(ts_accept(sl, lfd, &peer, SOCK_NONBLOCK), -EAGAIN);
	/* Still listening. */
	int fd = th_open_passive(h, lfd, NULL, 65535);
	assert_true(fd >= 0);
}

/* RFC 5961 3.2: a RST inside the window but not at RCV.NXT gets a challenge ACK
 * (<SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>) and the connection stays; a RST outside the window
 * is dropped silently; the exact RST resets: recv reports ECONNRESET, nothing is sent. */
static void test_rst_challenge_ack(void **state)
{
	struct th *h = *state;
	struct socket_layer *sl = th_sl(h);
	int fd = th_established(h);
	char buf[8];

	th_send(h, TCP_FLAG_RST, h->irs + 1 + 100, 0, 0, NULL, NULL, 0);
	th_expect(h, TCP_FLAG_ACK, h->iss + 1, h->irs + 1, TH_ANY, NULL, 0);
	th_expect_none(h);
	th_assert_state(h, TH_PEER_PORT, "ESTABLISHED");
	assert_int_equal(ts_recv(sl, fd, buf, sizeof(buf), 0), -EAGAIN);

	/* Outside the window (before RCV.NXT, and far beyond): silently dropped. */
	th_advance(h, 1000);  /* past any challenge-ACK rate limit */
	th_send(h, TCP_FLAG_RST, h->irs, 0, 0, NULL, NULL, 0);
	th_send(h, TCP_FLAG_RST, h->irs + 1 + 0x40000000u, 0, 0, NULL, NULL, 0);
	th_expect_none(h);
	th_assert_state(h, TH_PEER_PORT, "ESTABLISHED");

	/* RST|ACK at RCV.NXT: reset. */
	th_send(h, RSTACK, h->irs + 1, h->iss + 1, 0, NULL, NULL, 0);
	th_expect_none(h);
	assert_null(th_state(h, TH_PEER_PORT));
	assert_int_equal(ts_recv(sl, fd, buf, sizeof(buf), 0), -ECONNRESET);
	/* Now the 4-tuple is unknown: an ACK gets a RST. */
	th_send(h, TCP_FLAG_ACK, h->irs + 1, h->iss + 1, 65535, NULL, NULL, 0);
	th_expect(h, TCP_FLAG_RST, h->iss + 1, 0, 0, NULL, 0);
	ts_close(sl, fd);
}

/* RFC 5961 4.2: a SYN on a synchronized connection gets a challenge ACK, whatever its
 * sequence number, and the connection stays established and usable. */
static void test_syn_in_established_challenge_ack(void **state)
{
	struct th *h = *state;
	struct socket_layer *sl = th_sl(h);
	int fd = th_established(h);

	th_send(h, TCP_FLAG_SYN, h->irs + 1 + 500, 0, 65535, NULL, NULL, 0);
	th_expect(h, TCP_FLAG_ACK, h->iss + 1, h->irs + 1, TH_ANY, NULL, 0);
	th_expect_none(h);
	th_assert_state(h, TH_PEER_PORT, "ESTABLISHED");

	th_advance(h, 1000);
	th_send(h, TCP_FLAG_SYN, h->irs + 0x7000000u, 0, 65535, NULL, NULL, 0);
	th_expect(h, TCP_FLAG_ACK, h->iss + 1, h->irs + 1, TH_ANY, NULL, 0);
	th_assert_state(h, TH_PEER_PORT, "ESTABLISHED");

	/* Still usable. */
	th_send(h, TCP_FLAG_ACK | TCP_FLAG_PSH, h->irs + 1, h->iss + 1, 65535, NULL, "ok", 2);
	char buf[4];
	assert_int_equal(ts_recv(sl, fd, buf, sizeof(buf), 0), 2);
	assert_memory_equal(buf, "ok", 2);
}

/* A segment with a bad TCP checksum is dropped without any answer (and counted). */
static void test_bad_checksum_dropped(void **state)
{
	struct th *h = *state;
	/* Build a SYN to a closed port and break its checksum: no RST may come back. */
	uint8_t f[60];
	memset(f, 0, sizeof(f));
	memcpy(f, th_local_mac, 6);
	memcpy(f + 6, th_peer_mac, 6);
	f[12] = 0x08;
	uint8_t ip[] = {0x45, 0, 0, 40, 0, 1, 0x40, 0, 64, 6, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2};
	memcpy(f + 14, ip, sizeof(ip));
	/* IP checksum. */
	uint32_t s = 0;
	for (int i = 0; i < 20; i += 2)
		s += (uint32_t)(f[14 + i] << 8 | f[15 + i]);
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	f[24] = (uint8_t)(~s >> 8);
	f[25] = (uint8_t)~s;
	uint8_t *t = f + 34;
	t[0] = 0x9c; t[1] = 0x40;     /* 40000 */
	t[2] = 0; t[3] = 81;
	t[7] = 1;                     /* seq 1 */
	t[12] = 0x50;
	t[13] = TCP_FLAG_SYN;
	t[14] = 4;
	t[16] = 0x12; t[17] = 0x34;   /* wrong checksum */
	th_inject(h, f, sizeof(f));
	th_expect_none(h);
	assert_int_equal(th_counter(h, "tcp", "InCsumErrors"), 1);
}

/* RFC 5961 7 / Linux: challenge ACKs are rate-limited (1000 per second by default), so a
 * flood of in-window RSTs cannot make the stack flood the network; the budget refills the
 * next second. */
static void test_challenge_ack_rate_limited(void **state)
{
	struct th *h = *state;
	th_established(h);
	th_advance(h, 1000);
	unsigned acks = 0;
	for (int i = 0; i < 1500; i++) {
		th_send(h, TCP_FLAG_RST, h->irs + 1 + 10 + (uint32_t)i, 0, 0, NULL, NULL, 0);
		struct th_seg s;
		while (th_pop_seg(h, &s)) {
			assert_int_equal(s.hdr.flags, TCP_FLAG_ACK);
			acks++;
		}
	}
	if (acks < 1 || acks > 1000)
		fail_msg("%u challenge ACKs for 1500 RSTs within one second (limit 1000)", acks);
	th_assert_state(h, TH_PEER_PORT, "ESTABLISHED");
	th_advance(h, 1100);
	th_send(h, TCP_FLAG_RST, h->irs + 1 + 10, 0, 0, NULL, NULL, 0);
	th_expect(h, TCP_FLAG_ACK, h->iss + 1, h->irs + 1, TH_ANY, NULL, 0);
}

/* In SYN-SENT (RFC 9293 3.10.7.3): a SYN-ACK acknowledging something other than our SYN
 * gets <SEQ=SEG.ACK><CTL=RST> and the attempt goes on; a RST with a bad ACK is ignored;
 * the right SYN-ACK then completes the open. */
static void test_syn_sent_bad_ack(void **state)
{
	struct th *h = *state;
	struct socket_layer *sl = th_sl(h);
	struct th_seg syn;
	int fd = th_connect(h, 80, &syn);

	th_send(h, TCP_FLAG_SYN | TCP_FLAG_ACK, h->irs, h->iss + 77, 65535, NULL, NULL, 0);
	th_expect(h, TCP_FLAG_RST, h->iss + 77, 0, 0, NULL, 0);
	th_send(h, TCP_FLAG_RST | TCP_FLAG_ACK, 0, h->iss + 77, 0, NULL, NULL, 0);
	th_expect_none(h);
	th_assert_state(h, 80, "SYN-SENT");
	assert_false(ts_revents(sl, fd) & (POLLERR | POLLOUT));

	th_send(h, TCP_FLAG_SYN | TCP_FLAG_ACK, h->irs, h->iss + 1, 65535, NULL, NULL, 0);
	th_expect(h, TCP_FLAG_ACK, h->iss + 1, h->irs + 1, TH_ANY, NULL, 0);
	assert_true(ts_revents(sl, fd) & POLLOUT);
}

/* Simultaneous open (RFC 9293 3.5, figure 8): our SYN crosses the peer's SYN; we answer
 * with SYN-ACK (SYN-RECEIVED), the peer's SYN-ACK completes it. */
static void test_simultaneous_open(void **state)
{
	struct th *h = *state;
	struct socket_layer *sl = th_sl(h);
	struct th_seg syn;
	int fd = th_connect(h, 80, &syn);

	struct tcp_opts mss = th_mss_opts(1460);
	th_send(h, TCP_FLAG_SYN, h->irs, 0, 65535, &mss, NULL, 0);
	th_expect(h, TCP_FLAG_SYN | TCP_FLAG_ACK, h->iss, h->irs + 1, TH_ANY, TH_ANY_OPTS, 0);
	th_assert_state(h, 80, "SYN-RECEIVED");
	th_send(h, TCP_FLAG_SYN | TCP_FLAG_ACK, h->irs, h->iss + 1, 65535, &mss, NULL, 0);
	th_assert_state(h, 80, "ESTABLISHED");
	struct th_seg s;
	while (th_pop_seg(h, &s))
		if (s.hdr.flags & (TCP_FLAG_SYN | TCP_FLAG_RST))
			fail_msg("answered the peer's SYN-ACK with flags 0x%x (seq %u relative)", s.hdr.flags,
			         s.hdr.seq - h->iss);
	assert_true(ts_revents(sl, fd) & POLLOUT);
}

/* A flood of SYNs from many ports: memory stays bounded (the SYN queue is bounded; past it
 * the stack answers with SYN cookies like Linux's tcp_syncookies=1, keeping no state), and
 * once the flood is over a normal client connects. */
struct count_arg {
	unsigned half_open;
};

static void count_half_open(const struct tcp_sock_info *i, void *arg)
{
	if (th_state_name_eq(i->state, "SYN-RECEIVED"))
		((struct count_arg *)arg)->half_open++;
}

static void test_syn_flood_bounded(void **state)
{
	struct th *h = *state;
	int lfd = th_listen(h, 80, 128);
	struct tcp_opts mss = th_mss_opts(1460);
	uint32_t synacks = 0;
	for (uint32_t i = 0; i < 20000; i++) {
		h->peer_port = (uint16_t)(1024 + i);
		th_send(h, TCP_FLAG_SYN, i * 7919u, 0, 65535, &mss, NULL, 0);
		struct th_seg s;
		while (th_pop_seg(h, &s)) {
			assert_int_equal(s.hdr.flags, TCP_FLAG_SYN | TCP_FLAG_ACK);
			synacks++;
		}
	}
	assert_true(synacks > 0);
	struct count_arg c = {0};
	tcp_foreach_sock(&h->st.tcp, count_half_open, &c);
	if (c.half_open > 4096)
		fail_msg("%u half-open requests kept for backlog 128: the SYN queue is not bounded", c.half_open);
	assert_true(h->st.core.pool.cls[0].in_use < 1000);
	/* The requests expire (5 retries, about 63 s); then a client gets through. */
	th_advance(h, 70000);
	th_drain(h);
	h->peer_port = 60000;
	int fd = th_open_passive(h, lfd, &mss, 65535);
	assert_true(fd >= 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_syn_to_closed_port, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_no_ack_segments_to_closed_port, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_ack_to_no_connection, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_rst_to_closed_port_gets_nothing, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_broadcast_gets_nothing, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_ack_to_listener, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_rst_challenge_ack, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_syn_in_established_challenge_ack, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_bad_checksum_dropped, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_challenge_ack_rate_limited, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_syn_sent_bad_ack, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_simultaneous_open, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_syn_flood_bounded, th_setup, th_teardown),
	};
	return cmocka_run_group_tests_name("tcp_rst", tests, NULL, NULL);
}
