/*
 * test_cli.c - the program's control-socket commands without a device or root (apps/cli/):
 * ss_query_parse() accepts ss(8)'s words and names the first bad one; ss_write() over a real
 * connection between two stacks selects rows by state and port and prints -i, -o and -e as
 * ss does; nstat_print() hides zeros, shows deltas since the previous -d (its history file),
 * -a, -r, and JSON; the Prometheus text has a TYPE line per counter; ctl_answer() refuses every
 * request it cannot parse with one error line and leaves the stack as it was.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "apps/cli/ctl.h"
#include "apps/cli/nstat.h"
#include "apps/cli/ss.h"
#include "drivers/memdev.h"
#include "helpers/stack_pair.h"
#include "stack.h"

static int parse(struct ss_query *q, const char *line, char *err, size_t errlen)
{
	char buf[256], *w[32];
	int n = 0;
	snprintf(buf, sizeof(buf), "%s", line);
	for (char *t = strtok(buf, " "); t && n < 32; t = strtok(NULL, " "))
		w[n++] = t;
	return ss_query_parse(q, n, w, err, errlen);
}

static void test_ss_parse(void **state)
{
	(void)state;
	struct ss_query q;
	char err[160];
	assert_int_equal(parse(&q, "", err, sizeof(err)), 0);
	assert_true(q.tcp && !q.udp && !q.info && q.sport == -1 && q.dport == -1);
	assert_int_equal(parse(&q, "-tieo state established sport = :80 dport == 5", err, sizeof(err)), 0);
	assert_true(q.info && q.ext && q.timers && q.sport == 80 && q.dport == 5);
	assert_int_equal(parse(&q, "-u", err, sizeof(err)), 0);
	assert_true(q.udp && !q.tcp);
	static const struct {
		const char *line, *err;
	} bad[] = {
		{ "-x", "unknown option '-x'" },        { "-tq", "unknown option '-q'" },
		{ "state", "'state' needs" },           { "state nosuch", "unknown state 'nosuch'" },
		{ "sport 80", "expected 'sport = PORT'" }, { "dport = 65536", "bad port '65536'" },
		{ "sport = x", "bad port 'x'" },        { "bogus", "unexpected argument 'bogus'" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		assert_int_equal(parse(&q, bad[i].line, err, sizeof(err)), -1);
		if (!strstr(err, bad[i].err))
			fail_msg("'%s': got '%s', want '%s'", bad[i].line, err, bad[i].err);
	}
}

/* The rows of `ss LINE` over the stacks, in a malloc'd string. */
static char *ss_text(struct stack *s, const char *line)
{
	struct ss_query q;
	char err[160], *out = NULL;
	size_t len = 0;
	assert_int_equal(parse(&q, line, err, sizeof(err)), 0);
	FILE *f = open_memstream(&out, &len);
	assert_non_null(f);
	ss_write(s, &q, f);
	fclose(f);
	return out;
}

/* Two stacks, a listener on A port 80 and B connected to it: afd (accepted on A), cfd (on B). */
static void pair_connect(struct stack *a, struct stack *b, usec_t *now, int *afd, int *cfd)
{
	stack_pair_init(a, b, *now);
	struct socket_layer *sa = ts_stack_sockets(a), *sb = ts_stack_sockets(b);
	int lfd = ts_socket(sa, AF_INET, SOCK_STREAM, 0);
	*cfd = ts_socket(sb, AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(80) };
	assert_int_equal(ts_bind(sa, lfd, &sin), 0);
	assert_int_equal(ts_listen(sa, lfd, 8), 0);
	sin.sin_addr.s_addr = htonl(STACK_PAIR_A_IP);
	assert_int_equal(ts_connect(sb, *cfd, &sin), -EINPROGRESS);
	*afd = -1;
	for (int i = 0; i < 100 && *afd < 0; i++) {
		stack_pair_run(a, b, now, 1);
		*afd = ts_accept(sa, lfd, NULL, 0);
	}
	assert_true(*afd >= 0);
}

static void test_ss_rows(void **state)
{
	(void)state;
	static struct stack a, b;
	usec_t now = USEC_PER_SEC;
	int afd, cfd;
	pair_connect(&a, &b, &now, &afd, &cfd);
	struct socket_layer *sa = ts_stack_sockets(&a), *sb = ts_stack_sockets(&b);
	assert_int_equal(ts_send(sb, cfd, "hello", 5, 0), 5);
	stack_pair_run(&a, &b, &now, 10);

	char *t = ss_text(&a, "");
	assert_non_null(strstr(t, "State"));
	assert_null(strstr(t, "LISTEN"));              /* as ss: no listeners without -l/-a */
	assert_non_null(strstr(t, "ESTAB      5 "));    /* Recv-Q: the unread hello */
	free(t);
	t = ss_text(&a, "-l");
	assert_non_null(strstr(t, "LISTEN     0       8       0.0.0.0:80"));
	assert_null(strstr(t, "ESTAB"));
	free(t);
	t = ss_text(&a, "-a sport = 81");
	assert_null(strstr(t, "LISTEN"));
	assert_null(strstr(t, "ESTAB"));
	free(t);
	t = ss_text(&a, "state syn-sent");
	assert_null(strstr(t, "ESTAB"));
	free(t);
	t = ss_text(&a, "-ie state established sport = 80");
	assert_non_null(strstr(t, "ESTAB"));
	assert_non_null(strstr(t, " sk:"));
	assert_non_null(strstr(t, "\n\tts sack cubic wscale:")); /* the congestion control, as ss */
	assert_non_null(strstr(t, " mss:1448 "));
	assert_non_null(strstr(t, " bytes_received:5"));
	free(t);
	t = ss_text(&b, "-i");
	assert_non_null(strstr(t, " bytes_acked:5 "));
	assert_non_null(strstr(t, " minrtt:"));   /* the sender measured its data's round trip */
	free(t);
	/* Closed by the client first (the hello read, so the server closes without a RST):
	 * TIME-WAIT on the client's side, with its timer. */
	char buf[8];
	assert_int_equal(ts_recv(sa, afd, buf, sizeof(buf), 0), 5);
	assert_int_equal(ts_close(sb, cfd), 0);
	stack_pair_run(&a, &b, &now, 10);
	assert_int_equal(ts_close(sa, afd), 0);
	stack_pair_run(&a, &b, &now, 50);
	t = ss_text(&b, "-o state time-wait");
	assert_non_null(strstr(t, "TIME-WAIT"));
	assert_non_null(strstr(t, "timer:(timewait,59.9sec,0)"));
	free(t);
	t = ss_text(&b, "-tu state time-wait");
	assert_non_null(strstr(t, "Netid"));
	assert_non_null(strstr(t, "tcp   TIME-WAIT"));
	free(t);
	/* UDP: an unconnected socket is "closed" (UNCONN, shown with -a), a connected one ESTAB;
	 * Recv-Q is the memory of its queued datagrams; with -tu the UDP rows come first. */
	int u = ts_socket(sa, AF_INET, SOCK_DGRAM, 0), c = ts_socket(sb, AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in us = { .sin_family = AF_INET, .sin_port = htons(53) };
	assert_int_equal(ts_bind(sa, u, &us), 0);
	us.sin_addr.s_addr = htonl(STACK_PAIR_A_IP);
	assert_int_equal(ts_connect(sb, c, &us), 0);
	assert_int_equal(ts_send(sb, c, "q", 1, 0), 1);
	stack_pair_run(&a, &b, &now, 10);
	t = ss_text(&a, "-u");
	assert_null(strstr(t, "UNCONN"));
	free(t);
	t = ss_text(&a, "-ua sport = 53");
	assert_non_null(strstr(t, "UNCONN     "));
	assert_null(strstr(t, "UNCONN     0 "));       /* the datagram's buffer */
	assert_non_null(strstr(t, "0.0.0.0:53 "));
	free(t);
	t = ss_text(&b, "-tua");
	assert_non_null(strstr(t, "udp   ESTAB"));
	assert_true(strstr(t, "udp   ESTAB") < strstr(t, "tcp   TIME-WAIT"));
	free(t);
	ts_stack_destroy(&a);
	ts_stack_destroy(&b);
}

/* Under seeded loss and reordering, ss -i shows the scoreboard while it holds marks
 * (sacked, lost, retrans) and how far the path reorders once that differs from the default
 * 3 ("reordering:N", Linux's tp->reordering, as ss(8)), with the tallies ss prints from
 * TCP_INFO (bytes_sent, bytes_retrans, delivered, reord_seen, snd_wnd); a clean path
 * shows no reordering. */
static void test_ss_info_under_loss(void **state)
{
	(void)state;
	static struct stack a, b;
	usec_t now = USEC_PER_SEC;
	int afd, cfd;
	pair_connect(&a, &b, &now, &afd, &cfd);
	struct socket_layer *sa = ts_stack_sockets(&a), *sb = ts_stack_sockets(&b);
	char *clean = ss_text(&a, "-i state established");
	assert_null(strstr(clean, " reordering:"));
	free(clean);
	struct memdev_config mc;
	memdev_config_default(&mc);
	mc.seed = 7;
	mc.loss_ppm = 30000;                 /* 3 % of the frames the server sends */
	mc.reorder_ppm = 100000;             /* 10 % held back behind the next one */
	memdev_set_impairments(a.dev, &mc);
	static uint8_t buf[1 << 16];
	memset(buf, 'x', sizeof(buf));
	bool sacked = false, lost = false, retrans = false, rate = false, reordering = false;
	bool tallies = false, reord_seen = false;
	size_t got = 0;
	for (int i = 0; i < 20000 && got < (4u << 20) && !(sacked && lost && retrans && reordering); i++) {
		ts_send(sa, afd, buf, sizeof(buf), 0);
		stack_pair_run(&a, &b, &now, 1);
		ssize_t n;
		while ((n = ts_recv(sb, cfd, buf, sizeof(buf), 0)) > 0)
			got += (size_t)n;
		char *t = ss_text(&a, "-i state established");
		sacked |= strstr(t, " sacked:") != NULL;
		lost |= strstr(t, " lost:") != NULL;
		retrans |= strstr(t, " retrans:") != NULL;
		rate |= strstr(t, " delivery_rate ") != NULL; /* tcp_rate.c, as ss prints it */
		reordering |= strstr(t, " reordering:") != NULL;
		reord_seen |= strstr(t, " reord_seen:") != NULL;
		/* TCP_INFO's tallies, as ss prints them. */
		tallies |= strstr(t, " bytes_sent:") && strstr(t, " bytes_retrans:") && strstr(t, " delivered:") &&
		           strstr(t, " snd_wnd:");
		free(t);
	}
	assert_true(reordering);
	assert_true(reord_seen);
	assert_true(tallies);
	assert_true(sacked);
	assert_true(lost);
	assert_true(retrans);
	assert_true(rate);
	ts_stack_destroy(&a);
	ts_stack_destroy(&b);
}

static char *print(const struct nstat_opts *o, const char *raw, const char *key)
{
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);
	assert_non_null(f);
	assert_int_equal(nstat_print(o, raw, key, f), 0);
	fclose(f);
	return out;
}

static void test_nstat(void **state)
{
	(void)state;
	char key[64];
	snprintf(key, sizeof(key), "test_cli-%d", (int)getpid());
	struct nstat_opts o = { 0 }, z = { .zeros = true }, d = { .deltas = true }, r = { .reset = true };
	char *t = print(&o, "tcp.InSegs 10\ntcp.OutRsts 0\nip.InReceives 12\n", key);
	assert_string_equal(t, "tcp.InSegs                               10\n"
	                       "ip.InReceives                            12\n");
	free(t);
	t = print(&z, "tcp.InSegs 10\ntcp.OutRsts 0\n", key);
	assert_non_null(strstr(t, "tcp.OutRsts                              0\n"));
	free(t);
	free(print(&r, "", key));
	t = print(&d, "tcp.InSegs 10\ntcp.OutRsts 0\n", key);   /* first -d: since start */
	assert_non_null(strstr(t, "tcp.InSegs                               10\n"));
	free(t);
	t = print(&d, "tcp.InSegs 15\ntcp.OutRsts 0\n", key);   /* then the delta */
	assert_string_equal(t, "tcp.InSegs                               5\n");
	free(t);
	t = print(&d, "tcp.InSegs 15\ntcp.OutRsts 0\n", key);   /* nothing new */
	assert_string_equal(t, "");
	free(t);
	struct nstat_opts da = { .deltas = true, .absolute = true };
	t = print(&da, "tcp.InSegs 20\n", key);
	assert_string_equal(t, "tcp.InSegs                               20\n");
	free(t);
	t = print(&d, "tcp.InSegs 21\n", key);                  /* -a remembered 20 */
	assert_string_equal(t, "tcp.InSegs                               1\n");
	free(t);
	free(print(&r, "", key));                                /* -r: the file is gone */
	/* A history that is not a regular file of ours (a link planted in /tmp) is ignored. */
	char hpath[128], decoy[] = "/tmp/tapstack-test-decoy-XXXXXX";
	nstat_history_path(hpath, sizeof(hpath), key);
	int dfd = mkstemp(decoy);
	assert_true(dfd >= 0);
	assert_int_equal(write(dfd, "tcp.InSegs 1000\n", 16), 16);
	close(dfd);
	assert_int_equal(symlink(decoy, hpath), 0);
	t = print(&d, "tcp.InSegs 1500\n", key);
	assert_string_equal(t, "tcp.InSegs                               1500\n");
	free(t);
	free(print(&r, "", key));
	unlink(decoy);
	struct nstat_opts j = { .json = true, .zeros = true };
	t = print(&j, "ip.InReceives 3\ntcp.InSegs 10\ntcp.OutRsts 0\n", key);
	assert_string_equal(t, "{\"ip\":{\"InReceives\":3},\"tcp\":{\"InSegs\":10,\"OutRsts\":0}}\n");
	free(t);
	struct nstat_opts jn = { .json = true };
	t = print(&jn, "tcp.OutRsts 0\n", key);
	assert_string_equal(t, "{}\n");
	free(t);
	/* Garbage lines are skipped, not trusted. */
	t = print(&o, "no value here\n\n tcp.X 1 junk\ntcp.Y notanumber\n", key);
	assert_string_equal(t, "tcp.X                                    1\n");
	free(t);
}

static void test_nstat_parse_and_prometheus(void **state)
{
	(void)state;
	struct nstat_opts o;
	char err[160];
	char *ok[] = { "-zd", "-a", "--json" };
	assert_int_equal(nstat_parse(&o, 3, ok, err, sizeof(err)), 0);
	assert_true(o.zeros && o.deltas && o.absolute && o.json);
	char *bad1[] = { "-x" };
	assert_int_equal(nstat_parse(&o, 1, bad1, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "unknown option '-x'"));
	char *bad2[] = { "--json", "--prometheus" };
	assert_int_equal(nstat_parse(&o, 2, bad2, err, sizeof(err)), -1);
	char *bad3[] = { "extra" };
	assert_int_equal(nstat_parse(&o, 1, bad3, err, sizeof(err)), -1);

	static struct stack a, b;
	stack_pair_init(&a, &b, USEC_PER_SEC);
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);
	nstat_write_prometheus(&a, f);
	fclose(f);
	assert_non_null(strstr(out, "# TYPE tapstack_tcp_InSegs counter\ntapstack_tcp_InSegs 0\n"));
	free(out);
	f = open_memstream(&out, &len);
	nstat_write_raw(&a, f);
	fclose(f);
	assert_non_null(strstr(out, "\ntcp.InSegs 0\n"));
	free(out);
	ts_stack_destroy(&a);
	ts_stack_destroy(&b);
}

static char *answer(struct stack *s, const char *req)
{
	char buf[CTL_REQ_MAX + 1], *out = NULL;
	size_t len = 0;
	snprintf(buf, sizeof(buf), "%s", req);
	FILE *f = open_memstream(&out, &len);
	assert_non_null(f);
	ctl_answer(s, buf, f);
	fclose(f);
	return out;
}

static void test_ctl_answer(void **state)
{
	(void)state;
	static struct stack a, b;
	stack_pair_init(&a, &b, USEC_PER_SEC);
	char *before = answer(&a, "stats");
	static const struct {
		const char *req, *want;
	} cases[] = {
		{ "bogus", "error: unknown request 'bogus'" },
		{ "", "error: unknown request ''" },
		{ "stats now", "error: unknown request 'stats'" },
		{ "ss -Z", "error: ss: unknown option '-Z'" },
		{ "ss state nosuch", "error: ss: unknown state 'nosuch'" },
		{ "ss \x01\x02", "error: unparsable request" },
		{ "\xff\xfe", "error: unparsable request" },
		{ "ss -t -t -t -t -t -t -t -t -t -t -t -t -t -t -t -t -t -t -t -t -t -t -t -t -t -t -t -t -t -t -t -t -t",
		  "error: too many words" },
		{ "stats", "tcp.InSegs 0\n" },
		{ "metrics", "# TYPE tapstack_tcp_InSegs counter\n" },
		{ "ss -l", "State" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *t = answer(&a, cases[i].req);
		if (!strstr(t, cases[i].want))
			fail_msg("'%s': got '%.80s', want '%s'", cases[i].req, t, cases[i].want);
		if (strncmp(cases[i].want, "error: ", 7) == 0 && strchr(t, '\n') != t + strlen(t) - 1)
			fail_msg("'%s': more than one line: '%s'", cases[i].req, t);
		free(t);
	}
	char *after = answer(&a, "stats");    /* every counter as it was */
	assert_string_equal(before, after);
	free(before);
	free(after);
	ts_stack_destroy(&a);
	ts_stack_destroy(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ss_parse),
		cmocka_unit_test(test_ss_rows),
		cmocka_unit_test(test_ss_info_under_loss),
		cmocka_unit_test(test_nstat),
		cmocka_unit_test(test_nstat_parse_and_prometheus),
		cmocka_unit_test(test_ctl_answer),
	};
	return cmocka_run_group_tests_name("cli", tests, NULL, NULL);
}
