/*
 * bytes_check.c - build/bytes-check [--prefix] N [FILE...]: exit 0 when each FILE (or
 * stdin) holds exactly N bytes of the /bytes/N pattern served by apps/http.c, else print
 * where it first differs and exit 1. With --prefix a shorter file passes too when what it
 * holds is right (a download cut off by a time bound, as in scripts/bench/lossy.py). Used
 * by tests/net/test_tcp_http.sh to check downloads byte for byte.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apps/http_parse.h"

static int bytes_check_file(const char *name, FILE *f, uint64_t want, int prefix)
{
	static uint8_t buf[1 << 16];
	uint64_t off = 0;
	size_t n;

	while ((n = fread(buf, 1, sizeof(buf), f)) > 0) {
		size_t bad = http_bytes_check(buf, off, n);

		if (bad < n) {
			fprintf(stderr, "%s: byte %" PRIu64 " is %u, expected %u\n", name, off + bad,
				buf[bad], http_bytes_at(off + bad));
			return 1;
		}
		off += n;
	}
	if (ferror(f)) {
		fprintf(stderr, "%s: read error: %s\n", name, strerror(errno));
		return 1;
	}
	if (off > want || (off < want && !prefix)) {
		fprintf(stderr, "%s: %" PRIu64 " bytes, expected %" PRIu64 "\n", name, off, want);
		return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	uint64_t want;
	char *end;
	int i, bad = 0, prefix = argc > 1 && !strcmp(argv[1], "--prefix");

	argv += prefix;
	argc -= prefix;
	if (argc < 2 || (want = strtoull(argv[1], &end, 10), *end != '\0')) {
		fprintf(stderr, "usage: bytes-check [--prefix] N [FILE...]  (stdin when no FILE)\n");
		return 2;
	}
	if (argc == 2)
		return bytes_check_file("stdin", stdin, want, prefix);
	for (i = 2; i < argc; i++) {
		FILE *f = fopen(argv[i], "rb");

		if (!f) {
			fprintf(stderr, "%s: %s\n", argv[i], strerror(errno));
			bad = 1;
			continue;
		}
		bad |= bytes_check_file(argv[i], f, want, prefix);
		fclose(f);
	}
	return bad;
}
