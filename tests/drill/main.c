/*
 * main.c - build/tapstack-drill: runs packetdrill scripts against tapstack (issue 4).
 *
 *   tapstack-drill [-v] [--tolerance_usecs=N] script.pkt...
 *   tapstack-drill --corpus DIR --expect tests/drill/expectations.txt [script.pkt...]
 *
 * Each script runs on a fresh stack in virtual time (exec.c) and gets one line, PASS or
 * FAIL, with the first mismatch under a FAIL ("file:line: ..." and the script's versus
 * the actual packet, or the call's expected versus actual result). The last line is
 * "N passed, N failed"; the exit status is 0 only when every script passed.
 *
 * With --corpus, every .pkt under DIR is added (sorted) and named relative to DIR; its
 * INDEX.tsv (if present) gives each script's grade for the per-grade counts. With --expect,
 * the expectations file lists the scripts known not to pass yet, one per line with the
 * reason ("path<TAB>reason"): such a failure is reported as XFAIL and does not fail the
 * run; a listed script that passes is reported as XPASS (time to remove its line); an
 * unlisted failure is a regression and makes the exit status 1.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "runner.h"
#include "script.h"

struct item {
	char *path;      /* to open */
	char *name;      /* to print and to look up in the expectations and the index */
	char grade;      /* 'A', 'B', 'C' from INDEX.tsv, or 0 */
};

struct list {
	struct item *v;
	size_t n, cap;
};

static void list_add(struct list *l, const char *path, const char *name)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 64;
		l->v = realloc(l->v, l->cap * sizeof(*l->v));
		if (!l->v) {
			perror("tapstack-drill");
			exit(2);
		}
	}
	l->v[l->n].path = strdup(path);
	l->v[l->n].name = strdup(name);
	l->v[l->n].grade = 0;
	if (!l->v[l->n].path || !l->v[l->n].name) {
		perror("tapstack-drill");
		exit(2);
	}
	l->n++;
}

static int item_cmp(const void *a, const void *b)
{
	return strcmp(((const struct item *)a)->name, ((const struct item *)b)->name);
}

/* Every .pkt under dir (recursive), named relative to root. */
static void scan_corpus(struct list *l, const char *root, const char *rel)
{
	char dirpath[4096];
	snprintf(dirpath, sizeof(dirpath), "%s%s%s", root, rel[0] ? "/" : "", rel);
	DIR *d = opendir(dirpath);
	if (!d)
		return;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		char sub[4096], full[8192];
		snprintf(sub, sizeof(sub), "%s%s%s", rel, rel[0] ? "/" : "", e->d_name);
		snprintf(full, sizeof(full), "%s/%s", root, sub);
		struct stat st;
		if (stat(full, &st) != 0)
			continue;
		if (S_ISDIR(st.st_mode))
			scan_corpus(l, root, sub);
		else if (strlen(e->d_name) > 4 && strcmp(e->d_name + strlen(e->d_name) - 4, ".pkt") == 0)
			list_add(l, full, sub);
	}
	closedir(d);
}

/* Grades from the corpus INDEX.tsv (path<TAB>group<TAB>grade...). */
static void read_grades(struct list *l, const char *root)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/INDEX.tsv", root);
	FILE *f = fopen(path, "r");
	if (!f)
		return;
	char line[8192];
	while (fgets(line, sizeof(line), f)) {
		char *t1 = strchr(line, '\t');
		if (!t1)
			continue;
		char *t2 = strchr(t1 + 1, '\t');
		if (!t2)
			continue;
		*t1 = 0;
		for (size_t i = 0; i < l->n; i++)
			if (strcmp(l->v[i].name, line) == 0)
				l->v[i].grade = t2[1];
	}
	fclose(f);
}

struct expectation {
	char *name;
	char *reason;
	bool seen;
};

static struct expectation *read_expectations(const char *path, size_t *n)
{
	FILE *f = fopen(path, "r");
	if (!f) {
		fprintf(stderr, "tapstack-drill: %s: %s\n", path, strerror(errno));
		exit(2);
	}
	struct expectation *v = NULL;
	size_t cap = 0;
	*n = 0;
	char line[4096];
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\r\n")] = 0;
		char *p = line;
		while (*p == ' ' || *p == '\t')
			p++;
		if (!*p || *p == '#')
			continue;
		char *sep = strpbrk(p, " \t");
		char *reason = (char *)"";
		if (sep) {
			*sep = 0;
			reason = sep + 1;
			while (*reason == ' ' || *reason == '\t')
				reason++;
		}
		if (*n == cap) {
			cap = cap ? cap * 2 : 64;
			v = realloc(v, cap * sizeof(*v));
			if (!v) {
				perror("tapstack-drill");
				exit(2);
			}
		}
		v[*n].name = strdup(p);
		v[*n].reason = strdup(reason);
		v[*n].seen = false;
		(*n)++;
	}
	fclose(f);
	return v;
}

static struct expectation *find_expectation(struct expectation *v, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(v[i].name, name) == 0)
			return &v[i];
	return NULL;
}

/* Tally of settings without a knob across all scripts, for the closing summary. */
struct tally {
	char name[64];
	unsigned count;
};

static void tally_add(struct tally *t, size_t *n, size_t max, const char *list)
{
	char buf[1024];
	snprintf(buf, sizeof(buf), "%s", list);
	for (char *tok = strtok(buf, " "); tok; tok = strtok(NULL, " ")) {
		size_t i;
		for (i = 0; i < *n; i++)
			if (strcmp(t[i].name, tok) == 0)
				break;
		if (i == *n) {
			if (*n == max)
				continue;
			snprintf(t[i].name, sizeof(t[i].name), "%s", tok);
			t[i].count = 0;
			(*n)++;
		}
		t[i].count++;
	}
}

/*
 * --update-expectations: rewrites the file with its leading comment block, then one line
 * per failing script: its old reason when it had one, else a TODO with the first mismatch
 * for a person to turn into a reason. Lines of scripts that pass now disappear.
 */
static void write_expectations(const char *path, char **lines, size_t n)
{
	char header[4096] = "";
	FILE *f = fopen(path, "r");
	if (f) {
		char buf[1024];
		size_t len = 0;
		while (fgets(buf, sizeof(buf), f) && (buf[0] == '#' || buf[0] == '\n')) {
			size_t k = strlen(buf);
			if (len + k < sizeof(header)) {
				memcpy(header + len, buf, k + 1);
				len += k;
			}
		}
		fclose(f);
	}
	f = fopen(path, "w");
	if (!f) {
		fprintf(stderr, "tapstack-drill: %s: %s\n", path, strerror(errno));
		return;
	}
	fputs(header, f);
	for (size_t i = 0; i < n; i++)
		if (lines[i])
			fprintf(f, "%s\n", lines[i]);
	fclose(f);
	printf("updated %s: %zu scripts listed\n", path, n);
}

static void usage(FILE *f)
{
	fprintf(f, "usage: tapstack-drill [-v] [--tolerance_usecs=N] [--corpus DIR] [--expect FILE [--update-expectations]]\n"
	           "                      [script.pkt...]\n"
	           "  Runs packetdrill scripts against tapstack in virtual time; see docs/testing.md.\n"
	           "  -v                    print the whole exchange of each script\n"
	           "  --tolerance_usecs=N   timing tolerance for every script (default: 4000, or the script's)\n"
	           "  --corpus DIR          also run every .pkt under DIR (grades from DIR/INDEX.tsv)\n"
	           "  --expect FILE         known failures (path<TAB>reason): only unlisted failures fail the run\n"
	           "  --update-expectations rewrite the --expect file: drop scripts that pass, add new failures (TODO)\n"
	           "  --version, -V         the version\n");
}

int main(int argc, char **argv)
{
	bool verbose = false, update = false;
	long tol = -1;
	const char *corpus = NULL, *expect_path = NULL;
	struct list l = {0};

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (strcmp(a, "-v") == 0 || strcmp(a, "--verbose") == 0) {
			verbose = true;
		} else if (strncmp(a, "--tolerance_usecs=", 18) == 0) {
			char *e;
			tol = strtol(a + 18, &e, 10);
			if (*e || tol < 0) {
				fprintf(stderr, "tapstack-drill: bad %s\n", a);
				return 2;
			}
		} else if (strcmp(a, "--corpus") == 0 && i + 1 < argc) {
			corpus = argv[++i];
		} else if (strcmp(a, "--expect") == 0 && i + 1 < argc) {
			expect_path = argv[++i];
		} else if (strcmp(a, "--update-expectations") == 0) {
			update = true;
		} else if (strcmp(a, "-V") == 0 || strcmp(a, "--version") == 0) {
			printf("tapstack-drill %s\n", tapstack_version());
			return 0;
		} else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			usage(stdout);
			return 0;
		} else if (a[0] == '-') {
			fprintf(stderr, "tapstack-drill: unknown option %s\n", a);
			usage(stderr);
			return 2;
		} else {
			list_add(&l, a, a);
		}
	}
	if (corpus) {
		struct stat st;
		if (stat(corpus, &st) != 0 || !S_ISDIR(st.st_mode)) {
			fprintf(stderr, "tapstack-drill: corpus %s not found (set DRILL_CORPUS=DIR)\n", corpus);
			return 2;
		}
		size_t first = l.n;
		scan_corpus(&l, corpus, "");
		qsort(l.v + first, l.n - first, sizeof(*l.v), item_cmp);
		read_grades(&l, corpus);
	}
	if (l.n == 0) {
		usage(stderr);
		return 2;
	}
	size_t nexp = 0;
	struct expectation *exp = expect_path ? read_expectations(expect_path, &nexp) : NULL;

	unsigned passed = 0, failed = 0, xpass = 0, regress = 0;
	/* For --update-expectations: each failing script's reason (kept, or its first mismatch). */
	char **fail_lines = calloc(l.n ? l.n : 1, sizeof(*fail_lines));
	size_t nfail_lines = 0;
	if (!fail_lines) {
		perror("tapstack-drill");
		return 2;
	}
	unsigned gpass[3] = {0}, gtotal[3] = {0};
	struct tally tl[128];
	size_t ntl = 0;
	for (size_t i = 0; i < l.n; i++) {
		struct item *it = &l.v[i];
		char err[DRILL_ERR_MAX];
		struct drill_report rep;
		struct drill_script *sc = drill_script_load(it->path, err);
		if (verbose)
			printf("---- %s\n", it->name);
		if (!sc) {
			memset(&rep, 0, sizeof(rep));
			snprintf(rep.msg, sizeof(rep.msg), "parse error: %s", err);
		} else {
			fflush(stdout);
			drill_run_script(sc, stdout, verbose, tol, &rep);
			drill_script_free(sc);
		}
		tally_add(tl, &ntl, sizeof(tl) / sizeof(tl[0]), rep.ignored);
		struct expectation *x = exp ? find_expectation(exp, nexp, it->name) : NULL;
		if (x)
			x->seen = true;
		int g = it->grade >= 'A' && it->grade <= 'C' ? it->grade - 'A' : -1;
		if (g >= 0)
			gtotal[g]++;
		if (rep.passed) {
			passed++;
			if (g >= 0)
				gpass[g]++;
			if (x) {
				xpass++;
				printf("XPASS %s   (listed in %s as \"%s\": it passes now, remove the line)\n", it->name,
				       expect_path, x->reason);
			} else {
				printf("PASS  %s\n", it->name);
			}
		} else {
			failed++;
			const char *tag = x ? "XFAIL" : "FAIL ";
			if (!x && expect_path)
				regress++;
			printf("%s %s%s\n", tag, it->name, rep.unsupported ? "   (unsupported feature)" : "");
			if (rep.line > 0)
				printf("  %s:%d: %s\n", it->path, rep.line, rep.msg);
			else
				printf("  %s: %s\n", it->path, rep.msg);
			if (x && x->reason[0])
				printf("  (expected: %s)\n", x->reason);
			if (verbose && rep.ignored[0])
				printf("  settings without a tapstack knob: %s\n", rep.ignored);
			char line[1024];
			if (x && x->reason[0])
				snprintf(line, sizeof(line), "%s\t%s", it->name, x->reason);
			else
				snprintf(line, sizeof(line), "%s\tgrade %c: TODO say why; first mismatch at line %d: %.*s", it->name,
				         it->grade ? it->grade : '?', rep.line, (int)strcspn(rep.msg, "\n"), rep.msg);
			fail_lines[nfail_lines++] = strdup(line);
		}
		fflush(stdout);
	}
	if (ntl) {
		printf("settings without a tapstack knob (ignored; scripts using them):");
		for (size_t i = 0; i < ntl; i++)
			printf("%s %s (%u)", i ? "," : "", tl[i].name, tl[i].count);
		printf("\n");
	}
	if (gtotal[0] + gtotal[1] + gtotal[2])
		printf("grades: A %u/%u passed, B %u/%u passed, C %u/%u passed\n", gpass[0], gtotal[0], gpass[1], gtotal[1],
		       gpass[2], gtotal[2]);
	if (expect_path) {
		for (size_t i = 0; i < nexp; i++)
			if (!exp[i].seen)
				printf("note: %s lists %s, which was not run\n", expect_path, exp[i].name);
		printf("expectations: %u known failures, %u regressions (unlisted failures), %u listed scripts now pass\n",
		       failed - regress, regress, xpass);
	}
	/*
	 * The closing line. With an expectations file the failures that count are the
	 * regressions (`make test` sums these lines); the known ones are named beside them.
	 */
	if (expect_path)
		printf("drill: %u passed, %u failed (%u known failures listed in %s)\n", passed, regress, failed - regress,
		       expect_path);
	else
		printf("%u passed, %u failed\n", passed, failed);

	if (update && expect_path)
		write_expectations(expect_path, fail_lines, nfail_lines);
	for (size_t i = 0; i < nfail_lines; i++)
		free(fail_lines[i]);
	free(fail_lines);
	for (size_t i = 0; i < l.n; i++) {
		free(l.v[i].path);
		free(l.v[i].name);
	}
	free(l.v);
	for (size_t i = 0; i < nexp; i++) {
		free(exp[i].name);
		free(exp[i].reason);
	}
	free(exp);
	if (expect_path)
		return regress ? 1 : 0;
	return failed ? 1 : 0;
}
