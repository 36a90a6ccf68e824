/*
 * schema.h — the directory's attribute types, read at start and reload.
 *
 * When a shared connection becomes ready and the schema is still needed,
 * aldproxy reads the rootDSE's subschemaSubentry and then that entry's
 * attributeTypes (two base searches on the connection, marked by their
 * messageIDs like the health probe), and hands them to
 * policy_schema_parse(): from then on every attribute name a client sends
 * is resolved through the directory's own names, aliases, OIDs and SUP
 * chains (policy_attr_secret(), policy_attr_allowed()).  Until then the
 * built-in secret list and aliases apply.  A failure is logged and retried
 * on the next ready connection.
 */
#ifndef ALDPROXY_SCHEMA_H
#define ALDPROXY_SCHEMA_H

#include "pdu.h"

struct upstream;
struct backend;
struct evbuffer;

/* A shared connection is ready: start reading the schema if it is needed. */
void schema_maybe_request(struct upstream *u);
/* Whether h (on u) answers one of the schema reads; then it is consumed here. */
int  schema_response(struct upstream *u, struct evbuffer *in, const struct pdu_head *h);
/* u failed: a read in flight on it is retried elsewhere. */
void schema_upstream_lost(struct upstream *u);
/* Reload: read the schema again on the next ready connection (the current one stays until then). */
void schema_invalidate(void);
/* Frees the schema at exit. */
void schema_free(void);

#endif
