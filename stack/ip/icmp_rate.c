/*
 * icmp_rate.c - how many ICMP errors may go out, per destination and in all (RFC 1812
 * 4.3.2.8 and RFC 1122 3.2.2: a host SHOULD limit the errors it sends), as Linux does.
 *
 * Linux keeps a token bucket per destination (icmp_ratelimit = 1000 ms per token, burst
 * XRLIM_BURST_FACTOR = 6, on the destination's inet_peer) and a global one
 * (icmp_msgs_per_sec = 1000, icmp_msgs_burst = 50). The per-destination bucket keeps one
 * busy sender (a port scan, a flood to a closed port) from using up the errors every other
 * host should get; the global bucket bounds what forged sources can make us send.
 *
 * The destinations live in a fixed table of ICMP_RATE_SLOTS entries (linear scan: fine at
 * 64): a new destination takes a free entry or the one idle longest, and starts with a full
 * bucket as a new inet_peer does. Eviction cannot raise the total above the global bucket.
 *
 * Called by icmp_send_error() only. Owns ip->icmp_rate; the clock is ip->core->now.
 */
#include "ip/icmp.h"

#include "ip/ip.h"
#include "wire/icmp.h"

void icmp_rate_init(struct ip_layer *ip)
{
	struct icmp_rate *r = &ip->icmp_rate;
	for (uint32_t i = 0; i < ICMP_RATE_SLOTS; i++)
		r->peers[i] = (struct icmp_rate_peer){ 0 };
	r->tokens = (usec_t)ip->cfg.icmp_msgs_burst * (ip->cfg.icmp_msgs_per_sec ? USEC_PER_SEC / ip->cfg.icmp_msgs_per_sec : 0);
	r->last = ip->core->now;
}

/* Linux xrlim_allow(): credit grows with time up to max; true when a token was spent. */
static bool icmp_bucket_take(usec_t *tokens, usec_t *last, usec_t now, usec_t token, usec_t max, bool spend)
{
	if (now > *last)
		*tokens += now - *last;
	*last = now;
	if (*tokens > max)
		*tokens = max;
	if (*tokens < token)
		return false;
	if (spend)
		*tokens -= token;
	return true;
}

/* dst's entry: found, a free one, or the one idle longest (reset to a full bucket). */
static struct icmp_rate_peer *icmp_rate_peer(struct ip_layer *ip, uint32_t dst, usec_t full)
{
	struct icmp_rate_peer *slot = NULL;
	for (uint32_t i = 0; i < ICMP_RATE_SLOTS; i++) {
		struct icmp_rate_peer *p = &ip->icmp_rate.peers[i];
		if (p->dst == dst)
			return p;
		if (!slot || (slot->dst != 0 && (p->dst == 0 || p->last < slot->last)))
			slot = p;
	}
	*slot = (struct icmp_rate_peer){ .dst = dst, .tokens = full, .last = ip->core->now };
	return slot;
}

bool icmp_rate_allow(struct ip_layer *ip, uint32_t dst, uint8_t type, uint8_t code)
{
	struct icmp_rate *r = &ip->icmp_rate;
	usec_t now = ip->core->now;
	usec_t gtoken = ip->cfg.icmp_msgs_per_sec ? USEC_PER_SEC / ip->cfg.icmp_msgs_per_sec : 0;
	usec_t ptoken = (usec_t)ip->cfg.icmp_ratelimit_ms * USEC_PER_MS;

	/* Linux icmpv4_mask_allow: PMTU discovery must never wait for a token. */
	if (type == ICMP_DEST_UNREACH && code == ICMP_UNREACH_NEEDFRAG)
		return true;
	/* The global bucket is looked at first and spent last (Linux icmp_global_allow, then
	 * icmp_global_consume once the destination's bucket agreed). */
	if (gtoken && !icmp_bucket_take(&r->tokens, &r->last, now, gtoken, gtoken * ip->cfg.icmp_msgs_burst, false)) {
		ip->icmp_cnt.err_ratelimited_global++;
		return false;
	}
	if (ptoken) {
		usec_t full = ptoken * ip->cfg.icmp_ratelimit_burst;
		struct icmp_rate_peer *p = icmp_rate_peer(ip, dst, full);
		if (!icmp_bucket_take(&p->tokens, &p->last, now, ptoken, full, true)) {
			ip->icmp_cnt.err_ratelimited++;
			return false;
		}
	}
	if (gtoken)
		r->tokens -= gtoken;
	return true;
}
