/*
 * test_tcp_recovery_math.c - the arithmetic of loss recovery on a bare struct tcp_conn,
 * without frames: PRR's sndcnt (RFC 6937 3) in both of its regimes, and the pipe it is
 * computed from (RFC 6675 2), and the delivery rate over the acknowledged and SACKed bytes
 * (tcp_rate.c), and the size of a transmit unit (tcp_output.c's tcp_tso_segs, Linux's TSO
 * autosizing). The frame-level behaviour is in test_tcp_recovery.c and test_tcp_send.c.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "tcp/tcp_int.h"

/* PRR's arithmetic on its own (RFC 6937 3, as Linux's tcp_cwnd_reduction: in packets). */
static void test_prr_arithmetic(void **state)
{
	(void)state;
	struct tcp_conn c;
	memset(&c, 0, sizeof(c));
	c.mss = 1000;
	c.ssthresh = 10000;                 /* 10 packets */
	c.rec.prr_recover_fs = 20000;       /* RecoverFS: 20 */
	c.snd.una = 1;
	c.snd.max = 20001;                  /* 20 segments out */
	c.sb.lost = 1000;
	c.sb.sacked = 3000;                 /* pipe = 20 - 3 - 1 = 16 > ssthresh: proportional */
	c.rec.prr_delivered = 3000;
	assert_int_equal(tcp_prr_sndcnt(&c, 3000, false), 2);  /* ceil(3 * 10 / 20) = 2 - 0 */
	c.rec.prr_out = 2000;
	c.rec.prr_delivered = 4000;
	assert_int_equal(tcp_prr_sndcnt(&c, 1000, false), 0);  /* ceil(2) - 2 */
	c.rec.prr_delivered = 5000;
	assert_int_equal(tcp_prr_sndcnt(&c, 1000, false), 1);  /* ceil(2.5) - 2 */
	/* Pipe below ssthresh: the slow start reduction bound, min(ssthresh - pipe,
	 * max(delivered - out, DeliveredData) + 1 if SND.UNA moved without a new loss). */
	c.sb.sacked = 14000;                /* pipe = 20 - 14 - 1 = 5: room 5 */
	c.rec.prr_delivered = 14000;
	c.rec.prr_out = 2000;
	assert_int_equal(tcp_prr_sndcnt(&c, 1000, false), 5);  /* max(12, 1) capped at 5 */
	c.rec.prr_delivered = 3000;
	c.rec.prr_out = 3000;
	assert_int_equal(tcp_prr_sndcnt(&c, 1000, false), 1);  /* max(0, 1) */
	assert_int_equal(tcp_prr_sndcnt(&c, 1000, true), 2);   /* + 1: SND.UNA moved */
	/* The first ACK of recovery always lets the fast retransmission out. */
	c.sb.sacked = 1000;
	c.sb.lost = 0;                      /* pipe 19: proportional, ceil(1 * 10 / 20) = 1 */
	c.rec.prr_delivered = 1000;
	c.rec.prr_out = 0;
	c.ssthresh = 0;                     /* even when the formula gives nothing */
	assert_int_equal(tcp_prr_sndcnt(&c, 1000, false), 1);
}

/* pipe = SND.MAX - SND.UNA - SACKed - lost + retransmitted (a resent lost byte counts once). */
static void test_pipe(void **state)
{
	(void)state;
	struct tcp_conn c;
	memset(&c, 0, sizeof(c));
	c.snd.una = 0xfffff000u;            /* across 2^32 */
	c.snd.max = 0x00001000u;
	assert_int_equal(tcp_sb_pipe(&c), 0x2000);
	c.sb.sacked = 0x800;
	c.sb.lost = 0x400;
	assert_int_equal(tcp_sb_pipe(&c), 0x1400);
	c.sb.retrans = 0x400;
	assert_int_equal(tcp_sb_pipe(&c), 0x1800);
}

/* The delivery rate (tcp_rate.c): bytes acknowledged or SACKed over a window of one SRTT,
 * a window left open while nothing is in flight is not counted, reneging restarts it. */
static void test_delivery_rate(void **state)
{
	(void)state;
	struct core core;
	struct tcp_layer tl;
	struct tcp_conn c;
	memset(&core, 0, sizeof(core));
	memset(&tl, 0, sizeof(tl));
	memset(&c, 0, sizeof(c));
	tl.core = &core;
	c.tl = &tl;
	c.rtt.srtt_us = 10000;              /* 10 ms */
	c.snd.una = 0xffff0000u;            /* across 2^32 */
	c.snd.max = c.snd.una + 1000000;
	core.now = USEC_PER_SEC;
	uint32_t prior = c.snd.una;
	tcp_rate_ack(&c, prior);            /* opens the window: no rate yet */
	assert_int_equal(c.rate.bytes_per_sec, 0);
	core.now += 5000;                   /* half an SRTT: 50,000 bytes acked, 10,000 SACKed */
	prior = c.snd.una;
	c.snd.una += 50000;
	c.sb.sacked = 10000;
	tcp_rate_ack(&c, prior);
	assert_int_equal(c.rate.bytes_per_sec, 0);
	core.now += 5000;                   /* one SRTT: 100,000 delivered in 10 ms (SACKed counted) */
	prior = c.snd.una;
	c.snd.una += 40000;
	c.sb.sacked = 10000;
	tcp_rate_ack(&c, prior);
	assert_int_equal(c.rate.bytes_per_sec, 10000000);
	/* The SACKed bytes becoming cumulatively acknowledged deliver nothing new. */
	core.now += 10000;
	prior = c.snd.una;
	c.snd.una += 10000;
	c.sb.sacked = 0;
	tcp_rate_ack(&c, prior);
	assert_int_equal(c.rate.bytes_per_sec, 10000000);
	/* All acknowledged: the window closes; a second of idleness later, 20,000 bytes in
	 * 10 ms measure 2 MB/s, not 20,000 bytes over a second. */
	prior = c.snd.una;
	c.snd.una = c.snd.max;
	tcp_rate_ack(&c, prior);
	assert_int_equal(c.rate.t0, 0);
	core.now += USEC_PER_SEC;
	c.snd.max += 100000;
	tcp_rate_ack(&c, c.snd.una);        /* the first ACK of new data opens the window */
	core.now += 10000;
	prior = c.snd.una;
	c.snd.una += 20000;
	tcp_rate_ack(&c, prior);
	assert_int_equal(c.rate.bytes_per_sec, 2000000);
	/* 30,000 bytes SACKed in the next 10 ms: 3 MB/s. Then the peer reneges (forgets them):
	 * delivered falls below the window's start, which restarts the window, no underflow. */
	c.sb.sacked = 30000;
	core.now += 10000;
	tcp_rate_ack(&c, c.snd.una);
	assert_int_equal(c.rate.bytes_per_sec, 3000000);
	c.sb.sacked = 0;
	core.now += 1000;
	tcp_rate_ack(&c, c.snd.una);
	assert_int_equal(c.rate.t0, core.now);
	assert_int_equal(c.rate.bytes_per_sec, 3000000);
}

/*
 * How many segments one transmit unit may carry (tcp_tso_segs), as Linux's tcp_tso_autosize
 * computes it from the pacing rate tcp_update_pacing_rate sets even without fq: 200 % of
 * max(cwnd, packets out) x MSS per SRTT below half ssthresh, 120 % above, 1/1024 s of that
 * (sk_pacing_shift 10), plus 64 KiB >> (min_RTT / 512 us) on a short path, at most 64 KiB,
 * at least tcp_min_tso_segs. On a bare connection, without frames.
 */
static void test_tso_autosize(void **state)
{
	(void)state;
	struct tcp_layer tl;
	memset(&tl, 0, sizeof(tl));
	tl.cfg.min_tso_segs = 2;
	struct tcp_conn c;
	memset(&c, 0, sizeof(c));
	c.tl = &tl;
	c.mss = 1448;
	/* 2 ms, slow start, cwnd 40: 57,920,000 B/s -> 56,562 B per 1/1024 s, + 64 KiB >> 3
	 * (min_RTT 2000 us >> 9 = 3) = 64,754 B: 44 segments. */
	c.cwnd = 40 * 1448;
	c.ssthresh = 0x7fffffff;
	c.rtt.srtt_us = 2000;
	c.rtt.min[0].rtt_us = 2000;
	assert_int_equal(tcp_tso_segs(&c, 1448), 44);
	/* Past half ssthresh: 120 %, 33,937 B + 8,192 B: 29 segments. */
	c.ssthresh = 60 * 1448;
	assert_int_equal(tcp_tso_segs(&c, 1448), 29);
	/* 20 ms, congestion avoidance, cwnd 100: 8,688,000 B/s -> 8,484 B; min_RTT 20 ms adds
	 * nothing (20000 >> 9 = 39 halvings of 64 KiB): 5 segments. */
	c.cwnd = 100 * 1448;
	c.ssthresh = 80 * 1448;
	c.rtt.srtt_us = 20000;
	c.rtt.min[0].rtt_us = 20000;
	assert_int_equal(tcp_tso_segs(&c, 1448), 5);
	/* More packets out than cwnd (after a reduction): Linux's max(cwnd, packets_out). */
	c.cwnd = 50 * 1448;
	c.snd.una = 1;
	c.snd.nxt = c.snd.max = 1 + 100 * 1448;
	assert_int_equal(tcp_tso_segs(&c, 1448), 5);
	/* 100 ms, cwnd 10: 195 B per 1/1024 s, less than a segment: tcp_min_tso_segs. */
	c.snd.nxt = c.snd.max = c.snd.una;
	c.cwnd = 10 * 1448;
	c.ssthresh = 0x7fffffff;
	c.rtt.srtt_us = 100000;
	c.rtt.min[0].rtt_us = 100000;
	assert_int_equal(tcp_tso_segs(&c, 1448), 2);
	/* No SRTT yet: 64 KiB, 45 segments. */
	c.rtt.srtt_us = 0;
	assert_int_equal(tcp_tso_segs(&c, 1448), 45);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_prr_arithmetic),
		cmocka_unit_test(test_pipe),
		cmocka_unit_test(test_tso_autosize),
		cmocka_unit_test(test_delivery_rate),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
