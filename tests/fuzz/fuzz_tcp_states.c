/*
 * fuzz_tcp_states.c - structure-aware libFuzzer target for TCP: first a script drives one
 * connection into a chosen state through a well-behaved peer (fuzz_peer.c), then the input
 * is read as a sequence of operations against that live connection:
 *
 *   byte 0      the state to start from (see fz_states[]: LISTEN, SYN-RECEIVED, ESTABLISHED,
 *               ESTABLISHED with data both ways, CLOSE-WAIT, FIN-WAIT-1, FIN-WAIT-2,
 *               LAST-ACK, TIME-WAIT, CLOSING, SYN-SENT, ESTABLISHED by an active open)
 *   byte 1      the SYN's options (bit 0 timestamps, 1 SACK-permitted, 2 window scale)
 *   then ops of FZ_OP_LEN bytes:
 *     segment   flags, seq as a signed offset from the peer's next sequence number, ack as
 *               a signed offset from the stack's (so mutations stay near the live window),
 *               window, payload length, options (MSS, wscale, SACK blocks around the
 *               stack's sequence, timestamps), and a bit that breaks the checksum
 *     time      0 to 65 s forward: retransmissions, persist, keepalive, TIME-WAIT expire
 *     call      send, recv, shutdown, close, accept, setsockopt, TCP_INFO on the socket
 *     icmp      an ICMP error quoting the stack's last segment (frag-needed with an MTU,
 *               host or port unreachable, time exceeded, source quench)
 *     peer      switch to another peer port (a second connection, from its SYN), send a
 *               burst of SYNs from new ports (the SYN queue overflows: SYN cookies; then,
 *               if asked, every final ACK, so the accept queue overflows too), or
 *               cut the next segments into IP fragments (reassembly, its timeout)
 *
 * Checksums are computed by the peer, so every mutated segment reaches the state machine.
 * A run starts from a fresh stack with a fixed seed and clock: a finding replays exactly.
 */
#include <netinet/tcp.h>
#include <string.h>

#include "tests/fuzz/fuzz_peer.h"

#define FZ_OP_LEN 10
#define FZ_MAX_OPS 64

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct fz_run {
	struct fz_peer p;
	struct socket_layer *sl;
	int fd;                     /* the connection's socket, or -1 */
	struct tcp_opts syn_opts;
};

static void fz_seg(struct fz_run *r, uint8_t flags, uint32_t len)
{
	struct tcp_opts o = { 0 };

	if (r->syn_opts.has_ts) {
		o.has_ts = true;
		o.ts_val = (uint32_t)(r->p.st.core.now / 1000);
	}
	fz_peer_send(&r->p, flags, r->p.snd_nxt, r->p.stack_nxt, 65535, (flags & TCP_FLAG_SYN) ? &r->syn_opts : &o,
		     NULL, len, false);
	r->p.snd_nxt += len + !!(flags & TCP_FLAG_SYN) + !!(flags & TCP_FLAG_FIN);
}

static void fz_accept(struct fz_run *r)
{
	if (r->fd < 0)
		r->fd = ts_accept(r->sl, r->p.lfd, NULL, SOCK_NONBLOCK);
}

/* The script that reaches state `st` with a well-behaved peer. */
static void fz_reach(struct fz_run *r, unsigned st)
{
	static const uint8_t buf[3000];

	if (st == 0)
		return;                                     /* LISTEN */
	if (st >= 10) {                                     /* active opens */
		struct sockaddr_in dst = { .sin_family = AF_INET, .sin_port = htons(FZ_PEER_PORT),
					   .sin_addr.s_addr = htonl(FZ_PEER_IP) };
		r->fd = ts_socket(r->sl, AF_INET, SOCK_STREAM, 0);
		(void)ts_set_nonblock(r->sl, r->fd, true);
		(void)ts_connect(r->sl, r->fd, &dst);
		fz_peer_run(&r->p, 0);
		if (st == 11)
			fz_seg(r, TCP_FLAG_SYN | TCP_FLAG_ACK, 0);  /* SYN-SENT -> ESTABLISHED */
		return;
	}
	fz_seg(r, TCP_FLAG_SYN, 0);                         /* SYN-RECEIVED */
	if (st == 1)
		return;
	fz_seg(r, TCP_FLAG_ACK, 0);                         /* ESTABLISHED */
	fz_accept(r);
	if (st == 2)
		return;
	if (st == 3) {                                      /* data both ways, half acknowledged */
		fz_seg(r, TCP_FLAG_ACK | TCP_FLAG_PSH, 1000);
		(void)ts_send(r->sl, r->fd, buf, sizeof(buf), 0);
		fz_peer_run(&r->p, 1000);
		fz_peer_send(&r->p, TCP_FLAG_ACK, r->p.snd_nxt, r->p.stack_nxt - 1500, 65535, NULL, NULL, 0, false);
		return;
	}
	if (st == 4 || st == 7) {                           /* CLOSE-WAIT, LAST-ACK */
		fz_seg(r, TCP_FLAG_FIN | TCP_FLAG_ACK, 0);
		if (st == 7)
			(void)ts_close(r->sl, r->fd), r->fd = -1;
		fz_peer_run(&r->p, 0);
		return;
	}
	(void)ts_shutdown(r->sl, r->fd, SHUT_WR);           /* FIN-WAIT-1 */
	fz_peer_run(&r->p, 0);
	if (st == 5)
		return;
	if (st == 9) {                                      /* CLOSING: their FIN crosses ours */
		fz_peer_send(&r->p, TCP_FLAG_FIN | TCP_FLAG_ACK, r->p.snd_nxt, r->p.stack_nxt - 1, 65535, NULL, NULL, 0,
			     false);
		r->p.snd_nxt++;
		return;
	}
	fz_seg(r, TCP_FLAG_ACK, 0);                         /* FIN-WAIT-2 */
	if (st == 6)
		return;
	fz_seg(r, TCP_FLAG_FIN | TCP_FLAG_ACK, 0);          /* TIME-WAIT */
}

static uint16_t be16(const uint8_t *b)
{
	return (uint16_t)(b[0] << 8 | b[1]);
}

static void fz_op_segment(struct fz_run *r, const uint8_t *op, const uint8_t *payload, size_t avail)
{
	uint8_t flags = op[1];
	uint32_t seq = r->p.snd_nxt + (uint32_t)(int32_t)(int16_t)be16(op + 2);
	uint32_t ack = r->p.stack_nxt + (uint32_t)(int32_t)(int16_t)be16(op + 4);
	uint16_t win = (uint16_t)(op[6] << 8 | op[6]);
	uint32_t len = (uint32_t)op[7] * 6;
	uint8_t sel = op[8];
	struct tcp_opts o = { 0 };

	if (sel & 1) {
		o.has_mss = true;
		o.mss = (uint16_t)(op[9] * 8);
	}
	if (sel & 2) {
		o.has_wscale = true;
		o.wscale = op[9] & 15;
	}
	if (sel & 4)
		o.sack_ok = true;
	if (sel & 8) {
		o.has_ts = true;
		o.ts_val = (uint32_t)(r->p.st.core.now / 1000) + (uint32_t)(int8_t)op[9];
		o.ts_ecr = (uint32_t)op[9] << 8;
	}
	if (sel & 0x30) {   /* SACK blocks around what the stack has sent */
		o.sack_count = (uint8_t)((sel >> 4) & 3);
		for (uint8_t i = 0; i < o.sack_count; i++) {
			o.sack[i].start = r->p.stack_nxt - (uint32_t)op[9] * 100u * (i + 1u);
			o.sack[i].end = o.sack[i].start + (uint32_t)(sel >> 6) * 700u + 1u;
		}
	}
	if (len > avail && (sel & 0x80) == 0)
		payload = NULL;     /* the pattern instead of input bytes */
	else if (len > avail)
		len = (uint32_t)avail;
	fz_peer_send(&r->p, flags, seq, ack, win, &o, payload, len, (sel & 0xc0) == 0xc0 && (flags & 0x80));
	if (seq == r->p.snd_nxt)
		r->p.snd_nxt += len + !!(flags & TCP_FLAG_SYN) + !!(flags & TCP_FLAG_FIN);
}

static void fz_op_call(struct fz_run *r, const uint8_t *op)
{
	static uint8_t buf[65536];
	int v = be16(op + 2);

	switch (op[1] % 9) {
	case 0:
		(void)ts_send(r->sl, r->fd, buf, (size_t)v, (op[4] & 1) ? MSG_MORE : 0);
		break;
	case 1:
		(void)ts_recv(r->sl, r->fd, buf, (size_t)v, (op[4] & 1) ? MSG_PEEK : 0);
		break;
	case 2:
		(void)ts_shutdown(r->sl, r->fd, v % 3);
		break;
	case 3:
		if (r->fd >= 0)
			(void)ts_close(r->sl, r->fd);
		r->fd = -1;
		break;
	case 4:
		fz_accept(r);
		break;
	case 5: {
		int val = v * 64;
		(void)ts_setsockopt(r->sl, r->fd, SOL_SOCKET, (op[4] & 1) ? SO_RCVBUF : SO_SNDBUF, &val, sizeof(val));
		break;
	}
	case 6: {
		int val = v & 1;
		(void)ts_setsockopt(r->sl, r->fd, IPPROTO_TCP, (op[4] & 1) ? TCP_NODELAY : TCP_CORK, &val, sizeof(val));
		break;
	}
	case 7: {
		struct linger l = { .l_onoff = 1, .l_linger = v % 3 };
		int one = 1, secs = v % 90 + 1;
		if (op[4] & 1) {
			(void)ts_setsockopt(r->sl, r->fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
		} else {
			(void)ts_setsockopt(r->sl, r->fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
			(void)ts_setsockopt(r->sl, r->fd, IPPROTO_TCP, TCP_KEEPIDLE, &secs, sizeof(secs));
			(void)ts_setsockopt(r->sl, r->fd, IPPROTO_TCP, TCP_KEEPINTVL, &secs, sizeof(secs));
		}
		break;
	}
	default: {
		struct tcp_info ti;
		socklen_t len = sizeof(ti);
		(void)ts_getsockopt(r->sl, r->fd, IPPROTO_TCP, TCP_INFO, &ti, &len);
		break;
	}
	}
	fz_peer_run(&r->p, 0);
}

static void fz_op_icmp(struct fz_run *r, const uint8_t *op)
{
	static const uint8_t kinds[][2] = { { 3, 4 }, { 3, 1 }, { 3, 3 }, { 11, 0 }, { 4, 0 }, { 3, 0 }, { 12, 0 } };
	const uint8_t *k = kinds[op[1] % 7];
	uint32_t seq = r->p.stack_last_seq + (uint32_t)(int32_t)(int8_t)op[4];

	fz_peer_send_icmp(&r->p, k[0], k[1], be16(op + 2), seq);
}

static void fz_op_peer(struct fz_run *r, const uint8_t *op)
{
	switch (op[1] % 3) {
	case 0:   /* another connection: a new port, its own sequence space */
		r->p.peer_port = (uint16_t)(41000 + op[2]);
		r->p.snd_nxt = 5000u + op[3] * 1000u;
		r->p.have_stack_seq = false;
		break;
	case 1: { /* a burst of SYNs from new ports: the SYN queue (backlog 8) overflows */
		uint16_t keep = r->p.peer_port;
		uint32_t synack_nxt[24];
		bool answered[24] = { false };
		unsigned n = (unsigned)op[2] % 24;
		for (unsigned i = 0; i < n; i++) {
			r->p.peer_port = (uint16_t)(43000 + op[3] * 24 + i);
			r->p.have_stack_seq = false;
			fz_peer_send(&r->p, TCP_FLAG_SYN, 7000 + i, 0, 65535, &r->syn_opts, NULL, 0, false);
			answered[i] = r->p.have_stack_seq;
			synack_nxt[i] = r->p.stack_nxt;
		}
		/* An odd op[3]: then complete every handshake, requests and cookies alike, so the
		 * accept queue fills and the last final ACKs meet it full (tcp_listen_overflow). */
		for (unsigned i = 0; (op[3] & 1) && i < n; i++) {
			r->p.peer_port = (uint16_t)(43000 + op[3] * 24 + i);
			if (answered[i])
				fz_peer_send(&r->p, TCP_FLAG_ACK, 7001 + i, synack_nxt[i], 65535, NULL, NULL, 0, false);
		}
		r->p.peer_port = keep;
		break;
	}
	default:  /* the next segments as IP fragments (an even cut: the first fragment only) */
		r->p.fragment = op[2];
		break;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct fz_run r;

	if (size < 2)
		return 0;
	fz_peer_init(&r.p);
	r.sl = ts_stack_sockets(&r.p.st);
	r.fd = -1;
	memset(&r.syn_opts, 0, sizeof(r.syn_opts));
	r.syn_opts.has_mss = true;
	r.syn_opts.mss = 1460;
	r.syn_opts.has_ts = data[1] & 1;
	r.syn_opts.ts_val = 1;
	r.syn_opts.sack_ok = (data[1] & 2) != 0;
	r.syn_opts.has_wscale = (data[1] & 4) != 0;
	r.syn_opts.wscale = 7;
	fz_reach(&r, data[0] % 12);

	size_t off = 2;
	for (int i = 0; i < FZ_MAX_OPS && off + FZ_OP_LEN <= size; i++) {
		const uint8_t *op = data + off;
		off += FZ_OP_LEN;
		switch (op[0] % 8) {
		case 0: case 1: case 2:
			fz_op_segment(&r, op, data + off, size - off);
			if ((op[8] & 0x80) && op[7])
				off += (size_t)op[7] * 6 > size - off ? size - off : (size_t)op[7] * 6;
			break;
		case 3:
			fz_peer_run(&r.p, (usec_t)be16(op + 1) * USEC_PER_MS);
			break;
		case 4:
			fz_op_call(&r, op);
			break;
		case 6:
			fz_op_icmp(&r, op);
			break;
		case 7:
			fz_op_peer(&r, op);
			break;
		default:
			fz_accept(&r);
			fz_peer_run(&r.p, (usec_t)op[1] * 10 * USEC_PER_MS);
			break;
		}
	}
	fz_peer_destroy(&r.p);
	return 0;
}
