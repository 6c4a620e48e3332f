/*
 * pbuf.h - packet buffers: one frame's bytes with room to prepend headers, from a pool.
 *
 * A pbuf is a single block: the struct, then `cap` bytes of storage. `data`/`len` is the
 * current view. Input strips headers with pbuf_pull(); output reserves headroom at
 * allocation and each layer prepends its header with pbuf_push(), so no layer copies the
 * layers above it.
 *
 * Zero-copy transmit: a pbuf may also reference payload it does not own (`ext`, up to two
 * pieces, e.g. the two halves of a wrapped TCP send ring). Such payload logically follows
 * data[0..len). It stays valid only until the call that was handed the pbuf returns, so
 * anyone who keeps a pbuf longer (the ARP pending queue) must pbuf_linearize() it first.
 * The one exception is a device that writes at its flush (netdev.tx_late, the io_uring TAP):
 * the stack keeps what a queued frame borrows unchanged until then (core_tx_settle, core.h).
 * pbuf_frame_len() is the whole frame's length; drivers send data then ext (writev).
 *
 * Pool: freed pbufs go on a free list per size class and are reused, so the steady state
 * allocates nothing per packet. The pool grows on demand up to a bound; past it,
 * pbuf_alloc() returns NULL and counts `alloc_fail` (callers drop and count). What a burst
 * left on the free lists goes back to malloc over the following seconds (pbuf_pool_trim).
 *
 * Ownership: whoever holds the pointer owns the pbuf and must pass it on or pbuf_free() it.
 * Every function that takes a pbuf says in one sentence who owns it afterwards. A second
 * party may hold a pbuf besides its owner (pbuf_hold: a device whose write of the frame
 * completes later); the pbuf goes back to the pool when both have let go.
 */
#ifndef TAPSTACK_CORE_PBUF_H
#define TAPSTACK_CORE_PBUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Headroom for every header we prepend: virtio-net 12 + Ethernet 14 + IPv4 60 + TCP 60, rounded. */
#define PBUF_HEADROOM 160u
/* Small class: a full 1500-byte-MTU Ethernet frame plus headroom fits. */
#define PBUF_SMALL_CAP 2048u
/* Large class: a 64 KiB IP datagram (reassembly, GSO) plus headroom. */
#define PBUF_LARGE_CAP (65536u + 512u)

#define PBUF_SMALL_MAX_DEFAULT 8192u
#define PBUF_LARGE_MAX_DEFAULT 64u

struct pbuf_pool;

struct pbuf_ext {
	const uint8_t *ptr;
	uint32_t len;
};

struct pbuf {
	struct pbuf *next;          /* free-list / queue link, owner-defined while in use */
	struct pbuf_pool *pool;     /* where pbuf_free() returns it */
	uint8_t *data;              /* first byte of the current view */
	uint32_t len;               /* bytes at data */
	uint32_t cap;               /* storage bytes after the struct */
	struct pbuf_ext ext[2];     /* borrowed payload following data (transmit only) */
	uint8_t cls;                /* size class index */
	uint8_t flags;              /* PBUF_F_* */
	uint16_t gso_size;          /* >0: a TCP super-segment of this MSS (virtio GSO, both ways) */
	uint32_t user;              /* scratch for the current owner (e.g. a sequence number) */
	uint64_t stamp;             /* scratch: time queued, for expiry */
	uint8_t storage[];          /* cap bytes */
};

#define PBUF_F_BROADCAST 0x01u  /* received as link-layer broadcast */
#define PBUF_F_MULTICAST 0x02u  /* received as link-layer multicast */
#define PBUF_F_CSUM_OK   0x04u  /* checksums already verified (offload) */
#define PBUF_F_CSUM_PARTIAL 0x08u /* send: the TCP checksum field holds the pseudo-header sum; the device finishes it */
#define PBUF_F_HELD      0x10u  /* pbuf_hold: a device reads it until pbuf_release */
#define PBUF_F_LET_GO    0x20u  /* held, and its owner has already called pbuf_free */
#define PBUF_F_LOOP      0x40u  /* a datagram we sent ourselves (ipv4_output's loopback) */

struct pbuf_class {
	uint32_t cap;
	uint32_t max;       /* at most this many allocated at once */
	uint32_t allocated; /* currently allocated from malloc (in use + free) */
	uint32_t in_use;
	uint32_t free_low;  /* the fewest on the free list since the last pbuf_pool_trim */
	struct pbuf *free;
};

struct pbuf_pool {
	struct pbuf_class cls[2];
	uint64_t alloc_fail;    /* pool exhausted or malloc failed */
	uint64_t trimmed;       /* pbufs pbuf_pool_trim gave back to malloc */
};

void pbuf_pool_init(struct pbuf_pool *pool, uint32_t small_max, uint32_t large_max);
/* Frees every pbuf on the free lists; pbufs still in use are the caller's leak. */
void pbuf_pool_destroy(struct pbuf_pool *pool);
/*
 * Gives back to malloc, in each class, the free pbufs nobody needed since the last trim (the
 * fewest the free list held meanwhile), at most `max` per class, and starts the next interval.
 * A burst (a flood, a GRO transfer) grows the pool to its bound; once it is over, trims a
 * stack makes now and then (ts_stack_poll: once a second) bring it back to what the traffic
 * uses, `max` at a time, while a steady load, which uses its free pbufs every interval, keeps
 * them. Returns how many it freed.
 */
uint32_t pbuf_pool_trim(struct pbuf_pool *pool, uint32_t max);

/*
 * A pbuf with at least `headroom` bytes before data and `size` bytes of room after it;
 * len is 0. NULL when the pool is exhausted. The caller owns the result.
 */
struct pbuf *pbuf_alloc(struct pbuf_pool *pool, uint32_t headroom, uint32_t size);
/* Returns pb to its pool; pb may be NULL. A held pbuf goes back at its pbuf_release instead. */
void pbuf_free(struct pbuf *pb);
/*
 * A device that still reads pb after the call that handed it over returns (an io_uring write
 * completing later) holds it: the owner's pbuf_free() then leaves it in use, and the holder's
 * pbuf_release() returns it to the pool, whichever of the two comes last. One holder at a time.
 */
void pbuf_hold(struct pbuf *pb);
void pbuf_release(struct pbuf *pb);

static inline uint32_t pbuf_headroom(const struct pbuf *pb)
{
	return (uint32_t)(pb->data - pb->storage);
}

static inline uint32_t pbuf_tailroom(const struct pbuf *pb)
{
	return pb->cap - pbuf_headroom(pb) - pb->len;
}

/* The memory a pbuf pins whatever it holds: the struct and its whole storage (what Linux
 * calls an skb's truesize). A queue that keeps pbufs charges this, not their length. */
static inline uint32_t pbuf_truesize(const struct pbuf *pb)
{
	return (uint32_t)sizeof(*pb) + pb->cap;
}

/* Prepend n bytes (a header); returns the new data pointer or NULL without headroom. */
uint8_t *pbuf_push(struct pbuf *pb, uint32_t n);
/* Strip n bytes from the front (a parsed header); returns the new data or NULL if len < n. */
uint8_t *pbuf_pull(struct pbuf *pb, uint32_t n);
/* Append n bytes at the tail; returns a pointer to them or NULL without tailroom. */
uint8_t *pbuf_put(struct pbuf *pb, uint32_t n);
/* Cut the view to len bytes (drop link padding); no-op if already shorter. */
void pbuf_trim(struct pbuf *pb, uint32_t len);

/* Whole length including borrowed payload. */
uint32_t pbuf_frame_len(const struct pbuf *pb);
/* Copy the whole frame (data + ext) to dst, which has pbuf_frame_len() bytes. */
void pbuf_copy_out(const struct pbuf *pb, uint8_t *dst);
/* Copy any borrowed payload into the pbuf's own storage; -ENOMEM if it does not fit. */
int pbuf_linearize(struct pbuf *pb);
/* A new pbuf holding a copy of the whole frame with `headroom`; NULL when the pool is empty. */
struct pbuf *pbuf_clone(struct pbuf_pool *pool, const struct pbuf *pb, uint32_t headroom);

/* FIFO of pbufs linked through ->next, with a count; used for bounded queues. */
struct pbuf_queue {
	struct pbuf *head, *tail;
	uint32_t count;
	uint32_t bytes;
};

void pbuf_queue_push(struct pbuf_queue *q, struct pbuf *pb);
struct pbuf *pbuf_queue_pop(struct pbuf_queue *q);
/* Frees every pbuf in the queue. */
void pbuf_queue_purge(struct pbuf_queue *q);

#endif
