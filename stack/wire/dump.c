/*
 * dump.c - tcpdump-style frame lines (see dump.h). Called by the program's trace hook and
 * by tests; owns nothing. Sequence numbers are printed absolute (like tcpdump -S), since
 * a line-per-frame printer keeps no per-connection state.
 */
#include "wire/dump.h"

#include <stdarg.h>
#include <stdio.h>

#include "wire/arp.h"
#include "wire/ethernet.h"
#include "wire/icmp.h"
#include "wire/ipv4.h"
#include "wire/tcp.h"

struct dump_out {
	char *buf;
	size_t size, len;
};

static void dump_put(struct dump_out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void dump_put(struct dump_out *o, const char *fmt, ...)
{
	if (o->len + 1 >= o->size)
		return;
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(o->buf + o->len, o->size - o->len, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	o->len += (size_t)n;
	if (o->len >= o->size)
		o->len = o->size - 1;
}

char *dump_mac(const uint8_t mac[6], char *buf)
{
	snprintf(buf, 18, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]);
	return buf;
}

static void dump_arp(struct dump_out *o, const uint8_t *p, size_t len)
{
	struct arp_pkt a;
	char s1[16], s2[16], m[18];
	int r = arp_pkt_parse(p, len, &a);
	if (r == ARP_PARSE_TRUNCATED) {
		dump_put(o, "ARP, [|arp]");
		return;
	}
	if (r != ARP_PARSE_OK) {
		dump_put(o, "ARP, htype %u ptype 0x%04x, length %zu", a.htype, a.ptype, len);
		return;
	}
	if (a.oper == ARP_OP_REQUEST)
		dump_put(o, "ARP, Request who-has %s tell %s", ipv4_addr_str(a.tpa, s1), ipv4_addr_str(a.spa, s2));
	else if (a.oper == ARP_OP_REPLY)
		dump_put(o, "ARP, Reply %s is-at %s", ipv4_addr_str(a.spa, s1), dump_mac(a.sha, m));
	else
		dump_put(o, "ARP, op %u", a.oper);
	dump_put(o, ", length %zu", len);
}

static void dump_icmp(struct dump_out *o, const uint8_t *p, size_t len)
{
	struct icmp_hdr h;
	if (icmp_hdr_parse(p, len, &h) != 0) {
		dump_put(o, "ICMP [|icmp]");
		return;
	}
	unsigned id = h.rest >> 16, seq = h.rest & 0xffffu;
	switch (h.type) {
	case ICMP_ECHO_REQUEST:
		dump_put(o, "ICMP echo request, id %u, seq %u, length %zu", id, seq, len);
		return;
	case ICMP_ECHO_REPLY:
		dump_put(o, "ICMP echo reply, id %u, seq %u, length %zu", id, seq, len);
		return;
	case ICMP_DEST_UNREACH: {
		/* The quoted datagram follows the 8-byte header: name what was unreachable. */
		struct ipv4_hdr q;
		char s[16];
		if (ipv4_hdr_parse(p + ICMP_HDR_LEN, len - ICMP_HDR_LEN, &q) == 0) {
			if (h.code == ICMP_UNREACH_PROTOCOL) {
				dump_put(o, "ICMP %s protocol %u unreachable, length %zu", ipv4_addr_str(q.dst, s), q.proto, len);
				return;
			}
			if (h.code == ICMP_UNREACH_PORT && len >= ICMP_HDR_LEN + q.ihl + 4u) {
				const uint8_t *t = p + ICMP_HDR_LEN + q.ihl;
				dump_put(o, "ICMP %s %s port %u unreachable, length %zu", ipv4_addr_str(q.dst, s),
				         q.proto == IPPROTO_TCP_NUM ? "tcp" : q.proto == IPPROTO_UDP_NUM ? "udp" : "ip",
				         get_be16(t + 2), len);
				return;
			}
		}
		dump_put(o, "ICMP unreachable code %u, length %zu", h.code, len);
		return;
	}
	default:
		dump_put(o, "ICMP type %u code %u, length %zu", h.type, h.code, len);
		return;
	}
}

static void dump_ipv4(struct dump_out *o, const uint8_t *p, size_t len)
{
	struct ipv4_hdr h;
	char s1[16], s2[16];
	if (ipv4_hdr_parse(p, len, &h) != 0 || h.version != 4) {
		dump_put(o, "IP [|ip]");
		return;
	}
	/* Link padding follows a short datagram; a lying total length is shown truncated. */
	size_t dlen = h.total_len < len ? h.total_len : len;
	if (dlen < h.ihl) {
		dump_put(o, "IP %s > %s: [|ip] bad length %u", ipv4_addr_str(h.src, s1), ipv4_addr_str(h.dst, s2),
		         h.total_len);
		return;
	}
	const uint8_t *t = p + h.ihl;
	size_t tlen = dlen - h.ihl;
	bool first = h.frag_off == 0;
	ipv4_addr_str(h.src, s1);
	ipv4_addr_str(h.dst, s2);
	if (first && h.proto == IPPROTO_TCP_NUM) {
		struct tcp_hdr th;
		if (tcp_hdr_parse(t, tlen, &th) != TCP_PARSE_OK) {
			dump_put(o, "IP %s > %s: tcp [|tcp]", s1, s2);
		} else {
			char seg[256];
			tcp_hdr_format(seg, sizeof(seg), &th, (uint32_t)(tlen - th.doff));
			dump_put(o, "IP %s.%u > %s.%u: %s", s1, th.sport, s2, th.dport, seg);
		}
	} else if (first && h.proto == IPPROTO_ICMP_NUM) {
		dump_put(o, "IP %s > %s: ", s1, s2);
		dump_icmp(o, t, tlen);
	} else if (first && h.proto == IPPROTO_UDP_NUM && tlen >= 8) {
		dump_put(o, "IP %s.%u > %s.%u: UDP, length %u", s1, get_be16(t), s2, get_be16(t + 2),
		         get_be16(t + 4) >= 8 ? get_be16(t + 4) - 8u : 0u);
	} else {
		dump_put(o, "IP %s > %s: ip-proto-%u %zu", s1, s2, h.proto, tlen);
	}
	if (h.mf || h.frag_off)
		dump_put(o, " (frag %u:%zu@%u%s)", h.id, tlen, h.frag_off, h.mf ? "+" : "");
}

size_t dump_ipv4_datagram(char *buf, size_t size, const uint8_t *dgram, size_t len)
{
	struct dump_out o = { buf, size, 0 };
	if (size == 0)
		return 0;
	buf[0] = '\0';
	dump_ipv4(&o, dgram, len);
	return o.len;
}

size_t dump_frame(char *buf, size_t size, const uint8_t *frame, size_t len)
{
	struct dump_out o = { buf, size, 0 };
	if (size == 0)
		return 0;
	buf[0] = '\0';
	struct eth_hdr e;
	if (eth_hdr_parse(frame, len, &e) != 0) {
		dump_put(&o, "[|ether] length %zu", len);
		return o.len;
	}
	const uint8_t *p = frame + ETH_HDR_LEN;
	size_t plen = len - ETH_HDR_LEN;
	switch (e.type) {
	case ETHERTYPE_ARP:
		dump_arp(&o, p, plen);
		break;
	case ETHERTYPE_IPV4:
		dump_ipv4(&o, p, plen);
		break;
	default: {
		char m1[18], m2[18];
		dump_put(&o, "%s > %s, ethertype 0x%04x, length %zu", dump_mac(e.src, m1), dump_mac(e.dst, m2), e.type,
		         len);
		break;
	}
	}
	return o.len;
}
