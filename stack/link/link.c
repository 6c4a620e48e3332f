/*
 * link.c - the link layer's life cycle: configuration defaults, init/destroy, start (the
 * gratuitous ARP) and the counter tables. Called by stack.c. The frame paths live in
 * ether.c (Ethernet II) and arp.c (RFC 826).
 */
#include "link/link.h"

#include <errno.h>
#include <string.h>

#include "link/arp.h"

static const char *const eth_counter_names[] = { ETH_COUNTERS(COUNTER_NAME) };
static const char *const arp_counter_names[] = { ARP_COUNTERS(COUNTER_NAME) };

void link_config_default(struct link_config *cfg)
{
	/* 02: locally administered, unicast (IEEE 802 U/L and I/G bits). */
	static const uint8_t mac[ETH_ALEN] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x02 };

	memset(cfg, 0, sizeof(*cfg));
	memcpy(cfg->mac, mac, ETH_ALEN);
	cfg->addr = 0x0a000002u;    /* 10.0.0.2 */
	cfg->prefix_len = 24;
	cfg->gateway = 0;
	cfg->mtu = 1500;
	cfg->arp_cache_size = LINK_ARP_CACHE_SIZE_DEFAULT;
	cfg->arp_reachable_ms = LINK_ARP_REACHABLE_MS_DEFAULT;
	cfg->arp_stale_ms = LINK_ARP_STALE_MS_DEFAULT;
	cfg->arp_retry_ms = LINK_ARP_RETRY_MS_DEFAULT;
	cfg->arp_retries = LINK_ARP_RETRIES_DEFAULT;
	cfg->arp_pending_max = LINK_ARP_PENDING_MAX_DEFAULT;
	cfg->arp_incomplete_max = LINK_ARP_INCOMPLETE_MAX_DEFAULT;
	cfg->arp_pending_total_max = LINK_ARP_PENDING_TOTAL_MAX_DEFAULT;
	cfg->arp_gratuitous = true;
	cfg->accept_multicast = false;
}

int link_init(struct link_layer *l, struct core *core, struct netdev *dev, const struct link_config *cfg)
{
	memset(l, 0, sizeof(*l));
	/* Our own MAC must be a unicast address, and the bounds must be usable. */
	if (eth_addr_is_multicast(cfg->mac) || eth_addr_is_zero(cfg->mac) || cfg->prefix_len > 32 ||
	    cfg->mtu < 68 || cfg->mtu > ETH_MAX_JUMBO_PAYLOAD || cfg->arp_cache_size == 0 ||
	    cfg->arp_retries == 0 || cfg->arp_retries > 255 || cfg->arp_pending_max == 0 ||
	    cfg->arp_retry_ms == 0 || cfg->arp_incomplete_max == 0 || cfg->arp_pending_total_max == 0)
		return -EINVAL;
	l->core = core;
	l->dev = dev;
	l->cfg = *cfg;
	if (l->cfg.arp_incomplete_max > l->cfg.arp_cache_size)
		l->cfg.arp_incomplete_max = l->cfg.arp_cache_size;
	return arp_cache_init(l);
}

void link_destroy(struct link_layer *l)
{
	arp_cache_destroy(l);
}

void link_start(struct link_layer *l)
{
	if (l->cfg.arp_gratuitous)
		(void)arp_send_gratuitous(l);
}

size_t link_counter_groups(const struct link_layer *l, struct counter_group *out, size_t max)
{
	size_t n = 0;

	if (n < max)
		out[n++] = COUNTER_GROUP("eth", eth_counter_names, &l->eth);
	if (n < max)
		out[n++] = COUNTER_GROUP("arp", arp_counter_names, &l->arp);
	return n;
}
