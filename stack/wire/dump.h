/*
 * dump.h - one tcpdump-style line for a whole Ethernet frame (the program's --trace).
 *
 *   ARP, Request who-has 10.0.0.2 tell 10.0.0.1, length 28
 *   ARP, Reply 10.0.0.2 is-at 02:00:00:00:00:02, length 28
 *   IP 10.0.0.1 > 10.0.0.2: ICMP echo request, id 7, seq 1, length 64
 *   IP 10.0.0.1.53422 > 10.0.0.2.80: Flags [S], seq 1, win 64240, options [mss 1460,...], length 0
 *
 * Pure formatting over bytes through the wire/ views: every length is checked, a truncated
 * or malformed frame prints what could be read and a "[|proto]" marker as tcpdump does. It
 * never validates checksums (that is the stack's job, and a trace should show bad frames too).
 */
#ifndef TAPSTACK_WIRE_DUMP_H
#define TAPSTACK_WIRE_DUMP_H

#include <stddef.h>
#include <stdint.h>

/* Writes the line (no newline) into buf of size bytes, always terminated; returns its length. */
size_t dump_frame(char *buf, size_t size, const uint8_t *frame, size_t len);

/* The same for an IPv4 datagram without its frame (one that goes round the stack's loop). */
size_t dump_ipv4_datagram(char *buf, size_t size, const uint8_t *dgram, size_t len);

/* "02:00:00:00:00:02" into buf (at least 18 bytes); returns buf. */
char *dump_mac(const uint8_t mac[6], char *buf);

#endif
