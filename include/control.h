/*
 * control.h — the control socket aldproxyctl talks to (a Unix socket,
 * control.socket in aldproxy.yaml, mode control.mode).
 *
 * One command per connection: the client writes a line, aldproxyd answers
 * with JSON (metrics: Prometheus text) and closes.  Commands: status,
 * health, stats, metrics, backends, profiles, connections, reload.  An
 * unknown command gets {"error": ...}.  The read-only twin
 * (control.readonly_socket, for monitoring agents) refuses connections
 * and reload.  reload answers {"reload":"done","profiles":N,
 * "restart_needed":[...]}, the changes that wait for a restart named as
 * server_reload() names them, or {"error": ...}.
 */
#ifndef ALDPROXY_CONTROL_H
#define ALDPROXY_CONTROL_H

#include <stddef.h>

struct server;

/* How `reload` reloads: server_reload(), handed down by the server that opens the sockets. */
typedef int (*control_reload_fn)(struct server *srv, char *restart, size_t restartlen);

int  control_open(struct server *srv, control_reload_fn reload, char *err, size_t errlen);
void control_close(struct server *srv);

#endif
