/*
 * udp.c - UDP input and the bound-port table (RFC 768, RFC 1122 4.1).
 *
 * Input (udp_input, called by stack.c with a datagram ipv4_input delivered): validates in
 * the order a datagram can be trusted - the 8-byte header is there, the length field fits
 * the IP payload (a shorter one trims it: the rest is not UDP's), the checksum with its
 * pseudo-header verifies unless it is 0 ("none", RFC 768; RFC 1122 4.1.3.4 lets a host
 * accept it) - then finds the socket by destination port. Unicast goes to the one best
 * match (a socket connected to this sender beats one bound to our address, which beats a
 * wildcard bind; Linux's compute_score); a broadcast goes to every socket on the port. A
 * unicast datagram nobody holds a port for is answered with ICMP port unreachable (RFC 1122
 * 4.1.3.1) - UDP's "connection refused"; a broadcast nobody wants is dropped silently.
 *
 * Queueing: the datagram stays in its packet buffer; a socket's queue is bounded by
 * SO_RCVBUF counted in buffer sizes (Linux's truesize), and admits a datagram while it holds
 * no more than that, so one datagram of any size always fits an empty queue; and all queues
 * together hold at most mem_max (Linux's udp_mem), so sockets nobody reads cannot take
 * every packet buffer from TCP and the rest. A small
 * datagram that arrived in a 64 KiB buffer (the device's GRO receive buffers) is copied into
 * a small one first, so a queue of small datagrams does not pin the few large buffers.
 *
 * ICMP errors about our datagrams (udp_icmp_error) are reported as Linux does without
 * IP_RECVERR: only a hard error, only to a socket connected to the peer it quotes.
 *
 * One drop exit per input function, each with its named counter. Owns the port table.
 */
#include "udp/udp_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/checksum.h"
#include "ip/ip.h"
#include "wire/icmp.h"
#include "wire/ipv4.h"
#include "wire/udp.h"

static const char *const udp_counter_names[] = { UDP_COUNTERS(COUNTER_NAME) };

void udp_config_default(struct udp_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->rmem_default = 212992;
	cfg->wmem_default = 212992;
	cfg->rmem_max = 212992;
	cfg->wmem_max = 212992;
	cfg->mem_max = 4u << 20;
	cfg->port_lo = IP_LOCAL_PORT_LO;
	cfg->port_hi = IP_LOCAL_PORT_HI;
}

int udp_init(struct udp_layer *ul, struct core *core, struct ip_layer *ip, const struct udp_config *cfg)
{
	memset(ul, 0, sizeof(*ul));
	if (cfg->port_lo == 0 || cfg->port_lo > cfg->port_hi)
		return -EINVAL;
	ul->core = core;
	ul->ip = ip;
	ul->cfg = *cfg;
	return 0;
}

void udp_destroy(struct udp_layer *ul)
{
	while (ul->all)
		udp_sock_close(ul->all);
}

/* ---- the port table ---- */

static struct udp_sock **udp_bucket(struct udp_layer *ul, uint16_t port)
{
	return &ul->ports[port & (UDP_HASH_BUCKETS - 1)];
}

static bool udp_port_conflict(struct udp_layer *ul, const struct udp_sock *us, uint32_t laddr, uint16_t port)
{
	for (const struct udp_sock *o = *udp_bucket(ul, port); o; o = o->hnext) {
		if (o == us || o->lport != port)
			continue;
		if (o->laddr && laddr && o->laddr != laddr)
			continue;                       /* different addresses do not overlap */
		if (!(o->reuseaddr && us->reuseaddr))
			return true;
	}
	return false;
}

int udp_port_take(struct udp_layer *ul, struct udp_sock *us, uint32_t laddr, uint16_t port)
{
	if (port == 0) {
		uint32_t range = (uint32_t)ul->cfg.port_hi - ul->cfg.port_lo + 1;
		uint32_t start = rng_u32(&ul->core->rng) % range;
		uint32_t i;
		for (i = 0; i < range; i++) {
			uint16_t p = (uint16_t)(ul->cfg.port_lo + (start + i) % range);
			/* An ephemeral port is one nobody holds at all, reuse or not (Linux). */
			bool used = false;
			for (const struct udp_sock *o = *udp_bucket(ul, p); o && !used; o = o->hnext)
				used = o->lport == p;
			if (!used) {
				port = p;
				break;
			}
		}
		if (i == range)
			return -EADDRINUSE;
	} else if (udp_port_conflict(ul, us, laddr, port)) {
		return -EADDRINUSE;
	}
	struct udp_sock **b = udp_bucket(ul, port);
	us->laddr = laddr;
	us->lport = port;
	us->hnext = *b;
	*b = us;
	us->bound = true;
	return 0;
}

void udp_port_release(struct udp_layer *ul, struct udp_sock *us)
{
	if (!us->bound)
		return;
	for (struct udp_sock **pp = udp_bucket(ul, us->lport); *pp; pp = &(*pp)->hnext)
		if (*pp == us) {
			*pp = us->hnext;
			break;
		}
	us->hnext = NULL;
	us->bound = false;
	us->lport = 0;
}

/*
 * How well us matches a datagram src:sport -> dst:dport: -1 not at all, else higher is
 * better (Linux compute_score: a connected socket beats an address bind beats a wildcard).
 */
static int udp_match(const struct udp_sock *us, uint32_t src, uint16_t sport, uint32_t dst, uint16_t dport,
                     bool broadcast)
{
	int score = 0;
	if (us->lport != dport || us->shut_rd)
		return -1;
	if (us->laddr) {
		/* A broadcast reaches only wildcard binds and binds to that broadcast address. */
		if (us->laddr != dst)
			return -1;
		score += 2;
	}
	if (us->rport) {
		if (us->raddr != src || us->rport != sport || broadcast)
			return -1;
		score += 4;
	}
	return score;
}

/* ---- input ---- */

/*
 * Queues pb (data at the UDP header, user = source address) on us, or drops it when the
 * queue already holds SO_RCVBUF bytes (Linux __udp_enqueue_schedule_skb). Takes pb.
 */
static void udp_queue(struct udp_layer *ul, struct udp_sock *us, struct pbuf *pb)
{
	uint64_t *reason = NULL;
	if (us->rmem > us->rcvbuf)
		reason = &ul->cnt.RcvbufErrors;
	else if (ul->rmem + udp_truesize(pb) > ul->cfg.mem_max)
		reason = &ul->cnt.MemErrors;   /* Linux udp_mem: many queues must not empty the pool */
	if (reason) {
		(*reason)++;
		ul->cnt.InErrors++;
		us->drops++;
		pbuf_free(pb);
		return;
	}
	/* A small datagram in a 64 KiB receive buffer moves to a small one (Linux skb_condense). */
	if (pb->cls != 0 && pb->len <= PBUF_SMALL_CAP) {
		struct pbuf *small = pbuf_alloc(&ul->core->pool, 0, pb->len);
		if (small) {
			memcpy(pbuf_put(small, pb->len), pb->data, pb->len);
			small->user = pb->user;
			pbuf_free(pb);
			pb = small;
		}
	}
	us->rmem += udp_truesize(pb);
	ul->rmem += udp_truesize(pb);
	pbuf_queue_push(&us->rcvq, pb);
	ul->cnt.InDatagrams++;
	udp_wake(us);
}

/*
 * A broadcast to every socket on the port (RFC 1122 is silent; Linux delivers to all): a copy
 * each, the last one gets pb itself. True when pb was taken; false when no socket matched and
 * pb is still the caller's.
 */
static bool udp_deliver_broadcast(struct udp_layer *ul, struct pbuf *pb, const struct ipv4_rx *rx, uint16_t sport,
                                  uint16_t dport)
{
	struct udp_sock *last = NULL;
	for (struct udp_sock *us = *udp_bucket(ul, dport); us; us = us->hnext) {
		if (udp_match(us, rx->src, sport, rx->dst, dport, true) < 0)
			continue;
		if (last) {
			struct pbuf *copy = pbuf_clone(&ul->core->pool, pb, 0);
			if (copy) {
				copy->user = pb->user;
				udp_queue(ul, last, copy);
			} else {
				ul->cnt.RcvbufErrors++; /* Linux counts a failed clone so too */
				ul->cnt.InErrors++;
			}
		}
		last = us;
	}
	if (!last)
		return false;
	udp_queue(ul, last, pb);
	return true;
}

void udp_input(struct udp_layer *ul, struct pbuf *pb, const struct ipv4_rx *rx)
{
	struct udp_hdr h;
	uint64_t *reason;

	if (udp_hdr_parse(pb->data, pb->len, &h) < 0) {
		reason = &ul->cnt.drop_truncated;
		goto error;
	}
	/* RFC 768: the length counts header and data. Beyond the IP payload it lies; below it,
	 * the rest of the IP payload is not part of the datagram (Linux trims it too). */
	if (h.len < UDP_HDR_LEN || h.len > pb->len) {
		reason = &ul->cnt.drop_bad_length;
		goto error;
	}
	pbuf_trim(pb, h.len);
	/* RFC 1122 4.1.3.4: a datagram with a checksum that fails is discarded silently; 0 means
	 * the sender computed none (RFC 768), which RFC 1122 lets a host accept, as Linux does. */
	if (h.csum != 0 && !(pb->flags & PBUF_F_CSUM_OK) &&
	    csum_finish(csum_add(csum_pseudo_ipv4(rx->src, rx->dst, IPPROTO_UDP_NUM, h.len), pb->data, h.len)) != 0) {
		reason = &ul->cnt.InCsumErrors;
		goto error;
	}
	pb->user = rx->src;
	if (rx->broadcast) {
		if (!udp_deliver_broadcast(ul, pb, rx, h.sport, h.dport)) {
			ul->cnt.IgnoredMulti++;
			pbuf_free(pb);
		}
		return;
	}
	struct udp_sock *best = NULL;
	int best_score = -1;
	for (struct udp_sock *us = *udp_bucket(ul, h.dport); us; us = us->hnext) {
		int sc = udp_match(us, rx->src, h.sport, rx->dst, h.dport, false);
		if (sc > best_score) {
			best = us;
			best_score = sc;
		}
	}
	if (!best) {
		/* RFC 1122 4.1.3.1: nobody holds the port - port unreachable, which ICMP sends
		 * rate-limited and never about a broadcast (it consumes pb). */
		ul->cnt.NoPorts++;
		icmp_send_unreachable(ul->ip, pb, rx, ICMP_UNREACH_PORT);
		return;
	}
	udp_queue(ul, best, pb);
	return;

error:
	(*reason)++;
	ul->cnt.InErrors++;
	LOG_DEBUG(&ul->core->log, "udp: drop %s", udp_counter_names[reason - (uint64_t *)&ul->cnt]);
	pbuf_free(pb);
}

/*
 * Linux's icmp_err_convert for destination unreachable: the errno of each code and whether
 * it is "hard" (reported to a connected socket) or soft (ignored without IP_RECVERR).
 */
static int udp_unreach_errno(uint8_t code, bool *hard)
{
	static const struct { uint8_t err; bool hard; } tab[] = {
		{ ENETUNREACH, false }, { EHOSTUNREACH, false }, { ENOPROTOOPT, true }, { ECONNREFUSED, true },
		{ EMSGSIZE, true },     { EOPNOTSUPP, false },  { ENETUNREACH, true }, { EHOSTDOWN, true },
		{ ENONET, true },       { ENETUNREACH, true },  { EHOSTUNREACH, true }, { ENETUNREACH, false },
		{ EHOSTUNREACH, false }, { EHOSTUNREACH, true }, { EHOSTUNREACH, true }, { EHOSTUNREACH, true },
	};
	if (code < sizeof(tab) / sizeof(tab[0])) {
		*hard = tab[code].hard;
		return tab[code].err;
	}
	*hard = false;
	return EHOSTUNREACH;
}

void udp_icmp_error(struct udp_layer *ul, const struct icmp_err *err)
{
	uint16_t sport = get_be16(err->t + UDP_OFF_SPORT), dport = get_be16(err->t + UDP_OFF_DPORT);
	struct udp_sock *found = NULL;
	bool hard = false;
	int e;

	ul->cnt.IcmpErrorsIn++;
	/* The quote is our datagram: its source is our socket, its destination the peer. */
	for (struct udp_sock *us = *udp_bucket(ul, sport); us && !found; us = us->hnext)
		if (us->lport == sport && (!us->laddr || us->laddr == err->src) &&
		    (!us->rport || (us->raddr == err->dst && us->rport == dport)))
			found = us;
	if (!found) {
		ul->cnt.IcmpNoSocket++;
		return;
	}
	switch (err->type) {
	case ICMP_DEST_UNREACH:
		e = udp_unreach_errno(err->code, &hard);
		/* RFC 1191: remember the smaller path (Linux ipv4_sk_update_pmtu). */
		if (err->code == ICMP_UNREACH_NEEDFRAG && err->next_hop_mtu)
			ip_pmtu_learn(ul->ip, err->dst, err->next_hop_mtu);
		break;
	case ICMP_PARAM_PROBLEM:
		e = EPROTO;
		hard = true;
		break;
	default:                                        /* time exceeded: soft */
		e = EHOSTUNREACH;
		break;
	}
	/* Linux __udp4_lib_err without IP_RECVERR: only hard errors, only when connected. */
	if (!hard || !found->rport) {
		ul->cnt.IcmpIgnored++;
		return;
	}
	found->err = e;
	ul->cnt.IcmpReported++;
	udp_wake(found);
}

size_t udp_counter_groups(const struct udp_layer *ul, struct counter_group *out, size_t max)
{
	if (max == 0)
		return 0;
	out[0] = COUNTER_GROUP("udp", udp_counter_names, &ul->cnt);
	return 1;
}

void udp_foreach_sock(const struct udp_layer *ul, void (*fn)(const struct udp_sock_info *, void *), void *arg)
{
	for (const struct udp_sock *us = ul->all; us; us = us->next) {
		if (!us->bound)
			continue;                       /* ss lists only sockets with a port */
		struct udp_sock_info si = { us->rport ? "ESTAB" : "UNCONN", us->laddr, us->raddr, us->lport, us->rport,
			                    us->rmem, 0, (uintptr_t)us };
		fn(&si, arg);
	}
}
