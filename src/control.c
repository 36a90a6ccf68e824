/*
 * control.c — the control socket.  See control.h.
 */
#include "control.h"

#include <errno.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>

#include "audit.h"
#include "backend.h"
#include "client.h"
#include "config.h"
#include "json.h"
#include "listener.h"
#include "log.h"
#include "metrics.h"
#include "notify.h"
#include "profile.h"
#include "report.h"
#include "shortconn.h"
#include "state.h"
#include "upstream.h"
#include "version.h"

#define CTL_MAX_LINE 256

/* One listening socket: the admin one, or its read-only twin. */
struct ctl_sock {
	struct server *srv;
	struct evconnlistener *lev;
	struct shortconn_pool conns;    /* open connections: 64 at most, 10 s each */
	char *path;
	int readonly;
};

static struct ctl_sock ctl_admin, ctl_ro;
static control_reload_fn reload_fn;     /* server_reload(), from control_open() */

static const char *const state_names[] = { "down", "connecting", "starttls", "tls-handshake", "binding", "ready" };

/* What is wrong besides controllers down: a JSON array of sentences. */
static void
problems_json(const struct server *srv, struct evbuffer *o)
{
	char msg[1400];
	long since, now = (long)time(NULL);
	const char *ae = audit_write_error(&since);
	int n = 0;
	evbuffer_add(o, "[", 1);
	if (ae != NULL) {
		snprintf(msg, sizeof(msg), "%s (records lost for %ld s)", ae, now - since);
		json_str(o, msg);
		n++;
	}
	if (srv->krb_error[0] != '\0') {
		if (srv->krb_expires > now)
			snprintf(msg, sizeof(msg), "%s; the credentials in hand expire in %ld s", srv->krb_error,
			    srv->krb_expires - now);
		else
			snprintf(msg, sizeof(msg), "%s; the credentials have expired: new directory connections fail",
			    srv->krb_error);
		if (n++)
			evbuffer_add(o, ",", 1);
		json_str(o, msg);
	}
	evbuffer_add(o, "]", 1);
}

static const char *const verdicts[] = { "healthy", "degraded", "down" };

static void
cmd_stats(struct server *srv, struct evbuffer *o)
{
	const struct stats *st = &srv->stats;
	const struct backend *be = srv->backend;
	uint64_t now = now_us();
	int h = report_health(srv);
	evbuffer_add_printf(o, "{\"version\":\"%s\",\"pid\":%d,\"uptime_seconds\":%llu,"
	    "\"health\":{\"status\":\"%s\",\"code\":%d},"
	    "\"connections\":{\"open\":%zu,\"accepted\":%llu,\"refused\":%llu,\"slow_clients_cut\":%llu,"
	    "\"unread_output_bytes\":%zu,"
	    "\"protocol_errors\":%llu},\"operations_in_flight\":%zu,"
	    "\"binds\":{\"ok\":%llu,\"failed\":%llu,\"waiting\":%u},\"entries\":%llu,"
	    "\"reloads\":{\"ok\":%llu,\"failed\":%llu,\"last_error\":",
	    ALDPROXY_VERSION, (int)getpid(), (unsigned long long)((now - srv->metrics.started_us) / 1000000),
	    verdicts[h], h, srv->nclients, (unsigned long long)st->conns_accepted, (unsigned long long)st->conns_rejected,
	    (unsigned long long)st->slow_clients_cut, srv->output_total, (unsigned long long)st->protocol_errors,
	    report_in_flight(srv),
	    (unsigned long long)st->binds_ok, (unsigned long long)st->binds_failed, be->nbind_wait,
	    (unsigned long long)st->entries, (unsigned long long)srv->metrics.reloads_ok,
	    (unsigned long long)srv->metrics.reloads_failed);
	json_str(o, srv->last_reload_error[0] ? srv->last_reload_error : NULL);
	evbuffer_add(o, "},", 2);
	metrics_json(&srv->metrics, o, now);
	evbuffer_add(o, ",\"servers\":[", 12);
	for (size_t s = 0; s < be->nservers; s++) {
		unsigned ready, total, ops;
		report_backend_counts(be, s, &ready, &total, &ops);
		evbuffer_add_printf(o, "%s{\"url\":", s ? "," : "");
		json_str(o, be->servers[s].urlstr);
		evbuffer_add_printf(o, ",\"status\":\"%s\",\"priority\":%d,\"ready\":%u,\"connections\":%u,\"in_flight\":%u}",
		    be->servers[s].ready ? "up" : "down", be->servers[s].priority, ready, total, ops);
	}
	evbuffer_add(o, "]}\n", 3);
}

static void
cmd_health(struct server *srv, struct evbuffer *o)
{
	const struct backend *be = srv->backend;
	int h = report_health(srv);
	evbuffer_add_printf(o, "{\"status\":\"%s\",\"code\":%d,\"servers\":[", verdicts[h], h);
	for (size_t s = 0; s < be->nservers; s++) {
		unsigned ready, total, ops;
		report_backend_counts(be, s, &ready, &total, &ops);
		evbuffer_add_printf(o, "%s{\"url\":", s ? "," : "");
		json_str(o, be->servers[s].urlstr);
		evbuffer_add_printf(o, ",\"ready\":%u,\"connections\":%u,\"last_error\":", ready, total);
		json_str(o, ready < total && be->servers[s].last_error[0] ? be->servers[s].last_error : NULL);
		evbuffer_add(o, "}", 1);
	}
	evbuffer_add_printf(o, "],\"clients\":%zu,\"problems\":", srv->nclients);
	problems_json(srv, o);
	evbuffer_add(o, "}\n", 2);
}

static void
cmd_status(struct server *srv, struct evbuffer *o)
{
	int h = report_health(srv);
	evbuffer_add_printf(o, "{\"version\":\"%s\",\"pid\":%d,\"uptime_seconds\":%llu,\"status\":\"%s\",\"code\":%d,"
	    "\"config\":", ALDPROXY_VERSION, (int)getpid(),
	    (unsigned long long)((now_us() - srv->metrics.started_us) / 1000000), verdicts[h], h);
	json_str(o, srv->cfg->path);
	evbuffer_add_printf(o, ",\"profiles\":%zu,\"clients\":%zu,\"operations_in_flight\":%zu,\"listeners\":[",
	    srv->profiles->n, srv->nclients, report_in_flight(srv));
	for (size_t i = 0; i < srv->nlisteners; i++) {
		evbuffer_add(o, i ? "," : "", i ? 1 : 0);
		json_str(o, srv->listeners[i]->from.url);
	}
	evbuffer_add(o, "],\"last_reload_error\":", 22);
	json_str(o, srv->last_reload_error[0] ? srv->last_reload_error : NULL);
	evbuffer_add(o, "}\n", 2);
}

static void
cmd_metrics(struct server *srv, struct evbuffer *o)
{
	report_exposition(srv, o);
}

static void
cmd_backends(struct server *srv, struct evbuffer *o)
{
	const struct backend *be = srv->backend;
	struct upstream **pools[] = { be->shared, be->binders, be->paged };
	size_t counts[] = { be->nshared, be->nbinders, be->npaged };
	int first = 1;
	evbuffer_add(o, "[", 1);
	for (int k = 0; k < 3; k++)
		for (size_t i = 0; i < counts[k]; i++) {
			const struct upstream *u = pools[k][i];
			evbuffer_add_printf(o, "%s{\"name\":", first ? "" : ",");
			json_str(o, u->name);
			evbuffer_add_printf(o, ",\"state\":\"%s\",\"in_flight\":%u,\"failed_attempts\":%u,\"leased\":%s}",
			    state_names[u->state], u->nops, u->failed_attempts, u->lessee ? "true" : "false");
			first = 0;
		}
	evbuffer_add(o, "]\n", 2);
}

static void
cmd_profiles(struct server *srv, struct evbuffer *o)
{
	evbuffer_add(o, "[", 1);
	for (size_t i = 0; i < srv->profiles->n; i++) {
		const struct profile *p = srv->profiles->v[i];
		evbuffer_add_printf(o, "%s{\"name\":", i ? "," : "");
		json_str(o, p->name);
		evbuffer_add(o, ",\"file\":", 8);
		json_str(o, p->file);
		evbuffer_add(o, ",\"search_base\":", 15);
		json_str(o, p->search_base);
		evbuffer_add(o, "}", 1);
	}
	evbuffer_add(o, "]\n", 2);
}

static void
cmd_connections(struct server *srv, struct evbuffer *o)
{
	struct client *c;
	int first = 1;
	evbuffer_add(o, "[", 1);
	TAILQ_FOREACH(c, &srv->clients, link) {
		evbuffer_add_printf(o, "%s{\"conn\":%llu,\"peer\":", first ? "" : ",", (unsigned long long)c->id);
		json_str(o, c->peer);
		evbuffer_add(o, ",\"bound\":", 9);
		if (c->bound_dn)
			json_str(o, c->bound_dn);
		else
			evbuffer_add(o, "null", 4);
		evbuffer_add(o, ",\"profile\":", 11);
		if (c->profile)
			json_str(o, c->profile->name);
		else
			evbuffer_add(o, "null", 4);
		evbuffer_add_printf(o, ",\"tls\":%s,\"in_flight\":%u,\"requests\":%llu}", c->tls ? "true" : "false", c->nops,
		    (unsigned long long)c->nrequests);
		first = 0;
	}
	evbuffer_add(o, "]\n", 2);
}

static void
cmd_reload(struct server *srv, struct evbuffer *o)
{
	char later[1024];
	if (reload_fn(srv, later, sizeof(later)) == 0) {
		evbuffer_add_printf(o, "{\"reload\":\"done\",\"profiles\":%zu,\"restart_needed\":[", srv->profiles->n);
		/* "listeners, backend.pool_size" -> ["listeners","backend.pool_size"] */
		for (char *name = later[0] ? later : NULL, *next; name != NULL; name = next) {
			if ((next = strstr(name, ", ")) != NULL) {
				*next = '\0';
				next += 2;
			}
			if (name != later)
				evbuffer_add(o, ",", 1);
			json_str(o, name);
		}
		evbuffer_add(o, "]}\n", 3);
		return;
	}
	char msg[sizeof(srv->last_reload_error) + 64];
	snprintf(msg, sizeof(msg), "reload failed, the running configuration stays: %s", srv->last_reload_error);
	evbuffer_add(o, "{\"error\":", 9);
	json_str(o, msg);
	evbuffer_add(o, "}\n", 2);
}

static const struct {
	const char *name;
	void (*fn)(struct server *, struct evbuffer *);
	int admin;      /* not on the read-only socket */
} commands[] = {
	{ "status", cmd_status, 0 },
	{ "health", cmd_health, 0 },
	{ "stats", cmd_stats, 0 },
	{ "metrics", cmd_metrics, 0 },
	{ "backends", cmd_backends, 0 },
	{ "profiles", cmd_profiles, 0 },
	{ "connections", cmd_connections, 1 },     /* names bound users and their addresses */
	{ "reload", cmd_reload, 1 },
};

static void
ctl_error(struct evbuffer *o, const char *msg)
{
	evbuffer_add(o, "{\"error\":", 9);
	json_str(o, msg);
	evbuffer_add(o, "}\n", 2);
}

/* One command line in, its answer out (shortconn.c closes the connection). */
static int
ctl_handle(void *arg, struct evbuffer *in, struct evbuffer *o)
{
	struct ctl_sock *cs = arg;
	size_t n;
	char *line = evbuffer_readln(in, &n, EVBUFFER_EOL_ANY);
	if (line == NULL)
		return evbuffer_get_length(in) > CTL_MAX_LINE ? -1 : 0;
	size_t i;
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(line, commands[i].name) == 0)
			break;
	char msg[CTL_MAX_LINE + 200];
	if (i == sizeof(commands) / sizeof(commands[0])) {
		snprintf(msg, sizeof(msg), "unknown command '%.100s' (status, health, stats, metrics, backends, profiles, "
		    "connections, reload)", line);
		ctl_error(o, msg);
	} else if (commands[i].admin && cs->readonly) {
		snprintf(msg, sizeof(msg), "'%s' needs the admin socket (control.socket); this is the read-only socket",
		    commands[i].name);
		ctl_error(o, msg);
	} else {
		commands[i].fn(cs->srv, o);
	}
	free(line);
	return 1;
}

static void
ctl_accept_cb(struct evconnlistener *lev, evutil_socket_t fd, struct sockaddr *sa, int len, void *arg)
{
	struct ctl_sock *cs = arg;
	(void)lev;
	(void)sa;
	(void)len;
	shortconn_accept(&cs->conns, fd);
}

static int
sock_open(struct server *srv, struct ctl_sock *cs, const char *path, int mode, const char *group, int readonly,
    char *err, size_t errlen)
{
	const struct config *cfg = srv->cfg;
	const char *key = readonly ? "control.readonly_socket" : "control.socket";
	int line = readonly ? cfg->control_ro_line : cfg->control_line;
	struct sockaddr_un sun;
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path)) {
		snprintf(err, errlen, "%s:%d: key '%s': path too long", cfg->path, line, key);
		return -1;
	}
	strcpy(sun.sun_path, path);
	unlink(path);       /* a stale socket from an earlier run */
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0 || listen(fd, 16) < 0 ||
	    chmod(path, (mode_t)mode) < 0) {
		snprintf(err, errlen, "%s:%d: key '%s': %s: %s", cfg->path, line, key, path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	struct group *gr = group ? getgrnam(group) : NULL;
	if (group != NULL && (gr == NULL || chown(path, (uid_t)-1, gr->gr_gid) < 0)) {
		snprintf(err, errlen, "%s:%d: key '%s': cannot give %s to group %s: %s", cfg->path,
		    readonly ? cfg->control_ro_group_line : cfg->control_group_line,
		    readonly ? "control.readonly_group" : "control.group", path, group,
		    gr == NULL ? "no such group" : strerror(errno));
		close(fd);
		return -1;
	}
	cs->srv = srv;
	cs->readonly = readonly;
	shortconn_pool_init(&cs->conns, srv->base, ctl_handle, cs, 64, 10000);
	cs->lev = evconnlistener_new(srv->base, ctl_accept_cb, cs, LEV_OPT_CLOSE_ON_FREE, -1, fd);
	if (cs->lev == NULL || (cs->path = strdup(path)) == NULL) {
		if (cs->lev == NULL)
			close(fd);
		snprintf(err, errlen, "%s:%d: key '%s': %s: cannot register the socket", cfg->path, line, key, path);
		return -1;
	}
	log_notice("control socket %s (mode %03o%s%s%s)", path, mode, group ? ", group " : "", group ? group : "",
	    readonly ? ", read-only" : "");
	return 0;
}

static void
sock_close(struct ctl_sock *cs)
{
	if (cs->lev != NULL) {
		evconnlistener_free(cs->lev);
		shortconn_pool_close(&cs->conns);
	}
	if (cs->path != NULL) {
		unlink(cs->path);
		free(cs->path);
	}
	memset(cs, 0, sizeof(*cs));
}

int
control_open(struct server *srv, control_reload_fn reload, char *err, size_t errlen)
{
	reload_fn = reload;
	const struct config *cfg = srv->cfg;
	if (cfg->control_socket != NULL &&
	    sock_open(srv, &ctl_admin, cfg->control_socket, cfg->control_mode, cfg->control_group, 0, err, errlen) < 0)
		return -1;
	if (cfg->control_ro_socket != NULL && sock_open(srv, &ctl_ro, cfg->control_ro_socket, cfg->control_ro_mode,
	    cfg->control_ro_group, 1, err, errlen) < 0)
		return -1;
	return 0;
}

void
control_close(struct server *srv)
{
	(void)srv;
	sock_close(&ctl_admin);
	sock_close(&ctl_ro);
}
