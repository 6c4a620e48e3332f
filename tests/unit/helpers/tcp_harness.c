/*
 * tcp_harness.c - the packet-level TCP test bench (see tcp_harness.h): a recording driver,
 * a fake clock, frame builders with correct checksums and frame checkers that assert every
 * field and report the caller's line.
 *
 * Linked into every unit test program (every tests/unit/helpers source); only the TCP tests call it.
 */
#include "tcp_harness.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "core/byteorder.h"
#include "core/checksum.h"
#include "core/counters.h"
#include "socket/socket.h"
#include "socket/socket_int.h"
#include "wire/arp.h"
#include "wire/dump.h"
#include "wire/ethernet.h"
#include "wire/ipv4.h"

const uint8_t th_peer_mac[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x01};
const uint8_t th_local_mac[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x02};
unsigned long th_allocs;

/* ---- frame queues ------------------------------------------------------------------ */

void th_fq_push(struct th_fq *q, const uint8_t *data, uint32_t len, usec_t when)
{
	struct th_frame *f = malloc(sizeof(*f) + len);
	th_allocs++;
	assert_non_null(f);
	f->next = NULL;
	f->when = when;
	f->len = len;
	f->gso_size = 0;
	f->pbuf_flags = 0;
	memcpy(f->data, data, len);
	if (q->tail)
		q->tail->next = f;
	else
		q->head = f;
	q->tail = f;
	q->count++;
}

struct th_frame *th_fq_pop(struct th_fq *q)
{
	struct th_frame *f = q->head;
	if (!f)
		return NULL;
	q->head = f->next;
	if (!q->head)
		q->tail = NULL;
	q->count--;
	f->next = NULL;
	return f;
}

void th_fq_purge(struct th_fq *q)
{
	struct th_frame *f;
	while ((f = th_fq_pop(q)))
		free(f);
}

/*
 * TH_TRACE=1 in the environment prints every frame in and out with the fake time, to
 * read a failing test's whole exchange.
 */
static void th_trace(const char *dir, usec_t now, const uint8_t *frame, uint32_t len)
{
	static int on = -1;
	if (on < 0) {
		const char *e = getenv("TH_TRACE");
		on = e && *e && *e != '0';
	}
	if (!on)
		return;
	char line[512];
	dump_frame(line, sizeof(line), frame, len);
	fprintf(stderr, "%10.6f %s %s\n", (double)(now - TH_START_USEC) / 1e6, dir, line);
}

/* ---- the recording driver ------------------------------------------------------------ */

struct th_recdev {
	struct netdev base;
	struct th_fq *rx, *tx;
	const usec_t *clock;
};

static int recdev_recv(struct netdev *dev, struct pbuf **pbp)
{
	struct pbuf *pb = *pbp;
	struct th_recdev *d = (struct th_recdev *)(void *)dev;
	struct th_frame *f = th_fq_pop(d->rx);
	if (!f)
		return 0;
	uint32_t n = f->len;
	if (n > pbuf_tailroom(pb))
		n = pbuf_tailroom(pb);
	memcpy(pb->data, f->data, n);
	pb->len = n;
	pb->gso_size = f->gso_size;
	pb->flags |= f->pbuf_flags;
	free(f);
	return (int)n;
}

static int recdev_send(struct netdev *dev, struct pbuf *pb)
{
	struct th_recdev *d = (struct th_recdev *)(void *)dev;
	uint32_t n = pbuf_frame_len(pb);
	uint8_t *buf = malloc(n ? n : 1);
	th_allocs++;
	if (!buf)
		return -ENOMEM;
	pbuf_copy_out(pb, buf);
	if ((pb->flags & PBUF_F_CSUM_PARTIAL) && n >= ETH_HDR_LEN + IPV4_HDR_MIN) {
		/* Finish the checksum as an offloading device does (virtio F_NEEDS_CSUM): sum from
		 * the TCP header to the end, the field (holding the pseudo-header sum) included,
		 * and store the complement. A wrong pseudo-header sum then fails every check. */
		uint32_t l4 = ETH_HDR_LEN + (uint32_t)(buf[ETH_HDR_LEN] & 0x0f) * 4u;
		if (n >= l4 + TCP_HDR_MIN)
			put_be16(buf + l4 + TCP_OFF_CSUM, csum_finish(csum_add(0, buf + l4, n - l4)));
	}
	if (*d->clock >= TH_START_USEC)
		th_trace("<", *d->clock, buf, n);
	th_fq_push(d->tx, buf, n, *d->clock);
	d->tx->tail->gso_size = pb->gso_size;
	d->tx->tail->pbuf_flags = pb->flags & PBUF_F_CSUM_PARTIAL;
	free(buf);
	return 0;
}

static int recdev_pollfd(struct netdev *dev)
{
	(void)dev;
	return -1;
}

static void recdev_close(struct netdev *dev)
{
	free(dev);
}

static const struct netdev_ops recdev_ops = {
	.recv = recdev_recv,
	.send = recdev_send,
	.pollfd = recdev_pollfd,
	.close = recdev_close,
};

struct netdev *th_recdev_new(struct th_fq *rx, struct th_fq *tx, const usec_t *clock)
{
	struct th_recdev *d = calloc(1, sizeof(*d));
	assert_non_null(d);
	d->base.ops = &recdev_ops;
	snprintf(d->base.name, sizeof(d->base.name), "rec0");
	d->base.mtu = 1500;
	d->rx = rx;
	d->tx = tx;
	d->clock = clock;
	return &d->base;
}

/* ---- bench life cycle ------------------------------------------------------------------ */

static void th_build_arp(uint8_t *frame, uint16_t op, const uint8_t *eth_dst, const uint8_t *tha,
                         uint32_t tpa)
{
	struct eth_hdr eh;
	memcpy(eh.dst, eth_dst, 6);
	memcpy(eh.src, th_peer_mac, 6);
	eh.type = ETHERTYPE_ARP;
	memset(frame, 0, ETH_MIN_FRAME);
	eth_hdr_emit(frame, &eh);
	struct arp_pkt a = {
		.htype = ARP_HTYPE_ETHERNET, .ptype = ETHERTYPE_IPV4, .hlen = 6, .plen = 4, .oper = op,
		.spa = TH_PEER_IP, .tpa = tpa,
	};
	memcpy(a.sha, th_peer_mac, 6);
	memcpy(a.tha, tha, 6);
	arp_pkt_emit(frame + ETH_HDR_LEN, &a);
}

struct th *th_new(void (*tweak)(struct stack_config *cfg))
{
	return th_new_offload(tweak, 0);
}

struct th *th_new_offload(void (*tweak)(struct stack_config *cfg), uint32_t offload)
{
	struct th *h = calloc(1, sizeof(*h));
	assert_non_null(h);
	h->now = TH_START_USEC;
	h->answer_arp = true;
	h->peer_port = TH_PEER_PORT;
	h->local_port = 80;
	h->peer_ip = TH_PEER_IP;
	h->dst_ip = TH_LOCAL_IP;
	h->dst_mac = th_local_mac;
	h->irs = 1000;
	h->ip_id = 1;

	struct stack_config cfg;
	ts_stack_config_default(&cfg);
	memcpy(cfg.link.mac, th_local_mac, 6);
	cfg.link.addr = TH_LOCAL_IP;
	cfg.link.prefix_len = 24;
	cfg.seed = 42;
	if (tweak)
		tweak(&cfg);
	h->dev = th_recdev_new(&h->rx, &h->tx, &h->now);
	h->dev->offload = offload;
	int rc = ts_stack_init(&h->st, &cfg, h->dev, h->now);
	assert_int_equal(rc, 0);

	/* Learn the peer: an ARP request from 10.0.0.1 for us makes the stack add the sender
	 * (RFC 826, "if I am the target, add the triplet"); the reply and the gratuitous ARP are
	 * discarded. */
	uint8_t frame[ETH_MIN_FRAME];
	static const uint8_t bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
	static const uint8_t zero[6] = {0};
	th_build_arp(frame, ARP_OP_REQUEST, bcast, zero, TH_LOCAL_IP);
	th_inject(h, frame, sizeof(frame));
	th_drain(h);
	return h;
}

void th_free(struct th *h)
{
	if (!h)
		return;
	ts_stack_destroy(&h->st);
	th_fq_purge(&h->rx);
	th_fq_purge(&h->tx);
	free(h);
}

int th_setup(void **state)
{
	*state = th_new(NULL);
	return 0;
}

int th_teardown(void **state)
{
	th_free(*state);
	return 0;
}

struct socket_layer *th_sl(struct th *h)
{
	return ts_stack_sockets(&h->st);
}

struct tcp_conn *th_conn(struct th *h, int fd)
{
	struct ts_sock *so = ts_get(th_sl(h), fd);
	assert_non_null(so);
	assert_non_null(so->conn);
	return so->conn;
}

/* ---- time ------------------------------------------------------------------------------ */

void th_poll(struct th *h)
{
	/* ts_stack_poll drains a bounded batch; keep going until everything injected is read. */
	int guard = 0;
	do {
		ts_stack_poll(&h->st, h->now);
	} while (h->rx.count > 0 && ++guard < 10000);
}

/* Moves to each deadline <= target in turn; stop(h) may end the walk early (returns true). */
static bool th_walk(struct th *h, usec_t target, bool (*stop)(struct th *h))
{
	for (int guard = 0; guard < 1000000; guard++) {
		usec_t d = ts_stack_next_deadline(&h->st);
		if (d > target)
			break;
		if (d > h->now)
			h->now = d;
		th_poll(h);
		if (stop && stop(h))
			return true;
		if (ts_stack_next_deadline(&h->st) <= h->now && guard > 1000) {
			/* A timer that keeps re-arming itself at `now` would spin forever. */
			fail_msg("a timer re-arms itself at the current time (deadline %llu)",
			         (unsigned long long)ts_stack_next_deadline(&h->st));
		}
	}
	h->now = target;
	th_poll(h);
	return stop ? stop(h) : false;
}

void th_advance_us(struct th *h, usec_t us)
{
	th_walk(h, h->now + us, NULL);
}

void th_advance(struct th *h, uint64_t ms)
{
	th_advance_us(h, ms * USEC_PER_MS);
}

static bool th_has_seg(struct th *h)
{
	return th_pending(h) > 0;
}

long th_advance_until_seg(struct th *h, uint64_t max_ms)
{
	usec_t start = h->now;
	if (th_pending(h) > 0)
		return 0;
	if (th_walk(h, start + max_ms * USEC_PER_MS, th_has_seg))
		return (long)((h->now - start) / USEC_PER_MS);
	return -1;
}

/* ---- input ------------------------------------------------------------------------------ */

void th_inject_meta(struct th *h, const uint8_t *frame, uint32_t len, uint16_t gso_size, uint8_t pbuf_flags)
{
	th_trace(">", h->now, frame, len);
	th_fq_push(&h->rx, frame, len, h->now);
	h->rx.tail->gso_size = gso_size;
	h->rx.tail->pbuf_flags = pbuf_flags;
	th_poll(h);
}

void th_inject(struct th *h, const uint8_t *frame, uint32_t len)
{
	th_trace(">", h->now, frame, len);
	th_fq_push(&h->rx, frame, len, h->now);
	th_poll(h);
}

uint32_t th_build(struct th *h, uint8_t *frame, uint8_t flags, uint32_t seq, uint32_t ack,
                  uint16_t win, const struct tcp_opts *opts, const void *payload, uint32_t len)
{
	assert_true(len <= 2048);
	memset(frame, 0, TH_FRAME_MAX);

	struct eth_hdr eh;
	memcpy(eh.dst, h->dst_mac, 6);
	memcpy(eh.src, th_peer_mac, 6);
	eh.type = ETHERTYPE_IPV4;
	eth_hdr_emit(frame, &eh);

	struct tcp_hdr th;
	memset(&th, 0, sizeof(th));
	th.sport = h->peer_port;
	th.dport = h->local_port;
	th.seq = seq;
	th.ack = ack;
	th.flags = flags;
	th.win = win;
	th.urg = h->urg_ptr;
	if (opts)
		th.opts = *opts;
	uint8_t *tcp = frame + ETH_HDR_LEN + IPV4_HDR_MIN;
	size_t hl = tcp_hdr_emit(tcp, &th);
	if (len)
		memcpy(tcp + hl, payload, len);
	uint16_t tcp_len = (uint16_t)(hl + len);
	uint32_t sum = csum_pseudo_ipv4(h->peer_ip, h->dst_ip, IPPROTO_TCP_NUM, tcp_len);
	put_be16(tcp + TCP_OFF_CSUM, csum_finish(csum_add(sum, tcp, tcp_len)));

	struct ipv4_hdr ih = {
		.version = 4, .ihl = IPV4_HDR_MIN, .total_len = (uint16_t)(IPV4_HDR_MIN + tcp_len),
		.id = h->ip_id++, .df = true, .ttl = 64, .tos = h->tos, .proto = IPPROTO_TCP_NUM, .csum = 0,
		.src = h->peer_ip, .dst = h->dst_ip,
	};
	uint8_t *ip = frame + ETH_HDR_LEN;
	ipv4_hdr_emit(ip, &ih);
	put_be16(ip + IPV4_OFF_CSUM, csum_finish(csum_add(0, ip, IPV4_HDR_MIN)));

	uint32_t flen = ETH_HDR_LEN + IPV4_HDR_MIN + tcp_len;
	if (flen < ETH_MIN_FRAME)
		flen = ETH_MIN_FRAME;   /* a real wire pads short frames; the stack must trim */
	return flen;
}

void th_send(struct th *h, uint8_t flags, uint32_t seq, uint32_t ack, uint16_t win,
             const struct tcp_opts *opts, const void *payload, uint32_t len)
{
	uint8_t frame[TH_FRAME_MAX];
	uint32_t flen = th_build(h, frame, flags, seq, ack, win, opts, payload, len);
	th_inject(h, frame, flen);
}

/* ---- output ----------------------------------------------------------------------------- */

/* Takes ARP frames off the front of the sent queue, answering requests for the peer. */
static void th_sweep_arp(struct th *h)
{
	for (;;) {
		/* Find the first ARP frame anywhere in the queue (they may sit behind TCP frames). */
		struct th_frame *prev = NULL, *f = h->tx.head;
		while (f && !(f->len >= ETH_HDR_LEN && get_be16(f->data + ETH_OFF_TYPE) == ETHERTYPE_ARP)) {
			prev = f;
			f = f->next;
		}
		if (!f)
			return;
		if (prev)
			prev->next = f->next;
		else
			h->tx.head = f->next;
		if (h->tx.tail == f)
			h->tx.tail = prev;
		h->tx.count--;
		h->arp_seen++;
		struct arp_pkt a;
		bool request = f->len >= ETH_HDR_LEN + ARP_PKT_LEN &&
		               arp_pkt_parse(f->data + ETH_HDR_LEN, f->len - ETH_HDR_LEN, &a) == ARP_PARSE_OK &&
		               a.oper == ARP_OP_REQUEST && a.tpa == TH_PEER_IP && a.spa != TH_PEER_IP;
		free(f);
		if (request && h->answer_arp) {
			uint8_t frame[ETH_MIN_FRAME];
			th_build_arp(frame, ARP_OP_REPLY, th_local_mac, th_local_mac, TH_LOCAL_IP);
			th_inject(h, frame, sizeof(frame));
		}
	}
}

uint32_t th_pending(struct th *h)
{
	th_sweep_arp(h);
	return h->tx.count;
}

void th_drain(struct th *h)
{
	th_sweep_arp(h);
	th_fq_purge(&h->tx);
}

/* Parses a frame into s; on a malformed frame returns a message, else NULL. */
static const char *th_parse_frame(struct th *h, const struct th_frame *f, struct th_seg *s)
{
	memset(s, 0, sizeof(*s));
	s->when = f->when;
	if (f->len < ETH_MIN_FRAME)
		return "frame shorter than 60 bytes (not padded)";
	struct eth_hdr eh;
	eth_hdr_parse(f->data, f->len, &eh);
	if (eh.type != ETHERTYPE_IPV4)
		return "EtherType is not IPv4";
	if (!eth_addr_equal(eh.dst, th_peer_mac))
		return "Ethernet destination is not the peer's MAC";
	if (!eth_addr_equal(eh.src, th_local_mac))
		return "Ethernet source is not the stack's MAC";
	const uint8_t *ip = f->data + ETH_HDR_LEN;
	uint32_t iplen = f->len - ETH_HDR_LEN;
	struct ipv4_hdr ih;
	if (ipv4_hdr_parse(ip, iplen, &ih) != 0 || ih.version != 4 || ih.ihl != IPV4_HDR_MIN)
		return "bad IPv4 header (version/IHL)";
	if (ih.total_len > iplen || ih.total_len < IPV4_HDR_MIN + TCP_HDR_MIN)
		return "IPv4 total length does not fit the frame";
	if (csum_finish(csum_add(0, ip, IPV4_HDR_MIN)) != 0)
		return "bad IPv4 header checksum";
	if (ih.proto != IPPROTO_TCP_NUM)
		return "IP protocol is not TCP";
	if (ih.mf || ih.frag_off)
		return "fragmented TCP segment";
	if (ih.ttl == 0)
		return "TTL 0";
	if (ih.src != TH_LOCAL_IP)
		return "IP source is not the stack's address";
	if (ih.dst != h->peer_ip)
		return "IP destination is not the peer";
	s->src = ih.src;
	s->dst = ih.dst;
	s->tos = ih.tos;
	s->ttl = ih.ttl;
	const uint8_t *tcp = ip + IPV4_HDR_MIN;
	uint16_t tcp_len = (uint16_t)(ih.total_len - IPV4_HDR_MIN);
	if (tcp_hdr_parse(tcp, tcp_len, &s->hdr) != TCP_PARSE_OK)
		return "malformed TCP header or options";
	uint32_t sum = csum_pseudo_ipv4(ih.src, ih.dst, IPPROTO_TCP_NUM, tcp_len);
	if (csum_finish(csum_add(sum, tcp, tcp_len)) != 0)
		return "bad TCP checksum";
	s->len = tcp_len - s->hdr.doff;
	if (s->len > sizeof(s->payload))
		return "payload larger than 2048 bytes";
	memcpy(s->payload, tcp + s->hdr.doff, s->len);
	return NULL;
}

bool th_pop_seg(struct th *h, struct th_seg *out)
{
	th_sweep_arp(h);
	struct th_frame *f = th_fq_pop(&h->tx);
	if (!f)
		return false;
	const char *err = th_parse_frame(h, f, out);
	free(f);
	if (err)
		fail_msg("the stack sent a bad frame: %s", err);
	return true;
}

void th_seg_format(const struct th_seg *s, char *buf, size_t size)
{
	int n = snprintf(buf, size, "%u > %u: ", s->hdr.sport, s->hdr.dport);
	if (n < 0 || (size_t)n >= size)
		return;
	tcp_hdr_format(buf + n, size - (size_t)n, &s->hdr, s->len);
}

static void th_flags_str(unsigned flags, char *buf)
{
	char *p = buf;
	if (flags & TCP_FLAG_SYN) *p++ = 'S';
	if (flags & TCP_FLAG_FIN) *p++ = 'F';
	if (flags & TCP_FLAG_RST) *p++ = 'R';
	if (flags & TCP_FLAG_PSH) *p++ = 'P';
	if (flags & TCP_FLAG_URG) *p++ = 'U';
	if (flags & TCP_FLAG_ECE) *p++ = 'E';
	if (flags & TCP_FLAG_CWR) *p++ = 'W';
	if (flags & TCP_FLAG_ACK) *p++ = '.';
	if (p == buf) *p++ = 'n';
	*p = 0;
}

static void th_fmt_field(char *buf, size_t size, const char *name, long long v)
{
	if (v == TH_ANY)
		snprintf(buf, size, "%s *", name);
	else
		snprintf(buf, size, "%s %lld", name, v);
}

static void th_opts_str(const struct tcp_opts *o, char *buf, size_t size)
{
	if (o == NULL) {
		snprintf(buf, size, "none");
		return;
	}
	if (o == TH_ANY_OPTS) {
		snprintf(buf, size, "*");
		return;
	}
	size_t n = 0;
	buf[0] = 0;
#define TH_APPEND(...)                                                                             \
	do {                                                                                       \
		int k_ = snprintf(buf + n, size - n, __VA_ARGS__);                                  \
		if (k_ > 0 && (size_t)k_ < size - n)                                               \
			n += (size_t)k_;                                                           \
	} while (0)
	if (o->has_mss)
		TH_APPEND("mss %u,", o->mss);
	if (o->sack_ok)
		TH_APPEND("sackOK,");
	if (o->has_ts)
		TH_APPEND("TS val %u ecr %u,", o->ts_val, o->ts_ecr);
	if (o->has_wscale)
		TH_APPEND("wscale %u,", o->wscale);
	for (unsigned i = 0; i < o->sack_count; i++)
		TH_APPEND("sack %u:%u,", o->sack[i].start, o->sack[i].end);
#undef TH_APPEND
	if (n == 0)
		snprintf(buf, size, "none");
	else
		buf[n - 1] = 0;
}

/* NULL when the options match, else what differs. */
static const char *th_opts_mismatch(const struct tcp_opts *exp, const struct th_seg *s)
{
	const struct tcp_opts *o = &s->hdr.opts;
	if (exp == TH_ANY_OPTS)
		return NULL;
	if (exp == NULL)
		return s->hdr.doff != TCP_HDR_MIN ? "options present, expected none" : NULL;
	if (o->has_mss != exp->has_mss || (exp->has_mss && o->mss != exp->mss))
		return "MSS option";
	if (o->sack_ok != exp->sack_ok)
		return "SACK-permitted option";
	if (o->has_wscale != exp->has_wscale || (exp->has_wscale && o->wscale != exp->wscale))
		return "window scale option";
	if (o->has_ts != exp->has_ts)
		return "timestamp option presence";
	if (exp->has_ts && exp->ts_val != 0 && o->ts_val != exp->ts_val)
		return "timestamp TSval";
	if (exp->has_ts && o->ts_ecr != exp->ts_ecr)
		return "timestamp TSecr";
	if (o->sack_count != exp->sack_count)
		return "number of SACK blocks";
	for (unsigned i = 0; i < o->sack_count; i++)
		if (o->sack[i].start != exp->sack[i].start || o->sack[i].end != exp->sack[i].end)
			return "SACK block";
	return NULL;
}

struct th_seg th_expect_at(const char *file, int line, struct th *h, long long flags,
                           long long seq, long long ack, long long win,
                           const struct tcp_opts *opts, long long len)
{
	char fl[16], a[32], b[32], c[32], d[32], ob[160], got[320];
	if (flags == TH_ANY)
		snprintf(fl, sizeof(fl), "*");
	else
		th_flags_str((unsigned)flags & 0xffu, fl);
	if (flags != TH_ANY && (flags & TH_PSH_ANY))
		strcat(fl, "(P?)");
	th_fmt_field(a, sizeof(a), "seq", seq);
	th_fmt_field(b, sizeof(b), "ack", ack);
	th_fmt_field(c, sizeof(c), "win", win);
	th_fmt_field(d, sizeof(d), "length", len);
	th_opts_str(opts, ob, sizeof(ob));

	struct th_seg s;
	th_sweep_arp(h);
	struct th_frame *f = th_fq_pop(&h->tx);
	if (!f) {
		print_error("%s:%d: expected Flags [%s], %s, %s, %s, options [%s], %s\n"
		            "    but the stack sent nothing (t=%.3f s)\n",
		            file, line, fl, a, b, c, ob, d, (double)(h->now - TH_START_USEC) / 1e6);
		_fail(file, line);
	}
	const char *err = th_parse_frame(h, f, &s);
	free(f);
	if (err) {
		print_error("%s:%d: the stack sent a bad frame: %s\n", file, line, err);
		_fail(file, line);
	}
	th_seg_format(&s, got, sizeof(got));

	const char *what = NULL;
	if (s.hdr.sport != h->local_port || s.hdr.dport != h->peer_port)
		what = "ports";
	else if (flags != TH_ANY && (flags & TH_PSH_ANY) &&
	         (s.hdr.flags | TCP_FLAG_PSH) != (uint8_t)(flags | TCP_FLAG_PSH))
		what = "flags";
	else if (flags != TH_ANY && !(flags & TH_PSH_ANY) && s.hdr.flags != (uint8_t)flags)
		what = "flags";
	else if (seq != TH_ANY && s.hdr.seq != (uint32_t)seq)
		what = "seq";
	else if (ack != TH_ANY && s.hdr.ack != (uint32_t)ack)
		what = "ack";
	else if (win != TH_ANY && s.hdr.win != (uint16_t)win)
		what = "win";
	else if (len != TH_ANY && s.len != (uint32_t)len)
		what = "length";
	else
		what = th_opts_mismatch(opts, &s);
	if (what) {
		print_error("%s:%d: segment mismatch (%s)\n"
		            "    expected %u > %u: Flags [%s], %s, %s, %s, options [%s], %s\n"
		            "    got      %s (t=%.3f s)\n",
		            file, line, what, h->local_port, h->peer_port, fl, a, b, c, ob, d, got,
		            (double)(s.when - TH_START_USEC) / 1e6);
		_fail(file, line);
	}
	return s;
}

void th_expect_none_at(const char *file, int line, struct th *h)
{
	th_sweep_arp(h);
	if (h->tx.count == 0)
		return;
	struct th_seg s;
	char got[320];
	struct th_frame *f = th_fq_pop(&h->tx);
	const char *err = th_parse_frame(h, f, &s);
	free(f);
	if (err)
		snprintf(got, sizeof(got), "(bad frame: %s)", err);
	else
		th_seg_format(&s, got, sizeof(got));
	print_error("%s:%d: expected no segment, but the stack sent %s (t=%.3f s)\n", file, line, got,
	            (double)(s.when - TH_START_USEC) / 1e6);
	_fail(file, line);
}

bool th_run_known_bugs(void)
{
	const char *e = getenv("TH_RUN_KNOWN_BUGS");
	return e && *e && *e != '0';
}

/* ---- sockets and options ------------------------------------------------------------------ */

int th_listen(struct th *h, uint16_t port, int backlog)
{
	struct socket_layer *sl = th_sl(h);
	int fd = ts_socket(sl, AF_INET, SOCK_STREAM, 0);
	assert_true(fd >= 0);
	struct sockaddr_in sa;
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons(port);
	sa.sin_addr.s_addr = htonl(INADDR_ANY);
	assert_int_equal(ts_bind(sl, fd, &sa), 0);
	assert_int_equal(ts_listen(sl, fd, backlog), 0);
	assert_int_equal(ts_set_nonblock(sl, fd, true), 0);
	return fd;
}

int th_open_passive(struct th *h, int lfd, const struct tcp_opts *syn_opts, uint16_t win)
{
	return th_open_passive_rtt(h, lfd, syn_opts, win, 0);
}

int th_open_passive_rtt(struct th *h, int lfd, const struct tcp_opts *syn_opts, uint16_t win, uint64_t rtt_ms)
{
	th_send(h, TCP_FLAG_SYN, h->irs, 0, win, syn_opts, NULL, 0);
	struct th_seg s = th_expect(h, TCP_FLAG_SYN | TCP_FLAG_ACK, TH_ANY, h->irs + 1, TH_ANY,
	                            TH_ANY_OPTS, 0);
	h->iss = s.hdr.seq;
	h->synack_win = s.hdr.win;
	if (rtt_ms)
		th_advance(h, rtt_ms);
	th_send(h, TCP_FLAG_ACK, h->irs + 1, h->iss + 1, win, NULL, NULL, 0);
	struct sockaddr_in peer;
	int fd = ts_accept(th_sl(h), lfd, &peer, SOCK_NONBLOCK);
	if (fd < 0)
		fail_msg("accept after the handshake returned %d", fd);
	return fd;
}

int th_established(struct th *h)
{
	int lfd = th_listen(h, 80, 8);
	struct tcp_opts mss = th_mss_opts(1460);
	return th_open_passive(h, lfd, &mss, 65535);
}

struct th_seg th_syn_synack_at(const char *file, int line, struct th *h, const struct tcp_opts *opts)
{
	th_send(h, TCP_FLAG_SYN, h->irs, 0, 65535, opts, NULL, 0);
	struct th_seg s = th_expect_at(file, line, h, TCP_FLAG_SYN | TCP_FLAG_ACK, TH_ANY, h->irs + 1,
	                               TH_ANY, opts, 0);
	h->iss = s.hdr.seq;
	return s;
}

int th_connect(struct th *h, uint16_t port, struct th_seg *syn)
{
	struct socket_layer *sl = th_sl(h);
	struct sockaddr_in sa;
	int fd = ts_socket(sl, AF_INET, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	assert_int_equal(ts_set_nonblock(sl, fd, true), 0);
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons(port);
	sa.sin_addr.s_addr = htonl(TH_PEER_IP);
	assert_int_equal(ts_connect(sl, fd, &sa), -EINPROGRESS);
	if (!th_pop_seg(h, syn))
		fail_msg("connect() sent no SYN");
	h->local_port = syn->hdr.sport;
	h->peer_port = port;
	h->iss = syn->hdr.seq;
	return fd;
}

struct tcp_opts th_linux_syn_opts(uint32_t ts_val)
{
	struct tcp_opts o;
	memset(&o, 0, sizeof(o));
	o.has_mss = true;
	o.mss = 1460;
	o.sack_ok = true;
	o.has_ts = true;
	o.ts_val = ts_val;
	o.ts_ecr = 0;
	o.has_wscale = true;
	o.wscale = 7;
	return o;
}

struct tcp_opts th_mss_opts(uint16_t mss)
{
	struct tcp_opts o;
	memset(&o, 0, sizeof(o));
	o.has_mss = true;
	o.mss = mss;
	return o;
}

struct th_state_arg {
	uint32_t raddr;
	uint16_t rport;
	const char *state;
};

static void th_state_cb(const struct tcp_sock_info *info, void *arg)
{
	struct th_state_arg *a = arg;
	if (info->raddr == a->raddr && info->rport == a->rport && info->lport != 0)
		a->state = info->state;
}

const char *th_state(struct th *h, uint16_t peer_port)
{
	struct th_state_arg a = {.raddr = h->peer_ip, .rport = peer_port, .state = NULL};
	tcp_foreach_sock(&h->st.tcp, th_state_cb, &a);
	return a.state;
}

static void th_state_norm(const char *s, char *out, size_t size)
{
	size_t n = 0;
	for (; *s && n + 1 < size; s++) {
		char c = *s;
		if (c == '-' || c == '_' || c == ' ')
			continue;
		if (c >= 'a' && c <= 'z')
			c = (char)(c - 'a' + 'A');
		out[n++] = c;
	}
	out[n] = 0;
	if (strcmp(out, "ESTAB") == 0)
		snprintf(out, size, "ESTABLISHED");
	else if (strcmp(out, "SYNRECV") == 0)
		snprintf(out, size, "SYNRECEIVED");
	else if (strcmp(out, "SYNSENT") == 0)
		snprintf(out, size, "SYNSENT");
	else if (strcmp(out, "UNCONN") == 0)
		snprintf(out, size, "CLOSED");
}

bool th_state_name_eq(const char *got, const char *want)
{
	char a[32], b[32];
	if (!got || !want)
		return got == want;
	th_state_norm(got, a, sizeof(a));
	th_state_norm(want, b, sizeof(b));
	return strcmp(a, b) == 0;
}

void th_assert_state_at(const char *file, int line, struct th *h, uint16_t port, const char *want)
{
	const char *got = th_state(h, port);
	if (!th_state_name_eq(got, want)) {
		print_error("%s:%d: connection from port %u is in state %s, expected %s\n", file, line,
		            port, got ? got : "(none)", want ? want : "(none)");
		_fail(file, line);
	}
}

/* Compares counter names ignoring case and underscores: "ListenOverflows" == "listen_overflows". */
static bool th_name_eq(const char *a, const char *b)
{
	for (;;) {
		while (*a == '_')
			a++;
		while (*b == '_')
			b++;
		char x = *a, y = *b;
		if (x >= 'A' && x <= 'Z')
			x = (char)(x - 'A' + 'a');
		if (y >= 'A' && y <= 'Z')
			y = (char)(y - 'A' + 'a');
		if (x != y)
			return false;
		if (!x)
			return true;
		a++;
		b++;
	}
}

static bool th_counter_find(struct stack *st, const char *layer, const char *name, uint64_t *val)
{
	struct counter_group g[32];
	size_t n = ts_stack_counter_groups(st, g, 32);
	for (size_t i = 0; i < n; i++) {
		if (layer && !th_name_eq(g[i].layer, layer))
			continue;
		for (size_t j = 0; j < g[i].n; j++) {
			if (th_name_eq(g[i].names[j], name)) {
				*val = g[i].values[j];
				return true;
			}
		}
	}
	return false;
}

uint64_t th_stack_counter(struct stack *st, const char *layer, const char *name)
{
	uint64_t v = 0;
	if (!th_counter_find(st, layer, name, &v))
		fail_msg("no counter %s in layer %s", name, layer ? layer : "(any)");
	return v;
}

uint64_t th_counter(struct th *h, const char *layer, const char *name)
{
	return th_stack_counter(&h->st, layer, name);
}
