/*
 * test_flood.c - floods against a whole stack on the fake clock (tests/unit/helpers/
 * tcp_harness.c), each checking that the legitimate traffic beside it is still served:
 *
 *   - a SYN flood from spoofed on-link addresses: every SYN-ACK needs an ARP resolution that
 *     never completes; the neighbour table (stack/link/arp.c) keeps the established client's
 *     entry and a new client's, so neither waits for ARP (docs/arp.md, "Under attack").
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "helpers/tcp_harness.h"
#include "socket/socket.h"
#include "wire/arp.h"
#include "wire/ethernet.h"

#define DATA (TCP_FLAG_ACK | TCP_FLAG_PSH)
#define NEW_CLIENT_IP 0x0a000003u    /* 10.0.0.3 */

/* An ARP request "who has 10.0.0.2? tell ip" from the peer's MAC, as a Linux client sends
 * before its first SYN. */
static void inject_arp_request(struct th *h, uint32_t ip)
{
	static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	uint8_t frame[ETH_MIN_FRAME] = { 0 };
	struct eth_hdr eh = { .type = ETHERTYPE_ARP };
	struct arp_pkt a = {
		.htype = ARP_HTYPE_ETHERNET, .ptype = ETHERTYPE_IPV4, .hlen = ETH_ALEN, .plen = 4,
		.oper = ARP_OP_REQUEST, .spa = ip, .tpa = TH_LOCAL_IP,
	};

	memcpy(eh.dst, bcast, ETH_ALEN);
	memcpy(eh.src, th_peer_mac, ETH_ALEN);
	memcpy(a.sha, th_peer_mac, ETH_ALEN);
	eth_hdr_emit(frame, &eh);
	arp_pkt_emit(frame + ETH_HDR_LEN, &a);
	th_inject(h, frame, sizeof(frame));
}

/* n SYNs to port 80 from spoofed on-link sources 10.0.0.(first + i % 150), none of which
 * will ever answer ARP. */
static void syn_flood(struct th *h, uint32_t first, uint32_t n)
{
	uint32_t ip = h->peer_ip;
	uint16_t port = h->peer_port;

	for (uint32_t i = 0; i < n; i++) {
		h->peer_ip = 0x0a000000u + first + i % 150;
		h->peer_port = (uint16_t)(1024 + i);
		th_send(h, TCP_FLAG_SYN, 7000 + i, 0, 65535, NULL, NULL, 0);
	}
	h->peer_ip = ip;
	h->peer_port = port;
}

/*
 * The attack of issue 11: on-link SYN sources starved real clients because each flood
 * address's unresolved entry evicted a resolved one. Now the flood holds at most
 * arp_incomplete_max entries, costs no ARP request beyond those (the rest are refused until
 * the oldest has resolved for a second), and never evicts a neighbour in use: the established client's
 * data goes both ways without a single ARP request, and a client that arrives during the
 * flood (ARP request first, as Linux does, then its SYN after more flood) gets its SYN-ACK
 * at once. ARP answers are switched off, so any lost entry would show as a missing segment.
 */
static void test_onlink_syn_flood_spares_clients(void **state)
{
	(void)state;
	struct th *h = th_new(NULL);
	int fd = th_established(h);
	uint32_t arp_before;
	uint64_t reqs_before;

	h->answer_arp = false;
	arp_before = h->arp_seen;
	reqs_before = th_counter(h, "tcp", "ReqCreated");
	syn_flood(h, 10, 600);
	/* 10.0.0.10-25 resolve (64 SYNs); the other 134 addresses' 536 SYN-ACKs are refused */
	assert_int_equal(th_counter(h, "arp", "out_drop_resolving_full"), 536);
	/* and the cookie SYN-ACKs for those were never built: the SYN queue's entries and the
	 * cookies sent add up to the 64 SYNs from the addresses being resolved */
	assert_int_equal(th_counter(h, "tcp", "SyncookiesSent") + th_counter(h, "tcp", "ReqCreated") - reqs_before, 64);
	assert_int_equal(th_counter(h, "arp", "cache_evict_incomplete"), 0);
	assert_int_equal(th_counter(h, "arp", "out_drop_cache_full"), 0);
	th_expect_none(h);    /* every SYN-ACK waits for an ARP answer that never comes */
	assert_int_equal(h->arp_seen - arp_before, 16);

	arp_before = h->arp_seen;
	assert_int_equal(ts_send(th_sl(h), fd, "abc", 3, 0), 3);
	th_expect(h, DATA, h->iss + 1, h->irs + 1, TH_ANY, NULL, 3);
	th_send(h, DATA, h->irs + 1, h->iss + 4, 65535, NULL, "hello", 5);
	th_expect(h, TCP_FLAG_ACK, h->iss + 4, h->irs + 6, TH_ANY, NULL, 0);
	assert_int_equal(h->arp_seen, arp_before);

	inject_arp_request(h, NEW_CLIENT_IP);
	th_drain(h);          /* our ARP reply */
	syn_flood(h, 10, 300);
	h->peer_ip = NEW_CLIENT_IP;
	h->peer_port = 50000;
	th_expect_none(h);    /* also counts the flood's ARP requests */
	arp_before = h->arp_seen;
	th_send(h, TCP_FLAG_SYN, h->irs, 0, 65535, NULL, NULL, 0);
	th_expect(h, TCP_FLAG_SYN | TCP_FLAG_ACK, TH_ANY, h->irs + 1, TH_ANY, TH_ANY_OPTS, 0);
	assert_int_equal(h->arp_seen, arp_before);
	th_free(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_onlink_syn_flood_spares_clients),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
