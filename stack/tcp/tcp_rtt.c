/*
 * tcp_rtt.c - the RTT estimator (RFC 6298) and the windowed minimum RTT: see tcp_rtt.h.
 *
 * RFC 6298 2.2/2.3 in integer microseconds, alpha = 1/8 and beta = 1/4:
 *   first sample R:  SRTT = R, RTTVAR = R/2
 *   later samples:   RTTVAR = 3/4 RTTVAR + 1/4 |SRTT - R|,  SRTT = 7/8 SRTT + 1/8 R
 *   RTO = SRTT + max(G, 4 RTTVAR)
 * where Linux's floor takes the place of the clock granularity G: the variation term is at
 * least rto_min (200 ms), so a LAN connection's RTO is about SRTT + 200 ms rather than the
 * RFC's 1 s minimum (2.4), which Linux does not apply either. RTO is clamped to rto_max.
 */
#include "tcp/tcp_rtt.h"

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
static void tcp_rtt_min_update(struct tcp_rtt *r, uint32_t rtt_us, usec_t now, usec_t win)
{
	struct tcp_rtt_mark m = { rtt_us, now };
	struct tcp_rtt_mark *s = r->min;

	if (s[0].rtt_us == 0 || rtt_us <= s[0].rtt_us || now - s[2].at > win) {
		s[0] = s[1] = s[2] = m;
		return;
	}
	if (rtt_us <= s[1].rtt_us)
		s[1] = s[2] = m;
	else if (rtt_us <= s[2].rtt_us)
		s[2] = m;

	usec_t age = now - s[0].at;
	if (age > win) {
		/* The best sample is too old: the second best takes over, maybe the third. */
		s[0] = s[1];
		s[1] = s[2];
		s[2] = m;
		if (now - s[0].at > win) {
			s[0] = s[1];
			s[1] = s[2];
			s[2] = m;
		}
	} else if (s[1].at == s[0].at && age > win / 4) {
		/* A quarter of the window without a second choice: take this one. */
		s[1] = s[2] = m;
	} else if (s[2].at == s[1].at && age > win / 2) {
		s[2] = m;
	}
}

void tcp_rtt_update(struct tcp_rtt *r, uint32_t rtt_us, usec_t now, const struct tcp_config *cfg)
{
	if (rtt_us == 0)
		rtt_us = 1;
	r->latest_us = rtt_us;
	if (r->srtt_us == 0) {
		r->srtt_us = rtt_us;
		r->rttvar_us = rtt_us / 2;
	} else {
		uint32_t err = r->srtt_us > rtt_us ? r->srtt_us - rtt_us : rtt_us - r->srtt_us;
		r->rttvar_us = r->rttvar_us - r->rttvar_us / 4 + err / 4;
		r->srtt_us = r->srtt_us - r->srtt_us / 8 + rtt_us / 8;
	}
	uint64_t var = 4ull * r->rttvar_us;
	if (var < (uint64_t)cfg->rto_min_ms * 1000u)
		var = (uint64_t)cfg->rto_min_ms * 1000u;
	uint64_t rto = r->srtt_us + var;
	if (rto > (uint64_t)cfg->rto_max_ms * 1000u)
		rto = (uint64_t)cfg->rto_max_ms * 1000u;
	r->rto_us = (uint32_t)rto;
	(void)now;
}

void tcp_rtt_min_sample(struct tcp_rtt *r, uint32_t rtt_us, usec_t now, const struct tcp_config *cfg)
{
	/* Zero: the delivery came in the clock tick of its send (the stack reads its clock
	 * once per wake-up, and a fast path answers within one). That measures the clock, not
	 * the path, and would make RACK's reordering window zero: no sample. */
	if (rtt_us == 0)
		return;
	tcp_rtt_min_update(r, rtt_us, now, (usec_t)cfg->min_rtt_win_s * USEC_PER_SEC);
}

void tcp_rtt_sent_data(struct tcp_rtt *r, uint32_t start, uint32_t end, usec_t now)
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
	r->sent[(r->sent_head + r->sent_count) % TCP_RTT_SENT_MAX] = (struct tcp_rtt_sent){ start, end, at };
	r->sent_count++;
}

void tcp_rtt_sent_forget(struct tcp_rtt *r)
{
	r->sent_head = 0;
	r->sent_count = 0;
}

int32_t tcp_rtt_acked(struct tcp_rtt *r, uint32_t ack, usec_t now)
{
	int64_t rtt = -1;
	while (r->sent_count) {
		struct tcp_rtt_sent *e = &r->sent[r->sent_head];
		if (seq_leq(ack, e->start))
			break;
		rtt = (uint32_t)now - e->at_us; /* 32-bit clock: right across its wrap */
		if (seq_lt(ack, e->end))
			break; /* partly acknowledged: kept for the rest */
		r->sent_head = (uint8_t)((r->sent_head + 1) % TCP_RTT_SENT_MAX);
		r->sent_count--;
	}
	return rtt > INT32_MAX ? INT32_MAX : (int32_t)rtt;
}
