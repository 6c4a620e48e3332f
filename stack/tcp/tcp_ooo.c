/*
 * tcp_ooo.c - the out-of-order queue: segments that arrive beyond RCV.NXT wait here,
 * sorted by sequence number, until the hole before them is filled (RFC 9293 3.10.7.4
 * seventh; RFC 5681 4.2 asks for an immediate duplicate ACK, which tcp_input.c sends).
 * The queue is bounded by memory, as Linux's: the truesize of what it holds (each pbuf's real
 * storage) against the receive buffer, the stack-wide limit (tcp_mem.c) and the shared
 * pool; not by a number of segments, which would drop what a lossy path with a large
 * window needs (256 segments are 370 KB, a fraction of a 6 MiB window). The SACK blocks
 * tcp_output.c advertises are read from it.
 *
 * Called by tcp_input.c (tcp_step_text). Owns the queued pbufs.
 */
#include "tcp/tcp_int.h"

/* What an out-of-order segment costs: the truesize Linux would charge for it (tcp_rwnd.c),
 * counted against the receive buffer as the window is. Only reads pb. */
uint32_t tcp_ooo_charge(const struct pbuf *pb)
{
	return tcp_seg_truesize(pb->len);
}

/* Moves queued out-of-order segments that now fit onto the receive ring. */
bool tcp_ooo_drain(struct tcp_conn *c, bool *fin)
{
	bool moved = false;
	struct pbuf *pb;
	while ((pb = c->ooo.head) && seq_leq(pb->user, c->rcv.nxt)) {
		pbuf_queue_pop(&c->ooo);
		c->ooo_truesize -= tcp_ooo_charge(pb);
		tcp_mem_uncharge(c->tl, tcp_ooo_charge(pb));
		uint32_t end = pb->user + pb->len;
		if (seq_gt(end, c->rcv.nxt)) {
			uint32_t skip = c->rcv.nxt - pb->user, need = c->rcvq.len + pb->len - skip;
			if (tcp_ring_make_room(&c->rcvq, need, need > tcp_rcvbuf_cap(c) ? need : tcp_rcvbuf_cap(c)) != 0) {
				pbuf_free(pb); /* no memory: the peer will retransmit it */
				continue;
			}
			uint32_t n = tcp_ring_write(&c->rcvq, pb->data + skip, pb->len - skip);
			c->rcv.nxt += n;
			c->rcv_rmem += tcp_ooo_charge(pb); /* its memory now waits to be read */
		}
		if ((pb->flags & TCP_PB_FIN) && end == c->rcv.nxt)
			*fin = true;
		pbuf_free(pb);
		moved = true;
	}
	return moved;
}

/* Keeps an out-of-order segment (sorted by seq, bounded, duplicates dropped). When it is
 * kept, the queue owns seg->pb and seg->pb becomes NULL; otherwise the caller still owns it. */
void tcp_ooo_insert(struct tcp_conn *c, struct tcp_seg *seg, uint32_t seq, uint32_t len, bool fin)
{
	struct tcp_layer *tl = c->tl;
	struct pbuf *pb = seg->pb;
	/* Linux (tcp_data_queue_ofo -> tcp_rcvbuf_grow): an accepted connection whose buffer fills
	 * with out-of-order data gets a bigger buffer, unless SO_RCVBUF fixed it. */
	if (!c->opts.rcvbuf_locked && !c->lis && c->ooo.bytes + c->rcvq.len + len > c->opts.rcvbuf / 2 &&
	    c->opts.rcvbuf < tl->cfg.rmem_max && !tcp_mem_under_pressure(tl)) {
		uint64_t nb = 2ull * c->opts.rcvbuf;
		c->opts.rcvbuf = (uint32_t)(nb > tl->cfg.rmem_max ? tl->cfg.rmem_max : nb);
	}
	/* Bounded by memory three ways (Linux charges truesize against the buffer and prunes):
	 * the receive buffer, counting each pbuf's whole storage (tiny segments cannot pin many
	 * 2 KiB buffers); the shared pool: out-of-order data never takes the last quarter of it,
	 * which the stack needs to receive at all; and the stack-wide limit (tcp_mem.c). */
	const struct pbuf_class *pc = &tl->core->pool.cls[pb->cls];
	pbuf_trim(pb, len);
	uint32_t charge = tcp_ooo_charge(pb);
	uint64_t truesize = (uint64_t)c->ooo_truesize + charge;
	if (c->ooo.bytes + len > tcp_rcvbuf_cap(c) || truesize > tcp_rcvbuf_cap(c) ||
	    (uint64_t)pc->in_use * 4 > (uint64_t)pc->max * 3) {
		tl->ctr.drop_ooo_full++;
		return;
	}
	if (!tcp_mem_fits(tl, charge)) {
		tl->ctr.drop_mem_limit++;
		return;
	}
	pb->user = seq;
	pb->flags = (uint8_t)((pb->flags & ~TCP_PB_FIN) | (fin ? TCP_PB_FIN : 0));
	struct pbuf **pp = &c->ooo.head, *prev = NULL;
	while (*pp && seq_lt((*pp)->user, seq)) {
		prev = *pp;
		pp = &(*pp)->next;
	}
	if ((*pp && (*pp)->user == seq && (*pp)->len >= len) || (prev && seq_geq(prev->user + prev->len, seq + len))) {
		/* A duplicate of what we hold: reported in a D-SACK block (RFC 2883 4.2). */
		tcp_dsack_set(c, seq, seq + len);
		return;
	}
	pb->next = *pp;
	*pp = pb;
	if (!pb->next)
		c->ooo.tail = pb;
	c->ooo.count++;
	c->ooo.bytes += len;
	c->ooo_truesize += charge;
	(void)tcp_mem_charge(tl, charge); /* fits: checked above */
	seg->pb = NULL; /* the queue owns it now */
	tl->ctr.OutOfOrderQueued++;
}

/* Frees everything queued and gives its memory back (the connection closes). */
void tcp_ooo_purge(struct tcp_conn *c)
{
	tcp_mem_uncharge(c->tl, c->ooo_truesize);
	c->ooo_truesize = 0;
	pbuf_queue_purge(&c->ooo);
}
