/*
 * tcp_ooo.c - the out-of-order queue: segments that arrive beyond RCV.NXT wait here,
 * sorted by sequence number, until the hole before them is filled (RFC 9293 3.10.7.4
 * seventh; RFC 5681 4.2 asks for an immediate duplicate ACK: tcp_delack.c's tcp_ack_ooo
 * decides it, merging SACKs after the first three as Linux does).
 * The queue is bounded by memory, as Linux's: the truesize of what it holds (each pbuf's real
 * storage, pbuf_truesize; a small payload in a 64 KiB pbuf first moves to a small one,
 * tcp_rcv_condense) against the receive buffer, the stack-wide limit (tcp_mem.c) and the
 * shared pool; not by a number of segments, which would drop what a lossy path with a large
 * window needs (256 segments are 370 KB, a fraction of a 6 MiB window). When the hole fills,
 * its pbufs move to the receive queue as they are (tcp_buf.c): out-of-order payload is not
 * copied either.
 *
 * The queue, its charges and its SACK blocks live in a struct tcp_ofo (tcp_int.h) that the
 * first segment queued allocates and an emptied queue gives back (tcp_ofo_release), so a
 * connection whose data arrives in order holds none of it.
 *
 * The SACK blocks tcp_output.c advertises are kept here beside the queue, as Linux keeps
 * them (tcp_sack_new_ofo_skb, tcp_sack_remove): at most four, the block the newest segment
 * joined first (RFC 2018 4: "the first SACK block MUST specify the contiguous block of data
 * containing the segment which triggered this ACK"), then the blocks changed before it. So
 * with more holes than an option can name, the sender still hears of every segment as it
 * arrives; reading the blocks off the queue in sequence order would name the lowest holes
 * forever and hide everything after them.
 *
 * Called by tcp_input.c (tcp_step_text). Owns the queued pbufs.
 */
#include "tcp/tcp_int.h"

#include <stdlib.h>

/* Linux tcp_sack_extend: joins [seq, end) to blk if they touch or overlap. */
static bool tcp_sack_extend(struct tcp_sack_block *blk, uint32_t seq, uint32_t end)
{
	if (seq_gt(seq, blk->end) || seq_gt(blk->start, end))
		return false;
	if (seq_lt(seq, blk->start))
		blk->start = seq;
	if (seq_gt(end, blk->end))
		blk->end = end;
	return true;
}

/* A segment [seq, end) joined the queue: its block goes first, merged with any it touches;
 * a new block pushes the oldest out when all four are in use. */
static void tcp_sack_new_ofo(struct tcp_conn *c, uint32_t seq, uint32_t end)
{
	struct tcp_ofo *o = c->ofo;
	struct tcp_sack_block *sp = o->sacks;
	uint32_t n = o->num_sacks, i = 0;
	while (i < n && (seq_gt(seq, sp[i].end) || seq_gt(sp[i].start, end)))
		i++;
	/* An ACK held by SACK compression (tcp_delack.c) reports the blocks as they are: when
	 * the block that changes is not among the first two, the ones sure to reach the
	 * sender, that ACK goes before they change (Linux TCP_SACK_BLOCKS_EXPECTED). */
	if (i >= 2)
		tcp_sack_compress_flush(c);
	if (i < n) {
		struct tcp_sack_block hit = sp[i];
		(void)tcp_sack_extend(&hit, seq, end);
		for (; i > 0; i--)
			sp[i] = sp[i - 1];
		sp[0] = hit;
		/* Linux tcp_sack_maybe_coalesce: the grown block may now touch others. */
		for (uint32_t j = 1; j < o->num_sacks;) {
			if (tcp_sack_extend(&sp[0], sp[j].start, sp[j].end)) {
				for (uint32_t k = j + 1; k < o->num_sacks; k++)
					sp[k - 1] = sp[k];
				o->num_sacks--;
			} else {
				j++;
			}
		}
		return;
	}
	if (n == TCP_NUM_SACKS)
		n--;
	for (i = n; i > 0; i--)
		sp[i] = sp[i - 1];
	sp[0] = (struct tcp_sack_block){ seq, end };
	o->num_sacks = (uint8_t)(n + 1);
}

/* An empty queue is given back, its SACK blocks with it (Linux tcp_sack_remove: "all the
 * SACKs are eaten"). */
static void tcp_ofo_release(struct tcp_conn *c)
{
	if (c->ofo && !c->ofo->q.head) {
		free(c->ofo);
		c->ofo = NULL;
	}
}

/* RCV.NXT moved: blocks it reached are gone (Linux tcp_sack_remove); none without a queue. */
static void tcp_sack_remove(struct tcp_conn *c)
{
	struct tcp_ofo *o = c->ofo;
	tcp_ofo_release(c);
	if (!c->ofo)
		return;
	uint32_t n = 0;
	for (uint32_t i = 0; i < o->num_sacks; i++)
		if (seq_gt(o->sacks[i].start, c->rcv.nxt))
			o->sacks[n++] = o->sacks[i];
	o->num_sacks = (uint8_t)n;
}

/* Moves queued out-of-order segments that now fit onto the receive queue, pbuf and all. */
bool tcp_ooo_drain(struct tcp_conn *c, bool *fin)
{
	struct tcp_ofo *o = c->ofo;
	bool moved = false;
	struct pbuf *pb;
	if (!o)
		return false;
	/* What the in-order data just covered of the queue was received twice: reported in
	 * a D-SACK block (RFC 2883 4.1.1), the first such segment and what touches it, as
	 * Linux's tcp_ofo_queue does since 6.16. */
	uint32_t dsack_high = c->rcv.nxt;
	while ((pb = o->q.head) && seq_leq(pb->user, c->rcv.nxt)) {
		if (seq_lt(pb->user, dsack_high)) {
			uint32_t e = pb->user + pb->len;
			tcp_dsack_extend(c, pb->user, seq_lt(e, dsack_high) ? e : dsack_high);
		}
		pbuf_queue_pop(&o->q);
		o->truesize -= pbuf_truesize(pb);
		o->rwnd -= tcp_seg_truesize(pb->len); /* tcp_rcvq_add charges what it keeps */
		tcp_mem_uncharge(c->tl, pbuf_truesize(pb));
		uint32_t end = pb->user + pb->len;
		bool has_fin = (pb->flags & TCP_PB_FIN) != 0;
		moved = true;
		if (seq_gt(end, c->rcv.nxt)) {
			pbuf_pull(pb, c->rcv.nxt - pb->user);
			uint32_t n = pb->len;
			if (tcp_rcvq_add(c, pb) != 0)
				continue; /* no memory: dropped unacknowledged, the peer will retransmit it */
			c->rcv.nxt += n;
		} else {
			pbuf_free(pb);
		}
		if (has_fin && end == c->rcv.nxt)
			*fin = true;
	}
	tcp_sack_remove(c);
	return moved;
}

/* Keeps an out-of-order segment (sorted by seq, bounded, duplicates dropped). When it is
 * kept, the queue owns seg->pb and seg->pb becomes NULL; otherwise the caller still owns it. */
void tcp_ooo_insert(struct tcp_conn *c, struct tcp_seg *seg, uint32_t seq, uint32_t len, bool fin)
{
	struct tcp_layer *tl = c->tl;
	struct pbuf *pb = seg->pb;
	tcp_rcvbuf_ooo(c, len);
	/* Bounded by memory three ways (Linux charges truesize against the buffer and prunes):
	 * the receive buffer, its bytes and the whole storage of both queues' pbufs
	 * (tcp_rmem_fits: tiny segments cannot pin many 2 KiB buffers); the shared pool: out-of-order data never takes the last quarter of it,
	 * which the stack needs to receive at all; and the stack-wide limit (tcp_mem.c). */
	pbuf_trim(pb, len);
	seg->pb = pb = tcp_rcv_condense(c, pb);
	uint32_t charge = pbuf_truesize(pb);
	if (tcp_ooo_bytes(c) + len > tcp_rcvbuf_cap(c) || !tcp_rmem_fits(c, pb) || tcp_rcv_pool_low(c, pb)) {
		tl->ctr.drop_ooo_full++;
		return;
	}
	if (!tcp_mem_fits(tl, charge)) {
		tl->ctr.drop_mem_limit++;
		return;
	}
	if (!c->ofo && !(c->ofo = calloc(1, sizeof(*c->ofo)))) {
		tl->ctr.OfoNoMemory++; /* not queued, so not SACKed: the peer sends it again */
		return;
	}
	struct tcp_ofo *o = c->ofo;
	pb->user = seq;
	pb->flags = (uint8_t)((pb->flags & ~TCP_PB_FIN) | (fin ? TCP_PB_FIN : 0));
	struct pbuf **pp = &o->q.head, *prev = NULL;
	while (*pp && seq_lt((*pp)->user, seq)) {
		prev = *pp;
		pp = &(*pp)->next;
	}
	/* Linux tcp_data_queue_ofo counts every segment that gets this far (GRO ones as the
	 * segments they coalesced). */
	c->rcv_ooopack += pb->gso_size ? (len + pb->gso_size - 1u) / pb->gso_size : 1u;
	if ((*pp && (*pp)->user == seq && (*pp)->len >= len) || (prev && seq_geq(prev->user + prev->len, seq + len))) {
		/* A duplicate of what we hold: reported in a D-SACK block (RFC 2883 4.2). */
		tcp_dsack_set(c, seq, seq + len);
		tcp_ofo_release(c); /* allocated for nothing if the queue was empty */
		return;
	}
	pb->next = *pp;
	*pp = pb;
	if (!pb->next)
		o->q.tail = pb;
	o->q.count++;
	o->q.bytes += len;
	o->truesize += charge;
	o->rwnd += tcp_seg_truesize(len);
	(void)tcp_mem_charge(tl, charge); /* fits: checked above */
	seg->pb = NULL; /* the queue owns it now */
	tcp_sack_new_ofo(c, seq, seq + len);
	tl->ctr.OutOfOrderQueued++;
}

/*
 * In-order data comes first (Linux's tcp_prune_ofo_queue): when the segment that fills the
 * hole finds the memory taken by what is queued beyond it, out-of-order segments are dropped
 * from the highest sequence down until pb fits (OfoPruned). They were SACKed, but a receiver
 * may discard SACKed data (RFC 2018 section 8, "reneging"): the sender keeps them until they
 * are cumulatively acknowledged and sends them again. Without this, a small buffer full of
 * out-of-order data would refuse the one segment that could drain it, forever.
 */
void tcp_ooo_prune(struct tcp_conn *c, const struct pbuf *pb)
{
	struct tcp_ofo *o = c->ofo;
	while (o && o->q.head && !tcp_rmem_fits(c, pb)) {
		struct pbuf **pp = &o->q.head, *prev = NULL;
		while ((*pp)->next) {
			prev = *pp;
			pp = &(*pp)->next;
		}
		struct pbuf *last = *pp;
		*pp = NULL;
		o->q.tail = prev;
		o->q.count--;
		o->q.bytes -= last->len;
		o->truesize -= pbuf_truesize(last);
		o->rwnd -= tcp_seg_truesize(last->len);
		tcp_mem_uncharge(c->tl, pbuf_truesize(last));
		pbuf_free(last);
		c->tl->ctr.OfoPruned++;
		o->num_sacks = 0; /* Linux tcp_sack_reset: blocks build again from what arrives */
	}
	tcp_ofo_release(c);
}

/* Frees everything queued and gives its memory back (the connection closes). */
void tcp_ooo_purge(struct tcp_conn *c)
{
	if (!c->ofo)
		return;
	tcp_mem_uncharge(c->tl, c->ofo->truesize);
	pbuf_queue_purge(&c->ofo->q);
	free(c->ofo);
	c->ofo = NULL;
}
