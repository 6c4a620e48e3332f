/*
 * tcp.c - TCP header and option parsing, emission and tcpdump-style formatting.
 *
 * Option parsing follows RFC 9293 3.2: kinds 0 (end) and 1 (no-op) are single bytes, every
 * other option has a length byte that counts kind and length. A length below 2 or past the
 * end of the header makes the whole option list malformed (the segment is dropped and
 * counted by the TCP layer). An option with a known kind but the wrong length is treated
 * the same way, as Linux ignores such options but we prefer to count them; unknown kinds
 * are skipped.
 */
#include "wire/tcp.h"

#include <stdio.h>
#include <string.h>

static int tcp_opts_parse(const uint8_t *p, size_t len, struct tcp_opts *o)
{
	size_t i = 0;

	memset(o, 0, sizeof(*o));
	while (i < len) {
		uint8_t kind = p[i];
		if (kind == TCP_OPT_EOL)
			break;
		if (kind == TCP_OPT_NOP) {
			i++;
			continue;
		}
		if (i + 1 >= len)
			return TCP_PARSE_BAD_OPTION;
		uint8_t olen = p[i + 1];
		if (olen < 2 || i + olen > len)
			return TCP_PARSE_BAD_OPTION;
		const uint8_t *v = p + i + 2;
		switch (kind) {
		case TCP_OPT_MSS:
			if (olen != 4)
				return TCP_PARSE_BAD_OPTION;
			o->has_mss = true;
			o->mss = get_be16(v);
			break;
		case TCP_OPT_WSCALE:
			if (olen != 3)
				return TCP_PARSE_BAD_OPTION;
			o->has_wscale = true;
			o->wscale = v[0];
			break;
		case TCP_OPT_SACK_PERM:
			if (olen != 2)
				return TCP_PARSE_BAD_OPTION;
			o->sack_ok = true;
			break;
		case TCP_OPT_TS:
			if (olen != 10)
				return TCP_PARSE_BAD_OPTION;
			o->has_ts = true;
			o->ts_val = get_be32(v);
			o->ts_ecr = get_be32(v + 4);
			break;
		case TCP_OPT_SACK:
			if (olen < 10 || (olen - 2) % 8 != 0) {
				/* Linux (tcp_parse_options) ignores such an option and keeps the
				 * segment; the TCP layer counts it (SackDiscardMalformed). */
				o->sack_malformed = true;
				break;
			}
			o->sack_count = 0;
			for (size_t b = 0; b < (size_t)(olen - 2) / 8 && b < TCP_SACK_MAX_BLOCKS; b++) {
				o->sack[b].start = get_be32(v + b * 8);
				o->sack[b].end = get_be32(v + b * 8 + 4);
				o->sack_count++;
			}
			break;
		default:
			break;
		}
		i += olen;
	}
	return TCP_PARSE_OK;
}

int tcp_hdr_parse(const uint8_t *p, size_t len, struct tcp_hdr *h)
{
	if (len < TCP_HDR_MIN)
		return TCP_PARSE_TRUNCATED;
	h->sport = get_be16(p + TCP_OFF_SPORT);
	h->dport = get_be16(p + TCP_OFF_DPORT);
	h->seq = get_be32(p + TCP_OFF_SEQ);
	h->ack = get_be32(p + TCP_OFF_ACK);
	h->doff = (uint8_t)((p[TCP_OFF_DOFF] >> 4) * 4);
	h->flags = p[TCP_OFF_FLAGS];
	h->win = get_be16(p + TCP_OFF_WIN);
	h->csum = get_be16(p + TCP_OFF_CSUM);
	h->urg = get_be16(p + TCP_OFF_URG);
	if (h->doff < TCP_HDR_MIN || h->doff > len)
		return TCP_PARSE_BAD_DOFF;
	return tcp_opts_parse(p + TCP_HDR_MIN, h->doff - TCP_HDR_MIN, &h->opts);
}

size_t tcp_opts_len(const struct tcp_opts *o)
{
	size_t n = 0;
	if (o->has_mss)
		n += 4;
	if (o->has_ts)
		n += 12;            /* NOP NOP TS, or SACK-permitted + TS */
	else if (o->sack_ok)
		n += 4;             /* NOP NOP SACK-permitted */
	if (o->has_wscale)
		n += 4;             /* NOP wscale */
	if (o->sack_count)
		n += 4 + 8u * o->sack_count; /* NOP NOP SACK */
	return n;
}

size_t tcp_hdr_emit(uint8_t *p, const struct tcp_hdr *h)
{
	const struct tcp_opts *o = &h->opts;
	size_t olen = tcp_opts_len(o);
	uint8_t *q = p + TCP_HDR_MIN;

	put_be16(p + TCP_OFF_SPORT, h->sport);
	put_be16(p + TCP_OFF_DPORT, h->dport);
	put_be32(p + TCP_OFF_SEQ, h->seq);
	put_be32(p + TCP_OFF_ACK, h->ack);
	p[TCP_OFF_DOFF] = (uint8_t)(((TCP_HDR_MIN + olen) / 4) << 4);
	p[TCP_OFF_FLAGS] = h->flags;
	put_be16(p + TCP_OFF_WIN, h->win);
	put_be16(p + TCP_OFF_CSUM, h->csum);
	put_be16(p + TCP_OFF_URG, h->urg);

	if (o->has_mss) {
		*q++ = TCP_OPT_MSS;
		*q++ = 4;
		put_be16(q, o->mss);
		q += 2;
	}
	if (o->has_ts) {
		if (o->sack_ok) {
			*q++ = TCP_OPT_SACK_PERM;
			*q++ = 2;
		} else {
			*q++ = TCP_OPT_NOP;
			*q++ = TCP_OPT_NOP;
		}
		*q++ = TCP_OPT_TS;
		*q++ = 10;
		put_be32(q, o->ts_val);
		put_be32(q + 4, o->ts_ecr);
		q += 8;
	} else if (o->sack_ok) {
		*q++ = TCP_OPT_NOP;
		*q++ = TCP_OPT_NOP;
		*q++ = TCP_OPT_SACK_PERM;
		*q++ = 2;
	}
	if (o->has_wscale) {
		*q++ = TCP_OPT_NOP;
		*q++ = TCP_OPT_WSCALE;
		*q++ = 3;
		*q++ = o->wscale;
	}
	if (o->sack_count) {
		*q++ = TCP_OPT_NOP;
		*q++ = TCP_OPT_NOP;
		*q++ = TCP_OPT_SACK;
		*q++ = (uint8_t)(2 + 8 * o->sack_count);
		for (unsigned b = 0; b < o->sack_count; b++) {
			put_be32(q, o->sack[b].start);
			put_be32(q + 4, o->sack[b].end);
			q += 8;
		}
	}
	return TCP_HDR_MIN + olen;
}

int tcp_hdr_format(char *buf, size_t size, const struct tcp_hdr *h, uint32_t payload_len)
{
	char flags[12];
	size_t f = 0;
	int n;

	/* tcpdump's letters, in its order; "." stands for ACK. */
	if (h->flags & TCP_FLAG_SYN) flags[f++] = 'S';
	if (h->flags & TCP_FLAG_FIN) flags[f++] = 'F';
	if (h->flags & TCP_FLAG_PSH) flags[f++] = 'P';
	if (h->flags & TCP_FLAG_RST) flags[f++] = 'R';
	if (h->flags & TCP_FLAG_URG) flags[f++] = 'U';
	if (h->flags & TCP_FLAG_ECE) flags[f++] = 'E';
	if (h->flags & TCP_FLAG_CWR) flags[f++] = 'W';
	if (h->flags & TCP_FLAG_ACK) flags[f++] = '.';
	flags[f] = 0;
	if (!f)
		snprintf(flags, sizeof(flags), "none");

	n = snprintf(buf, size, "Flags [%s], seq %u", flags, h->seq);
	if (h->flags & TCP_FLAG_ACK)
		n += snprintf(buf + n, n < (int)size ? size - (size_t)n : 0, ", ack %u", h->ack);
	n += snprintf(buf + n, n < (int)size ? size - (size_t)n : 0, ", win %u", h->win);

	const struct tcp_opts *o = &h->opts;
	if (o->has_mss || o->has_wscale || o->sack_ok || o->has_ts || o->sack_count) {
		char opt[200];
		size_t k = 0;
		const char *sep = "";
#define OPT_APPEND(...) do { int w = snprintf(opt + k, sizeof(opt) - k, __VA_ARGS__); if (w > 0 && (size_t)w < sizeof(opt) - k) k += (size_t)w; sep = ","; } while (0)
		if (o->has_mss) OPT_APPEND("%smss %u", sep, o->mss);
		if (o->sack_ok) OPT_APPEND("%ssackOK", sep);
		if (o->has_ts) OPT_APPEND("%sTS val %u ecr %u", sep, o->ts_val, o->ts_ecr);
		if (o->has_wscale) OPT_APPEND("%swscale %u", sep, o->wscale);
		if (o->sack_count) {
			OPT_APPEND("%ssack %u", sep, o->sack_count);
			for (unsigned b = 0; b < o->sack_count; b++)
				OPT_APPEND(" {%u:%u}", o->sack[b].start, o->sack[b].end);
		}
#undef OPT_APPEND
		opt[k] = 0;
		n += snprintf(buf + n, n < (int)size ? size - (size_t)n : 0, ", options [%s]", opt);
	}
	n += snprintf(buf + n, n < (int)size ? size - (size_t)n : 0, ", length %u", payload_len);
	return n;
}
