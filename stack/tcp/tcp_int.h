/*
 * tcp_int.h - the TCP layer's internals, shared by the files of stack/tcp/ only.
 *
 * Objects (all found through the hashed tables of struct tcp_layer, never by a scan):
 *   struct tcp_listener  a listening socket: its SYN queue (struct tcp_req entries) and
 *                        its FIFO accept queue of established connections;
 *   struct tcp_req       a half-open connection (SYN received, SYN-ACK sent), ~100 bytes;
 *   struct tcp_conn      a full TCB (RFC 9293 3.3.1) with buffers allocated lazily;
 *   struct tcp_tw        a TIME-WAIT entry, ~80 bytes, so thousands cost little.
 * Requests, connections and TIME-WAIT entries share the 4-tuple table (kind-tagged
 * nodes); listeners are hashed by local port.
 *
 * Files: tcp.c (layer, demux, connection objects), tcp_hash.c (the tables, port
 * reservations), tcp_input.c (RFC 9293 3.10.7 for connections), tcp_ooo.c (out-of-order
 * queue), tcp_timewait.c (TIME-WAIT entries), tcp_listen.c (listeners, SYN and accept
 * queues), tcp_syncookie.c (RFC 4987), tcp_output.c (building and sending segments, RSTs),
 * tcp_timer.c (RTO, delayed ACK, persist, keepalive, SYN-ACK retries), tcp_conn.c (user
 * calls: connect, send, recv, close), tcp_info.c (ss rows, TCP_INFO), tcp_isn.c (RFC 6528),
 * tcp_buf.c (byte rings), tcp_sack.c (the SACK scoreboard: what the peer holds, what is
 * lost; RFC 2018 / 6675), tcp_recovery.c (loss recovery: RACK-TLP, PRR, undo; RFC 8985,
 * 6937, 2883, 3708, 5682), tcp_rtt.c (the RTT estimator), tcp_cc.c (congestion control
 * framework) with tcp_cubic.c and tcp_newreno.c (the algorithms).
 */
#ifndef TAPSTACK_TCP_TCP_INT_H
#define TAPSTACK_TCP_TCP_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "core/core.h"
#include "tcp/tcp.h"
#include "tcp/tcp_cc.h"
#include "tcp/tcp_rtt.h"
#include "tcp/tcp_seq.h"
#include "wire/tcp.h"

#define TCP_MSS_DEFAULT 536u            /* RFC 9293 3.7.1: without the option */
#define TCP_TS_OPT_LEN 12u              /* timestamps as every segment carries them once agreed (RFC 7323), aligned */
#define TCP_MSS_MIN 88u                 /* Linux TCP_MIN_MSS: clamp of silly peer values */
#define TCP_WSCALE_MAX 14u              /* RFC 7323 2.3 */
#define TCP_MAX_QUICKACKS 16u           /* Linux: ACK the first segments at once */
#define TCP_STRETCH_ACK_MAX 65536u      /* most data one batch-end ACK may cover (a GRO super-packet) */
#define TCP_PERSIST_MAX_MS 120000u
#define TCP_RTO_MIN_MS 200u             /* Linux TCP_RTO_MIN: the base of the give-up time (tcp_retrans_timeout) */
#define TCP_TS_HZ 1000u                 /* TSval ticks per second (Linux: ms) */
#define TCP_PAWS_24DAYS_S (24u * 86400u) /* RFC 7323 5.5: ts_recent goes stale */
#define TCP_PAWS_WINDOW 1               /* Linux: a TSval one tick older still passes PAWS */
#define TCP_ISN_TICK_US 4u              /* RFC 6528 / 9293 3.4.1: the clock ticks every 4 us */
#define TCP_HASH_MIN_BUCKETS 1024u
#define TCP_INVALID_RATELIMIT_MS 500u   /* Linux tcp_invalid_ratelimit: ACKs to unacceptable segments */
#define TCP_PB_FIN 0x80u                /* pbuf flag in the out-of-order queue: FIN follows the data */
#define TCP_EOR_MARKS 16u               /* MSG_EOR records in flight at once per connection */
#define TCP_PUSH_MARKS 16u              /* PSH positions remembered in the send queue (tcp_buf.c) */
#define TCP_LINUX_GSO_MAX 65536u        /* Linux's sk_gso_max_size (GSO_LEGACY_MAX_SIZE): its skb size limit */
/* Linux's skb sizes on x86-64 (6.18), to charge the buffers as Linux charges them. */
#define SKB_SHINFO 320u                 /* SKB_DATA_ALIGN(sizeof(struct skb_shared_info)) */
#define SKB_STRUCT 256u                 /* SKB_DATA_ALIGN(sizeof(struct sk_buff)) */
#define SKB_MAX_TCP_HEADER 320u         /* MAX_TCP_HEADER: the head room of a TX skb */
#define SKB_SMALL_HEAD (SKB_MAX_TCP_HEADER + SKB_SHINFO) /* the small-head cache of skbuff.c */
/* What one skb of Linux's send queue costs before its payload (tcp_stream_alloc_skb: a
 * 320-byte head from the small-head cache, so SKB_TRUESIZE(320) = 896); each byte copied
 * into it adds one (docs/tcp.md "The send buffer"). */
#define TCP_SKB_TX_TRUESIZE (SKB_SMALL_HEAD + SKB_STRUCT)
#define TCP_SNDBUF_MIN_SEGS 10u         /* Linux tcp_sndbuf_expand's floor (TCP_INIT_CWND) */
#define TCP_SKBQ_MIN 16u                /* skb records a send queue starts with */
#define TCP_SKBQ_MAX 16384u             /* ... and holds at most (more splits go uncounted) */

/* RFC 9293 3.3.2 states, in the RFC's names. */
enum tcp_state {
	TCPS_CLOSED,
	TCPS_LISTEN,
	TCPS_SYN_SENT,
	TCPS_SYN_RECEIVED,
	TCPS_ESTABLISHED,
	TCPS_FIN_WAIT_1,
	TCPS_FIN_WAIT_2,
	TCPS_CLOSE_WAIT,
	TCPS_CLOSING,
	TCPS_LAST_ACK,
	TCPS_TIME_WAIT,
	TCPS_NSTATES
};

const char *tcp_state_name(enum tcp_state s);

enum tcp_hkind { TCP_HK_CONN, TCP_HK_REQ, TCP_HK_TW, TCP_HK_LISTEN };

/* A node in one of the hash tables: the addresses are the key (host order). */
struct tcp_hnode {
	struct tcp_hnode *next;
	uint32_t laddr, raddr;
	uint16_t lport, rport;
	uint8_t kind;               /* enum tcp_hkind */
	bool hashed;
	bool reuse;                 /* SO_REUSEADDR when it began (Linux sk_reuse): tcp_port_bind */
};

/* A byte ring: the send buffer (bytes from SND.UNA). Received data is kept in its pbufs instead
 * (tcp_buf.c, the receive queue). */
struct tcp_ring {
	struct tcp_layer *tl;       /* its storage is charged to tl->mem_used (tcp_mem.c); NULL: not */
	uint8_t *buf;               /* NULL until the first byte (lazy: idle connections are small) */
	uint32_t cap;               /* capacity when allocated */
	uint32_t head;              /* offset of the first byte */
	uint32_t len;
	/* Lent to a late device (tcp_ring_lend): the epoch of the last lending (core_tx) and
	 * the lowest offset from head lent in it. */
	uint32_t lent_epoch;
	uint32_t lent_off;
};

/*
 * Where Linux's skbs would cut the send queue (tcp_buf.c): the sequence number each one ends
 * at, oldest first, for the bytes [SND.UNA, SND.UNA + sndq.len). A write makes skbs of
 * tcp_size_goal() bytes; a transmission that sends part of one splits it (tso_fragment); an
 * ACK that passes an end frees that skb. Their number prices the queue as Linux's
 * sk_wmem_queued (tcp_wmem_queued). A ring of cap (a power of two) ends, n used from head,
 * allocated with the first skb and freed when the queue drains.
 */
struct tcp_skbq {
	uint32_t *end;
	uint32_t cap, head, n;
};

/* The segment as the state machine sees it: parsed once, host order (CONTRIBUTING.md rule 3). */
struct tcp_seg {
	struct tcp_hdr h;
	uint32_t src, dst;          /* IP addresses, host order */
	uint32_t seq, ack;
	uint32_t len;               /* SEG.LEN: payload + SYN + FIN (RFC 9293 3.4) */
	uint32_t dlen;              /* payload bytes */
	const uint8_t *data;        /* payload (inside pb) */
	struct pbuf *pb;            /* the owning pbuf: data is pb->data .. pb->data + dlen */
	uint32_t wnd;               /* SEG.WND, scaled when the connection agreed to it */
	uint8_t flags;
	uint8_t tos;
	bool disordered;            /* a reordered duplicate ACK let past PAWS (tcp_step_paws) */
};

/* Half-open entry in a listener's SYN queue (Linux's request_sock). */
struct tcp_req {
	struct tcp_hnode hn;
	struct tcp_listener *lis;
	struct tcp_req *qnext, *qprev;  /* SYN queue list of the listener */
	struct timer timer;             /* SYN-ACK retransmission */
	uint32_t iss, irs;
	uint32_t ts_recent;
	uint32_t snd_wnd;               /* the peer's window from its SYN, unscaled */
	uint16_t peer_mss;
	uint8_t snd_wscale, rcv_wscale;
	uint8_t retrans;
	bool wscale_ok, sack_ok, ts_ok;
	bool acked;                     /* final ACK came while the accept queue was full */
	uint32_t ts_offset;
	usec_t sent_at;                 /* first SYN-ACK: RTT sample when not retransmitted */
	bool cookie;                    /* rebuilt from a SYN cookie: in no queue or table */
	bool from_cookie;               /* kept from a valid cookie ACK (tcp_req_keep_cookie) */
	uint8_t syn_opts;               /* TCP_SYN_OPT_*: what the SYN carried (ts_handshake) */
	uint8_t syn_wscale;             /* the SYN's shift as sent, before clamping */
};

/* A request's options from its SYN's (o): what was offered, clamped to what the stack
 * allows; and its TSval offset (r->iss set first). */
void tcp_req_syn_opts(const struct tcp_listener *l, struct tcp_req *r, const struct tcp_opts *o);

/* The options a SYN carried, as sent (struct tcp_req's syn_opts). */
#define TCP_SYN_OPT_MSS 0x01u
#define TCP_SYN_OPT_WSCALE 0x02u
#define TCP_SYN_OPT_SACK 0x04u
#define TCP_SYN_OPT_TS 0x08u

struct tcp_listener {
	struct tcp_hnode hn;            /* kind TCP_HK_LISTEN; raddr/rport 0 */
	struct tcp_layer *tl;
	struct tcp_sockopts opts;       /* inherited by every accepted connection */
	uint32_t owner;                 /* readiness token (tcp_listener_set_owner), 0 = none */
	uint32_t backlog;
	struct tcp_req *synq;           /* SYN queue: doubly linked, newest first */
	uint32_t synq_len;
	struct tcp_conn *acceptq_head, *acceptq_tail; /* FIFO of established connections */
	uint32_t acceptq_len;
	usec_t last_overflow;           /* when the SYN queue last overflowed (cookies valid after) */
};

/* TIME-WAIT entry: only what 3.10.7.4 needs to re-ACK a FIN and reject old duplicates. */
struct tcp_tw {
	struct tcp_hnode hn;
	struct tcp_layer *tl;
	struct tcp_tw *tw_next, *tw_prev;   /* tl->tw_head .. tw_tail, by expiry */
	usec_t expires;                     /* end of its 2 MSL (tl->tw_timer serves them all) */
	uint32_t snd_nxt, rcv_nxt;
	uint32_t ts_recent, ts_offset;
	uint16_t rcv_wnd;               /* as last advertised, already scaled down */
	uint8_t tos;                    /* the connection's IP_TOS, for its ACKs (Linux tw_tos) */
	bool ts_ok;
};

/*
 * One sent segment in the scoreboard (tcp_sack.c): the marks Linux keeps in each skb of
 * its retransmission queue. The bytes themselves stay in the send ring; a record only
 * says what happened to [seq, end). A FIN counts one in end (TCP_TX_FIN).
 */
struct tcp_txseg {
	uint32_t seq, end;
	usec_t sent;                /* last (re)transmission: RACK's xmit time (RFC 8985 5.2) */
	uint32_t order;             /* ... and its place among the transmissions (tcp_sb.xmit_order) */
	uint8_t marks;              /* TCP_TX_* */
	uint8_t xmits;              /* transmissions so far (1 + retransmissions) */
};
#define TCP_TX_SACKED       0x01u   /* the receiver holds it (a SACK block covered it whole) */
#define TCP_TX_LOST         0x02u   /* deemed lost (RACK, RFC 6675 IsLost, an RTO): to be resent */
#define TCP_TX_RETRANS      0x04u   /* resent since it was marked lost, and still in flight */
#define TCP_TX_EVER_RETRANS 0x08u   /* resent at least once (RTT samples are ambiguous) */
#define TCP_TX_FIN          0x10u   /* the record ends with our FIN */
#define TCP_TX_RACK_JUDGED  0x20u   /* RACK found this transmission lost; it does not judge it
                                     * again until it is resent (Linux takes the skb off its
                                     * time-sorted list), even if an undo clears LOST */

/*
 * The scoreboard (RFC 6675 2): the records of [SND.UNA, SND.MAX) in sequence order in a
 * ring that grows by doubling (never per packet) up to TCP_SB_MAX_SEGS, and the bytes
 * that carry each mark, so that pipe is O(1). Used only when SACK was negotiated.
 */
#define TCP_REORDERING_INIT 3u      /* Linux tcp_reordering: DupThresh */
#define TCP_REORDERING_MAX 300u     /* Linux tcp_max_reordering */
#define TCP_RACK_RECOVERY_THRESH 16u /* recoveries a widened reordering window lasts (Linux) */
#define TCP_NUM_SACKS 4u             /* SACK blocks a receiver remembers (Linux TCP_NUM_SACKS) */
#define TCP_SB_MIN_SEGS 64u
#define TCP_SB_MAX_SEGS 16384u      /* segments in flight at most; tcp_output waits beyond */
struct tcp_sb {
	struct tcp_txseg *seg;      /* NULL until the first segment is sent */
	uint32_t cap, head, n;      /* ring of cap (a power of two) records, n used from head */
	uint32_t sacked, lost, retrans;  /* sequence-space bytes with each mark */
	uint32_t high_sacked;       /* end of the highest SACKed byte (valid when sacked) */
	uint32_t rtx_hint;          /* every lost record below this seq has been resent */
	/* Counts transmissions (a new burst, a resend): which of two records stamped in one
	 * clock tick left later, for RACK (the clock is read once per wake-up). Never reset
	 * while the connection lives, also when the board is freed (as Linux's tp->delivered). */
	uint32_t xmit_order;
};

/* Linux's congestion-avoidance states (tcp_ca_state, same order), used with the scoreboard. */
enum tcp_rec_state { TCP_REC_OPEN, TCP_REC_DISORDER, TCP_REC_CWR, TCP_REC_RECOVERY, TCP_REC_LOSS };

/* Loss recovery with the scoreboard (tcp_recovery.c). */
struct tcp_recov {
	uint32_t high_seq;          /* SND.MAX when recovery or loss began (RFC 6675 RecoveryPoint) */
	/* RACK (RFC 8985 6.1): the most recently sent segment that was delivered. */
	usec_t rack_xmit;
	uint32_t rack_order;
	uint32_t rack_end;
	uint32_t rack_rtt_us;
	uint32_t fack;              /* highest sequence delivered (ACKed or SACKed), if fack_valid */
	uint32_t reord_seen;        /* times a segment was delivered below a later one (6.2 step 3) */
	uint32_t reordering;        /* how far, in segments (Linux tp->reordering; 0 means 3) */
	uint32_t reo_grown_order;   /* the transmission order when reo_wnd_steps grew from a
	                             * D-SACK (Linux rack.last_delivered), if reo_grown */
	uint32_t reo_timeout_us;    /* RACK's reordering timer, from the last detection; 0: none */
	/* TLP (RFC 8985 7). */
	uint32_t tlp_high_seq;      /* SND.MAX after the probe went; 0: no probe outstanding */
	uint32_t tlp_start;         /* first sequence number of the probe */
	/* PRR (RFC 6937 3), bytes. */
	uint32_t prr_recover_fs, prr_delivered, prr_out;
	/* Undo (RFC 3708, RFC 3522, RFC 5682; Linux's undo_marker / undo_retrans). */
	uint32_t undo_cwnd;         /* cwnd before the reduction, bytes (Linux prior_cwnd) */
	uint32_t undo_ssthresh;     /* packets: tcp_cc_current_ssthresh then (Linux prior_ssthresh) */
	uint32_t undo_una;          /* SND.UNA when the episode began (Linux undo_marker) */
	uint32_t undo_retrans;      /* retransmissions not yet shown spurious by a D-SACK */
	uint32_t undo_rexmits;      /* retransmissions of the episode */
	uint32_t undo_tsval;        /* our TSval on the first retransmission (Eifel, RFC 3522) */
	/* The small ones together (no padding between them): */
	uint8_t ca_state;           /* enum tcp_rec_state */
	uint8_t reo_wnd_steps;      /* the reordering window in min_rtt/4 units (6.2 step 4) */
	uint8_t reo_wnd_persist;    /* recoveries left before it falls back to one step */
	bool rack_valid;            /* rack_* hold a delivered segment */
	bool fack_valid;
	bool reord_assumed;         /* an undo showed a reduction spurious: RACK acts as if it had */
	bool dsack_seen;            /* a D-SACK arrived since reo_wnd_steps last grew */
	bool reo_grown;             /* reo_wnd_steps grew from a D-SACK: reo_grown_order is valid */
	bool rack_advanced;         /* a delivery (or an undo) since RACK last looked (Linux
	                             * rack.advanced): the next ACK runs the detection */
	bool rexmit_hold;           /* this ACK showed an original delayed while our resends are
	                             * out: no new marks, no resends until the next ACK (Linux
	                             * tcp_try_undo_partial returning early) */
	bool tlp_retrans;           /* the probe was a retransmission */
	bool undo_armed;            /* a reduction that can still be undone */
	bool frto;                  /* F-RTO (RFC 5682) is judging an RTO */
	bool frto_new;              /* F-RTO step 2b: this ACK sends new data, not resends */
};

/* What a connection knows of the urgent byte it was told about (Linux's urg_data). */
enum { TCP_URG_NONE, TCP_URG_NOTYET, TCP_URG_VALID, TCP_URG_READ };

/* ack_pushed (tcp_delack.c, Linux ICSK_ACK_PUSHED and PUSHED2) */
#define TCP_ACK_PUSHED  0x01u
#define TCP_ACK_PUSHED2 0x02u

/* Connection flags (BSD's TF_*): decided on input, acted on by tcp_output(). */
#define TCP_F_ACK_NOW     0x0001u   /* send an ACK even if there is nothing else */
#define TCP_F_DELACK      0x0002u   /* an ACK is owed; the delayed-ACK timer is armed */
#define TCP_F_FIN_QUEUED  0x0004u   /* user closed the sending side: FIN after the data */
#define TCP_F_FIN_SENT    0x0008u
#define TCP_F_ORPHAN      0x0010u   /* the socket let go: TCP frees the connection */
#define TCP_F_RCV_SHUT    0x0020u   /* shutdown(SHUT_RD) */
#define TCP_F_FIN_RCVD    0x0040u   /* the peer's FIN is in sequence: reads end there */
#define TCP_F_SYN_SENT    0x0080u   /* our SYN (active open) is in flight */
#define TCP_F_IN_RECOVERY 0x0100u   /* RFC 6582 fast recovery */
#define TCP_F_RTT_TIMING  0x0200u   /* one segment is being timed (no timestamps) */
#define TCP_F_PERSIST     0x0400u   /* rtx timer is the persist timer */
#define TCP_F_PASSIVE     0x0800u   /* came from a listener */
#define TCP_F_RESET       0x1000u   /* ended by a RST or a timeout (no FIN to read) */
#define TCP_F_SND_SHUT    0x2000u
#define TCP_F_PUSH_ONCE   0x4000u   /* TCP_NODELAY was set: push what waits, even corked */
#define TCP_F_MORE        0x8000u   /* this send() has MSG_MORE: its own push is corked */
#define TCP_F_WAS_ESTAB   0x10000u  /* reached ESTABLISHED once (a failed connect may be retried) */
#define TCP_F_LOCAL_FAIL  0x20000u  /* rtx timer is the resource probe: the layers below refused a segment */
#define TCP_F_TLP         0x40000u  /* rtx timer is the tail loss probe (RFC 8985 7) */
#define TCP_F_REO         0x80000u  /* rtx timer is RACK's reordering timer (RFC 8985 6.3) */
#define TCP_F_PROBING     0x100000u /* tcp_output sends a tail loss probe: one segment, no burst PSH */
#define TCP_F_ACK_BATCH   0x200000u /* an ACK is owed at the end of this receive batch (tl->ack_batch) */
#define TCP_F_XMIT_ONE    0x400000u /* tcp_output sends one transmit unit at most (Linux tcp_push_one) */
#define TCP_F_NOSPACE     0x800000u /* a send() found the buffer full (Linux SOCK_NOSPACE): wake it once writable */
#define TCP_F_URG_MODE    0x1000000u /* urgent mode: SND.UP is ahead of SND.UNA (tcp_urg.c) */
#define TCP_F_SEND_OOB    0x2000000u /* tcp_sndq_fill is queueing a send(MSG_OOB): skbs of one MSS */
#define TCP_RESOURCE_PROBE_MS 500u  /* Linux TCP_RESOURCE_PROBE_INTERVAL */

/* The delivery rate's window (tcp_rate.c): bytes acknowledged (64 bits: no wrap), where the
 * current window started, and the last rate measured. */
struct tcp_rate {
	uint64_t acked;                         /* bytes cumulatively acknowledged so far */
	uint64_t d0;                            /* delivered when the window opened */
	usec_t t0;                              /* when it opened; 0: no window open */
	uint64_t bytes_per_sec;                 /* tcpi_delivery_rate */
};

/*
 * Marks in the send queue that are not yet acknowledged, each a ring, oldest first:
 * - push: where Linux's send queue would carry PSH (tcp_buf.c, docs/tcp.md "Where PSH
 *   goes"): the ends of writes without MSG_MORE and forced pushes;
 * - eor: MSG_EOR record ends, which segments never cross (tcp_eor_limit); a sender with
 *   TCP_EOR_MARKS open records waits.
 * Only a queue with data has marks, so they are allocated with the first and given back
 * when the queue drains (tcp_marks_drained): an idle connection holds none.
 */
struct tcp_marks {
	uint32_t push[TCP_PUSH_MARKS];
	uint32_t eor[TCP_EOR_MARKS];
	uint8_t push_head, push_count;
	uint8_t eor_head, eor_count;
};

/*
 * What arrived out of order (tcp_ooo.c): the queue, what it costs, and the SACK blocks we
 * report about it, which exist only while it does (Linux's tcp_sack_remove empties them with
 * the queue). Allocated with the first segment queued and given back when the queue
 * empties: an in-order connection, busy or idle, holds none.
 */
struct tcp_ofo {
	struct pbuf_queue q;                    /* sorted by seq (pb->user = seq) */
	uint32_t truesize;                      /* memory it pins (pbuf_truesize of each) */
	uint32_t rwnd;                          /* Linux's truesize of what it holds (tcp_rwnd.c) */
	/* The SACK blocks (Linux selective_acks): the most recently changed first, as RFC
	 * 2018 4 asks, however many holes the queue has. */
	struct tcp_sack_block sacks[TCP_NUM_SACKS];
	uint8_t num_sacks;
};

/* The passive open as it was seen, for ts_handshake() (struct ts_handshake, tcp.h, which
 * tcp_conn_handshake() fills from this): only what the connection does not keep anyway
 * (the ISNs are rcv.irs and snd.iss; the SYN-ACK left when the SYN came). */
struct tcp_hs_rec {
	usec_t syn_at_us, ack_at_us, accept_at_us;
	uint32_t syn_tsval;
	uint16_t syn_mss, syn_win, synack_mss, synack_win;
	uint8_t syn_wscale, synack_wscale;
	bool syn_sack, syn_ts, synack_sack, synack_ts;
};

struct tcp_conn {
	struct tcp_hnode hn;
	struct tcp_layer *tl;
	struct tcp_conn *all_next, *all_prev;   /* tl->all, for ss and destroy */
	struct tcp_conn *aq_next;               /* accept queue link while not accepted */
	struct tcp_conn *ackb_next, **ackb_pprev; /* tl->ack_batch while TCP_F_ACK_BATCH may be set */
	struct tcp_listener *lis;               /* listener whose accept queue holds us, else NULL */
	uint32_t owner;                         /* readiness token (tcp_conn_set_owner), 0 = none */
	enum tcp_state state;
	uint32_t flags;                         /* TCP_F_* */
	int err;                                /* pending SO_ERROR (positive errno) */
	int err_soft;                           /* last soft ICMP error: reported if we time out (Linux sk_err_soft) */
	uint32_t err_soft_una;                  /* SND.UNA then: an ACK since then clears it (Linux tcp_ack) */
	uint32_t pmtu;                          /* path MTU the MSS was cut to (0: not yet known; RFC 1191) */

	/* RFC 9293 3.3.1 send sequence variables. wnd is in bytes (scaled). */
	struct {
		uint32_t una, nxt, wnd, wl1, wl2, iss;
		uint32_t up;        /* one past the last urgent byte, in urgent mode (Linux snd_up; tcp_urg.c) */
		uint32_t max;       /* highest sequence sent + 1 (nxt goes back on RTO) */
		uint32_t max_wnd;   /* largest window the peer offered (sender SWS, RFC 1122 4.2.3.4) */
	} snd;
	/* Receive sequence variables. wnd: what we last advertised, in bytes. */
	struct {
		uint32_t nxt, wnd, irs;
		uint32_t up;        /* the urgent byte (Linux urg_seq), valid unless urg_state is NONE */
		uint32_t adv_edge;  /* rcv.nxt + wnd as last sent: never moves left (RFC 9293 3.8.6.2.2) */
	} rcv;
	uint32_t fin_seq;                       /* our FIN's sequence number once sent */
	uint32_t last_ack_sent;
	uint32_t snd_sml;                       /* end of the last short segment sent (Minshall's Nagle, Linux snd_sml) */
	/* Where PSH and MSG_EOR sit in the send queue (struct tcp_marks): NULL while there are
	 * none. wq_tail starts the unsent tail "skb" a write may extend; pushed_seq is the last
	 * push (Linux tp->pushed_seq). */
	struct tcp_marks *marks;
	/* Urgent data received (tcp_urg.c): what is known of the byte at rcv.up, and its value. */
	uint8_t urg_state;                      /* TCP_URG_* */
	uint8_t urg_byte;                       /* valid in TCP_URG_VALID and TCP_URG_READ */
	bool sml_valid;                         /* snd_sml has been set */
	uint32_t wq_tail, pushed_seq;

	/* Negotiated options. */
	uint16_t mss;                           /* send MSS: payload bytes per segment, options excluded */
	uint16_t adv_mss;                       /* the MSS we announced */
	uint16_t peer_mss;
	uint8_t snd_wscale, rcv_wscale;
	bool wscale_ok, sack_ok, ts_ok;
	usec_t ts_recent_stamp;
	uint32_t ts_recent;                     /* RFC 7323 TS.Recent */
	uint32_t ts_offset;                     /* TSval = now_ms + ts_offset */

	/* Buffers. */
	struct tcp_ring sndq;                   /* bytes from snd.una: unacknowledged, then unsent */
	struct tcp_skbq skbq;                   /* ... cut as Linux's skbs would cut them (tcp_wmem_queued) */
	struct pbuf_queue rcvq;                 /* in order, not yet read: the pbufs they came in,
	                                         * data/len = the unread payload; .bytes = the total */
	struct tcp_ofo *ofo;                    /* out of order and the SACK blocks: NULL while none */
	uint32_t rcvq_truesize;                 /* memory rcvq pins (pbuf_truesize of each) */
	uint32_t rwnd_rcvq;                     /* Linux's truesize of what rcvq holds (tcp_rwnd.c) */
	uint32_t rcv_ssthresh;                  /* the window grows toward window_clamp (tcp_rwnd.c) */
	uint32_t window_clamp;                  /* the largest window we will offer */
	struct tcp_sockopts opts;

	/* Congestion control (tcp_cc.h): the algorithm and its state. cwnd and ssthresh are
	 * bytes here (loss recovery's PRR works in bytes); the algorithms see packets through
	 * tcp_cc_cwnd() / tcp_cc_set_cwnd(), as Linux's snd_cwnd. ssthresh UINT32_MAX: none yet. */
	const struct tcp_cc_ops *cc;
	uint32_t cwnd, ssthresh;
	uint32_t snd_cwnd_cnt;                  /* packets acked toward the next increase */
	uint8_t ca_state;                       /* enum tcp_cc_state */
	bool lsndtime_valid;
	bool cwnd_limited;                      /* the last send stopped at cwnd */
	usec_t lsndtime;                        /* when new data was last sent (restart after idle) */
	usec_t cwnd_stamp;                      /* when cwnd was last full or last validated */
	uint32_t cwnd_used;                     /* most packets in flight since then (Linux snd_cwnd_used) */
	uint32_t dupacks;
	uint64_t cc_priv[TCP_CC_PRIV_U64];      /* the algorithm's own state (struct tcp_cubic) */
	uint32_t recover;                       /* RFC 6582 recover; SND.MAX at an RTO (Linux high_seq) */
	uint32_t max_flight;                    /* most bytes in flight in the current window */
	uint32_t max_flight_seq;                /* ... measured until SND.UNA passes this */

	/* Loss recovery with SACK (tcp_sack.c, tcp_recovery.c). */
	struct tcp_sb sb;
	struct tcp_recov rec;
	struct tcp_sack_block dsack;            /* D-SACK to report on the next ACK (RFC 2883) */
	bool dsack_pending;                     /* dsack is to be reported */

	/* RTT and RTO (tcp_rtt.h); the one segment timed when there are no timestamps. */
	struct tcp_rtt rtt;
	struct tcp_rate rate;                   /* delivery rate (tcp_rate.c) */
	/* TCP_INFO's tallies, as Linux keeps them (tcp_info.c): */
	uint64_t bytes_sent, bytes_retrans;     /* data bytes transmitted, and of them resent */
	uint32_t delivered_pkts;                /* segments ACKed or SACKed (not the SYN) */
	uint32_t dsack_dups;                    /* segments the peer's D-SACKs reported twice */
	uint32_t rcv_ooopack;                   /* segments queued out of order */
	uint32_t rtt_seq;
	usec_t rtt_start;
	uint8_t retries;                        /* consecutive RTO expiries (or probes) */
	uint32_t total_retrans;                 /* segments resent over the connection's life (tcpi_total_retrans) */
	uint8_t backoff;
	uint8_t quickack;                       /* ACKs still sent without delay (Linux quick-ACK mode) */
	uint8_t dup_ack_counter;                /* duplicate ACKs sent at once for this RCV.NXT (tcp_delack.c) */
	uint8_t compressed_ack;                 /* SACKs merged into the one the timer will send */
	uint32_t compressed_ack_rcv_nxt;        /* the RCV.NXT dup_ack_counter counts for */
	bool pingpong;                          /* interactive: we answer within ato of the data, or a FIN came */
	uint8_t ack_pushed;                     /* TCP_ACK_PUSHED*: a short or PSH segment waits for its ACK */
	uint16_t last_seg_size;                 /* the last short segment's payload, if it could be an MSS */
	uint32_t ato_us;                        /* delayed-ACK timeout: 0 until data came, then adapted (tcp_delack.c) */
	usec_t lrcvtime;                        /* when in-order data last arrived (Linux icsk_ack.lrcvtime) */
	uint8_t ka_probes;
	uint8_t scaling_ratio;                  /* payload per truesize of received data, in 1/256 */
	uint32_t rcv_unacked;                   /* bytes received since we last sent an ACK */
	uint32_t rcv_mss;                       /* largest segment the peer sent us (delayed ACK) */
	struct {                                /* the receiver's RTT (tcp_rcvbuf.c, Linux rcv_rtt_est) */
		uint32_t rtt_us8;               /* in 1/8 us; 0 until measured */
		uint32_t seq;                   /* a window-based sample ends when rcv.nxt passes it */
		usec_t time;                    /* ... and began then */
		uint32_t last_tsecr;            /* the last echo sampled */
	} rcv_rtt;
	struct {                                /* what the reader takes per round trip (Linux rcvq_space) */
		uint32_t space;                 /* bytes read in the last measured round trip */
		uint32_t seq;                   /* copied_seq when this measure began */
		usec_t time;
	} rcvq_space;
	usec_t last_rcv;                        /* for keepalive */
	usec_t last_oow_ack;                    /* last ACK for an unacceptable segment (rate limit) */
	usec_t rtx_since;                       /* first RTO of the current loss episode (TCP_USER_TIMEOUT) */
	usec_t rtx_first_sent;                  /* when the segment lost in this episode was sent (Linux retrans_stamp) */
	uint8_t probes_out;                     /* resource probes since the last successful send */
	uint8_t chrono_type;                    /* enum tcp_chrono: the current, most interesting
	                                         * one (the chronograph below) */
	usec_t probes_since;                    /* first resource probe (TCP_USER_TIMEOUT) */

	/* Linux's chronograph (tcp_chrono_*, tcp_info.c): what the sender waits for, for TCP_INFO. */
	usec_t chrono_start;
	usec_t chrono_stat[3];                  /* time spent busy, rwnd-limited, sndbuf-limited */

	struct timer rtx_timer;                 /* RTO, SYN retransmission or persist */
	struct timer delack_timer;
	struct timer misc_timer;                /* keepalive, orphan FIN-WAIT-2 */
	struct tcp_hs_rec hs;                   /* the passive open as seen (tcp_req_promote) */
};

/* ---- named idioms ---- */

/* "Our FIN is acknowledged" (RFC 9293 3.10.7.4 fifth, FIN-WAIT-1 / CLOSING / LAST-ACK). */
static inline bool tcp_fin_acked(const struct tcp_conn *c)
{
	return (c->flags & TCP_F_FIN_SENT) && seq_gt(c->snd.una, c->fin_seq);
}

/* A connection resent n segments: the layer's RetransSegs and its own total (Linux
 * tp->total_retrans, reported as tcpi_total_retrans). */
static inline void tcp_count_retrans(struct tcp_conn *c, uint32_t n)
{
	c->tl->ctr.RetransSegs += n;
	c->total_retrans += n;
}

/* The smallest power of two at least v (Linux roundup_pow_of_two). */
static inline uint32_t tcp_pow2_at_least(uint32_t v)
{
	uint32_t p = 1;
	while (p < v)
		p <<= 1;
	return p;
}

/* ---- tcp_rwnd.c: the receive window from the receive buffer, as Linux ---- */
#define TCP_RMEM_TO_WIN_SCALE 8         /* scaling_ratio is payload per truesize, in 1/256 */
#define TCP_DEFAULT_SCALING_RATIO 128u  /* 50 % until a full segment is measured */
#define TCP_SOCK_MIN_RCVBUF 2304u       /* Linux SOCK_MIN_RCVBUF: one minimal skb (TCP_SKB_MIN_TRUESIZE) */
/* What Linux's receive path spends on a datagram of len bytes (IP header included). */
uint32_t tcp_truesize(uint32_t len);
/* ... on a segment of dlen payload bytes with minimal headers. */
static inline uint32_t tcp_seg_truesize(uint32_t dlen)
{
	return tcp_truesize(dlen + 40u);
}
uint32_t tcp_win_from_space(uint8_t ratio, uint32_t space);
/* The window of a SYN or SYN-ACK (RFC 7323 2.2: never scaled, so at most 65535): the default
 * share of the buffer, in whole segments of mss. */
uint32_t tcp_rwnd_initial(const struct tcp_sockopts *o, uint32_t mss, uint8_t wscale);
/* Entering ESTABLISHED: window_clamp and rcv_ssthresh from the buffer and the SYN's window. */
void tcp_rwnd_established(struct tcp_conn *c, uint32_t syn_wnd);
void tcp_rwnd_buffer_grown(struct tcp_conn *c);
/* A data segment was queued: measure its payload/truesize, grow rcv_ssthresh if `grow`. */
void tcp_rwnd_data(struct tcp_conn *c, uint32_t dlen, uint32_t seg_mss, uint32_t truesize, bool grow);
/* The window the free buffer allows now (before "never take back what was offered"). */
uint32_t tcp_rwnd_free(struct tcp_conn *c);
/* The window for the next segment, in bytes; recorded in rcv.wnd. */
uint32_t tcp_rwnd_select(struct tcp_conn *c);
/* The application read n of the queued_before bytes: their share of rwnd_rcvq goes. */
void tcp_rwnd_read(struct tcp_conn *c, uint32_t n, uint32_t queued_before);
/* Over the buffer: charge the in-order data as if copied into whole pages (Linux tcp_collapse). */
void tcp_rwnd_collapse(struct tcp_conn *c);
/* What Linux would charge for the data both queues hold (its sk_rmem_alloc). */
static inline uint32_t tcp_rwnd_held(const struct tcp_conn *c)
{
	return c->rwnd_rcvq + (c->ofo ? c->ofo->rwnd : 0);
}

/* ---- tcp.c ---- */
/* The source address towards dst (ip_src_for); 0 without an IP layer (unit tests). */
uint32_t tcp_local_addr(const struct tcp_layer *tl, uint32_t dst);
uint16_t tcp_adv_mss(const struct tcp_layer *tl);
void tcp_set_state(struct tcp_conn *c, enum tcp_state s);
struct tcp_conn *tcp_conn_alloc(struct tcp_layer *tl, const struct tcp_sockopts *o);
/* Frees c and everything it holds (timers, buffers, hash entry). */
void tcp_conn_free(struct tcp_conn *c);
/* The connection is over: CLOSED, unhashed; freed now if no socket holds it. */
void tcp_conn_done(struct tcp_conn *c);
/* Reset from our side or the peer's: error, CLOSED, counters. */
void tcp_conn_abort(struct tcp_conn *c, int err);
uint8_t tcp_wscale_for(const struct tcp_layer *tl, const struct tcp_sockopts *o);
/* A connection's TSval offset, from its ISN: Linux randomizes each connection's (so do we);
 * a SYN cookie's is found again from the cookie (tcp_syncookie.c). */
static inline uint32_t tcp_ts_offset_for(uint32_t iss)
{
	return iss * 0x9e3779b1u;
}
uint32_t tcp_now_ts(const struct tcp_layer *tl, uint32_t offset);

/* ---- tcp_hash.c ---- */
/* A table of 2^k buckets (k from buckets, rounded up); -ENOMEM without memory. */
int tcp_hash_init(struct tcp_hash *h, uint32_t buckets);
void tcp_hash_insert(struct tcp_hash *h, struct tcp_hnode *n);
void tcp_hash_remove(struct tcp_hash *h, struct tcp_hnode *n);
/* The same for tl->conns, counting each port's holders (struct tcp_port). */
void tcp_conns_insert(struct tcp_layer *tl, struct tcp_hnode *n);
void tcp_conns_remove(struct tcp_layer *tl, struct tcp_hnode *n);
struct tcp_hnode *tcp_hash_lookup4(struct tcp_hash *h, uint32_t laddr, uint16_t lport, uint32_t raddr,
                                   uint16_t rport);
/* The listener a segment from raddr:rport to laddr:lport goes to, or NULL. */
struct tcp_listener *tcp_listener_lookup(struct tcp_layer *tl, uint32_t laddr, uint16_t lport, uint32_t raddr,
                                         uint16_t rport);
/* Another listener on lport whose address overlaps laddr (same, or either is the wildcard). */
bool tcp_listener_port_conflict(struct tcp_layer *tl, uint32_t laddr, uint16_t lport);
/* The same, less the listeners a new one may join: with reuseport, those of the same
 * address that set SO_REUSEPORT too. */
bool tcp_listener_blocks(struct tcp_layer *tl, uint32_t laddr, uint16_t lport, bool reuseport);

/* ---- tcp_timewait.c ---- */
void tcp_enter_time_wait(struct tcp_conn *c);
/* Ends a TIME-WAIT entry: unhashed, its timer and reservation released, freed. */
void tcp_tw_free(struct tcp_tw *tw);
void tcp_tw_input(struct tcp_tw *tw, struct tcp_seg *seg);

/* ---- tcp_ooo.c ---- */
/* Moves queued segments that now fit onto the receive queue; *fin set when a FIN is reached. */
bool tcp_ooo_drain(struct tcp_conn *c, bool *fin);
/* Keeps an out-of-order segment; takes seg->pb (set to NULL) only when it is kept. */
void tcp_ooo_insert(struct tcp_conn *c, struct tcp_seg *seg, uint32_t seq, uint32_t len, bool fin);
/* Drops out-of-order segments, highest first, until the in-order pb fits (tcp_rmem_fits). */
void tcp_ooo_prune(struct tcp_conn *c, const struct pbuf *pb);
/* Frees the whole queue and uncharges its memory. */
void tcp_ooo_purge(struct tcp_conn *c);
/* Segments waiting out of order, and their payload bytes. */
static inline uint32_t tcp_ooo_count(const struct tcp_conn *c)
{
	return c->ofo ? c->ofo->q.count : 0;
}
static inline uint32_t tcp_ooo_bytes(const struct tcp_conn *c)
{
	return c->ofo ? c->ofo->q.bytes : 0;
}
/* SACK blocks to report (tcp_output.c). */
static inline uint32_t tcp_num_sacks(const struct tcp_conn *c)
{
	return c->ofo ? c->ofo->num_sacks : 0;
}

/* ---- tcp_rate.c ---- */
/* After an acceptable ACK (prior_una: SND.UNA before it): updates the delivery rate. */
void tcp_rate_ack(struct tcp_conn *c, uint32_t prior_una);

/* ---- tcp_syncookie.c ---- */
/* A cookie's clock ticks every 64 s; a cookie is honoured for two ticks. */
#define TCP_COOKIE_PERIOD_S 64u
/* Answers a SYN with a cookie SYN-ACK. Does not take seg->pb. */
void tcp_cookie_synack(struct tcp_listener *l, struct tcp_seg *seg);
/* 1 when the final ACK carries a good cookie (r rebuilt from it), else 0. Does not take seg->pb. */
int tcp_cookie_check(struct tcp_listener *l, const struct tcp_seg *seg, struct tcp_req *r);
/* A cookie SYN-ACK's TSval: the clock with the SYN's window scale and SACK in its low bits. */
uint32_t tcp_cookie_tsval(const struct tcp_layer *tl, const struct tcp_req *r);

/* ---- tcp_mem.c: the stack-wide buffer memory limit (Linux's tcp_mem) ---- */
/* Defaults: a userspace stack's share, not Linux's fraction of RAM (docs/tcp.md). */
#define TCP_MEM_LOW_DEFAULT (192ull << 20)
#define TCP_MEM_PRESSURE_DEFAULT (256ull << 20)
#define TCP_MEM_HIGH_DEFAULT (384ull << 20)
#define TCP_MAX_CONNS_DEFAULT 262144u
/* Charges n more bytes to the layer: 0, or -ENOBUFS (nothing charged) past cfg.mem_high. */
int tcp_mem_charge(struct tcp_layer *tl, uint64_t n);
void tcp_mem_uncharge(struct tcp_layer *tl, uint64_t n);
/* Whether n more bytes would stay within cfg.mem_high. */
bool tcp_mem_fits(const struct tcp_layer *tl, uint64_t n);
/* Under pressure buffers stop growing: auto-tuning of SO_RCVBUF/SO_SNDBUF is off. */
bool tcp_mem_under_pressure(const struct tcp_layer *tl);

/* ---- tcp_isn.c ---- */
uint32_t tcp_isn(const struct tcp_layer *tl, uint32_t laddr, uint16_t lport, uint32_t raddr, uint16_t rport);

/* ---- tcp_buf.c ---- */
/* Storage of exactly cap bytes (contents kept). 0, -ENOBUFS (the memory limit, tcp_mem.c) or -ENOMEM. */
int tcp_ring_reserve(struct tcp_ring *r, uint32_t cap);
#define TCP_RING_MIN 4096u
/* Blocks of each small kind the stack keeps for reuse (tl->ring_spares etc., core/spares.h):
 * enough for this many connections answering at once without a malloc. */
#define TCP_SPARES 32u
/* Grows the ring (doubling from TCP_RING_MIN, at most max) so it holds `need` bytes; errors
 * as tcp_ring_reserve. */
int tcp_ring_make_room(struct tcp_ring *r, uint32_t need, uint32_t max);
/* Gives back a small ring that has drained (idle connections then hold no buffer). */
void tcp_ring_release_if_empty(struct tcp_ring *r);
void tcp_ring_free(struct tcp_ring *r);
/* Appends up to n bytes (fewer when the ring is full) that fill(ctx, dst, len, at) writes in
 * place, at most two pieces where the storage wraps; `at` counts from the call's first byte
 * plus the given start. Stops where fill gives fewer than asked (its source ended). Returns
 * the bytes appended, or fill's -errno when it gave none. */
long tcp_ring_fill(struct tcp_ring *r, tcp_fill_fn fill, void *ctx, uint64_t at, uint32_t n);
/* The source of bytes in memory (tcp_send's): ctx is the buffer; copies n bytes of it. */
long tcp_fill_mem(void *ctx, void *dst, uint32_t n, uint64_t at);
/* tcp_ring_fill from memory: copies up to n bytes of src. */
uint32_t tcp_ring_write(struct tcp_ring *r, const void *src, uint32_t n);
/* Send queue (tcp_buf.c): appends up to `n` bytes as Linux's tcp_sendmsg builds skbs of
 * tcp_size_goal() bytes while the buffer has room (tcp_wmem_queued), marking PSH where
 * Linux does (the end of the write unless `more` or cut short, forced pushes every half
 * window) and sending as Linux sends while it copies (a full skb at the head of the unsent
 * data goes at once). The ring grows as the bytes come (at the stack-wide memory limit
 * what it holds as it is, SendMemLimited). The bytes come from fill (tcp_ring_fill), so a
 * reader writes them into the ring itself. Returns the bytes queued, or with none -EAGAIN
 * (no room), 0 (the reader's source had nothing more), the reader's -errno, or -ENOMEM. */
long tcp_sndq_fill(struct tcp_conn *c, tcp_fill_fn fill, void *ctx, uint32_t n, bool more);
/* Is there a push mark in (seq, end]? Forgets marks SND.UNA has passed. */
bool tcp_sndq_pushed(struct tcp_conn *c, uint32_t seq, uint32_t end);
/* The connection's marks (struct tcp_marks), allocated on first use; NULL without memory
 * (MarksNoMemory). */
struct tcp_marks *tcp_marks_get(struct tcp_conn *c);
/* Linux's skb size goal for a write (tcp_xmit_size_goal): 64 KiB, or half the largest
 * window the peer offered when smaller, in whole MSS. */
uint32_t tcp_size_goal(const struct tcp_conn *c);
/*
 * The send buffer as Linux charges it (tcp_buf.c, docs/tcp.md "The send buffer"):
 * tcp_wmem_queued() is Linux's sk_wmem_queued, the bytes queued plus TCP_SKB_TX_TRUESIZE
 * for each skb that holds them. A write copies into the unsent tail skb while it has room,
 * and starts a new skb only while that is below SO_SNDBUF (sk_stream_memory_free).
 */
uint32_t tcp_sndbuf_cap(const struct tcp_conn *c);
uint64_t tcp_wmem_queued(const struct tcp_conn *c);
/* Whether a send() may queue anything now: the unsent tail skb has room, or a new skb may
 * start (the queue's memory is below the buffer). */
bool tcp_sndq_has_room(const struct tcp_conn *c);
/* Most bytes the ring may hold: the buffer and what the last skb may take beyond it. */
uint32_t tcp_sndq_ring_max(const struct tcp_conn *c);
/* Linux's __sk_stream_is_writeable, the POLLOUT test: the free space is at least half of
 * what is queued (sk_stream_wspace >= sk_stream_min_wspace), so at most two thirds of the
 * buffer is used (and, at the stack-wide memory limit, the ring is not full: tcp_mem.c). */
bool tcp_sndbuf_writable(const struct tcp_conn *c);
/* Linux's tcp_check_space, after an ACK and after new data left: a writer that found no
 * room (TCP_F_NOSPACE) is woken once the buffer is writable; that ends the time TCP_INFO
 * counts as send-buffer-limited. */
void tcp_check_space(struct tcp_conn *c);
/* A transmission (new data, or a resend of part of an skb) that ends at seq: the skb
 * holding it is cut there (Linux tso_fragment, tcp_fragment in __tcp_retransmit_skb). */
void tcp_skbq_split(struct tcp_conn *c, uint32_t seq);
/* Where the skb holding seq ends (the end of the send queue if none is recorded): a
 * resend takes at most that skb (Linux retransmits skbs). */
uint32_t tcp_skbq_end(const struct tcp_conn *c, uint32_t seq);
/* An ACK moved SND.UNA to ack: the skbs it passed are freed. */
void tcp_skbq_acked(struct tcp_conn *c, uint32_t ack);
/* Frees the send ring and its skb records (the connection closed). */
void tcp_sndq_free(struct tcp_conn *c);
/* Linux's send buffer auto-tuning (tcp_sndbuf_expand), unless SO_SNDBUF was set: room for
 * twice the packets cwnd allows (at least 10), each at Linux's worst case of one skb per
 * MSS, up to wmem_max. At ESTABLISHED, and when a waiting writer could use more. */
void tcp_sndbuf_expand(struct tcp_conn *c);
uint32_t tcp_ring_read(struct tcp_ring *r, void *dst, uint32_t n, bool consume);
void tcp_ring_drop(struct tcp_ring *r, uint32_t n);
/*
 * The receive queue (tcp_buf.c): in-order payload stays in the pbuf it arrived in until
 * recv() copies it out. tcp_rcvq_add() queues pb, whose data/len are exactly the new in-order
 * bytes: 0 and the queue owns pb (it may have copied a small payload into the tail and freed
 * pb), or -ENOBUFS (the socket's or the stack's memory is spent: the caller still owns pb
 * and drops it unacknowledged).
 */
int tcp_rcvq_add(struct tcp_conn *c, struct pbuf *pb);
/* Passes over `skip` bytes from the oldest, then copies up to n bytes to dst; consume: frees
 * what was passed over and read. Returns the bytes copied. */
uint32_t tcp_rcvq_read(struct tcp_conn *c, uint8_t *dst, uint32_t skip, uint32_t n, bool consume);
void tcp_rcvq_purge(struct tcp_conn *c);
/* A pbuf worth keeping: a small payload in a large (64 KiB) pbuf is moved to a small one
 * (Linux's skb_condense). Returns pb or its replacement; the caller owns the result. */
struct pbuf *tcp_rcv_condense(struct tcp_conn *c, struct pbuf *pb);
/* Whether the receive queues may keep pb: their truesize stays within twice the buffer. */
bool tcp_rmem_fits(const struct tcp_conn *c, const struct pbuf *pb);
/* Whether pb's size class is so used that a queue must not keep one more (the stack needs the
 * last quarter of the pool to receive at all). */
bool tcp_rcv_pool_low(const struct tcp_conn *c, const struct pbuf *pb);
/* Receive memory the connection holds: the truesize of both queues (Linux's sk_rmem_alloc). */
static inline uint32_t tcp_rmem_alloc(const struct tcp_conn *c)
{
	return c->rcvq_truesize + (c->ofo ? c->ofo->truesize : 0);
}
/* Up to two pieces for bytes [off, off+n) of the ring; returns the number of pieces. */
int tcp_ring_pieces(const struct tcp_ring *r, uint32_t off, uint32_t n, struct pbuf_ext out[2]);
/* The same, for a frame's ext pieces: with a late device (core_tx) the bytes are lent until
 * its flush, and the ring settles before it drops, moves or frees them. */
int tcp_ring_lend(struct tcp_ring *r, uint32_t off, uint32_t n, struct pbuf_ext out[2]);

/* ---- tcp_rcvbuf.c (receive buffer auto-tuning, Linux's DRS) ---- */
/* Entering ESTABLISHED: the first measure of what the reader takes per round trip. */
void tcp_rcvbuf_established(struct tcp_conn *c);
/* An in-order data segment of dlen bytes was queued: the receiver's RTT, and tapstack's
 * rule for a sender that filled the window. */
void tcp_rcvbuf_data(struct tcp_conn *c, const struct tcp_seg *seg, uint32_t dlen);
/* The application read: once per receiver RTT, the buffer follows what it took. */
void tcp_rcvbuf_read(struct tcp_conn *c);
/* len bytes are about to join the out-of-order queue: room for them (tcp_ooo.c). */
void tcp_rcvbuf_ooo(struct tcp_conn *c, uint32_t len);

/* ---- tcp_urg.c (urgent data) ---- */
/* The next sequence number the application will read (Linux copied_seq). */
uint32_t tcp_copied_seq(const struct tcp_conn *c);
/* send(MSG_OOB) queued its bytes: the last one is urgent (SND.UP one past it). */
void tcp_urg_mark(struct tcp_conn *c);
/* Urgent mode covers a segment starting at seq: it carries URG (and goes alone, not in a
 * TSO super-segment whose pieces would all copy one pointer). */
bool tcp_urg_in(const struct tcp_conn *c, uint32_t seq);
/* URG and the urgent pointer for an outgoing segment of the connection (h->seq set). */
void tcp_urg_hdr(const struct tcp_conn *c, struct tcp_hdr *h);
/* SND.UNA moved: urgent mode ends once it reaches SND.UP. */
void tcp_urg_acked(struct tcp_conn *c);
/* RFC 9293 3.10.7.4 sixth, the URG bit (Linux tcp_urg), before the segment text is queued. */
void tcp_urg_input(struct tcp_conn *c, const struct tcp_seg *seg);
/* A read of *want bytes: cut *want to stop at the mark; returns 1 when the out-of-band byte
 * is next and must be passed over, else 0. */
uint32_t tcp_urg_plan(const struct tcp_conn *c, uint32_t *want);
/* After a read: forgets the mark once the reader is past it. */
void tcp_urg_consumed(struct tcp_conn *c);
/* Queued bytes a read cannot return (the out-of-band byte at the head): 0 or 1 (poll). */
uint32_t tcp_urg_hidden(const struct tcp_conn *c);
/* The urgent byte arrived and was not read with MSG_OOB (POLLPRI). */
bool tcp_urg_pending(const struct tcp_conn *c);

/* ---- tcp_input.c ---- */
void tcp_conn_input(struct tcp_conn *c, struct tcp_seg *seg);
/* Options from a SYN or SYN-ACK into the connection (RFC 7323 1.3, 2018, 9293 3.7.1). */
void tcp_conn_apply_syn_opts(struct tcp_conn *c, const struct tcp_opts *o);

/* ---- tcp_sack.c (the scoreboard) ---- */
void tcp_sb_free(struct tcp_layer *tl, struct tcp_sb *sb);
struct tcp_txseg *tcp_sb_get(const struct tcp_sb *sb, uint32_t i);
void tcp_sb_mark(struct tcp_sb *sb, struct tcp_txseg *r, uint8_t mark, bool on);
int tcp_sb_reserve(struct tcp_layer *tl, struct tcp_sb *sb, uint32_t more);
uint32_t tcp_sb_segs_for(uint32_t len, uint32_t mss);
void tcp_sb_sent(struct tcp_sb *sb, uint32_t seq, uint32_t len, bool fin, uint32_t mss, usec_t now);
int tcp_sb_split(struct tcp_layer *tl, struct tcp_sb *sb, uint32_t i, uint32_t at);
uint32_t tcp_sb_cum_ack(struct tcp_conn *c, uint32_t ack, void (*each)(struct tcp_conn *, const struct tcp_txseg *));
uint32_t tcp_sb_pipe(const struct tcp_conn *c);
uint32_t tcp_sb_check_blocks(struct tcp_conn *c, const struct tcp_opts *o, uint32_t ack,
                             struct tcp_sack_block *out, struct tcp_sack_block *dsack, bool *has_dsack);
/* The segments a D-SACK block reports twice, at least one (Linux tcp_dsack_seen's dup_segs). */
uint32_t tcp_dsack_segs(const struct tcp_conn *c, const struct tcp_sack_block *d);
uint32_t tcp_sb_tag(struct tcp_conn *c, const struct tcp_sack_block *blk, uint32_t nblk,
                    void (*each)(struct tcp_conn *, const struct tcp_txseg *));
bool tcp_sb_dsack_retransmitted(const struct tcp_conn *c, const struct tcp_sack_block *b);
uint32_t tcp_sb_mark_dupthresh(struct tcp_conn *c, uint32_t dupthresh);
void tcp_sb_mark_all_lost(struct tcp_conn *c);
void tcp_sb_clear_lost(struct tcp_conn *c);
int64_t tcp_sb_next_lost(struct tcp_conn *c);
void tcp_sb_retransmitted(struct tcp_sb *sb, uint32_t i, uint32_t n, usec_t now);
void tcp_sb_mark_too_big(struct tcp_conn *c);
/* Receiving: a duplicate [start, end) to report in a D-SACK block on the next ACK. */
void tcp_dsack_set(struct tcp_conn *c, uint32_t start, uint32_t end);
/* The same, or the pending block grown by [start, end) when they touch (Linux
 * tcp_dsack_extend); a range that does not touch it is not reported. */
void tcp_dsack_extend(struct tcp_conn *c, uint32_t start, uint32_t end);

/* ---- tcp_recovery.c (RACK-TLP, PRR, undo) ---- */
/* Whether the connection recovers with the scoreboard (SACK negotiated). */
bool tcp_rec_on(const struct tcp_conn *c);
bool tcp_rec_ack(struct tcp_conn *c, const struct tcp_seg *seg, uint32_t prior_una);
void tcp_rec_enter_loss(struct tcp_conn *c);
void tcp_rec_on_retransmit(struct tcp_conn *c);
void tcp_rec_on_send(struct tcp_conn *c, uint32_t len);
int64_t tcp_rec_next_rexmit(struct tcp_conn *c);
void tcp_rec_arm_timer(struct tcp_conn *c);
void tcp_rack_reo_fire(struct tcp_conn *c);
void tcp_tlp_fire(struct tcp_conn *c);
uint32_t tcp_rack_reo_wnd(const struct tcp_conn *c);
uint32_t tcp_rack_detect_loss(struct tcp_conn *c);
uint32_t tcp_prr_sndcnt(const struct tcp_conn *c, uint32_t delivered, bool ssrb_bonus);

/* ---- tcp_listen.c ---- */
void tcp_listen_input(struct tcp_listener *l, struct tcp_seg *seg);
void tcp_req_input(struct tcp_req *r, struct tcp_seg *seg);
void tcp_req_free(struct tcp_req *r);
/* Frees the recycled request entries (tcp_destroy). */
void tcp_req_pool_destroy(struct tcp_layer *tl);

/* ---- tcp_output.c ---- */
/* Sends whatever the state, the flags and the windows call for (BSD tcp_output). */
void tcp_output(struct tcp_conn *c);
/* Sends one segment built from the connection (seq, flags, payload from sndq at seq). */
int tcp_xmit(struct tcp_conn *c, uint32_t seq, uint8_t flags, uint32_t len);
/* Resends scoreboard records i .. i + n - 1 as one transmit unit (n > 1: adjacent ones of
 * a full MSS, the last may be short; one TSO super-segment, or n segments with PSH on the
 * last; n = 1: one record, cut to the MSS first if it grew too long). Returns the records
 * that went, or -errno when none did. */
int tcp_rec_resend(struct tcp_conn *c, uint32_t i, uint32_t n);
/* The one RST builder: answers the offending segment by RFC 9293 3.10.7.1's rule. */
void tcp_send_rst_for(struct tcp_layer *tl, const struct tcp_seg *seg);
void tcp_send_rst_conn(struct tcp_conn *c);
void tcp_send_challenge_ack(struct tcp_conn *c);
/* A pure ACK now: SEQ = SND.MAX (BSD: not a rewound SND.NXT), ACK = RCV.NXT, no data. */
void tcp_send_ack(struct tcp_conn *c);
/* An ACK at the end of this receive batch (tcp_flush_acks), unless one leaves before. */
void tcp_ack_at_batch_end(struct tcp_conn *c);
/* Leaves the receive batch's list (a connection being freed). */
void tcp_ack_batch_unlink(struct tcp_conn *c);
void tcp_send_synack(struct tcp_req *r);
/* The MSS a listener's SYN-ACK announces: the interface's, or TCP_MAXSEG if smaller. */
uint16_t tcp_synack_mss(const struct tcp_listener *l);
void tcp_tw_send_ack(struct tcp_tw *tw);
/* The window a listener's SYN-ACK offers this request. */
uint32_t tcp_synack_window(const struct tcp_listener *l, const struct tcp_req *r);
uint32_t tcp_rcvbuf_cap(const struct tcp_conn *c);
uint32_t tcp_flight(const struct tcp_conn *c);
/* The end of the MSG_EOR record that holds the byte at seq (a segment starting at seq
 * must stop there), or seq + `left` when no mark lies within [seq, seq + left). Forgets
 * marks SND.UNA has passed. */
uint32_t tcp_eor_limit(struct tcp_conn *c, uint32_t seq, uint32_t left);
/* Payload bytes per segment right now: the MSS less the SACK blocks we will carry
 * (Linux tcp_current_mss), so header + data never exceed what the peer accepts. */
uint32_t tcp_mss_now(const struct tcp_conn *c);
/* Segments per transmit unit at most (Linux tcp_tso_segs/tcp_tso_autosize): about 1 ms at
 * the pacing rate Linux would compute, at least cfg.min_tso_segs. */
uint32_t tcp_tso_segs(const struct tcp_conn *c, uint32_t mss);

/* ---- tcp_delack.c: when received data is ACKed ---- */
/* Linux tcp_incr_quickack: the next ACKs go without delay, as many as half the window we
 * offer holds segments of the peer's (at least 2, at most max); never fewer than now. */
void tcp_incr_quickack(struct tcp_conn *c, uint32_t max);
/* Linux tcp_enter_quickack_mode: that, out of pingpong mode, ato back to its minimum. */
void tcp_enter_quickack(struct tcp_conn *c);
/* In-order data of seg_len bytes (header hdr_len, TCP flags) arrived: ato, quick-ACK, pushed. */
void tcp_delack_data_recv(struct tcp_conn *c, uint32_t seg_len, uint32_t hdr_len, uint8_t flags);
/* An ACK left while one was owed: a quick ACK is spent. */
void tcp_delack_ack_sent(struct tcp_conn *c);
/* We sent data: an answer within ato makes the connection interactive (pingpong). */
void tcp_delack_data_sent(struct tcp_conn *c);
/* The ACK in-order data asks for: now, at the batch's end, or after the delayed-ACK timeout. */
void tcp_ack_decide(struct tcp_conn *c);
/* The delayed-ACK timer is owed (Linux tcp_send_delayed_ack); may decide to ACK now. */
void tcp_arm_delack(struct tcp_conn *c);
/* The delayed-ACK timer fired with an ACK owed: ato grows, or pingpong ends. */
void tcp_delack_expired(struct tcp_conn *c);
/* Data beyond a hole was queued: its duplicate ACK now, or merged with the next ones for at
 * most min(1 ms, RTT/20) (SACK compression). */
void tcp_ack_ooo(struct tcp_conn *c);
/* The SACK blocks are about to push out one a held ACK would report: that ACK goes now. */
void tcp_sack_compress_flush(struct tcp_conn *c);
/* The timer fired: the ACK that merged the held SACKs goes. */
void tcp_sack_compress_expired(struct tcp_conn *c);
/* The application read `copied` bytes (Linux __tcp_cleanup_rbuf): a held ACK, a window update. */
void tcp_rcv_window_update(struct tcp_conn *c, uint32_t copied);

/* ---- tcp_info.c ---- */
/* Linux's chronograph of why a sender is not sending (tcp_chrono_start/stop): busy while
 * data is queued or in flight, limited by the peer's window or by the send buffer. The
 * highest one that applies is the one that runs; TCP_INFO reports the sums. */
enum tcp_chrono { TCP_CHRONO_UNSPEC, TCP_CHRONO_BUSY, TCP_CHRONO_RWND_LIMITED, TCP_CHRONO_SNDBUF_LIMITED };
void tcp_chrono_start(struct tcp_conn *c, enum tcp_chrono type);
/* Ends `type` if it is the one running (back to busy, or to nothing once all is acked). */
void tcp_chrono_stop(struct tcp_conn *c, enum tcp_chrono type);

/* ---- tcp_icmp.c ---- */
/* The send MSS the path allows (RFC 1191): pmtu - 40 less options (timestamps), for c->hn.raddr. */
uint32_t tcp_pmtu_mss(struct tcp_conn *c);

/* ---- tcp_timer.c ---- */
void tcp_conn_timers_init(struct tcp_conn *c);
void tcp_conn_timers_cancel(struct tcp_conn *c);
/* Reserves the connection's three heap slots (timer_reserve) so that arming them later
 * cannot fail; -ENOMEM when the heap cannot grow (the connection is then not created). */
int tcp_conn_timers_reserve(struct tcp_conn *c);
/* Cancels the timers and gives their slots back (tcp_conn_free). */
void tcp_conn_timers_release(struct tcp_conn *c);
/*
 * Arms a timer that holds a reservation, so timer_arm cannot fail. Should that invariant
 * ever break, the failure is counted (TimerArmFailed) rather than ignored.
 */
/* The owner's poll state may have changed: tell the socket layer (tcp.h, readiness upcalls). */
static inline void tcp_wake(struct tcp_layer *tl, uint32_t owner)
{
	if (owner && tl->wake)
		tl->wake(tl->wake_arg, owner);
}

static inline void tcp_timer_arm(struct tcp_layer *tl, struct timer *t, usec_t when)
{
	if (timer_arm(&tl->core->timers, t, when) != 0)
		tl->ctr.TimerArmFailed++;
}
void tcp_rearm_rtx(struct tcp_conn *c);
void tcp_arm_persist(struct tcp_conn *c);
void tcp_arm_local_probe(struct tcp_conn *c);
/* An RTT measurement for the connection, taken from an ACK up to `ack`: the estimator
 * (tcp_rtt.c) and the RTO. */
void tcp_rtt_sample(struct tcp_conn *c, uint32_t rtt_us, uint32_t ack);
usec_t tcp_fin_timeout_us(const struct tcp_conn *c);
void tcp_arm_keepalive(struct tcp_conn *c);
void tcp_arm_misc(struct tcp_conn *c, usec_t when);
void tcp_req_timer_fire(struct timer *t, usec_t now);
void tcp_tw_timer_fire(struct timer *t, usec_t now);

#endif
