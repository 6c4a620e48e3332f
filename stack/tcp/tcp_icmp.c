/*
 * tcp_icmp.c - ICMP errors about our own segments (RFC 1122 4.2.3.9, RFC 5927, RFC 1191),
 * as Linux's tcp_v4_err() handles them.
 *
 * Who calls it: stack.c, with the struct icmp_err that icmp_input() (stack/ip/icmp.c) read
 * from a destination unreachable, time exceeded or parameter problem quoting one of our TCP
 * datagrams. Source quench never gets here (RFC 6633: ignored by ICMP).
 *
 *   1. Find who sent the quoted segment by its 4-tuple: a connection, or a listener's
 *      half-open request (SYN-RECEIVED). TIME-WAIT entries and strangers: counted, ignored.
 *   2. RFC 5927 4.1 / Linux: the quoted sequence number must lie in [SND.UNA, SND.MAX]
 *      (for a request: be our SYN-ACK's ISS), else the error is forged or stale:
 *      OutOfWindowIcmps.
 *   3. Act by type and code:
 *      - frag-needed (3/4, RFC 1191): the IP layer's path MTU cache learns the next-hop MTU
 *        (floor 552 as Linux's ip_rt_min_pmtu), the send MSS drops to pmtu - 40 less the
 *        options every segment carries, and what is in flight is sent again at once at
 *        the new size (Linux tcp_simple_retransmit): IcmpPmtuChanged.
 *      - hard errors (RFC 1122 4.2.3.9: protocol and port unreachable; with Linux's
 *        icmp_err_convert also the "administratively prohibited" codes and parameter
 *        problem) abort an active open in SYN-SENT with the mapped errno (ECONNREFUSED,
 *        EHOSTUNREACH, ...): IcmpHardErrors.
 *      - everything else, and every error in a synchronized state, is soft (RFC 1122
 *        4.2.3.9 MUST NOT abort; Linux without IP_RECVERR): remembered in c->err_soft and
 *        reported by SO_ERROR only when the connection then times out: IcmpSoftErrors.
 *      - a request (SYN-RECEIVED in a listener's queue) is dropped on net/host unreachable,
 *        time exceeded or parameter problem, as Linux's tcp_req_err: IcmpReqDropped.
 *
 * Owns nothing: it borrows the icmp_err and acts on the connection it finds.
 */
#include "tcp/tcp_int.h"

#include <errno.h>

#include "core/byteorder.h"
#include "ip/ip.h"
#include "wire/icmp.h"

#define TCP_IP_HDRS 40u   /* IPv4 + TCP headers without options (RFC 879) */

/* Linux's icmp_err_convert[]: destination unreachable code -> errno and whether it is fatal. */
struct tcp_icmp_unreach {
	int err;
	bool fatal;
};

static const struct tcp_icmp_unreach tcp_icmp_unreach_tab[16] = {
	[0] = { ENETUNREACH, false },   /* net unreachable: soft (RFC 1122 4.2.3.9) */
	[1] = { EHOSTUNREACH, false },  /* host unreachable: soft */
	[2] = { ENOPROTOOPT, true },    /* protocol unreachable: hard */
	[3] = { ECONNREFUSED, true },   /* port unreachable: hard */
	[4] = { EMSGSIZE, false },      /* fragmentation needed: PMTU, handled apart */
	[5] = { EOPNOTSUPP, false },    /* source route failed: soft */
	[6] = { ENETUNREACH, true },    /* destination network unknown */
	[7] = { EHOSTDOWN, true },      /* destination host unknown */
	[8] = { ENONET, true },         /* source host isolated */
	[9] = { ENETUNREACH, true },    /* network administratively prohibited */
	[10] = { EHOSTUNREACH, true },  /* host administratively prohibited */
	[11] = { ENETUNREACH, false },  /* network unreachable for TOS */
	[12] = { EHOSTUNREACH, false }, /* host unreachable for TOS */
	[13] = { EHOSTUNREACH, true },  /* communication administratively prohibited (RFC 1812) */
	[14] = { EHOSTUNREACH, true },  /* host precedence violation */
	[15] = { EHOSTUNREACH, true },  /* precedence cutoff in effect */
};

uint32_t tcp_pmtu_mss(struct tcp_conn *c)
{
	struct tcp_layer *tl = c->tl;
	if (!tl->ip)
		return tcp_adv_mss(tl);
	uint32_t pmtu = ip_pmtu_get(tl->ip, c->hn.raddr);
	c->pmtu = pmtu;
	return pmtu > TCP_IP_HDRS ? pmtu - TCP_IP_HDRS : TCP_MSS_MIN;
}

/* Linux tcp_mtu_to_mss + tcp_sync_mss: the send MSS for the path, as tcp_input.c's
 * tcp_conn_set_mss computes it at the handshake, with the path MTU in place of ours. */
static uint32_t tcp_icmp_mss_for_path(struct tcp_conn *c)
{
	uint32_t m = c->peer_mss;
	uint32_t path = tcp_pmtu_mss(c);
	if (path < m)
		m = path;
	if (c->opts.user_mss && c->opts.user_mss < m)
		m = c->opts.user_mss;
	if (c->ts_ok)
		m -= TCP_TS_OPT_LEN;
	return m < TCP_MSS_MIN ? TCP_MSS_MIN : m;
}

/* RFC 1191: the path is narrower than our segments. Learn it, shrink, resend. */
static void tcp_icmp_frag_needed(struct tcp_conn *c, uint32_t mtu)
{
	struct tcp_layer *tl = c->tl;
	if (!tl->ip)
		return;
	uint32_t before = ip_pmtu_get(tl->ip, c->hn.raddr);
	uint32_t pmtu = ip_pmtu_learn(tl->ip, c->hn.raddr, mtu);
	if (c->state == TCPS_SYN_SENT || c->state == TCPS_SYN_RECEIVED) {
		/* The SYN is small; the MSS is set when the handshake completes, from the cache. */
		if (pmtu < before)
			tl->ctr.IcmpPmtuChanged++;
		else
			tl->ctr.IcmpPmtuIgnored++;
		return;
	}
	uint32_t mss = tcp_icmp_mss_for_path(c);
	if (mss >= c->mss) {
		tl->ctr.IcmpPmtuIgnored++;      /* not smaller than what we send: nothing to do */
		return;
	}
	tl->ctr.IcmpPmtuChanged++;
	uint32_t old_mss = c->mss;
	c->mss = (uint16_t)mss;
	tcp_cc_mss_changed(c, old_mss); /* cwnd keeps its packets (tcp_cc.c) */
	if (c->snd.una == c->snd.max)
		return;
	/* Linux tcp_simple_retransmit: the segments in flight were too big and are lost; send
	 * them again now, cut to the new MSS, without waiting for the RTO and without treating
	 * it as congestion (cwnd stays). Karn: no RTT sample from what is resent. */
	c->flags &= ~TCP_F_RTT_TIMING;
	if (tcp_rec_on(c))
		tcp_sb_mark_too_big(c); /* the scoreboard resends them (tcp_rec_resend cuts) */
	else
		c->snd.nxt = c->snd.una;
	tcp_output(c);
}

/* A listener's half-open request: the quoted segment is our SYN-ACK (Linux tcp_req_err). */
static void tcp_icmp_req(struct tcp_layer *tl, struct tcp_req *r, const struct icmp_err *e, uint32_t seq)
{
	if (seq != r->iss) {
		tl->ctr.OutOfWindowIcmps++;
		return;
	}
	bool drop = e->type == ICMP_PARAM_PROBLEM || e->type == ICMP_TIME_EXCEEDED ||
	            (e->type == ICMP_DEST_UNREACH && (e->code == ICMP_UNREACH_NET || e->code == ICMP_UNREACH_HOST));
	if (!drop || r->cookie) {
		tl->ctr.IcmpIgnored++;
		return;
	}
	tl->ctr.IcmpReqDropped++;
	tcp_req_free(r);
}

/* Borrows e. Every way out counts exactly one Icmp* / OutOfWindowIcmps counter. */
void tcp_icmp_error(struct tcp_layer *tl, const struct icmp_err *e)
{
	if (e->tlen < 8) {
		tl->ctr.IcmpIgnored++;          /* icmp.c guarantees 8 bytes; stay safe anyway */
		return;
	}
	uint16_t lport = get_be16(e->t + 0), rport = get_be16(e->t + 2);
	uint32_t seq = get_be32(e->t + 4);
	struct tcp_hnode *n = tcp_hash_lookup4(&tl->conns, e->src, lport, e->dst, rport);
	if (!n || n->kind == TCP_HK_TW) {
		tl->ctr.IcmpNoConnection++;     /* Linux: TIME-WAIT ignores ICMP too */
		return;
	}
	if (n->kind == TCP_HK_REQ) {
		tcp_icmp_req(tl, container_of(n, struct tcp_req, hn), e, seq);
		return;
	}
	if (n->kind != TCP_HK_CONN) {
		tl->ctr.IcmpNoConnection++;
		return;
	}
	struct tcp_conn *c = container_of(n, struct tcp_conn, hn);
	if (c->state == TCPS_CLOSED || c->state == TCPS_LISTEN) {
		tl->ctr.IcmpNoConnection++;
		return;
	}
	/* RFC 5927 4.1 (and Linux): only an error about data we sent and is not yet acked. */
	if (seq_lt(seq, c->snd.una) || seq_gt(seq, c->snd.max)) {
		tl->ctr.OutOfWindowIcmps++;
		return;
	}

	int err;
	bool fatal;
	switch (e->type) {
	case ICMP_DEST_UNREACH:
		if (e->code >= 16) {
			tl->ctr.IcmpIgnored++;
			return;
		}
		if (e->code == ICMP_UNREACH_NEEDFRAG) {
			tcp_icmp_frag_needed(c, e->next_hop_mtu);
			return;
		}
		err = tcp_icmp_unreach_tab[e->code].err;
		fatal = tcp_icmp_unreach_tab[e->code].fatal;
		break;
	case ICMP_TIME_EXCEEDED:
		err = EHOSTUNREACH;    /* a routing loop or a TTL too small: soft */
		fatal = false;
		break;
	case ICMP_PARAM_PROBLEM:
		err = EPROTO;          /* our header was bad for someone: hard, as Linux */
		fatal = true;
		break;
	default:
		tl->ctr.IcmpIgnored++;
		return;
	}
	/* RFC 1122 4.2.3.9: a hard error aborts a connection attempt; in a synchronized state
	 * every error is soft (RFC 5461; Linux without IP_RECVERR). */
	if (fatal && c->state == TCPS_SYN_SENT) {
		tl->ctr.IcmpHardErrors++;
		tcp_conn_abort(c, err);
		return;
	}
	tl->ctr.IcmpSoftErrors++;
	c->err_soft = err;
	c->err_soft_una = c->snd.una;
}
