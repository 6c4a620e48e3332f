/*
 * arena.h - one region of MAP_SHARED memory with a small allocator in it, so that the
 * processes a program forks after the region was made see the same allocations at the same
 * addresses (the preload library's shared stack, docs/preload.md "Processes").
 *
 * The allocator: size classes of powers of two (32 B up), a 16-byte header in front of each
 * block naming its class, one free list per class, and a bump pointer for blocks never used
 * before. O(1) both ways; a block is at most twice what was asked. Freed blocks go back to
 * their class, never to the kernel. One process-shared robust mutex guards it (a process
 * that dies inside it leaves it usable). The region is reserved with MAP_NORESERVE: pages
 * cost memory only once touched.
 */
#ifndef TAPSTACK_PRELOAD_ARENA_H
#define TAPSTACK_PRELOAD_ARENA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct arena;

/* A new arena of `size` bytes (rounded up to pages), or NULL with errno set. */
struct arena *arena_create(size_t size);
/* Unmaps it (every process that has it must stop using it first). */
void arena_destroy(struct arena *a);
/* 16-byte aligned, or NULL when the arena is full (ENOMEM). */
void *arena_alloc(struct arena *a, size_t n);
void *arena_calloc(struct arena *a, size_t nmemb, size_t size);
void *arena_realloc(struct arena *a, void *p, size_t n);
/* p: NULL or a block of this arena. */
void arena_free(struct arena *a, void *p);
/* Whether p points into the arena (a block of it, or the arena's own header). */
bool arena_owns(const struct arena *a, const void *p);
/* Bytes in blocks handed out and not freed (their classes' sizes, headers included). */
uint64_t arena_in_use(struct arena *a);

#endif
