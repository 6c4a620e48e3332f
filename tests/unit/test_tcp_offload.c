/*
 * test_tcp_offload.c - TCP over a device with offloads (drivers/netdev.h NETDEV_OFF_*, as
 * the TAP with IFF_VNET_HDR offers them; docs/drivers.md "The offload path").
 *
 * Transmit (TSO): one super-segment per burst, gso_size = the MSS, its length cut to whole
 * MSS pieces by the congestion window, PBUF_F_CSUM_PARTIAL with the pseudo-header sum in the
 * checksum field (what the kernel expects of CHECKSUM_PARTIAL); retransmissions by sequence
 * range, one MSS at a time; without the offload nothing changes (no gso, full checksum).
 * Receive (GRO): a 30000-byte segment, bigger than the MSS we offered, with a checksum the
 * device vouched for (PBUF_F_CSUM_OK), is accepted, acknowledged and read byte-exact; two
 * of them out of order too; without PBUF_F_CSUM_OK the same frame's bad checksum is refused.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "core/byteorder.h"
#include "core/checksum.h"
#include "drivers/netdev.h"
#include "socket/socket.h"
#include <sys/socket.h>
#include "wire/ethernet.h"
#include "wire/ipv4.h"
#include "wire/tcp.h"
#include "helpers/tcp_harness.h"

#define ALL_OFFLOADS (NETDEV_OFF_CSUM | NETDEV_OFF_TSO4 | NETDEV_OFF_GRO)
#define BIG_FRAME_MAX (14u + 65535u)

static uint8_t pattern(uint32_t off)
{
	return (uint8_t)(off * 7u + (off >> 9));
}

static void big_buffers(struct stack_config *cfg)
{
	cfg->tcp.wmem_default = 1u << 20;
}

/* One parsed frame the stack sent, payload pointing into the frame. */
struct sent {
	struct th_frame *f;
	struct ipv4_hdr ip;
	struct tcp_hdr tcp;
	const uint8_t *payload;
	uint32_t len;
};

/* Pops the next IPv4 frame the stack sent (ARP skipped) and parses it; false if none. */
static bool pop_sent(struct th *h, struct sent *s)
{
	for (;;) {
		struct th_frame *f = th_fq_pop(&h->tx);
		if (!f)
			return false;
		if (get_be16(f->data + 12) != ETHERTYPE_IPV4) {
			free(f);
			continue;
		}
		memset(s, 0, sizeof(*s));
		s->f = f;
		assert_int_equal(ipv4_hdr_parse(f->data + ETH_HDR_LEN, f->len - ETH_HDR_LEN, &s->ip), 0);
		const uint8_t *t = f->data + ETH_HDR_LEN + s->ip.ihl;
		uint32_t tlen = s->ip.total_len - s->ip.ihl;
		assert_int_equal(tcp_hdr_parse(t, tlen, &s->tcp), 0);
		s->payload = t + s->tcp.doff;
		s->len = tlen - s->tcp.doff;
		return true;
	}
}

/* An offloaded segment: marked PBUF_F_CSUM_PARTIAL, and once the device (the harness's
 * recording driver) has finished it, the checksum verifies over the pseudo-header with the
 * whole TCP length - which holds only if the stack put the right pseudo-header sum in the
 * field (Linux's ~tcp_v4_check(len, saddr, daddr, 0) for CHECKSUM_PARTIAL). */
static void assert_partial_csum(const struct sent *s)
{
	const uint8_t *t = s->f->data + ETH_HDR_LEN + s->ip.ihl;
	uint32_t tlen = s->ip.total_len - s->ip.ihl;
	uint32_t sum = csum_pseudo_ipv4(s->ip.src, s->ip.dst, IPPROTO_TCP_NUM, (uint16_t)tlen);
	assert_true(s->f->pbuf_flags & PBUF_F_CSUM_PARTIAL);
	assert_int_equal(csum_finish(csum_add(sum, t, tlen)), 0);
}

static void free_sent(struct sent *s)
{
	free(s->f);
	s->f = NULL;
}

static void write_pattern(struct th *h, int fd, uint32_t n)
{
	uint8_t *buf = malloc(n);
	assert_non_null(buf);
	for (uint32_t i = 0; i < n; i++)
		buf[i] = pattern(i);
	assert_int_equal(ts_send(th_sl(h), fd, buf, n, 0), (ssize_t)n);
	free(buf);
}

static void assert_payload(const struct sent *s, uint32_t rel)
{
	for (uint32_t i = 0; i < s->len; i++)
		if (s->payload[i] != pattern(rel + i))
			fail_msg("payload byte %u (stream offset %u) differs", i, rel + i);
}

/* Loss recovery with TSO (docs/tcp.md "Loss recovery with SACK"): four adjacent segments
 * lost below six SACKed ones go again as one super-segment, cut by the device at the same
 * boundaries, as Linux retransmits a TSO skb; the SACKed ones are not resent. */
static void test_tso_resends_a_hole_as_one_super_segment(void **state)
{
	(void)state;
	struct th *h = th_new_offload(big_buffers, ALL_OFFLOADS);
	int lfd = th_listen(h, 80, 8);
	struct tcp_opts o = th_mss_opts(1460);
	o.sack_ok = true;
	int fd = th_open_passive(h, lfd, &o, 65535);
	write_pattern(h, fd, 14600);
	struct sent s;
	for (int k = 0; k < 2; k++) { /* two units of half the initial window (docs/tcp.md) */
		assert_true(pop_sent(h, &s));
		assert_int_equal(s.len, 7300);
		free_sent(&s);
	}
	th_advance(h, 1);             /* before the tail loss probe (2 x SRTT + 2 ms) */
	struct tcp_opts a;
	memset(&a, 0, sizeof(a));
	a.sack_count = 1;
	a.sack[0].start = h->iss + 1 + 4 * 1460;
	a.sack[0].end = h->iss + 1 + 14600;
	th_send(h, TCP_FLAG_ACK, h->irs + 1, h->iss + 1, 65535, &a, NULL, 0);
	assert_true(pop_sent(h, &s));
	assert_int_equal(s.tcp.seq, h->iss + 1);
	assert_int_equal(s.len, 4 * 1460);
	assert_int_equal(s.f->gso_size, 1460);
	assert_partial_csum(&s);
	assert_payload(&s, 0);
	free_sent(&s);
	assert_false(pop_sent(h, &s));
	assert_int_equal(th_counter(h, "tcp", "RetransSegs"), 4);
	th_free(h);
}

/* TSO: the initial window (10 segments) goes as two 7300-byte super-segments with gso_size
 * 1460, DF, a partial checksum and PSH (Linux: one skb carries half the congestion window
 * at most, and every GSO packet has PSH); after their ACK, slow start doubles the window
 * and the units to 14600 bytes. */
static void test_tso_super_segments(void **state)
{
	(void)state;
	struct th *h = th_new_offload(big_buffers, ALL_OFFLOADS);
	int fd = th_established(h);
	write_pattern(h, fd, 100000);

	struct sent s;
	for (uint32_t k = 0; k < 2; k++) {
		assert_true(pop_sent(h, &s));
		assert_int_equal(s.tcp.seq, h->iss + 1 + k * 7300);
		assert_int_equal(s.len, 5 * 1460);
		assert_int_equal(s.f->gso_size, 1460);
		assert_true(s.tcp.flags & TCP_FLAG_PSH);
		assert_true(s.ip.df);
		assert_int_equal(s.ip.total_len, 20 + 20 + 5 * 1460);
		assert_partial_csum(&s);
		assert_payload(&s, k * 7300);
		free_sent(&s);
	}
	assert_false(pop_sent(h, &s));

	th_send(h, TCP_FLAG_ACK, h->irs + 1, h->iss + 1 + 14600, 65535, NULL, NULL, 0);
	for (uint32_t k = 0; k < 2; k++) {
		assert_true(pop_sent(h, &s));
		assert_int_equal(s.tcp.seq, h->iss + 1 + 14600 + k * 14600);
		assert_int_equal(s.len, 10 * 1460);
		assert_int_equal(s.f->gso_size, 1460);
		assert_partial_csum(&s);
		assert_payload(&s, 14600 + k * 14600);
		free_sent(&s);
	}
	th_free(h);
}

/* The peer's window, not a whole MSS multiple, ends the burst: cut to whole segments. The
 * end of the written data may be a short last piece when nothing is in flight. */
static void test_tso_window_and_tail(void **state)
{
	(void)state;
	struct th *h = th_new_offload(big_buffers, ALL_OFFLOADS);
	int fd = th_established(h);
	write_pattern(h, fd, 5000);   /* 3 full segments and 620 bytes: all within cwnd */
	struct sent s;
	assert_true(pop_sent(h, &s));
	assert_int_equal(s.len, 5000);
	assert_int_equal(s.f->gso_size, 1460);
	assert_true(s.tcp.flags & TCP_FLAG_PSH);
	assert_payload(&s, 0);
	free_sent(&s);
	assert_false(pop_sent(h, &s));
	/* 1000 bytes more, while 5000 are unacknowledged: Nagle holds the short tail. */
	th_send(h, TCP_FLAG_ACK, h->irs + 1, h->iss + 1 + 5000, 4000, NULL, NULL, 0);
	write_pattern(h, fd, 9000); /* window 4000: 2 whole segments (2920), the rest waits */
	assert_true(pop_sent(h, &s));
	assert_int_equal(s.tcp.seq, h->iss + 1 + 5000);
	assert_int_equal(s.len, 2920);
	assert_int_equal(s.f->gso_size, 1460);
	free_sent(&s);
	assert_false(pop_sent(h, &s));
	th_free(h);
}

/* Loss: nothing acknowledged, the RTO retransmits by sequence range, one MSS without gso;
 * then the ACK of everything lets new data go as super-segments again. */
static void test_tso_retransmit_mss_sized(void **state)
{
	(void)state;
	struct th *h = th_new_offload(big_buffers, ALL_OFFLOADS);
	int fd = th_established(h);
	write_pattern(h, fd, 60000);
	struct sent s;
	for (int k = 0; k < 2; k++) {
		assert_true(pop_sent(h, &s));
		assert_int_equal(s.len, 7300);
		free_sent(&s);
	}

	assert_true(th_advance_until_seg(h, 5000) >= 0);
	assert_true(pop_sent(h, &s));
	assert_int_equal(s.tcp.seq, h->iss + 1);
	assert_int_equal(s.len, 1460);
	assert_int_equal(s.f->gso_size, 0);
	assert_payload(&s, 0);
	free_sent(&s);

	/* A partial ACK (the first 3 MSS arrived after all): the retransmission goes on at
	 * 4380, still one MSS at a time while below the highest sequence sent. */
	th_send(h, TCP_FLAG_ACK, h->irs + 1, h->iss + 1 + 4380, 65535, NULL, NULL, 0);
	uint32_t next = 4380;
	while (pop_sent(h, &s)) {
		assert_int_equal(s.tcp.seq, h->iss + 1 + next);
		if (next < 14600) {
			assert_true(s.len <= 1460);
			assert_int_equal(s.f->gso_size, 0);
		}
		assert_payload(&s, next);
		next += s.len;
		free_sent(&s);
	}
	/* Acknowledge all of it: the rest below the highest sequence sent (14600) is still
	 * retransmitted one MSS at a time; beyond it, new data leaves as a super-segment. */
	th_send(h, TCP_FLAG_ACK, h->irs + 1, h->iss + 1 + next, 65535, NULL, NULL, 0);
	bool super = false;
	while (pop_sent(h, &s)) {
		assert_int_equal(s.tcp.seq, h->iss + 1 + next);
		if (next < 14600) {
			assert_true(s.len <= 1460);
			assert_int_equal(s.f->gso_size, 0);
		} else if (s.len > 1460) {
			assert_int_equal(s.f->gso_size, 1460);
			assert_int_equal(s.len % 1460, 0);
			super = true;
		}
		assert_payload(&s, next);
		next += s.len;
		free_sent(&s);
	}
	assert_true(next > 14600);
	assert_true(super);
	th_free(h);
}

/* Without the offload: the same write goes as MSS-sized segments with full checksums. */
static void test_no_offload_plain_segments(void **state)
{
	(void)state;
	struct th *h = th_new_offload(big_buffers, 0);
	int fd = th_established(h);
	write_pattern(h, fd, 20000);
	for (uint32_t i = 0; i < 10; i++) {
		struct th_seg seg = th_expect(h, TCP_FLAG_ACK | TH_PSH_ANY, h->iss + 1 + i * 1460, h->irs + 1, TH_ANY,
		                              NULL, 1460); /* th_expect verifies the full checksum */
		(void)seg;
	}
	th_expect_none(h);
	th_free(h);
}

/* A GRO frame from the peer: Ethernet + IPv4 + TCP + len bytes of pattern from stream
 * offset rel, with a checksum field holding only the pseudo-header sum (as the kernel leaves
 * it under F_NEEDS_CSUM). Returns the frame length. */
static uint32_t build_gro(struct th *h, uint8_t *frame, uint32_t rel, uint32_t len)
{
	struct eth_hdr eh;
	memcpy(eh.dst, th_local_mac, 6);
	memcpy(eh.src, th_peer_mac, 6);
	eh.type = ETHERTYPE_IPV4;
	eth_hdr_emit(frame, &eh);
	struct tcp_hdr th;
	memset(&th, 0, sizeof(th));
	th.sport = h->peer_port;
	th.dport = h->local_port;
	th.seq = h->irs + 1 + rel;
	th.ack = h->iss + 1;
	th.flags = TCP_FLAG_ACK | TCP_FLAG_PSH;
	th.win = 65535;
	uint8_t *tcp = frame + ETH_HDR_LEN + IPV4_HDR_MIN;
	size_t hl = tcp_hdr_emit(tcp, &th);
	for (uint32_t i = 0; i < len; i++)
		tcp[hl + i] = pattern(rel + i);
	uint16_t tcp_len = (uint16_t)(hl + len);
	put_be16(tcp + TCP_OFF_CSUM, (uint16_t)~csum_finish(csum_pseudo_ipv4(TH_PEER_IP, TH_LOCAL_IP, IPPROTO_TCP_NUM, tcp_len)));
	struct ipv4_hdr ih = {
		.version = 4, .ihl = IPV4_HDR_MIN, .total_len = (uint16_t)(IPV4_HDR_MIN + tcp_len),
		.id = h->ip_id++, .df = true, .ttl = 64, .proto = IPPROTO_TCP_NUM,
		.src = TH_PEER_IP, .dst = TH_LOCAL_IP,
	};
	uint8_t *ip = frame + ETH_HDR_LEN;
	ipv4_hdr_emit(ip, &ih);
	put_be16(ip + IPV4_OFF_CSUM, csum_finish(csum_add(0, ip, IPV4_HDR_MIN)));
	return ETH_HDR_LEN + IPV4_HDR_MIN + tcp_len;
}

static void read_exact(struct th *h, int fd, uint32_t rel, uint32_t n)
{
	uint8_t *buf = malloc(n + 16);
	assert_non_null(buf);
	uint32_t got = 0;
	while (got < n) {
		ssize_t r = ts_recv(th_sl(h), fd, buf + got, n + 16 - got, 0);
		assert_true(r > 0);
		got += (uint32_t)r;
	}
	assert_int_equal(got, n);
	for (uint32_t i = 0; i < n; i++)
		if (buf[i] != pattern(rel + i))
			fail_msg("received byte %u differs", i);
	free(buf);
}

static void test_gro_segment_accepted(void **state)
{
	(void)state;
	struct th *h = th_new_offload(NULL, ALL_OFFLOADS);
	int fd = th_established(h);
	uint8_t *frame = malloc(BIG_FRAME_MAX);
	assert_non_null(frame);
	uint32_t n = build_gro(h, frame, 0, 30000);
	th_inject_meta(h, frame, n, 1448, PBUF_F_CSUM_OK);
	/* More than two segments' worth: acknowledged at once (RFC 1122 4.2.3.2). */
	th_expect(h, TCP_FLAG_ACK, h->iss + 1, h->irs + 1 + 30000, TH_ANY, NULL, 0);
	read_exact(h, fd, 0, 30000);
	assert_int_equal(h->st.tcp.ctr.InCsumErrors, 0);
	free(frame);
	th_free(h);
}

/* Two GRO segments, the second first: queued out of order, then delivered in order. */
static void test_gro_out_of_order(void **state)
{
	(void)state;
	struct th *h = th_new_offload(NULL, ALL_OFFLOADS);
	int fd = th_established(h);
	uint8_t *frame = malloc(BIG_FRAME_MAX);
	assert_non_null(frame);
	uint32_t n = build_gro(h, frame, 20000, 20000);
	th_inject_meta(h, frame, n, 1448, PBUF_F_CSUM_OK);
	th_expect(h, TCP_FLAG_ACK, h->iss + 1, h->irs + 1, TH_ANY, TH_ANY_OPTS, 0); /* duplicate ACK */
	n = build_gro(h, frame, 0, 20000);
	th_inject_meta(h, frame, n, 1448, PBUF_F_CSUM_OK);
	th_expect(h, TCP_FLAG_ACK, h->iss + 1, h->irs + 1 + 40000, TH_ANY, TH_ANY_OPTS, 0);
	read_exact(h, fd, 0, 40000);
	free(frame);
	th_free(h);
}

/* The checksum is only skipped on the device's word: the same frame without
 * PBUF_F_CSUM_OK has a wrong checksum (only the pseudo-header sum) and is refused. */
static void test_gro_needs_device_word(void **state)
{
	(void)state;
	struct th *h = th_new_offload(NULL, ALL_OFFLOADS);
	(void)th_established(h);
	uint8_t *frame = malloc(BIG_FRAME_MAX);
	assert_non_null(frame);
	uint32_t n = build_gro(h, frame, 0, 30000);
	th_inject_meta(h, frame, n, 1448, 0);
	assert_int_equal(h->st.tcp.ctr.InCsumErrors, 1);
	th_expect_none(h);
	free(frame);
	th_free(h);
}

static int rcvbuf_of(struct th *h, int fd)
{
	int v = 0;
	socklen_t len = sizeof(v);
	assert_int_equal(ts_getsockopt(th_sl(h), fd, SOL_SOCKET, SO_RCVBUF, &v, &len), 0);
	return v;
}

/* Receive buffer growth (tcp_input.c tcp_rcvbuf_autogrow): the peer fills the whole
 * advertised window while the application keeps up, so the buffer doubles; two 64 KiB GRO
 * segments are all the 128 KiB default holds. */
static void test_rcvbuf_grows_when_window_filled(void **state)
{
	(void)state;
	struct th *h = th_new_offload(NULL, ALL_OFFLOADS);
	int lfd = th_listen(h, 80, 8);
	struct tcp_opts o = th_mss_opts(1460);
	o.has_wscale = true;
	o.wscale = 7;
	int fd = th_open_passive(h, lfd, &o, 65535);
	int before = rcvbuf_of(h, fd);
	uint8_t *frame = malloc(BIG_FRAME_MAX);
	assert_non_null(frame);
	/* The SYN-ACK offered 65535 bytes (unscaled); one GRO segment of 65495 ends within an
	 * MSS of that edge, and the application reads it at once. */
	uint32_t rel = 0;
	uint32_t n = build_gro(h, frame, rel, 65495);
	th_inject_meta(h, frame, n, 1448, PBUF_F_CSUM_OK);
	read_exact(h, fd, rel, 65495);
	rel += 65495;
	assert_int_equal(before, 131072);
	assert_true(rcvbuf_of(h, fd) > before);
	/* A peer that stays well inside the window does not grow it further. */
	int grown = rcvbuf_of(h, fd);
	th_drain(h);
	n = build_gro(h, frame, rel, 1000);
	th_inject_meta(h, frame, n, 0, PBUF_F_CSUM_OK);
	read_exact(h, fd, rel, 1000);
	assert_int_equal(rcvbuf_of(h, fd), grown);
	free(frame);
	th_free(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tso_super_segments),
		cmocka_unit_test(test_tso_resends_a_hole_as_one_super_segment),
		cmocka_unit_test(test_tso_window_and_tail),
		cmocka_unit_test(test_tso_retransmit_mss_sized),
		cmocka_unit_test(test_no_offload_plain_segments),
		cmocka_unit_test(test_gro_segment_accepted),
		cmocka_unit_test(test_gro_out_of_order),
		cmocka_unit_test(test_gro_needs_device_word),
		cmocka_unit_test(test_rcvbuf_grows_when_window_filled),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
