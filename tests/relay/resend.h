/*
 * resend.h - counts the TCP payload bytes a sender sends again, as a passive observer on
 * the path sees them (the relay, tests/relay/relay.c, runs every frame it takes in through
 * this before the impairments).
 *
 * Per flow (IPv4 4-tuple) it keeps the highest sequence number sent so far; payload that
 * starts below it is a retransmission, whether the stack's recovery meant it (a hole) or
 * not (go-back-N, a spurious retransmit). The same instrument measures tapstack and the
 * kernel, where their own counters (RetransSegs and TcpRetransSegs) count segments by
 * different rules. A flow first seen mid-stream starts at its first segment; the table is
 * small and fixed (RESEND_FLOWS entries, the oldest is reused and counted as evicted).
 */
#ifndef TAPSTACK_TESTS_RELAY_RESEND_H
#define TAPSTACK_TESTS_RELAY_RESEND_H

#include <stddef.h>
#include <stdint.h>

#define RESEND_FLOWS 64

struct resend_flow {
	uint32_t saddr, daddr;    /* host order */
	uint16_t sport, dport;
	uint32_t high;            /* one past the highest sequence number sent */
	uint64_t payload_bytes;   /* every payload byte seen, first copies and repeats */
	uint64_t resent_bytes;    /* payload bytes at or below high when seen again */
	uint64_t last_use;        /* frames seen when it was last used (to pick a victim) */
	int used;
};

struct resend {
	struct resend_flow flows[RESEND_FLOWS];
	uint64_t frames;          /* frames offered */
	uint64_t payload_bytes, resent_bytes;   /* sums over every flow ever tracked */
	uint64_t evicted;         /* flows forgotten to make room */
};

/* Looks at one Ethernet frame; anything that is not a whole IPv4 TCP segment is ignored. */
void resend_frame(struct resend *r, const uint8_t *frame, size_t len);

#endif
