/*
 * link.h - the link layer: Ethernet II framing (ether.c) and ARP for IPv4 (arp.c, RFC 826).
 *
 * One `struct link_layer` lives inside `struct stack`. It owns the ARP cache (a fixed array
 * allocated once at link_init), each neighbour's bounded queue of packets waiting for
 * resolution, the per-entry retry/expiry timers (armed on core->timers) and the "eth" and
 * "arp" counters. It talks to the device below through drivers/netdev.h and knows nothing
 * of the layers above: stack.c calls ether_input() and then arp_input() or the IP layer;
 * the IP layer calls link_output_ipv4() with the next hop it chose.
 *
 * Addresses are host-order uint32_t (10.0.0.2 is 0x0a000002), as everywhere in the stack.
 * See docs/ethernet.md and docs/arp.md.
 */
#ifndef TAPSTACK_LINK_LINK_H
#define TAPSTACK_LINK_LINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/core.h"
#include "core/counters.h"
#include "core/pbuf.h"
#include "core/timer.h"
#include "drivers/netdev.h"
#include "wire/ethernet.h"

/*
 * ARP defaults, after Linux's neighbour table (ip-sysctl.rst, "neigh/default"):
 *   base_reachable_time 30 s  - an entry confirmed by a reply stays REACHABLE that long;
 *   retrans_time 1 s, mcast_solicit 3 - three broadcast requests one second apart;
 *   gc_stale_time 60 s        - an unused STALE entry is forgotten after that;
 *   unres_qlen                - packets parked per unresolved neighbour: Linux once kept 3
 *                               and now bounds bytes (about 200 KB). We keep 8 packets, so
 *                               an 8000-byte ping reply (6 fragments) survives resolution.
 * Linux randomises the reachable time between 0.5x and 1.5x; we keep it exact so tests
 * and students can predict it.
 */
#define LINK_ARP_CACHE_SIZE_DEFAULT 64u
#define LINK_ARP_REACHABLE_MS_DEFAULT 30000u
#define LINK_ARP_STALE_MS_DEFAULT 60000u
#define LINK_ARP_RETRY_MS_DEFAULT 1000u
#define LINK_ARP_RETRIES_DEFAULT 3u
#define LINK_ARP_PENDING_MAX_DEFAULT 8u
/*
 * Under attack (a flood from many on-link addresses, each needing a resolution) the table
 * keeps Linux's neighbour priorities: at most arp_incomplete_max entries may be resolving
 * at once (a new one replaces the oldest once it has resolved for arp_retry_ms, and is
 * refused before), at most arp_pending_total_max packets wait over
 * all of them, and an unresolved newcomer never evicts a REACHABLE or PROBE entry.
 * LINK_ARP_IN_USE_MS is Linux's forced-GC grace: an entry confirmed that recently is not
 * evicted even for a resolved newcomer (net/core/neighbour.c spares entries updated in
 * the last 5 s).
 */
#define LINK_ARP_INCOMPLETE_MAX_DEFAULT 16u
#define LINK_ARP_PENDING_TOTAL_MAX_DEFAULT 64u
#define LINK_ARP_IN_USE_MS 5000u

struct link_config {
	uint8_t mac[ETH_ALEN];      /* our MAC; the program picks a random locally administered one */
	uint32_t addr;              /* our IPv4 address, host order */
	uint8_t prefix_len;         /* on-link prefix, for the directed broadcast address */
	uint32_t gateway;           /* host order, 0 = none (the IP layer routes; kept for reference) */
	uint32_t mtu;               /* IP MTU: largest payload ether_output accepts (GSO aside) */
	uint32_t arp_cache_size;    /* entries, fixed at link_init */
	uint32_t arp_reachable_ms;  /* REACHABLE -> STALE after this long without confirmation */
	uint32_t arp_stale_ms;      /* an unused STALE entry is removed after this long */
	uint32_t arp_retry_ms;      /* interval between requests while resolving */
	uint32_t arp_retries;       /* requests sent before resolution fails */
	uint32_t arp_pending_max;   /* packets parked per unresolved neighbour */
	uint32_t arp_incomplete_max; /* entries resolving at once (clamped to the cache size) */
	uint32_t arp_pending_total_max; /* packets parked over all neighbours */
	bool arp_gratuitous;        /* link_start() announces our address (RFC 5227 2.3) */
	bool accept_multicast;      /* accept every multicast frame (we join no group, so default off) */
};

/* Sets 10.0.0.2/24, no gateway, MTU 1500, MAC 02:00:00:00:00:02 and the ARP defaults above. */
void link_config_default(struct link_config *cfg);

/* Ethernet counters. Every drop in ether_input/ether_output increments exactly one drop_* . */
#define ETH_COUNTERS(X)                                                                            \
	X(rx_frames)              /* accepted and handed up */                                     \
	X(rx_bytes)                                                                                \
	X(rx_broadcast)                                                                            \
	X(rx_multicast)                                                                            \
	X(drop_truncated)         /* shorter than the 14-byte header */                            \
	X(drop_bad_src)           /* source address is a group (multicast/broadcast) address */     \
	X(drop_not_for_us)        /* unicast to another MAC */                                     \
	X(drop_multicast)         /* multicast we did not join */                                  \
	X(drop_8023_length)       /* type field < 0x0600: an IEEE 802.3 length, not Ethernet II */ \
	X(drop_unknown_ethertype) /* not IPv4 or ARP (e.g. IPv6) */                                \
	X(tx_frames)                                                                               \
	X(tx_bytes)                                                                                \
	X(tx_padded)              /* short frames padded to 60 bytes */                            \
	X(tx_drop_no_headroom)                                                                     \
	X(tx_drop_too_long)       /* payload above the MTU */                                      \
	X(tx_drop_nomem)          /* could not linearize or pad */                                 \
	X(tx_drop_dev_error)      /* the driver's send() failed */                                 \
	X(tx_drop_dev_full)       /* the device's queue was full (EAGAIN, ENOBUFS): TCP resends */

/* ARP counters. */
#define ARP_COUNTERS(X)                                                                            \
	X(rx_requests)                                                                             \
	X(rx_replies)                                                                              \
	X(rx_probes)              /* requests with sender 0.0.0.0 (RFC 5227 probe) for us */       \
	X(rx_not_for_us)          /* valid, target not our address (merge rule may still update) */ \
	X(tx_requests)                                                                             \
	X(tx_replies)                                                                              \
	X(tx_gratuitous)                                                                           \
	X(tx_probes)              /* unicast requests refreshing a STALE entry */                  \
	X(tx_drop_nomem)          /* no pbuf for a request or reply */                             \
	X(drop_truncated)         /* shorter than 28 bytes */                                      \
	X(drop_unsupported)       /* hardware/protocol type or lengths not Ethernet/IPv4 */        \
	X(drop_bad_opcode)        /* neither request nor reply */                                  \
	X(drop_bad_sender_mac)    /* sender hardware address broadcast, multicast, zero or ours */  \
	X(drop_bad_sender_ip)     /* sender protocol address multicast/broadcast/0 in a reply */   \
	X(addr_conflict)          /* someone else claims our IP address (dropped) */              \
	X(cache_inserts)                                                                           \
	X(cache_updates)          /* MAC of an existing entry changed */                           \
	X(cache_confirms)         /* entry (re)confirmed REACHABLE */                              \
	X(cache_evictions)        /* an entry removed to make room */                              \
	X(cache_evict_incomplete) /* ... of them, a resolving entry (oldest first) */             \
	X(cache_full_not_learned) /* a requester not cached: every entry in use (still answered) */ \
	X(cache_expired)          /* unused STALE entry removed */                                 \
	X(resolve_failed)         /* all retries sent, no reply */                                 \
	X(out_drop_bad_next_hop)  /* 0.0.0.0 or our own address as next hop */                     \
	X(out_drop_cache_full)    /* a new resolution found no entry it may take: packet dropped */ \
	X(out_drop_resolving_full) /* arp_incomplete_max resolving, none for arp_retry_ms: dropped */ \
	X(pending_queued)                                                                          \
	X(pending_sent)                                                                            \
	X(pending_drop_full)      /* oldest parked packet dropped: queue full */                   \
	X(pending_drop_total)     /* packet not parked: arp_pending_total_max wait already */      \
	X(pending_drop_unresolved) /* parked packet dropped: resolution failed */                  \
	X(pending_drop_evicted)   /* parked packet dropped: its entry was evicted or destroyed */  \
	X(pending_drop_nomem)     /* could not linearize before parking */

struct eth_counters { ETH_COUNTERS(COUNTER_FIELD) };
struct arp_counters { ARP_COUNTERS(COUNTER_FIELD) };

/*
 * Neighbour states, a simplified Linux NUD machine (include/net/neighbour.h):
 *   FREE -> INCOMPLETE (broadcast requests, packets parked)
 *        -> REACHABLE (confirmed by a packet addressed to us) -> STALE (after reachable_ms;
 *           still used) -> PROBE on first use (unicast requests; packets still sent)
 *           -> REACHABLE on reply, FREE after the retries; FREE after stale_ms unused.
 */
enum arp_state {
	ARP_FREE = 0,
	ARP_INCOMPLETE,
	ARP_REACHABLE,
	ARP_STALE,
	ARP_PROBE,
};

struct link_layer;

struct arp_entry {
	struct link_layer *link;    /* back pointer for the timer callback */
	struct timer timer;         /* retry (INCOMPLETE/PROBE) or state expiry (REACHABLE/STALE) */
	uint32_t ip;                /* host order */
	uint8_t mac[ETH_ALEN];
	uint8_t state;              /* enum arp_state */
	uint8_t requests_sent;      /* in INCOMPLETE/PROBE */
	usec_t confirmed;           /* last confirmation (REACHABLE) or creation */
	usec_t stale_since;         /* when it became STALE */
	struct pbuf_queue pending;  /* linearized packets waiting for the MAC, oldest first */
};

struct link_layer {
	struct core *core;
	struct netdev *dev;
	struct link_config cfg;
	struct eth_counters eth;
	struct arp_counters arp;
	struct arp_entry *cache;    /* cfg.arp_cache_size entries */
	uint32_t cache_used;        /* entries not FREE */
	uint32_t pending_total;     /* packets parked over all entries */
	uint32_t hint;              /* index of the last hit: most traffic goes to one neighbour */
};

/* 0, or -EINVAL (bad config) / -ENOMEM. dev stays owned by the caller. */
int link_init(struct link_layer *l, struct core *core, struct netdev *dev, const struct link_config *cfg);
/* Cancels the timers, frees parked packets and the cache. Does not close the device. */
void link_destroy(struct link_layer *l);
/* Called once the device is up: sends a gratuitous ARP (if configured). */
void link_start(struct link_layer *l);

/*
 * One received frame, pb->data at the Ethernet header. The frame stays owned by the caller
 * when the EtherType (ETHERTYPE_IPV4 or ETHERTYPE_ARP) is returned, with pb->data at the
 * payload and PBUF_F_BROADCAST/PBUF_F_MULTICAST set; on -1 it was counted and freed.
 */
int ether_input(struct link_layer *l, struct pbuf *pb);
/* One ARP packet, pb->data at the ARP header (after ether_input). Takes ownership of pb. */
void arp_input(struct link_layer *l, struct pbuf *pb);
/*
 * Prepends the Ethernet header (our MAC as source), pads to 60 bytes and sends. Always
 * consumes pb (freed after the driver's send, or on a counted drop). 0 or -errno.
 */
int ether_output(struct link_layer *l, struct pbuf *pb, const uint8_t dst[ETH_ALEN], uint16_t type);
/*
 * Sends an IPv4 datagram (pb->data at the IP header) to next_hop (host order): broadcast
 * and multicast map to their MACs; otherwise the ARP cache gives the MAC, or the packet is
 * linearized and parked until the reply (or dropped and counted). Always consumes pb.
 * 0 when sent or parked, -errno when dropped.
 */
int link_output_ipv4(struct link_layer *l, struct pbuf *pb, uint32_t next_hop);

/* The MAC for ip if the cache has a usable one (REACHABLE, STALE or PROBE): true and mac set. */
bool arp_cache_lookup(const struct link_layer *l, uint32_t ip, uint8_t mac[ETH_ALEN]);
/* The state of ip's entry, ARP_FREE when absent (for tests and `tapstack` introspection). */
enum arp_state arp_cache_state(const struct link_layer *l, uint32_t ip);
/* False when a packet for next_hop would be refused right now because every resolving slot
 * is taken and young (out_drop_resolving_full, counted here as for the packet): a sender
 * may then skip building it. Link-local broadcast and multicast next hops need no slot. */
bool link_can_send_ipv4(struct link_layer *l, uint32_t next_hop);

/* Fills out[] with the "eth" and "arp" groups; returns how many were written (<= max). */
size_t link_counter_groups(const struct link_layer *l, struct counter_group *out, size_t max);

#endif
