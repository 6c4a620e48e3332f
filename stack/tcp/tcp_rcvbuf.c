/*
 * tcp_rcvbuf.c - receive buffer auto-tuning: how big SO_RCVBUF grows when the application has
 * not fixed it, as Linux's dynamic right-sizing does it (net/ipv4/tcp_input.c
 * tcp_rcv_rtt_measure, tcp_rcv_rtt_measure_ts, tcp_rcv_space_adjust, tcp_rcvbuf_grow;
 * docs/tcp.md "The receive buffer grows").
 *
 * The window we offer is a share of the buffer (tcp_rwnd.c), so on a long path a sender can
 * go no faster than buffer / RTT. The receiver therefore measures two things: its own idea
 * of the round trip (the receiver's RTT: how long the sender takes to fill a window we
 * opened, or the age of our timestamp it echoes on a full segment), and how many bytes the
 * application read in the last such round trip. Once per round trip, on a read, a reader
 * that took more than in the round trip before gets a buffer for twice that, plus room for
 * the sender to double again (slow start), up to tcp_rmem[2] (rmem_max). So the window
 * follows what the reader really consumes, one round trip behind, and a slow reader never
 * inflates its buffer.
 *
 * tapstack keeps one rule of its own beside Linux's (tcp_rcvbuf_filled): a sender that fills
 * the whole window we offered while the queue is at most half full doubles the buffer at
 * once. It came first (on a TAP, with round trips of tens of microseconds, the reader drains
 * a batch of segments at a time, and a 64 KiB GRO segment fills half the default buffer) and
 * stays until a quiet `make bench` shows DRS alone keeps the upload rows; unlike Linux's, it
 * can grow the buffer of an application that is not reading at that moment, at most until
 * the queue holds half of it.
 *
 * Called by tcp_input.c (each in-order data segment), tcp_ooo.c (out-of-order data),
 * tcp_conn.c (each read) and tcp.c (entering ESTABLISHED). Owns no memory: the buffer is a number (opts.rcvbuf); the ring and
 * queues grow as data needs them (tcp_buf.c).
 */
#include "tcp/tcp_int.h"

/* Linux TCP_INIT_CWND: the first measure of what a reader takes per round trip. */
#define TCP_RCVQ_SPACE_INIT_SEGS 10u

/* May the buffer grow? Not when SO_RCVBUF fixed it, not before accept() (Linux grows only a
 * socket the application holds), not at rmem_max, not under memory pressure. */
static bool tcp_rcvbuf_may_grow(const struct tcp_conn *c)
{
	const struct tcp_layer *tl = c->tl;
	return !c->opts.rcvbuf_locked && !c->lis && c->opts.rcvbuf < tl->cfg.rmem_max &&
	       !tcp_mem_under_pressure(tl);
}

static void tcp_rcvbuf_set(struct tcp_conn *c, uint64_t bytes)
{
	uint32_t max = c->tl->cfg.rmem_max;
	uint32_t nb = bytes > max ? max : (uint32_t)bytes;
	if (nb <= c->opts.rcvbuf)
		return;
	c->opts.rcvbuf = nb;
	tcp_rwnd_buffer_grown(c);
}

void tcp_rcvbuf_established(struct tcp_conn *c)
{
	uint32_t space = TCP_RCVQ_SPACE_INIT_SEGS * c->adv_mss;
	if (c->rcv_ssthresh < space)
		space = c->rcv_ssthresh;
	c->rcvq_space.space = space ? space : 1u;
	c->rcvq_space.seq = tcp_copied_seq(c);
	c->rcvq_space.time = c->tl->core->now;
}

/*
 * A receiver's RTT sample (Linux tcp_rcv_rtt_update), kept in 1/8 us as Linux keeps it. A
 * window-based sample (win_dep) only ever lowers the estimate: it measures how long the
 * sender took to fill a window, which a sender with less to send stretches. A timestamp
 * sample is smoothed in (7/8 of the old and the new one), but only while nothing waits to be
 * read, so a slow reader's queue does not pass for path delay.
 */
static void tcp_rcv_rtt_update(struct tcp_conn *c, uint32_t sample_us, bool win_dep)
{
	uint32_t old = c->rcv_rtt.rtt_us8;
	uint64_t m = (uint64_t)sample_us << 3;
	if (old == 0 || m < old) {
		c->rcv_rtt.rtt_us8 = m > UINT32_MAX ? UINT32_MAX : (uint32_t)m;
		return;
	}
	if (win_dep || c->rcvq.bytes)
		return;
	uint64_t n = (uint64_t)old - (old >> 3) + sample_us;
	c->rcv_rtt.rtt_us8 = n > UINT32_MAX ? UINT32_MAX : (uint32_t)n;
}

/* tapstack's own rule (the file's comment): the peer filled the whole window we offered
 * while the reader kept the queue at most half full: the buffer doubles at once. */
static void tcp_rcvbuf_filled(struct tcp_conn *c, uint32_t dlen)
{
	if (!tcp_rcvbuf_may_grow(c))
		return;
	if (seq_lt(c->rcv.nxt + c->rcv_mss, c->rcv.adv_edge))
		return;
	if (c->rcvq.bytes - dlen > c->opts.rcvbuf / 2)
		return;
	tcp_rcvbuf_set(c, 2ull * c->opts.rcvbuf);
}

void tcp_rcvbuf_data(struct tcp_conn *c, const struct tcp_seg *seg, uint32_t dlen)
{
	usec_t now = c->tl->core->now;
	/* Without timestamps (Linux tcp_rcv_rtt_measure): the time from opening a window to
	 * receiving its last byte. */
	if (c->rcv_rtt.time == 0 || !seq_lt(c->rcv.nxt, c->rcv_rtt.seq)) {
		if (c->rcv_rtt.time) {
			usec_t d = now - c->rcv_rtt.time;
			tcp_rcv_rtt_update(c, d ? (d > UINT32_MAX ? UINT32_MAX : (uint32_t)d) : 1u, true);
		}
		c->rcv_rtt.seq = c->rcv.nxt + c->rcv.wnd;
		c->rcv_rtt.time = now;
	}
	/* With them (Linux tcp_rcv_rtt_measure_ts): a full segment echoing a TSval not seen
	 * before; our TS clock ticks in ms, so an echo of this very ms says nothing. */
	if (c->ts_ok && seg->h.opts.has_ts && seg->h.opts.ts_ecr != c->rcv_rtt.last_tsecr) {
		c->rcv_rtt.last_tsecr = seg->h.opts.ts_ecr;
		uint32_t ms = tcp_now_ts(c->tl, c->ts_offset) - seg->h.opts.ts_ecr;
		if (dlen >= c->rcv_mss && ms > 0 && ms < 600000u)
			tcp_rcv_rtt_update(c, ms * 1000u, false);
	}
	tcp_rcvbuf_filled(c, dlen);
}

/*
 * Linux tcp_rcvbuf_grow: the reader took `copied` bytes in the last round trip, `old` in the
 * one before. The window must hold two round trips' worth (DRS measures one round trip
 * late), plus twice the growth (a sender in slow start doubles), plus whatever already
 * waits out of order; the buffer is the memory that window needs at the measured
 * payload/truesize ratio.
 */
static void tcp_rcvbuf_grow(struct tcp_conn *c, uint32_t copied, uint32_t old)
{
	if (!tcp_rcvbuf_may_grow(c))
		return;
	uint64_t rcvwin = (uint64_t)copied << 1;
	if (old && copied > old)
		rcvwin += ((rcvwin * (copied - old)) / old) << 1;
	const struct pbuf *last = c->ofo ? c->ofo->q.tail : NULL;
	if (last)
		rcvwin += (uint32_t)(last->user + last->len - c->rcv.nxt);
	uint8_t ratio = c->scaling_ratio ? c->scaling_ratio : 1u;
	tcp_rcvbuf_set(c, (rcvwin << TCP_RMEM_TO_WIN_SCALE) / ratio);
}

/* Out-of-order data fills more than half the buffer (Linux tcp_data_queue_ofo calls
 * tcp_rcvbuf_grow): the buffer doubles, so a loss behind a large window does not make the
 * receiver drop what arrives after the hole. */
void tcp_rcvbuf_ooo(struct tcp_conn *c, uint32_t len)
{
	if (tcp_rcvbuf_may_grow(c) && tcp_ooo_bytes(c) + c->rcvq.bytes + len > c->opts.rcvbuf / 2)
		tcp_rcvbuf_set(c, 2ull * c->opts.rcvbuf);
}

void tcp_rcvbuf_read(struct tcp_conn *c)
{
	usec_t now = c->tl->core->now;
	uint32_t rtt = c->rcv_rtt.rtt_us8 >> 3;
	if (!rtt || now - c->rcvq_space.time < rtt)
		return;
	uint32_t copied_seq = tcp_copied_seq(c);
	/* Bytes read in the round trip, less what still waits (Linux: a reader that falls
	 * behind does not ask for more buffer). */
	int64_t copied = (int64_t)(uint32_t)(copied_seq - c->rcvq_space.seq) - (int64_t)c->rcvq.bytes;
	if (copied > (int64_t)c->rcvq_space.space) {
		uint32_t old = c->rcvq_space.space;
		c->rcvq_space.space = (uint32_t)copied;
		tcp_rcvbuf_grow(c, (uint32_t)copied, old);
	}
	c->rcvq_space.seq = copied_seq;
	c->rcvq_space.time = now;
}
