/*
 * time.h - the stack's notion of time: a monotonic count of microseconds, passed in.
 *
 * Protocol code never reads a clock. The program (or a test) passes `now` to ts_stack_poll(),
 * the core stores it in core->now, and every deadline is an absolute usec_t. A test moves a
 * fake clock forward; nothing sleeps. A program in real time passes its clock function to
 * ts_stack_poll_clock() instead, which reads it again before each frame of a batch.
 */
#ifndef TAPSTACK_CORE_TIME_H
#define TAPSTACK_CORE_TIME_H

#include <stdint.h>

typedef uint64_t usec_t;

#define USEC_NEVER UINT64_MAX
#define USEC_PER_MS 1000ULL
#define USEC_PER_SEC 1000000ULL

static inline usec_t usec_min(usec_t a, usec_t b)
{
	return a < b ? a : b;
}

#endif
