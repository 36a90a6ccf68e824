/*
 * schema.h — the directory's attribute types, read at start and reload.
 *
 * When a shared connection becomes ready and the schema is still needed,
 * aldproxy reads the rootDSE's subschemaSubentry and then that entry's
 * attributeTypes (two base searches, internal ops with their own handler
 * on a shared connection's reserved slots), and hands them to
 * policy_schema_parse(): from then on every attribute name a client sends
 * is resolved through the directory's own names, aliases, OIDs and SUP
 * chains (policy_attr_secret(), policy_attr_allowed()).  Until then the
 * built-in secret list and aliases apply.  A lost connection or a timeout
 * is retried on the next tick; an answer without a schema is logged and
 * tried again at the next reload.
 */
#ifndef ALDPROXY_SCHEMA_H
#define ALDPROXY_SCHEMA_H

struct backend;

/* A shared connection is ready, or a tick: start reading the schema if it is needed and none is in flight. */
void schema_maybe_request(struct backend *be);
/* Reload: read the schema again on the next ready connection (the current one stays until then). */
void schema_invalidate(void);
/* Frees the schema at exit. */
void schema_free(void);

#endif
