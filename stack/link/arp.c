/* arp.c - skeleton, filled in next. */
#include "link/arp.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int arp_cache_init(struct link_layer *l)
{
	l->cache = calloc(l->cfg.arp_cache_size, sizeof(*l->cache));
	return l->cache ? 0 : -ENOMEM;
}

void arp_cache_destroy(struct link_layer *l)
{
	free(l->cache);
	l->cache = NULL;
}

int arp_send_gratuitous(struct link_layer *l)
{
	(void)l;
	return 0;
}

void arp_input(struct link_layer *l, struct pbuf *pb)
{
	(void)l;
	pbuf_free(pb);
}

int link_output_ipv4(struct link_layer *l, struct pbuf *pb, uint32_t next_hop)
{
	static const uint8_t bcast[ETH_ALEN] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	(void)next_hop;
	return ether_output(l, pb, bcast, ETHERTYPE_IPV4);
}

bool arp_cache_lookup(const struct link_layer *l, uint32_t ip, uint8_t mac[ETH_ALEN])
{
	(void)l; (void)ip; (void)mac;
	return false;
}

enum arp_state arp_cache_state(const struct link_layer *l, uint32_t ip)
{
	(void)l; (void)ip;
	return ARP_FREE;
}
