/*
 * test_tcp_resources.c - what TCP may allocate, and what happens when it cannot:
 *
 *   - the timer heap's reservations (core/timer.c): a reserved timer can always be armed,
 *     even when the heap may not grow (timer_heap.max), and unreserved timers cannot take
 *     its slot;
 *   - a connection whose timers cannot be reserved is not created (NoTimerSlot), so no
 *     connection ever exists that could not retransmit or end;
 *   - TIME-WAIT: bounded by max_tw_buckets; over the bound the connection just closes and
 *     TimeWaitOverflow counts it (Linux's TCPTimeWaitOverflow); entries need no heap slot
 *     (one layer timer serves their FIFO), and a restarted entry keeps the FIFO in order;
 *   - SYN-queue entries come from a recycled pool: a second SYN flood allocates nothing,
 *     and closing the listener gives the pool back;
 *   - giving up on retransmission by time, as Linux's retransmits_timed_out() (924.6 s for
 *     tcp_retries2 = 15), not by a count;
 *   - the stack-wide buffer memory limit (tcp_mem.c, Linux's tcp_mem): pressure counted, at
 *     the hard limit data dropped before it is ACKed and taken once memory is back; the
 *     connection limit; the out-of-order queue bounded by memory, not a segment count.
 * All with the fake clock of tests/unit/helpers/tcp_harness.c.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "socket/socket.h"
#include "helpers/tcp_harness.h"

#define FINACK (TCP_FLAG_FIN | TCP_FLAG_ACK)
#define DATA (TCP_FLAG_ACK | TCP_FLAG_PSH)

static void fire_nothing(struct timer *t, usec_t now)
{
	(void)t;
	(void)now;
}

/* Slots the heap has promised: armed unreserved timers plus every reservation. */
static uint32_t heap_committed(const struct timer_heap *th)
{
	return th->n - th->reserved_armed + th->reserved;
}

static void test_timer_reserve(void **state)
{
	(void)state;
	struct timer_heap hp;
	struct timer r1, r2, u[3];
	timer_heap_init(&hp);
	hp.max = 4;
	timer_init(&r1, fire_nothing);
	timer_init(&r2, fire_nothing);
	for (int i = 0; i < 3; i++)
		timer_init(&u[i], fire_nothing);

	assert_int_equal(timer_reserve(&hp, &r1), 0);
	assert_int_equal(timer_reserve(&hp, &r2), 0);
	assert_int_equal(timer_reserve(&hp, &r2), 0); /* again: a no-op */
	assert_int_equal(hp.reserved, 2);
	/* Two free slots are left for everyone else, and no more. */
	assert_int_equal(timer_arm(&hp, &u[0], 10), 0);
	assert_int_equal(timer_arm(&hp, &u[1], 20), 0);
	assert_int_equal(timer_arm(&hp, &u[2], 30), -ENOMEM);
	assert_false(timer_armed(&u[2]));
	/* The reserved ones still arm: their slots were kept. */
	assert_int_equal(timer_arm(&hp, &r1, 5), 0);
	assert_int_equal(timer_arm(&hp, &r2, 15), 0);
	assert_int_equal(hp.n, 4);
	assert_int_equal(hp.reserved_armed, 2);
	/* A fifth reservation cannot be promised. */
	assert_int_equal(timer_reserve(&hp, &u[2]), -ENOMEM);
	/* Firing keeps the accounting: r1 fires (unarmed, still reserved). */
	assert_int_equal(timer_run(&hp, 5), 1);
	assert_int_equal(hp.reserved_armed, 1);
	assert_int_equal(heap_committed(&hp), 4);
	assert_int_equal(timer_arm(&hp, &u[2], 30), -ENOMEM);
	/* Giving a reservation back frees its slot. */
	timer_unreserve(&hp, &r1);
	assert_int_equal(hp.reserved, 1);
	assert_int_equal(timer_arm(&hp, &u[2], 30), 0);
	timer_unreserve(&hp, &r2); /* armed: cancelled too */
	assert_false(timer_armed(&r2));
	assert_int_equal(hp.reserved, 0);
	assert_int_equal(hp.reserved_armed, 0);
	assert_int_equal(hp.n, 3);
	timer_heap_destroy(&hp);
}

/* Linux's tcp_model_timeout with TCP_RTO_MIN 200 ms and TCP_RTO_MAX 120 s. */
static void test_retrans_timeout_model(void **state)
{
	(void)state;
	struct tcp_config cfg;
	tcp_config_default(&cfg);
	assert_int_equal(tcp_retrans_timeout(&cfg, 15), 924600 * USEC_PER_MS);
	assert_int_equal(tcp_retrans_timeout(&cfg, 8), 102200 * USEC_PER_MS);
	assert_int_equal(tcp_retrans_timeout(&cfg, 9), 204600 * USEC_PER_MS);
	assert_int_equal(tcp_retrans_timeout(&cfg, 10), 324600 * USEC_PER_MS);
	assert_int_equal(tcp_retrans_timeout(&cfg, 1), 600 * USEC_PER_MS);
}

/*
 * A larger RTO floor (a route's rto_min of 1 s; Linux models the give-up time from the
 * constant TCP_RTO_MIN all the same) backs off to the 120 s cap sooner, so the 924.6 s
 * that tcp_retries2 = 15 stands for are used up after fewer than 15 retransmissions
 * (13 here: expiries at about 1, 3, 7, ... 127, 247, ... 847, 967 s). The connection ends at
 * the first expiry at or after 924.6 s from when the lost segment was sent.
 */
static void rto_floor_1s(struct stack_config *cfg)
{
	cfg->tcp.rto_min_ms = 1000;
}

static void test_retrans_gives_up_by_time(void **state)
{
	(void)state;
	struct th *h = th_new(rto_floor_1s);
	struct socket_layer *sl = th_sl(h);
	int fd = th_established(h);

	assert_int_equal(ts_send(sl, fd, "lost", 4, 0), 4);
	th_expect(h, DATA, h->iss + 1, h->irs + 1, TH_ANY, NULL, 4);
	long total = 0, last = 0, first = 0;
	int n = 0;
	for (;;) {
		long t = th_advance_until_seg(h, 200000);
		if (t < 0)
			break;
		th_expect(h, DATA, h->iss + 1, h->irs + 1, TH_ANY, NULL, 4);
		total += t;
		last = t;
		if (!first)
			first = t;
		n++;
		assert_true(n <= 15);
	}
	/* Each gap doubles up to the cap; the connection gave up at the next expiry. */
	long next = last * 2 > 120000 ? 120000 : last * 2;
	assert_true(first >= 1000 && first < 1100);
	assert_true(total < 924600);
	assert_true(total + next >= 924600);
	assert_int_equal(n, 13);
	char b[4];
	assert_int_equal(ts_recv(sl, fd, b, sizeof(b), 0), -ETIMEDOUT);
	assert_int_equal(th_counter(h, "tcp", "RetransSegs"), (uint64_t)n);
	th_free(h);
}

/* Opens a connection from peer port `port`, closes it actively and brings it to TIME-WAIT
 * (or to CLOSED when no TIME-WAIT entry can be had). */
static void close_to_time_wait(struct th *h, int lfd, uint16_t port)
{
	struct tcp_opts mss = th_mss_opts(1460);
	h->peer_port = port;
	h->irs = 1000u * port;
	int fd = th_open_passive(h, lfd, &mss, 65535);
	assert_int_equal(ts_close(th_sl(h), fd), 0);
	th_expect(h, FINACK, h->iss + 1, h->irs + 1, TH_ANY, NULL, 0);
	th_send(h, FINACK, h->irs + 1, h->iss + 2, 65535, NULL, NULL, 0);
	th_expect(h, TCP_FLAG_ACK, h->iss + 2, h->irs + 2, TH_ANY, NULL, 0);
}

static void tw_two(struct stack_config *cfg)
{
	cfg->tcp.max_tw_buckets = 2;
}

static void test_time_wait_bucket_limit(void **state)
{
	(void)state;
	struct th *h = th_new(tw_two);
	struct tcp_layer *tl = &h->st.tcp;
	int lfd = th_listen(h, 80, 8);

	close_to_time_wait(h, lfd, 40001);
	close_to_time_wait(h, lfd, 40002);
	close_to_time_wait(h, lfd, 40003);
	assert_true(th_state_name_eq(th_state(h, 40001), "TIME-WAIT"));
	assert_true(th_state_name_eq(th_state(h, 40002), "TIME-WAIT"));
	assert_null(th_state(h, 40003));
	assert_int_equal(tl->ntw, 2);
	assert_int_equal(th_counter(h, "tcp", "TimeWaitCreated"), 2);
	assert_int_equal(th_counter(h, "tcp", "TimeWaitOverflow"), 1);
	/* The third has no entry: its 4-tuple is unknown, an ACK gets a RST. */
	th_send(h, TCP_FLAG_ACK, h->irs + 2, h->iss + 2, 65535, NULL, NULL, 0);
	th_expect(h, TCP_FLAG_RST, h->iss + 2, 0, 0, NULL, 0);
	/* The entries end after 60 s, and the bound frees up. */
	th_advance(h, 61000);
	assert_int_equal(tl->ntw, 0);
	assert_int_equal(th_counter(h, "tcp", "TimeWaitExpired"), 2);
	close_to_time_wait(h, lfd, 40004);
	assert_true(th_state_name_eq(th_state(h, 40004), "TIME-WAIT"));
	assert_int_equal(th_counter(h, "tcp", "TimeWaitOverflow"), 1);
	th_free(h);
}

/* TIME-WAIT entries need no heap slot (one layer timer, reserved at start, serves their FIFO):
 * with the heap unable to grow, the entry is still made and ends after 60 s. */
static void test_time_wait_needs_no_timer_slot(void **state)
{
	struct th *h = *state;
	struct timer_heap *hp = &h->st.core.timers;
	int lfd = th_listen(h, 80, 8);
	struct tcp_opts mss = th_mss_opts(1460);
	int fd = th_open_passive(h, lfd, &mss, 65535);

	hp->max = heap_committed(hp);
	assert_int_equal(ts_close(th_sl(h), fd), 0);
	th_expect(h, FINACK, h->iss + 1, h->irs + 1, TH_ANY, NULL, 0);
	th_send(h, FINACK, h->irs + 1, h->iss + 2, 65535, NULL, NULL, 0);
	th_expect(h, TCP_FLAG_ACK, h->iss + 2, h->irs + 2, TH_ANY, NULL, 0);
	assert_true(th_state_name_eq(th_state(h, TH_PEER_PORT), "TIME-WAIT"));
	assert_int_equal(h->st.tcp.ntw, 1);
	assert_int_equal(th_counter(h, "tcp", "TimeWaitOverflow"), 0);
	assert_int_equal(th_counter(h, "tcp", "TimerArmFailed"), 0);
	th_advance(h, 60000);
	assert_null(th_state(h, TH_PEER_PORT));
	assert_int_equal(th_counter(h, "tcp", "TimeWaitExpired"), 1);
	hp->max = 0;
}

/* The FIFO keeps expiry order when an entry restarts: A enters TIME-WAIT at 0 s, B at 10 s;
 * A's peer repeats its FIN at 20 s, so A now ends at 80 s, after B's 70 s. */
static void test_time_wait_fifo_restart(void **state)
{
	struct th *h = *state;
	int lfd = th_listen(h, 80, 8);
	close_to_time_wait(h, lfd, 40001);
	uint32_t irs_a = h->irs, iss_a = h->iss;
	th_advance(h, 10000);
	close_to_time_wait(h, lfd, 40002);
	th_advance(h, 10000);
	h->peer_port = 40001;
	th_send(h, FINACK, irs_a + 1, iss_a + 2, 65535, NULL, NULL, 0);
	th_expect(h, TCP_FLAG_ACK, iss_a + 2, irs_a + 2, TH_ANY, NULL, 0);
	th_advance(h, 49999);                       /* 69.999 s */
	assert_true(th_state_name_eq(th_state(h, 40002), "TIME-WAIT"));
	th_advance(h, 1);                           /* 70 s: B ends */
	assert_null(th_state(h, 40002));
	assert_true(th_state_name_eq(th_state(h, 40001), "TIME-WAIT"));
	th_advance(h, 9999);
	assert_true(th_state_name_eq(th_state(h, 40001), "TIME-WAIT"));
	th_advance(h, 1);                           /* 80 s: A ends */
	assert_null(th_state(h, 40001));
	assert_int_equal(th_counter(h, "tcp", "TimeWaitExpired"), 2);
	assert_int_equal(h->st.tcp.ntw, 0);
}

/* No heap slot for a new connection's timers: the final ACK is dropped and counted, the
 * request stays and its SYN-ACK timer (reserved) still runs; once slots are free the
 * handshake completes. */
static void test_connection_needs_timer_slots(void **state)
{
	struct th *h = *state;
	struct timer_heap *hp = &h->st.core.timers;
	int lfd = th_listen(h, 80, 8);
	struct tcp_opts mss = th_mss_opts(1460);

	th_syn_synack(h, &mss);
	hp->max = heap_committed(hp);
	th_send(h, TCP_FLAG_ACK, h->irs + 1, h->iss + 1, 65535, NULL, NULL, 0);
	th_expect_none(h);
	assert_int_equal(th_counter(h, "tcp", "NoTimerSlot"), 1);
	assert_true(th_state_name_eq(th_state(h, TH_PEER_PORT), "SYN-RECV"));
	assert_int_equal(ts_accept(th_sl(h), lfd, NULL, 0), -EAGAIN);
	/* The request's timer was reserved: the SYN-ACK is retransmitted after 1 s. */
	long t = th_advance_until_seg(h, 2000);
	assert_true(t >= 1000 && t <= 1010);
	th_expect(h, TCP_FLAG_SYN | TCP_FLAG_ACK, h->iss, h->irs + 1, TH_ANY, TH_ANY_OPTS, 0);
	hp->max = 0;
	th_send(h, TCP_FLAG_ACK, h->irs + 1, h->iss + 1, 65535, NULL, NULL, 0);
	assert_true(ts_accept(th_sl(h), lfd, NULL, 0) >= 0);
	assert_int_equal(th_counter(h, "tcp", "TimerArmFailed"), 0);
}

static void no_cookies(struct stack_config *cfg)
{
	cfg->tcp.syncookies = false;
}

/* SYN floods against a listener with backlog 4: the first fills the pool (4 entries), the
 * ones after it reuse them; closing the listener gives the memory back. */
static void test_syn_queue_pool(void **state)
{
	(void)state;
	struct th *h = th_new(no_cookies);
	struct tcp_layer *tl = &h->st.tcp;
	int lfd = th_listen(h, 80, 4);
	assert_int_equal(tl->req_limit, 4);

	for (int round = 0; round < 3; round++) {
		for (uint16_t i = 0; i < 20; i++) {
			h->peer_port = (uint16_t)(30000 + i);
			th_send(h, TCP_FLAG_SYN, 777u + i, 0, 65535, NULL, NULL, 0);
		}
		th_drain(h);
		assert_int_equal(tl->req_alloc, 4);
		/* All five SYN-ACK retransmissions, then the entries go back to the pool. */
		th_advance(h, 70000);
		th_drain(h);
	}
	assert_int_equal(th_counter(h, "tcp", "ReqCreated"), 12);
	assert_int_equal(th_counter(h, "tcp", "SynAckTimeouts"), 12);
	assert_int_equal(th_counter(h, "tcp", "drop_syn_queue_full"), 48);
	assert_int_equal(ts_close(th_sl(h), lfd), 0);
	assert_int_equal(tl->req_limit, 0);
	assert_int_equal(tl->req_alloc, 0);
	assert_null(tl->req_free);
	th_free(h);
}

/* A smaller backlog on a second listen() shrinks the bound; entries above it are freed as
 * they come back. */
static void test_syn_queue_pool_shrinks(void **state)
{
	(void)state;
	struct th *h = th_new(no_cookies);
	struct tcp_layer *tl = &h->st.tcp;
	struct socket_layer *sl = th_sl(h);
	int lfd = th_listen(h, 80, 6);
	for (uint16_t i = 0; i < 6; i++) {
		h->peer_port = (uint16_t)(31000 + i);
		th_send(h, TCP_FLAG_SYN, 5u + i, 0, 65535, NULL, NULL, 0);
	}
	th_drain(h);
	assert_int_equal(tl->req_alloc, 6);
	assert_int_equal(ts_listen(sl, lfd, 2), 0);
	assert_int_equal(tl->req_limit, 2);
	th_advance(h, 70000);
	th_drain(h);
	assert_int_equal(tl->req_alloc, 2);
	th_free(h);
}

/* ---- memory: tcp_mem.c ---- */

static void mem_small(struct stack_config *cfg)
{
	cfg->tcp.mem_low = 8 * 1024;
	cfg->tcp.mem_pressure = 16 * 1024;
	cfg->tcp.mem_high = 32 * 1024;
}

/* The highest ACK among the frames the stack sent since the last check. */
static uint32_t last_ack(struct th *h)
{
	struct th_seg s;
	uint32_t ack = 0;
	bool any = false;

	while (th_pop_seg(h, &s)) {
		if (!any || (int32_t)(s.hdr.ack - ack) > 0)
			ack = s.hdr.ack;
		any = true;
	}
	assert_true(any);
	return ack;
}

/*
 * 32 KiB for all buffers: each 1000-byte segment is queued in the pbuf it came in, which pins
 * pbuf_truesize() = 2 KiB and its header (MemoryPressures counts the passage of 16 KiB), so
 * 15 fit; the 16th is dropped before it is ACKed (drop_mem_limit), and so is everything after
 * it, held out of order or not. Once the application has read, the memory takes the peer's
 * retransmission: every byte arrives, in order, and no ACK ever covered a dropped byte.
 */
static void test_mem_hard_limit_drops_before_ack(void **state)
{
	(void)state;
	struct th *h = th_new(mem_small);
	struct tcp_layer *tl = &h->st.tcp;
	struct socket_layer *sl = th_sl(h);
	static uint8_t data[40000], got[40000];
	int fd = th_established(h);
	uint32_t off, n = 0;
	const uint32_t fit = (uint32_t)(tl->cfg.mem_high / (sizeof(struct pbuf) + PBUF_SMALL_CAP)) * 1000u;

	assert_int_equal(fit, 15000);
	for (uint32_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 13 + (i >> 9));
	for (off = 0; off + 1000 <= 33000; off += 1000)
		th_send(h, TCP_FLAG_ACK, h->irs + 1 + off, h->iss + 1, 65535, NULL, data + off, 1000);
	th_advance(h, 300);   /* let any delayed ACK out */
	assert_int_equal(last_ack(h), h->irs + 1 + fit);
	assert_int_equal(th_counter(h, "tcp", "drop_mem_limit"), (33000 - fit) / 1000);
	assert_int_equal(th_counter(h, "tcp", "MemoryPressures"), 1);
	assert_true(tl->mem_used <= tl->cfg.mem_high);
	assert_true(tl->mem_under_pressure);

	while (n < fit) {
		long r = ts_recv(sl, fd, got + n, sizeof(got) - n, 0);
		assert_true(r > 0);
		n += (uint32_t)r;
	}
	th_drain(h);   /* the window update */
	th_send(h, TCP_FLAG_ACK, h->irs + 1 + fit, h->iss + 1, 65535, NULL, data + fit, 1000);
	th_advance(h, 300);
	assert_int_equal(last_ack(h), h->irs + 1 + fit + 1000);
	assert_int_equal(ts_recv(sl, fd, got + n, sizeof(got) - n, 0), 1000);
	assert_memory_equal(got, data, fit + 1000);
	assert_int_equal(th_counter(h, "tcp", "drop_mem_limit"), (33000 - fit) / 1000);
	th_free(h);
}

/* What is charged (send ring, received pbufs) is all given back when the connection ends. */
static void test_mem_accounting_returns_to_zero(void **state)
{
	(void)state;
	struct th *h = th_new(NULL);
	struct tcp_layer *tl = &h->st.tcp;
	struct socket_layer *sl = th_sl(h);
	static uint8_t buf[20000];
	int fd = th_established(h);

	assert_int_equal(tl->mem_used, 0);
	memset(buf, 'm', sizeof(buf));
	assert_true(ts_send(sl, fd, buf, sizeof(buf), 0) > 0);
	uint64_t ring = tl->mem_used;
	assert_true(ring >= 4096);
	th_send(h, TCP_FLAG_ACK, h->irs + 1001, h->iss + 1, 65535, NULL, buf, 100); /* out of order */
	assert_int_equal(tl->mem_used, ring + sizeof(struct pbuf) + PBUF_SMALL_CAP); /* its truesize */
	assert_int_equal(ts_close(sl, fd), 0);
	th_advance(h, 200000);
	assert_int_equal(tl->nconns, 0);
	assert_int_equal(tl->mem_used, 0);
	th_free(h);
}

static void conns_one(struct stack_config *cfg)
{
	cfg->tcp.max_conns = 1;
}

/* At max_conns, a completed handshake is not promoted (ConnLimitRefused; no RST, so the
 * client's retransmission gets in later) and connect() fails with ENOBUFS. */
static void test_max_conns(void **state)
{
	(void)state;
	struct th *h = th_new(conns_one);
	struct socket_layer *sl = th_sl(h);
	struct tcp_opts mss = th_mss_opts(1460);
	struct sockaddr_in dst = { .sin_family = AF_INET, .sin_port = htons(9),
				   .sin_addr.s_addr = htonl(TH_PEER_IP) };

	th_established(h);
	h->peer_port = 40100;
	th_send(h, TCP_FLAG_SYN, h->irs, 0, 65535, &mss, NULL, 0);
	uint32_t iss = th_expect(h, TCP_FLAG_SYN | TCP_FLAG_ACK, TH_ANY, h->irs + 1, TH_ANY, &mss, 0).hdr.seq;
	th_send(h, TCP_FLAG_ACK, h->irs + 1, iss + 1, 65535, NULL, NULL, 0);
	th_expect_none(h);
	assert_int_equal(th_counter(h, "tcp", "ConnLimitRefused"), 1);
	assert_int_equal(h->st.tcp.nconns, 1);
	int cfd = ts_socket(sl, AF_INET, SOCK_STREAM, 0);
	assert_true(cfd >= 0);
	assert_int_equal(ts_connect(sl, cfd, &dst), -ENOBUFS);
	assert_int_equal(th_counter(h, "tcp", "ConnLimitRefused"), 2);
	th_free(h);
}

static void rcvbuf_large(struct stack_config *cfg)
{
	cfg->tcp.rmem_default = 4 * 1024 * 1024;
}

/*
 * The out-of-order queue is bounded by memory, not by a number of segments: behind one
 * lost segment, 400 full segments (what a 1 % loss path with a large window holds) are all
 * kept (the old bound of 256 dropped the rest), and the retransmission releases them all.
 */
static void test_ooo_bounded_by_memory_not_count(void **state)
{
	(void)state;
	struct th *h = th_new(rcvbuf_large);
	struct socket_layer *sl = th_sl(h);
	struct tcp_opts syn = th_mss_opts(1460);
	static uint8_t data[401 * 1000], got[401 * 1000];
	uint32_t n = 0;

	syn.has_wscale = true;
	syn.wscale = 7;
	int lfd = th_listen(h, 80, 8);
	int fd = th_open_passive(h, lfd, &syn, 65535);
	for (uint32_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 7 + (i >> 10));
	/* First the window opens (tcp_rwnd.c: by twice each segment the application reads
	 * promptly) until 401 segments fit: our scale is 7 (tcp_rmem[2] of 6 MiB). */
	uint32_t base = h->irs + 1, wnd = 0;
	for (int i = 0; i < 1000 && wnd < 402000; i++) {
		th_send(h, TCP_FLAG_ACK, base, h->iss + 1, 65535, NULL, data, 1000);
		base += 1000;
		assert_int_equal(ts_recv(sl, fd, got, sizeof(got), 0), 1000);
		struct th_seg s;
		while (th_pop_seg(h, &s))
			wnd = (uint32_t)s.hdr.win << 7;
	}
	assert_true(wnd >= 402000);
	for (uint32_t k = 1; k <= 400; k++)
		th_send(h, TCP_FLAG_ACK, base + k * 1000, h->iss + 1, 65535, NULL, data + k * 1000, 1000);
	assert_int_equal(th_counter(h, "tcp", "OutOfOrderQueued"), 400);
	assert_int_equal(th_counter(h, "tcp", "drop_ooo_full"), 0);
	th_drain(h);
	th_send(h, TCP_FLAG_ACK, base, h->iss + 1, 65535, NULL, data, 1000);
	assert_int_equal(last_ack(h), base + 401000);
	while (n < sizeof(got)) {
		long r = ts_recv(sl, fd, got + n, sizeof(got) - n, 0);
		assert_true(r > 0);
		n += (uint32_t)r;
	}
	assert_memory_equal(got, data, sizeof(data));
	th_free(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_timer_reserve),
		cmocka_unit_test(test_retrans_timeout_model),
		cmocka_unit_test(test_retrans_gives_up_by_time),
		cmocka_unit_test(test_time_wait_bucket_limit),
		cmocka_unit_test_setup_teardown(test_time_wait_needs_no_timer_slot, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_time_wait_fifo_restart, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_connection_needs_timer_slots, th_setup, th_teardown),
		cmocka_unit_test(test_syn_queue_pool),
		cmocka_unit_test(test_syn_queue_pool_shrinks),
		cmocka_unit_test(test_mem_hard_limit_drops_before_ack),
		cmocka_unit_test(test_mem_accounting_returns_to_zero),
		cmocka_unit_test(test_max_conns),
		cmocka_unit_test(test_ooo_bounded_by_memory_not_count),
	};
	return cmocka_run_group_tests_name("tcp_resources", tests, NULL, NULL);
}
