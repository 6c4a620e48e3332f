/*
 * ip_fixture.h - an IP layer on a real link layer over the recording device, with a fake
 * clock, shared by test_ipv4.c, test_reass.c and test_icmp.c (header-only).
 *
 *   struct ip_fx fx; ip_fx_setup(&fx, NULL, NULL);  // 10.0.0.2/24; 10.0.0.1 is in the ARP cache
 *   ip_fx_input(&fx, bytes, len, 0);                 // an IP packet through ipv4_input and on up
 *   fx.rd.n_sent, recdev_frame(&fx.rd, i)            // what went out (Ethernet frames)
 *   ip_fx_advance(&fx, 30 * USEC_PER_SEC);           // moves the clock, fires timers
 *   assert_int_equal(ip_fx_teardown(&fx), 0);        // no pbuf leaked
 *
 * Dispatch after ipv4_input mirrors stack.c: protocol 1 to icmp_input, 6 (TCP) is counted
 * in fx->delivered_tcp and freed, anything else gets protocol unreachable.
 */
#ifndef TAPSTACK_TESTS_IP_FIXTURE_H
#define TAPSTACK_TESTS_IP_FIXTURE_H

#include <stdlib.h>
#include <string.h>

#include "core/checksum.h"
#include "core/core.h"
#include "ip/ip.h"
#include "link/link.h"
#include "link_fixture.h"
#include "recdev.h"
#include "wire/arp.h"
#include "wire/ethernet.h"
#include "wire/icmp.h"
#include "wire/ipv4.h"

#define IP_FX_T0 LINK_FX_T0
#define IP_FX_US IPV4_ADDR(10, 0, 0, 2)
#define IP_FX_PEER IPV4_ADDR(10, 0, 0, 1)

static const uint8_t ip_fx_peer_mac[ETH_ALEN] = { 0x02, 0xaa, 0xbb, 0xcc, 0xdd, 0x01 };

struct ip_fx {
	struct core core;
	struct recdev rd;
	struct link_layer link;
	struct ip_layer ip;
	uint32_t delivered_tcp;
	uint32_t icmp_errs_up;      /* ICMP errors icmp_input handed up (quoting our TCP) */
	uint8_t last_tcp[2048];     /* the last delivered TCP datagram, IP header first */
	uint32_t last_tcp_len;
};

/* ARP request "who-has addr tell peer_addr" from peer_mac: the merge rule caches the peer. */
static inline void ip_fx_learn_peer(struct ip_fx *fx, uint32_t peer_addr, const uint8_t mac[ETH_ALEN])
{
	struct pbuf *pb = pbuf_alloc(&fx->core.pool, PBUF_HEADROOM, 64);
	uint8_t *p = pbuf_put(pb, ETH_HDR_LEN + ARP_PKT_LEN);
	struct eth_hdr eh = { .type = ETHERTYPE_ARP };
	struct arp_pkt a;

	memset(eh.dst, 0xff, ETH_ALEN);
	memcpy(eh.src, mac, ETH_ALEN);
	eth_hdr_emit(p, &eh);
	memset(&a, 0, sizeof(a));
	a.htype = ARP_HTYPE_ETHERNET;
	a.ptype = ETHERTYPE_IPV4;
	a.hlen = ETH_ALEN;
	a.plen = 4;
	a.oper = ARP_OP_REQUEST;
	memcpy(a.sha, mac, ETH_ALEN);
	a.spa = peer_addr;
	a.tpa = fx->link.cfg.addr;
	arp_pkt_emit(p + ETH_HDR_LEN, &a);
	if (ether_input(&fx->link, pb) == ETHERTYPE_ARP)
		arp_input(&fx->link, pb);
	recdev_clear(&fx->rd);
}

static inline int ip_fx_setup_ex(struct ip_fx *fx, const struct link_config *lcfg, const struct ip_config *icfg,
                                 uint32_t large_max)
{
	struct link_config ldef;
	struct ip_config idef;
	int err;

	memset(fx, 0, sizeof(*fx));
	fx_core_init(&fx->core, 1024, large_max);
	recdev_init(&fx->rd);
	if (!lcfg) {
		link_config_default(&ldef);
		lcfg = &ldef;
	}
	if (!icfg) {
		ip_config_default(&idef);
		icfg = &idef;
	}
	if ((err = link_init(&fx->link, &fx->core, &fx->rd.dev, lcfg)) < 0)
		return err;
	if ((err = ip_init(&fx->ip, &fx->core, &fx->link, icfg)) < 0)
		return err;
	ip_fx_learn_peer(fx, IP_FX_PEER, ip_fx_peer_mac);
	return 0;
}

static inline int ip_fx_setup(struct ip_fx *fx, const struct link_config *lcfg, const struct ip_config *icfg)
{
	return ip_fx_setup_ex(fx, lcfg, icfg, 24);
}

/* Tears down and returns the number of pbufs still in use (0 = no leak). */
static inline uint32_t ip_fx_teardown(struct ip_fx *fx)
{
	ip_destroy(&fx->ip);
	link_destroy(&fx->link);
	return fx_core_destroy(&fx->core);
}

static inline void ip_fx_advance(struct ip_fx *fx, usec_t dt)
{
	fx->core.now += dt;
	timer_run(&fx->core.timers, fx->core.now);
}

/* Delivers a datagram as stack.c does; pb as ipv4_input returned it. */
static inline void ip_fx_dispatch(struct ip_fx *fx, struct pbuf *pb, const struct ipv4_rx *rx)
{
	if (rx->proto == IPPROTO_ICMP_NUM) {
		struct icmp_err ie;
		if (icmp_input(&fx->ip, pb, rx, &ie))
			fx->icmp_errs_up++;     /* stack.c would hand it to tcp_icmp_error() */
	} else if (rx->proto == IPPROTO_TCP_NUM) {
		fx->delivered_tcp++;
		fx->last_tcp_len = rx->hdr_len + pb->len;
		if (fx->last_tcp_len <= sizeof(fx->last_tcp))
			memcpy(fx->last_tcp, pb->data - rx->hdr_len, fx->last_tcp_len);
		pbuf_free(pb);
	} else {
		icmp_send_unreachable(&fx->ip, pb, rx, ICMP_UNREACH_PROTOCOL);
	}
}

/* One IP packet (no Ethernet header) with pbuf flags; returns ipv4_input's result. */
static inline int ip_fx_input(struct ip_fx *fx, const uint8_t *bytes, uint32_t len, uint8_t flags)
{
	struct pbuf *pb = pbuf_alloc(&fx->core.pool, PBUF_HEADROOM, len ? len : 1);
	struct ipv4_rx rx;
	int r;

	if (!pb)
		return -1;
	if (len)
		memcpy(pbuf_put(pb, len), bytes, len);
	pb->flags = flags;
	memset(&rx, 0, sizeof(rx));
	r = ipv4_input(&fx->ip, &pb, &rx);
	if (r == 1)
		ip_fx_dispatch(fx, pb, &rx);
	return r;
}

/* One Ethernet frame through ether_input and, for IPv4, on up (the whole input path). */
static inline void ip_fx_input_frame(struct ip_fx *fx, const uint8_t *bytes, uint32_t len)
{
	struct pbuf *pb = pbuf_alloc(&fx->core.pool, PBUF_HEADROOM, len > 64 ? len : 64);
	struct ipv4_rx rx;
	int type;

	if (len)
		memcpy(pbuf_put(pb, len), bytes, len);
	type = ether_input(&fx->link, pb);
	if (type == ETHERTYPE_ARP) {
		arp_input(&fx->link, pb);
	} else if (type == ETHERTYPE_IPV4) {
		if (ipv4_input(&fx->ip, &pb, &rx) == 1)
			ip_fx_dispatch(fx, pb, &rx);
	} else if (type >= 0) {
		pbuf_free(pb);
	}
}

/*
 * Writes an IPv4 header (20 bytes) and n payload bytes to out; returns the packet length.
 * frag = the 16-bit flags/offset field as on the wire.
 */
static inline uint32_t ip_fx_build(uint8_t *out, uint32_t src, uint32_t dst, uint8_t proto, uint16_t id,
                                   uint16_t frag, const uint8_t *payload, uint32_t n)
{
	out[0] = 0x45;
	out[1] = 0;
	put_be16(out + 2, (uint16_t)(20 + n));
	put_be16(out + 4, id);
	put_be16(out + 6, frag);
	out[8] = 64;
	out[9] = proto;
	put_be16(out + 10, 0);
	put_be32(out + 12, src);
	put_be32(out + 16, dst);
	put_be16(out + 10, csum_finish(csum_add(0, out, 20)));
	if (n)
		memcpy(out + 20, payload, n);
	return 20 + n;
}

/* An ICMP echo request of n data bytes (pattern i*7+1) at out; returns 8 + n. */
static inline uint32_t ip_fx_echo(uint8_t *out, uint16_t id, uint16_t seq, uint32_t n)
{
	out[0] = ICMP_ECHO_REQUEST;
	out[1] = 0;
	put_be16(out + 2, 0);
	put_be16(out + 4, id);
	put_be16(out + 6, seq);
	for (uint32_t i = 0; i < n; i++)
		out[8 + i] = (uint8_t)(i * 7 + 1);
	put_be16(out + 2, csum_finish(csum_add(0, out, 8 + n)));
	return 8 + n;
}

/* The i-th IPv4 frame sent (ARP frames skipped), or NULL. */
static inline const struct recdev_frame *ip_fx_sent_ipv4(const struct ip_fx *fx, uint32_t i)
{
	for (uint32_t k = 0; k < fx->rd.n_sent; k++) {
		const struct recdev_frame *f = recdev_frame(&fx->rd, k);
		if (f->len >= ETH_HDR_LEN && get_be16(f->bytes + ETH_OFF_TYPE) == ETHERTYPE_IPV4 && i-- == 0)
			return f;
	}
	return NULL;
}

/* The value of counter `name` in group `layer` ("ip" or "icmp"); fails the test if absent
 * (include cmocka.h first), so a renamed counter cannot make an assertion vacuous. */
static inline uint64_t ip_fx_counter(const struct ip_fx *fx, const char *layer, const char *name)
{
	struct counter_group g[4];
	size_t n = ip_counter_groups(&fx->ip, g, 4);

	for (size_t i = 0; i < n; i++) {
		if (strcmp(g[i].layer, layer) != 0)
			continue;
		for (size_t j = 0; j < g[i].n; j++)
			if (strcmp(g[i].names[j], name) == 0)
				return g[i].values[j];
	}
	fail_msg("no counter %s in group %s", name, layer);
	return 0;
}

/* Sum of every counter of a group whose name starts with prefix (e.g. all "drop_"); fails
 * the test when no counter has that prefix. */
static inline uint64_t ip_fx_counter_sum(const struct ip_fx *fx, const char *layer, const char *prefix)
{
	struct counter_group g[4];
	size_t n = ip_counter_groups(&fx->ip, g, 4);
	uint64_t sum = 0;
	size_t found = 0;

	for (size_t i = 0; i < n; i++)
		if (strcmp(g[i].layer, layer) == 0)
			for (size_t j = 0; j < g[i].n; j++)
				if (strncmp(g[i].names[j], prefix, strlen(prefix)) == 0) {
					sum += g[i].values[j];
					found++;
				}
	if (!found)
		fail_msg("no counter %s* in group %s", prefix, layer);
	return sum;
}

#endif
