/*
 * tapstack.c - the program: options, a tapstack instance on a TAP device, its demo servers,
 * and the entry of the `ss` / `stats` subcommands (apps/cli/ does their work).
 *
 *   tapstack [--tap NAME] [--addr A.B.C.D/N] [--gateway A.B.C.D] [--mac MAC] [--mtu N]
 *            [--pcap FILE|- | --pcapng FILE|-] [--trace] [--quiet] [--no-offload]
 *            [--io uring|plain] [--busy-poll USEC]
 *            [--http PORT[:DIR]] [--access-log FILE|-] [--echo PORT] [--discard PORT]
 *            [--stall PORT[:BACKLOG]] [--udp-echo PORT] [--udp-discard PORT] [--metrics PORT]
 *            [--backlog N] [--limit-conn N] [--ctl PATH] [--cc NAME]
 *   tapstack ss [-tulanieo] [state S] [sport|dport = N] [--tap NAME | --ctl PATH]   like ss(8)
 *   tapstack stats [-z] [-d [-a]] [-r] [--json|--prometheus] [...]               like nstat(8)
 *
 * Every argument is checked before any device is opened; a bad one exits 2 naming it.
 * What it owns: the stack (which owns the TAP driver, wrapped by the capture/trace driver),
 * the servers (struct app, apps/app.h), a unix control socket and a signalfd. The event loop
 * asks every server for the sockets it waits on, waits in ts_stack_wait_kernel() (which drives
 * the stack) together with the control socket and the signalfd, then hands out readiness.
 * SIGINT/SIGTERM end the loop: servers stop, counters are printed, the stack is destroyed
 * (which flushes the pcap file). docs/program.md walks through it.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "apps/app.h"
#include "apps/cli/ctl.h"
#include "apps/cli/nstat.h"
#include "apps/cli/ss.h"
#include "apps/net.h"
#include "apps/server.h"
#include "apps/servers.h"
#include "drivers/pcap.h"
#include "drivers/tap.h"
#include "stack.h"
#include "wire/dump.h"
#include "wire/ethernet.h"
#include "wire/ipv4.h"

#define EXIT_USAGE 2
#define MAX_APPS 16
#define MAX_POLLFDS 65536

struct server_opt {
	enum { SRV_HTTP, SRV_ECHO, SRV_DISCARD, SRV_STALL, SRV_METRICS, SRV_UDP_ECHO, SRV_UDP_DISCARD } kind;
	uint16_t port;
	int backlog;            /* -1: --backlog or the default */
	const char *dir;
};

struct options {
	const char *tap;
	uint32_t addr;
	uint8_t prefix_len;
	uint32_t gateway;
	uint8_t mac[6];
	bool mac_set;
	uint32_t mtu;
	const char *pcap;
	bool pcapng;                /* --pcapng FILE|-: pcapng with directions and drop reasons */
	const char *access_log;     /* --access-log FILE, "-" = stdout */
	FILE *access_log_file;      /* opened while the options are checked */
	int pcap_fd;                /* --pcap's file (or standard output), opened while checking */
	bool trace;
	bool quiet;
	bool no_offload;
	const char *io;             /* --io uring|plain; NULL: uring when the kernel allows it, else plain */
	uint32_t busy_poll_usec;    /* --busy-poll USEC; 0: sleep at once */
	const char *cc;
	int backlog;
	uint32_t limit_conn;        /* --limit-conn N: connections per client address; 0: none */
	const char *ctl;
	char ctl_default[108];
	struct server_opt servers[MAX_APPS];
	int nservers, nservers_http;
};

/* The program's state: one instance, reached from app_log() and the log sink. */
struct program {
	struct options opt;
	struct stack stack;
	usec_t wall_base;       /* CLOCK_REALTIME - CLOCK_MONOTONIC at start, for printed times */
	bool quiet;
};

/*
 * app_log() has no context argument (apps/app.h), so the program keeps a pointer to its one
 * instance. This is the program, not the stack: stack/ and drivers/ have no globals.
 */
static struct program *the_program;

static const char usage_text[] =
	"usage: tapstack [options]            run a stack on a TAP device\n"
	"       tapstack ss    [ss options] [--tap NAME | --ctl PATH]   its sockets, like ss(8)\n"
	"       tapstack stats [nstat options] [--tap NAME | --ctl PATH] its counters, like nstat(8)\n"
	"       (tapstack ss --help, tapstack stats --help: their options)\n"
	"\n"
	"  --tap NAME            TAP device to attach to or create (default tap0)\n"
	"  --addr A.B.C.D/N      the stack's address and prefix (default 10.0.0.2/24)\n"
	"  --gateway A.B.C.D     next hop for destinations off the prefix (default none)\n"
	"  --mac MAC             the stack's MAC (default: random, locally administered)\n"
	"  --mtu N               IP MTU, 68..9000 (default 1500; above 1500 the kernel side of\n"
	"                        the TAP needs the same: ip link set tap0 mtu 9000)\n"
	"  --pcap FILE|-         record every frame both ways, written out after every batch\n"
	"                        (tcpdump -r FILE; - streams to stdout: --pcap - | tcpdump -r -)\n"
	"  --pcapng FILE|-       the same in pcapng, each frame commented with its direction\n"
	"                        and, when the stack dropped it, the counter that says why\n"
	"  --trace               print every frame in and out and each TCP state change\n"
	"  --quiet               do not print server log lines\n"
	"  --no-offload          plain 1514-byte frames; by default, when the TAP supports it,\n"
	"                        64 KiB TCP segments and checksums are left to the kernel\n"
	"                        (IFF_VNET_HDR; off with --trace, which shows frames)\n"
	"  --io uring|plain      how frames leave for the TAP: io_uring, the frames of a poll\n"
	"                        cycle in one system call, or plain, one writev() per frame\n"
	"                        (both receive with one read() per frame)\n"
	"                        (default: uring when the kernel allows it, else plain)\n"
	"  --busy-poll USEC      before sleeping, spin on the device up to USEC microseconds\n"
	"                        (0..1000000, default 0: lower latency for a busy core)\n"
	"  --http PORT[:DIR]     HTTP/1.1 server, files from DIR plus built-in pages\n"
	"  --access-log FILE|-   one line per HTTP request, common log format (- = stdout)\n"
	"  --echo PORT           echo server (RFC 862)\n"
	"  --discard PORT        discard server (RFC 863)\n"
	"  --stall PORT[:BACKLOG] a listener that never accepts (watch its queue fill)\n"
	"  --udp-echo PORT       UDP echo server (RFC 862)\n"
	"  --udp-discard PORT    UDP discard server (RFC 863)\n"
	"  --metrics PORT        Prometheus text of every counter at http://ADDR:PORT/metrics\n"
	"  --backlog N           listen() backlog of the servers (default 128)\n"
	"  --limit-conn N        at most N connections per client address to each TCP server;\n"
	"                        more are closed at accept (default 0: no limit)\n"
	"  --ctl PATH            control socket (default /tmp/tapstack-TAP-netINODE.sock)\n"
	"  --cc NAME             congestion control of every connection: cubic (default) or reno\n"
	"                        (a socket may pick its own with TCP_CONGESTION)\n"
	"  --help, -h            this text\n"
	"  --version, -V         the version\n"
	"\n"
	"The kernel side of the TAP is never configured by tapstack: give it an address yourself,\n"
	"e.g. ip addr add 10.0.0.1/24 dev tap0; ip link set tap0 up (see README.md).\n";

static void usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

static void usage_error(const char *fmt, ...)
{
	va_list ap;
	fputs("tapstack: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\nTry 'tapstack --help'.\n", stderr);
	exit(EXIT_USAGE);
}

/* ---- time and printing ---- */

static usec_t wall_base_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	usec_t real = (usec_t)ts.tv_sec * USEC_PER_SEC + (usec_t)ts.tv_nsec / 1000u;
	return real - ts_clock_now();
}

/* "HH:MM:SS.uuuuuu" of a monotonic time, in local wall-clock time like tcpdump. */
static void format_time(char *buf, size_t size, usec_t mono)
{
	usec_t wall = mono + (the_program ? the_program->wall_base : 0);
	time_t sec = (time_t)(wall / USEC_PER_SEC);
	struct tm tm;
	localtime_r(&sec, &tm);
	snprintf(buf, size, "%02d:%02d:%02d.%06u", tm.tm_hour, tm.tm_min, tm.tm_sec,
	         (unsigned)(wall % USEC_PER_SEC));
}

static void print_line(const char *tag, const char *text)
{
	char t[32];
	format_time(t, sizeof(t), ts_clock_now());
	printf("%s %s %s\n", t, tag, text);
}

void app_log(const char *fmt, ...)
{
	if (the_program && the_program->quiet)
		return;
	char line[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	print_line("app", line);
}

/* The stack's log sink: TCP state changes and other trace/debug lines. */
static void stack_log_sink(void *arg, const char *line)
{
	(void)arg;
	print_line("log", line);
}

/* The capture driver's frame hook: one tcpdump-style line per frame, in and out. */
static void trace_frame(void *arg, bool out, const uint8_t *frame, uint32_t len)
{
	(void)arg;
	char line[512];
	dump_frame(line, sizeof(line), frame, len);
	print_line(out ? "out" : "in ", line);
}

/* ---- option parsing ---- */

static long parse_num(const char *what, const char *s, long lo, long hi, char **end_out)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno || end == s || v < lo || v > hi || (!end_out && *end))
		usage_error("bad %s '%s' (expected a number from %ld to %ld)", what, s, lo, hi);
	if (end_out)
		*end_out = end;
	return v;
}

static void parse_addr(struct options *o, const char *arg)
{
	char buf[32];
	if (strlen(arg) >= sizeof(buf))
		usage_error("bad --addr '%s' (expected A.B.C.D/N)", arg);
	strcpy(buf, arg);
	char *slash = strchr(buf, '/');
	o->prefix_len = 24;
	if (slash) {
		*slash = '\0';
		o->prefix_len = (uint8_t)parse_num("prefix length", slash + 1, 1, 32, NULL);
	}
	if (ipv4_addr_parse(buf, &o->addr) != 0 || o->addr == 0 || (o->addr >> 24) >= 224 ||
	    (o->addr >> 24) == 127)
		usage_error("bad --addr '%s' (expected a unicast A.B.C.D/N)", arg);
}

static void parse_mac(struct options *o, const char *arg)
{
	unsigned m[6];
	char tail;
	if (sscanf(arg, "%2x:%2x:%2x:%2x:%2x:%2x%c", &m[0], &m[1], &m[2], &m[3], &m[4], &m[5], &tail) != 6)
		usage_error("bad --mac '%s' (expected xx:xx:xx:xx:xx:xx)", arg);
	for (int i = 0; i < 6; i++)
		o->mac[i] = (uint8_t)m[i];
	if (o->mac[0] & 1)
		usage_error("bad --mac '%s' (a multicast address cannot be a station's)", arg);
	if ((o->mac[0] | o->mac[1] | o->mac[2] | o->mac[3] | o->mac[4] | o->mac[5]) == 0)
		usage_error("bad --mac '%s' (all zero)", arg);
	o->mac_set = true;
}

static void add_server(struct options *o, int kind, const char *opt, const char *arg)
{
	if (o->nservers == MAX_APPS)
		usage_error("too many servers (at most %d)", MAX_APPS);
	struct server_opt *s = &o->servers[o->nservers];
	char *end;
	s->kind = kind;
	s->backlog = -1;
	s->dir = NULL;
	s->port = (uint16_t)parse_num(opt, arg, 1, 65535, &end);
	if (kind == SRV_HTTP)
		o->nservers_http++;
	if (*end == ':' && kind == SRV_HTTP && end[1])
		s->dir = end + 1;
	else if (*end == ':' && kind == SRV_STALL)
		s->backlog = (int)parse_num("--stall backlog", end + 1, 0, 65535, NULL);
	else if (*end)
		usage_error("bad %s '%s'", opt, arg);
	/* TCP and UDP ports are two spaces: --echo 7 and --udp-echo 7 may share a number. */
	bool udp = kind == SRV_UDP_ECHO || kind == SRV_UDP_DISCARD;
	for (int i = 0; i < o->nservers; i++) {
		bool other_udp = o->servers[i].kind == SRV_UDP_ECHO || o->servers[i].kind == SRV_UDP_DISCARD;
		if (o->servers[i].port == s->port && udp == other_udp)
			usage_error("%s port %u is given to two servers", udp ? "UDP" : "TCP", s->port);
	}
	o->nservers++;
}

/*
 * The option getopt_long just refused, as the user wrote it: a short one inside a cluster
 * (-vq) is optopt, not argv[optind - 1] (which may be the program's name); a long one is
 * shown without its =value.
 */
static const char *bad_option_name(char **argv)
{
	static char name[64];
	if (optopt > 0 && optopt < 128) {
		snprintf(name, sizeof(name), "-%c", optopt);
		return name;
	}
	snprintf(name, sizeof(name), "%s", argv[optind - 1]);
	name[strcspn(name, "=")] = '\0';
	return name;
}

enum { OPT_TAP = 256, OPT_ADDR, OPT_GATEWAY, OPT_MAC, OPT_MTU, OPT_PCAP, OPT_TRACE, OPT_QUIET, OPT_HTTP,
       OPT_ECHO, OPT_DISCARD, OPT_STALL, OPT_BACKLOG, OPT_CTL, OPT_HELP, OPT_NO_OFFLOAD, OPT_VERSION,
       OPT_ACCESS_LOG, OPT_METRICS, OPT_PCAPNG, OPT_UDP_ECHO, OPT_UDP_DISCARD, OPT_IO, OPT_BUSY_POLL, OPT_CC,
       OPT_LIMIT_CONN };

static const struct option long_opts[] = {
	{ "tap", required_argument, NULL, OPT_TAP },         { "addr", required_argument, NULL, OPT_ADDR },
	{ "gateway", required_argument, NULL, OPT_GATEWAY }, { "mac", required_argument, NULL, OPT_MAC },
	{ "mtu", required_argument, NULL, OPT_MTU },         { "pcap", required_argument, NULL, OPT_PCAP },
	{ "trace", no_argument, NULL, OPT_TRACE },           { "quiet", no_argument, NULL, OPT_QUIET },
	{ "http", required_argument, NULL, OPT_HTTP },       { "echo", required_argument, NULL, OPT_ECHO },
	{ "discard", required_argument, NULL, OPT_DISCARD }, { "stall", required_argument, NULL, OPT_STALL },
	{ "backlog", required_argument, NULL, OPT_BACKLOG }, { "ctl", required_argument, NULL, OPT_CTL },
	{ "help", no_argument, NULL, OPT_HELP },             { "no-offload", no_argument, NULL, OPT_NO_OFFLOAD },
	{ "version", no_argument, NULL, OPT_VERSION },      { "access-log", required_argument, NULL, OPT_ACCESS_LOG },
	{ "metrics", required_argument, NULL, OPT_METRICS },   { "pcapng", required_argument, NULL, OPT_PCAPNG },
	{ "udp-echo", required_argument, NULL, OPT_UDP_ECHO }, { "udp-discard", required_argument, NULL, OPT_UDP_DISCARD },
	{ "io", required_argument, NULL, OPT_IO },             { "busy-poll", required_argument, NULL, OPT_BUSY_POLL },
	{ "cc", required_argument, NULL, OPT_CC },             { "limit-conn", required_argument, NULL, OPT_LIMIT_CONN },
	{ NULL, 0, NULL, 0 },
};

static void set_tap(struct options *o, const char *name)
{
	if (!*name || strlen(name) > 15 || strchr(name, '/'))
		usage_error("bad --tap '%s' (1 to 15 characters, no '/')", name);
	o->tap = name;
}

static void set_ctl(struct options *o, const char *path)
{
	if (!*path || strlen(path) >= sizeof(((struct sockaddr_un *)0)->sun_path))
		usage_error("bad --ctl '%s' (a path of 1 to %zu characters)", path,
		            sizeof(((struct sockaddr_un *)0)->sun_path) - 1);
	o->ctl = path;
}

/*
 * /tmp/tapstack-TAP-netINODE.sock: the TAP and the network namespace (the inode of
 * /proc/self/ns/net), so instances in two namespaces never share a path, while `tapstack ss`
 * run in the same namespace finds its stack without --ctl.
 */
static void set_default_ctl(struct options *o)
{
	if (o->ctl)
		return;
	struct stat st;
	if (stat("/proc/self/ns/net", &st) == 0)
		snprintf(o->ctl_default, sizeof(o->ctl_default), "/tmp/tapstack-%s-net%llu.sock", o->tap,
		         (unsigned long long)st.st_ino);
	else
		snprintf(o->ctl_default, sizeof(o->ctl_default), "/tmp/tapstack-%s.sock", o->tap);
	o->ctl = o->ctl_default;
}

/*
 * Everything named on the command line is checked before any device is opened: an --http
 * directory must be one, and --access-log is opened (appending) now.
 */
static void check_files(struct options *o)
{
	for (int i = 0; i < o->nservers; i++) {
		const char *dir = o->servers[i].dir;
		if (!dir)
			continue;
		int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (fd < 0)
			usage_error("bad --http directory '%s': %s", dir, strerror(errno));
		close(fd);
	}
	if (o->access_log && !o->nservers_http)
		usage_error("--access-log needs an --http server");
	if (o->access_log && o->pcap && strcmp(o->access_log, "-") == 0 && strcmp(o->pcap, "-") == 0)
		usage_error("--access-log - and a capture to - cannot both have standard output");
	if (o->pcap && strcmp(o->pcap, "-") == 0) {
		/* The capture takes standard output; the program's own lines move to stderr. */
		o->pcap_fd = dup(STDOUT_FILENO);
		if (o->pcap_fd < 0 || dup2(STDERR_FILENO, STDOUT_FILENO) < 0)
			usage_error("--pcap -: %s", strerror(errno));
	} else if (o->pcap) {
		o->pcap_fd = open(o->pcap, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (o->pcap_fd < 0)
			usage_error("bad %s '%s': %s", o->pcapng ? "--pcapng" : "--pcap", o->pcap, strerror(errno));
	}
	if (o->access_log && strcmp(o->access_log, "-") == 0) {
		o->access_log_file = stdout;
	} else if (o->access_log) {
		o->access_log_file = fopen(o->access_log, "ae");
		if (!o->access_log_file)
			usage_error("bad --access-log '%s': %s", o->access_log, strerror(errno));
	}
}

static void parse_options(struct options *o, int argc, char **argv)
{
	o->tap = "tap0";
	o->addr = IPV4_ADDR(10, 0, 0, 2);
	o->prefix_len = 24;
	o->mtu = 1500;
	o->backlog = APP_BACKLOG_DEFAULT;
	opterr = 0;
	int c;
	while ((c = getopt_long(argc, argv, ":hV", long_opts, NULL)) != -1) {
		switch (c) {
		case OPT_TAP: set_tap(o, optarg); break;
		case OPT_ADDR: parse_addr(o, optarg); break;
		case OPT_GATEWAY:
			if (ipv4_addr_parse(optarg, &o->gateway) != 0 || o->gateway == 0)
				usage_error("bad --gateway '%s' (expected A.B.C.D)", optarg);
			break;
		case OPT_MAC: parse_mac(o, optarg); break;
		case OPT_MTU: o->mtu = (uint32_t)parse_num("--mtu", optarg, 68, ETH_MAX_JUMBO_PAYLOAD, NULL); break;
		case OPT_PCAP:
		case OPT_PCAPNG:
			if (o->pcap)
				usage_error("one capture only: --pcap or --pcapng, once");
			o->pcap = optarg;
			o->pcapng = c == OPT_PCAPNG;
			break;
		case OPT_ACCESS_LOG:
			if (!*optarg)
				usage_error("bad --access-log '' (a file, or - for standard output)");
			o->access_log = optarg;
			break;
		case OPT_TRACE: o->trace = true; break;
		case OPT_QUIET: o->quiet = true; break;
		case OPT_HTTP: add_server(o, SRV_HTTP, "--http", optarg); break;
		case OPT_ECHO: add_server(o, SRV_ECHO, "--echo", optarg); break;
		case OPT_DISCARD: add_server(o, SRV_DISCARD, "--discard", optarg); break;
		case OPT_STALL: add_server(o, SRV_STALL, "--stall", optarg); break;
		case OPT_METRICS: add_server(o, SRV_METRICS, "--metrics", optarg); break;
		case OPT_UDP_ECHO: add_server(o, SRV_UDP_ECHO, "--udp-echo", optarg); break;
		case OPT_UDP_DISCARD: add_server(o, SRV_UDP_DISCARD, "--udp-discard", optarg); break;
		case OPT_BACKLOG: o->backlog = (int)parse_num("--backlog", optarg, 0, 65535, NULL); break;
		case OPT_LIMIT_CONN:
			o->limit_conn = (uint32_t)parse_num("--limit-conn", optarg, 0, APP_MAX_CONNS_DEFAULT, NULL);
			break;
		case OPT_CTL: set_ctl(o, optarg); break;
		case 'h':
		case OPT_HELP: fputs(usage_text, stdout); exit(0);
		case OPT_NO_OFFLOAD: o->no_offload = true; break;
		case OPT_IO:
			if (strcmp(optarg, "uring") && strcmp(optarg, "plain"))
				usage_error("bad --io '%s' (uring or plain)", optarg);
			o->io = optarg;
			break;
		case OPT_BUSY_POLL: o->busy_poll_usec = (uint32_t)parse_num("--busy-poll", optarg, 0, 1000000, NULL); break;
		case OPT_CC:
			if (!tcp_cc_known(optarg))
				usage_error("bad --cc '%s' (expected cubic or reno)", optarg);
			o->cc = optarg;
			break;
		case 'V':
		case OPT_VERSION: printf("tapstack %s\n", tapstack_version()); exit(0);
		case ':': usage_error("option '%s' needs a value", bad_option_name(argv));
		default: usage_error("unknown option '%s'", bad_option_name(argv));
		}
	}
	if (optind < argc)
		usage_error("unexpected argument '%s'", argv[optind]);
	check_files(o);
	if (o->gateway) {
		uint32_t mask = o->prefix_len ? ~0u << (32 - o->prefix_len) : 0;
		if ((o->gateway & mask) != (o->addr & mask))
			usage_error("--gateway is not on the prefix of --addr");
	}
	set_default_ctl(o);
}

/* ---- counters at exit ---- */

static void write_stats(struct stack *s, FILE *f, bool nonzero_only)
{
	struct counter_group g[32];
	size_t n = ts_stack_counter_groups(s, g, 32);
	for (size_t i = 0; i < n; i++) {
		bool header = false;
		for (size_t j = 0; j < g[i].n; j++) {
			if (nonzero_only && !g[i].values[j])
				continue;
			if (!header) {
				fprintf(f, "%s:\n", g[i].layer);
				header = true;
			}
			fprintf(f, "    %s: %llu\n", g[i].names[j], (unsigned long long)g[i].values[j]);
		}
	}
}

/*
 * tapstack ss|stats [ARGS] [--tap NAME | --ctl PATH]: every argument is checked here (exit 2
 * naming the bad one) before the control socket is reached.
 */
static int ctl_main(struct options *o, const char *sub, int argc, char **argv)
{
	char *words[CTL_WORDS_MAX];
	int nw = 0;
	o->tap = "tap0";
	for (int i = 0; i < argc; i++) {
		const char *a = argv[i];
		const char *val = NULL;
		if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			fputs(strcmp(sub, "ss") == 0 ? ss_usage : nstat_usage, stdout);
			exit(0);
		}
		if (strcmp(a, "--tap") == 0 || strcmp(a, "--ctl") == 0) {
			if (i + 1 >= argc)
				usage_error("option '%s' needs a value", a);
			val = argv[++i];
		} else if (strncmp(a, "--tap=", 6) == 0 || strncmp(a, "--ctl=", 6) == 0) {
			val = a + 6;
		}
		if (val && a[2] == 't')
			set_tap(o, val);
		else if (val)
			set_ctl(o, val);
		else if (nw == CTL_WORDS_MAX - 1)
			usage_error("too many arguments for %s", sub);
		else
			words[nw++] = argv[i];
	}
	set_default_ctl(o);
	char err[160];
	int status = ctl_client(sub, nw, words, o->ctl, err, sizeof(err));
	if (status < 0)
		usage_error("%s (try 'tapstack %s --help')", err, sub);
	return status;
}

/* ---- servers ---- */

/* --metrics: the counters as Prometheus text, rendered at each GET /metrics. */
static void render_metrics(void *arg, FILE *out)
{
	nstat_write_prometheus(arg, out);
}

static struct app *server_start(struct net *net, const struct server_opt *so, int backlog, FILE *access_log,
                                struct stack *s)
{
	int bl = so->backlog >= 0 ? so->backlog : backlog;
	switch (so->kind) {
	case SRV_HTTP: {
		struct app *a = http_app_create(net, so->port, so->dir, bl);
		if (a)
			http_app_set_access_log(a, access_log);
		return a;
	}
	case SRV_ECHO: return echo_app_create(net, so->port, bl);
	case SRV_DISCARD: return discard_app_create(net, so->port, bl);
	case SRV_STALL: return stall_app_create(net, so->port, bl);
	case SRV_METRICS: {
		struct app *a = http_app_create(net, so->port, NULL, bl);
		if (a)
			http_app_set_metrics(a, render_metrics, s);
		return a;
	}
	case SRV_UDP_ECHO: return udp_echo_app_create(net, so->port);
	case SRV_UDP_DISCARD: return udp_discard_app_create(net, so->port);
	}
	return NULL;
}

static const char *const server_names[] = { "http", "echo", "discard", "stall", "metrics", "udp-echo",
	                                     "udp-discard" };

/* ---- main ---- */

static int run(struct program *p)
{
	struct options *o = &p->opt;
	char err[256];
	struct netdev *dev;
	/* The control socket first: a second tapstack given the same path stops before it
	 * touches any device. */
	int cfd = ctl_listen(o->ctl);
	if (cfd < 0) {
		fprintf(stderr, "tapstack: control socket %s: %s\n", o->ctl,
		        cfd == -EADDRINUSE ? "another tapstack is using it (choose one with --ctl PATH)"
		                           : strerror(-cfd));
		return 1;
	}
	/* Offload (drivers/tap.c) unless asked not to, or when frames are traced one line each.
	 * A capture keeps it: super-frames are recorded as the kernel's tcpdump shows them. */
	unsigned tap_flags = (o->no_offload || o->trace) ? 0 : TAP_OPEN_OFFLOAD;
	bool plain = o->io && !strcmp(o->io, "plain");
	int rc = ts_tap_open_ex(&dev, o->tap, o->mtu, tap_flags | (plain ? 0 : TAP_OPEN_URING), err, sizeof(err));
	if (rc && !o->io && strstr(err, "io_uring")) {
		/* No choice made and this kernel refuses io_uring: the plain back end instead. */
		fprintf(stderr, "tapstack: %s; using plain I/O\n", err);
		rc = ts_tap_open_ex(&dev, o->tap, o->mtu, tap_flags, err, sizeof(err));
	}
	if (rc) {
		fprintf(stderr, "tapstack: %s\n", err);
		goto fail_ctl;
	}
	const char *io_name = ts_tap_io_name(dev);   /* before a capture wraps the device */
	if (o->pcap || o->trace) {
		struct pcap_wrap_config pc = {
			.fd = o->pcap ? o->pcap_fd : 0,
			.pcapng = o->pcapng,
			.clock = &p->stack.core.now,
			.now = ts_clock_now,
			.wall_base_usec = p->wall_base,
			.hook = o->trace ? trace_frame : NULL,
		};
		struct netdev *w;
		if (ts_pcap_wrap(&w, dev, &pc, err, sizeof(err)) != 0) {
			fprintf(stderr, "tapstack: --pcap %s\n", err);
			netdev_close(dev);
			goto fail_ctl;
		}
		dev = w;
	}

	struct stack_config cfg;
	ts_stack_config_default(&cfg);
	cfg.link.addr = o->addr;
	cfg.link.prefix_len = o->prefix_len;
	cfg.link.gateway = o->gateway;
	cfg.link.mtu = o->mtu;
	if (o->cc)
		snprintf(cfg.tcp.congestion_control, sizeof(cfg.tcp.congestion_control), "%s", o->cc);
	if (o->mac_set)
		memcpy(cfg.link.mac, o->mac, 6);   /* otherwise random, as the seed (ts_stack_init) */
	cfg.log = (struct log){ .sink = stack_log_sink, .trace = o->trace };
	cfg.busy_poll_usec = o->busy_poll_usec;
	rc = ts_stack_init(&p->stack, &cfg, dev, ts_clock_now());
	if (rc) {
		fprintf(stderr, "tapstack: cannot start the stack: %s\n", strerror(-rc));
		goto fail_ctl;
	}
	char a[16], m[18];
	char busy[40] = "";
	if (o->busy_poll_usec)
		snprintf(busy, sizeof(busy), ", busy-poll %u us", o->busy_poll_usec);
	printf("tapstack: %s %s/%u mac %s mtu %u, io %s%s%s%s%s%s\n", dev->name, ipv4_addr_str(o->addr, a),
	       o->prefix_len, dump_mac(p->stack.link.cfg.mac, m), o->mtu, io_name, busy, o->pcap ? ", pcap " : "",
	       o->pcap ? o->pcap : "", o->trace ? ", trace on" : "", dev->offload ? ", offload" : "");

	/* Signals arrive as readable data on a signalfd, so the loop handles them in order. */
	sigset_t sigs;
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	sigprocmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);
	int sfd = signalfd(-1, &sigs, SFD_NONBLOCK | SFD_CLOEXEC);


	struct net net = { .sl = ts_stack_sockets(&p->stack) };
	struct app *apps[MAX_APPS];
	int napps = 0, status = 0;
	for (int i = 0; i < o->nservers; i++) {
		struct app *ap = server_start(&net, &o->servers[i], o->backlog, o->access_log_file, &p->stack);
		if (!ap) {
			fprintf(stderr, "tapstack: cannot start the %s server on port %u\n",
			        server_names[o->servers[i].kind], o->servers[i].port);
			status = 1;
			goto out;
		}
		apps[napps++] = ap;
		printf("tapstack: %s server on port %u\n", server_names[o->servers[i].kind], o->servers[i].port);
		if (o->limit_conn && server_app_set_limit_conn(ap, o->limit_conn) < 0) {
			fprintf(stderr, "tapstack: --limit-conn: out of memory\n");
			status = 1;
			goto out;
		}
	}

	struct pollfd *fds = calloc(MAX_POLLFDS, sizeof(*fds));
	if (!fds) {
		fprintf(stderr, "tapstack: out of memory\n");
		status = 1;
		goto out;
	}
	for (bool stop = false; !stop;) {
		int counts[MAX_APPS], nfds = 0;
		for (int i = 0; i < napps; i++) {
			counts[i] = apps[i]->collect(apps[i]->state, fds + nfds, MAX_POLLFDS - nfds);
			nfds += counts[i];
		}
		struct pollfd kfds[2] = { { .fd = sfd, .events = POLLIN }, { .fd = cfd, .events = POLLIN } };
		/* Bounded: the servers check their idle and linger deadlines in collect(), and
		 * nothing else would bring a quiet loop back there (apps/app.h). */
		int r = ts_stack_wait_kernel(&p->stack, fds, (nfds_t)nfds, kfds, 2, APP_WAKE_INTERVAL_MS);
		if (r < 0 && r != -EINTR) {
			fprintf(stderr, "tapstack: wait: %s\n", strerror(-r));
			status = 1;
			break;
		}
		if (kfds[0].revents & POLLIN) {
			struct signalfd_siginfo si;
			if (read(sfd, &si, sizeof(si)) == (ssize_t)sizeof(si))
				printf("tapstack: %s, stopping\n", si.ssi_signo == SIGINT ? "SIGINT" : "SIGTERM");
			stop = true;
		}
		if (kfds[1].revents & POLLIN)
			ctl_serve(&p->stack, cfd);
		if (r > 0 && nfds) {
			int off = 0;
			for (int i = 0; i < napps; i++) {
				apps[i]->dispatch(apps[i]->state, fds + off, counts[i]);
				off += counts[i];
			}
		}
	}
	free(fds);
out:
	for (int i = napps - 1; i >= 0; i--)
		apps[i]->stop(apps[i]->state);
	if (o->access_log_file && o->access_log_file != stdout)
		fclose(o->access_log_file);
	printf("tapstack: counters (zero counters omitted; `tapstack stats` shows all):\n");
	write_stats(&p->stack, stdout, true);
	fflush(stdout);
	ts_stack_destroy(&p->stack);     /* closes the capture driver: the pcap file is flushed */
	close(cfd);
	unlink(o->ctl);
	if (sfd >= 0)
		close(sfd);
	return status;

fail_ctl:
	close(cfd);
	unlink(o->ctl);
	return 1;
}

int main(int argc, char **argv)
{
	static struct program prog;
	the_program = &prog;
	prog.wall_base = wall_base_now();
	/* Line-buffered even into a pipe or a file, so trace lines keep their order with others'. */
	setvbuf(stdout, NULL, _IOLBF, 0);

	if (argc > 1 && (strcmp(argv[1], "ss") == 0 || strcmp(argv[1], "stats") == 0))
		return ctl_main(&prog.opt, argv[1], argc - 2, argv + 2);
	parse_options(&prog.opt, argc, argv);
	prog.quiet = prog.opt.quiet;
	return run(&prog);
}
