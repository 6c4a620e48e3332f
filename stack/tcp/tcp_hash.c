/*
 * tcp_hash.c - TCP's lookup tables: the 4-tuple hash that finds a connection, SYN-queue
 * request or TIME-WAIT entry in O(1), the listen table (specific address before wildcard),
 * and the local port reservations behind bind() and ephemeral ports.
 *
 * Called by tcp.c (the input demultiplexer), tcp_listen.c, tcp_conn.c and the socket layer.
 * Owns nothing but the bucket arrays: entries live in their owners (struct tcp_hnode).
 */
#include "tcp/tcp_int.h"
#include "ip/ip.h"

#include <errno.h>
#include <stdlib.h>

static uint32_t tcp_hash4(uint32_t laddr, uint16_t lport, uint32_t raddr, uint16_t rport)
{
	/* Multiplicative mixing is enough for bucket spreading; ISNs use the keyed hash. */
	uint64_t x = ((uint64_t)raddr << 32 | (uint64_t)rport << 16 | lport) ^ ((uint64_t)laddr * 0x9e3779b97f4a7c15ULL);
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	return (uint32_t)x;
}

static uint32_t tcp_hnode_hash(const struct tcp_hnode *n)
{
	if (n->kind == TCP_HK_LISTEN)
		return tcp_hash4(0, n->lport, 0, 0);
	return tcp_hash4(n->laddr, n->lport, n->raddr, n->rport);
}

int tcp_hash_init(struct tcp_hash *h, uint32_t buckets)
{
	h->b = calloc(buckets, sizeof(*h->b));
	if (!h->b)
		return -ENOMEM;
	h->mask = buckets - 1;
	h->count = 0;
	return 0;
}

/* Doubles the table when it averages more than one entry per bucket: lookups stay O(1). */
static void tcp_hash_grow(struct tcp_hash *h)
{
	uint32_t nb = (h->mask + 1) * 2;
	struct tcp_hnode **b = calloc(nb, sizeof(*b));
	if (!b)
		return; /* keep the old table: longer chains, still correct */
	for (uint32_t i = 0; i <= h->mask; i++) {
		struct tcp_hnode *n = h->b[i];
		while (n) {
			struct tcp_hnode *next = n->next;
			uint32_t k = tcp_hnode_hash(n) & (nb - 1);
			n->next = b[k];
			b[k] = n;
			n = next;
		}
	}
	free(h->b);
	h->b = b;
	h->mask = nb - 1;
}

void tcp_hash_insert(struct tcp_hash *h, struct tcp_hnode *n)
{
	if (h->count > h->mask + 1)
		tcp_hash_grow(h);
	uint32_t k = tcp_hnode_hash(n) & h->mask;
	n->next = h->b[k];
	h->b[k] = n;
	n->hashed = true;
	h->count++;
}

/* The connections table, with each port's holders counted beside it (struct tcp_port):
 * connections and TIME-WAIT entries hold their local port while they are hashed, as a
 * Linux socket is in its port's bind bucket until it closes. SYN-queue requests do not
 * (their listener holds the port). */
void tcp_conns_insert(struct tcp_layer *tl, struct tcp_hnode *n)
{
	if (n->hashed)
		return;
	tcp_hash_insert(&tl->conns, n);
	if (n->kind == TCP_HK_CONN || n->kind == TCP_HK_TW) {
		tl->ports[n->lport].conns++;
		tl->ports[n->lport].conns_noreuse += !n->reuse;
	}
}

void tcp_conns_remove(struct tcp_layer *tl, struct tcp_hnode *n)
{
	if (!n->hashed)
		return;
	tcp_hash_remove(&tl->conns, n);
	if (n->kind == TCP_HK_CONN || n->kind == TCP_HK_TW) {
		tl->ports[n->lport].conns--;
		tl->ports[n->lport].conns_noreuse -= !n->reuse;
	}
}

void tcp_hash_remove(struct tcp_hash *h, struct tcp_hnode *n)
{
	if (!n->hashed)
		return;
	struct tcp_hnode **pp = &h->b[tcp_hnode_hash(n) & h->mask];
	while (*pp && *pp != n)
		pp = &(*pp)->next;
	if (*pp) {
		*pp = n->next;
		h->count--;
	}
	n->hashed = false;
	n->next = NULL;
}

struct tcp_hnode *tcp_hash_lookup4(struct tcp_hash *h, uint32_t laddr, uint16_t lport, uint32_t raddr,
                                   uint16_t rport)
{
	struct tcp_hnode *n = h->b[tcp_hash4(laddr, lport, raddr, rport) & h->mask];
	for (; n; n = n->next)
		if (n->lport == lport && n->rport == rport && n->raddr == raddr && n->laddr == laddr)
			return n;
	return NULL;
}

/*
 * A listener bound to the exact address beats one bound to INADDR_ANY. Several listeners of
 * the same address and port (SO_REUSEPORT, each program's or worker's own) share its
 * connections: the peer's address and port pick one, the same one for every segment of a
 * handshake (Linux reuseport_select_sock, by the 4-tuple's hash).
 */
struct tcp_listener *tcp_listener_lookup(struct tcp_layer *tl, uint32_t laddr, uint16_t lport, uint32_t raddr,
                                         uint16_t rport)
{
	struct tcp_hnode *b = tl->listeners.b[tcp_hash4(0, lport, 0, 0) & tl->listeners.mask];
	uint32_t exact = 0, wild = 0;
	for (struct tcp_hnode *n = b; n; n = n->next) {
		if (n->lport != lport)
			continue;
		exact += n->laddr == laddr;
		wild += n->laddr == 0;
	}
	uint32_t group = exact ? exact : wild, want = exact ? laddr : 0;
	if (!group)
		return NULL;
	uint32_t pick = group > 1 ? tcp_hash4(laddr, lport, raddr, rport) % group : 0;
	for (struct tcp_hnode *n = b; n; n = n->next)
		if (n->lport == lport && n->laddr == want && pick-- == 0)
			return container_of(n, struct tcp_listener, hn);
	return NULL;
}

bool tcp_listener_port_conflict(struct tcp_layer *tl, uint32_t laddr, uint16_t lport)
{
	for (struct tcp_hnode *n = tl->listeners.b[tcp_hash4(0, lport, 0, 0) & tl->listeners.mask]; n; n = n->next)
		if (n->lport == lport && (n->laddr == laddr || n->laddr == 0 || laddr == 0))
			return true;
	return false;
}

bool tcp_listener_blocks(struct tcp_layer *tl, uint32_t laddr, uint16_t lport, bool reuseport)
{
	for (struct tcp_hnode *n = tl->listeners.b[tcp_hash4(0, lport, 0, 0) & tl->listeners.mask]; n; n = n->next) {
		if (n->lport != lport || !(n->laddr == laddr || n->laddr == 0 || laddr == 0))
			continue;
		/* Linux: SO_REUSEPORT on both, the same address: one more of the group. */
		if (reuseport && n->laddr == laddr && container_of(n, struct tcp_listener, hn)->opts.reuseport)
			continue;
		return true;
	}
	return false;
}

/* ---- port reservations (bind) ---- */

static bool tcp_port_in_use(struct tcp_layer *tl, uint16_t port)
{
	const struct tcp_port *p = &tl->ports[port];
	return p->binds || p->conns || tcp_listener_port_conflict(tl, 0, port);
}

int tcp_port_bind(struct tcp_layer *tl, uint32_t laddr, uint16_t *port, bool reuseaddr, bool reuseport)
{
	if (tl->ip && !ip_bind_addr_ok(tl->ip, laddr))
		return -EADDRNOTAVAIL;
	if (*port == 0) {
		uint32_t range = (uint32_t)tl->cfg.port_hi - tl->cfg.port_lo + 1;
		uint32_t start = rng_u32(&tl->core->rng) % range;
		for (uint32_t i = 0; i < range; i++) {
			uint16_t p = (uint16_t)(tl->cfg.port_lo + (start + i) % range);
			if (!tcp_port_in_use(tl, p)) {
				*port = p;
				tl->ports[p].binds++;
				tl->ports[p].binds_noreuseport += !reuseport;
				return 0;
			}
		}
		return -EADDRINUSE;
	}
	/* Linux (inet_bind_conflict): any holder of the port makes it busy, unless both it
	 * and the binder set SO_REUSEADDR and it is not listening. A connection or a TIME-WAIT
	 * entry on the port holds it too: restarting a server without SO_REUSEADDR while its
	 * old connections wait in TIME-WAIT is EADDRINUSE, the classic. (Per port, not per
	 * address: a bind to another of our addresses is refused too, where Linux allows it.)
	 * Other binders' own SO_REUSEADDR is not kept: they count as having set it. SO_REUSEPORT
	 * on the binder and on every other binder and listener of the port lets them share it
	 * (Linux: the same user's sockets; here all are one program's). */
	const struct tcp_port *p = &tl->ports[*port];
	bool shared = reuseport && !p->binds_noreuseport && !tcp_listener_blocks(tl, laddr, *port, true);
	if (!shared && (tcp_listener_port_conflict(tl, 0, *port) || p->conns_noreuse ||
	                ((p->binds || p->conns) && !reuseaddr)))
		return -EADDRINUSE;
	tl->ports[*port].binds++;
	tl->ports[*port].binds_noreuseport += !reuseport;
	return 0;
}

void tcp_port_unbind(struct tcp_layer *tl, uint16_t port, bool reuseport)
{
	if (!reuseport && tl->ports[port].binds_noreuseport)
		tl->ports[port].binds_noreuseport--;
	if (tl->ports[port].binds)
		tl->ports[port].binds--;
}

