/*
 * test_tcp_recovery_math.c - the arithmetic of loss recovery on a bare struct tcp_conn,
 * without frames: PRR's sndcnt (RFC 6937 3) in both of its regimes, and the pipe it is
 * computed from (RFC 6675 2). The frame-level behaviour is in test_tcp_recovery.c.
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_prr_arithmetic),
		cmocka_unit_test(test_pipe),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
