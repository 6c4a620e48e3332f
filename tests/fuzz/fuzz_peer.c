/*
 * fuzz_peer.c - the scripted peer of the fuzz targets (see fuzz_peer.h).
 */
#include "tests/fuzz/fuzz_peer.h"

#include <string.h>

#include "core/byteorder.h"
#include "core/checksum.h"
#include "drivers/memdev.h"
#include "wire/arp.h"
#include "wire/dump.h"
#include "wire/ethernet.h"
#include "wire/icmp.h"
#include "wire/ipv4.h"

static const uint8_t fz_peer_mac[ETH_ALEN] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x01 };

static void fz_eth(uint8_t *f, const uint8_t *dst, uint16_t type)
{
	struct eth_hdr eh = { .type = type };

	memcpy(eh.dst, dst, ETH_ALEN);
	memcpy(eh.src, fz_peer_mac, ETH_ALEN);
	eth_hdr_emit(f, &eh);
}

static void fz_arp(struct fz_peer *p, uint16_t oper, const uint8_t *dst)
{
	uint8_t f[ETH_MIN_FRAME] = { 0 };
	struct arp_pkt a = { .htype = ARP_HTYPE_ETHERNET, .ptype = ETHERTYPE_IPV4, .hlen = ETH_ALEN,
			     .plen = 4, .oper = oper, .spa = FZ_PEER_IP, .tpa = FZ_LOCAL_IP };

	fz_eth(f, dst, ETHERTYPE_ARP);
	memcpy(a.sha, fz_peer_mac, ETH_ALEN);
	if (oper == ARP_OP_REPLY)
		memcpy(a.tha, p->st.link.cfg.mac, ETH_ALEN);
	arp_pkt_emit(f + ETH_HDR_LEN, &a);
	(void)memdev_inject(p->end, f, sizeof(f));
}

void fz_fix_checksums(uint8_t *f, size_t len)
{
	struct eth_hdr eh;
	struct ipv4_hdr ih;

	if (eth_hdr_parse(f, len, &eh) != 0 || eh.type != ETHERTYPE_IPV4 || len < ETH_HDR_LEN + IPV4_HDR_MIN)
		return;
	uint8_t *ip = f + ETH_HDR_LEN;
	uint32_t ihl = (uint32_t)(ip[0] & 0x0f) * 4;
	if (ihl < IPV4_HDR_MIN || ETH_HDR_LEN + ihl > len)
		return;
	put_be16(ip + IPV4_OFF_CSUM, 0);
	put_be16(ip + IPV4_OFF_CSUM, csum_finish(csum_add(0, ip, ihl)));
	if (ipv4_hdr_parse(ip, len - ETH_HDR_LEN, &ih) != 0 || ih.frag_off != 0 || ih.mf)
		return;
	uint32_t tot = ih.total_len;
	if (tot < ihl || ETH_HDR_LEN + tot > len)
		return;
	uint8_t *l4 = ip + ihl;
	uint16_t l4len = (uint16_t)(tot - ihl);
	size_t off;
	uint32_t sum = 0;
	switch (ih.proto) {
	case IPPROTO_TCP_NUM: off = TCP_OFF_CSUM; sum = csum_pseudo_ipv4(ih.src, ih.dst, ih.proto, l4len); break;
	case IPPROTO_UDP_NUM: off = 6; sum = csum_pseudo_ipv4(ih.src, ih.dst, ih.proto, l4len); break;
	case IPPROTO_ICMP_NUM: off = 2; break;
	default: return;
	}
	if (l4len < off + 2)
		return;
	put_be16(l4 + off, 0);
	put_be16(l4 + off, csum_finish(csum_add(sum, l4, l4len)));
}

void fz_peer_send_raw(struct fz_peer *p, const uint8_t *frame, size_t len, bool fix)
{
	static uint8_t f[NETDEV_RX_ROOM];

	if (len > sizeof(f))
		len = sizeof(f);
	memcpy(f, frame, len);
	if (fix)
		fz_fix_checksums(f, len);
	(void)memdev_inject(p->end, f, len);
	fz_peer_run(p, 0);
}

void fz_peer_send(struct fz_peer *p, uint8_t flags, uint32_t seq, uint32_t ack, uint16_t win,
                  const struct tcp_opts *opts, const uint8_t *data, uint32_t len, bool bad_csum)
{
	static uint8_t f[ETH_HDR_LEN + IPV4_HDR_MIN + 60 + 1500];
	struct tcp_hdr th = { .sport = p->peer_port, .dport = p->local_port, .seq = seq, .ack = ack,
			      .flags = flags, .win = win };
	uint8_t *tcp = f + ETH_HDR_LEN + IPV4_HDR_MIN;

	if (len > 1460)
		len = 1460;
	memset(f, 0, sizeof(f));
	fz_eth(f, p->st.link.cfg.mac, ETHERTYPE_IPV4);
	if (opts)
		th.opts = *opts;
	size_t hl = tcp_hdr_emit(tcp, &th);
	for (uint32_t i = 0; i < len; i++)
		tcp[hl + i] = data ? data[i] : (uint8_t)(seq + i);
	uint16_t tcp_len = (uint16_t)(hl + len);
	struct ipv4_hdr ih = { .version = 4, .ihl = IPV4_HDR_MIN, .total_len = (uint16_t)(IPV4_HDR_MIN + tcp_len),
			       .id = p->ip_id++, .df = true, .ttl = 64, .proto = IPPROTO_TCP_NUM,
			       .src = FZ_PEER_IP, .dst = FZ_LOCAL_IP };
	ipv4_hdr_emit(f + ETH_HDR_LEN, &ih);
	size_t flen = ETH_HDR_LEN + IPV4_HDR_MIN + tcp_len;
	fz_fix_checksums(f, flen);
	if (bad_csum)
		tcp[TCP_OFF_CSUM] ^= 0x5a;
	if (p->fragment) {
		/* As two IP fragments (the IP checksum of the whole is fixed per fragment). */
		put_be16(f + ETH_HDR_LEN + IPV4_OFF_FRAG, 0);
		fz_peer_send_fragments(p, f, flen, p->fragment, p->fragment & 1);
		return;
	}
	(void)memdev_inject(p->end, f, flen < ETH_MIN_FRAME ? ETH_MIN_FRAME : flen);
	fz_peer_run(p, 0);
}

/* One frame the stack sent: answer ARP for the peer, learn the stack's sequence numbers. */
static void fz_peer_read(struct fz_peer *p, const uint8_t *f, size_t len)
{
	struct eth_hdr eh;
	struct ipv4_hdr ih;
	struct tcp_hdr th;
	char line[256];

	(void)dump_frame(line, sizeof(line), f, len);   /* what `tapstack --trace` prints */
	if (eth_hdr_parse(f, len, &eh) != 0)
		return;
	if (eh.type == ETHERTYPE_ARP) {
		struct arp_pkt a;
		if (arp_pkt_parse(f + ETH_HDR_LEN, len - ETH_HDR_LEN, &a) == ARP_PARSE_OK &&
		    a.oper == ARP_OP_REQUEST && a.tpa == FZ_PEER_IP)
			fz_arp(p, ARP_OP_REPLY, p->st.link.cfg.mac);
		return;
	}
	if (eh.type != ETHERTYPE_IPV4 || ipv4_hdr_parse(f + ETH_HDR_LEN, len - ETH_HDR_LEN, &ih) != 0 ||
	    ih.proto != IPPROTO_TCP_NUM || ih.total_len < ih.ihl || ETH_HDR_LEN + (size_t)ih.total_len > len)
		return;
	const uint8_t *tcp = f + ETH_HDR_LEN + ih.ihl;
	size_t tlen = ih.total_len - ih.ihl;
	if (tcp_hdr_parse(tcp, tlen, &th) != 0 || th.dport != p->peer_port)
		return;
	if ((th.flags & TCP_FLAG_SYN) && !(th.flags & TCP_FLAG_ACK))
		p->local_port = th.sport;   /* an active open: its ephemeral port */
	uint32_t end = th.seq + (uint32_t)(tlen - th.doff) + !!(th.flags & TCP_FLAG_SYN) + !!(th.flags & TCP_FLAG_FIN);
	if ((th.flags & TCP_FLAG_SYN) || !p->have_stack_seq || (int32_t)(end - p->stack_nxt) > 0)
		p->stack_nxt = end;
	p->stack_last_seq = th.seq;
	p->have_stack_seq = true;
	p->stack_wnd = th.win;
	p->seen_segs++;
}

static void fz_sock_row(const struct tcp_sock_info *i, void *arg)
{
	*(uint32_t *)arg += i->recv_q + i->send_q;
}

/* What `tapstack ss` and `tapstack stats` read, so their code runs on every state too: once
 * per input, in the state it ended in (fz_peer_destroy). It used to run after every
 * operation, where walking the connection table's 1,280 buckets took about 15 % of a
 * tcp_states execution; the inputs' final states cover the states as well. */
static void fz_peer_introspect(struct fz_peer *p)
{
	struct counter_group g[16];
	uint32_t sum = 0;
	uint8_t mac[ETH_ALEN];

	(void)ts_stack_counter_groups(&p->st, g, 16);
	tcp_foreach_sock(&p->st.tcp, fz_sock_row, &sum);
	(void)ts_stack_next_deadline(&p->st);
	(void)arp_cache_lookup(&p->st.link, FZ_PEER_IP, mac);
	(void)arp_cache_state(&p->st.link, FZ_PEER_IP);
}

void fz_peer_run(struct fz_peer *p, usec_t dt)
{
	static uint8_t out[NETDEV_RX_ROOM];
	int n;

	p->st.core.now += dt;
	for (int round = 0; round < 4; round++) {
		(void)ts_stack_poll(&p->st, p->st.core.now);
		bool any = false;
		while ((n = memdev_take(p->end, out, sizeof(out))) > 0) {
			fz_peer_read(p, out, (size_t)n);
			any = true;
		}
		if (!any && memdev_pending(p->st.dev) == 0)
			break;
	}
}

void fz_peer_send_icmp(struct fz_peer *p, uint8_t type, uint8_t code, uint16_t mtu, uint32_t seq)
{
	static uint8_t f[ETH_HDR_LEN + IPV4_HDR_MIN + 8 + IPV4_HDR_MIN + 20];
	uint8_t *ip = f + ETH_HDR_LEN, *icmp = ip + IPV4_HDR_MIN, *q = icmp + 8;
	struct ipv4_hdr ih = { .version = 4, .ihl = IPV4_HDR_MIN, .total_len = (uint16_t)(sizeof(f) - ETH_HDR_LEN),
			       .id = p->ip_id++, .ttl = 64, .proto = IPPROTO_ICMP_NUM, .src = FZ_PEER_IP,
			       .dst = FZ_LOCAL_IP };
	struct ipv4_hdr quoted = { .version = 4, .ihl = IPV4_HDR_MIN, .total_len = 1500, .df = true, .ttl = 64,
				   .proto = IPPROTO_TCP_NUM, .src = FZ_LOCAL_IP, .dst = FZ_PEER_IP };
	struct tcp_hdr th = { .sport = p->local_port, .dport = p->peer_port, .seq = seq, .flags = TCP_FLAG_ACK };

	memset(f, 0, sizeof(f));
	fz_eth(f, p->st.link.cfg.mac, ETHERTYPE_IPV4);
	ipv4_hdr_emit(ip, &ih);
	icmp[0] = type;
	icmp[1] = code;
	put_be16(icmp + 6, mtu);   /* RFC 1191: next-hop MTU of a frag-needed */
	ipv4_hdr_emit(q, &quoted);
	put_be16(q + IPV4_OFF_CSUM, csum_finish(csum_add(0, q, IPV4_HDR_MIN)));
	(void)tcp_hdr_emit(q + IPV4_HDR_MIN, &th);
	fz_fix_checksums(f, sizeof(f));
	(void)memdev_inject(p->end, f, sizeof(f));
	fz_peer_run(p, 0);
}

void fz_peer_send_fragments(struct fz_peer *p, const uint8_t *frame, size_t len, size_t cut, bool both)
{
	static uint8_t a[2048], b[2048];   /* a segment with 60 bytes of options and 1460 of data fits */
	const uint8_t *ip = frame + ETH_HDR_LEN;
	size_t hl = IPV4_HDR_MIN, pl;

	if (len < ETH_HDR_LEN + hl + 16)
		return;
	pl = get_be16(ip + IPV4_OFF_TOTLEN) - hl;
	if (pl + hl + ETH_HDR_LEN > len || pl < 16)
		return;
	cut = 8 + (cut % (pl - 8)) / 8 * 8;   /* a multiple of 8 inside the payload */
	memcpy(a, frame, ETH_HDR_LEN + hl + cut);
	put_be16(a + ETH_HDR_LEN + IPV4_OFF_TOTLEN, (uint16_t)(hl + cut));
	put_be16(a + ETH_HDR_LEN + IPV4_OFF_FRAG, 0x2000);   /* MF, offset 0 */
	fz_fix_checksums(a, ETH_HDR_LEN + hl + cut);
	(void)memdev_inject(p->end, a, ETH_HDR_LEN + hl + cut < ETH_MIN_FRAME ? ETH_MIN_FRAME : ETH_HDR_LEN + hl + cut);
	if (both) {
		memcpy(b, frame, ETH_HDR_LEN + hl);
		memcpy(b + ETH_HDR_LEN + hl, ip + hl + cut, pl - cut);
		put_be16(b + ETH_HDR_LEN + IPV4_OFF_TOTLEN, (uint16_t)(hl + pl - cut));
		put_be16(b + ETH_HDR_LEN + IPV4_OFF_FRAG, (uint16_t)(cut / 8));
		fz_fix_checksums(b, ETH_HDR_LEN + hl + pl - cut);
		(void)memdev_inject(p->end, b, ETH_HDR_LEN + hl + pl - cut < ETH_MIN_FRAME ? ETH_MIN_FRAME : ETH_HDR_LEN + hl + pl - cut);
	}
	fz_peer_run(p, 0);
}

void fz_peer_init(struct fz_peer *p)
{
	struct netdev *mine;
	struct stack_config cfg;

	memset(p, 0, sizeof(*p));
	if (memdev_pair_create(&mine, &p->end, NULL) != 0)
		__builtin_trap();
	ts_stack_config_default(&cfg);
	ts_stack_config_fixed(&cfg, 1);     /* reproducible: a finding replays */
	cfg.link.arp_gratuitous = false;
	if (ts_stack_init(&p->st, &cfg, mine, 1000 * USEC_PER_SEC) != 0)
		__builtin_trap();
	memdev_set_clock(mine, &p->st.core.now);
	memdev_set_clock(p->end, &p->st.core.now);
	p->peer_port = FZ_PEER_PORT;
	p->local_port = FZ_LOCAL_PORT;
	p->snd_nxt = 1000;

	struct socket_layer *sl = ts_stack_sockets(&p->st);
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(FZ_LOCAL_PORT) };
	p->lfd = ts_socket(sl, AF_INET, SOCK_STREAM, 0);
	if (p->lfd < 0 || ts_bind(sl, p->lfd, &sa) != 0 || ts_listen(sl, p->lfd, 8) != 0)
		__builtin_trap();
	static const uint8_t bcast[ETH_ALEN] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	fz_arp(p, ARP_OP_REQUEST, bcast);
	fz_peer_run(p, 0);
}

void fz_peer_destroy(struct fz_peer *p)
{
	fz_peer_introspect(p);
	ts_stack_destroy(&p->st);
	netdev_close(p->end);
}
