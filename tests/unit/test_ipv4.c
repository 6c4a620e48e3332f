/*
 * test_ipv4.c - IPv4 input and output (stack/ip/ipv4.c, docs/ipv4.md): the header view
 * round-trips a captured header; a valid datagram is delivered with the layout the contract
 * promises (padding trimmed, options skipped, header just before the data); a validation
 * table where every malformed case increments its own named counter and nothing else;
 * broadcast destinations; routing on-link, via the gateway and "no route"; IP IDs; the DF
 * policy; fragmentation on output; every truncation of the fixture frames without a crash.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "helpers/fixture_frames.h"
#include "helpers/ip_fixture.h"

/* ipv4_output's header choice: the stack's default TOS (0) and TTL. */
#define IP_HC_DEFAULT ((struct ip_hdr_choice){ 0 })

#define PING_IP (fx_frame_ping + ETH_HDR_LEN)
#define PING_IP_LEN (sizeof(fx_frame_ping) - ETH_HDR_LEN)

static void setup_fx(struct ip_fx *fx)
{
	assert_int_equal(ip_fx_setup(fx, NULL, NULL), 0);
}

static void test_ipv4_header_roundtrip(void **state)
{
	(void)state;
	struct ipv4_hdr h;
	uint8_t out[IPV4_HDR_MIN];

	assert_int_equal(ipv4_hdr_parse(PING_IP, PING_IP_LEN, &h), 0);
	assert_int_equal(h.version, 4);
	assert_int_equal(h.ihl, 20);
	assert_int_equal(h.total_len, 84);
	assert_int_equal(h.id, 0x1234);
	assert_true(h.df);
	assert_false(h.mf);
	assert_int_equal(h.frag_off, 0);
	assert_int_equal(h.ttl, 64);
	assert_int_equal(h.proto, IPPROTO_ICMP_NUM);
	assert_int_equal(h.src, IP_FX_PEER);
	assert_int_equal(h.dst, IP_FX_US);
	assert_int_equal(csum_finish(csum_add(0, PING_IP, 20)), 0);
	ipv4_hdr_emit(out, &h);
	assert_memory_equal(out, PING_IP, IPV4_HDR_MIN);
	assert_int_equal(ipv4_hdr_parse(PING_IP, 19, &h), -1);
}

/* TCP so the fixture keeps a copy of what was delivered. */
static uint32_t build_tcp(uint8_t *out, uint32_t src, uint32_t dst, uint32_t n)
{
	uint8_t payload[64];
	for (uint32_t i = 0; i < n; i++)
		payload[i] = (uint8_t)(0xa0 + i);
	return ip_fx_build(out, src, dst, IPPROTO_TCP_NUM, 7, 0, payload, n);
}

static void test_ipv4_deliver_trims_padding(void **state)
{
	(void)state;
	struct ip_fx fx;
	uint8_t pkt[80] = { 0 };
	uint32_t len = build_tcp(pkt, IP_FX_PEER, IP_FX_US, 6);    /* 26 bytes + 20 bytes padding */

	setup_fx(&fx);
	assert_int_equal(ip_fx_input(&fx, pkt, len + 20, 0), 1);
	assert_int_equal(fx.delivered_tcp, 1);
	assert_int_equal(fx.last_tcp_len, len);    /* header + 6, padding gone */
	assert_memory_equal(fx.last_tcp, pkt, len);
	assert_int_equal(ip_fx_counter(&fx, "ip", "rx_delivered"), 1);
	assert_int_equal(ip_fx_teardown(&fx), 0);
}

/* The rx description and the layout: data at the transport header, the header just before. */
static void test_ipv4_deliver_layout_and_options(void **state)
{
	(void)state;
	struct ip_fx fx;
	uint8_t pkt[64];
	struct ipv4_rx rx;
	struct pbuf *pb;

	/* IHL 6: one 4-byte option word (NOP NOP NOP EOL) that must be skipped. */
	pkt[0] = 0x46;
	pkt[1] = 0x10;
	put_be16(pkt + 2, 28);
	put_be16(pkt + 4, 1);
	put_be16(pkt + 6, 0);
	pkt[8] = 33;
	pkt[9] = IPPROTO_TCP_NUM;
	put_be16(pkt + 10, 0);
	put_be32(pkt + 12, IP_FX_PEER);
	put_be32(pkt + 16, IP_FX_US);
	pkt[20] = 1; pkt[21] = 1; pkt[22] = 1; pkt[23] = 0;
	memcpy(pkt + 24, "abcd", 4);
	put_be16(pkt + 10, csum_finish(csum_add(0, pkt, 24)));

	setup_fx(&fx);
	pb = pbuf_alloc(&fx.core.pool, PBUF_HEADROOM, 64);
	memcpy(pbuf_put(pb, 28), pkt, 28);
	assert_int_equal(ipv4_input(&fx.ip, &pb, &rx), 1);
	assert_non_null(pb);
	assert_int_equal(rx.src, IP_FX_PEER);
	assert_int_equal(rx.dst, IP_FX_US);
	assert_int_equal(rx.proto, IPPROTO_TCP_NUM);
	assert_int_equal(rx.ttl, 33);
	assert_int_equal(rx.tos, 0x10);
	assert_int_equal(rx.hdr_len, 24);
	assert_false(rx.broadcast);
	assert_int_equal(pb->len, 4);
	assert_memory_equal(pb->data, "abcd", 4);
	assert_non_null(pbuf_push(pb, rx.hdr_len));
	assert_memory_equal(pb->data, pkt, 28);
	pbuf_free(pb);
	assert_int_equal(ip_fx_teardown(&fx), 0);
}

struct bad_case {
	const char *name;      /* the counter that must move */
	int field;             /* what to break */
};

enum {
	BAD_SHORT, BAD_VERSION, BAD_IHL, BAD_IHL_BEYOND, BAD_CSUM, BAD_TOTLEN_SMALL, BAD_TOTLEN_BIG,
	BAD_DST_OTHER, BAD_DST_MCAST, BAD_SRC_BCAST, BAD_SRC_SUBNET_BCAST, BAD_SRC_MCAST, BAD_SRC_LOOP,
	BAD_SRC_OURS, BAD_SRC_ZERO, BAD_FRAG_ODD, BAD_FRAG_EMPTY, BAD_FRAG_BEYOND,
};

static const struct bad_case bad_cases[] = {
	{ "drop_truncated", BAD_SHORT },
	{ "drop_bad_version", BAD_VERSION },
	{ "drop_bad_ihl", BAD_IHL },
	{ "drop_truncated", BAD_IHL_BEYOND },
	{ "drop_bad_checksum", BAD_CSUM },
	{ "drop_bad_total_len", BAD_TOTLEN_SMALL },
	{ "drop_bad_total_len", BAD_TOTLEN_BIG },
	{ "drop_not_for_us", BAD_DST_OTHER },
	{ "drop_not_for_us", BAD_DST_MCAST },
	{ "drop_bad_src", BAD_SRC_BCAST },
	{ "drop_bad_src", BAD_SRC_SUBNET_BCAST },
	{ "drop_bad_src", BAD_SRC_MCAST },
	{ "drop_bad_src", BAD_SRC_LOOP },
	{ "drop_bad_src", BAD_SRC_OURS },
	{ "drop_bad_src", BAD_SRC_ZERO },
	{ "drop_bad_frag", BAD_FRAG_ODD },
	{ "drop_bad_frag", BAD_FRAG_EMPTY },
	{ "drop_bad_frag", BAD_FRAG_BEYOND },
};

static void recsum(uint8_t *p)
{
	put_be16(p + 10, 0);
	put_be16(p + 10, csum_finish(csum_add(0, p, (p[0] & 0x0f) * 4u)));
}

/* Each malformed datagram increments exactly its own counter: nothing delivered, no other drop. */
static void test_ipv4_validation_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
		struct ip_fx fx;
		uint8_t pkt[128];
		uint32_t len = build_tcp(pkt, IP_FX_PEER, IP_FX_US, 16);

		setup_fx(&fx);
		switch (bad_cases[i].field) {
		case BAD_SHORT: len = 19; break;
		case BAD_VERSION: pkt[0] = 0x65; recsum(pkt); break;
		case BAD_IHL: pkt[0] = 0x44; break;
		case BAD_IHL_BEYOND: pkt[0] = 0x4f; len = 40; break;
		case BAD_CSUM: pkt[10] ^= 0x01; break;
		case BAD_TOTLEN_SMALL: put_be16(pkt + 2, 19); recsum(pkt); break;
		case BAD_TOTLEN_BIG: put_be16(pkt + 2, (uint16_t)(len + 1)); recsum(pkt); break;
		case BAD_DST_OTHER: put_be32(pkt + 16, IPV4_ADDR(10, 0, 0, 3)); recsum(pkt); break;
		case BAD_DST_MCAST: put_be32(pkt + 16, IPV4_ADDR(224, 0, 0, 1)); recsum(pkt); break;
		case BAD_SRC_BCAST: put_be32(pkt + 12, IPV4_BROADCAST); recsum(pkt); break;
		case BAD_SRC_SUBNET_BCAST: put_be32(pkt + 12, IPV4_ADDR(10, 0, 0, 255)); recsum(pkt); break;
		case BAD_SRC_MCAST: put_be32(pkt + 12, IPV4_ADDR(239, 1, 2, 3)); recsum(pkt); break;
		case BAD_SRC_LOOP: put_be32(pkt + 12, IPV4_ADDR(127, 0, 0, 1)); recsum(pkt); break;
		case BAD_SRC_OURS: put_be32(pkt + 12, IP_FX_US); recsum(pkt); break;
		case BAD_SRC_ZERO: put_be32(pkt + 12, 0); recsum(pkt); break;
		case BAD_FRAG_ODD:    /* MF with 7 data bytes: not a multiple of 8 */
			len = 27; put_be16(pkt + 2, 27); put_be16(pkt + 6, IPV4_FLAG_MF); recsum(pkt); break;
		case BAD_FRAG_EMPTY:  /* MF with no data */
			len = 20; put_be16(pkt + 2, 20); put_be16(pkt + 6, IPV4_FLAG_MF); recsum(pkt); break;
		case BAD_FRAG_BEYOND: /* offset 65528 + 16 bytes is past 65535 */
			put_be16(pkt + 6, 8191); recsum(pkt); break;
		}
		uint64_t before = ip_fx_counter(&fx, "ip", bad_cases[i].name);
		assert_int_equal(ip_fx_input(&fx, pkt, len, 0), 0);
		assert_int_equal(ip_fx_counter(&fx, "ip", bad_cases[i].name), before + 1);
		assert_int_equal(ip_fx_counter_sum(&fx, "ip", "drop_"), 1);
		assert_int_equal(ip_fx_counter(&fx, "ip", "rx_delivered"), 0);
		assert_int_equal(fx.delivered_tcp, 0);
		assert_int_equal(fx.rd.n_sent, 0);
		assert_int_equal(ip_fx_teardown(&fx), 0);
	}
}

/* 255.255.255.255, the subnet broadcast and a unicast that came as link broadcast: delivered, marked. */
static void test_ipv4_broadcast_delivered_and_marked(void **state)
{
	(void)state;
	const uint32_t dsts[] = { IPV4_BROADCAST, IPV4_ADDR(10, 0, 0, 255), IP_FX_US };
	for (size_t i = 0; i < 3; i++) {
		struct ip_fx fx;
		uint8_t pkt[64];
		uint32_t len = build_tcp(pkt, IP_FX_PEER, dsts[i], 4);
		struct pbuf *pb;
		struct ipv4_rx rx;

		setup_fx(&fx);
		pb = pbuf_alloc(&fx.core.pool, PBUF_HEADROOM, 64);
		memcpy(pbuf_put(pb, len), pkt, len);
		pb->flags = dsts[i] == IP_FX_US ? PBUF_F_BROADCAST : 0;
		assert_int_equal(ipv4_input(&fx.ip, &pb, &rx), 1);
		assert_true(rx.broadcast);
		assert_int_equal(rx.dst, dsts[i]);
		pbuf_free(pb);
		assert_int_equal(ip_fx_counter(&fx, "ip", "rx_broadcast"), 1);
		assert_int_equal(ip_fx_teardown(&fx), 0);
	}
}

static void check_sent_ip(const struct recdev_frame *f, const uint8_t mac[ETH_ALEN], struct ipv4_hdr *h)
{
	assert_non_null(f);
	assert_memory_equal(f->bytes, mac, ETH_ALEN);
	assert_int_equal(get_be16(f->bytes + 12), ETHERTYPE_IPV4);
	assert_int_equal(ipv4_hdr_parse(f->bytes + ETH_HDR_LEN, f->len - ETH_HDR_LEN, h), 0);
	assert_int_equal(csum_finish(csum_add(0, f->bytes + ETH_HDR_LEN, h->ihl)), 0);
}

static struct pbuf *payload_pbuf(struct ip_fx *fx, uint32_t n)
{
	struct pbuf *pb = pbuf_alloc(&fx->core.pool, PBUF_HEADROOM, n);
	uint8_t *p = pbuf_put(pb, n);
	for (uint32_t i = 0; i < n; i++)
		p[i] = (uint8_t)(i * 13 + 5);
	return pb;
}

/* On-link: straight to the destination's MAC, header as configured. */
static void test_ipv4_output_on_link(void **state)
{
	(void)state;
	struct ip_fx fx;
	struct ipv4_hdr h;

	setup_fx(&fx);
	assert_int_equal(ipv4_output(&fx.ip, payload_pbuf(&fx, 30), 0, IP_FX_PEER, IPPROTO_UDP_NUM,
	                             (struct ip_hdr_choice){ .tos = 0x10 }), 0);
	assert_int_equal(fx.rd.n_sent, 1);
	check_sent_ip(recdev_frame(&fx.rd, 0), ip_fx_peer_mac, &h);
	assert_int_equal(h.total_len, 50);
	assert_int_equal(h.ttl, 64);
	assert_int_equal(h.tos, 0x10);
	assert_int_equal(h.proto, IPPROTO_UDP_NUM);
	assert_int_equal(h.src, IP_FX_US);
	assert_int_equal(h.dst, IP_FX_PEER);
	assert_false(h.df);
	assert_false(h.mf);
	assert_int_equal(ip_fx_counter(&fx, "ip", "tx_frames"), 1);
	/* A sender's own TTL (IP_TTL) replaces the default. */
	assert_int_equal(ipv4_output(&fx.ip, payload_pbuf(&fx, 30), 0, IP_FX_PEER, IPPROTO_UDP_NUM,
	                             (struct ip_hdr_choice){ .ttl = 3 }), 0);
	check_sent_ip(recdev_frame(&fx.rd, 1), ip_fx_peer_mac, &h);
	assert_int_equal(h.ttl, 3);
	assert_int_equal(h.tos, 0);
	assert_int_equal(ip_fx_teardown(&fx), 0);
}

/* Off-link: via the gateway's MAC with the far destination in the header; without one, no route. */
static void test_ipv4_output_gateway_and_no_route(void **state)
{
	(void)state;
	struct ip_fx fx;
	struct link_config lc;
	struct ipv4_hdr h;

	link_config_default(&lc);
	lc.gateway = IP_FX_PEER;
	assert_int_equal(ip_fx_setup(&fx, &lc, NULL), 0);
	assert_int_equal(ipv4_output(&fx.ip, payload_pbuf(&fx, 8), 0, IPV4_ADDR(192, 0, 2, 7), IPPROTO_UDP_NUM, IP_HC_DEFAULT), 0);
	assert_int_equal(fx.rd.n_sent, 1);
	check_sent_ip(recdev_frame(&fx.rd, 0), ip_fx_peer_mac, &h);
	assert_int_equal(h.dst, IPV4_ADDR(192, 0, 2, 7));
	assert_int_equal(ip_fx_teardown(&fx), 0);

	setup_fx(&fx);
	assert_int_equal(ipv4_output(&fx.ip, payload_pbuf(&fx, 8), 0, IPV4_ADDR(192, 0, 2, 7), IPPROTO_UDP_NUM, IP_HC_DEFAULT),
	                 -ENETUNREACH);
	assert_int_equal(ip_fx_counter(&fx, "ip", "tx_no_route"), 1);
	assert_int_equal(fx.rd.n_sent, 0);
	assert_int_equal(ip_fx_teardown(&fx), 0);
}

/* A new ID per datagram; TCP gets DF and is refused above the MTU; other protocols fragment. */
static void test_ipv4_output_id_and_df(void **state)
{
	(void)state;
	struct ip_fx fx;
	struct ipv4_hdr a, b;

	setup_fx(&fx);
	assert_int_equal(ipv4_output(&fx.ip, payload_pbuf(&fx, 20), 0, IP_FX_PEER, IPPROTO_TCP_NUM, IP_HC_DEFAULT), 0);
	assert_int_equal(ipv4_output(&fx.ip, payload_pbuf(&fx, 20), 0, IP_FX_PEER, IPPROTO_TCP_NUM, IP_HC_DEFAULT), 0);
	check_sent_ip(recdev_frame(&fx.rd, 0), ip_fx_peer_mac, &a);
	check_sent_ip(recdev_frame(&fx.rd, 1), ip_fx_peer_mac, &b);
	assert_true(a.df);
	assert_int_equal((uint16_t)(a.id + 1), b.id);
	assert_int_equal(ipv4_output(&fx.ip, payload_pbuf(&fx, 1481), 0, IP_FX_PEER, IPPROTO_TCP_NUM, IP_HC_DEFAULT), -EMSGSIZE);
	assert_int_equal(ip_fx_counter(&fx, "ip", "tx_df_too_big"), 1);
	assert_int_equal(fx.rd.n_sent, 2);
	assert_int_equal(ip_fx_teardown(&fx), 0);
}

/* RFC 791 3.2: 3000 bytes over MTU 1500 -> 1480 + 1480 + 40, offsets in 8-byte units, MF, one ID. */
static void test_ipv4_output_fragments(void **state)
{
	(void)state;
	struct ip_fx fx;
	struct ipv4_hdr h[3];
	uint8_t whole[3000];

	setup_fx(&fx);
	struct pbuf *pb = payload_pbuf(&fx, 3000);
	memcpy(whole, pb->data, 3000);
	assert_int_equal(ipv4_output(&fx.ip, pb, 0, IP_FX_PEER, IPPROTO_UDP_NUM, IP_HC_DEFAULT), 0);
	assert_int_equal(fx.rd.n_sent, 3);
	const uint16_t lens[3] = { 1480, 1480, 40 };
	uint32_t off = 0;
	for (uint32_t i = 0; i < 3; i++) {
		const struct recdev_frame *f = recdev_frame(&fx.rd, i);
		check_sent_ip(f, ip_fx_peer_mac, &h[i]);
		assert_int_equal(h[i].total_len, 20 + lens[i]);
		assert_int_equal(h[i].frag_off, off);
		assert_int_equal(h[i].mf, i < 2);
		assert_false(h[i].df);
		assert_int_equal(h[i].id, h[0].id);
		assert_memory_equal(f->bytes + ETH_HDR_LEN + 20, whole + off, lens[i]);
		off += lens[i];
	}
	assert_int_equal(ip_fx_counter(&fx, "ip", "tx_fragmented"), 1);
	assert_int_equal(ip_fx_counter(&fx, "ip", "tx_fragments"), 3);
	assert_int_equal(ip_fx_teardown(&fx), 0);
}

/* Borrowed payload (ext pieces, as TCP sends from its ring) is fragmented just like owned data. */
static void test_ipv4_output_fragments_ext_payload(void **state)
{
	(void)state;
	struct ip_fx fx;
	static uint8_t ring[2000];
	struct ipv4_hdr h;

	for (uint32_t i = 0; i < sizeof(ring); i++)
		ring[i] = (uint8_t)(i ^ 0x5a);
	setup_fx(&fx);
	struct pbuf *pb = payload_pbuf(&fx, 10);
	pb->ext[0] = (struct pbuf_ext){ ring, 1000 };
	pb->ext[1] = (struct pbuf_ext){ ring + 1000, 1000 };
	assert_int_equal(ipv4_output(&fx.ip, pb, 0, IP_FX_PEER, IPPROTO_UDP_NUM, IP_HC_DEFAULT), 0);
	assert_int_equal(fx.rd.n_sent, 2);
	check_sent_ip(recdev_frame(&fx.rd, 1), ip_fx_peer_mac, &h);
	assert_int_equal(h.frag_off, 1480);
	assert_int_equal(h.total_len, 20 + 2010 - 1480);
	/* Byte 1480 of the payload is ring[1470]. */
	assert_memory_equal(recdev_frame(&fx.rd, 1)->bytes + ETH_HDR_LEN + 20, ring + 1470, 530);
	assert_int_equal(ip_fx_teardown(&fx), 0);
}

/* Every prefix (0..N bytes) of each fixture frame, through ether_input and on up: no crash, no leak. */
static void test_ipv4_every_truncation(void **state)
{
	(void)state;
	uint8_t frag[ETH_HDR_LEN + 20 + 16], opt[ETH_HDR_LEN + 28];
	const uint8_t payload[16] = { 8, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14 };

	memcpy(frag, fx_frame_ping, ETH_HDR_LEN);
	ip_fx_build(frag + ETH_HDR_LEN, IP_FX_PEER, IP_FX_US, IPPROTO_ICMP_NUM, 9, IPV4_FLAG_MF, payload, 16);
	memcpy(opt, fx_frame_ping, ETH_HDR_LEN);
	ip_fx_build(opt + ETH_HDR_LEN, IP_FX_PEER, IP_FX_US, 99, 9, 0, payload, 8);
	const struct { const uint8_t *p; uint32_t n; } frames[] = {
		{ fx_frame_ping, sizeof(fx_frame_ping) }, { frag, sizeof(frag) }, { opt, sizeof(opt) },
	};
	for (size_t k = 0; k < 3; k++) {
		struct ip_fx fx;
		setup_fx(&fx);
		for (uint32_t len = 0; len <= frames[k].n; len++)
			ip_fx_input_frame(&fx, frames[k].p, len);
		/* Only the whole frame gets through: the ping is answered, the protocol refused. */
		assert_int_equal(ip_fx_counter(&fx, "ip", "rx_delivered"), k == 1 ? 0 : 1);
		assert_int_equal(ip_fx_teardown(&fx), 0);
	}
}

/*
 * Seeded random mutations of fragments, pings and option-carrying datagrams through the
 * whole input path (a poor man's fuzzer that runs in every build): nothing crashes, the
 * sanitizer build sees no bad access, every pbuf comes back, slots stay within bounds.
 */
static void test_ipv4_random_mutations(void **state)
{
	(void)state;
	struct ip_fx fx;
	struct rng r;
	uint8_t base[ETH_HDR_LEN + 20 + 64], frame[sizeof(base)];
	uint8_t payload[64];

	rng_seed(&r, 42);
	for (uint32_t i = 0; i < sizeof(payload); i++)
		payload[i] = (uint8_t)i;
	setup_fx(&fx);
	for (uint32_t iter = 0; iter < 20000; iter++) {
		uint32_t kind = rng_u32(&r) % 3, n = 8 + (rng_u32(&r) % 7) * 8;
		uint16_t frag = kind == 0 ? (uint16_t)((rng_u32(&r) & 1 ? IPV4_FLAG_MF : 0) | (rng_u32(&r) % 16)) : 0;

		memcpy(base, fx_frame_ping, ETH_HDR_LEN);
		ip_fx_build(base + ETH_HDR_LEN, IP_FX_PEER, IP_FX_US, kind == 1 ? IPPROTO_ICMP_NUM : IPPROTO_TCP_NUM,
		            (uint16_t)(rng_u32(&r) % 4), frag, payload, n);
		if (kind == 1)
			ip_fx_echo(base + ETH_HDR_LEN + 20, 1, 1, n - 8);
		memcpy(frame, base, sizeof(frame));
		/* Flip a few bytes after the Ethernet header, then maybe fix the IP checksum so the
		 * mutation reaches the deeper checks. */
		for (uint32_t k = rng_u32(&r) % 4; k > 0; k--)
			frame[ETH_HDR_LEN + rng_u32(&r) % (20 + n)] = (uint8_t)rng_u32(&r);
		if (rng_u32(&r) & 1) {
			uint32_t ihl = (frame[ETH_HDR_LEN] & 0x0f) * 4u;
			if (ihl >= 20 && ihl <= 20 + n) {
				put_be16(frame + ETH_HDR_LEN + 10, 0);
				put_be16(frame + ETH_HDR_LEN + 10, csum_finish(csum_add(0, frame + ETH_HDR_LEN, ihl)));
			}
		}
		ip_fx_input_frame(&fx, frame, ETH_HDR_LEN + 20 + n - rng_u32(&r) % 3);
		assert_true(ip_reass_slots_used(&fx.ip) <= fx.ip.cfg.reass_max_slots);
		if (iter % 1000 == 999)
			ip_fx_advance(&fx, 31 * USEC_PER_SEC);
		recdev_clear(&fx.rd);
	}
	assert_true(ip_fx_counter(&fx, "ip", "rx_delivered") > 0);
	assert_true(ip_fx_counter(&fx, "ip", "reass_ok") > 0);
	assert_int_equal(ip_fx_teardown(&fx), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ipv4_header_roundtrip),
		cmocka_unit_test(test_ipv4_deliver_trims_padding),
		cmocka_unit_test(test_ipv4_deliver_layout_and_options),
		cmocka_unit_test(test_ipv4_validation_table),
		cmocka_unit_test(test_ipv4_broadcast_delivered_and_marked),
		cmocka_unit_test(test_ipv4_output_on_link),
		cmocka_unit_test(test_ipv4_output_gateway_and_no_route),
		cmocka_unit_test(test_ipv4_output_id_and_df),
		cmocka_unit_test(test_ipv4_output_fragments),
		cmocka_unit_test(test_ipv4_output_fragments_ext_payload),
		cmocka_unit_test(test_ipv4_every_truncation),
		cmocka_unit_test(test_ipv4_random_mutations),
	};
	return cmocka_run_group_tests_name("ipv4", tests, NULL, NULL);
}
