/*
 * ss.c - `tapstack ss`: ss(8)'s options and filters over the stack's socket table.
 *
 * Rows come from each protocol's walker (tcp_foreach_sock, udp_foreach_sock). -i prints what `ss -ti` prints from the connection's
 * TCP_INFO, -o its pending timer, -e its identity. Used by the program's control socket
 * (apps/tapstack.c); tests/net/test_program.sh checks each option against a live stack.
 */
#include "apps/cli/ss.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/tcp.h>

#include "stack.h"
#include "wire/ipv4.h"

/* ss's state names (the filter words) beside the names the rows carry. */
static const struct {
	const char *filter, *row;
} ss_states[] = {
	{ "established", "ESTAB" },   { "syn-sent", "SYN-SENT" },     { "syn-recv", "SYN-RECV" },
	{ "fin-wait-1", "FIN-WAIT-1" }, { "fin-wait-2", "FIN-WAIT-2" }, { "time-wait", "TIME-WAIT" },
	{ "close-wait", "CLOSE-WAIT" }, { "last-ack", "LAST-ACK" },     { "closing", "CLOSING" },
	{ "listening", "LISTEN" },    { "closed", "UNCONN" },
};
#define SS_NSTATES (sizeof(ss_states) / sizeof(ss_states[0]))
#define SS_BIT(i) (1u << (i))
#define SS_ALL ((1u << SS_NSTATES) - 1u)
#define SS_LISTEN SS_BIT(9)
#define SS_CLOSED SS_BIT(10)
#define SS_CONNECTED (SS_ALL & ~SS_LISTEN & ~SS_CLOSED)

/* ss(8)'s state groups. */
static const struct {
	const char *name;
	unsigned bits;
} ss_groups[] = {
	{ "all", SS_ALL },
	{ "connected", SS_CONNECTED },
	{ "synchronized", SS_CONNECTED & ~SS_BIT(1) },
	{ "bucket", SS_BIT(2) | SS_BIT(5) },
	{ "big", SS_ALL & ~SS_BIT(2) & ~SS_BIT(5) },
};

const char ss_usage[] =
	"usage: tapstack ss [-t] [-u] [-l] [-a] [-n] [-i] [-e] [-o] [state STATE]... [sport = N] [dport = N]\n"
	"                   [--tap NAME | --ctl PATH]\n"
	"  the running stack's sockets, as ss(8) shows the kernel's\n"
	"  -t, -u     TCP, UDP sockets (default: TCP)\n"
	"  -l, -a     only listening sockets; all sockets (default: all but listening)\n"
	"  -n         numeric (names are never resolved)\n"
	"  -i         TCP internals: wscale, rto, rtt/rttvar, mss, cwnd, ssthresh, bytes, retrans\n"
	"  -e         extended: the socket's identity\n"
	"  -o         timers: timer:(NAME,EXPIRES,RETRIES)\n"
	"  state S    established, syn-sent, syn-recv, fin-wait-1, fin-wait-2, time-wait,\n"
	"             close-wait, last-ack, closing, listening, closed, or a group: all,\n"
	"             connected, synchronized, bucket, big (repeat for several)\n"
	"  sport = N, dport = N   only that local or remote port ('sport = :N' also works)\n";

static int ss_fail(char *err, size_t errlen, const char *fmt, const char *word)
{
	snprintf(err, errlen, fmt, word);
	return -1;
}

static int ss_state_bits(const char *w, unsigned *bits)
{
	for (size_t i = 0; i < SS_NSTATES; i++)
		if (strcmp(w, ss_states[i].filter) == 0) {
			*bits = SS_BIT(i);
			return 0;
		}
	for (size_t i = 0; i < sizeof(ss_groups) / sizeof(ss_groups[0]); i++)
		if (strcmp(w, ss_groups[i].name) == 0) {
			*bits = ss_groups[i].bits;
			return 0;
		}
	return -1;
}

static int ss_port(const char *w)
{
	if (*w == ':')
		w++;
	char *end;
	long v = strtol(w, &end, 10);
	if (!*w || *end || v < 0 || v > 65535)
		return -1;
	return (int)v;
}

int ss_query_parse(struct ss_query *q, int argc, char **argv, char *err, size_t errlen)
{
	bool listening = false, all = false;
	unsigned states = 0;
	*q = (struct ss_query){ .sport = -1, .dport = -1 };
	for (int i = 0; i < argc; i++) {
		const char *w = argv[i];
		if (w[0] == '-' && w[1] && w[1] != '-') {
			for (const char *c = w + 1; *c; c++)
				switch (*c) {
				case 't': q->tcp = true; break;
				case 'u': q->udp = true; break;
				case 'l': listening = true; break;
				case 'a': all = true; break;
				case 'n': break;
				case 'i': q->info = true; break;
				case 'e': q->ext = true; break;
				case 'o': q->timers = true; break;
				default: {
					char opt[3] = { '-', *c, 0 };
					return ss_fail(err, errlen, "ss: unknown option '%s'", opt);
				}
				}
		} else if (strcmp(w, "state") == 0 || strcmp(w, "exclude") == 0) {
			unsigned bits;
			if (i + 1 >= argc)
				return ss_fail(err, errlen, "ss: '%s' needs a state name", w);
			if (ss_state_bits(argv[++i], &bits) != 0)
				return ss_fail(err, errlen, "ss: unknown state '%s'", argv[i]);
			if (strcmp(w, "state") == 0)
				states |= bits;
			else
				states = (states ? states : SS_ALL) & ~bits;
		} else if (strcmp(w, "sport") == 0 || strcmp(w, "dport") == 0) {
			/* "sport = N", "sport == N", "sport eq N" or "sport = :N". */
			if (i + 2 >= argc ||
			    (strcmp(argv[i + 1], "=") && strcmp(argv[i + 1], "==") && strcmp(argv[i + 1], "eq")))
				return ss_fail(err, errlen, "ss: expected '%s = PORT'", w);
			int p = ss_port(argv[i + 2]);
			if (p < 0)
				return ss_fail(err, errlen, "ss: bad port '%s'", argv[i + 2]);
			if (w[0] == 's')
				q->sport = p;
			else
				q->dport = p;
			i += 2;
		} else {
			return ss_fail(err, errlen, "ss: unexpected argument '%s'", w);
		}
	}
	if (!q->tcp && !q->udp)
		q->tcp = true;
	/* As ss: -a all, -l listening only, a state filter as given, otherwise all but listening. */
	q->states = all ? SS_ALL : listening ? SS_LISTEN : states ? states : SS_ALL & ~SS_LISTEN & ~SS_CLOSED;
	return 0;
}

struct ss_ctx {
	const struct ss_query *q;
	FILE *f;
	const char *netid;
	bool show_netid;
};

static bool ss_selected(const struct ss_query *q, const struct tcp_sock_info *si)
{
	bool state_ok = false;
	for (size_t i = 0; i < SS_NSTATES; i++)
		if ((q->states & SS_BIT(i)) && strcmp(si->state, ss_states[i].row) == 0)
			state_ok = true;
	return state_ok && (q->sport < 0 || q->sport == si->lport) && (q->dport < 0 || q->dport == si->rport);
}

/* "1.5" style milliseconds from microseconds, as ss prints rtt and rto. */
static void ss_ms(char *buf, size_t len, uint32_t us)
{
	if (us % 1000u == 0)
		snprintf(buf, len, "%u", us / 1000u);
	else
		snprintf(buf, len, "%u.%03u", us / 1000u, us % 1000u);
	/* Trim trailing zeros of a fraction: 0.250 -> 0.25. */
	char *dot = strchr(buf, '.');
	if (dot) {
		char *e = buf + strlen(buf) - 1;
		while (e > dot && *e == '0')
			*e-- = '\0';
	}
}

/* ss -o's expiry: "1.2sec", "350ms", "2min". */
static void ss_expiry(char *buf, size_t len, usec_t left)
{
	uint64_t ms = left / 1000u;
	if (ms >= 120000u)
		snprintf(buf, len, "%llumin", (unsigned long long)(ms / 60000u));
	else if (ms >= 1000u)
		snprintf(buf, len, "%llu.%llusec", (unsigned long long)(ms / 1000u),
		         (unsigned long long)(ms % 1000u / 100u));
	else
		snprintf(buf, len, "%llums", (unsigned long long)ms);
}

static void ss_info(FILE *f, const struct tcp_sock_info *si)
{
	struct tcp_info ti;
	struct tcp_info_more more;
	char rtt[16], rttvar[16], rto[16];
	tcp_conn_info(si->conn, &ti, &more);
	ss_ms(rtt, sizeof(rtt), ti.tcpi_rtt);
	ss_ms(rttvar, sizeof(rttvar), ti.tcpi_rttvar);
	ss_ms(rto, sizeof(rto), ti.tcpi_rto);
	fputs("\n\t", f);
	if (ti.tcpi_options & TCPI_OPT_TIMESTAMPS)
		fputs("ts ", f);
	if (ti.tcpi_options & TCPI_OPT_SACK)
		fputs("sack ", f);
	fprintf(f, "%s ", tcp_conn_cc_name(si->conn)); /* the congestion control, as ss */
	if (ti.tcpi_options & TCPI_OPT_WSCALE)
		fprintf(f, "wscale:%u,%u ", ti.tcpi_snd_wscale, ti.tcpi_rcv_wscale);
	fprintf(f, "rto:%s rtt:%s/%s mss:%u pmtu:%u rcvmss:%u advmss:%u cwnd:%u", rto, rtt, rttvar,
	        ti.tcpi_snd_mss, ti.tcpi_pmtu, ti.tcpi_rcv_mss, ti.tcpi_advmss, ti.tcpi_snd_cwnd);
	if (ti.tcpi_snd_ssthresh < 0x7fffffffu)
		fprintf(f, " ssthresh:%u", ti.tcpi_snd_ssthresh);
	/* As ss: bytes sent and resent only when there are any. */
	if (more.tcpi_bytes_sent)
		fprintf(f, " bytes_sent:%llu", (unsigned long long)more.tcpi_bytes_sent);
	if (more.tcpi_bytes_retrans)
		fprintf(f, " bytes_retrans:%llu", (unsigned long long)more.tcpi_bytes_retrans);
	fprintf(f, " bytes_acked:%llu bytes_received:%llu", (unsigned long long)si->bytes_acked,
	        (unsigned long long)si->bytes_received);
	if (ti.tcpi_unacked)
		fprintf(f, " unacked:%u", ti.tcpi_unacked);
	/* As ss: retrans:IN_FLIGHT/TOTAL, lost and sacked only when there are any. */
	if (si->retrans_out || ti.tcpi_total_retrans)
		fprintf(f, " retrans:%u/%u", si->retrans_out, ti.tcpi_total_retrans);
	if (si->lost)
		fprintf(f, " lost:%u", si->lost);
	if (si->sacked)
		fprintf(f, " sacked:%u", si->sacked);
	if (more.tcpi_dsack_dups)
		fprintf(f, " dsack_dups:%u", more.tcpi_dsack_dups);
	/* As ss: how far the path was seen to reorder, in segments, when not the default 3. */
	if (ti.tcpi_reordering != 3)
		fprintf(f, " reordering:%u", ti.tcpi_reordering);
	if (more.tcpi_reord_seen)
		fprintf(f, " reord_seen:%u", more.tcpi_reord_seen);
	if (more.tcpi_delivery_rate) {
		/* As ss: bits per second with a k/M/G prefix, "delivery_rate 941Mbps". */
		double bps = (double)more.tcpi_delivery_rate * 8.0;
		if (bps >= 1e9)
			fprintf(f, " delivery_rate %.1fGbps", bps / 1e9);
		else if (bps >= 1e6)
			fprintf(f, " delivery_rate %.1fMbps", bps / 1e6);
		else if (bps >= 1e3)
			fprintf(f, " delivery_rate %.1fKbps", bps / 1e3);
		else
			fprintf(f, " delivery_rate %.0fbps", bps);
	}
	if (more.tcpi_delivered)
		fprintf(f, " delivered:%u", more.tcpi_delivered);
	if (ti.tcpi_rcv_rtt) {
		char rcvrtt[16];
		ss_ms(rcvrtt, sizeof(rcvrtt), ti.tcpi_rcv_rtt);
		fprintf(f, " rcv_rtt:%s", rcvrtt);
	}
	fprintf(f, " rcv_space:%u", ti.tcpi_rcv_space);
	if (more.tcpi_rcv_ooopack)
		fprintf(f, " rcv_ooopack:%u", more.tcpi_rcv_ooopack);
	if (more.tcpi_min_rtt != UINT32_MAX) {
		char minrtt[16];
		ss_ms(minrtt, sizeof(minrtt), more.tcpi_min_rtt);
		fprintf(f, " minrtt:%s", minrtt);
	}
	if (more.tcpi_snd_wnd)
		fprintf(f, " snd_wnd:%u", more.tcpi_snd_wnd);
	if (more.tcpi_rcv_wnd)
		fprintf(f, " rcv_wnd:%u", more.tcpi_rcv_wnd);
}

static void ss_row(const struct tcp_sock_info *si, void *arg)
{
	struct ss_ctx *x = arg;
	const struct ss_query *q = x->q;
	if (!ss_selected(q, si))
		return;
	char la[16], ra[16], l[32], r[32];
	ipv4_addr_str(si->laddr, la);
	ipv4_addr_str(si->raddr, ra);
	snprintf(l, sizeof(l), "%s:%u", la, si->lport);
	if (si->rport)
		snprintf(r, sizeof(r), "%s:%u", ra, si->rport);
	else
		snprintf(r, sizeof(r), "%s:*", ra);
	if (x->show_netid)
		fprintf(x->f, "%-5s ", x->netid);
	fprintf(x->f, "%-10s %-7u %-7u %-22s %-22s", si->state, si->recv_q, si->send_q, l, r);
	if (q->timers && si->timer) {
		char e[24];
		ss_expiry(e, sizeof(e), si->timer_left);
		fprintf(x->f, " timer:(%s,%s,%u)", si->timer, e, si->timer_retries);
	}
	if (q->ext)
		fprintf(x->f, " sk:%llx", (unsigned long long)si->id);
	if (q->info && si->conn)
		ss_info(x->f, si);
	fputc('\n', x->f);
}

/* One walker per protocol. */
static void ss_tcp_rows(struct stack *s, struct ss_ctx *x)
{
	x->netid = "tcp";
	tcp_foreach_sock(&s->tcp, ss_row, x);
}

/* A UDP socket as a row of TCP's shape: state, ends, queues and identity (no TCP_INFO, no
 * timer). UNCONN is the "closed" state of the filters, as in ss. */
static void ss_udp_row(const struct udp_sock_info *u, void *arg)
{
	struct tcp_sock_info si = { .state = u->state, .laddr = u->laddr, .raddr = u->raddr, .lport = u->lport,
		                    .rport = u->rport, .recv_q = u->recv_q, .send_q = u->send_q, .id = u->id };
	ss_row(&si, arg);
}

static void ss_udp_rows(struct stack *s, struct ss_ctx *x)
{
	x->netid = "udp";
	udp_foreach_sock(&s->udp, ss_udp_row, x);
}

void ss_write(struct stack *s, const struct ss_query *q, FILE *f)
{
	struct ss_ctx x = { .q = q, .f = f, .show_netid = q->tcp && q->udp };
	if (x.show_netid)
		fprintf(f, "%-5s ", "Netid");
	fprintf(f, "%-10s %-7s %-7s %-22s %-22s\n", "State", "Recv-Q", "Send-Q", "Local Address:Port",
	        "Peer Address:Port");
	if (q->udp)
		ss_udp_rows(s, &x);             /* ss lists UDP before TCP */
	if (q->tcp)
		ss_tcp_rows(s, &x);
}
