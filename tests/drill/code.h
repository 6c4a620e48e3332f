/*
 * code.h - the `%{ ... }%` blocks of packetdrill scripts: a small evaluator for the
 * subset of Python the scripts use, and the variables it sees.
 *
 * packetdrill snapshots the socket's TCP_INFO (and SO_MEMINFO) when the block's time
 * comes and runs the block in python3 with each field bound to a variable (tcpi_snd_cwnd,
 * SK_MEMINFO_RCVBUF, ...). The runner does the same with a built-in evaluator: statements
 * `assert EXPR[, MESSAGE]`, `print(EXPR)`, `NAME = EXPR`, `NAME += EXPR`, `NAME -= EXPR`,
 * separated by newlines or ';', with '#' comments and '\' continuations; expressions with
 * integers (decimal, 0x), names, parentheses, + - * / // % & | << >>, comparisons (chained,
 * as in Python: `a <= x <= b`), not/and/or. Variables persist from block to block.
 *
 * Where tapstack cannot give the values (no TCP_INFO), the runner reports the script as
 * unsupported instead of evaluating anything: a block never passes silently.
 */
#ifndef TAPSTACK_TESTS_DRILL_CODE_H
#define TAPSTACK_TESTS_DRILL_CODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DRILL_CODE_VARS_MAX 160
#define DRILL_CODE_NAME_MAX 40

struct drill_code_env {
	size_t n;
	struct {
		char name[DRILL_CODE_NAME_MAX];
		int64_t value;
	} v[DRILL_CODE_VARS_MAX];
};

enum drill_code_result {
	DRILL_CODE_OK = 0,
	DRILL_CODE_ASSERT = 1,   /* an assert was false: msg says which and the values */
	DRILL_CODE_ERROR = -1,   /* syntax error or an unknown name: msg says what */
};

void drill_code_set(struct drill_code_env *env, const char *name, int64_t value);
bool drill_code_get(const struct drill_code_env *env, const char *name, int64_t *value);

/* Runs the block's text; msg (size bytes) explains a failure. print() output goes to out (may be NULL). */
enum drill_code_result drill_code_eval(struct drill_code_env *env, const char *text, char *msg, size_t size,
                                       void (*print)(void *arg, int64_t value), void *arg);

/*
 * Binds every field of a Linux struct tcp_info that fits in len bytes (tcpi_state ...) plus
 * the TCP_CA_* and TCPI_OPT_* constants (tcpinfo.c, which alone includes <linux/tcp.h>).
 */
void drill_code_bind_tcp_info(struct drill_code_env *env, const void *info, size_t len);
/* Binds SK_MEMINFO_* from an SO_MEMINFO array of n uint32_t. */
void drill_code_bind_meminfo(struct drill_code_env *env, const uint32_t *mem, size_t n);

#endif
