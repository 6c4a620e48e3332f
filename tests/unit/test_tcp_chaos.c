/*
 * test_tcp_chaos.c - seeded random segments against live connections: whatever arrives
 * (any flags, sequence and acknowledgment numbers near or far from the window, options,
 * payload sizes, with time passing), the stack must not crash (the ASan build runs this
 * too), must keep its buffers bounded, and every segment it sends must be well-formed
 * (checked by the harness) and plausible: from the right ports, never carrying SYN on an
 * established connection, never a sequence number beyond what the application wrote.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "helpers/tcp_harness.h"
#include "socket/socket.h"

static int setup(void **state)
{
	*state = th_new(NULL);
	return 0;
}

static int teardown(void **state)
{
	th_free(*state);
	return 0;
}

static uint64_t rnd_state;

static uint32_t rnd(void)
{
	rnd_state = rnd_state * 6364136223846793005ull + 1442695040888963407ull;
	return (uint32_t)(rnd_state >> 33);
}

/* A sequence number near `base`: mostly inside a 64 KiB window, sometimes anywhere. */
static uint32_t near(uint32_t base)
{
	switch (rnd() % 4) {
	case 0:
		return base;
	case 1:
		return base + rnd() % 70000u;
	case 2:
		return base - rnd() % 70000u;
	default:
		return rnd();
	}
}

static void print_sock(const struct tcp_sock_info *i, void *arg)
{
	(void)arg;
	print_message("      %s %u -> %u recv_q %u send_q %u\n", i->state, i->lport, i->rport, i->recv_q, i->send_q);
}

static void run_chaos(struct th *h, uint64_t seed, int rounds, bool with_ts)
{
	struct socket_layer *sl = th_sl(h);
	/* TC_SEED=N explores other seeds. */
	rnd_state = getenv("TC_SEED") ? strtoull(getenv("TC_SEED"), NULL, 0) * 2 + seed : seed;
	int lfd = th_listen(h, 80, 8);
	struct tcp_opts syn = th_mss_opts(1460);
	if (with_ts) {
		syn = th_linux_syn_opts(1);
	}
	int fd = th_open_passive(h, lfd, &syn, 65535);
	uint32_t written = 0;
	bool fin_sent = false, closed = false;
	bool reborn = false;   /* the connection died and a random SYN opened a new one */
	unsigned reopened = 0;
	static uint8_t payload[1400], buf[65536];
	memset(payload, 'c', sizeof(payload));

	for (int i = 0; i < rounds; i++) {
		/* The application side. */
		if (!closed) {
			switch (rnd() % 8) {
			case 0: {
				ssize_t r = ts_send(sl, fd, buf, rnd() % 5000, 0);
				if (r > 0)
					written += (uint32_t)r;
				break;
			}
			case 1:
				(void)ts_recv(sl, fd, buf, rnd() % sizeof(buf), 0);
				break;
			case 2:
				if (rnd() % 50 == 0) {
					(void)ts_shutdown(sl, fd, SHUT_WR);
					fin_sent = true;
				}
				break;
			case 3:
				if (rnd() % 200 == 0) {
					(void)ts_close(sl, fd);
					closed = true;
				}
				break;
			default:
				break;
			}
		}
		/* A random segment from the peer. */
		uint8_t flags = (uint8_t)(rnd() & 0xff);
		if (rnd() % 32)
			flags &= (uint8_t)~(TCP_FLAG_SYN | TCP_FLAG_RST);   /* mostly not fatal */
		struct tcp_opts o;
		memset(&o, 0, sizeof(o));
		if (with_ts && rnd() % 8) {
			o.has_ts = true;
			o.ts_val = 1 + (uint32_t)i;
			o.ts_ecr = rnd() % 2 ? 0 : rnd();
		}
		if (rnd() % 16 == 0) {
			o.sack_count = (uint8_t)(1 + rnd() % 3);
			for (unsigned k = 0; k < o.sack_count; k++) {
				o.sack[k].start = near(h->iss + 1);
				o.sack[k].end = o.sack[k].start + rnd() % 5000;
			}
		}
		uint32_t len = rnd() % 3 ? 0 : rnd() % sizeof(payload);
		th_send(h, flags, near(h->irs + 1), near(h->iss + 1), (uint16_t)rnd(), &o, payload, len);
		if (rnd() % 16 == 0)
			th_advance(h, rnd() % 3000);

		struct th_seg s;
		while (th_pop_seg(h, &s)) {
			if (s.hdr.dport != h->peer_port)
				continue;   /* an earlier connection still closing */
			if (s.hdr.flags & TCP_FLAG_SYN) {
				/* Only as the answer to a SYN for a tuple that no longer has a connection. */
				/* (or, once such a request exists, its timer's SYN-ACK retransmission) */
				if (!(((flags & TCP_FLAG_SYN) && !(flags & (TCP_FLAG_ACK | TCP_FLAG_RST))) || reborn) ||
				    s.hdr.flags != (TCP_FLAG_SYN | TCP_FLAG_ACK))
					fail_msg("round %d: flags 0x%x answered with a SYN (0x%x)", i, flags, s.hdr.flags);
				reborn = true;
				continue;
			}
			if (s.hdr.flags & TCP_FLAG_RST || reborn)
				continue;   /* a RST may carry SEG.ACK of a bogus segment */
			uint32_t rel = s.hdr.seq - h->iss;
			if (rel > 1 + written + 1 + 1)
				fail_msg("round %d: seq ISS+%u beyond the %u bytes written", i, rel, written);
			if (s.len > 1460)
				fail_msg("round %d: %u bytes in one segment", i, s.len);
		}
		if (h->st.core.pool.cls[0].in_use > 2000)
			fail_msg("round %d: %u packet buffers in use", i, h->st.core.pool.cls[0].in_use);

		/* The connection is gone (reset, closed, timed out) or replaced: start a fresh one
		 * from the next peer port, so most rounds hit a live connection. */
		if (reborn || !th_state(h, h->peer_port) || closed) {
			if (!closed)
				ts_close(sl, fd);
			th_drain(h);
			h->peer_port++;
			h->irs = rnd();
			fd = th_open_passive(h, lfd, &syn, 65535);
			written = 0;
			closed = reborn = fin_sent = false;
			reopened++;
		}
	}
	print_message("    %d rounds, %u connections\n", rounds, reopened + 1);
	(void)fin_sent;
	if (!closed)
		ts_close(sl, fd);
	/* Every connection ends within the retransmission give-up time (15 retries, each at most
	 * 120 s once backed off) and TIME-WAIT:
	 * then nothing may hold a packet buffer any more. */
	th_advance(h, 3600 * 1000);
	th_drain(h);
	if (h->st.core.pool.cls[0].in_use > 2 || h->st.core.pool.cls[1].in_use > 0)
		tcp_foreach_sock(&h->st.tcp, print_sock, NULL);
	if (h->st.core.pool.cls[0].in_use > 2 || h->st.core.pool.cls[1].in_use > 0)
		fail_msg("%u small and %u large packet buffers still in use after every connection ended",
		         h->st.core.pool.cls[0].in_use, h->st.core.pool.cls[1].in_use);
}

static void test_chaos_plain(void **state)
{
	run_chaos(*state, 1, 20000, false);
}

static void test_chaos_timestamps_sack(void **state)
{
	run_chaos(*state, 2, 20000, true);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_chaos_plain, setup, teardown),
		cmocka_unit_test_setup_teardown(test_chaos_timestamps_sack, setup, teardown),
	};
	return cmocka_run_group_tests_name("tcp_chaos", tests, NULL, NULL);
}
