/*
 * test_icmp.c - ICMP (stack/ip/icmp.c, docs/icmp.md): the echo header round-trips from a
 * byte fixture; a ping is answered with identical id, sequence and data; bad checksums,
 * truncated messages and broadcast pings are dropped with their own counters; an 8000-byte
 * ping in fragments is answered with fragments that reassemble (in a second stack) to the
 * identical payload; protocol unreachable quotes the datagram and is rate-limited like
 * Linux; no error is ever sent about a broadcast, an ICMP error or a non-first fragment.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "helpers/ip_fixture.h"

/* ICMP echo request: id 0x1c46, seq 1, 16 data bytes (the ICMP part of a ping -s 16). */
static const uint8_t echo_fixture[] = {
	0x08, 0x00, 0x00, 0x00, 0x1c, 0x46, 0x00, 0x01, 0x10, 0x11, 0x12, 0x13,
	0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f,
};

static void test_icmp_header_roundtrip(void **state)
{
	(void)state;
	struct icmp_hdr h;
	uint8_t out[ICMP_HDR_LEN];

	assert_int_equal(icmp_hdr_parse(echo_fixture, sizeof(echo_fixture), &h), 0);
	assert_int_equal(h.type, ICMP_ECHO_REQUEST);
	assert_int_equal(h.code, 0);
	assert_int_equal(h.rest, 0x1c460001u);
	icmp_hdr_emit(out, &h);
	assert_memory_equal(out, echo_fixture, ICMP_HDR_LEN);
	assert_int_equal(icmp_hdr_parse(echo_fixture, ICMP_HDR_LEN - 1, &h), -1);
}

static uint8_t req[65536], pkt[65536];

/* Sends an echo request of n data bytes from the peer to dst; returns ipv4_input's result. */
static int send_ping(struct ip_fx *fx, uint32_t dst, uint32_t n, uint8_t flags)
{
	uint32_t ilen = ip_fx_echo(req, 0x1c46, 7, n);
	uint32_t len = ip_fx_build(pkt, IP_FX_PEER, dst, IPPROTO_ICMP_NUM, 0x55, 0, req, ilen);
	return ip_fx_input(fx, pkt, len, flags);
}

/* RFC 792: the reply swaps the addresses, type 0, same id/seq/data, valid checksums. */
static void test_icmp_echo_reply(void **state)
{
	(void)state;
	struct ip_fx fx;
	struct ipv4_hdr h;

	assert_int_equal(ip_fx_setup(&fx, NULL, NULL), 0);
	assert_int_equal(send_ping(&fx, IP_FX_US, 56, 0), 1);
	const struct recdev_frame *f = ip_fx_sent_ipv4(&fx, 0);
	assert_non_null(f);
	assert_memory_equal(f->bytes, ip_fx_peer_mac, ETH_ALEN);
	assert_int_equal(ipv4_hdr_parse(f->bytes + ETH_HDR_LEN, f->len - ETH_HDR_LEN, &h), 0);
	assert_int_equal(h.src, IP_FX_US);
	assert_int_equal(h.dst, IP_FX_PEER);
	assert_int_equal(h.proto, IPPROTO_ICMP_NUM);
	assert_int_equal(h.total_len, 20 + 8 + 56);
	const uint8_t *icmp = f->bytes + ETH_HDR_LEN + 20;
	assert_int_equal(icmp[0], ICMP_ECHO_REPLY);
	assert_int_equal(icmp[1], 0);
	assert_memory_equal(icmp + 4, req + 4, 4 + 56);    /* id, seq, data */
	assert_int_equal(csum_finish(csum_add(0, icmp, 8 + 56)), 0);
	assert_int_equal(ip_fx_counter(&fx, "icmp", "in_echo_requests"), 1);
	assert_int_equal(ip_fx_counter(&fx, "icmp", "out_echo_replies"), 1);
	assert_int_equal(ip_fx_teardown(&fx), 0);
}

/* Odd data lengths are checksummed with the zero pad byte (RFC 1071) both ways. */
static void test_icmp_echo_odd_length(void **state)
{
	(void)state;
	struct ip_fx fx;

	assert_int_equal(ip_fx_setup(&fx, NULL, NULL), 0);
	assert_int_equal(send_ping(&fx, IP_FX_US, 13, 0), 1);
	const struct recdev_frame *f = ip_fx_sent_ipv4(&fx, 0);
	assert_non_null(f);
	assert_int_equal(csum_finish(csum_add(0, f->bytes + ETH_HDR_LEN + 20, 8 + 13)), 0);
	assert_memory_equal(f->bytes + ETH_HDR_LEN + 20 + 4, req + 4, 4 + 13);
	assert_int_equal(ip_fx_teardown(&fx), 0);
}

/* Each bad message has its own counter and gets no answer. */
static void test_icmp_input_drops(void **state)
{
	(void)state;
	struct ip_fx fx;
	uint32_t ilen, len;

	/* Bad checksum. */
	assert_int_equal(ip_fx_setup(&fx, NULL, NULL), 0);
	ilen = ip_fx_echo(req, 1, 1, 32);
	req[20] ^= 0xff;
	len = ip_fx_build(pkt, IP_FX_PEER, IP_FX_US, IPPROTO_ICMP_NUM, 1, 0, req, ilen);
	assert_int_equal(ip_fx_input(&fx, pkt, len, 0), 1);
	assert_int_equal(ip_fx_counter(&fx, "icmp", "drop_bad_checksum"), 1);
	assert_int_equal(fx.rd.n_sent, 0);
	assert_int_equal(ip_fx_teardown(&fx), 0);

	/* Shorter than the 8-byte header. */
	assert_int_equal(ip_fx_setup(&fx, NULL, NULL), 0);
	len = ip_fx_build(pkt, IP_FX_PEER, IP_FX_US, IPPROTO_ICMP_NUM, 1, 0, echo_fixture, 7);
	assert_int_equal(ip_fx_input(&fx, pkt, len, 0), 1);
	assert_int_equal(ip_fx_counter(&fx, "icmp", "drop_truncated"), 1);
	assert_int_equal(fx.rd.n_sent, 0);
	assert_int_equal(ip_fx_teardown(&fx), 0);

	/* Echo requests to a broadcast address (IP or link) are ignored, like Linux's default. */
	assert_int_equal(ip_fx_setup(&fx, NULL, NULL), 0);
	assert_int_equal(send_ping(&fx, IPV4_BROADCAST, 8, 0), 1);
	assert_int_equal(send_ping(&fx, IPV4_ADDR(10, 0, 0, 255), 8, 0), 1);
	assert_int_equal(send_ping(&fx, IP_FX_US, 8, PBUF_F_BROADCAST), 1);
	assert_int_equal(ip_fx_counter(&fx, "icmp", "drop_echo_broadcast"), 3);
	assert_int_equal(fx.rd.n_sent, 0);
	assert_int_equal(ip_fx_teardown(&fx), 0);
}

/* With icmp_echo_ignore_broadcasts off, a broadcast ping is answered from our own address. */
static void test_icmp_echo_broadcast_when_enabled(void **state)
{
	(void)state;
	struct ip_fx fx;
	struct ip_config ic;

	ip_config_default(&ic);
	ic.icmp_echo_ignore_broadcasts = false;
	assert_int_equal(ip_fx_setup(&fx, NULL, &ic), 0);
	assert_int_equal(send_ping(&fx, IPV4_BROADCAST, 8, PBUF_F_BROADCAST), 1);
	const struct recdev_frame *f = ip_fx_sent_ipv4(&fx, 0);
	assert_non_null(f);
	assert_int_equal(get_be32(f->bytes + ETH_HDR_LEN + 12), IP_FX_US);
	assert_int_equal(ip_fx_teardown(&fx), 0);
}

/*
 * ping -s 8000 over MTU 1500: the request arrives in 6 fragments, the reply leaves in 6
 * fragments, and a second stack (the peer, 10.0.0.1) reassembles them to an identical
 * payload with type 0.
 */
static void test_icmp_echo_8000_fragmented(void **state)
{
	(void)state;
	struct ip_fx fx, peer;
	struct link_config lc;
	const uint32_t ilen = ip_fx_echo(req, 0x77, 3, 8000), chunk = 1480;
	int r = 0;

	assert_int_equal(ip_fx_setup(&fx, NULL, NULL), 0);
	for (uint32_t off = 0; off < ilen; off += chunk) {
		uint32_t n = ilen - off < chunk ? ilen - off : chunk;
		bool mf = off + n < ilen;
		uint32_t len = ip_fx_build(pkt, IP_FX_PEER, IP_FX_US, IPPROTO_ICMP_NUM, 0x99,
		                           (uint16_t)((mf ? IPV4_FLAG_MF : 0) | off / 8), req + off, n);
		r = ip_fx_input(&fx, pkt, len, 0);
		assert_int_equal(r, mf ? 0 : 1);
	}
	assert_int_equal(ip_fx_counter(&fx, "ip", "reass_ok"), 1);
	assert_int_equal(ip_fx_counter(&fx, "ip", "tx_fragments"), 6);
	assert_int_equal(fx.rd.n_sent, 6);

	/* The peer: 10.0.0.1 with our MAC in its cache, fed our frames through its input path. */
	link_config_default(&lc);
	lc.addr = IP_FX_PEER;
	memcpy(lc.mac, ip_fx_peer_mac, ETH_ALEN);
	assert_int_equal(ip_fx_setup(&peer, &lc, NULL), 0);
	struct pbuf *pb = NULL;
	struct ipv4_rx rx;
	for (uint32_t i = 0; i < fx.rd.n_sent; i++) {
		const struct recdev_frame *f = recdev_frame(&fx.rd, i);
		assert_true(f->len <= ETH_HDR_LEN + 1500);
		struct pbuf *in = pbuf_alloc(&peer.core.pool, PBUF_HEADROOM, f->len);
		memcpy(pbuf_put(in, f->len), f->bytes, f->len);
		assert_int_equal(ether_input(&peer.link, in), ETHERTYPE_IPV4);
		r = ipv4_input(&peer.ip, &in, &rx);
		assert_int_equal(r, i + 1 == fx.rd.n_sent ? 1 : 0);
		if (r == 1)
			pb = in;
	}
	assert_non_null(pb);
	assert_int_equal(rx.src, IP_FX_US);
	assert_int_equal(rx.proto, IPPROTO_ICMP_NUM);
	assert_int_equal(pb->len, ilen);
	assert_int_equal(pb->data[0], ICMP_ECHO_REPLY);
	assert_memory_equal(pb->data + 4, req + 4, ilen - 4);
	assert_int_equal(csum_finish(csum_add(0, pb->data, pb->len)), 0);
	pbuf_free(pb);
	assert_int_equal(ip_fx_teardown(&peer), 0);
	assert_int_equal(ip_fx_teardown(&fx), 0);
}

/* RFC 792/1122: protocol unreachable (type 3 code 2) to the sender, quoting the datagram. */
static void test_icmp_protocol_unreachable(void **state)
{
	(void)state;
	struct ip_fx fx;
	uint8_t data[700];
	struct ipv4_hdr h;

	for (uint32_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)i;
	assert_int_equal(ip_fx_setup(&fx, NULL, NULL), 0);

	/* Small datagram: all of it is quoted. */
	uint32_t len = ip_fx_build(pkt, IP_FX_PEER, IP_FX_US, 99, 0x1234, 0, data, 12);
	assert_int_equal(ip_fx_input(&fx, pkt, len, 0), 1);
	const struct recdev_frame *f = ip_fx_sent_ipv4(&fx, 0);
	assert_non_null(f);
	assert_int_equal(ipv4_hdr_parse(f->bytes + ETH_HDR_LEN, f->len - ETH_HDR_LEN, &h), 0);
	assert_int_equal(h.src, IP_FX_US);
	assert_int_equal(h.dst, IP_FX_PEER);
	assert_int_equal(h.proto, IPPROTO_ICMP_NUM);
	assert_int_equal(h.tos, 0xc0);
	assert_int_equal(h.total_len, 20 + 8 + len);
	const uint8_t *icmp = f->bytes + ETH_HDR_LEN + 20;
	assert_int_equal(icmp[0], ICMP_DEST_UNREACH);
	assert_int_equal(icmp[1], ICMP_UNREACH_PROTOCOL);
	assert_int_equal(get_be32(icmp + 4), 0);
	assert_memory_equal(icmp + 8, pkt, len);
	assert_int_equal(csum_finish(csum_add(0, icmp, 8 + len)), 0);

	/* Large datagram: quoted up to 576 bytes in all, like Linux. */
	len = ip_fx_build(pkt, IP_FX_PEER, IP_FX_US, 99, 0x1235, 0, data, sizeof(data));
	assert_int_equal(ip_fx_input(&fx, pkt, len, 0), 1);
	f = ip_fx_sent_ipv4(&fx, 1);
	assert_non_null(f);
	assert_int_equal(get_be16(f->bytes + ETH_HDR_LEN + 2), 576);
	assert_memory_equal(f->bytes + ETH_HDR_LEN + 28, pkt, 576 - 28);
	assert_int_equal(ip_fx_counter(&fx, "ip", "unknown_proto"), 2);
	assert_int_equal(ip_fx_counter(&fx, "icmp", "out_dest_unreachs"), 2);
	assert_int_equal(ip_fx_teardown(&fx), 0);
}

/* Token bucket: a burst of 6, then one per 1000 ms of fake time. */
static void test_icmp_unreachable_rate_limited(void **state)
{
	(void)state;
	struct ip_fx fx;
	uint8_t data[8] = { 0 };
	uint32_t len = ip_fx_build(pkt, IP_FX_PEER, IP_FX_US, 99, 1, 0, data, 8);

	assert_int_equal(ip_fx_setup(&fx, NULL, NULL), 0);
	for (int i = 0; i < 10; i++)
		assert_int_equal(ip_fx_input(&fx, pkt, len, 0), 1);
	assert_int_equal(ip_fx_counter(&fx, "icmp", "out_dest_unreachs"), 6);
	assert_int_equal(ip_fx_counter(&fx, "icmp", "err_ratelimited"), 4);
	ip_fx_advance(&fx, 999 * USEC_PER_MS);
	ip_fx_input(&fx, pkt, len, 0);
	assert_int_equal(ip_fx_counter(&fx, "icmp", "out_dest_unreachs"), 6);
	ip_fx_advance(&fx, 1 * USEC_PER_MS);
	ip_fx_input(&fx, pkt, len, 0);
	ip_fx_input(&fx, pkt, len, 0);
	assert_int_equal(ip_fx_counter(&fx, "icmp", "out_dest_unreachs"), 7);
	assert_int_equal(ip_fx_counter(&fx, "icmp", "err_ratelimited"), 6);
	/* A long quiet period refills the bucket to the burst, not beyond. */
	ip_fx_advance(&fx, 3600 * USEC_PER_SEC);
	for (int i = 0; i < 10; i++)
		ip_fx_input(&fx, pkt, len, 0);
	assert_int_equal(ip_fx_counter(&fx, "icmp", "out_dest_unreachs"), 13);
	/* Echo replies are not rate-limited. */
	for (int i = 0; i < 10; i++)
		assert_int_equal(send_ping(&fx, IP_FX_US, 8, 0), 1);
	assert_int_equal(ip_fx_counter(&fx, "icmp", "out_echo_replies"), 10);
	assert_int_equal(ip_fx_teardown(&fx), 0);
}

/* RFC 1122 3.2.2: never about a broadcast, an ICMP error or a non-first fragment. */
static void test_icmp_errors_never_sent(void **state)
{
	(void)state;
	struct ip_fx fx;
	uint8_t data[16] = { 0 };
	struct ipv4_rx rx;
	struct pbuf *pb;
	uint32_t len;

	assert_int_equal(ip_fx_setup(&fx, NULL, NULL), 0);
	/* A broadcast datagram of an unknown protocol. */
	len = ip_fx_build(pkt, IP_FX_PEER, IPV4_BROADCAST, 99, 1, 0, data, 8);
	assert_int_equal(ip_fx_input(&fx, pkt, len, 0), 1);
	len = ip_fx_build(pkt, IP_FX_PEER, IP_FX_US, 99, 1, 0, data, 8);
	assert_int_equal(ip_fx_input(&fx, pkt, len, PBUF_F_MULTICAST), 1);

	/* An ICMP error (destination unreachable) handed to icmp_send_unreachable. */
	data[0] = ICMP_DEST_UNREACH;
	len = ip_fx_build(pkt, IP_FX_PEER, IP_FX_US, IPPROTO_ICMP_NUM, 1, 0, data, 16);
	pb = pbuf_alloc(&fx.core.pool, PBUF_HEADROOM, len);
	memcpy(pbuf_put(pb, len), pkt, len);
	assert_int_equal(ipv4_input(&fx.ip, &pb, &rx), 1);
	icmp_send_unreachable(&fx.ip, pb, &rx, ICMP_UNREACH_PORT);

	/* A non-first fragment (ipv4_input never delivers one; a caller might still pass it). */
	len = ip_fx_build(pkt, IP_FX_PEER, IP_FX_US, 99, 1, 100, data, 16);
	pb = pbuf_alloc(&fx.core.pool, PBUF_HEADROOM, len);
	memcpy(pbuf_put(pb, len), pkt, len);
	pbuf_pull(pb, 20);
	rx = (struct ipv4_rx){ .src = IP_FX_PEER, .dst = IP_FX_US, .proto = 99, .hdr_len = 20 };
	icmp_send_unreachable(&fx.ip, pb, &rx, ICMP_UNREACH_PROTOCOL);

	assert_int_equal(ip_fx_counter(&fx, "icmp", "err_suppressed"), 4);
	assert_int_equal(ip_fx_counter(&fx, "icmp", "out_msgs"), 0);
	assert_null(ip_fx_sent_ipv4(&fx, 0));
	assert_int_equal(ip_fx_teardown(&fx), 0);
}

/* Other messages are counted and consumed without an answer. */
static void test_icmp_other_types_consumed(void **state)
{
	(void)state;
	struct ip_fx fx;
	uint8_t msg[16] = { 0 };
	const uint8_t types[] = { ICMP_ECHO_REPLY, ICMP_DEST_UNREACH, ICMP_TIME_EXCEEDED, 13 };

	assert_int_equal(ip_fx_setup(&fx, NULL, NULL), 0);
	for (size_t i = 0; i < sizeof(types); i++) {
		msg[0] = types[i];
		put_be16(msg + 2, 0);
		put_be16(msg + 2, csum_finish(csum_add(0, msg, sizeof(msg))));
		uint32_t len = ip_fx_build(pkt, IP_FX_PEER, IP_FX_US, IPPROTO_ICMP_NUM, 1, 0, msg, sizeof(msg));
		assert_int_equal(ip_fx_input(&fx, pkt, len, 0), 1);
	}
	assert_int_equal(ip_fx_counter(&fx, "icmp", "in_echo_replies"), 1);
	assert_int_equal(ip_fx_counter(&fx, "icmp", "in_dest_unreachs"), 1);
	assert_int_equal(ip_fx_counter(&fx, "icmp", "in_time_excds"), 1);
	assert_int_equal(ip_fx_counter(&fx, "icmp", "in_other"), 1);
	assert_int_equal(fx.rd.n_sent, 0);
	assert_int_equal(ip_fx_teardown(&fx), 0);
}

/* Every prefix of a ping frame and of an unreachable-provoking frame: no crash, no leak. */
static void test_icmp_every_truncation(void **state)
{
	(void)state;
	uint8_t frame[ETH_HDR_LEN + 20 + 8 + 40];
	static const uint8_t our_mac[ETH_ALEN] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x02 };

	for (int k = 0; k < 2; k++) {
		struct ip_fx fx;
		struct eth_hdr eh = { .type = ETHERTYPE_IPV4 };
		uint32_t ilen = ip_fx_echo(req, 1, 1, 40);

		memcpy(eh.dst, our_mac, ETH_ALEN);
		memcpy(eh.src, ip_fx_peer_mac, ETH_ALEN);
		eth_hdr_emit(frame, &eh);
		ip_fx_build(frame + ETH_HDR_LEN, IP_FX_PEER, IP_FX_US, k ? 99 : IPPROTO_ICMP_NUM, 1, 0, req, ilen);
		assert_int_equal(ip_fx_setup(&fx, NULL, NULL), 0);
		for (uint32_t len = 0; len <= sizeof(frame); len++)
			ip_fx_input_frame(&fx, frame, len);
		assert_non_null(ip_fx_sent_ipv4(&fx, 0));
		assert_null(ip_fx_sent_ipv4(&fx, 1));
		assert_int_equal(ip_fx_teardown(&fx), 0);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_icmp_header_roundtrip),
		cmocka_unit_test(test_icmp_echo_reply),
		cmocka_unit_test(test_icmp_echo_odd_length),
		cmocka_unit_test(test_icmp_input_drops),
		cmocka_unit_test(test_icmp_echo_broadcast_when_enabled),
		cmocka_unit_test(test_icmp_echo_8000_fragmented),
		cmocka_unit_test(test_icmp_protocol_unreachable),
		cmocka_unit_test(test_icmp_unreachable_rate_limited),
		cmocka_unit_test(test_icmp_errors_never_sent),
		cmocka_unit_test(test_icmp_other_types_consumed),
		cmocka_unit_test(test_icmp_every_truncation),
	};
	return cmocka_run_group_tests_name("icmp", tests, NULL, NULL);
}
