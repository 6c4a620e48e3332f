/*
 * tcp_cubic.c - CUBIC congestion control (RFC 9438) with Linux's HyStart, the default
 * algorithm (TCP_CONGESTION "cubic", as Linux since 2.6.19).
 *
 * After a loss CUBIC does not climb back linearly as Reno does. It remembers the window at
 * which the loss happened (W_max), cuts to beta = 0.7 of it, and then follows a cubic curve
 * of the time t since the cut:
 *
 *     W_cubic(t) = C (t - K)^3 + W_max,   K = cbrt(W_max (1 - beta) / C),   C = 0.4
 *
 * which rises fast, flattens out near W_max (the "plateau", where the last loss was), then
 * probes beyond it ever faster. Each ACK moves cwnd toward W_cubic(t + RTT), at most by half
 * the window per round trip (RFC 9438 4.2, 4.4, 4.5). Where Reno would be faster (short
 * RTTs, small windows), CUBIC follows a Reno estimate W_est instead (4.3, the
 * "Reno-friendly region"). A second loss before reaching W_max lowers W_max further (fast
 * convergence, 4.7), so a newcomer can take its share.
 *
 * HyStart (Ha and Rhee 2011, as Linux) ends slow start before the first loss: when the ACKs
 * of one round trip keep arriving back to back for longer than half the minimum RTT (the
 * "ACK train": the pipe is full), or when the RTT of a round rises clearly above the minimum
 * (the "delay increase": a queue is building). ssthresh is then set to cwnd.
 *
 * Fixed point throughout, as in the kernel: time in 1/1024 s units for the curve, cwnd in
 * packets, alpha in 1/1024. docs/tcp.md draws the curve; tests/unit/test_tcp_cc.c checks it
 * against the RFC's formulas.
 */
#include "tcp/tcp_int.h"

#include <string.h>

#define CUBIC_BETA 717u                 /* beta_cubic = 0.7 in 1/1024 (Linux's 717) */
#define CUBIC_ONE 1024u
/* alpha_cubic = 3 (1 - beta) / (1 + beta) (RFC 9438 4.3), 1/1024: 0.529 */
#define CUBIC_ALPHA (3u * (CUBIC_ONE - CUBIC_BETA) * CUBIC_ONE / (CUBIC_ONE + CUBIC_BETA))
#define CUBIC_C_NUM 4u                  /* C = 0.4 segments / s^3 = 4/10 */
#define CUBIC_C_DEN 10u
#define CUBIC_HZ_SHIFT 10u              /* curve time unit: 1/1024 s */
#define CUBIC_MAX_OFFS (1u << 19)       /* |t - K| at most 512 s: the cube stays in 64 bits */
#define CUBIC_FIRST_EPOCH_CNT 20u       /* Linux: before any loss, grow at least 5% per RTT */
/* HyStart, Linux's defaults; tcp_config.hystart_detect chooses the exits. */
#define HYSTART_ACK_TRAIN 0x1u
#define HYSTART_DELAY 0x2u
#define HYSTART_LOW_WINDOW 16u          /* hystart_low_window: only from 16 packets on */
#define HYSTART_MIN_SAMPLES 8u          /* RTT samples per round before the delay test */
#define HYSTART_ACK_DELTA_US 2000u      /* hystart_ack_delta_us: ACKs closer than this form a train */
#define HYSTART_DELAY_MIN_US 4000u      /* the delay threshold: min RTT / 8 within 4..16 ms */
#define HYSTART_DELAY_MAX_US 16000u
#define HYSTART_ACK_DELAY_MAX_US 1000u  /* allowance for the receiver's ACK delay */
#define CUBIC_RTT_SKIP_US USEC_PER_SEC  /* no HyStart samples in the first second of an epoch */

/* Per connection, in c->cc_priv. */
struct tcp_cubic {
	uint32_t cnt;           /* cwnd grows by one per cnt packets acked */
	uint32_t w_max;         /* W_max (packets) after fast convergence; 0: no loss yet */
	uint32_t origin;        /* the curve's plateau this epoch: W_max, or cwnd if above it */
	uint32_t k;             /* K in 1/1024 s */
	uint32_t w_est;         /* W_est, the Reno-friendly window (packets) */
	uint32_t ack_cnt;       /* packets acked not yet counted into W_est (Linux ack_cnt) */
	uint64_t est_credit;    /* packets acked times alpha, toward W_est's next packet */
	usec_t epoch_start;     /* when this congestion-avoidance epoch began */
	bool in_epoch;
	bool found;             /* HyStart ended slow start */
	uint8_t sample_cnt;     /* HyStart: RTT samples this round */
	uint32_t delay_min_us;  /* smallest RTT seen (0: none yet) */
	uint32_t end_seq;       /* HyStart: the round ends when SND.UNA passes this */
	uint32_t curr_rtt_us;   /* HyStart: the smallest RTT of this round */
	uint32_t last_cwnd;     /* cwnd when cnt was last worked out (Linux last_cwnd) ... */
	uint32_t last_tick;     /* ... and when, in kernel ticks (Linux last_time, jiffies) */
	usec_t round_start;     /* HyStart: when this round began */
	usec_t last_ack;        /* HyStart: the last ACK of the current train */
};

_Static_assert(sizeof(struct tcp_cubic) <= sizeof(((struct tcp_conn *)0)->cc_priv),
               "struct tcp_cubic must fit in cc_priv");

static struct tcp_cubic *tcp_cubic(struct tcp_conn *c)
{
	return (struct tcp_cubic *)(void *)c->cc_priv;
}

/* Integer cube root (digit by digit, three bits at a time). */
uint64_t tcp_cubic_cbrt(uint64_t x)
{
	uint64_t y = 0;
	for (int s = 63; s >= 0; s -= 3) {
		y <<= 1;
		uint64_t b = 3 * y * (y + 1) + 1;
		if ((x >> s) >= b) {
			x -= b << s;
			y++;
		}
	}
	return y;
}

/* K = cbrt((W_max - cwnd_epoch) / C) seconds (RFC 9438 4.2, eq. 2), in 1/1024 s. */
uint32_t tcp_cubic_k(uint32_t w_max, uint32_t cwnd_epoch)
{
	if (w_max <= cwnd_epoch)
		return 0;
	uint64_t d = w_max - cwnd_epoch;
	if (d > (1u << 28))
		d = 1u << 28; /* 2^28 packets: far beyond any window, keeps the product in 64 bits */
	return (uint32_t)tcp_cubic_cbrt(((d * CUBIC_C_DEN) << (3 * CUBIC_HZ_SHIFT)) / CUBIC_C_NUM);
}

/* W_cubic(t) = C (t - K)^3 + origin (RFC 9438 4.2, eq. 1), t and K in 1/1024 s, packets. */
uint32_t tcp_cubic_w(uint32_t origin, uint32_t k, uint64_t t)
{
	uint64_t offs = t > k ? t - k : k - t;
	if (offs > CUBIC_MAX_OFFS)
		offs = CUBIC_MAX_OFFS;
	uint64_t delta = (offs * offs * offs * CUBIC_C_NUM / CUBIC_C_DEN) >> (3 * CUBIC_HZ_SHIFT);
	if (t >= k)
		return origin + delta > TCP_CWND_CLAMP ? TCP_CWND_CLAMP : (uint32_t)(origin + delta);
	return delta >= origin ? 0 : (uint32_t)(origin - delta);
}

static void tcp_cubic_hystart_reset(struct tcp_conn *c)
{
	struct tcp_cubic *ca = tcp_cubic(c);
	ca->round_start = ca->last_ack = c->tl->core->now;
	ca->end_seq = c->snd.nxt;
	ca->curr_rtt_us = UINT32_MAX;
	ca->sample_cnt = 0;
}

static void tcp_cubic_init(struct tcp_conn *c)
{
	tcp_cubic_hystart_reset(c);
}

/* The kernel tick (Linux's jiffies, tcp_config.hz of them a second) that time t is in. */
static uint64_t tcp_cubic_jiffies(uint32_t hz, usec_t t)
{
	return (uint64_t)t * hz / USEC_PER_SEC;
}

uint64_t tcp_cubic_t(uint32_t hz, usec_t now, usec_t epoch_start, uint32_t delay_min_us)
{
	uint64_t ticks = tcp_cubic_jiffies(hz, now) - tcp_cubic_jiffies(hz, epoch_start) +
	                 ((uint64_t)delay_min_us * hz + USEC_PER_SEC - 1) / USEC_PER_SEC;
	return (ticks << CUBIC_HZ_SHIFT) / hz;
}

/* The curve's part of an update: a new epoch if none runs, then cnt from W_cubic one RTT
 * ahead (RFC 9438 4.2, 4.4, 4.5). */
static void tcp_cubic_curve(struct tcp_conn *c, uint32_t cwnd, uint32_t acked)
{
	struct tcp_cubic *ca = tcp_cubic(c);
	usec_t now = c->tl->core->now;

	if (!ca->in_epoch) {
		/* 4.2: a new epoch starts with the first ACK after a reduction (or after slow
		 * start): the curve passes through cwnd now and levels off at W_max. */
		ca->in_epoch = true;
		ca->epoch_start = now;
		ca->w_est = cwnd;
		ca->est_credit = 0;
		ca->ack_cnt = acked; /* W_est counts from this ACK on */
		if (ca->w_max <= cwnd) {
			ca->k = 0;
			ca->origin = cwnd;
		} else {
			ca->k = tcp_cubic_k(ca->w_max, cwnd);
			ca->origin = ca->w_max;
		}
	}

	/* 4.4/4.5: aim at W_cubic one RTT ahead (Linux: the minimum RTT), within
	 * [cwnd, 1.5 cwnd]; growing by (target - cwnd) / cwnd per ACK is one packet per
	 * cwnd / (target - cwnd) packets acked. The time is counted as Linux counts it, in
	 * kernel ticks: whole ticks since the epoch began, plus the minimum RTT rounded up to
	 * a tick (usecs_to_jiffies) - at HZ 250 a 2 ms path looks 4 ms ahead. */
	uint64_t t = tcp_cubic_t(c->tl->cfg.hz, now, ca->epoch_start, ca->delay_min_us);
	uint32_t target = tcp_cubic_w(ca->origin, ca->k, t);
	uint32_t cap = cwnd + cwnd / 2;
	if (target > cap)
		target = cap;
	if (target > cwnd)
		ca->cnt = cwnd / (target - cwnd);
	else
		ca->cnt = 100u * cwnd; /* at or above the curve: hardly grow */
	if (ca->w_max == 0 && ca->cnt > CUBIC_FIRST_EPOCH_CNT)
		ca->cnt = CUBIC_FIRST_EPOCH_CNT;
}

/*
 * Per ACK in congestion avoidance: how many acked packets buy one more packet of cwnd.
 * As Linux's bictcp_update, cnt is worked out again at most every HZ / 32 ticks while cwnd
 * stays the same, and the curve at most once per tick (tcp_config.hz; at Debian's 250, 7
 * ticks of 4 ms): the ACKs in between only count toward W_est, which catches up at the
 * next update. With ACKs
 * closer than that (a short RTT), cwnd therefore follows W_est in steps rather than ACK by
 * ACK (docs/tcp.md, "CUBIC").
 */
static void tcp_cubic_update(struct tcp_conn *c, uint32_t acked)
{
	struct tcp_cubic *ca = tcp_cubic(c);
	uint32_t cwnd = tcp_cc_cwnd(c);
	usec_t now = c->tl->core->now;
	uint32_t now_tick = (uint32_t)tcp_cubic_jiffies(c->tl->cfg.hz, now);

	ca->ack_cnt += acked;
	if (ca->last_cwnd == cwnd && (int32_t)(now_tick - ca->last_tick) <= (int32_t)(c->tl->cfg.hz / 32u))
		return;
	if (!(ca->in_epoch && now_tick == ca->last_tick)) {
		ca->last_cwnd = cwnd;
		ca->last_tick = now_tick;
		tcp_cubic_curve(c, cwnd, acked);
	}

	/* 4.3: W_est grows as Reno would, alpha per window of ACKs. RFC 9438 raises alpha to 1
	 * once W_est passes the window before the reduction; Linux (tcp_friendliness with its
	 * beta_scale) keeps 0.53 throughout, and so does tapstack: a flow that shares a link
	 * with Linux's CUBIC must not grow twice as fast past its old window (the shared cell
	 * of docs/lossy-path.md, where the Reno-friendly region is where both flows live). */
	uint64_t per_packet = (uint64_t)cwnd * CUBIC_ONE;
	ca->est_credit += (uint64_t)ca->ack_cnt * CUBIC_ALPHA;
	ca->ack_cnt = 0;
	if (ca->est_credit >= per_packet) {
		uint64_t n = ca->est_credit / per_packet;
		ca->est_credit -= n * per_packet;
		ca->w_est = ca->w_est + n > TCP_CWND_CLAMP ? TCP_CWND_CLAMP : (uint32_t)(ca->w_est + n);
	}
	/* 4.3: where Reno would be ahead, follow W_est (spread over the RTT, as Linux). */
	if (ca->w_est > cwnd) {
		uint32_t max_cnt = cwnd / (ca->w_est - cwnd);
		if (ca->cnt > max_cnt)
			ca->cnt = max_cnt;
	}
	if (ca->cnt < 2)
		ca->cnt = 2;
}

static void tcp_cubic_cong_avoid(struct tcp_conn *c, uint32_t acked)
{
	acked = tcp_cc_grow_slow_start(c, acked);
	if (!acked)
		return;
	tcp_cubic_update(c, acked);
	tcp_cc_avoid_ai(c, tcp_cubic(c)->cnt, acked);
}

/* 4.6 multiplicative decrease and 4.7 fast convergence. */
static uint32_t tcp_cubic_ssthresh(struct tcp_conn *c)
{
	struct tcp_cubic *ca = tcp_cubic(c);
	uint32_t cwnd = tcp_cc_cwnd(c);
	ca->in_epoch = false;
	if (cwnd < ca->w_max)
		ca->w_max = (uint32_t)((uint64_t)cwnd * (CUBIC_ONE + CUBIC_BETA) / (2 * CUBIC_ONE));
	else
		ca->w_max = cwnd;
	uint32_t s = (uint32_t)((uint64_t)cwnd * CUBIC_BETA / CUBIC_ONE);
	return s > 2u ? s : 2u;
}

/* An RTO: start over, as Linux (the curve and W_max forgotten, HyStart armed again). */
static void tcp_cubic_set_state(struct tcp_conn *c, enum tcp_cc_state s)
{
	if (s == TCP_CC_LOSS) {
		memset(tcp_cubic(c), 0, sizeof(struct tcp_cubic));
		tcp_cubic_hystart_reset(c);
	}
}

/* Idle time is not curve time: the epoch moves forward by how long nothing was sent. */
static void tcp_cubic_cwnd_event(struct tcp_conn *c, enum tcp_cc_event ev)
{
	struct tcp_cubic *ca = tcp_cubic(c);
	usec_t now = c->tl->core->now;
	if (ev != TCP_CC_EV_TX_START || !ca->in_epoch || !c->lsndtime_valid || now <= c->lsndtime)
		return;
	ca->epoch_start += now - c->lsndtime;
	if (ca->epoch_start > now)
		ca->epoch_start = now;
}

/* How long the receiver may sit on an ACK in the train test (Linux hystart_ack_delay): the
 * time to send a 64 KiB burst at twice the slow-start rate, at most 1 ms. */
static uint32_t tcp_cubic_ack_delay_us(const struct tcp_conn *c)
{
	uint64_t per_rtt = (uint64_t)tcp_cc_cwnd(c) * (c->mss ? c->mss : 1);
	if (!c->rtt.srtt_us || !per_rtt)
		return 0;
	uint64_t d = 2ull * 65536u * c->rtt.srtt_us / per_rtt;
	return d < HYSTART_ACK_DELAY_MAX_US ? (uint32_t)d : HYSTART_ACK_DELAY_MAX_US;
}

static void tcp_cubic_hystart_update(struct tcp_conn *c, uint32_t delay)
{
	struct tcp_cubic *ca = tcp_cubic(c);
	usec_t now = c->tl->core->now;

	/* A new round when SND.UNA passes the last one's end, counted from the first ACK on:
	 * a round then begins with the first ACK of a flight. Looking only from 16 packets
	 * on (below) but starting rounds there too put their start in the middle of a
	 * flight, where the queue the flight builds is already deep, and the delay test
	 * ended slow start early (Linux's fix of 2025, "incorrect HyStart round start
	 * detection"; test_hystart_rounds_follow_flights). */
	if (seq_gt(c->snd.una, ca->end_seq))
		tcp_cubic_hystart_reset(c);
	if (tcp_cc_cwnd(c) < HYSTART_LOW_WINDOW)
		return;

	uint32_t detect = c->tl->cfg.hystart_detect;
	/* ACK train: ACKs spaced under 2 ms from the round's start for over half the min RTT. */
	if ((detect & HYSTART_ACK_TRAIN) && now - ca->last_ack <= HYSTART_ACK_DELTA_US) {
		ca->last_ack = now;
		uint64_t threshold = ((uint64_t)ca->delay_min_us + tcp_cubic_ack_delay_us(c)) / 2;
		if (now - ca->round_start > threshold) {
			ca->found = true;
			c->tl->ctr.HystartTrainDetect++;
			c->tl->ctr.HystartTrainCwnd += tcp_cc_cwnd(c);
			tcp_cc_set_ssthresh(c, tcp_cc_cwnd(c));
			return;
		}
	}
	/* Delay increase: the round's smallest RTT (after 8 samples) above min + clamp(min/8). */
	if (!(detect & HYSTART_DELAY))
		return;
	if (ca->curr_rtt_us > delay)
		ca->curr_rtt_us = delay;
	if (ca->sample_cnt < HYSTART_MIN_SAMPLES) {
		ca->sample_cnt++;
		return;
	}
	uint32_t thresh = ca->delay_min_us / 8;
	if (thresh < HYSTART_DELAY_MIN_US)
		thresh = HYSTART_DELAY_MIN_US;
	if (thresh > HYSTART_DELAY_MAX_US)
		thresh = HYSTART_DELAY_MAX_US;
	if (ca->curr_rtt_us > ca->delay_min_us + thresh) {
		ca->found = true;
		c->tl->ctr.HystartDelayDetect++;
		c->tl->ctr.HystartDelayCwnd += tcp_cc_cwnd(c);
		tcp_cc_set_ssthresh(c, tcp_cc_cwnd(c));
	}
}

static void tcp_cubic_pkts_acked(struct tcp_conn *c, const struct tcp_ack_sample *s)
{
	struct tcp_cubic *ca = tcp_cubic(c);
	usec_t now = c->tl->core->now;
	if (s->rtt_us < 0)
		return;
	/* Right after a reduction the queue drains: those RTTs say little (Linux). */
	if (ca->in_epoch && now - ca->epoch_start < CUBIC_RTT_SKIP_US)
		return;
	uint32_t delay = s->rtt_us ? (uint32_t)s->rtt_us : 1u;
	if (ca->delay_min_us == 0 || ca->delay_min_us > delay)
		ca->delay_min_us = delay;
	if (!ca->found && tcp_cc_in_slow_start(tcp_cc_cwnd(c), tcp_cc_ssthresh(c)))
		tcp_cubic_hystart_update(c, delay);
}

const struct tcp_cc_ops tcp_cubic_ops = {
	.name = "cubic",
	.init = tcp_cubic_init,
	.ssthresh = tcp_cubic_ssthresh,
	.cong_avoid = tcp_cubic_cong_avoid,
	.set_state = tcp_cubic_set_state,
	.cwnd_event = tcp_cubic_cwnd_event,
	.pkts_acked = tcp_cubic_pkts_acked,
};
