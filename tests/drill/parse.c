/*
 * parse.c - the packetdrill script parser: text -> struct drill_script (script.h).
 *
 * Grammar, written from the language description (SYNTAX.md next to the corpus):
 *
 *   script   := { option | `command` | event }
 *   option   := --name[=value]                    (before the first event)
 *   event    := time action                       (an action ends its line)
 *   time     := '*' | ['+'] secs [ '...' secs | '~' ['+'] secs ]
 *   action   := packet | call | `command` | %{ code }%
 *   packet   := ('<'|'>') [icmp] flags start:end(len) [ack N] [win N] [urg N] [<options>]
 *   icmp     := 'icmp' type code ['mtu' N] '[' start:end(len) ']'
 *   options  := '<' ( '...' | opt {',' opt} ) '>'
 *   opt      := nop | eol | mss N | wscale N | sackOK | TS val N ecr N | sack {a:b}
 *   call     := name '(' [expr {',' expr}] ')' '=' result
 *   expr     := primary {'|' primary}
 *   primary  := '...' | N | NULL | "str" | [exprs] | {exprs} | name['(' expr ')']['=' expr]
 *   result   := ('...' | N) [ERRNO] ['(' note ')']
 *
 * Each event is parsed by one function; every failure path ends in lex_error() with the
 * line, so a malformed script gives "file:LINE: what was expected and what was found".
 * Recursion depth of expressions is bounded (DRILL_EXPR_DEPTH_MAX) so hostile input cannot
 * exhaust the stack.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lex.h"
#include "script.h"
#include "wire/tcp.h"

#define DRILL_EXPR_DEPTH_MAX 32
#define DRILL_NAME_MAX 64

/* ---- freeing ---- */

static void expr_free(struct drill_expr *e)
{
	if (!e)
		return;
	free(e->name);
	expr_free(e->lhs);
	expr_free(e->rhs);
	for (size_t i = 0; i < e->nitems; i++)
		expr_free(e->items[i]);
	free(e->items);
	free(e);
}

static void event_free(struct drill_event *ev)
{
	free(ev->text);
	free(ev->call.name);
	for (size_t i = 0; i < ev->call.nargs; i++)
		expr_free(ev->call.args[i]);
	free(ev->call.args);
	expr_free(ev->call.result);
	free(ev->call.errno_name);
	free(ev->call.note);
}

void drill_script_free(struct drill_script *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->nevents; i++)
		event_free(&s->events[i]);
	free(s->events);
	for (size_t i = 0; i < s->noptions; i++) {
		free(s->options[i].name);
		free(s->options[i].value);
	}
	free(s->options);
	free(s->path);
	free(s);
}

/* ---- helpers ---- */

static char *xstrdup(struct lex *lx, const char *s)
{
	char *t = strdup(s);
	if (!t)
		lex_error(lx, "out of memory");
	return t;
}

static struct drill_expr *expr_new(struct lex *lx, enum drill_expr_kind kind)
{
	struct drill_expr *e = calloc(1, sizeof(*e));
	if (!e) {
		lex_error(lx, "out of memory");
		return NULL;
	}
	e->kind = kind;
	return e;
}

static bool expr_push(struct lex *lx, struct drill_expr *list, struct drill_expr *item)
{
	struct drill_expr **n = realloc(list->items, (list->nitems + 1) * sizeof(*n));
	if (!n) {
		expr_free(item);
		return lex_error(lx, "out of memory");
	}
	list->items = n;
	list->items[list->nitems++] = item;
	return true;
}

/* After an event: nothing but blanks or a comment may follow on its last line. */
static bool parse_end_of_line(struct lex *lx, const char *what)
{
	if (lx->failed)
		return false;
	if (lex_skip_inline(lx)) {
		char got[24];
		size_t n = 0;
		while (lx->p + n < lx->end && n < 20 && lx->p[n] != '\n')
			n++;
		snprintf(got, sizeof(got), "%.*s", (int)n, lx->p);
		return lex_error(lx, "unexpected '%s' after the %s", got, what);
	}
	return !lx->failed;
}

/* ---- time ---- */

static bool parse_time(struct lex *lx, struct drill_time *t)
{
	memset(t, 0, sizeof(*t));
	if (lex_accept(lx, "*")) {
		t->kind = DRILL_TIME_ANY;
		return true;
	}
	t->kind = lex_accept(lx, "+") ? DRILL_TIME_REL : DRILL_TIME_ABS;
	if (!lex_seconds(lx, &t->start))
		return false;
	/* The range marker must follow the number directly ("+0...0.2", "+.3~+.303"). */
	if (lx->p + 3 <= lx->end && memcmp(lx->p, "...", 3) == 0) {
		lx->p += 3;
		t->form = DRILL_TIME_BLOCKING;
		if (!lex_seconds(lx, &t->end))
			return false;
	} else if (lx->p < lx->end && *lx->p == '~') {
		lx->p++;
		t->form = DRILL_TIME_WINDOW;
		bool rel = lex_accept(lx, "+");
		if (rel != (t->kind == DRILL_TIME_REL))
			return lex_error(lx, "both ends of a time window must be relative (+) or both absolute");
		if (!lex_seconds(lx, &t->end))
			return false;
	}
	if (t->form != DRILL_TIME_POINT && t->end < t->start)
		return lex_error(lx, "time range ends (%.6f) before it starts (%.6f)", t->end / 1e6,
		                 t->start / 1e6);
	return true;
}

/* ---- packets ---- */

/* A number that must be on the current line (a packet field's value). */
static bool parse_inline_u32(struct lex *lx, uint32_t *v, const char *what)
{
	if (!lex_skip_inline(lx) && !lx->failed)
		return lex_error(lx, "expected %s (a number) on the same line", what);
	return lex_u32(lx, v, what);
}

static bool parse_flags(struct lex *lx, uint8_t *flags)
{
	lex_skip(lx);
	uint8_t f = 0;
	const char *start = lx->p;
	while (lx->p < lx->end && *lx->p != ' ' && *lx->p != '\t' && *lx->p != '\n' && *lx->p != '\r') {
		switch (*lx->p) {
		case 'S': f |= TCP_FLAG_SYN; break;
		case 'F': f |= TCP_FLAG_FIN; break;
		case 'R': f |= TCP_FLAG_RST; break;
		case 'P': f |= TCP_FLAG_PSH; break;
		case 'U': f |= TCP_FLAG_URG; break;
		case 'E': f |= TCP_FLAG_ECE; break;
		case 'W': f |= TCP_FLAG_CWR; break;
		case '.': f |= TCP_FLAG_ACK; break;
		case '-': break;
		default:
			return lex_error(lx, "unknown TCP flag '%c' (flags are S F R P U E W, '.' for ACK, '-' for none)",
			                 *lx->p);
		}
		lx->p++;
	}
	if (lx->p == start)
		return lex_error(lx, "expected TCP flags after the packet direction");
	*flags = f;
	return true;
}

static bool parse_seq_range(struct lex *lx, uint32_t *start, uint32_t *end, uint32_t *len)
{
	if (!lex_u32(lx, start, "sequence start") || !lex_expect(lx, ":", "':' between sequence numbers") ||
	    !lex_u32(lx, end, "sequence end") || !lex_expect(lx, "(", "'(' before the payload length") ||
	    !lex_u32(lx, len, "payload length") || !lex_expect(lx, ")", "')' after the payload length"))
		return false;
	if ((uint32_t)(*end - *start) != *len)
		return lex_error(lx, "sequence range %u:%u does not match the length (%u)", *start, *end, *len);
	return true;
}

static bool parse_sack_blocks(struct lex *lx, struct drill_tcp_opt *o)
{
	o->nblocks = 0;
	while (lex_skip_inline(lx) && lex_at_number(lx)) {
		if (o->nblocks == DRILL_SACK_MAX)
			return lex_error(lx, "more than %d SACK blocks", DRILL_SACK_MAX);
		uint32_t a, b;
		if (!lex_u32(lx, &a, "SACK block start") || !lex_expect(lx, ":", "':' in a SACK block") ||
		    !lex_u32(lx, &b, "SACK block end"))
			return false;
		o->block[o->nblocks][0] = a;
		o->block[o->nblocks][1] = b;
		o->nblocks++;
	}
	if (o->nblocks == 0)
		return lex_error(lx, "sack option without blocks (write sack a:b)");
	return true;
}

static bool parse_tcp_options(struct lex *lx, struct drill_packet *pk)
{
	/* The '<' is consumed. */
	if (lex_accept(lx, "...")) {
		pk->opts_form = DRILL_OPTS_ANY;
		return lex_expect(lx, ">", "'>' closing the option list");
	}
	pk->opts_form = DRILL_OPTS_LIST;
	for (;;) {
		char name[DRILL_NAME_MAX];
		if (!lex_ident(lx, name, sizeof(name))) {
			if (!lx->failed)
				lex_expect(lx, "nop", "a TCP option name (mss, nop, wscale, sackOK, TS, sack, eol)");
			return false;
		}
		if (pk->nopts == DRILL_OPTS_MAX)
			return lex_error(lx, "more than %d TCP options", DRILL_OPTS_MAX);
		struct drill_tcp_opt *o = &pk->opts[pk->nopts++];
		memset(o, 0, sizeof(*o));
		if (strcmp(name, "nop") == 0) {
			o->kind = DRILL_OPT_NOP;
		} else if (strcmp(name, "eol") == 0) {
			o->kind = DRILL_OPT_EOL;
		} else if (strcmp(name, "mss") == 0) {
			o->kind = DRILL_OPT_MSS;
			if (!lex_u32(lx, &o->a, "MSS value"))
				return false;
			if (o->a > 0xffff)
				return lex_error(lx, "mss %u does not fit in 16 bits", o->a);
		} else if (strcmp(name, "wscale") == 0) {
			o->kind = DRILL_OPT_WSCALE;
			if (!lex_u32(lx, &o->a, "window scale"))
				return false;
			if (o->a > 255)
				return lex_error(lx, "wscale %u does not fit in a byte", o->a);
		} else if (strcmp(name, "sackOK") == 0) {
			o->kind = DRILL_OPT_SACK_PERM;
		} else if (strcmp(name, "TS") == 0) {
			o->kind = DRILL_OPT_TS;
			if (!lex_expect(lx, "val", "'val' after TS") || !lex_u32(lx, &o->a, "TS val") ||
			    !lex_expect(lx, "ecr", "'ecr' after the TS value") || !lex_u32(lx, &o->b, "TS ecr"))
				return false;
		} else if (strcmp(name, "sack") == 0) {
			o->kind = DRILL_OPT_SACK;
			if (!parse_sack_blocks(lx, o))
				return false;
		} else {
			return lex_error(lx, "unknown TCP option '%s' (known: mss, nop, wscale, sackOK, TS, sack, eol)",
			                 name);
		}
		if (lex_accept(lx, ">"))
			return true;
		if (!lex_expect(lx, ",", "',' or '>' in the option list"))
			return false;
	}
}

static bool parse_icmp(struct lex *lx, struct drill_packet *pk)
{
	char type[DRILL_NAME_MAX], code[DRILL_NAME_MAX];
	pk->icmp = true;
	if (!lex_ident(lx, type, sizeof(type)) || strcmp(type, "unreachable") != 0)
		return lex_error(lx, "only 'icmp unreachable' packets are supported");
	pk->icmp_type = 3;
	if (!lex_ident(lx, code, sizeof(code)))
		return lex_error(lx, "expected an ICMP unreachable code (frag_needed, port_unreachable, ...)");
	static const struct { const char *name; uint8_t code; } codes[] = {
		{"net_unreachable", 0}, {"host_unreachable", 1}, {"protocol_unreachable", 2},
		{"port_unreachable", 3}, {"frag_needed", 4}, {"source_route_failed", 5},
	};
	size_t i;
	for (i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
		if (strcmp(code, codes[i].name) == 0)
			break;
	if (i == sizeof(codes) / sizeof(codes[0]))
		return lex_error(lx, "unknown ICMP unreachable code '%s'", code);
	pk->icmp_code = codes[i].code;
	if (lex_peek_ident(lx, "mtu")) {
		lex_accept(lx, "mtu");
		if (!lex_u32(lx, &pk->icmp_mtu, "ICMP next-hop MTU"))
			return false;
	}
	if (!lex_expect(lx, "[", "'[' before the quoted segment"))
		return false;
	if (!parse_seq_range(lx, &pk->seq_start, &pk->seq_end, &pk->len))
		return false;
	return lex_expect(lx, "]", "']' after the quoted segment");
}

static bool parse_packet(struct lex *lx, struct drill_event *ev)
{
	struct drill_packet *pk = &ev->packet;
	ev->kind = DRILL_EV_PACKET;
	pk->dir = *lx->p++;
	if (lex_peek_ident(lx, "icmp")) {
		lex_accept(lx, "icmp");
		if (pk->dir != '<')
			return lex_error(lx, "outbound ICMP packets are not supported");
		if (!parse_icmp(lx, pk))
			return false;
		return parse_end_of_line(lx, "ICMP packet");
	}
	if (!parse_flags(lx, &pk->flags) || !parse_seq_range(lx, &pk->seq_start, &pk->seq_end, &pk->len))
		return false;
	/* The remaining fields must be on the packet's own line. */
	while (lex_skip_inline(lx)) {
		if (lex_peek_ident(lx, "ack")) {
			lex_accept(lx, "ack");
			if (pk->has_ack)
				return lex_error(lx, "'ack' given twice");
			pk->has_ack = true;
			if (!parse_inline_u32(lx, &pk->ack, "ack number"))
				return false;
		} else if (lex_peek_ident(lx, "win")) {
			lex_accept(lx, "win");
			pk->has_win = true;
			if (!parse_inline_u32(lx, &pk->win, "window"))
				return false;
			if (pk->win > 0xffff)
				return lex_error(lx, "win %u does not fit in the 16-bit window field", pk->win);
		} else if (lex_peek_ident(lx, "urg")) {
			lex_accept(lx, "urg");
			pk->has_urg = true;
			if (!parse_inline_u32(lx, &pk->urg, "urgent pointer"))
				return false;
			if (pk->urg > 0xffff)
				return lex_error(lx, "urg %u does not fit in 16 bits", pk->urg);
		} else if (lx->p < lx->end && *lx->p == '<') {
			lx->p++;
			if (!parse_tcp_options(lx, pk))
				return false;
			break;
		} else {
			break;
		}
	}
	return parse_end_of_line(lx, "packet");
}

/* ---- system calls ---- */

static struct drill_expr *parse_expr(struct lex *lx, int depth);

/* A comma-separated list up to `close` into list->items. */
static bool parse_expr_list(struct lex *lx, struct drill_expr *list, const char *close, int depth)
{
	if (lex_accept(lx, close))
		return true;
	for (;;) {
		struct drill_expr *item = parse_expr(lx, depth + 1);
		if (!item || !expr_push(lx, list, item))
			return false;
		if (lex_accept(lx, close))
			return true;
		char what[40];
		snprintf(what, sizeof(what), "',' or '%s'", close);
		if (!lex_expect(lx, ",", what))
			return false;
	}
}

static struct drill_expr *parse_primary(struct lex *lx, int depth)
{
	char name[DRILL_NAME_MAX];
	struct drill_expr *e = NULL;
	char c = lex_peek(lx);

	if (depth > DRILL_EXPR_DEPTH_MAX) {
		lex_error(lx, "expression nested deeper than %d levels", DRILL_EXPR_DEPTH_MAX);
		return NULL;
	}
	if (lex_accept(lx, "...")) {
		return expr_new(lx, DRILL_EXPR_ELLIPSIS);
	} else if (c == '-' || lex_at_number(lx)) {
		e = expr_new(lx, DRILL_EXPR_INT);
		if (e && !lex_i64(lx, &e->num, "integer argument"))
			goto fail;
		return e;
	} else if (c == '[' || c == '{') {
		lx->p++;
		e = expr_new(lx, c == '[' ? DRILL_EXPR_LIST : DRILL_EXPR_STRUCT);
		if (!e || !parse_expr_list(lx, e, c == '[' ? "]" : "}", depth))
			goto fail;
		return e;
	} else if (c == '"') {
		lx->p++;
		e = expr_new(lx, DRILL_EXPR_STRING);
		if (!e)
			return NULL;
		const char *s = lx->p;
		while (lx->p < lx->end && *lx->p != '"' && *lx->p != '\n')
			lx->p++;
		if (lx->p >= lx->end || *lx->p != '"') {
			lex_error(lx, "unterminated string");
			goto fail;
		}
		e->name = strndup(s, (size_t)(lx->p - s));
		lx->p++;
		if (!e->name) {
			lex_error(lx, "out of memory");
			goto fail;
		}
		return e;
	} else if (lex_ident(lx, name, sizeof(name))) {
		if (strcmp(name, "NULL") == 0)
			return expr_new(lx, DRILL_EXPR_NULL);
		struct drill_expr *index = NULL;
		/* name(x): a field index (msg_iov(1)=...) or a helper call (htons(8080)). */
		if (lx->p < lx->end && *lx->p == '(') {
			lx->p++;
			index = parse_expr(lx, depth + 1);
			if (!index || !lex_expect(lx, ")", "')'")) {
				expr_free(index);
				return NULL;
			}
		}
		if (lex_accept(lx, "=")) {
			e = expr_new(lx, DRILL_EXPR_FIELD);
			if (!e) {
				expr_free(index);
				return NULL;
			}
			e->lhs = index;
			e->name = xstrdup(lx, name);
			e->rhs = parse_expr(lx, depth + 1);
			if (!e->name || !e->rhs)
				goto fail;
			return e;
		}
		e = expr_new(lx, DRILL_EXPR_SYMBOL);
		if (!e) {
			expr_free(index);
			return NULL;
		}
		e->lhs = index;
		e->name = xstrdup(lx, name);
		if (!e->name)
			goto fail;
		return e;
	}
	if (!lx->failed) {
		char got[8];
		snprintf(got, sizeof(got), "%c", c ? c : ' ');
		lex_error(lx, "expected an argument (a number, a name, ..., [..] or {..}) but found %s",
		          c ? got : "end of file");
	}
	return NULL;
fail:
	expr_free(e);
	return NULL;
}

static struct drill_expr *parse_expr(struct lex *lx, int depth)
{
	struct drill_expr *e = parse_primary(lx, depth);
	while (e && lex_accept(lx, "|")) {
		struct drill_expr *or = expr_new(lx, DRILL_EXPR_OR);
		if (!or) {
			expr_free(e);
			return NULL;
		}
		or->lhs = e;
		or->rhs = parse_primary(lx, depth + 1);
		e = or;
		if (!or->rhs) {
			expr_free(e);
			return NULL;
		}
	}
	return e;
}

static bool parse_syscall(struct lex *lx, struct drill_event *ev)
{
	struct drill_syscall *c = &ev->call;
	char name[DRILL_NAME_MAX];
	ev->kind = DRILL_EV_SYSCALL;
	if (!lex_ident(lx, name, sizeof(name)))
		return lex_error(lx, "expected a packet (< or >), a system call, a `command` or %%{ code }%%");
	c->name = xstrdup(lx, name);
	if (!c->name || !lex_expect(lx, "(", "'(' after the system call name"))
		return false;
	struct drill_expr args = {0};
	bool ok = parse_expr_list(lx, &args, ")", 0);
	c->args = args.items;
	c->nargs = args.nitems;
	if (!ok)
		return false;
	if (!lex_expect(lx, "=", "'= result' after the system call"))
		return false;
	if (lex_accept(lx, "...")) {
		c->result = expr_new(lx, DRILL_EXPR_ELLIPSIS);
	} else {
		c->result = expr_new(lx, DRILL_EXPR_INT);
		if (c->result && !lex_i64(lx, &c->result->num, "return value"))
			return false;
	}
	if (!c->result)
		return false;
	/* Optional errno name and note, on the same line. */
	if (lex_skip_inline(lx) && lex_peek(lx) != '(') {
		char en[DRILL_NAME_MAX];
		if (!lex_ident(lx, en, sizeof(en)))
			return parse_end_of_line(lx, "system call result");
		c->errno_name = xstrdup(lx, en);
		if (!c->errno_name)
			return false;
	}
	if (lex_skip_inline(lx) && lex_peek(lx) == '(') {
		lx->p++;
		const char *s = lx->p;
		int nest = 1;
		while (lx->p < lx->end && *lx->p != '\n') {
			if (*lx->p == '(')
				nest++;
			else if (*lx->p == ')' && --nest == 0)
				break;
			lx->p++;
		}
		if (nest != 0)
			return lex_error(lx, "unterminated '(' note after the result");
		c->note = strndup(s, (size_t)(lx->p - s));
		lx->p++;
		if (!c->note)
			return lex_error(lx, "out of memory");
	}
	if (c->errno_name && c->result->kind == DRILL_EXPR_INT && c->result->num != -1)
		return lex_error(lx, "an errno (%s) needs the result -1", c->errno_name);
	return parse_end_of_line(lx, "system call");
}

/* ---- events and the script ---- */

static bool parse_action(struct lex *lx, struct drill_event *ev)
{
	char c = lex_peek(lx);
	if (c == '<' || c == '>')
		return parse_packet(lx, ev);
	if (c == '`') {
		lx->p++;
		ev->kind = DRILL_EV_COMMAND;
		return lex_until(lx, "`", &ev->text, "backquoted command") && parse_end_of_line(lx, "command");
	}
	if (lex_accept(lx, "%{")) {
		ev->kind = DRILL_EV_CODE;
		return lex_until(lx, "}%", &ev->text, "%{ code block") && parse_end_of_line(lx, "code block");
	}
	return parse_syscall(lx, ev);
}

static struct drill_event *script_new_event(struct lex *lx, struct drill_script *s)
{
	struct drill_event *n = realloc(s->events, (s->nevents + 1) * sizeof(*n));
	if (!n) {
		lex_error(lx, "out of memory");
		return NULL;
	}
	s->events = n;
	struct drill_event *ev = &s->events[s->nevents++];
	memset(ev, 0, sizeof(*ev));
	ev->line = lx->line;
	lx->stmt_line = lx->line;
	return ev;
}

static bool parse_option(struct lex *lx, struct drill_script *s)
{
	char name[DRILL_NAME_MAX];
	if (s->nevents > 0)
		return lex_error(lx, "--options must come before the first event");
	if (!lex_ident(lx, name, sizeof(name)))
		return lex_error(lx, "expected an option name after '--'");
	struct drill_option *n = realloc(s->options, (s->noptions + 1) * sizeof(*n));
	if (!n)
		return lex_error(lx, "out of memory");
	s->options = n;
	struct drill_option *o = &s->options[s->noptions++];
	o->line = lx->line;
	o->name = xstrdup(lx, name);
	o->value = NULL;
	if (!o->name)
		return false;
	if (lx->p < lx->end && *lx->p == '=') {
		lx->p++;
		const char *v = lx->p;
		while (lx->p < lx->end && *lx->p != ' ' && *lx->p != '\t' && *lx->p != '\n' && *lx->p != '\r')
			lx->p++;
		if (lx->p == v)
			return lex_error(lx, "option --%s= has no value", name);
		o->value = strndup(v, (size_t)(lx->p - v));
		if (!o->value)
			return lex_error(lx, "out of memory");
	}
	return parse_end_of_line(lx, "option");
}

struct drill_script *drill_script_parse(const char *path, const char *text, size_t len, char err[DRILL_ERR_MAX])
{
	struct lex lx;
	lex_init(&lx, path, text, len);
	struct drill_script *s = calloc(1, sizeof(*s));
	if (!s || !(s->path = strdup(path))) {
		snprintf(err, DRILL_ERR_MAX, "%s: out of memory", path);
		free(s);
		return NULL;
	}
	if (memchr(text, 0, len))
		lex_error(&lx, "the script contains a NUL byte");
	while (!lx.failed && !lex_at_end(&lx)) {
		lx.stmt_line = lx.line;
		if (lex_accept(&lx, "--")) {
			parse_option(&lx, s);
			continue;
		}
		if (lex_peek(&lx) == '`') {
			/* An untimed command: the init command before the first event, or cleanup. */
			struct drill_event *ev = script_new_event(&lx, s);
			if (!ev)
				break;
			ev->untimed = true;
			parse_action(&lx, ev);
			continue;
		}
		char c = lex_peek(&lx);
		if (c != '+' && c != '*' && !lex_at_number(&lx)) {
			char got[24];
			size_t n = 0;
			while (lx.p + n < lx.end && n < 20 && lx.p[n] != '\n')
				n++;
			snprintf(got, sizeof(got), "%.*s", (int)n, lx.p);
			lex_error(&lx, "expected an event time (0, +0.1, *) or an --option but found '%s'", got);
			break;
		}
		struct drill_event *ev = script_new_event(&lx, s);
		if (!ev || !parse_time(&lx, &ev->time))
			break;
		parse_action(&lx, ev);
		if (lx.failed)
			break;
		if (ev->time.kind == DRILL_TIME_ANY && !(ev->kind == DRILL_EV_PACKET && ev->packet.dir == '>')) {
			lex_error(&lx, "'*' (any time) is only allowed on outbound packets");
			ev->line = lx.line;
		} else if (ev->time.form == DRILL_TIME_WINDOW && !(ev->kind == DRILL_EV_PACKET && ev->packet.dir == '>')) {
			lex_error(&lx, "a time window (a~b) is only allowed on outbound packets");
		} else if (ev->time.form == DRILL_TIME_BLOCKING && ev->kind != DRILL_EV_SYSCALL) {
			lex_error(&lx, "a blocking time range (a...b) is only allowed on system calls");
		}
	}
	if (lx.failed) {
		snprintf(err, DRILL_ERR_MAX, "%s", lx.err);
		drill_script_free(s);
		return NULL;
	}
	return s;
}

struct drill_script *drill_script_load(const char *path, char err[DRILL_ERR_MAX])
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		snprintf(err, DRILL_ERR_MAX, "%s: %s", path, strerror(errno));
		return NULL;
	}
	size_t cap = 4096, len = 0;
	char *buf = malloc(cap);
	while (buf) {
		size_t n = fread(buf + len, 1, cap - len, f);
		len += n;
		if (len < cap)
			break;
		char *nb = cap > (64u << 20) ? NULL : realloc(buf, cap * 2);
		if (!nb) {
			free(buf);
			buf = NULL;
			break;
		}
		buf = nb;
		cap *= 2;
	}
	bool ioerr = ferror(f);
	fclose(f);
	if (!buf || ioerr) {
		snprintf(err, DRILL_ERR_MAX, "%s: %s", path, buf ? "read error" : "too large or out of memory");
		free(buf);
		return NULL;
	}
	struct drill_script *s = drill_script_parse(path, buf, len, err);
	free(buf);
	return s;
}

/* Appends to buf (size bytes) at *n like snprintf, counting what would have been written. */
static void fmt_append(char *buf, size_t size, size_t *n, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static void fmt_append(char *buf, size_t size, size_t *n, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int w = *n < size ? vsnprintf(buf + *n, size - *n, fmt, ap) : vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (w > 0)
		*n += (size_t)w;
}

char *drill_flags_str(uint8_t flags, char *buf)
{
	static const struct { uint8_t bit; char c; } order[] = {
		{TCP_FLAG_SYN, 'S'}, {TCP_FLAG_FIN, 'F'}, {TCP_FLAG_RST, 'R'}, {TCP_FLAG_PSH, 'P'},
		{TCP_FLAG_URG, 'U'}, {TCP_FLAG_ECE, 'E'}, {TCP_FLAG_CWR, 'W'}, {TCP_FLAG_ACK, '.'},
	};
	size_t n = 0;
	for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++)
		if (flags & order[i].bit)
			buf[n++] = order[i].c;
	if (n == 0)
		buf[n++] = '-';
	buf[n] = 0;
	return buf;
}

int drill_packet_format(char *buf, size_t size, const struct drill_packet *p)
{
	char fl[12];
	size_t n = 0;
#define OUT(...) fmt_append(buf, size, &n, __VA_ARGS__)
	if (size)
		buf[0] = 0;
	if (p->icmp) {
		OUT("%c icmp unreachable code %u mtu %u [%u:%u(%u)]", p->dir, p->icmp_code, p->icmp_mtu,
		    p->seq_start, p->seq_end, p->len);
		return (int)n;
	}
	OUT("%c %s %u:%u(%u)", p->dir, drill_flags_str(p->flags, fl), p->seq_start, p->seq_end, p->len);
	if (p->has_ack)
		OUT(" ack %u", p->ack);
	if (p->has_win)
		OUT(" win %u", p->win);
	if (p->has_urg)
		OUT(" urg %u", p->urg);
	if (p->opts_form == DRILL_OPTS_ANY)
		OUT(" <...>");
	if (p->opts_form == DRILL_OPTS_LIST) {
		OUT(" <");
		for (size_t i = 0; i < p->nopts; i++) {
			const struct drill_tcp_opt *o = &p->opts[i];
			if (i)
				OUT(",");
			switch (o->kind) {
			case DRILL_OPT_EOL: OUT("eol"); break;
			case DRILL_OPT_NOP: OUT("nop"); break;
			case DRILL_OPT_MSS: OUT("mss %u", o->a); break;
			case DRILL_OPT_WSCALE: OUT("wscale %u", o->a); break;
			case DRILL_OPT_SACK_PERM: OUT("sackOK"); break;
			case DRILL_OPT_TS: OUT("TS val %u ecr %u", o->a, o->b); break;
			case DRILL_OPT_SACK:
				OUT("sack");
				for (size_t b = 0; b < o->nblocks; b++)
					OUT(" %u:%u", o->block[b][0], o->block[b][1]);
				break;
			}
		}
		OUT(">");
	}
#undef OUT
	return (int)n;
}

static void expr_format(char *buf, size_t size, size_t *n, const struct drill_expr *e, int depth)
{
#define EOUT(...) fmt_append(buf, size, n, __VA_ARGS__)
	if (!e || depth > DRILL_EXPR_DEPTH_MAX) {
		EOUT("?");
		return;
	}
	switch (e->kind) {
	case DRILL_EXPR_ELLIPSIS: EOUT("..."); break;
	case DRILL_EXPR_INT: EOUT("%lld", (long long)e->num); break;
	case DRILL_EXPR_NULL: EOUT("NULL"); break;
	case DRILL_EXPR_STRING: EOUT("\"%s\"", e->name); break;
	case DRILL_EXPR_SYMBOL:
		EOUT("%s", e->name);
		if (e->lhs) {
			EOUT("(");
			expr_format(buf, size, n, e->lhs, depth + 1);
			EOUT(")");
		}
		break;
	case DRILL_EXPR_OR:
		expr_format(buf, size, n, e->lhs, depth + 1);
		EOUT("|");
		expr_format(buf, size, n, e->rhs, depth + 1);
		break;
	case DRILL_EXPR_LIST:
	case DRILL_EXPR_STRUCT:
		EOUT("%c", e->kind == DRILL_EXPR_LIST ? '[' : '{');
		for (size_t i = 0; i < e->nitems; i++) {
			if (i)
				EOUT(", ");
			expr_format(buf, size, n, e->items[i], depth + 1);
		}
		EOUT("%c", e->kind == DRILL_EXPR_LIST ? ']' : '}');
		break;
	case DRILL_EXPR_FIELD:
		EOUT("%s", e->name);
		if (e->lhs) {
			EOUT("(");
			expr_format(buf, size, n, e->lhs, depth + 1);
			EOUT(")");
		}
		EOUT("=");
		expr_format(buf, size, n, e->rhs, depth + 1);
		break;
	}
#undef EOUT
}

int drill_call_format(char *buf, size_t size, const struct drill_syscall *c)
{
	size_t n = 0;
	if (size)
		buf[0] = 0;
	fmt_append(buf, size, &n, "%s(", c->name);
	for (size_t i = 0; i < c->nargs; i++) {
		if (i)
			fmt_append(buf, size, &n, ", ");
		expr_format(buf, size, &n, c->args[i], 0);
	}
	fmt_append(buf, size, &n, ")");
	return (int)n;
}
