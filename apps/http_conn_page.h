/*
 * http_conn_page.h - the page about the visitor's own connection: what the client's SYN
 * offered, what the SYN-ACK answered, when the SYN came in, the SYN-ACK went out, the final
 * ACK came in and accept() took the connection, and the connection's TCP_INFO; as JSON
 * (GET /conn) and as a section of the index page, each line linked to the page of docs/
 * that explains it (docs/walkthrough.md). Pure functions: http.c gathers the facts.
 */
#ifndef TAPSTACK_APPS_HTTP_CONN_PAGE_H
#define TAPSTACK_APPS_HTTP_CONN_PAGE_H

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <stddef.h>

#include "tcp/tcp.h"

struct http_conn_facts {
	struct sockaddr_in client, server;
	bool have_hs;              /* false on the kernel build: it keeps no handshake record */
	struct ts_handshake hs;
	bool have_info;            /* getsockopt(TCP_INFO) answered */
	struct tcp_info ti;
};

/* Each writes at most size bytes, NUL-terminated, and returns the length without the NUL;
 * size - 1 or more means the buffer was too small (HTTP_CONN_PAGE_MAX always suffices). */
#define HTTP_CONN_PAGE_MAX 8192
size_t http_conn_json(const struct http_conn_facts *f, char *buf, size_t size);
/* The whole index page: the static introduction, then "Your connection". */
size_t http_conn_index_html(const struct http_conn_facts *f, char *buf, size_t size);

#endif
