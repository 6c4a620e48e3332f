/*
 * nstat.c - `tapstack stats` (see nstat.h): counters as nstat(8) shows the kernel's.
 *
 * The history for -d is a file like nstat's /tmp/.nstat.uUID: /tmp/.tapstack-stats.uUID.HASH,
 * HASH naming the control socket, holding the raw lines of the previous -d. Tested by
 * tests/net/test_program.sh (deltas between two calls, JSON, Prometheus text).
 */
#include "apps/cli/nstat.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "stack.h"

const char nstat_usage[] =
	"usage: tapstack stats [-z] [-d [-a]] [-r] [--json | --prometheus] [--tap NAME | --ctl PATH]\n"
	"  the running stack's counters, as nstat(8) shows the kernel's: non-zero ones by default\n"
	"  -z            zero counters too\n"
	"  -d            deltas since the previous 'stats -d' of this stack (the first: since start)\n"
	"  -a            with -d: absolute values (still remembered for the next -d)\n"
	"  -r            forget the remembered values\n"
	"  --json        one JSON object: {\"layer\": {\"name\": value, ...}, ...}\n"
	"  --prometheus  Prometheus text format, every counter\n";

int nstat_parse(struct nstat_opts *o, int argc, char **argv, char *err, size_t errlen)
{
	*o = (struct nstat_opts){ 0 };
	for (int i = 0; i < argc; i++) {
		const char *w = argv[i];
		if (strcmp(w, "--json") == 0 || strcmp(w, "-j") == 0) {
			o->json = true;
		} else if (strcmp(w, "--prometheus") == 0) {
			o->prometheus = true;
		} else if (w[0] == '-' && w[1] && w[1] != '-') {
			for (const char *c = w + 1; *c; c++)
				switch (*c) {
				case 'z': o->zeros = true; break;
				case 'd': o->deltas = true; break;
				case 'a': o->absolute = true; break;
				case 'r': o->reset = true; break;
				default: snprintf(err, errlen, "stats: unknown option '-%c'", *c); return -1;
				}
		} else {
			snprintf(err, errlen, "stats: unexpected argument '%s'", w);
			return -1;
		}
	}
	if (o->json && o->prometheus) {
		snprintf(err, errlen, "stats: --json and --prometheus exclude each other");
		return -1;
	}
	return 0;
}

#define NSTAT_GROUPS_MAX 32

void nstat_write_raw(struct stack *s, FILE *f)
{
	struct counter_group g[NSTAT_GROUPS_MAX];
	size_t n = ts_stack_counter_groups(s, g, NSTAT_GROUPS_MAX);
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < g[i].n; j++)
			fprintf(f, "%s.%s %llu\n", g[i].layer, g[i].names[j], (unsigned long long)g[i].values[j]);
}

void nstat_write_prometheus(struct stack *s, FILE *f)
{
	struct counter_group g[NSTAT_GROUPS_MAX];
	size_t n = ts_stack_counter_groups(s, g, NSTAT_GROUPS_MAX);
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < g[i].n; j++) {
			fprintf(f, "# TYPE tapstack_%s_%s counter\n", g[i].layer, g[i].names[j]);
			fprintf(f, "tapstack_%s_%s %llu\n", g[i].layer, g[i].names[j], (unsigned long long)g[i].values[j]);
		}
}

/* One parsed counter line. */
struct nstat_entry {
	char name[96];
	unsigned long long value;
};

/* Parses "name value" lines; returns how many (at most max). */
static size_t nstat_read(const char *text, struct nstat_entry *e, size_t max)
{
	size_t n = 0;
	while (text && *text && n < max) {
		const char *nl = strchr(text, '\n');
		size_t len = nl ? (size_t)(nl - text) : strlen(text);
		char line[160];
		if (len < sizeof(line)) {
			memcpy(line, text, len);
			line[len] = '\0';
			if (sscanf(line, "%95s %llu", e[n].name, &e[n].value) == 2)
				n++;
		}
		text = nl ? nl + 1 : NULL;
	}
	return n;
}

void nstat_history_path(char *buf, size_t len, const char *key)
{
	uint32_t h = 2166136261u; /* FNV-1a of the control socket's path */
	for (const char *c = key; *c; c++)
		h = (h ^ (uint8_t)*c) * 16777619u;
	snprintf(buf, len, "/tmp/.tapstack-stats.u%u.%08x", (unsigned)getuid(), h);
}

/* The history, if it is a regular file of ours: /tmp is shared, and another user's file (or a
 * link planted there) must not feed our deltas. */
static char *nstat_slurp(const char *path)
{
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	struct stat st;
	if (fd < 0)
		return NULL;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_uid != getuid()) {
		close(fd);
		return NULL;
	}
	FILE *f = fdopen(fd, "r");
	if (!f) {
		close(fd);
		return NULL;
	}
	size_t cap = 1 << 16, n = 0;
	char *buf = malloc(cap + 1);
	if (buf) {
		n = fread(buf, 1, cap, f);
		buf[n] = '\0';
	}
	fclose(f);
	return buf;
}

#define NSTAT_MAX 1024

int nstat_print(const struct nstat_opts *o, const char *raw, const char *history_key, FILE *out)
{
	static struct nstat_entry cur[NSTAT_MAX], old[NSTAT_MAX];
	char hpath[128];
	size_t n = nstat_read(raw, cur, NSTAT_MAX), nold = 0;
	nstat_history_path(hpath, sizeof(hpath), history_key);
	if (o->reset && unlink(hpath) != 0 && errno != ENOENT) {
		fprintf(stderr, "tapstack: %s: %s\n", hpath, strerror(errno));
		return -1;
	}
	if (o->deltas && !o->absolute) {
		char *h = nstat_slurp(hpath);
		nold = nstat_read(h, old, NSTAT_MAX);
		free(h);
	}
	if (o->deltas) {
		/* Written whole then renamed, so a concurrent reader never sees half a history. */
		char tmp[160];
		snprintf(tmp, sizeof(tmp), "%s.%d", hpath, (int)getpid());
		int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		FILE *hf = fd >= 0 ? fdopen(fd, "w") : NULL;
		if (!hf && fd >= 0)
			close(fd);
		if (hf) {
			fputs(raw, hf);
			if (fclose(hf) != 0 || rename(tmp, hpath) != 0)
				unlink(tmp);
		}
	}
	const char *layer_open = NULL;
	size_t layer_len = 0;
	bool first_layer = true, first_in_layer = true;
	if (o->json)
		fputc('{', out);
	for (size_t i = 0; i < n; i++) {
		unsigned long long v = cur[i].value;
		for (size_t j = 0; j < nold; j++)
			if (strcmp(old[j].name, cur[i].name) == 0) {
				v = v >= old[j].value ? v - old[j].value : v; /* a restarted stack: from zero */
				break;
			}
		if (!v && !o->zeros)
			continue;
		if (!o->json) {
			fprintf(out, "%-40s %llu\n", cur[i].name, v);
			continue;
		}
		const char *dot = strchr(cur[i].name, '.');
		size_t ll = dot ? (size_t)(dot - cur[i].name) : 0;
		if (!layer_open || ll != layer_len || strncmp(layer_open, cur[i].name, ll) != 0) {
			if (layer_open)
				fputc('}', out);
			fprintf(out, "%s\"%.*s\":{", first_layer ? "" : ",", (int)ll, cur[i].name);
			layer_open = cur[i].name;
			layer_len = ll;
			first_layer = false;
			first_in_layer = true;
		}
		fprintf(out, "%s\"%s\":%llu", first_in_layer ? "" : ",", dot ? dot + 1 : cur[i].name, v);
		first_in_layer = false;
	}
	if (o->json)
		fputs(layer_open ? "}}\n" : "}\n", out);
	return 0;
}
