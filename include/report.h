/*
 * report.h — what the daemon says about itself, read from its state: the
 * health verdict (aldproxyctl health, its exit code, the aldproxy_health
 * metric) and the Prometheus text of every metric.  The control socket and
 * the metrics listener both answer from here.
 */
#ifndef ALDPROXY_REPORT_H
#define ALDPROXY_REPORT_H

#include <stddef.h>

struct server;
struct backend;
struct evbuffer;

/*
 * 0 healthy, 1 degraded (a controller down, audit records being lost, or
 * Kerberos credentials not renewed), 2 down (no controller answers).
 */
int  report_health(const struct server *srv);
/* Client operations not yet answered. */
size_t report_in_flight(const struct server *srv);
/* Connections to directory server s: ready, all, and their operations in flight. */
void report_backend_counts(const struct backend *be, size_t s, unsigned *ready, unsigned *total, unsigned *ops);
/*
 * Every metric of the daemon in Prometheus text format: connections,
 * operations, directory servers, health and the operation counters of
 * metrics.c.
 */
void report_exposition(const struct server *srv, struct evbuffer *o);

#endif
