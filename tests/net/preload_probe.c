/*
 * preload_probe.c - build/preload-probe: a small program with ordinary Linux socket calls,
 * run under build/tapstack-run by tests/net/test_preload_calls.sh. It prints one
 * "PASS what" or "FAIL what" line per check (the test runner counts them).
 *
 *   preload-probe SERVER_IP PORT
 *
 * The server (a kernel socket in the test's namespace) accepts one connection, sends
 * "hello\n" a second later, then writes everything it reads to a file until end of stream;
 * it also echoes UDP datagrams on PORT + 1.
 * The probe checks: the errnos of refused calls (IPv6, UDP, flags, NULL and short
 * addresses, unknown options and ioctls, epoll_ctl misuse), a non-blocking connect through
 * epoll, epoll/poll/select over a mix of a kernel pipe and the tapstack socket waking for
 * either without burning CPU, fcntl and FIONREAD, dup, and fork (parent and child share the
 * stack: the child writes on the inherited socket and exits without closing it, then the
 * parent writes, shuts it down and reads the server's end of stream).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <linux/sockios.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/select.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int failures;

static void check(bool ok, const char *what)
{
	printf("%s %s\n", ok ? "PASS" : "FAIL", what);
	fflush(stdout);
	failures += !ok;
}

/* A call that must fail with errno want. */
static void check_errno(long rc, int want, const char *what)
{
	char line[160];
	int got = errno;
	snprintf(line, sizeof(line), "%s: -1 with %s (got %ld, %s)", what, strerrorname_np(want), rc,
	         rc < 0 ? strerrorname_np(got) : "no error");
	check(rc == -1 && got == want, line);
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double cpu_s(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
	       (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

static int pipe_w;

/* Writes one byte to the pipe after 200 ms: the kernel side of the mixed waits. */
static void *poke(void *arg)
{
	(void)arg;
	usleep(200000);
	(void)!write(pipe_w, "x", 1);
	return NULL;
}

static void refused_calls(void)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	int one = 1;

	check_errno(socket(AF_INET6, SOCK_STREAM, 0), EAFNOSUPPORT, "socket(AF_INET6)");
	check_errno(socket(AF_INET, SOCK_STREAM, IPPROTO_UDP), EPROTONOSUPPORT, "socket(AF_INET, SOCK_STREAM, UDP)");
	int s = socket(AF_INET, SOCK_STREAM, 0);
	check(s >= 0, "socket(AF_INET, SOCK_STREAM) on tapstack");
	check_errno(connect(s, NULL, sizeof(sin)), EFAULT, "connect(NULL address)");
	check_errno(bind(s, (struct sockaddr *)&sin, 4), EINVAL, "bind(short address)");
	check_errno(getsockname(s, NULL, NULL), EFAULT, "getsockname(NULL)");
	check_errno(setsockopt(s, SOL_SOCKET, 9999, &one, sizeof(one)), ENOPROTOOPT,
	            "setsockopt(SOL_SOCKET, 9999), an option nobody knows");
	int mark = 7;
	check(ioctl(s, SIOCATMARK, &mark) == 0 && mark == 0 && sockatmark(s) == 0,
	      "ioctl(SIOCATMARK) and sockatmark on a new socket: 0");
	check_errno(ioctl(s, SIOCGIFADDR, &one), ENOTTY, "ioctl(SIOCGIFADDR), unknown here");
	check_errno(accept4(s, NULL, NULL, 0x4000000), EINVAL, "accept4(bad flags)");
	check_errno(recv(s, &one, 1, MSG_OOB), EINVAL, "recv(MSG_OOB) on a new socket");
	check_errno(recv(s, &one, 1, MSG_CONFIRM), ENOTCONN, "recv(MSG_CONFIRM): the flag ignored, as Linux's TCP does");
	check_errno(send(s, &one, 1, MSG_FASTOPEN), EOPNOTSUPP, "send(MSG_FASTOPEN): no Fast Open");
	check_errno(send(s, &one, 0, MSG_NOSIGNAL), EPIPE, "send of 0 bytes on an unconnected socket: EPIPE, as Linux");
	check_errno(recv(s, &one, 1, MSG_ERRQUEUE), EAGAIN, "recv(MSG_ERRQUEUE): the error queue is empty");
	volatile int bad_count = -1; /* not a constant: the compiler would refuse the call */
	check_errno(writev(s, NULL, bad_count), EINVAL, "writev(iovcnt -1)");
	check_errno(recvmsg(s, NULL, 0), EFAULT, "recvmsg(NULL message)");
	check_errno(sendfile(s, -1, NULL, 10), EBADF, "sendfile from a bad descriptor");
	check_errno(shutdown(s, 99), EINVAL, "shutdown(how 99)");
	check_errno(getsockopt(s, SOL_SOCKET, SO_TYPE, &one, NULL), EFAULT, "getsockopt(NULL length)");
	check_errno(setsockopt(s, SOL_SOCKET, SO_RCVBUF, &one, 2), EINVAL, "setsockopt(short int)");
	check_errno(fcntl(s, F_SETOWN, 1), EINVAL, "fcntl(F_SETOWN), unknown here");
	check(listen(s, 1) == 0 && ioctl(s, FIONBIO, &one) == 0, "listen, then ioctl(FIONBIO)");
	check_errno(accept(s, NULL, NULL), EAGAIN, "accept on a non-blocking listener with nobody waiting");
	close(s);
	int ep = epoll_create1(0);
	int p[2];
	(void)!pipe(p);
	s = socket(AF_INET, SOCK_STREAM, 0);
	struct epoll_event ev = { .events = EPOLLIN, .data.fd = s };
	check_errno(epoll_ctl(p[0], EPOLL_CTL_ADD, s, &ev), EINVAL, "epoll_ctl on a pipe with a tapstack socket");
	check(epoll_ctl(ep, EPOLL_CTL_ADD, s, &ev) == 0, "epoll_ctl ADD a tapstack socket");
	check_errno(epoll_ctl(ep, EPOLL_CTL_ADD, s, &ev), EEXIST, "epoll_ctl ADD twice");
	check_errno(epoll_ctl(ep, EPOLL_CTL_MOD, s, NULL), EFAULT, "epoll_ctl MOD without an event");
	check_errno(epoll_wait(ep, &ev, 0, 0), EINVAL, "epoll_wait(maxevents 0)");
	close(s);
	close(ep);
	close(p[0]);
	close(p[1]);
}

/* UDP on tapstack: a datagram to the server's echo port and its answer, with the sender's
 * address; a mixed poll wakes for it. */
static void udp_exchange(const struct sockaddr_in *srv)
{
	struct sockaddr_in to = *srv, from;
	to.sin_port = htons((uint16_t)(ntohs(srv->sin_port) + 1));
	int u = socket(AF_INET, SOCK_DGRAM, 0);
	check(u >= 0, "socket(AF_INET, SOCK_DGRAM) on tapstack");
	check(sendto(u, "ping", 4, 0, (struct sockaddr *)&to, sizeof(to)) == 4, "UDP sendto the kernel's echo");
	struct pollfd pf = { .fd = u, .events = POLLIN };
	check(poll(&pf, 1, 5000) == 1 && (pf.revents & POLLIN), "UDP: poll wakes for the answer");
	char buf[16];
	socklen_t len = sizeof(from);
	ssize_t n = recvfrom(u, buf, sizeof(buf), 0, (struct sockaddr *)&from, &len);
	check(n == 4 && memcmp(buf, "ping", 4) == 0, "UDP recvfrom: the datagram came back");
	check(len == sizeof(from) && from.sin_addr.s_addr == to.sin_addr.s_addr && from.sin_port == to.sin_port,
	      "UDP recvfrom: the sender is the echo server");
	close(u);
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: preload-probe SERVER_IP PORT\n");
		return 2;
	}
	struct sockaddr_in srv = { .sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[2])) };
	inet_pton(AF_INET, argv[1], &srv.sin_addr);
	refused_calls();
	udp_exchange(&srv);

	/* A non-blocking connect, completed through epoll. */
	int s = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	int rc = connect(s, (struct sockaddr *)&srv, sizeof(srv));
	check(rc == -1 && errno == EINPROGRESS, "non-blocking connect: EINPROGRESS");
	int ep = epoll_create1(EPOLL_CLOEXEC);
	struct epoll_event ev = { .events = EPOLLOUT, .data.u64 = 1 }, out[4];
	epoll_ctl(ep, EPOLL_CTL_ADD, s, &ev);
	int n = epoll_wait(ep, out, 4, 5000);
	check(n == 1 && out[0].data.u64 == 1 && (out[0].events & EPOLLOUT), "epoll_wait reports the connect done");
	int err = -1;
	socklen_t len = sizeof(err);
	getsockopt(s, SOL_SOCKET, SO_ERROR, &err, &len);
	check(err == 0, "SO_ERROR 0 after the connect");
	check((fcntl(s, F_GETFL) & O_NONBLOCK) != 0, "fcntl(F_GETFL) shows O_NONBLOCK");

	/* A mixed epoll set: a kernel pipe and the tapstack socket. */
	int p[2];
	(void)!pipe(p);
	pipe_w = p[1];
	ev = (struct epoll_event){ .events = EPOLLIN, .data.u64 = 2 };
	epoll_ctl(ep, EPOLL_CTL_MOD, s, &ev);
	ev = (struct epoll_event){ .events = EPOLLIN, .data.u64 = 3 };
	epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev);
	pthread_t t;
	pthread_create(&t, NULL, poke, NULL);
	double t0 = now_s(), c0 = cpu_s();
	n = epoll_wait(ep, out, 4, 5000);
	double waited = now_s() - t0;
	check(n == 1 && out[0].data.u64 == 3, "mixed epoll: the kernel pipe wakes it first");
	check(waited < 0.9, "mixed epoll: ... before the tapstack data (about 0.2 s)");
	pthread_join(t, NULL);
	char c;
	(void)!read(p[0], &c, 1);
	n = epoll_wait(ep, out, 4, 5000);
	double waited2 = now_s() - t0;
	double cpu = cpu_s() - c0;
	check(n == 1 && out[0].data.u64 == 2 && (out[0].events & EPOLLIN), "mixed epoll: then the tapstack socket's data");
	check(waited2 > 0.5, "mixed epoll: which came about a second after connecting");
	char msg[64];
	snprintf(msg, sizeof(msg), "mixed epoll: no busy loop (%.3f s CPU in %.2f s)", cpu, waited2);
	check(cpu < 0.25 * waited2, msg);
	int inq = -1;
	ioctl(s, FIONREAD, &inq);
	check(inq == 6, "FIONREAD: 6 bytes waiting");
	char buf[64];
	check(recv(s, buf, sizeof(buf), MSG_PEEK) == 6 && read(s, buf, sizeof(buf)) == 6 && memcmp(buf, "hello\n", 6) == 0,
	      "MSG_PEEK, then read: hello");

	/* poll and select: the pipe wakes them, the idle socket does not. */
	struct pollfd pf[2] = { { .fd = s, .events = POLLIN }, { .fd = p[0], .events = POLLIN } };
	pthread_create(&t, NULL, poke, NULL);
	t0 = now_s();
	n = poll(pf, 2, 5000);
	check(n == 1 && pf[1].revents == POLLIN && pf[0].revents == 0 && now_s() - t0 < 0.9,
	      "mixed poll: the pipe wakes it, the socket stays quiet");
	pthread_join(t, NULL);
	(void)!read(p[0], &c, 1);
	n = poll(pf, 2, 100);
	check(n == 0, "mixed poll: times out with nothing ready");
	fd_set rd;
	FD_ZERO(&rd);
	FD_SET(s, &rd);
	FD_SET(p[0], &rd);
	pthread_create(&t, NULL, poke, NULL);
	struct timeval tv = { 5, 0 };
	n = select((s > p[0] ? s : p[0]) + 1, &rd, NULL, NULL, &tv);
	check(n == 1 && FD_ISSET(p[0], &rd) && !FD_ISSET(s, &rd), "mixed select: the pipe wakes it");
	pthread_join(t, NULL);
	(void)!read(p[0], &c, 1);
	FD_ZERO(&rd);
	fd_set wr;
	FD_ZERO(&wr);
	FD_SET(s, &wr);
	tv = (struct timeval){ 1, 0 };
	n = select(s + 1, NULL, &wr, NULL, &tv);
	check(n == 1 && FD_ISSET(s, &wr), "select: the tapstack socket is writable");

	/* dup: another name of the same socket. */
	int d = dup(s);
	check(d >= 0 && d != s, "dup of a tapstack socket");
	check(write(d, "from-dup\n", 9) == 9, "write through the dup");
	close(d);
	check(write(s, "after-close-of-dup\n", 19) == 19, "the original still works after the dup is closed");
	int outq = -1, nsd = -1;
	check(ioctl(s, SIOCOUTQ, &outq) == 0 && outq >= 0 && ioctl(s, SIOCOUTQNSD, &nsd) == 0 && nsd >= 0 && nsd <= outq,
	      "ioctl(SIOCOUTQ) and SIOCOUTQNSD on a connected socket");
	/* The error queue of a connected socket: empty, at once, whatever the socket's mode. */
	char eq[8];
	struct iovec eqv = { eq, sizeof(eq) };
	struct msghdr eqm = { .msg_iov = &eqv, .msg_iovlen = 1 };
	check_errno(recvmsg(s, &eqm, MSG_ERRQUEUE), EAGAIN, "recvmsg(MSG_ERRQUEUE) on a connected socket: EAGAIN at once");
	/* Urgent data: the kernel's reader takes '!' out of the stream (the pointer one past it). */
	check(send(s, "oob!", 4, MSG_OOB) == 4, "send(MSG_OOB): the server's stream gets \"oob\" without '!'");

	/* fork: parent and child share the stack; both use the socket, in turn. */
	fflush(stdout);
	int fl = fcntl(s, F_GETFL);
	fcntl(s, F_SETFL, fl & ~O_NONBLOCK);
	pid_t pid = fork();
	if (pid == 0) {
		bool ok = write(s, "from-child\n", 11) == 11;
		printf("%s fork: the child writes on the inherited socket\n", ok ? "PASS" : "FAIL");
		int c2 = socket(AF_INET, SOCK_STREAM, 0);
		printf("%s fork: socket() in the child\n", c2 >= 0 ? "PASS" : "FAIL");
		fflush(stdout);
		close(c2);
		_exit(ok && c2 >= 0 ? 0 : 1); /* without closing s: its exit lets go of it */
	}
	int st = -1;
	waitpid(pid, &st, 0);
	check(WIFEXITED(st) && WEXITSTATUS(st) == 0, "fork: the child exits 0");
	/* Children killed in the middle of their calls: each call holds the stack's lock for part
	 * of its time, so some die holding it; the parent's calls must go on (robust lock). */
	for (int i = 0; i < 20; i++) {
		pid_t k = fork();
		if (k == 0) {
			int q;
			for (;;)
				(void)ioctl(s, FIONREAD, &q);
		}
		usleep(2000 + 500 * (useconds_t)i);
		kill(k, SIGKILL);
		waitpid(k, NULL, 0);
	}
	int left = -1;
	check(ioctl(s, FIONREAD, &left) == 0 && left == 0, "fork: 20 children killed inside their calls, the parent's go on");
	check(write(s, "from-parent\n", 12) == 12, "fork: the parent writes after the child exited");
	int s2 = socket(AF_INET, SOCK_STREAM, 0);
	check(s2 >= 0, "fork: socket() in the parent");
	close(s2);
	shutdown(s, SHUT_WR);
	/* The server's end of stream: our FIN (after both processes' data) was delivered. */
	check(read(s, buf, sizeof(buf)) == 0, "fork: the parent reads the server's end of stream");
	return failures ? 1 : 0;
}
