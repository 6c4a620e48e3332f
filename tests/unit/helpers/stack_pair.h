/*
 * stack_pair.h - two whole stacks joined by the in-memory driver (drivers/memdev.c, no
 * loss), for unit tests that need a real TCP peer rather than hand-made frames: stack A is
 * 10.0.0.2 (the side under test, usually the server), stack B is 10.0.0.1 with a MAC one
 * bit apart and the next seed. Used by tests/unit/test_apps.c, test_blocking.c, test_cli.c
 * and test_tcp_handshake.c; the caller drives both (ts_stack_poll, or stack_pair_run on a
 * fake clock) and destroys both (ts_stack_destroy).
 */
#ifndef TAPSTACK_TESTS_STACK_PAIR_H
#define TAPSTACK_TESTS_STACK_PAIR_H

#include "stack.h"

#define STACK_PAIR_A_IP 0x0a000002u /* 10.0.0.2 */
#define STACK_PAIR_B_IP 0x0a000001u /* 10.0.0.1 */

/* Initializes a and b at time `now`; fails the calling test on any error. */
void stack_pair_init(struct stack *a, struct stack *b, usec_t now);
/* `rounds` rounds of 1 ms of the fake clock *now: B polls, then A (each takes what the
 * other sent in the round before). */
void stack_pair_run(struct stack *a, struct stack *b, usec_t *now, int rounds);

#endif
