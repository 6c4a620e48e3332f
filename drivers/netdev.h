/*
 * netdev.h - the interface every driver implements: a device that receives and sends whole
 * Ethernet frames.
 *
 * Drivers: tap.c (the real one, /dev/net/tun), memdev.c (in memory, for tests: joins a
 * test or a second stack to a stack, with seeded loss, reordering and duplication), and
 * pcap.c (a wrapper that records every frame both ways around any other driver).
 * The link layer calls send(); stack_poll() calls recv() until it returns 0.
 */
#ifndef TAPSTACK_DRIVERS_NETDEV_H
#define TAPSTACK_DRIVERS_NETDEV_H

#include <stdint.h>

#include "core/pbuf.h"
#include "core/time.h"

struct netdev;

struct netdev_ops {
	/*
	 * Receive one frame into pb: the caller passes an empty pbuf with at least
	 * NETDEV_RX_ROOM bytes of tailroom; the driver writes at pb->data and sets pb->len.
	 * Returns the frame length (> 0), 0 when nothing is pending, or -errno.
	 */
	int (*recv)(struct netdev *dev, struct pbuf *pb);
	/* Send one frame (data then any ext pieces). The caller keeps ownership of pb. 0 or -errno. */
	int (*send)(struct netdev *dev, const struct pbuf *pb);
	/* A file descriptor that poll() reports readable when recv() has frames, or -1. */
	int (*pollfd)(struct netdev *dev);
	/* Releases the device and the struct itself. */
	void (*close)(struct netdev *dev);
};

struct netdev {
	const struct netdev_ops *ops;
	char name[32];
	uint32_t mtu;        /* IP MTU of the link, 1500 by default */
};

/* Room a receive pbuf needs: the largest frame a driver may deliver. */
#define NETDEV_RX_ROOM (1514u + 4u)

static inline int netdev_recv(struct netdev *d, struct pbuf *pb) { return d->ops->recv(d, pb); }
static inline int netdev_send(struct netdev *d, const struct pbuf *pb) { return d->ops->send(d, pb); }
static inline int netdev_pollfd(struct netdev *d) { return d->ops->pollfd ? d->ops->pollfd(d) : -1; }
static inline void netdev_close(struct netdev *d) { if (d) d->ops->close(d); }

#endif
