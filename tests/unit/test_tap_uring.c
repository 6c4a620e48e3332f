/*
 * test_tap_uring.c - the TAP driver's io_uring back end (drivers/tap_uring.c) without a TAP
 * and without root: an AF_UNIX SEQPACKET socket pair stands in for /dev/net/tun (one message
 * is one frame, as one write() of a TAP is). Frames leave in order and byte-exact whatever the
 * batch boundaries; a full batch leaves early instead of being lost. Nothing sent is copied:
 * the kernel reads each frame where it is when the batch is flushed (the pbuf held until
 * then, the payload its ext pieces borrow), a 64 KiB TSO frame included, in order with the
 * rest. Skipped where the kernel refuses io_uring.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <errno.h>
#include <cmocka.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include "drivers/tap_int.h"

#define FRAME_LEN 100u

struct fx {
	struct tap_dev t;
	int peer;                     /* the "kernel" side of the device */
	struct pbuf_pool pool;
};

/* The pool holds a batch of sends: up to 64 pbufs held (one per queued write). */
static int fx_setup(struct fx *f)
{
	int sv[2];
	memset(f, 0, sizeof(*f));
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), 0);
	f->t.fd = sv[0];
	f->peer = sv[1];
	f->t.dev.mtu = 1500;
	pbuf_pool_init(&f->pool, 128, 4);
	char why[128];
	return tap_uring_open(&f->t, why, sizeof(why));
}

static void fx_teardown(struct fx *f)
{
	if (f->t.u)
		tap_uring_close(&f->t);
	close(f->t.fd);
	close(f->peer);
	pbuf_pool_destroy(&f->pool);
}

/* The fixture, or the test skipped where the kernel refuses io_uring. */
static void fx_start(struct fx *f)
{
	if (fx_setup(f) != 0) {
		fx_teardown(f);
		skip();
	}
}

static void frame_fill(uint8_t *b, uint32_t tag)
{
	for (uint32_t i = 0; i < FRAME_LEN; i++)
		b[i] = (uint8_t)(tag * 7u + i);
}

static void send_frame(struct fx *f, uint32_t tag)
{
	struct pbuf *pb = pbuf_alloc(&f->pool, 0, FRAME_LEN);
	assert_non_null(pb);
	frame_fill(pbuf_put(pb, FRAME_LEN), tag);
	assert_int_equal(tap_uring_send(&f->t, pb), 0);
	pbuf_free(pb);                /* the caller's part: the device holds it until its write ends */
}

static void expect_frames(struct fx *f, uint32_t from, uint32_t to)
{
	uint8_t got[FRAME_LEN + 1], want[FRAME_LEN];
	for (uint32_t tag = from; tag < to; tag++) {
		assert_int_equal(recv(f->peer, got, sizeof(got), MSG_DONTWAIT), FRAME_LEN);
		frame_fill(want, tag);
		assert_memory_equal(got, want, FRAME_LEN);
	}
	assert_int_equal(recv(f->peer, got, sizeof(got), MSG_DONTWAIT), -1);   /* nothing more */
}

/* 200 frames in one cycle: more than the send slots hold; they leave early, in order. */
static void test_tap_uring_send_batches_in_order(void **state)
{
	(void)state;
	struct fx f;
	fx_start(&f);
	for (uint32_t i = 0; i < 200; i++)
		send_frame(&f, i);
	tap_uring_flush(&f.t);
	expect_frames(&f, 0, 200);
	assert_int_equal(f.t.st.tx_frames, 200);
	assert_int_equal(f.t.st.tx_errors, 0);
	assert_true(f.t.st.tx_early >= 2);           /* 64 slots: at least two early batches */
	assert_true(f.t.st.tx_syscalls < 10);        /* a handful of calls, not 200 */
	fx_teardown(&f);
}

/*
 * No copy at send(): the kernel reads the frame where it is when the batch is flushed. The test
 * does what the stack must never do (docs/drivers.md, "Who owns a frame until it leaves"):
 * it changes the pbuf's bytes and the borrowed payload after send(), and the peer gets the
 * changed bytes, which a driver that copied at send() could not have sent. The pbuf the
 * caller freed stays in use until the write completes, then goes back to the pool.
 */
static void test_tap_uring_send_reads_the_frame_at_flush(void **state)
{
	(void)state;
	struct fx f;
	fx_start(&f);
	static uint8_t payload[1400];
	memset(payload, 'a', sizeof(payload));
	struct pbuf *pb = pbuf_alloc(&f.pool, 64, 54);
	assert_non_null(pb);
	memset(pbuf_put(pb, 54), 'h', 54);
	pb->ext[0] = (struct pbuf_ext){ payload, 1000 };
	pb->ext[1] = (struct pbuf_ext){ payload + 1000, 400 };
	assert_int_equal(tap_uring_send(&f.t, pb), 0);
	memset(pb->data, 'H', 54);                  /* after send(), before the flush */
	memset(payload, 'b', sizeof(payload));
	pbuf_free(pb);
	assert_int_equal(f.pool.cls[0].in_use, 1);  /* held by the queued write */
	tap_uring_flush(&f.t);
	assert_int_equal(f.pool.cls[0].in_use, 0);  /* released when it completed */
	uint8_t got[2000], want[54 + 1400];
	memset(want, 'H', 54);
	memset(want + 54, 'b', 1400);
	assert_int_equal(recv(f.peer, got, sizeof(got), MSG_DONTWAIT), (ssize_t)sizeof(want));
	assert_memory_equal(got, want, sizeof(want));
	assert_int_equal(f.t.st.tx_frames, 1);
	assert_int_equal(f.t.st.tx_short + f.t.st.tx_errors, 0);
	fx_teardown(&f);
}

/* A TCP/IPv4 frame of hlen header bytes in pb (Ethernet, IPv4 without options, TCP 32). */
static void tso_headers(uint8_t *h)
{
	memset(h, 0, 66);
	h[12] = 0x08;                               /* EtherType IPv4 */
	h[14] = 0x45;                               /* version 4, IHL 5 */
	h[14 + 9] = 6;                              /* TCP */
	h[34 + 12] = 8u << 4;                       /* TCP data offset: 32 bytes */
}

/*
 * With offloads a 64 KiB TSO frame is one queued write like the others (the kernel cuts it),
 * its virtio header in the slot, its payload read from where it is, in order between two small
 * frames, all in one system call.
 */
static void test_tap_uring_send_tso_frame_in_order(void **state)
{
	(void)state;
	struct fx f;
	fx_start(&f);
	f.t.vnet = true;
	int big = 256 * 1024;
	assert_int_equal(setsockopt(f.t.fd, SOL_SOCKET, SO_SNDBUF, &big, sizeof(big)), 0);
	assert_int_equal(setsockopt(f.peer, SOL_SOCKET, SO_RCVBUF, &big, sizeof(big)), 0);
	enum { PAY = 65000 };
	static uint8_t payload[PAY];
	for (uint32_t i = 0; i < PAY; i++)
		payload[i] = (uint8_t)(i * 13u);
	send_frame(&f, 1);
	struct pbuf *pb = pbuf_alloc(&f.pool, 64, 66);
	assert_non_null(pb);
	tso_headers(pbuf_put(pb, 66));
	pb->gso_size = 1448;
	pb->flags |= PBUF_F_CSUM_PARTIAL;
	pb->ext[0] = (struct pbuf_ext){ payload, PAY };
	assert_int_equal(tap_uring_send(&f.t, pb), 0);
	pbuf_free(pb);
	send_frame(&f, 2);
	tap_uring_flush(&f.t);
	assert_int_equal(f.t.st.tx_syscalls, 1);
	assert_int_equal(f.t.st.tx_frames, 3);

	static uint8_t got[sizeof(struct virtio_net_hdr) + 66 + PAY + 1];
	struct virtio_net_hdr vh;
	uint8_t want[FRAME_LEN];
	/* frame 1, with an empty virtio header before it */
	assert_int_equal(recv(f.peer, got, sizeof(got), MSG_DONTWAIT), (ssize_t)(sizeof(vh) + FRAME_LEN));
	frame_fill(want, 1);
	assert_memory_equal(got + sizeof(vh), want, FRAME_LEN);
	/* the TSO frame: the header asks for segmentation at 1448, the payload is exact */
	assert_int_equal(recv(f.peer, got, sizeof(got), MSG_DONTWAIT), (ssize_t)(sizeof(vh) + 66 + PAY));
	memcpy(&vh, got, sizeof(vh));
	assert_int_equal(vh.gso_type, VIRTIO_NET_HDR_GSO_TCPV4);
	assert_int_equal(vh.gso_size, 1448);
	assert_int_equal(vh.hdr_len, 66);
	assert_int_equal(vh.csum_start, 34);
	assert_int_equal(vh.flags, VIRTIO_NET_HDR_F_NEEDS_CSUM);
	assert_memory_equal(got + sizeof(vh) + 66, payload, PAY);
	/* frame 2 */
	assert_int_equal(recv(f.peer, got, sizeof(got), MSG_DONTWAIT), (ssize_t)(sizeof(vh) + FRAME_LEN));
	frame_fill(want, 2);
	assert_memory_equal(got + sizeof(vh), want, FRAME_LEN);
	assert_int_equal(f.pool.cls[0].in_use, 0);
	fx_teardown(&f);
}

/* A write the kernel refuses is counted, and its pbuf still goes back to the pool. */
static void test_tap_uring_send_error_counted(void **state)
{
	(void)state;
	struct fx f;
	fx_start(&f);
	assert_int_equal(shutdown(f.t.fd, SHUT_WR), 0);   /* every write now fails (EPIPE) */
	signal(SIGPIPE, SIG_IGN);
	send_frame(&f, 1);
	send_frame(&f, 2);
	tap_uring_flush(&f.t);
	assert_int_equal(f.t.st.tx_errors, 2);
	assert_int_equal(f.t.st.tx_frames, 0);
	assert_int_equal(f.pool.cls[0].in_use, 0);
	fx_teardown(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tap_uring_send_batches_in_order),
		cmocka_unit_test(test_tap_uring_send_reads_the_frame_at_flush),
		cmocka_unit_test(test_tap_uring_send_tso_frame_in_order),
		cmocka_unit_test(test_tap_uring_send_error_counted),
	};
	return cmocka_run_group_tests_name("tap_uring", tests, NULL, NULL);
}
