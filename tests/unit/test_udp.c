/*
 * test_udp.c - UDP (RFC 768, RFC 1122 4.1) with whole frames through ts_stack_input() and the
 * stack's answers read back from the other end of an in-memory cable (memdev):
 *
 *   - checksum vectors: two datagrams Linux sent (even and odd length) are accepted, and the
 *     answer we send carries the checksum Linux would, also when the device finishes it
 *     (offload); a zero checksum means "none";
 *   - malformed input: a bad checksum, a length field beyond or below the datagram, and the
 *     datagram cut at every byte - each dropped through its own counter, nothing leaked;
 *   - a queue bounded by SO_RCVBUF that drops and counts (RcvbufErrors), and all queues
 *     together bounded like Linux's udp_mem (MemErrors);
 *   - port unreachable for a port nobody holds, rate-limited per destination;
 *   - ICMP errors reaching the socket: ECONNREFUSED on a connected socket, once;
 *   - the socket calls with Linux's errors (bind, ephemeral ports, connect and AF_UNSPEC,
 *     sendto/recvfrom/sendmsg/recvmsg, MSG_PEEK, MSG_TRUNC, FIONREAD, SO_BROADCAST,
 *     SO_REUSEADDR, SO_RCVBUF, EMSGSIZE above 65507 bytes, poll readiness);
 *   - two stacks: a 60,000-byte datagram fragmented by one and reassembled by the other.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <cmocka.h>

#include "core/checksum.h"
#include "drivers/memdev.h"
#include "stack.h"
#include "stack_frames.h"
#include "wire/ethernet.h"
#include "wire/icmp.h"
#include "wire/ipv4.h"
#include "wire/udp.h"

#define HOST_IP IPV4_ADDR(10, 0, 0, 1)
#define OTHER_IP IPV4_ADDR(10, 0, 0, 3)
#define STACK_IP IPV4_ADDR(10, 0, 0, 2)

struct fixture {
	struct stack s;
	struct socket_layer *sl;
	struct netdev *peer;
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
	f->sl = ts_stack_sockets(&f->s);
	while (memdev_take(f->peer, f->out, sizeof(f->out)) > 0)
		;                                        /* the gratuitous ARP */
	/* The host introduces itself, so answers go out at once instead of waiting for ARP. */
	assert_int_equal(memdev_inject(f->peer, fx_arp_request, sizeof(fx_arp_request)), 0);
	ts_stack_poll(&f->s, f->s.core.now);
	while (memdev_take(f->peer, f->out, sizeof(f->out)) > 0)
		;
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

static void send_frame(struct fixture *f, const uint8_t *frame, size_t len)
{
	assert_int_equal(memdev_inject(f->peer, frame, len), 0);
	assert_int_equal(ts_stack_poll(&f->s, f->s.core.now), 1);
}

static int next_out(struct fixture *f)
{
	f->out_len = memdev_take(f->peer, f->out, sizeof(f->out));
	assert_true(f->out_len >= 0);
	return f->out_len;
}

/*
 * An Ethernet frame host -> stack (or src -> stack) carrying a UDP datagram at out; returns
 * its length. csum: the checksum as computed, or 0 for "none".
 */
static size_t udp_frame(uint8_t *out, uint32_t src, uint16_t sport, uint16_t dport, const void *data, size_t n,
                        bool csum)
{
	memcpy(out, fx_udp_hello, ETH_HDR_LEN);
	uint8_t *ip = out + ETH_HDR_LEN, *u = ip + IPV4_HDR_MIN;
	struct ipv4_hdr h = { .version = 4, .ihl = 20, .total_len = (uint16_t)(28 + n), .id = 7, .ttl = 64,
		              .proto = IPPROTO_UDP_NUM, .src = src, .dst = STACK_IP };
	ipv4_hdr_emit(ip, &h);
	put_be16(ip + IPV4_OFF_CSUM, csum_finish(csum_add(0, ip, IPV4_HDR_MIN)));
	struct udp_hdr uh = { sport, dport, (uint16_t)(8 + n), 0 };
	udp_hdr_emit(u, &uh);
	memcpy(u + 8, data, n);
	if (csum) {
		uint16_t c = csum_finish(csum_add(csum_pseudo_ipv4(src, STACK_IP, 17, (uint16_t)(8 + n)), u, 8 + n));
		put_be16(u + UDP_OFF_CSUM, c ? c : 0xffff);
	}
	return ETH_HDR_LEN + 28 + n;
}

static int udp_sock_on(struct fixture *f, uint32_t addr, uint16_t port)
{
	int fd = ts_socket(f->sl, AF_INET, SOCK_DGRAM, 0);
	assert_true(fd >= 0);
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(addr) };
	assert_int_equal(ts_bind(f->sl, fd, &sa), 0);
	return fd;
}

static struct sockaddr_in sin_of(uint32_t addr, uint16_t port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(addr) };
	return sa;
}

/* The UDP header of the frame in f->out (checked to be IPv4/UDP from us). */
static const uint8_t *out_udp(struct fixture *f, struct ipv4_hdr *h)
{
	const uint8_t *ip = f->out + ETH_HDR_LEN;
	assert_int_equal(ipv4_hdr_parse(ip, (size_t)f->out_len - ETH_HDR_LEN, h), 0);
	assert_int_equal(h->proto, IPPROTO_UDP_NUM);
	assert_int_equal(h->src, STACK_IP);
	return ip + h->ihl;
}

/* ---- checksums ---- */

/* RFC 768: the pseudo-header checksum of two datagrams Linux sent verifies; we answer with
 * the checksum Linux computes for the same bytes (ports and addresses swapped: same sum). */
static void test_checksum_vectors(void **state)
{
	struct fixture *f = *state;
	int fd = udp_sock_on(f, 0, 7);
	char buf[64];
	struct sockaddr_in from;

	send_frame(f, fx_udp_hello, sizeof(fx_udp_hello));
	send_frame(f, fx_udp_odd, sizeof(fx_udp_odd));
	assert_int_equal(f->s.udp.cnt.InDatagrams, 2);
	assert_int_equal(ts_recvfrom(f->sl, fd, buf, sizeof(buf), 0, &from), 15);
	assert_memory_equal(buf, "hello, tapstack", 15);
	assert_int_equal(ntohl(from.sin_addr.s_addr), HOST_IP);
	assert_int_equal(ntohs(from.sin_port), 40002);
	assert_int_equal(ts_recvfrom(f->sl, fd, buf, sizeof(buf), 0, NULL), 3);
	assert_memory_equal(buf, "odd", 3);

	assert_int_equal(ts_sendto(f->sl, fd, "hello, tapstack", 15, 0, &from), 15);
	assert_int_equal(next_out(f), ETH_MIN_FRAME);  /* 57 bytes padded to the Ethernet minimum */
	struct ipv4_hdr h;
	const uint8_t *u = out_udp(f, &h);
	assert_int_equal(h.dst, HOST_IP);
	assert_false(h.df);
	assert_int_equal(get_be16(u + UDP_OFF_SPORT), 7);
	assert_int_equal(get_be16(u + UDP_OFF_DPORT), 40002);
	assert_int_equal(get_be16(u + UDP_OFF_LEN), 23);
	assert_int_equal(get_be16(u + UDP_OFF_CSUM), 0x49b9);
	assert_int_equal(f->s.udp.cnt.OutDatagrams, 1);
	assert_int_equal(ts_close(f->sl, fd), 0);
}

/*
 * With checksum offload (a TAP with IFF_VNET_HDR), a datagram that leaves whole carries only
 * the pseudo-header sum and the device finishes it: memdev does as the kernel would, and the
 * result is Linux's vector. One that must be fragmented is summed by the stack.
 */
static void test_checksum_offload(void **state)
{
	(void)state;
	struct netdev *mine, *peer;
	struct memdev_config mc;
	memdev_config_default(&mc);
	mc.offload = NETDEV_OFF_CSUM;
	assert_int_equal(memdev_pair_create(&mine, &peer, &mc), 0);
	static struct stack s;
	struct stack_config cfg;
	ts_stack_config_default(&cfg);
	ts_stack_config_fixed(&cfg, 1);
	assert_int_equal(ts_stack_init(&s, &cfg, mine, 1000000), 0);
	assert_true(s.udp.cfg.csum_offload);
	static uint8_t out[NETDEV_RX_ROOM];
	while (memdev_take(peer, out, sizeof(out)) > 0)
		;
	assert_int_equal(memdev_inject(peer, fx_arp_request, sizeof(fx_arp_request)), 0);
	ts_stack_poll(&s, s.core.now);
	while (memdev_take(peer, out, sizeof(out)) > 0)
		;
	struct socket_layer *sl = ts_stack_sockets(&s);
	int fd = ts_socket(sl, AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in at = sin_of(0, 7), to = sin_of(HOST_IP, 40002);
	assert_int_equal(ts_bind(sl, fd, &at), 0);
	assert_int_equal(ts_sendto(sl, fd, "hello, tapstack", 15, 0, &to), 15);
	assert_true(memdev_take(peer, out, sizeof(out)) > 0);
	assert_int_equal(get_be16(out + ETH_HDR_LEN + IPV4_HDR_MIN + UDP_OFF_CSUM), 0x49b9);

	static uint8_t data[3000];
	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 13 + 5);
	assert_int_equal(ts_sendto(sl, fd, data, sizeof(data), 0, &to), 3000);
	assert_true(memdev_take(peer, out, sizeof(out)) > 0);   /* the first fragment: the header */
	uint8_t hdr[8] = { 0, 7, 0x9c, 0x42, 3008 >> 8, 3008 & 0xff, 0, 0 };
	uint32_t sum = csum_add(csum_pseudo_ipv4(STACK_IP, HOST_IP, 17, 3008), hdr, 8);
	assert_int_equal(get_be16(out + ETH_HDR_LEN + IPV4_HDR_MIN + UDP_OFF_CSUM),
	                 csum_finish(csum_add(sum, data, sizeof(data))));
	ts_stack_destroy(&s);
	netdev_close(peer);
}

/* RFC 768 / RFC 1122 4.1.3.4: checksum 0 means none was computed: accepted. */
static void test_zero_checksum_accepted(void **state)
{
	struct fixture *f = *state;
	int fd = udp_sock_on(f, 0, 9);
	char buf[16];
	send_frame(f, fx_udp, sizeof(fx_udp));   /* to port 9, checksum 0, "abcd" */
	assert_int_equal(ts_recv(f->sl, fd, buf, sizeof(buf), 0), 4);
	assert_memory_equal(buf, "abcd", 4);
	assert_int_equal(f->s.udp.cnt.InCsumErrors, 0);
}

/* A computed checksum of 0 goes out as 0xffff (RFC 768), never as "none". */
static void test_computed_zero_sent_as_ones(void **state)
{
	struct fixture *f = *state;
	int fd = udp_sock_on(f, 0, 7);
	struct sockaddr_in to = sin_of(HOST_IP, 40002);
	/* Choose two payload bytes that make the sum come to 0: find them by trying. */
	uint8_t data[2] = { 0, 0 };
	uint32_t base = csum_pseudo_ipv4(STACK_IP, HOST_IP, 17, 10);
	uint8_t hdr[8] = { 0, 7, 0x9c, 0x42, 0, 10, 0, 0 };  /* 7 -> 40002, length 10 */
	base = csum_add(base, hdr, 8);
	uint16_t need = csum_finish(base);                 /* the word that makes the sum 0xffff */
	put_be16(data, need);
	assert_int_equal(csum_finish(csum_add(base, data, 2)), 0);
	assert_int_equal(ts_sendto(f->sl, fd, data, 2, 0, &to), 2);
	assert_true(next_out(f) > 0);
	struct ipv4_hdr h;
	const uint8_t *u = out_udp(f, &h);
	assert_int_equal(get_be16(u + UDP_OFF_CSUM), 0xffff);
}

/* RFC 1122 4.1.3.4: a checksum that fails is discarded silently (no ICMP), and counted. */
static void test_bad_checksum_dropped(void **state)
{
	struct fixture *f = *state;
	int fd = udp_sock_on(f, 0, 7);
	uint8_t frame[sizeof(fx_udp_hello)];
	char buf[32];
	memcpy(frame, fx_udp_hello, sizeof(frame));
	frame[sizeof(frame) - 1] ^= 0x01;
	send_frame(f, frame, sizeof(frame));
	assert_int_equal(f->s.udp.cnt.InCsumErrors, 1);
	assert_int_equal(f->s.udp.cnt.InErrors, 1);
	assert_int_equal(f->s.udp.cnt.InDatagrams, 0);
	assert_int_equal(ts_recv(f->sl, fd, buf, sizeof(buf), 0), -EAGAIN);
	assert_int_equal(next_out(f), 0);
	/* Also to a closed port: the checksum is checked before the port (no error for junk). */
	frame[ETH_HDR_LEN + 20 + UDP_OFF_DPORT + 1] = 99;
	send_frame(f, frame, sizeof(frame));
	assert_int_equal(f->s.udp.cnt.InCsumErrors, 2);
	assert_int_equal(f->s.udp.cnt.NoPorts, 0);
	assert_int_equal(next_out(f), 0);
}

/* RFC 768: the length field against the IP payload - beyond it the datagram is refused;
 * below it the rest is not UDP's and is cut off. */
static void test_bad_length(void **state)
{
	struct fixture *f = *state;
	int fd = udp_sock_on(f, 0, 9);
	uint8_t frame[128];
	char buf[32];
	size_t n = udp_frame(frame, HOST_IP, 5000, 9, "0123456789", 10, false);
	uint8_t *u = frame + ETH_HDR_LEN + IPV4_HDR_MIN;

	put_be16(u + UDP_OFF_LEN, 19);             /* one more than there is */
	send_frame(f, frame, n);
	put_be16(u + UDP_OFF_LEN, 7);              /* below the header */
	send_frame(f, frame, n);
	assert_int_equal(f->s.udp.cnt.drop_bad_length, 2);
	assert_int_equal(f->s.udp.cnt.InErrors, 2);
	assert_int_equal(ts_recv(f->sl, fd, buf, sizeof(buf), 0), -EAGAIN);

	put_be16(u + UDP_OFF_LEN, 8 + 4);          /* shorter than the IP payload: trimmed */
	send_frame(f, frame, n);
	assert_int_equal(ts_recv(f->sl, fd, buf, sizeof(buf), 0), 4);
	assert_memory_equal(buf, "0123", 4);
	assert_int_equal(next_out(f), 0);
}

/* Every cut of a datagram (IP length made consistent): below 8 bytes drop_truncated, then
 * drop_bad_length while the length field says more; no buffer leaks, nothing answered. */
static void test_truncation_at_every_byte(void **state)
{
	struct fixture *f = *state;
	int fd = udp_sock_on(f, 0, 7);
	for (size_t len = ETH_HDR_LEN + IPV4_HDR_MIN; len < sizeof(fx_udp_hello); len++) {
		uint8_t frame[sizeof(fx_udp_hello)];
		memcpy(frame, fx_udp_hello, len);
		uint8_t *ip = frame + ETH_HDR_LEN;
		put_be16(ip + IPV4_OFF_TOTLEN, (uint16_t)(len - ETH_HDR_LEN));
		put_be16(ip + IPV4_OFF_CSUM, 0);
		put_be16(ip + IPV4_OFF_CSUM, csum_finish(csum_add(0, ip, IPV4_HDR_MIN)));
		uint64_t trunc = f->s.udp.cnt.drop_truncated, bad = f->s.udp.cnt.drop_bad_length;
		send_frame(f, frame, len);
		size_t ulen = len - ETH_HDR_LEN - IPV4_HDR_MIN;
		if (ulen < UDP_HDR_LEN)
			assert_int_equal(f->s.udp.cnt.drop_truncated, trunc + 1);
		else
			assert_int_equal(f->s.udp.cnt.drop_bad_length, bad + 1);
		assert_int_equal(next_out(f), 0);
	}
	assert_int_equal(f->s.udp.cnt.InDatagrams, 0);
	assert_int_equal(ts_inq(f->sl, fd), 0);
	assert_int_equal(ts_close(f->sl, fd), 0);
	assert_int_equal(f->s.core.pool.cls[0].in_use, 0);
}

/* ---- the receive queue ---- */

/* The queue admits datagrams while it holds no more than SO_RCVBUF; the rest are dropped
 * and counted (RcvbufErrors, InErrors, the socket's own drops), the queued ones intact. */
static void test_queue_overflow(void **state)
{
	struct fixture *f = *state;
	int fd = udp_sock_on(f, 0, 9);
	int one = 1, v = 0;
	socklen_t vl = sizeof(v);
	assert_int_equal(ts_setsockopt(f->sl, fd, SOL_SOCKET, SO_RCVBUF, &one, sizeof(one)), 0);
	assert_int_equal(ts_getsockopt(f->sl, fd, SOL_SOCKET, SO_RCVBUF, &v, &vl), 0);
	assert_int_equal(v, 2304);                 /* Linux's SOCK_MIN_RCVBUF */
	uint8_t frame[128];
	for (int i = 0; i < 20; i++) {
		char msg[16];
		snprintf(msg, sizeof(msg), "dg%02d", i);
		send_frame(f, frame, udp_frame(frame, HOST_IP, 5000, 9, msg, 4, true));
	}
	uint64_t in = f->s.udp.cnt.InDatagrams, dropped = f->s.udp.cnt.RcvbufErrors;
	assert_true(in >= 1 && in < 20);
	assert_int_equal(in + dropped, 20);
	assert_int_equal(f->s.udp.cnt.InErrors, dropped);
	for (uint64_t i = 0; i < in; i++) {
		char buf[16], want[16];
		snprintf(want, sizeof(want), "dg%02d", (int)i);
		assert_int_equal(ts_recv(f->sl, fd, buf, sizeof(buf), 0), 4);
		assert_memory_equal(buf, want, 4);
	}
	assert_int_equal(ts_recv(f->sl, fd, frame, sizeof(frame), 0), -EAGAIN);
	/* Room again: the next datagram is queued. */
	send_frame(f, frame, udp_frame(frame, HOST_IP, 5000, 9, "more", 4, true));
	assert_int_equal(ts_inq(f->sl, fd), 4);
	assert_int_equal(f->s.core.pool.cls[1].in_use, 0);
}

/* All queues together hold at most mem_max (Linux's udp_mem): past it datagrams are dropped
 * as MemErrors even though each socket has room; reading or closing gives the room back. */
static void test_udp_mem_bound(void **state)
{
	struct fixture *f = *state;
	f->s.udp.cfg.mem_max = 8192;
	int a = udp_sock_on(f, 0, 9), b = udp_sock_on(f, 0, 10);
	uint8_t frame[128];
	for (int i = 0; i < 4; i++) {
		send_frame(f, frame, udp_frame(frame, HOST_IP, 5000, 9, "a", 1, true));
		send_frame(f, frame, udp_frame(frame, HOST_IP, 5000, 10, "b", 1, true));
	}
	uint64_t queued = f->s.udp.cnt.InDatagrams;
	assert_int_equal(queued + f->s.udp.cnt.MemErrors, 8);
	assert_true(f->s.udp.cnt.MemErrors >= 4);
	assert_int_equal(f->s.udp.cnt.RcvbufErrors, 0);
	assert_true(f->s.udp.rmem <= 8192);
	char buf[8];
	assert_int_equal(ts_recv(f->sl, a, buf, sizeof(buf), 0), 1);
	send_frame(f, frame, udp_frame(frame, HOST_IP, 5000, 10, "b", 1, true));
	assert_int_equal(f->s.udp.cnt.InDatagrams, queued + 1);
	assert_int_equal(ts_close(f->sl, a), 0);
	assert_int_equal(ts_close(f->sl, b), 0);
	assert_int_equal(f->s.udp.rmem, 0);
}

/* ---- port unreachable ---- */

/* RFC 1122 4.1.3.1: a port nobody holds gets port unreachable quoting the datagram; Linux's
 * per-destination bucket (6, then one a second) limits them, and another host still gets its
 * own answer; a broadcast to a closed port gets nothing (RFC 1122 3.2.2). */
static void test_port_unreachable_rate_limited_per_destination(void **state)
{
	struct fixture *f = *state;
	uint8_t frame[128];
	size_t n = udp_frame(frame, HOST_IP, 5000, 99, "probe", 5, true);
	int sent = 0;
	for (int i = 0; i < 10; i++) {
		send_frame(f, frame, n);
		while (next_out(f) > 0) {
			const uint8_t *ip = f->out + ETH_HDR_LEN;
			assert_int_equal(ip[IPV4_OFF_PROTO], IPPROTO_ICMP_NUM);
			assert_int_equal(ip[20 + ICMP_OFF_TYPE], ICMP_DEST_UNREACH);
			assert_int_equal(ip[20 + ICMP_OFF_CODE], ICMP_UNREACH_PORT);
			/* RFC 792: the offending IP header and (at least) its first 8 data bytes. */
			assert_memory_equal(ip + 20 + ICMP_HDR_LEN, frame + ETH_HDR_LEN, IPV4_HDR_MIN + 8);
			sent++;
		}
	}
	assert_int_equal(sent, 6);
	assert_int_equal(f->s.udp.cnt.NoPorts, 10);
	assert_int_equal(f->s.ip.icmp_cnt.err_ratelimited, 4);
	/* Another source has its own bucket: its error is sent (after ARP for it). */
	uint8_t other[128];
	send_frame(f, other, udp_frame(other, OTHER_IP, 5000, 99, "probe", 5, true));
	assert_int_equal(f->s.ip.icmp_cnt.out_dest_unreachs, 7);
	while (next_out(f) > 0)
		;
	/* One second later the first host has one token again. */
	f->s.core.now += USEC_PER_SEC;
	send_frame(f, frame, n);
	assert_int_equal(f->s.ip.icmp_cnt.out_dest_unreachs, 8);
	send_frame(f, frame, n);
	assert_int_equal(f->s.ip.icmp_cnt.out_dest_unreachs, 8);
	assert_int_equal(f->s.ip.icmp_cnt.err_ratelimited, 5);
	while (next_out(f) > 0)
		;
	/* A broadcast to the closed port: dropped, counted, never answered. */
	uint8_t *ip = frame + ETH_HDR_LEN;
	put_be32(ip + IPV4_OFF_DST, IPV4_ADDR(10, 0, 0, 255));
	put_be16(ip + IPV4_OFF_CSUM, 0);
	put_be16(ip + IPV4_OFF_CSUM, csum_finish(csum_add(0, ip, IPV4_HDR_MIN)));
	put_be16(ip + 20 + UDP_OFF_CSUM, 0);
	f->s.core.now += 10 * USEC_PER_SEC;
	ts_stack_poll(&f->s, f->s.core.now);          /* ARP's retries for 10.0.0.3 go out and end */
	while (next_out(f) > 0)
		;
	send_frame(f, frame, n);
	assert_int_equal(f->s.udp.cnt.IgnoredMulti, 1);
	assert_int_equal(next_out(f), 0);
}

/* The global bucket (icmp_msgs_burst 50) bounds errors to many forged sources together. */
static void test_port_unreachable_global_limit(void **state)
{
	struct fixture *f = *state;
	uint8_t frame[128];
	for (uint32_t i = 0; i < 60; i++) {
		uint32_t src = IPV4_ADDR(10, 0, 0, 10 + i);
		send_frame(f, frame, udp_frame(frame, src, 5000, 99, "x", 1, true));
		while (next_out(f) > 0)
			;
	}
	assert_int_equal(f->s.udp.cnt.NoPorts, 60);
	assert_int_equal(f->s.ip.icmp_cnt.out_dest_unreachs, 50);
	assert_int_equal(f->s.ip.icmp_cnt.err_ratelimited_global, 10);
	assert_int_equal(f->s.ip.icmp_cnt.err_ratelimited, 0);
}

/* ---- ICMP errors to the socket ---- */

/* An ICMP port unreachable from `from` quoting the datagram in f->out. */
static size_t icmp_unreach_frame(struct fixture *f, uint8_t *out, uint32_t from, uint8_t code)
{
	const uint8_t *q = f->out + ETH_HDR_LEN;
	size_t qlen = IPV4_HDR_MIN + 8;
	memcpy(out, fx_udp_hello, ETH_HDR_LEN);
	uint8_t *ip = out + ETH_HDR_LEN, *ic = ip + IPV4_HDR_MIN;
	struct ipv4_hdr h = { .version = 4, .ihl = 20, .total_len = (uint16_t)(20 + 8 + qlen), .id = 9, .ttl = 64,
		              .proto = IPPROTO_ICMP_NUM, .src = from, .dst = STACK_IP };
	ipv4_hdr_emit(ip, &h);
	put_be16(ip + IPV4_OFF_CSUM, csum_finish(csum_add(0, ip, IPV4_HDR_MIN)));
	struct icmp_hdr ih = { ICMP_DEST_UNREACH, code, 0, 0 };
	icmp_hdr_emit(ic, &ih);
	memcpy(ic + ICMP_HDR_LEN, q, qlen);
	put_be16(ic + ICMP_OFF_CSUM, csum_finish(csum_add(0, ic, ICMP_HDR_LEN + qlen)));
	return ETH_HDR_LEN + IPV4_HDR_MIN + ICMP_HDR_LEN + qlen;
}

/* Linux __udp4_lib_err: port unreachable is a hard error, reported to a connected socket as
 * ECONNREFUSED - POLLERR, then the next call fails once, then all is as before. */
static void test_econnrefused_on_connected_socket(void **state)
{
	struct fixture *f = *state;
	int fd = ts_socket(f->sl, AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in peer = sin_of(HOST_IP, 5000);
	uint8_t frame[256];
	char buf[16];
	assert_int_equal(ts_connect(f->sl, fd, &peer), 0);
	assert_int_equal(ts_send(f->sl, fd, "ping", 4, 0), 4);
	assert_true(next_out(f) > 0);
	assert_int_equal(ts_revents(f->sl, fd), POLLOUT);
	send_frame(f, frame, icmp_unreach_frame(f, frame, HOST_IP, ICMP_UNREACH_PORT));
	assert_int_equal(f->s.udp.cnt.IcmpReported, 1);
	assert_int_equal(ts_revents(f->sl, fd), POLLOUT | POLLERR);
	assert_int_equal(ts_recv(f->sl, fd, buf, sizeof(buf), 0), -ECONNREFUSED);
	assert_int_equal(ts_recv(f->sl, fd, buf, sizeof(buf), 0), -EAGAIN);
	/* Again, and this time the send reports it. */
	send_frame(f, frame, icmp_unreach_frame(f, frame, HOST_IP, ICMP_UNREACH_PORT));
	assert_int_equal(ts_send(f->sl, fd, "ping", 4, 0), -ECONNREFUSED);
	assert_int_equal(ts_send(f->sl, fd, "ping", 4, 0), 4);
	assert_true(next_out(f) > 0);
	/* And through SO_ERROR. */
	send_frame(f, frame, icmp_unreach_frame(f, frame, HOST_IP, ICMP_UNREACH_PORT));
	int e = 0;
	socklen_t el = sizeof(e);
	assert_int_equal(ts_getsockopt(f->sl, fd, SOL_SOCKET, SO_ERROR, &e, &el), 0);
	assert_int_equal(e, ECONNREFUSED);
	assert_int_equal(ts_revents(f->sl, fd), POLLOUT);
	/* A soft error (host unreachable from a router) is not reported (no IP_RECVERR). */
	send_frame(f, frame, icmp_unreach_frame(f, frame, IPV4_ADDR(10, 0, 0, 254), ICMP_UNREACH_HOST));
	assert_int_equal(f->s.udp.cnt.IcmpIgnored, 1);
	assert_int_equal(ts_revents(f->sl, fd), POLLOUT);
	assert_int_equal(ts_close(f->sl, fd), 0);
	/* The socket is gone: the error finds nobody. */
	send_frame(f, frame, icmp_unreach_frame(f, frame, HOST_IP, ICMP_UNREACH_PORT));
	assert_int_equal(f->s.udp.cnt.IcmpNoSocket, 1);
}

/* An unconnected socket never hears of ICMP errors (Linux without IP_RECVERR). */
static void test_unconnected_socket_ignores_icmp(void **state)
{
	struct fixture *f = *state;
	int fd = udp_sock_on(f, 0, 4000);
	struct sockaddr_in to = sin_of(HOST_IP, 5000);
	uint8_t frame[256];
	char buf[8];
	assert_int_equal(ts_sendto(f->sl, fd, "x", 1, 0, &to), 1);
	assert_true(next_out(f) > 0);
	send_frame(f, frame, icmp_unreach_frame(f, frame, HOST_IP, ICMP_UNREACH_PORT));
	assert_int_equal(f->s.udp.cnt.IcmpIgnored, 1);
	assert_int_equal(ts_revents(f->sl, fd), POLLOUT);
	assert_int_equal(ts_recv(f->sl, fd, buf, sizeof(buf), 0), -EAGAIN);
}

/* ---- the socket calls ---- */

static void test_socket_calls(void **state)
{
	struct fixture *f = *state;
	struct socket_layer *sl = f->sl;
	struct sockaddr_in sa = sin_of(0, 7), got;
	int a = ts_socket(sl, AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	int b = ts_socket(sl, AF_INET, SOCK_DGRAM, IPPROTO_UDP);
	int v = 0;
	socklen_t vl = sizeof(v);
	assert_true(a >= 0 && b >= 0);
	assert_int_equal(ts_socket(sl, AF_INET, SOCK_DGRAM, IPPROTO_TCP), -EPROTONOSUPPORT);
	assert_int_equal(ts_getsockopt(sl, a, SOL_SOCKET, SO_TYPE, &v, &vl), 0);
	assert_int_equal(v, SOCK_DGRAM);
	assert_int_equal(ts_listen(sl, a, 8), -EOPNOTSUPP);
	assert_int_equal(ts_accept(sl, a, NULL, 0), -EOPNOTSUPP);
	assert_int_equal(ts_setsockopt(sl, a, IPPROTO_TCP, TCP_NODELAY, &v, sizeof(v)), -ENOPROTOOPT);
	/* Nothing queued yet; no destination. */
	assert_int_equal(ts_recv(sl, a, &v, sizeof(v), 0), -EAGAIN);
	assert_int_equal(ts_send(sl, a, "x", 1, 0), -EDESTADDRREQ);
	assert_int_equal(ts_getpeername(sl, a, &got), -ENOTCONN);
	assert_int_equal(ts_shutdown(sl, a, SHUT_WR), -ENOTCONN);
	/* bind: a port held by another socket is busy unless both say SO_REUSEADDR. */
	assert_int_equal(ts_bind(sl, a, &sa), 0);
	assert_int_equal(ts_bind(sl, a, &sa), -EINVAL);
	assert_int_equal(ts_bind(sl, b, &sa), -EADDRINUSE);
	struct sockaddr_in foreign = sin_of(IPV4_ADDR(192, 0, 2, 1), 7);
	assert_int_equal(ts_bind(sl, b, &foreign), -EADDRNOTAVAIL);
	int one = 1;
	assert_int_equal(ts_setsockopt(sl, a, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)), 0);
	assert_int_equal(ts_setsockopt(sl, b, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)), 0);
	assert_int_equal(ts_bind(sl, b, &sa), 0);
	assert_int_equal(ts_close(sl, b), 0);
	/* SO_RCVBUF is clamped to rmem_max (212992), then doubled (Linux). */
	int huge = 1 << 30;
	assert_int_equal(ts_setsockopt(sl, a, SOL_SOCKET, SO_RCVBUF, &huge, sizeof(huge)), 0);
	vl = sizeof(v);
	assert_int_equal(ts_getsockopt(sl, a, SOL_SOCKET, SO_RCVBUF, &v, &vl), 0);
	assert_int_equal(v, 425984);
	/* A TCP socket on the same port number is another port space. */
	int t = ts_socket(sl, AF_INET, SOCK_STREAM, 0);
	assert_int_equal(ts_bind(sl, t, &sa), 0);
	assert_int_equal(ts_close(sl, t), 0);

	/* An unbound socket takes an ephemeral port at its first send. */
	int c = ts_socket(sl, AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in to = sin_of(HOST_IP, 5000);
	assert_int_equal(ts_getsockname(sl, c, &got), 0);
	assert_int_equal(got.sin_port, 0);
	assert_int_equal(ts_sendto(sl, c, "hi", 2, 0, &to), 2);
	assert_int_equal(ts_getsockname(sl, c, &got), 0);
	assert_true(ntohs(got.sin_port) >= 32768 && ntohs(got.sin_port) <= 60999);
	assert_true(next_out(f) > 0);
	/* sendto: bad family, short name, port 0. */
	struct sockaddr_in bad = to;
	bad.sin_family = AF_INET6;
	assert_int_equal(ts_sendto(sl, c, "x", 1, 0, &bad), -EAFNOSUPPORT);
	struct iovec iov = { (void *)"x", 1 };
	struct msghdr m = { .msg_name = &to, .msg_namelen = 8, .msg_iov = &iov, .msg_iovlen = 1 };
	assert_int_equal(ts_sendmsg(sl, c, &m, 0), -EINVAL);
	struct sockaddr_in port0 = sin_of(HOST_IP, 0);
	assert_int_equal(ts_sendto(sl, c, "x", 1, 0, &port0), -EINVAL);
	/* sendmsg gathers several pieces into one datagram. */
	struct iovec parts[3] = { { (void *)"ab", 2 }, { (void *)"", 0 }, { (void *)"cde", 3 } };
	m = (struct msghdr){ .msg_name = &to, .msg_namelen = sizeof(to), .msg_iov = parts, .msg_iovlen = 3 };
	assert_int_equal(ts_sendmsg(sl, c, &m, 0), 5);
	assert_true(next_out(f) > 0);
	struct ipv4_hdr h;
	const uint8_t *u = out_udp(f, &h);
	assert_int_equal(get_be16(u + UDP_OFF_LEN), 13);
	assert_memory_equal(u + 8, "abcde", 5);
	/* Broadcast needs SO_BROADCAST (Linux: EACCES). */
	struct sockaddr_in bcast = sin_of(IPV4_ADDR(10, 0, 0, 255), 5000);
	assert_int_equal(ts_sendto(sl, c, "x", 1, 0, &bcast), -EACCES);
	assert_int_equal(ts_setsockopt(sl, c, SOL_SOCKET, SO_BROADCAST, &one, sizeof(one)), 0);
	assert_int_equal(ts_sendto(sl, c, "x", 1, 0, &bcast), 1);
	assert_true(next_out(f) > 0);
	assert_memory_equal(f->out, "\xff\xff\xff\xff\xff\xff", 6);
	assert_int_equal(ts_close(sl, c), 0);
	assert_int_equal(ts_close(sl, a), 0);
}

/* MSG_PEEK, MSG_TRUNC, recvmsg's sender and flags, FIONREAD, zero-length datagrams, readiness. */
static void test_receive_flags(void **state)
{
	struct fixture *f = *state;
	struct socket_layer *sl = f->sl;
	int fd = udp_sock_on(f, STACK_IP, 9);
	uint8_t frame[128];
	char buf[32];
	assert_int_equal(ts_revents(sl, fd), POLLOUT);
	send_frame(f, frame, udp_frame(frame, HOST_IP, 5000, 9, "0123456789", 10, true));
	send_frame(f, frame, udp_frame(frame, HOST_IP, 5001, 9, "", 0, true));
	assert_int_equal(ts_revents(sl, fd), POLLIN | POLLOUT);
	assert_int_equal(ts_inq(sl, fd), 10);
	/* Peek: the datagram stays. */
	assert_int_equal(ts_recv(sl, fd, buf, 4, MSG_PEEK), 4);
	assert_memory_equal(buf, "0123", 4);
	/* MSG_TRUNC returns its whole length even when it was cut. */
	assert_int_equal(ts_recv(sl, fd, buf, 4, MSG_PEEK | MSG_TRUNC), 10);
	/* recvmsg: cut to the buffer, MSG_TRUNC in msg_flags, the rest discarded. */
	struct sockaddr_in from;
	struct iovec iov[2] = { { buf, 3 }, { buf + 3, 3 } };
	struct msghdr m = { .msg_name = &from, .msg_namelen = sizeof(from), .msg_iov = iov, .msg_iovlen = 2 };
	assert_int_equal(ts_recvmsg(sl, fd, &m, 0), 6);
	assert_memory_equal(buf, "012345", 6);
	assert_true(m.msg_flags & MSG_TRUNC);
	assert_int_equal(m.msg_namelen, sizeof(from));
	assert_int_equal(ntohs(from.sin_port), 5000);
	/* A zero-length datagram is a datagram: recv returns 0, and it is gone. */
	assert_int_equal(ts_inq(sl, fd), 0);
	assert_int_equal(ts_revents(sl, fd), POLLIN | POLLOUT);
	assert_int_equal(ts_recvfrom(sl, fd, buf, sizeof(buf), MSG_DONTWAIT, &from), 0);
	assert_int_equal(ntohs(from.sin_port), 5001);
	assert_int_equal(ts_recv(sl, fd, buf, sizeof(buf), 0), -EAGAIN);
	assert_int_equal(ts_revents(sl, fd), POLLOUT);
}

/* connect() filters who may send to us; connect(AF_UNSPEC) forgets the peer and the port the
 * connect chose, not a port bind() chose. */
static void test_connect_and_disconnect(void **state)
{
	struct fixture *f = *state;
	struct socket_layer *sl = f->sl;
	int fd = udp_sock_on(f, 0, 9);
	struct sockaddr_in peer = sin_of(HOST_IP, 5000), got, unspec = { .sin_family = AF_UNSPEC };
	uint8_t frame[128];
	char buf[16];
	assert_int_equal(ts_connect(sl, fd, &peer), 0);
	assert_int_equal(ts_getpeername(sl, fd, &got), 0);
	assert_int_equal(ntohs(got.sin_port), 5000);
	assert_int_equal(ts_getsockname(sl, fd, &got), 0);
	assert_int_equal(ntohl(got.sin_addr.s_addr), STACK_IP);
	/* From another port of the peer: nobody else holds 9, so it is refused. */
	send_frame(f, frame, udp_frame(frame, HOST_IP, 5001, 9, "no", 2, true));
	assert_int_equal(f->s.udp.cnt.NoPorts, 1);
	while (next_out(f) > 0)
		;
	send_frame(f, frame, udp_frame(frame, HOST_IP, 5000, 9, "yes", 3, true));
	assert_int_equal(ts_recv(sl, fd, buf, sizeof(buf), 0), 3);
	assert_int_equal(ts_send(sl, fd, "r", 1, 0), 1);
	assert_true(next_out(f) > 0);
	/* shutdown(SHUT_WR): sends fail with EPIPE; SHUT_RD: recv says 0 to a caller that
	 * would wait, EAGAIN to one that would not (Linux __skb_recv_udp). */
	assert_int_equal(ts_shutdown(sl, fd, SHUT_WR), 0);
	assert_int_equal(ts_send(sl, fd, "r", 1, 0), -EPIPE);
	assert_int_equal(ts_shutdown(sl, fd, SHUT_RD), 0);
	assert_int_equal(ts_recv(sl, fd, buf, sizeof(buf), 0), 0);
	assert_int_equal(ts_recv(sl, fd, buf, sizeof(buf), MSG_DONTWAIT), -EAGAIN);
	assert_int_equal(ts_set_nonblock(sl, fd, true), 0);
	assert_int_equal(ts_recv(sl, fd, buf, sizeof(buf), 0), -EAGAIN);
	assert_int_equal(ts_set_nonblock(sl, fd, false), 0);
	assert_true(ts_revents(sl, fd) & POLLHUP);
	/* Disconnect: the bound port stays, the peer goes. */
	assert_int_equal(ts_connect(sl, fd, &unspec), 0);
	assert_int_equal(ts_getpeername(sl, fd, &got), -ENOTCONN);
	assert_int_equal(ts_getsockname(sl, fd, &got), 0);
	assert_int_equal(ntohs(got.sin_port), 9);
	assert_int_equal(got.sin_addr.s_addr, 0);
	send_frame(f, frame, udp_frame(frame, HOST_IP, 5001, 9, "now", 3, true));
	assert_int_equal(ts_recv(sl, fd, buf, sizeof(buf), 0), 3);
	/* An unbound socket that connects gets an ephemeral port; disconnecting releases it. */
	int c = ts_socket(sl, AF_INET, SOCK_DGRAM, 0);
	assert_int_equal(ts_connect(sl, c, &peer), 0);
	assert_int_equal(ts_getsockname(sl, c, &got), 0);
	assert_true(ntohs(got.sin_port) >= 32768);
	assert_int_equal(ts_connect(sl, c, &unspec), 0);
	assert_int_equal(ts_getsockname(sl, c, &got), 0);
	assert_int_equal(got.sin_port, 0);
	struct sockaddr_in six = peer;
	six.sin_family = AF_INET6;
	assert_int_equal(ts_connect(sl, c, &six), -EAFNOSUPPORT);
}

/* Broadcast datagrams reach every socket bound to the port (Linux), unicast only the best. */
static void test_broadcast_delivered(void **state)
{
	struct fixture *f = *state;
	struct socket_layer *sl = f->sl;
	int one = 1;
	int a = ts_socket(sl, AF_INET, SOCK_DGRAM, 0), b = ts_socket(sl, AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in any = sin_of(0, 67);
	assert_int_equal(ts_setsockopt(sl, a, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)), 0);
	assert_int_equal(ts_setsockopt(sl, b, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)), 0);
	assert_int_equal(ts_bind(sl, a, &any), 0);
	assert_int_equal(ts_bind(sl, b, &any), 0);
	uint8_t frame[128];
	size_t n = udp_frame(frame, HOST_IP, 68, 67, "dhcp", 4, false);
	uint8_t *ip = frame + ETH_HDR_LEN;
	memset(frame, 0xff, ETH_ALEN);
	put_be32(ip + IPV4_OFF_DST, IPV4_BROADCAST);
	put_be16(ip + IPV4_OFF_CSUM, 0);
	put_be16(ip + IPV4_OFF_CSUM, csum_finish(csum_add(0, ip, IPV4_HDR_MIN)));
	send_frame(f, frame, n);
	assert_int_equal(ts_inq(sl, a), 4);
	assert_int_equal(ts_inq(sl, b), 4);
	assert_int_equal(f->s.udp.cnt.InDatagrams, 2);
	assert_int_equal(next_out(f), 0);
	/* Unicast: one copy only. */
	send_frame(f, frame, udp_frame(frame, HOST_IP, 68, 67, "uni", 3, true));
	assert_int_equal(f->s.udp.cnt.InDatagrams, 3);
}

/* EMSGSIZE above 65507 bytes (65535 - 20 - 8), as Linux; 65507 itself goes (fragmented). */
static void test_emsgsize(void **state)
{
	struct fixture *f = *state;
	int fd = ts_socket(f->sl, AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in to = sin_of(HOST_IP, 5000);
	uint8_t *big = calloc(1, 65508);
	assert_int_equal(ts_sendto(f->sl, fd, big, 65508, 0, &to), -EMSGSIZE);
	assert_int_equal(ts_sendto(f->sl, fd, big, 65507, 0, &to), 65507);
	assert_int_equal(f->s.ip.cnt.tx_fragments, 45);   /* ceil(65515 / 1480) */
	while (next_out(f) > 0)
		;
	free(big);
}

/* Two stacks: a 60,000-byte datagram leaves one as 41 fragments and arrives whole. */
static void test_60000_bytes_fragmented_and_reassembled(void **state)
{
	(void)state;
	struct netdev *da, *db;
	assert_int_equal(memdev_pair_create(&da, &db, NULL), 0);
	static struct stack sa, sb;
	struct stack_config ca, cb;
	ts_stack_config_default(&ca);
	ts_stack_config_default(&cb);
	ts_stack_config_fixed(&ca, 1);
	ts_stack_config_fixed(&cb, 2);
	cb.link.addr = HOST_IP;
	cb.link.mac[5] = 0x01;
	cb.seed = 2;
	assert_int_equal(ts_stack_init(&sa, &ca, da, 0), 0);
	assert_int_equal(ts_stack_init(&sb, &cb, db, 0), 0);
	struct socket_layer *la = ts_stack_sockets(&sa), *lb = ts_stack_sockets(&sb);
	int rx = ts_socket(lb, AF_INET, SOCK_DGRAM, 0), tx = ts_socket(la, AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in at = sin_of(0, 7), to = sin_of(HOST_IP, 7), from;
	assert_int_equal(ts_bind(lb, rx, &at), 0);
	uint8_t *data = malloc(60000), *got = malloc(65536);
	for (int i = 0; i < 60000; i++)
		data[i] = (uint8_t)(i * 31 + (i >> 8));
	/* Resolve the neighbour first: a datagram leaves as fragments, more than ARP's pending
	 * queue parks while it waits (LINK_ARP_PENDING_MAX_DEFAULT). */
	assert_int_equal(ts_sendto(la, tx, "arp", 3, 0, &to), 3);
	for (int i = 0; i < 4; i++) {
		ts_stack_poll(&sa, 0);
		ts_stack_poll(&sb, 0);
	}
	assert_int_equal(ts_recv(lb, rx, got, 65536, 0), 3);
	assert_int_equal(ts_sendto(la, tx, data, 60000, 0, &to), 60000);
	for (int i = 0; i < 8; i++) {
		ts_stack_poll(&sa, 0);
		ts_stack_poll(&sb, 0);
	}
	assert_int_equal(sa.ip.cnt.tx_fragments, 41);
	assert_int_equal(sb.ip.cnt.reass_ok, 1);
	assert_int_equal(ts_recvfrom(lb, rx, got, 65536, 0, &from), 60000);
	assert_memory_equal(got, data, 60000);
	assert_int_equal(ntohl(from.sin_addr.s_addr), STACK_IP);
	assert_int_equal(sb.udp.cnt.InDatagrams, 2);
	assert_int_equal(sb.udp.cnt.InCsumErrors, 0);
	free(data);
	free(got);
	ts_stack_destroy(&sa);
	ts_stack_destroy(&sb);
}

static uint32_t woken[8], nwoken;

static void record_wake(void *arg, uint32_t owner)
{
	(void)arg;
	if (nwoken < 8)
		woken[nwoken++] = owner;
}

/* The readiness upcall: a queued datagram, a reported error and a shutdown each wake the
 * socket's owner (its descriptor); a dropped datagram wakes nobody. */
static void test_waker(void **state)
{
	struct fixture *f = *state;
	uint8_t frame[256];
	nwoken = 0;
	udp_set_waker(&f->s.udp, record_wake, NULL);
	int fd = udp_sock_on(f, 0, 9);
	send_frame(f, frame, udp_frame(frame, HOST_IP, 5000, 9, "w", 1, true));
	assert_int_equal(nwoken, 1);
	assert_int_equal(woken[0], (uint32_t)fd);
	size_t n = udp_frame(frame, HOST_IP, 5000, 9, "w", 1, true);
	frame[ETH_HDR_LEN + IPV4_HDR_MIN + UDP_OFF_CSUM] ^= 1;   /* a bad checksum: dropped */
	send_frame(f, frame, n);
	assert_int_equal(f->s.udp.cnt.InCsumErrors, 1);
	assert_int_equal(nwoken, 1);
	int c = ts_socket(f->sl, AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in peer = sin_of(HOST_IP, 5000);
	assert_int_equal(ts_connect(f->sl, c, &peer), 0);
	while (next_out(f) > 0)
		;
	assert_int_equal(ts_send(f->sl, c, "x", 1, 0), 1);
	assert_true(next_out(f) > 0);
	send_frame(f, frame, icmp_unreach_frame(f, frame, HOST_IP, ICMP_UNREACH_PORT));
	assert_int_equal(nwoken, 2);
	assert_int_equal(woken[1], (uint32_t)c);
	assert_int_equal(ts_shutdown(f->sl, c, SHUT_RD), 0);
	assert_int_equal(nwoken, 3);
	udp_set_waker(&f->s.udp, NULL, NULL);
}

/* A UDP socket in a readiness set (stack/socket/ready.c): the socket layer registers its
 * waker, so an arriving datagram makes the socket a candidate; edge-triggered, each
 * datagram is one report, and nothing is reported in between. */
static void test_epoll_set(void **state)
{
	struct fixture *f = *state;
	uint8_t frame[256];
	struct epoll_event ev = { .events = EPOLLIN | EPOLLET }, out[4];
	int fd = udp_sock_on(f, 0, 9);
	int ep = ts_epoll_create(f->sl, 0);
	ev.data.fd = fd;
	assert_int_equal(ts_epoll_ctl(f->sl, ep, EPOLL_CTL_ADD, fd, &ev), 0);
	assert_int_equal(ts_epoll_collect(f->sl, ep, out, 4), 0);
	send_frame(f, frame, udp_frame(frame, HOST_IP, 5000, 9, "one", 3, true));
	assert_int_equal(ts_epoll_collect(f->sl, ep, out, 4), 1);
	assert_int_equal(out[0].data.fd, fd);
	assert_int_equal(out[0].events, EPOLLIN);
	assert_int_equal(ts_epoll_collect(f->sl, ep, out, 4), 0);
	send_frame(f, frame, udp_frame(frame, HOST_IP, 5000, 9, "two", 3, true));
	assert_int_equal(ts_epoll_collect(f->sl, ep, out, 4), 1);
	assert_int_equal(ts_close(f->sl, ep), 0);
}

/* The readiness API: a UDP socket joins its set's ready list when a datagram is queued
 * (level-triggered until it is read) and when an ICMP error is reported (EPOLLERR). */
static void test_udp_in_epoll_set(void **state)
{
	struct fixture *f = *state;
	struct socket_layer *sl = f->sl;
	struct epoll_event evs[4];
	uint8_t frame[256];
	char buf[16];
	int fd = udp_sock_on(f, 0, 9);
	int ep = ts_epoll_create(sl, 0);
	assert_true(ep >= 0);
	struct epoll_event ev = { .events = EPOLLIN, .data.fd = fd };
	assert_int_equal(ts_epoll_ctl(sl, ep, EPOLL_CTL_ADD, fd, &ev), 0);
	assert_int_equal(ts_epoll_collect(sl, ep, evs, 4), 0);
	send_frame(f, frame, udp_frame(frame, HOST_IP, 5000, 9, "e", 1, true));
	assert_true(ts_epoll_pending(sl, ep));
	assert_int_equal(ts_epoll_collect(sl, ep, evs, 4), 1);
	assert_int_equal(evs[0].data.fd, fd);
	assert_int_equal(evs[0].events, EPOLLIN);
	assert_int_equal(ts_epoll_collect(sl, ep, evs, 4), 1);     /* level: still queued */
	assert_int_equal(ts_recv(sl, fd, buf, sizeof(buf), 0), 1);
	assert_int_equal(ts_epoll_collect(sl, ep, evs, 4), 0);

	int c = ts_socket(sl, AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in peer = sin_of(HOST_IP, 5000);
	assert_int_equal(ts_connect(sl, c, &peer), 0);
	ev = (struct epoll_event){ .events = EPOLLIN, .data.fd = c };
	assert_int_equal(ts_epoll_ctl(sl, ep, EPOLL_CTL_ADD, c, &ev), 0);
	assert_int_equal(ts_send(sl, c, "x", 1, 0), 1);
	assert_true(next_out(f) > 0);
	send_frame(f, frame, icmp_unreach_frame(f, frame, HOST_IP, ICMP_UNREACH_PORT));
	assert_int_equal(ts_epoll_collect(sl, ep, evs, 4), 1);
	assert_int_equal(evs[0].data.fd, c);
	assert_true(evs[0].events & EPOLLERR);
	assert_int_equal(ts_recv(sl, c, buf, sizeof(buf), 0), -ECONNREFUSED);
	assert_int_equal(ts_epoll_collect(sl, ep, evs, 4), 0);
	assert_int_equal(ts_close(sl, ep), 0);
}

/* Closing a socket with datagrams queued returns every buffer; the stack's destroy closes
 * the ones left open. */
static void test_close_frees_queue(void **state)
{
	struct fixture *f = *state;
	int fd = udp_sock_on(f, 0, 9);
	uint8_t frame[128];
	for (int i = 0; i < 5; i++)
		send_frame(f, frame, udp_frame(frame, HOST_IP, 5000, 9, "q", 1, true));
	assert_int_equal(f->s.core.pool.cls[0].in_use, 5);
	assert_int_equal(ts_close(f->sl, fd), 0);
	assert_int_equal(f->s.core.pool.cls[0].in_use, 0);
	udp_sock_on(f, 0, 9);
	send_frame(f, frame, udp_frame(frame, HOST_IP, 5000, 9, "q", 1, true));
	/* teardown's stack_destroy frees it (valgrind and ASan check). */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_checksum_vectors, setup, teardown),
		cmocka_unit_test(test_checksum_offload),
		cmocka_unit_test_setup_teardown(test_zero_checksum_accepted, setup, teardown),
		cmocka_unit_test_setup_teardown(test_computed_zero_sent_as_ones, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_checksum_dropped, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_length, setup, teardown),
		cmocka_unit_test_setup_teardown(test_truncation_at_every_byte, setup, teardown),
		cmocka_unit_test_setup_teardown(test_queue_overflow, setup, teardown),
		cmocka_unit_test_setup_teardown(test_udp_mem_bound, setup, teardown),
		cmocka_unit_test_setup_teardown(test_port_unreachable_rate_limited_per_destination, setup, teardown),
		cmocka_unit_test_setup_teardown(test_port_unreachable_global_limit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_econnrefused_on_connected_socket, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unconnected_socket_ignores_icmp, setup, teardown),
		cmocka_unit_test_setup_teardown(test_socket_calls, setup, teardown),
		cmocka_unit_test_setup_teardown(test_receive_flags, setup, teardown),
		cmocka_unit_test_setup_teardown(test_connect_and_disconnect, setup, teardown),
		cmocka_unit_test_setup_teardown(test_broadcast_delivered, setup, teardown),
		cmocka_unit_test_setup_teardown(test_emsgsize, setup, teardown),
		cmocka_unit_test(test_60000_bytes_fragmented_and_reassembled),
		cmocka_unit_test_setup_teardown(test_waker, setup, teardown),
		cmocka_unit_test_setup_teardown(test_udp_in_epoll_set, setup, teardown),
		cmocka_unit_test_setup_teardown(test_epoll_set, setup, teardown),
		cmocka_unit_test_setup_teardown(test_close_frees_queue, setup, teardown),
	};
	return cmocka_run_group_tests_name("udp", tests, NULL, NULL);
}
