/*
 * test_srv.c — DNS SRV answers parsed into controllers (srv_parse).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "srv.h"

struct msg {
	unsigned char b[1024];
	int n;
};

static void
put16(struct msg *m, int v)
{
	m->b[m->n++] = (unsigned char)(v >> 8);
	m->b[m->n++] = (unsigned char)v;
}

static void
put_name(struct msg *m, const char *name)
{
	while (*name) {
		const char *dot = strchr(name, '.');
		int l = dot ? (int)(dot - name) : (int)strlen(name);
		m->b[m->n++] = (unsigned char)l;
		memcpy(m->b + m->n, name, (size_t)l);
		m->n += l;
		name += l + (dot ? 1 : 0);
	}
	m->b[m->n++] = 0;
}

/* A response to _ldap._tcp.ald.test SRV with the given answers. */
static void
header(struct msg *m, int answers)
{
	m->n = 0;
	put16(m, 0x1234);
	put16(m, 0x8180);
	put16(m, 1);
	put16(m, answers);
	put16(m, 0);
	put16(m, 0);
	put_name(m, "_ldap._tcp.ald.test");
	put16(m, 33);
	put16(m, 1);
}

static void
answer(struct msg *m, int prio, int weight, int port, const char *target)
{
	put16(m, 0xc00c);       /* the question's name */
	put16(m, 33);
	put16(m, 1);
	put16(m, 0);
	put16(m, 300);
	int rdlen_at = m->n;
	put16(m, 0);
	int start = m->n;
	put16(m, prio);
	put16(m, weight);
	put16(m, port);
	put_name(m, target);
	int rdlen = m->n - start;
	m->b[rdlen_at] = (unsigned char)(rdlen >> 8);
	m->b[rdlen_at + 1] = (unsigned char)rdlen;
}

static void
test_two_controllers_sorted_by_priority(void **state)
{
	(void)state;
	struct msg m;
	struct srv_target t[8];
	char err[200];
	header(&m, 2);
	answer(&m, 10, 50, 389, "dc2.ald.test");
	answer(&m, 0, 100, 389, "dc1.ald.test");
	int n = srv_parse(m.b, m.n, t, 8, err, sizeof(err));
	assert_int_equal(n, 2);
	assert_string_equal(t[0].host, "dc1.ald.test");
	assert_int_equal(t[0].priority, 0);
	assert_int_equal(t[0].port, 389);
	assert_string_equal(t[1].host, "dc2.ald.test");
	assert_int_equal(t[1].priority, 10);
	assert_int_equal(t[1].weight, 50);
}

static void
test_equal_priority_heavier_first(void **state)
{
	(void)state;
	struct msg m;
	struct srv_target t[8];
	char err[200];
	header(&m, 2);
	answer(&m, 0, 10, 389, "light.ald.test");
	answer(&m, 0, 90, 3389, "heavy.ald.test");
	assert_int_equal(srv_parse(m.b, m.n, t, 8, err, sizeof(err)), 2);
	assert_string_equal(t[0].host, "heavy.ald.test");
	assert_int_equal(t[0].port, 3389);
}

static void
test_service_not_available_record_skipped(void **state)
{
	(void)state;
	struct msg m;
	struct srv_target t[8];
	char err[200];
	header(&m, 1);
	answer(&m, 0, 0, 0, "");
	assert_int_equal(srv_parse(m.b, m.n, t, 8, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "no SRV records"));
}

static void
test_at_most_max(void **state)
{
	(void)state;
	struct msg m;
	struct srv_target t[1];
	char err[200];
	header(&m, 2);
	answer(&m, 0, 0, 389, "a.ald.test");
	answer(&m, 1, 0, 389, "b.ald.test");
	assert_int_equal(srv_parse(m.b, m.n, t, 1, err, sizeof(err)), 1);
}

static void
test_err_truncated_answer(void **state)
{
	(void)state;
	struct msg m;
	struct srv_target t[8];
	char err[200];
	header(&m, 1);
	answer(&m, 0, 0, 389, "dc1.ald.test");
	assert_int_equal(srv_parse(m.b, m.n - 5, t, 8, err, sizeof(err)), -1);
}

static void
test_err_garbage(void **state)
{
	(void)state;
	unsigned char junk[5] = { 1, 2, 3, 4, 5 };
	struct srv_target t[8];
	char err[200];
	assert_int_equal(srv_parse(junk, sizeof(junk), t, 8, err, sizeof(err)), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_two_controllers_sorted_by_priority),
		cmocka_unit_test(test_equal_priority_heavier_first),
		cmocka_unit_test(test_service_not_available_record_skipped),
		cmocka_unit_test(test_at_most_max),
		cmocka_unit_test(test_err_truncated_answer),
		cmocka_unit_test(test_err_garbage),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
