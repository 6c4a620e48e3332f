/*
 * discard.c - the Discard service (RFC 863): read everything, answer nothing.
 *
 * A connection needs no state of its own: all reads land in one scratch buffer shared by
 * the whole server and are thrown away. When the client closes (recv returns 0) or the
 * connection fails, we close too. Used by `make bench` to measure upload throughput.
 */
#include <stdlib.h>

#include "apps/server.h"
#include "apps/servers.h"

#define DISCARD_SCRATCH_BYTES (64 * 1024)
/* Per wake-up and connection, so one fast sender cannot starve the others. */
#define DISCARD_BUDGET_BYTES (1024 * 1024)

struct discard {
	struct app app;
	struct server srv;
	char scratch[DISCARD_SCRATCH_BYTES];
};

static short discard_events(struct server *srv, struct conn *c)
{
	(void)srv;
	(void)c;
	return POLLIN;
}

static void discard_ready(struct server *srv, struct conn *c, short revents)
{
	struct discard *d = CONTAINER_OF(srv, struct discard, srv);
	size_t total = 0;

	(void)revents;
	while (total < DISCARD_BUDGET_BYTES) {
		ssize_t n = net_recv(srv->net, c->fd, d->scratch, sizeof(d->scratch));

		if (n == -EAGAIN)
			return;
		if (n <= 0) { /* end of stream, or the connection failed */
			server_conn_close(srv, c);
			return;
		}
		total += (size_t)n;
	}
}

static const struct server_ops discard_ops = {
	.conn_size = sizeof(struct conn),
	.events = discard_events,
	.ready = discard_ready,
};

static int discard_collect(void *state, struct pollfd *fds, int max)
{
	return server_collect(&((struct discard *)state)->srv, fds, max);
}

static void discard_dispatch(void *state, const struct pollfd *fds, int n)
{
	server_dispatch(&((struct discard *)state)->srv, fds, n);
}

static void discard_stop(void *state)
{
	server_destroy(&((struct discard *)state)->srv);
	free(state);
}

struct app *discard_app_create(struct net *net, uint16_t port, int backlog)
{
	struct discard *d = calloc(1, sizeof(*d));

	if (!d)
		return NULL;
	if (server_init(&d->srv, net, "discard", port, backlog, APP_MAX_CONNS_DEFAULT,
			&discard_ops) < 0) {
		free(d);
		return NULL;
	}
	d->app = (struct app){ .name = "discard", .state = d, .collect = discard_collect,
			       .dispatch = discard_dispatch, .stop = discard_stop };
	return &d->app;
}
