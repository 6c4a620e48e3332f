/*
 * kernel/main.c - build/tapstack-kernel: the demo servers on the Linux kernel's own sockets.
 *
 * The same apps/http.c, echo.c, discard.c and stall.c as build/tapstack, compiled with
 * -DNET_KERNEL so apps/net.h maps them onto socket(2)/accept4(2)/send(2)/poll(2). `make
 * bench` runs this beside tapstack, so the comparison is stack against stack with the
 * same application code (mk/apps.mk builds it).
 *
 *   tapstack-kernel [--http PORT[:DIR]] [--echo PORT] [--discard PORT]
 *                   [--stall PORT[:BACKLOG]] [--backlog N] [--quiet]
 *
 * The loop is apps/app.h's contract with poll(2) as the wait: collect from every app,
 * poll, dispatch. SIGINT/SIGTERM stop it; every app then closes its sockets.
 */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "apps/servers.h"

#define KMAIN_MAX_APPS 8
#define KMAIN_MAX_FDS (4 * APP_MAX_CONNS_DEFAULT + KMAIN_MAX_APPS)

static volatile sig_atomic_t kmain_stop;
static bool kmain_quiet;

static void kmain_on_signal(int sig)
{
	(void)sig;
	kmain_stop = 1;
}

/* Same shape as the tapstack program's lines: monotonic seconds.microseconds, then the text. */
void app_log(const char *fmt, ...)
{
	struct timespec ts;
	va_list ap;

	if (kmain_quiet)
		return;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	printf("%ld.%06ld ", (long)ts.tv_sec, ts.tv_nsec / 1000);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

static void kmain_usage(FILE *f)
{
	fprintf(f, "usage: tapstack-kernel [--http PORT[:DIR]] [--echo PORT] [--discard PORT]\n"
		   "                       [--stall PORT[:BACKLOG]] [--backlog N] [--quiet]\n"
		   "The tapstack demo servers on the kernel's own TCP/IP stack (for comparison).\n");
}

/* "PORT" or "PORT:REST": returns false on a bad port; *rest is NULL without a colon. */
static bool kmain_port(const char *arg, uint16_t *port, const char **rest)
{
	char *end;
	long v = strtol(arg, &end, 10);

	if (end == arg || v < 1 || v > 65535 || (*end != '\0' && *end != ':'))
		return false;
	*port = (uint16_t)v;
	*rest = *end == ':' ? end + 1 : NULL;
	return true;
}

static bool kmain_int(const char *arg, int *out)
{
	char *end;
	long v = strtol(arg, &end, 10);

	if (end == arg || *end != '\0' || v < 1 || v > 65535)
		return false;
	*out = (int)v;
	return true;
}

int main(int argc, char **argv)
{
	/* Options are read in two passes so that --backlog applies wherever it appears. */
	static struct pollfd fds[KMAIN_MAX_FDS];
	struct app *apps[KMAIN_MAX_APPS];
	int counts[KMAIN_MAX_APPS];
	int backlog = APP_BACKLOG_DEFAULT;
	struct net net = { 0 };
	struct sigaction sa;
	struct rlimit rl;
	int napps = 0, i, pass;

	for (pass = 0; pass < 2; pass++) {
		for (i = 1; i < argc; i++) {
			const char *opt = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
			const char *rest = NULL;
			uint16_t port = 0;
			struct app *a = NULL;
			int stall_backlog;

			if (strcmp(opt, "--help") == 0 || strcmp(opt, "-h") == 0) {
				kmain_usage(stdout);
				return 0;
			}
			if (strcmp(opt, "--quiet") == 0 || strcmp(opt, "-q") == 0) {
				kmain_quiet = true;
				continue;
			}
			if (strcmp(opt, "--http") && strcmp(opt, "--echo") && strcmp(opt, "--discard") &&
			    strcmp(opt, "--stall") && strcmp(opt, "--backlog")) {
				fprintf(stderr, "tapstack-kernel: unknown option %s\n", opt);
				kmain_usage(stderr);
				return 2;
			}
			i++;
			if (!val) {
				fprintf(stderr, "tapstack-kernel: %s needs a value\n", opt);
				return 2;
			}
			if (strcmp(opt, "--backlog") == 0) {
				if (!kmain_int(val, &backlog)) {
					fprintf(stderr, "tapstack-kernel: bad --backlog %s\n", val);
					return 2;
				}
				continue;
			}
			if (!kmain_port(val, &port, &rest) ||
			    (rest && strcmp(opt, "--http") && strcmp(opt, "--stall"))) {
				fprintf(stderr, "tapstack-kernel: bad %s %s\n", opt, val);
				return 2;
			}
			stall_backlog = backlog;
			if (strcmp(opt, "--stall") == 0 && rest && !kmain_int(rest, &stall_backlog)) {
				fprintf(stderr, "tapstack-kernel: bad backlog in --stall %s\n", val);
				return 2;
			}
			if (pass == 0)
				continue;
			if (napps == KMAIN_MAX_APPS) {
				fprintf(stderr, "tapstack-kernel: too many servers\n");
				return 2;
			}
			if (strcmp(opt, "--http") == 0)
				a = http_app_create(&net, port, rest, backlog);
			else if (strcmp(opt, "--echo") == 0)
				a = echo_app_create(&net, port, backlog);
			else if (strcmp(opt, "--discard") == 0)
				a = discard_app_create(&net, port, backlog);
			else
				a = stall_app_create(&net, port, stall_backlog);
			if (!a)
				return 1;
			apps[napps++] = a;
		}
	}
	if (napps == 0) {
		kmain_usage(stderr);
		return 2;
	}

	/* One descriptor per connection: allow as many as the hard limit (often 1024 soft). */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = kmain_on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	while (!kmain_stop) {
		int n = 0;

		for (i = 0; i < napps; i++) {
			counts[i] = apps[i]->collect(apps[i]->state, fds + n, KMAIN_MAX_FDS - n);
			n += counts[i];
		}
		/* 1 s at most, so idle deadlines are swept even when nothing happens. */
		if (poll(fds, (nfds_t)n, 1000) < 0) {
			if (errno == EINTR)
				continue;
			perror("tapstack-kernel: poll");
			break;
		}
		n = 0;
		for (i = 0; i < napps; i++) {
			apps[i]->dispatch(apps[i]->state, fds + n, counts[i]);
			n += counts[i];
		}
	}
	for (i = 0; i < napps; i++)
		apps[i]->stop(apps[i]->state);
	return 0;
}
