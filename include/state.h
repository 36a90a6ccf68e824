/*
 * state.h — the daemon's shared state: one struct server per process.
 *
 * Every module on the event loop reads it (the config, the stats, the
 * scratch arenas, the backend); only server.c (server.h) builds, reloads
 * and frees it.  A header of types only: including it ties a module to no
 * other module's code.  Everything runs on the single libevent loop: no
 * locks, no hand-offs.
 */
#ifndef ALDPROXY_STATE_H
#define ALDPROXY_STATE_H

#include <stdint.h>
#include <sys/queue.h>
#include <openssl/ssl.h>

#include "arena.h"
#include "clock.h"
#include "metrics.h"
#include "request.h"

struct event_base;
struct evdns_base;
struct event;
struct config;
struct profile_set;
struct listener;
struct backend;
struct client;
struct loaded;

struct stats {
	uint64_t conns_accepted;
	uint64_t conns_rejected;
	uint64_t ops_total;
	uint64_t binds_ok, binds_failed;
	uint64_t searches, entries;
	uint64_t protocol_errors;
	uint64_t slow_clients_cut;
};

struct server {
	struct event_base *base;
	struct evdns_base *dns;
	struct config *cfg;
	struct profile_set *profiles;
	SSL_CTX *tls_server;        /* NULL when no TLS certificate is configured */
	SSL_CTX *tls_client;
	struct listener **listeners;
	size_t nlisteners;
	struct backend *backend;
	TAILQ_HEAD(client_list, client) clients;
	size_t nclients;
	size_t output_total;        /* bytes in every client's output buffers (limits.max_total_output) */
	int output_cut_pending;     /* a client was chosen to be cut off for it; not yet done */
	uint64_t next_conn_id;
	struct event *sig_term, *sig_int, *sig_hup, *shutdown_ev;
	struct event *drain_ev;     /* every 100 ms: in a drain, closes idle clients, ends the loop when none is left */
	struct event *watchdog_ev;  /* systemd's WATCHDOG=1; NULL without WatchdogSec */
	struct event *kinit_ev;     /* backend.auth gssapi: renews the credentials from the keytab; else NULL */
	int stopping;
	int log_fixed;              /* -d LEVEL: logs stay on stderr at that level; reloads leave logging alone */
	struct stats stats;
	struct metrics metrics;     /* operations by type and profile, latency (access.c records) */
	char last_reload_error[1024];   /* the last failed reload's message; "" after a good one */
	char krb_error[1024];       /* backend.auth gssapi: why the last renewal from the keytab failed, or "" */
	long krb_expires;           /* when the credentials last obtained expire (time(NULL)); 0: none yet */
	/* The request being handled.  One loop handles one request at a time,
	 * so one scratch serves every client (it is 5 KB, too big per client). */
	struct request req;
	struct arena arena;         /* scratch of the request being handled */
	struct arena resp_arena;    /* scratch of the entry being rewritten */
	struct arena visset_arena;  /* scratch of the visible-users reads (visset.c) */
};

#endif
