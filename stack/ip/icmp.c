/*
 * icmp.c - ICMP for a host (RFC 792, RFC 1122 3.2.2).
 *
 * Called by stack.c: icmp_input() for every delivered datagram with protocol 1, and
 * icmp_send_unreachable() for datagrams nobody handles (code 2, protocol unreachable); by
 * udp.c for a port nobody holds (code 3, port unreachable). reass.c sends "fragment
 * reassembly time exceeded" through icmp_send_error().
 *
 * Echo (RFC 792 "Echo or Echo Reply", RFC 1122 3.2.2.6): the request's pbuf becomes the
 * reply in place - type 0, same identifier, sequence number and data, new checksum - so a
 * ping of any size that reassembles is answered without copying (ipv4_output fragments it if
 * it is above the MTU). Requests to a broadcast address are ignored, as Linux does by default
 * (icmp_echo_ignore_broadcasts=1: "smurf" amplification). IP options of the request (record
 * route, timestamp) are not reflected into the reply (RFC 1122 3.2.2.6 SHOULD; not done).
 *
 * Errors (RFC 1122 3.2.2): never about an ICMP error, a datagram sent to a broadcast or
 * multicast address or as a link broadcast, a non-first fragment, or a source that is not a
 * single host; they quote the offending datagram up to 576 bytes in all, like Linux; and
 * they are rate-limited as Linux's: a token bucket per destination (icmp_ratelimit: one
 * token per 1000 ms, burst 6) and one for the stack (icmp_msgs_per_sec), in icmp_rate.c.
 *
 * Errors received (RFC 1122 3.2.2, 4.2.3.9): destination unreachable, time exceeded and
 * parameter problem that quote one of our own TCP or UDP datagrams (its IP header and at
 * least 8 transport bytes) are handed back to stack.c in a struct icmp_err, which passes
 * them to tcp_icmp_error() or udp_icmp_error() - the IP layer never calls upward. Source quench is counted and ignored
 * (RFC 6633). The path MTU cache (RFC 1191, at the end) lives here too: TCP records a
 * frag-needed's MTU with ip_pmtu_learn() once it has matched the error to a connection.
 *
 * Owns nothing but the counters and the path MTU cache in struct ip_layer.
 */
#include "ip/icmp.h"

#include <string.h>

#include "core/checksum.h"
#include "ip/ip.h"
#include "link/link.h"
#include "wire/icmp.h"
#include "wire/ipv4.h"

/* RFC 1122 3.2.2: types that are errors (never answered with an error). Unknown types count too, as in Linux. */
static bool icmp_type_is_error(uint8_t type)
{
	switch (type) {
	case ICMP_ECHO_REPLY:
	case ICMP_ECHO_REQUEST:
	case 9: case 10:                  /* router advertisement / solicitation */
	case 13: case 14: case 15: case 16: case 17: case 18:  /* timestamp, info, address mask */
		return false;
	default:
		return true;
	}
}

/* icmp_send_error; looped: the datagram was one we sent ourselves (PBUF_F_LOOP), whose
 * source (ours, 127.x) is a single host after all, and whose error goes round the loop
 * without the rate limit (Linux icmpv4_xrlim_allow: none towards loopback). */
static void icmp_error_out(struct ip_layer *ip, const uint8_t *dgram, uint32_t len, uint8_t type, uint8_t code,
                           bool looped)
{
	struct ipv4_hdr h;
	struct icmp_hdr ih = { .type = type, .code = code };
	struct pbuf *pb;
	uint32_t quote;
	uint8_t *p;

	if (ipv4_hdr_parse(dgram, len, &h) < 0) {
		ip->icmp_cnt.err_suppressed++;
		return;
	}
	/* RFC 1122 3.2.2: not about a non-first fragment, an ICMP error (or one we cannot read),
	 * or a datagram whose source does not name a single host. */
	if (h.frag_off != 0 || (!looped && ip_addr_is_bad_src(ip, h.src, h.dst)) || h.src == 0 ||
	    (h.proto == IPPROTO_ICMP_NUM && (len <= h.ihl || icmp_type_is_error(dgram[h.ihl])))) {
		ip->icmp_cnt.err_suppressed++;
		return;
	}
	if (!looped && !icmp_rate_allow(ip, h.src, type, code))
		return;                        /* counted by the limiter */
	quote = len < ICMP_ERROR_MAX_DATAGRAM - IPV4_HDR_MIN - ICMP_HDR_LEN ?
	        len : ICMP_ERROR_MAX_DATAGRAM - IPV4_HDR_MIN - ICMP_HDR_LEN;
	pb = pbuf_alloc(&ip->core->pool, PBUF_HEADROOM, ICMP_HDR_LEN + quote);
	if (!pb) {
		ip->icmp_cnt.out_no_mem++;
		return;
	}
	p = pbuf_put(pb, ICMP_HDR_LEN + quote);
	icmp_hdr_emit(p, &ih);    /* "unused" word zero (RFC 792) */
	memcpy(p + ICMP_HDR_LEN, dgram, quote);
	put_be16(p + ICMP_OFF_CSUM, csum_finish(csum_add(0, p, pb->len)));
	ip->icmp_cnt.out_msgs++;
	if (type == ICMP_DEST_UNREACH)
		ip->icmp_cnt.out_dest_unreachs++;
	else if (type == ICMP_TIME_EXCEEDED)
		ip->icmp_cnt.out_time_excds++;
	/* Source: our address (the offending datagram was addressed to us, not to a broadcast).
	 * TOS: precedence "internetwork control" (0xc0) with the original's TOS bits, as Linux. */
	(void)ipv4_output(ip, pb, 0, h.src, IPPROTO_ICMP_NUM,
	                  (struct ip_hdr_choice){ .tos = (uint8_t)((h.tos & 0x1e) | 0xc0) });
}

void icmp_send_error(struct ip_layer *ip, const uint8_t *dgram, uint32_t len, uint8_t type, uint8_t code)
{
	icmp_error_out(ip, dgram, len, type, code, false);
}

/* Always consumes pb; the error (if any) is a new pbuf quoting pb's bytes. */
void icmp_send_unreachable(struct ip_layer *ip, struct pbuf *pb, const struct ipv4_rx *rx, uint8_t code)
{
	uint8_t *dgram;

	if (code == ICMP_UNREACH_PROTOCOL)
		ip->cnt.unknown_proto++;
	/* RFC 1122 3.2.2: never about a broadcast or multicast datagram. */
	if (rx->broadcast || !(dgram = pbuf_push(pb, rx->hdr_len)))
		ip->icmp_cnt.err_suppressed++;
	else
		icmp_error_out(ip, dgram, pb->len, ICMP_DEST_UNREACH, code, (pb->flags & PBUF_F_LOOP) != 0);
	pbuf_free(pb);
}

/*
 * RFC 792 echo: the request becomes the reply in place; pb is handed to ipv4_output, which
 * consumes it. Only the type/code word changes (8/0 -> 0/0), so the checksum that
 * icmp_input() has just verified is updated for that word alone (RFC 1624) instead of
 * summing the whole message again - for a 64 KiB ping, one pass over the data instead of two.
 */
static void icmp_echo_reply(struct ip_layer *ip, struct pbuf *pb, const struct ipv4_rx *rx)
{
	uint16_t old_word = get_be16(pb->data + ICMP_OFF_TYPE);
	uint16_t new_word = (uint16_t)(ICMP_ECHO_REPLY << 8);

	pb->data[ICMP_OFF_TYPE] = ICMP_ECHO_REPLY;
	pb->data[ICMP_OFF_CODE] = 0;
	put_be16(pb->data + ICMP_OFF_CSUM, csum_replace16(get_be16(pb->data + ICMP_OFF_CSUM), old_word, new_word));
	pb->flags = 0;
	ip->icmp_cnt.out_msgs++;
	ip->icmp_cnt.out_echo_replies++;
	/* Source: the address the request was sent to (ours); Linux echoes the TOS. */
	(void)ipv4_output(ip, pb, 0, rx->src, IPPROTO_ICMP_NUM, (struct ip_hdr_choice){ .tos = rx->tos });
}

/*
 * An error message (type 3, 11, 12): reads the quoted datagram into *err. True when it is
 * about a TCP or UDP datagram we sent; false when it was counted and is to be ignored.
 * RFC 1122 3.2.2: the quote is the offending IP header and at least 8 bytes of its data;
 * anything shorter, a quote that is not IPv4, not from us, or a non-first fragment (no
 * transport header in it) cannot be matched to a connection (RFC 5927 4.1).
 */
static bool icmp_error_parse(struct ip_layer *ip, const struct pbuf *pb, const struct icmp_hdr *h,
                             const struct ipv4_rx *rx, struct icmp_err *err)
{
	const uint8_t *q = pb->data + ICMP_HDR_LEN;
	uint32_t qlen = pb->len - ICMP_HDR_LEN;
	struct ipv4_hdr qh;

	if (rx->broadcast) {
		ip->icmp_cnt.err_broadcast++;       /* nobody answers a single host by broadcast */
		return false;
	}
	if (ipv4_hdr_parse(q, qlen, &qh) < 0 || qh.version != 4 || qlen < (uint32_t)qh.ihl + 8u ||
	    qh.frag_off != 0) {
		ip->icmp_cnt.err_bad_quote++;
		return false;
	}
	/* About one of our datagrams: from our address, or from 127.x when the error itself went
	 * round the loop (one from the wire naming 127.x is forged). */
	bool ours = qh.src == ip_local_addr(ip) || ((pb->flags & PBUF_F_LOOP) && ip_addr_is_local(ip, qh.src));
	if ((qh.proto != IPPROTO_TCP_NUM && qh.proto != IPPROTO_UDP_NUM) || !ours) {
		ip->icmp_cnt.err_other_proto++;
		return false;
	}
	uint32_t tlen = qlen - qh.ihl;
	/* The quote is at most what the datagram really held: a router may quote padding. */
	if (qh.total_len >= qh.ihl && tlen > (uint32_t)(qh.total_len - qh.ihl))
		tlen = qh.total_len - qh.ihl;
	if (tlen < 8u) {
		ip->icmp_cnt.err_bad_quote++;
		return false;
	}
	if (tlen > ICMP_ERR_QUOTE_MAX)
		tlen = ICMP_ERR_QUOTE_MAX;
	memset(err, 0, sizeof(*err));
	err->type = h->type;
	err->code = h->code;
	if (h->type == ICMP_DEST_UNREACH && h->code == ICMP_UNREACH_NEEDFRAG)
		err->next_hop_mtu = get_be16(pb->data + ICMP_OFF_MTU);
	err->src = qh.src;
	err->dst = qh.dst;
	err->proto = qh.proto;
	err->from = rx->src;
	err->tlen = (uint8_t)tlen;
	memcpy(err->t, q + qh.ihl, tlen);
	ip->icmp_cnt.err_to_transport++;
	return true;
}

/*
 * Takes ownership of pb: an echo request becomes the reply in it, anything else is freed.
 * Returns true with *err filled for an error the transport must see (see ip.h).
 */
bool icmp_input(struct ip_layer *ip, struct pbuf *pb, const struct ipv4_rx *rx, struct icmp_err *err)
{
	struct icmp_hdr h;
	uint64_t *reason;
	bool up = false;

	ip->icmp_cnt.in_msgs++;
	if (icmp_hdr_parse(pb->data, pb->len, &h) < 0) {
		reason = &ip->icmp_cnt.drop_truncated;
		goto drop;
	}
	/* RFC 1122 3.2.2: the checksum covers the whole message; a bad one is discarded. */
	if (csum_finish(csum_add(0, pb->data, pb->len)) != 0) {
		reason = &ip->icmp_cnt.drop_bad_checksum;
		goto drop;
	}
	switch (h.type) {
	case ICMP_ECHO_REQUEST:
		ip->icmp_cnt.in_echo_requests++;
		if (rx->broadcast && ip->cfg.icmp_echo_ignore_broadcasts) {
			reason = &ip->icmp_cnt.drop_echo_broadcast;
			goto drop;
		}
		icmp_echo_reply(ip, pb, rx);
		return false;
	case ICMP_ECHO_REPLY:
		ip->icmp_cnt.in_echo_replies++;    /* we send no requests: nothing waits for it */
		break;
	case ICMP_DEST_UNREACH:
		ip->icmp_cnt.in_dest_unreachs++;
		up = icmp_error_parse(ip, pb, &h, rx, err);
		break;
	case ICMP_TIME_EXCEEDED:
		ip->icmp_cnt.in_time_excds++;
		up = icmp_error_parse(ip, pb, &h, rx, err);
		break;
	case ICMP_PARAM_PROBLEM:
		ip->icmp_cnt.in_param_probs++;
		up = icmp_error_parse(ip, pb, &h, rx, err);
		break;
	case ICMP_SOURCE_QUENCH:
		ip->icmp_cnt.in_source_quench++;   /* RFC 6633: deprecated; a host MUST ignore it */
		break;
	default:
		ip->icmp_cnt.in_other++;
		break;
	}
	pbuf_free(pb);
	return up;

drop:
	(*reason)++;
	pbuf_free(pb);
	return false;
}

/* ---- RFC 1191 path MTU cache ---- */

static uint32_t ip_link_mtu(const struct ip_layer *ip)
{
	return ip->link && ip->link->cfg.mtu ? ip->link->cfg.mtu : 1500u;
}

uint32_t ip_pmtu_get(const struct ip_layer *ip, uint32_t dst)
{
	uint32_t mtu = ip_link_mtu(ip);
	for (uint32_t i = 0; i < IP_PMTU_SLOTS; i++) {
		const struct ip_pmtu *e = &ip->pmtu[i];
		if (e->dst == dst && dst != 0 && e->expires > ip->core->now && e->mtu < mtu)
			return e->mtu;
	}
	return mtu;
}

uint32_t ip_pmtu_learn(struct ip_layer *ip, uint32_t dst, uint32_t mtu)
{
	uint32_t cur = ip_pmtu_get(ip, dst);
	struct ip_pmtu *slot = NULL;

	/* Linux __ip_rt_update_pmtu: below the floor means "the floor"; never raise by ICMP
	 * (RFC 1191 6.3: increases are found only by the entry expiring). */
	if (mtu < IP_PMTU_MIN)
		mtu = IP_PMTU_MIN;
	if (mtu >= cur || dst == 0)
		return cur;
	for (uint32_t i = 0; i < IP_PMTU_SLOTS; i++) {
		struct ip_pmtu *e = &ip->pmtu[i];
		if (e->dst == dst) {
			slot = e;
			break;
		}
		if (!slot || e->dst == 0 || (slot->dst != 0 && e->expires < slot->expires))
			slot = e;                   /* a free entry, else the one closest to expiry */
	}
	slot->dst = dst;
	slot->mtu = mtu;
	slot->expires = ip->core->now + (usec_t)IP_PMTU_EXPIRE_MS * USEC_PER_MS;
	ip->icmp_cnt.pmtu_learned++;
	return mtu;
}
