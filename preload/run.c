/*
 * run.c - build/tapstack-run: runs a program with its IPv4 TCP sockets on tapstack.
 *
 *   tapstack-run [--tap NAME] [--addr A.B.C.D/N] [--gateway A.B.C.D] [--mac MAC] [--mtu N]
 *                [--no-offload] [--trace] [--pcap FILE] [--ctl PATH] [--verbose]
 *                -- PROGRAM [ARGS...]
 *
 * It only prepares the environment and executes PROGRAM: the options become TAPSTACK_*
 * variables, and LD_PRELOAD gets libtapstack-preload.so from the directory this program
 * lives in (build/). The library starts the stack inside PROGRAM on its first IPv4 TCP
 * socket (preload/state.c). docs/preload.md describes the whole path.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define RUN_LIB "libtapstack-preload.so"

static const char usage_text[] =
	"usage: tapstack-run [OPTIONS] -- PROGRAM [ARGS...]\n"
	"Runs PROGRAM with its IPv4 TCP sockets on a tapstack instance inside it, attached to a TAP.\n"
	"  --tap NAME            TAP device (default tap0; created if missing)\n"
	"  --addr A.B.C.D/N      the stack's address and prefix (default 10.0.0.2/24)\n"
	"  --gateway A.B.C.D     next hop for destinations off the prefix (default none)\n"
	"  --mac MAC             the stack's MAC (default: random, locally administered)\n"
	"  --mtu N               IP MTU (default 1500)\n"
	"  --no-offload          plain frames (no IFF_VNET_HDR checksum/TSO offload)\n"
	"  --trace               one line per frame and per TCP state change, on stderr\n"
	"  --pcap FILE           record every frame both ways\n"
	"  --ctl PATH            control socket: tapstack ss --ctl PATH, tapstack stats --ctl PATH\n"
	"  --verbose             say when and where the stack starts\n"
	"IPv6 sockets fail with EAFNOSUPPORT (programs fall back to IPv4); UDP fails with\n"
	"EPROTONOSUPPORT; everything else the program does goes to the kernel. See docs/preload.md.\n";

static void die_usage(const char *fmt, const char *arg)
{
	fprintf(stderr, "tapstack-run: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\n%s", usage_text);
	exit(2);
}

/* The library beside this executable. */
static void lib_path(char *out, size_t size)
{
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n <= 0) {
		snprintf(out, size, "%s", RUN_LIB);
		return;
	}
	self[n] = '\0';
	char *slash = strrchr(self, '/');
	if (slash)
		*slash = '\0';
	snprintf(out, size, "%s/%s", self, RUN_LIB);
}

int main(int argc, char **argv)
{
	enum { O_TAP = 1, O_ADDR, O_GW, O_MAC, O_MTU, O_NOOFF, O_TRACE, O_PCAP, O_CTL, O_VERBOSE, O_HELP };
	static const struct option opts[] = {
		{ "tap", required_argument, NULL, O_TAP },       { "addr", required_argument, NULL, O_ADDR },
		{ "gateway", required_argument, NULL, O_GW },    { "mac", required_argument, NULL, O_MAC },
		{ "mtu", required_argument, NULL, O_MTU },       { "no-offload", no_argument, NULL, O_NOOFF },
		{ "trace", no_argument, NULL, O_TRACE },         { "pcap", required_argument, NULL, O_PCAP },
		{ "ctl", required_argument, NULL, O_CTL },       { "verbose", no_argument, NULL, O_VERBOSE },
		{ "help", no_argument, NULL, O_HELP },           { NULL, 0, NULL, 0 },
	};
	int c;
	while ((c = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
		switch (c) {
		case O_TAP: setenv("TAPSTACK_TAP", optarg, 1); break;
		case O_ADDR: setenv("TAPSTACK_ADDR", optarg, 1); break;
		case O_GW: setenv("TAPSTACK_GATEWAY", optarg, 1); break;
		case O_MAC: setenv("TAPSTACK_MAC", optarg, 1); break;
		case O_MTU: setenv("TAPSTACK_MTU", optarg, 1); break;
		case O_NOOFF: setenv("TAPSTACK_NO_OFFLOAD", "1", 1); break;
		case O_TRACE: setenv("TAPSTACK_TRACE", "1", 1); break;
		case O_PCAP: setenv("TAPSTACK_PCAP", optarg, 1); break;
		case O_CTL: setenv("TAPSTACK_CTL", optarg, 1); break;
		case O_VERBOSE: setenv("TAPSTACK_VERBOSE", "1", 1); break;
		case O_HELP: fputs(usage_text, stdout); return 0;
		default: die_usage("%s", "bad option");
		}
	}
	if (optind >= argc)
		die_usage("%s", "no PROGRAM given");
	char lib[PATH_MAX + 32];
	lib_path(lib, sizeof(lib));
	if (access(lib, R_OK) != 0)
		die_usage("cannot read the preload library %s (make it first)", lib);
	const char *old = getenv("LD_PRELOAD");
	char *pre = NULL;
	if (asprintf(&pre, "%s%s%s", lib, old && *old ? ":" : "", old && *old ? old : "") < 0)
		return 1;
	setenv("LD_PRELOAD", pre, 1);
	free(pre);
	execvp(argv[optind], argv + optind);
	fprintf(stderr, "tapstack-run: %s: %s\n", argv[optind], strerror(errno));
	return 127;
}
