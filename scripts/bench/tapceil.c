/*
 * tapceil.c - the TAP's own ceiling with a real kernel TCP endpoint on the other side, for
 * `make bench` (issue 13 item 6). No stack: just enough TCP to move 1448-byte segments.
 *
 *   tapceil into TAP MYIP PEERIP PORT BYTES MAXSEC    segments into a kernel socket
 *   tapceil outof TAP MYIP PEERIP PORT BYTES MAXSEC   segments out of a kernel socket
 *
 * PEERIP is the kernel's address on the TAP (the namespace tapceil runs in); MYIP is a free
 * address of the TAP's prefix, which tapceil answers ARP for. tapceil starts the kernel side
 * itself (a thread with a listening socket on PEERIP:PORT that reads everything, or writes
 * BYTES, then closes), connects to it through the TAP with one plain read() or write() per
 * frame, and prints one line "gbps=... segs=... secs=... probes=... tap_tx_dropped=...".
 * What a TCP stack in user space could at best reach on this TAP, this machine and this
 * kernel: its plain-frame rows are read as a ratio to this. Bounded by MAXSEC; exit status 1
 * when it did not finish.
 *
 * It never sleeps a fixed time: it reads what the TAP holds (up to READ_BURST frames), writes
 * what the window allows (up to SEND_BURST segments, so the kernel's ACKs never pile up past
 * the TAP's queue, which would drop them), and only when it can do neither blocks in poll(2)
 * until a frame arrives. Established, PROBE_SEC of silence sends a window probe (an ACK the
 * kernel dropped may have been the one that opened the window; without it the run stalled).
 * tap_tx_dropped is what the TAP's queue dropped during the run (frames the kernel then
 * retransmitted): 0 in a clean measurement.
 *
 * Shortcuts a real stack cannot take (so the ceiling stays a ceiling): no retransmission of
 * its own (a TAP does not lose what it is given), the payload is zeros with its checksum
 * computed once, window and ACK rules simplified (ACK every second segment and when the
 * device is drained, a duplicate ACK for a segment out of order).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MSS 1448u                 /* with the 12-byte timestamp option: 1514-byte frames */
#define HDRS (14u + 20u + 32u)    /* Ethernet, IPv4, TCP with NOP NOP TS */
#define RCV_WND (4u << 20)        /* what we advertise when receiving (scale 7) */
#define WSCALE 7u
#define SEND_BURST 64             /* segments written between two reads of the TAP */
#define READ_BURST 256            /* frames read before sending again */
#define PROBE_SEC 0.2             /* silence, established, before a window probe */

struct ceil {
	int fd;
	uint8_t mac[6], peer_mac[6];
	uint32_t me, peer;            /* network order */
	uint16_t sport, dport;        /* host order */
	uint32_t snd_una, snd_nxt, snd_wnd, rcv_nxt;
	unsigned peer_ws;
	uint32_t payload_sum;         /* ones'-complement sum of MSS zero bytes: 0 */
	long long bytes;
	double maxsec;
	int mode_into;
	uint8_t frame[2048];
};

static double now_sec(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void put16(uint8_t *p, unsigned v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }
static void put32(uint8_t *p, uint32_t v) { put16(p, v >> 16); put16(p + 2, v & 0xffff); }
static unsigned get16(const uint8_t *p) { return (unsigned)p[0] << 8 | p[1]; }
static uint32_t get32(const uint8_t *p) { return (uint32_t)get16(p) << 16 | get16(p + 2); }

static uint32_t sum16(const uint8_t *p, size_t n, uint32_t s)
{
	for (size_t i = 0; i + 1 < n; i += 2)
		s += get16(p + i);
	if (n & 1)
		s += (uint32_t)p[n - 1] << 8;
	return s;
}

static uint16_t fold(uint32_t s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

/* Builds and writes one TCP segment of len zero payload bytes (len 0: control only). */
static int send_seg(struct ceil *c, unsigned flags, uint32_t seq, uint32_t len)
{
	uint8_t *f = c->frame;
	int syn = (flags & 0x02) != 0;
	uint32_t thl = syn ? 40u : 32u;
	memset(f, 0, 14 + 20 + 40);       /* also what a SYN's options left where payload goes */
	memcpy(f, c->peer_mac, 6);
	memcpy(f + 6, c->mac, 6);
	put16(f + 12, 0x0800);
	uint8_t *ip = f + 14, *t = ip + 20;
	ip[0] = 0x45;
	put16(ip + 2, 20 + thl + len);
	ip[6] = 0x40;
	ip[8] = 64;
	ip[9] = 6;
	memcpy(ip + 12, &c->me, 4);
	memcpy(ip + 16, &c->peer, 4);
	put16(ip + 10, fold(sum16(ip, 20, 0)));
	put16(t, c->sport);
	put16(t + 2, c->dport);
	put32(t + 4, seq);
	put32(t + 8, c->rcv_nxt);
	t[12] = (uint8_t)((thl / 4) << 4);
	t[13] = (uint8_t)(flags | (syn ? 0 : 0x10));
	put16(t + 14, syn ? 65535u : RCV_WND >> WSCALE);
	uint8_t *o = t + 20;
	uint32_t tsval = (uint32_t)(now_sec() * 1000);
	if (syn) {
		/* MSS 1460, SACK not offered, timestamps, window scale 7 */
		o[0] = 2; o[1] = 4; put16(o + 2, 1460);
		o[4] = 1; o[5] = 1; o[6] = 8; o[7] = 10; put32(o + 8, tsval);
		o[16] = 1; o[17] = 3; o[18] = 3; o[19] = WSCALE;
	} else {
		o[0] = 1; o[1] = 1; o[2] = 8; o[3] = 10; put32(o + 4, tsval);
	}
	uint32_t s = sum16(ip + 12, 8, 6u + thl + len);
	s = sum16(t, thl, s) + c->payload_sum;
	put16(t + 16, fold(s));
	ssize_t w = write(c->fd, f, 14 + 20 + thl + len);
	return w < 0 ? -errno : 0;
}

/* Answers an ARP request for our address. */
static void arp_reply(struct ceil *c, const uint8_t *f, ssize_t n)
{
	if (n < 42 || get16(f + 20) != 1 || memcmp(f + 38, &c->me, 4))
		return;
	uint8_t r[42];
	memcpy(r, f + 6, 6);
	memcpy(r + 6, c->mac, 6);
	put16(r + 12, 0x0806);
	memcpy(r + 14, f + 14, 6);        /* htype, ptype, hlen, plen */
	put16(r + 20, 2);
	memcpy(r + 22, c->mac, 6);
	memcpy(r + 28, &c->me, 4);
	memcpy(r + 32, f + 22, 10);       /* their MAC and IP */
	(void)!write(c->fd, r, sizeof(r));
}

/*
 * Reads one frame; handles ARP. Returns the TCP header of a segment of our connection (with
 * *plen its payload length), or NULL.
 */
static const uint8_t *read_seg(struct ceil *c, uint8_t *buf, size_t cap, uint32_t *plen, int *none)
{
	ssize_t n = read(c->fd, buf, cap);
	*none = n < 0;
	if (n < 14)
		return NULL;
	if (get16(buf + 12) == 0x0806) {
		arp_reply(c, buf, n);
		return NULL;
	}
	const uint8_t *ip = buf + 14;
	if (get16(buf + 12) != 0x0800 || n < 54 || ip[9] != 6 || memcmp(ip + 12, &c->peer, 4))
		return NULL;
	uint32_t ihl = (ip[0] & 15u) * 4u, tot = get16(ip + 2);
	const uint8_t *t = ip + ihl;
	if (get16(t) != c->dport || get16(t + 2) != c->sport)
		return NULL;
	memcpy(c->peer_mac, buf + 6, 6);
	*plen = tot - ihl - (uint32_t)(t[12] >> 4) * 4u;
	return t;
}

/* A counter of the TAP's (/sys/class/net/TAP/statistics/NAME), -1 when unreadable. */
static long long tap_stat(const char *tap, const char *name)
{
	char path[128];
	long long v = -1;
	snprintf(path, sizeof(path), "/sys/class/net/%s/statistics/%s", tap, name);
	FILE *f = fopen(path, "r");
	if (f) {
		if (fscanf(f, "%lld", &v) != 1)
			v = -1;
		fclose(f);
	}
	return v;
}

static long long tapceil_bytes;   /* what the kernel side writes in "outof" */

/* The kernel's side: accept one connection and read it to the end, or write c->bytes. */
static void *kernel_side(void *arg)
{
	int lfd = *(int *)arg;
	int fd = accept(lfd, NULL, NULL);
	static char buf[1 << 16];
	if (fd < 0)
		return NULL;
	if (((int *)arg)[1]) {
		while (read(fd, buf, sizeof(buf)) > 0)
			;
	} else {
		for (long long left = tapceil_bytes; left > 0;) {
			ssize_t w = write(fd, buf, left < (long long)sizeof(buf) ? (size_t)left : sizeof(buf));
			if (w <= 0)
				break;
			left -= w;
		}
	}
	close(fd);
	return NULL;
}

int main(int argc, char **argv)
{
	if (argc != 8 || (strcmp(argv[1], "into") && strcmp(argv[1], "outof"))) {
		fprintf(stderr, "usage: tapceil into|outof TAP MYIP PEERIP PORT BYTES MAXSEC\n");
		return 2;
	}
	static struct ceil c;
	c.mode_into = !strcmp(argv[1], "into");
	if (inet_pton(AF_INET, argv[3], &c.me) != 1 || inet_pton(AF_INET, argv[4], &c.peer) != 1) {
		fprintf(stderr, "tapceil: bad address\n");
		return 2;
	}
	c.dport = (uint16_t)atoi(argv[5]);
	c.sport = 40000 + (uint16_t)(getpid() % 20000);
	c.bytes = tapceil_bytes = atoll(argv[6]);
	c.maxsec = atof(argv[7]);
	memcpy(c.mac, (uint8_t[6]){ 0x02, 0x7a, 0x70, 0xce, 0x11, 0x01 }, 6);

	/* The kernel side, before any frame: a listener on PEERIP:PORT. */
	int lfd = socket(AF_INET, SOCK_STREAM, 0), one = 1;
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(c.dport), .sin_addr.s_addr = c.peer };
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(lfd, 1) < 0) {
		perror("tapceil: kernel listener");
		return 1;
	}
	int targ[2] = { lfd, c.mode_into };
	pthread_t th;
	pthread_create(&th, NULL, kernel_side, targ);

	c.fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK);
	struct ifreq ifr = { .ifr_flags = IFF_TAP | IFF_NO_PI };
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", argv[2]);
	if (c.fd < 0 || ioctl(c.fd, TUNSETIFF, &ifr) < 0) {
		perror("tapceil: TAP");
		return 1;
	}
	/* The kernel's MAC on the TAP, for the SYN (later taken from its frames). */
	int s = socket(AF_INET, SOCK_DGRAM, 0);
	if (ioctl(s, SIOCGIFHWADDR, &ifr) == 0)
		memcpy(c.peer_mac, ifr.ifr_hwaddr.sa_data, 6);
	close(s);

	long long dropped0 = tap_stat(argv[2], "tx_dropped");
	static uint8_t buf[70000];
	uint32_t iss = 1000, plen;
	int none;
	double t0 = now_sec(), start = 0;
	long long moved = 0, segs = 0, probes = 0;
	int state = 0;                    /* 0 SYN sent, 1 established, 2 done, 3 reset */
	double last_syn = 0;
	unsigned unacked = 0;
	while (state < 2 && now_sec() - t0 < c.maxsec) {
		if (state == 0 && now_sec() - last_syn > 0.2) {
			send_seg(&c, 0x02, iss, 0);
			last_syn = now_sec();
		}
		/* Everything the TAP holds, up to a bound, so that sending interleaves with it. */
		int got = 0, blocked = 0;
		for (int n = 0; n < READ_BURST && state < 2; n++) {
			const uint8_t *t = read_seg(&c, buf, sizeof(buf), &plen, &none);
			if (none)
				break;
			if (!t)
				continue;
			got = 1;
			uint8_t fl = t[13];
			if (state == 0 && (fl & 0x12) == 0x12 && get32(t + 8) == iss + 1) {
				c.rcv_nxt = get32(t + 4) + 1;
				c.snd_una = c.snd_nxt = iss + 1;
				c.peer_ws = 0;
				for (const uint8_t *o = t + 20; o < t + (t[12] >> 4) * 4;) {
					if (o[0] == 0) break;
					if (o[0] == 1) { o++; continue; }
					if (o[0] == 3) c.peer_ws = o[2];
					o += o[1] ? o[1] : 1;
				}
				c.snd_wnd = get16(t + 14);
				send_seg(&c, 0, c.snd_nxt, 0);
				state = 1;
				start = now_sec();
				continue;
			}
			if (state != 1)
				continue;
			if (fl & 0x04) {              /* RST */
				state = 3;
				break;
			}
			if (c.mode_into) {
				uint32_t ack = get32(t + 8);
				if ((int32_t)(ack - c.snd_una) > 0)
					c.snd_una = ack;
				c.snd_wnd = get16(t + 14) << c.peer_ws;
			} else {
				if (plen && get32(t + 4) == c.rcv_nxt) {
					c.rcv_nxt += plen;
					moved += plen;
					segs++;
					if (++unacked >= 2) {
						send_seg(&c, 0, c.snd_nxt, 0);
						unacked = 0;
					}
				} else if (plen) {
					/* Out of order (a frame the TAP's queue dropped): a duplicate ACK
					 * at once, so the kernel retransmits fast instead of after an RTO. */
					send_seg(&c, 0, c.snd_nxt, 0);
				}
				if ((fl & 0x01) && get32(t + 4) + plen == c.rcv_nxt) {   /* FIN: all came */
					c.rcv_nxt++;
					send_seg(&c, 0, c.snd_nxt, 0);
					state = 2;
				}
			}
		}
		if (state == 1 && !c.mode_into && unacked) {
			send_seg(&c, 0, c.snd_nxt, 0);   /* drained: acknowledge what came */
			unacked = 0;
		}
		int sent = 0;
		if (state == 1 && c.mode_into) {
			long long done = (long long)(c.snd_nxt - iss - 1);
			/* Send while the window allows (no congestion control: the ceiling), a burst
			 * at a time: the kernel's ACKs wait in the TAP's queue meanwhile, and a
			 * queue that overflows drops them (tx_dropped, printed below). */
			while (sent < SEND_BURST && done < c.bytes && c.snd_nxt - c.snd_una + MSS <= c.snd_wnd) {
				uint32_t len = (uint32_t)(c.bytes - done < MSS ? c.bytes - done : MSS);
				if (send_seg(&c, 0x08, c.snd_nxt, len) == -EAGAIN) {
					blocked = 1;
					break;
				}
				c.snd_nxt += len;
				done += len;
				segs++;
				sent++;
			}
			if ((long long)(c.snd_una - iss - 1) >= c.bytes) {
				moved = c.bytes;
				send_seg(&c, 0x01, c.snd_nxt, 0);   /* FIN: the kernel's reader ends */
				state = 2;
			}
		}
		if (got || (sent && !blocked) || state >= 2)
			continue;
		/* Nothing to read and nothing we may send: block until the TAP has a frame (or,
		 * when a write found it full, room), not a fixed sleep. The timeout only paces
		 * the SYN's retransmission and, established, a window probe: an ACK that opened
		 * the window may have been dropped, and the kernel answers an old sequence number
		 * with one (RFC 9293 3.8.6.1, what its persist timer would do for a real peer). */
		double left = c.maxsec - (now_sec() - t0);
		double wait = state == 0 ? 0.2 - (now_sec() - last_syn) : PROBE_SEC;
		if (wait > left)
			wait = left;
		struct pollfd p = { .fd = c.fd, .events = (short)(POLLIN | (blocked ? POLLOUT : 0)) };
		int r = poll(&p, 1, wait > 0 ? (int)(wait * 1000) + 1 : 0);
		if (r == 0 && state == 1) {
			send_seg(&c, 0, c.snd_una - 1, 0);
			probes++;
		}
	}
	double secs = now_sec() - (start ? start : t0);
	if (state != 2) {
		fprintf(stderr, "tapceil: not finished in %.1f s (state %d, %lld bytes)\n", c.maxsec, state, moved);
		return 1;
	}
	printf("gbps=%.3f segs=%lld secs=%.3f probes=%lld tap_tx_dropped=%lld\n", (double)moved * 8 / secs / 1e9, segs,
	       secs, probes, tap_stat(argv[2], "tx_dropped") - dropped0);
	fflush(stdout);
	_exit(0);   /* the kernel thread may still be draining; nothing else to clean */
}
