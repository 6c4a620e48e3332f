/*
 * udp_sock.c - what a UDP socket does: bind, connect, send, receive (RFC 768, RFC 1122 4.1).
 *
 * Called by stack/socket/socket_udp.c, one call per socket call, with addresses already in
 * host order. Results and errors are Linux's (udp_sendmsg, udp_recvmsg, ip4_datagram_connect).
 *
 * Sending builds the whole datagram in one packet buffer - the only copy of the payload -
 * with the checksum computed over the pseudo-header (RFC 768; always on output, RFC 1122
 * 4.1.3.4), or left to the device when it offers checksum offload and the datagram goes out
 * whole. IP fragments what is larger than the MTU. Nothing is queued on the send side: the
 * datagram is in IP's hands (or ARP's pending queue) when the call returns, so a socket is
 * always writable.
 *
 * Receiving takes the oldest queued datagram; what does not fit the caller's buffer is
 * discarded (MSG_TRUNC tells the caller), unless it only peeks.
 */
#include "udp/udp_int.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "core/checksum.h"
#include "ip/ip.h"
#include "wire/ipv4.h"
#include "wire/udp.h"

void udp_set_waker(struct udp_layer *ul, void (*wake)(void *arg, uint32_t owner), void *arg)
{
	ul->wake = wake;
	ul->wake_arg = arg;
}

void udp_sock_set_owner(struct udp_sock *us, uint32_t owner)
{
	us->owner = owner;
}

struct udp_sock *udp_sock_open(struct udp_layer *ul)
{
	struct udp_sock *us = calloc(1, sizeof(*us));
	if (!us)
		return NULL;
	us->ul = ul;
	us->rcvbuf = ul->cfg.rmem_default;
	us->sndbuf = ul->cfg.wmem_default;
	us->next = ul->all;
	if (ul->all)
		ul->all->prev = us;
	ul->all = us;
	ul->nsocks++;
	return us;
}

void udp_sock_close(struct udp_sock *us)
{
	struct udp_layer *ul = us->ul;
	udp_port_release(ul, us);
	ul->rmem -= us->rmem;
	pbuf_queue_purge(&us->rcvq);
	if (us->prev)
		us->prev->next = us->next;
	else
		ul->all = us->next;
	if (us->next)
		us->next->prev = us->prev;
	ul->nsocks--;
	free(us);
}

int udp_bind(struct udp_sock *us, uint32_t laddr, uint16_t port)
{
	if (us->bound)
		return -EINVAL;
	if (!ip_bind_addr_ok(us->ul->ip, laddr))
		return -EADDRNOTAVAIL;
	int rc = udp_port_take(us->ul, us, laddr, port);
	if (rc)
		return rc;
	us->addr_locked = laddr != 0;
	us->port_locked = port != 0;
	return 0;
}

/* The ephemeral port a first send or connect takes (Linux inet_autobind). */
static int udp_autobind(struct udp_sock *us)
{
	return us->bound ? 0 : udp_port_take(us->ul, us, 0, 0);
}

int udp_connect(struct udp_sock *us, uint32_t raddr, uint16_t rport)
{
	struct udp_layer *ul = us->ul;
	raddr = ip_dst_resolve(raddr, us->laddr);
	/* Linux ip4_datagram_connect: a broadcast peer needs SO_BROADCAST. */
	if (ip_addr_is_broadcast(ul->ip, raddr) && !us->broadcast)
		return -EACCES;
	int rc = udp_autobind(us);
	if (rc)
		return rc;
	/* The local address becomes the one the route gives (127.0.0.1 towards the loopback
	 * net, else ours). */
	if (!us->laddr)
		us->laddr = ip_src_for(ul->ip, raddr);
	us->raddr = raddr;
	us->rport = rport;
	us->err = 0;
	return 0;
}

void udp_disconnect(struct udp_sock *us)
{
	/* Linux __udp_disconnect: forget the peer; an address or port bind() did not choose
	 * was the connect's, and goes too. */
	us->raddr = 0;
	us->rport = 0;
	us->shut_rd = us->shut_wr = false;
	if (!us->addr_locked)
		us->laddr = 0;
	if (!us->port_locked)
		udp_port_release(us->ul, us);
}

int udp_take_error(struct udp_sock *us)
{
	int e = us->err;
	us->err = 0;
	return e;
}

static size_t udp_iov_len(const struct iovec *iov, int iovcnt)
{
	size_t n = 0;
	for (int i = 0; i < iovcnt; i++) {
		if (iov[i].iov_len > SIZE_MAX - n)
			return SIZE_MAX;
		n += iov[i].iov_len;
	}
	return n;
}

/* Always consumes nothing: builds a new pbuf and hands it to IP, which consumes it. */
long udp_sendv(struct udp_sock *us, const struct iovec *iov, int iovcnt, const uint32_t *dst, uint16_t dport)
{
	struct udp_layer *ul = us->ul;
	size_t len = udp_iov_len(iov, iovcnt);
	uint32_t daddr;
	int rc;

	/* Linux udp_sendmsg / sock_alloc_send_pskb: a pending error comes first, once. */
	if (us->err)
		return -udp_take_error(us);
	if (us->shut_wr)
		return -EPIPE;
	if (len > UDP_PAYLOAD_MAX)
		return -EMSGSIZE;
	if (dst) {
		if (dport == 0)
			return -EINVAL;         /* Linux: sendto port 0 */
		daddr = ip_dst_resolve(*dst, us->laddr);
	} else {
		if (!us->rport)
			return -EDESTADDRREQ;
		daddr = us->raddr;
		dport = us->rport;
	}
	if (ip_addr_is_broadcast(ul->ip, daddr) && !us->broadcast)
		return -EACCES;
	if ((rc = udp_autobind(us)) != 0)
		return rc;

	uint32_t ulen = (uint32_t)len + UDP_HDR_LEN;
	struct pbuf *pb = pbuf_alloc(&ul->core->pool, PBUF_HEADROOM, ulen);
	if (!pb) {
		ul->cnt.SndbufErrors++;
		return -ENOBUFS;
	}
	uint8_t *p = pbuf_put(pb, ulen);
	size_t off = UDP_HDR_LEN;
	for (int i = 0; i < iovcnt; i++) {
		if (iov[i].iov_len)
			memcpy(p + off, iov[i].iov_base, iov[i].iov_len);
		off += iov[i].iov_len;
	}
	uint32_t src = us->laddr && !ip_addr_is_broadcast(ul->ip, us->laddr) ? us->laddr : ip_src_for(ul->ip, daddr);
	struct udp_hdr h = { us->lport, dport, (uint16_t)ulen, 0 };
	udp_hdr_emit(p, &h);
	uint32_t sum = csum_pseudo_ipv4(src, daddr, IPPROTO_UDP_NUM, (uint16_t)ulen);
	if (ul->cfg.csum_offload && IPV4_HDR_MIN + ulen <= ip_pmtu_get(ul->ip, daddr)) {
		/* The device adds the data to the pseudo-header sum (fragments cannot: below). */
		put_be16(p + UDP_OFF_CSUM, (uint16_t)~csum_finish(sum));
		pb->flags |= PBUF_F_CSUM_PARTIAL;
	} else {
		uint16_t c = csum_finish(csum_add(sum, p, ulen));
		put_be16(p + UDP_OFF_CSUM, c ? c : 0xffff);   /* RFC 768: a computed 0 is sent as all ones */
	}
	rc = ipv4_output(ul->ip, pb, src, daddr, IPPROTO_UDP_NUM,
	                 (struct ip_hdr_choice){ .tos = us->tos, .ttl = us->ttl });
	if (rc < 0) {
		if (rc == -ENOBUFS)
			ul->cnt.SndbufErrors++;
		return rc;
	}
	ul->cnt.OutDatagrams++;
	return (long)len;
}

long udp_recvv(struct udp_sock *us, const struct iovec *iov, int iovcnt, bool peek, uint32_t *src, uint16_t *sport,
               uint32_t *full)
{
	struct pbuf *pb = us->rcvq.head;
	*full = 0;
	if (!pb) {
		/* Linux __skb_recv_udp: a pending error is reported when nothing is queued... */
		if (us->err)
			return -udp_take_error(us);
		return us->shut_rd ? 0 : -EAGAIN;
	}
	uint32_t dlen = pb->len - UDP_HDR_LEN, off = 0;
	const uint8_t *d = pb->data + UDP_HDR_LEN;
	for (int i = 0; i < iovcnt && off < dlen; i++) {
		uint32_t n = iov[i].iov_len < dlen - off ? (uint32_t)iov[i].iov_len : dlen - off;
		if (n)
			memcpy(iov[i].iov_base, d + off, n);
		off += n;
	}
	*src = pb->user;
	*sport = get_be16(pb->data + UDP_OFF_SPORT);
	*full = dlen;
	if (!peek) {
		pbuf_queue_pop(&us->rcvq);
		us->rmem -= udp_truesize(pb);
		us->ul->rmem -= udp_truesize(pb);
		pbuf_free(pb);
	}
	return (long)off;
}

int udp_shutdown(struct udp_sock *us, int how)
{
	/* Linux inet_shutdown: an unconnected datagram socket is "not connected". */
	if (!us->rport)
		return -ENOTCONN;
	if (how == SHUT_RD || how == SHUT_RDWR)
		us->shut_rd = true;
	if (how == SHUT_WR || how == SHUT_RDWR)
		us->shut_wr = true;
	udp_wake(us);
	return 0;
}

uint32_t udp_next_len(const struct udp_sock *us)
{
	return us->rcvq.head ? us->rcvq.head->len - UDP_HDR_LEN : 0;
}

short udp_sock_revents(const struct udp_sock *us)
{
	/* Linux datagram_poll for a socket that is not connection-based. */
	short ev = POLLOUT;
	if (us->rcvq.head || us->shut_rd)
		ev |= POLLIN;
	if (us->shut_rd)
		ev |= POLLRDHUP;
	if (us->shut_rd && us->shut_wr)
		ev |= POLLHUP;
	if (us->err)
		ev |= POLLERR;
	return ev;
}
