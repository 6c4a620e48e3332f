/*
 * tcp_layer_fixture.h - a TCP layer with a core and no IP layer (segments are built, then
 * discarded), for tests of TCP's pieces without a stack: shared by test_tcp_seq.c and
 * test_tcp_cc.c (header-only; include cmocka.h first).
 *
 *   struct tcp_layer_fx *f = tcp_layer_fx_new();  // default tcp_config, rng seed 42, now 1 s
 *   ... f->tl, f->core.now ...
 *   tcp_layer_fx_free(f);                         // asserts that no pbuf leaked
 */
#ifndef TAPSTACK_TESTS_TCP_LAYER_FIXTURE_H
#define TAPSTACK_TESTS_TCP_LAYER_FIXTURE_H

#include <stdlib.h>

#include "core/core.h"
#include "tcp/tcp.h"

struct tcp_layer_fx {
	struct core core;
	struct tcp_layer tl;
};

static inline struct tcp_layer_fx *tcp_layer_fx_new(void)
{
	struct tcp_layer_fx *f = calloc(1, sizeof(*f));
	struct tcp_config cfg;
	assert_non_null(f);
	pbuf_pool_init(&f->core.pool, 64, 4);
	timer_heap_init(&f->core.timers);
	rng_seed(&f->core.rng, 42);
	f->core.now = 1000000;
	tcp_config_default(&cfg);
	assert_int_equal(tcp_init(&f->tl, &f->core, NULL, &cfg), 0);
	return f;
}

static inline void tcp_layer_fx_free(struct tcp_layer_fx *f)
{
	tcp_destroy(&f->tl);
	timer_heap_destroy(&f->core.timers);
	assert_int_equal(f->core.pool.cls[0].in_use + f->core.pool.cls[1].in_use, 0);
	pbuf_pool_destroy(&f->core.pool);
	free(f);
}

#endif
