/*
 * test_pdu_encode.c — unit tests for the bounded encoders of pdu.c: the
 * messages aldproxy writes itself (SASL bind, compare, re-encoded search,
 * modify, rewritten and scrubbed entries, paged results).
 *
 * Each encoder's output is decoded with liblber's ber_scanf(), and each
 * gets a case one byte short of room that must fail without writing a
 * message.  Evbuffer writers are also run on a frozen buffer (no room can
 * be had): they must fail and add nothing.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <event2/buffer.h>
#include <lber.h>

#include "pdu.h"

/* ------------------------------------------------------------------ */
/* helpers                                                             */

static BerElement *
dec(const unsigned char *buf, size_t len, struct berval *bv)
{
	bv->bv_val = (char *)buf;
	bv->bv_len = len;
	BerElement *ber = ber_alloc_t(LBER_USE_DER);
	assert_non_null(ber);
	ber_init2(ber, bv, LBER_USE_DER);
	return ber;
}

static void
assert_done(BerElement *ber)
{
	ber_len_t rem = 99;
	assert_int_equal(ber_get_option(ber, LBER_OPT_REMAINING_BYTES, &rem), LBER_OPT_SUCCESS);
	assert_int_equal(rem, 0);
	ber_free(ber, 0);
}

static void
assert_bv(const struct berval *bv, const void *v, size_t len)
{
	assert_int_equal(bv->bv_len, len);
	if (len)
		assert_memory_equal(bv->bv_val, v, len);
}

/* Checks the envelope of a whole message in eb and returns a decoder positioned at its protocolOp. */
static BerElement *
dec_message(struct evbuffer *eb, struct berval *bv, int msgid, ber_tag_t op_tag)
{
	size_t len = evbuffer_get_length(eb);
	unsigned char *p = evbuffer_pullup(eb, -1);
	struct pdu_head h;
	assert_int_equal(pdu_frame(p, len, 1 << 24, &h), PDU_OK);
	assert_int_equal(h.total, len);
	assert_int_equal(h.msgid, msgid);
	assert_int_equal(h.op_tag, op_tag);
	BerElement *ber = dec(p, len, bv);
	ber_int_t id;
	ber_tag_t tag;
	assert_int_not_equal(ber_scanf(ber, "{it", &id, &tag), LBER_ERROR);
	assert_int_equal(id, msgid);
	assert_int_equal(tag, op_tag);
	return ber;
}

static char *
filled(size_t n, char c)
{
	char *s = malloc(n + 1);
	assert_non_null(s);
	memset(s, c, n);
	s[n] = '\0';
	return s;
}

/* ------------------------------------------------------------------ */
/* primitives                                                          */

static void
test_put_primitives(void **state)
{
	(void)state;
	unsigned char b[300];
	size_t off = pdu_put_tl(b, sizeof(b), 0, 0x30, 200);
	assert_int_equal(off, 3);       /* 30 81 c8 */
	assert_int_equal(b[0], 0x30);
	assert_int_equal(b[1], 0x81);
	assert_int_equal(b[2], 200);
	off = pdu_put_octets(b, sizeof(b), off, 0x04, "abc", 3);
	assert_int_equal(off, 8);
	assert_memory_equal(b + 3, "\x04\x03" "abc", 5);
	off = pdu_put_raw(b, sizeof(b), off, "xyz", 3);
	assert_int_equal(off, 11);
	assert_memory_equal(b + 8, "xyz", 3);
	/* exactly full, then one byte short */
	assert_int_equal(pdu_put_octets(b, 5, 0, 0x04, "abc", 3), 5);
	assert_int_equal(pdu_put_octets(b, 4, 0, 0x04, "abc", 3), 0);
	assert_int_equal(pdu_put_tl(b, 2, 0, 0x30, 200), 0);
	assert_int_equal(pdu_put_tl(b, 3, 1, 0x30, 200), 0);
	assert_int_equal(pdu_put_raw(b, 10, 8, "xyz", 3), 0);
	assert_int_equal(pdu_put_raw(b, 10, 11, "", 0), 0);    /* off past cap */
	assert_int_equal(pdu_put_octets(b, 10, 0, 0x04, "", (size_t)-1), 0);
}

static void
test_message_size(void **state)
{
	(void)state;
	static const int ids[] = { 0, 1, 127, 128, 65535, 0x7fffffff };
	static const size_t lens[] = { 0, 5, 120, 121, 200, 70000, 1 << 24 };
	for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++)
		for (size_t k = 0; k < sizeof(lens) / sizeof(lens[0]); k++) {
			unsigned char env[PDU_HEAD_MAX];
			assert_int_equal(pdu_message_size(ids[i], lens[k]), pdu_envelope(env, ids[i], lens[k]) + lens[k]);
		}
}

/* ------------------------------------------------------------------ */
/* AttributeSelection                                                  */

static void
test_attr_selection(void **state)
{
	(void)state;
	char *longname = filled(300, 'n');
	struct berval names[] = { { 2, "cn" }, { 3, "1.1" }, { 300, longname }, { 0, "" } };
	unsigned char b[1024];
	size_t n = pdu_attr_selection(b, sizeof(b), names, 4);
	assert_true(n > 0);
	struct berval bv, a, c, d, e;
	BerElement *ber = dec(b, n, &bv);
	assert_int_not_equal(ber_scanf(ber, "{mmmm}", &a, &c, &d, &e), LBER_ERROR);
	assert_bv(&a, "cn", 2);
	assert_bv(&c, "1.1", 3);
	assert_bv(&d, longname, 300);
	assert_bv(&e, "", 0);
	assert_done(ber);
	assert_int_equal(pdu_attr_selection(b, n, names, 4), n);
	assert_int_equal(pdu_attr_selection(b, n - 1, names, 4), 0);
	/* an empty list: SEQUENCE {} */
	assert_int_equal(pdu_attr_selection(b, sizeof(b), names, 0), 2);
	assert_memory_equal(b, "\x30\x00", 2);
	assert_int_equal(pdu_attr_selection(b, 1, names, 0), 0);
	free(longname);
}

/* ------------------------------------------------------------------ */
/* SearchRequest                                                       */

static void
test_search_op(void **state)
{
	(void)state;
	/* scope wholeSubtree, derefAlways, sizeLimit 5, timeLimit 0, typesOnly FALSE */
	static const unsigned char params[] = { 0x0a, 1, 2, 0x0a, 1, 3, 0x02, 1, 5, 0x02, 1, 0, 0x01, 1, 0 };
	static const unsigned char filter[] = { 0x87, 3, 'u', 'i', 'd' };
	struct berval names[] = { { 2, "cn" }, { 4, "mail" } };
	unsigned char attrs[64], b[512];
	size_t al = pdu_attr_selection(attrs, sizeof(attrs), names, 2);
	const char *base = "ou=people,dc=example,dc=com";
	size_t need = pdu_search_op(NULL, 0, base, strlen(base), params, sizeof(params), filter, sizeof(filter), attrs, al);
	size_t n = pdu_search_op(b, sizeof(b), base, strlen(base), params, sizeof(params), filter, sizeof(filter), attrs, al);
	assert_int_equal(n, need);
	struct berval bv, dn, f, a1, a2;
	ber_tag_t tag;
	ber_int_t scope, deref, size, tl;
	ber_int_t types;
	BerElement *ber = dec(b, n, &bv);
	assert_int_not_equal(ber_scanf(ber, "t{meeiibtm{mm}}", &tag, &dn, &scope, &deref, &size, &tl, &types, &tag, &f,
	    &a1, &a2), LBER_ERROR);
	assert_bv(&dn, base, strlen(base));
	assert_int_equal(scope, 2);
	assert_int_equal(deref, 3);
	assert_int_equal(size, 5);
	assert_int_equal(tl, 0);
	assert_int_equal(types, 0);
	assert_int_equal(tag, 0x87);
	assert_bv(&f, "uid", 3);
	assert_bv(&a1, "cn", 2);
	assert_bv(&a2, "mail", 4);
	assert_done(ber);
	assert_int_equal(b[0], PDU_SEARCH_REQ);
	assert_int_equal(pdu_search_op(b, n - 1, base, strlen(base), params, sizeof(params), filter, sizeof(filter), attrs,
	    al), 0);
}

static void
test_search_op_long_base(void **state)
{
	(void)state;
	char *base = filled(70000, 'b');        /* a 3-byte length inside, a 4-byte one outside */
	static const unsigned char params[] = { 0x0a, 1, 0, 0x0a, 1, 0, 0x02, 1, 0, 0x02, 1, 0, 0x01, 1, 0 };
	static const unsigned char filter[] = { 0x87, 11, 'o', 'b', 'j', 'e', 'c', 't', 'C', 'l', 'a', 's', 's' };
	static const unsigned char attrs[] = { 0x30, 0 };
	size_t need = pdu_search_op(NULL, 0, base, 70000, params, sizeof(params), filter, sizeof(filter), attrs, 2);
	unsigned char *b = malloc(need);
	assert_non_null(b);
	assert_int_equal(pdu_search_op(b, need, base, 70000, params, sizeof(params), filter, sizeof(filter), attrs, 2), need);
	struct berval bv, dn;
	ber_tag_t tag;
	BerElement *ber = dec(b, need, &bv);
	assert_int_not_equal(ber_scanf(ber, "t{mxxxxxx{}}", &tag, &dn), LBER_ERROR);
	assert_bv(&dn, base, 70000);
	assert_done(ber);
	assert_int_equal(pdu_search_op(b, need - 1, base, 70000, params, sizeof(params), filter, sizeof(filter), attrs, 2), 0);
	free(b);
	free(base);
}

/* ------------------------------------------------------------------ */
/* CompareRequest                                                      */

static void
test_compare_op(void **state)
{
	(void)state;
	const char *dn = "uid=alice,ou=people,dc=example,dc=com";
	char *value = filled(200, 'v');
	size_t need = pdu_compare_op(NULL, 0, dn, strlen(dn), "memberOf", 8, value, 200);
	unsigned char b[512];
	size_t n = pdu_compare_op(b, sizeof(b), dn, strlen(dn), "memberOf", 8, value, 200);
	assert_int_equal(n, need);
	assert_int_equal(b[0], PDU_COMPARE_REQ);
	struct berval bv, e, a, v;
	ber_tag_t tag;
	BerElement *ber = dec(b, n, &bv);
	assert_int_not_equal(ber_scanf(ber, "t{m{mm}}", &tag, &e, &a, &v), LBER_ERROR);
	assert_int_equal(tag, PDU_COMPARE_REQ);
	assert_bv(&e, dn, strlen(dn));
	assert_bv(&a, "memberOf", 8);
	assert_bv(&v, value, 200);
	assert_done(ber);
	assert_int_equal(pdu_compare_op(b, n - 1, dn, strlen(dn), "memberOf", 8, value, 200), 0);
	/* empty value */
	n = pdu_compare_op(b, sizeof(b), "", 0, "cn", 2, "", 0);
	assert_int_equal(n, pdu_compare_op(NULL, 0, "", 0, "cn", 2, "", 0));
	ber = dec(b, n, &bv);
	assert_int_not_equal(ber_scanf(ber, "t{m{mm}}", &tag, &e, &a, &v), LBER_ERROR);
	assert_bv(&e, "", 0);
	assert_bv(&v, "", 0);
	assert_done(ber);
	free(value);
}

/* ------------------------------------------------------------------ */
/* ModifyRequest                                                       */

static void
test_modify(void **state)
{
	(void)state;
	/* vals as received: SET OF { "a@x", "b@x" } */
	static const unsigned char vals[] = { 0x31, 10, 0x04, 3, 'a', '@', 'x', 0x04, 3, 'b', '@', 'x' };
	static const unsigned char none[] = { 0x31, 0 };
	unsigned char ch[256], b[512];
	size_t c1 = pdu_modify_change(ch, sizeof(ch), 2, "mail", 4, vals, sizeof(vals));
	assert_true(c1 > 0);
	assert_int_equal(pdu_modify_change(ch, c1 - 1, 2, "mail", 4, vals, sizeof(vals)), 0);
	size_t c2 = pdu_modify_change(ch + c1, sizeof(ch) - c1, 1, "telephoneNumber", 15, none, sizeof(none));
	assert_true(c2 > 0);
	const char *dn = "uid=bob,dc=example,dc=com";
	size_t n = pdu_modify_op(b, sizeof(b), dn, strlen(dn), ch, c1 + c2);
	assert_true(n > 0);
	assert_int_equal(b[0], PDU_MODIFY_REQ);
	assert_int_equal(pdu_modify_op(b, n - 1, dn, strlen(dn), ch, c1 + c2), 0);
	struct berval bv, obj, t1, v1, v2, t2;
	ber_tag_t tag;
	ber_int_t op1, op2;
	BerElement *ber = dec(b, n, &bv);
	assert_int_not_equal(ber_scanf(ber, "t{m{{e{m[mm]}}{e{m[]}}}}", &tag, &obj, &op1, &t1, &v1, &v2, &op2, &t2),
	    LBER_ERROR);
	assert_int_equal(tag, PDU_MODIFY_REQ);
	assert_bv(&obj, dn, strlen(dn));
	assert_int_equal(op1, 2);
	assert_bv(&t1, "mail", 4);
	assert_bv(&v1, "a@x", 3);
	assert_bv(&v2, "b@x", 3);
	assert_int_equal(op2, 1);
	assert_bv(&t2, "telephoneNumber", 15);
	assert_done(ber);
}

/* ------------------------------------------------------------------ */
/* SASL BindRequest                                                    */

static void
check_sasl_bind(int msgid, const void *cred, size_t len, int has_cred)
{
	struct evbuffer *eb = evbuffer_new();
	assert_non_null(eb);
	assert_int_equal(pdu_sasl_bind(eb, msgid, "GSSAPI", cred, len, has_cred), 0);
	struct berval bv, name, mech, cr;
	ber_int_t version;
	BerElement *ber = dec_message(eb, &bv, msgid, PDU_BIND_REQ);
	ber_tag_t tag;
	assert_int_not_equal(ber_scanf(ber, "{imt{m", &version, &name, &tag, &mech), LBER_ERROR);
	assert_int_equal(version, 3);
	assert_bv(&name, "", 0);
	assert_int_equal(tag, 0xa3);
	assert_bv(&mech, "GSSAPI", 6);
	if (has_cred) {
		assert_int_not_equal(ber_scanf(ber, "m", &cr), LBER_ERROR);
		assert_bv(&cr, cred, len);
	}
	assert_int_not_equal(ber_scanf(ber, "}}}"), LBER_ERROR);
	assert_done(ber);
	evbuffer_free(eb);
}

static void
test_sasl_bind(void **state)
{
	(void)state;
	char *token = filled(70000, 't');
	check_sasl_bind(1, NULL, 0, 0);
	check_sasl_bind(2, "", 0, 1);
	check_sasl_bind(300, token, 100, 1);
	check_sasl_bind(0x7fffffff, token, 70000, 1);
	/* the protocolOp alone, with a name, and one byte short */
	unsigned char b[256];
	size_t need = pdu_sasl_bind_op(NULL, 0, "cn=x", 4, "EXTERNAL", NULL, 0, 0);
	assert_int_equal(pdu_sasl_bind_op(b, sizeof(b), "cn=x", 4, "EXTERNAL", NULL, 0, 0), need);
	assert_int_equal(pdu_sasl_bind_op(b, need - 1, "cn=x", 4, "EXTERNAL", NULL, 0, 0), 0);
	struct berval bv, name, mech;
	ber_tag_t tag, t2;
	ber_int_t version;
	BerElement *ber = dec(b, need, &bv);
	assert_int_not_equal(ber_scanf(ber, "t{imt{m}}", &tag, &version, &name, &t2, &mech), LBER_ERROR);
	assert_int_equal(tag, PDU_BIND_REQ);
	assert_bv(&name, "cn=x", 4);
	assert_bv(&mech, "EXTERNAL", 8);
	assert_done(ber);
	free(token);
}

/* ------------------------------------------------------------------ */
/* SearchResultEntry                                                   */

static void
test_entry_bv(void **state)
{
	(void)state;
	char *big = filled(70000, 'p');
	struct berval mail[] = { { 3, "a@x" }, { 3, "b@x" } }, photo[] = { { 70000, big } };
	struct pdu_battr attrs[] = { { { 4, "mail" }, mail, 2 }, { { 9, "jpegPhoto" }, photo, 1 }, { { 2, "cn" }, NULL, 0 } };
	const char *dn = "uid=alice,dc=example,dc=com";
	for (int typesonly = 0; typesonly < 2; typesonly++) {
		struct evbuffer *eb = evbuffer_new();
		assert_non_null(eb);
		assert_int_equal(pdu_entry_bv(eb, 42, dn, strlen(dn), attrs, 3, typesonly), 0);
		struct berval bv, d, n1, v1, v2, n2, v3, n3;
		BerElement *ber = dec_message(eb, &bv, 42, PDU_SEARCH_ENTRY);
		if (typesonly)
			assert_int_not_equal(ber_scanf(ber, "{m{{m[]}{m[]}{m[]}}}}", &d, &n1, &n2, &n3), LBER_ERROR);
		else {
			assert_int_not_equal(ber_scanf(ber, "{m{{m[mm]}{m[m]}{m[]}}}}", &d, &n1, &v1, &v2, &n2, &v3, &n3),
			    LBER_ERROR);
			assert_bv(&v1, "a@x", 3);
			assert_bv(&v2, "b@x", 3);
			assert_bv(&v3, big, 70000);
		}
		assert_bv(&d, dn, strlen(dn));
		assert_bv(&n1, "mail", 4);
		assert_bv(&n2, "jpegPhoto", 9);
		assert_bv(&n3, "cn", 2);
		assert_done(ber);
		evbuffer_free(eb);
	}
	free(big);
}

/* No room to be had (the end of the buffer frozen): -1 and nothing added. */
static void
test_entry_no_room(void **state)
{
	(void)state;
	struct berval mail[] = { { 3, "a@x" } };
	struct pdu_battr attrs[] = { { { 4, "mail" }, mail, 1 } };
	static const char *const v[] = { "3" };
	struct pdu_attr sattrs[] = { { "supportedLDAPVersion", v, 1 } };
	struct evbuffer *eb = evbuffer_new();
	assert_non_null(eb);
	assert_int_equal(evbuffer_add(eb, "x", 1), 0);
	evbuffer_freeze(eb, 0);
	assert_int_equal(pdu_entry_bv(eb, 1, "", 0, attrs, 1, 0), -1);
	assert_int_equal(pdu_entry(eb, 1, "", sattrs, 1), -1);
	assert_int_equal(pdu_paged_done(eb, 1, "\x65\x07\x0a\x01\x00\x04\x00\x04\x00", 9, 10, "ALDP", 4), -1);
	assert_int_equal(pdu_sasl_bind(eb, 1, "GSSAPI", "tok", 3, 1), -1);
	assert_int_equal(pdu_ext_result(eb, 1, 0, "", "1.2.3", "value", 5), -1);
	assert_int_equal(evbuffer_get_length(eb), 1);
	evbuffer_unfreeze(eb, 0);
	evbuffer_free(eb);
}

/* A scrubbed entry: the header, then the DN and the kept attributes as received. */
static void
test_entry_head(void **state)
{
	(void)state;
	static const unsigned char dn_tlv[] = { 0x04, 4, 'o', '=', 'x', 'y' };
	static const unsigned char attr[] = { 0x30, 9, 0x04, 2, 'c', 'n', 0x31, 3, 0x04, 1, 'z' };
	size_t total = pdu_message_size(7, 1 + 1 + sizeof(dn_tlv) + 2 + sizeof(attr));
	unsigned char b[64];
	size_t off = pdu_entry_head(b, total, 7, sizeof(dn_tlv), sizeof(attr));
	assert_true(off > 0);
	off = pdu_put_raw(b, total, off, dn_tlv, sizeof(dn_tlv));
	off = pdu_put_tl(b, total, off, 0x30, sizeof(attr));
	off = pdu_put_raw(b, total, off, attr, sizeof(attr));
	assert_int_equal(off, total);
	struct pdu_head h;
	assert_int_equal(pdu_frame(b, total, 1 << 20, &h), PDU_OK);
	assert_int_equal(h.total, total);
	assert_int_equal(h.msgid, 7);
	assert_int_equal(h.op_tag, PDU_SEARCH_ENTRY);
	struct berval bv, dn, name, val;
	ber_int_t id;
	BerElement *ber = dec(b, total, &bv);
	assert_int_not_equal(ber_scanf(ber, "{i{m{{m[m]}}}}", &id, &dn, &name, &val), LBER_ERROR);
	assert_bv(&dn, "o=xy", 4);
	assert_bv(&name, "cn", 2);
	assert_bv(&val, "z", 1);
	assert_done(ber);
	/* too small for the header */
	assert_int_equal(pdu_entry_head(b, 4, 7, sizeof(dn_tlv), sizeof(attr)), 0);
}

/* ------------------------------------------------------------------ */
/* SearchResultDone with aldproxy's paged-results control             */

static void
check_paged_done(long size, const void *cookie, size_t cookielen)
{
	/* SearchResultDone { success, "", "" } as the directory sent it */
	static const unsigned char done[] = { 0x65, 0x07, 0x0a, 0x01, 0x00, 0x04, 0x00, 0x04, 0x00 };
	struct evbuffer *eb = evbuffer_new();
	assert_non_null(eb);
	assert_int_equal(pdu_paged_done(eb, 99, done, sizeof(done), size, cookie, cookielen), 0);
	struct berval bv, matched, diag, oid, value, ck;
	ber_int_t code, sz;
	ber_tag_t tag;
	BerElement *ber = dec_message(eb, &bv, 99, PDU_SEARCH_DONE);
	assert_int_not_equal(ber_scanf(ber, "{emm}t{{mm}}}", &code, &matched, &diag, &tag, &oid, &value), LBER_ERROR);
	assert_int_equal(code, 0);
	assert_int_equal(tag, PDU_CONTROLS);
	assert_bv(&oid, OID_PAGED_RESULTS, strlen(OID_PAGED_RESULTS));
	assert_done(ber);
	ber = dec((unsigned char *)value.bv_val, value.bv_len, &bv);
	assert_int_not_equal(ber_scanf(ber, "{im}", &sz, &ck), LBER_ERROR);
	assert_int_equal(sz, size);
	assert_bv(&ck, cookie, cookielen);
	assert_done(ber);
	evbuffer_free(eb);
}

static void
test_paged_done(void **state)
{
	(void)state;
	check_paged_done(0, "", 0);
	check_paged_done(1000, "ALDP\0\0\0\1\0\0\0\2", 12);
	check_paged_done(0x7fffffff, "x", 1);
	/* a cookie larger than the control's room, and no protocolOp */
	char *huge = filled(2000, 'c');
	struct evbuffer *eb = evbuffer_new();
	assert_non_null(eb);
	assert_int_equal(pdu_paged_done(eb, 1, "\x65\x00", 2, 1, huge, 2000), -1);
	assert_int_equal(pdu_paged_done(eb, 1, "", 0, 1, "x", 1), -1);
	assert_int_equal(evbuffer_get_length(eb), 0);
	evbuffer_free(eb);
	free(huge);
}

/* AddRequest { entry, { { type, SET OF value } ... } }: decoded back with liblber. */
static void
test_add_op(void **state)
{
	(void)state;
	unsigned char vals[64], attrs[256], b[512];
	/* SET OF { "top", "person" } */
	size_t o = pdu_put_tl(vals, sizeof(vals), 0, 0x31, 13);
	o = pdu_put_octets(vals, sizeof(vals), o, 0x04, "top", 3);
	o = pdu_put_octets(vals, sizeof(vals), o, 0x04, "person", 6);
	assert_int_equal(o, 15);
	size_t a1 = pdu_add_attr(attrs, sizeof(attrs), "objectClass", 11, vals, o);
	assert_true(a1 > 0);
	assert_int_equal(pdu_add_attr(attrs, a1 - 1, "objectClass", 11, vals, o), 0);
	unsigned char v2[16];
	size_t o2 = pdu_put_tl(v2, sizeof(v2), 0, 0x31, 5);
	o2 = pdu_put_octets(v2, sizeof(v2), o2, 0x04, "bob", 3);
	size_t a2 = pdu_add_attr(attrs + a1, sizeof(attrs) - a1, "uid", 3, v2, o2);
	assert_true(a2 > 0);
	const char *dn = "uid=bob,cn=users,dc=x";
	size_t n = pdu_add_op(b, sizeof(b), dn, strlen(dn), attrs, a1 + a2);
	assert_true(n > 0);
	assert_int_equal(b[0], PDU_ADD_REQ);
	for (size_t cap = 0; cap < n; cap++)
		assert_int_equal(pdu_add_op(b, cap, dn, strlen(dn), attrs, a1 + a2), 0);
	assert_int_equal(pdu_add_op(NULL, sizeof(b), dn, strlen(dn), attrs, a1 + a2), 0);
	struct berval bv, entry, t1, c1, c2, t2, u1;
	ber_tag_t tag;
	BerElement *ber = dec(b, n, &bv);
	assert_int_not_equal(ber_scanf(ber, "t{m{{m[mm]}{m[m]}}}", &tag, &entry, &t1, &c1, &c2, &t2, &u1), LBER_ERROR);
	assert_int_equal(tag, PDU_ADD_REQ);
	assert_bv(&entry, dn, strlen(dn));
	assert_bv(&t1, "objectClass", 11);
	assert_bv(&c1, "top", 3);
	assert_bv(&c2, "person", 6);
	assert_bv(&t2, "uid", 3);
	assert_bv(&u1, "bob", 3);
	assert_done(ber);
	/* an empty attribute list still makes a well-formed request */
	n = pdu_add_op(b, sizeof(b), dn, strlen(dn), NULL, 0);
	ber = dec(b, n, &bv);
	assert_int_not_equal(ber_scanf(ber, "t{m{}}", &tag, &entry), LBER_ERROR);
	assert_done(ber);
}

/* A long value: length octets of more than one byte. */
static void
test_add_op_long(void **state)
{
	(void)state;
	static unsigned char vals[70000], attrs[70100], b[70200];
	static char big[69000];
	memset(big, 'a', sizeof(big));
	size_t o = pdu_put_tl(vals, sizeof(vals), 0, 0x31, enc_tlv_size(sizeof(big)));
	o = pdu_put_octets(vals, sizeof(vals), o, 0x04, big, sizeof(big));
	size_t a = pdu_add_attr(attrs, sizeof(attrs), "description", 11, vals, o);
	assert_true(a > 0);
	size_t n = pdu_add_op(b, sizeof(b), "cn=x", 4, attrs, a);
	assert_true(n > 0);
	struct berval bv, entry, t, v;
	ber_tag_t tag;
	BerElement *ber = dec(b, n, &bv);
	assert_int_not_equal(ber_scanf(ber, "t{m{{m[m]}}}", &tag, &entry, &t, &v), LBER_ERROR);
	assert_int_equal(v.bv_len, sizeof(big));
	assert_done(ber);
}

static void
test_del_op(void **state)
{
	(void)state;
	unsigned char b[64];
	const char *dn = "uid=bob,cn=users,dc=x";
	size_t n = pdu_del_op(b, sizeof(b), dn, strlen(dn));
	assert_int_equal(n, 2 + strlen(dn));
	assert_int_equal(b[0], PDU_DEL_REQ);
	assert_int_equal(pdu_del_op(b, n - 1, dn, strlen(dn)), 0);
	assert_int_equal(pdu_del_op(NULL, sizeof(b), dn, strlen(dn)), 0);
	struct berval bv, got;
	ber_tag_t tag;
	BerElement *ber = dec(b, n, &bv);
	assert_int_equal(ber_peek_tag(ber, &(ber_len_t){ 0 }), PDU_DEL_REQ);
	assert_int_not_equal(ber_scanf(ber, "tm", &tag, &got), LBER_ERROR);
	assert_bv(&got, dn, strlen(dn));
	assert_done(ber);
}

static void
test_moddn_op(void **state)
{
	(void)state;
	unsigned char b[256];
	const char *dn = "uid=bob,cn=users,dc=x", *sup = "cn=staged,dc=x";
	size_t n = pdu_moddn_op(b, sizeof(b), dn, strlen(dn), "uid=bobby", 9, 1, sup, strlen(sup));
	assert_true(n > 0);
	assert_int_equal(b[0], PDU_MODDN_REQ);
	for (size_t cap = 0; cap < n; cap++)
		assert_int_equal(pdu_moddn_op(b, cap, dn, strlen(dn), "uid=bobby", 9, 1, sup, strlen(sup)), 0);
	struct berval bv, e, rdn, ns;
	ber_tag_t tag, st;
	ber_int_t del = 0;
	BerElement *ber = dec(b, n, &bv);
	assert_int_not_equal(ber_scanf(ber, "t{mmb", &tag, &e, &rdn, &del), LBER_ERROR);
	assert_int_equal(tag, PDU_MODDN_REQ);
	assert_bv(&e, dn, strlen(dn));
	assert_bv(&rdn, "uid=bobby", 9);
	assert_true(del != 0);
	assert_int_equal(ber_peek_tag(ber, &(ber_len_t){ 0 }), 0x80);
	assert_int_not_equal(ber_scanf(ber, "tm}", &st, &ns), LBER_ERROR);
	assert_bv(&ns, sup, strlen(sup));
	assert_done(ber);
	/* without newSuperior, deleteoldrdn FALSE */
	n = pdu_moddn_op(b, sizeof(b), dn, strlen(dn), "uid=bobby", 9, 0, NULL, 0);
	ber = dec(b, n, &bv);
	del = 1;
	assert_int_not_equal(ber_scanf(ber, "t{mmb}", &tag, &e, &rdn, &del), LBER_ERROR);
	assert_int_equal(del, 0);
	assert_done(ber);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_add_op),
		cmocka_unit_test(test_add_op_long),
		cmocka_unit_test(test_del_op),
		cmocka_unit_test(test_moddn_op),
		cmocka_unit_test(test_put_primitives),
		cmocka_unit_test(test_message_size),
		cmocka_unit_test(test_attr_selection),
		cmocka_unit_test(test_search_op),
		cmocka_unit_test(test_search_op_long_base),
		cmocka_unit_test(test_compare_op),
		cmocka_unit_test(test_modify),
		cmocka_unit_test(test_sasl_bind),
		cmocka_unit_test(test_entry_bv),
		cmocka_unit_test(test_entry_no_room),
		cmocka_unit_test(test_entry_head),
		cmocka_unit_test(test_paged_done),
	};
	return cmocka_run_group_tests_name("pdu_encode", tests, NULL, NULL);
}
