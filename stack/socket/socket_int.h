/*
 * socket_int.h - the socket layer's private structures, shared by its files only:
 * socket.c (the descriptor table and the BSD calls) and ready.c (the readiness API).
 *
 * Applications see socket.h; nothing outside stack/socket/ includes this file.
 */
#ifndef TAPSTACK_SOCKET_SOCKET_INT_H
#define TAPSTACK_SOCKET_SOCKET_INT_H

#include "socket/socket.h"
#include "tcp/tcp.h"

enum ts_kind { TS_FREE, TS_NEW, TS_LISTENER, TS_CONN, TS_EPOLL };

struct ts_epitem;
struct ts_epoll;

struct ts_sock {
	uint8_t kind;               /* enum ts_kind */
	bool nonblock;
	bool bound;                 /* holds a port reservation (tcp_port_bind) */
	uint32_t laddr;             /* bound address, host order (0 = any) */
	uint16_t lport;
	int err;                    /* SO_ERROR for a socket without a connection */
	uint64_t rcvtimeo_us, sndtimeo_us; /* SO_RCVTIMEO / SO_SNDTIMEO for blocking callers; 0 = none */
	struct tcp_sockopts opts;   /* the options until a connection or listener owns them */
	struct tcp_listener *lis;
	struct tcp_conn *conn;
	struct ts_epitem *epitems;  /* the epoll sets watching this socket (ready.c) */
	struct ts_epoll *ep;        /* TS_EPOLL: the set itself */
};

/* The live entry for fd, or NULL (free or out of range). */
struct ts_sock *ts_get(struct socket_layer *sl, int fd);

/* A new descriptor (lowest free, kind TS_NEW, zeroed) or -ENOMEM. */
int ts_alloc(struct socket_layer *sl);

/* ready.c: the socket's poll state may have changed: queue it on every set watching it. */
void ts_ready_wake(struct socket_layer *sl, int fd);
/* ready.c: fd is being closed: leave every set (and, for a set, free it). */
void ts_ready_forget(struct socket_layer *sl, int fd);
/* ready.c: a set's own poll state: POLLIN while a registered socket is ready. */
short ts_epoll_revents(struct socket_layer *sl, int epfd);

#endif
