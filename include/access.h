/*
 * access.h — what happened to each client operation: the access log line,
 * the metrics, and the audit context of a client.
 *
 * Every client operation that gets a final result passes through
 * access_op_done() exactly once, whoever answered it (the directory via
 * op.c, or aldproxy itself via client_result()):
 *
 *   conn=12 op=3 SEARCH profile=zabbix result=0 entries=4 etime=0.000734
 *   conn=12 op=1 BIND profile=zabbix dn="uid=zbx,…" result=49 etime=0.002101 diag="…"
 *
 * at info level (op= is the client's LDAP message ID).  Nothing a client
 * sends as a credential is ever passed here.
 */
#ifndef ALDPROXY_ACCESS_H
#define ALDPROXY_ACCESS_H

#include <stdint.h>

#include "audit.h"
#include "metrics.h"


struct op_done {
	int msgid;
	enum op_kind kind;
	int code;
	uint64_t start_us;      /* the request arrived (monotonic): etime runs from here */
	uint32_t entries;
	const char *profile;    /* NULL before a bind chose one */
	const char *dn;         /* bind: the name sent; writes: the entry; else NULL */
	const char *diag;       /* aldproxy's or the directory's message; may be NULL */
};

/* The access line (log level info) and the metrics (m) of an operation of connection conn_id that ended. */
void access_op_done(struct metrics *m, uint64_t conn_id, const struct op_done *d);

#endif
