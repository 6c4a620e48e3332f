/*
 * netdev.h - the interface every driver implements: a device that receives and sends whole
 * Ethernet frames.
 *
 * Drivers: tap.c (the real one, /dev/net/tun), memdev.c (in memory, for tests: joins a
 * test or a second stack to a stack, with seeded loss, reordering and duplication), and
 * pcap.c (a wrapper that records every frame both ways around any other driver).
 * The link layer calls send(); ts_stack_poll() calls recv() until it returns 0.
 */
#ifndef TAPSTACK_DRIVERS_NETDEV_H
#define TAPSTACK_DRIVERS_NETDEV_H

#include <stdbool.h>
#include <stdint.h>

#include "core/counters.h"
#include "core/pbuf.h"
#include "core/time.h"

struct netdev;

struct netdev_ops {
	/*
	 * Receive one frame. The caller passes in *pbp an empty pbuf from its pool with at least
	 * netdev_rx_room() bytes of tailroom. Most drivers write the frame at its data and set
	 * len. A driver that keeps reads posted into pbufs may instead keep the empty one for a
	 * later read and put in *pbp the pbuf the kernel already read the frame into: a pbuf of
	 * the same pool and room, so the frame is never copied in user space (none does today;
	 * docs/drivers.md, "Where io_uring runs a request").
	 * Either way the caller owns *pbp afterwards. An offloading driver also sets
	 * PBUF_F_CSUM_OK (checksum verified or not needed) and gso_size (a coalesced segment of
	 * that MSS). Returns the frame length (> 0), 0 when nothing is pending, or -errno.
	 */
	int (*recv)(struct netdev *dev, struct pbuf **pbp);
	/* Send one frame (data then any ext pieces). The caller keeps ownership of pb. 0 or -errno.
	 * With offloads: gso_size > 0 asks the device to cut the frame into gso_size-byte TCP
	 * segments, PBUF_F_CSUM_PARTIAL to fill in the TCP or UDP checksum (the field holds the
	 * pseudo-header sum; netdev_csum_field() says where it is).
	 * A device with tx_late set only queues the frame: it holds pb (pbuf_hold) and reads pb
	 * and the memory its ext pieces borrow until its flush() returns; the stack keeps that
	 * memory unchanged until then (core_tx_settle in core/core.h, docs/drivers.md). */
	int (*send)(struct netdev *dev, struct pbuf *pb);
	/* A file descriptor that poll() reports readable when recv() has frames, or -1. */
	int (*pollfd)(struct netdev *dev);
	/* Releases the device and the struct itself. */
	void (*close)(struct netdev *dev);
	/* Optional: the end of a batch (ts_stack_poll calls it after the frames and timers of one
	 * round), so a driver that buffers (a capture file) writes out what it holds. A tx_late
	 * device has written every queued frame when it returns. */
	void (*flush)(struct netdev *dev);
	/* Optional: why the stack dropped the frame recv() returned last (a counter's name, e.g.
	 * "ip.drop_bad_checksum"); called after that frame was processed, only when it was
	 * dropped. A capture writes it as the frame's comment (pcapng). */
	void (*rx_note)(struct netdev *dev, const char *reason);
	/* Optional: the device's own counters (a TAP's frames, system calls, refused writes) as
	 * counter groups, which ts_stack_counter_groups() appends, so `tapstack stats` shows
	 * them. Returns how many groups it wrote (at most max). */
	size_t (*counters)(const struct netdev *dev, struct counter_group *out, size_t max);
};

/*
 * Offloads a device may offer (netdev.offload), as a virtio-net device does (IFF_VNET_HDR
 * on a TAP, docs/drivers.md "The offload path"). The stack reads them once at ts_stack_init().
 */
#define NETDEV_OFF_CSUM 0x1u  /* send: frames with PBUF_F_CSUM_PARTIAL get their TCP or UDP checksum from the device */
#define NETDEV_OFF_TSO4 0x2u  /* send: a TCP/IPv4 frame with gso_size > 0 may exceed the MTU; the device cuts it */
#define NETDEV_OFF_GRO  0x4u  /* receive: frames up to NETDEV_RX_ROOM_GSO (a coalesced TCP/IPv4 segment) */

/*
 * Where the checksum field of a PBUF_F_CSUM_PARTIAL frame's transport header is: the offset
 * from that header's start, by IP protocol (TCP 16, UDP 6), and the header's minimal length
 * in *min_len; 0 for a protocol no device finishes.
 */
static inline uint32_t netdev_csum_field(uint8_t ip_proto, uint32_t *min_len)
{
	*min_len = ip_proto == 17 ? 8u : 20u;
	return ip_proto == 6 ? 16u : ip_proto == 17 ? 6u : 0u;
}

struct netdev {
	const struct netdev_ops *ops;
	char name[32];
	uint32_t mtu;        /* IP MTU of the link, 1500 by default */
	uint32_t offload;    /* NETDEV_OFF_*; 0 for plain frames */
	bool tx_late;        /* send() only queues; flush() writes, reading the frames' memory then */
};

/* Receive room for a standard 1500-byte MTU: the frame plus a VLAN tag. */
#define NETDEV_RX_ROOM (1514u + 4u)
/* With NETDEV_OFF_GRO: a 65535-byte IPv4 datagram in an Ethernet (and VLAN) header. */
#define NETDEV_RX_ROOM_GSO (65535u + 14u + 4u)

/* Room a receive pbuf needs: the largest frame the device may deliver. A jumbo MTU (up to
 * 9000) needs its own frame size: MTU + Ethernet header + a VLAN tag. */
static inline uint32_t netdev_rx_room(const struct netdev *d)
{
	if (d->offload & NETDEV_OFF_GRO)
		return NETDEV_RX_ROOM_GSO;
	return d->mtu + 18u > NETDEV_RX_ROOM ? d->mtu + 18u : NETDEV_RX_ROOM;
}

static inline int netdev_recv(struct netdev *d, struct pbuf **pbp) { return d->ops->recv(d, pbp); }
static inline int netdev_send(struct netdev *d, struct pbuf *pb) { return d->ops->send(d, pb); }
static inline int netdev_pollfd(struct netdev *d) { return d->ops->pollfd ? d->ops->pollfd(d) : -1; }
static inline void netdev_close(struct netdev *d) { if (d) d->ops->close(d); }
static inline void netdev_flush(struct netdev *d) { if (d->ops->flush) d->ops->flush(d); }

#endif
