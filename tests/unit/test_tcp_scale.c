/*
 * test_tcp_scale.c - many connections through two stacks joined by the in-memory driver:
 * 10,000 connections are opened, each exchanges a 100-byte request and reply, and then they
 * are held idle. The test checks that every one is established and served, that all the
 * lookups stay hashed (the run is fast), and that an idle connection costs little heap: its
 * buffers are released once drained (stack/tcp/tcp_buf.c), so what remains is the TCB.
 */
#include <errno.h>
#include <malloc.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "drivers/memdev.h"
#include "socket/socket.h"
#include "stack/stack.h"

#define NCONN 10000
#define PORT 8080

struct pair {
	struct stack a, b;      /* a: server 10.0.0.2, b: clients 10.0.0.1 */
	struct netdev *da, *db;
	usec_t now;
};

static void pair_poll(struct pair *p)
{
	for (int guard = 0; guard < 100000; guard++) {
		int na = ts_stack_poll(&p->a, p->now);
		int nb = ts_stack_poll(&p->b, p->now);
		if (na <= 0 && nb <= 0)
			break;
	}
}

static void pair_init(struct pair *p)
{
	struct memdev_config mc;
	memset(&mc, 0, sizeof(mc));
	mc.queue_max = 65536;
	assert_int_equal(memdev_pair_create(&p->da, &p->db, &mc), 0);
	p->now = 1000 * USEC_PER_SEC;
	memdev_set_clock(p->da, &p->now);
	memdev_set_clock(p->db, &p->now);
	struct stack_config ca, cb;
	ts_stack_config_default(&ca);
	ca.link.addr = 0x0a000002u;
	ca.link.prefix_len = 24;
	memcpy(ca.link.mac, "\x02\x00\x00\x00\x00\x02", 6);
	ca.seed = 11;
	ca.pbuf_small_max = 65536;
	cb = ca;
	cb.link.addr = 0x0a000001u;
	cb.link.mac[5] = 1;
	cb.seed = 12;
	assert_int_equal(ts_stack_init(&p->a, &ca, p->da, p->now), 0);
	assert_int_equal(ts_stack_init(&p->b, &cb, p->db, p->now), 0);
}

static size_t heap_in_use(void)
{
	struct mallinfo2 mi = mallinfo2();
	return mi.uordblks + mi.hblkhd;
}

static void test_ten_thousand_idle_connections(void **state)
{
	(void)state;
	struct pair *p = calloc(1, sizeof(*p));
	pair_init(p);
	struct socket_layer *sa = ts_stack_sockets(&p->a), *sb = ts_stack_sockets(&p->b);
	int lfd = ts_socket(sa, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	struct sockaddr_in addr = { .sin_family = AF_INET, .sin_port = htons(PORT) };
	assert_int_equal(ts_bind(sa, lfd, &addr), 0);
	assert_int_equal(ts_listen(sa, lfd, 4096), 0);
	addr.sin_addr.s_addr = htonl(0x0a000002u);

	static int cfd[NCONN], sfd[NCONN];
	int accepted = 0;
	size_t heap0 = heap_in_use();
	for (int i = 0; i < NCONN; i++) {
		cfd[i] = ts_socket(sb, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
		assert_true(cfd[i] >= 0);
		assert_int_equal(ts_connect(sb, cfd[i], &addr), -EINPROGRESS);
		if (i % 100 == 99 || i == NCONN - 1) {
			pair_poll(p);
			int fd;
			while ((fd = ts_accept(sa, lfd, NULL, SOCK_NONBLOCK)) >= 0)
				sfd[accepted++] = fd;
		}
	}
	/* The first SYNs wait for ARP and only a few fit its pending queue: the rest are
	 * retransmitted after 1 s (RFC 6298 initial RTO), so move the clock on. */
	for (int t = 0; t < 8 && accepted < NCONN; t++) {
		p->now += USEC_PER_SEC;
		pair_poll(p);
		int fd;
		while ((fd = ts_accept(sa, lfd, NULL, SOCK_NONBLOCK)) >= 0)
			sfd[accepted++] = fd;
	}
	assert_int_equal(accepted, NCONN);

	/* A request and a reply on each, 100 connections at a time: received data waits in the
	 * pbufs it came in, and the pool keeps the pbufs of the largest burst for reuse (pbuf.c),
	 * so 10,000 requests in one burst would measure the pool, not the idle connections. */
	char req[100], buf[256];
	memset(req, 'q', sizeof(req));
	int served = 0;
	for (int b = 0; b < NCONN; b += 100) {
		for (int i = b; i < b + 100 && i < NCONN; i++)
			assert_int_equal(ts_send(sb, cfd[i], req, sizeof(req), 0), (ssize_t)sizeof(req));
		pair_poll(p);
		for (int i = 0; i < NCONN; i++) { /* accept order is not connect order */
			if (ts_inq(sa, sfd[i]) == 0)
				continue;
			assert_int_equal(ts_recv(sa, sfd[i], buf, sizeof(buf), 0), 100);
			assert_int_equal(ts_send(sa, sfd[i], buf, 100, 0), 100);
			served++;
		}
		pair_poll(p);
		for (int i = b; i < b + 100 && i < NCONN; i++)
			assert_int_equal(ts_recv(sb, cfd[i], buf, sizeof(buf), 0), 100);
	}
	assert_int_equal(served, NCONN);
	/* Let delayed ACKs go out so every send buffer drains. */
	p->now += 300 * USEC_PER_MS;
	pair_poll(p);

	size_t heap1 = heap_in_use();
	double per_conn = (double)(heap1 - heap0) / (2.0 * NCONN); /* both ends hold one each */
	print_message("    %d connections idle: %.0f bytes of heap per connection end\n", NCONN, per_conn);
	assert_true(per_conn < 2048.0);

	struct counter_group g[8];
	size_t ng = ts_stack_counter_groups(&p->a, g, 8);
	for (size_t k = 0; k < ng; k++)
		if (strcmp(g[k].layer, "tcp") == 0)
			for (size_t j = 0; j < g[k].n; j++)
				if (strcmp(g[k].names[j], "CurrEstab") == 0)
					assert_int_equal(g[k].values[j], NCONN);

	for (int i = 0; i < NCONN; i++) {
		assert_int_equal(ts_close(sb, cfd[i]), 0);
		assert_int_equal(ts_close(sa, sfd[i]), 0);
	}
	ts_close(sa, lfd);
	ts_stack_destroy(&p->a);
	ts_stack_destroy(&p->b);
	free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ten_thousand_idle_connections),
	};
	return cmocka_run_group_tests_name("tcp_scale", tests, NULL, NULL);
}
