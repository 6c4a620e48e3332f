/*
 * tcp_buf.c - the byte rings that hold a connection's send and receive data.
 *
 * Send: the application's bytes are copied once into the ring; segments reference them in
 * place through pbuf->ext (zero copy to the driver), and the ring keeps them until they
 * are acknowledged (RFC 9293 3.8: the sender keeps data until ACKed). Receive: in-order
 * payload is copied once from the received pbuf into the ring and once out in recv().
 *
 * Storage is allocated on the first byte, starts at 4 KiB and doubles as needed up to the
 * socket's buffer size; a ring that drains while still 4 KiB is freed, so an idle
 * keep-alive connection holds no buffer at all (issue 5: 10,000 idle connections stay
 * small), while a bulk transfer keeps its grown ring instead of reallocating per read.
 * Every allocation is charged to the layer's buffer memory (tcp_mem.c) through r->tl.
 * The send queue also remembers where Linux's write queue would put PSH and skb boundaries
 * (tcp_sndq_fill, below). Called by tcp_conn.c (send/recv), tcp_input.c, tcp_output.c.
 */
#include "tcp/tcp_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int tcp_ring_reserve(struct tcp_ring *r, uint32_t cap)
{
	if (r->buf && r->cap >= cap)
		return 0;
	/* The growth is charged to the stack-wide limit first (tcp_mem.c). */
	uint32_t grow = cap - (r->buf ? r->cap : 0);
	if (r->tl && tcp_mem_charge(r->tl, grow) != 0)
		return -ENOBUFS;
	uint8_t *nb = malloc(cap);
	if (!nb) {
		if (r->tl)
			tcp_mem_uncharge(r->tl, grow);
		return -ENOMEM;
	}
	if (r->buf) {
		/* Growing (SO_RCVBUF/SO_SNDBUF raised): unwrap the contents into the new block. */
		tcp_ring_read(r, nb, r->len, false);
		free(r->buf);
	}
	r->buf = nb;
	r->cap = cap;
	r->head = 0;
	return 0;
}

int tcp_ring_make_room(struct tcp_ring *r, uint32_t need, uint32_t max)
{
	if (r->buf && r->cap >= need)
		return 0;
	uint32_t cap = r->cap ? r->cap : TCP_RING_MIN;
	while (cap < need && cap < max)
		cap = cap > UINT32_MAX / 2 ? UINT32_MAX : cap * 2;
	if (cap > max)
		cap = max > need ? max : need;
	return tcp_ring_reserve(r, cap);
}

/*
 * Small rings are given back as soon as they drain: malloc of 4 KiB is cheap, and a server
 * with 10,000 idle keep-alive connections then holds no buffers at all. Large rings (a bulk
 * transfer grew them) stay, so a stream does not reallocate on every read.
 */
void tcp_ring_release_if_empty(struct tcp_ring *r)
{
	if (r->buf && r->len == 0 && r->cap <= TCP_RING_MIN)
		tcp_ring_free(r);
}

void tcp_ring_free(struct tcp_ring *r)
{
	if (r->tl && r->buf)
		tcp_mem_uncharge(r->tl, r->cap);
	free(r->buf);
	r->buf = NULL;
	r->cap = 0;
	r->head = 0;
	r->len = 0;
}

uint32_t tcp_ring_write(struct tcp_ring *r, const void *src, uint32_t n)
{
	const uint8_t *s = src;
	if (n > r->cap - r->len)
		n = r->cap - r->len;
	uint32_t tail = (r->head + r->len) % (r->cap ? r->cap : 1);
	uint32_t first = r->cap - tail < n ? r->cap - tail : n;
	memcpy(r->buf + tail, s, first);
	memcpy(r->buf, s + first, n - first);
	r->len += n;
	return n;
}

uint32_t tcp_ring_read(struct tcp_ring *r, void *dst, uint32_t n, bool consume)
{
	uint8_t *d = dst;
	if (n > r->len)
		n = r->len;
	if (n == 0)
		return 0;
	uint32_t first = r->cap - r->head < n ? r->cap - r->head : n;
	memcpy(d, r->buf + r->head, first);
	memcpy(d + first, r->buf, n - first);
	if (consume)
		tcp_ring_drop(r, n);
	return n;
}

void tcp_ring_drop(struct tcp_ring *r, uint32_t n)
{
	if (n > r->len)
		n = r->len;
	r->len -= n;
	r->head = r->len ? (r->head + n) % r->cap : 0;
}

int tcp_ring_pieces(const struct tcp_ring *r, uint32_t off, uint32_t n, struct pbuf_ext out[2])
{
	if (n == 0 || off + n > r->len)
		return 0;
	uint32_t start = (r->head + off) % r->cap;
	uint32_t first = r->cap - start < n ? r->cap - start : n;
	out[0].ptr = r->buf + start;
	out[0].len = first;
	if (first == n)
		return 1;
	out[1].ptr = r->buf;
	out[1].len = n - first;
	return 2;
}

/*
 * The send queue as Linux's write queue would hold it (docs/tcp.md "Where PSH goes").
 * Linux copies a write into skbs of tcp_size_goal() bytes, extending the unsent tail skb
 * first; PSH is a flag of an skb: the tail of each write unless MSG_MORE (tcp_push), and
 * the skb where the write passed pushed_seq + max_window / 2 (forced_push). The ring keeps
 * the bytes; here we keep where those flags sit, as sequence numbers (push marks), and the
 * start of the unsent tail skb (wq_tail). tcp_output reads the marks (tcp_sndq_pushed).
 */
uint32_t tcp_size_goal(const struct tcp_conn *c)
{
	uint32_t mss = tcp_mss_now(c);
	uint32_t goal = TCP_LINUX_GSO_MAX;
	/* Linux tcp_bound_to_half_wnd: half the largest window seen (all of a tiny one). */
	uint32_t cutoff = c->snd.max_wnd > TCP_MSS_DEFAULT ? c->snd.max_wnd / 2 : c->snd.max_wnd;
	if (cutoff && goal > cutoff)
		goal = cutoff;
	goal -= goal % mss;
	return goal > mss ? goal : mss;
}

static uint32_t tcp_push_last(const struct tcp_conn *c)
{
	return c->push_mark[(c->push_head + c->push_count - 1u) % TCP_PUSH_MARKS];
}

/* Drops the marks SND.UNA has passed (their bytes are acknowledged). */
static void tcp_push_forget(struct tcp_conn *c)
{
	while (c->push_count && seq_leq(c->push_mark[c->push_head], c->snd.una)) {
		c->push_head = (uint8_t)((c->push_head + 1u) % TCP_PUSH_MARKS);
		c->push_count--;
	}
}

/* Linux tcp_mark_push: PSH on the skb ending at `end`. With the ring full the oldest mark
 * goes (memory stays bounded; it is the one most likely sent already, whose PSH matters
 * only if that segment is resent alone). */
static void tcp_push_mark(struct tcp_conn *c, uint32_t end)
{
	tcp_push_forget(c);
	c->pushed_seq = end;
	if (c->push_count && seq_geq(tcp_push_last(c), end))
		return;
	if (c->push_count == TCP_PUSH_MARKS) {
		c->push_head = (uint8_t)((c->push_head + 1u) % TCP_PUSH_MARKS);
		c->push_count--;
	}
	c->push_mark[(c->push_head + c->push_count) % TCP_PUSH_MARKS] = end;
	c->push_count++;
}

bool tcp_sndq_pushed(struct tcp_conn *c, uint32_t seq, uint32_t end)
{
	tcp_push_forget(c);
	for (uint32_t i = 0; i < c->push_count; i++) {
		uint32_t m = c->push_mark[(c->push_head + i) % TCP_PUSH_MARKS];
		if (seq_gt(m, seq) && seq_leq(m, end))
			return true;
	}
	return false;
}

uint32_t tcp_sndq_fill(struct tcp_conn *c, const uint8_t *buf, uint32_t n, bool more)
{
	uint32_t goal = tcp_size_goal(c);
	uint32_t copied = 0;
	while (copied < n) {
		uint32_t end = c->snd.una + c->sndq.len; /* Linux write_seq */
		/* The tail skb: never sent (Linux moves sent skbs out of the write queue), and
		 * not closed by MSG_EOR (tcp_skb_can_collapse_to). */
		uint32_t start = seq_gt(c->wq_tail, c->snd.max) ? c->wq_tail : c->snd.max;
		bool closed = c->eor_count && c->eor_mark[(c->eor_head + c->eor_count - 1u) % TCP_EOR_MARKS] == end;
		uint32_t room = 0;
		if (seq_lt(start, end) && !closed && end - start < goal)
			room = goal - (end - start);
		bool tail_psh = c->push_count && tcp_push_last(c) == end;
		if (room == 0) {
			c->wq_tail = start = end; /* a new skb */
			room = goal;
			tail_psh = false;
		} else if (tail_psh && copied == 0) {
			c->push_count--; /* a new write takes the PSH off the skb it extends */
			tail_psh = false;
		}
		uint32_t k = room < n - copied ? room : n - copied;
		k = tcp_ring_write(&c->sndq, buf + copied, k);
		if (k == 0)
			break;
		copied += k;
		if (tail_psh) /* the skb keeps its PSH; its end moved (Linux: same write) */
			c->push_mark[(c->push_head + c->push_count - 1u) % TCP_PUSH_MARKS] = end + k;
		if (copied == n || end + k - start < goal)
			continue;
		/* A full skb: Linux pushes it out while it copies the rest. */
		if (seq_gt(end + k, c->pushed_seq + c->snd.max_wnd / 2)) {
			tcp_push_mark(c, end + k);
			tcp_output(c);
		} else if (start == c->snd.max) {
			c->flags |= TCP_F_XMIT_ONE;
			tcp_output(c);
			c->flags &= ~TCP_F_XMIT_ONE;
		}
	}
	/* Linux tcp_push: the write's last skb gets PSH unless MSG_MORE, or when forced. */
	uint32_t end = c->snd.una + c->sndq.len;
	if (copied && (!more || copied < n || seq_gt(end, c->pushed_seq + c->snd.max_wnd / 2)))
		tcp_push_mark(c, end);
	return copied;
}
