/*
 * server.c — the server's life cycle: start, reload, drain, free.  See server.h.
 *
 * Start builds, on the loaded configuration, everything that lives on the
 * event loop: the Kerberos renewal timer, the backend pools, the
 * listeners, the control sockets, the metrics listener, the signal
 * handlers and the timers.  SIGHUP reloads; SIGTERM/SIGINT stop accepting,
 * give in-flight operations a bounded time to finish, then end the loop.
 */
#include "server.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <event2/dns.h>
#include <event2/event.h>
#include <ldap.h>

#include "audit.h"
#include "backend.h"
#include "chain.h"
#include "client.h"
#include "config.h"
#include "control.h"
#include "listener.h"
#include "load.h"
#include "log.h"
#include "metrics.h"
#include "metrics_http.h"
#include "notify.h"
#include "op.h"
#include "peers.h"
#include "profile.h"
#include "sasl.h"
#include "schema.h"
#include "share.h"
#include "upstream.h"
#include "version.h"
#include "visread.h"

#define DRAIN_SECONDS 5

static void
audit_service(const struct server *srv, const char *event)
{
	struct audit_rec r;
	audit_begin(&r, event, AUDIT_INFO);
	audit_str(&r, AK_CONFIG, srv->cfg->path);
	audit_num(&r, AK_PROFILES, (long long)srv->profiles->n);
	audit_emit(&r);
}

static void
audit_reload(const struct server *srv, int ok, const char *message)
{
	struct audit_rec r;
	audit_begin(&r, "config_reload", ok ? AUDIT_SUCCESS : AUDIT_FAILURE);
	audit_str(&r, AK_CONFIG, srv->cfg->path);
	if (ok)
		audit_num(&r, AK_PROFILES, (long long)srv->profiles->n);
	audit_str(&r, AK_MESSAGE, message);
	audit_emit(&r);
}

/* ---- reload ---- */

static int
same_str(const char *a, const char *b)
{
	return (a == NULL && b == NULL) || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

static int
same_listeners(const struct config *a, const struct config *b)
{
	if (a->nlisteners != b->nlisteners)
		return 0;
	for (size_t i = 0; i < a->nlisteners; i++)
		if (strcmp(a->listeners[i].url, b->listeners[i].url) != 0 ||
		    !same_str(a->listeners[i].profile, b->listeners[i].profile))
			return 0;
	return 1;
}

/* The controllers and their priorities (backend.servers, with those backend.srv_domain found). */
static int
same_servers(const struct config *a, const struct config *b)
{
	if (a->nservers != b->nservers)
		return 0;
	for (size_t i = 0; i < a->nservers; i++)
		if (strcmp(a->servers[i], b->servers[i]) != 0 ||
		    (a->server_priority ? a->server_priority[i] : 0) != (b->server_priority ? b->server_priority[i] : 0))
			return 0;
	return 1;
}

/* Appends name to the ", "-separated list in buf. */
static void
name_add(char *buf, size_t len, const char *name)
{
	size_t n = strlen(buf);
	snprintf(buf + n, len - n, "%s%s", n ? ", " : "", name);
}

/*
 * Names in later what changed between the running configuration a and the
 * new one b but cannot change under running connections: the listeners
 * (also a profile's own), each backend key that is fixed when the pools
 * and the directory's TLS context are made, the control sockets, the
 * metrics listener.
 */
static void
restart_needed(const struct server *srv, const struct loaded *ld, char *later, size_t len)
{
	const struct config *a = srv->cfg, *b = ld->cfg;
	int plisten = 0;
	for (size_t i = 0; i < ld->profiles->n && !plisten; i++) {
		const struct profile *np = ld->profiles->v[i], *op = profile_find(srv->profiles, np->name);
		plisten = np->nlisteners != (op ? op->nlisteners : 0);
		for (size_t k = 0; !plisten && k < np->nlisteners; k++)
			plisten = strcmp(np->listeners[k], op->listeners[k]) != 0;
	}
	const struct {
		int changed;
		const char *name;
	} parts[] = {
		{ !same_listeners(a, b) || plisten, "listeners" },
		{ !same_servers(a, b), "backend.servers" },
		{ a->pool_size != b->pool_size, "backend.pool_size" },
		{ a->bind_pool_size != b->bind_pool_size, "backend.bind_pool_size" },
		{ a->paged_pool_size != b->paged_pool_size, "backend.paged_pool_size" },
		{ a->max_ops_per_connection != b->max_ops_per_connection, "backend.max_ops_per_connection" },
		{ a->starttls != b->starttls, "backend.starttls" },
		{ a->tls_verify != b->tls_verify, "backend.tls_verify" },
		{ !same_str(a->ca_file, b->ca_file), "backend.ca_file" },
		{ !same_str(a->ca_dir, b->ca_dir), "backend.ca_dir" },
		{ !same_str(a->client_cert, b->client_cert), "backend.client_certificate" },
		{ !same_str(a->client_key, b->client_key), "backend.client_key" },
		{ a->auth_gssapi != b->auth_gssapi, "backend.auth" },
		{ !same_str(a->principal, b->principal), "backend.principal" },
		{ !same_str(a->keytab, b->keytab), "backend.keytab" },
		{ !same_str(a->ccache, b->ccache), "backend.ccache" },
		{ !same_str(a->bind_dn, b->bind_dn), "backend.bind_dn" },
		/* a new password in the same file is a change of it too */
		{ !same_str(a->password_file, b->password_file) || !same_str(a->bind_password, b->bind_password),
		    "backend.password_file" },
		{ !same_str(a->control_socket, b->control_socket) || !same_str(a->control_ro_socket, b->control_ro_socket) ||
		    a->control_mode != b->control_mode || a->control_ro_mode != b->control_ro_mode ||
		    !same_str(a->control_group, b->control_group) || !same_str(a->control_ro_group, b->control_ro_group),
		    "control" },
		{ !same_str(a->metrics_listen, b->metrics_listen), "metrics" },
	};
	later[0] = '\0';
	for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++)
		if (parts[i].changed)
			name_add(later, len, parts[i].name);
}

/* What applies at once: the new values are copied into the running configuration. */
static void
apply_now(struct server *srv, const struct config *b)
{
	struct config *cfg = srv->cfg;
	/* limits: new connections and the next operations */
	cfg->max_pdu_size = b->max_pdu_size;
	cfg->max_client_output = b->max_client_output;
	cfg->max_total_output = b->max_total_output;
	cfg->max_ops_per_client = b->max_ops_per_client;
	cfg->max_ops_per_identity = b->max_ops_per_identity;
	cfg->max_ops_per_address = b->max_ops_per_address;
	share_configure(b->max_ops_per_address, b->max_ops_per_identity);
	share_kick();           /* raised caps: waiters go now */
	cfg->max_connections = b->max_connections;
	cfg->idle_timeout = b->idle_timeout;
	cfg->bind_timeout = b->bind_timeout;
	cfg->require_tls = b->require_tls;
	cfg->max_unbound_pdu_size = b->max_unbound_pdu_size;
	cfg->unbound_timeout = b->unbound_timeout;
	cfg->max_connections_per_address = b->max_connections_per_address;
	cfg->account_failures_delay = b->account_failures_delay;
	cfg->address_failures_delay = b->address_failures_delay;
	cfg->address_failures_block = b->address_failures_block;
	cfg->address_block_time = b->address_block_time;
	cfg->max_binds_per_second = b->max_binds_per_second;
	cfg->max_bulk_searches = b->max_bulk_searches;
	cfg->max_bulk_searches_per_client = b->max_bulk_searches_per_client;
	/* backend timings, read at each use: the backend's tick (operations in flight included),
	 * the next connection attempt, the next backoff */
	cfg->operation_timeout = b->operation_timeout;
	cfg->connect_timeout = b->connect_timeout;
	cfg->probe_interval = b->probe_interval;
	cfg->reconnect_min = b->reconnect_min;
	cfg->reconnect_max = b->reconnect_max;
}

/* What aldproxy reads from the directory for itself (backend.own_reads): its schema, the visible users. */
static void
own_reads(struct backend *be, uint64_t now)
{
	schema_maybe_request(be);
	visread_tick(be, now);
}

int
server_reload(struct server *srv, char *restart, size_t restartlen)
{
	char err[1024];
	struct loaded ld;
	if (restart != NULL && restartlen > 0)
		restart[0] = '\0';
	notify_send("RELOADING=1\nMONOTONIC_USEC=%llu\nSTATUS=reloading %s", (unsigned long long)now_us(), srv->cfg->path);
	log_notice("reload: reading %s", srv->cfg->path);
	if (load_all(srv->cfg->path, &ld, err, sizeof(err)) < 0 || audit_open(ld.cfg, err, sizeof(err)) < 0) {
		if (ld.cfg != NULL)
			load_free(&ld);
		log_err("reload failed, the running configuration stays: %s", err);
		snprintf(srv->last_reload_error, sizeof(srv->last_reload_error), "%s", err);
		srv->metrics.reloads_failed++;
		audit_reload(srv, 0, err);
		notify_send("READY=1\nSTATUS=reload failed; serving with the previous configuration");
		return -1;
	}
	if (!srv->log_fixed)
		log_init(ld.cfg->log_target ? ld.cfg->log_target : "stderr", ld.cfg->log_level, "aldproxyd",
		    ld.cfg->log_facility);
	/* the directory's schema may have changed too: read it again (the current one serves meanwhile) */
	schema_invalidate();
	char later[1024];
	restart_needed(srv, &ld, later, sizeof(later));
	apply_now(srv, ld.cfg);
	struct profile_set *old = srv->profiles;
	srv->profiles = ld.profiles;
	ld.profiles = NULL;
	profile_set_free(old);      /* profiles still in use live on until released */
	/* the new profiles' visible users and the directory's schema are read now */
	own_reads(srv->backend, now_us());
	if (ld.tls_server != NULL) {
		if (srv->tls_server != NULL)
			SSL_CTX_free(srv->tls_server);    /* established sessions keep their own reference */
		srv->tls_server = ld.tls_server;
		ld.tls_server = NULL;
	}
	char note[sizeof(later) + 64] = "";
	if (later[0])
		snprintf(note, sizeof(note), "changes to %s take effect at the next restart", later);
	log_notice("reload done: %zu profile(s)%s%s", srv->profiles->n, note[0] ? "; " : "", note);
	load_free(&ld);
	srv->last_reload_error[0] = '\0';
	srv->metrics.reloads_ok++;
	audit_reload(srv, 1, note[0] ? note : NULL);
	notify_send("READY=1\nSTATUS=serving: %zu profile(s), %zu client(s)", srv->profiles->n, srv->nclients);
	if (restart != NULL && restartlen > 0)
		snprintf(restart, restartlen, "%s", later);
	return 0;
}

/* ---- drain ---- */

/*
 * During a drain: closes the clients that are done — nothing in flight and
 * every result already handed to the kernel.  A client still reading its
 * results keeps its connection until the drain ends.
 */
static void
drain_idle(struct server *srv)
{
	struct client *c, *next;
	for (c = TAILQ_FIRST(&srv->clients); c != NULL; c = next) {
		next = TAILQ_NEXT(c, link);
		if (c->nops == 0 && c->state != C_CLOSING && client_output_pending(c) == 0)
			client_close(c, -1, "server shutdown");
	}
}

/* Ends the loop early once every client is gone during a drain. */
static void
drain_check_cb(evutil_socket_t fd, short what, void *arg)
{
	struct server *srv = arg;
	(void)fd;
	(void)what;
	if (!srv->stopping)
		return;
	drain_idle(srv);
	if (srv->nclients == 0)
		event_base_loopexit(srv->base, NULL);
}

/*
 * The drain's time is up: every client still connected gets a Notice of
 * Disconnection (unavailable) instead of a silent close, and the loop ends
 * once those are flushed (half a second at most).
 */
static void
shutdown_cb(evutil_socket_t fd, short what, void *arg)
{
	struct server *srv = arg;
	(void)fd;
	(void)what;
	size_t busy = 0;
	struct client *c, *next;
	TAILQ_FOREACH(c, &srv->clients, link)
		busy += c->nops;
	log_notice("stopping: %zu client(s), %zu operation(s) still in flight", srv->nclients, busy);
	for (c = TAILQ_FIRST(&srv->clients); c != NULL; c = next) {
		next = TAILQ_NEXT(c, link);
		client_close(c, LDAP_UNAVAILABLE, "aldproxy is shutting down");
	}
	struct timeval tv = { 0, 500000 };
	event_base_loopexit(srv->base, &tv);
}

/* SIGHUP reloads; SIGTERM/SIGINT start the drain, and a second one ends the loop at once. */
static void
signal_cb(evutil_socket_t sig, short what, void *arg)
{
	struct server *srv = arg;
	(void)what;
	if (sig == SIGHUP) {
		if (srv->stopping)
			log_notice("reload ignored: aldproxyd is shutting down");
		else
			server_reload(srv, NULL, 0);
		return;
	}
	if (srv->stopping) {
		event_base_loopexit(srv->base, NULL);
		return;
	}
	srv->stopping = 1;
	notify_send("STOPPING=1\nSTATUS=draining %zu client(s) for up to %d s", srv->nclients, DRAIN_SECONDS);
	log_notice("signal %d: no longer accepting connections; draining for up to %d s", (int)sig, DRAIN_SECONDS);
	listener_stop_all(srv);
	/* idle clients go now; the rest get DRAIN_SECONDS to finish */
	drain_idle(srv);
	struct timeval tv = { DRAIN_SECONDS, 0 };
	srv->shutdown_ev = evtimer_new(srv->base, shutdown_cb, srv);
	evtimer_add(srv->shutdown_ev, &tv);
}

/* ---- timers ---- */

/*
 * backend.auth: gssapi — a fresh TGT from the keytab well before the old
 * one expires (at 80 % of its life), so new directory connections never
 * meet an expired ticket; on failure, retried every 10 s and logged.
 */
static void
kinit_cb(evutil_socket_t fd, short what, void *arg)
{
	struct server *srv = arg;
	char err[1024];
	(void)fd;
	(void)what;
	long left = sasl_backend_kinit(srv->cfg, err, sizeof(err));
	long next = 10;         /* after a failure: a KDC back up is used within seconds */
	if (left < 0) {
		/* health says so: the credentials in hand still work until they expire */
		snprintf(srv->krb_error, sizeof(srv->krb_error), "%s", err);
		log_err("%s; retrying in %ld s", err, next);
	} else {
		if (srv->krb_error[0] != '\0')
			log_notice("Kerberos: credentials renewed after %s", srv->krb_error);
		srv->krb_error[0] = '\0';
		srv->krb_expires = (long)time(NULL) + left;
		next = left * 8 / 10 > 30 ? left * 8 / 10 : (left > 10 ? left - 5 : 5);
		log_notice("Kerberos: credentials for %s from %s valid for %ld s; renewing in %ld s", srv->cfg->principal,
		    srv->cfg->keytab, left, next);
	}
	struct timeval tv = { next, 0 };
	evtimer_add(srv->kinit_ev, &tv);
}

/* systemd's watchdog: sent from the loop, so a loop that stops turning stops it */
static void
watchdog_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	notify_send("WATCHDOG=1");
}

/* ---- life cycle ---- */

int
server_start(struct server *srv, struct loaded *ld, int log_fixed, uint64_t watchdog_us, char *err, size_t errlen)
{
	memset(srv, 0, sizeof(*srv));
	TAILQ_INIT(&srv->clients);
	srv->cfg = ld->cfg;
	srv->profiles = ld->profiles;
	srv->tls_server = ld->tls_server;
	srv->tls_client = ld->tls_client;
	memset(ld, 0, sizeof(*ld));
	srv->log_fixed = log_fixed;
	metrics_init(&srv->metrics, now_us());
	if (arena_init(&srv->arena, 1 << 20) < 0 || arena_init(&srv->resp_arena, 4 << 20) < 0 ||
	    arena_init(&srv->visset_arena, 1 << 18) < 0)
		fatal("out of memory");
	signal(SIGPIPE, SIG_IGN);
	srandom((unsigned)now_us());
	/* the changelist folds the add/delete pairs of write events made within
	 * one loop iteration into at most one epoll_ctl call */
	struct event_config *ecfg = event_config_new();
	if (ecfg != NULL)
		event_config_set_flag(ecfg, EVENT_BASE_FLAG_EPOLL_USE_CHANGELIST);
	srv->base = ecfg ? event_base_new_with_config(ecfg) : event_base_new();
	if (ecfg != NULL)
		event_config_free(ecfg);
	if (srv->base == NULL)
		fatal("cannot create the event loop");
	srv->dns = evdns_base_new(srv->base, EVDNS_BASE_INITIALIZE_NAMESERVERS);
	if (srv->dns == NULL)
		srv->dns = evdns_base_new(srv->base, 0);
	if (srv->dns != NULL)
		evdns_base_load_hosts(srv->dns, NULL);
	if (srv->cfg->auth_gssapi) {
		if (sasl_backend_init(srv->cfg, err, errlen) < 0)
			return -1;
		srv->kinit_ev = evtimer_new(srv->base, kinit_cb, srv);
		kinit_cb(-1, 0, srv);       /* now, then before expiry */
	}
	share_configure(srv->cfg->max_ops_per_address, srv->cfg->max_ops_per_identity);
	if (backend_new(srv, &srv->backend, err, errlen) < 0)
		return -1;
	srv->backend->own_reads = own_reads;
	if (listener_open_all(srv, err, errlen) < 0 ||
	    control_open(srv, server_reload, err, errlen) < 0 || metrics_http_open(srv, err, errlen) < 0)
		return -1;
	srv->sig_term = evsignal_new(srv->base, SIGTERM, signal_cb, srv);
	srv->sig_int = evsignal_new(srv->base, SIGINT, signal_cb, srv);
	srv->sig_hup = evsignal_new(srv->base, SIGHUP, signal_cb, srv);
	evsignal_add(srv->sig_term, NULL);
	evsignal_add(srv->sig_int, NULL);
	evsignal_add(srv->sig_hup, NULL);
	srv->drain_ev = event_new(srv->base, -1, EV_PERSIST, drain_check_cb, srv);
	struct timeval dtv = { 0, 100000 };
	event_add(srv->drain_ev, &dtv);
	if (watchdog_us > 0) {
		struct timeval wtv = { (time_t)(watchdog_us / 2 / 1000000), (suseconds_t)(watchdog_us / 2 % 1000000) };
		srv->watchdog_ev = event_new(srv->base, -1, EV_PERSIST, watchdog_cb, srv);
		event_add(srv->watchdog_ev, &wtv);
	}
	backend_start(srv->backend);
	log_notice("aldproxyd %s started: %zu listener(s), %zu directory server(s), %zu profile(s)",
	    ALDPROXY_VERSION, srv->nlisteners, srv->cfg->nservers, srv->profiles->n);
	audit_service(srv, "service_start");
	notify_send("READY=1\nMAINPID=%d\nSTATUS=serving: %zu listener(s), %zu profile(s)", (int)getpid(),
	    srv->nlisteners, srv->profiles->n);
	return 0;
}

void
server_run(struct server *srv)
{
	event_base_dispatch(srv->base);
	log_notice("aldproxyd stopped");
	audit_service(srv, "service_stop");
}

void
server_free(struct server *srv)
{
	srv->stopping = 1;
	listener_stop_all(srv);
	control_close(srv);
	metrics_http_close();
	metrics_free(&srv->metrics);
	while (!TAILQ_EMPTY(&srv->clients))
		client_free(TAILQ_FIRST(&srv->clients));
	listener_free_all(srv);
	backend_free(srv->backend);
	srv->backend = NULL;
	op_cache_clear();
	schema_free();
	chain_free();
	peers_free();
	/* a start that failed halfway leaves some of these NULL */
	struct event **evs[] = { &srv->sig_term, &srv->sig_int, &srv->sig_hup, &srv->shutdown_ev, &srv->drain_ev,
		&srv->watchdog_ev };
	for (size_t i = 0; i < sizeof(evs) / sizeof(evs[0]); i++)
		if (*evs[i] != NULL) {
			event_free(*evs[i]);
			*evs[i] = NULL;
		}
	if (srv->dns)
		evdns_base_free(srv->dns, 0);
	if (srv->tls_server)
		SSL_CTX_free(srv->tls_server);
	if (srv->tls_client)
		SSL_CTX_free(srv->tls_client);
	profile_set_free(srv->profiles);
	config_free(srv->cfg);
	arena_free(&srv->arena);
	arena_free(&srv->resp_arena);
	arena_free(&srv->visset_arena);
	if (srv->kinit_ev != NULL) {
		event_free(srv->kinit_ev);
		srv->kinit_ev = NULL;
		sasl_backend_done();
	}
	if (srv->base != NULL)
		event_base_free(srv->base);
}
