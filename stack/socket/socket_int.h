/*
 * socket_int.h - small helpers socket.c and socket_udp.c share (not part of the API).
 */
#ifndef TAPSTACK_SOCKET_SOCKET_INT_H
#define TAPSTACK_SOCKET_SOCKET_INT_H

#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>

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

/* getsockopt's int answer, or -EINVAL when the caller's room is short. */
static inline int ts_put_int(void *val, socklen_t *len, int v)
{
	if (!val || !len || *len < (socklen_t)sizeof(int))
		return -EINVAL;
	memcpy(val, &v, sizeof(int));
	*len = sizeof(int);
	return 0;
}

/* Linux's IP-level options take a char as well as an int (do_ip_setsockopt). */
static inline int ts_ip_arg(const void *val, socklen_t len, int *out)
{
	if (!val || len < 1)
		return -EINVAL;
	*out = len >= (socklen_t)sizeof(int) ? *(const int *)val : *(const unsigned char *)val;
	return 0;
}

/*
 * SO_RCVBUF / SO_SNDBUF as Linux sets them, for TCP and UDP alike: the value doubled
 * (bookkeeping overhead), at least SOCK_MIN_RCVBUF / SOCK_MIN_SNDBUF (2304 / 4608), at
 * most INT_MAX.
 */
static inline uint32_t ts_bufsize(int name, int v)
{
	uint64_t d = v < 0 ? 0 : 2ull * (uint32_t)v;
	uint64_t floor = name == SO_RCVBUF ? 2304 : 4608;
	d = d < floor ? floor : d;
	return (uint32_t)(d > 0x7fffffff ? 0x7fffffff : d);
}

#endif
