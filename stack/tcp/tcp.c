/*
 * tcp.c - the TCP layer: configuration, the hashed tables, the input demultiplexer and the
 * life cycle of a connection object (RFC 9293 3.10.7: "SEGMENT ARRIVES").
 *
 * Called by stack.c (tcp_init, tcp_input, tcp_counter_groups, tcp_foreach_sock). tcp_input
 * parses the segment once into struct tcp_seg, verifies the checksum with the pseudo-header
 * (RFC 9293 3.1), then finds its owner in O(1): the 4-tuple table (connection, SYN-queue
 * request or TIME-WAIT entry), else the listen table (specific address before wildcard),
 * else nobody (3.10.7.1, CLOSED: answer with a RST).
 *
 * Owns: the tables, the list of all connections, the ISN key, the port reservations.
 */
#include "tcp/tcp_int.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/checksum.h"
#include "ip/ip.h"
#include "link/link.h"

static const char *const tcp_counter_names[] = { TCP_COUNTERS(COUNTER_NAME) };

static const char *const tcp_state_names[TCPS_NSTATES] = {
	[TCPS_CLOSED] = "CLOSED",           [TCPS_LISTEN] = "LISTEN",
	[TCPS_SYN_SENT] = "SYN-SENT",       [TCPS_SYN_RECEIVED] = "SYN-RECEIVED",
	[TCPS_ESTABLISHED] = "ESTABLISHED", [TCPS_FIN_WAIT_1] = "FIN-WAIT-1",
	[TCPS_FIN_WAIT_2] = "FIN-WAIT-2",   [TCPS_CLOSE_WAIT] = "CLOSE-WAIT",
	[TCPS_CLOSING] = "CLOSING",         [TCPS_LAST_ACK] = "LAST-ACK",
	[TCPS_TIME_WAIT] = "TIME-WAIT",
};

/* The names `ss -tan` prints. */
static const char *const tcp_ss_names[TCPS_NSTATES] = {
	[TCPS_CLOSED] = "UNCONN",     [TCPS_LISTEN] = "LISTEN",     [TCPS_SYN_SENT] = "SYN-SENT",
	[TCPS_SYN_RECEIVED] = "SYN-RECV", [TCPS_ESTABLISHED] = "ESTAB", [TCPS_FIN_WAIT_1] = "FIN-WAIT-1",
	[TCPS_FIN_WAIT_2] = "FIN-WAIT-2", [TCPS_CLOSE_WAIT] = "CLOSE-WAIT", [TCPS_CLOSING] = "CLOSING",
	[TCPS_LAST_ACK] = "LAST-ACK", [TCPS_TIME_WAIT] = "TIME-WAIT",
};

const char *tcp_state_name(enum tcp_state s)
{
	return s < TCPS_NSTATES ? tcp_state_names[s] : "?";
}

void tcp_config_default(struct tcp_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->mtu = 1500;
	cfg->rmem_default = 131072;
	cfg->rmem_max = 6291456;
	cfg->wmem_default = 16384;
	cfg->wmem_max = 4194304;
	cfg->timestamps = true;
	cfg->sack = true;
	cfg->window_scaling = true;
	cfg->abort_on_overflow = false;
	cfg->syncookies = true;
	cfg->syn_retries = 6;
	cfg->synack_retries = 5;
	cfg->retries2 = 15;
	cfg->orphan_retries = 8;
	cfg->somaxconn = 4096;
	cfg->time_wait_ms = 60000;
	cfg->fin_timeout_ms = 60000;
	cfg->rto_min_ms = 200;
	cfg->rto_init_ms = 1000;
	cfg->rto_max_ms = 120000;
	cfg->delack_min_ms = 40;
	cfg->delack_max_ms = 200;
	cfg->init_cwnd_segs = 10;
	snprintf(cfg->congestion_control, sizeof(cfg->congestion_control), "%s", tcp_cubic_ops.name);
	cfg->slow_start_after_idle = true;
	cfg->min_rtt_win_s = 300;
	cfg->challenge_ack_limit = 1000;
	cfg->ooo_max_segs = 256;
	cfg->max_tw_buckets = 262144;
	cfg->keepalive_time_s = 7200;
	cfg->keepalive_intvl_s = 75;
	cfg->keepalive_probes = 9;
	cfg->port_lo = 32768;
	cfg->port_hi = 60999;
}

/* ---- hash tables ---- */

static uint32_t tcp_hash4(uint32_t laddr, uint16_t lport, uint32_t raddr, uint16_t rport)
{
	/* Multiplicative mixing is enough for bucket spreading; ISNs use the keyed hash. */
	uint64_t x = ((uint64_t)raddr << 32 | (uint64_t)rport << 16 | lport) ^ ((uint64_t)laddr * 0x9e3779b97f4a7c15ULL);
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	return (uint32_t)x;
}

static uint32_t tcp_hnode_hash(const struct tcp_hnode *n)
{
	if (n->kind == TCP_HK_LISTEN)
		return tcp_hash4(0, n->lport, 0, 0);
	return tcp_hash4(n->laddr, n->lport, n->raddr, n->rport);
}

static int tcp_hash_init(struct tcp_hash *h, uint32_t buckets)
{
	h->b = calloc(buckets, sizeof(*h->b));
	if (!h->b)
		return -ENOMEM;
	h->mask = buckets - 1;
	h->count = 0;
	return 0;
}

/* Doubles the table when it averages more than one entry per bucket: lookups stay O(1). */
static void tcp_hash_grow(struct tcp_hash *h)
{
	uint32_t nb = (h->mask + 1) * 2;
	struct tcp_hnode **b = calloc(nb, sizeof(*b));
	if (!b)
		return; /* keep the old table: longer chains, still correct */
	for (uint32_t i = 0; i <= h->mask; i++) {
		struct tcp_hnode *n = h->b[i];
		while (n) {
			struct tcp_hnode *next = n->next;
			uint32_t k = tcp_hnode_hash(n) & (nb - 1);
			n->next = b[k];
			b[k] = n;
			n = next;
		}
	}
	free(h->b);
	h->b = b;
	h->mask = nb - 1;
}

void tcp_hash_insert(struct tcp_hash *h, struct tcp_hnode *n)
{
	if (h->count > h->mask + 1)
		tcp_hash_grow(h);
	uint32_t k = tcp_hnode_hash(n) & h->mask;
	n->next = h->b[k];
	h->b[k] = n;
	n->hashed = true;
	h->count++;
}

void tcp_hash_remove(struct tcp_hash *h, struct tcp_hnode *n)
{
	if (!n->hashed)
		return;
	struct tcp_hnode **pp = &h->b[tcp_hnode_hash(n) & h->mask];
	while (*pp && *pp != n)
		pp = &(*pp)->next;
	if (*pp) {
		*pp = n->next;
		h->count--;
	}
	n->hashed = false;
	n->next = NULL;
}

struct tcp_hnode *tcp_hash_lookup4(struct tcp_hash *h, uint32_t laddr, uint16_t lport, uint32_t raddr,
                                   uint16_t rport)
{
	struct tcp_hnode *n = h->b[tcp_hash4(laddr, lport, raddr, rport) & h->mask];
	for (; n; n = n->next)
		if (n->lport == lport && n->rport == rport && n->raddr == raddr && n->laddr == laddr)
			return n;
	return NULL;
}

/* A listener bound to the exact address beats one bound to INADDR_ANY. */
struct tcp_listener *tcp_listener_lookup(struct tcp_layer *tl, uint32_t laddr, uint16_t lport)
{
	struct tcp_hnode *n = tl->listeners.b[tcp_hash4(0, lport, 0, 0) & tl->listeners.mask];
	struct tcp_listener *wild = NULL;
	for (; n; n = n->next) {
		if (n->lport != lport)
			continue;
		if (n->laddr == laddr)
			return container_of(n, struct tcp_listener, hn);
		if (n->laddr == 0)
			wild = container_of(n, struct tcp_listener, hn);
	}
	return wild;
}

bool tcp_listener_port_conflict(struct tcp_layer *tl, uint32_t laddr, uint16_t lport)
{
	for (struct tcp_hnode *n = tl->listeners.b[tcp_hash4(0, lport, 0, 0) & tl->listeners.mask]; n; n = n->next)
		if (n->lport == lport && (n->laddr == laddr || n->laddr == 0 || laddr == 0))
			return true;
	return false;
}

/* ---- layer ---- */

int tcp_init(struct tcp_layer *tl, struct core *core, struct ip_layer *ip, const struct tcp_config *cfg)
{
	memset(tl, 0, sizeof(*tl));
	tl->core = core;
	tl->ip = ip;
	tl->cfg = *cfg;
	if (tl->cfg.port_lo == 0 || tl->cfg.port_hi < tl->cfg.port_lo || tl->cfg.mtu < 68)
		return -EINVAL;
	if (!tcp_cc_find(tl->cfg.congestion_control))
		return -ENOENT;
	for (int i = 0; i < 16; i += 8) {
		uint64_t r = rng_next(&core->rng);
		memcpy(tl->isn_key + i, &r, 8);
		r = rng_next(&core->rng);
		memcpy(tl->cookie_key + i, &r, 8);
	}
	tl->port_refs = calloc(65536, sizeof(*tl->port_refs));
	if (!tl->port_refs || tcp_hash_init(&tl->conns, TCP_HASH_MIN_BUCKETS) ||
	    tcp_hash_init(&tl->listeners, 256)) {
		free(tl->port_refs);
		free(tl->conns.b);
		free(tl->listeners.b);
		return -ENOMEM;
	}
	return 0;
}

void tcp_destroy(struct tcp_layer *tl)
{
	/* Everything left in the tables is ours: free without sending. */
	for (uint32_t i = 0; tl->conns.b && i <= tl->conns.mask; i++) {
		struct tcp_hnode *n = tl->conns.b[i];
		while (n) {
			struct tcp_hnode *next = n->next;
			n->hashed = false;
			if (n->kind == TCP_HK_REQ) {
				struct tcp_req *r = container_of(n, struct tcp_req, hn);
				timer_unreserve(&tl->core->timers, &r->timer);
				free(r);
			} else if (n->kind == TCP_HK_TW) {
				struct tcp_tw *tw = container_of(n, struct tcp_tw, hn);
				timer_unreserve(&tl->core->timers, &tw->timer);
				free(tw);
			}
			n = next;
		}
		tl->conns.b[i] = NULL;
	}
	while (tl->all)
		tcp_conn_free(tl->all);
	tcp_req_pool_destroy(tl);
	for (uint32_t i = 0; tl->listeners.b && i <= tl->listeners.mask; i++) {
		struct tcp_hnode *n = tl->listeners.b[i];
		while (n) {
			struct tcp_hnode *next = n->next;
			free(container_of(n, struct tcp_listener, hn));
			n = next;
		}
	}
	free(tl->conns.b);
	free(tl->listeners.b);
	free(tl->port_refs);
	memset(&tl->conns, 0, sizeof(tl->conns));
	memset(&tl->listeners, 0, sizeof(tl->listeners));
	tl->port_refs = NULL;
}

size_t tcp_counter_groups(const struct tcp_layer *tl, struct counter_group *out, size_t max)
{
	if (max < 1)
		return 0;
	out[0] = COUNTER_GROUP("tcp", tcp_counter_names, &tl->ctr);
	return 1;
}

uint32_t tcp_local_addr(const struct tcp_layer *tl)
{
	return tl->ip ? ip_local_addr(tl->ip) : 0;
}

/* RFC 9293 3.7.1 / RFC 879: MSS = MTU - 20 (IP) - 20 (TCP). */
uint16_t tcp_adv_mss(const struct tcp_layer *tl)
{
	uint32_t mtu = tl->cfg.mtu;
	if (tl->ip && tl->ip->link && tl->ip->link->cfg.mtu && tl->ip->link->cfg.mtu < mtu)
		mtu = tl->ip->link->cfg.mtu;
	return (uint16_t)(mtu > 65535 ? 65535 - 40 : mtu - 40);
}

/* TSval clock (RFC 7323 5.4): milliseconds from core->now plus a per-connection offset. */
uint32_t tcp_now_ts(const struct tcp_layer *tl, uint32_t offset)
{
	return (uint32_t)(tl->core->now / USEC_PER_MS) + offset;
}

/*
 * The window scale we offer (RFC 7323 2.2): the smallest shift that lets the largest
 * buffer the connection may grow to fit the 16-bit field, as Linux's
 * tcp_select_initial_window computes it from tcp_rmem[2] (or SO_RCVBUF when locked).
 */
uint8_t tcp_wscale_for(const struct tcp_layer *tl, const struct tcp_sockopts *o)
{
	uint32_t space = o->rcvbuf_locked ? o->rcvbuf : tl->cfg.rmem_max;
	if (space < o->rcvbuf)
		space = o->rcvbuf;
	uint8_t ws = 0;
	while (space > 65535 && ws < TCP_WSCALE_MAX) {
		space >>= 1;
		ws++;
	}
	return ws;
}

void tcp_set_state(struct tcp_conn *c, enum tcp_state s)
{
	struct tcp_layer *tl = c->tl;
	if (c->state == s)
		return;
	LOG_TRACE(&tl->core->log, "tcp %u.%u.%u.%u:%u > %u.%u.%u.%u:%u state %s -> %s", c->hn.laddr >> 24,
	          (c->hn.laddr >> 16) & 255, (c->hn.laddr >> 8) & 255, c->hn.laddr & 255, c->hn.lport,
	          c->hn.raddr >> 24, (c->hn.raddr >> 16) & 255, (c->hn.raddr >> 8) & 255, c->hn.raddr & 255,
	          c->hn.rport, tcp_state_name(c->state), tcp_state_name(s));
	/* CurrEstab (RFC 4022): connections in ESTABLISHED or CLOSE-WAIT. */
	bool was = c->state == TCPS_ESTABLISHED || c->state == TCPS_CLOSE_WAIT;
	bool is = s == TCPS_ESTABLISHED || s == TCPS_CLOSE_WAIT;
	if (was && !is)
		tl->ctr.CurrEstab--;
	if (!was && is)
		tl->ctr.CurrEstab++;
	if (s == TCPS_ESTABLISHED)
		c->flags |= TCP_F_WAS_ESTAB;
	c->state = s;
}

void tcp_sockopts_default(const struct tcp_layer *tl, struct tcp_sockopts *o)
{
	memset(o, 0, sizeof(*o));
	o->rcvbuf = tl->cfg.rmem_default;
	o->sndbuf = tl->cfg.wmem_default;
}

/*
 * One allocation per connection (an active open, or the final ACK of a handshake), never per
 * segment: a SYN flood fills the SYN queue's recycled entries (tcp_listen.c), not this. The
 * three timers reserve their heap slots here, where refusing is simple (NULL: the caller
 * counts and drops), so that arming them later cannot fail mid-segment and leave a
 * connection that never retransmits or never ends.
 */
struct tcp_conn *tcp_conn_alloc(struct tcp_layer *tl, const struct tcp_sockopts *o)
{
	struct tcp_conn *c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->tl = tl;
	tcp_conn_timers_init(c);
	if (tcp_conn_timers_reserve(c)) {
		tl->ctr.NoTimerSlot++;
		free(c);
		return NULL;
	}
	c->hn.kind = TCP_HK_CONN;
	c->state = TCPS_CLOSED;
	c->opts = *o;
	c->tos = o->tos;
	c->mss = TCP_MSS_DEFAULT;
	c->peer_mss = TCP_MSS_DEFAULT;
	c->adv_mss = tcp_adv_mss(tl);
	if (o->user_mss && o->user_mss < c->adv_mss)
		c->adv_mss = o->user_mss;
	tcp_rtt_init(&c->rtt, &tl->cfg);
	tcp_cc_init(c);
	c->quickack = TCP_MAX_QUICKACKS;
	c->all_next = tl->all;
	if (tl->all)
		tl->all->all_prev = c;
	tl->all = c;
	tl->nconns++;
	return c;
}

void tcp_conn_free(struct tcp_conn *c)
{
	struct tcp_layer *tl = c->tl;
	tcp_conn_timers_release(c);
	tcp_hash_remove(&tl->conns, &c->hn);
	if (c->state == TCPS_ESTABLISHED || c->state == TCPS_CLOSE_WAIT)
		tl->ctr.CurrEstab--;
	tcp_ring_free(&c->sndq);
	tcp_ring_free(&c->rcvq);
	pbuf_queue_purge(&c->ooo);
	c->ooo_truesize = 0;
	if (c->all_prev)
		c->all_prev->all_next = c->all_next;
	else
		tl->all = c->all_next;
	if (c->all_next)
		c->all_next->all_prev = c->all_prev;
	tl->nconns--;
	free(c);
}

/* RFC 9293 3.10.7: "enter the CLOSED state and delete the TCB". The object itself lives on
 * while a socket (or an accept queue) still points at it. */
void tcp_conn_done(struct tcp_conn *c)
{
	tcp_set_state(c, TCPS_CLOSED);
	tcp_conn_timers_cancel(c);
	tcp_hash_remove(&c->tl->conns, &c->hn);
	pbuf_queue_purge(&c->ooo);
	c->ooo_truesize = 0;
	c->flags |= TCP_F_RCV_SHUT | TCP_F_SND_SHUT;
	tcp_ring_free(&c->sndq);
	if (c->flags & TCP_F_ORPHAN)
		tcp_conn_free(c);
}

void tcp_conn_abort(struct tcp_conn *c, int err)
{
	struct tcp_layer *tl = c->tl;
	if (c->state == TCPS_ESTABLISHED || c->state == TCPS_CLOSE_WAIT)
		tl->ctr.EstabResets++;
	if (c->state == TCPS_SYN_SENT || c->state == TCPS_SYN_RECEIVED)
		tl->ctr.AttemptFails++;
	c->err = err;
	c->flags |= TCP_F_RESET;
	if (c->lis) {
		/* Still in an accept queue: Linux leaves it there for accept() to hand out
		 * (the application then sees the reset); we do the same. */
		tcp_set_state(c, TCPS_CLOSED);
		tcp_conn_timers_cancel(c);
		tcp_hash_remove(&tl->conns, &c->hn);
		return;
	}
	tcp_conn_done(c);
}

/*
 * A TIME-WAIT entry: one small allocation per connection that closes into TIME-WAIT (not
 * per segment), at most cfg.max_tw_buckets of them. Its timer holds a heap reservation
 * taken here, so re-arming it (a retransmitted FIN, tcp_input.c) cannot fail and every
 * entry is freed when its 2 MSL end.
 */
static struct tcp_tw *tcp_tw_alloc(struct tcp_layer *tl)
{
	if (tl->ntw >= tl->cfg.max_tw_buckets)
		return NULL;
	struct tcp_tw *tw = calloc(1, sizeof(*tw));
	if (!tw)
		return NULL;
	timer_init(&tw->timer, tcp_tw_timer_fire);
	if (timer_reserve(&tl->core->timers, &tw->timer)) {
		free(tw);
		return NULL;
	}
	tw->tl = tl;
	tl->ntw++;
	return tw;
}

void tcp_tw_free(struct tcp_tw *tw)
{
	struct tcp_layer *tl = tw->tl;
	timer_unreserve(&tl->core->timers, &tw->timer);
	tcp_hash_remove(&tl->conns, &tw->hn);
	tl->ntw--;
	free(tw);
}

/* RFC 9293 3.10.7.4 (TIME-WAIT): the TCB shrinks to a struct tcp_tw held for 2*MSL. */
void tcp_enter_time_wait(struct tcp_conn *c)
{
	struct tcp_layer *tl = c->tl;

	tcp_set_state(c, TCPS_TIME_WAIT);
	/* Linux's tcp_time_wait: without an entry (over tcp_max_tw_buckets, or no memory) the
	 * connection just closes, counted as TCPTimeWaitOverflow in both cases. */
	struct tcp_tw *tw = tcp_tw_alloc(tl);
	if (!tw) {
		tl->ctr.TimeWaitOverflow++;
	} else {
		tl->ctr.TimeWaitCreated++;
		tw->hn = c->hn;
		tw->hn.kind = TCP_HK_TW;
		tw->hn.hashed = false;
		tw->snd_nxt = c->snd.nxt;
		tw->rcv_nxt = c->rcv.nxt;
		tw->ts_recent = c->ts_recent;
		tw->ts_offset = c->ts_offset;
		tw->ts_ok = c->ts_ok;
		tw->rcv_wnd = (uint16_t)(c->rcv.wnd >> c->rcv_wscale > 65535 ? 65535 : c->rcv.wnd >> c->rcv_wscale);
	}
	/* The connection object goes (the socket sees CLOSED); the small entry takes its place. */
	tcp_hash_remove(&tl->conns, &c->hn);
	if (tw) {
		tcp_hash_insert(&tl->conns, &tw->hn);
		tcp_timer_arm(tl, &tw->timer, tl->core->now + (usec_t)tl->cfg.time_wait_ms * USEC_PER_MS);
	}
	c->state = TCPS_CLOSED; /* no log line: TIME-WAIT lives on in tw */
	tcp_conn_timers_cancel(c);
	pbuf_queue_purge(&c->ooo);
	c->ooo_truesize = 0;
	tcp_ring_free(&c->sndq);
	c->flags |= TCP_F_SND_SHUT | TCP_F_RCV_SHUT;
	if (c->flags & TCP_F_ORPHAN)
		tcp_conn_free(c);
}

/* ---- input demultiplexer ---- */

/* Fills seg from pb; NULL, or the counter to bump on a malformed segment. Does not take pb:
 * the caller still owns it (seg->pb points at it on success). */
static uint64_t *tcp_seg_parse(struct tcp_layer *tl, struct pbuf *pb, const struct ipv4_rx *rx, struct tcp_seg *seg)
{
	int rc = tcp_hdr_parse(pb->data, pb->len, &seg->h);
	if (rc == TCP_PARSE_TRUNCATED)
		return &tl->ctr.drop_truncated;
	if (rc == TCP_PARSE_BAD_DOFF)
		return &tl->ctr.drop_bad_doff;
	/* RFC 9293 3.1: verify over the pseudo-header, header and data. */
	if (!(pb->flags & PBUF_F_CSUM_OK)) {
		uint32_t sum = csum_pseudo_ipv4(rx->src, rx->dst, IPPROTO_TCP, (uint16_t)pb->len);
		if (csum_finish(csum_add(sum, pb->data, pb->len)) != 0) {
			tl->ctr.InErrs++;
			return &tl->ctr.InCsumErrors;
		}
	}
	if (rc == TCP_PARSE_BAD_OPTION)
		return &tl->ctr.drop_bad_option;
	seg->src = rx->src;
	seg->dst = rx->dst;
	seg->tos = rx->tos;
	seg->seq = seg->h.seq;
	seg->ack = seg->h.ack;
	seg->flags = seg->h.flags;
	seg->dlen = pb->len - seg->h.doff;
	seg->data = pb->data + seg->h.doff;
	seg->len = seg->dlen + !!(seg->flags & TCP_FLAG_SYN) + !!(seg->flags & TCP_FLAG_FIN);
	seg->wnd = seg->h.win;
	seg->pb = pb;
	return NULL;
}

/* One received segment (tcp.h). Takes ownership of pb: it is freed here on a drop, or handed
 * on as seg.pb to the owner's input function, which frees it or keeps it out of order. */
void tcp_input(struct tcp_layer *tl, struct pbuf *pb, const struct ipv4_rx *rx)
{
	struct tcp_seg seg;
	uint64_t *drop;

	tl->ctr.InSegs++;
	drop = tcp_seg_parse(tl, pb, rx, &seg);
	if (drop)
		goto drop;
	if (tl->core->log.debug) {
		/* --trace already prints every frame (stack.c); this is the TCP layer's view. */
		char line[320];
		tcp_hdr_format(line, sizeof(line), &seg.h, seg.dlen);
		LOG_DEBUG(&tl->core->log, "tcp in %u > %u: %s", seg.h.sport, seg.h.dport, line);
	}
	/* RFC 1122 4.2.3.10: a SYN to a broadcast address is ignored; nothing answers broadcast. */
	if (rx->broadcast) {
		drop = &tl->ctr.drop_broadcast;
		goto drop;
	}
	/* Strip the header: from here pb->data is the payload. */
	pbuf_pull(pb, seg.h.doff);

	struct tcp_hnode *n = tcp_hash_lookup4(&tl->conns, seg.dst, seg.h.dport, seg.src, seg.h.sport);
	if (n) {
		switch (n->kind) {
		case TCP_HK_CONN:
			tcp_conn_input(container_of(n, struct tcp_conn, hn), &seg);
			return;
		case TCP_HK_REQ:
			tcp_req_input(container_of(n, struct tcp_req, hn), &seg);
			return;
		case TCP_HK_TW:
			tcp_tw_input(container_of(n, struct tcp_tw, hn), &seg);
			return;
		default:
			break;
		}
	}
	struct tcp_listener *l = tcp_listener_lookup(tl, seg.dst, seg.h.dport);
	if (l) {
		tcp_listen_input(l, &seg);
		return;
	}
	/* RFC 9293 3.10.7.1, CLOSED: a RST gets nothing, anything else gets a RST. */
	if (seg.flags & TCP_FLAG_RST) {
		drop = &tl->ctr.drop_rst_no_socket;
		goto drop;
	}
	tcp_send_rst_for(tl, &seg);
	drop = &tl->ctr.drop_no_socket;
drop:
	(*drop)++;
	if (drop == &tl->ctr.drop_bad_option || drop == &tl->ctr.drop_truncated || drop == &tl->ctr.drop_bad_doff)
		tl->ctr.InErrs++;
	LOG_DEBUG(&tl->core->log, "tcp drop: %s", tcp_counter_names[drop - (uint64_t *)(void *)&tl->ctr]);
	pbuf_free(pb);
}

/* ---- ss ---- */

void tcp_foreach_sock(struct tcp_layer *tl, void (*fn)(const struct tcp_sock_info *, void *), void *arg)
{
	struct tcp_sock_info si;
	for (uint32_t i = 0; i <= tl->listeners.mask; i++)
		for (struct tcp_hnode *n = tl->listeners.b[i]; n; n = n->next) {
			struct tcp_listener *l = container_of(n, struct tcp_listener, hn);
			si = (struct tcp_sock_info){ "LISTEN", n->laddr, 0, n->lport, 0, l->acceptq_len, l->backlog };
			fn(&si, arg);
		}
	for (uint32_t i = 0; i <= tl->conns.mask; i++)
		for (struct tcp_hnode *n = tl->conns.b[i]; n; n = n->next) {
			si = (struct tcp_sock_info){ NULL, n->laddr, n->raddr, n->lport, n->rport, 0, 0 };
			if (n->kind == TCP_HK_REQ) {
				si.state = "SYN-RECV";
			} else if (n->kind == TCP_HK_TW) {
				si.state = "TIME-WAIT";
			} else {
				struct tcp_conn *c = container_of(n, struct tcp_conn, hn);
				si.state = tcp_ss_names[c->state];
				si.recv_q = c->rcvq.len;
				si.send_q = c->sndq.len; /* not yet acknowledged, sent or not (as ss) */
			}
			fn(&si, arg);
		}
}

/* ---- port reservations (bind) ---- */

static bool tcp_port_in_use(struct tcp_layer *tl, uint16_t port)
{
	return tl->port_refs[port] != 0 || tcp_listener_port_conflict(tl, 0, port);
}

int tcp_port_bind(struct tcp_layer *tl, uint32_t laddr, uint16_t *port, bool reuseaddr)
{
	(void)laddr;
	if (*port == 0) {
		uint32_t range = (uint32_t)tl->cfg.port_hi - tl->cfg.port_lo + 1;
		uint32_t start = rng_u32(&tl->core->rng) % range;
		for (uint32_t i = 0; i < range; i++) {
			uint16_t p = (uint16_t)(tl->cfg.port_lo + (start + i) % range);
			if (!tcp_port_in_use(tl, p)) {
				*port = p;
				tl->port_refs[p]++;
				return 0;
			}
		}
		return -EADDRINUSE;
	}
	/* Linux: SO_REUSEADDR lets a second socket bind a port nobody listens on (e.g. one
	 * whose old connections are in TIME-WAIT); without it any holder makes it busy. */
	if (tcp_listener_port_conflict(tl, 0, *port) || (tl->port_refs[*port] && !reuseaddr))
		return -EADDRINUSE;
	tl->port_refs[*port]++;
	return 0;
}

void tcp_port_unbind(struct tcp_layer *tl, uint16_t port)
{
	if (tl->port_refs[port])
		tl->port_refs[port]--;
}

/* ---- small accessors for the socket layer ---- */

int tcp_conn_take_error(struct tcp_conn *c)
{
	int e = c->err;
	c->err = 0;
	return e;
}

void tcp_conn_addrs(const struct tcp_conn *c, uint32_t *laddr, uint16_t *lport, uint32_t *raddr, uint16_t *rport)
{
	*laddr = c->hn.laddr;
	*lport = c->hn.lport;
	*raddr = c->hn.raddr;
	*rport = c->hn.rport;
}

struct tcp_sockopts *tcp_conn_opts(struct tcp_conn *c)
{
	return &c->opts;
}

uint32_t tcp_conn_mss(const struct tcp_conn *c)
{
	if (c->state == TCPS_CLOSED || c->state == TCPS_SYN_SENT)
		return c->opts.user_mss ? c->opts.user_mss : TCP_MSS_DEFAULT;
	return c->mss;
}

bool tcp_conn_is_connected(const struct tcp_conn *c)
{
	return c->state >= TCPS_ESTABLISHED || (c->state == TCPS_CLOSED && (c->flags & TCP_F_FIN_RCVD));
}

bool tcp_conn_failed_open(const struct tcp_conn *c)
{
	return c->state == TCPS_CLOSED && !(c->flags & TCP_F_WAS_ESTAB);
}

bool tcp_conn_connecting(const struct tcp_conn *c)
{
	return c->state == TCPS_SYN_SENT || c->state == TCPS_SYN_RECEIVED;
}

const char *tcp_conn_state_name(const struct tcp_conn *c)
{
	return tcp_state_name(c->state);
}

/*
 * poll(2) readiness as Linux's tcp_poll computes it: POLLHUP once both directions are shut
 * (or the connection is gone), POLLIN|POLLRDHUP when the peer's FIN was read or we shut
 * reading, POLLOUT when at least a third of the send buffer is free, POLLERR on an error.
 */
short tcp_conn_revents(const struct tcp_conn *c)
{
	short ev = 0;
	bool rd_shut = (c->flags & (TCP_F_FIN_RCVD | TCP_F_RCV_SHUT | TCP_F_RESET)) != 0;
	bool wr_shut = (c->flags & (TCP_F_SND_SHUT | TCP_F_RESET)) != 0;

	if (c->state == TCPS_SYN_SENT || c->state == TCPS_SYN_RECEIVED)
		return c->err ? POLLERR : 0;
	if ((rd_shut && wr_shut) || (c->state == TCPS_CLOSED && !(c->flags & TCP_F_FIN_RCVD)))
		ev |= POLLHUP;
	if (rd_shut)
		ev |= POLLIN | POLLRDHUP;
	if (c->rcvq.len)
		ev |= POLLIN;
	if (c->state == TCPS_CLOSED && (c->flags & TCP_F_FIN_RCVD))
		ev |= POLLHUP;
	if (!wr_shut && c->state != TCPS_CLOSED) {
		uint32_t cap = tcp_sndbuf_cap(c);
		if (c->sndq.len <= cap - cap / 3)
			ev |= POLLOUT;
	}
	if (c->err)
		ev |= POLLERR;
	return ev;
}

/* Linux's numbering of states in tcp_info (include/net/tcp_states.h). */
static const uint8_t tcp_linux_state[TCPS_NSTATES] = {
	[TCPS_CLOSED] = 7, [TCPS_LISTEN] = 10, [TCPS_SYN_SENT] = 2, [TCPS_SYN_RECEIVED] = 3,
	[TCPS_ESTABLISHED] = 1, [TCPS_FIN_WAIT_1] = 4, [TCPS_FIN_WAIT_2] = 5, [TCPS_CLOSE_WAIT] = 8,
	[TCPS_CLOSING] = 11, [TCPS_LAST_ACK] = 9, [TCPS_TIME_WAIT] = 6,
};

void tcp_conn_info(const struct tcp_conn *c, struct tcp_info *ti)
{
	usec_t now = c->tl->core->now;
	uint32_t mss = c->mss ? c->mss : 1;
	memset(ti, 0, sizeof(*ti));
	ti->tcpi_state = tcp_linux_state[c->state];
	/* Linux ca_state: 0 Open, 1 Disorder, 3 Recovery, 4 Loss. */
	ti->tcpi_ca_state = (c->flags & TCP_F_IN_RECOVERY) ? 3 : c->backoff && !(c->flags & TCP_F_PERSIST) ? 4 : c->dupacks ? 1 : 0;
	ti->tcpi_retransmits = c->retries;
	ti->tcpi_probes = c->probes_out ? c->probes_out : (c->flags & TCP_F_PERSIST) ? c->backoff : c->ka_probes;
	ti->tcpi_backoff = c->backoff;
	ti->tcpi_options = (uint8_t)((c->ts_ok ? TCPI_OPT_TIMESTAMPS : 0) | (c->sack_ok ? TCPI_OPT_SACK : 0) |
	                             (c->wscale_ok ? TCPI_OPT_WSCALE : 0));
	ti->tcpi_snd_wscale = c->snd_wscale & 15;
	ti->tcpi_rcv_wscale = c->rcv_wscale & 15;
	ti->tcpi_rto = c->rtt.rto_us;
	ti->tcpi_ato = c->ato_us;
	ti->tcpi_snd_mss = c->mss;
	ti->tcpi_rcv_mss = c->rcv_mss;
	ti->tcpi_unacked = (c->snd.max - c->snd.una + mss - 1) / mss;
	ti->tcpi_last_data_recv = (uint32_t)((now - c->last_rcv) / USEC_PER_MS);
	ti->tcpi_pmtu = c->pmtu ? c->pmtu : tcp_adv_mss(c->tl) + 40u; /* the path MTU once known (tcp_icmp.c) */
	ti->tcpi_rtt = c->rtt.srtt_us;
	ti->tcpi_rttvar = c->rtt.rttvar_us;
	ti->tcpi_snd_ssthresh = c->snd_ssthresh;
	ti->tcpi_snd_cwnd = c->snd_cwnd;
	ti->tcpi_advmss = c->adv_mss;
	ti->tcpi_reordering = 3;
	ti->tcpi_rcv_space = c->rcv.wnd;
	ti->tcpi_total_retrans = c->retries;
}

void tcp_listener_info(const struct tcp_listener *l, struct tcp_info *ti)
{
	memset(ti, 0, sizeof(*ti));
	ti->tcpi_state = 10;
	ti->tcpi_unacked = l->acceptq_len;  /* Linux reports the accept queue here for listeners */
	ti->tcpi_sacked = l->backlog;
}
