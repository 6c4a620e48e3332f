/*
 * ipv4.h - IPv4 header view (RFC 791 3.1).
 *
 *   0       4       8              16    19                31
 *   |version|  IHL  |  TOS         |     total length       |
 *   |        identification        |flags| fragment offset  |
 *   |   TTL         |  protocol    |   header checksum      |
 *   |                 source address                        |
 *   |               destination address                     |
 *   |            options (IHL*4 - 20 bytes)                 |
 *
 * ipv4_hdr_parse() checks only what is needed to read the fields safely (length, IHL); the
 * IP layer validates the rest (version, total length against the frame, checksum,
 * addresses) so each failure gets its own counter.
 */
#ifndef TAPSTACK_WIRE_IPV4_H
#define TAPSTACK_WIRE_IPV4_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/byteorder.h"

#define IPV4_HDR_MIN 20
#define IPV4_HDR_MAX 60

#define IPV4_OFF_VER_IHL 0
#define IPV4_OFF_TOS 1
#define IPV4_OFF_TOTLEN 2
#define IPV4_OFF_ID 4
#define IPV4_OFF_FRAG 6
#define IPV4_OFF_TTL 8
#define IPV4_OFF_PROTO 9
#define IPV4_OFF_CSUM 10
#define IPV4_OFF_SRC 12
#define IPV4_OFF_DST 16

#define IPV4_FLAG_DF 0x4000u
#define IPV4_FLAG_MF 0x2000u
#define IPV4_FRAG_MASK 0x1fffu   /* offset in 8-byte units */

#define IPPROTO_ICMP_NUM 1
#define IPPROTO_TCP_NUM 6
#define IPPROTO_UDP_NUM 17

#define IPV4_ADDR(a, b, c, d) ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (uint32_t)(d))
#define IPV4_BROADCAST 0xffffffffu

struct ipv4_hdr {
	uint8_t version;
	uint8_t ihl;            /* header length in bytes (IHL * 4) */
	uint8_t tos;
	uint16_t total_len;
	uint16_t id;
	bool df, mf;
	uint16_t frag_off;      /* in bytes */
	uint8_t ttl;
	uint8_t proto;
	uint16_t csum;
	uint32_t src, dst;      /* host order */
};

/* 0, or -1 if len < 20 or the IHL is below 5 or beyond len. Does not check the checksum. */
static inline int ipv4_hdr_parse(const uint8_t *p, size_t len, struct ipv4_hdr *h)
{
	if (len < IPV4_HDR_MIN)
		return -1;
	h->version = p[IPV4_OFF_VER_IHL] >> 4;
	h->ihl = (uint8_t)((p[IPV4_OFF_VER_IHL] & 0x0f) * 4);
	if (h->ihl < IPV4_HDR_MIN || h->ihl > len)
		return -1;
	h->tos = p[IPV4_OFF_TOS];
	h->total_len = get_be16(p + IPV4_OFF_TOTLEN);
	h->id = get_be16(p + IPV4_OFF_ID);
	uint16_t frag = get_be16(p + IPV4_OFF_FRAG);
	h->df = (frag & IPV4_FLAG_DF) != 0;
	h->mf = (frag & IPV4_FLAG_MF) != 0;
	h->frag_off = (uint16_t)((frag & IPV4_FRAG_MASK) * 8);
	h->ttl = p[IPV4_OFF_TTL];
	h->proto = p[IPV4_OFF_PROTO];
	h->csum = get_be16(p + IPV4_OFF_CSUM);
	h->src = get_be32(p + IPV4_OFF_SRC);
	h->dst = get_be32(p + IPV4_OFF_DST);
	return 0;
}

/*
 * Writes a 20-byte header (h->ihl must be 20: we never send options) with the checksum
 * field as given in h->csum; ipv4 output computes it over the written bytes.
 */
static inline void ipv4_hdr_emit(uint8_t *p, const struct ipv4_hdr *h)
{
	p[IPV4_OFF_VER_IHL] = (uint8_t)(4 << 4 | (h->ihl / 4));
	p[IPV4_OFF_TOS] = h->tos;
	put_be16(p + IPV4_OFF_TOTLEN, h->total_len);
	put_be16(p + IPV4_OFF_ID, h->id);
	put_be16(p + IPV4_OFF_FRAG, (uint16_t)((h->df ? IPV4_FLAG_DF : 0) | (h->mf ? IPV4_FLAG_MF : 0) |
	                                       (h->frag_off / 8)));
	p[IPV4_OFF_TTL] = h->ttl;
	p[IPV4_OFF_PROTO] = h->proto;
	put_be16(p + IPV4_OFF_CSUM, h->csum);
	put_be32(p + IPV4_OFF_SRC, h->src);
	put_be32(p + IPV4_OFF_DST, h->dst);
}

/* "10.0.0.2" into buf (at least 16 bytes); returns buf. */
char *ipv4_addr_str(uint32_t addr, char *buf);
/* Parses dotted-quad text; 0 on success, -1 on malformed input. */
int ipv4_addr_parse(const char *s, uint32_t *addr);

#endif
