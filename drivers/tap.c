/*
 * tap.c - the TAP driver (see tap.h): whole Ethernet frames through /dev/net/tun.
 *
 * With IFF_NO_PI each read() returns exactly one frame and each write() sends exactly one,
 * without the 4-byte packet-information prefix. Transmit uses writev() so a pbuf's own
 * bytes (the headers) and its borrowed payload pieces (a TCP send ring) go out in one
 * system call without being copied together first.
 *
 * Offload (ts_tap_open_ex with TAP_OPEN_OFFLOAD): with IFF_VNET_HDR every frame, both ways, is
 * preceded by a struct virtio_net_hdr (linux/virtio_net.h, the virtio spec's 5.1.6), as a
 * virtual machine's network card would exchange with its host. On transmit it lets us hand
 * the kernel one TCP super-segment of up to 64 KiB (gso_type TCPV4, gso_size = the MSS),
 * which the kernel cuts into MSS-sized segments with correct headers, and leave the TCP
 * checksum to it (F_NEEDS_CSUM). TUNSETOFFLOAD(TUN_F_CSUM | TUN_F_TSO4) tells the kernel we
 * accept the same on receive: coalesced segments up to 64 KiB, and checksums it has already
 * verified (F_DATA_VALID) or never computed because the packet never left the machine
 * (F_NEEDS_CSUM). See docs/drivers.md, "The offload path".
 *
 * Two back ends send the frames (docs/drivers.md, "Batched I/O"): this file's plain one, one
 * writev() per frame, and tap_uring.c's, which batches a poll cycle's writes through
 * io_uring. Both receive with this file's read(), one frame per call. The back end is chosen
 * once, at open; the ops below hand each send to the chosen one.
 */
#include "drivers/tap.h"
#include "drivers/tap_int.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include "core/timer.h"

/* Byte offsets in an Ethernet + IPv4 + TCP frame that the virtio header points into. */
#define TAP_ETH_HLEN 14u

static struct tap_dev *tap_of(struct netdev *dev)
{
	return container_of(dev, struct tap_dev, dev);
}

static const struct netdev_ops tap_ops;

/*
 * What the kernel's virtio header says about a received frame: F_DATA_VALID (it verified
 * the checksum) and F_NEEDS_CSUM (a packet from this machine whose checksum was never
 * computed: nothing on the way can have corrupted it) both mean TCP need not verify it;
 * a GSO type means the frame is several segments coalesced (GRO), bigger than the MTU.
 */
void tap_rx_meta(struct pbuf *pb, const struct virtio_net_hdr *vh)
{
	if (vh->flags & (VIRTIO_NET_HDR_F_DATA_VALID | VIRTIO_NET_HDR_F_NEEDS_CSUM))
		pb->flags |= PBUF_F_CSUM_OK;
	if ((vh->gso_type & ~VIRTIO_NET_HDR_GSO_ECN) == VIRTIO_NET_HDR_GSO_TCPV4)
		pb->gso_size = vh->gso_size;
}

/* Both back ends read each frame straight into the caller's pbuf: the kernel's copy is the
 * only one (the virtio header, with offloads, goes to a local by readv). */
static int tap_recv(struct netdev *dev, struct pbuf **pbp)
{
	struct tap_dev *t = tap_of(dev);
	struct pbuf *pb = *pbp;
	for (;;) {
		ssize_t n;
		struct virtio_net_hdr vh;
		if (t->vnet) {
			struct iovec iov[2] = { { &vh, sizeof(vh) }, { pb->data, pbuf_tailroom(pb) } };
			n = readv(t->fd, iov, 2);
			if (n > 0 && (size_t)n <= sizeof(vh))
				continue;           /* a header without a frame: nothing to deliver */
			if (n > 0) {
				n -= (ssize_t)sizeof(vh);
				tap_rx_meta(pb, &vh);
			}
		} else {
			n = read(t->fd, pb->data, pbuf_tailroom(pb));
		}
		if (n > 0) {
			pb->len = (uint32_t)n;
			t->st.rx_frames++;
			return (int)n;
		}
		if (n == 0)
			return 0;
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN)
			return 0;
		t->st.rx_errors++;
		return -errno;
	}
}

/*
 * The virtio header for a frame we send. The stack marks what it wants (gso_size,
 * PBUF_F_CSUM_PARTIAL); the offsets come from the frame's own headers, which are in
 * pb->data (TCP keeps only payload in the ext pieces): csum_start is where the TCP or UDP
 * header begins, csum_offset its checksum field, hdr_len all the headers the kernel copies in front
 * of each cut segment.
 */
void tap_tx_meta(const struct pbuf *pb, struct virtio_net_hdr *vh)
{
	memset(vh, 0, sizeof(*vh));
	if (!(pb->flags & PBUF_F_CSUM_PARTIAL) && !pb->gso_size)
		return;
	if (pb->len < TAP_ETH_HLEN + 20u)
		return;
	uint32_t ihl = (pb->data[TAP_ETH_HLEN] & 0x0fu) * 4u;
	uint32_t l4 = TAP_ETH_HLEN + ihl, min_len;
	uint32_t off = netdev_csum_field(pb->data[TAP_ETH_HLEN + 9], &min_len);
	if (!off || pb->len < l4 + min_len)
		return;
	vh->flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
	vh->csum_start = (uint16_t)l4;
	vh->csum_offset = (uint16_t)off;
	if (pb->gso_size) {
		uint32_t thl = (uint32_t)(pb->data[l4 + 12] >> 4) * 4u;
		vh->gso_type = VIRTIO_NET_HDR_GSO_TCPV4;
		vh->gso_size = pb->gso_size;
		vh->hdr_len = (uint16_t)(l4 + thl);
	}
}

unsigned tap_frame_iov(const struct pbuf *pb, struct iovec *iov)
{
	unsigned n = 0;
	if (pb->len)
		iov[n++] = (struct iovec){ pb->data, pb->len };
	for (int i = 0; i < 2; i++)
		if (pb->ext[i].len)
			iov[n++] = (struct iovec){ (void *)pb->ext[i].ptr, pb->ext[i].len };
	return n;
}

int tap_write_frame(struct tap_dev *t, const struct pbuf *pb)
{
	struct iovec iov[4];
	struct virtio_net_hdr vh;
	int n = 0;
	if (t->vnet) {
		tap_tx_meta(pb, &vh);
		iov[n++] = (struct iovec){ &vh, sizeof(vh) };
	}
	n += (int)tap_frame_iov(pb, iov + n);
	for (;;) {
		ssize_t w = writev(t->fd, iov, n);
		t->st.tx_syscalls++;
		if (w >= 0) {
			t->st.tx_frames++;
			return 0;
		}
		if (errno == EINTR)
			continue;
		/*
		 * EAGAIN: the kernel's queue for the device is full (or the device is down and
		 * the queue stopped). The frame is lost, as on a real wire, but counted: here
		 * and by the link layer (eth tx_drop_dev_full); TCP retransmits.
		 */
		t->st.tx_errors++;
		return -errno;
	}
}

static int tap_send(struct netdev *dev, struct pbuf *pb)
{
	struct tap_dev *t = tap_of(dev);
	return t->u ? tap_uring_send(t, pb) : tap_write_frame(t, pb);
}

static void tap_flush(struct netdev *dev)
{
	struct tap_dev *t = tap_of(dev);
	if (t->u)
		tap_uring_flush(t);
}

static int tap_pollfd(struct netdev *dev)
{
	return tap_of(dev)->fd;
}

static void tap_close(struct netdev *dev)
{
	struct tap_dev *t = tap_of(dev);
	if (t->u)
		tap_uring_close(t);    /* sends what is still queued first */
	close(t->fd);
	free(t);
}

static const char *const tap_counter_names[] = { TAP_IO_COUNTERS(COUNTER_NAME) };

static size_t tap_counters(const struct netdev *dev, struct counter_group *out, size_t max)
{
	if (max == 0)
		return 0;
	out[0] = COUNTER_GROUP("tap", tap_counter_names, &container_of(dev, const struct tap_dev, dev)->st);
	return 1;
}

static const struct netdev_ops tap_ops = {
	.recv = tap_recv,
	.send = tap_send,
	.pollfd = tap_pollfd,
	.close = tap_close,
	.flush = tap_flush,
	.counters = tap_counters,
};

const char *ts_tap_io_name(const struct netdev *dev)
{
	if (!dev || dev->ops != &tap_ops)
		return NULL;
	return container_of(dev, const struct tap_dev, dev)->u ? "uring" : "plain";
}

int ts_tap_io_stats(const struct netdev *dev, struct tap_io_stats *st)
{
	if (!dev || dev->ops != &tap_ops)
		return -EINVAL;
	*st = container_of(dev, const struct tap_dev, dev)->st;
	return 0;
}

/*
 * Turns on IFF_VNET_HDR's offloads for an fd attached with IFF_VNET_HDR: the header size
 * (TUNSETVNETHDRSZ; the kernel's default is the same 10 bytes, set anyway so that a
 * different default cannot shift every frame) and TUNSETOFFLOAD: which receive offloads we
 * accept. Sending GSO and partial-checksum frames needs nothing more than the header.
 * Returns the NETDEV_OFF_* bits that work.
 */
static uint32_t tap_setup_offload(int fd)
{
	int sz = (int)sizeof(struct virtio_net_hdr);
	if (ioctl(fd, TUNSETVNETHDRSZ, &sz) < 0)
		return 0;
	uint32_t off = NETDEV_OFF_CSUM | NETDEV_OFF_TSO4;
	if (ioctl(fd, TUNSETOFFLOAD, (unsigned long)(TUN_F_CSUM | TUN_F_TSO4)) == 0)
		off |= NETDEV_OFF_GRO;
	else
		(void)ioctl(fd, TUNSETOFFLOAD, 0ul);
	return off;
}

/*
 * The kernel's queue of frames for us (the TAP's transmit queue, tx_queue_len: 1000 for a TAP
 * made by `ip tuntap add`) is raised to TAP_QUEUE_LEN_MIN, as a server's NIC gets a
 * 4096-descriptor receive ring. At 100,000 frames a second 1000 frames are 10 ms: on a busy machine the scheduler
 * leaves tapstack off the CPU longer than that, and the kernel drops what arrives meanwhile
 * (a legitimate SYN among a flood's) although tapstack could read far faster on average.
 * 4096 frames hold 40 ms of such a flood. Needs CAP_NET_ADMIN in the device's namespace;
 * without it, or on a TAP whose queue is already longer, nothing changes.
 */
#define TAP_QUEUE_LEN_MIN 4096

static void tap_grow_queue(const char *name)
{
	struct ifreq ifr;
	/* The system call itself: in the preload library socket() is tapstack's own, and an
	 * AF_INET socket() while the stack starts would start it again (a deadlock on its
	 * init lock: every tapstack-run program hung at its first socket). */
	int s = (int)syscall(SYS_socket, AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (s < 0)
		return;
	memset(&ifr, 0, sizeof(ifr));
	memcpy(ifr.ifr_name, name, strnlen(name, IFNAMSIZ - 1));
	if (ioctl(s, SIOCGIFTXQLEN, &ifr) == 0 && ifr.ifr_qlen < TAP_QUEUE_LEN_MIN) {
		ifr.ifr_qlen = TAP_QUEUE_LEN_MIN;
		(void)ioctl(s, SIOCSIFTXQLEN, &ifr);
	}
	close(s);
}

int ts_tap_open(struct netdev **out, const char *name, uint32_t mtu, char *errbuf, size_t errlen)
{
	return ts_tap_open_ex(out, name, mtu, 0, errbuf, errlen);
}

int ts_tap_open_ex(struct netdev **out, const char *name, uint32_t mtu, unsigned flags, char *errbuf,
                size_t errlen)
{
	if (strlen(name) >= IFNAMSIZ) {
		snprintf(errbuf, errlen, "device name '%s' is longer than %d characters", name, IFNAMSIZ - 1);
		return -EINVAL;
	}
	int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		int e = errno;
		snprintf(errbuf, errlen, "open /dev/net/tun: %s", strerror(e));
		return -e;
	}
	struct ifreq ifr;
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
	if (flags & TAP_OPEN_OFFLOAD) {
		/* Only if this kernel knows IFF_VNET_HDR; otherwise plain frames, as asked for "when
		 * the TAP supports it". */
		unsigned int features = 0;
		if (ioctl(fd, TUNGETFEATURES, &features) == 0 && (features & IFF_VNET_HDR))
			ifr.ifr_flags |= IFF_VNET_HDR;
	}
	memcpy(ifr.ifr_name, name, strlen(name));
	/* TUNSETIFF attaches to an existing TAP of this name or creates one (needs CAP_NET_ADMIN). */
	if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
		int e = errno;
		snprintf(errbuf, errlen, "TUNSETIFF %s: %s%s", name, strerror(e),
		         e == EPERM ? " (run as root or with CAP_NET_ADMIN)"
		                    : e == EBUSY ? " (another process holds it, or it is not a TAP)" : "");
		close(fd);
		return -e;
	}
	tap_grow_queue(ifr.ifr_name);
	struct tap_dev *t = calloc(1, sizeof(*t));
	if (!t) {
		close(fd);
		snprintf(errbuf, errlen, "out of memory");
		return -ENOMEM;
	}
	t->dev.ops = &tap_ops;
	snprintf(t->dev.name, sizeof(t->dev.name), "%s", ifr.ifr_name);
	t->dev.mtu = mtu ? mtu : 1500;
	t->fd = fd;
	if (ifr.ifr_flags & IFF_VNET_HDR) {
		t->vnet = true;
		t->dev.offload = tap_setup_offload(fd);
	} else {
		/* The offloads accepted are a property of the device and outlive the fd: a TAP
		 * that an earlier process left with TUN_F_TSO4 would hand us 64 KiB frames and
		 * unfinished checksums. Plain frames only (fails harmlessly on old kernels). */
		(void)ioctl(fd, TUNSETOFFLOAD, 0ul);
	}
	if (flags & TAP_OPEN_URING) {
		char why[128];
		int e = tap_uring_open(t, why, sizeof(why));
		if (e) {
			snprintf(errbuf, errlen, "io_uring back end: %s", why);
			close(fd);
			free(t);
			return e;
		}
	}
	*out = &t->dev;
	return 0;
}
