/*
 * tcp.c - the TCP layer: configuration, the input demultiplexer and the life cycle of a
 * connection object (RFC 9293 3.10.7: "SEGMENT ARRIVES"). The tables are in tcp_hash.c.
 *
 * Called by stack.c (tcp_init, tcp_input, tcp_counter_groups). tcp_input
 * parses the segment once into struct tcp_seg, verifies the checksum with the pseudo-header
 * (RFC 9293 3.1), then finds its owner in O(1): the 4-tuple table (connection, SYN-queue
 * request or TIME-WAIT entry), else the listen table (specific address before wildcard),
 * else nobody (3.10.7.1, CLOSED: answer with a RST).
 *
 * Owns: the list of all connections and the ISN key.
 */
#include "tcp/tcp_int.h"

#include <errno.h>
#include <netinet/in.h>

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
	cfg->notsent_lowat = UINT32_MAX;
	cfg->timestamps = true;
	cfg->sack = true;
	cfg->dsack = true;
	cfg->recovery = TCP_RECOVERY_RACK;
	cfg->tlp = true;
	cfg->frto = 2;
	cfg->window_scaling = true;
	cfg->abort_on_overflow = false;
	cfg->syncookies = 1;
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
	cfg->comp_sack_delay_us = 1000;
	cfg->comp_sack_nr = 44;
	cfg->hz = 250;
	cfg->init_cwnd_segs = 10;
	cfg->min_tso_segs = 2;
	snprintf(cfg->congestion_control, sizeof(cfg->congestion_control), "%s", tcp_cubic_ops.name);
	cfg->slow_start_after_idle = true;
	cfg->min_rtt_win_s = 300;
	cfg->hystart_detect = 3;
	cfg->challenge_ack_limit = 1000;
	cfg->mem_low = TCP_MEM_LOW_DEFAULT;
	cfg->mem_pressure = TCP_MEM_PRESSURE_DEFAULT;
	cfg->mem_high = TCP_MEM_HIGH_DEFAULT;
	cfg->max_conns = TCP_MAX_CONNS_DEFAULT;
	cfg->max_tw_buckets = 262144;
	cfg->keepalive_time_s = 7200;
	cfg->keepalive_intvl_s = 75;
	cfg->keepalive_probes = 9;
	cfg->port_lo = IP_LOCAL_PORT_LO;
	cfg->port_hi = IP_LOCAL_PORT_HI;
}

/* ---- layer ---- */

int tcp_init(struct tcp_layer *tl, struct core *core, struct ip_layer *ip, const struct tcp_config *cfg)
{
	memset(tl, 0, sizeof(*tl));
	tl->core = core;
	tl->ip = ip;
	tl->cfg = *cfg;
	if (tl->cfg.port_lo == 0 || tl->cfg.port_hi < tl->cfg.port_lo || tl->cfg.mtu < 68 || tl->cfg.hz < 100 || tl->cfg.hz > 1000 ||
	    tl->cfg.mem_low > tl->cfg.mem_pressure || tl->cfg.mem_pressure > tl->cfg.mem_high ||
	    tl->cfg.max_conns == 0 || tl->cfg.syncookies > 2)
		return -EINVAL;
	if (!tcp_cc_find(tl->cfg.congestion_control))
		return -ENOENT;
	for (int i = 0; i < 16; i += 8) {
		uint64_t r = rng_next(&core->rng);
		memcpy(tl->isn_key + i, &r, 8);
		r = rng_next(&core->rng);
		memcpy(tl->cookie_key + i, &r, 8);
	}
	spares_init(&tl->ring_spares, TCP_RING_MIN, TCP_SPARES);
	spares_init(&tl->sb_spares, TCP_SB_MIN_SEGS * sizeof(struct tcp_txseg), TCP_SPARES);
	spares_init(&tl->skbq_spares, TCP_SKBQ_MIN * sizeof(uint32_t), TCP_SPARES);
	spares_init(&tl->marks_spares, sizeof(struct tcp_marks), TCP_SPARES);
	spares_init(&tl->rtt_spares, TCP_RTT_SENT_MAX * sizeof(struct tcp_rtt_sent), TCP_SPARES);
	tl->ports = calloc(65536, sizeof(*tl->ports));
	timer_init(&tl->tw_timer, tcp_tw_timer_fire);
	if (!tl->ports || tcp_hash_init(&tl->conns, TCP_HASH_MIN_BUCKETS) ||
	    tcp_hash_init(&tl->listeners, 256) || timer_reserve(&core->timers, &tl->tw_timer)) {
		free(tl->ports);
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
				free(container_of(n, struct tcp_tw, hn));
			}
			n = next;
		}
		tl->conns.b[i] = NULL;
	}
	tl->tw_head = tl->tw_tail = NULL;
	tl->ntw = 0;
	timer_unreserve(&tl->core->timers, &tl->tw_timer);
	while (tl->all)
		tcp_conn_free(tl->all);
	tcp_req_pool_destroy(tl);
	spares_drain(&tl->ring_spares);
	spares_drain(&tl->sb_spares);
	spares_drain(&tl->skbq_spares);
	spares_drain(&tl->marks_spares);
	spares_drain(&tl->rtt_spares);
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
	free(tl->ports);
	memset(&tl->conns, 0, sizeof(tl->conns));
	memset(&tl->listeners, 0, sizeof(tl->listeners));
	tl->ports = NULL;
}

size_t tcp_counter_groups(const struct tcp_layer *tl, struct counter_group *out, size_t max)
{
	if (max < 1)
		return 0;
	out[0] = COUNTER_GROUP("tcp", tcp_counter_names, &tl->ctr);
	return 1;
}

uint32_t tcp_local_addr(const struct tcp_layer *tl, uint32_t dst)
{
	return tl->ip ? ip_src_for(tl->ip, dst) : 0;
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
	uint32_t full = tcp_win_from_space(TCP_DEFAULT_SCALING_RATIO, o->rcvbuf);
	uint32_t space = o->rcvbuf_locked ? full : tl->cfg.rmem_max;
	if (space < full)
		space = full;
	if (o->window_clamp && space > o->window_clamp)
		space = o->window_clamp; /* Linux tcp_select_initial_window: min(space, window_clamp) */
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
	/* Linux starts icsk_ack.lrcvtime when the connection is made (tcp_finish_connect,
	 * tcp_create_openreq_child): tcpi_last_data_recv counts from there until data comes. */
	if (s == TCPS_ESTABLISHED && c->state < TCPS_ESTABLISHED)
		c->lrcvtime = tl->core->now;
	if (s == TCPS_ESTABLISHED && !(c->flags & TCP_F_WAS_ESTAB)) {
		tcp_rwnd_established(c, c->rcv.wnd); /* rcv.wnd: what the SYN or SYN-ACK offered */
		tcp_sndbuf_expand(c);                  /* Linux tcp_init_buffer_space */
		tcp_rcvbuf_established(c);
		c->flags |= TCP_F_WAS_ESTAB;
	}
	c->state = s;
	tcp_wake(tl, c->owner);
}

void tcp_set_waker(struct tcp_layer *tl, void (*wake)(void *arg, uint32_t owner), void *arg)
{
	tl->wake = wake;
	tl->wake_arg = arg;
}

void tcp_conn_set_owner(struct tcp_conn *c, uint32_t owner)
{
	c->owner = owner;
}

void tcp_listener_set_owner(struct tcp_listener *l, uint32_t owner)
{
	l->owner = owner;
}

void tcp_sockopts_default(const struct tcp_layer *tl, struct tcp_sockopts *o)
{
	memset(o, 0, sizeof(*o));
	o->rcvbuf = tl->cfg.rmem_default;
	o->sndbuf = tl->cfg.wmem_default;
	o->pmtudisc = IP_PMTUDISC_WANT; /* Linux's ip_no_pmtu_disc = 0 */
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
	if (tl->nconns >= tl->cfg.max_conns) {
		tl->ctr.ConnLimitRefused++;
		return NULL;
	}
	struct tcp_conn *c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->tl = tl;
	c->sndq.tl = tl; /* its storage is charged to the layer (tcp_mem.c), as the receive queue's */
	tcp_conn_timers_init(c);
	if (tcp_conn_timers_reserve(c)) {
		tl->ctr.NoTimerSlot++;
		free(c);
		return NULL;
	}
	c->hn.kind = TCP_HK_CONN;
	c->state = TCPS_CLOSED;
	c->opts = *o;
	c->hn.reuse = o->reuseaddr;
	c->mss = TCP_MSS_DEFAULT;
	c->peer_mss = TCP_MSS_DEFAULT;
	c->adv_mss = tcp_adv_mss(tl);
	if (o->user_mss && o->user_mss < c->adv_mss)
		c->adv_mss = o->user_mss;
	c->scaling_ratio = TCP_DEFAULT_SCALING_RATIO;
	tcp_rtt_init(&c->rtt, &tl->cfg);
	tcp_cc_init(c);
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
	tcp_ack_batch_unlink(c);
	tcp_conns_remove(tl, &c->hn);
	if (c->state == TCPS_ESTABLISHED || c->state == TCPS_CLOSE_WAIT)
		tl->ctr.CurrEstab--;
	tcp_sndq_free(c);
	tcp_sb_free(tl, &c->sb);
	tcp_rcvq_purge(c);
	tcp_ooo_purge(c);
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
	tcp_conns_remove(c->tl, &c->hn);
	tcp_ooo_purge(c);
	c->flags |= TCP_F_RCV_SHUT | TCP_F_SND_SHUT;
	tcp_sndq_free(c);
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
		tcp_conns_remove(tl, &c->hn);
		return;
	}
	tcp_conn_done(c);
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
	seg->disordered = false;
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
	struct tcp_listener *l = tcp_listener_lookup(tl, seg.dst, seg.h.dport, seg.src, seg.h.sport);
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
 * reading, POLLIN when there is data a read returns (not the out-of-band byte alone),
 * POLLPRI while an urgent byte waits for recv(MSG_OOB) (tcp_urg.c), POLLOUT when at most
 * two thirds of the send buffer is used as Linux counts it (tcp_sndbuf_writable,
 * tcp_buf.c) - or when sending is shut or the connection is gone, so that a writer wakes to
 * its EPIPE (Linux's SEND_SHUTDOWN case) - POLLERR on an error.
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
	if (c->rcvq.bytes > tcp_urg_hidden(c))
		ev |= POLLIN;
	if (tcp_urg_pending(c))
		ev |= POLLPRI;
	if (c->state == TCPS_CLOSED && (c->flags & TCP_F_FIN_RCVD))
		ev |= POLLHUP;
	if (wr_shut || c->state == TCPS_CLOSED || tcp_sndbuf_writable(c))
		ev |= POLLOUT;
	if (c->err)
		ev |= POLLERR;
	return ev;
}
