/*
 * tcp_mem.c - one limit on the buffer memory of all connections together, as Linux's
 * tcp_mem (ip-sysctl.rst: "low", "pressure", "high"; net/core/sock.c __sk_mem_raise_allocated).
 *
 * Each connection's buffers may grow to several MiB (auto-tuning up to rmem_max and
 * wmem_max), so without a shared bound enough busy connections exhaust the process. What is
 * charged: the storage of every send and receive ring (tcp_buf.c, when it is allocated or
 * grows) and the truesize of every out-of-order segment held (tcp_ooo.c). Three marks:
 *
 *   below mem_pressure       buffers grow as each connection needs;
 *   above it ("pressure")    until use falls below mem_low again, auto-tuning stops: no
 *                            connection's SO_RCVBUF/SO_SNDBUF grows (MemoryPressures counts
 *                            each entry), existing rings still fill up to what they are;
 *   at mem_high              nothing grows: received data that would need more is dropped
 *                            before it is acknowledged (drop_mem_limit; the peer
 *                            retransmits it), an out-of-order segment is not queued, and
 *                            send() takes only what fits in the ring as it is
 *                            (SendMemLimited).
 *
 * Nothing is ever lost from an acknowledged stream: the limit only refuses bytes we have not
 * ACKed yet, or the application's bytes before send() accepted them.
 *
 * Called by tcp_buf.c, tcp_ooo.c, tcp_input.c and tcp_conn.c. Owns no memory: only the sum.
 */
#include "tcp/tcp_int.h"

#include <errno.h>

static void tcp_mem_update(struct tcp_layer *tl)
{
	if (!tl->mem_under_pressure && tl->mem_used > tl->cfg.mem_pressure) {
		tl->mem_under_pressure = true;
		tl->ctr.MemoryPressures++;
	} else if (tl->mem_under_pressure && tl->mem_used < tl->cfg.mem_low) {
		tl->mem_under_pressure = false;
	}
}

bool tcp_mem_fits(const struct tcp_layer *tl, uint64_t n)
{
	return tl->mem_used + n <= tl->cfg.mem_high;
}

int tcp_mem_charge(struct tcp_layer *tl, uint64_t n)
{
	if (!tcp_mem_fits(tl, n))
		return -ENOBUFS;
	tl->mem_used += n;
	tcp_mem_update(tl);
	return 0;
}

void tcp_mem_uncharge(struct tcp_layer *tl, uint64_t n)
{
	tl->mem_used = n > tl->mem_used ? 0 : tl->mem_used - n;
	tcp_mem_update(tl);
}

bool tcp_mem_under_pressure(const struct tcp_layer *tl)
{
	return tl->mem_under_pressure;
}
