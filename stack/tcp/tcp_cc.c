/*
 * tcp_cc.c - the congestion-control framework (RFC 5681, Linux's tcp_cong.c): the table of
 * algorithms, choosing one per connection, the helpers they share (slow start, additive
 * increase, "is the window used?") and the calls the rest of TCP makes at each event (an
 * ACK, fast recovery, an RTO, sending after idle, undo). What the algorithms decide is in
 * tcp_newreno.c and tcp_cubic.c; the interface is tcp_cc.h.
 */
#include "tcp/tcp_int.h"

#include <errno.h>
#include <string.h>

/* Every algorithm the stack has, the default (cubic) first. Read-only. */
static const struct tcp_cc_ops *const tcp_cc_table[] = { &tcp_cubic_ops, &tcp_newreno_ops };

const struct tcp_cc_ops *tcp_cc_find(const char *name)
{
	if (!name)
		return NULL;
	if (strcmp(name, "newreno") == 0)
		name = "reno"; /* FreeBSD's name for it */
	for (size_t i = 0; i < sizeof(tcp_cc_table) / sizeof(tcp_cc_table[0]); i++)
		if (strcmp(tcp_cc_table[i]->name, name) == 0)
			return tcp_cc_table[i];
	return NULL;
}

bool tcp_cc_known(const char *name)
{
	return tcp_cc_find(name) != NULL;
}

const char *tcp_cc_available(void)
{
	return "cubic reno";
}

int tcp_sockopts_set_cc(struct tcp_sockopts *o, const char *name)
{
	const struct tcp_cc_ops *ops = tcp_cc_find(name);
	if (!ops)
		return -ENOENT;
	o->cc = ops;
	return 0;
}

const char *tcp_sockopts_cc_name(const struct tcp_layer *tl, const struct tcp_sockopts *o)
{
	if (o->cc)
		return o->cc->name;
	const struct tcp_cc_ops *ops = tcp_cc_find(tl->cfg.congestion_control);
	return ops ? ops->name : tcp_cc_table[0]->name;
}

uint32_t tcp_cc_slow_start(struct tcp_conn *c, uint32_t acked)
{
	uint64_t cwnd = (uint64_t)c->snd_cwnd + acked;
	if (cwnd > c->snd_ssthresh)
		cwnd = c->snd_ssthresh > c->snd_cwnd ? c->snd_ssthresh : c->snd_cwnd;
	acked -= (uint32_t)(cwnd - c->snd_cwnd);
	c->snd_cwnd = cwnd > TCP_CWND_CLAMP ? TCP_CWND_CLAMP : (uint32_t)cwnd;
	return acked;
}

uint32_t tcp_cc_grow_slow_start(struct tcp_conn *c, uint32_t acked)
{
	if (!tcp_cc_cwnd_limited(c))
		return 0;
	if (tcp_cc_in_slow_start(c->snd_cwnd, c->snd_ssthresh))
		acked = tcp_cc_slow_start(c, acked);
	return acked;
}

void tcp_cc_avoid_ai(struct tcp_conn *c, uint32_t w, uint32_t acked)
{
	if (w == 0)
		w = 1;
	/* Credit earned while w was larger is spent gently: one packet, then count afresh. */
	if (c->snd_cwnd_cnt >= w) {
		c->snd_cwnd_cnt = 0;
		c->snd_cwnd++;
	}
	c->snd_cwnd_cnt += acked;
	if (c->snd_cwnd_cnt >= w) {
		uint32_t inc = c->snd_cwnd_cnt / w;
		c->snd_cwnd_cnt -= inc * w;
		c->snd_cwnd += inc;
	}
	if (c->snd_cwnd > TCP_CWND_CLAMP)
		c->snd_cwnd = TCP_CWND_CLAMP;
}

bool tcp_cc_cwnd_limited(const struct tcp_conn *c)
{
	if (c->cwnd_limited)
		return true;
	if (tcp_cc_in_slow_start(c->snd_cwnd, c->snd_ssthresh)) {
		uint32_t mss = c->mss ? c->mss : 1;
		uint64_t max_pkts = ((uint64_t)c->max_flight + mss - 1) / mss;
		return c->snd_cwnd < 2 * max_pkts;
	}
	return false;
}

uint32_t tcp_cwnd_bytes(const struct tcp_conn *c, uint32_t mss)
{
	uint64_t b = (uint64_t)c->snd_cwnd * mss;
	return b > UINT32_MAX ? UINT32_MAX : (uint32_t)b;
}

static void tcp_cc_set_state(struct tcp_conn *c, enum tcp_cc_state s)
{
	if (c->cc->set_state)
		c->cc->set_state(c, s);
	c->ca_state = (uint8_t)s;
}

static void tcp_cc_event(struct tcp_conn *c, enum tcp_cc_event ev)
{
	if (c->cc->cwnd_event)
		c->cc->cwnd_event(c, ev);
}

static void tcp_cc_start(struct tcp_conn *c)
{
	memset(c->cc_priv, 0, sizeof(c->cc_priv));
	if (c->cc->init)
		c->cc->init(c);
}

void tcp_cc_init(struct tcp_conn *c)
{
	const struct tcp_cc_ops *ops = c->opts.cc;
	if (!ops)
		ops = tcp_cc_find(c->tl->cfg.congestion_control);
	if (!ops)
		ops = tcp_cc_table[0];
	c->cc = ops;
	c->opts.cc = ops;
	c->snd_cwnd = c->tl->cfg.init_cwnd_segs; /* RFC 6928 IW10 (Linux TCP_INIT_CWND) */
	c->snd_ssthresh = TCP_INFINITE_SSTHRESH;
	c->snd_cwnd_cnt = 0;
	c->ca_state = TCP_CC_OPEN;
	c->cwnd_stamp = c->tl->core->now;
	c->cwnd_used = 0;
	tcp_cc_start(c);
}

int tcp_cc_select(struct tcp_conn *c, const struct tcp_cc_ops *ops)
{
	if (!ops)
		return -ENOENT;
	c->opts.cc = ops;
	if (ops == c->cc)
		return 0;
	/* As Linux (tcp_reinit_congestion_control): the new algorithm starts from the
	 * current cwnd and ssthresh with fresh state of its own. */
	c->cc = ops;
	tcp_cc_start(c);
	return 0;
}

uint32_t tcp_cc_pkts(const struct tcp_conn *c, uint32_t bytes)
{
	uint32_t mss = c->mss ? c->mss : 1;
	return (uint32_t)(((uint64_t)bytes + mss - 1) / mss);
}

void tcp_cc_on_rtt(struct tcp_conn *c, uint32_t acked_bytes, int32_t rtt_us)
{
	if (!c->cc->pkts_acked)
		return;
	struct tcp_ack_sample s = { tcp_cc_pkts(c, acked_bytes), rtt_us };
	c->cc->pkts_acked(c, &s);
}

void tcp_cc_on_ack(struct tcp_conn *c, uint32_t acked_bytes, int32_t rtt_us)
{
	tcp_cc_on_rtt(c, acked_bytes, rtt_us);
	if (c->ca_state == TCP_CC_LOSS && seq_geq(c->snd.una, c->recover))
		tcp_cc_set_open(c); /* everything outstanding at the RTO is acknowledged */
	c->cc->cong_avoid(c, tcp_cc_pkts(c, acked_bytes));
}

uint32_t tcp_cc_current_ssthresh(const struct tcp_conn *c)
{
	if (c->ca_state == TCP_CC_CWR || c->ca_state == TCP_CC_RECOVERY)
		return c->snd_ssthresh;
	uint32_t three_quarters = (c->snd_cwnd >> 1) + (c->snd_cwnd >> 2);
	return c->snd_ssthresh > three_quarters ? c->snd_ssthresh : three_quarters;
}

void tcp_cc_enter_recovery(struct tcp_conn *c)
{
	c->prior_ssthresh = tcp_cc_current_ssthresh(c);
	c->prior_cwnd = c->snd_cwnd;
	c->snd_ssthresh = c->cc->ssthresh(c);
	c->snd_cwnd_cnt = 0;
	tcp_cc_set_state(c, TCP_CC_RECOVERY);
}

void tcp_cc_enter_loss(struct tcp_conn *c)
{
	/* Called before the retry count goes up. As Linux's tcp_enter_loss, ssthresh is cut
	 * once per episode: from the open state, after the last recovery or loss is over, or
	 * at the first timeout of a loss; a timeout during recovery keeps its ssthresh. */
	if (c->ca_state <= TCP_CC_DISORDER || seq_leq(c->recover, c->snd.una) ||
	    (c->ca_state == TCP_CC_LOSS && c->retries == 0)) {
		c->prior_ssthresh = tcp_cc_current_ssthresh(c);
		c->prior_cwnd = c->snd_cwnd;
		c->snd_ssthresh = c->cc->ssthresh(c);
		tcp_cc_event(c, TCP_CC_EV_LOSS);
	}
	c->snd_cwnd = 1;
	c->snd_cwnd_cnt = 0;
	c->recover = c->snd.max;
	tcp_cc_set_state(c, TCP_CC_LOSS);
}

void tcp_cc_set_open(struct tcp_conn *c)
{
	if (c->ca_state != TCP_CC_OPEN)
		tcp_cc_set_state(c, TCP_CC_OPEN);
}

void tcp_cc_undo(struct tcp_conn *c)
{
	if (!c->prior_ssthresh)
		return;
	if (c->cc->undo_cwnd) {
		c->snd_cwnd = c->cc->undo_cwnd(c);
	} else if (c->prior_cwnd > c->snd_cwnd) {
		c->snd_cwnd = c->prior_cwnd;
	}
	if (c->prior_ssthresh > c->snd_ssthresh)
		c->snd_ssthresh = c->prior_ssthresh;
	c->prior_ssthresh = 0;
}

/*
 * Restarting after idle (RFC 5681 4.1; RFC 2861, which RFC 7661 updates; Linux
 * tcp_cwnd_restart): a window measured long ago says nothing about the path now, so after
 * more than an RTO without sending, cwnd halves once per RTO of idleness, down to the
 * initial window, and ssthresh keeps 3/4 of the old cwnd so slow start climbs back fast.
 */
static void tcp_cc_restart_after_idle(struct tcp_conn *c, usec_t idle)
{
	uint32_t restart = c->tl->cfg.init_cwnd_segs;
	uint32_t cwnd = c->snd_cwnd;
	usec_t rto = c->rtt.rto_us ? c->rtt.rto_us : 1;

	tcp_cc_event(c, TCP_CC_EV_CWND_RESTART);
	c->snd_ssthresh = tcp_cc_current_ssthresh(c);
	if (restart > cwnd)
		restart = cwnd;
	while (idle > rto && cwnd > restart) {
		idle -= rto;
		cwnd >>= 1;
	}
	c->snd_cwnd = cwnd > restart ? cwnd : restart;
	c->snd_cwnd_cnt = 0;
}

void tcp_cc_data_sent(struct tcp_conn *c, bool idle)
{
	usec_t now = c->tl->core->now;
	if (idle) {
		if (c->tl->cfg.slow_start_after_idle && c->lsndtime_valid && now - c->lsndtime > c->rtt.rto_us)
			tcp_cc_restart_after_idle(c, now - c->lsndtime);
		tcp_cc_event(c, TCP_CC_EV_TX_START);
	}
	c->lsndtime = now;
	c->lsndtime_valid = true;
}

/*
 * Linux's tcp_cwnd_application_limited (RFC 2861's "slow part", which RFC 7661 replaces
 * with its non-validated phase): a sender that keeps less in flight than cwnd for a whole
 * RTO has not tested that window lately. cwnd then comes down halfway to what was used
 * (never below the initial window), ssthresh keeping 3/4 of the old cwnd. Not while
 * recovering, and not when the application waits for send buffer (its limit, not ours).
 */
void tcp_cc_validate(struct tcp_conn *c, bool cwnd_limited, uint32_t pkts_out)
{
	usec_t now = c->tl->core->now;
	if (cwnd_limited) {
		c->cwnd_used = 0;
		c->cwnd_stamp = now;
		return;
	}
	if (pkts_out > c->cwnd_used)
		c->cwnd_used = pkts_out;
	if (!c->tl->cfg.slow_start_after_idle || now - c->cwnd_stamp < c->rtt.rto_us)
		return;
	if (c->ca_state == TCP_CC_OPEN && c->chrono_type != TCP_CHRONO_SNDBUF_LIMITED) {
		uint32_t used = c->cwnd_used > c->tl->cfg.init_cwnd_segs ? c->cwnd_used : c->tl->cfg.init_cwnd_segs;
		if (used < c->snd_cwnd) {
			c->snd_ssthresh = tcp_cc_current_ssthresh(c);
			c->snd_cwnd = (c->snd_cwnd + used) >> 1;
		}
		c->cwnd_used = 0;
	}
	c->cwnd_stamp = now;
}
