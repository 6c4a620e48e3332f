/*
 * memdev.c - the in-memory driver (see memdev.h): two netdev ends sharing two queues.
 *
 * Frames queued for an end are kept sorted by their due time (ties keep their order), so
 * a jittered frame can be overtaken by a later one. A "reordered" frame is held aside and
 * queued only after the next frame sent in the same direction; if no later frame comes, the
 * receiver gets it anyway once its queue is otherwise empty, so nothing stalls forever.
 */
#include "drivers/memdev.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/checksum.h"
#include "core/rng.h"
#include "core/timer.h"

struct memdev_frame {
	struct memdev_frame *next;
	usec_t due;
	uint32_t len;
	uint16_t gso_size;          /* offload: the sender's pbuf gso_size, handed to the receiver */
	uint8_t data[];
};

/* The frames waiting for one end. */
struct memdev_queue {
	struct memdev_frame *head, *tail;
	uint32_t count;
	struct memdev_frame *held;  /* reordered: queued behind the next frame sent */
};

struct memdev_shared;

struct memdev_end {
	struct netdev dev;          /* first: netdev pointers convert back with container_of */
	struct memdev_shared *sh;
	int idx;                    /* 0 or 1; frames for this end are in sh->q[idx] */
	bool open;
	const usec_t *clock;
	struct memdev_stats st;
};

struct memdev_shared {
	struct memdev_config cfg;
	struct rng rng;
	struct memdev_end end[2];
	struct memdev_queue q[2];
};

static struct memdev_end *memdev_end_of(struct netdev *dev)
{
	return container_of(dev, struct memdev_end, dev);
}

static const struct memdev_end *memdev_end_of_const(const struct netdev *dev)
{
	return container_of(dev, const struct memdev_end, dev);
}

static usec_t memdev_now(const struct memdev_end *e)
{
	return e->clock ? *e->clock : 0;
}

void memdev_config_default(struct memdev_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->seed = 1;
	cfg->queue_max = MEMDEV_QUEUE_MAX_DEFAULT;
	cfg->mtu = 1500;
}

static bool memdev_chance(struct memdev_shared *sh, uint32_t ppm)
{
	if (ppm == 0)
		return false;
	return (uint32_t)(rng_next(&sh->rng) % MEMDEV_PPM) < ppm;
}

/* Inserts f after every frame due no later than it (stable), or drops it when full. */
static void memdev_queue_insert(struct memdev_shared *sh, struct memdev_queue *q, struct memdev_frame *f,
                                struct memdev_stats *st)
{
	if (q->count >= sh->cfg.queue_max) {
		st->overflow++;
		free(f);
		return;
	}
	q->count++;
	f->next = NULL;
	if (!q->tail || q->tail->due <= f->due) {   /* the common case: append */
		if (q->tail)
			q->tail->next = f;
		else
			q->head = f;
		q->tail = f;
		return;
	}
	struct memdev_frame **pp = &q->head;
	while (*pp && (*pp)->due <= f->due)
		pp = &(*pp)->next;
	f->next = *pp;
	*pp = f;
}

static struct memdev_frame *memdev_frame_new(usec_t due, uint32_t len)
{
	struct memdev_frame *f = malloc(sizeof(*f) + len);
	if (!f)
		return NULL;
	f->next = NULL;
	f->due = due;
	f->len = len;
	f->gso_size = 0;
	return f;
}

/*
 * Offload (cfg.offload): what a device does to a frame marked PBUF_F_CSUM_PARTIAL, finish
 * its TCP or UDP checksum (sum from the TCP header to the end, the field holding the pseudo-header
 * sum, complement stored back), and the super-segment's gso_size is passed on whole.
 */
static void memdev_offload_finish(const struct memdev_end *e, const struct pbuf *pb, struct memdev_frame *f)
{
	if (!e->dev.offload)
		return;
	f->gso_size = pb->gso_size;
	if (!(pb->flags & PBUF_F_CSUM_PARTIAL) || f->len < 14u + 20u)
		return;
	uint32_t l4 = 14u + (uint32_t)(f->data[14] & 0x0fu) * 4u, min_len;
	uint32_t off = netdev_csum_field(f->data[14 + 9], &min_len);
	if (!off || f->len < l4 + min_len)
		return;
	uint8_t *field = f->data + l4 + off;
	uint16_t c = csum_finish(csum_add(0, f->data + l4, f->len - l4));
	if (c == 0 && off == 6u)
		c = 0xffff;                     /* UDP: a computed 0 goes as all ones (RFC 768) */
	field[0] = (uint8_t)(c >> 8);
	field[1] = (uint8_t)c;
}

/* The one transmit path of send() (from pb) and memdev_inject() (from bytes). */
static int memdev_transmit(struct memdev_end *e, const struct pbuf *pb, const void *bytes, size_t len)
{
	struct memdev_shared *sh = e->sh;
	struct memdev_end *peer = &sh->end[1 - e->idx];
	struct memdev_queue *q = &sh->q[peer->idx];

	e->st.tx++;
	if (len > netdev_rx_room(&peer->dev)) {
		e->st.too_big++;
		return -EMSGSIZE;
	}
	if (!peer->open)
		return 0;                           /* a cable with nobody at the far end */
	if (memdev_chance(sh, sh->cfg.loss_ppm)) {
		e->st.lost++;
		return 0;
	}
	usec_t due = memdev_now(e) + sh->cfg.delay_usec;
	if (sh->cfg.jitter_usec)
		due += rng_next(&sh->rng) % (sh->cfg.jitter_usec + 1);

	int copies = memdev_chance(sh, sh->cfg.dup_ppm) ? 2 : 1;
	for (int i = 0; i < copies; i++) {
		struct memdev_frame *f = memdev_frame_new(due, (uint32_t)len);
		if (!f)
			return -ENOMEM;
		if (pb) {
			pbuf_copy_out(pb, f->data);
			memdev_offload_finish(e, pb, f);
		} else
			memcpy(f->data, bytes, len);
		if (i == 1)
			e->st.duplicated++;
		if (i == 0 && !q->held && memdev_chance(sh, sh->cfg.reorder_ppm)) {
			e->st.reordered++;
			q->held = f;
			continue;
		}
		memdev_queue_insert(sh, q, f, &e->st);
		if (q->held && q->held != f) {
			struct memdev_frame *h = q->held;
			q->held = NULL;
			if (h->due < due)
				h->due = due;
			memdev_queue_insert(sh, q, h, &e->st);
		}
	}
	return 0;
}

static int memdev_send(struct netdev *dev, struct pbuf *pb)
{
	return memdev_transmit(memdev_end_of(dev), pb, NULL, pbuf_frame_len(pb));
}

int memdev_inject(struct netdev *end, const void *frame, size_t len)
{
	return memdev_transmit(memdev_end_of(end), NULL, frame, len);
}

/* Unlinks the next frame due for e, or NULL. */
static struct memdev_frame *memdev_dequeue(struct memdev_end *e)
{
	struct memdev_queue *q = &e->sh->q[e->idx];
	usec_t now = memdev_now(e);
	struct memdev_frame *f = q->head;
	if (f && f->due <= now) {
		q->head = f->next;
		if (!q->head)
			q->tail = NULL;
		q->count--;
		return f;
	}
	if (!f && q->held && q->held->due <= now) {  /* nothing overtook it: deliver anyway */
		f = q->held;
		q->held = NULL;
		return f;
	}
	return NULL;
}

static int memdev_recv(struct netdev *dev, struct pbuf **pbp)
{
	struct memdev_end *e = memdev_end_of(dev);
	struct pbuf *pb = *pbp;
	struct memdev_frame *f = memdev_dequeue(e);
	if (!f)
		return 0;
	int ret;
	if (f->len > pbuf_tailroom(pb)) {
		ret = -EMSGSIZE;
	} else {
		memcpy(pb->data, f->data, f->len);
		pb->len = f->len;
		pb->gso_size = f->gso_size;
		e->st.rx++;
		ret = (int)f->len;
	}
	free(f);
	return ret;
}

int memdev_take(struct netdev *end, void *buf, size_t cap)
{
	struct memdev_end *e = memdev_end_of(end);
	struct memdev_frame *f = memdev_dequeue(e);
	if (!f)
		return 0;
	int ret = -EMSGSIZE;
	if (f->len <= cap) {
		memcpy(buf, f->data, f->len);
		e->st.rx++;
		ret = (int)f->len;
	}
	free(f);
	return ret;
}

static int memdev_pollfd(struct netdev *dev)
{
	(void)dev;
	return -1;
}

static void memdev_queue_purge(struct memdev_queue *q)
{
	while (q->head) {
		struct memdev_frame *f = q->head;
		q->head = f->next;
		free(f);
	}
	free(q->held);
	memset(q, 0, sizeof(*q));
}

static void memdev_close(struct netdev *dev)
{
	struct memdev_end *e = memdev_end_of(dev);
	struct memdev_shared *sh = e->sh;
	e->open = false;
	memdev_queue_purge(&sh->q[e->idx]);
	if (!sh->end[0].open && !sh->end[1].open)
		free(sh);
}

static const struct netdev_ops memdev_ops = {
	.recv = memdev_recv,
	.send = memdev_send,
	.pollfd = memdev_pollfd,
	.close = memdev_close,
};

void memdev_set_impairments(struct netdev *end, const struct memdev_config *cfg)
{
	struct memdev_shared *sh = memdev_end_of(end)->sh;
	sh->cfg = *cfg;
	if (!sh->cfg.queue_max)
		sh->cfg.queue_max = MEMDEV_QUEUE_MAX_DEFAULT;
	if (!sh->cfg.mtu)
		sh->cfg.mtu = 1500;
	rng_seed(&sh->rng, cfg->seed);
}

int memdev_pair_create(struct netdev **a, struct netdev **b, const struct memdev_config *cfg)
{
	struct memdev_config def;
	if (!cfg) {
		memdev_config_default(&def);
		cfg = &def;
	}
	struct memdev_shared *sh = calloc(1, sizeof(*sh));
	if (!sh)
		return -ENOMEM;
	for (int i = 0; i < 2; i++) {
		struct memdev_end *e = &sh->end[i];
		e->dev.ops = &memdev_ops;
		snprintf(e->dev.name, sizeof(e->dev.name), "mem%d", i);
		e->sh = sh;
		e->idx = i;
		e->open = true;
	}
	memdev_set_impairments(&sh->end[0].dev, cfg);
	sh->end[0].dev.mtu = sh->end[1].dev.mtu = sh->cfg.mtu;
	sh->end[0].dev.offload = sh->end[1].dev.offload = sh->cfg.offload;
	*a = &sh->end[0].dev;
	*b = &sh->end[1].dev;
	return 0;
}

void memdev_set_clock(struct netdev *end, const usec_t *now)
{
	memdev_end_of(end)->clock = now;
}

uint32_t memdev_pending(const struct netdev *end)
{
	const struct memdev_end *e = memdev_end_of_const(end);
	const struct memdev_queue *q = &e->sh->q[e->idx];
	return q->count + (q->held ? 1u : 0u);
}

usec_t memdev_next_due(const struct netdev *end)
{
	const struct memdev_end *e = memdev_end_of_const(end);
	const struct memdev_queue *q = &e->sh->q[e->idx];
	usec_t t = USEC_NEVER;
	if (q->head)
		t = q->head->due;
	if (q->held)
		t = usec_min(t, q->held->due);
	return t;
}

struct memdev_stats memdev_stats(const struct netdev *end)
{
	return memdev_end_of_const(end)->st;
}
