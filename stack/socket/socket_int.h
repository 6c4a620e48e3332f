/*
 * socket_int.h - the socket layer's private structures and small helpers, shared by its
 * files only: socket.c (the descriptor table and the BSD calls), sockopt.c (the options),
 * socket_udp.c (the datagram calls) and ready.c (the readiness API). Applications see socket.h.
 */
#ifndef TAPSTACK_SOCKET_SOCKET_INT_H
#define TAPSTACK_SOCKET_SOCKET_INT_H

#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>

#include "ip/ip.h"
#include "socket/socket.h"
#include "tcp/tcp.h"

enum ts_kind { TS_FREE, TS_NEW, TS_LISTENER, TS_CONN, TS_UDP, TS_EPOLL };

struct ts_epitem;
struct ts_epoll;
struct udp_sock;

struct ts_sock {
	uint8_t kind;               /* enum ts_kind */
	bool nonblock;
	bool bound;                 /* holds a port reservation (tcp_port_bind) */
	bool bound_reuseport;       /* ... taken with SO_REUSEPORT */
	bool open_failure_told;     /* connect() reported its connection's failure: the next
	                             * connect starts over (Linux's SS_UNCONNECTED) */
	bool connected_told;        /* connect() returned 0 (or accept() made it): a further
	                             * connect() is EISCONN (Linux's SS_CONNECTED) */
	uint16_t lport;
	uint32_t laddr;             /* bound address, host order (0 = any) */
	int err;                    /* SO_ERROR for a socket without a connection */
	uint64_t rcvtimeo_us, sndtimeo_us; /* SO_RCVTIMEO / SO_SNDTIMEO for blocking callers; 0 = none */
	/* The options until a connection or listener owns them (then see ts_opts, sockopt.c):
	 * allocated by socket() for TCP, NULL on an accepted socket, whose connection owns its
	 * options for good (a pointer, not a copy: an accepted connection holds one set). */
	struct tcp_sockopts *opts;
	struct tcp_listener *lis;
	struct tcp_conn *conn;
	struct udp_sock *udp;       /* TS_UDP: the datagram socket (socket_udp.c does its calls) */
	struct ts_epitem *epitems;  /* the epoll sets watching this socket (ready.c) */
	struct ts_epoll *ep;        /* TS_EPOLL: the set itself */
};

/* The live entry for fd, or NULL (free or out of range). */
struct ts_sock *ts_get(struct socket_layer *sl, int fd);

/* A socket descriptor for the BSD calls: NULL with *err -EBADF (not open) or -ENOTSOCK
 * (an epoll set, as Linux answers socket calls on a non-socket descriptor). */
struct ts_sock *ts_sock_of(struct socket_layer *sl, int fd, int *err);

/* A new descriptor (lowest free, kind TS_NEW, zeroed) or -ENOMEM. */
int ts_alloc(struct socket_layer *sl);

/* ready.c: the socket's poll state may have changed: queue it on every set watching it. */
void ts_ready_wake(struct socket_layer *sl, int fd);
/* ready.c: fd is being closed: leave every set (and, for a set, free it). */
void ts_ready_forget(struct socket_layer *sl, int fd);
/* ready.c: a set's own poll state: POLLIN while a registered socket is ready. */
short ts_epoll_revents(struct socket_layer *sl, int epfd);

/* A sockaddr_in for addr:port (host order). */
static inline void ts_fill_addr(struct sockaddr_in *a, uint32_t addr, uint16_t port)
{
	memset(a, 0, sizeof(*a));
	a->sin_family = AF_INET;
	a->sin_addr.s_addr = htonl(addr);
	a->sin_port = htons(port);
}

/* setsockopt's int argument, or -EINVAL when it is missing or short. */
static inline int ts_int_arg(const void *val, socklen_t len, int *out)
{
	if (!val || len < (socklen_t)sizeof(int))
		return -EINVAL;
	memcpy(out, val, sizeof(int));
	return 0;
}

/* getsockopt's int answer: -EFAULT without a buffer or a length (Linux's get_user and
 * copy_to_user fail), -EINVAL for a negative length; a shorter room gets the int's first
 * bytes and that length, as Linux's sk_getsockopt and do_tcp_getsockopt copy min(len, 4). */
static inline int ts_put_int(void *val, socklen_t *len, int v)
{
	if (!val || !len)
		return -EFAULT;
	if ((int)*len < 0)
		return -EINVAL;
	socklen_t n = *len < (socklen_t)sizeof(int) ? *len : (socklen_t)sizeof(int);
	memcpy(val, &v, n);
	*len = n;
	return 0;
}

/* The same for an IPPROTO_IP option: Linux's do_ip_getsockopt answers a room of 1 to 3
 * bytes with one unsigned char when the value fits. */
static inline int ts_put_ip_int(void *val, socklen_t *len, int v)
{
	if (val && len && *len > 0 && *len < (socklen_t)sizeof(int) && v >= 0 && v <= 255) {
		*(unsigned char *)val = (unsigned char)v;
		*len = 1;
		return 0;
	}
	return ts_put_int(val, len, v);
}

/* getsockopt at a level neither the socket layer nor the protocol knows: Linux's
 * ip_getsockopt says EOPNOTSUPP (setsockopt says ENOPROTOOPT). */
#define TS_GETSOCKOPT_BAD_LEVEL (-EOPNOTSUPP)

/* The SOL_SOCKET options a socket of this type and protocol answers the same way whatever
 * it holds (SO_TYPE, SO_PROTOCOL, SO_DOMAIN, and Linux's low-water marks of 1): 0 when
 * name is one of them, -ENOPROTOOPT otherwise. */
static inline int ts_get_fixed_opt(int name, int type, int proto, void *val, socklen_t *len)
{
	switch (name) {
	case SO_TYPE:
		return ts_put_int(val, len, type);
	case SO_PROTOCOL:
		return ts_put_int(val, len, proto);
	case SO_DOMAIN:
		return ts_put_int(val, len, AF_INET);
	case SO_RCVLOWAT:
	case SO_SNDLOWAT:
		return ts_put_int(val, len, 1); /* not settable here */
	default:
		return -ENOPROTOOPT;
	}
}

/* Linux's IP-level options take a char as well as an int (do_ip_setsockopt). */
static inline int ts_ip_arg(const void *val, socklen_t len, int *out)
{
	if (!val || len < 1)
		return -EINVAL;
	*out = len >= (socklen_t)sizeof(int) ? *(const int *)val : *(const unsigned char *)val;
	return 0;
}

/* IP_TTL as Linux's do_ip_setsockopt takes it: 1 to 255, or -1 for the stack's default
 * (kept as 0, struct ip_hdr_choice); anything else EINVAL. */
static inline int ts_ttl_arg(int v, uint8_t *ttl)
{
	if (v != -1 && (v < 1 || v > 255))
		return -EINVAL;
	*ttl = v == -1 ? 0 : (uint8_t)v;
	return 0;
}

/* IP_TTL read back: the socket's own, or the TTL its datagrams get (ip_config.ttl). */
static inline int ts_ttl_get(const struct ip_layer *ip, uint8_t ttl, void *val, socklen_t *len)
{
	return ts_put_ip_int(val, len, ttl ? ttl : ip ? ip->cfg.ttl : IP_TTL_DEFAULT);
}

/*
 * SO_RCVBUF / SO_SNDBUF as Linux's sock_setsockopt sets them, for TCP and UDP alike: the
 * value (a negative one read as unsigned) clamped to net.core.rmem_max / wmem_max (`max`),
 * then doubled (bookkeeping overhead), at least SOCK_MIN_RCVBUF / SOCK_MIN_SNDBUF
 * (2304 / 4608).
 */
#define TS_CORE_MEM_MAX 212992u /* Linux's net.core.rmem_max and wmem_max (udp_config keeps them) */
static inline uint32_t ts_bufsize(int name, int v, uint32_t max)
{
	uint64_t d = 2ull * ((uint32_t)v < max ? (uint32_t)v : max);
	uint64_t floor = name == SO_RCVBUF ? 2304 : 4608;
	d = d < floor ? floor : d;
	return (uint32_t)(d > 0x7fffffff ? 0x7fffffff : d);
}

#endif
