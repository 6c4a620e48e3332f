/*
 * ctl.c - the program's control socket (see ctl.h): the running tapstack answers one request
 * line per connection; `tapstack ss|stats` sends it and formats the answer.
 *
 * Server side: ctl_listen() binds the unix socket (a stale file from a killed run is replaced,
 * a live one refused), ctl_serve() reads one line (at most CTL_REQ_MAX bytes, one second) and
 * ctl_answer() writes the answer - ss rows, raw counters, Prometheus text - or one "error:"
 * line for anything it cannot parse; the stack is only read. Client side: ctl_client() checks
 * the subcommand's words with the same parsers, sends them, and prints the answer.
 * Tests: tests/unit/test_cli.c (ctl_answer's refusals), tests/net/test_program.sh.
 */
#include "apps/cli/ctl.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "apps/cli/nstat.h"
#include "apps/cli/ss.h"
#include "stack.h"

int ctl_listen(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	/* A leftover socket file from a run that was killed is replaced; a live one is not. */
	int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (probe >= 0) {
		if (connect(probe, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
			close(probe);
			close(fd);
			return -EADDRINUSE;
		}
		close(probe);
	}
	unlink(path);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 8) < 0) {
		int e = errno;
		close(fd);
		return -e;
	}
	return fd;
}

/* Words of a request line, split at spaces (at most max; more is an error). */
static int ctl_words(char *line, char **w, int max)
{
	int n = 0;
	for (char *t = strtok(line, " "); t; t = strtok(NULL, " ")) {
		if (n == max)
			return -1;
		w[n++] = t;
	}
	return n;
}

/*
 * Answers one request line: "ss [ARGS]", "stats" or "metrics". Anything else, or a line that
 * does not parse, is answered with one "error: ..." line; the stack is only read, never changed.
 */
void ctl_answer(struct stack *s, char *req, FILE *f)
{
	for (const char *c = req; *c; c++)
		if ((unsigned char)*c < 0x20 || (unsigned char)*c > 0x7e) {
			fputs("error: unparsable request (not one line of printable text)\n", f);
			return;
		}
	char *w[CTL_WORDS_MAX];
	char err[160];
	int n = ctl_words(req, w, CTL_WORDS_MAX);
	if (n < 0) {
		fputs("error: too many words in the request\n", f);
		return;
	}
	if (n >= 1 && strcmp(w[0], "ss") == 0) {
		struct ss_query q;
		if (ss_query_parse(&q, n - 1, w + 1, err, sizeof(err)) != 0)
			fprintf(f, "error: %s\n", err);
		else
			ss_write(s, &q, f);
	} else if (n == 1 && strcmp(w[0], "stats") == 0) {
		nstat_write_raw(s, f);
	} else if (n == 1 && strcmp(w[0], "metrics") == 0) {
		nstat_write_prometheus(s, f);
	} else {
		fprintf(f, "error: unknown request '%.40s' (ss [ARGS], stats, metrics)\n", n ? w[0] : "");
	}
}

/* One request per connection: a line, answered, then closed. */
static void ctl_answer_cb(void *arg, char *req, FILE *f)
{
	ctl_answer(arg, req, f);
}

void ctl_serve(struct stack *s, int lfd)
{
	ctl_serve_fn(lfd, ctl_answer_cb, s);
}

void ctl_serve_fn(int lfd, void (*answer)(void *arg, char *req, FILE *f), void *arg)
{
	int c = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	if (c < 0)
		return;
	/* The client writes its request right after connecting; wait for it at most a second. */
	struct timeval tv = { 1, 0 };
	setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(c, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	char req[CTL_REQ_MAX + 1];
	ssize_t n = recv(c, req, CTL_REQ_MAX, 0);
	if (n <= 0) {
		close(c);
		return;
	}
	req[n] = '\0';
	if (memchr(req, '\0', (size_t)n))
		req[0] = '\x01';             /* an embedded NUL: refused as unprintable below */
	req[strcspn(req, "\r\n")] = '\0';
	FILE *f = fdopen(c, "w");
	if (!f) {
		close(c);
		return;
	}
	answer(arg, req, f);
	/* Input left unread would turn our close into a reset that discards the answer: say we are
	 * done, then drain what the client still sends (bounded by the 1 s timeout and 64 KiB). */
	fflush(f);
	shutdown(c, SHUT_WR);
	char sink[4096];
	for (int i = 0; i < 16 && recv(c, sink, sizeof(sink), 0) > 0; i++)
		;
	fclose(f);
}

/* Sends one request line and returns the whole answer (malloc'd, NUL-terminated) or NULL. */
static char *ctl_request(const char *path, const char *req)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		fprintf(stderr, "tapstack: cannot reach a running tapstack at %s: %s\n", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	size_t len = strlen(req);
	if (write(fd, req, len) != (ssize_t)len || write(fd, "\n", 1) != 1) {
		fprintf(stderr, "tapstack: %s: %s\n", path, strerror(errno));
		close(fd);
		return NULL;
	}
	size_t cap = 1 << 16, n = 0;
	char *buf = malloc(cap);
	ssize_t r;
	while (buf && (r = read(fd, buf + n, cap - n - 1)) > 0) {
		n += (size_t)r;
		if (cap - n < 2) {
			char *nb = realloc(buf, cap * 2);
			if (!nb)
				free(buf);
			buf = nb;
			cap *= 2;
		}
	}
	close(fd);
	if (buf)
		buf[n] = '\0';
	return buf;
}

int ctl_client(const char *sub, int nw, char **words, const char *ctl, char *err, size_t errlen)
{
	char req[CTL_REQ_MAX];
	struct ss_query q;
	struct nstat_opts so;
	bool ss = strcmp(sub, "ss") == 0;
	if (nw >= CTL_WORDS_MAX) {
		snprintf(err, errlen, "too many arguments for %s", sub);
		return -1;
	}
	if ((ss ? ss_query_parse(&q, nw, words, err, errlen) : nstat_parse(&so, nw, words, err, errlen)) != 0)
		return -1;
	size_t len = (size_t)snprintf(req, sizeof(req), "%s", ss ? "ss" : so.prometheus ? "metrics" : "stats");
	for (int i = 0; ss && i < nw; i++) {
		if (strchr(words[i], ' ') || len + strlen(words[i]) + 2 > sizeof(req)) {
			snprintf(err, errlen, "bad argument '%s'", words[i]);
			return -1;
		}
		len += (size_t)snprintf(req + len, sizeof(req) - len, " %s", words[i]);
	}
	char *ans = ctl_request(ctl, req);
	if (!ans)
		return 1;
	int status = 0;
	if (strncmp(ans, "error: ", 7) == 0) {
		fprintf(stderr, "tapstack: %s", ans + 7);
		status = 1;
	} else if (!ss && !so.prometheus) {
		status = nstat_print(&so, ans, ctl, stdout) == 0 ? 0 : 1;
	} else {
		fputs(ans, stdout);
	}
	free(ans);
	return status;
}
