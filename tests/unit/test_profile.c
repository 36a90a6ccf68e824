/*
 * test_profile.c — unit tests for profile loading and the profile policy.
 *
 * Each test gets its own temporary profiles directory.  Error tests
 * check the message prefix "DIR/FILE:LINE: key 'KEY': ".
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "dn.h"
#include "profile.h"
#include "policy.h"

struct env {
	char dir[64];
	char err[1024];
	struct profile_set *set;
};

static int
setup(void **state)
{
	struct env *e = calloc(1, sizeof(*e));
	if (e == NULL)
		return -1;
	snprintf(e->dir, sizeof(e->dir), "/tmp/aldprof.XXXXXX");
	if (mkdtemp(e->dir) == NULL)
		return -1;
	*state = e;
	return 0;
}

static void
rm_rf(const char *path)
{
	DIR *d = opendir(path);
	if (d == NULL) {
		unlink(path);
		return;
	}
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		char p[512];
		snprintf(p, sizeof(p), "%s/%s", path, de->d_name);
		rm_rf(p);
	}
	closedir(d);
	rmdir(path);
}

static int
teardown(void **state)
{
	struct env *e = *state;
	profile_set_free(e->set);
	rm_rf(e->dir);
	free(e);
	return 0;
}

static void
write_profile(struct env *e, const char *name, const char *yaml)
{
	char path[256];
	snprintf(path, sizeof(path), "%s/%s", e->dir, name);
	FILE *fp = fopen(path, "w");
	assert_non_null(fp);
	assert_int_equal(fputs(yaml, fp) >= 0, 1);
	fclose(fp);
}

static void
load_ok(struct env *e)
{
	e->err[0] = '\0';
	if (profile_set_load(e->dir, NULL, &e->set, e->err, sizeof(e->err)) != 0)
		fail_msg("profile_set_load failed: %s", e->err);
	assert_non_null(e->set);
}

static void
load_fails(struct env *e, const char *file, int line, const char *key, const char *what)
{
	struct profile_set *set = (struct profile_set *)0x1;
	e->err[0] = '\0';
	assert_int_equal(profile_set_load(e->dir, NULL, &set, e->err, sizeof(e->err)), -1);
	assert_ptr_equal(set, (struct profile_set *)0x1);
	char prefix[512];
	if (key != NULL)
		snprintf(prefix, sizeof(prefix), "%s/%s:%d: key '%s': ", e->dir, file, line, key);
	else
		snprintf(prefix, sizeof(prefix), "%s/%s:%d:", e->dir, file, line);
	if (strncmp(e->err, prefix, strlen(prefix)) != 0)
		fail_msg("error \"%s\" does not start with \"%s\"", e->err, prefix);
	if (what != NULL && strstr(e->err, what) == NULL)
		fail_msg("error \"%s\" does not mention \"%s\"", e->err, what);
}

/* File names sort opposite to profile names, so sorting is by name. */
static const char MAIL[] =
    "name: mail\n"
    "description: Dovecot and Postfix\n"
    "service_accounts:\n"
    "  - uid=Dovecot, cn=SysAccounts, cn=etc, DC=ALD, DC=Test\n"
    "  - uid=postfix,cn=sysaccounts,cn=etc,dc=ald,dc=test\n"
    "user_bases:\n"
    "  - CN=Users ,cn=Accounts,dc=ald,dc=test\n"
    "search_base: cn=Accounts, dc=ALD,dc=test\n"
    "attributes: [uid, cn, mail, memberOf]\n";

static const char CRM[] =
    "name: crm\n"
    "service_accounts: uid=crm,cn=sysaccounts,cn=etc,dc=ald,dc=test\n"
    "user_bases:\n"
    "  - cn=users,cn=accounts,dc=ald,dc=test\n"
    "  - ou=Partners,dc=ald,dc=test\n"
    "search_base: dc=ald,dc=test\n"
    "attributes: \"*\"\n";

static void
load_two(struct env *e)
{
	write_profile(e, "10-mail.yaml", MAIL);
	write_profile(e, "20-crm.yml", CRM);
	/* not profiles: ignored even though they would not parse */
	write_profile(e, ".hidden.yaml", "name: [\n");
	write_profile(e, "README", "not yaml: [\n");
	write_profile(e, "old.yaml.bak", "name: [\n");
	load_ok(e);
}

#define SVC_DOVECOT "uid=dovecot,cn=sysaccounts,cn=etc,dc=ald,dc=test"
#define SVC_POSTFIX "uid=postfix,cn=sysaccounts,cn=etc,dc=ald,dc=test"
#define SVC_CRM "uid=crm,cn=sysaccounts,cn=etc,dc=ald,dc=test"
#define USERS "cn=users,cn=accounts,dc=ald,dc=test"
#define ALICE "uid=alice,cn=users,cn=accounts,dc=ald,dc=test"
#define PARTNER "uid=bob,ou=partners,dc=ald,dc=test"

static const struct profile *
pick(const struct env *e, const struct profile *fixed, const struct profile *current, const char *ndn,
    enum bind_role *role)
{
	*role = (enum bind_role)77;     /* must always be written */
	const struct service_account *sa;
	return profile_for_bind(e->set, fixed, current, ndn, strlen(ndn), role, &sa);
}

/* ------------------------------------------------------------------ */
/* loading                                                             */

static void
test_load_sorted_by_name(void **state)
{
	struct env *e = *state;
	load_two(e);
	assert_int_equal(e->set->n, 2);
	assert_string_equal(e->set->v[0]->name, "crm");
	assert_string_equal(e->set->v[1]->name, "mail");
	char f[256];
	snprintf(f, sizeof(f), "%s/20-crm.yml", e->dir);
	assert_string_equal(e->set->v[0]->file, f);
	snprintf(f, sizeof(f), "%s/10-mail.yaml", e->dir);
	assert_string_equal(e->set->v[1]->file, f);
}

static void
test_load_fields(void **state)
{
	struct env *e = *state;
	load_two(e);
	const struct profile *m = profile_find(e->set, "mail");
	assert_non_null(m);
	assert_string_equal(m->description, "Dovecot and Postfix");
	assert_int_equal(m->nservice, 2);
	assert_string_equal(m->service[0].ndn, SVC_DOVECOT);
	assert_string_equal(m->service[1].ndn, SVC_POSTFIX);
	assert_int_equal(m->nuser_bases, 1);
	assert_string_equal(m->user_bases[0], USERS);
	assert_string_equal(m->search_base, "cn=Accounts, dc=ALD,dc=test");
	assert_string_equal(m->search_base_norm, "cn=accounts,dc=ald,dc=test");
	assert_int_equal(m->search_base_len, strlen("cn=accounts,dc=ald,dc=test"));
	assert_int_equal(m->nattributes, 4);
	assert_int_equal(m->all_attributes, 0);

	const struct profile *c = profile_find(e->set, "crm");
	assert_non_null(c);
	/* a single scalar is a one-item list */
	assert_int_equal(c->nservice, 1);
	assert_string_equal(c->service[0].ndn, SVC_CRM);
	assert_int_equal(c->nuser_bases, 2);
	assert_string_equal(c->user_bases[1], "ou=partners,dc=ald,dc=test");
	assert_int_equal(c->all_attributes, 1);
	assert_int_equal(c->search_base_len, strlen("dc=ald,dc=test"));
}

static void
test_profile_find(void **state)
{
	struct env *e = *state;
	load_two(e);
	assert_ptr_equal(profile_find(e->set, "crm"), e->set->v[0]);
	assert_ptr_equal(profile_find(e->set, "mail"), e->set->v[1]);
	assert_null(profile_find(e->set, "Mail"));
	assert_null(profile_find(e->set, "ma"));
	assert_null(profile_find(e->set, ""));
}

static void
test_load_single_profile(void **state)
{
	struct env *e = *state;
	write_profile(e, "only.yaml",
	    "name: only\nuser_bases: cn=users,dc=x\nsearch_base: dc=x\nattributes: [uid, '*']\n");
	load_ok(e);
	assert_int_equal(e->set->n, 1);
	assert_int_equal(e->set->v[0]->nservice, 0);
	assert_int_equal(e->set->v[0]->all_attributes, 1);
	/* description defaults to absent */
	assert_null(e->set->v[0]->description);
}

static void
test_profile_set_free_null(void **state)
{
	(void)state;
	profile_set_free(NULL);
}

/* ------------------------------------------------------------------ */
/* profile_for_bind                                                    */

static void
test_bind_by_service_account(void **state)
{
	struct env *e = *state;
	enum bind_role role;
	load_two(e);
	assert_ptr_equal(pick(e, NULL, NULL, SVC_DOVECOT, &role), profile_find(e->set, "mail"));
	assert_int_equal(role, ROLE_SERVICE);
	assert_ptr_equal(pick(e, NULL, NULL, SVC_POSTFIX, &role), profile_find(e->set, "mail"));
	assert_int_equal(role, ROLE_SERVICE);
	assert_ptr_equal(pick(e, NULL, NULL, SVC_CRM, &role), profile_find(e->set, "crm"));
	assert_int_equal(role, ROLE_SERVICE);
}

static void
test_bind_service_account_beats_current(void **state)
{
	struct env *e = *state;
	enum bind_role role;
	load_two(e);
	const struct profile *crm = profile_find(e->set, "crm");
	assert_ptr_equal(pick(e, NULL, crm, SVC_DOVECOT, &role), profile_find(e->set, "mail"));
	assert_int_equal(role, ROLE_SERVICE);
}

static void
test_bind_by_user_base(void **state)
{
	struct env *e = *state;
	enum bind_role role;
	load_two(e);
	/* both hold cn=users: the first by name wins without a current one */
	assert_ptr_equal(pick(e, NULL, NULL, ALICE, &role), profile_find(e->set, "crm"));
	assert_int_equal(role, ROLE_USER);
	/* only crm holds ou=partners */
	assert_ptr_equal(pick(e, NULL, NULL, PARTNER, &role), profile_find(e->set, "crm"));
	assert_int_equal(role, ROLE_USER);
	/* deeper entries are under the base too */
	assert_ptr_equal(pick(e, NULL, NULL, "uid=x,ou=sub,ou=partners,dc=ald,dc=test", &role),
	    profile_find(e->set, "crm"));
	assert_int_equal(role, ROLE_USER);
}

static void
test_bind_current_wins(void **state)
{
	struct env *e = *state;
	enum bind_role role;
	load_two(e);
	const struct profile *mail = profile_find(e->set, "mail");
	const struct profile *crm = profile_find(e->set, "crm");
	assert_ptr_equal(pick(e, NULL, mail, ALICE, &role), mail);
	assert_int_equal(role, ROLE_USER);
	assert_ptr_equal(pick(e, NULL, crm, ALICE, &role), crm);
	/* the current profile does not hold the user: the next one does */
	assert_ptr_equal(pick(e, NULL, mail, PARTNER, &role), crm);
	assert_int_equal(role, ROLE_USER);
}

static void
test_bind_fixed_profile(void **state)
{
	struct env *e = *state;
	enum bind_role role;
	load_two(e);
	const struct profile *mail = profile_find(e->set, "mail");
	const struct profile *crm = profile_find(e->set, "crm");
	assert_ptr_equal(pick(e, mail, NULL, SVC_DOVECOT, &role), mail);
	assert_int_equal(role, ROLE_SERVICE);
	assert_ptr_equal(pick(e, mail, crm, ALICE, &role), mail);
	assert_int_equal(role, ROLE_USER);
}

static void
test_bind_fixed_profile_refuses_others(void **state)
{
	struct env *e = *state;
	enum bind_role role;
	load_two(e);
	const struct profile *mail = profile_find(e->set, "mail");
	/* crm's service account and crm-only users do not get in via mail's listener */
	assert_null(pick(e, mail, NULL, SVC_CRM, &role));
	assert_int_equal(role, ROLE_NONE);
	assert_null(pick(e, mail, NULL, PARTNER, &role));
	assert_int_equal(role, ROLE_NONE);
	assert_null(pick(e, mail, NULL, USERS, &role));
	assert_int_equal(role, ROLE_NONE);
}

static void
test_bind_unknown_dn(void **state)
{
	struct env *e = *state;
	enum bind_role role;
	load_two(e);
	assert_null(pick(e, NULL, NULL, "uid=eve,cn=users,dc=evil,dc=test", &role));
	assert_int_equal(role, ROLE_NONE);
	assert_null(pick(e, NULL, NULL, "", &role));
	assert_int_equal(role, ROLE_NONE);
	assert_null(pick(e, NULL, NULL, "cn=directory manager", &role));
	assert_int_equal(role, ROLE_NONE);
}

static void
test_bind_base_dn_itself(void **state)
{
	struct env *e = *state;
	enum bind_role role;
	load_two(e);
	assert_null(pick(e, NULL, NULL, USERS, &role));
	assert_int_equal(role, ROLE_NONE);
	assert_null(pick(e, NULL, NULL, "ou=partners,dc=ald,dc=test", &role));
	assert_int_equal(role, ROLE_NONE);
	assert_null(pick(e, NULL, profile_find(e->set, "crm"), USERS, &role));
	assert_int_equal(role, ROLE_NONE);
}

static void
test_bind_not_rdn_boundary(void **state)
{
	struct env *e = *state;
	enum bind_role role;
	load_two(e);
	assert_null(pick(e, NULL, NULL, "uid=x,cn=xusers,cn=accounts,dc=ald,dc=test", &role));
	assert_null(pick(e, NULL, NULL, "uid=x\\,cn=users,cn=accounts,dc=ald,dc=test", &role));
	assert_int_equal(role, ROLE_NONE);
	/* above the user base but under the search base: not a user */
	assert_null(pick(e, NULL, NULL, "uid=x,cn=accounts,dc=ald,dc=test", &role));
}

static void
test_bind_service_account_exact(void **state)
{
	struct env *e = *state;
	enum bind_role role;
	load_two(e);
	/* an entry under a service account is not that service account */
	assert_null(pick(e, NULL, NULL, "cn=x," SVC_DOVECOT, &role));
	assert_int_equal(role, ROLE_NONE);
}

/* ------------------------------------------------------------------ */
/* attribute policy                                                    */

static int
secret(const char *s)
{
	return policy_attr_secret(s, strlen(s));
}

static void
test_secret_user_password(void **state)
{
	(void)state;
	assert_true(secret("userPassword"));
	assert_true(secret("userpassword"));
	assert_true(secret("USERPASSWORD"));
	assert_true(secret("UserPassword"));
}

static void
test_secret_with_options(void **state)
{
	(void)state;
	assert_true(secret("userPassword;binary"));
	assert_true(secret("userPassword;lang-ru;binary"));
	assert_true(secret("krbPrincipalKey;x"));
}

static void
test_secret_kerberos_and_others(void **state)
{
	(void)state;
	assert_true(secret("krbPrincipalKey"));
	assert_true(secret("KRBPRINCIPALKEY"));
	assert_true(secret("krbPwdHistory"));
	assert_true(secret("ipaNTHash"));
	assert_true(secret("sambaNTPassword"));
	assert_true(secret("ipatokenOTPkey"));
}

static void
test_not_secret(void **state)
{
	(void)state;
	assert_false(secret("uid"));
	assert_false(secret("cn"));
	assert_false(secret("mail"));
	assert_false(secret("user"));
	assert_false(secret("userPasswordX"));
	assert_false(secret("xuserPassword"));
	assert_false(secret("krbPrincipalName"));
	assert_false(secret("passwordMaxAge"));
}

/* Malformed descriptions count as secrets: nothing may test or read them. */
static void
test_malformed_is_secret(void **state)
{
	(void)state;
	assert_true(secret(""));
	assert_true(secret(";binary"));
	assert_true(secret("userPassword "));
	assert_true(secret(" userPassword"));
	assert_true(secret("userPassword x"));
	assert_true(secret("userPassword\t"));
	assert_true(secret("uid;"));
}

/* Secrets under their other names (aliases without a schema, and the newer list). */
static void
test_secret_aliases(void **state)
{
	(void)state;
	static const char *const s[] = { "pwdHistory", "PWDHISTORY;binary", "sambaPasswordHistory", "sambaClearTextPassword",
		"ntUserNtPassword", "netscapeReversiblePassword", "nsSymmetricKey", "nsDS5ReplicaCredentials",
		"nsDS5ReplicaBootstrapCredentials", "ipatokenRadiusSecret", "ipaNTTrustAuthIncoming",
		"ipaNTTrustAuthOutgoing", "2.16.840.1.113730.3.1.96", NULL };
	for (const char *const *n = s; *n; n++)
		if (!secret(*n))
			fail_msg("%s is not a secret", *n);
}

static void
test_secret_length_bounded(void **state)
{
	(void)state;
	/* only len bytes count */
	assert_true(policy_attr_secret("userPasswordXYZ", 12));
	assert_false(policy_attr_secret("userPassword", 11));
	assert_true(policy_attr_secret("userPassword;binary", 19));
}

static int
allowed(const struct profile *p, const char *s)
{
	return policy_attr_allowed(p, s, strlen(s));
}

static void
test_allowed_all(void **state)
{
	struct env *e = *state;
	load_two(e);
	const struct profile *crm = profile_find(e->set, "crm");
	assert_true(allowed(crm, "uid"));
	assert_true(allowed(crm, "anyThingAtAll"));
	assert_true(allowed(crm, "cn;lang-ru"));
	assert_true(allowed(crm, "objectClass"));
	assert_false(allowed(crm, "userPassword"));
	assert_false(allowed(crm, "userPassword;binary"));
	assert_false(allowed(crm, "krbPrincipalKey"));
}

static void
test_allowed_allowlist(void **state)
{
	struct env *e = *state;
	load_two(e);
	const struct profile *mail = profile_find(e->set, "mail");
	assert_true(allowed(mail, "uid"));
	assert_true(allowed(mail, "UID"));
	assert_true(allowed(mail, "mail"));
	assert_true(allowed(mail, "memberof"));
	assert_true(allowed(mail, "MemberOf"));
	assert_false(allowed(mail, "sn"));
	assert_false(allowed(mail, "telephoneNumber"));
	assert_false(allowed(mail, "userPassword"));
}

static void
test_allowed_object_class_always(void **state)
{
	struct env *e = *state;
	load_two(e);
	const struct profile *mail = profile_find(e->set, "mail");
	assert_true(allowed(mail, "objectClass"));
	assert_true(allowed(mail, "objectclass"));
	assert_true(allowed(mail, "OBJECTCLASS"));
	assert_true(allowed(mail, "objectClass;x"));
	assert_false(allowed(mail, "objectClasses"));
	assert_false(allowed(mail, "objectClas"));
}

static void
test_allowed_options(void **state)
{
	struct env *e = *state;
	load_two(e);
	const struct profile *mail = profile_find(e->set, "mail");
	assert_true(allowed(mail, "cn;lang-ru"));
	assert_true(allowed(mail, "CN;lang-ru;binary"));
	assert_false(allowed(mail, "sn;lang-ru"));
}

static void
test_allowed_no_prefix_match(void **state)
{
	struct env *e = *state;
	load_two(e);
	const struct profile *mail = profile_find(e->set, "mail");
	assert_false(allowed(mail, "c"));
	assert_false(allowed(mail, "cnx"));
	assert_false(allowed(mail, "ui"));
	assert_false(allowed(mail, "mailAlternateAddress"));
	assert_false(allowed(mail, ""));
	/* length-bounded */
	assert_true(policy_attr_allowed(mail, "cnXYZ", 2));
	assert_false(policy_attr_allowed(mail, "uid", 2));
}

static void
test_allowed_secret_whatever_the_list(void **state)
{
	/* even a hand-built profile listing a secret never allows it */
	(void)state;
	char *attrs[] = { "userPassword", "uid" };
	struct profile p;
	memset(&p, 0, sizeof(p));
	p.attributes = attrs;
	p.nattributes = 2;
	assert_false(allowed(&p, "userPassword"));
	assert_true(allowed(&p, "uid"));
	p.all_attributes = 1;
	assert_false(allowed(&p, "userPassword"));
}

/* ------------------------------------------------------------------ */
/* loading errors                                                      */

#define GOOD_TAIL "service_accounts: uid=svc,dc=x\nsearch_base: dc=x\nattributes: [uid]\n"

static void
test_err_unknown_key(void **state)
{
	struct env *e = *state;
	write_profile(e, "p.yaml", "name: p\n" GOOD_TAIL "colour: red\n");
	load_fails(e, "p.yaml", 5, "colour", "unknown key");
}

static void
test_err_duplicate_key(void **state)
{
	struct env *e = *state;
	write_profile(e, "p.yaml", "name: p\n" GOOD_TAIL "name: q\n");
	load_fails(e, "p.yaml", 5, "name", "twice");
}

static void
test_err_missing_name(void **state)
{
	struct env *e = *state;
	write_profile(e, "p.yaml", "description: no name\n" GOOD_TAIL);
	load_fails(e, "p.yaml", 1, "name", "needs a name");
}

static void
test_err_empty_name(void **state)
{
	struct env *e = *state;
	write_profile(e, "p.yaml", GOOD_TAIL "name: ''\n");
	/* the line of the empty value itself */
	load_fails(e, "p.yaml", 4, "name", "is empty");
}

static void
test_err_bad_name_chars(void **state)
{
	struct env *e = *state;
	write_profile(e, "p.yaml", "description: x\nname: Mail Server\n" GOOD_TAIL);
	load_fails(e, "p.yaml", 2, "name", "'Mail Server'");
}

static void
test_err_bad_name_slash(void **state)
{
	struct env *e = *state;
	write_profile(e, "p.yaml", "name: ../etc\n" GOOD_TAIL);
	load_fails(e, "p.yaml", 1, "name", "lower-case");
}

static void
test_err_name_not_scalar(void **state)
{
	struct env *e = *state;
	write_profile(e, "p.yaml", GOOD_TAIL "name: [a, b]\n");
	load_fails(e, "p.yaml", 4, "name", "single value");
}

static void
test_err_missing_search_base(void **state)
{
	struct env *e = *state;
	write_profile(e, "p.yaml", "name: p\nservice_accounts: uid=svc,dc=x\nattributes: [uid]\n");
	load_fails(e, "p.yaml", 1, "search_base", "required");
}

static void
test_err_bad_search_base(void **state)
{
	struct env *e = *state;
	write_profile(e, "p.yaml", "name: p\nservice_accounts: uid=svc,dc=x\nattributes: [uid]\nsearch_base: dc=x\\\n");
	load_fails(e, "p.yaml", 4, "search_base", "not a valid DN");
}

static void
test_err_bad_service_account_dn(void **state)
{
	struct env *e = *state;
	write_profile(e, "p.yaml",
	    "name: p\nsearch_base: dc=x\nattributes: [uid]\nservice_accounts:\n  - uid=a,dc=x\n  - uid=b\\\n");
	load_fails(e, "p.yaml", 6, "service_accounts[1]", "not a valid DN");  /* the bad item */
}

static void
test_err_bad_user_base_dn(void **state)
{
	struct env *e = *state;
	write_profile(e, "p.yaml", "name: p\nsearch_base: dc=x\nattributes: [uid]\nuser_bases: ou=a\\\n");
	load_fails(e, "p.yaml", 4, "user_bases", "not a valid DN");
}

static void
test_err_service_accounts_mapping(void **state)
{
	struct env *e = *state;
	write_profile(e, "p.yaml", "name: p\nsearch_base: dc=x\nattributes: [uid]\nservice_accounts:\n  a: b\n");
	load_fails(e, "p.yaml", 5, "service_accounts", "must be a list");
}

static void
test_err_service_accounts_nested(void **state)
{
	struct env *e = *state;
	write_profile(e, "p.yaml",
	    "name: p\nsearch_base: dc=x\nattributes: [uid]\nservice_accounts:\n  - uid=a,dc=x\n  - [uid=b]\n");
	/* the item: a mapping {dn: ...} or a string, not a list */
	load_fails(e, "p.yaml", 6, "service_accounts[1]", "mapping");
}

static void
test_err_nobody_can_bind(void **state)
{
	struct env *e = *state;
	write_profile(e, "p.yaml", "name: p\nsearch_base: dc=x\nattributes: [uid]\n");
	load_fails(e, "p.yaml", 1, "service_accounts", "user base");
}

static void
test_err_nobody_can_bind_empty_lists(void **state)
{
	struct env *e = *state;
	write_profile(e, "p.yaml", "name: p\nsearch_base: dc=x\nattributes: [uid]\nservice_accounts: []\nuser_bases: []\n");
	load_fails(e, "p.yaml", 1, "service_accounts", "user base");
}

static void
test_err_empty_attributes(void **state)
{
	struct env *e = *state;
	write_profile(e, "p.yaml", "name: p\nservice_accounts: uid=svc,dc=x\nsearch_base: dc=x\nattributes: []\n");
	load_fails(e, "p.yaml", 4, "attributes", "\"*\"");
}

static void
test_err_missing_attributes(void **state)
{
	struct env *e = *state;
	write_profile(e, "p.yaml", "name: p\nservice_accounts: uid=svc,dc=x\nsearch_base: dc=x\n");
	load_fails(e, "p.yaml", 1, "attributes", "list the attributes");
}

static void
test_err_secret_attribute(void **state)
{
	struct env *e = *state;
	write_profile(e, "p.yaml",
	    "name: p\nservice_accounts: uid=svc,dc=x\nsearch_base: dc=x\nattributes:\n  - uid\n  - userPassword\n");
	load_fails(e, "p.yaml", 6, "attributes", "'userPassword' holds secrets");   /* the item's line */
}

/*
 * Regression test (fixed; found by tests/fuzz/fuzz_profile): a secret's
 * name as the product's name of another attribute (attribute_map:
 * { ipatokenOTPkey: uid }) loaded, though docs/security.md says a profile
 * naming a secret in an attribute map does not load.
 */
static void
test_err_secret_virtual_name(void **state)
{
	struct env *e = *state;
	write_profile(e, "p.yaml",
	    "name: p\nservice_accounts: uid=svc,dc=x\nsearch_base: dc=x\nattribute_map:\n  ipatokenOTPkey: uid\n"
	    "attributes: [uid]\n");
	load_fails(e, "p.yaml", 5, "attribute_map.ipatokenOTPkey", "'ipatokenOTPkey' is the name of a secret");
}

static void
test_err_secret_attribute_case(void **state)
{
	struct env *e = *state;
	write_profile(e, "p.yaml",
	    "name: p\nservice_accounts: uid=svc,dc=x\nsearch_base: dc=x\nattributes: [cn, KRBPRINCIPALKEY]\n");
	load_fails(e, "p.yaml", 4, "attributes", "secrets");
}

static void
test_err_bad_attribute_name(void **state)
{
	struct env *e = *state;
	write_profile(e, "p.yaml",
	    "name: p\nservice_accounts: uid=svc,dc=x\nsearch_base: dc=x\nattributes: [uid, 'cn;lang-ru']\n");
	load_fails(e, "p.yaml", 4, "attributes", "not an attribute name");
}

static void
test_err_yaml_syntax(void **state)
{
	struct env *e = *state;
	write_profile(e, "p.yaml", "name: p\nservice_accounts: [uid=a\nsearch_base: dc=x: y\n");
	load_fails(e, "p.yaml", 3, NULL, "YAML syntax error");
}

static void
test_err_not_a_mapping(void **state)
{
	struct env *e = *state;
	write_profile(e, "p.yaml", "- name: p\n");
	load_fails(e, "p.yaml", 1, NULL, "mapping");
}

static void
test_err_bad_file_among_good(void **state)
{
	struct env *e = *state;
	write_profile(e, "10-mail.yaml", MAIL);
	write_profile(e, "20-crm.yml", CRM);
	write_profile(e, "30-bad.yaml", "name: bad\n" GOOD_TAIL "extra: 1\n");
	load_fails(e, "30-bad.yaml", 5, "extra", "unknown key");
}

static void
test_err_duplicate_names(void **state)
{
	struct env *e = *state;
	write_profile(e, "a.yaml", "name: same\nservice_accounts: uid=a,dc=x\nsearch_base: dc=x\nattributes: [uid]\n");
	write_profile(e, "b.yaml", "name: same\nservice_accounts: uid=b,dc=x\nsearch_base: dc=x\nattributes: [uid]\n");
	struct profile_set *set = NULL;
	assert_int_equal(profile_set_load(e->dir, NULL, &set, e->err, sizeof(e->err)), -1);
	assert_null(set);
	char a[256], b[256];
	snprintf(a, sizeof(a), "%s/a.yaml", e->dir);
	snprintf(b, sizeof(b), "%s/b.yaml", e->dir);
	/* which of the two is "first" is up to the sort: both are named */
	assert_non_null(strstr(e->err, a));
	assert_non_null(strstr(e->err, b));
	assert_non_null(strstr(e->err, "'same'"));
}

static void
test_err_shared_service_account(void **state)
{
	struct env *e = *state;
	/* the same DN written differently: compared normalized */
	write_profile(e, "a.yaml",
	    "name: one\nservice_accounts: ['uid=a,dc=x', 'UID=Shared, DC=X']\nsearch_base: dc=x\nattributes: [uid]\n");
	write_profile(e, "b.yaml",
	    "name: two\nservice_accounts: uid=shared,dc=x\nsearch_base: dc=x\nattributes: [uid]\n");
	struct profile_set *set = NULL;
	assert_int_equal(profile_set_load(e->dir, NULL, &set, e->err, sizeof(e->err)), -1);
	assert_null(set);
	char a[256], b[256];
	snprintf(a, sizeof(a), "%s/a.yaml", e->dir);
	snprintf(b, sizeof(b), "%s/b.yaml", e->dir);
	/* "two" sorts after "one": it is the one reported, naming "one" */
	char prefix[512];
	snprintf(prefix, sizeof(prefix), "%s:2: key 'service_accounts': uid=shared,dc=x", b);   /* the line of the account */
	if (strncmp(e->err, prefix, strlen(prefix)) != 0)
		fail_msg("error \"%s\" does not start with \"%s\"", e->err, prefix);
	assert_non_null(strstr(e->err, "'one'"));
	assert_non_null(strstr(e->err, a));
}

static void
test_shared_user_base_is_fine(void **state)
{
	/* user bases may overlap (that is what "current" is for) */
	struct env *e = *state;
	load_two(e);
	assert_int_equal(e->set->n, 2);
}

static void
test_err_empty_directory(void **state)
{
	struct env *e = *state;
	write_profile(e, "README.txt", "profiles go here\n");
	struct profile_set *set = NULL;
	assert_int_equal(profile_set_load(e->dir, NULL, &set, e->err, sizeof(e->err)), -1);
	assert_null(set);
	char prefix[256];
	snprintf(prefix, sizeof(prefix), "%s: ", e->dir);
	assert_int_equal(strncmp(e->err, prefix, strlen(prefix)), 0);
	assert_non_null(strstr(e->err, "no profiles"));
}

static void
test_err_nonexistent_directory(void **state)
{
	struct env *e = *state;
	char dir[256];
	snprintf(dir, sizeof(dir), "%s/missing", e->dir);
	struct profile_set *set = NULL;
	assert_int_equal(profile_set_load(dir, NULL, &set, e->err, sizeof(e->err)), -1);
	assert_null(set);
	char prefix[300];
	snprintf(prefix, sizeof(prefix), "%s: cannot read profile directory", dir);
	assert_int_equal(strncmp(e->err, prefix, strlen(prefix)), 0);
	assert_non_null(strstr(e->err, "No such file"));
}

static void
test_err_unreadable_profile(void **state)
{
	/* a dangling symlink: listed by the directory scan, cannot be opened
	 * (works as root too, unlike a mode 000 file) */
	struct env *e = *state;
	write_profile(e, "10-mail.yaml", MAIL);
	char path[256], target[256];
	snprintf(path, sizeof(path), "%s/p.yaml", e->dir);
	snprintf(target, sizeof(target), "%s/gone", e->dir);
	assert_int_equal(symlink(target, path), 0);
	struct profile_set *set = NULL;
	assert_int_equal(profile_set_load(e->dir, NULL, &set, e->err, sizeof(e->err)), -1);
	assert_null(set);
	char prefix[300];
	snprintf(prefix, sizeof(prefix), "%s: cannot open", path);
	if (strncmp(e->err, prefix, strlen(prefix)) != 0)
		fail_msg("error \"%s\" does not start with \"%s\"", e->err, prefix);
}

int
main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_load_sorted_by_name),
		T(test_load_fields),
		T(test_profile_find),
		T(test_load_single_profile),
		T(test_profile_set_free_null),
		T(test_bind_by_service_account),
		T(test_bind_service_account_beats_current),
		T(test_bind_by_user_base),
		T(test_bind_current_wins),
		T(test_bind_fixed_profile),
		T(test_bind_fixed_profile_refuses_others),
		T(test_bind_unknown_dn),
		T(test_bind_base_dn_itself),
		T(test_bind_not_rdn_boundary),
		T(test_bind_service_account_exact),
		T(test_secret_user_password),
		T(test_secret_with_options),
		T(test_secret_kerberos_and_others),
		T(test_not_secret),
		T(test_malformed_is_secret),
		T(test_secret_aliases),
		T(test_secret_length_bounded),
		T(test_allowed_all),
		T(test_allowed_allowlist),
		T(test_allowed_object_class_always),
		T(test_allowed_options),
		T(test_allowed_no_prefix_match),
		T(test_allowed_secret_whatever_the_list),
		T(test_err_unknown_key),
		T(test_err_duplicate_key),
		T(test_err_missing_name),
		T(test_err_empty_name),
		T(test_err_bad_name_chars),
		T(test_err_bad_name_slash),
		T(test_err_name_not_scalar),
		T(test_err_missing_search_base),
		T(test_err_bad_search_base),
		T(test_err_bad_service_account_dn),
		T(test_err_bad_user_base_dn),
		T(test_err_service_accounts_mapping),
		T(test_err_service_accounts_nested),
		T(test_err_nobody_can_bind),
		T(test_err_nobody_can_bind_empty_lists),
		T(test_err_empty_attributes),
		T(test_err_missing_attributes),
		T(test_err_secret_attribute),
		T(test_err_secret_virtual_name),
		T(test_err_secret_attribute_case),
		T(test_err_bad_attribute_name),
		T(test_err_yaml_syntax),
		T(test_err_not_a_mapping),
		T(test_err_bad_file_among_good),
		T(test_err_duplicate_names),
		T(test_err_shared_service_account),
		T(test_shared_user_base_is_fine),
		T(test_err_empty_directory),
		T(test_err_nonexistent_directory),
		T(test_err_unreadable_profile),
	};
#undef T
	return cmocka_run_group_tests_name("profile", tests, NULL, NULL);
}
