/*
 * log.c — leveled logging to stderr or syslog.
 */
#include "log.h"
#include "json.h"

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

/*
 * Control characters and bytes that are not UTF-8 in a message (a bind
 * name, a base DN, anything a client chose) are written as \xNN, so one
 * event is always one line of valid UTF-8 and nobody can forge a log line
 * or reach a terminal with escape sequences.
 */
static size_t
defang(char *dst, size_t dstlen, const char *src, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0;
	for (size_t i = 0; i < len && o + 5 < dstlen; i++) {
		unsigned char ch = (unsigned char)src[i];
		int u = ch >= 0x80 ? utf8_len((const unsigned char *)src + i) : 0;
		if (u > 0 && (size_t)u <= len - i) {
			memcpy(dst + o, src + i, (size_t)u);      /* UTF-8 (Cyrillic names) as is */
			o += (size_t)u;
			i += (size_t)u - 1;
		} else if (ch < 0x20 || ch >= 0x7f) {
			dst[o++] = '\\';
			dst[o++] = 'x';
			dst[o++] = hex[ch >> 4];
			dst[o++] = hex[ch & 15];
		} else {
			dst[o++] = (char)ch;
		}
	}
	return o;
}

static void
log_vwrite(int level, const char *fmt, va_list ap)
{
	if (level > log_max)
		return;
	char msg[2048], line[2048 + 64];
	int m = vsnprintf(msg, sizeof(msg), fmt, ap);
	size_t ml = m < 0 ? 0 : (size_t)m < sizeof(msg) ? (size_t)m : sizeof(msg) - 1;
	if (log_to_syslog) {
		size_t l = defang(line, sizeof(line) - 1, msg, ml);
		line[l] = '\0';
		syslog(level_prio[level], "%s", line);
		return;
	}
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
	size_t len = (size_t)n + defang(line + n, sizeof(line) - (size_t)n - 1, msg, ml);
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
