/*
 * benchcli.c - the small Linux client programs that `make bench` needs and that curl, wrk
 * and nc do not provide. It runs on the kernel side (real Linux sockets) against either
 * tapstack or the kernel reference server, so the client is identical for both.
 *
 *   benchcli rtt HOST PORT COUNT MAXSEC      1-byte echo round trips (TCP_NODELAY); prints
 *                                            median, p99, min, max in microseconds
 *   benchcli rttspin HOST PORT COUNT MAXSEC  the same, the client polling for each answer
 *                                            instead of sleeping: without its own wake-up
 *   benchcli upload HOST PORT BYTES MAXSEC   send BYTES to a discard server, shut down the
 *                                            write side, wait for the server's FIN; prints
 *                                            Gbit/s over connect .. FIN (or .. last send
 *                                            when the server never closes)
 *   benchcli hold HOST PORT N MAXSEC         open N idle connections, print "held N", keep
 *                                            them until stdin reaches EOF or MAXSEC passes
 *   benchcli tapwrite TAP SIZE COUNT MAXSEC  the TAP device's own ceiling: write() COUNT
 *                                            frames of SIZE bytes, one per call, into an
 *                                            otherwise idle TAP; prints frames/s and Gbit/s
 *   benchcli tapgso TAP SIZE COUNT MAXSEC    the same through IFF_VNET_HDR: each write() is a
 *                                            virtio_net_hdr plus one TCP/IPv4 GSO frame of SIZE
 *                                            bytes (up to 65535 + 14), MSS 1448, checksum left
 *                                            to the kernel: the ceiling an offloading stack has
 *
 * Called by scripts/bench/bench.py; built by mk/bench.mk. Every loop is bounded by a count
 * and by MAXSEC, so a stack that stops answering cannot hang the benchmark. Output is one
 * line of key=value pairs, which bench.py parses.
 */
#include <arpa/inet.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <linux/virtio_net.h>
#include <sys/ioctl.h>
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#define UPLOAD_CHUNK_BYTES (1u << 20)
#define HOLD_BATCH 200          /* connects in flight at once: stays below a 256 SYN backlog */
#define RTT_WARMUP 50

static double now_sec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int parse_addr(const char *host, const char *port, struct sockaddr_in *sa)
{
	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	sa->sin_port = htons((uint16_t)atoi(port));
	if (inet_pton(AF_INET, host, &sa->sin_addr) != 1) {
		fprintf(stderr, "benchcli: bad IPv4 address %s\n", host);
		return -1;
	}
	return 0;
}

static int connect_blocking(const struct sockaddr_in *sa)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	if (fd < 0)
		return -1;
	if (connect(fd, (const struct sockaddr *)sa, sizeof(*sa)) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/*
 * 1-byte round trips. spin: the answer is awaited by polling recv(MSG_DONTWAIT) instead of
 * sleeping in it, so the client's own wake-up (an idle vCPU woken by an interrupt) is not in
 * the figure: what is left is the server and the path.
 */
static int cmd_rtt(const struct sockaddr_in *sa, long count, double maxsec, bool spin)
{
	int fd = connect_blocking(sa), one = 1;
	double *samples, deadline = now_sec() + maxsec;
	long n = 0;
	char c = 'x';

	if (fd < 0) {
		perror("benchcli rtt: connect");
		return 1;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	samples = calloc((size_t)count, sizeof(*samples));
	if (!samples)
		return 1;
	for (long i = 0; i < count + RTT_WARMUP && now_sec() < deadline; i++) {
		double t0 = now_sec();

		ssize_t got;

		if (send(fd, &c, 1, 0) != 1) {
			perror("benchcli rtt: echo");
			break;
		}
		do
			got = recv(fd, &c, 1, spin ? MSG_DONTWAIT : MSG_WAITALL);
		while (spin && got < 0 && errno == EAGAIN);
		if (got != 1) {
			perror("benchcli rtt: echo");
			break;
		}
		if (i >= RTT_WARMUP)
			samples[n++] = (now_sec() - t0) * 1e6;
	}
	close(fd);
	if (n == 0) {
		fprintf(stderr, "benchcli rtt: no samples\n");
		free(samples);
		return 1;
	}
	qsort(samples, (size_t)n, sizeof(*samples), cmp_double);
	printf("rtt n=%ld median_us=%.2f p99_us=%.2f min_us=%.2f max_us=%.2f\n", n,
	       samples[n / 2], samples[(size_t)((double)(n - 1) * 0.99)], samples[0], samples[n - 1]);
	free(samples);
	return 0;
}

static int cmd_upload(const struct sockaddr_in *sa, long long bytes, double maxsec)
{
	char *buf = malloc(UPLOAD_CHUNK_BYTES);
	double t0 = now_sec(), deadline = t0 + maxsec, t_sent, t_end;
	long long sent = 0;
	int fd, eof = 0;

	if (!buf)
		return 1;
	memset(buf, 'u', UPLOAD_CHUNK_BYTES);
	fd = connect_blocking(sa);
	if (fd < 0) {
		perror("benchcli upload: connect");
		free(buf);
		return 1;
	}
	while (sent < bytes && now_sec() < deadline) {
		size_t want = (size_t)(bytes - sent < UPLOAD_CHUNK_BYTES ? bytes - sent : UPLOAD_CHUNK_BYTES);
		ssize_t w = send(fd, buf, want, 0);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			perror("benchcli upload: send");
			break;
		}
		sent += w;
	}
	t_sent = now_sec();
	shutdown(fd, SHUT_WR);
	/* The discard server closes after our FIN, so its FIN means every byte was consumed. */
	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		int left_ms = (int)((deadline + 5.0 - now_sec()) * 1000);

		if (left_ms <= 0 || poll(&p, 1, left_ms) <= 0)
			break;
		ssize_t r = recv(fd, buf, UPLOAD_CHUNK_BYTES, 0);
		if (r == 0) {
			eof = 1;
			break;
		}
		if (r < 0)
			break;
	}
	t_end = eof ? now_sec() : t_sent;
	close(fd);
	free(buf);
	printf("upload bytes=%lld secs=%.6f gbps=%.4f eof=%d\n", sent, t_end - t0,
	       (double)sent * 8 / (t_end - t0) / 1e9, eof);
	return sent == bytes ? 0 : 1;
}

static int cmd_hold(const struct sockaddr_in *sa, long n, double maxsec)
{
	struct rlimit rl = { .rlim_cur = (rlim_t)n + 64, .rlim_max = (rlim_t)n + 64 };
	int *fds = calloc((size_t)n, sizeof(*fds));
	double deadline = now_sec() + maxsec;
	long opened = 0, failed = 0;
	char sink[64];

	if (!fds)
		return 1;
	if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
		perror("benchcli hold: setrlimit (continuing)");
	/* Batches of non-blocking connects, each batch waited for, so a bounded SYN queue on
	 * the server is not overrun (overrun would measure retransmission, not memory). */
	while (opened + failed < n && now_sec() < deadline) {
		long batch = 0;
		struct pollfd pf[HOLD_BATCH];

		for (; batch < HOLD_BATCH && opened + failed + batch < n; batch++) {
			int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);

			if (fd < 0 || (connect(fd, (const struct sockaddr *)sa, sizeof(*sa)) < 0 &&
				       errno != EINPROGRESS)) {
				perror("benchcli hold: socket/connect");
				if (fd >= 0)
					close(fd);
				break;
			}
			pf[batch] = (struct pollfd){ .fd = fd, .events = POLLOUT };
		}
		if (batch == 0)
			break;
		for (long pending = batch; pending > 0 && now_sec() < deadline;) {
			int r = poll(pf, (nfds_t)batch, 1000);

			if (r < 0 && errno != EINTR)
				break;
			pending = 0;
			for (long i = 0; i < batch; i++) {
				if (pf[i].fd < 0)
					continue;
				if (pf[i].revents) {
					int err = 0;
					socklen_t len = sizeof(err);

					getsockopt(pf[i].fd, SOL_SOCKET, SO_ERROR, &err, &len);
					if (err) {
						close(pf[i].fd);
						failed++;
					} else {
						fds[opened++] = pf[i].fd;
					}
					pf[i].fd = -1;
				} else {
					pending++;
				}
			}
		}
		for (long i = 0; i < batch; i++)
			if (pf[i].fd >= 0) {
				close(pf[i].fd);
				failed++;
			}
	}
	printf("held %ld failed=%ld\n", opened, failed);
	fflush(stdout);
	/* Hold until the driver closes our stdin (or the time bound passes). */
	for (;;) {
		struct pollfd p = { .fd = 0, .events = POLLIN };
		int left_ms = (int)((deadline - now_sec()) * 1000);

		if (left_ms <= 0 || poll(&p, 1, left_ms) <= 0)
			break;
		if (read(0, sink, sizeof(sink)) <= 0)
			break;
	}
	for (long i = 0; i < opened; i++)
		close(fds[i]);
	free(fds);
	return opened == n ? 0 : 1;
}

/*
 * Frames go to a unicast MAC that is not the device's, so the kernel takes each one through
 * tun_get_user() and netif_rx() and drops it right after eth_type_trans() (PACKET_OTHERHOST):
 * this is the per-write() cost a userspace stack pays at least once per frame it sends.
 */
static int tap_open(const char *name, int vnet)
{
	struct ifreq ifr;
	int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);

	if (fd < 0) {
		perror("benchcli: /dev/net/tun");
		return -1;
	}
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = (short)(IFF_TAP | IFF_NO_PI | (vnet ? IFF_VNET_HDR : 0));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
		perror("benchcli: TUNSETIFF");
		close(fd);
		return -1;
	}
	return fd;
}

/* Writes COUNT copies of frame (len bytes, after an optional vnet header) and reports. */
static int tap_write_loop(int fd, const struct iovec *iov, int iovcnt, long size, long count,
			  double maxsec, const char *what)
{
	double t0 = now_sec(), t1, deadline = t0 + maxsec;
	long n = 0;

	for (; n < count; n++) {
		if ((n & 255) == 0 && now_sec() > deadline)
			break;
		if (writev(fd, iov, iovcnt) < 0) {
			perror("benchcli: write to the TAP");
			break;
		}
	}
	t1 = now_sec();
	printf("%s frames=%ld secs=%.6f fps=%.0f gbps=%.4f\n", what, n, t1 - t0, (double)n / (t1 - t0),
	       (double)n * (double)size * 8 / (t1 - t0) / 1e9);
	return n > 0 ? 0 : 1;
}

/* Destination MAC nobody owns: the kernel drops each frame right after eth_type_trans(). */
static const unsigned char BENCH_ETH_HDR[14] = { 0x02, 0, 0, 0, 0, 0x01, 0x02, 0, 0, 0, 0, 0x02,
						 0x08, 0x00 };

/*
 * Frames go to a unicast MAC that is not the device's, so the kernel takes each one through
 * tun_get_user() and netif_rx() and drops it right after eth_type_trans() (PACKET_OTHERHOST):
 * this is the per-write() cost a userspace stack pays at least once per frame it sends.
 */
static int cmd_tapwrite(const char *name, long size, long count, double maxsec)
{
	static unsigned char frame[9018];
	struct iovec iov = { .iov_base = frame, .iov_len = (size_t)size };
	int fd, rc;

	if (size < 60 || size > (long)sizeof(frame))
		return 2;
	fd = tap_open(name, 0);
	if (fd < 0)
		return 1;
	memcpy(frame, BENCH_ETH_HDR, sizeof(BENCH_ETH_HDR));
	rc = tap_write_loop(fd, &iov, 1, size, count, maxsec, "tapwrite");
	close(fd);
	return rc;
}

static void put16(unsigned char *p, unsigned v)
{
	p[0] = (unsigned char)(v >> 8);
	p[1] = (unsigned char)v;
}

/*
 * One TCP/IPv4 frame of `size` bytes marked as GSO (gso_size 1448) with the TCP checksum
 * left to the kernel (VIRTIO_NET_HDR_F_NEEDS_CSUM): what a stack with IFF_VNET_HDR and TSO
 * hands to the TAP. The kernel builds one skb per write() and, since the MAC is not its own,
 * drops it before anything segments it: the device's ceiling, not a TCP transfer.
 */
static int cmd_tapgso(const char *name, long size, long count, double maxsec)
{
	static unsigned char frame[65535 + 14];
	struct virtio_net_hdr vh;
	struct iovec iov[2] = { { .iov_base = &vh, .iov_len = sizeof(vh) },
				{ .iov_base = frame, .iov_len = (size_t)size } };
	unsigned char *ip = frame + 14, *tcp = ip + 20;
	uint32_t sum = 0;
	int fd, rc;

	if (size < 14 + 40 + 1449 || size > (long)sizeof(frame))
		return 2;
	fd = tap_open(name, 1);
	if (fd < 0)
		return 1;
	memcpy(frame, BENCH_ETH_HDR, sizeof(BENCH_ETH_HDR));
	ip[0] = 0x45;
	put16(ip + 2, (unsigned)(size - 14));
	put16(ip + 6, 0x4000);                /* DF */
	ip[8] = 64;
	ip[9] = IPPROTO_TCP;
	memcpy(ip + 12, "\x0a\x00\x09\x01\x0a\x00\x09\x02", 8);
	for (int i = 0; i < 20; i += 2)
		sum += (uint32_t)(ip[i] << 8 | ip[i + 1]);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	put16(ip + 10, ~sum & 0xffff);
	put16(tcp, 40000);
	put16(tcp + 2, 9);
	tcp[12] = 5 << 4;
	tcp[13] = 0x10;                        /* ACK */
	put16(tcp + 14, 65535);
	memset(&vh, 0, sizeof(vh));
	vh.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
	vh.gso_type = VIRTIO_NET_HDR_GSO_TCPV4;
	vh.hdr_len = 14 + 20 + 20;             /* little-endian host: legacy vnet header byte order */
	vh.gso_size = 1448;
	vh.csum_start = 14 + 20;
	vh.csum_offset = 16;
	rc = tap_write_loop(fd, iov, 2, size, count, maxsec, "tapgso");
	close(fd);
	return rc;
}

static void usage(void)
{
	fprintf(stderr, "usage: benchcli rtt|rttspin HOST PORT COUNT MAXSEC\n"
			"       benchcli upload HOST PORT BYTES MAXSEC\n"
			"       benchcli hold HOST PORT N MAXSEC\n"
			"       benchcli tapwrite TAP SIZE COUNT MAXSEC\n"
			"       benchcli tapgso TAP SIZE COUNT MAXSEC\n");
	exit(2);
}

int main(int argc, char **argv)
{
	struct sockaddr_in sa;

	if (argc != 6)
		usage();
	double maxsec = atof(argv[5]);
	if (strcmp(argv[1], "tapwrite") == 0)
		return cmd_tapwrite(argv[2], atol(argv[3]), atol(argv[4]), maxsec);
	if (strcmp(argv[1], "tapgso") == 0)
		return cmd_tapgso(argv[2], atol(argv[3]), atol(argv[4]), maxsec);
	if (parse_addr(argv[2], argv[3], &sa) < 0)
		usage();
	if (strcmp(argv[1], "rtt") == 0 || strcmp(argv[1], "rttspin") == 0)
		return cmd_rtt(&sa, atol(argv[4]), maxsec, strcmp(argv[1], "rttspin") == 0);
	if (strcmp(argv[1], "upload") == 0)
		return cmd_upload(&sa, atoll(argv[4]), maxsec);
	if (strcmp(argv[1], "hold") == 0)
		return cmd_hold(&sa, atol(argv[4]), maxsec);
	usage();
	return 2;
}
