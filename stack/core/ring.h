/*
 * ring.h - growing a ring of fixed-size records: the queues that keep one small record per
 * segment or per skb sent (tcp_sack.c's scoreboard, tcp_buf.c's skb ends). A ring's
 * capacity is a power of two and its records sit in order from `head`; growing doubles it
 * and unwraps the records to the start, so a queue reallocates a few times in its life,
 * never once per packet.
 */
#ifndef TAPSTACK_CORE_RING_H
#define TAPSTACK_CORE_RING_H

#include <stddef.h>
#include <stdint.h>

/*
 * Storage for at least `need` records of `size` bytes: `old` itself when its *cap is
 * enough, else a new block (doubling from *cap, or from `min` when empty) holding the `n`
 * records that started at *head, which then becomes 0; `old` is freed. NULL when memory
 * runs out (old, *cap and *head unchanged).
 */
void *ring_grow(void *old, size_t size, uint32_t *cap, uint32_t *head, uint32_t n, uint64_t need, uint32_t min);

#endif
