/*
 * test_stack_frames.c - whole frames through ts_stack_input(), the way the TAP delivers them,
 * with the stack's output read back from the other end of an in-memory cable (memdev):
 *
 *   - an ARP request for our address gets a reply with our MAC;
 *   - a ping gets an echo reply with identical id, sequence and payload, right checksums;
 *   - a UDP datagram to a port nobody holds gets ICMP port unreachable;
 *   - a SYN to a closed port gets RST|ACK, to a listener a SYN-ACK (the dispatcher's TCP path);
 *   - every truncation (length 0..N-1) of every fixture frame is dropped through a named
 *     drop counter without a crash, and no packet buffer leaks; and again with the IP
 *     length made consistent, so ICMP and TCP see the truncated message themselves.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <cmocka.h>

#include "core/checksum.h"
#include "drivers/memdev.h"
#include "stack.h"
#include "stack_frames.h"
#include "wire/arp.h"
#include "wire/ethernet.h"
#include "wire/icmp.h"
#include "wire/ipv4.h"
#include "wire/tcp.h"

/* ipv4_output's header choice: the stack's default TOS (0) and TTL. */
#define IP_HC_DEFAULT ((struct ip_hdr_choice){ 0 })

#define HOST_IP IPV4_ADDR(10, 0, 0, 1)
#define STACK_IP IPV4_ADDR(10, 0, 0, 2)

static const uint8_t host_mac[ETH_ALEN] = { 0x02, 0, 0, 0, 0, 0x01 };

struct fixture {
	struct stack s;
	struct netdev *peer;     /* the test's end of the cable */
	uint8_t out[NETDEV_RX_ROOM];
	int out_len;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct netdev *mine;
	assert_int_equal(memdev_pair_create(&mine, &f->peer, NULL), 0);
	struct stack_config cfg;
	ts_stack_config_default(&cfg);
	ts_stack_config_fixed(&cfg, 1);
	assert_int_equal(ts_stack_init(&f->s, &cfg, mine, 1000000), 0);
	memdev_set_clock(mine, &f->s.core.now);
	memdev_set_clock(f->peer, &f->s.core.now);
	/* The gratuitous ARP of link_start(): announced, then out of the way. */
	assert_true(memdev_take(f->peer, f->out, sizeof(f->out)) > 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	ts_stack_destroy(&f->s);
	netdev_close(f->peer);
	free(f);
	return 0;
}

/* Injects a frame and lets the stack take it from the device, as the program's loop does. */
static void send_frame(struct fixture *f, const uint8_t *frame, size_t len)
{
	assert_int_equal(memdev_inject(f->peer, frame, len), 0);
	assert_int_equal(ts_stack_poll(&f->s, f->s.core.now), 1);
}

/* The next frame the stack sent, or 0. */
static int next_out(struct fixture *f)
{
	f->out_len = memdev_take(f->peer, f->out, sizeof(f->out));
	assert_true(f->out_len >= 0);
	return f->out_len;
}

/* Sum of every counter named drop_* in every group, the "why was it dropped" family. */
static uint64_t drops(const struct stack *s)
{
	struct counter_group g[32];
	size_t n = ts_stack_counter_groups(s, g, 32);
	uint64_t sum = 0;
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < g[i].n; j++)
			if (strncmp(g[i].names[j], "drop", 4) == 0)
				sum += g[i].values[j];
	return sum;
}

static void test_arp_request_gets_reply(void **state)
{
	struct fixture *f = *state;
	send_frame(f, fx_arp_request, sizeof(fx_arp_request));
	assert_true(next_out(f) >= ETH_MIN_FRAME);
	struct eth_hdr e;
	assert_int_equal(eth_hdr_parse(f->out, (size_t)f->out_len, &e), 0);
	assert_memory_equal(e.dst, host_mac, ETH_ALEN);
	assert_memory_equal(e.src, f->s.link.cfg.mac, ETH_ALEN);
	assert_int_equal(e.type, ETHERTYPE_ARP);
	struct arp_pkt a;
	assert_int_equal(arp_pkt_parse(f->out + ETH_HDR_LEN, (size_t)f->out_len - ETH_HDR_LEN, &a), ARP_PARSE_OK);
	assert_int_equal(a.oper, ARP_OP_REPLY);
	assert_int_equal(a.spa, STACK_IP);
	assert_memory_equal(a.sha, f->s.link.cfg.mac, ETH_ALEN);
	assert_int_equal(a.tpa, HOST_IP);
	assert_memory_equal(a.tha, host_mac, ETH_ALEN);
	assert_int_equal(next_out(f), 0);
}

static void test_ping_gets_identical_reply(void **state)
{
	struct fixture *f = *state;
	send_frame(f, fx_arp_request, sizeof(fx_arp_request));   /* as Linux would first */
	assert_true(next_out(f) > 0);
	send_frame(f, fx_icmp_echo, sizeof(fx_icmp_echo));
	assert_int_equal(next_out(f), (int)sizeof(fx_icmp_echo));
	const uint8_t *ip = f->out + ETH_HDR_LEN;
	struct ipv4_hdr h = { 0 };
	assert_int_equal(ipv4_hdr_parse(ip, (size_t)f->out_len - ETH_HDR_LEN, &h), 0);
	assert_int_equal(h.src, STACK_IP);
	assert_int_equal(h.dst, HOST_IP);
	assert_int_equal(h.proto, IPPROTO_ICMP_NUM);
	assert_int_equal(csum_finish(csum_add(0, ip, h.ihl)), 0);
	const uint8_t *icmp = ip + h.ihl;
	size_t icmp_len = h.total_len - h.ihl;
	assert_int_equal(icmp[ICMP_OFF_TYPE], ICMP_ECHO_REPLY);
	assert_int_equal(csum_finish(csum_add(0, icmp, icmp_len)), 0);
	/* id, sequence and payload are the request's (RFC 792, Echo Reply). */
	const uint8_t *req_icmp = fx_icmp_echo + ETH_HDR_LEN + IPV4_HDR_MIN;
	assert_memory_equal(icmp + ICMP_OFF_ID, req_icmp + ICMP_OFF_ID, icmp_len - ICMP_OFF_ID);
}

/* RFC 1122 4.1.3.1: a datagram to a port nobody holds (9 here) gets port unreachable. */
static void test_udp_to_closed_port_gets_port_unreachable(void **state)
{
	struct fixture *f = *state;
	send_frame(f, fx_arp_request, sizeof(fx_arp_request));
	assert_true(next_out(f) > 0);
	send_frame(f, fx_udp, sizeof(fx_udp));
	assert_true(next_out(f) > 0);
	const uint8_t *ip = f->out + ETH_HDR_LEN;
	struct ipv4_hdr h = { 0 };
	assert_int_equal(ipv4_hdr_parse(ip, (size_t)f->out_len - ETH_HDR_LEN, &h), 0);
	assert_int_equal(h.proto, IPPROTO_ICMP_NUM);
	assert_int_equal(ip[h.ihl + ICMP_OFF_TYPE], ICMP_DEST_UNREACH);
	assert_int_equal(ip[h.ihl + ICMP_OFF_CODE], ICMP_UNREACH_PORT);
	assert_int_equal(f->s.udp.cnt.NoPorts, 1);
	assert_int_equal(f->s.ip.cnt.unknown_proto, 0);
	/* The error quotes the offending IP header and the first 8 bytes after it (RFC 792). */
	assert_memory_equal(ip + h.ihl + ICMP_HDR_LEN, fx_udp + ETH_HDR_LEN, IPV4_HDR_MIN + 8);
}

/* Parses the TCP segment of the frame in f->out (after checking it is IPv4/TCP). */
static void out_tcp(struct fixture *f, struct tcp_hdr *th)
{
	const uint8_t *ip = f->out + ETH_HDR_LEN;
	struct ipv4_hdr h = { 0 };
	assert_int_equal(ipv4_hdr_parse(ip, (size_t)f->out_len - ETH_HDR_LEN, &h), 0);
	assert_int_equal(h.proto, IPPROTO_TCP_NUM);
	assert_int_equal(tcp_hdr_parse(ip + h.ihl, h.total_len - h.ihl, th), TCP_PARSE_OK);
}

/* RFC 9293 3.10.7.1: SYN to CLOSED -> <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>. */
static void test_syn_to_closed_port_gets_rst_ack(void **state)
{
	struct fixture *f = *state;
	send_frame(f, fx_arp_request, sizeof(fx_arp_request));
	assert_true(next_out(f) > 0);
	send_frame(f, fx_tcp_syn, sizeof(fx_tcp_syn));
	assert_true(next_out(f) > 0);
	struct tcp_hdr th;
	out_tcp(f, &th);
	assert_int_equal(th.flags, TCP_FLAG_RST | TCP_FLAG_ACK);
	assert_int_equal(th.seq, 0);
	assert_int_equal(th.ack, 1001);     /* the fixture's SEQ 1000 + 1 for the SYN */
	assert_int_equal(th.sport, 80);
	assert_int_equal(th.dport, 40000);
	assert_int_equal(th.win, 0);
	assert_int_equal(next_out(f), 0);
}

/* With a listener on port 80 the same SYN gets a SYN-ACK carrying our MSS. */
static void test_syn_to_listener_gets_syn_ack(void **state)
{
	struct fixture *f = *state;
	struct socket_layer *sl = ts_stack_sockets(&f->s);
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(80) };
	int fd = ts_socket(sl, AF_INET, SOCK_STREAM, 0);
	assert_true(fd >= 0);
	assert_int_equal(ts_bind(sl, fd, &sa), 0);
	assert_int_equal(ts_listen(sl, fd, 8), 0);
	send_frame(f, fx_arp_request, sizeof(fx_arp_request));
	assert_true(next_out(f) > 0);
	send_frame(f, fx_tcp_syn, sizeof(fx_tcp_syn));
	assert_true(next_out(f) > 0);
	struct tcp_hdr th;
	out_tcp(f, &th);
	assert_int_equal(th.flags, TCP_FLAG_SYN | TCP_FLAG_ACK);
	assert_int_equal(th.ack, 1001);
	assert_true(th.opts.has_mss);
	assert_int_equal(th.opts.mss, 1460);
	/* The handshake is not complete: nothing to accept yet. */
	assert_int_equal(ts_accept(sl, fd, NULL, 0), -EAGAIN);
	assert_int_equal(ts_close(sl, fd), 0);
}

struct fx {
	const char *name;
	const uint8_t *bytes;
	size_t len;
	size_t meaningful;   /* below this the frame is malformed; from it up, only padding is cut */
};

#define FX(n, m) { #n, fx_##n, sizeof(fx_##n), (m) }

static void test_every_truncation_is_dropped(void **state)
{
	struct fixture *f = *state;
	const struct fx all[] = {
		FX(arp_request, 42),
		FX(icmp_echo, sizeof(fx_icmp_echo)),
		FX(icmp_echo_ip_options, sizeof(fx_icmp_echo_ip_options)),
		FX(tcp_syn, sizeof(fx_tcp_syn)),
		FX(udp, sizeof(fx_udp)),
		FX(ip_first_fragment, sizeof(fx_ip_first_fragment)),
	};
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
		for (size_t len = 0; len <= all[i].len; len++) {
			uint64_t before = drops(&f->s);
			uint64_t frames = f->s.cnt.rx_frames;
			/* Each frame in its own pbuf of exactly that many bytes, as a driver gives it. */
			struct pbuf *pb = pbuf_alloc(&f->s.core.pool, PBUF_HEADROOM, NETDEV_RX_ROOM);
			assert_non_null(pb);
			memcpy(pbuf_put(pb, (uint32_t)len), all[i].bytes, len);
			ts_stack_input(&f->s, pb);
			assert_int_equal(f->s.cnt.rx_frames, frames + 1);
			if (len < all[i].meaningful) {
				if (drops(&f->s) <= before)
					fail_msg("%s truncated to %zu bytes: no drop counter moved", all[i].name, len);
			}
			while (next_out(f) > 0)   /* answers to the whole frames, ARP for the host... */
				;
			f->s.core.now += 2 * USEC_PER_SEC;   /* keep the ICMP error limiter out of the way */
			ts_stack_poll(&f->s, f->s.core.now);
		}
	}
	/* Let ARP resolution (3 x 1 s) and reassembly (30 s) time out, second by second as a
	 * real loop would wake: every pbuf is back in the pool. */
	for (int sec = 0; sec < 120; sec++) {
		f->s.core.now += USEC_PER_SEC;
		ts_stack_poll(&f->s, f->s.core.now);
		while (next_out(f) > 0)
			;
	}
	assert_int_equal(f->s.core.pool.cls[0].in_use, 0);
	assert_int_equal(f->s.core.pool.cls[1].in_use, 0);
}

/*
 * The same cuts with the IP total length (and header checksum) rewritten to match, so the
 * datagram passes IP and the truncated transport header or payload reaches ICMP or TCP,
 * which must drop it through their own counters (UDP: drop_truncated below 8 bytes,
 * drop_bad_length while its length field says more than is there).
 */
static void test_every_transport_truncation_is_dropped(void **state)
{
	struct fixture *f = *state;
	const struct fx all[] = {
		FX(icmp_echo, 0),
		FX(icmp_echo_ip_options, 0),
		FX(tcp_syn, 0),
		FX(udp, 0),
	};
	send_frame(f, fx_arp_request, sizeof(fx_arp_request));
	while (next_out(f) > 0)
		;
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
		size_t ihl = (size_t)(all[i].bytes[ETH_HDR_LEN] & 0x0f) * 4;
		for (size_t len = ETH_HDR_LEN + ihl; len < all[i].len; len++) {
			uint8_t frame[256];
			memcpy(frame, all[i].bytes, len);
			uint8_t *ip = frame + ETH_HDR_LEN;
			put_be16(ip + IPV4_OFF_TOTLEN, (uint16_t)(len - ETH_HDR_LEN));
			put_be16(ip + IPV4_OFF_CSUM, 0);
			put_be16(ip + IPV4_OFF_CSUM, csum_finish(csum_add(0, ip, ihl)));
			uint64_t before = drops(&f->s) + f->s.ip.cnt.unknown_proto;
			uint64_t delivered = f->s.ip.cnt.rx_delivered;
			send_frame(f, frame, len);
			assert_int_equal(f->s.ip.cnt.rx_delivered, delivered + 1);
			if (drops(&f->s) + f->s.ip.cnt.unknown_proto <= before)
				fail_msg("%s cut to %zu bytes (consistent IP length): no drop counter moved", all[i].name,
				         len);
			while (next_out(f) > 0)
				;
			f->s.core.now += 2 * USEC_PER_SEC;
			ts_stack_poll(&f->s, f->s.core.now);
		}
	}
}

/* ts_stack_poll takes at most one batch per call, so a flood cannot starve timers and apps. */
static void test_poll_batch_is_bounded(void **state)
{
	struct fixture *f = *state;
	for (unsigned i = 0; i < STACK_POLL_BATCH + 10; i++)
		assert_int_equal(memdev_inject(f->peer, fx_udp, sizeof(fx_udp)), 0);
	assert_int_equal(ts_stack_poll(&f->s, f->s.core.now), (int)STACK_POLL_BATCH);
	assert_int_equal(ts_stack_poll(&f->s, f->s.core.now), 10);
	assert_int_equal(ts_stack_poll(&f->s, f->s.core.now), 0);
}

/* A fake real-time clock for ts_stack_poll_clock: 1 ms later at every read. */
static usec_t fake_clock_at;
static unsigned fake_clock_reads;

static usec_t fake_clock(void)
{
	fake_clock_reads++;
	fake_clock_at += USEC_PER_MS;
	return fake_clock_at;
}

/*
 * ts_stack_poll_clock reads the clock before the batch and before each frame, so each frame
 * is handled at its own time: three ARP requests taken in one batch are answered 1 ms apart (the
 * link's 10 ms delay shows when each answer left), where ts_stack_poll answers them all at
 * the batch's one time.
 */
static void test_poll_clock_times_each_frame(void **state)
{
	struct fixture *f = *state;
	struct memdev_config mc;
	memdev_config_default(&mc);
	for (int round = 0; round < 2; round++) {
		for (int i = 0; i < 3; i++)
			assert_int_equal(memdev_inject(f->peer, fx_arp_request, sizeof(fx_arp_request)), 0);
		mc.delay_usec = 10 * USEC_PER_MS; /* the answers' way back (the requests are queued) */
		memdev_set_impairments(f->peer, &mc);
		usec_t t0 = f->s.core.now;
		fake_clock_at = t0;
		fake_clock_reads = 0;
		if (round == 0) {
			assert_int_equal(ts_stack_poll_clock(&f->s, fake_clock), 3);
			assert_int_equal(fake_clock_reads, 4);  /* the batch, then each frame */
			assert_true(f->s.core.now == t0 + 4 * USEC_PER_MS);
		} else {
			assert_int_equal(ts_stack_poll(&f->s, t0 + USEC_PER_MS), 3);
		}
		for (int i = 0; i < 3; i++) {
			usec_t due = memdev_next_due(f->peer);
			usec_t want = t0 + (round == 0 ? (usec_t)(2 + i) : 1u) * USEC_PER_MS + mc.delay_usec;
			assert_true(due == want);
			f->s.core.now = due;
			assert_true(next_out(f) > 0);
		}
		assert_int_equal(memdev_pending(f->peer), 0);
		mc.delay_usec = 0;
		memdev_set_impairments(f->peer, &mc);
	}
}

/* Two stacks in one process ping each other through memdev: no hidden shared state. */
static void test_two_stacks_resolve_each_other(void **state)
{
	(void)state;
	struct netdev *a, *b;
	assert_int_equal(memdev_pair_create(&a, &b, NULL), 0);
	static struct stack sa, sb;
	struct stack_config ca, cb;
	ts_stack_config_default(&ca);
	ts_stack_config_default(&cb);
	ts_stack_config_fixed(&ca, 1);
	ts_stack_config_fixed(&cb, 2);
	cb.link.addr = HOST_IP;
	cb.link.mac[5] = 0x01;
	assert_int_equal(ts_stack_init(&sa, &ca, a, 0), 0);
	assert_int_equal(ts_stack_init(&sb, &cb, b, 0), 0);
	for (int i = 0; i < 4; i++) {
		ts_stack_poll(&sa, 0);
		ts_stack_poll(&sb, 0);
	}
	/* Each learned the other from its gratuitous ARP? Not by RFC 826's merge rule (no entry
	 * yet, target not us in a request for itself), so resolve explicitly with a ping. */
	uint8_t mac[ETH_ALEN];
	struct pbuf *pb = pbuf_alloc(&sa.core.pool, PBUF_HEADROOM, 64);
	uint8_t *p = pbuf_put(pb, 16);
	struct icmp_hdr ih = { ICMP_ECHO_REQUEST, 0, 0, 0x00070001 };
	memset(p, 0xab, 16);
	icmp_hdr_emit(p, &ih);
	put_be16(p + ICMP_OFF_CSUM, csum_finish(csum_add(0, p, 16)));
	assert_int_equal(ipv4_output(&sa.ip, pb, 0, HOST_IP, IPPROTO_ICMP_NUM, IP_HC_DEFAULT), 0);
	for (int i = 0; i < 6; i++) {
		ts_stack_poll(&sa, 0);
		ts_stack_poll(&sb, 0);
	}
	assert_true(arp_cache_lookup(&sa.link, HOST_IP, mac));
	assert_memory_equal(mac, cb.link.mac, ETH_ALEN);
	assert_int_equal(sb.ip.icmp_cnt.in_echo_requests, 1);
	assert_int_equal(sa.ip.icmp_cnt.in_echo_replies, 1);
	ts_stack_destroy(&sa);
	ts_stack_destroy(&sb);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_arp_request_gets_reply, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ping_gets_identical_reply, setup, teardown),
		cmocka_unit_test_setup_teardown(test_udp_to_closed_port_gets_port_unreachable, setup, teardown),
		cmocka_unit_test_setup_teardown(test_syn_to_closed_port_gets_rst_ack, setup, teardown),
		cmocka_unit_test_setup_teardown(test_syn_to_listener_gets_syn_ack, setup, teardown),
		cmocka_unit_test_setup_teardown(test_every_truncation_is_dropped, setup, teardown),
		cmocka_unit_test_setup_teardown(test_every_transport_truncation_is_dropped, setup, teardown),
		cmocka_unit_test_setup_teardown(test_poll_batch_is_bounded, setup, teardown),
		cmocka_unit_test_setup_teardown(test_poll_clock_times_each_frame, setup, teardown),
		cmocka_unit_test(test_two_stacks_resolve_each_other),
	};
	return cmocka_run_group_tests_name("stack_frames", tests, NULL, NULL);
}
