/*
 * listener.c — opening the front-end sockets.  IPv6 sockets are v6-only so
 * "ldap://0.0.0.0:389" and "ldap://[::]:389" can both be listened on.
 */
#include "listener.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <event2/listener.h>

#include "client.h"
#include "config.h"
#include "log.h"
#include "profile.h"
#include "state.h"

static void
accept_cb(struct evconnlistener *lev, evutil_socket_t fd, struct sockaddr *sa, int socklen, void *arg)
{
	(void)lev;
	client_accept(&((struct listener *)arg)->from, fd, sa, socklen);
}

static void
accept_error_cb(struct evconnlistener *lev, void *arg)
{
	struct listener *li = arg;
	(void)lev;
	int err = EVUTIL_SOCKET_ERROR();
	/* EMFILE and friends: keep listening, the next accept may work */
	log_err("listener %s: accept failed: %s", li->from.url, evutil_socket_error_to_string(err));
}

static int
open_socket(const char *url, const struct url *parsed, char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	memset(&ss, 0, sizeof(ss));
	struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
	if (inet_pton(AF_INET, parsed->host, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)parsed->port);
		sl = sizeof(*sin);
	} else if (inet_pton(AF_INET6, parsed->host, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)parsed->port);
		sl = sizeof(*sin6);
	} else {
		snprintf(err, errlen, "listener %s: the host must be an IPv4 or [IPv6] address", url);
		return -1;
	}
	int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(err, errlen, "listener %s: socket: %s", url, strerror(errno));
		return -1;
	}
	int one = 1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (ss.ss_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, sl) < 0 || listen(fd, 1024) < 0) {
		snprintf(err, errlen, "listener %s: cannot listen: %s", url, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

static int
listener_open(struct server *srv, const char *url, const struct url *parsed, const char *pname,
    char *err, size_t errlen)
{
	struct listener **v = realloc(srv->listeners, (srv->nlisteners + 1) * sizeof(*v));
	if (v == NULL)
		return -1;
	srv->listeners = v;
	struct listener *li = calloc(1, sizeof(*li));
	if (li == NULL)
		return -1;
	srv->listeners[srv->nlisteners++] = li;
	li->from.srv = srv;
	li->from.url = strdup(url);
	if (li->from.url == NULL)
		return -1;
	li->from.tls = parsed->tls;
	if (pname != NULL && (li->from.profile_name = strdup(pname)) == NULL)
		return -1;
	if (li->from.tls && srv->tls_server == NULL) {
		snprintf(err, errlen, "listener %s: ldaps:// needs tls.certificate and tls.key in the configuration", url);
		return -1;
	}
	int fd = open_socket(url, parsed, err, errlen);
	if (fd < 0)
		return -1;
	li->lev = evconnlistener_new(srv->base, accept_cb, li, LEV_OPT_CLOSE_ON_FREE, -1, fd);
	if (li->lev == NULL) {
		close(fd);
		snprintf(err, errlen, "listener %s: cannot register with the event loop", url);
		return -1;
	}
	evconnlistener_set_error_cb(li->lev, accept_error_cb);
	log_notice("listening on %s%s%s", url, pname ? " for profile " : "", pname ? pname : "");
	return 0;
}

int
listener_open_all(struct server *srv, char *err, size_t errlen)
{
	struct config *cfg = srv->cfg;
	for (size_t i = 0; i < cfg->nlisteners; i++) {
		struct listener_conf *lc = &cfg->listeners[i];
		if (lc->profile != NULL && profile_find(srv->profiles, lc->profile) == NULL) {
			snprintf(err, errlen, "%s:%d: key 'listeners[%zu].profile': no profile named '%s' in %s",
			    cfg->path, lc->line, i, lc->profile, cfg->profiles_dir);
			return -1;
		}
		if (listener_open(srv, lc->url, &lc->parsed, lc->profile, err, errlen) < 0)
			return -1;
	}
	/* listeners a profile owns */
	for (size_t k = 0; k < srv->profiles->n; k++) {
		const struct profile *p = srv->profiles->v[k];
		for (size_t i = 0; i < p->nlisteners; i++)
			if (listener_open(srv, p->listeners[i], &p->listener_urls[i], p->name, err, errlen) < 0)
				return -1;
	}
	return 0;
}

void
listener_stop_all(struct server *srv)
{
	for (size_t i = 0; i < srv->nlisteners; i++)
		if (srv->listeners[i]->lev != NULL) {
			evconnlistener_free(srv->listeners[i]->lev);
			srv->listeners[i]->lev = NULL;
		}
}

void
listener_free_all(struct server *srv)
{
	listener_stop_all(srv);
	for (size_t i = 0; i < srv->nlisteners; i++) {
		free(srv->listeners[i]->from.profile_name);
		free((char *)srv->listeners[i]->from.url);
		free(srv->listeners[i]);
	}
	free(srv->listeners);
	srv->listeners = NULL;
	srv->nlisteners = 0;
}
