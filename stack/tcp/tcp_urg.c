/*
 * tcp_urg.c - urgent data (RFC 9293 3.8.5 and 3.10.7.4 sixth, RFC 1122 4.2.2.4, RFC 6093),
 * as Linux implements it: send(MSG_OOB), the URG step of input, recv(MSG_OOB), SIOCATMARK
 * and SO_OOBINLINE.
 *
 * The urgent pointer says "urgent data ends here" in the byte stream. RFC 1122 4.2.2.4 made
 * it point at the last urgent byte; BSD, and Linux after it, point one past it, and RFC
 * 6093 changed RFC 1122 to match them, as RFC 9293 says it (MUST-62). tapstack points one
 * past it too. On the socket side only the last urgent byte is special: unless
 * SO_OOBINLINE, it is taken out of the stream ("out of band") and read with recv(MSG_OOB),
 * once; reads stop at it (the mark), so an application can tell what came before. That
 * one-byte view is BSD's and Linux's, not RFC 9293's urgent data "of any length" (MUST-31).
 * docs/tcp.md "Urgent data" tells the whole story.
 *
 * Sending: tcp_urg_mark() puts SND.UP one past the last byte of the urgent write (Linux's
 * snd_up) and enters urgent mode; every segment that starts before SND.UP then carries URG
 * and the pointer relative to its own first byte (tcp_urg_hdr, called for every segment
 * of a connection, retransmissions and pure ACKs included, as Linux's tcp_transmit_skb);
 * urgent mode ends when SND.UNA reaches SND.UP (tcp_urg_acked).
 *
 * Receiving: rcv.up is the sequence number of the urgent byte (Linux's urg_seq) and
 * urg_state what is known of it: announced (TCP_URG_NOTYET), arrived with its value kept
 * in urg_byte (TCP_URG_VALID, POLLPRI), or read by recv(MSG_OOB) (TCP_URG_READ). The byte
 * stays in the receive queue; tcp_recv asks tcp_urg_plan() where to stop and whether to
 * pass over it. Memory: one byte per connection, whatever the peer sends.
 *
 * Called by tcp_input.c (the sixth step), tcp_output.c (headers, TSO), tcp_conn.c (send
 * and receive) and tcp.c (poll). SIGURG is not raised: tapstack sockets have no owner
 * process (no F_SETOWN).
 */
#include "tcp/tcp_int.h"

#include <errno.h>
#include <string.h>

uint32_t tcp_copied_seq(const struct tcp_conn *c)
{
	return c->rcv.nxt - c->rcvq.bytes - ((c->flags & TCP_F_FIN_RCVD) ? 1u : 0u);
}

/* ---- sending ---- */

void tcp_urg_mark(struct tcp_conn *c)
{
	c->snd.up = c->snd.una + c->sndq.len; /* Linux tcp_mark_urg: snd_up = write_seq */
	c->flags |= TCP_F_URG_MODE;
}

bool tcp_urg_in(const struct tcp_conn *c, uint32_t seq)
{
	return (c->flags & TCP_F_URG_MODE) && seq_lt(seq, c->snd.up);
}

void tcp_urg_hdr(const struct tcp_conn *c, struct tcp_hdr *h)
{
	if (!tcp_urg_in(c, h->seq))
		return;
	uint32_t off = c->snd.up - h->seq;
	if (off < 0x10000u) {
		h->urg = (uint16_t)off;
		h->flags |= TCP_FLAG_URG;
	} else if (seq_gt(h->seq + 0xffffu, c->snd.nxt)) {
		/* The mark is further than 16 bits reach: Linux sends the largest pointer,
		 * "urgent data follows", on a segment near SND.NXT, and no URG on others. */
		h->urg = 0xffffu;
		h->flags |= TCP_FLAG_URG;
	}
}

void tcp_urg_acked(struct tcp_conn *c)
{
	if ((c->flags & TCP_F_URG_MODE) && seq_geq(c->snd.una, c->snd.up))
		c->flags &= ~TCP_F_URG_MODE;
}

/* ---- receiving ---- */

/* The byte at the read head leaves the stream unread (its window share with it). */
static void tcp_urg_pass_head(struct tcp_conn *c)
{
	uint32_t before = c->rcvq.bytes;
	tcp_rcvq_read(c, NULL, 1, 0, true);
	tcp_rwnd_read(c, 1, before);
}

/* A segment with URG (Linux tcp_check_urg): a new urgent pointer, unless it is old news. */
static void tcp_urg_check(struct tcp_conn *c, const struct tcp_seg *seg)
{
	uint32_t ptr = seg->h.urg;
	if (ptr)
		ptr--; /* one past the urgent byte (BSD, RFC 6093): the byte itself */
	ptr += seg->seq;
	uint32_t copied = tcp_copied_seq(c);
	if (seq_gt(copied, ptr))
		return; /* read already */
	/* A pointer into what arrived before is not replayed (its byte may sit unread in the
	 * queue; Linux ignores it too). */
	if (seq_lt(ptr, c->rcv.nxt))
		return;
	if (c->urg_state != TCP_URG_NONE && !seq_gt(ptr, c->rcv.up))
		return; /* the same mark again, or an older one */
	/* A new mark while the old urgent byte is the next to read: Linux drops that byte from
	 * the stream now (it would otherwise be read as data once the mark moved on). */
	if (c->urg_state != TCP_URG_NONE && c->rcv.up == copied && !c->opts.oobinline && c->rcvq.bytes)
		tcp_urg_pass_head(c);
	c->urg_state = TCP_URG_NOTYET;
	c->rcv.up = ptr;
}

void tcp_urg_input(struct tcp_conn *c, const struct tcp_seg *seg)
{
	if (c->state != TCPS_ESTABLISHED && c->state != TCPS_FIN_WAIT_1 && c->state != TCPS_FIN_WAIT_2)
		return; /* CLOSE-WAIT, CLOSING, LAST-ACK: "this should not occur ... ignore" */
	if (seg->flags & TCP_FLAG_URG)
		tcp_urg_check(c, seg);
	if (c->urg_state != TCP_URG_NOTYET)
		return;
	/* Linux tcp_urg: the urgent byte is kept aside as it goes by, in order or not. */
	uint32_t off = c->rcv.up - (seg->seq + ((seg->flags & TCP_FLAG_SYN) ? 1u : 0u));
	if (off < seg->dlen) {
		c->urg_byte = seg->data[off];
		c->urg_state = TCP_URG_VALID;
	}
}

bool tcp_conn_atmark(const struct tcp_conn *c)
{
	return c->urg_state != TCP_URG_NONE && c->rcv.up == tcp_copied_seq(c);
}

uint32_t tcp_urg_plan(const struct tcp_conn *c, uint32_t *want)
{
	if (c->urg_state == TCP_URG_NONE)
		return 0;
	uint32_t off = c->rcv.up - tcp_copied_seq(c);
	if (off == 0)
		return c->opts.oobinline ? 0 : 1; /* at the mark: read from it, or past the byte */
	if (off < *want)
		*want = off; /* Linux tcp_recvmsg: a read stops at the mark */
	return 0;
}

void tcp_urg_consumed(struct tcp_conn *c)
{
	if (c->urg_state != TCP_URG_NONE && seq_gt(tcp_copied_seq(c), c->rcv.up))
		c->urg_state = TCP_URG_NONE; /* the mark is behind the reader: forgotten */
}

uint32_t tcp_urg_hidden(const struct tcp_conn *c)
{
	return tcp_conn_atmark(c) && !c->opts.oobinline ? 1u : 0u;
}

bool tcp_urg_pending(const struct tcp_conn *c)
{
	return c->urg_state == TCP_URG_VALID;
}

long tcp_recv_urg(struct tcp_conn *c, void *buf, size_t len, bool peek)
{
	/* Linux tcp_recv_urg, in its order. */
	if (c->opts.oobinline || c->urg_state == TCP_URG_NONE || c->urg_state == TCP_URG_READ)
		return -EINVAL;
	if (c->state == TCPS_CLOSED && !(c->flags & TCP_F_FIN_RCVD))
		return -ENOTCONN;
	if (c->urg_state == TCP_URG_VALID) {
		if (!peek)
			c->urg_state = TCP_URG_READ;
		if (len == 0)
			return 0; /* Linux reports MSG_TRUNC */
		memcpy(buf, &c->urg_byte, 1);
		return 1;
	}
	if (c->state == TCPS_CLOSED || (c->flags & (TCP_F_FIN_RCVD | TCP_F_RCV_SHUT)))
		return 0;
	return -EAGAIN; /* announced, not arrived: never waits, even on a blocking socket */
}
