/*
 * arena.c - a MAP_SHARED region and its allocator (see arena.h). Used by preload/state.c,
 * whose malloc/calloc/realloc/free (the linker's --wrap, mk/preload.mk) put every allocation
 * of the stack and its drivers here once the stack starts. Tested by the test_arena_* cases of
 * tests/unit/test_preload_share.c.
 */
#include "preload/arena.h"

#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define ARENA_MIN_SHIFT 5   /* 32-byte blocks: a 16-byte header and 16 bytes for the caller */
#define ARENA_CLASSES 40    /* up to 2^44 bytes: any size the region could hold */
#define ARENA_HDR 16u
#define ARENA_MAGIC 0x7461726eu

struct arena_block {
	uint32_t magic;
	uint32_t cls;                 /* the block is 1 << cls bytes, header included */
	struct arena_block *next;     /* on the free list of its class */
};

struct arena {
	pthread_mutex_t lock;
	char *base;                   /* the region (this header is its first bytes) */
	size_t size;
	size_t top;                   /* offset of the first byte never handed out */
	uint64_t in_use;
	struct arena_block *free[ARENA_CLASSES];
};

/* The class that holds n bytes after the header, or -1 for none. */
static int arena_class(size_t n)
{
	if (n > ((size_t)1 << (ARENA_MIN_SHIFT + ARENA_CLASSES - 1)) - ARENA_HDR)
		return -1;
	size_t need = n + ARENA_HDR;
	int c = 0;
	while (((size_t)1 << (ARENA_MIN_SHIFT + c)) < need)
		c++;
	return c;
}

/* A process that died holding the lock was between two pointer writes at worst: go on. */
static void arena_lock(struct arena *a)
{
	if (pthread_mutex_lock(&a->lock) == EOWNERDEAD)
		pthread_mutex_consistent(&a->lock);
}

struct arena *arena_create(size_t size)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	size = (size + page - 1) / page * page;
	if (size < page * 2) {
		errno = EINVAL;
		return NULL;
	}
	void *m = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (m == MAP_FAILED)
		return NULL;
	struct arena *a = m;
	pthread_mutexattr_t ma;
	pthread_mutexattr_init(&ma);
	pthread_mutexattr_setpshared(&ma, PTHREAD_PROCESS_SHARED);
	pthread_mutexattr_setrobust(&ma, PTHREAD_MUTEX_ROBUST);
	pthread_mutex_init(&a->lock, &ma);
	pthread_mutexattr_destroy(&ma);
	a->base = m;
	a->size = size;
	a->top = (sizeof(*a) + 63) & ~(size_t)63;
	return a;
}

void arena_destroy(struct arena *a)
{
	if (a)
		munmap(a->base, a->size);
}

bool arena_owns(const struct arena *a, const void *p)
{
	return a && (const char *)p >= a->base && (const char *)p < a->base + a->size;
}

void *arena_alloc(struct arena *a, size_t n)
{
	int c = arena_class(n);
	if (c < 0) {
		errno = ENOMEM;
		return NULL;
	}
	size_t bytes = (size_t)1 << (ARENA_MIN_SHIFT + c);
	struct arena_block *blk;
	arena_lock(a);
	blk = a->free[c];
	if (blk) {
		a->free[c] = blk->next;
	} else if (a->size - a->top >= bytes) {
		blk = (struct arena_block *)(a->base + a->top);
		a->top += bytes;
	}
	if (blk) {
		blk->magic = ARENA_MAGIC;
		blk->cls = (uint32_t)c;
		blk->next = NULL;
		a->in_use += bytes;
	}
	pthread_mutex_unlock(&a->lock);
	if (!blk) {
		errno = ENOMEM;
		return NULL;
	}
	return (char *)blk + ARENA_HDR;
}

void *arena_calloc(struct arena *a, size_t nmemb, size_t size)
{
	if (size && nmemb > SIZE_MAX / size) {
		errno = ENOMEM;
		return NULL;
	}
	void *p = arena_alloc(a, nmemb * size);
	if (p)
		memset(p, 0, nmemb * size);
	return p;
}

static struct arena_block *arena_block_of(void *p)
{
	return (struct arena_block *)((char *)p - ARENA_HDR);
}

void arena_free(struct arena *a, void *p)
{
	if (!p)
		return;
	struct arena_block *blk = arena_block_of(p);
	arena_lock(a);
	if (blk->magic == ARENA_MAGIC) {
		blk->magic = 0; /* a second free of the same block is ignored, not a corrupt list */
		blk->next = a->free[blk->cls];
		a->free[blk->cls] = blk;
		a->in_use -= (size_t)1 << (ARENA_MIN_SHIFT + blk->cls);
	}
	pthread_mutex_unlock(&a->lock);
}

void *arena_realloc(struct arena *a, void *p, size_t n)
{
	if (!p)
		return arena_alloc(a, n);
	size_t have = ((size_t)1 << (ARENA_MIN_SHIFT + arena_block_of(p)->cls)) - ARENA_HDR;
	if (n <= have)
		return p; /* it fits in the block it has */
	void *q = arena_alloc(a, n);
	if (!q)
		return NULL;
	memcpy(q, p, have);
	arena_free(a, p);
	return q;
}

uint64_t arena_in_use(struct arena *a)
{
	arena_lock(a);
	uint64_t n = a->in_use;
	pthread_mutex_unlock(&a->lock);
	return n;
}
