/*
 * fuzz_peer.h - what the fuzz targets share: one stack on an in-memory cable whose other end
 * is a scripted peer (10.0.0.1:40000 talking to the stack's 10.0.0.2:80) that builds whole
 * frames with correct checksums, so mutated fields reach the state machine instead of dying
 * at the checksum (issue 11: a target that never fixes checksums never completes a
 * handshake). The peer reads what the stack sends, answers its ARP requests, and tracks the
 * stack's sequence numbers, so a target can write seq/ack relative to the live connection.
 *
 * No cmocka, no assertions: a fuzz target only crashes (ASan, UBSan, __builtin_trap) on a
 * real bug. Used by tests/fuzz/fuzz_*.c; see docs/testing.md, "Fuzzing".
 */
#ifndef TAPSTACK_TESTS_FUZZ_PEER_H
#define TAPSTACK_TESTS_FUZZ_PEER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "stack.h"
#include "wire/tcp.h"

#define FZ_PEER_IP 0x0a000001u    /* 10.0.0.1 */
#define FZ_LOCAL_IP 0x0a000002u   /* 10.0.0.2, ts_stack_config_default() */
#define FZ_PEER_PORT 40000
#define FZ_LOCAL_PORT 80

struct fz_peer {
	struct stack st;
	struct netdev *end;         /* the peer's end of the cable */
	uint16_t peer_port, local_port;
	uint16_t ip_id;
	uint32_t snd_nxt;           /* the peer's next sequence number */
	uint32_t stack_nxt;         /* the stack's highest seq + len seen (what the peer would ACK) */
	uint32_t stack_wnd;         /* the last window the stack advertised (unscaled) */
	uint32_t stack_last_seq;    /* the sequence number of the stack's last segment */
	uint32_t fragment;          /* nonzero: fz_peer_send cuts segments into IP fragments there
				     * (an even value sends only the first fragment) */
	bool have_stack_seq;        /* a segment from the stack was seen */
	uint32_t seen_segs;         /* TCP segments the stack sent */
	int lfd;                    /* the listener on port 80 */
};

/* A fresh stack (fixed seed and clock, so a finding replays) with a listener on port 80
 * (backlog 8) and the peer in its ARP cache. Traps on failure. */
void fz_peer_init(struct fz_peer *p);
void fz_peer_destroy(struct fz_peer *p);

/*
 * Builds Ethernet + IPv4 + TCP from the peer to the stack and injects it. The checksums are
 * right unless bad_csum. data may be NULL for zero bytes of a fixed pattern.
 */
void fz_peer_send(struct fz_peer *p, uint8_t flags, uint32_t seq, uint32_t ack, uint16_t win,
                  const struct tcp_opts *opts, const uint8_t *data, uint32_t len, bool bad_csum);
/* Injects raw bytes as one frame (after fixing the IPv4 and transport checksums if fix). */
void fz_peer_send_raw(struct fz_peer *p, const uint8_t *frame, size_t len, bool fix);

/* An ICMP error (type, code, next-hop MTU) quoting a segment of the stack's with sequence
 * number seq on the connection, as a router on the path would send it. */
void fz_peer_send_icmp(struct fz_peer *p, uint8_t type, uint8_t code, uint16_t mtu, uint32_t seq);
/* Sends an IPv4 frame (DF clear) as two fragments cut near `cut` (or only the first). */
void fz_peer_send_fragments(struct fz_peer *p, const uint8_t *frame, size_t len, size_t cut, bool both);

/* Moves the clock dt microseconds, runs the stack and reads everything it sent (and reads
 * the counters and the socket table, as `tapstack stats` and `ss` do). */
void fz_peer_run(struct fz_peer *p, usec_t dt);

/* Fixes the IPv4 header checksum and the TCP, UDP or ICMP checksum of an Ethernet frame in
 * place, when the headers are there to fix. */
void fz_fix_checksums(uint8_t *frame, size_t len);

#endif
