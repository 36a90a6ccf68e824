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

struct server;
struct client;

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

/* Accounts an operation of c that got its final result (c->nerrors too). */
void access_op_done(struct client *c, const struct op_done *d);

/* The audit fields naming c: conn, src_ip, src_port, listener, tls and profile (when chosen). */
void access_audit_client(struct audit_rec *r, const struct client *c);

#endif
