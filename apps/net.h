/*
 * net.h - the socket shim the demo servers are written against.
 *
 * The same server source builds two ways:
 *   - normally, against tapstack's own socket API (stack/socket/socket.h, ts_* calls on a
 *     `struct socket_layer`): this is build/tapstack;
 *   - with -DNET_KERNEL, against the Linux kernel's sockets (socket(2), accept4(2), ...):
 *     this is build/tapstack-kernel, which `make bench` runs beside tapstack so the two
 *     stacks are compared with the very same application code.
 *
 * TCP (net_socket, net_listen_tcp...) and UDP (net_bind_udp, net_recvfrom, net_sendto).
 * Every call is non-blocking and returns >= 0 on success or a negative errno (-EAGAIN,
 * -ECONNRESET, ...), exactly like the ts_* API; the kernel variant converts -1/errno into
 * that form. A `struct net` is the context: the socket layer for tapstack, nothing for the
 * kernel. Descriptors are whatever the underlying API returns, and net_poll() fills revents
 * without ever waiting: the program's loop does the waiting (apps/app.h). A server keeps its
 * sockets in a readiness set (net_set_*: ts_epoll_* or epoll(7)) whose one descriptor is
 * what it gives the loop, so a wake-up costs the sockets that changed.
 *
 * Everything is static inline, so the choice is made per object file at compile time and
 * costs no call.
 */
#ifndef TAPSTACK_APPS_NET_H
#define TAPSTACK_APPS_NET_H

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <unistd.h>

#include "tcp/tcp.h" /* struct ts_handshake (its definition; no call into the stack) */

#ifdef NET_KERNEL

struct net {
	/*
	 * The kernel needs no context for its sockets. But apps/kernel/main.c waits with epoll
	 * and records per descriptor the events it registered (registered[fd], 0 = none). A
	 * closed descriptor leaves the epoll set by itself; net_close() clears its record too,
	 * so a new socket that gets the same number is registered afresh. NULL: no record.
	 */
	short *registered;
	int nregistered;
	/* Congestion control of every listener and so of what it accepts (TCP_CONGESTION),
	 * tapstack-kernel --cc; NULL: the namespace's default. */
	const char *cc;
};

static inline int net_err(long rc)
{
	return rc < 0 ? -errno : (int)rc;
}

/* A non-blocking TCP/IPv4 socket. */
static inline int net_socket(struct net *net)
{
	(void)net;
	return net_err(socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
}

/* A non-blocking UDP/IPv4 socket. */
static inline int net_socket_dgram(struct net *net)
{
	(void)net;
	return net_err(socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
}

static inline int net_bind(struct net *net, int fd, const struct sockaddr_in *addr)
{
	(void)net;
	return net_err(bind(fd, (const struct sockaddr *)addr, sizeof(*addr)));
}

static inline int net_listen(struct net *net, int fd, int backlog)
{
	/* An accepted socket starts with its listener's congestion control. */
	if (net->cc && setsockopt(fd, IPPROTO_TCP, TCP_CONGESTION, net->cc, (socklen_t)strlen(net->cc)) < 0)
		return -errno;
	return net_err(listen(fd, backlog));
}

/* An established connection (non-blocking), or -EAGAIN when the accept queue is empty. */
static inline int net_accept(struct net *net, int fd, struct sockaddr_in *peer)
{
	socklen_t len = sizeof(*peer);

	(void)net;
	return net_err(accept4(fd, (struct sockaddr *)peer, &len, SOCK_NONBLOCK | SOCK_CLOEXEC));
}

/* sendfile(2): up to count bytes of the file in_fd from offset off (its position untouched).
 * The servers ignore SIGPIPE, so a peer that went away is -EPIPE here too. */
static inline ssize_t net_sendfile(struct net *net, int fd, int in_fd, uint64_t off, size_t count)
{
	off_t o = (off_t)off;
	ssize_t n;

	(void)net;
	n = sendfile(fd, in_fd, &o, count);
	return n < 0 ? -errno : n;
}

/* MSG_NOSIGNAL: a peer that went away is an -EPIPE to handle, not a SIGPIPE that kills us. */
static inline ssize_t net_send(struct net *net, int fd, const void *buf, size_t len)
{
	ssize_t n;

	(void)net;
	n = send(fd, buf, len, MSG_NOSIGNAL | MSG_DONTWAIT);
	return n < 0 ? -errno : n;
}

static inline ssize_t net_recv(struct net *net, int fd, void *buf, size_t len)
{
	ssize_t n;

	(void)net;
	n = recv(fd, buf, len, MSG_DONTWAIT);
	return n < 0 ? -errno : n;
}

/* One datagram and its sender; -EAGAIN when none is queued. */
static inline ssize_t net_recvfrom(struct net *net, int fd, void *buf, size_t len, struct sockaddr_in *from)
{
	socklen_t fl = sizeof(*from);
	ssize_t n;

	(void)net;
	n = recvfrom(fd, buf, len, MSG_DONTWAIT, (struct sockaddr *)from, &fl);
	return n < 0 ? -errno : n;
}

/* One datagram to `to`. */
static inline ssize_t net_sendto(struct net *net, int fd, const void *buf, size_t len, const struct sockaddr_in *to)
{
	ssize_t n;

	(void)net;
	n = sendto(fd, buf, len, MSG_DONTWAIT, (const struct sockaddr *)to, sizeof(*to));
	return n < 0 ? -errno : n;
}

static inline int net_shutdown(struct net *net, int fd, int how)
{
	(void)net;
	return net_err(shutdown(fd, how));
}

static inline int net_close(struct net *net, int fd)
{
	if (fd >= 0 && fd < net->nregistered)
		net->registered[fd] = 0;
	return net_err(close(fd));
}

static inline int net_setsockopt(struct net *net, int fd, int level, int name, const void *val,
				 socklen_t len)
{
	(void)net;
	return net_err(setsockopt(fd, level, name, val, len));
}

/* Fills revents of each entry from the sockets' current state; never waits. */
static inline int net_poll(struct net *net, struct pollfd *fds, nfds_t n)
{
	(void)net;
	return net_err(poll(fds, n, 0));
}

static inline int net_getsockopt(struct net *net, int fd, int level, int name, void *val,
				 socklen_t *len)
{
	(void)net;
	return net_err(getsockopt(fd, level, name, val, len));
}

static inline int net_getsockname(struct net *net, int fd, struct sockaddr_in *addr)
{
	socklen_t len = sizeof(*addr);
	(void)net;
	return net_err(getsockname(fd, (struct sockaddr *)addr, &len));
}

/* The kernel keeps no record of a connection's handshake that a program could read. */
static inline int net_handshake(struct net *net, int fd, struct ts_handshake *hs)
{
	(void)net, (void)fd, (void)hs;
	return -EOPNOTSUPP;
}

/* A readiness set (epoll(7)): its own descriptor is readable while a member is ready. */
static inline int net_set_create(struct net *net)
{
	(void)net;
	return net_err(epoll_create1(EPOLL_CLOEXEC));
}

/* fd waits for events in set (0: leaves it); was: what it waited for until now (0: not in). */
static inline int net_set_watch(struct net *net, int set, int fd, short was, short events, void *ptr)
{
	struct epoll_event ev = { .events = (uint32_t)(unsigned short)events, .data.ptr = ptr };
	(void)net;
	return net_err(epoll_ctl(set, !events ? EPOLL_CTL_DEL : was ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, fd, &ev));
}

/* Up to max ready members (data.ptr as watched); never waits. */
static inline int net_set_collect(struct net *net, int set, struct epoll_event *evs, int max)
{
	(void)net;
	return net_err(epoll_wait(set, evs, max, 0));
}

#else /* tapstack's own sockets */

#include "socket/socket.h"

struct net {
	struct socket_layer *sl; /* ts_stack_sockets(&stack) */
};

/* A non-blocking TCP/IPv4 socket. */
static inline int net_socket(struct net *net)
{
	int fd = ts_socket(net->sl, AF_INET, SOCK_STREAM, 0);
	int rc;

	if (fd < 0)
		return fd;
	rc = ts_set_nonblock(net->sl, fd, true);
	if (rc < 0) {
		ts_close(net->sl, fd);
		return rc;
	}
	return fd;
}

/* A non-blocking UDP/IPv4 socket. */
static inline int net_socket_dgram(struct net *net)
{
	return ts_socket(net->sl, AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
}

static inline int net_bind(struct net *net, int fd, const struct sockaddr_in *addr)
{
	return ts_bind(net->sl, fd, addr);
}

static inline int net_listen(struct net *net, int fd, int backlog)
{
	return ts_listen(net->sl, fd, backlog);
}

/* An established connection (non-blocking), or -EAGAIN when the accept queue is empty. */
static inline int net_accept(struct net *net, int fd, struct sockaddr_in *peer)
{
	return ts_accept(net->sl, fd, peer, SOCK_NONBLOCK);
}

static inline ssize_t net_send(struct net *net, int fd, const void *buf, size_t len)
{
	return ts_send(net->sl, fd, buf, len, MSG_DONTWAIT);
}

static inline ssize_t net_sendfile(struct net *net, int fd, int in_fd, uint64_t off, size_t count)
{
	return ts_sendfile(net->sl, fd, in_fd, off, count, 0);
}

static inline ssize_t net_recv(struct net *net, int fd, void *buf, size_t len)
{
	return ts_recv(net->sl, fd, buf, len, MSG_DONTWAIT);
}

/* One datagram and its sender; -EAGAIN when none is queued. */
static inline ssize_t net_recvfrom(struct net *net, int fd, void *buf, size_t len, struct sockaddr_in *from)
{
	return ts_recvfrom(net->sl, fd, buf, len, MSG_DONTWAIT, from);
}

/* One datagram to `to`. */
static inline ssize_t net_sendto(struct net *net, int fd, const void *buf, size_t len, const struct sockaddr_in *to)
{
	return ts_sendto(net->sl, fd, buf, len, MSG_DONTWAIT, to);
}

static inline int net_shutdown(struct net *net, int fd, int how)
{
	return ts_shutdown(net->sl, fd, how);
}

static inline int net_close(struct net *net, int fd)
{
	return ts_close(net->sl, fd);
}

static inline int net_setsockopt(struct net *net, int fd, int level, int name, const void *val,
				 socklen_t len)
{
	return ts_setsockopt(net->sl, fd, level, name, val, len);
}

/* Fills revents of each entry from the sockets' current state; never waits. */
static inline int net_poll(struct net *net, struct pollfd *fds, nfds_t n)
{
	return ts_poll(net->sl, fds, n);
}

static inline int net_getsockopt(struct net *net, int fd, int level, int name, void *val,
				 socklen_t *len)
{
	return ts_getsockopt(net->sl, fd, level, name, val, len);
}

static inline int net_getsockname(struct net *net, int fd, struct sockaddr_in *addr)
{
	return ts_getsockname(net->sl, fd, addr);
}

/* What the stack saw of this connection's handshake (struct ts_handshake). */
static inline int net_handshake(struct net *net, int fd, struct ts_handshake *hs)
{
	return ts_handshake(net->sl, fd, hs);
}

/* A readiness set (stack/socket/ready.c): its own descriptor polls POLLIN while a member
 * is ready, and collecting costs the members that changed, not all of them. */
static inline int net_set_create(struct net *net)
{
	return ts_epoll_create(net->sl, 0);
}

/* fd waits for events in set (0: leaves it); was: what it waited for until now (0: not in). */
static inline int net_set_watch(struct net *net, int set, int fd, short was, short events, void *ptr)
{
	struct epoll_event ev = { .events = (uint32_t)(unsigned short)events, .data.ptr = ptr };
	return ts_epoll_ctl(net->sl, set, !events ? EPOLL_CTL_DEL : was ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, fd, &ev);
}

/* Up to max ready members (data.ptr as watched); never waits. */
static inline int net_set_collect(struct net *net, int set, struct epoll_event *evs, int max)
{
	return ts_epoll_collect(net->sl, set, evs, max);
}

#endif /* NET_KERNEL */

/* 0.0.0.0:port */
static inline struct sockaddr_in net_any_addr(uint16_t port)
{
	struct sockaddr_in sin;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(port);
	sin.sin_addr.s_addr = htonl(INADDR_ANY);
	return sin;
}

/* A UDP socket bound to 0.0.0.0:port (the UDP servers' one socket). Returns the fd or -errno. */
static inline int net_bind_udp(struct net *net, uint16_t port)
{
	struct sockaddr_in sin = net_any_addr(port);
	int fd, rc;

	fd = net_socket_dgram(net);
	if (fd < 0)
		return fd;
	rc = net_bind(net, fd, &sin);
	if (rc < 0) {
		net_close(net, fd);
		return rc;
	}
	return fd;
}

/*
 * A listening socket on 0.0.0.0:port with SO_REUSEADDR (so a restarted server does not
 * wait for old TIME-WAIT connections) and the given backlog. Returns the fd or -errno.
 */
static inline int net_listen_tcp(struct net *net, uint16_t port, int backlog)
{
	struct sockaddr_in sin = net_any_addr(port);
	int one = 1;
	int fd, rc;

	fd = net_socket(net);
	if (fd < 0)
		return fd;
	/* Not every stack has every option; a missing SO_REUSEADDR is not fatal. */
	(void)net_setsockopt(net, fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	rc = net_bind(net, fd, &sin);
	if (rc == 0)
		rc = net_listen(net, fd, backlog);
	if (rc < 0) {
		net_close(net, fd);
		return rc;
	}
	return fd;
}

#endif
