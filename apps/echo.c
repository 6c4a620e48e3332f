/*
 * echo.c - the Echo service (RFC 862): send back every byte received, until the client
 * closes.
 *
 * Each connection has one bounded buffer (allocated at the first byte, so idle
 * connections cost only their struct). We read while there is room and send while there
 * is something to send; when the client is slower to read than to write, the buffer fills,
 * we stop reading, and TCP's flow control pushes back on the client: memory stays bounded.
 * At end of stream we send what is left, then close.
 */
#include <stdlib.h>
#include <string.h>

#include "apps/server.h"
#include "apps/servers.h"

#define ECHO_BUF_BYTES (64 * 1024)
/* Per wake-up and connection, so one fast client cannot starve the others. */
#define ECHO_BUDGET_BYTES (1024 * 1024)

struct echo_conn {
	struct conn base;
	char *buf;        /* ECHO_BUF_BYTES, or NULL until the first byte */
	uint32_t off;     /* bytes of buf already sent back */
	uint32_t len;     /* bytes of buf received */
	bool eof;         /* the client finished sending */
	bool yielded;     /* budget used with work left: come back soon */
};

static short echo_events(struct server *srv, struct conn *c)
{
	struct echo_conn *e = (struct echo_conn *)c;
	short ev = 0;

	(void)srv;
	if (e->off < e->len || e->yielded)
		ev |= POLLOUT;
	if (!e->eof && e->len < ECHO_BUF_BYTES)
		ev |= POLLIN;
	return ev;
}

static void echo_ready(struct server *srv, struct conn *c, short revents)
{
	struct echo_conn *e = (struct echo_conn *)c;
	size_t moved = 0;

	(void)revents;
	e->yielded = false;
	for (;;) {
		bool progress = false;
		ssize_t n;

		if (moved >= ECHO_BUDGET_BYTES) {
			e->yielded = true;
			return;
		}
		if (e->off < e->len) {
			n = net_send(srv->net, c->fd, e->buf + e->off, e->len - e->off);
			if (n < 0 && n != -EAGAIN)
				goto close;
			if (n > 0) {
				e->off += (uint32_t)n;
				moved += (size_t)n;
				progress = true;
				if (e->off == e->len)
					e->off = e->len = 0;
			}
		}
		if (!e->eof && e->len < ECHO_BUF_BYTES) {
			if (!e->buf && !(e->buf = malloc(ECHO_BUF_BYTES)))
				goto close;
			n = net_recv(srv->net, c->fd, e->buf + e->len, ECHO_BUF_BYTES - e->len);
			if (n == 0)
				e->eof = true;
			else if (n < 0 && n != -EAGAIN)
				goto close;
			if (n > 0) {
				e->len += (uint32_t)n;
				progress = true;
			}
		}
		if (e->eof && e->off == e->len)
			goto close; /* everything echoed: we are done too */
		if (!progress)
			return; /* both directions would block: poll tells us when to go on */
		/* Keep the unsent bytes at the front, so a full buffer means full of unsent data. */
		if (e->off > 0 && e->len == ECHO_BUF_BYTES) {
			memmove(e->buf, e->buf + e->off, e->len - e->off);
			e->len -= e->off;
			e->off = 0;
		}
	}
close:
	server_conn_close(srv, c);
}

static void echo_closed(struct server *srv, struct conn *c)
{
	(void)srv;
	free(((struct echo_conn *)c)->buf);
}

static const struct server_ops echo_ops = {
	.conn_size = sizeof(struct echo_conn),
	.events = echo_events,
	.ready = echo_ready,
	.closed = echo_closed,
};

struct app *echo_app_create(struct net *net, uint16_t port, int backlog)
{
	return server_create(sizeof(struct server), net, "echo", port, backlog,
			     APP_MAX_CONNS_DEFAULT, &echo_ops);
}
