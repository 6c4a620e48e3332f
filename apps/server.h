/*
 * server.h - what every demo server shares: one listening socket and a bounded table of
 * non-blocking connections, driven by the program's poll loop (apps/app.h).
 *
 * A server (apps/http.c, echo.c, discard.c) is a struct that begins with `struct server`
 * (made by server_create()) and describes its connections with `struct server_ops`: how big one connection is (an app struct that
 * starts with `struct conn`), which events it waits for right now, and what to do when
 * they come. server.c does the rest: accept() until the queue is empty (logging each
 * accept, so the demo can show it came after the SYN-ACK), the connection table, the
 * readiness set the loop waits on (one descriptor, however many connections), the
 * connection bound and idle deadlines.
 *
 * Bounds: at most max_conns connections; at the bound the listener leaves the set,
 * so new clients wait in the stack's accept queue (and, when that is full too, their SYNs
 * are dropped and retried, as with any busy Linux server). Optionally at most limit_conn
 * connections per peer address (nginx's limit_conn with a $binary_remote_addr zone): one
 * more from that address is closed as soon as it is accepted and counted in
 * limit_conn_refused, so a few addresses holding many idle connections (slowloris) cannot
 * take every slot from the others.
 */
#ifndef TAPSTACK_APPS_SERVER_H
#define TAPSTACK_APPS_SERVER_H

#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "apps/app.h"
#include "apps/net.h"

/* At most this many accept() calls per wake-up, so a connection storm cannot starve the
 * connections already open. */
#define SERVER_ACCEPT_BATCH 64
/* After accept() fails for lack of descriptors or memory, leave the listener alone this
 * long: it stays readable, and retrying at once would only spin. */
#define SERVER_ACCEPT_PAUSE_S 1
/* Ready sockets taken from the set per round (level-triggered: the rest come next round). */
#define SERVER_EVENTS_BATCH 256

/* The struct that embeds `member` at ptr (each app embeds its struct server). */
#define CONTAINER_OF(ptr, type, member) ((type *)(void *)((char *)(ptr) - offsetof(type, member)))

struct conn {
	int fd;
	uint32_t index;            /* position in server.active (owned by server.c) */
	struct sockaddr_in peer;
	time_t deadline;           /* monotonic seconds; 0 = none. Past it, the server closes it
				    * (checked in server_collect, see APP_WAKE_INTERVAL_MS) */
	short watched;             /* what it waits for in the server's set (owned by server.c) */
};

struct server;

/* One peer address with connections open (server.c's per-address count, a linear-probing
 * table; addr 0 marks a free slot, since 0.0.0.0 is never a peer). */
struct server_peer {
	uint32_t addr;             /* network order */
	uint32_t conns;
};

struct server_ops {
	size_t conn_size; /* sizeof the app's connection struct, which begins with struct conn */
	/* Optional: a connection was just accepted (the struct is zeroed but for struct conn). */
	void (*opened)(struct server *srv, struct conn *c);
	/* The poll events this connection waits for now (POLLIN and/or POLLOUT). */
	short (*events)(struct server *srv, struct conn *c);
	/* Its revents: do what can be done without blocking; may call server_conn_close(). */
	void (*ready)(struct server *srv, struct conn *c, short revents);
	/* Optional: free what the connection holds. The server closes the fd and frees c. */
	void (*closed)(struct server *srv, struct conn *c);
	/* Optional: the app is stopping (connections and listener already closed): release
	 * what the app itself holds. server.c then frees the app struct. */
	void (*stop)(struct server *srv);
};

struct server {
	struct app app;            /* what the program drives (server_create fills it in) */
	const char *name;          /* "http", "echo", ... for log lines */
	struct net *net;
	const struct server_ops *ops;
	int listen_fd;
	uint32_t max_conns;
	uint32_t nconns;
	struct conn **active;      /* nconns open connections, dense, [max_conns] */
	int set;                   /* readiness set of the listener and connections (net_set_*) */
	short listen_watched;      /* what the listener waits for in it (0: not in it) */
	struct conn *in_ready;     /* the connection whose ready() runs (cleared if it closes) */
	time_t (*clock)(void);     /* monotonic seconds (CLOCK_MONOTONIC_COARSE; a test may set a fake) */
	time_t now;                /* srv->clock(), refreshed by server_collect() */
	time_t swept;              /* when deadlines were last checked */
	time_t accept_paused_until; /* see SERVER_ACCEPT_PAUSE_S */
	uint32_t limit_conn;       /* connections per peer address; 0: no limit */
	struct server_peer *peers; /* [peers_mask + 1], at least twice max_conns; NULL: no limit */
	uint32_t peers_mask;
	uint64_t limit_conn_refused; /* connections closed at accept by limit_conn */
	time_t limit_conn_logged;  /* refusals are logged at most once a second */
};

/*
 * A whole server app: allocates `size` zeroed bytes (the app's struct, which begins with
 * struct server), opens the listener and fills in srv->app so the program's loop drives it
 * through server_collect/server_dispatch, and its stop() closes everything, calls
 * ops->stop and frees the struct. Returns &srv->app, whose state is the app's struct, or
 * NULL on failure (logged with app_log).
 */
struct app *server_create(size_t size, struct net *net, const char *name, uint16_t port,
			     int backlog, uint32_t max_conns, const struct server_ops *ops);
/* Opens the listener on 0.0.0.0:port, for a struct server the caller owns (server_create
 * uses it; so do tests). Returns 0 or -errno (logged with app_log). */
int server_init(struct server *srv, struct net *net, const char *name, uint16_t port,
		int backlog, uint32_t max_conns, const struct server_ops *ops);
/* At most n connections per peer address from now on (0: no limit); connections already
 * open count. Returns 0 or -ENOMEM (the server keeps its previous limit). */
int server_set_limit_conn(struct server *srv, uint32_t n);
/* What accept and close do with the count (tests call them too): take counts one more
 * connection from addr (network order), or returns false when it already has limit_conn;
 * put counts one less. Without a limit, take is always true and neither counts. */
bool server_peer_take(struct server *srv, uint32_t addr);
void server_peer_put(struct server *srv, uint32_t addr);
/* The same for any app of the program: a server_create() app gets the limit, another
 * (UDP, stall) is left alone (0). */
int server_app_set_limit_conn(struct app *app, uint32_t n);
/* Closes every connection and the listener; frees the tables. */
void server_destroy(struct server *srv);
/* The struct app collect/dispatch of a server (see apps/app.h). */
int server_collect(struct server *srv, struct pollfd *fds, int max);
void server_dispatch(struct server *srv, const struct pollfd *fds, int n);
/* Closes c's socket (after ops->closed) and frees c. */
void server_conn_close(struct server *srv, struct conn *c);

#endif
