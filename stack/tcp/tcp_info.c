/*
 * tcp_info.c - what a connection looks like from outside: the rows of `tapstack ss`
 * (tcp_foreach_sock, like ss -tan) and getsockopt(TCP_INFO) in Linux's struct tcp_info
 * layout. Read only: nothing here changes a connection.
 */
#include "tcp/tcp_int.h"

#include <netinet/tcp.h>
#include <string.h>

/* The names `ss -tan` prints. */
static const char *const tcp_ss_names[TCPS_NSTATES] = {
	[TCPS_CLOSED] = "UNCONN",     [TCPS_LISTEN] = "LISTEN",     [TCPS_SYN_SENT] = "SYN-SENT",
	[TCPS_SYN_RECEIVED] = "SYN-RECV", [TCPS_ESTABLISHED] = "ESTAB", [TCPS_FIN_WAIT_1] = "FIN-WAIT-1",
	[TCPS_FIN_WAIT_2] = "FIN-WAIT-2", [TCPS_CLOSE_WAIT] = "CLOSE-WAIT", [TCPS_CLOSING] = "CLOSING",
	[TCPS_LAST_ACK] = "LAST-ACK", [TCPS_TIME_WAIT] = "TIME-WAIT",
};

/* ss -o: the deadline that comes first, named as ss names its timers. */
static void tcp_sock_deadline(struct tcp_sock_info *si, const char *name, usec_t deadline, usec_t now,
                              uint32_t retries)
{
	usec_t left = deadline > now ? deadline - now : 0;
	if (si->timer && si->timer_left <= left)
		return;
	si->timer = name;
	si->timer_left = left;
	si->timer_retries = retries;
}

static void tcp_sock_timer(struct tcp_sock_info *si, const char *name, const struct timer *t, usec_t now,
                           uint32_t retries)
{
	if (timer_armed(t))
		tcp_sock_deadline(si, name, t->deadline, now, retries);
}

/* Payload bytes taken in order: RCV.NXT past the peer's SYN, less its FIN once taken
 * (32 bits of sequence space, as tcpi_bytes_acked). */
static uint32_t tcp_bytes_received(const struct tcp_conn *c)
{
	uint32_t got = c->rcv.nxt - c->rcv.irs;
	uint32_t n = got ? got - 1u : 0;
	if ((c->flags & TCP_F_FIN_RCVD) && n)
		n--;
	return n;
}

static void tcp_conn_sock_info(const struct tcp_conn *c, struct tcp_sock_info *si)
{
	usec_t now = c->tl->core->now;
	si->state = tcp_ss_names[c->state];
	si->recv_q = c->rcvq.bytes;
	si->send_q = c->sndq.len; /* not yet acknowledged, sent or not (as ss) */
	si->conn = c;
	/* The SYN and FIN take a sequence number each but are no bytes. */
	uint32_t acked = c->snd.una - c->snd.iss;
	si->bytes_acked = acked ? acked - 1u : 0;
	si->bytes_received = tcp_bytes_received(c);
	/* The scoreboard counts bytes; ss shows segments, as Linux's lost_out and sacked_out. */
	uint32_t mss = c->mss ? c->mss : 1;
	si->lost = (c->sb.lost + mss - 1) / mss;
	si->sacked = (c->sb.sacked + mss - 1) / mss;
	si->retrans_out = (c->sb.retrans + mss - 1) / mss;
	tcp_sock_timer(si, (c->flags & TCP_F_PERSIST) ? "persist" : "on", &c->rtx_timer, now, c->retries);
	tcp_sock_timer(si, c->state == TCPS_FIN_WAIT_2 ? "timewait" : "keepalive", &c->misc_timer, now, c->ka_probes);
}

void tcp_foreach_sock(struct tcp_layer *tl, void (*fn)(const struct tcp_sock_info *, void *), void *arg)
{
	struct tcp_sock_info si;
	usec_t now = tl->core->now;
	for (uint32_t i = 0; i <= tl->listeners.mask; i++)
		for (struct tcp_hnode *n = tl->listeners.b[i]; n; n = n->next) {
			struct tcp_listener *l = container_of(n, struct tcp_listener, hn);
			si = (struct tcp_sock_info){ .state = "LISTEN", .laddr = n->laddr, .lport = n->lport,
			                             .recv_q = l->acceptq_len, .send_q = l->backlog, .id = (uintptr_t)l };
			fn(&si, arg);
		}
	for (uint32_t i = 0; i <= tl->conns.mask; i++)
		for (struct tcp_hnode *n = tl->conns.b[i]; n; n = n->next) {
			si = (struct tcp_sock_info){ .laddr = n->laddr, .raddr = n->raddr, .lport = n->lport,
			                             .rport = n->rport, .id = (uintptr_t)n };
			if (n->kind == TCP_HK_REQ) {
				const struct tcp_req *r = container_of(n, struct tcp_req, hn);
				si.state = "SYN-RECV";
				tcp_sock_timer(&si, "on", &r->timer, now, r->retrans);
			} else if (n->kind == TCP_HK_TW) {
				si.state = "TIME-WAIT";
				tcp_sock_deadline(&si, "timewait", container_of(n, struct tcp_tw, hn)->expires, now, 0);
			} else {
				tcp_conn_sock_info(container_of(n, struct tcp_conn, hn), &si);
			}
			fn(&si, arg);
		}
}

/* Linux's numbering of states in tcp_info (include/net/tcp_states.h). */
static const uint8_t tcp_linux_state[TCPS_NSTATES] = {
	[TCPS_CLOSED] = 7, [TCPS_LISTEN] = 10, [TCPS_SYN_SENT] = 2, [TCPS_SYN_RECEIVED] = 3,
	[TCPS_ESTABLISHED] = 1, [TCPS_FIN_WAIT_1] = 4, [TCPS_FIN_WAIT_2] = 5, [TCPS_CLOSE_WAIT] = 8,
	[TCPS_CLOSING] = 11, [TCPS_LAST_ACK] = 9, [TCPS_TIME_WAIT] = 6,
};

static void tcp_chrono_set(struct tcp_conn *c, enum tcp_chrono type)
{
	usec_t now = c->tl->core->now;
	if (c->chrono_type > TCP_CHRONO_UNSPEC)
		c->chrono_stat[c->chrono_type - 1] += now - c->chrono_start;
	c->chrono_start = now;
	c->chrono_type = (uint8_t)type;
}

void tcp_chrono_start(struct tcp_conn *c, enum tcp_chrono type)
{
	if (type > c->chrono_type)
		tcp_chrono_set(c, type);
}

void tcp_chrono_stop(struct tcp_conn *c, enum tcp_chrono type)
{
	if (c->sndq.len == 0)
		tcp_chrono_set(c, TCP_CHRONO_UNSPEC);
	else if (type == c->chrono_type)
		tcp_chrono_set(c, TCP_CHRONO_BUSY);
}

static void tcp_conn_info_more(const struct tcp_conn *c, struct tcp_info_more *m)
{
	usec_t stat[3];
	memset(m, 0, sizeof(*m));
	for (int i = 0; i < 3; i++) {
		stat[i] = c->chrono_stat[i];
		if (c->chrono_type == i + 1)
			stat[i] += c->tl->core->now - c->chrono_start;
	}
	m->tcpi_busy_time = stat[0] + stat[1] + stat[2]; /* limited time is busy time too (Linux) */
	m->tcpi_rwnd_limited = stat[1];
	m->tcpi_sndbuf_limited = stat[2];
	m->tcpi_min_rtt = tcp_rtt_min_us(&c->rtt) ? tcp_rtt_min_us(&c->rtt) : UINT32_MAX;
	m->tcpi_delivery_rate = c->rate.bytes_per_sec; /* tcp_rate.c */
	uint32_t sent = c->snd.nxt - c->snd.una;
	m->tcpi_notsent_bytes = c->sndq.len > sent ? c->sndq.len - sent : 0;
	if (c->state >= TCPS_ESTABLISHED) {
		/* Data bytes acknowledged: SND.UNA past the SYN, less our FIN once acked (32 bits). */
		uint32_t acked = c->snd.una - c->snd.iss - 1;
		if ((c->flags & TCP_F_FIN_SENT) && seq_gt(c->snd.una, c->fin_seq) && acked)
			acked--;
		m->tcpi_bytes_acked = acked;
		m->tcpi_bytes_received = tcp_bytes_received(c);
		/* Linux counts the SYN's (or SYN-ACK's) delivery too. */
		m->tcpi_delivered = c->delivered_pkts + 1u;
	}
	m->tcpi_bytes_sent = c->bytes_sent;
	m->tcpi_bytes_retrans = c->bytes_retrans;
	m->tcpi_dsack_dups = c->dsack_dups;
	m->tcpi_reord_seen = c->rec.reord_seen;
	m->tcpi_rcv_ooopack = c->rcv_ooopack;
	m->tcpi_snd_wnd = c->snd.wnd;
	m->tcpi_rcv_wnd = c->rcv.wnd;
}

void tcp_conn_info(const struct tcp_conn *c, struct tcp_info *ti, struct tcp_info_more *more)
{
	usec_t now = c->tl->core->now;
	uint32_t mss = c->mss ? c->mss : 1;
	memset(ti, 0, sizeof(*ti));
	ti->tcpi_state = tcp_linux_state[c->state];
	/* Linux ca_state: 0 Open, 1 Disorder, 3 Recovery, 4 Loss. */
	if (tcp_rec_on(c)) {
		/* The scoreboard's state and marks, in Linux's units (segments). */
		ti->tcpi_ca_state = c->rec.ca_state;
		ti->tcpi_sacked = (c->sb.sacked + mss - 1) / mss;
		ti->tcpi_lost = (c->sb.lost + mss - 1) / mss;
		ti->tcpi_retrans = (c->sb.retrans + mss - 1) / mss;
		ti->tcpi_reordering = c->rec.reordering ? c->rec.reordering : TCP_REORDERING_INIT;
	} else {
		ti->tcpi_ca_state = (c->flags & TCP_F_IN_RECOVERY) ? 3 : c->backoff && !(c->flags & TCP_F_PERSIST) ? 4 : c->dupacks ? 1 : 0;
		ti->tcpi_reordering = TCP_REORDERING_INIT;
	}
	ti->tcpi_retransmits = c->retries;
	ti->tcpi_probes = c->probes_out ? c->probes_out : (c->flags & TCP_F_PERSIST) ? c->backoff : c->ka_probes;
	ti->tcpi_backoff = c->backoff;
	ti->tcpi_options = (uint8_t)((c->ts_ok ? TCPI_OPT_TIMESTAMPS : 0) | (c->sack_ok ? TCPI_OPT_SACK : 0) |
	                             (c->wscale_ok ? TCPI_OPT_WSCALE : 0));
	ti->tcpi_snd_wscale = c->snd_wscale & 15;
	ti->tcpi_rcv_wscale = c->rcv_wscale & 15;
	ti->tcpi_rto = c->rtt.rto_us;
	ti->tcpi_ato = c->ato_us;
	ti->tcpi_snd_mss = c->mss;
	ti->tcpi_rcv_mss = c->rcv_mss;
	ti->tcpi_unacked = (c->snd.max - c->snd.una + mss - 1) / mss;
	ti->tcpi_last_data_recv = (uint32_t)((now - c->lrcvtime) / USEC_PER_MS); /* data, not ACKs */
	ti->tcpi_pmtu = c->pmtu ? c->pmtu : tcp_adv_mss(c->tl) + 40u; /* the path MTU once known (tcp_icmp.c) */
	ti->tcpi_rtt = c->rtt.srtt_us;
	ti->tcpi_rttvar = c->rtt.rttvar_us;
	ti->tcpi_snd_ssthresh = tcp_cc_ssthresh(c);
	ti->tcpi_snd_cwnd = tcp_cc_cwnd(c);
	ti->tcpi_advmss = c->adv_mss;
	ti->tcpi_rcv_rtt = c->rcv_rtt.rtt_us8 >> 3;     /* the receiver's RTT (tcp_rcvbuf.c) */
	ti->tcpi_rcv_space = c->rcvq_space.space;      /* bytes read in its last round trip */
	ti->tcpi_total_retrans = c->total_retrans;
	tcp_conn_info_more(c, more);
}

void tcp_listener_info(const struct tcp_listener *l, struct tcp_info *ti)
{
	memset(ti, 0, sizeof(*ti));
	ti->tcpi_state = 10;
	ti->tcpi_unacked = l->acceptq_len;  /* Linux reports the accept queue here for listeners */
	ti->tcpi_sacked = l->backlog;
}

void tcp_conn_handshake(const struct tcp_conn *c, struct ts_handshake *hs)
{
	const struct tcp_hs_rec *r = &c->hs;
	*hs = (struct ts_handshake){
		.syn_at_us = r->syn_at_us,
		.synack_at_us = r->syn_at_us, /* answered at once (tcp_listen.c) */
		.ack_at_us = r->ack_at_us,
		.accept_at_us = r->accept_at_us,
		.client_isn = c->rcv.irs,
		.server_isn = c->snd.iss,
		.syn_tsval = r->syn_tsval,
		.syn_mss = r->syn_mss,
		.syn_win = r->syn_win,
		.synack_mss = r->synack_mss,
		.synack_win = r->synack_win,
		.syn_wscale = r->syn_wscale,
		.synack_wscale = r->synack_wscale,
		.syn_sack = r->syn_sack,
		.syn_ts = r->syn_ts,
		.synack_sack = r->synack_sack,
		.synack_ts = r->synack_ts,
	};
}
