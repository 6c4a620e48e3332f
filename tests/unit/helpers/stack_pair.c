/*
 * stack_pair.c - see stack_pair.h. Owns nothing after it returns: the memdev pair belongs
 * to the two stacks (ts_stack_destroy closes each end).
 */
#include "stack_pair.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "drivers/memdev.h"

void stack_pair_init(struct stack *a, struct stack *b, usec_t now)
{
	struct stack_config ca, cb;
	struct netdev *da, *db;

	assert_int_equal(memdev_pair_create(&da, &db, NULL), 0);
	ts_stack_config_default(&ca);
	ts_stack_config_default(&cb);
	ts_stack_config_fixed(&ca, 1);
	ts_stack_config_fixed(&cb, 2);
	ca.link.addr = STACK_PAIR_A_IP;
	cb.link.addr = STACK_PAIR_B_IP;
	cb.link.mac[5] ^= 0x01;
	assert_int_equal(ts_stack_init(a, &ca, da, now), 0);
	assert_int_equal(ts_stack_init(b, &cb, db, now), 0);
}

void stack_pair_run(struct stack *a, struct stack *b, usec_t *now, int rounds)
{
	for (int i = 0; i < rounds; i++, *now += USEC_PER_MS) {
		ts_stack_poll(b, *now);
		ts_stack_poll(a, *now);
	}
}
