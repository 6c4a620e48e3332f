/*
 * test_arp.c - ARP (stack/link/arp.c, docs/arp.md), under a fake clock and a recording
 * device: fixtures round-trip; a request for us gets the exact reply; requests not for us
 * leave no trace; the RFC 826 merge rule; validation counters; resolution with exactly three
 * requests one second apart; the pending queue (order, bound, linearization); the cache
 * bound and eviction; expiry (REACHABLE -> STALE -> probe or removal); broadcast and
 * multicast next hops; the gratuitous ARP at start; every truncation of the fixtures.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "helpers/fixture_frames.h"
#include "helpers/link_fixture.h"
#include "wire/arp.h"
#include "wire/ethernet.h"

#define OUR_IP 0x0a000002u      /* 10.0.0.2, link_config_default() */
#define HOST_IP 0x0a000001u     /* 10.0.0.1 */
#define PEER_IP 0x0a000007u     /* 10.0.0.7 */

static const uint8_t our_mac[ETH_ALEN] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x02 };
static const uint8_t host_mac[ETH_ALEN] = { 0x02, 0xaa, 0xbb, 0xcc, 0xdd, 0x01 };
static const uint8_t host_mac2[ETH_ALEN] = { 0x02, 0xaa, 0xbb, 0xcc, 0xdd, 0x99 };
static const uint8_t bcast[ETH_ALEN] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };


/* Our answer: 10.0.0.2 is-at 02:00:00:00:00:02, unicast to the requester, padded to 60. */
static const uint8_t reply_from_us[60] = {
	0x02, 0xaa, 0xbb, 0xcc, 0xdd, 0x01, 0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 0x08, 0x06,
	0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x02, 0x02, 0x00, 0x00, 0x00, 0x00, 0x02,
	0x0a, 0x00, 0x00, 0x02, 0x02, 0xaa, 0xbb, 0xcc, 0xdd, 0x01, 0x0a, 0x00, 0x00, 0x01,
};

/* Our request: who-has 10.0.0.7 tell 10.0.0.2, broadcast. */
static const uint8_t req_from_us_for_peer[60] = {
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 0x08, 0x06,
	0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x01, 0x02, 0x00, 0x00, 0x00, 0x00, 0x02,
	0x0a, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0a, 0x00, 0x00, 0x07,
};

/* Our gratuitous ARP (RFC 5227 announcement): who-has 10.0.0.2 tell 10.0.0.2, broadcast. */
static const uint8_t gratuitous_from_us[60] = {
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 0x08, 0x06,
	0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x01, 0x02, 0x00, 0x00, 0x00, 0x00, 0x02,
	0x0a, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0a, 0x00, 0x00, 0x02,
};

/* Builds an ARP frame (60 bytes, padded) into f; returns its length. */
static uint32_t build_arp(uint8_t *f, const uint8_t eth_dst[6], uint16_t oper, const uint8_t sha[6],
                          uint32_t spa, const uint8_t tha[6], uint32_t tpa)
{
	struct eth_hdr h;
	struct arp_pkt a = { ARP_HTYPE_ETHERNET, ETHERTYPE_IPV4, ETH_ALEN, 4, oper, { 0 }, spa, { 0 }, tpa };

	memset(f, 0, 60);
	memcpy(h.dst, eth_dst, 6);
	memcpy(h.src, sha, 6);
	h.type = ETHERTYPE_ARP;
	eth_hdr_emit(f, &h);
	memcpy(a.sha, sha, 6);
	memcpy(a.tha, tha, 6);
	arp_pkt_emit(f + ETH_HDR_LEN, &a);
	return 60;
}

/* An IPv4-looking datagram of len bytes whose first payload byte is tag. */
static struct pbuf *make_ip(struct link_fx *fx, uint8_t tag, uint32_t len)
{
	struct pbuf *pb = pbuf_alloc(&fx->core.pool, PBUF_HEADROOM, len);
	uint8_t *p = pbuf_put(pb, len);
	memset(p, 0, len);
	p[0] = 0x45;
	p[20] = tag;
	return pb;
}

static void rx_reply_from(struct link_fx *fx, const uint8_t mac[6], uint32_t ip)
{
	uint8_t f[60];
	build_arp(f, our_mac, ARP_OP_REPLY, mac, ip, our_mac, OUR_IP);
	assert_int_equal(link_fx_rx(fx, f, 60), ETHERTYPE_ARP);
}

static void rx_request_from(struct link_fx *fx, const uint8_t mac[6], uint32_t ip, uint32_t target)
{
	uint8_t f[60];
	static const uint8_t zero[6] = { 0 };
	build_arp(f, bcast, ARP_OP_REQUEST, mac, ip, zero, target);
	assert_int_equal(link_fx_rx(fx, f, 60), ETHERTYPE_ARP);
}

static void test_arp_fixture_roundtrip(void **state)
{
	(void)state;
	const uint8_t *fixtures[] = { fx_frame_arp_request, reply_from_us, req_from_us_for_peer, gratuitous_from_us };

	for (size_t i = 0; i < 4; i++) {
		struct eth_hdr h;
		struct arp_pkt a;
		uint8_t out[60];
		memset(out, 0, sizeof(out));
		assert_int_equal(eth_hdr_parse(fixtures[i], 60, &h), 0);
		assert_int_equal(h.type, ETHERTYPE_ARP);
		assert_int_equal(arp_pkt_parse(fixtures[i] + ETH_HDR_LEN, 60 - ETH_HDR_LEN, &a), ARP_PARSE_OK);
		eth_hdr_emit(out, &h);
		arp_pkt_emit(out + ETH_HDR_LEN, &a);
		assert_memory_equal(out, fixtures[i], 60);
	}
	struct arp_pkt a;
	assert_int_equal(arp_pkt_parse(fx_frame_arp_request + ETH_HDR_LEN, 60 - ETH_HDR_LEN, &a), ARP_PARSE_OK);
	assert_int_equal(a.oper, ARP_OP_REQUEST);
	assert_int_equal(a.spa, HOST_IP);
	assert_int_equal(a.tpa, OUR_IP);
	assert_memory_equal(a.sha, host_mac, 6);
	assert_int_equal(arp_pkt_parse(fx_frame_arp_request + ETH_HDR_LEN, ARP_PKT_LEN - 1, &a), ARP_PARSE_TRUNCATED);
}

static void test_arp_replies_to_request_for_us(void **state)
{
	(void)state;
	struct link_fx fx;
	uint8_t mac[6];
	assert_int_equal(link_fx_setup(&fx, NULL), 0);

	assert_int_equal(link_fx_rx(&fx, fx_frame_arp_request, sizeof(fx_frame_arp_request)), ETHERTYPE_ARP);
	assert_int_equal(fx.rd.n_sent, 1);
	assert_int_equal(recdev_frame(&fx.rd, 0)->len, 60);
	assert_memory_equal(recdev_frame(&fx.rd, 0)->bytes, reply_from_us, 60);
	assert_int_equal(fx.link.arp.rx_requests, 1);
	assert_int_equal(fx.link.arp.tx_replies, 1);
	/* RFC 826: the requester is added, since it will talk to us next */
	assert_true(arp_cache_lookup(&fx.link, HOST_IP, mac));
	assert_memory_equal(mac, host_mac, 6);
	assert_int_equal(arp_cache_state(&fx.link, HOST_IP), ARP_REACHABLE);
	assert_int_equal(fx.link.arp.cache_inserts, 1);
	assert_int_equal(link_fx_teardown(&fx), 0);
}

/* A request for someone else: no reply and nothing learned. */
static void test_arp_request_not_for_us_leaves_no_trace(void **state)
{
	(void)state;
	struct link_fx fx;
	uint8_t mac[6];
	assert_int_equal(link_fx_setup(&fx, NULL), 0);

	rx_request_from(&fx, host_mac, HOST_IP, 0x0a000063u);
	assert_int_equal(fx.rd.n_sent, 0);
	assert_false(arp_cache_lookup(&fx.link, HOST_IP, mac));
	assert_int_equal(arp_cache_state(&fx.link, HOST_IP), ARP_FREE);
	assert_int_equal(fx.link.arp.rx_not_for_us, 1);
	assert_int_equal(fx.link.cache_used, 0);

	/* nor a reply to someone else, nor a gratuitous ARP from a stranger */
	uint8_t f[60];
	build_arp(f, bcast, ARP_OP_REPLY, host_mac, HOST_IP, host_mac2, 0x0a000063u);
	link_fx_rx(&fx, f, 60);
	rx_request_from(&fx, host_mac, HOST_IP, HOST_IP);
	assert_int_equal(fx.link.cache_used, 0);
	assert_int_equal(fx.link.arp.rx_not_for_us, 3);
	assert_int_equal(fx.rd.n_sent, 0);
	assert_int_equal(link_fx_teardown(&fx), 0);
}

/* RFC 826: a sender already in the table is updated even when the packet is not for us. */
static void test_arp_merge_rule_updates_known_sender(void **state)
{
	(void)state;
	struct link_fx fx;
	uint8_t mac[6];
	assert_int_equal(link_fx_setup(&fx, NULL), 0);

	rx_request_from(&fx, host_mac, HOST_IP, OUR_IP);
	recdev_clear(&fx.rd);
	/* gratuitous ARP: the host moved to a new MAC */
	rx_request_from(&fx, host_mac2, HOST_IP, HOST_IP);
	assert_int_equal(fx.rd.n_sent, 0);
	assert_true(arp_cache_lookup(&fx.link, HOST_IP, mac));
	assert_memory_equal(mac, host_mac2, 6);
	assert_int_equal(fx.link.arp.cache_updates, 1);
	assert_int_equal(fx.link.arp.cache_inserts, 1);
	assert_int_equal(fx.link.cache_used, 1);

	/* and a datagram to it now goes to the new MAC */
	assert_int_equal(link_output_ipv4(&fx.link, make_ip(&fx, 1, 40), HOST_IP), 0);
	assert_int_equal(fx.rd.n_sent, 1);
	assert_memory_equal(recdev_frame(&fx.rd, 0)->bytes, host_mac2, 6);
	assert_int_equal(link_fx_teardown(&fx), 0);
}

/* Each invalid packet increments its own counter, sends nothing and learns nothing. */
static void test_arp_validation_counters(void **state)
{
	(void)state;
	struct link_fx fx;
	uint8_t f[60];
	static const uint8_t zero[6] = { 0 };
	static const uint8_t mcast[6] = { 0x01, 0x00, 0x5e, 0x00, 0x00, 0x01 };
	assert_int_equal(link_fx_setup(&fx, NULL), 0);

	/* truncated: 27 bytes of ARP */
	assert_int_equal(link_fx_rx(&fx, fx_frame_arp_request, ETH_HDR_LEN + ARP_PKT_LEN - 1), ETHERTYPE_ARP);
	assert_int_equal(fx.link.arp.drop_truncated, 1);

	/* unsupported hardware type, protocol type, lengths */
	static const size_t off[] = { 1, 2, 4, 5 };
	for (size_t i = 0; i < 4; i++) {
		memcpy(f, fx_frame_arp_request, 60);
		f[ETH_HDR_LEN + off[i]] ^= 0x40;
		link_fx_rx(&fx, f, 60);
	}
	assert_int_equal(fx.link.arp.drop_unsupported, 4);

	/* opcode 3 (RARP request) */
	memcpy(f, fx_frame_arp_request, 60);
	f[ETH_HDR_LEN + ARP_OFF_OPER + 1] = 3;
	link_fx_rx(&fx, f, 60);
	assert_int_equal(fx.link.arp.drop_bad_opcode, 1);

	/* sender MAC broadcast, multicast, zero, ours */
	build_arp(f, bcast, ARP_OP_REQUEST, host_mac, HOST_IP, zero, OUR_IP);
	memcpy(f + ETH_HDR_LEN + ARP_OFF_SHA, bcast, 6);
	link_fx_rx(&fx, f, 60);
	memcpy(f + ETH_HDR_LEN + ARP_OFF_SHA, mcast, 6);
	link_fx_rx(&fx, f, 60);
	memcpy(f + ETH_HDR_LEN + ARP_OFF_SHA, zero, 6);
	link_fx_rx(&fx, f, 60);
	memcpy(f + ETH_HDR_LEN + ARP_OFF_SHA, our_mac, 6);
	link_fx_rx(&fx, f, 60);
	assert_int_equal(fx.link.arp.drop_bad_sender_mac, 4);

	/* someone else claims our address */
	rx_request_from(&fx, host_mac, OUR_IP, OUR_IP);
	assert_int_equal(fx.link.arp.addr_conflict, 1);

	/* sender IP multicast, limited broadcast, directed broadcast; a reply from 0.0.0.0 */
	rx_request_from(&fx, host_mac, 0xe0000001u, OUR_IP);
	rx_request_from(&fx, host_mac, 0xffffffffu, OUR_IP);
	rx_request_from(&fx, host_mac, 0x0a0000ffu, OUR_IP);
	rx_reply_from(&fx, host_mac, 0);
	assert_int_equal(fx.link.arp.drop_bad_sender_ip, 4);

	assert_int_equal(fx.rd.n_sent, 0);
	assert_int_equal(fx.link.cache_used, 0);
	assert_int_equal(link_fx_teardown(&fx), 0);
}

/* RFC 5227 probe (sender 0.0.0.0) for our address: answered to the prober, not cached. */
static void test_arp_probe_for_us_answered(void **state)
{
	(void)state;
	struct link_fx fx;
	static const uint8_t zero[6] = { 0 };
	uint8_t expect[60];
	assert_int_equal(link_fx_setup(&fx, NULL), 0);

	rx_request_from(&fx, host_mac, 0, OUR_IP);
	assert_int_equal(fx.link.arp.rx_probes, 1);
	assert_int_equal(fx.rd.n_sent, 1);
	build_arp(expect, host_mac, ARP_OP_REPLY, our_mac, OUR_IP, host_mac, 0);
	memcpy(expect + 6, our_mac, 6);
	assert_memory_equal(recdev_frame(&fx.rd, 0)->bytes, expect, 60);
	assert_int_equal(fx.link.cache_used, 0);

	/* a probe for another address is none of our business */
	rx_request_from(&fx, host_mac, 0, 0x0a000063u);
	assert_int_equal(fx.rd.n_sent, 1);
	(void)zero;
	assert_int_equal(link_fx_teardown(&fx), 0);
}

/* Resolution: exactly 3 broadcast requests 1 s apart, then the parked packets are dropped. */
static void test_arp_resolution_retries_then_fails(void **state)
{
	(void)state;
	struct link_fx fx;
	assert_int_equal(link_fx_setup(&fx, NULL), 0);

	assert_int_equal(link_output_ipv4(&fx.link, make_ip(&fx, 1, 40), PEER_IP), 0);
	assert_int_equal(link_output_ipv4(&fx.link, make_ip(&fx, 2, 40), PEER_IP), 0);
	assert_int_equal(arp_cache_state(&fx.link, PEER_IP), ARP_INCOMPLETE);
	assert_int_equal(fx.rd.n_sent, 1);     /* the second packet does not send a second request */
	assert_memory_equal(recdev_frame(&fx.rd, 0)->bytes, req_from_us_for_peer, 60);

	link_fx_advance(&fx, USEC_PER_SEC - 1);
	assert_int_equal(fx.rd.n_sent, 1);
	link_fx_advance(&fx, 1);                /* t0 + 1 s */
	assert_int_equal(fx.rd.n_sent, 2);
	assert_memory_equal(recdev_frame(&fx.rd, 1)->bytes, req_from_us_for_peer, 60);
	link_fx_advance(&fx, USEC_PER_SEC);     /* t0 + 2 s */
	assert_int_equal(fx.rd.n_sent, 3);
	assert_memory_equal(recdev_frame(&fx.rd, 2)->bytes, req_from_us_for_peer, 60);
	assert_int_equal(fx.link.arp.pending_drop_unresolved, 0);
	link_fx_advance(&fx, USEC_PER_SEC);     /* t0 + 3 s: give up */
	assert_int_equal(fx.rd.n_sent, 3);
	assert_int_equal(fx.link.arp.tx_requests, 3);
	assert_int_equal(fx.link.arp.resolve_failed, 1);
	assert_int_equal(fx.link.arp.pending_drop_unresolved, 2);
	assert_int_equal(arp_cache_state(&fx.link, PEER_IP), ARP_FREE);
	assert_int_equal(timer_next(&fx.core.timers), USEC_NEVER);
	link_fx_advance(&fx, 10 * USEC_PER_SEC);
	assert_int_equal(fx.rd.n_sent, 3);
	assert_int_equal(link_fx_teardown(&fx), 0);
}

/* Retries are configurable. */
static void test_arp_resolution_retries_configurable(void **state)
{
	(void)state;
	struct link_fx fx;
	struct link_config cfg;
	link_config_default(&cfg);
	cfg.arp_retries = 5;
	cfg.arp_retry_ms = 250;
	assert_int_equal(link_fx_setup(&fx, &cfg), 0);

	link_output_ipv4(&fx.link, make_ip(&fx, 1, 40), PEER_IP);
	for (int i = 0; i < 10; i++)
		link_fx_advance(&fx, 250 * USEC_PER_MS);
	assert_int_equal(fx.link.arp.tx_requests, 5);
	assert_int_equal(fx.link.arp.resolve_failed, 1);
	assert_int_equal(fx.link.arp.pending_drop_unresolved, 1);
	assert_int_equal(link_fx_teardown(&fx), 0);
}

/* The reply flushes the parked packets in the order they were parked, to the new MAC. */
static void test_arp_pending_flushed_in_order(void **state)
{
	(void)state;
	struct link_fx fx;
	assert_int_equal(link_fx_setup(&fx, NULL), 0);

	for (uint8_t tag = 1; tag <= 3; tag++)
		assert_int_equal(link_output_ipv4(&fx.link, make_ip(&fx, tag, 100), PEER_IP), 0);
	assert_int_equal(fx.link.arp.pending_queued, 3);
	link_fx_advance(&fx, USEC_PER_SEC / 2);
	recdev_clear(&fx.rd);

	rx_reply_from(&fx, host_mac2, PEER_IP);
	assert_int_equal(fx.rd.n_sent, 3);
	for (uint32_t i = 0; i < 3; i++) {
		const struct recdev_frame *f = recdev_frame(&fx.rd, i);
		assert_int_equal(f->len, ETH_HDR_LEN + 100);
		assert_memory_equal(f->bytes, host_mac2, 6);
		assert_memory_equal(f->bytes + 6, our_mac, 6);
		assert_int_equal(get_be16(f->bytes + 12), ETHERTYPE_IPV4);
		assert_int_equal(f->bytes[ETH_HDR_LEN + 20], i + 1);
	}
	assert_int_equal(fx.link.arp.pending_sent, 3);
	assert_int_equal(arp_cache_state(&fx.link, PEER_IP), ARP_REACHABLE);

	/* no more requests after the reply; the next datagram goes straight out */
	link_fx_advance(&fx, 5 * USEC_PER_SEC);
	assert_int_equal(fx.rd.n_sent, 3);
	assert_int_equal(fx.link.arp.tx_requests, 1);
	assert_int_equal(link_output_ipv4(&fx.link, make_ip(&fx, 4, 100), PEER_IP), 0);
	assert_int_equal(fx.rd.n_sent, 4);
	assert_int_equal(recdev_frame(&fx.rd, 3)->bytes[ETH_HDR_LEN + 20], 4);
	assert_int_equal(link_fx_teardown(&fx), 0);
}

/* At most arp_pending_max packets wait; when full the oldest is dropped and counted. */
static void test_arp_pending_queue_bound(void **state)
{
	(void)state;
	struct link_fx fx;
	struct link_config cfg;
	link_config_default(&cfg);
	assert_int_equal(cfg.arp_pending_max, 8);
	cfg.arp_pending_max = 3;
	assert_int_equal(link_fx_setup(&fx, &cfg), 0);

	for (uint8_t tag = 1; tag <= 5; tag++)
		assert_int_equal(link_output_ipv4(&fx.link, make_ip(&fx, tag, 60), PEER_IP), 0);
	assert_int_equal(fx.link.arp.pending_drop_full, 2);
	assert_int_equal(fx.core.pool.cls[0].in_use, 3);
	recdev_clear(&fx.rd);
	rx_reply_from(&fx, host_mac2, PEER_IP);
	assert_int_equal(fx.rd.n_sent, 3);
	for (uint32_t i = 0; i < 3; i++)
		assert_int_equal(recdev_frame(&fx.rd, i)->bytes[ETH_HDR_LEN + 20], i + 3);
	assert_int_equal(link_fx_teardown(&fx), 0);
}

/* Borrowed payload is copied in before parking: the sender's buffer may change afterwards. */
static void test_arp_pending_linearized(void **state)
{
	(void)state;
	struct link_fx fx;
	uint8_t ring[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
	assert_int_equal(link_fx_setup(&fx, NULL), 0);

	struct pbuf *pb = make_ip(&fx, 9, 40);
	pb->ext[0].ptr = ring;
	pb->ext[0].len = 5;
	pb->ext[1].ptr = ring + 5;
	pb->ext[1].len = 3;
	assert_int_equal(link_output_ipv4(&fx.link, pb, PEER_IP), 0);
	memset(ring, 0xee, sizeof(ring));
	recdev_clear(&fx.rd);
	rx_reply_from(&fx, host_mac2, PEER_IP);
	assert_int_equal(fx.rd.n_sent, 1);
	const struct recdev_frame *f = recdev_frame(&fx.rd, 0);
	assert_int_equal(f->len, ETH_HDR_LEN + 48);
	static const uint8_t expect[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
	assert_memory_equal(f->bytes + ETH_HDR_LEN + 40, expect, 8);
	assert_int_equal(link_fx_teardown(&fx), 0);
}

/* The cache never holds more than arp_cache_size entries; the oldest goes first. */
static void test_arp_cache_bound_and_eviction(void **state)
{
	(void)state;
	struct link_fx fx;
	struct link_config cfg;
	uint8_t mac[6];
	link_config_default(&cfg);
	cfg.arp_cache_size = 4;
	assert_int_equal(link_fx_setup(&fx, &cfg), 0);

	/* 5 s apart: an entry confirmed in the last 5 s is in use and never evicted */
	for (uint32_t i = 0; i < 10; i++) {
		uint8_t m[6] = { 0x02, 0, 0, 0, 1, (uint8_t)(10 + i) };
		rx_request_from(&fx, m, 0x0a000010u + i, OUR_IP);
		link_fx_advance(&fx, LINK_ARP_IN_USE_MS * USEC_PER_MS);
		assert_true(fx.link.cache_used <= 4);
	}
	assert_int_equal(fx.link.cache_used, 4);
	assert_int_equal(fx.link.arp.cache_inserts, 10);
	assert_int_equal(fx.link.arp.cache_evictions, 6);
	for (uint32_t i = 0; i < 6; i++)
		assert_false(arp_cache_lookup(&fx.link, 0x0a000010u + i, mac));
	for (uint32_t i = 6; i < 10; i++)
		assert_true(arp_cache_lookup(&fx.link, 0x0a000010u + i, mac));
	/* every request was still answered */
	assert_int_equal(fx.link.arp.tx_replies, 10);

	/* a stale entry is evicted before a fresher reachable one, whatever their ages */
	link_fx_advance(&fx, 30 * USEC_PER_SEC);        /* all four now STALE */
	for (uint32_t i = 6; i < 10; i++)
		assert_int_equal(arp_cache_state(&fx.link, 0x0a000010u + i), ARP_STALE);
	rx_request_from(&fx, host_mac, HOST_IP, OUR_IP);  /* evicts the oldest stale: .16 */
	assert_false(arp_cache_lookup(&fx.link, 0x0a000016u, mac));
	rx_request_from(&fx, host_mac2, PEER_IP, OUR_IP); /* evicts stale .17, not reachable HOST */
	assert_true(arp_cache_lookup(&fx.link, HOST_IP, mac));
	assert_false(arp_cache_lookup(&fx.link, 0x0a000017u, mac));
	assert_int_equal(fx.link.cache_used, 4);
	assert_int_equal(link_fx_teardown(&fx), 0);
}

/*
 * An evicted resolving entry drops its parked packets with their own counter. It may be
 * evicted only once it has resolved for arp_retry_ms; a newcomer before that is refused.
 */
static void test_arp_eviction_drops_pending(void **state)
{
	(void)state;
	struct link_fx fx;
	struct link_config cfg;
	link_config_default(&cfg);
	cfg.arp_cache_size = 1;
	assert_int_equal(link_fx_setup(&fx, &cfg), 0);

	link_output_ipv4(&fx.link, make_ip(&fx, 1, 40), PEER_IP);
	assert_int_equal(link_output_ipv4(&fx.link, make_ip(&fx, 2, 40), PEER_IP + 1), -ENOBUFS);
	assert_int_equal(fx.link.arp.out_drop_resolving_full, 1);
	assert_int_equal(fx.link.arp.cache_evictions, 0);
	link_fx_advance(&fx, cfg.arp_retry_ms * USEC_PER_MS);
	link_output_ipv4(&fx.link, make_ip(&fx, 2, 40), PEER_IP + 1);
	assert_int_equal(fx.link.arp.cache_evictions, 1);
	assert_int_equal(fx.link.arp.pending_drop_evicted, 1);
	assert_int_equal(arp_cache_state(&fx.link, PEER_IP), ARP_FREE);
	assert_int_equal(arp_cache_state(&fx.link, PEER_IP + 1), ARP_INCOMPLETE);
	assert_int_equal(link_fx_teardown(&fx), 0);
}

/*
 * Expiry: REACHABLE for 30 s after confirmation, then STALE (still used); an unused STALE
 * entry is gone 60 s later.
 */
static void test_arp_cache_expiry(void **state)
{
	(void)state;
	struct link_fx fx;
	uint8_t mac[6];
	assert_int_equal(link_fx_setup(&fx, NULL), 0);

	rx_request_from(&fx, host_mac, HOST_IP, OUR_IP);
	link_fx_advance(&fx, 30 * USEC_PER_SEC - 1);
	assert_int_equal(arp_cache_state(&fx.link, HOST_IP), ARP_REACHABLE);
	link_fx_advance(&fx, 1);
	assert_int_equal(arp_cache_state(&fx.link, HOST_IP), ARP_STALE);
	assert_true(arp_cache_lookup(&fx.link, HOST_IP, mac));
	link_fx_advance(&fx, 60 * USEC_PER_SEC - 1);
	assert_int_equal(arp_cache_state(&fx.link, HOST_IP), ARP_STALE);
	link_fx_advance(&fx, 1);
	assert_int_equal(arp_cache_state(&fx.link, HOST_IP), ARP_FREE);
	assert_false(arp_cache_lookup(&fx.link, HOST_IP, mac));
	assert_int_equal(fx.link.arp.cache_expired, 1);
	assert_int_equal(fx.link.cache_used, 0);
	assert_int_equal(timer_next(&fx.core.timers), USEC_NEVER);
	assert_int_equal(link_fx_teardown(&fx), 0);
}

/* A confirmation during REACHABLE pushes the expiry out. */
static void test_arp_confirmation_extends_reachable(void **state)
{
	(void)state;
	struct link_fx fx;
	assert_int_equal(link_fx_setup(&fx, NULL), 0);

	rx_request_from(&fx, host_mac, HOST_IP, OUR_IP);
	link_fx_advance(&fx, 20 * USEC_PER_SEC);
	rx_reply_from(&fx, host_mac, HOST_IP);
	link_fx_advance(&fx, 20 * USEC_PER_SEC);          /* 40 s after the first, 20 after the second */
	assert_int_equal(arp_cache_state(&fx.link, HOST_IP), ARP_REACHABLE);
	link_fx_advance(&fx, 10 * USEC_PER_SEC);
	assert_int_equal(arp_cache_state(&fx.link, HOST_IP), ARP_STALE);
	assert_int_equal(link_fx_teardown(&fx), 0);
}

/* Using a STALE entry sends the packet at once and verifies the MAC with unicast probes. */
static void test_arp_stale_use_probes(void **state)
{
	(void)state;
	struct link_fx fx;
	uint8_t expect[60];
	static const uint8_t zero[6] = { 0 };
	assert_int_equal(link_fx_setup(&fx, NULL), 0);

	rx_request_from(&fx, host_mac, HOST_IP, OUR_IP);
	link_fx_advance(&fx, 31 * USEC_PER_SEC);
	recdev_clear(&fx.rd);
	assert_int_equal(link_output_ipv4(&fx.link, make_ip(&fx, 7, 40), HOST_IP), 0);
	assert_int_equal(fx.rd.n_sent, 2);
	build_arp(expect, host_mac, ARP_OP_REQUEST, our_mac, OUR_IP, zero, HOST_IP);
	memcpy(expect + 6, our_mac, 6);
	assert_memory_equal(recdev_frame(&fx.rd, 0)->bytes, expect, 60);   /* unicast probe */
	assert_memory_equal(recdev_frame(&fx.rd, 1)->bytes, host_mac, 6);   /* the datagram */
	assert_int_equal(arp_cache_state(&fx.link, HOST_IP), ARP_PROBE);
	assert_int_equal(fx.link.arp.tx_probes, 1);

	/* the answer makes it REACHABLE again */
	rx_reply_from(&fx, host_mac, HOST_IP);
	assert_int_equal(arp_cache_state(&fx.link, HOST_IP), ARP_REACHABLE);
	link_fx_advance(&fx, 5 * USEC_PER_SEC);
	assert_int_equal(fx.link.arp.tx_probes, 1);

	/* stale again, used, never answered: 3 probes 1 s apart, then the entry is gone */
	link_fx_advance(&fx, 30 * USEC_PER_SEC);
	assert_int_equal(arp_cache_state(&fx.link, HOST_IP), ARP_STALE);
	assert_int_equal(link_output_ipv4(&fx.link, make_ip(&fx, 8, 40), HOST_IP), 0);
	link_fx_advance(&fx, USEC_PER_SEC);
	link_fx_advance(&fx, USEC_PER_SEC);
	assert_int_equal(fx.link.arp.tx_probes, 4);
	assert_int_equal(arp_cache_state(&fx.link, HOST_IP), ARP_PROBE);
	link_fx_advance(&fx, USEC_PER_SEC);
	assert_int_equal(arp_cache_state(&fx.link, HOST_IP), ARP_FREE);
	assert_int_equal(fx.link.arp.resolve_failed, 1);
	assert_int_equal(link_fx_teardown(&fx), 0);
}

/* Broadcast and multicast next hops need no ARP. */
static void test_arp_broadcast_and_multicast_next_hop(void **state)
{
	(void)state;
	struct link_fx fx;
	static const uint8_t mdns[6] = { 0x01, 0x00, 0x5e, 0x00, 0x00, 0xfb };
	assert_int_equal(link_fx_setup(&fx, NULL), 0);

	assert_int_equal(link_output_ipv4(&fx.link, make_ip(&fx, 1, 40), 0xffffffffu), 0);
	assert_int_equal(link_output_ipv4(&fx.link, make_ip(&fx, 2, 40), 0x0a0000ffu), 0);
	assert_int_equal(link_output_ipv4(&fx.link, make_ip(&fx, 3, 40), 0xe00000fbu), 0); /* 224.0.0.251 */
	assert_int_equal(fx.rd.n_sent, 3);
	assert_memory_equal(recdev_frame(&fx.rd, 0)->bytes, bcast, 6);
	assert_memory_equal(recdev_frame(&fx.rd, 1)->bytes, bcast, 6);
	assert_memory_equal(recdev_frame(&fx.rd, 2)->bytes, mdns, 6);
	assert_int_equal(fx.link.arp.tx_requests, 0);
	assert_int_equal(fx.link.cache_used, 0);

	/* 0.0.0.0 and our own address are refused and counted */
	assert_int_equal(link_output_ipv4(&fx.link, make_ip(&fx, 4, 40), 0), -EINVAL);
	assert_int_equal(link_output_ipv4(&fx.link, make_ip(&fx, 5, 40), OUR_IP), -EINVAL);
	assert_int_equal(fx.link.arp.out_drop_bad_next_hop, 2);
	assert_int_equal(link_fx_teardown(&fx), 0);
}

static void test_arp_gratuitous_at_start(void **state)
{
	(void)state;
	struct link_fx fx;
	assert_int_equal(link_fx_setup(&fx, NULL), 0);

	link_start(&fx.link);
	assert_int_equal(fx.rd.n_sent, 1);
	assert_memory_equal(recdev_frame(&fx.rd, 0)->bytes, gratuitous_from_us, 60);
	assert_int_equal(fx.link.arp.tx_gratuitous, 1);
	assert_int_equal(link_fx_teardown(&fx), 0);

	struct link_config cfg;
	link_config_default(&cfg);
	cfg.arp_gratuitous = false;
	assert_int_equal(link_fx_setup(&fx, &cfg), 0);
	link_start(&fx.link);
	assert_int_equal(fx.rd.n_sent, 0);
	assert_int_equal(link_fx_teardown(&fx), 0);
}

/* Every prefix of every ARP fixture through ether_input + arp_input: no crash, no leak. */
static void test_arp_every_truncation(void **state)
{
	(void)state;
	struct link_fx fx;
	const uint8_t *fixtures[] = { fx_frame_arp_request, reply_from_us, req_from_us_for_peer, gratuitous_from_us };
	assert_int_equal(link_fx_setup(&fx, NULL), 0);

	for (size_t i = 0; i < 4; i++)
		for (uint32_t len = 0; len <= 60; len++)
			(void)link_fx_rx(&fx, fixtures[i], len);
	/*
	 * Prefixes of 14..41 bytes of the three broadcast fixtures are truncated ARP. Of the
	 * whole ones, only fx_frame_arp_request is answered (42..60 bytes: 19 replies); reply_from_us is
	 * addressed to the host's MAC, and the two frames from us carry our own MAC as sender.
	 */
	assert_int_equal(fx.link.arp.drop_truncated, 3 * ARP_PKT_LEN);
	assert_int_equal(fx.link.arp.tx_replies, 60 - (ETH_HDR_LEN + ARP_PKT_LEN) + 1);
	assert_int_equal(fx.link.arp.drop_bad_sender_mac, 2 * (60 - (ETH_HDR_LEN + ARP_PKT_LEN) + 1));
	assert_int_equal(fx.link.eth.drop_not_for_us, 60 - ETH_HDR_LEN + 1);
	assert_int_equal(link_fx_teardown(&fx), 0);
}

/* Learns n requesters 10.0.0.(base+i), each with its own MAC, at the current time. */
static void learn_requesters(struct link_fx *fx, uint32_t base, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++) {
		uint8_t m[6] = { 0x02, 0, 0, 0, 2, (uint8_t)(base + i) };
		rx_request_from(fx, m, 0x0a000000u + base + i, OUR_IP);
	}
}

/*
 * A flood of unresolved next hops (what SYN-ACKs to spoofed on-link sources cause) holds at
 * most arp_incomplete_max entries and never evicts a neighbour in use: the REACHABLE host
 * keeps its entry and its traffic goes out at once. A resolution younger than arp_retry_ms
 * is not replaced: the flood's newcomers are refused without a request
 * (out_drop_resolving_full); an older one is (cache_evict_incomplete).
 */
static void test_arp_flood_of_unresolved_spares_reachable(void **state)
{
	(void)state;
	struct link_fx fx;
	struct link_config cfg;
	uint8_t mac[6];
	link_config_default(&cfg);
	assert_int_equal(cfg.arp_incomplete_max, 16);
	cfg.arp_cache_size = 8;
	cfg.arp_incomplete_max = 4;
	assert_int_equal(link_fx_setup(&fx, &cfg), 0);

	rx_request_from(&fx, host_mac, HOST_IP, OUR_IP);
	link_fx_advance(&fx, 20 * USEC_PER_SEC);     /* REACHABLE, but not confirmed lately */
	for (uint32_t i = 0; i < 100; i++) {    /* 10.0.0.100 - 10.0.0.199, 1 ms apart */
		int want = i < 4 ? 0 : -ENOBUFS;
		assert_int_equal(link_output_ipv4(&fx.link, make_ip(&fx, 1, 40), 0x0a000064u + i), want);
		assert_int_equal(arp_cache_state(&fx.link, HOST_IP), ARP_REACHABLE);
		link_fx_advance(&fx, USEC_PER_MS);
	}
	assert_int_equal(fx.link.cache_used, 5);
	assert_int_equal(fx.link.arp.out_drop_resolving_full, 96);
	assert_int_equal(fx.link.arp.out_drop_cache_full, 0);
	assert_int_equal(fx.link.arp.tx_requests, 4);
	assert_int_equal(fx.link.arp.cache_evictions, 0);
	assert_int_equal(fx.link.pending_total, 4);
	assert_int_equal(fx.core.pool.cls[0].in_use, 4);

	/* 1 s after the first began, the oldest resolution gives way to the next address */
	link_fx_advance(&fx, cfg.arp_retry_ms * USEC_PER_MS - 100 * USEC_PER_MS);
	assert_int_equal(link_output_ipv4(&fx.link, make_ip(&fx, 1, 40), 0x0a0000c8u), 0);
	assert_int_equal(fx.link.arp.cache_evict_incomplete, 1);
	assert_int_equal(fx.link.arp.cache_evictions, 1);
	assert_int_equal(fx.link.arp.pending_drop_evicted, 1);
	assert_int_equal(arp_cache_state(&fx.link, 0x0a000064u), ARP_FREE);
	for (uint32_t i = 1; i <= 4; i++)
		assert_int_equal(arp_cache_state(&fx.link, 0x0a000064u + (i < 4 ? i : 100)), ARP_INCOMPLETE);

	/* the host's packets still go straight out */
	recdev_clear(&fx.rd);
	assert_int_equal(link_output_ipv4(&fx.link, make_ip(&fx, 7, 40), HOST_IP), 0);
	assert_int_equal(fx.rd.n_sent, 1);
	assert_memory_equal(recdev_frame(&fx.rd, 0)->bytes, host_mac, 6);

	/* a new requester (a legitimate client about to connect) takes a resolving entry's slot */
	learn_requesters(&fx, 20, 4);
	assert_true(arp_cache_lookup(&fx.link, 0x0a000014u, mac));
	assert_true(arp_cache_lookup(&fx.link, HOST_IP, mac));
	assert_int_equal(fx.link.arp.cache_full_not_learned, 0);
	assert_int_equal(link_fx_teardown(&fx), 0);
}

/*
 * When every entry is a neighbour in use, a new resolution takes nothing: its packet is
 * dropped and counted; a new requester is answered but not cached. Once the entries are
 * older than LINK_ARP_IN_USE_MS a requester may replace the oldest; an unresolved address
 * still may not.
 */
static void test_arp_full_of_reachable_refuses_newcomers(void **state)
{
	(void)state;
	struct link_fx fx;
	struct link_config cfg;
	uint8_t mac[6];
	link_config_default(&cfg);
	cfg.arp_cache_size = 4;
	assert_int_equal(link_fx_setup(&fx, &cfg), 0);

	learn_requesters(&fx, 10, 4);
	assert_int_equal(link_output_ipv4(&fx.link, make_ip(&fx, 1, 40), PEER_IP), -ENOBUFS);
	assert_int_equal(fx.link.arp.out_drop_cache_full, 1);
	assert_int_equal(fx.core.pool.cls[0].in_use, 0);
	recdev_clear(&fx.rd);
	rx_request_from(&fx, host_mac, HOST_IP, OUR_IP);
	assert_int_equal(fx.link.arp.cache_full_not_learned, 1);
	assert_int_equal(fx.rd.n_sent, 1);                     /* still answered */
	assert_false(arp_cache_lookup(&fx.link, HOST_IP, mac));
	assert_int_equal(fx.link.arp.cache_evictions, 0);

	link_fx_advance(&fx, LINK_ARP_IN_USE_MS * USEC_PER_MS);
	assert_int_equal(link_output_ipv4(&fx.link, make_ip(&fx, 2, 40), PEER_IP), -ENOBUFS);
	assert_int_equal(fx.link.arp.out_drop_cache_full, 2);
	rx_request_from(&fx, host_mac, HOST_IP, OUR_IP);
	assert_true(arp_cache_lookup(&fx.link, HOST_IP, mac));
	assert_int_equal(fx.link.arp.cache_evictions, 1);
	assert_int_equal(fx.link.cache_used, 4);
	assert_int_equal(link_fx_teardown(&fx), 0);
}

/* Over all neighbours at most arp_pending_total_max packets wait; the next is dropped. */
static void test_arp_pending_total_bound(void **state)
{
	(void)state;
	struct link_fx fx;
	struct link_config cfg;
	link_config_default(&cfg);
	assert_int_equal(cfg.arp_pending_total_max, 64);
	cfg.arp_pending_total_max = 5;
	cfg.arp_pending_max = 2;
	assert_int_equal(link_fx_setup(&fx, &cfg), 0);

	for (uint32_t i = 0; i < 3; i++)
		for (uint8_t tag = 1; tag <= 2; tag++)
			link_output_ipv4(&fx.link, make_ip(&fx, tag, 40), PEER_IP + i);
	assert_int_equal(fx.link.pending_total, 5);
	assert_int_equal(fx.link.arp.pending_queued, 5);
	assert_int_equal(fx.link.arp.pending_drop_total, 1);
	assert_int_equal(fx.core.pool.cls[0].in_use, 5);
	/* a full entry still swaps its oldest for the newest without exceeding the total */
	assert_int_equal(link_output_ipv4(&fx.link, make_ip(&fx, 3, 40), PEER_IP), 0);
	assert_int_equal(fx.link.pending_total, 5);
	/* the answer sends what waited and frees the room */
	recdev_clear(&fx.rd);
	rx_reply_from(&fx, host_mac2, PEER_IP);
	assert_int_equal(fx.link.pending_total, 3);
	assert_int_equal(link_fx_teardown(&fx), 0);
}


/* link_destroy frees parked packets and cancels timers. */
static void test_arp_destroy_frees_pending(void **state)
{
	(void)state;
	struct link_fx fx;
	assert_int_equal(link_fx_setup(&fx, NULL), 0);
	link_output_ipv4(&fx.link, make_ip(&fx, 1, 40), PEER_IP);
	link_output_ipv4(&fx.link, make_ip(&fx, 2, 40), PEER_IP + 1);
	assert_int_equal(fx.core.timers.n, 2);
	link_destroy(&fx.link);
	assert_int_equal(fx.core.timers.n, 0);
	assert_int_equal(fx.core.pool.cls[0].in_use, 0);
	assert_int_equal(link_fx_teardown(&fx), 0);   /* a second destroy is harmless */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_arp_fixture_roundtrip),
		cmocka_unit_test(test_arp_replies_to_request_for_us),
		cmocka_unit_test(test_arp_request_not_for_us_leaves_no_trace),
		cmocka_unit_test(test_arp_merge_rule_updates_known_sender),
		cmocka_unit_test(test_arp_validation_counters),
		cmocka_unit_test(test_arp_probe_for_us_answered),
		cmocka_unit_test(test_arp_resolution_retries_then_fails),
		cmocka_unit_test(test_arp_resolution_retries_configurable),
		cmocka_unit_test(test_arp_pending_flushed_in_order),
		cmocka_unit_test(test_arp_pending_queue_bound),
		cmocka_unit_test(test_arp_pending_linearized),
		cmocka_unit_test(test_arp_cache_bound_and_eviction),
		cmocka_unit_test(test_arp_eviction_drops_pending),
		cmocka_unit_test(test_arp_cache_expiry),
		cmocka_unit_test(test_arp_confirmation_extends_reachable),
		cmocka_unit_test(test_arp_stale_use_probes),
		cmocka_unit_test(test_arp_broadcast_and_multicast_next_hop),
		cmocka_unit_test(test_arp_gratuitous_at_start),
		cmocka_unit_test(test_arp_every_truncation),
		cmocka_unit_test(test_arp_destroy_frees_pending),
		cmocka_unit_test(test_arp_flood_of_unresolved_spares_reachable),
		cmocka_unit_test(test_arp_full_of_reachable_refuses_newcomers),
		cmocka_unit_test(test_arp_pending_total_bound),
	};
	return cmocka_run_group_tests_name("arp", tests, NULL, NULL);
}
