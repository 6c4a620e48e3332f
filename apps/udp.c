/*
 * udp.c - the UDP Echo (RFC 862) and Discard (RFC 863) services.
 *
 * RFC 862: "a server listens for UDP datagrams on UDP port 7. When a datagram is received,
 * the data from it is sent back in an answering datagram." RFC 863 keeps it: "throw away
 * any received datagrams". Neither has connections, so a server is one socket bound to
 * 0.0.0.0:port and a loop of recvfrom() (and sendto() back, for echo) while datagrams are
 * queued, up to a budget per wake-up so a flood cannot starve the program's other servers.
 *
 * UDP promises no delivery: an echo that cannot be sent at once (no buffer: -ENOBUFS, or
 * -EAGAIN) is dropped and counted, never retried, and nothing else waits for it. The counts
 * are logged when the server stops. Written against apps/net.h only, like the TCP servers,
 * so the kernel build (apps/kernel/main.c) runs the same code.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "apps/servers.h"

/* Datagrams per wake-up. */
#define UDP_SERVER_BUDGET 256
/* The largest UDP payload over IPv4 (65535 - 20 - 8) fits. */
#define UDP_SERVER_BUF 65536

struct udp_server {
	struct app app;
	const char *name;          /* "udp-echo" or "udp-discard" */
	struct net *net;
	int fd;
	bool echo;
	uint64_t received, echoed, not_sent;
	char buf[UDP_SERVER_BUF];
};

static int udp_server_collect(void *state, struct pollfd *fds, int max)
{
	struct udp_server *u = state;
	if (max < 1)
		return 0;
	fds[0] = (struct pollfd){ .fd = u->fd, .events = POLLIN };
	return 1;
}

static void udp_server_dispatch(void *state, const struct pollfd *fds, int n)
{
	struct udp_server *u = state;
	if (n < 1 || !fds[0].revents)
		return;
	for (int i = 0; i < UDP_SERVER_BUDGET; i++) {
		struct sockaddr_in from;
		ssize_t len = net_recvfrom(u->net, u->fd, u->buf, sizeof(u->buf), &from);
		if (len == -EAGAIN)
			return;
		if (len < 0)
			continue;       /* a pending error (none on an unconnected socket): take the next */
		u->received++;
		if (!u->echo)
			continue;
		if (net_sendto(u->net, u->fd, u->buf, (size_t)len, &from) == len)
			u->echoed++;
		else
			u->not_sent++;  /* UDP: dropped, as a full queue anywhere on the path would */
	}
}

static void udp_server_stop(void *state)
{
	struct udp_server *u = state;
	if (u->echo)
		app_log("%s: %llu datagrams in, %llu echoed, %llu not sent", u->name,
		        (unsigned long long)u->received, (unsigned long long)u->echoed,
		        (unsigned long long)u->not_sent);
	else
		app_log("%s: %llu datagrams in, all discarded", u->name, (unsigned long long)u->received);
	net_close(u->net, u->fd);
	free(u);
}

static struct app *udp_server_create(struct net *net, uint16_t port, bool echo)
{
	const char *name = echo ? "udp-echo" : "udp-discard";
	struct udp_server *u = calloc(1, sizeof(*u));
	if (!u) {
		app_log("%s: out of memory", name);
		return NULL;
	}
	u->name = name;
	u->net = net;
	u->echo = echo;
	u->fd = net_bind_udp(net, port);
	if (u->fd < 0) {
		app_log("%s: cannot bind UDP port %u: %s", name, port, strerror(-u->fd));
		free(u);
		return NULL;
	}
	app_log("%s: bound to UDP port %u", name, port);
	u->app = (struct app){ .name = name, .state = u, .collect = udp_server_collect,
		               .dispatch = udp_server_dispatch, .stop = udp_server_stop };
	return &u->app;
}

struct app *udp_echo_app_create(struct net *net, uint16_t port)
{
	return udp_server_create(net, port, true);
}

struct app *udp_discard_app_create(struct net *net, uint16_t port)
{
	return udp_server_create(net, port, false);
}
