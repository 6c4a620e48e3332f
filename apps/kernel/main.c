/*
 * kernel/main.c - build/tapstack-kernel: the demo servers on the Linux kernel's own sockets.
 *
 * The same apps/http.c, echo.c, discard.c, stall.c and udp.c as build/tapstack, compiled with
 * -DNET_KERNEL so apps/net.h maps them onto socket(2)/accept4(2)/send(2)/poll(2). `make
 * bench` runs this beside tapstack, so the comparison is stack against stack with the
 * same application code (mk/apps.mk builds it).
 *
 *   tapstack-kernel [--http PORT[:DIR]] [--echo PORT] [--discard PORT]
 *                   [--stall PORT[:BACKLOG]] [--udp-echo PORT] [--udp-discard PORT]
 *                   [--backlog N] [--cc NAME] [--quiet]
 *
 * --cc sets the listeners' congestion control (TCP_CONGESTION, which their connections
 * inherit), as tapstack's --cc does: a namespace cannot make an algorithm outside
 * net.ipv4.tcp_allowed_congestion_control its default, but a privileged socket may use it.
 *
 * The loop is apps/app.h's contract: collect from every app, wait, dispatch. The wait is
 * epoll(7), level-triggered, not poll(2): poll makes the kernel look at every descriptor on
 * every call, so with 10,000 idle connections each request would pay for 10,000 socket
 * checks, and a benchmark would compare wait calls instead of stacks (docs/performance.md).
 * kwait_sync() keeps the epoll set equal to what the apps collected this round by telling
 * the kernel only the differences. SIGINT/SIGTERM stop the loop; every app then closes its
 * sockets.
 */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "apps/servers.h"

#define KMAIN_MAX_APPS 8
#define KMAIN_MAX_FDS (4 * APP_MAX_CONNS_DEFAULT + KMAIN_MAX_APPS)
/* Ready descriptors taken per epoll_wait(); level-triggered, so the rest come next round. */
#define KMAIN_EPOLL_BATCH 1024

/* The apps speak poll's event bits; epoll's have the same values on Linux. */
_Static_assert(EPOLLIN == POLLIN && EPOLLOUT == POLLOUT && EPOLLERR == POLLERR &&
		       EPOLLHUP == POLLHUP,
	       "epoll and poll event bits differ");

/*
 * The epoll set and what it holds. Per descriptor number: the events registered
 * (net->registered[fd], which net_close() clears, apps/net.h), the round in which the fd
 * was last collected and its index in that round's pollfd array.
 */
struct kwait {
	int epfd;
	struct net *net;
	uint32_t round;
	uint32_t *round_of;       /* [net->nregistered] */
	int *slot;                /* [net->nregistered] */
	int *prev;                /* the fds collected in the previous round */
	int nprev;
	struct epoll_event events[KMAIN_EPOLL_BATCH];
};

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
		   "                       [--stall PORT[:BACKLOG]] [--udp-echo PORT] [--udp-discard PORT]\n"
		   "                       [--backlog N] [--cc NAME] [--quiet]\n"
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

/* Makes the per-descriptor tables cover fd (doubling); false when out of memory. */
static bool kwait_reserve(struct kwait *w, int fd)
{
	int old = w->net->nregistered, n = old ? old : 1024;
	short *reg;
	uint32_t *round_of;
	int *slot;

	if (fd < old)
		return true;
	while (n <= fd)
		n *= 2;
	reg = realloc(w->net->registered, (size_t)n * sizeof(*reg));
	if (reg)
		w->net->registered = reg;
	round_of = realloc(w->round_of, (size_t)n * sizeof(*round_of));
	if (round_of)
		w->round_of = round_of;
	slot = realloc(w->slot, (size_t)n * sizeof(*slot));
	if (slot)
		w->slot = slot;
	if (!reg || !round_of || !slot)
		return false;
	memset(reg + old, 0, (size_t)(n - old) * sizeof(*reg));
	memset(round_of + old, 0, (size_t)(n - old) * sizeof(*round_of));
	w->net->nregistered = n;
	return true;
}

/* Tells the kernel that fd now waits for `events` (0: for nothing, leave the set). */
static void kwait_set(struct kwait *w, int fd, short events)
{
	struct epoll_event ev = { .events = (uint32_t)(unsigned short)events, .data.fd = fd };
	short was = w->net->registered[fd];
	int rc;

	if (events == 0)
		rc = epoll_ctl(w->epfd, EPOLL_CTL_DEL, fd, NULL);
	else
		rc = epoll_ctl(w->epfd, was ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, fd, &ev);
	/* Only if a socket was closed behind net_close()'s back: the set knows better. */
	if (rc < 0 && events && errno == ENOENT)
		rc = epoll_ctl(w->epfd, EPOLL_CTL_ADD, fd, &ev);
	else if (rc < 0 && events && errno == EEXIST)
		rc = epoll_ctl(w->epfd, EPOLL_CTL_MOD, fd, &ev);
	if (rc < 0 && events)
		fprintf(stderr, "tapstack-kernel: epoll_ctl(%d): %s\n", fd, strerror(errno));
	w->net->registered[fd] = rc < 0 ? 0 : events;
}

/*
 * Makes the epoll set what the apps collected this round: new or changed entries are
 * added or modified, entries of the last round that are not collected again (a full
 * server's listener, a connection that waits for nothing) are removed. Clears revents.
 */
static void kwait_sync(struct kwait *w, struct pollfd *fds, int n)
{
	int i;

	w->round++;
	for (i = 0; i < n; i++) {
		int fd = fds[i].fd;

		fds[i].revents = 0;
		if (fd < 0 || !kwait_reserve(w, fd)) {
			fds[i].revents = POLLNVAL; /* its owner then fails the socket call */
			continue;
		}
		w->round_of[fd] = w->round;
		w->slot[fd] = i;
		if (w->net->registered[fd] != fds[i].events)
			kwait_set(w, fd, fds[i].events);
	}
	for (i = 0; i < w->nprev; i++) {
		int fd = w->prev[i];

		if (fd >= 0 && fd < w->net->nregistered && w->round_of[fd] != w->round &&
		    w->net->registered[fd])
			kwait_set(w, fd, 0);
	}
	for (i = 0; i < n; i++)
		w->prev[i] = fds[i].fd;
	w->nprev = n;
}

/* Waits up to timeout_ms; fills revents of this round's entries. Returns how many, or -errno. */
static int kwait_wait(struct kwait *w, struct pollfd *fds, int timeout_ms)
{
	int r = epoll_wait(w->epfd, w->events, KMAIN_EPOLL_BATCH, timeout_ms);
	int i;

	if (r < 0)
		return -errno;
	for (i = 0; i < r; i++) {
		int fd = w->events[i].data.fd;

		if (fd < w->net->nregistered && w->round_of[fd] == w->round)
			fds[w->slot[fd]].revents = (short)(w->events[i].events &
							   (EPOLLIN | EPOLLOUT | EPOLLERR | EPOLLHUP));
	}
	return r;
}

int main(int argc, char **argv)
{
	/* Options are read in two passes so that --backlog applies wherever it appears. */
	static struct pollfd fds[KMAIN_MAX_FDS];
	static struct kwait w;
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
			    strcmp(opt, "--stall") && strcmp(opt, "--backlog") && strcmp(opt, "--udp-echo") &&
			    strcmp(opt, "--udp-discard") && strcmp(opt, "--cc")) {
				fprintf(stderr, "tapstack-kernel: unknown option %s\n", opt);
				kmain_usage(stderr);
				return 2;
			}
			i++;
			if (!val) {
				fprintf(stderr, "tapstack-kernel: %s needs a value\n", opt);
				return 2;
			}
			if (strcmp(opt, "--cc") == 0) {
				net.cc = val;      /* checked by the kernel at the first listen */
				continue;
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
			else if (strcmp(opt, "--udp-echo") == 0)
				a = udp_echo_app_create(&net, port);
			else if (strcmp(opt, "--udp-discard") == 0)
				a = udp_discard_app_create(&net, port);
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

	w.net = &net;
	w.epfd = epoll_create1(EPOLL_CLOEXEC);
	w.prev = calloc(KMAIN_MAX_FDS, sizeof(*w.prev));
	if (w.epfd < 0 || !w.prev) {
		perror("tapstack-kernel: epoll_create1");
		kmain_stop = 1;
	}
	while (!kmain_stop) {
		int n = 0, r;

		for (i = 0; i < napps; i++) {
			counts[i] = apps[i]->collect(apps[i]->state, fds + n, KMAIN_MAX_FDS - n);
			n += counts[i];
		}
		kwait_sync(&w, fds, n);
		/* Bounded, so the apps' deadlines are checked even when nothing happens. */
		r = kwait_wait(&w, fds, APP_WAKE_INTERVAL_MS);
		if (r < 0) {
			if (r == -EINTR)
				continue;
			fprintf(stderr, "tapstack-kernel: epoll_wait: %s\n", strerror(-r));
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
	if (w.epfd >= 0)
		close(w.epfd);
	free(w.prev);
	free(w.round_of);
	free(w.slot);
	free(net.registered);
	return 0;
}
