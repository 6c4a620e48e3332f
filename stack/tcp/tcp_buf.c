/*
 * tcp_buf.c - where a connection's data waits: the send ring and the receive queue.
 *
 * Send: the application's bytes are copied once into a byte ring; segments reference them
 * in place through pbuf->ext (zero copy to the driver), and the ring keeps them until they
 * are acknowledged (RFC 9293 3.8: the sender keeps data until ACKed). Its storage is
 * allocated on the first byte, starts at 4 KiB and doubles as needed up to the socket's
 * buffer size (a small ring that drains is freed, so idle connections hold none), and is charged to the layer's buffer memory (tcp_mem.c) through r->tl.
 *
 * Receive: in-order payload stays in the pbuf the driver read it into, queued on the
 * connection, until recv() copies it out: the only copy in user space. The queue is charged
 * what its pbufs really pin (pbuf_truesize, as Linux charges an skb's truesize to
 * sk_rmem_alloc) to bound it; the window is computed from Linux's charge for the same data
 * (tcp_rwnd.c). Three rules keep
 * the memory near the payload, after Linux's: a payload that fits the tail pbuf's free room
 * is copied there (tcp_try_coalesce), so 1-byte segments fill pbufs instead of pinning one
 * each; a small payload in a 64 KiB pbuf moves to a small one (skb_condense); and a queue
 * over its buffer while holding less than half its memory in payload is copied into packed
 * pbufs (tcp_collapse). Only those copies are counted (RcvCopiedBytes); a full-sized segment
 * is never copied before recv(). An empty queue holds nothing: idle connections stay small.
 * The send side also remembers where Linux's write queue would put PSH and skb boundaries
 * (tcp_sndq_fill, below), and charges the queue as Linux charges it: each skb's overhead
 * and its payload (tcp_wmem_queued), which decides how much a send() takes and when a
 * waiting writer wakes (tcp_sndbuf_writable, tcp_check_space).
 * Called by tcp_conn.c (send/recv), tcp_input.c, tcp_ooo.c, tcp_output.c.
 */
#include "tcp/tcp_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/ring.h"

/*
 * Lending. With a late device (netdev.tx_late: the io_uring TAP) a segment's payload is read
 * from the ring when the device flushes, not when tcp_output hands the frame down (core_tx in
 * core/core.h). The ring never moves or overwrites a byte it holds, so lent bytes stay right
 * as long as they stay in the ring: only handing them back (tcp_ring_drop, an ACK), moving
 * them (growth) and freeing the storage must wait for the flush, and settle it first when the
 * bytes were lent since the last one. The ring remembers the epoch it last lent in and the
 * lowest offset lent then: an ACK of bytes below that (the usual case: new data is lent, old
 * data acknowledged) needs no flush; a retransmission acknowledged before its flush does.
 */
static bool tcp_ring_lent(const struct tcp_ring *r)
{
	return r->tl && core_tx_lent(r->tl->core, r->lent_epoch);
}

static void tcp_ring_settle(struct tcp_ring *r)
{
	if (tcp_ring_lent(r))
		core_tx_settle(r->tl->core, r->lent_epoch);
}

int tcp_ring_lend(struct tcp_ring *r, uint32_t off, uint32_t n, struct pbuf_ext out[2])
{
	int np = tcp_ring_pieces(r, off, n, out);
	if (np && r->tl && r->tl->core->tx.late) {
		if (!tcp_ring_lent(r) || off < r->lent_off)
			r->lent_off = off;
		r->lent_epoch = r->tl->core->tx.epoch;
	}
	return np;
}

/* A new ring's storage: the smallest size comes from the stack's shelf (tl->ring_spares),
 * so a connection that takes and gives back a ring per response does not malloc each time. */
static uint8_t *tcp_ring_block(struct tcp_ring *r, uint32_t cap)
{
	return r->tl ? spares_take(&r->tl->ring_spares, cap) : malloc(cap);
}

/* The ring's storage goes: back on the shelf when it is of the kept size. */
static void tcp_ring_unblock(struct tcp_ring *r)
{
	if (r->tl)
		spares_give(&r->tl->ring_spares, r->buf, r->cap);
	else
		free(r->buf);
}

int tcp_ring_reserve(struct tcp_ring *r, uint32_t cap)
{
	if (r->buf && r->cap >= cap)
		return 0;
	/* The growth is charged to the stack-wide limit first (tcp_mem.c). */
	uint32_t grow = cap - (r->buf ? r->cap : 0);
	if (r->tl && tcp_mem_charge(r->tl, grow) != 0)
		return -ENOBUFS;
	uint8_t *nb = !r->buf ? tcp_ring_block(r, cap) : malloc(cap);
	if (!nb) {
		if (r->tl)
			tcp_mem_uncharge(r->tl, grow);
		return -ENOMEM;
	}
	if (r->buf) {
		/* Growing (SO_RCVBUF/SO_SNDBUF raised): unwrap the contents into the new block. */
		tcp_ring_settle(r);
		tcp_ring_read(r, nb, r->len, false);
		tcp_ring_unblock(r);
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
 * Small rings are given back as soon as they drain, to the stack's shelf (tcp_ring_unblock),
 * so a server with 10,000 idle keep-alive connections holds no buffers at all and the next
 * response takes the block back without a malloc. Large rings (a bulk transfer grew them)
 * stay, so a stream does not reallocate on every write.
 */
void tcp_ring_release_if_empty(struct tcp_ring *r)
{
	if (r->buf && r->len == 0 && r->cap <= TCP_RING_MIN)
		tcp_ring_free(r);
}

void tcp_ring_free(struct tcp_ring *r)
{
	tcp_ring_settle(r);
	if (r->tl && r->buf)
		tcp_mem_uncharge(r->tl, r->cap);
	tcp_ring_unblock(r);
	r->buf = NULL;
	r->cap = 0;
	r->head = 0;
	r->len = 0;
}

long tcp_ring_fill(struct tcp_ring *r, tcp_fill_fn fill, void *ctx, uint64_t at, uint32_t n)
{
	if (n > r->cap - r->len)
		n = r->cap - r->len;
	uint32_t tail = (r->head + r->len) % (r->cap ? r->cap : 1);
	uint32_t first = r->cap - tail < n ? r->cap - tail : n;
	uint32_t done = 0;
	/* At most two pieces: up to the end of the storage, then from its start. */
	for (int i = 0; i < 2 && done < n; i++) {
		uint32_t want = i == 0 ? first : n - first;
		if (want == 0)
			continue;
		long got = fill(ctx, r->buf + (i == 0 ? tail : 0), want, at + done);
		if (got < 0) {
			if (done == 0)
				return got;
			break;
		}
		done += (uint32_t)got;
		if ((uint32_t)got < want)
			break; /* the source ended */
	}
	r->len += done;
	return done;
}

long tcp_fill_mem(void *ctx, void *dst, uint32_t n, uint64_t at)
{
	memcpy(dst, (const uint8_t *)ctx + at, n);
	return n;
}

uint32_t tcp_ring_write(struct tcp_ring *r, const void *src, uint32_t n)
{
	return (uint32_t)tcp_ring_fill(r, tcp_fill_mem, (void *)(uintptr_t)src, 0, n);
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
	if (tcp_ring_lent(r)) {
		if (n > r->lent_off)
			tcp_ring_settle(r);     /* lent bytes would be handed back: written first */
		else
			r->lent_off -= n;
	}
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

/* ---- the send buffer, charged as Linux charges it ---- */

uint32_t tcp_sndbuf_cap(const struct tcp_conn *c)
{
	return c->opts.sndbuf ? c->opts.sndbuf : 1;
}

/* Linux's sk_wmem_queued: every skb's overhead plus the bytes it holds (an ACK that covers
 * part of an skb trims those bytes, tcp_trim_head; the overhead goes with the skb). */
uint64_t tcp_wmem_queued(const struct tcp_conn *c)
{
	return (uint64_t)c->sndq.len + (uint64_t)c->skbq.n * TCP_SKB_TX_TRUESIZE;
}

/*
 * TCP_NOTSENT_LOWAT (Linux's tcp_stream_memory_free): is the data queued but not yet sent
 * below the socket's mark (or the stack's, notsent_lowat)? A write starts no new skb past
 * it (wake 0); poll and the writer's wake-up want it below half the mark (wake 1), so a
 * woken writer finds room for a good part of it.
 */
static bool tcp_notsent_ok(const struct tcp_conn *c, unsigned wake)
{
	uint32_t lowat = c->opts.notsent_lowat ? c->opts.notsent_lowat : c->tl->cfg.notsent_lowat;
	uint32_t sent = c->snd.nxt - c->snd.una;
	uint64_t notsent = c->sndq.len > sent ? c->sndq.len - sent : 0;
	return (notsent << wake) < lowat;
}

bool tcp_sndbuf_writable(const struct tcp_conn *c)
{
	uint64_t q = tcp_wmem_queued(c), cap = tcp_sndbuf_cap(c);
	/* At the memory limit a full ring cannot grow: not writable until memory is back. */
	bool stuck = c->sndq.len >= c->sndq.cap && !tcp_mem_fits(c->tl, TCP_RING_MIN);
	return q < cap && cap - q >= q / 2 && !stuck && tcp_notsent_ok(c, 1);
}

void tcp_sndbuf_expand(struct tcp_conn *c)
{
	if (c->opts.sndbuf_locked || tcp_mem_under_pressure(c->tl))
		return;
	/* Linux's worst case per MSS: one skb each, its head a power of two (4352 bytes for an
	 * MSS of 1460); twice cwnd's packets, as Cubic's and Reno's 1.7 rounded up. */
	uint32_t mss = c->peer_mss > c->mss ? c->peer_mss : c->mss;
	uint64_t per_mss = tcp_pow2_at_least(mss + SKB_MAX_TCP_HEADER + SKB_SHINFO) + SKB_STRUCT;
	uint32_t segs = tcp_cc_cwnd(c);
	uint32_t reordering = c->rec.reordering ? c->rec.reordering : TCP_REORDERING_INIT;
	if (segs < TCP_SNDBUF_MIN_SEGS)
		segs = TCP_SNDBUF_MIN_SEGS;
	if (segs < reordering + 1u)
		segs = reordering + 1u;
	uint64_t want = 2u * segs * per_mss;
	if (want > c->tl->cfg.wmem_max)
		want = c->tl->cfg.wmem_max;
	if (want > c->opts.sndbuf)
		c->opts.sndbuf = (uint32_t)want;
}

void tcp_check_space(struct tcp_conn *c)
{
	if (!(c->flags & TCP_F_NOSPACE))
		return;
	/* Linux tcp_new_space: a writer waits while cwnd is not full: the buffer grows first
	 * (tcp_should_expand_sndbuf). */
	if (tcp_cc_pkts(c, tcp_flight(c)) < tcp_cc_cwnd(c))
		tcp_sndbuf_expand(c);
	if (!tcp_sndbuf_writable(c))
		return;
	c->flags &= ~TCP_F_NOSPACE; /* the socket layer sees POLLOUT (tcp_wake after input) */
	tcp_chrono_stop(c, TCP_CHRONO_SNDBUF_LIMITED);
}

struct tcp_marks *tcp_marks_get(struct tcp_conn *c)
{
	if (!c->marks) {
		if ((c->marks = spares_take(&c->tl->marks_spares, sizeof(*c->marks))))
			memset(c->marks, 0, sizeof(*c->marks));
		else
			c->tl->ctr.MarksNoMemory++;
	}
	return c->marks;
}

/* Drops the push marks at or below `upto` (their bytes are acknowledged). */
static void tcp_push_forget(struct tcp_conn *c, uint32_t upto)
{
	struct tcp_marks *m = c->marks;
	while (m && m->push_count && seq_leq(m->push[m->push_head], upto)) {
		m->push_head = (uint8_t)((m->push_head + 1u) % TCP_PUSH_MARKS);
		m->push_count--;
	}
}

/* The queue drained up to ack (tcp_skbq_acked): the marks it passed go, and with none left
 * the marks are given back. */
static void tcp_marks_drained(struct tcp_conn *c, uint32_t ack)
{
	struct tcp_marks *m = c->marks;
	if (!m)
		return;
	tcp_push_forget(c, ack);
	while (m->eor_count && seq_leq(m->eor[m->eor_head], ack)) {
		m->eor_head = (uint8_t)((m->eor_head + 1u) % TCP_EOR_MARKS);
		m->eor_count--;
	}
	if (m->push_count == 0 && m->eor_count == 0) {
		spares_give(&c->tl->marks_spares, m, sizeof(*m));
		c->marks = NULL;
	}
}

static uint32_t *skbq_at(const struct tcp_skbq *q, uint32_t i)
{
	return &q->end[(q->head + i) & (q->cap - 1u)];
}

static void tcp_skbq_free(struct tcp_conn *c)
{
	struct tcp_skbq *q = &c->skbq;
	spares_give(&c->tl->skbq_spares, q->end, q->cap * sizeof(*q->end));
	*q = (struct tcp_skbq){ 0 };
}

/* Room for one more record: 0, or -ENOMEM (no memory, or TCP_SKBQ_MAX records). */
static int tcp_skbq_reserve(struct tcp_conn *c)
{
	struct tcp_skbq *q = &c->skbq;
	if (q->n + 1u > TCP_SKBQ_MAX)
		return -ENOMEM;
	uint32_t *e = q->end;
	if (!e) {
		/* A new flight: the smallest ring, from the shelf when one is kept. */
		if (!(e = spares_take(&c->tl->skbq_spares, TCP_SKBQ_MIN * sizeof(*e))))
			return -ENOMEM;
		q->cap = TCP_SKBQ_MIN;
		q->head = 0;
	} else {
		e = ring_grow(q->end, sizeof(*e), &q->cap, &q->head, q->n, q->n + 1u, TCP_SKBQ_MIN);
	}
	if (!e)
		return -ENOMEM;
	q->end = e;
	return 0;
}

/* A new skb ending at end (room reserved by tcp_skbq_reserve). */
static void tcp_skbq_push(struct tcp_conn *c, uint32_t end)
{
	struct tcp_skbq *q = &c->skbq;
	*skbq_at(q, q->n) = end;
	q->n++;
}

/* The tail skb, which ended at old_end, now ends at end. */
static void tcp_skbq_grow_tail(struct tcp_conn *c, uint32_t old_end, uint32_t end)
{
	struct tcp_skbq *q = &c->skbq;
	if (q->n && *skbq_at(q, q->n - 1u) == old_end)
		*skbq_at(q, q->n - 1u) = end;
	else if (tcp_skbq_reserve(c) == 0)
		tcp_skbq_push(c, end); /* its record was never made (the ring was full) */
}

/* The first skb that ends at or after seq (binary search), or q->n. */
static uint32_t skbq_search(const struct tcp_skbq *q, uint32_t seq)
{
	uint32_t lo = 0, hi = q->n;
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		if (seq_lt(*skbq_at(q, mid), seq))
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

uint32_t tcp_skbq_end(const struct tcp_conn *c, uint32_t seq)
{
	uint32_t i = skbq_search(&c->skbq, seq + 1u);
	return i < c->skbq.n ? *skbq_at(&c->skbq, i) : c->snd.una + c->sndq.len;
}

void tcp_skbq_split(struct tcp_conn *c, uint32_t seq)
{
	struct tcp_skbq *q = &c->skbq;
	/* The first skb that ends at or after seq: cut it unless it ends there. */
	uint32_t lo = skbq_search(q, seq);
	if (lo == q->n || *skbq_at(q, lo) == seq || !seq_gt(seq, c->snd.una))
		return;
	if (tcp_skbq_reserve(c) != 0)
		return; /* counted as one skb: the queue is charged less than Linux would */
	for (uint32_t i = q->n; i > lo; i--)
		*skbq_at(q, i) = *skbq_at(q, i - 1u);
	*skbq_at(q, lo) = seq;
	q->n++;
}

void tcp_skbq_acked(struct tcp_conn *c, uint32_t ack)
{
	struct tcp_skbq *q = &c->skbq;
	while (q->n && seq_leq(*skbq_at(q, 0), ack)) {
		q->head = (q->head + 1u) & (q->cap - 1u);
		q->n--;
	}
	if (q->n == 0)
		tcp_marks_drained(c, ack);
	if (q->n == 0 && q->cap <= TCP_SKBQ_MIN) {
		/* Drained and small: given back, as the ring is (idle connections hold none). */
		tcp_skbq_free(c);
	}
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
	if (c->flags & TCP_F_SEND_OOB)
		return mss; /* Linux tcp_send_mss: no large skbs for MSG_OOB */
	uint32_t goal = TCP_LINUX_GSO_MAX;
	/* Linux tcp_bound_to_half_wnd: half the largest window seen (all of a tiny one). */
	uint32_t cutoff = c->snd.max_wnd > TCP_MSS_DEFAULT ? c->snd.max_wnd / 2 : c->snd.max_wnd;
	if (cutoff && goal > cutoff)
		goal = cutoff;
	goal -= goal % mss;
	return goal > mss ? goal : mss;
}

static uint32_t tcp_push_count(const struct tcp_conn *c)
{
	return c->marks ? c->marks->push_count : 0;
}

/* The newest push mark (there is one: tcp_push_count). */
static uint32_t *tcp_push_last(const struct tcp_conn *c)
{
	struct tcp_marks *m = c->marks;
	return &m->push[(m->push_head + m->push_count - 1u) % TCP_PUSH_MARKS];
}

/* Linux tcp_mark_push: PSH on the skb ending at `end`. With the ring full the oldest mark
 * goes (memory stays bounded; it is the one most likely sent already, whose PSH matters
 * only if that segment is resent alone). Without memory for the marks the segment goes
 * without PSH (MarksNoMemory): the peer still gets every byte, only later to its reader. */
static void tcp_push_mark(struct tcp_conn *c, uint32_t end)
{
	tcp_push_forget(c, c->snd.una);
	c->pushed_seq = end;
	if (tcp_push_count(c) && seq_geq(*tcp_push_last(c), end))
		return;
	struct tcp_marks *m = tcp_marks_get(c);
	if (!m)
		return;
	if (m->push_count == TCP_PUSH_MARKS) {
		m->push_head = (uint8_t)((m->push_head + 1u) % TCP_PUSH_MARKS);
		m->push_count--;
	}
	m->push[(m->push_head + m->push_count) % TCP_PUSH_MARKS] = end;
	m->push_count++;
}

bool tcp_sndq_pushed(struct tcp_conn *c, uint32_t seq, uint32_t end)
{
	tcp_push_forget(c, c->snd.una);
	const struct tcp_marks *m = c->marks;
	for (uint32_t i = 0; m && i < m->push_count; i++) {
		uint32_t p = m->push[(m->push_head + i) % TCP_PUSH_MARKS];
		if (seq_gt(p, seq) && seq_leq(p, end))
			return true;
	}
	return false;
}

/*
 * The unsent tail skb a write may extend (Linux tcp_write_queue_tail with
 * tcp_skb_can_collapse_to): it starts at *start (never before SND.MAX: Linux moves sent
 * skbs out of the write queue) and ends at the end of the data; not closed by MSG_EOR.
 * Returns the room left in it up to the goal, 0 when a write must start a new skb.
 */
static uint32_t tcp_sndq_tail_room(const struct tcp_conn *c, uint32_t goal, uint32_t *start)
{
	uint32_t end = c->snd.una + c->sndq.len; /* Linux write_seq */
	*start = seq_gt(c->wq_tail, c->snd.max) ? c->wq_tail : c->snd.max;
	const struct tcp_marks *m = c->marks;
	bool closed = m && m->eor_count && m->eor[(m->eor_head + m->eor_count - 1u) % TCP_EOR_MARKS] == end;
	if (seq_lt(*start, end) && !closed && end - *start < goal)
		return goal - (end - *start);
	return 0;
}

long tcp_sndq_fill(struct tcp_conn *c, tcp_fill_fn fill, void *ctx, uint32_t n, bool more)
{
	uint32_t goal = tcp_size_goal(c);
	uint32_t copied = 0;
	int err = -EAGAIN;
	bool limited = false;
	bool ended = false; /* the source gave fewer bytes than asked: its end */
	while (copied < n && !ended) {
		uint32_t end = c->snd.una + c->sndq.len; /* Linux write_seq */
		uint32_t start;
		uint32_t room = tcp_sndq_tail_room(c, goal, &start);
		bool tail_psh = tcp_push_count(c) && *tcp_push_last(c) == end;
		bool fresh = room == 0;
		if (fresh) {
			/* A new skb (Linux's new_segment): only while the queue's memory is below
			 * the buffer and the unsent data below TCP_NOTSENT_LOWAT
			 * (sk_stream_memory_free), so the last skb may take the queue past them by
			 * up to one goal. */
			if (tcp_wmem_queued(c) >= tcp_sndbuf_cap(c) || !tcp_notsent_ok(c, 0) || tcp_skbq_reserve(c) != 0)
				break;
			start = end;
			room = goal;
			tail_psh = false;
		} else if (tail_psh && copied == 0) {
			c->marks->push_count--; /* a new write takes the PSH off the skb it extends */
			tail_psh = false;
		}
		uint32_t k = room < n - copied ? room : n - copied;
		int grow = tcp_ring_make_room(&c->sndq, c->sndq.len + k, tcp_sndq_ring_max(c));
		if (grow == -ENOBUFS && !limited) {
			/* At the stack-wide limit (tcp_mem.c): only what the ring holds as it is. */
			c->tl->ctr.SendMemLimited++;
			limited = true;
		} else if (grow != 0 && grow != -ENOBUFS) {
			err = grow;
			break;
		}
		if (k > c->sndq.cap - c->sndq.len)
			k = c->sndq.cap - c->sndq.len; /* at the memory limit: what the ring holds */
		long got = k ? tcp_ring_fill(&c->sndq, fill, ctx, copied, k) : 0;
		if (got < 0) {
			err = (int)got;
			break;
		}
		if ((uint32_t)got < k) {
			ended = true; /* a reader's source (sendfile's file) ended */
			if (got == 0)
				err = 0;
		}
		k = (uint32_t)got;
		if (k == 0)
			break;
		copied += k;
		if (fresh) {
			c->wq_tail = start;
			tcp_skbq_push(c, end + k);
		} else {
			tcp_skbq_grow_tail(c, end, end + k);
		}
		if (tail_psh) /* the skb keeps its PSH; its end moved (Linux: same write) */
			*tcp_push_last(c) = end + k;
		if (copied == n || end + k - start < goal || (c->flags & TCP_F_SEND_OOB))
			continue; /* Linux pushes no full skb while copying a MSG_OOB write */
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
	if (ended) {
		/* The source's end is the write's: MSG_MORE no longer holds it back (Linux's
		 * splice_eof pushes what sendfile queued when the file ends). */
		more = false;
		c->flags &= ~TCP_F_MORE;
	}
	/* Linux tcp_push: the write's last skb gets PSH unless MSG_MORE, or when forced. */
	uint32_t end = c->snd.una + c->sndq.len;
	if (copied && (!more || copied < n || seq_gt(end, c->pushed_seq + c->snd.max_wnd / 2)))
		tcp_push_mark(c, end);
	return copied ? (long)copied : err;
}

bool tcp_sndq_has_room(const struct tcp_conn *c)
{
	uint32_t start;
	return tcp_sndq_tail_room(c, tcp_size_goal(c), &start) ||
	       (tcp_wmem_queued(c) < tcp_sndbuf_cap(c) && tcp_notsent_ok(c, 0));
}

uint32_t tcp_sndq_ring_max(const struct tcp_conn *c)
{
	uint64_t max = (uint64_t)tcp_sndbuf_cap(c) + 2u * TCP_LINUX_GSO_MAX;
	return max > UINT32_MAX ? UINT32_MAX : (uint32_t)max;
}

void tcp_sndq_free(struct tcp_conn *c)
{
	tcp_ring_free(&c->sndq);
	tcp_skbq_free(c);
	spares_give(&c->tl->marks_spares, c->marks, sizeof(*c->marks));
	c->marks = NULL;
	tcp_rtt_release(&c->rtt, &c->tl->rtt_spares);
}

/* ---- the receive queue ---- */

/*
 * The window (tcp_rwnd.c) keeps the bytes a connection accepts near its buffer; their pbufs
 * may pin more than the bytes (a 1000-byte
 * segment pins 2 KiB, a 39,000-byte one 64 KiB), so the memory of both queues may reach twice
 * the buffer, never more (collapsing keeps it nearer the bytes).
 */
bool tcp_rmem_fits(const struct tcp_conn *c, const struct pbuf *pb)
{
	/* An empty connection takes one segment whatever it pins (Linux checks the memory held
	 * before a segment is added): a 64 KiB GRO pbuf into a small buffer, as the window
	 * allowed it (tcp_step_seq). */
	if (tcp_rmem_alloc(c) == 0)
		return true;
	return (uint64_t)tcp_rmem_alloc(c) + pbuf_truesize(pb) <= 2ull * tcp_rcvbuf_cap(c);
}

bool tcp_rcv_pool_low(const struct tcp_conn *c, const struct pbuf *pb)
{
	(void)c;
	const struct pbuf_class *pc = &pb->pool->cls[pb->cls];
	return (uint64_t)pc->in_use * 4 > (uint64_t)pc->max * 3;
}

struct pbuf *tcp_rcv_condense(struct tcp_conn *c, struct pbuf *pb)
{
	if (pb->cap <= PBUF_SMALL_CAP || pb->len > PBUF_SMALL_CAP)
		return pb;
	struct pbuf *small = pbuf_alloc(pb->pool, 0, pb->len);
	if (!small)
		return pb; /* kept as it is: charged its whole size */
	memcpy(pbuf_put(small, pb->len), pb->data, pb->len);
	small->flags = pb->flags;
	small->user = pb->user;
	c->tl->ctr.RcvCopiedBytes += pb->len;
	pbuf_free(pb);
	return small;
}

/* Linux's tcp_try_coalesce: a payload that fits the tail's free room is copied there. Only
 * small payloads fit (a full-sized segment's pbuf has a few hundred bytes left), so this
 * copies what would otherwise pin a whole pbuf for a few bytes. Frees pb when it did. */
static bool tcp_rcvq_coalesce(struct tcp_conn *c, struct pbuf *pb)
{
	struct pbuf *tail = c->rcvq.tail;
	if (!tail || pb->len > pbuf_tailroom(tail))
		return false;
	memcpy(pbuf_put(tail, pb->len), pb->data, pb->len);
	c->rcvq.bytes += pb->len;
	c->tl->ctr.RcvCoalesce++;
	c->tl->ctr.RcvCopiedBytes += pb->len;
	pbuf_free(pb);
	return true;
}

/* Takes the oldest pbuf off the queue, gives its memory back and frees it. */
static void tcp_rcvq_free_head(struct tcp_conn *c)
{
	struct pbuf *pb = pbuf_queue_pop(&c->rcvq);
	c->rcvq_truesize -= pbuf_truesize(pb);
	tcp_mem_uncharge(c->tl, pbuf_truesize(pb));
	pbuf_free(pb);
}

/*
 * Linux's tcp_collapse, for a queue over its buffer that pins more than twice its payload
 * (many small or half-empty pbufs): the bytes are copied, in order, into small pbufs packed
 * from their first byte, and the old pbufs freed as they empty. One new pbuf at a time, so
 * it needs one free pbuf to start; if the pool has none it stops, and the queue (packed
 * part, then the rest) stays whole.
 */
static void tcp_rcvq_collapse(struct tcp_conn *c)
{
	struct tcp_layer *tl = c->tl;
	struct pbuf_queue packed = { 0 };
	uint32_t packed_truesize = 0;
	struct pbuf *dst = NULL;
	while (c->rcvq.head) {
		struct pbuf *src = c->rcvq.head;
		if (!dst || !pbuf_tailroom(dst)) {
			dst = pbuf_alloc(src->pool, 0, PBUF_SMALL_CAP);
			if (dst && tcp_mem_charge(tl, pbuf_truesize(dst)) != 0) {
				pbuf_free(dst);
				dst = NULL;
			}
			if (!dst)
				break;
			pbuf_queue_push(&packed, dst);
			packed_truesize += pbuf_truesize(dst);
		}
		uint32_t n = src->len < pbuf_tailroom(dst) ? src->len : pbuf_tailroom(dst);
		memcpy(pbuf_put(dst, n), src->data, n);
		packed.bytes += n;
		tl->ctr.RcvCopiedBytes += n;
		pbuf_pull(src, n);
		c->rcvq.bytes -= n;
		if (!src->len) {
			tcp_rcvq_free_head(c);
			tl->ctr.RcvCollapsed++;
		}
	}
	/* The packed pbufs go before what is left (nothing, unless the pool ran out). */
	if (packed.head) {
		if (c->rcvq.head) {
			packed.tail->next = c->rcvq.head;
			packed.tail = c->rcvq.tail;
		}
		packed.count += c->rcvq.count;
		packed.bytes += c->rcvq.bytes;
		c->rcvq = packed;
		c->rcvq_truesize += packed_truesize;
	}
}

int tcp_rcvq_add(struct tcp_conn *c, struct pbuf *pb)
{
	struct tcp_layer *tl = c->tl;
	if (tcp_rcvq_coalesce(c, pb))
		return 0; /* Linux charges nothing more for bytes copied into the tail (tcp_rwnd.c) */
	pb = tcp_rcv_condense(c, pb);
	uint64_t cap = tcp_rcvbuf_cap(c), ts = pbuf_truesize(pb);
	/* Collapse only a sparse queue, and only when packing frees at least one pbuf. */
	if (tcp_rmem_alloc(c) + ts > cap && c->rcvq_truesize > 2ull * c->rcvq.bytes &&
	    c->rcvq.count > c->rcvq.bytes / PBUF_SMALL_CAP + 1)
		tcp_rcvq_collapse(c);
	/* A segment past the buffer (Linux's tcp_can_ingest: what the queues hold, as Linux
	 * charges it, plus its bytes) is ACKed at once, taken or not, so the sender learns of
	 * the closing window now (Linux's ICSK_ACK_NOMEM | ICSK_ACK_NOW). Linux's charge, not
	 * the pbufs' (tcp_rwnd_held): a lone frame in a 64 KiB GRO buffer pins far more than
	 * Linux's skb would, and would fire this on every segment of an offloaded upload. */
	if ((uint64_t)tcp_rwnd_held(c) + pb->len > cap)
		c->flags |= TCP_F_ACK_NOW;
	/* In-order data before out-of-order data; past the memory bound even so, or when the
	 * pool runs low, the segment is not accepted (Linux's TCPRcvQDrop) and, unacknowledged,
	 * comes again. */
	if (!tcp_rmem_fits(c, pb))
		tcp_ooo_prune(c, pb);
	if (!tcp_rmem_fits(c, pb) || tcp_rcv_pool_low(c, pb)) {
		tl->ctr.RcvQDrop++;
		pbuf_free(pb);
		return -ENOBUFS;
	}
	if (tcp_mem_charge(tl, ts) != 0) {
		tl->ctr.drop_mem_limit++;
		pbuf_free(pb);
		return -ENOBUFS;
	}
	pb->flags &= (uint8_t)~TCP_PB_FIN;
	pbuf_queue_push(&c->rcvq, pb);
	c->rcvq_truesize += (uint32_t)ts;
	c->rwnd_rcvq += tcp_seg_truesize(pb->len);
	return 0;
}

uint32_t tcp_rcvq_read(struct tcp_conn *c, uint8_t *dst, uint32_t skip, uint32_t n, bool consume)
{
	uint32_t done = 0, at = 0; /* at: offset into pb (a peek leaves the queue as it is) */
	struct pbuf *pb = c->rcvq.head;
	while (pb && (skip || done < n)) {
		uint32_t avail = pb->len - at;
		uint32_t k;
		if (skip) {
			k = skip < avail ? skip : avail; /* passed over (the out-of-band byte), not copied */
			skip -= k;
		} else {
			k = avail < n - done ? avail : n - done;
			if (dst) /* NULL: recv(MSG_TRUNC) discards */
				memcpy(dst + done, pb->data + at, k);
			done += k;
		}
		if (!consume) {
			at += k;
			if (at == pb->len) {
				pb = pb->next;
				at = 0;
			}
		} else if (k < pb->len) {
			pbuf_pull(pb, k);
			c->rcvq.bytes -= k;
		} else {
			tcp_rcvq_free_head(c);
			pb = c->rcvq.head;
		}
	}
	return done;
}

void tcp_rcvq_purge(struct tcp_conn *c)
{
	tcp_mem_uncharge(c->tl, c->rcvq_truesize);
	c->rcvq_truesize = 0;
	c->rwnd_rcvq = 0;
	pbuf_queue_purge(&c->rcvq);
}
