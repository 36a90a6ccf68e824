/*
 * metrics.h — what the daemon counts: operations by type and profile,
 * result codes, latency histograms.
 *
 * The server owns one struct metrics for its whole life (it survives
 * profile reloads: profiles are counted by name).  Every finished client
 * operation is recorded once, by access.c.  Readers are the control
 * socket (stats as JSON, metrics in Prometheus text format) and the
 * optional HTTP metrics listener (metrics_http.c); both take the
 * Prometheus text of the whole daemon from report_exposition() (report.c).
 *
 * Latency is kept twice: in fine log-linear buckets (8 per power of two,
 * so a percentile is within 12.5 %), over the whole run and over the last
 * minute in six 10-second slots; and in the fixed Prometheus buckets.
 */
#ifndef ALDPROXY_METRICS_H
#define ALDPROXY_METRICS_H

#include <stddef.h>
#include <stdint.h>

struct evbuffer;

enum op_kind { OPK_BIND, OPK_SEARCH, OPK_COMPARE, OPK_MODIFY, OPK_EXTENDED, OPK_ADD, OPK_DELETE, OPK_MODDN, OPK_OTHER, OPK_N };

#define MET_FINE 272            /* log-linear buckets up to 2^36 µs */
#define MET_SLOTS 6             /* the last minute, 10 s each */
#define MET_SLOT_SECONDS 10
#define MET_PROM_BUCKETS 16
#define MET_CODES 128           /* LDAP result codes counted one by one; the rest as "other" */

struct metrics_profile {
	char *name;
	uint64_t ops[OPK_N], errors[OPK_N];
};

struct metrics {
	uint64_t started_us;        /* monotonic */
	long started_wall;          /* time(NULL) at start */
	uint64_t ops[OPK_N], errors[OPK_N];
	uint64_t codes[OPK_N][MET_CODES + 1];
	uint64_t fine[OPK_N][MET_FINE];
	uint32_t slot[MET_SLOTS][OPK_N][MET_FINE];
	uint64_t slot_epoch[MET_SLOTS];
	uint64_t prom[OPK_N][MET_PROM_BUCKETS];     /* non-cumulative; +Inf is ops[] */
	uint64_t sum_us[OPK_N];
	uint64_t reloads_ok, reloads_failed;
	struct metrics_profile *profiles;
	size_t nprofiles, capprofiles;
};

extern const char *const op_kind_names[OPK_N];

/* The kind of a request protocolOp tag (PDU_BIND_REQ …). */
enum op_kind op_kind_of(unsigned request_tag);
/* Whether a result code counts as an error (success, compare true/false and referral do not). */
int  result_is_error(int code);

void metrics_init(struct metrics *m, uint64_t now);
void metrics_free(struct metrics *m);
void metrics_record(struct metrics *m, enum op_kind k, const char *profile, int code, uint64_t etime_us,
    uint64_t now);

/* The q-quantile (0 < q < 1) in µs of kind k (OPK_N: all kinds); window: last minute only.  -1 if empty. */
double metrics_quantile(const struct metrics *m, enum op_kind k, double q, int window, uint64_t now);

/* The operation counters as JSON members ("operations":…, "latency_ms":…, "profiles":[…]), no braces. */
void metrics_json(const struct metrics *m, struct evbuffer *o, uint64_t now);
/* The same as Prometheus text exposition lines. */
void metrics_prometheus(const struct metrics *m, struct evbuffer *o, uint64_t now);

#endif
