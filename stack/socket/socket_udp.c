/*
 * socket_udp.c - the socket calls of a SOCK_DGRAM socket, over the UDP layer.
 *
 * socket.c finds the descriptor and, for a UDP socket, calls here (socket_udp.h). This file
 * turns the BSD arguments into the UDP layer's host-order ones and gives Linux's errors for
 * bad ones: a destination that is not AF_INET is EAFNOSUPPORT (AF_UNSPEC counts as AF_INET
 * in sendto, as Linux allows; in connect it disconnects), a name shorter than a
 * sockaddr_in is EINVAL, unknown flags are ignored as Linux's UDP does with most.
 *
 * Options (SOL_SOCKET and IPPROTO_IP) live in the struct udp_sock itself; a UDP socket
 * has no TCP options (ENOPROTOOPT).
 */
#include "socket/socket_udp.h"

#include <errno.h>
#include <string.h>

#include "socket/socket_int.h"
#include "udp/udp.h"

int ts_udp_bind(struct udp_sock *us, const struct sockaddr_in *addr)
{
	if (!addr || addr->sin_family != AF_INET)
		return -EINVAL;
	return udp_bind(us, ntohl(addr->sin_addr.s_addr), ntohs(addr->sin_port));
}

int ts_udp_connect(struct udp_sock *us, const struct sockaddr_in *addr)
{
	if (!addr)
		return -EINVAL;
	if (addr->sin_family == AF_UNSPEC) {
		udp_disconnect(us);
		return 0;
	}
	if (addr->sin_family != AF_INET)
		return -EAFNOSUPPORT;
	return udp_connect(us, ntohl(addr->sin_addr.s_addr), ntohs(addr->sin_port));
}

ssize_t ts_udp_sendmsg(struct udp_sock *us, const struct msghdr *msg, int flags)
{
	/* MSG_DONTWAIT, MSG_NOSIGNAL: every call returns at once; MSG_MORE: no corking. */
	if (flags & MSG_OOB)
		return -EOPNOTSUPP; /* Linux udp_sendmsg */
	if (!msg || (msg->msg_iovlen && !msg->msg_iov))
		return -EFAULT;
	if (msg->msg_iovlen > 1024)
		return -EMSGSIZE;       /* Linux UIO_MAXIOV */
	for (size_t i = 0; i < msg->msg_iovlen; i++)
		if (msg->msg_iov[i].iov_len && !msg->msg_iov[i].iov_base)
			return -EFAULT;
	if (msg->msg_name) {
		const struct sockaddr_in *to = msg->msg_name;
		uint32_t dst;
		if (msg->msg_namelen < sizeof(*to))
			return -EINVAL;
		/* Linux udp_sendmsg: AF_UNSPEC is taken as AF_INET for old programs. */
		if (to->sin_family != AF_INET && to->sin_family != AF_UNSPEC)
			return -EAFNOSUPPORT;
		dst = ntohl(to->sin_addr.s_addr);
		return udp_sendv(us, msg->msg_iov, (int)msg->msg_iovlen, &dst, ntohs(to->sin_port));
	}
	return udp_sendv(us, msg->msg_iov, (int)msg->msg_iovlen, NULL, 0);
}

ssize_t ts_udp_recvmsg(struct udp_sock *us, struct msghdr *msg, int flags)
{
	uint32_t src = 0, full = 0;
	uint16_t sport = 0;

	if (!msg || (msg->msg_iovlen && !msg->msg_iov))
		return -EFAULT;
	if (flags & MSG_ERRQUEUE)
		return -EAGAIN; /* no ICMP errors are queued (IP_RECVERR is accepted only): empty */
	if (flags & MSG_OOB)
		return -EOPNOTSUPP;
	for (size_t i = 0; i < msg->msg_iovlen; i++)
		if (msg->msg_iov[i].iov_len && !msg->msg_iov[i].iov_base)
			return -EFAULT;
	/* Linux __skb_recv_udp: reading shut and nothing queued, a caller that would wait gets 0
	 * at once (the end), one that would not (non-blocking, MSG_DONTWAIT) EAGAIN. */
	if ((flags & MSG_DONTWAIT) && us->shut_rd && !us->rcvq.head && !us->err)
		return -EAGAIN;
	long n = udp_recvv(us, msg->msg_iov, (int)msg->msg_iovlen, (flags & MSG_PEEK) != 0, &src, &sport, &full);
	msg->msg_flags = 0;
	msg->msg_controllen = 0;
	if (n < 0)
		return n;
	if (msg->msg_name) {
		struct sockaddr_in from;
		ts_fill_addr(&from, src, sport);
		socklen_t k = msg->msg_namelen < sizeof(from) ? msg->msg_namelen : (socklen_t)sizeof(from);
		memcpy(msg->msg_name, &from, k);
		msg->msg_namelen = sizeof(from);
	}
	if (full > (uint32_t)n) {
		msg->msg_flags |= MSG_TRUNC;
		/* MSG_TRUNC asks for the datagram's real length (Linux, since 2.6.8). */
		if (flags & MSG_TRUNC)
			return (ssize_t)full;
	}
	return n;
}

int ts_udp_shutdown(struct udp_sock *us, int how)
{
	return udp_shutdown(us, how);
}

int ts_udp_setsockopt(struct udp_sock *us, int level, int name, const void *val, socklen_t len)
{
	int v = 0, rc;
	if (level == IPPROTO_IP) {
		if ((rc = ts_ip_arg(val, len, &v)) != 0)
			return rc;
		switch (name) {
		case IP_TOS:
			us->tos = (uint8_t)v;
			return 0;
		case IP_TTL:
			return ts_ttl_arg(v, &us->ttl);
		case IP_MTU_DISCOVER:
		case IP_RECVERR:
			return 0;       /* accepted: datagrams go without DF; errors only through SO_ERROR */
		default:
			return -ENOPROTOOPT;
		}
	}
	if (level != SOL_SOCKET)
		return -ENOPROTOOPT;
	if ((rc = ts_int_arg(val, len, &v)) != 0)
		return rc;
	switch (name) {
	case SO_REUSEADDR:
		us->reuseaddr = v != 0;
		return 0;
	case SO_BROADCAST:
		us->broadcast = v != 0;
		return 0;
	case SO_RCVBUF:
		/* Linux sock_setsockopt: clamped to rmem_max, then doubled. */
		us->rcvbuf = ts_bufsize(name, v, us->ul->cfg.rmem_max);
		return 0;
	case SO_SNDBUF:
		us->sndbuf = ts_bufsize(name, v, us->ul->cfg.wmem_max);
		return 0;
	case SO_KEEPALIVE:
		return 0;               /* Linux accepts it on any socket; UDP has nothing to keep alive */
	default:
		return -ENOPROTOOPT;
	}
}

int ts_udp_getsockopt(struct udp_sock *us, int level, int name, void *val, socklen_t *len)
{
	if (level == IPPROTO_IP && name == IP_TOS)
		return ts_put_ip_int(val, len, us->tos);
	if (level == IPPROTO_IP && name == IP_TTL)
		return ts_ttl_get(us->ul->ip, us->ttl, val, len);
	if (level == IPPROTO_IP || level == IPPROTO_UDP)
		return -ENOPROTOOPT;
	if (level != SOL_SOCKET)
		return TS_GETSOCKOPT_BAD_LEVEL;
	switch (name) {
	case SO_TYPE:
	case SO_PROTOCOL:
	case SO_DOMAIN:
	case SO_RCVLOWAT:
	case SO_SNDLOWAT:
		return ts_get_fixed_opt(name, SOCK_DGRAM, IPPROTO_UDP, val, len);
	case SO_REUSEADDR:
		return ts_put_int(val, len, us->reuseaddr);
	case SO_BROADCAST:
		return ts_put_int(val, len, us->broadcast);
	case SO_RCVBUF:
		return ts_put_int(val, len, (int)us->rcvbuf);
	case SO_SNDBUF:
		return ts_put_int(val, len, (int)us->sndbuf);
	case SO_ACCEPTCONN:
		return ts_put_int(val, len, 0);
	case SO_ERROR:
		if (!val || !len || *len < (socklen_t)sizeof(int))
			return -EINVAL;         /* do not lose the error to a short buffer */
		return ts_put_int(val, len, udp_take_error(us));
	default:
		return -ENOPROTOOPT;
	}
}

int ts_udp_name(const struct udp_sock *us, struct sockaddr_in *addr, bool peer)
{
	if (!addr)
		return -EFAULT;
	if (peer) {
		if (!us->rport)
			return -ENOTCONN;
		ts_fill_addr(addr, us->raddr, us->rport);
	} else {
		ts_fill_addr(addr, us->laddr, us->lport);
	}
	return 0;
}
