/*
 * script.h - the model of a packetdrill script, as the parser builds it and the executor
 * runs it.
 *
 * A script is a list of options (`--tolerance_usecs=10000`), then events in file order.
 * Each event has a time (absolute, +relative or a range; docs/testing.md) and one action: a
 * packet the runner injects (`<`) or expects (`>`), a system call with its expected result,
 * a backquoted shell command, or a `%{ }%` code block. Every event keeps the line it came
 * from so the executor can report "script.pkt:17: ..." like packetdrill.
 *
 * Written from packetdrill's published description of its language only; no packetdrill
 * code. The parser (parse.c, on the scanner in lex.c)
 * never aborts: a malformed script gives a message with the line number.
 *
 * Ownership: drill_script_parse() returns one heap block tree; drill_script_free() frees it.
 */
#ifndef TAPSTACK_TESTS_DRILL_SCRIPT_H
#define TAPSTACK_TESTS_DRILL_SCRIPT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef int64_t drill_usec;

/* ---- time ---- */

enum drill_time_kind {
	DRILL_TIME_ABS,    /* `0`, `1.5`: from the start of the script */
	DRILL_TIME_REL,    /* `+0.1`: from the previous event */
	DRILL_TIME_ANY,    /* `*`: any time (outbound packets only) */
};

struct drill_time {
	enum drill_time_kind kind;
	drill_usec start;          /* microseconds */
	/* `start...end` (blocking call end) or `start~end` (outbound window). */
	enum { DRILL_TIME_POINT, DRILL_TIME_BLOCKING, DRILL_TIME_WINDOW } form;
	drill_usec end;            /* same base as start: the previous event for relative times */
};

/* ---- packets ---- */

enum drill_opt_kind {
	DRILL_OPT_EOL, DRILL_OPT_NOP, DRILL_OPT_MSS, DRILL_OPT_WSCALE, DRILL_OPT_SACK_PERM,
	DRILL_OPT_TS, DRILL_OPT_SACK,
};

#define DRILL_SACK_MAX 4

struct drill_tcp_opt {
	enum drill_opt_kind kind;
	uint32_t a, b;                     /* mss / wscale in a; TS val in a, ecr in b */
	uint8_t nblocks;                   /* sack */
	uint32_t block[DRILL_SACK_MAX][2]; /* sack edges, script-relative */
};

#define DRILL_OPTS_MAX 16

enum drill_opts_form {
	DRILL_OPTS_NONE,    /* no list: an outbound packet must carry no options */
	DRILL_OPTS_ANY,     /* `<...>`: options not checked */
	DRILL_OPTS_LIST,    /* `<mss 1460,nop,...>` */
};

struct drill_packet {
	char dir;                       /* '<' inbound (injected), '>' outbound (expected) */
	bool icmp;                      /* `< icmp unreachable frag_needed mtu N [a:b(len)]` */
	uint8_t icmp_type, icmp_code;
	uint32_t icmp_mtu;
	uint8_t flags;                  /* TCP_FLAG_* bits */
	uint32_t seq_start, seq_end, len;
	bool has_ack, has_win, has_urg;
	uint32_t ack;
	uint32_t win, urg;
	enum drill_opts_form opts_form;
	uint8_t nopts;
	struct drill_tcp_opt opts[DRILL_OPTS_MAX];
};

/* ---- system calls ---- */

enum drill_expr_kind {
	DRILL_EXPR_ELLIPSIS,   /* `...` */
	DRILL_EXPR_INT,        /* 42, 0x2, -1 */
	DRILL_EXPR_SYMBOL,     /* SO_REUSEADDR (resolved by the executor) */
	DRILL_EXPR_NULL,       /* NULL */
	DRILL_EXPR_STRING,     /* "text" */
	DRILL_EXPR_OR,         /* A|B: lhs, rhs */
	DRILL_EXPR_LIST,       /* [a, b]: items (a pointer to an int when one integer) */
	DRILL_EXPR_STRUCT,     /* {a, name=b}: items */
	DRILL_EXPR_FIELD,      /* name=value or name(index)=value: name, lhs=index or NULL, rhs=value */
};

struct drill_expr {
	enum drill_expr_kind kind;
	int64_t num;
	char *name;                     /* SYMBOL, STRING, FIELD */
	struct drill_expr *lhs, *rhs;   /* OR; FIELD index and value */
	struct drill_expr **items;      /* LIST, STRUCT */
	size_t nitems;
};

struct drill_syscall {
	char *name;
	struct drill_expr **args;
	size_t nargs;
	struct drill_expr *result;      /* INT, or ELLIPSIS */
	char *errno_name;               /* "EAGAIN" for `= -1 EAGAIN (text)`, else NULL */
	char *note;                     /* the parenthesised text, or NULL */
};

/* ---- events ---- */

enum drill_event_kind {
	DRILL_EV_PACKET,
	DRILL_EV_SYSCALL,
	DRILL_EV_COMMAND,      /* `shell text` */
	DRILL_EV_CODE,         /* %{ python }% */
};

struct drill_event {
	int line;
	bool untimed;          /* a backquoted command with no time: init (first) or cleanup (last) */
	struct drill_time time;
	enum drill_event_kind kind;
	struct drill_packet packet;
	struct drill_syscall call;
	char *text;            /* COMMAND and CODE */
};

struct drill_option {
	int line;
	char *name;            /* without the dashes: "tolerance_usecs" */
	char *value;           /* NULL for a bare `--name` */
};

struct drill_script {
	char *path;
	struct drill_option *options;
	size_t noptions;
	struct drill_event *events;
	size_t nevents;
};

/* Error text of a failed parse: "file:line: message". */
#define DRILL_ERR_MAX 512

/*
 * Parses len bytes of script text. `path` names it in messages and in the model. Returns
 * the script, or NULL with err filled ("path:LINE: what is wrong").
 */
struct drill_script *drill_script_parse(const char *path, const char *text, size_t len,
                                        char err[DRILL_ERR_MAX]);

/* Reads and parses a file; NULL with err filled on an I/O or syntax error. */
struct drill_script *drill_script_load(const char *path, char err[DRILL_ERR_MAX]);

void drill_script_free(struct drill_script *s);

/* "S.", "P.", "FP.", "R" ... into buf (at least 12 bytes); returns buf. */
char *drill_flags_str(uint8_t flags, char *buf);

/* One packet in script syntax ("> S. 0:0(0) ack 1 <mss 1460,nop,wscale 8>"). */
int drill_packet_format(char *buf, size_t size, const struct drill_packet *p);

/* A call in script syntax, without its result ("accept(3, ..., ...)"). */
int drill_call_format(char *buf, size_t size, const struct drill_syscall *c);

#endif
