/*
 * tcp_harness.h - a packet-level test bench for the TCP layer: one stack on a recording
 * driver, a fake clock, and helpers that build exact frames and check exact frames.
 *
 * The test plays the peer, 10.0.0.1 (MAC 02:00:00:00:00:01), talking to the stack at
 * 10.0.0.2/24 (MAC 02:00:00:00:00:02, fixed seed). Nothing sleeps: the harness owns `now`
 * and moves it with th_advance(), which steps from one timer deadline to the next so every
 * timer fires at its exact time.
 *
 *   struct th *h = th_new(NULL);               // stack up, ARP entry for the peer learned
 *   int lfd = th_listen(h, 80, 128);
 *   th_send(h, TCP_FLAG_SYN, 1000, 0, 65535, &syn_opts, NULL, 0);
 *   struct th_seg s = th_expect(h, TCP_FLAG_SYN | TCP_FLAG_ACK, TH_ANY, 1001, TH_ANY, NULL, 0);
 *   h->iss = s.hdr.seq;                        // the stack's ISN, for relative numbers
 *   ...
 *   th_free(h);
 *
 * Frames the stack sends are recorded in order; ARP requests for the peer are answered
 * automatically and ARP frames never reach the th_expect*() calls. Every check reports the
 * test's own file and line (the macros pass them) with the expected and the actual segment.
 *
 * Sequence numbers are absolute on the wire; tests usually write them relative to the
 * peer's ISN (h->irs, chosen by the test) and the stack's ISN (h->iss, learned from its
 * SYN-ACK): th_send(h, ACK, h->irs + 1, h->iss + 1, ...).
 */
#ifndef TAPSTACK_TESTS_TCP_HARNESS_H
#define TAPSTACK_TESTS_TCP_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/time.h"
#include "drivers/netdev.h"
#include "stack/stack.h"
#include "wire/tcp.h"

#define TH_PEER_IP 0x0a000001u    /* 10.0.0.1 */
#define TH_LOCAL_IP 0x0a000002u   /* 10.0.0.2 */
#define TH_PEER_PORT 40000
#define TH_START_USEC (1000 * USEC_PER_SEC)   /* the fake clock starts here, not at 0 */

/* "Any value" for th_expect() fields. */
#define TH_ANY (-1LL)
/* OR into th_expect()'s flags: PSH may or may not be set (data segments). */
#define TH_PSH_ANY 0x100

extern const uint8_t th_peer_mac[6];
extern const uint8_t th_local_mac[6];
/* Allocations the harness itself made (a frame queued for the stack or recorded from it):
 * a test that counts the stack's allocations (test_tcp_nomem.c) subtracts them. */
extern unsigned long th_allocs;

/* One recorded frame. */
struct th_frame {
	struct th_frame *next;
	usec_t when;            /* the fake clock when the stack sent it */
	uint32_t len;
	uint16_t gso_size;      /* offload metadata: sent, pbuf gso_size; injected, given to the stack */
	uint8_t pbuf_flags;     /* sent: PBUF_F_CSUM_PARTIAL; injected: PBUF_F_CSUM_OK */
	uint8_t data[];
};

/* A frame queue (FIFO). */
struct th_fq {
	struct th_frame *head, *tail;
	uint32_t count;
};

struct th {
	struct stack st;
	struct netdev *dev;     /* the recording driver (owned by the stack after init) */
	struct th_fq rx;        /* frames waiting for the stack to read */
	struct th_fq tx;        /* frames the stack sent, not yet checked */
	usec_t now;
	uint32_t arp_seen;      /* ARP frames the stack sent (answered or skipped) */
	bool answer_arp;        /* answer ARP requests for TH_PEER_IP (default true) */
	uint16_t peer_port;     /* source port of th_send() (TH_PEER_PORT) */
	uint16_t local_port;    /* destination port of th_send() (80) */
	uint32_t peer_ip;       /* source address of th_send() (TH_PEER_IP) */
	uint32_t dst_ip;        /* destination address of th_send() (TH_LOCAL_IP) */
	const uint8_t *dst_mac; /* destination MAC of th_send() (th_local_mac) */
	uint16_t urg_ptr;       /* urgent pointer field of th_send() (0), with or without TCP_FLAG_URG */
	uint8_t tos;            /* IP TOS byte of th_send() (0) */
	uint32_t irs;           /* the peer's (the test's) ISN, chosen by the test */
	uint32_t iss;           /* the stack's ISN, learned from its SYN(-ACK) */
	uint16_t synack_win;    /* the window of the last SYN-ACK th_open_passive() saw */
	uint16_t ip_id;
};

/* A parsed segment the stack sent. */
struct th_seg {
	struct tcp_hdr hdr;
	uint32_t src, dst;          /* IP addresses */
	uint8_t tos, ttl;           /* their IP header's */
	uint8_t payload[2048];
	uint32_t len;               /* payload length */
	usec_t when;
};

/*
 * A new bench: ts_stack_config_default() (then `tweak`, if given, may change the config),
 * ts_stack_init on the recording driver at TH_START_USEC, the peer's ARP entry learned by
 * injecting an ARP request from 10.0.0.1, and every frame sent so far (gratuitous ARP, the
 * ARP reply) discarded. Fails the test on any error.
 */
struct th *th_new(void (*tweak)(struct stack_config *cfg));
/* The same on a recording driver that offers these offloads (NETDEV_OFF_*, drivers/netdev.h). */
struct th *th_new_offload(void (*tweak)(struct stack_config *cfg), uint32_t offload);
void th_free(struct th *h);

/* cmocka per-test fixtures: *state = th_new(NULL), and th_free(*state). */
int th_setup(void **state);
int th_teardown(void **state);

/* Runs the stack at the current time: drains injected frames and fires due timers. */
void th_poll(struct th *h);
/* Moves the fake clock forward ms milliseconds, firing each timer at its own deadline. */
void th_advance(struct th *h, uint64_t ms);
void th_advance_us(struct th *h, usec_t us);
/*
 * Moves the clock forward (at most max_ms) until the stack sends a frame that is not ARP;
 * returns the milliseconds that passed, or -1 if nothing was sent in time (the clock is then
 * max_ms later).
 */
long th_advance_until_seg(struct th *h, uint64_t max_ms);

/* Injects a raw Ethernet frame and polls the stack. */
void th_inject(struct th *h, const uint8_t *frame, uint32_t len);
/* The same with a driver's offload metadata (a GRO frame: gso_size, PBUF_F_CSUM_OK). */
void th_inject_meta(struct th *h, const uint8_t *frame, uint32_t len, uint16_t gso_size, uint8_t pbuf_flags);

/*
 * Builds Ethernet + IPv4 + TCP from h->peer_ip:h->peer_port to h->dst_ip:h->local_port
 * with correct checksums, injects it and polls. opts may be NULL (no options).
 */
void th_send(struct th *h, uint8_t flags, uint32_t seq, uint32_t ack, uint16_t win,
             const struct tcp_opts *opts, const void *payload, uint32_t len);
/* The same frame written to `frame` (TH_FRAME_MAX bytes) instead; returns its length. */
#define TH_FRAME_MAX (14 + 20 + 60 + 2048)
uint32_t th_build(struct th *h, uint8_t *frame, uint8_t flags, uint32_t seq, uint32_t ack,
                  uint16_t win, const struct tcp_opts *opts, const void *payload, uint32_t len);

/*
 * Pops the next non-ARP frame the stack sent and checks it: Ethernet to the peer's MAC from
 * the stack's, IPv4 (version, header length, total length, checksum, addresses, protocol
 * 6), TCP checksum with the pseudo-header, ports (h->local_port -> h->peer_port), then
 * flags, seq, ack, win (each TH_ANY to skip), the options and the payload length.
 * opts: NULL means "no options at all"; TH_ANY_OPTS skips the check; otherwise every
 * option the stack sent must match *opts (has_* flags and values; ts_val is not compared
 * when exp->ts_val is 0, ts_ecr is always compared).
 * Returns the parsed segment (payload copied) for further checks.
 */
#define TH_ANY_OPTS ((const struct tcp_opts *)(uintptr_t)1)
#define th_expect(h, flags, seq, ack, win, opts, len)                                              \
	th_expect_at(__FILE__, __LINE__, (h), (flags), (seq), (ack), (win), (opts), (len))
struct th_seg th_expect_at(const char *file, int line, struct th *h, long long flags,
                           long long seq, long long ack, long long win,
                           const struct tcp_opts *opts, long long len);

/* Fails unless the stack has sent no (non-ARP) frame since the last check. */
#define th_expect_none(h) th_expect_none_at(__FILE__, __LINE__, (h))
void th_expect_none_at(const char *file, int line, struct th *h);

/* Pops the next non-ARP frame and parses it without checking fields; false if none. */
bool th_pop_seg(struct th *h, struct th_seg *out);
/* Number of non-ARP frames waiting in the sent queue. */
uint32_t th_pending(struct th *h);
/* Discards every recorded frame. */
void th_drain(struct th *h);

/* "Flags [S.], seq 1, ack 2, win 3, options [...], length 0" for messages. */
void th_seg_format(const struct th_seg *s, char *buf, size_t size);

/*
 * A test that shows an open bug of the TCP layer (listed in docs/tcp-gaps.md) skips
 * with "known bug: see report" so the committed suite passes; TH_RUN_KNOWN_BUGS=1 in the
 * environment runs it anyway (to see it fail, or to check a fix).
 */
bool th_run_known_bugs(void);
#define TH_KNOWN_BUG(what)                                                                         \
	do {                                                                                       \
		if (!th_run_known_bugs()) {                                                        \
			print_message("known bug: see report (%s)\n", (what));                      \
			skip();                                                                    \
		}                                                                                  \
	} while (0)

/* Socket helpers: all fail the test when a call fails. */
struct socket_layer *th_sl(struct th *h);
/* The TCP connection behind descriptor fd, for checks no frame shows (fails the test when
 * fd has none). */
struct tcp_conn *th_conn(struct th *h, int fd);
int th_listen(struct th *h, uint16_t port, int backlog);
/*
 * The whole passive open for a listener on h->local_port: SYN from h->irs with `syn_opts`
 * (NULL: none), expects the SYN-ACK (learns h->iss), sends the final ACK with window `win`,
 * accepts and returns the connected descriptor.
 */
int th_open_passive(struct th *h, int lfd, const struct tcp_opts *syn_opts, uint16_t win);
/* The same with the final ACK `rtt_ms` after the SYN-ACK: the connection's first RTT sample
 * (a path of that round-trip time). */
int th_open_passive_rtt(struct th *h, int lfd, const struct tcp_opts *syn_opts, uint16_t win, uint64_t rtt_ms);
/*
 * The usual starting point of a data or close test: a listener on port 80 (backlog 8) and a
 * passive open from the peer with only MSS 1460 on its SYN and window 65535. Returns the
 * accepted descriptor; h->irs and h->iss are set for relative sequence numbers.
 */
int th_established(struct th *h);
/*
 * The first two steps of a passive open: the peer's SYN from h->irs with window 65535 and
 * `opts`, then the stack's SYN-ACK expected with ACK h->irs + 1 and exactly the options
 * `opts` (right for an MSS-only SYN, which Linux answers with MSS only); h->iss is learned.
 * Returns the SYN-ACK. Failures report the calling test's line.
 */
#define th_syn_synack(h, opts) th_syn_synack_at(__FILE__, __LINE__, (h), (opts))
struct th_seg th_syn_synack_at(const char *file, int line, struct th *h, const struct tcp_opts *opts);
/*
 * The start of an active open: a non-blocking socket connect()s to the peer (TH_PEER_IP)
 * at `port` and gets -EINPROGRESS; the SYN it sent is popped into *syn (not checked), and
 * h is switched to this connection: h->local_port = the SYN's source port, h->peer_port =
 * port, h->iss = its sequence number. Returns the socket.
 */
int th_connect(struct th *h, uint16_t port, struct th_seg *syn);

/*
 * The state of the connection to h->peer_ip:port as tcp_foreach_sock() reports it, or NULL
 * when there is none. th_state_is() compares ignoring case and '-'/'_' and accepts ss's
 * short names (ESTAB, SYN-RECV) for the RFC's.
 */
const char *th_state(struct th *h, uint16_t peer_port);
bool th_state_name_eq(const char *got, const char *want);
#define th_assert_state(h, port, want) th_assert_state_at(__FILE__, __LINE__, (h), (port), (want))
void th_assert_state_at(const char *file, int line, struct th *h, uint16_t port, const char *want);

/* Options Linux puts on a SYN: MSS 1460, SACK-permitted, timestamps, window scale 7. */
struct tcp_opts th_linux_syn_opts(uint32_t ts_val);
struct tcp_opts th_mss_opts(uint16_t mss);

/*
 * The value of a named counter of a layer ("tcp", "ListenOverflows"); fails the test if the
 * layer or the counter does not exist. There is deliberately no "if it exists" variant: an
 * assertion that a renamed counter skips silently proves nothing.
 */
uint64_t th_counter(struct th *h, const char *layer, const char *name);
/* The same for any stack (a stack pair's, tests/unit/helpers/stack_pair.h). */
uint64_t th_stack_counter(struct stack *st, const char *layer, const char *name);

/*
 * A recording driver on its own, for benches that own their stacks: frames the stack
 * sends are appended to *tx, frames queued on *rx are handed to the stack.
 */
struct netdev *th_recdev_new(struct th_fq *rx, struct th_fq *tx, const usec_t *clock);

void th_fq_push(struct th_fq *q, const uint8_t *data, uint32_t len, usec_t when);
struct th_frame *th_fq_pop(struct th_fq *q);   /* caller frees with free() */
void th_fq_purge(struct th_fq *q);

#endif
