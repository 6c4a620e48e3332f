/*
 * test_stack_config.c - what a stack instance gets by default (issue 12 item 1): its MAC and
 * its RFC 6528 ISN secret come from getrandom unless the caller sets them, so two default
 * instances differ; ts_stack_config_fixed() makes them repeat for tests. Also the version.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
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
		cmocka_unit_test(test_version),
	};
	return cmocka_run_group_tests_name("stack_config", tests, NULL, NULL);
}
