/*
 * http_parse.c - HTTP/1.1 request heads (RFC 9112), request-target routing and the
 * /bytes/N pattern. See http_parse.h for the contract.
 *
 * Called by apps/http.c for every request and by tests/unit/test_http.c. Stateless: the
 * caller keeps the bytes and calls again with more when the head is incomplete (heads are
 * at most 8 KiB, so rescanning from the start costs little).
 *
 * Strictness, and why: the server must find the end of each request exactly to serve
 * pipelined requests, so anything that could make two parsers disagree about framing
 * (whitespace before a colon, folded lines, conflicting Content-Length, Content-Length
 * with Transfer-Encoding, bare CR) is a 400 (RFC 9112 sections 5.1, 5.2, 6.3, 2.2).
 */
#include "apps/http_parse.h"

#include <string.h>

/* RFC 9110 5.6.2: tchar, the characters of a token (method, field name). */
static bool http_is_tchar(unsigned char ch)
{
	if ((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z'))
		return true;
	return ch != 0 && strchr("!#$%&'*+-.^_`|~", ch) != NULL;
}

static unsigned char http_lower(unsigned char ch)
{
	return ch >= 'A' && ch <= 'Z' ? (unsigned char)(ch + 32) : ch;
}

static bool http_token_eq(const char *s, size_t len, const char *lit)
{
	size_t i;

	if (strlen(lit) != len)
		return false;
	for (i = 0; i < len; i++)
		if (http_lower((unsigned char)s[i]) != (unsigned char)lit[i])
			return false;
	return true;
}

/*
 * One line of the head starting at p (before end): sets *line_len (without CRLF or LF)
 * and returns the start of the next line, or NULL for a bare CR (RFC 9112 2.2: a bare CR
 * must be rejected or replaced; we reject).
 */
static const char *http_next_line(const char *p, const char *end, size_t *line_len)
{
	const char *nl = memchr(p, '\n', (size_t)(end - p));
	const char *cr;
	size_t n;

	/* The caller only passes heads that end in a newline. */
	n = (size_t)(nl - p);
	if (n > 0 && p[n - 1] == '\r')
		n--;
	cr = memchr(p, '\r', n);
	if (cr)
		return NULL;
	*line_len = n;
	return nl + 1;
}

/* "Connection: close, Upgrade": a comma-separated list of tokens (RFC 9110 7.6.1). */
static void http_parse_connection(const char *v, size_t len, bool *close, bool *keep)
{
	size_t i = 0;

	while (i < len) {
		size_t start, end;

		while (i < len && (v[i] == ' ' || v[i] == '\t' || v[i] == ','))
			i++;
		start = i;
		while (i < len && v[i] != ',')
			i++;
		end = i;
		while (end > start && (v[end - 1] == ' ' || v[end - 1] == '\t'))
			end--;
		if (http_token_eq(v + start, end - start, "close"))
			*close = true;
		else if (http_token_eq(v + start, end - start, "keep-alive"))
			*keep = true;
	}
}

/* Content-Length = 1*DIGIT (RFC 9110 8.6). Returns false when malformed or absurd. */
static bool http_parse_length(const char *v, size_t len, uint64_t *out)
{
	uint64_t n = 0;
	size_t i;

	if (len == 0 || len > 18) /* 18 digits cannot overflow 64 bits */
		return false;
	for (i = 0; i < len; i++) {
		if (v[i] < '0' || v[i] > '9')
			return false;
		n = n * 10 + (uint64_t)(v[i] - '0');
	}
	*out = n;
	return true;
}

/* "METHOD SP request-target SP HTTP/x.y" (RFC 9112 3). */
static enum http_parse_status http_parse_request_line(const char *p, size_t len,
						      struct http_request *req)
{
	const char *end = p + len;
	const char *sp1, *sp2, *v;
	size_t i;

	sp1 = memchr(p, ' ', len);
	if (!sp1 || sp1 == p)
		return HTTP_PARSE_BAD;
	for (i = 0; p + i < sp1; i++)
		if (!http_is_tchar((unsigned char)p[i]))
			return HTTP_PARSE_BAD;
	req->method_str = p;
	req->method_len = (size_t)(sp1 - p);
	if (req->method_len == 3 && memcmp(p, "GET", 3) == 0) /* methods are case-sensitive */
		req->method = HTTP_METHOD_GET;
	else if (req->method_len == 4 && memcmp(p, "HEAD", 4) == 0)
		req->method = HTTP_METHOD_HEAD;
	else
		req->method = HTTP_METHOD_OTHER;

	sp2 = memchr(sp1 + 1, ' ', (size_t)(end - sp1 - 1));
	if (!sp2 || sp2 == sp1 + 1)
		return HTTP_PARSE_BAD;
	for (v = sp1 + 1; v < sp2; v++)
		if ((unsigned char)*v <= 0x20 || (unsigned char)*v >= 0x7f)
			return HTTP_PARSE_BAD;
	req->target = sp1 + 1;
	req->target_len = (size_t)(sp2 - sp1 - 1);

	v = sp2 + 1;
	if (end - v != 8 || memcmp(v, "HTTP/", 5) != 0 || v[5] < '0' || v[5] > '9' ||
	    v[6] != '.' || v[7] < '0' || v[7] > '9')
		return HTTP_PARSE_BAD;
	if (v[5] != '1')
		return HTTP_PARSE_VERSION;
	req->version_minor = v[7] == '0' ? 0 : 1;
	return HTTP_PARSE_OK;
}

enum http_parse_status http_parse_request(const char *buf, size_t len, struct http_request *req)
{
	const char *p = buf, *end, *head_end = NULL, *line;
	enum http_parse_status st;
	bool conn_close = false, conn_keep = false, have_length = false;
	unsigned hosts = 0;
	size_t n, i;

	memset(req, 0, sizeof(*req));
	/* RFC 9112 2.2: ignore empty lines before the request line (old clients send them). */
	while (p < buf + len && (*p == '\r' || *p == '\n')) {
		if (*p == '\r' && (p + 1 >= buf + len || p[1] != '\n'))
			break;
		p += *p == '\r' ? 2 : 1;
	}
	/* The head ends at the first empty line: "\n\r\n" or "\n\n". */
	for (i = (size_t)(p - buf); i < len; i++) {
		if (buf[i] != '\n')
			continue;
		if (i + 1 < len && buf[i + 1] == '\n') {
			head_end = buf + i + 2;
			break;
		}
		if (i + 2 < len && buf[i + 1] == '\r' && buf[i + 2] == '\n') {
			head_end = buf + i + 3;
			break;
		}
	}
	if (!head_end)
		return len >= HTTP_HEAD_MAX_BYTES ? HTTP_PARSE_TOO_LARGE : HTTP_PARSE_INCOMPLETE;
	if ((size_t)(head_end - buf) > HTTP_HEAD_MAX_BYTES)
		return HTTP_PARSE_TOO_LARGE;
	end = head_end;

	line = p;
	p = http_next_line(line, end, &n);
	if (!p)
		return HTTP_PARSE_BAD;
	st = http_parse_request_line(line, n, req);
	if (st != HTTP_PARSE_OK)
		return st;

	/* Header fields: "name: OWS value OWS" until the empty line (RFC 9112 5). */
	for (;;) {
		const char *colon, *v, *ve;

		line = p;
		p = http_next_line(line, end, &n);
		if (!p)
			return HTTP_PARSE_BAD;
		if (n == 0)
			break;
		if (line[0] == ' ' || line[0] == '\t')
			return HTTP_PARSE_BAD; /* obs-fold: RFC 9112 5.2 allows rejecting it */
		colon = memchr(line, ':', n);
		if (!colon || colon == line)
			return HTTP_PARSE_BAD;
		for (v = line; v < colon; v++)
			if (!http_is_tchar((unsigned char)*v))
				return HTTP_PARSE_BAD; /* includes space before ':' (RFC 9112 5.1) */
		v = colon + 1;
		ve = line + n;
		while (v < ve && (*v == ' ' || *v == '\t'))
			v++;
		while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t'))
			ve--;
		for (i = 0; v + i < ve; i++)
			if ((unsigned char)v[i] < 0x20 && v[i] != '\t')
				return HTTP_PARSE_BAD; /* NUL and other controls */

		if (http_token_eq(line, (size_t)(colon - line), "host")) {
			hosts++;
		} else if (http_token_eq(line, (size_t)(colon - line), "connection")) {
			http_parse_connection(v, (size_t)(ve - v), &conn_close, &conn_keep);
		} else if (http_token_eq(line, (size_t)(colon - line), "content-length")) {
			uint64_t cl;

			/* RFC 9110 8.6: a repeated field must agree, else the framing is unknown. */
			if (!http_parse_length(v, (size_t)(ve - v), &cl) ||
			    (have_length && cl != req->content_length))
				return HTTP_PARSE_BAD;
			req->content_length = cl;
			have_length = true;
		} else if (http_token_eq(line, (size_t)(colon - line), "transfer-encoding")) {
			req->chunked = true;
		}
	}
	/* RFC 9112 6.1: both at once is a smuggling attempt or a broken client. */
	if (req->chunked && have_length)
		return HTTP_PARSE_BAD;
	/* RFC 9112 3.2: HTTP/1.1 requests carry exactly one Host (1.0 ones need not). */
	if ((req->version_minor == 1 && hosts != 1) || hosts > 1)
		return HTTP_PARSE_BAD;
	/* RFC 9112 9.3: 1.1 persists unless "close"; 1.0 only with "keep-alive". */
	req->keep_alive = !conn_close && (req->version_minor == 1 || conn_keep);
	req->head_len = (size_t)(head_end - buf);
	return HTTP_PARSE_OK;
}

static int http_hex(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

/* "/bytes/N": N is 1 to 13 decimal digits (13 suffice for HTTP_BYTES_MAX), at most the max. */
static bool http_parse_bytes(const char *s, size_t len, uint64_t *out)
{
	uint64_t n = 0;
	size_t i;

	if (len == 0 || len > 13)
		return false;
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		n = n * 10 + (uint64_t)(s[i] - '0');
	}
	if (n > HTTP_BYTES_MAX)
		return false;
	*out = n;
	return true;
}

enum http_route http_route_target(const char *target, size_t len, uint64_t *nbytes, char *path,
				  size_t path_size)
{
	const char *q = memchr(target, '?', len);
	size_t i, o = 0, seg;

	if (q)
		len = (size_t)(q - target);
	if (len == 0 || target[0] != '/' || path_size == 0)
		return HTTP_ROUTE_NOT_FOUND;
	if (len == 1)
		return HTTP_ROUTE_INDEX;
	if (len == 5 && memcmp(target, "/conn", 5) == 0)
		return HTTP_ROUTE_CONN;
	if (len > 7 && memcmp(target, "/bytes/", 7) == 0)
		return http_parse_bytes(target + 7, len - 7, nbytes) ? HTTP_ROUTE_BYTES
								     : HTTP_ROUTE_NOT_FOUND;

	/* Decode %XX into path (without the leading '/'), checking each segment as it ends:
	 * decoding first and checking after is what stops "%2e%2e" as well as "..". */
	seg = 0;
	for (i = 1; i <= len; i++) {
		char ch;

		if (i == len || target[i] == '/') {
			size_t slen = o - seg;

			/* ".", ".." climb; an empty segment ("//etc") would make the path
			 * absolute, and openat() ignores its directory for absolute paths. */
			if ((slen == 1 && path[seg] == '.') ||
			    (slen == 2 && path[seg] == '.' && path[seg + 1] == '.') ||
			    (slen == 0 && i < len))
				return HTTP_ROUTE_NOT_FOUND;
			if (i == len)
				break;
			ch = '/';
		} else if (target[i] == '%') {
			int hi = i + 2 < len ? http_hex(target[i + 1]) : -1;
			int lo = i + 2 < len ? http_hex(target[i + 2]) : -1;

			/* An encoded NUL would cut the path short; an encoded '/' would hide a
			 * segment boundary from the check above. */
			if (hi < 0 || lo < 0 || (hi == 0 && lo == 0) || (hi == 2 && lo == 15))
				return HTTP_ROUTE_NOT_FOUND;
			ch = (char)(hi * 16 + lo);
			i += 2;
		} else {
			ch = target[i];
		}
		if (o + 1 >= path_size)
			return HTTP_ROUTE_NOT_FOUND;
		path[o++] = ch;
		if (ch == '/')
			seg = o;
	}
	path[o] = '\0';
	/* An empty path or one ending in '/' names a directory: nothing to serve there. */
	if (o == 0 || path[o - 1] == '/')
		return HTTP_ROUTE_NOT_FOUND;
	return HTTP_ROUTE_FILE;
}

void http_bytes_fill(uint8_t *dst, uint64_t offset, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		dst[i] = http_bytes_at(offset + i);
}

size_t http_bytes_check(const uint8_t *buf, uint64_t offset, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (buf[i] != http_bytes_at(offset + i))
			return i;
	return len;
}
