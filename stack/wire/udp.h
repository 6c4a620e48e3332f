/*
 * udp.h - UDP header view (RFC 768).
 *
 *   0              16             32
 *   | source port  | dest. port    |
 *   | length       | checksum      |
 *   | data ...
 *
 * length counts the header and the data (8 at least). The checksum covers the IPv4
 * pseudo-header (source, destination, zero, protocol 17, UDP length), the header and the
 * data; 0 means "no checksum was computed" (RFC 768), so a computed 0 is sent as 0xffff.
 * udp_hdr_parse() checks only that 8 bytes are there: the UDP layer validates the length
 * and the checksum, each failure with its own counter.
 */
#ifndef TAPSTACK_WIRE_UDP_H
#define TAPSTACK_WIRE_UDP_H

#include <stddef.h>
#include <stdint.h>

#include "core/byteorder.h"

#define UDP_HDR_LEN 8
#define UDP_OFF_SPORT 0
#define UDP_OFF_DPORT 2
#define UDP_OFF_LEN 4
#define UDP_OFF_CSUM 6

struct udp_hdr {
	uint16_t sport, dport;
	uint16_t len;           /* header + data, as the header says */
	uint16_t csum;
};

/* 0, or -1 when fewer than 8 bytes are there. */
static inline int udp_hdr_parse(const uint8_t *p, size_t len, struct udp_hdr *h)
{
	if (len < UDP_HDR_LEN)
		return -1;
	h->sport = get_be16(p + UDP_OFF_SPORT);
	h->dport = get_be16(p + UDP_OFF_DPORT);
	h->len = get_be16(p + UDP_OFF_LEN);
	h->csum = get_be16(p + UDP_OFF_CSUM);
	return 0;
}

static inline void udp_hdr_emit(uint8_t *p, const struct udp_hdr *h)
{
	put_be16(p + UDP_OFF_SPORT, h->sport);
	put_be16(p + UDP_OFF_DPORT, h->dport);
	put_be16(p + UDP_OFF_LEN, h->len);
	put_be16(p + UDP_OFF_CSUM, h->csum);
}

#endif
