/*
 * stall.c - a listener that never calls accept(), to watch the accept queue fill.
 *
 * The stack completes each handshake by itself and queues the connection for accept();
 * nobody takes it, so after `backlog` connections the queue is full and the stack drops
 * further SYNs (Linux's default; counted as ListenOverflows/ListenDrops). Clients then
 * time out instead of being refused: `tapstack ss` shows the LISTEN socket with Recv-Q at
 * the backlog. See docs/listen-and-accept.md and tests/net/test_tcp_stall.sh.
 */
#include <stdlib.h>
#include <string.h>

#include "apps/servers.h"

struct stall {
	struct app app;
	struct net *net;
	int fd;
};

/* Nothing to wait for: the whole point is that nobody looks at this socket. */
static int stall_collect(void *state, struct pollfd *fds, int max)
{
	(void)state;
	(void)fds;
	(void)max;
	return 0;
}

static void stall_dispatch(void *state, const struct pollfd *fds, int n)
{
	(void)state;
	(void)fds;
	(void)n;
}

static void stall_stop(void *state)
{
	struct stall *s = state;

	net_close(s->net, s->fd);
	free(s);
}

struct app *stall_app_create(struct net *net, uint16_t port, int backlog)
{
	struct stall *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->net = net;
	s->fd = net_listen_tcp(net, port, backlog);
	if (s->fd < 0) {
		app_log("stall: cannot listen on port %u: %s", port, strerror(-s->fd));
		free(s);
		return NULL;
	}
	app_log("stall: listening on port %u (backlog %d), never calling accept()", port, backlog);
	s->app = (struct app){ .name = "stall", .state = s, .collect = stall_collect,
			       .dispatch = stall_dispatch, .stop = stall_stop };
	return &s->app;
}
