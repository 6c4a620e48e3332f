/*
 * test_socket_ready.c - the readiness API (stack/socket/ready.c) on the packet bench with
 * its fake clock: a socket joins its set's ready list when its state changes (a connection
 * queued on a listener, data, an ACK, the peer's FIN, a RST, a timer giving up), level-
 * and edge-triggered reporting, EPOLLONESHOT, EPOLLRDHUP, errors, the epoll_ctl errnos,
 * close leaving every set, the waiter's notification, and collecting that costs only the
 * sockets that changed.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "helpers/tcp_harness.h"
#include "socket/socket.h"

static int ep_add(struct socket_layer *sl, int ep, int fd, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.fd = fd };
	return ts_epoll_ctl(sl, ep, EPOLL_CTL_ADD, fd, &ev);
}

/* getsockopt(SO_ERROR), which must succeed. */
static int so_error(struct socket_layer *sl, int fd)
{
	int err = -1;
	socklen_t len = sizeof(err);
	assert_int_equal(ts_getsockopt(sl, fd, SOL_SOCKET, SO_ERROR, &err, &len), 0);
	return err;
}

/* Collects into evs[8]; returns the count. */
static int ep_collect(struct socket_layer *sl, int ep, struct epoll_event *evs)
{
	int n = ts_epoll_collect(sl, ep, evs, 8);
	assert_true(n >= 0);
	return n;
}

/* A listener is reported once a connection is queued, level-triggered until accept()
 * empties the queue. */
static void test_listener_level_triggered(void **state)
{
	struct th *h = *state;
	struct socket_layer *sl = th_sl(h);
	struct epoll_event evs[8];
	int lfd = th_listen(h, 80, 8);
	int ep = ts_epoll_create(sl, 0);
	assert_true(ep >= 0);
	assert_int_equal(ep_add(sl, ep, lfd, EPOLLIN), 0);
	assert_int_equal(ep_collect(sl, ep, evs), 0);

	struct tcp_opts mss = th_mss_opts(1460);
	th_syn_synack(h, &mss);
	assert_int_equal(ep_collect(sl, ep, evs), 0); /* half-open: not yet */
	th_send(h, TCP_FLAG_ACK, h->irs + 1, h->iss + 1, 65535, NULL, NULL, 0);
	assert_true(ts_epoll_pending(sl, ep));
	assert_int_equal(ep_collect(sl, ep, evs), 1);
	assert_int_equal(evs[0].data.fd, lfd);
	assert_int_equal(evs[0].events, EPOLLIN);
	assert_int_equal(ep_collect(sl, ep, evs), 1); /* level: still there */
	int fd = ts_accept(sl, lfd, NULL, SOCK_NONBLOCK);
	assert_true(fd >= 0);
	assert_int_equal(ep_collect(sl, ep, evs), 0);
	assert_false(ts_epoll_pending(sl, ep));
	assert_int_equal(ts_close(sl, ep), 0);
}

/* Edge-triggered: one report per change; new data on a still-readable socket is a new
 * edge (as Linux); nothing in between. */
static void test_edge_triggered_data(void **state)
{
	struct th *h = *state;
	struct socket_layer *sl = th_sl(h);
	struct epoll_event evs[8];
	int fd = th_established(h);
	int ep = ts_epoll_create(sl, EPOLL_CLOEXEC);
	assert_int_equal(ep_add(sl, ep, fd, EPOLLIN | EPOLLET), 0);
	assert_int_equal(ep_collect(sl, ep, evs), 0); /* nothing to read yet */

	th_send(h, TCP_FLAG_ACK | TCP_FLAG_PSH, h->irs + 1, h->iss + 1, 65535, NULL, "abc", 3);
	assert_int_equal(ep_collect(sl, ep, evs), 1);
	assert_int_equal(evs[0].events, EPOLLIN);
	assert_int_equal(ep_collect(sl, ep, evs), 0); /* edge: reported once */

	th_send(h, TCP_FLAG_ACK | TCP_FLAG_PSH, h->irs + 4, h->iss + 1, 65535, NULL, "de", 2);
	assert_int_equal(ep_collect(sl, ep, evs), 1); /* a new edge while still readable */
	char buf[8];
	assert_int_equal(ts_recv(sl, fd, buf, sizeof(buf), 0), 5);
	assert_int_equal(ep_collect(sl, ep, evs), 0);
	ts_close(sl, ep);
}

/* EPOLLOUT once the handshake of a connect() completes; EPOLLERR|EPOLLHUP with
 * SO_ERROR ECONNREFUSED when it is refused. */
static void test_connect_outcomes(void **state)
{
	struct th *h = *state;
	struct socket_layer *sl = th_sl(h);
	struct epoll_event evs[8];
	struct th_seg syn;
	int ep = ts_epoll_create(sl, 0);

	int fd = th_connect(h, 8080, &syn);
	assert_int_equal(ep_add(sl, ep, fd, EPOLLOUT), 0);
	assert_int_equal(ep_collect(sl, ep, evs), 0); /* SYN-SENT: nothing */
	struct tcp_opts mss = th_mss_opts(1460);
	th_send(h, TCP_FLAG_SYN | TCP_FLAG_ACK, h->irs, h->iss + 1, 65535, &mss, NULL, 0);
	assert_int_equal(ep_collect(sl, ep, evs), 1);
	assert_int_equal(evs[0].events, EPOLLOUT);

	th_drain(h); /* the handshake's ACK */
	int fd2 = th_connect(h, 8081, &syn);
	assert_int_equal(ep_add(sl, ep, fd2, EPOLLOUT | EPOLLET), 0);
	th_send(h, TCP_FLAG_RST | TCP_FLAG_ACK, 0, h->iss + 1, 0, NULL, NULL, 0);
	int n = ep_collect(sl, ep, evs);
	assert_true(n >= 1);
	bool seen = false;
	for (int i = 0; i < n; i++)
		if (evs[i].data.fd == fd2) {
			seen = true;
			assert_true(evs[i].events & EPOLLERR);
			assert_true(evs[i].events & EPOLLHUP);
		}
	assert_true(seen);
	assert_int_equal(so_error(sl, fd2), ECONNREFUSED);
	ts_close(sl, ep);
}

/* A timer is a change too: SYN retransmissions run out with nobody answering, and the
 * socket shows up with EPOLLERR (ETIMEDOUT) although no segment arrived. */
static void test_timer_wakes_set(void **state)
{
	struct th *h = *state;
	struct socket_layer *sl = th_sl(h);
	struct epoll_event evs[8];
	struct th_seg syn;
	int ep = ts_epoll_create(sl, 0);
	int fd = th_connect(h, 8080, &syn);
	assert_int_equal(ep_add(sl, ep, fd, EPOLLOUT | EPOLLET), 0);
	assert_int_equal(ep_collect(sl, ep, evs), 0);
	th_advance(h, 200 * 1000); /* 1+2+...+64 s of SYN retransmissions and more */
	th_drain(h);
	assert_int_equal(ep_collect(sl, ep, evs), 1);
	assert_true(evs[0].events & EPOLLERR);
	assert_int_equal(so_error(sl, fd), ETIMEDOUT);
	ts_close(sl, ep);
}

/* The peer's FIN: EPOLLIN|EPOLLRDHUP (RDHUP only when asked for); its RST: EPOLLERR and
 * EPOLLHUP even when not asked for (epoll(7)), and EPOLLOUT, as Linux's tcp_poll reports
 * it once sending is shut, so that a writer wakes to its EPIPE. */
static void test_rdhup_and_reset(void **state)
{
	struct th *h = *state;
	struct socket_layer *sl = th_sl(h);
	struct epoll_event evs[8];
	int fd = th_established(h);
	int ep = ts_epoll_create(sl, 0);
	int ep2 = ts_epoll_create(sl, 0);
	assert_int_equal(ep_add(sl, ep, fd, EPOLLIN | EPOLLRDHUP | EPOLLET), 0);
	assert_int_equal(ep_add(sl, ep2, fd, EPOLLOUT | EPOLLET), 0); /* two sets, one socket */
	assert_int_equal(ep_collect(sl, ep2, evs), 1);                 /* writable at once */
	assert_int_equal(evs[0].events, EPOLLOUT);

	th_send(h, TCP_FLAG_ACK | TCP_FLAG_FIN, h->irs + 1, h->iss + 1, 65535, NULL, NULL, 0);
	assert_int_equal(ep_collect(sl, ep, evs), 1);
	assert_int_equal(evs[0].events, EPOLLIN | EPOLLRDHUP);
	assert_int_equal(ep_collect(sl, ep2, evs), 1); /* the change reached the other set too */
	assert_int_equal(evs[0].events, EPOLLOUT);

	th_send(h, TCP_FLAG_RST, h->irs + 2, 0, 0, NULL, NULL, 0);
	assert_int_equal(ep_collect(sl, ep2, evs), 1);
	assert_true(evs[0].events & EPOLLERR);
	assert_true(evs[0].events & EPOLLHUP);
	assert_true(evs[0].events & EPOLLOUT);
	ts_close(sl, ep);
	ts_close(sl, ep2);
}

/* EPOLLONESHOT: one report, then silence whatever happens, until EPOLL_CTL_MOD re-arms
 * (and a socket already ready is then reported at once). */
static void test_oneshot(void **state)
{
	struct th *h = *state;
	struct socket_layer *sl = th_sl(h);
	struct epoll_event evs[8];
	int fd = th_established(h);
	int ep = ts_epoll_create(sl, 0);
	assert_int_equal(ep_add(sl, ep, fd, EPOLLIN | EPOLLONESHOT), 0);
	th_send(h, TCP_FLAG_ACK | TCP_FLAG_PSH, h->irs + 1, h->iss + 1, 65535, NULL, "abc", 3);
	assert_int_equal(ep_collect(sl, ep, evs), 1);
	assert_int_equal(ep_collect(sl, ep, evs), 0);
	th_send(h, TCP_FLAG_ACK | TCP_FLAG_PSH, h->irs + 4, h->iss + 1, 65535, NULL, "de", 2);
	assert_int_equal(ep_collect(sl, ep, evs), 0);
	struct epoll_event ev = { .events = EPOLLIN | EPOLLONESHOT, .data.u64 = 77 };
	assert_int_equal(ts_epoll_ctl(sl, ep, EPOLL_CTL_MOD, fd, &ev), 0);
	assert_int_equal(ep_collect(sl, ep, evs), 1);
	assert_int_equal(evs[0].data.u64, 77);
	ts_close(sl, ep);
}

/* epoll_ctl's errnos, as Linux's. */
static void test_ctl_errors(void **state)
{
	struct th *h = *state;
	struct socket_layer *sl = th_sl(h);
	struct epoll_event ev = { .events = EPOLLIN };
	struct epoll_event evs[2];
	int fd = ts_socket(sl, AF_INET, SOCK_STREAM, 0);
	int ep = ts_epoll_create(sl, 0);

	assert_int_equal(ts_epoll_create(sl, 1), -EINVAL);
	assert_int_equal(ts_epoll_ctl(sl, 999, EPOLL_CTL_ADD, fd, &ev), -EBADF);
	assert_int_equal(ts_epoll_ctl(sl, fd, EPOLL_CTL_ADD, fd, &ev), -EINVAL); /* not a set */
	assert_int_equal(ts_epoll_ctl(sl, ep, EPOLL_CTL_ADD, 999, &ev), -EBADF);
	assert_int_equal(ts_epoll_ctl(sl, ep, EPOLL_CTL_ADD, ep, &ev), -EINVAL);
	assert_int_equal(ts_epoll_ctl(sl, ep, 42, fd, &ev), -EINVAL);
	assert_int_equal(ts_epoll_ctl(sl, ep, EPOLL_CTL_ADD, fd, NULL), -EFAULT);
	assert_int_equal(ts_epoll_ctl(sl, ep, EPOLL_CTL_MOD, fd, &ev), -ENOENT);
	assert_int_equal(ts_epoll_ctl(sl, ep, EPOLL_CTL_DEL, fd, NULL), -ENOENT);
	assert_int_equal(ts_epoll_ctl(sl, ep, EPOLL_CTL_ADD, fd, &ev), 0);
	assert_int_equal(ts_epoll_ctl(sl, ep, EPOLL_CTL_ADD, fd, &ev), -EEXIST);
	struct epoll_event ex = { .events = EPOLLIN | EPOLLEXCLUSIVE };
	assert_int_equal(ts_epoll_ctl(sl, ep, EPOLL_CTL_MOD, fd, &ex), -EINVAL);
	assert_int_equal(ts_epoll_ctl(sl, ep, EPOLL_CTL_DEL, fd, NULL), 0);
	assert_int_equal(ts_epoll_ctl(sl, ep, EPOLL_CTL_ADD, fd, &ex), 0); /* accepted on ADD */
	assert_int_equal(ts_epoll_collect(sl, ep, evs, 0), -EINVAL);
	assert_int_equal(ts_epoll_collect(sl, ep, NULL, 2), -EFAULT);
	assert_int_equal(ts_epoll_collect(sl, fd, evs, 2), -EINVAL);
	/* A set is not a socket. */
	assert_int_equal(ts_listen(sl, ep, 1), -ENOTSOCK);
	assert_int_equal(ts_send(sl, ep, "x", 1, 0), -ENOTSOCK);
	/* A fresh socket is POLLOUT|POLLHUP (Linux tcp_poll): HUP is reported although only
	 * EPOLLIN was asked for, at once. */
	assert_int_equal(ts_epoll_collect(sl, ep, evs, 2), 1);
	assert_int_equal(evs[0].events, EPOLLHUP);
	ts_close(sl, fd);
	ts_close(sl, ep);
}

/* Closing a socket takes it out of every set (its number may be reused at once);
 * closing a set with sockets in it frees the registrations (ASan/valgrind check). */
static void test_close_leaves_sets(void **state)
{
	struct th *h = *state;
	struct socket_layer *sl = th_sl(h);
	struct epoll_event evs[8];
	int ep = ts_epoll_create(sl, 0);
	int ep2 = ts_epoll_create(sl, 0);
	int fd = ts_socket(sl, AF_INET, SOCK_STREAM, 0);
	assert_int_equal(ep_add(sl, ep, fd, EPOLLOUT), 0);
	assert_int_equal(ep_add(sl, ep2, fd, EPOLLOUT), 0);
	assert_int_equal(ts_close(sl, fd), 0);
	assert_int_equal(ep_collect(sl, ep, evs), 0);
	int again = ts_socket(sl, AF_INET, SOCK_STREAM, 0);
	assert_int_equal(again, fd);
	struct epoll_event ev = { .events = EPOLLOUT };
	assert_int_equal(ts_epoll_ctl(sl, ep, EPOLL_CTL_MOD, again, &ev), -ENOENT);
	assert_int_equal(ep_add(sl, ep2, again, EPOLLOUT), 0); /* not EEXIST: the old one left */
	assert_int_equal(ts_close(sl, ep2), 0);
	assert_int_equal(ts_close(sl, ep), 0);
	assert_int_equal(ts_close(sl, again), 0);
}

static void count_notify(void *arg)
{
	(*(int *)arg)++;
}

/* A set whose notification counts into *calls, with an established connection's socket
 * registered edge-triggered for input (*fd); counted: its waiters count themselves. */
static int notify_set(struct th *h, int *calls, int *fd, bool counted)
{
	struct socket_layer *sl = th_sl(h);
	int ep = ts_epoll_create(sl, 0);

	*fd = th_established(h);
	ts_epoll_set_notify(sl, ep, count_notify, calls);
	if (counted)
		ts_epoll_set_sleepers(sl, ep, 0);
	assert_int_equal(ep_add(sl, ep, *fd, EPOLLIN | EPOLLET), 0);
	return ep;
}

/* The notification fires when the ready list stops being empty, once, not per change. */
static void test_notify_once_per_batch(void **state)
{
	struct th *h = *state;
	struct socket_layer *sl = th_sl(h);
	struct epoll_event evs[8];
	int calls = 0, fd;
	int ep = notify_set(h, &calls, &fd, false);
	assert_int_equal(calls, 1); /* ADD looks at once */
	assert_int_equal(ep_collect(sl, ep, evs), 0);
	th_send(h, TCP_FLAG_ACK | TCP_FLAG_PSH, h->irs + 1, h->iss + 1, 65535, NULL, "a", 1);
	th_send(h, TCP_FLAG_ACK | TCP_FLAG_PSH, h->irs + 2, h->iss + 1, 65535, NULL, "b", 1);
	assert_int_equal(calls, 2);
	assert_int_equal(ep_collect(sl, ep, evs), 1);
	th_send(h, TCP_FLAG_ACK | TCP_FLAG_PSH, h->irs + 3, h->iss + 1, 65535, NULL, "c", 1);
	assert_int_equal(calls, 3);
	ts_close(sl, ep);
}

/* ts_epoll_set_sleepers: once a waiter counts itself, the notification runs only while one
 * sleeps; an awake waiter collects the change itself (the preload's epoll_wait). */
static void test_notify_only_while_sleeping(void **state)
{
	struct th *h = *state;
	struct socket_layer *sl = th_sl(h);
	struct epoll_event evs[8];
	int calls = 0, fd;
	int ep = notify_set(h, &calls, &fd, true);
	assert_int_equal(ep_collect(sl, ep, evs), 0);
	th_send(h, TCP_FLAG_ACK | TCP_FLAG_PSH, h->irs + 1, h->iss + 1, 65535, NULL, "a", 1);
	assert_int_equal(calls, 0);                 /* nobody sleeps: no notification */
	assert_int_equal(ep_collect(sl, ep, evs), 1); /* the awake waiter sees it anyway */
	ts_epoll_set_sleepers(sl, ep, 1);
	th_send(h, TCP_FLAG_ACK | TCP_FLAG_PSH, h->irs + 2, h->iss + 1, 65535, NULL, "b", 1);
	assert_int_equal(calls, 1);                 /* a sleeper: notified */
	ts_epoll_set_sleepers(sl, ep, -1);
	assert_int_equal(ep_collect(sl, ep, evs), 1);
	th_send(h, TCP_FLAG_ACK | TCP_FLAG_PSH, h->irs + 3, h->iss + 1, 65535, NULL, "c", 1);
	assert_int_equal(calls, 1);
	ts_close(sl, ep);
}

/* O(ready): with many idle connections registered and drained, one change yields exactly
 * that connection, and a level-triggered busy socket does not starve another (it goes to
 * the back after each report). */
static void test_only_changed_sockets(void **state)
{
	struct th *h = *state;
	struct socket_layer *sl = th_sl(h);
	struct epoll_event evs[8];
	int lfd = th_listen(h, 80, 64);
	int ep = ts_epoll_create(sl, 0);
	int fds[20];
	uint32_t irs[20], iss[20];
	for (int i = 0; i < 20; i++) {
		h->peer_port = (uint16_t)(41000 + i);
		h->irs = 5000u * (uint32_t)(i + 1);
		fds[i] = th_open_passive(h, lfd, NULL, 65535);
		irs[i] = h->irs;
		iss[i] = h->iss;
		th_drain(h);
		assert_int_equal(ep_add(sl, ep, fds[i], EPOLLIN), 0);
	}
	assert_int_equal(ep_collect(sl, ep, evs), 0);
	assert_false(ts_epoll_pending(sl, ep));

	h->peer_port = 41007;
	th_send(h, TCP_FLAG_ACK | TCP_FLAG_PSH, irs[7] + 1, iss[7] + 1, 65535, NULL, "x", 1);
	assert_int_equal(ep_collect(sl, ep, evs), 1);
	assert_int_equal(evs[0].data.fd, fds[7]);

	/* Two readable level-triggered sockets, one event per collect: they take turns. */
	h->peer_port = 41003;
	th_send(h, TCP_FLAG_ACK | TCP_FLAG_PSH, irs[3] + 1, iss[3] + 1, 65535, NULL, "y", 1);
	int seen[2];
	for (int round = 0; round < 2; round++) {
		assert_int_equal(ts_epoll_collect(sl, ep, evs, 1), 1);
		seen[round] = evs[0].data.fd;
	}
	assert_int_not_equal(seen[0], seen[1]);
	assert_true((seen[0] == fds[3] || seen[0] == fds[7]) && (seen[1] == fds[3] || seen[1] == fds[7]));
	ts_close(sl, ep);
	ts_close(sl, lfd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_listener_level_triggered, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_edge_triggered_data, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_connect_outcomes, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_timer_wakes_set, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_rdhup_and_reset, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_oneshot, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_ctl_errors, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_close_leaves_sets, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_notify_once_per_batch, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_notify_only_while_sleeping, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_only_changed_sockets, th_setup, th_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
