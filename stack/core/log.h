/*
 * log.h - where the stack's trace and debug lines go.
 *
 * The stack never writes to stdout itself: it formats a line and hands it to the sink the
 * program installed (the tapstack program prints it; a test may record it). LOG_TRACE()
 * checks the flag first, so a disabled trace costs one branch and no formatting.
 */
#ifndef TAPSTACK_CORE_LOG_H
#define TAPSTACK_CORE_LOG_H

#include <stdbool.h>

typedef void (*log_sink_fn)(void *arg, const char *line);

struct log {
	log_sink_fn sink;   /* NULL: discard */
	void *arg;
	bool trace;         /* --trace: per-frame lines and state changes */
	bool debug;         /* drop reasons and other detail */
};

void log_printf(const struct log *log, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define LOG_TRACE(log, ...)                                                                        \
	do {                                                                                       \
		if ((log)->trace && (log)->sink)                                                   \
			log_printf((log), __VA_ARGS__);                                            \
	} while (0)

#define LOG_DEBUG(log, ...)                                                                        \
	do {                                                                                       \
		if ((log)->debug && (log)->sink)                                                   \
			log_printf((log), __VA_ARGS__);                                            \
	} while (0)

#endif
