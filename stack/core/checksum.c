/*
 * checksum.c - RFC 1071 Internet checksum. See checksum.h for how chunks are combined.
 *
 * Called for every IPv4 header, ICMP message and TCP segment, so it is a hot path: a TCP
 * bulk transfer checksums every payload byte once on input and once on output.
 *
 * Speed comes from two properties RFC 1071 section 2 proves:
 *  (A)/(C) the one's complement sum may be accumulated in a wider integer and the carries
 *      folded back at the end, so the data can be added 8 bytes at a time;
 *  (B) byte-order independence: summing the words in the machine's own byte order and
 *      swapping the 16-bit result gives the same value as summing big-endian words.
 * So the loop loads 64-bit words in native order (memcpy: any alignment, one load on
 * x86-64 and arm64), adds their two 32-bit halves into a 64-bit accumulator - each step
 * adds less than 2^33, so it cannot overflow below 2^31 steps (16 GiB, far beyond any
 * pbuf) - and folds and swaps once at the end. The 7 or fewer trailing bytes are added
 * the same way, an odd last byte padded with zero (RFC 1071 4.1).
 *
 * test_core.c compares it with a plain 16-bit big-endian reference on random data,
 * lengths, alignments, starting sums and chunkings.
 */
#include "core/checksum.h"

#include <string.h>

static uint32_t csum_fold32(uint64_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint32_t)sum;
}

static inline uint64_t csum_load64(const uint8_t *p)
{
	uint64_t w;
	memcpy(&w, p, sizeof(w));
	return w;
}

/* A native-order 16-bit sum as the big-endian value the protocol fields hold (RFC 1071 2(B)). */
static inline uint32_t csum_native_to_be(uint32_t s16)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	return s16;
#else
	return ((s16 & 0xff) << 8) | (s16 >> 8);
#endif
}

uint32_t csum_add(uint32_t sum, const void *data, size_t len)
{
	const uint8_t *p = data;
	uint64_t acc = 0;    /* native-order words; swapped once at the end */
	uint64_t w;

	while (len >= 32) {
		uint64_t a = csum_load64(p), b = csum_load64(p + 8);
		uint64_t c = csum_load64(p + 16), d = csum_load64(p + 24);
		acc += (a & 0xffffffffu) + (a >> 32) + (b & 0xffffffffu) + (b >> 32) +
		       (c & 0xffffffffu) + (c >> 32) + (d & 0xffffffffu) + (d >> 32);
		p += 32;
		len -= 32;
	}
	while (len >= 8) {
		w = csum_load64(p);
		acc += (w & 0xffffffffu) + (w >> 32);
		p += 8;
		len -= 8;
	}
	if (len) {
		/* The tail, zero-padded to 8 bytes: padding adds nothing, and an odd last byte
		 * lands in the high half of its 16-bit word as RFC 1071 4.1 requires. */
		uint8_t tail[8] = { 0 };
		memcpy(tail, p, len);
		w = csum_load64(tail);
		acc += (w & 0xffffffffu) + (w >> 32);
	}
	return csum_fold32((uint64_t)sum + csum_native_to_be(csum_fold32(acc)));
}

uint32_t csum_add_odd(uint32_t sum, const void *data, size_t len)
{
	uint32_t s = csum_add(0, data, len);
	return csum_fold32((uint64_t)sum + (((s & 0xff) << 8) | (s >> 8)));
}

uint16_t csum_finish(uint32_t sum)
{
	return (uint16_t)~csum_fold32(sum);
}

uint16_t csum_replace16(uint16_t check, uint16_t old_word, uint16_t new_word)
{
	uint16_t c = csum_finish((uint32_t)(uint16_t)~check + (uint16_t)~old_word + new_word);

	/*
	 * RFC 1624 eqn. 3. Its one blind spot: when the data (apart from the field) now sums to
	 * zero - all zero bytes, e.g. an echo reply with id 0, seq 0 and zero payload - the
	 * only valid field is 0xffff, yet eqn. 3 gives 0x0000. 0xffff is valid whenever 0x0000
	 * is (adding one's complement -0 to a non-zero sum changes nothing), so return it.
	 */
	return c ? c : 0xffff;
}

uint32_t csum_pseudo_ipv4(uint32_t src, uint32_t dst, uint8_t proto, uint16_t len)
{
	uint64_t acc = (src >> 16) + (src & 0xffff) + (dst >> 16) + (dst & 0xffff) + proto + len;
	return csum_fold32(acc);
}
