/*
 * test_impair.c - the lossy-path relay's model (tests/relay/impair.c) on a fake clock:
 * the loss rate over many frames, determinism of a seed, delivery at the delay and in
 * arrival order, reordering that overtakes, the bottleneck's rate and its queue bound,
 * corruption of exactly one bit past the Ethernet header, and bounded slots.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "tests/relay/impair.h"

#define MS 1000000ull
#define FRAME 1514u

/* A frame whose first 4 payload bytes (after Ethernet) carry its number. */
static void frame_make(uint8_t *f, size_t len, uint32_t n)
{
	for (size_t i = 0; i < len; i++)
		f[i] = (uint8_t)(n * 31 + i);
	memcpy(f + 14, &n, sizeof(n));
}

static uint32_t frame_number(const uint8_t *f)
{
	uint32_t n;

	memcpy(&n, f + 14, sizeof(n));
	return n;
}

/* 100,000 frames at 3 % loss: between 2.8 % and 3.2 % are lost, the rest come out; the
 * same seed repeats the same count, another seed gives another. */
static void test_impair_loss_rate(void **state)
{
	(void)state;
	struct impair_config cfg = { .loss_ppm = 30000 };
	uint64_t lost[3];
	uint64_t seeds[3] = { 7, 7, 8 };
	uint8_t f[64];
	const uint32_t n = 100000;

	frame_make(f, sizeof(f), 0);
	for (int k = 0; k < 3; k++) {
		struct impair im;
		uint32_t queued = 0, out = 0;
		size_t len;

		assert_int_equal(impair_init(&im, &cfg, seeds[k], 16), 0);
		for (uint32_t i = 0; i < n; i++) {
			if (impair_input(&im, f, sizeof(f), i) == IMPAIR_QUEUED)
				queued++;
			while (impair_peek(&im, i, &len)) {
				impair_pop(&im);
				out++;
			}
		}
		lost[k] = im.c.lost;
		assert_int_equal(im.c.in_frames, n);
		assert_int_equal(queued + im.c.lost, n);
		assert_int_equal(out, queued);
		assert_int_equal(im.c.out_frames, queued);
		assert_true(im.c.lost > n * 28 / 1000 && im.c.lost < n * 32 / 1000);
		impair_free(&im);
	}
	assert_int_equal(lost[0], lost[1]);
	assert_int_not_equal(lost[0], lost[2]);
}

/* No loss, no rate: each frame comes out exactly delay later, not a nanosecond before, in
 * the order it arrived (equal due times too). */
static void test_impair_delay_in_order(void **state)
{
	(void)state;
	struct impair_config cfg = { .delay_ns = 10 * MS };
	struct impair im;
	uint8_t f[100];
	const uint8_t *o;
	size_t len;

	assert_int_equal(impair_init(&im, &cfg, 1, 64), 0);
	for (uint32_t i = 0; i < 50; i++) {
		frame_make(f, sizeof(f), i);
		/* two frames per microsecond: pairs share a due time */
		assert_int_equal(impair_input(&im, f, sizeof(f), 1000ull * (i / 2)), IMPAIR_QUEUED);
	}
	assert_int_equal(impair_next_due(&im), 10 * MS);
	assert_null(impair_peek(&im, 10 * MS - 1, &len));
	for (uint32_t i = 0; i < 50; i++) {
		uint64_t due = 10 * MS + 1000ull * (i / 2);

		assert_int_equal(impair_next_due(&im), due);
		assert_null(impair_peek(&im, due - 1, &len));
		o = impair_peek(&im, due, &len);
		assert_non_null(o);
		assert_int_equal(len, sizeof(f));
		frame_make(f, sizeof(f), i);
		assert_memory_equal(o, f, sizeof(f));
		impair_pop(&im);
	}
	assert_int_equal(impair_next_due(&im), IMPAIR_NEVER);
	assert_null(impair_peek(&im, IMPAIR_NEVER - 1, &len));
	impair_free(&im);
}

/* 25 % reordering with netem's reorder delay 0: a quarter of the frames (within 2 points)
 * overtake frames sent before them; every frame still comes out exactly once. */
static void test_impair_reorder(void **state)
{
	(void)state;
	struct impair_config cfg = { .delay_ns = 10 * MS, .reorder_ppm = 250000, .reorder_delay_ns = 0 };
	struct impair im;
	uint8_t f[64], seen[4000] = { 0 };
	const uint32_t n = 4000;
	uint32_t last = 0, overtaking = 0, out = 0;
	uint64_t now;
	size_t len;
	const uint8_t *o;

	assert_int_equal(impair_init(&im, &cfg, 42, n), 0);
	/* one frame every 100 us: 100 frames in flight over the 10 ms delay */
	for (now = 0; out < n; now += 100000) {
		uint32_t i = (uint32_t)(now / 100000);

		if (i < n) {
			frame_make(f, sizeof(f), i);
			assert_int_equal(impair_input(&im, f, sizeof(f), now), IMPAIR_QUEUED);
		}
		while ((o = impair_peek(&im, now, &len))) {
			uint32_t k = frame_number(o);

			assert_true(k < n);
			assert_int_equal(seen[k], 0);
			seen[k] = 1;
			if (out && k < last)
				overtaking++;       /* a delayed frame arriving after a reordered one */
			if (k > last)
				last = k;
			impair_pop(&im);
			out++;
		}
		assert_true(now < 20 * MS + n * 100000ull);
	}
	assert_true(im.c.reordered > n * 23 / 100 && im.c.reordered < n * 27 / 100);
	/* frames that arrive behind a reordered one: at least as many as were reordered */
	assert_true(overtaking >= im.c.reordered / 2);
	impair_free(&im);
}

/* 100 Mbit/s with a one-BDP queue (20 ms: 250,000 bytes): a burst of 400 full frames at one
 * instant keeps what fits, tail-drops the rest, never holds more than the bound, and lets
 * frames out one serialisation time (1514 * 8 / 100e6 s = 121.12 us) apart. */
static void test_impair_bottleneck_queue(void **state)
{
	(void)state;
	struct impair_config cfg = { .delay_ns = 10 * MS, .rate_bps = 100000000 };
	struct impair im;
	uint8_t f[FRAME];
	uint32_t accepted = 0, dropped = 0;
	uint64_t prev = 0;
	size_t len;
	const uint32_t tx_ns = 121120;

	cfg.queue_bytes = impair_bdp_bytes(cfg.rate_bps, 20 * MS);
	assert_int_equal(cfg.queue_bytes, 250000);
	assert_int_equal(impair_init(&im, &cfg, 3, 1024), 0);
	frame_make(f, sizeof(f), 0);
	for (uint32_t i = 0; i < 400; i++) {
		enum impair_verdict v = impair_input(&im, f, sizeof(f), 0);

		if (v == IMPAIR_QUEUED)
			accepted++;
		else
			dropped++;
		assert_true(impair_backlog_bytes(&im, 0) <= cfg.queue_bytes);
	}
	assert_int_equal(accepted, 250000 / FRAME);
	assert_int_equal(dropped, 400 - accepted);
	assert_int_equal(im.c.queue_drops, dropped);
	assert_true(im.c.queue_peak_bytes <= cfg.queue_bytes);
	assert_true(im.c.queue_peak_bytes > cfg.queue_bytes - FRAME);
	/* one frame's room opens after one serialisation time */
	assert_int_equal(impair_input(&im, f, sizeof(f), tx_ns), IMPAIR_QUEUED);
	accepted++;
	for (uint32_t i = 0; i < accepted; i++) {
		uint64_t due = impair_next_due(&im);

		assert_int_equal(due, 10 * MS + (uint64_t)(i + 1) * tx_ns);
		if (i)
			assert_int_equal(due - prev, tx_ns);
		assert_non_null(impair_peek(&im, due, &len));
		impair_pop(&im);
		prev = due;
	}
	/* an idle link starts fresh: no backlog, the next frame leaves after one tx time */
	assert_int_equal(impair_backlog_bytes(&im, 1000 * MS), 0);
	assert_int_equal(impair_input(&im, f, sizeof(f), 1000 * MS), IMPAIR_QUEUED);
	assert_int_equal(impair_next_due(&im), 1010 * MS + tx_ns);
	impair_free(&im);
}

/* Every corrupted frame differs from what was sent in exactly one bit, never in the
 * Ethernet header; the sender's buffer is untouched; about the configured share; frames
 * that are not IPv4 (ARP here) are never corrupted. */
static void test_impair_corrupt_one_bit(void **state)
{
	(void)state;
	struct impair_config cfg = { .corrupt_ppm = 100000 };
	struct impair im;
	uint8_t f[200], keep[200];
	uint32_t flipped = 0;
	const uint32_t n = 10000;
	size_t len;
	const uint8_t *o;

	assert_int_equal(impair_init(&im, &cfg, 5, 4), 0);
	for (uint32_t i = 0; i < n; i++) {
		uint32_t bits = 0;

		frame_make(f, sizeof(f), i);
		f[12] = 0x08;
		f[13] = 0x00;
		memcpy(keep, f, sizeof(f));
		assert_int_equal(impair_input(&im, f, sizeof(f), i), IMPAIR_QUEUED);
		assert_memory_equal(f, keep, sizeof(f));
		o = impair_peek(&im, i, &len);
		assert_non_null(o);
		assert_memory_equal(o, f, 14);
		for (size_t b = 14; b < sizeof(f); b++)
			bits += (uint32_t)__builtin_popcount(o[b] ^ f[b]);
		assert_true(bits <= 1);
		flipped += bits;
		impair_pop(&im);
	}
	assert_int_equal(flipped, im.c.corrupted);
	assert_true(flipped > n * 9 / 100 && flipped < n * 11 / 100);
	for (uint32_t i = 0; i < 1000; i++) {
		frame_make(f, sizeof(f), i);
		f[12] = 0x08;
		f[13] = 0x06;
		assert_int_equal(impair_input(&im, f, sizeof(f), n + i), IMPAIR_QUEUED);
		o = impair_peek(&im, n + i, &len);
		assert_memory_equal(o, f, sizeof(f));
		impair_pop(&im);
	}
	assert_int_equal(im.c.corrupted, flipped);
	impair_free(&im);
}

/* Frames in flight are bounded by the slots; empty and oversized frames are refused. */
static void test_impair_bounded(void **state)
{
	(void)state;
	struct impair_config cfg = { .delay_ns = MS };
	struct impair im;
	uint8_t f[IMPAIR_FRAME_MAX + 1];
	size_t len;

	memset(f, 0xab, sizeof(f));
	assert_int_equal(impair_init(&im, &cfg, 9, 4), 0);
	assert_int_equal(impair_input(&im, f, 0, 0), IMPAIR_OVERSIZE);
	assert_int_equal(impair_input(&im, f, IMPAIR_FRAME_MAX + 1, 0), IMPAIR_OVERSIZE);
	for (int i = 0; i < 4; i++)
		assert_int_equal(impair_input(&im, f, IMPAIR_FRAME_MAX, 0), IMPAIR_QUEUED);
	assert_int_equal(impair_input(&im, f, 60, 0), IMPAIR_NO_SLOT);
	assert_int_equal(im.c.slot_drops, 1);
	assert_int_equal(im.c.oversize, 2);
	assert_non_null(impair_peek(&im, MS, &len));
	assert_int_equal(len, IMPAIR_FRAME_MAX);
	impair_pop(&im);
	assert_int_equal(impair_input(&im, f, 60, MS), IMPAIR_QUEUED);
	assert_int_equal(im.nheap, 4);
	impair_free(&im);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_impair_loss_rate),
		cmocka_unit_test(test_impair_delay_in_order),
		cmocka_unit_test(test_impair_reorder),
		cmocka_unit_test(test_impair_bottleneck_queue),
		cmocka_unit_test(test_impair_corrupt_one_bit),
		cmocka_unit_test(test_impair_bounded),
	};
	return cmocka_run_group_tests_name("impair", tests, NULL, NULL);
}
