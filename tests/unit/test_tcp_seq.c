/*
 * test_tcp_seq.c - unit tests of TCP internals that need no frames: the wrap-safe sequence
 * helpers across 2^32 (stack/tcp/tcp_seq.h), the RFC 6528 ISN (tcp_isn.c), the byte rings
 * (tcp_buf.c), the window scale we offer (tcp.c), option negotiation from a SYN
 * (tcp_input.c), the hashed tables and the listen table's address rule (tcp.c), and the
 * RST builder's RFC 9293 3.10.7.1 rule (tcp_output.c) through a TCP layer without IP.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/core.h"
#include "helpers/tcp_layer_fixture.h"
#include "tcp/tcp_int.h"

/* ---- sequence helpers ---- */

static void test_seq_compare_simple(void **state)
{
	(void)state;
	assert_true(seq_lt(1, 2));
	assert_false(seq_lt(2, 2));
	assert_true(seq_leq(2, 2));
	assert_true(seq_gt(3, 2));
	assert_true(seq_geq(3, 3));
	assert_false(seq_gt(2, 3));
}

static void test_seq_compare_across_wrap(void **state)
{
	(void)state;
	/* 0xfffffff0 comes before 0x10: the distance is 0x20, not 2^32 - 0x20. */
	assert_true(seq_lt(0xfffffff0u, 0x10u));
	assert_true(seq_gt(0x10u, 0xfffffff0u));
	assert_true(seq_leq(0xffffffffu, 0u));
	assert_true(seq_lt(0xffffffffu, 0u));
	assert_true(seq_geq(0u, 0xffffffffu));
	assert_int_equal(seq_diff(0x10u, 0xfffffff0u), 0x20);
	assert_int_equal(seq_max(0xfffffff0u, 0x10u), 0x10u);
	assert_int_equal(seq_min(0xfffffff0u, 0x10u), 0xfffffff0u);
	/* Walk a window across the whole space: every step keeps its order. */
	for (uint64_t base = 0; base < (1ull << 32); base += 0x10000001ull) {
		uint32_t a = (uint32_t)base, b = a + 65535u;
		assert_true(seq_lt(a, b));
		assert_true(seq_gt(b, a));
		assert_true(seq_in_window(a + 100u, a, 65535u));
		assert_false(seq_in_window(b, a, 65535u));
		assert_false(seq_in_window(a - 1u, a, 65535u));
	}
}

static void test_seq_in_window_edges(void **state)
{
	(void)state;
	assert_false(seq_in_window(5, 5, 0));          /* an empty window holds nothing */
	assert_true(seq_in_window(5, 5, 1));
	assert_false(seq_in_window(6, 5, 1));
	assert_true(seq_in_window(0x2u, 0xfffffffeu, 8)); /* window straddling 2^32 */
	assert_false(seq_in_window(0x6u, 0xfffffffeu, 8));
}

/* ---- a TCP layer with a core but no IP (helpers/tcp_layer_fixture.h) ---- */

#define fx tcp_layer_fx

static int fx_setup(void **state)
{
	*state = tcp_layer_fx_new();
	return 0;
}

static int fx_teardown(void **state)
{
	tcp_layer_fx_free(*state);
	return 0;
}

/* ---- ISN (RFC 6528) ---- */

static void test_isn_keyed_and_clocked(void **state)
{
	struct fx *f = *state;
	uint32_t a = tcp_isn(&f->tl, 0x0a000002, 80, 0x0a000001, 40000);
	uint32_t b = tcp_isn(&f->tl, 0x0a000002, 80, 0x0a000001, 40001);
	assert_int_not_equal(a, b);                     /* F() depends on the 4-tuple */
	f->core.now += 4000;                            /* 4 ms later: M advanced by 1000 ticks */
	uint32_t a2 = tcp_isn(&f->tl, 0x0a000002, 80, 0x0a000001, 40000);
	assert_int_equal(a2 - a, 1000u);
	/* A second stack (another random key) gives another ISN for the same tuple and time. */
	struct fx *g = NULL;
	fx_setup((void **)&g);
	rng_seed(&g->core.rng, 7);
	g->core.now = f->core.now;
	tcp_destroy(&g->tl);
	struct tcp_config cfg;
	tcp_config_default(&cfg);
	assert_int_equal(tcp_init(&g->tl, &g->core, NULL, &cfg), 0);
	assert_int_not_equal(tcp_isn(&g->tl, 0x0a000002, 80, 0x0a000001, 40000), a2);
	fx_teardown((void **)&g);
}

/* ---- rings ---- */

static void test_ring_wraps_and_pieces(void **state)
{
	(void)state;
	struct tcp_ring r;
	memset(&r, 0, sizeof(r));
	assert_int_equal(tcp_ring_reserve(&r, 10), 0);
	assert_int_equal(tcp_ring_write(&r, "abcdefgh", 8), 8);
	char out[16];
	assert_int_equal(tcp_ring_read(&r, out, 6, true), 6);
	assert_memory_equal(out, "abcdef", 6);
	assert_int_equal(tcp_ring_write(&r, "ijklmnopqr", 10), 8); /* only 8 free */
	assert_int_equal(r.len, 10);
	struct pbuf_ext p[2];
	assert_int_equal(tcp_ring_pieces(&r, 0, 10, p), 2);         /* the data wraps */
	assert_int_equal(p[0].len + p[1].len, 10);
	assert_memory_equal(p[0].ptr, "ghij", 4);
	assert_memory_equal(p[1].ptr, "klmnop", 6);
	assert_int_equal(tcp_ring_pieces(&r, 4, 3, p), 1);
	assert_memory_equal(p[0].ptr, "klm", 3);
	assert_int_equal(tcp_ring_pieces(&r, 2, 3, p), 2);             /* "ij" + "k" */
	assert_int_equal(p[0].len, 2);
	assert_int_equal(p[1].len, 1);
	assert_int_equal(tcp_ring_pieces(&r, 8, 5, p), 0);          /* past the end */
	assert_int_equal(tcp_ring_read(&r, out, 16, false), 10);    /* peek */
	assert_memory_equal(out, "ghijklmnop", 10);
	assert_int_equal(r.len, 10);
	/* Growing keeps the bytes in order. */
	assert_int_equal(tcp_ring_reserve(&r, 32), 0);
	assert_int_equal(tcp_ring_read(&r, out, 16, true), 10);
	assert_memory_equal(out, "ghijklmnop", 10);
	assert_int_equal(r.len, 0);
	tcp_ring_free(&r);
	assert_null(r.buf);
}

/* ---- window scale and option negotiation ---- */

static void test_wscale_from_buffer(void **state)
{
	struct fx *f = *state;
	struct tcp_sockopts o;
	tcp_sockopts_default(&f->tl, &o);
	f->tl.cfg.rmem_max = 6291456;
	assert_int_equal(tcp_wscale_for(&f->tl, &o), 7);        /* Linux default rmem_max */
	f->tl.cfg.rmem_max = 15 * 1024 * 1024;
	assert_int_equal(tcp_wscale_for(&f->tl, &o), 8);        /* packetdrill's defaults.sh */
	o.rcvbuf = 4096;
	o.rcvbuf_locked = true;
	assert_int_equal(tcp_wscale_for(&f->tl, &o), 0);        /* SO_RCVBUF fixes the space */
}

static void test_syn_option_negotiation(void **state)
{
	struct fx *f = *state;
	struct tcp_sockopts o;
	tcp_sockopts_default(&f->tl, &o);
	struct tcp_conn *c = tcp_conn_alloc(&f->tl, &o);
	assert_non_null(c);
	c->wscale_ok = true;
	c->rcv_wscale = 7;
	struct tcp_opts opt;
	memset(&opt, 0, sizeof(opt));
	opt.has_mss = true;
	opt.mss = 1000;
	opt.has_wscale = true;
	opt.wscale = 20;            /* RFC 7323 2.3: clamp to 14 */
	opt.sack_ok = true;
	opt.has_ts = true;
	opt.ts_val = 1234;
	tcp_conn_apply_syn_opts(c, &opt);
	assert_true(c->wscale_ok);
	assert_int_equal(c->snd_wscale, 14);
	assert_int_equal(c->rcv_wscale, 7);
	assert_true(c->sack_ok);
	assert_true(c->ts_ok);
	assert_int_equal(c->ts_recent, 1234);
	assert_int_equal(c->mss, 1000 - 12);           /* timestamps take 12 bytes per segment */
	assert_int_equal(c->cwnd, 10u * (1000 - 12));  /* IW10 */

	/* Without the options: MSS 536, no scaling on either side, no SACK, no timestamps. */
	memset(&opt, 0, sizeof(opt));
	c->wscale_ok = true;
	c->rcv_wscale = 7;
	tcp_conn_apply_syn_opts(c, &opt);
	assert_false(c->wscale_ok);
	assert_int_equal(c->rcv_wscale, 0);
	assert_int_equal(c->snd_wscale, 0);
	assert_false(c->sack_ok);
	assert_false(c->ts_ok);
	assert_int_equal(c->mss, 536);

	/* A silly MSS is clamped up (Linux TCP_MIN_MSS). */
	opt.has_mss = true;
	opt.mss = 1;
	tcp_conn_apply_syn_opts(c, &opt);
	assert_int_equal(c->mss, TCP_MSS_MIN);
	tcp_conn_free(c);
}

/* ---- tables ---- */

static void test_hash_grows_and_finds(void **state)
{
	struct fx *f = *state;
	enum { N = 5000 };
	struct tcp_hnode *nodes = calloc(N, sizeof(*nodes));
	for (uint32_t i = 0; i < N; i++) {
		nodes[i].laddr = 0x0a000002;
		nodes[i].lport = 80;
		nodes[i].raddr = 0x0a000001 + (i >> 10);
		nodes[i].rport = (uint16_t)(1024 + i);
		tcp_hash_insert(&f->tl.conns, &nodes[i]);
	}
	assert_true(f->tl.conns.mask + 1 >= N / 2);   /* grew past its 1024 buckets */
	for (uint32_t i = 0; i < N; i++)
		assert_ptr_equal(tcp_hash_lookup4(&f->tl.conns, 0x0a000002, 80, 0x0a000001 + (i >> 10),
		                                  (uint16_t)(1024 + i)),
		                 &nodes[i]);
	assert_null(tcp_hash_lookup4(&f->tl.conns, 0x0a000002, 81, 0x0a000001, 1024));
	for (uint32_t i = 0; i < N; i++)
		tcp_hash_remove(&f->tl.conns, &nodes[i]);
	assert_int_equal(f->tl.conns.count, 0);
	free(nodes);
}

static void test_listen_specific_beats_wildcard(void **state)
{
	struct fx *f = *state;
	struct tcp_sockopts o;
	int err = 0;
	tcp_sockopts_default(&f->tl, &o);
	struct tcp_listener *wild = tcp_listen(&f->tl, 0, 80, 16, &o, &err);
	assert_non_null(wild);
	/* Same port, overlapping address: EADDRINUSE (even a specific one over the wildcard). */
	assert_null(tcp_listen(&f->tl, 0, 80, 16, &o, &err));
	assert_int_equal(err, -EADDRINUSE);
	assert_null(tcp_listen(&f->tl, 0x0a000002, 80, 16, &o, &err));
	assert_ptr_equal(tcp_listener_lookup(&f->tl, 0x0a000002, 80, 0x0a000001, 40000), wild);
	tcp_listener_close(wild);
	struct tcp_listener *spec = tcp_listen(&f->tl, 0x0a000002, 80, 16, &o, &err);
	assert_non_null(spec);
	assert_ptr_equal(tcp_listener_lookup(&f->tl, 0x0a000002, 80, 0x0a000001, 40000), spec);
	assert_null(tcp_listener_lookup(&f->tl, 0x0a000003, 80, 0x0a000001, 40000));
	assert_null(tcp_listener_lookup(&f->tl, 0x0a000002, 81, 0x0a000001, 40000));
	/* Backlog: negative or huge becomes somaxconn, as Linux. */
	tcp_listener_set_backlog(spec, -1);
	assert_int_equal(spec->backlog, f->tl.cfg.somaxconn);
	tcp_listener_close(spec);
}

static void test_port_bind_rules(void **state)
{
	struct fx *f = *state;
	uint16_t p = 8080;
	assert_int_equal(tcp_port_bind(&f->tl, 0, &p, false, false), 0);
	assert_int_equal(tcp_port_bind(&f->tl, 0, &p, false, false), -EADDRINUSE);
	assert_int_equal(tcp_port_bind(&f->tl, 0, &p, true, false), 0);   /* SO_REUSEADDR, nobody listens */
	tcp_port_unbind(&f->tl, p, false);
	tcp_port_unbind(&f->tl, p, false);
	uint16_t e = 0;
	assert_int_equal(tcp_port_bind(&f->tl, 0, &e, false, false), 0);  /* ephemeral */
	assert_true(e >= f->tl.cfg.port_lo && e <= f->tl.cfg.port_hi);
	tcp_port_unbind(&f->tl, e, false);
}

/* ---- counters ---- */

static void test_counter_group_names(void **state)
{
	struct fx *f = *state;
	struct counter_group g;
	assert_int_equal(tcp_counter_groups(&f->tl, &g, 1), 1);
	assert_string_equal(g.layer, "tcp");
	assert_int_equal(g.n, sizeof(struct tcp_counters) / sizeof(uint64_t));
	assert_string_equal(g.names[0], "ActiveOpens");
	f->tl.ctr.ListenOverflows = 3;
	for (size_t i = 0; i < g.n; i++)
		if (strcmp(g.names[i], "ListenOverflows") == 0)
			assert_int_equal(g.values[i], 3);
}

/* ---- RTO (RFC 6298 with Linux's floor) ---- */

static void test_rto_estimator(void **state)
{
	struct fx *f = *state;
	struct tcp_sockopts o;
	tcp_sockopts_default(&f->tl, &o);
	struct tcp_conn *c = tcp_conn_alloc(&f->tl, &o);
	assert_int_equal(c->rtt.rto_us, 1000000);            /* 2.1: 1 s before any sample */
	tcp_rtt_sample(c, 10000, c->snd.una);            /* 10 ms */
	assert_int_equal(c->rtt.srtt_us, 10000);
	assert_int_equal(c->rtt.rttvar_us, 5000);
	assert_int_equal(c->rtt.rto_us, 10000 + 200000);     /* 4*RTTVAR = 20 ms < 200 ms floor */
	tcp_rtt_sample(c, 500000, c->snd.una);           /* a 500 ms outlier */
	assert_true(c->rtt.rto_us > 400000);
	for (int i = 0; i < 200; i++)
		tcp_rtt_sample(c, 600000000, c->snd.una);
	assert_int_equal(c->rtt.rto_us, 120000000);          /* clamped to 120 s */
	tcp_conn_free(c);
}

/* ---- SYN cookies (RFC 4987), seen through the trace log ---- */

static char last_out[256];

static void record_line(void *arg, const char *line)
{
	(void)arg;
	if (strstr(line, "tcp out"))
		snprintf(last_out, sizeof(last_out), "%s", line);
}

static void feed(struct fx *f, uint8_t flags, uint32_t seq, uint32_t ack, uint16_t sport)
{
	struct tcp_seg seg;
	memset(&seg, 0, sizeof(seg));
	seg.pb = pbuf_alloc(&f->core.pool, PBUF_HEADROOM, 0);
	seg.data = seg.pb->data;
	seg.h.sport = sport;
	seg.h.dport = 80;
	seg.h.seq = seg.seq = seq;
	seg.h.ack = seg.ack = ack;
	seg.h.flags = seg.flags = flags;
	seg.h.win = 65535;
	seg.wnd = 65535;
	seg.h.opts.has_mss = true;
	seg.h.opts.mss = 1460;
	seg.src = 0x0a000001;
	seg.dst = 0x0a000002;
	seg.len = !!(flags & TCP_FLAG_SYN);
	struct tcp_hnode *n = tcp_hash_lookup4(&f->tl.conns, seg.dst, 80, seg.src, sport);
	if (n && n->kind == TCP_HK_REQ)
		tcp_req_input(container_of(n, struct tcp_req, hn), &seg);
	else if (n && n->kind == TCP_HK_CONN)
		tcp_conn_input(container_of(n, struct tcp_conn, hn), &seg);
	else
		tcp_listen_input(tcp_listener_lookup(&f->tl, seg.dst, 80, 0x0a000001, 40000), &seg);
}

static uint32_t last_seq(void)
{
	const char *p = strstr(last_out, "seq ");
	assert_non_null(p);
	return (uint32_t)strtoul(p + 4, NULL, 10);
}

static void test_syn_cookies(void **state)
{
	struct fx *f = *state;
	struct tcp_sockopts o;
	int err = 0;
	f->core.log.sink = record_line;
	f->core.log.trace = true;
	tcp_sockopts_default(&f->tl, &o);
	struct tcp_listener *l = tcp_listen(&f->tl, 0, 80, 1, &o, &err);
	assert_non_null(l);
	feed(f, TCP_FLAG_SYN, 1000, 0, 40000);          /* fills the SYN queue (backlog 1) */
	assert_int_equal(l->synq_len, 1);
	feed(f, TCP_FLAG_SYN, 5000, 0, 40001);          /* queue full: answered with a cookie */
	assert_int_equal(l->synq_len, 1);
	assert_int_equal(f->tl.ctr.SyncookiesSent, 1);
	assert_non_null(strstr(last_out, "Flags [S.]"));
	assert_null(strstr(last_out, "wscale"));        /* no timestamps: only the MSS survives a cookie */
	uint32_t cookie = last_seq();
	/* A forged ACK fails and gets a RST; the right one makes an established connection. */
	feed(f, TCP_FLAG_ACK, 5001, cookie + 2, 40001);
	assert_int_equal(f->tl.ctr.SyncookiesFailed, 1);
	assert_non_null(strstr(last_out, "Flags [R]"));
	f->core.now += 30 * 1000000ull;                 /* still within the cookie's life */
	feed(f, TCP_FLAG_ACK, 5001, cookie + 1, 40001);
	assert_int_equal(f->tl.ctr.SyncookiesRecv, 1);
	assert_int_equal(l->acceptq_len, 1);
	struct tcp_conn *c = tcp_listener_accept(l);
	assert_non_null(c);
	assert_int_equal(c->state, TCPS_ESTABLISHED);
	assert_int_equal(c->snd.iss, cookie);
	assert_int_equal(c->peer_mss, 1460);
	assert_false(c->wscale_ok);
	tcp_conn_free(c);
	/* Three periods later the same cookie is stale. */
	feed(f, TCP_FLAG_SYN, 9000, 0, 40002);
	cookie = last_seq();
	f->core.now += 3 * 64 * 1000000ull;
	feed(f, TCP_FLAG_SYN, 1000, 0, 40000);          /* the old request retransmits; keep overflowing */
	feed(f, TCP_FLAG_SYN, 9100, 0, 40003);
	feed(f, TCP_FLAG_ACK, 9001, cookie + 1, 40002);
	assert_int_equal(f->tl.ctr.SyncookiesRecv, 1);
	tcp_listener_close(l);
}

/* A valid cookie ACK that finds the accept queue full is dropped without a RST (Linux):
 * the connection gets in with the peer's next segment once accept() made room. Answering
 * it with a RST (as before) reset clients of a busy server (ab -c 10 against python's
 * backlog of 5, seen through the preload library). */
static void test_syn_cookie_ack_waits_for_accept_queue(void **state)
{
	struct fx *f = *state;
	struct tcp_sockopts o;
	int err = 0;
	f->core.log.sink = record_line;
	f->core.log.trace = true;
	tcp_sockopts_default(&f->tl, &o);
	struct tcp_listener *l = tcp_listen(&f->tl, 0, 80, 1, &o, &err);
	assert_non_null(l);
	feed(f, TCP_FLAG_SYN, 1000, 0, 40000);          /* A: the SYN queue's one entry */
	uint32_t iss_a = last_seq();
	feed(f, TCP_FLAG_SYN, 5000, 0, 40001);          /* B: answered with a cookie */
	uint32_t cookie = last_seq();
	assert_int_equal(f->tl.ctr.SyncookiesSent, 1);
	feed(f, TCP_FLAG_ACK, 1001, iss_a + 1, 40000);  /* A established: accept queue 1 */
	feed(f, TCP_FLAG_SYN, 7000, 0, 40002);          /* C: a request again */
	uint32_t iss_c = last_seq();
	feed(f, TCP_FLAG_ACK, 7001, iss_c + 1, 40002);  /* C established: accept queue 2, full */
	assert_int_equal(l->acceptq_len, 2);
	uint64_t overflows = f->tl.ctr.ListenOverflows;
	last_out[0] = '\0';
	feed(f, TCP_FLAG_ACK, 5001, cookie + 1, 40001); /* B's final ACK: no room */
	assert_int_equal(last_out[0], '\0');           /* nothing sent: no RST */
	assert_int_equal(f->tl.ctr.ListenOverflows, overflows + 1);
	assert_int_equal(f->tl.ctr.SyncookiesFailed, 0);
	tcp_conn_free(tcp_listener_accept(l));
	feed(f, TCP_FLAG_ACK, 5001, cookie + 1, 40001); /* B again: now it gets in */
	assert_int_equal(f->tl.ctr.SyncookiesRecv, 1);
	assert_int_equal(l->acceptq_len, 2);
	tcp_listener_close(l);
}

/* ---- random segments against an established connection: no crash, invariants hold ---- */

static void feed_data(struct fx *f, uint8_t flags, uint32_t seq, uint32_t ack, uint16_t sport, uint32_t dlen,
                      bool ts, uint32_t tsval)
{
	struct tcp_seg seg;
	memset(&seg, 0, sizeof(seg));
	seg.pb = pbuf_alloc(&f->core.pool, PBUF_HEADROOM, dlen);
	assert_non_null(seg.pb); /* the out-of-order queue must not drain the pool */
	uint8_t *d = pbuf_put(seg.pb, dlen);
	memset(d, 'r', dlen);
	seg.data = seg.pb->data;
	seg.dlen = dlen;
	seg.h.sport = sport;
	seg.h.dport = 80;
	seg.h.seq = seg.seq = seq;
	seg.h.ack = seg.ack = ack;
	seg.h.flags = seg.flags = flags;
	seg.h.win = seg.wnd = (uint16_t)(rand() & 0xffff);
	seg.h.opts.has_ts = ts;
	seg.h.opts.ts_val = tsval;
	seg.src = 0x0a000001;
	seg.dst = 0x0a000002;
	seg.len = dlen + !!(flags & TCP_FLAG_SYN) + !!(flags & TCP_FLAG_FIN);
	struct tcp_hnode *n = tcp_hash_lookup4(&f->tl.conns, seg.dst, 80, seg.src, sport);
	if (n && n->kind == TCP_HK_REQ)
		tcp_req_input(container_of(n, struct tcp_req, hn), &seg);
	else if (n && n->kind == TCP_HK_CONN)
		tcp_conn_input(container_of(n, struct tcp_conn, hn), &seg);
	else if (n && n->kind == TCP_HK_TW)
		tcp_tw_input(container_of(n, struct tcp_tw, hn), &seg);
	else
		tcp_listen_input(tcp_listener_lookup(&f->tl, seg.dst, 80, 0x0a000001, 40000), &seg);
}

static void test_random_segments_keep_invariants(void **state)
{
	struct fx *f = *state;
	struct tcp_sockopts o;
	int err = 0;
	f->core.log.sink = record_line;
	f->core.log.trace = true;
	tcp_sockopts_default(&f->tl, &o);
	o.nodelay = true;
	struct tcp_listener *l = tcp_listen(&f->tl, 0, 80, 16, &o, &err);
	srand(1234);
	for (int round = 0; round < 20; round++) {
		uint16_t sport = (uint16_t)(30000 + round);
		uint32_t irs = (uint32_t)rand() * 2654435761u;
		feed(f, TCP_FLAG_SYN, irs, 0, sport);
		uint32_t iss = last_seq();
		feed_data(f, TCP_FLAG_ACK, irs + 1, iss + 1, sport, 0, false, 0);
		struct tcp_conn *c = tcp_listener_accept(l);
		assert_non_null(c);
		uint32_t peer_ack = iss + 1, peer_seq = irs + 1;
		static uint8_t buf[70000];
		for (int i = 0; i < 3000 && c->state != TCPS_CLOSED; i++) {
			int what = rand() % 10;
			if (what == 0) {
				tcp_send(c, buf, (size_t)(rand() % 5000), 0);
			} else if (what == 1) {
				tcp_recv(c, buf, (size_t)(rand() % 70000), rand() % 4 == 0);
			} else if (what == 2) {
				f->core.now += (usec_t)(rand() % 300000);
				timer_run(&f->core.timers, f->core.now);
			} else {
				static const uint8_t fl[] = { TCP_FLAG_ACK, TCP_FLAG_ACK | TCP_FLAG_PSH, TCP_FLAG_ACK | TCP_FLAG_FIN,
				                              TCP_FLAG_RST, TCP_FLAG_SYN, TCP_FLAG_ACK | TCP_FLAG_RST, 0,
				                              TCP_FLAG_SYN | TCP_FLAG_ACK };
				uint8_t flags = fl[rand() % 8];
				if (rand() % 50 && (flags & TCP_FLAG_RST))
					flags = TCP_FLAG_ACK;  /* keep most runs alive longer */
				uint32_t seq = peer_seq + (uint32_t)(rand() % 200000) - 100000;
				if (rand() % 2)
					seq = c->rcv.nxt + (uint32_t)(rand() % 3000);
				uint32_t ack = c->snd.una + (uint32_t)(rand() % 20000) - 5000;
				if (rand() % 2)
					ack = peer_ack;
				uint32_t dlen = (flags & TCP_FLAG_RST) ? 0 : (uint32_t)(rand() % 1500);
				feed_data(f, flags, seq, ack, sport, dlen, rand() % 2, (uint32_t)rand());
				if (rand() % 3 == 0)
					peer_ack = c->snd.nxt;
			}
			if (c->state == TCPS_CLOSED)
				break;
			/* Invariants of the TCB. */
			assert_true(seq_leq(c->snd.una, c->snd.nxt));
			assert_true(seq_leq(c->snd.nxt, c->snd.max));
			assert_true(c->rcvq.bytes <= c->opts.rcvbuf);

			/* The last skb may take the queue past SO_SNDBUF by one goal (tcp_buf.c). */
			assert_true(c->sndq.len < c->opts.sndbuf + TCP_LINUX_GSO_MAX);
			assert_true(tcp_rmem_alloc(c) <= 2 * tcp_rcvbuf_cap(c)); /* bounded by memory (tcp_rmem_fits) */
			assert_true(f->tl.mem_used <= f->tl.cfg.mem_high);
			assert_true(seq_leq(c->snd.max - c->snd.una, c->sndq.len + 2));
		}
		tcp_close(c);
		/* Let whatever is left (FIN-WAIT, TIME-WAIT, orphans) run out. */
		for (int k = 0; k < 200; k++) {
			f->core.now += 5 * USEC_PER_SEC;
			timer_run(&f->core.timers, f->core.now);
		}
	}
	tcp_listener_close(l);
	for (struct tcp_conn *c = f->tl.all; c; c = c->all_next)
		print_message("left: %s flags 0x%x sndq %u flight %u wnd %u rtx %d\n", tcp_state_name(c->state), c->flags,
		              c->sndq.len, c->snd.max - c->snd.una, c->snd.wnd, timer_armed(&c->rtx_timer));
	assert_int_equal(f->tl.nconns, 0);
	assert_int_equal(f->tl.ntw, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_seq_compare_simple),
		cmocka_unit_test(test_seq_compare_across_wrap),
		cmocka_unit_test(test_seq_in_window_edges),
		cmocka_unit_test_setup_teardown(test_isn_keyed_and_clocked, fx_setup, fx_teardown),
		cmocka_unit_test(test_ring_wraps_and_pieces),
		cmocka_unit_test_setup_teardown(test_wscale_from_buffer, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_syn_option_negotiation, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_hash_grows_and_finds, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_listen_specific_beats_wildcard, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_port_bind_rules, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_counter_group_names, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_rto_estimator, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_syn_cookie_ack_waits_for_accept_queue, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_syn_cookies, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_random_segments_keep_invariants, fx_setup, fx_teardown),
	};
	return cmocka_run_group_tests_name("tcp_seq", tests, NULL, NULL);
}
