/*
 * spares.h - a short shelf of equal-sized blocks given back, kept for the next taker.
 *
 * A request-response connection takes a send ring, a scoreboard and the like for each
 * response and gives them back when the peer has acknowledged it, so that an idle
 * connection holds none (docs/tcp.md, "Buffer memory"). Without a shelf every response
 * would cost a malloc and a free of each block; with one, after warm-up, it costs neither,
 * as Linux's slab caches keep freed objects for the next allocation of their kind. The
 * shelf is bounded (`max` blocks, at most SPARES_MAX): a block given back to a full shelf is
 * freed, so what the shelf keeps never grows with the number of connections.
 *
 * Blocks are plain malloc() blocks: one taken from the shelf may be freed with free() (a
 * ring that grows past it does), and any malloc'd block may be given back. Each call names
 * the block's size and the shelf keeps only blocks of its own, so a block of another size
 * (or a shelf never set up: size 0; or no shelf, sp NULL) is simply malloc'd and freed.
 * Neither call touches the block's contents.
 *
 *   struct spares sp;
 *   spares_init(&sp, 4096, 32);
 *   void *b = spares_take(&sp, 4096);  // a kept block, else malloc(4096); NULL if none
 *   spares_give(&sp, b, 4096);         // kept, or freed when the shelf is full
 *   spares_drain(&sp);                 // frees what the shelf holds (the owner's end)
 *
 * A shelf has one owner and no lock: a stack instance's TCP layer (tcp_buf.c, tcp_sack.c,
 * tcp_rtt.c) or the HTTP server (apps/http.c, its request buffers).
 */
#ifndef TAPSTACK_CORE_SPARES_H
#define TAPSTACK_CORE_SPARES_H

#include <stddef.h>
#include <stdint.h>

#define SPARES_MAX 32u

struct spares {
	uint32_t size;             /* bytes per block */
	uint16_t max;              /* blocks kept at most (<= SPARES_MAX) */
	uint16_t n;                /* blocks kept now: blk[0 .. n) */
	void *blk[SPARES_MAX];
};

void spares_init(struct spares *sp, uint32_t size, uint16_t max);
/* A block of `size` bytes, contents undefined: the last one given back when size is the
 * shelf's, else malloc(size). NULL when malloc fails. */
void *spares_take(struct spares *sp, size_t size);
/* Gives p (NULL: nothing), a block of `size` bytes, back: kept when size is the shelf's and
 * it has room, else freed. */
void spares_give(struct spares *sp, void *p, size_t size);
/* Frees every kept block. */
void spares_drain(struct spares *sp);

#endif
