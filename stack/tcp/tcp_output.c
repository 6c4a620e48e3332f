/*
 * tcp_output.c - everything TCP sends: data and control segments of a connection
 * (tcp_output, the one place that decides what the state, the flags and the windows call
 * for, as BSD's tcp_output), SYN-ACKs of SYN-queue requests, TIME-WAIT ACKs, challenge ACKs
 * (RFC 5961 7) and every RST (tcp_send_rst_for, RFC 9293 3.10.7.1 / 3.5.2).
 *
 * Segments are built into a fresh pbuf (header only) whose payload references the send
 * ring through pbuf->ext: the payload is not copied here; ipv4_output() consumes the pbuf
 * before the ring can change, or, with a late device, the ring keeps the lent bytes in place
 * until the device's flush (tcp_ring_lend, tcp_buf.c). Options follow Linux's order (wire/tcp.c).
 *
 * Called by tcp_input.c and tcp_listen.c after input, tcp_conn.c after user calls,
 * tcp_timer.c on expiry. Owns nothing.
 */
#include "tcp/tcp_int.h"

#include <errno.h>
#include <netinet/in.h>
#include <string.h>

#include "core/checksum.h"
#include "ip/ip.h"

uint32_t tcp_rcvbuf_cap(const struct tcp_conn *c)
{
	return c->opts.rcvbuf ? c->opts.rcvbuf : 1;
}

uint32_t tcp_flight(const struct tcp_conn *c)
{
	return c->snd.nxt - c->snd.una;
}

/*
 * Builds and sends one segment. payload/npieces: borrowed bytes (ext). gso: 0, or the MSS
 * of a TSO super-segment (the device cuts it into gso-byte segments). Returns 0 or -errno.
 * The pbuf goes to ipv4_output(), which always consumes it.
 *
 * Checksum (RFC 9293 3.1 "Checksum"): in software over the pseudo-header, the header and
 * the payload; or, when the device offloads it (cfg.csum_offload), only the pseudo-header
 * sum goes into the field, uncomplemented, and PBUF_F_CSUM_PARTIAL asks the device to add
 * the rest (virtio's F_NEEDS_CSUM, Linux's CHECKSUM_PARTIAL): 64 KiB are never summed
 * here. For a super-segment the pseudo-header's length is the whole segment's; the kernel
 * corrects it for each piece it cuts.
 */
/* TSO's payload bound for c's segments, 0 = no TSO. A connection to ourselves (our address,
 * 127.x) has no device to cut super-segments: they would go round the loop whole, each in a
 * 64 KiB buffer however little it holds, and the receiver's memory would count that
 * (tcp_rmem_fits). It sends MSS-sized segments, each in a buffer its size (docs/ipv4.md). */
static uint32_t tcp_gso_max(const struct tcp_conn *c)
{
	const struct tcp_layer *tl = c->tl;
	return tl->ip && ip_addr_is_local(tl->ip, c->hn.raddr) ? 0 : tl->cfg.gso_max;
}

/* A connection's IP header choice: its IP_TOS and IP_TTL as they are now (set any time). */
static struct ip_hdr_choice tcp_conn_iphdr(const struct tcp_conn *c)
{
	return (struct ip_hdr_choice){ .tos = c->opts.tos, .ttl = c->opts.ttl };
}

static int tcp_emit(struct tcp_layer *tl, uint32_t src, uint32_t dst, struct tcp_hdr *h,
                    const struct pbuf_ext *payload, int npieces, struct ip_hdr_choice hc, uint16_t gso)
{
	uint32_t plen = 0;
	for (int i = 0; i < npieces; i++)
		plen += payload[i].len;
	uint32_t hlen = (uint32_t)(TCP_HDR_MIN + tcp_opts_len(&h->opts));
	struct pbuf *pb = pbuf_alloc(&tl->core->pool, PBUF_HEADROOM, hlen);
	if (!pb) {
		tl->ctr.OutputNoMemory++;
		return -ENOBUFS;
	}
	uint8_t *p = pbuf_put(pb, hlen);
	h->csum = 0;
	tcp_hdr_emit(p, h);
	for (int i = 0; i < npieces; i++)
		pb->ext[i] = payload[i];
	if (src == 0)
		src = tcp_local_addr(tl, dst);
	uint32_t sum = csum_pseudo_ipv4(src, dst, IPPROTO_TCP, (uint16_t)(pb->len + plen));
	if (tl->cfg.csum_offload) {
		put_be16(pb->data + TCP_OFF_CSUM, (uint16_t)~csum_finish(sum));
		pb->flags |= PBUF_F_CSUM_PARTIAL;
	} else {
		/* The header has an even length; where the ring wraps after an odd number of
		 * bytes the second piece is summed one byte off (csum_add_odd), not copied. */
		sum = csum_add(sum, pb->data, pb->len);
		if (npieces)
			sum = csum_add(sum, pb->ext[0].ptr, pb->ext[0].len);
		if (npieces == 2)
			sum = (pb->ext[0].len & 1u) ? csum_add_odd(sum, pb->ext[1].ptr, pb->ext[1].len)
			                            : csum_add(sum, pb->ext[1].ptr, pb->ext[1].len);
		put_be16(pb->data + TCP_OFF_CSUM, csum_finish(sum));
	}
	pb->gso_size = gso;
	tl->ctr.OutSegs++;
	if (h->flags & TCP_FLAG_RST)
		tl->ctr.OutRsts++;
	if (tl->core->log.trace) {
		/* Debug lines: --trace prints the frame itself when the driver sends it; this one
		 * also shows segments built without an IP layer (unit tests). */
		char line[320];
		tcp_hdr_format(line, sizeof(line), h, plen);
		if (tl->ip)
			LOG_DEBUG(&tl->core->log, "tcp out %u > %u: %s", h->sport, h->dport, line);
		else
			LOG_TRACE(&tl->core->log, "tcp out %u > %u: %s", h->sport, h->dport, line);
	}
	if (!tl->ip) {
		pbuf_free(pb);
		return 0;
	}
	return ipv4_output(tl->ip, pb, src, dst, IPPROTO_TCP, hc);
}

uint32_t tcp_mss_now(const struct tcp_conn *c)
{
	uint32_t num_sacks = tcp_num_sacks(c);
	if (!c->sack_ok || (!num_sacks && !c->dsack_pending))
		return c->mss;
	uint32_t n = num_sacks + c->dsack_pending;
	uint32_t max_blocks = c->ts_ok ? 3 : 4;
	if (n > max_blocks)
		n = max_blocks;
	uint32_t opt = n ? 4 + 8 * n : 0;
	return c->mss > opt + TCP_MSS_MIN / 2 ? c->mss - opt : c->mss;
}

/* RFC 2018 4: the SACK blocks tcp_ooo.c keeps (first block: the most recent), after a
 * D-SACK block when a duplicate just arrived (RFC 2883 4: it goes first, once). */
static void tcp_fill_sack(struct tcp_conn *c, struct tcp_opts *o)
{
	uint32_t max_blocks = c->ts_ok ? 3 : 4;
	o->sack_count = 0;
	if (c->dsack_pending)
		o->sack[o->sack_count++] = c->dsack;
	for (uint32_t i = 0; i < tcp_num_sacks(c) && o->sack_count < max_blocks; i++)
		o->sack[o->sack_count++] = c->ofo->sacks[i];
}

static void tcp_conn_hdr(const struct tcp_conn *c, struct tcp_hdr *h, uint32_t seq, uint8_t flags)
{
	memset(h, 0, sizeof(*h));
	h->sport = c->hn.lport;
	h->dport = c->hn.rport;
	h->seq = seq;
	h->flags = flags;
	if (flags & TCP_FLAG_ACK)
		h->ack = c->rcv.nxt;
	tcp_urg_hdr(c, h); /* URG and the pointer on every segment urgent mode covers */
}

int tcp_xmit(struct tcp_conn *c, uint32_t seq, uint8_t flags, uint32_t len)
{
	struct tcp_layer *tl = c->tl;
	struct tcp_hdr h;
	struct pbuf_ext pieces[2];
	int np = 0;

	tcp_conn_hdr(c, &h, seq, flags);
	if (flags & TCP_FLAG_SYN) {
		/* RFC 9293 3.7.1, RFC 7323 1.3, RFC 2018 2: options offered only on a SYN. */
		h.opts.has_mss = true;
		h.opts.mss = c->adv_mss;
		if (c->state == TCPS_SYN_SENT || c->wscale_ok) {
			h.opts.has_wscale = tl->cfg.window_scaling;
			h.opts.wscale = c->rcv_wscale;
		}
		h.opts.sack_ok = (c->state == TCPS_SYN_SENT) ? tl->cfg.sack : c->sack_ok;
		h.opts.has_ts = (c->state == TCPS_SYN_SENT) ? tl->cfg.timestamps : c->ts_ok;
		/* An active open's SYN counts the whole MSS (Linux: no timestamps seen yet). */
		uint32_t mss = c->adv_mss - (c->state != TCPS_SYN_SENT && c->ts_ok ? TCP_TS_OPT_LEN : 0u);
		h.win = (uint16_t)tcp_rwnd_initial(&c->opts, mss, c->rcv_wscale);
		c->rcv.wnd = h.win;
	} else {
		if (c->ts_ok)
			h.opts.has_ts = true;
		if (c->sack_ok && (tcp_num_sacks(c) || c->dsack_pending))
			tcp_fill_sack(c, &h.opts);
		h.win = (uint16_t)(tcp_rwnd_select(c) >> c->rcv_wscale);
	}
	if (flags & TCP_FLAG_RST)
		h.win = 0;
	if (h.opts.has_ts) {
		h.opts.ts_val = tcp_now_ts(tl, c->ts_offset);
		h.opts.ts_ecr = (flags & TCP_FLAG_ACK) ? c->ts_recent : 0;
	}
	uint16_t gso = 0;
	if (len) {
		uint32_t off = seq - c->snd.una;
		np = tcp_ring_lend(&c->sndq, off, len, pieces);
		/* Longer than one MSS only as a TSO super-segment (tcp_output's tcp_tso_len). */
		uint32_t mss_now = tcp_mss_now(c);
		if (len > mss_now && tcp_gso_max(c))
			gso = (uint16_t)mss_now;
	}
	if (flags & TCP_FLAG_ACK) {
		c->dsack_pending = false; /* reported once (RFC 2883 4) */
		c->last_ack_sent = c->rcv.nxt;
		c->rcv.adv_edge = seq_max(c->rcv.adv_edge, c->rcv.nxt + c->rcv.wnd);
		if (c->rcv_unacked || (c->flags & (TCP_F_ACK_NOW | TCP_F_DELACK | TCP_F_ACK_BATCH)))
			tcp_delack_ack_sent(c);
		c->rcv_unacked = 0;
		c->flags &= ~(TCP_F_ACK_NOW | TCP_F_DELACK | TCP_F_ACK_BATCH);
		c->ack_pushed = 0;
		timer_stop(&c->delack_timer); /* lazily: it is armed again on the next data */
		if (c->compressed_ack) {    /* the SACKs held are in this ACK (Linux tcp_event_ack_sent) */
			tl->ctr.AckCompressed += c->compressed_ack;
			c->compressed_ack = 0;
		}
	}
	int rc = tcp_emit(tl, c->hn.laddr, c->hn.raddr, &h, pieces, np, tcp_conn_iphdr(c), gso);
	if (len && rc == 0) {
		tcp_delack_data_sent(c);
		c->bytes_sent += len; /* Linux tcp_transmit_skb: every data transmission */
		if (seq_lt(seq, c->snd.max))
			c->bytes_retrans += len; /* below SND.MAX: sent before */
	}
	if (len && rc == 0 && !tcp_rec_on(c)) {
		/* Send times for per-ACK RTT samples (tcp_rtt.h); a retransmission spoils them.
		 * With SACK the scoreboard's records carry them (tcp_recovery.c's ca_rtt). */
		if (seq_geq(seq, c->snd.max))
			tcp_rtt_sent_data(&c->rtt, &tl->rtt_spares, seq, seq + len, tl->core->now);
		else
			tcp_rtt_sent_forget(&c->rtt, &tl->rtt_spares);
	}
	return rc;
}

/*
 * How much new data one transmit unit carries (docs/tcp.md "Where PSH goes"; with TSO one
 * super-segment, docs/drivers.md "The offload path"), given that one full MSS already
 * passed every test of tcp_output. As Linux's tcp_mss_split_point: as much as the queued
 * data, `cap`, the peer's window (wnd_room) and the congestion window (cwnd_room: the bytes
 * it still admits) allow, cut to whole MSS pieces, except that the end of the queued data
 * may be a short last piece when Nagle would let a short segment go now (hold: nagle_hold).
 */
static uint32_t tcp_tso_len(uint32_t mss, uint32_t left, uint32_t cap, uint32_t wnd_room, uint64_t cwnd_room,
                            bool nagle_hold)
{
	uint32_t big = left;
	if (big > cap)
		big = cap;
	if (big > wnd_room)
		big = wnd_room;
	if (big > cwnd_room)
		big = (uint32_t)cwnd_room;
	if (big <= mss)
		return mss;
	uint32_t partial = big % mss;
	if (partial && (big < left || nagle_hold))
		big -= partial;
	return big;
}

uint32_t tcp_tso_segs(const struct tcp_conn *c, uint32_t mss)
{
	/* Linux tcp_update_pacing_rate: 200 % of cwnd * mss per SRTT in slow start (below half
	 * ssthresh), 120 % after; tcp_tso_autosize: what that rate sends in 1/1024 s
	 * (sk_pacing_shift 10), plus, on a path of small min_rtt, 64 KiB >> (min_rtt >> 9 us). */
	uint64_t bytes = TCP_LINUX_GSO_MAX;
	uint32_t srtt = c->rtt.srtt_us;
	if (srtt) {
		uint32_t pkts = (c->cwnd + c->mss - 1) / (c->mss ? c->mss : 1);
		uint32_t out = (tcp_flight(c) + mss - 1) / mss;
		uint64_t ratio = c->cwnd < c->ssthresh / 2 ? 200 : 120;
		uint64_t rate = (uint64_t)c->mss * (pkts > out ? pkts : out) * ratio * 10000u / srtt; /* bytes/s */
		bytes = rate >> 10;
		uint32_t r = tcp_rtt_min_us(&c->rtt) >> 9;
		if (tcp_rtt_min_us(&c->rtt) && r < 32)
			bytes += TCP_LINUX_GSO_MAX >> r;
		if (bytes > TCP_LINUX_GSO_MAX)
			bytes = TCP_LINUX_GSO_MAX;
	}
	uint32_t segs = (uint32_t)(bytes / mss);
	return segs > c->tl->cfg.min_tso_segs ? segs : c->tl->cfg.min_tso_segs;
}

uint32_t tcp_eor_limit(struct tcp_conn *c, uint32_t seq, uint32_t left)
{
	struct tcp_marks *m = c->marks;
	while (m && m->eor_count && seq_leq(m->eor[m->eor_head], c->snd.una)) {
		m->eor_head = (uint8_t)((m->eor_head + 1) % TCP_EOR_MARKS);
		m->eor_count--;
	}
	for (uint32_t i = 0; m && i < m->eor_count; i++) {
		uint32_t e = m->eor[(m->eor_head + i) % TCP_EOR_MARKS];
		if (seq_gt(e, seq))
			return seq_lt(e, seq + left) ? e : seq + left;
	}
	return seq + left;
}

/*
 * Resends scoreboard records i .. i + n - 1 (RFC 6675 5 / RFC 8985: segments marked lost,
 * or the tail loss probe) as one transmit unit, as Linux retransmits an skb: n > 1 adjacent
 * records of a full MSS each (the last may be short) go as one super-segment the device
 * cuts at the same boundaries with TSO, else as n segments; n = 1 is one record, cut to
 * the current MSS first. The marks and the counters follow. Returns how many records
 * went (fewer than n when the layers below refused the rest), or -errno when none did.
 */
int tcp_rec_resend(struct tcp_conn *c, uint32_t i, uint32_t n)
{
	struct tcp_layer *tl = c->tl;
	struct tcp_txseg *r = tcp_sb_get(&c->sb, i);
	uint32_t mss = tcp_mss_now(c);
	bool fin = (r->marks & TCP_TX_FIN) != 0;
	uint32_t seq = r->seq, len = r->end - r->seq - fin;
	if (n > 1) {
		len = tcp_sb_get(&c->sb, i + n - 1)->end - seq; /* the caller checked: no FIN */
		fin = false;
	} else if (len > mss) {
		if (tcp_sb_split(c->tl, &c->sb, i, r->seq + mss) != 0) {
			tl->ctr.ScoreboardFull++;
			return -ENOBUFS;
		}
		fin = false;
		len = mss;
	}
	/* PSH as on first transmission (docs/tcp.md "Where PSH goes"): Linux forces it on a
	 * GSO packet, which leaves it on the unit's last segment; a single segment keeps its
	 * skb's flag (a push mark). */
	bool psh = len && (n > 1 || tcp_sndq_pushed(c, seq, seq + len));
	uint32_t done = 0, sent = 0; /* records and bytes that went */
	int rc = 0;
	if (n == 1 || tcp_gso_max(c)) {
		uint8_t flags = TCP_FLAG_ACK | (fin ? TCP_FLAG_FIN : 0) | (psh ? TCP_FLAG_PSH : 0);
		rc = tcp_xmit(c, seq, flags, len);
		if (rc >= 0) {
			done = n;
			sent = len;
		}
	} else {
		for (; done < n; done++) {
			const struct tcp_txseg *p = tcp_sb_get(&c->sb, i + done);
			uint8_t flags = TCP_FLAG_ACK | (psh && done == n - 1 ? TCP_FLAG_PSH : 0);
			rc = tcp_xmit(c, p->seq, flags, p->end - p->seq);
			if (rc < 0)
				break;
			sent += p->end - p->seq;
		}
	}
	if (done == 0)
		return rc;
	c->flags &= ~TCP_F_RTT_TIMING; /* Karn */
	tcp_count_retrans(c, done);
	tcp_sb_retransmitted(&c->sb, i, done, tl->core->now);
	for (uint32_t k = 0; k < done; k++)
		tcp_rec_on_retransmit(c);
	tcp_rec_on_send(c, sent + fin);
	return (int)done;
}

/*
 * How many lost records from i on go as one resend (Linux tcp_xmit_retransmit_queue and
 * __tcp_retransmit_skb): adjacent, lost and not yet resent, a full `mss` of data each
 * without a FIN (only the last may be short), all in the skb that holds record i (Linux
 * resends skbs, cut no further than what cwnd admits), at most tcp_tso_segs of them and
 * `room` bytes, and with TSO gso_max. A unit cut short splits its skb there, as Linux's
 * tcp_fragment does, so the rest goes as its own unit later.
 */
static uint32_t tcp_rexmit_run(struct tcp_conn *c, uint32_t i, uint32_t mss, uint32_t room)
{
	const struct tcp_sb *sb = &c->sb;
	uint32_t seq = tcp_sb_get(sb, i)->seq, end = seq;
	uint32_t skb_end = tcp_skbq_end(c, seq), max = tcp_tso_segs(c, mss), n = 0;
	uint64_t gso = tcp_gso_max(c) ? tcp_gso_max(c) : UINT64_MAX;
	while (i + n < sb->n && n < max) {
		const struct tcp_txseg *r = tcp_sb_get(sb, i + n);
		uint32_t len = r->end - r->seq;
		if (r->seq != end || len > mss || (r->marks & TCP_TX_FIN) ||
		    tcp_urg_in(c, r->seq) || seq_gt(r->end, skb_end) ||
		    (r->marks & (TCP_TX_LOST | TCP_TX_RETRANS | TCP_TX_SACKED)) != TCP_TX_LOST ||
		    (uint64_t)(r->end - seq) > gso || r->end - seq > room)
			break;
		end = r->end;
		n++;
		if (len < mss)
			break; /* only the last segment of a unit may be short */
	}
	if (n && seq_lt(end, skb_end))
		tcp_skbq_split(c, end);
	return n ? n : 1;
}

/* The lost segments first (RFC 6675 5 (C), NextSeg rule 1), as cwnd - pipe allows (PRR
 * has set cwnd during recovery). Returns whether anything was sent. */
static bool tcp_output_rexmit(struct tcp_conn *c, uint32_t mss)
{
	bool sent = false;
	int64_t i;
	while ((i = tcp_rec_next_rexmit(c)) >= 0) {
		const struct tcp_txseg *r = tcp_sb_get(&c->sb, (uint32_t)i);
		uint32_t len = r->end - r->seq;
		if (len > mss)
			len = mss;
		uint32_t pipe = tcp_sb_pipe(c);
		if (pipe + len > c->cwnd + (mss - 1))
			break;
		uint32_t n = 1;
		if (len == mss)
			n = tcp_rexmit_run(c, (uint32_t)i, mss, c->cwnd + (mss - 1) - pipe);
		int done = tcp_rec_resend(c, (uint32_t)i, n);
		if (done > 0)
			sent = true;
		if (done < (int)n)
			break;
	}
	if (sent && (!timer_armed(&c->rtx_timer) || (c->flags & TCP_F_TLP)))
		tcp_rearm_rtx(c);
	return sent;
}

/* May the FIN go now, right after `end` (RFC 9293 3.10.4: after all queued data)? */
static bool tcp_fin_due(const struct tcp_conn *c, uint32_t end)
{
	if (!(c->flags & TCP_F_FIN_QUEUED))
		return false;
	if (tcp_fin_acked(c))
		return false;
	return end == c->snd.una + c->sndq.len;
}

void tcp_output(struct tcp_conn *c)
{
	struct tcp_layer *tl = c->tl;
	bool sent = false;

	switch (c->state) {
	case TCPS_CLOSED:
	case TCPS_LISTEN:
	case TCPS_TIME_WAIT:
		return;
	case TCPS_SYN_SENT:
		if (!(c->flags & TCP_F_SYN_SENT)) {
			c->flags |= TCP_F_SYN_SENT;
			tcp_xmit(c, c->snd.iss, TCP_FLAG_SYN, 0);
			c->snd.nxt = c->snd.iss + 1;
			c->snd.max = c->snd.nxt;
			tcp_rearm_rtx(c);
		}
		return;
	case TCPS_SYN_RECEIVED:
		/* Simultaneous open (3.10.7.3): our SYN again, now with the ACK. */
		if (c->flags & TCP_F_ACK_NOW) {
			tcp_xmit(c, c->snd.iss, TCP_FLAG_SYN | TCP_FLAG_ACK, 0);
			c->snd.nxt = c->snd.iss + 1;
			c->snd.max = seq_max(c->snd.max, c->snd.nxt);
			tcp_rearm_rtx(c);
		}
		return;
	default:
		break;
	}

	uint32_t mss = tcp_mss_now(c);
	bool cwnd_stop = false, rwnd_stop = false, sent_new = false;
	bool rec = tcp_rec_on(c);
	if (c->chrono_type && c->sndq.len == 0)
		tcp_chrono_stop(c, TCP_CHRONO_BUSY); /* all acknowledged: not busy (TCP_INFO) */
	if (rec)
		sent = tcp_output_rexmit(c, mss);
	/* The transmit unit being sent (Linux: the skb tcp_write_xmit cut and handed to
	 * tcp_transmit_skb): it ends at unit_end; PSH goes on its last segment when it has
	 * more than one (Linux forces PSH on every GSO packet) or when a push mark lies in it. */
	uint32_t unit_start = c->snd.nxt, unit_end = c->snd.nxt;
	bool restarted = false;
	for (;;) {
		uint32_t off = c->snd.nxt - c->snd.una;
		uint32_t left = c->sndq.len > off ? c->sndq.len - off : 0;
		/* MSG_EOR: a segment stops at the end of its record (rec_len bytes away). */
		uint32_t rec_len = tcp_eor_limit(c, c->snd.nxt, left) - c->snd.nxt;
		bool rec_cut = rec_len < left;
		/* What cwnd is compared with: the bytes in flight, or with the scoreboard
		 * RFC 6675's pipe (SACKed and lost bytes have left the network). */
		uint32_t flight = rec ? tcp_sb_pipe(c) : tcp_flight(c);
		uint32_t len = rec_len < mss ? rec_len : mss;
		bool rexmit = seq_lt(c->snd.nxt, c->snd.max);
		if (left && !rexmit && !restarted && tcp_flight(c) == 0 && c->snd.wnd) {
			/* New data after idle: cwnd restarts first (tcp_cc.c), so the unit is cut
			 * from the restarted window, as Linux restarts before it sizes the skb. */
			tcp_cc_data_sent(c, true);
			restarted = true;
		}
		/* As Linux (tcp_cwnd_test, tcp_snd_wnd_test): the congestion window counts
		 * packets, a short segment as one, so a window of 10 never carries an 11th short
		 * one (packets in flight: the bytes in flight in MSS-sized segments); during a
		 * reduction cwnd is PRR's pipe + sndcnt (tcp_recovery.c), compared with the pipe
		 * in bytes with a segment's slack, as recovery's own resends are. And a segment goes only if it fits the peer's
		 * window whole (a smaller window is left to the persist timer, tcp_timer.c). */
		uint32_t wnd_room = seq_gt(c->snd.una + c->snd.wnd, c->snd.nxt) ? c->snd.una + c->snd.wnd - c->snd.nxt : 0;
		uint64_t cwnd = c->cwnd;
		if (c->dupacks && c->dupacks < 3 && !(c->flags & TCP_F_IN_RECOVERY))
			cwnd += (uint64_t)c->dupacks * c->mss; /* RFC 3042 limited transmit */
		uint64_t cwnd_room; /* bytes of new segments cwnd admits now */
		if (tcp_cc_state(c) >= TCP_CC_CWR) {
			cwnd_room = cwnd + (mss - 1) > flight ? cwnd + (mss - 1) - flight : 0;
		} else {
			uint64_t pkts = (cwnd + (c->mss ? c->mss : 1) - 1) / (c->mss ? c->mss : 1);
			uint64_t in_flight = ((uint64_t)flight + mss - 1) / mss;
			cwnd_room = pkts > in_flight ? (pkts - in_flight) * mss : 0;
		}
		if (len && cwnd_room < len)
			cwnd_stop = true;
		if (len && cwnd_room >= len && len > wnd_room)
			rwnd_stop = true;
		if (len && (cwnd_room < len || len > wnd_room))
			len = 0;
		if (len == 0 && left)
			goto blocked;
		if (len && !seq_lt(c->snd.nxt, unit_end)) {
			if (sent && (c->flags & TCP_F_XMIT_ONE))
				break; /* Linux tcp_push_one: one unit */
			/* A new unit: as many segments as Linux's tcp_cwnd_test lets one skb carry
			 * (half the congestion window at most, "2 GSO packets in flight"; for a
			 * retransmission what cwnd leaves) and tcp_tso_segs allows, cut by the
			 * windows and the data as tcp_mss_split_point cuts it. */
			uint64_t quota = cwnd_room / mss;
			if (!rexmit && tcp_cc_state(c) < TCP_CC_CWR) {
				uint64_t half = c->cwnd / (2u * (c->mss ? c->mss : 1));
				if (quota > (half ? half : 1))
					quota = half ? half : 1;
			}
			uint32_t segs = tcp_tso_segs(c, mss);
			if (quota < segs)
				segs = quota ? (uint32_t)quota : 1;
			if (c->flags & TCP_F_PROBING)
				segs = 1;
			uint32_t ulen = len;
			if (len == mss && rec_len > mss && segs > 1) {
				/* The same Nagle test as below (Minshall's variant) decides the short
				 * tail; a record's end is not held (more data follows it). */
				bool small_out = c->sml_valid && seq_gt(c->snd_sml, c->snd.una) && seq_leq(c->snd_sml, c->snd.nxt);
				bool nagle_ok = c->opts.nodelay || tcp_flight(c) == 0 || !small_out;
				bool nagle_hold = !rec_cut && !(c->flags & TCP_F_PUSH_ONCE) &&
				                  (!nagle_ok || c->opts.cork || (c->flags & TCP_F_MORE));
				uint64_t room = (uint64_t)segs * mss < cwnd_room ? (uint64_t)segs * mss : cwnd_room;
				ulen = tcp_tso_len(mss, rec_len, TCP_LINUX_GSO_MAX, wnd_room, room, nagle_hold);
			}
			unit_start = c->snd.nxt;
			unit_end = c->snd.nxt + ulen;
		}
		uint32_t gso_max = tcp_gso_max(c);
		if (len == mss && gso_max && !rexmit && !tcp_urg_in(c, c->snd.nxt)) {
			/* TSO: the unit goes as one super-segment the device cuts at the MSS (a
			 * go-back-N resend after an RTO goes one MSS at a time; so does data in
			 * urgent mode, whose pointer each segment must carry for itself). */
			len = unit_end - c->snd.nxt;
			if (len > gso_max)
				len = gso_max - gso_max % mss;
		}
		bool fin = tcp_fin_due(c, c->snd.nxt + len);

		if (len == 0 && !fin)
			break;
		if (len && len < mss && !fin && !rexmit && !rec_cut) {
			/* RFC 9293 3.7.4 Nagle (off with TCP_NODELAY): a short segment waits while
			 * data is in flight - in Minshall's variant, as Linux (tcp_minshall_check),
			 * only while an earlier short segment is unacknowledged, so the tail of a
			 * write bigger than the MSS goes at once; TCP_CORK holds short segments
			 * altogether. As Linux,
			 * a segment cut short by the peer's window counts as short too, and there
			 * is no further sender-side SWS rule (RFC 1122 4.2.3.4 is met by Nagle).
			 * The end of a MSG_EOR record with data behind it is not held: Linux
			 * applies Nagle only to the last skb of the queue. */
			bool small_out = c->sml_valid && seq_gt(c->snd_sml, c->snd.una) && seq_leq(c->snd_sml, c->snd.nxt);
			bool nagle_ok = c->opts.nodelay || tcp_flight(c) == 0 || !small_out;
			/* Linux tcp_nagle_test: nothing holds urgent data back, not even a cork. */
			bool push = (c->flags & (TCP_F_PUSH_ONCE | TCP_F_URG_MODE)) != 0;
			if (!push && (!nagle_ok || c->opts.cork || (c->flags & TCP_F_MORE)))
				break;
		}
		uint8_t flags = TCP_FLAG_ACK;
		/* PSH (docs/tcp.md "Where PSH goes"): on the last segment of a unit of several
		 * (Linux sets it on every GSO packet, which leaves it on the last piece), or of a
		 * one-segment unit that holds a push mark (the end of a write, a forced push). */
		if (len && seq_geq(c->snd.nxt + len, unit_end) &&
		    (unit_end - unit_start > mss || tcp_sndq_pushed(c, unit_start, unit_end)))
			flags |= TCP_FLAG_PSH;
		if (fin)
			flags |= TCP_FLAG_FIN;
		if (rexmit)
			tcp_count_retrans(c, 1);
		else if (len)
			tcp_cc_data_sent(c, tcp_flight(c) == 0 && !restarted); /* after idle: restart cwnd (tcp_cc.c) */
		/* With the scoreboard, every segment sent gets its records first (so a send
		 * never goes unrecorded); a full board waits for ACKs like a full window. */
		bool board_full = rec && !rexmit && tcp_sb_reserve(c->tl, &c->sb, tcp_sb_segs_for(len, mss)) != 0;
		if (board_full)
			tl->ctr.ScoreboardFull++;
		if ((board_full || tcp_xmit(c, c->snd.nxt, flags, len) < 0) && !rexmit) {
			/* The layers below refused new data (no pbuf, a full ARP queue, the device):
			 * as Linux's tcp_write_xmit, it is not sent. With nothing in flight to bring
			 * an ACK, a resource probe retries it (tcp_check_probe_timer). A refused
			 * retransmission counts as sent and lost instead: the RTO is running. */
			if (flight == 0 && (!timer_armed(&c->rtx_timer) || (c->flags & TCP_F_PERSIST)))
				tcp_arm_local_probe(c);
			break;
		}
		c->probes_out = 0;
		c->probes_since = 0;
		if (!rexmit && !c->ts_ok && !(c->flags & TCP_F_RTT_TIMING) && len) {
			/* RFC 6298 3 / Karn: time one new segment at a time. */
			c->flags |= TCP_F_RTT_TIMING;
			c->rtt_seq = c->snd.nxt;
			c->rtt_start = tl->core->now;
		}
		if (fin) {
			c->flags |= TCP_F_FIN_SENT;
			c->fin_seq = c->snd.nxt + len;
		}
		if (rec && !rexmit) {
			tcp_sb_sent(&c->sb, c->snd.nxt, len, fin, mss, tl->core->now);
			tcp_rec_on_send(c, len + fin);
		}
		c->snd.nxt += len + fin;
		c->snd.max = seq_max(c->snd.max, c->snd.nxt);
		if (!rexmit && len) {
			sent_new = true;
			/* Linux tso_fragment: the unit is cut from its skb, and tcp_event_new_data_sent
			 * checks whether a waiting writer may go on. */
			if (!seq_lt(c->snd.nxt, unit_end))
				tcp_skbq_split(c, unit_end);
			tcp_check_space(c);
		}
		if (len < mss || len % mss) {
			/* A short segment, or a super-segment whose last piece is short (TSO). */
			c->snd_sml = c->snd.nxt;
			c->sml_valid = true;
		}
		if (rec && (!timer_armed(&c->rtx_timer) || (c->flags & (TCP_F_PERSIST | TCP_F_TLP)))) {
			/* RFC 8985 7.2: the probe timer restarts with every new segment. */
			c->flags &= ~TCP_F_PERSIST;
			tcp_rec_arm_timer(c);
		} else if (!timer_armed(&c->rtx_timer) || (c->flags & TCP_F_PERSIST)) {
			c->flags &= ~TCP_F_PERSIST;
			tcp_rearm_rtx(c);
		}
		sent = true;
		if (fin)
			break;
	}
blocked:
	/* Linux tcp_write_xmit: the time stopped by the peer's window, for TCP_INFO. */
	if (rwnd_stop)
		tcp_chrono_start(c, TCP_CHRONO_RWND_LIMITED);
	else
		tcp_chrono_stop(c, TCP_CHRONO_RWND_LIMITED);
	if (sent || cwnd_stop) {
		/* Linux tcp_cwnd_validate: remember how much of the window this flight uses -
		 * only when something was sent or the window stopped it, as Linux, so a sender
		 * whose data ran out keeps the verdict of its last full window. */
		uint32_t fl = tcp_flight(c);
		/* Linux tcp_write_xmit: new data whose packets in flight (RFC 6675's pipe with
		 * SACK) fill cwnd counts as limited by it too, even when nothing more was waiting
		 * (a writer whose bursts are exactly cwnd); resends alone (tcp_retransmit_skb
		 * there) do not judge. */
		if (sent_new && tcp_cc_pkts(c, rec ? tcp_sb_pipe(c) : fl) >= tcp_cc_cwnd(c))
			cwnd_stop = true;
		if (seq_geq(c->snd.una, c->max_flight_seq) || fl > c->max_flight || cwnd_stop) {
			c->max_flight = fl;
			c->max_flight_seq = c->snd.nxt;
			c->cwnd_limited = cwnd_stop;
		}
		bool cwnd_limited = tcp_cc_cwnd_limited(c);
		tcp_cc_validate(c, cwnd_limited, (uint32_t)(((uint64_t)fl + mss - 1) / mss));
		/* Linux tcp_cwnd_validate: not limited by cwnd, nothing left unsent and a writer
		 * waiting for room: the send buffer is what holds the sender back (TCP_INFO). */
		if (!cwnd_limited && !seq_lt(c->snd.max, c->snd.una + c->sndq.len) && (c->flags & TCP_F_NOSPACE) &&
		    (c->state == TCPS_ESTABLISHED || c->state == TCPS_CLOSE_WAIT))
			tcp_chrono_start(c, TCP_CHRONO_SNDBUF_LIMITED);
	}
	c->flags &= ~TCP_F_PUSH_ONCE;
	tcp_check_space(c); /* Linux tcp_data_snd_check, after the ACK's transmissions */
	if (!sent && (c->flags & TCP_F_ACK_NOW))
		tcp_send_ack(c);

	/* Data waits and nothing is in flight to bring an ACK: the persist timer (Linux's
	 * tcp_check_probe_timer, probe0). Behind a zero window it probes (RFC 9293 3.8.6.1);
	 * behind a cork (TCP_CORK, MSG_MORE) it sends what waits after an RTO, which is
	 * Linux's 200 ms ceiling on corking (tcp(7); tcp_persist_fire). */
	uint32_t off = c->snd.nxt - c->snd.una;
	uint32_t want = c->sndq.len > off ? c->sndq.len - off : 0;
	if (want && tcp_flight(c) == 0 && !timer_armed(&c->rtx_timer))
		tcp_arm_persist(c);
}

/*
 * The one RST builder (RFC 9293 3.10.7.1 and 3.5.2): never for a RST; if the offending
 * segment has an ACK, <SEQ=SEG.ACK><CTL=RST>; otherwise
 * <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>. Window 0, no options (as Linux).
 */
void tcp_send_rst_for(struct tcp_layer *tl, const struct tcp_seg *seg)
{
	struct tcp_hdr h;
	if (seg->flags & TCP_FLAG_RST)
		return;
	memset(&h, 0, sizeof(h));
	h.sport = seg->h.dport;
	h.dport = seg->h.sport;
	if (seg->flags & TCP_FLAG_ACK) {
		h.seq = seg->ack;
		h.flags = TCP_FLAG_RST;
	} else {
		h.seq = 0;
		h.ack = seg->seq + seg->len;
		h.flags = TCP_FLAG_RST | TCP_FLAG_ACK;
	}
	/* Linux's tcp_v4_send_reset answers with the segment's own TOS, less its ECN bits. */
	tcp_emit(tl, seg->dst, seg->src, &h, NULL, 0, (struct ip_hdr_choice){ .tos = seg->tos & 0xfcu }, 0);
}

/* Abort from our side (close with unread data, SO_LINGER 0, timeouts): Linux's
 * tcp_send_active_reset sends RST|ACK at SND.NXT. */
void tcp_send_rst_conn(struct tcp_conn *c)
{
	struct tcp_hdr h;
	tcp_conn_hdr(c, &h, c->snd.max, TCP_FLAG_RST | TCP_FLAG_ACK);
	if (c->ts_ok) {
		/* Linux puts the timestamp option on the RST of a connection that uses it. */
		h.opts.has_ts = true;
		h.opts.ts_val = tcp_now_ts(c->tl, c->ts_offset);
		h.opts.ts_ecr = c->ts_recent;
	}
	tcp_emit(c->tl, c->hn.laddr, c->hn.raddr, &h, NULL, 0, tcp_conn_iphdr(c), 0);
}

void tcp_send_ack(struct tcp_conn *c)
{
	/* BSD: a pure ACK carries SND.MAX; after an RTO rewound SND.NXT, that still names
	 * the next new byte, which is what the peer expects. */
	tcp_xmit(c, c->snd.max, TCP_FLAG_ACK, 0);
}

void tcp_ack_at_batch_end(struct tcp_conn *c)
{
	c->flags |= TCP_F_ACK_BATCH;
	if (c->ackb_pprev)
		return;
	struct tcp_layer *tl = c->tl;
	c->ackb_next = tl->ack_batch;
	if (tl->ack_batch)
		tl->ack_batch->ackb_pprev = &c->ackb_next;
	c->ackb_pprev = &tl->ack_batch;
	tl->ack_batch = c;
}

void tcp_ack_batch_unlink(struct tcp_conn *c)
{
	if (!c->ackb_pprev)
		return;
	*c->ackb_pprev = c->ackb_next;
	if (c->ackb_next)
		c->ackb_next->ackb_pprev = c->ackb_pprev;
	c->ackb_next = NULL;
	c->ackb_pprev = NULL;
}

void tcp_flush_acks(struct tcp_layer *tl)
{
	struct tcp_conn *c;
	while ((c = tl->ack_batch) != NULL) {
		tcp_ack_batch_unlink(c);
		if (!(c->flags & TCP_F_ACK_BATCH))
			continue; /* data or an ACK left since, carrying it */
		c->flags &= ~TCP_F_ACK_BATCH;
		c->flags |= TCP_F_ACK_NOW;
		tl->ctr.BatchAcks++;
		tcp_output(c);
	}
}

/* RFC 5961 3.2, 4.2, 5.2: an ACK that tells a blind attacker nothing, rate-limited per
 * second across the stack (Linux tcp_challenge_ack_limit). */
void tcp_send_challenge_ack(struct tcp_conn *c)
{
	struct tcp_layer *tl = c->tl;
	usec_t now = tl->core->now;
	if (now - tl->challenge_stamp >= USEC_PER_SEC || tl->challenge_stamp == 0) {
		tl->challenge_stamp = now ? now : 1;
		tl->challenge_count = 0;
	}
	if (tl->challenge_count >= tl->cfg.challenge_ack_limit) {
		tl->ctr.ChallengeAckLimited++;
		return;
	}
	tl->challenge_count++;
	tl->ctr.ChallengeAcks++;
	tcp_send_ack(c);
}

/* SYN-ACK for a SYN-queue entry (RFC 9293 3.10.7.2), with the options the SYN offered. */
uint16_t tcp_synack_mss(const struct tcp_listener *l)
{
	uint16_t mss = tcp_adv_mss(l->tl);
	if (l->opts.user_mss && l->opts.user_mss < mss)
		mss = (uint16_t)l->opts.user_mss;
	return mss;
}

/* The SYN-ACK's window counts whole segments of the MSS less the timestamp option. */
uint32_t tcp_synack_window(const struct tcp_listener *l, const struct tcp_req *r)
{
	return tcp_rwnd_initial(&l->opts, tcp_synack_mss(l) - (r->ts_ok ? TCP_TS_OPT_LEN : 0u), r->rcv_wscale);
}

void tcp_send_synack(struct tcp_req *r)
{
	struct tcp_listener *l = r->lis;
	struct tcp_layer *tl = l->tl;
	struct tcp_hdr h;

	memset(&h, 0, sizeof(h));
	h.sport = r->hn.lport;
	h.dport = r->hn.rport;
	h.seq = r->iss;
	h.ack = r->irs + 1;
	h.flags = TCP_FLAG_SYN | TCP_FLAG_ACK;
	h.win = (uint16_t)tcp_synack_window(l, r);
	h.opts.has_mss = true;
	h.opts.mss = tcp_synack_mss(l);
	h.opts.sack_ok = r->sack_ok;
	h.opts.has_wscale = r->wscale_ok;
	h.opts.wscale = r->rcv_wscale;
	if (r->ts_ok) {
		h.opts.has_ts = true;
		h.opts.ts_val = r->cookie ? tcp_cookie_tsval(tl, r) : tcp_now_ts(tl, r->ts_offset);
		h.opts.ts_ecr = r->ts_recent;
	}
	/* Linux (tcp_reflect_tos 0): the listener's IP_TOS and IP_TTL as they are now. */
	tcp_emit(tl, r->hn.laddr, r->hn.raddr, &h, NULL, 0,
	         (struct ip_hdr_choice){ .tos = r->lis->opts.tos, .ttl = r->lis->opts.ttl }, 0);
}

/* RFC 9293 3.10.7.4 TIME-WAIT: "acknowledge it" (a retransmitted FIN, or out-of-window data). */
void tcp_tw_send_ack(struct tcp_tw *tw)
{
	struct tcp_hdr h;
	memset(&h, 0, sizeof(h));
	h.sport = tw->hn.lport;
	h.dport = tw->hn.rport;
	h.seq = tw->snd_nxt;
	h.ack = tw->rcv_nxt;
	h.flags = TCP_FLAG_ACK;
	h.win = tw->rcv_wnd;
	if (tw->ts_ok) {
		h.opts.has_ts = true;
		h.opts.ts_val = tcp_now_ts(tw->tl, tw->ts_offset);
		h.opts.ts_ecr = tw->ts_recent;
	}
	tcp_emit(tw->tl, tw->hn.laddr, tw->hn.raddr, &h, NULL, 0, (struct ip_hdr_choice){ .tos = tw->tos }, 0);
}
