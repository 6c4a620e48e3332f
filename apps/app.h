/*
 * app.h - how the tapstack program runs its demo servers.
 *
 * CONTRACT between the program (apps/tapstack.c: options, event loop, control socket) and
 * the servers (apps/http.c, echo.c, discard.c, stall.c). A server is written only against
 * the socket API (apps/net.h maps it to tapstack's ts_* calls, or to the kernel's own
 * sockets for benchmarks). Each loop iteration the program asks every app for the sockets
 * it waits on, waits (driving the stack meanwhile), and hands back the readiness.
 */
#ifndef TAPSTACK_APPS_APP_H
#define TAPSTACK_APPS_APP_H

#include <poll.h>

/*
 * The program's loop must come back to collect() at least this often, even when no socket
 * is ready: servers check their connections' deadlines there (an idle keep-alive
 * connection, one whose client never closes; apps/server.c), and nothing else would wake
 * the loop for them. So the wait is given this as its timeout.
 */
#define APP_WAKE_INTERVAL_MS 1000

struct app {
	const char *name;
	void *state;
	/* Append up to max {fd, events} entries for the sockets this app waits on; returns how many. */
	int (*collect)(void *state, struct pollfd *fds, int max);
	/* Act on the revents of the n entries it appended this iteration (same order). */
	void (*dispatch)(void *state, const struct pollfd *fds, int n);
	/* Close every socket and free the state. */
	void (*stop)(void *state);
};

/*
 * Provided by the program: one line of application log (e.g. "http: accept() returned
 * 10.0.0.1:53422"), printed with the same timestamp clock as --trace lines so the demo
 * can show that accept() returns after the SYN-ACK went out.
 */
void app_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
