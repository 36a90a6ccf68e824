/*
 * test_rewrite.c — unit tests for applying profiles: DNs both ways,
 * filters, attribute lists, returned entries, GUIDs and bind names.
 *
 * Three profiles are written to a temporary directory once and loaded
 * with profile_set_load():
 *   ad     AD emulation as in docs/profiles.md (directory dc=ald,dc=test,
 *          the product sees DC=example,DC=com)
 *   plain  no rewriting at all
 *   crm    an attribute allowlist, one name map, a GUID, UPN binds only
 * Entries are built with liblber as the directory sends them, rewritten
 * into an evbuffer and decoded with liblber again.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <cmocka.h>
#include <lber.h>
#include <event2/buffer.h>

#include "arena.h"
#include "dn.h"
#include "filter.h"
#include "profile.h"
#include "rewrite.h"
#include "visset.h"

static const char AD_YAML[] =
    "name: ad\n"
    "description: Generic Active Directory emulation over ALD Pro\n"
    "service_accounts:\n"
    "  - CN=svc-portal,CN=Users,DC=example,DC=com\n"
    "user_bases: [\"CN=Users,DC=example,DC=com\"]\n"
    "search_base: DC=example,DC=com\n"
    "directory_suffix: dc=ald,dc=test\n"
    "virtual_tree:\n"
    "  suffix: DC=example,DC=com\n"
    "  map:\n"
    "    - { virtual: \"DC=example,DC=com\",           real: \"dc=ald,dc=test\" }\n"
    "    - { virtual: \"CN=Users,DC=example,DC=com\",  real: \"cn=users,cn=accounts,dc=ald,dc=test\" }\n"
    "    - { virtual: \"CN=Groups,DC=example,DC=com\", real: \"cn=groups,cn=accounts,dc=ald,dc=test\" }\n"
    "attribute_map:\n"
    "  sAMAccountName: uid\n"
    "  userPrincipalName: krbPrincipalName\n"
    "  name: cn\n"
    "objectclass_map:\n"
    "  user: person\n"
    "  group: groupOfNames\n"
    "virtual_attributes:\n"
    "  objectGUID:         { type: guid, from: ipaUniqueID }\n"
    "  userAccountControl: { type: account_control, from: nsAccountLock }\n"
    "  objectSid:          { type: sid }\n"
    "  memberUid:          { type: member_uid }\n"
    "  primaryGroupID:     { type: by_class, values: { person: \"513\" } }\n"
    "  distinguishedName:  { type: dn }\n"
    "  objectCategory:\n"
    "    type: by_class\n"
    "    values:\n"
    "      person: \"CN=Person,CN=Schema,CN=Configuration,{suffix}\"\n"
    "      groupOfNames: \"CN=Group,CN=Schema,CN=Configuration,{suffix}\"\n"
    "  sAMAccountType:\n"
    "    type: by_class\n"
    "    values: { person: \"805306368\", groupOfNames: \"268435456\" }\n"
    "defaults:\n"
    "  mail: \"{uid}@example.com\"\n"
    "  displayName: \"{cn}\"\n"
    "memberof: { groups_only: true }\n"
    "groups:\n"
    "  login: [portal-users]\n"
    "bind_names:\n"
    "  realm: EXAMPLE.COM\n"
    "  netbios: EXAMPLE\n"
    "  formats: [dn, upn, netbios, login]\n"
    "ad_diagnostics: true\n"
    "rootdse: { active_directory: true }\n"
    "attributes: [\"*\"]\n";

static const char PLAIN_YAML[] =
    "name: plain\n"
    "service_accounts: uid=plain,cn=sysaccounts,cn=etc,dc=ald,dc=test\n"
    "user_bases: [\"cn=users,cn=accounts,dc=ald,dc=test\"]\n"
    "search_base: dc=ald,dc=test\n"
    "attributes: [\"*\"]\n";

/* A profile with visible groups and no virtual tree: what a product like Zabbix gets. */
static const char VIS_YAML[] =
    "name: vis\n"
    "service_accounts: uid=vis,cn=sysaccounts,cn=etc,dc=ald,dc=test\n"
    "user_bases: [\"cn=users,cn=accounts,dc=ald,dc=test\"]\n"
    "search_base: dc=ald,dc=test\n"
    "directory_suffix: dc=ald,dc=test\n"
    "groups: { visible: [portal-users] }\n"
    "attributes: [\"*\"]\n";

static const char CRM_YAML[] =
    "name: crm\n"
    "service_accounts: uid=crm,cn=sysaccounts,cn=etc,dc=ald,dc=test\n"
    "user_bases: [\"cn=users,cn=accounts,dc=ald,dc=test\"]\n"
    "search_base: dc=ald,dc=test\n"
    "attribute_map: { sAMAccountName: uid }\n"
    "virtual_attributes:\n"
    "  objectGUID: { type: guid }\n"
    "bind_names:\n"
    "  realm: ALD.TEST\n"
    "  formats: [upn]\n"
    "attributes: [sAMAccountName, cn, mail, objectGUID]\n";

#define REAL_USERS "cn=users,cn=accounts,dc=ald,dc=test"
#define REAL_GROUPS "cn=groups,cn=accounts,dc=ald,dc=test"
#define VIRT_USERS "CN=Users,DC=example,DC=com"
#define VIRT_GROUPS "CN=Groups,DC=example,DC=com"
#define PORTAL_REAL "cn=portal-users," REAL_GROUPS
#define UUID_A "00112233-4455-6677-8899-aabbccddeeff"

static const unsigned char GUID_A[16] = { 0x33, 0x22, 0x11, 0x00, 0x55, 0x44, 0x77, 0x66, 0x88, 0x99, 0xaa, 0xbb,
	0xcc, 0xdd, 0xee, 0xff };

struct env {
	char dir[64];
	char err[1024];
	struct profile_set *set;
	const struct profile *ad, *plain, *crm, *vis;
	struct arena a;
	char out[DN_MAX];
	char txt[8192];
};

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
write_file(const char *dir, const char *name, const char *text)
{
	char path[256];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *fp = fopen(path, "w");
	if (fp == NULL)
		return -1;
	int ok = fputs(text, fp) >= 0;
	return fclose(fp) == 0 && ok ? 0 : -1;
}

static int group_teardown(void **state);

static int
group_setup(void **state)
{
	struct env *e = calloc(1, sizeof(*e));
	if (e == NULL)
		return -1;
	snprintf(e->dir, sizeof(e->dir), "/tmp/aldrw.XXXXXX");
	if (mkdtemp(e->dir) == NULL)
		return -1;
	*state = e;
	if (write_file(e->dir, "active-directory.yaml", AD_YAML) < 0 || write_file(e->dir, "plain.yaml", PLAIN_YAML) < 0 ||
	    write_file(e->dir, "crm.yml", CRM_YAML) < 0 || write_file(e->dir, "vis.yaml", VIS_YAML) < 0)
		goto fail;
	if (profile_set_load(e->dir, NULL, &e->set, e->err, sizeof(e->err)) != 0) {
		fprintf(stderr, "profile_set_load: %s\n", e->err);
		goto fail;
	}
	e->ad = profile_find(e->set, "ad");
	e->plain = profile_find(e->set, "plain");
	e->crm = profile_find(e->set, "crm");
	e->vis = profile_find(e->set, "vis");
	if (e->ad == NULL || e->plain == NULL || e->crm == NULL || e->vis == NULL || arena_init(&e->a, 1 << 20) < 0)
		goto fail;
	/* the users the directory would list as members of portal-users */
	static const char *const visible_dns[] = { "uid=alice,cn=users,cn=accounts,dc=ald,dc=test" };
	static const char *const visible_uids[] = { "alice" };
	if (visset_replace(e->vis->vis, visible_dns, 1, visible_uids, 1) < 0)
		goto fail;
	return 0;
fail:
	group_teardown(state);
	*state = NULL;
	return -1;
}

static int
group_teardown(void **state)
{
	struct env *e = *state;
	if (e == NULL)
		return 0;
	profile_set_free(e->set);
	arena_free(&e->a);
	rm_rf(e->dir);
	free(e);
	return 0;
}

static int
setup(void **state)
{
	struct env *e = *state;
	arena_reset(&e->a);
	return 0;
}

/* ------------------------------------------------------------------ */
/* helpers                                                              */

static const char *
dn_in(struct env *e, const struct profile *p, const char *dn)
{
	memset(e->out, 'Z', sizeof(e->out));
	int n = rewrite_dn_in(p, dn, strlen(dn), e->out, sizeof(e->out));
	if (n < 0)
		fail_msg("rewrite_dn_in(\"%s\") failed", dn);
	assert_int_equal((size_t)n, strlen(e->out));
	return e->out;
}

static const char *
dn_out(struct env *e, const struct profile *p, const char *dn)
{
	memset(e->out, 'Z', sizeof(e->out));
	int n = rewrite_dn_out(p, dn, strlen(dn), e->out, sizeof(e->out));
	if (n < 0)
		fail_msg("rewrite_dn_out(\"%s\") failed", dn);
	assert_int_equal((size_t)n, strlen(e->out));
	return e->out;
}

#define DN_IN(p, in, expect) assert_string_equal(dn_in(e, (p), (in)), (expect))
#define DN_OUT(p, in, expect) assert_string_equal(dn_out(e, (p), (in)), (expect))

/* Parses f, rewrites it and prints the result; also checks it encodes and decodes to the same. */
static const char *
rf(struct env *e, const struct profile *p, const char *f, int visibility)
{
	struct fnode *t = NULL;
	const char *err = NULL;
	if (filter_parse(&e->a, f, &t, &err) != 0)
		fail_msg("filter_parse(\"%s\"): %s", f, err);
	struct fnode *r = rewrite_filter(p, &e->a, t, visibility, NULL);
	if (r == NULL)
		fail_msg("rewrite_filter(\"%s\") failed", f);
	if (filter_print(r, e->txt, sizeof(e->txt)) < 0)
		fail_msg("filter_print failed");
	unsigned char ber[8192];
	size_t n = filter_encode(r, ber, sizeof(ber));
	assert_int_not_equal(n, 0);
	struct berval bv = { n, (char *)ber };
	struct fnode *d = NULL;
	assert_int_equal(filter_decode(&e->a, &bv, &d), 0);
	char again[8192];
	assert_true(filter_print(d, again, sizeof(again)) >= 0);
	/* F_TRUE/F_FALSE go out as (objectClass=*) and its negation */
	if (strcmp(e->txt, "(&)") != 0 && strcmp(e->txt, "(|)") != 0 && strstr(e->txt, "(&)") == NULL &&
	    strstr(e->txt, "(|)") == NULL)
		assert_string_equal(again, e->txt);
	return e->txt;
}

#define RF(p, in, expect) assert_string_equal(rf(e, (p), (in), 0), (expect))
#define RFV(p, in, expect) assert_string_equal(rf(e, (p), (in), 1), (expect))

/* rewrite_attrs() for names (NULL-terminated); the real list, space-separated, goes to e->txt. */
static struct want *
attrs(struct env *e, const struct profile *p, const char *const *names, int typesonly)
{
	struct berval bv[64];
	size_t n = 0;
	for (; names != NULL && names[n] != NULL; n++) {
		bv[n].bv_val = (char *)names[n];
		bv[n].bv_len = strlen(names[n]);
	}
	unsigned char out[4096];
	struct want *w = (struct want *)0x1;
	size_t len = rewrite_attrs(p, bv, n, typesonly, out, sizeof(out), &w);
	if (len == 0)
		fail_msg("rewrite_attrs failed");
	assert_non_null(w);
	/* decode the SEQUENCE OF AttributeDescription with liblber */
	struct berval enc = { len, (char *)out };
	BerElement *ber = ber_init(&enc);
	assert_non_null(ber);
	ber_len_t l;
	char *last;
	size_t o = 0;
	e->txt[0] = '\0';
	assert_int_equal(ber_peek_tag(ber, &l), LBER_SEQUENCE);
	for (ber_tag_t t = ber_first_element(ber, &l, &last); t != LBER_DEFAULT; t = ber_next_element(ber, &l, last)) {
		struct berval a;
		assert_int_equal(t, LBER_OCTETSTRING);
		assert_int_not_equal(ber_scanf(ber, "m", &a), LBER_ERROR);
		o += (size_t)snprintf(e->txt + o, sizeof(e->txt) - o, "%s%.*s", o ? " " : "", (int)a.bv_len, a.bv_val);
	}
	ber_free(ber, 1);
	return w;
}

static int
want_has_name(const struct want *w, const char *name)
{
	for (size_t i = 0; i < w->n; i++)
		if (w->names[i].bv_len == strlen(name) && strncasecmp(w->names[i].bv_val, name, w->names[i].bv_len) == 0)
			return 1;
	return 0;
}

static int
want_has_extra(const struct want *w, const char *name)
{
	for (size_t i = 0; i < w->nextra; i++)
		if (w->extra[i].bv_len == strlen(name) && strncasecmp(w->extra[i].bv_val, name, w->extra[i].bv_len) == 0)
			return 1;
	return 0;
}

/* ---- entries ---- */

struct tattr {
	const char *name;
	const char *vals[8];
};

struct msg {
	unsigned char *buf;
	size_t len;
};

#define P(ber, ...) assert_int_not_equal(ber_printf((ber), __VA_ARGS__), -1)

/* A SearchResultEntry LDAPMessage as the directory sends it. */
static struct msg
entry_msg(int msgid, const char *dn, const struct tattr *at, size_t n)
{
	BerElement *ber = ber_alloc_t(LBER_USE_DER);
	assert_non_null(ber);
	P(ber, "{it{s{", (ber_int_t)msgid, (ber_tag_t)0x64, dn);
	for (size_t i = 0; i < n; i++) {
		P(ber, "{s[", at[i].name);
		for (size_t k = 0; at[i].vals[k] != NULL; k++)
			P(ber, "s", at[i].vals[k]);
		P(ber, "]}");
	}
	P(ber, "}}}");
	struct berval bv;
	assert_int_equal(ber_flatten2(ber, &bv, 0), 0);
	struct msg m = { malloc(bv.bv_len), bv.bv_len };
	assert_non_null(m.buf);
	memcpy(m.buf, bv.bv_val, bv.bv_len);
	ber_free(ber, 1);
	return m;
}

#define MAXA 64
#define MAXV 16

struct dattr {
	char name[64];
	size_t n;
	size_t len[MAXV];
	char val[MAXV][512];
};

struct dentry {
	int msgid;
	char dn[DN_MAX];
	size_t n;
	struct dattr a[MAXA];
};

/* Decodes a rewritten entry (the whole evbuffer) with liblber. */
static struct dentry *
decode_entry(struct evbuffer *buf)
{
	size_t total = evbuffer_get_length(buf);
	unsigned char *p = evbuffer_pullup(buf, (ev_ssize_t)total);
	assert_true(total > 2);
	assert_int_equal(p[0], 0x30);
	size_t hdr = p[1] < 0x80 ? 2 : 2 + (p[1] & 0x7f), body = 0;
	if (p[1] < 0x80)
		body = p[1];
	else
		for (size_t i = 2; i < hdr; i++)
			body = body << 8 | p[i];
	assert_int_equal(hdr + body, total);      /* exactly one message */
	struct dentry *d = calloc(1, sizeof(*d));
	assert_non_null(d);
	struct berval bv = { total, (char *)p }, dn, name, v;
	BerElement *ber = ber_init(&bv);
	assert_non_null(ber);
	ber_int_t id;
	ber_len_t len;
	char *last, *vlast;
	assert_int_not_equal(ber_scanf(ber, "{i", &id), LBER_ERROR);
	d->msgid = id;
	assert_int_equal(ber_peek_tag(ber, &len), 0x64);
	assert_int_not_equal(ber_scanf(ber, "{m", &dn), LBER_ERROR);
	assert_true(dn.bv_len < sizeof(d->dn));
	memcpy(d->dn, dn.bv_val, dn.bv_len);
	assert_int_equal(ber_peek_tag(ber, &len), LBER_SEQUENCE);
	for (ber_tag_t t = ber_first_element(ber, &len, &last); t != LBER_DEFAULT; t = ber_next_element(ber, &len, last)) {
		assert_true(d->n < MAXA);
		struct dattr *a = &d->a[d->n++];
		assert_int_not_equal(ber_scanf(ber, "{m", &name), LBER_ERROR);
		assert_true(name.bv_len < sizeof(a->name));
		memcpy(a->name, name.bv_val, name.bv_len);
		assert_int_equal(ber_peek_tag(ber, &len), LBER_SET);
		for (ber_tag_t vt = ber_first_element(ber, &len, &vlast); vt != LBER_DEFAULT;
		     vt = ber_next_element(ber, &len, vlast)) {
			assert_true(a->n < MAXV);
			assert_int_not_equal(ber_scanf(ber, "m", &v), LBER_ERROR);
			assert_true(v.bv_len < sizeof(a->val[0]));
			memcpy(a->val[a->n], v.bv_val, v.bv_len);
			a->len[a->n++] = v.bv_len;
		}
	}
	/* nothing after the attributes: no controls */
	assert_int_equal(ber_peek_tag(ber, &len), LBER_DEFAULT);
	ber_free(ber, 1);
	return d;
}

static const struct dattr *
dget(const struct dentry *d, const char *name)
{
	const struct dattr *found = NULL;
	for (size_t i = 0; i < d->n; i++)
		if (strcasecmp(d->a[i].name, name) == 0) {
			if (found != NULL)
				fail_msg("attribute %s returned twice", name);
			found = &d->a[i];
		}
	return found;
}

static int
dhas_value(const struct dattr *a, const char *v)
{
	for (size_t i = 0; a != NULL && i < a->n; i++)
		if (a->len[i] == strlen(v) && memcmp(a->val[i], v, a->len[i]) == 0)
			return 1;
	return 0;
}

/* The one value of name in d, as a string. */
static const char *
dval(const struct dentry *d, const char *name)
{
	const struct dattr *a = dget(d, name);
	if (a == NULL)
		fail_msg("attribute %s missing", name);
	if (a->n != 1)
		fail_msg("attribute %s has %zu values, expected one", name, a->n);
	return a->val[0];
}

/* rewrite_entry() of the entry for want w; the decoded result (free it). */
static struct dentry *
rewrite(struct env *e, const struct profile *p, const struct want *w, const char *dn, const struct tattr *at, size_t n)
{
	struct msg m = entry_msg(3, dn, at, n);
	BerElement *ber = ber_alloc_t(LBER_USE_DER);
	struct evbuffer *out = evbuffer_new();
	assert_non_null(ber);
	assert_non_null(out);
	arena_reset(&e->a);
	if (rewrite_entry(p, w, &e->a, ber, m.buf, m.len, 7, out) != 0)
		fail_msg("rewrite_entry failed for %s", dn);
	struct dentry *d = decode_entry(out);
	assert_int_equal(d->msgid, 7);        /* re-addressed to the client's message */
	evbuffer_free(out);
	ber_free(ber, 0);
	free(m.buf);
	return d;
}

#define ALICE_DN "uid=alice," REAL_USERS
#define BOB_DN "uid=bob," REAL_USERS
#define ADMINS_DN "cn=admins," REAL_GROUPS

static const struct tattr ALICE[] = {
	{ "objectClass", { "top", "person", "organizationalPerson", "inetOrgPerson", "posixAccount", "ipaObject",
		NULL } },
	{ "uid", { "alice", NULL } },
	{ "cn", { "Alice Liddell", NULL } },
	{ "sn", { "Liddell", NULL } },
	{ "givenName", { "Alice", NULL } },
	{ "mail", { "alice@ald.test", NULL } },
	{ "krbPrincipalName", { "alice@ALD.TEST", NULL } },
	{ "uidNumber", { "1001", NULL } },
	{ "ipaUniqueID", { UUID_A, NULL } },
	{ "nsAccountLock", { "FALSE", NULL } },
	{ "manager", { "uid=boss," REAL_USERS, NULL } },
	{ "memberOf", { PORTAL_REAL, "cn=helpdesk,cn=roles,cn=accounts,dc=ald,dc=test",
		"ipaUniqueID=5b2f3c2e-1111-11ee-9c3a-525400123456,cn=hbac,dc=ald,dc=test", ADMINS_DN,
		"cn=sudo-all,cn=sudorules,cn=sudo,dc=ald,dc=test", REAL_GROUPS, NULL } },
	{ "userPassword", { "{PBKDF2_SHA256}AAAIAGVuc2VjcmV0", NULL } },
	{ "krbPrincipalKey", { "secret-key-bytes", NULL } },
};
#define NALICE (sizeof(ALICE) / sizeof(ALICE[0]))

/* bob: locked, no mail, no cn */
static const struct tattr BOB[] = {
	{ "objectClass", { "top", "person", "inetOrgPerson", NULL } },
	{ "uid", { "bob", NULL } },
	{ "sn", { "Builder", NULL } },
	{ "ipaUniqueID", { "a1b2c3d4-e5f6-0718-293a-4b5c6d7e8f90", NULL } },
	{ "nsAccountLock", { "TRUE", NULL } },
};
#define NBOB (sizeof(BOB) / sizeof(BOB[0]))

static const struct tattr ADMINS[] = {
	{ "objectClass", { "top", "groupOfNames", "nestedGroup", "ipaUserGroup", NULL } },
	{ "cn", { "admins", NULL } },
	{ "member", { ALICE_DN, "uid=svc,cn=sysaccounts,cn=etc,dc=ald,dc=test", NULL } },
	{ "ipaUniqueID", { UUID_A, NULL } },
};
#define NADMINS (sizeof(ADMINS) / sizeof(ADMINS[0]))

/* ------------------------------------------------------------------ */
/* rewrite_active                                                       */

static void
test_active(void **state)
{
	struct env *e = *state;
	assert_true(rewrite_active(e->ad));
	assert_true(rewrite_active(e->crm));
	assert_false(rewrite_active(e->plain));
}

/* ------------------------------------------------------------------ */
/* DNs in                                                               */

static void
test_dn_in_longest_match(void **state)
{
	struct env *e = *state;
	DN_IN(e->ad, "uid=alice,CN=Users,DC=example,DC=com", "uid=alice," REAL_USERS);
	DN_IN(e->ad, "CN=admins,CN=Groups,DC=example,DC=com", "CN=admins," REAL_GROUPS);
	/* the map order in the file does not matter: the suffix map is listed first */
	DN_IN(e->ad, "OU=Sales,DC=example,DC=com", "OU=Sales,dc=ald,dc=test");
}

static void
test_dn_in_leading_rdn_case_kept(void **state)
{
	struct env *e = *state;
	DN_IN(e->ad, "UID=Alice,cn=users,dc=EXAMPLE,dc=COM", "UID=Alice," REAL_USERS);
	DN_IN(e->ad, "CN=Smith John,OU=Sales,DC=example,DC=com", "CN=Smith John,OU=Sales,dc=ald,dc=test");
}

static void
test_dn_in_spaces(void **state)
{
	struct env *e = *state;
	DN_IN(e->ad, "  uid=alice , CN = Users, DC=example ,DC=com ", "uid=alice," REAL_USERS);
}

static void
test_dn_in_suffix_itself(void **state)
{
	struct env *e = *state;
	DN_IN(e->ad, "DC=example,DC=com", "dc=ald,dc=test");
	DN_IN(e->ad, "dc=Example, dc=Com", "dc=ald,dc=test");
	DN_IN(e->ad, "CN=Users,DC=example,DC=com", REAL_USERS);
	DN_IN(e->ad, "cn=groups,dc=example,dc=com", REAL_GROUPS);
}

static void
test_dn_in_escaped_comma(void **state)
{
	struct env *e = *state;
	DN_IN(e->ad, "CN=Smith\\, John,CN=Users,DC=example,DC=com", "CN=Smith\\, John," REAL_USERS);
	DN_IN(e->ad, "CN=Smith\\2C John,CN=Users,DC=example,DC=com", "CN=Smith\\2C John," REAL_USERS);
	DN_IN(e->ad, "CN=a\\\\,CN=Users,DC=example,DC=com", "CN=a\\\\," REAL_USERS);
}

static void
test_dn_in_outside_unchanged(void **state)
{
	struct env *e = *state;
	DN_IN(e->ad, "dc=other,dc=org", "dc=other,dc=org");
	DN_IN(e->ad, "cn=config", "cn=config");
	DN_IN(e->ad, "DC=com", "DC=com");
	DN_IN(e->ad, "DC=example,DC=com,DC=evil", "DC=example,DC=com,DC=evil");
	DN_IN(e->ad, "DC=notexample,DC=com", "DC=notexample,DC=com");
	/* already real: not under the virtual tree */
	DN_IN(e->ad, "uid=alice," REAL_USERS, "uid=alice," REAL_USERS);
	DN_IN(e->ad, "", "");
}

static void
test_dn_in_rdn_boundary(void **state)
{
	struct env *e = *state;
	/* CN=XUsers is not under CN=Users: only the suffix map applies */
	DN_IN(e->ad, "uid=a,CN=XUsers,DC=example,DC=com", "uid=a,CN=XUsers,dc=ald,dc=test");
	/* an escaped comma is no RDN boundary */
	DN_IN(e->ad, "uid=a\\,CN=Users,DC=example,DC=com", "uid=a\\,CN=Users,dc=ald,dc=test");
}

static void
test_dn_in_plain_unchanged(void **state)
{
	struct env *e = *state;
	DN_IN(e->plain, "uid=alice,CN=Users,DC=example,DC=com", "uid=alice,CN=Users,DC=example,DC=com");
	DN_IN(e->plain, "UID=Alice, cn=users,cn=accounts,dc=ald,dc=test", "UID=Alice, cn=users,cn=accounts,dc=ald,dc=test");
}

static void
test_dn_in_invalid(void **state)
{
	struct env *e = *state;
	const char *bad = "uid=alice\\";
	assert_int_equal(rewrite_dn_in(e->ad, bad, strlen(bad), e->out, sizeof(e->out)), -1);
}

/*
 * Regression test (fixed; found by tests/fuzz/fuzz_dn): "\\" + NUL was a
 * valid escape for dn_normalize(), so this base was under the profile's
 * search_base; the mapped DN was cut at the NUL, and the backslash then
 * escaped the comma before the real suffix: "cn=\\,dc=ald,dc=test", a DN
 * outside dc=ald,dc=test.  Such a DN is now invalid.
 */
static void
test_dn_in_escaped_nul(void **state)
{
	struct env *e = *state;
	static const char bad[] = "cn=\\\0x,DC=example,DC=com";
	assert_int_equal(rewrite_dn_in(e->ad, bad, sizeof(bad) - 1, e->out, sizeof(e->out)), -1);
	assert_int_equal(rewrite_dn_out(e->ad, "cn=\\\0x,dc=ald,dc=test", 21, e->out, sizeof(e->out)), -1);
}

static void
test_dn_in_output_too_small(void **state)
{
	struct env *e = *state;
	const char *dn = "uid=alice,CN=Users,DC=example,DC=com";
	const char *want = "uid=alice," REAL_USERS;
	for (size_t cap = 1; cap <= strlen(want); cap++)
		assert_int_equal(rewrite_dn_in(e->ad, dn, strlen(dn), e->out, cap), -1);
	assert_int_equal(rewrite_dn_in(e->ad, dn, strlen(dn), e->out, strlen(want) + 1), (int)strlen(want));
	/* outside the maps too */
	assert_int_equal(rewrite_dn_in(e->ad, "cn=config", 9, e->out, 9), -1);
	assert_int_equal(rewrite_dn_in(e->ad, "cn=config", 9, e->out, 10), 9);
}

/*
 * Regression test (fixed): replace_suffix() trims trailing spaces of
 * the kept RDNs without looking at escapes, so an escaped trailing space
 * ("CN=a\ ") loses its space and the backslash then escapes the comma:
 * "CN=a\ ,CN=Users,DC=example,DC=com" becomes "CN=a\,cn=users,...", a
 * different DN one RDN shorter.
 */
static void
test_dn_in_escaped_trailing_space(void **state)
{
	struct env *e = *state;
	DN_IN(e->ad, "CN=a\\ ,CN=Users,DC=example,DC=com", "CN=a\\ ," REAL_USERS);
}

/*
 * Regression test (fixed): rdn_starts() stops counting at 128 RDNs, so
 * for a longer DN replace_suffix() cuts at the wrong place and drops RDNs
 * instead of failing: the result is a different, shorter DN.
 */
static void
test_dn_in_many_rdns(void **state)
{
	struct env *e = *state;
	char dn[DN_MAX], want[DN_MAX];
	size_t o = 0, w = 0;
	for (int i = 0; i < 140; i++) {
		o += (size_t)snprintf(dn + o, sizeof(dn) - o, "c=%d,", i % 10);
		w += (size_t)snprintf(want + w, sizeof(want) - w, "c=%d,", i % 10);
	}
	snprintf(dn + o, sizeof(dn) - o, "CN=Users,DC=example,DC=com");
	snprintf(want + w, sizeof(want) - w, REAL_USERS);
	int n = rewrite_dn_in(e->ad, dn, strlen(dn), e->out, sizeof(e->out));
	if (n >= 0 && strcmp(e->out, want) != 0)
		fail_msg("a DN of 143 RDNs mapped to a DN of a different length (%d bytes, %zu expected): %s", n,
		    strlen(want), e->out);
}

/* ------------------------------------------------------------------ */
/* DNs out                                                              */

static void
test_dn_out_longest_match(void **state)
{
	struct env *e = *state;
	DN_OUT(e->ad, "uid=alice," REAL_USERS, "uid=alice," VIRT_USERS);
	DN_OUT(e->ad, ADMINS_DN, "cn=admins," VIRT_GROUPS);
	DN_OUT(e->ad, "cn=helpdesk,cn=roles,cn=accounts,dc=ald,dc=test", "cn=helpdesk,cn=roles,cn=accounts,DC=example,DC=com");
}

static void
test_dn_out_case_kept(void **state)
{
	struct env *e = *state;
	DN_OUT(e->ad, "UID=Alice,CN=Users,CN=Accounts,DC=ALD,DC=TEST", "UID=Alice," VIRT_USERS);
}

static void
test_dn_out_suffix_itself(void **state)
{
	struct env *e = *state;
	DN_OUT(e->ad, "dc=ald,dc=test", "DC=example,DC=com");
	DN_OUT(e->ad, REAL_USERS, VIRT_USERS);
	DN_OUT(e->ad, "cn=accounts,dc=ald,dc=test", "cn=accounts,DC=example,DC=com");
}

static void
test_dn_out_escaped_comma(void **state)
{
	struct env *e = *state;
	DN_OUT(e->ad, "cn=Smith\\, John," REAL_GROUPS, "cn=Smith\\, John," VIRT_GROUPS);
}

static void
test_dn_out_outside_unchanged(void **state)
{
	struct env *e = *state;
	DN_OUT(e->ad, "cn=config", "cn=config");
	DN_OUT(e->ad, "o=ipaca", "o=ipaca");
	DN_OUT(e->ad, "dc=test", "dc=test");
	DN_OUT(e->ad, "uid=a,dc=xald,dc=test", "uid=a,dc=xald,dc=test");
	DN_OUT(e->plain, "uid=alice," REAL_USERS, "uid=alice," REAL_USERS);
}

static void
test_dn_round_trip(void **state)
{
	struct env *e = *state;
	static const char *const dns[] = { "uid=alice," VIRT_USERS, "cn=admins," VIRT_GROUPS, "ou=x,DC=example,DC=com",
		"DC=example,DC=com", VIRT_USERS };
	for (size_t i = 0; i < sizeof(dns) / sizeof(dns[0]); i++) {
		char real[DN_MAX];
		snprintf(real, sizeof(real), "%s", dn_in(e, e->ad, dns[i]));
		DN_OUT(e->ad, real, dns[i]);
	}
}

/* ------------------------------------------------------------------ */
/* filters                                                              */

static void
test_filter_sam_account_name(void **state)
{
	struct env *e = *state;
	RF(e->ad, "(sAMAccountName=alice)", "(uid=alice)");
	RF(e->ad, "(samaccountname=alice)", "(uid=alice)");
	RF(e->ad, "(sAMAccountName=al*)", "(uid=al*)");
	RF(e->ad, "(sAMAccountName=*)", "(uid=*)");
	RF(e->ad, "(name=Alice*)", "(cn=Alice*)");
	RF(e->ad, "(userPrincipalName=alice@EXAMPLE.COM)", "(krbPrincipalName=alice@EXAMPLE.COM)");
}

static void
test_filter_object_class_map(void **state)
{
	struct env *e = *state;
	RF(e->ad, "(objectClass=user)", "(objectClass=person)");
	RF(e->ad, "(objectclass=USER)", "(objectclass=person)");
	RF(e->ad, "(objectClass=group)", "(objectClass=groupOfNames)");
	RF(e->ad, "(objectClass=inetOrgPerson)", "(objectClass=inetOrgPerson)");
	RF(e->ad, "(objectClass=users)", "(objectClass=users)");
	RF(e->ad, "(&(objectClass=user)(sAMAccountName=alice))", "(&(objectClass=person)(uid=alice))");
}

static void
test_filter_object_category_by_name(void **state)
{
	struct env *e = *state;
	RF(e->ad, "(objectCategory=person)", "(objectClass=person)");
	RF(e->ad, "(objectCategory=Person)", "(objectClass=person)");
	RF(e->ad, "(objectCategory=group)", "(objectClass=groupOfNames)");
	RF(e->ad, "(objectCategory=groupOfNames)", "(objectClass=groupOfNames)");
	RF(e->ad, "(objectCategory=computer)", "(|)");
}

static void
test_filter_object_category_by_dn(void **state)
{
	struct env *e = *state;
	RF(e->ad, "(objectCategory=CN=Person,CN=Schema,CN=Configuration,DC=example,DC=com)", "(objectClass=person)");
	RF(e->ad, "(objectCategory=cn=group,cn=schema,cn=configuration,dc=example,dc=com)",
	    "(objectClass=groupOfNames)");
	RF(e->ad, "(objectCategory=CN=Computer,CN=Schema,CN=Configuration,DC=example,DC=com)", "(|)");
}

static void
test_filter_object_category_present(void **state)
{
	struct env *e = *state;
	RF(e->ad, "(objectCategory=*)", "(|(objectClass=person)(objectClass=groupOfNames))");
}

static void
test_filter_sam_account_type(void **state)
{
	struct env *e = *state;
	RF(e->ad, "(sAMAccountType=805306368)", "(objectClass=person)");
	RF(e->ad, "(sAMAccountType=268435456)", "(objectClass=groupOfNames)");
	RF(e->ad, "(sAMAccountType=805306369)", "(|)");
}

#define UAC "userAccountControl"
#define LOCKED "(&(objectClass=person)(nsAccountLock=TRUE))"

static void
test_filter_uac_and_2(void **state)
{
	struct env *e = *state;
	RF(e->ad, "(" UAC ":" AD_RULE_AND ":=2)", LOCKED);
	RF(e->ad, "(!(" UAC ":" AD_RULE_AND ":=2))", "(!" LOCKED ")");
	RF(e->ad, "(" UAC ":" AD_RULE_AND ":=514)", LOCKED);
}

static void
test_filter_uac_and_512(void **state)
{
	struct env *e = *state;
	RF(e->ad, "(" UAC ":" AD_RULE_AND ":=512)", "(objectClass=person)");
}

static void
test_filter_uac_or_2(void **state)
{
	struct env *e = *state;
	RF(e->ad, "(" UAC ":" AD_RULE_OR ":=2)", LOCKED);
	RF(e->ad, "(" UAC ":" AD_RULE_OR ":=512)", "(objectClass=person)");
	RF(e->ad, "(" UAC ":" AD_RULE_OR ":=514)", "(objectClass=person)");
	/* 512 is always set: 16|512 matches every user */
	RF(e->ad, "(" UAC ":" AD_RULE_OR ":=528)", "(objectClass=person)");
}

static void
test_filter_uac_eq(void **state)
{
	struct env *e = *state;
	RF(e->ad, "(" UAC "=512)", "(&(objectClass=person)(!(nsAccountLock=TRUE)))");
	RF(e->ad, "(" UAC "=514)", LOCKED);
}

static void
test_filter_uac_present(void **state)
{
	struct env *e = *state;
	RF(e->ad, "(" UAC "=*)", "(objectClass=person)");
}

static void
test_filter_uac_other_bits_false(void **state)
{
	struct env *e = *state;
	RF(e->ad, "(" UAC ":" AD_RULE_AND ":=16)", "(|)");
	RF(e->ad, "(" UAC ":" AD_RULE_AND ":=66048)", "(|)");     /* DONT_EXPIRE_PASSWORD | NORMAL */
	RF(e->ad, "(" UAC ":" AD_RULE_AND ":=8388608)", "(|)");
	RF(e->ad, "(" UAC ":" AD_RULE_OR ":=16)", "(|)");
	RF(e->ad, "(" UAC "=66048)", "(|)");
	RF(e->ad, "(" UAC "=0)", "(|)");
}

static void
test_filter_uac_garbage_false(void **state)
{
	struct env *e = *state;
	RF(e->ad, "(" UAC "=abc)", "(|)");
	RF(e->ad, "(" UAC ":" AD_RULE_AND ":=2x)", "(|)");
	RF(e->ad, "(" UAC ":1.2.3.4:=2)", "(|)");
	RF(e->ad, "(" UAC ">=512)", "(|)");
	RF(e->ad, "(" UAC "=5*)", "(|)");
}

static void
test_filter_member_of_in_chain(void **state)
{
	struct env *e = *state;
	RF(e->ad, "(memberOf:" AD_RULE_CHAIN ":=CN=Portal-Users," VIRT_GROUPS ")", "(memberOf=CN=Portal-Users," REAL_GROUPS ")");
	RF(e->ad, "(&(objectClass=user)(memberOf:" AD_RULE_CHAIN ":=cn=admins,cn=groups,dc=example,dc=com))",
	    "(&(objectClass=person)(memberOf=cn=admins," REAL_GROUPS "))");
}

/* The resolver of the nested-group tests: carol is in developers and, through it, engineering, and has a role. */
static char chain_asked[256];

static int
chain_stub(const char *ndn, size_t len, const char *const **groups, size_t *n)
{
	static const char *const carol[] = { "cn=developers," REAL_GROUPS, "cn=engineering," REAL_GROUPS,
		"cn=helpdesk,cn=roles,cn=accounts,dc=ald,dc=test" };
	snprintf(chain_asked, sizeof(chain_asked), "%.*s", (int)len, ndn);
	if (strstr(chain_asked, "uid=carol,") != chain_asked)
		return 0;
	*groups = carol;
	*n = 3;
	return 1;
}

static int
collect_users(const char *ndn, size_t len, void *arg)
{
	char *out = arg;
	size_t o = strlen(out);
	snprintf(out + o, 512 - o, "%s%.*s", o ? ";" : "", (int)len, ndn);
	return 0;
}

static const char *
rf_chain(struct env *e, const struct profile *p, const char *f)
{
	struct fnode *t = NULL;
	const char *err = NULL;
	if (filter_parse(&e->a, f, &t, &err) != 0)
		fail_msg("filter_parse(\"%s\"): %s", f, err);
	struct fnode *r = rewrite_filter(p, &e->a, t, 0, chain_stub);
	if (r == NULL || filter_print(r, e->txt, sizeof(e->txt)) < 0)
		fail_msg("rewrite_filter(\"%s\") failed", f);
	return e->txt;
}

static void
test_filter_member_in_chain_nested(void **state)
{
	struct env *e = *state;
	const char *g = "(member=uid=carol," REAL_USERS ")(member=cn=developers," REAL_GROUPS ")(member=cn=engineering,"
	    REAL_GROUPS ")";
	char want[1024];
	/* alone: the user and every group of hers, the role too when the profile shows roles */
	snprintf(want, sizeof(want), "(|%s%s)", g, e->ad->memberof_groups_only ? "" :
	    "(member=cn=helpdesk,cn=roles,cn=accounts,dc=ald,dc=test)");
	assert_string_equal(rf_chain(e, e->ad, "(member:" AD_RULE_CHAIN ":=uid=carol," VIRT_USERS ")"), want);
	assert_string_equal(chain_asked, "uid=carol,cn=users,cn=accounts,dc=ald,dc=test");
	/* in every position, its siblings kept */
	char in[512];
	snprintf(in, sizeof(in), "(&(cn=a*)(member:" AD_RULE_CHAIN ":=uid=carol," VIRT_USERS ")(description=x))");
	snprintf(want, sizeof(want), "(&(cn=a*)(|%s%s)(description=x))", g, e->ad->memberof_groups_only ? "" :
	    "(member=cn=helpdesk,cn=roles,cn=accounts,dc=ald,dc=test)");
	assert_string_equal(rf_chain(e, e->ad, in), want);
	snprintf(in, sizeof(in), "(|(cn=b)(!(member:" AD_RULE_CHAIN ":=uid=carol," VIRT_USERS ")))");
	snprintf(want, sizeof(want), "(|(cn=b)(!(|%s%s)))", g, e->ad->memberof_groups_only ? "" :
	    "(member=cn=helpdesk,cn=roles,cn=accounts,dc=ald,dc=test)");
	assert_string_equal(rf_chain(e, e->ad, in), want);
	/* a user the resolver does not know (or explain, with no resolver): the direct groups */
	assert_string_equal(rf_chain(e, e->ad, "(member:" AD_RULE_CHAIN ":=uid=bob," VIRT_USERS ")"),
	    "(member=uid=bob," REAL_USERS ")");
	RF(e->ad, "(member:" AD_RULE_CHAIN ":=uid=carol," VIRT_USERS ")", "(member=uid=carol," REAL_USERS ")");
	/* memberOf stays an equality: FreeIPA's memberOf is transitive already */
	assert_string_equal(rf_chain(e, e->ad, "(memberOf:" AD_RULE_CHAIN ":=CN=Portal-Users," VIRT_GROUPS ")"),
	    "(memberOf=CN=Portal-Users," REAL_GROUPS ")");
	/* the users a search must have read first, in the directory's terms, normalized */
	struct fnode *t = NULL;
	const char *err = NULL;
	char users[512] = "";
	assert_int_equal(filter_parse(&e->a, "(|(member:" AD_RULE_CHAIN ":=uid=Carol," VIRT_USERS ")(cn=x)(!(member:"
	    AD_RULE_CHAIN ":=uid=bob," VIRT_USERS "))(member=uid=dave," VIRT_USERS "))", &t, &err), 0);
	assert_int_equal(rewrite_chain_users(e->ad, t, collect_users, users), 0);
	assert_string_equal(users, "uid=carol,cn=users,cn=accounts,dc=ald,dc=test;uid=bob,cn=users,cn=accounts,dc=ald,dc=test");
}

static void
test_member_uid(void **state)
{
	struct env *e = *state;
	/* (memberUid=carol): every group carol is in, nested ones included, as rfc2307 clients (SSSD) ask */
	char want[1024];
	snprintf(want, sizeof(want), "(&(objectClass=posixGroup)(|(member=uid=carol," REAL_USERS ")(member=cn=developers,"
	    REAL_GROUPS ")(member=cn=engineering," REAL_GROUPS ")%s))", e->ad->memberof_groups_only ? "" :
	    "(member=cn=helpdesk,cn=roles,cn=accounts,dc=ald,dc=test)");
	assert_string_equal(rf_chain(e, e->ad, "(&(objectClass=posixGroup)(memberUid=carol))"), want);
	assert_string_equal(chain_asked, "uid=carol,cn=users,cn=accounts,dc=ald,dc=test");
	/* special characters are escaped into the DN; an unknown user: direct membership only */
	/* (the DN's backslash, printed in the filter as \5c) */
	assert_string_equal(rf_chain(e, e->ad, "(memberUid=a\\2cb)"), "(member=uid=a\\5c,b," REAL_USERS ")");
	assert_string_equal(rf_chain(e, e->ad, "(memberUid=*)"), "(member=*)");
	assert_string_equal(rf_chain(e, e->ad, "(memberUid=c*)"), "(|)");
	/* the users a search must read first include memberUid's */
	struct fnode *t = NULL;
	const char *err = NULL;
	char users[512] = "";
	assert_int_equal(filter_parse(&e->a, "(|(memberUid=Bob)(cn=x))", &t, &err), 0);
	assert_int_equal(rewrite_chain_users(e->ad, t, collect_users, users), 0);
	assert_string_equal(users, "uid=bob,cn=users,cn=accounts,dc=ald,dc=test");
}

static void
test_filter_member_mapped(void **state)
{
	struct env *e = *state;
	RF(e->ad, "(member=uid=alice," VIRT_USERS ")", "(member=uid=alice," REAL_USERS ")");
	RF(e->ad, "(memberOf=CN=admins," VIRT_GROUPS ")", "(memberOf=CN=admins," REAL_GROUPS ")");
	RF(e->ad, "(manager=uid=boss," VIRT_USERS ")", "(manager=uid=boss," REAL_USERS ")");
	/* DNs outside the tree and values that are no DN stay */
	RF(e->ad, "(member=uid=x,dc=other)", "(member=uid=x,dc=other)");
	RF(e->ad, "(member=*)", "(member=*)");
}

static void
test_filter_distinguished_name(void **state)
{
	struct env *e = *state;
	RF(e->ad, "(distinguishedName=uid=alice," VIRT_USERS ")", "(entryDN=uid=alice," REAL_USERS ")");
	RF(e->ad, "(distinguishedName=*)", "(&)");
	RF(e->ad, "(distinguishedName=uid=*)", "(|)");
}

static void
test_filter_object_guid(void **state)
{
	struct env *e = *state;
	RF(e->ad, "(objectGUID=\\33\\22\\11\\00\\55\\44\\77\\66\\88\\99\\aa\\bb\\cc\\dd\\ee\\ff)", "(ipaUniqueID=" UUID_A ")");
	RF(e->ad, "(objectGUID=*)", "(ipaUniqueID=*)");
	RF(e->ad, "(objectGUID=" UUID_A ")", "(ipaUniqueID=" UUID_A ")");
	RF(e->ad, "(objectGUID=\\33\\22)", "(|)");
}

static void
test_sid_layout(void **state)
{
	(void)state;
	/* MS-DTYP 2.4.2.2: S-1-5-21-100-200-300-1000 */
	static const unsigned char want[] = { 1, 5, 0, 0, 0, 0, 0, 5, 21, 0, 0, 0, 100, 0, 0, 0, 200, 0, 0, 0,
		0x2c, 1, 0, 0, 0xe8, 3, 0, 0 };
	unsigned char sid[SID_MAX];
	char str[SID_STR_MAX];
	const char *s = "S-1-5-21-100-200-300-1000";
	assert_int_equal(sid_from_string(s, strlen(s), sid), sizeof(want));
	assert_memory_equal(sid, want, sizeof(want));
	assert_int_equal(sid_to_string(sid, sizeof(want), str, sizeof(str)), (int)strlen(s));
	assert_string_equal(str, s);
	/* the largest sub-authority, and the smallest SID (S-1-5-18, LocalSystem) */
	s = "S-1-5-21-4294967295-1-2-3";
	assert_int_equal(sid_from_string(s, strlen(s), sid), 28);
	assert_int_equal(sid_to_string(sid, 28, str, sizeof(str)), (int)strlen(s));
	assert_string_equal(str, s);
	assert_int_equal(sid_from_string("S-1-5-18", 8, sid), 12);
	/* not SIDs */
	const char *bad[] = { "", "S-1", "S-1-5", "S-2-5-21", "S-1-5-21-4294967296", "S-1-5-21-", "S-1-5--21", "S-1-5-x",
		"X-1-5-21", "S-1-5-21-1-2-3-4-5-6-7-8-9-10-11-12-13-14-15-16", "S-1-281474976710656-1" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(sid_from_string(bad[i], strlen(bad[i]), sid), 0);
	assert_int_equal(sid_to_string(want, sizeof(want) - 1, str, sizeof(str)), -1);   /* cut short */
	assert_int_equal(sid_to_string(want, sizeof(want), str, 10), -1);                 /* no room */
}

static void
test_filter_object_sid(void **state)
{
	struct env *e = *state;
	/* binary, as AD tools send it; AD's string form; presence */
	RF(e->ad, "(objectSid=\\01\\05\\00\\00\\00\\00\\00\\05\\15\\00\\00\\00\\64\\00\\00\\00\\c8\\00\\00\\00"
	    "\\2c\\01\\00\\00\\e8\\03\\00\\00)", "(ipaNTSecurityIdentifier=S-1-5-21-100-200-300-1000)");
	RF(e->ad, "(objectSid=S-1-5-21-100-200-300-1000)", "(ipaNTSecurityIdentifier=S-1-5-21-100-200-300-1000)");
	RF(e->ad, "(objectSid=*)", "(ipaNTSecurityIdentifier=*)");
	RF(e->ad, "(objectSid=\\01\\05)", "(|)");
	RF(e->ad, "(objectSid>=S-1-5-21-1)", "(|)");
	/* primaryGroupID: every user's is Domain Users (513) */
	RF(e->ad, "(&(objectClass=user)(primaryGroupID=513))", "(&(objectClass=person)(objectClass=person))");
	RF(e->ad, "(primaryGroupID=512)", "(|)");
}

static void
test_filter_object_guid_built(void **state)
{
	struct env *e = *state;
	unsigned char g[16];
	assert_int_equal(guid_from_uuid(UUID_A, 36, g), 0);
	struct fnode *f = fnode_eq(&e->a, "objectGUID", (const char *)g, 16);
	assert_non_null(f);
	f = rewrite_filter(e->ad, &e->a, f, 0, NULL);
	assert_non_null(f);
	assert_true(filter_print(f, e->txt, sizeof(e->txt)) > 0);
	assert_string_equal(e->txt, "(ipaUniqueID=" UUID_A ")");
}

static void
test_filter_combined(void **state)
{
	struct env *e = *state;
	RF(e->ad,
	    "(&(objectCategory=person)(objectClass=user)(!(" UAC ":" AD_RULE_AND ":=2))(|(sAMAccountName=a*)(mail=*)))",
	    "(&(objectClass=person)(objectClass=person)(!" LOCKED ")(|(uid=a*)(mail=*)))");
}

static void
test_filter_visibility_wrap(void **state)
{
	struct env *e = *state;
	RFV(e->vis, "(uid=alice)", "(&(uid=alice)(|(!(objectClass=person))(memberOf=" PORTAL_REAL ")))");
	RFV(e->vis, "(objectClass=*)", "(&(objectClass=*)(|(!(objectClass=person))(memberOf=" PORTAL_REAL ")))");
}

/* DN assertions naming entries the profile does not see match nothing (visset.h). */
static void
test_filter_invisible_values(void **state)
{
	struct env *e = *state;
	RF(e->vis, "(member=uid=alice," REAL_USERS ")", "(member=uid=alice," REAL_USERS ")");
	RF(e->vis, "(member=uid=dave," REAL_USERS ")", "(|)");
	RF(e->vis, "(&(objectClass=groupOfNames)(uniqueMember=UID=Dave," REAL_USERS "))", "(&(objectClass=groupOfNames)(|))");
	RF(e->vis, "(manager=uid=nobody," REAL_USERS ")", "(|)");
	RF(e->vis, "(memberOf=cn=helpdesk,cn=roles,cn=accounts,dc=ald,dc=test)", "(|)");
	RF(e->vis, "(memberOf=" ADMINS_DN ")", "(memberOf=" ADMINS_DN ")");
	RF(e->vis, "(memberUid=alice)", "(memberUid=alice)");
	RF(e->vis, "(memberUid=dave)", "(|)");
	RF(e->vis, "(member:" AD_RULE_CHAIN ":=uid=dave," REAL_USERS ")", "(|)");
	/* without visible groups nothing changes */
	RF(e->plain, "(member=uid=dave," REAL_USERS ")", "(member=uid=dave," REAL_USERS ")");
}

/* rewrite_entry()'s verdict alone: 0 shown, 1 not visible. */
static int
entry_rc(struct env *e, const struct profile *p, const struct want *w, const char *dn, const struct tattr *at, size_t n)
{
	struct msg m = entry_msg(3, dn, at, n);
	BerElement *ber = ber_alloc_t(LBER_USE_DER);
	struct evbuffer *out = evbuffer_new();
	arena_reset(&e->a);
	int rc = rewrite_entry(p, w, &e->a, ber, m.buf, m.len, 7, out);
	if (rc == 1)
		assert_int_equal(evbuffer_get_length(out), 0);
	evbuffer_free(out);
	ber_free(ber, 0);
	free(m.buf);
	return rc;
}

static void
test_entry_visibility(void **state)
{
	struct env *e = *state;
	struct want *w = attrs(e, e->vis, NULL, 0);
	assert_non_null(strstr(e->txt, "memberOf"));        /* every entry's memberOf is read */
	/* alice: a member of portal-users; her invisible manager and the roles/rules she is in are not shown */
	struct dentry *d = rewrite(e, e->vis, w, ALICE_DN, ALICE, NALICE);
	assert_null(dget(d, "manager"));
	const struct dattr *mo = dget(d, "memberOf");
	assert_non_null(mo);
	assert_true(dhas_value(mo, PORTAL_REAL));
	assert_true(dhas_value(mo, ADMINS_DN));
	assert_false(dhas_value(mo, "cn=helpdesk,cn=roles,cn=accounts,dc=ald,dc=test"));
	assert_false(dhas_value(mo, "cn=sudo-all,cn=sudorules,cn=sudo,dc=ald,dc=test"));
	free(d);
	/* bob: in no visible group */
	assert_int_equal(entry_rc(e, e->vis, w, BOB_DN, BOB, NBOB), 1);
	/* alice's twin in the compat tree, a system account: outside every base the profile shows */
	assert_int_equal(entry_rc(e, e->vis, w, "uid=alice,cn=users,cn=compat,dc=ald,dc=test", ALICE, NALICE), 1);
	assert_int_equal(entry_rc(e, e->vis, w, "uid=vis,cn=sysaccounts,cn=etc,dc=ald,dc=test", BOB, NBOB), 1);
	/* a group: shown, with its invisible members left out */
	d = rewrite(e, e->vis, w, ADMINS_DN, ADMINS, NADMINS);
	const struct dattr *mem = dget(d, "member");
	assert_non_null(mem);
	assert_int_equal(mem->n, 1);
	assert_true(dhas_value(mem, ALICE_DN));
	free(d);
	/* containers on the way */
	static const struct tattr CONT[] = { { "objectClass", { "top", "nsContainer", NULL } }, { "cn", { "users", NULL } } };
	assert_int_equal(entry_rc(e, e->vis, w, REAL_USERS, CONT, 2), 0);
	assert_int_equal(entry_rc(e, e->vis, w, "cn=accounts,dc=ald,dc=test", CONT, 2), 0);
	free(w);
}

static void
test_filter_visibility_off(void **state)
{
	struct env *e = *state;
	RF(e->ad, "(sAMAccountName=alice)", "(uid=alice)");
}

static void
test_filter_visibility_without_groups(void **state)
{
	struct env *e = *state;
	RFV(e->crm, "(sAMAccountName=alice)", "(uid=alice)");
	RFV(e->plain, "(uid=alice)", "(uid=alice)");
}

static void
test_filter_plain_untouched(void **state)
{
	struct env *e = *state;
	static const char *const fs[] = {
		"(&(objectClass=person)(|(uid=al*ce)(mail=*@example.com))(!(nsAccountLock=TRUE)))",
		"(sAMAccountName=alice)",
		"(objectClass=user)",
		"(member=uid=alice,CN=Users,DC=example,DC=com)",
		"(userAccountControl:1.2.840.113556.1.4.803:=2)",
		"(objectGUID=*)",
		"(cn:dn:2.5.13.5:=x)",
		"(uidNumber>=1000)",
		"(cn~=alise)",
	};
	for (size_t i = 0; i < sizeof(fs) / sizeof(fs[0]); i++) {
		RF(e->plain, fs[i], fs[i]);
		RFV(e->plain, fs[i], fs[i]);
	}
}

static void
test_filter_crm(void **state)
{
	struct env *e = *state;
	RF(e->crm, "(&(sAMAccountName=alice)(objectGUID=*))", "(&(uid=alice)(ipaUniqueID=*))");
	RF(e->crm, "(objectClass=user)", "(objectClass=user)");
}

static const char BIG_AD[] =
    "(&(objectCategory=person)(objectClass=user)(!(userAccountControl:1.2.840.113556.1.4.803:=2))"
    "(|(sAMAccountName=a*)(userAccountControl=512)(memberOf:1.2.840.113556.1.4.1941:=CN=x,CN=Groups,DC=example,DC=com)"
    "(objectGUID=*)(distinguishedName=uid=a,CN=Users,DC=example,DC=com)))";

/* A small arena: NULL, never a crash or a half-rewritten result passed off as whole. */
static void
test_filter_arena_exhausted(void **state)
{
	struct env *e = *state;
	const char *expect;
	{
		char buf[2048];
		snprintf(buf, sizeof(buf), "%s", rf(e, e->ad, BIG_AD, 1));
		expect = strdup(buf);
	}
	int ok = 0;
	for (size_t cap = 0; cap < 16384 && !ok; cap += 8) {
		struct fnode *t = NULL;
		const char *err;
		arena_reset(&e->a);
		assert_int_equal(filter_parse(&e->a, BIG_AD, &t, &err), 0);
		struct arena small;
		assert_int_equal(arena_init(&small, cap), 0);
		struct fnode *r = rewrite_filter(e->ad, &small, t, 1, NULL);
		if (r != NULL) {
			assert_true(filter_print(r, e->txt, sizeof(e->txt)) > 0);
			assert_string_equal(e->txt, expect);
			ok = 1;
		}
		arena_free(&small);
	}
	assert_true(ok);
	free((void *)expect);
}

/* ------------------------------------------------------------------ */
/* attribute lists                                                      */

static void
test_attrs_star_adds_sources(void **state)
{
	struct env *e = *state;
	static const char *const a[] = { "*", NULL };
	struct want *w = attrs(e, e->ad, a, 0);
	assert_string_equal(e->txt, "* ipaUniqueID nsAccountLock objectClass ipaNTSecurityIdentifier member uid cn");
	assert_true(w->all_user);
	assert_false(w->all_oper);
	assert_false(w->typesonly);
	assert_int_equal(w->n, 0);
	/* the lock flag is read only to compute userAccountControl */
	assert_true(want_has_extra(w, "nsAccountLock"));
	assert_false(want_has_extra(w, "ipaUniqueID"));
	assert_false(want_has_extra(w, "uid"));
	assert_int_equal(w->nextra, 1);
	free(w);
}

static void
test_attrs_empty_list_is_star(void **state)
{
	struct env *e = *state;
	struct want *w = attrs(e, e->ad, NULL, 0);
	assert_string_equal(e->txt, "* ipaUniqueID nsAccountLock objectClass ipaNTSecurityIdentifier member uid cn");
	assert_true(w->all_user);
	assert_true(want_has_extra(w, "nsAccountLock"));
	free(w);
}

static void
test_attrs_star_and_lock_by_name(void **state)
{
	struct env *e = *state;
	static const char *const a[] = { "*", "nsAccountLock", NULL };
	struct want *w = attrs(e, e->ad, a, 0);
	assert_true(w->all_user);
	assert_true(want_has_name(w, "nsAccountLock"));
	assert_false(want_has_extra(w, "nsAccountLock"));
	free(w);
}

static void
test_attrs_plus(void **state)
{
	struct env *e = *state;
	static const char *const a[] = { "*", "+", NULL };
	struct want *w = attrs(e, e->ad, a, 0);
	assert_true(w->all_oper);
	assert_non_null(strstr(e->txt, "* +"));
	free(w);
}

static void
test_attrs_named_virtual(void **state)
{
	struct env *e = *state;
	static const char *const a[] = { "sAMAccountName", "objectGUID", "userAccountControl", "name", NULL };
	struct want *w = attrs(e, e->ad, a, 0);
	assert_string_equal(e->txt, "uid ipaUniqueID nsAccountLock objectClass cn");
	assert_false(w->all_user);
	assert_int_equal(w->n, 4);
	assert_true(want_has_name(w, "sAMAccountName"));
	assert_true(want_has_name(w, "objectGUID"));
	assert_true(want_has_name(w, "userAccountControl"));
	assert_true(want_has_name(w, "name"));
	assert_int_equal(w->nextra, 0);
	free(w);
}

static void
test_attrs_named_default(void **state)
{
	struct env *e = *state;
	static const char *const a[] = { "mail", "displayName", NULL };
	struct want *w = attrs(e, e->ad, a, 0);
	/* the placeholders' attributes are read to fill the defaults */
	assert_string_equal(e->txt, "mail objectClass uid displayName cn");
	free(w);
}

static void
test_attrs_named_category(void **state)
{
	struct env *e = *state;
	static const char *const a[] = { "objectCategory", "sAMAccountType", "distinguishedName", NULL };
	struct want *w = attrs(e, e->ad, a, 0);
	assert_string_equal(e->txt, "objectClass");
	assert_int_equal(w->n, 3);
	free(w);
}

static void
test_attrs_one_one(void **state)
{
	struct env *e = *state;
	static const char *const a[] = { "1.1", NULL };
	struct want *w = attrs(e, e->ad, a, 0);
	assert_string_equal(e->txt, "1.1");
	assert_false(w->all_user);
	assert_int_equal(w->n, 0);
	free(w);
}

static void
test_attrs_dn_only(void **state)
{
	struct env *e = *state;
	static const char *const a[] = { "distinguishedName", NULL };
	struct want *w = attrs(e, e->ad, a, 0);
	/* computed from the entry's DN alone */
	assert_string_equal(e->txt, "1.1");
	assert_int_equal(w->n, 1);
	free(w);
}

static void
test_attrs_secret_dropped(void **state)
{
	struct env *e = *state;
	static const char *const a[] = { "userPassword", "krbPrincipalKey", "2.5.4.35", NULL };
	struct want *w = attrs(e, e->ad, a, 0);
	assert_string_equal(e->txt, "1.1");
	assert_int_equal(w->n, 0);
	free(w);
}

static void
test_attrs_typesonly_kept(void **state)
{
	struct env *e = *state;
	static const char *const a[] = { "cn", NULL };
	struct want *w = attrs(e, e->ad, a, 1);
	assert_true(w->typesonly);
	free(w);
}

static void
test_attrs_allowlist_star(void **state)
{
	struct env *e = *state;
	static const char *const a[] = { "*", NULL };
	struct want *w = attrs(e, e->crm, a, 0);
	assert_string_equal(e->txt, "uid cn mail ipaUniqueID objectClass");
	assert_int_equal(w->n, 5);
	assert_true(want_has_name(w, "sAMAccountName"));
	assert_true(want_has_name(w, "cn"));
	assert_true(want_has_name(w, "mail"));
	assert_true(want_has_name(w, "objectGUID"));
	assert_true(want_has_name(w, "objectClass"));
	free(w);
}

static void
test_attrs_allowlist_named(void **state)
{
	struct env *e = *state;
	static const char *const a[] = { "telephoneNumber", "sAMAccountName", "uid", NULL };
	struct want *w = attrs(e, e->crm, a, 0);
	assert_string_equal(e->txt, "uid");
	assert_int_equal(w->n, 1);
	assert_true(want_has_name(w, "sAMAccountName"));
	free(w);
}

static void
test_attrs_allowlist_nothing_allowed(void **state)
{
	struct env *e = *state;
	static const char *const a[] = { "telephoneNumber", "+", NULL };
	struct want *w = attrs(e, e->crm, a, 0);
	assert_string_equal(e->txt, "1.1");
	free(w);
}

static void
test_attrs_output_too_small(void **state)
{
	struct env *e = *state;
	struct berval a = { 1, "*" };
	unsigned char out[128];
	struct want *w = (struct want *)0x1;
	/* "* ipaUniqueID nsAccountLock objectClass ipaNTSecurityIdentifier member uid cn" is 79 bytes encoded */
	assert_int_equal(rewrite_attrs(e->ad, &a, 1, 0, out, 10, &w), 0);
	assert_null(w);
	size_t n = rewrite_attrs(e->ad, &a, 1, 0, out, sizeof(out), &w);
	assert_true(n > 10);
	free(w);
	for (size_t cap = 0; cap < n; cap++) {
		w = (struct want *)0x1;
		assert_int_equal(rewrite_attrs(e->ad, &a, 1, 0, out, cap, &w), 0);
		assert_null(w);
	}
}

/* ------------------------------------------------------------------ */
/* entries                                                              */

static void
test_entry_dn_mapped(void **state)
{
	struct env *e = *state;
	struct want *w = attrs(e, e->ad, NULL, 0);
	struct dentry *d = rewrite(e, e->ad, w, ALICE_DN, ALICE, NALICE);
	assert_string_equal(d->dn, "uid=alice," VIRT_USERS);
	free(d);
	d = rewrite(e, e->ad, w, "UID=Alice,CN=Users,CN=Accounts,DC=ALD,DC=TEST", ALICE, NALICE);
	assert_string_equal(d->dn, "UID=Alice," VIRT_USERS);
	free(d);
	d = rewrite(e, e->ad, w, "cn=config", ALICE, NALICE);
	assert_string_equal(d->dn, "cn=config");
	free(d);
	free(w);
}

static void
test_entry_names(void **state)
{
	struct env *e = *state;
	struct want *w = attrs(e, e->ad, NULL, 0);
	struct dentry *d = rewrite(e, e->ad, w, ALICE_DN, ALICE, NALICE);
	assert_string_equal(dval(d, "sAMAccountName"), "alice");
	assert_string_equal(dval(d, "uid"), "alice");
	assert_string_equal(dval(d, "name"), "Alice Liddell");
	assert_string_equal(dval(d, "cn"), "Alice Liddell");
	assert_string_equal(dval(d, "userPrincipalName"), "alice@ALD.TEST");
	assert_string_equal(dval(d, "sn"), "Liddell");
	assert_string_equal(dval(d, "uidNumber"), "1001");
	free(d);
	free(w);
}

static void
test_entry_object_guid(void **state)
{
	struct env *e = *state;
	struct want *w = attrs(e, e->ad, NULL, 0);
	struct dentry *d = rewrite(e, e->ad, w, ALICE_DN, ALICE, NALICE);
	const struct dattr *g = dget(d, "objectGUID");
	assert_non_null(g);
	assert_int_equal(g->n, 1);
	assert_int_equal(g->len[0], 16);
	unsigned char want[16];
	assert_int_equal(guid_from_uuid(UUID_A, strlen(UUID_A), want), 0);
	assert_memory_equal(g->val[0], want, 16);
	assert_memory_equal(g->val[0], GUID_A, 16);
	free(d);
	/* bob's own GUID */
	d = rewrite(e, e->ad, w, BOB_DN, BOB, NBOB);
	g = dget(d, "objectGUID");
	assert_non_null(g);
	assert_int_equal(guid_from_uuid("a1b2c3d4-e5f6-0718-293a-4b5c6d7e8f90", 36, want), 0);
	assert_memory_equal(g->val[0], want, 16);
	free(d);
	free(w);
}

static void
test_entry_uac_512(void **state)
{
	struct env *e = *state;
	struct want *w = attrs(e, e->ad, NULL, 0);
	struct dentry *d = rewrite(e, e->ad, w, ALICE_DN, ALICE, NALICE);
	assert_string_equal(dval(d, "userAccountControl"), "512");
	free(d);
	/* no lock attribute at all: not locked */
	struct tattr nolock[] = { { "objectClass", { "person", NULL } }, { "uid", { "carol", NULL } } };
	d = rewrite(e, e->ad, w, "uid=carol," REAL_USERS, nolock, 2);
	assert_string_equal(dval(d, "userAccountControl"), "512");
	free(d);
	free(w);
}

static void
test_entry_uac_514(void **state)
{
	struct env *e = *state;
	struct want *w = attrs(e, e->ad, NULL, 0);
	struct dentry *d = rewrite(e, e->ad, w, BOB_DN, BOB, NBOB);
	assert_string_equal(dval(d, "userAccountControl"), "514");
	free(d);
	struct tattr lower[] = { { "objectClass", { "person", NULL } }, { "nsAccountLock", { "true", NULL } } };
	d = rewrite(e, e->ad, w, "uid=carol," REAL_USERS, lower, 2);
	assert_string_equal(dval(d, "userAccountControl"), "514");
	free(d);
	free(w);
}

static void
test_entry_uac_only_people(void **state)
{
	struct env *e = *state;
	struct want *w = attrs(e, e->ad, NULL, 0);
	struct dentry *d = rewrite(e, e->ad, w, ADMINS_DN, ADMINS, NADMINS);
	assert_null(dget(d, "userAccountControl"));
	free(d);
	free(w);
}

static void
test_entry_lock_flag_hidden(void **state)
{
	struct env *e = *state;
	struct want *w = attrs(e, e->ad, NULL, 0);
	struct dentry *d = rewrite(e, e->ad, w, BOB_DN, BOB, NBOB);
	/* read only to compute userAccountControl */
	assert_null(dget(d, "nsAccountLock"));
	free(d);
	free(w);
	static const char *const a[] = { "*", "nsAccountLock", NULL };
	w = attrs(e, e->ad, a, 0);
	d = rewrite(e, e->ad, w, BOB_DN, BOB, NBOB);
	assert_string_equal(dval(d, "nsAccountLock"), "TRUE");
	free(d);
	free(w);
}

static void
test_entry_member_of_groups_only(void **state)
{
	struct env *e = *state;
	struct want *w = attrs(e, e->ad, NULL, 0);
	struct dentry *d = rewrite(e, e->ad, w, ALICE_DN, ALICE, NALICE);
	const struct dattr *m = dget(d, "memberOf");
	assert_non_null(m);
	assert_int_equal(m->n, 2);
	assert_true(dhas_value(m, "cn=portal-users," VIRT_GROUPS));
	assert_true(dhas_value(m, "cn=admins," VIRT_GROUPS));
	for (size_t i = 0; i < m->n; i++) {
		assert_null(strstr(m->val[i], "roles"));
		assert_null(strstr(m->val[i], "hbac"));
		assert_null(strstr(m->val[i], "sudo"));
		assert_null(strstr(m->val[i], "dc=ald"));
	}
	free(d);
	free(w);
}

static void
test_entry_dn_values_mapped(void **state)
{
	struct env *e = *state;
	struct want *w = attrs(e, e->ad, NULL, 0);
	struct dentry *d = rewrite(e, e->ad, w, ALICE_DN, ALICE, NALICE);
	assert_string_equal(dval(d, "manager"), "uid=boss," VIRT_USERS);
	free(d);
	d = rewrite(e, e->ad, w, ADMINS_DN, ADMINS, NADMINS);
	assert_string_equal(d->dn, "cn=admins," VIRT_GROUPS);
	const struct dattr *m = dget(d, "member");
	assert_non_null(m);
	assert_int_equal(m->n, 2);
	assert_true(dhas_value(m, "uid=alice," VIRT_USERS));
	assert_true(dhas_value(m, "uid=svc,cn=sysaccounts,cn=etc,DC=example,DC=com"));
	free(d);
	free(w);
}

static void
test_entry_secrets_never(void **state)
{
	struct env *e = *state;
	static const char *const a[] = { "*", "+", "userPassword", "krbPrincipalKey", NULL };
	struct want *w = attrs(e, e->ad, a, 0);
	struct dentry *d = rewrite(e, e->ad, w, ALICE_DN, ALICE, NALICE);
	assert_null(dget(d, "userPassword"));
	assert_null(dget(d, "krbPrincipalKey"));
	free(d);
	free(w);
	/* named alone: still nothing */
	static const char *const b[] = { "userPassword", NULL };
	w = attrs(e, e->ad, b, 0);
	d = rewrite(e, e->ad, w, ALICE_DN, ALICE, NALICE);
	assert_int_equal(d->n, 0);
	free(d);
	free(w);
	/* a profile without any rewriting the same */
	w = attrs(e, e->plain, a, 0);
	d = rewrite(e, e->plain, w, ALICE_DN, ALICE, NALICE);
	assert_null(dget(d, "userPassword"));
	assert_null(dget(d, "krbPrincipalKey"));
	free(d);
	free(w);
}

static void
test_entry_computed(void **state)
{
	struct env *e = *state;
	struct want *w = attrs(e, e->ad, NULL, 0);
	struct dentry *d = rewrite(e, e->ad, w, ALICE_DN, ALICE, NALICE);
	assert_string_equal(dval(d, "distinguishedName"), "uid=alice," VIRT_USERS);
	assert_string_equal(dval(d, "objectCategory"), "CN=Person,CN=Schema,CN=Configuration,DC=example,DC=com");
	assert_string_equal(dval(d, "sAMAccountType"), "805306368");
	const struct dattr *oc = dget(d, "objectClass");
	assert_true(dhas_value(oc, "person"));
	assert_true(dhas_value(oc, "user"));
	assert_false(dhas_value(oc, "group"));
	free(d);
	d = rewrite(e, e->ad, w, ADMINS_DN, ADMINS, NADMINS);
	assert_string_equal(dval(d, "objectCategory"), "CN=Group,CN=Schema,CN=Configuration,DC=example,DC=com");
	assert_string_equal(dval(d, "sAMAccountType"), "268435456");
	assert_string_equal(dval(d, "distinguishedName"), "cn=admins," VIRT_GROUPS);
	oc = dget(d, "objectClass");
	assert_true(dhas_value(oc, "group"));
	assert_false(dhas_value(oc, "user"));
	free(d);
	free(w);
}

static void
test_entry_defaults_only_when_missing(void **state)
{
	struct env *e = *state;
	struct want *w = attrs(e, e->ad, NULL, 0);
	/* alice has mail: kept, not replaced; no displayName: built from cn */
	struct dentry *d = rewrite(e, e->ad, w, ALICE_DN, ALICE, NALICE);
	assert_string_equal(dval(d, "mail"), "alice@ald.test");
	assert_string_equal(dval(d, "displayName"), "Alice Liddell");
	free(d);
	/* bob has no mail: {uid}@example.com */
	d = rewrite(e, e->ad, w, BOB_DN, BOB, NBOB);
	assert_string_equal(dval(d, "mail"), "bob@example.com");
	free(d);
	struct tattr own[] = { { "objectClass", { "person", NULL } }, { "uid", { "carol", NULL } },
		{ "cn", { "Carol", NULL } }, { "displayName", { "Carol C.", NULL } } };
	d = rewrite(e, e->ad, w, "uid=carol," REAL_USERS, own, 4);
	assert_string_equal(dval(d, "displayName"), "Carol C.");
	free(d);
	free(w);
}

static void
test_entry_defaults_need_placeholder(void **state)
{
	struct env *e = *state;
	struct want *w = attrs(e, e->ad, NULL, 0);
	/* bob has no cn: no displayName */
	struct dentry *d = rewrite(e, e->ad, w, BOB_DN, BOB, NBOB);
	assert_null(dget(d, "displayName"));
	free(d);
	/* no uid either: no mail */
	struct tattr bare[] = { { "objectClass", { "person", NULL } }, { "sn", { "X", NULL } } };
	d = rewrite(e, e->ad, w, "cn=x," REAL_USERS, bare, 2);
	assert_null(dget(d, "mail"));
	assert_null(dget(d, "displayName"));
	free(d);
	free(w);
}

static void
test_entry_defaults_only_people(void **state)
{
	struct env *e = *state;
	struct want *w = attrs(e, e->ad, NULL, 0);
	struct dentry *d = rewrite(e, e->ad, w, ADMINS_DN, ADMINS, NADMINS);
	assert_null(dget(d, "displayName"));
	assert_null(dget(d, "mail"));
	free(d);
	free(w);
}

static void
test_entry_defaults_named(void **state)
{
	struct env *e = *state;
	static const char *const a[] = { "mail", NULL };
	struct want *w = attrs(e, e->ad, a, 0);
	struct dentry *d = rewrite(e, e->ad, w, BOB_DN, BOB, NBOB);
	assert_int_equal(d->n, 1);
	assert_string_equal(dval(d, "mail"), "bob@example.com");
	free(d);
	free(w);
}

/*
 * Asked for with options ("mail;binary" beside "*"), 389-ds leaves mail out
 * even when the entry has it: no default may stand in for it (found by
 * test_policy_differential, seed 2903791579 on 389-ds).
 */
static void
test_entry_defaults_not_for_options(void **state)
{
	struct env *e = *state;
	static const char *const a[] = { "mail;binary", "*", NULL };
	struct want *w = attrs(e, e->ad, a, 0);
	struct dentry *d = rewrite(e, e->ad, w, BOB_DN, BOB, NBOB);
	assert_null(dget(d, "mail"));
	free(d);
	free(w);
	/* "*" alone: bob, who has no mail, gets the default */
	static const char *const star[] = { "*", NULL };
	w = attrs(e, e->ad, star, 0);
	d = rewrite(e, e->ad, w, BOB_DN, BOB, NBOB);
	assert_string_equal(dval(d, "mail"), "bob@example.com");
	free(d);
	free(w);
}

static void
test_entry_typesonly(void **state)
{
	struct env *e = *state;
	struct want *w = attrs(e, e->ad, NULL, 1);
	struct dentry *d = rewrite(e, e->ad, w, ALICE_DN, ALICE, NALICE);
	assert_true(d->n > 5);
	for (size_t i = 0; i < d->n; i++)
		if (d->a[i].n != 0)
			fail_msg("typesOnly: %s has %zu values", d->a[i].name, d->a[i].n);
	assert_non_null(dget(d, "sAMAccountName"));
	assert_non_null(dget(d, "objectGUID"));
	assert_non_null(dget(d, "userAccountControl"));
	assert_null(dget(d, "userPassword"));
	free(d);
	free(w);
}

static void
test_entry_only_requested(void **state)
{
	struct env *e = *state;
	static const char *const a[] = { "sAMAccountName", "objectGUID", "memberOf", NULL };
	struct want *w = attrs(e, e->ad, a, 0);
	/* the directory sends more than was asked: only the three come back */
	struct dentry *d = rewrite(e, e->ad, w, ALICE_DN, ALICE, NALICE);
	assert_int_equal(d->n, 3);
	assert_string_equal(dval(d, "sAMAccountName"), "alice");
	assert_non_null(dget(d, "objectGUID"));
	assert_int_equal(dget(d, "memberOf")->n, 2);
	assert_null(dget(d, "uid"));
	assert_null(dget(d, "ipaUniqueID"));
	free(d);
	free(w);
}

static void
test_entry_only_requested_uac(void **state)
{
	struct env *e = *state;
	static const char *const a[] = { "userAccountControl", NULL };
	struct want *w = attrs(e, e->ad, a, 0);
	struct dentry *d = rewrite(e, e->ad, w, BOB_DN, BOB, NBOB);
	assert_int_equal(d->n, 1);
	assert_string_equal(dval(d, "userAccountControl"), "514");
	free(d);
	free(w);
}

static void
test_entry_one_one(void **state)
{
	struct env *e = *state;
	static const char *const a[] = { "1.1", NULL };
	struct want *w = attrs(e, e->ad, a, 0);
	struct dentry *d = rewrite(e, e->ad, w, ALICE_DN, ALICE, NALICE);
	assert_int_equal(d->n, 0);
	assert_string_equal(d->dn, "uid=alice," VIRT_USERS);
	free(d);
	free(w);
}

static void
test_entry_allowlist(void **state)
{
	struct env *e = *state;
	struct want *w = attrs(e, e->crm, NULL, 0);
	struct dentry *d = rewrite(e, e->crm, w, ALICE_DN, ALICE, NALICE);
	assert_string_equal(d->dn, ALICE_DN);
	assert_string_equal(dval(d, "sAMAccountName"), "alice");
	assert_string_equal(dval(d, "cn"), "Alice Liddell");
	assert_string_equal(dval(d, "mail"), "alice@ald.test");
	assert_non_null(dget(d, "objectClass"));
	assert_memory_equal(dget(d, "objectGUID")->val[0], GUID_A, 16);
	assert_int_equal(d->n, 5);
	/* memberOf unchanged when asked (not allowed here, so absent) */
	assert_null(dget(d, "memberOf"));
	assert_null(dget(d, "uid"));
	assert_null(dget(d, "sn"));
	free(d);
	free(w);
}

static void
test_entry_malformed(void **state)
{
	struct env *e = *state;
	struct want *w = attrs(e, e->ad, NULL, 0);
	static const unsigned char garbage[] = { 0x30, 0x05, 0x02, 0x01, 0x03, 0x64, 0x00 };
	BerElement *ber = ber_alloc_t(LBER_USE_DER);
	struct evbuffer *out = evbuffer_new();
	assert_int_equal(rewrite_entry(e->ad, w, &e->a, ber, garbage, sizeof(garbage), 7, out), -1);
	/* attributes that are not a SEQUENCE */
	static const unsigned char noattrs[] = { 0x30, 0x0a, 0x02, 0x01, 0x03, 0x64, 0x05, 0x04, 0x01, 'x', 0x31, 0x00 };
	arena_reset(&e->a);
	assert_int_equal(rewrite_entry(e->ad, w, &e->a, ber, noattrs, sizeof(noattrs), 7, out), -1);
	assert_int_equal(evbuffer_get_length(out), 0);
	evbuffer_free(out);
	ber_free(ber, 0);
	free(w);
}

static void
test_entry_truncated(void **state)
{
	struct env *e = *state;
	struct want *w = attrs(e, e->ad, NULL, 0);
	struct msg m = entry_msg(3, ALICE_DN, ALICE, NALICE);
	BerElement *ber = ber_alloc_t(LBER_USE_DER);
	for (size_t k = 0; k < m.len; k++) {
		/* a fresh copy of exactly k bytes, so that reading past it is caught */
		unsigned char *cut = malloc(k ? k : 1);
		memcpy(cut, m.buf, k);
		struct evbuffer *out = evbuffer_new();
		arena_reset(&e->a);
		int rc = rewrite_entry(e->ad, w, &e->a, ber, cut, k, 7, out);
		if (rc != -1)
			fail_msg("an entry cut to %zu of %zu bytes was rewritten", k, m.len);
		evbuffer_free(out);
		free(cut);
	}
	ber_free(ber, 0);
	free(m.buf);
	free(w);
}

/*
 * Every arena size: -1 or the whole entry, never a crash.
 *
 * Regression test (fixed): when the arena runs out while computed or
 * default values are built (expand(), one_value()), rewrite_entry() leaves
 * the attribute out and still returns 0: the client gets an incomplete
 * entry (here without displayName) instead of an error.  And when expand()
 * succeeds but one_value() then fails (the defaults loop), emit() stores
 * NULL values with n = 1 and oattr_size() dereferences NULL: SIGSEGV.
 * The sizes are tried in a child process so that the crash (an abort
 * under ASan) does not take the other tests with it.
 */
static int
entry_arena_scan(const struct profile *p, const struct want *w, const struct msg *m, const unsigned char *fbytes,
    size_t flen, size_t need, size_t *first_incomplete)
{
	int incomplete = 0;
	BerElement *ber = ber_alloc_t(LBER_USE_DER);
	for (size_t cap = 0; cap <= need + 8; cap += 8) {
		struct arena small;
		if (ber == NULL || arena_init(&small, cap) < 0)
			return -1;
		struct evbuffer *out = evbuffer_new();
		int rc = rewrite_entry(p, w, &small, ber, m->buf, m->len, 7, out);
		if (rc == 0) {
			size_t n = evbuffer_get_length(out);
			unsigned char *b = evbuffer_pullup(out, (ev_ssize_t)n);
			if ((n != flen || memcmp(b, fbytes, n) != 0) && incomplete++ == 0)
				*first_incomplete = cap;
		} else if (rc != -1) {
			return -1;
		}
		evbuffer_free(out);
		arena_free(&small);
	}
	ber_free(ber, 0);
	return incomplete;
}

static void
test_entry_arena_exhausted(void **state)
{
	struct env *e = *state;
	struct want *w = attrs(e, e->ad, NULL, 0);
	struct msg m = entry_msg(3, ALICE_DN, ALICE, NALICE);
	BerElement *ber = ber_alloc_t(LBER_USE_DER);
	/* the whole entry, with a large arena */
	struct evbuffer *full = evbuffer_new();
	arena_reset(&e->a);
	assert_int_equal(rewrite_entry(e->ad, w, &e->a, ber, m.buf, m.len, 7, full), 0);
	ber_free(ber, 0);
	size_t need = e->a.used, flen = evbuffer_get_length(full);
	unsigned char *fbytes = malloc(flen);
	assert_non_null(fbytes);
	evbuffer_remove(full, fbytes, flen);
	evbuffer_free(full);
	int pipefd[2];
	assert_int_equal(pipe(pipefd), 0);
	fflush(NULL);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		/* cmocka's handlers would resume the test run in the child: die instead */
		signal(SIGSEGV, SIG_DFL);
		signal(SIGBUS, SIG_DFL);
		signal(SIGILL, SIG_DFL);
		signal(SIGFPE, SIG_DFL);
		signal(SIGABRT, SIG_DFL);
		size_t first = 0;
		close(pipefd[0]);
		int n = entry_arena_scan(e->ad, w, &m, fbytes, flen, need, &first);
		size_t rep[2] = { (size_t)n, first };
		ssize_t wr = write(pipefd[1], rep, sizeof(rep));
		_exit(wr == (ssize_t)sizeof(rep) && n >= 0 ? 0 : 3);
	}
	close(pipefd[1]);
	size_t rep[2] = { 0, 0 };
	ssize_t got = read(pipefd[0], rep, sizeof(rep));
	close(pipefd[0]);
	int status = 0;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	free(fbytes);
	free(m.buf);
	free(w);
	if (WIFSIGNALED(status))
		fail_msg("rewrite_entry crashed with signal %d for some arena size below %zu", WTERMSIG(status), need);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || got != (ssize_t)sizeof(rep))
		fail_msg("rewrite_entry crashed for some arena size below %zu (child exit %d)", need,
		    WIFEXITED(status) ? WEXITSTATUS(status) : -1);
	if (rep[0] != 0)
		fail_msg("%zu arena sizes (the first %zu bytes, %zu needed) gave rc 0 with an incomplete entry", rep[0],
		    rep[1], need);
}

/* ------------------------------------------------------------------ */
/* GUIDs                                                                */

static void
test_guid_known_vector(void **state)
{
	(void)state;
	unsigned char g[16];
	assert_int_equal(guid_from_uuid(UUID_A, 36, g), 0);
	assert_memory_equal(g, GUID_A, 16);
	char u[37];
	memset(u, 'Z', sizeof(u));
	assert_int_equal(uuid_from_guid(GUID_A, u), 0);
	assert_string_equal(u, UUID_A);
}

static void
test_guid_upper_case(void **state)
{
	(void)state;
	unsigned char g[16];
	assert_int_equal(guid_from_uuid("00112233-4455-6677-8899-AABBCCDDEEFF", 36, g), 0);
	assert_memory_equal(g, GUID_A, 16);
}

static void
test_guid_without_dashes(void **state)
{
	(void)state;
	unsigned char g[16];
	assert_int_equal(guid_from_uuid("00112233445566778899aabbccddeeff", 32, g), 0);
	assert_memory_equal(g, GUID_A, 16);
}

static void
test_guid_round_trip(void **state)
{
	(void)state;
	uint32_t x = 2463534242u;
	for (int n = 0; n < 200; n++) {
		unsigned char g[16], back[16];
		for (int i = 0; i < 16; i++) {
			x ^= x << 13;
			x ^= x >> 17;
			x ^= x << 5;
			g[i] = (unsigned char)x;
		}
		char u[37];
		assert_int_equal(uuid_from_guid(g, u), 0);
		assert_int_equal(strlen(u), 36);
		assert_true(u[8] == '-' && u[13] == '-' && u[18] == '-' && u[23] == '-');
		assert_int_equal(guid_from_uuid(u, 36, back), 0);
		assert_memory_equal(g, back, 16);
	}
}

static void
test_guid_invalid(void **state)
{
	(void)state;
	unsigned char g[16];
	assert_int_equal(guid_from_uuid("", 0, g), -1);
	assert_int_equal(guid_from_uuid("00112233", 8, g), -1);
	assert_int_equal(guid_from_uuid("00112233-4455-6677-8899-aabbccddeef", 35, g), -1);
	assert_int_equal(guid_from_uuid("zz112233-4455-6677-8899-aabbccddeeff", 36, g), -1);
	assert_int_equal(guid_from_uuid("00112233-4455-6677-8899-aabbccddeegg", 36, g), -1);
	/* the length given counts, not the NUL */
	assert_int_equal(guid_from_uuid(UUID_A, 20, g), -1);
}

/* ------------------------------------------------------------------ */
/* bind names                                                           */

static const char *
bind_as(struct env *e, const struct profile *p, const char *name, size_t len)
{
	memset(e->out, 'Z', sizeof(e->out));
	int n = rewrite_bind_name(p, name, len, e->out, sizeof(e->out));
	if (n < 0)
		fail_msg("rewrite_bind_name(\"%s\") failed", name);
	assert_int_equal((size_t)n, strlen(e->out));
	return e->out;
}

#define IS_LOGIN(p, s) rewrite_bind_is_login((p), (s), strlen(s))
#define BIND(p, s, expect) assert_string_equal(bind_as(e, (p), (s), strlen(s)), (expect))

static void
test_bind_upn(void **state)
{
	struct env *e = *state;
	assert_true(IS_LOGIN(e->ad, "alice@EXAMPLE.COM"));
	BIND(e->ad, "alice@EXAMPLE.COM", "uid=alice," REAL_USERS);
	BIND(e->ad, "Alice@EXAMPLE.COM", "uid=alice," REAL_USERS);
}

static void
test_bind_upn_realm_case_insensitive(void **state)
{
	struct env *e = *state;
	assert_true(IS_LOGIN(e->ad, "alice@example.com"));
	BIND(e->ad, "alice@example.com", "uid=alice," REAL_USERS);
	BIND(e->ad, "alice@Example.Com", "uid=alice," REAL_USERS);
}

static void
test_bind_upn_wrong_realm(void **state)
{
	struct env *e = *state;
	assert_false(IS_LOGIN(e->ad, "alice@OTHER.COM"));
	assert_false(IS_LOGIN(e->ad, "alice@SUB.EXAMPLE.COM"));
	assert_false(IS_LOGIN(e->ad, "alice@EXAMPLE.COMX"));
	assert_false(IS_LOGIN(e->ad, "alice@EXAMPLE"));
	assert_false(IS_LOGIN(e->ad, "alice@"));
	assert_false(IS_LOGIN(e->ad, "@EXAMPLE.COM"));
	/* not turned into a user DN */
	assert_null(strstr(bind_as(e, e->ad, "alice@OTHER.COM", 15), "uid="));
	/* crm's realm is another */
	assert_false(IS_LOGIN(e->crm, "alice@EXAMPLE.COM"));
	assert_true(IS_LOGIN(e->crm, "alice@ald.test"));
	BIND(e->crm, "alice@ALD.TEST", "uid=alice," REAL_USERS);
}

static void
test_bind_netbios(void **state)
{
	struct env *e = *state;
	assert_true(IS_LOGIN(e->ad, "EXAMPLE\\alice"));
	BIND(e->ad, "EXAMPLE\\alice", "uid=alice," REAL_USERS);
	BIND(e->ad, "example\\Alice", "uid=alice," REAL_USERS);
}

static void
test_bind_netbios_wrong_domain(void **state)
{
	struct env *e = *state;
	assert_false(IS_LOGIN(e->ad, "OTHER\\alice"));
	assert_false(IS_LOGIN(e->ad, "EXAMPLEX\\alice"));
	assert_false(IS_LOGIN(e->ad, "EXAMPLE\\"));
	assert_false(IS_LOGIN(e->ad, "\\alice"));
	/* netbios is not a format of crm */
	assert_false(IS_LOGIN(e->crm, "EXAMPLE\\alice"));
}

static void
test_bind_bare_login(void **state)
{
	struct env *e = *state;
	assert_true(IS_LOGIN(e->ad, "alice"));
	BIND(e->ad, "alice", "uid=alice," REAL_USERS);
	BIND(e->ad, "ALICE", "uid=alice," REAL_USERS);
}

static void
test_bind_bare_login_disabled(void **state)
{
	struct env *e = *state;
	assert_false(IS_LOGIN(e->crm, "alice"));
	assert_false(IS_LOGIN(e->plain, "alice"));
	assert_false(IS_LOGIN(e->plain, "alice@EXAMPLE.COM"));
	assert_false(IS_LOGIN(e->plain, "EXAMPLE\\alice"));
	assert_false(IS_LOGIN(e->ad, ""));
	assert_null(strstr(bind_as(e, e->crm, "alice", 5), "uid="));
}

static void
test_bind_escaping(void **state)
{
	struct env *e = *state;
	BIND(e->ad, "a,b@EXAMPLE.COM", "uid=a\\,b," REAL_USERS);
	BIND(e->ad, "a+b", "uid=a\\+b," REAL_USERS);
	BIND(e->ad, "a\"b", "uid=a\\\"b," REAL_USERS);
	BIND(e->ad, "a<b>c", "uid=a\\<b\\>c," REAL_USERS);
	BIND(e->ad, "a;b", "uid=a\\;b," REAL_USERS);
	BIND(e->ad, "#a", "uid=\\#a," REAL_USERS);
	BIND(e->ad, " a b ", "uid=\\ a b\\ ," REAL_USERS);
	BIND(e->ad, "EXAMPLE\\a\\b", "uid=a\\\\b," REAL_USERS);
	/* '=' makes any name a DN, never a login */
	assert_false(IS_LOGIN(e->ad, "x,uid=admin@EXAMPLE.COM"));
	assert_false(IS_LOGIN(e->ad, "uid=admin"));
}

static void
test_bind_escaping_one_rdn(void **state)
{
	struct env *e = *state;
	static const char *const logins[] = { "a,b", "a+b", "a;b", "a\\b", "a<b", "a>b", "a\"b", "#a", " a", "a ",
		"a,dc=x", "a,,b" };
	for (size_t i = 0; i < sizeof(logins) / sizeof(logins[0]); i++) {
		if (!IS_LOGIN(e->ad, logins[i]))
			continue;
		const char *r = bind_as(e, e->ad, logins[i], strlen(logins[i]));
		/* under the users' container, exactly one RDN below it */
		char nd[DN_MAX];
		int n = dn_normalize(r, strlen(r), nd, sizeof(nd));
		assert_true(n > 0);
		assert_true(dn_is_under(nd, (size_t)n, REAL_USERS, strlen(REAL_USERS)));
		size_t rdns = 0;
		for (int k = 0; k < n - (int)strlen(REAL_USERS) - 1; k++) {
			if (nd[k] == '\\') {
				k++;
				continue;
			}
			if (nd[k] == ',' || nd[k] == '+')
				rdns++;
		}
		if (rdns != 0)
			fail_msg("login \"%s\" became \"%s\": more than one RDN", logins[i], r);
	}
}

/*
 * Regression test (fixed): a NUL byte in a login is not escaped as
 * RFC 4514 requires (\00).  strchr(",+\"\\<>;=#", c) matches the NUL
 * terminator, so the NUL gets a backslash, and snprintf("%.*s") stops at
 * the NUL: "al\0ice@EXAMPLE.COM" becomes "uid=al\,cn=users,cn=accounts,..."
 * whose backslash now escapes the separator (one RDN "uid=al,cn=users"
 * directly under cn=accounts).
 */
static void
test_bind_escaping_nul(void **state)
{
	struct env *e = *state;
	static const char name[] = "al\0ice@EXAMPLE.COM";
	int n = rewrite_bind_name(e->ad, name, sizeof(name) - 1, e->out, sizeof(e->out));
	if (n >= 0 && strcmp(e->out, "uid=al\\00ice," REAL_USERS) != 0)
		fail_msg("login \"al\\0ice\" became \"%s\"", e->out);
}

static void
test_bind_virtual_dn(void **state)
{
	struct env *e = *state;
	assert_false(IS_LOGIN(e->ad, "uid=alice," VIRT_USERS));
	BIND(e->ad, "uid=alice," VIRT_USERS, "uid=alice," REAL_USERS);
	BIND(e->ad, "CN=svc-portal," VIRT_USERS, "CN=svc-portal," REAL_USERS);
	/* a real DN passes unchanged */
	BIND(e->ad, "uid=alice," REAL_USERS, "uid=alice," REAL_USERS);
	BIND(e->plain, "uid=alice," REAL_USERS, "uid=alice," REAL_USERS);
}

static void
test_bind_output_too_small(void **state)
{
	struct env *e = *state;
	const char *want = "uid=alice," REAL_USERS;
	for (size_t cap = 1; cap <= strlen(want); cap++)
		assert_int_equal(rewrite_bind_name(e->ad, "alice", 5, e->out, cap), -1);
	assert_int_equal(rewrite_bind_name(e->ad, "alice", 5, e->out, strlen(want) + 1), (int)strlen(want));
}

static void
test_bind_login_too_long(void **state)
{
	struct env *e = *state;
	char name[600];
	memset(name, ',', sizeof(name));
	/* 300 commas need 600 characters escaped: more than a login may have */
	assert_int_equal(rewrite_bind_name(e->ad, name, 300, e->out, sizeof(e->out)), -1);
}

int
main(void)
{
#define T(f) cmocka_unit_test_setup(f, setup)
	const struct CMUnitTest tests[] = {
		T(test_active),
		T(test_dn_in_longest_match),
		T(test_dn_in_leading_rdn_case_kept),
		T(test_dn_in_spaces),
		T(test_dn_in_suffix_itself),
		T(test_dn_in_escaped_comma),
		T(test_dn_in_outside_unchanged),
		T(test_dn_in_rdn_boundary),
		T(test_dn_in_plain_unchanged),
		T(test_dn_in_invalid),
		T(test_dn_in_escaped_nul),
		T(test_dn_in_output_too_small),
		T(test_dn_in_escaped_trailing_space),
		T(test_dn_in_many_rdns),
		T(test_dn_out_longest_match),
		T(test_dn_out_case_kept),
		T(test_dn_out_suffix_itself),
		T(test_dn_out_escaped_comma),
		T(test_dn_out_outside_unchanged),
		T(test_dn_round_trip),
		T(test_filter_sam_account_name),
		T(test_filter_object_class_map),
		T(test_filter_object_category_by_name),
		T(test_filter_object_category_by_dn),
		T(test_filter_object_category_present),
		T(test_filter_sam_account_type),
		T(test_filter_uac_and_2),
		T(test_filter_uac_and_512),
		T(test_filter_uac_or_2),
		T(test_filter_uac_eq),
		T(test_filter_uac_present),
		T(test_filter_uac_other_bits_false),
		T(test_filter_uac_garbage_false),
		T(test_filter_member_of_in_chain),
		T(test_filter_member_in_chain_nested),
		T(test_member_uid),
		T(test_filter_member_mapped),
		T(test_filter_distinguished_name),
		T(test_filter_object_guid),
		T(test_sid_layout),
		T(test_filter_object_sid),
		T(test_filter_object_guid_built),
		T(test_filter_combined),
		T(test_filter_visibility_wrap),
		T(test_filter_invisible_values),
		T(test_entry_visibility),
		T(test_filter_visibility_off),
		T(test_filter_visibility_without_groups),
		T(test_filter_plain_untouched),
		T(test_filter_crm),
		T(test_filter_arena_exhausted),
		T(test_attrs_star_adds_sources),
		T(test_attrs_empty_list_is_star),
		T(test_attrs_star_and_lock_by_name),
		T(test_attrs_plus),
		T(test_attrs_named_virtual),
		T(test_attrs_named_default),
		T(test_entry_defaults_not_for_options),
		T(test_attrs_named_category),
		T(test_attrs_one_one),
		T(test_attrs_dn_only),
		T(test_attrs_secret_dropped),
		T(test_attrs_typesonly_kept),
		T(test_attrs_allowlist_star),
		T(test_attrs_allowlist_named),
		T(test_attrs_allowlist_nothing_allowed),
		T(test_attrs_output_too_small),
		T(test_entry_dn_mapped),
		T(test_entry_names),
		T(test_entry_object_guid),
		T(test_entry_uac_512),
		T(test_entry_uac_514),
		T(test_entry_uac_only_people),
		T(test_entry_lock_flag_hidden),
		T(test_entry_member_of_groups_only),
		T(test_entry_dn_values_mapped),
		T(test_entry_secrets_never),
		T(test_entry_computed),
		T(test_entry_defaults_only_when_missing),
		T(test_entry_defaults_need_placeholder),
		T(test_entry_defaults_only_people),
		T(test_entry_defaults_named),
		T(test_entry_typesonly),
		T(test_entry_only_requested),
		T(test_entry_only_requested_uac),
		T(test_entry_one_one),
		T(test_entry_allowlist),
		T(test_entry_malformed),
		T(test_entry_truncated),
		T(test_entry_arena_exhausted),
		T(test_guid_known_vector),
		T(test_guid_upper_case),
		T(test_guid_without_dashes),
		T(test_guid_round_trip),
		T(test_guid_invalid),
		T(test_bind_upn),
		T(test_bind_upn_realm_case_insensitive),
		T(test_bind_upn_wrong_realm),
		T(test_bind_netbios),
		T(test_bind_netbios_wrong_domain),
		T(test_bind_bare_login),
		T(test_bind_bare_login_disabled),
		T(test_bind_escaping),
		T(test_bind_escaping_one_rdn),
		T(test_bind_escaping_nul),
		T(test_bind_virtual_dn),
		T(test_bind_output_too_small),
		T(test_bind_login_too_long),
	};
#undef T
	return cmocka_run_group_tests_name("rewrite", tests, group_setup, group_teardown);
}
