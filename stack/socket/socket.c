/*
 * socket.c - the BSD-style socket API over tapstack's TCP and UDP (socket.h is the contract).
 *
 * A descriptor is an index into a growable table of struct ts_sock. A socket starts NEW
 * (it only carries options and maybe a bound address), becomes a LISTENER (it points at a
 * struct tcp_listener) or a CONN (it points at a struct tcp_conn, from connect() or
 * accept()). The options live in the socket until the listener or connection takes them
 * (sockopt.c), so accepted connections inherit the listener's, as on Linux. A SOCK_DGRAM
 * socket is UDP from the start (it points at a struct udp_sock), and each call hands it to
 * its ts_udp_* twin in socket_udp.c.
 *
 * Every call is non-blocking here: a socket in blocking mode only tells the caller
 * (ts_stack_wait loop, the packetdrill runner) to wait and retry on -EAGAIN. Results are
 * negative errno values. Descriptors are handed out lowest-first from TS_FD_FIRST, as
 * a process's would be.
 *
 * Called by apps and tests; calls the socket-facing functions of stack/tcp/tcp.h and, through
 * socket_udp.c, stack/udp/udp.h.
 */
#include "socket/socket.h"

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "socket/socket_int.h"
#include "socket/socket_udp.h"
#include "udp/udp.h"

/* TCP's and UDP's readiness upcall: the owner token is the descriptor. */
static void ts_layer_wake(void *arg, uint32_t owner)
{
	ts_ready_wake(arg, (int)owner);
}

int socket_layer_init(struct socket_layer *sl, struct tcp_layer *tcp, struct udp_layer *udp)
{
	memset(sl, 0, sizeof(*sl));
	sl->tcp = tcp;
	sl->udp = udp;
	sl->lowest_free = TS_FD_FIRST;
	tcp_set_waker(tcp, ts_layer_wake, sl);
	if (udp)
		udp_set_waker(udp, ts_layer_wake, sl); /* the same upcall: the token is the descriptor */
	return 0;
}

static void ts_release(struct socket_layer *sl, int fd)
{
	struct ts_sock *s = &sl->socks[fd];

	ts_ready_forget(sl, fd);
	if (s->kind == TS_LISTENER && s->lis)
		tcp_listener_close(s->lis);
	if (s->kind == TS_CONN && s->conn)
		tcp_close(s->conn);
	if (s->kind == TS_UDP)
		udp_sock_close(s->udp);
	if (s->bound)
		tcp_port_unbind(sl->tcp, s->lport, s->bound_reuseport);
	free(s->opts);
	memset(s, 0, sizeof(*s));
}

void socket_layer_destroy(struct socket_layer *sl)
{
	for (uint32_t i = 0; i < sl->used; i++)
		if (sl->socks[i].kind != TS_FREE)
			ts_release(sl, (int)i);
	tcp_set_waker(sl->tcp, NULL, NULL);
	if (sl->udp)
		udp_set_waker(sl->udp, NULL, NULL);
	free(sl->socks);
	memset(sl, 0, sizeof(*sl));
}

struct ts_sock *ts_get(struct socket_layer *sl, int fd)
{
	if (fd < 0 || (uint32_t)fd >= sl->used || sl->socks[fd].kind == TS_FREE)
		return NULL;
	return &sl->socks[fd];
}

struct ts_sock *ts_sock_of(struct socket_layer *sl, int fd, int *err)
{
	struct ts_sock *s = ts_get(sl, fd);
	*err = !s ? -EBADF : s->kind == TS_EPOLL ? -ENOTSOCK : 0;
	return *err ? NULL : s;
}

/* Lowest free descriptor (the hint skips the used prefix), growing the table by doubling.
 * Entries above sl->used were never handed out and are left untouched (no memset of the new
 * half): a table grown for 100,000 descriptors costs memory only for those in use, since
 * pages nobody writes stay out of the resident set. */
int ts_alloc(struct socket_layer *sl)
{
	uint32_t i = sl->lowest_free < TS_FD_FIRST ? TS_FD_FIRST : sl->lowest_free;
	for (; i < sl->used; i++)
		if (sl->socks[i].kind == TS_FREE)
			break;
	if (i >= sl->cap) {
		uint32_t ncap = sl->cap ? sl->cap * 2 : 64;
		while (ncap <= i)
			ncap *= 2;
		struct ts_sock *n = realloc(sl->socks, ncap * sizeof(*n));
		if (!n)
			return -ENOMEM;
		sl->socks = n;
		sl->cap = ncap;
	}
	for (; sl->used <= i; sl->used++) /* the skipped stdio numbers, then i */
		sl->socks[sl->used].kind = TS_FREE;
	sl->lowest_free = i + 1;
	sl->open++;
	memset(&sl->socks[i], 0, sizeof(sl->socks[i]));
	sl->socks[i].kind = TS_NEW;
	return (int)i;
}

static void ts_free_fd(struct socket_layer *sl, int fd)
{
	sl->socks[fd].kind = TS_FREE;
	if ((uint32_t)fd < sl->lowest_free)
		sl->lowest_free = (uint32_t)fd;
	sl->open--;
}

int ts_socket(struct socket_layer *sl, int domain, int type, int protocol)
{
	if (domain != AF_INET)
		return -EAFNOSUPPORT;
	int base = type & ~(SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (base != SOCK_STREAM && base != SOCK_DGRAM)
		return base == SOCK_RAW || base == SOCK_SEQPACKET ? -EPROTONOSUPPORT : -EINVAL;
	if (protocol != 0 && protocol != (base == SOCK_STREAM ? IPPROTO_TCP : IPPROTO_UDP))
		return -EPROTONOSUPPORT;
	struct udp_sock *us = NULL;
	struct tcp_sockopts *opts = NULL;
	if (base == SOCK_DGRAM && !(us = udp_sock_open(sl->udp)))
		return -ENOMEM;
	if (base == SOCK_STREAM && !(opts = malloc(sizeof(*opts))))
		return -ENOMEM;
	int fd = ts_alloc(sl);
	if (fd < 0) {
		if (us)
			udp_sock_close(us);
		free(opts);
		return fd;
	}
	struct ts_sock *s = &sl->socks[fd];
	s->nonblock = (type & SOCK_NONBLOCK) != 0;
	if (opts) {
		tcp_sockopts_default(sl->tcp, opts);
		s->opts = opts;
	}
	if (us) {
		s->kind = TS_UDP;
		s->udp = us;
		udp_sock_set_owner(us, (uint32_t)fd);  /* the readiness token is the descriptor */
	}
	return fd;
}

/* The checks bind() and connect() begin with: NULL and *err = -EBADF for a bad descriptor,
 * or bad_family for a missing or non-AF_INET address (Linux: EINVAL from bind, EAFNOSUPPORT
 * from connect). */
static struct ts_sock *ts_get_with_addr(struct socket_layer *sl, int fd, const struct sockaddr_in *addr,
                                        int bad_family, int *err)
{
	struct ts_sock *s = ts_sock_of(sl, fd, err);
	if (s && (!addr || addr->sin_family != AF_INET))
		*err = bad_family;
	return *err ? NULL : s;
}

int ts_bind(struct socket_layer *sl, int fd, const struct sockaddr_in *addr)
{
	struct ts_sock *u = ts_get(sl, fd);
	if (u && u->kind == TS_UDP)
		return ts_udp_bind(u->udp, addr);
	int err;
	struct ts_sock *s = ts_get_with_addr(sl, fd, addr, -EINVAL, &err);
	if (!s)
		return err;
	if (s->bound || s->kind != TS_NEW)
		return -EINVAL;
	uint32_t a = ntohl(addr->sin_addr.s_addr);
	uint16_t port = ntohs(addr->sin_port);
	int rc = tcp_port_bind(sl->tcp, a, &port, s->opts->reuseaddr, s->opts->reuseport);
	if (rc)
		return rc;
	s->bound = true;
	s->bound_reuseport = s->opts->reuseport;
	s->laddr = a;
	s->lport = port;
	return 0;
}

int ts_listen(struct socket_layer *sl, int fd, int backlog)
{
	int err;
	struct ts_sock *s = ts_sock_of(sl, fd, &err);
	if (!s)
		return err;
	if (s->kind == TS_UDP)
		return -EOPNOTSUPP;
	if (s->kind == TS_LISTENER) {
		tcp_listener_set_backlog(s->lis, backlog); /* Linux: listen() again changes the backlog */
		return 0;
	}
	if (s->kind != TS_NEW)
		return -EINVAL;
	if (!s->bound) {
		/* Linux autobinds an unbound socket to an ephemeral port. */
		uint16_t port = 0;
		int rc = tcp_port_bind(sl->tcp, 0, &port, s->opts->reuseaddr, s->opts->reuseport);
		if (rc)
			return rc;
		s->bound = true;
		s->bound_reuseport = s->opts->reuseport;
		s->lport = port;
	}
	err = 0;
	struct tcp_listener *l = tcp_listen(sl->tcp, s->laddr, s->lport, backlog, s->opts, &err);
	if (!l)
		return err;
	s->kind = TS_LISTENER;
	s->lis = l;
	tcp_listener_set_owner(l, (uint32_t)fd);
	return 0;
}

int ts_accept(struct socket_layer *sl, int fd, struct sockaddr_in *peer, int flags)
{
	int err;
	struct ts_sock *s = ts_sock_of(sl, fd, &err);
	if (!s)
		return err;
	if (s->kind == TS_UDP)
		return -EOPNOTSUPP;
	if (s->kind != TS_LISTENER)
		return -EINVAL;
	if (!tcp_listener_queued(s->lis))
		return -EAGAIN;
	int nfd = ts_alloc(sl);
	if (nfd < 0)
		return nfd;
	s = &sl->socks[fd]; /* the table may have moved */
	struct tcp_conn *c = tcp_listener_accept(s->lis);
	struct ts_sock *n = &sl->socks[nfd];
	n->kind = TS_CONN;
	n->connected_told = true;
	n->conn = c;
	tcp_conn_set_owner(c, (uint32_t)nfd);
	n->nonblock = (flags & SOCK_NONBLOCK) != 0;
	if (peer) {
		uint32_t la, ra;
		uint16_t lp, rp;
		tcp_conn_addrs(c, &la, &lp, &ra, &rp);
		ts_fill_addr(peer, ra, rp);
	}
	return nfd;
}

int ts_connect(struct socket_layer *sl, int fd, const struct sockaddr_in *addr)
{
	struct ts_sock *u = ts_get(sl, fd);
	if (u && u->kind == TS_UDP)
		return ts_udp_connect(u->udp, addr);
	int err;
	struct ts_sock *s = ts_get_with_addr(sl, fd, addr, -EAFNOSUPPORT, &err);
	if (!s)
		return err;
	if (s->kind == TS_LISTENER)
		return -EISCONN;
	if (s->kind == TS_CONN) {
		/* Linux: a second connect() reports progress, then the outcome once: the pending
		 * error, or ECONNABORTED when SO_ERROR already took it (__inet_stream_connect's
		 * sock_error); the call after that starts over. */
		if (tcp_conn_connecting(s->conn))
			return -EALREADY;
		int e = tcp_conn_take_error(s->conn);
		if (e) {
			s->open_failure_told = tcp_conn_failed_open(s->conn);
			return -e;
		}
		/* Established (or closed since) after a non-blocking connect that nobody asked
		 * again: 0, once; EISCONN from then on (SS_CONNECTING becomes SS_CONNECTED). */
		if (!tcp_conn_failed_open(s->conn)) {
			if (s->connected_told)
				return -EISCONN;
			s->connected_told = true;
			return 0;
		}
		if (!s->open_failure_told) {
			s->open_failure_told = true;
			return -ECONNABORTED;
		}
		/* Linux: after a failed connect the socket is unconnected again: start over,
		 * keeping the options the connection owned. */
		*s->opts = *tcp_conn_opts(s->conn);
		tcp_close(s->conn);
		s->conn = NULL;
		s->kind = TS_NEW;
	}
	/* 0.0.0.0 is this host (ip_dst_resolve), as on Linux. */
	uint32_t raddr = ip_dst_resolve(ntohl(addr->sin_addr.s_addr), s->laddr);
	struct tcp_conn *c = tcp_connect(sl->tcp, s->laddr, s->lport, raddr, ntohs(addr->sin_port), s->opts, &err);
	if (!c)
		return err;
	s->kind = TS_CONN;
	s->conn = c;
	s->open_failure_told = false;
	s->connected_told = false;
	tcp_conn_set_owner(c, (uint32_t)fd);
	ts_ready_wake(sl, fd);
	if (tcp_conn_connecting(c))
		return -EINPROGRESS;
	int e = tcp_conn_take_error(c);
	s->open_failure_told = e != 0;
	s->connected_told = e == 0;
	return e ? -e : 0;
}

/* A send call's flags as tcp_send takes them (MSG_DONTWAIT, MSG_NOSIGNAL: every call is
 * non-blocking and raises no signal). */
static unsigned ts_tcp_send_flags(int flags)
{
	return ((flags & MSG_MORE) ? TCP_SEND_MORE : 0u) | ((flags & MSG_EOR) ? TCP_SEND_EOR : 0u) |
	       ((flags & MSG_OOB) ? TCP_SEND_OOB : 0u);
}

ssize_t ts_send(struct socket_layer *sl, int fd, const void *buf, size_t len, int flags)
{
	return ts_sendto(sl, fd, buf, len, flags, NULL);
}

ssize_t ts_sendto(struct socket_layer *sl, int fd, const void *buf, size_t len, int flags,
                  const struct sockaddr_in *to)
{
	int err;
	struct ts_sock *s = ts_sock_of(sl, fd, &err);
	/* MSG_DONTWAIT / MSG_NOSIGNAL: every call is non-blocking and raises no signal. */
	if (!s)
		return err;
	if (s->kind == TS_UDP) {
		struct iovec iov = { (void *)(uintptr_t)buf, len };
		struct msghdr m = { .msg_name = (void *)(uintptr_t)to, .msg_namelen = to ? sizeof(*to) : 0,
			            .msg_iov = &iov, .msg_iovlen = 1 };
		return ts_udp_sendmsg(s->udp, &m, flags);
	}
	/* TCP: the address of a sendto() is ignored on a connected socket (Linux). Not
	 * connected, a listener too: EPIPE (Linux sk_stream_wait_connect). */
	if (s->kind != TS_CONN)
		return -EPIPE;
	if (len && !buf)
		return -EFAULT;
	return tcp_send(s->conn, buf, len, ts_tcp_send_flags(flags));
}

/* ts_sendfile's source: the file, read with pread straight into the send queue. */
struct ts_file_src {
	int fd;
	uint64_t off;
};

static long ts_fill_pread(void *ctx, void *dst, uint32_t n, uint64_t at)
{
	const struct ts_file_src *f = ctx;
	uint32_t done = 0;
	while (done < n) {
		ssize_t got = pread(f->fd, (uint8_t *)dst + done, n - done, (off_t)(f->off + at + done));
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0)
			return done ? (long)done : errno == EISDIR ? -EINVAL : -errno; /* Linux: EINVAL */
		if (got == 0)
			break; /* the end of the file */
		done += (uint32_t)got;
	}
	return done;
}

ssize_t ts_sendfile(struct socket_layer *sl, int fd, int in_fd, uint64_t off, size_t count, int flags)
{
	int err;
	struct ts_sock *s = ts_sock_of(sl, fd, &err);
	if (!s)
		return err;
	if (s->kind == TS_UDP)
		return -EINVAL; /* a stream call: datagrams go through ts_sendto */
	if (s->kind != TS_CONN)
		return -EPIPE; /* as ts_send */
	if (off > (uint64_t)INT64_MAX)
		return -EINVAL; /* Linux: a negative offset */
	struct ts_file_src src = { in_fd, off };
	return tcp_send_from(s->conn, ts_fill_pread, &src, count, ts_tcp_send_flags(flags & ~MSG_OOB));
}

ssize_t ts_recv(struct socket_layer *sl, int fd, void *buf, size_t len, int flags)
{
	return ts_recvfrom(sl, fd, buf, len, flags, NULL);
}

ssize_t ts_recvfrom(struct socket_layer *sl, int fd, void *buf, size_t len, int flags, struct sockaddr_in *from)
{
	int err;
	struct ts_sock *s = ts_sock_of(sl, fd, &err);
	if (!s)
		return err;
	if (s->kind == TS_UDP) {
		struct iovec iov = { buf, len };
		struct msghdr m = { .msg_name = from, .msg_namelen = from ? sizeof(*from) : 0, .msg_iov = &iov,
			            .msg_iovlen = 1 };
		if (len && !buf)
			return -EFAULT;
		return ts_udp_recvmsg(s->udp, &m, flags | (s->nonblock ? MSG_DONTWAIT : 0));
	}
	/* TCP: a stream has no per-datagram sender; from is left as it is (Linux sets no name). */
	if (flags & MSG_ERRQUEUE)
		return -EAGAIN; /* the error queue, always empty here (Linux ip_recv_error), never waits */
	if (s->kind == TS_NEW && (flags & MSG_OOB))
		return -EINVAL; /* Linux tcp_recv_urg: no urgent data on a socket never connected */
	if (s->kind != TS_CONN)
		return -ENOTCONN;
	/* MSG_TRUNC on a stream (tcp(7)): the bytes are consumed (or, with MSG_PEEK, counted)
	 * without being copied; buf is not touched. */
	bool trunc = (flags & MSG_TRUNC) && !(flags & MSG_OOB);
	if (len && !buf && !trunc)
		return -EFAULT;
	if (flags & MSG_OOB)
		return tcp_recv_urg(s->conn, buf, len, (flags & MSG_PEEK) != 0);
	return tcp_recv(s->conn, trunc ? NULL : buf, len, (flags & MSG_PEEK) != 0);
}

ssize_t ts_sendmsg(struct socket_layer *sl, int fd, const struct msghdr *msg, int flags)
{
	struct ts_sock *s = ts_get(sl, fd);
	if (!s)
		return -EBADF;
	if (s->kind == TS_UDP)
		return ts_udp_sendmsg(s->udp, msg, flags);
	return ts_sendmsg_pieces(sl, fd, msg, flags, ts_send_piece);
}

ssize_t ts_send_piece(void *sl, int fd, const void *buf, size_t len, int flags)
{
	return ts_send(sl, fd, buf, len, flags);
}

ssize_t ts_sendmsg_pieces(void *ctx, int fd, const struct msghdr *msg, int flags,
                          ssize_t (*send_piece)(void *ctx, int fd, const void *buf, size_t len, int flags))
{
	if (!msg || (msg->msg_iovlen && !msg->msg_iov))
		return -EFAULT;
	/* A stream keeps no record boundaries: the pieces in turn, up to the first short write. */
	ssize_t total = 0;
	for (size_t i = 0; i < msg->msg_iovlen; i++) {
		ssize_t n = send_piece(ctx, fd, msg->msg_iov[i].iov_base, msg->msg_iov[i].iov_len, flags);
		if (n < 0)
			return total ? total : n;
		total += n;
		if ((size_t)n < msg->msg_iov[i].iov_len)
			break;
	}
	return total;
}

ssize_t ts_recvmsg(struct socket_layer *sl, int fd, struct msghdr *msg, int flags)
{
	struct ts_sock *s = ts_get(sl, fd);
	if (!s)
		return -EBADF;
	if (s->kind == TS_UDP)
		return ts_udp_recvmsg(s->udp, msg, flags | (s->nonblock ? MSG_DONTWAIT : 0));
	if (!msg || (msg->msg_iovlen && !msg->msg_iov))
		return -EFAULT;
	msg->msg_flags = 0;
	msg->msg_namelen = 0;               /* a stream socket names no sender */
	msg->msg_controllen = 0;
	/* The pieces in turn, until one is not filled; a peek looks at the first piece only
	 * (each tcp_recv peek starts again at the oldest byte). */
	ssize_t total = 0;
	for (size_t i = 0; i < msg->msg_iovlen; i++) {
		ssize_t n = ts_recv(sl, fd, msg->msg_iov[i].iov_base, msg->msg_iov[i].iov_len, flags);
		if (n < 0)
			return total ? total : n;
		total += n;
		if ((size_t)n < msg->msg_iov[i].iov_len || (flags & MSG_PEEK))
			break;
	}
	return total;
}

int ts_shutdown(struct socket_layer *sl, int fd, int how)
{
	int err;
	struct ts_sock *s = ts_sock_of(sl, fd, &err);
	if (!s)
		return err;
	if (how != SHUT_RD && how != SHUT_WR && how != SHUT_RDWR)
		return -EINVAL;
	if (s->kind == TS_UDP)
		return ts_udp_shutdown(s->udp, how);
	if (s->kind == TS_LISTENER) {
		/* Linux inet_shutdown: SHUT_RD (or RDWR) of a listener stops it, and we close the
		 * listen side; SHUT_WR alone does nothing and succeeds. */
		if (how == SHUT_WR)
			return 0;
		*s->opts = *tcp_listener_opts(s->lis); /* the socket owns its options again */
		tcp_listener_close(s->lis);
		s->lis = NULL;
		s->kind = TS_NEW;
		ts_ready_wake(sl, fd);
		return 0;
	}
	if (s->kind != TS_CONN)
		return -ENOTCONN;
	int rc = tcp_shutdown(s->conn, how);
	ts_ready_wake(sl, fd);
	return rc;
}

int ts_close(struct socket_layer *sl, int fd)
{
	struct ts_sock *s = ts_get(sl, fd);
	if (!s)
		return -EBADF;
	(void)s;
	ts_release(sl, fd);
	ts_free_fd(sl, fd);
	return 0;
}

int ts_getsockname(struct socket_layer *sl, int fd, struct sockaddr_in *addr)
{
	int err;
	struct ts_sock *s = ts_sock_of(sl, fd, &err);
	if (!s)
		return err;
	if (s->kind == TS_UDP)
		return ts_udp_name(s->udp, addr, false);
	if (!addr)
		return -EFAULT;
	if (s->kind == TS_CONN) {
		uint32_t la, ra;
		uint16_t lp, rp;
		tcp_conn_addrs(s->conn, &la, &lp, &ra, &rp);
		ts_fill_addr(addr, la, lp);
	} else {
		ts_fill_addr(addr, s->laddr, s->lport);
	}
	return 0;
}

int ts_getpeername(struct socket_layer *sl, int fd, struct sockaddr_in *addr)
{
	int err;
	struct ts_sock *s = ts_sock_of(sl, fd, &err);
	if (!s)
		return err;
	if (s->kind == TS_UDP)
		return ts_udp_name(s->udp, addr, true);
	if (!addr)
		return -EFAULT;
	if (s->kind != TS_CONN || !tcp_conn_is_connected(s->conn))
		return -ENOTCONN;
	uint32_t la, ra;
	uint16_t lp, rp;
	tcp_conn_addrs(s->conn, &la, &lp, &ra, &rp);
	ts_fill_addr(addr, ra, rp);
	return 0;
}

int ts_set_nonblock(struct socket_layer *sl, int fd, bool on)
{
	struct ts_sock *s = ts_get(sl, fd);
	if (!s)
		return -EBADF;
	s->nonblock = on;
	return 0;
}

int ts_get_nonblock(struct socket_layer *sl, int fd)
{
	struct ts_sock *s = ts_get(sl, fd);
	if (!s)
		return -EBADF;
	return s->nonblock ? 1 : 0;
}

int ts_inq(struct socket_layer *sl, int fd)
{
	int err;
	struct ts_sock *s = ts_sock_of(sl, fd, &err);
	if (!s)
		return err;
	if (s->kind == TS_LISTENER)
		return -EINVAL; /* Linux: SIOCINQ on a listener */
	if (s->kind == TS_UDP)
		return (int)udp_next_len(s->udp); /* Linux: the next datagram's length */
	if (s->kind != TS_CONN)
		return 0;
	return (int)tcp_inq(s->conn);
}

int ts_outq(struct socket_layer *sl, int fd, bool notsent)
{
	int err;
	struct ts_sock *s = ts_sock_of(sl, fd, &err);
	if (!s)
		return err;
	if (s->kind == TS_LISTENER)
		return -EINVAL; /* Linux: SIOCOUTQ on a listener */
	if (s->kind != TS_CONN)
		return 0;
	uint32_t n = tcp_outq(s->conn, notsent);
	return n > INT32_MAX ? INT32_MAX : (int)n;
}

int ts_atmark(struct socket_layer *sl, int fd)
{
	int err;
	struct ts_sock *s = ts_sock_of(sl, fd, &err);
	if (!s)
		return err;
	if (s->kind == TS_UDP)
		return -ENOTTY; /* Linux: no such ioctl for UDP */
	return s->kind == TS_CONN && tcp_conn_atmark(s->conn) ? 1 : 0;
}

int ts_handshake(struct socket_layer *sl, int fd, struct ts_handshake *hs)
{
	struct ts_sock *s = ts_get(sl, fd);
	if (!s)
		return -EBADF;
	if (s->kind != TS_CONN)
		return -ENOTCONN;
	tcp_conn_handshake(s->conn, hs);
	return 0;
}

short ts_revents(struct socket_layer *sl, int fd)
{
	struct ts_sock *s = ts_get(sl, fd);
	if (!s)
		return POLLNVAL;
	switch (s->kind) {
	case TS_LISTENER:
		return tcp_listener_revents(s->lis);
	case TS_CONN:
		return tcp_conn_revents(s->conn);
	case TS_EPOLL:
		return ts_epoll_revents(sl, fd);
	case TS_UDP:
		return udp_sock_revents(s->udp);
	default:
		/* Linux tcp_poll on a fresh socket: POLLOUT | POLLHUP (it is "closed"). */
		return (short)(POLLOUT | POLLHUP | (s->err ? POLLERR : 0));
	}
}

int ts_poll(struct socket_layer *sl, struct pollfd *fds, nfds_t n)
{
	int ready = 0;
	for (nfds_t i = 0; i < n; i++) {
		if (fds[i].fd < 0) {
			fds[i].revents = 0;
			continue;
		}
		short ev = ts_revents(sl, fds[i].fd);
		fds[i].revents = (short)(ev & (fds[i].events | POLLHUP | POLLERR | POLLNVAL));
		if (fds[i].revents)
			ready++;
	}
	return ready;
}

uint64_t ts_timeo_us(struct socket_layer *sl, int fd, bool send)
{
	struct ts_sock *s = ts_get(sl, fd);
	if (!s)
		return 0;
	return send ? s->sndtimeo_us : s->rcvtimeo_us;
}

int ts_unacked(struct socket_layer *sl, int fd)
{
	int err;
	struct ts_sock *s = ts_sock_of(sl, fd, &err);
	if (!s)
		return err;
	return s->kind == TS_CONN && tcp_conn_unacked(s->conn);
}
