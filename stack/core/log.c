/* log.c - formats a line and hands it to the installed sink (see log.h). */
#include "core/log.h"

#include <stdarg.h>
#include <stdio.h>

void log_printf(const struct log *log, const char *fmt, ...)
{
	char line[512];
	va_list ap;

	if (!log->sink)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	log->sink(log->arg, line);
}
