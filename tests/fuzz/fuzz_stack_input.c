/*
 * fuzz_stack_input.c - libFuzzer target: arbitrary bytes as one received Ethernet frame.
 *
 * One stack (10.0.0.2, MAC 02:00:00:00:00:02, like the unit fixtures) lives for the whole
 * run, so state built by earlier inputs (ARP entries, reassembly slots, TCP connections)
 * meets later ones. Each input is handed to stack_input() in a pbuf of exactly its length,
 * the clock moves 100 ms, timers run, and whatever the stack sent is drained from the other
 * end of the in-memory cable. ASan/UBSan (make fuzz) turn any overrun or UB into a crash.
 * Seed corpus: tests/fuzz/corpus (the frames of tests/unit/stack_frames.h).
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "drivers/memdev.h"
#include "stack.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The harness's own state (stack/ itself has none): one stack for the run. */
static struct stack fuzz_stack;
static struct netdev *fuzz_peer;
static int fuzz_ready;

static void fuzz_init(void)
{
	struct netdev *mine;
	struct stack_config cfg;
	if (memdev_pair_create(&mine, &fuzz_peer, NULL) != 0)
		__builtin_trap();
	stack_config_default(&cfg);
	if (stack_init(&fuzz_stack, &cfg, mine, 1000000) != 0)
		__builtin_trap();
	memdev_set_clock(mine, &fuzz_stack.core.now);
	memdev_set_clock(fuzz_peer, &fuzz_stack.core.now);
	fuzz_ready = 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t out[NETDEV_RX_ROOM];
	if (!fuzz_ready)
		fuzz_init();
	if (size > NETDEV_RX_ROOM)
		return 0;      /* the TAP never delivers more than one maximal frame */
	struct pbuf *pb = pbuf_alloc(&fuzz_stack.core.pool, PBUF_HEADROOM, NETDEV_RX_ROOM);
	if (!pb)
		__builtin_trap();   /* a leak of pbufs would end here */
	memcpy(pbuf_put(pb, (uint32_t)size), data, size);
	stack_input(&fuzz_stack, pb);
	fuzz_stack.core.now += 100 * USEC_PER_MS;
	stack_poll(&fuzz_stack, fuzz_stack.core.now);
	while (memdev_take(fuzz_peer, out, sizeof(out)) != 0)
		;
	return 0;
}
