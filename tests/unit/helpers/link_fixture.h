/*
 * link_fixture.h - a link layer on a recording device with a fake clock, shared by
 * test_ethernet.c and test_arp.c (header-only); ip_fixture.h builds on its core helpers.
 *
 *   struct link_fx fx; link_fx_setup(&fx, NULL);   // default config: 10.0.0.2/24, 02:00:00:00:00:02
 *   link_fx_rx(&fx, frame, len);                   // through ether_input (+ arp_input)
 *   link_fx_advance(&fx, USEC_PER_SEC);            // moves core.now and fires due timers
 *   link_fx_teardown(&fx);                         // asserts no pbuf leaked
 */
#ifndef TAPSTACK_TESTS_LINK_FIXTURE_H
#define TAPSTACK_TESTS_LINK_FIXTURE_H

#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "link/link.h"
#include "recdev.h"
#include "wire/ethernet.h"

struct link_fx {
	struct core core;
	struct recdev rd;
	struct link_layer link;
};

/* Fake clock starts well above 0 so "time 0" never hides a bug. */
#define LINK_FX_T0 (1000 * USEC_PER_SEC)

/* A core for a layer fixture: a bounded pool, an empty timer heap, seed 1, the clock at LINK_FX_T0. */
static inline void fx_core_init(struct core *core, uint32_t small_max, uint32_t large_max)
{
	memset(core, 0, sizeof(*core));
	pbuf_pool_init(&core->pool, small_max, large_max);
	timer_heap_init(&core->timers);
	rng_seed(&core->rng, 1);
	core->now = LINK_FX_T0;
}

/* Frees the core's heap and pool; returns the pbufs still in use (0 = no leak). */
static inline uint32_t fx_core_destroy(struct core *core)
{
	uint32_t in_use = core->pool.cls[0].in_use + core->pool.cls[1].in_use;

	timer_heap_destroy(&core->timers);
	pbuf_pool_destroy(&core->pool);
	return in_use;
}

static inline int link_fx_setup(struct link_fx *fx, const struct link_config *cfg)
{
	struct link_config def;

	fx_core_init(&fx->core, 256, 4);
	recdev_init(&fx->rd);
	if (!cfg) {
		link_config_default(&def);
		cfg = &def;
	}
	return link_init(&fx->link, &fx->core, &fx->rd.dev, cfg);
}

/* Tears down and returns the number of pbufs still in use (0 = no leak). */
static inline uint32_t link_fx_teardown(struct link_fx *fx)
{
	link_destroy(&fx->link);
	return fx_core_destroy(&fx->core);
}

static inline struct pbuf *link_fx_pbuf(struct link_fx *fx, const uint8_t *bytes, uint32_t len)
{
	struct pbuf *pb = pbuf_alloc(&fx->core.pool, PBUF_HEADROOM, len > 64 ? len : 64);
	if (pb && len)
		memcpy(pbuf_put(pb, len), bytes, len);
	return pb;
}

/* One received frame through the input path as stack.c dispatches it; returns ether_input's result. */
static inline int link_fx_rx(struct link_fx *fx, const uint8_t *bytes, uint32_t len)
{
	struct pbuf *pb = link_fx_pbuf(fx, bytes, len);
	int type = ether_input(&fx->link, pb);

	if (type == ETHERTYPE_ARP)
		arp_input(&fx->link, pb);
	else if (type >= 0)
		pbuf_free(pb);
	return type;
}

static inline void link_fx_advance(struct link_fx *fx, usec_t dt)
{
	fx->core.now += dt;
	timer_run(&fx->core.timers, fx->core.now);
}

#endif
