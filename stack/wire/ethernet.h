/*
 * ethernet.h - Ethernet II header view (IEEE 802.3 framing with an EtherType).
 *
 *   0      6      12     14
 *   | dst  | src  | type | payload (46..1500) |
 *
 * Parse into a host-order struct after one length check; emit from the same struct.
 * Used by link/ether.c, the trace formatter and tests.
 */
#ifndef TAPSTACK_WIRE_ETHERNET_H
#define TAPSTACK_WIRE_ETHERNET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "core/byteorder.h"

#define ETH_ALEN 6
#define ETH_HDR_LEN 14
#define ETH_MIN_FRAME 60     /* without FCS: shorter frames are padded on output */
#define ETH_MAX_PAYLOAD 1500
/* Jumbo frames: the largest MTU the stack accepts (what most NICs and switches carry). */
#define ETH_MAX_JUMBO_PAYLOAD 9000

#define ETH_OFF_DST 0
#define ETH_OFF_SRC 6
#define ETH_OFF_TYPE 12

#define ETHERTYPE_IPV4 0x0800
#define ETHERTYPE_ARP 0x0806

struct eth_hdr {
	uint8_t dst[ETH_ALEN];
	uint8_t src[ETH_ALEN];
	uint16_t type;
};

static inline bool eth_addr_is_broadcast(const uint8_t *a)
{
	return (a[0] & a[1] & a[2] & a[3] & a[4] & a[5]) == 0xff;
}

/* Group bit: multicast or broadcast (IEEE 802). */
static inline bool eth_addr_is_multicast(const uint8_t *a)
{
	return a[0] & 1;
}

static inline bool eth_addr_is_zero(const uint8_t *a)
{
	return (a[0] | a[1] | a[2] | a[3] | a[4] | a[5]) == 0;
}

static inline bool eth_addr_equal(const uint8_t *a, const uint8_t *b)
{
	return memcmp(a, b, ETH_ALEN) == 0;
}

/* Returns 0, or -1 when len is shorter than the header. */
static inline int eth_hdr_parse(const uint8_t *p, size_t len, struct eth_hdr *h)
{
	if (len < ETH_HDR_LEN)
		return -1;
	memcpy(h->dst, p + ETH_OFF_DST, ETH_ALEN);
	memcpy(h->src, p + ETH_OFF_SRC, ETH_ALEN);
	h->type = get_be16(p + ETH_OFF_TYPE);
	return 0;
}

/* Writes ETH_HDR_LEN bytes at p. */
static inline void eth_hdr_emit(uint8_t *p, const struct eth_hdr *h)
{
	memcpy(p + ETH_OFF_DST, h->dst, ETH_ALEN);
	memcpy(p + ETH_OFF_SRC, h->src, ETH_ALEN);
	put_be16(p + ETH_OFF_TYPE, h->type);
}

#endif
