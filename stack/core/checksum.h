/*
 * checksum.h - the Internet checksum (RFC 1071).
 *
 * The one's complement sum is accumulated in a wide integer and folded at the end.
 * csum_add() may be called on several chunks in turn; every chunk except the last must
 * have an even length (all headers do), because a 16-bit word may not straddle two calls;
 * the chunk after an odd one is added with csum_add_odd().
 *
 *   uint32_t sum = csum_pseudo_ipv4(src, dst, IPPROTO_TCP, len);
 *   sum = csum_add(sum, tcp_header_and_payload, len);
 *   put_be16(field, csum_finish(sum));        // to emit
 *   valid = csum_finish(sum_over_received) == 0;  // to verify
 *
 * Called by: ip/ (IPv4 header, ICMP), tcp/ (segments with the pseudo-header), tests.
 */
#ifndef TAPSTACK_CORE_CHECKSUM_H
#define TAPSTACK_CORE_CHECKSUM_H

#include <stddef.h>
#include <stdint.h>

/* Add len bytes at data to a running sum (RFC 1071 4.1). An odd last byte is padded with zero. */
uint32_t csum_add(uint32_t sum, const void *data, size_t len);

/* Add len bytes that follow an odd number of bytes already summed (the chunk before had an odd
 * length): its bytes sit one place off the 16-bit words, so its sum counts byte-swapped (RFC
 * 1071 2(B)). A TCP segment whose payload wraps around the send ring at an odd offset. */
uint32_t csum_add_odd(uint32_t sum, const void *data, size_t len);

/* Fold the carries and return the one's complement: the value to store in a checksum field. */
uint16_t csum_finish(uint32_t sum);

/*
 * The new value of a checksum field `check` when one 16-bit word of the data it covers
 * changes from old_word to new_word (RFC 1624 eqn. 3: HC' = ~(~HC + ~m + m')), without
 * reading the rest of the data again. The words are the big-endian values at an even offset.
 * The result may be 0xffff where a full recomputation gives 0x0000: both verify.
 */
uint16_t csum_replace16(uint16_t check, uint16_t old_word, uint16_t new_word);

/* The IPv4 pseudo-header of TCP and UDP (RFC 9293 3.1): addresses in host order. */
uint32_t csum_pseudo_ipv4(uint32_t src, uint32_t dst, uint8_t proto, uint16_t len);

#endif
