/*
 * core.h - what every layer shares: the clock, the packet pool, the timers, the log and
 * the random generator. One `struct core` lives inside each `struct stack`; every layer's
 * context points to it. Nothing here knows any protocol.
 */
#ifndef TAPSTACK_CORE_CORE_H
#define TAPSTACK_CORE_CORE_H

#include "core/log.h"
#include "core/pbuf.h"
#include "core/rng.h"
#include "core/time.h"
#include "core/timer.h"

struct core {
	usec_t now;                /* set by ts_stack_poll()/ts_stack_input() callers; never read from a clock */
	struct pbuf_pool pool;
	struct timer_heap timers;
	struct log log;
	struct rng rng;
};

#endif
