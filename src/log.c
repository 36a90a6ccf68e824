/*
 * log.c — leveled logging to stderr or syslog.
 */
#include "log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <sys/time.h>

static int log_to_syslog;
static int log_max = LOG_LVL_INFO;

static const char *const level_names[] = { "error", "warning", "notice", "info", "debug" };
static const int level_prio[] = { LOG_ERR, LOG_WARNING, LOG_NOTICE, LOG_INFO, LOG_DEBUG };

void
log_init(const char *target, int level, const char *ident, int facility)
{
	closelog();
	log_to_syslog = target != NULL && strcmp(target, "syslog") == 0;
	log_max = level;
	/* opened in either case: audit records to syslog use the same identity */
	openlog(ident, LOG_PID | LOG_NDELAY, facility);
}

int
log_level_parse(const char *name)
{
	for (int i = 0; i < (int)(sizeof(level_names) / sizeof(level_names[0])); i++)
		if (strcmp(name, level_names[i]) == 0)
			return i;
	if (strcmp(name, "warn") == 0)
		return LOG_LVL_WARNING;
	return -1;
}

int
log_enabled(int level)
{
	return level <= log_max;
}

static void
log_vwrite(int level, const char *fmt, va_list ap)
{
	if (level > log_max)
		return;
	if (log_to_syslog) {
		vsyslog(level_prio[level], fmt, ap);
		return;
	}
	char line[2048];
	struct timeval tv;
	gettimeofday(&tv, NULL);
	/* the date part changes once a second: formatted then, reused meanwhile */
	static time_t stamp_sec = -1;
	static char stamp[32];
	if (tv.tv_sec != stamp_sec) {
		struct tm tm;
		gmtime_r(&tv.tv_sec, &tm);
		strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
		stamp_sec = tv.tv_sec;
	}
	int n = snprintf(line, sizeof(line), "%s.%03dZ %s: ", stamp, (int)(tv.tv_usec / 1000), level_names[level]);
	int m = vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
	size_t len = (size_t)n + (m < 0 ? 0 : (size_t)m < sizeof(line) - (size_t)n - 1 ? (size_t)m :
	    sizeof(line) - (size_t)n - 2);
	line[len++] = '\n';
	/* one write(2) per line: whole lines even when stderr is shared */
	fwrite(line, 1, len, stderr);
}

#define LOG_FN(name, lvl)                          \
	void name(const char *fmt, ...)            \
	{                                          \
		va_list ap;                        \
		va_start(ap, fmt);                 \
		log_vwrite(lvl, fmt, ap);          \
		va_end(ap);                        \
	}
LOG_FN(log_err, LOG_LVL_ERR)
LOG_FN(log_warn, LOG_LVL_WARNING)
LOG_FN(log_notice, LOG_LVL_NOTICE)
LOG_FN(log_info, LOG_LVL_INFO)
LOG_FN(log_debug, LOG_LVL_DEBUG)

void
fatal(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	log_vwrite(LOG_LVL_ERR, fmt, ap);
	va_end(ap);
	exit(1);
}
