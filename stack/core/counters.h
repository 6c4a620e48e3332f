/*
 * counters.h - named counters, like `netstat -s`.
 *
 * Each layer lists its counters once in an X-macro and gets both the struct and the name
 * table from it, so a counter cannot exist without a name:
 *
 *   #define ARP_COUNTERS(X) X(rx_requests) X(rx_replies) X(drop_truncated)
 *   struct arp_counters { ARP_COUNTERS(COUNTER_FIELD) };
 *   static const char *const arp_counter_names[] = { ARP_COUNTERS(COUNTER_NAME) };
 *
 * Every drop increments exactly one counter named after its reason, so a test asserts *why*
 * a frame was dropped, and `tapstack stats` prints them all.
 */
#ifndef TAPSTACK_CORE_COUNTERS_H
#define TAPSTACK_CORE_COUNTERS_H

#include <stddef.h>
#include <stdint.h>

#define COUNTER_FIELD(name) uint64_t name;
#define COUNTER_NAME(name) #name,

/* A layer's counters seen as a table: names[i] belongs to values[i]. */
struct counter_group {
	const char *layer;          /* "eth", "arp", "ip", "icmp", "tcp", ... */
	const char *const *names;
	const uint64_t *values;     /* the counter struct seen as an array */
	size_t n;
};

#define COUNTER_GROUP(layer_name, names_arr, counters_ptr)                                        \
	((struct counter_group){ (layer_name), (names_arr), (const uint64_t *)(const void *)(counters_ptr), \
	                         sizeof(names_arr) / sizeof((names_arr)[0]) })

#endif
