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

static uint32_t tcp_cc_mss(const struct tcp_conn *c)
{
	return c->mss ? c->mss : 1;
}

uint32_t tcp_cc_cwnd(const struct tcp_conn *c)
{
	return c->cwnd / tcp_cc_mss(c);
}

void tcp_cc_set_cwnd(struct tcp_conn *c, uint32_t pkts)
{
	if (pkts < 1)
		pkts = 1;
	uint64_t b = (uint64_t)pkts * tcp_cc_mss(c);
	c->cwnd = b > TCP_CWND_MAX_BYTES ? TCP_CWND_MAX_BYTES : (uint32_t)b;
}

uint32_t tcp_cc_ssthresh(const struct tcp_conn *c)
{
	if (c->ssthresh == UINT32_MAX)
		return TCP_INFINITE_SSTHRESH;
	return c->ssthresh / tcp_cc_mss(c);
}

void tcp_cc_set_ssthresh(struct tcp_conn *c, uint32_t pkts)
{
	if (pkts >= TCP_INFINITE_SSTHRESH) {
		c->ssthresh = UINT32_MAX;
		return;
	}
	uint64_t b = (uint64_t)pkts * tcp_cc_mss(c);
	c->ssthresh = b > TCP_CWND_MAX_BYTES ? TCP_CWND_MAX_BYTES : (uint32_t)b;
}

enum tcp_cc_state tcp_cc_state(const struct tcp_conn *c)
{
	if (c->sack_ok)
		return (enum tcp_cc_state)c->rec.ca_state;
	if (c->flags & TCP_F_IN_RECOVERY)
		return TCP_CC_RECOVERY;
	if (c->retries && seq_gt(c->recover, c->snd.una))
		return TCP_CC_LOSS;
	return TCP_CC_OPEN;
}

const char *tcp_conn_cc_name(const struct tcp_conn *c)
{
	return c->cc ? c->cc->name : tcp_cc_table[0]->name;
}

uint32_t tcp_cc_slow_start(struct tcp_conn *c, uint32_t acked)
{
	uint32_t cwnd = tcp_cc_cwnd(c), ssthresh = tcp_cc_ssthresh(c);
	uint64_t want = (uint64_t)cwnd + acked;
	if (want > ssthresh)
		want = ssthresh > cwnd ? ssthresh : cwnd;
	acked -= (uint32_t)(want - cwnd);
	tcp_cc_set_cwnd(c, want > TCP_CWND_CLAMP ? TCP_CWND_CLAMP : (uint32_t)want);
	return acked;
}

uint32_t tcp_cc_grow_slow_start(struct tcp_conn *c, uint32_t acked)
{
	if (!tcp_cc_cwnd_limited(c))
		return 0;
	if (tcp_cc_in_slow_start(tcp_cc_cwnd(c), tcp_cc_ssthresh(c)))
		acked = tcp_cc_slow_start(c, acked);
	return acked;
}

void tcp_cc_avoid_ai(struct tcp_conn *c, uint32_t w, uint32_t acked)
{
	uint32_t cwnd = tcp_cc_cwnd(c);
	if (w == 0)
		w = 1;
	/* Credit earned while w was larger is spent gently: one packet, then count afresh. */
	if (c->snd_cwnd_cnt >= w) {
		c->snd_cwnd_cnt = 0;
		cwnd++;
	}
	c->snd_cwnd_cnt += acked;
	if (c->snd_cwnd_cnt >= w) {
		uint32_t inc = c->snd_cwnd_cnt / w;
		c->snd_cwnd_cnt -= inc * w;
		cwnd += inc;
	}
	tcp_cc_set_cwnd(c, cwnd > TCP_CWND_CLAMP ? TCP_CWND_CLAMP : cwnd);
}

bool tcp_cc_cwnd_limited(const struct tcp_conn *c)
{
	if (c->cwnd_limited)
		return true;
	if (tcp_cc_in_slow_start(tcp_cc_cwnd(c), tcp_cc_ssthresh(c))) {
		uint64_t max_pkts = ((uint64_t)c->max_flight + tcp_cc_mss(c) - 1) / tcp_cc_mss(c);
		return tcp_cc_cwnd(c) < 2 * max_pkts;
	}
	return false;
}

static void tcp_cc_notify_state(struct tcp_conn *c, enum tcp_cc_state s)
{
	if (c->cc->set_state)
		c->cc->set_state(c, s);
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
	tcp_cc_set_cwnd(c, c->tl->cfg.init_cwnd_segs); /* RFC 6928 IW10 (Linux TCP_INIT_CWND) */
	c->ssthresh = UINT32_MAX;
	c->snd_cwnd_cnt = 0;
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

void tcp_cc_mss_changed(struct tcp_conn *c, uint32_t old_mss)
{
	if (!old_mss || old_mss == c->mss)
		return;
	uint32_t cwnd = c->cwnd / old_mss;
	tcp_cc_set_cwnd(c, cwnd);
	if (c->ssthresh != UINT32_MAX)
		tcp_cc_set_ssthresh(c, c->ssthresh / old_mss);
}

uint32_t tcp_cc_pkts(const struct tcp_conn *c, uint32_t bytes)
{
	uint32_t mss = tcp_cc_mss(c);
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
	c->cc->cong_avoid(c, tcp_cc_pkts(c, acked_bytes));
}

void tcp_cc_on_delivered(struct tcp_conn *c, uint32_t delivered_bytes)
{
	if (delivered_bytes)
		c->cc->cong_avoid(c, tcp_cc_pkts(c, delivered_bytes));
}

uint32_t tcp_cc_current_ssthresh(const struct tcp_conn *c)
{
	enum tcp_cc_state st = tcp_cc_state(c);
	uint32_t ssthresh = tcp_cc_ssthresh(c), cwnd = tcp_cc_cwnd(c);
	if (st == TCP_CC_CWR || st == TCP_CC_RECOVERY)
		return ssthresh;
	uint32_t three_quarters = (cwnd >> 1) + (cwnd >> 2);
	return ssthresh > three_quarters ? ssthresh : three_quarters;
}

uint32_t tcp_cc_loss_ssthresh(struct tcp_conn *c)
{
	uint32_t pkts = c->cc->ssthresh(c);
	c->snd_cwnd_cnt = 0;
	uint64_t b = (uint64_t)(pkts > 2u ? pkts : 2u) * tcp_cc_mss(c);
	return b > TCP_CWND_MAX_BYTES ? TCP_CWND_MAX_BYTES : (uint32_t)b;
}

uint32_t tcp_cc_undo_cwnd(struct tcp_conn *c, uint32_t prior_bytes)
{
	if (c->cc->undo_cwnd) {
		uint64_t b = (uint64_t)c->cc->undo_cwnd(c, prior_bytes / tcp_cc_mss(c)) * tcp_cc_mss(c);
		return b > TCP_CWND_MAX_BYTES ? TCP_CWND_MAX_BYTES : (uint32_t)b;
	}
	return c->cwnd > prior_bytes ? c->cwnd : prior_bytes;
}

void tcp_cc_on_rto(struct tcp_conn *c)
{
	c->snd_cwnd_cnt = 0;
	tcp_cc_event(c, TCP_CC_EV_LOSS);
	tcp_cc_notify_state(c, TCP_CC_LOSS);
}

void tcp_cc_enter_recovery(struct tcp_conn *c)
{
	c->ssthresh = tcp_cc_loss_ssthresh(c);
	tcp_cc_notify_state(c, TCP_CC_RECOVERY);
}

void tcp_cc_enter_loss(struct tcp_conn *c)
{
	/* As Linux's tcp_enter_loss, ssthresh is cut once per episode: not again at a
	 * timeout during fast recovery or at a later timeout of the same loss. */
	if (tcp_cc_state(c) <= TCP_CC_DISORDER)
		c->ssthresh = tcp_cc_loss_ssthresh(c);
	tcp_cc_set_cwnd(c, 1);
	c->recover = c->snd.max;
	tcp_cc_on_rto(c);
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
	uint32_t cwnd = tcp_cc_cwnd(c);
	usec_t rto = c->rtt.rto_us ? c->rtt.rto_us : 1;

	tcp_cc_event(c, TCP_CC_EV_CWND_RESTART);
	tcp_cc_set_ssthresh(c, tcp_cc_current_ssthresh(c));
	if (restart > cwnd)
		restart = cwnd;
	while (idle > rto && cwnd > restart) {
		idle -= rto;
		cwnd >>= 1;
	}
	tcp_cc_set_cwnd(c, cwnd > restart ? cwnd : restart);
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
	if (tcp_cc_state(c) == TCP_CC_OPEN && c->chrono_type != TCP_CHRONO_SNDBUF_LIMITED) {
		uint32_t used = c->cwnd_used > c->tl->cfg.init_cwnd_segs ? c->cwnd_used : c->tl->cfg.init_cwnd_segs;
		uint32_t cwnd = tcp_cc_cwnd(c);
		if (used < cwnd) {
			tcp_cc_set_ssthresh(c, tcp_cc_current_ssthresh(c));
			tcp_cc_set_cwnd(c, (cwnd + used) >> 1);
		}
		c->cwnd_used = 0;
	}
	c->cwnd_stamp = now;
}
