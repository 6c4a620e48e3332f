/*
 * ctl.h - the program's control socket: the running tapstack's side and the client's.
 *
 * One request line per connection: "ss [ARGS]" (apps/cli/ss.h), "stats" or "metrics"
 * (apps/cli/nstat.h); the answer is text until the server closes, or one "error: ..." line.
 */
#ifndef TAPSTACK_APPS_CLI_CTL_H
#define TAPSTACK_APPS_CLI_CTL_H

#include <stddef.h>
#include <stdio.h>

struct stack;

/* Longest request line the server reads, and most words in it. */
#define CTL_REQ_MAX 512
#define CTL_WORDS_MAX 32

/* Binds and listens on path: the descriptor, or -EADDRINUSE when a live tapstack has it, or -errno. */
int ctl_listen(const char *path);
/* Accepts one connection on lfd and answers its request (the stack is only read). */
void ctl_serve(struct stack *s, int lfd);
/* The same with the answer written by answer(arg, req, f): the preload library's control
 * thread holds the stack's lock only around ctl_answer (preload/state.c). */
void ctl_serve_fn(int lfd, void (*answer)(void *arg, char *req, FILE *f), void *arg);
/* The answer to one request line (NUL-terminated, without its newline), written to f. */
void ctl_answer(struct stack *s, char *req, FILE *f);

/*
 * tapstack ss|stats: checks the words after the subcommand, sends the request to the control
 * socket at ctl and prints the answer. 0, 1 when the stack cannot be reached or refused, -1
 * (with err) for a bad word, before anything is sent.
 */
int ctl_client(const char *sub, int nw, char **words, const char *ctl, char *err, size_t errlen);

#endif
