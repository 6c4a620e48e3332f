/*
 * pcap.c - the capture wrapper (see pcap.h), writing the classic libpcap format:
 *
 *   global header: magic 0xa1b2c3d4 (host order; readers detect the byte order from it),
 *                  version 2.4, thiszone 0, sigfigs 0, snaplen, linktype
 *   per frame:     ts_sec, ts_usec, incl_len, orig_len, then incl_len bytes
 *
 * The file goes through stdio's buffer: one write(2) per few frames instead of two per
 * frame. The buffer is flushed on close and by ts_pcap_flush() (the program's signal path).
 */
#include "drivers/pcap.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/timer.h"

struct pcap_dev {
	struct netdev dev;   /* first, for container_of */
	struct netdev *inner;
	FILE *file;
	struct pcap_wrap_config cfg;
	uint64_t records;
};

static struct pcap_dev *pcap_of(struct netdev *dev)
{
	return container_of(dev, struct pcap_dev, dev);
}

static void pcap_put32(FILE *f, uint32_t v)
{
	fwrite(&v, sizeof(v), 1, f);
}

static void pcap_put16(FILE *f, uint16_t v)
{
	fwrite(&v, sizeof(v), 1, f);
}

static void pcap_record_header(struct pcap_dev *p, uint32_t len)
{
	usec_t t = (p->cfg.clock ? *p->cfg.clock : 0) + p->cfg.wall_base_usec;
	uint32_t incl = len < PCAP_SNAPLEN ? len : PCAP_SNAPLEN;
	pcap_put32(p->file, (uint32_t)(t / USEC_PER_SEC));
	pcap_put32(p->file, (uint32_t)(t % USEC_PER_SEC));
	pcap_put32(p->file, incl);
	pcap_put32(p->file, len);
	p->records++;
}

static int pcap_recv(struct netdev *dev, struct pbuf *pb)
{
	struct pcap_dev *p = pcap_of(dev);
	int n = netdev_recv(p->inner, pb);
	if (n <= 0)
		return n;
	if (p->file) {
		pcap_record_header(p, pb->len);
		fwrite(pb->data, 1, pb->len < PCAP_SNAPLEN ? pb->len : PCAP_SNAPLEN, p->file);
	}
	if (p->cfg.hook)
		p->cfg.hook(p->cfg.hook_arg, false, pb->data, pb->len);
	return n;
}

static int pcap_send(struct netdev *dev, const struct pbuf *pb)
{
	struct pcap_dev *p = pcap_of(dev);
	uint32_t len = pbuf_frame_len(pb);
	if (p->file) {
		/* Frames stay below the snap length: at most NETDEV_RX_ROOM bytes (or 64 KiB with GSO later). */
		pcap_record_header(p, len);
		uint32_t left = len < PCAP_SNAPLEN ? len : PCAP_SNAPLEN;
		uint32_t n = pb->len < left ? pb->len : left;
		fwrite(pb->data, 1, n, p->file);
		left -= n;
		for (int i = 0; i < 2 && left; i++) {
			n = pb->ext[i].len < left ? pb->ext[i].len : left;
			fwrite(pb->ext[i].ptr, 1, n, p->file);
			left -= n;
		}
	}
	if (p->cfg.hook) {
		if (pb->ext[0].len || pb->ext[1].len) {
			/* The hook wants one contiguous frame; borrowed payload is copied only when tracing. */
			uint8_t *tmp = malloc(len);
			if (tmp) {
				pbuf_copy_out(pb, tmp);
				p->cfg.hook(p->cfg.hook_arg, true, tmp, len);
				free(tmp);
			}
		} else {
			p->cfg.hook(p->cfg.hook_arg, true, pb->data, pb->len);
		}
	}
	return netdev_send(p->inner, pb);
}

static int pcap_pollfd(struct netdev *dev)
{
	return netdev_pollfd(pcap_of(dev)->inner);
}

void ts_pcap_flush(struct netdev *wrapper)
{
	struct pcap_dev *p = pcap_of(wrapper);
	if (p->file)
		fflush(p->file);
}

uint64_t ts_pcap_records(const struct netdev *wrapper)
{
	return container_of(wrapper, const struct pcap_dev, dev)->records;
}

static void pcap_close(struct netdev *dev)
{
	struct pcap_dev *p = pcap_of(dev);
	if (p->file)
		fclose(p->file);
	netdev_close(p->inner);
	free(p);
}

static const struct netdev_ops pcap_ops = {
	.recv = pcap_recv,
	.send = pcap_send,
	.pollfd = pcap_pollfd,
	.close = pcap_close,
};

int ts_pcap_wrap(struct netdev **out, struct netdev *inner, const struct pcap_wrap_config *cfg, char *errbuf,
              size_t errlen)
{
	struct pcap_dev *p = calloc(1, sizeof(*p));
	if (!p) {
		snprintf(errbuf, errlen, "out of memory");
		return -ENOMEM;
	}
	p->cfg = *cfg;
	p->inner = inner;
	if (cfg->path) {
		p->file = fopen(cfg->path, "wbe");
		if (!p->file) {
			int e = errno;
			snprintf(errbuf, errlen, "%s: %s", cfg->path, strerror(e));
			free(p);
			return -e;
		}
		pcap_put32(p->file, 0xa1b2c3d4u);
		pcap_put16(p->file, 2);
		pcap_put16(p->file, 4);
		pcap_put32(p->file, 0);             /* thiszone: timestamps are UTC */
		pcap_put32(p->file, 0);             /* sigfigs */
		pcap_put32(p->file, PCAP_SNAPLEN);
		pcap_put32(p->file, PCAP_LINKTYPE_ETHERNET);
	}
	p->dev.ops = &pcap_ops;
	snprintf(p->dev.name, sizeof(p->dev.name), "%s", inner->name);
	p->dev.mtu = inner->mtu;
	*out = &p->dev;
	return 0;
}
