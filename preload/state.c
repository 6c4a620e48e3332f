/*
 * state.c - the preload library's process-wide state, all in one place (struct preload pl):
 * the kernel's definitions of the calls we interpose, the stack and its thread (the
 * blocking facade, stack/blocking.h), the table from kernel descriptor numbers to tapstack
 * sockets, and the fork rule.
 *
 * The stack starts lazily, on the program's first AF_INET stream socket, from the options
 * build/tapstack-run passed in the environment (TAPSTACK_TAP, TAPSTACK_ADDR,
 * TAPSTACK_GATEWAY, TAPSTACK_MAC, TAPSTACK_MTU, TAPSTACK_NO_OFFLOAD, TAPSTACK_TRACE,
 * TAPSTACK_PCAP, TAPSTACK_CTL (the control socket of `tapstack ss` and `stats`),
 * TAPSTACK_VERBOSE, and TAPSTACK_SYN_RETRIES like Linux's tcp_syn_retries). A program that never opens one never touches the TAP.
 *
 * fork(): the processes of one program share one stack (docs/preload.md "Processes"). The
 * stack starts in an arena of MAP_SHARED memory (preload/arena.c): the library is linked
 * with --wrap for malloc, calloc, realloc and free (mk/preload.mk), so once the arena exists
 * every allocation of the stack, its drivers and the library lands there, and a forked
 * child sees the same connections at the same addresses. The lock is process-shared and
 * robust (stack/blocking.c), each process runs its own stack thread on the inherited TAP
 * descriptor and wake eventfd, and they take turns. preload/procs.c counts which processes
 * hold each socket (close in one leaves it open for the others); a notification the stack
 * raises for another process's epoll or poll travels through that process's mailbox (an
 * abstract AF_UNIX datagram socket rung once, with the eventfds queued in shared memory).
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "apps/cli/ctl.h"
#include "drivers/pcap.h"
#include "drivers/tap.h"
#include "preload/preload.h"
#include "wire/dump.h"
#include "wire/ipv4.h"

/* Upper bound of the descriptor table (entries are touched only when used). */
#define PL_FDS_MAX (1u << 20)
/* The shared arena: reserved, not committed (a page costs memory once touched). */
#define PL_ARENA_BYTES ((size_t)4 << 30)

struct preload pl = { .init_lock = PTHREAD_MUTEX_INITIALIZER, .mbox_fd = -1, .mbox_tx = -1 };

/* ---- the allocator: the linker sends every malloc of the library's objects here ---- */

void *__real_malloc(size_t n);
void *__real_calloc(size_t nmemb, size_t size);
void *__real_realloc(void *p, size_t n);
void __real_free(void *p);
PL_HIDDEN void *__wrap_malloc(size_t n);
PL_HIDDEN void *__wrap_calloc(size_t nmemb, size_t size);
PL_HIDDEN void *__wrap_realloc(void *p, size_t n);
PL_HIDDEN void __wrap_free(void *p);

void *__wrap_malloc(size_t n)
{
	struct arena *a = __atomic_load_n(&pl.arena, __ATOMIC_ACQUIRE);
	return a ? arena_alloc(a, n) : __real_malloc(n);
}

void *__wrap_calloc(size_t nmemb, size_t size)
{
	struct arena *a = __atomic_load_n(&pl.arena, __ATOMIC_ACQUIRE);
	return a ? arena_calloc(a, nmemb, size) : __real_calloc(nmemb, size);
}

/* A block keeps its home: one allocated before the arena existed stays the process's own. */
void *__wrap_realloc(void *p, size_t n)
{
	struct arena *a = __atomic_load_n(&pl.arena, __ATOMIC_ACQUIRE);
	if (a && (!p || arena_owns(a, p)))
		return arena_realloc(a, p, n);
	return __real_realloc(p, n);
}

void __wrap_free(void *p)
{
	struct arena *a = __atomic_load_n(&pl.arena, __ATOMIC_ACQUIRE);
	if (a && arena_owns(a, p))
		arena_free(a, p);
	else
		__real_free(p);
}

static void *pl_next(const char *name)
{
	void *f = dlsym(RTLD_NEXT, name);
	if (!f) {
		fprintf(stderr, "tapstack-preload: no next definition of %s\n", name);
		abort();
	}
	return f;
}

void pl_resolve(void)
{
	struct pl_real *r = &pl.real;
	r->socket = pl_next("socket");
	r->close = pl_next("close");
	r->dup = pl_next("dup");
	r->dup2 = pl_next("dup2");
	r->dup3 = pl_next("dup3");
	r->fcntl = pl_next("fcntl");
	r->ioctl = pl_next("ioctl");
	r->bind = pl_next("bind");
	r->listen = pl_next("listen");
	r->accept4 = pl_next("accept4");
	r->connect = pl_next("connect");
	r->read = pl_next("read");
	r->write = pl_next("write");
	r->readv = pl_next("readv");
	r->writev = pl_next("writev");
	r->recvfrom = pl_next("recvfrom");
	r->recvmsg = pl_next("recvmsg");
	r->sendto = pl_next("sendto");
	r->sendmsg = pl_next("sendmsg");
	r->sendfile = pl_next("sendfile");
	r->shutdown = pl_next("shutdown");
	r->getsockname = pl_next("getsockname");
	r->getpeername = pl_next("getpeername");
	r->setsockopt = pl_next("setsockopt");
	r->getsockopt = pl_next("getsockopt");
	r->poll = pl_next("poll");
	r->ppoll = pl_next("ppoll");
	r->epoll_create1 = pl_next("epoll_create1");
	r->epoll_ctl = pl_next("epoll_ctl");
	r->epoll_pwait = pl_next("epoll_pwait");
	r->select = pl_next("select");
	r->pselect = pl_next("pselect");
}

/* "HH:MM:SS.uuuuuu" wall-clock, as strace -tt and tcpdump print it, on the stream the
 * library opened at start (a program that later points its stderr at a log file, as nginx
 * does, does not take the trace with it). */
static void pl_line(const char *tag, const char *text)
{
	struct timespec ts;
	struct tm tm;
	clock_gettime(CLOCK_REALTIME, &ts);
	localtime_r(&ts.tv_sec, &tm);
	fprintf(pl.out ? pl.out : stderr, "%02d:%02d:%02d.%06ld %s %s\n", tm.tm_hour, tm.tm_min,
	        tm.tm_sec, ts.tv_nsec / 1000, tag, text);
	fflush(pl.out ? pl.out : stderr);
}

void pl_trace_app(const char *fmt, ...)
{
	char line[256];
	va_list ap;
	if (!pl.trace)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	pl_line("app", line);
}

static void pl_log_sink(void *arg, const char *line)
{
	(void)arg;
	pl_line("log", line);
}

static void pl_trace_frame(void *arg, bool out, const uint8_t *frame, uint32_t len)
{
	char line[512];
	(void)arg;
	dump_frame(line, sizeof(line), frame, len);
	pl_line(out ? "out" : "in ", line);
}

void pl_log_unsupported(const char *what)
{
	for (uint32_t i = 0; i < pl.nunsupported; i++)
		if (strcmp(pl.unsupported[i], what) == 0)
			return;
	if (pl.nunsupported < sizeof(pl.unsupported) / sizeof(pl.unsupported[0]))
		snprintf(pl.unsupported[pl.nunsupported++], sizeof(pl.unsupported[0]), "%s", what);
	fprintf(stderr, "tapstack-preload: unsupported: %s\n", what);
}

static const char *pl_env(const char *name, const char *dflt)
{
	const char *v = getenv(name);
	return v && *v ? v : dflt;
}

/* The stack's configuration from the environment; -EINVAL (logged) on a bad value. */
static int pl_config(struct stack_config *cfg)
{
	const char *addr = pl_env("TAPSTACK_ADDR", "10.0.0.2/24");
	char buf[32];
	const char *slash = strchr(addr, '/');
	size_t alen = slash ? (size_t)(slash - addr) : strlen(addr);
	long prefix = slash ? strtol(slash + 1, NULL, 10) : 24;

	ts_stack_config_default(cfg);
	if (alen >= sizeof(buf) || prefix < 1 || prefix > 30)
		goto bad_addr;
	memcpy(buf, addr, alen);
	buf[alen] = '\0';
	if (ipv4_addr_parse(buf, &cfg->link.addr) != 0)
		goto bad_addr;
	cfg->link.prefix_len = (uint8_t)prefix;
	const char *gw = getenv("TAPSTACK_GATEWAY");
	if (gw && *gw && ipv4_addr_parse(gw, &cfg->link.gateway) != 0) {
		fprintf(stderr, "tapstack-preload: bad TAPSTACK_GATEWAY '%s'\n", gw);
		return -EINVAL;
	}
	const char *mac = getenv("TAPSTACK_MAC");
	if (mac && *mac) {
		unsigned m[6];
		if (sscanf(mac, "%x:%x:%x:%x:%x:%x", &m[0], &m[1], &m[2], &m[3], &m[4], &m[5]) != 6) {
			fprintf(stderr, "tapstack-preload: bad TAPSTACK_MAC '%s'\n", mac);
			return -EINVAL;
		}
		for (int i = 0; i < 6; i++)
			cfg->link.mac[i] = (uint8_t)m[i];
	} else if (getrandom(cfg->link.mac, 6, 0) == 6) {
		cfg->link.mac[0] = (uint8_t)((cfg->link.mac[0] & 0xfe) | 0x02); /* local, unicast */
	}
	const char *mtu = getenv("TAPSTACK_MTU");
	if (mtu && *mtu)
		cfg->link.mtu = (uint32_t)strtoul(mtu, NULL, 10);
	/* Linux's net.ipv4.tcp_syn_retries for this stack (tests shorten a refused SYN's wait). */
	const char *syn = getenv("TAPSTACK_SYN_RETRIES");
	if (syn && *syn)
		cfg->tcp.syn_retries = (uint32_t)strtoul(syn, NULL, 10);
	if (getrandom(&cfg->seed, sizeof(cfg->seed), 0) != (ssize_t)sizeof(cfg->seed))
		cfg->seed = ts_clock_now() ^ (uint64_t)getpid();
	return 0;
bad_addr:
	fprintf(stderr, "tapstack-preload: bad TAPSTACK_ADDR '%s' (expected A.B.C.D/N)\n", addr);
	return -EINVAL;
}

/* ---- the control socket (--ctl): `tapstack ss` and `tapstack stats` against the program ---- */

static void pl_ctl_answer(void *arg, char *req, FILE *f)
{
	(void)arg;
	if (pl.given_away) {
		fputs("error: this process gave the stack to a forked child\n", f);
		return;
	}
	ts_blocking_lock(&pl.b);
	ctl_answer(pl.stack, req, f);
	ts_blocking_unlock(&pl.b);
}

/* One thread answers the control socket; it ends when the stack leaves this process. */
/* Starts one of the library's own threads with every signal blocked (pthread_create's
 * result): the program's handlers must run in the program's threads (nginx's master waits
 * for SIGCHLD in sigsuspend(); a SIGCHLD taken by our thread never woke it). */
static int pl_thread_create(pthread_t *t, void *(*fn)(void *))
{
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	int rc = pthread_create(t, NULL, fn, NULL);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return rc;
}

static void *pl_ctl_thread(void *arg)
{
	(void)arg;
	while (!__atomic_load_n(&pl.given_away, __ATOMIC_RELAXED)) {
		struct pollfd p = { .fd = pl.ctl_fd, .events = POLLIN };
		if (pl.real.poll(&p, 1, 200) > 0)
			ctl_serve_fn(pl.ctl_fd, pl_ctl_answer, NULL);
	}
	return NULL;
}

static void pl_ctl_start(void)
{
	pthread_t t;
	if (pl.ctl_fd >= 0 && pl_thread_create(&t, pl_ctl_thread) == 0)
		pthread_detach(t);
}

/* ---- several processes: mailboxes, and the fork handlers ---- */

/* The abstract AF_UNIX name of slot's mailbox (unique to this stack by the nonce). */
static socklen_t pl_mbox_name(int slot, struct sockaddr_un *a)
{
	*a = (struct sockaddr_un){ .sun_family = AF_UNIX };
	int n = snprintf(a->sun_path + 1, sizeof(a->sun_path) - 1, "tapstack-%08x-%d", pl.sh->procs.nonce, slot);
	return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + (size_t)n);
}

void *pl_notify_arg(int efd)
{
	return (void *)(uintptr_t)(((uint64_t)(uint32_t)pl.slot << 32) | (uint32_t)efd);
}

/* Lock held (the stack raises notifications only inside a locked call or iteration). */
void pl_notify(void *arg)
{
	uint64_t one = 1;
	int slot = (int)((uintptr_t)arg >> 32), efd = (int)(uint32_t)(uintptr_t)arg;
	if (slot == pl.slot) {
		/* Fails only when the counter is about to overflow: then it is readable anyway. */
		(void)!pl.real.write(efd, &one, sizeof(one));
		return;
	}
	/* Another process's eventfd: queued for it, and its mailbox rung once. */
	if (!procs_pend(&pl.sh->procs, slot, efd) || pl.mbox_tx < 0)
		return;
	struct sockaddr_un a;
	socklen_t len = pl_mbox_name(slot, &a);
	if (pl.real.sendto(pl.mbox_tx, "", 1, MSG_DONTWAIT | MSG_NOSIGNAL, (struct sockaddr *)&a, len) < 0) {
		int32_t drop[PROCS_PENDING_MAX];
		(void)procs_take(&pl.sh->procs, slot, drop, PROCS_PENDING_MAX); /* it is gone */
	}
}

void pl_notify_cancel(int efd)
{
	procs_unpend(&pl.sh->procs, pl.slot, efd);
}

/* This process's mailbox thread: it holds the slot's life mutex for as long as the process
 * lives, and writes the eventfds other processes queued for it. */
static void *pl_mbox_thread(void *arg)
{
	(void)arg;
	procs_live(&pl.sh->procs, pl.slot);
	for (;;) {
		char c[16];
		int32_t efds[PROCS_PENDING_MAX];
		uint64_t one = 1;
		if (pl.real.recvfrom(pl.mbox_fd, c, sizeof(c), 0, NULL, NULL) < 0) {
			if (errno == EINTR)
				continue;
			/* The program closed our mailbox behind our back. This thread must not end:
			 * its life mutex says the process lives (procs.h). Its epoll and poll now
			 * miss what other processes raise. */
			fprintf(stderr, "tapstack-preload: pid %d: mailbox: %s\n", (int)getpid(), strerror(errno));
			for (;;)
				pause();
		}
		/* Writes happen under the lock: the owner closes a set (and its eventfd) only
		 * under it, after pl_notify_cancel, so a number written is still that eventfd. */
		ts_blocking_lock(&pl.b);
		uint32_t n = procs_take(&pl.sh->procs, pl.slot, efds, PROCS_PENDING_MAX);
		for (uint32_t i = 0; i < n; i++)
			(void)!pl.real.write(efds[i], &one, sizeof(one));
		ts_blocking_unlock(&pl.b);
	}
	return NULL;
}

/* Opens this process's mailbox and starts its thread (after a fork, in both processes). */
static void pl_mbox_start(void)
{
	struct sockaddr_un a;
	pthread_t t;
	if (pl.mbox_fd >= 0)
		return;
	pl.mbox_fd = pl.real.socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	pl.mbox_tx = pl.real.socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (pl.mbox_fd < 0 || pl.mbox_tx < 0 ||
	    pl.real.bind(pl.mbox_fd, (struct sockaddr *)&a, pl_mbox_name(pl.slot, &a)) < 0 ||
	    pl_thread_create(&t, pl_mbox_thread) != 0) {
		fprintf(stderr, "tapstack-preload: pid %d: no mailbox (%s): its epoll and poll miss what other processes see\n",
		        (int)getpid(), strerror(errno));
		return;
	}
	pthread_detach(t);
}

/* Sockets a dead process alone still held (procs.c): closed (lock held). */
static void pl_close_swept(void *arg, int ts)
{
	(void)arg;
	ts_close(&pl.stack->sock, ts);
}

static void pl_atfork_prepare(void)
{
	if (!pl.started || pl.given_away)
		return;
	ts_blocking_fork_prepare(&pl.b);
	pl.fork_slot = procs_reserve(&pl.sh->procs, pl.slot);
}

static void pl_atfork_parent(void)
{
	if (!pl.started || pl.given_away)
		return;
	ts_blocking_fork_parent(&pl.b, true);
	pl_mbox_start();
}

static void pl_atfork_child(void)
{
	if (!pl.started || pl.given_away)
		return;
	pl_wait_forked();
	if (pl.mbox_fd >= 0) { /* the parent's: this process gets its own */
		pl.real.close(pl.mbox_fd);
		pl.real.close(pl.mbox_tx);
		pl.mbox_fd = pl.mbox_tx = -1;
	}
	if (pl.fork_slot < 0) {
		fprintf(stderr, "tapstack-preload: pid %d: %d processes share the stack already; this one has none\n",
		        (int)getpid(), PROCS_MAX);
		pl.given_away = true;
		return;
	}
	pl.slot = pl.fork_slot;
	procs_attach(&pl.sh->procs, pl.slot, getpid());
	pl_mbox_start();
	if (ts_blocking_fork_child(&pl.b, true) != 0) {
		fprintf(stderr, "tapstack-preload: pid %d: no stack thread\n", (int)getpid());
		return;
	}
	pl_ctl_start(); /* every process answers the control socket: the stack is the same */
}

/* With init_lock held. */
static int pl_start_locked(void)
{
	struct stack_config cfg;
	struct netdev *dev;
	char err[256];
	struct rlimit rl;

	if (pl_config(&cfg) != 0)
		return -EINVAL;
	/* Before anything is allocated: the stack's memory is the arena's (shared after fork). */
	struct arena *arena = arena_create(PL_ARENA_BYTES);
	if (!arena) {
		fprintf(stderr, "tapstack-preload: no shared arena: %s\n", strerror(errno));
		return -ENOMEM;
	}
	pl.sh = arena_calloc(arena, 1, sizeof(*pl.sh));
	if (!pl.sh || ts_blocking_sync_init_shared(&pl.sh->sync) != 0 ||
	    procs_init(&pl.sh->procs, pl_close_swept, NULL) != 0) {
		arena_destroy(arena);
		return -ENOMEM;
	}
	pl.stack = &pl.sh->stack;
	pl.slot = 0;
	__atomic_store_n(&pl.arena, arena, __ATOMIC_RELEASE);
	bool trace = getenv("TAPSTACK_TRACE") != NULL;
	pl.trace = trace;
	int out = pl.real.fcntl(2, F_DUPFD_CLOEXEC, 3);
	pl.out = out >= 0 ? fdopen(out, "w") : NULL;
	const char *pcap = getenv("TAPSTACK_PCAP");
	/* The plain TAP back end: io_uring's rings are memory the kernel does not map into a
	 * forked child, and after fork() every process runs the stack (the fork rule); the
	 * io_uring back end crashed nginx's worker at its first send. Without TAP_OPEN_URING
	 * the driver opens the plain one. */
	unsigned flags = (getenv("TAPSTACK_NO_OFFLOAD") || trace || pcap) ? 0 : TAP_OPEN_OFFLOAD;
	int rc = ts_tap_open_ex(&dev, pl_env("TAPSTACK_TAP", "tap0"), cfg.link.mtu, flags, err, sizeof(err));
	if (rc) {
		fprintf(stderr, "tapstack-preload: %s\n", err);
		return rc;
	}
	if (trace || pcap) {
		struct timespec wall;
		clock_gettime(CLOCK_REALTIME, &wall);
		struct pcap_wrap_config pc = {
			.path = pcap,
			.clock = &pl.stack->core.now,
			.wall_base_usec = (usec_t)wall.tv_sec * USEC_PER_SEC + (usec_t)wall.tv_nsec / 1000 -
			                  ts_clock_now(),
			.hook = trace ? pl_trace_frame : NULL,
		};
		struct netdev *w;
		if (ts_pcap_wrap(&w, dev, &pc, err, sizeof(err)) != 0) {
			fprintf(stderr, "tapstack-preload: pcap %s\n", err);
			netdev_close(dev);
			return -EINVAL;
		}
		dev = w;
	}
	cfg.log = (struct log){ .sink = pl_log_sink, .trace = trace };
	rc = ts_stack_init(pl.stack, &cfg, dev, ts_clock_now());
	if (rc) {
		fprintf(stderr, "tapstack-preload: cannot start the stack: %s\n", strerror(-rc));
		return rc;
	}
	pl.nfds = getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_max < PL_FDS_MAX ? (uint32_t)rl.rlim_max
	                                                                         : PL_FDS_MAX;
	/* The descriptor table is each process's own (fork copies it), as the kernel's is. */
	pl.fds = __real_calloc(pl.nfds, sizeof(*pl.fds));
	if (!pl.fds) {
		ts_stack_destroy(pl.stack);
		return -ENOMEM;
	}
	rc = ts_blocking_start_shared(&pl.b, pl.stack, &pl.sh->sync);
	if (rc) {
		__real_free(pl.fds);
		pl.fds = NULL;
		ts_stack_destroy(pl.stack);
		return rc;
	}
	pthread_atfork(pl_atfork_prepare, pl_atfork_parent, pl_atfork_child);
	const char *ctl = getenv("TAPSTACK_CTL");
	pl.ctl_fd = -1;
	if (ctl && *ctl) {
		pl.ctl_fd = ctl_listen(ctl);
		if (pl.ctl_fd < 0)
			fprintf(stderr, "tapstack-preload: control socket %s: %s\n", ctl, strerror(-pl.ctl_fd));
		pl_ctl_start();
	}
	if (pl.verbose) {
		char a[16];
		fprintf(stderr, "tapstack-preload: pid %d on %s, %s/%u%s\n", (int)getpid(), dev->name,
		        ipv4_addr_str(cfg.link.addr, a), cfg.link.prefix_len, dev->offload ? ", offload" : "");
	}
	return 0;
}

int pl_start(void)
{
	int rc = 0;

	if (__atomic_load_n(&pl.started, __ATOMIC_ACQUIRE))
		return 0;
	pthread_mutex_lock(&pl.init_lock);
	if (pl.failed) {
		rc = -ENETDOWN;
	} else if (!pl.started) {
		rc = pl_start_locked();
		if (rc)
			pl.failed = true;
		else
			__atomic_store_n(&pl.started, true, __ATOMIC_RELEASE);
	}
	pthread_mutex_unlock(&pl.init_lock);
	return rc ? -ENETDOWN : 0;
}

/* Grows the per-ts-descriptor reference counts to cover ts; false when out of memory. */
static bool pl_refs_reserve(int ts)
{
	if ((uint32_t)ts < pl.ts_cap)
		return true;
	uint32_t n = pl.ts_cap ? pl.ts_cap : 256;
	while (n <= (uint32_t)ts)
		n *= 2;
	uint32_t *r = __real_realloc(pl.ts_refs, n * sizeof(*r)); /* this process's own */
	if (!r)
		return false;
	memset(r + pl.ts_cap, 0, (n - pl.ts_cap) * sizeof(*r));
	pl.ts_refs = r;
	pl.ts_cap = n;
	return true;
}

int pl_fd_bind_sock(int ts, bool dgram)
{
	/* The placeholder: a kernel socket nobody uses (fstat says socket, as programs expect),
	 * close-on-exec always: exec drops tapstack sockets (docs/preload.md). */
	int kfd = pl.real.socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (kfd < 0)
		return -errno;
	if ((uint32_t)kfd >= pl.nfds || !pl_refs_reserve(ts)) {
		pl.real.close(kfd);
		return -EMFILE;
	}
	if (pl.ts_refs[ts] == 0 && !procs_hold(&pl.sh->procs, ts, pl.slot)) {
		pl.real.close(kfd);
		return -ENOMEM;
	}
	pl.ts_refs[ts]++;
	pl.fds[kfd] = (struct pl_fd){ .kind = PL_SOCK, .ts = ts, .efd = -1, .dgram = dgram };
	return kfd;
}

void pl_fd_alias(int kfd, int from)
{
	pl.ts_refs[pl.fds[from].ts]++;
	pl.fds[kfd] = pl.fds[from];
}

int pl_fd_forget(int fd)
{
	struct pl_fd *e = &pl.fds[fd];
	int ts = -1;

	/* The socket closes when no process has a name for it any more (procs.c). */
	if (e->kind == PL_SOCK && --pl.ts_refs[e->ts] == 0 && !pl.given_away &&
	    procs_release(&pl.sh->procs, e->ts, pl.slot))
		ts = e->ts;
	else if (e->kind == PL_EPOLL && e->slot == pl.slot)
		pl_epoll_forget(e);
	else if (e->kind == PL_EPOLL)
		pl.real.close(e->efd); /* another process's set, inherited: it stays that one's */
	*e = (struct pl_fd){ .kind = PL_NONE, .ts = -1, .efd = -1 };
	return ts;
}

__attribute__((constructor)) static void pl_init(void)
{
	pl_resolve();
	pl.verbose = getenv("TAPSTACK_VERBOSE") != NULL;
	/* Run-to-completion in epoll_wait (wait.c) unless TAPSTACK_NO_DRIVE (for comparisons). */
	pl.drive = getenv("TAPSTACK_NO_DRIVE") == NULL;
}
