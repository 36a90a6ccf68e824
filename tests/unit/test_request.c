/*
 * test_request.c — unit tests for request_decode(), filter_walk() and
 * request_control().
 *
 * Messages are built with liblber's ber_printf() and copied into buffers
 * of exactly their size, so an over-read shows up under ASan.  Every
 * decode also checks that the input is left byte-for-byte unchanged:
 * liblber's own 'm' format writes a NUL after each string, which would
 * corrupt a message that aldproxy forwards as received.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <lber.h>

#include "pdu.h"
#include "request.h"

#define OID_MANAGEDSAIT "2.16.840.1.113730.3.4.2"
#define OID_SORT "1.2.840.113556.1.4.473"

/* ------------------------------------------------------------------ */
/* building messages                                                   */

struct msg {
	unsigned char *buf;
	size_t len;
};

static void
msg_free(struct msg *m)
{
	free(m->buf);
	m->buf = NULL;
	m->len = 0;
}

/* Copies the encoding into a buffer of exactly its size. */
static struct msg
finish(BerElement *ber)
{
	struct berval bv;
	struct msg m;
	assert_int_equal(ber_flatten2(ber, &bv, 0), 0);
	m.len = bv.bv_len;
	m.buf = malloc(m.len ? m.len : 1);
	assert_non_null(m.buf);
	memcpy(m.buf, bv.bv_val, m.len);
	ber_free(ber, 1);
	return m;
}

static BerElement *
enc_new(void)
{
	BerElement *ber = ber_alloc_t(LBER_USE_DER);
	assert_non_null(ber);
	return ber;
}

#define P(ber, ...) assert_int_not_equal(ber_printf((ber), __VA_ARGS__), -1)
#define T(x) ((ber_tag_t)(x))

static void
put_raw(BerElement *ber, const struct msg *m)
{
	assert_int_equal(ber_write(ber, (const char *)m->buf, m->len, 0), (ber_slen_t)m->len);
}

struct ctl {
	const char *oid;
	int critical;               /* -1: absent */
	const struct berval *value; /* NULL: absent */
};

static void
put_controls(BerElement *ber, const struct ctl *c, size_t n)
{
	P(ber, "t{", T(PDU_CONTROLS));
	for (size_t i = 0; i < n; i++) {
		P(ber, "{s", c[i].oid);
		if (c[i].critical >= 0)
			P(ber, "b", (ber_int_t)c[i].critical);
		if (c[i].value != NULL)
			P(ber, "O", c[i].value);
		P(ber, "}");
	}
	P(ber, "}");
}

/* Wraps an already encoded protocolOp into an LDAPMessage. */
static struct msg
wrap(int msgid, const struct msg *op, const struct ctl *c, size_t nc)
{
	BerElement *ber = enc_new();
	P(ber, "{i", (ber_int_t)msgid);
	put_raw(ber, op);
	if (c != NULL)
		put_controls(ber, c, nc);
	P(ber, "}");
	return finish(ber);
}

static struct msg
op_simple_bind(const char *dn, const char *pw, size_t pwlen)
{
	BerElement *ber = enc_new();
	P(ber, "t{isto}", T(PDU_BIND_REQ), (ber_int_t)3, dn, T(0x80), pw, (ber_len_t)pwlen);
	return finish(ber);
}

static struct msg
op_search(const char *base, int scope, int deref, int sl, int tl, int typesonly,
    const struct msg *filter, const char *const *attrs, size_t nattrs)
{
	BerElement *ber = enc_new();
	P(ber, "t{seeiib", T(PDU_SEARCH_REQ), base, (ber_int_t)scope, (ber_int_t)deref, (ber_int_t)sl,
	    (ber_int_t)tl, (ber_int_t)typesonly);
	put_raw(ber, filter);
	P(ber, "{");
	for (size_t i = 0; i < nattrs; i++)
		P(ber, "s", attrs[i]);
	P(ber, "}}");
	return finish(ber);
}

/* (&(uid=alice)(objectClass=*)) */
static struct msg
filter_simple(void)
{
	BerElement *ber = enc_new();
	P(ber, "t{t{ss}ts}", T(0xa0), T(0xa3), "uid", "alice", T(0x87), "objectClass");
	return finish(ber);
}

/* ------------------------------------------------------------------ */
/* decoding                                                            */

struct decoded {
	struct request r;
	const char *why;
	unsigned char *copy;
	BerElement *ber;
};

static int
decode(struct msg *m, struct decoded *d)
{
	d->copy = malloc(m->len ? m->len : 1);
	assert_non_null(d->copy);
	memcpy(d->copy, m->buf, m->len);
	d->ber = ber_alloc_t(LBER_USE_DER);
	assert_non_null(d->ber);
	d->why = NULL;
	memset(&d->r, 0xa5, sizeof(d->r));
	int rc = request_decode(d->ber, m->buf, m->len, &d->r, &d->why);
	/* never write into the caller's buffer, success or not */
	assert_memory_equal(m->buf, d->copy, m->len);
	return rc;
}

static void
decoded_free(struct decoded *d)
{
	ber_free(d->ber, 0);
	free(d->copy);
}

static void
decode_ok(struct msg *m, struct decoded *d)
{
	int rc = decode(m, d);
	if (rc != 0)
		fail_msg("request_decode failed: %s", d->why ? d->why : "(no reason)");
}

static void
decode_fails(struct msg *m, const char *why_part)
{
	struct decoded d;
	assert_int_equal(decode(m, &d), -1);
	assert_non_null(d.why);
	if (why_part != NULL && strstr(d.why, why_part) == NULL)
		fail_msg("reason \"%s\" does not mention \"%s\"", d.why, why_part);
	decoded_free(&d);
}

/* bv points into m and holds exactly s */
static void
assert_bv(const struct msg *m, const struct berval *bv, const char *s)
{
	size_t n = strlen(s);
	assert_int_equal(bv->bv_len, n);
	if (n == 0)
		return;
	assert_non_null(bv->bv_val);
	assert_true((unsigned char *)bv->bv_val >= m->buf);
	assert_true((unsigned char *)bv->bv_val + n <= m->buf + m->len);
	assert_memory_equal(bv->bv_val, s, n);
}

static void
assert_bv_bytes(const struct msg *m, const struct berval *bv, const void *v, size_t n)
{
	assert_int_equal(bv->bv_len, n);
	assert_true((unsigned char *)bv->bv_val >= m->buf);
	assert_true((unsigned char *)bv->bv_val + n <= m->buf + m->len);
	if (n)
		assert_memory_equal(bv->bv_val, v, n);
}

/* The protocolOp TLV as decoded equals the bytes we encoded. */
static void
assert_op(const struct msg *m, const struct decoded *d, const struct msg *op)
{
	assert_bv_bytes(m, &d->r.op, op->buf, op->len);
}

static void
assert_no_controls(const struct decoded *d)
{
	assert_int_equal(d->r.ctrls.n, 0);
	assert_int_equal(d->r.ctrls.raw.bv_len, 0);
}

/* ------------------------------------------------------------------ */
/* bind                                                                */

static void
test_bind_simple(void **state)
{
	(void)state;
	struct msg op = op_simple_bind("uid=alice,cn=users,dc=ald,dc=test", "Secret123", 9);
	struct msg m = wrap(1, &op, NULL, 0);
	struct decoded d;
	decode_ok(&m, &d);
	assert_int_equal(d.r.msgid, 1);
	assert_int_equal(d.r.tag, PDU_BIND_REQ);
	assert_int_equal(d.r.u.bind.version, 3);
	assert_bv(&m, &d.r.u.bind.dn, "uid=alice,cn=users,dc=ald,dc=test");
	assert_int_equal(d.r.u.bind.auth_tag, 0x80);
	assert_bv(&m, &d.r.u.bind.cred, "Secret123");
	assert_int_equal(d.r.u.bind.mech.bv_len, 0);
	assert_op(&m, &d, &op);
	assert_no_controls(&d);
	decoded_free(&d);
	msg_free(&op);
	msg_free(&m);
}

static void
test_bind_anonymous(void **state)
{
	(void)state;
	struct msg op = op_simple_bind("", "", 0);
	struct msg m = wrap(2, &op, NULL, 0);
	struct decoded d;
	decode_ok(&m, &d);
	assert_int_equal(d.r.msgid, 2);
	assert_int_equal(d.r.u.bind.dn.bv_len, 0);
	assert_int_equal(d.r.u.bind.cred.bv_len, 0);
	assert_int_equal(d.r.u.bind.auth_tag, 0x80);
	decoded_free(&d);
	msg_free(&op);
	msg_free(&m);
}

static void
test_bind_binary_password(void **state)
{
	(void)state;
	static const char pw[] = { 'a', 0, 'b', (char)0xff, 0 };
	struct msg op = op_simple_bind("cn=x", pw, sizeof(pw));
	struct msg m = wrap(0x7fffffff, &op, NULL, 0);
	struct decoded d;
	decode_ok(&m, &d);
	assert_int_equal(d.r.msgid, 0x7fffffff);
	assert_bv_bytes(&m, &d.r.u.bind.cred, pw, sizeof(pw));
	decoded_free(&d);
	msg_free(&op);
	msg_free(&m);
}

static void
test_bind_sasl_no_creds(void **state)
{
	(void)state;
	BerElement *ber = enc_new();
	P(ber, "t{ist{s}}", T(PDU_BIND_REQ), (ber_int_t)3, "", T(0xa3), "GSSAPI");
	struct msg op = finish(ber);
	struct msg m = wrap(3, &op, NULL, 0);
	struct decoded d;
	decode_ok(&m, &d);
	assert_int_equal(d.r.tag, PDU_BIND_REQ);
	assert_int_equal(d.r.u.bind.auth_tag, 0xa3);
	assert_bv(&m, &d.r.u.bind.mech, "GSSAPI");
	assert_null(d.r.u.bind.cred.bv_val);
	assert_int_equal(d.r.u.bind.cred.bv_len, 0);
	assert_op(&m, &d, &op);
	decoded_free(&d);
	msg_free(&op);
	msg_free(&m);
}

static void
test_bind_sasl_with_creds(void **state)
{
	(void)state;
	static const char tok[] = { 0x60, 0x00, 0x01, 0x02, (char)0x80 };
	BerElement *ber = enc_new();
	P(ber, "t{ist{so}}", T(PDU_BIND_REQ), (ber_int_t)3, "", T(0xa3), "GSS-SPNEGO", tok, (ber_len_t)sizeof(tok));
	struct msg op = finish(ber);
	struct msg m = wrap(4, &op, NULL, 0);
	struct decoded d;
	decode_ok(&m, &d);
	assert_bv(&m, &d.r.u.bind.mech, "GSS-SPNEGO");
	assert_bv_bytes(&m, &d.r.u.bind.cred, tok, sizeof(tok));
	decoded_free(&d);
	msg_free(&op);
	msg_free(&m);
}

static void
test_bind_unknown_auth_choice(void **state)
{
	(void)state;
	/* decoded, so the handler can answer authMethodNotSupported */
	BerElement *ber = enc_new();
	P(ber, "t{isto}", T(PDU_BIND_REQ), (ber_int_t)3, "cn=x", T(0x89), "abc", (ber_len_t)3);
	struct msg op = finish(ber);
	struct msg m = wrap(5, &op, NULL, 0);
	struct decoded d;
	decode_ok(&m, &d);
	assert_int_equal(d.r.u.bind.auth_tag, 0x89);
	assert_bv(&m, &d.r.u.bind.dn, "cn=x");
	assert_op(&m, &d, &op);
	decoded_free(&d);
	msg_free(&op);
	msg_free(&m);
}

static void
test_bind_with_control(void **state)
{
	(void)state;
	struct msg op = op_simple_bind("cn=x", "pw", 2);
	const struct ctl c[] = { { "1.3.6.1.4.1.42.2.27.8.5.1", 0, NULL } };     /* ppolicy */
	struct msg m = wrap(6, &op, c, 1);
	struct decoded d;
	decode_ok(&m, &d);
	assert_op(&m, &d, &op);
	assert_int_equal(d.r.ctrls.n, 1);
	assert_bv(&m, &d.r.ctrls.c[0].oid, "1.3.6.1.4.1.42.2.27.8.5.1");
	assert_int_equal(d.r.ctrls.c[0].critical, 0);
	assert_null(d.r.ctrls.c[0].value.bv_val);
	decoded_free(&d);
	msg_free(&op);
	msg_free(&m);
}

/* ------------------------------------------------------------------ */
/* search                                                              */

static struct msg
paged_value(int size, const char *cookie, size_t clen)
{
	BerElement *ber = enc_new();
	P(ber, "{io}", (ber_int_t)size, cookie, (ber_len_t)clen);
	return finish(ber);
}

static void
test_search_full(void **state)
{
	(void)state;
	static const char *const attrs[] = { "uid", "cn", "memberOf;range=0-*", "+" };
	struct msg f = filter_simple();
	struct msg op = op_search("cn=users,cn=accounts,dc=ald,dc=test", 2, 3, 500, 30, 0, &f, attrs, 4);
	struct msg pv = paged_value(100, "", 0);
	struct berval pbv = { pv.len, (char *)pv.buf };
	const struct ctl c[] = {
		{ OID_PAGED_RESULTS, 1, &pbv },
		{ OID_MANAGEDSAIT, 0, NULL },
		{ OID_SORT, -1, &pbv },
	};
	struct msg m = wrap(42, &op, c, 3);
	struct decoded d;
	decode_ok(&m, &d);
	const struct req_search *s = &d.r.u.search;
	assert_int_equal(d.r.msgid, 42);
	assert_int_equal(d.r.tag, PDU_SEARCH_REQ);
	assert_bv(&m, &s->base, "cn=users,cn=accounts,dc=ald,dc=test");
	assert_int_equal(s->scope, 2);
	assert_int_equal(s->deref, 3);
	assert_int_equal(s->sizelimit, 500);
	assert_int_equal(s->timelimit, 30);
	assert_int_equal(s->typesonly, 0);
	assert_bv_bytes(&m, &s->filter, f.buf, f.len);
	assert_int_equal(s->nattrs, 4);
	for (size_t i = 0; i < 4; i++)
		assert_bv(&m, &s->attrs[i], attrs[i]);
	/* attrs_raw is the whole AttributeSelection: a SEQUENCE ending the op */
	assert_int_equal((unsigned char)s->attrs_raw.bv_val[0], 0x30);
	assert_ptr_equal(s->attrs_raw.bv_val + s->attrs_raw.bv_len, d.r.op.bv_val + d.r.op.bv_len);
	assert_op(&m, &d, &op);

	assert_int_equal(d.r.ctrls.n, 3);
	assert_int_equal((unsigned char)d.r.ctrls.raw.bv_val[0], PDU_CONTROLS);
	assert_ptr_equal(d.r.ctrls.raw.bv_val, d.r.op.bv_val + d.r.op.bv_len);
	assert_ptr_equal((unsigned char *)d.r.ctrls.raw.bv_val + d.r.ctrls.raw.bv_len, m.buf + m.len);

	assert_bv(&m, &d.r.ctrls.c[0].oid, OID_PAGED_RESULTS);
	assert_int_equal(d.r.ctrls.c[0].critical, 1);
	assert_bv_bytes(&m, &d.r.ctrls.c[0].value, pv.buf, pv.len);
	assert_bv(&m, &d.r.ctrls.c[1].oid, OID_MANAGEDSAIT);
	assert_int_equal(d.r.ctrls.c[1].critical, 0);
	assert_null(d.r.ctrls.c[1].value.bv_val);
	assert_bv(&m, &d.r.ctrls.c[2].oid, OID_SORT);
	assert_int_equal(d.r.ctrls.c[2].critical, 0);
	assert_bv_bytes(&m, &d.r.ctrls.c[2].value, pv.buf, pv.len);
	/* each raw control is one SEQUENCE, back to back */
	for (size_t i = 0; i < 3; i++) {
		assert_int_equal((unsigned char)d.r.ctrls.c[i].raw.bv_val[0], 0x30);
		if (i > 0)
			assert_ptr_equal(d.r.ctrls.c[i].raw.bv_val,
			    d.r.ctrls.c[i - 1].raw.bv_val + d.r.ctrls.c[i - 1].raw.bv_len);
	}
	assert_ptr_equal(d.r.ctrls.c[2].raw.bv_val + d.r.ctrls.c[2].raw.bv_len,
	    d.r.ctrls.raw.bv_val + d.r.ctrls.raw.bv_len);

	decoded_free(&d);
	msg_free(&pv);
	msg_free(&f);
	msg_free(&op);
	msg_free(&m);
}

static void
test_search_control_lookup(void **state)
{
	(void)state;
	struct msg f = filter_simple();
	struct msg op = op_search("", 0, 0, 0, 0, 1, &f, NULL, 0);
	struct msg pv = paged_value(10, "cookie", 6);
	struct berval pbv = { pv.len, (char *)pv.buf };
	const struct ctl c[] = {
		{ OID_MANAGEDSAIT, 1, NULL },
		{ OID_PAGED_RESULTS, 0, &pbv },
	};
	struct msg m = wrap(7, &op, c, 2);
	struct decoded d;
	decode_ok(&m, &d);
	assert_int_not_equal(d.r.u.search.typesonly, 0);  /* DER TRUE is 0xff */
	const struct req_control *pc = request_control(&d.r, OID_PAGED_RESULTS);
	assert_ptr_equal(pc, &d.r.ctrls.c[1]);
	assert_int_equal(pc->critical, 0);
	assert_bv_bytes(&m, &pc->value, pv.buf, pv.len);
	const struct req_control *mc = request_control(&d.r, OID_MANAGEDSAIT);
	assert_ptr_equal(mc, &d.r.ctrls.c[0]);
	assert_int_equal(mc->critical, 1);
	assert_null(request_control(&d.r, OID_SORT));
	/* no prefix or extension matches */
	assert_null(request_control(&d.r, "1.2.840.113556.1.4.31"));
	assert_null(request_control(&d.r, OID_PAGED_RESULTS ".1"));
	assert_null(request_control(&d.r, ""));
	decoded_free(&d);
	msg_free(&pv);
	msg_free(&f);
	msg_free(&op);
	msg_free(&m);
}

static void
test_search_no_attrs(void **state)
{
	(void)state;
	struct msg f = filter_simple();
	struct msg op = op_search("dc=ald,dc=test", 1, 0, 0, 0, 0, &f, NULL, 0);
	struct msg m = wrap(8, &op, NULL, 0);
	struct decoded d;
	decode_ok(&m, &d);
	assert_int_equal(d.r.u.search.nattrs, 0);
	assert_int_equal(d.r.u.search.attrs_raw.bv_len, 2);
	assert_memory_equal(d.r.u.search.attrs_raw.bv_val, "\x30\x00", 2);
	assert_no_controls(&d);
	decoded_free(&d);
	msg_free(&f);
	msg_free(&op);
	msg_free(&m);
}

static void
test_search_scope_subordinate(void **state)
{
	(void)state;
	/* scope 3 (subordinates, draft-sermersheim-ldap-subordinate-scope) */
	struct msg f = filter_simple();
	struct msg op = op_search("dc=ald,dc=test", 3, 0, 0, 0, 0, &f, NULL, 0);
	struct msg m = wrap(8, &op, NULL, 0);
	struct decoded d;
	decode_ok(&m, &d);
	assert_int_equal(d.r.u.search.scope, 3);
	decoded_free(&d);
	msg_free(&f);
	msg_free(&op);
	msg_free(&m);
}

static struct msg
search_with_n_attrs(size_t n)
{
	char (*names)[16] = calloc(n, 16);
	const char **attrs = calloc(n, sizeof(*attrs));
	assert_non_null(names);
	assert_non_null(attrs);
	for (size_t i = 0; i < n; i++) {
		snprintf(names[i], 16, "attr%u", (unsigned)(i % 100000));
		attrs[i] = names[i];
	}
	struct msg f = filter_simple();
	struct msg op = op_search("dc=ald,dc=test", 2, 0, 0, 0, 0, &f, attrs, n);
	struct msg m = wrap(9, &op, NULL, 0);
	msg_free(&f);
	msg_free(&op);
	free(names);
	free(attrs);
	return m;
}

static void
test_search_256_attrs(void **state)
{
	(void)state;
	struct msg m = search_with_n_attrs(REQ_MAX_ATTRS);
	struct decoded d;
	decode_ok(&m, &d);
	assert_int_equal(d.r.u.search.nattrs, REQ_MAX_ATTRS);
	assert_bv(&m, &d.r.u.search.attrs[0], "attr0");
	assert_bv(&m, &d.r.u.search.attrs[255], "attr255");
	decoded_free(&d);
	msg_free(&m);
}

static void
test_search_too_many_attrs(void **state)
{
	(void)state;
	struct msg m = search_with_n_attrs(REQ_MAX_ATTRS + 1);
	decode_fails(&m, "too many attributes");
	msg_free(&m);
}

static void
test_search_bad_scope(void **state)
{
	(void)state;
	struct msg f = filter_simple();
	struct msg op = op_search("dc=ald,dc=test", 4, 0, 0, 0, 0, &f, NULL, 0);
	struct msg m = wrap(10, &op, NULL, 0);
	decode_fails(&m, "out of range");
	msg_free(&f);
	msg_free(&op);
	msg_free(&m);
}

static void
test_search_negative_scope(void **state)
{
	(void)state;
	struct msg f = filter_simple();
	struct msg op = op_search("dc=ald,dc=test", -1, 0, 0, 0, 0, &f, NULL, 0);
	struct msg m = wrap(10, &op, NULL, 0);
	decode_fails(&m, "out of range");
	msg_free(&f);
	msg_free(&op);
	msg_free(&m);
}

static void
test_search_bad_deref(void **state)
{
	(void)state;
	struct msg f = filter_simple();
	struct msg op = op_search("dc=ald,dc=test", 2, 4, 0, 0, 0, &f, NULL, 0);
	struct msg m = wrap(10, &op, NULL, 0);
	decode_fails(&m, "out of range");
	msg_free(&f);
	msg_free(&op);
	msg_free(&m);
}

static void
test_search_negative_sizelimit(void **state)
{
	(void)state;
	struct msg f = filter_simple();
	struct msg op = op_search("dc=ald,dc=test", 2, 0, -1, 0, 0, &f, NULL, 0);
	struct msg m = wrap(10, &op, NULL, 0);
	decode_fails(&m, "out of range");
	msg_free(&f);
	msg_free(&op);
	msg_free(&m);
}

static void
test_search_negative_timelimit(void **state)
{
	(void)state;
	struct msg f = filter_simple();
	struct msg op = op_search("dc=ald,dc=test", 2, 0, 0, -5, 0, &f, NULL, 0);
	struct msg m = wrap(10, &op, NULL, 0);
	decode_fails(&m, "out of range");
	msg_free(&f);
	msg_free(&op);
	msg_free(&m);
}

static void
test_search_attrs_not_sequence(void **state)
{
	(void)state;
	BerElement *ber = enc_new();
	struct msg f = filter_simple();
	P(ber, "t{seeiib", T(PDU_SEARCH_REQ), "dc=x", (ber_int_t)2, (ber_int_t)0, (ber_int_t)0,
	    (ber_int_t)0, (ber_int_t)0);
	put_raw(ber, &f);
	P(ber, "s}", "uid");    /* a bare string where the SEQUENCE belongs */
	struct msg op = finish(ber);
	struct msg m = wrap(11, &op, NULL, 0);
	decode_fails(&m, "attribute selection");
	msg_free(&f);
	msg_free(&op);
	msg_free(&m);
}

static void
test_search_missing_filter(void **state)
{
	(void)state;
	BerElement *ber = enc_new();
	P(ber, "t{seeiib}", T(PDU_SEARCH_REQ), "dc=x", (ber_int_t)2, (ber_int_t)0, (ber_int_t)0,
	    (ber_int_t)0, (ber_int_t)0);
	struct msg op = finish(ber);
	struct msg m = wrap(12, &op, NULL, 0);
	decode_fails(&m, NULL);
	msg_free(&op);
	msg_free(&m);
}

/* ------------------------------------------------------------------ */
/* other operations                                                    */

static void
test_compare(void **state)
{
	(void)state;
	BerElement *ber = enc_new();
	P(ber, "t{s{ss}}", T(PDU_COMPARE_REQ), "uid=alice,dc=ald,dc=test", "memberOf", "cn=admins,dc=ald,dc=test");
	struct msg op = finish(ber);
	struct msg m = wrap(13, &op, NULL, 0);
	struct decoded d;
	decode_ok(&m, &d);
	assert_int_equal(d.r.tag, PDU_COMPARE_REQ);
	assert_bv(&m, &d.r.u.compare.dn, "uid=alice,dc=ald,dc=test");
	assert_bv(&m, &d.r.u.compare.attr, "memberOf");
	assert_bv(&m, &d.r.u.compare.value, "cn=admins,dc=ald,dc=test");
	assert_op(&m, &d, &op);
	decoded_free(&d);
	msg_free(&op);
	msg_free(&m);
}

static void
test_compare_malformed(void **state)
{
	(void)state;
	BerElement *ber = enc_new();
	P(ber, "t{s}", T(PDU_COMPARE_REQ), "uid=alice");  /* no AttributeValueAssertion */
	struct msg op = finish(ber);
	struct msg m = wrap(13, &op, NULL, 0);
	decode_fails(&m, "compare");
	msg_free(&op);
	msg_free(&m);
}

static void
test_extended_no_value(void **state)
{
	(void)state;
	BerElement *ber = enc_new();
	P(ber, "t{ts}", T(PDU_EXT_REQ), T(0x80), OID_WHOAMI);
	struct msg op = finish(ber);
	struct msg m = wrap(14, &op, NULL, 0);
	struct decoded d;
	decode_ok(&m, &d);
	assert_int_equal(d.r.tag, PDU_EXT_REQ);
	assert_bv(&m, &d.r.u.ext.oid, OID_WHOAMI);
	assert_null(d.r.u.ext.value.bv_val);
	assert_int_equal(d.r.u.ext.value.bv_len, 0);
	assert_op(&m, &d, &op);
	decoded_free(&d);
	msg_free(&op);
	msg_free(&m);
}

static void
test_extended_with_value(void **state)
{
	(void)state;
	/* PasswdModifyRequestValue: SEQUENCE { [0] userIdentity, [1] oldPasswd } */
	BerElement *vb = enc_new();
	P(vb, "{tsts}", T(0x80), "uid=alice,dc=ald,dc=test", T(0x81), "old");
	struct msg v = finish(vb);
	BerElement *ber = enc_new();
	P(ber, "t{tsto}", T(PDU_EXT_REQ), T(0x80), OID_PASSWD_MODIFY, T(0x81), (char *)v.buf, (ber_len_t)v.len);
	struct msg op = finish(ber);
	struct msg m = wrap(15, &op, NULL, 0);
	struct decoded d;
	decode_ok(&m, &d);
	assert_bv(&m, &d.r.u.ext.oid, OID_PASSWD_MODIFY);
	assert_bv_bytes(&m, &d.r.u.ext.value, v.buf, v.len);
	decoded_free(&d);
	msg_free(&v);
	msg_free(&op);
	msg_free(&m);
}

static void
test_extended_empty_value(void **state)
{
	(void)state;
	BerElement *ber = enc_new();
	P(ber, "t{tsto}", T(PDU_EXT_REQ), T(0x80), "1.2.3.4", T(0x81), "", (ber_len_t)0);
	struct msg op = finish(ber);
	struct msg m = wrap(16, &op, NULL, 0);
	struct decoded d;
	decode_ok(&m, &d);
	assert_bv(&m, &d.r.u.ext.oid, "1.2.3.4");
	assert_int_equal(d.r.u.ext.value.bv_len, 0);
	/* present but empty is not "absent" */
	assert_non_null(d.r.u.ext.value.bv_val);
	decoded_free(&d);
	msg_free(&op);
	msg_free(&m);
}

static void
test_abandon(void **state)
{
	(void)state;
	BerElement *ber = enc_new();
	P(ber, "ti", T(PDU_ABANDON_REQ), (ber_int_t)300);
	struct msg op = finish(ber);
	struct msg m = wrap(17, &op, NULL, 0);
	struct decoded d;
	decode_ok(&m, &d);
	assert_int_equal(d.r.tag, PDU_ABANDON_REQ);
	assert_int_equal(d.r.u.abandon_msgid, 300);
	assert_op(&m, &d, &op);
	assert_no_controls(&d);
	decoded_free(&d);
	msg_free(&op);
	msg_free(&m);
}

static void
test_unbind(void **state)
{
	(void)state;
	BerElement *ber = enc_new();
	P(ber, "tn", T(PDU_UNBIND_REQ));
	struct msg op = finish(ber);
	struct msg m = wrap(18, &op, NULL, 0);
	struct decoded d;
	decode_ok(&m, &d);
	assert_int_equal(d.r.tag, PDU_UNBIND_REQ);
	assert_int_equal(d.r.op.bv_len, 2);
	assert_op(&m, &d, &op);
	decoded_free(&d);
	msg_free(&op);
	msg_free(&m);
}

static void
test_unbind_with_contents(void **state)
{
	(void)state;
	/* UnbindRequest ::= [APPLICATION 2] NULL: contents must be empty */
	const unsigned char raw[] = { 0x30, 0x06, 0x02, 0x01, 0x01, 0x42, 0x01, 0x00 };
	struct msg m = { malloc(sizeof(raw)), sizeof(raw) };
	memcpy(m.buf, raw, sizeof(raw));
	decode_fails(&m, "unbind");
	msg_free(&m);
}

static void
test_delete_envelope(void **state)
{
	(void)state;
	BerElement *ber = enc_new();
	P(ber, "ts", T(PDU_DEL_REQ), "uid=bob,dc=ald,dc=test");
	struct msg op = finish(ber);
	const struct ctl c[] = { { OID_MANAGEDSAIT, 1, NULL } };
	struct msg m = wrap(19, &op, c, 1);
	struct decoded d;
	decode_ok(&m, &d);
	assert_int_equal(d.r.tag, PDU_DEL_REQ);
	assert_op(&m, &d, &op);
	assert_int_equal(d.r.ctrls.n, 1);
	assert_int_equal(d.r.ctrls.c[0].critical, 1);
	decoded_free(&d);
	msg_free(&op);
	msg_free(&m);
}

static void
test_add_envelope(void **state)
{
	(void)state;
	BerElement *ber = enc_new();
	P(ber, "t{s{{s[ss]}{s[s]}}}", T(PDU_ADD_REQ), "uid=bob,dc=ald,dc=test", "objectClass", "top", "person",
	    "cn", "Bob");
	struct msg op = finish(ber);
	struct msg m = wrap(20, &op, NULL, 0);
	struct decoded d;
	decode_ok(&m, &d);
	assert_int_equal(d.r.tag, PDU_ADD_REQ);
	assert_op(&m, &d, &op);
	assert_no_controls(&d);
	decoded_free(&d);
	msg_free(&op);
	msg_free(&m);
}

static void
test_modify_envelope(void **state)
{
	(void)state;
	BerElement *ber = enc_new();
	P(ber, "t{s{{e{s[s]}}}}", T(PDU_MODIFY_REQ), "uid=bob,dc=ald,dc=test", (ber_int_t)2, "description", "x");
	struct msg op = finish(ber);
	struct msg m = wrap(21, &op, NULL, 0);
	struct decoded d;
	decode_ok(&m, &d);
	assert_int_equal(d.r.tag, PDU_MODIFY_REQ);
	assert_op(&m, &d, &op);
	decoded_free(&d);
	msg_free(&op);
	msg_free(&m);
}

static void
test_moddn_envelope(void **state)
{
	(void)state;
	BerElement *ber = enc_new();
	P(ber, "t{ssb}", T(PDU_MODDN_REQ), "uid=bob,dc=ald,dc=test", "uid=rob", (ber_int_t)1);
	struct msg op = finish(ber);
	struct msg m = wrap(22, &op, NULL, 0);
	struct decoded d;
	decode_ok(&m, &d);
	assert_int_equal(d.r.tag, PDU_MODDN_REQ);
	assert_op(&m, &d, &op);
	decoded_free(&d);
	msg_free(&op);
	msg_free(&m);
}

/* ------------------------------------------------------------------ */
/* malformed messages                                                  */

static struct msg
sample_search(void)
{
	static const char *const attrs[] = { "uid", "cn" };
	struct msg f = filter_simple();
	struct msg op = op_search("dc=ald,dc=test", 2, 0, 10, 0, 0, &f, attrs, 2);
	struct msg pv = paged_value(100, "ck", 2);
	struct berval pbv = { pv.len, (char *)pv.buf };
	const struct ctl c[] = { { OID_PAGED_RESULTS, 1, &pbv } };
	struct msg m = wrap(23, &op, c, 1);
	msg_free(&f);
	msg_free(&op);
	msg_free(&pv);
	return m;
}

static void
test_truncated_body(void **state)
{
	(void)state;
	struct msg full = sample_search();
	/* every proper prefix, each in a buffer of exactly that size */
	for (size_t k = 0; k < full.len; k++) {
		struct msg m = { malloc(k ? k : 1), k };
		memcpy(m.buf, full.buf, k);
		struct decoded d;
		if (decode(&m, &d) != -1)
			fail_msg("a message cut to %zu of %zu bytes was accepted", k, full.len);
		assert_non_null(d.why);
		decoded_free(&d);
		msg_free(&m);
	}
	struct decoded d;
	decode_ok(&full, &d);
	decoded_free(&d);
	msg_free(&full);
}

static void
test_truncated_outer_length_consistent(void **state)
{
	(void)state;
	/* outer length shortened with the buffer: the body itself is cut */
	struct msg full = sample_search();
	assert_int_equal(full.buf[0], 0x30);
	assert_true(full.buf[1] < 0x80);
	struct msg m = { malloc(full.len - 5), full.len - 5 };
	memcpy(m.buf, full.buf, m.len);
	m.buf[1] = (unsigned char)(m.len - 2);
	decode_fails(&m, NULL);
	msg_free(&m);
	msg_free(&full);
}

static void
test_trailing_garbage(void **state)
{
	(void)state;
	struct msg full = sample_search();
	struct msg m = { malloc(full.len + 3), full.len + 3 };
	memcpy(m.buf, full.buf, full.len);
	memcpy(m.buf + full.len, "\x04\x01X", 3);
	decode_fails(&m, "trailing");
	msg_free(&m);
	msg_free(&full);
}

static void
test_trailing_garbage_inside(void **state)
{
	(void)state;
	/* an extra element after the controls, inside the LDAPMessage */
	struct msg op = op_simple_bind("cn=x", "pw", 2);
	BerElement *ber = enc_new();
	P(ber, "{i", (ber_int_t)24);
	put_raw(ber, &op);
	P(ber, "s}", "junk");
	struct msg m = finish(ber);
	decode_fails(&m, NULL);
	msg_free(&op);
	msg_free(&m);
}

static void
test_trailing_garbage_in_bind(void **state)
{
	(void)state;
	BerElement *ber = enc_new();
	P(ber, "t{istoi}", T(PDU_BIND_REQ), (ber_int_t)3, "cn=x", T(0x80), "pw", (ber_len_t)2, (ber_int_t)7);
	struct msg op = finish(ber);
	struct msg m = wrap(25, &op, NULL, 0);
	decode_fails(&m, NULL);
	msg_free(&op);
	msg_free(&m);
}

static void
test_too_many_controls(void **state)
{
	(void)state;
	struct ctl c[REQ_MAX_CONTROLS + 1];
	for (size_t i = 0; i < REQ_MAX_CONTROLS + 1; i++) {
		c[i].oid = "1.2.3.4";
		c[i].critical = 0;
		c[i].value = NULL;
	}
	struct msg op = op_simple_bind("cn=x", "pw", 2);
	struct msg m = wrap(26, &op, c, REQ_MAX_CONTROLS + 1);
	decode_fails(&m, "too many controls");
	msg_free(&op);
	msg_free(&m);
}

static void
test_max_controls(void **state)
{
	(void)state;
	struct ctl c[REQ_MAX_CONTROLS];
	char oids[REQ_MAX_CONTROLS][16];
	for (size_t i = 0; i < REQ_MAX_CONTROLS; i++) {
		snprintf(oids[i], sizeof(oids[i]), "1.2.3.%zu", i);
		c[i].oid = oids[i];
		c[i].critical = (int)(i & 1);
		c[i].value = NULL;
	}
	struct msg op = op_simple_bind("cn=x", "pw", 2);
	struct msg m = wrap(27, &op, c, REQ_MAX_CONTROLS);
	struct decoded d;
	decode_ok(&m, &d);
	assert_int_equal(d.r.ctrls.n, REQ_MAX_CONTROLS);
	for (size_t i = 0; i < REQ_MAX_CONTROLS; i++) {
		assert_bv(&m, &d.r.ctrls.c[i].oid, oids[i]);
		assert_int_equal(d.r.ctrls.c[i].critical, (int)(i & 1));
		assert_ptr_equal(request_control(&d.r, oids[i]), &d.r.ctrls.c[i]);
	}
	decoded_free(&d);
	msg_free(&op);
	msg_free(&m);
}

static void
test_empty_controls(void **state)
{
	(void)state;
	struct msg op = op_simple_bind("cn=x", "pw", 2);
	static const struct ctl none[1];
	struct msg m = wrap(28, &op, none, 0);     /* Controls present, empty */
	struct decoded d;
	decode_ok(&m, &d);
	assert_int_equal(d.r.ctrls.n, 0);
	assert_int_equal(d.r.ctrls.raw.bv_len, 2);  /* a0 00 */
	decoded_free(&d);
	msg_free(&op);
	msg_free(&m);
}

static void
test_control_without_oid(void **state)
{
	(void)state;
	/* Control ::= SEQUENCE { controlType LDAPOID, ... }: an empty one */
	struct msg op = op_simple_bind("cn=x", "pw", 2);
	BerElement *ber = enc_new();
	P(ber, "{i", (ber_int_t)29);
	put_raw(ber, &op);
	P(ber, "t{{}}}", T(PDU_CONTROLS));
	struct msg m = finish(ber);
	decode_fails(&m, "malformed control");
	msg_free(&op);
	msg_free(&m);
}

static void
test_control_bad_criticality(void **state)
{
	(void)state;
	/* a BOOLEAN with five content octets */
	struct msg op = op_simple_bind("cn=x", "pw", 2);
	BerElement *ber = enc_new();
	P(ber, "{i", (ber_int_t)30);
	put_raw(ber, &op);
	P(ber, "t{{s", T(PDU_CONTROLS), "1.2.3");
	struct msg bad = { (unsigned char *)"\x01\x05\xff\xff\xff\xff\xff", 7 };
	put_raw(ber, &bad);
	P(ber, "}}}");
	struct msg m = finish(ber);
	decode_fails(&m, "criticality");
	msg_free(&op);
	msg_free(&m);
}

static void
test_control_value_truncated(void **state)
{
	(void)state;
	/* controlValue claims more bytes than the message holds */
	const unsigned char raw[] = { 0x30, 0x11, 0x02, 0x01, 0x01, 0x42, 0x00, 0xa0, 0x0a, 0x30, 0x08,
		0x04, 0x03, '1', '.', '2', 0x04, 0x09, 'a' };
	struct msg m = { malloc(sizeof(raw)), sizeof(raw) };
	memcpy(m.buf, raw, sizeof(raw));
	decode_fails(&m, NULL);
	msg_free(&m);
}

static void
test_controls_not_constructed_sequence(void **state)
{
	(void)state;
	/* something other than [0] after the protocolOp */
	struct msg op = op_simple_bind("cn=x", "pw", 2);
	BerElement *ber = enc_new();
	P(ber, "{i", (ber_int_t)31);
	put_raw(ber, &op);
	P(ber, "t{}}", T(0xa1));
	struct msg m = finish(ber);
	decode_fails(&m, "trailing");
	msg_free(&op);
	msg_free(&m);
}

static void
test_unknown_protocol_op(void **state)
{
	(void)state;
	/* a BindResponse sent by a client */
	BerElement *ber = enc_new();
	P(ber, "t{ess}", T(PDU_BIND_RES), (ber_int_t)0, "", "");
	struct msg op = finish(ber);
	struct msg m = wrap(31, &op, NULL, 0);
	decode_fails(&m, "unknown protocolOp");
	msg_free(&op);
	msg_free(&m);
}

static void
test_unknown_protocol_op_tag(void **state)
{
	(void)state;
	const unsigned char raw[] = { 0x30, 0x05, 0x02, 0x01, 0x01, 0x7f, 0x00 };
	struct msg m = { malloc(sizeof(raw)), sizeof(raw) };
	memcpy(m.buf, raw, sizeof(raw));
	decode_fails(&m, "unknown protocolOp");
	msg_free(&m);
}

static void
test_no_protocol_op(void **state)
{
	(void)state;
	const unsigned char raw[] = { 0x30, 0x03, 0x02, 0x01, 0x01 };
	struct msg m = { malloc(sizeof(raw)), sizeof(raw) };
	memcpy(m.buf, raw, sizeof(raw));
	decode_fails(&m, NULL);
	msg_free(&m);
}

static void
test_msgid_not_integer(void **state)
{
	(void)state;
	const unsigned char raw[] = { 0x30, 0x05, 0x04, 0x01, 0x01, 0x42, 0x00 };
	struct msg m = { malloc(sizeof(raw)), sizeof(raw) };
	memcpy(m.buf, raw, sizeof(raw));
	/* liblber's get_int does not check the tag; the decoder may accept
	 * it, but pdu_frame rejects such a message before it gets here */
	struct decoded d;
	(void)decode(&m, &d);
	decoded_free(&d);
	msg_free(&m);
}

static void
test_empty_buffer(void **state)
{
	(void)state;
	struct msg m = { malloc(1), 0 };
	decode_fails(&m, NULL);
	msg_free(&m);
}

static void
test_not_a_sequence(void **state)
{
	(void)state;
	const unsigned char raw[] = { 0x04, 0x05, 0x02, 0x01, 0x01, 0x42, 0x00 };
	struct msg m = { malloc(sizeof(raw)), sizeof(raw) };
	memcpy(m.buf, raw, sizeof(raw));
	/* the envelope tag is pdu_frame's job; the decoder must at least not
	 * crash and not write */
	struct decoded d;
	(void)decode(&m, &d);
	decoded_free(&d);
	msg_free(&m);
}

static void
test_ber_reused(void **state)
{
	(void)state;
	/* one BerElement per connection, reused for every message */
	BerElement *ber = ber_alloc_t(LBER_USE_DER);
	struct msg a = sample_search();
	struct msg op = op_simple_bind("cn=x", "pw", 2);
	struct msg b = wrap(99, &op, NULL, 0);
	struct request r;
	const char *why;
	for (int i = 0; i < 100; i++) {
		assert_int_equal(request_decode(ber, a.buf, a.len, &r, &why), 0);
		assert_int_equal(r.msgid, 23);
		assert_int_equal(r.ctrls.n, 1);
		assert_int_equal(request_decode(ber, a.buf, a.len - 1, &r, &why), -1);
		assert_int_equal(request_decode(ber, b.buf, b.len, &r, &why), 0);
		assert_int_equal(r.msgid, 99);
		assert_int_equal(r.ctrls.n, 0);
	}
	ber_free(ber, 0);
	msg_free(&a);
	msg_free(&b);
	msg_free(&op);
}

/* ------------------------------------------------------------------ */
/* filter_walk                                                         */

struct seen {
	char names[32][64];
	size_t n;
	int stop_at;        /* 1-based index to return 7 at, 0: never */
};

static int
collect(const struct berval *attr, void *arg)
{
	struct seen *s = arg;
	assert_true(s->n < 32);
	assert_true(attr->bv_len < 64);
	memcpy(s->names[s->n], attr->bv_val, attr->bv_len);
	s->names[s->n][attr->bv_len] = '\0';
	s->n++;
	return s->stop_at != 0 && (int)s->n == s->stop_at ? 7 : 0;
}

static int
walk(const struct msg *f, struct seen *s)
{
	unsigned char *copy = malloc(f->len ? f->len : 1);
	memcpy(copy, f->buf, f->len);
	BerElement *ber = ber_alloc_t(LBER_USE_DER);
	struct berval bv = { f->len, (char *)f->buf };
	int rc = filter_walk(ber, &bv, collect, s);
	assert_memory_equal(f->buf, copy, f->len);
	ber_free(ber, 0);
	free(copy);
	return rc;
}

static void
assert_seen(const struct seen *s, const char *const *expect, size_t n)
{
	assert_int_equal(s->n, n);
	for (size_t i = 0; i < n; i++)
		assert_string_equal(s->names[i], expect[i]);
}

static void
test_filter_equality(void **state)
{
	(void)state;
	BerElement *ber = enc_new();
	P(ber, "t{ss}", T(0xa3), "uid", "alice");
	struct msg f = finish(ber);
	struct seen s = { .n = 0 };
	assert_int_equal(walk(&f, &s), 0);
	static const char *const e[] = { "uid" };
	assert_seen(&s, e, 1);
	msg_free(&f);
}

static void
test_filter_all_kinds_in_order(void **state)
{
	(void)state;
	/* (&(a=1)(|(b=x*y*z)(c>=2)(!(d<=3)))(e=*)(f~=4)(g:caseExactMatch:=5)(:dn:2.5.13.5:=6)) */
	BerElement *ber = enc_new();
	P(ber, "t{", T(0xa0));
	P(ber, "t{ss}", T(0xa3), "a", "1");
	P(ber, "t{", T(0xa1));
	P(ber, "t{s{tststs}}", T(0xa4), "b", T(0x80), "x", T(0x81), "y", T(0x82), "z");
	P(ber, "t{ss}", T(0xa5), "c", "2");
	P(ber, "t{t{ss}}", T(0xa2), T(0xa6), "d", "3");
	P(ber, "}");
	P(ber, "ts", T(0x87), "e");
	P(ber, "t{ss}", T(0xa8), "f", "4");
	P(ber, "t{tststs}", T(0xa9), T(0x81), "caseExactMatch", T(0x82), "g", T(0x83), "5");
	P(ber, "t{tststb}", T(0xa9), T(0x81), "2.5.13.5", T(0x83), "6", T(0x84), (ber_int_t)1);
	P(ber, "}");
	struct msg f = finish(ber);
	struct seen s = { .n = 0 };
	assert_int_equal(walk(&f, &s), 0);
	static const char *const e[] = { "a", "b", "c", "d", "e", "f", "g" };
	assert_seen(&s, e, 7);
	msg_free(&f);
}

static void
test_filter_substrings(void **state)
{
	(void)state;
	BerElement *ber = enc_new();
	P(ber, "t{s{ts}}", T(0xa4), "cn", T(0x82), "son");
	struct msg f = finish(ber);
	struct seen s = { .n = 0 };
	assert_int_equal(walk(&f, &s), 0);
	static const char *const e[] = { "cn" };
	assert_seen(&s, e, 1);
	msg_free(&f);
}

static void
test_filter_ge_le(void **state)
{
	(void)state;
	BerElement *ber = enc_new();
	P(ber, "t{t{ss}t{ss}}", T(0xa0), T(0xa5), "uidNumber", "1000", T(0xa6), "gidNumber", "2000");
	struct msg f = finish(ber);
	struct seen s = { .n = 0 };
	assert_int_equal(walk(&f, &s), 0);
	static const char *const e[] = { "uidNumber", "gidNumber" };
	assert_seen(&s, e, 2);
	msg_free(&f);
}

static void
test_filter_present(void **state)
{
	(void)state;
	BerElement *ber = enc_new();
	P(ber, "ts", T(0x87), "objectClass");
	struct msg f = finish(ber);
	struct seen s = { .n = 0 };
	assert_int_equal(walk(&f, &s), 0);
	static const char *const e[] = { "objectClass" };
	assert_seen(&s, e, 1);
	msg_free(&f);
}

static void
test_filter_approx(void **state)
{
	(void)state;
	BerElement *ber = enc_new();
	P(ber, "t{ss}", T(0xa8), "sn", "smyth");
	struct msg f = finish(ber);
	struct seen s = { .n = 0 };
	assert_int_equal(walk(&f, &s), 0);
	static const char *const e[] = { "sn" };
	assert_seen(&s, e, 1);
	msg_free(&f);
}

static void
test_filter_extensible_with_type(void **state)
{
	(void)state;
	BerElement *ber = enc_new();
	P(ber, "t{tsts}", T(0xa9), T(0x82), "userPassword", T(0x83), "x");
	struct msg f = finish(ber);
	struct seen s = { .n = 0 };
	assert_int_equal(walk(&f, &s), 0);
	static const char *const e[] = { "userPassword" };
	assert_seen(&s, e, 1);
	msg_free(&f);
}

static void
test_filter_extensible_without_type(void **state)
{
	(void)state;
	BerElement *ber = enc_new();
	P(ber, "t{tststb}", T(0xa9), T(0x81), "caseIgnoreMatch", T(0x83), "x", T(0x84), (ber_int_t)1);
	struct msg f = finish(ber);
	struct seen s = { .n = 0 };
	assert_int_equal(walk(&f, &s), 0);
	assert_int_equal(s.n, 0);
	msg_free(&f);
}

static void
test_filter_extensible_no_value(void **state)
{
	(void)state;
	BerElement *ber = enc_new();
	P(ber, "t{ts}", T(0xa9), T(0x82), "cn");    /* matchValue is required */
	struct msg f = finish(ber);
	struct seen s = { .n = 0 };
	assert_int_equal(walk(&f, &s), -1);
	msg_free(&f);
}

static void
test_filter_empty_and(void **state)
{
	(void)state;
	/* (&) absolute true, RFC 4526 */
	const unsigned char raw[] = { 0xa0, 0x00 };
	struct msg f = { malloc(2), 2 };
	memcpy(f.buf, raw, 2);
	struct seen s = { .n = 0 };
	assert_int_equal(walk(&f, &s), 0);
	assert_int_equal(s.n, 0);
	msg_free(&f);
}

static void
test_filter_callback_stops(void **state)
{
	(void)state;
	BerElement *ber = enc_new();
	P(ber, "t{tstst{ss}}", T(0xa1), T(0x87), "a", T(0x87), "b", T(0xa3), "c", "1");
	struct msg f = finish(ber);
	struct seen s = { .n = 0, .stop_at = 2 };
	assert_int_equal(walk(&f, &s), 7);
	static const char *const e[] = { "a", "b" };
	assert_seen(&s, e, 2);
	msg_free(&f);
}

static void
test_filter_callback_stops_in_not(void **state)
{
	(void)state;
	BerElement *ber = enc_new();
	P(ber, "t{t{ts}ts}", T(0xa0), T(0xa2), T(0x87), "a", T(0x87), "b");
	struct msg f = finish(ber);
	struct seen s = { .n = 0, .stop_at = 1 };
	assert_int_equal(walk(&f, &s), 7);
	static const char *const e[] = { "a" };
	assert_seen(&s, e, 1);
	msg_free(&f);
}

/* n NOTs around (x=*) */
static struct msg
nested_not(int n, ber_tag_t op)
{
	BerElement *ber = enc_new();
	for (int i = 0; i < n; i++)
		P(ber, "t{", op);
	P(ber, "ts", T(0x87), "x");
	for (int i = 0; i < n; i++)
		P(ber, "}");
	return finish(ber);
}

static void
test_filter_depth_64_ok(void **state)
{
	(void)state;
	struct msg f = nested_not(FILTER_MAX_DEPTH, T(0xa2));
	struct seen s = { .n = 0 };
	assert_int_equal(walk(&f, &s), 0);
	static const char *const e[] = { "x" };
	assert_seen(&s, e, 1);
	msg_free(&f);
}

static void
test_filter_too_deep_not(void **state)
{
	(void)state;
	struct msg f = nested_not(FILTER_MAX_DEPTH + 1, T(0xa2));
	struct seen s = { .n = 0 };
	assert_int_equal(walk(&f, &s), -1);
	assert_int_equal(s.n, 0);
	msg_free(&f);
}

static void
test_filter_too_deep_and(void **state)
{
	(void)state;
	struct msg f = nested_not(FILTER_MAX_DEPTH + 1, T(0xa0));
	struct seen s = { .n = 0 };
	assert_int_equal(walk(&f, &s), -1);
	msg_free(&f);
}

static void
test_filter_very_deep(void **state)
{
	(void)state;
	/* far beyond the limit: must fail, not exhaust the stack */
	struct msg f = nested_not(10000, T(0xa1));
	struct seen s = { .n = 0 };
	assert_int_equal(walk(&f, &s), -1);
	msg_free(&f);
}

static void
test_filter_garbage_tag(void **state)
{
	(void)state;
	const unsigned char raw[] = { 0x04, 0x03, 'u', 'i', 'd' };
	struct msg f = { malloc(sizeof(raw)), sizeof(raw) };
	memcpy(f.buf, raw, sizeof(raw));
	struct seen s = { .n = 0 };
	assert_int_equal(walk(&f, &s), -1);
	msg_free(&f);
}

static void
test_filter_garbage_truncated(void **state)
{
	(void)state;
	BerElement *ber = enc_new();
	P(ber, "t{ss}", T(0xa3), "uid", "alice");
	struct msg full = finish(ber);
	for (size_t k = 0; k < full.len; k++) {
		struct msg f = { malloc(k ? k : 1), k };
		memcpy(f.buf, full.buf, k);
		struct seen s = { .n = 0 };
		if (walk(&f, &s) != -1)
			fail_msg("filter cut to %zu of %zu bytes was accepted", k, full.len);
		msg_free(&f);
	}
	msg_free(&full);
}

static void
test_filter_garbage_in_and(void **state)
{
	(void)state;
	BerElement *ber = enc_new();
	P(ber, "t{tsi}", T(0xa0), T(0x87), "a", (ber_int_t)5);
	struct msg f = finish(ber);
	struct seen s = { .n = 0 };
	assert_int_equal(walk(&f, &s), -1);
	msg_free(&f);
}

static void
test_filter_equality_missing_value(void **state)
{
	(void)state;
	BerElement *ber = enc_new();
	P(ber, "t{s}", T(0xa3), "uid");
	struct msg f = finish(ber);
	struct seen s = { .n = 0 };
	assert_int_equal(walk(&f, &s), -1);
	msg_free(&f);
}

static void
test_filter_empty(void **state)
{
	(void)state;
	struct msg f = { malloc(1), 0 };
	struct seen s = { .n = 0 };
	assert_int_equal(walk(&f, &s), -1);
	msg_free(&f);
}

static void
test_filter_from_search(void **state)
{
	(void)state;
	/* the filter berval request_decode returns is what filter_walk takes */
	struct msg m = sample_search();
	struct decoded d;
	decode_ok(&m, &d);
	BerElement *ber = ber_alloc_t(LBER_USE_DER);
	struct seen s = { .n = 0 };
	assert_int_equal(filter_walk(ber, &d.r.u.search.filter, collect, &s), 0);
	static const char *const e[] = { "uid", "objectClass" };
	assert_seen(&s, e, 2);
	assert_memory_equal(m.buf, d.copy, m.len);
	ber_free(ber, 0);
	decoded_free(&d);
	msg_free(&m);
}

/* ---- element lengths that disagree with their contents ---------------- */

static struct msg
raw_msg(const unsigned char *b, size_t n)
{
	struct msg m;
	memset(&m, 0, sizeof(m));
	m.buf = malloc(n);
	assert_non_null(m.buf);
	memcpy(m.buf, b, n);
	m.len = n;
	return m;
}

static void
test_bind_length_covers_controls(void **state)
{
	(void)state;
	/* BindRequest 60 11 whose body is 7 bytes: the controls are counted inside it */
	static const unsigned char b[] = { 0x30, 0x14, 0x02, 0x01, 0x01, 0x60, 0x11, 0x02, 0x01, 0x03, 0x04, 0x00,
		0x80, 0x00, 0xa0, 0x08, 0x30, 0x06, 0x04, 0x01, '1', 0x01, 0x01, 0xff };
	struct msg m = raw_msg(b, sizeof(b));
	decode_fails(&m, NULL);
	free(m.buf);
}

static void
test_control_empty_sequence(void **state)
{
	(void)state;
	/* an empty Control before a real critical one must not swallow it */
	static const unsigned char b[] = { 0x30, 0x13, 0x02, 0x01, 0x01, 0x42, 0x00, 0xa0, 0x0c, 0x30, 0x00, 0x30,
		0x08, 0x04, 0x03, '1', '.', '2', 0x01, 0x01, 0xff };
	struct msg m = raw_msg(b, sizeof(b));
	decode_fails(&m, "control");
	free(m.buf);
}

static void
test_control_boolean_instead_of_oid(void **state)
{
	(void)state;
	static const unsigned char b[] = { 0x30, 0x0b, 0x02, 0x01, 0x01, 0x42, 0x00, 0xa0, 0x04, 0x30, 0x02, 0x01,
		0x00 };
	struct msg m = raw_msg(b, sizeof(b));
	decode_fails(&m, "control");
	free(m.buf);
}

/*
 * Regression tests (fixed; found by tests/fuzz/fuzz_request, whose strict
 * reading of RFC 4511 every request that may be forwarded as received must
 * pass): liblber's scanners take any tag and do not check that a SEQUENCE
 * ends where its length says, so these decoded, and bind, compare and
 * search requests went to the directory as received.
 */
struct strict_case {
	const char *what;
	unsigned char bad[40], good[40];
	size_t len;                 /* of bad */
};

static void
test_strict_ber(void **state)
{
	(void)state;
	static const struct strict_case cases[] = {
		{ "bind name not an OCTET STRING",
		    { 0x30, 0x0c, 0x02, 0x01, 0x01, 0x60, 0x07, 0x02, 0x01, 0x03, 0x28, 0x00, 0x80, 0x00 },
		    { 0x30, 0x0c, 0x02, 0x01, 0x01, 0x60, 0x07, 0x02, 0x01, 0x03, 0x04, 0x00, 0x80, 0x00 }, 14 },
		{ "bind version not an INTEGER",
		    { 0x30, 0x0c, 0x02, 0x01, 0x01, 0x60, 0x07, 0x0a, 0x01, 0x03, 0x04, 0x00, 0x80, 0x00 },
		    { 0x30, 0x0c, 0x02, 0x01, 0x01, 0x60, 0x07, 0x02, 0x01, 0x03, 0x04, 0x00, 0x80, 0x00 }, 14 },
		{ "bind version an INTEGER without contents",
		    { 0x30, 0x0c, 0x02, 0x01, 0x01, 0x60, 0x07, 0x02, 0x00, 0x04, 0x01, 0x03, 0x80, 0x00 },
		    { 0x30, 0x0c, 0x02, 0x01, 0x01, 0x60, 0x07, 0x02, 0x01, 0x03, 0x04, 0x00, 0x80, 0x00 }, 14 },
		{ "compare assertion shorter than its contents",
		    { 0x30, 0x0f, 0x02, 0x01, 0x02, 0x6e, 0x0a, 0x04, 0x00, 0x30, 0x05, 0x04, 0x01, 'a', 0x04, 0x01, 'b' },
		    { 0x30, 0x0f, 0x02, 0x01, 0x02, 0x6e, 0x0a, 0x04, 0x00, 0x30, 0x06, 0x04, 0x01, 'a', 0x04, 0x01, 'b' }, 17 },
		{ "compare attribute not an OCTET STRING",
		    { 0x30, 0x0f, 0x02, 0x01, 0x02, 0x6e, 0x0a, 0x04, 0x00, 0x30, 0x06, 0x80, 0x01, 'a', 0x04, 0x01, 'b' },
		    { 0x30, 0x0f, 0x02, 0x01, 0x02, 0x6e, 0x0a, 0x04, 0x00, 0x30, 0x06, 0x04, 0x01, 'a', 0x04, 0x01, 'b' }, 17 },
		{ "extended requestName not [0]",
		    { 0x30, 0x0a, 0x02, 0x01, 0x03, 0x77, 0x05, 0x04, 0x03, '1', '.', '2' },
		    { 0x30, 0x0a, 0x02, 0x01, 0x03, 0x77, 0x05, 0x80, 0x03, '1', '.', '2' }, 12 },
		{ "attribute selection shorter than its contents",
		    { 0x30, 0x20, 0x02, 0x01, 0x04, 0x63, 0x1b, 0x04, 0x00, 0x0a, 0x01, 0x00, 0x0a, 0x01, 0x00, 0x02, 0x01,
		        0x00, 0x02, 0x01, 0x00, 0x01, 0x01, 0x00, 0x87, 0x02, 'c', 'n', 0x30, 0x03, 0x04, 0x02, 'c', 'n' },
		    { 0x30, 0x20, 0x02, 0x01, 0x04, 0x63, 0x1b, 0x04, 0x00, 0x0a, 0x01, 0x00, 0x0a, 0x01, 0x00, 0x02, 0x01,
		        0x00, 0x02, 0x01, 0x00, 0x01, 0x01, 0x00, 0x87, 0x02, 'c', 'n', 0x30, 0x04, 0x04, 0x02, 'c', 'n' }, 34 },
		{ "sizeLimit an INTEGER without contents",
		    { 0x30, 0x20, 0x02, 0x01, 0x04, 0x63, 0x1b, 0x04, 0x00, 0x0a, 0x01, 0x00, 0x0a, 0x01, 0x00, 0x02, 0x81,
		        0x00, 0x02, 0x01, 0x00, 0x01, 0x01, 0x00, 0x87, 0x02, 'c', 'n', 0x30, 0x04, 0x04, 0x02, 'c', 'n' },
		    { 0x30, 0x20, 0x02, 0x01, 0x04, 0x63, 0x1b, 0x04, 0x00, 0x0a, 0x01, 0x00, 0x0a, 0x01, 0x00, 0x02, 0x01,
		        0x00, 0x02, 0x01, 0x00, 0x01, 0x01, 0x00, 0x87, 0x02, 'c', 'n', 0x30, 0x04, 0x04, 0x02, 'c', 'n' }, 34 },
		{ "control criticality a BOOLEAN without contents",
		    { 0x30, 0x10, 0x02, 0x01, 0x05, 0x42, 0x00, 0xa0, 0x09, 0x30, 0x07, 0x04, 0x03, '1', '.', '2', 0x01, 0x00 },
		    { 0x30, 0x11, 0x02, 0x01, 0x05, 0x42, 0x00, 0xa0, 0x0a, 0x30, 0x08, 0x04, 0x03, '1', '.', '2', 0x01, 0x01,
		        0xff }, 18 },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct strict_case *c = &cases[i];
		struct msg bad = raw_msg(c->bad, c->len);
		struct decoded d;
		if (decode(&bad, &d) != -1)
			fail_msg("%s: decoded", c->what);
		decoded_free(&d);
		free(bad.buf);
		struct msg good = raw_msg(c->good, (size_t)c->good[1] + 2);
		if (decode(&good, &d) != 0)
			fail_msg("%s: the well-formed twin does not decode: %s", c->what, d.why ? d.why : "");
		decoded_free(&d);
		free(good.buf);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bind_simple),
		cmocka_unit_test(test_bind_anonymous),
		cmocka_unit_test(test_bind_binary_password),
		cmocka_unit_test(test_bind_sasl_no_creds),
		cmocka_unit_test(test_bind_sasl_with_creds),
		cmocka_unit_test(test_bind_unknown_auth_choice),
		cmocka_unit_test(test_bind_with_control),
		cmocka_unit_test(test_search_full),
		cmocka_unit_test(test_search_control_lookup),
		cmocka_unit_test(test_search_no_attrs),
		cmocka_unit_test(test_search_scope_subordinate),
		cmocka_unit_test(test_search_256_attrs),
		cmocka_unit_test(test_search_too_many_attrs),
		cmocka_unit_test(test_search_bad_scope),
		cmocka_unit_test(test_search_negative_scope),
		cmocka_unit_test(test_search_bad_deref),
		cmocka_unit_test(test_search_negative_sizelimit),
		cmocka_unit_test(test_search_negative_timelimit),
		cmocka_unit_test(test_search_attrs_not_sequence),
		cmocka_unit_test(test_search_missing_filter),
		cmocka_unit_test(test_compare),
		cmocka_unit_test(test_compare_malformed),
		cmocka_unit_test(test_extended_no_value),
		cmocka_unit_test(test_extended_with_value),
		cmocka_unit_test(test_extended_empty_value),
		cmocka_unit_test(test_abandon),
		cmocka_unit_test(test_unbind),
		cmocka_unit_test(test_unbind_with_contents),
		cmocka_unit_test(test_delete_envelope),
		cmocka_unit_test(test_add_envelope),
		cmocka_unit_test(test_modify_envelope),
		cmocka_unit_test(test_moddn_envelope),
		cmocka_unit_test(test_truncated_body),
		cmocka_unit_test(test_truncated_outer_length_consistent),
		cmocka_unit_test(test_trailing_garbage),
		cmocka_unit_test(test_trailing_garbage_inside),
		cmocka_unit_test(test_trailing_garbage_in_bind),
		cmocka_unit_test(test_too_many_controls),
		cmocka_unit_test(test_max_controls),
		cmocka_unit_test(test_empty_controls),
		cmocka_unit_test(test_control_without_oid),
		cmocka_unit_test(test_control_bad_criticality),
		cmocka_unit_test(test_control_value_truncated),
		cmocka_unit_test(test_controls_not_constructed_sequence),
		cmocka_unit_test(test_unknown_protocol_op),
		cmocka_unit_test(test_unknown_protocol_op_tag),
		cmocka_unit_test(test_no_protocol_op),
		cmocka_unit_test(test_msgid_not_integer),
		cmocka_unit_test(test_empty_buffer),
		cmocka_unit_test(test_not_a_sequence),
		cmocka_unit_test(test_ber_reused),
		cmocka_unit_test(test_filter_equality),
		cmocka_unit_test(test_filter_all_kinds_in_order),
		cmocka_unit_test(test_filter_substrings),
		cmocka_unit_test(test_filter_ge_le),
		cmocka_unit_test(test_filter_present),
		cmocka_unit_test(test_filter_approx),
		cmocka_unit_test(test_filter_extensible_with_type),
		cmocka_unit_test(test_filter_extensible_without_type),
		cmocka_unit_test(test_filter_extensible_no_value),
		cmocka_unit_test(test_filter_empty_and),
		cmocka_unit_test(test_filter_callback_stops),
		cmocka_unit_test(test_filter_callback_stops_in_not),
		cmocka_unit_test(test_filter_depth_64_ok),
		cmocka_unit_test(test_filter_too_deep_not),
		cmocka_unit_test(test_filter_too_deep_and),
		cmocka_unit_test(test_filter_very_deep),
		cmocka_unit_test(test_filter_garbage_tag),
		cmocka_unit_test(test_filter_garbage_truncated),
		cmocka_unit_test(test_filter_garbage_in_and),
		cmocka_unit_test(test_filter_equality_missing_value),
		cmocka_unit_test(test_filter_empty),
		cmocka_unit_test(test_filter_from_search),
		cmocka_unit_test(test_bind_length_covers_controls),
		cmocka_unit_test(test_control_empty_sequence),
		cmocka_unit_test(test_control_boolean_instead_of_oid),
		cmocka_unit_test(test_strict_ber),
	};
	return cmocka_run_group_tests_name("request", tests, NULL, NULL);
}
