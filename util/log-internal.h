/* Shared between util/error.c and util/log.c only. */
#ifndef UTIL_LOG_INTERNAL_H
#define UTIL_LOG_INTERNAL_H

/* "2026-11-25T13:14:07.123456Z" (caller frees). */
char *log_timestamp(void);
bool error_timestamps_enabled(void);
/* Writes a human-facing report line to stderr, and to the -D file if set. */
void log_write_report(const char *line);

#endif
