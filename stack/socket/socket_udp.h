/*
 * socket_udp.h - the SOCK_DGRAM half of the socket calls (socket_udp.c), for socket.c only.
 *
 * socket.c owns the descriptor table and finds the socket; for a UDP socket each ts_* call
 * hands over to the matching ts_udp_* call here, which checks the arguments as Linux does
 * (address families and lengths, flags) and calls the UDP layer (stack/udp/udp.h).
 */
#ifndef TAPSTACK_SOCKET_SOCKET_UDP_H
#define TAPSTACK_SOCKET_SOCKET_UDP_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

struct udp_sock;

int ts_udp_bind(struct udp_sock *us, const struct sockaddr_in *addr);
/* connect(): AF_INET sets the peer, AF_UNSPEC forgets it (Linux udp_disconnect). */
int ts_udp_connect(struct udp_sock *us, const struct sockaddr_in *addr);
/* sendmsg(): msg_name (if any) is the destination; the iovecs are one datagram. */
ssize_t ts_udp_sendmsg(struct udp_sock *us, const struct msghdr *msg, int flags);
/* recvmsg(): one datagram; msg_name gets its sender, msg_flags MSG_TRUNC when it was cut. */
ssize_t ts_udp_recvmsg(struct udp_sock *us, struct msghdr *msg, int flags);
int ts_udp_shutdown(struct udp_sock *us, int how);
int ts_udp_setsockopt(struct udp_sock *us, int level, int name, const void *val, socklen_t len);
int ts_udp_getsockopt(struct udp_sock *us, int level, int name, void *val, socklen_t *len);
/* getsockname (peer false) or getpeername (peer true: -ENOTCONN unless connected). */
int ts_udp_name(const struct udp_sock *us, struct sockaddr_in *addr, bool peer);

#endif
