/*
 * tap_uring.c - the TAP driver's io_uring back end: the frames of a poll cycle leave together.
 *
 * The plain back end pays one system call per frame sent, and at 1514-byte frames that call is
 * a large part of the cost of a segment. Here the kernel and the driver share two rings
 * (io_uring(7), through liburing): we put write requests in the submission ring and find their
 * results in the completion ring, and one io_uring_enter() submits any number of them.
 *
 * Transmit: send() copies nothing. It queues a writev request whose pieces are the slot's
 * virtio header (with offloads) and the frame where it already is: the pbuf's own bytes (the
 * headers, or a whole small frame) and the payload its ext pieces borrow from a TCP send ring,
 * as the plain back end's writev() does (tap_frame_iov). The kernel reads them when the request
 * runs, so until then the pbuf is held (pbuf_hold: the caller's pbuf_free leaves it in use) and
 * the send ring keeps the lent bytes in place (the device is tx_late: the stack flushes it
 * before it would change them, core_tx in core/core.h). The stack's flush (ts_stack_flush,
 * once per poll cycle) submits the batch and waits until the kernel has taken every write,
 * releasing each pbuf as its write completes, so nothing the stack lent is read after flush
 * returns. A cycle that sent one frame only (an answer, an ACK) writes it with writev(),
 * which costs less than a ring round for one write. If the slots run out mid-cycle the batch
 * goes early (tx_early), so nothing is dropped for lack of room; a 64 KiB TSO frame is one
 * request like any other. A write the kernel refuses is counted in tx_errors, a short one in
 * tx_short.
 *
 * The fd stays non-blocking (docs/drivers.md, "Where io_uring runs a request"): io_uring then
 * runs each write at once, in this thread, inside io_uring_enter(). A TAP does not declare
 * that it can be tried without blocking (FMODE_NOWAIT), so on a blocking fd io_uring hands
 * every request to its worker threads instead: two thread switches per write.
 *
 * Receive is the plain back end's read() into the stack's pbuf (tap.c), one call per frame:
 * reads posted in the ring cost more than that on a TAP (see docs/drivers.md), and the fd's
 * readiness is what the stack's loop polls.
 *
 * Who owns what: the ring and the slots are this file's; a pbuf given to send() stays the
 * caller's, held until its write completes.
 */
#include "drivers/tap_int.h"

#include <errno.h>
#include <fcntl.h>
#include <liburing.h>
#include <sys/uio.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TAP_URING_TX 64u          /* frames one batch holds before it goes early */
#define TAP_URING_ENTRIES 128u    /* submission ring: a batch fits */

/* One queued write: what its writev points at stays valid until it completes. */
struct tap_uring_tx {
	struct pbuf *pb;              /* the frame, held (pbuf_hold) until the write completes */
	uint32_t len;                 /* bytes the write must take: the header and the frame */
	struct virtio_net_hdr vh;     /* with offloads: the frame's virtio header */
	struct iovec iov[4];          /* header, pb's bytes, its two ext pieces */
	unsigned niov;
};

struct tap_uring {
	struct io_uring ring;
	struct tap_uring_tx tx[TAP_URING_TX];
	unsigned tx_queued;               /* slots filled since the last flush */
	unsigned tx_inflight;             /* writes submitted, not completed */
};

/* A write of slot tx ended with res (bytes, or -errno): counted, its pbuf released. */
static void tap_uring_done(struct tap_dev *t, struct tap_uring_tx *tx, int res)
{
	if (res < 0)
		t->st.tx_errors++;
	else if ((uint32_t)res < tx->len)
		t->st.tx_short++;
	else
		t->st.tx_frames++;
	pbuf_release(tx->pb);   /* the kernel is done with its memory */
	tx->pb = NULL;
}

/* Takes every completion waiting. */
static void tap_uring_reap(struct tap_dev *t)
{
	struct tap_uring *u = t->u;
	struct io_uring_cqe *cqe;
	unsigned head, n = 0;
	io_uring_for_each_cqe(&u->ring, head, cqe) {
		n++;
		u->tx_inflight--;
		tap_uring_done(t, &u->tx[io_uring_cqe_get_data64(cqe) % TAP_URING_TX], cqe->res);
	}
	io_uring_cq_advance(&u->ring, n);
}

/*
 * Writes the queued frames and waits until the kernel has taken them all. One frame alone
 * (a request's answer, an ACK) goes by writev(): a ring costs more than that call for one
 * write, and the round trip is what matters then. Two or more go as one batch.
 */
void tap_uring_flush(struct tap_dev *t)
{
	struct tap_uring *u = t->u;
	if (u->tx_queued == 1) {
		struct tap_uring_tx *tx = &u->tx[0];
		ssize_t w;
		do {
			t->st.tx_syscalls++;
			w = writev(t->fd, tx->iov, (int)tx->niov);
		} while (w < 0 && errno == EINTR);
		tap_uring_done(t, tx, w < 0 ? -errno : (int)w);
		u->tx_queued = 0;
		return;
	}
	for (unsigned i = 0; i < u->tx_queued; i++) {
		struct io_uring_sqe *sqe = io_uring_get_sqe(&u->ring);
		if (!sqe) {                 /* cannot happen: the ring holds a whole batch */
			tap_uring_done(t, &u->tx[i], -EBUSY);
			continue;
		}
		io_uring_prep_writev(sqe, t->fd, u->tx[i].iov, u->tx[i].niov, 0);
		io_uring_sqe_set_data64(sqe, i);
		u->tx_inflight++;
	}
	if (u->tx_inflight) {
		t->st.tx_syscalls++;
		io_uring_submit(&u->ring);
	}
	while (u->tx_inflight) {
		struct io_uring_cqe *cqe;
		int e = io_uring_wait_cqe(&u->ring, &cqe);   /* -errno, as liburing reports */
		if (e < 0 && e != -EINTR)
			break;
		tap_uring_reap(t);
	}
	if (u->tx_inflight) {
		/* The ring failed under us: those frames are gone; count them, do not wait forever. */
		t->st.tx_errors += u->tx_inflight;
		u->tx_inflight = 0;
		for (unsigned i = 0; i < TAP_URING_TX; i++)
			if (u->tx[i].pb) {
				pbuf_release(u->tx[i].pb);
				u->tx[i].pb = NULL;
			}
	}
	u->tx_queued = 0;
}

int tap_uring_send(struct tap_dev *t, struct pbuf *pb)
{
	struct tap_uring *u = t->u;
	if (u->tx_queued >= TAP_URING_TX) {
		t->st.tx_early++;
		tap_uring_flush(t);
	}
	struct tap_uring_tx *tx = &u->tx[u->tx_queued++];
	unsigned n = 0;
	if (t->vnet) {
		tap_tx_meta(pb, &tx->vh);
		tx->iov[n++] = (struct iovec){ &tx->vh, sizeof(tx->vh) };
	}
	tx->niov = n + tap_frame_iov(pb, tx->iov + n);
	tx->len = (t->vnet ? (uint32_t)sizeof(tx->vh) : 0u) + pbuf_frame_len(pb);
	tx->pb = pb;
	pbuf_hold(pb);
	return 0;
}

void tap_uring_close(struct tap_dev *t)
{
	tap_uring_flush(t);
	io_uring_queue_exit(&t->u->ring);
	free(t->u);
	t->u = NULL;
}

int tap_uring_open(struct tap_dev *t, char *errbuf, size_t errlen)
{
	struct tap_uring *u = calloc(1, sizeof(*u));
	if (!u) {
		snprintf(errbuf, errlen, "out of memory");
		return -ENOMEM;
	}
	int e = io_uring_queue_init(TAP_URING_ENTRIES, &u->ring, 0);
	if (e < 0) {
		free(u);
		snprintf(errbuf, errlen, "io_uring_queue_init: %s", strerror(-e));
		return e;
	}
	/* Non-blocking, so io_uring runs each write in this thread (the file's comment). */
	int fl = fcntl(t->fd, F_GETFL);
	if (fl < 0 || fcntl(t->fd, F_SETFL, fl | O_NONBLOCK) < 0) {
		e = -errno;
		io_uring_queue_exit(&u->ring);
		free(u);
		snprintf(errbuf, errlen, "fcntl: %s", strerror(-e));
		return e;
	}
	t->u = u;
	t->dev.tx_late = true;   /* writes read the frames at flush (the file's comment) */
	return 0;
}
