/*
 * discard.c - the Discard service (RFC 863): read everything, answer nothing.
 *
 * A connection needs no state of its own: all reads land in one scratch buffer shared by
 * the whole server and are thrown away. When the client closes (recv returns 0) or the
 * connection fails, we close too. Used by `make bench` to measure upload throughput.
 */

#include "apps/server.h"
#include "apps/servers.h"

#define DISCARD_SCRATCH_BYTES (64 * 1024)
/* Per wake-up and connection, so one fast sender cannot starve the others. */
#define DISCARD_BUDGET_BYTES (1024 * 1024)

struct discard {
	struct server srv; /* first: server_create() makes and frees the whole struct */
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

struct app *discard_app_create(struct net *net, uint16_t port, int backlog)
{
	return server_create(sizeof(struct discard), net, "discard", port, backlog,
			     APP_MAX_CONNS_DEFAULT, &discard_ops);
}
