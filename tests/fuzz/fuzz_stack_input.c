/*
 * fuzz_stack_input.c - libFuzzer target: arbitrary bytes as a short sequence of received
 * Ethernet frames, through ts_stack_input().
 *
 * Input format: frames one after another, each preceded by a 2-byte big-endian length whose
 * top bit asks the peer to fix the frame's IPv4 and TCP/UDP/ICMP checksums first (so a
 * mutated frame is judged on its content, not dropped as corrupt); a length running past the
 * end takes what is left. The fuzzer can build multi-frame exchanges (ARP, a SYN, the ACK,
 * data) on a fresh stack with a listener on port 80, deterministic (fixed seed and clock),
 * so a finding replays. Between frames the clock moves 10 ms and timers fire; what the stack
 * sends is read by the scripted peer (fuzz_peer.c), which answers its ARP requests.
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
	size_t off = 0;

	fz_peer_init(&p);
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
		fz_peer_run(&p, 10 * USEC_PER_MS);
	}
	fz_peer_destroy(&p);
	return 0;
}
