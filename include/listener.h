/*
 * listener.h — front-end sockets (ldap:// and ldaps://, IPv4 and IPv6).
 *
 * The server owns its listeners; each accepts into client_accept().
 */
#ifndef ALDPROXY_LISTENER_H
#define ALDPROXY_LISTENER_H

#include <stddef.h>

#include "client.h"

struct server;
struct listener_conf;
struct profile;
struct evconnlistener;

struct listener {
	struct client_origin from;          /* what its clients keep of it (url and profile_name owned here) */
	struct evconnlistener *lev;
};

int  listener_open_all(struct server *srv, char *err, size_t errlen);
/* Stops accepting; the structs stay (clients point at them) until listener_free_all(). */
void listener_stop_all(struct server *srv);
void listener_free_all(struct server *srv);

#endif
