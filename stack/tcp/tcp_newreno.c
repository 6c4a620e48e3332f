/*
 * tcp_newreno.c - Reno's window arithmetic (RFC 5681), the algorithm of TCP_CONGESTION
 * "reno" (also found as "newreno"). Slow start adds a packet per packet acknowledged up to
 * ssthresh; congestion avoidance adds one packet per window acknowledged; a loss halves the
 * window. The NewReno part (RFC 6582: staying in fast recovery until everything sent before
 * the loss is acknowledged, resending at each partial ACK) is loss recovery, which
 * tcp_input.c runs for every algorithm; this file only decides the numbers, as Linux's
 * tcp_reno_* functions do.
 */
#include "tcp/tcp_int.h"

/* RFC 5681 3.1 (4) halves FlightSize; Linux halves cwnd, which equals it whenever the window
 * was in use (a sender that was not cwnd-limited did not grow it either). At least 2. */
static uint32_t tcp_newreno_ssthresh(struct tcp_conn *c)
{
	uint32_t half = tcp_cc_cwnd(c) >> 1;
	return half > 2u ? half : 2u;
}

static void tcp_newreno_cong_avoid(struct tcp_conn *c, uint32_t acked)
{
	acked = tcp_cc_grow_slow_start(c, acked);
	if (!acked)
		return;
	/* RFC 5681 3.1 equation (3): cwnd += SMSS*SMSS/cwnd per ACK is one packet per cwnd. */
	tcp_cc_avoid_ai(c, tcp_cc_cwnd(c), acked);
}

const struct tcp_cc_ops tcp_newreno_ops = {
	.name = "reno",
	.ssthresh = tcp_newreno_ssthresh,
	.cong_avoid = tcp_newreno_cong_avoid,
};
