/*
 * resend.c - TCP payload sent again, seen from the path (see resend.h).
 *
 * Headers are read with the stack's own views (wire/) and compared with its wrap-safe
 * sequence helpers (tcp/tcp_seq.h). A linear scan finds a flow: fine for the handful a
 * benchmark runs, and bounded by RESEND_FLOWS.
 */
#include "tests/relay/resend.h"

#include <string.h>

#include "core/byteorder.h"
#include "tcp/tcp_seq.h"
#include "wire/ethernet.h"
#include "wire/ipv4.h"
#include "wire/tcp.h"

static struct resend_flow *resend_flow_find(struct resend *r, const struct ipv4_hdr *ip,
					    const struct tcp_hdr *th, int *fresh)
{
	struct resend_flow *f, *victim = &r->flows[0];

	*fresh = 0;
	for (f = r->flows; f < r->flows + RESEND_FLOWS; f++) {
		if (f->used && f->saddr == ip->src && f->daddr == ip->dst && f->sport == th->sport &&
		    f->dport == th->dport)
			return f;
		/* the first free entry, else the least recently used */
		if (victim->used && (!f->used || f->last_use < victim->last_use))
			victim = f;
	}
	if (victim->used)
		r->evicted++;
	memset(victim, 0, sizeof(*victim));
	victim->used = 1;
	victim->saddr = ip->src;
	victim->daddr = ip->dst;
	victim->sport = th->sport;
	victim->dport = th->dport;
	*fresh = 1;
	return victim;
}

void resend_frame(struct resend *r, const uint8_t *frame, size_t len)
{
	struct eth_hdr eth;
	struct ipv4_hdr ip;
	struct tcp_hdr th;
	struct resend_flow *f;
	const uint8_t *p = frame + ETH_HDR_LEN;
	uint32_t seglen, end, payload;
	int fresh;

	r->frames++;
	if (eth_hdr_parse(frame, len, &eth) || eth.type != ETHERTYPE_IPV4)
		return;
	len -= ETH_HDR_LEN;
	if (ipv4_hdr_parse(p, len, &ip) || ip.version != 4 || ip.proto != IPPROTO_TCP_NUM ||
	    ip.mf || ip.frag_off || ip.total_len > len || ip.total_len < ip.ihl)
		return;
	if (tcp_hdr_parse(p + ip.ihl, ip.total_len - ip.ihl, &th) != TCP_PARSE_OK)
		return;
	payload = (uint32_t)(ip.total_len - ip.ihl - th.doff);
	/* SYN and FIN take a sequence number each (RFC 9293 3.4) */
	seglen = payload + !!(th.flags & TCP_FLAG_SYN) + !!(th.flags & TCP_FLAG_FIN);
	f = resend_flow_find(r, &ip, &th, &fresh);
	f->last_use = r->frames;
	end = th.seq + seglen;
	if (fresh || (th.flags & TCP_FLAG_SYN)) {
		f->high = end;
	} else if (payload && seq_lt(th.seq, f->high)) {
		uint32_t below = (uint32_t)seq_diff(f->high, th.seq);
		uint32_t again = below < payload ? below : payload;

		f->resent_bytes += again;
		r->resent_bytes += again;
	}
	if (seq_gt(end, f->high))
		f->high = end;
	f->payload_bytes += payload;
	r->payload_bytes += payload;
}
