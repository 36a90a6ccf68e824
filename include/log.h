/*
 * log.h — the daemon's log.  One line per event, to stderr or syslog.
 *
 * Secrets never reach this module: callers pass DNs, codes and reasons,
 * never passwords (see secret.h).  fatal() is for start-up only.
 */
#ifndef ALDPROXY_LOG_H
#define ALDPROXY_LOG_H

#include <stdarg.h>

enum log_level { LOG_LVL_ERR, LOG_LVL_WARNING, LOG_LVL_NOTICE, LOG_LVL_INFO, LOG_LVL_DEBUG };

/* target: "stderr" or "syslog"; level as above; facility LOG_DAEMON …  May be called again on reload. */
void log_init(const char *target, int level, const char *ident, int facility);
int  log_level_parse(const char *name);        /* -1 if unknown */
int  log_enabled(int level);

void log_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_notice(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

#endif
