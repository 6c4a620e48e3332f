/*
 * tcp_isn.c - initial sequence numbers by RFC 6528 (and RFC 9293 3.4.1):
 *
 *     ISN = M + F(localip, localport, remoteip, remoteport, secretkey)
 *
 * M is a clock that ticks every 4 microseconds (taken from core->now, never from the
 * system clock), F is SipHash-2-4 keyed with 128 random bits drawn when the stack starts
 * (tcp_init). An off-path attacker can therefore not predict the ISN of a connection, while
 * successive connections with the same 4-tuple still get increasing ISNs, which keeps old
 * duplicates of an earlier incarnation out of the new window.
 * Called by tcp_listen.c (SYN-ACK) and tcp_conn.c (active open).
 */
#include "tcp/tcp_int.h"

#include <string.h>

uint32_t tcp_isn(const struct tcp_layer *tl, uint32_t laddr, uint16_t lport, uint32_t raddr, uint16_t rport)
{
	uint8_t msg[12];
	memcpy(msg, &laddr, 4);
	memcpy(msg + 4, &raddr, 4);
	memcpy(msg + 8, &lport, 2);
	memcpy(msg + 10, &rport, 2);
	uint32_t f = (uint32_t)siphash24(tl->isn_key, msg, sizeof(msg));
	uint32_t m = (uint32_t)(tl->core->now / TCP_ISN_TICK_US);
	return m + f;
}
