/*
 * metrics.c — operation counters and latency histograms, and the
 * daemon's Prometheus text built from them and from the server's state.
 * See metrics.h.
 */
#include "metrics.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <event2/buffer.h>

#include "pdu.h"

const char *const op_kind_names[OPK_N] = { "bind", "search", "compare", "modify", "extended", "add", "delete",
	"modrdn", "other" };

/* Prometheus bucket bounds, seconds */
static const double prom_le[MET_PROM_BUCKETS] = { 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
	0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10 };

enum op_kind
op_kind_of(unsigned tag)
{
	switch (tag) {
	case PDU_BIND_REQ: return OPK_BIND;
	case PDU_SEARCH_REQ: return OPK_SEARCH;
	case PDU_COMPARE_REQ: return OPK_COMPARE;
	case PDU_MODIFY_REQ: return OPK_MODIFY;
	case PDU_EXT_REQ: return OPK_EXTENDED;
	case PDU_ADD_REQ: return OPK_ADD;
	case PDU_DEL_REQ: return OPK_DELETE;
	case PDU_MODDN_REQ: return OPK_MODDN;
	default: return OPK_OTHER;
	}
}

int
result_is_error(int code)
{
	return code != 0 && code != 5 && code != 6 && code != 10;
}

void
metrics_init(struct metrics *m, uint64_t now)
{
	memset(m, 0, sizeof(*m));
	m->started_us = now;
	m->started_wall = (long)time(NULL);
}

void
metrics_free(struct metrics *m)
{
	for (size_t i = 0; i < m->nprofiles; i++)
		free(m->profiles[i].name);
	free(m->profiles);
	m->profiles = NULL;
	m->nprofiles = m->capprofiles = 0;
}

/* Bucket of v µs: exact below 8, then 8 buckets per power of two. */
static unsigned
fine_index(uint64_t v)
{
	if (v < 8)
		return (unsigned)v;
	unsigned e = 63 - (unsigned)__builtin_clzll(v);      /* v >= 2^e, e >= 3 */
	unsigned idx = 8 + (e - 3) * 8 + (unsigned)((v >> (e - 3)) & 7);
	return idx < MET_FINE ? idx : MET_FINE - 1;
}

/* The middle of bucket idx, µs. */
static double
fine_mid(unsigned idx)
{
	if (idx < 8)
		return idx + 0.5;
	unsigned e = (idx - 8) / 8 + 3, sub = (idx - 8) % 8;
	double lo = (double)((uint64_t)(8 + sub) << (e - 3)), width = (double)((uint64_t)1 << (e - 3));
	return lo + width / 2;
}

static struct metrics_profile *
profile_slot(struct metrics *m, const char *name)
{
	for (size_t i = 0; i < m->nprofiles; i++)
		if (strcmp(m->profiles[i].name, name) == 0)
			return &m->profiles[i];
	if (m->nprofiles == m->capprofiles) {
		size_t cap = m->capprofiles ? m->capprofiles * 2 : 16;
		struct metrics_profile *v = realloc(m->profiles, cap * sizeof(*v));
		if (v == NULL)
			return NULL;
		m->profiles = v;
		m->capprofiles = cap;
	}
	struct metrics_profile *p = &m->profiles[m->nprofiles];
	memset(p, 0, sizeof(*p));
	if ((p->name = strdup(name)) == NULL)
		return NULL;
	m->nprofiles++;
	return p;
}

void
metrics_record(struct metrics *m, enum op_kind k, const char *profile, int code, uint64_t etime_us, uint64_t now)
{
	int err = result_is_error(code);
	m->ops[k]++;
	m->errors[k] += err;
	m->codes[k][code >= 0 && code < MET_CODES ? code : MET_CODES]++;
	unsigned fi = fine_index(etime_us);
	m->fine[k][fi]++;
	uint64_t epoch = now / (MET_SLOT_SECONDS * 1000000ULL) + 1;     /* 0 marks an unused slot */
	unsigned s = (unsigned)(epoch % MET_SLOTS);
	if (m->slot_epoch[s] != epoch) {
		memset(m->slot[s], 0, sizeof(m->slot[s]));
		m->slot_epoch[s] = epoch;
	}
	m->slot[s][k][fi]++;
	double sec = (double)etime_us / 1e6;
	unsigned b = 0;
	while (b < MET_PROM_BUCKETS && sec > prom_le[b])
		b++;
	if (b < MET_PROM_BUCKETS)
		m->prom[k][b]++;
	m->sum_us[k] += etime_us;
	if (profile != NULL) {
		struct metrics_profile *p = profile_slot(m, profile);
		if (p != NULL) {
			p->ops[k]++;
			p->errors[k] += err;
		}
	}
}

double
metrics_quantile(const struct metrics *m, enum op_kind k, double q, int window, uint64_t now)
{
	uint64_t epoch = now / (MET_SLOT_SECONDS * 1000000ULL) + 1;
	enum op_kind k0 = k == OPK_N ? 0 : k, k1 = k == OPK_N ? OPK_N : k + 1;
	uint64_t count[MET_FINE] = { 0 }, total = 0;
	for (enum op_kind j = k0; j < k1; j++)
		for (unsigned i = 0; i < MET_FINE; i++) {
			uint64_t n = 0;
			if (!window)
				n = m->fine[j][i];
			else
				for (unsigned s = 0; s < MET_SLOTS; s++)
					if (m->slot_epoch[s] != 0 && m->slot_epoch[s] + MET_SLOTS > epoch)
						n += m->slot[s][j][i];
			count[i] += n;
			total += n;
		}
	if (total == 0)
		return -1;
	uint64_t rank = (uint64_t)(q * (double)total + 0.5), seen = 0;
	if (rank == 0)
		rank = 1;
	for (unsigned i = 0; i < MET_FINE; i++) {
		seen += count[i];
		if (seen >= rank)
			return fine_mid(i);
	}
	return fine_mid(MET_FINE - 1);
}

static const double quantiles[] = { 0.5, 0.9, 0.99, 0.999 };
static const char *const qnames[] = { "p50", "p90", "p99", "p999" };

static void
json_latency(const struct metrics *m, struct evbuffer *o, enum op_kind k, uint64_t now)
{
	for (int w = 1; w >= 0; w--) {
		evbuffer_add_printf(o, "%s\"%s\":{", w ? "" : ",", w ? "last_minute" : "since_start");
		for (size_t i = 0; i < sizeof(quantiles) / sizeof(quantiles[0]); i++) {
			double v = metrics_quantile(m, k, quantiles[i], w, now);
			if (v < 0)
				evbuffer_add_printf(o, "%s\"%s\":null", i ? "," : "", qnames[i]);
			else
				evbuffer_add_printf(o, "%s\"%s\":%.3f", i ? "," : "", qnames[i], v / 1000.0);
		}
		evbuffer_add(o, "}", 1);
	}
}

void
metrics_json(const struct metrics *m, struct evbuffer *o, uint64_t now)
{
	uint64_t total = 0, errors = 0;
	for (int k = 0; k < OPK_N; k++) {
		total += m->ops[k];
		errors += m->errors[k];
	}
	evbuffer_add_printf(o, "\"operations\":{\"total\":%llu,\"errors\":%llu,\"by_type\":{", (unsigned long long)total,
	    (unsigned long long)errors);
	for (int k = 0; k < OPK_N; k++) {
		evbuffer_add_printf(o, "%s\"%s\":{\"count\":%llu,\"errors\":%llu,\"latency_ms\":{", k ? "," : "",
		    op_kind_names[k], (unsigned long long)m->ops[k], (unsigned long long)m->errors[k]);
		json_latency(m, o, (enum op_kind)k, now);
		evbuffer_add(o, "},\"results\":{", 13);
		int first = 1;
		for (int c = 0; c <= MET_CODES; c++)
			if (m->codes[k][c]) {
				if (c == MET_CODES)
					evbuffer_add_printf(o, "%s\"other\":%llu", first ? "" : ",", (unsigned long long)m->codes[k][c]);
				else
					evbuffer_add_printf(o, "%s\"%d\":%llu", first ? "" : ",", c, (unsigned long long)m->codes[k][c]);
				first = 0;
			}
		evbuffer_add(o, "}}", 2);
	}
	evbuffer_add(o, "}},\"latency_ms\":{", 17);
	json_latency(m, o, OPK_N, now);
	evbuffer_add(o, "},\"profiles\":[", 14);
	for (size_t i = 0; i < m->nprofiles; i++) {
		const struct metrics_profile *p = &m->profiles[i];
		uint64_t pt = 0, pe = 0;
		for (int k = 0; k < OPK_N; k++) {
			pt += p->ops[k];
			pe += p->errors[k];
		}
		/* profile names are [A-Za-z0-9_.-] (profile_load.c): no escaping needed */
		evbuffer_add_printf(o, "%s{\"name\":\"%s\",\"operations\":%llu,\"errors\":%llu,\"binds\":%llu,"
		    "\"binds_failed\":%llu,\"searches\":%llu}", i ? "," : "", p->name, (unsigned long long)pt,
		    (unsigned long long)pe, (unsigned long long)p->ops[OPK_BIND], (unsigned long long)p->errors[OPK_BIND],
		    (unsigned long long)p->ops[OPK_SEARCH]);
	}
	evbuffer_add(o, "]", 1);
}

void
metrics_prometheus(const struct metrics *m, struct evbuffer *o, uint64_t now)
{
	evbuffer_add_printf(o, "# HELP aldproxy_operations_total Client operations finished, by type and LDAP result code.\n"
	    "# TYPE aldproxy_operations_total counter\n");
	for (int k = 0; k < OPK_N; k++)
		for (int c = 0; c <= MET_CODES; c++)
			if (m->codes[k][c]) {
				if (c == MET_CODES)
					evbuffer_add_printf(o, "aldproxy_operations_total{type=\"%s\",result=\"other\"} %llu\n",
					    op_kind_names[k], (unsigned long long)m->codes[k][c]);
				else
					evbuffer_add_printf(o, "aldproxy_operations_total{type=\"%s\",result=\"%d\"} %llu\n",
					    op_kind_names[k], c, (unsigned long long)m->codes[k][c]);
			}
	evbuffer_add_printf(o, "# HELP aldproxy_operation_errors_total Client operations that ended with an error result.\n"
	    "# TYPE aldproxy_operation_errors_total counter\n");
	for (int k = 0; k < OPK_N; k++)
		evbuffer_add_printf(o, "aldproxy_operation_errors_total{type=\"%s\"} %llu\n", op_kind_names[k],
		    (unsigned long long)m->errors[k]);
	evbuffer_add_printf(o, "# HELP aldproxy_operation_duration_seconds Time from request to final result.\n"
	    "# TYPE aldproxy_operation_duration_seconds histogram\n");
	for (int k = 0; k < OPK_N; k++) {
		uint64_t cum = 0;
		for (int b = 0; b < MET_PROM_BUCKETS; b++) {
			cum += m->prom[k][b];
			evbuffer_add_printf(o, "aldproxy_operation_duration_seconds_bucket{type=\"%s\",le=\"%g\"} %llu\n",
			    op_kind_names[k], prom_le[b], (unsigned long long)cum);
		}
		evbuffer_add_printf(o, "aldproxy_operation_duration_seconds_bucket{type=\"%s\",le=\"+Inf\"} %llu\n"
		    "aldproxy_operation_duration_seconds_sum{type=\"%s\"} %.6f\n"
		    "aldproxy_operation_duration_seconds_count{type=\"%s\"} %llu\n",
		    op_kind_names[k], (unsigned long long)m->ops[k], op_kind_names[k], (double)m->sum_us[k] / 1e6,
		    op_kind_names[k], (unsigned long long)m->ops[k]);
	}
	evbuffer_add_printf(o, "# HELP aldproxy_operation_latency_seconds Latency quantiles over the last minute.\n"
	    "# TYPE aldproxy_operation_latency_seconds gauge\n");
	for (size_t i = 0; i < sizeof(quantiles) / sizeof(quantiles[0]); i++) {
		double v = metrics_quantile(m, OPK_N, quantiles[i], 1, now);
		evbuffer_add_printf(o, "aldproxy_operation_latency_seconds{quantile=\"%g\"} %.6f\n", quantiles[i],
		    v < 0 ? 0 : v / 1e6);
	}
	evbuffer_add_printf(o, "# HELP aldproxy_profile_operations_total Client operations by profile and type.\n"
	    "# TYPE aldproxy_profile_operations_total counter\n");
	for (size_t i = 0; i < m->nprofiles; i++)
		for (int k = 0; k < OPK_N; k++)
			if (m->profiles[i].ops[k])
				evbuffer_add_printf(o, "aldproxy_profile_operations_total{profile=\"%s\",type=\"%s\"} %llu\n",
				    m->profiles[i].name, op_kind_names[k], (unsigned long long)m->profiles[i].ops[k]);
	evbuffer_add_printf(o, "# HELP aldproxy_profile_operation_errors_total "
	    "Client operations with an error result, by profile and type.\n"
	    "# TYPE aldproxy_profile_operation_errors_total counter\n");
	for (size_t i = 0; i < m->nprofiles; i++)
		for (int k = 0; k < OPK_N; k++)
			if (m->profiles[i].ops[k])
				evbuffer_add_printf(o, "aldproxy_profile_operation_errors_total{profile=\"%s\",type=\"%s\"} %llu\n",
				    m->profiles[i].name, op_kind_names[k], (unsigned long long)m->profiles[i].errors[k]);
	evbuffer_add_printf(o, "# HELP aldproxy_reloads_total Configuration reloads by outcome.\n"
	    "# TYPE aldproxy_reloads_total counter\n"
	    "aldproxy_reloads_total{outcome=\"success\"} %llu\naldproxy_reloads_total{outcome=\"failure\"} %llu\n",
	    (unsigned long long)m->reloads_ok, (unsigned long long)m->reloads_failed);
}
