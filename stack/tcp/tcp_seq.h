/*
 * tcp_seq.h - sequence-number arithmetic modulo 2^32 (RFC 9293 3.4).
 *
 * Sequence numbers wrap, so "a comes before b" means the signed distance b - a is
 * positive: that holds as long as the two are less than 2^31 apart, which the window
 * limits guarantee. Every comparison of sequence numbers in tcp/ goes through these
 * helpers; a bare `<` on them is a bug (CONTRIBUTING.md rule 8). Tested across 2^32 in
 * tests/unit/test_tcp_seq.c.
 */
#ifndef TAPSTACK_TCP_TCP_SEQ_H
#define TAPSTACK_TCP_TCP_SEQ_H

#include <stdbool.h>
#include <stdint.h>

static inline int32_t seq_diff(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b);
}

static inline bool seq_lt(uint32_t a, uint32_t b)
{
	return seq_diff(a, b) < 0;
}

static inline bool seq_leq(uint32_t a, uint32_t b)
{
	return seq_diff(a, b) <= 0;
}

static inline bool seq_gt(uint32_t a, uint32_t b)
{
	return seq_diff(a, b) > 0;
}

static inline bool seq_geq(uint32_t a, uint32_t b)
{
	return seq_diff(a, b) >= 0;
}

/* lo <= s < lo + len: the window test of RFC 9293 3.4 (len 0 holds nothing). */
static inline bool seq_in_window(uint32_t s, uint32_t lo, uint32_t len)
{
	return (uint32_t)(s - lo) < len;
}

static inline uint32_t seq_max(uint32_t a, uint32_t b)
{
	return seq_gt(a, b) ? a : b;
}

static inline uint32_t seq_min(uint32_t a, uint32_t b)
{
	return seq_lt(a, b) ? a : b;
}

#endif
