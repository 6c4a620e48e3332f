/*
 * wait.c - epoll, poll and select over kernel and tapstack descriptors together, with no
 * busy loop and no fixed sleep.
 *
 * epoll: a program's epoll descriptor stays the kernel's. The first tapstack socket added
 * to it gives it a tapstack side (struct pl_fd of kind PL_EPOLL): a ts_epoll set (the
 * readiness API, stack/socket/ready.c) holding the tapstack members, and one eventfd that
 * sits in the kernel set. The stack thread writes that eventfd when the ts set's ready list
 * stops being empty (ts_epoll_set_notify). epoll_wait collects tapstack events first; when
 * there are none it sleeps in the kernel's epoll_wait, which returns for a kernel event or
 * for the eventfd; the eventfd's entry is taken out of the results and the tapstack events
 * collected in its place. The eventfd's entry is recognised by its data, PL_EPOLL_MAGIC.
 *
 * poll and select: the tapstack members are looked at directly (as poll(2) does); when none
 * is ready, a short-lived ts_epoll set of them with the calling thread's eventfd as its
 * notification joins the kernel poll, which then wakes for either kind.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "preload/preload.h"

/* Everything defined below is an interposed call, exported (mk/preload.mk hides the rest). */
#pragma GCC visibility push(default)

/* The data of the eventfd's entry in a program's kernel epoll set ("tapstack"). */
#define PL_EPOLL_MAGIC 0x74617073746163ebull
/* The data of the device's entry (run-to-completion: the TAP descriptor itself). */
#define PL_DEVICE_MAGIC 0x74617073746164ebull
/* poll() entries handled on the stack; more are allocated per call. */
#define PL_POLL_STACK 64

int __poll_chk(struct pollfd *fds, nfds_t n, int timeout, size_t fdslen);
int __ppoll_chk(struct pollfd *fds, nfds_t n, const struct timespec *ts, const sigset_t *mask,
                size_t fdslen);
extern void __chk_fail(void) __attribute__((noreturn));

static struct socket_layer *pl_sl(void)
{
	return &pl.stack->sock;
}

void pl_epoll_notify(void *arg)
{
	pl_notify(arg);
}

static void pl_drain(int efd)
{
	uint64_t v;
	(void)!pl.real.read(efd, &v, sizeof(v));
}

void pl_epoll_forget(struct pl_fd *e)
{
	if (!pl.given_away) {
		ts_close(pl_sl(), e->ts);
		pl_notify_cancel(e->efd);
	}
	pl.real.close(e->efd);
}

/* Milliseconds left until `end` (CLOCK_MONOTONIC ns), -1 for none (end 0 = forever). */
static int pl_ms_left(uint64_t end)
{
	if (!end)
		return -1;
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	uint64_t t = (uint64_t)now.tv_sec * 1000000000ull + (uint64_t)now.tv_nsec;
	if (t >= end)
		return 0;
	uint64_t ms = (end - t + 999999) / 1000000;
	return ms > INT_MAX ? INT_MAX : (int)ms;
}

static uint64_t pl_deadline(int timeout_ms)
{
	if (timeout_ms < 0)
		return 0;
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return (uint64_t)now.tv_sec * 1000000000ull + (uint64_t)now.tv_nsec + (uint64_t)timeout_ms * 1000000ull + 1;
}

/* The tapstack side of kernel epoll descriptor epfd, made on first use (lock held). */
static struct pl_fd *pl_epoll_side(int epfd, int *err)
{
	struct pl_fd *e = pl_epoll_of(epfd);
	if (e)
		return e;
	if (epfd < 0 || (uint32_t)epfd >= pl.nfds || pl.fds[epfd].kind != PL_NONE) {
		*err = pl.fds && epfd >= 0 && (uint32_t)epfd < pl.nfds ? -EINVAL : -EBADF;
		return NULL;
	}
	int efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (efd < 0) {
		*err = -errno;
		return NULL;
	}
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = PL_EPOLL_MAGIC };
	if (pl.real.epoll_ctl(epfd, EPOLL_CTL_ADD, efd, &ev) < 0) {
		*err = -errno; /* EBADF, or EINVAL: epfd is not an epoll descriptor */
		pl.real.close(efd);
		return NULL;
	}
	int set = ts_epoll_create(pl_sl(), 0);
	if (set < 0) {
		*err = set;
		pl.real.close(efd);
		return NULL;
	}
	if (pl.drive) {
		/* Run-to-completion: the device too, so a frame wakes the thread that will take it
		 * (EPOLLEXCLUSIVE: one of the program's sets per frame, not every one). */
		struct epoll_event dev = { .events = EPOLLIN | EPOLLEXCLUSIVE, .data.u64 = PL_DEVICE_MAGIC };
		int dfd = netdev_pollfd(pl.stack->dev);
		if (pl.real.epoll_ctl(epfd, EPOLL_CTL_ADD, dfd, &dev) < 0) {
			dev.events = EPOLLIN; /* a kernel without EPOLLEXCLUSIVE */
			(void)pl.real.epoll_ctl(epfd, EPOLL_CTL_ADD, dfd, &dev);
		}
	}
	ts_epoll_set_notify(pl_sl(), set, pl_epoll_notify, pl_notify_arg(efd));
	/* Its waiters count themselves (epoll_pwait): the eventfd is written only while one
	 * sleeps; an awake one collects the change itself before it sleeps. */
	ts_epoll_set_sleepers(pl_sl(), set, 0);
	pl.fds[epfd] = (struct pl_fd){ .kind = PL_EPOLL, .ts = set, .efd = efd, .slot = (uint8_t)pl.slot };
	return &pl.fds[epfd];
}

int epoll_ctl(int epfd, int op, int fd, struct epoll_event *ev)
{
	int ts = pl_sock_of(fd);
	if (ts < 0)
		return pl.real.epoll_ctl(epfd, op, fd, ev);
	if (pl.given_away)
		return (int)pl_ret(-EBADF);
	int err = 0;
	ts_blocking_lock(&pl.b);
	struct pl_fd *e = pl_epoll_side(epfd, &err);
	if (e)
		err = ts_epoll_ctl(pl_sl(), e->ts, op, ts, ev);
	ts_blocking_unlock(&pl.b);
	return (int)pl_ret(err);
}

/* Takes our entries (the eventfd, drained, and the device) out of n kernel events; returns
 * the rest. *woken: one of them was there (tapstack events may be waiting). */
static int pl_epoll_strip(struct pl_fd *e, struct epoll_event *evs, int n, bool *woken)
{
	int k = 0;
	for (int i = 0; i < n; i++) {
		if (evs[i].data.u64 == PL_EPOLL_MAGIC || evs[i].data.u64 == PL_DEVICE_MAGIC) {
			if (evs[i].data.u64 == PL_EPOLL_MAGIC)
				pl_drain(e->efd);
			*woken = true;
			continue;
		}
		evs[k++] = evs[i];
	}
	return k;
}

/* Lock held: runs the stack in this thread first when it drives (frames that came while the
 * program worked are taken here, not by the stack thread), then collects up to max events. */
static int pl_collect(struct pl_fd *e, struct epoll_event *evs, int max)
{
	if (pl.drive)
		(void)ts_blocking_drive(&pl.b);
	if (max <= 0)
		return 0;
	int n = ts_epoll_collect(pl_sl(), e->ts, evs, max);
	return n < 0 ? 0 : n;
}

/*
 * epoll_wait over a set with tapstack members. Run-to-completion (pl.drive): the calling
 * thread drives the stack (ts_blocking_drive) before it collects, and sleeps in the kernel's
 * epoll_wait with the device in the set (ts_blocking_park: the stack thread leaves the device
 * to it), so a frame wakes this thread, which takes it and returns its events: no thread
 * switch and no eventfd between the stack and the program. The eventfd still carries what
 * the stack threads do meanwhile (timers, another process, the device after the lease ran
 * out), and is written only while a thread sleeps here (ts_epoll_set_sleepers).
 */
int epoll_pwait(int epfd, struct epoll_event *evs, int max, int timeout, const sigset_t *mask)
{
	struct pl_fd *e = pl_epoll_of(epfd);
	if (!e || pl.given_away) {
		int k = pl.real.epoll_pwait(epfd, evs, max, timeout, mask);
		bool woken = false;
		/* Our entries of the set are not the program's events. */
		return e && k > 0 ? pl_epoll_strip(e, evs, k, &woken) : k;
	}
	if (max <= 0)
		return (int)pl_ret(-EINVAL);
	if (!evs)
		return (int)pl_ret(-EFAULT);
	uint64_t end = pl_deadline(timeout);
	ts_blocking_lock(&pl.b);
	for (;;) {
		bool woken = false;
		int n = pl_collect(e, evs, max);
		if (n > 0) {
			ts_blocking_unlock(&pl.b);
			/* Kernel events too, without waiting, so neither kind starves. */
			int k = max > n ? pl.real.epoll_pwait(epfd, evs + n, max - n, 0, mask) : 0;
			return n + (k > 0 ? pl_epoll_strip(e, evs + n, k, &woken) : 0);
		}
		ts_epoll_set_sleepers(pl_sl(), e->ts, 1);
		if (pl.drive)
			(void)ts_blocking_park(&pl.b);
		ts_blocking_unlock(&pl.b);
		int k = pl.real.epoll_pwait(epfd, evs, max, pl_ms_left(end), mask);
		int err = errno;
		ts_blocking_lock(&pl.b);
		ts_epoll_set_sleepers(pl_sl(), e->ts, -1);
		if (pl.drive)
			ts_blocking_unpark(&pl.b);
		if (k > 0) {
			k = pl_epoll_strip(e, evs, k, &woken);
			if (woken)
				k += pl_collect(e, evs + k, max - k);
		}
		if (k != 0 || pl_ms_left(end) == 0) {
			ts_blocking_unlock(&pl.b);
			errno = err;
			return k; /* events, a timeout, or -1 with errno (EINTR) */
		}
		/* Only our entries, and what they announced was not an event after all. */
	}
}

int epoll_wait(int epfd, struct epoll_event *evs, int max, int timeout)
{
	return epoll_pwait(epfd, evs, max, timeout, NULL);
}

int epoll_create1(int flags)
{
	return pl.real.epoll_create1(flags);
}

int epoll_create(int size)
{
	if (size <= 0) {
		errno = EINVAL;
		return -1;
	}
	return pl.real.epoll_create1(0);
}

/* The calling thread's eventfd for poll and select (closed when the thread ends). */
static pthread_key_t pl_thread_key;
static pthread_once_t pl_thread_once = PTHREAD_ONCE_INIT;
static __thread int pl_thread_efd = -1;

static void pl_thread_efd_close(void *arg)
{
	pl.real.close((int)(intptr_t)arg - 1);
}

static void pl_thread_key_make(void)
{
	(void)pthread_key_create(&pl_thread_key, pl_thread_efd_close);
}

static int pl_thread_eventfd(void)
{
	if (pl_thread_efd < 0) {
		pl_thread_efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		if (pl_thread_efd >= 0) {
			pthread_once(&pl_thread_once, pl_thread_key_make);
			pthread_setspecific(pl_thread_key, (void *)(intptr_t)(pl_thread_efd + 1));
		}
	}
	return pl_thread_efd;
}

void pl_wait_forked(void)
{
	if (pl_thread_efd < 0)
		return;
	pl.real.close(pl_thread_efd);
	pl_thread_efd = -1;
	pthread_setspecific(pl_thread_key, NULL);
}

/* Fills revents of the tapstack entries (ts[i] >= 0) from their sockets; returns how many
 * are ready. Lock held. */
static int pl_poll_ts(struct pollfd *fds, const int *ts, nfds_t n)
{
	int ready = 0;
	for (nfds_t i = 0; i < n; i++) {
		if (ts[i] == -1)
			continue;
		short ev = ts[i] == -3 ? POLLNVAL : ts_revents(pl_sl(), ts[i]);
		fds[i].revents = (short)(ev & (fds[i].events | POLLERR | POLLHUP | POLLNVAL));
		ready += fds[i].revents != 0;
	}
	return ready;
}

/*
 * poll over a mix: kernel entries go to the kernel's ppoll (with the thread's eventfd as
 * one more entry while tapstack ones wait), tapstack entries are looked at directly.
 */
static int pl_poll(struct pollfd *fds, nfds_t n, int timeout, const sigset_t *mask)
{
	int ts_small[PL_POLL_STACK];
	struct pollfd k_small[PL_POLL_STACK + 1];
	int *ts = n <= PL_POLL_STACK ? ts_small : malloc(n * sizeof(*ts));
	struct pollfd *k = n <= PL_POLL_STACK ? k_small : malloc((n + 1) * sizeof(*k));
	int rc = -ENOMEM;
	if (!ts || !k)
		goto out;
	nfds_t nk = 0;
	int nts = 0;
	for (nfds_t i = 0; i < n; i++) {
		int t = pl_sock_of(fds[i].fd);
		ts[i] = t >= 0 ? (pl.given_away ? -3 : t) : -1;
		nts += t >= 0;
		if (t < 0)
			k[nk++] = fds[i];
	}
	uint64_t end = pl_deadline(timeout);
	int efd = pl_thread_eventfd();
	if (efd < 0) {
		rc = -errno;
		goto out;
	}
	for (;;) {
		int set = -1;
		ts_blocking_lock(&pl.b);
		int ready = pl_poll_ts(fds, ts, n);
		int left = pl_ms_left(end);
		if (ready == 0 && left != 0) {
			/* Nothing yet: a set of the tapstack entries whose changes write efd. */
			set = ts_epoll_create(pl_sl(), 0);
			for (nfds_t i = 0; set >= 0 && i < n; i++) {
				if (ts[i] < 0)
					continue;
				struct epoll_event ev = { .events = (uint32_t)(unsigned short)fds[i].events };
				(void)ts_epoll_ctl(pl_sl(), set, EPOLL_CTL_ADD, ts[i], &ev);
			}
			if (set >= 0) {
				struct epoll_event drop[16];
				while (ts_epoll_collect(pl_sl(), set, drop, 16) == 16)
					; /* clears the candidates ADD queued: nothing is ready */
				ts_epoll_set_notify(pl_sl(), set, pl_epoll_notify, pl_notify_arg(efd));
				pl_drain(efd);
			}
		}
		ts_blocking_unlock(&pl.b);
		k[nk] = (struct pollfd){ .fd = efd, .events = POLLIN };
		struct timespec tmo = { 0, 0 };
		int wait_ms = ready ? 0 : left;
		if (wait_ms > 0) {
			tmo.tv_sec = wait_ms / 1000;
			tmo.tv_nsec = (long)(wait_ms % 1000) * 1000000L;
		}
		int kr = pl.real.ppoll(k, nk + (set >= 0), wait_ms < 0 ? NULL : &tmo, mask);
		int err = kr < 0 ? errno : 0;
		ts_blocking_lock(&pl.b);
		if (set >= 0) {
			ts_close(pl_sl(), set);
			pl_notify_cancel(efd);
		}
		if (!ready && kr >= 0)
			ready = pl_poll_ts(fds, ts, n);
		ts_blocking_unlock(&pl.b);
		if (set >= 0 && kr > 0 && (k[nk].revents & POLLIN)) {
			pl_drain(efd);
			kr--;
		}
		if (kr < 0) {
			rc = -err;
			goto out;
		}
		for (nfds_t i = 0, j = 0; i < n; i++)
			if (ts[i] == -1)
				fds[i].revents = k[j++].revents;
		if (ready + kr > 0 || pl_ms_left(end) == 0) {
			rc = ready + kr;
			goto out;
		}
	}
out:
	if (ts != ts_small)
		free(ts);
	if (k != k_small)
		free(k);
	(void)nts;
	return (int)pl_ret(rc);
}

/* Whether any of the n entries is a tapstack socket (the fast path skips us when not). */
static bool pl_poll_has_ts(const struct pollfd *fds, nfds_t n)
{
	if (!pl.fds)
		return false;
	for (nfds_t i = 0; i < n; i++)
		if (pl_sock_of(fds[i].fd) >= 0)
			return true;
	return false;
}

int poll(struct pollfd *fds, nfds_t n, int timeout)
{
	if (!pl_poll_has_ts(fds, n))
		return pl.real.poll(fds, n, timeout);
	return pl_poll(fds, n, timeout, NULL);
}

int __poll_chk(struct pollfd *fds, nfds_t n, int timeout, size_t fdslen)
{
	if (fdslen / sizeof(*fds) < n)
		__chk_fail();
	return poll(fds, n, timeout);
}

static int pl_ts_to_ms(const struct timespec *t)
{
	if (!t)
		return -1;
	if (t->tv_sec < 0 || t->tv_nsec < 0 || t->tv_nsec >= 1000000000L)
		return -2;
	uint64_t ms = (uint64_t)t->tv_sec * 1000u + ((uint64_t)t->tv_nsec + 999999u) / 1000000u;
	return ms > INT_MAX ? INT_MAX : (int)ms;
}

int ppoll(struct pollfd *fds, nfds_t n, const struct timespec *t, const sigset_t *mask)
{
	if (!pl_poll_has_ts(fds, n))
		return pl.real.ppoll(fds, n, t, mask);
	int ms = pl_ts_to_ms(t);
	if (ms == -2)
		return (int)pl_ret(-EINVAL);
	return pl_poll(fds, n, ms, mask);
}

int __ppoll_chk(struct pollfd *fds, nfds_t n, const struct timespec *t, const sigset_t *mask, size_t fdslen)
{
	if (fdslen / sizeof(*fds) < n)
		__chk_fail();
	return ppoll(fds, n, t, mask);
}

/* select over a mix, through pl_poll: the sets become poll entries and back. */
static int pl_select(int nfds, fd_set *r, fd_set *w, fd_set *x, int ms, const sigset_t *mask)
{
	if (nfds < 0 || nfds > FD_SETSIZE)
		return (int)pl_ret(-EINVAL);
	struct pollfd *p = malloc((size_t)(nfds ? nfds : 1) * sizeof(*p));
	if (!p)
		return (int)pl_ret(-ENOMEM);
	nfds_t n = 0;
	for (int fd = 0; fd < nfds; fd++) {
		short ev = (short)((r && FD_ISSET(fd, r) ? POLLIN : 0) | (w && FD_ISSET(fd, w) ? POLLOUT : 0) |
		                   (x && FD_ISSET(fd, x) ? POLLPRI : 0));
		if (ev)
			p[n++] = (struct pollfd){ .fd = fd, .events = ev };
	}
	int rc = pl_poll(p, n, ms, mask);
	if (rc < 0) {
		free(p);
		return -1;
	}
	for (nfds_t i = 0; i < n; i++)
		if (p[i].revents & POLLNVAL) {
			free(p);
			return (int)pl_ret(-EBADF);
		}
	if (r)
		FD_ZERO(r);
	if (w)
		FD_ZERO(w);
	if (x)
		FD_ZERO(x);
	int count = 0;
	for (nfds_t i = 0; i < n; i++) {
		short re = p[i].revents;
		/* Linux's select: readable on IN/HUP/ERR, writable on OUT/ERR. */
		if (r && (p[i].events & POLLIN) && (re & (POLLIN | POLLHUP | POLLERR))) {
			FD_SET(p[i].fd, r);
			count++;
		}
		if (w && (p[i].events & POLLOUT) && (re & (POLLOUT | POLLERR))) {
			FD_SET(p[i].fd, w);
			count++;
		}
		if (x && (p[i].events & POLLPRI) && (re & POLLPRI)) {
			FD_SET(p[i].fd, x);
			count++;
		}
	}
	free(p);
	return count;
}

/* Whether a tapstack socket is in any of the sets. */
static bool pl_select_has_ts(int nfds, const fd_set *r, const fd_set *w, const fd_set *x)
{
	if (!pl.fds || nfds < 0 || nfds > FD_SETSIZE)
		return false;
	for (int fd = 0; fd < nfds; fd++)
		if (((r && FD_ISSET(fd, r)) || (w && FD_ISSET(fd, w)) || (x && FD_ISSET(fd, x))) &&
		    pl_sock_of(fd) >= 0)
			return true;
	return false;
}

int select(int nfds, fd_set *r, fd_set *w, fd_set *x, struct timeval *tv)
{
	if (!pl_select_has_ts(nfds, r, w, x))
		return pl.real.select(nfds, r, w, x, tv);
	if (tv && (tv->tv_sec < 0 || tv->tv_usec < 0 || tv->tv_usec >= 1000000))
		return (int)pl_ret(-EINVAL);
	long long ms = tv ? (long long)tv->tv_sec * 1000 + (tv->tv_usec + 999) / 1000 : -1;
	int rc = pl_select(nfds, r, w, x, ms > INT_MAX ? INT_MAX : (int)ms, NULL);
	if (rc == 0 && tv)
		*tv = (struct timeval){ 0, 0 }; /* Linux: the time left */
	return rc;
}

int pselect(int nfds, fd_set *r, fd_set *w, fd_set *x, const struct timespec *t, const sigset_t *mask)
{
	if (!pl_select_has_ts(nfds, r, w, x))
		return pl.real.pselect(nfds, r, w, x, t, mask);
	int ms = pl_ts_to_ms(t);
	if (ms == -2)
		return (int)pl_ret(-EINVAL);
	return pl_select(nfds, r, w, x, ms, mask);
}
