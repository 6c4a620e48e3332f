/*
 * echo7.c - the smallest program on the installed library, as docs/library.md shows it: an echo
 * server on a TAP device through the blocking facade, serving one connection. The same source
 * builds in the tree (build/echo7, -I stack finds <tapstack/tapstack.h>) and against an
 * installed copy with pkg-config, in C and in C++ (tests/net/test_install.sh).
 */
#include <stdio.h>
#include <tapstack/tapstack.h>

int main(int argc, char **argv)
{
	const char *tap = argc > 1 ? argv[1] : "tap0";
	static struct stack s;          /* large: not on the stack */
	struct blocking_stack b;
	struct stack_config cfg;
	struct netdev *dev;
	char err[256], buf[4096];

	if (ts_tap_open(&dev, tap, 1500, err, sizeof(err)) != 0) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	ts_stack_config_default(&cfg);  /* 10.0.0.2/24; random MAC and ISN secret */
	if (ts_stack_init(&s, &cfg, dev, ts_clock_now()) != 0 || ts_blocking_start(&b, &s) != 0)
		return 1;

	struct sockaddr_in addr = { AF_INET, htons(7), { 0 }, { 0 } };
	int lfd = ts_blocking_socket(&b, AF_INET, SOCK_STREAM, 0);
	if (lfd < 0 || ts_blocking_bind(&b, lfd, &addr) < 0 || ts_blocking_listen(&b, lfd, 8) < 0)
		return 1;
	printf("tapstack %s: echo on %s port 7\n", tapstack_version(), tap);
	fflush(stdout);

	int fd = ts_blocking_accept(&b, lfd, NULL, 0);
	ssize_t n;
	while (fd >= 0 && (n = ts_blocking_recv(&b, fd, buf, sizeof(buf), 0)) > 0)
		ts_blocking_send(&b, fd, buf, (size_t)n, 0);
	ts_blocking_close(&b, fd);
	ts_blocking_close(&b, lfd);
	ts_blocking_stop(&b);
	ts_stack_destroy(&s);
	return 0;
}
