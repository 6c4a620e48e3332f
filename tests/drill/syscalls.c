/*
 * syscalls.c - a script's system call lines on tapstack's socket API (socket/socket.h).
 *
 * Each call evaluates its arguments (`...` is filled in as packetdrill does: AF_INET, the
 * local address 192.168.0.1:8080 for bind, the remote 192.0.2.1:8080 for connect, a
 * buffer of zero bytes for writes), calls the ts_* function and checks the result against
 * the script (`= N`, or `= -1 ERRNO`). Script descriptors (`socket(...) = 3`) are mapped
 * to tapstack's.
 *
 * Blocking: tapstack's calls never block (socket.h). A call that returns -EAGAIN on a
 * socket in blocking mode is parked here instead and retried after every step of the
 * virtual clock until it completes, as the kernel would wake it; then its result and its
 * return time (`+0...0.200`) are checked. A blocking write keeps writing until all its
 * bytes are accepted, as Linux's does: once parked it tries again only when the socket is
 * writable (POLLOUT, or an error), as Linux's sk_stream_wait_memory sleeps until
 * sk_stream_write_space wakes it; a blocking connect waits for POLLOUT or POLLERR.
 *
 * A NULL buffer with a non-zero length gets EFAULT from the runner itself: in the kernel
 * the fault comes from the copy to or from user memory, a step tapstack's in-process API
 * does not have.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/sockios.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>

#include "runner.h"

enum { PEND_NONE, PEND_ACCEPT, PEND_READ, PEND_WRITE, PEND_CONNECT, PEND_POLL };

#define DRILL_BLOCKED INT64_MIN   /* a handler's "would block: park me" */
#define DRILL_BUF_MAX (64u << 20) /* largest read/write buffer the runner allocates */

/* ---- symbols (Linux values, from the system headers) ---- */

struct drill_sym {
	const char *name;
	int64_t value;
};

#define SYM(x) {#x, (int64_t)(x)}
static const struct drill_sym drill_syms[] = {
	SYM(AF_INET), SYM(AF_INET6), SYM(AF_UNSPEC), SYM(PF_INET), SYM(SOCK_STREAM), SYM(SOCK_DGRAM),
	SYM(SOCK_NONBLOCK), SYM(SOCK_CLOEXEC), SYM(IPPROTO_TCP), SYM(IPPROTO_IP), SYM(IPPROTO_UDP),
	SYM(SOL_SOCKET), SYM(SOL_TCP), SYM(SOL_IP),
	SYM(SO_REUSEADDR), SYM(SO_REUSEPORT), SYM(SO_KEEPALIVE), SYM(SO_LINGER), SYM(SO_SNDBUF),
	SYM(SO_RCVBUF), SYM(SO_ERROR), SYM(SO_TYPE), SYM(SO_RCVLOWAT), SYM(SO_SNDLOWAT), SYM(SO_ZEROCOPY),
	SYM(SO_DEBUG), SYM(SO_OOBINLINE), SYM(SO_ACCEPTCONN), SYM(SO_SNDBUFFORCE), SYM(SO_RCVBUFFORCE),
	SYM(SO_MEMINFO), SYM(SO_MAX_PACING_RATE), SYM(SO_PRIORITY), SYM(SO_MARK),
	SYM(TCP_NODELAY), SYM(TCP_MAXSEG), SYM(TCP_CORK), SYM(TCP_KEEPIDLE), SYM(TCP_KEEPINTVL),
	SYM(TCP_KEEPCNT), SYM(TCP_SYNCNT), SYM(TCP_LINGER2), SYM(TCP_DEFER_ACCEPT), SYM(TCP_WINDOW_CLAMP),
	SYM(TCP_INFO), SYM(TCP_QUICKACK), SYM(TCP_CONGESTION), SYM(TCP_USER_TIMEOUT), SYM(TCP_INQ),
	SYM(TCP_CM_INQ), SYM(TCP_NOTSENT_LOWAT), SYM(TCP_FASTOPEN), SYM(TCP_FASTOPEN_CONNECT),
	SYM(TCP_MD5SIG), SYM(TCP_THIN_LINEAR_TIMEOUTS), SYM(TCP_SAVE_SYN), SYM(TCP_SAVED_SYN),
	SYM(TCP_REPAIR), SYM(TCP_TIMESTAMP), SYM(TCP_ZEROCOPY_RECEIVE), SYM(TCP_TX_DELAY),
	SYM(IP_TOS), SYM(IP_TTL), SYM(IP_MTU_DISCOVER), SYM(IP_PMTUDISC_DONT), SYM(IP_PMTUDISC_DO),
	SYM(IP_PMTUDISC_WANT), SYM(IP_PMTUDISC_PROBE), SYM(IP_MTU), SYM(IP_RECVERR),
	SYM(O_RDONLY), SYM(O_WRONLY), SYM(O_RDWR), SYM(O_NONBLOCK), SYM(O_CLOEXEC),
	SYM(F_GETFL), SYM(F_SETFL), SYM(F_GETFD), SYM(F_SETFD), SYM(FD_CLOEXEC),
	SYM(MSG_OOB), SYM(MSG_PEEK), SYM(MSG_DONTROUTE), SYM(MSG_DONTWAIT), SYM(MSG_EOR),
	SYM(MSG_WAITALL), SYM(MSG_TRUNC), SYM(MSG_NOSIGNAL), SYM(MSG_MORE), SYM(MSG_ZEROCOPY),
	SYM(MSG_FASTOPEN), SYM(MSG_ERRQUEUE), SYM(MSG_CTRUNC),
	SYM(SHUT_RD), SYM(SHUT_WR), SYM(SHUT_RDWR),
	SYM(SIOCINQ), SYM(SIOCOUTQ), SYM(FIONREAD), SYM(FIONBIO), SYM(SIOCOUTQNSD), SYM(SIOCATMARK),
	SYM(POLLIN), SYM(POLLOUT), SYM(POLLERR), SYM(POLLHUP), SYM(POLLNVAL), SYM(POLLPRI),
	SYM(POLLRDNORM), SYM(POLLWRNORM), SYM(POLLRDHUP),
	SYM(EPOLLIN), SYM(EPOLLOUT), SYM(EPOLLPRI), SYM(EPOLLERR), SYM(EPOLLHUP), SYM(EPOLLRDHUP),
	SYM(EPOLLRDNORM), SYM(EPOLLWRNORM), SYM(EPOLLET), SYM(EPOLLONESHOT), SYM(EPOLLEXCLUSIVE),
	SYM(EPOLL_CTL_ADD), SYM(EPOLL_CTL_MOD), SYM(EPOLL_CTL_DEL), SYM(EPOLL_CLOEXEC),
	SYM(INADDR_ANY),
};
#undef SYM

bool drill_symbol_value(const char *name, int64_t *v)
{
	for (size_t i = 0; i < sizeof(drill_syms) / sizeof(drill_syms[0]); i++)
		if (strcmp(drill_syms[i].name, name) == 0) {
			*v = drill_syms[i].value;
			return true;
		}
	return false;
}

#define ERR(x) {#x, x}
static const struct drill_sym drill_errnos[] = {
	ERR(EPERM), ERR(ENOENT), ERR(EINTR), ERR(EIO), ERR(EBADF), ERR(EAGAIN), ERR(EWOULDBLOCK),
	ERR(ENOMEM), ERR(EACCES), ERR(EFAULT), ERR(EBUSY), ERR(EEXIST), ERR(EINVAL), ERR(ENFILE),
	ERR(EMFILE), ERR(ENOSPC), ERR(EPIPE), ERR(ERANGE), ERR(ENOSYS), ERR(ENOTSOCK),
	ERR(EDESTADDRREQ), ERR(EMSGSIZE), ERR(EPROTOTYPE), ERR(ENOPROTOOPT), ERR(EPROTONOSUPPORT),
	ERR(ESOCKTNOSUPPORT), ERR(EOPNOTSUPP), ERR(ENOTSUP), ERR(EAFNOSUPPORT), ERR(EADDRINUSE),
	ERR(EADDRNOTAVAIL), ERR(ENETDOWN), ERR(ENETUNREACH), ERR(ECONNABORTED), ERR(ECONNRESET),
	ERR(ENOBUFS), ERR(EISCONN), ERR(ENOTCONN), ERR(ETIMEDOUT), ERR(ECONNREFUSED),
	ERR(EHOSTUNREACH), ERR(EALREADY), ERR(EINPROGRESS), ERR(ENODATA), ERR(EPROTO),
};
#undef ERR

static bool errno_value(const char *name, int *v)
{
	for (size_t i = 0; i < sizeof(drill_errnos) / sizeof(drill_errnos[0]); i++)
		if (strcmp(drill_errnos[i].name, name) == 0) {
			*v = (int)drill_errnos[i].value;
			return true;
		}
	return false;
}

static const char *errno_name(int e)
{
	for (size_t i = 0; i < sizeof(drill_errnos) / sizeof(drill_errnos[0]); i++)
		if (drill_errnos[i].value == e)
			return drill_errnos[i].name;
	return "E?";
}

/* ---- arguments ---- */

static struct socket_layer *SL(struct drill_runner *r)
{
	return ts_stack_sockets(&r->st);
}

static const struct drill_expr *arg(const struct drill_event *ev, size_t i)
{
	return i < ev->call.nargs ? ev->call.args[i] : NULL;
}

static bool eval_int(struct drill_runner *r, const struct drill_event *ev, const struct drill_expr *e, int64_t *v)
{
	if (!e) {
		drill_fail(r, ev->line, "%s: missing argument", ev->call.name);
		return false;
	}
	switch (e->kind) {
	case DRILL_EXPR_INT:
		*v = e->num;
		return true;
	case DRILL_EXPR_SYMBOL:
		if (e->lhs) {
			int64_t x;
			if (!eval_int(r, ev, e->lhs, &x))
				return false;
			if (strcmp(e->name, "htons") == 0) {
				*v = htons((uint16_t)x);
				return true;
			}
			drill_fail(r, ev->line, "%s: unknown function %s()", ev->call.name, e->name);
			return false;
		}
		if (!drill_symbol_value(e->name, v)) {
			drill_fail(r, ev->line, "%s: unknown symbol %s", ev->call.name, e->name);
			return false;
		}
		return true;
	case DRILL_EXPR_OR: {
		int64_t a, b;
		if (!eval_int(r, ev, e->lhs, &a) || !eval_int(r, ev, e->rhs, &b))
			return false;
		*v = a | b;
		return true;
	}
	case DRILL_EXPR_LIST:
		if (e->nitems == 1)
			return eval_int(r, ev, e->items[0], v);
		break;
	case DRILL_EXPR_NULL:
		*v = 0;
		return true;
	default:
		break;
	}
	drill_fail(r, ev->line, "%s: an argument is not an integer expression", ev->call.name);
	return false;
}

static bool arg_int(struct drill_runner *r, const struct drill_event *ev, size_t i, int64_t *v)
{
	return eval_int(r, ev, arg(ev, i), v);
}

/* A script descriptor to tapstack's (an unknown one stays invalid so the stack says EBADF). */
static bool arg_fd(struct drill_runner *r, const struct drill_event *ev, size_t i, int *fd)
{
	int64_t v;
	if (!arg_int(r, ev, i, &v))
		return false;
	if (v >= 0 && v < DRILL_FDS_MAX && r->fdmap[v] >= 0)
		*fd = r->fdmap[v];
	else
		*fd = (int)(v < 0 ? v : 100000 + v);
	if (*fd >= 0 && *fd < 100000)
		r->last_fd = *fd;
	return true;
}

static bool arg_is_null(const struct drill_event *ev, size_t i)
{
	const struct drill_expr *e = arg(ev, i);
	return e && e->kind == DRILL_EXPR_NULL;
}

static bool is_blocking(struct drill_runner *r, int fd)
{
	return ts_get_nonblock(SL(r), fd) == 0;
}

/* A zero-filled buffer of at least n bytes, reused for every write of the script. */
static uint8_t *zero_buf(struct drill_runner *r, size_t n)
{
	if (n > r->zbuf_cap) {
		free(r->zbuf);
		r->zbuf_cap = n < 65536 ? 65536 : n;
		r->zbuf = calloc(1, r->zbuf_cap);
		if (!r->zbuf)
			r->zbuf_cap = 0;
	}
	return r->zbuf;
}

/* Where reads land (the data is not compared: scripts write zeros and read counts). */
static uint8_t *scratch_buf(struct drill_runner *r, size_t n)
{
	if (n > r->rbuf_cap) {
		free(r->rbuf);
		r->rbuf_cap = n < 65536 ? 65536 : n;
		r->rbuf = malloc(r->rbuf_cap);
		if (!r->rbuf)
			r->rbuf_cap = 0;
	}
	return r->rbuf;
}

/* Sum of the lengths in a msghdr's msg_iov(N)=[{..., LEN}, ...]; -1 if it has none. */
static int64_t msghdr_iov_len(struct drill_runner *r, const struct drill_event *ev, const struct drill_expr *m,
                              bool *has_control)
{
	int64_t total = -1;
	*has_control = false;
	if (!m || m->kind != DRILL_EXPR_STRUCT)
		return -1;
	for (size_t i = 0; i < m->nitems; i++) {
		const struct drill_expr *f = m->items[i];
		if (f->kind != DRILL_EXPR_FIELD)
			continue;
		if (strcmp(f->name, "msg_control") == 0)
			*has_control = true;
		if (strcmp(f->name, "msg_iov") != 0 || !f->rhs || f->rhs->kind != DRILL_EXPR_LIST)
			continue;
		total = 0;
		for (size_t k = 0; k < f->rhs->nitems; k++) {
			const struct drill_expr *iov = f->rhs->items[k];
			int64_t len;
			if (iov->kind != DRILL_EXPR_STRUCT || iov->nitems != 2 || !eval_int(r, ev, iov->items[1], &len))
				return -1;
			total += len;
		}
	}
	return total;
}

/* ---- the calls ---- */

typedef int64_t (*drill_call_fn)(struct drill_runner *r, const struct drill_event *ev);

static int64_t call_socket(struct drill_runner *r, const struct drill_event *ev)
{
	int64_t domain = AF_INET, type, proto;
	const struct drill_expr *d = arg(ev, 0);
	if (d && d->kind != DRILL_EXPR_ELLIPSIS && !eval_int(r, ev, d, &domain))
		return 0;
	if (!arg_int(r, ev, 1, &type) || !arg_int(r, ev, 2, &proto))
		return 0;
	return ts_socket(SL(r), (int)domain, (int)type, (int)proto);
}

static struct sockaddr_in local_addr(void)
{
	struct sockaddr_in a = {0};
	a.sin_family = AF_INET;
	a.sin_port = htons(DRILL_SERVER_PORT);
	a.sin_addr.s_addr = htonl(DRILL_LOCAL_IP);
	return a;
}

static int64_t call_bind(struct drill_runner *r, const struct drill_event *ev)
{
	int fd;
	if (!arg_fd(r, ev, 0, &fd))
		return 0;
	struct sockaddr_in a = local_addr();
	return ts_bind(SL(r), fd, &a);
}

static int64_t call_listen(struct drill_runner *r, const struct drill_event *ev)
{
	int fd;
	int64_t backlog;
	if (!arg_fd(r, ev, 0, &fd) || !arg_int(r, ev, 1, &backlog))
		return 0;
	return ts_listen(SL(r), fd, (int)backlog);
}

static int64_t call_accept(struct drill_runner *r, const struct drill_event *ev)
{
	int fd;
	int64_t flags = 0;
	if (!arg_fd(r, ev, 0, &fd))
		return 0;
	if (strcmp(ev->call.name, "accept4") == 0 && !arg_int(r, ev, 3, &flags))
		return 0;
	struct sockaddr_in peer;
	int ret = ts_accept(SL(r), fd, &peer, (int)flags);
	if (ret == -EAGAIN && is_blocking(r, fd)) {
		r->pend.kind = PEND_ACCEPT;
		return DRILL_BLOCKED;
	}
	return ret;
}

static int64_t connect_result(struct drill_runner *r, int fd)
{
	short rev = ts_revents(SL(r), fd);
	if (!(rev & (POLLOUT | POLLERR | POLLHUP)))
		return DRILL_BLOCKED;
	int err = 0;
	socklen_t len = sizeof(err);
	int ret = ts_getsockopt(SL(r), fd, SOL_SOCKET, SO_ERROR, &err, &len);
	if (ret < 0)
		return ret;
	return err ? -err : 0;
}

static int64_t call_connect(struct drill_runner *r, const struct drill_event *ev)
{
	int fd;
	if (!arg_fd(r, ev, 0, &fd))
		return 0;
	if (r->pend.active)
		return connect_result(r, fd);
	struct sockaddr_in a = {0};
	a.sin_family = AF_INET;
	a.sin_port = htons(DRILL_SERVER_PORT);
	a.sin_addr.s_addr = htonl(DRILL_REMOTE_IP);
	int ret = ts_connect(SL(r), fd, &a);
	if (ret == -EINPROGRESS && is_blocking(r, fd)) {
		r->pend.kind = PEND_CONNECT;
		return DRILL_BLOCKED;
	}
	return ret;
}

/*
 * The buffer argument of a read or write: the kernel's answers for a negative length (-EINVAL)
 * and a NULL buffer (-EFAULT), then a runner buffer of len bytes (zeroed for writes).
 * Returns 1 with *buf set, 0 when the call is finished with *ret as its result, or when the
 * runner itself failed (drill_fail already called, *ret = 0).
 */
static int io_buf_arg(struct drill_runner *r, const struct drill_event *ev, bool null_buf, int64_t len,
                      bool for_write, uint8_t **buf, int64_t *ret)
{
	*ret = 0;
	if (len < 0) {
		*ret = -EINVAL;
		return 0;
	}
	if (null_buf && len > 0) {
		*ret = -EFAULT;
		return 0;
	}
	if (len > (int64_t)DRILL_BUF_MAX) {
		drill_fail(r, ev->line, "%s of %lld bytes: the runner handles at most %u", ev->call.name, (long long)len,
		           DRILL_BUF_MAX);
		return 0;
	}
	*buf = for_write ? zero_buf(r, (size_t)len) : scratch_buf(r, (size_t)len);
	if (!*buf && len > 0) {
		drill_fail(r, ev->line, "runner: out of memory for a %lld-byte %s", (long long)len,
		           for_write ? "write" : "read");
		return 0;
	}
	return 1;
}

/* write, send, sendto, sendmsg. */
/* What a sending call hands the stack in one step: up to `want` of its next bytes. */
typedef ssize_t (*drill_send_step)(struct drill_runner *r, int fd, size_t want, void *ctx);

/*
 * The loop of write, send and sendfile: all `len` bytes (pend.done of them so far), blocking in
 * virtual time while the buffer is full when the socket blocks; a step that gives 0 (nothing
 * asked, or sendfile's file ended) ends the call with what went.
 */
static int64_t send_all(struct drill_runner *r, const struct drill_event *ev, int fd, size_t len, bool may_block,
                        drill_send_step step, void *ctx)
{
	if (!r->pend.active) {
		r->pend.want = len;
		r->pend.done = 0;
	} else if (!(ts_revents(SL(r), fd) & (POLLOUT | POLLERR | POLLHUP))) {
		return DRILL_BLOCKED; /* not woken yet: the buffer is not writable */
	}
	for (;;) {
		ssize_t n = step(r, fd, r->pend.want - r->pend.done, ctx);
		if (n > 0) {
			r->pend.done += (size_t)n;
			drill_vlog(r, "%10.6f   (%s: %zd bytes accepted, %zu of %zu)\n", drill_rel_secs(r, r->now),
			           ev->call.name, n, r->pend.done, r->pend.want);
		}
		if (n == 0 || (n > 0 && r->pend.done == r->pend.want))
			return (int64_t)r->pend.done;
		if (n > 0)
			continue;
		if (n == -EAGAIN && may_block && is_blocking(r, fd)) {
			r->pend.kind = PEND_WRITE;
			return DRILL_BLOCKED;
		}
		/* An error after some bytes went out: the call reports the bytes (as Linux). */
		return r->pend.done ? (int64_t)r->pend.done : n;
	}
}

struct send_buf {
	const uint8_t *buf;
	int flags;
};

static ssize_t send_step_buf(struct drill_runner *r, int fd, size_t want, void *ctx)
{
	const struct send_buf *b = ctx;
	return ts_send(SL(r), fd, b->buf, want, b->flags); /* zeros: any window of them will do */
}

static int64_t do_send(struct drill_runner *r, const struct drill_event *ev, int fd, bool null_buf, int64_t len,
                       int64_t flags)
{
	uint8_t *buf = NULL;
	int64_t ret;
	if (!io_buf_arg(r, ev, null_buf, len, true, &buf, &ret))
		return ret;
	struct send_buf b = { buf, (int)flags };
	return send_all(r, ev, fd, (size_t)len, !(flags & MSG_DONTWAIT), send_step_buf, &b);
}

static int64_t call_write(struct drill_runner *r, const struct drill_event *ev)
{
	int fd;
	int64_t len, flags = 0;
	if (!arg_fd(r, ev, 0, &fd) || !arg_int(r, ev, 2, &len))
		return 0;
	if (strcmp(ev->call.name, "write") != 0 && !arg_int(r, ev, 3, &flags))
		return 0;
	return do_send(r, ev, fd, arg_is_null(ev, 1), len, flags);
}

static int64_t call_sendmsg(struct drill_runner *r, const struct drill_event *ev)
{
	int fd;
	int64_t flags;
	bool control;
	if (!arg_fd(r, ev, 0, &fd) || !arg_int(r, ev, 2, &flags))
		return 0;
	int64_t len = msghdr_iov_len(r, ev, arg(ev, 1), &control);
	if (len < 0) {
		if (!r->failed)
			drill_fail(r, ev->line, "sendmsg: cannot read the msghdr's msg_iov");
		return 0;
	}
	if (control)
		drill_unsupported(r, ev->line, "sendmsg with msg_control is not supported by the runner");
	return do_send(r, ev, fd, false, len, flags);
}

static int64_t do_recv(struct drill_runner *r, const struct drill_event *ev, int fd, bool null_buf, int64_t len,
                       int64_t flags)
{
	uint8_t *buf = NULL;
	int64_t ret;
	if (!io_buf_arg(r, ev, null_buf, len, false, &buf, &ret))
		return ret;
	ssize_t n = ts_recv(SL(r), fd, buf, (size_t)len, (int)flags);
	/* recv(MSG_OOB) never blocks (Linux tcp_recv_urg). */
	if (n == -EAGAIN && is_blocking(r, fd) && !(flags & (MSG_DONTWAIT | MSG_OOB))) {
		r->pend.kind = PEND_READ;
		return DRILL_BLOCKED;
	}
	return n;
}

static int64_t call_read(struct drill_runner *r, const struct drill_event *ev)
{
	int fd;
	int64_t len, flags = 0;
	if (!arg_fd(r, ev, 0, &fd) || !arg_int(r, ev, 2, &len))
		return 0;
	if (strcmp(ev->call.name, "read") != 0 && !arg_int(r, ev, 3, &flags))
		return 0;
	return do_recv(r, ev, fd, arg_is_null(ev, 1), len, flags);
}

/*
 * recvmsg's msg_control. The only control message the corpus checks is TCP_CM_INQ, which
 * Linux attaches when TCP_INQ is on: the bytes left to read after this call, or 1 when
 * none are left and the peer's FIN has arrived (so a reader can tell end of stream).
 * tapstack's API has no msghdr, so the runner builds it from ts_inq() and ts_revents().
 */
static void check_recvmsg_control(struct drill_runner *r, const struct drill_event *ev, int fd,
                                  const struct drill_expr *m)
{
	for (size_t i = 0; i < m->nitems; i++) {
		const struct drill_expr *f = m->items[i];
		if (f->kind != DRILL_EXPR_FIELD || strcmp(f->name, "msg_control") != 0)
			continue;
		if (!f->rhs || f->rhs->kind != DRILL_EXPR_LIST) {
			drill_unsupported(r, ev->line, "recvmsg: msg_control must be a list of {cmsg_level, cmsg_type, cmsg_data}");
			return;
		}
		for (size_t k = 0; k < f->rhs->nitems; k++) {
			const struct drill_expr *cm = f->rhs->items[k];
			int64_t level = -1, type = -1, data = -1;
			for (size_t j = 0; cm->kind == DRILL_EXPR_STRUCT && j < cm->nitems; j++) {
				const struct drill_expr *g = cm->items[j];
				int64_t x;
				if (g->kind != DRILL_EXPR_FIELD || !eval_int(r, ev, g->rhs, &x))
					return;
				if (strcmp(g->name, "cmsg_level") == 0)
					level = x;
				else if (strcmp(g->name, "cmsg_type") == 0)
					type = x;
				else if (strcmp(g->name, "cmsg_data") == 0)
					data = x;
			}
			if (level != SOL_TCP || type != TCP_CM_INQ) {
				drill_unsupported(r, ev->line, "recvmsg: only the TCP_CM_INQ control message is supported");
				return;
			}
			if (fd < 0 || fd >= DRILL_FDS_MAX || !r->inq_on[fd]) {
				drill_fail(r, ev->line, "recvmsg: expected a TCP_CM_INQ control message, but TCP_INQ is not on");
				return;
			}
			int inq = ts_inq(SL(r), fd);
			if (inq == 0 && (ts_revents(SL(r), fd) & POLLRDHUP))
				inq = 1;
			if (inq != data)
				drill_fail(r, ev->line, "runtime error in recvmsg call: TCP_CM_INQ: expected %lld vs actual %d",
				           (long long)data, inq);
		}
	}
}

static int64_t call_recvmsg(struct drill_runner *r, const struct drill_event *ev)
{
	int fd;
	int64_t flags;
	bool control;
	if (!arg_fd(r, ev, 0, &fd) || !arg_int(r, ev, 2, &flags))
		return 0;
	int64_t len = msghdr_iov_len(r, ev, arg(ev, 1), &control);
	if (len < 0) {
		if (!r->failed)
			drill_fail(r, ev->line, "recvmsg: cannot read the msghdr's msg_iov");
		return 0;
	}
	int64_t ret = do_recv(r, ev, fd, false, len, flags);
	if (control && ret != DRILL_BLOCKED && ret >= 0 && !r->failed)
		check_recvmsg_control(r, ev, fd, arg(ev, 1));
	return ret;
}

/*
 * open(PATH, O_RDONLY): a file the script's shell made (`dd ... of=PATH`, shell.c) is a
 * memfd of that many zeros; the script's descriptor number maps to it (check_result).
 * Anything else: ENOENT, as for a file that does not exist.
 */
static int64_t call_open(struct drill_runner *r, const struct drill_event *ev)
{
	const struct drill_expr *path = arg(ev, 0);
	int64_t flags;
	if (!path || path->kind != DRILL_EXPR_STRING) {
		drill_fail(r, ev->line, "open: the first argument is not a path");
		return 0;
	}
	if (!arg_int(r, ev, 1, &flags))
		return 0;
	const struct drill_vfile *f = drill_vfile_find(r, path->name);
	if (!f)
		return -ENOENT;
	if ((flags & O_ACCMODE) != O_RDONLY) {
		drill_fail(r, ev->line, "unsupported: open() for writing (only O_RDONLY of a file made by dd)");
		return -EOPNOTSUPP; /* never a descriptor number the script could map */
	}
	int fd = memfd_create("drill-file", MFD_CLOEXEC);
	if (fd < 0 || ftruncate(fd, (off_t)f->size) != 0) {
		int e = errno;
		if (fd >= 0)
			close(fd);
		drill_fail(r, ev->line, "open: memfd for %s: %s", path->name, strerror(e));
		return 0;
	}
	return fd;
}

/* The kernel descriptor of a script's open()ed file, or -1 (then sendfile says EBADF). */
static int file_fd(struct drill_runner *r, const struct drill_event *ev, size_t i)
{
	int64_t v;
	if (!arg_int(r, ev, i, &v))
		return -1;
	return v >= 0 && v < DRILL_FDS_MAX ? r->filemap[v] : -1;
}

/* sendfile(out, in, [off] or NULL, count): ts_sendfile from the memfd (NULL: from its file
 * position, which moves), blocking as write() does. */
struct send_file {
	int in;
	int64_t off;
	bool at_pos;
};

static ssize_t send_step_file(struct drill_runner *r, int fd, size_t want, void *ctx)
{
	struct send_file *f = ctx;
	uint64_t off = f->at_pos ? (uint64_t)lseek(f->in, 0, SEEK_CUR) : (uint64_t)f->off + r->pend.done;
	ssize_t n = ts_sendfile(SL(r), fd, f->in, off, want, 0);
	if (n > 0 && f->at_pos)
		lseek(f->in, n, SEEK_CUR);
	return n;
}

static int64_t call_sendfile(struct drill_runner *r, const struct drill_event *ev)
{
	int fd;
	int64_t count;
	struct send_file f = { .at_pos = arg_is_null(ev, 2) }; /* NULL: from the file's position, which moves */
	if (!arg_fd(r, ev, 0, &fd) || !arg_int(r, ev, 3, &count))
		return 0;
	f.in = file_fd(r, ev, 1);
	if (r->failed || (!f.at_pos && !arg_int(r, ev, 2, &f.off)))
		return 0;
	if (f.in < 0)
		return -EBADF;
	return send_all(r, ev, fd, (size_t)count, true, send_step_file, &f);
}

static int64_t call_close(struct drill_runner *r, const struct drill_event *ev)
{
	int fd;
	int64_t script_fd;
	if (!arg_fd(r, ev, 0, &fd) || !arg_int(r, ev, 0, &script_fd))
		return 0;
	if (script_fd >= 0 && script_fd < DRILL_FDS_MAX && r->filemap[script_fd] >= 0) {
		close(r->filemap[script_fd]); /* an open()ed file */
		r->filemap[script_fd] = -1;
		return 0;
	}
	int ret = ts_close(SL(r), fd);
	if (ret == 0 && script_fd >= 0 && script_fd < DRILL_FDS_MAX)
		r->fdmap[script_fd] = -1;
	return ret;
}

static int64_t call_shutdown(struct drill_runner *r, const struct drill_event *ev)
{
	int fd;
	int64_t how;
	if (!arg_fd(r, ev, 0, &fd) || !arg_int(r, ev, 1, &how))
		return 0;
	return ts_shutdown(SL(r), fd, (int)how);
}

static int64_t call_setsockopt(struct drill_runner *r, const struct drill_event *ev)
{
	int fd;
	int64_t level, name, len;
	if (!arg_fd(r, ev, 0, &fd) || !arg_int(r, ev, 1, &level) || !arg_int(r, ev, 2, &name) ||
	    !arg_int(r, ev, 4, &len))
		return 0;
	const struct drill_expr *v = arg(ev, 3);
	if (v && v->kind == DRILL_EXPR_STRUCT && level == SOL_SOCKET && name == SO_LINGER) {
		struct linger lg = {0};
		for (size_t i = 0; i < v->nitems; i++) {
			const struct drill_expr *f = v->items[i];
			int64_t x;
			if (f->kind != DRILL_EXPR_FIELD || !eval_int(r, ev, f->rhs, &x))
				return 0;
			if (strcmp(f->name, "l_onoff") == 0)
				lg.l_onoff = (int)x;
			else if (strcmp(f->name, "l_linger") == 0)
				lg.l_linger = (int)x;
		}
		return ts_setsockopt(SL(r), fd, (int)level, (int)name, &lg, sizeof(lg));
	}
	if (v && v->kind == DRILL_EXPR_STRING) {
		/* TCP_CONGESTION's name: the bytes of the string, optlen as the script says (at
		 * most the string and its NUL). */
		size_t n = strlen(v->name) + 1;
		if (len < 0 || (uint64_t)len > n)
			len = (int64_t)n;
		return ts_setsockopt(SL(r), fd, (int)level, (int)name, v->name, (socklen_t)len);
	}
	int64_t x;
	if (!eval_int(r, ev, v, &x))
		return 0;
	int iv = (int)x;
	int ret = ts_setsockopt(SL(r), fd, (int)level, (int)name, &iv, len == sizeof(int) ? sizeof(iv) : (socklen_t)len);
	if (ret == -ENOPROTOOPT && level == SOL_TCP && name == TCP_INQ && fd >= 0 && fd < DRILL_FDS_MAX &&
	    ts_get_nonblock(SL(r), fd) >= 0) {
		/* TCP_INQ only adds a control message to recvmsg(), which the runner builds (above). */
		r->inq_on[fd] = iv != 0;
		drill_vlog(r, "           (TCP_INQ: the runner builds TCP_CM_INQ from ts_inq)\n");
		return 0;
	}
	return ret;
}

static int64_t call_getsockopt(struct drill_runner *r, const struct drill_event *ev)
{
	int fd;
	int64_t level, name;
	if (!arg_fd(r, ev, 0, &fd) || !arg_int(r, ev, 1, &level) || !arg_int(r, ev, 2, &name))
		return 0;
	int iv = 0;
	socklen_t len = sizeof(iv);
	int ret = ts_getsockopt(SL(r), fd, (int)level, (int)name, &iv, &len);
	if (ret < 0)
		return ret;
	const struct drill_expr *ve = arg(ev, 3), *le = arg(ev, 4);
	int64_t want;
	if (ve && ve->kind != DRILL_EXPR_ELLIPSIS) {
		if (!eval_int(r, ev, ve, &want))
			return 0;
		/* An int option: the script may write it as unsigned ([0xffffffff] for -1). */
		if (want != iv && !(want > INT32_MAX && want <= UINT32_MAX && (int32_t)(uint32_t)want == iv)) {
			drill_fail(r, ev->line, "runtime error in getsockopt call: bad value: expected: %lld actual: %d",
			           (long long)want, iv);
			return ret;
		}
	}
	if (le && le->kind != DRILL_EXPR_ELLIPSIS) {
		if (!eval_int(r, ev, le, &want))
			return 0;
		if (want != (int64_t)len) {
			drill_fail(r, ev->line, "runtime error in getsockopt call: bad optlen: expected: %lld actual: %u",
			           (long long)want, (unsigned)len);
			return ret;
		}
	}
	return ret;
}

static int64_t call_fcntl(struct drill_runner *r, const struct drill_event *ev)
{
	int fd;
	int64_t cmd, val = 0;
	if (!arg_fd(r, ev, 0, &fd) || !arg_int(r, ev, 1, &cmd))
		return 0;
	if (cmd == F_GETFL) {
		int nb = ts_get_nonblock(SL(r), fd);
		if (nb < 0)
			return nb;
		return O_RDWR | (nb ? O_NONBLOCK : 0);
	}
	if (cmd == F_SETFL) {
		if (!arg_int(r, ev, 2, &val))
			return 0;
		return ts_set_nonblock(SL(r), fd, (val & O_NONBLOCK) != 0);
	}
	if (cmd == F_GETFD || cmd == F_SETFD)
		return ts_get_nonblock(SL(r), fd) < 0 ? -EBADF : 0;
	return -EINVAL;
}

static int64_t call_ioctl(struct drill_runner *r, const struct drill_event *ev)
{
	int fd;
	int64_t req, want;
	if (!arg_fd(r, ev, 0, &fd) || !arg_int(r, ev, 1, &req))
		return 0;
	if (req != SIOCINQ && req != SIOCATMARK) {
		drill_unsupported(r, ev->line, "ioctl %lld is not mapped (only SIOCINQ/FIONREAD, SIOCATMARK)",
		                  (long long)req);
		return 0;
	}
	int n = req == SIOCINQ ? ts_inq(SL(r), fd) : ts_atmark(SL(r), fd);
	if (n < 0)
		return n;
	const struct drill_expr *ve = arg(ev, 2);
	if (ve && ve->kind != DRILL_EXPR_ELLIPSIS) {
		if (!eval_int(r, ev, ve, &want))
			return 0;
		if (want != n)
			drill_fail(r, ev->line, "runtime error in ioctl call: bad value: expected: %lld actual: %d",
			           (long long)want, n);
	}
	return 0;
}

/* poll([{fd=4, events=POLLIN, revents=POLLIN}], 1, timeout) */
static int64_t call_poll(struct drill_runner *r, const struct drill_event *ev)
{
	const struct drill_expr *list = arg(ev, 0);
	int64_t timeout;
	if (!list || list->kind != DRILL_EXPR_LIST || list->nitems > 16 || !arg_int(r, ev, 2, &timeout)) {
		if (!r->failed)
			drill_fail(r, ev->line, "poll: expected [{fd=.., events=.., revents=..}], n, timeout");
		return 0;
	}
	struct pollfd pfd[16];
	int64_t want_rev[16];
	for (size_t i = 0; i < list->nitems; i++) {
		const struct drill_expr *s = list->items[i];
		pfd[i].fd = -1;
		pfd[i].events = 0;
		want_rev[i] = -1;
		for (size_t k = 0; s->kind == DRILL_EXPR_STRUCT && k < s->nitems; k++) {
			const struct drill_expr *f = s->items[k];
			int64_t x;
			if (f->kind != DRILL_EXPR_FIELD || !eval_int(r, ev, f->rhs, &x))
				return 0;
			if (strcmp(f->name, "fd") == 0)
				pfd[i].fd = x >= 0 && x < DRILL_FDS_MAX && r->fdmap[x] >= 0 ? r->fdmap[x] : (int)(100000 + x);
			else if (strcmp(f->name, "events") == 0)
				pfd[i].events = (short)x;
			else if (strcmp(f->name, "revents") == 0)
				want_rev[i] = x;
		}
	}
	int n = ts_poll(SL(r), pfd, (nfds_t)list->nitems);
	if (n == 0 && timeout != 0) {
		bool timed_out = timeout > 0 && r->now >= r->pend.start + (usec_t)timeout * 1000;
		if (!timed_out) {
			r->pend.kind = PEND_POLL;
			return DRILL_BLOCKED;
		}
	}
	for (size_t i = 0; i < list->nitems && n >= 0; i++)
		if (want_rev[i] >= 0 && want_rev[i] != pfd[i].revents)
			drill_fail(r, ev->line, "runtime error in poll call: fd entry %zu: expected revents 0x%llx but got 0x%x",
			           i, (long long)want_rev[i], (unsigned)pfd[i].revents);
	return n;
}

/* epoll_create(size) (size > 0, else EINVAL) and epoll_create1(flags). */
static int64_t call_epoll_create(struct drill_runner *r, const struct drill_event *ev)
{
	int64_t x;
	if (!arg_int(r, ev, 0, &x))
		return 0;
	if (strcmp(ev->call.name, "epoll_create") == 0)
		return x > 0 ? ts_epoll_create(SL(r), 0) : -EINVAL;
	return ts_epoll_create(SL(r), (int)x);
}

/* A `{events=..., fd=N}` (or ptr=, u32=, u64=) argument: the events and the user data, which
 * the runner keeps as the script's number (it comes back from epoll_wait as written).
 * *have_data says whether the struct named any. */
static bool epoll_event_arg(struct drill_runner *r, const struct drill_event *ev, const struct drill_expr *s,
                            struct epoll_event *out, bool *have_data)
{
	memset(out, 0, sizeof(*out));
	*have_data = false;
	if (!s || s->kind != DRILL_EXPR_STRUCT) {
		drill_fail(r, ev->line, "%s: expected {events=..., fd=...}", ev->call.name);
		return false;
	}
	for (size_t k = 0; k < s->nitems; k++) {
		const struct drill_expr *f = s->items[k];
		int64_t x;
		if (f->kind != DRILL_EXPR_FIELD || !eval_int(r, ev, f->rhs, &x))
			return false;
		if (strcmp(f->name, "events") == 0) {
			out->events = (uint32_t)x;
		} else {
			out->data.u64 = (uint64_t)x;
			*have_data = true;
		}
	}
	return true;
}

/* epoll_ctl(epfd, op, fd, {events=..., fd=...}) */
static int64_t call_epoll_ctl(struct drill_runner *r, const struct drill_event *ev)
{
	int epfd, fd;
	int64_t op;
	if (!arg_fd(r, ev, 0, &epfd) || !arg_int(r, ev, 1, &op) || !arg_fd(r, ev, 2, &fd))
		return 0;
	const struct drill_expr *e = arg(ev, 3);
	if (!e || e->kind == DRILL_EXPR_NULL || e->kind == DRILL_EXPR_ELLIPSIS)
		return ts_epoll_ctl(SL(r), epfd, (int)op, fd, NULL);
	struct epoll_event ee;
	bool have;
	if (!epoll_event_arg(r, ev, e, &ee, &have))
		return 0;
	return ts_epoll_ctl(SL(r), epfd, (int)op, fd, &ee);
}

/* epoll_wait(epfd, {events=..., fd=...}, maxevents, timeout): the first event reported must
 * be the one the script shows (packetdrill checks one). Blocks like poll. */
static int64_t call_epoll_wait(struct drill_runner *r, const struct drill_event *ev)
{
	int epfd;
	int64_t max, timeout;
	if (!arg_fd(r, ev, 0, &epfd) || !arg_int(r, ev, 2, &max) || !arg_int(r, ev, 3, &timeout))
		return 0;
	struct epoll_event want, got[16];
	bool have_data;
	if (!epoll_event_arg(r, ev, arg(ev, 1), &want, &have_data))
		return 0;
	if (max <= 0)
		return -EINVAL;
	int n = ts_epoll_collect(SL(r), epfd, got, max < 16 ? (int)max : 16);
	if (n == 0 && timeout != 0) {
		bool timed_out = timeout > 0 && r->now >= r->pend.start + (usec_t)timeout * 1000;
		if (!timed_out) {
			r->pend.kind = PEND_POLL;
			return DRILL_BLOCKED;
		}
	}
	if (n > 0 && got[0].events != want.events)
		drill_fail(r, ev->line, "runtime error in epoll_wait call: expected events 0x%x but got 0x%x",
		           (unsigned)want.events, (unsigned)got[0].events);
	else if (n > 0 && have_data && got[0].data.u64 != want.data.u64)
		drill_fail(r, ev->line, "runtime error in epoll_wait call: expected data %llu but got %llu",
		           (unsigned long long)want.data.u64, (unsigned long long)got[0].data.u64);
	return n;
}

static int64_t call_getname(struct drill_runner *r, const struct drill_event *ev)
{
	int fd;
	if (!arg_fd(r, ev, 0, &fd))
		return 0;
	struct sockaddr_in a;
	return strcmp(ev->call.name, "getsockname") == 0 ? ts_getsockname(SL(r), fd, &a) : ts_getpeername(SL(r), fd, &a);
}

static const struct {
	const char *name;
	drill_call_fn fn;
} drill_calls[] = {
	{"socket", call_socket}, {"bind", call_bind}, {"listen", call_listen}, {"accept", call_accept},
	{"accept4", call_accept}, {"connect", call_connect}, {"write", call_write}, {"send", call_write},
	{"sendto", call_write}, {"sendmsg", call_sendmsg}, {"read", call_read}, {"recv", call_read},
	{"recvfrom", call_read}, {"recvmsg", call_recvmsg}, {"close", call_close},
	{"shutdown", call_shutdown}, {"setsockopt", call_setsockopt}, {"getsockopt", call_getsockopt},
	{"fcntl", call_fcntl}, {"ioctl", call_ioctl}, {"poll", call_poll}, {"getsockname", call_getname},
	{"getpeername", call_getname}, {"epoll_create", call_epoll_create}, {"epoll_create1", call_epoll_create},
	{"epoll_ctl", call_epoll_ctl}, {"epoll_wait", call_epoll_wait}, {"open", call_open},
	{"sendfile", call_sendfile},
};

static drill_call_fn find_call(const char *name)
{
	for (size_t i = 0; i < sizeof(drill_calls) / sizeof(drill_calls[0]); i++)
		if (strcmp(drill_calls[i].name, name) == 0)
			return drill_calls[i].fn;
	return NULL;
}

/* ---- results ---- */

static void check_result(struct drill_runner *r, const struct drill_event *ev, int64_t actual)
{
	const struct drill_syscall *c = &ev->call;
	if (r->failed)
		return;
	if (c->result->kind == DRILL_EXPR_ELLIPSIS)
		return;
	int64_t want = c->result->num;
	bool new_fd = strcmp(c->name, "socket") == 0 || strncmp(c->name, "accept", 6) == 0 ||
	              strncmp(c->name, "epoll_create", 12) == 0;
	if (strcmp(c->name, "open") == 0 && want >= 0 && actual >= 0) {
		/* A file (a memfd): the script's number maps to it; other calls never see it. */
		if (want < DRILL_FDS_MAX) {
			if (r->filemap[want] >= 0)
				close(r->filemap[want]);
			r->filemap[want] = (int)actual;
		} else {
			close((int)actual);
		}
		return;
	}
	if (new_fd && want >= 0 && actual >= 0) {
		/*
		 * A new descriptor: the script's number is the one Linux gave packetdrill's
		 * process (which may hold more files open); the script's number is mapped to
		 * tapstack's, whatever it is.
		 */
		if (want < DRILL_FDS_MAX)
			r->fdmap[want] = (int)actual;
		r->last_fd = (int)actual;
		return;
	}
	if (want == -1) {
		if (actual >= 0) {
			drill_fail(r, ev->line, "runtime error in %s call: Expected result -1%s%s but got %lld", c->name,
			           c->errno_name ? " " : "", c->errno_name ? c->errno_name : "", (long long)actual);
			return;
		}
		int e;
		if (c->errno_name && !errno_value(c->errno_name, &e)) {
			drill_fail(r, ev->line, "unknown errno name %s", c->errno_name);
			return;
		}
		if (c->errno_name && -actual != e)
			drill_fail(r, ev->line, "runtime error in %s call: Expected errno %s (%d) but got %s (%d: %s)", c->name,
			           c->errno_name, e, errno_name((int)-actual), (int)-actual, strerror((int)-actual));
		return;
	}
	if (actual != want) {
		if (actual < 0)
			drill_fail(r, ev->line, "runtime error in %s call: Expected result %lld but got -1 with errno %d (%s: %s)",
			           c->name, (long long)want, (int)-actual, errno_name((int)-actual), strerror((int)-actual));
		else
			drill_fail(r, ev->line, "runtime error in %s call: Expected result %lld but got %lld", c->name,
			           (long long)want, (long long)actual);
		return;
	}
}

/* The result and the return time of a call that completed at r->now. */
static void finish_call(struct drill_runner *r, const struct drill_event *ev, int64_t ret, usec_t start, usec_t end)
{
	bool was_pending = r->pend.active;
	memset(&r->pend, 0, sizeof(r->pend));
	if (r->verbose) {
		char text[512];
		drill_call_format(text, sizeof(text), &ev->call);
		drill_vlog(r, "%10.6f %s = %lld%s%s   (returned at %.6f)\n", drill_rel_secs(r, start), text,
		           (long long)(ret < 0 ? -1 : ret), ret < 0 ? " " : "", ret < 0 ? errno_name((int)-ret) : "",
		           drill_rel_secs(r, r->now));
	}
	check_result(r, ev, ret);
	if (r->failed)
		return;
	/* The call must return when the script says: at `end` for `start...end`, else at once. */
	usec_t tol = (usec_t)r->tolerance_usecs;
	usec_t pct = (usec_t)((double)(end > start ? end - start : 0) * r->tolerance_percent / 100.0);
	if (pct > tol)
		tol = pct;
	if (r->now + tol < end || r->now > end + tol)
		drill_fail(r, ev->line, "timing error: %s call expected to return at %.6f sec but returned at %.6f sec%s",
		           ev->call.name, drill_rel_secs(r, end), drill_rel_secs(r, r->now),
		           was_pending ? " (it blocked)" : "");
}

void drill_syscall_start(struct drill_runner *r, const struct drill_event *ev, usec_t start, usec_t end, bool has_end)
{
	drill_call_fn fn = find_call(ev->call.name);
	if (!fn) {
		drill_fail(r, ev->line, "unsupported system call %s() (the runner maps: socket bind listen accept connect "
		           "read write send recv sendto recvfrom sendmsg recvmsg close shutdown setsockopt getsockopt "
		           "fcntl ioctl poll epoll_create epoll_ctl epoll_wait open sendfile)", ev->call.name);
		return;
	}
	memset(&r->pend, 0, sizeof(r->pend));
	r->pend.start = start;
	int64_t ret = fn(r, ev);
	if (r->failed)
		return;
	if (ret == DRILL_BLOCKED) {
		int fd = -1;
		if (r->pend.kind != PEND_POLL) /* poll's first argument is a list, not a descriptor */
			arg_fd(r, ev, 0, &fd);
		r->pend.active = true;
		r->pend.ev = ev;
		r->pend.start = start;
		r->pend.end = end;
		r->pend.has_end = has_end;
		r->pend.fd = fd;
		if (r->verbose) {
			char text[512];
			drill_call_format(text, sizeof(text), &ev->call);
			drill_vlog(r, "%10.6f %s   (blocks)\n", drill_rel_secs(r, start), text);
		}
		return;
	}
	finish_call(r, ev, ret, start, end);
}

bool drill_syscall_retry(struct drill_runner *r)
{
	if (!r->pend.active || r->failed)
		return false;
	const struct drill_event *ev = r->pend.ev;
	usec_t start = r->pend.start, end = r->pend.end;
	drill_call_fn fn = find_call(ev->call.name);
	int64_t ret = fn(r, ev);
	if (r->failed || ret == DRILL_BLOCKED)
		return false;
	finish_call(r, ev, ret, start, end);
	return true;
}
