/*
 * audit.c — the audit trail.  See audit.h and docs/audit.md.
 */
#include "audit.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>
#include <sys/time.h>
#include <event2/buffer.h>

#include "config.h"
#include "json.h"
#include "log.h"
#include "version.h"

static int audit_target = AUDIT_TO_OFF;
static int audit_cef;
static int audit_facility = LOG_AUTHPRIV;
static int audit_fd = -1;
static char audit_host[256];
static int audit_pid;
static struct evbuffer *audit_buf;     /* one record at a time, reused */

/* Field names: JSON, CEF key, CEF label (for the custom cs/cn fields). */
static const struct {
	const char *json, *cef, *label;
} keys[AK_N] = {
	[AK_CONN] = { "conn", "cn1", "conn" },
	[AK_OP] = { "op", "cn2", "msgid" },
	[AK_SRC_IP] = { "src_ip", "src", NULL },
	[AK_SRC_PORT] = { "src_port", "spt", NULL },
	[AK_LISTENER] = { "listener", "cs2", "listener" },
	[AK_TLS] = { "tls", "cs6", "tls" },
	[AK_PROFILE] = { "profile", "cs1", "profile" },
	[AK_USER] = { "user", "suser", NULL },
	[AK_USER_DN] = { "user_dn", "cs3", "userDN" },
	[AK_ROLE] = { "role", "cs4", "role" },
	[AK_OPERATION] = { "operation", "act", NULL },
	[AK_TARGET] = { "target", "duser", NULL },
	[AK_ATTRIBUTES] = { "attributes", "cs5", "attributes" },
	[AK_RESULT] = { "result", "cn3", "ldapResult" },
	[AK_REASON] = { "reason", "reason", NULL },
	[AK_MESSAGE] = { "message", "msg", NULL },
	[AK_CONTROLLER] = { "controller", "cs5", "controller" },
	[AK_PROFILES] = { "profiles", "cnt", NULL },
	[AK_CONFIG] = { "config", "fname", NULL },
};

static char audit_path[512];
static char write_error[600];      /* the last write's failure, "" when the last write went through */
static time_t write_error_since;

const char *
audit_write_error(long *since)
{
	if (write_error[0] == '\0' || audit_target != AUDIT_TO_FILE)
		return NULL;
	*since = (long)write_error_since;
	return write_error;
}

static const char *const outcome_names[] = { "success", "failure", "denied", "info" };
static const int cef_severity[] = { 3, 5, 6, 4 };
static const int syslog_prio[] = { LOG_INFO, LOG_WARNING, LOG_WARNING, LOG_NOTICE };

int
audit_open(const struct config *cfg, char *err, size_t errlen)
{
	int fd = -1;
	if (cfg->audit_target == AUDIT_TO_FILE) {
		fd = open(cfg->audit_file, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
		if (fd < 0) {
			snprintf(err, errlen, "%s:%d: key 'audit.file': cannot open %s: %s", cfg->path, cfg->audit_file_line,
			    cfg->audit_file, strerror(errno));
			return -1;
		}
	}
	audit_close();
	audit_fd = fd;
	write_error[0] = '\0';
	snprintf(audit_path, sizeof(audit_path), "%s", cfg->audit_file ? cfg->audit_file : "");
	audit_target = cfg->audit_target;
	audit_cef = cfg->audit_cef;
	audit_facility = cfg->audit_facility;
	audit_pid = (int)getpid();
	if (audit_buf == NULL && (audit_buf = evbuffer_new()) == NULL) {
		snprintf(err, errlen, "audit: out of memory");
		return -1;
	}
	if (gethostname(audit_host, sizeof(audit_host)) < 0)
		snprintf(audit_host, sizeof(audit_host), "localhost");
	audit_host[sizeof(audit_host) - 1] = '\0';
	return 0;
}

void
audit_close(void)
{
	if (audit_fd >= 0)
		close(audit_fd);
	audit_fd = -1;
	audit_target = AUDIT_TO_OFF;
}

void
audit_free(void)
{
	audit_close();
	if (audit_buf != NULL)
		evbuffer_free(audit_buf);
	audit_buf = NULL;
}

int
audit_enabled(void)
{
	return audit_target != AUDIT_TO_OFF;
}

void
audit_begin(struct audit_rec *r, const char *event, enum audit_outcome outcome)
{
	r->event = event;
	r->outcome = outcome;
	r->n = 0;
}

static void
add(struct audit_rec *r, enum audit_key k, int is_num, long long num, const char *str)
{
	if (r->n >= AUDIT_MAX_FIELDS)
		return;
	r->f[r->n].key = k;
	r->f[r->n].is_num = is_num;
	r->f[r->n].num = num;
	r->f[r->n].str = str;
	r->n++;
}

void
audit_str(struct audit_rec *r, enum audit_key k, const char *v)
{
	if (v != NULL)
		add(r, k, 0, 0, v);
}

void
audit_num(struct audit_rec *r, enum audit_key k, long long v)
{
	add(r, k, 1, v, NULL);
}

void
audit_bool(struct audit_rec *r, enum audit_key k, int v)
{
	add(r, k, 2, v != 0, NULL);
}

static void
format_json(const struct audit_rec *r, struct evbuffer *o, const struct timeval *tv)
{
	/* the date part changes once a second: formatted then, reused meanwhile */
	static time_t ts_sec = -1;
	static char ts[40];
	if (tv->tv_sec != ts_sec) {
		struct tm tm;
		gmtime_r(&tv->tv_sec, &tm);
		strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
		ts_sec = tv->tv_sec;
	}
	evbuffer_add_printf(o, "{\"time\":\"%s.%03dZ\",\"host\":", ts, (int)(tv->tv_usec / 1000));
	json_str(o, audit_host);
	evbuffer_add_printf(o, ",\"product\":\"aldproxy\",\"version\":\"%s\",\"pid\":%d,\"event\":\"%s\","
	    "\"outcome\":\"%s\"", ALDPROXY_VERSION, audit_pid, r->event, outcome_names[r->outcome]);
	for (unsigned i = 0; i < r->n; i++) {
		evbuffer_add_printf(o, ",\"%s\":", keys[r->f[i].key].json);
		if (r->f[i].is_num == 1)
			evbuffer_add_printf(o, "%lld", r->f[i].num);
		else if (r->f[i].is_num == 2)
			evbuffer_add_printf(o, "%s", r->f[i].num ? "true" : "false");
		else
			json_str(o, r->f[i].str);
	}
	evbuffer_add(o, "}", 1);
}

/* A CEF extension value: backslash, '=' and line breaks escaped (CEF 25, "Character encoding"). */
static void
cef_value(struct evbuffer *o, const char *s)
{
	for (; *s; s++) {
		if (*s == '\\' || *s == '=')
			evbuffer_add_printf(o, "\\%c", *s);
		else if (*s == '\n')
			evbuffer_add(o, "\\n", 2);
		else if (*s == '\r')
			evbuffer_add(o, "\\r", 2);
		else if ((unsigned char)*s < 0x20 || *s == 0x7f)
			evbuffer_add(o, " ", 1);        /* CEF has no escape for other control characters */
		else
			evbuffer_add(o, s, 1);
	}
}

static void
format_cef(const struct audit_rec *r, struct evbuffer *o, const struct timeval *tv)
{
	/* header fields hold only our own identifiers: no '|' or '\' to escape */
	evbuffer_add_printf(o, "CEF:0|ALD|aldproxy|%s|%s|%s %s|%d|rt=%lld dvchost=", ALDPROXY_VERSION, r->event, r->event,
	    outcome_names[r->outcome], cef_severity[r->outcome],
	    (long long)tv->tv_sec * 1000 + tv->tv_usec / 1000);
	cef_value(o, audit_host);
	evbuffer_add_printf(o, " dvcpid=%d outcome=%s", audit_pid, outcome_names[r->outcome]);
	for (unsigned i = 0; i < r->n; i++) {
		const char *k = keys[r->f[i].key].cef, *label = keys[r->f[i].key].label;
		if (label != NULL)
			evbuffer_add_printf(o, " %sLabel=%s", k, label);
		evbuffer_add_printf(o, " %s=", k);
		if (r->f[i].is_num == 1)
			evbuffer_add_printf(o, "%lld", r->f[i].num);
		else if (r->f[i].is_num == 2)
			evbuffer_add_printf(o, "%s", r->f[i].num ? "true" : "false");
		else
			cef_value(o, r->f[i].str);
	}
}

void
audit_emit(const struct audit_rec *r)
{
	if (audit_target == AUDIT_TO_OFF)
		return;
	struct evbuffer *o = audit_buf;
	struct timeval tv;
	gettimeofday(&tv, NULL);
	if (audit_cef)
		format_cef(r, o, &tv);
	else
		format_json(r, o, &tv);
	if (audit_target == AUDIT_TO_FILE) {
		evbuffer_add(o, "\n", 1);
		size_t len = evbuffer_get_length(o);
		const char *line = (const char *)evbuffer_pullup(o, -1);
		/* one write() per record: O_APPEND keeps records whole even with a second writer */
		if (line != NULL && write(audit_fd, line, len) < 0) {
			/* the log and health say so; the log at most once a minute */
			static time_t last;
			time_t now = time(NULL);
			if (write_error[0] == '\0')
				write_error_since = now;
			snprintf(write_error, sizeof(write_error), "audit: cannot write to %s: %s", audit_path,
			    strerror(errno));
			if (now - last >= 60) {
				last = now;
				log_err("%s; records are lost until it can", write_error);
			}
		} else if (line != NULL && write_error[0] != '\0') {
			log_notice("audit: writing to %s again (records were lost since %ld s ago)", audit_path,
			    (long)(time(NULL) - write_error_since));
			write_error[0] = '\0';
		}
	} else {
		size_t len = evbuffer_get_length(o);
		const char *line = (const char *)evbuffer_pullup(o, -1);
		if (line != NULL)
			syslog(audit_facility | syslog_prio[r->outcome], "%.*s", (int)len, line);
	}
	evbuffer_drain(o, evbuffer_get_length(o));
}
