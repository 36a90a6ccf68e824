/*
 * test_dn.c — unit tests for DN normalization and subtree tests.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "dn.h"

/* Normalizes s and checks the result and the returned length. */
static void
check_norm(const char *in, const char *expect)
{
	char out[DN_MAX];
	memset(out, 'Z', sizeof(out));
	int n = dn_normalize(in, strlen(in), out, sizeof(out));
	if (n < 0)
		fail_msg("dn_normalize(\"%s\") failed, expected \"%s\"", in, expect);
	assert_string_equal(out, expect);
	assert_int_equal(n, strlen(expect));
}

static int
under(const char *dn, const char *base)
{
	return dn_is_under(dn, strlen(dn), base, strlen(base));
}

/* ------------------------------------------------------------------ */
/* dn_normalize                                                        */

static void
test_norm_case_folding(void **state)
{
	(void)state;
	check_norm("UID=Alice,CN=Users,CN=Accounts,DC=Ald,DC=Test",
	    "uid=alice,cn=users,cn=accounts,dc=ald,dc=test");
	check_norm("uid=alice,dc=ald,dc=test", "uid=alice,dc=ald,dc=test");
}

static void
test_norm_spaces_around_separators(void **state)
{
	(void)state;
	check_norm("uid = alice , cn = users ,dc= ald,  dc =test", "uid=alice,cn=users,dc=ald,dc=test");
	check_norm("cn=a + sn=b,dc=x", "cn=a+sn=b,dc=x");
	check_norm("   cn=a,dc=x   ", "cn=a,dc=x");
}

static void
test_norm_inner_spaces_kept(void **state)
{
	(void)state;
	check_norm("cn=John  Smith,dc=x", "cn=john  smith,dc=x");
}

static void
test_norm_escapes_kept(void **state)
{
	(void)state;
	/* the escape itself is kept, hex digits folded */
	check_norm("cn=Smith\\2C John,dc=x", "cn=smith\\2c john,dc=x");
	check_norm("cn=Smith\\, John,dc=x", "cn=smith\\, john,dc=x");
	check_norm("cn=a\\+b,dc=x", "cn=a\\+b,dc=x");
	check_norm("cn=a\\=b,dc=x", "cn=a\\=b,dc=x");
	check_norm("cn=a\\;b,dc=x", "cn=a\\;b,dc=x");
	check_norm("cn=a\\\\b,dc=x", "cn=a\\\\b,dc=x");
}

static void
test_norm_escaped_comma_not_separator(void **state)
{
	(void)state;
	/* spaces before an escaped comma are data, not separator padding */
	check_norm("cn=a \\, b,dc=x", "cn=a \\, b,dc=x");
}

static void
test_norm_escaped_trailing_space(void **state)
{
	(void)state;
	check_norm("cn=a\\ ,dc=x", "cn=a\\ ,dc=x");
	check_norm("cn=a\\ ", "cn=a\\ ");
}

static void
test_norm_semicolon_separator(void **state)
{
	(void)state;
	check_norm("uid=a;dc=ald;dc=test", "uid=a,dc=ald,dc=test");
	check_norm("uid=a ; dc=ald", "uid=a,dc=ald");
}

static void
test_norm_empty(void **state)
{
	(void)state;
	check_norm("", "");
	check_norm("    ", "");
}

static void
test_norm_length_not_nul(void **state)
{
	(void)state;
	/* only len bytes are read */
	char out[64];
	assert_int_equal(dn_normalize("DC=X,DC=Y", 4, out, sizeof(out)), 4);
	assert_string_equal(out, "dc=x");
}

static void
test_norm_trailing_backslash(void **state)
{
	(void)state;
	char out[64];
	assert_int_equal(dn_normalize("cn=a\\", 5, out, sizeof(out)), -1);
	assert_int_equal(dn_normalize("\\", 1, out, sizeof(out)), -1);
	/* a backslash cut off by len is just as invalid */
	assert_int_equal(dn_normalize("cn=a\\,b", 5, out, sizeof(out)), -1);
}

static void
test_norm_embedded_nul(void **state)
{
	(void)state;
	char out[64];
	assert_int_equal(dn_normalize("cn=a\0b,dc=x", 11, out, sizeof(out)), -1);
}

/*
 * Regression test (fixed; found by tests/fuzz/fuzz_dn): a NUL after a
 * backslash was kept as an escape pair.  Mapping such a DN through a
 * virtual tree (rewrite_dn_in) cut it at the NUL, leaving the backslash to
 * escape the comma before the real suffix: a base under the profile's
 * search_base became a DN outside the directory's mapped tree.
 */
static void
test_norm_escaped_nul(void **state)
{
	(void)state;
	char out[64];
	assert_int_equal(dn_normalize("cn=a\\\0b,dc=x", 11, out, sizeof(out)), -1);
	assert_int_equal(dn_normalize("cn=\\\0", 5, out, sizeof(out)), -1);
}

static void
test_norm_overflow(void **state)
{
	(void)state;
	char out[16];
	memset(out, 'Z', sizeof(out));
	/* 9 chars + NUL fit in 10 */
	assert_int_equal(dn_normalize("CN=A,DC=B", 9, out, 10), 9);
	assert_string_equal(out, "cn=a,dc=b");
	assert_int_equal(dn_normalize("CN=A,DC=B", 9, out, 9), -1);
	assert_int_equal(dn_normalize("CN=A,DC=B", 9, out, 5), -1);
	assert_int_equal(dn_normalize("CN=A,DC=B", 9, out, 1), -1);
	/* nothing written past outlen */
	memset(out, 'Z', sizeof(out));
	dn_normalize("CN=AAAAAAAAAAAAAAAAAAAAAA", 25, out, 8);
	for (size_t i = 8; i < sizeof(out); i++)
		assert_int_equal(out[i], 'Z');
}

static void
test_norm_overflow_at_separator(void **state)
{
	(void)state;
	char out[16];
	assert_int_equal(dn_normalize("cn=a,", 5, out, 6), 5);
	assert_int_equal(dn_normalize("cn=a,", 5, out, 5), -1);
}

static void
test_norm_overflow_escape(void **state)
{
	(void)state;
	char out[16];
	memset(out, 'Z', sizeof(out));
	assert_int_equal(dn_normalize("a\\,", 3, out, 4), 3);
	assert_string_equal(out, "a\\,");
	assert_int_equal(dn_normalize("a\\,", 3, out, 3), -1);
	memset(out, 'Z', sizeof(out));
	assert_int_equal(dn_normalize("a\\,", 3, out, 2), -1);
	assert_int_equal(out[2], 'Z');
}

static void
test_norm_long_dn(void **state)
{
	(void)state;
	char in[DN_MAX + 10], out[DN_MAX];
	memset(in, 'A', sizeof(in));
	assert_int_equal(dn_normalize(in, DN_MAX - 1, out, sizeof(out)), DN_MAX - 1);
	assert_int_equal(out[0], 'a');
	assert_int_equal(dn_normalize(in, DN_MAX, out, sizeof(out)), -1);
	assert_int_equal(dn_normalize(in, sizeof(in), out, sizeof(out)), -1);
}

static void
test_norm_idempotent(void **state)
{
	(void)state;
	static const char *const dns[] = { "UID=A , DC=B", "cn=x\\2C y;o=Z", "cn=a\\ ", " a = b + c = d " };
	for (size_t i = 0; i < sizeof(dns) / sizeof(dns[0]); i++) {
		char a[128], b[128];
		int n = dn_normalize(dns[i], strlen(dns[i]), a, sizeof(a));
		assert_true(n >= 0);
		assert_int_equal(dn_normalize(a, (size_t)n, b, sizeof(b)), n);
		assert_string_equal(a, b);
	}
}

/* ------------------------------------------------------------------ */
/* dn_is_under                                                         */

static void
test_under_equal(void **state)
{
	(void)state;
	assert_true(under("dc=ald,dc=test", "dc=ald,dc=test"));
}

static void
test_under_child(void **state)
{
	(void)state;
	assert_true(under("cn=users,dc=ald,dc=test", "dc=ald,dc=test"));
}

static void
test_under_grandchild(void **state)
{
	(void)state;
	assert_true(under("uid=alice,cn=users,dc=ald,dc=test", "dc=ald,dc=test"));
	assert_true(under("uid=alice,cn=users,dc=ald,dc=test", "dc=test"));
}

static void
test_under_sibling(void **state)
{
	(void)state;
	assert_false(under("cn=groups,dc=ald,dc=test", "cn=users,dc=ald,dc=test"));
	assert_false(under("uid=a,cn=groups,dc=ald,dc=test", "cn=users,dc=ald,dc=test"));
}

static void
test_under_parent(void **state)
{
	(void)state;
	assert_false(under("dc=ald,dc=test", "cn=users,dc=ald,dc=test"));
	assert_false(under("dc=test", "dc=ald,dc=test"));
}

static void
test_under_not_rdn_boundary(void **state)
{
	(void)state;
	assert_false(under("uid=x,dc=xald,dc=test", "dc=ald,dc=test"));
	assert_false(under("dc=xald,dc=test", "dc=ald,dc=test"));
	assert_false(under("cn=a,ou=xdc=ald,dc=test", "dc=ald,dc=test"));
}

static void
test_under_plus_is_not_boundary(void **state)
{
	(void)state;
	/* "cn=x+dc=ald" is one multi-valued RDN */
	assert_false(under("cn=x+dc=ald,dc=test", "dc=ald,dc=test"));
}

static void
test_under_escaped_comma(void **state)
{
	(void)state;
	/* the comma before the base is escaped: it is part of the value */
	assert_false(under("cn=a\\,dc=ald,dc=test", "dc=ald,dc=test"));
	/* an escaped backslash followed by a real comma is a boundary */
	assert_true(under("cn=a\\\\,dc=ald,dc=test", "dc=ald,dc=test"));
	/* three backslashes: escaped backslash + escaped comma */
	assert_false(under("cn=a\\\\\\,dc=ald,dc=test", "dc=ald,dc=test"));
	/* the escaped comma sits inside an RDN above the base */
	assert_true(under("cn=a\\,b,dc=ald,dc=test", "dc=ald,dc=test"));
}

static void
test_under_empty_base(void **state)
{
	(void)state;
	assert_true(under("uid=alice,dc=ald,dc=test", ""));
	assert_true(under("dc=test", ""));
	assert_true(under("", ""));
}

static void
test_under_empty_dn(void **state)
{
	(void)state;
	assert_false(under("", "dc=test"));
}

static void
test_under_length_bounded(void **state)
{
	(void)state;
	/* only len / blen bytes count */
	const char *dn = "uid=a,dc=ald,dc=testXXXX";
	assert_true(dn_is_under(dn, 20, "dc=testYYY", 7));
	assert_false(dn_is_under(dn, 24, "dc=test", 7));
}

static void
test_under_after_normalize(void **state)
{
	(void)state;
	char a[256], b[256];
	const char *x = "UID=Alice , CN=Users;DC=Ald, DC=Test", *y = "dc=ALD,dc=TEST";
	int na = dn_normalize(x, strlen(x), a, sizeof(a));
	int nb = dn_normalize(y, strlen(y), b, sizeof(b));
	assert_true(na > 0 && nb > 0);
	assert_true(dn_is_under(a, (size_t)na, b, (size_t)nb));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_norm_case_folding),
		cmocka_unit_test(test_norm_spaces_around_separators),
		cmocka_unit_test(test_norm_inner_spaces_kept),
		cmocka_unit_test(test_norm_escapes_kept),
		cmocka_unit_test(test_norm_escaped_comma_not_separator),
		cmocka_unit_test(test_norm_escaped_trailing_space),
		cmocka_unit_test(test_norm_semicolon_separator),
		cmocka_unit_test(test_norm_empty),
		cmocka_unit_test(test_norm_length_not_nul),
		cmocka_unit_test(test_norm_trailing_backslash),
		cmocka_unit_test(test_norm_embedded_nul),
		cmocka_unit_test(test_norm_escaped_nul),
		cmocka_unit_test(test_norm_overflow),
		cmocka_unit_test(test_norm_overflow_at_separator),
		cmocka_unit_test(test_norm_overflow_escape),
		cmocka_unit_test(test_norm_long_dn),
		cmocka_unit_test(test_norm_idempotent),
		cmocka_unit_test(test_under_equal),
		cmocka_unit_test(test_under_child),
		cmocka_unit_test(test_under_grandchild),
		cmocka_unit_test(test_under_sibling),
		cmocka_unit_test(test_under_parent),
		cmocka_unit_test(test_under_not_rdn_boundary),
		cmocka_unit_test(test_under_plus_is_not_boundary),
		cmocka_unit_test(test_under_escaped_comma),
		cmocka_unit_test(test_under_empty_base),
		cmocka_unit_test(test_under_empty_dn),
		cmocka_unit_test(test_under_length_bounded),
		cmocka_unit_test(test_under_after_normalize),
	};
	return cmocka_run_group_tests_name("dn", tests, NULL, NULL);
}
