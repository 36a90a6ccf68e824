/*
 * control.c — the control socket.  See control.h.
 */
#include "control.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>

#include "backend.h"
#include "client.h"
#include "config.h"
#include "log.h"
#include "profile.h"
#include "server.h"
#include "upstream.h"

#define CTL_MAX_LINE 256

static struct evconnlistener *ctl_lev;
static char *ctl_path;

/* JSON string with the characters JSON needs escaped */
static void
json_str(struct evbuffer *o, const char *s)
{
	evbuffer_add(o, "\"", 1);
	for (; s != NULL && *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			evbuffer_add_printf(o, "\\%c", c);
		else if (c < 0x20)
			evbuffer_add_printf(o, "\\u%04x", c);
		else
			evbuffer_add(o, s, 1);
	}
	evbuffer_add(o, "\"", 1);
}

static const char *const state_names[] = { "down", "connecting", "starttls", "tls-handshake", "binding", "ready" };

int
control_health(const struct server *srv)
{
	const struct backend *be = srv->backend;
	size_t ok = 0;
	for (size_t s = 0; s < be->nservers; s++) {
		unsigned ready = 0;
		for (size_t i = 0; i < be->nshared; i++)
			ready += be->shared[i]->server == &be->servers[s] && be->shared[i]->state == UP_READY;
		ok += ready > 0;
	}
	return ok == be->nservers ? 0 : ok > 0 ? 1 : 2;
}

static void
cmd_health(struct server *srv, struct evbuffer *o)
{
	static const char *const verdict[] = { "healthy", "degraded", "down" };
	const struct backend *be = srv->backend;
	int h = control_health(srv);
	evbuffer_add_printf(o, "{\"status\":\"%s\",\"code\":%d,\"servers\":[", verdict[h], h);
	for (size_t s = 0; s < be->nservers; s++) {
		unsigned ready = 0, total = 0;
		struct upstream **pools[] = { be->shared, be->binders, be->paged };
		size_t counts[] = { be->nshared, be->nbinders, be->npaged };
		for (int k = 0; k < 3; k++)
			for (size_t i = 0; i < counts[k]; i++)
				if (pools[k][i]->server == &be->servers[s]) {
					total++;
					ready += pools[k][i]->state == UP_READY;
				}
		evbuffer_add_printf(o, "%s{\"url\":", s ? "," : "");
		json_str(o, be->servers[s].urlstr);
		evbuffer_add_printf(o, ",\"ready\":%u,\"connections\":%u}", ready, total);
	}
	evbuffer_add_printf(o, "],\"clients\":%zu}\n", srv->nclients);
}

static void
cmd_stats(struct server *srv, struct evbuffer *o)
{
	const struct stats *st = &srv->stats;
	size_t inflight = 0;
	struct client *c;
	TAILQ_FOREACH(c, &srv->clients, link)
		inflight += c->nops;
	evbuffer_add_printf(o,
	    "{\"connections_accepted\":%llu,\"connections_refused\":%llu,\"connections_open\":%zu,"
	    "\"operations\":%llu,\"operations_in_flight\":%zu,\"binds_ok\":%llu,\"binds_failed\":%llu,"
	    "\"searches\":%llu,\"entries\":%llu,\"protocol_errors\":%llu,\"slow_clients_cut\":%llu,"
	    "\"binds_waiting\":%u}\n",
	    (unsigned long long)st->conns_accepted, (unsigned long long)st->conns_rejected, srv->nclients,
	    (unsigned long long)st->ops_total, inflight, (unsigned long long)st->binds_ok,
	    (unsigned long long)st->binds_failed, (unsigned long long)st->searches, (unsigned long long)st->entries,
	    (unsigned long long)st->protocol_errors, (unsigned long long)st->slow_clients_cut, srv->backend->nbind_wait);
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

void server_reload(struct server *srv);

static const struct {
	const char *name;
	void (*fn)(struct server *, struct evbuffer *);
} commands[] = {
	{ "health", cmd_health },
	{ "stats", cmd_stats },
	{ "backends", cmd_backends },
	{ "profiles", cmd_profiles },
	{ "connections", cmd_connections },
};

static void
ctl_done_cb(struct bufferevent *bev, void *arg)
{
	(void)arg;
	if (evbuffer_get_length(bufferevent_get_output(bev)) == 0)
		bufferevent_free(bev);
}

static void
ctl_event_cb(struct bufferevent *bev, short what, void *arg)
{
	(void)what;
	(void)arg;
	bufferevent_free(bev);
}

static void
ctl_read_cb(struct bufferevent *bev, void *arg)
{
	struct server *srv = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	size_t n;
	char *line = evbuffer_readln(in, &n, EVBUFFER_EOL_ANY);
	if (line == NULL) {
		if (evbuffer_get_length(in) > CTL_MAX_LINE)
			bufferevent_free(bev);
		return;
	}
	struct evbuffer *o = bufferevent_get_output(bev);
	int found = 0;
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(line, commands[i].name) == 0) {
			commands[i].fn(srv, o);
			found = 1;
		}
	if (!found && strcmp(line, "reload") == 0) {
		server_reload(srv);
		evbuffer_add_printf(o, "{\"reload\":\"done\",\"profiles\":%zu}\n", srv->profiles->n);
		found = 1;
	}
	if (!found) {
		evbuffer_add(o, "{\"error\":", 9);
		char msg[CTL_MAX_LINE + 64];
		snprintf(msg, sizeof(msg), "unknown command '%.100s' (health, stats, backends, profiles, connections, reload)",
		    line);
		json_str(o, msg);
		evbuffer_add(o, "}\n", 2);
	}
	free(line);
	bufferevent_disable(bev, EV_READ);
	bufferevent_setcb(bev, NULL, ctl_done_cb, ctl_event_cb, srv);
}

static void
ctl_accept_cb(struct evconnlistener *lev, evutil_socket_t fd, struct sockaddr *sa, int len, void *arg)
{
	struct server *srv = arg;
	(void)lev;
	(void)sa;
	(void)len;
	struct bufferevent *bev = bufferevent_socket_new(srv->base, fd, BEV_OPT_CLOSE_ON_FREE);
	if (bev == NULL) {
		close(fd);
		return;
	}
	struct timeval tv = { 5, 0 };
	bufferevent_set_timeouts(bev, &tv, &tv);
	bufferevent_setcb(bev, ctl_read_cb, NULL, ctl_event_cb, srv);
	bufferevent_enable(bev, EV_READ | EV_WRITE);
}

int
control_open(struct server *srv, char *err, size_t errlen)
{
	const struct config *cfg = srv->cfg;
	if (cfg->control_socket == NULL)
		return 0;
	struct sockaddr_un sun;
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(cfg->control_socket) >= sizeof(sun.sun_path)) {
		snprintf(err, errlen, "%s: key 'control.socket': path too long", cfg->path);
		return -1;
	}
	strcpy(sun.sun_path, cfg->control_socket);
	unlink(cfg->control_socket);        /* a stale socket from an earlier run */
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0 || listen(fd, 16) < 0 ||
	    chmod(cfg->control_socket, (mode_t)cfg->control_mode) < 0) {
		snprintf(err, errlen, "control socket %s: %s", cfg->control_socket, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	ctl_lev = evconnlistener_new(srv->base, ctl_accept_cb, srv, LEV_OPT_CLOSE_ON_FREE, -1, fd);
	if (ctl_lev == NULL) {
		close(fd);
		snprintf(err, errlen, "control socket %s: cannot register", cfg->control_socket);
		return -1;
	}
	ctl_path = strdup(cfg->control_socket);
	log_notice("control socket %s (mode %03o)", cfg->control_socket, cfg->control_mode);
	return 0;
}

void
control_close(struct server *srv)
{
	(void)srv;
	if (ctl_lev != NULL) {
		evconnlistener_free(ctl_lev);
		ctl_lev = NULL;
	}
	if (ctl_path != NULL) {
		unlink(ctl_path);
		free(ctl_path);
		ctl_path = NULL;
	}
}
