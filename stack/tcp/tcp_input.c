/*
 * tcp_input.c - RFC 9293 3.10.7 "SEGMENT ARRIVES" for a connection (SYN-SENT and the
 * synchronized states). The LISTEN and SYN-queue cases are in tcp_listen.c, TIME-WAIT
 * entries in tcp_timewait.c, the CLOSED case in tcp.c.
 *
 * tcp_conn_input() reads like the RFC: one small function per step, in the RFC's order,
 * each returning TCP_IN_CONT to go on, TCP_IN_STOP to stop (the segment is done with) or
 * TCP_IN_GONE when the connection no longer exists. Steps decide and set flags
 * (TCP_F_ACK_NOW, timers); one tcp_output() at the end transmits what is owed
 * (CONTRIBUTING.md rule 6).
 *
 * Ownership: the caller (tcp.c) hands over seg->pb; it is freed here unless the
 * out-of-order queue keeps it (then seg->pb is set to NULL).
 */
#include "tcp/tcp_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

enum { TCP_IN_CONT, TCP_IN_STOP, TCP_IN_GONE };

static uint16_t tcp_mss_clamp(uint32_t v)
{
	return (uint16_t)(v < TCP_MSS_MIN ? TCP_MSS_MIN : v);
}

/* The send MSS (RFC 9293 3.7.1, RFC 6691): the peer's MSS, our own limit and TCP_MAXSEG,
 * less the timestamp option every segment will carry (Linux's mss_cache). */
static void tcp_conn_set_mss(struct tcp_conn *c)
{
	uint32_t m = c->peer_mss;
	if (tcp_adv_mss(c->tl) < m)
		m = tcp_adv_mss(c->tl);
	if (tcp_pmtu_mss(c) < m)
		m = tcp_pmtu_mss(c);   /* RFC 1191: a path MTU learned from ICMP (tcp_icmp.c) */
	if (c->opts.user_mss && c->opts.user_mss < m)
		m = c->opts.user_mss;
	if (c->ts_ok)
		m -= 12;
	c->mss = tcp_mss_clamp(m);
	c->rcv_mss = c->adv_mss < TCP_MSS_DEFAULT ? c->adv_mss : TCP_MSS_DEFAULT;
	tcp_cc_init(c); /* the initial window, the algorithm's state from here (Linux tcp_init_transfer) */
}

void tcp_conn_apply_syn_opts(struct tcp_conn *c, const struct tcp_opts *o)
{
	const struct tcp_config *cfg = &c->tl->cfg;
	c->peer_mss = o->has_mss ? tcp_mss_clamp(o->mss) : TCP_MSS_DEFAULT;
	/* RFC 7323 2.2: scaling only when both sides sent the option. */
	c->wscale_ok = o->has_wscale && cfg->window_scaling && c->wscale_ok;
	if (c->wscale_ok) {
		c->snd_wscale = o->wscale > TCP_WSCALE_MAX ? TCP_WSCALE_MAX : o->wscale;
	} else {
		c->snd_wscale = 0;
		c->rcv_wscale = 0;
	}
	c->sack_ok = o->sack_ok && cfg->sack;
	c->ts_ok = o->has_ts && cfg->timestamps;
	if (c->ts_ok) {
		c->ts_recent = o->ts_val;
		c->ts_recent_stamp = c->tl->core->now;
	}
	tcp_conn_set_mss(c);
}

/* RFC 7323 4.3: remember the peer's TSval when the segment covers the last ACK we sent. */
static void tcp_ts_update(struct tcp_conn *c, const struct tcp_seg *seg)
{
	if (c->ts_ok && seg->h.opts.has_ts && seq_leq(seg->seq, c->last_ack_sent) &&
	    seq_diff(seg->h.opts.ts_val, c->ts_recent) >= 0) {
		c->ts_recent = seg->h.opts.ts_val;
		c->ts_recent_stamp = c->tl->core->now;
	}
}

/* ---- 3.10.7.3 SYN-SENT ---- */

static int tcp_synsent_input(struct tcp_conn *c, struct tcp_seg *seg)
{
	struct tcp_layer *tl = c->tl;
	bool ack_ok = false;

	/* First: check the ACK bit. */
	if (seg->flags & TCP_FLAG_ACK) {
		if (seq_leq(seg->ack, c->snd.iss) || seq_gt(seg->ack, c->snd.max)) {
			if (!(seg->flags & TCP_FLAG_RST))
				tcp_send_rst_for(tl, seg);
			tl->ctr.drop_synsent++;
			return TCP_IN_STOP;
		}
		ack_ok = seq_leq(c->snd.una, seg->ack) && seq_leq(seg->ack, c->snd.max);
	}
	/* Second: the RST bit. With an acceptable ACK the peer refused us. */
	if (seg->flags & TCP_FLAG_RST) {
		if (ack_ok) {
			tcp_conn_abort(c, ECONNREFUSED);
			return TCP_IN_GONE;
		}
		tl->ctr.drop_synsent++;
		return TCP_IN_STOP;
	}
	/* Fourth: the SYN bit. */
	if (!(seg->flags & TCP_FLAG_SYN)) {
		tl->ctr.drop_synsent++;
		return TCP_IN_STOP;
	}
	c->rcv.irs = seg->seq;
	c->rcv.nxt = seg->seq + 1;
	c->rcv.adv_edge = c->rcv.nxt;
	tcp_conn_apply_syn_opts(c, &seg->h.opts);
	c->flags |= TCP_F_ACK_NOW;
	if (ack_ok) {
		/* Our SYN is acknowledged: ESTABLISHED. RFC 6298 2.x: with a retransmitted SYN
		 * there is no valid sample (Karn), and RTO comes back to its initial value. */
		if (c->retries == 0)
			tcp_rtt_sample(c, (uint32_t)(tl->core->now - c->rtt_start), seg->ack);
		c->retries = 0;
		c->backoff = 0;
		c->snd.una = seg->ack;
		c->snd.wnd = seg->wnd; /* RFC 7323 2.2: never scaled in a SYN */
		c->snd.max_wnd = c->snd.wnd;
		c->snd.wl1 = seg->seq;
		c->snd.wl2 = seg->ack;
		timer_stop(&c->rtx_timer);
		tcp_set_state(c, TCPS_ESTABLISHED);
		if (c->opts.keepalive)
			tcp_arm_keepalive(c);
		return TCP_IN_STOP; /* data in a SYN-ACK is not taken (Linux does the same unless TFO) */
	}
	/* Simultaneous open: SYN-RECEIVED, send SYN,ACK (3.10.7.3 fourth). */
	c->snd.wnd = seg->wnd;
	c->snd.wl1 = seg->seq;
	tcp_set_state(c, TCPS_SYN_RECEIVED);
	return TCP_IN_STOP;
}

/* ---- 3.10.7.4 the synchronized states ---- */

/*
 * "Send an ACK" for an unacceptable segment, but (RFC 5961 10, Linux tcp_oow_rate_limited)
 * at most once per 500 ms for segments without data: two stacks that disagree about the
 * window must not start an ACK war. Segments with data always get their ACK.
 */
static void tcp_ack_unacceptable(struct tcp_conn *c, const struct tcp_seg *seg)
{
	usec_t now = c->tl->core->now;
	if (seg->dlen == 0 && c->last_oow_ack &&
	    now - c->last_oow_ack < (usec_t)TCP_INVALID_RATELIMIT_MS * USEC_PER_MS)
		return;
	if (seg->dlen == 0)
		c->last_oow_ack = now ? now : 1;
	c->flags |= TCP_F_ACK_NOW;
}

/*
 * RFC 2883 4 (Linux tcp_send_dupack): a refused segment that repeats bytes below RCV.NXT
 * is reported in a D-SACK block - that part only: bytes at or above RCV.NXT that were
 * refused (beyond the window, or failing PAWS) are not held here, and a D-SACK of them
 * would tell the sender we have data we threw away. Such a repeat means our ACK was lost
 * or late (the sender timed out): the next ACKs go without delay, as Linux's
 * tcp_enter_quickack_mode there (DelayedACKLost).
 */
static void tcp_dsack_old(struct tcp_conn *c, const struct tcp_seg *seg)
{
	if (seg->dlen && seq_lt(seg->seq, c->rcv.nxt)) {
		tcp_dsack_set(c, seg->seq, seq_lt(seg->seq + seg->dlen, c->rcv.nxt) ? seg->seq + seg->dlen : c->rcv.nxt);
		tcp_enter_quickack(c);
	}
}

/*
 * Linux tcp_disordered_ack: a pure duplicate ACK (the expected sequence number, SND.UNA
 * again) that would not move the window and whose TSval is old by less than about 1.2 RTO
 * is one of the peer's ACKs overtaken by a later one on the way. It changes nothing PAWS
 * guards, and it may carry SACK and D-SACK blocks that loss recovery needs - a D-SACK is
 * reported once - so it passes (its window is ignored). RFC 7323 5.3 would drop it; on a
 * path that reorders ACKs that costs every undo the D-SACK would have made.
 */
static bool tcp_disordered_ack(const struct tcp_conn *c, const struct tcp_seg *seg)
{
	uint32_t nwin = seg->wnd << c->snd_wscale;
	uint32_t replay = (uint32_t)(c->rtt.rto_us * 12u / 10000u); /* TS ticks (ms) in 1.2 RTO */
	return (seg->flags & TCP_FLAG_ACK) && seg->len == 0 && seg->seq == c->rcv.nxt && seg->ack == c->snd.una &&
	       !seq_gt(seg->seq, c->snd.wl1) && !(seg->seq == c->snd.wl1 && (nwin > c->snd.wnd || nwin == 0)) &&
	       seq_diff(c->ts_recent, seg->h.opts.ts_val) <= (int32_t)replay;
}

/* RFC 7323 5.3 PAWS: a segment whose TSval is older than TS.Recent is an old duplicate
 * (Linux allows one tick: TCP_PAWS_WINDOW). */
static int tcp_step_paws(struct tcp_conn *c, struct tcp_seg *seg)
{
	if (!c->ts_ok || !seg->h.opts.has_ts || (seg->flags & TCP_FLAG_RST))
		return TCP_IN_CONT;
	if (seq_diff(c->ts_recent, seg->h.opts.ts_val) <= TCP_PAWS_WINDOW)
		return TCP_IN_CONT;
	if (c->state >= TCPS_ESTABLISHED && tcp_disordered_ack(c, seg)) {
		seg->disordered = true;
		c->tl->ctr.PawsDisorderedAck++;
		return TCP_IN_CONT;
	}
	/* 5.5: TS.Recent idle for over 24 days is no longer a valid reference. */
	if (c->tl->core->now - c->ts_recent_stamp > (usec_t)TCP_PAWS_24DAYS_S * USEC_PER_SEC)
		return TCP_IN_CONT;
	c->tl->ctr.drop_paws++;
	tcp_dsack_old(c, seg);
	tcp_ack_unacceptable(c, seg);
	return TCP_IN_STOP;
}

/* First: check sequence number (the four acceptability cases of 3.10.7.4). */
static int tcp_step_seq(struct tcp_conn *c, struct tcp_seg *seg)
{
	uint32_t wnd = seq_gt(c->rcv.adv_edge, c->rcv.nxt) ? c->rcv.adv_edge - c->rcv.nxt : 0;
	bool ok;

	if (seg->len == 0)
		ok = wnd == 0 ? seg->seq == c->rcv.nxt : seq_in_window(seg->seq, c->rcv.nxt, wnd);
	else if (wnd == 0)
		ok = false;
	else
		ok = seq_in_window(seg->seq, c->rcv.nxt, wnd) ||
		     seq_in_window(seg->seq + seg->len - 1, c->rcv.nxt, wnd);
	/* A zero window still takes a segment that starts at RCV.NXT for its ACK and FIN
	 * processing (3.10.7.4: "special allowance ... for valid ACKs, URGs, and RSTs"). */
	if (!ok && seg->seq == c->rcv.nxt)
		ok = true;
	/* Segments that only repeat old bytes but end past RCV.NXT-1 overlap: acceptable. */
	if (!ok && seg->len && seq_lt(seg->seq, c->rcv.nxt) && seq_gt(seg->seq + seg->len, c->rcv.nxt))
		ok = true;
	/* Linux (tcp_sequence): a segment that starts in the window but ends beyond it is taken
	 * whole when nothing waits to be read, and dropped otherwise (LINUX_MIB_BEYOND_WINDOW);
	 * RFC 9293 would trim it to the window. A FIN may stick out by its one sequence number. */
	if (ok && seg->dlen && seq_gt(seg->seq + seg->dlen, c->rcv.nxt + wnd) && c->rcvq.bytes) {
		ok = false;
		c->tl->ctr.BeyondWindow++;
	} else if (!ok && seg->dlen && seq_gt(seg->seq, c->rcv.nxt + wnd)) {
		c->tl->ctr.BeyondWindow++;
	}
	if (ok)
		return TCP_IN_CONT;
	if (!(seg->flags & TCP_FLAG_RST)) {
		tcp_dsack_old(c, seg);
		tcp_ack_unacceptable(c, seg); /* <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK> */
	}
	c->tl->ctr.drop_out_of_window++;
	return TCP_IN_STOP;
}

/* Second: check the RST bit (RFC 5961 3.2: exact match resets, in-window gets a challenge). */
static int tcp_step_rst(struct tcp_conn *c, struct tcp_seg *seg)
{
	if (!(seg->flags & TCP_FLAG_RST))
		return TCP_IN_CONT;
	if (seg->seq != c->rcv.nxt) {
		c->tl->ctr.RstInWindowNotExact++;
		tcp_send_challenge_ack(c);
		return TCP_IN_STOP;
	}
	switch (c->state) {
	case TCPS_SYN_RECEIVED:
		tcp_conn_abort(c, ECONNREFUSED);
		break;
	case TCPS_CLOSE_WAIT:
		tcp_conn_abort(c, EPIPE); /* Linux's tcp_reset */
		break;
	case TCPS_CLOSING:
	case TCPS_LAST_ACK:
		tcp_conn_done(c);
		break;
	default:
		tcp_conn_abort(c, ECONNRESET);
		break;
	}
	return TCP_IN_GONE;
}

/* Fourth: check the SYN bit (RFC 5961 4.2: any SYN here gets a challenge ACK). */
static int tcp_step_syn(struct tcp_conn *c, struct tcp_seg *seg)
{
	if (!(seg->flags & TCP_FLAG_SYN))
		return TCP_IN_CONT;
	c->tl->ctr.SynInSynchronized++;
	tcp_send_challenge_ack(c);
	return TCP_IN_STOP;
}

/* RFC 5681 3.2 step 2 / RFC 6582: three duplicate ACKs start fast retransmit. */
static void tcp_enter_recovery(struct tcp_conn *c)
{
	struct tcp_layer *tl = c->tl;
	tcp_cc_enter_recovery(c); /* ssthresh from the algorithm (tcp_cc.c) */
	c->recover = c->snd.max;
	c->cwnd = c->ssthresh + 3u * c->mss; /* RFC 5681 3.2 step 3: inflated by the three dupacks */
	c->flags |= TCP_F_IN_RECOVERY;
	c->flags &= ~TCP_F_RTT_TIMING; /* Karn */
	tl->ctr.FastRetransmits++;
	tcp_count_retrans(c, 1);
	uint32_t mss = tcp_mss_now(c);
	uint32_t len = c->sndq.len < mss ? c->sndq.len : mss;
	uint8_t fl = TCP_FLAG_ACK;
	if (len == 0 && (c->flags & TCP_F_FIN_SENT))
		fl |= TCP_FLAG_FIN;
	tcp_xmit(c, c->snd.una, fl, len);
	tcp_rearm_rtx(c);
}

/* Fifth: the ACK field, for the states past SYN-RECEIVED. */
static int tcp_ack(struct tcp_conn *c, struct tcp_seg *seg)
{
	struct tcp_layer *tl = c->tl;
	uint32_t ack = seg->ack;

	if (seq_gt(ack, c->snd.max)) {
		/* RFC 9293 3.10.7.4 says "If the ACK acks something not yet sent ... send an ACK,
		 * drop the segment". Linux drops it without the ACK (tcp_ack's
		 * ACK_UNSENT_DATA): two ends that disagree about what was sent would otherwise
		 * answer each other's ACKs forever (docs/tcp.md, "Linux's choice"). */
		tl->ctr.drop_ack_unsent++;
		return TCP_IN_STOP;
	}
	/* RFC 5961 5.2: an ACK older than the largest window is suspicious; as Linux, the
	 * window counts no more than the bytes acknowledged so far, so early in a connection
	 * an ACK below what was ever sent is refused too. */
	uint64_t old_wnd = c->rate.acked < c->snd.max_wnd ? c->rate.acked : c->snd.max_wnd;
	if (seq_lt(ack, c->snd.una - (uint32_t)old_wnd)) {
		tcp_send_challenge_ack(c);
		tl->ctr.drop_old_ack++;
		return TCP_IN_STOP;
	}
	/* Only now is the segment known to be acceptable: an ACK of data never sent (or a
	 * forged, too old one) must not move TS.Recent (Linux tcp_ack updates it only past
	 * these checks), else one bad segment makes PAWS drop the peer's good ones. */
	tcp_ts_update(c, seg);
	uint32_t wnd = seg->wnd << c->snd_wscale;
	uint32_t prior_una = c->snd.una;
	bool rec = tcp_rec_on(c);
	int32_t ca_rtt_us = -1, rtt_us = -1;
	if (seq_gt(ack, c->snd.una)) {
		uint32_t acked = ack - c->snd.una;
		uint32_t data = acked < c->sndq.len ? acked : c->sndq.len;
		if (!rec) /* with SACK the scoreboard counts each segment (tcp_recovery.c) */
			c->delivered_pkts += (acked + c->mss - 1u) / (c->mss ? c->mss : 1u);

		bool grow = false;

		tcp_ring_drop(&c->sndq, data);
		tcp_ring_release_if_empty(&c->sndq);
		tcp_skbq_acked(c, ack); /* the skbs it passed are freed; one it ends in is trimmed */
		/* RTT (RFC 6298 3, RFC 7323 4.1): the echoed timestamp is immune to Karn's
		 * ambiguity; without timestamps, the one timed segment if it was not resent. */
		if (c->ts_ok && seg->h.opts.has_ts && seg->h.opts.ts_ecr) {
			uint32_t ms = tcp_now_ts(tl, c->ts_offset) - seg->h.opts.ts_ecr;
			if (ms < 600000u)
				rtt_us = (int32_t)(ms * 1000u + 1u);
		} else if ((c->flags & TCP_F_RTT_TIMING) && seq_gt(ack, c->rtt_seq)) {
			c->flags &= ~TCP_F_RTT_TIMING;
			uint64_t us = tl->core->now - c->rtt_start;
			rtt_us = us < INT32_MAX ? (int32_t)us : INT32_MAX;
		}
		/* The estimator samples every ACK, as Linux: the age of the oldest data it
		 * acknowledges that was sent once, else the echo's or the timed segment's. With
		 * SACK, tcp_rec_ack takes it from the scoreboard, the echo as its fallback.
		 * Congestion control samples the newest data it acknowledges (Linux's ca_rtt):
		 * here from the RTT object's ring; with SACK, tcp_rec_ack. */
		if (!rec) {
			int32_t seq_rtt;
			ca_rtt_us = tcp_rtt_acked(&c->rtt, &tl->rtt_spares, ack, tl->core->now, &seq_rtt);
			if (seq_rtt < 0)
				seq_rtt = rtt_us;
			if (seq_rtt >= 0)
				tcp_rtt_sample(c, (uint32_t)seq_rtt, ack);
			if (ca_rtt_us >= 0)
				tcp_rtt_min_sample(&c->rtt, (uint32_t)ca_rtt_us, tl->core->now, &tl->cfg);
			else
				ca_rtt_us = rtt_us;
		} else {
			c->tl->acking.rtt_fallback = rtt_us;
		}
		c->retries = 0;
		c->backoff = 0;
		if (rec) {
			/* The scoreboard's recovery decides below, once SND.UNA has moved. */
		} else if (c->flags & TCP_F_IN_RECOVERY) {
			if (seq_geq(ack, c->recover)) {
				/* RFC 6582 3.2 step 3: full ACK, deflate. */
				uint32_t flight = c->snd.max - ack;
				c->cwnd = c->ssthresh < flight + c->mss ? c->ssthresh : flight + c->mss;
				c->flags &= ~TCP_F_IN_RECOVERY;
			} else {
				/* Partial ACK: resend the next hole, deflate by what was acked. */
				c->snd.una = ack;
				if (seq_lt(c->snd.nxt, ack))
					c->snd.nxt = ack;
				c->cwnd = c->cwnd > acked ? c->cwnd - acked : c->mss;
				c->cwnd += c->mss;
				uint32_t len = c->sndq.len < tcp_mss_now(c) ? c->sndq.len : tcp_mss_now(c);
				if (len) {
					tcp_count_retrans(c, 1);
					tcp_xmit(c, ack, TCP_FLAG_ACK, len);
				}
			}
			tcp_cc_on_rtt(c, acked, ca_rtt_us);
		} else {
			grow = true;
		}
		uint32_t dupacks = c->dupacks;
		c->dupacks = 0;
		c->snd.una = ack;
		if (seq_lt(c->snd.nxt, c->snd.una))
			c->snd.nxt = c->snd.una;
		tcp_urg_acked(c);
		if (grow) {
			/* Linux without SACK counts each duplicate ACK's segment as delivered when it
			 * arrives (tcp_add_reno_sack), so the cumulative ACK after them grows cwnd
			 * by the rest only, at least one segment (tcp_remove_reno_sacks). */
			uint32_t cc_acked = acked;
			if (dupacks) {
				uint64_t seen = (uint64_t)dupacks * c->mss;
				cc_acked = acked >= seen + c->mss ? acked - (uint32_t)seen : (acked < c->mss ? acked : c->mss);
			}
			tcp_cc_on_ack(c, cc_acked, ca_rtt_us);
		}
		/* RFC 6298 5.2/5.3: stop the timer when all is acked, else restart it (with
		 * the scoreboard, tcp_rec_ack chooses between RTO, probe and reorder timer). */
		if (!rec) {
			if (c->snd.una == c->snd.max)
				timer_stop(&c->rtx_timer);
			else
				tcp_rearm_rtx(c);
		}
	} else if (!rec && ack == c->snd.una && seg->dlen == 0 && !(seg->flags & (TCP_FLAG_SYN | TCP_FLAG_FIN)) &&
	           wnd == c->snd.wnd && c->snd.max != c->snd.una) {
		/* RFC 5681 2: a duplicate ACK. */
		c->dupacks++;
		/* RFC 3042 limited transmit: the first two duplicate ACKs each let one new
		 * segment out (tcp_output allows cwnd + dupacks * MSS), keeping the ACK clock. */
		if (c->dupacks == 3 && !(c->flags & TCP_F_IN_RECOVERY))
			tcp_enter_recovery(c);
		else if (c->dupacks > 3 && (c->flags & TCP_F_IN_RECOVERY))
			c->cwnd += c->mss; /* RFC 5681 3.2 step 4: inflate */
	}
	if (rec && c->state >= TCPS_ESTABLISHED) {
		/* SACK, RACK-TLP, PRR and undo (tcp_recovery.c); cwnd grows only outside a
		 * reduction (Linux tcp_may_raise_cwnd). */
		bool may_grow = tcp_rec_ack(c, seg, prior_una);
		/* HyStart's samples (pkts_acked), as Linux's tcp_clean_rtx_queue gives them: on
		 * every ACK with an RTT, a duplicate that SACKs new data too - on a path that
		 * reorders, most ACKs of a round are such duplicates, and the ACK-train test
		 * needs them all to see the train. */
		if (seq_gt(ack, prior_una))
			tcp_cc_on_rtt(c, ack - prior_una, c->tl->acking.ca_rtt_us >= 0 ? c->tl->acking.ca_rtt_us : rtt_us);
		else if (c->tl->acking.ca_rtt_us >= 0)
			tcp_cc_on_rtt(c, 0, c->tl->acking.ca_rtt_us);
		if (may_grow)
			tcp_cc_on_delivered(c, c->tl->acking.delivered); /* Linux acked_sacked */
	}
	tcp_rate_ack(c, prior_una);
	/* Send window update (3.10.7.4 fifth, ESTABLISHED). */
	if (!seg->disordered && (seq_lt(c->snd.wl1, seg->seq) || (c->snd.wl1 == seg->seq && seq_leq(c->snd.wl2, ack)))) {
		c->snd.wnd = wnd;
		c->snd.wl1 = seg->seq;
		c->snd.wl2 = ack;
		if (wnd > c->snd.max_wnd)
			c->snd.max_wnd = wnd;
		if (wnd && (c->flags & TCP_F_PERSIST)) {
			timer_stop(&c->rtx_timer);
			c->flags &= ~TCP_F_PERSIST;
			c->retries = 0;
			c->backoff = 0;
		}
	}

	bool fin_acked = tcp_fin_acked(c);
	switch (c->state) {
	case TCPS_FIN_WAIT_1:
		if (fin_acked) {
			tcp_set_state(c, TCPS_FIN_WAIT_2);
			/* Linux tcp_fin_timeout: an orphan does not wait forever for the peer's FIN. */
			if (c->flags & TCP_F_ORPHAN)
				tcp_arm_misc(c, tl->core->now + tcp_fin_timeout_us(c));
		}
		break;
	case TCPS_CLOSING:
		if (fin_acked) {
			tcp_enter_time_wait(c);
			return TCP_IN_GONE;
		}
		break;
	case TCPS_LAST_ACK:
		if (fin_acked) {
			tcp_conn_done(c);
			return TCP_IN_GONE;
		}
		break;
	default:
		break;
	}
	return TCP_IN_CONT;
}

/*
 * Seventh and eighth: the segment text and the FIN. In-order bytes go onto the receive
 * queue, pbuf and all (RFC 9293 3.10.7.4 seventh), the rest into the out-of-order queue with an immediate
 * duplicate ACK (RFC 5681 4.2); ACKs are delayed per RFC 1122 4.2.3.2 after Linux's
 * initial quick-ACK phase. Returns whether the FIN is now in sequence.
 */
static bool tcp_step_text(struct tcp_conn *c, struct tcp_seg *seg)
{
	struct tcp_layer *tl = c->tl;
	uint32_t seq = seg->seq + !!(seg->flags & TCP_FLAG_SYN);
	uint32_t dlen = seg->dlen;
	bool fin = (seg->flags & TCP_FLAG_FIN) != 0;

	if (!(c->state == TCPS_ESTABLISHED || c->state == TCPS_FIN_WAIT_1 || c->state == TCPS_FIN_WAIT_2)) {
		/* CLOSE-WAIT, CLOSING, LAST-ACK: the peer already sent its FIN; ignore text. */
		return false;
	}
	if (dlen == 0) {
		/* A bare FIN is taken even when the queue is over its buffer (Linux breaks a
		 * FIN/ACK loop with stacks that send FINs into a closed window); memory being
		 * short, its ACK goes at once (ICSK_ACK_NOW in tcp_data_queue). */
		if (fin && seq == c->rcv.nxt && tcp_rmem_alloc(c) > tcp_rcvbuf_cap(c))
			c->flags |= TCP_F_ACK_NOW;
		return fin && seq == c->rcv.nxt;
	}
	/* Trim what we already have. */
	if (seq_lt(seq, c->rcv.nxt)) {
		uint32_t skip = c->rcv.nxt - seq;
		tcp_dsack_set(c, seq, skip >= dlen ? seq + dlen : c->rcv.nxt); /* RFC 2883 4.1.x */
		if (skip >= dlen) {
			/* Old data with a new FIN: the FIN's step decides the ACK (Linux takes the
			 * segment as a partial one: its D-SACK is forgotten by tcp_fin, and the
			 * ACK of the FIN is delayed). */
			if (fin && seq + dlen == c->rcv.nxt)
				return true;
			/* A pure retransmission: our ACK was lost or late. Tell the peer again,
			 * without delay from now on (as tcp_dsack_old). */
			c->flags |= TCP_F_ACK_NOW;
			tcp_enter_quickack(c);
			return false;
		}
		dlen -= skip;
		seq = c->rcv.nxt;
		pbuf_pull(seg->pb, skip);
	}
	/* The segment's own MSS: a GRO super-segment's gso_size, else its length (Linux's
	 * tcp_measure_rcv_mss reads the same). */
	uint32_t seg_mss = seg->pb->gso_size ? seg->pb->gso_size : dlen;
	uint32_t truesize = tcp_seg_truesize(dlen);
	/* A closed window takes nothing, not even into an empty queue (Linux tcp_data_queue: a
	 * zero-window probe is dropped). What is taken is the whole segment: tcp_step_seq
	 * refused one that ends beyond the window while data waits. */
	if (!seq_gt(c->rcv.adv_edge, c->rcv.nxt)) {
		c->flags |= TCP_F_ACK_NOW;
		tl->ctr.drop_out_of_window++;
		return false;
	}
	if (seq != c->rcv.nxt) {
		tcp_rwnd_data(c, dlen, seg_mss, truesize, false);
		uint32_t held = tcp_ooo_bytes(c);
		tcp_ooo_insert(c, seg, seq, dlen, fin);
		/* Linux grows the window for a new out-of-order segment when SACK tells the
		 * sender what arrived; without SACK its duplicate ACKs must not open the window. */
		if (tcp_ooo_bytes(c) != held && c->sack_ok)
			tcp_rwnd_data(c, dlen, seg_mss, truesize, true);
		tcp_ack_ooo(c);
		return false;
	}
	/* Linux's charge over the buffer: Linux would collapse the queue (tcp_rwnd_collapse). */
	if (tcp_rwnd_held(c) > tcp_rcvbuf_cap(c))
		tcp_rwnd_collapse(c);
	/* The pbuf itself is queued (tcp_buf.c): recv() copies the payload out of it. */
	pbuf_trim(seg->pb, dlen);
	struct pbuf *pb = seg->pb;
	seg->pb = NULL;
	if (tcp_rcvq_add(c, pb) != 0)
		return false; /* not ACKed, so not lost: the peer retransmits it once memory is back */
	c->rcv.nxt += dlen;
	c->rcv_unacked += dlen;
	tcp_rwnd_data(c, dlen, seg_mss, truesize, true);
	tcp_rcvbuf_data(c, seg, dlen);
	bool fin_now = fin;
	if (tcp_ooo_count(c)) {
		tcp_ooo_drain(c, &fin_now);
		c->flags |= TCP_F_ACK_NOW; /* RFC 5681 4.2: a hole filled is ACKed at once */
	}
	c->last_rcv = tl->core->now;
	tcp_delack_data_recv(c, seg_mss, seg->h.doff, seg->flags);
	tcp_ack_decide(c);
	return fin_now;
}

/* Eighth: the FIN is in sequence (3.10.7.4 eighth). Returns TCP_IN_GONE after TIME-WAIT. */
static int tcp_step_fin(struct tcp_conn *c)
{
	c->rcv.nxt++;
	c->flags |= TCP_F_FIN_RCVD;
	/* Linux tcp_fin -> tcp_sack_reset: the stream has ended, no SACK or D-SACK block
	 * is owed any more (DsackSent counted it already, as Linux's DSACKOLDSENT). */
	c->dsack_pending = false;
	bool fin_acked = tcp_fin_acked(c);
	switch (c->state) {
	case TCPS_SYN_RECEIVED:
	case TCPS_ESTABLISHED:
		/* Linux tcp_fin: the ACK of the FIN is delayed (pingpong mode; ato is 0 if no
		 * data came yet, so then it goes at once), hoping our own FIN can carry it. */
		c->pingpong = true;
		if (!(c->flags & TCP_F_ACK_NOW))
			tcp_arm_delack(c);
		tcp_set_state(c, TCPS_CLOSE_WAIT);
		break;
	case TCPS_FIN_WAIT_1:
		if (!fin_acked) {
			c->flags |= TCP_F_ACK_NOW;
			tcp_set_state(c, TCPS_CLOSING);
			break;
		}
		/* Our FIN is acknowledged too: as FIN-WAIT-2. */
		tcp_send_ack(c);
		tcp_enter_time_wait(c);
		return TCP_IN_GONE;
	case TCPS_FIN_WAIT_2:
		tcp_send_ack(c);
		tcp_enter_time_wait(c);
		return TCP_IN_GONE;
	default:
		c->flags |= TCP_F_ACK_NOW;
		break; /* CLOSE-WAIT, CLOSING, LAST-ACK: remain */
	}
	return TCP_IN_CONT;
}

/* ---- 3.10.7.4 in SYN-RECEIVED (a simultaneous open; a listener's requests are in
 * tcp_listen.c) ---- */

/* Simultaneous open (RFC 9293 figure 8, line 4): the peer's SYN,ACK repeats its SYN and
 * acknowledges ours. Its SYN is old news and is taken off, so the ACK can complete the
 * handshake (Linux tcp_validate_incoming lets exactly this segment pass). */
static void tcp_synrcvd_repeated_syn(struct tcp_conn *c, struct tcp_seg *seg)
{
	if ((seg->flags & TCP_FLAG_SYN) && (seg->flags & TCP_FLAG_ACK) && seg->seq + 1 == c->rcv.nxt &&
	    seg->ack == c->snd.nxt) {
		seg->seq++;
		seg->len--;
		seg->flags &= (uint8_t)~TCP_FLAG_SYN;
	}
}

/* Fifth, SYN-RECEIVED: "If SND.UNA < SEG.ACK =< SND.NXT, then enter ESTABLISHED ...
 * If the segment acknowledgment is not acceptable, form a reset segment". */
static int tcp_synrcvd_ack(struct tcp_conn *c, struct tcp_seg *seg)
{
	struct tcp_layer *tl = c->tl;
	if (!(seq_lt(c->snd.una, seg->ack) && seq_leq(seg->ack, c->snd.max))) {
		tcp_send_rst_for(tl, seg);
		return TCP_IN_STOP;
	}
	c->snd.una = seg->ack;
	c->snd.wnd = seg->wnd << c->snd_wscale;
	c->snd.wl1 = seg->seq;
	c->snd.wl2 = seg->ack;
	timer_stop(&c->rtx_timer);
	c->retries = 0;
	tcp_set_state(c, TCPS_ESTABLISHED);
	return TCP_IN_CONT;
}

static int tcp_conn_segment(struct tcp_conn *c, struct tcp_seg *seg)
{
	struct tcp_layer *tl = c->tl;
	int rc;

	if (c->state == TCPS_SYN_SENT)
		return tcp_synsent_input(c, seg);
	if (c->state == TCPS_SYN_RECEIVED)
		tcp_synrcvd_repeated_syn(c, seg);
	if ((rc = tcp_step_paws(c, seg)) != TCP_IN_CONT)
		return rc;
	if ((rc = tcp_step_seq(c, seg)) != TCP_IN_CONT)
		return rc;
	if ((rc = tcp_step_rst(c, seg)) != TCP_IN_CONT)
		return rc;
	/* Third: security and precedence (RFC 9293 3.10.7.4): not implemented, as in Linux. */
	if ((rc = tcp_step_syn(c, seg)) != TCP_IN_CONT)
		return rc;
	if (!(seg->flags & TCP_FLAG_ACK)) {
		tl->ctr.drop_no_ack++;
		return TCP_IN_STOP;
	}
	/* TS.Recent moves in tcp_ack, once the ACK is known to be acceptable. */
	if (c->state == TCPS_SYN_RECEIVED && (rc = tcp_synrcvd_ack(c, seg)) != TCP_IN_CONT)
		return rc;
	if ((rc = tcp_ack(c, seg)) != TCP_IN_CONT)
		return rc;
	/* Sixth: the URG bit (tcp_urg.c): a new urgent pointer, and the urgent byte kept aside
	 * as it goes by, before the text step queues the segment. */
	tcp_urg_input(c, seg);
	/* A socket that was closed takes no more data (RFC 1122 4.2.2.13: new data after
	 * close is an error): Linux resets (TCPAbortOnData) and answers the segment as it
	 * answers one for no connection (tcp_v4_send_reset: SEQ = SEG.ACK, RST alone). */
	if ((c->flags & TCP_F_ORPHAN) && seg->dlen && seq_gt(seg->seq + seg->dlen, c->rcv.nxt)) {
		tl->ctr.AbortOnData++;
		tcp_send_rst_for(tl, seg);
		tcp_conn_abort(c, ECONNRESET);
		return TCP_IN_GONE;
	}
	if (tcp_step_text(c, seg))
		return tcp_step_fin(c);
	return TCP_IN_CONT;
}

/* One segment for a connection. Takes ownership of seg->pb: freed here unless the
 * out-of-order queue keeps it. */
void tcp_conn_input(struct tcp_conn *c, struct tcp_seg *seg)
{
	/* RFC 7323 2.3: the window field of a non-SYN segment is scaled (done in tcp_ack). */
	if (c->opts.keepalive && c->state >= TCPS_ESTABLISHED)
		c->ka_probes = 0;
	c->last_rcv = c->tl->core->now;
	/* Read before: an orphan may be freed below (an owned connection never is). */
	struct tcp_layer *tl = c->tl;
	uint32_t owner = c->owner;
	int rc = tcp_conn_segment(c, seg);
	pbuf_free(seg->pb);
	seg->pb = NULL;
	if (rc != TCP_IN_GONE)
		tcp_output(c);
	tcp_wake(tl, owner); /* data, an ACK that freed send space, a FIN or a RST */
}

