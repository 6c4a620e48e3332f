/*
 * test_tcp_urg.c - urgent data, frame by frame under the fake clock (stack/tcp/tcp_urg.c;
 * RFC 9293 3.8.5, RFC 6093, Linux's tcp_urg / tcp_recv_urg; docs/tcp.md "Urgent data").
 *
 * Sending: send(MSG_OOB) makes its last byte urgent; every segment that starts before the
 * mark carries URG and a pointer one past the urgent byte, counted from its own first byte,
 * retransmissions included, 0xffff when the mark is out of 16-bit reach; an ACK of the
 * urgent byte ends urgent mode; with TSO the segments of urgent mode go one by one, each
 * with its own pointer.
 * Receiving: the urgent byte is kept out of the stream (recv(MSG_OOB), once), a read stops
 * at the mark and then passes over the byte; SO_OOBINLINE leaves it in the stream;
 * SIOCATMARK, POLLPRI, POLLIN; Linux's errnos; a new mark drops the old byte at the head.
 */
#include <errno.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <cmocka.h>

#include "core/byteorder.h"
#include "drivers/netdev.h"
#include "socket/socket.h"
#include "helpers/tcp_harness.h"

#define DATA (TCP_FLAG_ACK | TH_PSH_ANY)

/* The peer sends text at relative sequence rel (1 = the first byte), with URG and the
 * pointer urg when urg is not 0. */
static void peer_send(struct th *h, uint32_t rel, const char *text, uint16_t urg)
{
	h->urg_ptr = urg;
	th_send(h, TCP_FLAG_ACK | TCP_FLAG_PSH | (urg ? TCP_FLAG_URG : 0), h->irs + rel, h->iss + 1, 65535, NULL,
	        text, (uint32_t)strlen(text));
	h->urg_ptr = 0;
	th_drain(h); /* the ACKs it draws are not what these tests look at */
}

/* A read of up to max bytes must return exactly `want` (a string), or the errno -want_err. */
static void expect_read(struct th *h, int fd, size_t max, int flags, const char *want)
{
	char buf[64] = {0};
	ssize_t n = ts_recv(th_sl(h), fd, buf, max, flags);
	if (n != (ssize_t)strlen(want) || memcmp(buf, want, strlen(want)) != 0)
		fail_msg("recv(%zu, flags 0x%x) returned %zd \"%.*s\", expected \"%s\"", max, (unsigned)flags, n,
		         n > 0 ? (int)n : 0, buf, want);
}

static void expect_err(struct th *h, int fd, int flags, int err)
{
	char buf[8];
	assert_int_equal(ts_recv(th_sl(h), fd, buf, sizeof(buf), flags), -err);
}

static short revents(struct th *h, int fd)
{
	return ts_revents(th_sl(h), fd);
}

/* ---- sending ---- */

/* The urgent byte is the last of the write: URG with pointer 4 on a 4-byte segment (one
 * past it, as BSD and Linux), PSH as any write's end; nothing holds it back, not even a
 * cork. Once the peer has acknowledged it, segments carry no URG again. */
static void test_urg_send_marks_last_byte(void **state)
{
	struct th *h = *state;
	int fd = th_established(h);
	int one = 1;
	assert_int_equal(ts_setsockopt(th_sl(h), fd, IPPROTO_TCP, TCP_CORK, &one, sizeof(one)), 0);
	assert_int_equal(ts_send(th_sl(h), fd, "abcd", 4, MSG_OOB), 4);
	struct th_seg s = th_expect(h, TCP_FLAG_ACK | TCP_FLAG_PSH | TCP_FLAG_URG, h->iss + 1, h->irs + 1, TH_ANY,
	                            NULL, 4);
	assert_int_equal(s.hdr.urg, 4);
	assert_memory_equal(s.payload, "abcd", 4);
	th_expect_none(h);

	th_send(h, TCP_FLAG_ACK, h->irs + 1, h->iss + 5, 65535, NULL, NULL, 0);
	int zero = 0;
	assert_int_equal(ts_setsockopt(th_sl(h), fd, IPPROTO_TCP, TCP_CORK, &zero, sizeof(zero)), 0);
	assert_int_equal(ts_send(th_sl(h), fd, "ef", 2, 0), 2);
	s = th_expect(h, TCP_FLAG_ACK | TCP_FLAG_PSH, h->iss + 5, h->irs + 1, TH_ANY, NULL, 2);
	assert_int_equal(s.hdr.urg, 0);
}

/* Data written before the urgent byte carries the mark too once urgent mode starts, each
 * segment with the pointer from its own first byte: on first transmission and when the
 * RTO resends what went before, one MSS at a time. A pure ACK sent in urgent mode starts
 * at SND.NXT, past the mark, so it has no URG. */
static void test_urg_pointer_per_segment_and_on_retransmission(void **state)
{
	struct th *h = *state;
	int fd = th_established(h); /* MSS 1460, window 65535 */
	static char big[2920];
	memset(big, 'a', sizeof(big));
	assert_int_equal(ts_send(th_sl(h), fd, big, 1460, 0), 1460);
	th_expect(h, DATA, h->iss + 1, h->irs + 1, TH_ANY, NULL, 1460); /* before urgent mode */
	assert_int_equal(ts_send(th_sl(h), fd, big, 1461, MSG_OOB), 1461);
	/* SND.UP = 1 + 1460 + 1461 = 2922 (relative): pointers 1461 and 1. */
	struct th_seg s = th_expect(h, TCP_FLAG_ACK | TCP_FLAG_URG, h->iss + 1461, h->irs + 1, TH_ANY, NULL, 1460);
	assert_int_equal(s.hdr.urg, 1461);
	s = th_expect(h, TCP_FLAG_ACK | TCP_FLAG_PSH | TCP_FLAG_URG, h->iss + 2921, h->irs + 1, TH_ANY, NULL, 1);
	assert_int_equal(s.hdr.urg, 1);
	th_expect_none(h);

	/* Data from the peer: our ACK of it starts at SND.NXT (2922), past the mark: no URG. */
	th_send(h, TCP_FLAG_ACK | TCP_FLAG_PSH, h->irs + 1, h->iss + 1, 65535, NULL, "hi", 2);
	assert_true(th_advance_until_seg(h, 200) >= 0);
	th_expect(h, TCP_FLAG_ACK, h->iss + 2922, h->irs + 3, TH_ANY, NULL, 0);

	/* No ACK: the RTO resends from SND.UNA, one MSS, and now the first segment carries the
	 * pointer from its own start: 2922 - 1 = 2921. */
	assert_true(th_advance_until_seg(h, 3000) >= 0);
	s = th_expect(h, TCP_FLAG_ACK | TH_PSH_ANY | TCP_FLAG_URG, h->iss + 1, TH_ANY, TH_ANY, NULL, 1460);
	assert_int_equal(s.hdr.urg, 2921);
	/* The peer acknowledges it: the next resend is the second segment, pointer 1461. */
	th_send(h, TCP_FLAG_ACK, h->irs + 3, h->iss + 1461, 65535, NULL, NULL, 0);
	s = th_expect(h, TCP_FLAG_ACK | TH_PSH_ANY | TCP_FLAG_URG, h->iss + 1461, TH_ANY, TH_ANY, NULL, 1460);
	assert_int_equal(s.hdr.urg, 1461);
	/* Up to the urgent byte acknowledged: urgent mode is over. */
	th_send(h, TCP_FLAG_ACK, h->irs + 3, h->iss + 2922, 65535, NULL, NULL, 0);
	th_drain(h);
	assert_int_equal(ts_send(th_sl(h), fd, "z", 1, 0), 1);
	s = th_expect(h, DATA, h->iss + 2922, TH_ANY, TH_ANY, NULL, 1);
	assert_int_equal(s.hdr.flags & TCP_FLAG_URG, 0);
	assert_int_equal(s.hdr.urg, 0);
}

/* With TSO a write in urgent mode is not one super-segment (the device would copy one
 * pointer into every piece, the bug Linux's tcp_urg_ptr_retransmit test catches): three
 * segments, each with its own pointer, PSH on the last. */
static void test_urg_no_tso_super_segment(void **state)
{
	(void)state;
	struct th *h = th_new_offload(NULL, NETDEV_OFF_CSUM | NETDEV_OFF_TSO4);
	int fd = th_established(h);
	static char big[2921];
	memset(big, 'u', sizeof(big));
	assert_int_equal(ts_send(th_sl(h), fd, big, sizeof(big), MSG_OOB), 2921);
	static const uint32_t seq[3] = {1, 1461, 2921}, len[3] = {1460, 1460, 1}, urg[3] = {2921, 1461, 1};
	for (int i = 0; i < 3; i++) {
		struct th_seg s;
		while (h->tx.head && get_be16(h->tx.head->data + 12) != 0x0800)
			free(th_fq_pop(&h->tx)); /* ARP, if any */
		assert_non_null(h->tx.head);
		assert_int_equal(h->tx.head->gso_size, 0);
		assert_true(th_pop_seg(h, &s));
		assert_int_equal(s.hdr.seq, h->iss + seq[i]);
		assert_int_equal(s.len, len[i]);
		assert_int_equal(s.hdr.flags, TCP_FLAG_ACK | TCP_FLAG_URG | (i == 2 ? TCP_FLAG_PSH : 0));
		assert_int_equal(s.hdr.urg, urg[i]);
	}
	th_expect_none(h);
	th_free(h);
}

/* A mark further than 16 bits reach: segments that start more than 65535 bytes before it
 * carry URG with the largest pointer, 0xffff ("urgent data follows", Linux's rule for a
 * segment near SND.NXT); from 65535 bytes before it on, the real distance. */
static void test_urg_mark_beyond_64k(void **state)
{
	struct th *h = *state;
	int fd = th_established(h); /* MSS 1460, window 65535: ten segments go at once */
	int buf = 200000;
	assert_int_equal(ts_setsockopt(th_sl(h), fd, SOL_SOCKET, SO_SNDBUF, &buf, sizeof(buf)), 0);
	static char big[70000];
	memset(big, 'b', sizeof(big));
	assert_int_equal(ts_send(th_sl(h), fd, big, sizeof(big), MSG_OOB), 70000);
	/* SND.UP = 70001 (relative): 70000, 68540, 67080, 65620 are out of reach; 64160 is not. */
	static const uint32_t want[5] = {0xffff, 0xffff, 0xffff, 0xffff, 64160};
	for (uint32_t i = 0; i < 5; i++) {
		struct th_seg s = th_expect(h, DATA | TCP_FLAG_URG, h->iss + 1 + i * 1460, TH_ANY, TH_ANY, NULL,
		                            1460);
		assert_int_equal(s.hdr.urg, want[i]);
	}
	th_drain(h);
}

/* ---- receiving ---- */

/* "hello" with the pointer one past 'o': 'o' is out of band. recv(MSG_OOB) returns it
 * once; a read returns "hell", stops at the mark, and the next passes over the byte.
 * SIOCATMARK says when the reader is at the mark; POLLPRI while 'o' waits unread. */
static void test_urg_receive_out_of_band(void **state)
{
	struct th *h = *state;
	int fd = th_established(h);
	assert_int_equal(ts_atmark(th_sl(h), fd), 0);
	peer_send(h, 1, "hello", 5);
	assert_int_equal(revents(h, fd) & (POLLIN | POLLPRI), POLLIN | POLLPRI);
	assert_int_equal(ts_atmark(th_sl(h), fd), 0);
	expect_read(h, fd, 1, MSG_OOB | MSG_PEEK, "o");
	expect_read(h, fd, 1, MSG_OOB, "o");
	assert_int_equal(revents(h, fd) & (POLLIN | POLLPRI), POLLIN);
	expect_err(h, fd, MSG_OOB, EINVAL); /* read already */
	assert_int_equal(ts_inq(th_sl(h), fd), 5);   /* FIONREAD counts it, as Linux */
	expect_read(h, fd, 64, 0, "hell");
	assert_int_equal(ts_atmark(th_sl(h), fd), 1);
	assert_int_equal(revents(h, fd) & POLLIN, 0); /* only the out-of-band byte is left */
	expect_err(h, fd, 0, EAGAIN);                /* passed over: nothing to read */
	assert_int_equal(ts_inq(th_sl(h), fd), 0);
	assert_int_equal(ts_atmark(th_sl(h), fd), 0);
	expect_err(h, fd, MSG_OOB, EINVAL);
}

/* A read stops at the mark even with room for more; the next passes over the urgent byte
 * into the data after it, which was never read with MSG_OOB and is now gone (EINVAL). A
 * peek passes over it too but keeps everything. */
static void test_urg_read_stops_at_mark(void **state)
{
	struct th *h = *state;
	int fd = th_established(h);
	peer_send(h, 1, "hello", 5);
	peer_send(h, 6, "world", 0);
	expect_read(h, fd, 64, MSG_PEEK, "hell");
	expect_read(h, fd, 64, 0, "hell");
	expect_read(h, fd, 64, MSG_PEEK, "world");
	expect_read(h, fd, 64, 0, "world");
	expect_err(h, fd, MSG_OOB, EINVAL);
	assert_int_equal(revents(h, fd) & (POLLIN | POLLPRI), 0);
}

/* SO_OOBINLINE: the urgent byte stays in the stream; recv(MSG_OOB) is EINVAL; a read still
 * stops at the mark, and SIOCATMARK says so; POLLPRI still tells it came. */
static void test_urg_oobinline(void **state)
{
	struct th *h = *state;
	int fd = th_established(h);
	int one = 1, v = 0;
	socklen_t len = sizeof(v);
	assert_int_equal(ts_setsockopt(th_sl(h), fd, SOL_SOCKET, SO_OOBINLINE, &one, sizeof(one)), 0);
	assert_int_equal(ts_getsockopt(th_sl(h), fd, SOL_SOCKET, SO_OOBINLINE, &v, &len), 0);
	assert_int_equal(v, 1);
	peer_send(h, 1, "hello", 5);
	peer_send(h, 6, "world", 0);
	assert_true(revents(h, fd) & POLLPRI);
	expect_err(h, fd, MSG_OOB, EINVAL);
	expect_read(h, fd, 64, 0, "hell");
	assert_int_equal(ts_atmark(th_sl(h), fd), 1);
	expect_read(h, fd, 64, 0, "oworld");
	assert_int_equal(ts_atmark(th_sl(h), fd), 0);
	assert_int_equal(revents(h, fd) & POLLPRI, 0);
}

/* A pointer beyond the segment announces a byte still to come: recv(MSG_OOB) is EAGAIN
 * (it never waits), no POLLPRI; the data before the mark reads normally. The segment
 * holding the byte makes it valid. */
static void test_urg_announced_before_it_arrives(void **state)
{
	struct th *h = *state;
	int fd = th_established(h);
	peer_send(h, 1, "abc", 10); /* urgent byte: relative 10, the 10th of the stream */
	expect_err(h, fd, MSG_OOB, EAGAIN);
	assert_int_equal(revents(h, fd) & POLLPRI, 0);
	expect_read(h, fd, 64, 0, "abc");
	peer_send(h, 4, "defghijk", 0);
	assert_true(revents(h, fd) & POLLPRI);
	expect_read(h, fd, 64, 0, "defghi");
	expect_read(h, fd, 1, MSG_OOB, "j");
	expect_read(h, fd, 64, 0, "k");
}

/* A second mark while the first urgent byte is the next to read: Linux drops that byte
 * from the stream (tcp_check_urg), so only the new one is left, out of band. */
static void test_urg_new_mark_drops_old_byte(void **state)
{
	struct th *h = *state;
	int fd = th_established(h);
	peer_send(h, 1, "x", 1);
	assert_int_equal(ts_atmark(th_sl(h), fd), 1);
	peer_send(h, 2, "y", 1);
	assert_int_equal(ts_inq(th_sl(h), fd), 1);
	expect_read(h, fd, 1, MSG_OOB, "y");
	expect_err(h, fd, 0, EAGAIN);
}

/* A second mark further on: the first urgent byte becomes ordinary data ("hellowo"), the
 * read stops at the new one (Linux's msg_oob selftest ex_oob_break). */
static void test_urg_later_mark_replaces_earlier(void **state)
{
	struct th *h = *state;
	int fd = th_established(h);
	peer_send(h, 1, "hello", 5);
	peer_send(h, 6, "wor", 3);
	peer_send(h, 9, "ld", 0);
	expect_read(h, fd, 10, 0, "hellowo");
	expect_read(h, fd, 1, MSG_OOB, "r");
	expect_read(h, fd, 10, 0, "ld");
}

/* The errnos of recv(MSG_OOB) without urgent data, as Linux: EINVAL on a connection and
 * on a socket never connected, ENOTCONN on a listener; a pointer to a byte already read
 * is ignored. */
static void test_urg_errnos(void **state)
{
	struct th *h = *state;
	int fd = th_established(h);
	expect_err(h, fd, MSG_OOB, EINVAL);
	int lfd = th_listen(h, 81, 8);
	assert_int_equal(ts_recv(th_sl(h), lfd, (char[4]){0}, 4, MSG_OOB), -ENOTCONN);
	int nfd = ts_socket(th_sl(h), AF_INET, SOCK_STREAM, 0);
	assert_true(nfd >= 0);
	expect_err(h, nfd, MSG_OOB, EINVAL);
	expect_err(h, nfd, 0, ENOTCONN);
	assert_int_equal(ts_atmark(th_sl(h), nfd), 0);
	/* Data read, then a segment overlapping it whose pointer points at a byte already
	 * read ('c'): ignored; its new byte is ordinary data. */
	peer_send(h, 1, "abc", 0);
	expect_read(h, fd, 64, 0, "abc");
	peer_send(h, 3, "cd", 1);
	expect_err(h, fd, MSG_OOB, EINVAL);
	assert_int_equal(revents(h, fd) & POLLPRI, 0);
	expect_read(h, fd, 64, 0, "d");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_urg_send_marks_last_byte, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_urg_pointer_per_segment_and_on_retransmission, th_setup,
		                                th_teardown),
		cmocka_unit_test(test_urg_no_tso_super_segment),
		cmocka_unit_test_setup_teardown(test_urg_mark_beyond_64k, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_urg_receive_out_of_band, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_urg_read_stops_at_mark, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_urg_oobinline, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_urg_announced_before_it_arrives, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_urg_new_mark_drops_old_byte, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_urg_later_mark_replaces_earlier, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_urg_errnos, th_setup, th_teardown),
	};
	return cmocka_run_group_tests_name("tcp_urg", tests, NULL, NULL);
}
