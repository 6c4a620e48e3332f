/*
 * tcp.h - TCP header and options view (RFC 9293 3.1, options from RFC 7323 and 2018).
 *
 *   0              16              32
 *   | source port  | dest port     |
 *   |        sequence number       |
 *   |     acknowledgment number    |
 *   |off|rsv|flags | window        |
 *   | checksum     | urgent ptr    |
 *   | options (data offset*4 - 20) | data ...
 *
 * tcp_hdr_parse() reads the fixed header and every option into a host-order struct after
 * checking each length it relies on; a malformed option list is reported, never read past.
 * tcp_hdr_emit() writes the header and options from the same struct. The checksum is the
 * TCP layer's business (it needs the pseudo-header).
 */
#ifndef TAPSTACK_WIRE_TCP_H
#define TAPSTACK_WIRE_TCP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/byteorder.h"

#define TCP_HDR_MIN 20
#define TCP_HDR_MAX 60

#define TCP_OFF_SPORT 0
#define TCP_OFF_DPORT 2
#define TCP_OFF_SEQ 4
#define TCP_OFF_ACK 8
#define TCP_OFF_DOFF 12
#define TCP_OFF_FLAGS 13
#define TCP_OFF_WIN 14
#define TCP_OFF_CSUM 16
#define TCP_OFF_URG 18

#define TCP_FLAG_FIN 0x01u
#define TCP_FLAG_SYN 0x02u
#define TCP_FLAG_RST 0x04u
#define TCP_FLAG_PSH 0x08u
#define TCP_FLAG_ACK 0x10u
#define TCP_FLAG_URG 0x20u
#define TCP_FLAG_ECE 0x40u
#define TCP_FLAG_CWR 0x80u

#define TCP_OPT_EOL 0
#define TCP_OPT_NOP 1
#define TCP_OPT_MSS 2
#define TCP_OPT_WSCALE 3
#define TCP_OPT_SACK_PERM 4
#define TCP_OPT_SACK 5
#define TCP_OPT_TS 8

#define TCP_SACK_MAX_BLOCKS 4

struct tcp_sack_block {
	uint32_t start, end;
};

struct tcp_opts {
	bool has_mss, has_wscale, sack_ok, has_ts;
	uint16_t mss;
	uint8_t wscale;
	uint32_t ts_val, ts_ecr;
	uint8_t sack_count;
	struct tcp_sack_block sack[TCP_SACK_MAX_BLOCKS];
	bool sack_malformed;    /* a SACK option whose length is not 2 + 8n: ignored (as Linux) */
};

struct tcp_hdr {
	uint16_t sport, dport;
	uint32_t seq, ack;
	uint8_t doff;           /* header length in bytes */
	uint8_t flags;          /* TCP_FLAG_* */
	uint16_t win;           /* as on the wire, unscaled */
	uint16_t csum;
	uint16_t urg;
	struct tcp_opts opts;
};

enum tcp_parse_result {
	TCP_PARSE_OK = 0,
	TCP_PARSE_TRUNCATED = -1,   /* shorter than 20 bytes */
	TCP_PARSE_BAD_DOFF = -2,    /* data offset < 5 or beyond the segment */
	TCP_PARSE_BAD_OPTION = -3,  /* an option's length is 0/1, runs past the header, or is wrong for its kind */
};

/* Parses len bytes (header and payload) at p. Unknown options are skipped by their length. */
int tcp_hdr_parse(const uint8_t *p, size_t len, struct tcp_hdr *h);

/* Bytes the options in o take on the wire, padded to a multiple of 4. */
size_t tcp_opts_len(const struct tcp_opts *o);

/*
 * Writes the header (20 + tcp_opts_len() bytes) at p and returns that length; h->doff is
 * ignored and computed. Options are laid out as Linux does: MSS, SACK-permitted with
 * timestamps, window scale, SACK blocks, NOP-padded.
 */
size_t tcp_hdr_emit(uint8_t *p, const struct tcp_hdr *h);

/* tcpdump-style text: "Flags [S.], seq 1, ack 2, win 3, options [mss 1460,...], length 0". */
int tcp_hdr_format(char *buf, size_t size, const struct tcp_hdr *h, uint32_t payload_len);

#endif
