/*
 * test_tcp_send.c - how the sender cuts what the application wrote, as Linux does: MSG_EOR
 * records (no segment carries bytes of two records, the record's last segment has PSH,
 * Nagle holds only the last record, a bounded number of open records); where PSH goes
 * (transmit units of half the congestion window or tcp_tso_segs, push marks at write ends
 * and forced pushes: docs/tcp.md "Where PSH goes"); the congestion window counted in
 * packets; TCP_INFO's chronograph of why the sender waits. Exact frames on the fake clock
 * through the recording driver (tcp_output.c, tcp_conn.c, tcp_buf.c).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "helpers/tcp_harness.h"
#include "socket/socket.h"
#include "tcp/tcp.h"

#define DATA TCP_FLAG_ACK
#define PUSH (TCP_FLAG_ACK | TCP_FLAG_PSH)

static uint8_t buf[4096];
static uint8_t wbuf[65536];

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
	int fd = th_established(h);
	uint32_t s = h->iss + 1, a = h->irs + 1;
	int one = 1;
	assert_int_equal(ts_setsockopt(sl, fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)), 0);
	memset(buf, 'l', sizeof(buf));
	assert_int_equal(ts_send(sl, fd, buf, 3000, MSG_EOR | MSG_MORE), 3000);
	assert_int_equal(ts_send(sl, fd, buf, 1000, 0), 1000);
	th_expect(h, DATA, s, a, TH_ANY, NULL, 1460);
	th_expect(h, PUSH, s + 1460, a, TH_ANY, NULL, 1460);  /* a 2-segment unit: PSH on its last */
	th_expect(h, DATA, s + 2920, a, TH_ANY, NULL, 80);    /* the record's end: MSG_MORE, no PSH */
	th_expect(h, PUSH, s + 3000, a, TH_ANY, NULL, 1000);  /* not 920 more in that segment */
	th_expect_none(h);
}

/* At most TCP_EOR_MARKS (16) records unacknowledged: the 17th waits (EAGAIN), as Linux's
 * writer runs out of send buffer with one skb per record; an ACK makes room. */
static void test_eor_records_bounded(void **state)
{
	struct th *h = *state;
	struct socket_layer *sl = th_sl(h);
	int fd = th_established(h);
	int one = 1;
	assert_int_equal(ts_setsockopt(sl, fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)), 0);
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
	int fd = th_established(h);
	int one = 1;
	assert_int_equal(ts_setsockopt(sl, fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)), 0);
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
	int sndbuf = 200000;
	assert_int_equal(ts_setsockopt(th_sl(h), fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf)), 0);
	assert_int_equal(ts_send(th_sl(h), fd, wbuf, 32 * 1460, 0), 32 * 1460);
	for (uint32_t i = 0; i < 8; i++)
		th_expect(h, i % 4 == 3 ? PUSH : DATA, s + i * 1460, a, TH_ANY, NULL, 1460);
	th_expect_none(h);
	for (uint32_t i = 8; i < 32; i++) {
		th_send(h, TCP_FLAG_ACK, a, s + (i - 7) * 1460, 8 * 1460, NULL, NULL, 0);
		bool psh = i == 15 || i == 23 || i == 31;
		th_expect(h, psh ? PUSH : DATA, s + i * 1460, a, TH_ANY, NULL, 1460);
		th_expect_none(h);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_eor_records_not_coalesced, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_eor_long_record_ends_its_segment, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_eor_records_bounded, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_psh_initial_window_in_two_units, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_psh_units_of_two_on_a_slow_path, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_psh_forced_push_marks, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_cwnd_counts_packets, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_tcp_info_busy_and_rwnd_limited, th_setup, th_teardown),
	};
	return cmocka_run_group_tests_name("tcp_send", tests, NULL, NULL);
}
