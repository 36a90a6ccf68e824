/*
 * test_policy.c — unit tests for policy.c: attribute descriptions, secrets
 * under every name, filters, controls per operation, response controls,
 * the schema behind names, and the visibility rule.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <ldap.h>

#include "dn.h"
#include "filter.h"
#include "pdu.h"
#include "policy.h"
#include "profile.h"

static int
valid(const char *s)
{
	return policy_attrdesc_valid(s, strlen(s), NULL);
}

static void
test_attrdesc(void **state)
{
	(void)state;
	static const char *const good[] = { "cn", "userPassword", "cn;lang-ru", "userCertificate;binary", "a-b-1",
		"2.5.4.3", "1.1", "2.5.4.3;x-y", "ipaNTHash", NULL };
	static const char *const bad[] = { "", "userPassword ", " userPassword", "userPassword x", "userPassword\t",
		"1cn", "-cn", "cn;", "cn;;x", "cn;a b", "2.5..4", "2.05.4", "2", "2.", ".2.5", "cn=x", "c_n", "\xc3\xa9",
		"cn\n", NULL };
	for (const char *const *g = good; *g; g++)
		if (!valid(*g))
			fail_msg("'%s' should be a valid attribute description", *g);
	for (const char *const *b = bad; *b; b++)
		if (valid(*b))
			fail_msg("'%s' should be refused", *b);
	char longname[POLICY_ATTR_MAX + 2];
	memset(longname, 'a', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	assert_false(valid(longname));
	size_t tl = 0;
	assert_true(policy_attrdesc_valid("cn;lang-ru", 10, &tl));
	assert_int_equal(tl, 2);
}

static void
test_secrets(void **state)
{
	(void)state;
	static const char *const s[] = { "userPassword", "USERPASSWORD;binary", "2.5.4.35", "pwdHistory", "passwordHistory",
		"ipaNTHash", "krbPrincipalKey", "sambaPasswordHistory", "nsSymmetricKey", "ipaNTTrustAuthOutgoing",
		"userPassword x", NULL };
	for (const char *const *n = s; *n; n++)
		if (!policy_attr_secret(*n, strlen(*n)))
			fail_msg("%s should be secret", *n);
	assert_false(policy_attr_secret("uid", 3));
	assert_false(policy_attr_secret("passwordExpirationTime", 22));
}

/* A profile by hand: allowlist or "*". */
static struct profile *
mkprofile(int all)
{
	static char *attrs[] = { "uid", "cn", "mail", "memberOf" };
	struct profile *p = calloc(1, sizeof(*p));
	p->name = "t";
	p->all_attributes = all;
	p->attributes = attrs;
	p->nattributes = 4;
	return p;
}

static int
filter_code(const struct profile *p, const char *s)
{
	struct arena a;
	assert_int_equal(arena_init(&a, 65536), 0);
	struct fnode *f;
	const char *err;
	char diag[300];
	if (filter_parse(&a, s, &f, &err) < 0)
		fail_msg("cannot parse %s: %s", s, err);
	int code = policy_filter_check(p, f, diag, sizeof(diag));
	arena_free(&a);
	return code;
}

static void
test_filters(void **state)
{
	(void)state;
	struct profile *allow = mkprofile(0), *star = mkprofile(1);
	assert_int_equal(filter_code(allow, "(&(uid=bob)(objectClass=person)(!(mail=*)))"), LDAP_SUCCESS);
	assert_int_equal(filter_code(allow, "(homeDirectory=/home/bob)"), LDAP_INSUFFICIENT_ACCESS);
	assert_int_equal(filter_code(star, "(homeDirectory=/home/bob)"), LDAP_SUCCESS);
	/* secrets under every name, on every profile */
	static const char *const secret[] = { "(userPassword=x)", "(userPassword;binary=x)", "(2.5.4.35=x)",
		"(pwdHistory=*)", "(ipaNTHash>=a)", "(|(uid=a)(userPassword=*x*))", NULL };
	for (const char *const *f = secret; *f; f++) {
		assert_int_equal(filter_code(allow, *f), LDAP_INSUFFICIENT_ACCESS);
		assert_int_equal(filter_code(star, *f), LDAP_INSUFFICIENT_ACCESS);
	}
	/* extensible match: a type the profile allows; never type-less; dnAttributes only with "*" */
	assert_int_equal(filter_code(star, "(:2.5.13.17:=guess)"), LDAP_INSUFFICIENT_ACCESS);
	assert_int_equal(filter_code(star, "(:caseExactIA5Match:=/home/bob)"), LDAP_INSUFFICIENT_ACCESS);
	assert_int_equal(filter_code(allow, "(uid:caseExactMatch:=bob)"), LDAP_SUCCESS);
	assert_int_equal(filter_code(allow, "(cn:dn:=x)"), LDAP_INSUFFICIENT_ACCESS);
	assert_int_equal(filter_code(star, "(cn:dn:=x)"), LDAP_SUCCESS);
	assert_int_equal(filter_code(star, "(userPassword:dn:2.5.13.17:=x)"), LDAP_INSUFFICIENT_ACCESS);
	/* the matching rule: a name or a numeric OID */
	assert_int_equal(filter_code(star, "(cn:caseExactMatch:=x)"), LDAP_SUCCESS);
	assert_int_equal(filter_code(star, "(member:1.2.840.113556.1.4.1941:=x)"), LDAP_SUCCESS);
	assert_int_equal(filter_code(star, "(cn:case exact:=x)"), LDAP_PROTOCOL_ERROR);
	assert_int_equal(filter_code(star, "(cn:2.5..13:=x)"), LDAP_PROTOCOL_ERROR);
	assert_int_equal(filter_code(star, "(cn:rule;x:=x)"), LDAP_PROTOCOL_ERROR);
	free(allow);
	free(star);
}

static void
test_filter_malformed_attr(void **state)
{
	(void)state;
	struct profile *star = mkprofile(1);
	char diag[300];
	struct arena a;
	assert_int_equal(arena_init(&a, 4096), 0);
	struct fnode *f = fnode_eq(&a, "userPassword x", "guess", 5);
	assert_non_null(f);
	assert_int_equal(policy_filter_check(star, f, diag, sizeof(diag)), LDAP_PROTOCOL_ERROR);
	assert_non_null(strstr(diag, "not an attribute description"));
	arena_free(&a);
	free(star);
}

static void
test_attrlist(void **state)
{
	(void)state;
	char diag[300];
	struct berval ok[] = { { 1, "*" }, { 1, "+" }, { 3, "1.1" }, { 2, "cn" }, { 10, "cn;lang-ru" }, { 0, "" } };
	struct berval bad[] = { { 2, "cn" }, { 13, "userPassword " } };
	assert_int_equal(policy_attrlist_check(ok, 6, diag, sizeof(diag)), LDAP_SUCCESS);
	assert_int_equal(policy_attrlist_check(bad, 2, diag, sizeof(diag)), LDAP_PROTOCOL_ERROR);
}

static struct req_control
ctl(const char *oid, int critical, const char *value)
{
	struct req_control c = { { strlen(oid), (char *)oid }, critical, { 0, NULL }, { 0, NULL } };
	if (value != NULL) {
		c.value.bv_val = (char *)value;
		c.value.bv_len = strlen(value);
	}
	return c;
}

static void
test_controls(void **state)
{
	(void)state;
	struct req_controls cs;
	char diag[300];
	memset(&cs, 0, sizeof(cs));
	/* search: paged is aldproxy's; everything else dropped, or refused when critical */
	cs.n = 3;
	cs.c[0] = ctl(OID_PAGED_RESULTS, 1, "x");
	cs.c[1] = ctl("1.3.6.1.4.1.4203.666.5.16", 0, "x");          /* dereference */
	cs.c[2] = ctl("2.16.840.1.113730.3.4.18", 0, "dn:x");         /* proxied authorization */
	assert_int_equal(policy_controls(PDU_SEARCH_REQ, &cs, cs.verdict, diag, sizeof(diag)), LDAP_SUCCESS);
	assert_int_equal(cs.verdict[0], PCTL_PAGED);
	assert_int_equal(cs.verdict[1], PCTL_DROP);
	assert_int_equal(cs.verdict[2], PCTL_DROP);
	static const char *const refused[] = { "1.3.6.1.1.12", "1.2.840.113556.1.4.473", "2.16.840.1.113730.3.4.9",
		"2.16.840.1.113730.3.4.2", "1.3.6.1.1.13.2", "1.2.3.4", OID_PPOLICY, NULL };
	for (const char *const *o = refused; *o; o++) {
		cs.n = 1;
		cs.c[0] = ctl(*o, 1, NULL);
		if (policy_controls(PDU_SEARCH_REQ, &cs, cs.verdict, diag, sizeof(diag)) != LDAP_UNAVAILABLE_CRITICAL_EXTENSION)
			fail_msg("critical %s on a search should be refused", *o);
	}
	/* AD's domain scope is honoured by dropping it, even critical */
	cs.n = 1;
	cs.c[0] = ctl(OID_AD_DOMAIN_SCOPE, 1, NULL);
	assert_int_equal(policy_controls(PDU_SEARCH_REQ, &cs, cs.verdict, diag, sizeof(diag)), LDAP_SUCCESS);
	assert_int_equal(cs.verdict[0], PCTL_DROP);
	/* bind and modify: password policy, without a value */
	cs.c[0] = ctl(OID_PPOLICY, 1, NULL);
	assert_int_equal(policy_controls(PDU_BIND_REQ, &cs, cs.verdict, diag, sizeof(diag)), LDAP_SUCCESS);
	assert_int_equal(cs.verdict[0], PCTL_FORWARD);
	assert_int_equal(policy_controls(PDU_MODIFY_REQ, &cs, cs.verdict, diag, sizeof(diag)), LDAP_SUCCESS);
	cs.c[0] = ctl(OID_PPOLICY, 0, "junk");
	assert_int_equal(policy_controls(PDU_BIND_REQ, &cs, cs.verdict, diag, sizeof(diag)), LDAP_PROTOCOL_ERROR);
	/* compare: nothing */
	cs.c[0] = ctl(OID_PPOLICY, 1, NULL);
	assert_int_equal(policy_controls(PDU_COMPARE_REQ, &cs, cs.verdict, diag, sizeof(diag)),
	    LDAP_UNAVAILABLE_CRITICAL_EXTENSION);
	/* the same control twice */
	cs.n = 2;
	cs.c[0] = ctl(OID_PAGED_RESULTS, 0, "x");
	cs.c[1] = ctl(OID_PAGED_RESULTS, 0, "y");
	assert_int_equal(policy_controls(PDU_SEARCH_REQ, &cs, cs.verdict, diag, sizeof(diag)), LDAP_PROTOCOL_ERROR);
}

static void
test_response_controls(void **state)
{
	(void)state;
	assert_true(policy_response_control(PDU_BIND_REQ, PDU_BIND_RES, OID_PPOLICY, strlen(OID_PPOLICY)));
	assert_true(policy_response_control(PDU_BIND_REQ, PDU_BIND_RES, OID_NS_PW_EXPIRING, strlen(OID_NS_PW_EXPIRING)));
	assert_true(policy_response_control(PDU_MODIFY_REQ, PDU_MODIFY_RES, OID_PPOLICY, strlen(OID_PPOLICY)));
	assert_false(policy_response_control(PDU_SEARCH_REQ, PDU_SEARCH_ENTRY, "1.3.6.1.4.1.4203.666.5.16", 25));
	assert_false(policy_response_control(PDU_SEARCH_REQ, PDU_SEARCH_DONE, "1.2.840.113556.1.4.474", 22));
	assert_false(policy_response_control(PDU_MODIFY_REQ, PDU_MODIFY_RES, "1.3.6.1.1.13.2", 14));
}

static void
test_schema(void **state)
{
	(void)state;
	static const char *const defs[] = {
		"( 2.5.4.35 NAME 'userPassword' EQUALITY octetStringMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.40 )",
		"( 2.16.840.1.113730.3.1.96 NAME ( 'passwordHistory' 'pwdHistory' ) SYNTAX 1.3.6.1.4.1.1466.115.121.1.5 )",
		"( 2.5.4.41 NAME 'name' SYNTAX 1.3.6.1.4.1.1466.115.121.1.15 )",
		"( 2.5.4.3 NAME ( 'cn' 'commonName' ) SUP name )",
		"( 1.2.3.4.5 NAME 'vendorSecretAlias' DESC 'a subtype of a secret' SUP userPassword )",
		"( 1.2.3.4.6 NAME 'credentialBase' DESC 'a supertype of a secret' )",
		"( 2.16.840.1.113730.3.8.11.1 NAME 'ipaNTHash' SUP credentialBase )",
		"( 0.9.2342.19200300.100.1.3 NAME ( 'mail' 'rfc822Mailbox' ) )",
		"( 1.3.6.1.1.1.1.0 NAME 'uidNumber' EQUALITY integerMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.27 )",
		"( 2.5.4.31 NAME 'member' SUP distinguishedName )",
		"( 2.5.4.49 NAME 'distinguishedName' EQUALITY distinguishedNameMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.12 )",
		"( 2.5.4.0 NAME 'objectClass' EQUALITY objectIdentifierMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.38 )",
		"( 2.5.18.1 NAME 'createTimestamp' ORDERING generalizedTimeOrderingMatch "
		"SYNTAX 1.3.6.1.4.1.1466.115.121.1.24 USAGE directoryOperation )",
		"this is not a definition",
	};
	struct berval v[sizeof(defs) / sizeof(defs[0])];
	for (size_t i = 0; i < sizeof(defs) / sizeof(defs[0]); i++) {
		v[i].bv_val = (char *)defs[i];
		v[i].bv_len = strlen(defs[i]);
	}
	size_t skipped;
	struct policy_schema *sc = policy_schema_parse(v, sizeof(defs) / sizeof(defs[0]), &skipped);
	assert_non_null(sc);
	assert_int_equal(skipped, 1);
	assert_int_equal(policy_schema_types(sc), 13);
	assert_null(policy_schema_set(sc));
	assert_string_equal(policy_attr_canonical("commonName", 10), "cn");
	assert_string_equal(policy_attr_canonical("2.5.4.3", 7), "cn");
	assert_string_equal(policy_attr_canonical("PWDHISTORY", 10), "passwordhistory");
	assert_true(policy_attr_secret("vendorSecretAlias", 17));
	assert_false(policy_attr_secret("cn", 2));
	assert_false(policy_attr_secret("name", 4));
	/* ordering: by syntax, except DN and OID values without an ORDERING rule (389-ds crashes) */
	assert_true(policy_attr_orderable("uidNumber", 9));
	assert_true(policy_attr_orderable("createTimestamp", 15));
	assert_false(policy_attr_orderable("member", 6));         /* DN syntax, inherited */
	assert_false(policy_attr_orderable("objectClass", 11));
	assert_true(policy_attr_operational("createTimestamp", 15));
	assert_false(policy_attr_operational("uidNumber", 9));
	/* a filter on a supertype tests the secret under it */
	assert_true(policy_attr_secret("credentialBase", 14));
	/* an allowlist naming mail lets its alias through, and nothing else */
	struct profile *p = mkprofile(0);
	assert_true(policy_attr_allowed(p, "rfc822Mailbox", 13));
	assert_true(policy_attr_allowed(p, "commonName", 10));
	assert_false(policy_attr_allowed(p, "name", 4));
	assert_false(policy_attr_allowed(p, "2.5.4.3", 7));
	free(p);
	policy_schema_free(policy_schema_set(NULL));
}

/*
 * Regression test (fixed; found by tests/fuzz/fuzz_policy): an
 * attributeTypes value whose NAME list is never closed made
 * policy_schema_parse() read through a NULL pointer — aldproxyd crashed
 * reading the directory's schema.  Such a value is now skipped.
 */
static void
test_schema_unclosed_name(void **state)
{
	(void)state;
	static const char *const defs[] = {
		"( 1.2.3.4.7 NAME ( 'a' 'b'",
		"( 1.2.3.4.8 NAME (",
		"( 2.5.4.3 NAME ( 'cn' 'commonName' ) )",
	};
	struct berval v[3];
	for (size_t i = 0; i < 3; i++) {
		v[i].bv_val = (char *)defs[i];
		v[i].bv_len = strlen(defs[i]);
	}
	size_t skipped;
	struct policy_schema *sc = policy_schema_parse(v, 3, &skipped);
	assert_non_null(sc);
	assert_int_equal(skipped, 2);
	assert_int_equal(policy_schema_types(sc), 1);
	policy_schema_free(sc);
}

static void
test_visibility(void **state)
{
	(void)state;
	static char *groups[] = { "cn=zabbix-users,cn=groups,cn=accounts,dc=ald,dc=example" };
	static char *bases[] = { "cn=users,cn=accounts,dc=ald,dc=example" };
	struct profile *p = mkprofile(0);
	p->visible_groups = groups;
	p->nvisible_groups = 1;
	p->real_user_bases = bases;
	p->nreal_user_bases = 1;
	p->groups_base_norm = "cn=groups,cn=accounts,dc=ald,dc=example";
	p->groups_base_len = strlen(p->groups_base_norm);
#define VIS(dn) policy_visibility(p, dn, strlen(dn))
	assert_int_equal(VIS("dc=ald,dc=example"), VIS_CONTAINER);
	assert_int_equal(VIS("cn=accounts,dc=ald,dc=example"), VIS_CONTAINER);
	assert_int_equal(VIS("cn=users,cn=accounts,dc=ald,dc=example"), VIS_CONTAINER);
	assert_int_equal(VIS("uid=bob,cn=users,cn=accounts,dc=ald,dc=example"), VIS_USER);
	assert_int_equal(VIS("cn=admins,cn=groups,cn=accounts,dc=ald,dc=example"), VIS_GROUP);
	assert_int_equal(VIS("uid=bob,cn=users,cn=compat,dc=ald,dc=example"), VIS_NONE);
	assert_int_equal(VIS("cn=compat,dc=ald,dc=example"), VIS_NONE);
	assert_int_equal(VIS("uid=zabbix,cn=sysaccounts,cn=etc,dc=ald,dc=example"), VIS_NONE);
#undef VIS
	struct berval m[] = { { 38, "cn=admins,cn=groups,cn=accounts,dc=ald" },
		{ 55, "CN=Zabbix-Users,cn=groups,cn=accounts,dc=ald,dc=example" } };
	assert_false(policy_member_visible(p, m, 1));
	assert_true(policy_member_visible(p, m, 2));
	p->nvisible_groups = 0;
	assert_int_equal(policy_visibility(p, "cn=compat,dc=ald,dc=example", 27), VIS_CONTAINER);
	free(p);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_attrdesc),
		cmocka_unit_test(test_secrets),
		cmocka_unit_test(test_filters),
		cmocka_unit_test(test_filter_malformed_attr),
		cmocka_unit_test(test_attrlist),
		cmocka_unit_test(test_controls),
		cmocka_unit_test(test_response_controls),
		cmocka_unit_test(test_schema),
		cmocka_unit_test(test_schema_unclosed_name),
		cmocka_unit_test(test_visibility),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
