/*
 * preload.h - the LD_PRELOAD library's insides (build/libtapstack-preload.so), shared by its
 * three files: state.c (the process-wide state, the one place it lives), calls.c (the
 * interposed socket and descriptor calls) and wait.c (epoll, poll and select over kernel and
 * tapstack descriptors together). docs/preload.md tells the whole story.
 *
 * Every interposed call is thin: is this descriptor ours (pl_sock_of)? If not, the next
 * definition of the symbol (dlsym RTLD_NEXT, kept in pl->real) runs untouched. If it is,
 * one blocking_* / ts_* call on the process's stack does the work and its -errno becomes
 * errno.
 *
 * A tapstack socket owns a real kernel descriptor (a placeholder, never connected), so its
 * number is the process's own: it cannot collide with a file opened later, and it can sit
 * in poll and epoll sets beside kernel descriptors. The table pl->fds maps that number to
 * the tapstack socket (ts descriptor) or to the tapstack side of a kernel epoll set.
 */
#ifndef TAPSTACK_PRELOAD_H
#define TAPSTACK_PRELOAD_H

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>

#include "blocking.h"
#include "preload/arena.h"
#include "preload/procs.h"
#include "stack.h"

/* The library's own names stay inside it; only the interposed calls are exported
 * (calls.c and wait.c switch the default visibility on for their definitions). */
#define PL_HIDDEN __attribute__((visibility("hidden")))

/* The kernel's own definitions of every call we interpose (dlsym RTLD_NEXT). */
struct pl_real {
	int (*socket)(int, int, int);
	int (*close)(int);
	int (*dup)(int);
	int (*dup2)(int, int);
	int (*dup3)(int, int, int);
	int (*fcntl)(int, int, ...);
	int (*ioctl)(int, unsigned long, ...);
	int (*bind)(int, const struct sockaddr *, socklen_t);
	int (*listen)(int, int);
	int (*accept4)(int, struct sockaddr *, socklen_t *, int);
	int (*connect)(int, const struct sockaddr *, socklen_t);
	ssize_t (*read)(int, void *, size_t);
	ssize_t (*write)(int, const void *, size_t);
	ssize_t (*readv)(int, const struct iovec *, int);
	ssize_t (*writev)(int, const struct iovec *, int);
	ssize_t (*recvfrom)(int, void *, size_t, int, struct sockaddr *, socklen_t *);
	ssize_t (*recvmsg)(int, struct msghdr *, int);
	ssize_t (*sendto)(int, const void *, size_t, int, const struct sockaddr *, socklen_t);
	ssize_t (*sendmsg)(int, const struct msghdr *, int);
	ssize_t (*sendfile)(int, int, off_t *, size_t);
	int (*shutdown)(int, int);
	int (*getsockname)(int, struct sockaddr *, socklen_t *);
	int (*getpeername)(int, struct sockaddr *, socklen_t *);
	int (*setsockopt)(int, int, int, const void *, socklen_t);
	int (*getsockopt)(int, int, int, void *, socklen_t *);
	int (*poll)(struct pollfd *, nfds_t, int);
	int (*ppoll)(struct pollfd *, nfds_t, const struct timespec *, const sigset_t *);
	int (*epoll_create1)(int);
	int (*epoll_ctl)(int, int, int, struct epoll_event *);
	int (*epoll_pwait)(int, struct epoll_event *, int, int, const sigset_t *);
	int (*select)(int, fd_set *, fd_set *, fd_set *, struct timeval *);
	int (*pselect)(int, fd_set *, fd_set *, fd_set *, const struct timespec *, const sigset_t *);
};

enum pl_kind { PL_NONE = 0, PL_SOCK, PL_EPOLL };

/* What one kernel descriptor number is to us. */
struct pl_fd {
	uint8_t kind;          /* enum pl_kind */
	int32_t ts;            /* PL_SOCK: the ts descriptor; PL_EPOLL: the ts_epoll set */
	int32_t efd;           /* PL_EPOLL: the eventfd the stack writes when the set has events */
	bool dgram;            /* PL_SOCK: a UDP socket (datagram calls keep their addresses) */
	uint8_t slot;          /* PL_EPOLL: the process (procs.h slot) whose set it is */
};

/*
 * What the processes of one program share (in the arena, made before any fork): the stack,
 * the lock its threads take turns under, and which process holds which socket.
 */
struct pl_shared {
	struct stack stack;
	struct blocking_sync sync;
	struct procs procs;
};

struct preload {
	struct pl_real real;
	pthread_mutex_t init_lock;
	bool started;              /* the stack runs (first AF_INET socket) */
	bool failed;               /* it could not start: sockets fail with ENETDOWN */
	bool given_away;           /* a forked child beyond PROCS_MAX: ours fail with EBADF */
	struct arena *arena;       /* shared memory: every allocation of the library once started */
	struct pl_shared *sh;      /* in the arena */
	struct stack *stack;       /* &sh->stack */
	struct blocking_stack b;   /* this process's stack thread (on sh->sync) */
	int slot;                  /* this process's slot in sh->procs */
	int fork_slot;             /* the slot reserved for the child being forked */
	int mbox_fd;               /* this process's mailbox (notifications raised elsewhere) */
	int mbox_tx;               /* where this process rings the others' mailboxes from */
	struct pl_fd *fds;         /* [nfds], indexed by kernel descriptor, read without the lock */
	uint32_t nfds;
	uint32_t *ts_refs;         /* [ts_cap] this process's kernel numbers per ts descriptor */
	uint32_t ts_cap;
	char unsupported[32][40];  /* option names already logged once */
	uint32_t nunsupported;
	bool verbose;
	bool drive;                /* epoll_wait drives the stack itself (wait.c); TAPSTACK_NO_DRIVE: off */
	bool trace;                /* TAPSTACK_TRACE: frames, state changes, accepted connections */
	FILE *out;                 /* the trace's stream: stderr as it was when the stack started */
	int ctl_fd;                /* TAPSTACK_CTL's listening socket, -1 without one */
};

/* The one instance (state.c). Everything process-wide hangs off it. */
PL_HIDDEN extern struct preload pl;

/* Looks up the kernel's definitions once; called from the library constructor. */
PL_HIDDEN void pl_resolve(void);
/* Starts the stack on the first tapstack socket: 0, or -errno (logged). */
PL_HIDDEN int pl_start(void);

/* The ts descriptor behind kernel descriptor fd, or -1 when fd is not a tapstack socket. */
static inline int pl_sock_of(int fd)
{
	if (fd < 0 || (uint32_t)fd >= pl.nfds || !pl.fds || pl.fds[fd].kind != PL_SOCK)
		return -1;
	return pl.fds[fd].ts;
}

/* Whether kernel descriptor fd is a tapstack UDP socket. */
static inline bool pl_is_dgram(int fd)
{
	return pl_sock_of(fd) >= 0 && pl.fds[fd].dgram;
}

/* The entry of a kernel epoll descriptor that has tapstack sockets in it, or NULL. */
static inline struct pl_fd *pl_epoll_of(int fd)
{
	if (fd < 0 || (uint32_t)fd >= pl.nfds || !pl.fds || pl.fds[fd].kind != PL_EPOLL)
		return NULL;
	return &pl.fds[fd];
}

/* Binds a new placeholder kernel descriptor to ts descriptor ts (lock held); returns the
 * kernel number or -errno. The placeholder is close-on-exec: exec drops tapstack sockets. */
PL_HIDDEN int pl_fd_bind_sock(int ts, bool dgram);
/* Makes kfd another name of the socket kernel descriptor from names (dup); lock held. */
PL_HIDDEN void pl_fd_alias(int kfd, int from);
/* Forgets kernel descriptor fd (lock held); returns the ts descriptor whose last name it
 * was (the caller closes it), or -1. */
PL_HIDDEN int pl_fd_forget(int fd);

/* errno = -rc and -1 when rc < 0, else rc. */
static inline long pl_ret(long rc)
{
	if (rc < 0) {
		errno = (int)-rc;
		return -1;
	}
	return rc;
}

/* One "app" line of the trace (TAPSTACK_TRACE only), e.g. when accept4() returns. */
PL_HIDDEN void pl_trace_app(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Logs once per name: an option or call a program used that tapstack does not have. */
PL_HIDDEN void pl_log_unsupported(const char *what);

/* wait.c: the ts_epoll set's notification writes its eventfd. */
PL_HIDDEN void pl_epoll_notify(void *arg);
/* The notification argument for eventfd efd of this process (ts_epoll_set_notify). */
PL_HIDDEN void *pl_notify_arg(int efd);
/* Writes the eventfd pl_notify_arg named: here, or through its process's mailbox. */
PL_HIDDEN void pl_notify(void *arg);
/* A notification set of this process writing efd is closed (lock held). */
PL_HIDDEN void pl_notify_cancel(int efd);
/* wait.c, in a forked child: the calling thread's poll eventfd was the parent's. */
PL_HIDDEN void pl_wait_forked(void);
/* wait.c: the tapstack side of kernel epoll descriptor epfd is gone (epfd closed). */
PL_HIDDEN void pl_epoll_forget(struct pl_fd *e);

#endif
