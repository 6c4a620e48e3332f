/*
 * rng.h - randomness for the stack: a seeded generator and a keyed hash.
 *
 * The program seeds the stack from getrandom(); tests pass a fixed seed so runs repeat.
 * rng_next() (xoshiro-style, not cryptographic) picks MAC addresses, ephemeral ports and
 * IP IDs. siphash24() is a keyed pseudo-random function (Aumasson and Bernstein): TCP uses
 * it for initial sequence numbers (RFC 6528: ISN = M + F(4-tuple, secret key)) and SYN
 * cookies, where an attacker must not be able to predict the output.
 */
#ifndef TAPSTACK_CORE_RNG_H
#define TAPSTACK_CORE_RNG_H

#include <stddef.h>
#include <stdint.h>

struct rng {
	uint64_t s[4];
};

void rng_seed(struct rng *r, uint64_t seed);
uint64_t rng_next(struct rng *r);
static inline uint32_t rng_u32(struct rng *r)
{
	return (uint32_t)(rng_next(r) >> 32);
}

/* SipHash-2-4 of len bytes with a 128-bit key. */
uint64_t siphash24(const uint8_t key[16], const void *data, size_t len);

#endif
