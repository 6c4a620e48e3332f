/*
 * tcp_rate.c - the delivery rate that TCP_INFO (tcpi_delivery_rate) and `tapstack ss -i`
 * report: how fast the peer has been acknowledging our data, in bytes per second.
 *
 * Linux takes one rate sample per ACK from per-segment snapshots (tcp_rate.c after
 * draft-cheng-iccrg-delivery-rate-estimation) because BBR steers by it. tapstack only shows
 * the figure, so it keeps a simpler measure with the same meaning: the bytes delivered
 * (cumulatively acknowledged or SACKed) over a window of at least one smoothed RTT, closed on
 * the ACK that ends the window. A window that finds nothing left in flight ends there, so idle
 * time between transfers (an application that stops writing) is not counted as slowness.
 *
 * Called by tcp_input.c (tcp_ack) once per acceptable ACK. Owns c->rate.
 */
#include "tcp/tcp_int.h"

void tcp_rate_ack(struct tcp_conn *c, uint32_t prior_una)
{
	struct tcp_rate *r = &c->rate;
	usec_t now = c->tl->core->now;
	if (seq_gt(c->snd.una, prior_una))
		r->acked += c->snd.una - prior_una;
	/* Delivered = cumulatively acknowledged + SACKed now: it never goes down as SACKed data
	 * becomes cumulatively acknowledged; a peer that reneges restarts the window. */
	uint64_t delivered = r->acked + c->sb.sacked;
	if (!r->t0 || delivered < r->d0) {
		r->t0 = now;
		r->d0 = delivered;
		return;
	}
	usec_t span = now - r->t0;
	usec_t window = c->rtt.srtt_us ? c->rtt.srtt_us : USEC_PER_MS;
	if (span >= window && delivered > r->d0) {
		r->bytes_per_sec = (delivered - r->d0) * USEC_PER_SEC / span;
		r->t0 = now;
		r->d0 = delivered;
	}
	if (c->snd.una == c->snd.max)
		r->t0 = 0; /* nothing in flight: the next delivery opens a new window */
}
