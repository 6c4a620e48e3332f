/*
 * pbuf.c - packet buffer pool. See pbuf.h for the model.
 *
 * Two size classes with a free list each. A pbuf is malloc'ed the first time its class needs
 * one more, up to the class maximum, and from then on recycled through the free list: after
 * warm-up no packet allocates. The bounds make a flood fail with counted drops instead of
 * growing memory without limit. Each class remembers the fewest pbufs its free list held
 * since the last trim: that many were surplus for the whole interval, and pbuf_pool_trim
 * frees them (a bounded number per call), so a burst's memory goes back while a steady load,
 * whose free pbufs all get used, keeps its own.
 */
#include "core/pbuf.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

void pbuf_pool_init(struct pbuf_pool *pool, uint32_t small_max, uint32_t large_max)
{
	memset(pool, 0, sizeof(*pool));
	pool->cls[0].cap = PBUF_SMALL_CAP;
	pool->cls[0].max = small_max;
	pool->cls[1].cap = PBUF_LARGE_CAP;
	pool->cls[1].max = large_max;
}

void pbuf_pool_destroy(struct pbuf_pool *pool)
{
	for (int i = 0; i < 2; i++) {
		struct pbuf *pb = pool->cls[i].free;
		while (pb) {
			struct pbuf *next = pb->next;
			free(pb);
			pb = next;
		}
		pool->cls[i].free = NULL;
		pool->cls[i].allocated = pool->cls[i].in_use;
	}
}

struct pbuf *pbuf_alloc(struct pbuf_pool *pool, uint32_t headroom, uint32_t size)
{
	/* Sizes can come from a length field an attacker wrote: refuse before headroom + size can wrap. */
	uint32_t need = size <= PBUF_LARGE_CAP && headroom <= PBUF_LARGE_CAP - size ? headroom + size : UINT32_MAX;
	int c = need <= PBUF_SMALL_CAP ? 0 : 1;
	struct pbuf_class *cls = &pool->cls[c];
	struct pbuf *pb;

	if (need > cls->cap) {
		pool->alloc_fail++;
		return NULL;
	}
	pb = cls->free;
	if (pb) {
		cls->free = pb->next;
		uint32_t left = cls->allocated - cls->in_use - 1;
		if (left < cls->free_low)
			cls->free_low = left;
	} else {
		cls->free_low = 0;   /* the list ran dry: nothing on it was surplus */
		if (cls->allocated >= cls->max) {
			pool->alloc_fail++;
			return NULL;
		}
		pb = malloc(sizeof(*pb) + cls->cap);
		if (!pb) {
			pool->alloc_fail++;
			return NULL;
		}
		cls->allocated++;
	}
	cls->in_use++;
	memset(pb, 0, sizeof(*pb));
	pb->pool = pool;
	pb->cap = cls->cap;
	pb->cls = (uint8_t)c;
	pb->data = pb->storage + headroom;
	return pb;
}

uint32_t pbuf_pool_trim(struct pbuf_pool *pool, uint32_t max)
{
	uint32_t freed = 0;
	for (int i = 0; i < 2; i++) {
		struct pbuf_class *cls = &pool->cls[i];
		uint32_t n = cls->free_low < max ? cls->free_low : max;
		for (uint32_t k = 0; k < n && cls->free; k++) {
			struct pbuf *pb = cls->free;
			cls->free = pb->next;
			free(pb);
			cls->allocated--;
			freed++;
		}
		cls->free_low = cls->allocated - cls->in_use;
	}
	pool->trimmed += freed;
	return freed;
}

void pbuf_free(struct pbuf *pb)
{
	if (!pb)
		return;
	if (pb->flags & PBUF_F_HELD) {
		pb->flags |= PBUF_F_LET_GO;     /* the holder's pbuf_release gives it back */
		return;
	}
	struct pbuf_class *cls = &pb->pool->cls[pb->cls];
	cls->in_use--;
	pb->next = cls->free;
	cls->free = pb;
}

void pbuf_hold(struct pbuf *pb)
{
	pb->flags |= PBUF_F_HELD;
}

void pbuf_release(struct pbuf *pb)
{
	bool let_go = pb->flags & PBUF_F_LET_GO;
	pb->flags &= (uint8_t)~(PBUF_F_HELD | PBUF_F_LET_GO);
	if (let_go)
		pbuf_free(pb);
}

uint8_t *pbuf_push(struct pbuf *pb, uint32_t n)
{
	if (pbuf_headroom(pb) < n)
		return NULL;
	pb->data -= n;
	pb->len += n;
	return pb->data;
}

uint8_t *pbuf_pull(struct pbuf *pb, uint32_t n)
{
	if (pb->len < n)
		return NULL;
	pb->data += n;
	pb->len -= n;
	return pb->data;
}

uint8_t *pbuf_put(struct pbuf *pb, uint32_t n)
{
	if (pbuf_tailroom(pb) < n)
		return NULL;
	uint8_t *tail = pb->data + pb->len;
	pb->len += n;
	return tail;
}

void pbuf_trim(struct pbuf *pb, uint32_t len)
{
	if (len < pb->len)
		pb->len = len;
}

uint32_t pbuf_frame_len(const struct pbuf *pb)
{
	return pb->len + pb->ext[0].len + pb->ext[1].len;
}

void pbuf_copy_out(const struct pbuf *pb, uint8_t *dst)
{
	memcpy(dst, pb->data, pb->len);
	dst += pb->len;
	for (int i = 0; i < 2; i++) {
		if (pb->ext[i].len) {
			memcpy(dst, pb->ext[i].ptr, pb->ext[i].len);
			dst += pb->ext[i].len;
		}
	}
}

int pbuf_linearize(struct pbuf *pb)
{
	uint32_t extra = pb->ext[0].len + pb->ext[1].len;
	if (!extra)
		return 0;
	if (pbuf_tailroom(pb) < extra)
		return -ENOMEM;
	uint8_t *tail = pb->data + pb->len;
	for (int i = 0; i < 2; i++) {
		if (pb->ext[i].len)
			memcpy(tail, pb->ext[i].ptr, pb->ext[i].len);
		tail += pb->ext[i].len;
		pb->ext[i].ptr = NULL;
		pb->ext[i].len = 0;
	}
	pb->len += extra;
	return 0;
}

struct pbuf *pbuf_clone(struct pbuf_pool *pool, const struct pbuf *pb, uint32_t headroom)
{
	uint32_t len = pbuf_frame_len(pb);
	struct pbuf *copy = pbuf_alloc(pool, headroom, len);
	if (!copy)
		return NULL;
	pbuf_copy_out(pb, pbuf_put(copy, len));
	copy->flags = pb->flags;
	copy->gso_size = pb->gso_size;
	return copy;
}

void pbuf_queue_push(struct pbuf_queue *q, struct pbuf *pb)
{
	pb->next = NULL;
	if (q->tail)
		q->tail->next = pb;
	else
		q->head = pb;
	q->tail = pb;
	q->count++;
	q->bytes += pbuf_frame_len(pb);
}

struct pbuf *pbuf_queue_pop(struct pbuf_queue *q)
{
	struct pbuf *pb = q->head;
	if (!pb)
		return NULL;
	q->head = pb->next;
	if (!q->head)
		q->tail = NULL;
	q->count--;
	q->bytes -= pbuf_frame_len(pb);
	pb->next = NULL;
	return pb;
}

void pbuf_queue_purge(struct pbuf_queue *q)
{
	struct pbuf *pb;
	while ((pb = pbuf_queue_pop(q)))
		pbuf_free(pb);
}
