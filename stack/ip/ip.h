/*
 * ip.h - the IP layer: IPv4 input and output (RFC 791, RFC 1122 3.2), reassembly
 * (RFC 791 3.2, RFC 815), fragmentation on output, and ICMP (RFC 792, RFC 1122 3.2.2).
 *
 * Who calls it: stack.c hands every IPv4 payload from ether_input() to ipv4_input(), then
 * passes a delivered datagram to icmp_input(), tcp_input(), udp_input() or, for a protocol
 * nobody handles, icmp_send_unreachable(..., ICMP_UNREACH_PROTOCOL); an ICMP error that
 * icmp_input() returns in a struct icmp_err goes on to tcp_icmp_error() or udp_icmp_error().
 * TCP and UDP send through ipv4_output(); UDP answers a port nobody holds with
 * icmp_send_unreachable(..., ICMP_UNREACH_PORT). Below, the IP layer calls link_output_ipv4() with the next hop.
 *
 * What it owns: the reassembly slots (each a large pbuf and a 30 s timer on core->timers),
 * the IP ID counter, the ICMP error rate limiter (per destination), the path MTU cache (RFC 1191, filled by
 * TCP from frag-needed errors) and the "ip" and "icmp" counters. The
 * interface address, prefix, gateway and MTU live in the link layer's config
 * (link->cfg.addr/prefix_len/gateway/mtu): one interface, one place.
 *
 * Files: ipv4.c (input, output, routing, fragmentation), reass.c (reassembly), icmp.c,
 * icmp_rate.c (the error rate limiter).
 * docs/ipv4.md and docs/icmp.md explain them for a student.
 */
#ifndef TAPSTACK_IP_IP_H
#define TAPSTACK_IP_IP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/core.h"
#include "core/counters.h"
#include "core/pbuf.h"
#include "ip/reass.h"

struct link_layer;

/*
 * IP counters, one per reason (like `netstat -s` Ip: and IpExt:). Every datagram that
 * ipv4_input() does not deliver increments exactly one drop_* or reass_* counter.
 */
#define IP_COUNTERS(X)                                                                             \
	X(rx_packets)          /* datagrams handed to ipv4_input (InReceives) */                       \
	X(rx_delivered)        /* whole datagrams returned to the caller (InDelivers) */               \
	X(rx_broadcast)        /* of those, to 255.255.255.255 / subnet broadcast / link broadcast */  \
	X(drop_truncated)      /* shorter than 20 bytes, or than the IHL says */                       \
	X(drop_bad_version)    /* version field is not 4 */                                            \
	X(drop_bad_ihl)        /* IHL below 5 (20 bytes) */                                            \
	X(drop_bad_total_len)  /* total length below the IHL or beyond the frame */                    \
	X(drop_bad_checksum)   /* header checksum does not verify */                                   \
	X(drop_bad_src)        /* source broadcast, multicast, loopback, 0.x or our own address */     \
	X(drop_not_for_us)     /* destination is not our address or a broadcast */                     \
	X(drop_bad_frag)       /* a fragment whose length is not a multiple of 8, or beyond 65535 */   \
	X(unknown_proto)       /* delivered datagrams nobody handles (protocol unreachable) */         \
	X(frag_rx)             /* fragments received (ReasmReqds) */                                   \
	X(reass_ok)            /* datagrams reassembled (ReasmOKs) */                                  \
	X(reass_dup)           /* fragments ignored as exact duplicates of data held */                \
	X(reass_overlap)       /* datagrams dropped: a fragment overlapped with different data */     \
	X(reass_timeout)       /* datagrams dropped: not complete within the timeout */               \
	X(reass_evicted)       /* incomplete datagrams dropped, oldest first, to make room for a new one */ \
	X(reass_no_mem)        /* fragments dropped: byte limit, pool or timer heap exhausted */      \
	X(reass_too_many_holes) /* datagrams dropped: more holes than a slot tracks */                 \
	X(reass_too_big)       /* datagrams dropped: reassembled length above 65535 */                \
	X(tx_packets)          /* datagrams given to ipv4_output (OutRequests) */                      \
	X(tx_frames)           /* IP packets (whole datagrams or fragments) passed to the link */      \
	X(tx_fragmented)       /* datagrams sent as fragments (FragOKs) */                            \
	X(tx_fragments)        /* fragments created (FragCreates) */                                   \
	X(tx_no_route)         /* no on-link prefix and no gateway (OutNoRoutes): -ENETUNREACH */     \
	X(tx_df_too_big)       /* DF datagram above the MTU (FragFails): -EMSGSIZE */                 \
	X(tx_too_big)          /* datagram above 65535 bytes: -EMSGSIZE */                             \
	X(tx_no_headroom)      /* the caller's pbuf had no room for the IP header: -ENOBUFS */        \
	X(tx_no_mem)           /* pbuf pool exhausted while fragmenting: -ENOBUFS */                  \
	X(tx_loopback)         /* datagrams to ourselves (our address, 127.x): delivered, not sent */ \
	X(tx_loop_full)        /* ... dropped: IP_LOOP_MAX already waited, or no pbuf: -ENOBUFS */

struct ip_counters {
	IP_COUNTERS(COUNTER_FIELD)
};

/* ICMP counters (like `netstat -s` Icmp:). */
#define ICMP_COUNTERS(X)                                                                           \
	X(in_msgs)             /* messages handed to icmp_input */                                     \
	X(in_echo_requests)                                                                            \
	X(in_echo_replies)                                                                             \
	X(in_dest_unreachs)                                                                            \
	X(in_time_excds)                                                                               \
	X(in_other)            /* types we accept and ignore */                                        \
	X(in_param_probs)      /* parameter problem (RFC 792) */                                       \
	X(in_source_quench)    /* ignored (RFC 6633) */                                                \
	X(err_to_transport)    /* errors quoting TCP or UDP handed up by icmp_input (RFC 1122 3.2.2) */ \
	X(err_bad_quote)       /* errors dropped: quote too short for IP header + 8 bytes, or bad */  \
	X(err_broadcast)       /* errors that came as a broadcast: ignored */                         \
	X(err_other_proto)     /* errors about a protocol we do not speak, or not from us: ignored */  \
	X(pmtu_learned)        /* RFC 1191 path MTU lowered for a destination */                      \
	X(drop_truncated)      /* shorter than the 8-byte ICMP header */                               \
	X(drop_bad_checksum)                                                                           \
	X(drop_echo_broadcast) /* echo request to a broadcast address: ignored (Linux default) */     \
	X(out_msgs)            /* messages sent */                                                     \
	X(out_echo_replies)                                                                            \
	X(out_dest_unreachs)                                                                           \
	X(out_time_excds)                                                                              \
	X(out_no_mem)          /* no pbuf for a reply or an error */                                   \
	X(err_ratelimited)     /* errors not sent: that destination's bucket was empty (per host) */   \
	X(err_ratelimited_global) /* errors not sent: the stack-wide bucket was empty */              \
	X(err_suppressed)      /* errors never sent: about a broadcast, an ICMP error, a fragment */

struct icmp_counters {
	ICMP_COUNTERS(COUNTER_FIELD)
};

/* The ephemeral ports TCP and UDP each pick from (Linux's ip_local_port_range default); each
 * protocol keeps its own ports, as Linux does. */
#define IP_LOCAL_PORT_LO 32768u
#define IP_LOCAL_PORT_HI 60999u

/*
 * RFC 1191 path MTU cache: a destination's MTU learned from "fragmentation needed" (type 3
 * code 4). Bounded (a full cache replaces the entry closest to expiry) and each entry
 * expires after IP_PMTU_EXPIRE_MS (Linux ip_rt_mtu_expires 600 s; RFC 1191 6.3 suggests 10
 * minutes), when the path may have grown back. Never below IP_PMTU_MIN (Linux
 * ip_rt_min_pmtu = 512 + 20 + 20): a forged ICMP cannot shrink segments to nothing.
 */
#define IP_PMTU_SLOTS 16u
#define IP_PMTU_MIN 552u
#define IP_PMTU_EXPIRE_MS 600000u

struct ip_pmtu {
	uint32_t dst;                    /* 0: free */
	uint32_t mtu;
	usec_t expires;
};

struct ip_config {
	uint8_t ttl;                     /* TTL of datagrams we originate (Linux ip_default_ttl 64) */
	bool tcp_df;                     /* set DF on TCP datagrams, as Linux does (PMTU discovery) */
	uint32_t reass_timeout_ms;       /* RFC 1122 3.3.2 suggests 60-120 s; Linux ipfrag_time 30 s */
	uint32_t reass_max_slots;        /* datagrams in reassembly at once, <= IP_REASS_SLOTS_MAX */
	uint32_t reass_high_thresh;      /* reassembly memory (IP_REASS_SLOT_TRUESIZE per slot) that a */
	uint32_t reass_low_thresh;       /* new datagram may not exceed; eviction goes down to low */
	bool icmp_echo_ignore_broadcasts; /* Linux icmp_echo_ignore_broadcasts=1 */
	uint32_t icmp_ratelimit_ms;      /* per destination: one error token per this many ms (Linux icmp_ratelimit) */
	uint32_t icmp_ratelimit_burst;   /* per destination: bucket depth in tokens (Linux XRLIM_BURST_FACTOR 6) */
	uint32_t icmp_msgs_per_sec;      /* all destinations together (Linux icmp_msgs_per_sec 1000) */
	uint32_t icmp_msgs_burst;        /* ... bucket depth (Linux icmp_msgs_burst 50) */
};

/*
 * The ICMP error rate limiter (icmp_rate.c), as Linux's: a token bucket per destination
 * (inet_peer's rate_tokens) in a small table, and one bucket for the whole stack that
 * bounds the sum however many sources an attacker forges. A destination not in the table
 * takes a free slot or the one idle longest: it starts with a full bucket, as a new
 * inet_peer does.
 */
#define ICMP_RATE_SLOTS 64u
struct icmp_rate_peer {
	uint32_t dst;                    /* 0: free */
	usec_t tokens;                   /* credit in microseconds (a token = icmp_ratelimit_ms) */
	usec_t last;                     /* when the credit was last topped up */
};
struct icmp_rate {
	usec_t tokens, last;             /* the global bucket, in microseconds (a token = 1 s / msgs_per_sec) */
	struct icmp_rate_peer peers[ICMP_RATE_SLOTS];
};

struct ip_layer {
	struct core *core;
	struct link_layer *link;         /* below us: address, prefix, gateway, MTU, link_output_ipv4 */
	struct ip_config cfg;
	uint16_t next_id;                /* IP identification of the next datagram we send */
	struct icmp_rate icmp_rate;      /* who may still get an ICMP error (icmp_rate.c) */
	struct ip_pmtu pmtu[IP_PMTU_SLOTS]; /* RFC 1191: path MTUs learned from frag-needed */
	struct ip_reass reass;
	struct pbuf_queue loopq;         /* datagrams to ourselves, each whole (ip_loop_pop) */
	struct ip_counters cnt;
	struct icmp_counters icmp_cnt;
};

/*
 * What ipv4_input() learned about a delivered datagram, host order. broadcast: it came as a
 * link-layer broadcast/multicast or to an IP broadcast address, so nobody may answer it with
 * an error or a RST (RFC 1122 3.2.2, 4.2.3.10).
 */
struct ipv4_rx {
	uint32_t src, dst;
	uint8_t proto, ttl, tos;
	uint16_t hdr_len;
	bool broadcast;
};

/* TTL 64, DF on TCP, 30 s reassembly timeout, 64 slots, 1 MiB high / 768 KiB low, ignore
 * broadcast echo, ICMP errors 1000 ms x 6 per destination and 1000/s x 50 in all. */
void ip_config_default(struct ip_config *cfg);

/* 0 or -EINVAL (a config value out of range). The layer keeps core and link, owns nothing yet. */
int ip_init(struct ip_layer *ip, struct core *core, struct link_layer *link, const struct ip_config *cfg);

/* Frees every reassembly slot and cancels its timer. */
void ip_destroy(struct ip_layer *ip);

/*
 * One received IPv4 packet, pb->data at the IP header, pb->len = bytes after the Ethernet
 * header (may include link padding). ipv4_input owns *pb: returns 1 when a whole datagram is
 * delivered, and then the caller owns *pb (possibly a new, reassembled pbuf) with data at the
 * transport header, len = transport length, and the IP header (rx->hdr_len bytes) just before
 * data; returns 0 when the packet was dropped and counted, or kept for reassembly.
 */
int ipv4_input(struct ip_layer *ip, struct pbuf **pb, struct ipv4_rx *rx);

#define IP_TTL_DEFAULT 64 /* Linux's net.ipv4.ip_default_ttl */

/* The header fields a sender chooses (a socket's IP_TOS and IP_TTL): ttl 0 is the stack's
 * default (ip_config.ttl), as Linux's -1 is net.ipv4.ip_default_ttl. */
struct ip_hdr_choice {
	uint8_t tos, ttl;
};

/*
 * Sends pb (data at the transport header, ext pieces allowed) from src (0: our address) to
 * dst: next hop on-link or the gateway, fragmented when above the MTU (except TCP with DF).
 * Always consumes pb. 0, or -ENETUNREACH, -EMSGSIZE, -ENOBUFS, or the link layer's error.
 */
int ipv4_output(struct ip_layer *ip, struct pbuf *pb, uint32_t src, uint32_t dst, uint8_t proto,
                struct ip_hdr_choice hc);
/* False when a datagram to dst would be dropped at once for lack of a neighbour slot
 * (link_can_send_ipv4, which counts it): the sender may skip building it. True otherwise,
 * also when there is no route (ipv4_output counts that). */
bool ipv4_can_send(struct ip_layer *ip, uint32_t dst);

/*
 * An ICMP error about a datagram we sent (RFC 792, RFC 1122 3.2.2.1-3.2.2.5), as
 * icmp_input() hands it to the transport (only stack.c moves it up, to tcp_icmp_error() or
 * udp_icmp_error()).
 * Host order. The quote is the offending datagram's IP header (src = us, dst = the peer we
 * sent to) and the first `tlen` transport bytes, at least 8 (RFC 792: "the first 64 bits";
 * for TCP, ports and sequence number, RFC 5927 4.1; for UDP the whole header).
 */
#define ICMP_ERR_QUOTE_MAX 64u
struct icmp_err {
	uint8_t type, code;              /* ICMP_DEST_UNREACH/ICMP_TIME_EXCEEDED/ICMP_PARAM_PROBLEM */
	uint16_t next_hop_mtu;           /* frag-needed: RFC 1191 next-hop MTU, 0 from old routers */
	uint32_t src, dst;               /* the quoted datagram's addresses */
	uint8_t proto;                   /* the quoted datagram's protocol */
	uint8_t tlen;                    /* quoted transport bytes in t[] (8..ICMP_ERR_QUOTE_MAX) */
	uint32_t from;                   /* who sent the ICMP error (a router or the peer) */
	uint8_t t[ICMP_ERR_QUOTE_MAX];   /* the quoted transport header bytes */
};

/*
 * A delivered ICMP message (pb as ipv4_input returned it); always consumes pb (reused for an
 * echo reply). Returns true when it was an error about one of our TCP or UDP datagrams that
 * the transport should see (filled into *err), false when it was handled or dropped and counted.
 */
bool icmp_input(struct ip_layer *ip, struct pbuf *pb, const struct ipv4_rx *rx, struct icmp_err *err);

/*
 * RFC 1191: records that the path to dst carries at most `mtu` bytes (raised to IP_PMTU_MIN;
 * ignored unless below what we know). Returns the path MTU now in force for dst.
 */
uint32_t ip_pmtu_learn(struct ip_layer *ip, uint32_t dst, uint32_t mtu);

/* The path MTU to dst: the link MTU, or less when a frag-needed taught us so (and not expired). */
uint32_t ip_pmtu_get(const struct ip_layer *ip, uint32_t dst);

/*
 * Destination unreachable with `code` (ICMP_UNREACH_PROTOCOL, _PORT, ...) about the datagram
 * pb as ipv4_input delivered it; never about a broadcast, an ICMP error or a non-first
 * fragment (RFC 1122 3.2.2), and rate-limited. Always consumes pb.
 */
void icmp_send_unreachable(struct ip_layer *ip, struct pbuf *pb, const struct ipv4_rx *rx, uint8_t code);

/* Our interface address (host order). */
uint32_t ip_local_addr(const struct ip_layer *ip);

/* Datagrams to these never reach the wire: our own address and 127.0.0.0/8, the loopback
 * net (RFC 1122 3.2.1.3 (g)), as Linux delivers both through its lo device. */
static inline bool ip_addr_is_local(const struct ip_layer *ip, uint32_t addr)
{
	return addr == ip_local_addr(ip) || (addr >> 24) == 127;
}

/* The source address for a datagram to dst (Linux's route prefsrc): 127.0.0.1 on the
 * loopback net, else our address. */
#define IP_LOOPBACK_ADDR 0x7f000001u
static inline uint32_t ip_src_for(const struct ip_layer *ip, uint32_t dst)
{
	return (dst >> 24) == 127 ? IP_LOOPBACK_ADDR : ip_local_addr(ip);
}

/* A destination of 0.0.0.0 means this host (Linux's ip_route_output_key_hash: the
 * socket's bound address, else 127.0.0.1 on lo): connect() and sendto() to INADDR_ANY
 * reach our own sockets. Any other destination is itself. */
static inline uint32_t ip_dst_resolve(uint32_t dst, uint32_t bound_laddr)
{
	return dst ? dst : bound_laddr ? bound_laddr : IP_LOOPBACK_ADDR;
}

/* Datagrams to ourselves waiting at most (the rest are dropped, tx_loop_full): the
 * senders are bounded by their windows; this bounds a program that is not. */
#define IP_LOOP_MAX 1024u

/* The next datagram we sent to ourselves (pb->data at its IP header, PBUF_F_LOOP), for the
 * stack to deliver as if it came in (ts_stack_poll); NULL when none waits. */
struct pbuf *ip_loop_pop(struct ip_layer *ip);
static inline bool ip_loop_pending(const struct ip_layer *ip)
{
	return ip->loopq.count != 0;
}

/* 255.255.255.255 or our subnet's directed broadcast (none for /31 and /32, RFC 3021). */
bool ip_addr_is_broadcast(const struct ip_layer *ip, uint32_t addr);

/* An address a socket may bind (Linux inet_bind): any (0), ours, one of the loopback net,
 * or a broadcast of ours; anything else is EADDRNOTAVAIL. */
static inline bool ip_bind_addr_ok(const struct ip_layer *ip, uint32_t addr)
{
	return addr == 0 || ip_addr_is_local(ip, addr) || ip_addr_is_broadcast(ip, addr);
}

/*
 * An address that cannot be the source of a datagram from a single host (RFC 1122 3.2.1.3,
 * Linux's "martian source"): 0.x (except 0.0.0.0 to the limited broadcast), 127.x,
 * multicast and class E, a broadcast address, or our own address arriving from outside.
 */
bool ip_addr_is_bad_src(const struct ip_layer *ip, uint32_t src, uint32_t dst);

/* The "ip" and "icmp" counter groups; returns how many were written (at most max). */
size_t ip_counter_groups(const struct ip_layer *ip, struct counter_group *out, size_t max);

#endif
