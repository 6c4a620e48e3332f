/*
 * pcap.c - the capture wrapper (see pcap.h), writing the classic libpcap format:
 *
 *   global header: magic 0xa1b2c3d4 (host order; readers detect the byte order from it),
 *                  version 2.4, thiszone 0, sigfigs 0, snaplen, linktype
 *   per frame:     ts_sec, ts_usec, incl_len, orig_len, then incl_len bytes
 *
 * The file goes through stdio's buffer: one write(2) per batch instead of two per frame.
 * The buffer is flushed at the end of every ts_stack_poll round (the flush op), so the file
 * is live: `tcpdump -r -` reading a pipe sees frames as they pass, and a crash loses at most
 * the batch in progress. Each record has its own time when cfg.now is given (the program's
 * clock), so a SYN, SYN-ACK and ACK of one batch do not look simultaneous.
 *
 * With cfg.pcapng the file is pcapng: a Section Header Block, one Interface Description Block,
 * then an Enhanced Packet Block per frame whose epb_flags carry the direction and whose comment
 * reads "in", "out", or "in; dropped: ip.drop_bad_checksum" - the counter the stack moved when
 * it refused that frame (the netdev rx_note op, called by ts_stack_poll). To attach that
 * comment, a received frame is held (copied once into a buffer made at wrap time) until the
 * stack has processed it; anything the stack sends meanwhile writes it out first, so the file
 * keeps the order of the wire.
 *
 * With offload on, frames are recorded as the stack hands them over and the kernel gives
 * them: TSO/GRO super-frames of up to 64 KiB, whose TCP checksum is left to the device
 * (tcpdump on a host with offload shows the same).
 */
#include "drivers/pcap.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/timer.h"

struct pcap_piece {
	const uint8_t *ptr;
	uint32_t len;
};

struct pcap_dev {
	struct netdev dev;   /* first, for container_of */
	struct netdev *inner;
	FILE *file;
	struct pcap_wrap_config cfg;
	uint64_t records;
	/* pcapng: the frame recv() returned last, held until the stack is done with it, so a drop
	 * reason (rx_note) can become its comment. pend_len 0: nothing held. */
	uint8_t *pend;
	uint32_t pend_len;
	usec_t pend_time;
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

static usec_t pcap_now(const struct pcap_dev *p)
{
	return (p->cfg.now ? p->cfg.now() : p->cfg.clock ? *p->cfg.clock : 0) + p->cfg.wall_base_usec;
}

static uint32_t pcap_pad4(uint32_t n)
{
	return (n + 3u) & ~3u;
}

/* One option of a pcapng block: code, length, value, zero padding to 4 bytes. */
static void pcapng_option(FILE *f, uint16_t code, const void *val, uint16_t len)
{
	static const uint8_t zero[4];
	pcap_put16(f, code);
	pcap_put16(f, len);
	if (len)    /* an empty value may be NULL, which fwrite must not be given */
		fwrite(val, 1, len, f);
	fwrite(zero, 1, pcap_pad4(len) - len, f);
}

/*
 * One frame: a classic record (timestamp, lengths, bytes), or a pcapng Enhanced Packet Block
 * (RFC draft-ietf-opsawg-pcapng section 4.3) whose epb_flags give the direction and whose
 * comment says "in"/"out" and, for a frame the stack dropped, why.
 */
static void pcap_write_frame(struct pcap_dev *p, bool out, usec_t t, const struct pcap_piece *pc, int npc,
                             const char *reason)
{
	uint32_t len = 0;
	for (int i = 0; i < npc; i++)
		len += pc[i].len;
	uint32_t incl = len < PCAP_SNAPLEN ? len : PCAP_SNAPLEN;
	FILE *f = p->file;
	char comment[128];
	uint16_t clen = 0;
	uint32_t total = 0;
	if (p->cfg.pcapng) {
		clen = (uint16_t)snprintf(comment, sizeof(comment), "%s%s%s", out ? "out" : "in",
		                          reason ? "; dropped: " : "", reason ? reason : "");
		if (clen >= sizeof(comment))
			clen = sizeof(comment) - 1;
		/* 28 bytes of fields, the data padded, the options (flags 8, the comment, end 4), and the
		 * length again. */
		total = 28 + pcap_pad4(incl) + 8 + 4 + pcap_pad4(clen) + 4 + 4;
		pcap_put32(f, 6);                                 /* Enhanced Packet Block */
		pcap_put32(f, total);
		pcap_put32(f, 0);                                 /* interface 0 */
		pcap_put32(f, (uint32_t)(t >> 32));               /* microseconds (if_tsresol 6) */
		pcap_put32(f, (uint32_t)t);
		pcap_put32(f, incl);
		pcap_put32(f, len);
	} else {
		pcap_put32(f, (uint32_t)(t / USEC_PER_SEC));
		pcap_put32(f, (uint32_t)(t % USEC_PER_SEC));
		pcap_put32(f, incl);
		pcap_put32(f, len);
	}
	uint32_t left = incl;
	for (int i = 0; i < npc && left; i++) {
		uint32_t n = pc[i].len < left ? pc[i].len : left;
		if (n)
			fwrite(pc[i].ptr, 1, n, f);
		left -= n;
	}
	if (p->cfg.pcapng) {
		static const uint8_t zero[4];
		fwrite(zero, 1, pcap_pad4(incl) - incl, f);
		uint32_t flags = out ? 2u : 1u;                   /* epb_flags bits 0-1: inbound 1, outbound 2 */
		pcapng_option(f, 2, &flags, 4);
		pcapng_option(f, 1, comment, clen);               /* opt_comment */
		pcapng_option(f, 0, NULL, 0);                     /* opt_endofopt */
		pcap_put32(f, total);
	}
	p->records++;
}

/* Writes the held received frame (pcapng), with the drop reason if there is one. */
static void pcap_pend_write(struct pcap_dev *p, const char *reason)
{
	if (!p->pend_len)
		return;
	struct pcap_piece pc = { p->pend, p->pend_len };
	pcap_write_frame(p, false, p->pend_time, &pc, 1, reason);
	p->pend_len = 0;
}

static int pcap_recv(struct netdev *dev, struct pbuf **pbp)
{
	struct pcap_dev *p = pcap_of(dev);
	pcap_pend_write(p, NULL);
	int n = netdev_recv(p->inner, pbp);
	if (n <= 0)
		return n;
	const struct pbuf *pb = *pbp;
	if (p->file && p->pend && pb->len <= NETDEV_RX_ROOM_GSO) {
		memcpy(p->pend, pb->data, pb->len);
		p->pend_len = pb->len;
		p->pend_time = pcap_now(p);
	} else if (p->file) {
		struct pcap_piece pc = { pb->data, pb->len };
		pcap_write_frame(p, false, pcap_now(p), &pc, 1, NULL);
	}
	if (p->cfg.hook)
		p->cfg.hook(p->cfg.hook_arg, false, pb->data, pb->len);
	return n;
}

static void pcap_rx_note(struct netdev *dev, const char *reason)
{
	pcap_pend_write(pcap_of(dev), reason);
}

static int pcap_send(struct netdev *dev, struct pbuf *pb)
{
	struct pcap_dev *p = pcap_of(dev);
	uint32_t len = pbuf_frame_len(pb);
	pcap_pend_write(p, NULL);   /* the frame being answered comes first */
	if (p->file) {
		struct pcap_piece pc[3] = { { pb->data, pb->len }, { pb->ext[0].ptr, pb->ext[0].len },
		                            { pb->ext[1].ptr, pb->ext[1].len } };
		pcap_write_frame(p, true, pcap_now(p), pc, 3, NULL);
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

/* The end of a batch: the wrapped device sends what it queued (the io_uring TAP holds its
 * frames until its flush), then the records go to the file. */
static void pcap_flush_op(struct netdev *dev)
{
	netdev_flush(pcap_of(dev)->inner);
	ts_pcap_flush(dev);
}

void ts_pcap_flush(struct netdev *wrapper)
{
	struct pcap_dev *p = pcap_of(wrapper);
	pcap_pend_write(p, NULL);
	if (p->file)
		fflush(p->file);
}

uint64_t ts_pcap_records(const struct netdev *wrapper)
{
	return container_of(wrapper, const struct pcap_dev, dev)->records;
}

static void pcap_header(struct pcap_dev *p)
{
	pcap_put32(p->file, 0xa1b2c3d4u);
	pcap_put16(p->file, 2);
	pcap_put16(p->file, 4);
	pcap_put32(p->file, 0);             /* thiszone: timestamps are UTC */
	pcap_put32(p->file, 0);             /* sigfigs */
	pcap_put32(p->file, PCAP_SNAPLEN);
	pcap_put32(p->file, PCAP_LINKTYPE_ETHERNET);
}

/* A Section Header Block and one Interface Description Block (Ethernet, microseconds). */
static void pcapng_header(struct pcap_dev *p)
{
	static const char app[] = "tapstack";
	FILE *f = p->file;
	uint32_t shb_len = 28 + 4 + pcap_pad4(sizeof(app) - 1) + 4;
	pcap_put32(f, 0x0a0d0d0au);
	pcap_put32(f, shb_len);
	pcap_put32(f, 0x1a2b3c4du);         /* byte-order magic: readers learn the order from it */
	pcap_put16(f, 1);
	pcap_put16(f, 0);
	pcap_put32(f, 0xffffffffu);         /* section length: not given */
	pcap_put32(f, 0xffffffffu);
	pcapng_option(f, 4, app, sizeof(app) - 1);   /* shb_userappl */
	pcapng_option(f, 0, NULL, 0);
	pcap_put32(f, shb_len);
	uint8_t tsresol = 6;                /* microseconds */
	uint32_t idb_len = 20 + 8 + 4 + pcap_pad4((uint32_t)strlen(p->dev.name)) + 4;
	pcap_put32(f, 1);
	pcap_put32(f, idb_len);
	pcap_put16(f, PCAP_LINKTYPE_ETHERNET);
	pcap_put16(f, 0);
	pcap_put32(f, PCAP_SNAPLEN);
	pcapng_option(f, 9, &tsresol, 1);   /* if_tsresol */
	pcapng_option(f, 2, p->dev.name, (uint16_t)strlen(p->dev.name));  /* if_name */
	pcapng_option(f, 0, NULL, 0);
	pcap_put32(f, idb_len);
}

static void pcap_close(struct netdev *dev)
{
	struct pcap_dev *p = pcap_of(dev);
	pcap_pend_write(p, NULL);
	if (p->file)
		fclose(p->file);
	free(p->pend);
	netdev_close(p->inner);
	free(p);
}

/* The wrapped device's counters: the capture is transparent. */
static size_t pcap_counters(const struct netdev *dev, struct counter_group *out, size_t max)
{
	const struct netdev *inner = container_of(dev, const struct pcap_dev, dev)->inner;
	return inner->ops->counters ? inner->ops->counters(inner, out, max) : 0;
}

static const struct netdev_ops pcap_ops = {
	.recv = pcap_recv,
	.send = pcap_send,
	.pollfd = pcap_pollfd,
	.close = pcap_close,
	.flush = pcap_flush_op,
	.rx_note = pcap_rx_note,
	.counters = pcap_counters,
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
	snprintf(p->dev.name, sizeof(p->dev.name), "%s", inner->name);
	if (cfg->path || cfg->fd > 0) {
		p->file = cfg->path ? fopen(cfg->path, "wbe") : fdopen(cfg->fd, "wb");
		if (!p->file) {
			int e = errno;
			snprintf(errbuf, errlen, "%s: %s", cfg->path ? cfg->path : "descriptor", strerror(e));
			free(p);
			return -e;
		}
		if (cfg->pcapng)
			pcapng_header(p);
		else
			pcap_header(p);
		p->pend = cfg->pcapng ? malloc(NETDEV_RX_ROOM_GSO) : NULL;  /* no buffer: frames go unannotated */
	}
	p->dev.ops = &pcap_ops;
	p->dev.mtu = inner->mtu;
	p->dev.offload = inner->offload;   /* the capture is transparent: super-frames pass through */
	p->dev.tx_late = inner->tx_late;   /* and so is when the inner device reads a frame */
	*out = &p->dev;
	return 0;
}
