/*
 * fuzz_stack_input.c - libFuzzer target: arbitrary bytes as a short sequence of received
 * Ethernet frames, through ts_stack_input().
 *
 * Input format: frames one after another, each preceded by a 2-byte big-endian length whose
 * top bit asks the peer to fix the frame's IPv4 and TCP/UDP/ICMP checksums first (so a
 * mutated frame is judged on its content, not dropped as corrupt); a length running past the
 * end takes what is left. The fuzzer can build multi-frame exchanges (ARP, a SYN, the ACK,
 * data) on a fresh stack with a listener on port 80, deterministic (fixed seed and clock),
 * so a finding replays. A UDP echo on port 7 answers datagrams (so input reaches the queue,
 * recvfrom and the output path), and a UDP socket connected to 10.0.0.1:40002 from port
 * 5353 takes the ICMP errors that quote it. Between frames the clock moves 10 ms and timers
 * fire; what the stack sends is read by the scripted peer (fuzz_peer.c), which answers its
 * ARP requests.
 *
 * Seed corpus: tests/fuzz/corpus/stack_input (the frames of tests/unit/stack_frames.h).
 */
#include <string.h>

#include "tests/fuzz/fuzz_peer.h"

#define FUZZ_MAX_FRAMES 16

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct fz_peer p;
	static uint8_t dgram[65536];
	size_t off = 0;

	fz_peer_init(&p);
	struct socket_layer *sl = ts_stack_sockets(&p.st);
	struct sockaddr_in ua = { .sin_family = AF_INET, .sin_port = htons(7) };
	struct sockaddr_in cpeer = { .sin_family = AF_INET, .sin_port = htons(40002),
				     .sin_addr.s_addr = htonl(FZ_PEER_IP) };
	struct sockaddr_in ca = { .sin_family = AF_INET, .sin_port = htons(5353) };
	int ufd = ts_socket(sl, AF_INET, SOCK_DGRAM, 0), cfd = ts_socket(sl, AF_INET, SOCK_DGRAM, 0);
	if (ufd < 0 || ts_bind(sl, ufd, &ua) != 0 || cfd < 0 || ts_bind(sl, cfd, &ca) != 0 ||
	    ts_connect(sl, cfd, &cpeer) != 0)
		__builtin_trap();
	for (int i = 0; i < FUZZ_MAX_FRAMES && off + 2 <= size; i++) {
		bool fix = (data[off] & 0x80) != 0;
		size_t len = (size_t)(data[off] & 0x7f) << 8 | data[off + 1];
		off += 2;
		if (len > size - off)
			len = size - off;
		if (len > NETDEV_RX_ROOM)
			len = NETDEV_RX_ROOM;   /* the TAP never delivers more than one maximal frame */
		fz_peer_send_raw(&p, data + off, len, fix);
		off += len;
		struct sockaddr_in from;
		long n;
		while ((n = ts_recvfrom(sl, ufd, dgram, sizeof(dgram), 0, &from)) >= 0)
			(void)ts_sendto(sl, ufd, dgram, (size_t)n, 0, &from);
		(void)ts_recv(sl, cfd, dgram, sizeof(dgram), 0);
		fz_peer_run(&p, 10 * USEC_PER_MS);
	}
	fz_peer_destroy(&p);
	return 0;
}
