/*
 * ether.c - Ethernet II input and output (IEEE 802.3 framing with an EtherType, RFC 894 for
 * IPv4 over Ethernet).
 *
 * ether_input() is called by stack.c for every received frame: it decides whether the frame
 * is for us (our MAC or broadcast; multicast only if accept_multicast, since we join no
 * group), checks the EtherType and strips the header. ether_output() is called by arp.c
 * (ARP packets, resolved IPv4 datagrams): it prepends the header, pads to the 60-byte
 * minimum and hands the frame to the driver. Owns nothing but the "eth" counters.
 */
#include "link/link.h"

#include <errno.h>
#include <string.h>

#include "wire/ethernet.h"

/* Values of the type field below this are IEEE 802.3 lengths, not EtherTypes (IEEE 802.3 3.2.6). */
#define ETH_TYPE_MIN 0x0600u

/* The caller keeps pb when an EtherType is returned; on -1 the frame was counted and freed. */
int ether_input(struct link_layer *l, struct pbuf *pb)
{
	struct eth_hdr h;
	uint64_t *reason;

	if (eth_hdr_parse(pb->data, pb->len, &h) < 0) {
		reason = &l->eth.drop_truncated;
		goto drop;
	}
	/* A source address with the group bit set is invalid (IEEE 802 7.1): no one sends from it. */
	if (eth_addr_is_multicast(h.src)) {
		reason = &l->eth.drop_bad_src;
		goto drop;
	}
	pb->flags &= (uint8_t)~(PBUF_F_BROADCAST | PBUF_F_MULTICAST);
	if (eth_addr_is_broadcast(h.dst)) {
		pb->flags |= PBUF_F_BROADCAST;
	} else if (eth_addr_is_multicast(h.dst)) {
		/*
		 * We join no multicast group (no IGMP), so a multicast frame is never for us by
		 * default; on a TAP these are mostly the host's IPv6 neighbour discovery and mDNS.
		 * Counted apart from unicast misses so they do not look like errors.
		 */
		if (!l->cfg.accept_multicast) {
			reason = &l->eth.drop_multicast;
			goto drop;
		}
		pb->flags |= PBUF_F_MULTICAST;
	} else if (!eth_addr_equal(h.dst, l->cfg.mac)) {
		reason = &l->eth.drop_not_for_us;
		goto drop;
	}
	if (h.type < ETH_TYPE_MIN) {
		reason = &l->eth.drop_8023_length;
		goto drop;
	}
	if (h.type != ETHERTYPE_IPV4 && h.type != ETHERTYPE_ARP) {
		reason = &l->eth.drop_unknown_ethertype;
		goto drop;
	}
	l->eth.rx_frames++;
	l->eth.rx_bytes += pb->len;
	if (pb->flags & PBUF_F_BROADCAST)
		l->eth.rx_broadcast++;
	if (pb->flags & PBUF_F_MULTICAST)
		l->eth.rx_multicast++;
	pbuf_pull(pb, ETH_HDR_LEN);
	/* Padding (frames below 60 bytes) stays in len: IPv4 trims by its total length, ARP ignores it. */
	return h.type;

drop:
	(*reason)++;
	LOG_DEBUG(&l->core->log, "eth: drop frame of %u bytes", (unsigned)pb->len);
	pbuf_free(pb);
	return -1;
}

/* Always consumes pb: freed once the driver has sent it, or on a counted drop. */
int ether_output(struct link_layer *l, struct pbuf *pb, const uint8_t dst[ETH_ALEN], uint16_t type)
{
	struct eth_hdr h;
	uint8_t *p;
	uint32_t frame_len;
	uint64_t *reason;
	int err;

	/*
	 * gso_size > 0 marks a TCP super-segment that the device cuts to the MTU itself (TSO,
	 * IFF_VNET_HDR: drivers/tap.c); TCP builds them only when the device offers
	 * NETDEV_OFF_TSO4. Any other frame above the MTU is a bug above us.
	 */
	if ((pb->gso_size == 0 || !(l->dev->offload & NETDEV_OFF_TSO4)) && pbuf_frame_len(pb) > l->cfg.mtu) {
		reason = &l->eth.tx_drop_too_long;
		err = -EMSGSIZE;
		goto drop;
	}
	p = pbuf_push(pb, ETH_HDR_LEN);
	if (!p) {
		reason = &l->eth.tx_drop_no_headroom;
		err = -ENOBUFS;
		goto drop;
	}
	memcpy(h.dst, dst, ETH_ALEN);
	memcpy(h.src, l->cfg.mac, ETH_ALEN);
	h.type = type;
	eth_hdr_emit(p, &h);

	/*
	 * IEEE 802.3 requires 64 bytes on the wire (60 without the FCS the NIC adds); a TAP
	 * would pass a short frame, but a real segment behind a bridge would not. Zero bytes
	 * go after the whole frame, so borrowed payload is first copied in (it is short).
	 */
	frame_len = pbuf_frame_len(pb);
	if (frame_len < ETH_MIN_FRAME) {
		uint8_t *pad;
		if (pbuf_linearize(pb) < 0 || !(pad = pbuf_put(pb, ETH_MIN_FRAME - frame_len))) {
			reason = &l->eth.tx_drop_nomem;
			err = -ENOBUFS;
			goto drop;
		}
		memset(pad, 0, ETH_MIN_FRAME - frame_len);
		frame_len = ETH_MIN_FRAME;
		l->eth.tx_padded++;
	}
	err = netdev_send(l->dev, pb);
	if (err < 0) {
		/* A full device queue is congestion, not a fault: counted apart, so a reader of
		 * the counters can tell the two (the frame is gone either way; TCP resends). */
		reason = err == -EAGAIN || err == -ENOBUFS ? &l->eth.tx_drop_dev_full : &l->eth.tx_drop_dev_error;
		goto drop;
	}
	l->eth.tx_frames++;
	l->eth.tx_bytes += frame_len;
	pbuf_free(pb);
	return 0;

drop:
	(*reason)++;
	LOG_DEBUG(&l->core->log, "eth: output drop (%d)", err);
	pbuf_free(pb);
	return err;
}
