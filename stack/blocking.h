/*
 * blocking.h - a blocking facade over the socket API, for simple threaded programs.
 *
 * The stack core is single-threaded and never blocks (stack/socket/socket.h). This facade
 * gives it the other shape programs know: the stack runs in its own thread (poll(2) on the
 * device with the next timer deadline, ts_stack_poll() on each wake-up, like stack/loop.c),
 * and any number of caller threads make ordinary blocking calls: ts_blocking_accept() waits
 * for a connection, ts_blocking_recv() for data, ts_blocking_send() until everything is queued.
 *
 * How it works: one mutex guards the whole stack. The stack thread holds it while it
 * processes frames and timers, then broadcasts a condition (struct blocking_sync) and releases it while
 * it sleeps in poll(2). A caller takes the mutex, makes the non-blocking ts_* call, and when
 * that says -EAGAIN on a socket in blocking mode, waits on the condition variable (which
 * releases the mutex) and tries again after the next stack iteration. Output leaves in the
 * caller's own thread; when a call armed a timer earlier than the deadline the stack thread
 * sleeps until, the caller writes to an eventfd the stack thread also polls, so the timer
 * fires on time (waking it after every call would cost a thread switch per send).
 *
 * Sockets are in blocking mode unless ts_set_nonblock() (ts_blocking_set_nonblock()) said
 * otherwise or MSG_DONTWAIT is passed; then the calls return -EAGAIN like the ts_* ones.
 * Results are the ts_* ones: >= 0 or a negative errno. See docs/blocking.md for a whole
 * threaded echo server (apps/examples/blocking_echo.c).
 */
#ifndef TAPSTACK_BLOCKING_H
#define TAPSTACK_BLOCKING_H

#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "stack.h"
#include "core/api.h"

TS_EXTERN_C_BEGIN

/*
 * What the threads of a blocking stack synchronise on: the mutex that guards the stack and a
 * generation counter that is bumped (and futex-woken) after each stack iteration, the
 * facade's condition variable. It is a futex word, not a pthread_cond_t, so that it may live
 * in memory shared by several processes (ts_blocking_start_shared): a process that dies
 * while waiting leaves nothing behind that would block the others (glibc's process-shared
 * condition variables can be left waiting for a dead waiter).
 */
struct blocking_sync {
	pthread_mutex_t lock;     /* guards the stack; robust when shared */
	uint32_t gen;             /* bumped after each stack iteration (the futex word) */
	uint32_t waiters;         /* threads waiting on gen (a FUTEX_WAKE is skipped without any) */
	uint32_t owner_deaths;    /* times the lock was taken over from a process that died holding it */
	bool shared;              /* between processes (pshared, robust mutex, shared futex) */
};

struct blocking_stack {
	struct stack *s;
	pthread_t thread;
	struct blocking_sync *sync; /* &own, or a shared one (ts_blocking_start_shared) */
	struct blocking_sync own;
	int wake_fd;              /* eventfd: a caller changed something, iterate now */
	bool stop;
	uint64_t iterations;      /* stack iterations so far (for tests and curiosity) */
	usec_t sleep_until;       /* the deadline the stack thread sleeps until (caller wake-ups) */
	/* Run-to-completion (ts_blocking_drive/park/unpark), this process's callers: */
	unsigned parked;          /* callers asleep in a kernel wait of their own on the device */
	usec_t lease_end;         /* a caller that drives the device said it comes back by then */
	bool watching;            /* the stack thread's sleep includes the device */
	uint64_t drives;          /* ts_blocking_drive calls that took frames (tests, curiosity) */
};

/* How long a caller that drives the device (ts_blocking_unpark) may stay away before the
 * stack thread reads the device again: the most a frame waits when it does not come back. */
#define BLOCKING_DRIVE_LEASE_USEC 1000u

/*
 * Starts the stack thread on an initialised stack. From now until ts_blocking_stop() the stack
 * may only be touched through blocking_* calls (or between ts_blocking_lock/unlock). 0 or -errno.
 */
TS_API int ts_blocking_start(struct blocking_stack *b, struct stack *s);
/* Stops and joins the stack thread; the stack is the caller's alone again (still running). */
TS_API void ts_blocking_stop(struct blocking_stack *b);

/*
 * fork(2) (pthread_atfork): prepare takes the lock so the copy is consistent; then in each
 * process keep says whether that process goes on running the stack. The parent that does
 * not keep it stops and joins its thread (the device stays open, unread); the child that
 * keeps it starts a new thread with a new wake eventfd (the parent's would be shared).
 * Exactly one of the two may keep it: both would read the same device.
 *
 * A shared stack (ts_blocking_start_shared) is different: the stack, the device and sync
 * are in memory both processes see, so both keep it. The parent releases the lock, the
 * child leaves it alone (it is the parent's thread that holds it) and starts its own stack
 * thread on the same device and the same wake eventfd; the stack threads of all the
 * processes then take turns under the one lock.
 */
TS_API void ts_blocking_fork_prepare(struct blocking_stack *b);
TS_API void ts_blocking_fork_parent(struct blocking_stack *b, bool keep);
TS_API int ts_blocking_fork_child(struct blocking_stack *b, bool keep);

/*
 * Initialises sync (which the caller placed in memory shared with the processes it will
 * fork: MAP_SHARED) for ts_blocking_start_shared: a process-shared, robust mutex and a
 * shared futex. 0 or -errno.
 */
TS_API int ts_blocking_sync_init_shared(struct blocking_sync *sync);
/*
 * ts_blocking_start on a stack whose memory, device and sync all processes forked later
 * share. When a process dies holding the lock the next locker takes it over (robust mutex:
 * EOWNERDEAD, counted in sync->owner_deaths) and carries on with the stack as the dead
 * process left it.
 */
TS_API int ts_blocking_start_shared(struct blocking_stack *b, struct stack *s, struct blocking_sync *sync);

/*
 * Run-to-completion, for a caller with an event loop of its own (the preload library's
 * epoll_wait): instead of being woken by the stack thread after it took a frame (a thread
 * switch per event), the caller takes the frames itself. All three with the lock held.
 *
 * ts_blocking_drive drains the device and fires due timers in the calling thread (what one
 * round of the stack thread does) and wakes condition waiters; returns the frames taken.
 * ts_blocking_park: the caller is about to sleep in a kernel wait that includes the returned
 * descriptor (the device's, readable when frames wait), so the stack thread stops watching
 * the device. ts_blocking_unpark: it woke up; it will drive again within
 * BLOCKING_DRIVE_LEASE_USEC (its next wait), after which the stack thread watches the device
 * again. A caller that blocks in a blocking_* call meanwhile gets the stack thread back at once.
 */
TS_API int ts_blocking_drive(struct blocking_stack *b);
TS_API int ts_blocking_park(struct blocking_stack *b);
TS_API void ts_blocking_unpark(struct blocking_stack *b);

/* For anything else (counters, tcp_foreach_sock): hold the lock around it. */
TS_API void ts_blocking_lock(struct blocking_stack *b);
TS_API void ts_blocking_unlock(struct blocking_stack *b);
/* Makes the stack thread iterate now, e.g. after feeding its device from outside (tests). */
TS_API void ts_blocking_wake(struct blocking_stack *b);

TS_API int ts_blocking_socket(struct blocking_stack *b, int domain, int type, int protocol);
TS_API int ts_blocking_bind(struct blocking_stack *b, int fd, const struct sockaddr_in *addr);
TS_API int ts_blocking_listen(struct blocking_stack *b, int fd, int backlog);
/* Waits for an established connection. */
TS_API int ts_blocking_accept(struct blocking_stack *b, int fd, struct sockaddr_in *peer, int flags);
/* Waits until the handshake completes: 0, or -ECONNREFUSED, -ETIMEDOUT, ... */
TS_API int ts_blocking_connect(struct blocking_stack *b, int fd, const struct sockaddr_in *addr);
/* Waits until all len bytes are queued (as the kernel's blocking send); returns len, or the
 * count queued before an error, or the error when nothing was. */
TS_API ssize_t ts_blocking_send(struct blocking_stack *b, int fd, const void *buf, size_t len, int flags);
/* ts_sendfile, waiting until all count bytes are queued or the file ends: the bytes queued,
 * or the error when nothing was (0 when off is at the file's end). */
TS_API ssize_t ts_blocking_sendfile(struct blocking_stack *b, int fd, int in_fd, uint64_t off, size_t count,
                                    int flags);
/* Waits for at least one byte or end of stream (0). */
TS_API ssize_t ts_blocking_recv(struct blocking_stack *b, int fd, void *buf, size_t len, int flags);
/*
 * The datagram calls (stack/socket/socket.h): recvfrom/recvmsg wait for a datagram (on TCP,
 * for data); sendto/sendmsg send one datagram at once (on TCP, everything, as
 * ts_blocking_send). After an ICMP port unreachable, a connected UDP socket's next call
 * returns -ECONNREFUSED.
 */
TS_API ssize_t ts_blocking_sendto(struct blocking_stack *b, int fd, const void *buf, size_t len, int flags,
                                  const struct sockaddr_in *to);
TS_API ssize_t ts_blocking_recvfrom(struct blocking_stack *b, int fd, void *buf, size_t len, int flags,
                                    struct sockaddr_in *from);
TS_API ssize_t ts_blocking_sendmsg(struct blocking_stack *b, int fd, const struct msghdr *msg, int flags);
TS_API ssize_t ts_blocking_recvmsg(struct blocking_stack *b, int fd, struct msghdr *msg, int flags);
TS_API int ts_blocking_shutdown(struct blocking_stack *b, int fd, int how);
TS_API int ts_blocking_close(struct blocking_stack *b, int fd);
TS_API int ts_blocking_setsockopt(struct blocking_stack *b, int fd, int level, int name, const void *val,
			socklen_t len);
TS_API int ts_blocking_getsockopt(struct blocking_stack *b, int fd, int level, int name, void *val,
			socklen_t *len);
TS_API int ts_blocking_set_nonblock(struct blocking_stack *b, int fd, bool on);
/* poll(2) over ts_* sockets: waits until one is ready or timeout_ms passes (-1: forever). */
TS_API int ts_blocking_poll(struct blocking_stack *b, struct pollfd *fds, nfds_t n, int timeout_ms);
/* epoll_wait over a ts_epoll_create() set (ts_blocking_epoll_create/ctl): the same wait. */
TS_API int ts_blocking_epoll_wait(struct blocking_stack *b, int epfd, struct epoll_event *evs, int max,
				  int timeout_ms);
TS_API int ts_blocking_epoll_create(struct blocking_stack *b, int flags);
TS_API int ts_blocking_epoll_ctl(struct blocking_stack *b, int epfd, int op, int fd, struct epoll_event *ev);

TS_EXTERN_C_END

#endif
