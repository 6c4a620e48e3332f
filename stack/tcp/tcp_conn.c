/*
 * tcp_conn.c - the user calls of RFC 9293 3.10.1-3.10.6 (OPEN, SEND, RECEIVE, CLOSE, ABORT)
 * as the socket layer needs them: active open, send into the ring, receive from the ring,
 * shutdown, close and abort.
 *
 * Called by stack/socket/socket.c only. Errors are negative errno values, as Linux's
 * tcp_sendmsg/tcp_recvmsg report them. A connection whose socket closed is marked
 * orphan and freed by TCP once it reaches CLOSED (or turned into a TIME-WAIT entry).
 */
#include "tcp/tcp_int.h"

#include <errno.h>
#include <sys/socket.h>

static bool tcp_tuple_free(struct tcp_layer *tl, uint32_t laddr, uint16_t lport, uint32_t raddr, uint16_t rport)
{
	return tcp_hash_lookup4(&tl->conns, laddr, lport, raddr, rport) == NULL;
}

struct tcp_conn *tcp_connect(struct tcp_layer *tl, uint32_t laddr, uint16_t lport, uint32_t raddr,
                             uint16_t rport, const struct tcp_sockopts *o, int *err)
{
	if (laddr == 0)
		laddr = tcp_local_addr(tl, raddr);
	if (lport == 0) {
		/* An ephemeral port whose 4-tuple is free (Linux __inet_hash_connect, minus the
		 * per-destination offset): random start, linear probe. */
		uint32_t range = (uint32_t)tl->cfg.port_hi - tl->cfg.port_lo + 1;
		uint32_t start = rng_u32(&tl->core->rng) % range;
		for (uint32_t i = 0; i < range; i++) {
			uint16_t p = (uint16_t)(tl->cfg.port_lo + (start + i) % range);
			if (!tl->ports[p].binds && !tcp_listener_port_conflict(tl, 0, p) &&
			    tcp_tuple_free(tl, laddr, p, raddr, rport)) {
				lport = p;
				break;
			}
		}
		if (lport == 0) {
			*err = -EADDRNOTAVAIL;
			return NULL;
		}
	} else if (!tcp_tuple_free(tl, laddr, lport, raddr, rport)) {
		*err = -EADDRNOTAVAIL;
		return NULL;
	}
	struct tcp_conn *c = tcp_conn_alloc(tl, o);
	if (!c) {
		*err = tl->nconns >= tl->cfg.max_conns ? -ENOBUFS : -ENOMEM;
		return NULL;
	}
	c->hn.laddr = laddr;
	c->hn.lport = lport;
	c->hn.raddr = raddr;
	c->hn.rport = rport;
	c->snd.iss = tcp_isn(tl, laddr, lport, raddr, rport);
	c->snd.una = c->snd.nxt = c->snd.max = c->snd.iss;
	c->wq_tail = c->pushed_seq = c->snd.iss + 1; /* data starts after the SYN */
	c->wscale_ok = tl->cfg.window_scaling;
	c->rcv_wscale = c->wscale_ok ? tcp_wscale_for(tl, o) : 0;
	c->ts_offset = tcp_ts_offset_for(c->snd.iss);
	c->rtt_start = tl->core->now;
	tcp_conns_insert(tl, &c->hn);
	tcp_set_state(c, TCPS_SYN_SENT);
	tl->ctr.ActiveOpens++;
	tcp_output(c);
	return c;
}

long tcp_send(struct tcp_conn *c, const void *buf, size_t len, unsigned flags)
{
	return tcp_send_from(c, tcp_fill_mem, (void *)(uintptr_t)buf, len, flags);
}

long tcp_send_from(struct tcp_conn *c, tcp_fill_fn fill, void *ctx, size_t len, unsigned flags)
{
	if (c->state == TCPS_SYN_SENT || c->state == TCPS_SYN_RECEIVED)
		return -EAGAIN; /* Linux waits for the handshake (sk_stream_wait_connect) */
	if (c->err)
		return -tcp_conn_take_error(c);
	if (c->flags & (TCP_F_SND_SHUT | TCP_F_FIN_QUEUED))
		return -EPIPE;
	if (c->state != TCPS_ESTABLISHED && c->state != TCPS_CLOSE_WAIT)
		return (c->flags & TCP_F_RESET) || c->state != TCPS_CLOSED ? -EPIPE : -ENOTCONN;
	if (len == 0)
		return 0;
	/* Linux tcp_sendmsg_locked: the bytes go into the unsent tail skb while it has room,
	 * then into new skbs while the queue's memory is below SO_SNDBUF (tcp_buf.c). A writer
	 * turned away is marked (Linux SOCK_NOSPACE) so the ACK that makes room wakes it. */
	if (!tcp_sndq_has_room(c)) {
		c->flags |= TCP_F_NOSPACE;
		return -EAGAIN;
	}
	if (flags & TCP_SEND_EOR) {
		if (!tcp_marks_get(c))
			return -ENOMEM; /* nowhere to mark the record's end (MarksNoMemory) */
		tcp_eor_limit(c, c->snd.una, 0); /* forget acknowledged records */
		if (c->marks->eor_count == TCP_EOR_MARKS)
			return -EAGAIN; /* as Linux, whose every record costs an skb of the send buffer */
	}
	if (c->sndq.len == 0)
		tcp_chrono_start(c, TCP_CHRONO_BUSY); /* data queued: the sender is busy */
	/* MSG_MORE corks this call's own push only (Linux tcp_push: TCP_NAGLE_CORK for it);
	 * an ACK or a timer later sends by the socket's own Nagle setting. */
	if (flags & TCP_SEND_MORE)
		c->flags |= TCP_F_MORE;
	if (flags & TCP_SEND_OOB)
		c->flags |= TCP_F_SEND_OOB;
	long n = tcp_sndq_fill(c, fill, ctx, len > UINT32_MAX ? UINT32_MAX : (uint32_t)len, (flags & TCP_SEND_MORE) != 0);
	c->flags &= ~TCP_F_SEND_OOB;
	if (n < (long)len)
		c->flags |= TCP_F_NOSPACE;
	if (n <= 0) {
		c->flags &= ~TCP_F_MORE;
		return n;
	}
	if (flags & TCP_SEND_OOB)
		tcp_urg_mark(c); /* the last byte queued is urgent (Linux tcp_push's tcp_mark_urg) */
	if ((flags & TCP_SEND_EOR) && (size_t)n == len) {
		/* Linux marks the record's end only once the whole message is in (tcp_sendmsg). */
		struct tcp_marks *m = c->marks; /* allocated above; only an ACK's drain frees it */
		m->eor[(m->eor_head + m->eor_count) % TCP_EOR_MARKS] = c->snd.una + c->sndq.len;
		m->eor_count++;
	}
	tcp_output(c);
	c->flags &= ~TCP_F_MORE;
	return n;
}

long tcp_recv(struct tcp_conn *c, void *buf, size_t len, bool peek)
{
	if (c->rcvq.bytes) {
		/* The one copy of received payload: from the pbufs it arrived in (tcp_buf.c). A
		 * read stops at the urgent mark and passes over the out-of-band byte (tcp_urg.c). */
		uint32_t before = c->rcvq.bytes;
		uint32_t want = len > UINT32_MAX ? UINT32_MAX : (uint32_t)len;
		uint32_t skip = want ? tcp_urg_plan(c, &want) : 0;
		uint32_t n = tcp_rcvq_read(c, buf, skip, want, !peek);
		if (!peek) {
			tcp_rwnd_read(c, n + skip, before);
			tcp_urg_consumed(c);
			tcp_rcvbuf_read(c);
			tcp_rcv_window_update(c, n + skip);
		}
		if (n || !skip)
			return (long)n;
		/* Only the out-of-band byte was there: as if nothing had been (Linux). */
	}
	if (len == 0)
		return 0;
	if (c->err)
		return -tcp_conn_take_error(c);
	if (c->flags & (TCP_F_FIN_RCVD | TCP_F_RCV_SHUT | TCP_F_RESET))
		return 0;
	if (c->state == TCPS_SYN_SENT || c->state == TCPS_SYN_RECEIVED)
		return -EAGAIN;
	if (c->state == TCPS_CLOSED)
		return -ENOTCONN;
	return -EAGAIN;
}

uint32_t tcp_inq(const struct tcp_conn *c)
{
	return c->rcvq.bytes;
}

uint32_t tcp_outq(const struct tcp_conn *c, bool notsent)
{
	if (c->state == TCPS_SYN_SENT || c->state == TCPS_SYN_RECEIVED)
		return 0;
	uint32_t sent = c->snd.nxt - c->snd.una;
	if (!notsent)
		return c->sndq.len;
	return c->sndq.len > sent ? c->sndq.len - sent : 0;
}

uint32_t tcp_conn_wmem_queued(const struct tcp_conn *c)
{
	uint64_t q = tcp_wmem_queued(c);
	return q > UINT32_MAX ? UINT32_MAX : (uint32_t)q;
}

/* RFC 9293 3.10.4 CLOSE for the sending side: queue the FIN after the data. */
static void tcp_queue_fin(struct tcp_conn *c)
{
	switch (c->state) {
	case TCPS_SYN_RECEIVED:
	case TCPS_ESTABLISHED:
		c->flags |= TCP_F_FIN_QUEUED | TCP_F_SND_SHUT;
		tcp_set_state(c, TCPS_FIN_WAIT_1);
		break;
	case TCPS_CLOSE_WAIT:
		c->flags |= TCP_F_FIN_QUEUED | TCP_F_SND_SHUT;
		tcp_set_state(c, TCPS_LAST_ACK);
		break;
	default:
		return;
	}
	tcp_output(c);
}

int tcp_shutdown(struct tcp_conn *c, int how)
{
	if (how != SHUT_RD && how != SHUT_WR && how != SHUT_RDWR)
		return -EINVAL;
	if (c->state == TCPS_CLOSED && !(c->flags & (TCP_F_FIN_RCVD | TCP_F_RESET)))
		return -ENOTCONN;
	if (how == SHUT_RD || how == SHUT_RDWR)
		c->flags |= TCP_F_RCV_SHUT; /* Linux: no segment; reads return 0 once drained */
	if (how == SHUT_WR || how == SHUT_RDWR) {
		if (c->state == TCPS_SYN_SENT) {
			tcp_conn_done(c);
			return 0;
		}
		tcp_queue_fin(c);
	}
	return 0;
}

void tcp_close(struct tcp_conn *c)
{
	struct tcp_layer *tl = c->tl;
	c->flags |= TCP_F_ORPHAN;
	c->owner = 0; /* nobody polls an orphan */
	switch (c->state) {
	case TCPS_CLOSED:
		tcp_conn_free(c);
		return;
	case TCPS_SYN_SENT:
		tcp_conn_done(c);
		return;
	default:
		break;
	}
	/* Linux tcp_close: unread data, or SO_LINGER with a zero timeout, aborts with a RST
	 * (RFC 9293 3.10.4 allows it; RFC 2525 2.17 recommends it for unread data). */
	bool unread = c->rcvq.bytes != 0;
	bool linger0 = c->opts.linger_on && c->opts.linger_s == 0;
	if (unread || linger0) {
		if (unread)
			tl->ctr.AbortOnClose++;
		else
			tl->ctr.AbortOnLinger++;
		tcp_send_rst_conn(c);
		tcp_conn_abort(c, ECONNRESET);
		return;
	}
	if (c->state == TCPS_FIN_WAIT_2 && c->opts.linger2_s < 0) {
		/* Linux tcp_close with TCP_LINGER2 < 0: no FIN-WAIT-2 hold, a RST at once. */
		tl->ctr.AbortOnLinger++;
		tcp_send_rst_conn(c);
		tcp_conn_abort(c, ECONNRESET);
		return;
	}
	c->flags |= TCP_F_RCV_SHUT;
	tcp_queue_fin(c);
	if (c->state == TCPS_FIN_WAIT_2)
		tcp_arm_misc(c, tl->core->now + tcp_fin_timeout_us(c));
}

void tcp_conn_opts_changed(struct tcp_conn *c)
{
	if (c->opts.cc && c->opts.cc != c->cc)
		tcp_cc_select(c, c->opts.cc); /* TCP_CONGESTION */
	bool ka_state = c->state == TCPS_ESTABLISHED || c->state == TCPS_CLOSE_WAIT;
	if (c->opts.keepalive && ka_state && !timer_armed(&c->misc_timer)) {
		tcp_arm_keepalive(c); /* SO_KEEPALIVE just set: idle counts from now, as Linux */
	} else if (c->opts.keepalive && ka_state && c->ka_probes == 0) {
		/* Linux tcp_sock_set_keepidle: a new TCP_KEEPIDLE counts from the last segment
		 * received. */
		usec_t at = c->last_rcv + (usec_t)tcp_keepidle_s(c->tl, &c->opts) * USEC_PER_SEC;
		tcp_arm_misc(c, at > c->tl->core->now ? at : c->tl->core->now);
	} else if (c->opts.keepalive && c->state >= TCPS_ESTABLISHED && !timer_armed(&c->misc_timer)) {
		tcp_arm_keepalive(c);
	}
	if (c->state >= TCPS_ESTABLISHED)
		tcp_output(c); /* TCP_NODELAY set or TCP_CORK cleared: send what waited */
}

void tcp_conn_push(struct tcp_conn *c)
{
	c->flags |= TCP_F_PUSH_ONCE;
}

bool tcp_conn_unacked(const struct tcp_conn *c)
{
	return c->sndq.len != 0 || c->state == TCPS_FIN_WAIT_1 || c->state == TCPS_CLOSING ||
	       c->state == TCPS_LAST_ACK;
}
