/*
 * test_resend.c - the relay's count of TCP payload sent again (tests/relay/resend.c):
 * first copies are not counted, whole and partial repeats are, sequence numbers wrap,
 * flows are kept apart, anything but a whole IPv4 TCP segment is ignored, and the flow
 * table stays bounded.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "tests/relay/resend.h"
#include "wire/ethernet.h"
#include "wire/ipv4.h"
#include "wire/tcp.h"

#define SRV IPV4_ADDR(10, 0, 0, 2)
#define CLI IPV4_ADDR(10, 0, 0, 1)

/* An Ethernet frame of one IPv4 TCP segment with payload bytes; returns its length. */
static size_t seg(uint8_t *f, uint16_t sport, uint32_t seq, uint8_t flags, uint16_t payload)
{
	struct ipv4_hdr ip = { .version = 4, .ihl = 20, .ttl = 64, .proto = IPPROTO_TCP_NUM,
			       .src = SRV, .dst = CLI };
	struct tcp_hdr th = { .sport = sport, .dport = 40000, .seq = seq, .ack = 1, .flags = flags,
			      .win = 65535 };
	size_t tlen;

	memset(f, 0, 1514);
	put_be16(f + ETH_OFF_TYPE, ETHERTYPE_IPV4);
	tlen = tcp_hdr_emit(f + ETH_HDR_LEN + 20, &th);
	ip.total_len = (uint16_t)(20 + tlen + payload);
	ipv4_hdr_emit(f + ETH_HDR_LEN, &ip);
	return ETH_HDR_LEN + ip.total_len;
}

/* SYN, three new segments, one whole repeat, one that overlaps by 500 bytes. */
static void test_resend_counts_repeats(void **state)
{
	(void)state;
	struct resend r = { 0 };
	uint8_t f[1514];

	resend_frame(&r, f, seg(f, 80, 999, TCP_FLAG_SYN | TCP_FLAG_ACK, 0));
	for (uint32_t i = 0; i < 3; i++)
		resend_frame(&r, f, seg(f, 80, 1000 + i * 1000, TCP_FLAG_ACK, 1000));
	assert_int_equal(r.payload_bytes, 3000);
	assert_int_equal(r.resent_bytes, 0);
	resend_frame(&r, f, seg(f, 80, 2000, TCP_FLAG_ACK, 1000));
	assert_int_equal(r.resent_bytes, 1000);
	resend_frame(&r, f, seg(f, 80, 3500, TCP_FLAG_ACK, 1000));
	assert_int_equal(r.resent_bytes, 1500);
	assert_int_equal(r.payload_bytes, 5000);
	/* a FIN takes one sequence number, not a payload byte: the next data is new */
	resend_frame(&r, f, seg(f, 80, 4500, TCP_FLAG_ACK | TCP_FLAG_FIN, 0));
	assert_int_equal(r.flows[0].high, 4501);
	assert_int_equal(r.resent_bytes, 1500);
	assert_int_equal(r.flows[0].resent_bytes, 1500);
}

/* Across 2^32: a segment just below the wrap repeated after data beyond it. */
static void test_resend_wraps(void **state)
{
	(void)state;
	struct resend r = { 0 };
	uint8_t f[1514];

	resend_frame(&r, f, seg(f, 80, 0xfffffc00u, TCP_FLAG_ACK, 1000));
	resend_frame(&r, f, seg(f, 80, 0xfffffc00u + 1000, TCP_FLAG_ACK, 1000));
	assert_int_equal(r.resent_bytes, 0);
	resend_frame(&r, f, seg(f, 80, 0xfffffc00u, TCP_FLAG_ACK, 1000));
	assert_int_equal(r.resent_bytes, 1000);
	resend_frame(&r, f, seg(f, 80, 0xfffffc00u + 2000, TCP_FLAG_ACK, 1000));
	assert_int_equal(r.resent_bytes, 1000);
}

/* Two flows, the same sequence numbers: neither counts the other's data as a repeat. */
static void test_resend_flows_apart(void **state)
{
	(void)state;
	struct resend r = { 0 };
	uint8_t f[1514];

	resend_frame(&r, f, seg(f, 80, 5000, TCP_FLAG_ACK, 1000));
	resend_frame(&r, f, seg(f, 81, 5000, TCP_FLAG_ACK, 1000));
	resend_frame(&r, f, seg(f, 81, 5000, TCP_FLAG_ACK, 1000));
	assert_int_equal(r.resent_bytes, 1000);
	assert_int_equal(r.flows[0].resent_bytes, 0);
	assert_int_equal(r.flows[1].resent_bytes, 1000);
}

/* ARP, a truncated frame, a fragment, a lying total length: ignored, no flow made. */
static void test_resend_ignores_the_rest(void **state)
{
	(void)state;
	struct resend r = { 0 };
	uint8_t f[1514];
	size_t len = seg(f, 80, 1, TCP_FLAG_ACK, 100);

	put_be16(f + ETH_OFF_TYPE, ETHERTYPE_ARP);
	resend_frame(&r, f, len);
	put_be16(f + ETH_OFF_TYPE, ETHERTYPE_IPV4);
	resend_frame(&r, f, 10);
	resend_frame(&r, f, ETH_HDR_LEN + 30);
	put_be16(f + ETH_HDR_LEN + IPV4_OFF_TOTLEN, 1400);      /* more than the frame holds */
	resend_frame(&r, f, len);
	len = seg(f, 80, 1, TCP_FLAG_ACK, 100);
	put_be16(f + ETH_HDR_LEN + IPV4_OFF_FRAG, IPV4_FLAG_MF);
	resend_frame(&r, f, len);
	assert_int_equal(r.frames, 5);
	for (int i = 0; i < RESEND_FLOWS; i++)
		assert_int_equal(r.flows[i].used, 0);
	assert_int_equal(r.payload_bytes, 0);
}

/* One flow more than the table holds: the least recently used one is forgotten. */
static void test_resend_bounded(void **state)
{
	(void)state;
	struct resend r = { 0 };
	uint8_t f[1514];

	for (uint16_t p = 0; p < RESEND_FLOWS; p++)
		resend_frame(&r, f, seg(f, (uint16_t)(1000 + p), 1, TCP_FLAG_ACK, 10));
	resend_frame(&r, f, seg(f, 1000, 11, TCP_FLAG_ACK, 10));      /* flow 1000 used again */
	assert_int_equal(r.evicted, 0);
	resend_frame(&r, f, seg(f, 5000, 1, TCP_FLAG_ACK, 10));
	assert_int_equal(r.evicted, 1);
	for (int i = 0; i < RESEND_FLOWS; i++)
		assert_int_not_equal(r.flows[i].sport, 1001);          /* the oldest went */
	resend_frame(&r, f, seg(f, 1000, 1, TCP_FLAG_ACK, 10));       /* still known: a repeat */
	assert_int_equal(r.resent_bytes, 10);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_resend_counts_repeats),
		cmocka_unit_test(test_resend_wraps),
		cmocka_unit_test(test_resend_flows_apart),
		cmocka_unit_test(test_resend_ignores_the_rest),
		cmocka_unit_test(test_resend_bounded),
	};
	return cmocka_run_group_tests_name("resend", tests, NULL, NULL);
}
