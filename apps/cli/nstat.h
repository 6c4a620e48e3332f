/*
 * nstat.h - `tapstack stats`: the stack's counters in nstat(8)'s manner, and as Prometheus text.
 *
 * The running program writes every counter as "layer.name value" lines (nstat_write_raw) or
 * as Prometheus text (nstat_write_prometheus) on its control socket; the client filters and
 * formats them (nstat_print): non-zero counters by default, -z zeros too, -d deltas since
 * the previous -d (a history file per control socket), -a absolute values with -d, -r forget
 * the history, --json.
 */
#ifndef TAPSTACK_APPS_CLI_NSTAT_H
#define TAPSTACK_APPS_CLI_NSTAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

struct stack;

struct nstat_opts {
	bool zeros, deltas, absolute, reset, json, prometheus;
};

/* Parses the words after "stats" (without --tap/--ctl). 0, or -1 with a message in err. */
int nstat_parse(struct nstat_opts *o, int argc, char **argv, char *err, size_t errlen);

/* Server side: every counter, one "layer.name value" line each. */
void nstat_write_raw(struct stack *s, FILE *f);
/* Server side: the same in Prometheus text format 0.0.4 (tapstack_<layer>_<name> counters). */
void nstat_write_prometheus(struct stack *s, FILE *f);

/* Client side: raw is what nstat_write_raw sent; history_key names the history file (the
 * control socket's path). Prints to out; 0, or -1 with a message on stderr. */
int nstat_print(const struct nstat_opts *o, const char *raw, const char *history_key, FILE *out);

/* Where -d keeps the values of the control socket named key (/tmp/.tapstack-stats.uUID.HASH). */
void nstat_history_path(char *buf, size_t len, const char *key);

extern const char nstat_usage[];

#endif
