/*
 * test_tcp_icmp.c - ICMP errors reaching TCP (stack/ip/icmp.c -> stack.c -> stack/tcp/tcp_icmp.c):
 * RFC 1122 4.2.3.9, RFC 5927, RFC 1191, as Linux's tcp_v4_err.
 *
 *   frag-needed, MTU 1200        -> MSS 1160, the 1460-byte segment resent at once as 1160 + 300
 *   then a 2000-byte write     -> 1160 + 840 at once (Nagle, Minshall's variant as Linux)
 *   frag-needed, MTU 300         -> raised to the 552 floor: MSS 512
 *   frag-needed about our SYN   -> the handshake's send MSS comes from the learned path MTU
 *   a new connection to the peer -> SYN-ACK still offers MSS 1460; sends 1160 (path MTU cache)
 *   quoted seq outside [SND.UNA, SND.MAX] -> ignored, OutOfWindowIcmps
 *   port unreachable in SYN-SENT -> connect fails with ECONNREFUSED
 *   host unreachable in SYN-SENT -> soft: the connect goes on, and times out with EHOSTUNREACH
 *   host/port unreachable in ESTABLISHED -> soft: the connection lives, SO_ERROR stays 0
 *   host unreachable for a SYN-RECEIVED request -> the request is dropped
 *   source quench               -> ignored (RFC 6633)
 *   truncated/malformed errors  -> dropped and counted, every truncation length, no crash
 *
 * The ICMP frames are built here from the wire views: a router (10.0.0.254) quoting the IP
 * header of a datagram we sent and the first bytes of its TCP header.
 */
#include <errno.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "core/checksum.h"
#include "socket/socket.h"
#include "wire/ethernet.h"
#include "wire/icmp.h"
#include "wire/ipv4.h"
#include "helpers/tcp_harness.h"

#define ROUTER_IP 0x0a0000feu     /* 10.0.0.254: the ICMP errors come from a router on the path */
#define QUOTE_TCP_MAX 20u

/*
 * Builds an ICMP error of type/code (next-hop MTU `mtu` for frag-needed) quoting our TCP
 * segment h->local_port -> h->peer_port with sequence number `seq`: the quoted IP header
 * (TH_LOCAL_IP -> TH_PEER_IP, protocol 6, DF) and the first `qtcp` bytes of a TCP header.
 * Returns the frame length (before any padding; the link pads short frames).
 */
static uint32_t build_icmp_err(struct th *h, uint8_t *f, uint8_t type, uint8_t code, uint16_t mtu, uint32_t seq,
                               uint32_t qtcp)
{
	memset(f, 0, TH_FRAME_MAX);
	struct eth_hdr eh;
	memcpy(eh.dst, th_local_mac, 6);
	memcpy(eh.src, th_peer_mac, 6);
	eh.type = ETHERTYPE_IPV4;
	eth_hdr_emit(f, &eh);

	uint8_t *icmp = f + ETH_HDR_LEN + IPV4_HDR_MIN;
	struct icmp_hdr ih = { .type = type, .code = code, .rest = mtu };
	icmp_hdr_emit(icmp, &ih);
	uint8_t *q = icmp + ICMP_HDR_LEN;
	struct ipv4_hdr qh = {
		.version = 4, .ihl = IPV4_HDR_MIN, .total_len = (uint16_t)(IPV4_HDR_MIN + 20 + 1460),
		.id = 7, .df = true, .ttl = 1, .proto = IPPROTO_TCP_NUM, .src = TH_LOCAL_IP, .dst = TH_PEER_IP,
	};
	ipv4_hdr_emit(q, &qh);
	put_be16(q + IPV4_OFF_CSUM, csum_finish(csum_add(0, q, IPV4_HDR_MIN)));
	uint8_t *t = q + IPV4_HDR_MIN;
	put_be16(t, h->local_port);
	put_be16(t + 2, h->peer_port);
	put_be32(t + 4, seq);
	put_be32(t + 8, h->irs + 1);
	t[12] = 0x50;
	t[13] = TCP_FLAG_ACK | TCP_FLAG_PSH;
	uint32_t ilen = ICMP_HDR_LEN + IPV4_HDR_MIN + qtcp;
	put_be16(icmp + ICMP_OFF_CSUM, csum_finish(csum_add(0, icmp, ilen)));

	uint8_t *ip = f + ETH_HDR_LEN;
	struct ipv4_hdr oh = {
		.version = 4, .ihl = IPV4_HDR_MIN, .total_len = (uint16_t)(IPV4_HDR_MIN + ilen), .id = 99, .ttl = 64,
		.proto = IPPROTO_ICMP_NUM, .src = ROUTER_IP, .dst = TH_LOCAL_IP,
	};
	ipv4_hdr_emit(ip, &oh);
	put_be16(ip + IPV4_OFF_CSUM, csum_finish(csum_add(0, ip, IPV4_HDR_MIN)));
	uint32_t flen = ETH_HDR_LEN + IPV4_HDR_MIN + ilen;
	return flen < ETH_MIN_FRAME ? ETH_MIN_FRAME : flen;
}

static void send_icmp_err(struct th *h, uint8_t type, uint8_t code, uint16_t mtu, uint32_t seq)
{
	uint8_t f[TH_FRAME_MAX];
	uint32_t n = build_icmp_err(h, f, type, code, mtu, seq, QUOTE_TCP_MAX);
	th_inject(h, f, n);
}

static uint8_t payload[4096];

/* Established as th_established (MSS 1460, no timestamps), then 1460 bytes written and sent. */
static int established_with_segment_out(struct th *h)
{
	int fd = th_established(h);
	for (size_t i = 0; i < sizeof(payload); i++)
		payload[i] = (uint8_t)(i * 7 + 3);
	assert_int_equal(ts_send(th_sl(h), fd, payload, 1460, 0), 1460);
	th_poll(h);
	th_expect(h, TCP_FLAG_ACK | TH_PSH_ANY, h->iss + 1, h->irs + 1, TH_ANY, NULL, 1460);
	return fd;
}

/* RFC 1191: the router says 1200; the MSS becomes 1160 and the data goes again at once,
 * in two segments (tcp_advmss_pmtu_ipv4.pkt's exchange, Linux tcp_simple_retransmit). */
static void test_frag_needed_lowers_mss_and_resends(void **state)
{
	struct th *h = *state;
	int fd = established_with_segment_out(h);
	uint64_t rtx = th_counter(h, "tcp", "RetransSegs");
	send_icmp_err(h, ICMP_DEST_UNREACH, ICMP_UNREACH_NEEDFRAG, 1200, h->iss + 1);
	struct th_seg s = th_expect(h, TCP_FLAG_ACK, h->iss + 1, h->irs + 1, TH_ANY, NULL, 1160);
	assert_memory_equal(s.payload, payload, 1160);
	s = th_expect(h, TCP_FLAG_ACK | TCP_FLAG_PSH, h->iss + 1161, h->irs + 1, TH_ANY, NULL, 300);
	assert_memory_equal(s.payload, payload + 1160, 300);
	th_expect_none(h);
	assert_int_equal(th_counter(h, "tcp", "IcmpPmtuChanged"), 1);
	assert_int_equal(th_counter(h, "tcp", "RetransSegs"), rtx + 2);
	assert_int_equal(th_counter(h, "icmp", "pmtu_learned"), 1);
	socklen_t len = sizeof(int);
	int mss = 0;
	assert_int_equal(ts_getsockopt(th_sl(h), fd, IPPROTO_TCP, TCP_MAXSEG, &mss, &len), 0);
	assert_int_equal(mss, 1160);
	struct tcp_info ti;
	len = sizeof(ti);
	assert_int_equal(ts_getsockopt(th_sl(h), fd, IPPROTO_TCP, TCP_INFO, &ti, &len), 0);
	assert_int_equal(ti.tcpi_pmtu, 1200);
	assert_int_equal(ti.tcpi_snd_mss, 1160);
	assert_int_equal(ti.tcpi_advmss, 1460);      /* what we announce does not change */
	assert_int_equal(ti.tcpi_snd_cwnd, 10);      /* not congestion: cwnd keeps its 10 packets */

	/* Acknowledged; new data is cut at 1160 from now on. */
	th_send(h, TCP_FLAG_ACK, h->irs + 1, h->iss + 1461, 65535, NULL, NULL, 0);
	assert_int_equal(ts_send(th_sl(h), fd, payload, 2000, 0), 2000);
	th_poll(h);
	th_expect(h, TCP_FLAG_ACK | TH_PSH_ANY, h->iss + 1461, h->irs + 1, TH_ANY, NULL, 1160);
	/* Nagle in Minshall's variant (Linux): no short segment is unacknowledged, so the tail
	 * goes at once, without waiting for the ACK of the first. */
	th_expect(h, TCP_FLAG_ACK | TCP_FLAG_PSH, h->iss + 2621, h->irs + 1, TH_ANY, NULL, 840);
	/* ... but a second short segment waits while that one is in flight. */
	assert_int_equal(ts_send(th_sl(h), fd, payload, 100, 0), 100);
	th_poll(h);
	th_expect_none(h);
	th_send(h, TCP_FLAG_ACK, h->irs + 1, h->iss + 3461, 65535, NULL, NULL, 0);
	th_expect(h, TCP_FLAG_ACK | TCP_FLAG_PSH, h->iss + 3461, h->irs + 1, TH_ANY, NULL, 100);

	/* The same news again changes nothing (not smaller than what we send). */
	send_icmp_err(h, ICMP_DEST_UNREACH, ICMP_UNREACH_NEEDFRAG, 1200, h->iss + 3461);
	th_expect_none(h);
	assert_int_equal(th_counter(h, "tcp", "IcmpPmtuIgnored"), 1);
	th_assert_state(h, h->peer_port, "ESTABLISHED");
}

/* Linux ip_rt_min_pmtu: a forged or silly MTU (here 300, or 0 from an old router) cannot cut
 * segments below 552 - 40 = 512 bytes. */
static void test_frag_needed_floor(void **state)
{
	struct th *h = *state;
	established_with_segment_out(h);
	send_icmp_err(h, ICMP_DEST_UNREACH, ICMP_UNREACH_NEEDFRAG, 300, h->iss + 1);
	th_expect(h, TCP_FLAG_ACK, h->iss + 1, h->irs + 1, TH_ANY, NULL, 512);
	th_expect(h, TCP_FLAG_ACK, h->iss + 513, h->irs + 1, TH_ANY, NULL, 512);
	th_expect(h, TCP_FLAG_ACK | TCP_FLAG_PSH, h->iss + 1025, h->irs + 1, TH_ANY, NULL, 436);
	th_expect_none(h);
	send_icmp_err(h, ICMP_DEST_UNREACH, ICMP_UNREACH_NEEDFRAG, 0, h->iss + 1);
	th_expect_none(h);
	assert_int_equal(th_counter(h, "tcp", "IcmpPmtuChanged"), 1);
}

/* The learned path MTU belongs to the destination: a second connection from the same peer
 * still offers MSS 1460 on its SYN-ACK (our interface MTU) but sends 1160-byte segments. */
static void test_pmtu_cached_for_next_connection(void **state)
{
	struct th *h = *state;
	struct socket_layer *sl = th_sl(h);
	struct tcp_opts mss = th_mss_opts(1460);
	int lfd = th_listen(h, 80, 8);
	h->irs = 1000;
	int fd = th_open_passive(h, lfd, &mss, 65535);
	assert_int_equal(ts_send(sl, fd, payload, 1460, 0), 1460);
	th_poll(h);
	th_expect(h, TCP_FLAG_ACK | TH_PSH_ANY, h->iss + 1, h->irs + 1, TH_ANY, NULL, 1460);
	send_icmp_err(h, ICMP_DEST_UNREACH, ICMP_UNREACH_NEEDFRAG, 1200, h->iss + 1);
	th_drain(h);

	h->peer_port = TH_PEER_PORT + 1;
	h->irs = 5000;
	th_syn_synack(h, &mss);     /* the SYN-ACK offers exactly MSS 1460: our interface's */
	th_send(h, TCP_FLAG_ACK, h->irs + 1, h->iss + 1, 65535, NULL, NULL, 0);
	int fd2 = ts_accept(sl, lfd, NULL, 0);
	assert_true(fd2 >= 0);
	assert_int_equal(ts_send(sl, fd2, payload, 1460, 0), 1460);
	th_poll(h);
	th_expect(h, TCP_FLAG_ACK | TH_PSH_ANY, h->iss + 1, h->irs + 1, TH_ANY, NULL, 1160);
	assert_int_equal(th_counter(h, "icmp", "pmtu_learned"), 1);
}

/* A frag-needed about our SYN: nothing to resend, but the handshake's MSS comes from the
 * learned path MTU (our SYN still offered 1460). */
static void test_frag_needed_in_syn_sent(void **state)
{
	struct th *h = *state;
	struct socket_layer *sl = th_sl(h);
	struct th_seg syn;
	int fd = th_connect(h, 80, &syn);
	assert_int_equal(syn.hdr.opts.mss, 1460);
	send_icmp_err(h, ICMP_DEST_UNREACH, ICMP_UNREACH_NEEDFRAG, 1300, h->iss);
	th_expect_none(h);
	assert_int_equal(th_counter(h, "tcp", "IcmpPmtuChanged"), 1);
	h->irs = 7000;
	struct tcp_opts mss = th_mss_opts(1460);
	th_send(h, TCP_FLAG_SYN | TCP_FLAG_ACK, h->irs, h->iss + 1, 65535, &mss, NULL, 0);
	th_expect(h, TCP_FLAG_ACK, h->iss + 1, h->irs + 1, TH_ANY, TH_ANY_OPTS, 0);
	assert_int_equal(ts_send(sl, fd, payload, 1460, 0), 1460);
	th_poll(h);
	th_expect(h, TCP_FLAG_ACK, h->iss + 1, h->irs + 1, TH_ANY, TH_ANY_OPTS, 1260);
	th_expect(h, TCP_FLAG_ACK | TCP_FLAG_PSH, h->iss + 1261, h->irs + 1, TH_ANY, TH_ANY_OPTS, 200);
}

/* RFC 5927 4.1: an error quoting a sequence number we have not sent (or that is already
 * acknowledged) is forged or stale: ignored and counted, nothing resent, MSS unchanged. */
static void test_quoted_seq_out_of_window(void **state)
{
	struct th *h = *state;
	int fd = established_with_segment_out(h);
	send_icmp_err(h, ICMP_DEST_UNREACH, ICMP_UNREACH_NEEDFRAG, 1200, h->iss + 1 + 100000);
	send_icmp_err(h, ICMP_DEST_UNREACH, ICMP_UNREACH_NEEDFRAG, 1200, h->iss);       /* below SND.UNA */
	send_icmp_err(h, ICMP_DEST_UNREACH, ICMP_UNREACH_HOST, 0, h->iss + 5000);
	th_expect_none(h);
	assert_int_equal(th_counter(h, "tcp", "OutOfWindowIcmps"), 3);
	assert_int_equal(th_counter(h, "tcp", "IcmpPmtuChanged"), 0);
	assert_int_equal(th_counter(h, "tcp", "IcmpSoftErrors"), 0);
	socklen_t len = sizeof(int);
	int mss = 0;
	assert_int_equal(ts_getsockopt(th_sl(h), fd, IPPROTO_TCP, TCP_MAXSEG, &mss, &len), 0);
	assert_int_equal(mss, 1460);
	/* An error for a 4-tuple nobody uses. */
	h->peer_port = 1234;
	send_icmp_err(h, ICMP_DEST_UNREACH, ICMP_UNREACH_PORT, 0, 1);
	assert_int_equal(th_counter(h, "tcp", "IcmpNoConnection"), 1);
}

/* RFC 1122 4.2.3.9: port unreachable is a hard error: the connect fails with ECONNREFUSED. */
static void test_port_unreachable_aborts_connect(void **state)
{
	struct th *h = *state;
	struct socket_layer *sl = th_sl(h);
	struct th_seg syn;
	int fd = th_connect(h, 80, &syn);
	send_icmp_err(h, ICMP_DEST_UNREACH, ICMP_UNREACH_PORT, 0, h->iss);
	assert_true(ts_revents(sl, fd) & POLLERR);
	int err = 0;
	socklen_t len = sizeof(err);
	assert_int_equal(ts_getsockopt(sl, fd, SOL_SOCKET, SO_ERROR, &err, &len), 0);
	assert_int_equal(err, ECONNREFUSED);
	assert_null(th_state(h, 80));
	assert_int_equal(th_counter(h, "tcp", "IcmpHardErrors"), 1);
	assert_int_equal(th_counter(h, "tcp", "AttemptFails"), 1);
	/* Nothing more goes out: no SYN retransmission. */
	assert_int_equal(th_advance_until_seg(h, 10000), -1);
}

/* Host unreachable is soft (RFC 1122 4.2.3.9 MUST NOT abort): the SYN is retransmitted as
 * usual, and when the connect finally times out it reports the ICMP error, as Linux. */
static void test_soft_error_reported_on_timeout(void **state)
{
	struct th *h = *state;
	struct socket_layer *sl = th_sl(h);
	struct th_seg syn;
	int fd = th_connect(h, 80, &syn);
	send_icmp_err(h, ICMP_DEST_UNREACH, ICMP_UNREACH_HOST, 0, h->iss);
	th_assert_state(h, 80, "SYN-SENT");
	assert_false(ts_revents(sl, fd) & POLLERR);
	assert_int_equal(th_counter(h, "tcp", "IcmpSoftErrors"), 1);
	for (int i = 0; i < 6; i++) {
		assert_true(th_advance_until_seg(h, 100000) >= 0);
		th_expect(h, TCP_FLAG_SYN, h->iss, 0, TH_ANY, TH_ANY_OPTS, 0);
	}
	assert_int_equal(th_advance_until_seg(h, 70000), -1);
	int err = 0;
	socklen_t len = sizeof(err);
	assert_int_equal(ts_getsockopt(sl, fd, SOL_SOCKET, SO_ERROR, &err, &len), 0);
	assert_int_equal(err, EHOSTUNREACH);
}

/* In a synchronized state every error is soft (RFC 5461, Linux without IP_RECVERR): the
 * connection lives on, SO_ERROR stays 0, data still flows. */
static void test_soft_error_in_established(void **state)
{
	struct th *h = *state;
	struct socket_layer *sl = th_sl(h);
	int fd = established_with_segment_out(h);
	send_icmp_err(h, ICMP_DEST_UNREACH, ICMP_UNREACH_HOST, 0, h->iss + 1);
	send_icmp_err(h, ICMP_DEST_UNREACH, ICMP_UNREACH_PORT, 0, h->iss + 1);
	send_icmp_err(h, ICMP_TIME_EXCEEDED, 0, 0, h->iss + 1);
	th_expect_none(h);
	assert_int_equal(th_counter(h, "tcp", "IcmpSoftErrors"), 3);
	th_assert_state(h, h->peer_port, "ESTABLISHED");
	assert_false(ts_revents(sl, fd) & POLLERR);
	int err = -1;
	socklen_t len = sizeof(err);
	assert_int_equal(ts_getsockopt(sl, fd, SOL_SOCKET, SO_ERROR, &err, &len), 0);
	assert_int_equal(err, 0);
	th_send(h, TCP_FLAG_ACK, h->irs + 1, h->iss + 1461, 65535, NULL, "hi", 2);
	char buf[4];
	assert_int_equal(ts_recv(sl, fd, buf, sizeof(buf), 0), 2);
	th_drain(h);                /* the ACK of "hi" */
	assert_int_equal(ts_send(sl, fd, payload, 10, 0), 10);
	th_poll(h);
	th_expect(h, TCP_FLAG_ACK | TCP_FLAG_PSH, h->iss + 1461, h->irs + 3, TH_ANY, NULL, 10);
}

/* Linux tcp_req_err: a half-open request whose SYN-ACK met "host unreachable" is dropped;
 * one quoting another sequence number is ignored. Source quench is ignored (RFC 6633). */
static void test_request_dropped_and_source_quench(void **state)
{
	struct th *h = *state;
	th_listen(h, 80, 8);
	h->irs = 1000;
	struct tcp_opts mss = th_mss_opts(1460);
	th_syn_synack(h, &mss);
	send_icmp_err(h, ICMP_SOURCE_QUENCH, 0, 0, h->iss);
	assert_int_equal(th_counter(h, "icmp", "in_source_quench"), 1);
	send_icmp_err(h, ICMP_DEST_UNREACH, ICMP_UNREACH_HOST, 0, h->iss + 1);
	assert_int_equal(th_counter(h, "tcp", "OutOfWindowIcmps"), 1);
	assert_non_null(th_state(h, h->peer_port));
	send_icmp_err(h, ICMP_DEST_UNREACH, ICMP_UNREACH_HOST, 0, h->iss);
	assert_int_equal(th_counter(h, "tcp", "IcmpReqDropped"), 1);
	assert_null(th_state(h, h->peer_port));
	assert_int_equal(th_advance_until_seg(h, 5000), -1);   /* no SYN-ACK retransmission */
}

/* Every malformed error is dropped through a named counter; every truncation of a valid
 * one (frame length 0..N) passes through the input path without a crash. */
static void test_malformed_errors_dropped(void **state)
{
	struct th *h = *state;
	int fd = established_with_segment_out(h);
	uint8_t f[TH_FRAME_MAX];
	uint32_t n;
	uint8_t *icmp = f + ETH_HDR_LEN + IPV4_HDR_MIN;

	/* Quote shorter than IP header + 8 (4 TCP bytes: ports only). */
	n = build_icmp_err(h, f, ICMP_DEST_UNREACH, ICMP_UNREACH_NEEDFRAG, 1200, h->iss + 1, 4);
	th_inject(h, f, n);
	assert_int_equal(th_counter(h, "icmp", "err_bad_quote"), 1);
	/* Quoted header is not IPv4. */
	n = build_icmp_err(h, f, ICMP_DEST_UNREACH, ICMP_UNREACH_NEEDFRAG, 1200, h->iss + 1, QUOTE_TCP_MAX);
	icmp[ICMP_HDR_LEN] = 0x65;
	put_be16(icmp + ICMP_OFF_CSUM, 0);
	put_be16(icmp + ICMP_OFF_CSUM, csum_finish(csum_add(0, icmp, ICMP_HDR_LEN + IPV4_HDR_MIN + QUOTE_TCP_MAX)));
	th_inject(h, f, n);
	assert_int_equal(th_counter(h, "icmp", "err_bad_quote"), 2);
	/* A non-first fragment carries no TCP header. */
	n = build_icmp_err(h, f, ICMP_DEST_UNREACH, ICMP_UNREACH_NEEDFRAG, 1200, h->iss + 1, QUOTE_TCP_MAX);
	put_be16(icmp + ICMP_HDR_LEN + IPV4_OFF_FRAG, 0x0010);
	put_be16(icmp + ICMP_OFF_CSUM, 0);
	put_be16(icmp + ICMP_OFF_CSUM, csum_finish(csum_add(0, icmp, ICMP_HDR_LEN + IPV4_HDR_MIN + QUOTE_TCP_MAX)));
	th_inject(h, f, n);
	assert_int_equal(th_counter(h, "icmp", "err_bad_quote"), 3);
	/* About GRE (47), which we do not speak. */
	n = build_icmp_err(h, f, ICMP_DEST_UNREACH, ICMP_UNREACH_PORT, 0, h->iss + 1, QUOTE_TCP_MAX);
	icmp[ICMP_HDR_LEN + IPV4_OFF_PROTO] = 47;
	put_be16(icmp + ICMP_OFF_CSUM, 0);
	put_be16(icmp + ICMP_OFF_CSUM, csum_finish(csum_add(0, icmp, ICMP_HDR_LEN + IPV4_HDR_MIN + QUOTE_TCP_MAX)));
	th_inject(h, f, n);
	assert_int_equal(th_counter(h, "icmp", "err_other_proto"), 1);
	/* Bad ICMP checksum. */
	n = build_icmp_err(h, f, ICMP_DEST_UNREACH, ICMP_UNREACH_NEEDFRAG, 1200, h->iss + 1, QUOTE_TCP_MAX);
	icmp[ICMP_OFF_CSUM] ^= 0x55;
	th_inject(h, f, n);
	assert_int_equal(th_counter(h, "icmp", "drop_bad_checksum"), 1);
	/* An unknown unreachable code. */
	send_icmp_err(h, ICMP_DEST_UNREACH, 42, 0, h->iss + 1);
	assert_int_equal(th_counter(h, "tcp", "IcmpIgnored"), 1);
	th_expect_none(h);

	/* Every truncation of a valid frag-needed: the IP total length is fixed up so the
	 * datagram is valid and only the ICMP part is short. */
	uint8_t g[TH_FRAME_MAX];
	uint32_t full = build_icmp_err(h, g, ICMP_DEST_UNREACH, ICMP_UNREACH_NEEDFRAG, 1200, h->iss + 1,
	                               QUOTE_TCP_MAX);
	for (uint32_t len = 0; len <= full; len++) {
		memcpy(f, g, full);
		if (len > ETH_HDR_LEN + IPV4_HDR_MIN) {
			uint8_t *ip = f + ETH_HDR_LEN;
			put_be16(ip + IPV4_OFF_TOTLEN, (uint16_t)(len - ETH_HDR_LEN));
			put_be16(ip + IPV4_OFF_CSUM, 0);
			put_be16(ip + IPV4_OFF_CSUM, csum_finish(csum_add(0, ip, IPV4_HDR_MIN)));
			uint32_t ilen = len - ETH_HDR_LEN - IPV4_HDR_MIN;
			put_be16(icmp + ICMP_OFF_CSUM, 0);
			put_be16(icmp + ICMP_OFF_CSUM, csum_finish(csum_add(0, icmp, ilen)));
		}
		th_inject(h, f, len);
	}
	/* Only the last ones (quote >= IP header + 8) reached TCP, and one changed the MSS. */
	assert_int_equal(th_counter(h, "tcp", "IcmpPmtuChanged"), 1);
	assert_true(th_counter(h, "icmp", "err_bad_quote") > 3);
	th_drain(h);
	th_assert_state(h, h->peer_port, "ESTABLISHED");
	(void)fd;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_frag_needed_lowers_mss_and_resends, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_frag_needed_floor, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_pmtu_cached_for_next_connection, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_frag_needed_in_syn_sent, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_quoted_seq_out_of_window, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_port_unreachable_aborts_connect, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_soft_error_reported_on_timeout, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_soft_error_in_established, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_request_dropped_and_source_quench, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_malformed_errors_dropped, th_setup, th_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
