/*
 * server.c - the listener and connection table shared by the demo servers (see server.h).
 *
 * The program's loop calls collect/dispatch (through struct app) once per iteration.
 * Owns the listening socket, every accepted connection (a malloc'd app struct beginning
 * with struct conn, freed on close), the array of max_conns connection pointers and a
 * readiness set (apps/net.h net_set_*: stack/socket/ready.c, or epoll(7) for the kernel
 * build); for an app made by server_create(), also the app struct itself.
 *
 * The listener and every connection wait in the set, each for what it needs now
 * (ops->events, re-registered only when that changes). collect() hands the loop one entry,
 * the set's own descriptor, however many connections there are; dispatch() takes the ready
 * members from the set, so a wake-up costs the sockets that changed, not every socket. A
 * member appears at most once per batch, and a ready() handler closes only its own
 * connection, so no later event of the batch names a freed one.
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

/* The listener waits in the set only while the server may accept: below the connection
 * bound and outside an accept pause (at the bound, clients wait in the accept queue). */
static void server_listener_watch(struct server *srv)
{
	short ev = srv->nconns < srv->max_conns && srv->now >= srv->accept_paused_until ? POLLIN : 0;

	if (ev != srv->listen_watched &&
	    net_set_watch(srv->net, srv->set, srv->listen_fd, srv->listen_watched, ev, srv) == 0)
		srv->listen_watched = ev;
}

/* A connection waits in the set for what ops->events says now (nothing: it leaves it). */
static void server_conn_watch(struct server *srv, struct conn *c)
{
	short ev = srv->ops->events(srv, c);

	if (ev != c->watched && net_set_watch(srv->net, srv->set, c->fd, c->watched, ev, c) == 0)
		c->watched = ev;
}

/* ops->ready, then the connection's interest again unless ready() closed it. */
static void server_conn_ready(struct server *srv, struct conn *c, short revents)
{
	srv->in_ready = c;
	srv->ops->ready(srv, c, revents);
	if (srv->in_ready == c)
		server_conn_watch(srv, c);
	srv->in_ready = NULL;
}

/*
 * The per-peer count (limit_conn). Linear probing in a table at least twice the connection
 * bound, so it never fills and a probe is short; a peer whose count drops to 0 is removed
 * with a backward shift (no tombstones), so the table holds only peers with connections.
 */
static struct server_peer *server_peer_slot(struct server *srv, uint32_t addr)
{
	uint32_t i = (addr * 0x9e3779b1u) >> 7 & srv->peers_mask;

	while (srv->peers[i].addr && srv->peers[i].addr != addr)
		i = (i + 1) & srv->peers_mask;
	return &srv->peers[i];
}

bool server_peer_take(struct server *srv, uint32_t addr)
{
	struct server_peer *p;

	if (!srv->peers)
		return true;
	p = server_peer_slot(srv, addr);
	if (p->conns >= srv->limit_conn)
		return false;
	p->addr = addr;
	p->conns++;
	return true;
}

void server_peer_put(struct server *srv, uint32_t addr)
{
	struct server_peer *p;
	uint32_t i, j;

	if (!srv->peers)
		return;
	p = server_peer_slot(srv, addr);
	if (!p->addr || --p->conns > 0)
		return;
	/* Backward shift: move later members of the run into the hole when their home slot
	 * does not lie (cyclically) between the hole and them. */
	i = (uint32_t)(p - srv->peers);
	for (j = (i + 1) & srv->peers_mask; srv->peers[j].addr; j = (j + 1) & srv->peers_mask) {
		uint32_t home = (srv->peers[j].addr * 0x9e3779b1u) >> 7 & srv->peers_mask;

		if (((j - home) & srv->peers_mask) >= ((j - i) & srv->peers_mask)) {
			srv->peers[i] = srv->peers[j];
			i = j;
		}
	}
	srv->peers[i] = (struct server_peer){ 0 };
}

int server_set_limit_conn(struct server *srv, uint32_t n)
{
	struct server_peer *peers = NULL;
	uint32_t size = 4;

	if (n) {
		while (size < 2 * srv->max_conns)
			size *= 2;
		peers = calloc(size, sizeof(*peers));
		if (!peers)
			return -ENOMEM;
	}
	free(srv->peers);
	srv->peers = peers;
	srv->peers_mask = size - 1;
	srv->limit_conn = n;
	/* Connections already open count (an app may set the limit after starting). */
	for (uint32_t i = 0; peers && i < srv->nconns; i++) {
		struct server_peer *p = server_peer_slot(srv, srv->active[i]->peer.sin_addr.s_addr);
		p->addr = srv->active[i]->peer.sin_addr.s_addr;
		p->conns++;
	}
	return 0;
}

int server_init(struct server *srv, struct net *net, const char *name, uint16_t port,
		int backlog, uint32_t max_conns, const struct server_ops *ops)
{
	memset(srv, 0, sizeof(*srv));
	srv->listen_fd = srv->set = -1;
	srv->name = name;
	srv->net = net;
	srv->ops = ops;
	srv->max_conns = max_conns ? max_conns : 1;
	srv->clock = server_clock;
	srv->now = srv->swept = srv->clock();
	srv->active = calloc(srv->max_conns, sizeof(*srv->active));
	if (!srv->active) {
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
	srv->set = net_set_create(net);
	if (srv->set < 0) {
		int err = srv->set;

		app_log("%s: cannot make its readiness set: %s", name, strerror(-err));
		server_destroy(srv);
		return err;
	}
	server_listener_watch(srv);
	app_log("%s: listening on port %u (backlog %d)", name, port, backlog);
	return 0;
}

void server_conn_close(struct server *srv, struct conn *c)
{
	struct conn *last;

	if (srv->ops->closed)
		srv->ops->closed(srv, c);
	if (srv->in_ready == c)
		srv->in_ready = NULL;
	net_close(srv->net, c->fd); /* which also takes it out of the set */
	server_peer_put(srv, c->peer.sin_addr.s_addr);
	/* Swap-remove keeps `active` dense: O(1), order does not matter. */
	last = srv->active[--srv->nconns];
	srv->active[c->index] = last;
	last->index = c->index;
	free(c);
	if (srv->set >= 0)
		server_listener_watch(srv); /* below the bound again: accept */
}

void server_destroy(struct server *srv)
{
	while (srv->nconns > 0)
		server_conn_close(srv, srv->active[srv->nconns - 1]);
	if (srv->set >= 0)
		net_close(srv->net, srv->set);
	srv->set = -1;
	if (srv->active && srv->listen_fd >= 0)
		net_close(srv->net, srv->listen_fd);
	free(srv->active);
	srv->active = NULL;
	free(srv->peers);
	srv->peers = NULL;
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

/* Closes connections whose deadline passed. Runs at most once a second: the one place that
 * looks at every connection, cheap at that rate (readiness itself costs only the sockets
 * that changed). */
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
	server_sweep(srv);
	server_listener_watch(srv); /* an accept pause may have ended */
	if (max < 1)
		return 0;
	fds[0] = (struct pollfd){ .fd = srv->set, .events = POLLIN };
	return 1;
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
		if (!server_peer_take(srv, peer.sin_addr.s_addr)) {
			/* limit_conn: closed at once, before the app sees it (nginx's stream module
			 * does the same; its http module answers 503 first). */
			net_close(srv->net, fd);
			srv->limit_conn_refused++;
			if (srv->limit_conn_logged != srv->now) {
				char ip[INET_ADDRSTRLEN];

				srv->limit_conn_logged = srv->now;
				inet_ntop(AF_INET, &peer.sin_addr, ip, sizeof(ip));
				app_log("%s: %s has %u connections, the limit: closing more (%llu so far)",
					srv->name, ip, srv->limit_conn,
					(unsigned long long)srv->limit_conn_refused);
			}
			continue;
		}
		c = calloc(1, srv->ops->conn_size);
		if (!c) {
			server_peer_put(srv, peer.sin_addr.s_addr);
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
		server_conn_ready(srv, c, POLLIN);
	}
	server_listener_watch(srv); /* at the bound, or paused: leave the set */
}

void server_dispatch(struct server *srv, const struct pollfd *fds, int n)
{
	struct epoll_event evs[SERVER_EVENTS_BATCH];

	if (n < 1 || !fds[0].revents)
		return;
	/* One batch per round: level-triggered, what is left comes in the next one. */
	int k = net_set_collect(srv->net, srv->set, evs, SERVER_EVENTS_BATCH);
	for (int i = 0; i < k; i++) {
		if (evs[i].data.ptr == srv)
			server_accept(srv);
		else
			server_conn_ready(srv, evs[i].data.ptr, (short)evs[i].events);
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

int server_app_set_limit_conn(struct app *app, uint32_t n)
{
	if (app->collect != server_app_collect)
		return 0; /* not a connection server (UDP, stall): nothing to limit */
	return server_set_limit_conn(app->state, n);
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
