/*
 * tcpinfo.c - binds the fields of Linux's struct tcp_info (and SO_MEMINFO) to the names
 * `%{ }%` blocks use (tcpi_snd_cwnd, SK_MEMINFO_RCVBUF, ...), see code.h.
 *
 * This file alone includes <linux/tcp.h> (the full, current struct tcp_info): glibc's
 * <netinet/tcp.h>, which the rest of the runner sees through socket.h, declares an older,
 * shorter struct of the same name. A field is bound only when it lies within the length
 * the stack returned, as packetdrill does with an older kernel.
 */
#include <linux/tcp.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "code.h"

#define U8(f) {#f, offsetof(struct tcp_info, f), 1}
#define U16(f) {#f, offsetof(struct tcp_info, f), 2}
#define U32(f) {#f, offsetof(struct tcp_info, f), 4}
#define U64(f) {#f, offsetof(struct tcp_info, f), 8}

/* tapstack's TCP_INFO is glibc's struct followed by struct tcp_info_more (stack/tcp/tcp.h),
 * which pins these same offsets. */
_Static_assert(offsetof(struct tcp_info, tcpi_pacing_rate) == 104, "tcp_info_more starts at 104");
_Static_assert(offsetof(struct tcp_info, tcpi_busy_time) == 168, "tcpi_busy_time at 168");
_Static_assert(offsetof(struct tcp_info, tcpi_sndbuf_limited) == 184, "tcpi_sndbuf_limited at 184");

static const struct {
	const char *name;
	size_t off, size;
} tcp_info_fields[] = {
	U8(tcpi_state), U8(tcpi_ca_state), U8(tcpi_retransmits), U8(tcpi_probes), U8(tcpi_backoff),
	U8(tcpi_options), U32(tcpi_rto), U32(tcpi_ato), U32(tcpi_snd_mss), U32(tcpi_rcv_mss),
	U32(tcpi_unacked), U32(tcpi_sacked), U32(tcpi_lost), U32(tcpi_retrans), U32(tcpi_fackets),
	U32(tcpi_last_data_sent), U32(tcpi_last_ack_sent), U32(tcpi_last_data_recv), U32(tcpi_last_ack_recv),
	U32(tcpi_pmtu), U32(tcpi_rcv_ssthresh), U32(tcpi_rtt), U32(tcpi_rttvar), U32(tcpi_snd_ssthresh),
	U32(tcpi_snd_cwnd), U32(tcpi_advmss), U32(tcpi_reordering), U32(tcpi_rcv_rtt), U32(tcpi_rcv_space),
	U32(tcpi_total_retrans), U64(tcpi_pacing_rate), U64(tcpi_max_pacing_rate), U64(tcpi_bytes_acked),
	U64(tcpi_bytes_received), U32(tcpi_segs_out), U32(tcpi_segs_in), U32(tcpi_notsent_bytes),
	U32(tcpi_min_rtt), U32(tcpi_data_segs_in), U32(tcpi_data_segs_out), U64(tcpi_delivery_rate),
	U64(tcpi_busy_time), U64(tcpi_rwnd_limited), U64(tcpi_sndbuf_limited), U32(tcpi_delivered),
	U32(tcpi_delivered_ce), U64(tcpi_bytes_sent), U64(tcpi_bytes_retrans), U32(tcpi_dsack_dups),
	U32(tcpi_reord_seen), U32(tcpi_rcv_ooopack), U32(tcpi_snd_wnd),
};

void drill_code_bind_tcp_info(struct drill_code_env *env, const void *info, size_t len)
{
	const uint8_t *b = info;
	for (size_t i = 0; i < sizeof(tcp_info_fields) / sizeof(tcp_info_fields[0]); i++) {
		size_t off = tcp_info_fields[i].off, sz = tcp_info_fields[i].size;
		if (off + sz > len)
			continue;
		uint64_t v = 0;
		if (sz == 1) {
			v = b[off];
		} else if (sz == 2) {
			uint16_t x;
			memcpy(&x, b + off, 2);
			v = x;
		} else if (sz == 4) {
			uint32_t x;
			memcpy(&x, b + off, 4);
			v = x;
		} else {
			memcpy(&v, b + off, 8);
		}
		drill_code_set(env, tcp_info_fields[i].name, (int64_t)v);
	}
	/* The window scales share a byte after tcpi_options: snd in the low nibble (as the kernel's bitfield). */
	size_t ws = offsetof(struct tcp_info, tcpi_options) + 1;
	if (ws < len) {
		drill_code_set(env, "tcpi_snd_wscale", b[ws] & 0x0f);
		drill_code_set(env, "tcpi_rcv_wscale", b[ws] >> 4);
	}
	static const struct {
		const char *name;
		int64_t v;
	} consts[] = {
		{"TCP_CA_Open", 0}, {"TCP_CA_Disorder", 1}, {"TCP_CA_CWR", 2}, {"TCP_CA_Recovery", 3},
		{"TCP_CA_Loss", 4}, {"TCPI_OPT_TIMESTAMPS", 1}, {"TCPI_OPT_SACK", 2}, {"TCPI_OPT_WSCALE", 4},
		{"TCPI_OPT_ECN", 8}, {"TCPI_OPT_ECN_SEEN", 16}, {"TCPI_OPT_SYN_DATA", 32},
		{"TCP_ESTABLISHED", 1}, {"TCP_SYN_SENT", 2}, {"TCP_SYN_RECV", 3}, {"TCP_FIN_WAIT1", 4},
		{"TCP_FIN_WAIT2", 5}, {"TCP_TIME_WAIT", 6}, {"TCP_CLOSE", 7}, {"TCP_CLOSE_WAIT", 8},
		{"TCP_LAST_ACK", 9}, {"TCP_LISTEN", 10}, {"TCP_CLOSING", 11},
	};
	for (size_t i = 0; i < sizeof(consts) / sizeof(consts[0]); i++)
		drill_code_set(env, consts[i].name, consts[i].v);
}

void drill_code_bind_meminfo(struct drill_code_env *env, const uint32_t *mem, size_t n)
{
	/* Linux's SK_MEMINFO_* indices (include/uapi/linux/sock_diag.h). */
	static const char *const names[] = {
		"SK_MEMINFO_RMEM_ALLOC", "SK_MEMINFO_RCVBUF", "SK_MEMINFO_WMEM_ALLOC", "SK_MEMINFO_SNDBUF",
		"SK_MEMINFO_FWD_ALLOC", "SK_MEMINFO_WMEM_QUEUED", "SK_MEMINFO_OPTMEM", "SK_MEMINFO_BACKLOG",
		"SK_MEMINFO_DROPS",
	};
	for (size_t i = 0; i < n && i < sizeof(names) / sizeof(names[0]); i++)
		drill_code_set(env, names[i], mem[i]);
}
