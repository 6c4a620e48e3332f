/*
 * flood.c - the attack generator of `make stress` (scripts/stress.sh): sends forged frames
 * on a network interface through an AF_PACKET socket, bounded in rate and in time (both
 * required, both capped), so a stress run can never turn into an unbounded flood. Run it
 * only inside the namespace the script made, on its TAP.
 *
 *   flood IFACE DST_MAC MODE RATE_PPS SECONDS [options]
 *     MODE  syn    SYNs to DST:PORT from random sources in SRC/PREFIX (SYN flood)
 *           ack    ACKs from SRC:SPORT to DST:PORT with random seq/ack (blind in-window attack)
 *           rst    RSTs likewise (RFC 5961 makes both harmless)
 *           frag   first fragments (MF, offset 0) with random IDs that never complete
 *   options: --src A.B.C.D/N (default 10.0.0.0/24, never .0-.2 or the broadcast)
 *            --dst A.B.C.D (10.0.0.2) --port N (80) --sport N (random per frame)
 *            --mac-random (a random source MAC per frame: a crowd of on-link hosts)
 * Prints "sent N frames in S s" at the end.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define FLOOD_MAX_PPS 500000
#define FLOOD_MAX_SECONDS 120

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint32_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (uint32_t)rng_state;
}

static uint16_t csum(const uint8_t *p, size_t n, uint32_t sum)
{
	for (size_t i = 0; i + 1 < n; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (n & 1)
		sum += (uint32_t)p[n - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static void put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }
static void put32(uint8_t *p, uint32_t v) { put16(p, (uint16_t)(v >> 16)); put16(p + 2, (uint16_t)v); }

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int parse_mac(const char *s, uint8_t mac[6])
{
	unsigned v[6];
	if (sscanf(s, "%x:%x:%x:%x:%x:%x", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5]) != 6)
		return -1;
	for (int i = 0; i < 6; i++)
		mac[i] = (uint8_t)v[i];
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 6) {
		fprintf(stderr, "usage: flood IFACE DST_MAC syn|ack|rst|frag RATE_PPS SECONDS [--src A/N] [--dst A] "
				"[--port N] [--sport N] [--mac-random]\n");
		return 2;
	}
	const char *ifname = argv[1], *mode = argv[3];
	uint8_t dmac[6], smac[6] = { 0x02, 0x5a, 0, 0, 0, 1 };
	long rate = atol(argv[4]);
	double secs = atof(argv[5]);
	uint32_t src_net = 0x0a000000u, src_mask = 0xffffff00u, dst = 0x0a000002u;
	int port = 80, sport = -1, mac_random = 0;
	struct in_addr a;

	if (parse_mac(argv[2], dmac) != 0 || rate <= 0 || rate > FLOOD_MAX_PPS || secs <= 0 || secs > FLOOD_MAX_SECONDS) {
		fprintf(stderr, "flood: bad MAC, or rate not in 1..%d, or seconds not in (0, %d]\n", FLOOD_MAX_PPS,
			FLOOD_MAX_SECONDS);
		return 2;
	}
	for (int i = 6; i < argc; i++) {
		if (!strcmp(argv[i], "--src") && i + 1 < argc) {
			char buf[32], *slash;
			snprintf(buf, sizeof(buf), "%s", argv[++i]);
			slash = strchr(buf, '/');
			int plen = slash ? atoi(slash + 1) : 32;
			if (slash)
				*slash = '\0';
			if (!inet_aton(buf, &a) || plen < 8 || plen > 32)
				return 2;
			src_mask = plen == 32 ? 0xffffffffu : ~(0xffffffffu >> plen);
			src_net = ntohl(a.s_addr) & src_mask;
		} else if (!strcmp(argv[i], "--dst") && i + 1 < argc) {
			if (!inet_aton(argv[++i], &a))
				return 2;
			dst = ntohl(a.s_addr);
		} else if (!strcmp(argv[i], "--port") && i + 1 < argc) {
			port = atoi(argv[++i]);
		} else if (!strcmp(argv[i], "--sport") && i + 1 < argc) {
			sport = atoi(argv[++i]);
		} else if (!strcmp(argv[i], "--mac-random")) {
			mac_random = 1;
		} else {
			fprintf(stderr, "flood: unknown option %s\n", argv[i]);
			return 2;
		}
	}
	int fd = socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL));
	if (fd < 0) {
		perror("flood: socket(AF_PACKET)");
		return 1;
	}
	struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_ifindex = (int)if_nametoindex(ifname), .sll_halen = 6 };
	if (sll.sll_ifindex == 0) {
		fprintf(stderr, "flood: no interface %s\n", ifname);
		return 1;
	}
	memcpy(sll.sll_addr, dmac, 6);
	rng_state ^= (uint64_t)getpid() << 32 | (uint64_t)time(NULL);

	uint8_t f[64];
	uint64_t sent = 0;
	double t0 = now_s(), end = t0 + secs;
	long batch = rate / 1000 > 0 ? rate / 1000 : 1;   /* frames per millisecond tick */
	double tick = (double)batch / (double)rate;
	double next = t0;
	while (now_s() < end) {
		for (long b = 0; b < batch; b++) {
			uint32_t src;
			do
				src = src_net | (rnd() & ~src_mask);
			while (src_mask != 0xffffffffu && ((src & 0xff) < 3 || (src & ~src_mask) == ~src_mask));
			if (src_mask == 0xffffffffu)
				src = src_net;
			memset(f, 0, sizeof(f));
			memcpy(f, dmac, 6);
			if (mac_random) {
				smac[3] = (uint8_t)rnd(); smac[4] = (uint8_t)rnd(); smac[5] = (uint8_t)rnd();
			}
			memcpy(f + 6, smac, 6);
			put16(f + 12, 0x0800);
			uint8_t *ip = f + 14, *l4 = ip + 20;
			int frag = !strcmp(mode, "frag");
			uint16_t l4len = frag ? 24 : 20;
			ip[0] = 0x45;
			put16(ip + 2, (uint16_t)(20 + l4len));
			put16(ip + 4, (uint16_t)rnd());
			put16(ip + 6, frag ? 0x2000 : 0x4000);
			ip[8] = 64;
			ip[9] = frag ? 17 : 6;
			put32(ip + 12, src);
			put32(ip + 16, dst);
			put16(ip + 10, csum(ip, 20, 0));
			if (frag) {
				memset(l4, 0xab, l4len);
			} else {
				uint8_t flags = !strcmp(mode, "syn") ? 0x02 : !strcmp(mode, "ack") ? 0x10 : 0x04;
				put16(l4, (uint16_t)(sport >= 0 ? sport : 1024 + (int)(rnd() % 64000)));
				put16(l4 + 2, (uint16_t)port);
				put32(l4 + 4, rnd());
				put32(l4 + 8, flags == 0x02 ? 0 : rnd());
				l4[12] = 0x50;
				l4[13] = flags;
				put16(l4 + 14, 65535);
				uint32_t ps = (src >> 16) + (src & 0xffff) + (dst >> 16) + (dst & 0xffff) + 6 + l4len;
				put16(l4 + 16, csum(l4, l4len, ps));
			}
			size_t len = 14 + 20 + l4len;
			if (len < 60)
				len = 60;
			if (sendto(fd, f, len, 0, (struct sockaddr *)&sll, sizeof(sll)) > 0)
				sent++;
		}
		next += tick;
		double d = next - now_s();
		if (d > 0)
			usleep((useconds_t)(d * 1e6));
	}
	printf("sent %llu frames in %.1f s\n", (unsigned long long)sent, now_s() - t0);
	close(fd);
	return 0;
}
