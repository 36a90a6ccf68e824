/*
 * report.c — what the daemon says about itself: the health verdict and the
 * Prometheus text of everything, for the control socket (control.c) and
 * the metrics listener (metrics_http.c).  See report.h.
 */
#include "report.h"

#include <time.h>
#include <event2/buffer.h>

#include "audit.h"
#include "backend.h"
#include "client.h"
#include "clock.h"
#include "metrics.h"
#include "profile.h"
#include "state.h"
#include "upstream.h"
#include "version.h"

int
report_health(const struct server *srv)
{
	const struct backend *be = srv->backend;
	size_t ok = 0;
	for (size_t s = 0; s < be->nservers; s++) {
		unsigned ready = 0;
		for (size_t i = 0; i < be->nshared; i++)
			ready += be->shared[i]->server == &be->servers[s] && be->shared[i]->state == UP_READY;
		ok += ready > 0;
	}
	int h = ok == be->nservers ? 0 : ok > 0 ? 1 : 2;
	long since;
	/* serving, but losing audit records or unable to renew Kerberos credentials: degraded */
	if (h == 0 && (audit_write_error(&since) != NULL || srv->krb_error[0] != '\0'))
		h = 1;
	return h;
}

size_t
report_in_flight(const struct server *srv)
{
	size_t n = 0;
	const struct client *c;
	TAILQ_FOREACH(c, &srv->clients, link)
		n += c->nops;
	return n;
}

void
report_backend_counts(const struct backend *be, size_t s, unsigned *ready, unsigned *total, unsigned *ops)
{
	struct upstream **pools[] = { be->shared, be->binders, be->paged };
	size_t counts[] = { be->nshared, be->nbinders, be->npaged };
	*ready = *total = *ops = 0;
	for (int k = 0; k < 3; k++)
		for (size_t i = 0; i < counts[k]; i++)
			if (pools[k][i]->server == &be->servers[s]) {
				(*total)++;
				*ready += pools[k][i]->state == UP_READY;
				*ops += pools[k][i]->nops;
			}
}

void
report_exposition(const struct server *srv, struct evbuffer *o)
{
	const struct stats *st = &srv->stats;
	const struct backend *be = srv->backend;
	uint64_t now = now_us();
	int health = report_health(srv);
	evbuffer_add_printf(o,
	    "# HELP aldproxy_build_info The running version.\n# TYPE aldproxy_build_info gauge\n"
	    "aldproxy_build_info{version=\"%s\"} 1\n"
	    "# HELP aldproxy_uptime_seconds Seconds since aldproxyd started.\n# TYPE aldproxy_uptime_seconds gauge\n"
	    "aldproxy_uptime_seconds %llu\n"
	    "# HELP aldproxy_health 0 healthy, 1 degraded (a controller is down), 2 down (none answers).\n"
	    "# TYPE aldproxy_health gauge\naldproxy_health %d\n"
	    "# HELP aldproxy_connections_open Client connections open now.\n# TYPE aldproxy_connections_open gauge\n"
	    "aldproxy_connections_open %zu\n"
	    "# HELP aldproxy_connections_accepted_total Client connections accepted.\n"
	    "# TYPE aldproxy_connections_accepted_total counter\naldproxy_connections_accepted_total %llu\n"
	    "# HELP aldproxy_connections_refused_total Client connections refused (limits.max_connections).\n"
	    "# TYPE aldproxy_connections_refused_total counter\naldproxy_connections_refused_total %llu\n"
	    "# HELP aldproxy_slow_clients_cut_total Clients cut off for not reading their results.\n"
	    "# TYPE aldproxy_slow_clients_cut_total counter\naldproxy_slow_clients_cut_total %llu\n"
	    "# HELP aldproxy_protocol_errors_total Clients disconnected for malformed requests.\n"
	    "# TYPE aldproxy_protocol_errors_total counter\naldproxy_protocol_errors_total %llu\n"
	    "# HELP aldproxy_operations_in_flight Client operations not yet answered.\n"
	    "# TYPE aldproxy_operations_in_flight gauge\naldproxy_operations_in_flight %zu\n"
	    "# HELP aldproxy_binds_waiting Client binds waiting for a free bind connection.\n"
	    "# TYPE aldproxy_binds_waiting gauge\naldproxy_binds_waiting %u\n"
	    "# HELP aldproxy_entries_total Search result entries sent to clients.\n"
	    "# TYPE aldproxy_entries_total counter\naldproxy_entries_total %llu\n"
	    "# HELP aldproxy_profiles Profiles loaded.\n# TYPE aldproxy_profiles gauge\naldproxy_profiles %zu\n",
	    ALDPROXY_VERSION, (unsigned long long)((now - srv->metrics.started_us) / 1000000), health,
	    srv->nclients, (unsigned long long)st->conns_accepted, (unsigned long long)st->conns_rejected,
	    (unsigned long long)st->slow_clients_cut, (unsigned long long)st->protocol_errors, report_in_flight(srv),
	    be->nbind_wait, (unsigned long long)st->entries, srv->profiles->n);
	evbuffer_add_printf(o, "# HELP aldproxy_backend_up 1 when the controller has a ready connection.\n"
	    "# TYPE aldproxy_backend_up gauge\n");
	for (size_t s = 0; s < be->nservers; s++)
		evbuffer_add_printf(o, "aldproxy_backend_up{server=\"%s\"} %d\n", be->servers[s].urlstr,
		    be->servers[s].ready > 0);
	evbuffer_add_printf(o, "# HELP aldproxy_backend_connections Connections to the controller, by state.\n"
	    "# TYPE aldproxy_backend_connections gauge\n");
	for (size_t s = 0; s < be->nservers; s++) {
		unsigned ready, total, ops;
		report_backend_counts(be, s, &ready, &total, &ops);
		evbuffer_add_printf(o, "aldproxy_backend_connections{server=\"%s\",state=\"ready\"} %u\n"
		    "aldproxy_backend_connections{server=\"%s\",state=\"not_ready\"} %u\n",
		    be->servers[s].urlstr, ready, be->servers[s].urlstr, total - ready);
	}
	evbuffer_add_printf(o, "# HELP aldproxy_backend_operations_in_flight "
	    "Operations sent to the controller and not yet answered.\n"
	    "# TYPE aldproxy_backend_operations_in_flight gauge\n");
	for (size_t s = 0; s < be->nservers; s++) {
		unsigned ready, total, ops;
		report_backend_counts(be, s, &ready, &total, &ops);
		evbuffer_add_printf(o, "aldproxy_backend_operations_in_flight{server=\"%s\"} %u\n", be->servers[s].urlstr, ops);
	}
	metrics_prometheus(&srv->metrics, o, now);
}
