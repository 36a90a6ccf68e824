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
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "dn.h"
#include "profile.h"
#include "select.h"
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
	struct bind_choice ch;
	char real[DN_MAX];
	ch.role = (enum bind_role)77;   /* must always be written */
	const struct profile *p = profile_select(e->set, fixed, current, NULL, ndn, strlen(ndn), real, sizeof(real), &ch);
	*role = ch.role;
	return p;
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
/* profile_select without selectors                                    */

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

/* writes.add / delete / modrdn (provisioning) */
#define PROV_HEAD "name: p\nservice_accounts: uid=svc,dc=x\nsearch_base: ou=people,dc=x\nattributes: [uid]\nwrites:\n"

static void
test_writes_provisioning_ok(void **state)
{
	struct env *e = *state;
	write_profile(e, "p.yaml", PROV_HEAD
	    "  add:\n"
	    "    subtrees: [\"ou=Staff, ou=People,dc=x\"]\n"
	    "    object_classes: [top, person, inetOrgPerson]\n"
	    "    attributes: [uid, cn, sn, member]\n"
	    "  delete: { subtrees: [\"ou=staff,ou=people,dc=x\"] }\n"
	    "  modrdn: { subtrees: [\"ou=people,dc=x\"] }\n");
	load_ok(e);
	const struct profile *p = profile_find(e->set, "p");
	assert_non_null(p);
	assert_true(p->write_add.allowed);
	assert_int_equal(p->write_add.nsubtrees, 1);
	assert_string_equal(p->write_add.real_subtrees[0], "ou=staff,ou=people,dc=x");
	assert_int_equal(p->write_add.nclasses, 3);
	assert_int_equal(p->write_add.nattrs, 4);
	assert_true(p->write_delete.allowed);
	assert_true(p->write_moddn.allowed);
	assert_string_equal(p->write_moddn.real_subtrees[0], "ou=people,dc=x");
}

static void
test_writes_none_by_default(void **state)
{
	struct env *e = *state;
	write_profile(e, "p.yaml", PROV_HEAD "  modify: [mail]\n");
	load_ok(e);
	const struct profile *p = profile_find(e->set, "p");
	assert_false(p->write_add.allowed);
	assert_false(p->write_delete.allowed);
	assert_false(p->write_moddn.allowed);
}

static void
test_err_writes_add_unknown_key(void **state)
{
	struct env *e = *state;
	write_profile(e, "p.yaml", PROV_HEAD "  add:\n    subtrees: [\"ou=a,ou=people,dc=x\"]\n    classes: [top]\n");
	load_fails(e, "p.yaml", 8, "writes.add.classes", "unknown key");
}

static void
test_err_writes_delete_unknown_key(void **state)
{
	struct env *e = *state;
	write_profile(e, "p.yaml", PROV_HEAD "  delete:\n    subtrees: [\"ou=a,ou=people,dc=x\"]\n    attributes: [uid]\n");
	load_fails(e, "p.yaml", 8, "writes.delete.attributes", "unknown key");
}

static void
test_err_writes_subtree_outside(void **state)
{
	struct env *e = *state;
	write_profile(e, "p.yaml", PROV_HEAD "  delete:\n    subtrees: [\"ou=groups,dc=x\"]\n");
	load_fails(e, "p.yaml", 7, "writes.delete", "outside search_base");
}

static void
test_err_writes_subtree_not_dn(void **state)
{
	struct env *e = *state;
	write_profile(e, "p.yaml", PROV_HEAD "  modrdn:\n    subtrees: [ou=a,ou=people,dc=x]\n");
	load_fails(e, "p.yaml", 7, "writes.modrdn", "not a DN");
}

static void
test_err_writes_no_subtrees(void **state)
{
	struct env *e = *state;
	write_profile(e, "p.yaml", PROV_HEAD "  delete: {}\n");
	load_fails(e, "p.yaml", 6, "writes.delete", "list the subtrees");
}

static void
test_err_writes_not_a_map(void **state)
{
	struct env *e = *state;
	write_profile(e, "p.yaml", PROV_HEAD "  add: true\n");
	load_fails(e, "p.yaml", 6, "writes.add", "a mapping is expected");
}

static void
test_err_writes_add_no_classes(void **state)
{
	struct env *e = *state;
	write_profile(e, "p.yaml", PROV_HEAD "  add:\n    subtrees: [\"ou=a,ou=people,dc=x\"]\n    attributes: [uid]\n");
	load_fails(e, "p.yaml", 7, "writes.add", "object_classes");
}

static void
test_err_writes_add_no_attributes(void **state)
{
	struct env *e = *state;
	write_profile(e, "p.yaml", PROV_HEAD "  add:\n    subtrees: [\"ou=a,ou=people,dc=x\"]\n    object_classes: [top]\n");
	load_fails(e, "p.yaml", 7, "writes.add", "list the attributes");
}

/* what decides access or identity is refused whatever the profile lists */
static void
test_err_writes_add_forbidden(void **state)
{
	static const char *const bad[] = { "userPassword", "nsAccountLock", "memberOf", "krbPrincipalName", "aci",
		"objectClass", "ipaUniqueID", "pwdPolicySubentry", "nsRoleDN", "ipaSshPubKey", "krbPrincipalKey",
		"ipaNTHash", "memberUser" };
	struct env *e = *state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char y[1024];
		snprintf(y, sizeof(y), PROV_HEAD "  add:\n    subtrees: [\"ou=a,ou=people,dc=x\"]\n    object_classes: [top]\n"
		    "    attributes:\n      - cn\n      - %s\n", bad[i]);
		write_profile(e, "p.yaml", y);
		load_fails(e, "p.yaml", 11, "writes.add", "may not be set through aldproxy");
	}
}

/* a product's name (attribute_map) for a forbidden attribute is forbidden too */
static void
test_err_writes_add_mapped_forbidden(void **state)
{
	struct env *e = *state;
	write_profile(e, "p.yaml", "name: p\nservice_accounts: uid=svc,dc=x\nsearch_base: ou=people,dc=x\n"
	    "attributes: [uid]\nattribute_map:\n  lockedOut: nsAccountLock\nwrites:\n"
	    "  add:\n    subtrees: [\"ou=a,ou=people,dc=x\"]\n    object_classes: [top]\n    attributes: [cn, lockedOut]\n");
	load_fails(e, "p.yaml", 11, "writes.add", "'lockedOut' may not be set through aldproxy");
}

static void
test_err_writes_add_bad_class(void **state)
{
	struct env *e = *state;
	write_profile(e, "p.yaml", PROV_HEAD "  add:\n    subtrees: [\"ou=a,ou=people,dc=x\"]\n"
	    "    object_classes: [top, \"in etOrgPerson\"]\n    attributes: [cn]\n");
	load_fails(e, "p.yaml", 8, "writes.add", "not an object class name");
}

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


/* ------------------------------------------------------------------ */
/* selection by where a bind comes from: clients, server_names          */

static void
test_net_parse(void **state)
{
	(void)state;
	struct net n;
	char why[300], txt[64];
	assert_int_equal(net_parse("10.1.2.0/24", &n, why, sizeof(why)), 0);
	assert_int_equal(n.family, AF_INET);
	assert_int_equal(n.bits, 24);
	net_format(&n, txt, sizeof(txt));
	assert_string_equal(txt, "10.1.2.0/24");
	assert_int_equal(net_parse("192.0.2.7", &n, why, sizeof(why)), 0);
	assert_int_equal(n.bits, 32);
	assert_int_equal(net_parse("127.0.0.1/32", &n, why, sizeof(why)), 0);
	assert_int_equal(n.bits, 32);
	assert_int_equal(net_parse("0.0.0.0/0", &n, why, sizeof(why)), 0);
	assert_int_equal(n.bits, 0);
	assert_int_equal(net_parse("2001:db8::/32", &n, why, sizeof(why)), 0);
	assert_int_equal(n.family, AF_INET6);
	assert_int_equal(n.bits, 32);
	assert_int_equal(net_parse("::1", &n, why, sizeof(why)), 0);
	assert_int_equal(n.bits, 128);
	assert_int_equal(net_parse("::1/128", &n, why, sizeof(why)), 0);
	assert_int_equal(net_parse("::/0", &n, why, sizeof(why)), 0);
	assert_int_equal(n.bits, 0);
	assert_int_equal(net_parse("10.0.16.0/20", &n, why, sizeof(why)), 0);
	/* bad */
	static const char *const bad[] = { "", "abc", "10.1.2.0/", "/24", "10.1.2.0/33", "10.1.2.0/24x", "10.1.2.0/-1",
		"2001:db8::/129", "[::1]", "10.1.2", "10.1.2.3/24", "10.0.17.0/20", "2001:db8::1/64", "10.1.2.0/024 ",
		"10.1.2.0/24/8", "fe80::1%eth0", "10.1.2.0 /24", NULL };
	for (const char *const *b = bad; *b; b++)
		if (net_parse(*b, &n, why, sizeof(why)) == 0)
			fail_msg("'%s' parsed as a network", *b);
	assert_int_equal(net_parse("10.1.2.3/24", &n, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "10.1.2.0/24"));
	assert_int_equal(net_parse("10.1.2.0/33", &n, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "0 to 32"));
	assert_int_equal(net_parse("::/129", &n, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "0 to 128"));
}

static void
test_net_contains(void **state)
{
	(void)state;
	struct net n[3];
	char why[300];
	assert_int_equal(net_parse("10.0.0.0/8", &n[0], why, sizeof(why)), 0);
	assert_int_equal(net_parse("192.0.2.7", &n[1], why, sizeof(why)), 0);
	assert_int_equal(net_parse("2001:db8::/32", &n[2], why, sizeof(why)), 0);
	assert_true(net_contains(n, 3, "10.255.1.1"));
	assert_true(net_contains(n, 3, "10.0.0.0"));
	assert_false(net_contains(n, 3, "11.0.0.1"));
	assert_true(net_contains(n, 3, "192.0.2.7"));
	assert_false(net_contains(n, 3, "192.0.2.8"));
	assert_true(net_contains(n, 3, "2001:db8:ffff::1"));
	assert_false(net_contains(n, 3, "2001:db9::1"));
	/* an IPv4 client of a dual-stack listener */
	assert_true(net_contains(n, 3, "::ffff:10.1.2.3"));
	assert_false(net_contains(n, 3, "::ffff:11.1.2.3"));
	assert_false(net_contains(n, 3, NULL));
	assert_false(net_contains(n, 3, "?"));
	assert_false(net_contains(n, 0, "10.1.1.1"));
	/* /0 holds every address of its family, only of its family */
	struct net any4, any6, one6, odd;
	assert_int_equal(net_parse("0.0.0.0/0", &any4, why, sizeof(why)), 0);
	assert_int_equal(net_parse("::/0", &any6, why, sizeof(why)), 0);
	assert_int_equal(net_parse("::1/128", &one6, why, sizeof(why)), 0);
	assert_int_equal(net_parse("10.0.16.0/20", &odd, why, sizeof(why)), 0);
	assert_true(net_contains(&any4, 1, "203.0.113.9"));
	assert_false(net_contains(&any4, 1, "::1"));
	assert_true(net_contains(&any6, 1, "::1"));
	assert_false(net_contains(&any6, 1, "127.0.0.1"));
	assert_true(net_contains(&one6, 1, "::1"));
	assert_false(net_contains(&one6, 1, "::2"));
	assert_false(net_contains(&one6, 1, "127.0.0.1"));
	assert_true(net_contains(&odd, 1, "10.0.31.255"));
	assert_false(net_contains(&odd, 1, "10.0.32.0"));
	assert_false(net_contains(&odd, 1, "10.0.15.255"));
	/* overlaps */
	assert_true(net_overlap(&n[0], &odd));
	assert_true(net_overlap(&odd, &n[0]));
	assert_true(net_overlap(&any4, &n[1]));
	assert_false(net_overlap(&n[0], &n[1]));
	assert_false(net_overlap(&any4, &any6));
	assert_true(net_overlap(&any6, &one6));
}

static void
test_server_names(void **state)
{
	(void)state;
	const char *why;
	static const char *const good[] = { "ldap.example.com", "LDAP.Example.COM", "localhost", "*.example.com",
		"a-b.c_d.example", NULL };
	for (const char *const *g = good; *g; g++)
		if (server_name_valid(*g, &why) != 0)
			fail_msg("'%s' refused: %s", *g, why);
	static const char *const bad[] = { "", "*", "*.", "*.com", "a.*.example.com", "*example.com", "ldap..example",
		"ldap.example.com.", ".example.com", "ldap example", "127.0.0.1", "::1", "*.127.0.0.1", NULL };
	for (const char *const *b = bad; *b; b++)
		if (server_name_valid(*b, &why) == 0)
			fail_msg("'%s' accepted as a server name", *b);
	assert_true(server_name_match("ldap.example.com", "LDAP.example.com"));
	assert_false(server_name_match("ldap.example.com", "ldap2.example.com"));
	assert_false(server_name_match("ldap.example.com", NULL));
	assert_false(server_name_match("ldap.example.com", ""));
	assert_true(server_name_match("*.example.com", "foreman.example.com"));
	assert_true(server_name_match("*.example.com", "Foreman.EXAMPLE.com"));
	assert_false(server_name_match("*.example.com", "example.com"));
	assert_false(server_name_match("*.example.com", "a.b.example.com"));
	assert_false(server_name_match("*.example.com", ".example.com"));
	assert_false(server_name_match("*.example.com", "foreman.example.org"));
}

#define GROUPS_TAIL "search_base: dc=ald,dc=test\nattributes: [uid]\n"
#define CONTRACTOR "uid=c,ou=contractors,dc=ald,dc=test"
#define SVC_BETA "uid=beta,cn=sysaccounts,cn=etc,dc=ald,dc=test"

/* alpha: no selector; beta: clients; gamma: server_names; delta: its own listener.  All take cn=users. */
static void
load_selectors(struct env *e)
{
	write_profile(e, "alpha.yaml", "name: alpha\nuser_bases: [\"" USERS "\"]\ngroups: {login: [alpha-users]}\n"
	    GROUPS_TAIL);
	write_profile(e, "beta.yaml", "name: beta\nservice_accounts: [\"" SVC_BETA "\"]\n"
	    "user_bases: [\"" USERS "\", \"ou=contractors,dc=ald,dc=test\"]\n"
	    "clients: [127.0.0.1/32, 10.0.0.0/8, \"2001:db8::/32\"]\ngroups: {login: [beta-users]}\n" GROUPS_TAIL);
	write_profile(e, "gamma.yaml", "name: gamma\nuser_bases: [\"" USERS "\"]\n"
	    "server_names: [LDAP.Gamma.example, \"*.gamma.test\"]\ngroups: {login: [gamma-users]}\n" GROUPS_TAIL);
	write_profile(e, "delta.yaml", "name: delta\nuser_bases: [\"" USERS "\", \"ou=partners,dc=ald,dc=test\"]\n"
	    "listeners: [\"ldap://127.0.0.1:3999\"]\n" GROUPS_TAIL);
	load_ok(e);
}

static const struct profile *
sel(const struct env *e, const struct profile *fixed, const struct profile *current, const char *addr, const char *sni,
    const char *name, struct bind_choice *ch)
{
	char real[DN_MAX];
	struct bind_origin o = { addr, sni };
	return profile_select(e->set, fixed, current, &o, name, strlen(name), real, sizeof(real), ch);
}

static void
test_select_order(void **state)
{
	struct env *e = *state;
	struct bind_choice ch;
	load_selectors(e);
	const struct profile *alpha = profile_find(e->set, "alpha"), *beta = profile_find(e->set, "beta");
	const struct profile *gamma = profile_find(e->set, "gamma"), *delta = profile_find(e->set, "delta");
	assert_int_equal(gamma->nserver_names, 2);
	assert_string_equal(gamma->server_names[0], "ldap.gamma.example");
	assert_int_equal(beta->nclients, 3);
	assert_true(delta->pinned);
	assert_false(alpha->pinned);

	/* (e): nothing selects: the profile without a selector, not the one with its own listener */
	assert_ptr_equal(sel(e, NULL, NULL, "192.0.2.1", NULL, ALICE, &ch), alpha);
	assert_int_equal(ch.step, SEL_FIRST);
	assert_int_equal(ch.role, ROLE_USER);
	/* (c): the source address */
	assert_ptr_equal(sel(e, NULL, NULL, "10.1.2.3", NULL, ALICE, &ch), beta);
	assert_int_equal(ch.step, SEL_CLIENTS);
	assert_ptr_equal(sel(e, NULL, NULL, "::ffff:127.0.0.1", NULL, ALICE, &ch), beta);
	assert_ptr_equal(sel(e, NULL, NULL, "2001:db8::5", NULL, ALICE, &ch), beta);
	assert_ptr_equal(sel(e, NULL, NULL, "::1", NULL, ALICE, &ch), alpha);
	/* (b): the server name beats the address */
	assert_ptr_equal(sel(e, NULL, NULL, "10.1.2.3", "x.gamma.test", ALICE, &ch), gamma);
	assert_int_equal(ch.step, SEL_SERVER_NAME);
	assert_ptr_equal(sel(e, NULL, NULL, "192.0.2.1", "ldap.gamma.example", ALICE, &ch), gamma);
	/* a name server_names do not hold: as without one */
	assert_ptr_equal(sel(e, NULL, NULL, "192.0.2.1", "a.b.gamma.test", ALICE, &ch), alpha);
	assert_ptr_equal(sel(e, NULL, NULL, "10.0.0.1", "other.example", ALICE, &ch), beta);
	/* (d) after the selectors: the current profile */
	assert_ptr_equal(sel(e, NULL, alpha, "10.1.2.3", NULL, ALICE, &ch), beta);
	assert_ptr_equal(sel(e, NULL, delta, "192.0.2.1", NULL, ALICE, &ch), delta);
	assert_int_equal(ch.step, SEL_CURRENT);
	/* a current profile the connection does not qualify for is skipped */
	assert_ptr_equal(sel(e, NULL, gamma, "192.0.2.1", NULL, ALICE, &ch), alpha);
	assert_ptr_equal(sel(e, NULL, beta, "192.0.2.1", NULL, ALICE, &ch), alpha);
	/* (f): only the profile with its own listener takes the name */
	assert_ptr_equal(sel(e, NULL, NULL, "192.0.2.1", NULL, PARTNER, &ch), delta);
	assert_int_equal(ch.step, SEL_PINNED);
	/* (a): a service account names its profile, but clients still applies */
	assert_ptr_equal(sel(e, NULL, alpha, "10.9.9.9", NULL, SVC_BETA, &ch), beta);
	assert_int_equal(ch.step, SEL_SERVICE);
	assert_int_equal(ch.role, ROLE_SERVICE);
	assert_non_null(ch.sa);
	assert_null(sel(e, NULL, NULL, "192.0.2.1", NULL, SVC_BETA, &ch));
	assert_ptr_equal(ch.refused, beta);
	assert_int_equal(ch.role, ROLE_NONE);
	assert_null(ch.sa);
	/* only beta takes the name, from an address outside its clients: refused, and why */
	assert_null(sel(e, NULL, NULL, "192.0.2.1", NULL, CONTRACTOR, &ch));
	assert_ptr_equal(ch.refused, beta);
	assert_ptr_equal(sel(e, NULL, NULL, "10.0.0.1", NULL, CONTRACTOR, &ch), beta);
	/* unknown address (no origin) */
	assert_null(sel(e, NULL, NULL, NULL, NULL, CONTRACTOR, &ch));
	assert_ptr_equal(ch.refused, beta);
	/* nobody takes it */
	assert_null(sel(e, NULL, NULL, "10.0.0.1", NULL, "uid=x,dc=other", &ch));
	assert_null(ch.refused);
	assert_int_equal(ch.step, SEL_NONE);
	/* a listener's own profile: clients applies, server_names does not matter */
	assert_null(sel(e, beta, NULL, "192.0.2.1", NULL, ALICE, &ch));
	assert_ptr_equal(ch.refused, beta);
	assert_ptr_equal(sel(e, beta, NULL, "127.0.0.1", NULL, ALICE, &ch), beta);
	assert_int_equal(ch.step, SEL_FIXED);
	assert_ptr_equal(sel(e, gamma, NULL, "192.0.2.1", NULL, ALICE, &ch), gamma);
	assert_null(sel(e, gamma, NULL, "192.0.2.1", NULL, CONTRACTOR, &ch));
	assert_null(ch.refused);
}

static void
test_select_without_selectors_as_before(void **state)
{
	struct env *e = *state;
	struct bind_choice ch;
	load_two(e);
	const struct profile *mail = profile_find(e->set, "mail"), *crm = profile_find(e->set, "crm");
	/* the order when no profile has a selector */
	assert_ptr_equal(sel(e, NULL, NULL, "192.0.2.1", NULL, ALICE, &ch), crm);
	assert_ptr_equal(sel(e, NULL, mail, "192.0.2.1", NULL, ALICE, &ch), mail);
	assert_ptr_equal(sel(e, NULL, mail, "192.0.2.1", NULL, PARTNER, &ch), crm);
	assert_ptr_equal(sel(e, NULL, crm, "192.0.2.1", NULL, SVC_DOVECOT, &ch), mail);
	assert_int_equal(ch.role, ROLE_SERVICE);
	assert_null(sel(e, mail, NULL, "192.0.2.1", NULL, PARTNER, &ch));
	assert_null(sel(e, NULL, NULL, "192.0.2.1", NULL, USERS, &ch));
}

static void
test_err_bad_clients(void **state)
{
	struct env *e = *state;
	write_profile(e, "p.yaml", "name: p\n" GOOD_TAIL "clients:\n  - 10.0.0.0/8\n  - 10.1.2.0/33\n");
	load_fails(e, "p.yaml", 7, "clients", "0 to 32");
	write_profile(e, "p.yaml", "name: p\n" GOOD_TAIL "clients: [\"2001:db8::/129\"]\n");
	load_fails(e, "p.yaml", 5, "clients", "0 to 128");
	write_profile(e, "p.yaml", "name: p\n" GOOD_TAIL "clients: [office]\n");
	load_fails(e, "p.yaml", 5, "clients", "'office' is not a network");
	write_profile(e, "p.yaml", "name: p\n" GOOD_TAIL "clients:\n  - 10.1.2.3/24\n");
	load_fails(e, "p.yaml", 6, "clients", "10.1.2.0/24");
	write_profile(e, "p.yaml", "name: p\n" GOOD_TAIL "clients: []\n");
	load_fails(e, "p.yaml", 5, "clients", "nobody");
}

static void
test_err_bad_server_names(void **state)
{
	struct env *e = *state;
	write_profile(e, "p.yaml", "name: p\n" GOOD_TAIL "server_names:\n  - ldap.example.com\n  - \"*\"\n");
	load_fails(e, "p.yaml", 7, "server_names", "'*'");
	write_profile(e, "p.yaml", "name: p\n" GOOD_TAIL "server_names: [10.0.0.1]\n");
	load_fails(e, "p.yaml", 5, "server_names", "clients");
	write_profile(e, "p.yaml", "name: p\n" GOOD_TAIL "server_names: []\n");
	load_fails(e, "p.yaml", 5, "server_names", "empty");
}

#define AMB(name, extra) "name: " name "\nuser_bases: [\"" USERS "\"]\n" extra GROUPS_TAIL

static void
test_ambiguous_pairs(void **state)
{
	struct env *e = *state;
	write_profile(e, "a.yaml", AMB("a", "groups: {login: [a-users]}\n"));
	write_profile(e, "b.yaml", AMB("b", "groups: {login: [b-users]}\n"));
	write_profile(e, "c.yaml", AMB("c", "groups: {login: [a-users]}\n"));                 /* a's rule */
	write_profile(e, "d.yaml", AMB("d", "groups: {visible: [a-users]}\n"));               /* a's rule too */
	write_profile(e, "e.yaml", AMB("e", ""));                                             /* everyone */
	write_profile(e, "f.yaml", AMB("f", "clients: [10.0.0.0/8]\ngroups: {login: [f-users]}\n"));
	write_profile(e, "g.yaml", AMB("g", "clients: [10.1.0.0/16]\ngroups: {login: [g-users]}\n"));
	write_profile(e, "h.yaml", AMB("h", "clients: [192.168.0.0/16]\ngroups: {login: [h-users]}\n"));
	write_profile(e, "i.yaml", AMB("i", "server_names: [\"*.example.com\"]\ngroups: {login: [i-users]}\n"));
	write_profile(e, "j.yaml", AMB("j", "server_names: [ldap.example.com]\ngroups: {login: [j-users]}\n"));
	write_profile(e, "k.yaml", AMB("k", "server_names: [ldap.example.org]\ngroups: {login: [k-users]}\n"));
	write_profile(e, "l.yaml", AMB("l", "listeners: [\"ldap://127.0.0.1:3999\"]\ngroups: {login: [l-users]}\n"));
	write_profile(e, "m.yaml", "name: m\nuser_bases: [\"ou=partners,dc=ald,dc=test\"]\ngroups: {login: [m-users]}\n"
	    GROUPS_TAIL);
	write_profile(e, "n.yaml", "name: n\nuser_bases: [\"uid=x," USERS "\"]\ngroups: {login: [n-users]}\n" GROUPS_TAIL);
	load_ok(e);
	static const struct {
		const char *a, *b;
		int amb;
	} cases[] = {
		{ "a", "b", 1 },        /* same users, different groups, nothing selects */
		{ "a", "c", 0 },        /* the same rule */
		{ "a", "d", 0 },        /* visible groups are the login rule without login */
		{ "a", "e", 1 },        /* a group against everyone */
		{ "a", "f", 0 },        /* f has clients, a not: f wins from its networks, a elsewhere */
		{ "f", "g", 1 },        /* overlapping networks */
		{ "f", "h", 0 },        /* disjoint networks */
		{ "a", "i", 0 },        /* server_names against none */
		{ "i", "j", 1 },        /* *.example.com holds ldap.example.com */
		{ "j", "k", 0 },
		{ "i", "k", 0 },
		{ "f", "i", 0 },
		{ "a", "l", 0 },        /* l has a listener of its own */
		{ "a", "m", 0 },        /* different users */
		{ "a", "n", 1 },        /* n's base is under a's */
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char what[DN_MAX + 64] = "";
		const struct profile *a = profile_find(e->set, cases[i].a), *b = profile_find(e->set, cases[i].b);
		assert_non_null(a);
		assert_non_null(b);
		if (profile_pair_ambiguous(a, b, what, sizeof(what)) != cases[i].amb ||
		    profile_pair_ambiguous(b, a, what, sizeof(what)) != cases[i].amb)
			fail_msg("%s and %s: expected %sambiguous", cases[i].a, cases[i].b, cases[i].amb ? "" : "not ");
		if (cases[i].amb)
			assert_non_null(strstr(what, "users under"));
	}
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
		T(test_writes_provisioning_ok),
		T(test_writes_none_by_default),
		T(test_err_writes_add_unknown_key),
		T(test_err_writes_delete_unknown_key),
		T(test_err_writes_subtree_outside),
		T(test_err_writes_subtree_not_dn),
		T(test_err_writes_no_subtrees),
		T(test_err_writes_not_a_map),
		T(test_err_writes_add_no_classes),
		T(test_err_writes_add_no_attributes),
		T(test_err_writes_add_forbidden),
		T(test_err_writes_add_bad_class),
		T(test_err_writes_add_mapped_forbidden),
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
		T(test_net_parse),
		T(test_net_contains),
		T(test_server_names),
		T(test_select_order),
		T(test_select_without_selectors_as_before),
		T(test_err_bad_clients),
		T(test_err_bad_server_names),
		T(test_ambiguous_pairs),
	};
#undef T
	return cmocka_run_group_tests_name("profile", tests, NULL, NULL);
}
