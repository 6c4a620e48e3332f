/*
 * fuzz_socket_api.c - libFuzzer target for the socket API (stack/socket/socket.c): random
 * sequences of ts_* calls with random arguments on two stacks joined by the in-memory cable
 * (A = 10.0.0.2, B = 10.0.0.1), so calls meet connections in every state the other side can
 * create. Each op is FZ_OP_LEN bytes: which stack and which call, which descriptor (one of
 * the eight last returned, or a wild number), and two arguments. Bad descriptors, bad
 * lengths, calls in the wrong state must all return an errno, never crash or leak. An op
 * whose first byte has its top three bits set makes the vector and address calls instead:
 * ts_sendmsg and ts_recvmsg (up to three iovecs, empty ones too, a name or none, a control
 * buffer or none), ts_sendto and ts_recvfrom, so UDP sockets (a socket call asking for
 * SOCK_DGRAM) get datagrams to any address. One whose top three bits are 110 drives the
 * readiness API (stack/socket/ready.c): ts_epoll_create, ts_epoll_ctl with any op, events
 * and descriptor (sets inside sets, the set itself), ts_epoll_collect, ts_epoll_pending,
 * ts_epoll_set_notify and ts_epoll_set_sleepers; sets live in the same descriptor table, so
 * the other calls (ts_close above all) meet them too. ts_sendfile reads a 70000-byte memfd
 * (made once, reused) from any offset, past its end too, or a descriptor that is not open.
 */
#include <netinet/tcp.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "drivers/memdev.h"
#include "stack.h"

#define FZ_OP_LEN 6
#define FZ_MAX_OPS 128
#define FZ_FDS 8

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct fz_side {
	struct stack st;
	int fds[FZ_FDS];
	unsigned next;
};

static int fz_pick_fd(const struct fz_side *s, uint8_t b)
{
	if (b >= 0xf0)
		return (int)(int8_t)b * 37;   /* wild: negative, or far beyond the table */
	return s->fds[b % FZ_FDS];
}

static void fz_keep_fd(struct fz_side *s, int fd)
{
	if (fd >= 0)
		s->fds[s->next++ % FZ_FDS] = fd;
}

/* The calls with a struct msghdr or an address: iovec lengths from a and b (the payload
 * comes from buf, 70000 bytes, so any length up to it is valid memory). */
static void fz_msg_op(struct socket_layer *sl, int fd, const uint8_t *op, struct sockaddr_in *sa,
		      uint16_t a, uint16_t b, uint8_t *buf)
{
	struct iovec iov[3] = {
		{ .iov_base = buf, .iov_len = a },
		{ .iov_base = buf + a, .iov_len = b % 3000 },
		{ .iov_base = buf + 60000, .iov_len = b & 1 ? 0 : 1 + (b >> 8) },
	};
	uint8_t control[32] = { 0 };
	struct msghdr msg = {
		.msg_name = op[5] & 1 ? sa : NULL,
		.msg_namelen = op[5] & 1 ? (socklen_t)(op[5] & 2 ? sizeof(*sa) : op[5] % (sizeof(*sa) + 1)) : 0,
		.msg_iov = iov,
		.msg_iovlen = 1 + op[4] % 3,
		.msg_control = op[5] & 4 ? control : NULL,
		.msg_controllen = op[5] & 4 ? sizeof(control) : 0,
	};
	int flags = (op[3] & 1 ? MSG_DONTWAIT : 0) | (op[3] & 2 ? MSG_PEEK : 0) | (op[3] & 4 ? MSG_TRUNC : 0) |
		    (op[3] & 8 ? MSG_MORE : 0) | (op[3] & 16 ? MSG_NOSIGNAL : 0) | (op[3] & 32 ? MSG_WAITALL : 0) |
		    (op[3] & 64 ? MSG_OOB : 0) | (op[3] & 128 ? MSG_EOR : 0);

	switch ((op[0] >> 1) % 4) {
	case 0: (void)ts_sendmsg(sl, fd, &msg, flags & ~MSG_WAITALL); break;
	case 1: (void)ts_recvmsg(sl, fd, &msg, flags | MSG_DONTWAIT); break;
	case 2: (void)ts_sendto(sl, fd, buf, a, flags & ~MSG_WAITALL, op[5] & 1 ? sa : NULL); break;
	default: (void)ts_recvfrom(sl, fd, buf, a, flags | MSG_DONTWAIT, op[5] & 1 ? sa : NULL); break;
	}
}

static void fz_notified(void *arg)
{
	++*(unsigned *)arg;
}

/* The readiness calls: op[1] the set (one of the kept descriptors), op[4] the socket. */
static void fz_epoll_op(struct fz_side *side, struct socket_layer *sl, const uint8_t *op, uint16_t a)
{
	static unsigned notified;
	struct epoll_event evs[8];
	int epfd = fz_pick_fd(side, op[1]), fd = fz_pick_fd(side, op[4]);
	struct epoll_event ev = { .events = (uint32_t)a << 16 | op[5], .data.u64 = op[4] };

	switch ((op[0] >> 1) % 8) {
	case 0: fz_keep_fd(side, ts_epoll_create(sl, op[5] & 1 ? EPOLL_CLOEXEC : (int)op[5])); break;
	case 1: (void)ts_epoll_ctl(sl, epfd, 1 + op[2] % 3, fd, op[3] & 1 ? NULL : &ev); break;
	case 2: (void)ts_epoll_ctl(sl, epfd, (int)(int8_t)op[2], fd, &ev); break;
	case 3: (void)ts_epoll_collect(sl, epfd, evs, (int)(int8_t)op[5] % 9); break;
	case 4: (void)ts_epoll_pending(sl, epfd); break;
	case 5: ts_epoll_set_notify(sl, epfd, op[5] & 1 ? fz_notified : NULL, &notified); break;
	case 6: ts_epoll_set_sleepers(sl, epfd, op[5] & 1 ? 1 : -1); break;
	default: (void)ts_epoll_collect(sl, epfd, evs, 8); (void)ts_epoll_pending(sl, epfd); break;
	}
}

static void fz_op(struct fz_side *side, struct fz_side *other, const uint8_t *op)
{
	static uint8_t buf[70000];
	struct socket_layer *sl = ts_stack_sockets(&side->st);
	int fd = fz_pick_fd(side, op[1]);
	uint16_t a = (uint16_t)(op[2] << 8 | op[3]);
	uint16_t b = (uint16_t)(op[4] << 8 | op[5]);
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(a % 4 ? (uint16_t)(80 + a % 4) : a),
				  .sin_addr.s_addr = htonl(b & 1 ? other->st.link.cfg.addr : (b & 2 ? 0 : b)) };
	int val = (int)b * (op[3] & 1 ? 1 : 1024);
	uint8_t opt[16];   /* an option value as long as any length the call is told */
	socklen_t len;

	for (size_t i = 0; i < sizeof(opt); i += sizeof(val))
		memcpy(opt + i, &val, sizeof(val));

	if ((op[0] >> 5) == 7) {
		fz_msg_op(sl, fd, op, &sa, a, b, buf);
	} else if ((op[0] >> 5) == 6) {
		fz_epoll_op(side, sl, op, a);
	} else switch ((op[0] >> 1) % 16) {
	case 0: fz_keep_fd(side, ts_socket(sl, AF_INET, a & 1 ? SOCK_STREAM : (int)a, 0)); break;
	case 1: (void)ts_bind(sl, fd, &sa); break;
	case 2: (void)ts_listen(sl, fd, (int)(int16_t)b); break;
	case 3: (void)ts_connect(sl, fd, &sa); break;
	case 4: fz_keep_fd(side, ts_accept(sl, fd, &sa, b & 1 ? SOCK_NONBLOCK : 0)); break;
	case 5: (void)ts_send(sl, fd, buf, a, b & 3 ? MSG_DONTWAIT : MSG_MORE); break;
	case 6: (void)ts_recv(sl, fd, buf, a, b & 1 ? MSG_PEEK : MSG_DONTWAIT); break;
	case 7: (void)ts_shutdown(sl, fd, (int)(b % 4)); break;
	case 8: (void)ts_close(sl, fd); break;
	case 9: (void)ts_setsockopt(sl, fd, a & 1 ? IPPROTO_TCP : SOL_SOCKET, (int)(a >> 1) % 40, opt,
				    (socklen_t)(b % 17)); break;
	case 10:
		len = (socklen_t)(b % 300);
		(void)ts_getsockopt(sl, fd, a & 1 ? IPPROTO_TCP : SOL_SOCKET, (int)(a >> 1) % 40, buf, &len);
		break;
	case 11: {
		struct pollfd pfd[2] = { { .fd = fd, .events = (short)a }, { .fd = fz_pick_fd(side, op[5]), .events = POLLIN } };
		(void)ts_poll(sl, pfd, b % 3);
		break;
	}
	case 12: (void)ts_set_nonblock(sl, fd, b & 1); (void)ts_get_nonblock(sl, fd); break;
	case 13: (void)ts_getsockname(sl, fd, &sa); (void)ts_getpeername(sl, fd, &sa); (void)ts_inq(sl, fd); break;
	case 14: {
		static int file = -2; /* the file sendfile reads: made once, kept for every input */
		if (file == -2 && (file = memfd_create("fz-sendfile", MFD_CLOEXEC)) >= 0 &&
		    write(file, buf, sizeof(buf)) != (ssize_t)sizeof(buf))
			__builtin_trap();
		(void)ts_sendfile(sl, fd, op[5] & 1 ? 100000 : file, (uint64_t)b * 3u, a,
		                  (op[5] & 2 ? MSG_MORE : 0) | (op[5] & 4 ? MSG_EOR : 0));
		break;
	}
	default: {
		/* Time passes for both: handshakes, retransmissions, TIME-WAIT. */
		usec_t now = side->st.core.now + (usec_t)a * (b & 1 ? USEC_PER_SEC : USEC_PER_MS);
		side->st.core.now = other->st.core.now = now;
		break;
	}
	}
	for (int i = 0; i < 3; i++) {
		(void)ts_stack_poll(&side->st, side->st.core.now);
		(void)ts_stack_poll(&other->st, other->st.core.now);
	}
}

/* The cable: plain frames, or with FZ_OFFLOAD (fuzz_socket_tso.c) the offload path both
 * ways: checksums left to the device, TSO super-segments, GRO-sized frames on receive. */
#ifndef FZ_OFFLOAD
#define FZ_OFFLOAD 0
#endif
static const struct memdev_config fz_cable = { .seed = 1, .queue_max = MEMDEV_QUEUE_MAX_DEFAULT, .mtu = 1500,
					       .offload = FZ_OFFLOAD };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct fz_side s[2];
	struct netdev *da, *db;
	struct stack_config ca, cb;

	if (memdev_pair_create(&da, &db, &fz_cable) != 0)
		__builtin_trap();
	ts_stack_config_default(&ca);
	ts_stack_config_default(&cb);
	ts_stack_config_fixed(&ca, 1);      /* reproducible: a finding replays */
	ts_stack_config_fixed(&cb, 2);
	cb.link.addr = 0x0a000001u;
	cb.link.mac[5] ^= 0x03;
	memset(s, 0, sizeof(s));
	if (ts_stack_init(&s[0].st, &ca, da, 1000 * USEC_PER_SEC) != 0 ||
	    ts_stack_init(&s[1].st, &cb, db, 1000 * USEC_PER_SEC) != 0)
		__builtin_trap();
	memdev_set_clock(da, &s[0].st.core.now);
	memdev_set_clock(db, &s[1].st.core.now);
	for (int i = 0; i < 2; i++)
		for (int j = 0; j < FZ_FDS; j++)
			s[i].fds[j] = -1;
	for (size_t off = 0, n = 0; n < FZ_MAX_OPS && off + FZ_OP_LEN <= size; off += FZ_OP_LEN, n++) {
		int w = data[off] & 1;
		fz_op(&s[w], &s[1 - w], data + off);
	}
	ts_stack_destroy(&s[0].st);
	ts_stack_destroy(&s[1].st);
	return 0;
}
