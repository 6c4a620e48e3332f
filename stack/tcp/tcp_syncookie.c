/*
 * tcp_syncookie.c - SYN cookies (RFC 4987 3.6): the listener's answer to a full SYN queue.
 * Called by tcp_listen.c (tcp_listen_input). Owns nothing: the state lives in the ISN.
 */
#include "tcp/tcp_int.h"

#include <string.h>

#include "ip/ip.h"

/*
 * SYN cookies (RFC 4987 3.6, after Bernstein): when the SYN queue is full, the SYN-ACK's ISN
 * carries the state instead of a tcp_req, and the final ACK rebuilds it.
 *
 *   ISN = count(2 bits) << 30 | mss_index(2 bits) << 28 | F(key, 4-tuple, SEG.SEQ, count) (28 bits)
 *
 * count is a 64-second clock: a cookie is honoured for up to two periods. The MSS survives
 * as an index into a table (Linux's msstab). The other options survive only when the client
 * uses timestamps, as in Linux (cookie_init_timestamp): the SYN-ACK's TSval then carries
 * them in its low six bits, which the client echoes in the final ACK's TSecr:
 *
 *   TSval = (clock & ~63) | sack(1 bit) << 4 | wscale(4 bits, 15 = none)   + the offset
 *
 * (a TSval a few milliseconds behind the clock). Without timestamps a cookie SYN-ACK offers
 * no window scale and no SACK, and the connection goes on without them.
 */
static const uint16_t tcp_cookie_mss[4] = { 536, 1300, 1440, 1460 };

#define TCP_COOKIE_TS_BITS 6u
#define TCP_COOKIE_TS_MASK 0x3fu
#define TCP_COOKIE_NO_WSCALE 0xfu  /* the wscale field when the SYN offered none */
#define TCP_COOKIE_SACK 0x10u

uint32_t tcp_cookie_tsval(const struct tcp_layer *tl, const struct tcp_req *r)
{
	uint32_t clock = tcp_now_ts(tl, 0);
	uint32_t opts = (r->wscale_ok ? r->snd_wscale : TCP_COOKIE_NO_WSCALE) | (r->sack_ok ? TCP_COOKIE_SACK : 0u);
	uint32_t ts = (clock & ~TCP_COOKIE_TS_MASK) | opts;
	if ((int32_t)(ts - clock) > 0)
		ts -= 1u << TCP_COOKIE_TS_BITS; /* never ahead of the clock */
	return ts + r->ts_offset;
}

static uint32_t tcp_cookie_hash(const struct tcp_layer *tl, const struct tcp_seg *seg, uint32_t irs, uint32_t count)
{
	uint32_t m[5] = { seg->src, seg->dst, (uint32_t)seg->h.sport << 16 | seg->h.dport, irs, count };
	return (uint32_t)siphash24(tl->cookie_key, m, sizeof(m)) & 0x0fffffffu;
}

static uint32_t tcp_cookie_count(const struct tcp_layer *tl)
{
	return (uint32_t)(tl->core->now / (TCP_COOKIE_PERIOD_S * USEC_PER_SEC));
}

/* Answers a SYN with a cookie SYN-ACK. Does not take seg->pb: the caller frees it. */
void tcp_cookie_synack(struct tcp_listener *l, struct tcp_seg *seg)
{
	struct tcp_layer *tl = l->tl;
	struct tcp_req r;
	uint16_t peer = seg->h.opts.has_mss ? seg->h.opts.mss : TCP_MSS_DEFAULT;
	uint32_t idx = 0;
	for (uint32_t i = 0; i < 4; i++)
		if (tcp_cookie_mss[i] <= peer)
			idx = i;
	uint32_t count;
	/* Under an on-link flood the SYN-ACK to a spoofed address would only be refused by the
	 * neighbour table (docs/arp.md, "Under attack"): do not compute or build it. (Without
	 * an IP layer, in unit tests of TCP alone, segments are built and dropped.) */
	if (tl->ip && !ipv4_can_send(tl->ip, seg->src))
		return;
	count = tcp_cookie_count(tl);
	memset(&r, 0, sizeof(r));
	r.hn.laddr = seg->dst;
	r.hn.lport = seg->h.dport;
	r.hn.raddr = seg->src;
	r.hn.rport = seg->h.sport;
	r.lis = l;
	r.irs = seg->seq;
	r.iss = (count & 3u) << 30 | idx << 28 | tcp_cookie_hash(tl, seg, seg->seq, count);
	r.cookie = true;
	r.snd_wnd = seg->wnd;
	/* The SYN's options, kept only with timestamps, which carry them (see above). */
	tcp_req_syn_opts(l, &r, &seg->h.opts);
	if (!r.ts_ok) {
		r.wscale_ok = false;
		r.sack_ok = false;
		r.snd_wscale = 0;
		r.rcv_wscale = 0;
	}
	tl->ctr.SyncookiesSent++;
	tcp_send_synack(&r);
}

/* The options a cookie kept, from the final ACK's TSecr (Linux cookie_timestamp_decode):
 * 1, or 0 when they ask for what the stack no longer allows. Without timestamps, none. */
static int tcp_cookie_opts(const struct tcp_listener *l, const struct tcp_seg *seg, struct tcp_req *r)
{
	const struct tcp_layer *tl = l->tl;
	const struct tcp_opts *o = &seg->h.opts;
	r->ts_offset = tcp_ts_offset_for(r->iss);
	if (!o->has_ts || !o->ts_ecr)
		return 1;
	if (!tl->cfg.timestamps)
		return 0;
	uint32_t opts = (o->ts_ecr - r->ts_offset) & TCP_COOKIE_TS_MASK;
	r->ts_ok = true;
	r->ts_recent = o->ts_val;
	r->sack_ok = (opts & TCP_COOKIE_SACK) != 0;
	if (r->sack_ok && !tl->cfg.sack)
		return 0;
	if ((opts & TCP_COOKIE_NO_WSCALE) != TCP_COOKIE_NO_WSCALE) {
		if (!tl->cfg.window_scaling)
			return 0;
		r->wscale_ok = true;
		r->snd_wscale = (uint8_t)(opts & TCP_COOKIE_NO_WSCALE);
		r->rcv_wscale = tcp_wscale_for(tl, &l->opts);
	}
	return 1;
}

/* The final ACK of a cookie handshake: 1 when the cookie is good (r filled in), else 0.
 * Does not take seg->pb: the caller still owns it. */
int tcp_cookie_check(struct tcp_listener *l, const struct tcp_seg *seg, struct tcp_req *r)
{
	struct tcp_layer *tl = l->tl;
	uint32_t cookie = seg->ack - 1, irs = seg->seq - 1;
	uint32_t now = tcp_cookie_count(tl);
	for (uint32_t back = 0; back < 2; back++) {
		uint32_t count = now - back;
		if ((count & 3u) != cookie >> 30)
			continue;
		if (tcp_cookie_hash(tl, seg, irs, count) != (cookie & 0x0fffffffu))
			continue;
		memset(r, 0, sizeof(*r));
		r->hn.laddr = seg->dst;
		r->hn.lport = seg->h.dport;
		r->hn.raddr = seg->src;
		r->hn.rport = seg->h.sport;
		r->lis = l;
		r->irs = irs;
		r->iss = cookie;
		r->peer_mss = tcp_cookie_mss[(cookie >> 28) & 3u];
		r->retrans = 1; /* no RTT sample: we do not know when the SYN-ACK went */
		r->cookie = true;
		return tcp_cookie_opts(l, seg, r);
	}
	return 0;
}
