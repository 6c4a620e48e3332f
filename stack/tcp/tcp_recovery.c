/*
 * tcp_recovery.c - loss recovery over the SACK scoreboard, as Linux does it by default:
 *
 *   RACK (RFC 8985 6)   a segment is lost when one sent after it was delivered more than
 *                       a reordering window ago: time, not duplicate-ACK counting;
 *   TLP (RFC 8985 7)    the tail loss probe: two round trips after the last send with
 *                       nothing heard, one segment is (re)sent to draw the ACK that lets
 *                       RACK see a tail loss, instead of waiting for the RTO;
 *   PRR (RFC 6937)      how much may be sent on each ACK during recovery, so the flight
 *                       shrinks smoothly to ssthresh;
 *   undo (RFC 2883, 3708, 3522, 5682)
 *                       a D-SACK for every retransmission, an ACK echoing a timestamp older
 *                       than the first retransmission (Eifel), or F-RTO's test (originals
 *                       delivered after an RTO) shows the reduction was spurious: cwnd and
 *                       ssthresh come back.
 *
 * The states are Linux's (enum tcp_rec_state): OPEN, DISORDER (SACKs seen, nothing lost),
 * CWR (a reduction after a probe repaired a loss), RECOVERY (fast recovery), LOSS (after
 * an RTO, go-back-N over the records not SACKed).
 *
 * Decides only: tcp_rec_ack() runs inside tcp_ack() (tcp_input.c) on every ACK of a
 * connection that negotiated SACK, and sets cwnd and marks; tcp_output() then sends what
 * the marks and cwnd allow (tcp_rec_next_rexmit() first, new data after). The timers (TLP,
 * RACK's reordering timer) share rtx_timer with the RTO (tcp_timer.c), as in Linux.
 */
#include "tcp/tcp_int.h"

/* Per-ACK facts gathered while the scoreboard changes (tcp_rec_ack's scratch). */
#define TCP_ACKF_ORIG_DELIVERED 0x01u   /* a never-resent segment was ACKed or SACKed */
#define TCP_ACKF_DSACK_TLP      0x02u   /* the D-SACK covers the tail loss probe */
#define TCP_ACKF_RACK_ADVANCED  0x04u   /* a delivery gave RACK a new sample (Linux rack.advanced) */
#define TCP_ACKF_CUM            0x08u   /* now walking the cumulative ACK (SACK blocks done) */
#define TCP_ACKF_SACK_SENT      0x10u   /* acking.sack_sent is set */
#define TCP_ACKF_CUM_SENT       0x20u   /* acking.cum_sent is set */
#define TCP_ACKF_RETRANS_ACKED  0x40u   /* the cumulative ACK covered a resent segment */
#define TCP_ACKF_REORD          0x80u   /* acking.reord_low is set: a hole filled late */

/* The retransmission timer at `when`, in the role given (0: the RTO, TCP_F_TLP, TCP_F_REO). */
static void tcp_rec_arm_as(struct tcp_conn *c, uint32_t role, usec_t when)
{
	c->flags &= ~(TCP_F_PERSIST | TCP_F_TLP | TCP_F_REO);
	c->flags |= role;
	tcp_timer_arm(c->tl, &c->rtx_timer, when);
}

/* ---- congestion-control hooks: what a loss does to ssthresh and what an undo restores
 * (the congestion-control module's ssthresh and undo_cwnd, tcp_cc.c) ---- */

/* The ssthresh a loss leaves: the congestion-control algorithm's (tcp_cc.c: Reno halves
 * cwnd, CUBIC keeps 0.7 of it and remembers W_max), at least two segments. */
static uint32_t tcp_rec_ssthresh(struct tcp_conn *c)
{
	return tcp_cc_loss_ssthresh(c);
}

/* The cwnd an undo restores: the algorithm's undo_cwnd (by default Linux's
 * tcp_reno_undo_cwnd: the larger of now and before). */
static uint32_t tcp_rec_undo_cwnd(struct tcp_conn *c)
{
	return tcp_cc_undo_cwnd(c, c->rec.undo_cwnd);
}

bool tcp_rec_on(const struct tcp_conn *c)
{
	return c->sack_ok;
}

/* ---- RACK (RFC 8985 6) ---- */

/*
 * RACK_sent_after (6.2): record r was sent after RACK's reference. Equal times break ties by
 * transmission order, then by end sequence (within one burst). RFC 8985 breaks them by
 * sequence alone, which assumes what shares a timestamp left in sequence order; here a
 * wake-up's clock reading stamps everything it sends, and a resend often leaves after new
 * data sent on an earlier ACK of the same wake-up (Linux stamps each skb in nanoseconds).
 */
static bool rack_sent_after(const struct tcp_recov *rv, const struct tcp_txseg *r)
{
	if (r->sent != rv->rack_xmit)
		return r->sent > rv->rack_xmit;
	if (r->order != rv->rack_order)
		return (int32_t)(r->order - rv->rack_order) > 0;
	return seq_gt(r->end, rv->rack_end);
}

/* Our TSval when a record was sent (tcp_now_ts at that time). */
static uint32_t tcp_ts_at(const struct tcp_conn *c, usec_t t)
{
	return (uint32_t)(t / USEC_PER_MS) + c->ts_offset;
}

/* Linux tcp_check_sack_reordering: a segment sent once was delivered `metric` bytes below
 * the highest delivered sequence; the path reorders that far (in segments, at most 300). */
static void tcp_rec_reordered(struct tcp_conn *c, uint32_t metric)
{
	struct tcp_recov *rv = &c->rec;
	uint32_t cur = rv->reordering ? rv->reordering : TCP_REORDERING_INIT;
	uint32_t segs = (metric + c->mss - 1) / c->mss;
	if (metric > cur * c->mss)
		rv->reordering = segs < TCP_REORDERING_MAX ? segs : TCP_REORDERING_MAX;
	rv->reord_seen++;
}

/* Linux tcp_check_sack_reordering, once for an ACK's SACK blocks and once for its
 * cumulative part (tcp_sacktag_write_queue, tcp_clean_rtx_queue): how far below the highest
 * delivered sequence the lowest late segment was; one reordering event each. */
static void tcp_rec_reord_check(struct tcp_conn *c)
{
	struct tcp_recov *rv = &c->rec;
	struct tcp_acking *ak = &c->tl->acking;
	if (!(ak->flags & TCP_ACKF_REORD))
		return;
	ak->flags &= (uint8_t)~TCP_ACKF_REORD;
	uint32_t fack = rv->fack_valid && seq_gt(rv->fack, c->snd.una) ? rv->fack : c->snd.una;
	if (seq_lt(ak->reord_low, fack))
		tcp_rec_reordered(c, fack - ak->reord_low);
}

/*
 * 6.2 step 2 and 3: a record was delivered (cumulatively ACKed or SACKed): the most
 * recently sent delivered segment becomes RACK's reference, and a delivery below the
 * highest delivered sequence shows reordering.
 */
static void tcp_rack_delivered(struct tcp_conn *c, const struct tcp_txseg *r)
{
	struct tcp_recov *rv = &c->rec;
	struct tcp_acking *ak = &c->tl->acking;
	usec_t now = c->tl->core->now;
	uint32_t rtt = (uint32_t)(now > r->sent ? now - r->sent : 1);
	c->delivered_pkts++; /* TCP_INFO's tcpi_delivered: one per segment, as Linux's pcount */
	/* The latest sent of this ACK's deliveries, resends too (tcp_rack_update_reo_wnd). */
	if (!ak->newest_valid || (int32_t)(r->order - ak->newest_order) > 0) {
		ak->newest_order = r->order;
		ak->newest_valid = true;
	}
	if (r->marks & TCP_TX_EVER_RETRANS) {
		if (ak->flags & TCP_ACKF_CUM)
			ak->flags |= TCP_ACKF_RETRANS_ACKED;
		/* Which transmission is ACKed is ambiguous: skip the sample when the RTT is
		 * impossibly short, or, for a cumulative ACK, when the echoed timestamp predates
		 * the retransmission (Linux's tcp_skb_spurious_retrans). A SACK's echo is the
		 * receiver's TS.Recent, set by in-order data, so it says nothing about a resend
		 * SACKed above a hole: Linux's tcp_sacktag_one applies only the RTT test, and so a
		 * SACKed resend moves RACK on - which is how a lost resend below it is found. */
		if ((ak->flags & TCP_ACKF_CUM) && c->ts_ok && ak->ecr && seq_lt(ak->ecr, tcp_ts_at(c, r->sent)))
			return;
		if (!tcp_rtt_min_us(&c->rtt) || rtt < tcp_rtt_min_us(&c->rtt))
			return; /* Linux: no minimum yet (~0U) counts as one this is below */
	} else {
		ak->flags |= TCP_ACKF_ORIG_DELIVERED;
		/* The send times congestion control and min_RTT sample (tcp_rec_ca_rtt). */
		if (ak->flags & TCP_ACKF_CUM) {
			if (!(ak->flags & TCP_ACKF_CUM_SENT) || r->sent > ak->cum_sent)
				ak->cum_sent = r->sent;
			if (!(ak->flags & TCP_ACKF_CUM_SENT) || r->sent < ak->cum_first)
				ak->cum_first = r->sent;
			ak->flags |= TCP_ACKF_CUM_SENT;
		} else {
			if (!(ak->flags & TCP_ACKF_SACK_SENT) || r->sent > ak->sack_sent)
				ak->sack_sent = r->sent;
			if (!(ak->flags & TCP_ACKF_SACK_SENT) || r->sent < ak->sack_first)
				ak->sack_first = r->sent;
			ak->flags |= TCP_ACKF_SACK_SENT;
		}
		/* Below the highest sequence delivered *before* this ACK (Linux's prior_fack): a
		 * hole filled late. Not below what this ACK's own blocks delivered. The lowest
		 * such one is judged when the SACK blocks, then the cumulative ACK, are done
		 * (tcp_rec_reord_check). */
		if (ak->fack_valid && seq_lt(r->seq, ak->prior_fack) &&
		    (!(ak->flags & TCP_ACKF_REORD) || seq_lt(r->seq, ak->reord_low))) {
			ak->reord_low = r->seq;
			ak->flags |= TCP_ACKF_REORD;
		}
	}
	if (!rv->fack_valid || seq_gt(r->end, rv->fack)) {
		rv->fack = r->end;
		rv->fack_valid = true;
	}
	rv->rack_rtt_us = rtt;
	ak->flags |= TCP_ACKF_RACK_ADVANCED;
	rv->rack_advanced = true;
	if (!rv->rack_valid || rack_sent_after(rv, r)) {
		rv->rack_xmit = r->sent;
		rv->rack_order = r->order;
		rv->rack_end = r->end;
		rv->rack_valid = true;
	}
}

/*
 * The ACK's RTT sample for congestion control and the min-RTT filter, from the scoreboard's
 * send times (Linux tcp_clean_rtx_queue's ca_rtt_us): the age of the newest never-resent
 * segment it SACKed, else of the newest it cumulatively ACKed - unless the cumulative ACK
 * also covered a resent segment, whose arrival, not the originals', may have moved it
 * (Karn). -1 when there is none. The scoreboard is the one owner of send times on a SACK
 * connection; the RTT object's ring serves only connections without it (tcp_rtt.h).
 */
static int32_t tcp_rec_ca_rtt(const struct tcp_conn *c)
{
	const struct tcp_acking *ak = &c->tl->acking;
	usec_t now = c->tl->core->now, sent;
	if (ak->flags & TCP_ACKF_SACK_SENT)
		sent = ak->sack_sent;
	else if ((ak->flags & TCP_ACKF_CUM_SENT) && !(ak->flags & TCP_ACKF_RETRANS_ACKED))
		sent = ak->cum_sent;
	else
		return -1;
	usec_t rtt = now > sent ? now - sent : 0;
	return rtt < INT32_MAX ? (int32_t)rtt : INT32_MAX;
}

/*
 * The ACK's RTT sample for the estimator (Linux tcp_ack_update_rtt's seq_rtt_us): the age
 * of the oldest never-resent segment it cumulatively ACKed, unless it also ACKed a resent
 * one (Karn), else of the oldest it SACKed; else the timestamp echo's sample when SND.UNA
 * moved. One per ACK, as Linux takes them, not one per round trip. -1 when there is none.
 */
static int32_t tcp_rec_seq_rtt(const struct tcp_conn *c, bool una_advanced)
{
	const struct tcp_acking *ak = &c->tl->acking;
	usec_t now = c->tl->core->now, sent;
	if ((ak->flags & TCP_ACKF_CUM_SENT) && !(ak->flags & TCP_ACKF_RETRANS_ACKED))
		sent = ak->cum_first;
	else if (ak->flags & TCP_ACKF_SACK_SENT)
		sent = ak->sack_first;
	else
		return una_advanced ? ak->rtt_fallback : -1;
	usec_t rtt = now > sent ? now - sent : 0;
	return rtt < INT32_MAX ? (int32_t)rtt : INT32_MAX;
}

/*
 * 6.2 step 4: the reordering window. Zero while no reordering was seen and either
 * recovery is under way or DupThresh segments' worth is SACKed (3, or the reordering
 * degree seen: then RACK acts as fast as RFC 6675 would); otherwise min_RTT/4 per step,
 * never above SRTT.
 */
uint32_t tcp_rack_reo_wnd(const struct tcp_conn *c)
{
	const struct tcp_recov *rv = &c->rec;
	if (!rv->reord_seen && !rv->reord_assumed) {
		if (rv->ca_state >= TCP_REC_RECOVERY)
			return 0;
		uint32_t dupthresh = rv->reordering ? rv->reordering : TCP_REORDERING_INIT;
		if (c->sb.sacked >= dupthresh * c->mss && !(c->tl->cfg.recovery & TCP_RECOVERY_NO_DUPTHRESH))
			return 0;
	}
	/* No minimum yet counts as infinite, as Linux's min_rtt filter starts at ~0U: the
	 * window is then SRTT. */
	uint32_t min_rtt = tcp_rtt_min_us(&c->rtt);
	uint64_t w = min_rtt ? (uint64_t)min_rtt / 4u * (rv->reo_wnd_steps ? rv->reo_wnd_steps : 1u) : UINT64_MAX;
	if (w > c->rtt.srtt_us)
		w = c->rtt.srtt_us;
	return (uint32_t)w;
}

/*
 * 6.2 step 5 (RACK_detect_loss): every record sent before RACK's reference and not
 * delivered, whose time (sent + RACK.rtt + reo_wnd) has passed, is lost; a resent one
 * whose resend is that old has lost its retransmission too. Records are in sequence order
 * and originals were sent in that order, so the walk stops at the first original sent
 * after the reference. Returns the microseconds until the next record would be judged lost
 * (the reordering timer), 0 if none waits.
 */
uint32_t tcp_rack_detect_loss(struct tcp_conn *c)
{
	struct tcp_recov *rv = &c->rec;
	struct tcp_acking *ak = &c->tl->acking;
	struct tcp_sb *sb = &c->sb;
	usec_t now = c->tl->core->now;
	uint32_t timeout = 0;
	if (!rv->rack_valid)
		return 0;
	uint64_t wait = (uint64_t)rv->rack_rtt_us + tcp_rack_reo_wnd(c);
	for (uint32_t i = 0; i < sb->n; i++) {
		struct tcp_txseg *r = tcp_sb_get(sb, i);
		if (r->marks & TCP_TX_SACKED)
			continue;
		if (rack_sent_after(rv, r)) {
			if (r->xmits == 1)
				break;
			continue;
		}
		if ((r->marks & (TCP_TX_LOST | TCP_TX_RETRANS)) == TCP_TX_LOST)
			continue; /* lost already, waiting for its resend */
		if (r->marks & TCP_TX_RACK_JUDGED)
			continue; /* found lost once, then shown late by an undo: the RTO's, now */
		uint64_t due = r->sent + wait;
		if (due <= now) {
			if (r->marks & TCP_TX_RETRANS)
				c->tl->ctr.LostRetransmits++;
			tcp_sb_mark(sb, r, TCP_TX_RETRANS, false);
			tcp_sb_mark(sb, r, TCP_TX_LOST, true);
			r->marks |= TCP_TX_RACK_JUDGED;
			ak->newly_lost = true;
			c->tl->ctr.RackLost++;
		} else if (due - now > timeout) {
			timeout = (uint32_t)(due - now);
		}
	}
	return timeout;
}

/*
 * 6.2 step 4, Linux tcp_rack_update_reo_wnd: once per ACK that delivered something, after
 * its SACK blocks and its cumulative ACK, a D-SACK seen since the reordering window last
 * grew widens it by one step (min_RTT / 4) - but only once a segment sent after that growth
 * has been delivered: a round trip, counted by what the path delivers (early segments
 * too), not by SND.UNA, which reordering holds back. A D-SACK from before that is dropped.
 * The widened window lasts 16 recoveries (reo_wnd_persist); when they are used up, it is
 * one step again. Steps start at one; 0 stands for it.
 */
static void tcp_rack_update_reo_wnd(struct tcp_conn *c, uint32_t delivered)
{
	struct tcp_recov *rv = &c->rec;
	struct tcp_acking *ak = &c->tl->acking;
	if ((c->tl->cfg.recovery & TCP_RECOVERY_STATIC_REO) || !delivered || !ak->newest_valid)
		return;
	if (rv->reo_grown && (int32_t)(ak->newest_order - rv->reo_grown_order) <= 0)
		rv->dsack_seen = false;
	if (rv->dsack_seen) {
		uint32_t steps = rv->reo_wnd_steps ? rv->reo_wnd_steps : 1u;
		rv->reo_wnd_steps = (uint8_t)(steps < 255 ? steps + 1 : 255);
		rv->reo_wnd_persist = TCP_RACK_RECOVERY_THRESH;
		rv->reo_grown_order = c->sb.xmit_order;
		rv->reo_grown = true;
		rv->dsack_seen = false;
	} else if (!rv->reo_wnd_persist) {
		rv->reo_wnd_steps = 1;
	}
}

/* ---- undo (RFC 3708, RFC 3522, RFC 5682) ---- */

static void tcp_rec_arm_undo(struct tcp_conn *c)
{
	struct tcp_recov *rv = &c->rec;
	rv->undo_armed = true;
	rv->undo_cwnd = c->cwnd;
	rv->undo_ssthresh = tcp_cc_current_ssthresh(c);
	rv->undo_retrans = 0;
	rv->undo_rexmits = 0;
	rv->undo_tsval = 0;
	rv->undo_una = c->snd.una;
}

/* A retransmission of this episode went out (counted for D-SACK undo; the first one's
 * TSval is Eifel's reference). */
void tcp_rec_on_retransmit(struct tcp_conn *c)
{
	struct tcp_recov *rv = &c->rec;
	if (!rv->undo_armed)
		return;
	rv->undo_retrans++;
	rv->undo_rexmits++;
	if (!rv->undo_tsval && c->ts_ok)
		rv->undo_tsval = tcp_now_ts(c->tl, c->ts_offset);
}

/* Linux tcp_packet_delayed: what the ACK acknowledges reached the peer as the original,
 * not as our retransmission - nothing of this episode was resent yet, or (Eifel, RFC 3522)
 * the ACK echoes a timestamp from before our first retransmission. */
static bool tcp_rec_packet_delayed(const struct tcp_conn *c)
{
	const struct tcp_recov *rv = &c->rec;
	struct tcp_acking *ak = &c->tl->acking;
	if (!rv->undo_rexmits)
		return true;
	return c->ts_ok && rv->undo_tsval && ak->ecr && seq_lt(ak->ecr, rv->undo_tsval);
}

/* Linux tcp_may_undo: every retransmission of the episode was reported as a duplicate
 * (D-SACK), or the originals were only delayed. */
static bool tcp_rec_may_undo(const struct tcp_conn *c)
{
	const struct tcp_recov *rv = &c->rec;
	return rv->undo_armed && ((rv->undo_rexmits && !rv->undo_retrans) || tcp_rec_packet_delayed(c));
}

/* Puts cwnd back as it was before the reduction, and ssthresh where a sender that was not
 * reducing would have kept it: three quarters of the old cwnd if that is more (Linux
 * tcp_undo_cwnd_reduction with prior_ssthresh). Reordering is assumed from now on.
 * `unmark`: the segments judged lost are not (a partial ACK or an RTO shown spurious);
 * after a D-SACK undo or at the end of recovery Linux keeps the marks, and what is still
 * missing is resent. RACK looks again on this ACK either way. */
static void tcp_rec_undo(struct tcp_conn *c, bool unmark)
{
	struct tcp_recov *rv = &c->rec;
	c->cwnd = tcp_rec_undo_cwnd(c);
	if (rv->undo_ssthresh > tcp_cc_ssthresh(c))
		tcp_cc_set_ssthresh(c, rv->undo_ssthresh);
	if (unmark)
		tcp_sb_clear_lost(c);
	rv->rack_advanced = true;
	rv->undo_armed = false;
	rv->reord_assumed = true; /* RACK's window from now on, as if reordering was seen */
	rv->frto = false;
	/* Linux tcp_try_keep_open: DISORDER while anything is SACKed, lost or resent. */
	rv->ca_state = c->sb.sacked || c->sb.lost || c->sb.retrans ? TCP_REC_DISORDER : TCP_REC_OPEN;
	c->retries = 0;
	c->backoff = 0;
}

/* RFC 2883 / 3708: a D-SACK reports a duplicate; if it is one of our retransmissions of
 * this episode, that retransmission was not needed. When none is left, undo. */
static void tcp_rec_dsack(struct tcp_conn *c, const struct tcp_sack_block *d, uint32_t prior_una)
{
	struct tcp_recov *rv = &c->rec;
	struct tcp_acking *ak = &c->tl->acking;
	rv->dsack_seen = true; /* the reordering window may grow (tcp_rack_update_reo_wnd) */
	if (rv->tlp_high_seq && rv->tlp_retrans && seq_geq(d->start, rv->tlp_start) && seq_leq(d->end, rv->tlp_high_seq))
		ak->flags |= TCP_ACKF_DSACK_TLP;
	if (!rv->undo_armed || !rv->undo_retrans)
		return;
	bool ours = seq_leq(d->end, prior_una) ? seq_gt(d->end, rv->undo_una) : tcp_sb_dsack_retransmitted(c, d);
	if (!ours) {
		c->tl->ctr.DsackIgnoredNoUndo++;
		return;
	}
	uint32_t segs = tcp_dsack_segs(c, d);
	rv->undo_retrans = segs >= rv->undo_retrans ? 0 : rv->undo_retrans - segs;
	if (rv->undo_retrans == 0 && rv->undo_rexmits) {
		c->tl->ctr.DsackUndo++;
		/* Linux tcp_try_undo_dsack: a recovery shown spurious does not use up the
		 * widened window. */
		if (rv->reo_wnd_persist < TCP_RACK_RECOVERY_THRESH)
			rv->reo_wnd_persist++;
		tcp_rec_undo(c, false);
	}
}

/* ---- PRR (RFC 6937 3) ---- */

static void tcp_prr_init(struct tcp_conn *c)
{
	c->rec.prr_recover_fs = c->cwnd; /* Linux's prior_cwnd stands for RecoverFS */
	c->rec.prr_delivered = 0;
	c->rec.prr_out = 0;
}

/* Bytes to packets, a short segment counting as one (Linux counts packets). */
static uint32_t tcp_pkts(const struct tcp_conn *c, uint64_t bytes)
{
	return (uint32_t)((bytes + c->mss - 1) / c->mss);
}

/*
 * RFC 6937 3 as Linux's tcp_cwnd_reduction computes it, in packets: while pipe is above
 * ssthresh, the proportional part, sndcnt = ceil(prr_delivered * ssthresh / RecoverFS) -
 * prr_out; at or below it, the slow start reduction bound, max(prr_delivered - prr_out,
 * DeliveredData) plus one more when the ACK moved SND.UNA and found no new loss, at most up
 * to ssthresh. The first ACK of recovery always lets the fast retransmission out. Returns
 * how many packets may be sent now. `ssrb_bonus`: the ACK advanced SND.UNA without a new
 * loss.
 */
uint32_t tcp_prr_sndcnt(const struct tcp_conn *c, uint32_t delivered, bool ssrb_bonus)
{
	const struct tcp_recov *rv = &c->rec;
	int64_t pipe = tcp_pkts(c, tcp_sb_pipe(c));
	int64_t ssthresh = c->ssthresh / c->mss;
	int64_t out = tcp_pkts(c, rv->prr_out);
	int64_t dlv = tcp_pkts(c, rv->prr_delivered);
	int64_t sndcnt;
	if (ssthresh - pipe < 0) {
		int64_t fs = tcp_pkts(c, rv->prr_recover_fs);
		if (fs == 0)
			fs = 1;
		sndcnt = (ssthresh * dlv + fs - 1) / fs - out;
	} else {
		int64_t newly = tcp_pkts(c, delivered);
		sndcnt = dlv - out > newly ? dlv - out : newly;
		if (ssrb_bonus)
			sndcnt++;
		if (sndcnt > ssthresh - pipe)
			sndcnt = ssthresh - pipe;
	}
	if (sndcnt < (rv->prr_out ? 0 : 1))
		sndcnt = rv->prr_out ? 0 : 1; /* the fast retransmission itself */
	return (uint32_t)sndcnt;
}

/* An ACK in recovery delivered `delivered` bytes: cwnd = pipe + sndcnt packets. Linux
 * leaves cwnd alone on an ACK that delivered nothing. */
static void tcp_prr_ack(struct tcp_conn *c, uint32_t delivered, bool ssrb_bonus)
{
	if (!delivered)
		return;
	c->rec.prr_delivered += delivered;
	c->cwnd = tcp_sb_pipe(c) + tcp_prr_sndcnt(c, delivered, ssrb_bonus) * c->mss;
}

/* tcp_output sent `len` bytes (new or resent) while cwnd is being reduced. */
void tcp_rec_on_send(struct tcp_conn *c, uint32_t len)
{
	if (c->rec.ca_state == TCP_REC_RECOVERY)
		c->rec.prr_out += len;
}

/* ---- the state machine (Linux tcp_fastretrans_alert, simplified) ---- */

static void tcp_rec_enter_recovery(struct tcp_conn *c)
{
	struct tcp_recov *rv = &c->rec;
	c->tl->ctr.FastRetransmits++;
	c->tl->ctr.SackRecovery++;
	tcp_rec_arm_undo(c);
	tcp_prr_init(c);
	c->ssthresh = tcp_rec_ssthresh(c);
	rv->high_seq = c->snd.max;
	rv->ca_state = TCP_REC_RECOVERY;
	rv->tlp_high_seq = 0;
	c->flags &= ~TCP_F_RTT_TIMING; /* Karn */
}

/* A recovery (or loss) episode ended without an undo: the loss was real, and a window
 * widened by D-SACKs lasts that many fewer (Linux tcp_try_undo_recovery). */
static void tcp_rec_episode_done(struct tcp_recov *rv)
{
	if (rv->reo_wnd_persist)
		rv->reo_wnd_persist--;
}

/* RFC 6675 5.1 / Linux tcp_enter_loss: an RTO. Every record not SACKed is lost and is
 * resent in slow start from cwnd = 1 segment; F-RTO (RFC 5682, SACK-enhanced, Linux's
 * tcp_frto = 2) judges whether the timeout was spurious. */
void tcp_rec_enter_loss(struct tcp_conn *c)
{
	struct tcp_recov *rv = &c->rec;
	/* As Linux: ssthresh is cut (and undo armed) unless a reduction of this episode
	 * already did it - fast recovery, or an earlier RTO whose loss is not repaired. */
	if (rv->ca_state <= TCP_REC_DISORDER || !seq_gt(rv->high_seq, c->snd.una)) {
		tcp_rec_arm_undo(c);
		c->ssthresh = tcp_rec_ssthresh(c);
	}
	rv->frto = c->tl->cfg.frto && (rv->ca_state < TCP_REC_RECOVERY || c->retries > 1);
	c->cwnd = c->mss;
	tcp_cc_on_rto(c); /* the algorithm starts over (CUBIC forgets its curve) */
	tcp_sb_mark_all_lost(c);
	rv->high_seq = c->snd.max;
	rv->ca_state = TCP_REC_LOSS;
	rv->tlp_high_seq = 0;
	rv->frto_new = false;
	rv->rexmit_hold = false;
}

/* The ACK ended the LOSS state's judgement (F-RTO, RFC 5682 3.1 SACK-enhanced). */
static void tcp_rec_loss_ack(struct tcp_conn *c, bool una_advanced, bool sacked_new)
{
	struct tcp_recov *rv = &c->rec;
	struct tcp_acking *ak = &c->tl->acking;
	if ((ak->flags & TCP_ACKF_ORIG_DELIVERED) && (rv->frto || tcp_rec_packet_delayed(c))) {
		/* Step 3b: data never resent was delivered, so not all was lost. Or Eifel. */
		c->tl->ctr.SpuriousRtos++;
		c->tl->ctr.LossUndo++;
		tcp_rec_undo(c, true);
		return;
	}
	if (tcp_rec_packet_delayed(c) && una_advanced) {
		c->tl->ctr.LossUndo++;
		tcp_rec_undo(c, true);
		return;
	}
	if (!rv->frto)
		return;
	if (seq_gt(c->snd.nxt, rv->high_seq)) {
		if (sacked_new)
			rv->frto = false; /* step 3a: the loss was real */
	} else if (una_advanced) {
		/* Step 2b: send new data, not more retransmissions, and see what the next ACK
		 * acknowledges. */
		rv->high_seq = c->snd.max;
		uint32_t off = c->snd.nxt - c->snd.una;
		bool more = c->sndq.len > off && seq_gt(c->snd.una + c->snd.wnd, c->snd.nxt);
		if (more)
			rv->frto_new = true;
		else
			rv->frto = false;
	}
}

/* RFC 8985 7.4: what the ACK says about an outstanding tail loss probe. */
static void tcp_tlp_ack(struct tcp_conn *c, uint32_t ack, bool una_advanced, bool sacked_new)
{
	struct tcp_recov *rv = &c->rec;
	struct tcp_acking *ak = &c->tl->acking;
	if (!rv->tlp_high_seq || seq_lt(ack, rv->tlp_high_seq))
		return;
	if (!rv->tlp_retrans || (ak->flags & TCP_ACKF_DSACK_TLP)) {
		rv->tlp_high_seq = 0;
	} else if (seq_gt(ack, rv->tlp_high_seq)) {
		/* The probe repaired a loss: a congestion response, ending at once (CWR). */
		c->tl->ctr.LossProbeRecovery++;
		c->ssthresh = tcp_rec_ssthresh(c);
		c->cwnd = c->ssthresh;
		rv->tlp_high_seq = 0;
	} else if (!una_advanced && !sacked_new) {
		rv->tlp_high_seq = 0; /* a pure duplicate: both the original and the probe arrived */
	}
}

/*
 * Linux tcp_try_undo_partial: in recovery, an ACK that moves SND.UNA short of the recovery
 * point and acknowledges an original that was only delayed (tcp_rec_packet_delayed) shows
 * that the path reorders at least that far. While retransmissions of the episode are
 * still in flight the reduction stays, but nothing more is marked lost or resent on this
 * ACK: the segments after the late one are most likely late too, and PRR keeps clocking
 * out new data. Once none is in flight, the reduction is undone. Returns true when the ACK
 * holds (no loss detection, no resend until the next ACK).
 */
static bool tcp_rec_try_undo_partial(struct tcp_conn *c, uint32_t ack, uint32_t prior_una, bool una_advanced)
{
	struct tcp_recov *rv = &c->rec;
	if (rv->ca_state != TCP_REC_RECOVERY || !una_advanced || !seq_lt(ack, rv->high_seq) || !rv->undo_armed ||
	    !tcp_rec_packet_delayed(c))
		return false;
	/* Linux tcp_check_sack_reordering(prior_snd_una): the hole at the old SND.UNA was
	 * filled late, below the highest sequence delivered. */
	if (rv->fack_valid && seq_lt(prior_una, rv->fack))
		tcp_rec_reordered(c, rv->fack - prior_una);
	if (c->sb.retrans)
		return true;
	c->tl->ctr.PartialUndo++;
	tcp_rec_undo(c, true);
	return false;
}

/* The state machine's step for one ACK (Linux tcp_fastretrans_alert, simplified).
 * Returns whether cwnd may grow on this ACK. */
static bool tcp_rec_state_ack(struct tcp_conn *c, uint32_t ack, bool una_advanced, bool sacked_new,
                              uint32_t delivered)
{
	struct tcp_layer *tl = c->tl;
	struct tcp_recov *rv = &c->rec;
	const struct tcp_acking *ak = &tl->acking;
	switch (rv->ca_state) {
	case TCP_REC_OPEN:
	case TCP_REC_DISORDER:
	case TCP_REC_CWR:
		if (c->sb.lost) {
			tcp_rec_enter_recovery(c);
			break;
		}
		rv->ca_state = c->sb.sacked ? TCP_REC_DISORDER : TCP_REC_OPEN;
		break;
	case TCP_REC_RECOVERY:
		if (seq_geq(ack, rv->high_seq)) {
			/* Full ACK (RFC 6675 5 / RFC 6937): recovery ends at ssthresh, unless
			 * D-SACKs or Eifel show the retransmissions were not needed (Linux
			 * tcp_try_undo_recovery). */
			if (tcp_rec_may_undo(c)) {
				tl->ctr.FullUndo++;
				tcp_rec_undo(c, false);
				return true;
			}
			c->cwnd = c->ssthresh;
			rv->ca_state = c->sb.sacked ? TCP_REC_DISORDER : TCP_REC_OPEN;
			tcp_rec_episode_done(rv);
			return false;
		}
		break;
	case TCP_REC_LOSS:
		tcp_rec_loss_ack(c, una_advanced, sacked_new);
		if (rv->ca_state == TCP_REC_LOSS && seq_geq(ack, rv->high_seq) && !rv->frto_new) {
			rv->ca_state = c->sb.sacked ? TCP_REC_DISORDER : TCP_REC_OPEN;
			rv->frto = false;
			tcp_rec_episode_done(rv);
		}
		return rv->ca_state != TCP_REC_RECOVERY;
	}
	if (rv->ca_state == TCP_REC_RECOVERY) {
		tcp_prr_ack(c, delivered, una_advanced && !ak->newly_lost);
		return false;
	}
	return true;
}

/*
 * Everything an ACK means for recovery (RFC 8985 6.2 and 7.4, RFC 6675 5, RFC 6937,
 * undo), after tcp_ack() moved SND.UNA from prior_una. Returns whether cwnd may grow on
 * this ACK (not while it is being reduced), by tl->acking.delivered bytes.
 */
bool tcp_rec_ack(struct tcp_conn *c, const struct tcp_seg *seg, uint32_t prior_una)
{
	struct tcp_layer *tl = c->tl;
	struct tcp_recov *rv = &c->rec;
	struct tcp_acking *ak = &c->tl->acking;
	const struct tcp_opts *o = &seg->h.opts;
	uint32_t ack = c->snd.una;
	bool una_advanced = seq_gt(ack, prior_una);

	ak->flags = 0;
	ak->newly_lost = false;
	rv->rexmit_hold = false;
	rv->frto_new = false;
	ak->ecr = o->has_ts ? o->ts_ecr : 0;
	ak->prior_fack = rv->fack;
	ak->fack_valid = rv->fack_valid;
	ak->newest_valid = false;

	/* SACK blocks first, while the records they name are still on the board (Linux
	 * tags before it cleans the retransmission queue), then the cumulative ACK. */
	if (o->sack_malformed)
		tl->ctr.SackDiscardMalformed++;
	struct tcp_sack_block blk[TCP_SACK_MAX_BLOCKS], d;
	bool has_dsack = false;
	uint32_t nblk = 0, sacked_new = 0, delivered = 0, dup = 0;
	if (o->sack_count) {
		nblk = tcp_sb_check_blocks(c, o, seg->ack, blk, &d, &has_dsack);
		sacked_new = tcp_sb_tag(c, blk, nblk, tcp_rack_delivered);
		tcp_rec_reord_check(c);
		delivered = sacked_new;
		if (has_dsack) {
			tcp_rec_dsack(c, &d, prior_una);
			/* Linux tcp_dsack_seen: "a spurious retransmission is delivered": the
			 * segments a D-SACK reports count toward what this ACK delivered, for PRR
			 * and for cwnd's growth, though not as forward progress (below). */
			dup = tcp_dsack_segs(c, &d);
			c->delivered_pkts += dup; /* tcpi_delivered counts them too */
			dup *= c->mss;
		}
	}
	ak->flags |= TCP_ACKF_CUM;
	delivered += tcp_sb_cum_ack(c, ack, tcp_rack_delivered);
	tcp_rec_reord_check(c);
	tcp_rack_update_reo_wnd(c, delivered);
	/* One sample per ACK for the min-RTT filter, before RACK reads it (Linux updates
	 * min_rtt in tcp_ack_update_rtt, before tcp_fastretrans_alert); a zero - delivered in
	 * the clock tick of its send - is refused there. */
	int32_t seq_rtt = tcp_rec_seq_rtt(c, una_advanced);
	ak->rtt_fallback = -1; /* this ACK's; the next sets its own */
	if (seq_rtt >= 0)
		tcp_rtt_sample(c, (uint32_t)seq_rtt, ack);
	ak->ca_rtt_us = tcp_rec_ca_rtt(c);
	if (ak->ca_rtt_us >= 0)
		tcp_rtt_min_sample(&c->rtt, (uint32_t)ak->ca_rtt_us, tl->core->now, &tl->cfg);
	tcp_tlp_ack(c, ack, una_advanced, sacked_new != 0);
	rv->rexmit_hold = tcp_rec_try_undo_partial(c, ack, prior_una, una_advanced);

	/* Loss detection: RACK (tcp_recovery = 1, Linux's default) or RFC 6675's IsLost. As
	 * Linux, RACK looks again only when a delivery (or an undo) moved it; in between, its
	 * reordering timer (with Linux's 2 ms of slack) does the waiting. */
	rv->reo_timeout_us = 0;
	if (rv->rexmit_hold) {
		/* tcp_rec_try_undo_partial: not on this ACK. */
	} else if (tl->cfg.recovery & TCP_RECOVERY_RACK) {
		if (rv->rack_advanced) {
			rv->rack_advanced = false;
			rv->reo_timeout_us = tcp_rack_detect_loss(c);
		}
	} else if (sacked_new) {
		/* DupThresh is the reordering seen (Linux tcp_mark_head_lost with tp->reordering). */
		tcp_sb_mark_dupthresh(c, rv->reordering ? rv->reordering : TCP_REORDERING_INIT);
	}

	bool grow = tcp_rec_state_ack(c, ack, una_advanced, sacked_new != 0, delivered + dup);
	/* Linux tcp_may_raise_cwnd: cwnd grows by what the ACK delivered, on an ACK that moves
	 * SND.UNA - or, on a path seen reordering more than DupThresh, on any that delivers
	 * (SACKed bytes count when they arrive, not when the hole below them fills). A D-SACK
	 * alone is no progress (FLAG_FORWARD_PROGRESS), but on an ACK that makes some, its
	 * duplicates count too (tcp_cong_control's acked_sacked). */
	ak->delivered = delivered + dup;
	if (!(rv->reordering > TCP_REORDERING_INIT ? delivered != 0 : una_advanced))
		grow = false;
	const struct tcp_txseg *head = tcp_sb_get(&c->sb, 0);
	if (una_advanced && head && (head->marks & TCP_TX_SACKED)) {
		/* Linux tcp_check_sack_reneging: the cumulative ACK stopped at a segment the peer
		 * had SACKed, so it threw that data away (RFC 2018 8). The RTO comes soon -
		 * max(SRTT / 16, 10 ms) - and resends it with the marks cleared. */
		usec_t soon = c->rtt.srtt_us / 16u;
		if (soon < 10 * USEC_PER_MS)
			soon = 10 * USEC_PER_MS;
		tcp_rec_arm_as(c, 0, tl->core->now + soon);
		return grow;
	}
	/* RFC 6298 5.2/5.3 and RFC 8985 6.3/7.2: the timer restarts on an ACK that delivered
	 * something (a bare duplicate must not push the RTO away). A reordering timer RACK did
	 * not look at again stays - unless SND.UNA moved: then, as Linux's tcp_ack with
	 * FLAG_SET_XMIT_TIMER, the probe or retransmission timer takes its place, and what it
	 * waited for is judged on the next delivery. */
	bool reo_pending = (c->flags & TCP_F_REO) && !(ak->flags & TCP_ACKF_RACK_ADVANCED) && !una_advanced;
	if ((una_advanced || sacked_new || rv->reo_timeout_us) && !reo_pending)
		tcp_rec_arm_timer(c);
	return grow;
}

/*
 * The next segment tcp_output should resend (RFC 6675 NextSeg rule 1: a lost one), or -1.
 * During F-RTO's second step new data goes instead.
 */
int64_t tcp_rec_next_rexmit(struct tcp_conn *c)
{
	if (c->rec.ca_state == TCP_REC_LOSS && c->rec.frto && c->rec.frto_new)
		return -1;
	if (c->rec.rexmit_hold)
		return -1;
	return tcp_sb_next_lost(c);
}

/* ---- the timers: TLP's probe timeout and RACK's reordering timer ---- */

/*
 * RFC 8985 7.2: a probe is worth scheduling with data outstanding, no recovery under way
 * (OPEN or CWR, as Linux), no probe already out, and RACK on.
 */
static bool tcp_tlp_wanted(const struct tcp_conn *c)
{
	const struct tcp_recov *rv = &c->rec;
	return (c->tl->cfg.recovery & TCP_RECOVERY_RACK) && c->tl->cfg.tlp && c->sb.n &&
	       (rv->ca_state == TCP_REC_OPEN || rv->ca_state == TCP_REC_CWR) && !rv->tlp_high_seq &&
	       c->rtt.srtt_us && c->state >= TCPS_ESTABLISHED;
}

/*
 * After an ACK or a send: the reordering timer if RACK is waiting for one (6.3), else the
 * probe timer if a probe is wanted (7.2: PTO = 2 * SRTT, plus the peer's delayed-ACK
 * allowance when a single segment is out, never later than the RTO would fire), else the
 * RTO (RFC 6298 5.3). Nothing when nothing is outstanding.
 */
void tcp_rec_arm_timer(struct tcp_conn *c)
{
	struct tcp_layer *tl = c->tl;
	struct tcp_recov *rv = &c->rec;
	usec_t now = tl->core->now;
	if (c->snd.una == c->snd.max) {
		timer_stop(&c->rtx_timer);
		c->flags &= ~(TCP_F_TLP | TCP_F_REO);
		return;
	}
	if (rv->reo_timeout_us) {
		/* Linux adds TCP_TIMEOUT_MIN (2 ms) so the timer does not fire early. */
		tcp_rec_arm_as(c, TCP_F_REO, now + rv->reo_timeout_us + 2 * USEC_PER_MS);
		return;
	}
	if (!tcp_tlp_wanted(c)) {
		tcp_rearm_rtx(c);
		return;
	}
	usec_t pto = 2ull * c->rtt.srtt_us;
	if (c->snd.max - c->snd.una <= c->mss)
		pto += (usec_t)tl->cfg.rto_min_ms * USEC_PER_MS; /* RFC 8985 7.2: WCDelAckT */
	else
		pto += 2 * USEC_PER_MS;                          /* Linux TCP_TIMEOUT_MIN */
	/* Never past the RTO of the oldest outstanding segment. */
	usec_t rto_at = tcp_sb_get(&c->sb, 0)->sent + c->rtt.rto_us;
	usec_t when = now + pto;
	if (when > rto_at)
		when = rto_at > now ? rto_at : now + 1;
	tcp_rec_arm_as(c, TCP_F_TLP, when);
}

/* RACK's reordering timer expired (6.3): judge again; send what became lost. */
void tcp_rack_reo_fire(struct tcp_conn *c)
{
	struct tcp_recov *rv = &c->rec;
	c->flags &= ~TCP_F_REO;
	rv->rexmit_hold = false;
	uint32_t lost_before = c->sb.lost;
	rv->reo_timeout_us = tcp_rack_detect_loss(c);
	/* Linux tcp_rack_reo_timeout: only when the timer marked something lost. Entering
	 * recovery, PRR gets one packet's worth, as an ACK would give; already in recovery,
	 * the new losses are resent within the window as it is (nothing was delivered). */
	if (c->sb.lost != lost_before) {
		if (rv->ca_state < TCP_REC_RECOVERY) {
			tcp_rec_enter_recovery(c);
			tcp_prr_ack(c, c->mss, false);
		}
		tcp_output(c);
	}
	tcp_rec_arm_timer(c);
}

/*
 * The probe timer expired (7.3): send one new segment if the windows allow, else resend
 * the last one; then the RTO runs. The ACK it draws lets RACK find a tail loss.
 */
void tcp_tlp_fire(struct tcp_conn *c)
{
	struct tcp_layer *tl = c->tl;
	struct tcp_recov *rv = &c->rec;
	c->flags &= ~TCP_F_TLP;
	if (!c->sb.n)
		return; /* nothing outstanding (raced with an ACK) */
	uint32_t mss = tcp_mss_now(c);
	uint32_t off = c->snd.nxt - c->snd.una;
	uint32_t left = c->sndq.len > off ? c->sndq.len - off : 0;
	uint32_t wnd_room = seq_gt(c->snd.una + c->snd.wnd, c->snd.nxt) ? c->snd.una + c->snd.wnd - c->snd.nxt : 0;
	tl->ctr.LossProbes++;
	rv->tlp_start = c->snd.max;
	if (left && (left <= wnd_room || mss <= wnd_room)) {
		/* New data: cwnd is one segment larger for the probe (Linux tcp_send_loss_probe). */
		uint32_t cwnd = c->cwnd;
		c->cwnd = tcp_sb_pipe(c) + mss;
		c->flags |= TCP_F_PUSH_ONCE | TCP_F_PROBING;
		tcp_output(c);
		c->flags &= ~TCP_F_PROBING;
		c->cwnd = cwnd;
		rv->tlp_retrans = false;
	} else {
		struct tcp_sb *sb = &c->sb;
		uint32_t i = sb->n - 1;
		struct tcp_txseg *r = tcp_sb_get(sb, i);
		if (r->marks & TCP_TX_SACKED) {
			tcp_rearm_rtx(c);
			return;
		}
		rv->tlp_start = r->seq;
		tcp_rec_resend(c, i, 1);
		rv->tlp_retrans = true;
	}
	rv->tlp_high_seq = c->snd.max;
	tcp_rearm_rtx(c);
}
