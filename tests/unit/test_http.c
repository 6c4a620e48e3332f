/*
 * test_http.c - the HTTP request parser, the target router and the /bytes pattern of the
 * demo server (apps/http_parse.c), on fixed byte strings. No sockets.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "apps/http_parse.h"

static enum http_parse_status parse(const char *s, struct http_request *req)
{
	return http_parse_request(s, strlen(s), req);
}

static void test_parse_get(void **state)
{
	const char *s = "GET /bytes/10?x=1 HTTP/1.1\r\nHost: 10.0.0.2\r\nUser-Agent: t\r\n\r\nGET /";
	struct http_request req;

	(void)state;
	assert_int_equal(parse(s, &req), HTTP_PARSE_OK);
	assert_int_equal(req.method, HTTP_METHOD_GET);
	assert_int_equal(req.target_len, strlen("/bytes/10?x=1"));
	assert_memory_equal(req.target, "/bytes/10?x=1", req.target_len);
	assert_int_equal(req.version_minor, 1);
	assert_true(req.keep_alive);
	assert_false(req.chunked);
	assert_int_equal(req.content_length, 0);
	/* The next pipelined request starts right after the head. */
	assert_int_equal(req.head_len, strlen(s) - strlen("GET /"));
}

static void test_parse_head_and_other_methods(void **state)
{
	struct http_request req;

	(void)state;
	assert_int_equal(parse("HEAD / HTTP/1.1\r\nHost: a\r\n\r\n", &req), HTTP_PARSE_OK);
	assert_int_equal(req.method, HTTP_METHOD_HEAD);
	assert_int_equal(parse("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello", &req),
			 HTTP_PARSE_OK);
	assert_int_equal(req.method, HTTP_METHOD_OTHER);
	assert_int_equal(req.content_length, 5);
	/* Methods are case-sensitive (RFC 9110 9.1): "get" is some other method. */
	assert_int_equal(parse("get / HTTP/1.1\r\nHost: a\r\n\r\n", &req), HTTP_PARSE_OK);
	assert_int_equal(req.method, HTTP_METHOD_OTHER);
}

static void test_parse_incomplete(void **state)
{
	const char *s = "GET / HTTP/1.1\r\nHost: a\r\n\r\n";
	struct http_request req;
	size_t n;

	(void)state;
	/* Every proper prefix is incomplete, never an error: the rest may still come. */
	for (n = 0; n < strlen(s); n++)
		assert_int_equal(http_parse_request(s, n, &req), HTTP_PARSE_INCOMPLETE);
	assert_int_equal(http_parse_request(s, n, &req), HTTP_PARSE_OK);
	/* Empty lines before a request are skipped (RFC 9112 2.2), so they are incomplete too. */
	assert_int_equal(parse("\r\n\r\n", &req), HTTP_PARSE_INCOMPLETE);
}

static void test_parse_keep_alive_rules(void **state)
{
	struct http_request req;

	(void)state;
	assert_int_equal(parse("GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n", &req),
			 HTTP_PARSE_OK);
	assert_false(req.keep_alive);
	assert_int_equal(parse("GET / HTTP/1.1\r\nHost: a\r\nconnection: Upgrade, CLOSE\r\n\r\n", &req),
			 HTTP_PARSE_OK);
	assert_false(req.keep_alive);
	/* HTTP/1.0: close unless asked (ab -k sends "Connection: Keep-Alive"). */
	assert_int_equal(parse("GET / HTTP/1.0\r\n\r\n", &req), HTTP_PARSE_OK);
	assert_int_equal(req.version_minor, 0);
	assert_false(req.keep_alive);
	assert_int_equal(parse("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", &req),
			 HTTP_PARSE_OK);
	assert_true(req.keep_alive);
}

static void test_parse_bare_lf_and_leading_empty_lines(void **state)
{
	struct http_request req;

	(void)state;
	assert_int_equal(parse("\r\n\nGET / HTTP/1.1\nHost: a\n\n", &req), HTTP_PARSE_OK);
	assert_int_equal(req.method, HTTP_METHOD_GET);
	assert_int_equal(req.head_len, strlen("\r\n\nGET / HTTP/1.1\nHost: a\n\n"));
}

static void test_parse_malformed(void **state)
{
	static const char *const bad[] = {
		"GET  / HTTP/1.1\r\nHost: a\r\n\r\n",          /* two spaces */
		"GET /\r\nHost: a\r\n\r\n",                     /* HTTP/0.9 form */
		"GET / HTTP/1.1 \r\nHost: a\r\n\r\n",           /* trailing space */
		"GET / HTTP/1.10\r\nHost: a\r\n\r\n",
		"GET / http/1.1\r\nHost: a\r\n\r\n",
		"G(T / HTTP/1.1\r\nHost: a\r\n\r\n",            /* not a token */
		"GET /a\x01 HTTP/1.1\r\nHost: a\r\n\r\n",       /* control in target */
		"GET / HTTP/1.1\r\nHost : a\r\n\r\n",           /* space before colon */
		"GET / HTTP/1.1\r\nHost: a\r\nNoColon\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: a\r\n folded\r\n\r\n", /* obs-fold */
		"GET / HTTP/1.1\r\nHost: a\rX: b\r\n\r\n",      /* bare CR */
		"GET / HTTP/1.1\r\n\r\n",                       /* 1.1 without Host */
		"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 1x\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: a\r\nX: a\x01z\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: a\r\n: no-name\r\n\r\n",
	};
	struct http_request req;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		print_message("case %zu\n", i);
		assert_int_equal(parse(bad[i], &req), HTTP_PARSE_BAD);
	}
}

static void test_parse_version(void **state)
{
	struct http_request req;

	(void)state;
	assert_int_equal(parse("GET / HTTP/2.0\r\nHost: a\r\n\r\n", &req), HTTP_PARSE_VERSION);
	assert_int_equal(parse("GET / HTTP/1.2\r\nHost: a\r\n\r\n", &req), HTTP_PARSE_OK);
	assert_int_equal(req.version_minor, 1);
}

static void test_parse_too_large(void **state)
{
	static char big[HTTP_HEAD_MAX_BYTES + 64];
	struct http_request req;
	size_t n;

	(void)state;
	n = (size_t)snprintf(big, sizeof(big), "GET / HTTP/1.1\r\nHost: a\r\nX: ");
	memset(big + n, 'x', sizeof(big) - n);
	/* No end of head within the limit: 413 as soon as the limit is reached. */
	assert_int_equal(http_parse_request(big, HTTP_HEAD_MAX_BYTES - 1, &req), HTTP_PARSE_INCOMPLETE);
	assert_int_equal(http_parse_request(big, HTTP_HEAD_MAX_BYTES, &req), HTTP_PARSE_TOO_LARGE);
	/* A head that does end, but beyond the limit, is too large too. */
	memcpy(big + HTTP_HEAD_MAX_BYTES, "\r\n\r\n", 4);
	assert_int_equal(http_parse_request(big, HTTP_HEAD_MAX_BYTES + 4, &req), HTTP_PARSE_TOO_LARGE);
	/* Exactly at the limit is fine. */
	memcpy(big + HTTP_HEAD_MAX_BYTES - 4, "\r\n\r\n", 4);
	assert_int_equal(http_parse_request(big, HTTP_HEAD_MAX_BYTES, &req), HTTP_PARSE_OK);
	assert_int_equal(req.head_len, HTTP_HEAD_MAX_BYTES);
}

static enum http_route route(const char *t, uint64_t *n, char *path)
{
	return http_route_target(t, strlen(t), n, path, 64);
}

static void test_route(void **state)
{
	char path[64];
	uint64_t n = 0;

	(void)state;
	assert_int_equal(route("/", &n, path), HTTP_ROUTE_INDEX);
	assert_int_equal(route("/?q", &n, path), HTTP_ROUTE_INDEX);
	assert_int_equal(route("/bytes/1048576", &n, path), HTTP_ROUTE_BYTES);
	assert_int_equal(n, 1048576);
	assert_int_equal(route("/bytes/0", &n, path), HTTP_ROUTE_BYTES);
	assert_int_equal(n, 0);
	assert_int_equal(route("/bytes/1099511627776", &n, path), HTTP_ROUTE_BYTES);
	assert_int_equal(n, HTTP_BYTES_MAX);
	assert_int_equal(route("/bytes/1099511627777", &n, path), HTTP_ROUTE_NOT_FOUND);
	assert_int_equal(route("/bytes/99999999999999999999", &n, path), HTTP_ROUTE_NOT_FOUND);
	assert_int_equal(route("/bytes/", &n, path), HTTP_ROUTE_NOT_FOUND);
	assert_int_equal(route("/bytes/-1", &n, path), HTTP_ROUTE_NOT_FOUND);
	assert_int_equal(route("/bytes/1k", &n, path), HTTP_ROUTE_NOT_FOUND);

	assert_int_equal(route("/docs/a%20b.txt?v=2", &n, path), HTTP_ROUTE_FILE);
	assert_string_equal(path, "docs/a b.txt");
	assert_int_equal(route("/.hidden", &n, path), HTTP_ROUTE_FILE);
	assert_string_equal(path, ".hidden");
}

static void test_route_rejects_escapes(void **state)
{
	static const char *const bad[] = {
		"/..", "/../etc/passwd", "/a/../../etc/passwd", "/a/..", "/%2e%2e/etc/passwd",
		"/.%2E/x", "/a/%2E%2e", "//etc/passwd", "/a//b", "/a%2f..%2fb", "/a%00.txt",
		"/a%zz", "/a%4", "/./a", "/dir/", "etc/passwd", "*", "http://x/y",
	};
	char path[64];
	uint64_t n;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		print_message("case %s\n", bad[i]);
		assert_int_equal(route(bad[i], &n, path), HTTP_ROUTE_NOT_FOUND);
	}
	/* A path longer than the buffer is not found, not truncated. */
	assert_int_equal(http_route_target("/abcdefgh", 9, &n, path, 8), HTTP_ROUTE_NOT_FOUND);
	assert_int_equal(http_route_target("/abcdefg", 8, &n, path, 8), HTTP_ROUTE_FILE);
}

static void test_bytes_pattern(void **state)
{
	static uint8_t buf[3 * HTTP_BYTES_PERIOD];
	uint64_t off = 1000000007ULL;

	(void)state;
	/* The documented formula, by hand: byte 0 = 0, 1 = 7, 255 = 1785 & 255 = 249,
	 * 256 = 1792/256 -> 0 + 1 = 1, 300 = (2100 + 1) & 255 = 53. */
	assert_int_equal(http_bytes_at(0), 0);
	assert_int_equal(http_bytes_at(1), 7);
	assert_int_equal(http_bytes_at(255), 249);
	assert_int_equal(http_bytes_at(256), 1);
	assert_int_equal(http_bytes_at(300), 53);
	/* The period the server's table relies on. */
	assert_int_equal(http_bytes_at(12345 + HTTP_BYTES_PERIOD), http_bytes_at(12345));
	assert_int_equal(http_bytes_at((1ULL << 40) - 1), http_bytes_at(HTTP_BYTES_PERIOD - 1));

	http_bytes_fill(buf, off, sizeof(buf));
	assert_int_equal(http_bytes_check(buf, off, sizeof(buf)), sizeof(buf));
	/* The checker finds a flipped byte, a wrong offset and a repeated block. */
	buf[4242] ^= 1;
	assert_int_equal(http_bytes_check(buf, off, sizeof(buf)), 4242);
	buf[4242] ^= 1;
	assert_int_equal(http_bytes_check(buf, off + 1, sizeof(buf)), 0);
	assert_true(http_bytes_check(buf + 256, off, sizeof(buf) - 256) < 256);
	assert_int_equal(http_bytes_check(buf + HTTP_BYTES_PERIOD, off, HTTP_BYTES_PERIOD),
			 HTTP_BYTES_PERIOD); /* ...but not a whole period: lengths catch that */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_get),
		cmocka_unit_test(test_parse_head_and_other_methods),
		cmocka_unit_test(test_parse_incomplete),
		cmocka_unit_test(test_parse_keep_alive_rules),
		cmocka_unit_test(test_parse_bare_lf_and_leading_empty_lines),
		cmocka_unit_test(test_parse_malformed),
		cmocka_unit_test(test_parse_version),
		cmocka_unit_test(test_parse_too_large),
		cmocka_unit_test(test_route),
		cmocka_unit_test(test_route_rejects_escapes),
		cmocka_unit_test(test_bytes_pattern),
	};

	return cmocka_run_group_tests_name("http", tests, NULL, NULL);
}
