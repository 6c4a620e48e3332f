/*
 * tcp_timer.c - every TCP deadline, each a struct timer in its owner on core->timers:
 *
 *   rtx_timer     RFC 6298 retransmission (data, SYN), exponential backoff, give up with
 *                 ETIMEDOUT after the time that retries2 (15, Linux tcp_retries2) doublings
 *                 from the 200 ms floor take (924.6 s, Linux's retransmits_timed_out);
 *                 or the persist timer
 *                 (RFC 9293 3.8.6.1) sending zero-window probes as Linux does (an ACK with
 *                 SEQ = SND.UNA - 1, which the peer must answer with its window).
 *   delack_timer  RFC 1122 4.2.3.2 delayed ACK (Linux: 40 ms, never above 200 ms).
 *   misc_timer    keepalive (RFC 1122 4.2.3.6) and the orphan FIN-WAIT-2 timeout.
 *   tcp_req       SYN-ACK retransmission at 1 s doubling, synack_retries times.
 *   tw_timer      TIME-WAIT's 2 MSL (60 s, Linux TCP_TIMEWAIT_LEN): one timer of the layer
 *                 for the FIFO of entries (tcp_timewait.c).
 *
 * Called by the timer heap (timer_run in ts_stack_poll); arming helpers by the other files.
 */
#include "tcp/tcp_int.h"

#include <errno.h>
#include <stdlib.h>

static void tcp_rtx_fire(struct timer *t, usec_t now);
static void tcp_delack_fire(struct timer *t, usec_t now);
static void tcp_misc_fire(struct timer *t, usec_t now);

void tcp_conn_timers_init(struct tcp_conn *c)
{
	timer_init(&c->rtx_timer, tcp_rtx_fire);
	timer_init(&c->delack_timer, tcp_delack_fire);
	timer_init(&c->misc_timer, tcp_misc_fire);
}

int tcp_conn_timers_reserve(struct tcp_conn *c)
{
	struct timer_heap *h = &c->tl->core->timers;
	if (timer_reserve(h, &c->rtx_timer) || timer_reserve(h, &c->delack_timer) ||
	    timer_reserve(h, &c->misc_timer)) {
		tcp_conn_timers_release(c);
		return -ENOMEM;
	}
	return 0;
}

void tcp_conn_timers_release(struct tcp_conn *c)
{
	struct timer_heap *h = &c->tl->core->timers;
	timer_unreserve(h, &c->rtx_timer);
	timer_unreserve(h, &c->delack_timer);
	timer_unreserve(h, &c->misc_timer);
}

void tcp_conn_timers_cancel(struct tcp_conn *c)
{
	struct timer_heap *h = &c->tl->core->timers;
	timer_cancel(h, &c->rtx_timer);
	timer_cancel(h, &c->delack_timer);
	timer_cancel(h, &c->misc_timer);
}

static usec_t tcp_backoff_us(const struct tcp_conn *c, uint32_t max_ms)
{
	usec_t rto = c->rtt.rto_us;
	for (uint8_t i = 0; i < c->backoff && rto < (usec_t)max_ms * USEC_PER_MS; i++)
		rto <<= 1;
	if (rto > (usec_t)max_ms * USEC_PER_MS)
		rto = (usec_t)max_ms * USEC_PER_MS;
	return rto;
}

/* RFC 6298 5.1/5.3: (re)start the timer so it expires after RTO (with backoff). */
void tcp_rearm_rtx(struct tcp_conn *c)
{
	c->flags &= ~(TCP_F_PERSIST | TCP_F_TLP | TCP_F_REO);
	usec_t when = c->tl->core->now + tcp_backoff_us(c, c->tl->cfg.rto_max_ms);
	if (c->opts.user_timeout_ms && c->retries) {
		/* Linux tcp_clamp_rto_to_user_timeout: fire no later than the user timeout. */
		usec_t end = c->rtx_since + (usec_t)c->opts.user_timeout_ms * USEC_PER_MS;
		if (end < when)
			when = end > c->tl->core->now ? end : c->tl->core->now + 1;
	}
	tcp_timer_arm(c->tl, &c->rtx_timer, when);
}

void tcp_arm_persist(struct tcp_conn *c)
{
	c->flags &= ~(TCP_F_TLP | TCP_F_REO);
	c->flags |= TCP_F_PERSIST;
	usec_t d = tcp_backoff_us(c, TCP_PERSIST_MAX_MS);
	usec_t min = (usec_t)c->tl->cfg.rto_min_ms * USEC_PER_MS;
	tcp_timer_arm(c->tl, &c->rtx_timer, c->tl->core->now + (d < min ? min : d));
}

/* First after the RTO, then every 500 ms, never past TCP_USER_TIMEOUT (Linux probe0). */
void tcp_arm_local_probe(struct tcp_conn *c)
{
	usec_t now = c->tl->core->now;
	usec_t d = c->probes_out ? (usec_t)TCP_RESOURCE_PROBE_MS * USEC_PER_MS : c->rtt.rto_us;
	if (d < (usec_t)c->tl->cfg.rto_min_ms * USEC_PER_MS)
		d = (usec_t)c->tl->cfg.rto_min_ms * USEC_PER_MS;
	if (c->opts.user_timeout_ms && c->probes_since) {
		usec_t end = c->probes_since + (usec_t)c->opts.user_timeout_ms * USEC_PER_MS;
		if (now + d > end)
			d = end > now ? end - now : 1;
	}
	c->flags &= ~(TCP_F_TLP | TCP_F_REO);
	c->flags |= TCP_F_PERSIST | TCP_F_LOCAL_FAIL;
	tcp_timer_arm(c->tl, &c->rtx_timer, now + d);
}

void tcp_arm_misc(struct tcp_conn *c, usec_t when)
{
	tcp_timer_arm(c->tl, &c->misc_timer, when);
}

uint32_t tcp_keepidle_s(const struct tcp_layer *tl, const struct tcp_sockopts *o)
{
	return o->keepidle_s ? o->keepidle_s : tl->cfg.keepalive_time_s;
}

uint32_t tcp_keepintvl_s(const struct tcp_layer *tl, const struct tcp_sockopts *o)
{
	return o->keepintvl_s ? o->keepintvl_s : tl->cfg.keepalive_intvl_s;
}

uint32_t tcp_keepcnt(const struct tcp_layer *tl, const struct tcp_sockopts *o)
{
	return o->keepcnt ? o->keepcnt : tl->cfg.keepalive_probes;
}

uint32_t tcp_syncnt(const struct tcp_layer *tl, const struct tcp_sockopts *o)
{
	return o->syncnt ? o->syncnt : tl->cfg.syn_retries;
}

/* Linux tcp_fin_time: TCP_LINGER2 when set (0: the stack's tcp_fin_timeout; -1: none). */
usec_t tcp_fin_timeout_us(const struct tcp_conn *c)
{
	int32_t l2 = c->opts.linger2_s;
	return l2 < 0 ? 0 : l2 ? (usec_t)l2 * USEC_PER_SEC : (usec_t)c->tl->cfg.fin_timeout_ms * USEC_PER_MS;
}

void tcp_arm_keepalive(struct tcp_conn *c)
{
	c->last_rcv = c->tl->core->now;
	tcp_arm_misc(c, c->tl->core->now + (usec_t)tcp_keepidle_s(c->tl, &c->opts) * USEC_PER_SEC);
}

void tcp_rtt_sample(struct tcp_conn *c, uint32_t rtt_us, uint32_t ack)
{
	tcp_rtt_update(&c->rtt, rtt_us, ack, c->snd.nxt, &c->tl->cfg);
}

/*
 * Linux's tcp_model_timeout(): how long `boundary` retransmissions take when the RTO starts
 * at TCP_RTO_MIN (200 ms) and doubles up to rto_max_ms. The RTO doubles while below the
 * cap (thresh = ilog2(rto_max / rto_min) = 9 expiries with Linux's 200 ms and 120 s), then
 * each further expiry adds rto_max. For tcp_retries2 = 15: 1023 * 200 ms + 6 * 120 s =
 * 924.6 s; for orphan_retries = 8: 511 * 200 ms = 102.2 s. Giving up by this time rather
 * than by a count means a connection with a large RTO (a long path) gives up after fewer
 * retransmissions, and one whose RTO is at the floor after exactly retries2, as Linux.
 */
usec_t tcp_retrans_timeout(const struct tcp_config *cfg, uint32_t boundary)
{
	/* Linux models from the constant TCP_RTO_MIN, not a route's rto_min: a larger floor
	 * (cfg.rto_min_ms) means fewer retransmissions in the same time. */
	usec_t base = (usec_t)TCP_RTO_MIN_MS * USEC_PER_MS;
	usec_t max = (usec_t)cfg->rto_max_ms * USEC_PER_MS;
	if (max < base)
		max = base;
	uint32_t thresh = 0;
	while (thresh < 32 && (base << (thresh + 1)) <= max)
		thresh++;
	if (boundary <= thresh)
		return ((2ull << boundary) - 1) * base;
	return ((2ull << thresh) - 1) * base + (usec_t)(boundary - thresh) * max;
}

static void tcp_timeout(struct tcp_conn *c)
{
	c->tl->ctr.AbortOnTimeout++;
	c->tl->ctr.Timeouts++;
	/* Linux tcp_write_err: a soft ICMP error (tcp_icmp.c) explains the timeout better,
	 * unless an ACK has moved SND.UNA since, i.e. the path worked again. */
	tcp_conn_abort(c, c->err_soft && c->snd.una == c->err_soft_una ? c->err_soft : ETIMEDOUT);
}

static void tcp_persist_fire(struct tcp_conn *c)
{
	struct tcp_layer *tl = c->tl;
	if (c->flags & TCP_F_LOCAL_FAIL) {
		/* Linux tcp_probe_timer for a local failure: give up after the user timeout
		 * (measured from the first probe) or retries2 probes; otherwise try again. */
		c->flags &= ~(TCP_F_PERSIST | TCP_F_LOCAL_FAIL);
		usec_t now = tl->core->now;
		if (!c->probes_since)
			c->probes_since = now ? now : 1;
		else if (c->opts.user_timeout_ms && now - c->probes_since >= (usec_t)c->opts.user_timeout_ms * USEC_PER_MS)
			goto abort;
		if (c->probes_out >= tl->cfg.retries2)
			goto abort;
		c->probes_out++;
		tcp_output(c);
		return;
abort:
		tcp_timeout(c);
		return;
	}
	c->flags &= ~TCP_F_PERSIST;
	uint32_t off = c->snd.nxt - c->snd.una;
	uint32_t left = c->sndq.len > off ? c->sndq.len - off : 0;
	if (c->snd.wnd > tcp_flight(c) && left) {
		/* Linux tcp_write_wakeup: the window is open but smaller than what Nagle/SWS
		 * wait for: send the part that fits, now. */
		uint32_t len = c->snd.wnd - tcp_flight(c);
		if (len > left)
			len = left;
		if (len > tcp_mss_now(c))
			len = tcp_mss_now(c);
		if (tcp_rec_on(c)) {
			if (tcp_sb_reserve(tl, &c->sb, 1) != 0) {
				tl->ctr.ScoreboardFull++;
				tcp_arm_persist(c);
				return;
			}
			tcp_sb_sent(&c->sb, c->snd.nxt, len, false, len, tl->core->now);
		}
		bool fresh = !seq_lt(c->snd.nxt, c->snd.max);
		tcp_xmit(c, c->snd.nxt, TCP_FLAG_ACK | (len == left ? TCP_FLAG_PSH : 0), len);
		c->snd.nxt += len;
		c->snd.max = seq_max(c->snd.max, c->snd.nxt);
		if (fresh) {
			tcp_skbq_split(c, c->snd.nxt); /* Linux tcp_fragment: the part sent is an skb */
			tcp_check_space(c);
		}
		tcp_rearm_rtx(c);
		return;
	}
	if ((c->flags & TCP_F_ORPHAN) && c->backoff >= tl->cfg.orphan_retries) {
		/* Linux tcp_probe_timer: a closed socket does not probe a zero window forever. */
		tcp_timeout(c);
		return;
	}
	tl->ctr.PersistProbes++;
	tcp_xmit(c, c->snd.una - 1, TCP_FLAG_ACK, 0);
	if (c->backoff < 31)
		c->backoff++;
	tcp_arm_persist(c);
}

static void tcp_rtx_fire(struct timer *t, usec_t now)
{
	struct tcp_conn *c = container_of(t, struct tcp_conn, rtx_timer);
	struct tcp_layer *tl = c->tl;
	(void)now;

	if (c->flags & TCP_F_PERSIST) {
		tcp_persist_fire(c);
		return;
	}
	if (c->flags & TCP_F_TLP) {
		tcp_tlp_fire(c);          /* RFC 8985 7.3 (tcp_recovery.c) */
		return;
	}
	if (c->flags & TCP_F_REO) {
		tcp_rack_reo_fire(c);     /* RFC 8985 6.3 */
		return;
	}
	tl->ctr.RtoExpired++;
	c->flags &= ~TCP_F_RTT_TIMING; /* Karn: no sample from a retransmitted segment */
	if (c->state == TCPS_SYN_SENT || c->state == TCPS_SYN_RECEIVED) {
		if (++c->retries > tcp_syncnt(tl, &c->opts)) {
			tcp_timeout(c);
			return;
		}
		tl->ctr.SynRetrans++;
		tcp_count_retrans(c, 1);
		c->backoff++;
		tcp_xmit(c, c->snd.iss, (uint8_t)(TCP_FLAG_SYN | (c->state == TCPS_SYN_RECEIVED ? TCP_FLAG_ACK : 0)), 0);
		tcp_rearm_rtx(c);
		return;
	}
	if (c->snd.una == c->snd.max)
		return; /* nothing outstanding (raced with an ACK) */
	if (c->retries == 0) {
		c->rtx_since = tl->core->now;
		/* Linux's retrans_stamp: when the lost segment was sent, i.e. when the timer that
		 * just expired was started (one RTO, with the current backoff, ago). */
		usec_t rto = tcp_backoff_us(c, tl->cfg.rto_max_ms);
		c->rtx_first_sent = tl->core->now > rto ? tl->core->now - rto : 0;
	}
	/* RFC 5482 / Linux: TCP_USER_TIMEOUT replaces the retry limit when set. Otherwise the
	 * limit is a time, as Linux's retransmits_timed_out(): retries2 (or orphan_retries)
	 * converted by tcp_retrans_timeout(). */
	if (c->opts.user_timeout_ms ? tl->core->now - c->rtx_since >= (usec_t)c->opts.user_timeout_ms * USEC_PER_MS
	                            : tl->core->now - c->rtx_first_sent >=
	                                  tcp_retrans_timeout(&tl->cfg, (c->flags & TCP_F_ORPHAN) ? tl->cfg.orphan_retries
	                                                                                          : tl->cfg.retries2)) {
		tcp_timeout(c);
		return;
	}
	if (tcp_rec_on(c)) {
		/* With the scoreboard (RFC 6675 5.1): everything not SACKed is lost and resent
		 * from cwnd = 1 segment; SACK marks stay (tcp_recovery.c, whose ssthresh comes
		 * from the congestion-control algorithm). */
		c->retries++;
		if (c->backoff < 31)
			c->backoff++;
		tcp_rec_enter_loss(c);
		tcp_output(c);
		if (!timer_armed(&c->rtx_timer))
			tcp_rearm_rtx(c);
		return;
	}
	/* RFC 5681 3.1 (4): after a timeout, ssthresh is cut (by the algorithm: half for
	 * Reno, 0.7 for CUBIC) and cwnd = one segment; RFC 6298 5.5: back off; 5.4: retransmit
	 * the earliest segment, and the rest follows in slow start (go-back-N from SND.UNA). */
	tcp_cc_enter_loss(c);
	c->retries++;
	c->dupacks = 0;
	c->flags &= ~TCP_F_IN_RECOVERY;
	if (c->backoff < 31)
		c->backoff++;
	c->snd.nxt = c->snd.una;
	tcp_output(c);
	if (!timer_armed(&c->rtx_timer))
		tcp_rearm_rtx(c);
}

static void tcp_delack_fire(struct timer *t, usec_t now)
{
	struct tcp_conn *c = container_of(t, struct tcp_conn, delack_timer);
	(void)now;
	if (!(c->flags & TCP_F_DELACK))
		return;
	if (c->compressed_ack) {
		tcp_sack_compress_expired(c); /* not a delayed ACK the peer waited for: ato stays */
		return;
	}
	c->tl->ctr.DelayedAcks++;
	tcp_delack_expired(c);
	c->flags |= TCP_F_ACK_NOW;
	tcp_output(c);
}

static void tcp_misc_fire(struct timer *t, usec_t now)
{
	struct tcp_conn *c = container_of(t, struct tcp_conn, misc_timer);
	struct tcp_layer *tl = c->tl;

	if (c->state == TCPS_FIN_WAIT_2 && (c->flags & TCP_F_ORPHAN)) {
		tcp_conn_done(c); /* Linux tcp_fin_timeout: give up on the peer's FIN */
		return;
	}
	if (!c->opts.keepalive || c->state < TCPS_ESTABLISHED)
		return;
	usec_t idle_limit = (usec_t)tcp_keepidle_s(tl, &c->opts) * USEC_PER_SEC;
	if (c->ka_probes == 0 && now - c->last_rcv < idle_limit) {
		tcp_arm_misc(c, c->last_rcv + idle_limit);
		return;
	}
	if (c->ka_probes >= tcp_keepcnt(tl, &c->opts)) {
		tcp_timeout(c);
		return;
	}
	/* RFC 1122 4.2.3.6: a probe the peer must ACK (SEQ = SND.UNA - 1, no data). */
	c->ka_probes++;
	tl->ctr.KeepaliveProbes++;
	tcp_xmit(c, c->snd.una - 1, TCP_FLAG_ACK, 0);
	tcp_arm_misc(c, now + (usec_t)tcp_keepintvl_s(tl, &c->opts) * USEC_PER_SEC);
}

/* SYN-ACK retransmission for a SYN-queue entry: 1 s, 2 s, 4 s ... then give up. */
void tcp_req_timer_fire(struct timer *t, usec_t now)
{
	struct tcp_req *r = container_of(t, struct tcp_req, timer);
	struct tcp_layer *tl = r->lis->tl;
	uint32_t defer = r->lis->opts.defer_accept;
	uint32_t limit = tl->cfg.synack_retries;
	if (r->acked && defer > limit)
		limit = defer;
	if (r->retrans >= limit) {
		tl->ctr.SynAckTimeouts++;
		tcp_req_free(r);
		return;
	}
	if (r->acked && defer && r->retrans + 1u < defer) {
		/* Linux syn_ack_recalc: a deferred, acknowledged request waits quietly. */
		r->retrans++;
		tcp_timer_arm(tl, &r->timer, now + ((usec_t)tl->cfg.rto_init_ms * USEC_PER_MS << r->retrans));
		return;
	}
	r->retrans++;
	tl->ctr.SynAckRetrans++;
	tl->ctr.RetransSegs++;
	tcp_send_synack(r);
	tcp_timer_arm(tl, &r->timer, now + ((usec_t)tl->cfg.rto_init_ms * USEC_PER_MS << r->retrans));
}
