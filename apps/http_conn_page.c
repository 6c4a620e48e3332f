/*
 * http_conn_page.c - the visitor's own connection as the stack saw it, rendered as JSON
 * (GET /conn) and as the index page (GET /). Values come in a struct http_conn_facts that
 * http.c fills from ts_handshake() and getsockopt(TCP_INFO); nothing here touches a socket,
 * so tests/unit/test_http.c checks the text byte for byte.
 *
 * Moments are microseconds of the stack's clock, shown relative to the SYN's arrival: the
 * stack reads the clock once per batch of frames, so the SYN and the SYN-ACK it answers at
 * once share one moment, and the trace's own timestamps (taken per frame) differ from these
 * by a few microseconds at most.
 */
#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "apps/http_conn_page.h"

/* Appends to buf at *off, never past size; the total length is still counted. */
static void put(char *buf, size_t size, size_t *off, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(*off < size ? buf + *off : NULL, *off < size ? size - *off : 0, fmt, ap);
	va_end(ap);
	if (n > 0)
		*off += (size_t)n;
}

static const char *addr_str(const struct sockaddr_in *a, char *out, size_t size)
{
	char ip[INET_ADDRSTRLEN];
	inet_ntop(AF_INET, &a->sin_addr, ip, sizeof(ip));
	snprintf(out, size, "%s:%u", ip, (unsigned)ntohs(a->sin_port));
	return out;
}

/* A moment relative to the SYN, or -1 when the stack did not see it. */
static long long since_syn(const struct ts_handshake *hs, uint64_t at)
{
	return at && hs->syn_at_us ? (long long)(at - hs->syn_at_us) : -1;
}

static size_t finish(char *buf, size_t size, size_t off)
{
	if (size)
		buf[off < size ? off : size - 1] = '\0';
	return off;
}

size_t http_conn_json(const struct http_conn_facts *f, char *buf, size_t size)
{
	const struct ts_handshake *hs = &f->hs;
	char c[32], s[32];
	size_t off = 0;

	put(buf, size, &off, "{\n  \"client\": \"%s\",\n  \"server\": \"%s\",\n",
	    addr_str(&f->client, c, sizeof(c)), addr_str(&f->server, s, sizeof(s)));
	if (f->have_hs) {
		put(buf, size, &off,
		    "  \"syn\": {\"isn\": %u, \"window\": %u, \"mss\": %u, \"wscale\": %d, \"sack\": %s, "
		    "\"timestamps\": %s, \"tsval\": %u},\n",
		    hs->client_isn, hs->syn_win, hs->syn_mss, hs->syn_wscale == 255 ? -1 : hs->syn_wscale,
		    hs->syn_sack ? "true" : "false", hs->syn_ts ? "true" : "false", hs->syn_tsval);
		put(buf, size, &off,
		    "  \"synack\": {\"isn\": %u, \"window\": %u, \"mss\": %u, \"wscale\": %d, \"sack\": %s, "
		    "\"timestamps\": %s},\n",
		    hs->server_isn, hs->synack_win, hs->synack_mss,
		    hs->synack_wscale == 255 ? -1 : hs->synack_wscale, hs->synack_sack ? "true" : "false",
		    hs->synack_ts ? "true" : "false");
		put(buf, size, &off,
		    "  \"moments_us\": {\"syn_in\": %lld, \"synack_out\": %lld, \"final_ack_in\": %lld, "
		    "\"accept\": %lld},\n",
		    since_syn(hs, hs->syn_at_us), since_syn(hs, hs->synack_at_us),
		    since_syn(hs, hs->ack_at_us), since_syn(hs, hs->accept_at_us));
	}
	if (f->have_info)
		put(buf, size, &off,
		    "  \"tcp_info\": {\"rtt_us\": %u, \"rttvar_us\": %u, \"snd_cwnd\": %u, \"snd_mss\": %u, "
		    "\"rcv_mss\": %u, \"retransmits\": %u, \"total_retrans\": %u},\n",
		    f->ti.tcpi_rtt, f->ti.tcpi_rttvar, f->ti.tcpi_snd_cwnd, f->ti.tcpi_snd_mss,
		    f->ti.tcpi_rcv_mss, (unsigned)f->ti.tcpi_retransmits, f->ti.tcpi_total_retrans);
	put(buf, size, &off, "  \"docs\": \"docs/walkthrough.md\"\n}\n");
	return finish(buf, size, off);
}

static const char index_intro[] =
	"<!DOCTYPE html>\n"
	"<html><head><meta charset=\"utf-8\"><title>tapstack</title></head><body>\n"
	"<h1>tapstack</h1>\n"
	"<p>This page was served by <b>tapstack</b>, a TCP/IP stack that runs in user space on a\n"
	"Linux TAP device: Ethernet, ARP, IPv4, ICMP and TCP are all implemented by the program\n"
	"you are talking to, not by the kernel. The kernel only moves raw Ethernet frames between\n"
	"the TAP device and tapstack.</p>\n"
	"<p>The stack completed the TCP handshake (SYN, SYN-ACK, ACK) on its own and queued the\n"
	"connection; this HTTP server then took it with accept(), read your request and wrote\n"
	"this answer through tapstack's socket API. Here is that handshake as the stack saw it\n"
	"(<a href=\"/conn\">/conn</a> has the same as JSON).</p>\n";

static const char index_endpoints[] =
	"<h2>Endpoints</h2>\n<ul>\n"
	"<li><code>GET /</code> - this page</li>\n"
	"<li><code>GET /conn</code> - your connection, as JSON</li>\n"
	"<li><code>GET /bytes/N</code> - N bytes of a fixed pattern: byte i is\n"
	"(i * 7 + i / 256) mod 256 (up to 1 TiB, streamed)</li>\n"
	"<li><code>GET /NAME</code> - a file from the directory given with --http PORT:DIR</li>\n"
	"</ul>\n"
	"<p>Other demo services may be running too: echo (RFC 862), discard (RFC 863) and a\n"
	"listener that never calls accept(). See docs/apps.md.</p>\n"
	"</body></html>\n";

/*
 * One table row: a label, the value (with an id a test can find), the docs page. Spaces after
 * the value's cell pad it to ROW_VALUE_WIDTH, so the page has the same length for every
 * visitor: load generators such as ab count a length that differs from the first answer's
 * as a failed request.
 */
#define ROW_VALUE_WIDTH 28
static void row(char *buf, size_t size, size_t *off, const char *label, const char *id,
		const char *value, const char *doc)
{
	int pad = ROW_VALUE_WIDTH - (int)strlen(value);
	put(buf, size, off, "<tr><td>%s</td><td id=\"%s\">%s</td>%*s<td><a href=\"/docs/%s\">%s</a></td></tr>\n",
	    label, id, value, pad > 0 ? pad : 0, "", doc, doc);
}

static void row_u(char *buf, size_t size, size_t *off, const char *label, const char *id,
		  unsigned value, const char *doc)
{
	char v[16];
	snprintf(v, sizeof(v), "%u", value);
	row(buf, size, off, label, id, v, doc);
}

/* A window scale shift, or "none" when the segment carried no option (255). */
static void row_wscale(char *buf, size_t size, size_t *off, const char *label, const char *id,
		       uint8_t shift)
{
	if (shift == 255)
		row(buf, size, off, label, id, "none", "tcp.md");
	else
		row_u(buf, size, off, label, id, shift, "tcp.md");
}

size_t http_conn_index_html(const struct http_conn_facts *f, char *buf, size_t size)
{
	const struct ts_handshake *hs = &f->hs;
	char v[64];
	size_t off = 0;

	put(buf, size, &off, "%s<h2>Your connection</h2>\n<table>\n", index_intro);
	row(buf, size, &off, "you", "client", addr_str(&f->client, v, sizeof(v)), "walkthrough.md");
	row(buf, size, &off, "this server", "server", addr_str(&f->server, v, sizeof(v)), "walkthrough.md");
	if (f->have_hs) {
		row_u(buf, size, &off, "your SYN: initial sequence number", "syn-isn", hs->client_isn,
		      "glossary.md");
		row_u(buf, size, &off, "your SYN: window", "syn-win", hs->syn_win, "tcp.md");
		row_u(buf, size, &off, "your SYN: MSS option", "syn-mss", hs->syn_mss, "glossary.md");
		row_wscale(buf, size, &off, "your SYN: window scale", "syn-wscale", hs->syn_wscale);
		row(buf, size, &off, "your SYN: SACK permitted", "syn-sack", hs->syn_sack ? "yes" : "no",
		    "glossary.md");
		if (hs->syn_ts)
			row_u(buf, size, &off, "your SYN: timestamp value", "syn-tsval", hs->syn_tsval,
			      "glossary.md");
		else
			row(buf, size, &off, "your SYN: timestamp value", "syn-tsval", "none", "glossary.md");
		row_u(buf, size, &off, "SYN-ACK: our initial sequence number", "synack-isn", hs->server_isn,
		      "walkthrough.md");
		row_u(buf, size, &off, "SYN-ACK: window", "synack-win", hs->synack_win, "tcp.md");
		row_u(buf, size, &off, "SYN-ACK: MSS option", "synack-mss", hs->synack_mss, "glossary.md");
		row_wscale(buf, size, &off, "SYN-ACK: window scale", "synack-wscale", hs->synack_wscale);
		static const struct { const char *label, *id; } moments[] = {
			{ "SYN in (the moment everything below counts from)", "t-syn" },
			{ "SYN-ACK out", "t-synack" },
			{ "final ACK in: ESTABLISHED, in the accept queue", "t-ack" },
			{ "accept() took it", "t-accept" },
		};
		uint64_t at[] = { hs->syn_at_us, hs->synack_at_us, hs->ack_at_us, hs->accept_at_us };
		for (size_t i = 0; i < sizeof(at) / sizeof(at[0]); i++) {
			long long d = since_syn(hs, at[i]);
			if (d < 0)
				snprintf(v, sizeof(v), "not seen");
			else
				snprintf(v, sizeof(v), "%lld us", d);
			row(buf, size, &off, moments[i].label, moments[i].id, v, "listen-and-accept.md");
		}
	} else {
		row(buf, size, &off, "handshake", "handshake", "not recorded by this stack", "walkthrough.md");
	}
	if (f->have_info) {
		snprintf(v, sizeof(v), "%u us", f->ti.tcpi_rtt);
		row(buf, size, &off, "TCP_INFO: smoothed RTT", "rtt", v, "tcp.md");
		snprintf(v, sizeof(v), "%u segments", f->ti.tcpi_snd_cwnd);
		row(buf, size, &off, "TCP_INFO: congestion window", "cwnd", v, "tcp.md");
		row_u(buf, size, &off, "TCP_INFO: send MSS", "snd-mss", f->ti.tcpi_snd_mss, "glossary.md");
		row_u(buf, size, &off, "TCP_INFO: retransmissions", "retrans", f->ti.tcpi_total_retrans,
		      "tcp.md");
	}
	put(buf, size, &off, "</table>\n%s", index_endpoints);
	return finish(buf, size, off);
}
