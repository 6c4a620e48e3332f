/*
 * test_reass.c - IPv4 reassembly (stack/ip/reass.c, docs/ipv4.md "Reassembly"): fragments
 * in order, reversed and shuffled give back the identical datagram with a rebuilt header;
 * exact duplicates are ignored; overlaps, conflicting ends and fragments past the end drop
 * the datagram; the 30 s timeout frees the slot (and sends time exceeded only when fragment
 * zero arrived); the slot, byte, hole and 65535-byte limits are each counted.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "helpers/ip_fixture.h"

#define DGRAM_LEN 8008u    /* an 8000-byte ping: ICMP header + 8000 data bytes */
#define CHUNK 1480u        /* what a 1500-byte MTU sender cuts */
#define NFRAG 6u           /* 5 x 1480 + 608 */

static uint8_t dgram[65536];

static void fill_dgram(uint32_t len, uint8_t salt)
{
	for (uint32_t i = 0; i < len; i++)
		dgram[i] = (uint8_t)(i * 31 + salt + (i >> 8));
}

/* Fragment i (of CHUNK-sized pieces of a len-byte payload) built into out; returns its length. */
static uint32_t frag(uint8_t *out, uint16_t id, uint32_t len, uint32_t i)
{
	uint32_t off = i * CHUNK, n = len - off < CHUNK ? len - off : CHUNK;
	bool mf = off + n < len;
	return ip_fx_build(out, IP_FX_PEER, IP_FX_US, IPPROTO_TCP_NUM, id,
	                   (uint16_t)((mf ? IPV4_FLAG_MF : 0) | off / 8), dgram + off, n);
}

/* A fragment of n bytes at byte offset off with MF as given (data from dgram, or from src). */
static uint32_t frag_at(uint8_t *out, uint16_t id, uint32_t off, uint32_t n, bool mf, const uint8_t *src)
{
	return ip_fx_build(out, IP_FX_PEER, IP_FX_US, IPPROTO_TCP_NUM, id,
	                   (uint16_t)((mf ? IPV4_FLAG_MF : 0) | off / 8), src ? src : dgram + off, n);
}

/* Feeds one packet to ipv4_input; on delivery *out is the datagram (caller frees). */
static int feed(struct ip_fx *fx, const uint8_t *pkt, uint32_t len, struct pbuf **out, struct ipv4_rx *rx)
{
	struct pbuf *pb = pbuf_alloc(&fx->core.pool, PBUF_HEADROOM, len);
	struct ipv4_rx dummy;
	int r;

	memcpy(pbuf_put(pb, len), pkt, len);
	r = ipv4_input(&fx->ip, &pb, rx ? rx : &dummy);
	if (r == 1 && out)
		*out = pb;
	else if (r == 1)
		pbuf_free(pb);
	return r;
}

/* The whole datagram: payload identical, header rebuilt (length, no MF/offset, valid checksum). */
static void check_whole(struct pbuf *pb, const struct ipv4_rx *rx, uint32_t len)
{
	struct ipv4_hdr h = { 0 };

	assert_int_equal(pb->len, len);
	assert_memory_equal(pb->data, dgram, len);
	assert_int_equal(rx->hdr_len, 20);
	assert_int_equal(rx->proto, IPPROTO_TCP_NUM);
	assert_int_equal(rx->src, IP_FX_PEER);
	assert_non_null(pbuf_push(pb, rx->hdr_len));
	assert_int_equal(ipv4_hdr_parse(pb->data, pb->len, &h), 0);
	assert_int_equal(h.total_len, 20 + len);
	assert_false(h.mf);
	assert_int_equal(h.frag_off, 0);
	assert_int_equal(csum_finish(csum_add(0, pb->data, 20)), 0);
	/* Headroom is left for the reply's Ethernet and IP headers. */
	assert_true(pbuf_headroom(pb) >= PBUF_HEADROOM);
	pbuf_free(pb);
}

static void run_order(const uint32_t order[NFRAG])
{
	struct ip_fx fx;
	uint8_t pkt[2048];
	struct pbuf *pb = NULL;
	struct ipv4_rx rx;

	fill_dgram(DGRAM_LEN, 3);
	assert_int_equal(ip_fx_setup(&fx, NULL, NULL), 0);
	for (uint32_t k = 0; k < NFRAG; k++) {
		uint32_t len = frag(pkt, 0x4242, DGRAM_LEN, order[k]);
		assert_int_equal(feed(&fx, pkt, len, &pb, &rx), k == NFRAG - 1 ? 1 : 0);
		assert_int_equal(ip_reass_slots_used(&fx.ip), k == NFRAG - 1 ? 0 : 1);
	}
	check_whole(pb, &rx, DGRAM_LEN);
	assert_int_equal(ip_fx_counter(&fx, "ip", "frag_rx"), NFRAG);
	assert_int_equal(ip_fx_counter(&fx, "ip", "reass_ok"), 1);
	assert_int_equal(fx.ip.reass.bytes, 0);
	assert_int_equal(ip_fx_teardown(&fx), 0);
}

static void test_reass_in_order(void **state)
{
	(void)state;
	const uint32_t order[NFRAG] = { 0, 1, 2, 3, 4, 5 };
	run_order(order);
}

static void test_reass_reversed(void **state)
{
	(void)state;
	const uint32_t order[NFRAG] = { 5, 4, 3, 2, 1, 0 };
	run_order(order);
}

static void test_reass_shuffled(void **state)
{
	(void)state;
	const uint32_t a[NFRAG] = { 3, 0, 5, 1, 4, 2 };
	const uint32_t b[NFRAG] = { 2, 5, 0, 4, 3, 1 };
	run_order(a);
	run_order(b);
}

/* RFC 791 leaves duplicates to the receiver: exact repeats (whole or part) are ignored. */
static void test_reass_duplicates_ignored(void **state)
{
	(void)state;
	const uint32_t order[] = { 0, 1, 0, 2, 1, 3, 4, 3, 5 };
	struct ip_fx fx;
	uint8_t pkt[2048];
	struct pbuf *pb = NULL;
	struct ipv4_rx rx;
	int r = 0;

	fill_dgram(DGRAM_LEN, 9);
	assert_int_equal(ip_fx_setup(&fx, NULL, NULL), 0);
	for (uint32_t k = 0; k < sizeof(order) / sizeof(order[0]); k++) {
		/* A part of fragment 1 re-sent on its own (same bytes) is a duplicate too. */
		if (k == 3) {
			uint32_t len = frag_at(pkt, 0x4242, CHUNK + 8, 64, true, NULL);
			assert_int_equal(feed(&fx, pkt, len, NULL, NULL), 0);
		}
		r = feed(&fx, pkt, frag(pkt, 0x4242, DGRAM_LEN, order[k]), &pb, &rx);
	}
	assert_int_equal(r, 1);
	check_whole(pb, &rx, DGRAM_LEN);
	assert_int_equal(ip_fx_counter(&fx, "ip", "reass_dup"), 4);
	assert_int_equal(ip_fx_counter(&fx, "ip", "reass_ok"), 1);
	assert_int_equal(ip_fx_teardown(&fx), 0);
}

/* Overlaps that are not exact repeats drop the whole datagram, as Linux does; the slot is freed. */
static void test_reass_overlaps_drop_datagram(void **state)
{
	(void)state;
	uint8_t pkt[2048], other[CHUNK];

	fill_dgram(4000, 5);
	memset(other, 0xee, sizeof(other));
	for (int c = 0; c < 4; c++) {
		struct ip_fx fx;
		assert_int_equal(ip_fx_setup(&fx, NULL, NULL), 0);
		assert_int_equal(feed(&fx, pkt, frag_at(pkt, 7, 0, CHUNK, true, NULL), NULL, NULL), 0);
		switch (c) {
		case 0:    /* straddles the end of the data held: [1472, 2952) over [0, 1480) */
			assert_int_equal(feed(&fx, pkt, frag_at(pkt, 7, CHUNK - 8, CHUNK, true, NULL), NULL, NULL), 0);
			break;
		case 1:    /* the same range with different bytes */
			assert_int_equal(feed(&fx, pkt, frag_at(pkt, 7, 0, CHUNK, true, other), NULL, NULL), 0);
			break;
		case 2:    /* two last fragments with different ends */
			assert_int_equal(feed(&fx, pkt, frag_at(pkt, 7, 2960, 40, false, NULL), NULL, NULL), 0);
			assert_int_equal(feed(&fx, pkt, frag_at(pkt, 7, 2960, 48, false, NULL), NULL, NULL), 0);
			break;
		case 3:    /* a middle fragment beyond the end the last fragment fixed */
			assert_int_equal(feed(&fx, pkt, frag_at(pkt, 7, 2960, 40, false, NULL), NULL, NULL), 0);
			assert_int_equal(feed(&fx, pkt, frag_at(pkt, 7, 2960 + 8, 40, true, NULL), NULL, NULL), 0);
			break;
		}
		assert_int_equal(ip_fx_counter(&fx, "ip", "reass_overlap"), 1);
		assert_int_equal(ip_reass_slots_used(&fx.ip), 0);
		assert_int_equal(fx.ip.reass.bytes, 0);
		assert_int_equal(ip_fx_counter(&fx, "ip", "rx_delivered"), 0);
		assert_int_equal(ip_fx_teardown(&fx), 0);
	}
}

/* A last fragment that ends before data already held contradicts it. */
static void test_reass_last_before_data(void **state)
{
	(void)state;
	struct ip_fx fx;
	uint8_t pkt[2048];

	fill_dgram(4000, 1);
	assert_int_equal(ip_fx_setup(&fx, NULL, NULL), 0);
	assert_int_equal(feed(&fx, pkt, frag_at(pkt, 8, 2960, 1480, true, NULL), NULL, NULL), 0);
	assert_int_equal(feed(&fx, pkt, frag_at(pkt, 8, 1480, 1480, false, NULL), NULL, NULL), 0);
	assert_int_equal(ip_fx_counter(&fx, "ip", "reass_overlap"), 1);
	assert_int_equal(ip_reass_slots_used(&fx.ip), 0);
	assert_int_equal(ip_fx_teardown(&fx), 0);
}

/* RFC 1122 3.3.2: the slot goes after the timeout; fragment zero held -> time exceeded, code 1. */
static void test_reass_timeout(void **state)
{
	(void)state;
	struct ip_fx fx;
	uint8_t pkt[2048];

	fill_dgram(DGRAM_LEN, 2);
	assert_int_equal(ip_fx_setup(&fx, NULL, NULL), 0);
	for (uint32_t i = 0; i < NFRAG - 1; i++)
		assert_int_equal(feed(&fx, pkt, frag(pkt, 99, DGRAM_LEN, i), NULL, NULL), 0);
	ip_fx_advance(&fx, 29 * USEC_PER_SEC);
	assert_int_equal(ip_reass_slots_used(&fx.ip), 1);
	assert_int_equal(fx.rd.n_sent, 0);
	ip_fx_advance(&fx, USEC_PER_SEC);
	assert_int_equal(ip_reass_slots_used(&fx.ip), 0);
	assert_int_equal(fx.ip.reass.bytes, 0);
	assert_int_equal(ip_fx_counter(&fx, "ip", "reass_timeout"), 1);

	/* The time exceeded message quotes fragment zero's header (MF set) and its first bytes.
	 * (The ARP entry went stale meanwhile, so the link may also send an ARP probe.) */
	const struct recdev_frame *f = ip_fx_sent_ipv4(&fx, 0);
	assert_non_null(f);
	assert_null(ip_fx_sent_ipv4(&fx, 1));
	const uint8_t *icmp = f->bytes + ETH_HDR_LEN + 20;
	uint8_t first[2048];
	frag(first, 99, DGRAM_LEN, 0);
	assert_int_equal(get_be32(f->bytes + ETH_HDR_LEN + 16), IP_FX_PEER);
	assert_int_equal(icmp[0], ICMP_TIME_EXCEEDED);
	assert_int_equal(icmp[1], 1);
	assert_memory_equal(icmp + 8, first, 28);
	assert_int_equal(ip_fx_counter(&fx, "icmp", "out_time_excds"), 1);

	/* The straggler arrives too late: it starts a new slot and is not delivered. */
	assert_int_equal(feed(&fx, pkt, frag(pkt, 99, DGRAM_LEN, NFRAG - 1), NULL, NULL), 0);
	assert_int_equal(ip_reass_slots_used(&fx.ip), 1);
	assert_int_equal(ip_fx_teardown(&fx), 0);
}

static void test_reass_timeout_without_first_is_silent(void **state)
{
	(void)state;
	struct ip_fx fx;
	uint8_t pkt[2048];

	fill_dgram(DGRAM_LEN, 2);
	assert_int_equal(ip_fx_setup(&fx, NULL, NULL), 0);
	for (uint32_t i = 1; i < NFRAG; i++)
		assert_int_equal(feed(&fx, pkt, frag(pkt, 99, DGRAM_LEN, i), NULL, NULL), 0);
	ip_fx_advance(&fx, 30 * USEC_PER_SEC);
	assert_int_equal(ip_fx_counter(&fx, "ip", "reass_timeout"), 1);
	assert_null(ip_fx_sent_ipv4(&fx, 0));
	assert_int_equal(ip_fx_teardown(&fx), 0);
}

/* More datagrams than slots: the oldest incomplete one is evicted and counted, the new one
 * gets its slot and completes. */
static void test_reass_slot_limit(void **state)
{
	(void)state;
	struct ip_fx fx;
	struct ip_config ic;
	uint8_t pkt[2048];

	ip_config_default(&ic);
	ic.reass_max_slots = 2;
	fill_dgram(3000, 4);
	assert_int_equal(ip_fx_setup(&fx, NULL, &ic), 0);
	assert_int_equal(feed(&fx, pkt, frag(pkt, 1, 3000, 0), NULL, NULL), 0);
	assert_int_equal(feed(&fx, pkt, frag(pkt, 2, 3000, 0), NULL, NULL), 0);
	assert_int_equal(feed(&fx, pkt, frag(pkt, 3, 3000, 0), NULL, NULL), 0);
	assert_int_equal(ip_fx_counter(&fx, "ip", "reass_evicted"), 1);
	assert_int_equal(ip_reass_slots_used(&fx.ip), 2);
	/* Datagram 3 completes; datagram 1's late fragments start over (and evict 2). */
	assert_int_equal(feed(&fx, pkt, frag(pkt, 3, 3000, 1), NULL, NULL), 0);
	assert_int_equal(feed(&fx, pkt, frag(pkt, 3, 3000, 2), NULL, NULL), 1);
	assert_int_equal(feed(&fx, pkt, frag(pkt, 1, 3000, 1), NULL, NULL), 0);
	assert_int_equal(ip_reass_slots_used(&fx.ip), 2);
	assert_int_equal(feed(&fx, pkt, frag(pkt, 4, 3000, 0), NULL, NULL), 0);
	assert_int_equal(ip_fx_counter(&fx, "ip", "reass_evicted"), 2);
	assert_int_equal(ip_fx_counter(&fx, "ip", "reass_ok"), 1);
	assert_int_equal(ip_fx_teardown(&fx), 0);
}

/*
 * Memory (IP_REASS_SLOT_TRUESIZE per slot) is bounded like Linux's ipfrag_high_thresh: a new
 * datagram that would pass it evicts the oldest incomplete ones until it fits under
 * low_thresh, in one batch.
 */
static void test_reass_memory_thresholds(void **state)
{
	(void)state;
	struct ip_fx fx;
	struct ip_config ic;
	uint8_t pkt[2048];

	ip_config_default(&ic);
	assert_int_equal(ic.reass_high_thresh, 1024 * 1024);
	assert_int_equal(ic.reass_low_thresh, 768 * 1024);
	ic.reass_high_thresh = 4 * IP_REASS_SLOT_TRUESIZE;
	ic.reass_low_thresh = 2 * IP_REASS_SLOT_TRUESIZE;
	fill_dgram(DGRAM_LEN, 4);
	assert_int_equal(ip_fx_setup(&fx, NULL, &ic), 0);
	for (uint16_t id = 1; id <= 4; id++)
		assert_int_equal(feed(&fx, pkt, frag(pkt, id, DGRAM_LEN, 0), NULL, NULL), 0);
	assert_int_equal(fx.ip.reass.mem, 4 * IP_REASS_SLOT_TRUESIZE);
	assert_int_equal(ip_fx_counter(&fx, "ip", "reass_evicted"), 0);
	/* The fifth evicts 1, 2 and 3: 4 and 5 remain. */
	assert_int_equal(feed(&fx, pkt, frag(pkt, 5, DGRAM_LEN, 0), NULL, NULL), 0);
	assert_int_equal(ip_fx_counter(&fx, "ip", "reass_evicted"), 3);
	assert_int_equal(ip_reass_slots_used(&fx.ip), 2);
	assert_int_equal(fx.ip.reass.mem, 2 * IP_REASS_SLOT_TRUESIZE);
	assert_int_equal(fx.ip.reass.bytes, 2 * CHUNK);
	/* Fragments of a held datagram cost no new memory: 4 completes. */
	for (uint32_t i = 1; i < NFRAG; i++)
		assert_int_equal(feed(&fx, pkt, frag(pkt, 4, DGRAM_LEN, i), NULL, NULL), i == NFRAG - 1);
	assert_int_equal(ip_reass_slots_used(&fx.ip), 1);
	/* Thresholds that could not hold one slot, or a low above the high, are refused. */
	struct ip_layer *bad = calloc(1, sizeof(*bad));
	assert_non_null(bad);
	ic.reass_high_thresh = IP_REASS_SLOT_TRUESIZE - 1;
	assert_int_equal(ip_init(bad, &fx.core, &fx.link, &ic), -EINVAL);
	ic.reass_high_thresh = IP_REASS_SLOT_TRUESIZE;
	ic.reass_low_thresh = ic.reass_high_thresh + 1;
	assert_int_equal(ip_init(bad, &fx.core, &fx.link, &ic), -EINVAL);
	free(bad);
	assert_int_equal(ip_fx_teardown(&fx), 0);
}

/*
 * The attack of issue 11: small first fragments that never complete used to fill the 16
 * slots and block every reassembly for 30 s. Now 1,000 of them (with default settings)
 * hold at most high_thresh of memory, and a 3000-byte datagram sent in between completes.
 */
static void test_reass_fragment_flood_does_not_block(void **state)
{
	(void)state;
	struct ip_fx fx;
	uint8_t pkt[2048];
	struct pbuf *out = NULL;
	struct ipv4_rx rx;

	assert_int_equal(ip_fx_setup(&fx, NULL, NULL), 0);
	fill_dgram(3000, 9);
	for (uint32_t k = 0; k < 1000; k++) {
		assert_int_equal(feed(&fx, pkt, frag_at(pkt, (uint16_t)(1000 + k), 0, 8, true, NULL), NULL, NULL), 0);
		assert_true(fx.ip.reass.mem <= fx.ip.cfg.reass_high_thresh);
	}
	assert_true(ip_fx_counter(&fx, "ip", "reass_evicted") >= 1000 - 15);
	assert_int_equal(ip_fx_counter(&fx, "ip", "reass_no_mem"), 0);
	for (uint32_t i = 0; i < 3; i++)
		assert_int_equal(feed(&fx, pkt, frag(pkt, 7, 3000, i), i == 2 ? &out : NULL, &rx), i == 2);
	check_whole(out, &rx, 3000);
	assert_int_equal(ip_fx_teardown(&fx), 0);
}

/* Every other 8-byte block: each fragment adds a hole; past IP_REASS_HOLES_MAX the datagram goes. */
static void test_reass_hole_limit(void **state)
{
	(void)state;
	struct ip_fx fx;
	uint8_t pkt[64];

	fill_dgram(2048, 6);
	assert_int_equal(ip_fx_setup(&fx, NULL, NULL), 0);
	for (uint32_t k = 0; k <= IP_REASS_HOLES_MAX; k++)
		assert_int_equal(feed(&fx, pkt, frag_at(pkt, 5, k * 16, 8, true, NULL), NULL, NULL), 0);
	assert_int_equal(ip_fx_counter(&fx, "ip", "reass_too_many_holes"), 1);
	assert_int_equal(ip_reass_slots_used(&fx.ip), 0);
	assert_int_equal(fx.ip.reass.bytes, 0);
	assert_int_equal(ip_fx_teardown(&fx), 0);
}

/* 65515 payload bytes are fine behind a 20-byte header, too big behind a 60-byte one (RFC 791). */
static void test_reass_too_big_with_options(void **state)
{
	(void)state;
	static uint8_t pkt[40000];
	struct ip_fx fx;
	const uint32_t half = 32768, total = IP_DATAGRAM_MAX - 20;

	fill_dgram(total, 8);
	assert_int_equal(ip_fx_setup(&fx, NULL, NULL), 0);
	/* First fragment: IHL 15, 40 bytes of NOP options. */
	memset(pkt, 0, 60);
	pkt[0] = 0x4f;
	put_be16(pkt + 2, (uint16_t)(60 + half));
	put_be16(pkt + 4, 77);
	put_be16(pkt + 6, IPV4_FLAG_MF);
	pkt[8] = 64;
	pkt[9] = IPPROTO_TCP_NUM;
	put_be32(pkt + 12, IP_FX_PEER);
	put_be32(pkt + 16, IP_FX_US);
	memset(pkt + 20, 1, 40);
	put_be16(pkt + 10, csum_finish(csum_add(0, pkt, 60)));
	memcpy(pkt + 60, dgram, half);
	assert_int_equal(feed(&fx, pkt, 60 + half, NULL, NULL), 0);
	assert_int_equal(feed(&fx, pkt, frag_at(pkt, 77, half, total - half, false, NULL), NULL, NULL), 0);
	assert_int_equal(ip_fx_counter(&fx, "ip", "reass_too_big"), 1);
	assert_int_equal(ip_reass_slots_used(&fx.ip), 0);

	/* The same with a 20-byte header reassembles to the largest datagram there is. */
	struct pbuf *pb = NULL;
	struct ipv4_rx rx;
	assert_int_equal(feed(&fx, pkt, frag_at(pkt, 78, 0, half, true, NULL), NULL, NULL), 0);
	assert_int_equal(feed(&fx, pkt, frag_at(pkt, 78, half, total - half, false, NULL), &pb, &rx), 1);
	check_whole(pb, &rx, total);
	assert_int_equal(ip_fx_teardown(&fx), 0);
}

/* The reassembled datagram carries fragment zero's options (RFC 791 3.2). */
static void test_reass_keeps_first_header_options(void **state)
{
	(void)state;
	struct ip_fx fx;
	uint8_t pkt[2048];
	struct pbuf *pb = NULL;
	struct ipv4_rx rx;

	fill_dgram(48, 2);
	assert_int_equal(ip_fx_setup(&fx, NULL, NULL), 0);
	assert_int_equal(feed(&fx, pkt, frag_at(pkt, 3, 24, 24, false, NULL), NULL, NULL), 0);
	/* Fragment zero with IHL 6: a 4-byte option (NOP NOP NOP EOL). */
	uint32_t len = frag_at(pkt + 4, 3, 0, 24, true, NULL);
	memmove(pkt, pkt + 4, 20);
	pkt[0] = 0x46;
	put_be16(pkt + 2, 48);
	pkt[20] = 1; pkt[21] = 1; pkt[22] = 1; pkt[23] = 0;
	put_be16(pkt + 10, 0);
	put_be16(pkt + 10, csum_finish(csum_add(0, pkt, 24)));
	assert_int_equal(feed(&fx, pkt, len + 4, &pb, &rx), 1);
	assert_int_equal(rx.hdr_len, 24);
	assert_int_equal(pb->len, 48);
	assert_memory_equal(pb->data, dgram, 48);
	pbuf_push(pb, 24);
	assert_int_equal(get_be16(pb->data + 2), 72);
	assert_memory_equal(pb->data + 20, "\x01\x01\x01\x00", 4);
	assert_int_equal(csum_finish(csum_add(0, pb->data, 24)), 0);
	pbuf_free(pb);
	assert_int_equal(ip_fx_teardown(&fx), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reass_in_order),
		cmocka_unit_test(test_reass_reversed),
		cmocka_unit_test(test_reass_shuffled),
		cmocka_unit_test(test_reass_duplicates_ignored),
		cmocka_unit_test(test_reass_overlaps_drop_datagram),
		cmocka_unit_test(test_reass_last_before_data),
		cmocka_unit_test(test_reass_timeout),
		cmocka_unit_test(test_reass_timeout_without_first_is_silent),
		cmocka_unit_test(test_reass_slot_limit),
		cmocka_unit_test(test_reass_memory_thresholds),
		cmocka_unit_test(test_reass_fragment_flood_does_not_block),
		cmocka_unit_test(test_reass_hole_limit),
		cmocka_unit_test(test_reass_too_big_with_options),
		cmocka_unit_test(test_reass_keeps_first_header_options),
	};
	return cmocka_run_group_tests_name("reass", tests, NULL, NULL);
}
