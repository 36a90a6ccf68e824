/*
 * server.h — the daemon's life cycle: start, run, reload, drain, free.
 *
 * One struct server exists per process.  main() loads the configuration
 * and hands it to server_start(), runs the loop with server_run() and ends
 * with server_free(), the one destructor of everything below.  The server
 * owns the config, the profile set, the TLS contexts, the listeners, the
 * backend pool, every client, the control sockets, the metrics listener,
 * its signal handlers and timers.  The struct itself is in state.h, which
 * the modules on the loop include; this header is the life cycle, for
 * main.c alone.
 */
#ifndef ALDPROXY_SERVER_H
#define ALDPROXY_SERVER_H

#include <stddef.h>
#include <stdint.h>

#include "state.h"

struct loaded;

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
