/*
 * tcp_rtt.h - the round-trip time estimator, one small object per connection (RFC 6298):
 * the smoothed RTT and its variation, the retransmission timeout derived from them, the
 * latest sample and a windowed minimum (Linux's min_rtt, read by CUBIC's HyStart and by
 * RACK's reordering window).
 *
 * Who calls it: tcp_input.c and tcp_listen.c feed samples (timestamps or a timed segment,
 * never a retransmitted one: Karn), tcp_recovery.c (RACK) and tcp_input.c the minimum's;
 * tcp_timer.c and tcp_recovery.c read the RTO and SRTT, RACK the minimum.
 * It owns nothing but its fields and reads no clock: the caller passes `now`.
 */
#ifndef TAPSTACK_TCP_TCP_RTT_H
#define TAPSTACK_TCP_TCP_RTT_H

#include <stdint.h>

#include "core/core.h"
#include "core/spares.h"

struct tcp_config;

/* One measurement kept by the windowed minimum: its value and when it was taken, in
 * milliseconds of a 32-bit clock (as Linux keeps it in jiffies: ages are differences, right
 * across the wrap, and the window is minutes, the wrap 49 days). */
struct tcp_rtt_mark {
	uint32_t rtt_us;
	uint32_t at_ms;
};

#define TCP_RTT_SENT_MAX 8u      /* bursts remembered for per-ACK samples */

/* New data that left at one moment: [start, end) at `at_us` (microseconds, 32 bits). */
struct tcp_rtt_sent {
	uint32_t start, end;
	uint32_t at_us;
};

struct tcp_rtt {
	uint32_t srtt_us;           /* SRTT (RFC 6298), srtt8 / 8; 0 until the first sample */
	uint32_t rttvar_us;         /* the deviation, mdev4 / 4 (what TCP_INFO reports as rttvar) */
	uint32_t rto_us;            /* RTO = SRTT + var, at most rto_max (tcp_rtt.c) */
	/* Linux's estimator state (tcp_rtt_estimator), in its fixed-point scales: */
	uint32_t srtt8;             /* 8 x SRTT */
	uint32_t mdev4;             /* 4 x the mean deviation */
	uint32_t mdev_max;          /* the largest mdev4 of this round trip, at least rto_min */
	uint32_t var;               /* the RTO's variation term: mdev_max, decaying per round trip */
	uint32_t rtt_seq;           /* SND.NXT when this round trip began */
	uint32_t latest_us;         /* the last sample (RACK's "most recent RTT") */
	/* The smallest sample of the last window (cfg->min_rtt_win_s), kept as the best, the
	 * second best and the third best measurement of successively later parts of the window,
	 * so that the minimum ages out without storing every sample (Kathleen Nichols' windowed
	 * filter, as Linux's lib/minmax.c). */
	struct tcp_rtt_mark min[3];
	/* When the latest bursts of new data left, oldest first (a ring), so that every ACK
	 * yields the time since the newest data it acknowledges left - Linux's per-skb send
	 * times, which congestion control (HyStart) samples on every ACK even without
	 * timestamps. A full ring takes no more entries until ACKs free some. Only for a
	 * connection without SACK: with SACK the scoreboard's records carry the send times
	 * (tcp_recovery.c, tcp_rec_ca_rtt), one owner, and the ring stays empty. The ring's
	 * TCP_RTT_SENT_MAX entries are taken with the first and given back when it empties
	 * (tcp_rtt_release), so a connection with SACK, or one with nothing in flight, holds
	 * none; the calls that take or give it name the stack's shelf of such rings (`sp`,
	 * core/spares.h; NULL: plain malloc and free). */
	struct tcp_rtt_sent *sent;
	uint8_t sent_head, sent_count;
};

/* Before any sample: RTO is the configured initial value (RFC 6298 2.1: 1 s). */
void tcp_rtt_init(struct tcp_rtt *r, const struct tcp_config *cfg);
/* One RTT measurement for the RTO (microseconds; 0 counts as 1), as Linux takes it; `una`
 * and `nxt` (SND.UNA, SND.NXT) mark the round trips the variation term lives by. */
void tcp_rtt_update(struct tcp_rtt *r, uint32_t rtt_us, uint32_t una, uint32_t nxt, const struct tcp_config *cfg);
/* One precise measurement for the windowed minimum, one per ACK: the age of the newest
 * segment sent once that the ACK delivered (the scoreboard's with SACK, the send-time
 * ring's without). Timestamp echoes, 1 ms coarse, are not used for it, nor is a zero
 * (delivered in the clock tick of its send). */
void tcp_rtt_min_sample(struct tcp_rtt *r, uint32_t rtt_us, usec_t now, const struct tcp_config *cfg);
/* New data [start, end) leaves at now (a burst at the same moment extends one entry). */
void tcp_rtt_sent_data(struct tcp_rtt *r, struct spares *sp, uint32_t start, uint32_t end, usec_t now);
/* Something is sent again: what is remembered could now be acknowledged by either copy
 * (Karn), so it is forgotten. */
void tcp_rtt_sent_forget(struct tcp_rtt *r, struct spares *sp);
/* Gives the send-time ring back (the connection ends); the ring is empty after it. */
void tcp_rtt_release(struct tcp_rtt *r, struct spares *sp);
/* An ACK up to `ack` at now: microseconds since the newest data it acknowledges left, or -1
 * when that is not remembered; *oldest the same for the oldest (the estimator's sample,
 * Linux's first_ackt). Entries it fully acknowledges are dropped. */
int32_t tcp_rtt_acked(struct tcp_rtt *r, struct spares *sp, uint32_t ack, usec_t now, int32_t *oldest);
/* The smallest RTT of the window, or 0 before any sample. */
static inline uint32_t tcp_rtt_min_us(const struct tcp_rtt *r)
{
	return r->min[0].rtt_us;
}

#endif
