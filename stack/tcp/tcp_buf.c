/*
 * tcp_buf.c - the byte rings that hold a connection's send and receive data.
 *
 * Send: the application's bytes are copied once into the ring; segments reference them in
 * place through pbuf->ext (zero copy to the driver), and the ring keeps them until they
 * are acknowledged (RFC 9293 3.8: the sender keeps data until ACKed). Receive: in-order
 * payload is copied once from the received pbuf into the ring and once out in recv().
 *
 * Storage is allocated on the first byte, starts at 4 KiB and doubles as needed up to the
 * socket's buffer size; a ring that drains while still 4 KiB is freed, so an idle
 * keep-alive connection holds no buffer at all (issue 5: 10,000 idle connections stay
 * small), while a bulk transfer keeps its grown ring instead of reallocating per read.
 * Every allocation is charged to the layer's buffer memory (tcp_mem.c) through r->tl.
 * Called by tcp_conn.c (send/recv), tcp_input.c, tcp_output.c.
 */
#include "tcp/tcp_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int tcp_ring_reserve(struct tcp_ring *r, uint32_t cap)
{
	if (r->buf && r->cap >= cap)
		return 0;
	/* The growth is charged to the stack-wide limit first (tcp_mem.c). */
	uint32_t grow = cap - (r->buf ? r->cap : 0);
	if (r->tl && tcp_mem_charge(r->tl, grow) != 0)
		return -ENOBUFS;
	uint8_t *nb = malloc(cap);
	if (!nb) {
		if (r->tl)
			tcp_mem_uncharge(r->tl, grow);
		return -ENOMEM;
	}
	if (r->buf) {
		/* Growing (SO_RCVBUF/SO_SNDBUF raised): unwrap the contents into the new block. */
		tcp_ring_read(r, nb, r->len, false);
		free(r->buf);
	}
	r->buf = nb;
	r->cap = cap;
	r->head = 0;
	return 0;
}

int tcp_ring_make_room(struct tcp_ring *r, uint32_t need, uint32_t max)
{
	if (r->buf && r->cap >= need)
		return 0;
	uint32_t cap = r->cap ? r->cap : TCP_RING_MIN;
	while (cap < need && cap < max)
		cap = cap > UINT32_MAX / 2 ? UINT32_MAX : cap * 2;
	if (cap > max)
		cap = max > need ? max : need;
	return tcp_ring_reserve(r, cap);
}

/*
 * Small rings are given back as soon as they drain: malloc of 4 KiB is cheap, and a server
 * with 10,000 idle keep-alive connections then holds no buffers at all. Large rings (a bulk
 * transfer grew them) stay, so a stream does not reallocate on every read.
 */
void tcp_ring_release_if_empty(struct tcp_ring *r)
{
	if (r->buf && r->len == 0 && r->cap <= TCP_RING_MIN)
		tcp_ring_free(r);
}

void tcp_ring_free(struct tcp_ring *r)
{
	if (r->tl && r->buf)
		tcp_mem_uncharge(r->tl, r->cap);
	free(r->buf);
	r->buf = NULL;
	r->cap = 0;
	r->head = 0;
	r->len = 0;
}

uint32_t tcp_ring_write(struct tcp_ring *r, const void *src, uint32_t n)
{
	const uint8_t *s = src;
	if (n > r->cap - r->len)
		n = r->cap - r->len;
	uint32_t tail = (r->head + r->len) % (r->cap ? r->cap : 1);
	uint32_t first = r->cap - tail < n ? r->cap - tail : n;
	memcpy(r->buf + tail, s, first);
	memcpy(r->buf, s + first, n - first);
	r->len += n;
	return n;
}

uint32_t tcp_ring_read(struct tcp_ring *r, void *dst, uint32_t n, bool consume)
{
	uint8_t *d = dst;
	if (n > r->len)
		n = r->len;
	if (n == 0)
		return 0;
	uint32_t first = r->cap - r->head < n ? r->cap - r->head : n;
	memcpy(d, r->buf + r->head, first);
	memcpy(d + first, r->buf, n - first);
	if (consume)
		tcp_ring_drop(r, n);
	return n;
}

void tcp_ring_drop(struct tcp_ring *r, uint32_t n)
{
	if (n > r->len)
		n = r->len;
	r->len -= n;
	r->head = r->len ? (r->head + n) % r->cap : 0;
}

int tcp_ring_pieces(const struct tcp_ring *r, uint32_t off, uint32_t n, struct pbuf_ext out[2])
{
	if (n == 0 || off + n > r->len)
		return 0;
	uint32_t start = (r->head + off) % r->cap;
	uint32_t first = r->cap - start < n ? r->cap - start : n;
	out[0].ptr = r->buf + start;
	out[0].len = first;
	if (first == n)
		return 1;
	out[1].ptr = r->buf;
	out[1].len = n - first;
	return 2;
}
