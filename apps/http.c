/*
 * http.c - a small HTTP/1.1 server (RFC 9110, 9112): GET and HEAD of a built-in index
 * page and /conn (the visitor's own connection, http_conn_page.c), of /bytes/N (N bytes of
 * a deterministic pattern, streamed) and of files from a directory. Keep-alive,
 * pipelining, Content-Length on every answer, 400/404/405/413/505.
 *
 * Written only against the socket shim (apps/net.h), so it runs on tapstack and, built
 * with -DNET_KERNEL, on the kernel's sockets. Parsing and routing are in http_parse.c.
 *
 * One connection is a small state machine driven by http_conn_run():
 *
 *   read request bytes -> parse a head -> build a response (head + body source)
 *        ^                                          |
 *        +---- next pipelined request <---- send until done (partial writes: wait POLLOUT)
 *
 * and, when the response says "Connection: close", shutdown(SHUT_WR) then read and
 * discard until the client closes (closing at once with unread input would send a RST
 * that can destroy the response in flight: RFC 9112 9.6). Nothing blocks, so a slow client
 * only ever waits for itself. Bounds: a request head is at most 8 KiB (the only per-
 * connection buffer, allocated while a request is incomplete); bodies are never buffered:
 * pattern bytes are sent straight from a 64 KiB table, a file's first bytes (beside the
 * head) are pread() into a shared scratch buffer and the rest go by sendfile from the
 * current offset, so a partial send just resumes there.
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "apps/http_conn_page.h"
#include "apps/http_parse.h"
#include "apps/server.h"
#include "apps/servers.h"
#include "core/spares.h"

#define HTTP_SCRATCH_BYTES (64 * 1024)
#define HTTP_RESP_HEAD_BYTES 320     /* our response heads are about 200 bytes */
#define HTTP_PATH_MAX 1024
/* Per wake-up and connection, so one greedy client cannot starve the others. */
#define HTTP_BUDGET_BYTES (1024 * 1024)
#define HTTP_BUDGET_REQUESTS 32
#define HTTP_IDLE_TIMEOUT_S 75       /* keep-alive between requests, as nginx's keepalive_timeout */
#define HTTP_HEADER_TIMEOUT_S 60     /* a whole request head, as nginx's client_header_timeout */
#define HTTP_SEND_TIMEOUT_S 60       /* between two writes the client lets through (send_timeout) */
#define HTTP_LINGER_TIMEOUT_S 5      /* after our FIN, waiting for the client's */

/* BODY_OWNED: like BODY_MEM, but malloc'd for this response and freed with it (/metrics). */
enum http_body { BODY_NONE, BODY_MEM, BODY_PATTERN, BODY_FILE, BODY_OWNED };

struct http_conn {
	struct conn base;
	char *in;                 /* HTTP_HEAD_MAX_BYTES while a request is incomplete, else NULL */
	time_t head_since;        /* when the request head being read began (accept, or its first
				   * byte); 0 between requests. Its deadline never moves. */
	uint64_t skip;            /* request body bytes still to read and ignore */
	/* The response head: h->head while it is built and sent in one run of the connection;
	 * when a send stops inside it, the rest is kept in a block of its own (http_head_keep),
	 * so an idle connection holds no head. NULL when none is being sent. */
	char *head;
	const char *mem;          /* BODY_MEM */
	uint64_t body_off, body_len;
	uint32_t in_len;
	int file_fd;              /* BODY_FILE */
	enum http_body body;
	uint16_t head_len, head_off;
	uint16_t status;          /* the response's status code (the access log's) */
	bool close_after;         /* the response being sent is the last one */
	bool lingering;           /* our FIN is out; reading until the client's */
	bool yielded;             /* used its budget with work left */
};

struct http {
	struct server srv;        /* first: server_create() makes and frees the whole struct */
	int dir_fd;               /* the served directory, or -1 */
	FILE *access_log;         /* one common-log-format line per response, or NULL */
	void (*metrics)(void *arg, FILE *out); /* GET /metrics writes Prometheus text, if set */
	void *metrics_arg;
	time_t fixed_sec;         /* fixed_fields are those of this second */
	char fixed_fields[80];    /* "Server: tapstack\r\nDate: ...\r\n" */
	size_t fixed_len;
	uint8_t pattern[HTTP_BYTES_PERIOD]; /* one period of the /bytes pattern */
	char head[HTTP_RESP_HEAD_BYTES];    /* the response head being built and sent */
	char scratch[HTTP_SCRATCH_BYTES];
	/* Request-head buffers idle connections gave back (core/spares.h): a keep-alive
	 * request takes one and gives it back when it is answered, with no malloc. */
	struct spares in_spares;
};

#define HTTP_ERROR_BODY(code, text) #code " " text "\n"

static struct http *http_of(struct server *srv)
{
	return CONTAINER_OF(srv, struct http, srv);
}

/*
 * The fields every answer carries that change at most once a second: Server, and Date
 * (RFC 9110 6.6.1: an origin server with a clock sends it). Built once a second, then
 * copied into each head as they are.
 */
static void http_fixed_fields_update(struct http *h)
{
	time_t now = time(NULL);
	char date[40];
	struct tm tm;
	int n;

	if (now == h->fixed_sec && h->fixed_len > 0)
		return;
	h->fixed_sec = now;
	gmtime_r(&now, &tm);
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S GMT", &tm);
	n = snprintf(h->fixed_fields, sizeof(h->fixed_fields), "Server: tapstack\r\nDate: %s\r\n",
		     date);
	h->fixed_len = n > 0 && (size_t)n < sizeof(h->fixed_fields) ? (size_t)n : 0;
}

static const char *http_content_type(const char *path)
{
	static const struct { const char *ext, *type; } types[] = {
		{ ".html", "text/html; charset=utf-8" }, { ".htm", "text/html; charset=utf-8" },
		{ ".txt", "text/plain; charset=utf-8" }, { ".md", "text/plain; charset=utf-8" },
		{ ".css", "text/css" }, { ".js", "text/javascript" }, { ".json", "application/json" },
		{ ".png", "image/png" }, { ".jpg", "image/jpeg" }, { ".svg", "image/svg+xml" },
	};
	const char *dot = strrchr(path, '.');
	size_t i;

	for (i = 0; dot && i < sizeof(types) / sizeof(types[0]); i++)
		if (strcmp(dot, types[i].ext) == 0)
			return types[i].type;
	return "application/octet-stream";
}

/*
 * A response head is assembled by appending pieces into c->head, not by one snprintf per
 * answer: this runs for every request, and formatting showed up in the keep-alive
 * profiles (docs/performance.md). A piece that does not fit marks the head as overflowed.
 */
struct http_head_out {
	char *buf;
	size_t len, cap;
	bool overflow;
};

static void http_head_put(struct http_head_out *o, const char *s, size_t n)
{
	if (n > o->cap - o->len) {
		o->overflow = true;
		return;
	}
	memcpy(o->buf + o->len, s, n);
	o->len += n;
}

/* A string literal: its length is known at compile time. */
#define HTTP_HEAD_PUT_LITERAL(o, lit) http_head_put((o), (lit), sizeof(lit) - 1)

static void http_head_put_str(struct http_head_out *o, const char *s)
{
	http_head_put(o, s, strlen(s));
}

/* v in decimal, as Content-Length wants it. */
static void http_head_put_u64(struct http_head_out *o, uint64_t v)
{
	char digits[20]; /* 2^64 - 1 has 20 */
	size_t i = sizeof(digits);

	do {
		digits[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v > 0);
	http_head_put(o, digits + i, sizeof(digits) - i);
}

/*
 * Fills c->head with the status line and fields; the body source is set by the caller:
 *
 *   HTTP/1.1 <status>\r\n  Server: tapstack\r\n  Date: <date>\r\n  Content-Type: <type>\r\n
 *   Content-Length: <length>\r\n  [extra]  Connection: close|keep-alive\r\n  \r\n
 */
static void http_set_head(struct http *h, struct http_conn *c, const char *status,
			  const char *type, uint64_t length, const char *extra)
{
	struct http_head_out o = { .buf = h->head, .cap = sizeof(h->head) };

	http_fixed_fields_update(h);
	HTTP_HEAD_PUT_LITERAL(&o, "HTTP/1.1 ");
	http_head_put_str(&o, status);
	HTTP_HEAD_PUT_LITERAL(&o, "\r\n");
	http_head_put(&o, h->fixed_fields, h->fixed_len);
	HTTP_HEAD_PUT_LITERAL(&o, "Content-Type: ");
	http_head_put_str(&o, type);
	HTTP_HEAD_PUT_LITERAL(&o, "\r\nContent-Length: ");
	http_head_put_u64(&o, length);
	HTTP_HEAD_PUT_LITERAL(&o, "\r\n");
	if (extra)
		http_head_put_str(&o, extra);
	if (c->close_after)
		HTTP_HEAD_PUT_LITERAL(&o, "Connection: close\r\n\r\n");
	else
		HTTP_HEAD_PUT_LITERAL(&o, "Connection: keep-alive\r\n\r\n");
	/* Cannot happen with our fixed strings; never send a truncated head. */
	c->head = h->head;
	c->head_len = o.overflow ? 0 : (uint16_t)o.len;
	c->head_off = 0;
	c->status = (uint16_t)atoi(status);
}

/* The head's unsent rest outlives this run of the connection (h->head is the next one's):
 * kept in a block of its own. false when memory runs out. */
static bool http_head_keep(struct http *h, struct http_conn *c)
{
	if (c->head != h->head || c->head_off >= c->head_len)
		return true;
	size_t n = (size_t)(c->head_len - c->head_off);
	char *own = malloc(n);
	if (!own)
		return false;
	memcpy(own, c->head + c->head_off, n);
	c->head = own;
	c->head_len = (uint16_t)n;
	c->head_off = 0;
	return true;
}

/* The head is sent: its own block, if it had one, goes. */
static void http_head_release(struct http *h, struct http_conn *c)
{
	if (c->head && c->head != h->head)
		free(c->head);
	c->head = NULL;
	c->head_len = c->head_off = 0;
}

static void http_error(struct http *h, struct http_conn *c, const char *status,
		       const char *body, const char *extra, bool head_only)
{
	http_set_head(h, c, status, "text/plain; charset=utf-8", strlen(body), extra);
	c->body = head_only ? BODY_NONE : BODY_MEM;
	c->mem = body;
	c->body_off = 0;
	c->body_len = head_only ? 0 : strlen(body);
}

/* Opens path below the served directory. RESOLVE_BENEATH makes the kernel refuse any
 * escape (a symlink pointing out, say) on top of the ".." checks of http_route_target. */
static int http_open_file(struct http *h, const char *path)
{
	struct open_how how = { .flags = O_RDONLY | O_CLOEXEC | O_NOCTTY,
				.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS };
	long fd = syscall(SYS_openat2, h->dir_fd, path, &how, sizeof(how));

	/* Kernels before 5.6: O_NOFOLLOW refuses a symlink only as the last component. */
	if (fd < 0 && errno == ENOSYS)
		fd = openat(h->dir_fd, path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW);
	return (int)fd;
}

/* What the body source holds: the file closed, an owned buffer freed. */
static void http_body_release(struct http_conn *c)
{
	if (c->body == BODY_FILE)
		close(c->file_fd);
	else if (c->body == BODY_OWNED)
		free((char *)c->mem);
	c->body = BODY_NONE;
}

/* GET /metrics (with --metrics): the stack's counters rendered now, owned by the response. */
static bool http_metrics_response(struct http *h, struct http_conn *c, const struct http_request *req)
{
	static const char path[] = "/metrics";
	const char *q = memchr(req->target, '?', req->target_len);
	size_t plen = q ? (size_t)(q - req->target) : req->target_len;
	if (!h->metrics || plen != sizeof(path) - 1 ||
	    memcmp(req->target, path, plen) != 0)
		return false;
	char *buf = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);
	if (!m)
		return false;
	h->metrics(h->metrics_arg, m);
	if (fclose(m) != 0) {
		free(buf);
		return false;
	}
	http_set_head(h, c, "200 OK", "text/plain; version=0.0.4; charset=utf-8", len, NULL);
	c->body = BODY_OWNED;
	c->mem = buf;
	c->body_len = len;
	return true;
}

/*
 * The index page or /conn for this connection: what the stack saw of its handshake and its
 * TCP_INFO (http_conn_page.c), rendered into a buffer the response owns (BODY_OWNED). False
 * when no memory is left for it.
 */
static bool http_conn_page(struct http *h, struct http_conn *c, bool json)
{
	struct http_conn_facts f;
	socklen_t len = sizeof(f.ti);

	memset(&f, 0, sizeof(f));
	f.client = c->base.peer;
	(void)net_getsockname(h->srv.net, c->base.fd, &f.server);
	f.have_hs = net_handshake(h->srv.net, c->base.fd, &f.hs) == 0;
	f.have_info = net_getsockopt(h->srv.net, c->base.fd, IPPROTO_TCP, TCP_INFO, &f.ti, &len) == 0;
	char *page = malloc(HTTP_CONN_PAGE_MAX);
	if (!page)
		return false;
	c->body_len = json ? http_conn_json(&f, page, HTTP_CONN_PAGE_MAX)
			   : http_conn_index_html(&f, page, HTTP_CONN_PAGE_MAX);
	c->body = BODY_OWNED;
	c->mem = page;
	return true;
}

/* Decides the response to one parsed request (or parse failure) and sets it up in c. */
static void http_respond(struct http *h, struct http_conn *c, enum http_parse_status st,
			 const struct http_request *req)
{
	char path[HTTP_PATH_MAX];
	enum http_route route;
	uint64_t n = 0;
	bool head_only;
	struct stat sb;
	int fd;

	c->body = BODY_NONE;
	c->body_off = c->body_len = 0;
	if (st != HTTP_PARSE_OK) {
		/* The framing is lost: answer and close (RFC 9112 section 2.2). */
		c->close_after = true;
		if (st == HTTP_PARSE_TOO_LARGE)
			http_error(h, c, "413 Content Too Large",
				   HTTP_ERROR_BODY(413, "Request head too large"), NULL, false);
		else if (st == HTTP_PARSE_VERSION)
			http_error(h, c, "505 HTTP Version Not Supported",
				   HTTP_ERROR_BODY(505, "HTTP Version Not Supported"), NULL, false);
		else
			http_error(h, c, "400 Bad Request", HTTP_ERROR_BODY(400, "Bad Request"), NULL,
				   false);
		return;
	}
	/* A chunked body cannot be skipped without decoding it: answer, then close. */
	c->close_after = !req->keep_alive || req->chunked;
	c->skip = req->content_length;
	head_only = req->method == HTTP_METHOD_HEAD;
	if (req->method == HTTP_METHOD_OTHER) {
		http_error(h, c, "405 Method Not Allowed", HTTP_ERROR_BODY(405, "Method Not Allowed"),
			   "Allow: GET, HEAD\r\n", false);
		return;
	}
	if (http_metrics_response(h, c, req)) {
		if (head_only)
			http_body_release(c);
		c->body_len = head_only ? 0 : c->body_len;
		return;
	}
	switch (route = http_route_target(req->target, req->target_len, &n, path, sizeof(path))) {
	case HTTP_ROUTE_INDEX:
	case HTTP_ROUTE_CONN:
		if (!http_conn_page(h, c, route == HTTP_ROUTE_CONN)) {
			http_error(h, c, "503 Service Unavailable", HTTP_ERROR_BODY(503, "Service Unavailable"),
				   NULL, head_only);
			return;
		}
		http_set_head(h, c, "200 OK",
			      route == HTTP_ROUTE_CONN ? "application/json" : "text/html; charset=utf-8",
			      c->body_len, NULL);
		break;
	case HTTP_ROUTE_BYTES:
		http_set_head(h, c, "200 OK", "application/octet-stream", n, NULL);
		c->body = BODY_PATTERN;
		c->body_len = n;
		break;
	case HTTP_ROUTE_FILE:
		fd = h->dir_fd >= 0 ? http_open_file(h, path) : -1;
		if (fd >= 0 && (fstat(fd, &sb) < 0 || !S_ISREG(sb.st_mode))) {
			close(fd);
			fd = -1;
		}
		if (fd < 0) {
			http_error(h, c, "404 Not Found", HTTP_ERROR_BODY(404, "Not Found"), NULL,
				   head_only);
			return;
		}
		http_set_head(h, c, "200 OK", http_content_type(path), (uint64_t)sb.st_size, NULL);
		c->body = BODY_FILE;
		c->file_fd = fd;
		c->body_len = (uint64_t)sb.st_size;
		break;
	case HTTP_ROUTE_NOT_FOUND:
		http_error(h, c, "404 Not Found", HTTP_ERROR_BODY(404, "Not Found"), NULL, head_only);
		return;
	}
	if (head_only) { /* RFC 9110 9.3.2: the same fields as GET, no content */
		http_body_release(c);
		c->body_len = 0;
	}
}

/* Copies s[0..n) into out (cap bytes) with '"', '\\' and bytes outside printable ASCII as
 * \xHH, so a client cannot forge log lines. */
static void http_log_escape(char *out, size_t cap, const char *s, size_t n)
{
	size_t o = 0;
	for (size_t i = 0; i < n && o + 5 < cap; i++) {
		unsigned char ch = (unsigned char)s[i];
		if (ch < 0x20 || ch > 0x7e || ch == '"' || ch == '\\')
			o += (size_t)snprintf(out + o, cap - o, "\\x%02x", ch);
		else
			out[o++] = (char)ch;
	}
	out[o] = '\0';
}

/*
 * The common log format, as Apache and nginx write it:
 *   10.0.0.1 - - [02/Dec/2026:16:05:44 +0000] "GET /bytes/10 HTTP/1.1" 200 10
 * req is NULL for a request that did not parse ("-" then, as Apache logs a bad line).
 */
static void http_access_log(struct http *h, const struct http_conn *c, const struct http_request *req)
{
	char host[INET_ADDRSTRLEN], when[40], method[24], target[256];
	time_t now = time(NULL);
	struct tm tm;
	inet_ntop(AF_INET, &c->base.peer.sin_addr, host, sizeof(host));
	localtime_r(&now, &tm);
	strftime(when, sizeof(when), "%d/%b/%Y:%H:%M:%S %z", &tm);
	int status = c->status;
	if (req) {
		http_log_escape(method, sizeof(method), req->method_str, req->method_len);
		http_log_escape(target, sizeof(target), req->target, req->target_len);
		fprintf(h->access_log, "%s - - [%s] \"%s %s HTTP/1.%d\" %d ", host, when, method, target,
			req->version_minor, status);
	} else {
		fprintf(h->access_log, "%s - - [%s] \"-\" %d ", host, when, status);
	}
	if (c->body_len)
		fprintf(h->access_log, "%llu\n", (unsigned long long)c->body_len);
	else
		fputs("-\n", h->access_log);
	fflush(h->access_log);
}

/*
 * Up to `room` body bytes at the current offset: returns a pointer to them (into the
 * pattern table, the static page, or scratch after a pread) and their count; 0 when the
 * file cannot be read (it shrank under us: the promised length can no longer be kept).
 */
static size_t http_body_view(struct http *h, struct http_conn *c, char *scratch, size_t room,
			     const void **out)
{
	uint64_t left = c->body_len - c->body_off;
	size_t n = left < room ? (size_t)left : room;
	ssize_t got;

	switch (c->body) {
	case BODY_MEM:
	case BODY_OWNED:
		*out = c->mem + c->body_off;
		return n;
	case BODY_PATTERN: {
		size_t at = (size_t)(c->body_off % HTTP_BYTES_PERIOD);

		if (n > HTTP_BYTES_PERIOD - at)
			n = HTTP_BYTES_PERIOD - at;
		*out = h->pattern + at;
		return n;
	}
	case BODY_FILE:
		got = pread(c->file_fd, scratch, n, (off_t)c->body_off);
		*out = scratch;
		return got > 0 ? (size_t)got : 0;
	case BODY_NONE:
		break;
	}
	return 0;
}

/* Sends what is left of the response. 1: all sent; 0: would block or out of budget; -1: failed. */
static int http_send_response(struct http *h, struct http_conn *c, size_t *budget)
{
	while (c->head_off < c->head_len || c->body_off < c->body_len) {
		const void *p;
		size_t n, hn;
		ssize_t sent;

		if (*budget == 0) {
			c->yielded = true;
			return 0;
		}
		hn = (size_t)(c->head_len - c->head_off);
		if (hn > 0) {
			/* Head and the first body bytes in one send: one segment for small answers. */
			const void *b = NULL;
			size_t bn = c->body_off < c->body_len
					    ? http_body_view(h, c, h->scratch + hn,
							     sizeof(h->scratch) - hn, &b)
					    : 0;

			if (b && b != h->scratch + hn)
				memcpy(h->scratch + hn, b, bn);
			memcpy(h->scratch, c->head + c->head_off, hn);
			p = h->scratch;
			n = hn + bn;
			sent = net_send(h->srv.net, c->base.fd, p, n);
		} else if (c->body == BODY_FILE) {
			/* The rest of a file goes from the page cache into the socket's send queue in
			 * one copy (sendfile; on tapstack ts_sendfile's pread into the ring). 0: the
			 * file shrank under us and the promised length cannot be kept. */
			uint64_t left = c->body_len - c->body_off;
			n = left < *budget ? (size_t)left : *budget;
			sent = net_sendfile(h->srv.net, c->base.fd, c->file_fd, c->body_off, n);
		} else {
			n = http_body_view(h, c, h->scratch, sizeof(h->scratch), &p);
			if (n == 0)
				return -1;
			sent = net_send(h->srv.net, c->base.fd, p, n);
		}
		if (sent == -EAGAIN)
			return 0;
		if (sent <= 0)
			return -1;
		if ((size_t)sent < hn) {
			c->head_off += (uint16_t)sent;
		} else {
			c->head_off = c->head_len;
			c->body_off += (uint64_t)sent - hn;
		}
		*budget = (size_t)sent >= *budget ? 0 : *budget - (size_t)sent;
	}
	http_body_release(c);
	http_head_release(h, c);
	return 1;
}

/* Drops a parsed request's n bytes; what follows (pipelined) is the next head, begun now. */
static void http_consume(struct http_conn *c, size_t n, time_t now)
{
	memmove(c->in, c->in + n, c->in_len - n);
	c->in_len -= (uint32_t)n;
	c->head_since = c->in_len > 0 ? now : 0;
}

/*
 * When the server gives up on c, decided after each run. Slowloris (one header byte every
 * few seconds on thousands of connections) works against a server whose deadline moves with
 * every byte; so, as nginx's client_header_timeout, a request head must be complete within
 * HTTP_HEADER_TIMEOUT_S of its start, however it trickles in. Sending may take as long as
 * the client keeps reading (each write that goes through gives HTTP_SEND_TIMEOUT_S more),
 * a body to skip likewise, and an idle keep-alive connection has HTTP_IDLE_TIMEOUT_S.
 */
static void http_conn_set_deadline(struct server *srv, struct http_conn *c)
{
	if (c->lingering) /* a lingering connection keeps its short deadline */
		return;
	if (c->head_off < c->head_len || c->body_off < c->body_len)
		c->base.deadline = srv->now + HTTP_SEND_TIMEOUT_S;
	else if (c->skip > 0)
		c->base.deadline = srv->now + HTTP_IDLE_TIMEOUT_S;
	else if (c->head_since)
		c->base.deadline = c->head_since + HTTP_HEADER_TIMEOUT_S;
	else
		c->base.deadline = srv->now + HTTP_IDLE_TIMEOUT_S;
}

/* Runs the connection as far as it can go without blocking. Returns -1 when it closed it. */
static int http_conn_run_once(struct http *h, struct http_conn *c)
{
	struct server *srv = &h->srv;
	size_t budget = HTTP_BUDGET_BYTES;
	int requests = HTTP_BUDGET_REQUESTS;
	struct http_request req;
	ssize_t n;

	c->yielded = false;
	for (;;) {
		int rc = http_send_response(h, c, &budget);

		if (rc < 0)
			goto close;
		if (rc == 0)
			return 0;
		if (c->lingering)
			break;
		if (c->close_after) {
			/* Our FIN after the last response; then drain until the client's FIN. */
			net_shutdown(srv->net, c->base.fd, SHUT_WR);
			c->lingering = true;
			c->base.deadline = srv->now + HTTP_LINGER_TIMEOUT_S;
			spares_give(&h->in_spares, c->in, HTTP_HEAD_MAX_BYTES);
			c->in = NULL;
			c->in_len = 0;
			break;
		}
		if (c->skip > 0 && c->in_len > 0) {
			size_t k = c->skip < c->in_len ? (size_t)c->skip : c->in_len;

			http_consume(c, k, srv->now);
			c->skip -= k;
		}
		if (c->skip == 0 && c->in_len > 0) {
			enum http_parse_status st = http_parse_request(c->in, c->in_len, &req);

			if (st != HTTP_PARSE_INCOMPLETE) {
				if (requests-- == 0) {
					c->yielded = true;
					return 0;
				}
				http_respond(h, c, st, &req);
				if (h->access_log)
					http_access_log(h, c, st == HTTP_PARSE_OK ? &req : NULL);
				http_consume(c, st == HTTP_PARSE_OK ? req.head_len : c->in_len, srv->now);
				continue;
			}
		}
		/* Need more input: a body to skip goes to scratch, a head to c->in. Reading
		 * counts against the budget too, or a client streaming a huge body to skip would
		 * keep us here as long as it likes. */
		if (budget == 0) {
			c->yielded = true;
			return 0;
		}
		if (c->skip > 0) {
			size_t want = c->skip < sizeof(h->scratch) ? (size_t)c->skip : sizeof(h->scratch);

			n = net_recv(srv->net, c->base.fd, h->scratch, want);
			if (n > 0)
				c->skip -= (uint64_t)n;
		} else {
			if (!c->in && !(c->in = spares_take(&h->in_spares, HTTP_HEAD_MAX_BYTES)))
				goto close;
			n = net_recv(srv->net, c->base.fd, c->in + c->in_len,
				     HTTP_HEAD_MAX_BYTES - c->in_len);
			if (n > 0 && !c->head_since)
				c->head_since = srv->now;
			if (n > 0)
				c->in_len += (uint32_t)n;
		}
		if (n == -EAGAIN) {
			if (c->in_len == 0) { /* idle keep-alive connections hold no buffer */
				spares_give(&h->in_spares, c->in, HTTP_HEAD_MAX_BYTES);
				c->in = NULL;
			}
			return 0;
		}
		if (n <= 0) /* the client closed (mid-request or between requests) or failed */
			goto close;
		budget = (size_t)n >= budget ? 0 : budget - (size_t)n;
	}
	/* Lingering: read and drop until end of stream (POLLIN brings us back for more). */
	while (budget > 0) {
		n = net_recv(srv->net, c->base.fd, h->scratch, sizeof(h->scratch));
		if (n == -EAGAIN)
			return 0;
		if (n <= 0)
			goto close;
		budget = (size_t)n >= budget ? 0 : budget - (size_t)n;
	}
	return 0;
close:
	server_conn_close(srv, &c->base);
	return -1;
}

/* http_conn_run_once, then the unsent rest of a head moves out of the shared buffer, which
 * the next connection's run writes (http_head_keep). */
static int http_conn_run(struct http *h, struct http_conn *c)
{
	int rc = http_conn_run_once(h, c);
	if (rc == 0 && !http_head_keep(h, c)) {
		server_conn_close(&h->srv, &c->base);
		return -1;
	}
	return rc;
}

static short http_events(struct server *srv, struct conn *base)
{
	struct http_conn *c = (struct http_conn *)base;

	(void)srv;
	if (c->yielded || c->head_off < c->head_len || c->body_off < c->body_len)
		return POLLOUT;
	return POLLIN;
}

static void http_ready(struct server *srv, struct conn *base, short revents)
{
	(void)revents; /* errors and hang-ups show up as failed or empty reads and sends */
	if (http_conn_run(http_of(srv), (struct http_conn *)base) == 0)
		http_conn_set_deadline(srv, (struct http_conn *)base);
}

static void http_opened(struct server *srv, struct conn *base)
{
	struct http_conn *c = (struct http_conn *)base;

	c->file_fd = -1;
	c->head_since = srv->now; /* the first request's head is due from accept on */
	http_conn_set_deadline(srv, c);
}

static void http_closed(struct server *srv, struct conn *base)
{
	struct http_conn *c = (struct http_conn *)base;

	http_body_release(c);
	http_head_release(http_of(srv), c);
	spares_give(&http_of(srv)->in_spares, c->in, HTTP_HEAD_MAX_BYTES);
}

/* The app stops: connections and listener are closed already; server.c frees h. */
static void http_stop(struct server *srv)
{
	struct http *h = http_of(srv);

	if (h->dir_fd >= 0)
		close(h->dir_fd);
	spares_drain(&h->in_spares);
}

static const struct server_ops http_ops = {
	.conn_size = sizeof(struct http_conn),
	.opened = http_opened,
	.events = http_events,
	.ready = http_ready,
	.closed = http_closed,
	.stop = http_stop,
};

struct app *http_app_create(struct net *net, uint16_t port, const char *dir, int backlog)
{
	int dir_fd = -1;
	struct app *app;
	struct http *h;

	/* The directory first, so a bad one fails before anything listens. */
	if (dir) {
		dir_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (dir_fd < 0) {
			app_log("http: cannot open directory %s: %s", dir, strerror(errno));
			return NULL;
		}
	}
	app = server_create(sizeof(*h), net, "http", port, backlog, APP_MAX_CONNS_DEFAULT,
			    &http_ops);
	if (!app) {
		if (dir_fd >= 0)
			close(dir_fd);
		return NULL;
	}
	h = app->state;
	h->dir_fd = dir_fd;
	http_bytes_fill(h->pattern, 0, sizeof(h->pattern));
	spares_init(&h->in_spares, HTTP_HEAD_MAX_BYTES, SPARES_MAX);
	return app;
}

void http_app_set_access_log(struct app *app, FILE *f)
{
	((struct http *)app->state)->access_log = f;
}

void http_app_set_metrics(struct app *app, void (*render)(void *arg, FILE *out), void *arg)
{
	struct http *h = app->state;
	h->metrics = render;
	h->metrics_arg = arg;
}
