/*
 * ctl.h - the control socket's server side (apps/cli/ctl.c): listen, serve one request.
 */
#ifndef TAPSTACK_APPS_CLI_CTL_H
#define TAPSTACK_APPS_CLI_CTL_H

#include <stdio.h>

struct stack;

/* A request line's bytes and words at most (the client checks them before sending). */
#define CTL_REQ_MAX 512
#define CTL_WORDS_MAX 32

/* A listening unix socket at path (non-blocking, close-on-exec). A leftover file of a dead
 * run is replaced; a live one is not: -EADDRINUSE. Returns the fd or -errno. */
int ctl_listen(const char *path);
/* Answers one request line (changed in place) on f: "ss [ARGS]", "stats" or "metrics", or
 * one "error: ..." line. The stack is only read. */
void ctl_answer(struct stack *s, char *req, FILE *f);
/* Accepts one connection on lfd, reads its request line (1 s at most) and has
 * answer(arg, req, f) write the reply, then closes it. */
void ctl_serve(int lfd, void (*answer)(void *arg, char *req, FILE *f), void *arg);

#endif
