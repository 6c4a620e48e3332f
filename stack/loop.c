/*
 * loop.c - the stack meets the operating system: the monotonic clock and a poll(2) wait.
 *
 * Protocol code never reads a clock (core/time.h); this top-level file does, for programs.
 * ts_stack_wait() is the event loop's one blocking call: it sleeps in poll(2) on the device fd
 * (and any kernel fds the program adds) for no longer than the next timer deadline, drives
 * the stack on every wake-up, and returns as soon as a ts_* socket the caller waits on is
 * ready (ts_stack_wait: a pollfd array; ts_stack_epoll_wait: a ts_epoll set, which costs
 * only the sockets that changed). Called by apps/tapstack.c; tests use virtual time and call
 * ts_stack_poll() directly.
 */
#include "stack.h"

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <string.h>
#include <time.h>

/* Kernel fds a program may add to the wait (control socket, signalfd, clients...). */
#define STACK_WAIT_KFDS_MAX 64u

usec_t ts_clock_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (usec_t)ts.tv_sec * USEC_PER_SEC + (usec_t)ts.tv_nsec / 1000u;
}

/* Polls the device until it is drained (each ts_stack_poll takes one bounded batch). */
static void stack_drive(struct stack *s)
{
	while (ts_stack_poll_clock(s, ts_clock_now) >= (int)STACK_POLL_BATCH)
		;
}

/*
 * Busy-poll (stack_config.busy_poll_usec, tapstack --busy-poll): before sleeping, spin on the
 * device for at most that long, ending early at the next timer deadline. A frame that comes
 * during the spin is handled without the sleep and the wake-up behind it (tens of
 * microseconds each): lower latency, paid for with a core kept busy while idle, as Linux's
 * SO_BUSY_POLL. Returns true when frames came.
 */
static bool stack_busy_poll(struct stack *s, usec_t now, usec_t until)
{
	usec_t end = usec_min(usec_min(now + s->busy_poll_usec, ts_stack_next_deadline(s)), until);
	while (ts_clock_now() < end)
		if (ts_stack_poll_clock(s, ts_clock_now) > 0)
			return true;
	return false;
}

/* Milliseconds from now to t, rounded up so we never wake just before a deadline. */
static int stack_ms_until(usec_t t, usec_t now)
{
	if (t == USEC_NEVER)
		return -1;
	if (t <= now)
		return 0;
	usec_t ms = (t - now + USEC_PER_MS - 1) / USEC_PER_MS;
	return ms > INT_MAX ? INT_MAX : (int)ms;
}

int ts_stack_wait_kernel(struct stack *s, struct pollfd *fds, nfds_t n, struct pollfd *kfds, nfds_t kn,
                      int timeout_ms)
{
	if (kn > STACK_WAIT_KFDS_MAX)
		return -EINVAL;
	struct pollfd pfd[1 + STACK_WAIT_KFDS_MAX];
	usec_t until = timeout_ms < 0 ? USEC_NEVER : ts_clock_now() + (usec_t)timeout_ms * USEC_PER_MS;
	for (nfds_t i = 0; i < kn; i++)
		kfds[i].revents = 0;

	for (;;) {
		stack_drive(s);
		int ready = n ? ts_poll(&s->sock, fds, n) : 0;
		int kready = 0;
		for (nfds_t i = 0; i < kn; i++)
			kready += kfds[i].revents != 0;
		usec_t now = ts_clock_now();
		if (ready > 0 || kready > 0 || now >= until)
			return ready + kready;

		int wait_ms = stack_ms_until(usec_min(ts_stack_next_deadline(s), until), now);
		if (s->busy_poll_usec && wait_ms != 0 && stack_busy_poll(s, now, until))
			continue;
		/* Whatever the sockets queued since the last poll round leaves before the sleep. */
		ts_stack_flush(s);
		pfd[0] = (struct pollfd){ .fd = netdev_pollfd(s->dev), .events = POLLIN };
		for (nfds_t i = 0; i < kn; i++)
			pfd[1 + i] = (struct pollfd){ .fd = kfds[i].fd, .events = kfds[i].events };
		int r = poll(pfd, 1 + kn, wait_ms);
		if (r < 0) {
			if (errno == EINTR)
				return -EINTR;
			return -errno;
		}
		for (nfds_t i = 0; i < kn; i++)
			kfds[i].revents = pfd[1 + i].revents;
	}
}

int ts_stack_wait(struct stack *s, struct pollfd *fds, nfds_t n, int timeout_ms)
{
	return ts_stack_wait_kernel(s, fds, n, NULL, 0, timeout_ms);
}

int ts_stack_epoll_wait(struct stack *s, int epfd, struct epoll_event *evs, int max, int timeout_ms)
{
	usec_t until = timeout_ms < 0 ? USEC_NEVER : ts_clock_now() + (usec_t)timeout_ms * USEC_PER_MS;

	for (;;) {
		stack_drive(s);
		int got = ts_epoll_collect(&s->sock, epfd, evs, max);
		usec_t now = ts_clock_now();
		if (got != 0 || now >= until)
			return got;
		int wait_ms = stack_ms_until(usec_min(ts_stack_next_deadline(s), until), now);
		struct pollfd pfd = { .fd = netdev_pollfd(s->dev), .events = POLLIN };
		if (poll(&pfd, 1, wait_ms) < 0)
			return -errno;
	}
}
