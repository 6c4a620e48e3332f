/*
 * udp.h - the UDP layer (RFC 768, RFC 1122 4.1): datagram sockets beside TCP, above IP.
 *
 * Who calls it: stack.c creates the layer (udp_init), hands it every delivered IPv4
 * datagram with protocol 17 (udp_input) and every ICMP error that quotes one of our UDP
 * datagrams (udp_icmp_error); stack/socket/ drives sockets through the socket-facing calls
 * at the end; `tapstack ss` walks the sockets with udp_foreach_sock.
 *
 * What it owns: every UDP socket (struct udp_sock), the bound-port table that finds the
 * socket a datagram is for, each socket's receive queue (the datagrams themselves, still in
 * their packet buffers, bounded by SO_RCVBUF) and the "udp" counters.
 *
 * Files: udp.c (the port table, input, ICMP errors, counters), udp_sock.c (what a socket
 * does: bind, connect, send, receive). docs/udp.md explains them for a student.
 */
#ifndef TAPSTACK_UDP_UDP_H
#define TAPSTACK_UDP_UDP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "core/core.h"
#include "core/counters.h"
#include "core/pbuf.h"

struct icmp_err;
struct ip_layer;
struct ipv4_rx;

/* Largest payload of one datagram: 65535 - 20 (IPv4 header) - 8 (UDP header), as Linux. */
#define UDP_PAYLOAD_MAX 65507u
/* Buckets of the bound-port table (a power of two): chains stay short for demo servers. */
#define UDP_HASH_BUCKETS 256u

/* Knobs with Linux's defaults (the sysctl each mirrors in brackets). */
struct udp_config {
	uint32_t rmem_default;        /* SO_RCVBUF of a new socket [net.core.rmem_default = 212992] */
	uint32_t wmem_default;        /* SO_SNDBUF of a new socket [net.core.wmem_default = 212992] */
	uint32_t rmem_max, wmem_max;  /* SO_RCVBUF/SO_SNDBUF clamp before doubling [net.core.rmem_max = 212992];
	                               * net.core's, so TCP's options clamp by them too (ts_setsockopt) */
	uint32_t mem_max;             /* all UDP receive queues together, bytes [udp_mem, here 4 MiB] */
	uint16_t port_lo, port_hi;    /* ephemeral range [ip_local_port_range = 32768 60999] */
	bool csum_offload;            /* the device finishes checksums (PBUF_F_CSUM_PARTIAL; stack.c) */
};

/*
 * Counters like `netstat -s` Udp: (the RFC 4113 / Linux MIB names first), then the reason
 * each dropped datagram was dropped. As in Linux, InErrors is the sum of every datagram
 * refused as malformed or for lack of room (drop_truncated, drop_bad_length, InCsumErrors,
 * RcvbufErrors, MemErrors); NoPorts is a well-formed datagram nobody was bound to.
 */
#define UDP_COUNTERS(X)                                                                            \
	X(InDatagrams)         /* datagrams queued to a socket */                                     \
	X(NoPorts)             /* unicast datagrams to a port nobody holds: port unreachable */       \
	X(InErrors)            /* datagrams dropped as malformed or for lack of room (see above) */   \
	X(OutDatagrams)        /* datagrams handed to IP */                                            \
	X(RcvbufErrors)        /* dropped: the socket's receive queue held SO_RCVBUF already */       \
	X(MemErrors)           /* dropped: all UDP queues together held mem_max (Linux udp_mem) */    \
	X(SndbufErrors)        /* sends failed for lack of a packet buffer (-ENOBUFS) */              \
	X(InCsumErrors)        /* dropped: the checksum did not verify */                             \
	X(IgnoredMulti)        /* broadcasts nobody was bound to: dropped without an answer */        \
	X(drop_truncated)      /* shorter than the 8-byte header */                                   \
	X(drop_bad_length)     /* length field below 8 or beyond the IP payload */                    \
	X(IcmpErrorsIn)        /* ICMP errors quoting one of our datagrams */                         \
	X(IcmpNoSocket)        /* ... for which no socket holds that port any more */                 \
	X(IcmpReported)        /* ... reported to a connected socket (SO_ERROR, the next call) */     \
	X(IcmpIgnored)         /* ... ignored: the socket is not connected to that peer, or soft */

struct udp_counters {
	UDP_COUNTERS(COUNTER_FIELD)
};

struct udp_sock;

/* The layer context: lives by value in struct stack. */
struct udp_layer {
	struct core *core;
	struct ip_layer *ip;
	struct udp_config cfg;
	struct udp_counters cnt;
	struct udp_sock *ports[UDP_HASH_BUCKETS]; /* bound sockets by local port, newest first */
	struct udp_sock *all;                     /* every socket, bound or not (destroy, ss) */
	uint32_t nsocks;
	uint64_t rmem;                            /* the sum of every socket's rmem (mem_max bounds it) */
	/* Readiness upcall (udp_set_waker): called with a socket's owner token when its poll
	 * state may have changed (a datagram queued, an error reported, a shutdown). */
	void (*wake)(void *arg, uint32_t owner);
	void *wake_arg;
};

/*
 * One UDP socket (Linux's struct udp_sock). Local and remote ends in host order; a socket is
 * "connected" when rport != 0 (it then receives only from raddr:rport and sends there by
 * default). Readiness is a function of these fields alone (udp_sock_revents).
 */
struct udp_sock {
	struct udp_layer *ul;
	struct udp_sock *hnext;       /* chain of ports[lport % buckets] while bound */
	struct udp_sock *next, *prev; /* ul->all */
	uint32_t laddr, raddr;
	uint16_t lport, rport;
	bool bound;                   /* holds lport in the port table */
	bool addr_locked, port_locked; /* bind() chose them: a disconnect keeps them (Linux) */
	bool broadcast, reuseaddr;    /* SO_BROADCAST, SO_REUSEADDR */
	bool shut_rd, shut_wr;
	uint8_t tos;                  /* IP_TOS */
	uint8_t ttl;                  /* IP_TTL; 0 = ip_config's */
	int err;                      /* pending error (positive errno), reported once */
	uint32_t rcvbuf, sndbuf;      /* bytes (doubled as Linux does) */
	uint32_t rmem;                /* receive queue memory: the sum of its buffers' sizes */
	uint32_t drops;               /* datagrams this socket lost to a full queue */
	struct pbuf_queue rcvq;       /* data at the UDP header; pb->user = source address */
	uint32_t owner;               /* the socket layer's token for the waker (0 = nobody) */
};

void udp_config_default(struct udp_config *cfg);
int udp_init(struct udp_layer *ul, struct core *core, struct ip_layer *ip, const struct udp_config *cfg);
/* Closes every socket still open and frees its queue. */
void udp_destroy(struct udp_layer *ul);

/*
 * One received datagram: pb->data at the UDP header, pb->len the IP payload length, the
 * IPv4 header just before data (ipv4_input's contract). Takes ownership of pb: queued to
 * one socket (or a copy to each, for a broadcast), or freed and counted, or answered with
 * ICMP port unreachable.
 */
void udp_input(struct udp_layer *ul, struct pbuf *pb, const struct ipv4_rx *rx);
/* An ICMP error quoting one of our datagrams (RFC 1122 4.1.3.3): reported to the socket
 * connected to that peer as Linux does (ECONNREFUSED for port unreachable). Borrows err. */
void udp_icmp_error(struct udp_layer *ul, const struct icmp_err *err);
size_t udp_counter_groups(const struct udp_layer *ul, struct counter_group *out, size_t max);

/* `tapstack ss`: one line per socket, like `ss -uan`. */
struct udp_sock_info {
	const char *state;       /* "UNCONN" or "ESTAB", as ss prints them */
	uint32_t laddr, raddr;   /* host order */
	uint16_t lport, rport;
	uint32_t recv_q, send_q; /* receive queue memory, as ss shows it; nothing waits to be sent */
	uintptr_t id;            /* the socket's identity (ss -e's sk:) */
};
void udp_foreach_sock(const struct udp_layer *ul, void (*fn)(const struct udp_sock_info *, void *), void *arg);

/* ---- socket-facing calls (udp_sock.c; used by stack/socket/ only) ---- */

/*
 * Readiness upcalls, as TCP's: the socket layer gives each socket an owner token (nonzero)
 * and the layer one function it calls with that token whenever the socket's poll state may
 * have changed. The call only records the token; it must not call back into UDP.
 */
void udp_set_waker(struct udp_layer *ul, void (*wake)(void *arg, uint32_t owner), void *arg);
void udp_sock_set_owner(struct udp_sock *us, uint32_t owner);

/* A new unbound socket with the default buffer sizes, or NULL (-ENOMEM). */
struct udp_sock *udp_sock_open(struct udp_layer *ul);
/* Frees the socket and every datagram still queued; releases its port. */
void udp_sock_close(struct udp_sock *us);
/* bind(): laddr 0 = any of ours, port 0 = an ephemeral one. -EINVAL if already bound,
 * -EADDRNOTAVAIL for an address that is not ours, -EADDRINUSE when the port is taken. */
int udp_bind(struct udp_sock *us, uint32_t laddr, uint16_t port);
/* connect(): binds an ephemeral port if needed, then receives only from raddr:rport. */
int udp_connect(struct udp_sock *us, uint32_t raddr, uint16_t rport);
/* connect(AF_UNSPEC): forget the peer (and the port, unless bind() chose it). */
void udp_disconnect(struct udp_sock *us);
/*
 * Sends the bytes of iov[0..iovcnt) as one datagram to dst:dport, or to the connected peer
 * when dst is NULL. Returns the bytes sent or -errno: -EMSGSIZE above UDP_PAYLOAD_MAX,
 * -EDESTADDRREQ without a destination, -EACCES to a broadcast without SO_BROADCAST, -EPIPE
 * after shutdown(SHUT_WR), a pending error (once), or IP's -ENETUNREACH / -ENOBUFS.
 */
long udp_sendv(struct udp_sock *us, const struct iovec *iov, int iovcnt, const uint32_t *dst, uint16_t dport);
/*
 * Copies the next datagram into iov (the rest of a longer one is lost unless peek), fills
 * *src and *sport with its sender, and returns the bytes copied; *full is its whole length
 * (MSG_TRUNC). -EAGAIN when nothing is queued, 0 after shutdown(SHUT_RD), or a pending
 * error (once).
 */
long udp_recvv(struct udp_sock *us, const struct iovec *iov, int iovcnt, bool peek, uint32_t *src, uint16_t *sport,
               uint32_t *full);
/* shutdown(): how is SHUT_RD, SHUT_WR or SHUT_RDWR; -ENOTCONN on an unconnected socket. */
int udp_shutdown(struct udp_sock *us, int how);
/* SO_ERROR: returns and clears the pending error (positive errno or 0). */
int udp_take_error(struct udp_sock *us);
/* FIONREAD / SIOCINQ: the payload length of the next datagram (Linux), 0 if none. */
uint32_t udp_next_len(const struct udp_sock *us);
/* poll(2) revents: POLLIN (a datagram or end of input), POLLOUT, POLLERR, POLLRDHUP, POLLHUP. */
short udp_sock_revents(const struct udp_sock *us);

#endif
