/*
 * test_apps.c - the demo servers (apps/http.c, echo.c, discard.c, stall.c, server.c, udp.c) on a
 * real tapstack, in one process, without root: stack A runs the servers through their
 * struct app (collect, ts_poll, dispatch: what the program's loop does), stack B is the
 * client, driven with non-blocking ts_* calls. The stacks are joined by the in-memory
 * driver and share a fake clock that each round advances by 1 ms.
 *
 * What only a whole connection shows: pipelined answers in order, an answer larger than
 * every buffer on the way to a client that does not read yet (partial writes, POLLOUT),
 * 413 then an orderly close, the 405 body skipped to keep the connection in sync, echo
 * byte-exact, accept() logged, a listener that never accepts, and the UDP echo answering
 * each datagram (empty, small, fragmented) byte-exact while the UDP discard answers none.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "apps/http_conn_page.h"
#include "apps/http_parse.h"
#include "apps/server.h"
#include "apps/servers.h"
#include "helpers/stack_pair.h"
#include "stack.h"

#define SERVER_IP STACK_PAIR_A_IP
#define MAX_ROUNDS 200000 /* 200 s of fake time: far more than any exchange here needs */

/* app_log is the program's (apps/app.h): here it counts accept lines. */
static unsigned accept_lines;
static time_t fake_sec;

void app_log(const char *fmt, ...)
{
	if (strstr(fmt, "accept() returned"))
		accept_lines++;
}

struct fixture {
	struct stack a, b;
	struct net net;
	struct app *apps[8];
	int napps;
	usec_t now;
};

static int fixture_setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->now = USEC_PER_SEC;
	stack_pair_init(&f->a, &f->b, f->now);
	f->net.sl = ts_stack_sockets(&f->a);
	f->apps[f->napps++] = http_app_create(&f->net, 80, NULL, 16);
	f->apps[f->napps++] = echo_app_create(&f->net, 7, 16);
	f->apps[f->napps++] = discard_app_create(&f->net, 9, 16);
	f->apps[f->napps++] = stall_app_create(&f->net, 8081, 2);
	f->apps[f->napps++] = udp_echo_app_create(&f->net, 7);
	f->apps[f->napps++] = udp_discard_app_create(&f->net, 9);
	for (int i = 0; i < f->napps; i++)
		assert_non_null(f->apps[i]);
	accept_lines = 0;
	*state = f;
	return 0;
}

static int fixture_teardown(void **state)
{
	struct fixture *f = *state;

	for (int i = 0; i < f->napps; i++)
		f->apps[i]->stop(f->apps[i]->state);
	ts_stack_destroy(&f->a);
	ts_stack_destroy(&f->b);
	free(f);
	return 0;
}

/* One round of the program's loop on stack A, and time for both stacks. */
static void round_run(struct fixture *f)
{
	static struct pollfd fds[1024];
	int counts[8], n = 0, i;

	f->now += USEC_PER_MS;
	ts_stack_poll(&f->a, f->now);
	ts_stack_poll(&f->b, f->now);
	for (i = 0; i < f->napps; i++) {
		counts[i] = f->apps[i]->collect(f->apps[i]->state, fds + n, 1024 - n);
		n += counts[i];
	}
	ts_poll(&f->a.sock, fds, (nfds_t)n);
	n = 0;
	for (i = 0; i < f->napps; i++) {
		f->apps[i]->dispatch(f->apps[i]->state, fds + n, counts[i]);
		n += counts[i];
	}
	ts_stack_poll(&f->a, f->now);
	ts_stack_poll(&f->b, f->now);
}

static int client_connect(struct fixture *f, uint16_t port)
{
	struct sockaddr_in dst = { .sin_family = AF_INET, .sin_port = htons(port),
				   .sin_addr.s_addr = htonl(SERVER_IP) };
	int fd = ts_socket(&f->b.sock, AF_INET, SOCK_STREAM, 0);
	int rc, i;

	assert_true(fd >= 0);
	rc = ts_connect(&f->b.sock, fd, &dst);
	assert_true(rc == 0 || rc == -EINPROGRESS);
	for (i = 0; i < MAX_ROUNDS && !(ts_revents(&f->b.sock, fd) & (POLLOUT | POLLERR)); i++)
		round_run(f);
	assert_true(ts_revents(&f->b.sock, fd) & POLLOUT);
	return fd;
}

static void client_send(struct fixture *f, int fd, const void *buf, size_t len)
{
	const char *p = buf;
	int i;

	for (i = 0; len > 0 && i < MAX_ROUNDS; i++) {
		ssize_t n = ts_send(&f->b.sock, fd, p, len, 0);

		if (n > 0) {
			p += n;
			len -= (size_t)n;
		} else {
			assert_int_equal(n, -EAGAIN);
		}
		round_run(f);
	}
	assert_int_equal(len, 0);
}

/* Reads until `want` bytes or end of stream; returns the count. *eof says which. */
static size_t client_recv(struct fixture *f, int fd, void *buf, size_t want, bool *eof)
{
	char *p = buf;
	size_t got = 0;
	int i;

	*eof = false;
	for (i = 0; got < want && i < MAX_ROUNDS; i++) {
		ssize_t n = ts_recv(&f->b.sock, fd, p + got, want - got, 0);

		if (n == 0) {
			*eof = true;
			break;
		}
		if (n > 0)
			got += (size_t)n;
		else
			assert_int_equal(n, -EAGAIN);
		round_run(f);
	}
	return got;
}

/* Reads everything up to the server's end of stream (which must come) as a string. */
static size_t client_recv_to_eof(struct fixture *f, int fd, char *buf, size_t cap)
{
	bool eof;
	size_t n = client_recv(f, fd, buf, cap - 1, &eof);

	buf[n] = '\0';
	assert_true(eof);
	return n;
}

/* Reads until the bytes received so far contain `needle` (NUL-terminated in buf). */
static size_t client_recv_until(struct fixture *f, int fd, char *buf, size_t cap,
				const char *needle)
{
	size_t got = 0;
	int i;

	for (i = 0; got + 1 < cap && i < MAX_ROUNDS; i++) {
		ssize_t n = ts_recv(&f->b.sock, fd, buf + got, cap - 1 - got, 0);

		if (n > 0) {
			got += (size_t)n;
			buf[got] = '\0';
			if (strstr(buf, needle))
				break;
		}
		assert_true(n != 0);
		round_run(f);
	}
	buf[got] = '\0';
	return got;
}

static void test_http_get_index(void **state)
{
	struct fixture *f = *state;
	const char req[] = "GET / HTTP/1.1\r\nHost: 10.0.0.2\r\nConnection: close\r\n\r\n";
	static char buf[8192];
	int fd = client_connect(f, 80);

	client_send(f, fd, req, sizeof(req) - 1);
	client_recv_to_eof(f, fd, buf, sizeof(buf)); /* Connection: close honoured */
	assert_non_null(strstr(buf, "HTTP/1.1 200 OK\r\n"));
	assert_non_null(strstr(buf, "Connection: close\r\n"));
	assert_non_null(strstr(buf, "<h1>tapstack</h1>"));
	assert_int_equal(accept_lines, 1);
	ts_close(&f->b.sock, fd);
}

/*
 * GET /conn and GET /: the visitor's own connection as the server's stack saw it. The
 * client here is tapstack too (stack b), so every value can be checked against what the
 * client knows: its own port, the options its SYN carries (MSS 1460, SACK, timestamps,
 * window scale), the SYN-ACK's MSS, and moments that go forward.
 */
/* One request on a new connection, the whole answer into buf; returns the client's port. */
static unsigned get_on_new_conn(struct fixture *f, const char *req, char *buf, size_t cap)
{
	struct sockaddr_in me;
	int fd = client_connect(f, 80);

	assert_int_equal(ts_getsockname(&f->b.sock, fd, &me), 0);
	client_send(f, fd, req, strlen(req));
	client_recv_to_eof(f, fd, buf, cap);
	ts_close(&f->b.sock, fd);
	return ntohs(me.sin_port);
}

static void test_http_conn_page(void **state)
{
	struct fixture *f = *state;
	static char buf[HTTP_CONN_PAGE_MAX + 512];
	char want[96];
	unsigned port = get_on_new_conn(f, "GET /conn HTTP/1.1\r\nHost: 10.0.0.2\r\nConnection: close\r\n\r\n",
					buf, sizeof(buf));

	static const char *const json[] = {
		"HTTP/1.1 200 OK\r\n", "Content-Type: application/json\r\n", "\"server\": \"10.0.0.2:80\"",
		"\"mss\": 1460, \"wscale\": ", "\"sack\": true, \"timestamps\": true, \"tsval\": ",
		"\"syn_in\": 0, \"synack_out\": 0, \"final_ack_in\": ", "\"tcp_info\": {\"rtt_us\": ",
	};
	static const char *const html[] = {
		"<td id=\"syn-mss\">1460</td>", "<td id=\"syn-sack\">yes</td>", "<td id=\"t-syn\">0 us</td>",
		"<a href=\"/docs/walkthrough.md\">",
	};

	for (size_t i = 0; i < sizeof(json) / sizeof(json[0]); i++)
		assert_non_null(strstr(buf, json[i]));
	assert_null(strstr(buf, "\"accept\": -1"));
	snprintf(want, sizeof(want), "\"client\": \"10.0.0.1:%u\"", port);
	assert_non_null(strstr(buf, want));

	port = get_on_new_conn(f, "GET / HTTP/1.1\r\nHost: 10.0.0.2\r\nConnection: close\r\n\r\n", buf,
			       sizeof(buf));
	for (size_t i = 0; i < sizeof(html) / sizeof(html[0]); i++)
		assert_non_null(strstr(buf, html[i]));
	snprintf(want, sizeof(want), "<td id=\"client\">10.0.0.1:%u</td>", port);
	assert_non_null(strstr(buf, want));

	/* Every visitor's page has the same length (load generators such as ab count a length
	 * that differs from the first answer's as a failure). */
	const char *cl = strstr(buf, "Content-Length: ");
	assert_non_null(cl);
	snprintf(want, sizeof(want), "%.*s", (int)strcspn(cl, "\r"), cl);
	get_on_new_conn(f, "GET / HTTP/1.1\r\nHost: 10.0.0.2\r\nConnection: close\r\n\r\n", buf, sizeof(buf));
	assert_non_null(strstr(buf, want));
}

/* The servers' clock (struct server.clock) in the slowloris test: seconds set by the test. */

static time_t fake_clock(void)
{
	return fake_sec;
}

/*
 * Slowloris: clients that send a request head one byte at a time, slower than any idle
 * timeout but never stopping. With the server's connection bound reached (2 here), a new
 * client waits in the stack's accept queue; as nginx's client_header_timeout, the head
 * must be complete 60 s after accept however it trickles in, so the slow clients are closed
 * at 60 s and the waiting client is served. (When each byte moved the deadline, the slow
 * clients held their slots forever and the new client was never served.)
 */
static void test_http_slowloris_header_deadline(void **state)
{
	struct fixture *f = *state;
	struct server *srv = f->apps[0]->state; /* struct http begins with its struct server */
	const char req[] = "GET / HTTP/1.1\r\nHost: 10.0.0.2\r\nConnection: close\r\n\r\n";
	static char buf[8192];
	int slow[2], late, i, t;
	bool eof;

	fake_sec = 1000;
	srv->clock = fake_clock;
	srv->max_conns = 2; /* below the tables' size, which stays as allocated */
	for (i = 0; i < 2; i++) {
		slow[i] = client_connect(f, 80);
		client_send(f, slow[i], "GET / HTTP/1.1\r\n", 16);
	}
	assert_int_equal(srv->nconns, 2);
	late = client_connect(f, 80); /* the stack completes the handshake; accept() waits */
	client_send(f, late, req, sizeof(req) - 1);
	for (t = 10; t < 60; t += 10) {
		fake_sec = 1000 + t;
		for (i = 0; i < 2; i++)
			client_send(f, slow[i], "X", 1);
		assert_int_equal(srv->nconns, 2);
		assert_int_equal(ts_recv(&f->b.sock, late, buf, sizeof(buf), 0), -EAGAIN);
	}
	fake_sec = 1000 + 60;
	client_recv_to_eof(f, late, buf, sizeof(buf));
	assert_non_null(strstr(buf, "HTTP/1.1 200 OK\r\n"));
	for (i = 0; i < 2; i++) {
		assert_int_equal(client_recv(f, slow[i], buf, sizeof(buf), &eof), 0);
		assert_true(eof); /* closed by the server, nothing answered */
		ts_close(&f->b.sock, slow[i]);
	}
	ts_close(&f->b.sock, late);
}

/* The header deadline ends with the head: a response that takes longer than 60 s to send
 * is not cut, since each write that goes through gives HTTP_SEND_TIMEOUT_S more (nginx's
 * send_timeout). Here the client reads 1 MiB every 30 s, for two minutes. */
static void test_http_slow_reader_not_cut_by_header_deadline(void **state)
{
	struct fixture *f = *state;
	struct server *srv = f->apps[0]->state;
	const char req[] = "GET /bytes/4000000 HTTP/1.1\r\nHost: 10.0.0.2\r\nConnection: close\r\n\r\n";
	static char buf[1 << 20];
	size_t got = 0;
	bool eof = false;
	int fd, t;

	fake_sec = 5000;
	srv->clock = fake_clock;
	fd = client_connect(f, 80);
	client_send(f, fd, req, sizeof(req) - 1);
	for (t = 30; !eof; t += 30) {
		fake_sec = 5000 + t;
		got += client_recv(f, fd, buf, sizeof(buf), &eof);
	}
	assert_true(t > 90);
	assert_true(got > 4000000);
	ts_close(&f->b.sock, fd);
}

/* The head is assembled piece by piece (apps/http.c, http_set_head): every field exactly,
 * in order, with the Date in RFC 9110's IMF-fixdate form and lengths from 0 to 2^40. */
static void test_http_head_exact(void **state)
{
	struct fixture *f = *state;
	const char req[] = "HEAD /bytes/0 HTTP/1.1\r\nHost: x\r\n\r\n"
			   "HEAD /bytes/1099511627776 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
	const char *date_fmt = "%a, %d %b %Y %H:%M:%S GMT";
	static char buf[2048];
	char expect[512], date[64], *p, *q;
	struct tm tm;
	int fd = client_connect(f, 80);

	client_send(f, fd, req, sizeof(req) - 1);
	client_recv_to_eof(f, fd, buf, sizeof(buf));
	/* The Date as sent must parse back as a date; then the whole head must match. */
	p = strstr(buf, "\r\nDate: ");
	assert_non_null(p);
	p += 8;
	q = strstr(p, "\r\n");
	assert_non_null(q);
	assert_true((size_t)(q - p) < sizeof(date));
	memcpy(date, p, (size_t)(q - p));
	date[q - p] = '\0';
	memset(&tm, 0, sizeof(tm));
	p = strptime(date, date_fmt, &tm);
	assert_non_null(p);
	assert_int_equal(*p, '\0');
	snprintf(expect, sizeof(expect),
		 "HTTP/1.1 200 OK\r\nServer: tapstack\r\nDate: %s\r\n"
		 "Content-Type: application/octet-stream\r\nContent-Length: 0\r\n"
		 "Connection: keep-alive\r\n\r\n",
		 date);
	assert_memory_equal(buf, expect, strlen(expect));
	p = buf + strlen(expect);
	/* The second answer may fall in the next second: compare around its own Date. */
	assert_true(strncmp(p, "HTTP/1.1 200 OK\r\nServer: tapstack\r\nDate: ", 41) == 0);
	q = strstr(p, "GMT\r\n");
	assert_non_null(q);
	assert_string_equal(q, "GMT\r\nContent-Type: application/octet-stream\r\n"
			       "Content-Length: 1099511627776\r\nConnection: close\r\n\r\n");
	ts_close(&f->b.sock, fd);
}

/* In received bytes that may hold NULs (pattern bodies), the first s at or after p. */
static char *find(char *p, const char *end, const char *s)
{
	return p ? memmem(p, (size_t)(end - p), s, strlen(s)) : NULL;
}

/* Four requests in one segment: four answers, in order, on one connection. */
static void test_http_pipelining(void **state)
{
	struct fixture *f = *state;
	const char req[] = "GET /bytes/5 HTTP/1.1\r\nHost: x\r\n\r\n"
			   "GET /nope HTTP/1.1\r\nHost: x\r\n\r\n"
			   "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\nbody"
			   "HEAD /bytes/77 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
	static char buf[8192];
	char *p, *end;
	bool eof;
	size_t n;
	int fd = client_connect(f, 80);

	client_send(f, fd, req, sizeof(req) - 1);
	n = client_recv(f, fd, buf, sizeof(buf), &eof);
	end = buf + n;
	assert_true(eof);
	p = find(buf, end, "HTTP/1.1 200 OK");
	assert_ptr_equal(p, buf);
	assert_non_null(find(p, end, "Content-Length: 5\r\n"));
	p = find(p + 1, end, "HTTP/1.1 404 Not Found");
	assert_non_null(p);
	/* The 405's request body was skipped: the HEAD after it was still understood. */
	p = find(p + 1, end, "HTTP/1.1 405 Method Not Allowed");
	assert_non_null(p);
	assert_non_null(find(p, end, "Allow: GET, HEAD\r\n"));
	p = find(p + 1, end, "HTTP/1.1 200 OK");
	assert_non_null(p);
	assert_non_null(find(p, end, "Content-Length: 77\r\n"));
	/* HEAD: nothing after the blank line that ends its head. */
	p = find(p, end, "\r\n\r\n");
	assert_non_null(p);
	assert_ptr_equal(p + 4, end);
	ts_close(&f->b.sock, fd);
}

/*
 * Two clients that each pipeline 1000 HEAD requests into a small receive window and read
 * seldom, against 4 KiB send buffers: a head is often built and then cannot be sent, or only
 * in part, while the other connection builds its own. The head is built in a buffer the
 * server shares; what is left unsent is kept per connection (http_head_keep), so each client
 * gets its 1000 heads whole and in order, Content-Length 1..1000 and 10001..11000, none with
 * the other's bytes.
 */
static void test_http_heads_cut_by_full_buffers(void **state)
{
	struct fixture *f = *state;
	static char req[2][1000 * 48];
	static char buf[2][1000 * 200];
	size_t len[2] = { 0, 0 }, got[2] = { 0, 0 };
	bool eof[2] = { false, false };
	int fd[2], small = 1024;

	/* The server's send buffers stay small (Linux's tcp_wmem 4096 4096 4096), so they fill. */
	f->a.tcp.cfg.wmem_default = f->a.tcp.cfg.wmem_max = 4096;
	for (int k = 0; k < 2; k++) {
		for (int i = 1; i <= 1000; i++)
			len[k] += (size_t)sprintf(req[k] + len[k], "HEAD /bytes/%d HTTP/1.1\r\nHost: x\r\n%s\r\n",
			                          10000 * k + i, i == 1000 ? "Connection: close\r\n" : "");
		fd[k] = ts_socket(&f->b.sock, AF_INET, SOCK_STREAM, 0);
		assert_int_equal(ts_setsockopt(&f->b.sock, fd[k], SOL_SOCKET, SO_RCVBUF, &small, sizeof(small)), 0);
		struct sockaddr_in dst = { .sin_family = AF_INET, .sin_port = htons(80),
					   .sin_addr.s_addr = htonl(SERVER_IP) };
		int rc = ts_connect(&f->b.sock, fd[k], &dst);
		assert_true(rc == 0 || rc == -EINPROGRESS);
	}
	size_t sent[2] = { 0, 0 };
	for (int i = 0; i < MAX_ROUNDS && !(eof[0] && eof[1]); i++) {
		for (int k = 0; k < 2; k++) {
			ssize_t n = sent[k] < len[k] ? ts_send(&f->b.sock, fd[k], req[k] + sent[k], len[k] - sent[k], 0) : 0;
			if (n > 0)
				sent[k] += (size_t)n;
			/* Nothing read until every request is out, then seldom: the server's send
			 * buffer fills and stays full. */
			if (sent[0] < len[0] || sent[1] < len[1] || i % 8 != 0 || eof[k])
				continue;
			n = ts_recv(&f->b.sock, fd[k], buf[k] + got[k], sizeof(buf[k]) - 1 - got[k], 0);
			if (n > 0)
				got[k] += (size_t)n;
			eof[k] = n == 0;
		}
		round_run(f);
	}
	for (int k = 0; k < 2; k++) {
		assert_true(eof[k]);
		buf[k][got[k]] = '\0';
		char *p = buf[k];
		for (int i = 1; i <= 1000; i++) {
			char want[48];
			assert_true(strncmp(p, "HTTP/1.1 200 OK\r\n", 17) == 0);
			char *end = strstr(p, "\r\n\r\n");
			assert_non_null(end);
			sprintf(want, "Content-Length: %d\r\n", 10000 * k + i);
			char *cl = strstr(p, want);
			if (!cl || cl > end)
				fail_msg("client %d, answer %d: no \"%s\" in its head", k, i, want);
			p = end + 4;
		}
		assert_ptr_equal(p, buf[k] + got[k]); /* nothing after the last head */
		ts_close(&f->b.sock, fd[k]);
	}
}

/* 3 MB to a client that reads nothing for a while: the server stops at a full send
 * buffer (partial writes), resumes on POLLOUT, and every byte arrives in order. */
static void test_http_bytes_to_a_slow_reader(void **state)
{
	struct fixture *f = *state;
	const size_t body = 3u << 20;
	const char req[] = "GET /bytes/3145728 HTTP/1.1\r\nHost: x\r\n\r\n";
	char *buf = malloc(body + 4096);
	char *start;
	bool eof;
	size_t n, head;
	int fd = client_connect(f, 80);
	int i;

	assert_non_null(buf);
	client_send(f, fd, req, sizeof(req) - 1);
	for (i = 0; i < 2000; i++) /* 2 s without reading */
		round_run(f);
	n = client_recv(f, fd, buf, 200, &eof);
	buf[n] = '\0';
	start = strstr(buf, "\r\n\r\n");
	assert_non_null(start);
	head = (size_t)(start + 4 - buf);
	assert_non_null(strstr(buf, "Content-Length: 3145728\r\n"));
	n += client_recv(f, fd, buf + n, head + body - n, &eof);
	assert_false(eof);
	assert_int_equal(n, head + body);
	assert_int_equal(http_bytes_check((uint8_t *)buf + head, 0, body), body);
	/* Keep-alive: the same connection serves another request. */
	client_send(f, fd, "GET /bytes/1 HTTP/1.1\r\nHost: x\r\n\r\n", 35);
	n = client_recv(f, fd, buf, 4096, &eof);
	assert_false(eof);
	buf[n] = '\0';
	assert_non_null(strstr(buf, "HTTP/1.1 200 OK"));
	ts_close(&f->b.sock, fd);
	free(buf);
}

/* A head over 8 KiB: 413, then the server closes (after its FIN, it waits for ours). */
static void test_http_413_then_close(void **state)
{
	struct fixture *f = *state;
	static char req[HTTP_HEAD_MAX_BYTES + 100];
	static char buf[4096];
	int fd = client_connect(f, 80);

	memset(req, 'a', sizeof(req));
	memcpy(req, "GET / HTTP/1.1\r\nX: ", 19);
	client_send(f, fd, req, sizeof(req));
	client_recv_to_eof(f, fd, buf, sizeof(buf));
	assert_non_null(strstr(buf, "HTTP/1.1 413 "));
	assert_non_null(strstr(buf, "Connection: close\r\n"));
	ts_close(&f->b.sock, fd);
}

/* Files from a directory, and a symbolic link out of it refused (openat2 RESOLVE_BENEATH,
 * or O_NOFOLLOW where the kernel lacks openat2). */
static void test_http_files(void **state)
{
	struct fixture *f = *state;
	char dir[] = "/tmp/test_apps.XXXXXX", path[128], outside[128];
	static char buf[4096];
	struct app *files;
	FILE *fp;
	int fd;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/hello.txt", dir);
	snprintf(outside, sizeof(outside), "%s.secret", dir);
	fp = fopen(path, "w");
	assert_non_null(fp);
	fputs("hello from a file\n", fp);
	fclose(fp);
	fp = fopen(outside, "w");
	assert_non_null(fp);
	fputs("secret\n", fp);
	fclose(fp);
	snprintf(path, sizeof(path), "%s/escape.txt", dir);
	assert_int_equal(symlink(outside, path), 0);
	files = http_app_create(&f->net, 8000, dir, 16);
	assert_non_null(files);
	f->apps[f->napps++] = files;

	fd = client_connect(f, 8000);
	client_send(f, fd, "GET /hello.txt HTTP/1.1\r\nHost: x\r\n\r\n", 36);
	client_recv_until(f, fd, buf, sizeof(buf), "hello from a file\n");
	assert_non_null(strstr(buf, "HTTP/1.1 200 OK\r\n"));
	assert_non_null(strstr(buf, "Content-Type: text/plain; charset=utf-8\r\n"));
	assert_non_null(strstr(buf, "Content-Length: 18\r\n"));
	assert_non_null(strstr(buf, "\r\n\r\nhello from a file\n"));
	client_send(f, fd, "GET /escape.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", 56);
	client_recv_to_eof(f, fd, buf, sizeof(buf));
	assert_non_null(strstr(buf, "HTTP/1.1 404 Not Found\r\n"));
	assert_null(strstr(buf, "secret"));
	ts_close(&f->b.sock, fd);

	unlink(path);
	unlink(outside);
	snprintf(path, sizeof(path), "%s/hello.txt", dir);
	unlink(path);
	rmdir(dir);
}

static void test_echo_and_discard(void **state)
{
	struct fixture *f = *state;
	const size_t len = 300000;
	uint8_t *out = malloc(len), *in = malloc(len);
	bool eof;
	size_t i, n;
	int fd;

	assert_non_null(out);
	assert_non_null(in);
	for (i = 0; i < len; i++)
		out[i] = (uint8_t)(i * 13 + (i >> 11));
	fd = client_connect(f, 7);
	/* Send and read in turns: echo's bounded buffer pushes back when we do not read. */
	for (i = 0, n = 0; i < len || n < len;) {
		ssize_t k = i < len ? ts_send(&f->b.sock, fd, out + i, len - i, 0) : 0;

		if (k > 0)
			i += (size_t)k;
		k = ts_recv(&f->b.sock, fd, in + n, len - n, 0);
		if (k > 0)
			n += (size_t)k;
		assert_true(k != 0);
		round_run(f);
	}
	assert_memory_equal(in, out, len);
	/* Our FIN: echo sends its own once everything is echoed. */
	assert_int_equal(ts_shutdown(&f->b.sock, fd, SHUT_WR), 0);
	assert_int_equal(client_recv(f, fd, in, 1, &eof), 0);
	assert_true(eof);
	ts_close(&f->b.sock, fd);

	fd = client_connect(f, 9);
	client_send(f, fd, out, len);
	assert_int_equal(ts_shutdown(&f->b.sock, fd, SHUT_WR), 0);
	assert_int_equal(client_recv(f, fd, in, 1, &eof), 0); /* nothing back, then its FIN */
	assert_true(eof);
	ts_close(&f->b.sock, fd);
	assert_int_equal(accept_lines, 2);
	free(out);
	free(in);
}

/* RFC 862/863 over UDP: each datagram comes back whole to its sender (also an empty one and
 * one of 8000 bytes, fragmented both ways); the discard server, on the same number as the
 * TCP discard, answers nothing. */
static void test_udp_echo_and_discard(void **state)
{
	struct fixture *f = *state;
	static const size_t sizes[] = { 0, 1, 100, 1472, 1473, 8000 };
	static uint8_t out[8000], in[9000];
	struct sockaddr_in echo = { .sin_family = AF_INET, .sin_port = htons(7), .sin_addr.s_addr = htonl(SERVER_IP) };
	struct sockaddr_in from;
	int fd = ts_socket(&f->b.sock, AF_INET, SOCK_DGRAM, 0);

	assert_true(fd >= 0);
	for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
		for (size_t i = 0; i < sizes[k]; i++)
			out[i] = (uint8_t)(i * 7 + k);
		assert_int_equal(ts_sendto(&f->b.sock, fd, out, sizes[k], 0, &echo), (ssize_t)sizes[k]);
		ssize_t n = -EAGAIN;
		for (int i = 0; i < 1000 && n == -EAGAIN; i++) {
			round_run(f);
			n = ts_recvfrom(&f->b.sock, fd, in, sizeof(in), 0, &from);
		}
		assert_int_equal(n, (ssize_t)sizes[k]);
		assert_memory_equal(in, out, sizes[k]);
		assert_int_equal(ntohs(from.sin_port), 7);
	}
	struct sockaddr_in discard = echo;
	discard.sin_port = htons(9);
	uint64_t in_before = f->a.udp.cnt.InDatagrams;
	for (int k = 0; k < 5; k++)
		assert_int_equal(ts_sendto(&f->b.sock, fd, out, 100, 0, &discard), 100);
	for (int i = 0; i < 100; i++)
		round_run(f);
	assert_int_equal(f->a.udp.cnt.InDatagrams, in_before + 5);
	assert_int_equal(ts_recv(&f->b.sock, fd, in, sizeof(in), 0), -EAGAIN);
	assert_int_equal(f->b.ip.icmp_cnt.in_dest_unreachs, 0);
	ts_close(&f->b.sock, fd);
}

/* The stall listener: connections complete without accept() until the queue is full. */
static void test_stall_queue_fills(void **state)
{
	struct fixture *f = *state;
	struct sockaddr_in dst = { .sin_family = AF_INET, .sin_port = htons(8081),
				   .sin_addr.s_addr = htonl(SERVER_IP) };
	int fds[6], established = 0, i, r;

	for (i = 0; i < 6; i++) {
		fds[i] = ts_socket(&f->b.sock, AF_INET, SOCK_STREAM, 0);
		assert_true(fds[i] >= 0);
		r = ts_connect(&f->b.sock, fds[i], &dst);
		assert_true(r == 0 || r == -EINPROGRESS);
		for (r = 0; r < 100; r++)
			round_run(f);
	}
	for (i = 0; i < 6; i++)
		established += (ts_revents(&f->b.sock, fds[i]) & POLLOUT) != 0;
	/* Backlog 2: two queued connections, or three as Linux counts (backlog + 1). */
	assert_in_range(established, 2, 3);
	assert_true(f->a.tcp.ctr.ListenOverflows > 0);
	assert_int_equal(accept_lines, 0);
	for (i = 0; i < 6; i++)
		ts_close(&f->b.sock, fds[i]);
}

/* server.c's bound: at max_conns the listener leaves the server's readiness set, clients
 * wait in the accept queue; when one connection closes, the next is accepted. And collect()
 * hands the loop one entry, the set's descriptor, however many connections are open. */
static short bound_events(struct server *srv, struct conn *c)
{
	(void)srv;
	(void)c;
	return POLLIN;
}

static void bound_ready(struct server *srv, struct conn *c, short revents)
{
	char buf[64];
	ssize_t n = net_recv(srv->net, c->fd, buf, sizeof(buf));

	(void)revents;
	if (n == 0 || (n < 0 && n != -EAGAIN))
		server_conn_close(srv, c);
}

static const struct server_ops bound_ops = {
	.conn_size = sizeof(struct conn),
	.events = bound_events,
	.ready = bound_ready,
};

/* One round of the program's loop for srv; returns how many entries collect() gave. */
static int bound_round(struct fixture *f, struct server *srv)
{
	struct pollfd fds[8];
	int n;

	f->now += USEC_PER_MS;
	ts_stack_poll(&f->a, f->now);
	ts_stack_poll(&f->b, f->now);
	n = server_collect(srv, fds, 8);
	ts_poll(&f->a.sock, fds, (nfds_t)n);
	server_dispatch(srv, fds, n);
	ts_stack_poll(&f->a, f->now);
	ts_stack_poll(&f->b, f->now);
	return n;
}

/* A client connection to srv (port 5000), after 50 rounds: the handshake is complete (the
 * stack does it, accept() or not), and srv had its chance to accept it. */
static int bound_connect(struct fixture *f, struct server *srv)
{
	struct sockaddr_in dst = { .sin_family = AF_INET, .sin_port = htons(5000),
				   .sin_addr.s_addr = htonl(SERVER_IP) };
	int fd = ts_socket(&f->b.sock, AF_INET, SOCK_STREAM, 0);
	int r = ts_connect(&f->b.sock, fd, &dst);

	assert_true(r == 0 || r == -EINPROGRESS);
	for (r = 0; r < 50; r++)
		bound_round(f, srv);
	assert_true(ts_revents(&f->b.sock, fd) & POLLOUT);
	return fd;
}

static void test_server_bound_and_one_entry(void **state)
{
	struct fixture *f = *state;
	struct server srv;
	int fds[4], i, r;

	assert_int_equal(server_init(&srv, &f->net, "bound", 5000, 16, 3, &bound_ops), 0);
	for (i = 0; i < 4; i++)
		fds[i] = bound_connect(f, &srv);
	assert_int_equal(srv.nconns, 3);
	assert_int_equal(accept_lines, 3);

	/* One entry for the loop, whatever the number of connections; the listener is out of
	 * the set at the bound, every connection in it waiting for input. */
	assert_int_equal(bound_round(f, &srv), 1);
	assert_int_equal(srv.listen_watched, 0);
	for (i = 0; i < (int)srv.nconns; i++)
		assert_int_equal(srv.active[i]->watched, POLLIN);

	/* One client leaves: its connection closes and the fourth is accepted. */
	ts_close(&f->b.sock, fds[0]);
	for (r = 0; r < 100 && accept_lines < 4; r++)
		bound_round(f, &srv);
	assert_int_equal(accept_lines, 4);
	assert_int_equal(srv.nconns, 3);
	for (i = 1; i < 4; i++)
		ts_close(&f->b.sock, fds[i]);
	server_destroy(&srv);
}

/*
 * --limit-conn: with 2 per address, the third and fourth connections from the client are
 * closed as soon as they are accepted (counted, the listener still accepting: the others'
 * slots are free); when one of the two leaves, the next one from that address is served.
 */
static void test_server_limit_conn_per_peer(void **state)
{
	struct fixture *f = *state;
	struct server srv;
	char buf[16];
	bool eof;
	int fds[5], i, r;

	assert_int_equal(server_init(&srv, &f->net, "limited", 5000, 16, 8, &bound_ops), 0);
	assert_int_equal(server_set_limit_conn(&srv, 2), 0);
	for (i = 0; i < 4; i++)
		fds[i] = bound_connect(f, &srv);
	assert_int_equal(srv.nconns, 2);
	assert_int_equal(accept_lines, 2);
	assert_int_equal(srv.limit_conn_refused, 2);
	assert_int_equal(srv.listen_watched, POLLIN);  /* below max_conns: still accepting */
	for (i = 2; i < 4; i++) {
		assert_int_equal(client_recv(f, fds[i], buf, sizeof(buf), &eof), 0);
		assert_true(eof);
	}
	ts_close(&f->b.sock, fds[0]);
	for (r = 0; r < 100 && srv.nconns > 1; r++)
		bound_round(f, &srv);
	fds[4] = bound_connect(f, &srv);
	assert_int_equal(srv.nconns, 2);
	assert_int_equal(accept_lines, 3);
	assert_int_equal(srv.limit_conn_refused, 2);
	for (i = 1; i < 5; i++)
		ts_close(&f->b.sock, fds[i]);
	server_destroy(&srv);
}

/*
 * The per-address count itself, against a plain array: 20,000 random takes and puts over
 * 40 addresses that collide in a 64-slot table (max_conns 32), so removals shift runs back.
 */
static void test_server_peer_count_table(void **state)
{
	(void)state;
	struct server srv;
	uint32_t ref[40] = { 0 }, seed = 1;

	memset(&srv, 0, sizeof(srv));
	srv.max_conns = 32;
	assert_int_equal(server_set_limit_conn(&srv, 3), 0);
	assert_int_equal(srv.peers_mask, 63);
	for (int n = 0; n < 20000; n++) {
		seed = seed * 1103515245u + 12345u;
		uint32_t k = (seed >> 16) % 40, addr = htonl(0x0a000000u + 1 + k * 64);
		uint32_t open = 0;

		for (int j = 0; j < 40; j++)
			open += ref[j];
		if ((seed >> 8) & 1) {
			bool want = ref[k] < 3 && open < srv.max_conns;
			if (open >= srv.max_conns)
				continue; /* the server never accepts past max_conns */
			assert_int_equal(server_peer_take(&srv, addr), want);
			ref[k] += want;
		} else if (ref[k]) {
			server_peer_put(&srv, addr);
			ref[k]--;
		}
		for (uint32_t j = 0; j < 40; j++) {
			uint32_t a = htonl(0x0a000000u + 1 + j * 64), found = 0;
			for (uint32_t i = 0; i <= srv.peers_mask; i++)
				if (srv.peers[i].addr == a)
					found += srv.peers[i].conns;
			assert_int_equal(found, ref[j]);
		}
	}
	assert_int_equal(server_set_limit_conn(&srv, 0), 0);
	assert_null(srv.peers);
	assert_true(server_peer_take(&srv, htonl(0x0a000001u)));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_http_get_index, fixture_setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_http_conn_page, fixture_setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_http_pipelining, fixture_setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_http_heads_cut_by_full_buffers, fixture_setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_http_head_exact, fixture_setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_http_bytes_to_a_slow_reader, fixture_setup,
						fixture_teardown),
		cmocka_unit_test_setup_teardown(test_http_413_then_close, fixture_setup,
						fixture_teardown),
		cmocka_unit_test_setup_teardown(test_http_files, fixture_setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_echo_and_discard, fixture_setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_stall_queue_fills, fixture_setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_udp_echo_and_discard, fixture_setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_server_bound_and_one_entry, fixture_setup,
						fixture_teardown),
		cmocka_unit_test_setup_teardown(test_server_limit_conn_per_peer, fixture_setup,
						fixture_teardown),
		cmocka_unit_test(test_server_peer_count_table),
		cmocka_unit_test_setup_teardown(test_http_slowloris_header_deadline, fixture_setup,
						fixture_teardown),
		cmocka_unit_test_setup_teardown(test_http_slow_reader_not_cut_by_header_deadline,
						fixture_setup, fixture_teardown),
	};

	return cmocka_run_group_tests_name("apps", tests, NULL, NULL);
}
