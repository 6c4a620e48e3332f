/*
 * tcp_sack.c - the SACK scoreboard (RFC 2018, RFC 6675): what the peer holds, what is
 * lost and what was resent, for the bytes between SND.UNA and SND.MAX.
 *
 * The bytes stay in the send ring (tcp_buf.c); the scoreboard keeps one small record per
 * segment sent (struct tcp_txseg in tcp_int.h) in a ring of records that grows by
 * doubling, so the per-packet path never allocates. Each record carries the marks Linux
 * keeps in its skbs: SACKED, LOST, RETRANS, and the time of its last transmission for
 * RACK. The byte totals of the marks give RFC 6675's pipe in O(1):
 *
 *     pipe = (SND.MAX - SND.UNA) - sacked - lost + retrans
 *
 * Only a cumulative ACK frees bytes (tcp_sb_cum_ack): a SACK block only marks records, so
 * a forged or reneged SACK can at worst delay a retransmission until the RTO (brought
 * forward when the cumulative ACK stops at a SACKed segment, tcp_recovery.c), which clears
 * the marks of a peer that took back what it SACKed (tcp_sb_mark_all_lost).
 *
 * SACK blocks are checked as Linux's tcp_sacktag_write_queue and tcp_is_sackblock_valid
 * do; every block that is refused is counted (SackDiscard*). D-SACK (RFC 2883 4) is
 * recognised here and judged in tcp_recovery.c.
 *
 * Called by tcp_input.c (ACK processing through tcp_recovery.c), tcp_output.c (records of
 * what is sent, the next segment to resend) and tcp_timer.c (an RTO marks all lost).
 */
#include "tcp/tcp_int.h"

#include <errno.h>
#include <stdlib.h>

#include "core/ring.h"

static struct tcp_txseg *sb_at(const struct tcp_sb *sb, uint32_t i)
{
	return &sb->seg[(sb->head + i) & (sb->cap - 1)];
}

static uint32_t seg_len(const struct tcp_txseg *r)
{
	return r->end - r->seq;
}

static uint32_t *sb_total(struct tcp_sb *sb, uint8_t mark)
{
	return mark == TCP_TX_SACKED ? &sb->sacked : mark == TCP_TX_LOST ? &sb->lost : &sb->retrans;
}

/* The index of the first record that ends after seq (binary search), sb->n if none. */
static uint32_t sb_find(const struct tcp_sb *sb, uint32_t seq)
{
	uint32_t lo = 0, hi = sb->n;
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		if (seq_leq(sb_at(sb, mid)->end, seq))
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Sets or clears one of SACKED, LOST, RETRANS on r, keeping the byte totals. */
void tcp_sb_mark(struct tcp_sb *sb, struct tcp_txseg *r, uint8_t mark, bool on)
{
	if (!!(r->marks & mark) == on)
		return;
	uint32_t *t = sb_total(sb, mark);
	/* A record that becomes lost-and-not-resent below the resend hint moves it back. */
	if (((mark == TCP_TX_LOST && on) || (mark == TCP_TX_RETRANS && !on)) && seq_lt(r->seq, sb->rtx_hint))
		sb->rtx_hint = r->seq;
	if (on) {
		r->marks |= mark;
		*t += seg_len(r);
	} else {
		r->marks &= (uint8_t)~mark;
		*t -= seg_len(r);
	}
}

void tcp_sb_free(struct tcp_layer *tl, struct tcp_sb *sb)
{
	spares_give(&tl->sb_spares, sb->seg, sb->cap * sizeof(*sb->seg));
	*sb = (struct tcp_sb){0};
}

struct tcp_txseg *tcp_sb_get(const struct tcp_sb *sb, uint32_t i)
{
	return i < sb->n ? sb_at(sb, i) : NULL;
}

/* Room for `more` records: doubles the ring (keeping order) up to TCP_SB_MAX_SEGS. */
int tcp_sb_reserve(struct tcp_layer *tl, struct tcp_sb *sb, uint32_t more)
{
	uint64_t need = (uint64_t)sb->n + more;
	if (need <= sb->cap)
		return 0;
	if (need > TCP_SB_MAX_SEGS)
		return -ENOBUFS;
	if (!sb->seg && need <= TCP_SB_MIN_SEGS) {
		/* A new flight's board: the smallest size, from the shelf when one is kept. */
		if (!(sb->seg = spares_take(&tl->sb_spares, TCP_SB_MIN_SEGS * sizeof(*sb->seg))))
			return -ENOMEM;
		sb->cap = TCP_SB_MIN_SEGS;
		sb->head = 0;
		return 0;
	}
	struct tcp_txseg *s = ring_grow(sb->seg, sizeof(*s), &sb->cap, &sb->head, sb->n, need, TCP_SB_MIN_SEGS);
	if (!s)
		return -ENOMEM;
	sb->seg = s;
	return 0;
}

/* Records needed for `len` bytes sent as `mss`-sized pieces (and a FIN). */
uint32_t tcp_sb_segs_for(uint32_t len, uint32_t mss)
{
	return len ? (len + mss - 1) / mss : 1;
}

/*
 * New data [seq, seq + len) (and our FIN after it) went out at `now`: one record per
 * mss-sized piece, as the receiver will see them (a TSO super-segment is cut by the device
 * at the same boundaries). The caller reserved the records (tcp_sb_reserve).
 */
void tcp_sb_sent(struct tcp_sb *sb, uint32_t seq, uint32_t len, bool fin, uint32_t mss, usec_t now)
{
	if (!sb->n)
		sb->rtx_hint = seq;
	sb->xmit_order++;
	do {
		uint32_t piece = len < mss ? len : mss;
		struct tcp_txseg *r = sb_at(sb, sb->n++);
		r->seq = seq;
		r->end = seq + piece;
		r->sent = now;
		r->order = sb->xmit_order;
		r->marks = 0;
		r->xmits = 1;
		seq += piece;
		len -= piece;
		if (len == 0 && fin) {
			r->end++;
			r->marks = TCP_TX_FIN;
		}
	} while (len);
}

/* Cuts record i at `at` (inside it): the marks go to both halves. For a resend that must
 * be shorter than the record (the MSS shrank: path MTU, SACK options). */
int tcp_sb_split(struct tcp_layer *tl, struct tcp_sb *sb, uint32_t i, uint32_t at)
{
	if (tcp_sb_reserve(tl, sb, 1) != 0)
		return -ENOBUFS;
	for (uint32_t k = sb->n; k > i + 1; k--)
		*sb_at(sb, k) = *sb_at(sb, k - 1);
	sb->n++;
	struct tcp_txseg *a = sb_at(sb, i), *b = sb_at(sb, i + 1);
	*b = *a;
	a->end = at;
	a->marks &= (uint8_t)~TCP_TX_FIN;
	b->seq = at;
	return 0;
}

/*
 * A cumulative ACK: records wholly below `ack` leave the board; one cut by it keeps its
 * upper part. `each` is told of every record that leaves with bytes the peer had not
 * SACKed (RACK and the delivered count, tcp_recovery.c). Returns the bytes newly
 * delivered (not counting those already SACKed).
 */
uint32_t tcp_sb_cum_ack(struct tcp_conn *c, uint32_t ack, void (*each)(struct tcp_conn *, const struct tcp_txseg *))
{
	struct tcp_sb *sb = &c->sb;
	uint32_t delivered = 0;
	while (sb->n) {
		struct tcp_txseg *r = sb_at(sb, 0);
		if (seq_leq(r->end, ack)) {
			if (!(r->marks & TCP_TX_SACKED)) {
				delivered += seg_len(r);
				if (each)
					each(c, r);
			}
			tcp_sb_mark(sb, r, TCP_TX_SACKED, false);
			tcp_sb_mark(sb, r, TCP_TX_LOST, false);
			tcp_sb_mark(sb, r, TCP_TX_RETRANS, false);
			sb->head = (sb->head + 1) & (sb->cap - 1);
			sb->n--;
			continue;
		}
		if (seq_gt(ack, r->seq)) {
			/* Partly acknowledged: the totals lose the acknowledged part. */
			uint32_t cut = ack - r->seq;
			for (uint8_t m = TCP_TX_SACKED; m <= TCP_TX_RETRANS; m <<= 1)
				if (r->marks & m)
					*sb_total(sb, m) -= cut;
			if (!(r->marks & TCP_TX_SACKED))
				delivered += cut;
			r->seq = ack;
		}
		break;
	}
	if (!sb->n) {
		sb->sacked = sb->lost = sb->retrans = 0;
		/* An idle connection holds no board (as tcp_ring_release_if_empty); a large
		 * one, grown by a bulk flight, stays for the next. The count of transmissions
		 * goes on: RACK and the reordering window compare orders across the gap (the
		 * window's round, rec.reo_grown_order, is one such order). */
		if (sb->cap <= TCP_SB_MIN_SEGS) {
			uint32_t order = sb->xmit_order;
			tcp_sb_free(c->tl, sb);
			sb->xmit_order = order;
		}
	}
	return delivered;
}

/* RFC 6675 2 / RFC 8985: the bytes the network holds (RFC 6675's pipe). */
uint32_t tcp_sb_pipe(const struct tcp_conn *c)
{
	const struct tcp_sb *sb = &c->sb;
	uint32_t out = c->snd.max - c->snd.una;
	uint32_t gone = sb->sacked + sb->lost;
	return (out > gone ? out - gone : 0) + sb->retrans;
}

uint32_t tcp_dsack_segs(const struct tcp_conn *c, const struct tcp_sack_block *d)
{
	uint32_t mss = c->mss ? c->mss : 1;
	uint32_t segs = (d->end - d->start + mss - 1) / mss;
	return segs ? segs : 1;
}

/*
 * Checks the SACK blocks of an ACK and copies the usable ones to `out` (most useful
 * first, as received). Refused and counted, as Linux's tcp_is_sackblock_valid:
 *   - an empty or inverted block (start >= end)               SackDiscardMalformed
 *   - a block that claims data never sent (end > SND.MAX)     SackDiscardUnsent
 *   - a block wholly below SND.UNA that is not a D-SACK, or one
 *     reaching further back than the largest window          SackDiscardOld
 *   - a block that repeats bytes of an earlier block          SackOverlap (counted; marking
 *     is idempotent, so the overlap changes nothing)
 * The first block is a D-SACK (RFC 2883 4) when it starts below the ACK's own cumulative
 * ACK (`ack`: an old, reordered ACK carries blocks below SND.UNA that are plain SACKs) or
 * lies inside the second block; *dsack then receives it and it is not used for marking.
 * The wire parser already keeps at most TCP_SACK_MAX_BLOCKS (an option cannot hold more)
 * and flags an option of a wrong length (tcp_rec_ack counts it; the segment is kept).
 */
uint32_t tcp_sb_check_blocks(struct tcp_conn *c, const struct tcp_opts *o, uint32_t ack,
                             struct tcp_sack_block *out, struct tcp_sack_block *dsack, bool *has_dsack)
{
	struct tcp_layer *tl = c->tl;
	uint32_t n = 0;
	uint32_t max_wnd = c->snd.max_wnd > 65535u ? c->snd.max_wnd : 65535u;
	*has_dsack = false;
	for (uint32_t i = 0; i < o->sack_count; i++) {
		struct tcp_sack_block b = o->sack[i];
		if (!seq_lt(b.start, b.end) || b.end - b.start > max_wnd + 1u) {
			tl->ctr.SackDiscardMalformed++;
			continue;
		}
		if (seq_gt(b.end, c->snd.max)) {
			tl->ctr.SackDiscardUnsent++;
			continue;
		}
		if (i == 0) {
			bool below = seq_lt(b.start, ack);
			bool inside = o->sack_count > 1 && seq_geq(b.start, o->sack[1].start) &&
			              seq_leq(b.end, o->sack[1].end);
			if (below || inside) {
				/* RFC 2883 4.1.1/5: a D-SACK; one reaching before anything we could
				 * have sent in this window is old (Linux: undo_marker check). */
				if (seq_lt(b.start, c->snd.una - max_wnd)) {
					tl->ctr.SackDiscardOld++;
					continue;
				}
				tl->ctr.DsackRecv++;
				/* Linux tcp_dsack_seen: more duplicates reported than segments ever
				 * resent is dubious (the peer's, or the network's duplicates):
				 * ignored. */
				c->dsack_dups += tcp_dsack_segs(c, &b);
				if (c->dsack_dups > c->total_retrans) {
					tl->ctr.DsackIgnoredDubious++;
					continue;
				}
				*dsack = b;
				*has_dsack = true;
				continue;
			}
		}
		if (seq_leq(b.end, c->snd.una)) {
			tl->ctr.SackDiscardOld++;
			continue;
		}
		if (seq_lt(b.start, c->snd.una))
			b.start = c->snd.una;
		bool overlap = false;
		for (uint32_t k = 0; k < n; k++)
			if (seq_lt(b.start, out[k].end) && seq_lt(out[k].start, b.end))
				overlap = true;
		if (overlap)
			tl->ctr.SackOverlap++;
		out[n++] = b;
	}
	return n;
}

/*
 * Marks SACKED every record that one of the blocks covers whole (a record only partly
 * covered stays unmarked, as Linux leaves a one-MSS skb unsplit). `each` is told of every
 * record newly SACKed. Returns the bytes newly SACKed.
 */
uint32_t tcp_sb_tag(struct tcp_conn *c, const struct tcp_sack_block *blk, uint32_t nblk,
                    void (*each)(struct tcp_conn *, const struct tcp_txseg *))
{
	struct tcp_sb *sb = &c->sb;
	uint32_t newly = 0;
	for (uint32_t k = 0; k < nblk; k++) {
		for (uint32_t i = sb_find(sb, blk[k].start); i < sb->n; i++) {
			struct tcp_txseg *r = sb_at(sb, i);
			if (seq_geq(r->seq, blk[k].end))
				break;
			if (seq_lt(r->seq, blk[k].start) || seq_gt(r->end, blk[k].end) || (r->marks & TCP_TX_SACKED))
				continue;
			tcp_sb_mark(sb, r, TCP_TX_SACKED, true);
			tcp_sb_mark(sb, r, TCP_TX_LOST, false);
			tcp_sb_mark(sb, r, TCP_TX_RETRANS, false);
			newly += seg_len(r);
			if (sb->sacked == seg_len(r) || seq_gt(r->end, sb->high_sacked))
				sb->high_sacked = r->end;
			if (each)
				each(c, r);
		}
	}
	return newly;
}

/* Whether the records of a D-SACK block were retransmitted (RFC 3708: then the
 * retransmission was spurious). */
bool tcp_sb_dsack_retransmitted(const struct tcp_conn *c, const struct tcp_sack_block *b)
{
	const struct tcp_sb *sb = &c->sb;
	/* Acknowledged records have left the board: a D-SACK below SND.UNA names bytes the
	 * caller judges by the undo count alone. */
	for (uint32_t i = 0; i < sb->n; i++) {
		const struct tcp_txseg *r = sb_at(sb, i);
		if (seq_geq(r->seq, b->end))
			break;
		if (seq_gt(r->end, b->start) && (r->marks & TCP_TX_EVER_RETRANS))
			return true;
	}
	return false;
}

/*
 * RFC 6675 4 "IsLost" (used when RACK is off, cfg.recovery = 0): a record is lost when
 * more than (DupThresh - 1) * SMSS bytes above it are SACKed. Returns the bytes newly
 * marked lost.
 */
uint32_t tcp_sb_mark_dupthresh(struct tcp_conn *c, uint32_t dupthresh)
{
	struct tcp_sb *sb = &c->sb;
	uint32_t above = 0, newly = 0;
	if (!sb->sacked)
		return 0;
	for (uint32_t i = sb->n; i-- > 0;) {
		struct tcp_txseg *r = sb_at(sb, i);
		if (r->marks & TCP_TX_SACKED) {
			above += seg_len(r);
			continue;
		}
		if (above > (dupthresh - 1) * c->mss && !(r->marks & TCP_TX_LOST)) {
			tcp_sb_mark(sb, r, TCP_TX_LOST, true);
			newly += seg_len(r);
		}
	}
	return newly;
}

/*
 * An RTO (RFC 6675 5.1, Linux tcp_enter_loss): every record not SACKed is lost and no
 * retransmission is in flight any more. SACK marks are kept, unless the first record is
 * SACKed: a receiver that SACKed SND.UNA's segment but does not ACK it has reneged (RFC
 * 2018 8), so all marks are dropped and everything is resent.
 */
void tcp_sb_mark_all_lost(struct tcp_conn *c)
{
	struct tcp_sb *sb = &c->sb;
	bool reneged = sb->n && (sb_at(sb, 0)->marks & TCP_TX_SACKED);
	sb->rtx_hint = c->snd.una;
	if (reneged)
		c->tl->ctr.SackReneging++;
	for (uint32_t i = 0; i < sb->n; i++) {
		struct tcp_txseg *r = sb_at(sb, i);
		if (reneged)
			tcp_sb_mark(sb, r, TCP_TX_SACKED, false);
		tcp_sb_mark(sb, r, TCP_TX_RETRANS, false);
		if (!(r->marks & TCP_TX_SACKED))
			tcp_sb_mark(sb, r, TCP_TX_LOST, true);
	}
}

/* Undo (RFC 3708, RFC 5682): the losses were not real; no record stays lost. */
void tcp_sb_clear_lost(struct tcp_conn *c)
{
	struct tcp_sb *sb = &c->sb;
	for (uint32_t i = 0; i < sb->n && sb->lost; i++) {
		struct tcp_txseg *r = sb_at(sb, i);
		if (!(r->marks & TCP_TX_RETRANS))
			tcp_sb_mark(sb, r, TCP_TX_LOST, false);
	}
}

/*
 * The first record that is lost and not yet resent (RFC 6675 NextSeg rule 1), or -1. The
 * search starts at rtx_hint, below which every lost record has been resent, so a recovery
 * walks the board once, not once per segment.
 */
int64_t tcp_sb_next_lost(struct tcp_conn *c)
{
	struct tcp_sb *sb = &c->sb;
	if (!sb->lost)
		return -1;
	for (uint32_t i = sb_find(sb, sb->rtx_hint); i < sb->n; i++) {
		const struct tcp_txseg *r = sb_at(sb, i);
		if ((r->marks & (TCP_TX_LOST | TCP_TX_RETRANS | TCP_TX_SACKED)) == TCP_TX_LOST) {
			sb->rtx_hint = r->seq;
			return i;
		}
	}
	sb->rtx_hint = c->snd.max;
	return -1;
}

/* Record i was resent now. */
void tcp_sb_retransmitted(struct tcp_sb *sb, uint32_t i, uint32_t n, usec_t now)
{
	sb->xmit_order++;
	for (uint32_t k = 0; k < n; k++) {
		struct tcp_txseg *r = sb_at(sb, i + k);
		r->sent = now;
		r->order = sb->xmit_order;
		if (r->xmits < 255)
			r->xmits++;
		r->marks |= TCP_TX_EVER_RETRANS;
		r->marks &= (uint8_t)~TCP_TX_RACK_JUDGED;
		tcp_sb_mark(sb, r, TCP_TX_RETRANS, true);
	}
}

/* Linux tcp_simple_retransmit with the scoreboard: the path MTU shrank, so every record
 * longer than the new MSS is lost (resent in pieces by tcp_rec_resend), not congestion. */
void tcp_sb_mark_too_big(struct tcp_conn *c)
{
	struct tcp_sb *sb = &c->sb;
	for (uint32_t i = 0; i < sb->n; i++) {
		struct tcp_txseg *r = sb_at(sb, i);
		uint32_t data = seg_len(r) - !!(r->marks & TCP_TX_FIN);
		if (data > c->mss && !(r->marks & TCP_TX_SACKED)) {
			tcp_sb_mark(sb, r, TCP_TX_RETRANS, false);
			tcp_sb_mark(sb, r, TCP_TX_LOST, true);
		}
	}
}

/*
 * The receiving side of RFC 2883: a segment repeated bytes [start, end) we already had;
 * the next ACK carries them as its first SACK block (tcp_output.c), once. Only with SACK
 * negotiated and D-SACK on (Linux tcp_dsack_set).
 */
void tcp_dsack_set(struct tcp_conn *c, uint32_t start, uint32_t end)
{
	if (!c->sack_ok || !c->tl->cfg.dsack || !seq_lt(start, end))
		return;
	c->dsack.start = start;
	c->dsack.end = end;
	c->dsack_pending = true;
	c->tl->ctr.DsackSent++;
}

void tcp_dsack_extend(struct tcp_conn *c, uint32_t start, uint32_t end)
{
	if (!c->dsack_pending) {
		tcp_dsack_set(c, start, end);
		return;
	}
	/* Linux tcp_sack_extend: only a range that touches the block joins it. */
	if (seq_leq(start, c->dsack.end) && seq_leq(c->dsack.start, end)) {
		if (seq_lt(start, c->dsack.start))
			c->dsack.start = start;
		if (seq_gt(end, c->dsack.end))
			c->dsack.end = end;
	}
}
