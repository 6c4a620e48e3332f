/*
 * tcp_listen.c - passive open as Linux does it: a listener is its own small object, not a
 * connection (RFC 9293 3.10.7.2 LISTEN; Linux's request_sock and inet_csk_accept).
 *
 *   SYN arrives        -> a struct tcp_req (half-open, ~100 bytes) joins the listener's SYN
 *                         queue and the 4-tuple table; the SYN-ACK goes out at once and is
 *                         retransmitted at 1 s doubling, synack_retries (5) times, then the
 *                         entry is dropped (tcp_timer.c).
 *   final ACK arrives  -> the request becomes a full connection in ESTABLISHED and joins the
 *                         FIFO accept queue; data that came with or after it is kept and
 *                         ACKed. accept() only ever hands out established connections.
 *   queues full        -> Linux's default: the SYN (or final ACK) is dropped and counted in
 *                         ListenOverflows and ListenDrops, so the client retries and, in the
 *                         end, times out. A final ACK (or a valid cookie ACK) that meets a
 *                         full accept queue is dropped the same way; only with
 *                         cfg.abort_on_overflow does it get a RST (tcp_listen_overflow).
 *                         A full SYN queue answers with a SYN cookie (RFC 4987, as Linux's
 *                         tcp_syncookies = 1) or, with cookies off, drops the SYN
 *                         (drop_syn_queue_full). A valid cookie ACK that meets a full
 *                         accept queue is kept as an acknowledged request
 *                         (tcp_req_keep_cookie), so the client's later segments are not
 *                         reset: there tapstack departs from Linux, on purpose.
 *
 * Called by tcp.c (tcp_input demux) and stack/socket/socket.c (listen, accept, close).
 * Owns the listener, its requests, and the connections in its accept queue until accepted.
 *
 * Memory: request entries are recycled through a free list in the layer (tl->req_free), so
 * a SYN flood allocates nothing per packet. The pool only grows when more requests are
 * half-open at once than ever before, and never holds more entries than the listeners'
 * SYN queue limits add up to (tl->req_limit); a pooled entry keeps its timer's heap
 * reservation, so the SYN-ACK timer is armed without allocating either.
 */
#include "tcp/tcp_int.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>

/* The SYN queue holds at most this many requests (then SYN cookies, or drops). */
static uint32_t tcp_synq_limit(const struct tcp_listener *l)
{
	return l->backlog > 0 ? l->backlog : 1;
}

/* A request entry from the pool, or a new one (which reserves its timer's heap slot). */
static struct tcp_req *tcp_req_alloc(struct tcp_layer *tl)
{
	struct tcp_req *r = tl->req_free;
	if (r) {
		tl->req_free = r->qnext;
		struct timer keep = r->timer;  /* still reserved; not armed */
		memset(r, 0, sizeof(*r));
		r->timer = keep;
		return r;
	}
	r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	timer_init(&r->timer, tcp_req_timer_fire);
	if (timer_reserve(&tl->core->timers, &r->timer)) {
		tl->ctr.NoTimerSlot++;
		free(r);
		return NULL;
	}
	tl->req_alloc++;
	return r;
}

/* Back to the pool, or freed when the pool already holds what the SYN queues allow. */
static void tcp_req_release(struct tcp_layer *tl, struct tcp_req *r)
{
	if (tl->req_alloc > tl->req_limit) {
		timer_unreserve(&tl->core->timers, &r->timer);
		tl->req_alloc--;
		free(r);
		return;
	}
	r->qnext = tl->req_free;
	tl->req_free = r;
}

void tcp_req_pool_destroy(struct tcp_layer *tl)
{
	while (tl->req_free) {
		struct tcp_req *r = tl->req_free;
		tl->req_free = r->qnext;
		timer_unreserve(&tl->core->timers, &r->timer);
		tl->req_alloc--;
		free(r);
	}
}

struct tcp_listener *tcp_listen(struct tcp_layer *tl, uint32_t laddr, uint16_t lport, int backlog,
                                const struct tcp_sockopts *o, int *err)
{
	/* One listener per port and overlapping address (Linux: even with SO_REUSEADDR).
	 * The port's bucket chain holds every listener of the port: a short walk. */
	if (tcp_listener_blocks(tl, laddr, lport, o->reuseport)) {
		*err = -EADDRINUSE;
		return NULL;
	}
	struct tcp_listener *l = calloc(1, sizeof(*l));
	if (!l) {
		*err = -ENOMEM;
		return NULL;
	}
	l->hn.kind = TCP_HK_LISTEN;
	l->hn.laddr = laddr;
	l->hn.lport = lport;
	l->tl = tl;
	l->opts = *o;
	l->backlog = 0;
	tl->req_limit += tcp_synq_limit(l);
	tcp_listener_set_backlog(l, backlog);
	tcp_hash_insert(&tl->listeners, &l->hn);
	return l;
}

/* Linux's listen(): a backlog above somaxconn (or negative) becomes somaxconn. */
void tcp_listener_set_backlog(struct tcp_listener *l, int backlog)
{
	uint32_t b = backlog < 0 ? UINT32_MAX : (uint32_t)backlog;
	l->tl->req_limit -= tcp_synq_limit(l);
	l->backlog = b > l->tl->cfg.somaxconn ? l->tl->cfg.somaxconn : b;
	l->tl->req_limit += tcp_synq_limit(l);
}

struct tcp_sockopts *tcp_listener_opts(struct tcp_listener *l)
{
	return &l->opts;
}

uint32_t tcp_listener_queued(const struct tcp_listener *l)
{
	return l->acceptq_len;
}

void tcp_listener_addr(const struct tcp_listener *l, uint32_t *laddr, uint16_t *lport)
{
	*laddr = l->hn.laddr;
	*lport = l->hn.lport;
}

/* Linux's sk_acceptq_is_full: "> backlog", so listen(fd, 1) holds two connections. */
static bool tcp_acceptq_full(const struct tcp_listener *l)
{
	return l->acceptq_len > l->backlog;
}

short tcp_listener_revents(const struct tcp_listener *l)
{
	return l->acceptq_len ? POLLIN : 0;
}

struct tcp_conn *tcp_listener_accept(struct tcp_listener *l)
{
	struct tcp_conn *c = l->acceptq_head;
	if (!c)
		return NULL;
	l->acceptq_head = c->aq_next;
	if (!l->acceptq_head)
		l->acceptq_tail = NULL;
	l->acceptq_len--;
	c->aq_next = NULL;
	c->lis = NULL;
	c->hs.accept_at_us = l->tl->core->now;
	if (c->state == TCPS_CLOSED && (c->flags & TCP_F_RESET) == 0 && !(c->flags & TCP_F_FIN_RCVD))
		c->flags |= TCP_F_RESET;
	return c;
}

/* A request joins the SYN queue and the 4-tuple table; its SYN-ACK timer starts now (the
 * caller sends the SYN-ACK, if one is due). */
static void tcp_synq_link(struct tcp_listener *l, struct tcp_req *r)
{
	struct tcp_layer *tl = l->tl;
	r->hn.kind = TCP_HK_REQ;
	r->lis = l;
	r->qprev = NULL;
	r->qnext = l->synq;
	if (l->synq)
		l->synq->qprev = r;
	l->synq = r;
	l->synq_len++;
	tcp_conns_insert(tl, &r->hn);
	r->sent_at = tl->core->now;
	tcp_timer_arm(tl, &r->timer, tl->core->now + (usec_t)tl->cfg.rto_init_ms * USEC_PER_MS);
}

static void tcp_synq_unlink(struct tcp_req *r)
{
	struct tcp_listener *l = r->lis;
	if (r->qprev)
		r->qprev->qnext = r->qnext;
	else
		l->synq = r->qnext;
	if (r->qnext)
		r->qnext->qprev = r->qprev;
	r->qnext = r->qprev = NULL;
	l->synq_len--;
}

void tcp_req_free(struct tcp_req *r)
{
	struct tcp_layer *tl = r->lis->tl;
	if (r->cookie)
		return; /* lives on the caller's stack, linked nowhere */
	timer_cancel(&tl->core->timers, &r->timer);
	tcp_conns_remove(tl, &r->hn);
	tcp_synq_unlink(r);
	tcp_req_release(tl, r);
}

void tcp_listener_close(struct tcp_listener *l)
{
	struct tcp_layer *tl = l->tl;
	while (l->synq)
		tcp_req_free(l->synq);
	/* Connections nobody accepted are reset, as Linux's inet_csk_listen_stop does. */
	struct tcp_conn *c;
	while ((c = tcp_listener_accept(l))) {
		if (c->state != TCPS_CLOSED) {
			tcp_send_rst_conn(c);
			tl->ctr.AbortOnClose++;
		}
		c->flags |= TCP_F_ORPHAN;
		if (c->state != TCPS_CLOSED)
			tcp_conn_abort(c, ECONNRESET);
		else
			tcp_conn_free(c);
	}
	tcp_hash_remove(&tl->listeners, &l->hn);
	/* The pool shrinks back to what the remaining SYN queues allow. */
	tl->req_limit -= tcp_synq_limit(l);
	while (tl->req_alloc > tl->req_limit && tl->req_free) {
		struct tcp_req *r = tl->req_free;
		tl->req_free = r->qnext;
		tcp_req_release(tl, r);
	}
	free(l);
}

static struct tcp_conn *tcp_req_promote(struct tcp_req *r, struct tcp_seg *seg);

/*
 * A handshake completes (a final ACK, or an ACK with a valid SYN cookie) while the accept
 * queue is full. Linux's default (tcp_abort_on_overflow = 0) drops the ACK, counted in
 * ListenOverflows and ListenDrops: the client believes it is connected, and its next
 * segment (data, or its ACK of our retransmitted SYN-ACK) completes the handshake once
 * accept() has made room. Only with cfg.abort_on_overflow is it told, with a RST
 * (<SEQ=SEG.ACK>). Returns the drop counter for the caller's drop exit; seg stays the
 * caller's.
 */
static uint64_t *tcp_listen_overflow(struct tcp_layer *tl, const struct tcp_seg *seg)
{
	tl->ctr.ListenOverflows++;
	if (tl->cfg.abort_on_overflow)
		tcp_send_rst_for(tl, seg);
	return &tl->ctr.ListenDrops;
}

/*
 * A valid cookie ACK met a full accept queue and was dropped (tcp_listen_overflow). Linux
 * keeps nothing, so only a segment that starts at the client's first byte can pass the
 * cookie check again: the data the client sent after that first segment (seq beyond
 * ISN+1, which no cookie check can verify) reaches the listener as a stray ACK and is
 * answered with a RST, and the client sees "connection reset" although its handshake was
 * good. tapstack keeps the handshake instead, as the request Linux keeps for a final ACK
 * that meets a full accept queue (tcp_req_input): acknowledged, in the SYN queue and the
 * 4-tuple table, its SYN-ACK timer running. The client's segments then find it and are
 * dropped quietly until accept() makes room, and the next one completes the handshake.
 * Bounded: such entries may take the SYN queue up to twice its limit, no further (then
 * Linux's behaviour). The cookie handshake offered only the MSS, and so does the request
 * (tcp_cookie_check filled in cr; r->retrans stays 1: no RTT sample).
 */
static void tcp_req_keep_cookie(struct tcp_listener *l, const struct tcp_req *cr)
{
	struct tcp_layer *tl = l->tl;
	struct tcp_req *r;
	if (l->synq_len >= 2 * tcp_synq_limit(l))
		return;
	r = tcp_req_alloc(tl);
	if (!r)
		return;
	struct timer keep = r->timer; /* reserved by tcp_req_alloc */
	*r = *cr;
	r->timer = keep;
	r->cookie = false;
	r->from_cookie = true;
	r->acked = true;
	tcp_synq_link(l, r);
	tl->ctr.SyncookiesKept++;
}

/* RFC 9293 3.10.7.2, LISTEN. Takes ownership of seg->pb: freed here, or handed on with seg
 * to tcp_conn_input (a valid cookie's connection), which frees it or keeps it. */
void tcp_listen_input(struct tcp_listener *l, struct tcp_seg *seg)
{
	struct tcp_layer *tl = l->tl;
	uint64_t *drop;

	/* First: a RST is ignored. */
	if (seg->flags & TCP_FLAG_RST) {
		drop = &tl->ctr.drop_listen_rst;
		goto drop;
	}
	/* Second: any ACK is bad here: <SEQ=SEG.ACK><CTL=RST> -- unless it completes a SYN
	 * cookie handshake (only looked at while the SYN queue overflowed recently, as Linux). */
	if ((seg->flags & TCP_FLAG_ACK) && !(seg->flags & TCP_FLAG_SYN) && tl->cfg.syncookies && l->last_overflow &&
	    tl->core->now - l->last_overflow < 2 * TCP_COOKIE_PERIOD_S * USEC_PER_SEC) {
		struct tcp_req r;
		if (tcp_cookie_check(l, seg, &r)) {
			struct tcp_conn *c;
			tl->ctr.SyncookiesRecv++; /* as Linux: a valid cookie, whatever follows */
			if (tcp_acceptq_full(l)) {
				drop = tcp_listen_overflow(tl, seg);
				if (!tl->cfg.abort_on_overflow)
					tcp_req_keep_cookie(l, &r);
				goto drop;
			}
			c = tcp_req_promote(&r, seg);
			if (!c) {
				/* A good cookie: no RST, the client's next segment tries again. */
				drop = &tl->ctr.drop_no_memory;
				goto drop;
			}
			tcp_conn_input(c, seg);
			return;
		}
		tl->ctr.SyncookiesFailed++;
	}
	if (seg->flags & TCP_FLAG_ACK) {
		tcp_send_rst_for(tl, seg);
		drop = &tl->ctr.drop_listen_ack;
		goto drop;
	}
	/* Third: a SYN. (Fourth: anything else is dropped.) */
	if (!(seg->flags & TCP_FLAG_SYN)) {
		drop = &tl->ctr.drop_listen_noack_nosyn;
		goto drop;
	}
	if (tcp_acceptq_full(l)) {
		/* Linux tcp_conn_request: no room to ever accept it; the client will retry. */
		tl->ctr.ListenOverflows++;
		drop = &tl->ctr.ListenDrops;
		goto drop;
	}
	/* A cookie when the SYN queue is full, or always with tcp_syncookies = 2 (Linux
	 * tcp_conn_request); either way the listener looks at cookie ACKs from now on. */
	if (l->synq_len >= (l->backlog > 0 ? l->backlog : 1) || tl->cfg.syncookies == 2) {
		l->last_overflow = tl->core->now ? tl->core->now : 1;
		if (tl->cfg.syncookies) {
			tcp_cookie_synack(l, seg);
			pbuf_free(seg->pb);
			return;
		}
		tl->ctr.drop_syn_queue_full++;
		drop = &tl->ctr.ListenDrops;
		goto drop;
	}
	struct tcp_req *r = tcp_req_alloc(tl);
	if (!r) {
		drop = &tl->ctr.drop_no_memory;
		goto drop;
	}
	const struct tcp_opts *o = &seg->h.opts;
	r->hn.laddr = seg->dst;
	r->hn.lport = seg->h.dport;
	r->hn.raddr = seg->src;
	r->hn.rport = seg->h.sport;
	r->irs = seg->seq;
	r->iss = tcp_isn(tl, seg->dst, seg->h.dport, seg->src, seg->h.sport);
	r->snd_wnd = seg->wnd;
	tcp_req_syn_opts(l, r, o);
	tcp_synq_link(l, r);
	tl->ctr.ReqCreated++;
	tcp_send_synack(r);
	pbuf_free(seg->pb); /* data in a SYN is not kept (no TFO) */
	return;
drop:
	(*drop)++;
	pbuf_free(seg->pb);
}

void tcp_req_syn_opts(const struct tcp_listener *l, struct tcp_req *r, const struct tcp_opts *o)
{
	const struct tcp_layer *tl = l->tl;
	r->peer_mss = o->has_mss ? o->mss : TCP_MSS_DEFAULT;
	r->wscale_ok = o->has_wscale && tl->cfg.window_scaling;
	r->snd_wscale = r->wscale_ok ? (o->wscale > TCP_WSCALE_MAX ? TCP_WSCALE_MAX : o->wscale) : 0;
	r->rcv_wscale = r->wscale_ok ? tcp_wscale_for(tl, &l->opts) : 0;
	r->sack_ok = o->sack_ok && tl->cfg.sack;
	r->ts_ok = o->has_ts && tl->cfg.timestamps;
	r->ts_recent = o->ts_val;
	r->syn_opts = (uint8_t)((o->has_mss ? TCP_SYN_OPT_MSS : 0) | (o->has_wscale ? TCP_SYN_OPT_WSCALE : 0) |
	                        (o->sack_ok ? TCP_SYN_OPT_SACK : 0) | (o->has_ts ? TCP_SYN_OPT_TS : 0));
	r->syn_wscale = o->wscale;
	r->ts_offset = tcp_ts_offset_for(r->iss);
}

/* The final ACK of the handshake turns a request into an established connection. Does not
 * take seg->pb: the caller passes it on to the new connection or frees it. */
/* What the handshake was, kept for ts_handshake(): the SYN as sent, the SYN-ACK as answered
 * (tcp_send_synack() builds it from the same fields), the moments in the stack's clock. */
static void tcp_handshake_record(struct tcp_conn *c, const struct tcp_req *r, uint32_t synack_wnd)
{
	struct tcp_hs_rec *hs = &c->hs;
	usec_t now = c->tl->core->now;

	hs->syn_at_us = (r->cookie || r->from_cookie) ? 0 : r->sent_at; /* the SYN-ACK's too */
	hs->ack_at_us = now;
	hs->syn_mss = (r->syn_opts & TCP_SYN_OPT_MSS) ? r->peer_mss : 0;
	hs->syn_win = (uint16_t)r->snd_wnd;
	hs->syn_wscale = (r->syn_opts & TCP_SYN_OPT_WSCALE) ? r->syn_wscale : 255;
	hs->syn_sack = (r->syn_opts & TCP_SYN_OPT_SACK) != 0;
	hs->syn_ts = (r->syn_opts & TCP_SYN_OPT_TS) != 0;
	hs->syn_tsval = r->ts_recent;
	hs->synack_mss = tcp_synack_mss(r->lis);
	hs->synack_win = (uint16_t)synack_wnd;
	hs->synack_wscale = r->wscale_ok ? r->rcv_wscale : 255;
	hs->synack_sack = r->sack_ok;
	hs->synack_ts = r->ts_ok;
}

static struct tcp_conn *tcp_req_promote(struct tcp_req *r, struct tcp_seg *seg)
{
	struct tcp_listener *l = r->lis;
	struct tcp_layer *tl = l->tl;
	struct tcp_conn *c = tcp_conn_alloc(tl, &l->opts);
	if (!c)
		return NULL;
	c->hn.laddr = r->hn.laddr;
	c->hn.lport = r->hn.lport;
	c->hn.raddr = r->hn.raddr;
	c->hn.rport = r->hn.rport;
	c->snd.iss = r->iss;
	c->snd.una = c->snd.nxt = c->snd.max = r->iss + 1;
	c->wq_tail = c->pushed_seq = r->iss + 1;
	c->rcv.irs = r->irs;
	c->rcv.nxt = r->irs + 1;
	uint32_t synack_wnd = tcp_synack_window(l, r);
	c->rcv.wnd = synack_wnd;
	c->rcv.adv_edge = c->rcv.nxt + synack_wnd;
	c->last_ack_sent = c->rcv.nxt;
	c->wscale_ok = r->wscale_ok;
	c->snd_wscale = r->snd_wscale;
	c->rcv_wscale = r->rcv_wscale;
	c->sack_ok = r->sack_ok;
	c->ts_ok = r->ts_ok;
	c->ts_recent = r->ts_recent;
	c->ts_recent_stamp = tl->core->now;
	c->ts_offset = r->ts_offset;
	c->peer_mss = r->peer_mss < TCP_MSS_MIN ? TCP_MSS_MIN : r->peer_mss;
	{
		/* Same computation as for an active open (tcp_conn_apply_syn_opts). */
		struct tcp_opts o;
		memset(&o, 0, sizeof(o));
		o.has_mss = true;
		o.mss = c->peer_mss;
		o.has_wscale = r->wscale_ok;
		o.wscale = r->snd_wscale;
		o.sack_ok = r->sack_ok;
		o.has_ts = r->ts_ok;
		o.ts_val = r->ts_recent;
		uint8_t rws = c->rcv_wscale;
		tcp_conn_apply_syn_opts(c, &o);
		c->rcv_wscale = c->wscale_ok ? rws : 0;
	}
	c->snd.wnd = seg->wnd << c->snd_wscale;
	c->snd.max_wnd = c->snd.wnd;
	c->snd.wl1 = seg->seq;
	c->snd.wl2 = seg->ack;
	c->flags |= TCP_F_PASSIVE;
	if (r->retrans == 0) /* Linux tcp_synack_rtt_meas; Karn: none after a retransmission */
		tcp_rtt_sample(c, (uint32_t)(tl->core->now - r->sent_at), c->snd.una);
	tcp_handshake_record(c, r, synack_wnd);
	c->state = TCPS_SYN_RECEIVED;
	tcp_set_state(c, TCPS_ESTABLISHED);
	if (c->opts.keepalive)
		tcp_arm_keepalive(c);
	tcp_req_free(r);
	tcp_conns_insert(tl, &c->hn);
	c->lis = l;
	if (l->acceptq_tail)
		l->acceptq_tail->aq_next = c;
	else
		l->acceptq_head = c;
	l->acceptq_tail = c;
	l->acceptq_len++;
	tcp_wake(tl, l->owner);
	tl->ctr.PassiveOpens++;
	tl->ctr.ReqAccepted++;
	return c;
}

/* RFC 9293 3.10.7.4 for a connection still in the SYN queue (SYN-RECEIVED). Takes ownership
 * of seg->pb: freed here, or handed on with seg to the new connection's tcp_conn_input. */
void tcp_req_input(struct tcp_req *r, struct tcp_seg *seg)
{
	struct tcp_listener *l = r->lis;
	struct tcp_layer *tl = l->tl;
	uint64_t *drop;

	/* First: sequence check (the window is what the SYN-ACK offered). */
	uint32_t wnd = tcp_synack_window(l, r);
	bool seq_ok = seq_in_window(seg->seq, r->irs + 1, wnd) || (seg->len == 0 && seg->seq == r->irs + 1);
	if (seg->flags & TCP_FLAG_RST) {
		/* RFC 9293 3.10.7.4 second, SYN-RECEIVED from LISTEN: back to LISTEN. */
		if (seq_ok)
			tcp_req_free(r);
		drop = &tl->ctr.drop_listen_rst;
		goto drop;
	}
	if ((seg->flags & TCP_FLAG_SYN) && !(seg->flags & TCP_FLAG_ACK)) {
		/* The client retransmitted its SYN: our SYN-ACK got lost, send it again. */
		if (seg->seq == r->irs) {
			tl->ctr.SynAckRetrans++;
			tcp_send_synack(r);
		}
		drop = &tl->ctr.drop_listen_noack_nosyn;
		goto drop;
	}
	if (!seq_ok) {
		drop = &tl->ctr.drop_out_of_window;
		goto drop;
	}
	if (!(seg->flags & TCP_FLAG_ACK)) {
		drop = &tl->ctr.drop_no_ack;
		goto drop;
	}
	/* Fifth: the ACK must acknowledge our SYN exactly, else <SEQ=SEG.ACK><CTL=RST>. */
	if (seg->ack != r->iss + 1 || (seg->flags & TCP_FLAG_SYN)) {
		tcp_send_rst_for(tl, seg);
		drop = &tl->ctr.drop_req_bad_ack;
		goto drop;
	}
	if (l->opts.defer_accept && r->retrans < l->opts.defer_accept && seg->dlen == 0 &&
	    !(seg->flags & TCP_FLAG_FIN)) {
		/* TCP_DEFER_ACCEPT (Linux tcp_check_req): a bare final ACK does not complete the
		 * handshake; the first data does. */
		r->acked = true;
		drop = &tl->ctr.DeferAcceptDrop;
		goto drop;
	}
	if (tcp_acceptq_full(l)) {
		drop = tcp_listen_overflow(tl, seg);
		if (tl->cfg.abort_on_overflow)
			tcp_req_free(r);
		else
			r->acked = true; /* Linux keeps the request; its SYN-ACK timer runs on */
		goto drop;
	}
	struct tcp_conn *c = tcp_req_promote(r, seg);
	if (!c) {
		drop = &tl->ctr.drop_no_memory;
		goto drop;
	}
	/* The rest of the segment (data, FIN) is processed by the connection. */
	tcp_conn_input(c, seg);
	return;
drop:
	(*drop)++;
	pbuf_free(seg->pb);
}
