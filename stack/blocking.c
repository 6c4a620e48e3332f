/*
 * blocking.c - the blocking facade (see blocking.h): a stack thread plus blocking wrappers
 * of the ts_* calls for caller threads.
 *
 * Top level (beside stack.c and loop.c): it reads the monotonic clock and uses threads,
 * which no protocol layer may. Owns the stack thread, the mutex, the condition variable and
 * the eventfd; the stack itself stays the caller's (ts_blocking_stop() hands it back).
 *
 * Invariant: every access to *b->s happens with b->sync->lock held. The stack thread releases
 * the lock only around poll(2), and callers only inside blocking_wait, so the single-
 * threaded core never sees two threads at once.
 */
#include "blocking.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <linux/futex.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

/* Takes the stack's lock. A shared lock whose holder died (EOWNERDEAD) is ours now: it is
 * marked consistent and the stack goes on as the dead process left it (blocking.h). */
static void blocking_lock_sync(struct blocking_sync *y)
{
	if (pthread_mutex_lock(&y->lock) == EOWNERDEAD) {
		pthread_mutex_consistent(&y->lock);
		y->owner_deaths++;
	}
}

/* Every caller's access starts here: the stack's clock is brought to now first
 * (ts_stack_clock), since the last poll may be long ago. */
void ts_blocking_lock(struct blocking_stack *b)
{
	blocking_lock_sync(b->sync);
	ts_stack_clock(b->s, ts_clock_now());
}

void ts_blocking_unlock(struct blocking_stack *b)
{
	pthread_mutex_unlock(&b->sync->lock);
}

/* With the lock held: wakes every thread waiting for the next stack iteration. */
static void blocking_broadcast(struct blocking_stack *b)
{
	struct blocking_sync *y = b->sync;

	__atomic_add_fetch(&y->gen, 1, __ATOMIC_SEQ_CST);
	if (__atomic_load_n(&y->waiters, __ATOMIC_SEQ_CST))
		syscall(SYS_futex, &y->gen, y->shared ? FUTEX_WAKE : FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0);
}

/*
 * With the lock held: releases it until the next broadcast or until `until` (CLOCK_MONOTONIC,
 * NULL: no limit), then takes it again; false when `until` passed. The generation is read
 * under the lock, so a broadcast between the unlock and the futex wait is not lost (the
 * wait returns at once), and a spurious return only costs the caller one more look.
 */
static bool blocking_wait(struct blocking_stack *b, const struct timespec *until)
{
	struct blocking_sync *y = b->sync;
	uint32_t gen = __atomic_load_n(&y->gen, __ATOMIC_SEQ_CST);
	int op = (y->shared ? FUTEX_WAIT_BITSET : FUTEX_WAIT_BITSET | FUTEX_PRIVATE_FLAG);
	long rc;

	__atomic_add_fetch(&y->waiters, 1, __ATOMIC_SEQ_CST);
	if (!b->watching) {
		/* Only rounds broadcast: a caller that drives (run-to-completion) may have the
		 * device, so the stack thread is called back to it (waiters > 0 keeps it there). */
		b->watching = true;
		b->sleep_until = 0;
		ts_blocking_wake(b);
	}
	ts_blocking_unlock(b);
	/* FUTEX_WAIT_BITSET's timeout is absolute on CLOCK_MONOTONIC, the clock of `until`. */
	rc = syscall(SYS_futex, &y->gen, op, gen, until, NULL, FUTEX_BITSET_MATCH_ANY);
	bool timed_out = rc != 0 && errno == ETIMEDOUT;
	__atomic_sub_fetch(&y->waiters, 1, __ATOMIC_SEQ_CST);
	ts_blocking_lock(b);
	return !timed_out;
}

/* The stack thread iterates now (a caller queued output or armed a timer). */
void ts_blocking_wake(struct blocking_stack *b)
{
	uint64_t one = 1;

	/* The counter only fails to grow at 2^64 - 2 pending kicks: then a wake-up is pending anyway. */
	(void)!write(b->wake_fd, &one, sizeof(one));
}

/*
 * Releases the lock after a call that may have queued output or armed a timer. Output
 * leaves in the caller's thread (tcp_output runs there, and the device is flushed here);
 * what the stack thread must still do is fire timers, so it is woken only when the earliest deadline now comes before
 * the one it sleeps until. Waking it after every call cost a thread switch per send.
 */
static void blocking_unlock_kick(struct blocking_stack *b)
{
	/* A device that batches its output (the io_uring TAP back end) holds what tcp_output
	 * queued until a flush; the stack thread would only do it at its next round. */
	ts_stack_flush(b->s);
	bool wake = ts_stack_next_deadline(b->s) < b->sleep_until;

	if (wake)
		b->sleep_until = 0; /* one wake-up is enough until it sleeps again */
	ts_blocking_unlock(b);
	if (wake)
		ts_blocking_wake(b);
}

/* With the lock held: drains the device (each ts_stack_poll takes one bounded batch), fires
 * due timers, and tells the waiters; returns the frames taken. */
static int blocking_round(struct blocking_stack *b)
{
	int n, total = 0;

	while ((n = ts_stack_poll_clock(b->s, ts_clock_now)) > 0) {
		total += n;
		if (n < (int)STACK_POLL_BATCH)
			break;
	}
	b->iterations++;
	blocking_broadcast(b);
	return total;
}

static void *blocking_thread(void *arg)
{
	struct blocking_stack *b = arg;

	ts_blocking_lock(b);
	while (!b->stop) {
		struct pollfd pfd[2];
		usec_t now, deadline, wake;
		int timeout_ms = -1;
		uint64_t kicks;

		blocking_round(b);
		now = ts_clock_now();
		deadline = ts_stack_next_deadline(b->s);
		/* The device is a caller's while it sleeps on it (parked) or is within its lease;
		 * ours when some thread waits for a round, or nobody drives. */
		b->watching = __atomic_load_n(&b->sync->waiters, __ATOMIC_SEQ_CST) > 0 ||
			      (b->parked == 0 && now >= b->lease_end);
		wake = deadline;
		if (!b->watching && b->parked == 0 && b->lease_end < wake)
			wake = b->lease_end; /* the lease may run out: look again then */
		if (wake != USEC_NEVER) {
			/* Rounded up: waking just before a deadline would only spin. */
			usec_t ms = wake <= now ? 0 : (wake - now + USEC_PER_MS - 1) / USEC_PER_MS;

			timeout_ms = ms > INT_MAX ? INT_MAX : (int)ms;
		}
		pfd[0] = (struct pollfd){ .fd = b->watching ? netdev_pollfd(b->s->dev) : -1, .events = POLLIN };
		pfd[1] = (struct pollfd){ .fd = b->wake_fd, .events = POLLIN };
		b->sleep_until = wake;
		ts_blocking_unlock(b);
		if (poll(pfd, 2, timeout_ms) > 0 && (pfd[1].revents & POLLIN))
			(void)!read(b->wake_fd, &kicks, sizeof(kicks));
		ts_blocking_lock(b);
	}
	ts_blocking_unlock(b);
	return NULL;
}

int ts_blocking_drive(struct blocking_stack *b)
{
	int n = blocking_round(b);

	b->drives += n > 0;
	/* A caller that drives comes back: the device stays its own for another lease. */
	b->lease_end = ts_clock_now() + BLOCKING_DRIVE_LEASE_USEC;
	/* A frame taken here may have armed a timer before the stack thread's wake-up: the
	 * eventfd, written with the lock held (the thread takes it only after we leave). */
	if (ts_stack_next_deadline(b->s) < b->sleep_until) {
		b->sleep_until = 0;
		ts_blocking_wake(b);
	}
	return n;
}

int ts_blocking_park(struct blocking_stack *b)
{
	b->parked++;
	return netdev_pollfd(b->s->dev);
}

void ts_blocking_unpark(struct blocking_stack *b)
{
	b->parked--;
	b->lease_end = ts_clock_now() + BLOCKING_DRIVE_LEASE_USEC;
}

/* Starts the stack thread of b on its wake eventfd. */
static int blocking_thread_start(struct blocking_stack *b)
{
	int rc;

	b->stop = false;
	/* No caller of this process drives the device yet (after fork: its threads are gone). */
	b->parked = 0;
	b->lease_end = 0;
	b->watching = true;
	/* The stack thread takes no signal: a program's handlers run in its own threads. nginx's
	 * master waits in sigsuspend() for SIGCHLD with it blocked elsewhere; delivered to our
	 * thread instead, the handler ran there and the master never woke (the thread inherits
	 * the mask it is created with). */
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	rc = pthread_create(&b->thread, NULL, blocking_thread, b);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return -rc;
}

/* Starts the stack thread of b with a new wake eventfd; sync is b's own unless shared. */
static int blocking_spawn(struct blocking_stack *b, struct blocking_sync *shared)
{
	int rc;

	b->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (b->wake_fd < 0)
		return -errno;
	b->sync = shared ? shared : &b->own;
	if (!shared) {
		b->own = (struct blocking_sync){ .shared = false };
		pthread_mutex_init(&b->own.lock, NULL);
	}
	rc = blocking_thread_start(b);
	if (rc != 0) {
		if (!shared)
			pthread_mutex_destroy(&b->own.lock);
		close(b->wake_fd);
	}
	return rc;
}

int ts_blocking_start(struct blocking_stack *b, struct stack *s)
{
	b->s = s;
	b->iterations = 0;
	b->drives = 0;
	return blocking_spawn(b, NULL);
}

int ts_blocking_sync_init_shared(struct blocking_sync *y)
{
	pthread_mutexattr_t ma;
	int rc;

	*y = (struct blocking_sync){ .shared = true };
	pthread_mutexattr_init(&ma);
	pthread_mutexattr_setpshared(&ma, PTHREAD_PROCESS_SHARED);
	pthread_mutexattr_setrobust(&ma, PTHREAD_MUTEX_ROBUST);
	rc = pthread_mutex_init(&y->lock, &ma);
	pthread_mutexattr_destroy(&ma);
	return -rc;
}

int ts_blocking_start_shared(struct blocking_stack *b, struct stack *s, struct blocking_sync *sync)
{
	b->s = s;
	b->iterations = 0;
	b->drives = 0;
	return blocking_spawn(b, sync);
}

void ts_blocking_fork_prepare(struct blocking_stack *b)
{
	ts_blocking_lock(b);
}

void ts_blocking_fork_parent(struct blocking_stack *b, bool keep)
{
	if (keep || b->sync->shared) {
		ts_blocking_unlock(b);
		return;
	}
	/* The child has the stack now: this process's thread must stop reading the device. */
	b->stop = true;
	ts_blocking_unlock(b);
	ts_blocking_wake(b);
	pthread_join(b->thread, NULL);
	close(b->wake_fd);
	b->wake_fd = -1;
}

int ts_blocking_fork_child(struct blocking_stack *b, bool keep)
{
	/* Only the forking thread exists here. A shared stack: the lock is the parent's thread's
	 * (in shared memory), the wake eventfd wakes the stack threads of every process, and
	 * this process needs a stack thread of its own. */
	if (b->sync->shared)
		return keep ? blocking_thread_start(b) : 0;
	/* It holds the lock (ts_blocking_fork_prepare), in memory that is this process's copy.
	 * The wake eventfd is the parent's kernel object too: a fresh one, and a fresh thread. */
	ts_blocking_unlock(b);
	close(b->wake_fd);
	b->wake_fd = -1;
	if (!keep)
		return 0;
	return blocking_spawn(b, NULL);
}

void ts_blocking_stop(struct blocking_stack *b)
{
	ts_blocking_lock(b);
	b->stop = true;
	ts_blocking_unlock(b);
	ts_blocking_wake(b);
	pthread_join(b->thread, NULL);
	if (!b->sync->shared)
		pthread_mutex_destroy(&b->own.lock);
	close(b->wake_fd);
}

/*
 * The simple wrappers are one line: `return blocking_leave(b, ts_x(blocking_enter(b), ...));`.
 * A function's arguments are all evaluated before it is called, so the lock is taken
 * (blocking_enter), the ts_* call runs, and only then is the lock released (blocking_leave).
 */
static struct socket_layer *blocking_enter(struct blocking_stack *b)
{
	ts_blocking_lock(b);
	return &b->s->sock;
}

static int blocking_leave(struct blocking_stack *b, int rc)
{
	ts_blocking_unlock(b);
	return rc;
}

/*
 * With the lock held: whether a call that returned -EAGAIN on fd should wait. Only sockets
 * in blocking mode wait, and only when the caller did not pass MSG_DONTWAIT.
 */
static bool blocking_should_wait(struct blocking_stack *b, int fd, int flags)
{
	return !(flags & MSG_DONTWAIT) && ts_get_nonblock(&b->s->sock, fd) == 0;
}

/* An absolute CLOCK_MONOTONIC time timeout_ms from now (the clock of blocking_wait's futex). */
static struct timespec blocking_deadline(int timeout_ms)
{
	struct timespec until;

	clock_gettime(CLOCK_MONOTONIC, &until);
	if (timeout_ms > 0) {
		until.tv_sec += timeout_ms / 1000;
		until.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
		if (until.tv_nsec >= 1000000000L) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000L;
		}
	}
	return until;
}

/* With the lock held: waits for the next stack iteration, or until `until`; returns the
 * timeout to use next (0 once the deadline passed: one last look, then report it). */
static int blocking_wait_round(struct blocking_stack *b, int timeout_ms, const struct timespec *until)
{
	if (!blocking_wait(b, timeout_ms < 0 ? NULL : until))
		return 0;
	return timeout_ms;
}

/*
 * With the lock held: waits until fd reports one of `events` (or an error, hang-up or
 * invalid descriptor, which the retried call will then report). Each wait lasts until the
 * stack thread's next iteration. until: NULL waits as long as it takes; otherwise false is
 * returned once that time passed (SO_RCVTIMEO / SO_SNDTIMEO).
 */
static bool blocking_wait_for(struct blocking_stack *b, int fd, short events, const struct timespec *until)
{
	while (!(ts_revents(&b->s->sock, fd) & (events | POLLERR | POLLHUP | POLLNVAL))) {
		if (!blocking_wait(b, until))
			return (ts_revents(&b->s->sock, fd) & (events | POLLERR | POLLHUP | POLLNVAL)) != 0;
	}
	return true;
}

/* With the lock held: the deadline SO_RCVTIMEO (send false) or SO_SNDTIMEO of fd sets,
 * written to *at; NULL when it has none. */
static const struct timespec *blocking_timeo(struct blocking_stack *b, int fd, bool send, struct timespec *at)
{
	uint64_t us = ts_timeo_us(&b->s->sock, fd, send);

	if (!us)
		return NULL;
	*at = blocking_deadline(us / 1000 > INT_MAX ? INT_MAX : (int)((us + 999) / 1000));
	return at;
}

int ts_blocking_socket(struct blocking_stack *b, int domain, int type, int protocol)
{
	return blocking_leave(b, ts_socket(blocking_enter(b), domain, type, protocol));
}

int ts_blocking_bind(struct blocking_stack *b, int fd, const struct sockaddr_in *addr)
{
	return blocking_leave(b, ts_bind(blocking_enter(b), fd, addr));
}

int ts_blocking_listen(struct blocking_stack *b, int fd, int backlog)
{
	return blocking_leave(b, ts_listen(blocking_enter(b), fd, backlog));
}

/* One receive-side call (accept, recv, recvmsg) on fd: the ts_* call behind it. */
struct blocking_call {
	ssize_t (*run)(struct socket_layer *sl, int fd, const struct blocking_call *c);
	void *buf;                 /* recv: the buffer; recvmsg: the msghdr; accept: the peer */
	size_t len;
	int flags;                 /* the call's own flags */
	int wait_flags;            /* what decides whether it waits: MSG_DONTWAIT or 0 */
};

/*
 * With the lock held (and still held on return): the call, and while it says -EAGAIN on a
 * socket in blocking mode, a wait for POLLIN and another try; SO_RCVTIMEO bounds the wait,
 * after which the -EAGAIN is the result, as Linux's.
 */
static ssize_t blocking_call_waiting(struct blocking_stack *b, int fd, const struct blocking_call *c)
{
	struct timespec at;
	const struct timespec *until = blocking_timeo(b, fd, false, &at);
	ssize_t rc;

	while ((rc = c->run(&b->s->sock, fd, c)) == -EAGAIN && blocking_should_wait(b, fd, c->wait_flags))
		if (!blocking_wait_for(b, fd, POLLIN, until))
			break; /* SO_RCVTIMEO passed */
	return rc;
}

static ssize_t blocking_run_accept(struct socket_layer *sl, int fd, const struct blocking_call *c)
{
	return ts_accept(sl, fd, c->buf, c->flags);
}

static ssize_t blocking_run_recv(struct socket_layer *sl, int fd, const struct blocking_call *c)
{
	return ts_recv(sl, fd, c->buf, c->len, c->flags);
}

static ssize_t blocking_run_recvmsg(struct socket_layer *sl, int fd, const struct blocking_call *c)
{
	return ts_recvmsg(sl, fd, c->buf, c->flags);
}

int ts_blocking_accept(struct blocking_stack *b, int fd, struct sockaddr_in *peer, int flags)
{
	struct blocking_call c = { .run = blocking_run_accept, .buf = peer, .flags = flags };
	int rc;

	ts_blocking_lock(b);
	rc = (int)blocking_call_waiting(b, fd, &c);
	ts_blocking_unlock(b);
	return rc;
}

int ts_blocking_connect(struct blocking_stack *b, int fd, const struct sockaddr_in *addr)
{
	int rc;

	ts_blocking_lock(b);
	rc = ts_connect(&b->s->sock, fd, addr);
	if (rc == -EINPROGRESS && blocking_should_wait(b, fd, 0)) {
		blocking_unlock_kick(b); /* the SYN's timer is armed */
		ts_blocking_lock(b);
		/* Completion shows as POLLOUT, failure as POLLERR (socket.h); connect() again
		 * reports which, as the kernel's blocking connect does, so a failed socket is
		 * unconnected for the next call. Linux: SO_SNDTIMEO bounds the wait, which then
		 * ends with EINPROGRESS. */
		struct timespec at;
		if (blocking_wait_for(b, fd, POLLOUT, blocking_timeo(b, fd, true, &at)))
			rc = ts_connect(&b->s->sock, fd, addr); /* 0 once it is established */
	}
	blocking_unlock_kick(b);
	return rc;
}

/* One step of a blocking send: queue what fits of the `left` bytes after the first `done`. */
typedef ssize_t (*blocking_send_step)(struct socket_layer *sl, int fd, const void *ctx, size_t done, size_t left,
                                      int flags);

/* The loop of a blocking send, whatever the bytes' source: until all len are queued. */
static ssize_t blocking_send_all(struct blocking_stack *b, int fd, size_t len, int flags, blocking_send_step step,
                                 const void *ctx)
{
	size_t done = 0;
	ssize_t n = 0;
	struct timespec at;
	const struct timespec *until;

	ts_blocking_lock(b);
	until = blocking_timeo(b, fd, true, &at);
	if (len == 0)
		n = step(&b->s->sock, fd, ctx, 0, 0, flags); /* still the state's answer: EPIPE unconnected */
	while (done < len) {
		n = step(&b->s->sock, fd, ctx, done, len - done, flags);
		if (n > 0) {
			done += (size_t)n;
			continue;
		}
		if (n != -EAGAIN || !blocking_should_wait(b, fd, flags))
			break;
		/* The send buffer is full: let the stack send what is queued, then wait for room. */
		blocking_unlock_kick(b);
		ts_blocking_lock(b);
		if (!blocking_wait_for(b, fd, POLLOUT, until))
			break; /* SO_SNDTIMEO: what was queued, or -EAGAIN */
	}
	blocking_unlock_kick(b);
	return done > 0 || (len == 0 && n >= 0) ? (ssize_t)done : n;
}

static ssize_t blocking_step_mem(struct socket_layer *sl, int fd, const void *buf, size_t done, size_t left,
                                 int flags)
{
	return ts_send(sl, fd, (const char *)buf + done, left, flags);
}

ssize_t ts_blocking_send(struct blocking_stack *b, int fd, const void *buf, size_t len, int flags)
{
	return blocking_send_all(b, fd, len, flags, blocking_step_mem, buf);
}

/* ts_blocking_sendfile's step: ctx is the file and its starting offset. */
struct blocking_file {
	int fd;
	uint64_t off;
};

static ssize_t blocking_step_file(struct socket_layer *sl, int fd, const void *ctx, size_t done, size_t left,
                                  int flags)
{
	const struct blocking_file *f = ctx;
	return ts_sendfile(sl, fd, f->fd, f->off + done, left, flags); /* 0, the file's end, stops the loop */
}

/* A sendfile's piece: the lock is let go between pieces, as Linux's splice lets go of the
 * socket after each pipe-full, so the stack thread's ACKs come in while a large file goes. */
#define BLOCKING_FILE_PIECE (256u * 1024u)

ssize_t ts_blocking_sendfile(struct blocking_stack *b, int fd, int in_fd, uint64_t off, size_t count, int flags)
{
	size_t done = 0;
	for (;;) {
		size_t piece = count - done < BLOCKING_FILE_PIECE ? count - done : BLOCKING_FILE_PIECE;
		struct blocking_file f = { in_fd, off + done };
		/* MSG_MORE on every piece but the last, as splice's SPLICE_F_MORE. */
		int more = done + piece < count ? MSG_MORE : 0;
		ssize_t n = blocking_send_all(b, fd, piece, flags | more, blocking_step_file, &f);
		if (n <= 0)
			return done ? (ssize_t)done : n;
		done += (size_t)n;
		if ((size_t)n < piece || done == count)
			return (ssize_t)done;
	}
}

/* recv(MSG_OOB) never waits (Linux tcp_recv_urg: an urgent byte not yet arrived is -EAGAIN
 * at once, whatever the socket's mode), nor does a read of the error queue (MSG_ERRQUEUE). */
static int blocking_recv_wait_flags(int flags)
{
	return (flags & (MSG_OOB | MSG_ERRQUEUE)) ? MSG_DONTWAIT : flags;
}

ssize_t ts_blocking_recv(struct blocking_stack *b, int fd, void *buf, size_t len, int flags)
{
	struct blocking_call c = { .run = blocking_run_recv, .buf = buf, .len = len, .flags = flags,
		                   .wait_flags = blocking_recv_wait_flags(flags) };
	ssize_t n;

	ts_blocking_lock(b);
	n = blocking_call_waiting(b, fd, &c);
	/* Reading may have opened the receive window: the update went out in this thread. */
	blocking_unlock_kick(b);
	return n;
}

static ssize_t blocking_send_piece(void *b, int fd, const void *buf, size_t len, int flags)
{
	return ts_blocking_send(b, fd, buf, len, flags);
}

/*
 * A datagram socket's sendmsg is one datagram, which never waits for room (UDP queues
 * nothing); a stream's is each piece in turn, all of it as ts_blocking_send does.
 */
ssize_t ts_blocking_sendmsg(struct blocking_stack *b, int fd, const struct msghdr *msg, int flags)
{
	int type = 0;
	socklen_t tl = sizeof(type);
	ssize_t n;

	if (ts_blocking_getsockopt(b, fd, SOL_SOCKET, SO_TYPE, &type, &tl) < 0 || type == SOCK_DGRAM) {
		n = ts_sendmsg(blocking_enter(b), fd, msg, flags);
		blocking_unlock_kick(b);
		return n;
	}
	return ts_sendmsg_pieces(b, fd, msg, flags, blocking_send_piece);
}

/* Waits for a datagram (or stream data, or end of stream), then ts_recvmsg. */
ssize_t ts_blocking_recvmsg(struct blocking_stack *b, int fd, struct msghdr *msg, int flags)
{
	struct blocking_call c = { .run = blocking_run_recvmsg, .buf = msg, .flags = flags,
		                   .wait_flags = blocking_recv_wait_flags(flags) };
	ssize_t n;

	ts_blocking_lock(b);
	n = blocking_call_waiting(b, fd, &c);
	blocking_unlock_kick(b);
	return n;
}

ssize_t ts_blocking_sendto(struct blocking_stack *b, int fd, const void *buf, size_t len, int flags,
                           const struct sockaddr_in *to)
{
	struct iovec iov = { (void *)(uintptr_t)buf, len };
	struct msghdr m = { .msg_name = (void *)(uintptr_t)to, .msg_namelen = to ? sizeof(*to) : 0, .msg_iov = &iov,
		            .msg_iovlen = 1 };
	return ts_blocking_sendmsg(b, fd, &m, flags);
}

ssize_t ts_blocking_recvfrom(struct blocking_stack *b, int fd, void *buf, size_t len, int flags,
                             struct sockaddr_in *from)
{
	struct iovec iov = { buf, len };
	struct msghdr m = { .msg_name = from, .msg_namelen = from ? sizeof(*from) : 0, .msg_iov = &iov,
		            .msg_iovlen = 1 };
	return ts_blocking_recvmsg(b, fd, &m, flags);
}

int ts_blocking_shutdown(struct blocking_stack *b, int fd, int how)
{
	int rc = ts_shutdown(blocking_enter(b), fd, how);

	blocking_unlock_kick(b);
	return rc;
}

int ts_blocking_close(struct blocking_stack *b, int fd)
{
	int rc;
	struct linger lg = { 0, 0 };
	socklen_t len = sizeof(lg);

	ts_blocking_lock(b);
	/* SO_LINGER with a time (Linux tcp_close + sk_stream_wait_close): a blocking close sends
	 * the FIN and waits up to l_linger seconds for the data and the FIN to be acknowledged;
	 * then, or at the deadline, the descriptor goes and TCP finishes in the background.
	 * Unread data still resets at once (ts_close), without waiting. */
	if (ts_getsockopt(&b->s->sock, fd, SOL_SOCKET, SO_LINGER, &lg, &len) == 0 && lg.l_onoff &&
	    lg.l_linger != 0 && blocking_should_wait(b, fd, 0) && ts_inq(&b->s->sock, fd) == 0 &&
	    ts_shutdown(&b->s->sock, fd, SHUT_WR) == 0) {
		/* A negative time (set so, or Linux's read-back of "for ever") waits for ever. */
		struct timespec until = blocking_deadline(lg.l_linger < 0 || lg.l_linger > INT_MAX / 1000 ? INT_MAX
		                                                                                : lg.l_linger * 1000);
		blocking_unlock_kick(b); /* the FIN is queued */
		ts_blocking_lock(b);
		while (ts_unacked(&b->s->sock, fd) > 0 && blocking_wait(b, lg.l_linger < 0 ? NULL : &until))
			;
	}
	rc = ts_close(&b->s->sock, fd);
	/* Wake anyone blocked on fd: their retried call now reports -EBADF. */
	blocking_broadcast(b);
	blocking_unlock_kick(b);
	return rc;
}

int ts_blocking_setsockopt(struct blocking_stack *b, int fd, int level, int name, const void *val,
			socklen_t len)
{
	return blocking_leave(b, ts_setsockopt(blocking_enter(b), fd, level, name, val, len));
}

int ts_blocking_getsockopt(struct blocking_stack *b, int fd, int level, int name, void *val,
			socklen_t *len)
{
	return blocking_leave(b, ts_getsockopt(blocking_enter(b), fd, level, name, val, len));
}

int ts_blocking_set_nonblock(struct blocking_stack *b, int fd, bool on)
{
	return blocking_leave(b, ts_set_nonblock(blocking_enter(b), fd, on));
}

int ts_blocking_epoll_create(struct blocking_stack *b, int flags)
{
	return blocking_leave(b, ts_epoll_create(blocking_enter(b), flags));
}

int ts_blocking_epoll_ctl(struct blocking_stack *b, int epfd, int op, int fd, struct epoll_event *ev)
{
	return blocking_leave(b, ts_epoll_ctl(blocking_enter(b), epfd, op, fd, ev));
}

int ts_blocking_poll(struct blocking_stack *b, struct pollfd *fds, nfds_t n, int timeout_ms)
{
	struct timespec until = blocking_deadline(timeout_ms);
	int rc;

	ts_blocking_lock(b);
	for (;;) {
		rc = ts_poll(&b->s->sock, fds, n);
		if (rc != 0 || timeout_ms == 0)
			break;
		timeout_ms = blocking_wait_round(b, timeout_ms, &until);
	}
	ts_blocking_unlock(b);
	return rc;
}

int ts_blocking_epoll_wait(struct blocking_stack *b, int epfd, struct epoll_event *evs, int max,
			int timeout_ms)
{
	struct timespec until = blocking_deadline(timeout_ms);
	int rc;

	ts_blocking_lock(b);
	for (;;) {
		rc = ts_epoll_collect(&b->s->sock, epfd, evs, max);
		if (rc != 0 || timeout_ms == 0)
			break;
		timeout_ms = blocking_wait_round(b, timeout_ms, &until);
	}
	ts_blocking_unlock(b);
	return rc;
}
