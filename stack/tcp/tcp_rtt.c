/*
 * tcp_rtt.c - the RTT estimator (RFC 6298) and the windowed minimum RTT: see tcp_rtt.h.
 *
 * RFC 6298 2.2/2.3 with alpha = 1/8 and beta = 1/4, as Linux computes it (tcp_rtt_estimator,
 * in the same fixed-point scales: 8 x SRTT, 4 x the mean deviation):
 *   first sample R:  SRTT = R, mdev = R/2, var = max(4 mdev, rto_min)
 *   later samples:   SRTT = 7/8 SRTT + 1/8 R;  mdev = 3/4 mdev + 1/4 |R - SRTT|, except
 *                    that a sample below SRTT moves mdev with 1/32 of the excess over mdev
 *                    (Linux's answer to the Eifel problem: a falling RTT must not raise RTO)
 *   RTO = SRTT + var
 * where var, the RFC's 4 RTTVAR, is the largest 4 mdev seen in the current round trip (from
 * SND.NXT at its start until SND.UNA passes it), never below rto_min (200 ms), and falls
 * only a quarter of the way to the new round trip's value each round trip. So a LAN
 * connection's RTO is SRTT + 200 ms rather than the RFC's 1 s minimum (2.4), which Linux
 * does not apply either; one spike raises it at once, and it comes down over round trips,
 * not samples. RTO is clamped to rto_max.
 */
#include "tcp/tcp_rtt.h"

#include <stdlib.h>

#include "tcp/tcp.h"
#include "tcp/tcp_seq.h"

void tcp_rtt_init(struct tcp_rtt *r, const struct tcp_config *cfg)
{
	*r = (struct tcp_rtt){ .rto_us = cfg->rto_init_ms * 1000u };
}

/*
 * The windowed minimum: min[0] is the best sample of the window, min[1] the best taken after
 * it, min[2] the best after that. A new sample that beats min[0], or a window that passed
 * without any refresh, restarts all three; otherwise it replaces the later marks it beats,
 * and as the window slides, min[0] ages out and the later marks move up.
 */
static void tcp_rtt_min_update(struct tcp_rtt *r, uint32_t rtt_us, uint32_t now, uint32_t win)
{
	struct tcp_rtt_mark m = { rtt_us, now };
	struct tcp_rtt_mark *s = r->min;

	if (s[0].rtt_us == 0 || rtt_us <= s[0].rtt_us || now - s[2].at_ms > win) {
		s[0] = s[1] = s[2] = m;
		return;
	}
	if (rtt_us <= s[1].rtt_us)
		s[1] = s[2] = m;
	else if (rtt_us <= s[2].rtt_us)
		s[2] = m;

	uint32_t age = now - s[0].at_ms;
	if (age > win) {
		/* The best sample is too old: the second best takes over, maybe the third. */
		s[0] = s[1];
		s[1] = s[2];
		s[2] = m;
		if (now - s[0].at_ms > win) {
			s[0] = s[1];
			s[1] = s[2];
			s[2] = m;
		}
	} else if (s[1].at_ms == s[0].at_ms && age > win / 4) {
		/* A quarter of the window without a second choice: take this one. */
		s[1] = s[2] = m;
	} else if (s[2].at_ms == s[1].at_ms && age > win / 2) {
		s[2] = m;
	}
}

void tcp_rtt_update(struct tcp_rtt *r, uint32_t rtt_us, uint32_t una, uint32_t nxt, const struct tcp_config *cfg)
{
	uint32_t rto_min = cfg->rto_min_ms * 1000u;
	if (rtt_us == 0)
		rtt_us = 1;
	if (rtt_us > INT32_MAX / 8)
		rtt_us = INT32_MAX / 8;
	r->latest_us = rtt_us;
	if (r->srtt8 == 0) {
		r->srtt8 = rtt_us << 3;
		r->mdev4 = rtt_us << 1;
		r->var = r->mdev4 > rto_min ? r->mdev4 : rto_min;
		r->mdev_max = r->var;
		r->rtt_seq = nxt;
	} else {
		int64_t m = (int64_t)rtt_us - (r->srtt8 >> 3); /* the error */
		r->srtt8 = (uint32_t)((int64_t)r->srtt8 + m);
		if (m < 0) {
			m = -m - (r->mdev4 >> 2);
			if (m > 0)
				m >>= 3;
		} else {
			m -= r->mdev4 >> 2;
		}
		r->mdev4 = (uint32_t)((int64_t)r->mdev4 + m);
		if (r->mdev4 > r->mdev_max) {
			r->mdev_max = r->mdev4;
			if (r->mdev_max > r->var)
				r->var = r->mdev_max;
		}
		if (seq_gt(una, r->rtt_seq)) {
			/* A round trip ended: var falls a quarter of the way to its peak in it. */
			if (r->mdev_max < r->var)
				r->var -= (r->var - r->mdev_max) >> 2;
			r->rtt_seq = nxt;
			r->mdev_max = rto_min;
		}
	}
	if (r->srtt8 < 8)
		r->srtt8 = 8;
	r->srtt_us = r->srtt8 >> 3;
	r->rttvar_us = r->mdev4 >> 2;
	uint64_t rto = (uint64_t)r->srtt_us + r->var;
	if (rto > (uint64_t)cfg->rto_max_ms * 1000u)
		rto = (uint64_t)cfg->rto_max_ms * 1000u;
	r->rto_us = (uint32_t)rto;
}

void tcp_rtt_min_sample(struct tcp_rtt *r, uint32_t rtt_us, usec_t now, const struct tcp_config *cfg)
{
	/* Zero: the delivery came in the clock tick of its send (the stack reads its clock
	 * once per wake-up, and a fast path answers within one). That measures the clock, not
	 * the path, and would make RACK's reordering window zero: no sample. */
	if (rtt_us == 0)
		return;
	/* Milliseconds, as the marks keep time; at most a day, as Linux bounds tcp_min_rtt_wlen. */
	uint32_t win_s = cfg->min_rtt_win_s < 86400u ? cfg->min_rtt_win_s : 86400u;
	tcp_rtt_min_update(r, rtt_us, (uint32_t)(now / 1000u), win_s * 1000u);
}

void tcp_rtt_sent_data(struct tcp_rtt *r, struct spares *sp, uint32_t start, uint32_t end, usec_t now)
{
	uint32_t at = (uint32_t)now;
	if (r->sent_count) {
		struct tcp_rtt_sent *last = &r->sent[(r->sent_head + r->sent_count - 1) % TCP_RTT_SENT_MAX];
		if (last->at_us == at && last->end == start) {
			last->end = end; /* the same burst */
			return;
		}
		if (r->sent_count == TCP_RTT_SENT_MAX)
			return; /* full: the oldest, whose ACKs come first, are worth more */
	}
	if (!r->sent && !(r->sent = spares_take(sp, TCP_RTT_SENT_MAX * sizeof(*r->sent))))
		return; /* no memory: this burst gives no per-ACK sample (the estimator has others) */
	r->sent[(r->sent_head + r->sent_count) % TCP_RTT_SENT_MAX] = (struct tcp_rtt_sent){ start, end, at };
	r->sent_count++;
}

void tcp_rtt_release(struct tcp_rtt *r, struct spares *sp)
{
	spares_give(sp, r->sent, TCP_RTT_SENT_MAX * sizeof(*r->sent));
	r->sent = NULL;
	r->sent_head = 0;
	r->sent_count = 0;
}

void tcp_rtt_sent_forget(struct tcp_rtt *r, struct spares *sp)
{
	tcp_rtt_release(r, sp);
}

int32_t tcp_rtt_acked(struct tcp_rtt *r, struct spares *sp, uint32_t ack, usec_t now, int32_t *oldest)
{
	int64_t rtt = -1;
	*oldest = -1;
	while (r->sent_count) {
		struct tcp_rtt_sent *e = &r->sent[r->sent_head];
		if (seq_leq(ack, e->start))
			break;
		rtt = (uint32_t)now - e->at_us; /* 32-bit clock: right across its wrap */
		if (*oldest < 0)
			*oldest = rtt > INT32_MAX ? INT32_MAX : (int32_t)rtt;
		if (seq_lt(ack, e->end))
			break; /* partly acknowledged: kept for the rest */
		r->sent_head = (uint8_t)((r->sent_head + 1) % TCP_RTT_SENT_MAX);
		r->sent_count--;
	}
	if (r->sent && r->sent_count == 0)
		tcp_rtt_release(r, sp); /* nothing timed in flight: an idle connection holds no ring */
	return rtt > INT32_MAX ? INT32_MAX : (int32_t)rtt;
}
