/*
 * wire.c - the runner's side of the cable: the in-memory netdev tapstack sends into,
 * building the frames a script injects, and decoding the frames tapstack sends.
 *
 * The netdev never has frames to receive: inbound frames go straight to ts_stack_input() at
 * the virtual time of their event (this also lets a script inject one oversize "GRO"
 * segment). Every frame the stack sends is copied, stamped with the virtual
 * clock and decoded once into struct drill_wire_pkt, checking the IPv4 header checksum,
 * the IPv4 total length and the TCP checksum as packetdrill does.
 *
 * Sequence mapping: inbound seq = script + peer_isn, inbound ack and SACK
 * edges = script + stack_isn; outbound values are mapped back the other way before they
 * are compared or printed. TCP options are built in the script's order and decoded in
 * wire order, so an outbound option list can be compared exactly.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/byteorder.h"
#include "core/checksum.h"
#include "runner.h"
#include "wire/arp.h"
#include "wire/ethernet.h"
#include "wire/ipv4.h"
#include "wire/tcp.h"

static const uint8_t remote_mac[ETH_ALEN] = {0x02, 0x00, 0x00, 0x00, 0x00, 0xfe};

/* ---- the netdev ---- */

static int dnd_recv(struct netdev *dev, struct pbuf **pbp)
{
	(void)dev;
	(void)pbp;
	return 0;
}

static void decode_frame(struct drill_runner *r, const uint8_t *f, uint32_t n, struct drill_wire_pkt *w);

/* The stack keeps ownership of pb; the frame is copied and decoded. */
static int dnd_send(struct netdev *dev, struct pbuf *pb)
{
	struct drill_runner *r = ((struct drill_netdev *)dev)->r;
	struct drill_outq *q = &r->outq;
	if (r->qdisc_drop) {
		/* `tc qdisc ... pfifo limit 0`: the local queue refuses everything, as Linux's would. */
		r->qdisc_dropped++;
		drill_vlog(r, "%10.6f   (a frame of %u bytes dropped by the emulated qdisc)\n", drill_rel_secs(r, r->now),
		           pbuf_frame_len(pb));
		return -ENOBUFS;
	}
	if (q->count == q->cap) {
		if (q->cap >= DRILL_OUT_MAX)
			return -ENOBUFS;
		size_t ncap = q->cap ? q->cap * 2 : 64;
		struct drill_wire_pkt *n = malloc(ncap * sizeof(*n));
		if (!n)
			return -ENOMEM;
		for (size_t i = 0; i < q->count; i++)
			n[i] = q->pkts[(q->head + i) % q->cap];
		free(q->pkts);
		q->pkts = n;
		q->cap = ncap;
		q->head = 0;
	}
	uint32_t len = pbuf_frame_len(pb);
	uint8_t *buf = malloc(len ? len : 1);
	if (!buf)
		return -ENOMEM;
	pbuf_copy_out(pb, buf);
	struct drill_wire_pkt *w = &q->pkts[(q->head + q->count) % q->cap];
	decode_frame(r, buf, len, w);
	w->t = r->now;
	free(buf);
	q->count++;
	drill_learn_outbound(r, w);
	if (r->verbose && w->is_tcp) {
		struct drill_packet p;
		char text[512];
		drill_wire_to_script(r, w, &p);
		drill_packet_format(text, sizeof(text), &p);
		drill_vlog(r, "%10.6f   (tapstack sent: %s)\n", drill_rel_secs(r, w->t), text);
	}
	return 0;
}

static void dnd_close(struct netdev *dev)
{
	(void)dev; /* embedded in the runner */
}

static const struct netdev_ops dnd_ops = {
	.recv = dnd_recv,
	.send = dnd_send,
	.pollfd = NULL,
	.close = dnd_close,
};

void drill_netdev_init(struct drill_runner *r)
{
	memset(&r->dev, 0, sizeof(r->dev));
	r->dev.nd.ops = &dnd_ops;
	strcpy(r->dev.nd.name, "drill0");
	r->dev.nd.mtu = 1500;
	r->dev.r = r;
}

void drill_outq_free(struct drill_outq *q)
{
	free(q->pkts);
	memset(q, 0, sizeof(*q));
}

struct drill_wire_pkt *drill_outq_peek(struct drill_runner *r)
{
	struct drill_outq *q = &r->outq;
	return q->count ? &q->pkts[q->head] : NULL;
}

void drill_outq_pop(struct drill_runner *r)
{
	struct drill_outq *q = &r->outq;
	if (q->count) {
		q->head = (q->head + 1) % q->cap;
		q->count--;
	}
}

/* ---- decoding what the stack sent ---- */

static void decode_tcp_opts(const uint8_t *p, size_t len, struct drill_wire_pkt *w)
{
	size_t i = 0;
	while (i < len) {
		if (w->nopts == DRILL_OPTS_MAX) {
			w->opts_bad = true;
			return;
		}
		struct drill_tcp_opt *o = &w->opts[w->nopts];
		memset(o, 0, sizeof(*o));
		uint8_t kind = p[i];
		if (kind == TCP_OPT_EOL) {
			/* EOL ends the list; the rest is padding (RFC 9293 3.2). */
			o->kind = DRILL_OPT_EOL;
			w->nopts++;
			return;
		}
		if (kind == TCP_OPT_NOP) {
			o->kind = DRILL_OPT_NOP;
			w->nopts++;
			i++;
			continue;
		}
		if (i + 1 >= len || p[i + 1] < 2 || i + p[i + 1] > len) {
			w->opts_bad = true;
			return;
		}
		uint8_t olen = p[i + 1];
		const uint8_t *v = p + i + 2;
		switch (kind) {
		case TCP_OPT_MSS:
			if (olen != 4)
				goto bad;
			o->kind = DRILL_OPT_MSS;
			o->a = get_be16(v);
			break;
		case TCP_OPT_WSCALE:
			if (olen != 3)
				goto bad;
			o->kind = DRILL_OPT_WSCALE;
			o->a = v[0];
			break;
		case TCP_OPT_SACK_PERM:
			if (olen != 2)
				goto bad;
			o->kind = DRILL_OPT_SACK_PERM;
			break;
		case TCP_OPT_TS:
			if (olen != 10)
				goto bad;
			o->kind = DRILL_OPT_TS;
			o->a = get_be32(v);
			o->b = get_be32(v + 4);
			break;
		case TCP_OPT_SACK:
			if ((olen - 2) % 8 != 0 || olen < 10 || (olen - 2) / 8 > DRILL_SACK_MAX)
				goto bad;
			o->kind = DRILL_OPT_SACK;
			o->nblocks = (uint8_t)((olen - 2) / 8);
			for (size_t b = 0; b < o->nblocks; b++) {
				o->block[b][0] = get_be32(v + b * 8);
				o->block[b][1] = get_be32(v + b * 8 + 4);
			}
			break;
		default:
			goto bad; /* an option kind scripts cannot express */
		}
		w->nopts++;
		i += olen;
	}
	return;
bad:
	w->opts_bad = true;
}

static void decode_frame(struct drill_runner *r, const uint8_t *f, uint32_t n, struct drill_wire_pkt *w)
{
	(void)r;
	memset(w, 0, sizeof(*w));
	w->frame_len = n;
	struct eth_hdr eh;
	if (eth_hdr_parse(f, n, &eh) != 0) {
		w->is_other = true;
		snprintf(w->bad, sizeof(w->bad), "frame of %u bytes, shorter than an Ethernet header", n);
		return;
	}
	const uint8_t *p = f + ETH_HDR_LEN;
	uint32_t len = n - ETH_HDR_LEN;
	if (eh.type == ETHERTYPE_ARP) {
		struct arp_pkt a;
		w->is_arp = true;
		if (arp_pkt_parse(p, len, &a) == ARP_PARSE_OK) {
			w->arp_op = a.oper;
			w->arp_tpa = a.tpa;
		}
		return;
	}
	if (eh.type != ETHERTYPE_IPV4) {
		w->is_other = true;
		snprintf(w->bad, sizeof(w->bad), "EtherType 0x%04x", eh.type);
		return;
	}
	struct ipv4_hdr ih;
	if (ipv4_hdr_parse(p, len, &ih) != 0 || ih.version != 4) {
		w->is_other = true;
		snprintf(w->bad, sizeof(w->bad), "malformed IPv4 header");
		return;
	}
	w->src = ih.src;
	w->dst = ih.dst;
	w->tos = ih.tos;
	w->ttl = ih.ttl;
	if (csum_finish(csum_add(0, p, ih.ihl)) != 0)
		snprintf(w->bad, sizeof(w->bad), "bad IPv4 header checksum 0x%04x", ih.csum);
	/* Ethernet pads short frames to 60 bytes, so the frame may be longer than the datagram. */
	if (ih.total_len < ih.ihl || ih.total_len > len) {
		snprintf(w->bad, sizeof(w->bad), "IPv4 total length %u does not fit the frame (%u bytes)",
		         ih.total_len, len);
		w->is_other = true;
		return;
	}
	if (ih.proto != IPPROTO_TCP_NUM) {
		w->is_other = true;
		if (!w->bad[0])
			snprintf(w->bad, sizeof(w->bad), "IPv4 protocol %u, not TCP", ih.proto);
		return;
	}
	const uint8_t *t = p + ih.ihl;
	uint32_t tlen = ih.total_len - ih.ihl;
	if (tlen < TCP_HDR_MIN) {
		w->is_other = true;
		snprintf(w->bad, sizeof(w->bad), "TCP segment of %u bytes", tlen);
		return;
	}
	uint32_t doff = (uint32_t)(t[TCP_OFF_DOFF] >> 4) * 4;
	if (doff < TCP_HDR_MIN || doff > tlen) {
		w->is_other = true;
		snprintf(w->bad, sizeof(w->bad), "TCP data offset %u", doff);
		return;
	}
	w->is_tcp = true;
	uint32_t sum = csum_pseudo_ipv4(ih.src, ih.dst, IPPROTO_TCP_NUM, (uint16_t)tlen);
	if (csum_finish(csum_add(sum, t, tlen)) != 0 && !w->bad[0])
		snprintf(w->bad, sizeof(w->bad), "bad TCP checksum 0x%04x", get_be16(t + TCP_OFF_CSUM));
	w->sport = get_be16(t + TCP_OFF_SPORT);
	w->dport = get_be16(t + TCP_OFF_DPORT);
	w->seq = get_be32(t + TCP_OFF_SEQ);
	w->ack = get_be32(t + TCP_OFF_ACK);
	w->flags = t[TCP_OFF_FLAGS];
	w->win = get_be16(t + TCP_OFF_WIN);
	w->urg = get_be16(t + TCP_OFF_URG);
	w->len = tlen - doff;
	for (uint32_t i = doff; i < tlen; i++)
		if (t[i]) {
			w->payload_nonzero = true;
			break;
		}
	decode_tcp_opts(t + TCP_HDR_MIN, doff - TCP_HDR_MIN, w);
}

void drill_wire_to_script(const struct drill_runner *r, const struct drill_wire_pkt *w, struct drill_packet *p)
{
	memset(p, 0, sizeof(*p));
	p->dir = '>';
	p->flags = w->flags;
	p->seq_start = w->seq - r->stack_isn;
	p->len = w->len;
	p->seq_end = p->seq_start + w->len;
	p->has_ack = (w->flags & TCP_FLAG_ACK) != 0;
	p->ack = w->ack - r->peer_isn;
	p->has_win = true;
	p->win = w->win;
	p->has_urg = (w->flags & TCP_FLAG_URG) != 0;
	p->urg = w->urg;
	p->opts_form = w->nopts ? DRILL_OPTS_LIST : DRILL_OPTS_NONE;
	p->nopts = w->nopts;
	memcpy(p->opts, w->opts, sizeof(p->opts));
	for (size_t i = 0; i < w->nopts; i++)
		if (p->opts[i].kind == DRILL_OPT_SACK)
			for (size_t b = 0; b < p->opts[i].nblocks; b++) {
				p->opts[i].block[b][0] -= r->peer_isn;
				p->opts[i].block[b][1] -= r->peer_isn;
			}
}

/* ---- building what the script injects ---- */

/* Wraps an IPv4 datagram (at p, len bytes, built in place after 14 bytes of room) and injects it. */
static void inject_frame(struct drill_runner *r, const uint8_t *frame, uint32_t len, uint16_t gso_size)
{
	struct pbuf *pb = pbuf_alloc(&r->st.core.pool, PBUF_HEADROOM, len);
	if (!pb) {
		drill_fail(r, 0, "runner: no packet buffer for a %u-byte inbound frame", len);
		return;
	}
	uint8_t *d = pbuf_put(pb, len);
	if (!d) {
		pbuf_free(pb);
		drill_fail(r, 0, "runner: no room for a %u-byte inbound frame", len);
		return;
	}
	memcpy(d, frame, len);
	pb->gso_size = gso_size;
	r->st.core.now = r->now;
	ts_stack_input(&r->st, pb); /* the stack owns pb now */
}

static uint32_t build_eth_ipv4(struct drill_runner *r, uint8_t *f, uint8_t proto, uint32_t payload_len)
{
	struct eth_hdr eh;
	memcpy(eh.dst, r->stack_mac, ETH_ALEN);
	memcpy(eh.src, remote_mac, ETH_ALEN);
	eh.type = ETHERTYPE_IPV4;
	eth_hdr_emit(f, &eh);
	struct ipv4_hdr ih = {0};
	ih.ihl = IPV4_HDR_MIN;
	ih.total_len = (uint16_t)(IPV4_HDR_MIN + payload_len);
	ih.id = r->ip_id++;
	ih.df = true;
	ih.ttl = 64;
	ih.proto = proto;
	ih.src = DRILL_REMOTE_IP;
	ih.dst = DRILL_LOCAL_IP;
	uint8_t *ip = f + ETH_HDR_LEN;
	ipv4_hdr_emit(ip, &ih);
	put_be16(ip + IPV4_OFF_CSUM, csum_finish(csum_add(0, ip, IPV4_HDR_MIN)));
	return ETH_HDR_LEN + IPV4_HDR_MIN + payload_len;
}

/* Script TS ecr -> the stack's real TS val: the offset learned from its first TS option. */
static uint32_t map_ts_ecr(const struct drill_runner *r, uint32_t script_ecr)
{
	if (!r->ts_known || script_ecr == 0)
		return script_ecr;
	return script_ecr - r->ts_script0 + r->ts_actual0;
}

static size_t emit_tcp_opts(struct drill_runner *r, const struct drill_packet *pk, uint8_t *o)
{
	size_t n = 0;
	for (size_t i = 0; i < pk->nopts; i++) {
		const struct drill_tcp_opt *op = &pk->opts[i];
		switch (op->kind) {
		case DRILL_OPT_EOL: o[n++] = TCP_OPT_EOL; break;
		case DRILL_OPT_NOP: o[n++] = TCP_OPT_NOP; break;
		case DRILL_OPT_MSS:
			o[n++] = TCP_OPT_MSS; o[n++] = 4; put_be16(o + n, (uint16_t)op->a); n += 2;
			break;
		case DRILL_OPT_WSCALE:
			o[n++] = TCP_OPT_WSCALE; o[n++] = 3; o[n++] = (uint8_t)op->a;
			break;
		case DRILL_OPT_SACK_PERM:
			o[n++] = TCP_OPT_SACK_PERM; o[n++] = 2;
			break;
		case DRILL_OPT_TS:
			o[n++] = TCP_OPT_TS; o[n++] = 10;
			put_be32(o + n, op->a);
			put_be32(o + n + 4, map_ts_ecr(r, op->b));
			n += 8;
			break;
		case DRILL_OPT_SACK:
			o[n++] = TCP_OPT_SACK; o[n++] = (uint8_t)(2 + 8 * op->nblocks);
			for (size_t b = 0; b < op->nblocks; b++) {
				put_be32(o + n, op->block[b][0] + r->stack_isn);
				put_be32(o + n + 4, op->block[b][1] + r->stack_isn);
				n += 8;
			}
			break;
		}
	}
	while (n % 4)
		o[n++] = TCP_OPT_EOL; /* pad to a 32-bit boundary (RFC 9293 3.1) */
	return n;
}

void drill_inject_packet(struct drill_runner *r, const struct drill_event *ev)
{
	const struct drill_packet *pk = &ev->packet;
	if (pk->icmp) {
		/* ICMP unreachable quoting tapstack's segment pk->seq_start (RFC 792; RFC 1191 next-hop MTU). */
		uint8_t f[ETH_HDR_LEN + IPV4_HDR_MIN + 8 + IPV4_HDR_MIN + 8];
		memset(f, 0, sizeof(f));
		uint8_t *icmp = f + ETH_HDR_LEN + IPV4_HDR_MIN;
		icmp[0] = pk->icmp_type;
		icmp[1] = pk->icmp_code;
		put_be16(icmp + 6, (uint16_t)pk->icmp_mtu);
		uint8_t *qip = icmp + 8;
		struct ipv4_hdr qh = {0};
		qh.ihl = IPV4_HDR_MIN;
		qh.total_len = (uint16_t)(IPV4_HDR_MIN + TCP_HDR_MIN + pk->len);
		qh.df = true;
		qh.ttl = 64;
		qh.proto = IPPROTO_TCP_NUM;
		qh.src = DRILL_LOCAL_IP;
		qh.dst = DRILL_REMOTE_IP;
		ipv4_hdr_emit(qip, &qh);
		put_be16(qip + IPV4_OFF_CSUM, csum_finish(csum_add(0, qip, IPV4_HDR_MIN)));
		uint8_t *qt = qip + IPV4_HDR_MIN;
		put_be16(qt + TCP_OFF_SPORT, r->local_port);
		put_be16(qt + TCP_OFF_DPORT, r->remote_port);
		put_be32(qt + TCP_OFF_SEQ, pk->seq_start + r->stack_isn);
		uint32_t ilen = 8 + IPV4_HDR_MIN + 8;
		put_be16(icmp + 2, csum_finish(csum_add(0, icmp, ilen)));
		uint32_t n = build_eth_ipv4(r, f, IPPROTO_ICMP_NUM, ilen);
		inject_frame(r, f, n, 0);
		return;
	}

	/*
	 * `< S 0:0(0)` opens a new connection: a fresh port and ISN, as a new client would
	 * use, so a script can show several clients (the accept queue filling up). The same
	 * SYN right after a SYN (nothing else injected between) is that client retransmitting
	 * and keeps them; a SYN at another sequence number belongs to the current connection
	 * (an in-window SYN, RFC 5961 4.2).
	 */
	bool syn_only = (pk->flags & TCP_FLAG_SYN) && !(pk->flags & TCP_FLAG_ACK);
	bool retransmit = syn_only && r->last_inbound_syn;
	r->last_inbound_syn = syn_only && pk->seq_start == 0;
	if (syn_only && pk->seq_start == 0 && !retransmit && !r->client_mode) {
		r->conn_count++;
		r->remote_port = (uint16_t)(DRILL_REMOTE_PORT_BASE + r->conn_count - 1);
		r->peer_isn = 0x10000000u * r->conn_count + 0x0badcafeu;
		r->local_port = DRILL_SERVER_PORT;
		r->ts_known = r->ts_paired = false; /* a new connection: its own TS offset (RFC 7323 5.4) */
	} else if ((pk->flags & TCP_FLAG_SYN) && (pk->flags & TCP_FLAG_ACK) && r->client_mode && r->need_peer_isn) {
		/* The answer to a new SYN of tapstack's; a repeated SYN-ACK keeps the ISN. */
		r->peer_isn = 0x5eed0000u + 0x01000000u * ++r->conn_count;
		r->need_peer_isn = false;
	}

	uint8_t o[64];
	size_t olen = emit_tcp_opts(r, pk, o);
	if (olen > TCP_HDR_MAX - TCP_HDR_MIN) {
		drill_fail(r, ev->line, "inbound TCP options take %zu bytes (at most 40 fit)", olen);
		return;
	}
	uint32_t tlen = (uint32_t)(TCP_HDR_MIN + olen) + pk->len;
	if (tlen + IPV4_HDR_MIN > 0xffff) {
		drill_fail(r, ev->line, "inbound segment of %u bytes does not fit one IPv4 datagram", pk->len);
		return;
	}
	uint32_t flen = ETH_HDR_LEN + IPV4_HDR_MIN + tlen;
	uint8_t *f = calloc(1, flen);
	if (!f) {
		drill_fail(r, ev->line, "runner: out of memory");
		return;
	}
	uint8_t *t = f + ETH_HDR_LEN + IPV4_HDR_MIN;
	put_be16(t + TCP_OFF_SPORT, r->remote_port);
	put_be16(t + TCP_OFF_DPORT, r->local_port);
	put_be32(t + TCP_OFF_SEQ, pk->seq_start + r->peer_isn);
	/* As packetdrill: with the ACK flag, the script's ack number (0 when the line gives
	 * none) relative to tapstack's ISN; without it, 0. */
	put_be32(t + TCP_OFF_ACK, pk->has_ack ? pk->ack + r->stack_isn : (pk->flags & TCP_FLAG_ACK) ? r->stack_isn : 0);
	t[TCP_OFF_DOFF] = (uint8_t)(((TCP_HDR_MIN + olen) / 4) << 4);
	t[TCP_OFF_FLAGS] = pk->flags;
	put_be16(t + TCP_OFF_WIN, (uint16_t)(pk->has_win ? pk->win : 65535));
	put_be16(t + TCP_OFF_URG, (uint16_t)(pk->has_urg ? pk->urg : 0));
	memcpy(t + TCP_HDR_MIN, o, olen);
	/* Payload: zeros, as packetdrill sends. */
	uint32_t sum = csum_pseudo_ipv4(DRILL_REMOTE_IP, DRILL_LOCAL_IP, IPPROTO_TCP_NUM, (uint16_t)tlen);
	put_be16(t + TCP_OFF_CSUM, csum_finish(csum_add(sum, t, tlen)));
	build_eth_ipv4(r, f, IPPROTO_TCP_NUM, tlen);
	/* Longer than the MTU: one GRO super-segment of --mss-sized pieces, as packetdrill's
	 * tun write with a virtio header (the stack sees gso_size as Linux would). */
	bool gro = IPV4_HDR_MIN + tlen > r->cfg.link.mtu && r->gro_mss;
	inject_frame(r, f, flen, gro ? (uint16_t)r->gro_mss : 0);
	free(f);
}

static void inject_arp(struct drill_runner *r, uint16_t op, uint32_t spa, const uint8_t *tha, uint32_t tpa)
{
	uint8_t f[ETH_HDR_LEN + ARP_PKT_LEN];
	struct eth_hdr eh;
	if (op == ARP_OP_REQUEST)
		memset(eh.dst, 0xff, ETH_ALEN);
	else
		memcpy(eh.dst, r->stack_mac, ETH_ALEN);
	memcpy(eh.src, remote_mac, ETH_ALEN);
	eh.type = ETHERTYPE_ARP;
	eth_hdr_emit(f, &eh);
	struct arp_pkt a;
	a.htype = ARP_HTYPE_ETHERNET;
	a.ptype = ETHERTYPE_IPV4;
	a.hlen = ETH_ALEN;
	a.plen = 4;
	a.oper = op;
	memcpy(a.sha, remote_mac, ETH_ALEN);
	a.spa = spa;
	memcpy(a.tha, tha, ETH_ALEN);
	a.tpa = tpa;
	arp_pkt_emit(f + ETH_HDR_LEN, &a);
	inject_frame(r, f, sizeof(f), 0);
}

void drill_inject_arp_seed(struct drill_runner *r)
{
	static const uint8_t zero[ETH_ALEN];
	/* RFC 826: a request addressed to us makes the receiver add the sender to its table. */
	inject_arp(r, ARP_OP_REQUEST, DRILL_GATEWAY_IP, zero, DRILL_LOCAL_IP);
	inject_arp(r, ARP_OP_REQUEST, DRILL_REMOTE_IP, zero, DRILL_LOCAL_IP);
}

bool drill_answer_arp(struct drill_runner *r)
{
	bool injected = false;
	struct drill_outq *q = &r->outq;
	/* ARP frames are the runner's business, not the script's: take them out of the queue. */
	size_t kept = 0;
	size_t n = q->count;
	uint32_t answer[16];
	size_t nanswer = 0;
	for (size_t i = 0; i < n; i++) {
		struct drill_wire_pkt *w = &q->pkts[(q->head + i) % q->cap];
		if (w->is_arp) {
			bool ask = w->arp_op == ARP_OP_REQUEST && w->arp_tpa != DRILL_LOCAL_IP;
			if (ask && nanswer < 16)
				answer[nanswer++] = w->arp_tpa;
			drill_vlog(r, "%10.6f   (tapstack's ARP %s %u.%u.%u.%u: %s)\n", drill_rel_secs(r, w->t),
			           w->arp_op == ARP_OP_REQUEST ? "request for" : "reply to", w->arp_tpa >> 24,
			           (w->arp_tpa >> 16) & 255, (w->arp_tpa >> 8) & 255, w->arp_tpa & 255,
			           ask ? "answered by the runner" : w->arp_op == ARP_OP_REQUEST ? "gratuitous" : "noted");
			continue;
		}
		q->pkts[(q->head + kept) % q->cap] = *w;
		kept++;
	}
	q->count = kept;
	for (size_t i = 0; i < nanswer; i++) {
		inject_arp(r, ARP_OP_REPLY, answer[i], r->stack_mac, DRILL_LOCAL_IP);
		injected = true;
	}
	return injected;
}
