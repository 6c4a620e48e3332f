/*
 * udp_int.h - what udp.c and udp_sock.c share and nobody else sees: the bound-port table.
 */
#ifndef TAPSTACK_UDP_UDP_INT_H
#define TAPSTACK_UDP_UDP_INT_H

#include "udp/udp.h"

/*
 * Puts us in the port table at laddr:port (port 0: an ephemeral port from the configured
 * range, picked from a random start as Linux does). Linux's rule (udp_lib_lport_inuse): the
 * port is taken when another socket holds it on an overlapping address (the same one, or
 * either is 0), unless both set SO_REUSEADDR. 0 or -EADDRINUSE.
 */
int udp_port_take(struct udp_layer *ul, struct udp_sock *us, uint32_t laddr, uint16_t port);
/* Takes us out of the port table (no-op when not bound). */
void udp_port_release(struct udp_layer *ul, struct udp_sock *us);

/* The socket's poll state may have changed: tell the socket layer (udp_set_waker). */
static inline void udp_wake(const struct udp_sock *us)
{
	if (us->ul->wake && us->owner)
		us->ul->wake(us->ul->wake_arg, us->owner);
}

/* What a queued datagram costs its socket's SO_RCVBUF: the whole buffer (Linux's truesize). */
static inline uint32_t udp_truesize(const struct pbuf *pb)
{
	return pb->cap + (uint32_t)sizeof(struct pbuf);
}

#endif
