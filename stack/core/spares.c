/*
 * spares.c - the shelf of equal-sized blocks (spares.h). Last in, first out: the block
 * given back most recently is the one most likely still in the cache.
 */
#include "core/spares.h"

#include <stdlib.h>

void spares_init(struct spares *sp, uint32_t size, uint16_t max)
{
	sp->size = size;
	sp->max = max < SPARES_MAX ? max : (uint16_t)SPARES_MAX;
	sp->n = 0;
}

void *spares_take(struct spares *sp, size_t size)
{
	if (sp && sp->n && size == sp->size)
		return sp->blk[--sp->n];
	return malloc(size);
}

void spares_give(struct spares *sp, void *p, size_t size)
{
	if (!p)
		return;
	if (sp && size == sp->size && sp->n < sp->max)
		sp->blk[sp->n++] = p;
	else
		free(p);
}

void spares_drain(struct spares *sp)
{
	while (sp->n)
		free(sp->blk[--sp->n]);
}
