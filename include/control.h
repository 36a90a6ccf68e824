/*
 * control.h — the control socket aldproxyctl talks to (a Unix socket,
 * control.socket in aldproxy.yaml, mode control.mode).
 *
 * One command per connection: the client writes a line, aldproxyd answers
 * with JSON and closes.  Commands: health, stats, backends, profiles,
 * connections, reload.  An unknown command gets {"error": ...}.
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
