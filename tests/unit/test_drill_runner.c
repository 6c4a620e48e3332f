/*
 * test_drill_runner.c - the packetdrill executor (tests/drill/exec.c and friends) against a
 * real tapstack: a correct script passes, and each kind of mismatch (flags, ack, window,
 * options, timing, a call's result, a blocking call's return time, a missing packet) is
 * reported as a failure on the right line with packetdrill's wording. Unsupported parts
 * (%{ }% blocks) make a script fail as "unsupported", never pass silently; settings
 * without a tapstack knob are reported. Virtual time: a 64-second script runs at once.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "tests/drill/runner.h"
#include "tests/drill/script.h"

static void run_text(const char *text, struct drill_report *rep)
{
	char err[DRILL_ERR_MAX] = "";
	struct drill_script *sc = drill_script_parse("t.pkt", text, strlen(text), err);
	if (!sc)
		fail_msg("parse error: %s", err);
	drill_run_script(sc, NULL, false, -1, rep);
	drill_script_free(sc);
}

/* Runs text, which must pass. */
static void run_ok(const char *text, struct drill_report *rep)
{
	run_text(text, rep);
	if (!rep->passed)
		fail_msg("line %d: %s", rep->line, rep->msg);
}

static void expect_fail(const char *text, int line, const char *needle)
{
	struct drill_report rep;
	run_text(text, &rep);
	if (rep.passed)
		fail_msg("script passed but should fail at line %d (%s)", line, needle);
	if (rep.line != line || !strstr(rep.msg, needle))
		fail_msg("failed at line %d with \"%s\"; wanted line %d with \"%s\"", rep.line, rep.msg, line, needle);
}

#define LISTEN                                                                                     \
	"0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n"                                            \
	"+0 setsockopt(3, SOL_SOCKET, SO_REUSEADDR, [1], 4) = 0\n"                                 \
	"+0 bind(3, ..., ...) = 0\n"                                                               \
	"+0 listen(3, 1) = 0\n"

#define HANDSHAKE                                                                                  \
	LISTEN                                                                                     \
	"+0 < S 0:0(0) win 65535 <mss 1460,nop,wscale 7>\n"                                        \
	"+0 > S. 0:0(0) ack 1 <mss 1460,nop,wscale 7>\n"                                           \
	"+.01 < . 1:1(0) ack 1 win 514\n"                                                          \
	"+0 accept(3, ..., ...) = 4\n"

static void test_passing_script(void **state)
{
	(void)state;
	struct drill_report rep;
	run_ok(HANDSHAKE "+.1 write(4, ..., 100) = 100\n"
	                   "+0 > P. 1:101(100) ack 1\n"
	                   "+.01 < . 1:1(0) ack 101 win 514\n"
	                   "+0 close(4) = 0\n"
	                   "+0 > F. 101:101(0) ack 1\n",
	         &rep);
}

/* An inbound ACK line that gives no ack number carries 0 relative to tapstack's ISN, as
 * packetdrill maps it. A SYN-ACK acking our ISN itself (not ISN + 1) is unacceptable in
 * SYN-SENT: the RST takes its sequence number from that ACK field, 0 in the script. */
static void test_default_ack_is_relative(void **state)
{
	(void)state;
	struct drill_report rep;
	run_ok("0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n"
	         "+0 fcntl(3, F_SETFL, O_RDWR|O_NONBLOCK) = 0\n"
	         "+0 connect(3, ..., ...) = -1 EINPROGRESS (Operation now in progress)\n"
	         "+0 > S 0:0(0) <...>\n"
	         "+.01 < S. 0:0(0) win 65535 <mss 1460>\n"
	         "+0 > R 0:0(0)\n",
	         &rep);
}

static void test_closed_port_rst(void **state)
{
	(void)state;
	struct drill_report rep;
	run_text("0 < S 0:0(0) win 65535 <mss 1460>\n+0 > R. 0:0(0) ack 1 win 0\n", &rep);
	assert_true(rep.passed);
	/* The same exchange with a wrong expectation in each field. */
	expect_fail("0 < S 0:0(0) win 65535 <mss 1460>\n+0 > R. 0:0(0) ack 2 win 0\n", 2, "tcp_ack_seq: expected: 2 vs actual: 1");
	expect_fail("0 < S 0:0(0) win 65535 <mss 1460>\n+0 > R 0:0(0) ack 1 win 0\n", 2, "tcp flags: expected: R vs actual: R.");
	expect_fail("0 < S 0:0(0) win 65535 <mss 1460>\n+0 > R. 0:0(0) ack 1 win 5\n", 2, "tcp_window: expected: 5 vs actual: 0");
	expect_fail("0 < S 0:0(0) win 65535 <mss 1460>\n+0 > R. 0:0(0) ack 1 <mss 1460>\n", 2, "TCP options");
	expect_fail("0 < S 0:0(0) win 65535 <mss 1460>\n+.5 > R. 0:0(0) ack 1\n", 2, "timing error");
}

static void test_wrong_syn_ack_options(void **state)
{
	(void)state;
	expect_fail(LISTEN "+0 < S 0:0(0) win 65535 <mss 1460,nop,wscale 7>\n"
	                   "+0 > S. 0:0(0) ack 1 <mss 1000,nop,wscale 7>\n",
	            6, "mss: expected 1000 vs actual 1460");
}

static void test_missing_packet(void **state)
{
	(void)state;
	/* Nothing answers the ACK that completes a handshake: an expected packet there is missing. */
	expect_fail(HANDSHAKE "+.1 > . 1:1(0) ack 1\n", 9, "none was sent");
}

static void test_call_results(void **state)
{
	(void)state;
	expect_fail(LISTEN "+0 listen(3, 1) = 1\n", 5, "Expected result 1 but got 0");
	expect_fail(HANDSHAKE "+0 close(7) = -1 EINVAL (Invalid argument)\n", 9,
	            "Expected errno EINVAL (22) but got EBADF");
	/* A read on a blocking socket with nothing to read blocks; written without `...end` it must not. */
	expect_fail(HANDSHAKE "+0 read(4, ..., 10) = 10\n", 9, "read call did not return");
	struct drill_report rep;
	run_ok(HANDSHAKE "+0 fcntl(4, F_SETFL, O_RDWR|O_NONBLOCK) = 0\n"
	                   "+0 read(4, ..., 10) = -1 EAGAIN (Resource temporarily unavailable)\n"
	                   "+0 read(4, NULL, 10) = -1 EFAULT (Bad address)\n",
	         &rep);
}

/* A blocking accept returns in virtual time when the handshake completes; its end time is checked. */
static void test_blocking_call_timing(void **state)
{
	(void)state;
	const char *ok = LISTEN "+0...0.200 accept(3, ..., ...) = 4\n"
	                        "+.1 < S 0:0(0) win 65535 <mss 1460,nop,wscale 7>\n"
	                        "+0 > S. 0:0(0) ack 1 <mss 1460,nop,wscale 7>\n"
	                        "+.1 < . 1:1(0) ack 1 win 514\n";
	struct drill_report rep;
	run_ok(ok, &rep);
	expect_fail(LISTEN "+0...0.100 accept(3, ..., ...) = 4\n"
	                   "+.1 < S 0:0(0) win 65535 <mss 1460,nop,wscale 7>\n"
	                   "+0 > S. 0:0(0) ack 1 <mss 1460,nop,wscale 7>\n"
	                   "+.1 < . 1:1(0) ack 1 win 514\n",
	            5, "expected to return at 0.100000 sec but returned at 0.200000 sec");
}

/* Minutes of virtual time cost nothing: the SYN-ACK retransmission schedule to 63 s. */
static void test_virtual_time(void **state)
{
	(void)state;
	struct drill_report rep;
	run_ok(LISTEN "+0 < S 0:0(0) win 65535 <mss 1460,nop,wscale 7>\n"
	                "+0 > S. 0:0(0) ack 1 <mss 1460,nop,wscale 7>\n"
	                "+1 > S. 0:0(0) ack 1 <...>\n+2 > S. 0:0(0) ack 1 <...>\n+4 > S. 0:0(0) ack 1 <...>\n"
	                "+8 > S. 0:0(0) ack 1 <...>\n+16 > S. 0:0(0) ack 1 <...>\n"
	                "+33 < . 1:1(0) ack 1 win 514\n+0 > R 1:1(0)\n",
	         &rep);
	expect_fail(LISTEN "+0 < S 0:0(0) win 65535 <mss 1460,nop,wscale 7>\n"
	                   "+0 > S. 0:0(0) ack 1 <...>\n+2 > S. 0:0(0) ack 1 <...>\n",
	            7, "happened at 1.000000 sec");
}

static void test_unsupported_and_ignored(void **state)
{
	(void)state;
	struct drill_report rep;
	run_text("`sysctl -q net.ipv4.tcp_fack=1 net.ipv4.tcp_frto=2 net.ipv4.tcp_sack=1`\n" LISTEN
	         "+0 %{ import os }%\n",
	         &rep);
	assert_false(rep.passed);
	assert_true(rep.unsupported);
	assert_int_equal(rep.line, 6);
	assert_non_null(strstr(rep.ignored, "tcp_fack"));
	assert_null(strstr(rep.ignored, "tcp_sack")); /* these have a knob */
	assert_null(strstr(rep.ignored, "tcp_frto"));
	expect_fail(LISTEN "+0 splice(3, NULL, 4, NULL, 10, 0) = 10\n", 5, "unsupported system call splice()");
	/* Files come only from the script's own dd of zeros. */
	run_text("`dd bs=1 count=5 if=/dev/urandom of=/tmp/x`\n" LISTEN, &rep);
	assert_true(rep.unsupported);

	/* A string option value (TCP_CONGESTION's name) reaches the stack with its errno. */
	run_ok(LISTEN "+0 setsockopt(3, SOL_TCP, TCP_CONGESTION, \"reno\", 4) = 0\n"
	                "+0 setsockopt(3, SOL_TCP, TCP_CONGESTION, \"bbr\", 3) = -1 ENOENT (No such file)\n",
	         &rep);
	run_text(LISTEN "+0 `echo 0 > /sys/module/tcp_cubic/parameters/fast_convergence`\n", &rep);
	assert_true(rep.unsupported);
	/* HyStart's exits have a knob (tcp_config.hystart_detect); a value past 3 is refused. */
	run_text(LISTEN "+0 `echo 2 > /sys/module/tcp_cubic/parameters/hystart_detect`\n", &rep);
	assert_true(rep.passed);
	expect_fail(LISTEN "+0 `echo 9 > /sys/module/tcp_cubic/parameters/hystart_detect`\n", 5, "expected 0 to 3");
	run_text(LISTEN "+0 `nstat -s | grep TcpExtNoSuchCounter | grep -q \" 1 \"`\n", &rep);
	assert_true(rep.unsupported);
}

/*
 * A file the script's `dd` made is zeros in a memfd (no file of the host): open() gives it
 * the script's number, sendfile sends from it (from an offset, or from its position, which
 * moves), `rm -f` forgets it, and a path never made is ENOENT.
 */
static void test_files_and_sendfile(void **state)
{
	(void)state;
	struct drill_report rep;
	run_text("`/bin/rm -f /tmp/f; /bin/dd bs=100 count=3 if=/dev/zero of=/tmp/f status=none`\n" HANDSHAKE
	         "+0 open(\"/tmp/f\", O_RDONLY) = 7\n"
	         "+0 sendfile(4, 7, [100], 500) = 200\n"
	         "+0 > P. 1:201(200) ack 1\n"
	         "+0 < . 1:1(0) ack 201 win 514\n"
	         "+0 sendfile(4, 7, [300], 5) = 0\n"
	         "+0 sendfile(4, 7, NULL, 250) = 250\n" /* from the position, which moves */
	         "+0 > P. 201:451(250) ack 1\n"
	         "+0 < . 1:1(0) ack 451 win 514\n"
	         "+0 sendfile(4, 7, NULL, 100) = 50\n"
	         "+0 > P. 451:501(50) ack 1\n"
	         "+0 sendfile(4, 8, [0], 5) = -1 EBADF (Bad file descriptor)\n"
	         "+0 close(7) = 0\n"
	         "+0 open(\"/tmp/g\", O_RDONLY) = -1 ENOENT (No such file or directory)\n",
	         &rep);
	if (!rep.passed)
		fail_msg("line %d: %s", rep.line, rep.msg);
	/* Only reading is emulated: a write-only open fails the script, mapping no descriptor. */
	expect_fail("`/bin/dd bs=1 count=5 if=/dev/zero of=/tmp/f`\n" LISTEN "+0 open(\"/tmp/f\", O_WRONLY) = 4\n", 6,
	            "unsupported: open() for writing");
	expect_fail("`/bin/dd bs=1 count=5 if=/dev/zero of=/tmp/f`\n`/bin/rm -f /tmp/f`\n" LISTEN
	            "+0 open(\"/tmp/f\", O_RDONLY) = 4\n",
	            7, "Expected result 4 but got -1");
}

/* %{ }% blocks see the connection's tcp_info; a false assert fails the script on its line. */
static void test_code_blocks(void **state)
{
	(void)state;
	struct drill_report rep;
	run_ok(HANDSHAKE "+0 %{ assert tcpi_snd_cwnd == 10, tcpi_snd_cwnd }%\n"
	                   "+0 %{ assert tcpi_state == TCP_ESTABLISHED and tcpi_snd_mss == 1460 }%\n",
	         &rep);
	expect_fail(HANDSHAKE "+0 %{ assert tcpi_snd_cwnd == 11, tcpi_snd_cwnd }%\n", 9,
	            "assert tcpi_snd_cwnd == 11 failed: 10");
}

/* nstat reads tapstack's counters under Linux's names; tc's "pfifo limit 0" drops every frame. */
static void test_nstat_and_qdisc(void **state)
{
	(void)state;
	struct drill_report rep;
	run_ok(LISTEN "+0 `nstat -n`\n" "+0 < . 1:1(0) ack 1 win 514\n+0 > R 1:1(0)\n"
	         "+0 `nstat -s | grep TcpOutRsts | grep -q \" 1 \"`\n",
	         &rep);
	expect_fail(LISTEN "+0 `nstat -n`\n+0 `nstat | grep TcpOutRsts | grep -q \" 1 \"`\n", 6, "no line matches");
	/* With the qdisc dropping everything the SYN-ACK never appears; without it, it does. */
	expect_fail(LISTEN "+0 `tc qdisc add dev tun0 root pfifo limit 0`\n" "+0 < S 0:0(0) win 65535 <mss 1460,nop,wscale 7>\n"
	            "+0 > S. 0:0(0) ack 1 <...>\n", 7, "none was sent");
	run_text(LISTEN "+0 `tc qdisc add dev tun0 root pfifo limit 0`\n+0 `tc qdisc del dev tun0 root`\n", &rep);
	assert_true(rep.passed);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_passing_script),
		cmocka_unit_test(test_default_ack_is_relative),
		cmocka_unit_test(test_closed_port_rst),
		cmocka_unit_test(test_wrong_syn_ack_options),
		cmocka_unit_test(test_missing_packet),
		cmocka_unit_test(test_call_results),
		cmocka_unit_test(test_blocking_call_timing),
		cmocka_unit_test(test_virtual_time),
		cmocka_unit_test(test_unsupported_and_ignored),
		cmocka_unit_test(test_files_and_sendfile),
		cmocka_unit_test(test_nstat_and_qdisc),
		cmocka_unit_test(test_code_blocks),
	};
	return cmocka_run_group_tests_name("drill_runner", tests, NULL, NULL);
}
