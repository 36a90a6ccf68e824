/*
 * audit.h — security events for a SIEM: one structured record per event,
 * JSON or CEF, one per line, to a syslog facility or to a file.
 *
 * The records and every field are documented in docs/audit.md; a field
 * is added there first.  Like the log, the audit trail is process-wide:
 * audit_open() at start and on every reload (the file is reopened, so
 * logrotate only needs `systemctl reload aldproxy`).  Records never carry
 * passwords or other secrets: callers pass names, codes and reasons.
 *
 * A record is built on the stack and written at once:
 *     struct audit_rec r;
 *     audit_begin(&r, "bind_failure", AUDIT_FAILURE);
 *     audit_str(&r, AK_USER, dn);  …  audit_emit(&r);
 */
#ifndef ALDPROXY_AUDIT_H
#define ALDPROXY_AUDIT_H

#include <stddef.h>

struct config;

enum audit_key {
	AK_CONN, AK_OP, AK_SRC_IP, AK_SRC_PORT, AK_LISTENER, AK_TLS, AK_PROFILE, AK_USER, AK_USER_DN, AK_ROLE,
	AK_OPERATION, AK_TARGET, AK_ATTRIBUTES, AK_RESULT, AK_REASON, AK_MESSAGE, AK_CONTROLLER, AK_PROFILES,
	AK_CONFIG, AK_N
};

enum audit_outcome { AUDIT_SUCCESS, AUDIT_FAILURE, AUDIT_DENIED, AUDIT_INFO };

#define AUDIT_MAX_FIELDS 20

struct audit_rec {
	const char *event;
	enum audit_outcome outcome;
	unsigned n;
	struct {
		enum audit_key key;
		int is_num;         /* 1 number, 2 boolean, 0 string */
		long long num;
		const char *str;
	} f[AUDIT_MAX_FIELDS];
};

/* Opens the configured target (audit.target: syslog, file or off).  -1 with err if the file cannot be opened. */
int  audit_open(const struct config *cfg, char *err, size_t errlen);
void audit_close(void);
void audit_free(void);      /* audit_close() and the record buffer, at exit */
int  audit_enabled(void);
/*
 * Why the last record could not be written (disk full, ...), and when
 * (time(NULL)), or NULL if every write since the last success went through.
 * Health reports it: records are lost while it lasts.
 */
const char *audit_write_error(long *since);

void audit_begin(struct audit_rec *r, const char *event, enum audit_outcome outcome);
void audit_str(struct audit_rec *r, enum audit_key k, const char *v);      /* NULL: field left out */
void audit_num(struct audit_rec *r, enum audit_key k, long long v);
void audit_bool(struct audit_rec *r, enum audit_key k, int v);
void audit_emit(const struct audit_rec *r);

#endif
