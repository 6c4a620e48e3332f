/*
 * test_ethernet.c - Ethernet II (stack/link/ether.c, docs/ethernet.md): the header view
 * round-trips a captured frame; ether_input accepts our MAC and broadcast, flags them, and
 * drops everything else through one named counter per reason; every truncation of the
 * fixture frames is harmless; ether_output prepends the header and pads to 60 bytes.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "core/byteorder.h"
#include "core/checksum.h"
#include "helpers/fixture_frames.h"
#include "helpers/link_fixture.h"
#include "wire/arp.h"
#include "wire/ethernet.h"

/* The shared fixture is a frame a real host could send: its IPv4 header and ICMP checksums verify. */
static void test_fixture_checksums(void **state)
{
	(void)state;
	const uint8_t *ip = fx_frame_ping + ETH_HDR_LEN;

	assert_int_equal(csum_finish(csum_add(0, ip, 20)), 0);
	assert_int_equal(get_be16(ip + 10), 0x1473);
	assert_int_equal(csum_finish(csum_add(0, ip + 20, sizeof(fx_frame_ping) - ETH_HDR_LEN - 20)), 0);
	assert_int_equal(get_be16(ip + 22), 0x00eb);
}

static void test_eth_header_roundtrip(void **state)
{
	(void)state;
	struct eth_hdr h;
	uint8_t out[ETH_HDR_LEN];
	static const uint8_t dst[ETH_ALEN] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x02 };
	static const uint8_t src[ETH_ALEN] = { 0x02, 0xaa, 0xbb, 0xcc, 0xdd, 0x01 };

	assert_int_equal(eth_hdr_parse(fx_frame_ping, sizeof(fx_frame_ping), &h), 0);
	assert_memory_equal(h.dst, dst, ETH_ALEN);
	assert_memory_equal(h.src, src, ETH_ALEN);
	assert_int_equal(h.type, ETHERTYPE_IPV4);
	eth_hdr_emit(out, &h);
	assert_memory_equal(out, fx_frame_ping, ETH_HDR_LEN);
	assert_int_equal(eth_hdr_parse(fx_frame_ping, ETH_HDR_LEN - 1, &h), -1);
}

static void test_eth_input_unicast_to_us(void **state)
{
	(void)state;
	struct link_fx fx;
	assert_int_equal(link_fx_setup(&fx, NULL), 0);

	struct pbuf *pb = link_fx_pbuf(&fx, fx_frame_ping, sizeof(fx_frame_ping));
	assert_int_equal(ether_input(&fx.link, pb), ETHERTYPE_IPV4);
	assert_int_equal(pb->len, sizeof(fx_frame_ping) - ETH_HDR_LEN);
	assert_int_equal(pb->data[0], 0x45);       /* data at the IP header */
	assert_int_equal(pb->flags & (PBUF_F_BROADCAST | PBUF_F_MULTICAST), 0);
	assert_int_equal(fx.link.eth.rx_frames, 1);
	assert_int_equal(fx.link.eth.rx_bytes, sizeof(fx_frame_ping));
	pbuf_free(pb);
	assert_int_equal(link_fx_teardown(&fx), 0);
}

static void test_eth_input_broadcast_flagged(void **state)
{
	(void)state;
	struct link_fx fx;
	assert_int_equal(link_fx_setup(&fx, NULL), 0);

	struct pbuf *pb = link_fx_pbuf(&fx, fx_frame_arp_request, sizeof(fx_frame_arp_request));
	assert_int_equal(ether_input(&fx.link, pb), ETHERTYPE_ARP);
	assert_true(pb->flags & PBUF_F_BROADCAST);
	assert_false(pb->flags & PBUF_F_MULTICAST);
	assert_int_equal(fx.link.eth.rx_broadcast, 1);
	assert_int_equal(pb->len, 46);     /* padding left for the upper layer to ignore */
	pbuf_free(pb);
	assert_int_equal(link_fx_teardown(&fx), 0);
}

/* Each malformed or foreign frame is dropped with its own counter and freed. */
static void test_eth_input_drop_reasons(void **state)
{
	(void)state;
	struct link_fx fx;
	uint8_t f[sizeof(fx_frame_ping)];
	assert_int_equal(link_fx_setup(&fx, NULL), 0);

	/* unicast to another MAC */
	memcpy(f, fx_frame_ping, sizeof(f));
	f[5] = 0x03;
	assert_int_equal(link_fx_rx(&fx, f, sizeof(f)), -1);
	assert_int_equal(fx.link.eth.drop_not_for_us, 1);

	/* IPv6 multicast (the host's neighbour discovery): not joined */
	memcpy(f, fx_frame_ping, sizeof(f));
	memcpy(f, "\x33\x33\x00\x00\x00\x01", 6);
	assert_int_equal(link_fx_rx(&fx, f, sizeof(f)), -1);
	assert_int_equal(fx.link.eth.drop_multicast, 1);

	/* group bit in the source address */
	memcpy(f, fx_frame_ping, sizeof(f));
	f[6] = 0x01;
	assert_int_equal(link_fx_rx(&fx, f, sizeof(f)), -1);
	assert_int_equal(fx.link.eth.drop_bad_src, 1);

	/* 802.3 length field instead of an EtherType */
	memcpy(f, fx_frame_ping, sizeof(f));
	f[12] = 0x00;
	f[13] = 0x54;
	assert_int_equal(link_fx_rx(&fx, f, sizeof(f)), -1);
	assert_int_equal(fx.link.eth.drop_8023_length, 1);

	/* IPv6 to our MAC */
	memcpy(f, fx_frame_ping, sizeof(f));
	f[12] = 0x86;
	f[13] = 0xdd;
	assert_int_equal(link_fx_rx(&fx, f, sizeof(f)), -1);
	assert_int_equal(fx.link.eth.drop_unknown_ethertype, 1);

	/* truncated header */
	assert_int_equal(link_fx_rx(&fx, fx_frame_ping, ETH_HDR_LEN - 1), -1);
	assert_int_equal(fx.link.eth.drop_truncated, 1);

	assert_int_equal(fx.link.eth.rx_frames, 0);
	assert_int_equal(fx.rd.n_sent, 0);
	assert_int_equal(link_fx_teardown(&fx), 0);
}

static void test_eth_input_multicast_when_enabled(void **state)
{
	(void)state;
	struct link_fx fx;
	struct link_config cfg;
	uint8_t f[sizeof(fx_frame_ping)];

	link_config_default(&cfg);
	cfg.accept_multicast = true;
	assert_int_equal(link_fx_setup(&fx, &cfg), 0);
	memcpy(f, fx_frame_ping, sizeof(f));
	memcpy(f, "\x01\x00\x5e\x00\x00\x01", 6);      /* 224.0.0.1 all-hosts */
	struct pbuf *pb = link_fx_pbuf(&fx, f, sizeof(f));
	assert_int_equal(ether_input(&fx.link, pb), ETHERTYPE_IPV4);
	assert_true(pb->flags & PBUF_F_MULTICAST);
	assert_false(pb->flags & PBUF_F_BROADCAST);
	assert_int_equal(fx.link.eth.rx_multicast, 1);
	pbuf_free(pb);
	assert_int_equal(link_fx_teardown(&fx), 0);
}

/* Every prefix of every fixture (length 0..N) through the input path: no crash, no leak. */
static void test_eth_every_truncation(void **state)
{
	(void)state;
	struct link_fx fx;
	assert_int_equal(link_fx_setup(&fx, NULL), 0);

	for (uint32_t len = 0; len <= sizeof(fx_frame_ping); len++)
		(void)link_fx_rx(&fx, fx_frame_ping, len);
	for (uint32_t len = 0; len <= sizeof(fx_frame_arp_request); len++)
		(void)link_fx_rx(&fx, fx_frame_arp_request, len);
	/* 0..13 bytes of each are truncated Ethernet; the rest pass Ethernet. */
	assert_int_equal(fx.link.eth.drop_truncated, 2 * ETH_HDR_LEN);
	assert_int_equal(fx.link.eth.rx_frames, (sizeof(fx_frame_ping) + 1 - ETH_HDR_LEN) +
	                                            (sizeof(fx_frame_arp_request) + 1 - ETH_HDR_LEN));
	assert_int_equal(link_fx_teardown(&fx), 0);
}

/* A 28-byte payload leaves as a 60-byte frame: header, payload, 18 zero bytes. */
static void test_eth_output_pads_short_frames(void **state)
{
	(void)state;
	struct link_fx fx;
	static const uint8_t dst[ETH_ALEN] = { 0x02, 0xaa, 0xbb, 0xcc, 0xdd, 0x01 };
	uint8_t payload[28], expect[60];
	assert_int_equal(link_fx_setup(&fx, NULL), 0);

	for (size_t i = 0; i < sizeof(payload); i++)
		payload[i] = (uint8_t)(0xa0 + i);
	memset(expect, 0, sizeof(expect));
	memcpy(expect, dst, 6);
	memcpy(expect + 6, "\x02\x00\x00\x00\x00\x02\x08\x00", 8);
	memcpy(expect + 14, payload, sizeof(payload));

	struct pbuf *pb = link_fx_pbuf(&fx, payload, sizeof(payload));
	memset(pb->data + pb->len, 0xee, 32);   /* stale tail bytes must not leak into the padding */
	assert_int_equal(ether_output(&fx.link, pb, dst, ETHERTYPE_IPV4), 0);
	assert_int_equal(fx.rd.n_sent, 1);
	assert_int_equal(recdev_frame(&fx.rd, 0)->len, 60);
	assert_memory_equal(recdev_frame(&fx.rd, 0)->bytes, expect, 60);
	assert_int_equal(fx.link.eth.tx_padded, 1);
	assert_int_equal(fx.link.eth.tx_frames, 1);
	assert_int_equal(fx.link.eth.tx_bytes, 60);

	/* A frame already at the minimum is not padded; one of 84 bytes goes out as 98. */
	pb = link_fx_pbuf(&fx, fx_frame_ping + ETH_HDR_LEN, sizeof(fx_frame_ping) - ETH_HDR_LEN);
	assert_int_equal(ether_output(&fx.link, pb, dst, ETHERTYPE_IPV4), 0);
	assert_int_equal(recdev_frame(&fx.rd, 1)->len, sizeof(fx_frame_ping));
	assert_memory_equal(recdev_frame(&fx.rd, 1)->bytes + ETH_HDR_LEN, fx_frame_ping + ETH_HDR_LEN,
	                    sizeof(fx_frame_ping) - ETH_HDR_LEN);
	assert_int_equal(fx.link.eth.tx_padded, 1);
	assert_int_equal(link_fx_teardown(&fx), 0);
}

/* Borrowed payload (pbuf ext) of a short frame is copied in before the padding. */
static void test_eth_output_pads_after_borrowed_payload(void **state)
{
	(void)state;
	struct link_fx fx;
	static const uint8_t dst[ETH_ALEN] = { 0x02, 0xaa, 0xbb, 0xcc, 0xdd, 0x01 };
	static const uint8_t hdr[20] = { 0x45 };
	static const uint8_t borrowed[5] = { 1, 2, 3, 4, 5 };
	assert_int_equal(link_fx_setup(&fx, NULL), 0);

	struct pbuf *pb = link_fx_pbuf(&fx, hdr, sizeof(hdr));
	pb->ext[0].ptr = borrowed;
	pb->ext[0].len = sizeof(borrowed);
	assert_int_equal(ether_output(&fx.link, pb, dst, ETHERTYPE_IPV4), 0);
	const struct recdev_frame *f = recdev_frame(&fx.rd, 0);
	assert_int_equal(f->len, 60);
	assert_memory_equal(f->bytes + 14, hdr, sizeof(hdr));
	assert_memory_equal(f->bytes + 34, borrowed, sizeof(borrowed));
	for (int i = 39; i < 60; i++)
		assert_int_equal(f->bytes[i], 0);
	assert_int_equal(link_fx_teardown(&fx), 0);
}

static void test_eth_output_drops(void **state)
{
	(void)state;
	struct link_fx fx;
	static const uint8_t dst[ETH_ALEN] = { 0x02, 0xaa, 0xbb, 0xcc, 0xdd, 0x01 };
	assert_int_equal(link_fx_setup(&fx, NULL), 0);

	/* above the MTU */
	struct pbuf *pb = pbuf_alloc(&fx.core.pool, PBUF_HEADROOM, 1501);
	pbuf_put(pb, 1501);
	assert_int_equal(ether_output(&fx.link, pb, dst, ETHERTYPE_IPV4), -EMSGSIZE);
	assert_int_equal(fx.link.eth.tx_drop_too_long, 1);

	/* no headroom for the header */
	pb = pbuf_alloc(&fx.core.pool, 0, 100);
	pbuf_put(pb, 100);
	assert_int_equal(ether_output(&fx.link, pb, dst, ETHERTYPE_IPV4), -ENOBUFS);
	assert_int_equal(fx.link.eth.tx_drop_no_headroom, 1);

	/* the driver fails */
	fx.rd.send_result = -EIO;
	pb = link_fx_pbuf(&fx, fx_frame_ping, sizeof(fx_frame_ping));
	assert_int_equal(ether_output(&fx.link, pb, dst, ETHERTYPE_IPV4), -EIO);
	assert_int_equal(fx.link.eth.tx_drop_dev_error, 1);

	/* the device's queue is full: counted as such, not as a fault, never silently */
	fx.rd.send_result = -EAGAIN;
	pb = link_fx_pbuf(&fx, fx_frame_ping, sizeof(fx_frame_ping));
	assert_int_equal(ether_output(&fx.link, pb, dst, ETHERTYPE_IPV4), -EAGAIN);
	fx.rd.send_result = -ENOBUFS;
	pb = link_fx_pbuf(&fx, fx_frame_ping, sizeof(fx_frame_ping));
	assert_int_equal(ether_output(&fx.link, pb, dst, ETHERTYPE_IPV4), -ENOBUFS);
	assert_int_equal(fx.link.eth.tx_drop_dev_full, 2);
	assert_int_equal(fx.link.eth.tx_drop_dev_error, 1);

	assert_int_equal(fx.link.eth.tx_frames, 0);
	assert_int_equal(link_fx_teardown(&fx), 0);
}

static void test_link_counter_groups(void **state)
{
	(void)state;
	struct link_fx fx;
	struct counter_group g[4];
	assert_int_equal(link_fx_setup(&fx, NULL), 0);

	(void)link_fx_rx(&fx, fx_frame_ping, 3);
	assert_int_equal(link_counter_groups(&fx.link, g, 4), 2);
	assert_string_equal(g[0].layer, "eth");
	assert_string_equal(g[1].layer, "arp");
	int found = 0;
	for (size_t i = 0; i < g[0].n; i++)
		if (strcmp(g[0].names[i], "drop_truncated") == 0) {
			assert_int_equal(g[0].values[i], 1);
			found = 1;
		}
	assert_true(found);
	assert_int_equal(g[0].n, sizeof(struct eth_counters) / sizeof(uint64_t));
	assert_int_equal(g[1].n, sizeof(struct arp_counters) / sizeof(uint64_t));
	assert_int_equal(link_counter_groups(&fx.link, g, 1), 1);
	assert_int_equal(link_fx_teardown(&fx), 0);
}

static void test_link_init_rejects_bad_config(void **state)
{
	(void)state;
	struct link_fx fx;
	struct link_config cfg;

	link_config_default(&cfg);
	cfg.mac[0] = 0x01;         /* multicast MAC as our own */
	assert_int_equal(link_fx_setup(&fx, &cfg), -EINVAL);
	assert_int_equal(link_fx_teardown(&fx), 0);   /* destroy after a failed init is safe */
	link_config_default(&cfg);
	cfg.arp_cache_size = 0;
	assert_int_equal(link_fx_setup(&fx, &cfg), -EINVAL);
	assert_int_equal(link_fx_teardown(&fx), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fixture_checksums),
		cmocka_unit_test(test_eth_header_roundtrip),
		cmocka_unit_test(test_eth_input_unicast_to_us),
		cmocka_unit_test(test_eth_input_broadcast_flagged),
		cmocka_unit_test(test_eth_input_drop_reasons),
		cmocka_unit_test(test_eth_input_multicast_when_enabled),
		cmocka_unit_test(test_eth_every_truncation),
		cmocka_unit_test(test_eth_output_pads_short_frames),
		cmocka_unit_test(test_eth_output_pads_after_borrowed_payload),
		cmocka_unit_test(test_eth_output_drops),
		cmocka_unit_test(test_link_counter_groups),
		cmocka_unit_test(test_link_init_rejects_bad_config),
	};
	return cmocka_run_group_tests_name("ethernet", tests, NULL, NULL);
}
