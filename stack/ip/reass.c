/*
 * reass.c - IPv4 reassembly (RFC 791 3.2 "Reassembly", RFC 815, RFC 1122 3.3.2).
 *
 * Called by ipv4_input() for every valid fragment. A slot collects one datagram, keyed by
 * (source, destination, protocol, ID) as RFC 791 says. Each fragment's data is copied once,
 * to its offset in the slot's large pbuf, and the fragment's own pbuf is freed at once, so
 * memory held is one buffer per datagram. The missing bytes are RFC 815's hole list: it
 * starts as one hole [0, infinity); a fragment that fits inside a hole splits it into at
 * most two; the last fragment (MF=0) closes the infinite hole at the datagram's end; the
 * datagram is complete when no hole is left.
 *
 * Overlaps (RFC 791 leaves them open; they are how "teardrop"-style attacks and IDS evasion
 * work): a fragment that lies entirely inside data we hold and repeats it byte for byte is a
 * harmless duplicate and is ignored (reass_dup). Any other overlap - straddling a hole's
 * edge, or repeating bytes with different content, or a second "last" fragment with another
 * end - drops the whole datagram (reass_overlap), which is what Linux does since 4.19 (and
 * RFC 5722 demands for IPv6). So no byte is ever written twice and no write can leave the
 * buffer: every fragment end is checked against 65515 in ipv4_input, and the buffer holds
 * 65515 bytes after IP_REASS_PAYLOAD_AT.
 *
 * Bounds: slots (cfg.reass_max_slots) and memory (cfg.reass_high_thresh): a new datagram that
 * finds either exhausted evicts the oldest incomplete ones (reass_evict), holes per
 * slot (IP_REASS_HOLES_MAX), and time: each slot has a timer armed for reass_timeout_ms when
 * its first fragment arrives (Linux ipfrag_time, 30 s; not extended by later fragments).
 * When it fires the slot is freed and, if fragment zero had arrived, an ICMP time exceeded
 * (code 1) goes to the sender (RFC 792, RFC 1122 3.3.2).
 */
#include "ip/reass.h"

#include <string.h>

#include "core/checksum.h"
#include "ip/icmp.h"
#include "ip/ip.h"
#include "wire/icmp.h"
#include "wire/ipv4.h"

#define REASS_PAYLOAD_CAP (IP_DATAGRAM_MAX - IPV4_HDR_MIN)

static void reass_expire(struct timer *t, usec_t now);

void ip_reass_init(struct ip_layer *ip)
{
	memset(&ip->reass, 0, sizeof(ip->reass));
	for (uint32_t i = 0; i < IP_REASS_SLOTS_MAX; i++) {
		timer_init(&ip->reass.slot[i].timer, reass_expire);
		ip->reass.slot[i].ip = ip;
	}
}

static void reass_slot_free(struct ip_layer *ip, struct ip_reass_slot *s)
{
	timer_cancel(&ip->core->timers, &s->timer);
	pbuf_free(s->pb);
	s->pb = NULL;
	ip->reass.bytes -= s->bytes;
	ip->reass.mem -= IP_REASS_SLOT_TRUESIZE;
	ip->reass.nslots--;
	s->used = false;
}

void ip_reass_destroy(struct ip_layer *ip)
{
	for (uint32_t i = 0; i < IP_REASS_SLOTS_MAX; i++)
		if (ip->reass.slot[i].used)
			reass_slot_free(ip, &ip->reass.slot[i]);
}

uint32_t ip_reass_slots_used(const struct ip_layer *ip)
{
	return ip->reass.nslots;
}

static uint8_t *reass_payload(struct ip_reass_slot *s)
{
	return s->pb->storage + IP_REASS_PAYLOAD_AT;
}

/* RFC 1122 3.3.2: on timeout, tell the sender if we have fragment zero (its header + 8 bytes). */
static void reass_expire(struct timer *t, usec_t now)
{
	struct ip_reass_slot *s = container_of(t, struct ip_reass_slot, timer);
	struct ip_layer *ip = s->ip;

	(void)now;
	ip->cnt.reass_timeout++;
	if (s->hdr_len && !s->broadcast) {
		/* Bytes held contiguously from offset 0: up to the first hole. */
		uint32_t have = s->nholes ? s->holes[0].first : s->total;
		uint8_t *d = reass_payload(s) - s->hdr_len;

		memcpy(d, s->hdr, s->hdr_len);
		icmp_send_error(ip, d, s->hdr_len + have, ICMP_TIME_EXCEEDED, 1);
	}
	reass_slot_free(ip, s);
}

static struct ip_reass_slot *reass_find(struct ip_layer *ip, const struct ipv4_hdr *h)
{
	/* Linear scan: at most 64 slots, and usually none or one in use. */
	for (uint32_t i = 0; i < IP_REASS_SLOTS_MAX; i++) {
		struct ip_reass_slot *s = &ip->reass.slot[i];
		if (s->used && s->id == h->id && s->src == h->src && s->dst == h->dst && s->proto == h->proto)
			return s;
	}
	return NULL;
}

/* Frees the incomplete datagram created longest ago (there is one: nslots > 0). */
static void reass_evict_oldest(struct ip_layer *ip)
{
	struct ip_reass_slot *old = NULL;

	for (uint32_t i = 0; i < IP_REASS_SLOTS_MAX; i++) {
		struct ip_reass_slot *s = &ip->reass.slot[i];
		if (s->used && (!old || s->serial < old->serial))
			old = s;
	}
	ip->cnt.reass_evicted++;
	reass_slot_free(ip, old);
}

/*
 * Room for one more slot. Linux's fragment evictor (ipfrag_high_thresh / low_thresh): when a
 * new datagram would take reassembly memory above the high threshold (or all slots are
 * used), the oldest incomplete datagrams are dropped until it fits under the low threshold.
 * A flood of fragments that never complete therefore cannot keep legitimate datagrams out
 * for the whole timeout: it only pushes out what is older than itself, and a datagram whose
 * fragments arrive together completes long before it becomes the oldest. The gap between
 * the thresholds makes eviction happen in batches, not once per new datagram.
 */
static void reass_make_room(struct ip_layer *ip)
{
	const struct ip_config *c = &ip->cfg;

	if (ip->reass.nslots < c->reass_max_slots && ip->reass.mem + IP_REASS_SLOT_TRUESIZE <= c->reass_high_thresh)
		return;
	while (ip->reass.nslots &&
	       (ip->reass.nslots >= c->reass_max_slots || ip->reass.mem + IP_REASS_SLOT_TRUESIZE > c->reass_low_thresh))
		reass_evict_oldest(ip);
}

/* A new slot for h's datagram, or NULL with the reason counted. */
static struct ip_reass_slot *reass_slot_new(struct ip_layer *ip, const struct ipv4_hdr *h)
{
	struct ip_reass_slot *s = NULL;

	reass_make_room(ip);
	for (uint32_t i = 0; i < IP_REASS_SLOTS_MAX && !s; i++)
		if (!ip->reass.slot[i].used)
			s = &ip->reass.slot[i];
	/* A large-class pbuf: room for a 65535-byte datagram with headroom before its header.
	 * When the pool is out of them, the oldest incomplete datagram gives its own back. */
	s->pb = pbuf_alloc(&ip->core->pool, IP_REASS_PAYLOAD_AT, REASS_PAYLOAD_CAP);
	if (!s->pb && ip->reass.nslots) {
		reass_evict_oldest(ip);
		s->pb = pbuf_alloc(&ip->core->pool, IP_REASS_PAYLOAD_AT, REASS_PAYLOAD_CAP);
	}
	if (!s->pb) {
		ip->cnt.reass_no_mem++;
		return NULL;
	}
	if (timer_arm(&ip->core->timers, &s->timer,
	              ip->core->now + (usec_t)ip->cfg.reass_timeout_ms * USEC_PER_MS) < 0) {
		pbuf_free(s->pb);
		s->pb = NULL;
		ip->cnt.reass_no_mem++;
		return NULL;
	}
	s->used = true;
	s->serial = ip->reass.next_serial++;
	s->src = h->src;
	s->dst = h->dst;
	s->id = h->id;
	s->proto = h->proto;
	s->broadcast = false;
	s->hdr_len = 0;
	s->total = IP_REASS_OPEN;
	s->bytes = 0;
	s->nholes = 1;
	s->holes[0].first = 0;
	s->holes[0].end = IP_REASS_OPEN;
	ip->reass.nslots++;
	ip->reass.mem += IP_REASS_SLOT_TRUESIZE;
	return s;
}

/* Whether [off, end) touches any hole. */
static bool reass_touches_hole(const struct ip_reass_slot *s, uint32_t off, uint32_t end)
{
	for (uint32_t i = 0; i < s->nholes; i++)
		if (off < s->holes[i].end && s->holes[i].first < end)
			return true;
	return false;
}

/*
 * The finished datagram: the first fragment's header (options included) written just before
 * the payload, with the total length of the whole, MF and offset cleared and a new checksum.
 */
static struct pbuf *reass_finish(struct ip_layer *ip, struct ip_reass_slot *s)
{
	struct pbuf *pb = s->pb;
	uint8_t *p;

	if (s->hdr_len + s->total > IP_DATAGRAM_MAX) {
		ip->cnt.reass_too_big++;
		reass_slot_free(ip, s);
		return NULL;
	}
	pbuf_put(pb, s->total);
	p = pbuf_push(pb, s->hdr_len);
	memcpy(p, s->hdr, s->hdr_len);
	put_be16(p + IPV4_OFF_TOTLEN, (uint16_t)(s->hdr_len + s->total));
	put_be16(p + IPV4_OFF_FRAG, get_be16(p + IPV4_OFF_FRAG) & IPV4_FLAG_DF);
	put_be16(p + IPV4_OFF_CSUM, 0);
	put_be16(p + IPV4_OFF_CSUM, csum_finish(csum_add(0, p, s->hdr_len)));
	if (s->broadcast)
		pb->flags |= PBUF_F_BROADCAST;
	s->pb = NULL;    /* the caller owns it now */
	reass_slot_free(ip, s);
	ip->cnt.reass_ok++;
	return pb;
}

/* Takes ownership of pb (its payload is copied into the slot and pb freed); the caller owns what is returned. */
struct pbuf *ip_reass_input(struct ip_layer *ip, struct pbuf *pb, const struct ipv4_hdr *h, bool broadcast)
{
	struct ip_reass_slot *s = reass_find(ip, h);
	uint32_t off = h->frag_off, n = pb->len - h->ihl, end = off + n, i;
	const uint8_t *data = pb->data + h->ihl;
	struct pbuf *done = NULL;

	if (!s && !(s = reass_slot_new(ip, h)))
		goto out;
	s->broadcast = s->broadcast || broadcast;

	/* The last fragment (MF=0) fixes the datagram's end: close the open hole there. */
	if (!h->mf) {
		if (s->total != IP_REASS_OPEN) {
			if (s->total != end)
				goto conflict;    /* two different ends */
		} else {
			/* While the end is open the last hole is [x, open) (a live slot has a hole).
			 * Data already beyond this end (x > end) contradicts it. */
			struct ip_reass_hole *last = &s->holes[s->nholes - 1];
			if (last->first > end)
				goto conflict;
			s->total = end;
			last->end = end;
			if (last->first == end)
				s->nholes--;
		}
	} else if (s->total != IP_REASS_OPEN && end > s->total) {
		goto conflict;    /* a middle fragment past the known end */
	}

	if (n) {
		/* RFC 815 steps 1-6: find the hole that contains the whole fragment. */
		for (i = 0; i < s->nholes; i++)
			if (s->holes[i].first <= off && end <= s->holes[i].end)
				break;
		if (i == s->nholes) {
			/* Not inside one hole: a duplicate if it touches no hole and repeats what we have. */
			if (reass_touches_hole(s, off, end) || memcmp(reass_payload(s) + off, data, n) != 0)
				goto conflict;
			ip->cnt.reass_dup++;
			goto out;
		}
		struct ip_reass_hole hole = s->holes[i];
		uint32_t pieces = (hole.first < off) + (end < hole.end);
		if (s->nholes - 1 + pieces > IP_REASS_HOLES_MAX) {
			ip->cnt.reass_too_many_holes++;
			reass_slot_free(ip, s);
			goto out;
		}
		/* Replace hole i by its part before the fragment and its part after it. */
		memmove(&s->holes[i + pieces], &s->holes[i + 1], (s->nholes - i - 1) * sizeof(s->holes[0]));
		s->nholes = s->nholes - 1 + pieces;
		if (hole.first < off)
			s->holes[i++] = (struct ip_reass_hole){ hole.first, off };
		if (end < hole.end)
			s->holes[i] = (struct ip_reass_hole){ end, hole.end };
		memcpy(reass_payload(s) + off, data, n);
		s->bytes += n;
		ip->reass.bytes += n;
	}
	/* Fragment zero carries the header the datagram keeps (RFC 791: options not copied into
	 * later fragments are only there). */
	if (off == 0 && !s->hdr_len) {
		memcpy(s->hdr, pb->data, h->ihl);
		s->hdr_len = h->ihl;
	}
	if (s->nholes == 0)
		done = reass_finish(ip, s);
	goto out;

conflict:
	ip->cnt.reass_overlap++;
	reass_slot_free(ip, s);
out:
	pbuf_free(pb);
	return done;
}
