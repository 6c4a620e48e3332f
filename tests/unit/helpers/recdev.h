/*
 * recdev.h - a recording netdev for unit tests: every frame the stack sends is copied into
 * a bounded array the test inspects (recdev_frame), and frames the test injects are handed
 * out by recv() in order. No file descriptor, no root, no time.
 *
 * Usage:
 *   struct recdev rd; recdev_init(&rd);
 *   link_init(&link, &core, &rd.dev, &cfg);      // the stack sends into rd
 *   ... assert_int_equal(rd.n_sent, 1); recdev_frame(&rd, 0)->len ...
 *   recdev_clear(&rd);
 * rd.dev.ops->close() does nothing: a recdev lives in the test's own storage.
 */
#ifndef TAPSTACK_TESTS_RECDEV_H
#define TAPSTACK_TESTS_RECDEV_H

#include <stddef.h>
#include <stdint.h>

#include "drivers/netdev.h"

#define RECDEV_MAX_FRAMES 64
#define RECDEV_FRAME_MAX 2048

struct recdev_frame {
	uint32_t len;
	uint8_t bytes[RECDEV_FRAME_MAX];
};

struct recdev {
	struct netdev dev;                             /* first member: &rd.dev is the netdev */
	struct recdev_frame sent[RECDEV_MAX_FRAMES];   /* frames sent, oldest first */
	uint32_t n_sent;                               /* kept (at most RECDEV_MAX_FRAMES) */
	uint32_t n_send_calls;                         /* every send, even past the bound */
	int send_result;                               /* what send() returns (0, or -errno to fail) */
	struct recdev_frame rx[RECDEV_MAX_FRAMES];     /* injected frames for recv() */
	uint32_t rx_head, rx_tail;
};

void recdev_init(struct recdev *rd);
/* Forgets the recorded frames. */
void recdev_clear(struct recdev *rd);
/* The i-th frame sent since the last clear, or NULL. */
const struct recdev_frame *recdev_frame(const struct recdev *rd, uint32_t i);
/* Queues a frame for recv(); -1 when full or too long. */
int recdev_inject(struct recdev *rd, const uint8_t *bytes, uint32_t len);

#endif
