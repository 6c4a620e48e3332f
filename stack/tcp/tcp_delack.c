/*
 * tcp_delack.c - when received data is ACKed: at once, at the end of the receive batch, or
 * after the delayed-ACK timeout, as Linux decides it (net/ipv4/tcp_input.c
 * tcp_event_data_recv, tcp_measure_rcv_mss, __tcp_ack_snd_check, tcp_incr_quickack;
 * tcp_output.c tcp_send_delayed_ack, tcp_event_data_sent; tcp_timer.c
 * tcp_delack_timer_handler; tcp.c __tcp_cleanup_rbuf). RFC 1122 4.2.3.2 and RFC 5681 4.2
 * are the law (an ACK within 500 ms, at least every second full segment); docs/tcp.md
 * "ACKs" explains it for a student and says where Linux, and so tapstack, reads them
 * loosely.
 *
 * Four pieces of state, each Linux's:
 *
 *   quickack    ACKs still sent without delay: a fresh connection's first data, a segment
 *               after a silence longer than the RTO, a repeated segment start the mode,
 *               with as many ACKs as half the window holds segments (at most 16);
 *   pingpong    the connection is interactive: we sent data within ato of the last data
 *               we received (an answer), or the peer's FIN came. No quick ACKs then: the
 *               answer will carry the ACK;
 *   ato         the delayed-ACK timeout, 40 ms at first, following the gaps between
 *               arriving segments (half the old value plus the gap), doubled each time the
 *               timer had to fire (the peer was waiting for it), never past the RTO;
 *   ack_pushed  a short segment (or a full one with PSH) waits: when the reader empties the
 *               queue, the ACK goes at once rather than at the timer, unless pingpong (one
 *               short segment) - the sender is likely waiting for it.
 *
 * And last_seg_size, with which two equal short segments teach the peer's MSS (rcv_mss).
 *
 * Data beyond a hole is ACKed at once (RFC 5681 4.2), but only the first three duplicate
 * ACKs for one RCV.NXT: after them, the SACKs of further out-of-order segments are merged
 * into one ACK sent after min(1 ms, RTT/20) or at the 44th (Linux's SACK compression,
 * tcp_comp_sack_delay_ns and tcp_comp_sack_nr). A sender needs three duplicates to start
 * recovery by the old rule; after that, one SACK per 1 ms tells it as much as one per
 * segment, and a path that reorders or loses a lot costs the sender a fraction of the ACKs.
 *
 * Called by tcp_input.c (each in-order data segment), tcp_output.c (each data segment
 * sent), tcp_timer.c (the timer), tcp_conn.c (reads) and socket.c (TCP_QUICKACK).
 */
#include "tcp/tcp_int.h"

#define TCP_ATO_HALF_SEC_US 500000u /* Linux HZ / 2: the most a delayed ACK waits otherwise */

static uint32_t tcp_ato_min(const struct tcp_conn *c)
{
	return c->tl->cfg.delack_min_ms * 1000u;
}

void tcp_incr_quickack(struct tcp_conn *c, uint32_t max)
{
	uint32_t mss = c->rcv_mss ? c->rcv_mss : 1;
	uint32_t n = c->rcv.wnd / (2u * mss);
	if (n == 0)
		n = 2;
	if (n > max)
		n = max;
	if (n > c->quickack)
		c->quickack = (uint8_t)n;
}

void tcp_enter_quickack(struct tcp_conn *c)
{
	tcp_incr_quickack(c, TCP_MAX_QUICKACKS);
	c->pingpong = false;
	c->ato_us = tcp_ato_min(c);
}

/* Whether a segment shorter than rcv_mss is a full one of a peer with a smaller MSS: one
 * that could be (at least 536 bytes with its header, or 88 without PSH/FIN/URG) and is as
 * long as the one before it; then its length becomes rcv_mss. */
static bool tcp_delack_short_is_mss(struct tcp_conn *c, uint32_t seg_len, uint32_t hdr_len, uint8_t flags)
{
	uint32_t lss = c->last_seg_size;
	c->last_seg_size = 0;
	uint32_t len = seg_len + hdr_len;
	bool remnant = (flags & (TCP_FLAG_FIN | TCP_FLAG_URG | TCP_FLAG_SYN | TCP_FLAG_PSH)) != 0;
	if (!(len >= TCP_MSS_DEFAULT + TCP_HDR_MIN || (len >= TCP_MSS_MIN + TCP_HDR_MIN && !remnant)))
		return false;
	uint32_t fixed = TCP_HDR_MIN + (c->ts_ok ? TCP_TS_OPT_LEN : 0u);
	len = len > fixed ? len - fixed : 0;
	c->last_seg_size = (uint16_t)(len > UINT16_MAX ? UINT16_MAX : len);
	if (!len || len != lss)
		return false;
	c->rcv_mss = len;
	return true;
}

/*
 * In-order data arrived (Linux tcp_event_data_recv and the part of tcp_measure_rcv_mss that
 * concerns ACKs). `seg_len` is the segment's payload as the peer cut it (a GRO batch's
 * gso_size), `hdr_len` its TCP header, `flags` its TCP flags. Before the first data ato is 0:
 * the first data starts quick-ACK mode. After that ato follows the gap m since the last data:
 * m <= ato_min/2 (a stream): ato/2 + ato_min/2; m < ato: ato/2 + m, at most the RTO;
 * m > RTO (a sender that did not restart its window): quick-ACK mode again.
 */
void tcp_delack_data_recv(struct tcp_conn *c, uint32_t seg_len, uint32_t hdr_len, uint8_t flags)
{
	usec_t now = c->tl->core->now;
	uint32_t ato_min = tcp_ato_min(c);
	uint32_t rto = c->rtt.rto_us;

	if (seg_len >= c->rcv_mss) {
		c->last_seg_size = 0;
		/* A full segment with PSH is likely the end of a write: the sender may wait. */
		if (flags & TCP_FLAG_PSH)
			c->ack_pushed |= TCP_ACK_PUSHED;
	} else if (!tcp_delack_short_is_mss(c, seg_len, hdr_len, flags)) {
		/* Any other short one counts as pushed; two of them, doubly. */
		if (c->ack_pushed & TCP_ACK_PUSHED)
			c->ack_pushed |= TCP_ACK_PUSHED2;
		c->ack_pushed |= TCP_ACK_PUSHED;
	}
	if (c->ato_us == 0) {
		tcp_incr_quickack(c, TCP_MAX_QUICKACKS);
		c->ato_us = ato_min;
	} else {
		usec_t m = now - c->lrcvtime;
		if (m <= ato_min / 2) {
			c->ato_us = c->ato_us / 2 + ato_min / 2;
		} else if (m < c->ato_us) {
			c->ato_us = c->ato_us / 2 + (uint32_t)m;
			if (c->ato_us > rto)
				c->ato_us = rto;
		} else if (m > rto) {
			tcp_incr_quickack(c, TCP_MAX_QUICKACKS);
		}
	}
	c->lrcvtime = now;
}

/* An ACK left with one owed (Linux tcp_dec_quickack_mode): one quick ACK spent, whatever
 * made it go; leaving quick-ACK mode deflates ato. */
void tcp_delack_ack_sent(struct tcp_conn *c)
{
	if (c->quickack && --c->quickack == 0)
		c->ato_us = tcp_ato_min(c);
}

/* We sent data (Linux tcp_event_data_sent): within ato of the last data received, it is an
 * answer, and the connection is interactive. */
void tcp_delack_data_sent(struct tcp_conn *c)
{
	if (c->ato_us && c->tl->core->now - c->lrcvtime < c->ato_us)
		c->pingpong = true;
}

/*
 * The ACK is owed but may wait (Linux tcp_send_delayed_ack): for ato, which is bounded by
 * the smoothed RTT (at least ato_min: the peer would retransmit before a later ACK helps)
 * and by 500 ms, or by delack_max (200 ms) when the connection is interactive or a pushed
 * segment waits; never by more than delack_max. A timer already running keeps its earlier
 * deadline, and one that would fire within a quarter of ato sends the ACK now.
 */
void tcp_arm_delack(struct tcp_conn *c)
{
	usec_t now = c->tl->core->now;
	uint32_t ato = c->ato_us;
	uint32_t ato_min = tcp_ato_min(c), ato_max = c->tl->cfg.delack_max_ms * 1000u;
	if (ato > ato_min) {
		uint32_t max_ato = TCP_ATO_HALF_SEC_US;
		if (c->pingpong || (c->ack_pushed & TCP_ACK_PUSHED))
			max_ato = ato_max;
		if (c->rtt.srtt_us) {
			uint32_t rtt = c->rtt.srtt_us > ato_min ? c->rtt.srtt_us : ato_min;
			if (rtt < max_ato)
				max_ato = rtt;
		}
		if (ato > max_ato)
			ato = max_ato;
	}
	if (ato > ato_max)
		ato = ato_max;
	usec_t deadline = now + ato;
	if ((c->flags & TCP_F_DELACK) && timer_armed(&c->delack_timer)) {
		usec_t old = c->delack_timer.deadline;
		if (old <= now + ato / 4) {
			c->flags |= TCP_F_ACK_NOW;
			return;
		}
		if (old <= deadline)
			return;
	}
	c->flags |= TCP_F_DELACK;
	tcp_timer_arm(c->tl, &c->delack_timer, deadline);
}

/* The timer fired with an ACK owed (Linux tcp_delack_timer_handler): the peer waited for
 * it, so the next wait is longer (ato doubled, at most the RTO) - or, if the connection
 * was taken for interactive, it is not: back to ordinary mode and ato_min. */
void tcp_delack_expired(struct tcp_conn *c)
{
	if (!c->pingpong) {
		uint32_t a = c->ato_us * 2u;
		c->ato_us = a < c->rtt.rto_us ? a : c->rtt.rto_us;
	} else {
		c->pingpong = false;
		c->ato_us = tcp_ato_min(c);
	}
}

/*
 * Out-of-order data was queued (Linux __tcp_ack_snd_check with the out-of-order queue not
 * empty): an ACK at once in quick-ACK mode, without SACK, after more than a segment of
 * in-order data, and for the first three duplicates of each RCV.NXT; otherwise the SACK is
 * held (compressed_ack) and the delayed-ACK timer sends one ACK for all that came within
 * min(comp_sack_delay, RTT / 20), the RTT being the receiver's or the smoothed one, the
 * smaller (0 before either is known: the next timer run). At comp_sack_nr held it goes now.
 */
void tcp_ack_ooo(struct tcp_conn *c)
{
	struct tcp_layer *tl = c->tl;
	uint32_t nr = tl->cfg.comp_sack_nr < 255 ? tl->cfg.comp_sack_nr : 255; /* a u8, as Linux's */
	if ((c->quickack && !c->pingpong) || !c->sack_ok || !tcp_ooo_count(c) || c->rcv_unacked > c->rcv_mss ||
	    c->compressed_ack >= nr) {
		c->flags |= TCP_F_ACK_NOW;
		tl->ctr.DupAcksSent++;
		return;
	}
	if (c->compressed_ack_rcv_nxt != c->rcv.nxt) {
		c->compressed_ack_rcv_nxt = c->rcv.nxt;
		c->dup_ack_counter = 0;
	}
	if (c->dup_ack_counter < TCP_REORDERING_INIT) {
		c->dup_ack_counter++;
		c->flags |= TCP_F_ACK_NOW;
		tl->ctr.DupAcksSent++;
		return;
	}
	if (c->compressed_ack++ && timer_armed(&c->delack_timer))
		return;
	uint32_t rtt = c->rcv_rtt.rtt_us8 >> 3;
	if (c->rtt.srtt_us && c->rtt.srtt_us < rtt)
		rtt = c->rtt.srtt_us;
	uint32_t delay = rtt / 20 < tl->cfg.comp_sack_delay_us ? rtt / 20 : tl->cfg.comp_sack_delay_us;
	usec_t deadline = tl->core->now + delay;
	if ((c->flags & TCP_F_DELACK) && timer_armed(&c->delack_timer) && c->delack_timer.deadline <= deadline)
		return;
	c->flags |= TCP_F_DELACK; /* the ACK-sent path clears it, and the timer with it */
	tcp_timer_arm(tl, &c->delack_timer, deadline);
}

void tcp_sack_compress_flush(struct tcp_conn *c)
{
	if (!c->compressed_ack)
		return;
	c->compressed_ack--; /* the ACK sent now is not one saved */
	tcp_send_ack(c);
}

void tcp_sack_compress_expired(struct tcp_conn *c)
{
	c->compressed_ack--;
	c->flags |= TCP_F_ACK_NOW;
	tcp_output(c);
}

/*
 * When to ACK in-order data (RFC 1122 4.2.3.2, RFC 5681 4.2, as Linux's __tcp_ack_snd_check
 * with GRO). The stack drains the device in batches (ts_stack_poll); a batch plays the part
 * of Linux's GRO super-packet: data that asks for an ACK is ACKed once, at the end of the
 * batch (tcp_flush_acks), for everything the batch brought. Never later than that:
 *   - more than a full segment unacknowledged and a window at least as large as the last
 *     one offered (the right edge moves on): the end of this batch, or at once when the
 *     unacknowledged data reaches half that window or 64 KiB (the largest GRO
 *     super-packet), so the sender is never held by our batch;
 *   - quick-ACK mode (above; TCP_QUICKACK): the end of this batch. Asking for the window
 *     ends that mode when the buffer is more than half full (tcp_rwnd_free), so a segment
 *     that fills the buffer is not ACKed at once: its ACK would offer a smaller window, and
 *     the reader will open it;
 *   - a hole filled or duplicate data: at once (set by the caller); out-of-order data:
 *     tcp_ack_ooo below (the first three duplicates at once, then merged SACKs);
 *   - otherwise the delayed-ACK timer (tcp_arm_delack), also for many segments into a
 *     buffer the reader does not empty.
 * PSH does not change the decision, as in Linux.
 */
void tcp_ack_decide(struct tcp_conn *c)
{
	struct tcp_layer *tl = c->tl;
	if (c->flags & TCP_F_ACK_NOW)
		return;
	if (c->rcv_unacked > c->rcv_mss && tcp_rwnd_free(c) >= c->rcv.wnd) {
		uint32_t stretch_max = c->rcv.wnd / 2 < TCP_STRETCH_ACK_MAX ? c->rcv.wnd / 2 : TCP_STRETCH_ACK_MAX;
		if (c->rcv_unacked >= stretch_max)
			c->flags |= TCP_F_ACK_NOW;
		else
			tcp_ack_at_batch_end(c); /* RFC 1122 4.2.3.2: at least every second full segment */
		return;
	}
	if (c->quickack && !c->pingpong) {
		if (!(c->flags & TCP_F_ACK_BATCH))
			tl->ctr.QuickAcks++;
		tcp_ack_at_batch_end(c);
	} else {
		/* The batch is one GRO packet: what its last segment leaves decides, so an ACK an
		 * earlier one asked for at the batch's end waits for the timer instead. */
		c->flags &= ~TCP_F_ACK_BATCH;
		tcp_arm_delack(c);
	}
}

/*
 * Called when the application read data (Linux __tcp_cleanup_rbuf). An ACK the delayed-ACK
 * timer holds goes now if it covers more than a segment (tcp_ack_decide held it because the
 * buffer was filling and its window would have been smaller, and the reader has just made
 * room: Linux's "once-per-two-segments ACK was not sent by tcp_input.c"), or if the read
 * emptied the queue and a pushed segment waits (two, or one when not interactive).
 * Otherwise, announce the window at once when what is left of the last offer is at most
 * half the clamp and the freed buffer would at least double it; else the next segment
 * carries it (RFC 1122 4.2.3.3 asks for an update only when the window grows by
 * min(buffer/2, MSS)).
 */
void tcp_rcv_window_update(struct tcp_conn *c, uint32_t copied)
{
	if (c->state < TCPS_ESTABLISHED)
		return;
	if (c->flags & TCP_F_DELACK) {
		bool pushed = (c->ack_pushed & TCP_ACK_PUSHED2) || ((c->ack_pushed & TCP_ACK_PUSHED) && !c->pingpong);
		if (c->rcv_unacked > c->rcv_mss || (copied && pushed && c->rcvq.bytes == 0 && tcp_ooo_count(c) == 0)) {
			c->flags |= TCP_F_ACK_NOW;
			tcp_output(c);
			return;
		}
	}
	if (!copied || (c->flags & TCP_F_FIN_RCVD))
		return;
	uint32_t cur = seq_gt(c->rcv.adv_edge, c->rcv.nxt) ? c->rcv.adv_edge - c->rcv.nxt : 0;
	if (2 * cur > c->window_clamp)
		return;
	uint32_t wnd = tcp_rwnd_free(c);
	if (wnd && wnd >= 2 * cur) {
		c->flags |= TCP_F_ACK_NOW;
		tcp_output(c);
	}
}

bool tcp_conn_pingpong(const struct tcp_conn *c)
{
	return c->pingpong;
}

/* TCP_QUICKACK (Linux __tcp_sock_set_quickack): 0 makes the connection interactive; 1 ends
 * that and sends an ACK the timer holds, as a read of a pushed segment would. */
void tcp_conn_set_quickack(struct tcp_conn *c, int val)
{
	if (!val) {
		c->pingpong = true;
		return;
	}
	c->pingpong = false;
	if ((c->state == TCPS_ESTABLISHED || c->state == TCPS_CLOSE_WAIT) && (c->flags & TCP_F_DELACK)) {
		c->ack_pushed |= TCP_ACK_PUSHED;
		tcp_rcv_window_update(c, 1);
		if (!(val & 1))
			c->pingpong = true;
	}
}
