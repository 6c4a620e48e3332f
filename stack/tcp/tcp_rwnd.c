/*
 * tcp_rwnd.c - the receive window we offer, derived from the receive buffer (SO_RCVBUF) as
 * Linux derives it (net/ipv4/tcp_output.c tcp_select_window, __tcp_select_window,
 * tcp_select_initial_window; net/ipv4/tcp_input.c tcp_init_buffer_space, tcp_grow_window,
 * tcp_measure_rcv_mss). RFC 9293 3.8.6.2.2 (receiver SWS avoidance) and RFC 7323 2.3 (the
 * scaled window) are the law it keeps; docs/tcp.md "The receive window" explains it.
 *
 * The buffer is memory, the window is payload. Every segment held for the application (in
 * order or not) is charged its truesize: the memory Linux's receive path would spend on it
 * (tcp_truesize; rwnd_rcvq and rwnd_ooo, tcp_rwnd_held). That is Linux's charge, not what
 * tapstack's own pbufs pin (tcp_rmem_alloc, which bounds the memory: tcp_buf.c), so the
 * windows offered are Linux's whatever the driver's buffers look like. The window offered is a share of the free memory: free payload =
 * (rcvbuf - charged) * scaling_ratio / 256, where scaling_ratio is payload/truesize as last
 * measured (50 % until the first full segment). Three numbers bound it:
 *
 *   window_clamp  the largest window ever offered: the share of the whole buffer, less one
 *                 MSS kept back (tcp_app_win);
 *   rcv_ssthresh  a window that grows with the data the peer really sends (by twice each
 *                 segment's length), so a sender starts with a modest window and a buffer
 *                 filled with tiny segments cannot have been promised to it;
 *   the edge      what was offered is never taken back (RFC 9293 3.8.6.2.2), unless the
 *                 stack allows shrinking (tcp_shrink_window) and the window is scaled.
 *
 * Called by tcp_output.c (every segment's window), tcp_input.c (each data segment, reads),
 * tcp_listen.c and tcp_conn.c (the SYN's and SYN-ACK's window). Owns no memory.
 */
#include "tcp/tcp_int.h"

#include <errno.h>

/* The parts of Linux's skb memory the truesize model counts (x86-64, 4 KiB pages; the skb
 * sizes shared with the send side are in tcp_int.h). */
#define SKB_PAGE 4096u
#define SKB_PAD 64u           /* NET_SKB_PAD: headroom the driver reserves */
#define SKB_MAX_LINEAR (SKB_PAGE - SKB_PAD - SKB_SHINFO)
#define SKB_FRAG_MAX (SKB_PAGE << 3) /* PAGE_ALLOC_COSTLY_ORDER */

/*
 * What a received datagram of `len` bytes (IP header included) costs Linux: a frame that fits
 * in a page with its headroom lives in one kmalloc'd head (a power-of-two size class);
 * a larger one (a GRO super-segment, a jumbo frame) fills a page-sized head and puts the
 * rest in page chunks of up to 32 KiB, each the largest power of two that the rest needs
 * (tun_alloc_skb, alloc_skb_with_frags). Plus the sk_buff itself. 1500 bytes cost 2304;
 * 4040 bytes 8448; 10040 bytes 12544.
 */
uint32_t tcp_truesize(uint32_t len)
{
	if (SKB_PAD + len < SKB_PAGE) {
		uint32_t head = ((SKB_PAD + len + 63u) & ~63u) + SKB_SHINFO;
		return (head <= SKB_SMALL_HEAD ? SKB_SMALL_HEAD : tcp_pow2_at_least(head)) + SKB_STRUCT;
	}
	uint32_t t = SKB_PAGE + SKB_STRUCT, rest = len - SKB_MAX_LINEAR;
	while (rest) {
		uint32_t need = (rest + SKB_PAGE - 1) & ~(SKB_PAGE - 1);
		uint32_t chunk = SKB_FRAG_MAX;
		while (chunk > need)
			chunk >>= 1;
		t += chunk;
		rest -= rest < chunk ? rest : chunk;
	}
	return t;
}

uint32_t tcp_win_from_space(uint8_t ratio, uint32_t space)
{
	return (uint32_t)(((uint64_t)space * ratio) >> TCP_RMEM_TO_WIN_SCALE);
}

/* Linux tcp_space: the payload the free part of the buffer can still take (0 when over). */
static uint32_t tcp_rwnd_space(const struct tcp_conn *c)
{
	uint32_t used = tcp_rwnd_held(c), buf = tcp_rcvbuf_cap(c);
	return used >= buf ? 0 : tcp_win_from_space(c->scaling_ratio, buf - used);
}

static uint32_t tcp_rwnd_full_space(const struct tcp_conn *c)
{
	return tcp_win_from_space(c->scaling_ratio, tcp_rcvbuf_cap(c));
}

/*
 * The window of a SYN or SYN-ACK and the largest window ever offered (Linux
 * tcp_select_initial_window): the buffer's default share, cut to whole segments of `mss`
 * (our MSS less the timestamp option), at most 65535 (the SYN's field is never scaled).
 * The clamp (the largest window ever offered) is that share when SO_RCVBUF fixed the
 * buffer, else what the scale can express.
 */
static uint32_t tcp_rwnd_initial_clamp(const struct tcp_sockopts *o, uint8_t wscale)
{
	uint32_t space = tcp_win_from_space(TCP_DEFAULT_SCALING_RATIO, o->rcvbuf);
	uint32_t max = 65535u << wscale;
	uint32_t clamp = o->rcvbuf_locked && space < max ? space : max;
	/* TCP_WINDOW_CLAMP set before the handshake (on the listener for a passive open):
	 * Linux's tcp_select_initial_window starts from it. */
	return o->window_clamp && o->window_clamp < clamp ? o->window_clamp : clamp;
}

uint32_t tcp_rwnd_initial(const struct tcp_sockopts *o, uint32_t mss, uint8_t wscale)
{
	uint32_t space = tcp_win_from_space(TCP_DEFAULT_SCALING_RATIO, o->rcvbuf);
	uint32_t clamp = tcp_rwnd_initial_clamp(o, wscale);
	if (space > clamp)
		space = clamp;
	if (mss && space > mss)
		space -= space % mss;
	return space > 65535u ? 65535u : space;
}

/*
 * Entering ESTABLISHED (Linux tcp_init_buffer_space): the clamp becomes the buffer's share
 * less one MSS kept for the application (tcp_app_win = 31 reserves only that segment), and
 * the window starts from what the SYN offered.
 */
void tcp_rwnd_established(struct tcp_conn *c, uint32_t syn_wnd)
{
	uint32_t maxwin = tcp_rwnd_full_space(c), adv = c->adv_mss;
	c->window_clamp = tcp_rwnd_initial_clamp(&c->opts, c->rcv_wscale);
	if (c->window_clamp >= maxwin)
		c->window_clamp = maxwin;
	if (c->window_clamp > 2 * adv && c->window_clamp + adv > maxwin)
		c->window_clamp = maxwin - adv > 2 * adv ? maxwin - adv : 2 * adv;
	c->rcv_ssthresh = syn_wnd < c->window_clamp ? syn_wnd : c->window_clamp;
}

/* A new clamp (Linux tcp_set_window_clamp): a smaller one pulls rcv_ssthresh down with it,
 * a larger one lets it reach what was already offered. */
static void tcp_rwnd_set_clamp(struct tcp_conn *c, uint32_t clamp)
{
	if (clamp < TCP_SOCK_MIN_RCVBUF / 2)
		clamp = TCP_SOCK_MIN_RCVBUF / 2;
	if (clamp == c->window_clamp)
		return;
	if (clamp < c->window_clamp) {
		if (c->rcv_ssthresh > clamp)
			c->rcv_ssthresh = clamp;
	} else {
		uint32_t r = c->rcv.wnd < clamp ? c->rcv.wnd : clamp;
		if (r > c->rcv_ssthresh)
			c->rcv_ssthresh = r;
	}
	c->window_clamp = clamp;
}

int tcp_conn_set_window_clamp(struct tcp_conn *c, int val)
{
	if (val == 0) {
		if (c->state != TCPS_CLOSED)
			return -EINVAL;
		c->window_clamp = 0;
		return 0;
	}
	tcp_rwnd_set_clamp(c, val < (int)(TCP_SOCK_MIN_RCVBUF / 2) ? TCP_SOCK_MIN_RCVBUF / 2 : (uint32_t)val);
	return 0;
}

uint32_t tcp_conn_window_clamp(const struct tcp_conn *c)
{
	return c->window_clamp;
}

/* The buffer grew (auto-tuning): the clamp follows it (Linux tcp_rcv_space_adjust). */
void tcp_rwnd_buffer_grown(struct tcp_conn *c)
{
	uint32_t clamp = tcp_rwnd_full_space(c);
	if (clamp > c->window_clamp)
		tcp_rwnd_set_clamp(c, clamp);
}

/*
 * A data segment of dlen payload bytes, truesize `truesize`, was queued (in order, or out of
 * order when grow says so). Linux tcp_measure_rcv_mss: a segment at least as long as the
 * peer's MSS as we knew it measures payload/truesize again, and the clamp follows the new
 * ratio; `seg_mss` is the segment's own MSS (a GRO super-segment's gso_size). Then
 * tcp_grow_window: while there is room under the clamp and the free space, rcv_ssthresh
 * grows by twice the segment (at least two MSS) when such segments would fit the buffer,
 * and the ACK that tells the peer goes without delay (one quick ACK at least).
 */
void tcp_rwnd_data(struct tcp_conn *c, uint32_t dlen, uint32_t seg_mss, uint32_t truesize, bool grow)
{
	if (seg_mss >= c->rcv_mss) {
		if (seg_mss != c->rcv_mss && truesize) {
			uint64_t r = ((uint64_t)dlen << TCP_RMEM_TO_WIN_SCALE) / truesize;
			uint8_t ratio = (uint8_t)(r == 0 ? 1 : r > 255 ? 255 : r);
			if (ratio != c->scaling_ratio) {
				c->scaling_ratio = ratio;
				tcp_rwnd_set_clamp(c, tcp_rwnd_full_space(c));
			}
		}
		c->rcv_mss = seg_mss < c->adv_mss ? seg_mss : c->adv_mss;
	}
	if (!grow || dlen < 128)
		return;
	uint32_t space = tcp_rwnd_space(c);
	uint32_t top = c->window_clamp < space ? c->window_clamp : space;
	if (top <= c->rcv_ssthresh || tcp_mem_under_pressure(c->tl))
		return;
	uint32_t incr = 0;
	if (tcp_win_from_space(c->scaling_ratio, truesize) <= dlen) {
		incr = 2u * c->adv_mss;
	} else {
		/* Linux __tcp_grow_window: a segment worse than the ratio still grows the window
		 * while the window is small compared with the largest buffer. */
		uint32_t ts = tcp_win_from_space(c->scaling_ratio, truesize) >> 1;
		uint32_t w = tcp_win_from_space(c->scaling_ratio, c->tl->cfg.rmem_max) >> 1;
		while (c->rcv_ssthresh <= w) {
			if (ts <= dlen) {
				incr = 2u * c->rcv_mss;
				break;
			}
			ts >>= 1;
			w >>= 1;
		}
	}
	if (!incr)
		return;
	if (incr < 2u * dlen)
		incr = 2u * dlen;
	c->rcv_ssthresh += top - c->rcv_ssthresh < incr ? top - c->rcv_ssthresh : incr;
	/* Linux: a window that grew is worth telling at once (icsk_ack.quick |= 1). */
	c->quickack |= 1;
}

/*
 * The window the free buffer allows now (Linux __tcp_select_window), before the rule that
 * an offered window is not taken back (a buffer more than half full also ends quick-ACK
 * mode, as Linux's). Below half the clamp the window is only what is
 * free, and nothing when that is less than an MSS or 1/16 of the buffer (the receiver's
 * SWS avoidance, RFC 9293 3.8.6.2.2). Without scaling it moves in whole segments (the last
 * one kept while within a segment of the free space), with scaling in units of the scale.
 */
uint32_t tcp_rwnd_free(struct tcp_conn *c)
{
	uint32_t mss = c->rcv_mss, free_space = tcp_rwnd_space(c);
	uint32_t allowed = tcp_rwnd_full_space(c);
	uint32_t full = c->window_clamp < allowed ? c->window_clamp : allowed;
	uint32_t unit = 1u << c->rcv_wscale;
	bool shrink = c->tl->cfg.shrink_window && c->rcv_wscale;

	if (c->flags & TCP_F_RCV_SHUT && c->flags & TCP_F_ORPHAN)
		free_space = full; /* nobody will read: the window does not close on them */
	if (mss > full) {
		mss = full;
		if (mss == 0)
			return 0;
	}
	if (shrink)
		free_space &= ~(unit - 1u);
	if (free_space < full / 2) {
		/* Linux: a buffer more than half full ends quick-ACK mode, wherever the window is
		 * computed (an ACK, any segment sent, tcp_delack.c's ACK decision). */
		c->quickack = 0;
		if (!shrink)
			free_space &= ~(unit - 1u);
		if (free_space < allowed / 16 || free_space < mss || free_space < unit)
			return 0;
	}
	if (free_space > c->rcv_ssthresh)
		free_space = c->rcv_ssthresh;
	if (shrink)
		return free_space;
	if (c->rcv_wscale)
		return (free_space + unit - 1u) & ~(unit - 1u);
	uint32_t window = c->rcv.wnd;
	if (window + mss <= free_space || window > free_space)
		window = free_space - free_space % mss;
	else if (mss == full && free_space > window + full / 2)
		window = free_space;
	return window;
}

/*
 * The window to put in a segment, in bytes (Linux tcp_select_window): never less than what
 * is left of the last offer, unless shrinking is allowed; at most what the scale can
 * express. Records it as rcv.wnd.
 */
uint32_t tcp_rwnd_select(struct tcp_conn *c)
{
	uint32_t cur = seq_gt(c->rcv.adv_edge, c->rcv.nxt) ? c->rcv.adv_edge - c->rcv.nxt : 0;
	uint32_t unit = 1u << c->rcv_wscale;
	uint32_t wnd = tcp_rwnd_free(c);
	if (wnd < cur && !(c->tl->cfg.shrink_window && c->rcv_wscale))
		wnd = (cur + unit - 1u) & ~(unit - 1u);
	/* Recorded as sent (Linux keeps the uncut value; the edge must be what the peer saw). */
	uint32_t maxw = 65535u << c->rcv_wscale;
	c->rcv.wnd = wnd > maxw ? maxw : wnd;
	return c->rcv.wnd;
}

/* The application read n bytes: their share of the in-order charge is given back (the
 * whole of it once the queue is empty). */
void tcp_rwnd_read(struct tcp_conn *c, uint32_t n, uint32_t queued_before)
{
	if (n >= queued_before || queued_before == 0)
		c->rwnd_rcvq = 0;
	else
		c->rwnd_rcvq -= (uint32_t)((uint64_t)c->rwnd_rcvq * n / queued_before);
}

/*
 * Linux tcp_collapse (from tcp_prune_queue): when the memory held passes the buffer, the
 * queued in-order data is copied into page-sized buffers, so it costs what its bytes need
 * (3712 payload bytes per 4352 of truesize) however small the segments were. Only the
 * charge changes here; tcp_buf.c packs tapstack's own pbufs by its own rule.
 */
void tcp_rwnd_collapse(struct tcp_conn *c)
{
	uint32_t pages = (c->rcvq.bytes + SKB_MAX_LINEAR - 1) / SKB_MAX_LINEAR;
	uint32_t packed = pages * (SKB_PAGE + SKB_STRUCT);
	if (packed < c->rwnd_rcvq)
		c->rwnd_rcvq = packed;
}
