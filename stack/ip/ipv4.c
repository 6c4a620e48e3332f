/*
 * ipv4.c - IPv4 input and output for a host (RFC 791, RFC 1122 3.2 and 3.3).
 *
 * Input (ipv4_input, called by stack.c with what ether_input left): validates the header in
 * the order a packet can be trusted - length, version, IHL, checksum, total length against
 * the frame (the rest is link padding and is trimmed), destination, source - skips any
 * options, hands fragments to reass.c, and returns the whole datagram with data at the
 * transport header. Each reason to drop has its own counter and the function has one drop
 * exit.
 *
 * Output (ipv4_output, called by TCP and ICMP): chooses the next hop (the destination when
 * it is on our prefix, else the gateway, else -ENETUNREACH), prepends a 20-byte header (we
 * never send options), and fragments datagrams above the link MTU (RFC 791 3.2
 * "Fragmentation"). DF policy: TCP datagrams carry DF like Linux's (TCP sizes its segments
 * to the MTU, so they never need cutting); everything else - ICMP echo replies, errors - is
 * sent without DF and fragmented when needed, which is what lets an 8000-byte ping get its
 * reply over a 1500-byte MTU.
 *
 * Also here: configuration, init/destroy, the address predicates and the counter tables.
 * Owns no memory itself; reass.c owns the reassembly slots.
 */
#include "ip/ip.h"

#include <errno.h>
#include <string.h>

#include "core/checksum.h"
#include "ip/icmp.h"
#include "ip/reass.h"
#include "link/link.h"
#include "wire/ipv4.h"

static const char *const ip_counter_names[] = { IP_COUNTERS(COUNTER_NAME) };
static const char *const icmp_counter_names[] = { ICMP_COUNTERS(COUNTER_NAME) };

void ip_config_default(struct ip_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->ttl = IP_TTL_DEFAULT;
	cfg->tcp_df = true;
	cfg->reass_timeout_ms = 30000;
	cfg->reass_max_slots = IP_REASS_SLOTS_MAX;
	cfg->reass_high_thresh = IP_REASS_HIGH_THRESH_DEFAULT;
	cfg->reass_low_thresh = IP_REASS_LOW_THRESH_DEFAULT;
	cfg->icmp_echo_ignore_broadcasts = true;
	cfg->icmp_ratelimit_ms = 1000;
	cfg->icmp_ratelimit_burst = 6;
	cfg->icmp_msgs_per_sec = 1000;
	cfg->icmp_msgs_burst = 50;
}

int ip_init(struct ip_layer *ip, struct core *core, struct link_layer *link, const struct ip_config *cfg)
{
	memset(ip, 0, sizeof(*ip));
	if (cfg->ttl == 0 || cfg->reass_max_slots == 0 || cfg->reass_max_slots > IP_REASS_SLOTS_MAX ||
	    cfg->reass_timeout_ms == 0 || cfg->reass_high_thresh < IP_REASS_SLOT_TRUESIZE ||
	    cfg->reass_low_thresh > cfg->reass_high_thresh)
		return -EINVAL;
	ip->core = core;
	ip->link = link;
	ip->cfg = *cfg;
	/* A random first ID, so IDs do not reveal how long the stack has run. */
	ip->next_id = (uint16_t)rng_u32(&core->rng);
	icmp_rate_init(ip);
	ip_reass_init(ip);
	return 0;
}

void ip_destroy(struct ip_layer *ip)
{
	ip_reass_destroy(ip);
	pbuf_queue_purge(&ip->loopq);
}

uint32_t ip_local_addr(const struct ip_layer *ip)
{
	return ip->link->cfg.addr;
}

static uint32_t ip_netmask(const struct ip_layer *ip)
{
	uint8_t plen = ip->link->cfg.prefix_len;
	return plen ? ~0u << (32 - plen) : 0;
}

bool ip_addr_is_broadcast(const struct ip_layer *ip, uint32_t addr)
{
	uint32_t mask = ip_netmask(ip);

	if (addr == IPV4_BROADCAST)
		return true;
	/* RFC 3021: a /31 has no broadcast address; a /32 has no subnet at all. */
	if (ip->link->cfg.prefix_len >= 31)
		return false;
	return (addr & mask) == (ip->link->cfg.addr & mask) && (addr | mask) == IPV4_BROADCAST;
}

static bool ip_addr_is_multicast_or_e(uint32_t a)
{
	return (a >> 28) >= 0xe;    /* 224.0.0.0/4 multicast and 240.0.0.0/4 class E */
}

bool ip_addr_is_bad_src(const struct ip_layer *ip, uint32_t src, uint32_t dst)
{
	if (ip_addr_is_multicast_or_e(src) || ip_addr_is_broadcast(ip, src))
		return true;
	if ((src >> 24) == 127)
		return true;
	/* RFC 1122 3.2.1.3 (a): 0.0.0.0 only "as a source address ... during initialization"
	 * (BOOTP/DHCP), which goes to the limited broadcast; Linux accepts exactly that case. */
	if ((src >> 24) == 0)
		return !(src == 0 && dst == IPV4_BROADCAST);
	/* Our own address from the wire is a spoof or a loop (Linux: fib_validate_source); our
	 * own datagrams to ourselves do not come from the wire (ipv4_input lets them pass). */
	return src == ip->link->cfg.addr;
}

/*
 * RFC 791 3.2 / RFC 1122 3.2.1: check everything before trusting anything; one drop exit.
 * Order of checks follows what must hold to read the next field safely. Takes ownership of
 * *pbp; on 1 the caller owns the (maybe reassembled) datagram left in *pbp.
 */
int ipv4_input(struct ip_layer *ip, struct pbuf **pbp, struct ipv4_rx *rx)
{
	struct pbuf *pb = *pbp;
	struct ipv4_hdr h;
	uint64_t *reason;
	bool broadcast;
	uint8_t ihl;

	*pbp = NULL;
	ip->cnt.rx_packets++;
	if (pb->len < IPV4_HDR_MIN) {
		reason = &ip->cnt.drop_truncated;
		goto drop;
	}
	if ((pb->data[IPV4_OFF_VER_IHL] >> 4) != 4) {
		reason = &ip->cnt.drop_bad_version;
		goto drop;
	}
	ihl = (uint8_t)((pb->data[IPV4_OFF_VER_IHL] & 0x0f) * 4);
	if (ihl < IPV4_HDR_MIN) {
		reason = &ip->cnt.drop_bad_ihl;
		goto drop;
	}
	if (ihl > pb->len) {
		reason = &ip->cnt.drop_truncated;
		goto drop;
	}
	(void)ipv4_hdr_parse(pb->data, pb->len, &h);    /* cannot fail: length and IHL checked */
	/* RFC 1122 3.2.1.2: a host MUST verify the header checksum and silently discard on failure. */
	if (csum_finish(csum_add(0, pb->data, ihl)) != 0) {
		reason = &ip->cnt.drop_bad_checksum;
		goto drop;
	}
	/* Total length covers header and data; anything beyond it is Ethernet padding (60-byte minimum). */
	if (h.total_len < ihl || h.total_len > pb->len) {
		reason = &ip->cnt.drop_bad_total_len;
		goto drop;
	}
	pbuf_trim(pb, h.total_len);

	/* RFC 1122 3.2.1.3 / 3.3.6: ours, the limited broadcast or our subnet's broadcast. We join
	 * no multicast group. A unicast datagram that came as a link broadcast is accepted as Linux
	 * does (drop_unicast_in_l2_multicast=0), but marked broadcast so nobody answers it. */
	bool looped = (pb->flags & PBUF_F_LOOP) != 0;
	if (h.dst == ip->link->cfg.addr || (looped && ip_addr_is_local(ip, h.dst)))
		broadcast = (pb->flags & (PBUF_F_BROADCAST | PBUF_F_MULTICAST)) != 0;
	else if (ip_addr_is_broadcast(ip, h.dst))
		broadcast = true;
	else {
		reason = &ip->cnt.drop_not_for_us;
		goto drop;
	}
	if (!looped && ip_addr_is_bad_src(ip, h.src, h.dst)) {
		reason = &ip->cnt.drop_bad_src;
		goto drop;
	}

	if (h.mf || h.frag_off) {
		uint32_t n = h.total_len - ihl;

		ip->cnt.frag_rx++;
		/* RFC 791 3.2: every fragment but the last carries a multiple of 8 data bytes (and
		 * some); no fragment may reach beyond the 65535-byte datagram limit. */
		if ((h.mf && (n == 0 || n % 8 != 0)) || h.frag_off + n > IP_DATAGRAM_MAX - IPV4_HDR_MIN) {
			reason = &ip->cnt.drop_bad_frag;
			goto drop;
		}
		pb = ip_reass_input(ip, pb, &h, broadcast);
		if (!pb)
			return 0;    /* kept, or dropped and counted by reass.c */
		/* The rebuilt header: first fragment's fields and options, new total length. */
		(void)ipv4_hdr_parse(pb->data, pb->len, &h);
		ihl = h.ihl;
		broadcast = broadcast || (pb->flags & PBUF_F_BROADCAST);
	}

	rx->src = h.src;
	rx->dst = h.dst;
	rx->proto = h.proto;
	rx->ttl = h.ttl;
	rx->tos = h.tos;
	rx->hdr_len = ihl;
	rx->broadcast = broadcast;
	/* Options (RFC 791 3.1) are skipped: the transport header starts after IHL words. */
	pbuf_pull(pb, ihl);
	ip->cnt.rx_delivered++;
	if (broadcast)
		ip->cnt.rx_broadcast++;
	*pbp = pb;
	return 1;

drop:
	(*reason)++;
	LOG_DEBUG(&ip->core->log, "ip: drop %s", ip_counter_names[reason - (uint64_t *)&ip->cnt]);
	pbuf_free(pb);
	return 0;
}

/* Copies n bytes starting at off of pb's whole frame (data, then ext pieces) to dst; pb stays the caller's. */
static void ipv4_copy_range(const struct pbuf *pb, uint32_t off, uint32_t n, uint8_t *dst)
{
	const uint8_t *piece[3] = { pb->data, pb->ext[0].ptr, pb->ext[1].ptr };
	uint32_t plen[3] = { pb->len, pb->ext[0].len, pb->ext[1].len };

	for (int i = 0; i < 3 && n; i++) {
		if (off >= plen[i]) {
			off -= plen[i];
			continue;
		}
		uint32_t take = plen[i] - off < n ? plen[i] - off : n;
		memcpy(dst, piece[i] + off, take);
		dst += take;
		n -= take;
		off = 0;
	}
}

/* Writes the 20-byte header at p with its checksum (RFC 791 3.1 "Header Checksum"). */
static void ipv4_emit_with_csum(uint8_t *p, struct ipv4_hdr *h)
{
	h->csum = 0;
	ipv4_hdr_emit(p, h);
	put_be16(p + IPV4_OFF_CSUM, csum_finish(csum_add(0, p, IPV4_HDR_MIN)));
}

/*
 * RFC 791 3.2 "Fragmentation": cut the payload into pieces of the largest multiple of 8
 * that fits the MTU; every piece carries a copy of the header with its offset (in 8-byte
 * units), MF on all but the last, and the same ID so the receiver can match them. Each
 * fragment is a fresh pbuf (one copy of the payload). Always consumes pb (freed at the end).
 */
static int ipv4_fragment(struct ip_layer *ip, struct pbuf *pb, const struct ipv4_hdr *tmpl, uint32_t next_hop)
{
	uint32_t plen = pbuf_frame_len(pb);
	uint32_t chunk = (ip->link->cfg.mtu - IPV4_HDR_MIN) & ~7u;
	uint32_t off = 0;
	int err = 0;

	while (off < plen) {
		uint32_t n = plen - off < chunk ? plen - off : chunk;
		struct pbuf *f = pbuf_alloc(&ip->core->pool, PBUF_HEADROOM, n);
		struct ipv4_hdr h = *tmpl;

		if (!f) {
			ip->cnt.tx_no_mem++;
			err = -ENOBUFS;
			break;
		}
		ipv4_copy_range(pb, off, n, pbuf_put(f, n));
		h.total_len = (uint16_t)(IPV4_HDR_MIN + n);
		h.frag_off = (uint16_t)off;
		h.mf = off + n < plen;
		ipv4_emit_with_csum(pbuf_push(f, IPV4_HDR_MIN), &h);
		ip->cnt.tx_fragments++;
		ip->cnt.tx_frames++;
		off += n;
		err = link_output_ipv4(ip->link, f, next_hop);
		if (err < 0)
			break;    /* a lost fragment loses the datagram: do not send the rest */
	}
	if (!err)
		ip->cnt.tx_fragmented++;
	pbuf_free(pb);
	return err;
}

/* Routing (RFC 1122 3.3.1.1): on-link destinations directly, everything else via the
 * gateway; 0 when there is neither (no route). */
static uint32_t ipv4_next_hop(const struct ip_layer *ip, uint32_t dst)
{
	const struct link_config *lc = &ip->link->cfg;
	uint32_t mask = ip_netmask(ip);

	if (dst == IPV4_BROADCAST || (dst & mask) == (lc->addr & mask))
		return dst;
	return lc->gateway;
}

bool ipv4_can_send(struct ip_layer *ip, uint32_t dst)
{
	uint32_t next_hop = ipv4_next_hop(ip, dst);

	return !next_hop || link_can_send_ipv4(ip->link, next_hop);
}

/*
 * A datagram to ourselves (ip_addr_is_local) goes round, not out: Linux hands it to its lo
 * device, we queue it whole, header and payload in one new pbuf (the payload may be borrowed
 * from a send ring that changes before the queue drains), and the stack delivers it as
 * input at its next poll (ip_loop_pop). A checksum left to the device counts as verified
 * (Linux's CHECKSUM_PARTIAL on lo); a super-segment would go round whole, but TCP sends none
 * towards us (tcp_gso_max). Never fragmented: there is no MTU on the way. Consumes pb.
 */
static int ipv4_loop(struct ip_layer *ip, struct pbuf *pb, struct ipv4_hdr *h)
{
	uint32_t plen = pbuf_frame_len(pb);
	struct pbuf *lp = NULL;
	if (plen > IP_DATAGRAM_MAX - IPV4_HDR_MIN) {
		ip->cnt.tx_too_big++;
		pbuf_free(pb);
		return -EMSGSIZE;
	}
	if (ip->loopq.count < IP_LOOP_MAX)
		lp = pbuf_alloc(&ip->core->pool, PBUF_HEADROOM, IPV4_HDR_MIN + plen);
	if (!lp) {
		ip->cnt.tx_loop_full++;
		pbuf_free(pb);
		return -ENOBUFS;
	}
	uint8_t *p = pbuf_put(lp, IPV4_HDR_MIN + plen);
	h->total_len = (uint16_t)(IPV4_HDR_MIN + plen);
	h->id = ip->next_id++;
	h->df = h->proto == IPPROTO_TCP_NUM && ip->cfg.tcp_df;
	ipv4_emit_with_csum(p, h);
	ipv4_copy_range(pb, 0, plen, p + IPV4_HDR_MIN);
	lp->flags = PBUF_F_LOOP | ((pb->flags & PBUF_F_CSUM_PARTIAL) ? PBUF_F_CSUM_OK : 0);
	lp->gso_size = pb->gso_size;
	pbuf_free(pb);
	pbuf_queue_push(&ip->loopq, lp);
	ip->cnt.tx_loopback++;
	return 0;
}

struct pbuf *ip_loop_pop(struct ip_layer *ip)
{
	return pbuf_queue_pop(&ip->loopq);
}

/* Always consumes pb: handed to the link layer (whole or as fragments), or counted and freed. */
int ipv4_output(struct ip_layer *ip, struct pbuf *pb, uint32_t src, uint32_t dst, uint8_t proto,
                struct ip_hdr_choice hc)
{
	const struct link_config *lc = &ip->link->cfg;
	uint32_t plen = pbuf_frame_len(pb), next_hop = ipv4_next_hop(ip, dst);
	uint64_t *reason;
	int err;
	struct ipv4_hdr h = {
		.version = 4, .ihl = IPV4_HDR_MIN, .tos = hc.tos, .ttl = hc.ttl ? hc.ttl : ip->cfg.ttl, .proto = proto,
		.src = src ? src : lc->addr, .dst = dst,
	};

	ip->cnt.tx_packets++;
	if (ip_addr_is_local(ip, dst))
		return ipv4_loop(ip, pb, &h);
	if (!next_hop) {
		reason = &ip->cnt.tx_no_route;
		err = -ENETUNREACH;
		goto drop;
	}
	if (plen > IP_DATAGRAM_MAX - IPV4_HDR_MIN) {
		reason = &ip->cnt.tx_too_big;
		err = -EMSGSIZE;
		goto drop;
	}
	h.total_len = (uint16_t)(IPV4_HDR_MIN + plen);
	/* RFC 791 3.2 "Identification": unique per (src, dst, proto) while the datagram may live;
	 * one counter for all serves that. Fragments share their datagram's ID. */
	h.id = ip->next_id++;
	h.df = proto == IPPROTO_TCP_NUM && ip->cfg.tcp_df;
	/* A TCP super-segment (gso_size > 0, TSO) is cut to the MTU by the device, each piece a
	 * whole datagram with DF: it is neither fragmented nor refused here. */
	if (IPV4_HDR_MIN + plen > lc->mtu && !pb->gso_size) {
		if (h.df) {
			reason = &ip->cnt.tx_df_too_big;
			err = -EMSGSIZE;
			goto drop;
		}
		return ipv4_fragment(ip, pb, &h, next_hop);
	}
	uint8_t *p = pbuf_push(pb, IPV4_HDR_MIN);
	if (!p) {
		reason = &ip->cnt.tx_no_headroom;
		err = -ENOBUFS;
		goto drop;
	}
	ipv4_emit_with_csum(p, &h);
	ip->cnt.tx_frames++;
	return link_output_ipv4(ip->link, pb, next_hop);

drop:
	(*reason)++;
	LOG_DEBUG(&ip->core->log, "ip: output drop %s", ip_counter_names[reason - (uint64_t *)&ip->cnt]);
	pbuf_free(pb);
	return err;
}

size_t ip_counter_groups(const struct ip_layer *ip, struct counter_group *out, size_t max)
{
	size_t n = 0;

	if (n < max)
		out[n++] = COUNTER_GROUP("ip", ip_counter_names, &ip->cnt);
	if (n < max)
		out[n++] = COUNTER_GROUP("icmp", icmp_counter_names, &ip->icmp_cnt);
	return n;
}
