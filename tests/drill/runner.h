/*
 * runner.h - the packetdrill executor's state, shared by its parts:
 *
 *   exec.c      the event loop: the virtual clock, timing checks, inbound injection,
 *               outbound matching (with TSO aggregation), blocking system calls
 *   wire.c      frames: building inbound TCP/ICMP/ARP frames, decoding outbound ones,
 *               the in-memory netdev the stack sends into
 *   syscalls.c  system call lines -> tapstack's socket API (stack/socket/socket.h)
 *   shell.c     backquoted commands: defaults.sh, sysctl -> struct tcp_config, ethtool
 *   main.c      the command line, the report and the expectations file
 *
 * The network the runner plays (packetdrill's defaults, so scripts read naturally):
 * tapstack is 192.168.0.1/16 with gateway 192.168.0.2; the remote peer is 192.0.2.1
 * behind that gateway; the server port is 8080. The runner answers every ARP request
 * from the stack and seeds the gateway's entry before time 0.
 *
 * Time is virtual: the runner owns the clock (usec), moves it from event to event and
 * from timer deadline to timer deadline, and calls ts_stack_poll() at each step, so a script
 * that spans minutes runs in milliseconds and always the same way.
 */
#ifndef TAPSTACK_TESTS_DRILL_RUNNER_H
#define TAPSTACK_TESTS_DRILL_RUNNER_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "code.h"
#include "script.h"
#include "stack.h"
#include "wire/ipv4.h"

#define DRILL_LOCAL_IP IPV4_ADDR(192, 168, 0, 1)
#define DRILL_GATEWAY_IP IPV4_ADDR(192, 168, 0, 2)
#define DRILL_REMOTE_IP IPV4_ADDR(192, 0, 2, 1)
#define DRILL_PREFIX_LEN 16
#define DRILL_SERVER_PORT 8080
#define DRILL_REMOTE_PORT_BASE 48000  /* the remote's port for connections it opens */
#define DRILL_TOLERANCE_USECS 4000    /* packetdrill's --tolerance_usecs default */
#define DRILL_TOLERANCE_PERCENT 12.5  /* packetdrill's --tolerance_percent default */
#define DRILL_GVISOR_TOLERANCE_USECS 100000
#define DRILL_CLOCK_BASE 1000000u     /* virtual time of script time 0 (usec) */
#define DRILL_CORE_MEM_MAX 67108864u  /* net.core.rmem_max/wmem_max of the scripts' machines (exec.c) */
#define DRILL_WAIT_ANY_USECS (600u * 1000000u)  /* how long `*` waits for a packet */
#define DRILL_VFILES_MAX 8            /* files a script's `dd` may make (shell.c) */
#define DRILL_VFILE_BYTES_MAX (64u << 20)
#define DRILL_FDS_MAX 256
#define DRILL_OUT_MAX 4096            /* outbound frames queued before the runner gives up */
#define DRILL_MSG_MAX 2048
#define DRILL_NSTAT_MAX 512           /* counters the nstat emulation tracks */
#define DRILL_STEPS_MAX 5000000u      /* timer events per script before the runner gives up */

/* One frame the stack sent, decoded. */
struct drill_wire_pkt {
	usec_t t;                  /* virtual time it was sent */
	uint32_t frame_len;
	bool is_tcp, is_arp, is_other;
	char bad[128];             /* non-empty: malformed (checksum, lengths) */
	uint32_t src, dst;         /* IPv4 */
	uint8_t tos, ttl;
	uint16_t sport, dport;
	uint32_t seq, ack;
	uint8_t flags;
	uint16_t win, urg;
	uint32_t len;              /* TCP payload bytes */
	bool payload_nonzero;      /* the payload has a byte that is not 0 */
	uint8_t nopts;
	struct drill_tcp_opt opts[DRILL_OPTS_MAX];
	bool opts_bad;             /* the option list could not be decoded */
	/* ARP */
	uint16_t arp_op;
	uint32_t arp_tpa;
};

struct drill_outq {
	struct drill_wire_pkt *pkts;
	size_t head, count, cap;
};

/* A system call that blocks (in virtual time) until the stack lets it complete. */
struct drill_pending {
	bool active;
	const struct drill_event *ev;
	usec_t start, end;         /* when it started; when the script says it returns */
	bool has_end;              /* `start...end` was written */
	int kind;                  /* syscalls.c's PEND_* */
	int fd;                    /* tapstack descriptor */
	size_t want, done;         /* write: total and bytes accepted so far */
	int flags;
};

struct drill_netdev {
	struct netdev nd;
	struct drill_runner *r;
};

struct drill_runner {
	const struct drill_script *sc;
	char dir[1024];            /* the script's folder: relative includes resolve against it */
	FILE *out;
	bool verbose;

	/* The stack under test and the clock. */
	struct stack_config cfg;
	struct stack st;
	bool st_up;
	struct drill_netdev dev;
	usec_t now;
	uint32_t steps;            /* timer events processed (bounded by DRILL_STEPS_MAX) */
	struct drill_outq outq;

	/* Settings from --options and commands. */
	long tolerance_usecs;
	long tolerance_override;   /* -1, or --tolerance_usecs given to the runner */
	double tolerance_percent;
	long ts_tick_usecs;        /* 0: TS val not checked */
	long gro_mss;              /* --mss: the gso_size of inbound lines longer than the MTU */
	bool tso;                  /* aggregate outbound segments (off after `ethtool -K ... tso off`) */
	uint32_t link_mtu;         /* `ip link set ... mtu N` before the start; 0: 1500 */
	bool qdisc_drop;           /* `tc qdisc ... pfifo limit 0`: every outbound frame is dropped locally */
	uint64_t qdisc_dropped;
	/* `nstat`: counter values at the last reset (`nstat -n`), by position in ts_stack_counter_groups(). */
	uint64_t nstat_base[DRILL_NSTAT_MAX];
	size_t nstat_n;

	/* The connection under test and the sequence-number mapping. */
	uint8_t stack_mac[6];
	uint16_t remote_port;      /* the remote's port */
	uint16_t local_port;       /* tapstack's port */
	bool last_inbound_syn;     /* the last injected segment was a SYN (a repeat keeps the connection) */
	uint32_t conn_count;       /* connections the remote opened (each gets a new port and ISN) */
	uint32_t peer_isn;         /* the remote's ISN (chosen by the runner) */
	uint32_t stack_isn;        /* learned from tapstack's SYN or SYN-ACK (0 until then) */
	bool client_mode;          /* tapstack sent the first SYN */
	bool need_peer_isn;        /* tapstack sent a new SYN: the next `< S.` picks a new peer ISN */
	bool ts_known;             /* a real TS val has been seen (inbound ecr can be mapped) */
	bool ts_paired;            /* ...and paired with a script value (TS val checks possible) */
	uint32_t ts_script0, ts_actual0; /* first outbound TS val: script value and real value */
	usec_t ts_time0;
	uint16_t ip_id;

	/* Files the script's shell commands made (`dd if=/dev/zero of=PATH`): their sizes only,
	 * the bytes are zeros. open() of one gives a memfd of that size (never the host's file). */
	struct drill_vfile {
		char path[128];
		uint64_t size;
	} vfiles[DRILL_VFILES_MAX];
	size_t nvfiles;
	/* Script descriptors -> tapstack descriptors; -> kernel descriptors of open()ed files. */
	int fdmap[DRILL_FDS_MAX];
	int filemap[DRILL_FDS_MAX];
	bool inq_on[DRILL_FDS_MAX]; /* TCP_INQ set on this tapstack descriptor (recvmsg adds TCP_CM_INQ) */
	int last_fd;               /* the socket most recently used (the one `%{ }%` would inspect) */
	struct drill_pending pend;
	uint8_t *zbuf, *rbuf;      /* write source (zeros) and read destination, grown on demand */
	size_t zbuf_cap, rbuf_cap;

	/* Timing anchor: where the previous event happened (script time base for `+t`). */
	usec_t anchor;

	/* Result. */
	bool failed;
	bool unsupported;          /* only unsupported features failed */
	int fail_line;
	char msg[DRILL_MSG_MAX];
	int unsupported_line;
	char unsupported_msg[256];
	/* `%{ }%` blocks: variables kept from block to block, and the first failed assert
	   (reported after the script ran, as packetdrill runs the blocks at the end). */
	struct drill_code_env code_env;
	int code_fail_line;
	char code_fail_msg[256];
	/* Settings seen without a tapstack knob (reported in the summary). */
	char ignored[1024];
};

/* ---- exec.c ---- */
void drill_fail(struct drill_runner *r, int line, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void drill_unsupported(struct drill_runner *r, int line, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void drill_note_ignored(struct drill_runner *r, const char *what);
void drill_vlog(struct drill_runner *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Runs the stack until `until` (virtual), firing timers at their deadlines, retrying a blocked call. */
void drill_advance(struct drill_runner *r, usec_t until);
/* Learns the stack's ISN (and, for its SYN, the ports) from a segment it sent. */
void drill_learn_outbound(struct drill_runner *r, const struct drill_wire_pkt *w);
/* Seconds since script time 0, for messages. */
double drill_rel_secs(const struct drill_runner *r, usec_t t);

/* ---- wire.c ---- */
void drill_netdev_init(struct drill_runner *r);
void drill_outq_free(struct drill_outq *q);
struct drill_wire_pkt *drill_outq_peek(struct drill_runner *r);
void drill_outq_pop(struct drill_runner *r);
/* Injects the script's inbound packet at r->now. */
void drill_inject_packet(struct drill_runner *r, const struct drill_event *ev);
/* Announces the gateway with an ARP request so the stack learns its MAC before time 0. */
void drill_inject_arp_seed(struct drill_runner *r);
/* Answers ARP requests waiting in the outbound queue; true if it injected anything. */
bool drill_answer_arp(struct drill_runner *r);
/* The outbound packet in script terms (relative sequence numbers), for messages. */
void drill_wire_to_script(const struct drill_runner *r, const struct drill_wire_pkt *w, struct drill_packet *p);

/* ---- syscalls.c ---- */
void drill_syscall_start(struct drill_runner *r, const struct drill_event *ev, usec_t start, usec_t end, bool has_end);
/* Retries the pending call; true when it completed (and was checked). */
bool drill_syscall_retry(struct drill_runner *r);
bool drill_symbol_value(const char *name, int64_t *v);

/* ---- shell.c ---- */
void drill_command(struct drill_runner *r, const struct drill_event *ev);
/* The file a script's `dd` made at path, or NULL. */
const struct drill_vfile *drill_vfile_find(const struct drill_runner *r, const char *path);
/* Takes the nstat baseline (at start and for `nstat -n`). */
void drill_nstat_reset(struct drill_runner *r);
/* Applies the gVisor harness setup (packetdrill_setup.sh) when the script folder has one. */
bool drill_gvisor_setup(struct drill_runner *r);

/* ---- the entry point (exec.c) ---- */
struct drill_report {
	bool passed;
	bool unsupported;          /* failed only because of an unsupported feature */
	int line;
	char msg[DRILL_MSG_MAX];
	char ignored[1024];
};
void drill_run_script(const struct drill_script *sc, FILE *out, bool verbose, long tolerance_override,
                      struct drill_report *rep);

#endif
