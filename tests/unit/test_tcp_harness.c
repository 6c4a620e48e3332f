/*
 * test_tcp_harness.c - the packet-test bench itself (tests/unit/helpers/tcp_harness.c):
 * the frames it builds are exact (every checksum verifies independently, short frames are
 * padded like a real wire, options round-trip), the peer's ARP entry is set up, and the fake
 * clock moves exactly as told. The TCP tests rely on all of this.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "core/byteorder.h"
#include "core/checksum.h"
#include "helpers/tcp_harness.h"
#include "wire/ethernet.h"
#include "wire/ipv4.h"

/* A SYN with Linux's options and 10 bytes of data: Ethernet to the stack's MAC, a valid
 * IPv4 header, a TCP checksum that verifies over the pseudo-header, options that parse back. */
static void test_harness_builds_exact_frames(void **state)
{
	struct th *h = *state;
	uint8_t f[TH_FRAME_MAX];
	struct tcp_opts o = th_linux_syn_opts(4242);
	uint32_t len = th_build(h, f, TCP_FLAG_SYN, 0xfffffff0u, 0, 64240, &o, "0123456789", 10);
	assert_int_equal(len, 14 + 20 + 40 + 10);
	assert_memory_equal(f, th_local_mac, 6);
	assert_memory_equal(f + 6, th_peer_mac, 6);
	assert_int_equal(get_be16(f + 12), ETHERTYPE_IPV4);
	struct ipv4_hdr ih;
	assert_int_equal(ipv4_hdr_parse(f + 14, len - 14, &ih), 0);
	assert_int_equal(ih.total_len, 20 + 40 + 10);
	assert_int_equal(ih.proto, 6);
	assert_int_equal(ih.src, TH_PEER_IP);
	assert_int_equal(ih.dst, TH_LOCAL_IP);
	assert_int_equal(csum_finish(csum_add(0, f + 14, 20)), 0);
	uint32_t sum = csum_pseudo_ipv4(TH_PEER_IP, TH_LOCAL_IP, 6, 50);
	assert_int_equal(csum_finish(csum_add(sum, f + 34, 50)), 0);
	struct tcp_hdr th;
	assert_int_equal(tcp_hdr_parse(f + 34, 50, &th), TCP_PARSE_OK);
	assert_int_equal(th.sport, TH_PEER_PORT);
	assert_int_equal(th.dport, 80);
	assert_int_equal(th.seq, 0xfffffff0u);
	assert_int_equal(th.flags, TCP_FLAG_SYN);
	assert_int_equal(th.win, 64240);
	assert_int_equal(th.doff, 40);
	assert_true(th.opts.has_mss && th.opts.mss == 1460);
	assert_true(th.opts.sack_ok);
	assert_true(th.opts.has_ts && th.opts.ts_val == 4242 && th.opts.ts_ecr == 0);
	assert_true(th.opts.has_wscale && th.opts.wscale == 7);
	assert_memory_equal(f + 74, "0123456789", 10);

	/* A bare ACK is 54 bytes: padded to the 60-byte minimum with zeros. */
	len = th_build(h, f, TCP_FLAG_ACK, 1, 2, 3, NULL, NULL, 0);
	assert_int_equal(len, 60);
	assert_int_equal(get_be16(f + 14 + 2), 40);
	for (int i = 54; i < 60; i++)
		assert_int_equal(f[i], 0);
}

/* th_new() left the peer's ARP entry in place: the stack answered the request (an ARP frame
 * was seen) and the IPv4 frames the tests send are taken in by the link layer. */
static void test_harness_peer_learned(void **state)
{
	struct th *h = *state;
	assert_true(h->arp_seen >= 1);
	assert_int_equal(th_pending(h), 0);
	uint64_t before = th_counter(h, "eth", "rx_frames");
	th_send(h, TCP_FLAG_ACK, 1, 2, 3, NULL, NULL, 0);
	assert_int_equal(th_counter(h, "eth", "rx_frames"), before + 1);
}

/* The fake clock: th_advance moves the stack's time exactly; waiting for a segment that
 * never comes returns -1 after exactly the limit. */
static void test_harness_clock(void **state)
{
	struct th *h = *state;
	assert_int_equal(h->now, TH_START_USEC);
	th_advance(h, 1500);
	assert_int_equal(h->now, TH_START_USEC + 1500 * USEC_PER_MS);
	assert_int_equal(h->st.core.now, h->now);
	assert_int_equal(th_advance_until_seg(h, 2000), -1);
	assert_int_equal(h->now, TH_START_USEC + 3500 * USEC_PER_MS);
	th_expect_none(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_harness_builds_exact_frames, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_harness_peer_learned, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_harness_clock, th_setup, th_teardown),
	};
	return cmocka_run_group_tests_name("tcp_harness", tests, NULL, NULL);
}
