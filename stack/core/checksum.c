/*
 * checksum.c - RFC 1071 Internet checksum. See checksum.h for how chunks are combined.
 *
 * The loop adds 16-bit big-endian words into a 64-bit accumulator, which cannot overflow
 * for any packet we handle (2^48 words), and folds once at the end (RFC 1071 2(C)).
 */
#include "core/checksum.h"

static uint32_t csum_fold32(uint64_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint32_t)sum;
}

uint32_t csum_add(uint32_t sum, const void *data, size_t len)
{
	const uint8_t *p = data;
	uint64_t acc = sum;

	while (len >= 8) {
		acc += (uint32_t)(p[0] << 8 | p[1]) + (uint32_t)(p[2] << 8 | p[3]) +
		       (uint32_t)(p[4] << 8 | p[5]) + (uint32_t)(p[6] << 8 | p[7]);
		p += 8;
		len -= 8;
	}
	while (len >= 2) {
		acc += (uint32_t)(p[0] << 8 | p[1]);
		p += 2;
		len -= 2;
	}
	if (len)
		acc += (uint32_t)p[0] << 8;
	return csum_fold32(acc);
}

uint16_t csum_finish(uint32_t sum)
{
	return (uint16_t)~csum_fold32(sum);
}

uint32_t csum_pseudo_ipv4(uint32_t src, uint32_t dst, uint8_t proto, uint16_t len)
{
	uint64_t acc = (src >> 16) + (src & 0xffff) + (dst >> 16) + (dst & 0xffff) + proto + len;
	return csum_fold32(acc);
}
