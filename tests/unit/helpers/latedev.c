/*
 * latedev.c - see latedev.h. Owns the wrapped device and, between send() and flush(), a hold
 * on each queued pbuf and a copy of each queued frame's bytes.
 */
#include "latedev.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

struct late_frame {
	struct pbuf *pb;
	const uint8_t *piece[3];
	uint32_t plen[3];
	uint8_t *copy;               /* the pieces' bytes when send() was called, one after another */
};

struct latedev {
	struct netdev dev;           /* first: the stack sees this */
	struct netdev *inner;
	struct late_frame q[LATEDEV_QUEUE];
	unsigned n;
	struct latedev_stats st;
};

static struct latedev *late_of(struct netdev *dev)
{
	return (struct latedev *)(void *)dev;
}

static void late_flush(struct netdev *dev)
{
	struct latedev *d = late_of(dev);
	if (d->n)
		d->st.flushes++;
	for (unsigned i = 0; i < d->n; i++) {
		struct late_frame *f = &d->q[i];
		const uint8_t *c = f->copy;
		bool same = true;
		for (int k = 0; k < 3; k++) {
			if (f->plen[k])
				same = same && memcmp(f->piece[k], c, f->plen[k]) == 0;
			c += f->plen[k];
		}
		if (!same)
			d->st.violations++;
		free(f->copy);
		/* What a kernel reading at this moment would send: the frame as its memory is now. */
		(void)netdev_send(d->inner, f->pb);
		pbuf_release(f->pb);
	}
	d->n = 0;
	netdev_flush(d->inner);
}

static int late_send(struct netdev *dev, struct pbuf *pb)
{
	struct latedev *d = late_of(dev);
	if (d->n == LATEDEV_QUEUE)
		late_flush(dev);       /* the slots are full: the batch goes early */
	struct late_frame *f = &d->q[d->n++];
	f->pb = pb;
	f->piece[0] = pb->data;
	f->plen[0] = pb->len;
	for (int k = 0; k < 2; k++) {
		f->piece[1 + k] = pb->ext[k].ptr;
		f->plen[1 + k] = pb->ext[k].len;
	}
	uint32_t len = pbuf_frame_len(pb);
	f->copy = malloc(len ? len : 1);
	assert_non_null(f->copy);
	pbuf_copy_out(pb, f->copy);
	pbuf_hold(pb);
	d->st.frames++;
	return 0;
}

static int late_recv(struct netdev *dev, struct pbuf **pbp)
{
	return netdev_recv(late_of(dev)->inner, pbp);
}

static int late_pollfd(struct netdev *dev)
{
	return netdev_pollfd(late_of(dev)->inner);
}

static void late_close(struct netdev *dev)
{
	struct latedev *d = late_of(dev);
	late_flush(dev);
	netdev_close(d->inner);
	free(d);
}

static const struct netdev_ops late_ops = {
	.recv = late_recv,
	.send = late_send,
	.pollfd = late_pollfd,
	.close = late_close,
	.flush = late_flush,
};

struct netdev *latedev_wrap(struct netdev *inner)
{
	struct latedev *d = calloc(1, sizeof(*d));
	assert_non_null(d);
	d->dev.ops = &late_ops;
	memcpy(d->dev.name, inner->name, sizeof(d->dev.name));
	d->dev.mtu = inner->mtu;
	d->dev.offload = inner->offload;
	d->dev.tx_late = true;
	d->inner = inner;
	return &d->dev;
}

struct latedev_stats latedev_stats(const struct netdev *late)
{
	return ((const struct latedev *)(const void *)late)->st;
}
