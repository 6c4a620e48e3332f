/*
 * tcp_timewait.c - TIME-WAIT (RFC 9293 3.10.7.4) on a small entry: when a connection enters
 * TIME-WAIT its TCB shrinks to a struct tcp_tw (80 bytes) that answers a retransmitted
 * FIN, lets a newer SYN start a new incarnation (RFC 6191) and expires after 60 s (Linux's
 * TCP_TIMEWAIT_LEN, where RFC 9293 says 2 MSL: see docs/tcp.md).
 *
 * Called by tcp_input.c/tcp_conn.c (tcp_enter_time_wait), tcp.c (tcp_tw_input from the
 * demultiplexer) and the timer heap (tcp_tw_timer_fire, one timer for all entries). Owns
 * the entries and their expiry FIFO.
 */
#include "tcp/tcp_int.h"

#include <stdlib.h>

/*
 * A TIME-WAIT entry: one small allocation per connection that closes into TIME-WAIT (not
 * per segment), at most cfg.max_tw_buckets of them. It needs no timer of its own: every
 * entry lasts the same cfg.time_wait_ms, so the entries wait in a FIFO by expiry and the
 * layer's one tw_timer (reserved in tcp_init) fires for the first (FreeBSD's 2MSL list).
 * Entering, restarting and ending TIME-WAIT are O(1), where one heap timer per entry made
 * each connection closed pay two O(log n) heap operations in a heap of tens of thousands
 * (docs/performance.md, "Stretch ACKs and lazy timers").
 */
static struct tcp_tw *tcp_tw_alloc(struct tcp_layer *tl)
{
	if (tl->ntw >= tl->cfg.max_tw_buckets)
		return NULL;
	struct tcp_tw *tw = calloc(1, sizeof(*tw));
	if (!tw)
		return NULL;
	tw->tl = tl;
	tl->ntw++;
	return tw;
}

static void tcp_tw_unqueue(struct tcp_tw *tw)
{
	struct tcp_layer *tl = tw->tl;
	if (tw->tw_prev)
		tw->tw_prev->tw_next = tw->tw_next;
	else
		tl->tw_head = tw->tw_next;
	if (tw->tw_next)
		tw->tw_next->tw_prev = tw->tw_prev;
	else
		tl->tw_tail = tw->tw_prev;
	tw->tw_next = tw->tw_prev = NULL;
}

/* (Re)starts the 2 MSL: last in the FIFO, since nobody else's ends later. */
static void tcp_tw_queue(struct tcp_tw *tw)
{
	struct tcp_layer *tl = tw->tl;
	tw->expires = tl->core->now + (usec_t)tl->cfg.time_wait_ms * USEC_PER_MS;
	tw->tw_next = NULL;
	tw->tw_prev = tl->tw_tail;
	if (tl->tw_tail)
		tl->tw_tail->tw_next = tw;
	else
		tl->tw_head = tw;
	tl->tw_tail = tw;
	if (!timer_armed(&tl->tw_timer) || tl->tw_timer.deadline > tl->tw_head->expires)
		tcp_timer_arm(tl, &tl->tw_timer, tl->tw_head->expires);
}

void tcp_tw_free(struct tcp_tw *tw)
{
	struct tcp_layer *tl = tw->tl;
	tcp_tw_unqueue(tw);
	tcp_conns_remove(tl, &tw->hn);
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
		tw->tos = c->opts.tos;
		tw->rcv_wnd = (uint16_t)(c->rcv.wnd >> c->rcv_wscale > 65535 ? 65535 : c->rcv.wnd >> c->rcv_wscale);
	}
	/* The connection object goes (the socket sees CLOSED); the small entry takes its place. */
	tcp_conns_remove(tl, &c->hn);
	if (tw) {
		tcp_conns_insert(tl, &tw->hn);
		tcp_tw_queue(tw);
	}
	c->state = TCPS_CLOSED; /* no log line: TIME-WAIT lives on in tw */
	tcp_conn_timers_cancel(c);
	tcp_ooo_purge(c);
	tcp_sndq_free(c);
	c->flags |= TCP_F_SND_SHUT | TCP_F_RCV_SHUT;
	if (c->flags & TCP_F_ORPHAN)
		tcp_conn_free(c);
}

/* ---- 3.10.7.4 TIME-WAIT, on the small entry ---- */

/* Takes ownership of seg->pb: freed here, or handed on to tcp_listen_input (a new SYN). */
void tcp_tw_input(struct tcp_tw *tw, struct tcp_seg *seg)
{
	struct tcp_layer *tl = tw->tl;

	if (seg->flags & TCP_FLAG_RST) {
		/* Linux (tcp_rfc1337 = 0) lets a RST end TIME-WAIT early. */
		tcp_tw_free(tw);
		goto out;
	}
	if ((seg->flags & TCP_FLAG_SYN) && !(seg->flags & TCP_FLAG_ACK)) {
		/* RFC 9293 3.10.7.4 / RFC 6191: a new SYN above the old sequence space (or with a
		 * newer timestamp) may start a new incarnation. */
		bool newer = seq_gt(seg->seq, tw->rcv_nxt) ||
		             (tw->ts_ok && seg->h.opts.has_ts && seq_gt(seg->h.opts.ts_val, tw->ts_recent));
		struct tcp_listener *l = tcp_listener_lookup(tl, seg->dst, seg->h.dport, seg->src, seg->h.sport);
		if (newer && l) {
			tcp_tw_free(tw);
			tl->ctr.TimeWaitRecycled++;
			tcp_listen_input(l, seg);
			return;
		}
		tcp_tw_send_ack(tw);
		goto out;
	}
	if ((seg->flags & TCP_FLAG_FIN) && seg->seq + seg->dlen + 1 == tw->rcv_nxt) {
		/* The peer did not get our ACK of its FIN: ACK again, restart the 2 MSL timer. */
		tcp_tw_send_ack(tw);
		tcp_tw_unqueue(tw);
		tcp_tw_queue(tw);
		goto out;
	}
	if (seg->dlen || seq_gt(seg->seq, tw->rcv_nxt) || (seg->flags & TCP_FLAG_FIN))
		tcp_tw_send_ack(tw);
	else
		tl->ctr.drop_timewait++;
out:
	pbuf_free(seg->pb);
}


/* The layer's tw_timer: every entry whose 2 MSL have ended goes, then the timer waits for
 * the next (it may fire early for an entry that left or restarted: it just re-arms). */
void tcp_tw_timer_fire(struct timer *t, usec_t now)
{
	struct tcp_layer *tl = container_of(t, struct tcp_layer, tw_timer);
	while (tl->tw_head && tl->tw_head->expires <= now) {
		tl->ctr.TimeWaitExpired++;
		tcp_tw_free(tl->tw_head);
	}
	if (tl->tw_head)
		tcp_timer_arm(tl, t, tl->tw_head->expires);
}
