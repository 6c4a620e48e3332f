/*
 * sockopt.c - setsockopt() and getsockopt() on tapstack's sockets: which options exist, what
 * values they take, and where each is kept.
 *
 * A TCP option has one owner (ts_opts): the socket's own struct tcp_sockopts until listen()
 * or connect() gives it a listener or a connection, then that object's, so an option set on
 * a listener after listen() reaches the next SYN-ACK and the connections accepted from then
 * on, as on Linux. A UDP socket's options go to socket_udp.c. Values, clamps and errno are
 * Linux's (docs/socket-api.md has the table of options).
 *
 * Called through socket.h by apps, the preload library and tests.
 */
#include "socket/socket.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "socket/socket_int.h"
#include "socket/socket_udp.h"
#include "udp/udp.h"

/* Linux retrans_to_secs: TCP_DEFER_ACCEPT's retransmissions back into seconds (1 s doubling,
 * at most 120 s each), the inverse of the conversion in ts_setsockopt. */
static int ts_defer_accept_secs(uint8_t retrans)
{
	int period = 0, t = 1;
	if (retrans > 0) {
		period = 1;
		while (--retrans) {
			t = t * 2 > 120 ? 120 : t * 2;
			period += t;
		}
	}
	return period;
}

/* The one owner of the socket's TCP options: the connection or the listener once it exists
 * (so an option set on a listener reaches the connections it accepts from then on, as on
 * Linux), the socket itself before. */
static struct tcp_sockopts *ts_opts(struct ts_sock *s)
{
	if (s->kind == TS_CONN)
		return tcp_conn_opts(s->conn);
	if (s->kind == TS_LISTENER && s->lis)
		return tcp_listener_opts(s->lis); /* what the next SYN-ACK and accepted connection use */
	return s->opts;
}

int ts_setsockopt(struct socket_layer *sl, int fd, int level, int name, const void *val, socklen_t len)
{
	int err;
	struct ts_sock *s = ts_sock_of(sl, fd, &err);
	int v = 0;
	if (!s)
		return err;
	if (s->kind == TS_UDP)
		return ts_udp_setsockopt(s->udp, level, name, val, len);
	struct tcp_sockopts *o = ts_opts(s);
	if (level == SOL_SOCKET && name == SO_LINGER) {
		struct linger lg;
		if (!val || len < (socklen_t)sizeof(lg))
			return -EINVAL;
		memcpy(&lg, val, sizeof(lg));
		o->linger_on = lg.l_onoff != 0;
		/* Linux sk_setsockopt: a negative time, read as unsigned, is "for ever"
		 * (MAX_SCHEDULE_TIMEOUT): close() waits until everything is acknowledged. */
		o->linger_s = lg.l_linger < 0 ? TCP_LINGER_FOREVER : (uint32_t)lg.l_linger;
		return 0;
	}
	if (level == SOL_SOCKET && (name == SO_RCVTIMEO || name == SO_SNDTIMEO)) {
		struct timeval tv;
		if (!val || len < (socklen_t)sizeof(tv))
			return -EINVAL;
		memcpy(&tv, val, sizeof(tv));
		if (tv.tv_usec < 0 || tv.tv_usec >= 1000000)
			return -EDOM; /* Linux sock_set_timeout */
		/* A negative time is 0 (no timeout) on Linux, as is {0, 0}. */
		uint64_t us = tv.tv_sec < 0 ? 0 : (uint64_t)tv.tv_sec * 1000000u + (uint64_t)tv.tv_usec;
		*(name == SO_RCVTIMEO ? &s->rcvtimeo_us : &s->sndtimeo_us) = us;
		return 0;
	}
	if (level == IPPROTO_IP) {
		int rc = ts_ip_arg(val, len, &v);
		if (rc)
			return rc;
		switch (name) {
		case IP_TOS:
			/* A stream socket keeps its ECN bits (Linux __ip_sock_set_tos): with no ECN
			 * here they stay 0. Later segments carry the new value, at once. */
			o->tos = (uint8_t)(v & ~0x03);
			return 0;
		case IP_TTL:
			return ts_ttl_arg(v, &o->ttl);
		case IP_MTU_DISCOVER:
			if (v < IP_PMTUDISC_DONT || v > IP_PMTUDISC_OMIT)
				return -EINVAL;
			o->pmtudisc = (uint8_t)v; /* read back; TCP sets DF whatever it is */
			return 0;
		case IP_RECVERR:
			o->recverr = v != 0; /* read back; there is no error queue */
			return 0;
		default:
			return -ENOPROTOOPT;
		}
	}
	if (level == IPPROTO_TCP && name == TCP_CONGESTION) {
		/* Linux: a name of up to TCP_CA_NAME_MAX - 1 bytes, not necessarily NUL-terminated;
		 * EINVAL without one, ENOENT when the stack has no such algorithm. */
		char cc[TCP_CA_NAME_MAX];
		if (!val || len < 1)
			return -EINVAL;
		size_t n = (size_t)len < sizeof(cc) - 1 ? (size_t)len : sizeof(cc) - 1;
		memcpy(cc, val, n);
		cc[n] = 0;
		int rc = tcp_sockopts_set_cc(o, cc);
		if (rc)
			return rc;
		if (s->opts)
			s->opts->cc = o->cc;
		if (s->kind == TS_CONN)
			tcp_conn_opts_changed(s->conn);
		return 0;
	}
	int rc = ts_int_arg(val, len, &v);
	if (rc)
		return rc;
	if (level == SOL_SOCKET) {
		switch (name) {
		case SO_REUSEPORT:
			o->reuseport = v != 0;
			break;
		case SO_REUSEADDR:
			o->reuseaddr = v != 0;
			break;
		case SO_KEEPALIVE:
			o->keepalive = v != 0;
			break;
		case SO_OOBINLINE:
			o->oobinline = v != 0;
			break;
		case SO_ZEROCOPY:
			o->zerocopy = v != 0; /* accepted; MSG_ZEROCOPY sends are copies */
			break;
		case SO_BROADCAST:
			o->broadcast = v != 0; /* read back: TCP has no use for it (Linux stores it too) */
			break;
		case SO_PRIORITY:
			o->priority = (uint32_t)v; /* read back: no queueing discipline orders our frames */
			break;
		case SO_RCVBUF:
			o->rcvbuf = ts_bufsize(name, v, sl->udp ? sl->udp->cfg.rmem_max : TS_CORE_MEM_MAX);
			o->rcvbuf_locked = true;
			break;
		case SO_SNDBUF:
			o->sndbuf = ts_bufsize(name, v, sl->udp ? sl->udp->cfg.wmem_max : TS_CORE_MEM_MAX);
			o->sndbuf_locked = true;
			break;
		default:
			return -ENOPROTOOPT;
		}
	} else if (level == IPPROTO_TCP) {
		switch (name) {
		case TCP_NODELAY:
			o->nodelay = v != 0;
			if (v && s->kind == TS_CONN)
				tcp_conn_push(s->conn); /* Linux: pushes pending data, even corked */
			break;
		case TCP_CORK:
			o->cork = v != 0;
			break;
		case TCP_MAXSEG:
			if (v < 88 || v > 65535) /* Linux: TCP_MIN_MSS .. MAX_TCP_WINDOW */
				return -EINVAL;
			o->user_mss = (uint16_t)v;
			break;
		case TCP_WINDOW_CLAMP:
			/* Linux tcp_set_window_clamp: at least SOCK_MIN_RCVBUF / 2; 0 (none) only on
			 * a socket that is closed. Before the handshake it shapes the first window
			 * and the scale offered (tcp_rwnd_initial_clamp, tcp_wscale_for). */
			if (s->kind == TS_CONN)
				return tcp_conn_set_window_clamp(s->conn, v);
			if (v == 0 && s->kind == TS_LISTENER)
				return -EINVAL;
			o->window_clamp = v == 0 ? 0 : v < 1152 ? 1152u : (uint32_t)v;
			break;
		case TCP_FASTOPEN:
			/* Linux takes the queue length on a closed or listening socket and keeps it
			 * at most somaxconn. Fast Open itself is not built: a SYN's data is not
			 * accepted and the handshake is the ordinary one, which is what Linux's
			 * default (net.ipv4.tcp_fastopen = 1: client only) does for a server. */
			if (v < 0 || s->kind == TS_CONN)
				return -EINVAL;
			o->fastopen_qlen = (uint32_t)v < sl->tcp->cfg.somaxconn ? (uint32_t)v : sl->tcp->cfg.somaxconn;
			break;
		case TCP_DEFER_ACCEPT: {
			/* Linux secs_to_retrans: seconds become SYN-ACK retransmissions (1 s doubling). */
			uint32_t res = 0, period = 1, t = 1;
			if (v > 0) {
				res = 1;
				while ((uint32_t)v > period && res < 255) {
					res++;
					t = t * 2 > 120 ? 120 : t * 2;
					period += t;
				}
			}
			o->defer_accept = (uint8_t)res;
			break;
		}
		case TCP_USER_TIMEOUT:
			if (v < 0)
				return -EINVAL;
			o->user_timeout_ms = (uint32_t)v;
			break;
		case TCP_NOTSENT_LOWAT:
			/* Linux takes any int, read as unsigned; 0 means the stack's setting. A
			 * higher mark may make a waiting writer's socket writable at once. */
			o->notsent_lowat = (uint32_t)v;
			break;
		case TCP_KEEPIDLE:
		case TCP_KEEPINTVL:
			if (v < 1 || v > 32767) /* MAX_TCP_KEEPIDLE, MAX_TCP_KEEPINTVL */
				return -EINVAL;
			*(name == TCP_KEEPIDLE ? &o->keepidle_s : &o->keepintvl_s) = (uint16_t)v;
			break;
		case TCP_SYNCNT:
			if (v < 1 || v > 127) /* MAX_TCP_SYNCNT */
				return -EINVAL;
			o->syncnt = (uint8_t)v;
			break;
		case TCP_KEEPCNT:
			if (v < 1 || v > 127) /* MAX_TCP_KEEPCNT */
				return -EINVAL;
			o->keepcnt = (uint8_t)v;
			break;
		case TCP_LINGER2:
			/* Linux: negative = no FIN-WAIT-2 hold; above TCP_FIN_TIMEOUT_MAX (120 s) clamped. */
			o->linger2_s = v < 0 ? -1 : v > 120 ? 120 : v;
			break;
		case TCP_QUICKACK:
			o->pingpong = (v & 1) == 0;
			if (s->kind == TS_CONN)
				tcp_conn_set_quickack(s->conn, v);
			break;

		default:
			return -ENOPROTOOPT;
		}
	} else {
		return -ENOPROTOOPT;
	}
	if (s->kind == TS_CONN)
		tcp_conn_opts_changed(s->conn);
	return 0;
}

/* TCP_INFO as Linux lays it out: glibc's struct, then the fields Linux adds after it (tcp.h). */
struct ts_tcp_info {
	struct tcp_info ti;
	struct tcp_info_more more;
};
_Static_assert(offsetof(struct ts_tcp_info, more) == 104, "Linux puts tcpi_pacing_rate at 104");
_Static_assert(offsetof(struct ts_tcp_info, more.tcpi_busy_time) == 168, "Linux's tcpi_busy_time is at 168");
_Static_assert(offsetof(struct ts_tcp_info, more.tcpi_delivered) == 192, "Linux's tcpi_delivered is at 192");
_Static_assert(offsetof(struct ts_tcp_info, more.tcpi_snd_wnd) == 228, "Linux's tcpi_snd_wnd is at 228");

int ts_getsockopt(struct socket_layer *sl, int fd, int level, int name, void *val, socklen_t *len)
{
	int err;
	struct ts_sock *s = ts_sock_of(sl, fd, &err);
	if (!s)
		return err;
	if (s->kind == TS_UDP)
		return ts_udp_getsockopt(s->udp, level, name, val, len);
	struct tcp_sockopts *o = ts_opts(s);
	if (level == SOL_SOCKET) {
		switch (name) {
		case SO_REUSEADDR:
			return ts_put_int(val, len, o->reuseaddr);
		case SO_REUSEPORT:
			return ts_put_int(val, len, o->reuseport);
		case SO_KEEPALIVE:
			return ts_put_int(val, len, o->keepalive);
		case SO_OOBINLINE:
			return ts_put_int(val, len, o->oobinline);
		case SO_RCVBUF:
			return ts_put_int(val, len, (int)o->rcvbuf);
		case SO_SNDBUF:
			return ts_put_int(val, len, (int)o->sndbuf);
		case SO_TYPE:
		case SO_PROTOCOL:
		case SO_DOMAIN:
		case SO_RCVLOWAT:
		case SO_SNDLOWAT:
			return ts_get_fixed_opt(name, SOCK_STREAM, IPPROTO_TCP, val, len);
		case SO_BROADCAST:
			return ts_put_int(val, len, o->broadcast);
		case SO_PRIORITY:
			return ts_put_int(val, len, (int)o->priority);
#ifdef SO_MEMINFO
		case SO_MEMINFO: {
			/* Linux's u32[SK_MEMINFO_VARS]: rmem_alloc, rcvbuf, wmem_alloc, sndbuf,
			 * fwd_alloc, wmem_queued, optmem, backlog, drops (linux/sock_diag.h). */
			uint32_t mi[9] = { 0 };
			mi[1] = o->rcvbuf;
			mi[3] = o->sndbuf;
			if (s->kind == TS_CONN) {
				mi[0] = (uint32_t)tcp_inq(s->conn);
				mi[5] = tcp_conn_wmem_queued(s->conn);
			}
			if (!val || !len)
				return -EFAULT;
			socklen_t n = *len < (socklen_t)sizeof(mi) ? *len : (socklen_t)sizeof(mi);
			memcpy(val, mi, (size_t)n);
			*len = n;
			return 0;
		}
#endif
		case SO_ACCEPTCONN:
			return ts_put_int(val, len, s->kind == TS_LISTENER);
		case SO_ERROR: {
			int e = s->err;
			s->err = 0;
			if (s->kind == TS_CONN && !e)
				e = tcp_conn_take_error(s->conn);
			return ts_put_int(val, len, e);
		}
		case SO_RCVTIMEO:
		case SO_SNDTIMEO: {
			uint64_t us = name == SO_RCVTIMEO ? s->rcvtimeo_us : s->sndtimeo_us;
			struct timeval tv = { .tv_sec = (time_t)(us / 1000000u), .tv_usec = (suseconds_t)(us % 1000000u) };
			if (!val || !len || *len < (socklen_t)sizeof(tv))
				return -EINVAL;
			memcpy(val, &tv, sizeof(tv));
			*len = sizeof(tv);
			return 0;
		}
		case SO_LINGER: {
			/* For ever reads back as Linux's MAX_SCHEDULE_TIMEOUT / HZ in an int (at HZ 250,
			 * -1752346657): a value that is not a time, which blocking close takes as such. */
			int secs = o->linger_s == TCP_LINGER_FOREVER ? (int)(uint32_t)(INT64_MAX / sl->tcp->cfg.hz)
			                                               : (int)o->linger_s;
			struct linger lg = { o->linger_on, secs };
			if (!val || !len || *len < (socklen_t)sizeof(lg))
				return -EINVAL;
			memcpy(val, &lg, sizeof(lg));
			*len = sizeof(lg);
			return 0;
		}
		default:
			return -ENOPROTOOPT;
		}
	}
	if (level == IPPROTO_IP) {
		switch (name) {
		case IP_TOS:
			return ts_put_ip_int(val, len, o->tos);
		case IP_TTL:
			return ts_ttl_get(sl->tcp->ip, o->ttl, val, len);
		case IP_MTU_DISCOVER:
			return ts_put_ip_int(val, len, o->pmtudisc);
		case IP_RECVERR:
			return ts_put_ip_int(val, len, o->recverr);
		default:
			return -ENOPROTOOPT;
		}
	}
	if (level == IPPROTO_TCP) {
		switch (name) {
		case TCP_NODELAY:
			return ts_put_int(val, len, o->nodelay);
		case TCP_CORK:
			return ts_put_int(val, len, o->cork);
		case TCP_USER_TIMEOUT:
			return ts_put_int(val, len, (int)o->user_timeout_ms);
		case TCP_NOTSENT_LOWAT:
			return ts_put_int(val, len, (int)o->notsent_lowat);
		case TCP_KEEPIDLE:
			return ts_put_int(val, len, (int)tcp_keepidle_s(sl->tcp, o));
		case TCP_KEEPINTVL:
			return ts_put_int(val, len, (int)tcp_keepintvl_s(sl->tcp, o));
		case TCP_KEEPCNT:
			return ts_put_int(val, len, (int)tcp_keepcnt(sl->tcp, o));
		case TCP_SYNCNT:
			return ts_put_int(val, len, (int)tcp_syncnt(sl->tcp, o));
		case TCP_LINGER2:
			/* Linux: 0 reads back as tcp_fin_timeout, -1 as -1. */
			return ts_put_int(val, len, o->linger2_s ? o->linger2_s : (int)(sl->tcp->cfg.fin_timeout_ms / 1000));
		case TCP_QUICKACK:
			return ts_put_int(val, len, s->kind == TS_CONN ? !tcp_conn_pingpong(s->conn) : !o->pingpong);
		case TCP_WINDOW_CLAMP:
			return ts_put_int(val, len, (int)(s->kind == TS_CONN ? tcp_conn_window_clamp(s->conn) : o->window_clamp));
		case TCP_FASTOPEN:
			return ts_put_int(val, len, s->kind == TS_CONN ? 0 : (int)o->fastopen_qlen);
		case TCP_DEFER_ACCEPT:
			return ts_put_int(val, len, ts_defer_accept_secs(o->defer_accept));

		case TCP_CONGESTION: {
			/* Linux copies min(len, TCP_CA_NAME_MAX) bytes of the NUL-padded name. */
			char cc[TCP_CA_NAME_MAX] = { 0 };
			if (!val || !len)
				return -EFAULT;
			snprintf(cc, sizeof(cc), "%s", tcp_sockopts_cc_name(sl->tcp, o));
			socklen_t n = *len < (socklen_t)sizeof(cc) ? *len : (socklen_t)sizeof(cc);
			memcpy(val, cc, (size_t)n);
			*len = n;
			return 0;
		}

		case TCP_INFO: {
			struct ts_tcp_info full;
			if (!val || !len)
				return -EFAULT;
			memset(&full, 0, sizeof(full));
			if (s->kind == TS_CONN)
				tcp_conn_info(s->conn, &full.ti, &full.more);
			else if (s->kind == TS_LISTENER)
				tcp_listener_info(s->lis, &full.ti);
			else
				full.ti.tcpi_state = 7; /* CLOSE */
			socklen_t n = *len < (socklen_t)sizeof(full) ? *len : (socklen_t)sizeof(full);
			memcpy(val, &full, (size_t)n);
			*len = n;
			return 0;
		}
		case TCP_MAXSEG:
			if (s->kind == TS_CONN)
				return ts_put_int(val, len, (int)tcp_conn_mss(s->conn));
			return ts_put_int(val, len, o->user_mss ? o->user_mss : 536);
		default:
			return -ENOPROTOOPT;
		}
	}
	return TS_GETSOCKOPT_BAD_LEVEL;
}
