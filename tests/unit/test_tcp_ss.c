/*
 * test_tcp_ss.c - what `tapstack ss` and `tapstack stats` show, checked against a scripted
 * exchange: tcp_foreach_sock() reports each socket like `ss -tan` (LISTEN: Recv-Q = accept
 * queue length, Send-Q = backlog; connections: unread and unacknowledged bytes), and the
 * MIB counters (RFC 4022 names, as `netstat -s`) count exactly what happened.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "helpers/tcp_harness.h"
#include "socket/socket.h"

struct find {
	uint16_t lport, rport;
	bool found;
	struct tcp_sock_info info;
	unsigned count;
};

static void find_cb(const struct tcp_sock_info *i, void *arg)
{
	struct find *f = arg;
	f->count++;
	if (i->lport == f->lport && i->rport == f->rport) {
		f->found = true;
		f->info = *i;
	}
}

static struct find ss_find(struct th *h, uint16_t lport, uint16_t rport)
{
	struct find f = {.lport = lport, .rport = rport};
	tcp_foreach_sock(&h->st.tcp, find_cb, &f);
	return f;
}

/* LISTEN shows the accept queue length and the backlog (as Linux's ss); SYN-RECV entries
 * are listed; an accepted idle connection shows empty queues (test_mib_counters checks
 * unread bytes in Recv-Q and unacknowledged bytes in Send-Q). */
static void test_ss_table(void **state)
{
	struct th *h = *state;
	struct socket_layer *sl = th_sl(h);
	int lfd = th_listen(h, 80, 5);
	struct find f = ss_find(h, 80, 0);
	assert_true(f.found);
	assert_true(th_state_name_eq(f.info.state, "LISTEN"));
	assert_int_equal(f.info.recv_q, 0);
	assert_int_equal(f.info.send_q, 5);

	struct tcp_opts mss = th_mss_opts(1460);
	for (uint16_t p = 45000; p < 45002; p++) {
		h->peer_port = p;
		th_send(h, TCP_FLAG_SYN, h->irs, 0, 65535, &mss, NULL, 0);
		struct th_seg s = th_expect(h, TCP_FLAG_SYN | TCP_FLAG_ACK, TH_ANY, h->irs + 1, TH_ANY, &mss, 0);
		h->iss = s.hdr.seq;
		th_send(h, TCP_FLAG_ACK, h->irs + 1, h->iss + 1, 65535, NULL, NULL, 0);
	}
	h->peer_port = 45002;
	th_send(h, TCP_FLAG_SYN, h->irs, 0, 65535, &mss, NULL, 0);
	th_drain(h);
	f = ss_find(h, 80, 0);
	assert_int_equal(f.info.recv_q, 2);
	assert_int_equal(f.info.send_q, 5);
	f = ss_find(h, 80, 45002);
	assert_true(f.found);
	assert_true(th_state_name_eq(f.info.state, "SYN-RECEIVED"));
	assert_int_equal(f.info.laddr, TH_LOCAL_IP);
	assert_int_equal(f.info.raddr, TH_PEER_IP);

	struct sockaddr_in peer;
	int fd = ts_accept(sl, lfd, &peer, SOCK_NONBLOCK);
	assert_true(fd >= 0);
	assert_int_equal(ntohs(peer.sin_port), 45000);
	assert_int_equal(ss_find(h, 80, 0).info.recv_q, 1);

	/* Accepted and idle: nothing queued either way. */
	f = ss_find(h, 80, 45000);
	assert_true(th_state_name_eq(f.info.state, "ESTABLISHED"));
	assert_int_equal(f.info.recv_q, 0);
	assert_int_equal(f.info.send_q, 0);
}

/* The counters of one whole passive connection: handshake, data both ways, a reset. */
static void test_mib_counters(void **state)
{
	struct th *h = *state;
	struct socket_layer *sl = th_sl(h);
	int lfd = th_listen(h, 80, 5);
	uint64_t in0 = th_counter(h, "tcp", "InSegs"), out0 = th_counter(h, "tcp", "OutSegs");
	struct tcp_opts mss = th_mss_opts(1460);
	int fd = th_open_passive(h, lfd, &mss, 65535);
	assert_int_equal(th_counter(h, "tcp", "PassiveOpens"), 1);
	assert_int_equal(th_counter(h, "tcp", "ActiveOpens"), 0);
	assert_int_equal(th_counter(h, "tcp", "CurrEstab"), 1);
	assert_int_equal(th_counter(h, "tcp", "InSegs"), in0 + 2);
	assert_int_equal(th_counter(h, "tcp", "OutSegs"), out0 + 1);

	th_send(h, TCP_FLAG_ACK | TCP_FLAG_PSH, h->irs + 1, h->iss + 1, 65535, NULL, "1234567", 7);
	th_advance(h, 300);
	th_drain(h);
	assert_int_equal(ts_send(sl, fd, "abcde", 5, 0), 5);
	th_expect(h, TCP_FLAG_ACK | TH_PSH_ANY, h->iss + 1, h->irs + 8, TH_ANY, NULL, 5);
	struct find f = ss_find(h, 80, TH_PEER_PORT);
	assert_int_equal(f.info.recv_q, 7);
	assert_int_equal(f.info.send_q, 5);
	th_send(h, TCP_FLAG_ACK, h->irs + 8, h->iss + 6, 65535, NULL, NULL, 0);
	assert_int_equal(ss_find(h, 80, TH_PEER_PORT).info.send_q, 0);

	th_send(h, TCP_FLAG_RST, h->irs + 8, 0, 0, NULL, NULL, 0);
	assert_int_equal(th_counter(h, "tcp", "EstabResets"), 1);
	assert_int_equal(th_counter(h, "tcp", "CurrEstab"), 0);
	assert_int_equal(th_counter(h, "tcp", "InSegs"), in0 + 5);
	assert_int_equal(th_counter(h, "tcp", "RetransSegs"), 0);
	assert_int_equal(th_counter(h, "tcp", "OutRsts"), 0);
	assert_false(ss_find(h, 80, TH_PEER_PORT).found);

	/* A SYN to a closed port: OutRsts (and OutSegs) count the RST. */
	uint64_t out1 = th_counter(h, "tcp", "OutSegs");
	h->local_port = 81;
	th_send(h, TCP_FLAG_SYN, 1, 0, 1024, NULL, NULL, 0);
	th_drain(h);
	assert_int_equal(th_counter(h, "tcp", "OutRsts"), 1);
	assert_int_equal(th_counter(h, "tcp", "OutSegs"), out1 + 1);
}

/* An active open refused by a RST counts as AttemptFails; TCP_MAXSEG reports the MSS. */
static void test_active_counters_and_maxseg(void **state)
{
	struct th *h = *state;
	struct socket_layer *sl = th_sl(h);
	struct th_seg syn;
	int fd = th_connect(h, 80, &syn);
	assert_int_equal(th_counter(h, "tcp", "ActiveOpens"), 1);
	struct tcp_opts mss = th_mss_opts(1200);
	th_send(h, TCP_FLAG_SYN | TCP_FLAG_ACK, h->irs, h->iss + 1, 65535, &mss, NULL, 0);
	th_drain(h);
	int v = 0;
	socklen_t len = sizeof(v);
	assert_int_equal(ts_getsockopt(sl, fd, IPPROTO_TCP, TCP_MAXSEG, &v, &len), 0);
	assert_int_equal(v, 1200);
	assert_int_equal(th_counter(h, "tcp", "CurrEstab"), 1);

	(void)th_connect(h, 81, &syn);
	th_send(h, TCP_FLAG_RST | TCP_FLAG_ACK, 0, syn.hdr.seq + 1, 0, NULL, NULL, 0);
	assert_int_equal(th_counter(h, "tcp", "AttemptFails"), 1);
	assert_int_equal(th_counter(h, "tcp", "ActiveOpens"), 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_ss_table, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_mib_counters, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_active_counters_and_maxseg, th_setup, th_teardown),
	};
	return cmocka_run_group_tests_name("tcp_ss", tests, NULL, NULL);
}
