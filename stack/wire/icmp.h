/*
 * icmp.h - ICMP header view (RFC 792).
 *
 *   0      1      2          4                   8
 *   | type | code | checksum | rest of header    | data ...
 *
 * For echo request/reply the rest is identifier and sequence number; for destination
 * unreachable it is unused and the data is the offending IP header plus 8 bytes.
 */
#ifndef TAPSTACK_WIRE_ICMP_H
#define TAPSTACK_WIRE_ICMP_H

#include <stddef.h>
#include <stdint.h>

#include "core/byteorder.h"

#define ICMP_HDR_LEN 8
#define ICMP_OFF_TYPE 0
#define ICMP_OFF_CODE 1
#define ICMP_OFF_CSUM 2
#define ICMP_OFF_ID 4
#define ICMP_OFF_SEQ 6

#define ICMP_ECHO_REPLY 0
#define ICMP_DEST_UNREACH 3
#define ICMP_SOURCE_QUENCH 4
#define ICMP_ECHO_REQUEST 8
#define ICMP_TIME_EXCEEDED 11
#define ICMP_PARAM_PROBLEM 12
#define ICMP_OFF_MTU 6          /* frag-needed: next-hop MTU (RFC 1191 4) */

#define ICMP_UNREACH_NET 0
#define ICMP_UNREACH_HOST 1
#define ICMP_UNREACH_PROTOCOL 2
#define ICMP_UNREACH_PORT 3
#define ICMP_UNREACH_NEEDFRAG 4

struct icmp_hdr {
	uint8_t type, code;
	uint16_t csum;
	uint32_t rest;          /* id << 16 | seq for echo */
};

static inline int icmp_hdr_parse(const uint8_t *p, size_t len, struct icmp_hdr *h)
{
	if (len < ICMP_HDR_LEN)
		return -1;
	h->type = p[ICMP_OFF_TYPE];
	h->code = p[ICMP_OFF_CODE];
	h->csum = get_be16(p + ICMP_OFF_CSUM);
	h->rest = get_be32(p + ICMP_OFF_ID);
	return 0;
}

static inline void icmp_hdr_emit(uint8_t *p, const struct icmp_hdr *h)
{
	p[ICMP_OFF_TYPE] = h->type;
	p[ICMP_OFF_CODE] = h->code;
	put_be16(p + ICMP_OFF_CSUM, h->csum);
	put_be32(p + ICMP_OFF_ID, h->rest);
}

#endif
