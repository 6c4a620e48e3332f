/*
 * socket.h - the application's API: BSD-style calls on small integer descriptors.
 *
 * Implemented in socket.c on top of the TCP layer (stack/tcp/tcp.h) and, for SOCK_DGRAM,
 * socket_udp.c on top of the UDP layer (stack/udp/udp.h). Its users: the demo
 * servers (through apps/net.h), the blocking facade (stack/blocking.h) and the packetdrill
 * runner (tests/drill/syscalls.c), which maps each script system call onto one ts_* call.
 *
 * Every call returns >= 0 on success or a negative errno (-EAGAIN, -EINPROGRESS,
 * -ECONNREFUSED, -ECONNRESET, -ETIMEDOUT, -EADDRINUSE, -EPIPE, -ENOTCONN, -EBADF,
 * -EINVAL, ...). Constants are the system's own (AF_INET, SOCK_STREAM, SOCK_NONBLOCK,
 * SHUT_WR, MSG_PEEK, MSG_DONTWAIT, SOL_SOCKET, SO_REUSEADDR, IPPROTO_TCP, TCP_NODELAY,
 * POLLIN, ...), so an app written against this API also builds against the kernel's
 * sockets with a thin shim, and packetdrill's system calls map one to one.
 *
 * Every call is non-blocking at this layer: a socket in blocking mode only changes what
 * the *caller* does with -EAGAIN (the event loop in stack/loop.c, or the packetdrill
 * runner in virtual time, waits and retries). The core is single-threaded.
 */
#ifndef TAPSTACK_SOCKET_SOCKET_H
#define TAPSTACK_SOCKET_SOCKET_H

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/types.h>
#include "core/api.h"

TS_EXTERN_C_BEGIN

struct tcp_layer;
struct tcp_conn;
struct tcp_listener;
struct udp_layer;

/* One descriptor: a fresh socket, a listener or a connection. Options live here until a
 * connection or listener exists, which takes a copy (stack/socket/socket.c). */
struct ts_sock;

struct socket_layer {
	struct tcp_layer *tcp;
	struct udp_layer *udp;
	struct ts_sock *socks;      /* index = descriptor */
	uint32_t cap;               /* entries allocated */
	uint32_t used;              /* entries initialised: descriptors below this were handed out once */
	uint32_t lowest_free;       /* no free descriptor below this one */
	uint32_t open;              /* descriptors in use */
};

/* The first descriptor handed out, as a process whose 0-2 are stdio would see. */
#define TS_FD_FIRST 3

int socket_layer_init(struct socket_layer *sl, struct tcp_layer *tcp, struct udp_layer *udp);
/* Closes every descriptor still open (connections are reset), frees the table. */
void socket_layer_destroy(struct socket_layer *sl);

/* AF_INET with SOCK_STREAM (TCP) or SOCK_DGRAM (UDP), maybe | SOCK_NONBLOCK | SOCK_CLOEXEC. */
TS_API int ts_socket(struct socket_layer *sl, int domain, int type, int protocol);
TS_API int ts_bind(struct socket_layer *sl, int fd, const struct sockaddr_in *addr);
TS_API int ts_listen(struct socket_layer *sl, int fd, int backlog);
/* Dequeues an established connection; -EAGAIN when the accept queue is empty. flags: SOCK_NONBLOCK. */
TS_API int ts_accept(struct socket_layer *sl, int fd, struct sockaddr_in *peer, int flags);
/* Starts an active open: -EINPROGRESS; completion shows as POLLOUT (or POLLERR with SO_ERROR). */
TS_API int ts_connect(struct socket_layer *sl, int fd, const struct sockaddr_in *addr);
/* Copies what fits in the send buffer (partial writes); -EAGAIN when it is full. MSG_OOB:
 * the last byte queued is urgent (docs/tcp.md "Urgent data"). */
TS_API ssize_t ts_send(struct socket_layer *sl, int fd, const void *buf, size_t len, int flags);
/*
 * sendfile(2) for a TCP socket: up to count bytes of the file in_fd from offset off go into
 * the send buffer, read with pread(2) straight into it (the kernel's copy, none of ours;
 * the file position is not used or moved). Returns the bytes queued (fewer: the buffer
 * filled, or the file ended), 0 when off is at the end of the file, -EAGAIN when the buffer
 * is full, Linux's sendfile errno when the file cannot be read (-EBADF: not open for reading,
 * -ESPIPE: a pipe or socket, -EINVAL: a directory or an offset past INT64_MAX), or as ts_send.
 * flags: MSG_MORE, MSG_EOR as ts_send. -EINVAL on a UDP socket.
 */
TS_API ssize_t ts_sendfile(struct socket_layer *sl, int fd, int in_fd, uint64_t off, size_t count, int flags);
/* Bytes read, 0 at end of stream, -EAGAIN when nothing is there. flags: MSG_PEEK, MSG_DONTWAIT,
 * MSG_OOB (the urgent byte: 1, -EINVAL when there is none, -EAGAIN before it arrived). */
TS_API ssize_t ts_recv(struct socket_layer *sl, int fd, void *buf, size_t len, int flags);
/*
 * The datagram calls (and the same on TCP, where the address is ignored as on Linux). A UDP
 * send is one datagram (-EMSGSIZE above 65507 bytes; -EDESTADDRREQ with no destination on
 * an unconnected socket); a UDP receive is one datagram, the rest of it discarded unless
 * MSG_PEEK, and with MSG_TRUNC the datagram's whole length is returned. from gets the
 * sender (may be NULL). After an ICMP port unreachable, a connected UDP socket's next call
 * returns -ECONNREFUSED once.
 */
TS_API ssize_t ts_sendto(struct socket_layer *sl, int fd, const void *buf, size_t len, int flags,
                         const struct sockaddr_in *to);
TS_API ssize_t ts_recvfrom(struct socket_layer *sl, int fd, void *buf, size_t len, int flags, struct sockaddr_in *from);
/* sendmsg/recvmsg: msg_name a struct sockaddr_in (or NULL); recvmsg sets MSG_TRUNC in msg_flags. */
TS_API ssize_t ts_sendmsg(struct socket_layer *sl, int fd, const struct msghdr *msg, int flags);
TS_API ssize_t ts_recvmsg(struct socket_layer *sl, int fd, struct msghdr *msg, int flags);
/*
 * A stream's sendmsg made of sends: the pieces of msg in turn through send_piece(ctx, ...),
 * up to the first short one (ts_sendmsg with ts_send_piece, whose ctx is the socket layer;
 * the blocking facade with its blocking send).
 */
TS_API ssize_t ts_sendmsg_pieces(void *ctx, int fd, const struct msghdr *msg, int flags,
                                 ssize_t (*send_piece)(void *ctx, int fd, const void *buf, size_t len, int flags));
TS_API ssize_t ts_send_piece(void *sl, int fd, const void *buf, size_t len, int flags);
TS_API int ts_shutdown(struct socket_layer *sl, int fd, int how);
TS_API int ts_close(struct socket_layer *sl, int fd);
TS_API int ts_setsockopt(struct socket_layer *sl, int fd, int level, int name, const void *val, socklen_t len);
TS_API int ts_getsockopt(struct socket_layer *sl, int fd, int level, int name, void *val, socklen_t *len);
TS_API int ts_getsockname(struct socket_layer *sl, int fd, struct sockaddr_in *addr);
TS_API int ts_getpeername(struct socket_layer *sl, int fd, struct sockaddr_in *addr);
/* fcntl(F_SETFL, O_NONBLOCK) / F_GETFL equivalents. */
TS_API int ts_set_nonblock(struct socket_layer *sl, int fd, bool on);
TS_API int ts_get_nonblock(struct socket_layer *sl, int fd);
/* ioctl(SIOCINQ) / FIONREAD: bytes ready to read (UDP: the next datagram's length, as Linux). */
TS_API int ts_inq(struct socket_layer *sl, int fd);
/* ioctl(SIOCOUTQ) (TIOCOUTQ): bytes written and not yet acknowledged; with notsent
 * (SIOCOUTQNSD) only those not yet sent. -EINVAL on a listener; UDP: 0 (a datagram leaves
 * at once). */
TS_API int ts_outq(struct socket_layer *sl, int fd, bool notsent);
/* ioctl(SIOCATMARK) / sockatmark(): 1 when the next byte to read is the urgent one, else 0. */
TS_API int ts_atmark(struct socket_layer *sl, int fd);
/* SO_RCVTIMEO (send false) or SO_SNDTIMEO in microseconds, 0 = none: for callers that wait. */
TS_API uint64_t ts_timeo_us(struct socket_layer *sl, int fd, bool send);
/* 1 while sent data or our FIN is unacknowledged (SO_LINGER's wait), 0 when not, or -errno. */
TS_API int ts_unacked(struct socket_layer *sl, int fd);
/* Current readiness of one socket as poll(2) revents: POLLIN, POLLPRI, POLLOUT, POLLRDHUP, POLLHUP, POLLERR. */
TS_API short ts_revents(struct socket_layer *sl, int fd);
struct ts_handshake;
/* The handshake of an accepted connection as the stack saw it (struct ts_handshake, tcp.h):
 * 0, or -EBADF / -ENOTCONN. Active opens report zeros. */
TS_API int ts_handshake(struct socket_layer *sl, int fd, struct ts_handshake *hs);
/* Fills revents for each entry (masked by events, plus POLLHUP/POLLERR/POLLNVAL); returns how many are ready. Never waits. */
TS_API int ts_poll(struct socket_layer *sl, struct pollfd *fds, nfds_t n);

TS_EXTERN_C_END

/*
 * Readiness (stack/socket/ready.c): epoll(7) over ts_* sockets, with Linux's constants and
 * struct epoll_event. A set is a descriptor in the same table (ts_close frees it). A
 * registered socket joins its sets' ready lists when its state changes, so collecting
 * costs the sockets that changed, not the sockets registered. EPOLLIN, EPOLLOUT,
 * EPOLLRDHUP, EPOLLERR, EPOLLHUP as ts_revents; EPOLLET (edge: reported once per change),
 * EPOLLONESHOT (disarmed after one report until EPOLL_CTL_MOD), EPOLLEXCLUSIVE (accepted:
 * one waiter per set here). Closing a socket removes it from every set.
 */
/* flags: 0 or EPOLL_CLOEXEC (recorded nowhere: there is no exec). -EINVAL otherwise. */
TS_API int ts_epoll_create(struct socket_layer *sl, int flags);
/* EPOLL_CTL_ADD / MOD / DEL: -EBADF, -EINVAL (not a set, fd == epfd, a set inside a set),
 * -EEXIST, -ENOENT, -EFAULT (no event for ADD/MOD), -ENOMEM as Linux's epoll_ctl. */
TS_API int ts_epoll_ctl(struct socket_layer *sl, int epfd, int op, int fd, const struct epoll_event *ev);
/* Up to max ready events, oldest change first; 0 when none. Never waits (stack_epoll_wait
 * in stack.h and blocking_epoll_wait wait). */
TS_API int ts_epoll_collect(struct socket_layer *sl, int epfd, struct epoll_event *evs, int max);
/* Whether a collect would return something now (a look at the candidates only). */
TS_API bool ts_epoll_pending(struct socket_layer *sl, int epfd);
/* fn(arg) runs (inside the stack) each time the set's ready list stops being empty: how a
 * waiter in another thread or a kernel event loop learns to collect (it must not call
 * back into the stack). NULL to stop. */
TS_API void ts_epoll_set_notify(struct socket_layer *sl, int epfd, void (*fn)(void *arg), void *arg);
/* A waiter that collects before it sleeps says when it sleeps (+1) and wakes (-1); from the
 * first call on, the notification runs only while one sleeps: a waiter that is awake
 * collects the change itself, so nobody reads a wake-up nobody waited for. */
TS_API void ts_epoll_set_sleepers(struct socket_layer *sl, int epfd, int delta);

#endif
