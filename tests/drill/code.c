/*
 * code.c - the evaluator of `%{ }%` blocks (see code.h): a recursive-descent parser that
 * evaluates as it goes, over 64-bit integers, written for the statements the corpus uses.
 *
 * Precedence, lowest first (Python's): or, and, not, comparison chains, |, &, << >>,
 * + -, * / // %, unary - +, atoms. A string literal is only allowed as (part of) an
 * assert's message, which is not evaluated unless it is a plain expression.
 */
#include "code.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CODE_DEPTH_MAX 64

void drill_code_set(struct drill_code_env *env, const char *name, int64_t value)
{
	for (size_t i = 0; i < env->n; i++)
		if (strcmp(env->v[i].name, name) == 0) {
			env->v[i].value = value;
			return;
		}
	if (env->n == DRILL_CODE_VARS_MAX || strlen(name) >= DRILL_CODE_NAME_MAX)
		return;
	snprintf(env->v[env->n].name, DRILL_CODE_NAME_MAX, "%s", name);
	env->v[env->n].value = value;
	env->n++;
}

bool drill_code_get(const struct drill_code_env *env, const char *name, int64_t *value)
{
	for (size_t i = 0; i < env->n; i++)
		if (strcmp(env->v[i].name, name) == 0) {
			*value = env->v[i].value;
			return true;
		}
	return false;
}

struct cx {
	struct drill_code_env *env;
	const char *p, *end;   /* the current statement */
	char *msg;
	size_t size;
	bool failed;
	int depth;
};

static bool cx_error(struct cx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static bool cx_error(struct cx *c, const char *fmt, ...)
{
	if (c->failed)
		return false;
	c->failed = true;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(c->msg, c->size, fmt, ap);
	va_end(ap);
	return false;
}

static void skip(struct cx *c)
{
	while (c->p < c->end && (*c->p == ' ' || *c->p == '\t' || *c->p == '\r'))
		c->p++;
}

static bool accept(struct cx *c, const char *tok)
{
	skip(c);
	size_t n = strlen(tok);
	if ((size_t)(c->end - c->p) < n || memcmp(c->p, tok, n) != 0)
		return false;
	/* A word must end there ("and" is not the start of "android"). */
	if (isalpha((unsigned char)tok[0]) && c->p + n < c->end && (isalnum((unsigned char)c->p[n]) || c->p[n] == '_'))
		return false;
	c->p += n;
	return true;
}

static bool ident(struct cx *c, char *buf, size_t size)
{
	skip(c);
	if (c->p >= c->end || !(isalpha((unsigned char)*c->p) || *c->p == '_'))
		return false;
	size_t n = 0;
	while (c->p + n < c->end && (isalnum((unsigned char)c->p[n]) || c->p[n] == '_'))
		n++;
	if (n + 1 > size) {
		cx_error(c, "name too long");
		return false;
	}
	memcpy(buf, c->p, n);
	buf[n] = 0;
	c->p += n;
	return true;
}

static bool expr(struct cx *c, int64_t *v);

static bool atom(struct cx *c, int64_t *v)
{
	char name[DRILL_CODE_NAME_MAX];
	skip(c);
	if (++c->depth > CODE_DEPTH_MAX)
		return cx_error(c, "expression nested too deeply");
	bool ok;
	if (accept(c, "(")) {
		ok = expr(c, v) && (accept(c, ")") || cx_error(c, "expected ')'"));
	} else if (c->p < c->end && isdigit((unsigned char)*c->p)) {
		char *e;
		unsigned long long x = strtoull(c->p, &e, 0);
		if (e > c->end)
			e = (char *)c->end;
		c->p = e;
		*v = (int64_t)x;
		ok = true;
	} else if (accept(c, "-")) {
		ok = atom(c, v);
		*v = -*v;
	} else if (accept(c, "+")) {
		ok = atom(c, v);
	} else if (ident(c, name, sizeof(name))) {
		if (strcmp(name, "True") == 0) {
			*v = 1;
			ok = true;
		} else if (strcmp(name, "False") == 0) {
			*v = 0;
			ok = true;
		} else {
			ok = drill_code_get(c->env, name, v) || cx_error(c, "name '%s' is not defined", name);
		}
	} else if (c->p < c->end && (*c->p == '\'' || *c->p == '"')) {
		ok = cx_error(c, "a string is only supported as an assert message");
	} else {
		ok = cx_error(c, "expected a number, a name or '(' at '%.10s'", c->p);
	}
	c->depth--;
	return ok && !c->failed;
}

static bool term(struct cx *c, int64_t *v)
{
	if (!atom(c, v))
		return false;
	for (;;) {
		int64_t r;
		if (accept(c, "//") || accept(c, "/")) {
			if (!atom(c, &r))
				return false;
			if (r == 0)
				return cx_error(c, "division by zero");
			*v /= r;
		} else if (accept(c, "*")) {
			if (!atom(c, &r))
				return false;
			*v *= r;
		} else if (accept(c, "%")) {
			if (!atom(c, &r))
				return false;
			if (r == 0)
				return cx_error(c, "modulo by zero");
			*v %= r;
		} else {
			return true;
		}
	}
}

static bool sum(struct cx *c, int64_t *v)
{
	if (!term(c, v))
		return false;
	for (;;) {
		int64_t r;
		if (accept(c, "+")) {
			if (!term(c, &r))
				return false;
			*v += r;
		} else if (c->p < c->end && (skip(c), c->p < c->end && *c->p == '-' && c->p[1] != '=') && accept(c, "-")) {
			if (!term(c, &r))
				return false;
			*v -= r;
		} else {
			return true;
		}
	}
}

static bool shift(struct cx *c, int64_t *v)
{
	if (!sum(c, v))
		return false;
	for (;;) {
		int64_t r;
		if (accept(c, "<<")) {
			if (!sum(c, &r))
				return false;
			*v = (int64_t)((uint64_t)*v << (r & 63));
		} else if (accept(c, ">>")) {
			if (!sum(c, &r))
				return false;
			*v >>= (r & 63);
		} else {
			return true;
		}
	}
}

static bool bitand(struct cx *c, int64_t *v)
{
	if (!shift(c, v))
		return false;
	int64_t r;
	while (accept(c, "&")) {
		if (!shift(c, &r))
			return false;
		*v &= r;
	}
	return true;
}

static bool bitor(struct cx *c, int64_t *v)
{
	if (!bitand(c, v))
		return false;
	int64_t r;
	while (accept(c, "|")) {
		if (!bitand(c, &r))
			return false;
		*v |= r;
	}
	return true;
}

/* a < b <= c: every adjacent pair must hold (Python's chained comparisons). */
static bool comparison(struct cx *c, int64_t *v)
{
	int64_t left;
	if (!bitor(c, &left))
		return false;
	bool all = true, any = false;
	for (;;) {
		int op;
		if (accept(c, "=="))
			op = 0;
		else if (accept(c, "!="))
			op = 1;
		else if (accept(c, "<="))
			op = 2;
		else if (accept(c, ">="))
			op = 3;
		else if (accept(c, "<"))
			op = 4;
		else if (accept(c, ">"))
			op = 5;
		else
			break;
		int64_t right;
		if (!bitor(c, &right))
			return false;
		bool r = op == 0 ? left == right : op == 1 ? left != right : op == 2 ? left <= right
		       : op == 3 ? left >= right : op == 4 ? left < right : left > right;
		all = all && r;
		any = true;
		left = right;
	}
	*v = any ? all : left;
	return true;
}

static bool not_expr(struct cx *c, int64_t *v)
{
	if (accept(c, "not")) {
		if (!not_expr(c, v))
			return false;
		*v = !*v;
		return true;
	}
	return comparison(c, v);
}

static bool and_expr(struct cx *c, int64_t *v)
{
	if (!not_expr(c, v))
		return false;
	int64_t r;
	while (accept(c, "and")) {
		if (!not_expr(c, &r))
			return false;
		*v = *v && r;
	}
	return true;
}

static bool expr(struct cx *c, int64_t *v)
{
	if (!and_expr(c, v))
		return false;
	int64_t r;
	while (accept(c, "or")) {
		if (!and_expr(c, &r))
			return false;
		*v = *v || r;
	}
	return true;
}

static bool at_end(struct cx *c)
{
	skip(c);
	return c->p >= c->end;
}

static bool statement(struct cx *c, void (*print)(void *, int64_t), void *arg, bool *assert_failed)
{
	char name[DRILL_CODE_NAME_MAX];
	int64_t v;
	const char *start = c->p;
	if (at_end(c))
		return true;
	if (accept(c, "assert")) {
		const char *cond = c->p;
		if (!expr(c, &v))
			return false;
		const char *cond_end = c->p;
		if (v)
			return at_end(c) || accept(c, ",") || cx_error(c, "unexpected text after the assert");
		/* Failed: say which condition and, when the message is an expression, its value. */
		*assert_failed = true;
		int len = (int)(cond_end - cond);
		while (len > 0 && cond[0] == ' ') {
			cond++;
			len--;
		}
		char extra[64] = "";
		if (accept(c, ",")) {
			struct cx m = *c;
			m.failed = false;
			int64_t mv;
			char dummy[8];
			m.msg = dummy;
			m.size = sizeof(dummy);
			if (expr(&m, &mv) && at_end(&m))
				snprintf(extra, sizeof(extra), ": %lld", (long long)mv);
		}
		snprintf(c->msg, c->size, "assert %.*s failed%s", len, cond, extra);
		return true;
	}
	if (accept(c, "print")) {
		if (!accept(c, "(") || !expr(c, &v) || !accept(c, ")"))
			return cx_error(c, "print(EXPR) expected");
		if (print)
			print(arg, v);
		return at_end(c) || cx_error(c, "unexpected text after print()");
	}
	if (ident(c, name, sizeof(name))) {
		int op = accept(c, "+=") ? 1 : accept(c, "-=") ? 2 : accept(c, "=") ? 0 : -1;
		if (op < 0) {
			c->p = start;
			return cx_error(c, "unsupported statement '%.20s'", start);
		}
		if (!expr(c, &v))
			return false;
		int64_t old = 0;
		if (op && !drill_code_get(c->env, name, &old))
			return cx_error(c, "name '%s' is not defined", name);
		drill_code_set(c->env, name, op == 1 ? old + v : op == 2 ? old - v : v);
		return at_end(c) || cx_error(c, "unexpected text after the assignment");
	}
	return cx_error(c, "unsupported statement '%.20s'", start);
}

enum drill_code_result drill_code_eval(struct drill_code_env *env, const char *text, char *msg, size_t size,
                                       void (*print)(void *arg, int64_t value), void *arg)
{
	/* Join '\' continuations, drop comments, then split at newlines and ';' outside strings. */
	size_t n = strlen(text);
	char *buf = malloc(n + 1);
	if (!buf) {
		snprintf(msg, size, "out of memory");
		return DRILL_CODE_ERROR;
	}
	size_t k = 0;
	char quote = 0;
	for (size_t i = 0; i < n; i++) {
		char ch = text[i];
		if (quote) {
			if (ch == quote)
				quote = 0;
			buf[k++] = ch == '\n' ? ' ' : ch;
			continue;
		}
		if (ch == '\'' || ch == '"') {
			quote = ch;
		} else if (ch == '\\' && i + 1 < n && text[i + 1] == '\n') {
			buf[k++] = ' ';
			i++;
			continue;
		} else if (ch == '#') {
			while (i < n && text[i] != '\n')
				i++;
			buf[k++] = '\n';
			continue;
		} else if (ch == ';') {
			ch = '\n';
		}
		buf[k++] = ch;
	}
	buf[k] = 0;
	enum drill_code_result res = DRILL_CODE_OK;
	const char *p = buf;
	while (*p && res == DRILL_CODE_OK) {
		const char *e = strchr(p, '\n');
		if (!e)
			e = p + strlen(p);
		struct cx c = {env, p, e, msg, size, false, 0};
		bool failed_assert = false;
		if (!statement(&c, print, arg, &failed_assert))
			res = DRILL_CODE_ERROR;
		else if (failed_assert)
			res = DRILL_CODE_ASSERT;
		p = *e ? e + 1 : e;
	}
	free(buf);
	return res;
}
