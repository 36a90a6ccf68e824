/*
 * main.c — aldproxyd: command line, start-up, the event loop, shutdown.
 *
 * Start-up order: config, profiles, TLS contexts, backend pools,
 * listeners; any failure there is fatal with a message naming the file,
 * line and key.  SIGTERM/SIGINT stop accepting, give in-flight operations
 * a bounded time to finish, then free everything.
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/dns.h>
#include <event2/event.h>
#include <ldap.h>
#include <openssl/err.h>

#include "audit.h"
#include "backend.h"
#include "client.h"
#include "config.h"
#include "control.h"
#include "listener.h"
#include "load.h"
#include "log.h"
#include "metrics.h"
#include "notify.h"
#include "op.h"
#include "profile.h"
#include "sasl.h"
#include "peers.h"
#include "schema.h"
#include "server.h"
#include "share.h"
#include "tls.h"
#include "upstream.h"
#include "visset.h"
#include "version.h"

#define DEFAULT_CONFIG "/etc/aldproxy/aldproxy.yaml"
#define DRAIN_SECONDS 5

static void
usage(void)
{
	fprintf(stderr, "usage: aldproxyd [-t] [-f] [-c FILE] [-d LEVEL]\n"
	    "  -c FILE   configuration (default " DEFAULT_CONFIG ")\n"
	    "  -t        check the configuration and profiles, then exit\n"
	    "  -f        stay in the foreground (the default; for systemd)\n"
	    "  -d LEVEL  log level: error, warning, notice, info, debug; logs go to stderr\n"
	    "  -V        print the version\n");
	exit(2);
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

static int
same_listeners(const struct config *a, const struct config *b)
{
	if (a->nlisteners != b->nlisteners)
		return 0;
	for (size_t i = 0; i < a->nlisteners; i++)
		if (strcmp(a->listeners[i].url, b->listeners[i].url) != 0 ||
		    (a->listeners[i].profile == NULL) != (b->listeners[i].profile == NULL) ||
		    (a->listeners[i].profile && strcmp(a->listeners[i].profile, b->listeners[i].profile) != 0))
			return 0;
	return 1;
}

static int
same_str(const char *a, const char *b)
{
	return (a == NULL && b == NULL) || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

static int
same_backend(const struct config *a, const struct config *b)
{
	if (a->nservers != b->nservers || !same_str(a->bind_dn, b->bind_dn) ||
	    !same_str(a->bind_password, b->bind_password) || a->auth_gssapi != b->auth_gssapi ||
	    !same_str(a->principal, b->principal) || !same_str(a->keytab, b->keytab) || a->pool_size != b->pool_size ||
	    a->bind_pool_size != b->bind_pool_size || a->paged_pool_size != b->paged_pool_size)
		return 0;
	for (size_t i = 0; i < a->nservers; i++)
		if (strcmp(a->servers[i], b->servers[i]) != 0)
			return 0;
	return 1;
}

/*
 * SIGHUP: load the configuration and every profile beside the running set
 * and swap the profiles in whole; on any error keep the running set.
 * Clients and operations hold references to the profiles they started
 * with, so nothing in flight changes under them.  Listener and backend
 * changes need a restart (logged); the front-end certificate is renewed.
 */
static int log_from_cmdline;

static void
audit_service(const struct server *srv, const char *event)
{
	struct audit_rec r;
	audit_begin(&r, event, AUDIT_INFO);
	audit_str(&r, AK_CONFIG, srv->cfg->path);
	audit_num(&r, AK_PROFILES, (long long)srv->profiles->n);
	audit_emit(&r);
}    /* -d LEVEL: logs stay on stderr at that level */

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

int
server_reload(struct server *srv)
{
	char err[1024];
	struct loaded ld;
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
	if (!log_from_cmdline)
		log_init(ld.cfg->log_target ? ld.cfg->log_target : "stderr", ld.cfg->log_level, "aldproxyd",
		    ld.cfg->log_facility);
	/* the directory's schema may have changed too: read it again (the current one serves meanwhile) */
	schema_invalidate();
	/* what cannot change under running connections is named, for a restart */
	char later[128] = "";
	int plisten = 0;
	for (size_t i = 0; i < ld.profiles->n && !plisten; i++) {
		const struct profile *np = ld.profiles->v[i], *op = profile_find(srv->profiles, np->name);
		plisten = np->nlisteners != (op ? op->nlisteners : 0);
		for (size_t k = 0; !plisten && k < np->nlisteners; k++)
			plisten = strcmp(np->listeners[k], op->listeners[k]) != 0;
	}
	const struct config *a = srv->cfg, *b = ld.cfg;
	const struct {
		int changed;
		const char *name;
	} parts[] = {
		{ !same_listeners(a, b) || plisten, "listeners" },
		{ !same_backend(a, b), "backend" },
		{ !same_str(a->control_socket, b->control_socket) || !same_str(a->control_ro_socket, b->control_ro_socket) ||
		    a->control_mode != b->control_mode || a->control_ro_mode != b->control_ro_mode ||
		    !same_str(a->control_group, b->control_group) || !same_str(a->control_ro_group, b->control_ro_group),
		    "control" },
		{ !same_str(a->metrics_listen, b->metrics_listen), "metrics" },
	};
	for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++)
		if (parts[i].changed)
			snprintf(later + strlen(later), sizeof(later) - strlen(later), "%s%s", later[0] ? ", " : "",
			    parts[i].name);
	/* limits apply at once (new connections and the next operations) */
	srv->cfg->max_pdu_size = b->max_pdu_size;
	srv->cfg->max_client_output = b->max_client_output;
	srv->cfg->max_total_output = b->max_total_output;
	srv->cfg->max_ops_per_client = b->max_ops_per_client;
	srv->cfg->max_ops_per_identity = b->max_ops_per_identity;
	srv->cfg->max_ops_per_address = b->max_ops_per_address;
	share_configure(b->max_ops_per_address, b->max_ops_per_identity);
	share_kick();           /* raised caps: waiters go now */
	srv->cfg->max_connections = b->max_connections;
	srv->cfg->idle_timeout = b->idle_timeout;
	srv->cfg->bind_timeout = b->bind_timeout;
	srv->cfg->require_tls = b->require_tls;
	srv->cfg->max_unbound_pdu_size = b->max_unbound_pdu_size;
	srv->cfg->unbound_timeout = b->unbound_timeout;
	srv->cfg->max_connections_per_address = b->max_connections_per_address;
	srv->cfg->account_failures_delay = b->account_failures_delay;
	srv->cfg->address_failures_delay = b->address_failures_delay;
	srv->cfg->address_failures_block = b->address_failures_block;
	srv->cfg->address_block_time = b->address_block_time;
	srv->cfg->max_binds_per_second = b->max_binds_per_second;
	srv->cfg->max_bulk_searches = b->max_bulk_searches;
	srv->cfg->max_bulk_searches_per_client = b->max_bulk_searches_per_client;
	struct profile_set *old = srv->profiles;
	srv->profiles = ld.profiles;
	ld.profiles = NULL;
	profile_set_free(old);      /* profiles still in use live on until released */
	/* the new profiles' visible users and the directory's schema are read now (visset.c, schema.c) */
	struct upstream *su = backend_pick_internal(srv->backend);
	if (su != NULL) {
		schema_maybe_request(su);
		visset_tick(srv->backend, su, now_us());
	}
	if (ld.tls_server != NULL) {
		if (srv->tls_server != NULL)
			SSL_CTX_free(srv->tls_server);    /* established sessions keep their own reference */
		srv->tls_server = ld.tls_server;
		ld.tls_server = NULL;
	}
	char note[200] = "";
	if (later[0])
		snprintf(note, sizeof(note), "changes to %s take effect at the next restart", later);
	log_notice("reload done: %zu profile(s)%s%s", srv->profiles->n, note[0] ? "; " : "", note);
	load_free(&ld);
	srv->last_reload_error[0] = '\0';
	srv->metrics.reloads_ok++;
	audit_reload(srv, 1, note[0] ? note : NULL);
	notify_send("READY=1\nSTATUS=serving: %zu profile(s), %zu client(s)", srv->profiles->n, srv->nclients);
	return 0;
}

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

static void
signal_cb(evutil_socket_t sig, short what, void *arg)
{
	struct server *srv = arg;
	(void)what;
	if (sig == SIGHUP) {
		if (srv->stopping)
			log_notice("reload ignored: aldproxyd is shutting down");
		else
			server_reload(srv);
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

/*
 * backend.auth: gssapi — a fresh TGT from the keytab well before the old
 * one expires (at 80 % of its life), so new directory connections never
 * meet an expired ticket; on failure, retried every 30 s and logged.
 */
static struct event *kinit_ev;

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
	evtimer_add(kinit_ev, &tv);
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

static void
server_free(struct server *srv)
{
	srv->stopping = 1;
	listener_stop_all(srv);
	control_close(srv);
	metrics_free(&srv->metrics);
	while (!TAILQ_EMPTY(&srv->clients))
		client_free(TAILQ_FIRST(&srv->clients));
	listener_free_all(srv);
	backend_free(srv->backend);
	srv->backend = NULL;
	op_cache_clear();
	schema_free();
	peers_free();
	event_free(srv->sig_term);
	event_free(srv->sig_int);
	event_free(srv->sig_hup);
	if (srv->shutdown_ev)
		event_free(srv->shutdown_ev);
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
	if (kinit_ev != NULL) {
		event_free(kinit_ev);
		kinit_ev = NULL;
		sasl_backend_done();
	}
	event_base_free(srv->base);
}

int
main(int argc, char **argv)
{
	const char *path = DEFAULT_CONFIG;
	int check = 0, opt, level = -1;
	char err[1024];
	while ((opt = getopt(argc, argv, "c:tfd:Vh")) != -1) {
		switch (opt) {
		case 'c': path = optarg; break;
		case 't': check = 1; break;
		case 'f': break;
		case 'd':
			if ((level = log_level_parse(optarg)) < 0)
				usage();
			log_from_cmdline = 1;
			break;
		case 'V': printf("aldproxyd %s\n", ALDPROXY_VERSION); return 0;
		default: usage();
		}
	}
	if (optind != argc)
		usage();
	log_init("stderr", level >= 0 ? level : LOG_LVL_INFO, "aldproxyd", LOG_DAEMON);

	struct server srv;
	memset(&srv, 0, sizeof(srv));
	TAILQ_INIT(&srv.clients);
	struct loaded ld;
	if (load_all(path, &ld, err, sizeof(err)) < 0) {
		fprintf(stderr, "aldproxyd: %s\n", err);
		return 1;
	}
	if (check) {
		printf("aldproxyd: %s: configuration OK (%zu listener(s), %zu server(s), %zu profile(s))\n", path,
		    ld.cfg->nlisteners, ld.cfg->nservers, ld.profiles->n);
		load_free(&ld);
		return 0;
	}
	/* the server owns what was loaded from here on; server_free() frees it */
	srv.cfg = ld.cfg;
	srv.profiles = ld.profiles;
	srv.tls_server = ld.tls_server;
	srv.tls_client = ld.tls_client;
	if (level < 0)
		log_init(srv.cfg->log_target ? srv.cfg->log_target : "stderr", srv.cfg->log_level, "aldproxyd",
		    srv.cfg->log_facility);
	if (audit_open(srv.cfg, err, sizeof(err)) < 0) {
		fprintf(stderr, "aldproxyd: %s\n", err);
		load_free(&ld);
		return 1;
	}
	metrics_init(&srv.metrics, now_us());
	uint64_t watchdog_us = notify_init();

	if (arena_init(&srv.arena, 1 << 20) < 0 || arena_init(&srv.resp_arena, 4 << 20) < 0 ||
	    arena_init(&srv.visset_arena, 1 << 18) < 0)
		fatal("out of memory");
	signal(SIGPIPE, SIG_IGN);
	srandom((unsigned)now_us());
	/* the changelist folds the add/delete pairs of write events made within
	 * one loop iteration into at most one epoll_ctl call */
	struct event_config *ecfg = event_config_new();
	if (ecfg != NULL)
		event_config_set_flag(ecfg, EVENT_BASE_FLAG_EPOLL_USE_CHANGELIST);
	srv.base = ecfg ? event_base_new_with_config(ecfg) : event_base_new();
	if (ecfg != NULL)
		event_config_free(ecfg);
	if (srv.base == NULL)
		fatal("cannot create the event loop");
	srv.dns = evdns_base_new(srv.base, EVDNS_BASE_INITIALIZE_NAMESERVERS);
	if (srv.dns == NULL)
		srv.dns = evdns_base_new(srv.base, 0);
	if (srv.dns != NULL)
		evdns_base_load_hosts(srv.dns, NULL);
	if (srv.cfg->auth_gssapi) {
		if (sasl_backend_init(srv.cfg, err, sizeof(err)) < 0)
			fatal("%s", err);
		kinit_ev = evtimer_new(srv.base, kinit_cb, &srv);
		kinit_cb(-1, 0, &srv);      /* now, then before expiry */
	}
	share_configure(srv.cfg->max_ops_per_address, srv.cfg->max_ops_per_identity);
	if (backend_new(&srv, &srv.backend, err, sizeof(err)) < 0 || listener_open_all(&srv, err, sizeof(err)) < 0 ||
	    control_open(&srv, err, sizeof(err)) < 0) {
		log_err("%s", err);
		server_free(&srv);
		return 1;
	}
	srv.sig_term = evsignal_new(srv.base, SIGTERM, signal_cb, &srv);
	srv.sig_int = evsignal_new(srv.base, SIGINT, signal_cb, &srv);
	srv.sig_hup = evsignal_new(srv.base, SIGHUP, signal_cb, &srv);
	evsignal_add(srv.sig_term, NULL);
	evsignal_add(srv.sig_int, NULL);
	evsignal_add(srv.sig_hup, NULL);
	struct event *drain = event_new(srv.base, -1, EV_PERSIST, drain_check_cb, &srv);
	struct timeval dtv = { 0, 100000 };
	event_add(drain, &dtv);
	struct event *watchdog = NULL;
	if (watchdog_us > 0) {
		struct timeval wtv = { (time_t)(watchdog_us / 2 / 1000000), (suseconds_t)(watchdog_us / 2 % 1000000) };
		watchdog = event_new(srv.base, -1, EV_PERSIST, watchdog_cb, &srv);
		event_add(watchdog, &wtv);
	}
	backend_start(srv.backend);
	log_notice("aldproxyd %s started: %zu listener(s), %zu directory server(s), %zu profile(s)",
	    ALDPROXY_VERSION, srv.nlisteners, srv.cfg->nservers, srv.profiles->n);
	audit_service(&srv, "service_start");
	notify_send("READY=1\nMAINPID=%d\nSTATUS=serving: %zu listener(s), %zu profile(s)", (int)getpid(),
	    srv.nlisteners, srv.profiles->n);

	event_base_dispatch(srv.base);

	log_notice("aldproxyd stopped");
	audit_service(&srv, "service_stop");
	if (watchdog != NULL)
		event_free(watchdog);
	event_free(drain);
	server_free(&srv);
	audit_free();
	notify_close();
	return 0;
}
