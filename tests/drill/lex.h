/*
 * lex.h - the scanner under the packetdrill script parser: a cursor over the text that
 * skips blanks and comments, counts lines, and reads the small tokens of the language
 * (numbers, times, identifiers, punctuation). The parser (parse.c) is context-driven, so
 * it asks for the token it expects next instead of reading a token stream: a packet's
 * flags word `S.`, a sequence range `1:1001(1000)` and a call's arguments need different
 * rules for the same characters.
 *
 * Errors: every read function returns false and leaves a message in lex->err (with the
 * line number) when the text does not hold what was asked for; nothing aborts.
 */
#ifndef TAPSTACK_TESTS_DRILL_LEX_H
#define TAPSTACK_TESTS_DRILL_LEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "script.h"

struct lex {
	const char *path;
	const char *p, *end;
	int line;
	int stmt_line;       /* where the statement being parsed began: errors at end of file name it */
	bool failed;
	char err[DRILL_ERR_MAX];
};

void lex_init(struct lex *lx, const char *path, const char *text, size_t len);

/* Records the first error ("path:LINE: message"); always returns false. */
bool lex_error(struct lex *lx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Skips spaces, tabs, newlines, `//` and `/ * * /` comments. False on an unterminated comment. */
bool lex_skip(struct lex *lx);
/* Skips spaces, tabs and comments but stops at a newline; true if the line has more. */
bool lex_skip_inline(struct lex *lx);

bool lex_at_end(struct lex *lx);
/* The next character after lex_skip() (0 at the end), without consuming it. */
char lex_peek(struct lex *lx);
/* True (and consumed) if the text continues with exactly s (after lex_skip). */
bool lex_accept(struct lex *lx, const char *s);
/* Like lex_accept, but an error naming `what` if s is not there. */
bool lex_expect(struct lex *lx, const char *s, const char *what);

/* An identifier [A-Za-z_][A-Za-z0-9_]* into buf; false (no error) if there is none. */
bool lex_ident(struct lex *lx, char *buf, size_t size);
/* A peek at the identifier that follows, without consuming it. */
bool lex_peek_ident(struct lex *lx, const char *word);

/* An unsigned integer, decimal or 0x hex, up to UINT32_MAX (checked). */
bool lex_u32(struct lex *lx, uint32_t *v, const char *what);
/* A signed 64-bit integer, decimal or 0x hex, optional leading '-'. */
bool lex_i64(struct lex *lx, int64_t *v, const char *what);
/* Seconds as `1`, `0.200`, `.1` into microseconds (at most 6 decimals, no rounding). */
bool lex_seconds(struct lex *lx, drill_usec *usec);
/* True if a number (digit, or '.' followed by a digit) starts here. */
bool lex_at_number(struct lex *lx);

/* Text up to (not including) the terminator `term`, which is consumed; counts newlines. */
bool lex_until(struct lex *lx, const char *term, char **out, const char *what);

#endif
