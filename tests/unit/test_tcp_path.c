/*
 * test_tcp_path.c - a download between two whole stacks through the lossy-path relay's own
 * model (tests/relay/impair.c: a bottleneck of a given rate behind a FIFO of one
 * bandwidth-delay product, the delay, seeded loss), in virtual time: the cells of `make
 * bench-lossy` without the host's CPU in the measurement, so the same seed repeats exactly.
 *
 * The path device (pathdev below) joins stack A (10.0.0.2, the server that sends) and stack B
 * (10.0.0.1, the client that reads); each direction is one struct impair, configured as the
 * relay configures it for a cell (tests/relay/relay.c: --rtt, --rate, the queue one BDP).
 * What is checked, every download byte-exact: at 100 ms the client's buffer grows past the
 * BDP, slow start ends (HyStart) before the queue overflows, as Linux's does on the same
 * path, and every segment resent was dropped; under random loss, the segments resent match
 * the frames lost (docs/lossy-path.md, "The path in virtual time").
 *
 * Exploration: TP_RTT_MS, TP_MB, TP_LOSS_PPM, TP_REORDER_PPM, TP_SEED, TP_CC (cubic, reno)
 * set the cell; TP_COUNTERS=1 prints both stacks' counters at the end; TP_TRACE=1 prints the
 * sender's cwnd, flight and the queue every 10 ms of virtual time (TP_TRACE_US another step);
 * TP_BATCH_US=N holds what the server sends until the next multiple of N us (one burst);
 * TP_B_NODSACK, TP_NOTS and TP_B_NOCOMP turn off the client's D-SACK blocks, both stacks'
 * timestamps, the client's SACK compression.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "socket/socket.h"
#include "stack/stack.h"
#include "tests/relay/impair.h"

#define START_USEC (1000 * USEC_PER_SEC)
#define SERVER_PORT 80
#define RATE_BPS 100000000ull   /* lossy.py's RATE_MBIT */
#define PATH_SLOTS 16384u

/* ---- the path device: two netdev ends, one struct impair per direction ---- */

struct path;

struct path_end {
	struct netdev dev;          /* first: netdev pointers convert back with container_of */
	struct path *p;
	int idx;                    /* frames this end sends go through p->dir[idx] */
	bool open;
};

struct path {
	struct impair dir[2];
	struct path_end end[2];
	const usec_t *now;
	usec_t batch_us;            /* exploration (TP_BATCH_US): what the server sends leaves at
	                             * the next multiple of this, in one burst, as a device
	                             * flushed once per busy poll cycle */
};

static struct path_end *path_end_of(struct netdev *dev)
{
	return container_of(dev, struct path_end, dev);
}

static int path_send(struct netdev *dev, struct pbuf *pb)
{
	struct path_end *e = path_end_of(dev);
	uint8_t frame[IMPAIR_FRAME_MAX];
	uint32_t len = pbuf_frame_len(pb);
	if (len > sizeof(frame))
		return -EMSGSIZE;
	pbuf_copy_out(pb, frame);
	usec_t t = *e->p->now;
	if (e->idx == 0 && e->p->batch_us)   /* leaves at the end of its batch */
		t = (t / e->p->batch_us + 1) * e->p->batch_us;
	impair_input(&e->p->dir[e->idx], frame, len, t * 1000u);
	return 0;
}

static int path_recv(struct netdev *dev, struct pbuf **pbp)
{
	struct path_end *e = path_end_of(dev);
	struct impair *im = &e->p->dir[1 - e->idx];
	size_t len;
	const uint8_t *f = impair_peek(im, *e->p->now * 1000u, &len);
	if (!f)
		return 0;
	if (len > pbuf_tailroom(*pbp)) {
		impair_pop(im);
		return -EMSGSIZE;
	}
	memcpy((*pbp)->data, f, len);
	(*pbp)->len = (uint32_t)len;
	impair_pop(im);
	return (int)len;
}

static int path_pollfd(struct netdev *dev)
{
	(void)dev;
	return -1;
}

static void path_close(struct netdev *dev)
{
	struct path_end *e = path_end_of(dev);
	struct path *p = e->p;
	e->open = false;
	if (!p->end[0].open && !p->end[1].open) {
		impair_free(&p->dir[0]);
		impair_free(&p->dir[1]);
		free(p);
	}
}

static const struct netdev_ops path_ops = {
	.recv = path_recv,
	.send = path_send,
	.pollfd = path_pollfd,
	.close = path_close,
};

static uint64_t env_u64(const char *name, uint64_t def)
{
	const char *v = getenv(name);
	return v && *v ? strtoull(v, NULL, 0) : def;
}

/* The exploration cell's TP_BATCH_US (struct path) and whether it runs (the TP_B_* and
 * TP_NOTS switches of download()); 0 and false in the fixed tests. */
static usec_t g_batch_us;
static bool g_explore;

/* A path of rtt_ms (half each way), RATE_BPS and a one-BDP queue each way, loss_ppm and
 * reorder_ppm each way. */
static struct path *path_new(const usec_t *now, uint32_t rtt_ms, uint32_t loss_ppm, uint32_t reorder_ppm,
                             uint64_t seed)
{
	struct path *p = calloc(1, sizeof(*p));
	assert_non_null(p);
	struct impair_config cfg = {
		.loss_ppm = loss_ppm,
		/* netem's reorder: a reordered frame skips the delay (the bench's reorder cell) */
		.reorder_ppm = reorder_ppm,
		.delay_ns = (uint64_t)rtt_ms * 1000000u / 2u,
		.rate_bps = RATE_BPS,
		.queue_bytes = impair_bdp_bytes(RATE_BPS, (uint64_t)rtt_ms * 1000000u),
	};
	for (int i = 0; i < 2; i++) {
		assert_int_equal(impair_init(&p->dir[i], &cfg, seed * 2 + (uint64_t)i, PATH_SLOTS), 0);
		p->end[i] = (struct path_end){ .p = p, .idx = i, .open = true };
		p->end[i].dev.ops = &path_ops;
		p->end[i].dev.mtu = 1500;
		snprintf(p->end[i].dev.name, sizeof(p->end[i].dev.name), "path%d", i);
	}
	p->now = now;
	p->batch_us = g_batch_us;
	return p;
}

static usec_t path_next_due(const struct path *p)
{
	uint64_t t0 = impair_next_due(&p->dir[0]), t1 = impair_next_due(&p->dir[1]);
	usec_t u0 = t0 == IMPAIR_NEVER ? USEC_NEVER : (usec_t)((t0 + 999u) / 1000u);
	usec_t u1 = t1 == IMPAIR_NEVER ? USEC_NEVER : (usec_t)((t1 + 999u) / 1000u);
	return usec_min(u0, u1);
}

/* ---- the download ---- */


static uint8_t stream_byte(uint64_t off)
{
	uint64_t x = off * 0x9e3779b97f4a7c15ull;
	return (uint8_t)(x >> 56 ^ off);
}

struct download {
	usec_t secs_usec;            /* virtual time from connect to the last byte */
	uint64_t retrans;            /* the sender's RetransSegs */
	uint64_t queue_drops;        /* the bottleneck's tail drops toward the client */
	uint64_t lost;               /* the loss draw's toward the client (data segments) */
	uint32_t exit_cwnd;          /* the first ssthresh: the cwnd slow start ended at (HyStart or
	                              * a loss); 0 when it never ended */
	uint64_t drops_in_slow_start;/* queue drops before the sender first left slow start */
	uint64_t hystart_exits;      /* slow start ended by HyStart (train or delay) */
	uint32_t client_rcvbuf;      /* the client's SO_RCVBUF at the end */
	uint32_t client_rcv_rtt_us;  /* its receiver RTT estimate (tcpi_rcv_rtt) */
};

static void stack_cfg(struct stack_config *c, uint32_t addr, uint8_t mac_last, uint64_t seed,
                      const char *cc)
{
	ts_stack_config_default(c);
	c->link.addr = addr;
	c->link.prefix_len = 24;
	memset(c->link.mac, 0, sizeof(c->link.mac));
	c->link.mac[0] = 0x02;
	c->link.mac[5] = mac_last;
	c->seed = seed;
	if (cc)
		snprintf(c->tcp.congestion_control, sizeof(c->tcp.congestion_control), "%s", cc);
}

/* Downloads bytes from A to B through the path; fails the test unless every byte arrives. */
static void download(uint32_t rtt_ms, uint32_t loss_ppm, uint32_t reorder_ppm, uint64_t bytes,
                     uint64_t seed, struct download *out)
{
	static usec_t now;
	now = START_USEC;
	struct path *p = path_new(&now, rtt_ms, loss_ppm, reorder_ppm, seed);
	struct stack *a = calloc(1, sizeof(*a)), *b = calloc(1, sizeof(*b));
	assert_non_null(a);
	assert_non_null(b);
	struct stack_config ca, cb;
	const char *cc = getenv("TP_CC");
	stack_cfg(&ca, 0x0a000002u, 2, seed + 1, cc);
	stack_cfg(&cb, 0x0a000001u, 1, seed + 2, cc);
	if (g_explore) {
		/* What the sender leans on from its peer: D-SACK blocks, timestamps, merged SACKs. */
		if (getenv("TP_B_NODSACK"))
			cb.tcp.dsack = false;
		if (getenv("TP_NOTS"))
			ca.tcp.timestamps = cb.tcp.timestamps = false;
		if (getenv("TP_B_NOCOMP"))
			cb.tcp.comp_sack_nr = 0;
	}
	assert_int_equal(ts_stack_init(a, &ca, &p->end[0].dev, now), 0);
	assert_int_equal(ts_stack_init(b, &cb, &p->end[1].dev, now), 0);
	struct socket_layer *sa = ts_stack_sockets(a), *sb = ts_stack_sockets(b);

	int lfd = ts_socket(sa, AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in addr = { .sin_family = AF_INET, .sin_port = htons(SERVER_PORT) };
	assert_int_equal(ts_bind(sa, lfd, &addr), 0);
	assert_int_equal(ts_listen(sa, lfd, 8), 0);
	assert_int_equal(ts_set_nonblock(sa, lfd, true), 0);
	int cfd = ts_socket(sb, AF_INET, SOCK_STREAM, 0);
	assert_int_equal(ts_set_nonblock(sb, cfd, true), 0);
	addr.sin_addr.s_addr = htonl(0x0a000002u);
	int rc = ts_connect(sb, cfd, &addr);
	assert_true(rc == -EINPROGRESS || rc == 0);

	static uint8_t buf[65536];
	int sfd = -1;
	uint64_t sent = 0, rcvd = 0;
	bool trace = getenv("TP_TRACE") != NULL;
	usec_t next_trace = now, t0 = now;
	const usec_t limit = START_USEC + 600 * USEC_PER_SEC;
	memset(out, 0, sizeof(*out));

	while (rcvd < bytes) {
		for (int guard = 0; guard < 1000; guard++) {
			int na = ts_stack_poll(a, now), nb = ts_stack_poll(b, now);
			assert_true(na >= 0 && nb >= 0);
			if (na == 0 && nb == 0)
				break;
		}
		bool moved = false;
		if (sfd < 0) {
			sfd = ts_accept(sa, lfd, NULL, SOCK_NONBLOCK);
			if (sfd >= 0)
				moved = true;
		}
		while (sfd >= 0 && sent < bytes) {
			size_t n = bytes - sent < sizeof(buf) ? (size_t)(bytes - sent) : sizeof(buf);
			for (size_t i = 0; i < n; i++)
				buf[i] = stream_byte(sent + i);
			ssize_t w = ts_send(sa, sfd, buf, n, 0);
			if (w == -EAGAIN)
				break;
			assert_true(w > 0);
			sent += (uint64_t)w;
			moved = true;
		}
		for (;;) {
			ssize_t r = ts_recv(sb, cfd, buf, sizeof(buf), 0);
			if (r == -EAGAIN || r == -ENOTCONN)
				break;
			assert_true(r > 0);
			for (ssize_t i = 0; i < r; i++)
				if (buf[i] != stream_byte(rcvd + (uint64_t)i))
					fail_msg("byte %llu differs", (unsigned long long)(rcvd + (uint64_t)i));
			rcvd += (uint64_t)r;
			moved = true;
		}
		struct impair_counters q = p->dir[0].c;
		if (sfd >= 0 && (trace || !out->exit_cwnd)) {
			struct tcp_info ti;
			socklen_t tl = sizeof(ti);
			assert_int_equal(ts_getsockopt(sa, sfd, IPPROTO_TCP, TCP_INFO, &ti, &tl), 0);
			if (!out->exit_cwnd && ti.tcpi_snd_ssthresh < 0x7fffffffu) {
				out->exit_cwnd = ti.tcpi_snd_ssthresh;
				out->drops_in_slow_start = q.queue_drops;
			}
			if (trace && now >= next_trace) {
				struct tcp_info bi;
				int brcvbuf = 0;
				socklen_t bl = sizeof(bi), il = sizeof(brcvbuf);
				assert_int_equal(ts_getsockopt(sb, cfd, IPPROTO_TCP, TCP_INFO, &bi, &bl), 0);
				assert_int_equal(ts_getsockopt(sb, cfd, SOL_SOCKET, SO_RCVBUF, &brcvbuf, &il), 0);
				fprintf(stderr, "t=%7.3f cwnd %5u ssthresh %10u unacked %5u sacked %4u lost %4u "
				        "retrans %6u ca_state %u | client space %u buf %d dupacks %u | "
				        "queue %8llu B, drops %llu, back %llu/%llu | rcvd %llu\n",
				        (double)(now - t0) / 1e6, ti.tcpi_snd_cwnd, ti.tcpi_snd_ssthresh,
				        ti.tcpi_unacked, ti.tcpi_sacked, ti.tcpi_lost, ti.tcpi_total_retrans,
				        ti.tcpi_ca_state, bi.tcpi_rcv_space, brcvbuf, (unsigned)b->tcp.ctr.DupAcksSent,
				        (unsigned long long)impair_backlog_bytes(&p->dir[0], now * 1000u),
				        (unsigned long long)q.queue_drops,
				        (unsigned long long)impair_backlog_bytes(&p->dir[1], now * 1000u),
				        (unsigned long long)p->dir[1].c.queue_drops, (unsigned long long)rcvd);
				next_trace = now + env_u64("TP_TRACE_US", 10000);
			}
		}
		if (moved)
			continue;
		usec_t next = usec_min(usec_min(ts_stack_next_deadline(a), ts_stack_next_deadline(b)),
		                       path_next_due(p));
		if (next == USEC_NEVER || next > limit)
			fail_msg("stalled at %llu of %llu bytes", (unsigned long long)rcvd,
			         (unsigned long long)bytes);
		now = next > now ? next : now + 1;
	}
	assert_int_equal(rcvd, bytes);
	out->secs_usec = now - t0;
	out->retrans = a->tcp.ctr.RetransSegs;
	out->queue_drops = p->dir[0].c.queue_drops;
	out->lost = p->dir[0].c.lost;
	out->hystart_exits = a->tcp.ctr.HystartTrainDetect + a->tcp.ctr.HystartDelayDetect;
	{
		int v = 0;
		socklen_t vl = sizeof(v);
		assert_int_equal(ts_getsockopt(sb, cfd, SOL_SOCKET, SO_RCVBUF, &v, &vl), 0);
		out->client_rcvbuf = (uint32_t)v;
		struct tcp_info bi;
		socklen_t bl = sizeof(bi);
		assert_int_equal(ts_getsockopt(sb, cfd, IPPROTO_TCP, TCP_INFO, &bi, &bl), 0);
		out->client_rcv_rtt_us = bi.tcpi_rcv_rtt;
	}
	print_message("    %u ms, loss %u ppm: %llu bytes in %.3f s virtual (%.1f Mbit/s); first "
	              "ssthresh %u after %llu queue drops; data frames dropped by the queue %llu, "
	              "lost %llu; segments resent %llu; ACKs lost %llu\n",
	              rtt_ms, loss_ppm, (unsigned long long)bytes, (double)out->secs_usec / 1e6,
	              (double)bytes * 8 / (double)out->secs_usec, out->exit_cwnd,
	              (unsigned long long)out->drops_in_slow_start, (unsigned long long)out->queue_drops,
	              (unsigned long long)out->lost, (unsigned long long)out->retrans,
	              (unsigned long long)p->dir[1].c.lost);
	if (getenv("TP_COUNTERS")) {
		struct stack *st[2] = {a, b};
		for (int i = 0; i < 2; i++) {
			struct counter_group g[32];
			size_t n = ts_stack_counter_groups(st[i], g, 32);
			for (size_t k = 0; k < n; k++)
				for (size_t j = 0; j < g[k].n; j++)
					if (g[k].values[j])
						print_message("      %c %s.%s = %llu\n", "AB"[i], g[k].layer, g[k].names[j],
						              (unsigned long long)g[k].values[j]);
		}
	}
	ts_stack_destroy(a);
	ts_stack_destroy(b);
	free(a);
	free(b);
}

/* Bytes and frames of the path's queue: one BDP of RATE_BPS and the round trip. */
static uint64_t bdp_frames(uint32_t rtt_ms)
{
	return impair_bdp_bytes(RATE_BPS, (uint64_t)rtt_ms * 1000000u) / 1514u;
}

/*
 * The bench's `rtt100 loss0` cell: 30 MB through 100 ms and a 1-BDP queue, long enough for
 * CUBIC to fill the queue once after slow start. What the path allows is a flight of two
 * BDPs (1650 frames: the pipe and the queue).
 *   - The client's buffer grows as Linux's does (DRS, tcp_rcvbuf.c) to more than the BDP,
 *     so the window is not what limits the sender: at the default 128 KiB it would be
 *     80 KB per round trip, 6 Mbit/s.
 *   - HyStart ends slow start before the queue drops anything, by itself (not a loss).
 *   - Every segment resent was dropped: the receiver's SACK blocks name the newest data
 *     first (tcp_ooo.c), so the sender hears of every segment that arrived; blocks read
 *     off the queue in sequence order hid all but the lowest holes, and RACK then took the
 *     whole flight for lost (1901 segments resent for 325 drops).
 */
static void test_path_bottleneck_rtt100(void **state)
{
	(void)state;
	struct download d;
	download(100, 0, 0, 30000000u, 1, &d);
	assert_true(d.client_rcvbuf > impair_bdp_bytes(RATE_BPS, 100000000u));
	assert_true(d.hystart_exits == 1);
	assert_int_equal(d.drops_in_slow_start, 0);
	assert_true(d.exit_cwnd > bdp_frames(100) / 2 && d.exit_cwnd < 2 * bdp_frames(100));
	assert_true(d.queue_drops > 0); /* CUBIC did reach the queue's end */
	assert_true(d.retrans <= d.queue_drops + d.lost + 2);
	/* The bottleneck moves 100 Mbit/s of frames: 94.9 of payload. Slow start over 100 ms
	 * round trips and the one recovery leave 70 and more. */
	assert_true((double)30000000u * 8 / (double)d.secs_usec > 60.0);
	assert_true(d.client_rcv_rtt_us >= 100000u && d.client_rcv_rtt_us < 200000u);
}

/* Random loss at 1 % each way over 20 ms and at 5 % over 2 ms, three seeds each: every
 * transfer byte-exact, and the segments resent are the frames the path dropped (a
 * retransmission dropped again counts again), give or take a probe or an RTO's resend. */
static void test_path_random_loss(void **state)
{
	(void)state;
	static const struct { uint32_t rtt_ms, loss_ppm, mb; } cells[] = {
		{20, 10000, 10}, {2, 50000, 5},
	};
	for (size_t i = 0; i < sizeof(cells) / sizeof(cells[0]); i++) {
		for (uint64_t seed = 1; seed <= 3; seed++) {
			struct download d;
			download(cells[i].rtt_ms, cells[i].loss_ppm, 0, cells[i].mb * 1000000u, seed, &d);
			assert_true(d.lost > 0);
			assert_true(d.retrans >= d.lost);
			assert_true(d.retrans <= d.lost + d.lost / 10 + 3);
		}
	}
}

/* Exploration: the cell the TP_* variables name (skipped unless TP_RTT_MS is set). */
static void test_path_cell(void **state)
{
	(void)state;
	if (!getenv("TP_RTT_MS"))
		skip();
	g_batch_us = env_u64("TP_BATCH_US", 0);
	g_explore = true;
	struct download d;
	download((uint32_t)env_u64("TP_RTT_MS", 100), (uint32_t)env_u64("TP_LOSS_PPM", 0),
	         (uint32_t)env_u64("TP_REORDER_PPM", 0), env_u64("TP_MB", 50) * 1000000u,
	         env_u64("TP_SEED", 1), &d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_path_bottleneck_rtt100),
		cmocka_unit_test(test_path_random_loss),
		cmocka_unit_test(test_path_cell),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
