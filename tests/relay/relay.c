/*
 * relay.c - build/tapstack-relay: a user-space Ethernet relay between two interfaces that
 * impairs what it forwards, the project's stand-in for netem (this kernel has none).
 *
 *   tapstack-relay --a IFNAME --b IFNAME [--rtt MS] [--loss PCT] [--reorder PCT] ...
 *
 * It opens an AF_PACKET socket on each interface (usually the relay's ends of two veth
 * pairs, in a namespace of their own), reads every frame that arrives on one and writes it
 * out of the other after the impairment model of that direction (tests/relay/impair.c:
 * loss, corruption, a rate-limited bottleneck with a bounded queue, delay and reordering)
 * says so. The interfaces need no address; the devices that send into them must have their
 * checksum and segmentation offloads off (ethtool -K DEV tx off tso off gso off), because a
 * packet socket sees a frame before the kernel finishes its checksum or cuts it into
 * segments. Counters for each direction are printed when it exits (SIGTERM, SIGINT, or
 * --max-seconds), with the TCP payload each flow sent again (tests/relay/resend.c: the
 * same measure of retransmitted bytes for every stack behind the relay);
 * tests/net/test_tcp_lossy.sh and scripts/bench/lossy.py read them.
 *
 * One thread: ppoll() on both sockets with a timeout until the next frame is due, so the
 * delays are as precise as the kernel's timers (the timer slack is set to 1 us). It lives
 * under tests/ beside the packetdrill runner because it is test equipment, never part of
 * the stack; from the library it uses only the seeded generator (core/rng.h) and the
 * header views (wire/).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "tests/relay/impair.h"
#include "tests/relay/resend.h"
#include "wire/ipv4.h"

#ifndef PACKET_IGNORE_OUTGOING
#define PACKET_IGNORE_OUTGOING 23
#endif

#define RELAY_BATCH 32                 /* frames per recvmmsg() */
#define RELAY_READS_PER_WAKE 8         /* batches before due frames get their turn again */
#define RELAY_SOCKBUF_BYTES (8 << 20)
#define RELAY_DEFAULT_SLOTS 16384u     /* frames in flight per direction: 100 ms at ~2 Gbit/s */

/* One direction: frames read from `in` go through `model` and out of `out`. */
struct relay_dir {
	const char *name;
	int in, out;
	struct impair model;
	struct resend seen;      /* TCP payload sent again, counted as it arrives */
	uint64_t send_errors;
	int blocked;             /* the last send would block: wait for POLLOUT */
};

struct relay_opts {
	const char *ifname[2];
	struct impair_config cfg[2];   /* [0] a->b, [1] b->a */
	double queue_bytes[2];          /* < 0: one BDP of the rate and the round trip */
	uint64_t seed;
	uint32_t slots;
	double max_seconds;
	int quiet;
};

static volatile sig_atomic_t relay_stop;

static void relay_on_signal(int sig)
{
	(void)sig;
	relay_stop = 1;
}

static uint64_t relay_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * IMPAIR_NS_PER_SEC + (uint64_t)ts.tv_nsec;
}

static void relay_usage(FILE *f)
{
	fprintf(f,
		"usage: tapstack-relay --a IFNAME --b IFNAME [options]\n"
		"  forwards every frame between two interfaces through a seeded model of a lossy path\n"
		"  (tests/relay/impair.h); counters per direction are printed at exit.\n\n"
		"  Each path option takes V (both directions) or V1,V2 (a->b, then b->a):\n"
		"  --delay MS           one-way delay (default 0)\n"
		"  --rtt MS             shorthand for --delay MS/2 both ways\n"
		"  --loss PCT           frames dropped at random (default 0)\n"
		"  --corrupt PCT        IPv4 frames with one bit flipped past the Ethernet header\n"
		"  --reorder PCT        frames sent with --reorder-delay instead of the delay\n"
		"  --reorder-delay MS   delay of a reordered frame (default 0: netem's reorder)\n"
		"  --rate MBIT          bottleneck rate in Mbit/s of Ethernet frames (default none)\n"
		"  --queue BYTES        bottleneck queue (default one bandwidth-delay product of the\n"
		"                       rate and the round trip, the two delays added)\n\n"
		"  --seed N             seed of the random draws (default 1); each direction its own\n"
		"  --slots N            frames in flight per direction (default %u)\n"
		"  --max-seconds S      exit by itself after S seconds (default 3600)\n"
		"  --quiet              no start line\n"
		"  --help               this text\n",
		RELAY_DEFAULT_SLOTS);
}

/* "V" or "V1,V2" into out[0], out[1]; 0 on success. */
static int relay_parse_pair(const char *s, double out[2])
{
	char *end;

	out[0] = strtod(s, &end);
	if (end == s || out[0] < 0)
		return -1;
	if (*end == '\0') {
		out[1] = out[0];
		return 0;
	}
	if (*end != ',')
		return -1;
	s = end + 1;
	out[1] = strtod(s, &end);
	return end == s || *end != '\0' || out[1] < 0 ? -1 : 0;
}

static uint32_t relay_pct_to_ppm(double pct)
{
	return pct >= 100.0 ? IMPAIR_PPM : (uint32_t)(pct * 10000.0 + 0.5);
}

static uint64_t relay_ms_to_ns(double ms)
{
	return (uint64_t)(ms * 1e6 + 0.5);
}

static int relay_parse_args(int argc, char **argv, struct relay_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->seed = 1;
	o->slots = RELAY_DEFAULT_SLOTS;
	o->max_seconds = 3600;
	o->queue_bytes[0] = o->queue_bytes[1] = -1;
	for (int i = 1; i < argc; i++) {
		const char *opt = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
		double v[2];
		int d;

		if (!strcmp(opt, "--help")) {
			relay_usage(stdout);
			exit(0);
		}
		if (!strcmp(opt, "--quiet")) {
			o->quiet = 1;
			continue;
		}
		if (!val) {
			fprintf(stderr, "tapstack-relay: %s needs a value\n", opt);
			return -1;
		}
		i++;
		if (!strcmp(opt, "--a") || !strcmp(opt, "--b")) {
			o->ifname[opt[2] == 'b'] = val;
			continue;
		}
		if (!strcmp(opt, "--seed") || !strcmp(opt, "--slots") || !strcmp(opt, "--max-seconds")) {
			char *end;
			double x = strtod(val, &end);

			if (end == val || *end || x < 0) {
				fprintf(stderr, "tapstack-relay: bad value for %s: %s\n", opt, val);
				return -1;
			}
			if (!strcmp(opt, "--seed")) {
				o->seed = strtoull(val, NULL, 10);
			} else if (!strcmp(opt, "--slots")) {
				if (x < 1 || x > (1 << 22)) {
					fprintf(stderr, "tapstack-relay: --slots is 1..%u\n", 1u << 22);
					return -1;
				}
				o->slots = (uint32_t)x;
			} else {
				o->max_seconds = x;
			}
			continue;
		}
		if (relay_parse_pair(val, v)) {
			fprintf(stderr, "tapstack-relay: bad value for %s: %s (V or V1,V2, not negative)\n", opt, val);
			return -1;
		}
		for (d = 0; d < 2; d++) {
			struct impair_config *c = &o->cfg[d];

			if (!strcmp(opt, "--delay"))
				c->delay_ns = relay_ms_to_ns(v[d]);
			else if (!strcmp(opt, "--rtt"))
				c->delay_ns = relay_ms_to_ns(v[d] / 2);
			else if (!strcmp(opt, "--loss") || !strcmp(opt, "--corrupt") || !strcmp(opt, "--reorder")) {
				if (v[d] > 100) {
					fprintf(stderr, "tapstack-relay: %s is a percentage: %s\n", opt, val);
					return -1;
				}
				*(opt[2] == 'l' ? &c->loss_ppm : opt[2] == 'c' ? &c->corrupt_ppm : &c->reorder_ppm) =
					relay_pct_to_ppm(v[d]);
			} else if (!strcmp(opt, "--reorder-delay"))
				c->reorder_delay_ns = relay_ms_to_ns(v[d]);
			else if (!strcmp(opt, "--rate"))
				c->rate_bps = (uint64_t)(v[d] * 1e6 + 0.5);
			else if (!strcmp(opt, "--queue"))
				o->queue_bytes[d] = v[d];
			else {
				fprintf(stderr, "tapstack-relay: unknown option %s (--help)\n", opt);
				return -1;
			}
		}
	}
	if (!o->ifname[0] || !o->ifname[1]) {
		fprintf(stderr, "tapstack-relay: --a and --b are required (--help)\n");
		return -1;
	}
	for (int d = 0; d < 2; d++) {
		uint64_t rtt = o->cfg[0].delay_ns + o->cfg[1].delay_ns;

		if (o->queue_bytes[d] >= 0)
			o->cfg[d].queue_bytes = (uint64_t)o->queue_bytes[d];
		else
			o->cfg[d].queue_bytes = impair_bdp_bytes(o->cfg[d].rate_bps, rtt);
		/* a queue shorter than one frame would refuse every full frame */
		if (o->cfg[d].rate_bps && o->cfg[d].queue_bytes < IMPAIR_FRAME_MAX)
			o->cfg[d].queue_bytes = IMPAIR_FRAME_MAX;
	}
	return 0;
}

/* A packet socket that sees every frame arriving on ifname (not the ones it sends). */
static int relay_open(const char *ifname)
{
	struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL) };
	struct packet_mreq mr = { .mr_type = PACKET_MR_PROMISC };
	int one = 1, buf = RELAY_SOCKBUF_BYTES;
	int fd, ifindex = (int)if_nametoindex(ifname);

	if (!ifindex) {
		fprintf(stderr, "tapstack-relay: no interface %s: %s\n", ifname, strerror(errno));
		return -1;
	}
	/* Protocol 0: it receives nothing before bind() names the interface. */
	fd = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		fprintf(stderr, "tapstack-relay: packet socket: %s (root needed)\n", strerror(errno));
		return -1;
	}
	sll.sll_ifindex = ifindex;
	mr.mr_ifindex = ifindex;
	if (bind(fd, (struct sockaddr *)&sll, sizeof(sll)) < 0 ||
	    setsockopt(fd, SOL_PACKET, PACKET_ADD_MEMBERSHIP, &mr, sizeof(mr)) < 0) {
		fprintf(stderr, "tapstack-relay: %s: %s\n", ifname, strerror(errno));
		close(fd);
		return -1;
	}
	/* Best effort: older kernels lack the first, an unprivileged run the others. */
	setsockopt(fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof(one));
	setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &buf, sizeof(buf));
	setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &buf, sizeof(buf));
	return fd;
}

/* Reads what has arrived on d->in into the model, a bounded number of batches. */
static void relay_read(struct relay_dir *d)
{
	static uint8_t bufs[RELAY_BATCH][IMPAIR_FRAME_MAX + 1];
	struct mmsghdr msgs[RELAY_BATCH];
	struct iovec iov[RELAY_BATCH];
	struct sockaddr_ll from[RELAY_BATCH];

	for (int round = 0; round < RELAY_READS_PER_WAKE; round++) {
		int n;
		uint64_t now;

		memset(msgs, 0, sizeof(msgs));
		for (int i = 0; i < RELAY_BATCH; i++) {
			iov[i].iov_base = bufs[i];
			iov[i].iov_len = sizeof(bufs[i]);
			msgs[i].msg_hdr.msg_iov = &iov[i];
			msgs[i].msg_hdr.msg_iovlen = 1;
			msgs[i].msg_hdr.msg_name = &from[i];
			msgs[i].msg_hdr.msg_namelen = sizeof(from[i]);
		}
		n = recvmmsg(d->in, msgs, RELAY_BATCH, MSG_DONTWAIT, NULL);
		if (n <= 0)
			return;
		now = relay_now_ns();
		for (int i = 0; i < n; i++) {
			size_t len = msgs[i].msg_len;

			if (from[i].sll_pkttype == PACKET_OUTGOING)
				continue;          /* our own send on this interface */
			if (msgs[i].msg_hdr.msg_flags & MSG_TRUNC)
				len = IMPAIR_FRAME_MAX + 1;   /* counted as oversize */
			else
				resend_frame(&d->seen, bufs[i], len);
			impair_input(&d->model, bufs[i], len, now);
		}
		if (n < RELAY_BATCH)
			return;
	}
}

/* Sends every frame of d that is due by now; stops early when the device pushes back. */
static void relay_flush(struct relay_dir *d, uint64_t now)
{
	const uint8_t *f;
	size_t len;

	d->blocked = 0;
	while ((f = impair_peek(&d->model, now, &len))) {
		if (send(d->out, f, len, MSG_DONTWAIT) < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS) {
				d->blocked = 1;
				return;
			}
			d->send_errors++;   /* e.g. the interface went down: the frame is lost */
		}
		impair_pop(&d->model);
	}
}

static void relay_print(const struct relay_dir *d)
{
	const struct impair_counters *c = &d->model.c;
	struct tpacket_stats st = { 0 };
	socklen_t stlen = sizeof(st);

	/* Frames the kernel dropped because the relay did not read them in time: a relay
	 * that cannot keep up would be an impairment nobody asked for, so it is reported. */
	if (getsockopt(d->in, SOL_PACKET, PACKET_STATISTICS, &st, &stlen) < 0)
		st.tp_drops = 0;

	printf("relay %s: in=%" PRIu64 " in_bytes=%" PRIu64 " out=%" PRIu64 " out_bytes=%" PRIu64
	       " lost=%" PRIu64 " corrupted=%" PRIu64 " reordered=%" PRIu64 " queue_drops=%" PRIu64
	       " slot_drops=%" PRIu64 " oversize=%" PRIu64 " queue_peak=%" PRIu64 " send_errors=%" PRIu64
	       " in_flight=%" PRIu32 " rx_drops=%u tcp_payload=%" PRIu64 " tcp_resent=%" PRIu64 "\n",
	       d->name, c->in_frames, c->in_bytes, c->out_frames, c->out_bytes, c->lost, c->corrupted,
	       c->reordered, c->queue_drops, c->slot_drops, c->oversize, c->queue_peak_bytes, d->send_errors,
	       d->model.nheap, st.tp_drops, d->seen.payload_bytes, d->seen.resent_bytes);
	/* One line per flow that carried payload, for runs with several flows at once. */
	for (const struct resend_flow *f = d->seen.flows; f < d->seen.flows + RESEND_FLOWS; f++) {
		char src[16], dst[16];

		if (!f->used || !f->payload_bytes)
			continue;
		printf("relay %s flow %s:%u>%s:%u: tcp_payload=%" PRIu64 " tcp_resent=%" PRIu64 "\n", d->name,
		       ipv4_addr_str(f->saddr, src), f->sport, ipv4_addr_str(f->daddr, dst), f->dport,
		       f->payload_bytes, f->resent_bytes);
	}
}

static void relay_describe(const struct relay_opts *o)
{
	for (int d = 0; d < 2; d++) {
		const struct impair_config *c = &o->cfg[d];

		printf("relay %s: delay=%.3fms loss=%.4f%% corrupt=%.4f%% reorder=%.4f%% reorder_delay=%.3fms "
		       "rate=%.3fMbit queue=%" PRIu64 "\n",
		       d ? "b>a" : "a>b", c->delay_ns / 1e6, c->loss_ppm / 1e4, c->corrupt_ppm / 1e4,
		       c->reorder_ppm / 1e4, c->reorder_delay_ns / 1e6, c->rate_bps / 1e6,
		       c->rate_bps ? c->queue_bytes : 0);
	}
}

static int relay_run(struct relay_dir dir[2], double max_seconds)
{
	sigset_t block, waitmask;
	struct sigaction sa = { .sa_handler = relay_on_signal };
	uint64_t end = relay_now_ns() + (uint64_t)(max_seconds * 1e9);

	/* The stop signals are blocked except inside ppoll(), so none is missed between the
	 * check of relay_stop and the wait. */
	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigprocmask(SIG_BLOCK, &block, &waitmask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	while (!relay_stop) {
		uint64_t now = relay_now_ns(), next = end;
		struct pollfd pfd[2];
		struct timespec ts;

		if (now >= end)
			break;
		for (int i = 0; i < 2; i++) {
			uint64_t due;

			relay_flush(&dir[i], now);
			due = impair_next_due(&dir[i].model);
			if (!dir[i].blocked && due < next)
				next = due;
		}
		for (int i = 0; i < 2; i++) {
			/* pfd[i] is interface i: frames in for dir[i], out for dir[1 - i] */
			pfd[i].fd = dir[i].in;
			pfd[i].events = POLLIN | (dir[1 - i].blocked ? POLLOUT : 0);
		}
		now = relay_now_ns();
		ts.tv_sec = next > now ? (time_t)((next - now) / IMPAIR_NS_PER_SEC) : 0;
		ts.tv_nsec = next > now ? (long)((next - now) % IMPAIR_NS_PER_SEC) : 0;
		if (ppoll(pfd, 2, &ts, &waitmask) < 0) {
			if (errno == EINTR)
				continue;
			fprintf(stderr, "tapstack-relay: ppoll: %s\n", strerror(errno));
			return 1;
		}
		for (int i = 0; i < 2; i++) {
			if (pfd[i].revents & (POLLERR | POLLNVAL)) {
				fprintf(stderr, "tapstack-relay: %s: socket error\n", dir[i].name);
				return 1;
			}
			if (pfd[i].revents & POLLIN)
				relay_read(&dir[i]);
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct relay_opts o;
	struct relay_dir dir[2] = { { .name = "a>b" }, { .name = "b>a" } };
	int fd[2], rc;

	if (relay_parse_args(argc, argv, &o))
		return 2;
	for (int i = 0; i < 2; i++) {
		fd[i] = relay_open(o.ifname[i]);
		if (fd[i] < 0)
			return 1;
	}
	dir[0].in = dir[1].out = fd[0];
	dir[0].out = dir[1].in = fd[1];
	for (int d = 0; d < 2; d++) {
		/* Each direction its own stream: one direction's traffic never shifts the other's draws. */
		if (impair_init(&dir[d].model, &o.cfg[d], o.seed * 2 + (uint64_t)d, o.slots)) {
			fprintf(stderr, "tapstack-relay: out of memory for %u slots\n", o.slots);
			return 1;
		}
	}
	prctl(PR_SET_TIMERSLACK, 1000UL, 0, 0, 0);
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (!o.quiet) {
		relay_describe(&o);
		printf("relay: ready a=%s b=%s seed=%" PRIu64 "\n", o.ifname[0], o.ifname[1], o.seed);
	}
	rc = relay_run(dir, o.max_seconds);
	for (int d = 0; d < 2; d++) {
		relay_print(&dir[d]);
		impair_free(&dir[d].model);
		close(fd[d]);
	}
	return rc;
}
