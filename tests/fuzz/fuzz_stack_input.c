/*
 * fuzz_stack_input.c - libFuzzer target: arbitrary bytes as a short sequence of received
 * Ethernet frames, through ts_stack_input().
 *
 * Input format: frames one after another, each preceded by a 2-byte big-endian length; a
 * length running past the end takes what is left. So the fuzzer can build multi-frame
 * exchanges (ARP, then a SYN, then the ACK, then data...) and reach deep TCP and reassembly
 * states, while each run starts from a fresh stack and therefore reproduces exactly.
 * A listener on port 80 waits, so a SYN opens a connection (the stack's ISN is
 * deterministic for a fresh stack with a fixed seed and clock, so the fuzzer can learn it).
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
		while (memdev_take(peer, out, sizeof(out)) != 0)
			;
	}
	ts_stack_destroy(&s);
	netdev_close(peer);
	return 0;
}
