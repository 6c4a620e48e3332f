/*
 * ready.c - the event readiness API: epoll-like sets of sockets (socket.h, "Readiness").
 *
 * A set (struct ts_epoll) is a descriptor of its own in the socket table. Registering a
 * socket makes a struct ts_epitem that sits on two lists: the socket's list of sets that
 * watch it (ts_sock.epitems; usually one) and, while the socket may be ready, the set's
 * ready list. TCP tells us when a socket's poll state may have changed (the readiness
 * upcall of tcp.h, or a ts_* call here that changes it): ts_ready_wake() then appends each
 * of the socket's items to its set's ready list, O(sets watching the socket). Collecting
 * walks only the ready list, O(ready): each item's events are recomputed from the socket
 * (tcp_conn_revents, as Linux's ep_send_events calls the file's poll again), so the list
 * is a list of candidates and a wake-up that turned out to change nothing costs nothing
 * more than a look.
 *
 * Level-triggered items that are still ready go to the back of the list after being
 * reported, so the next collect sees them again and a busy socket cannot starve the
 * others; edge-triggered (EPOLLET) and one-shot items leave the list when reported and
 * come back only with the next wake-up, which is the next change (Linux's semantics: new
 * data on an already readable socket is a new edge). EPOLLONESHOT disarms the item until
 * EPOLL_CTL_MOD. EPOLLERR and EPOLLHUP are always reported, as epoll(7) says.
 *
 * Allocation happens at registration only (one item per socket per set), never per
 * packet or per wake-up. Called by socket.c (wake, forget) and by programs (ts_epoll_*).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "socket/socket_int.h"

/* The bits Linux lets a registration carry besides the events (EP_PRIVATE_BITS and co.). */
#define TS_EP_FLAGS (EPOLLET | EPOLLONESHOT | EPOLLEXCLUSIVE | EPOLLWAKEUP)

struct ts_epitem {
	struct ts_epoll *ep;
	int fd;
	uint32_t events;                     /* what the caller asked for, flags included */
	epoll_data_t data;
	bool queued;                         /* on ep's ready list */
	struct ts_epitem *sock_next;         /* the socket's registrations */
	struct ts_epitem *set_prev, *set_next; /* every item of ep */
	struct ts_epitem *rd_prev, *rd_next; /* ep's ready list */
};

struct ts_epoll {
	struct ts_epitem *items;             /* every registration (for close) */
	struct ts_epitem *rd_head, *rd_tail; /* candidates, oldest first */
	uint32_t nitems, nready;
	void (*notify)(void *arg);           /* the ready list became non-empty */
	void *notify_arg;
	int32_t sleepers;                    /* waiters asleep (ts_epoll_set_sleepers); -1: not counted */
};

static void ts_rd_push(struct ts_epoll *ep, struct ts_epitem *it)
{
	it->rd_prev = ep->rd_tail;
	it->rd_next = NULL;
	if (ep->rd_tail)
		ep->rd_tail->rd_next = it;
	else
		ep->rd_head = it;
	ep->rd_tail = it;
	it->queued = true;
	ep->nready++;
}

static void ts_rd_unlink(struct ts_epoll *ep, struct ts_epitem *it)
{
	if (it->rd_prev)
		it->rd_prev->rd_next = it->rd_next;
	else
		ep->rd_head = it->rd_next;
	if (it->rd_next)
		it->rd_next->rd_prev = it->rd_prev;
	else
		ep->rd_tail = it->rd_prev;
	it->rd_prev = it->rd_next = NULL;
	it->queued = false;
	ep->nready--;
}

/* Queues it as a candidate; tells the set's waiter when its list stops being empty. */
static void ts_item_wake(struct ts_epitem *it)
{
	struct ts_epoll *ep = it->ep;

	if (it->queued || !(it->events & ~TS_EP_FLAGS))
		return; /* already a candidate, or a fired one-shot */
	bool was_empty = ep->rd_head == NULL;
	ts_rd_push(ep, it);
	if (was_empty && ep->notify && ep->sleepers != 0)
		ep->notify(ep->notify_arg);
}

void ts_ready_wake(struct socket_layer *sl, int fd)
{
	struct ts_sock *s = ts_get(sl, fd);

	if (!s)
		return;
	for (struct ts_epitem *it = s->epitems; it; it = it->sock_next)
		ts_item_wake(it);
}

/* Removes it from its set and its socket's list, and frees it. */
static void ts_item_free(struct socket_layer *sl, struct ts_epitem *it)
{
	struct ts_epoll *ep = it->ep;
	struct ts_sock *s = ts_get(sl, it->fd);

	if (it->queued)
		ts_rd_unlink(ep, it);
	if (it->set_prev)
		it->set_prev->set_next = it->set_next;
	else
		ep->items = it->set_next;
	if (it->set_next)
		it->set_next->set_prev = it->set_prev;
	ep->nitems--;
	if (s) {
		struct ts_epitem **pp = &s->epitems;
		while (*pp && *pp != it)
			pp = &(*pp)->sock_next;
		if (*pp)
			*pp = it->sock_next;
	}
	free(it);
}

void ts_ready_forget(struct socket_layer *sl, int fd)
{
	struct ts_sock *s = ts_get(sl, fd);

	if (!s)
		return;
	while (s->epitems)
		ts_item_free(sl, s->epitems);
	if (s->kind == TS_EPOLL && s->ep) {
		while (s->ep->items)
			ts_item_free(sl, s->ep->items);
		free(s->ep);
		s->ep = NULL;
	}
}

/* The set behind epfd, or NULL with *err (-EBADF, or -EINVAL for a descriptor that is not a set). */
static struct ts_epoll *ts_epoll_of(struct socket_layer *sl, int epfd, int *err)
{
	struct ts_sock *s = ts_get(sl, epfd);

	*err = !s ? -EBADF : s->kind != TS_EPOLL ? -EINVAL : 0;
	return *err ? NULL : s->ep;
}

int ts_epoll_create(struct socket_layer *sl, int flags)
{
	if (flags & ~EPOLL_CLOEXEC)
		return -EINVAL;
	struct ts_epoll *ep = calloc(1, sizeof(*ep));
	if (!ep)
		return -ENOMEM;
	ep->sleepers = -1; /* the notification runs at every change until a waiter counts itself */
	int fd = ts_alloc(sl);
	if (fd < 0) {
		free(ep);
		return fd;
	}
	struct ts_sock *s = ts_get(sl, fd);
	s->kind = TS_EPOLL;
	s->ep = ep;
	return fd;
}

void ts_epoll_set_notify(struct socket_layer *sl, int epfd, void (*fn)(void *arg), void *arg)
{
	int err;
	struct ts_epoll *ep = ts_epoll_of(sl, epfd, &err);

	if (!ep)
		return;
	ep->notify = fn;
	ep->notify_arg = arg;
}

void ts_epoll_set_sleepers(struct socket_layer *sl, int epfd, int delta)
{
	int err;
	struct ts_epoll *ep = ts_epoll_of(sl, epfd, &err);

	if (!ep)
		return;
	if (ep->sleepers < 0)
		ep->sleepers = 0; /* counted from now on */
	ep->sleepers += delta;
}

static struct ts_epitem *ts_item_find(struct ts_sock *s, const struct ts_epoll *ep)
{
	for (struct ts_epitem *it = s->epitems; it; it = it->sock_next)
		if (it->ep == ep)
			return it;
	return NULL;
}

int ts_epoll_ctl(struct socket_layer *sl, int epfd, int op, int fd, const struct epoll_event *ev)
{
	int err;
	struct ts_epoll *ep = ts_epoll_of(sl, epfd, &err);
	struct ts_sock *s = ts_get(sl, fd);

	/* Linux ep_ctl's order: both descriptors valid, then the target is not the set itself. */
	if (!ep)
		return err;
	if (!s)
		return -EBADF;
	if (fd == epfd || s->kind == TS_EPOLL)
		return -EINVAL; /* sets inside sets are not supported (docs/socket-api.md) */
	if (op != EPOLL_CTL_ADD && op != EPOLL_CTL_MOD && op != EPOLL_CTL_DEL)
		return -EINVAL;
	if (op != EPOLL_CTL_DEL && !ev)
		return -EFAULT;
	if (op != EPOLL_CTL_DEL && (ev->events & EPOLLEXCLUSIVE) &&
	    (op == EPOLL_CTL_MOD || (ev->events & (EPOLLONESHOT | EPOLLRDHUP | EPOLLPRI))))
		return -EINVAL; /* Linux: EPOLLEXCLUSIVE only on ADD, and not with these */

	struct ts_epitem *it = ts_item_find(s, ep);
	switch (op) {
	case EPOLL_CTL_ADD:
		if (it)
			return -EEXIST;
		it = calloc(1, sizeof(*it));
		if (!it)
			return -ENOMEM;
		it->ep = ep;
		it->fd = fd;
		it->sock_next = s->epitems;
		s->epitems = it;
		it->set_next = ep->items;
		if (ep->items)
			ep->items->set_prev = it;
		ep->items = it;
		ep->nitems++;
		break;
	case EPOLL_CTL_MOD:
		if (!it)
			return -ENOENT;
		if (it->events & EPOLLEXCLUSIVE)
			return -EINVAL;
		break;
	default:
		if (!it)
			return -ENOENT;
		ts_item_free(sl, it);
		return 0;
	}
	it->events = ev->events;
	it->data = ev->data;
	/* Linux ep_insert/ep_modify poll the file at once: a socket already ready is reported
	 * by the next wait without waiting for a change. */
	ts_item_wake(it);
	return 0;
}

/* What it reports now: the socket's events masked by its interest, plus ERR and HUP. */
static uint32_t ts_item_events(struct socket_layer *sl, const struct ts_epitem *it)
{
	uint32_t want = it->events & ~TS_EP_FLAGS;

	if (!want)
		return 0; /* a disarmed one-shot */
	return (uint32_t)(unsigned short)ts_revents(sl, it->fd) & (want | EPOLLERR | EPOLLHUP);
}

int ts_epoll_collect(struct socket_layer *sl, int epfd, struct epoll_event *evs, int max)
{
	int err;
	struct ts_epoll *ep = ts_epoll_of(sl, epfd, &err);

	if (!ep)
		return err;
	if (max <= 0)
		return -EINVAL;
	if (!evs)
		return -EFAULT;
	/* Each candidate is looked at once per call: level-triggered ones go back to the tail. */
	uint32_t budget = ep->nready;
	int n = 0;
	while (budget-- && n < max && ep->rd_head) {
		struct ts_epitem *it = ep->rd_head;
		uint32_t got = ts_item_events(sl, it);

		ts_rd_unlink(ep, it);
		if (!got)
			continue; /* not ready after all; the next change queues it again */
		evs[n].events = got;
		evs[n].data = it->data;
		n++;
		if (it->events & EPOLLONESHOT)
			it->events &= TS_EP_FLAGS; /* disarmed until EPOLL_CTL_MOD */
		else if (!(it->events & EPOLLET))
			ts_rd_push(ep, it); /* level-triggered: still a candidate */
	}
	return n;
}

bool ts_epoll_pending(struct socket_layer *sl, int epfd)
{
	int err;
	struct ts_epoll *ep = ts_epoll_of(sl, epfd, &err);

	if (!ep)
		return false;
	for (struct ts_epitem *it = ep->rd_head; it; it = it->rd_next)
		if (ts_item_events(sl, it))
			return true;
	return false;
}

short ts_epoll_revents(struct socket_layer *sl, int epfd)
{
	return ts_epoll_pending(sl, epfd) ? POLLIN : 0;
}
