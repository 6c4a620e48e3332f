/*
 * blocking_echo.c - build/blocking-echo: an echo server (RFC 862) written the old way,
 * one thread per connection with blocking calls, on tapstack's blocking facade
 * (stack/blocking.h). The whole program is the example of docs/blocking.md.
 *
 *   blocking-echo [--tap NAME] [--addr A.B.C.D/N] [--port N]
 *
 * The stack runs in the facade's thread; main() blocks in accept(), each connection's
 * thread blocks in recv() and send(). Stop it with Ctrl-C. Tested by
 * tests/net/test_tcp_blocking.sh.
 */
#include <arpa/inet.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "blocking.h"
#include "drivers/tap.h"
#include "stack.h"

struct client {
	struct blocking_stack *b;
	int fd;
};

/* One connection: send back whatever arrives, until the client closes. */
static void *echo_client(void *arg)
{
	struct client *c = arg;
	char buf[4096];
	ssize_t n;

	while ((n = ts_blocking_recv(c->b, c->fd, buf, sizeof(buf), 0)) > 0)
		if (ts_blocking_send(c->b, c->fd, buf, (size_t)n, 0) != n)
			break;
	ts_blocking_close(c->b, c->fd);
	free(c);
	return NULL;
}

int main(int argc, char **argv)
{
	const char *tap = "tap0", *addr = "10.0.0.2/24";
	int port = 7, i, lfd;
	static struct stack s;
	struct blocking_stack b;
	struct stack_config cfg;
	struct netdev *dev;
	struct sockaddr_in sin = { .sin_family = AF_INET };
	struct in_addr ia;
	char err[256], ip[INET_ADDRSTRLEN];
	unsigned prefix = 24;

	for (i = 1; i + 1 < argc; i += 2) {
		if (strcmp(argv[i], "--tap") == 0)
			tap = argv[i + 1];
		else if (strcmp(argv[i], "--addr") == 0)
			addr = argv[i + 1];
		else if (strcmp(argv[i], "--port") == 0)
			port = atoi(argv[i + 1]);
	}
	if (i != argc || sscanf(addr, "%15[0-9.]/%u", ip, &prefix) != 2 ||
	    inet_pton(AF_INET, ip, &ia) != 1 || prefix < 1 || prefix > 30 || port < 1 || port > 65535) {
		fprintf(stderr, "usage: blocking-echo [--tap NAME] [--addr A.B.C.D/N] [--port N]\n");
		return 2;
	}

	/* The stack, as the tapstack program builds it (MAC and ISN secret: random by default). */
	if (ts_tap_open(&dev, tap, 1500, err, sizeof(err)) != 0) {
		fprintf(stderr, "blocking-echo: %s\n", err);
		return 1;
	}
	ts_stack_config_default(&cfg);
	cfg.link.addr = ntohl(ia.s_addr);
	cfg.link.prefix_len = (uint8_t)prefix;
	if (ts_stack_init(&s, &cfg, dev, ts_clock_now()) != 0 || ts_blocking_start(&b, &s) != 0) {
		fprintf(stderr, "blocking-echo: cannot start the stack\n");
		return 1;
	}

	/* From here on, plain blocking socket code. */
	lfd = ts_blocking_socket(&b, AF_INET, SOCK_STREAM, 0);
	sin.sin_port = htons((uint16_t)port);
	if (lfd < 0 || ts_blocking_bind(&b, lfd, &sin) < 0 || ts_blocking_listen(&b, lfd, 16) < 0) {
		fprintf(stderr, "blocking-echo: cannot listen on port %d\n", port);
		return 1;
	}
	printf("blocking-echo: %s on %s, port %d\n", addr, tap, port);
	fflush(stdout);
	for (;;) {
		struct sockaddr_in peer;
		struct client *c;
		pthread_t t;
		int fd = ts_blocking_accept(&b, lfd, &peer, 0);

		if (fd < 0)
			continue; /* e.g. a connection reset while it waited in the queue */
		printf("blocking-echo: accept() returned %s:%u\n",
		       inet_ntop(AF_INET, &peer.sin_addr, ip, sizeof(ip)), ntohs(peer.sin_port));
		fflush(stdout);
		c = malloc(sizeof(*c));
		if (!c) {
			ts_blocking_close(&b, fd);
			continue;
		}
		*c = (struct client){ .b = &b, .fd = fd };
		if (pthread_create(&t, NULL, echo_client, c) != 0) {
			ts_blocking_close(&b, fd);
			free(c);
			continue;
		}
		pthread_detach(t);
	}
}
