/*
 * server.c - the listener and connection table shared by the demo servers (see server.h).
 *
 * The program's loop calls collect/dispatch (through struct app) once per iteration.
 * Owns the listening socket, every accepted connection (a malloc'd app struct beginning
 * with struct conn, freed on close) and two arrays of max_conns pointers; for an app made
 * by server_create(), also the app struct itself (freed by its stop()).
 *
 * The order contract of apps/app.h: dispatch() gets back exactly the entries collect()
 * appended, in the same order, so `polled[i]` names the owner of fds[i]. A connection
 * closed during dispatch was appended at most once, so no later entry refers to it;
 * connections accepted during dispatch are not in `polled` and wait for the next round.
 */
#include "apps/server.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apps/app.h"

static time_t server_clock(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return ts.tv_sec;
}

int server_init(struct server *srv, struct net *net, const char *name, uint16_t port,
		int backlog, uint32_t max_conns, const struct server_ops *ops)
{
	memset(srv, 0, sizeof(*srv));
	srv->name = name;
	srv->net = net;
	srv->ops = ops;
	srv->max_conns = max_conns ? max_conns : 1;
	srv->clock = server_clock;
	srv->now = srv->swept = srv->clock();
	srv->active = calloc(srv->max_conns, sizeof(*srv->active));
	/* +1: the listener's entry. */
	srv->polled = calloc(srv->max_conns + 1, sizeof(*srv->polled));
	if (!srv->active || !srv->polled) {
		app_log("%s: out of memory for %u connections", name, srv->max_conns);
		server_destroy(srv);
		return -ENOMEM;
	}
	srv->listen_fd = net_listen_tcp(net, port, backlog);
	if (srv->listen_fd < 0) {
		int err = srv->listen_fd;

		app_log("%s: cannot listen on port %u: %s", name, port, strerror(-err));
		server_destroy(srv);
		return err;
	}
	app_log("%s: listening on port %u (backlog %d)", name, port, backlog);
	return 0;
}

void server_conn_close(struct server *srv, struct conn *c)
{
	struct conn *last;

	if (srv->ops->closed)
		srv->ops->closed(srv, c);
	net_close(srv->net, c->fd);
	/* Swap-remove keeps `active` dense: O(1), order does not matter. */
	last = srv->active[--srv->nconns];
	srv->active[c->index] = last;
	last->index = c->index;
	free(c);
}

void server_destroy(struct server *srv)
{
	while (srv->nconns > 0)
		server_conn_close(srv, srv->active[srv->nconns - 1]);
	if (srv->active && srv->listen_fd >= 0)
		net_close(srv->net, srv->listen_fd);
	free(srv->active);
	free(srv->polled);
	srv->active = srv->polled = NULL;
	srv->listen_fd = -1;
}

/* "10.0.0.1:53422" for log lines. */
static const char *server_peer_str(const struct conn *c, char *buf, size_t size)
{
	char ip[INET_ADDRSTRLEN];

	inet_ntop(AF_INET, &c->peer.sin_addr, ip, sizeof(ip));
	snprintf(buf, size, "%s:%u", ip, ntohs(c->peer.sin_port));
	return buf;
}

/* Closes connections whose deadline passed. Runs at most once a second: a full scan is
 * then cheap next to the poll of every connection the loop does anyway. */
static void server_sweep(struct server *srv)
{
	uint32_t i;

	srv->now = srv->clock();
	if (srv->now == srv->swept)
		return;
	srv->swept = srv->now;
	/* Backwards: the swap-remove in server_conn_close only moves an entry already seen. */
	for (i = srv->nconns; i-- > 0;) {
		struct conn *c = srv->active[i];

		char peer[INET_ADDRSTRLEN + 8];

		if (c->deadline && c->deadline <= srv->now) {
			app_log("%s: closing %s, its deadline passed", srv->name,
				server_peer_str(c, peer, sizeof(peer)));
			server_conn_close(srv, c);
		}
	}
}

int server_collect(struct server *srv, struct pollfd *fds, int max)
{
	uint32_t i, start, room;
	int n = 0;

	server_sweep(srv);
	srv->npolled = 0;
	/* At the bound we stop accepting: new connections wait in the stack's accept queue. */
	if (srv->nconns < srv->max_conns && srv->now >= srv->accept_paused_until && n < max) {
		fds[n] = (struct pollfd){ .fd = srv->listen_fd, .events = POLLIN };
		srv->polled[n++] = NULL;
	}
	if (srv->nconns == 0 || n >= max) {
		srv->npolled = (uint32_t)n;
		return n;
	}
	room = (uint32_t)(max - n);
	/* When not all connections fit, start where the last round stopped, so each gets its turn. */
	start = srv->nconns > room ? srv->rotate % srv->nconns : 0;
	for (i = 0; i < srv->nconns && n < max; i++) {
		struct conn *c = srv->active[(start + i) % srv->nconns];
		short ev = srv->ops->events(srv, c);

		if (!ev)
			continue;
		fds[n] = (struct pollfd){ .fd = c->fd, .events = ev };
		srv->polled[n++] = c;
	}
	srv->rotate = start + i;
	srv->npolled = (uint32_t)n;
	return n;
}

static void server_accept(struct server *srv)
{
	int i;

	for (i = 0; i < SERVER_ACCEPT_BATCH && srv->nconns < srv->max_conns; i++) {
		struct sockaddr_in peer;
		struct conn *c;
		char name[INET_ADDRSTRLEN + 8];
		int fd;

		memset(&peer, 0, sizeof(peer));
		fd = net_accept(srv->net, srv->listen_fd, &peer);
		if (fd == -EAGAIN || fd == -EWOULDBLOCK)
			return;
		if (fd == -ECONNABORTED)
			continue; /* reset while it waited in the queue: take the next one */
		if (fd < 0) {
			/* Out of descriptors or memory: the queue keeps the clients meanwhile. */
			app_log("%s: accept() failed: %s; pausing accepts for %d s", srv->name,
				strerror(-fd), SERVER_ACCEPT_PAUSE_S);
			srv->accept_paused_until = srv->now + SERVER_ACCEPT_PAUSE_S;
			return;
		}
		c = calloc(1, srv->ops->conn_size);
		if (!c) {
			app_log("%s: out of memory, closing a new connection", srv->name);
			net_close(srv->net, fd);
			return;
		}
		c->fd = fd;
		c->peer = peer;
		c->index = srv->nconns;
		srv->active[srv->nconns++] = c;
		app_log("%s: accept() returned %s", srv->name, server_peer_str(c, name, sizeof(name)));
		if (srv->ops->opened)
			srv->ops->opened(srv, c);
		/* The request may already be here (the stack keeps data that arrives before
		 * accept): try now rather than after another trip through poll. */
		srv->ops->ready(srv, c, POLLIN);
	}
}

void server_dispatch(struct server *srv, const struct pollfd *fds, int n)
{
	int i;

	for (i = 0; i < n && (uint32_t)i < srv->npolled; i++) {
		if (!fds[i].revents)
			continue;
		if (srv->polled[i] == NULL)
			server_accept(srv);
		else
			srv->ops->ready(srv, srv->polled[i], fds[i].revents);
	}
}

/* struct app's three entries for a server_create() app: state is the struct server. */
static int server_app_collect(void *state, struct pollfd *fds, int max)
{
	return server_collect(state, fds, max);
}

static void server_app_dispatch(void *state, const struct pollfd *fds, int n)
{
	server_dispatch(state, fds, n);
}

static void server_app_stop(void *state)
{
	struct server *srv = state;

	server_destroy(srv);
	if (srv->ops->stop)
		srv->ops->stop(srv);
	free(srv);
}

struct app *server_create(size_t size, struct net *net, const char *name, uint16_t port,
			  int backlog, uint32_t max_conns, const struct server_ops *ops)
{
	struct server *srv = size >= sizeof(*srv) ? calloc(1, size) : NULL;

	if (!srv) {
		app_log("%s: out of memory", name);
		return NULL;
	}
	if (server_init(srv, net, name, port, backlog, max_conns, ops) < 0) {
		free(srv);
		return NULL;
	}
	srv->app = (struct app){ .name = name, .state = srv, .collect = server_app_collect,
				 .dispatch = server_app_dispatch, .stop = server_app_stop };
	return &srv->app;
}
