/*
 * test_filter.c — unit tests for filter trees: RFC 4515 parse/print,
 * BER encode/decode (RFC 4511 4.5.1.7), limits and arena exhaustion.
 *
 * Every filter that parses is also sent through filter_encode() and
 * filter_decode() (liblber reading the bytes), and must print the same.
 * Each error is its own test.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>
#include <lber.h>

#include "arena.h"
#include "filter.h"

#define ARENA_CAP (8u << 20)
#define BUFCAP (256u << 10)

struct env {
	struct arena a;
	unsigned char *ber;        /* BUFCAP bytes */
	char *txt;                 /* BUFCAP bytes */
};

static int
setup(void **state)
{
	struct env *e = calloc(1, sizeof(*e));
	if (e == NULL || arena_init(&e->a, ARENA_CAP) < 0)
		return -1;
	e->ber = malloc(BUFCAP);
	e->txt = malloc(BUFCAP);
	if (e->ber == NULL || e->txt == NULL)
		return -1;
	*state = e;
	return 0;
}

static int
teardown(void **state)
{
	struct env *e = *state;
	arena_free(&e->a);
	free(e->ber);
	free(e->txt);
	free(e);
	return 0;
}

static struct fnode *
parse_ok(struct env *e, const char *s)
{
	struct fnode *f = (struct fnode *)0x1;
	const char *err = NULL;
	if (filter_parse(&e->a, s, &f, &err) != 0)
		fail_msg("filter_parse(\"%s\") failed: %s", s, err ? err : "(no message)");
	assert_non_null(f);
	return f;
}

static const char *
print_ok(struct env *e, const struct fnode *f)
{
	int n = filter_print(f, e->txt, BUFCAP);
	if (n < 0)
		fail_msg("filter_print failed");
	assert_int_equal((size_t)n, strlen(e->txt));
	return e->txt;
}

/* filter_encode() of f; the bytes go to e->ber, the length is returned. */
static size_t
encode_ok(struct env *e, const struct fnode *f)
{
	size_t n = filter_encode(f, e->ber, BUFCAP);
	if (n == 0)
		fail_msg("filter_encode failed");
	return n;
}

/* filter_decode() of bytes; the tree is returned (fails the test on -1). */
static struct fnode *
decode_ok(struct env *e, const unsigned char *b, size_t n)
{
	struct berval bv = { n, (char *)b };
	struct fnode *f = NULL;
	if (filter_decode(&e->a, &bv, &f) != 0)
		fail_msg("filter_decode failed on %zu bytes", n);
	assert_non_null(f);
	return f;
}

static int
decode_rc(struct env *e, const unsigned char *b, size_t n)
{
	struct berval bv = { n, (char *)b };
	struct fnode *f = (struct fnode *)0x1;
	int rc = filter_decode(&e->a, &bv, &f);
	if (rc != 0)
		assert_null(f);
	return rc;
}

/*
 * parse(in) prints `expect`, and so does parse → encode → decode → print.
 */
static void
rt(struct env *e, const char *in, const char *expect)
{
	struct fnode *f = parse_ok(e, in);
	const char *p = print_ok(e, f);
	if (strcmp(p, expect) != 0)
		fail_msg("filter \"%s\" printed \"%s\", expected \"%s\"", in, p, expect);
	size_t n = encode_ok(e, f);
	unsigned char *copy = malloc(n);
	assert_non_null(copy);
	memcpy(copy, e->ber, n);
	struct fnode *g = decode_ok(e, copy, n);
	/* the tree must not point into the BER bytes */
	memset(copy, 0, n);
	free(copy);
	p = print_ok(e, g);
	if (strcmp(p, expect) != 0)
		fail_msg("filter \"%s\" after BER printed \"%s\", expected \"%s\"", in, p, expect);
	/* and encoding the decoded tree gives the same bytes */
	unsigned char *again = malloc(n + 16);
	assert_non_null(again);
	assert_int_equal(filter_encode(g, again, n + 16), n);
	size_t n2 = encode_ok(e, f);
	assert_int_equal(n2, n);
	assert_memory_equal(again, e->ber, n);
	free(again);
}

/* The same string in and out. */
static void
same(struct env *e, const char *s)
{
	rt(e, s, s);
}

static void
parse_fails(struct env *e, const char *s, const char *what)
{
	struct fnode *f = (struct fnode *)0x1;
	const char *err = NULL;
	int rc = filter_parse(&e->a, s, &f, &err);
	if (rc != -1)
		fail_msg("filter_parse(\"%s\") returned %d, expected -1 (printed \"%s\")", s, rc,
		    rc == 0 && f && filter_print(f, e->txt, BUFCAP) >= 0 ? e->txt : "?");
	assert_null(f);
	assert_non_null(err);
	if (what != NULL && strstr(err, what) == NULL)
		fail_msg("error \"%s\" for \"%s\" does not mention \"%s\"", err, s, what);
}

/* ------------------------------------------------------------------ */
/* parse / print round trips                                            */

static void
test_rt_eq(void **state)
{
	struct env *e = *state;
	same(e, "(cn=alice)");
	same(e, "(uid=a)");
	same(e, "(cn;lang-ru=x)");
	same(e, "(cn=)");
	same(e, "(cn=John Smith)");
	struct fnode *f = parse_ok(e, "(cn=alice)");
	assert_int_equal(f->kind, F_EQ);
	assert_int_equal(f->attr.bv_len, 2);
	assert_memory_equal(f->attr.bv_val, "cn", 2);
	assert_int_equal(f->value.bv_len, 5);
	assert_memory_equal(f->value.bv_val, "alice", 5);
	assert_null(f->child);
	assert_null(f->next);
}

static void
test_rt_and(void **state)
{
	struct env *e = *state;
	same(e, "(&(cn=a)(sn=b))");
	same(e, "(&(cn=a))");
	struct fnode *f = parse_ok(e, "(&(cn=a)(sn=b)(uid=c))");
	assert_int_equal(f->kind, F_AND);
	assert_int_equal(f->child->kind, F_EQ);
	assert_int_equal(f->child->next->kind, F_EQ);
	assert_int_equal(f->child->next->next->kind, F_EQ);
	assert_null(f->child->next->next->next);
}

static void
test_rt_or(void **state)
{
	struct env *e = *state;
	same(e, "(|(cn=a)(sn=b)(uid=c))");
	assert_int_equal(parse_ok(e, "(|(cn=a))")->kind, F_OR);
}

static void
test_rt_not(void **state)
{
	struct env *e = *state;
	same(e, "(!(cn=a))");
	same(e, "(!(!(cn=a)))");
	struct fnode *f = parse_ok(e, "(!(cn=a))");
	assert_int_equal(f->kind, F_NOT);
	assert_int_equal(f->child->kind, F_EQ);
	assert_null(f->child->next);
}

static void
test_rt_nested(void **state)
{
	struct env *e = *state;
	same(e, "(&(|(a=1)(!(b=2)))(c=3)(|(&(d=4)(e=5))(f=*)))");
	same(e, "(&(objectClass=person)(|(uid=al*)(mail=*@example.com))(!(nsAccountLock=TRUE)))");
}

static void
test_rt_sub_initial(void **state)
{
	struct env *e = *state;
	same(e, "(cn=ab*)");
	struct fnode *f = parse_ok(e, "(cn=ab*)");
	assert_int_equal(f->kind, F_SUB);
	assert_int_equal(f->initial.bv_len, 2);
	assert_memory_equal(f->initial.bv_val, "ab", 2);
	assert_null(f->final.bv_val);
	assert_int_equal(f->nany, 0);
}

static void
test_rt_sub_final(void **state)
{
	struct env *e = *state;
	same(e, "(cn=*ab)");
	struct fnode *f = parse_ok(e, "(cn=*ab)");
	assert_int_equal(f->kind, F_SUB);
	assert_null(f->initial.bv_val);
	assert_int_equal(f->final.bv_len, 2);
	assert_int_equal(f->nany, 0);
}

static void
test_rt_sub_any(void **state)
{
	struct env *e = *state;
	same(e, "(cn=*ab*)");
	same(e, "(cn=*a*b*c*)");
	struct fnode *f = parse_ok(e, "(cn=*a*bc*)");
	assert_int_equal(f->kind, F_SUB);
	assert_null(f->initial.bv_val);
	assert_null(f->final.bv_val);
	assert_int_equal(f->nany, 2);
	assert_int_equal(f->any[1].bv_len, 2);
	assert_memory_equal(f->any[1].bv_val, "bc", 2);
}

static void
test_rt_sub_all_parts(void **state)
{
	struct env *e = *state;
	same(e, "(cn=a*b*c*d)");
	struct fnode *f = parse_ok(e, "(cn=a*b*c*d)");
	assert_int_equal(f->nany, 2);
	assert_memory_equal(f->initial.bv_val, "a", 1);
	assert_memory_equal(f->final.bv_val, "d", 1);
	/* empty parts between stars are dropped */
	rt(e, "(cn=a**b)", "(cn=a*b)");
}

static void
test_rt_ge_le(void **state)
{
	struct env *e = *state;
	same(e, "(uidNumber>=1000)");
	same(e, "(uidNumber<=2000)");
	assert_int_equal(parse_ok(e, "(uidNumber>=1000)")->kind, F_GE);
	assert_int_equal(parse_ok(e, "(uidNumber<=1000)")->kind, F_LE);
	struct fnode *f = parse_ok(e, "(uidNumber>=1000)");
	assert_int_equal(f->attr.bv_len, 9);
	assert_int_equal(f->value.bv_len, 4);
}

static void
test_rt_present(void **state)
{
	struct env *e = *state;
	same(e, "(objectClass=*)");
	struct fnode *f = parse_ok(e, "(mail=*)");
	assert_int_equal(f->kind, F_PRESENT);
	assert_int_equal(f->attr.bv_len, 4);
}

static void
test_rt_approx(void **state)
{
	struct env *e = *state;
	same(e, "(cn~=alise)");
	assert_int_equal(parse_ok(e, "(cn~=alise)")->kind, F_APPROX);
}

static void
test_rt_ext_attr_only(void **state)
{
	struct env *e = *state;
	same(e, "(cn:=foo)");
	struct fnode *f = parse_ok(e, "(cn:=foo)");
	assert_int_equal(f->kind, F_EXT);
	assert_int_equal(f->attr.bv_len, 2);
	assert_int_equal(f->rule.bv_len, 0);
	assert_int_equal(f->dnattrs, 0);
	assert_int_equal(f->value.bv_len, 3);
}

static void
test_rt_ext_attr_rule(void **state)
{
	struct env *e = *state;
	same(e, "(userAccountControl:1.2.840.113556.1.4.803:=2)");
	struct fnode *f = parse_ok(e, "(cn:2.5.13.5:=Foo)");
	assert_int_equal(f->kind, F_EXT);
	assert_int_equal(f->rule.bv_len, 8);
	assert_memory_equal(f->rule.bv_val, "2.5.13.5", 8);
	assert_int_equal(f->dnattrs, 0);
}

static void
test_rt_ext_dn(void **state)
{
	struct env *e = *state;
	same(e, "(ou:dn:=People)");
	same(e, "(ou:dn:2.5.13.5:=People)");
	struct fnode *f = parse_ok(e, "(ou:dn:2.5.13.5:=People)");
	assert_int_equal(f->dnattrs, 1);
	assert_int_equal(f->attr.bv_len, 2);
	assert_int_equal(f->rule.bv_len, 8);
	/* ":DN" is the same flag */
	rt(e, "(ou:DN:=x)", "(ou:dn:=x)");
}

/*
 * Runs fn in a child process with default signal handlers, so that a
 * crash or a sanitizer abort fails one test instead of ending the run.
 * Returns the child's exit status (128 + signal when killed).
 */
static int
in_child(struct env *e, int (*fn)(struct env *))
{
	fflush(NULL);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		signal(SIGSEGV, SIG_DFL);
		signal(SIGBUS, SIG_DFL);
		signal(SIGILL, SIG_DFL);
		signal(SIGFPE, SIG_DFL);
		signal(SIGABRT, SIG_DFL);
		_exit(fn(e));
	}
	int st = 0;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* Without cmocka asserts (runs in a child): 0 when every round trip holds, 2 when one does not. */
static int
ext_rule_only_round_trips(struct env *e)
{
	static const char *const fs[] = { "(:2.5.13.5:=foo)", "(:dn:2.5.13.5:=foo)", "(:1.2.3:=x)", "(:dn:1.2.3:=x)" };
	for (size_t i = 0; i < sizeof(fs) / sizeof(fs[0]); i++) {
		struct fnode *f = NULL, *g = NULL;
		const char *err = NULL;
		if (filter_parse(&e->a, fs[i], &f, &err) != 0 || f->kind != F_EXT || f->attr.bv_len != 0)
			return 2;
		if (filter_print(f, e->txt, BUFCAP) < 0 || strcmp(e->txt, fs[i]) != 0)
			return 2;
		size_t n = filter_encode(f, e->ber, BUFCAP);
		struct berval bv = { n, (char *)e->ber };
		if (n == 0 || filter_decode(&e->a, &bv, &g) != 0)
			return 2;
		if (filter_print(g, e->txt, BUFCAP) < 0 || strcmp(e->txt, fs[i]) != 0)
			return 2;
	}
	struct fnode *f = NULL;
	const char *err = NULL;
	if (filter_parse(&e->a, "(:dn:2.5.13.5:=foo)", &f, &err) != 0 || f->dnattrs != 1 || f->rule.bv_len != 8)
		return 2;
	return 0;
}

/*
 * Regression test (fixed):
 * filter_parse() leaves attr = {0, NULL} for an extensible match without
 * a type, and filter_print() then calls put(o, NULL, 0), i.e.
 * memcpy(dst, NULL, 0) at filter.c put(): undefined behaviour, and UBSan
 * (-fno-sanitize-recover) aborts.  Run in a child so the abort fails
 * this test only.
 */
static void
test_rt_ext_rule_only(void **state)
{
	struct env *e = *state;
	int rc = in_child(e, ext_rule_only_round_trips);
	if (rc == 2)
		fail_msg("an extensible match without an attribute did not round-trip");
	if (rc != 0)
		fail_msg("printing (:dn:2.5.13.5:=foo) crashed or tripped a sanitizer (child status %d)", rc);
}

static void
test_rt_absolute_true(void **state)
{
	struct env *e = *state;
	struct fnode *f = parse_ok(e, "(&)");
	assert_int_equal(f->kind, F_TRUE);
	assert_string_equal(print_ok(e, f), "(&)");
	f = parse_ok(e, "(& )");
	assert_int_equal(f->kind, F_TRUE);
}

static void
test_rt_absolute_false(void **state)
{
	struct env *e = *state;
	struct fnode *f = parse_ok(e, "(|)");
	assert_int_equal(f->kind, F_FALSE);
	assert_string_equal(print_ok(e, f), "(|)");
}

static void
test_bare_item(void **state)
{
	struct env *e = *state;
	rt(e, "cn=alice", "(cn=alice)");
	rt(e, "cn=a*", "(cn=a*)");
	rt(e, "objectClass=*", "(objectClass=*)");
}

static void
test_spaces_between_filters(void **state)
{
	struct env *e = *state;
	rt(e, "(& (cn=a) (sn=b) )", "(&(cn=a)(sn=b))");
	rt(e, "(cn=a) ", "(cn=a)");
	/* spaces inside values are data */
	rt(e, "(cn= a )", "(cn= a )");
}

/* ------------------------------------------------------------------ */
/* escaping                                                             */

static void
test_escape_star(void **state)
{
	struct env *e = *state;
	same(e, "(cn=\\2a)");
	struct fnode *f = parse_ok(e, "(cn=\\2a)");
	assert_int_equal(f->kind, F_EQ);     /* not a substring or presence filter */
	assert_int_equal(f->value.bv_len, 1);
	assert_int_equal(f->value.bv_val[0], '*');
	rt(e, "(cn=\\2A)", "(cn=\\2a)");     /* hex digits printed lower-case */
}

static void
test_escape_parens(void **state)
{
	struct env *e = *state;
	same(e, "(cn=a\\28b\\29)");
	struct fnode *f = parse_ok(e, "(cn=a\\28b\\29)");
	assert_int_equal(f->value.bv_len, 4);
	assert_memory_equal(f->value.bv_val, "a(b)", 4);
}

static void
test_escape_backslash(void **state)
{
	struct env *e = *state;
	same(e, "(cn=\\5c)");
	same(e, "(cn=a\\5cb)");
	struct fnode *f = parse_ok(e, "(cn=\\5C)");
	assert_int_equal(f->value.bv_len, 1);
	assert_int_equal(f->value.bv_val[0], '\\');
}

static void
test_escape_nul(void **state)
{
	struct env *e = *state;
	same(e, "(cn=a\\00b)");
	struct fnode *f = parse_ok(e, "(cn=a\\00b)");
	assert_int_equal(f->value.bv_len, 3);
	assert_memory_equal(f->value.bv_val, "a\0b", 3);
	same(e, "(cn=\\00)");
}

static void
test_escape_non_ascii(void **state)
{
	struct env *e = *state;
	/* raw UTF-8 in, \xx out */
	rt(e, "(cn=\xd0\x90\xd0\xbb\xd0\xb8\xd1\x81\xd0\xb0)", "(cn=\\d0\\90\\d0\\bb\\d0\\b8\\d1\\81\\d0\\b0)");
	same(e, "(cn=caf\\c3\\a9)");
	struct fnode *f = parse_ok(e, "(cn=caf\\c3\\a9)");
	assert_int_equal(f->value.bv_len, 5);
	assert_memory_equal(f->value.bv_val, "caf\xc3\xa9", 5);
	/* control characters and DEL too */
	rt(e, "(cn=a\\0ab\\7f)", "(cn=a\\0ab\\7f)");
}

static void
test_escape_in_substrings(void **state)
{
	struct env *e = *state;
	same(e, "(cn=a\\2a*\\28*\\29)");
	struct fnode *f = parse_ok(e, "(cn=a\\2a*\\28*\\29)");
	assert_int_equal(f->kind, F_SUB);
	assert_int_equal(f->initial.bv_len, 2);
	assert_memory_equal(f->initial.bv_val, "a*", 2);
	assert_int_equal(f->nany, 1);
	assert_memory_equal(f->any[0].bv_val, "(", 1);
	assert_memory_equal(f->final.bv_val, ")", 1);
}

static void
test_escape_in_ext_value(void **state)
{
	struct env *e = *state;
	same(e, "(cn:2.5.13.5:=\\2a\\5c)");
}

static void
test_print_constructed_value(void **state)
{
	struct env *e = *state;
	struct fnode *f = fnode_eq(&e->a, "cn", "a*()\\\x01\xff z", 9);
	assert_non_null(f);
	assert_string_equal(print_ok(e, f), "(cn=a\\2a\\28\\29\\5c\\01\\ff z)");
}

/* ------------------------------------------------------------------ */
/* constructors                                                         */

static void
test_constructors(void **state)
{
	struct env *e = *state;
	struct fnode *a = fnode_eq(&e->a, "objectClass", "person", 6);
	struct fnode *b = fnode_present(&e->a, "mail");
	struct fnode *c = fnode_not(&e->a, fnode_eq(&e->a, "nsAccountLock", "TRUE", 4));
	assert_non_null(a);
	assert_non_null(b);
	assert_non_null(c);
	a->next = b;
	b->next = c;
	struct fnode *f = fnode_list(&e->a, F_AND, a);
	assert_non_null(f);
	assert_string_equal(print_ok(e, f), "(&(objectClass=person)(mail=*)(!(nsAccountLock=TRUE)))");
	assert_null(fnode_not(&e->a, NULL));
	assert_int_equal(fnode_new(&e->a, F_TRUE)->kind, F_TRUE);
}

static void
test_attr_eq(void **state)
{
	(void)state;
	struct berval cn = { 2, "cn" }, cnl = { 10, "CN;lang-ru" }, cnx = { 3, "cnx" };
	assert_true(attr_eq(&cn, "cn"));
	assert_true(attr_eq(&cn, "CN"));
	assert_true(attr_eq(&cnl, "cn"));
	assert_false(attr_eq(&cnx, "cn"));
	assert_false(attr_eq(&cn, "cnx"));
	assert_false(attr_eq(&cn, "c"));
}

/* ------------------------------------------------------------------ */
/* BER                                                                  */

static void
test_ber_round_trip_many(void **state)
{
	struct env *e = *state;
	static const char *const filters[] = {
		"(cn=alice)", "(cn=)", "(&(cn=a)(sn=b))", "(|(cn=a)(sn=b)(uid=c))", "(!(cn=a))",
		"(cn=ab*)", "(cn=*ab)", "(cn=*ab*)", "(cn=a*b*c*d)", "(uidNumber>=1000)", "(uidNumber<=10)",
		"(mail=*)", "(cn~=alise)", "(cn:=x)", "(cn:dn:=x)", "(cn:1.2.3:=x)", "(cn:dn:1.2.3:=x)",
		"(cn=a\\00b\\2a\\28\\29\\5c\\ff)",
		"(&(|(a=1)(!(b=2)))(c=3)(|(&(d=4)(e=5))(f=*)))",
		"(memberOf:1.2.840.113556.1.4.1941:=cn=admins,cn=groups,cn=accounts,dc=ald,dc=test)",
	};
	for (size_t i = 0; i < sizeof(filters) / sizeof(filters[0]); i++)
		same(e, filters[i]);
}

static void
test_ber_long_value(void **state)
{
	struct env *e = *state;
	/* values over 127 and 255 bytes need long-form lengths */
	char *s = malloc(2000);
	assert_non_null(s);
	for (size_t len = 120; len < 1000; len += 67) {
		strcpy(s, "(&(description=");
		size_t o = strlen(s);
		for (size_t i = 0; i < len; i++)
			s[o++] = (char)('a' + i % 26);
		strcpy(s + o, ")(cn=x))");
		same(e, s);
	}
	free(s);
}

/* The exact bytes of a few small filters. */
static void
test_ber_exact_eq(void **state)
{
	struct env *e = *state;
	static const unsigned char want[] = { 0xa3, 0x07, 0x04, 0x02, 'c', 'n', 0x04, 0x01, 'a' };
	size_t n = encode_ok(e, parse_ok(e, "(cn=a)"));
	assert_int_equal(n, sizeof(want));
	assert_memory_equal(e->ber, want, sizeof(want));
}

static void
test_ber_exact_present(void **state)
{
	struct env *e = *state;
	static const unsigned char want[] = { 0x87, 0x02, 'c', 'n' };
	size_t n = encode_ok(e, parse_ok(e, "(cn=*)"));
	assert_int_equal(n, sizeof(want));
	assert_memory_equal(e->ber, want, sizeof(want));
}

static void
test_ber_exact_not_and(void **state)
{
	struct env *e = *state;
	static const unsigned char want[] = {
		0xa0, 0x0f,
		0xa2, 0x04, 0x87, 0x02, 'c', 'n',
		0xa5, 0x07, 0x04, 0x02, 's', 'n', 0x04, 0x01, '5',
	};
	size_t n = encode_ok(e, parse_ok(e, "(&(!(cn=*))(sn>=5))"));
	assert_int_equal(n, sizeof(want));
	assert_memory_equal(e->ber, want, sizeof(want));
}

static void
test_ber_exact_ext(void **state)
{
	struct env *e = *state;
	static const unsigned char want[] = {
		0xa9, 0x10,
		0x81, 0x03, '1', '.', '2',
		0x82, 0x02, 'o', 'u',
		0x83, 0x02, 'x', 'y',
		0x84, 0x01, 0xff,
	};
	size_t n = encode_ok(e, parse_ok(e, "(ou:dn:1.2:=xy)"));
	assert_int_equal(n, sizeof(want));
	assert_memory_equal(e->ber, want, sizeof(want));
}

static void
test_ber_exact_sub(void **state)
{
	struct env *e = *state;
	static const unsigned char want[] = {
		0xa4, 0x10, 0x04, 0x02, 'c', 'n',
		0x30, 0x0a, 0x80, 0x01, 'a', 0x81, 0x01, 'b', 0x82, 0x02, 'c', 'd',
	};
	size_t n = encode_ok(e, parse_ok(e, "(cn=a*b*cd)"));
	assert_int_equal(n, sizeof(want));
	assert_memory_equal(e->ber, want, sizeof(want));
}

/* The encoder's output read with liblber as the RFC 4511 Filter CHOICE. */
static void
test_ber_scanf_structure(void **state)
{
	struct env *e = *state;
	size_t n = encode_ok(e, parse_ok(e,
	    "(&(cn=al)(|(sn=*b*c*d)(!(uid>=5)))(uid<=7)(cn~=x)(mail=*)(ou:dn:1.2.3:=v))"));
	struct berval bv = { n, (char *)e->ber }, a, v, r;
	BerElement *ber = ber_init(&bv);
	assert_non_null(ber);
	ber_len_t len;
	ber_tag_t tag;
	ber_int_t b = 0;

	assert_int_equal(ber_peek_tag(ber, &len), 0xa0);   /* and [0] SET OF */
	assert_int_not_equal(ber_scanf(ber, "{"), LBER_ERROR);

	assert_int_equal(ber_peek_tag(ber, &len), 0xa3);   /* equalityMatch [3] */
	assert_int_not_equal(ber_scanf(ber, "{mm}", &a, &v), LBER_ERROR);
	assert_int_equal(a.bv_len, 2);
	assert_memory_equal(a.bv_val, "cn", 2);
	assert_int_equal(v.bv_len, 2);
	assert_memory_equal(v.bv_val, "al", 2);

	assert_int_equal(ber_peek_tag(ber, &len), 0xa1);   /* or [1] */
	assert_int_not_equal(ber_scanf(ber, "{"), LBER_ERROR);
	assert_int_equal(ber_peek_tag(ber, &len), 0xa4);   /* substrings [4] */
	assert_int_not_equal(ber_scanf(ber, "{m{", &a), LBER_ERROR);
	assert_memory_equal(a.bv_val, "sn", 2);
	assert_int_equal(ber_peek_tag(ber, &len), 0x81);   /* any */
	assert_int_not_equal(ber_scanf(ber, "m", &v), LBER_ERROR);
	assert_memory_equal(v.bv_val, "b", 1);
	assert_int_equal(ber_peek_tag(ber, &len), 0x81);
	assert_int_not_equal(ber_scanf(ber, "m", &v), LBER_ERROR);
	assert_memory_equal(v.bv_val, "c", 1);
	assert_int_equal(ber_peek_tag(ber, &len), 0x82);   /* final */
	assert_int_not_equal(ber_scanf(ber, "m}}", &v), LBER_ERROR);
	assert_memory_equal(v.bv_val, "d", 1);
	assert_int_equal(ber_peek_tag(ber, &len), 0xa2);   /* not [2] */
	assert_int_not_equal(ber_scanf(ber, "{"), LBER_ERROR);
	assert_int_equal(ber_peek_tag(ber, &len), 0xa5);   /* greaterOrEqual [5] */
	assert_int_not_equal(ber_scanf(ber, "{mm}}}", &a, &v), LBER_ERROR);
	assert_memory_equal(a.bv_val, "uid", 3);
	assert_memory_equal(v.bv_val, "5", 1);

	assert_int_equal(ber_peek_tag(ber, &len), 0xa6);   /* lessOrEqual [6] */
	assert_int_not_equal(ber_scanf(ber, "{mm}", &a, &v), LBER_ERROR);
	assert_memory_equal(v.bv_val, "7", 1);
	assert_int_equal(ber_peek_tag(ber, &len), 0xa8);   /* approxMatch [8] */
	assert_int_not_equal(ber_scanf(ber, "{mm}", &a, &v), LBER_ERROR);
	assert_memory_equal(v.bv_val, "x", 1);
	assert_int_equal(ber_peek_tag(ber, &len), 0x87);   /* present [7] primitive */
	assert_int_not_equal(ber_scanf(ber, "m", &a), LBER_ERROR);
	assert_int_equal(a.bv_len, 4);
	assert_memory_equal(a.bv_val, "mail", 4);

	assert_int_equal(ber_peek_tag(ber, &len), 0xa9);   /* extensibleMatch [9] */
	assert_int_not_equal(ber_scanf(ber, "{"), LBER_ERROR);
	assert_int_equal(ber_peek_tag(ber, &len), 0x81);   /* matchingRule */
	assert_int_not_equal(ber_scanf(ber, "m", &r), LBER_ERROR);
	assert_int_equal(r.bv_len, 5);
	assert_memory_equal(r.bv_val, "1.2.3", 5);
	assert_int_equal(ber_peek_tag(ber, &len), 0x82);   /* type */
	assert_int_not_equal(ber_scanf(ber, "m", &a), LBER_ERROR);
	assert_memory_equal(a.bv_val, "ou", 2);
	assert_int_equal(ber_peek_tag(ber, &len), 0x83);   /* matchValue */
	assert_int_not_equal(ber_scanf(ber, "m", &v), LBER_ERROR);
	assert_memory_equal(v.bv_val, "v", 1);
	assert_int_equal(ber_peek_tag(ber, &len), 0x84);   /* dnAttributes */
	assert_int_not_equal(ber_scanf(ber, "b}", &b), LBER_ERROR);
	assert_int_not_equal(b, 0);
	/* everything consumed */
	tag = ber_peek_tag(ber, &len);
	assert_int_equal(tag, LBER_DEFAULT);
	ber_free(ber, 1);
}

static void
test_ber_true_encodes_presence(void **state)
{
	struct env *e = *state;
	static const unsigned char want[] = { 0x87, 0x0b, 'o', 'b', 'j', 'e', 'c', 't', 'C', 'l', 'a', 's', 's' };
	struct fnode *t = fnode_new(&e->a, F_TRUE);
	size_t n = encode_ok(e, t);
	assert_int_equal(n, sizeof(want));
	assert_memory_equal(e->ber, want, sizeof(want));
	assert_string_equal(print_ok(e, decode_ok(e, e->ber, n)), "(objectClass=*)");
	/* the same from the string form */
	n = encode_ok(e, parse_ok(e, "(&)"));
	assert_int_equal(n, sizeof(want));
	assert_memory_equal(e->ber, want, sizeof(want));
}

static void
test_ber_false_encodes_not_presence(void **state)
{
	struct env *e = *state;
	static const unsigned char want[] = { 0xa2, 0x0d, 0x87, 0x0b, 'o', 'b', 'j', 'e', 'c', 't', 'C', 'l', 'a', 's',
		's' };
	size_t n = encode_ok(e, fnode_new(&e->a, F_FALSE));
	assert_int_equal(n, sizeof(want));
	assert_memory_equal(e->ber, want, sizeof(want));
	assert_string_equal(print_ok(e, decode_ok(e, e->ber, n)), "(!(objectClass=*))");
	n = encode_ok(e, parse_ok(e, "(|)"));
	assert_int_equal(n, sizeof(want));
	assert_memory_equal(e->ber, want, sizeof(want));
}

static void
test_ber_absolute_inside(void **state)
{
	struct env *e = *state;
	size_t n = encode_ok(e, parse_ok(e, "(&(cn=a)(|)(&))"));
	assert_string_equal(print_ok(e, decode_ok(e, e->ber, n)), "(&(cn=a)(!(objectClass=*))(objectClass=*))");
}

/* RFC 4526: an empty and / or set on the wire is absolute true / false. */
static void
test_ber_decode_rfc4526(void **state)
{
	struct env *e = *state;
	static const unsigned char t[] = { 0xa0, 0x00 }, f[] = { 0xa1, 0x00 };
	struct fnode *x = decode_ok(e, t, sizeof(t));
	assert_int_equal(x->kind, F_TRUE);
	assert_string_equal(print_ok(e, x), "(&)");
	x = decode_ok(e, f, sizeof(f));
	assert_int_equal(x->kind, F_FALSE);
	assert_string_equal(print_ok(e, x), "(|)");
}

static void
test_ber_encode_cap(void **state)
{
	struct env *e = *state;
	struct fnode *f = parse_ok(e, "(&(cn=alice)(|(sn=b*)(uid:dn:1.2:=x)))");
	size_t n = encode_ok(e, f);
	unsigned char *buf = malloc(n);
	assert_non_null(buf);
	for (size_t cap = 0; cap < n; cap++)
		assert_int_equal(filter_encode(f, buf, cap), 0);
	assert_int_equal(filter_encode(f, buf, n), n);
	assert_memory_equal(buf, e->ber, n);
	free(buf);
}

static void
test_print_cap(void **state)
{
	struct env *e = *state;
	struct fnode *f = parse_ok(e, "(&(cn=alice)(|(sn=b*)(uid:dn:1.2:=x)))");
	size_t n = strlen("(&(cn=alice)(|(sn=b*)(uid:dn:1.2:=x)))");
	char buf[128];
	for (size_t cap = 0; cap <= n; cap++)
		assert_int_equal(filter_print(f, buf, cap), -1);
	assert_int_equal(filter_print(f, buf, n + 1), (int)n);
	assert_string_equal(buf, "(&(cn=alice)(|(sn=b*)(uid:dn:1.2:=x)))");
}

/* ------------------------------------------------------------------ */
/* parse errors                                                         */

static void
test_err_unbalanced_open(void **state)
{
	parse_fails(*state, "(cn=a", NULL);
}

static void
test_err_unbalanced_and(void **state)
{
	parse_fails(*state, "(&(cn=a)(sn=b)", NULL);
}

static void
test_err_paren_in_value(void **state)
{
	parse_fails(*state, "(cn=a(b)", NULL);
}

static void
test_err_close_in_value(void **state)
{
	/* an unescaped ')' ends the item early: the rest is trailing text */
	parse_fails(*state, "(cn=a)b)", NULL);
}

static void
test_err_missing_eq(void **state)
{
	parse_fails(*state, "(cn)", "attribute=value");
}

static void
test_err_missing_attr(void **state)
{
	parse_fails(*state, "(=alice)", "attribute=value");
}

static void
test_err_empty_parens(void **state)
{
	parse_fails(*state, "()", NULL);
}

static void
test_err_empty_string(void **state)
{
	parse_fails(*state, "", NULL);
}

static void
test_err_not_two_children(void **state)
{
	parse_fails(*state, "(!(cn=a)(sn=b))", "'!'");
}

static void
test_err_not_no_child(void **state)
{
	parse_fails(*state, "(!)", "'!'");
}

static void
test_err_bad_escape(void **state)
{
	parse_fails(*state, "(cn=\\zz)", "escape");
}

static void
test_err_bad_escape_one_hex(void **state)
{
	parse_fails(*state, "(cn=\\2g)", "escape");
}

static void
test_err_truncated_escape(void **state)
{
	parse_fails(*state, "(cn=ab\\2)", "escape");
}

static void
test_err_bad_escape_in_substring(void **state)
{
	parse_fails(*state, "(cn=a*\\q1*b)", "escape");
}

static void
test_err_text_after_end(void **state)
{
	parse_fails(*state, "(cn=a)x", "after the end");
}

static void
test_err_two_filters(void **state)
{
	parse_fails(*state, "(cn=a)(sn=b)", "after the end");
}

static void
test_err_extra_close(void **state)
{
	parse_fails(*state, "(cn=a))", "after the end");
}

static void
test_err_ext_without_attr_or_rule(void **state)
{
	parse_fails(*state, "(:=x)", "extensible");
}

static void
test_err_ext_dn_only(void **state)
{
	parse_fails(*state, "(:dn:=x)", "extensible");
}

static void
test_err_garbage_in_and(void **state)
{
	parse_fails(*state, "(&(cn=a)x(sn=b))", NULL);
}

/* k nested (!...) around (cn=a): k + 1 levels */
static char *
nested_not(size_t k)
{
	char *s = malloc(3 * k + 16);
	size_t o = 0;
	assert_non_null(s);
	for (size_t i = 0; i < k; i++) {
		s[o++] = '(';
		s[o++] = '!';
	}
	memcpy(s + o, "(cn=a)", 6);
	o += 6;
	for (size_t i = 0; i < k; i++)
		s[o++] = ')';
	s[o] = '\0';
	return s;
}

static void
test_depth_64_ok(void **state)
{
	struct env *e = *state;
	char *s = nested_not(63);          /* 64 levels */
	same(e, s);
	free(s);
}

static void
test_err_too_deep(void **state)
{
	char *s = nested_not(64);          /* 65 levels */
	parse_fails(*state, s, "deep");
	free(s);
}

static void
test_err_far_too_deep(void **state)
{
	char *s = nested_not(5000);
	parse_fails(*state, s, NULL);
	free(s);
}

/* (&(cn=a)...) with n children: n + 1 nodes */
static char *
wide_and(size_t n)
{
	char *s = malloc(8 * n + 16);
	size_t o = 0;
	assert_non_null(s);
	s[o++] = '(';
	s[o++] = '&';
	for (size_t i = 0; i < n; i++) {
		memcpy(s + o, "(cn=a)", 6);
		o += 6;
	}
	s[o++] = ')';
	s[o] = '\0';
	return s;
}

static void
test_max_nodes_ok(void **state)
{
	struct env *e = *state;
	char *s = wide_and(FILTER_MAX_NODES - 1);
	same(e, s);
	free(s);
}

static void
test_err_too_many_nodes(void **state)
{
	char *s = wide_and(FILTER_MAX_NODES);
	parse_fails(*state, s, "too large");
	free(s);
}

/*
 * Regression test (fixed): a substring value with 64 or more '*' is
 * silently cut at the 64th part instead of being refused ("too many '*'")
 * or kept whole, so (cn=x0*x1*...*x64) becomes a broader filter.
 */
static void
test_err_too_many_stars(void **state)
{
	struct env *e = *state;
	char s[1024];
	size_t o = (size_t)snprintf(s, sizeof(s), "(cn=");
	for (int i = 0; i <= 64; i++)
		o += (size_t)snprintf(s + o, sizeof(s) - o, "%sx%d", i ? "*" : "", i);
	snprintf(s + o, sizeof(s) - o, ")");
	/* either refused, or kept exactly */
	struct fnode *f = NULL;
	const char *err = NULL;
	if (filter_parse(&e->a, s, &f, &err) == 0) {
		const char *p = print_ok(e, f);
		if (strcmp(p, s) != 0)
			fail_msg("\"%s\" parsed as \"%s\"", s, p);
	}
}

/*
 * Regression test (fixed): an empty attribute description is refused
 * for '=' ("(=a)") but accepted before '>=', '<=' and '~=': "(>=1)"
 * parses and encodes a GreaterOrEqual with an empty AttributeDescription.
 */
static void
test_err_empty_attr_with_operator(void **state)
{
	parse_fails(*state, "(>=1)", "attribute=value");
}

/* ------------------------------------------------------------------ */
/* decode errors                                                        */

static void
test_dec_err_empty(void **state)
{
	assert_int_equal(decode_rc(*state, (const unsigned char *)"", 0), -1);
}

static void
test_dec_err_garbage(void **state)
{
	static const unsigned char b[] = { 0xff, 0x13, 0x37, 0x00, 0x42 };
	assert_int_equal(decode_rc(*state, b, sizeof(b)), -1);
}

static void
test_dec_err_unknown_choice(void **state)
{
	/* [10] is not a Filter choice */
	static const unsigned char b[] = { 0xaa, 0x07, 0x04, 0x02, 'c', 'n', 0x04, 0x01, 'a' };
	assert_int_equal(decode_rc(*state, b, sizeof(b)), -1);
}

static void
test_dec_err_truncated_eq(void **state)
{
	struct env *e = *state;
	size_t n = encode_ok(e, parse_ok(e, "(cn=alice)"));
	for (size_t k = 0; k < n; k++)
		if (decode_rc(e, e->ber, k) != -1)
			fail_msg("%zu of %zu bytes decoded", k, n);
}

static void
test_dec_err_truncated_nested(void **state)
{
	struct env *e = *state;
	size_t n = encode_ok(e, parse_ok(e, "(&(cn=alice)(|(sn=b*c)(!(uid:dn:1.2:=x))))"));
	for (size_t k = 0; k < n; k++)
		if (decode_rc(e, e->ber, k) != -1)
			fail_msg("%zu of %zu bytes decoded", k, n);
}

static void
test_dec_err_length_too_long(void **state)
{
	static const unsigned char b[] = { 0xa3, 0x7f, 0x04, 0x02, 'c', 'n', 0x04, 0x01, 'a' };
	assert_int_equal(decode_rc(*state, b, sizeof(b)), -1);
}

static void
test_dec_err_eq_one_string(void **state)
{
	static const unsigned char b[] = { 0xa3, 0x04, 0x04, 0x02, 'c', 'n' };
	assert_int_equal(decode_rc(*state, b, sizeof(b)), -1);
}

static void
test_dec_err_sub_no_parts(void **state)
{
	static const unsigned char b[] = { 0xa4, 0x06, 0x04, 0x02, 'c', 'n', 0x30, 0x00 };
	assert_int_equal(decode_rc(*state, b, sizeof(b)), -1);
}

static void
test_dec_err_sub_initial_after_any(void **state)
{
	static const unsigned char b[] = { 0xa4, 0x0c, 0x04, 0x02, 'c', 'n', 0x30, 0x06, 0x81, 0x01, 'a', 0x80, 0x01,
		'b' };
	assert_int_equal(decode_rc(*state, b, sizeof(b)), -1);
}

static void
test_dec_err_sub_any_after_final(void **state)
{
	static const unsigned char b[] = { 0xa4, 0x0c, 0x04, 0x02, 'c', 'n', 0x30, 0x06, 0x82, 0x01, 'a', 0x81, 0x01,
		'b' };
	assert_int_equal(decode_rc(*state, b, sizeof(b)), -1);
}

static void
test_dec_err_sub_bad_tag(void **state)
{
	static const unsigned char b[] = { 0xa4, 0x09, 0x04, 0x02, 'c', 'n', 0x30, 0x03, 0x83, 0x01, 'a' };
	assert_int_equal(decode_rc(*state, b, sizeof(b)), -1);
}

static void
test_dec_err_ext_no_value(void **state)
{
	static const unsigned char b[] = { 0xa9, 0x04, 0x82, 0x02, 'c', 'n' };
	assert_int_equal(decode_rc(*state, b, sizeof(b)), -1);
}

static void
test_dec_err_ext_no_type_no_rule(void **state)
{
	static const unsigned char b[] = { 0xa9, 0x03, 0x83, 0x01, 'x' };
	assert_int_equal(decode_rc(*state, b, sizeof(b)), -1);
}

static void
test_dec_err_not_empty(void **state)
{
	static const unsigned char b[] = { 0xa2, 0x00 };
	assert_int_equal(decode_rc(*state, b, sizeof(b)), -1);
}

static void
test_dec_err_bad_child(void **state)
{
	/* (&(cn=a)<garbage>) */
	static const unsigned char b[] = { 0xa0, 0x0c, 0xa3, 0x07, 0x04, 0x02, 'c', 'n', 0x04, 0x01, 'a', 0x05, 0x01,
		0x00 };
	assert_int_equal(decode_rc(*state, b, sizeof(b)), -1);
}

/*
 * Regression test (fixed): filter_decode() does not check that a
 * constructed element's contents were consumed exactly.  A NOT holding
 * two filters decodes as NOT of the first with the second promoted to a
 * sibling, "(&(!))" swallows the next sibling, and extra elements inside
 * an equalityMatch become siblings too.  All three must be refused.
 */
static void
test_dec_err_element_boundaries(void **state)
{
	struct env *e = *state;
	/* (& (! (cn=a) (sn=b)) ) */
	static const unsigned char not2[] = { 0xa0, 0x14, 0xa2, 0x12, 0xa3, 0x07, 0x04, 0x02, 'c', 'n', 0x04, 0x01, 'a',
		0xa3, 0x07, 0x04, 0x02, 's', 'n', 0x04, 0x01, 'b' };
	/* (& (!) (cn=a) ) */
	static const unsigned char not0[] = { 0xa0, 0x0b, 0xa2, 0x00, 0xa3, 0x07, 0x04, 0x02, 'c', 'n', 0x04, 0x01, 'a' };
	/* (& equalityMatch{cn, a, present x}) */
	static const unsigned char eq3[] = { 0xa0, 0x0c, 0xa3, 0x0a, 0x04, 0x02, 'c', 'n', 0x04, 0x01, 'a', 0x87, 0x01,
		'x' };
	int r1 = decode_rc(e, not2, sizeof(not2));
	int r2 = decode_rc(e, not0, sizeof(not0));
	int r3 = decode_rc(e, eq3, sizeof(eq3));
	if (r1 != -1 || r2 != -1 || r3 != -1)
		fail_msg("malformed filters decoded: not-with-two-children %d, empty-not %d, eq-with-three-parts %d", r1,
		    r2, r3);
}

/*
 * Regression test (fixed; found by tests/fuzz/fuzz_request): the SEQUENCE
 * of substrings was not checked against its own length, so one shorter
 * than its contents, with the last substring reaching to the end of the
 * filter, decoded — and was forwarded as received to the directory.
 * A substrings element that is not a SEQUENCE decoded as well.
 */
static void
test_dec_err_sub_sequence_length(void **state)
{
	/* (cn=al*i*ce) with the SEQUENCE saying 10 bytes for 11 */
	static const unsigned char shortseq[] = { 0xa4, 0x11, 0x04, 0x02, 'c', 'n', 0x30, 0x0a, 0x80, 0x02, 'a', 'l',
		0x81, 0x01, 'i', 0x82, 0x02, 'c', 'e' };
	/* the same, correct */
	static const unsigned char good[] = { 0xa4, 0x11, 0x04, 0x02, 'c', 'n', 0x30, 0x0b, 0x80, 0x02, 'a', 'l', 0x81,
		0x01, 'i', 0x82, 0x02, 'c', 'e' };
	/* a SET where the SEQUENCE belongs */
	static const unsigned char set[] = { 0xa4, 0x11, 0x04, 0x02, 'c', 'n', 0x31, 0x0b, 0x80, 0x02, 'a', 'l', 0x81,
		0x01, 'i', 0x82, 0x02, 'c', 'e' };
	int r1 = decode_rc(*state, shortseq, sizeof(shortseq));
	int r2 = decode_rc(*state, good, sizeof(good));
	int r3 = decode_rc(*state, set, sizeof(set));
	if (r1 != -1 || r2 != 0 || r3 != -1)
		fail_msg("substrings: short SEQUENCE %d (want -1), well-formed %d (want 0), SET %d (want -1)", r1, r2, r3);
}

/*
 * Regression test (fixed; found by tests/fuzz/fuzz_request): the attribute
 * and value of an equality (>=, <=, ~=) match and the attribute of a
 * substring match were read whatever their tag, and an initial substring
 * was accepted after the final one: such filters decoded and were
 * forwarded as received.
 */
static void
test_dec_err_inner_tags(void **state)
{
	static const unsigned char eq_value[] = { 0xa3, 0x07, 0x04, 0x02, 'c', 'n', 0x65, 0x01, 'a' };
	static const unsigned char eq_attr[] = { 0xa3, 0x07, 0xbb, 0x02, 'c', 'n', 0x04, 0x01, 'a' };
	static const unsigned char sub_attr[] = { 0xa4, 0x09, 0x80, 0x02, 'c', 'n', 0x30, 0x03, 0x80, 0x01, 'a' };
	static const unsigned char final_initial[] = { 0xa4, 0x0d, 0x04, 0x02, 'c', 'n', 0x30, 0x07, 0x82, 0x02, 'c', 'e',
		0x80, 0x01, 'a' };
	static const unsigned char initial_final[] = { 0xa4, 0x0d, 0x04, 0x02, 'c', 'n', 0x30, 0x07, 0x80, 0x01, 'a',
		0x82, 0x02, 'c', 'e' };
	int r1 = decode_rc(*state, eq_value, sizeof(eq_value));
	int r2 = decode_rc(*state, eq_attr, sizeof(eq_attr));
	int r3 = decode_rc(*state, sub_attr, sizeof(sub_attr));
	int r4 = decode_rc(*state, final_initial, sizeof(final_initial));
	int r5 = decode_rc(*state, initial_final, sizeof(initial_final));
	if (r1 != -1 || r2 != -1 || r3 != -1 || r4 != -1 || r5 != 0)
		fail_msg("value tag 0x65 %d, attribute tag 0xbb %d, substring attribute [0] %d, final before initial %d "
		    "(all -1), initial before final %d (0)", r1, r2, r3, r4, r5);
}

/*
 * Regression test (fixed; found by tests/fuzz/fuzz_filter): "(cn=**)"
 * parsed into a substring filter without any substring, which
 * filter_encode() wrote as an empty SEQUENCE that filter_decode() (and
 * RFC 4511: SIZE (1..MAX)) refuses.  It now holds one empty "any", as
 * libldap sends it.
 */
static void
test_rt_sub_only_stars(void **state)
{
	rt(*state, "(cn=**)", "(cn=**)");
	rt(*state, "(cn=***)", "(cn=**)");
}

/* Regression test (fixed): (=*) / (=x) with an empty attribute decode. */
static void
test_dec_err_empty_attr(void **state)
{
	static const unsigned char pres[] = { 0x87, 0x00 };
	static const unsigned char eq[] = { 0xa3, 0x05, 0x04, 0x00, 0x04, 0x01, 'x' };
	int r1 = decode_rc(*state, pres, sizeof(pres));
	int r2 = decode_rc(*state, eq, sizeof(eq));
	if (r1 != -1 || r2 != -1)
		fail_msg("empty attribute descriptions decoded: present %d, equalityMatch %d", r1, r2);
}

/* A chain of k NOTs around (cn=a), built with the constructors. */
static struct fnode *
not_chain(struct env *e, size_t k)
{
	struct fnode *f = fnode_eq(&e->a, "cn", "a", 1);
	for (size_t i = 0; i < k; i++)
		f = fnode_not(&e->a, f);
	assert_non_null(f);
	return f;
}

static void
test_dec_depth_ok(void **state)
{
	struct env *e = *state;
	size_t n = encode_ok(e, not_chain(e, 63));      /* 64 levels, as filter_parse allows */
	struct fnode *f = decode_ok(e, e->ber, n);
	for (int i = 0; i < 63; i++) {
		assert_int_equal(f->kind, F_NOT);
		f = f->child;
	}
	assert_int_equal(f->kind, F_EQ);
}

static void
test_dec_err_too_deep(void **state)
{
	struct env *e = *state;
	size_t n = encode_ok(e, not_chain(e, 70));
	assert_int_equal(decode_rc(e, e->ber, n), -1);
}

static void
test_dec_err_far_too_deep(void **state)
{
	struct env *e = *state;
	size_t n = encode_ok(e, not_chain(e, 3000));
	assert_int_equal(decode_rc(e, e->ber, n), -1);
}

static struct fnode *
wide_tree(struct env *e, size_t n)
{
	struct fnode *first = NULL;
	for (size_t i = 0; i < n; i++) {
		struct fnode *c = fnode_eq(&e->a, "cn", "a", 1);
		assert_non_null(c);
		c->next = first;
		first = c;
	}
	return fnode_list(&e->a, F_OR, first);
}

static void
test_dec_max_nodes_ok(void **state)
{
	struct env *e = *state;
	size_t n = encode_ok(e, wide_tree(e, FILTER_MAX_NODES - 1));
	decode_ok(e, e->ber, n);
}

static void
test_dec_err_too_many_nodes(void **state)
{
	struct env *e = *state;
	size_t n = encode_ok(e, wide_tree(e, FILTER_MAX_NODES));
	assert_int_equal(decode_rc(e, e->ber, n), -1);
}

/* ------------------------------------------------------------------ */
/* arena exhaustion                                                     */

static const char BIG[] =
    "(&(objectClass=person)(|(uid=al*ce)(mail=*@example.com)(cn:dn:2.5.13.5:=Alice))"
    "(!(nsAccountLock=TRUE))(uidNumber>=1000)(cn~=alise)(description=a\\2ab\\00c))";

static void
test_arena_tiny_parse(void **state)
{
	(void)state;
	struct arena a;
	assert_int_equal(arena_init(&a, 64), 0);
	struct fnode *f = (struct fnode *)0x1;
	const char *err = NULL;
	assert_int_equal(filter_parse(&a, BIG, &f, &err), -1);
	assert_null(f);
	assert_non_null(err);
	arena_free(&a);
}

static void
test_arena_every_size_parse(void **state)
{
	struct env *e = *state;
	const char *expect = print_ok(e, parse_ok(e, BIG));
	char want[512];
	snprintf(want, sizeof(want), "%s", expect);
	int ok = 0;
	for (size_t cap = 0; cap < 8192 && !ok; cap += 8) {
		struct arena a;
		assert_int_equal(arena_init(&a, cap), 0);
		struct fnode *f = NULL;
		const char *err = NULL;
		if (filter_parse(&a, BIG, &f, &err) == 0) {
			assert_string_equal(print_ok(e, f), want);
			ok = 1;
		} else {
			assert_null(f);
			assert_non_null(err);
		}
		arena_free(&a);
	}
	assert_true(ok);
}

static void
test_arena_tiny_decode(void **state)
{
	struct env *e = *state;
	size_t n = encode_ok(e, parse_ok(e, BIG));
	struct arena a;
	assert_int_equal(arena_init(&a, 64), 0);
	struct berval bv = { n, (char *)e->ber };
	struct fnode *f = (struct fnode *)0x1;
	assert_int_equal(filter_decode(&a, &bv, &f), -1);
	assert_null(f);
	arena_free(&a);
}

static void
test_arena_every_size_decode(void **state)
{
	struct env *e = *state;
	char want[512];
	snprintf(want, sizeof(want), "%s", print_ok(e, parse_ok(e, BIG)));
	size_t n = encode_ok(e, parse_ok(e, BIG));
	int ok = 0;
	for (size_t cap = 0; cap < 8192 && !ok; cap += 8) {
		struct arena a;
		assert_int_equal(arena_init(&a, cap), 0);
		struct berval bv = { n, (char *)e->ber };
		struct fnode *f = NULL;
		if (filter_decode(&a, &bv, &f) == 0) {
			assert_string_equal(print_ok(e, f), want);
			ok = 1;
		} else {
			assert_null(f);
		}
		arena_free(&a);
	}
	assert_true(ok);
}

static void
test_arena_constructors_exhausted(void **state)
{
	(void)state;
	struct arena a;
	assert_int_equal(arena_init(&a, 16), 0);
	assert_null(fnode_new(&a, F_AND));
	assert_null(fnode_eq(&a, "cn", "a", 1));
	assert_null(fnode_present(&a, "cn"));
	assert_null(fnode_list(&a, F_OR, NULL));
	arena_free(&a);
}

int
main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_rt_eq),
		T(test_rt_and),
		T(test_rt_or),
		T(test_rt_not),
		T(test_rt_nested),
		T(test_rt_sub_initial),
		T(test_rt_sub_final),
		T(test_rt_sub_any),
		T(test_rt_sub_all_parts),
		T(test_rt_ge_le),
		T(test_rt_present),
		T(test_rt_approx),
		T(test_rt_ext_attr_only),
		T(test_rt_ext_attr_rule),
		T(test_rt_ext_dn),
		T(test_rt_ext_rule_only),
		T(test_rt_absolute_true),
		T(test_rt_absolute_false),
		T(test_bare_item),
		T(test_spaces_between_filters),
		T(test_escape_star),
		T(test_escape_parens),
		T(test_escape_backslash),
		T(test_escape_nul),
		T(test_escape_non_ascii),
		T(test_escape_in_substrings),
		T(test_escape_in_ext_value),
		T(test_print_constructed_value),
		T(test_constructors),
		T(test_attr_eq),
		T(test_ber_round_trip_many),
		T(test_ber_long_value),
		T(test_ber_exact_eq),
		T(test_ber_exact_present),
		T(test_ber_exact_not_and),
		T(test_ber_exact_ext),
		T(test_ber_exact_sub),
		T(test_ber_scanf_structure),
		T(test_ber_true_encodes_presence),
		T(test_ber_false_encodes_not_presence),
		T(test_ber_absolute_inside),
		T(test_ber_decode_rfc4526),
		T(test_ber_encode_cap),
		T(test_print_cap),
		T(test_err_unbalanced_open),
		T(test_err_unbalanced_and),
		T(test_err_paren_in_value),
		T(test_err_close_in_value),
		T(test_err_missing_eq),
		T(test_err_missing_attr),
		T(test_err_empty_parens),
		T(test_err_empty_string),
		T(test_err_not_two_children),
		T(test_err_not_no_child),
		T(test_err_bad_escape),
		T(test_err_bad_escape_one_hex),
		T(test_err_truncated_escape),
		T(test_err_bad_escape_in_substring),
		T(test_err_text_after_end),
		T(test_err_two_filters),
		T(test_err_extra_close),
		T(test_err_ext_without_attr_or_rule),
		T(test_err_ext_dn_only),
		T(test_err_garbage_in_and),
		T(test_depth_64_ok),
		T(test_err_too_deep),
		T(test_err_far_too_deep),
		T(test_max_nodes_ok),
		T(test_err_too_many_nodes),
		T(test_err_too_many_stars),
		T(test_err_empty_attr_with_operator),
		T(test_dec_err_empty),
		T(test_dec_err_garbage),
		T(test_dec_err_unknown_choice),
		T(test_dec_err_truncated_eq),
		T(test_dec_err_truncated_nested),
		T(test_dec_err_length_too_long),
		T(test_dec_err_eq_one_string),
		T(test_dec_err_sub_no_parts),
		T(test_dec_err_sub_initial_after_any),
		T(test_dec_err_sub_any_after_final),
		T(test_dec_err_sub_bad_tag),
		T(test_dec_err_ext_no_value),
		T(test_dec_err_ext_no_type_no_rule),
		T(test_dec_err_not_empty),
		T(test_dec_err_bad_child),
		T(test_dec_err_element_boundaries),
		T(test_dec_err_sub_sequence_length),
		T(test_dec_err_inner_tags),
		T(test_rt_sub_only_stars),
		T(test_dec_err_empty_attr),
		T(test_dec_depth_ok),
		T(test_dec_err_too_deep),
		T(test_dec_err_far_too_deep),
		T(test_dec_max_nodes_ok),
		T(test_dec_err_too_many_nodes),
		T(test_arena_tiny_parse),
		T(test_arena_every_size_parse),
		T(test_arena_tiny_decode),
		T(test_arena_every_size_decode),
		T(test_arena_constructors_exhausted),
	};
#undef T
	return cmocka_run_group_tests_name("filter", tests, NULL, NULL);
}
