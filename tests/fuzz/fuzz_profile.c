/*
 * fuzz_profile.c — the profile loader: the input is the one YAML file of a
 * profile directory, loaded with profile_set_load() as at start and on
 * every reload.  A profile that loads is then used: the attribute list and
 * a filter rewritten, DNs and a bind name mapped, and a sample entry
 * rewritten for it.
 *
 * Invariants: a failure says why (file:line: key ...); a profile that
 * loads names no secret in its attributes, attribute maps or writable
 * attributes, and an entry rewritten for it carries no secret.
 */
#include <stdint.h>
#include <string.h>
#include <strings.h>
#include <lber.h>
#include <event2/buffer.h>

#include "arena.h"
#include "dn.h"
#include "filter.h"
#include "fuzz_common.h"
#include "pdu.h"
#include "policy.h"
#include "request.h"
#include "rewrite.h"

static char dir[256];
static struct arena arena;
static BerElement *ber;
static unsigned char *entry;
static size_t entry_len;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A SearchResultEntry as the directory sends it (liblber, as tests/unit/test_rewrite.c builds them). */
static void
build_entry(void)
{
	BerElement *b = ber_alloc_t(LBER_USE_DER);
	FZ_CHECK(b != NULL);
	static const char *const attrs[][4] = {
		{ "objectClass", "person", "groupOfNames", "inetOrgPerson" },
		{ "uid", "alice", NULL, NULL },
		{ "cn", "Alice A", NULL, NULL },
		{ "mail", "alice@ald.test", NULL, NULL },
		{ "memberOf", "cn=portal-users,cn=groups,cn=accounts,dc=ald,dc=test", "cn=admins,cn=roles,cn=accounts,dc=ald,dc=test", NULL },
		{ "member", "uid=bob,cn=users,cn=accounts,dc=ald,dc=test", NULL, NULL },
		{ "userPassword", "{SSHA}secret", NULL, NULL },
		{ "krbPrincipalKey", "key", NULL, NULL },
		{ "ipaUniqueID", "00112233-4455-6677-8899-aabbccddeeff", NULL, NULL },
		{ "nsAccountLock", "TRUE", NULL, NULL },
		{ "krbPrincipalName", "alice@ALD.TEST", NULL, NULL },
	};
	FZ_CHECK(ber_printf(b, "{it{s{", (ber_int_t)3, (ber_tag_t)PDU_SEARCH_ENTRY,
	    "uid=alice,cn=users,cn=accounts,dc=ald,dc=test") != -1);
	for (size_t i = 0; i < sizeof(attrs) / sizeof(attrs[0]); i++) {
		FZ_CHECK(ber_printf(b, "{s[", attrs[i][0]) != -1);
		for (size_t k = 1; k < 4 && attrs[i][k] != NULL; k++)
			FZ_CHECK(ber_printf(b, "s", attrs[i][k]) != -1);
		FZ_CHECK(ber_printf(b, "]}") != -1);
	}
	FZ_CHECK(ber_printf(b, "}}}") != -1);
	struct berval bv;
	FZ_CHECK(ber_flatten2(b, &bv, 0) == 0);
	entry = fz_dup((const uint8_t *)bv.bv_val, bv.bv_len);
	entry_len = bv.bv_len;
	ber_free(b, 1);
}

static void
free_all(void)
{
	fz_free(entry);
	arena_free(&arena);
	ber_free(ber, 0);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fz_tmpdir(dir, sizeof(dir), "profile");
	ber = ber_alloc_t(LBER_USE_DER);
	FZ_CHECK(ber != NULL && arena_init(&arena, 1 << 20) == 0);
	build_entry();
	atexit(free_all);
	return 0;
}

static void
no_secret(const char *name)
{
	if (name != NULL && strcmp(name, "*") != 0)
		FZ_CHECK(!policy_attr_secret(name, strlen(name)));
}

static void
check_entry(const unsigned char *out, size_t len)
{
	struct berval bv = { len, (char *)out }, dn;
	BerElement *d = ber_alloc_t(LBER_USE_DER);
	ber_int_t id;
	ber_len_t blen;
	char *last;
	FZ_CHECK(d != NULL);
	ber_init2(d, &bv, LBER_USE_DER);
	FZ_CHECK(bscan(d, "{i{m", &id, &dn) == 0 && ber_peek_tag(d, &blen) == LBER_SEQUENCE);
	for (ber_tag_t t = ber_first_element(d, &blen, &last); t != LBER_DEFAULT; t = ber_next_element(d, &blen, last)) {
		struct berval name;
		FZ_CHECK(bscan(d, "{mx}", &name) == 0);
		FZ_CHECK(!policy_attr_secret(name.bv_val, name.bv_len));
	}
	FZ_CHECK(ber_cursor(d, len) == len);
	ber_free(d, 0);
}

static void
use_profile(const struct profile *p)
{
	FZ_CHECK(p->name != NULL && *p->name != '\0');
	for (size_t i = 0; i < p->nattributes; i++)
		no_secret(p->attributes[i]);
	for (size_t i = 0; i < p->nattr_maps; i++) {
		no_secret(p->attr_maps[i].virt);
		no_secret(p->attr_maps[i].real);
	}
	for (size_t i = 0; i < p->nwrite_attrs; i++)
		no_secret(p->write_attrs[i]);

	/* the attribute list: everything, and names */
	static const char *const names[] = { "*", "+", "cn", "mail", "memberOf", "userPassword", "objectGUID",
		"sAMAccountName", "userAccountControl", "displayName" };
	struct berval bv[sizeof(names) / sizeof(names[0])];
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		bv[i].bv_val = (char *)names[i];
		bv[i].bv_len = strlen(names[i]);
	}
	unsigned char list[16384];
	struct want *w = NULL;
	size_t n = rewrite_attrs(p, bv, sizeof(names) / sizeof(names[0]), 0, list, sizeof(list), &w);
	if (n > 0) {
		/* an entry for it */
		struct evbuffer *out = evbuffer_new();
		FZ_CHECK(out != NULL);
		arena_reset(&arena);
		if (rewrite_entry(p, w, &arena, ber, entry, entry_len, 9, out) == 0) {
			size_t len = evbuffer_get_length(out);
			check_entry(evbuffer_pullup(out, (ev_ssize_t)len), len);
		}
		evbuffer_free(out);
	}
	free(w);

	/* a filter */
	arena_reset(&arena);
	struct fnode *f = NULL;
	const char *err;
	FZ_CHECK(filter_parse(&arena, "(&(objectClass=user)(|(sAMAccountName=alice)(cn=a*b))(memberOf=CN=G,CN=Groups,DC=example,DC=com)"
	    "(userAccountControl:1.2.840.113556.1.4.803:=2)(objectGUID=*)(objectCategory=person)(!(mail=x)))", &f, &err) == 0);
	char diag[512];
	if (policy_filter_check(p, f, diag, sizeof(diag)) == 0) {
		struct fnode *r = rewrite_filter(p, &arena, f, 1, NULL);
		unsigned char enc[65536];
		if (r != NULL)
			FZ_CHECK(filter_encode(r, enc, sizeof(enc)) > 0);
	}

	/* DNs and a bind name */
	char out[DN_MAX];
	if (p->search_base != NULL)
		rewrite_dn_in(p, p->search_base, strlen(p->search_base), out, sizeof(out));
	static const char *const dns[] = { "uid=alice,cn=users,cn=accounts,dc=ald,dc=test", "CN=Users,DC=example,DC=com",
		"alice@ALD.TEST", "EXAMPLE\\alice", "alice" };
	for (size_t i = 0; i < sizeof(dns) / sizeof(dns[0]); i++) {
		rewrite_dn_out(p, dns[i], strlen(dns[i]), out, sizeof(out));
		rewrite_bind_name(p, dns[i], strlen(dns[i]), out, sizeof(out));
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	FZ_CHECK(fz_write(dir, "fuzz.yaml", data, size) == 0);
	struct profile_set *set = NULL;
	char err[1024] = "";
	if (profile_set_load(dir, NULL, &set, err, sizeof(err)) != 0) {
		FZ_CHECK(err[0] != '\0');
		return 0;
	}
	FZ_CHECK(set != NULL && set->n == 1);
	use_profile(set->v[0]);
	profile_set_free(set);
	return 0;
}
