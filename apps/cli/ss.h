/*
 * ss.h - `tapstack ss`: which sockets to show and how, in ss(8)'s terms.
 *
 * The client (tapstack ss ...) parses its arguments with ss_query_parse() to refuse bad ones
 * with exit status 2 before it connects; it then sends them as one line "ss ARGS" on the
 * control socket, and the running program parses the same words again (a request it cannot
 * parse is answered with "error: ..." and changes nothing) and writes the rows (ss_write).
 */
#ifndef TAPSTACK_APPS_CLI_SS_H
#define TAPSTACK_APPS_CLI_SS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

struct stack;

struct ss_query {
	bool tcp, udp;              /* -t, -u (neither: TCP, as `ss -tan` was the program's default) */
	bool info, ext, timers;     /* -i, -e, -o */
	unsigned states;            /* bit per SS_ST_* (listening filters included) */
	int sport, dport;           /* -1: any */
};

/* Parses argv[0..argc) (the words after "ss"). 0, or -1 with a message naming the offending
 * word in err. */
int ss_query_parse(struct ss_query *q, int argc, char **argv, char *err, size_t errlen);

/* The rows, ss's layout, of the sockets q selects. */
void ss_write(struct stack *s, const struct ss_query *q, FILE *f);

/* Usage of `tapstack ss`. */
extern const char ss_usage[];

#endif
