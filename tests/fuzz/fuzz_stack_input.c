/*
 * fuzz_stack_input.c - libFuzzer target: arbitrary bytes as a short sequence of received
 * Ethernet frames, through ts_stack_input().
 *
 * Input format: frames one after another, each preceded by a 2-byte big-endian length; a
 * length running past the end takes what is left. So the fuzzer can build multi-frame
 * exchanges (ARP, then a SYN, then the ACK, then data...) and reach deep TCP and reassembly
 * states, while each run starts from a fresh stack and therefore reproduces exactly.
 * A listener on port 80 waits, so a SYN opens a connection (the stack's ISN is
 * deterministic for a fresh stack with a fixed seed and clock, so the fuzzer can learn it);
 * a UDP echo on port 7 answers datagrams, and a UDP socket connected to 10.0.0.1:40002 from
 * port 5353 takes the ICMP errors that quote it.
 * Between frames the clock moves 10 ms and timers fire; whatever the stack sends is drained
 * from the other end of the in-memory cable. ASan/UBSan (make fuzz) turn any overrun or UB
 * into a crash, and a pbuf still in use after the stack is destroyed... is freed by the
 * pool, so a leak shows up in LeakSanitizer as well.
 *
 * Seed corpus: tests/fuzz/corpus, the frames of tests/unit/stack_frames.h, length-prefixed.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "drivers/memdev.h"
#include "stack.h"

#define FUZZ_MAX_FRAMES 16

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t out[NETDEV_RX_ROOM];
	struct netdev *mine, *peer;
	struct stack_config cfg;
	struct stack s;

	if (memdev_pair_create(&mine, &peer, NULL) != 0)
		__builtin_trap();
	ts_stack_config_default(&cfg);
	ts_stack_config_fixed(&cfg, 1);     /* reproducible: a finding replays */
	if (ts_stack_init(&s, &cfg, mine, 1000000) != 0)
		__builtin_trap();
	memdev_set_clock(mine, &s.core.now);
	memdev_set_clock(peer, &s.core.now);
	/* A listener on port 80, so SYNs open connections and later frames can reach them. */
	struct socket_layer *sl = ts_stack_sockets(&s);
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(80) };
	int lfd = ts_socket(sl, AF_INET, SOCK_STREAM, 0);
	if (lfd < 0 || ts_bind(sl, lfd, &sa) != 0 || ts_listen(sl, lfd, 8) != 0)
		__builtin_trap();
	/* A UDP echo on port 7 (each datagram read and sent back, so input reaches the queue,
	 * recvfrom and the output path) and a UDP socket connected to 10.0.0.1:40002 from port
	 * 5353, so an ICMP error quoting it reaches udp_icmp_error and the socket. */
	struct sockaddr_in ua = { .sin_family = AF_INET, .sin_port = htons(7) };
	struct sockaddr_in cpeer = { .sin_family = AF_INET, .sin_port = htons(40002),
		                     .sin_addr.s_addr = htonl(0x0a000001) };
	struct sockaddr_in ca = { .sin_family = AF_INET, .sin_port = htons(5353) };
	int ufd = ts_socket(sl, AF_INET, SOCK_DGRAM, 0), cfd = ts_socket(sl, AF_INET, SOCK_DGRAM, 0);
	if (ufd < 0 || ts_bind(sl, ufd, &ua) != 0 || cfd < 0 || ts_bind(sl, cfd, &ca) != 0 ||
	    ts_connect(sl, cfd, &cpeer) != 0)
		__builtin_trap();
	static uint8_t dgram[65536];

	size_t off = 0;
	for (int i = 0; i < FUZZ_MAX_FRAMES && off + 2 <= size; i++) {
		size_t len = (size_t)data[off] << 8 | data[off + 1];
		off += 2;
		if (len > size - off)
			len = size - off;
		if (len > NETDEV_RX_ROOM)
			len = NETDEV_RX_ROOM;     /* the TAP never delivers more than one maximal frame */
		struct pbuf *pb = pbuf_alloc(&s.core.pool, PBUF_HEADROOM, NETDEV_RX_ROOM);
		if (!pb)
			__builtin_trap();
		memcpy(pbuf_put(pb, (uint32_t)len), data + off, len);
		off += len;
		ts_stack_input(&s, pb);
		s.core.now += 10 * USEC_PER_MS;
		ts_stack_poll(&s, s.core.now);
		struct sockaddr_in from;
		long n;
		while ((n = ts_recvfrom(sl, ufd, dgram, sizeof(dgram), 0, &from)) >= 0)
			(void)ts_sendto(sl, ufd, dgram, (size_t)n, 0, &from);
		(void)ts_recv(sl, cfd, dgram, sizeof(dgram), 0);
		while (memdev_take(peer, out, sizeof(out)) != 0)
			;
	}
	ts_stack_destroy(&s);
	netdev_close(peer);
	return 0;
}
