/*
 * tap_int.h - what the TAP driver's two back ends share (tap.c, tap_uring.c); not installed.
 *
 * The plain back end (tap.c) moves one frame per system call: read() and writev(). The
 * io_uring back end (tap_uring.c) sends the frames of one stack poll cycle with one
 * io_uring_enter() and receives as the plain one does. Both use the same virtio-net header helpers,
 * so offload works the same way through either, and both write a frame from where it is
 * (tap_frame_iov): the payload is never copied into the driver.
 */
#ifndef TAPSTACK_DRIVERS_TAP_INT_H
#define TAPSTACK_DRIVERS_TAP_INT_H

#include <linux/virtio_net.h>
#include <stdbool.h>
#include <sys/uio.h>

#include "drivers/tap.h"

struct tap_uring;

struct tap_dev {
	struct netdev dev;   /* first, for container_of */
	int fd;
	bool vnet;           /* IFF_VNET_HDR: a struct virtio_net_hdr precedes every frame */
	struct tap_uring *u; /* the io_uring back end, or NULL: plain read()/writev() */
	struct tap_io_stats st;
};

/* Receive side of the virtio header: checksum already verified, GRO segment size. */
void tap_rx_meta(struct pbuf *pb, const struct virtio_net_hdr *vh);
/* Transmit side: the header that asks the kernel for checksum and segmentation offload. */
void tap_tx_meta(const struct pbuf *pb, struct virtio_net_hdr *vh);
/* The pieces of pb's frame where they are, for a writev: its own bytes, then its ext pieces
 * (at most 3; empty ones left out). Returns how many it filled. */
unsigned tap_frame_iov(const struct pbuf *pb, struct iovec *iov);
/* The plain back end's writev() of one frame (header, data, ext): 0 or -errno. */
int tap_write_frame(struct tap_dev *t, const struct pbuf *pb);

/*
 * The io_uring back end (transmit; receive is tap.c's read() for both). tap_uring_open()
 * sets up the ring and keeps t->fd non-blocking, so io_uring runs each write at once: 0, or
 * -errno with a reason in errbuf (the caller then stays plain). The rest are the netdev ops.
 */
int tap_uring_open(struct tap_dev *t, char *errbuf, size_t errlen);
int tap_uring_send(struct tap_dev *t, struct pbuf *pb);
void tap_uring_flush(struct tap_dev *t);
void tap_uring_close(struct tap_dev *t);

#endif
