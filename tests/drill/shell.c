/*
 * shell.c - backquoted commands, interpreted instead of run.
 *
 * packetdrill runs them with /bin/sh in the script's folder to configure the Linux kernel
 * under test. Here the "kernel" is the tapstack instance the runner builds, so each command
 * the corpus uses is translated:
 *   - a path to a .sh file (`../common/defaults.sh`, `./defaults.sh`): read that file,
 *     relative to the script's own folder, and interpret its lines the same way;
 *   - `sysctl [-q] [-e] [-w] net.ipv4.X=V ...` and `set_sysctls.py /proc/sys/net/ipv4/X=V`:
 *     set the matching struct tcp_config / ip_config field where tapstack has the knob; a
 *     setting without a knob is recorded and reported, never silently dropped;
 *   - `ethtool -K tun0 tso off gso off`: the runner stops aggregating TSO segments;
 *   - `ip tcp_metrics flush`, `tc qdisc ... pfifo` (the default), the restore script: no-ops.
 *   - `echo N > /sys/module/tcp_cubic/parameters/hystart_detect`: tcp_config.hystart_detect;
 *   - `/bin/dd bs=B count=N if=/dev/zero of=PATH` and `/bin/rm -f PATH` (sendfile's scripts):
 *     the runner remembers PATH as B*N zero bytes, and the script's open(PATH) gets a memfd
 *     of them (syscalls.c): no file of the host is written or read;
 *   - `nstat -n` and `nstat ... | grep NAME | grep -q " N "`: tapstack's counters under Linux's names;
 * Anything else (fq or dropping qdiscs, other /sys/module writes, other nstat uses) makes the
 * script unsupported, with the line.
 *
 * Settings made before time 0 go into the stack_config the stack is built from; later ones
 * change the live layer's config (tcp_layer.cfg), which TCP reads when it needs a value.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "runner.h"

#define SHELL_DEPTH_MAX 4

static struct tcp_config *tcp_cfg(struct drill_runner *r)
{
	return r->st_up ? &r->st.tcp.cfg : &r->cfg.tcp;
}

/* "$((15*1024*1024))" and plain numbers: products of integers, as the scripts write them. */
static bool eval_number(const char *s, const char **end, uint64_t *v)
{
	while (*s == ' ')
		s++;
	bool arith = strncmp(s, "$((", 3) == 0;
	if (arith)
		s += 3;
	uint64_t acc = 1;
	bool any = false;
	for (;;) {
		while (*s == ' ')
			s++;
		char *e;
		uint64_t x = strtoull(s, &e, 0);
		if (e == s)
			break;
		any = true;
		acc *= x;
		s = e;
		while (*s == ' ')
			s++;
		if (arith && *s == '*') {
			s++;
			continue;
		}
		break;
	}
	if (!any)
		return false;
	if (arith) {
		if (strncmp(s, "))", 2) != 0)
			return false;
		s += 2;
	}
	*end = s;
	*v = acc;
	return true;
}

/* Up to 3 numbers of a sysctl value ("4096 540000 $((15*1024*1024))"). */
static int parse_values(const char *val, uint64_t out[3])
{
	int n = 0;
	const char *p = val;
	while (*p && n < 3) {
		while (*p == ' ' || *p == '"' || *p == '\'')
			p++;
		if (!*p)
			break;
		const char *e;
		if (!eval_number(p, &e, &out[n]))
			return -1;
		n++;
		p = e;
		while (*p == '"' || *p == '\'')
			p++;
	}
	return n;
}

/* Applies one sysctl; name without "net.ipv4." style prefixes normalised to dots. */
static void apply_sysctl(struct drill_runner *r, const struct drill_event *ev, const char *rawname, const char *val)
{
	char name[128];
	size_t n = 0;
	for (const char *p = rawname; *p && n + 1 < sizeof(name); p++)
		name[n++] = *p == '/' ? '.' : *p;
	name[n] = 0;
	const char *key = name;
	if (strncmp(key, "net.ipv4.", 9) == 0)
		key += 9;
	uint64_t v[3];
	int nv = parse_values(val, v);
	struct tcp_config *tc = tcp_cfg(r);
	drill_vlog(r, "           sysctl %s=%s\n", name, val);

#define ONE(field, expr)                                                                           \
	do {                                                                                       \
		if (nv < 1)                                                                        \
			goto bad;                                                                  \
		tc->field = (expr);                                                                \
		return;                                                                            \
	} while (0)
	if (strcmp(key, "tcp_rmem") == 0 || strcmp(key, "tcp_wmem") == 0) {
		if (nv != 3)
			goto bad;
		if (key[4] == 'r') {
			tc->rmem_default = (uint32_t)v[1];
			tc->rmem_max = (uint32_t)v[2];
		} else {
			tc->wmem_default = (uint32_t)v[1];
			tc->wmem_max = (uint32_t)v[2];
		}
		return;
	}
	if (strcmp(key, "tcp_congestion_control") == 0) {
		/* A name, not a number: "reno", "cubic" (quotes allowed). */
		char cc[TCP_CA_NAME_MAX];
		size_t k = 0;
		for (const char *p = val; *p && k + 1 < sizeof(cc); p++)
			if (*p != '"' && *p != '\'' && *p != ' ')
				cc[k++] = *p;
		cc[k] = 0;
		if (!tcp_cc_known(cc)) {
			drill_fail(r, ev->line, "sysctl %s: tapstack has no congestion control \"%s\"", name, cc);
			return;
		}
		snprintf(tc->congestion_control, sizeof(tc->congestion_control), "%s", cc);
		return;
	}
	if (strcmp(key, "tcp_slow_start_after_idle") == 0)
		ONE(slow_start_after_idle, v[0] != 0);
	if (strcmp(key, "tcp_timestamps") == 0)
		ONE(timestamps, v[0] != 0);
	if (strcmp(key, "tcp_sack") == 0)
		ONE(sack, v[0] != 0);
	if (strcmp(key, "tcp_dsack") == 0)
		ONE(dsack, v[0] != 0);
	if (strcmp(key, "tcp_recovery") == 0)
		ONE(recovery, (uint32_t)v[0]);
	if (strcmp(key, "tcp_frto") == 0)
		ONE(frto, (uint32_t)v[0]);
	if (strcmp(key, "tcp_early_retrans") == 0)
		ONE(tlp, v[0] >= 3); /* 3 and 4 enable TLP (Linux ip-sysctl.rst) */
	if (strcmp(key, "tcp_window_scaling") == 0)
		ONE(window_scaling, v[0] != 0);
	if (strcmp(key, "tcp_shrink_window") == 0)
		ONE(shrink_window, v[0] != 0);
	if (strcmp(key, "tcp_abort_on_overflow") == 0)
		ONE(abort_on_overflow, v[0] != 0);
	if (strcmp(key, "tcp_syn_retries") == 0)
		ONE(syn_retries, (uint32_t)v[0]);
	if (strcmp(key, "tcp_synack_retries") == 0)
		ONE(synack_retries, (uint32_t)v[0]);
	if (strcmp(key, "tcp_retries2") == 0)
		ONE(retries2, (uint32_t)v[0]);
	if (strcmp(key, "tcp_fin_timeout") == 0)
		ONE(fin_timeout_ms, (uint32_t)v[0] * 1000);
	if (strcmp(key, "tcp_keepalive_time") == 0)
		ONE(keepalive_time_s, (uint32_t)v[0]);
	if (strcmp(key, "tcp_keepalive_intvl") == 0)
		ONE(keepalive_intvl_s, (uint32_t)v[0]);
	if (strcmp(key, "tcp_keepalive_probes") == 0)
		ONE(keepalive_probes, (uint32_t)v[0]);
	if (strcmp(key, "tcp_syncookies") == 0)
		ONE(syncookies, v[0] > 2 ? 2 : (uint8_t)v[0]);
	if (strcmp(key, "tcp_notsent_lowat") == 0)
		ONE(notsent_lowat, v[0] > UINT32_MAX ? UINT32_MAX : (uint32_t)v[0]);
	if (strcmp(key, "tcp_min_tso_segs") == 0)
		ONE(min_tso_segs, v[0] ? (uint32_t)v[0] : 1u);
	if (strcmp(key, "tcp_comp_sack_nr") == 0)
		ONE(comp_sack_nr, v[0] > 255 ? 255u : (uint32_t)v[0]);
	if (strcmp(key, "tcp_comp_sack_delay_ns") == 0)
		ONE(comp_sack_delay_us, (uint32_t)(v[0] / 1000));
	if (strcmp(key, "tcp_challenge_ack_limit") == 0)
		ONE(challenge_ack_limit, (uint32_t)v[0]);
	if (strcmp(name, "net.core.somaxconn") == 0)
		ONE(somaxconn, (uint32_t)v[0]);
	if (strcmp(name, "net.core.rmem_max") == 0 || strcmp(name, "net.core.wmem_max") == 0) {
		/* SO_RCVBUF/SO_SNDBUF's clamp, kept with UDP's settings (udp.h) */
		if (nv < 1)
			goto bad;
		struct udp_config *uc = r->st_up ? &r->st.udp.cfg : &r->cfg.udp;
		uint32_t m = v[0] > INT32_MAX ? INT32_MAX : (uint32_t)v[0];
		if (name[9] == 'r')
			uc->rmem_max = m;
		else
			uc->wmem_max = m;
		return;
	}
	if (strcmp(key, "ip_local_port_range") == 0) {
		if (nv != 2)
			goto bad;
		tc->port_lo = (uint16_t)v[0];
		tc->port_hi = (uint16_t)v[1];
		return;
	}
	if (strcmp(key, "ip_default_ttl") == 0) {
		if (nv < 1)
			goto bad;
		if (r->st_up)
			r->st.ip.cfg.ttl = (uint8_t)v[0];
		else
			r->cfg.ip.ttl = (uint8_t)v[0];
		return;
	}
#undef ONE
	{
		char what[160];
		snprintf(what, sizeof(what), "%s", key);
		drill_note_ignored(r, what);
	}
	return;
bad:
	drill_fail(r, ev->line, "sysctl %s: cannot read the value \"%s\"", name, val);
}

/* Splits "a=b c=d" sysctl arguments (values may be quoted and contain spaces). */
static void sysctl_args(struct drill_runner *r, const struct drill_event *ev, char *args, bool proc_paths)
{
	char *p = args;
	while (*p && !r->failed) {
		while (*p == ' ' || *p == '\t')
			p++;
		if (!*p)
			break;
		if (*p == '-') { /* -q, -e, -w */
			while (*p && *p != ' ')
				p++;
			continue;
		}
		if (*p == '>' || (p[0] == '2' && p[1] == '>'))
			break; /* redirections end the arguments */
		char *name = p;
		while (*p && *p != '=' && *p != ' ')
			p++;
		if (*p != '=') {
			drill_fail(r, ev->line, "sysctl: expected name=value in \"%s\"", name);
			return;
		}
		*p++ = 0;
		char *val = p;
		if (*p == '"' || *p == '\'') {
			char q = *p++;
			val = p;
			while (*p && *p != q)
				p++;
			if (*p)
				*p++ = 0;
		} else {
			while (*p && *p != ' ')
				p++;
			if (*p)
				*p++ = 0;
		}
		if (proc_paths && strncmp(name, "/proc/sys/", 10) == 0)
			name += 10;
		apply_sysctl(r, ev, name, val);
	}
}

static void run_line(struct drill_runner *r, const struct drill_event *ev, char *line, int depth);

static void run_file(struct drill_runner *r, const struct drill_event *ev, const char *rel, int depth)
{
	char path[2048];
	if (rel[0] == '/')
		snprintf(path, sizeof(path), "%s", rel);
	else
		snprintf(path, sizeof(path), "%s/%s", r->dir, rel);
	if (depth >= SHELL_DEPTH_MAX) {
		drill_fail(r, ev->line, "%s: shell scripts nested too deep", rel);
		return;
	}
	FILE *f = fopen(path, "r");
	if (!f) {
		drill_fail(r, ev->line, "cannot open %s (resolved against the script's folder %s)", rel, r->dir);
		return;
	}
	drill_vlog(r, "           (interpreting %s)\n", path);
	char buf[1024];
	while (!r->failed && fgets(buf, sizeof(buf), f))
		run_line(r, ev, buf, depth + 1);
	fclose(f);
}

/* ---- nstat: tapstack's counters under the names `nstat` prints ---- */

#define NSTAT_GROUPS_MAX 16

/* RFC 4022 MIB counters print as "TcpX" in nstat; Linux's other TCP counters as "TcpExtX". */
static const char *const tcp_mib_names[] = {
	"ActiveOpens", "PassiveOpens", "AttemptFails", "EstabResets", "CurrEstab", "InSegs",
	"OutSegs", "RetransSegs", "InErrs", "OutRsts", "InCsumErrors",
};

static void nstat_name(const struct counter_group *g, size_t i, char *buf, size_t size)
{
	const char *n = g->names[i];
	if (strcmp(g->layer, "tcp") == 0 && isupper((unsigned char)n[0])) {
		bool mib = false;
		for (size_t k = 0; k < sizeof(tcp_mib_names) / sizeof(tcp_mib_names[0]); k++)
			mib = mib || strcmp(n, tcp_mib_names[k]) == 0;
		snprintf(buf, size, "%s%s", mib ? "Tcp" : "TcpExt", n);
	} else {
		snprintf(buf, size, "Tapstack_%s_%s", g->layer, n); /* no Linux name: tapstack's own */
	}
}

void drill_nstat_reset(struct drill_runner *r)
{
	struct counter_group g[NSTAT_GROUPS_MAX];
	size_t ng = ts_stack_counter_groups(&r->st, g, NSTAT_GROUPS_MAX), k = 0;
	for (size_t i = 0; i < ng; i++)
		for (size_t j = 0; j < g[i].n && k < DRILL_NSTAT_MAX; j++)
			r->nstat_base[k++] = g[i].values[j];
	r->nstat_n = k;
}

/*
 * `nstat [-n] [-s] [-z] | grep PATTERN | grep -q " N "`: nstat prints each counter that
 * changed since the last reset ("TcpExtListenOverflows  1  0.0"), -n only resets, -s does
 * not reset; each grep keeps the lines holding its pattern, and the pipeline fails when
 * none is left. A pattern naming no tapstack counter makes the script unsupported.
 */
static void run_nstat(struct drill_runner *r, const struct drill_event *ev, char *cmd)
{
	char *stages[8];
	size_t ns = 0;
	for (char *p = cmd; ns < 8;) {
		stages[ns++] = p;
		char *bar = strchr(p, '|');
		if (!bar)
			break;
		*bar = 0;
		p = bar + 1;
	}
	bool reset_only = strstr(stages[0], "-n") != NULL, keep = strstr(stages[0], "-s") != NULL;
	bool zeros = strstr(stages[0], "-z") != NULL || strstr(stages[0], "-a") != NULL;
	if (!r->st_up) {
		drill_unsupported(r, ev->line, "`nstat` before the stack exists");
		return;
	}
	struct counter_group g[NSTAT_GROUPS_MAX];
	size_t ng = ts_stack_counter_groups(&r->st, g, NSTAT_GROUPS_MAX);
	char lines[DRILL_NSTAT_MAX][80];
	bool alive[DRILL_NSTAT_MAX];
	size_t nl = 0, k = 0;
	for (size_t i = 0; i < ng; i++)
		for (size_t j = 0; j < g[i].n && k < DRILL_NSTAT_MAX; j++, k++) {
			uint64_t delta = g[i].values[j] - (k < r->nstat_n ? r->nstat_base[k] : 0);
			char name[64];
			nstat_name(&g[i], j, name, sizeof(name));
			snprintf(lines[nl], sizeof(lines[nl]), "%-32s %llu 0.0", name, (unsigned long long)delta);
			alive[nl++] = delta != 0 || zeros;
		}
	if (!keep)
		drill_nstat_reset(r);
	if (reset_only || ns == 1)
		return;
	char first_pat[64] = "";
	for (size_t s = 1; s < ns; s++) {
		char *a = stages[s];
		while (*a == ' ')
			a++;
		if (strncmp(a, "grep", 4) != 0) {
			drill_unsupported(r, ev->line, "nstat piped into `%s` is not emulated", a);
			return;
		}
		a += 4;
		char pat[64];
		for (;;) {
			while (*a == ' ')
				a++;
			if (a[0] == '-' && a[1] == 'q') {
				a += 2;
				continue;
			}
			break;
		}
		size_t n = 0;
		if (*a == '"' || *a == '\'') {
			char q = *a++;
			while (a[n] && a[n] != q)
				n++;
		} else {
			while (a[n] && a[n] != ' ')
				n++;
		}
		snprintf(pat, sizeof(pat), "%.*s", (int)n, a);
		if (s == 1)
			snprintf(first_pat, sizeof(first_pat), "%s", pat);
		bool named = false, any = false;
		for (size_t i = 0; i < nl; i++) {
			if (s == 1 && strncmp(lines[i], pat, strlen(pat)) == 0)
				named = true;
			alive[i] = alive[i] && strstr(lines[i], pat) != NULL;
			any = any || alive[i];
		}
		if (s == 1 && !named && isalpha((unsigned char)pat[0])) {
			drill_unsupported(r, ev->line, "`nstat`: tapstack has no counter named %s", pat);
			return;
		}
		if (!any) {
			/* Name the counter's real value for the message. */
			const char *shown = "it did not change";
			for (size_t i = 0; i < nl; i++)
				if (first_pat[0] && strncmp(lines[i], first_pat, strlen(first_pat)) == 0)
					shown = lines[i];
			drill_fail(r, ev->line, "command failed: `nstat | grep ...`: no line matches \"%s\" (%.79s)", pat, shown);
			return;
		}
	}
}

static bool starts_word(const char *s, const char *w)
{
	size_t n = strlen(w);
	return strncmp(s, w, n) == 0 && (s[n] == 0 || s[n] == ' ' || s[n] == '\t');
}

const struct drill_vfile *drill_vfile_find(const struct drill_runner *r, const char *path)
{
	for (size_t i = 0; i < r->nvfiles; i++)
		if (strcmp(r->vfiles[i].path, path) == 0)
			return &r->vfiles[i];
	return NULL;
}

static void vfile_forget(struct drill_runner *r, const char *path)
{
	struct drill_vfile *f = (struct drill_vfile *)drill_vfile_find(r, path);
	if (f)
		*f = r->vfiles[--r->nvfiles];
}

/* The value of `key=` among dd's operands, or NULL. */
static const char *dd_operand(const char *cmd, const char *key, char *buf, size_t size)
{
	size_t kl = strlen(key);
	for (const char *p = cmd; (p = strstr(p, key)) != NULL; p += kl) {
		if (p != cmd && p[-1] != ' ')
			continue;
		p += kl;
		size_t n = strcspn(p, " \t");
		snprintf(buf, size, "%.*s", (int)n, p);
		return buf;
	}
	return NULL;
}

/* `dd bs=B count=N if=/dev/zero of=PATH [status=none]`: PATH is now B*N zero bytes. */
static void run_dd(struct drill_runner *r, const struct drill_event *ev, const char *cmd)
{
	char in[64], out[sizeof(r->vfiles[0].path)], bs[32], count[32];
	if (!dd_operand(cmd, "if=", in, sizeof(in)) || strcmp(in, "/dev/zero") != 0 ||
	    !dd_operand(cmd, "of=", out, sizeof(out)) || !dd_operand(cmd, "bs=", bs, sizeof(bs)) ||
	    !dd_operand(cmd, "count=", count, sizeof(count))) {
		drill_unsupported(r, ev->line, "`%s`: only dd bs=B count=N if=/dev/zero of=PATH is emulated", cmd);
		return;
	}
	uint64_t size = strtoull(bs, NULL, 10) * strtoull(count, NULL, 10);
	vfile_forget(r, out);
	if (size > DRILL_VFILE_BYTES_MAX || r->nvfiles == DRILL_VFILES_MAX) {
		drill_unsupported(r, ev->line, "`%s`: at most %u files of %u bytes", cmd, DRILL_VFILES_MAX,
		                  DRILL_VFILE_BYTES_MAX);
		return;
	}
	snprintf(r->vfiles[r->nvfiles].path, sizeof(r->vfiles[0].path), "%s", out);
	r->vfiles[r->nvfiles++].size = size;
}

/* One simple command (no ; or ||). */
static void run_simple(struct drill_runner *r, const struct drill_event *ev, char *cmd, int depth)
{
	while (*cmd == ' ' || *cmd == '\t')
		cmd++;
	size_t n = strlen(cmd);
	while (n && isspace((unsigned char)cmd[n - 1]))
		cmd[--n] = 0;
	if (!*cmd || *cmd == '#')
		return;
	if (starts_word(cmd, "sysctl")) {
		sysctl_args(r, ev, cmd + 6, false);
		return;
	}
	char *sp = strpbrk(cmd, " \t");
	char first[512];
	snprintf(first, sizeof(first), "%.*s", sp ? (int)(sp - cmd) : (int)n, cmd);
	size_t fl = strlen(first);
	if (fl > 14 && strcmp(first + fl - 14, "set_sysctls.py") == 0) {
		sysctl_args(r, ev, sp ? sp : cmd + n, true);
		return;
	}
	if (strncmp(first, "/tmp/sysctl_restore_", 20) == 0)
		return; /* restores the host's sysctls: our stack is thrown away instead */
	if (fl > 3 && strcmp(first + fl - 3, ".sh") == 0) {
		/* packetdrill_setup.sh ends with "exit 0"; others set sysctls */
		run_file(r, ev, first, depth);
		return;
	}
	if (starts_word(cmd, "ip") && strstr(cmd, " link set ") && strstr(cmd, " mtu ")) {
		/* `ip link set dev tun0 mtu N`: the link's MTU, before the stack starts. */
		unsigned long v = strtoul(strstr(cmd, " mtu ") + 5, NULL, 10);
		if (r->st_up || v < 576 || v > 9000) {
			drill_unsupported(r, ev->line, "`%s`: an MTU of 576 to 9000, set before the first packet", cmd);
			return;
		}
		r->link_mtu = (uint32_t)v;
		return;
	}
	if (strcmp(cmd, "exit 0") == 0 || starts_word(cmd, "ip"))
		return; /* `ip tcp_metrics flush all`: tapstack keeps no per-destination metrics */
	if (starts_word(cmd, "tc")) {
		/* The runner's device is a plain FIFO; "limit 0" makes it refuse every frame. */
		if (strstr(cmd, "qdisc delete") || strstr(cmd, "qdisc del ")) {
			r->qdisc_drop = false;
			return;
		}
		if (strstr(cmd, "pfifo")) {
			r->qdisc_drop = strstr(cmd, "limit 0") != NULL;
			return;
		}
		drill_unsupported(r, ev->line, "`%s`: only pfifo qdiscs are emulated", cmd);
		return;
	}
	if (starts_word(cmd, "echo") && strstr(cmd, "/sys/module/tcp_cubic/parameters/hystart_detect")) {
		/* `echo N > .../hystart_detect`: which of HyStart's exits CUBIC uses. */
		char *end;
		unsigned long v = strtoul(cmd + 4, &end, 0);
		if (end == cmd + 4 || v > 3) {
			drill_fail(r, ev->line, "`%s`: expected 0 to 3", cmd);
			return;
		}
		tcp_cfg(r)->hystart_detect = (uint32_t)v;
		return;
	}
	if (starts_word(cmd, "nstat")) {
		run_nstat(r, ev, cmd);
		return;
	}
	if (strcmp(first, "/bin/dd") == 0 || strcmp(first, "dd") == 0) {
		run_dd(r, ev, cmd);
		return;
	}
	if ((strcmp(first, "/bin/rm") == 0 || strcmp(first, "rm") == 0) && sp && strncmp(sp, " -f ", 4) == 0 &&
	    !strpbrk(sp + 4, " \t*?")) {
		vfile_forget(r, sp + 4); /* rm -f of one path: forget the file, if the script made it */
		return;
	}
	if (starts_word(cmd, "ethtool")) {
		if (strstr(cmd, "tso off") || strstr(cmd, "gso off")) {
			r->tso = false;
			drill_vlog(r, "           (TSO/GSO off: outbound segments are compared one by one)\n");
			return;
		}
		drill_unsupported(r, ev->line, "`%s` is not emulated", cmd);
		return;
	}
	drill_unsupported(r, ev->line, "command `%s` is not supported by the runner", cmd);
}

static void run_line(struct drill_runner *r, const struct drill_event *ev, char *line, int depth)
{
	/* Cut at ';', '||' and '&&': each part is interpreted (a failing first part of a || chain is not emulated). */
	char *p = line;
	char *start = p;
	char quote = 0;
	for (;; p++) {
		if (*p && quote) {
			if (*p == quote)
				quote = 0;
			continue;
		}
		if (*p == '"' || *p == '\'') {
			quote = *p;
			continue;
		}
		bool sep = *p == ';' || *p == '\n' || (p[0] == '|' && p[1] == '|') || (p[0] == '&' && p[1] == '&');
		if (!*p || sep) {
			char saved = *p;
			*p = 0;
			run_simple(r, ev, start, depth);
			if (!saved || r->failed)
				return;
			if (saved == '|' || saved == '&') {
				/* `a || b`: emulate only a; b is the fallback for older kernels */
				if (saved == '|')
					return;
				p++;
			}
			start = p + 1;
		}
	}
}

void drill_command(struct drill_runner *r, const struct drill_event *ev)
{
	char *text = strdup(ev->text);
	if (!text) {
		drill_fail(r, ev->line, "runner: out of memory");
		return;
	}
	drill_vlog(r, "%10s `%s`\n", r->st_up ? "" : "(init)", ev->text);
	/* A trailing backslash continues a line. */
	for (char *p = text; *p; p++)
		if (p[0] == '\\' && p[1] == '\n')
			p[0] = p[1] = ' ';
	run_line(r, ev, text, 0);
	free(text);
}

bool drill_gvisor_setup(struct drill_runner *r)
{
	char path[2048];
	snprintf(path, sizeof(path), "%s/packetdrill_setup.sh", r->dir);
	FILE *f = fopen(path, "r");
	if (!f)
		return false;
	fclose(f);
	/* The gVisor harness ran packetdrill_setup.sh first, with 100 ms of tolerance. */
	struct drill_event ev = {0};
	ev.line = 0;
	ev.kind = DRILL_EV_COMMAND;
	ev.text = (char *)"./packetdrill_setup.sh";
	drill_vlog(r, "           (gVisor harness: packetdrill_setup.sh, tolerance 100 ms)\n");
	drill_command(r, &ev);
	r->tolerance_usecs = DRILL_GVISOR_TOLERANCE_USECS;
	return true;
}
