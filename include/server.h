/*
 * server.h — the daemon's state: one event loop and everything on it.
 *
 * One struct server exists per process.  main() loads the configuration
 * and hands it to server_start(), runs the loop with server_run() and ends
 * with server_free(), the one destructor of everything below.  The server
 * owns the config, the profile set, the TLS contexts, the listeners, the
 * backend pool, every client, the control sockets, the metrics listener,
 * its signal handlers and timers.  Everything runs on the single libevent
 * loop: no locks, no hand-offs.
 */
#ifndef ALDPROXY_SERVER_H
#define ALDPROXY_SERVER_H

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

/*
 * Builds the server on what load_all() loaded and starts it: *ld is taken
 * whole (emptied), and from here on server_free() frees it, whether the
 * start succeeds or not.  Creates the event loop and what lives on it —
 * the Kerberos renewal timer (backend.auth: gssapi), the backend pools,
 * the listeners, the control sockets, the metrics listener, the signal
 * handlers, the drain check and, when watchdog_us (from notify_init()) is
 * not 0, the watchdog timer — then starts connecting to the directory and
 * tells systemd READY=1.  log_fixed: logging was set on the command line
 * (-d), so reloads leave it alone.  0, or -1 with err.
 */
int  server_start(struct server *srv, struct loaded *ld, int log_fixed, uint64_t watchdog_us, char *err,
    size_t errlen);
/* Runs the loop until SIGTERM or SIGINT and the drain end it; logs and audits the stop. */
void server_run(struct server *srv);
/* Closes every client and socket and frees everything the server owns. */
void server_free(struct server *srv);

/*
 * SIGHUP, `aldproxyctl reload`, `systemctl reload`: re-reads the
 * configuration and every profile beside the running set and swaps the
 * profiles in whole.  Limits, logging, the audit target, the front-end
 * certificate and the backend's timings (operation_timeout,
 * connect_timeout, probe_interval, reconnect_min, reconnect_max) apply at
 * once; what cannot change under running connections is named for a
 * restart: "listeners", "control", "metrics" and each other changed
 * backend key by its full name ("backend.pool_size"), ", "-separated in
 * restart (may be NULL).  0, or -1 with the reason in
 * srv->last_reload_error (the running set stays).
 */
int  server_reload(struct server *srv, char *restart, size_t restartlen);

#endif
