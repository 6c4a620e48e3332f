/*
 * tcp.h - the TCP layer's public face (RFC 9293, with RFC 1122, 5681, 6298, 6582, 7323,
 * 2018, 5961, 6528): configuration, the layer context, input from IP and the socket
 * table for `tapstack ss`.
 *
 * Who calls it: stack/stack.c creates the layer (tcp_init), hands it every IPv4 datagram
 * whose protocol is 6 (tcp_input) and reads its counters; stack/socket/ drives connections
 * through the calls in "socket-facing calls" below; nothing else sees a TCB.
 *
 * What it owns: every listener, half-open request, connection and TIME-WAIT entry, their
 * timers on core->timers, and the buffers of each connection. Layout of the internals is
 * in tcp_int.h; the map from RFC 9293 3.10.7 steps to functions is in docs/tcp.md.
 */
#ifndef TAPSTACK_TCP_TCP_H
#define TAPSTACK_TCP_TCP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/core.h"
#include "core/counters.h"
#include "core/spares.h"

struct icmp_err;
struct ip_layer;
struct ipv4_rx;
struct tcp_cc_ops;
struct tcp_conn;
struct tcp_listener;

#define TCP_CA_NAME_MAX 16u     /* a congestion-control name with its NUL (Linux TCP_CA_NAME_MAX) */

/*
 * Knobs, with Linux's defaults (the sysctl each mirrors in brackets). The packetdrill
 * runner maps the scripts' sysctl lines onto these.
 */
struct tcp_config {
	uint32_t mtu;                 /* link MTU: our MSS is mtu - 40 (stack.c copies link.mtu) */
	uint32_t gso_max;             /* TSO: payload bytes per super-segment, 0 = off (stack.c, from the device) */
	bool csum_offload;            /* the device finishes TCP checksums (PBUF_F_CSUM_PARTIAL) */
	uint32_t rmem_default;        /* receive buffer bytes [tcp_rmem[1] = 131072] */
	uint32_t rmem_max;            /* [tcp_rmem[2] = 6291456]; sets the window scale we offer */
	uint32_t wmem_default;        /* send buffer bytes [tcp_wmem[1] = 16384] */
	uint32_t wmem_max;            /* [tcp_wmem[2] = 4194304] */
	uint32_t notsent_lowat;       /* unsent bytes past which a socket is not writable
	                               * [tcp_notsent_lowat = 4294967295: no limit] */
	bool timestamps;              /* RFC 7323 timestamps [tcp_timestamps = 1] */
	bool sack;                    /* RFC 2018 SACK-permitted [tcp_sack = 1]; off: NewReno recovery only */
	bool dsack;                   /* RFC 2883 D-SACK blocks on duplicates [tcp_dsack = 1] */
	uint32_t recovery;            /* TCP_RECOVERY_* bits: RACK loss detection, else RFC 6675 [tcp_recovery = 1] */
	bool tlp;                     /* RFC 8985 tail loss probe [tcp_early_retrans = 3] */
	uint32_t frto;                /* RFC 5682 F-RTO after an RTO, SACK-enhanced [tcp_frto = 2] */
	bool window_scaling;          /* RFC 7323 window scale [tcp_window_scaling = 1] */
	bool shrink_window;           /* a scaled window may shrink as memory fills [tcp_shrink_window = 0] */
	bool abort_on_overflow;       /* RST instead of dropping on a full accept queue [tcp_abort_on_overflow = 0] */
	uint8_t syncookies;           /* RFC 4987 cookies: 0 never, 1 when the SYN queue is full, 2 for
	                               * every SYN [tcp_syncookies = 1] */
	uint32_t syn_retries;         /* SYN retransmissions before ETIMEDOUT [tcp_syn_retries = 6] */
	uint32_t synack_retries;      /* SYN-ACK retransmissions before the request is dropped [tcp_synack_retries = 5] */
	uint32_t retries2;            /* data retransmissions before ETIMEDOUT [tcp_retries2 = 15] */
	uint32_t orphan_retries;      /* the same once the socket is closed [tcp_orphan_retries = 0, meaning 8] */
	uint32_t somaxconn;           /* listen backlog clamp [somaxconn = 4096] */
	uint32_t time_wait_ms;        /* TIME-WAIT hold [TCP_TIMEWAIT_LEN = 60 s] */
	uint32_t fin_timeout_ms;      /* orphaned FIN-WAIT-2 hold [tcp_fin_timeout = 60 s] */
	uint32_t rto_min_ms;          /* RFC 6298 floor, Linux's TCP_RTO_MIN = 200 ms */
	uint32_t rto_init_ms;         /* RFC 6298 2.1: 1 s */
	uint32_t rto_max_ms;          /* TCP_RTO_MAX = 120 s */
	uint32_t delack_min_ms;       /* TCP_DELACK_MIN = 40 ms */
	uint32_t delack_max_ms;       /* TCP_DELACK_MAX = 200 ms */
	uint32_t comp_sack_delay_us;  /* longest a SACK may wait to be merged with the next ones
	                               * [tcp_comp_sack_delay_ns = 1 ms] */
	uint32_t comp_sack_nr;        /* SACKs merged into one at most; 0 sends each [tcp_comp_sack_nr = 44] */
	uint32_t hz;                  /* the kernel tick CUBIC counts its time in, as Linux's jiffies
	                               * [CONFIG_HZ: 250 in Debian's kernels; 100 to 1000] */
	uint32_t init_cwnd_segs;      /* RFC 6928 IW10 */
	uint32_t min_tso_segs;        /* segments a transmit unit may always hold [tcp_min_tso_segs = 2] */
	char congestion_control[TCP_CA_NAME_MAX];  /* the default algorithm, "cubic" or "reno" [tcp_congestion_control] */
	bool slow_start_after_idle;   /* restart cwnd after an RTO of idleness [tcp_slow_start_after_idle = 1] */
	uint32_t min_rtt_win_s;       /* window of the minimum-RTT filter [tcp_min_rtt_wlen = 300] */
	uint32_t hystart_detect;      /* CUBIC's HyStart exits: 1 ACK train, 2 delay, 3 both, 0 none
	                               * [/sys/module/tcp_cubic/parameters/hystart_detect = 3] */
	uint32_t challenge_ack_limit; /* RFC 5961 challenge ACKs per second [tcp_challenge_ack_limit = 1000] */
	uint64_t mem_low;             /* buffer memory of all connections, bytes [tcp_mem[0], in pages */
	uint64_t mem_pressure;        /*   there]: under pressure above mem_pressure until back below */
	uint64_t mem_high;            /*   mem_low; nothing grows past mem_high (tcp_mem.c) */
	uint32_t max_conns;           /* full connections at once (no sysctl: Linux's bound is memory) */
	uint32_t max_tw_buckets;      /* TIME-WAIT entries at most [tcp_max_tw_buckets = 262144] */
	uint32_t keepalive_time_s;    /* [tcp_keepalive_time = 7200] */
	uint32_t keepalive_intvl_s;   /* [tcp_keepalive_intvl = 75] */
	uint32_t keepalive_probes;    /* [tcp_keepalive_probes = 9] */
	uint16_t port_lo, port_hi;    /* ephemeral range [ip_local_port_range = 32768 60999] */
};

#define TCP_RECOVERY_RACK 1u            /* Linux TCP_RACK_LOSS_DETECTION */
#define TCP_RECOVERY_STATIC_REO 2u      /* TCP_RACK_STATIC_REO_WND: D-SACKs do not widen it */
#define TCP_RECOVERY_NO_DUPTHRESH 4u    /* TCP_RACK_NO_DUPTHRESH: no zero window at 3 SACKed */

void tcp_config_default(struct tcp_config *cfg);
/* Is there a congestion-control algorithm of this name (for tcp_config.congestion_control)? */
bool tcp_cc_known(const char *name);
/* How long a connection retransmits before giving up with ETIMEDOUT, for a limit of
 * `boundary` retries (retries2 or orphan_retries), as Linux's tcp_model_timeout: the time
 * that many RTO expiries take from rto_min_ms doubling up to rto_max_ms (924.6 s for 15). */
usec_t tcp_retrans_timeout(const struct tcp_config *cfg, uint32_t boundary);

/* The largest TSO payload: a 65535-byte IPv4 datagram less a 20-byte IP header and the
 * largest TCP header (60). Each super-segment is also a whole number of MSS-sized pieces
 * unless it ends the queued data. */
#define TCP_GSO_MAX_PAYLOAD (65535u - 20u - 60u)

/* Counters like `netstat -s` (group "tcp"): the RFC 4022 MIB names, then drop reasons. */
#define TCP_COUNTERS(X)                                                                            \
	X(ActiveOpens) X(PassiveOpens) X(AttemptFails) X(EstabResets) X(CurrEstab)                 \
	X(InSegs) X(OutSegs) X(RetransSegs) X(InErrs) X(OutRsts) X(InCsumErrors)                   \
	X(ListenOverflows) X(ListenDrops)                                                          \
	X(drop_truncated) X(drop_bad_doff) X(drop_bad_option) X(drop_broadcast)                   \
	X(drop_no_socket) X(drop_rst_no_socket) X(drop_listen_rst) X(drop_listen_noack_nosyn)        \
	X(drop_listen_ack) X(drop_syn_queue_full) X(drop_req_bad_ack) X(drop_out_of_window)     \
	X(drop_paws) X(PawsDisorderedAck) X(drop_no_ack) X(drop_ack_unsent) X(drop_old_ack)        \
	X(drop_no_memory) X(drop_ooo_full) X(drop_synsent) X(drop_timewait) X(BeyondWindow)        \
	X(SynRetrans) X(SynAckRetrans) X(SynAckTimeouts) X(ReqCreated) X(ReqAccepted)              \
	X(ChallengeAcks) X(ChallengeAckLimited) X(RstInWindowNotExact) X(SynInSynchronized)        \
	X(DelayedAcks) X(QuickAcks) X(DupAcksSent) X(OutOfOrderQueued) X(FastRetransmits)          \
	X(RtoExpired) X(Timeouts) X(PersistProbes) X(KeepaliveProbes) X(AbortOnClose)              \
	X(AbortOnData) X(AbortOnLinger) X(AbortOnTimeout) X(TimeWaitCreated) X(TimeWaitExpired)   \
	X(TimeWaitRecycled) X(OutputNoMemory) X(SyncookiesSent) X(SyncookiesRecv) X(SyncookiesFailed) X(SyncookiesKept) \
	X(DeferAcceptDrop) X(TimeWaitOverflow) X(NoTimerSlot) X(TimerArmFailed)                    \
	X(IcmpNoConnection) X(OutOfWindowIcmps) X(IcmpPmtuChanged) X(IcmpPmtuIgnored)             \
	X(IcmpSoftErrors) X(IcmpHardErrors) X(IcmpReqDropped) X(IcmpIgnored)                      \
	X(SackDiscardMalformed) X(SackDiscardUnsent) X(SackDiscardOld) X(SackOverlap)              \
	X(SackReneging) X(SackRecovery) X(ScoreboardFull) X(RackLost) X(LostRetransmits)           \
	X(LossProbes) X(LossProbeRecovery) X(DsackRecv) X(DsackSent) X(DsackIgnoredNoUndo)         \
	X(DsackIgnoredDubious) X(DsackUndo) X(FullUndo) X(PartialUndo) X(LossUndo) X(SpuriousRtos) \
	X(HystartTrainDetect) X(HystartTrainCwnd) X(HystartDelayDetect) X(HystartDelayCwnd)          \
	X(MemoryPressures) X(drop_mem_limit) X(SendMemLimited) X(ConnLimitRefused)                 \
	X(MarksNoMemory) X(OfoNoMemory)                                                            \
	X(RcvCoalesce) X(RcvCollapsed) X(RcvQDrop) X(RcvCopiedBytes) X(OfoPruned) X(BatchAcks)  \
	X(AckCompressed)

struct tcp_counters {
	TCP_COUNTERS(COUNTER_FIELD)
};

/* One bucket chain of the 4-tuple table or the listen table (see tcp_int.h). */
struct tcp_hnode;

struct tcp_hash {
	struct tcp_hnode **b;
	uint32_t mask;           /* buckets - 1 (a power of two) */
	uint32_t count;
};

/* Linux's bind bucket of one local port: what a bind() of it must not overlap. */
struct tcp_port {
	uint16_t binds;              /* explicit bind()s (sockets holding the port) */
	uint16_t binds_noreuseport;  /* ... of them without SO_REUSEPORT */
	uint32_t conns;              /* connections and TIME-WAIT entries using it */
	uint32_t conns_noreuse;      /* ... of them without SO_REUSEADDR when they began */
};

/* The ACK being processed, as loss recovery reads it (tcp_recovery.c, tcp_input.c's
 * tcp_ack): filled at the start of each ACK and dead after it. A stack processes one ACK at
 * a time, so the layer holds one instead of every connection (Linux keeps the same on its
 * stack: struct tcp_sacktag_state, struct rate_sample). */
struct tcp_acking {
	usec_t sack_sent;       /* send time of the newest never-resent segment it SACKed */
	usec_t cum_sent;        /* ... and of the newest it cumulatively ACKed (not SACKed before) */
	usec_t sack_first;      /* send time of the oldest never-resent segment it SACKed */
	usec_t cum_first;       /* ... and of the oldest it cumulatively ACKed (Linux first_ackt) */
	uint32_t ecr;           /* its TSecr, 0 if none */
	uint32_t prior_fack;    /* fack before it (reordering is judged against this) */
	uint32_t reord_low;     /* the lowest segment it delivered below that (TCP_ACKF_REORD) */
	int32_t rtt_fallback;   /* the timestamp echo's (or the timed segment's) sample, -1: none */
	int32_t ca_rtt_us;      /* its RTT sample for congestion control and min_RTT (Linux
	                         * ca_rtt_us), from those send times; -1: none */
	uint32_t delivered;     /* bytes it newly ACKed or SACKed (Linux acked_sacked) */
	uint32_t newest_order;  /* the latest sent of the segments it delivered ... */
	bool newest_valid;      /* ... if it delivered any (Linux rs->prior_delivered) */
	uint8_t flags;          /* TCP_ACKF_* (tcp_recovery.c) */
	bool newly_lost;        /* it made RACK mark a segment lost */
	bool fack_valid;        /* prior_fack is valid */
};

/* The layer context: lives by value in struct stack. */
struct tcp_layer {
	struct core *core;
	struct ip_layer *ip;
	struct tcp_config cfg;
	struct tcp_counters ctr;
	struct tcp_hash conns;       /* connections, SYN-queue requests and TIME-WAIT, by 4-tuple */
	struct tcp_hash listeners;   /* listeners, by local port */
	uint8_t isn_key[16];         /* RFC 6528 secret, random per stack */
	uint8_t cookie_key[16];      /* RFC 4987 SYN cookie secret */
	struct tcp_port *ports;      /* who holds each local port (65536 entries, tcp_hash.c) */
	uint32_t nconns;             /* full connections alive (at most cfg.max_conns) */
	uint64_t mem_used;           /* ring storage and out-of-order truesize of all connections */
	bool mem_under_pressure;     /* tcp_mem.c: set above cfg.mem_pressure, cleared below mem_low */
	uint32_t ntw;                /* TIME-WAIT entries */
	/* TIME-WAIT entries in the order they expire (each lasts cfg.time_wait_ms, so a new or
	 * restarted one goes last): one timer, for the first, serves them all in O(1). */
	struct tcp_tw *tw_head, *tw_tail;
	struct timer tw_timer;
	/* Recycled SYN-queue entries (tcp_listen.c): a SYN flood allocates nothing per packet. */
	struct tcp_req *req_free;    /* free list, linked through qnext */
	uint32_t req_alloc;          /* entries allocated: in SYN queues plus on the free list */
	uint32_t req_limit;          /* sum of the listeners' SYN queue limits: the pool's bound */
	/* RFC 5961 7: one global budget of challenge ACKs per second, as Linux. */
	usec_t challenge_stamp;
	uint32_t challenge_count;
	struct tcp_conn *all;        /* every connection, for tcp_foreach_sock and destroy */
	struct tcp_conn *ack_batch;  /* connections owing an ACK at the end of the receive batch */
	struct tcp_acking acking; /* the ACK tcp_ack() is processing */
	/* Blocks drained connections gave back (core/spares.h; tcp_buf.c, tcp_sack.c,
	 * tcp_rtt.c): the smallest send ring, scoreboard, skb ends, marks and (without SACK)
	 * send-time ring, which a request-response connection takes for each response and
	 * gives back when it is acknowledged. After warm-up an exchange allocates none of
	 * them; an idle connection still holds none. */
	struct spares ring_spares, sb_spares, skbq_spares, marks_spares, rtt_spares;
	/* Readiness upcall (tcp_set_waker): called with a connection's or listener's owner
	 * token whenever its poll state may have changed. */
	void (*wake)(void *arg, uint32_t owner);
	void *wake_arg;
};

int tcp_init(struct tcp_layer *tl, struct core *core, struct ip_layer *ip, const struct tcp_config *cfg);
/* Frees every listener, request, connection and TIME-WAIT entry; sends nothing. */
void tcp_destroy(struct tcp_layer *tl);
/*
 * One received TCP segment: pb->data at the TCP header, pb->len the TCP length, the IPv4
 * header just before data (ipv4_input's contract). Takes ownership of pb (freed, or kept
 * in a connection's out-of-order queue).
 */
void tcp_input(struct tcp_layer *tl, struct pbuf *pb, const struct ipv4_rx *rx);
/*
 * An ICMP error quoting one of our TCP segments (tcp_icmp.c; RFC 1122 4.2.3.9, RFC 5927,
 * RFC 1191): finds the connection or request by the quoted 4-tuple, checks the quoted
 * sequence number, then lowers the MSS and retransmits (frag-needed), aborts a connect
 * (hard errors in SYN-SENT) or records a soft error. Borrows err.
 */
void tcp_icmp_error(struct tcp_layer *tl, const struct icmp_err *err);
size_t tcp_counter_groups(const struct tcp_layer *tl, struct counter_group *out, size_t max);
/*
 * The end of a receive batch (ts_stack_poll, after the frames it drained): every connection
 * that received data in the batch and owes an ACK sends one, covering all of it (stretch
 * ACKs, as Linux ACKs one GRO super-packet; tcp_input.c tcp_ack_decide). Frames handed to
 * ts_stack_input() directly are answered by the next ts_stack_poll().
 */
void tcp_flush_acks(struct tcp_layer *tl);

/* `tapstack ss`: one line per socket, like `ss -tan`. */
struct tcp_sock_info {
	const char *state;       /* "LISTEN", "SYN-RECV", "ESTAB", "TIME-WAIT", ... as ss prints them */
	uint32_t laddr, raddr;   /* host order */
	uint16_t lport, rport;
	uint32_t recv_q, send_q; /* LISTEN: accept queue length and backlog */
	/* What `ss -i -o -e` adds. conn: connections only; tcp_conn_info(conn) is TCP_INFO's view. */
	const struct tcp_conn *conn;
	uint64_t bytes_acked, bytes_received;
	uint32_t lost, sacked, retrans_out;  /* segments marked so on the SACK scoreboard now */
	const char *timer;       /* ss -o name: "on" (retransmit, SYN-ACK), "persist", "keepalive", "timewait", NULL */
	usec_t timer_left;       /* until it fires */
	uint32_t timer_retries;
	uintptr_t id;            /* the object's identity (ss -e's sk:) */
};
void tcp_foreach_sock(struct tcp_layer *tl, void (*fn)(const struct tcp_sock_info *, void *), void *arg);

/* ---- socket-facing calls (used by stack/socket/ only) ---- */

/*
 * Readiness upcalls: the socket layer gives each connection and listener it holds an owner
 * token (nonzero; 0 = nobody) and one function TCP calls with that token whenever the
 * object's poll state may have changed: a segment was processed for it, its state changed
 * (connected, FIN, reset, timeout), or a connection joined a listener's accept queue. The
 * call only records the token; it must not call back into TCP. tcp_close() drops the
 * connection's token.
 */
void tcp_set_waker(struct tcp_layer *tl, void (*wake)(void *arg, uint32_t owner), void *arg);
void tcp_conn_set_owner(struct tcp_conn *c, uint32_t owner);
void tcp_listener_set_owner(struct tcp_listener *l, uint32_t owner);

/* Options a socket carries before it has a connection; copied into every connection it makes. */
struct tcp_sockopts {
	uint32_t rcvbuf, sndbuf;   /* bytes (already doubled as Linux does) */
	uint32_t linger_s;          /* SO_LINGER's time; TCP_LINGER_FOREVER for a negative one */
	uint32_t user_timeout_ms;  /* TCP_USER_TIMEOUT: abort when data stays unacknowledged this long */
	uint32_t notsent_lowat;    /* TCP_NOTSENT_LOWAT; 0 = tcp_config's notsent_lowat */
	uint32_t window_clamp;     /* TCP_WINDOW_CLAMP as set: the largest window offered; 0 = none */
	uint32_t fastopen_qlen;    /* TCP_FASTOPEN on a listener: read back only (no Fast Open here) */
	uint32_t priority;         /* SO_PRIORITY: read back (no queueing discipline here) */
	int32_t linger2_s;         /* TCP_LINGER2: orphan FIN-WAIT-2 hold; 0 = fin_timeout_ms, -1 = none */
	uint16_t user_mss;         /* TCP_MAXSEG; 0 = none */
	/* Keepalive per socket (TCP_KEEPIDLE, TCP_KEEPINTVL, TCP_KEEPCNT); 0 = tcp_config's. */
	uint16_t keepidle_s, keepintvl_s;
	uint8_t keepcnt;
	uint8_t defer_accept;      /* TCP_DEFER_ACCEPT as SYN-ACK retransmissions (Linux secs_to_retrans) */
	uint8_t tos;               /* IP_TOS for our segments (ECN bits always 0: no ECN here) */
	uint8_t ttl;               /* IP_TTL; 0 = ip_config's (Linux's -1, ip_default_ttl) */
	uint8_t syncnt;            /* TCP_SYNCNT: SYN retransmissions before ETIMEDOUT; 0 = syn_retries */
	uint8_t pmtudisc;          /* IP_MTU_DISCOVER as set (TCP sets DF whatever it is) */
	bool rcvbuf_locked, sndbuf_locked;
	bool nodelay, cork, keepalive, reuseaddr;
	bool linger_on;
	bool oobinline;            /* SO_OOBINLINE: the urgent byte stays in the stream (tcp_urg.c) */
	bool zerocopy;             /* SO_ZEROCOPY: accepted (sends copy) */
	bool recverr, broadcast;   /* IP_RECVERR, SO_BROADCAST: read back, no effect on TCP */
	bool reuseport;            /* SO_REUSEPORT: listeners of one port share its SYNs (tcp_hash.c) */
	bool pingpong;             /* TCP_QUICKACK 0: delayed-ACK mode asked for (reported back only) */
	const struct tcp_cc_ops *cc; /* TCP_CONGESTION; NULL: the stack's default */
};
#define TCP_LINGER_FOREVER UINT32_MAX
void tcp_sockopts_default(const struct tcp_layer *tl, struct tcp_sockopts *o);

/* Local port reservations made by bind(). -EADDRINUSE when taken, -EADDRNOTAVAIL for an
 * address that is not ours (ip_bind_addr_ok). port 0 picks an ephemeral one. reuseport:
 * SO_REUSEPORT at bind time; unbind says the same. */
int tcp_port_bind(struct tcp_layer *tl, uint32_t laddr, uint16_t *port, bool reuseaddr, bool reuseport);
void tcp_port_unbind(struct tcp_layer *tl, uint16_t port, bool reuseport);

struct tcp_listener *tcp_listen(struct tcp_layer *tl, uint32_t laddr, uint16_t lport, int backlog,
                                const struct tcp_sockopts *o, int *err);
void tcp_listener_set_backlog(struct tcp_listener *l, int backlog);
/* Next established connection from the accept queue (FIFO) or NULL. The caller owns it. */
struct tcp_conn *tcp_listener_accept(struct tcp_listener *l);
uint32_t tcp_listener_queued(const struct tcp_listener *l);
/* Closes the listener: pending requests are dropped, unaccepted connections reset. */
void tcp_listener_close(struct tcp_listener *l);
void tcp_listener_addr(const struct tcp_listener *l, uint32_t *laddr, uint16_t *lport);
/* The listener's options: setsockopt on a listening socket changes what its next SYN-ACKs
 * and the connections it accepts use (Linux: they inherit the listener's socket). */
struct tcp_sockopts *tcp_listener_opts(struct tcp_listener *l);

/* Active open: sends the SYN. laddr 0 = ours, lport 0 = ephemeral. NULL and *err on failure. */
struct tcp_conn *tcp_connect(struct tcp_layer *tl, uint32_t laddr, uint16_t lport, uint32_t raddr,
                             uint16_t rport, const struct tcp_sockopts *o, int *err);
/* tcp_send flags. MORE (MSG_MORE): more data follows, so hold a partial segment and set no
 * PSH yet. EOR (MSG_EOR): these bytes end a record: no segment carries bytes of both sides
 * of the mark, and the one ending at it carries PSH (Linux's skb eor bit). OOB (MSG_OOB):
 * the last byte queued is urgent (tcp_urg.c). */
#define TCP_SEND_MORE 0x1u
#define TCP_SEND_EOR 0x2u
#define TCP_SEND_OOB 0x4u
/* Bytes accepted into the send buffer (maybe fewer than len), or -errno (-EAGAIN when full,
 * or when a record mark is asked for and TCP_EOR_MARKS records are still unacknowledged). */
long tcp_send(struct tcp_conn *c, const void *buf, size_t len, unsigned flags);
/*
 * A source that writes a send's bytes into the send queue itself: fill(ctx, dst, n, at)
 * puts the n bytes that start `at` bytes into the send at dst and returns how many it put
 * (fewer: the source ended), or -errno. sendfile's pread is one (ts_sendfile): a file's
 * bytes then reach the queue with the kernel's one copy and none of ours.
 */
typedef long (*tcp_fill_fn)(void *ctx, void *dst, uint32_t n, uint64_t at);
/* tcp_send with the bytes from fill: as tcp_send, and 0 when the source had nothing more,
 * the source's -errno when it failed before giving a byte. */
long tcp_send_from(struct tcp_conn *c, tcp_fill_fn fill, void *ctx, size_t len, unsigned flags);
/* Bytes read, 0 at end of stream, or -errno (-EAGAIN when nothing is there). A read stops
 * before the urgent byte and passes over it unless SO_OOBINLINE (tcp_urg.c). */
long tcp_recv(struct tcp_conn *c, void *buf, size_t len, bool peek);
/* recv(MSG_OOB): the urgent byte, once (1, or 0 for len 0); -EINVAL when there is none, it
 * was read, or SO_OOBINLINE is on; -EAGAIN while it has not arrived (never waits). */
long tcp_recv_urg(struct tcp_conn *c, void *buf, size_t len, bool peek);
/* SIOCATMARK: the next byte to read is the urgent one. */
bool tcp_conn_atmark(const struct tcp_conn *c);
uint32_t tcp_inq(const struct tcp_conn *c);
/* SIOCOUTQ: bytes written and not yet acknowledged; with notsent, only those not yet sent
 * (SIOCOUTQNSD). 0 before the handshake completes, as Linux. */
uint32_t tcp_outq(const struct tcp_conn *c, bool notsent);
/* What the send queue is charged, as Linux's sk_wmem_queued: its bytes (sent and not
 * acknowledged, or not sent yet) and each skb's overhead (tcp_buf.c). */
uint32_t tcp_conn_wmem_queued(const struct tcp_conn *c);
/* TCP_WINDOW_CLAMP on a connection (Linux tcp_set_window_clamp): the largest window it
 * offers from now on, at least SOCK_MIN_RCVBUF / 2; a smaller one pulls the window's growth
 * target down. 0 (no clamp) only once the connection is closed, else -EINVAL. Read back as
 * the clamp in force (tcp_rwnd.c). */
int tcp_conn_set_window_clamp(struct tcp_conn *c, int val);
uint32_t tcp_conn_window_clamp(const struct tcp_conn *c);
/* how: SHUT_RD, SHUT_WR, SHUT_RDWR. */
int tcp_shutdown(struct tcp_conn *c, int how);
/* The socket lets go: FIN (or RST with unread data / SO_LINGER 0); TCP frees it later. */
void tcp_close(struct tcp_conn *c);
short tcp_conn_revents(const struct tcp_conn *c);
short tcp_listener_revents(const struct tcp_listener *l);
/* SO_ERROR: returns and clears the pending error (positive errno or 0). */
int tcp_conn_take_error(struct tcp_conn *c);
void tcp_conn_addrs(const struct tcp_conn *c, uint32_t *laddr, uint16_t *lport, uint32_t *raddr,
                    uint16_t *rport);
struct tcp_sockopts *tcp_conn_opts(struct tcp_conn *c);
/* Apply changed options (Nagle/cork flush, buffer sizes). */
void tcp_conn_opts_changed(struct tcp_conn *c);
/* TCP_QUICKACK: 0 makes the connection interactive (delayed ACKs), 1 ends that and
 * sends an ACK the timer holds as a read would (tcp_delack.c). */
void tcp_conn_set_quickack(struct tcp_conn *c, int val);
bool tcp_conn_pingpong(const struct tcp_conn *c);
/* SO_LINGER's wait: sent data or our FIN not yet acknowledged. */
bool tcp_conn_unacked(const struct tcp_conn *c);
/* The keepalive and FIN-WAIT-2 times in force for these options (the socket's or the stack's). */
uint32_t tcp_keepidle_s(const struct tcp_layer *tl, const struct tcp_sockopts *o);
uint32_t tcp_keepintvl_s(const struct tcp_layer *tl, const struct tcp_sockopts *o);
uint32_t tcp_keepcnt(const struct tcp_layer *tl, const struct tcp_sockopts *o);
/* SYN (or SYN-ACK) retransmissions before a connect gives up: TCP_SYNCNT or syn_retries. */
uint32_t tcp_syncnt(const struct tcp_layer *tl, const struct tcp_sockopts *o);
/* Send what waits once, ignoring Nagle and TCP_CORK (setting TCP_NODELAY does this on Linux). */
void tcp_conn_push(struct tcp_conn *c);
/*
 * The handshake of an accepted connection as the stack saw it, for teaching (ts_handshake(),
 * the HTTP server's /conn page, docs/walkthrough.md): what the client's SYN offered, what the
 * SYN-ACK answered, and when each step happened in the stack's clock (microseconds). A moment
 * the stack did not see is 0 (an active open; a connection rebuilt from a SYN cookie has no
 * SYN or SYN-ACK time). Window scales are 255 when the segment carried none.
 */
struct ts_handshake {
	uint64_t syn_at_us, synack_at_us, ack_at_us, accept_at_us;
	uint32_t client_isn, server_isn;
	uint32_t syn_tsval;                 /* valid when syn_ts */
	uint16_t syn_mss, syn_win;          /* syn_mss 0: no MSS option */
	uint16_t synack_mss, synack_win;
	uint8_t syn_wscale, synack_wscale;
	bool syn_sack, syn_ts, synack_sack, synack_ts;
};
void tcp_conn_handshake(const struct tcp_conn *c, struct ts_handshake *hs);
/*
 * getsockopt(TCP_INFO): Linux's struct tcp_info (the fields tapstack tracks; the rest 0).
 * glibc's struct tcp_info ends at tcpi_total_retrans (104 bytes); struct tcp_info_more is
 * what Linux's <linux/tcp.h> puts right after it, at the same offsets (from 104), so
 * the two side by side are the kernel's layout up to tcpi_rcv_wnd.
 */
struct tcp_info;
struct tcp_info_more {
	uint64_t tcpi_pacing_rate, tcpi_max_pacing_rate;
	uint64_t tcpi_bytes_acked;      /* RFC 4898 tcpEStatsAppHCThruOctetsAcked */
	uint64_t tcpi_bytes_received;
	uint32_t tcpi_segs_out, tcpi_segs_in;
	uint32_t tcpi_notsent_bytes;    /* queued, not yet sent */
	uint32_t tcpi_min_rtt;          /* the RTT estimator's windowed minimum, us */
	uint32_t tcpi_data_segs_in, tcpi_data_segs_out;
	uint64_t tcpi_delivery_rate;
	uint64_t tcpi_busy_time;        /* us with data queued or in flight (Linux's chronograph) */
	uint64_t tcpi_rwnd_limited;     /* ... of which stopped by the peer's window */
	uint64_t tcpi_sndbuf_limited;   /* ... of which the application waited for send buffer */
	uint32_t tcpi_delivered;        /* segments delivered (ACKed or SACKed), the SYN counted */
	uint32_t tcpi_delivered_ce;     /* ... with an ECN echo: 0, no ECN */
	uint64_t tcpi_bytes_sent;       /* RFC 4898 tcpEStatsPerfHCDataOctetsOut: resends too */
	uint64_t tcpi_bytes_retrans;    /* RFC 4898 tcpEStatsPerfOctetsRetrans */
	uint32_t tcpi_dsack_dups;       /* RFC 4898 tcpEStatsStackDSACKDups */
	uint32_t tcpi_reord_seen;       /* reordering events seen */
	uint32_t tcpi_rcv_ooopack;      /* segments received out of order */
	uint32_t tcpi_snd_wnd;          /* the peer's window, scaled, bytes */
	uint32_t tcpi_rcv_wnd;          /* our last advertised window, scaled, bytes */
};
void tcp_conn_info(const struct tcp_conn *c, struct tcp_info *ti, struct tcp_info_more *more);
void tcp_listener_info(const struct tcp_listener *l, struct tcp_info *ti);
/* TCP_CONGESTION: -ENOENT for a name the stack does not have (Linux). The name a socket's
 * options select (the stack's default when none was set). */
int tcp_sockopts_set_cc(struct tcp_sockopts *o, const char *name);
/* The congestion-control algorithm a connection uses ("cubic", "reno"), as ss -i names it. */
const char *tcp_conn_cc_name(const struct tcp_conn *c);
const char *tcp_sockopts_cc_name(const struct tcp_layer *tl, const struct tcp_sockopts *o);
/* TCP_MAXSEG as getsockopt reports it. */
uint32_t tcp_conn_mss(const struct tcp_conn *c);
bool tcp_conn_is_connected(const struct tcp_conn *c);
bool tcp_conn_connecting(const struct tcp_conn *c);
/* An active open that failed (refused, timed out) and never connected: connect() may retry. */
bool tcp_conn_failed_open(const struct tcp_conn *c);
const char *tcp_conn_state_name(const struct tcp_conn *c);

#endif
