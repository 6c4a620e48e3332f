/*
 * test_drill_code.c - the evaluator of packetdrill `%{ }%` blocks (tests/drill/code.c) on
 * the statements the corpus uses: asserts with chained comparisons and messages, print,
 * assignments that persist between blocks, comments, ';' and '\' continuations; and the
 * binding of Linux's struct tcp_info fields by name (tests/drill/tcpinfo.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include <linux/tcp.h>

#include "tests/drill/code.h"

static enum drill_code_result run(struct drill_code_env *env, const char *text, char *msg)
{
	return drill_code_eval(env, text, msg, 256, NULL, NULL);
}

static void test_asserts(void **state)
{
	(void)state;
	struct drill_code_env env = {0};
	char msg[256];
	drill_code_set(&env, "tcpi_snd_cwnd", 10);
	drill_code_set(&env, "tcpi_rwnd_limited", 100000);
	assert_int_equal(run(&env, " assert tcpi_snd_cwnd == 10, tcpi_snd_cwnd ", msg), DRILL_CODE_OK);
	assert_int_equal(run(&env, "assert 98000 <= tcpi_rwnd_limited <= 110000, tcpi_rwnd_limited", msg), DRILL_CODE_OK);
	assert_int_equal(run(&env, "assert 98000 <= tcpi_rwnd_limited <= 99000, tcpi_rwnd_limited", msg), DRILL_CODE_ASSERT);
	assert_string_equal(msg, "assert 98000 <= tcpi_rwnd_limited <= 99000 failed: 100000");
	assert_int_equal(run(&env, "assert tcpi_snd_cwnd == 12, 'cwnd=%d' % tcpi_snd_cwnd", msg), DRILL_CODE_ASSERT);
	assert_string_equal(msg, "assert tcpi_snd_cwnd == 12 failed");
	assert_int_equal(run(&env, "assert (tcpi_snd_cwnd & 2) == 2 and not tcpi_snd_cwnd > 10", msg), DRILL_CODE_OK);
}

static void test_statements_and_persistence(void **state)
{
	(void)state;
	struct drill_code_env env = {0};
	char msg[256];
	drill_code_set(&env, "tcpi_snd_cwnd", 58);
	assert_int_equal(run(&env, "TCP_INFINITE_SSTHRESH = 0x7fffffff", msg), DRILL_CODE_OK);
	assert_int_equal(run(&env, "print(tcpi_snd_cwnd); cwnd = 48; assert tcpi_snd_cwnd == cwnd + 10, tcpi_snd_cwnd",
	                     msg), DRILL_CODE_OK);
	assert_int_equal(run(&env, "cwnd += 10  # a comment\nassert tcpi_snd_cwnd == cwnd, tcpi_snd_cwnd;\\\n  x = 3", msg),
	                 DRILL_CODE_OK);
	int64_t v;
	assert_true(drill_code_get(&env, "TCP_INFINITE_SSTHRESH", &v));
	assert_int_equal(v, 0x7fffffff);
	assert_true(drill_code_get(&env, "x", &v));
	assert_int_equal(v, 3);
}

static void test_errors(void **state)
{
	(void)state;
	struct drill_code_env env = {0};
	char msg[256];
	assert_int_equal(run(&env, "assert tcpi_nonexistent == 1", msg), DRILL_CODE_ERROR);
	assert_non_null(strstr(msg, "not defined"));
	assert_int_equal(run(&env, "import os", msg), DRILL_CODE_ERROR);
	assert_int_equal(run(&env, "assert (1 == 1", msg), DRILL_CODE_ERROR);
	assert_int_equal(run(&env, "assert 1 / 0", msg), DRILL_CODE_ERROR);
	assert_int_equal(run(&env, "y += 1", msg), DRILL_CODE_ERROR);
	char deep[300];
	memset(deep, '(', 200);
	strcpy(deep + 200, "1");
	assert_int_equal(run(&env, deep, msg), DRILL_CODE_ERROR);
}

static void test_tcp_info_binding(void **state)
{
	(void)state;
	struct tcp_info ti;
	memset(&ti, 0, sizeof(ti));
	ti.tcpi_ca_state = 3;
	ti.tcpi_snd_cwnd = 20;
	ti.tcpi_busy_time = 350000;
	ti.tcpi_snd_wscale = 7;
	ti.tcpi_rcv_wscale = 8;
	struct drill_code_env env = {0};
	char msg[256];
	drill_code_bind_tcp_info(&env, &ti, sizeof(ti));
	assert_int_equal(run(&env, "assert tcpi_ca_state == TCP_CA_Recovery", msg), DRILL_CODE_OK);
	assert_int_equal(run(&env, "assert tcpi_snd_cwnd == 20 and 348000 <= tcpi_busy_time <= 360000", msg), DRILL_CODE_OK);
	assert_int_equal(run(&env, "assert tcpi_snd_wscale == 7 and tcpi_rcv_wscale == 8", msg), DRILL_CODE_OK);
	/* A shorter struct (an older kernel's, or a stack's) binds only the fields it holds. */
	struct drill_code_env old = {0};
	drill_code_bind_tcp_info(&old, &ti, offsetof(struct tcp_info, tcpi_pacing_rate));
	assert_int_equal(run(&old, "assert tcpi_snd_cwnd == 20", msg), DRILL_CODE_OK);
	assert_int_equal(run(&old, "assert tcpi_busy_time == 0", msg), DRILL_CODE_ERROR);
	uint32_t mem[9] = {0, 131072};
	drill_code_bind_meminfo(&env, mem, 9);
	assert_int_equal(run(&env, "assert SK_MEMINFO_RCVBUF == 131072, SK_MEMINFO_RCVBUF", msg), DRILL_CODE_OK);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_asserts),
		cmocka_unit_test(test_statements_and_persistence),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_tcp_info_binding),
	};
	return cmocka_run_group_tests_name("drill_code", tests, NULL, NULL);
}
