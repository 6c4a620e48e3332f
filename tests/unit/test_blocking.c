/*
 * test_blocking.c - the blocking facade (stack/blocking.c) with real threads.
 *
 * Stack A runs under the facade (its own thread); a server thread makes blocking calls on
 * it. Stack B, the client, is driven by the test thread with plain non-blocking ts_* calls.
 * The two are joined by memdev, which is not thread-safe, so the test touches B only while
 * holding A's lock: then every memdev access is serialised by that one mutex. memdev has
 * no pollfd, so after each round the test wakes A's thread to look at its device.
 *
 * These are the only unit tests with threads and the real clock (the facade exists to
 * block); every wait is bounded by TEST_LIMIT_SEC, so a bug fails the test, never hangs it.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "blocking.h"
#include "helpers/stack_pair.h"
#include "stack.h"

#define SERVER_IP STACK_PAIR_A_IP /* 10.0.0.2: stack A, under the facade */
#define ECHO_PORT 7
#define TEST_BYTES (1u << 20)
#define TEST_LIMIT_SEC 20

struct pair {
	struct stack a, b;
	struct blocking_stack ba;
	int listen_fd;
	struct blocking_sync *shared; /* MAP_SHARED, for the tests across fork() */
};

static int pair_start(void **state, bool shared)
{
	struct pair *p = calloc(1, sizeof(*p));
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(ECHO_PORT) };

	assert_non_null(p);
	stack_pair_init(&p->a, &p->b, ts_clock_now());
	if (shared) {
		p->shared = mmap(NULL, sizeof(*p->shared), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
		assert_true(p->shared != MAP_FAILED);
		assert_int_equal(ts_blocking_sync_init_shared(p->shared), 0);
		assert_int_equal(ts_blocking_start_shared(&p->ba, &p->a, p->shared), 0);
	} else {
		assert_int_equal(ts_blocking_start(&p->ba, &p->a), 0);
	}

	p->listen_fd = ts_blocking_socket(&p->ba, AF_INET, SOCK_STREAM, 0);
	assert_true(p->listen_fd >= 0);
	assert_int_equal(ts_blocking_bind(&p->ba, p->listen_fd, &sin), 0);
	assert_int_equal(ts_blocking_listen(&p->ba, p->listen_fd, 8), 0);
	*state = p;
	return 0;
}

static int pair_setup(void **state)
{
	return pair_start(state, false);
}

/* The facade on a lock and condition in shared memory, as the preload library runs it. */
static int pair_setup_shared(void **state)
{
	return pair_start(state, true);
}

static int pair_teardown(void **state)
{
	struct pair *p = *state;

	ts_blocking_stop(&p->ba);
	ts_stack_destroy(&p->a);
	ts_stack_destroy(&p->b);
	if (p->shared)
		munmap(p->shared, sizeof(*p->shared));
	free(p);
	return 0;
}

/* The server thread: accept one connection and echo it until end of stream. */
struct echo_result {
	struct pair *p;
	ssize_t echoed;
	int error;
};

static void *echo_server(void *arg)
{
	struct echo_result *r = arg;
	struct blocking_stack *b = &r->p->ba;
	struct sockaddr_in peer;
	static char buf[16384];
	int fd = ts_blocking_accept(b, r->p->listen_fd, &peer, 0);

	if (fd < 0) {
		r->error = fd;
		return NULL;
	}
	for (;;) {
		ssize_t n = ts_blocking_recv(b, fd, buf, sizeof(buf), 0);

		if (n <= 0) {
			r->error = (int)n;
			break;
		}
		if (ts_blocking_send(b, fd, buf, (size_t)n, 0) != n) {
			r->error = -EIO;
			break;
		}
		r->echoed += n;
	}
	ts_blocking_close(b, fd);
	return NULL;
}

static bool over_time(usec_t start)
{
	return ts_clock_now() - start > TEST_LIMIT_SEC * USEC_PER_SEC;
}

/* One round of stack B (the test thread, under A's lock), then A's thread looks at its device. */
static void pump_client(struct pair *p)
{
	ts_blocking_lock(&p->ba);
	ts_stack_poll(&p->b, ts_clock_now());
	ts_blocking_unlock(&p->ba);
	ts_blocking_wake(&p->ba);
	sched_yield();
}

/* Stack B opens a connection to the server (the test thread, under A's lock: memdev). */
static int client_connect(struct pair *p)
{
	struct sockaddr_in dst = { .sin_family = AF_INET, .sin_port = htons(ECHO_PORT),
				   .sin_addr.s_addr = htonl(SERVER_IP) };
	ts_blocking_lock(&p->ba);
	int fd = ts_socket(&p->b.sock, AF_INET, SOCK_STREAM, 0);
	assert_true(fd >= 0);
	int rc = ts_connect(&p->b.sock, fd, &dst);
	ts_blocking_unlock(&p->ba);
	assert_true(rc == 0 || rc == -EINPROGRESS);
	return fd;
}

/* A whole echo exchange: the server thread only blocks, the client only polls. */
static void test_blocking_echo_server(void **state)
{
	struct pair *p = *state;
	struct echo_result r = { .p = p };
	uint8_t *out = malloc(TEST_BYTES), *in = malloc(TEST_BYTES);
	size_t sent = 0, got = 0;
	bool shut = false, eof = false;
	usec_t start = ts_clock_now();
	pthread_t t;
	int fd;
	size_t i;

	assert_non_null(out);
	assert_non_null(in);
	for (i = 0; i < TEST_BYTES; i++)
		out[i] = (uint8_t)(i * 131 + (i >> 9));
	assert_int_equal(pthread_create(&t, NULL, echo_server, &r), 0);
	fd = client_connect(p);

	while (!eof && !over_time(start)) {
		ssize_t n;

		ts_blocking_lock(&p->ba);
		ts_stack_poll(&p->b, ts_clock_now());
		if (sent < TEST_BYTES) {
			n = ts_send(&p->b.sock, fd, out + sent, TEST_BYTES - sent, 0);
			if (n > 0)
				sent += (size_t)n;
			else
				assert_true(n == -EAGAIN || n == -ENOTCONN);
		} else if (!shut) {
			assert_int_equal(ts_shutdown(&p->b.sock, fd, SHUT_WR), 0);
			shut = true;
		}
		n = ts_recv(&p->b.sock, fd, in + got, TEST_BYTES - got, 0);
		if (n > 0)
			got += (size_t)n;
		else if (n == 0 && got == TEST_BYTES)
			eof = true;
		else if (n == 0)
			fail_msg("end of stream after %zu of %u bytes", got, TEST_BYTES);
		else
			assert_true(n == -EAGAIN || n == -ENOTCONN);
		ts_stack_poll(&p->b, ts_clock_now());
		ts_blocking_unlock(&p->ba);
		ts_blocking_wake(&p->ba);
		sched_yield();
	}
	assert_true(eof);
	assert_int_equal(got, TEST_BYTES);
	assert_memory_equal(in, out, TEST_BYTES);
	assert_int_equal(pthread_join(t, NULL), 0);
	assert_int_equal(r.echoed, TEST_BYTES);
	assert_int_equal(r.error, 0); /* the server's loop ended on end of stream */
	ts_blocking_lock(&p->ba);
	ts_close(&p->b.sock, fd);
	ts_blocking_unlock(&p->ba);
	free(in);
	free(out);
}

/* The server thread of the sendfile test: accept, send the whole file from an offset, close. */
struct file_result {
	struct pair *p;
	int file;
	uint64_t off;
	size_t count;
	ssize_t sent;
};

static void *file_server(void *arg)
{
	struct file_result *r = arg;
	struct sockaddr_in peer;
	int fd = ts_blocking_accept(&r->p->ba, r->p->listen_fd, &peer, 0);

	if (fd < 0) {
		r->sent = fd;
		return NULL;
	}
	r->sent = ts_blocking_sendfile(&r->p->ba, fd, r->file, r->off, r->count, 0);
	ts_blocking_close(&r->p->ba, fd);
	return NULL;
}

/*
 * ts_blocking_sendfile: a file of several pieces (the lock let go between them) and many
 * times the send buffer arrives whole and in order; it returns when all is queued, and a
 * count past the file's end gives what the file had.
 */
static void test_blocking_sendfile(void **state)
{
	struct pair *p = *state;
	const size_t size = 3 * TEST_BYTES + 4321, off = 777;
	uint8_t *data = malloc(size), *in = malloc(size);
	char path[] = "/tmp/tapstack-bsendfile-XXXXXX";
	int file = mkstemp(path);
	struct file_result r = { .p = p, .file = file, .off = off, .count = size }; /* past the end */
	size_t got = 0;
	bool eof = false;
	usec_t start = ts_clock_now();
	pthread_t t;
	int fd;

	assert_non_null(data);
	assert_non_null(in);
	assert_true(file >= 0);
	unlink(path);
	for (size_t i = 0; i < size; i++)
		data[i] = (uint8_t)(i * 13 + (i >> 10));
	assert_int_equal(write(file, data, size), (ssize_t)size);
	assert_int_equal(pthread_create(&t, NULL, file_server, &r), 0);
	fd = client_connect(p);
	while (!eof && !over_time(start)) {
		ts_blocking_lock(&p->ba);
		ssize_t n = ts_recv(&p->b.sock, fd, in + got, size - got, 0);
		ts_blocking_unlock(&p->ba);
		if (n > 0)
			got += (size_t)n;
		else if (n == 0)
			eof = true;
		else
			assert_true(n == -EAGAIN || n == -ENOTCONN);
		pump_client(p);
	}
	assert_true(eof);
	assert_int_equal(pthread_join(t, NULL), 0);
	assert_int_equal(r.sent, size - off);
	assert_int_equal(got, size - off);
	assert_memory_equal(in, data + off, size - off);
	ts_blocking_lock(&p->ba);
	ts_close(&p->b.sock, fd);
	ts_blocking_unlock(&p->ba);
	close(file);
	free(in);
	free(data);
}

static void *accept_once(void *arg)
{
	struct echo_result *r = arg;
	struct sockaddr_in peer;

	r->error = ts_blocking_accept(&r->p->ba, r->p->listen_fd, &peer, 0);
	return NULL;
}

/* A thread blocked in accept() returns with an error when another closes the listener. */
static void test_blocking_accept_wakes_on_close(void **state)
{
	struct pair *p = *state;
	struct echo_result r = { .p = p, .error = 1 };
	pthread_t t;
	struct pollfd pfd = { .fd = p->listen_fd, .events = POLLIN };

	assert_int_equal(pthread_create(&t, NULL, accept_once, &r), 0);
	/* Nothing connects: the listener stays unready through a short timed poll. */
	assert_int_equal(ts_blocking_poll(&p->ba, &pfd, 1, 20), 0);
	assert_int_equal(ts_blocking_close(&p->ba, p->listen_fd), 0);
	assert_int_equal(pthread_join(t, NULL), 0);
	assert_int_equal(r.error, -EBADF);
}

/* The server thread: a UDP echo of `count` datagrams with blocking recvfrom/sendto. */
struct udp_echo_result {
	struct pair *p;
	int fd, count, echoed, error;
};

static void *udp_echo_server(void *arg)
{
	struct udp_echo_result *r = arg;
	struct blocking_stack *b = &r->p->ba;
	static char buf[9000];

	for (int i = 0; i < r->count; i++) {
		struct sockaddr_in from;
		ssize_t n = ts_blocking_recvfrom(b, r->fd, buf, sizeof(buf), 0, &from);
		if (n < 0 || ts_blocking_sendto(b, r->fd, buf, (size_t)n, 0, &from) != n) {
			r->error = n < 0 ? (int)n : -EIO;
			return NULL;
		}
		r->echoed++;
	}
	return NULL;
}

/* UDP through the facade: a thread blocked in recvfrom wakes for each datagram (one of them
 * fragmented) and sends it back with sendto; recvmsg and sendmsg on the same socket. */
static void test_blocking_udp_echo(void **state)
{
	struct pair *p = *state;
	struct sockaddr_in at = { .sin_family = AF_INET, .sin_port = htons(ECHO_PORT) };
	struct sockaddr_in dst = { .sin_family = AF_INET, .sin_port = htons(ECHO_PORT),
				   .sin_addr.s_addr = htonl(SERVER_IP) };
	static const size_t sizes[] = { 1, 0, 1200, 5000 };
	struct udp_echo_result r = { .p = p, .count = 4 };
	static uint8_t out[5000], in[9000];
	usec_t start = ts_clock_now();
	pthread_t t;

	r.fd = ts_blocking_socket(&p->ba, AF_INET, SOCK_DGRAM, 0);
	assert_true(r.fd >= 0);
	assert_int_equal(ts_blocking_bind(&p->ba, r.fd, &at), 0);
	assert_int_equal(pthread_create(&t, NULL, udp_echo_server, &r), 0);
	ts_blocking_lock(&p->ba);
	int fd = ts_socket(&p->b.sock, AF_INET, SOCK_DGRAM, 0);
	ts_blocking_unlock(&p->ba);
	for (size_t k = 0; k < 4; k++) {
		for (size_t i = 0; i < sizes[k]; i++)
			out[i] = (uint8_t)(i * 3 + k);
		ssize_t n = -EAGAIN;
		ts_blocking_lock(&p->ba);
		assert_int_equal(ts_sendto(&p->b.sock, fd, out, sizes[k], 0, &dst), (ssize_t)sizes[k]);
		ts_blocking_unlock(&p->ba);
		while (n == -EAGAIN && !over_time(start)) {
			ts_blocking_lock(&p->ba);
			ts_stack_poll(&p->b, ts_clock_now());
			n = ts_recv(&p->b.sock, fd, in, sizeof(in), 0);
			ts_blocking_unlock(&p->ba);
			ts_blocking_wake(&p->ba);
			sched_yield();
		}
		assert_int_equal(n, (ssize_t)sizes[k]);
		assert_memory_equal(in, out, sizes[k]);
	}
	assert_int_equal(pthread_join(t, NULL), 0);
	assert_int_equal(r.echoed, 4);
	assert_int_equal(r.error, 0);
	/* recvmsg / sendmsg, and the non-blocking look. */
	struct iovec iov = { in, sizeof(in) };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };
	assert_int_equal(ts_blocking_recvmsg(&p->ba, r.fd, &m, MSG_DONTWAIT), -EAGAIN);
	struct sockaddr_in back = dst;
	back.sin_addr.s_addr = htonl(STACK_PAIR_B_IP);
	back.sin_port = htons(9);
	iov = (struct iovec){ out, 10 };
	m = (struct msghdr){ .msg_name = &back, .msg_namelen = sizeof(back), .msg_iov = &iov, .msg_iovlen = 1 };
	assert_int_equal(ts_blocking_sendmsg(&p->ba, r.fd, &m, 0), 10);
	ts_blocking_lock(&p->ba);
	ts_close(&p->b.sock, fd);
	ts_blocking_unlock(&p->ba);
	assert_int_equal(ts_blocking_close(&p->ba, r.fd), 0);
}

/* In non-blocking mode the facade does not wait: -EAGAIN at once, as ts_accept. */
static void test_blocking_nonblock_returns_eagain(void **state)
{
	struct pair *p = *state;
	struct sockaddr_in peer;
	char c;
	struct pollfd pfd = { .fd = p->listen_fd, .events = POLLIN };

	assert_int_equal(ts_blocking_set_nonblock(&p->ba, p->listen_fd, true), 0);
	assert_int_equal(ts_blocking_accept(&p->ba, p->listen_fd, &peer, 0), -EAGAIN);
	assert_int_equal(ts_blocking_recv(&p->ba, p->listen_fd, &c, 1, MSG_DONTWAIT) < 0, 1);
	assert_int_equal(ts_blocking_poll(&p->ba, &pfd, 1, 0), 0); /* timeout 0: just a look */
	assert_int_equal(pfd.revents, 0);
	/* A send of nothing still gets the socket's answer: EPIPE on a listener, as Linux. */
	assert_int_equal(ts_blocking_send(&p->ba, p->listen_fd, &c, 0, 0), -EPIPE);
}

/* SO_LINGER {1, 10}: a blocking close waits until the peer acknowledged our FIN (and no
 * longer), as Linux's close() does; without the ACK it keeps waiting. */
struct linger_result {
	struct pair *p;
	int stage;                 /* 1 accepted, 2 ready to close, 3 closed (atomic) */
	int go;                    /* the test says when to close (atomic) */
	int rc;
};

static void *linger_server(void *arg)
{
	struct linger_result *r = arg;
	struct linger lg = { 1, 10 };
	int fd = ts_blocking_accept(&r->p->ba, r->p->listen_fd, NULL, 0);

	if (fd < 0) {
		r->rc = fd;
		__atomic_store_n(&r->stage, 3, __ATOMIC_SEQ_CST);
		return NULL;
	}
	__atomic_store_n(&r->stage, 1, __ATOMIC_SEQ_CST);
	ts_blocking_setsockopt(&r->p->ba, fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	__atomic_store_n(&r->stage, 2, __ATOMIC_SEQ_CST);
	while (!__atomic_load_n(&r->go, __ATOMIC_SEQ_CST))
		sched_yield();
	r->rc = ts_blocking_close(&r->p->ba, fd);
	__atomic_store_n(&r->stage, 3, __ATOMIC_SEQ_CST);
	return NULL;
}

/* Polls the client stack (under A's lock: memdev is shared) and wakes A's thread. */
static void test_blocking_linger_waits_for_fin_ack(void **state)
{
	struct pair *p = *state;
	struct linger_result r = { .p = p };
	usec_t start = ts_clock_now();
	pthread_t t;
	int fd;

	assert_int_equal(pthread_create(&t, NULL, linger_server, &r), 0);
	fd = client_connect(p);
	while (__atomic_load_n(&r.stage, __ATOMIC_SEQ_CST) < 2 && !over_time(start))
		pump_client(p);
	assert_int_equal(__atomic_load_n(&r.stage, __ATOMIC_SEQ_CST), 2);
	/* From now the client's stack is not polled: the FIN waits in the cable, unacknowledged. */
	__atomic_store_n(&r.go, 1, __ATOMIC_SEQ_CST);
	usleep(150000);
	ts_blocking_wake(&p->ba);
	usleep(50000);
	assert_int_equal(__atomic_load_n(&r.stage, __ATOMIC_SEQ_CST), 2); /* still lingering */
	while (__atomic_load_n(&r.stage, __ATOMIC_SEQ_CST) < 3 && !over_time(start))
		pump_client(p);         /* the client acknowledges the FIN */
	assert_int_equal(__atomic_load_n(&r.stage, __ATOMIC_SEQ_CST), 3);
	assert_int_equal(r.rc, 0);
	assert_true(ts_clock_now() - start < 10 * USEC_PER_SEC); /* the ACK, not the 10 s */
	assert_int_equal(pthread_join(t, NULL), 0);
	ts_blocking_lock(&p->ba);
	ts_close(&p->b.sock, fd);
	ts_blocking_unlock(&p->ba);
}

/* SO_RCVTIMEO bounds a blocking accept(): -EAGAIN once it passed (Linux), not a hang. */
static void test_blocking_rcvtimeo(void **state)
{
	struct pair *p = *state;
	struct sockaddr_in peer;
	struct timeval tv = { .tv_sec = 0, .tv_usec = 50000 };
	usec_t start = ts_clock_now();

	assert_int_equal(ts_blocking_setsockopt(&p->ba, p->listen_fd, SOL_SOCKET, SO_RCVTIMEO, &tv,
					     sizeof(tv)), 0);
	assert_int_equal(ts_blocking_accept(&p->ba, p->listen_fd, &peer, 0), -EAGAIN);
	assert_true(ts_clock_now() - start >= 40 * USEC_PER_MS);
}

/* A caller's call sees the time it is made, not the time of the stack's last round: the
 * stack thread sleeps while nothing is due, and a send after a long silence was stamped
 * (TSval) and timed (its retransmission timer) from that old round, so the next round
 * resent it at once (seen on the loop as a second FIN 1 us after the first, whose ACK
 * then met a closed socket and drew a RST that ended TIME-WAIT). ts_blocking_lock brings
 * the clock to now (ts_stack_clock). */
static void test_blocking_call_sees_now(void **state)
{
	struct pair *p = *state;
	ts_blocking_lock(&p->ba);
	usec_t before = p->a.core.now;
	ts_blocking_unlock(&p->ba);
	usleep(300 * 1000);
	ts_blocking_lock(&p->ba);
	usec_t after = p->a.core.now;
	ts_blocking_unlock(&p->ba);
	assert_true(after >= before + 250 * USEC_PER_MS);
	assert_true(after <= ts_clock_now());
}

/* blocking_epoll_wait: a timeout with nothing ready returns 0; a set's errors come back. */
static void test_blocking_epoll_wait(void **state)
{
	struct pair *p = *state;
	struct epoll_event ev = { .events = EPOLLIN, .data.fd = p->listen_fd };
	struct epoll_event out[4];
	int ep = ts_blocking_epoll_create(&p->ba, 0);

	assert_true(ep >= 0);
	assert_int_equal(ts_blocking_epoll_ctl(&p->ba, ep, EPOLL_CTL_ADD, p->listen_fd, &ev), 0);
	assert_int_equal(ts_blocking_epoll_wait(&p->ba, ep, out, 4, 20), 0);
	assert_int_equal(ts_blocking_epoll_wait(&p->ba, p->listen_fd, out, 4, 20), -EINVAL);
	assert_int_equal(ts_blocking_close(&p->ba, ep), 0);
}

/*
 * A process that dies holding a shared lock does not wedge the others (the preload library's
 * forked children): the next locker takes it over (robust mutex, EOWNERDEAD) and counts it.
 * alarm() turns a wedge into a failure instead of a hang.
 */
static void test_blocking_shared_lock_survives_dead_holder(void **state)
{
	struct pair *p = *state;
	int one = 1, st;

	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		ts_blocking_lock(&p->ba);
		_exit(0); /* dies holding it */
	}
	assert_int_equal(waitpid(pid, &st, 0), pid);
	alarm(TEST_LIMIT_SEC);
	assert_int_equal(ts_blocking_setsockopt(&p->ba, p->listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)), 0);
	assert_int_equal(p->shared->owner_deaths, 1);
	test_blocking_echo_server(state); /* the stack thread and the waits still work */
	alarm(0);
}

/* A process killed while it waits (a blocking accept in a forked child) leaves nothing that
 * blocks the others' wake-ups: the condition is a futex word, not a pthread condvar. */
static void test_blocking_shared_dead_waiter(void **state)
{
	struct pair *p = *state;
	struct sockaddr_in peer;
	int st;

	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		(void)ts_blocking_accept(&p->ba, p->listen_fd, &peer, 0); /* waits: nobody connects */
		_exit(1);
	}
	for (int i = 0; i < TEST_LIMIT_SEC * 100 && !__atomic_load_n(&p->shared->waiters, __ATOMIC_SEQ_CST); i++)
		usleep(10000);
	assert_true(__atomic_load_n(&p->shared->waiters, __ATOMIC_SEQ_CST) >= 1);
	kill(pid, SIGKILL);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFSIGNALED(st));
	alarm(TEST_LIMIT_SEC);
	test_blocking_echo_server(state);
	alarm(0);
}

/*
 * Run-to-completion: a caller that drives (ts_blocking_drive) takes the frames in its own
 * thread. memdev has no pollfd and the test never wakes A's thread, so only the drives below
 * can move the handshake: without them the connection never reaches the accept queue.
 */
static void test_blocking_drive_in_caller_thread(void **state)
{
	struct pair *p = *state;
	struct sockaddr_in dst = { .sin_family = AF_INET, .sin_port = htons(ECHO_PORT),
				   .sin_addr.s_addr = htonl(SERVER_IP) };
	struct sockaddr_in peer;
	int fd, rc, afd, taken = 0, more;
	uint64_t drives;

	/* Assertions after the unlock: a failing one must not leave the lock held. */
	ts_blocking_lock(&p->ba);
	fd = ts_socket(&p->b.sock, AF_INET, SOCK_STREAM, 0);
	rc = ts_connect(&p->b.sock, fd, &dst);
	drives = p->ba.drives;
	/* ARP, the SYN, the ACK: A's frames taken by this thread, B polled between. */
	for (int i = 0; i < 8; i++) {
		taken += ts_blocking_drive(&p->ba);
		ts_stack_poll(&p->b, ts_clock_now());
	}
	drives = p->ba.drives - drives;
	afd = ts_accept(&p->a.sock, p->listen_fd, &peer, 0);
	more = ts_blocking_drive(&p->ba);                  /* nothing more came */
	if (afd >= 0)
		ts_close(&p->a.sock, afd);
	ts_close(&p->b.sock, fd);
	ts_blocking_unlock(&p->ba);
	assert_int_equal(rc, -EINPROGRESS);
	assert_true(taken >= 2);
	assert_true(drives >= 2);
	assert_true(afd >= 0);
	assert_int_equal(more, 0);
}

/* Waits (bounded) until A's thread has finished a round after `since`; lock not held. */
static void wait_round(struct pair *p, uint64_t since)
{
	usec_t start = ts_clock_now();
	uint64_t it;

	do {
		ts_blocking_wake(&p->ba);
		sched_yield();
		ts_blocking_lock(&p->ba);
		it = p->ba.iterations;
		ts_blocking_unlock(&p->ba);
	} while (it <= since + 1 && !over_time(start));
	assert_true(it > since + 1);
}

/*
 * A parked caller has the device: the stack thread stops watching it. A blocking call that
 * must wait meanwhile gets the stack thread back at once (it waits on the condition variable,
 * which only rounds broadcast); unparked, the device is the stack thread's again once the
 * lease ran out.
 */
static void test_blocking_park_hands_back_to_waiters(void **state)
{
	struct pair *p = *state;
	struct sockaddr_in peer;
	struct timeval tv = { .tv_sec = 0, .tv_usec = 300000 };
	uint64_t it;
	bool watching;
	unsigned waiters, parked;
	usec_t lease;

	ts_blocking_lock(&p->ba);
	(void)ts_blocking_park(&p->ba);
	it = p->ba.iterations;
	ts_blocking_unlock(&p->ba);
	wait_round(p, it);
	ts_blocking_lock(&p->ba);
	watching = p->ba.watching;
	ts_blocking_unlock(&p->ba);
	assert_false(watching);                            /* parked: the device is the caller's */

	/* A blocking accept (bounded by SO_RCVTIMEO) from this thread: a waiter. */
	assert_int_equal(ts_blocking_setsockopt(&p->ba, p->listen_fd, SOL_SOCKET, SO_RCVTIMEO, &tv,
					     sizeof(tv)), 0);
	assert_int_equal(ts_blocking_accept(&p->ba, p->listen_fd, &peer, 0), -EAGAIN);
	ts_blocking_lock(&p->ba);
	watching = p->ba.watching;                         /* the waiter called it back */
	waiters = p->ba.sync->waiters;
	ts_blocking_unpark(&p->ba);
	parked = p->ba.parked;
	lease = p->ba.lease_end;
	ts_blocking_unlock(&p->ba);
	assert_true(watching);
	assert_int_equal(waiters, 0);
	assert_int_equal(parked, 0);
	assert_true(lease > ts_clock_now() - USEC_PER_SEC);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_blocking_echo_server, pair_setup, pair_teardown),
		cmocka_unit_test_setup_teardown(test_blocking_sendfile, pair_setup, pair_teardown),
		cmocka_unit_test_setup_teardown(test_blocking_udp_echo, pair_setup, pair_teardown),
		cmocka_unit_test_setup_teardown(test_blocking_accept_wakes_on_close, pair_setup,
						pair_teardown),
		cmocka_unit_test_setup_teardown(test_blocking_nonblock_returns_eagain, pair_setup,
						pair_teardown),
		cmocka_unit_test_setup_teardown(test_blocking_rcvtimeo, pair_setup, pair_teardown),
		cmocka_unit_test_setup_teardown(test_blocking_call_sees_now, pair_setup, pair_teardown),
		cmocka_unit_test_setup_teardown(test_blocking_linger_waits_for_fin_ack, pair_setup,
						pair_teardown),
		cmocka_unit_test_setup_teardown(test_blocking_epoll_wait, pair_setup, pair_teardown),
		cmocka_unit_test_setup_teardown(test_blocking_drive_in_caller_thread, pair_setup, pair_teardown),
		cmocka_unit_test_setup_teardown(test_blocking_park_hands_back_to_waiters, pair_setup,
						pair_teardown),
		cmocka_unit_test_setup_teardown(test_blocking_echo_server, pair_setup_shared, pair_teardown),
		cmocka_unit_test_setup_teardown(test_blocking_shared_lock_survives_dead_holder, pair_setup_shared,
						pair_teardown),
		cmocka_unit_test_setup_teardown(test_blocking_shared_dead_waiter, pair_setup_shared, pair_teardown),
	};

	return cmocka_run_group_tests_name("blocking", tests, NULL, NULL);
}
