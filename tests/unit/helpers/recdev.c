/*
 * recdev.c - the recording test netdev (see recdev.h). Linked into every unit test.
 */
#include "recdev.h"

#include <errno.h>
#include <string.h>

static int recdev_recv(struct netdev *dev, struct pbuf **pbp)
{
	struct pbuf *pb = *pbp;
	struct recdev *rd = (struct recdev *)(void *)dev;
	const struct recdev_frame *f;
	uint8_t *p;

	if (rd->rx_head == rd->rx_tail)
		return 0;
	f = &rd->rx[rd->rx_head % RECDEV_MAX_FRAMES];
	p = pbuf_put(pb, f->len);
	if (!p)
		return -ENOBUFS;
	memcpy(p, f->bytes, f->len);
	rd->rx_head++;
	return (int)f->len;
}

static int recdev_send(struct netdev *dev, struct pbuf *pb)
{
	struct recdev *rd = (struct recdev *)(void *)dev;
	uint32_t len = pbuf_frame_len(pb);

	rd->n_send_calls++;
	if (rd->send_result < 0)
		return rd->send_result;
	if (rd->n_sent < RECDEV_MAX_FRAMES && len <= RECDEV_FRAME_MAX) {
		struct recdev_frame *f = &rd->sent[rd->n_sent++];
		f->len = len;
		pbuf_copy_out(pb, f->bytes);
	}
	return 0;
}

static int recdev_pollfd(struct netdev *dev)
{
	(void)dev;
	return -1;
}

static void recdev_close(struct netdev *dev)
{
	(void)dev;
}

static const struct netdev_ops recdev_ops = {
	.recv = recdev_recv,
	.send = recdev_send,
	.pollfd = recdev_pollfd,
	.close = recdev_close,
};

void recdev_init(struct recdev *rd)
{
	memset(rd, 0, sizeof(*rd));
	rd->dev.ops = &recdev_ops;
	strcpy(rd->dev.name, "recdev");
	rd->dev.mtu = 1500;
}

void recdev_clear(struct recdev *rd)
{
	rd->n_sent = 0;
	rd->n_send_calls = 0;
}

const struct recdev_frame *recdev_frame(const struct recdev *rd, uint32_t i)
{
	return i < rd->n_sent ? &rd->sent[i] : NULL;
}

int recdev_inject(struct recdev *rd, const uint8_t *bytes, uint32_t len)
{
	struct recdev_frame *f;

	if (rd->rx_tail - rd->rx_head >= RECDEV_MAX_FRAMES || len > RECDEV_FRAME_MAX)
		return -1;
	f = &rd->rx[rd->rx_tail++ % RECDEV_MAX_FRAMES];
	f->len = len;
	memcpy(f->bytes, bytes, len);
	return 0;
}
