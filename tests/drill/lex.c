/*
 * lex.c - the scanner of the packetdrill script language (see lex.h).
 *
 * Comments are `//` to the end of the line and `/ * ... * /` blocks, allowed anywhere
 * whitespace is. Numbers are parsed by hand so times become exact microseconds (`0.011`
 * is 11000, not 10999 after a float conversion) and so `0...0.2` splits into `0`, `...`,
 * `0.2`: a '.' is a decimal point only when a digit, not another '.', follows.
 */
#include "lex.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void lex_init(struct lex *lx, const char *path, const char *text, size_t len)
{
	memset(lx, 0, sizeof(*lx));
	lx->path = path;
	lx->p = text;
	lx->end = text + len;
	lx->line = 1;
}

bool lex_error(struct lex *lx, const char *fmt, ...)
{
	if (lx->failed)
		return false;
	lx->failed = true;
	/* At the end of the file the current line is past the statement that is unfinished. */
	int line = lx->p >= lx->end && lx->stmt_line > 0 ? lx->stmt_line : lx->line;
	int n = snprintf(lx->err, sizeof(lx->err), "%s:%d: ", lx->path, line);
	if (n < 0 || (size_t)n >= sizeof(lx->err))
		return false;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(lx->err + n, sizeof(lx->err) - (size_t)n, fmt, ap);
	va_end(ap);
	return false;
}

static bool lex_skip_comment(struct lex *lx)
{
	if (lx->p + 1 < lx->end && lx->p[0] == '/' && lx->p[1] == '/') {
		while (lx->p < lx->end && *lx->p != '\n')
			lx->p++;
		return true;
	}
	if (lx->p + 1 < lx->end && lx->p[0] == '/' && lx->p[1] == '*') {
		int start = lx->line;
		lx->p += 2;
		while (lx->p + 1 < lx->end && !(lx->p[0] == '*' && lx->p[1] == '/')) {
			if (*lx->p == '\n')
				lx->line++;
			lx->p++;
		}
		if (lx->p + 1 >= lx->end) {
			lx->line = lx->stmt_line = start;
			lx->p = lx->end;
			return lex_error(lx, "unterminated /* comment");
		}
		lx->p += 2;
		return true;
	}
	return false;
}

bool lex_skip(struct lex *lx)
{
	while (lx->p < lx->end) {
		char c = *lx->p;
		if (c == '\n') {
			lx->line++;
			lx->p++;
		} else if (c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v') {
			lx->p++;
		} else if (c == '/' && lx->p + 1 < lx->end && (lx->p[1] == '/' || lx->p[1] == '*')) {
			if (!lex_skip_comment(lx) && lx->failed)
				return false;
		} else {
			break;
		}
	}
	return !lx->failed;
}

bool lex_skip_inline(struct lex *lx)
{
	while (lx->p < lx->end) {
		char c = *lx->p;
		if (c == ' ' || c == '\t' || c == '\r') {
			lx->p++;
		} else if (c == '/' && lx->p + 1 < lx->end && lx->p[1] == '/') {
			lex_skip_comment(lx);
		} else if (c == '/' && lx->p + 1 < lx->end && lx->p[1] == '*') {
			if (!lex_skip_comment(lx) && lx->failed)
				return false;
		} else {
			return c != '\n';
		}
	}
	return false;
}

bool lex_at_end(struct lex *lx)
{
	lex_skip(lx);
	return lx->p >= lx->end;
}

char lex_peek(struct lex *lx)
{
	lex_skip(lx);
	return lx->p < lx->end ? *lx->p : 0;
}

bool lex_accept(struct lex *lx, const char *s)
{
	lex_skip(lx);
	size_t n = strlen(s);
	if ((size_t)(lx->end - lx->p) < n || memcmp(lx->p, s, n) != 0)
		return false;
	lx->p += n;
	return true;
}

static void lex_describe_next(struct lex *lx, char *buf, size_t size)
{
	if (lx->p >= lx->end) {
		snprintf(buf, size, "end of file");
		return;
	}
	size_t n = 0;
	while (lx->p + n < lx->end && n < 16 && lx->p[n] != '\n')
		n++;
	snprintf(buf, size, "'%.*s'", (int)n, lx->p);
}

bool lex_expect(struct lex *lx, const char *s, const char *what)
{
	if (lex_accept(lx, s))
		return true;
	char got[40];
	lex_describe_next(lx, got, sizeof(got));
	return lex_error(lx, "expected %s ('%s') but found %s", what, s, got);
}

static bool is_ident_start(char c)
{
	return isalpha((unsigned char)c) || c == '_';
}

static bool is_ident_char(char c)
{
	return isalnum((unsigned char)c) || c == '_';
}

bool lex_ident(struct lex *lx, char *buf, size_t size)
{
	lex_skip(lx);
	if (lx->p >= lx->end || !is_ident_start(*lx->p))
		return false;
	size_t n = 0;
	while (lx->p + n < lx->end && is_ident_char(lx->p[n]))
		n++;
	if (n + 1 > size) {
		lex_error(lx, "identifier too long (%zu characters)", n);
		return false;
	}
	memcpy(buf, lx->p, n);
	buf[n] = 0;
	lx->p += n;
	return true;
}

bool lex_peek_ident(struct lex *lx, const char *word)
{
	lex_skip(lx);
	size_t n = strlen(word);
	return (size_t)(lx->end - lx->p) >= n && memcmp(lx->p, word, n) == 0 &&
	       (lx->p + n == lx->end || !is_ident_char(lx->p[n]));
}

bool lex_at_number(struct lex *lx)
{
	lex_skip(lx);
	if (lx->p >= lx->end)
		return false;
	if (isdigit((unsigned char)*lx->p))
		return true;
	return *lx->p == '.' && lx->p + 1 < lx->end && isdigit((unsigned char)lx->p[1]);
}

/* Digits (or hex digits after 0x) into an unsigned 64-bit value with overflow check. */
static bool lex_digits(struct lex *lx, uint64_t *v, const char *what)
{
	uint64_t x = 0;
	int base = 10;
	if (lx->p + 1 < lx->end && lx->p[0] == '0' && (lx->p[1] == 'x' || lx->p[1] == 'X')) {
		base = 16;
		lx->p += 2;
	}
	const char *start = lx->p;
	while (lx->p < lx->end && (base == 16 ? isxdigit((unsigned char)*lx->p) : isdigit((unsigned char)*lx->p))) {
		char c = *lx->p;
		unsigned d = isdigit((unsigned char)c) ? (unsigned)(c - '0') : (unsigned)(tolower((unsigned char)c) - 'a' + 10);
		if (x > (UINT64_MAX - d) / (uint64_t)base)
			return lex_error(lx, "%s is too large", what);
		x = x * (uint64_t)base + d;
		lx->p++;
	}
	if (lx->p == start) {
		char got[40];
		lex_describe_next(lx, got, sizeof(got));
		return lex_error(lx, "expected %s (a number) but found %s", what, got);
	}
	if (lx->p < lx->end && is_ident_char(*lx->p)) {
		char got[40];
		lex_describe_next(lx, got, sizeof(got));
		return lex_error(lx, "malformed %s near %s", what, got);
	}
	*v = x;
	return true;
}

bool lex_u32(struct lex *lx, uint32_t *v, const char *what)
{
	lex_skip(lx);
	uint64_t x;
	if (!lex_digits(lx, &x, what))
		return false;
	if (x > UINT32_MAX)
		return lex_error(lx, "%s %llu does not fit in 32 bits", what, (unsigned long long)x);
	*v = (uint32_t)x;
	return true;
}

bool lex_i64(struct lex *lx, int64_t *v, const char *what)
{
	lex_skip(lx);
	bool neg = false;
	if (lx->p < lx->end && *lx->p == '-') {
		neg = true;
		lx->p++;
	}
	uint64_t x;
	if (!lex_digits(lx, &x, what))
		return false;
	if (x > (uint64_t)INT64_MAX)
		return lex_error(lx, "%s is too large", what);
	*v = neg ? -(int64_t)x : (int64_t)x;
	return true;
}

bool lex_seconds(struct lex *lx, drill_usec *usec)
{
	lex_skip(lx);
	if (!lex_at_number(lx)) {
		char got[40];
		lex_describe_next(lx, got, sizeof(got));
		return lex_error(lx, "expected a time in seconds but found %s", got);
	}
	uint64_t sec = 0;
	while (lx->p < lx->end && isdigit((unsigned char)*lx->p)) {
		if (sec > 1000000)
			return lex_error(lx, "time is too large");
		sec = sec * 10 + (uint64_t)(*lx->p - '0');
		lx->p++;
	}
	uint64_t frac = 0;
	int digits = 0;
	/* A '.' is a decimal point only when a digit follows ("0...0.2" is a range). */
	if (lx->p + 1 < lx->end && *lx->p == '.' && isdigit((unsigned char)lx->p[1])) {
		lx->p++;
		while (lx->p < lx->end && isdigit((unsigned char)*lx->p)) {
			if (digits == 6)
				return lex_error(lx, "time has more than 6 decimals (microseconds)");
			frac = frac * 10 + (uint64_t)(*lx->p - '0');
			digits++;
			lx->p++;
		}
	} else if (lx->p + 1 < lx->end && *lx->p == '.' && lx->p[1] != '.') {
		lx->p++; /* "1." */
	}
	while (digits < 6) {
		frac *= 10;
		digits++;
	}
	if (lx->p < lx->end && is_ident_char(*lx->p))
		return lex_error(lx, "malformed time near '%c'", *lx->p);
	*usec = (drill_usec)(sec * 1000000 + frac);
	return true;
}

bool lex_until(struct lex *lx, const char *term, char **out, const char *what)
{
	size_t n = strlen(term);
	int start_line = lx->line;
	const char *s = lx->p;
	while (lx->p < lx->end) {
		if ((size_t)(lx->end - lx->p) >= n && memcmp(lx->p, term, n) == 0) {
			size_t len = (size_t)(lx->p - s);
			char *t = malloc(len + 1);
			if (!t)
				return lex_error(lx, "out of memory");
			memcpy(t, s, len);
			t[len] = 0;
			lx->p += n;
			*out = t;
			return true;
		}
		if (*lx->p == '\n')
			lx->line++;
		lx->p++;
	}
	lx->line = lx->stmt_line = start_line;
	return lex_error(lx, "unterminated %s (no closing '%s')", what, term);
}
