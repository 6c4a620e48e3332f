/*
 * tap_uring.c - the TAP driver's io_uring back end: frames in and out in batches.
 *
 * The plain back end pays one system call per frame, and at 1514-byte frames that call is
 * most of the cost of a segment. Here the kernel and the driver share two rings (io_uring(7),
 * through liburing): we put requests in the submission ring and find their results in the
 * completion ring, and one io_uring_enter() submits any number of them.
 *
 * Receive: up to TAP_URING_RX reads stay posted, each straight into a pbuf of the stack's
 * pool (the virtio header, with offloads, into the slot's own small buffer beside it). A
 * frame arriving completes one; recv() takes completions in order and swaps pbufs with the
 * stack: it hands over the pbuf the kernel filled and posts the next read into the empty one
 * the stack passed in (netdev.h), so the frame is never copied in user space. The slots get
 * their first pbufs at the first recv(), from the pool the stack's pbuf comes from, at most
 * an eighth of that pool's size class so the stack keeps the rest. Re-posted reads are
 * submitted together: when recv() finds nothing more, or at the end of the poll cycle.
 *
 * Transmit: send() copies nothing. It queues a writev request whose pieces are the slot's
 * virtio header (with offloads) and the frame where it already is: the pbuf's own bytes (the
 * headers, or a whole small frame) and the payload its ext pieces borrow from a TCP send ring,
 * as the plain back end's writev() does. The kernel reads them when the request runs, so until
 * then the pbuf is held (pbuf_hold: the caller's pbuf_free leaves it in use) and the send ring
 * keeps the lent bytes in place (the device is tx_late: the stack flushes it before it would
 * change them, core_tx in core/core.h). The stack's flush (once per ts_stack_poll, netdev.h)
 * submits the batch and waits until the kernel has taken every write, releasing each pbuf as
 * its write completes, so nothing the stack lent is read after flush returns. If the slots run
 * out mid-cycle the batch goes early (tx_early), so nothing is dropped for lack of room; a
 * 64 KiB TSO frame is one request like any other. A write the kernel refuses is counted in
 * tx_errors, a short one in tx_short. Who owns what: the slots, their posted pbufs and the
 * ring are this file's until recv() hands a filled pbuf over (close() gives the posted ones
 * back to their pool); a pbuf given to send() stays the caller's, held until its write ends.
 *
 * pollfd() is the ring's fd: poll() reports it readable when a completion is waiting.
 */
#include "drivers/tap_int.h"

#include <errno.h>
#include <fcntl.h>
#include <liburing.h>
#include <sys/uio.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/timer.h"

/* The kernel fills posted reads behind valgrind's back: say so, or every received byte looks
 * uninitialised under `make valgrind` (a no-op without valgrind, or without its header). */
#if defined(__has_include)
#if __has_include(<valgrind/memcheck.h>)
#include <valgrind/memcheck.h>
#define TAP_URING_FILLED(p, n) ((void)VALGRIND_MAKE_MEM_DEFINED((p), (n)))
#endif
#endif
#ifndef TAP_URING_FILLED
#define TAP_URING_FILLED(p, n) ((void)0)
#endif

#define TAP_URING_RX 64u          /* reads kept posted */
#define TAP_URING_TX 64u          /* frames one batch holds before it goes early */
#define TAP_URING_ENTRIES 256u    /* submission ring: RX re-posts + a TX batch fit */

/* user_data of a request: which side, which slot. */
#define TAP_URING_TAG_TX 0x10000u
#define TAP_URING_TAG_CANCEL 0x20000u

/* One queued write: what its writev points at stays valid until it completes. */
struct tap_uring_tx {
	struct pbuf *pb;              /* the frame, held (pbuf_hold) until the write completes */
	uint32_t len;                 /* bytes the write must take: the header and the frame */
	struct virtio_net_hdr vh;     /* with offloads: the frame's virtio header */
	struct iovec iov[4];          /* header, pb's bytes, its two ext pieces */
};

struct tap_uring {
	struct io_uring ring;
	uint32_t rx_room;                 /* frame bytes a receive pbuf must hold (netdev_rx_room) */
	unsigned rx_n;                    /* receive slots in use (0 until the first recv) */
	struct pbuf *rx_pb[TAP_URING_RX]; /* the pbuf each slot's read fills */
	struct virtio_net_hdr rx_vh[TAP_URING_RX]; /* with offloads: each read's header */
	struct iovec rx_iov[TAP_URING_RX][2];      /* what each posted readv points at */
	struct tap_uring_tx tx[TAP_URING_TX];
	unsigned tx_queued;               /* slots filled since the last flush */
	unsigned tx_inflight;             /* writes submitted, not completed */
	unsigned rx_posted;               /* reads queued or in the kernel, not completed */
	/* Completed reads not yet taken by recv(), in completion order (each slot at most once). */
	struct { uint16_t slot; int32_t res; } done[TAP_URING_RX];
	unsigned done_head, done_n;
};

static uint32_t tap_uring_hdr(const struct tap_dev *t)
{
	return t->vnet ? (uint32_t)sizeof(struct virtio_net_hdr) : 0u;
}

/* Posts the read of receive slot i into its pbuf (submitted with the next io_uring_submit):
 * the virtio header, if any, into rx_vh[i], the frame at the pbuf's data. */
static int tap_uring_post_read(struct tap_dev *t, unsigned i)
{
	struct tap_uring *u = t->u;
	struct io_uring_sqe *sqe = io_uring_get_sqe(&u->ring);
	if (!sqe) {
		io_uring_submit(&u->ring);      /* the ring is full of requests: hand them over */
		if (!(sqe = io_uring_get_sqe(&u->ring)))
			return -EBUSY;
	}
	struct pbuf *pb = u->rx_pb[i];
	struct iovec *iov = u->rx_iov[i];
	unsigned n = 0;
	if (t->vnet)
		iov[n++] = (struct iovec){ &u->rx_vh[i], sizeof(u->rx_vh[i]) };
	iov[n++] = (struct iovec){ pb->data, pbuf_tailroom(pb) };
	io_uring_prep_readv(sqe, t->fd, iov, n, 0);
	io_uring_sqe_set_data64(sqe, i);
	u->rx_posted++;
	return 0;
}

/* An empty pbuf ready for a slot: the view reset; false when it cannot hold a frame. */
static bool tap_uring_rx_ready(const struct tap_uring *u, struct pbuf *pb)
{
	pb->len = 0;
	pb->flags = 0;
	pb->gso_size = 0;
	return pbuf_tailroom(pb) >= u->rx_room;
}

/*
 * The first recv(): the slots take pbufs from the pool of the one the stack passed in, with
 * its headroom and room, and their reads are posted. At most an eighth of the size class (a
 * stack's small class of 8192 gives all 64 slots), at least one: the caller's own.
 */
static int tap_uring_rx_start(struct tap_dev *t, struct pbuf **pbp)
{
	struct tap_uring *u = t->u;
	struct pbuf *first = *pbp;
	if (!tap_uring_rx_ready(u, first))
		return -EMSGSIZE;
	const struct pbuf_class *pc = &first->pool->cls[first->cls];
	unsigned want = pc->max / 8 < TAP_URING_RX ? pc->max / 8 : TAP_URING_RX;
	u->rx_pb[u->rx_n++] = first;
	*pbp = NULL;
	while (u->rx_n < want) {
		struct pbuf *pb = pbuf_alloc(first->pool, pbuf_headroom(first), pbuf_tailroom(first));
		if (!pb)
			break;
		u->rx_pb[u->rx_n++] = pb;
	}
	for (unsigned i = 0; i < u->rx_n; i++)
		if (tap_uring_post_read(t, i) < 0)
			return -EBUSY;
	return 0;
}

/* Takes every completion waiting: writes are counted, reads queued for recv(). */
static void tap_uring_reap(struct tap_dev *t)
{
	struct tap_uring *u = t->u;
	struct io_uring_cqe *cqe;
	unsigned head, n = 0;
	io_uring_for_each_cqe(&u->ring, head, cqe) {
		uint64_t tag = io_uring_cqe_get_data64(cqe);
		n++;
		if (tag & TAP_URING_TAG_TX) {
			struct tap_uring_tx *tx = &u->tx[tag & 0xffffu];
			u->tx_inflight--;
			if (cqe->res < 0)
				t->st.tx_errors++;
			else if ((uint32_t)cqe->res < tx->len)
				t->st.tx_short++;
			else
				t->st.tx_frames++;
			pbuf_release(tx->pb);   /* the kernel is done with its memory */
			tx->pb = NULL;
			continue;
		}
		if (tag == TAP_URING_TAG_CANCEL)
			continue;
		u->rx_posted--;
		unsigned at = (u->done_head + u->done_n) % TAP_URING_RX;
		u->done[at].slot = (uint16_t)tag;
		u->done[at].res = cqe->res;
		u->done_n++;
	}
	io_uring_cq_advance(&u->ring, n);
}

int tap_uring_recv(struct tap_dev *t, struct pbuf **pbp)
{
	struct tap_uring *u = t->u;
	uint32_t hdr = tap_uring_hdr(t);
	if (!u->rx_n) {
		int e = tap_uring_rx_start(t, pbp);
		if (e) {
			t->st.rx_errors++;
			return e;
		}
		/* The caller's pbuf went into a slot: it gets the first frame's pbuf, or a fresh one. */
		if (!(*pbp = pbuf_alloc(u->rx_pb[0]->pool, pbuf_headroom(u->rx_pb[0]), pbuf_tailroom(u->rx_pb[0])))) {
			/* the pool is spent: the stack's loop sees nothing this time (and frees NULL) */
			return 0;
		}
	}
	for (;;) {
		if (!u->done_n) {
			tap_uring_reap(t);
			if (!u->done_n && io_uring_sq_ready(&u->ring)) {
				/* Re-posted reads go in now: a frame waiting completes one at once. */
				io_uring_submit(&u->ring);
				tap_uring_reap(t);
			}
			if (!u->done_n)
				return 0;
		}
		unsigned slot = u->done[u->done_head].slot;
		int res = u->done[u->done_head].res;
		u->done_head = (u->done_head + 1) % TAP_URING_RX;
		u->done_n--;
		int err = 0, len = 0;
		if (res < 0) {
			err = res;
		} else if ((uint32_t)res <= hdr) {
			;                           /* a header without a frame */
		} else if (!tap_uring_rx_ready(u, *pbp)) {
			err = -EMSGSIZE;            /* the caller's pbuf cannot take the slot's place */
		} else {
			/* The swap: the filled pbuf goes up, the caller's empty one takes its slot. */
			struct pbuf *full = u->rx_pb[slot];
			len = (int)((uint32_t)res - hdr);
			full->len = (uint32_t)len;
			TAP_URING_FILLED(full->data, full->len);
			if (hdr) {
				TAP_URING_FILLED(&u->rx_vh[slot], sizeof(u->rx_vh[slot]));
				tap_rx_meta(full, &u->rx_vh[slot]);
			}
			u->rx_pb[slot] = *pbp;
			*pbp = full;
		}
		if (tap_uring_post_read(t, slot) < 0)
			err = -EBUSY;
		if (err) {
			t->st.rx_errors++;
			return err;
		}
		if (len) {
			t->st.rx_frames++;
			return len;
		}
		/* A header without a frame: nothing to deliver, take the next. */
	}
}

/* Submits the queued writes and waits until the kernel has taken them all. */
void tap_uring_flush(struct tap_dev *t)
{
	struct tap_uring *u = t->u;
	/*
	 * Queued writes may already be gone (recv() submits re-posted reads, and whatever
	 * writes are queued with them): the slots are free again once nothing is in flight,
	 * whoever submitted them, so every path below ends with tx_queued = 0.
	 */
	if (io_uring_sq_ready(&u->ring)) {
		if (u->tx_queued)
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
	struct io_uring_sqe *sqe = io_uring_get_sqe(&u->ring);
	if (!sqe) {
		tap_uring_flush(t);
		if (!(sqe = io_uring_get_sqe(&u->ring))) {
			t->st.tx_errors++;
			return -ENOBUFS;
		}
	}
	struct tap_uring_tx *tx = &u->tx[u->tx_queued];
	unsigned n = 0;
	if (t->vnet) {
		tap_tx_meta(pb, &tx->vh);
		tx->iov[n++] = (struct iovec){ &tx->vh, sizeof(tx->vh) };
	}
	n += tap_frame_iov(pb, tx->iov + n);
	tx->len = tap_uring_hdr(t) + pbuf_frame_len(pb);
	tx->pb = pb;
	pbuf_hold(pb);
	io_uring_prep_writev(sqe, t->fd, tx->iov, n, 0);
	io_uring_sqe_set_data64(sqe, TAP_URING_TAG_TX | u->tx_queued);
	u->tx_queued++;
	u->tx_inflight++;
	return 0;
}

int tap_uring_pollfd(struct tap_dev *t)
{
	return t->u->ring.ring_fd;
}

static void tap_uring_free(struct tap_uring *u)
{
	for (unsigned i = 0; i < u->rx_n; i++)
		pbuf_free(u->rx_pb[i]);  /* back to the stack's pool, which outlives the device */
	free(u);
}

void tap_uring_close(struct tap_dev *t)
{
	struct tap_uring *u = t->u;
	tap_uring_flush(t);
	/*
	 * The reads still posted write into rx_mem when they complete: cancel them all and wait
	 * (a bounded wait) for their completions before the slots are freed.
	 */
	struct io_uring_sqe *sqe = io_uring_get_sqe(&u->ring);
	if (sqe) {
		io_uring_prep_cancel64(sqe, 0, IORING_ASYNC_CANCEL_ANY);
		io_uring_sqe_set_data64(sqe, TAP_URING_TAG_CANCEL);
		io_uring_submit(&u->ring);
	}
	for (int tries = 0; u->rx_posted && tries < 100; tries++) {
		struct io_uring_cqe *cqe;
		struct __kernel_timespec ts = { .tv_sec = 0, .tv_nsec = 10 * 1000 * 1000 };
		(void)io_uring_wait_cqe_timeout(&u->ring, &cqe, &ts);
		tap_uring_reap(t);
	}
	io_uring_queue_exit(&u->ring);
	tap_uring_free(u);
	t->u = NULL;
}

int tap_uring_open(struct tap_dev *t, char *errbuf, size_t errlen)
{
	struct tap_uring *u = calloc(1, sizeof(*u));
	if (!u) {
		snprintf(errbuf, errlen, "out of memory");
		return -ENOMEM;
	}
	u->rx_room = netdev_rx_room(&t->dev);
	int e = io_uring_queue_init(TAP_URING_ENTRIES, &u->ring, 0);
	if (e < 0) {
		tap_uring_free(u);
		snprintf(errbuf, errlen, "io_uring_queue_init: %s", strerror(-e));
		return e;
	}
	/*
	 * A blocking fd: io_uring then parks each read on the device's wait queue until a frame
	 * comes. On a non-blocking one every read would complete at once with -EAGAIN.
	 */
	int fl = fcntl(t->fd, F_GETFL);
	if (fl < 0 || fcntl(t->fd, F_SETFL, fl & ~O_NONBLOCK) < 0) {
		e = -errno;
		io_uring_queue_exit(&u->ring);
		tap_uring_free(u);
		snprintf(errbuf, errlen, "fcntl: %s", strerror(-e));
		return e;
	}
	t->u = u;   /* the reads are posted at the first recv(), into the stack's pbufs */
	t->dev.tx_late = true;   /* writes read the frames at flush (the file's comment) */
	return 0;
}
