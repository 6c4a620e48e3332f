/*
 * arp.c - ARP for IPv4 over Ethernet (RFC 826), with the neighbour cache, resolution with
 * retries and the per-neighbour queue of packets waiting for an answer.
 *
 * Who calls it: stack.c hands received ARP packets to arp_input(); the IP layer calls
 * link_output_ipv4() with the next hop; link.c calls arp_cache_init/destroy and
 * arp_send_gratuitous(); timers on core->timers call arp_timer().
 * What it owns: l->cache (a fixed array of cfg.arp_cache_size entries made at init, so an
 * attacker can never grow it), each entry's timer and its pending queue of at most
 * cfg.arp_pending_max linearized pbufs (cfg.arp_pending_total_max over all entries).
 * Under a flood of unresolvable next hops, arp_entry_alloc() keeps the neighbours in use
 * (docs/arp.md, "Under attack").
 *
 * The entry states follow Linux's neighbour machine in a reduced form (see link.h):
 * INCOMPLETE (broadcasting requests, packets parked) -> REACHABLE (confirmed) -> STALE
 * (unconfirmed for arp_reachable_ms, still used) -> PROBE (unicast requests, still used) ->
 * REACHABLE again or removed; an unused STALE entry is removed after arp_stale_ms.
 *
 * Lookups are a linear scan with a one-entry hint: fine for the default 64 entries, and the
 * hint makes the common case (all traffic to one gateway or peer) one comparison.
 */
#include "link/arp.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "wire/arp.h"
#include "wire/ethernet.h"

static const uint8_t eth_broadcast[ETH_ALEN] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
static const uint8_t eth_zero[ETH_ALEN] = { 0 };

static usec_t ms_to_usec(uint32_t ms)
{
	return (usec_t)ms * USEC_PER_MS;
}

/* 224.0.0.0/4 (RFC 5771) and the limited broadcast are never a sender's address. */
static bool ipv4_is_multicast(uint32_t ip)
{
	return (ip >> 28) == 0xe;
}

/* The limited broadcast or our prefix's directed broadcast (RFC 919, RFC 1122 3.2.1.3). */
static bool link_is_broadcast(const struct link_layer *l, uint32_t ip)
{
	uint32_t host_mask;

	if (ip == 0xffffffffu)
		return true;
	if (l->cfg.prefix_len >= 31)    /* RFC 3021: /31 and /32 have no broadcast address */
		return false;
	host_mask = 0xffffffffu >> l->cfg.prefix_len;
	return (ip & ~host_mask) == (l->cfg.addr & ~host_mask) && (ip & host_mask) == host_mask;
}

static struct arp_entry *arp_find(struct link_layer *l, uint32_t ip)
{
	struct arp_entry *e = &l->cache[l->hint];

	if (e->state != ARP_FREE && e->ip == ip)
		return e;
	for (uint32_t i = 0; i < l->cfg.arp_cache_size; i++) {
		e = &l->cache[i];
		if (e->state != ARP_FREE && e->ip == ip) {
			l->hint = i;
			return e;
		}
	}
	return NULL;
}

/* Makes e FREE: cancels its timer and drops its parked packets, counting them in *drop_counter. */
static void arp_entry_release(struct link_layer *l, struct arp_entry *e, uint64_t *drop_counter)
{
	struct pbuf *pb;

	timer_cancel(&l->core->timers, &e->timer);
	while ((pb = pbuf_queue_pop(&e->pending))) {
		(*drop_counter)++;
		l->pending_total--;
		pbuf_free(pb);
	}
	e->state = ARP_FREE;
	e->requests_sent = 0;
	l->cache_used--;
}

/*
 * Who may take a slot when the cache is full (Linux's neighbour model, net/core/neighbour.c,
 * in a reduced form). A resolving (INCOMPLETE) entry goes first: it has never carried
 * traffic, and a flood of unanswered addresses must not push out the neighbours that do;
 * then a STALE one (not confirmed lately, not used since). A REACHABLE entry confirmed in
 * the last LINK_ARP_IN_USE_MS is in use and never goes; an older REACHABLE entry may go only
 * for a resolved newcomer (a requester for us), never for another unresolved address;
 * PROBE entries (being used and verified) never go. Within a rank, the entry confirmed (or
 * created) longest ago goes first.
 */
enum { ARP_RANK_NEVER = 3 };

static int arp_evict_rank(const struct link_layer *l, const struct arp_entry *e, bool for_resolved)
{
	switch (e->state) {
	case ARP_INCOMPLETE: return 0;
	case ARP_STALE: return 1;
	case ARP_REACHABLE:
		if (for_resolved && l->core->now >= e->confirmed + ms_to_usec(LINK_ARP_IN_USE_MS))
			return 2;
		return ARP_RANK_NEVER;
	default: return ARP_RANK_NEVER;
	}
}

/* The better victim of a and b (either may be NULL) for a newcomer; NULL if neither may go. */
static struct arp_entry *arp_victim_pick(const struct link_layer *l, struct arp_entry *a,
                                         struct arp_entry *b, bool for_resolved)
{
	int ra = a ? arp_evict_rank(l, a, for_resolved) : ARP_RANK_NEVER;
	int rb = b ? arp_evict_rank(l, b, for_resolved) : ARP_RANK_NEVER;

	if (ra == ARP_RANK_NEVER && rb == ARP_RANK_NEVER)
		return NULL;
	if (ra != rb)
		return ra < rb ? a : b;
	return a->confirmed <= b->confirmed ? a : b;
}

/*
 * A slot for ip, state still FREE, or NULL (counted here) when every entry is one the
 * newcomer may not take. `resolved`: the newcomer's MAC is already known (a request for
 * us); otherwise it starts resolving, and when arp_incomplete_max entries are already
 * resolving it replaces the oldest of them even if a slot is free, so a flood of unanswered
 * addresses can hold at most that many entries; but only once that one has been resolving
 * for arp_retry_ms. Until then the newcomer is refused: no request goes out and no entry
 * changes, so a flood costs one failed lookup per packet instead of an eviction and a
 * broadcast (Linux's forced GC likewise spares entries updated in the last 5 s, and a new
 * neighbour fails with "neighbour table overflow"), and at most arp_incomplete_max new
 * resolutions start per arp_retry_ms.
 */
static struct arp_entry *arp_entry_alloc(struct link_layer *l, uint32_t ip, bool resolved)
{
	struct arp_entry *free_slot = NULL, *victim = NULL, *oldest_incomplete = NULL;
	uint32_t incomplete = 0;

	for (uint32_t i = 0; i < l->cfg.arp_cache_size; i++) {
		struct arp_entry *e = &l->cache[i];
		if (e->state == ARP_FREE) {
			if (!free_slot)
				free_slot = e;
			continue;
		}
		if (e->state == ARP_INCOMPLETE) {
			incomplete++;
			if (!oldest_incomplete || e->confirmed < oldest_incomplete->confirmed)
				oldest_incomplete = e;
		}
		victim = arp_victim_pick(l, victim, e, resolved);
	}
	if (!resolved && incomplete >= l->cfg.arp_incomplete_max) {
		if (l->core->now < oldest_incomplete->confirmed + ms_to_usec(l->cfg.arp_retry_ms)) {
			l->arp.out_drop_resolving_full++;
			return NULL;
		}
		victim = oldest_incomplete;
	} else if (free_slot) {
		victim = free_slot;
	}
	if (!victim) {
		if (resolved)
			l->arp.cache_full_not_learned++;
		else
			l->arp.out_drop_cache_full++;
		return NULL;
	}
	if (victim->state != ARP_FREE) {
		l->arp.cache_evictions++;
		if (victim->state == ARP_INCOMPLETE)
			l->arp.cache_evict_incomplete++;
		arp_entry_release(l, victim, &l->arp.pending_drop_evicted);
	}
	memset(victim->mac, 0, ETH_ALEN);
	victim->ip = ip;
	victim->requests_sent = 0;
	victim->confirmed = l->core->now;
	victim->stale_since = 0;
	l->hint = (uint32_t)(victim - l->cache);
	l->cache_used++;
	return victim;
}

/* Builds and sends one ARP packet from us; eth_dst is where the frame goes. 0 or -errno. */
static int arp_send(struct link_layer *l, uint16_t oper, const uint8_t eth_dst[ETH_ALEN],
                    const uint8_t tha[ETH_ALEN], uint32_t tpa)
{
	struct arp_pkt a = {
		.htype = ARP_HTYPE_ETHERNET,
		.ptype = ETHERTYPE_IPV4,
		.hlen = ETH_ALEN,
		.plen = 4,
		.oper = oper,
		.spa = l->cfg.addr,
		.tpa = tpa,
	};
	struct pbuf *pb = pbuf_alloc(&l->core->pool, PBUF_HEADROOM, ETH_MIN_FRAME);

	if (!pb) {
		l->arp.tx_drop_nomem++;
		return -ENOBUFS;
	}
	memcpy(a.sha, l->cfg.mac, ETH_ALEN);
	memcpy(a.tha, tha, ETH_ALEN);
	arp_pkt_emit(pbuf_put(pb, ARP_PKT_LEN), &a);
	return ether_output(l, pb, eth_dst, ETHERTYPE_ARP);
}

/*
 * One request for e->ip. While INCOMPLETE it is broadcast; in PROBE it goes to the MAC we
 * already have (as Linux's unicast probes do), so a healthy neighbour is not disturbed.
 */
static void arp_send_request(struct link_layer *l, struct arp_entry *e)
{
	const uint8_t *dst = e->state == ARP_PROBE ? e->mac : eth_broadcast;

	e->requests_sent++;
	if (e->state == ARP_PROBE)
		l->arp.tx_probes++;
	else
		l->arp.tx_requests++;
	(void)arp_send(l, ARP_OP_REQUEST, dst, eth_zero, e->ip);
}

int arp_send_gratuitous(struct link_layer *l)
{
	/* RFC 5227 2.3 announcement: a request with sender and target both our address. */
	l->arp.tx_gratuitous++;
	return arp_send(l, ARP_OP_REQUEST, eth_broadcast, eth_zero, l->cfg.addr);
}

/* Sends e's parked packets, oldest first, now that e->mac is known. */
static void arp_flush_pending(struct link_layer *l, struct arp_entry *e)
{
	struct pbuf *pb;

	while ((pb = pbuf_queue_pop(&e->pending))) {
		l->arp.pending_sent++;
		l->pending_total--;
		(void)ether_output(l, pb, e->mac, ETHERTYPE_IPV4);
	}
}

/*
 * e is confirmed now (a packet from it addressed to us): REACHABLE for arp_reachable_ms.
 * A REACHABLE entry's expiry timer is left where it is: arp_timer() re-reads e->confirmed
 * when it fires, so a busy neighbour costs no heap operation per packet.
 */
static void arp_entry_confirm(struct link_layer *l, struct arp_entry *e, const uint8_t mac[ETH_ALEN])
{
	usec_t now = l->core->now;
	/* Only a REACHABLE entry's pending timer is already the expiry timer. */
	bool rearm = e->state != ARP_REACHABLE || !timer_armed(&e->timer);

	memcpy(e->mac, mac, ETH_ALEN);
	e->state = ARP_REACHABLE;
	e->confirmed = now;
	e->requests_sent = 0;
	l->arp.cache_confirms++;
	if (rearm)
		(void)timer_arm(&l->core->timers, &e->timer, now + ms_to_usec(l->cfg.arp_reachable_ms));
	arp_flush_pending(l, e);
}

static void arp_entry_make_stale(struct link_layer *l, struct arp_entry *e)
{
	e->state = ARP_STALE;
	e->stale_since = l->core->now;
	(void)timer_arm(&l->core->timers, &e->timer, l->core->now + ms_to_usec(l->cfg.arp_stale_ms));
}

/* The one timer of an entry: retries while resolving, REACHABLE -> STALE, STALE -> gone. */
static void arp_timer(struct timer *t, usec_t now)
{
	struct arp_entry *e = container_of(t, struct arp_entry, timer);
	struct link_layer *l = e->link;
	usec_t due;

	switch (e->state) {
	case ARP_INCOMPLETE:
	case ARP_PROBE:
		if (e->requests_sent < l->cfg.arp_retries) {
			arp_send_request(l, e);
			(void)timer_arm(&l->core->timers, t, now + ms_to_usec(l->cfg.arp_retry_ms));
			return;
		}
		/* RFC 1122 2.3.2.1: give up after a bounded number of requests; drop what waited. */
		l->arp.resolve_failed++;
		arp_entry_release(l, e, &l->arp.pending_drop_unresolved);
		return;
	case ARP_REACHABLE:
		due = e->confirmed + ms_to_usec(l->cfg.arp_reachable_ms);
		if (now < due) {    /* confirmed again since the timer was armed */
			(void)timer_arm(&l->core->timers, t, due);
			return;
		}
		arp_entry_make_stale(l, e);
		return;
	case ARP_STALE:
		l->arp.cache_expired++;
		arp_entry_release(l, e, &l->arp.pending_drop_evicted);
		return;
	default:
		return;
	}
}

int arp_cache_init(struct link_layer *l)
{
	l->cache = calloc(l->cfg.arp_cache_size, sizeof(*l->cache));
	if (!l->cache)
		return -ENOMEM;
	for (uint32_t i = 0; i < l->cfg.arp_cache_size; i++) {
		l->cache[i].link = l;
		timer_init(&l->cache[i].timer, arp_timer);
	}
	return 0;
}

void arp_cache_destroy(struct link_layer *l)
{
	if (!l->cache)
		return;
	for (uint32_t i = 0; i < l->cfg.arp_cache_size; i++)
		if (l->cache[i].state != ARP_FREE)
			arp_entry_release(l, &l->cache[i], &l->arp.pending_drop_evicted);
	free(l->cache);
	l->cache = NULL;
}

/*
 * Receive path, in the order of RFC 826 "Packet Reception", with validation first. Takes
 * ownership of pb: a request for us is answered in pb itself, anything else is freed. The
 * opcode is checked up front (as Linux does) rather than last: a packet that is neither a
 * request nor a reply should not touch the cache at all.
 */
void arp_input(struct link_layer *l, struct pbuf *pb)
{
	struct arp_pkt a;
	struct arp_entry *e;
	uint64_t *reason;
	bool for_us, merged = false;

	switch (arp_pkt_parse(pb->data, pb->len, &a)) {
	case ARP_PARSE_OK:
		break;
	case ARP_PARSE_TRUNCATED:
		reason = &l->arp.drop_truncated;
		goto drop;
	default:
		reason = &l->arp.drop_unsupported;
		goto drop;
	}
	if (a.oper != ARP_OP_REQUEST && a.oper != ARP_OP_REPLY) {
		reason = &l->arp.drop_bad_opcode;
		goto drop;
	}
	/* A sender MAC we could never send to (or our own, i.e. a loop or a spoof) is never learned. */
	if (eth_addr_is_multicast(a.sha) || eth_addr_is_zero(a.sha) || eth_addr_equal(a.sha, l->cfg.mac)) {
		reason = &l->arp.drop_bad_sender_mac;
		goto drop;
	}
	/* Someone else uses our address (RFC 5227 2.4 conflict detection): count it, learn nothing. */
	if (a.spa == l->cfg.addr && l->cfg.addr != 0) {
		reason = &l->arp.addr_conflict;
		LOG_DEBUG(&l->core->log, "arp: address conflict: %02x:%02x:%02x:%02x:%02x:%02x claims our address",
		          a.sha[0], a.sha[1], a.sha[2], a.sha[3], a.sha[4], a.sha[5]);
		goto drop;
	}
	for_us = l->cfg.addr != 0 && a.tpa == l->cfg.addr;
	if (a.oper == ARP_OP_REQUEST)
		l->arp.rx_requests++;
	else
		l->arp.rx_replies++;

	/*
	 * RFC 5227 2.1.1 probe (sender 0.0.0.0) for our address: answer so the prober sees the
	 * address is taken (Linux replies to it too, with target address 0); never cache 0.
	 */
	if (a.spa == 0) {
		if (a.oper != ARP_OP_REQUEST) {
			reason = &l->arp.drop_bad_sender_ip;
			goto drop;
		}
		if (!for_us) {
			l->arp.rx_not_for_us++;
			pbuf_free(pb);
			return;
		}
		l->arp.rx_probes++;
		goto reply;
	}
	if (ipv4_is_multicast(a.spa) || link_is_broadcast(l, a.spa)) {
		reason = &l->arp.drop_bad_sender_ip;
		goto drop;
	}

	/*
	 * RFC 826 merge rule: if the sender is already in the table, update its hardware
	 * address whether or not the packet is for us.
	 */
	e = arp_find(l, a.spa);
	if (e) {
		merged = true;
		if (e->state != ARP_INCOMPLETE && !eth_addr_equal(e->mac, a.sha))
			l->arp.cache_updates++;
		if (for_us || e->state == ARP_INCOMPLETE) {
			/*
			 * Addressed to us it proves the neighbour hears us. A packet not for us that
			 * answers a pending resolution (e.g. a gratuitous ARP) still gives the MAC we
			 * were waiting for, so the parked packets go now rather than after a timeout.
			 */
			arp_entry_confirm(l, e, a.sha);
		} else {
			memcpy(e->mac, a.sha, ETH_ALEN);
		}
	}
	if (!for_us) {
		/* Never fill the cache from traffic that is not for us (RFC 826; Linux arp_accept=0). */
		l->arp.rx_not_for_us++;
		pbuf_free(pb);
		return;
	}
	if (!merged) {
		/*
		 * "If Merge_flag is false, add the triplet": the requester will talk to us next.
		 * When every entry is in use it is not cached, but a request is still answered.
		 */
		e = arp_entry_alloc(l, a.spa, true);
		if (e) {
			e->state = ARP_INCOMPLETE;  /* confirm() treats it as freshly resolved */
			l->arp.cache_inserts++;
			arp_entry_confirm(l, e, a.sha);
		}
	}
	if (a.oper != ARP_OP_REQUEST) {
		pbuf_free(pb);
		return;
	}

reply:
	/*
	 * "Swap hardware and protocol fields, put the local hardware and protocol addresses in
	 * the sender fields, set the opcode to reply" and send it to the requester. The request's
	 * own pbuf is reused: it has the headroom the Ethernet header was pulled from.
	 */
	{
		struct arp_pkt r = a;
		memcpy(r.tha, a.sha, ETH_ALEN);
		r.tpa = a.spa;
		memcpy(r.sha, l->cfg.mac, ETH_ALEN);
		r.spa = l->cfg.addr;
		r.oper = ARP_OP_REPLY;
		pbuf_trim(pb, ARP_PKT_LEN);
		pb->flags = 0;
		arp_pkt_emit(pb->data, &r);
		l->arp.tx_replies++;
		(void)ether_output(l, pb, a.sha, ETHERTYPE_ARP);
	}
	return;

drop:
	(*reason)++;
	LOG_DEBUG(&l->core->log, "arp: drop packet of %u bytes", (unsigned)pb->len);
	pbuf_free(pb);
}

/*
 * Parks pb on e's queue, bounded twice: per neighbour the oldest goes when full (as Linux's
 * unres_qlen does, so the latest retransmission survives), and over all neighbours a packet
 * that finds arp_pending_total_max already waiting is not parked. Always consumes pb: the
 * queue owns it until arp_flush_pending() sends it or the entry is released; on -ENOBUFS
 * it was counted and freed.
 */
static int arp_park(struct link_layer *l, struct arp_entry *e, struct pbuf *pb)
{
	uint64_t *reason = &l->arp.pending_drop_nomem;

	if (e->pending.count >= l->cfg.arp_pending_max) {
		l->arp.pending_drop_full++;
		pbuf_free(pbuf_queue_pop(&e->pending));
		l->pending_total--;
	}
	if (l->pending_total >= l->cfg.arp_pending_total_max) {
		reason = &l->arp.pending_drop_total;
		goto drop;
	}
	/* The caller's borrowed payload (pbuf.h, ext) is only valid during this call. */
	if (pbuf_linearize(pb) < 0)
		goto drop;
	pbuf_queue_push(&e->pending, pb);
	l->pending_total++;
	l->arp.pending_queued++;
	return 0;

drop:
	(*reason)++;
	pbuf_free(pb);
	return -ENOBUFS;
}

/* RFC 1112 6.4: 01:00:5e followed by the low 23 bits of the group address. */
static void ipv4_multicast_mac(uint32_t ip, uint8_t mac[ETH_ALEN])
{
	mac[0] = 0x01;
	mac[1] = 0x00;
	mac[2] = 0x5e;
	mac[3] = (uint8_t)((ip >> 16) & 0x7f);
	mac[4] = (uint8_t)(ip >> 8);
	mac[5] = (uint8_t)ip;
}

/* Always consumes pb: sent, parked on the neighbour's queue, or counted and freed. */
int link_output_ipv4(struct link_layer *l, struct pbuf *pb, uint32_t next_hop)
{
	struct arp_entry *e;
	uint8_t mac[ETH_ALEN];
	usec_t now = l->core->now;
	int err;

	if (next_hop == 0 || next_hop == l->cfg.addr) {
		/* Unspecified or ourselves: nobody on the wire will answer; loopback is IP's job. */
		l->arp.out_drop_bad_next_hop++;
		pbuf_free(pb);
		return -EINVAL;
	}
	if (link_is_broadcast(l, next_hop))
		return ether_output(l, pb, eth_broadcast, ETHERTYPE_IPV4);
	if (ipv4_is_multicast(next_hop)) {
		ipv4_multicast_mac(next_hop, mac);
		return ether_output(l, pb, mac, ETHERTYPE_IPV4);
	}

	e = arp_find(l, next_hop);
	if (e) {
		switch (e->state) {
		case ARP_INCOMPLETE:
			return arp_park(l, e, pb);
		case ARP_REACHABLE:
			/* The timer may not have run yet at exactly this instant; same rule. */
			if (now < e->confirmed + ms_to_usec(l->cfg.arp_reachable_ms))
				break;
			arp_entry_make_stale(l, e);
			/* fall through */
		case ARP_STALE:
			/* First use after going stale: keep sending, verify with unicast requests. */
			e->state = ARP_PROBE;
			e->requests_sent = 0;
			arp_send_request(l, e);
			(void)timer_arm(&l->core->timers, &e->timer, now + ms_to_usec(l->cfg.arp_retry_ms));
			break;
		default:
			break;
		}
		return ether_output(l, pb, e->mac, ETHERTYPE_IPV4);
	}

	/* Miss: start resolving (RFC 826 / RFC 1122 2.3.2.2: keep at least one packet). */
	e = arp_entry_alloc(l, next_hop, false);
	if (!e) {
		pbuf_free(pb);
		return -ENOBUFS;
	}
	e->state = ARP_INCOMPLETE;
	err = arp_park(l, e, pb);
	if (err < 0 || timer_arm(&l->core->timers, &e->timer, now + ms_to_usec(l->cfg.arp_retry_ms)) < 0) {
		arp_entry_release(l, e, &l->arp.pending_drop_nomem);
		return err < 0 ? err : -ENOMEM;
	}
	arp_send_request(l, e);
	return 0;
}

/*
 * Would a packet for next_hop be refused now for lack of a resolving slot (the rule of
 * arp_entry_alloc: arp_incomplete_max entries resolving, the oldest for less than
 * arp_retry_ms)? Then it is counted as if it had been (out_drop_resolving_full) and the
 * caller need not build it. One pass over the cache, changing nothing else.
 */
bool link_can_send_ipv4(struct link_layer *l, uint32_t next_hop)
{
	usec_t oldest = 0;
	uint32_t incomplete = 0;

	if (link_is_broadcast(l, next_hop) || ipv4_is_multicast(next_hop))
		return true;
	if (l->cache[l->hint].state != ARP_FREE && l->cache[l->hint].ip == next_hop)
		return true;
	for (uint32_t i = 0; i < l->cfg.arp_cache_size; i++) {
		const struct arp_entry *e = &l->cache[i];
		if (e->state == ARP_FREE)
			continue;
		if (e->ip == next_hop)
			return true;
		if (e->state == ARP_INCOMPLETE && (incomplete++ == 0 || e->confirmed < oldest))
			oldest = e->confirmed;
	}
	if (incomplete < l->cfg.arp_incomplete_max || l->core->now >= oldest + ms_to_usec(l->cfg.arp_retry_ms))
		return true;
	l->arp.out_drop_resolving_full++;
	return false;
}

bool arp_cache_lookup(const struct link_layer *l, uint32_t ip, uint8_t mac[ETH_ALEN])
{
	for (uint32_t i = 0; i < l->cfg.arp_cache_size; i++) {
		const struct arp_entry *e = &l->cache[i];
		if (e->ip == ip && (e->state == ARP_REACHABLE || e->state == ARP_STALE || e->state == ARP_PROBE)) {
			memcpy(mac, e->mac, ETH_ALEN);
			return true;
		}
	}
	return false;
}

enum arp_state arp_cache_state(const struct link_layer *l, uint32_t ip)
{
	for (uint32_t i = 0; i < l->cfg.arp_cache_size; i++)
		if (l->cache[i].state != ARP_FREE && l->cache[i].ip == ip)
			return (enum arp_state)l->cache[i].state;
	return ARP_FREE;
}
