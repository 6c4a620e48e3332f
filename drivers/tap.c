/*
 * tap.c - the TAP driver (see tap.h): whole Ethernet frames through /dev/net/tun.
 *
 * With IFF_NO_PI each read() returns exactly one frame and each write() sends exactly one,
 * without the 4-byte packet-information prefix. Transmit uses writev() so a pbuf's own
 * bytes (the headers) and its borrowed payload pieces (a TCP send ring) go out in one
 * system call without being copied together first.
 */
#include "drivers/tap.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/uio.h>
#include <unistd.h>

#include "core/timer.h"

struct tap_dev {
	struct netdev dev;   /* first, for container_of */
	int fd;
};

static struct tap_dev *tap_of(struct netdev *dev)
{
	return container_of(dev, struct tap_dev, dev);
}

static int tap_recv(struct netdev *dev, struct pbuf *pb)
{
	struct tap_dev *t = tap_of(dev);
	for (;;) {
		ssize_t n = read(t->fd, pb->data, pbuf_tailroom(pb));
		if (n > 0) {
			pb->len = (uint32_t)n;
			return (int)n;
		}
		if (n == 0)
			return 0;
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN)
			return 0;
		return -errno;
	}
}

static int tap_send(struct netdev *dev, const struct pbuf *pb)
{
	struct tap_dev *t = tap_of(dev);
	struct iovec iov[3];
	int n = 0;
	if (pb->len)
		iov[n++] = (struct iovec){ pb->data, pb->len };
	for (int i = 0; i < 2; i++)
		if (pb->ext[i].len)
			iov[n++] = (struct iovec){ (void *)pb->ext[i].ptr, pb->ext[i].len };
	for (;;) {
		ssize_t w = writev(t->fd, iov, n);
		if (w >= 0)
			return 0;
		if (errno == EINTR)
			continue;
		/*
		 * EAGAIN: the kernel's queue for the device is full (or the device is down and
		 * the queue stopped). The frame is lost, as on a real wire; TCP retransmits.
		 */
		return -errno;
	}
}

static int tap_pollfd(struct netdev *dev)
{
	return tap_of(dev)->fd;
}

static void tap_close(struct netdev *dev)
{
	struct tap_dev *t = tap_of(dev);
	close(t->fd);
	free(t);
}

static const struct netdev_ops tap_ops = {
	.recv = tap_recv,
	.send = tap_send,
	.pollfd = tap_pollfd,
	.close = tap_close,
};

int tap_open(struct netdev **out, const char *name, uint32_t mtu, char *errbuf, size_t errlen)
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
	*out = &t->dev;
	return 0;
}
