/*
 * arp.h - link-layer private interface between link.c and arp.c (not for other layers:
 * they use link.h). arp.c owns the neighbour cache inside struct link_layer.
 */
#ifndef TAPSTACK_LINK_ARP_H
#define TAPSTACK_LINK_ARP_H

#include "link/link.h"

/* Allocates cfg.arp_cache_size entries; 0 or -ENOMEM. */
int arp_cache_init(struct link_layer *l);
/* Cancels every timer and drops every parked packet (counted pending_drop_evicted). */
void arp_cache_destroy(struct link_layer *l);
/* Broadcasts an ARP announcement for our address (RFC 5227 2.3); 0 or -errno. */
int arp_send_gratuitous(struct link_layer *l);

#endif
