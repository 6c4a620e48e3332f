/*
 * test_tcp_recovery.c - loss recovery with SACK, frame by frame on the fake clock
 * (stack/tcp/tcp_sack.c, stack/tcp/tcp_recovery.c):
 *   the scoreboard's marks and RACK's fast retransmission (RFC 6675, RFC 8985 6),
 *   RACK's reordering window and timer, the window's growth on D-SACK and how long it lasts,
 *   DupThresh following the reordering seen, RTT samples from the scoreboard's send times,
 *   the tail loss probe's timing (RFC 8985 7),
 *   PRR's sending pattern (RFC 6937; its arithmetic: test_tcp_recovery_math.c), D-SACK generation (RFC 2883) and
 *   undo by D-SACK (RFC 3708), by timestamps (Eifel, RFC 3522) and by F-RTO (RFC 5682),
 *   an RTO's go-back-N that keeps SACK marks, and SACK blocks that are malformed, old,
 *   overlapping, beyond what was sent, or forged (counted; no data forgotten).
 *
 * The test is the peer: it opens with MSS 1000 (1012 with timestamps, so segments carry
 * 1000 bytes either way) and SACK-permitted, answers the SYN-ACK 10 ms later (SRTT 10 ms),
 * and ACKs with hand-made SACK blocks. Sequence numbers below are relative: byte 1 is
 * h->iss + 1.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "tcp/tcp_int.h"
#include "core/checksum.h"
#include "helpers/tcp_harness.h"
#include "socket/socket.h"

#define DATA (TCP_FLAG_ACK | TH_PSH_ANY)
#define SEG 1000u

static uint8_t pattern(uint32_t off)
{
	return (uint8_t)(off * 7u + (off >> 9) + 3u);
}

/* ESTABLISHED with SACK (and timestamps if ts): SRTT 10 ms from the handshake. */
static int rec_open(struct th *h, bool ts)
{
	int lfd = th_listen(h, 80, 8);
	struct tcp_opts o;
	memset(&o, 0, sizeof(o));
	o.has_mss = true;
	o.mss = (uint16_t)(SEG + (ts ? 12 : 0));
	o.sack_ok = true;
	o.has_ts = ts;
	o.ts_val = 100;
	th_send(h, TCP_FLAG_SYN, h->irs, 0, 65535, &o, NULL, 0);
	struct th_seg s = th_expect(h, TCP_FLAG_SYN | TCP_FLAG_ACK, TH_ANY, h->irs + 1, TH_ANY, TH_ANY_OPTS, 0);
	h->iss = s.hdr.seq;
	th_advance(h, 10);
	struct tcp_opts a;
	memset(&a, 0, sizeof(a));
	a.has_ts = ts;
	a.ts_val = 110;
	a.ts_ecr = s.hdr.opts.ts_val;
	th_send(h, TCP_FLAG_ACK, h->irs + 1, h->iss + 1, 65535, ts ? &a : NULL, NULL, 0);
	int fd = ts_accept(th_sl(h), lfd, NULL, SOCK_NONBLOCK);
	assert_true(fd >= 0);
	return fd;
}

/* Writes `n` segments of the pattern from stream offset `from` (bytes are 0-based). */
static void write_segs(struct th *h, int fd, uint32_t from, uint32_t n)
{
	static uint8_t buf[64 * SEG];
	for (uint32_t i = 0; i < n * SEG; i++)
		buf[i] = pattern(from + i);
	assert_int_equal(ts_send(th_sl(h), fd, buf, n * SEG, 0), (ssize_t)(n * SEG));
}

/* Expects segment k (1-based) of the stream, payload checked. */
#define expect_seg(h, k) expect_seg_at(__FILE__, __LINE__, (h), (k))
static struct th_seg expect_seg_at(const char *file, int line, struct th *h, uint32_t k)
{
	struct th_seg s = th_expect_at(file, line, h, DATA, h->iss + 1 + (k - 1) * SEG, h->irs + 1, TH_ANY,
	                               TH_ANY_OPTS, SEG);
	for (uint32_t i = 0; i < SEG; i++)
		if (s.payload[i] != pattern((k - 1) * SEG + i))
			fail_msg("%s:%d: byte %u of segment %u differs", file, line, i, k);
	return s;
}

/* The peer ACKs relative byte `ack` with the nblk SACK blocks of `ap`, given as relative
 * start/end pairs (start inclusive, end exclusive, as on the wire: 1001..2001 is segment 2),
 * and with timestamps when `o` has them. */
static void peer_ack_v(struct th *h, uint32_t ack, struct tcp_opts *o, int nblk, va_list ap)
{
	for (int i = 0; i < nblk; i++) {
		o->sack[i].start = h->iss + va_arg(ap, uint32_t);
		o->sack[i].end = h->iss + va_arg(ap, uint32_t);
	}
	o->sack_count = (uint8_t)nblk;
	th_send(h, TCP_FLAG_ACK, h->irs + 1, h->iss + ack, 65535, o, NULL, 0);
}

/* The peer ACKs relative byte `ack` with nblk SACK blocks (relative start/end pairs). */
static void peer_ack(struct th *h, uint32_t ack, int nblk, ...)
{
	struct tcp_opts o;
	memset(&o, 0, sizeof(o));
	va_list ap;
	va_start(ap, nblk);
	peer_ack_v(h, ack, &o, nblk, ap);
	va_end(ap);
}

/* peer_ack with timestamps: TSval `val`, echoing `ecr`. */
static void peer_ack_ts(struct th *h, uint32_t ack, uint32_t val, uint32_t ecr, int nblk, ...)
{
	struct tcp_opts o;
	memset(&o, 0, sizeof(o));
	o.has_ts = true;
	o.ts_val = val;
	o.ts_ecr = ecr;
	va_list ap;
	va_start(ap, nblk);
	peer_ack_v(h, ack, &o, nblk, ap);
	va_end(ap);
}

static struct tcp_info info(struct th *h, int fd)
{
	struct tcp_info ti;
	socklen_t len = sizeof(ti);
	memset(&ti, 0, sizeof(ti));
	assert_int_equal(ts_getsockopt(th_sl(h), fd, IPPROTO_TCP, TCP_INFO, &ti, &len), 0);
	return ti;
}

/* The usual start: SACK, no timestamps, segments 1-10 sent at once (IW10) and checked. */
static int ten_out(struct th *h)
{
	int fd = rec_open(h, false);
	write_segs(h, fd, 0, 10);
	for (uint32_t k = 1; k <= 10; k++)
		expect_seg(h, k);
	return fd;
}

/* ten_out with timestamps; *ts is the TSval the ten segments carry. */
static int ten_out_ts(struct th *h, uint32_t *ts)
{
	int fd = rec_open(h, true);
	write_segs(h, fd, 0, 10);
	*ts = expect_seg(h, 1).hdr.opts.ts_val;
	for (uint32_t k = 2; k <= 10; k++)
		expect_seg(h, k);
	return fd;
}

/* ten_out without the probe timer, then silence until the RTO resends segment 1. */
static int ten_out_then_rto(struct th *h)
{
	int fd = ten_out(h);
	assert_true(th_advance_until_seg(h, 1000) >= 200);
	expect_seg(h, 1);
	return fd;
}

/* TCP_INFO's tcpi_min_rtt (Linux's layout: glibc's struct, then struct tcp_info_more). */
static uint32_t min_rtt(struct th *h, int fd)
{
	struct {
		struct tcp_info ti;
		struct tcp_info_more more;
	} fi;
	socklen_t len = sizeof(fi);
	assert_int_equal(ts_getsockopt(th_sl(h), fd, IPPROTO_TCP, TCP_INFO, &fi, &len), 0);
	assert_int_equal(len, sizeof(fi));
	return fi.more.tcpi_min_rtt;
}

static uint64_t ctr(struct th *h, const char *name)
{
	return th_counter(h, "tcp", name);
}

/* The reduction was undone: back to OPEN with ssthresh as before (infinite). */
#define assert_undone(h, fd)                                                                       \
	do {                                                                                       \
		struct tcp_info ti_ = info((h), (fd));                                             \
		assert_int_equal(ti_.tcpi_ca_state, 0);                                            \
		assert_int_equal(ti_.tcpi_snd_ssthresh, 0x7fffffff);                               \
		assert_int_equal(ti_.tcpi_lost, 0);                                                \
	} while (0)

static void set_sndbuf(struct th *h, int fd, int bytes)
{
	assert_int_equal(ts_setsockopt(th_sl(h), fd, SOL_SOCKET, SO_SNDBUF, &bytes, sizeof(bytes)), 0);
}

/* The expected numbers here are Reno's halving (ssthresh 5 of 10); CUBIC's 0.7 is checked
 * in test_tcp_cc.c. */
static void use_reno(struct stack_config *cfg)
{
	snprintf(cfg->tcp.congestion_control, sizeof(cfg->tcp.congestion_control), "reno");
}

static int reno_setup(void **state)
{
	*state = th_new(use_reno);
	return 0;
}

static void no_tlp(struct stack_config *cfg)
{
	use_reno(cfg);
	cfg->tcp.tlp = false;
}

/* Three segments SACKed above a hole (DupThresh): RACK's reordering window is zero, the
 * hole is lost at once, recovery starts and resends it; the marks show in TCP_INFO. */
static void test_scoreboard_marks_and_fast_retransmit(void **state)
{
	struct th *h = *state;
	int fd = ten_out(h);
	th_advance(h, 10);
	peer_ack(h, 1, 1, 1001u, 4001u);
	expect_seg(h, 1);
	th_expect_none(h);
	struct tcp_info ti = info(h, fd);
	assert_int_equal(ti.tcpi_ca_state, 3); /* TCP_CA_Recovery */
	assert_int_equal(ti.tcpi_sacked, 3);
	assert_int_equal(ti.tcpi_lost, 1);
	assert_int_equal(ti.tcpi_retrans, 1);
	assert_int_equal(ti.tcpi_snd_ssthresh, 5);
	assert_int_equal(ti.tcpi_total_retrans, 1);
	assert_int_equal(ctr(h, "RackLost"), 1);
	assert_int_equal(ctr(h, "SackRecovery"), 1);
	/* The hole is filled: recovery ends at ssthresh. */
	peer_ack(h, 10001, 0);
	ti = info(h, fd);
	assert_int_equal(ti.tcpi_ca_state, 0);
	assert_int_equal(ti.tcpi_snd_cwnd, 5);
	assert_int_equal(ti.tcpi_sacked, 0);
	th_expect_none(h);
}

/* Expects segment k (1-based) of the stream with PSH exactly as `psh` says. */
#define expect_seg_psh(h, k, psh) \
	th_expect_at(__FILE__, __LINE__, (h), TCP_FLAG_ACK | ((psh) ? TCP_FLAG_PSH : 0), \
	             (h)->iss + 1 + ((k) - 1) * SEG, (h)->irs + 1, TH_ANY, TH_ANY_OPTS, SEG)

/* Linux resends a lost skb whole (tcp_xmit_retransmit_queue, __tcp_retransmit_skb), as far
 * as cwnd and tcp_tso_segs let it, and forces PSH on any of more than one segment; SACK
 * blocks and a resend cut short by cwnd split skbs. Here the units are two segments each
 * (tcp_tso_segs at this rate is min_tso_segs), the peer SACKs 4 and 8-10: unit 1-2 is
 * resent whole with PSH on 2, segment 3 (what the SACK of 4 left) alone without, and cwnd
 * (4 after PRR) cuts unit 5-6 after 5; 6 then goes as its own unit, without PSH.
 * (sack/sack-route-refresh-ip-tos.pkt in the corpus is the same pattern.) */
static void test_resend_whole_units(void **state)
{
	struct th *h = *state;
	int fd = rec_open(h, false);
	write_segs(h, fd, 0, 10);
	for (uint32_t k = 1; k <= 10; k++)
		expect_seg_psh(h, k, k % 2 == 0);
	th_expect_none(h);
	th_advance(h, 10);
	peer_ack(h, 1, 2, 3001u, 4001u, 7001u, 10001u);
	expect_seg_psh(h, 1, false);
	expect_seg_psh(h, 2, true);
	expect_seg_psh(h, 3, false);
	expect_seg_psh(h, 5, false);
	th_expect_none(h);
	assert_int_equal(info(h, fd).tcpi_snd_cwnd, 4);
	peer_ack(h, 4001, 1, 7001u, 10001u);
	expect_seg_psh(h, 6, false);
	expect_seg_psh(h, 7, false);
	th_expect_none(h);
	assert_int_equal(info(h, fd).tcpi_total_retrans, 6);
}

/* TCP_INFO's tallies past tcpi_sndbuf_limited, as Linux keeps them: segments delivered
 * (the SYN-ACK counted, and a D-SACKed duplicate: Linux's sack_delivered), data bytes sent and resent, segments D-SACKed, reordering events,
 * segments received out of order, and both windows. */
static void test_tcp_info_tallies(void **state)
{
	struct th *h = *state;
	int fd = ten_out(h);
	struct {
		struct tcp_info ti;
		struct tcp_info_more more;
	} fi;
	socklen_t len = sizeof(fi);
	th_advance(h, 10);
	peer_ack(h, 1, 1, 1001u, 4001u); /* segments 2-4 SACKed: 1 is resent */
	expect_seg(h, 1);
	peer_ack(h, 10001, 0);
	peer_ack(h, 10001, 1, 1u, 1001u); /* then a D-SACK of the resent one */
	uint8_t buf[100];
	memset(buf, 'o', sizeof(buf));
	th_send(h, TCP_FLAG_ACK, h->irs + 101, h->iss + 10001, 65535, NULL, buf, 100); /* a hole */
	th_drain(h);
	assert_int_equal(ts_getsockopt(th_sl(h), fd, IPPROTO_TCP, TCP_INFO, &fi, &len), 0);
	assert_int_equal(len, sizeof(fi));
	assert_int_equal(fi.more.tcpi_delivered, 12); /* SYN-ACK, ten segments, one duplicate */
	assert_int_equal(fi.more.tcpi_delivered_ce, 0);
	assert_int_equal(fi.more.tcpi_bytes_sent, 11000);
	assert_int_equal(fi.more.tcpi_bytes_retrans, 1000);
	assert_int_equal(fi.more.tcpi_dsack_dups, 1);
	assert_int_equal(fi.more.tcpi_reord_seen, 0); /* the resend filled the hole, not the original */
	assert_int_equal(fi.more.tcpi_rcv_ooopack, 1);
	assert_int_equal(fi.more.tcpi_snd_wnd, 65535);
	assert_true(fi.more.tcpi_rcv_wnd > 0);
}

/* One segment SACKed: no DupThresh, so RACK waits min_RTT / 4 (2.5 ms here) past the
 * RTT before it calls the hole lost, on its reordering timer (RFC 8985 6.2, 6.3), which
 * as Linux's fires 2 ms late rather than early. */
static void test_rack_reorder_window(void **state)
{
	struct th *h = *state;
	int fd = ten_out(h);
	th_advance(h, 10);
	peer_ack(h, 1, 1, 1001u, 2001u);
	th_expect_none(h);
	assert_int_equal(info(h, fd).tcpi_ca_state, 1); /* TCP_CA_Disorder */
	th_advance(h, 4);
	th_expect_none(h);
	th_advance_us(h, 499);
	th_expect_none(h);
	th_advance_us(h, 1);  /* 2.5 ms + Linux's 2 ms TCP_TIMEOUT_MIN */
	expect_seg(h, 1);
	assert_int_equal(info(h, fd).tcpi_ca_state, 3);
	assert_int_equal(ctr(h, "RackLost"), 1);
	/* The late original arrives after all (reordering, not loss): the ACK of it and a
	 * D-SACK for the resend undo the reduction (RFC 3708). */
	peer_ack(h, 10001, 1, 1u, 1001u);
	assert_int_equal(ctr(h, "DsackUndo"), 1);
	assert_undone(h, fd);
}

/*
 * RACK's reordering window grows on D-SACK (RFC 8985 6.2 step 4, Linux
 * tcp_rack_update_reo_wnd): the first resend of test_rack_reorder_window turns out
 * spurious, so the window becomes two steps of min_RTT / 4 = 5 ms, and the next hole is
 * resent 5 ms (+ the timer's 2 ms) past its RTT instead of 2.5 ms.
 */
/* test_rack_reorder_window's start: segment 1 is resent after 2.5 ms (+ 2) and turns out
 * only late, a D-SACK says so and the reduction is undone. */
static int late_then_dsack(struct th *h)
{
	int fd = ten_out(h);
	th_advance(h, 10);
	peer_ack(h, 1, 1, 1001u, 2001u);
	th_advance_us(h, 4500);
	expect_seg(h, 1);                    /* one step: 2.5 ms + 2 */
	peer_ack(h, 10001, 1, 1u, 1001u);    /* the original was only late */
	assert_int_equal(ctr(h, "DsackUndo"), 1);
	return fd;
}

static void test_rack_reo_wnd_grows_on_dsack(void **state)
{
	struct th *h = *state;
	int fd = late_then_dsack(h);
	write_segs(h, fd, 10 * SEG, 10);
	for (uint32_t k = 11; k <= 20; k++)
		expect_seg(h, k);
	th_advance(h, 10);
	peer_ack(h, 10001, 1, 11001u, 12001u);
	th_advance_us(h, 6999);
	th_expect_none(h);
	th_advance_us(h, 1);                 /* two steps: 5 ms + 2 */
	expect_seg(h, 11);
	assert_int_equal(info(h, fd).tcpi_ca_state, 3);
}

/*
 * RACK's "sent after" is transmission order, not sequence order, when two transmissions
 * share a clock reading (the stack reads its clock once per wake-up): two ACKs handled in
 * one tick, the first lets new data 11-14 out, the second shows segment 3 lost and it is
 * resent after them. A SACK for segment 11 says nothing about the resend, which left
 * later and is still queued behind it; taking 11 for "sent after" (its sequence is higher)
 * would resend segment 3 again at once - what the relay measured at 2 ms and no random
 * loss, a D-SACK for every such second resend.
 */
static void test_rack_same_tick_order(void **state)
{
	struct th *h = *state;
	int fd = ten_out(h);
	write_segs(h, fd, 10 * SEG, 4);
	th_advance(h, 10);
	peer_ack(h, 2001, 0);                    /* cwnd 12, 8 out: 11-14 go */
	for (uint32_t k = 11; k <= 14; k++)
		expect_seg(h, k);
	peer_ack(h, 2001, 1, 3001u, 6001u);      /* same tick: 3 is lost, resent after 11-14 */
	expect_seg(h, 3);
	th_expect_none(h);
	th_advance(h, 1);
	peer_ack(h, 2001, 1, 3001u, 11001u);     /* 4-10 and now 11 */
	th_expect_none(h);                       /* the resend is not judged by segment 11 */
	assert_int_equal(ctr(h, "LostRetransmits"), 0);
	assert_int_equal(ctr(h, "RackLost"), 1);
}

/*
 * A resend SACKed above a hole moves RACK on even though the timestamp the SACK echoes is
 * older than the resend: a receiver's TS.Recent comes from in-order data, so above a hole
 * its echo says nothing about which copy arrived (Linux's tcp_sacktag_one tests only the
 * RTT; the echo test, tcp_skb_spurious_retrans, is for cumulative ACKs). Segments 1 and 2
 * are lost and resent; the resend of 2 arrives, that of 1 is lost again: the SACK of 2'
 * shows 1' lost at once (LostRetransmits), where waiting for the echo would leave it to
 * the retransmission timer.
 */
static void test_sacked_resend_advances_rack(void **state)
{
	struct th *h = *state;
	uint32_t orig;
	int fd = ten_out_ts(h, &orig);
	th_advance(h, 10);
	peer_ack_ts(h, 1, 200, orig, 1, 2001u, 10001u); /* 3-10 SACKed: 1 and 2 lost */
	expect_seg(h, 1);
	expect_seg(h, 2);
	th_expect_none(h);
	th_advance(h, 11);
	peer_ack_ts(h, 1, 210, orig, 2, 1001u, 2001u, 2001u, 10001u); /* 2' arrived, 1' did not */
	expect_seg(h, 1);                                          /* resent again, no RTO */
	assert_int_equal(ctr(h, "LostRetransmits"), 1);
	assert_int_equal(info(h, fd).tcpi_ca_state, 3);             /* still the same recovery */
}

/*
 * The reordering timer inside recovery (Linux tcp_rack_reo_timeout): what it marks lost is
 * resent within the window as the last ACK left it, with no PRR credit, because nothing was
 * delivered. Reno, ten segments: 3 then 2 SACKed (reordering seen, so RACK waits), the
 * timer finds 1 lost and recovery begins (ssthresh 5); an ACK SACKs 8, the timer finds 4-7
 * lost at once, and all four go (pipe fell from 7 to 3). Counting the expiry as one
 * packet delivered would let PRR's slow-start part send only two of them.
 */
static void test_reo_timer_in_recovery_no_prr_credit(void **state)
{
	struct th *h = *state;
	int fd = ten_out(h);
	th_advance(h, 10);
	peer_ack(h, 1, 1, 2001u, 3001u);
	peer_ack(h, 1, 1, 1001u, 3001u);                 /* 2 below the highest SACKed: reordering */
	assert_true(th_advance_until_seg(h, 20) >= 0);
	expect_seg(h, 1);                                /* the timer: 1 lost, recovery */
	th_expect_none(h);
	assert_int_equal(info(h, fd).tcpi_ca_state, 3);
	th_advance(h, 5);
	peer_ack(h, 1, 2, 1001u, 3001u, 7001u, 8001u);   /* 8 arrived: 4-7 wait on the timer */
	th_expect_none(h);
	assert_true(th_advance_until_seg(h, 20) >= 0);
	for (uint32_t k = 4; k <= 7; k++)
		expect_seg(h, k);
	th_expect_none(h);
}

/* A hole shown by one SACKed segment, resent when RACK's timer says so: expects segment
 * `k` (1-based) `wait_us` after the SACK of k + 1 and not a microsecond earlier, then
 * the peer ACKs both (no D-SACK: the loss was real) after 1 ms. */
static void lose_one_rack(struct th *h, uint32_t k, uint32_t wait_us)
{
	th_advance(h, 10);
	peer_ack(h, (k - 1) * SEG + 1, 1, k * SEG + 1, (k + 1) * SEG + 1);
	th_advance_us(h, wait_us - 1);
	th_expect_none(h);
	th_advance_us(h, 1);
	expect_seg(h, k);
	th_advance(h, 1);
	peer_ack(h, (k + 1) * SEG + 1, 0);
}

/*
 * The widened window persists for 16 recoveries that end without an undo (real losses),
 * then falls back to one step on the next ACK (Linux: reo_wnd_persist, decremented when a
 * recovery ends without undo, checked on every ACK).
 */
static void test_rack_reo_wnd_persists_16_recoveries(void **state)
{
	struct th *h = *state;
	int fd = late_then_dsack(h);         /* two steps */
	uint32_t k = 11;
	for (int i = 0; i < 16; i++, k += 2) {
		write_segs(h, fd, (k - 1) * SEG, 2);
		expect_seg(h, k);
		expect_seg(h, k + 1);
		lose_one_rack(h, k, 7000);       /* 5 ms + 2 */
	}
	assert_int_equal(ctr(h, "SackRecovery"), 17);
	write_segs(h, fd, (k - 1) * SEG, 2);
	expect_seg(h, k);
	expect_seg(h, k + 1);
	lose_one_rack(h, k, 4500);           /* back to 2.5 ms + 2 */
}

/*
 * An undo puts ssthresh back where a sender that was not reducing would have kept it (Linux
 * tcp_undo_cwnd_reduction with prior_ssthresh, tcp_current_ssthresh): a real loss leaves
 * ssthresh 5; cwnd grows past it to 8 (bursts of exactly cwnd: a flight of new data that
 * fills cwnd counts as using it, Linux's tcp_write_xmit); then a recovery that a D-SACK shows spurious is
 * undone to cwnd 8 and ssthresh 6, three quarters of 8 - not back to 5, where every
 * spurious recovery on a reordering path would leave the sender in congestion avoidance.
 */
static void test_undo_restores_three_quarters_ssthresh(void **state)
{
	struct th *h = *state;
	int fd = ten_out(h);
	lose_one_rack(h, 1, 4500);           /* a real loss: 1 resent, then 1-2 ACKed */
	peer_ack(h, 10 * SEG + 1, 0);        /* the full ACK ends recovery at ssthresh */
	assert_int_equal(info(h, fd).tcpi_snd_ssthresh, 5);
	uint32_t next = 11;
	for (int round = 0; info(h, fd).tcpi_snd_cwnd < 8 && round < 10; round++) {
		uint32_t cw = info(h, fd).tcpi_snd_cwnd;
		write_segs(h, fd, (next - 1) * SEG, cw);
		for (uint32_t k = next; k < next + cw; k++)
			expect_seg(h, k);
		next += cw;
		th_advance(h, 10);
		peer_ack(h, (next - 1) * SEG + 1, 0);
	}
	assert_int_equal(info(h, fd).tcpi_snd_cwnd, 8);
	assert_int_equal(info(h, fd).tcpi_snd_ssthresh, 5);
	write_segs(h, fd, (next - 1) * SEG, 8);
	for (uint32_t k = next; k < next + 8; k++)
		expect_seg(h, k);
	th_advance(h, 10);
	peer_ack(h, (next - 1) * SEG + 1, 1, next * SEG + 1, (next + 1) * SEG + 1);
	assert_true(th_advance_until_seg(h, 20) >= 0);
	expect_seg(h, next);                 /* RACK's resend of the hole */
	assert_int_equal(info(h, fd).tcpi_ca_state, 3);
	/* The original arrives after all: everything ACKed, a D-SACK for the resend. */
	peer_ack(h, (next + 7) * SEG + 1, 1, (next - 1) * SEG + 1, next * SEG + 1);
	assert_int_equal(ctr(h, "DsackUndo"), 1);
	assert_int_equal(info(h, fd).tcpi_snd_ssthresh, 6);
	assert_true(info(h, fd).tcpi_snd_cwnd >= 8);
}

static void drain(struct th *h)
{
	struct th_seg s;
	while (th_pop_seg(h, &s))
		;
}

/*
 * The reordering window grows by a step per D-SACK at most once a round trip, and the round
 * is counted by deliveries (Linux tcp_rack_update_reo_wnd: a segment sent after the last
 * growth must be delivered), not by SND.UNA, which a hole holds back on a reordering path.
 * Segment 1 is resent by RACK and D-SACKed: two steps. A second D-SACK on an ACK that
 * delivers only segment 4, sent before that growth, is dropped. A third, on an ACK that
 * SACKs segment 12, written after it, grows the window to three steps although SND.UNA
 * (2001) is still far below what was sent when it last grew. (The test repeats the D-SACK
 * of the one resend; Linux would call the repeats dubious - more duplicates than resends,
 * test_dsack_dubious_ignored - so the count of resends is raised to let them stand.)
 */
static void test_rack_reo_wnd_round_by_delivery(void **state)
{
	struct th *h = *state;
	int fd = ten_out(h);
	struct tcp_conn *c = th_conn(h, fd);
	th_advance(h, 10);
	peer_ack(h, 1, 1, 1001u, 2001u);
	assert_true(th_advance_until_seg(h, 20) >= 0);
	expect_seg(h, 1);                            /* RACK's resend of 1 */
	peer_ack(h, 2001, 1, 1u, 1001u);             /* the original was late: D-SACK */
	assert_int_equal(c->rec.reo_wnd_steps, 2);
	c->total_retrans += 2;                       /* the two repeats below are not dubious */
	peer_ack(h, 2001, 2, 1u, 1001u, 3001u, 4001u); /* delivers 4, sent before: no step */
	assert_int_equal(c->rec.reo_wnd_steps, 2);
	drain(h);
	write_segs(h, fd, 10 * SEG, 2);
	drain(h);
	assert_true(c->snd.max == h->iss + 1 + 12 * SEG);
	peer_ack(h, 2001, 2, 1u, 1001u, 11001u, 12001u); /* delivers 12, sent after: a step */
	assert_int_equal(c->rec.reo_wnd_steps, 3);
	assert_true(seq_lt(c->snd.una, h->iss + 1 + 10 * SEG));
}

/*
 * Linux tcp_dsack_seen: a D-SACK reporting more duplicates than segments were ever resent
 * is dubious (the network duplicated a segment, or the peer is wrong) and is ignored whole:
 * counted (DsackIgnoredDubious), no step of the reordering window, no undo, nothing
 * delivered. A D-SACK of a real resend counts as delivered (tcpi_delivered), as Linux's
 * "a spurious retransmission is delivered".
 */
static void test_dsack_dubious_ignored(void **state)
{
	struct th *h = *state;
	int fd = ten_out(h);
	struct tcp_conn *c = th_conn(h, fd);
	th_advance(h, 10);
	peer_ack(h, 1, 1, 1001u, 2001u);             /* 2 SACKed: 1 is missing */
	assert_true(th_advance_until_seg(h, 20) >= 0);
	expect_seg(h, 1);                            /* RACK's resend of 1 */
	assert_int_equal(c->total_retrans, 1);
	uint32_t delivered = c->delivered_pkts;
	peer_ack(h, 2001, 1, 1u, 1001u);             /* the original came late: a D-SACK of the resend */
	assert_int_equal(th_counter(h, "tcp", "DsackRecv"), 1);
	assert_int_equal(th_counter(h, "tcp", "DsackIgnoredDubious"), 0);
	assert_int_equal(c->delivered_pkts, delivered + 2); /* 1 by the cumulative ACK, and its duplicate */
	assert_int_equal(c->rec.reo_wnd_steps, 2);

	delivered = c->delivered_pkts;
	peer_ack(h, 2001, 1, 1u, 1001u);             /* the same again: two duplicates of one resend */
	assert_int_equal(th_counter(h, "tcp", "DsackRecv"), 2);
	assert_int_equal(th_counter(h, "tcp", "DsackIgnoredDubious"), 1);
	assert_int_equal(c->delivered_pkts, delivered);
	assert_int_equal(c->dsack_dups, 2);
	drain(h);
}

/*
 * The round of the reordering window survives an idle moment: when everything is ACKed the
 * scoreboard is freed, and the count of transmissions must go on from where it was (Linux
 * counts with tp->delivered, which never goes back). Before, it restarted at 0; the next
 * flight's segments then looked older than the last growth, and every D-SACK was dropped
 * as "a round has not passed" until the count caught up: on the 25 % reordering path the
 * window stood still for seconds at a time while the D-SACKs said it was too small.
 */
static void test_reo_wnd_round_survives_empty_board(void **state)
{
	struct th *h = *state;
	int fd = ten_out(h);
	struct tcp_conn *c = th_conn(h, fd);
	th_advance(h, 10);
	peer_ack(h, 1, 1, 1001u, 2001u);
	assert_true(th_advance_until_seg(h, 20) >= 0);
	expect_seg(h, 1);                            /* RACK's resend of 1 */
	peer_ack(h, 2001, 1, 1u, 1001u);             /* D-SACK: a step */
	assert_int_equal(c->rec.reo_wnd_steps, 2);
	uint32_t grown = c->rec.reo_grown_order;
	peer_ack(h, 10 * SEG + 1, 0);                /* all ACKed: the board is freed */
	assert_null(c->sb.seg);
	assert_int_equal(c->sb.xmit_order, grown);
	drain(h);
	write_segs(h, fd, 10 * SEG, 4);              /* 11-14, sent after the growth */
	for (uint32_t k = 11; k <= 14; k++)
		expect_seg(h, k);
	th_advance(h, 10);
	peer_ack(h, 10 * SEG + 1, 1, 11001u, 12001u); /* 12 overtakes 11 */
	assert_true(th_advance_until_seg(h, 20) >= 0);
	expect_seg(h, 11);                           /* RACK's resend of 11 */
	peer_ack(h, 12 * SEG + 1, 1, 10001u, 11001u); /* late original: D-SACK, a second step */
	assert_int_equal(c->rec.reo_wnd_steps, 3);
}

/*
 * Linux tcp_disordered_ack: the peer's ACKs overtake one another on a path that reorders.
 * After an ACK with TSval 205 (TS.Recent), one the peer sent before it arrives, TSval 201:
 * a pure duplicate (SND.UNA again, the same window), so it passes PAWS and its SACK block
 * counts - RFC 7323 would drop it and lose the block. An older ACK that is not a
 * duplicate (it ACKs less than SND.UNA) is still refused, and a TSval one tick old passes
 * as Linux's TCP_PAWS_WINDOW allows.
 */
static void test_paws_passes_reordered_dup_ack(void **state)
{
	struct th *h = *state;
	uint32_t orig;
	int fd = ten_out_ts(h, &orig);
	th_advance(h, 10);
	peer_ack_ts(h, 1001, 205, orig, 0);
	peer_ack_ts(h, 1001, 201, orig, 1, 3001u, 4001u);
	assert_int_equal(ctr(h, "PawsDisorderedAck"), 1);
	assert_int_equal(ctr(h, "drop_paws"), 0);
	assert_int_equal(info(h, fd).tcpi_sacked, 1);
	peer_ack_ts(h, 1, 200, orig, 0);             /* below SND.UNA: an old ACK */
	assert_int_equal(ctr(h, "drop_paws"), 1);
	peer_ack_ts(h, 2001, 204, orig, 0);          /* one tick old, and it moves SND.UNA */
	assert_int_equal(ctr(h, "drop_paws"), 1);
	assert_int_equal(info(h, fd).tcpi_unacked, 8);
}

/*
 * HyStart's ACK train counts every ACK that carries an RTT sample, a duplicate that SACKs
 * new data too (Linux calls pkts_acked from tcp_clean_rtx_queue on each ACK). CUBIC, slow
 * start at cwnd 20, min RTT 10 ms: the round's ACKs come 1 ms apart, two of them
 * duplicates SACKing past a late segment; 6 ms into the round (more than half the min
 * RTT) the train ends slow start. Counting only the ACKs that move SND.UNA would see a 3 ms
 * gap and no train - on a path that reorders, slow start would then run on into losses.
 */
static void test_hystart_train_counts_sack_acks(void **state)
{
	struct th *h = *state;
	int fd = ten_out(h);
	th_advance(h, 10);
	peer_ack(h, 10 * SEG + 1, 0);        /* slow start: cwnd 20 */
	write_segs(h, fd, 10 * SEG, 10);
	drain(h);
	write_segs(h, fd, 20 * SEG, 10);
	drain(h);
	assert_int_equal(info(h, fd).tcpi_snd_cwnd, 20);
	th_advance(h, 10);
	peer_ack(h, 11 * SEG + 1, 0);        /* the round starts */
	th_advance(h, 1);
	peer_ack(h, 12 * SEG + 1, 0);
	th_advance(h, 1);
	peer_ack(h, 13 * SEG + 1, 0);
	th_advance(h, 1);
	peer_ack(h, 13 * SEG + 1, 1, 14 * SEG + 1, 15 * SEG + 1); /* 14 late, 15 SACKed */
	th_advance(h, 1);
	peer_ack(h, 13 * SEG + 1, 1, 14 * SEG + 1, 16 * SEG + 1);
	th_advance(h, 1);
	peer_ack(h, 16 * SEG + 1, 0);
	assert_int_equal(ctr(h, "HystartTrainDetect"), 0);
	th_advance(h, 1);
	peer_ack(h, 17 * SEG + 1, 0);        /* 6 ms of train: slow start ends */
	assert_int_equal(ctr(h, "HystartTrainDetect"), 1);
	assert_int_equal(ctr(h, "SackRecovery"), 0);
	struct tcp_info ti = info(h, fd);
	assert_int_equal(ti.tcpi_snd_ssthresh, ti.tcpi_snd_cwnd);
	drain(h);
}

/*
 * An ACK that moves SND.UNA without telling RACK anything new (here it covers only a resend,
 * whose RTT is ambiguous) puts the probe or retransmission timer in place of a pending
 * reordering timer, as Linux's tcp_ack does with FLAG_SET_XMIT_TIMER: the segment RACK was
 * waiting on is judged at the next delivery, not when the old timer would have fired.
 * After late_then_dsack the path is known to reorder (a window of two steps, 5 ms).
 * Segments 11-15 leave at T, 16-20 at T + 5 ms. A SACK of 13 at T + 10 ms makes RACK resend
 * 11 and 12 on its timer; a SACK of 17 finds 14 and 15 lost and leaves 16 waiting; then the
 * ACK of the resent 11 ends that wait: 16 is not judged when the old timer was due.
 */
static void test_una_advance_replaces_reo_timer(void **state)
{
	struct th *h = *state;
	int fd = late_then_dsack(h);
	th_advance(h, 10);
	usec_t t = h->now;
	write_segs(h, fd, 10 * SEG, 5);
	for (uint32_t k = 11; k <= 15; k++)
		expect_seg(h, k);
	th_advance(h, 5);
	write_segs(h, fd, 15 * SEG, 5);
	for (uint32_t k = 16; k <= 20; k++)
		expect_seg(h, k);
	th_advance(h, 5);
	peer_ack(h, 10001, 1, 12001u, 13001u);        /* 13: 11 and 12 wait 5 ms */
	assert_true(th_advance_until_seg(h, 20) >= 0);
	drain(h);                                      /* RACK's resend of 11 (and 12) */
	assert_int_equal(ctr(h, "RackLost"), 3);       /* with late_then_dsack's 1 */
	assert_true(h->now < t + 18000);
	th_advance_us(h, t + 18000 - h->now);
	peer_ack(h, 10001, 2, 12001u, 13001u, 16001u, 17001u); /* 17: 14, 15 lost; 16 waits */
	assert_int_equal(ctr(h, "RackLost"), 5);
	drain(h);
	th_advance(h, 1);
	peer_ack(h, 11001, 2, 12001u, 13001u, 16001u, 17001u); /* the resend of 11: ambiguous */
	drain(h);
	th_advance(h, 12);                             /* past 16's old deadline and timer */
	assert_int_equal(ctr(h, "RackLost"), 5);
}

static void no_rack(struct stack_config *cfg)
{
	cfg->tcp.recovery = 0;
}

/* tcp_recovery = 0: RFC 6675's IsLost instead of RACK - a hole is lost once more than
 * (DupThresh - 1) segments above it are SACKed, whatever the time; no reordering timer. */
static void test_rfc6675_dupthresh_without_rack(void **state)
{
	(void)state;
	struct th *h = th_new(no_rack);
	int fd = ten_out(h);
	th_advance(h, 10);
	peer_ack(h, 1, 1, 1001u, 3001u);     /* two above: not yet */
	th_advance(h, 100);
	th_expect_none(h);
	peer_ack(h, 1, 1, 1001u, 4001u);     /* three above: lost */
	expect_seg(h, 1);
	assert_int_equal(info(h, fd).tcpi_ca_state, 3);
	assert_int_equal(ctr(h, "RackLost"), 0);
	th_free(h);
}

/* RACK looks again only when a delivery moves it (Linux rack.advanced): a repeated ACK with
 * nothing new, past the segment's deadline but before the reordering timer, leaves the
 * judgement to the timer and its 2 ms of slack. */
static void test_rack_waits_for_its_timer(void **state)
{
	struct th *h = *state;
	(void)ten_out(h);
	th_advance(h, 10);
	peer_ack(h, 1, 1, 1001u, 2001u);     /* segment 1's deadline: +2.5 ms, timer +4.5 ms */
	th_advance(h, 3);
	peer_ack(h, 1, 1, 1001u, 2001u);     /* the same news again */
	th_expect_none(h);
	th_advance_us(h, 1499);
	th_expect_none(h);
	th_advance_us(h, 1);
	expect_seg(h, 1);
}

/* A SACK processed in the clock tick of the send (the stack reads its clock once per
 * wake-up) is no RTT sample for min_RTT: otherwise min_RTT would be zero and so would the
 * reordering window. With no minimum yet the window is SRTT (10 ms), as Linux's; then it
 * comes from the real 10 ms RTT. */
static void test_same_tick_sack_is_no_rtt_sample(void **state)
{
	struct th *h = *state;
	int fd = ten_out(h);
	peer_ack(h, 1, 1, 9001u, 10001u);   /* same tick as the send: no sample */
	th_expect_none(h);
	th_advance(h, 9);                    /* the window is SRTT: nothing lost yet */
	th_expect_none(h);
	th_advance(h, 1);
	peer_ack(h, 1, 2, 1001u, 2001u, 9001u, 10001u);
	th_expect_none(h);                   /* min_RTT 10 ms: RACK waits 2.5 ms (+ 2) */
	th_advance(h, 4);
	th_expect_none(h);
	th_advance(h, 1);
	expect_seg(h, 1);
	assert_int_equal(info(h, fd).tcpi_ca_state, 3);
}

/* With SACK the scoreboard's records are the one owner of send times (the RTT object's ring
 * serves connections without it): an ACK's RTT sample for min_RTT and congestion control is
 * the age of the newest never-resent segment it delivers (Linux's ca_rtt) - here a SACKed
 * one - and a cumulative ACK that covers a resent segment gives none (Karn), however old
 * the originals beside it are. */
static void test_ca_rtt_from_scoreboard(void **state)
{
	(void)state;
	struct th *h = th_new(no_tlp);
	int fd = ten_out_then_rto(h);        /* segment 1 resent by the RTO */
	assert_int_equal(min_rtt(h, fd), UINT32_MAX);
	th_advance(h, 1);
	peer_ack(h, 10001, 0);               /* covers the resend: no sample */
	assert_int_equal(min_rtt(h, fd), UINT32_MAX);
	write_segs(h, fd, 10 * SEG, 4);
	for (uint32_t k = 11; k <= 12; k++)  /* cwnd 2 after the RTO's slow start */
		expect_seg(h, k);
	th_advance(h, 7);
	peer_ack(h, 10001, 1, 11001u, 12001u); /* segment 12, sent 7 ms ago, SACKed */
	assert_int_equal(min_rtt(h, fd), 7000);
	th_advance(h, 2);
	peer_ack(h, 12001, 0);               /* segment 11 is 9 ms old: the minimum stays */
	assert_int_equal(min_rtt(h, fd), 7000);
	th_free(h);
}

/*
 * DupThresh follows the reordering seen (Linux tp->reordering, tcp_check_sack_reordering;
 * RFC 6675's IsLost with tcp_recovery = 0): segments 1 and 2 arrive after segment 6 was
 * SACKed, 6 segments out of order, so a hole now needs 6 SACKed segments above it, not 3.
 */
static void test_dupthresh_follows_reordering(void **state)
{
	(void)state;
	struct th *h = th_new(no_rack);
	int fd = ten_out(h);
	th_advance(h, 10);
	peer_ack(h, 1, 1, 5001u, 6001u);
	peer_ack(h, 2001, 1, 5001u, 6001u);  /* 1 and 2 were late: reordering 6 */
	assert_int_equal(info(h, fd).tcpi_reordering, 6);
	peer_ack(h, 2001, 1, 3001u, 6001u);  /* three above segment 3: not enough now */
	th_expect_none(h);
	peer_ack(h, 2001, 1, 3001u, 8001u);  /* five */
	th_expect_none(h);
	peer_ack(h, 2001, 1, 3001u, 9001u);  /* six: lost */
	expect_seg(h, 3);
	assert_int_equal(info(h, fd).tcpi_ca_state, 3);
	th_free(h);
}

/* Limited transmit (RFC 3042) with SACK: each SACKed segment leaves the pipe, so each of
 * the first duplicate ACKs lets one new segment out while RACK still waits. */
static void test_limited_transmit_with_sack(void **state)
{
	struct th *h = *state;
	int fd = rec_open(h, false);
	set_sndbuf(h, fd, 200000);
	write_segs(h, fd, 0, 12);
	for (uint32_t k = 1; k <= 10; k++)
		expect_seg(h, k);
	th_expect_none(h);
	th_advance(h, 10);
	peer_ack(h, 1, 1, 1001u, 2001u);
	expect_seg(h, 11);
	th_expect_none(h);
	peer_ack(h, 1, 1, 1001u, 3001u);
	expect_seg(h, 12);
	th_expect_none(h);
	assert_int_equal(info(h, fd).tcpi_ca_state, 1); /* Disorder: nothing lost yet */
}

/* The tail loss probe (RFC 8985 7.2, 7.3): with the last five segments unanswered, a probe
 * goes 2 * SRTT + 2 ms after the last ACK - the last segment again, as there is no new
 * data - and then the RTO runs. */
static void test_tlp_timing(void **state)
{
	struct th *h = *state;
	int fd = ten_out(h);
	th_advance(h, 10);
	peer_ack(h, 5001, 0);
	th_expect_none(h);
	th_advance(h, 21);
	th_expect_none(h);
	th_advance(h, 1);
	expect_seg(h, 10);
	assert_int_equal(ctr(h, "LossProbes"), 1);
	th_expect_none(h);
	/* No answer: the RTO (SRTT + 200 ms floor) resends the first unacknowledged one. */
	long waited = th_advance_until_seg(h, 1000);
	assert_true(waited >= 200 && waited <= 215);
	expect_seg(h, 6);
	assert_int_equal(ctr(h, "RtoExpired"), 1);
	assert_int_equal(info(h, fd).tcpi_ca_state, 4); /* TCP_CA_Loss */
}

/* RFC 8985 7.3: with unsent data the window allows, the probe is one new segment (sent
 * even though cwnd is full, and as the segment it is, without a burst's PSH). */
static void test_tlp_sends_new_data(void **state)
{
	struct th *h = *state;
	int fd = rec_open(h, false);
	set_sndbuf(h, fd, 200000);
	write_segs(h, fd, 0, 12);
	for (uint32_t k = 1; k <= 10; k++)
		expect_seg(h, k);
	th_expect_none(h);               /* cwnd (10) is full */
	th_advance(h, 21);
	th_expect_none(h);
	th_advance(h, 1);                /* PTO = 2 * SRTT (10 ms) + 2 ms */
	(void)th_expect(h, TCP_FLAG_ACK, h->iss + 1 + 10 * SEG, h->irs + 1, TH_ANY, TH_ANY_OPTS, SEG); /* no PSH */
	th_expect_none(h);
	assert_int_equal(ctr(h, "LossProbes"), 1);
	assert_int_equal(ctr(h, "RetransSegs"), 0);
}

/* The ssthresh of a SACK recovery is the congestion-control algorithm's (tcp_cc.c): with the
 * default CUBIC, 0.7 of the 10-segment window, where Reno (the other tests) halves it. */
static void test_recovery_ssthresh_from_cubic(void **state)
{
	struct th *h = *state;
	int fd = ten_out(h);
	th_advance(h, 10);
	peer_ack(h, 1, 1, 1001u, 4001u);
	expect_seg(h, 1);
	struct tcp_info ti = info(h, fd);
	assert_int_equal(ti.tcpi_ca_state, 3);
	assert_int_equal(ti.tcpi_snd_ssthresh, 7);
	peer_ack(h, 10001, 0);
	ti = info(h, fd);
	assert_int_equal(ti.tcpi_ca_state, 0);
	assert_int_equal(ti.tcpi_snd_cwnd, 7);
}

/*
 * PRR (RFC 6937) as Linux counts it, in packets: 10 segments out, RecoverFS 10, ssthresh 5.
 * While pipe is above ssthresh, sndcnt = ceil(delivered * 5 / 10) - sent; at and below it,
 * the slow start reduction bound lets pipe climb back to ssthresh.
 */
static void test_prr_sending_pattern(void **state)
{
	struct th *h = *state;
	int fd = rec_open(h, false);
	set_sndbuf(h, fd, 200000);
	write_segs(h, fd, 0, 20);
	for (uint32_t k = 1; k <= 10; k++)
		expect_seg(h, k);
	th_expect_none(h);
	th_advance(h, 10);
	peer_ack(h, 1, 1, 1001u, 4001u); /* delivered 3: ceil(1.5) = 2: the hole and one new */
	expect_seg(h, 1);
	expect_seg(h, 11);
	th_expect_none(h);
	peer_ack(h, 1, 1, 1001u, 5001u); /* delivered 4: ceil(2) - 2 = 0 */
	th_expect_none(h);
	peer_ack(h, 1, 1, 1001u, 6001u); /* delivered 5: ceil(2.5) - 2 = 1 */
	expect_seg(h, 12);
	th_expect_none(h);
	peer_ack(h, 1, 1, 1001u, 7001u); /* delivered 6: ceil(3) - 3 = 0 */
	th_expect_none(h);
	peer_ack(h, 1, 1, 1001u, 8001u); /* pipe 5 = ssthresh: the bound leaves no room */
	th_expect_none(h);
	peer_ack(h, 1, 1, 1001u, 9001u); /* pipe 4: one more */
	expect_seg(h, 13);
	th_expect_none(h);
	assert_int_equal(info(h, fd).tcpi_ca_state, 3);
	/* Everything up to the recovery point: cwnd = ssthresh (5), three in flight, so two
	 * new segments go. */
	peer_ack(h, 10001, 0);
	expect_seg(h, 14);
	expect_seg(h, 15);
	th_expect_none(h);
	struct tcp_info ti = info(h, fd);
	assert_int_equal(ti.tcpi_ca_state, 0);
	assert_int_equal(ti.tcpi_snd_cwnd, 5);
}

/* RFC 2883: duplicate data is reported in a D-SACK block, first, once; in order (below
 * RCV.NXT) and out of order (a segment the queue already holds, then the SACK of it). */
static void test_dsack_generation(void **state)
{
	struct th *h = *state;
	(void)rec_open(h, false);
	uint8_t buf[100];
	memset(buf, 'd', sizeof(buf));
	th_send(h, TCP_FLAG_ACK, h->irs + 1, h->iss + 1, 65535, NULL, buf, 100);
	th_expect(h, TCP_FLAG_ACK, h->iss + 1, h->irs + 101, TH_ANY, NULL, 0);
	th_send(h, TCP_FLAG_ACK, h->irs + 1, h->iss + 1, 65535, NULL, buf, 100);
	struct tcp_opts d;
	memset(&d, 0, sizeof(d));
	d.sack_count = 1;
	d.sack[0].start = h->irs + 1;
	d.sack[0].end = h->irs + 101;
	th_expect(h, TCP_FLAG_ACK, h->iss + 1, h->irs + 101, TH_ANY, &d, 0);
	/* Out of order, then the same again. */
	th_send(h, TCP_FLAG_ACK, h->irs + 201, h->iss + 1, 65535, NULL, buf, 100);
	d.sack[0].start = h->irs + 201;
	d.sack[0].end = h->irs + 301;
	th_expect(h, TCP_FLAG_ACK, h->iss + 1, h->irs + 101, TH_ANY, &d, 0);
	th_send(h, TCP_FLAG_ACK, h->irs + 201, h->iss + 1, 65535, NULL, buf, 100);
	d.sack_count = 2;
	d.sack[1] = d.sack[0];
	th_expect(h, TCP_FLAG_ACK, h->iss + 1, h->irs + 101, TH_ANY, &d, 0);
	/* The hole fills: one plain ACK, no D-SACK left over. */
	th_send(h, TCP_FLAG_ACK, h->irs + 101, h->iss + 1, 65535, NULL, buf, 100);
	th_expect(h, TCP_FLAG_ACK, h->iss + 1, h->irs + 301, TH_ANY, NULL, 0);
	assert_int_equal(ctr(h, "DsackSent"), 2);
	/* Two segments held out of order (401-500, 601-700), then 301-800 in order over both:
	 * the first held one was received twice and is D-SACKed (Linux tcp_ofo_queue); the
	 * second, which does not touch it, is not reported. */
	uint8_t big[500];
	memset(big, 'd', sizeof(big));
	th_send(h, TCP_FLAG_ACK, h->irs + 401, h->iss + 1, 65535, NULL, buf, 100);
	th_drain(h);
	th_send(h, TCP_FLAG_ACK, h->irs + 601, h->iss + 1, 65535, NULL, buf, 100);
	th_drain(h);
	th_send(h, TCP_FLAG_ACK, h->irs + 301, h->iss + 1, 65535, NULL, big, 500);
	d.sack_count = 1;
	d.sack[0].start = h->irs + 401;
	d.sack[0].end = h->irs + 501;
	th_expect(h, TCP_FLAG_ACK, h->iss + 1, h->irs + 801, TH_ANY, &d, 0);
	assert_int_equal(ctr(h, "DsackSent"), 3);
}

/* Refused data that we do not hold is never reported in a D-SACK: a segment beyond the
 * window and one failing PAWS (RFC 7323 5.3) get a plain ACK (Linux tcp_send_dupack only
 * D-SACKs bytes below RCV.NXT). A D-SACK of them would tell the sender we have them. */
static void test_no_dsack_for_refused_new_data(void **state)
{
	struct th *h = *state;
	(void)rec_open(h, true);
	uint8_t buf[100];
	memset(buf, 'n', sizeof(buf));
	struct tcp_opts o, exp;
	memset(&o, 0, sizeof(o));
	o.has_ts = true;
	o.ts_val = 50;                    /* older than TS.Recent (110): PAWS refuses it */
	memset(&exp, 0, sizeof(exp));
	exp.has_ts = true;
	exp.ts_ecr = 110;
	th_send(h, TCP_FLAG_ACK, h->irs + 1, h->iss + 1, 65535, &o, buf, 100);
	th_expect(h, TCP_FLAG_ACK, h->iss + 1, h->irs + 1, TH_ANY, &exp, 0);
	o.ts_val = 120;                   /* far beyond the window */
	th_advance(h, 600);               /* past the rate limit of ACKs to refused segments */
	th_send(h, TCP_FLAG_ACK, h->irs + 1 + 4000000, h->iss + 1, 65535, &o, buf, 100);
	th_expect(h, TCP_FLAG_ACK, h->iss + 1, h->irs + 1, TH_ANY, &exp, 0);
	assert_int_equal(ctr(h, "DsackSent"), 0);
}

/* Without D-SACK (tcp_dsack = 0) a duplicate is ACKed plainly. */
static void no_dsack(struct stack_config *cfg)
{
	use_reno(cfg);
	cfg->tcp.dsack = false;
}

static void test_dsack_off(void **state)
{
	(void)state;
	struct th *h = th_new(no_dsack);
	(void)rec_open(h, false);
	uint8_t buf[100];
	memset(buf, 'd', sizeof(buf));
	th_send(h, TCP_FLAG_ACK, h->irs + 1, h->iss + 1, 65535, NULL, buf, 100);
	th_expect(h, TCP_FLAG_ACK, h->iss + 1, h->irs + 101, TH_ANY, NULL, 0);
	th_send(h, TCP_FLAG_ACK, h->irs + 1, h->iss + 1, 65535, NULL, buf, 100);
	th_expect(h, TCP_FLAG_ACK, h->iss + 1, h->irs + 101, TH_ANY, NULL, 0);
	assert_int_equal(ctr(h, "DsackSent"), 0);
	th_free(h);
}

/* Eifel (RFC 3522 / Linux tcp_packet_delayed): after an RTO, an ACK that echoes the
 * original's timestamp shows the original arrived; the reduction is undone. */
static void test_eifel_undo_after_rto(void **state)
{
	(void)state;
	struct th *h = th_new(no_tlp);
	int fd = rec_open(h, true);
	write_segs(h, fd, 0, 1);
	struct th_seg orig = expect_seg(h, 1);
	long waited = th_advance_until_seg(h, 1000);
	assert_true(waited >= 200);
	struct th_seg again = expect_seg(h, 1);
	assert_true(again.hdr.opts.ts_val > orig.hdr.opts.ts_val);
	assert_int_equal(info(h, fd).tcpi_ca_state, 4);
	struct tcp_opts a;
	memset(&a, 0, sizeof(a));
	a.has_ts = true;
	a.ts_val = 500;
	a.ts_ecr = orig.hdr.opts.ts_val;
	th_send(h, TCP_FLAG_ACK, h->irs + 1, h->iss + 1 + SEG, 65535, &a, NULL, 0);
	assert_int_equal(ctr(h, "LossUndo"), 1);
	assert_undone(h, fd);
	assert_int_equal(info(h, fd).tcpi_snd_cwnd, 10);
	th_free(h);
}

/* Eifel in fast recovery (Linux tcp_try_undo_partial): a partial ACK that echoes the
 * timestamp of the original, sent before our resend, shows the hole was only late. */
static void test_eifel_partial_undo(void **state)
{
	struct th *h = *state;
	uint32_t orig;
	int fd = ten_out_ts(h, &orig);
	th_advance(h, 10);
	struct tcp_opts a;
	memset(&a, 0, sizeof(a));
	a.has_ts = true;
	a.ts_val = 200;
	a.ts_ecr = orig;
	a.sack_count = 1;
	a.sack[0].start = h->iss + 2001;
	a.sack[0].end = h->iss + 5001;
	th_send(h, TCP_FLAG_ACK, h->irs + 1, h->iss + 1001, 65535, &a, NULL, 0);
	expect_seg(h, 2);                 /* 1001:2001 is the hole RACK found */
	assert_int_equal(info(h, fd).tcpi_ca_state, 3);
	th_advance(h, 5);
	a.ts_val = 205;                   /* echoes the original, not the resend 10 ms later */
	a.sack_count = 0;
	th_send(h, TCP_FLAG_ACK, h->irs + 1, h->iss + 5001, 65535, &a, NULL, 0);
	assert_int_equal(ctr(h, "PartialUndo"), 1);
	assert_undone(h, fd);
}

/*
 * Linux tcp_try_undo_partial: a partial ACK whose timestamp shows the original was only late
 * does not undo while a resend of the episode is still in flight; it marks nothing more and
 * resends nothing more on that ACK (the segments after the late one are most likely late
 * too). Segments 1-3 are lost by RACK (4-6 SACKed); PRR resends 1, then 2 on the next SACK.
 * The original of 1 arrives: 3 is not resent, the reduction stays. The original of 2 arrives
 * 1 ms later: no resend is out any more, so the reduction is undone (and, out of recovery,
 * that ACK grows cwnd), nothing is lost, and 3 waits for RACK's window (reordering has now
 * been seen) instead of going again.
 */
static void test_eifel_partial_undo_waits_for_resends(void **state)
{
	struct th *h = *state;
	uint32_t orig;
	int fd = ten_out_ts(h, &orig);
	th_advance(h, 10);
	peer_ack_ts(h, 1, 200, orig, 1, 3001u, 6001u);
	expect_seg(h, 1);                 /* PRR: one segment on the first ACK */
	th_expect_none(h);
	assert_int_equal(ctr(h, "RackLost"), 3);
	th_advance(h, 1);
	peer_ack_ts(h, 1, 201, orig, 1, 3001u, 7001u);
	expect_seg(h, 2);
	th_expect_none(h);
	struct tcp_info ti = info(h, fd);
	assert_int_equal(ti.tcpi_retrans, 2);
	assert_int_equal(ti.tcpi_lost, 3);
	th_advance(h, 1);
	peer_ack_ts(h, 1001, 202, orig, 1, 3001u, 7001u); /* the original of 1, late */
	th_expect_none(h);                /* 3 is lost, but not resent on this ACK */
	ti = info(h, fd);
	assert_int_equal(ti.tcpi_ca_state, 3);
	assert_int_equal(ti.tcpi_snd_ssthresh, 5);
	assert_int_equal(ti.tcpi_retrans, 1);
	assert_int_equal(ctr(h, "PartialUndo"), 0);
	assert_int_equal(ti.tcpi_reordering, 7); /* 1 was delivered 7000 bytes below 7001 */
	th_advance(h, 1);
	peer_ack_ts(h, 2001, 203, orig, 1, 3001u, 7001u); /* the original of 2: no resend out */
	th_expect_none(h);
	ti = info(h, fd);
	assert_int_equal(ctr(h, "PartialUndo"), 1);
	assert_int_equal(ti.tcpi_ca_state, 1);  /* Disorder: 4-7 are still SACKed */
	assert_int_equal(ti.tcpi_snd_ssthresh, 0x7fffffff);
	assert_int_equal(ti.tcpi_snd_cwnd, 11); /* 10 back, + 1 for 2 delivered (slow start) */
	assert_int_equal(ti.tcpi_lost, 0);
	assert_int_equal(ctr(h, "RetransSegs"), 2);
	/* RACK judges a transmission once (Linux takes a segment it marked lost off its
	 * time-sorted list): 3, shown late by the undo, is not found lost again when everything
	 * above it, and a segment sent 11 ms after it, are SACKed; the RTO is what would still
	 * resend it. */
	th_advance(h, 1);
	write_segs(h, fd, 10 * SEG, 1);
	expect_seg(h, 11);
	th_advance(h, 10);
	peer_ack_ts(h, 2001, 214, orig + 14, 1, 3001u, 11001u);
	th_expect_none(h);
	assert_int_equal(ctr(h, "RackLost"), 3);
	assert_int_equal(ctr(h, "RetransSegs"), 2);
	assert_int_equal(info(h, fd).tcpi_ca_state, 1);
}

/*
 * Linux tcp_may_raise_cwnd: on a path that reorders more than DupThresh, cwnd grows on
 * every ACK that delivers data, by what it newly ACKed or SACKed (acked_sacked), not only
 * when SND.UNA moves. Segment 6 is SACKed first; the ACK of 1-5 shows reordering 6. From then
 * on an ACK that only SACKs segment 8 grows cwnd by one in slow start, and the cumulative ACK
 * of what was SACKed before grows it only by what it newly delivers.
 */
static void test_cwnd_grows_on_sacks_when_reordering(void **state)
{
	struct th *h = *state;
	int fd = rec_open(h, false);
	write_segs(h, fd, 0, 10);
	for (uint32_t k = 1; k <= 10; k++)
		expect_seg(h, k);
	th_advance(h, 10);
	peer_ack(h, 1, 1, 5001u, 6001u);  /* no reordering seen yet: no growth */
	assert_int_equal(info(h, fd).tcpi_snd_cwnd, 10);
	peer_ack(h, 5001, 1, 5001u, 6001u); /* 1-5 were late: reordering 6, cwnd 10 + 5 */
	struct tcp_info ti = info(h, fd);
	assert_int_equal(ti.tcpi_reordering, 6);
	assert_int_equal(ti.tcpi_snd_cwnd, 15);
	assert_int_equal(ti.tcpi_ca_state, 1);
	peer_ack(h, 5001, 1, 7001u, 8001u); /* SACK only: + 1 */
	assert_int_equal(info(h, fd).tcpi_snd_cwnd, 16);
	peer_ack(h, 8001, 0);               /* newly delivers 7 only (6 and 8 were SACKed) */
	assert_int_equal(info(h, fd).tcpi_snd_cwnd, 17);
	assert_int_equal(ctr(h, "RetransSegs"), 0);
}

/* F-RTO (RFC 5682 3.1, SACK-enhanced, Linux tcp_frto = 2): after an RTO, an ACK that
 * covers a segment sent only once shows not all was lost: spurious, undone. */
static void test_frto_spurious_rto(void **state)
{
	(void)state;
	struct th *h = th_new(no_tlp);
	int fd = ten_out_then_rto(h);
	th_expect_none(h);
	peer_ack(h, 2001, 0);
	th_expect_none(h);
	assert_int_equal(ctr(h, "SpuriousRtos"), 1);
	assert_undone(h, fd);
	th_free(h);
}

/* The other F-RTO outcome: the ACK covers only the resent segment and there is no new
 * data to test with, so the loss is taken as real: go-back-N in slow start. */
static void test_frto_real_loss_goes_back_n(void **state)
{
	(void)state;
	struct th *h = th_new(no_tlp);
	int fd = ten_out_then_rto(h);
	peer_ack(h, 1001, 0);
	expect_seg(h, 2);
	expect_seg(h, 3);
	th_expect_none(h);
	assert_int_equal(ctr(h, "SpuriousRtos"), 0);
	assert_int_equal(info(h, fd).tcpi_ca_state, 4);
	th_free(h);
}

/* An RTO in recovery: go-back-N over the records not SACKed (RFC 6675 5.1, Linux
 * tcp_enter_loss keeps SACK marks): segments 6-10, SACKed, are never resent. */
static void test_rto_keeps_sack_marks(void **state)
{
	struct th *h = *state;
	int fd = ten_out(h);
	th_advance(h, 10);
	peer_ack(h, 1, 1, 5001u, 10001u);
	for (uint32_t k = 1; k <= 5; k++)
		expect_seg(h, k); /* PRR's slow start reduction bound: pipe 0, ssthresh 5 */
	th_expect_none(h);
	/* Those retransmissions are lost too: the RTO. */
	assert_true(th_advance_until_seg(h, 2000) >= 200);
	expect_seg(h, 1);
	th_expect_none(h);
	assert_int_equal(info(h, fd).tcpi_ca_state, 4);
	assert_int_equal(info(h, fd).tcpi_sacked, 5);
	peer_ack(h, 1001, 1, 5001u, 10001u);
	expect_seg(h, 2);
	expect_seg(h, 3);
	th_expect_none(h);
	peer_ack(h, 3001, 1, 5001u, 10001u);
	expect_seg(h, 4);
	expect_seg(h, 5);
	th_expect_none(h);
	peer_ack(h, 10001, 0);
	th_expect_none(h);
	assert_int_equal(info(h, fd).tcpi_ca_state, 0);
	assert_int_equal(info(h, fd).tcpi_total_retrans, 10); /* 5 in recovery, 5 after the RTO */
}

/* Bad SACK blocks are refused and counted (Linux tcp_is_sackblock_valid); none makes the
 * stack resend or lose track of anything. */
static void test_sack_bad_blocks(void **state)
{
	struct th *h = *state;
	int fd = ten_out(h);
	th_advance(h, 10);
	peer_ack(h, 1001, 1, 3001u, 2001u);       /* inverted */
	assert_int_equal(ctr(h, "SackDiscardMalformed"), 1);
	peer_ack(h, 1001, 1, 9001u, 12001u);      /* beyond SND.MAX */
	assert_int_equal(ctr(h, "SackDiscardUnsent"), 1);
	peer_ack(h, 1001, 2, 5001u, 6001u, 1u, 1001u); /* second block below SND.UNA */
	assert_int_equal(ctr(h, "SackDiscardOld"), 1);
	th_expect_none(h);
	assert_int_equal(info(h, fd).tcpi_sacked, 1); /* only 5001-6001 was good */
	peer_ack(h, 1001, 2, 6001u, 8001u, 7001u, 9001u); /* overlapping */
	assert_int_equal(ctr(h, "SackOverlap"), 1);
	assert_int_equal(info(h, fd).tcpi_sacked, 4);
	assert_int_equal(ctr(h, "DsackRecv"), 0);
}

/* A SACK option whose length is not 2 + 8n is ignored and counted, as Linux does; the
 * segment itself (here: a cumulative ACK) is still taken. */
static void test_sack_option_bad_length(void **state)
{
	struct th *h = *state;
	int fd = ten_out(h);
	struct tcp_opts o;
	memset(&o, 0, sizeof(o));
	o.sack_count = 2;
	o.sack[0].start = h->iss + 3001;
	o.sack[0].end = h->iss + 4001;
	o.sack[1].start = 0x01010101u;   /* its last 4 bytes become NOPs below */
	o.sack[1].end = 0x01010101u;
	uint8_t frame[TH_FRAME_MAX];
	uint32_t n = th_build(h, frame, TCP_FLAG_ACK, h->irs + 1, h->iss + 1001, 65535, &o, NULL, 0);
	/* Options: NOP NOP SACK(18) ...: the length becomes 14, a multiple of nothing. */
	uint8_t *opt = frame + 14 + 20 + 20 + 2;
	assert_int_equal(opt[0], 5);
	assert_int_equal(opt[1], 18);
	uint16_t old_word = (uint16_t)(opt[0] << 8 | opt[1]);
	opt[1] = 14;
	uint8_t *csum = frame + 14 + 20 + 16;
	uint16_t sum = csum_replace16((uint16_t)(csum[0] << 8 | csum[1]), old_word, (uint16_t)(opt[0] << 8 | opt[1]));
	csum[0] = (uint8_t)(sum >> 8);
	csum[1] = (uint8_t)sum;
	th_inject(h, frame, n);
	assert_int_equal(ctr(h, "SackDiscardMalformed"), 1);
	assert_int_equal(ctr(h, "drop_bad_option"), 0);
	struct tcp_info ti = info(h, fd);
	assert_int_equal(ti.tcpi_unacked, 9);  /* the ACK of segment 1 was taken */
	assert_int_equal(ti.tcpi_sacked, 0);
	assert_int_equal(ctr(h, "InCsumErrors"), 0);
}

/* A forged SACK of everything (SND.UNA's segment included) resends nothing; at the RTO the
 * peer has reneged (RFC 2018 8): the marks go and the data, still held, is resent intact. */
static void test_forged_sack_forgets_nothing(void **state)
{
	struct th *h = *state;
	int fd = ten_out(h);
	th_advance(h, 10);
	peer_ack(h, 1, 1, 1u, 10001u);
	th_expect_none(h);
	assert_int_equal(info(h, fd).tcpi_sacked, 10);
	assert_true(th_advance_until_seg(h, 1000) >= 200);
	expect_seg(h, 1);
	assert_int_equal(ctr(h, "SackReneging"), 1);
	assert_int_equal(info(h, fd).tcpi_sacked, 0);
	peer_ack(h, 1001, 0);
	expect_seg(h, 2);
	expect_seg(h, 3);
	peer_ack(h, 10001, 0);
	assert_int_equal(info(h, fd).tcpi_unacked, 0);
}

/* Linux tcp_check_sack_reneging: the cumulative ACK stops at a segment the peer SACKed
 * before, so the peer dropped it; the RTO comes after max(SRTT / 16, 10 ms), not 200 ms,
 * and resends it with the SACK marks cleared. */
static void test_reneging_rto_comes_soon(void **state)
{
	struct th *h = *state;
	int fd = ten_out(h);
	th_advance(h, 10);
	peer_ack(h, 1, 1, 1001u, 3001u);
	peer_ack(h, 1001, 0);             /* segment 2 was SACKed, yet the ACK stops before it */
	th_advance(h, 9);
	th_expect_none(h);
	th_advance(h, 1);
	expect_seg(h, 2);
	assert_int_equal(ctr(h, "SackReneging"), 1);
	assert_int_equal(ctr(h, "RtoExpired"), 1);
	assert_int_equal(info(h, fd).tcpi_sacked, 0);
}

/*
 * A hostile peer: thousands of ACKs with random SACK blocks (inverted, old, beyond what was
 * sent, overlapping, valid) and random cumulative ACKs, on the fake clock with timers
 * firing. Every data segment the stack sends carries the right bytes for its sequence
 * number, the scoreboard's totals stay within the flight, and an honest ACK of everything
 * at the end leaves nothing outstanding.
 */
static void test_random_sack_blocks(void **state)
{
	struct th *h = *state;
	int fd = rec_open(h, false);
	set_sndbuf(h, fd, 200000);
	write_segs(h, fd, 0, 40);
	uint32_t una = 1, x = 12345;
	for (int round = 0; round < 3000; round++) {
		x = x * 1103515245u + 12345u;
		struct tcp_opts o;
		memset(&o, 0, sizeof(o));
		o.sack_count = (uint8_t)(x >> 8 & 3u) + 1;
		for (uint32_t b = 0; b < o.sack_count; b++) {
			x = x * 1103515245u + 12345u;
			uint32_t s0 = (x >> 4) % 46000u;
			x = x * 1103515245u + 12345u;
			uint32_t len = (x >> 4) % 6000u;
			o.sack[b].start = h->iss + s0;
			o.sack[b].end = h->iss + ((x & 16u) ? s0 + len : s0 - len);
		}
		if ((x >> 20) % 8u == 0 && una < 40001) {
			una += 1000;                  /* sometimes the cumulative ACK moves */
			if (una > 40001)
				una = 40001;
		}
		th_send(h, TCP_FLAG_ACK, h->irs + 1, h->iss + una, 65535, &o, NULL, 0);
		th_advance(h, (x >> 12) % 7u);
		struct th_seg sg;
		while (th_pop_seg(h, &sg)) {
			uint32_t off = sg.hdr.seq - (h->iss + 1);
			for (uint32_t i = 0; i < sg.len; i++)
				if (sg.payload[i] != pattern(off + i))
					fail_msg("round %d: byte %u of the stream is wrong", round, off + i);
		}
		struct tcp_info ti = info(h, fd);
		assert_true(ti.tcpi_sacked + ti.tcpi_lost <= ti.tcpi_unacked + 1);
	}
	th_send(h, TCP_FLAG_ACK, h->irs + 1, h->iss + 40001, 65535, NULL, NULL, 0);
	th_drain(h);
	struct tcp_info ti = info(h, fd);
	assert_int_equal(ti.tcpi_unacked, 0);
	assert_int_equal(ti.tcpi_sacked, 0);
	assert_int_equal(ti.tcpi_lost, 0);
	assert_true(ctr(h, "SackDiscardMalformed") > 0);
	assert_true(ctr(h, "SackDiscardUnsent") > 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_scoreboard_marks_and_fast_retransmit, reno_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_resend_whole_units, reno_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_tcp_info_tallies, reno_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_rack_reorder_window, reno_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_rack_waits_for_its_timer, reno_setup, th_teardown),
		cmocka_unit_test(test_rfc6675_dupthresh_without_rack),
		cmocka_unit_test_setup_teardown(test_same_tick_sack_is_no_rtt_sample, reno_setup, th_teardown),
		cmocka_unit_test(test_ca_rtt_from_scoreboard),
		cmocka_unit_test(test_dupthresh_follows_reordering),
		cmocka_unit_test_setup_teardown(test_rack_same_tick_order, reno_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_rack_reo_wnd_grows_on_dsack, reno_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_rack_reo_wnd_persists_16_recoveries, reno_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_undo_restores_three_quarters_ssthresh, reno_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_rack_reo_wnd_round_by_delivery, reno_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_dsack_dubious_ignored, reno_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_sacked_resend_advances_rack, reno_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_reo_timer_in_recovery_no_prr_credit, reno_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_reo_wnd_round_survives_empty_board, reno_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_paws_passes_reordered_dup_ack, reno_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_limited_transmit_with_sack, reno_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_tlp_timing, reno_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_tlp_sends_new_data, reno_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_prr_sending_pattern, reno_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_dsack_generation, reno_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_no_dsack_for_refused_new_data, reno_setup, th_teardown),
		cmocka_unit_test(test_dsack_off),
		cmocka_unit_test(test_eifel_undo_after_rto),
		cmocka_unit_test_setup_teardown(test_eifel_partial_undo, reno_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_eifel_partial_undo_waits_for_resends, reno_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_cwnd_grows_on_sacks_when_reordering, reno_setup, th_teardown),
		cmocka_unit_test(test_frto_spurious_rto),
		cmocka_unit_test(test_frto_real_loss_goes_back_n),
		cmocka_unit_test_setup_teardown(test_rto_keeps_sack_marks, reno_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_sack_bad_blocks, reno_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_sack_option_bad_length, reno_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_forged_sack_forgets_nothing, reno_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_reneging_rto_comes_soon, reno_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_random_sack_blocks, reno_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_recovery_ssthresh_from_cubic, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_hystart_train_counts_sack_acks, th_setup, th_teardown),
		cmocka_unit_test_setup_teardown(test_una_advance_replaces_reo_timer, reno_setup, th_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
