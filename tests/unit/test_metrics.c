/*
 * test_metrics.c — operation counters, latency percentiles (whole run and
 * sliding minute), Prometheus histogram, per-profile counts (metrics.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <event2/buffer.h>

#include "metrics.h"
#include "pdu.h"

#define SEC 1000000ULL
#define T0 (1000 * SEC)

static struct metrics *
fresh(void)
{
	struct metrics *m = malloc(sizeof(*m));
	assert_non_null(m);
	metrics_init(m, T0);
	return m;
}

static void
done(struct metrics *m)
{
	metrics_free(m);
	free(m);
}

static char *
text(struct metrics *m, int prom, uint64_t now)
{
	struct evbuffer *o = evbuffer_new();
	if (prom)
		metrics_prometheus(m, o, now);
	else
		metrics_json(m, o, now);
	size_t n = evbuffer_get_length(o);
	char *s = malloc(n + 1);
	evbuffer_remove(o, s, n);
	s[n] = '\0';
	evbuffer_free(o);
	return s;
}

static void
test_kinds_and_errors(void **state)
{
	(void)state;
	assert_int_equal(op_kind_of(PDU_BIND_REQ), OPK_BIND);
	assert_int_equal(op_kind_of(PDU_SEARCH_REQ), OPK_SEARCH);
	assert_int_equal(op_kind_of(PDU_EXT_REQ), OPK_EXTENDED);
	assert_int_equal(op_kind_of(PDU_ADD_REQ), OPK_ADD);
	assert_int_equal(op_kind_of(PDU_DEL_REQ), OPK_DELETE);
	assert_int_equal(op_kind_of(PDU_MODDN_REQ), OPK_MODDN);
	assert_int_equal(op_kind_of(PDU_ABANDON_REQ), OPK_OTHER);
	assert_false(result_is_error(0));
	assert_false(result_is_error(5));   /* compareFalse */
	assert_false(result_is_error(6));   /* compareTrue */
	assert_true(result_is_error(49));
	assert_true(result_is_error(32));
}

/* 1..1000 µs once each: percentiles within the 12.5 % bucket width */
static void
test_percentiles_uniform(void **state)
{
	(void)state;
	struct metrics *m = fresh();
	for (uint64_t v = 1; v <= 1000; v++)
		metrics_record(m, OPK_SEARCH, "demo", 0, v, T0 + v);
	double want[] = { 500, 900, 990 }, q[] = { 0.5, 0.9, 0.99 };
	for (int i = 0; i < 3; i++) {
		double got = metrics_quantile(m, OPK_SEARCH, q[i], 0, T0 + SEC);
		assert_true(got > want[i] * 0.875 && got < want[i] * 1.125);
		assert_true(metrics_quantile(m, OPK_SEARCH, q[i], 1, T0 + SEC) == got);
	}
	assert_true(metrics_quantile(m, OPK_BIND, 0.5, 0, T0) < 0);     /* no binds: empty */
	/* all kinds together: same as search alone */
	assert_true(metrics_quantile(m, OPK_N, 0.5, 0, T0 + SEC) == metrics_quantile(m, OPK_SEARCH, 0.5, 0, T0 + SEC));
	done(m);
}

/* small and huge values land in range, never outside the table */
static void
test_extremes(void **state)
{
	(void)state;
	struct metrics *m = fresh();
	metrics_record(m, OPK_BIND, NULL, 0, 0, T0);
	metrics_record(m, OPK_BIND, NULL, 0, UINT64_MAX, T0);
	assert_true(metrics_quantile(m, OPK_BIND, 0.01, 0, T0) < 1);
	assert_true(metrics_quantile(m, OPK_BIND, 0.99, 0, T0) > 1e9);
	assert_int_equal(m->ops[OPK_BIND], 2);
	done(m);
}

/* the last-minute window forgets old slots; the whole-run figure does not */
static void
test_window_slides(void **state)
{
	(void)state;
	struct metrics *m = fresh();
	for (int i = 0; i < 100; i++)
		metrics_record(m, OPK_SEARCH, "demo", 0, 100000, T0);     /* 100 ms, long ago */
	uint64_t later = T0 + 120 * SEC;
	for (int i = 0; i < 100; i++)
		metrics_record(m, OPK_SEARCH, "demo", 0, 100, later);      /* 100 µs now */
	double win = metrics_quantile(m, OPK_SEARCH, 0.99, 1, later);
	double all = metrics_quantile(m, OPK_SEARCH, 0.99, 0, later);
	assert_true(win < 120);
	assert_true(all > 80000);
	/* two minutes on, the window is empty */
	assert_true(metrics_quantile(m, OPK_SEARCH, 0.5, 1, later + 120 * SEC) < 0);
	/* 50 s on, the recent slot still counts */
	assert_true(metrics_quantile(m, OPK_SEARCH, 0.5, 1, later + 50 * SEC) > 0);
	done(m);
}

static void
test_profiles_and_codes(void **state)
{
	(void)state;
	struct metrics *m = fresh();
	metrics_record(m, OPK_BIND, "zabbix", 49, 10, T0);
	metrics_record(m, OPK_BIND, "zabbix", 0, 10, T0);
	metrics_record(m, OPK_SEARCH, "keycloak", 0, 10, T0);
	metrics_record(m, OPK_SEARCH, NULL, 50, 10, T0);      /* before any bind: no profile */
	metrics_record(m, OPK_SEARCH, "keycloak", 4000, 10, T0);   /* out of range code */
	assert_int_equal(m->nprofiles, 2);
	assert_int_equal(m->errors[OPK_BIND], 1);
	assert_int_equal(m->codes[OPK_SEARCH][MET_CODES], 1);
	char *j = text(m, 0, T0);
	assert_non_null(strstr(j, "{\"name\":\"zabbix\",\"operations\":2,\"errors\":1,\"binds\":2,\"binds_failed\":1,"
	    "\"searches\":0}"));
	assert_non_null(strstr(j, "\"results\":{\"0\":1,\"50\":1,\"other\":1}"));
	free(j);
	char *p = text(m, 1, T0);
	assert_non_null(strstr(p, "aldproxy_operations_total{type=\"bind\",result=\"49\"} 1\n"));
	assert_non_null(strstr(p, "aldproxy_profile_operations_total{profile=\"keycloak\",type=\"search\"} 2\n"));
	assert_non_null(strstr(p, "aldproxy_operation_duration_seconds_count{type=\"search\"} 3\n"));
	free(p);
	done(m);
}

/* Prometheus buckets are cumulative and end at the count */
static void
test_prometheus_buckets(void **state)
{
	(void)state;
	struct metrics *m = fresh();
	uint64_t v[] = { 50, 300, 2000, 2000, 40000, 20000000 };     /* 20 s: only in +Inf */
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++)
		metrics_record(m, OPK_COMPARE, "demo", 6, v[i], T0);
	char *p = text(m, 1, T0);
	assert_non_null(strstr(p, "aldproxy_operation_duration_seconds_bucket{type=\"compare\",le=\"0.0001\"} 1\n"));
	assert_non_null(strstr(p, "aldproxy_operation_duration_seconds_bucket{type=\"compare\",le=\"0.0005\"} 2\n"));
	assert_non_null(strstr(p, "aldproxy_operation_duration_seconds_bucket{type=\"compare\",le=\"0.0025\"} 4\n"));
	assert_non_null(strstr(p, "aldproxy_operation_duration_seconds_bucket{type=\"compare\",le=\"10\"} 5\n"));
	assert_non_null(strstr(p, "aldproxy_operation_duration_seconds_bucket{type=\"compare\",le=\"+Inf\"} 6\n"));
	assert_non_null(strstr(p, "aldproxy_operation_errors_total{type=\"compare\"} 0\n"));
	free(p);
	done(m);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kinds_and_errors),
		cmocka_unit_test(test_percentiles_uniform),
		cmocka_unit_test(test_extremes),
		cmocka_unit_test(test_window_slides),
		cmocka_unit_test(test_profiles_and_codes),
		cmocka_unit_test(test_prometheus_buckets),
	};
	return cmocka_run_group_tests_name("metrics", tests, NULL, NULL);
}
