/*
 * exec.c - runs one parsed packetdrill script against a fresh tapstack instance in
 * virtual time (issue 4; the rules are packetdrill's, summarised in docs/testing.md).
 *
 * The loop takes the events in file order. For each it computes the script time (`+t`
 * from the previous event's time: an inbound packet, a call's start or a command at their
 * script times, an outbound packet at the time it was really seen) and then:
 *   - inbound packet, system call, command: advance the stack to that time, then do it;
 *   - outbound packet: advance until the stack has sent something or the tolerance window
 *     closed; check the time, then every field (flags, seq, len, ack, win, urg, options),
 *     aggregating consecutive segments when the script expects one TSO-sized segment.
 * Advancing means: jump to the next timer deadline (never past the target), ts_stack_poll()
 * there, answer ARP, retry a blocked system call; repeat. Nothing sleeps.
 *
 * Tolerance: max(--tolerance_usecs, tolerance_percent of the time since the previous
 * event), like packetdrill; the gVisor harness's 100 ms for scripts beside a
 * packetdrill_setup.sh. The first failure stops the script and is reported as
 * "file:line: what" plus the script's and the actual packet.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "runner.h"
#include "wire/tcp.h"

void drill_fail(struct drill_runner *r, int line, const char *fmt, ...)
{
	if (r->failed && !r->unsupported)
		return;
	r->failed = true;
	r->unsupported = false;
	r->fail_line = line;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(r->msg, sizeof(r->msg), fmt, ap);
	va_end(ap);
}

void drill_unsupported(struct drill_runner *r, int line, const char *fmt, ...)
{
	if (r->unsupported_line)
		return; /* the first one is reported */
	r->unsupported_line = line;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(r->unsupported_msg, sizeof(r->unsupported_msg), fmt, ap);
	va_end(ap);
}

void drill_note_ignored(struct drill_runner *r, const char *what)
{
	size_t n = strlen(r->ignored);
	if (strstr(r->ignored, what))
		return;
	snprintf(r->ignored + n, sizeof(r->ignored) - n, "%s%s", n ? " " : "", what);
	drill_vlog(r, "           (ignored: %s has no tapstack knob)\n", what);
}

void drill_vlog(struct drill_runner *r, const char *fmt, ...)
{
	if (!r->verbose || !r->out)
		return;
	va_list ap;
	va_start(ap, fmt);
	vfprintf(r->out, fmt, ap);
	va_end(ap);
}

double drill_rel_secs(const struct drill_runner *r, usec_t t)
{
	(void)r;
	return ((double)t - (double)DRILL_CLOCK_BASE) / 1e6;
}

/* One step of the stack at r->now: poll, answer ARP (which may need another poll), retry a blocked call. */
static void drill_step(struct drill_runner *r)
{
	for (int i = 0; i < 8; i++) {
		int taken = ts_stack_poll(&r->st, r->now);
		bool arp = drill_answer_arp(r);
		if (!arp && (unsigned)taken < STACK_POLL_BATCH)
			break;
	}
	if (r->pend.active)
		drill_syscall_retry(r);
}

void drill_advance(struct drill_runner *r, usec_t until)
{
	unsigned stuck = 0;
	drill_step(r);
	while (!r->failed) {
		usec_t d = ts_stack_next_deadline(&r->st);
		if (d == USEC_NEVER || d > until)
			break;
		if (d > r->now)
			r->now = d;
		usec_t before = r->now;
		drill_step(r);
		/*
		 * ts_stack_poll(now) fires the timers due by now; one re-armed for "now" by a
		 * callback fires on the next step. A timer that stays due step after step is a
		 * stack bug: report it rather than spin. A budget of steps bounds any other runaway.
		 */
		if (ts_stack_next_deadline(&r->st) <= before) {
			if (++stuck > 100) {
				drill_fail(r, 0, "stack: a timer due at %.6f sec stays due after 100 ts_stack_poll() calls",
				           drill_rel_secs(r, ts_stack_next_deadline(&r->st)));
				break;
			}
		} else {
			stuck = 0;
		}
		if (++r->steps > DRILL_STEPS_MAX) {
			drill_fail(r, 0, "runner: more than %u timer events in one script", DRILL_STEPS_MAX);
			break;
		}
	}
	if (r->now < until) {
		r->now = until;
		drill_step(r);
	}
}

/* ---- outbound packets ---- */

static usec_t tolerance_for(const struct drill_runner *r, usec_t interval)
{
	usec_t tol = (usec_t)r->tolerance_usecs;
	usec_t pct = (usec_t)((double)interval * r->tolerance_percent / 100.0);
	return pct > tol ? pct : tol;
}

void drill_learn_outbound(struct drill_runner *r, const struct drill_wire_pkt *w)
{
	if (!w->is_tcp || !(w->flags & TCP_FLAG_SYN))
		return;
	/* The stack's ISN comes from its SYN or SYN-ACK. */
	bool new_open = !r->client_mode || w->seq != r->stack_isn || w->sport != r->local_port;
	if (!(w->flags & TCP_FLAG_ACK) && new_open) {
		r->need_peer_isn = true; /* a new active open (not a SYN retransmission) */
		r->ts_known = r->ts_paired = false; /* each connection has its own TS offset (RFC 7323 5.4) */
	}
	r->stack_isn = w->seq;
	if (!(w->flags & TCP_FLAG_ACK)) {
		r->client_mode = true;
		r->local_port = w->sport;
		r->remote_port = w->dport;
	}
}

/*
 * A segment of an earlier connection (other ports than the current one: a RST sent when
 * the script closed it, say) cannot be named by the script any more; packetdrill too only
 * matches packets of the connection under test.
 */
static bool from_old_connection(const struct drill_runner *r, const struct drill_wire_pkt *w)
{
	return w->is_tcp && !w->bad[0] && r->conn_count > 1 &&
	       (w->sport != r->local_port || w->dport != r->remote_port);
}

/* Waits (in virtual time) until an outbound packet is queued or `hi` passes. */
static struct drill_wire_pkt *wait_outbound(struct drill_runner *r, usec_t hi)
{
	for (;;) {
		struct drill_wire_pkt *w = drill_outq_peek(r);
		while (w && from_old_connection(r, w)) {
			drill_vlog(r, "%10.6f   (skipped: a segment of an earlier connection, port %u)\n",
			           drill_rel_secs(r, w->t), w->dport);
			drill_outq_pop(r);
			w = drill_outq_peek(r);
		}
		if (w || r->failed)
			return w;
		if (r->now >= hi)
			return NULL;
		usec_t d = ts_stack_next_deadline(&r->st);
		usec_t next = d == USEC_NEVER || d > hi ? hi : d;
		drill_advance(r, next > r->now ? next : r->now + 1);
	}
}

static bool opt_equal(const struct drill_runner *r, const struct drill_tcp_opt *e, const struct drill_tcp_opt *a,
                      char *why, size_t size)
{
	if (e->kind != a->kind) {
		snprintf(why, size, "option kind");
		return false;
	}
	switch (e->kind) {
	case DRILL_OPT_MSS:
	case DRILL_OPT_WSCALE:
		if (e->a != a->a) {
			snprintf(why, size, "%s: expected %u vs actual %u", e->kind == DRILL_OPT_MSS ? "mss" : "wscale",
			         e->a, a->a);
			return false;
		}
		return true;
	case DRILL_OPT_TS:
		/* TS val is checked only with --tcp_ts_tick_usecs, ecr never. */
		if (r->ts_tick_usecs > 0 && r->ts_paired) {
			int64_t want = ((int64_t)e->a - (int64_t)r->ts_script0) * r->ts_tick_usecs;
			int64_t got = (int64_t)(int32_t)(a->a - r->ts_actual0) * 1000; /* tapstack's TS clock: 1 ms */
			int64_t slack = (int64_t)r->tolerance_usecs + 1000;
			if (got < want - slack || got > want + slack) {
				snprintf(why, size, "TS val: expected %u vs actual %u (ticks from the first)",
				         e->a - r->ts_script0, a->a - r->ts_actual0);
				return false;
			}
		}
		return true;
	case DRILL_OPT_SACK:
		if (e->nblocks != a->nblocks) {
			snprintf(why, size, "sack: expected %u blocks vs actual %u", e->nblocks, a->nblocks);
			return false;
		}
		for (size_t b = 0; b < e->nblocks; b++)
			if (e->block[b][0] != a->block[b][0] - r->peer_isn || e->block[b][1] != a->block[b][1] - r->peer_isn) {
				snprintf(why, size, "sack block %zu: expected %u:%u vs actual %u:%u", b, e->block[b][0],
				         e->block[b][1], a->block[b][0] - r->peer_isn, a->block[b][1] - r->peer_isn);
				return false;
			}
		return true;
	default:
		return true;
	}
}

/* Compares an expected packet with what was sent (possibly an aggregate); fills why. */
static bool packet_matches(struct drill_runner *r, const struct drill_packet *e, const struct drill_wire_pkt *a,
                           char *why, size_t size)
{
	char fe[12], fa[12];
	uint32_t seq = a->seq - r->stack_isn;
	if (a->src != DRILL_LOCAL_IP || a->dst != DRILL_REMOTE_IP || a->sport != r->local_port ||
	    a->dport != r->remote_port) {
		snprintf(why, size, "live packet addressed %u.%u.%u.%u:%u -> %u.%u.%u.%u:%u, expected the connection's "
		         "192.168.0.1:%u -> 192.0.2.1:%u", a->src >> 24, (a->src >> 16) & 255, (a->src >> 8) & 255,
		         a->src & 255, a->sport, a->dst >> 24, (a->dst >> 16) & 255, (a->dst >> 8) & 255, a->dst & 255,
		         a->dport, r->local_port, r->remote_port);
		return false;
	}
	if (a->flags != e->flags) {
		snprintf(why, size, "live packet field tcp flags: expected: %s vs actual: %s", drill_flags_str(e->flags, fe),
		         drill_flags_str(a->flags, fa));
		return false;
	}
	if (seq != e->seq_start) {
		snprintf(why, size, "live packet field tcp_seq: expected: %u vs actual: %u", e->seq_start, seq);
		return false;
	}
	if (a->len != e->len) {
		snprintf(why, size, "live packet payload: expected %u bytes vs actual %u bytes", e->len, a->len);
		return false;
	}
	if ((e->flags & TCP_FLAG_ACK) && e->has_ack && a->ack - r->peer_isn != e->ack) {
		snprintf(why, size, "live packet field tcp_ack_seq: expected: %u vs actual: %u", e->ack,
		         a->ack - r->peer_isn);
		return false;
	}
	if (e->has_win && a->win != e->win) {
		snprintf(why, size, "live packet field tcp_window: expected: %u vs actual: %u", e->win, a->win);
		return false;
	}
	if (e->has_urg && a->urg != e->urg) {
		snprintf(why, size, "live packet field tcp_urg_ptr: expected: %u vs actual: %u", e->urg, a->urg);
		return false;
	}
	if (a->payload_nonzero) {
		snprintf(why, size, "live packet payload: expected zero bytes (as written) but the data differs");
		return false;
	}
	if (a->opts_bad) {
		snprintf(why, size, "live packet TCP options could not be decoded");
		return false;
	}
	if (e->opts_form == DRILL_OPTS_ANY)
		return true;
	if (e->opts_form == DRILL_OPTS_NONE) {
		if (a->nopts) {
			snprintf(why, size, "live packet has TCP options but the script expects none");
			return false;
		}
		return true;
	}
	if (e->nopts != a->nopts) {
		snprintf(why, size, "live packet TCP options: expected %u options vs actual %u", e->nopts, a->nopts);
		return false;
	}
	for (size_t i = 0; i < e->nopts; i++) {
		char w2[160];
		if (!opt_equal(r, &e->opts[i], &a->opts[i], w2, sizeof(w2))) {
			snprintf(why, size, "live packet TCP option %zu differs: %s", i + 1, w2);
			return false;
		}
	}
	return true;
}

/* Appends "  script packet: ..." and "  actual packet: ..." to the failure message. */
static void explain_packets(struct drill_runner *r, const struct drill_packet *e, usec_t te,
                            const struct drill_wire_pkt *a)
{
	char eb[512], ab[512];
	drill_packet_format(eb, sizeof(eb), e);
	size_t n = strlen(r->msg);
	snprintf(r->msg + n, sizeof(r->msg) - n, "\n  script packet: %10.6f %s", drill_rel_secs(r, te), eb);
	if (a && a->is_tcp) {
		struct drill_packet ap;
		drill_wire_to_script(r, a, &ap);
		drill_packet_format(ab, sizeof(ab), &ap);
		n = strlen(r->msg);
		snprintf(r->msg + n, sizeof(r->msg) - n, "\n  actual packet: %10.6f %s", drill_rel_secs(r, a->t), ab);
	}
}

/* TSO/GSO: merges consecutive segments into agg until e->len bytes. */
static bool aggregate(struct drill_runner *r, const struct drill_packet *e, struct drill_wire_pkt *agg, usec_t hi)
{
	uint32_t seg = agg->len;
	while (agg->len < e->len) {
		drill_outq_pop(r);
		struct drill_wire_pkt *n = wait_outbound(r, hi);
		if (!n)
			return false;
		if (!n->is_tcp || n->seq != agg->seq + agg->len || n->len == 0 || n->len > seg ||
		    (n->flags & (TCP_FLAG_SYN | TCP_FLAG_RST)) || n->bad[0]) {
			return true; /* not part of this aggregate: compare what we have */
		}
		uint8_t cwr = agg->flags & TCP_FLAG_CWR;
		uint32_t seq = agg->seq, len = agg->len + n->len;
		bool nz = agg->payload_nonzero || n->payload_nonzero;
		usec_t t = agg->t;
		*agg = *n;
		agg->seq = seq;
		agg->len = len;
		agg->payload_nonzero = nz;
		agg->flags = (uint8_t)((agg->flags & ~TCP_FLAG_CWR) | cwr);
		agg->t = t;
		if (n->len < seg)
			break; /* only the last segment may be short */
	}
	drill_outq_pop(r);
	return true;
}

static void do_outbound(struct drill_runner *r, const struct drill_event *ev, usec_t t_script, usec_t lo, usec_t hi)
{
	const struct drill_packet *e = &ev->packet;
	struct drill_wire_pkt *w = wait_outbound(r, hi);
	if (r->failed)
		return;
	if (!w) {
		drill_fail(r, ev->line, "timing error: expected outbound packet at %.6f sec but none was sent by %.6f sec",
		           drill_rel_secs(r, t_script), drill_rel_secs(r, hi));
		explain_packets(r, e, t_script, NULL);
		return;
	}
	if (!w->is_tcp || w->bad[0]) {
		drill_fail(r, ev->line, "error handling packet: the stack sent %s at %.6f sec",
		           w->bad[0] ? w->bad : "a frame that is not IPv4 TCP", drill_rel_secs(r, w->t));
		explain_packets(r, e, t_script, w->is_tcp ? w : NULL);
		return;
	}
	if (w->t < lo || w->t > hi) {
		if (ev->time.kind != DRILL_TIME_ANY) {
			drill_fail(r, ev->line, "timing error: expected outbound packet at %.6f sec but happened at %.6f sec; tolerance %.6f sec",
			           drill_rel_secs(r, t_script), drill_rel_secs(r, w->t), (double)(hi - t_script) / 1e6);
			explain_packets(r, e, t_script, w);
			return;
		}
	}
	struct drill_wire_pkt agg = *w;
	if (r->tso && e->len > w->len && w->len > 0 && !(w->flags & (TCP_FLAG_SYN | TCP_FLAG_RST))) {
		if (!aggregate(r, e, &agg, hi) && !r->failed) {
			drill_fail(r, ev->line, "error handling packet: expected a %u-byte (TSO) segment but the stack sent only %u bytes by %.6f sec",
			           e->len, agg.len, drill_rel_secs(r, hi));
			explain_packets(r, e, t_script, &agg);
			return;
		}
	} else {
		drill_outq_pop(r);
	}
	/*
	 * The TS clock's baseline: the first outbound TS val written in the script is paired
	 * with the real one (TS val checks and inbound ecr values are relative to it). Until
	 * then, a TS seen under `<...>` stands for script value 0 (for ecr mapping only).
	 */
	if (e->opts_form == DRILL_OPTS_LIST && !r->ts_paired)
		for (size_t i = 0; i < e->nopts && i < agg.nopts; i++)
			if (e->opts[i].kind == DRILL_OPT_TS && agg.opts[i].kind == DRILL_OPT_TS) {
				r->ts_known = r->ts_paired = true;
				r->ts_script0 = e->opts[i].a;
				r->ts_actual0 = agg.opts[i].a;
				r->ts_time0 = agg.t;
			}
	if (!r->ts_known)
		for (size_t i = 0; i < agg.nopts; i++)
			if (agg.opts[i].kind == DRILL_OPT_TS) {
				/* No script value to pair with: assume the script's clock starts at 0 here. */
				r->ts_known = true;
				r->ts_script0 = 0;
				r->ts_actual0 = agg.opts[i].a;
				r->ts_time0 = agg.t;
			}
	char why[256];
	if (!packet_matches(r, e, &agg, why, sizeof(why))) {
		drill_fail(r, ev->line, "error handling packet: %s", why);
		explain_packets(r, e, t_script, &agg);
		return;
	}
	char eb[512];
	drill_packet_format(eb, sizeof(eb), e);
	drill_vlog(r, "%10.6f %s   (sent at %.6f)\n", drill_rel_secs(r, t_script), eb, drill_rel_secs(r, agg.t));
	r->anchor = agg.t;
}

/* ---- %{ }% blocks ---- */

static void code_print(void *arg, int64_t v)
{
	struct drill_runner *r = arg;
	drill_vlog(r, "           print: %lld\n", (long long)v);
}

/*
 * Snapshots what the block reads (TCP_INFO and SO_MEMINFO of the socket the script used
 * last, as packetdrill does) and evaluates it (code.c). Without the values the script is
 * unsupported; a false assert fails the script after the rest of it ran.
 */
static void run_code(struct drill_runner *r, const struct drill_event *ev)
{
	const char *t = ev->text;
	bool want_info = strstr(t, "tcpi_") || strstr(t, "TCP_CA_") || strstr(t, "TCPI_OPT");
	bool want_mem = strstr(t, "SK_MEMINFO") != NULL;
	struct socket_layer *sl = ts_stack_sockets(&r->st);
	if (want_info) {
		uint8_t info[512];
		socklen_t len = sizeof(info);
		memset(info, 0, sizeof(info));
		int ret = ts_getsockopt(sl, r->last_fd, IPPROTO_TCP, TCP_INFO, info, &len);
		if (ret < 0) {
			drill_vlog(r, "%10.6f %%{ }%% (needs TCP_INFO: %s)\n", drill_rel_secs(r, r->now), strerror(-ret));
			drill_unsupported(r, ev->line, "%%{ }%% block needs TCP_INFO, which tapstack does not provide (getsockopt: %s)",
			                  strerror(-ret));
			return;
		}
		drill_code_bind_tcp_info(&r->code_env, info, len);
	}
	if (want_mem) {
		uint32_t mem[16];
		socklen_t len = sizeof(mem);
		memset(mem, 0, sizeof(mem));
		int ret = ts_getsockopt(sl, r->last_fd, SOL_SOCKET, SO_MEMINFO, mem, &len);
		if (ret < 0) {
			drill_vlog(r, "%10.6f %%{ }%% (needs SO_MEMINFO: %s)\n", drill_rel_secs(r, r->now), strerror(-ret));
			drill_unsupported(r, ev->line, "%%{ }%% block needs SO_MEMINFO, which tapstack does not provide (getsockopt: %s)",
			                  strerror(-ret));
			return;
		}
		drill_code_bind_meminfo(&r->code_env, mem, len / sizeof(uint32_t));
	}
	char msg[256];
	enum drill_code_result res = drill_code_eval(&r->code_env, t, msg, sizeof(msg), code_print, r);
	drill_vlog(r, "%10.6f %%{ }%% %s\n", drill_rel_secs(r, r->now),
	           res == DRILL_CODE_OK ? "ok" : res == DRILL_CODE_ASSERT ? msg : "cannot be evaluated");
	if (res == DRILL_CODE_ERROR)
		drill_unsupported(r, ev->line, "%%{ }%% block: %s", msg);
	else if (res == DRILL_CODE_ASSERT && !r->code_fail_line) {
		r->code_fail_line = ev->line;
		snprintf(r->code_fail_msg, sizeof(r->code_fail_msg), "%s", msg);
	}
}

/* ---- the script ---- */

static void apply_options(struct drill_runner *r)
{
	for (size_t i = 0; i < r->sc->noptions; i++) {
		const struct drill_option *o = &r->sc->options[i];
		long v = o->value ? strtol(o->value, NULL, 0) : 0;
		if (strcmp(o->name, "tolerance_usecs") == 0 && o->value) {
			r->tolerance_usecs = v;
		} else if (strcmp(o->name, "tolerance_percent") == 0 && o->value) {
			r->tolerance_percent = strtod(o->value, NULL);
		} else if (strcmp(o->name, "tcp_ts_tick_usecs") == 0 && o->value) {
			r->ts_tick_usecs = v;
		} else if (strcmp(o->name, "ip_version") == 0 && o->value && strcmp(o->value, "ipv4") == 0) {
			/* the only version the runner speaks */
		} else if (strcmp(o->name, "mss") == 0 && o->value) {
			/* packetdrill sends an oversize inbound line as one GRO segment of this MSS */
			r->gro_mss = v;
		} else if (strcmp(o->name, "send_omit_free") == 0) {
			/* packetdrill-internal (zerocopy buffer reuse) */
		} else {
			char what[96];
			snprintf(what, sizeof(what), "--%s", o->name);
			drill_note_ignored(r, what);
		}
	}
}

static bool stack_start(struct drill_runner *r)
{
	r->cfg.link.addr = DRILL_LOCAL_IP;
	r->cfg.link.prefix_len = DRILL_PREFIX_LEN;
	r->cfg.link.gateway = DRILL_GATEWAY_IP;
	r->cfg.link.mtu = r->link_mtu ? r->link_mtu : 1500;
	r->dev.nd.mtu = r->cfg.link.mtu;
	r->cfg.tcp.mtu = r->cfg.link.mtu;
	r->now = DRILL_CLOCK_BASE;
	int err = ts_stack_init(&r->st, &r->cfg, &r->dev.nd, r->now);
	if (err) {
		drill_fail(r, 0, "ts_stack_init failed: %s", strerror(-err));
		return false;
	}
	r->st_up = true;
	memcpy(r->stack_mac, r->cfg.link.mac, sizeof(r->stack_mac));
	drill_inject_arp_seed(r);
	drill_step(r);
	/* Whatever the stack said at start (gratuitous ARP) is not part of the script. */
	while (drill_outq_peek(r))
		drill_outq_pop(r);
	drill_nstat_reset(r);
	return true;
}

static void run_events(struct drill_runner *r)
{
	const struct drill_script *sc = r->sc;
	size_t i = 0;

	/* Untimed commands before the first event are the init command: they run before time 0. */
	for (; i < sc->nevents && sc->events[i].untimed && !r->failed; i++)
		drill_command(r, &sc->events[i]);
	if (!r->failed && i == 0)
		drill_gvisor_setup(r);
	if (r->tolerance_override >= 0)
		r->tolerance_usecs = r->tolerance_override; /* the command line wins */
	if (r->failed || !stack_start(r))
		return;
	r->anchor = r->now;

	for (; i < sc->nevents && !r->failed; i++) {
		const struct drill_event *ev = &sc->events[i];
		if (ev->untimed) {
			/* A cleanup command at the end (restoring sysctls): nothing to undo here. */
			drill_command(r, ev);
			continue;
		}
		usec_t base = ev->time.kind == DRILL_TIME_ABS ? DRILL_CLOCK_BASE : r->anchor;
		usec_t t = base + (usec_t)ev->time.start;
		usec_t interval = t > r->anchor ? t - r->anchor : 0;
		usec_t tol = tolerance_for(r, interval);
		if (ev->kind == DRILL_EV_PACKET && ev->packet.dir == '>') {
			usec_t lo, hi;
			if (ev->time.kind == DRILL_TIME_ANY) {
				lo = r->anchor;
				hi = r->now + DRILL_WAIT_ANY_USECS;
				t = r->now;
			} else {
				lo = t > tol ? t - tol : 0;
				hi = (ev->time.form == DRILL_TIME_WINDOW ? base + (usec_t)ev->time.end : t) + tol;
			}
			do_outbound(r, ev, t, lo, hi);
			continue;
		}
		/* Inbound packets, calls and commands happen at their script times. */
		if (t < r->now && r->now - t > tol) {
			/* We are late only when an earlier outbound packet came late; packetdrill anchors to it. */
			t = r->now;
		}
		drill_advance(r, t > r->now ? t : r->now);
		if (r->failed)
			break;
		switch (ev->kind) {
		case DRILL_EV_PACKET: {
			char b[512];
			drill_packet_format(b, sizeof(b), &ev->packet);
			drill_vlog(r, "%10.6f %s\n", drill_rel_secs(r, r->now), b);
			drill_inject_packet(r, ev);
			drill_step(r);
			break;
		}
		case DRILL_EV_SYSCALL: {
			bool has_end = ev->time.form == DRILL_TIME_BLOCKING;
			usec_t end = has_end ? base + (usec_t)ev->time.end : r->now;
			if (r->pend.active) {
				/* One blocking call at a time (packetdrill's syscall thread): finish it first. */
				usec_t until = r->pend.end + tolerance_for(r, r->pend.end - r->pend.start);
				while (r->pend.active && !r->failed && r->now < until) {
					usec_t d = ts_stack_next_deadline(&r->st);
					drill_advance(r, d == USEC_NEVER || d > until ? until : d);
				}
				if (r->pend.active && !r->failed)
					drill_fail(r, r->pend.ev->line, "%s call did not return by %.6f sec (still blocked at line %d)",
					           r->pend.ev->call.name, drill_rel_secs(r, until), ev->line);
				if (r->failed)
					break;
			}
			drill_syscall_start(r, ev, r->now, end, has_end);
			drill_step(r);
			break;
		}
		case DRILL_EV_COMMAND:
			drill_command(r, ev);
			drill_step(r);
			break;
		case DRILL_EV_CODE:
			run_code(r, ev);
			break;
		}
		r->anchor = t;
	}
	/* A call still blocked at the end must return by its time. */
	if (!r->failed && r->pend.active) {
		usec_t until = r->pend.end + tolerance_for(r, r->pend.end - r->pend.start);
		drill_advance(r, until);
		if (r->pend.active && !r->failed)
			drill_fail(r, r->pend.ev->line, "%s call did not return by %.6f sec", r->pend.ev->call.name,
			           drill_rel_secs(r, until));
	}
}

void drill_run_script(const struct drill_script *sc, FILE *out, bool verbose, long tolerance_override,
                      struct drill_report *rep)
{
	struct drill_runner *r = calloc(1, sizeof(*r));
	memset(rep, 0, sizeof(*rep));
	if (!r) {
		snprintf(rep->msg, sizeof(rep->msg), "%s: out of memory", sc->path);
		return;
	}
	r->sc = sc;
	r->out = out;
	r->verbose = verbose;
	snprintf(r->dir, sizeof(r->dir), "%s", sc->path);
	char *slash = strrchr(r->dir, '/');
	if (slash)
		*slash = 0;
	else
		snprintf(r->dir, sizeof(r->dir), ".");
	ts_stack_config_default(&r->cfg);
	ts_stack_config_fixed(&r->cfg, 0x7ac5dd11);
	/* The scripts were written on machines whose net.core.rmem_max/wmem_max exceed what
	 * they ask of SO_RCVBUF/SO_SNDBUF (2,000,000 at most; a window scale of 4 from
	 * SO_RCVBUF 1000000 says so), not on Linux's built-in 212992. */
	r->cfg.udp.rmem_max = DRILL_CORE_MEM_MAX;
	r->cfg.udp.wmem_max = DRILL_CORE_MEM_MAX;
	r->tolerance_usecs = DRILL_TOLERANCE_USECS;
	r->tolerance_percent = DRILL_TOLERANCE_PERCENT;
	r->tso = true;
	r->remote_port = DRILL_REMOTE_PORT_BASE;
	r->local_port = DRILL_SERVER_PORT;
	r->peer_isn = 0x0badcafe;
	for (size_t i = 0; i < DRILL_FDS_MAX; i++)
		r->fdmap[i] = r->filemap[i] = -1;
	r->last_fd = -1;
	drill_netdev_init(r);
	apply_options(r);
	r->tolerance_override = tolerance_override;

	run_events(r);

	/* Tearing the stack down closes every socket (FINs, RSTs): not part of the script. */
	r->verbose = false;
	if (r->st_up)
		ts_stack_destroy(&r->st);
	drill_outq_free(&r->outq);
	for (size_t i = 0; i < DRILL_FDS_MAX; i++)
		if (r->filemap[i] >= 0)
			close(r->filemap[i]);
	free(r->zbuf);
	free(r->rbuf);
	if (!r->failed && r->code_fail_line)
		drill_fail(r, r->code_fail_line, "%%{ }%% block: %s", r->code_fail_msg);
	if (r->failed) {
		rep->line = r->fail_line;
		snprintf(rep->msg, sizeof(rep->msg), "%s", r->msg);
	} else if (r->unsupported_line) {
		rep->unsupported = true;
		rep->line = r->unsupported_line;
		snprintf(rep->msg, sizeof(rep->msg), "%s", r->unsupported_msg);
	} else {
		rep->passed = true;
	}
	snprintf(rep->ignored, sizeof(rep->ignored), "%s", r->ignored);
	free(r);
}
