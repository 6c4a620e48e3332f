/*
 * arp.h - ARP packet view for Ethernet/IPv4 (RFC 826).
 *
 *   0     2     4    5    6    8        14      18       24      28
 *   | htype | ptype | hl | pl | oper | sha    | spa    | tha    | tpa  |
 *
 * Only htype 1 (Ethernet), ptype 0x0800, hlen 6, plen 4 is ours; arp_pkt_parse() reports
 * anything else so the caller can count it.
 */
#ifndef TAPSTACK_WIRE_ARP_H
#define TAPSTACK_WIRE_ARP_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "core/byteorder.h"
#include "wire/ethernet.h"

#define ARP_PKT_LEN 28
#define ARP_HTYPE_ETHERNET 1
#define ARP_OP_REQUEST 1
#define ARP_OP_REPLY 2

#define ARP_OFF_HTYPE 0
#define ARP_OFF_PTYPE 2
#define ARP_OFF_HLEN 4
#define ARP_OFF_PLEN 5
#define ARP_OFF_OPER 6
#define ARP_OFF_SHA 8
#define ARP_OFF_SPA 14
#define ARP_OFF_THA 18
#define ARP_OFF_TPA 24

struct arp_pkt {
	uint16_t htype, ptype;
	uint8_t hlen, plen;
	uint16_t oper;
	uint8_t sha[ETH_ALEN];
	uint32_t spa;           /* host order */
	uint8_t tha[ETH_ALEN];
	uint32_t tpa;
};

enum arp_parse_result {
	ARP_PARSE_OK = 0,
	ARP_PARSE_TRUNCATED = -1,
	ARP_PARSE_UNSUPPORTED = -2,  /* not Ethernet/IPv4 */
};

static inline int arp_pkt_parse(const uint8_t *p, size_t len, struct arp_pkt *a)
{
	if (len < ARP_PKT_LEN)
		return ARP_PARSE_TRUNCATED;
	a->htype = get_be16(p + ARP_OFF_HTYPE);
	a->ptype = get_be16(p + ARP_OFF_PTYPE);
	a->hlen = p[ARP_OFF_HLEN];
	a->plen = p[ARP_OFF_PLEN];
	a->oper = get_be16(p + ARP_OFF_OPER);
	memcpy(a->sha, p + ARP_OFF_SHA, ETH_ALEN);
	a->spa = get_be32(p + ARP_OFF_SPA);
	memcpy(a->tha, p + ARP_OFF_THA, ETH_ALEN);
	a->tpa = get_be32(p + ARP_OFF_TPA);
	if (a->htype != ARP_HTYPE_ETHERNET || a->ptype != ETHERTYPE_IPV4 || a->hlen != ETH_ALEN ||
	    a->plen != 4)
		return ARP_PARSE_UNSUPPORTED;
	return ARP_PARSE_OK;
}

/* Writes ARP_PKT_LEN bytes at p. */
static inline void arp_pkt_emit(uint8_t *p, const struct arp_pkt *a)
{
	put_be16(p + ARP_OFF_HTYPE, a->htype);
	put_be16(p + ARP_OFF_PTYPE, a->ptype);
	p[ARP_OFF_HLEN] = a->hlen;
	p[ARP_OFF_PLEN] = a->plen;
	put_be16(p + ARP_OFF_OPER, a->oper);
	memcpy(p + ARP_OFF_SHA, a->sha, ETH_ALEN);
	put_be32(p + ARP_OFF_SPA, a->spa);
	memcpy(p + ARP_OFF_THA, a->tha, ETH_ALEN);
	put_be32(p + ARP_OFF_TPA, a->tpa);
}

#endif
