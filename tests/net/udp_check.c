/*
 * udp_check.c - a UDP echo client for the integration tests (build/udp-check), run on the
 * kernel's sockets inside the test's namespace.
 *
 *   udp-check ADDR PORT COUNT SIZE [MIN_RECEIVED]
 *
 * Sends COUNT datagrams of SIZE bytes (SIZE >= 8) to ADDR:PORT from one connected socket.
 * Each starts with its sequence number and is filled with a pattern drawn from it, so an
 * echo is checked byte by byte against the datagram it answers. At most WINDOW datagrams
 * are outstanding; when no echo comes for a while the client sends on (UDP may lose).
 * After the last send it waits up to 3 s for stragglers. Prints one line
 *
 *   sent N received M lost L corrupted C duplicated D refused R
 *
 * and exits 0 when nothing was corrupted and at least MIN_RECEIVED (default COUNT) echoes
 * came back; 1 otherwise; 2 on bad usage. ECONNREFUSED (an ICMP port unreachable reported
 * to the connected socket) is counted as refused.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define WINDOW 64
#define WAIT_MS 200
#define TAIL_MS 3000

static uint8_t pattern_byte(uint32_t seq, uint32_t i)
{
	return (uint8_t)(seq * 131u + i * 7u + (i >> 8));
}

static void fill(uint8_t *buf, uint32_t seq, uint32_t size)
{
	memcpy(buf, &seq, 4);
	memcpy(buf + 4, &size, 4);
	for (uint32_t i = 8; i < size; i++)
		buf[i] = pattern_byte(seq, i);
}

static long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

int main(int argc, char **argv)
{
	if (argc < 5 || argc > 6) {
		fprintf(stderr, "usage: udp-check ADDR PORT COUNT SIZE [MIN_RECEIVED]\n");
		return 2;
	}
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[2])) };
	uint32_t count = (uint32_t)strtoul(argv[3], NULL, 10), size = (uint32_t)strtoul(argv[4], NULL, 10);
	uint32_t min_rx = argc == 6 ? (uint32_t)strtoul(argv[5], NULL, 10) : count;
	if (inet_pton(AF_INET, argv[1], &to.sin_addr) != 1 || size < 8 || size > 65507 || count == 0) {
		fprintf(stderr, "udp-check: bad arguments\n");
		return 2;
	}
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	int rcvbuf = 8 << 20;
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	if (fd < 0 || connect(fd, (struct sockaddr *)&to, sizeof(to)) < 0) {
		perror("udp-check: socket/connect");
		return 2;
	}
	uint8_t *seen = calloc(count, 1), *out = malloc(size), *in = malloc(65536), *want = malloc(size);
	uint32_t sent = 0, received = 0, corrupted = 0, duplicated = 0, refused = 0;
	long tail_until = 0;

	for (;;) {
		if (sent < count && sent - received < WINDOW) {
			fill(out, sent, size);
			ssize_t n = send(fd, out, size, 0);
			if (n == (ssize_t)size)
				sent++;
			else if (n < 0 && errno == ECONNREFUSED)
				refused++;
			else if (n < 0 && errno != ENOBUFS && errno != EAGAIN) {
				perror("udp-check: send");
				return 1;
			}
			continue;
		}
		if (sent == count && !tail_until)
			tail_until = now_ms() + TAIL_MS;
		if (tail_until && (received == count || now_ms() >= tail_until))
			break;
		struct pollfd p = { fd, POLLIN, 0 };
		int r = poll(&p, 1, WAIT_MS);
		if (r == 0) {
			/* Nothing came back for a while: the window's echoes are lost; send on. */
			if (sent < count && sent - received >= WINDOW) {
				fill(out, sent, size);
				if (send(fd, out, size, 0) == (ssize_t)size)
					sent++;
			}
			continue;
		}
		ssize_t n = recv(fd, in, 65536, 0);
		if (n < 0) {
			if (errno == ECONNREFUSED) {
				refused++;
				if (refused > 10)
					break;
				continue;
			}
			perror("udp-check: recv");
			return 1;
		}
		uint32_t seq;
		if (n < 8 || (memcpy(&seq, in, 4), seq >= count)) {
			corrupted++;
			continue;
		}
		fill(want, seq, size);
		if ((uint32_t)n != size || memcmp(in, want, size) != 0) {
			corrupted++;
			continue;
		}
		if (seen[seq]) {
			duplicated++;
			continue;
		}
		seen[seq] = 1;
		received++;
	}
	printf("sent %u received %u lost %u corrupted %u duplicated %u refused %u\n", sent, received, sent - received,
	       corrupted, duplicated, refused);
	free(seen);
	free(out);
	free(in);
	free(want);
	close(fd);
	return corrupted == 0 && received >= min_rx ? 0 : 1;
}
