/*
 * test_stack_config.c - what a stack instance gets by default (issue 12 item 1): its MAC and
 * its RFC 6528 ISN secret come from getrandom unless the caller sets them, so two default
 * instances differ; ts_stack_config_fixed() makes them repeat for tests. Also the version,
 * and jumbo frames: an MTU of 9000 carries 1 MB in 8948-byte segments, none refused as too big.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "drivers/memdev.h"
#include "stack.h"
#include "tapstack/tapstack.h"

struct two {
	struct stack a, b;
};

static void two_init(struct two *t, void (*adjust)(struct stack_config *))
{
	struct netdev *da, *db;
	assert_int_equal(memdev_pair_create(&da, &db, NULL), 0);
	struct stack_config ca, cb;
	ts_stack_config_default(&ca);
	ts_stack_config_default(&cb);
	cb.link.addr = ca.link.addr + 1;
	if (adjust) {
		adjust(&ca);
		adjust(&cb);
	}
	assert_int_equal(ts_stack_init(&t->a, &ca, da, 0), 0);
	assert_int_equal(ts_stack_init(&t->b, &cb, db, 0), 0);
}

static void two_destroy(struct two *t)
{
	ts_stack_destroy(&t->a);
	ts_stack_destroy(&t->b);
}

static void assert_station_mac(const uint8_t *mac)
{
	static const uint8_t zero[6];
	assert_memory_not_equal(mac, zero, 6);
	assert_int_equal(mac[0] & 0x01, 0);    /* unicast */
	assert_int_equal(mac[0] & 0x02, 0x02); /* locally administered */
}

/* Two instances from ts_stack_config_default() share neither MAC nor ISN key. */
static void test_default_instances_differ(void **state)
{
	(void)state;
	static struct two t;
	two_init(&t, NULL);
	assert_station_mac(t.a.link.cfg.mac);
	assert_station_mac(t.b.link.cfg.mac);
	assert_memory_not_equal(t.a.link.cfg.mac, t.b.link.cfg.mac, 6);
	assert_memory_not_equal(t.a.tcp.isn_key, t.b.tcp.isn_key, sizeof(t.a.tcp.isn_key));
	two_destroy(&t);
}

static void fixed(struct stack_config *cfg)
{
	ts_stack_config_fixed(cfg, 7);
}

/* What a caller sets on purpose is kept: the same seed gives the same key, the MAC is the set one. */
static void test_fixed_config_repeats(void **state)
{
	(void)state;
	static struct two t;
	two_init(&t, fixed);
	static const uint8_t mac[6] = { 0x02, 0, 0, 0, 0, 0x02 };
	assert_memory_equal(t.a.link.cfg.mac, mac, 6);
	assert_memory_equal(t.a.tcp.isn_key, t.b.tcp.isn_key, sizeof(t.a.tcp.isn_key));
	two_destroy(&t);
}

/* Two stacks on a 9000-byte MTU link: segments are jumbo and every byte arrives. */
static void test_jumbo_mtu_9000(void **state)
{
	(void)state;
	static struct stack a, b;
	struct memdev_config mc;
	struct netdev *da, *db;
	memdev_config_default(&mc);
	mc.mtu = 9000;
	assert_int_equal(memdev_pair_create(&da, &db, &mc), 0);
	struct stack_config ca, cb;
	ts_stack_config_default(&ca);
	ts_stack_config_fixed(&ca, 1);
	ca.link.mtu = 9000;
	cb = ca;
	cb.link.addr = ca.link.addr - 1;
	cb.link.mac[5] ^= 1;
	cb.seed = 2;
	assert_int_equal(ts_stack_init(&a, &ca, da, 0), 0);
	assert_int_equal(ts_stack_init(&b, &cb, db, 0), 0);
	struct socket_layer *sa = ts_stack_sockets(&a), *sb = ts_stack_sockets(&b);
	int lfd = ts_socket(sa, AF_INET, SOCK_STREAM, 0), cfd = ts_socket(sb, AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(5001) };
	assert_int_equal(ts_bind(sa, lfd, &sin), 0);
	assert_int_equal(ts_listen(sa, lfd, 4), 0);
	sin.sin_addr.s_addr = htonl(ca.link.addr);
	assert_int_equal(ts_connect(sb, cfd, &sin), -EINPROGRESS);

	enum { TOTAL = 1 << 20 };
	static uint8_t out[TOTAL], in[TOTAL];
	for (size_t i = 0; i < TOTAL; i++)
		out[i] = (uint8_t)(i * 7 + (i >> 9));
	size_t sent = 0, got = 0;
	int afd = -1;
	usec_t now = 0;
	for (int round = 0; round < 200000 && got < TOTAL; round++, now += 100) {
		ts_stack_poll(&a, now);
		ts_stack_poll(&b, now);
		if (afd < 0)
			afd = ts_accept(sa, lfd, NULL, 0);
		ssize_t n;
		if (sent < TOTAL && (n = ts_send(sb, cfd, out + sent, TOTAL - sent, 0)) > 0)
			sent += (size_t)n;
		if (afd >= 0 && (n = ts_recv(sa, afd, in + got, TOTAL - got, 0)) > 0)
			got += (size_t)n;
	}
	assert_int_equal(got, TOTAL);
	assert_memory_equal(in, out, TOTAL);
	struct tcp_info ti;
	socklen_t len = sizeof(ti);
	assert_int_equal(ts_getsockopt(sb, cfd, IPPROTO_TCP, TCP_INFO, &ti, &len), 0);
	assert_int_equal(ti.tcpi_advmss, 9000 - 40);
	assert_int_equal(ti.tcpi_snd_mss, 9000 - 40 - 12); /* minus the timestamp option */
	assert_int_equal(memdev_stats(da).too_big + memdev_stats(db).too_big, 0);
	ts_stack_destroy(&a);
	ts_stack_destroy(&b);
}

static void test_version(void **state)
{
	(void)state;
	assert_string_equal(tapstack_version(), TAPSTACK_VERSION);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_default_instances_differ),
		cmocka_unit_test(test_fixed_config_repeats),
		cmocka_unit_test(test_jumbo_mtu_9000),
		cmocka_unit_test(test_version),
	};
	return cmocka_run_group_tests_name("stack_config", tests, NULL, NULL);
}
