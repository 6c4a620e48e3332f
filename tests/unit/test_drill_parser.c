/*
 * test_drill_parser.c - the packetdrill script parser (tests/drill/parse.c, lex.c): every
 * line kind of the language is parsed into the model with the right values, and malformed
 * scripts give an error naming the line, never a crash (the truncation test feeds every
 * prefix of a full script through the parser; the sanitizer build runs it too).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "tests/drill/script.h"
#include "wire/tcp.h"

static struct drill_script *parse_ok(const char *text)
{
	char err[DRILL_ERR_MAX] = "";
	struct drill_script *s = drill_script_parse("t.pkt", text, strlen(text), err);
	if (!s)
		fail_msg("unexpected parse error: %s", err);
	return s;
}

/* Parses text that must fail; checks the message names `line` and contains `needle`. */
static void parse_bad(const char *text, int line, const char *needle)
{
	char err[DRILL_ERR_MAX] = "";
	struct drill_script *s = drill_script_parse("t.pkt", text, strlen(text), err);
	if (s) {
		drill_script_free(s);
		fail_msg("script parsed but should fail: %s", text);
	}
	char prefix[32];
	snprintf(prefix, sizeof(prefix), "t.pkt:%d: ", line);
	if (strncmp(err, prefix, strlen(prefix)) != 0 || !strstr(err, needle))
		fail_msg("error \"%s\" does not start with \"%s\" or lacks \"%s\"", err, prefix, needle);
}

static void test_times(void **state)
{
	(void)state;
	struct drill_script *s = parse_ok("0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n"
	                                  "+.1 close(3) = 0\n"
	                                  "+0...0.200 accept(3, ..., ...) = 4\n"
	                                  "+.01...0.011 connect(3, ..., ...) = 0\n"
	                                  "+.3~+.303 > P. 1001:2001(1000) ack 1\n"
	                                  "* > . 1:1(0) ack 1\n"
	                                  "1.25 close(4) = 0\n");
	assert_int_equal(s->nevents, 7);
	assert_int_equal(s->events[0].time.kind, DRILL_TIME_ABS);
	assert_int_equal(s->events[0].time.start, 0);
	assert_int_equal(s->events[1].time.kind, DRILL_TIME_REL);
	assert_int_equal(s->events[1].time.start, 100000);
	assert_int_equal(s->events[2].time.form, DRILL_TIME_BLOCKING);
	assert_int_equal(s->events[2].time.end, 200000);
	assert_int_equal(s->events[3].time.start, 10000);
	assert_int_equal(s->events[3].time.end, 11000);   /* exact: no float rounding */
	assert_int_equal(s->events[4].time.form, DRILL_TIME_WINDOW);
	assert_int_equal(s->events[4].time.start, 300000);
	assert_int_equal(s->events[4].time.end, 303000);
	assert_int_equal(s->events[5].time.kind, DRILL_TIME_ANY);
	assert_int_equal(s->events[6].time.start, 1250000);
	assert_int_equal(s->events[6].line, 7);
	drill_script_free(s);
}

static void test_packets_and_options(void **state)
{
	(void)state;
	struct drill_script *s = parse_ok(
		"0 < S 0:0(0) win 32792 <mss 1000,sackOK,nop,nop,nop,wscale 7>\n"
		"+0 > S. 0:0(0) ack 1 <mss 1460,nop,nop,sackOK,nop,wscale 8>\n"
		"+0 < . 1:1(0) ack 1 win 257 <nop, nop, sack 1001:2001 3001:4001>\n"
		"+0 > P. 1:1001(1000) ack 1 <nop,nop,TS val 100 ecr 7>\n"
		"+0 > S 0:0(0) <...>\n"
		"+0 > R 2:2(0)\n"
		"+0 < FP. 4294967000:4294967295(295) ack 1 win 0 urg 3\n"
		"+0 < icmp unreachable frag_needed mtu 1200 [1:1461(1460)]\n");
	assert_int_equal(s->nevents, 8);
	const struct drill_packet *p = &s->events[0].packet;
	assert_int_equal(p->dir, '<');
	assert_int_equal(p->flags, TCP_FLAG_SYN);
	assert_true(p->has_win);
	assert_int_equal(p->win, 32792);
	assert_int_equal(p->opts_form, DRILL_OPTS_LIST);
	assert_int_equal(p->nopts, 6);
	assert_int_equal(p->opts[0].kind, DRILL_OPT_MSS);
	assert_int_equal(p->opts[0].a, 1000);
	assert_int_equal(p->opts[1].kind, DRILL_OPT_SACK_PERM);
	assert_int_equal(p->opts[5].kind, DRILL_OPT_WSCALE);
	assert_int_equal(p->opts[5].a, 7);

	p = &s->events[1].packet;
	assert_int_equal(p->flags, TCP_FLAG_SYN | TCP_FLAG_ACK);
	assert_true(p->has_ack);
	assert_int_equal(p->ack, 1);
	assert_false(p->has_win);

	p = &s->events[2].packet;
	assert_int_equal(p->opts[2].kind, DRILL_OPT_SACK);
	assert_int_equal(p->opts[2].nblocks, 2);
	assert_int_equal(p->opts[2].block[1][0], 3001);
	assert_int_equal(p->opts[2].block[1][1], 4001);

	p = &s->events[3].packet;
	assert_int_equal(p->flags, TCP_FLAG_PSH | TCP_FLAG_ACK);
	assert_int_equal(p->seq_start, 1);
	assert_int_equal(p->seq_end, 1001);
	assert_int_equal(p->len, 1000);
	assert_int_equal(p->opts[2].kind, DRILL_OPT_TS);
	assert_int_equal(p->opts[2].a, 100);
	assert_int_equal(p->opts[2].b, 7);

	assert_int_equal(s->events[4].packet.opts_form, DRILL_OPTS_ANY);
	assert_int_equal(s->events[5].packet.opts_form, DRILL_OPTS_NONE);
	assert_int_equal(s->events[5].packet.flags, TCP_FLAG_RST);

	p = &s->events[6].packet;
	assert_int_equal(p->flags, TCP_FLAG_FIN | TCP_FLAG_PSH | TCP_FLAG_ACK);
	assert_int_equal(p->seq_start, 4294967000u);
	assert_true(p->has_urg);
	assert_int_equal(p->urg, 3);

	p = &s->events[7].packet;
	assert_true(p->icmp);
	assert_int_equal(p->icmp_code, 4);
	assert_int_equal(p->icmp_mtu, 1200);
	assert_int_equal(p->len, 1460);

	char buf[128];
	drill_packet_format(buf, sizeof(buf), &s->events[1].packet);
	assert_string_equal(buf, "> S. 0:0(0) ack 1 <mss 1460,nop,nop,sackOK,nop,wscale 8>");
	drill_script_free(s);
}

static void test_syscalls(void **state)
{
	(void)state;
	struct drill_script *s = parse_ok(
		"0 setsockopt(3, SOL_SOCKET, SO_REUSEADDR, [1], 4) = 0\n"
		"+0 fcntl(3, F_SETFL, O_RDWR|O_NONBLOCK) = 0\n"
		"+0 fcntl(3, F_GETFL) = 0x802 (flags O_RDWR|O_NONBLOCK)\n"
		"+0 write(4, NULL, 1000) = -1 EFAULT (Bad address)\n"
		"+0 connect(3, ..., ...) = -1 EINPROGRESS (Operation now in progress) // comment\n"
		"+0\trecvmsg(4, {msg_name(...)=...,\n"
		"\t    msg_iov(1)=[{..., 2000}],\n"
		"\t    msg_flags=0}, 0) = 2000\n"
		"+0 getsockopt(4, SOL_SOCKET, SO_SNDBUF, [42000], [4]) = 0\n");
	assert_int_equal(s->nevents, 7);
	const struct drill_syscall *c = &s->events[0].call;
	assert_string_equal(c->name, "setsockopt");
	assert_int_equal(c->nargs, 5);
	assert_int_equal(c->args[0]->kind, DRILL_EXPR_INT);
	assert_int_equal(c->args[2]->kind, DRILL_EXPR_SYMBOL);
	assert_string_equal(c->args[2]->name, "SO_REUSEADDR");
	assert_int_equal(c->args[3]->kind, DRILL_EXPR_LIST);
	assert_int_equal(c->args[3]->nitems, 1);
	assert_int_equal(c->args[3]->items[0]->num, 1);

	c = &s->events[1].call;
	assert_int_equal(c->args[2]->kind, DRILL_EXPR_OR);
	assert_string_equal(c->args[2]->lhs->name, "O_RDWR");

	c = &s->events[2].call;
	assert_int_equal(c->result->num, 0x802);
	assert_null(c->errno_name);
	assert_string_equal(c->note, "flags O_RDWR|O_NONBLOCK");

	c = &s->events[3].call;
	assert_int_equal(c->args[1]->kind, DRILL_EXPR_NULL);
	assert_int_equal(c->result->num, -1);
	assert_string_equal(c->errno_name, "EFAULT");

	c = &s->events[5].call;
	assert_int_equal(s->events[5].line, 6);
	assert_int_equal(c->args[1]->kind, DRILL_EXPR_STRUCT);
	assert_int_equal(c->args[1]->nitems, 3);
	const struct drill_expr *iov = c->args[1]->items[1];
	assert_int_equal(iov->kind, DRILL_EXPR_FIELD);
	assert_string_equal(iov->name, "msg_iov");
	assert_int_equal(iov->lhs->num, 1);
	assert_int_equal(iov->rhs->kind, DRILL_EXPR_LIST);
	assert_int_equal(iov->rhs->items[0]->items[1]->num, 2000);
	assert_int_equal(c->result->num, 2000);
	assert_int_equal(s->events[6].line, 9);
	char buf[256];
	drill_call_format(buf, sizeof(buf), &s->events[0].call);
	assert_string_equal(buf, "setsockopt(3, SOL_SOCKET, SO_REUSEADDR, [1], 4)");
	drill_call_format(buf, sizeof(buf), &s->events[5].call);
	assert_string_equal(buf, "recvmsg(4, {msg_name(...)=..., msg_iov(1)=[{..., 2000}], msg_flags=0}, 0)");
	drill_call_format(buf, 8, &s->events[5].call); /* truncated, still terminated */
	assert_int_equal(strlen(buf), 7);
	drill_script_free(s);
}

static void test_commands_options_comments(void **state)
{
	(void)state;
	struct drill_script *s = parse_ok(
		"// header comment\n"
		"--tolerance_usecs=10000\n"
		"--send_omit_free\t// no value\n"
		"/* block\n comment */\n"
		"`../common/defaults.sh\n"
		"sysctl -q net.ipv4.tcp_rmem=\"4096 131072 $((32*1024*1024))\"`\n"
		"0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3 /* inline */\n"
		"+0 `tc qdisc add dev tun0 root pfifo limit 0`\n"
		"+0 %{ assert tcpi_snd_cwnd == 10, tcpi_snd_cwnd }%\n"
		"+0 %{\n"
		"assert tcpi_ca_state == TCP_CA_Open\n"
		"}%\n"
		"`/tmp/sysctl_restore_${PPID}.sh`\n");
	assert_int_equal(s->noptions, 2);
	assert_string_equal(s->options[0].name, "tolerance_usecs");
	assert_string_equal(s->options[0].value, "10000");
	assert_string_equal(s->options[1].name, "send_omit_free");
	assert_null(s->options[1].value);
	assert_int_equal(s->nevents, 6);
	assert_true(s->events[0].untimed);
	assert_int_equal(s->events[0].kind, DRILL_EV_COMMAND);
	assert_non_null(strstr(s->events[0].text, "$((32*1024*1024))"));
	assert_int_equal(s->events[0].line, 6);
	assert_int_equal(s->events[1].line, 8);
	assert_int_equal(s->events[2].kind, DRILL_EV_COMMAND);
	assert_false(s->events[2].untimed);
	assert_int_equal(s->events[3].kind, DRILL_EV_CODE);
	assert_int_equal(s->events[4].line, 11);
	assert_true(s->events[5].untimed);
	drill_script_free(s);
}

/* Each malformed script names its line and what is wrong. */
static void test_malformed_scripts(void **state)
{
	(void)state;
	parse_bad("0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n+0 > S. 0:0(0) ack\n", 2, "ack number");
	parse_bad("0 < Q 0:0(0)\n", 1, "unknown TCP flag 'Q'");
	parse_bad("0 < S 0:10(5)\n", 1, "does not match the length");
	parse_bad("0 < S 0:0(0) <mss 1460,bogus 3>\n", 1, "unknown TCP option 'bogus'");
	parse_bad("0 < S 0:0(0) <mss 1460,nop\n+0 close(3) = 0\n", 2, "',' or '>'");
	parse_bad("0 < S 0:0(0) <mss 99999>\n", 1, "16 bits");
	parse_bad("\n\n0 socket(..., SOCK_STREAM = 3\n", 3, "',' or ')'");
	parse_bad("0 close(3)\n+0 close(4) = 0\n", 2, "'= result'");
	parse_bad("0 close(3) = 0 EBADF\n", 1, "needs the result -1");
	parse_bad("0 close(3) = -1 EBADF extra\n", 1, "unexpected 'extra'");
	parse_bad("socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n", 1, "expected an event time");
	parse_bad("0 close(3) = 0\n+0 `unterminated\n\n", 2, "unterminated backquoted command");
	parse_bad("0 close(3) = 0\n+0 %{ assert 1\n", 2, "unterminated %{ code block");
	parse_bad("0 close(3) = 0\n/* open comment\n", 2, "unterminated /* comment");
	parse_bad("0 close(3) = 0\n--tolerance_usecs=5\n", 2, "before the first event");
	parse_bad("0 close(3) = 0\n+0.5...0.1 read(3, ..., 1) = 1\n", 2, "ends");
	parse_bad("0 close(3) = 0\n* close(3) = 0\n", 2, "only allowed on outbound packets");
	parse_bad("0 close(3) = 0\n+0.1234567 close(3) = 0\n", 2, "6 decimals");
	parse_bad("0 < S 99999999999:0(0)\n", 1, "32 bits");
	parse_bad("0 read(3, [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]], 1) = 1\n",
	          1, "nested deeper");
	parse_bad("0 < icmp unreachable bogus_code [1:2(1)]\n", 1, "unknown ICMP");
	parse_bad("0 > icmp unreachable frag_needed [1:2(1)]\n", 1, "outbound ICMP");
}

/* Every prefix of a realistic script either parses or fails with a message; never crashes. */
static void test_every_truncation(void **state)
{
	(void)state;
	const char *full =
		"// truncation test\n--tolerance_usecs=10000\n`./defaults.sh`\n"
		"0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n"
		"+0 setsockopt(3, SOL_SOCKET, SO_REUSEADDR, [1], 4) = 0\n"
		"+0...0.2 accept(3, ..., ...) = 4\n"
		"+.1 < S 0:0(0) win 32792 <mss 1000,sackOK,TS val 1 ecr 0,nop,wscale 7>\n"
		"+0 > S. 0:0(0) ack 1 <...>\n"
		"+.3~+.303 > P. 1001:2001(1000) ack 1 <nop,nop,sack 1:2 3:4>\n"
		"+0 sendmsg(4, {msg_name(...)=..., msg_iov(2)=[{..., 0}, {..., 10}], msg_flags=0}, MSG_EOR) = 10\n"
		"+0 read(4, NULL, 1) = -1 EFAULT (Bad address)\n"
		"+0 %{ assert tcpi_snd_cwnd == 10 }%\n/* c */ `/tmp/x.sh`\n";
	size_t n = strlen(full);
	size_t ok = 0;
	for (size_t len = 0; len <= n; len++) {
		char *copy = malloc(len ? len : 1); /* exact size: the sanitizer catches any overread */
		assert_non_null(copy);
		memcpy(copy, full, len);
		char err[DRILL_ERR_MAX] = "";
		struct drill_script *s = drill_script_parse("t.pkt", copy, len, err);
		if (s) {
			ok++;
			drill_script_free(s);
		} else {
			assert_true(strncmp(err, "t.pkt:", 6) == 0);
		}
		free(copy);
	}
	assert_true(ok >= 5); /* the prefixes ending at statement boundaries parse */
}

/* Found by the drill_parse fuzz target: a form feed after a packet's last field made the
 * option check read one byte past the end of the text (lex_skip_inline stops at it, the
 * ident lookahead skips it). The text sits in an exact-size buffer, so ASan sees any overread. */
static void test_form_feed_at_end_of_packet(void **state)
{
	(void)state;
	static const char text[] = "0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n+0 < . 1:1(0) ack 2 win 51\r\f\f";
	size_t len = sizeof(text) - 1;
	char *copy = malloc(len);
	char err[DRILL_ERR_MAX] = "";

	assert_non_null(copy);
	memcpy(copy, text, len);
	struct drill_script *s = drill_script_parse("t.pkt", copy, len, err);
	if (s)
		drill_script_free(s);
	else
		assert_true(strncmp(err, "t.pkt:", 6) == 0);
	free(copy);
}

/* Random byte mutations of a realistic script (fixed seed): the parser never crashes or overreads. */
static void test_random_mutations(void **state)
{
	(void)state;
	const char *base =
		"--tolerance_usecs=10000\n`../common/defaults.sh`\n"
		"0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n"
		"+0...0.200 accept(3, ..., ...) = 4\n"
		"+.1 < S 0:0(0) win 32792 <mss 1000,sackOK,TS val 1 ecr 0,nop,wscale 7>\n"
		"+0 > S. 0:0(0) ack 1 <mss 1460,nop,nop,sackOK,nop,wscale 8>\n"
		"+.3~+.303 > P. 1001:2001(1000) ack 1 <nop,nop,sack 1:2 3:4>\n"
		"+0 fcntl(3, F_GETFL) = 0x802 (flags O_RDWR|O_NONBLOCK)\n"
		"+0 %{ assert tcpi_snd_cwnd == 10 }%\n/* c */ `/tmp/x.sh`\n";
	const char alphabet[] = "+-.:()<>[]{}=,|`%*~/ \n\t0123456789SFRP.abc";
	size_t n = strlen(base);
	uint64_t x = 0x9e3779b97f4a7c15ull;
	for (int iter = 0; iter < 3000; iter++) {
		char *copy = malloc(n);
		assert_non_null(copy);
		memcpy(copy, base, n);
		int edits = 1 + (int)(x % 4);
		for (int e = 0; e < edits; e++) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			copy[x % n] = alphabet[(x >> 32) % (sizeof(alphabet) - 1)];
		}
		char err[DRILL_ERR_MAX] = "";
		struct drill_script *s = drill_script_parse("t.pkt", copy, n, err);
		if (s)
			drill_script_free(s);
		else
			assert_true(strncmp(err, "t.pkt:", 6) == 0);
		free(copy);
	}
}

static void test_nul_byte_rejected(void **state)
{
	(void)state;
	const char text[] = "0 close(3) = 0\n+0 close(\0) = 0\n";
	char err[DRILL_ERR_MAX] = "";
	assert_null(drill_script_parse("t.pkt", text, sizeof(text) - 1, err));
	assert_non_null(strstr(err, "NUL"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_times),
		cmocka_unit_test(test_packets_and_options),
		cmocka_unit_test(test_syscalls),
		cmocka_unit_test(test_commands_options_comments),
		cmocka_unit_test(test_malformed_scripts),
		cmocka_unit_test(test_every_truncation),
		cmocka_unit_test(test_form_feed_at_end_of_packet),
		cmocka_unit_test(test_random_mutations),
		cmocka_unit_test(test_nul_byte_rejected),
	};
	return cmocka_run_group_tests_name("drill_parser", tests, NULL, NULL);
}
