/*
 * fuzz_http_parse.c - libFuzzer target for the HTTP request parser and router
 * (apps/http_parse.c): any bytes as a request head, every prefix of it (as a slow client
 * delivers them), and the target it names through http_route_target(). The parser must never
 * read outside the buffer, must say INCOMPLETE for every proper prefix of a complete head,
 * and a routed path must never climb out of the served directory.
 */
#include <stdbool.h>
#include <string.h>

#include "apps/http_parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Whether a relative path has a ".." component (a name like "a..b" is fine). */
static bool climbs(const char *path)
{
	for (const char *c = path; *c; ) {
		size_t n = strcspn(c, "/");
		if (n == 2 && c[0] == '.' && c[1] == '.')
			return true;
		c += n;
		c += *c == '/';
	}
	return false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct http_request req;
	char path[1024];
	uint64_t n;

	if (size > HTTP_HEAD_MAX_BYTES + 16)
		size = HTTP_HEAD_MAX_BYTES + 16;
	enum http_parse_status st = http_parse_request((const char *)data, size, &req);
	if (st == HTTP_PARSE_OK) {
		if (req.head_len > size || req.target_len > size)
			__builtin_trap();
		/* A head is complete only with its last byte: no shorter prefix is. */
		if (req.head_len > 1 &&
		    http_parse_request((const char *)data, req.head_len - 1, &(struct http_request){ 0 }) == HTTP_PARSE_OK)
			__builtin_trap();
		if (http_route_target(req.target, req.target_len, &n, path, sizeof(path)) == HTTP_ROUTE_FILE &&
		    (path[0] == '/' || climbs(path)))
			__builtin_trap();
	}
	return 0;
}
