/*
 * http_parse.h - the pure parts of the HTTP server: request-head parsing (RFC 9112),
 * routing of a request target, and the /bytes/N pattern.
 *
 * No sockets, no allocation, no state: apps/http.c calls these on the bytes it has
 * received, and tests/unit/test_http.c calls them on fixtures. The returned pointers point
 * into the caller's buffer.
 */
#ifndef TAPSTACK_APPS_HTTP_PARSE_H
#define TAPSTACK_APPS_HTTP_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A request head (request line + header fields + blank line) larger than this gets 413. */
#define HTTP_HEAD_MAX_BYTES 8192
/* Largest N served at /bytes/N: 1 TiB, far beyond any test, small enough to never overflow. */
#define HTTP_BYTES_MAX (1ULL << 40)
/* The /bytes pattern repeats every this many bytes (see http_bytes_at). */
#define HTTP_BYTES_PERIOD 65536u

enum http_method { HTTP_METHOD_GET, HTTP_METHOD_HEAD, HTTP_METHOD_OTHER };

enum http_parse_status {
	HTTP_PARSE_OK,          /* a whole request head: *req is filled */
	HTTP_PARSE_INCOMPLETE,  /* need more bytes */
	HTTP_PARSE_BAD,         /* malformed: answer 400 and close */
	HTTP_PARSE_TOO_LARGE,   /* head longer than HTTP_HEAD_MAX_BYTES: 413 and close */
	HTTP_PARSE_VERSION,     /* not HTTP/1.x: 505 and close */
};

struct http_request {
	enum http_method method;
	const char *method_str;  /* the method token as sent (for logs) */
	size_t method_len;
	const char *target;      /* request-target as sent, e.g. "/bytes/10?x=1" */
	size_t target_len;
	int version_minor;       /* HTTP/1.<minor>: 0 or 1 (1.2 and up count as 1) */
	bool keep_alive;         /* after the version's default and the Connection field */
	bool chunked;            /* a Transfer-Encoding field was present */
	uint64_t content_length; /* body bytes that follow the head (0 when absent) */
	size_t head_len;         /* bytes of the head, including leading empty lines */
};

/*
 * Parses the request head at the start of buf[0..len). On HTTP_PARSE_OK the head occupies
 * req->head_len bytes; the body (content_length bytes) and further pipelined requests
 * follow.
 */
enum http_parse_status http_parse_request(const char *buf, size_t len, struct http_request *req);

enum http_route {
	HTTP_ROUTE_INDEX,       /* "/": the built-in page, with the visitor's connection */
	HTTP_ROUTE_CONN,        /* "/conn": the visitor's connection as JSON */
	HTTP_ROUTE_BYTES,       /* "/bytes/N": *nbytes = N */
	HTTP_ROUTE_FILE,        /* a file: `path` holds the decoded path relative to the directory */
	HTTP_ROUTE_NOT_FOUND,   /* nothing can be there (bad /bytes/N, "..", %00, too long, ...) */
};

/*
 * Maps a request target to what serves it. The query ("?...") is ignored. For files the
 * percent-decoded path, without its leading '/', is written to path (NUL-terminated);
 * targets not starting with '/', with a ".." or "." segment, an encoded NUL or a bad
 * %-escape never reach the file system.
 */
enum http_route http_route_target(const char *target, size_t len, uint64_t *nbytes, char *path,
				  size_t path_size);

/*
 * The /bytes/N pattern: byte i of the body is (i * 7 + i / 256) mod 256. Within each
 * 256-byte block it steps by 7 (odd, so all 256 values appear), and each block starts one
 * higher than the last, so a lost, repeated or swapped block changes the bytes: a checker
 * finds errors that a constant or a plain counter would hide. Period: HTTP_BYTES_PERIOD.
 */
static inline uint8_t http_bytes_at(uint64_t i)
{
	return (uint8_t)(i * 7 + i / 256);
}

/* Writes bytes offset .. offset+len-1 of the pattern to dst. */
void http_bytes_fill(uint8_t *dst, uint64_t offset, size_t len);
/* Index (relative to buf) of the first byte that differs from the pattern at offset, or len. */
size_t http_bytes_check(const uint8_t *buf, uint64_t offset, size_t len);

#endif
