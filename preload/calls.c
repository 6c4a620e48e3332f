/*
 * calls.c - the interposed socket and descriptor calls of the preload library.
 *
 * Each has the same shape (CONTRIBUTING.md rule 21): is this descriptor a tapstack socket (pl_sock_of)?
 * If not, the kernel's definition runs (pl.real). If it is, one call of the blocking facade
 * (stack/blocking.h: blocking calls block there, on a condition variable the stack thread
 * signals) or one ts_* call under the facade's lock, and the negative errno becomes errno
 * (pl_ret). IPv4 TCP and UDP sockets are tapstack's; AF_INET6 stream and datagram sockets
 * fail with EAFNOSUPPORT so programs fall back to IPv4; everything else is the kernel's.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/sockios.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "preload/preload.h"

/* Everything defined below is an interposed call, exported (mk/preload.mk hides the rest). */
#pragma GCC visibility push(default)

/* Bytes sendfile() moves per step through the library's buffer. */
#define PL_SENDFILE_CHUNK (64u * 1024u)

/* glibc's _FORTIFY_SOURCE entry points (programs built with it call these). */
extern void __chk_fail(void) __attribute__((noreturn));
ssize_t __read_chk(int fd, void *buf, size_t nbytes, size_t buflen);
ssize_t __recv_chk(int fd, void *buf, size_t len, size_t buflen, int flags);
ssize_t __recvfrom_chk(int fd, void *buf, size_t len, size_t buflen, int flags, struct sockaddr *from,
                       socklen_t *fromlen);
int fcntl64(int fd, int cmd, ...);

static struct socket_layer *pl_sl(void)
{
	return &pl.stack->sock;
}

/* pl_ts's answer for a descriptor that is not a tapstack socket: call the kernel's. */
#define PL_NOT_OURS (-2)

/* The ts descriptor of a tapstack socket that this process may use, or -1 with errno set
 * when fd is ours but the stack went to a forked child (EBADF); PL_NOT_OURS when fd is not
 * ours. */
static int pl_ts(int fd)
{
	int ts = pl_sock_of(fd);
	if (ts < 0)
		return PL_NOT_OURS;
	if (pl.given_away) {
		errno = EBADF;
		return -1;
	}
	return ts;
}

int socket(int domain, int type, int protocol)
{
	int base = type & ~(SOCK_NONBLOCK | SOCK_CLOEXEC);

	if (domain == AF_INET6 && (base == SOCK_STREAM || base == SOCK_DGRAM)) {
		errno = EAFNOSUPPORT; /* programs fall back to IPv4 */
		return -1;
	}
	if (domain != AF_INET || (base != SOCK_STREAM && base != SOCK_DGRAM))
		return pl.real.socket(domain, type, protocol);
	bool dgram = base == SOCK_DGRAM;
	if (protocol != 0 && protocol != (dgram ? IPPROTO_UDP : IPPROTO_TCP)) {
		errno = EPROTONOSUPPORT;
		return -1;
	}
	int rc = pl_start();
	if (rc == 0 && pl.given_away)
		rc = -ENETDOWN;
	if (rc)
		return (int)pl_ret(rc);
	ts_blocking_lock(&pl.b);
	int ts = ts_socket(pl_sl(), AF_INET, type & ~SOCK_CLOEXEC, protocol);
	int kfd = ts;
	if (ts >= 0) {
		kfd = pl_fd_bind_sock(ts, dgram);
		if (kfd < 0)
			ts_close(pl_sl(), ts);
	}
	ts_blocking_unlock(&pl.b);
	return (int)pl_ret(kfd);
}

/* A sockaddr from the program as tapstack's sockaddr_in: NULL -> EFAULT, short -> EINVAL. */
static int pl_sin(const struct sockaddr *a, socklen_t len, struct sockaddr_in *out)
{
	if (!a)
		return -EFAULT;
	if (len < (socklen_t)sizeof(sa_family_t))
		return -EINVAL;
	if (a->sa_family == AF_INET && len < (socklen_t)sizeof(*out))
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	memcpy(out, a, len < (socklen_t)sizeof(*out) ? len : sizeof(*out));
	return 0;
}

/* Copies a sockaddr_in back to the program as the kernel does (truncated, true length). */
static int pl_put_sin(const struct sockaddr_in *sin, struct sockaddr *a, socklen_t *len)
{
	if (!a || !len)
		return a || len ? -EFAULT : 0;
	if ((int)*len < 0)
		return -EINVAL;
	memcpy(a, sin, *len < (socklen_t)sizeof(*sin) ? *len : sizeof(*sin));
	*len = sizeof(*sin);
	return 0;
}

int bind(int fd, const struct sockaddr *addr, socklen_t len)
{
	struct sockaddr_in sin;
	int ts = pl_ts(fd);
	if (ts == PL_NOT_OURS)
		return pl.real.bind(fd, addr, len);
	if (ts < 0)
		return -1;
	int rc = pl_sin(addr, len, &sin);
	if (rc == 0)
		rc = ts_blocking_bind(&pl.b, ts, &sin);
	return (int)pl_ret(rc);
}

int listen(int fd, int backlog)
{
	int ts = pl_ts(fd);
	if (ts == PL_NOT_OURS)
		return pl.real.listen(fd, backlog);
	if (ts < 0)
		return -1;
	return (int)pl_ret(ts_blocking_listen(&pl.b, ts, backlog));
}

int accept4(int fd, struct sockaddr *addr, socklen_t *len, int flags)
{
	struct sockaddr_in peer;
	int ts = pl_ts(fd);
	if (ts == PL_NOT_OURS)
		return pl.real.accept4(fd, addr, len, flags);
	if (ts < 0)
		return -1;
	if (flags & ~(SOCK_NONBLOCK | SOCK_CLOEXEC))
		return (int)pl_ret(-EINVAL);
	int nts = ts_blocking_accept(&pl.b, ts, &peer, flags & SOCK_NONBLOCK);
	if (nts < 0)
		return (int)pl_ret(nts);
	ts_blocking_lock(&pl.b);
	int kfd = pl_fd_bind_sock(nts, false);
	if (kfd < 0)
		ts_close(pl_sl(), nts);
	ts_blocking_unlock(&pl.b);
	if (kfd >= 0) {
		char a[INET_ADDRSTRLEN];
		inet_ntop(AF_INET, &peer.sin_addr, a, sizeof(a));
		pl_trace_app("accept4(%d) = %d, peer %s:%u", fd, kfd, a, ntohs(peer.sin_port));
		(void)pl_put_sin(&peer, addr, len);
	}
	return (int)pl_ret(kfd);
}

int accept(int fd, struct sockaddr *addr, socklen_t *len)
{
	return accept4(fd, addr, len, 0);
}

int connect(int fd, const struct sockaddr *addr, socklen_t len)
{
	struct sockaddr_in sin;
	int ts = pl_ts(fd);
	if (ts == PL_NOT_OURS)
		return pl.real.connect(fd, addr, len);
	if (ts < 0)
		return -1;
	int rc = pl_sin(addr, len, &sin);
	if (rc == 0)
		rc = ts_blocking_connect(&pl.b, ts, &sin);
	return (int)pl_ret(rc);
}

/* Receives into buf: MSG_PEEK, MSG_DONTWAIT, MSG_WAITALL, MSG_OOB (the urgent byte, which
 * never waits) and MSG_TRUNC (consumed without a copy) as Linux; MSG_ERRQUEUE reads the
 * error queue, which tapstack never fills (EAGAIN at once, as Linux with an empty one).
 * Other flags are ignored, as Linux's TCP ignores them. */
static ssize_t pl_recv(int ts, void *buf, size_t len, int flags)
{
	if (flags & MSG_ERRQUEUE)
		return pl_ret(-EAGAIN);
	if (len && !buf && !(flags & MSG_TRUNC))
		return pl_ret(-EFAULT);
	ssize_t n = ts_blocking_recv(&pl.b, ts, buf, len, flags & (MSG_PEEK | MSG_DONTWAIT | MSG_OOB | MSG_TRUNC));
	if (n <= 0 || !(flags & MSG_WAITALL) || (flags & (MSG_PEEK | MSG_OOB)))
		return pl_ret(n);
	size_t got = (size_t)n;
	while (got < len) {
		n = ts_blocking_recv(&pl.b, ts, buf ? (char *)buf + got : NULL, len - got, flags & (MSG_DONTWAIT | MSG_TRUNC));
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	return (ssize_t)got;
}

/* Sends all of buf on a blocking socket (what fits on a non-blocking one). EPIPE raises
 * SIGPIPE unless MSG_NOSIGNAL, as Linux. MSG_FASTOPEN is EOPNOTSUPP, as Linux's with Fast
 * Open off; flags TCP has no use for (MSG_CONFIRM, MSG_DONTROUTE) are ignored, as Linux. */
static ssize_t pl_send(int ts, const void *buf, size_t len, int flags)
{
	if (flags & MSG_FASTOPEN)
		return pl_ret(-EOPNOTSUPP);
	if (len && !buf)
		return pl_ret(-EFAULT);
	ssize_t n = ts_blocking_send(&pl.b, ts, buf, len, flags & (MSG_DONTWAIT | MSG_MORE | MSG_OOB | MSG_EOR));
	if (n == -EPIPE && !(flags & MSG_NOSIGNAL))
		raise(SIGPIPE);
	return pl_ret(n);
}

ssize_t read(int fd, void *buf, size_t len)
{
	int ts = pl_ts(fd);
	if (ts == PL_NOT_OURS)
		return pl.real.read(fd, buf, len);
	return ts < 0 ? -1 : pl_recv(ts, buf, len, 0);
}

ssize_t __read_chk(int fd, void *buf, size_t nbytes, size_t buflen)
{
	if (nbytes > buflen)
		__chk_fail();
	return read(fd, buf, nbytes);
}

ssize_t write(int fd, const void *buf, size_t len)
{
	int ts = pl_ts(fd);
	if (ts == PL_NOT_OURS)
		return pl.real.write(fd, buf, len);
	return ts < 0 ? -1 : pl_send(ts, buf, len, 0);
}

ssize_t recv(int fd, void *buf, size_t len, int flags)
{
	return recvfrom(fd, buf, len, flags, NULL, NULL);
}

ssize_t __recv_chk(int fd, void *buf, size_t len, size_t buflen, int flags)
{
	if (len > buflen)
		__chk_fail();
	return recvfrom(fd, buf, len, flags, NULL, NULL);
}

ssize_t recvfrom(int fd, void *buf, size_t len, int flags, struct sockaddr *from, socklen_t *fromlen)
{
	int ts = pl_ts(fd);
	if (ts == PL_NOT_OURS)
		return pl.real.recvfrom(fd, buf, len, flags, from, fromlen);
	if (ts < 0)
		return -1;
	if (pl.fds[fd].dgram) {
		struct sockaddr_in sin;
		if (flags & ~(MSG_PEEK | MSG_DONTWAIT | MSG_TRUNC | MSG_CMSG_CLOEXEC))
			return pl_ret(-EOPNOTSUPP);
		if (len && !buf)
			return pl_ret(-EFAULT);
		ssize_t n = ts_blocking_recvfrom(&pl.b, ts, buf, len, flags & ~MSG_CMSG_CLOEXEC, &sin);
		if (n >= 0 && from && fromlen)
			(void)pl_put_sin(&sin, from, fromlen);
		return pl_ret(n);
	}
	ssize_t n = pl_recv(ts, buf, len, flags);
	if (n >= 0 && from && fromlen) {
		/* A connected stream socket: Linux leaves the address alone and sets the length 0. */
		*fromlen = 0;
	}
	return n;
}

ssize_t __recvfrom_chk(int fd, void *buf, size_t len, size_t buflen, int flags, struct sockaddr *from,
                       socklen_t *fromlen)
{
	if (len > buflen)
		__chk_fail();
	return recvfrom(fd, buf, len, flags, from, fromlen);
}

ssize_t send(int fd, const void *buf, size_t len, int flags)
{
	return sendto(fd, buf, len, flags, NULL, 0);
}

ssize_t sendto(int fd, const void *buf, size_t len, int flags, const struct sockaddr *to, socklen_t tolen)
{
	int ts = pl_ts(fd);
	if (ts == PL_NOT_OURS)
		return pl.real.sendto(fd, buf, len, flags, to, tolen);
	if (ts < 0)
		return -1;
	if (pl.fds[fd].dgram && to) {
		struct sockaddr_in sin;
		int rc = pl_sin(to, tolen, &sin);
		if (rc)
			return pl_ret(rc);
		return pl_ret(ts_blocking_sendto(&pl.b, ts, buf, len, flags & ~MSG_NOSIGNAL, &sin));
	}
	/* Linux ignores the address on a connected stream socket (EISCONN only for some). */
	return pl_send(ts, buf, len, flags);
}

/* Reads into the iovecs in order: the first may block, the rest take what is there. */
static ssize_t pl_recv_iov(int ts, const struct iovec *iov, int n, int flags)
{
	if (flags & MSG_ERRQUEUE)
		return pl_ret(-EAGAIN); /* even with no buffer to read into (pl_recv) */
	if (n < 0 || n > IOV_MAX)
		return pl_ret(-EINVAL);
	if (n > 0 && !iov)
		return pl_ret(-EFAULT);
	ssize_t total = 0;
	for (int i = 0; i < n; i++) {
		if (!iov[i].iov_len)
			continue;
		ssize_t r = pl_recv(ts, iov[i].iov_base, iov[i].iov_len, total ? flags | MSG_DONTWAIT : flags);
		if (r < 0)
			return total ? total : -1;
		total += r;
		if ((size_t)r < iov[i].iov_len)
			break;
	}
	if (total == 0 && n > 0)
		return pl_recv(ts, NULL, 0, flags); /* all empty: 0, or the socket's error */
	return total;
}

/* Sends the iovecs in order, MSG_MORE on all but the last so TCP cuts full segments. */
static ssize_t pl_send_iov(int ts, const struct iovec *iov, int n, int flags)
{
	if (n < 0 || n > IOV_MAX)
		return pl_ret(-EINVAL);
	if (n > 0 && !iov)
		return pl_ret(-EFAULT);
	int last = n - 1;
	while (last >= 0 && !iov[last].iov_len)
		last--;
	ssize_t total = 0;
	for (int i = 0; i <= last; i++) {
		if (!iov[i].iov_len)
			continue;
		ssize_t r = pl_send(ts, iov[i].iov_base, iov[i].iov_len, i < last ? flags | MSG_MORE : flags);
		if (r < 0)
			return total ? total : -1;
		total += r;
		if ((size_t)r < iov[i].iov_len)
			break;
	}
	return total;
}

ssize_t readv(int fd, const struct iovec *iov, int n)
{
	int ts = pl_ts(fd);
	if (ts == PL_NOT_OURS)
		return pl.real.readv(fd, iov, n);
	return ts < 0 ? -1 : pl_recv_iov(ts, iov, n, 0);
}

ssize_t writev(int fd, const struct iovec *iov, int n)
{
	int ts = pl_ts(fd);
	if (ts == PL_NOT_OURS)
		return pl.real.writev(fd, iov, n);
	return ts < 0 ? -1 : pl_send_iov(ts, iov, n, 0);
}

ssize_t recvmsg(int fd, struct msghdr *msg, int flags)
{
	int ts = pl_ts(fd);
	if (ts == PL_NOT_OURS)
		return pl.real.recvmsg(fd, msg, flags);
	if (ts < 0)
		return -1;
	if (!msg)
		return pl_ret(-EFAULT);
	if (pl.fds[fd].dgram) /* one datagram, its sender in msg_name */
		return pl_ret(ts_blocking_recvmsg(&pl.b, ts, msg, flags & ~MSG_CMSG_CLOEXEC));
	ssize_t n = pl_recv_iov(ts, msg->msg_iov, (int)msg->msg_iovlen, flags);
	if (n >= 0) {
		msg->msg_namelen = 0;
		msg->msg_controllen = 0; /* no control messages (TCP_INQ, timestamps) */
		msg->msg_flags = 0;
	}
	return n;
}

ssize_t sendmsg(int fd, const struct msghdr *msg, int flags)
{
	int ts = pl_ts(fd);
	if (ts == PL_NOT_OURS)
		return pl.real.sendmsg(fd, msg, flags);
	if (ts < 0)
		return -1;
	if (!msg)
		return pl_ret(-EFAULT);
	if (pl.fds[fd].dgram) /* one datagram, to msg_name or the connected peer */
		return pl_ret(ts_blocking_sendmsg(&pl.b, ts, msg, flags & ~MSG_NOSIGNAL));
	if (msg->msg_controllen)
		pl_log_unsupported("sendmsg control messages (ignored)");
	return pl_send_iov(ts, msg->msg_iov, (int)msg->msg_iovlen, flags);
}

/*
 * sendfile(2) to a tapstack socket (nginx's static files). A stream's bytes are read with
 * pread straight into the send queue (ts_blocking_sendfile): the kernel's copy out of the
 * page cache is the only one before the TAP's. Only what the socket took is consumed, so a
 * non-blocking socket's partial send leaves the offset (or the file position) exactly after
 * it. A datagram socket gets the file in pieces of one datagram each, as before.
 */
static ssize_t pl_sendfile_dgram(int ts, int in, off_t pos, size_t count)
{
	char buf[PL_SENDFILE_CHUNK];
	size_t done = 0;
	while (done < count) {
		size_t want = count - done < sizeof(buf) ? count - done : sizeof(buf);
		ssize_t got = pread(in, buf, want, pos + (off_t)done);
		if (got <= 0)
			return done ? (ssize_t)done : got < 0 ? -errno : 0;
		ssize_t sent = ts_blocking_send(&pl.b, ts, buf, (size_t)got, 0);
		if (sent < 0)
			return done ? (ssize_t)done : sent;
		done += (size_t)sent;
	}
	return (ssize_t)done;
}

ssize_t sendfile(int out, int in, off_t *offset, size_t count)
{
	int ts = pl_ts(out);
	if (ts == PL_NOT_OURS)
		return pl.real.sendfile(out, in, offset, count);
	if (ts < 0)
		return -1;
	off_t pos = offset ? *offset : lseek(in, 0, SEEK_CUR);
	if (pos < 0 && !offset && errno == ESPIPE)
		return pl_ret(-EINVAL); /* Linux: a pipe without an offset */
	if (pos < 0)
		return offset ? pl_ret(-EINVAL) : -1; /* a negative offset; EBADF from lseek */
	int type = 0;
	socklen_t tl = sizeof(type);
	ssize_t n = ts_blocking_getsockopt(&pl.b, ts, SOL_SOCKET, SO_TYPE, &type, &tl);
	if (n == 0)
		n = type == SOCK_DGRAM ? pl_sendfile_dgram(ts, in, pos, count)
		                       : ts_blocking_sendfile(&pl.b, ts, in, (uint64_t)pos, count, 0);
	if (n == -EPIPE)
		raise(SIGPIPE);
	if (n < 0)
		return pl_ret(n);
	if (offset)
		*offset = pos + (off_t)n;
	else
		lseek(in, pos + (off_t)n, SEEK_SET);
	return n;
}

ssize_t sendfile64(int out, int in, off_t *offset, size_t count)
{
	return sendfile(out, in, offset, count);
}

int shutdown(int fd, int how)
{
	int ts = pl_ts(fd);
	if (ts == PL_NOT_OURS)
		return pl.real.shutdown(fd, how);
	return ts < 0 ? -1 : (int)pl_ret(ts_blocking_shutdown(&pl.b, ts, how));
}

/* getsockname and getpeername: ts call under the lock, then the kernel's copy-out rules. */
static int pl_name(int ts, struct sockaddr *addr, socklen_t *len, bool peer)
{
	struct sockaddr_in sin;
	if (!addr || !len)
		return (int)pl_ret(-EFAULT);
	ts_blocking_lock(&pl.b);
	int rc = peer ? ts_getpeername(pl_sl(), ts, &sin) : ts_getsockname(pl_sl(), ts, &sin);
	ts_blocking_unlock(&pl.b);
	if (rc == 0)
		rc = pl_put_sin(&sin, addr, len);
	return (int)pl_ret(rc);
}

int getsockname(int fd, struct sockaddr *addr, socklen_t *len)
{
	int ts = pl_ts(fd);
	if (ts == PL_NOT_OURS)
		return pl.real.getsockname(fd, addr, len);
	return ts < 0 ? -1 : pl_name(ts, addr, len, false);
}

int getpeername(int fd, struct sockaddr *addr, socklen_t *len)
{
	int ts = pl_ts(fd);
	if (ts == PL_NOT_OURS)
		return pl.real.getpeername(fd, addr, len);
	return ts < 0 ? -1 : pl_name(ts, addr, len, true);
}

/* "setsockopt level 6 name 13" for the once-per-name log of unknown options. */
static void pl_log_option(const char *call, int level, int name)
{
	char what[40];
	snprintf(what, sizeof(what), "%s level %d name %d", call, level, name);
	pl_log_unsupported(what);
}

int setsockopt(int fd, int level, int name, const void *val, socklen_t len)
{
	int ts = pl_ts(fd);
	if (ts == PL_NOT_OURS)
		return pl.real.setsockopt(fd, level, name, val, len);
	if (ts < 0)
		return -1;
	int rc = ts_blocking_setsockopt(&pl.b, ts, level, name, val, len);
	if (rc == -ENOPROTOOPT)
		pl_log_option("setsockopt", level, name);
	return (int)pl_ret(rc);
}

int getsockopt(int fd, int level, int name, void *val, socklen_t *len)
{
	int ts = pl_ts(fd);
	if (ts == PL_NOT_OURS)
		return pl.real.getsockopt(fd, level, name, val, len);
	if (ts < 0)
		return -1;
	int rc = ts_blocking_getsockopt(&pl.b, ts, level, name, val, len);
	if (rc == -ENOPROTOOPT)
		pl_log_option("getsockopt", level, name);
	return (int)pl_ret(rc);
}

/* fcntl on a tapstack socket: the status flags are tapstack's (O_NONBLOCK), the descriptor
 * flags (FD_CLOEXEC) the placeholder's, F_DUPFD makes another name of the same socket. */
static int pl_fcntl(int fd, int cmd, long arg)
{
	int ts = pl_ts(fd);
	if (ts == PL_NOT_OURS)
		return pl.real.fcntl(fd, cmd, arg);
	if (ts < 0)
		return -1;
	switch (cmd) {
	case F_GETFL: {
		int nb = ts_get_nonblock(pl_sl(), ts);
		return nb < 0 ? (int)pl_ret(nb) : O_RDWR | (nb ? O_NONBLOCK : 0);
	}
	case F_SETFL:
		return (int)pl_ret(ts_blocking_set_nonblock(&pl.b, ts, (arg & O_NONBLOCK) != 0));
	case F_DUPFD:
	case F_DUPFD_CLOEXEC: {
		ts_blocking_lock(&pl.b);
		int kfd = pl.real.fcntl(fd, cmd, arg);
		if (kfd >= 0 && (uint32_t)kfd < pl.nfds)
			pl_fd_alias(kfd, fd);
		ts_blocking_unlock(&pl.b);
		return kfd;
	}
	case F_GETFD:
	case F_SETFD:
		return pl.real.fcntl(fd, cmd, arg);
	default:
		pl_log_unsupported("fcntl command on a tapstack socket");
		return (int)pl_ret(-EINVAL);
	}
}

int fcntl(int fd, int cmd, ...)
{
	va_list ap;
	va_start(ap, cmd);
	long arg = va_arg(ap, long);
	va_end(ap);
	return pl_fcntl(fd, cmd, arg);
}

int fcntl64(int fd, int cmd, ...)
{
	va_list ap;
	va_start(ap, cmd);
	long arg = va_arg(ap, long);
	va_end(ap);
	return pl_fcntl(fd, cmd, arg);
}

int ioctl(int fd, unsigned long req, ...)
{
	va_list ap;
	va_start(ap, req);
	void *arg = va_arg(ap, void *);
	va_end(ap);
	int ts = pl_ts(fd);
	if (ts == PL_NOT_OURS)
		return pl.real.ioctl(fd, req, arg);
	if (ts < 0)
		return -1;
	if (!arg)
		return (int)pl_ret(-EFAULT);
	if (req == FIONBIO)
		return (int)pl_ret(ts_blocking_set_nonblock(&pl.b, ts, *(int *)arg != 0));
	if (req == FIONREAD || req == SIOCATMARK || req == SIOCOUTQ || req == SIOCOUTQNSD) {
		ts_blocking_lock(&pl.b);
		int n = req == FIONREAD     ? ts_inq(pl_sl(), ts)
		        : req == SIOCATMARK ? ts_atmark(pl_sl(), ts)
		                            : ts_outq(pl_sl(), ts, req == SIOCOUTQNSD);
		ts_blocking_unlock(&pl.b);
		if (n >= 0)
			*(int *)arg = n;
		return (int)pl_ret(n < 0 ? n : 0);
	}
	pl_log_unsupported("ioctl on a tapstack socket");
	return (int)pl_ret(-ENOTTY);
}

/* sockatmark(3): glibc's calls its own ioctl, which this library does not see. */
int sockatmark(int fd)
{
	int at = 0;
	return ioctl(fd, SIOCATMARK, &at) < 0 ? -1 : at;
}

/* Forgets fd under the lock; the ts socket of its last name is closed (SO_LINGER waits). */
static void pl_release(int fd)
{
	if (!pl.fds || (uint32_t)fd >= pl.nfds || pl.fds[fd].kind == PL_NONE)
		return;
	ts_blocking_lock(&pl.b);
	int ts = pl.fds[fd].kind != PL_NONE ? pl_fd_forget(fd) : -1;
	ts_blocking_unlock(&pl.b);
	if (ts >= 0 && !pl.given_away)
		ts_blocking_close(&pl.b, ts);
}

int close(int fd)
{
	pl_release(fd);
	return pl.real.close(fd);
}

int dup(int fd)
{
	int ts = pl_ts(fd);
	if (ts == PL_NOT_OURS)
		return pl.real.dup(fd);
	if (ts < 0)
		return -1;
	ts_blocking_lock(&pl.b);
	int kfd = pl.real.dup(fd);
	if (kfd >= 0 && (uint32_t)kfd < pl.nfds)
		pl_fd_alias(kfd, fd);
	ts_blocking_unlock(&pl.b);
	return kfd;
}

/* dup2 and dup3: newfd stops being what it was (a tapstack name is released), then
 * becomes another name of oldfd's socket when oldfd is one. */
static int pl_dup3(int oldfd, int newfd, int flags, bool is_dup2)
{
	int ts = pl_ts(oldfd);
	if (ts == -1)
		return -1;
	if (oldfd == newfd)
		return is_dup2 ? pl.real.dup2(oldfd, newfd) : pl.real.dup3(oldfd, newfd, flags);
	pl_release(newfd);
	if (ts < 0)
		return is_dup2 ? pl.real.dup2(oldfd, newfd) : pl.real.dup3(oldfd, newfd, flags);
	ts_blocking_lock(&pl.b);
	int kfd = is_dup2 ? pl.real.dup2(oldfd, newfd) : pl.real.dup3(oldfd, newfd, flags);
	if (kfd >= 0 && (uint32_t)kfd < pl.nfds)
		pl_fd_alias(kfd, oldfd);
	ts_blocking_unlock(&pl.b);
	return kfd;
}

int dup2(int oldfd, int newfd)
{
	return pl_dup3(oldfd, newfd, 0, true);
}

int dup3(int oldfd, int newfd, int flags)
{
	return pl_dup3(oldfd, newfd, flags, false);
}
