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

int  control_open(struct server *srv, char *err, size_t errlen);
void control_close(struct server *srv);

/* The health verdict: 0 healthy, 1 degraded, 2 down (aldproxyctl's exit code). */
int  control_health(const struct server *srv);

#endif
