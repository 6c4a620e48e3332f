/* socket.c - skeleton (being filled in). */
#include "socket/socket.h"

#include <errno.h>
#include <string.h>

int socket_layer_init(struct socket_layer *sl, struct tcp_layer *tcp) { memset(sl, 0, sizeof(*sl)); sl->tcp = tcp; return 0; }
void socket_layer_destroy(struct socket_layer *sl) { (void)sl; }
int ts_socket(struct socket_layer *sl, int domain, int type, int protocol) { (void)sl; (void)domain; (void)type; (void)protocol; return -ENOSYS; }
int ts_bind(struct socket_layer *sl, int fd, const struct sockaddr_in *addr) { (void)sl; (void)fd; (void)addr; return -ENOSYS; }
int ts_listen(struct socket_layer *sl, int fd, int backlog) { (void)sl; (void)fd; (void)backlog; return -ENOSYS; }
int ts_accept(struct socket_layer *sl, int fd, struct sockaddr_in *peer, int flags) { (void)sl; (void)fd; (void)peer; (void)flags; return -ENOSYS; }
int ts_connect(struct socket_layer *sl, int fd, const struct sockaddr_in *addr) { (void)sl; (void)fd; (void)addr; return -ENOSYS; }
ssize_t ts_send(struct socket_layer *sl, int fd, const void *buf, size_t len, int flags) { (void)sl; (void)fd; (void)buf; (void)len; (void)flags; return -ENOSYS; }
ssize_t ts_recv(struct socket_layer *sl, int fd, void *buf, size_t len, int flags) { (void)sl; (void)fd; (void)buf; (void)len; (void)flags; return -ENOSYS; }
int ts_shutdown(struct socket_layer *sl, int fd, int how) { (void)sl; (void)fd; (void)how; return -ENOSYS; }
int ts_close(struct socket_layer *sl, int fd) { (void)sl; (void)fd; return -ENOSYS; }
int ts_setsockopt(struct socket_layer *sl, int fd, int level, int name, const void *val, socklen_t len) { (void)sl; (void)fd; (void)level; (void)name; (void)val; (void)len; return -ENOSYS; }
int ts_getsockopt(struct socket_layer *sl, int fd, int level, int name, void *val, socklen_t *len) { (void)sl; (void)fd; (void)level; (void)name; (void)val; (void)len; return -ENOSYS; }
int ts_getsockname(struct socket_layer *sl, int fd, struct sockaddr_in *addr) { (void)sl; (void)fd; (void)addr; return -ENOSYS; }
int ts_getpeername(struct socket_layer *sl, int fd, struct sockaddr_in *addr) { (void)sl; (void)fd; (void)addr; return -ENOSYS; }
int ts_set_nonblock(struct socket_layer *sl, int fd, bool on) { (void)sl; (void)fd; (void)on; return -ENOSYS; }
int ts_get_nonblock(struct socket_layer *sl, int fd) { (void)sl; (void)fd; return -ENOSYS; }
int ts_inq(struct socket_layer *sl, int fd) { (void)sl; (void)fd; return -ENOSYS; }
short ts_revents(struct socket_layer *sl, int fd) { (void)sl; (void)fd; return POLLNVAL; }
int ts_poll(struct socket_layer *sl, struct pollfd *fds, nfds_t n) { (void)sl; for (nfds_t i = 0; i < n; i++) fds[i].revents = POLLNVAL; return (int)n; }
