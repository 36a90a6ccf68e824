/*
 * fuzz_entry.c — the response side: a SearchResultEntry from the directory
 * (framed as upstream.c frames it) rewritten by rewrite_entry() for the
 * profiles ad (virtual tree, maps, computed attributes, defaults, clean
 * memberOf), vis (visible groups) and crm (an allowlist), each with three
 * attribute requests: none (all), a list of names, and all with typesOnly.
 *
 * Invariants on what reaches the client (rc 0):
 *   - one well-formed LDAPMessage, re-addressed to the client's messageID,
 *     a SearchResultEntry that liblber decodes to its last byte;
 *   - every attribute is one the profile allows, never a secret, never
 *     twice; typesOnly gives no values;
 *   - vis: the entry is visible and every DN value (member, memberOf, ...)
 *     and memberUid names a visible entry; ad: memberOf shows only groups;
 *   - with a smaller arena the answer is -1 or exactly the same entry
 *     (never an incomplete one).
 */
#include <stdint.h>
#include <string.h>
#include <strings.h>
#include <lber.h>
#include <event2/buffer.h>

#include "arena.h"
#include "dn.h"
#include "fuzz_common.h"
#include "pdu.h"
#include "policy.h"
#include "request.h"
#include "rewrite.h"

#define NWANTS 3
#define CLIENT_MSGID 7

static BerElement *ber, *dber;
static struct arena arena;
static struct want *wants[3][NWANTS];
static const struct profile *profs[3];

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct want *
make_want(const struct profile *p, const char *const *names, int typesonly)
{
	struct berval bv[32];
	size_t n = 0;
	for (; names != NULL && names[n] != NULL; n++) {
		bv[n].bv_val = (char *)names[n];
		bv[n].bv_len = strlen(names[n]);
	}
	unsigned char out[8192];
	struct want *w = NULL;
	FZ_CHECK(rewrite_attrs(p, bv, n, typesonly, out, sizeof(out), &w) > 0);
	FZ_CHECK(w != NULL);
	return w;
}

static void
free_wants(void)
{
	for (int i = 0; i < 3; i++)
		for (int k = 0; k < NWANTS; k++)
			free(wants[i][k]);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	const struct fz_profiles *pr = fz_profiles();
	static const char *const named[] = { "cn", "memberOf", "member", "objectGUID", "userAccountControl", "mail",
		"sAMAccountName", "distinguishedName", "objectCategory", "displayName", "uid", "memberUid", "manager",
		"userPassword", "objectClass", "+", NULL };
	profs[0] = pr->ad;
	profs[1] = pr->vis;
	profs[2] = pr->crm;
	for (int i = 0; i < 3; i++) {
		wants[i][0] = make_want(profs[i], NULL, 0);
		wants[i][1] = make_want(profs[i], named, 0);
		wants[i][2] = make_want(profs[i], NULL, 1);
	}
	atexit(free_wants);
	ber = ber_alloc_t(LBER_USE_DER);
	dber = ber_alloc_t(LBER_USE_DER);
	FZ_CHECK(ber != NULL && dber != NULL && arena_init(&arena, 4 << 20) == 0);
	return 0;
}

static int
is_dn_attr(const struct berval *name)
{
	static const char *const dnattrs[] = { "member", "memberOf", "manager", "secretary", "uniqueMember", "owner",
		"seeAlso", NULL };
	for (const char *const *a = dnattrs; *a; a++)
		if (attr_eq(name, *a))
			return 1;
	return 0;
}

/* Strictly under base (both given as written). */
static int
strictly_under(const struct berval *v, const char *base)
{
	char nv[DN_MAX], nb[DN_MAX];
	int vl = dn_normalize(v->bv_val, v->bv_len, nv, sizeof(nv));
	int bl = dn_normalize(base, strlen(base), nb, sizeof(nb));
	return vl >= 0 && bl >= 0 && vl > bl && dn_is_under(nv, (size_t)vl, nb, (size_t)bl);
}

/* Decodes and checks what rewrite_entry() appended. */
static void
check_output(const struct profile *p, const struct want *w, const unsigned char *out, size_t len)
{
	struct pdu_head h;
	FZ_CHECK(pdu_frame(out, len, (size_t)1 << 30, &h) == PDU_OK);
	FZ_CHECK(h.total == len && h.msgid == CLIENT_MSGID && h.op_tag == PDU_SEARCH_ENTRY);
	const struct fz_profiles *pr = fz_profiles();
	struct berval bv = { len, (char *)out }, dn, names[600];
	size_t nnames = 0;
	ber_int_t id;
	ber_len_t blen;
	char *last, *vlast;
	ber_init2(dber, &bv, LBER_USE_DER);
	FZ_CHECK(bscan(dber, "{i{m", &id, &dn) == 0 && id == CLIENT_MSGID);
	FZ_CHECK(ber_peek_tag(dber, &blen) == LBER_SEQUENCE);
	if (p == pr->vis) {
		char nd[DN_MAX];
		int nl = dn_normalize(dn.bv_val, dn.bv_len, nd, sizeof(nd));
		FZ_CHECK(nl >= 0 && policy_visibility(p, nd, (size_t)nl) != VIS_NONE);
	}
	for (ber_tag_t t = ber_first_element(dber, &blen, &last); t != LBER_DEFAULT;
	     t = ber_next_element(dber, &blen, last)) {
		struct berval name;
		FZ_CHECK(bscan(dber, "{m", &name) == 0 && ber_peek_tag(dber, &blen) == LBER_SET);
		FZ_CHECK(!policy_attr_secret(name.bv_val, name.bv_len));
		FZ_CHECK(policy_attr_allowed(p, name.bv_val, name.bv_len));
		for (size_t i = 0; i < nnames; i++)
			FZ_CHECK(!(names[i].bv_len == name.bv_len && strncasecmp(names[i].bv_val, name.bv_val, name.bv_len) == 0));
		FZ_CHECK(nnames < sizeof(names) / sizeof(names[0]));
		names[nnames++] = name;
		size_t nv = 0;
		for (ber_tag_t vt = ber_first_element(dber, &blen, &vlast); vt != LBER_DEFAULT;
		     vt = ber_next_element(dber, &blen, vlast)) {
			struct berval v;
			FZ_CHECK(bscan(dber, "m", &v) == 0);
			nv++;
			if (p == pr->vis && is_dn_attr(&name))
				FZ_CHECK(policy_dn_value_visible(p, v.bv_val, v.bv_len));
			if (p == pr->vis && attr_eq(&name, "memberUid"))
				FZ_CHECK(policy_uid_visible(p, v.bv_val, v.bv_len));
			if (p == pr->ad && attr_eq(&name, "memberOf"))
				FZ_CHECK(strictly_under(&v, "CN=Groups,DC=example,DC=com") ||
				    strictly_under(&v, "cn=groups,cn=accounts,dc=ald,dc=test"));
		}
		FZ_CHECK(bscan(dber, "}", NULL) == 0);
		if (w->typesonly)
			FZ_CHECK(nv == 0);
		else
			FZ_CHECK(nv > 0);       /* RFC 4511 4.1.7: no attribute without values */
	}
	FZ_CHECK(ber_cursor(dber, len) == len);
}

static int
rewrite(const struct profile *p, const struct want *w, struct arena *a, const unsigned char *msg, size_t len,
    struct evbuffer *out)
{
	arena_reset(a);
	int rc = rewrite_entry(p, w, a, ber, msg, len, CLIENT_MSGID, out);
	FZ_CHECK(rc == 0 || rc == 1 || rc == -1);
	if (rc != 0)
		FZ_CHECK(evbuffer_get_length(out) == 0);
	return rc;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pdu_head h;
	if (pdu_frame(data, size, (size_t)256 << 20, &h) != PDU_OK || h.total > size || h.op_tag != PDU_SEARCH_ENTRY)
		return 0;
	/* the message alone, in a buffer of its exact size (evbuffer_pullup in op.c) */
	unsigned char *msg = fz_dup(data, h.total);
	for (int i = 0; i < 3; i++)
		for (int k = 0; k < NWANTS; k++) {
			struct evbuffer *out = evbuffer_new();
			FZ_CHECK(out != NULL);
			int rc = rewrite(profs[i], wants[i][k], &arena, msg, h.total, out);
			size_t len = evbuffer_get_length(out);
			if (rc == 0)
				check_output(profs[i], wants[i][k], evbuffer_pullup(out, (ev_ssize_t)len), len);
			/* ad, everything: again with less scratch, sized by the input's last byte */
			if (i == 0 && k == 0 && rc == 0) {
				size_t need = arena.used, cap = need * data[size - 1] / 256;
				struct arena small;
				FZ_CHECK(arena_init(&small, cap) == 0);
				struct evbuffer *out2 = evbuffer_new();
				FZ_CHECK(out2 != NULL);
				int rc2 = rewrite(profs[i], wants[i][k], &small, msg, h.total, out2);
				FZ_CHECK(rc2 == 0 || rc2 == -1);
				if (rc2 == 0) {
					size_t len2 = evbuffer_get_length(out2);
					FZ_CHECK(len2 == len && memcmp(evbuffer_pullup(out2, (ev_ssize_t)len2),
					    evbuffer_pullup(out, (ev_ssize_t)len), len) == 0);
				}
				evbuffer_free(out2);
				arena_free(&small);
			}
			evbuffer_free(out);
		}
	fz_free(msg);
	return 0;
}
