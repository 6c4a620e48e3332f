/*
 * reass.h - IPv4 reassembly (RFC 791 3.2, RFC 815, RFC 1122 3.3.2).
 *
 * A datagram that arrives in fragments is rebuilt in a slot: one large-class pbuf whose
 * payload area starts IPV4_HDR_MAX bytes after PBUF_HEADROOM, so that when the datagram is
 * complete the first fragment's header can be written just before the payload and the
 * caller gets the layout ipv4_input() promises. Which bytes are still missing is kept as a
 * short sorted list of holes, RFC 815's "hole descriptors" (kept beside the buffer rather
 * than inside it, so no byte of payload ever doubles as bookkeeping).
 *
 * Bounds: at most cfg.reass_max_slots slots (<= IP_REASS_SLOTS_MAX) and cfg.reass_high_thresh
 * bytes of memory (IP_REASS_SLOT_TRUESIZE per slot) in all of them, the oldest incomplete
 * datagrams evicted to make room for a new one; IP_REASS_HOLES_MAX holes per slot, 65535
 * bytes per datagram, and cfg.reass_timeout_ms from the first fragment to the last.
 *
 * Called by ipv4.c (ipv4_input) only; the timers run from core->timers.
 */
#ifndef TAPSTACK_IP_REASS_H
#define TAPSTACK_IP_REASS_H

#include <stdbool.h>
#include <stdint.h>

#include "core/pbuf.h"
#include "core/timer.h"

#define IP_REASS_SLOTS_MAX 64u
/* Real senders cut a datagram in order, so a handful of holes is the norm; more is an attack. */
#define IP_REASS_HOLES_MAX 32u
/* Payload offset in the slot's pbuf storage: room for link headers and the largest IP header. */
#define IP_REASS_PAYLOAD_AT (PBUF_HEADROOM + 60u)
/* An IPv4 datagram is at most 65535 bytes, header included (RFC 791 3.1 "Total Length"). */
#define IP_DATAGRAM_MAX 65535u
/*
 * The memory one slot holds, whatever its datagram's size: its large-class pbuf. Reassembly
 * memory is counted in these, as Linux counts the truesize of the fragments it holds.
 */
#define IP_REASS_SLOT_TRUESIZE ((uint32_t)(PBUF_LARGE_CAP + sizeof(struct pbuf)))
/* Linux's ipfrag_high_thresh / ipfrag_low_thresh are 4 MiB / 3 MiB for a whole host; we keep
 * a quarter (15 slots, then eviction down to 11), and the large pbufs for TCP. */
#define IP_REASS_HIGH_THRESH_DEFAULT (1024u * 1024u)
#define IP_REASS_LOW_THRESH_DEFAULT (768u * 1024u)

struct ip_layer;

/* Bytes [first, end) of the payload are still missing; end == IP_REASS_OPEN until the last fragment. */
struct ip_reass_hole {
	uint32_t first, end;
};
#define IP_REASS_OPEN UINT32_MAX

struct ip_reass_slot {
	bool used;
	/* RFC 791 3.2: fragments belong together when source, destination, protocol and ID agree. */
	uint32_t src, dst;
	uint16_t id;
	uint8_t proto;
	bool broadcast;                  /* any fragment came as broadcast */
	uint8_t hdr_len;                 /* first fragment's header length, 0 until it arrives */
	uint8_t hdr[60];                 /* first fragment's header (RFC 791: it carries the options) */
	uint32_t total;                  /* payload length, known once the last fragment arrived */
	uint32_t bytes;                  /* payload bytes held */
	uint64_t serial;                 /* creation order: the smallest is the oldest */
	uint32_t nholes;
	struct ip_reass_hole holes[IP_REASS_HOLES_MAX];
	struct pbuf *pb;                 /* payload at storage + IP_REASS_PAYLOAD_AT */
	struct timer timer;              /* expiry, armed when the slot is created */
	struct ip_layer *ip;             /* back pointer for the timer callback */
};

struct ip_reass {
	uint32_t bytes;                  /* sum of slot bytes */
	uint32_t mem;                    /* nslots * IP_REASS_SLOT_TRUESIZE */
	uint32_t nslots;                 /* slots in use */
	uint64_t next_serial;
	struct ip_reass_slot slot[IP_REASS_SLOTS_MAX];
};

struct ipv4_hdr;

void ip_reass_init(struct ip_layer *ip);
/* Frees every slot and cancels its timer. */
void ip_reass_destroy(struct ip_layer *ip);

/*
 * One validated fragment (h parsed from pb->data, pb->len trimmed to the total length,
 * broadcast as ipv4_input decided). reass owns pb afterwards: it copies the payload into a
 * slot and frees pb. Returns the whole datagram (data at the IP header, len = total length,
 * headroom >= PBUF_HEADROOM; the caller owns it) when this fragment completed it, else NULL.
 */
struct pbuf *ip_reass_input(struct ip_layer *ip, struct pbuf *pb, const struct ipv4_hdr *h, bool broadcast);

/* Slots in use, for tests. */
uint32_t ip_reass_slots_used(const struct ip_layer *ip);

#endif
