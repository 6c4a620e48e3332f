/*
 * test_tcp_send.c - how the sender cuts what the application wrote, as Linux does: MSG_EOR
 * records (no segment carries bytes of two records, the record's last segment has PSH,
 * Nagle holds only the last record, a bounded number of open records); where PSH goes
 * (transmit units of half the congestion window or tcp_tso_segs, push marks at write ends
 * and forced pushes: docs/tcp.md "Where PSH goes"); the congestion window counted in
 * packets; TCP_INFO's chronograph of why the sender waits; the send buffer charged as Linux
 * charges it (each skb's overhead and its bytes) and the point where a waiting writer wakes;
 * sendfile's bytes read straight into the send queue (ts_sendfile) and its errors.
 * Exact frames on the fake clock through the recording driver (tcp_output.c, tcp_conn.c,
 * tcp_buf.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "helpers/tcp_harness.h"
#include "socket/socket.h"
#include "tcp/tcp.h"

#define DATA TCP_FLAG_ACK
#define PUSH (TCP_FLAG_ACK | TCP_FLAG_PSH)

static uint8_t buf[4096];
static uint8_t wbuf[65536];

/* An established connection with TCP_NODELAY set. */
static int established_nodelay(struct th *h)
{
	int fd = th_established(h);
	int one = 1;
	assert_int_equal(ts_setsockopt(th_sl(h), fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)), 0);
	return fd;
}

/*
 * With Nagle on: a short record behind unacknowledged short data waits while it is the
 * last thing queued, and goes as soon as more data follows it; the record's segment has
 * PSH and is not merged with what follows (Linux: one skb per record, Nagle only on the
 * queue's last skb).
 */
static void test_eor_records_not_coalesced(void **state)
{
	struct th *h = *state;
	struct socket_layer *sl = th_sl(h);
	int fd = th_established(h); /* peer MSS 1460, window 65535 */
	uint32_t s = h->iss + 1, a = h->irs + 1;
	memset(buf, 'r', sizeof(buf));

	assert_int_equal(ts_send(sl, fd, buf, 1000, 0), 1000);
	th_expect(h, PUSH, s, a, TH_ANY, NULL, 1000);
	assert_int_equal(ts_send(sl, fd, buf, 400, MSG_EOR), 400);
	th_expect_none(h);                                    /* Nagle: a short segment is out */
	assert_int_equal(ts_send(sl, fd, buf, 400, MSG_EOR), 400);
	th_expect(h, PUSH, s + 1000, a, TH_ANY, NULL, 400);   /* the first record, alone */
	th_expect_none(h);                                    /* the second is the queue's last */
	assert_int_equal(ts_send(sl, fd, buf, 2000, 0), 2000);
	th_expect(h, PUSH, s + 1400, a, TH_ANY, NULL, 400);   /* the second record, alone */
	th_expect(h, DATA, s + 1800, a, TH_ANY, NULL, 1460);  /* then the plain data */
	th_expect_none(h);                                    /* its short tail waits (Nagle) */
	th_send(h, TCP_FLAG_ACK, a, s + 3260, 65535, NULL, NULL, 0);
	th_expect(h, PUSH, s + 3260, a, TH_ANY, NULL, 540);
	th_expect_none(h);
}

/* A record longer than the MSS: full segments, then its short end (held by MSG_MORE until
 * the next write, and without PSH: Linux pushes a write's end only without MSG_MORE); the
 * next write starts a new segment even though the windows would let them share one. */
static void test_eor_long_record_ends_its_segment(void **state)
{
	struct th *h = *state;
	struct socket_layer *sl = th_sl(h);
	int fd = established_nodelay(h);
	uint32_t s = h->iss + 1, a = h->irs + 1;
	memset(buf, 'l', sizeof(buf));
	assert_int_equal(ts_send(sl, fd, buf, 3000, MSG_EOR | MSG_MORE), 3000);
	assert_int_equal(ts_send(sl, fd, buf, 1000, 0), 1000);
	th_expect(h, DATA, s, a, TH_ANY, NULL, 1460);
	th_expect(h, PUSH, s + 1460, a, TH_ANY, NULL, 1460);  /* a 2-segment unit: PSH on its last */
	th_expect(h, DATA, s + 2920, a, TH_ANY, NULL, 80);    /* the record's end: MSG_MORE, no PSH */
	th_expect(h, PUSH, s + 3000, a, TH_ANY, NULL, 1000);  /* not 920 more in that segment */
	th_expect_none(h);
}

/*
 * MSG_MORE and TCP_CORK hold a short segment, but not for ever: with nothing in flight the
 * persist timer sends what waits after an RTO (Linux's probe0 timer, tcp(7)'s 200 ms
 * ceiling on corking), with PSH. And MSG_MORE corks only the send() that carries it: the
 * ACK that comes later sends the held tail by the socket's own setting (TCP_NODELAY here),
 * as Linux (google/packetdrill nagle/sendmsg_msg_more.pkt).
 */
static void test_cork_ceiling_and_msg_more_per_call(void **state)
{
	struct th *h = *state;
	struct socket_layer *sl = th_sl(h);
	int fd = established_nodelay(h);
	uint32_t s = h->iss + 1, a = h->irs + 1;
	memset(buf, 'm', sizeof(buf));

	assert_int_equal(ts_send(sl, fd, buf, 40, MSG_MORE), 40);
	th_expect_none(h);
	int waited = th_advance_until_seg(h, 2000);
	assert_true(waited >= 200 && waited <= 400);
	th_expect(h, PUSH, s, a, TH_ANY, NULL, 40);
	th_send(h, TCP_FLAG_ACK, a, s + 40, 65535, NULL, NULL, 0);
	th_expect_none(h);

	/* 3100 bytes with MSG_MORE: two full segments go, the 180-byte tail is held; a partial
	 * ACK sends it at once (no PSH: the write had MSG_MORE). */
	assert_int_equal(ts_send(sl, fd, buf, 3100, MSG_MORE), 3100);
	th_expect(h, DATA, s + 40, a, TH_ANY, NULL, 1460);
	th_expect(h, PUSH, s + 1500, a, TH_ANY, NULL, 1460);
	th_expect_none(h);
	th_send(h, TCP_FLAG_ACK, a, s + 1500, 65535, NULL, NULL, 0);
	th_expect(h, DATA, s + 2960, a, TH_ANY, NULL, 180);
	th_expect_none(h);
	th_send(h, TCP_FLAG_ACK, a, s + 3140, 65535, NULL, NULL, 0);

	/* TCP_CORK: the same ceiling. */
	int one = 1;
	assert_int_equal(ts_setsockopt(sl, fd, IPPROTO_TCP, TCP_CORK, &one, sizeof(one)), 0);
	assert_int_equal(ts_send(sl, fd, buf, 100, 0), 100);
	th_expect_none(h);
	waited = th_advance_until_seg(h, 2000);
	assert_true(waited >= 200 && waited <= 400);
	th_expect(h, PUSH, s + 3140, a, TH_ANY, NULL, 100);
	th_expect_none(h);
}

/* At most TCP_EOR_MARKS (16) records unacknowledged: the 17th waits (EAGAIN), as Linux's
 * writer runs out of send buffer with one skb per record; an ACK makes room. */
static void test_eor_records_bounded(void **state)
{
	struct th *h = *state;
	struct socket_layer *sl = th_sl(h);
	int fd = established_nodelay(h);
	for (int i = 0; i < 16; i++)
		assert_int_equal(ts_send(sl, fd, "x", 1, MSG_EOR), 1);
	assert_int_equal(ts_send(sl, fd, "x", 1, MSG_EOR), -EAGAIN);
	assert_int_equal(ts_send(sl, fd, "y", 1, 0), 1);      /* plain data is still taken */
	th_drain(h);
	th_send(h, TCP_FLAG_ACK, h->irs + 1, h->iss + 1 + 10, 65535, NULL, NULL, 0);
	assert_int_equal(ts_send(sl, fd, "x", 1, MSG_EOR), 1);
}

/*
 * cwnd counts packets (Linux tcp_cwnd_test): with the initial window of 10 and 10.5
 * segments to send, 10 full segments go and the short 11th waits for an ACK (counting bytes
 * with a segment's slack let it go too).
 */
static void test_cwnd_counts_packets(void **state)
{
	struct th *h = *state;
	struct socket_layer *sl = th_sl(h);
	int fd = established_nodelay(h);
	static uint8_t big[10 * 1460 + 700];
	memset(big, 'c', sizeof(big));
	assert_int_equal(ts_send(sl, fd, big, sizeof(big), 0), (long)sizeof(big));
	th_poll(h);
	for (uint32_t i = 0; i < 10; i++)
		th_expect(h, TCP_FLAG_ACK | TH_PSH_ANY, h->iss + 1 + i * 1460, h->irs + 1, TH_ANY, NULL, 1460);
	th_expect_none(h);
	/* One segment acknowledged: one packet leaves the window, the short one goes. */
	th_send(h, TCP_FLAG_ACK, h->irs + 1, h->iss + 1 + 1460, 65535, NULL, NULL, 0);
	th_expect(h, TCP_FLAG_ACK | TH_PSH_ANY, h->iss + 1 + 10 * 1460, h->irs + 1, TH_ANY, NULL, 700);
	th_expect_none(h);
}

/* TCP_INFO as Linux lays it out, glibc's struct then the rest (stack/tcp/tcp.h). */
struct full_info {
	struct tcp_info ti;
	struct tcp_info_more more;
};

static struct full_info info_of(struct th *h, int fd)
{
	struct full_info fi;
	socklen_t len = sizeof(fi);
	memset(&fi, 0xff, sizeof(fi));
	assert_int_equal(ts_getsockopt(th_sl(h), fd, IPPROTO_TCP, TCP_INFO, &fi, &len), 0);
	assert_int_equal(len, sizeof(fi));
	return fi;
}

/*
 * Linux's chronograph in TCP_INFO: busy while data is queued or unacknowledged, and of that
 * the time the peer's window stopped the sender (tcpi_rwnd_limited); nothing while idle.
 */
static void test_tcp_info_busy_and_rwnd_limited(void **state)
{
	struct th *h = *state;
	struct socket_layer *sl = th_sl(h);
	int fd = th_established(h);
	uint32_t s = h->iss + 1, a = h->irs + 1;
	struct full_info fi = info_of(h, fd);
	assert_int_equal(fi.more.tcpi_busy_time, 0);
	assert_int_equal(fi.more.tcpi_rwnd_limited, 0);

	th_send(h, TCP_FLAG_ACK, a, s, 0, NULL, NULL, 0);      /* the peer's window closes */
	memset(buf, 'w', sizeof(buf));
	assert_int_equal(ts_send(sl, fd, buf, 1000, 0), 1000);
	th_advance(h, 100);
	fi = info_of(h, fd);
	assert_int_equal(fi.more.tcpi_rwnd_limited, 100000);
	assert_int_equal(fi.more.tcpi_busy_time, 100000);
	assert_int_equal(fi.more.tcpi_notsent_bytes, 1000);

	th_send(h, TCP_FLAG_ACK, a, s, 65535, NULL, NULL, 0);  /* it opens: the data goes */
	th_expect(h, PUSH, s, a, TH_ANY, NULL, 1000);
	th_advance(h, 30);
	th_send(h, TCP_FLAG_ACK, a, s + 1000, 65535, NULL, NULL, 0);
	th_advance(h, 50);                                       /* idle: the chronograph stops */
	fi = info_of(h, fd);
	assert_int_equal(fi.more.tcpi_rwnd_limited, 100000);
	assert_int_equal(fi.more.tcpi_busy_time, 130000);
	assert_int_equal(fi.more.tcpi_sndbuf_limited, 0);
	assert_int_equal(fi.more.tcpi_bytes_acked, 1000);
	assert_int_equal(fi.more.tcpi_notsent_bytes, 0);
	/* tcpi_bytes_received: payload taken in order, read or not; the peer's FIN is no byte. */
	assert_int_equal(fi.more.tcpi_bytes_received, 0);
	th_send(h, TCP_FLAG_ACK | TCP_FLAG_PSH, a, s + 1000, 65535, NULL, buf, 300);
	fi = info_of(h, fd);
	assert_int_equal(fi.more.tcpi_bytes_received, 300);
	/* tcpi_last_data_recv counts from the last data, not from the last segment (Linux's
	 * icsk_ack.lrcvtime): a pure ACK 50 ms later does not reset it. */
	th_advance(h, 50);
	th_send(h, TCP_FLAG_ACK, a + 300, s + 1000, 65535, NULL, NULL, 0);
	fi = info_of(h, fd);
	assert_int_equal(fi.ti.tcpi_last_data_recv, 50);
	th_send(h, TCP_FLAG_ACK | TCP_FLAG_FIN, a + 300, s + 1000, 65535, NULL, NULL, 0);
	fi = info_of(h, fd);
	assert_int_equal(fi.more.tcpi_bytes_received, 300);
}

/* Writes `segs` full segments on a send buffer large enough for them all, then expects the
 * first `out` to leave at once in units of `unit` (PSH on each unit's last) and no more. */
static void write_expect_units(struct th *h, int fd, uint32_t segs, uint32_t out, uint32_t unit)
{
	uint32_t s = h->iss + 1, a = h->irs + 1;
	int sndbuf = 200000;
	assert_int_equal(ts_setsockopt(th_sl(h), fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf)), 0);
	assert_int_equal(ts_send(th_sl(h), fd, wbuf, segs * 1460, 0), (ssize_t)(segs * 1460));
	for (uint32_t i = 0; i < out; i++)
		th_expect(h, i % unit == unit - 1 ? PUSH : DATA, s + i * 1460, a, TH_ANY, NULL, 1460);
	th_expect_none(h);
}

/* The initial window of 10 segments leaves as two units of 5 (Linux tcp_cwnd_test: one
 * skb carries half the congestion window at most), PSH on the last segment of each; the
 * rest of the write waits for ACKs. */
static void test_psh_initial_window_in_two_units(void **state)
{
	struct th *h = *state;
	int fd = th_established(h);
	uint32_t s = h->iss + 1, a = h->irs + 1;
	assert_int_equal(ts_send(th_sl(h), fd, wbuf, 16000, 0), 16000);
	for (uint32_t i = 0; i < 10; i++)
		th_expect(h, i % 5 == 4 ? PUSH : DATA, s + i * 1460, a, TH_ANY, NULL, 1460);
	th_expect_none(h);
}

/* A path of 100 ms: Linux's pacing rate (200 % of 10 x 1000 bytes per SRTT) sends about 195
 * bytes per millisecond, so tcp_tso_segs is tcp_min_tso_segs (2) and a 3000-byte write goes
 * as a 2-segment unit (PSH on its second) and the write's end (PSH): Linux's . P. P. of the
 * corpus's nagle/https_client.pkt. */
static void test_psh_units_of_two_on_a_slow_path(void **state)
{
	struct th *h = *state;
	struct socket_layer *sl = th_sl(h);
	int lfd = th_listen(h, 80, 8);
	struct tcp_opts mss = th_mss_opts(1000);
	int fd = th_open_passive_rtt(h, lfd, &mss, 65535, 100);
	uint32_t s = h->iss + 1, a = h->irs + 1;
	assert_int_equal(ts_send(sl, fd, wbuf, 3000, 0), 3000);
	th_expect(h, DATA, s, a, TH_ANY, NULL, 1000);
	th_expect(h, PUSH, s + 1000, a, TH_ANY, NULL, 1000); /* the unit's last: forced PSH */
	th_expect(h, PUSH, s + 2000, a, TH_ANY, NULL, 1000); /* one segment: the write's end */
	th_expect_none(h);
}

/*
 * Forced pushes (Linux forced_push): the peer's window is 8 segments, so skbs are 4 segments
 * (tcp_size_goal: half the largest window) and a write that passes pushed_seq + 4 segments
 * marks the skb it just filled. A 32-segment write: the first 8 go at once in two units
 * (PSH on each unit's last); the write marks the skbs ending at segments 16 and 24 and
 * the write's end (32). Then each ACK opens the window by one segment, so every segment is a
 * unit of one: exactly those three carry PSH.
 */
static void test_psh_forced_push_marks(void **state)
{
	struct th *h = *state;
	int lfd = th_listen(h, 80, 8);
	struct tcp_opts mss = th_mss_opts(1460);
	int fd = th_open_passive(h, lfd, &mss, 8 * 1460);
	uint32_t s = h->iss + 1, a = h->irs + 1;
	write_expect_units(h, fd, 32, 8, 4);
	for (uint32_t i = 8; i < 32; i++) {
		th_send(h, TCP_FLAG_ACK, a, s + (i - 7) * 1460, 8 * 1460, NULL, NULL, 0);
		bool psh = i == 15 || i == 23 || i == 31;
		th_expect(h, psh ? PUSH : DATA, s + i * 1460, a, TH_ANY, NULL, 1460);
		th_expect_none(h);
	}
}

/* Without SACK, Linux counts each duplicate ACK's segment as delivered when it arrives, so
 * the cumulative ACK that follows grows cwnd by what is left (tcp_remove_reno_sacks): after
 * two duplicate ACKs (each letting one segment out, RFC 3042) an ACK of 3 segments grows
 * cwnd from 10 to 11, and with 9 in flight 2 segments go (one unit: PSH on the second), not 4.
 * The corpus's limited_transmit/limited-transmit-no-sack.pkt. */
static void test_cwnd_after_dupacks_counts_the_rest(void **state)
{
	struct th *h = *state;
	int fd = th_established(h); /* MSS only: no SACK */
	uint32_t s = h->iss + 1, a = h->irs + 1;
	write_expect_units(h, fd, 30, 10, 5);
	for (uint32_t i = 10; i < 12; i++) {
		th_send(h, TCP_FLAG_ACK, a, s, 65535, NULL, NULL, 0);
		th_expect(h, DATA, s + i * 1460, a, TH_ANY, NULL, 1460);
		th_expect_none(h);
	}
	th_send(h, TCP_FLAG_ACK, a, s + 3 * 1460, 65535, NULL, NULL, 0);
	th_expect(h, DATA, s + 12 * 1460, a, TH_ANY, NULL, 1460);
	th_expect(h, PUSH, s + 13 * 1460, a, TH_ANY, NULL, 1460);
	th_expect_none(h);
}

/* ---- the send buffer (tcp_buf.c, docs/tcp.md "The send buffer") ---- */

/* Linux's sk_wmem_queued as SO_MEMINFO reports it. */
static uint32_t wmem_queued(struct th *h, int fd)
{
	uint32_t mi[9];
	socklen_t len = sizeof(mi);
	assert_int_equal(ts_getsockopt(th_sl(h), fd, SOL_SOCKET, SO_MEMINFO, mi, &len), 0);
	return mi[5];
}

static bool writable(struct th *h, int fd)
{
	return (ts_revents(th_sl(h), fd) & POLLOUT) != 0;
}

static void tweak_min_tso_10(struct stack_config *cfg)
{
	cfg->tcp.min_tso_segs = 10;
}

#define SKB 896u /* TCP_SKB_TX_TRUESIZE: what each skb costs before its payload */

/* The peer acknowledges `acked` bytes (window 50000): then the queue is charged `wmem`, and
 * POLLOUT is `pollout`. */
static void ack_expect(struct th *h, int fd, uint32_t acked, uint32_t wmem, bool pollout)
{
	th_send(h, TCP_FLAG_ACK, h->irs + 1, h->iss + 1 + acked, 50000, NULL, NULL, 0);
	assert_int_equal(wmem_queued(h, fd), wmem);
	assert_int_equal(writable(h, fd), pollout);
}

/*
 * The corpus's blocking/blocking-write.pkt, step by step: MSS 1000, the peer's window 50000
 * (skbs of 25000 bytes: half of it), units of 10 segments (tcp_min_tso_segs 10 on a 100 ms
 * path), SO_SNDBUF `sndbuf` (doubled). A write of 61000 takes 60000: two skbs, each cut
 * where a unit left (tso_fragment); the second starts while the queue is below the buffer
 * and takes it past it. Each ACK frees the skbs it passes and trims the one it ends in.
 * Returns the socket with 30001 acknowledged: skbs end at 35001, 40001, 50001 and 60001.
 */
static int blocking_write_until_30001(struct th *h, int sndbuf)
{
	struct socket_layer *sl = th_sl(h);
	int lfd = th_listen(h, 80, 8);
	struct tcp_opts mss = th_mss_opts(1000);
	int fd = th_open_passive_rtt(h, lfd, &mss, 50000, 100);
	assert_int_equal(ts_setsockopt(sl, fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf)), 0);

	assert_int_equal(ts_send(sl, fd, wbuf, 61000, 0), 60000);
	assert_int_equal(wmem_queued(h, fd), 4 * SKB + 60000); /* sent: 1-5000, 5001-10000 */
	assert_false(writable(h, fd));
	assert_int_equal(ts_send(sl, fd, wbuf, 1000, 0), -EAGAIN);
	th_drain(h);
	th_advance(h, 100);
	ack_expect(h, fd, 10000, 4 * SKB + 50000, false); /* cwnd 20: two units go */
	th_drain(h);
	th_advance(h, 100);
	ack_expect(h, fd, 30000, 4 * SKB + 30000, false); /* cwnd 40: all is sent */
	th_drain(h);
	th_advance(h, 100);
	return fd;
}

/*
 * The writer wakes when the free space is at least half of what is queued (Linux's
 * sk_stream_wspace >= sk_stream_min_wspace): with 42000 that is 28000 queued at most. An
 * ACK of 34001 trims 4000 bytes off the first skb, 29584 are left: no POLLOUT yet. The ACK
 * of 35001 frees that skb and its overhead: 27688, POLLOUT, and the writer's last 1000 bytes
 * go into a new skb (the script returns there, at its ACK of 36001).
 */
static void test_sndbuf_wakes_at_two_thirds(void **state)
{
	th_free(*state);
	struct th *h = *state = th_new(tweak_min_tso_10);
	struct socket_layer *sl = th_sl(h);
	int fd = blocking_write_until_30001(h, 21000);
	int got = 0;
	socklen_t len = sizeof(got);
	assert_int_equal(ts_getsockopt(sl, fd, SOL_SOCKET, SO_SNDBUF, &got, &len), 0);
	assert_int_equal(got, 42000);

	ack_expect(h, fd, 34000, 4 * SKB + 26000, false);
	ack_expect(h, fd, 35000, 3 * SKB + 25000, true);
	assert_int_equal(ts_send(sl, fd, wbuf, 1000, 0), 1000);
	assert_int_equal(wmem_queued(h, fd), 4 * SKB + 26000);
	/* Above two thirds again: no POLLOUT, but a send() that does not wait is still taken
	 * while the memory is below the buffer (Linux's sk_stream_memory_free), in a new skb
	 * (the last 1000 bytes went out at once). */
	assert_false(writable(h, fd));
	assert_int_equal(ts_send(sl, fd, wbuf, 1000, 0), 1000);
	assert_int_equal(wmem_queued(h, fd), 5 * SKB + 27000);
}

/*
 * Linux 6.18 checks the buffer after every ACK, not only after one that freed a whole skb
 * (SOCK_QUEUE_SHRUNK went in 5.10): with 44000 an ACK inside the first skb wakes the writer
 * once the trim brings the queue to two thirds: 29584 queued is not enough (14416 free <
 * 14792), 29284 is (14716 >= 14642), with the same four skbs.
 */
static void test_sndbuf_partial_ack_wakes(void **state)
{
	th_free(*state);
	struct th *h = *state = th_new(tweak_min_tso_10);
	int fd = blocking_write_until_30001(h, 22000);
	ack_expect(h, fd, 34000, 4 * SKB + 26000, false);
	ack_expect(h, fd, 34300, 4 * SKB + 25700, true);
}

/*
 * TCP_INFO's send-buffer-limited time, as Linux's tcp_cwnd_validate counts it: everything
 * queued has been sent, cwnd is not what limits, and a writer waits for room. The peer's
 * window (8000 on the SYN: skbs of 2 segments) is closed while the writer fills its 4096
 * bytes of buffer (two skbs: 7632 queued); 10 ms later it opens, all 4 segments go, and
 * the 7632 still queued keep the writer waiting; 20 ms later the ACK of everything wakes it.
 */
static void test_tcp_info_sndbuf_limited(void **state)
{
	struct th *h = *state;
	struct socket_layer *sl = th_sl(h);
	int lfd = th_listen(h, 80, 8);
	struct tcp_opts mss = th_mss_opts(1460);
	int fd = th_open_passive(h, lfd, &mss, 8000);
	uint32_t s = h->iss + 1, a = h->irs + 1;
	int sndbuf = 2048;
	assert_int_equal(ts_setsockopt(sl, fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf)), 0);
	th_send(h, TCP_FLAG_ACK, a, s, 0, NULL, NULL, 0);          /* the window closes */
	assert_int_equal(ts_send(sl, fd, wbuf, 10000, 0), 5840);
	assert_int_equal(wmem_queued(h, fd), 2 * SKB + 5840);
	th_expect_none(h);

	th_advance(h, 10);
	th_send(h, TCP_FLAG_ACK, a, s, 8000, NULL, NULL, 0);       /* it opens: all 4 go */
	for (uint32_t i = 0; i < 4; i++)
		th_expect(h, TH_ANY, s + i * 1460, a, TH_ANY, NULL, 1460);
	th_expect_none(h);
	assert_false(writable(h, fd));
	struct full_info fi = info_of(h, fd);
	assert_int_equal(fi.more.tcpi_rwnd_limited, 10000);
	assert_int_equal(fi.more.tcpi_sndbuf_limited, 0);

	th_advance(h, 20);
	fi = info_of(h, fd);
	assert_int_equal(fi.more.tcpi_sndbuf_limited, 20000);      /* still counting */
	th_send(h, TCP_FLAG_ACK, a, s + 5840, 8000, NULL, NULL, 0); /* all acknowledged */
	assert_true(writable(h, fd));
	th_advance(h, 5);
	fi = info_of(h, fd);
	assert_int_equal(fi.more.tcpi_sndbuf_limited, 20000);
	assert_int_equal(fi.more.tcpi_rwnd_limited, 10000);
	assert_int_equal(fi.more.tcpi_busy_time, 30000);
	assert_int_equal(wmem_queued(h, fd), 0);
}

/*
 * Send buffer auto-tuning as Linux's tcp_sndbuf_expand: at ESTABLISHED room for twice 10
 * packets at Linux's worst case per MSS (one skb each: 2100 bytes round up to 4096, plus
 * the sk_buff: 4352 for an MSS of 1460), so 87040; then, when a writer waits while cwnd is
 * not full, twice cwnd's packets (20 after the first window is acknowledged: 174080).
 */
static void test_sndbuf_autotuning(void **state)
{
	struct th *h = *state;
	struct socket_layer *sl = th_sl(h);
	int fd = th_established(h);
	int got = 0;
	socklen_t len = sizeof(got);
	assert_int_equal(ts_getsockopt(sl, fd, SOL_SOCKET, SO_SNDBUF, &got, &len), 0);
	assert_int_equal(got, 87040);
	while (ts_send(sl, fd, wbuf, sizeof(wbuf), 0) > 0)
		;
	th_drain(h);
	th_send(h, TCP_FLAG_ACK, h->irs + 1, h->iss + 1 + 10 * 1460, 65535, NULL, NULL, 0);
	assert_int_equal(ts_getsockopt(sl, fd, SOL_SOCKET, SO_SNDBUF, &got, &len), 0);
	assert_int_equal(got, 174080);
}

/* A file of n pattern bytes (unlinked: gone with its descriptor). */
static int pattern_file(uint32_t n)
{
	char path[] = "/tmp/tapstack-sendfile-XXXXXX";
	int f = mkstemp(path);
	assert_true(f >= 0);
	unlink(path);
	uint8_t *p = malloc(n);
	assert_non_null(p);
	for (uint32_t i = 0; i < n; i++)
		p[i] = (uint8_t)(i * 7 + (i >> 8));
	assert_int_equal(write(f, p, n), (ssize_t)n);
	free(p);
	return f;
}

/*
 * ts_sendfile: the bytes of the file from the offset go out as ts_send's would (pread into
 * the send queue, the file position untouched), a file that ends first gives the short
 * count with PSH on its last segment, an offset at or past the end gives 0; a file that
 * cannot be read gives Linux's sendfile errno, and only a connected TCP socket takes one.
 */
static void test_sendfile_reads_the_file_into_the_queue(void **state)
{
	struct th *h = *state;
	struct socket_layer *sl = th_sl(h);
	int fd = established_nodelay(h); /* peer MSS 1460, window 65535 */
	uint32_t s = h->iss + 1, a = h->irs + 1;
	int f = pattern_file(10000);

	assert_int_equal(ts_sendfile(sl, fd, f, 100, 4000, 0), 4000);
	uint8_t got[4000];
	uint32_t have = 0;
	struct th_seg seg;
	while (have < sizeof(got) && th_pop_seg(h, &seg)) {
		assert_int_equal(seg.hdr.seq, s + have);
		memcpy(got + have, seg.payload, seg.len);
		have += seg.len;
	}
	assert_int_equal(have, 4000);
	for (uint32_t i = 0; i < have; i++)
		assert_int_equal(got[i], (uint8_t)((i + 100) * 7 + ((i + 100) >> 8)));
	assert_true(seg.hdr.flags & TCP_FLAG_PSH);
	assert_int_equal(lseek(f, 0, SEEK_CUR), 10000); /* the position is not ts_sendfile's */

	/* The file ends 1000 bytes in: those, pushed; then nothing more to give. */
	th_send(h, TCP_FLAG_ACK, a, s + 4000, 65535, NULL, NULL, 0);
	assert_int_equal(ts_sendfile(sl, fd, f, 9000, 5000, MSG_MORE), 1000);
	seg = th_expect(h, PUSH, s + 4000, a, TH_ANY, NULL, 1000);
	assert_int_equal(seg.payload[0], (uint8_t)(9000 * 7 + (9000 >> 8)));
	assert_int_equal(ts_sendfile(sl, fd, f, 10000, 5000, 0), 0);
	assert_int_equal(ts_sendfile(sl, fd, f, 20000, 5000, 0), 0);
	th_expect_none(h);

	/* A file that cannot be read: Linux's errno, nothing queued. */
	int pipefd[2];
	assert_int_equal(pipe(pipefd), 0);
	int dir = open("/tmp", O_RDONLY | O_DIRECTORY);
	assert_true(dir >= 0);
	assert_int_equal(ts_sendfile(sl, fd, -1, 0, 100, 0), -EBADF);
	assert_int_equal(ts_sendfile(sl, fd, pipefd[0], 0, 100, 0), -ESPIPE);
	assert_int_equal(ts_sendfile(sl, fd, dir, 0, 100, 0), -EINVAL);
	assert_int_equal(ts_sendfile(sl, fd, f, (uint64_t)INT64_MAX + 1u, 100, 0), -EINVAL);
	th_expect_none(h);
	assert_int_equal(ts_outq(sl, fd, false), 1000); /* only the 1000 bytes above */

	/* Only a connected stream takes a file. */
	int fresh = ts_socket(sl, AF_INET, SOCK_STREAM, 0);
	int udp = ts_socket(sl, AF_INET, SOCK_DGRAM, 0);
	assert_int_equal(ts_sendfile(sl, fresh, f, 0, 100, 0), -EPIPE);
	assert_int_equal(ts_sendfile(sl, udp, f, 0, 100, 0), -EINVAL);
	assert_int_equal(ts_sendfile(sl, 999, f, 0, 100, 0), -EBADF);
	ts_close(sl, fresh);
	ts_close(sl, udp);
	close(pipefd[0]);
	close(pipefd[1]);
	close(dir);
	close(f);
}

/* A file larger than the send buffer: as much as fits, then -EAGAIN as ts_send gives. */
static void test_sendfile_fills_the_buffer(void **state)
{
	struct th *h = *state;
	struct socket_layer *sl = th_sl(h);
	int fd = established_nodelay(h);
	int f = pattern_file(4u << 20);
	uint64_t off = 0;
	ssize_t n;

	while ((n = ts_sendfile(sl, fd, f, off, (4u << 20) - off, 0)) > 0)
		off += (uint64_t)n;
	assert_int_equal(n, -EAGAIN);
	assert_true(off > 0 && off < (4u << 20));
	assert_int_equal(ts_outq(sl, fd, false), off);
	th_drain(h);
	close(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_eor_records_not_coalesced, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_eor_long_record_ends_its_segment, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_cork_ceiling_and_msg_more_per_call, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_eor_records_bounded, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_psh_initial_window_in_two_units, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_psh_units_of_two_on_a_slow_path, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_psh_forced_push_marks, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_cwnd_counts_packets, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_cwnd_after_dupacks_counts_the_rest, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_tcp_info_busy_and_rwnd_limited, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_sndbuf_wakes_at_two_thirds, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_sndbuf_partial_ack_wakes, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_tcp_info_sndbuf_limited, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_sndbuf_autotuning, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_sendfile_reads_the_file_into_the_queue, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_sendfile_fills_the_buffer, th_setup, th_teardown),
	};
	return cmocka_run_group_tests_name("tcp_send", tests, NULL, NULL);
}
