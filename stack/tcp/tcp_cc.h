/*
 * tcp_cc.h - congestion control as a module (RFC 5681 framework; Linux's tcp_congestion_ops):
 * an ops table per algorithm, chosen per connection, with the state each algorithm keeps in
 * the connection's cc_priv area.
 *
 * Units are Linux's: the algorithms count the congestion window and the slow-start
 * threshold in packets (full-sized segments), not bytes, so that a window of 10 means 10
 * segments; the connection stores bytes (tcp_cc_cwnd() and friends convert), because RFC
 * 6675's pipe, which loss recovery compares cwnd with, is counted in bytes.
 *
 * Who calls it: tcp_input.c (each ACK; fast recovery without SACK), tcp_recovery.c (its
 * congestion-control hooks: ssthresh at a loss, cwnd at an undo, an RTO), tcp_timer.c (an
 * RTO without SACK), tcp_output.c (data sent after idle, cwnd validation), tcp.c (a new
 * connection) and the socket layer (TCP_CONGESTION). The algorithms: tcp_newreno.c,
 * tcp_cubic.c (the default).
 */
#ifndef TAPSTACK_TCP_TCP_CC_H
#define TAPSTACK_TCP_TCP_CC_H

#include <stdbool.h>
#include <stdint.h>

struct tcp_conn;
struct tcp_config;

#define TCP_INFINITE_SSTHRESH 0x7fffffffu /* Linux: ssthresh before the first loss */
#define TCP_CWND_CLAMP 0x7fffffffu        /* cwnd never exceeds this (packets) */
#define TCP_CWND_MAX_BYTES 0x7fffffffu    /* ... nor this (bytes, as stored) */
/* The per-connection private area (Linux ICSK_CA_PRIV_SIZE), sized for the largest
 * algorithm here, CUBIC's 80 bytes (a _Static_assert in tcp_cubic.c holds it to that). */
#define TCP_CC_PRIV_U64 10u

/* Linux's congestion-avoidance states (tcpi_ca_state reports them; the same numbers as
 * tcp_recovery.c's enum tcp_rec_state). */
enum tcp_cc_state {
	TCP_CC_OPEN = 0,
	TCP_CC_DISORDER = 1,
	TCP_CC_CWR = 2,
	TCP_CC_RECOVERY = 3,
	TCP_CC_LOSS = 4,
};
/* The connection's state in those terms (the scoreboard's with SACK, else NewReno's). */
enum tcp_cc_state tcp_cc_state(const struct tcp_conn *c);

/* Events an algorithm may react to (Linux enum tcp_cc_event). */
enum tcp_cc_event {
	TCP_CC_EV_TX_START,      /* the first data after the connection was idle (nothing in flight) */
	TCP_CC_EV_CWND_RESTART,  /* cwnd is being restarted after an idle period */
	TCP_CC_EV_LOSS,          /* an RTO: everything outstanding is presumed lost */
};

/* What one ACK delivered (Linux struct ack_sample). */
struct tcp_ack_sample {
	uint32_t pkts_acked;     /* segments newly acknowledged */
	int32_t rtt_us;          /* an RTT sample taken from this ACK, or -1 */
};

/*
 * An algorithm (Linux tcp_congestion_ops). ssthresh and cong_avoid are required; a NULL
 * hook means "nothing to do" (undo_cwnd: the Reno rule, max(cwnd, prior_cwnd)).
 */
struct tcp_cc_ops {
	const char *name;                                           /* as TCP_CONGESTION spells it */
	void (*init)(struct tcp_conn *c);                           /* a connection starts using it */
	uint32_t (*ssthresh)(struct tcp_conn *c);                   /* the new ssthresh on a loss */
	void (*cong_avoid)(struct tcp_conn *c, uint32_t acked);     /* grow cwnd: acked packets */
	void (*set_state)(struct tcp_conn *c, enum tcp_cc_state s); /* an RTO (LOSS); fast recovery without SACK */
	void (*cwnd_event)(struct tcp_conn *c, enum tcp_cc_event ev);
	void (*pkts_acked)(struct tcp_conn *c, const struct tcp_ack_sample *s);
	uint32_t (*undo_cwnd)(struct tcp_conn *c, uint32_t prior);  /* cwnd (packets) after a spurious loss */
};

extern const struct tcp_cc_ops tcp_newreno_ops;
extern const struct tcp_cc_ops tcp_cubic_ops;

/* The registered algorithm of that name, or NULL. "reno" and "newreno" both find NewReno. */
const struct tcp_cc_ops *tcp_cc_find(const char *name);

/* CUBIC's arithmetic, exposed for its tests: integer cube root; K in 1/1024 s (RFC 9438
 * eq. 2); W_cubic(t) in packets for t in 1/1024 s (eq. 1) around the plateau `origin`. */
uint64_t tcp_cubic_cbrt(uint64_t x);
uint32_t tcp_cubic_k(uint32_t w_max, uint32_t cwnd_epoch);
uint32_t tcp_cubic_w(uint32_t origin, uint32_t k, uint64_t t);
/* The curve's t one minimum RTT ahead, in 1/1024 s, counted as Linux counts it in
 * bictcp_update: whole kernel ticks (hz) from the epoch's tick to now's, plus the minimum
 * RTT rounded up to a tick (usecs_to_jiffies). */
uint64_t tcp_cubic_t(uint32_t hz, usec_t now, usec_t epoch_start, uint32_t delay_min_us);

/* ---- building blocks the algorithms share (Linux's tcp_cong.c helpers) ---- */

/* RFC 5681 3.1 slow start counting packets acked (RFC 3465 without the L limit, as Linux):
 * cwnd grows by acked up to ssthresh; returns the packets left over for avoidance. */
uint32_t tcp_cc_slow_start(struct tcp_conn *c, uint32_t acked);
/* The first half of every cong_avoid: nothing if the window is not in use (0), else slow
 * start while below ssthresh; returns the packets left for congestion avoidance. */
uint32_t tcp_cc_grow_slow_start(struct tcp_conn *c, uint32_t acked);
/* Additive increase: one packet per w packets acked (w = cwnd gives Reno's one per RTT). */
void tcp_cc_avoid_ai(struct tcp_conn *c, uint32_t w, uint32_t acked);
/* RFC 7661 2 / Linux tcp_is_cwnd_limited: is the window being used, so that growing it
 * means something? In slow start, up to twice what was most in flight counts as used. */
bool tcp_cc_cwnd_limited(const struct tcp_conn *c);
static inline bool tcp_cc_in_slow_start(uint32_t cwnd, uint32_t ssthresh)
{
	return cwnd < ssthresh;
}

/* ---- the windows as the algorithms see them ---- */

/* cwnd and ssthresh live in bytes in the connection (loss recovery's PRR and pipe count
 * bytes); the algorithms read and set them in packets of c->mss, as Linux's snd_cwnd.
 * An ssthresh of no loss yet reads as TCP_INFINITE_SSTHRESH. */
uint32_t tcp_cc_cwnd(const struct tcp_conn *c);
void tcp_cc_set_cwnd(struct tcp_conn *c, uint32_t pkts);
uint32_t tcp_cc_ssthresh(const struct tcp_conn *c);
void tcp_cc_set_ssthresh(struct tcp_conn *c, uint32_t pkts);

/* ---- the calls the rest of TCP makes ---- */

/* A new connection: its algorithm (from the socket option or the stack default), the initial
 * window (RFC 6928 IW10), ssthresh infinite, then the algorithm's init. */
void tcp_cc_init(struct tcp_conn *c);
/* TCP_CONGESTION on a connection: -ENOENT for an unknown name (Linux). */
int tcp_cc_select(struct tcp_conn *c, const struct tcp_cc_ops *ops);
/* An ACK that advanced SND.UNA by acked_bytes while cwnd may grow (not reducing):
 * pkts_acked with the RTT sample (or -1), then cong_avoid. */
void tcp_cc_on_ack(struct tcp_conn *c, uint32_t acked_bytes, int32_t rtt_us);
/* An RTT sample from an ACK that cong_avoid does not see (in recovery): pkts_acked only. */
void tcp_cc_on_rtt(struct tcp_conn *c, uint32_t acked_bytes, int32_t rtt_us);
/* cong_avoid alone, for the bytes an ACK newly ACKed or SACKed (Linux's acked_sacked): the
 * scoreboard's connections, whose pkts_acked goes through tcp_cc_on_rtt. */
void tcp_cc_on_delivered(struct tcp_conn *c, uint32_t delivered_bytes);
/* The ssthresh a loss leaves, in bytes: the algorithm's (Reno half, CUBIC 0.7 of cwnd;
 * CUBIC also remembers W_max here), at least two segments. Once per reduction. */
uint32_t tcp_cc_loss_ssthresh(struct tcp_conn *c);
/* cwnd after a reduction is undone (Eifel, D-SACK): the algorithm's rule, by default
 * Reno's, the larger of now and before (prior_bytes). */
uint32_t tcp_cc_undo_cwnd(struct tcp_conn *c, uint32_t prior_bytes);
/* An RTO started a loss episode: the algorithm starts over (CUBIC forgets its curve). */
void tcp_cc_on_rto(struct tcp_conn *c);
/* Fast retransmit without SACK (RFC 6582): ssthresh from the algorithm. */
void tcp_cc_enter_recovery(struct tcp_conn *c);
/* An RTO without SACK (RFC 5681 3.1 (4), Linux tcp_enter_loss), before the retry count
 * goes up: ssthresh from the algorithm once per episode, cwnd one segment. */
void tcp_cc_enter_loss(struct tcp_conn *c);
/* New data is about to be sent: the after-idle restart (RFC 5681 4.1, RFC 7661, Linux
 * tcp_slow_start_after_idle) and the TX_START event when nothing was in flight. */
void tcp_cc_data_sent(struct tcp_conn *c, bool idle);
/* After a send (Linux tcp_cwnd_validate's second half, RFC 2861 / RFC 7661): a window not
 * filled for an RTO shrinks halfway to what was used, when slow_start_after_idle is on. */
void tcp_cc_validate(struct tcp_conn *c, bool cwnd_limited, uint32_t pkts_out);
/* ssthresh (packets) as a sender that is not reducing would keep it (tcp_current_ssthresh). */
uint32_t tcp_cc_current_ssthresh(const struct tcp_conn *c);
/* The MSS shrank (a path MTU learned from ICMP): cwnd and ssthresh keep their number of
 * packets, as Linux's do, so their bytes shrink with it. */
void tcp_cc_mss_changed(struct tcp_conn *c, uint32_t old_mss);
/* Packets in `bytes` (whole MSS-sized segments, a short one counting as one). */
uint32_t tcp_cc_pkts(const struct tcp_conn *c, uint32_t bytes);

#endif
