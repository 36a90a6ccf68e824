/*
 * listener.h — front-end sockets (ldap:// and ldaps://, IPv4 and IPv6).
 *
 * The server owns its listeners; each accepts into client_accept().
 */
#ifndef ALDPROXY_LISTENER_H
#define ALDPROXY_LISTENER_H

#include <stddef.h>

struct server;
struct listener_conf;
struct profile;
struct evconnlistener;

struct listener {
	struct server *srv;
	struct evconnlistener *lev;
	const struct listener_conf *conf;   /* borrowed from srv->cfg */
	const struct profile *profile;      /* fixed profile, or NULL */
	int tls;                            /* ldaps:// */
};

int  listener_open_all(struct server *srv, char *err, size_t errlen);
void listener_close_all(struct server *srv);

#endif
