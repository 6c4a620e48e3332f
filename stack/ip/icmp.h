/*
 * icmp.h - what the IP layer's own files need from icmp.c besides the public calls in ip.h:
 * one builder for every ICMP error (RFC 792, RFC 1122 3.2.2) that applies the rules on
 * when an error must not be sent and the rate limit (icmp_rate.c). reass.c uses it for
 * "fragment reassembly time exceeded"; icmp_send_unreachable() for destination unreachable.
 */
#ifndef TAPSTACK_IP_ICMP_H
#define TAPSTACK_IP_ICMP_H

#include <stdbool.h>
#include <stdint.h>

struct ip_layer;

/* Largest ICMP error datagram, as Linux: the original is quoted up to 576 bytes in all (RFC 1812 4.3.2.3). */
#define ICMP_ERROR_MAX_DATAGRAM 576u

/*
 * Sends an ICMP error of type/code about the datagram at dgram (its IP header first, len
 * bytes of header and data as received; the caller keeps the bytes). The caller has already
 * refused broadcasts. Suppressed (counted) for non-first fragments, ICMP errors and sources
 * that are not a single host; then rate-limited.
 */
void icmp_send_error(struct ip_layer *ip, const uint8_t *dgram, uint32_t len, uint8_t type, uint8_t code);

/* icmp_rate.c: a full bucket for every destination and for the stack (at ip_init). */
void icmp_rate_init(struct ip_layer *ip);
/*
 * May an error of type/code go to dst now? Spends a token of dst's bucket and one of the
 * global bucket; false (and counted as err_ratelimited or err_ratelimited_global) when one
 * is empty. Frag-needed is never limited (Linux: PMTU discovery must not stall).
 */
bool icmp_rate_allow(struct ip_layer *ip, uint32_t dst, uint8_t type, uint8_t code);

#endif
