/*
 * test_loopback.c - datagrams to ourselves (stack/ip/ipv4.c ipv4_loop, stack/stack.c): a
 * program on the stack that connects to the stack's own address or to 127.x reaches its own
 * listener, as on Linux through lo, and nothing goes out on the wire. Packet bench, fake
 * clock: the harness records every frame the stack sends, and there must be none.
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

static struct sockaddr_in addr_of(uint32_t ip, uint16_t port)
{
	struct sockaddr_in a;
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_port = htons(port);
	a.sin_addr.s_addr = htonl(ip);
	return a;
}

/* Rounds of the stack at the current time: each delivers what the last one looped. */
static void spin(struct th *h, int rounds)
{
	for (int i = 0; i < rounds; i++)
		th_poll(h);
}

/* A client socket of the stack connects to `ip` (ours or 127.x) and port 80, where the stack
 * listens; returns the client, *srv the accepted end. */
static int open_to_self(struct th *h, int lfd, uint32_t ip, int *srv)
{
	struct socket_layer *sl = th_sl(h);
	int fd = ts_socket(sl, AF_INET, SOCK_STREAM, 0);
	assert_true(fd >= 0);
	assert_int_equal(ts_set_nonblock(sl, fd, true), 0);
	struct sockaddr_in a = addr_of(ip, 80);
	assert_int_equal(ts_connect(sl, fd, &a), -EINPROGRESS);
	/* The next round is due at once: a datagram to ourselves waits. */
	assert_int_equal(ts_stack_next_deadline(&h->st), h->now);
	spin(h, 4);
	assert_int_equal(ts_connect(sl, fd, &a), 0); /* established: 0 once, as Linux */
	struct sockaddr_in peer;
	*srv = ts_accept(sl, lfd, &peer, SOCK_NONBLOCK);
	assert_true(*srv >= 0);
	assert_int_equal(ts_connect(sl, *srv, &a), -EISCONN);
	return fd;
}

/* Our own address: the handshake, 1 MB each way byte-exact, and the close, all without one
 * frame on the wire. */
static void test_connect_to_own_address(void **state)
{
	struct th *h = *state;
	struct socket_layer *sl = th_sl(h);
	int lfd = th_listen(h, 80, 8);
	int srv, cli = open_to_self(h, lfd, TH_LOCAL_IP, &srv);
	struct sockaddr_in me;
	assert_int_equal(ts_getsockname(sl, cli, &me), 0);
	assert_int_equal(ntohl(me.sin_addr.s_addr), TH_LOCAL_IP);

	enum { TOTAL = 1 << 20 };
	uint8_t *src = malloc(TOTAL), *dst = malloc(TOTAL);
	assert_non_null(src);
	assert_non_null(dst);
	for (size_t i = 0; i < TOTAL; i++)
		src[i] = (uint8_t)(i * 7u + (i >> 11));
	for (int dir = 0; dir < 2; dir++) {
		int from = dir ? srv : cli, to = dir ? cli : srv;
		size_t sent = 0, got = 0;
		memset(dst, 0, TOTAL);
		for (int guard = 0; got < TOTAL && guard < 100000; guard++) {
			if (sent < TOTAL) {
				ssize_t n = ts_send(sl, from, src + sent, TOTAL - sent, 0);
				if (n > 0)
					sent += (size_t)n;
				else
					assert_int_equal(n, -EAGAIN);
			}
			th_poll(h);
			ssize_t n = ts_recv(sl, to, dst + got, TOTAL - got, 0);
			if (n > 0)
				got += (size_t)n;
			else
				assert_int_equal(n, -EAGAIN);
			th_advance(h, 1); /* delayed ACKs and the like fire */
		}
		assert_int_equal(got, TOTAL);
		assert_memory_equal(src, dst, TOTAL);
	}
	free(src);
	free(dst);

	assert_int_equal(ts_close(sl, cli), 0);
	spin(h, 4);
	char b;
	assert_int_equal(ts_recv(sl, srv, &b, 1, 0), 0); /* the FIN came round */
	assert_int_equal(ts_close(sl, srv), 0);
	spin(h, 4);
	assert_int_equal(th_pending(h), 0);
	/* Every segment went round the loop, each one MSS at most (no TSO towards ourselves). */
	assert_true(th_counter(h, "ip", "tx_loopback") >= 2u * (1u << 20) / 1460u);
	assert_int_equal(th_counter(h, "ip", "tx_loop_full"), 0);
	assert_int_equal(th_counter(h, "tcp", "RetransSegs"), 0);
}

/* The loopback net: 127.0.0.1 as the source (getsockname), the listener sees the client at
 * 127.0.0.1; a port nobody holds refuses at once (the RST came round); UDP goes round too. */
static void test_loopback_net_refused_and_udp(void **state)
{
	struct th *h = *state;
	struct socket_layer *sl = th_sl(h);
	int lfd = th_listen(h, 80, 8);
	int srv, cli = open_to_self(h, lfd, 0x7f000001u, &srv);
	struct sockaddr_in a;
	assert_int_equal(ts_getsockname(sl, cli, &a), 0);
	assert_int_equal(ntohl(a.sin_addr.s_addr), 0x7f000001u);
	assert_int_equal(ts_getsockname(sl, srv, &a), 0);
	assert_int_equal(ntohl(a.sin_addr.s_addr), 0x7f000001u);

	/* 0.0.0.0 is this host: 127.0.0.1 for an unbound socket (Linux). */
	int any = ts_socket(sl, AF_INET, SOCK_STREAM, 0);
	assert_int_equal(ts_set_nonblock(sl, any, true), 0);
	a = addr_of(0, 80);
	assert_int_equal(ts_connect(sl, any, &a), -EINPROGRESS);
	spin(h, 4);
	assert_int_equal(ts_connect(sl, any, &a), 0);
	assert_int_equal(ts_getpeername(sl, any, &a), 0);
	assert_int_equal(ntohl(a.sin_addr.s_addr), 0x7f000001u);

	int fd = ts_socket(sl, AF_INET, SOCK_STREAM, 0);
	assert_int_equal(ts_set_nonblock(sl, fd, true), 0);
	a = addr_of(0x7f000001u, 81);
	assert_int_equal(ts_connect(sl, fd, &a), -EINPROGRESS);
	spin(h, 2);
	assert_int_equal(ts_connect(sl, fd, &a), -ECONNREFUSED);

	/* A listener bound to 127.0.0.1 is reached through it, not through our address. */
	int l2 = ts_socket(sl, AF_INET, SOCK_STREAM, 0);
	a = addr_of(0x7f000001u, 82);
	assert_int_equal(ts_bind(sl, l2, &a), 0);
	assert_int_equal(ts_listen(sl, l2, 4), 0);
	int c2 = ts_socket(sl, AF_INET, SOCK_STREAM, 0);
	assert_int_equal(ts_set_nonblock(sl, c2, true), 0);
	a = addr_of(TH_LOCAL_IP, 82);
	assert_int_equal(ts_connect(sl, c2, &a), -EINPROGRESS);
	spin(h, 2);
	assert_int_equal(ts_connect(sl, c2, &a), -ECONNREFUSED);

	int u1 = ts_socket(sl, AF_INET, SOCK_DGRAM, 0), u2 = ts_socket(sl, AF_INET, SOCK_DGRAM, 0);
	a = addr_of(0, 5353);
	assert_int_equal(ts_bind(sl, u2, &a), 0);
	a = addr_of(0x7f000002u, 5353);
	assert_int_equal(ts_sendto(sl, u1, "x", 1, MSG_OOB, &a), -EOPNOTSUPP); /* udp_sendmsg */
	assert_int_equal(ts_sendto(sl, u1, "hello", 5, 0, &a), 5);
	spin(h, 1);
	char buf[16];
	struct sockaddr_in from;
	assert_int_equal(ts_recvfrom(sl, u2, buf, sizeof(buf), 0, &from), 5);
	assert_memory_equal(buf, "hello", 5);
	assert_int_equal(ntohl(from.sin_addr.s_addr), 0x7f000001u);

	/* A connected UDP socket's datagram to a port nobody holds: the port unreachable goes
	 * round the loop too (no rate limit towards ourselves, as Linux), and the next call
	 * reports ECONNREFUSED. */
	int u3 = ts_socket(sl, AF_INET, SOCK_DGRAM, 0);
	a = addr_of(0x7f000001u, 5354);
	assert_int_equal(ts_connect(sl, u3, &a), 0);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(ts_send(sl, u3, "x", 1, 0), 1);
		spin(h, 2);
		assert_int_equal(ts_send(sl, u3, "y", 1, 0), -ECONNREFUSED);
	}
	assert_int_equal(th_counter(h, "icmp", "err_to_transport"), 3);
	assert_int_equal(th_pending(h), 0);
}

/* With the TAP's offloads the stack builds 64 KiB super-segments with checksums left to the
 * device: round the loop they stay whole and count as verified, as on Linux's lo. */
static int setup_offload(void **state)
{
	*state = th_new_offload(NULL, NETDEV_OFF_CSUM | NETDEV_OFF_TSO4 | NETDEV_OFF_GRO);
	return 0;
}

/* An active close over the loop: the client's side waits in TIME-WAIT, and nothing kills it
 * (a second ACK of the server's FIN would meet a closed server, whose RST ends TIME-WAIT). */
static void test_loop_close_keeps_time_wait(void **state)
{
	struct th *h = *state;
	struct socket_layer *sl = th_sl(h);
	int lfd = th_listen(h, 80, 8);
	int srv, cli = open_to_self(h, lfd, 0x7f000001u, &srv);
	assert_int_equal(ts_close(sl, cli), 0);
	spin(h, 4);
	th_advance(h, 200);
	assert_int_equal(ts_close(sl, srv), 0);
	spin(h, 6);
	th_advance(h, 1000);
	assert_int_equal(th_counter(h, "tcp", "OutRsts"), 0);
	assert_int_equal(th_counter(h, "tcp", "TimeWaitCreated"), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_connect_to_own_address, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_connect_to_own_address, setup_offload, th_teardown),
		cmocka_unit_test_setup_teardown(test_loopback_net_refused_and_udp, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_loop_close_keeps_time_wait, th_setup, th_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
