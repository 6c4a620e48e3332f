/*
 * ctl.c - the server side of the control socket: `tapstack ss` and `tapstack stats` ask a
 * running stack through a unix socket (the client side is in apps/tapstack.c).
 *
 * One request per connection: a line "ss [ARGS]", "stats" or "metrics", answered by the
 * rows of ss.c or the counters of nstat.c, then the connection is closed. Used by the
 * tapstack program's event loop and by the preload library's control thread
 * (preload/state.c), which holds the stack's lock only around ctl_answer().
 */
#include "apps/cli/ctl.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "apps/cli/nstat.h"
#include "apps/cli/ss.h"

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
void ctl_serve(int lfd, void (*answer)(void *arg, char *req, FILE *f), void *arg)
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
