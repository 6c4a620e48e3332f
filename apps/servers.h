/*
 * servers.h - constructors of the demo servers (apps/http.c, echo.c, discard.c, stall.c, udp.c).
 *
 * The program (apps/tapstack.c, or apps/kernel/main.c for the kernel build) creates each
 * server it was asked for with one of these, then drives all of them through struct app
 * (apps/app.h). Each constructor opens its listening (or, for UDP, bound) socket on
 * 0.0.0.0:port through the socket shim (apps/net.h) and returns NULL on failure after logging why with app_log().
 * `net` must outlive the server. backlog is listen()'s argument (the accept queue bound).
 */
#ifndef TAPSTACK_APPS_SERVERS_H
#define TAPSTACK_APPS_SERVERS_H

#include <stdint.h>
#include <stdio.h>

#include "apps/app.h"
#include "apps/net.h"

/* Default listen() backlog when the command line gives none (Linux's SOMAXCONN is 4096). */
#define APP_BACKLOG_DEFAULT 128
/* Default bound on simultaneous connections per server; at the bound a server stops
 * calling accept() (new clients wait in the accept queue, then in SYN retries). */
#define APP_MAX_CONNS_DEFAULT 16384

/*
 * HTTP/1.1 (GET, HEAD): the built-in index page at /, N pattern bytes at /bytes/N, and
 * files from `dir` (NULL: no files, only the built-in pages). See docs/apps.md.
 */
struct app *http_app_create(struct net *net, uint16_t port, const char *dir, int backlog);
/* Logs each response to f in the common log format (NULL: none); the caller keeps f open. */
void http_app_set_access_log(struct app *app, FILE *f);
/* Serves GET /metrics with what render writes (Prometheus text); the rest as before. */
void http_app_set_metrics(struct app *app, void (*render)(void *arg, FILE *out), void *arg);
/* Echo (RFC 862): sends back every byte it receives. */
struct app *echo_app_create(struct net *net, uint16_t port, int backlog);
/* Discard (RFC 863): reads and throws away every byte it receives. */
struct app *discard_app_create(struct net *net, uint16_t port, int backlog);
/* A listener that never calls accept(): its accept queue fills up to `backlog`. */
struct app *stall_app_create(struct net *net, uint16_t port, int backlog);
/* UDP Echo (RFC 862) and Discard (RFC 863) on 0.0.0.0:port (apps/udp.c). */
struct app *udp_echo_app_create(struct net *net, uint16_t port);
struct app *udp_discard_app_create(struct net *net, uint16_t port);

#endif
