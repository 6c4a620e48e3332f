/*
 * ring.c - growing a ring of fixed-size records (ring.h). Called by tcp_sack.c and
 * tcp_buf.c; owns nothing.
 */
#include "core/ring.h"

#include <stdlib.h>
#include <string.h>

void *ring_grow(void *old, size_t size, uint32_t *cap, uint32_t *head, uint32_t n, uint64_t need, uint32_t min)
{
	if (need <= *cap)
		return old;
	uint64_t c = *cap ? *cap : (min ? min : 1);
	while (c < need)
		c *= 2;
	if (c > UINT32_MAX || c > SIZE_MAX / size)
		return NULL;
	uint8_t *nb = malloc((size_t)c * size);
	if (!nb)
		return NULL;
	const uint8_t *ob = old;
	for (uint32_t i = 0; i < n; i++)
		memcpy(nb + (size_t)i * size, ob + (size_t)((*head + i) & (*cap - 1u)) * size, size);
	free(old);
	*cap = (uint32_t)c;
	*head = 0;
	return nb;
}
