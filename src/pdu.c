/*
 * pdu.c — LDAPMessage framing and encoding.  See pdu.h.
 *
 * Encoders compute lengths first and write definite-length DER-style
 * encodings into a stack buffer or straight into the evbuffer, so a
 * response costs no heap allocation here.
 */
#include "pdu.h"

#include <string.h>
#include <event2/buffer.h>
#include <ldap.h>

int
pdu_frame(const unsigned char *buf, size_t avail, size_t max, struct pdu_head *h)
{
	size_t i = 0;
	if (avail < 2)
		return PDU_NEED_MORE;
	if (buf[0] != 0x30)
		return PDU_BAD;
	size_t len;
	if (buf[1] < 0x80) {
		len = buf[1];
		i = 2;
	} else {
		size_t nl = buf[1] & 0x7f;
		if (nl == 0 || nl > 4)      /* indefinite or absurd length */
			return PDU_BAD;
		if (avail < 2 + nl)
			return PDU_NEED_MORE;
		len = 0;
		for (size_t k = 0; k < nl; k++)
			len = (len << 8) | buf[2 + k];
		i = 2 + nl;
	}
	if (len > max || len + i > max)
		return PDU_TOO_BIG;
	h->total = len + i;
	/* the smallest message: messageID (3 bytes) + a protocolOp (2 bytes) */
	if (len < 5)
		return PDU_BAD;
	/* messageID: INTEGER (0 .. maxInt) */
	if (avail < i + 2)
		return PDU_NEED_MORE;
	if (buf[i] != 0x02)
		return PDU_BAD;
	size_t il = buf[i + 1];
	if (il < 1 || il > 4 || il + 2 >= len + 1)
		return PDU_BAD;
	if (avail < i + 2 + il + 1)
		return PDU_NEED_MORE;
	if (buf[i + 2] & 0x80)              /* negative */
		return PDU_BAD;
	uint32_t id = 0;
	for (size_t k = 0; k < il; k++)
		id = (id << 8) | buf[i + 2 + k];
	h->msgid = (int)id;
	h->prefix = i + 2 + il;
	if (h->prefix >= h->total)
		return PDU_BAD;
	h->op_tag = buf[h->prefix];
	return PDU_OK;
}

size_t
enc_len_size(size_t len)
{
	if (len < 0x80)
		return 1;
	if (len < 0x100)
		return 2;
	if (len < 0x10000)
		return 3;
	if (len < 0x1000000)
		return 4;
	return 5;
}

unsigned char *
enc_put_len(unsigned char *p, size_t len)
{
	size_t n = enc_len_size(len);
	if (n == 1) {
		*p++ = (unsigned char)len;
		return p;
	}
	*p++ = (unsigned char)(0x80 | (n - 1));
	for (size_t k = n - 1; k > 0; k--)
		*p++ = (unsigned char)(len >> (8 * (k - 1)));
	return p;
}

size_t
enc_tlv_size(size_t len)
{
	return 1 + enc_len_size(len) + len;
}

size_t
enc_int_size(long v)
{
	size_t n = 1;
	while (n < sizeof(long) && (v >= 0 ? v > (1L << (8 * n - 1)) - 1 : v < -(1L << (8 * n - 1))))
		n++;
	return n;
}

unsigned char *
enc_put_int(unsigned char *p, unsigned tag, long v)
{
	size_t n = enc_int_size(v);
	*p++ = (unsigned char)tag;
	*p++ = (unsigned char)n;
	for (size_t k = n; k > 0; k--)
		*p++ = (unsigned char)((unsigned long)v >> (8 * (k - 1)));
	return p;
}

size_t
pdu_envelope(unsigned char out[PDU_HEAD_MAX], int msgid, size_t rest_len)
{
	size_t idlen = 2 + enc_int_size(msgid);
	unsigned char *p = out;
	*p++ = 0x30;
	p = enc_put_len(p, idlen + rest_len);
	p = enc_put_int(p, 0x02, msgid);
	return (size_t)(p - out);
}

unsigned char *
enc_put_octets(unsigned char *p, unsigned tag, const void *v, size_t len)
{
	*p++ = (unsigned char)tag;
	p = enc_put_len(p, len);
	if (len)
		memcpy(p, v, len);
	return p + len;
}

/*
 * Writes envelope + [tag]{ resultCode, matchedDN, diagnosticMessage } and
 * `extra` raw bytes appended inside the protocolOp (extended response
 * fields).  Strings longer than the stack buffer are truncated.  The
 * message is added whole or not at all.
 */
static int
result_with_extra(struct evbuffer *out, int msgid, unsigned tag, int code, const char *matched,
    const char *diag, const unsigned char *extra, size_t extralen)
{
	unsigned char buf[2048];
	size_t ml = matched ? strlen(matched) : 0, dl = diag ? strlen(diag) : 0;
	if (ml > 512)
		ml = 512;
	if (dl > 1024)
		dl = 1024;
	size_t body = 2 + enc_int_size(code) + enc_tlv_size(ml) + enc_tlv_size(dl) + extralen;
	size_t op = enc_tlv_size(body);
	unsigned char *p = buf + pdu_envelope(buf, msgid, op);
	*p++ = (unsigned char)tag;
	p = enc_put_len(p, body);
	p = enc_put_int(p, 0x0a, code);     /* ENUMERATED resultCode */
	p = enc_put_octets(p, 0x04, matched, ml);
	p = enc_put_octets(p, 0x04, diag, dl);
	size_t hl = (size_t)(p - buf);
	if (extralen == 0)
		return evbuffer_add(out, buf, hl);
	struct evbuffer_iovec v;
	unsigned char *w = pdu_reserve(out, hl + extralen, &v);
	if (w == NULL)
		return -1;
	memcpy(w, buf, hl);
	memcpy(w + hl, extra, extralen);
	return pdu_commit(out, &v, hl + extralen);
}

int
pdu_result(struct evbuffer *out, int msgid, unsigned tag, int code, const char *matched, const char *diag)
{
	return result_with_extra(out, msgid, tag, code, matched, diag, NULL, 0);
}

int
pdu_ext_result(struct evbuffer *out, int msgid, int code, const char *diag, const char *oid,
    const void *value, size_t value_len)
{
	unsigned char extra[4096];
	unsigned char *p = extra;
	size_t ol = oid ? strlen(oid) : 0;
	if (ol + value_len + 16 > sizeof(extra))
		return -1;      /* the caller answers with an error instead */
	if (oid)
		p = enc_put_octets(p, 0x8a, oid, ol);     /* responseName [10] */
	if (value)
		p = enc_put_octets(p, 0x8b, value, value_len);  /* responseValue [11] */
	return result_with_extra(out, msgid, PDU_EXT_RES, code, "", diag, extra, (size_t)(p - extra));
}

int
pdu_notice_of_disconnection(struct evbuffer *out, int code, const char *diag)
{
	return pdu_ext_result(out, 0, code, diag, OID_NOTICE_OF_DISCONNECTION, NULL, 0);
}

int
pdu_abandon(struct evbuffer *out, int msgid, int abandon_msgid)
{
	unsigned char buf[32];
	size_t body = 2 + enc_int_size(abandon_msgid);
	unsigned char *p = buf + pdu_envelope(buf, msgid, body);
	p = enc_put_int(p, PDU_ABANDON_REQ, abandon_msgid);
	return evbuffer_add(out, buf, (size_t)(p - buf));
}

int
pdu_unbind(struct evbuffer *out, int msgid)
{
	unsigned char buf[32];
	unsigned char *p = buf + pdu_envelope(buf, msgid, 2);
	*p++ = PDU_UNBIND_REQ;
	*p++ = 0;
	return evbuffer_add(out, buf, (size_t)(p - buf));
}

int
pdu_simple_bind(struct evbuffer *out, int msgid, const char *dn, const char *pw, size_t pwlen)
{
	unsigned char buf[2048];
	size_t dl = strlen(dn);
	if (dl + pwlen > 1900)
		return -1;
	size_t body = 3 + enc_tlv_size(dl) + enc_tlv_size(pwlen);
	unsigned char *p = buf + pdu_envelope(buf, msgid, enc_tlv_size(body));
	*p++ = PDU_BIND_REQ;
	p = enc_put_len(p, body);
	p = enc_put_int(p, 0x02, 3);
	p = enc_put_octets(p, 0x04, dn, dl);
	p = enc_put_octets(p, 0x80, pw, pwlen);   /* simple [0] */
	int rc = evbuffer_add(out, buf, (size_t)(p - buf));
	explicit_bzero(buf, sizeof(buf));
	return rc;
}

int
pdu_starttls(struct evbuffer *out, int msgid)
{
	unsigned char buf[64];
	size_t ol = strlen(OID_STARTTLS);
	size_t body = enc_tlv_size(ol);
	unsigned char *p = buf + pdu_envelope(buf, msgid, enc_tlv_size(body));
	*p++ = PDU_EXT_REQ;
	p = enc_put_len(p, body);
	p = enc_put_octets(p, 0x80, OID_STARTTLS, ol);   /* requestName [0] */
	return evbuffer_add(out, buf, (size_t)(p - buf));
}

/* Bytes of one PartialAttribute of pdu_entry() and its vals SET contents. */
static size_t
str_attr_size(const struct pdu_attr *a, size_t *vals)
{
	size_t v = 0;
	for (size_t k = 0; k < a->nvalues; k++)
		v += enc_tlv_size(strlen(a->values[k]));
	*vals = v;
	return enc_tlv_size(enc_tlv_size(strlen(a->name)) + enc_tlv_size(v));
}

int
pdu_entry(struct evbuffer *out, int msgid, const char *dn, const struct pdu_attr *attrs, size_t nattrs)
{
	/* sizes first: PartialAttribute ::= SEQUENCE { type, vals SET OF value } */
	size_t attrs_len = 0, vals;
	for (size_t i = 0; i < nattrs; i++)
		attrs_len += str_attr_size(&attrs[i], &vals);
	size_t dl = strlen(dn);
	size_t total = pdu_message_size(msgid, enc_tlv_size(enc_tlv_size(dl) + enc_tlv_size(attrs_len)));
	struct evbuffer_iovec v;
	unsigned char *w = pdu_reserve(out, total, &v);
	if (w == NULL)
		return -1;
	size_t off = pdu_entry_head(w, total, msgid, enc_tlv_size(dl), attrs_len);
	if (off == 0 || (off = pdu_put_octets(w, total, off, 0x04, dn, dl)) == 0 ||
	    (off = pdu_put_tl(w, total, off, 0x30, attrs_len)) == 0)
		return -1;
	for (size_t i = 0; i < nattrs; i++) {
		size_t nl = strlen(attrs[i].name);
		str_attr_size(&attrs[i], &vals);
		if ((off = pdu_put_tl(w, total, off, 0x30, enc_tlv_size(nl) + enc_tlv_size(vals))) == 0 ||
		    (off = pdu_put_octets(w, total, off, 0x04, attrs[i].name, nl)) == 0 ||
		    (off = pdu_put_tl(w, total, off, 0x31, vals)) == 0)
			return -1;
		for (size_t k = 0; k < attrs[i].nvalues; k++)
			if ((off = pdu_put_octets(w, total, off, 0x04, attrs[i].values[k], strlen(attrs[i].values[k]))) == 0)
				return -1;
	}
	if (off != total)
		return -1;
	return pdu_commit(out, &v, total);
}

size_t
pdu_search(unsigned char *out, size_t cap, const char *dn, size_t dnlen, int scope, int sizelimit,
    const unsigned char *filter, size_t filterlen, const char *attr)
{
	static const unsigned char present_oc[] = { 0x87, 11, 'o', 'b', 'j', 'e', 'c', 't', 'C', 'l', 'a', 's', 's' };
	if (filter == NULL) {
		filter = present_oc;
		filterlen = sizeof(present_oc);
	}
	size_t al = strlen(attr);
	size_t body = enc_tlv_size(dnlen) + 3 + 3 + enc_tlv_size(enc_int_size(sizelimit)) + 3 + 3 + filterlen +
	    enc_tlv_size(enc_tlv_size(al));
	if (enc_tlv_size(body) > cap)
		return 0;
	unsigned char *q = out;
	*q++ = PDU_SEARCH_REQ;
	q = enc_put_len(q, body);
	q = enc_put_octets(q, 0x04, dn, dnlen);
	q = enc_put_int(q, 0x0a, scope);
	q = enc_put_int(q, 0x0a, 0);    /* neverDerefAliases */
	q = enc_put_int(q, 0x02, sizelimit);
	q = enc_put_int(q, 0x02, 0);    /* timeLimit */
	*q++ = 0x01;                    /* typesOnly FALSE */
	*q++ = 1;
	*q++ = 0;
	memcpy(q, filter, filterlen);
	q += filterlen;
	*q++ = 0x30;
	q = enc_put_len(q, enc_tlv_size(al));
	q = enc_put_octets(q, 0x04, attr, al);
	return (size_t)(q - out);
}

size_t
pdu_simple_bind_op(unsigned char *out, size_t cap, const char *dn, size_t dnlen, const void *pw, size_t pwlen)
{
	size_t body = 3 + enc_tlv_size(dnlen) + enc_tlv_size(pwlen);
	if (enc_tlv_size(body) > cap)
		return 0;
	unsigned char *q = out;
	*q++ = PDU_BIND_REQ;
	q = enc_put_len(q, body);
	q = enc_put_int(q, 0x02, 3);
	q = enc_put_octets(q, 0x04, dn, dnlen);
	q = enc_put_octets(q, 0x80, pw, pwlen);    /* simple [0] */
	return (size_t)(q - out);
}

size_t
pdu_passwd_modify_op(unsigned char *out, size_t cap, const char *id, size_t idlen, const void *oldpw, size_t oldlen,
    const void *newpw, size_t newlen)
{
	/* ExtendedRequest { requestName [0], requestValue [1] PasswdModifyRequestValue } */
	size_t vbody = (id ? enc_tlv_size(idlen) : 0) + (oldpw ? enc_tlv_size(oldlen) : 0) + (newpw ? enc_tlv_size(newlen) : 0);
	size_t ol = strlen(OID_PASSWD_MODIFY), vl = enc_tlv_size(vbody);
	size_t body = enc_tlv_size(ol) + enc_tlv_size(vl);
	if (enc_tlv_size(body) > cap)
		return 0;
	unsigned char *q = out;
	*q++ = PDU_EXT_REQ;
	q = enc_put_len(q, body);
	q = enc_put_octets(q, 0x80, OID_PASSWD_MODIFY, ol);    /* requestName [0] */
	*q++ = 0x81;                                           /* requestValue [1] */
	q = enc_put_len(q, vl);
	*q++ = 0x30;
	q = enc_put_len(q, vbody);
	if (id)
		q = enc_put_octets(q, 0x80, id, idlen);
	if (oldpw)
		q = enc_put_octets(q, 0x81, oldpw, oldlen);
	if (newpw)
		q = enc_put_octets(q, 0x82, newpw, newlen);
	return (size_t)(q - out);
}

size_t
pdu_base_search(unsigned char *out, size_t cap, const char *dn, size_t dnlen, const unsigned char *filter,
    size_t filterlen, const char *attr)
{
	return pdu_search(out, cap, dn, dnlen, 0, 1, filter, filterlen, attr);
}

size_t
pdu_tlv_end(const unsigned char *buf, size_t len, size_t off)
{
	if (off + 2 > len)
		return 0;
	size_t l = buf[off + 1], hdr = 2;
	if (l & 0x80) {
		size_t n = l & 0x7f;
		if (n == 0 || n > 4 || off + 2 + n > len)
			return 0;
		l = 0;
		for (size_t k = 0; k < n; k++)
			l = (l << 8) | buf[off + 2 + k];
		hdr += n;
	}
	if (l > len - off - hdr)
		return 0;
	return off + hdr + l;
}

const char *
pdu_result_name(int code)
{
	return ldap_err2string(code);
}

size_t
pdu_controls(unsigned char *out, size_t cap, const struct berval *ctls, size_t n)
{
	size_t body = 0;
	if (n == 0)
		return 0;
	for (size_t i = 0; i < n; i++)
		body += ctls[i].bv_len;
	if (enc_tlv_size(body) > cap)
		return (size_t)-1;
	unsigned char *q = out;
	*q++ = PDU_CONTROLS;
	q = enc_put_len(q, body);
	for (size_t i = 0; i < n; i++) {
		memcpy(q, ctls[i].bv_val, ctls[i].bv_len);
		q += ctls[i].bv_len;
	}
	return (size_t)(q - out);
}

size_t
pdu_control(unsigned char *out, size_t cap, const char *oid, int critical, const void *val, size_t vlen)
{
	size_t ol = strlen(oid);
	size_t body = enc_tlv_size(ol) + (critical ? 3 : 0) + (val != NULL ? enc_tlv_size(vlen) : 0);
	if (enc_tlv_size(body) > cap)
		return (size_t)-1;
	unsigned char *q = out;
	*q++ = 0x30;
	q = enc_put_len(q, body);
	q = enc_put_octets(q, 0x04, oid, ol);
	if (critical) {
		*q++ = 0x01;
		*q++ = 1;
		*q++ = 0xff;
	}
	if (val != NULL)
		q = enc_put_octets(q, 0x04, val, vlen);
	return (size_t)(q - out);
}

size_t
pdu_paged_control(unsigned char *out, size_t cap, int critical, long size, const void *cookie, size_t len)
{
	unsigned char val[1100];
	size_t inner = enc_tlv_size(enc_int_size(size)) + enc_tlv_size(len);
	if (enc_tlv_size(inner) > sizeof(val))
		return (size_t)-1;
	unsigned char *q = val;
	*q++ = 0x30;
	q = enc_put_len(q, inner);
	q = enc_put_int(q, 0x02, size);
	q = enc_put_octets(q, 0x04, cookie, len);
	return pdu_control(out, cap, OID_PAGED_RESULTS, critical, val, (size_t)(q - val));
}

/* ---- bounded encoders ---------------------------------------------------
 * Each checks its room before writing a byte: the element is written whole
 * or the function returns 0 (the bytes in out past off are then undefined,
 * and the caller sends nothing).
 */

size_t
pdu_message_size(int msgid, size_t oplen)
{
	return enc_tlv_size(2 + enc_int_size(msgid) + oplen);
}

unsigned char *
pdu_reserve(struct evbuffer *out, size_t len, struct evbuffer_iovec *v)
{
	if (len == 0 || len > (size_t)EV_SSIZE_MAX || evbuffer_reserve_space(out, (ev_ssize_t)len, v, 1) != 1 ||
	    v->iov_len < len)
		return NULL;
	return v->iov_base;
}

int
pdu_commit(struct evbuffer *out, struct evbuffer_iovec *v, size_t len)
{
	if (len > v->iov_len)
		return -1;
	v->iov_len = len;
	return evbuffer_commit_space(out, v, 1);
}

/* Whether need bytes fit at off in out[0..cap). */
static int
room(size_t cap, size_t off, size_t need)
{
	return off <= cap && need <= cap - off;
}

size_t
pdu_put_tl(unsigned char *out, size_t cap, size_t off, unsigned tag, size_t len)
{
	if (!room(cap, off, 1 + enc_len_size(len)))
		return 0;
	unsigned char *q = out + off;
	*q++ = (unsigned char)tag;
	q = enc_put_len(q, len);
	return (size_t)(q - out);
}

size_t
pdu_put_octets(unsigned char *out, size_t cap, size_t off, unsigned tag, const void *v, size_t len)
{
	if (len > cap || !room(cap, off, enc_tlv_size(len)))
		return 0;
	return (size_t)(enc_put_octets(out + off, tag, v, len) - out);
}

size_t
pdu_put_raw(unsigned char *out, size_t cap, size_t off, const void *v, size_t len)
{
	if (!room(cap, off, len))
		return 0;
	if (len)
		memcpy(out + off, v, len);
	return off + len;
}

size_t
pdu_attr_selection(unsigned char *out, size_t cap, const struct berval *names, size_t n)
{
	size_t body = 0;
	for (size_t i = 0; i < n; i++) {
		if (names[i].bv_len > cap)
			return 0;
		body += enc_tlv_size(names[i].bv_len);
	}
	size_t off = pdu_put_tl(out, cap, 0, 0x30, body);
	for (size_t i = 0; off != 0 && i < n; i++)
		off = pdu_put_octets(out, cap, off, 0x04, names[i].bv_val, names[i].bv_len);
	return off;
}

size_t
pdu_search_op(unsigned char *out, size_t cap, const char *base, size_t baselen, const void *params, size_t paramslen,
    const void *filter, size_t filterlen, const void *attrs, size_t attrslen)
{
	size_t body = enc_tlv_size(baselen) + paramslen + filterlen + attrslen;
	if (out == NULL)
		return enc_tlv_size(body);
	if (baselen > cap || paramslen > cap || filterlen > cap || attrslen > cap || enc_tlv_size(body) > cap)
		return 0;
	size_t off = pdu_put_tl(out, cap, 0, PDU_SEARCH_REQ, body);
	if (off != 0)
		off = pdu_put_octets(out, cap, off, 0x04, base, baselen);
	if (off != 0)
		off = pdu_put_raw(out, cap, off, params, paramslen);
	if (off != 0)
		off = pdu_put_raw(out, cap, off, filter, filterlen);
	if (off != 0)
		off = pdu_put_raw(out, cap, off, attrs, attrslen);
	return off;
}

size_t
pdu_compare_op(unsigned char *out, size_t cap, const char *dn, size_t dnlen, const void *attr, size_t attrlen,
    const void *value, size_t valuelen)
{
	size_t ava = enc_tlv_size(attrlen) + enc_tlv_size(valuelen);
	size_t body = enc_tlv_size(dnlen) + enc_tlv_size(ava);
	if (out == NULL)
		return enc_tlv_size(body);
	if (dnlen > cap || attrlen > cap || valuelen > cap || enc_tlv_size(body) > cap)
		return 0;
	size_t off = pdu_put_tl(out, cap, 0, PDU_COMPARE_REQ, body);
	if (off != 0)
		off = pdu_put_octets(out, cap, off, 0x04, dn, dnlen);
	if (off != 0)
		off = pdu_put_tl(out, cap, off, 0x30, ava);
	if (off != 0)
		off = pdu_put_octets(out, cap, off, 0x04, attr, attrlen);
	if (off != 0)
		off = pdu_put_octets(out, cap, off, 0x04, value, valuelen);
	return off;
}

size_t
pdu_modify_change(unsigned char *out, size_t cap, int operation, const void *type, size_t typelen, const void *vals,
    size_t valslen)
{
	if (typelen > cap || valslen > cap)
		return 0;
	size_t mod = enc_tlv_size(typelen) + valslen;
	size_t change = 2 + enc_int_size(operation) + enc_tlv_size(mod);
	if (enc_tlv_size(change) > cap)
		return 0;
	unsigned char *q = out;
	*q++ = 0x30;
	q = enc_put_len(q, change);
	q = enc_put_int(q, 0x0a, operation);
	*q++ = 0x30;
	q = enc_put_len(q, mod);
	q = enc_put_octets(q, 0x04, type, typelen);
	if (valslen)
		memcpy(q, vals, valslen);
	q += valslen;
	return (size_t)(q - out);
}

size_t
pdu_modify_op(unsigned char *out, size_t cap, const char *dn, size_t dnlen, const void *changes, size_t changeslen)
{
	if (dnlen > cap || changeslen > cap)
		return 0;
	size_t body = enc_tlv_size(dnlen) + enc_tlv_size(changeslen);
	if (enc_tlv_size(body) > cap)
		return 0;
	unsigned char *q = out;
	*q++ = PDU_MODIFY_REQ;
	q = enc_put_len(q, body);
	q = enc_put_octets(q, 0x04, dn, dnlen);
	q = enc_put_octets(q, 0x30, changes, changeslen);
	return (size_t)(q - out);
}

size_t
pdu_sasl_bind_op(unsigned char *out, size_t cap, const char *dn, size_t dnlen, const char *mech, const void *cred,
    size_t credlen, int has_cred)
{
	size_t ml = strlen(mech);
	size_t sasl = enc_tlv_size(ml) + (has_cred ? enc_tlv_size(credlen) : 0);
	size_t body = 3 + enc_tlv_size(dnlen) + enc_tlv_size(sasl);
	if (out == NULL)
		return enc_tlv_size(body);
	if (dnlen > cap || credlen > cap || ml > cap || enc_tlv_size(body) > cap)
		return 0;
	unsigned char *q = out;
	*q++ = PDU_BIND_REQ;
	q = enc_put_len(q, body);
	q = enc_put_int(q, 0x02, 3);
	q = enc_put_octets(q, 0x04, dn, dnlen);
	*q++ = 0xa3;                                    /* sasl [3] SaslCredentials */
	q = enc_put_len(q, sasl);
	q = enc_put_octets(q, 0x04, mech, ml);
	if (has_cred)
		q = enc_put_octets(q, 0x04, cred, credlen);
	return (size_t)(q - out);
}

int
pdu_sasl_bind(struct evbuffer *out, int msgid, const char *mech, const void *cred, size_t credlen, int has_cred)
{
	size_t oplen = pdu_sasl_bind_op(NULL, 0, "", 0, mech, cred, credlen, has_cred);
	size_t total = pdu_message_size(msgid, oplen);
	struct evbuffer_iovec v;
	unsigned char env[PDU_HEAD_MAX];
	size_t n = pdu_envelope(env, msgid, oplen);
	unsigned char *w = n + oplen == total ? pdu_reserve(out, total, &v) : NULL;
	if (w == NULL)
		return -1;
	memcpy(w, env, n);
	if (pdu_sasl_bind_op(w + n, total - n, "", 0, mech, cred, credlen, has_cred) != oplen)
		return -1;
	return pdu_commit(out, &v, total);
}

size_t
pdu_entry_head(unsigned char *out, size_t cap, int msgid, size_t dn_tlv_len, size_t attrs_len)
{
	size_t body = dn_tlv_len + enc_tlv_size(attrs_len);
	unsigned char env[PDU_HEAD_MAX];
	size_t n = pdu_envelope(env, msgid, enc_tlv_size(body));
	size_t off = pdu_put_raw(out, cap, 0, env, n);
	return off == 0 ? 0 : pdu_put_tl(out, cap, off, PDU_SEARCH_ENTRY, body);
}

/* Bytes of one PartialAttribute of pdu_entry_bv() and its vals SET contents. */
static size_t
bv_attr_size(const struct pdu_battr *a, int typesonly, size_t *vals)
{
	size_t v = 0;
	for (size_t k = 0; !typesonly && k < a->n; k++)
		v += enc_tlv_size(a->vals[k].bv_len);
	*vals = v;
	return enc_tlv_size(enc_tlv_size(a->name.bv_len) + enc_tlv_size(v));
}

int
pdu_entry_bv(struct evbuffer *out, int msgid, const char *dn, size_t dnlen, const struct pdu_battr *attrs, size_t n,
    int typesonly)
{
	size_t attrs_len = 0, vals;
	for (size_t i = 0; i < n; i++)
		attrs_len += bv_attr_size(&attrs[i], typesonly, &vals);
	size_t total = pdu_message_size(msgid, enc_tlv_size(enc_tlv_size(dnlen) + enc_tlv_size(attrs_len)));
	struct evbuffer_iovec v;
	unsigned char *w = pdu_reserve(out, total, &v);
	if (w == NULL)
		return -1;
	size_t off = pdu_entry_head(w, total, msgid, enc_tlv_size(dnlen), attrs_len);
	if (off == 0 || (off = pdu_put_octets(w, total, off, 0x04, dn, dnlen)) == 0 ||
	    (off = pdu_put_tl(w, total, off, 0x30, attrs_len)) == 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		const struct pdu_battr *a = &attrs[i];
		bv_attr_size(a, typesonly, &vals);
		if ((off = pdu_put_tl(w, total, off, 0x30, enc_tlv_size(a->name.bv_len) + enc_tlv_size(vals))) == 0 ||
		    (off = pdu_put_octets(w, total, off, 0x04, a->name.bv_val, a->name.bv_len)) == 0 ||
		    (off = pdu_put_tl(w, total, off, 0x31, vals)) == 0)
			return -1;
		for (size_t k = 0; !typesonly && k < a->n; k++)
			if ((off = pdu_put_octets(w, total, off, 0x04, a->vals[k].bv_val, a->vals[k].bv_len)) == 0)
				return -1;
	}
	if (off != total)
		return -1;
	return pdu_commit(out, &v, total);
}

int
pdu_paged_done(struct evbuffer *out, int msgid, const void *op, size_t oplen, long size, const void *cookie,
    size_t cookielen)
{
	unsigned char ctl[1024], ctls[1040];
	/* criticality FALSE: a response's control (RFC 2696 section 3) */
	size_t cl = pdu_paged_control(ctl, sizeof(ctl), 0, size, cookie, cookielen);
	if (cl == (size_t)-1)
		return -1;
	struct berval bv = { cl, (char *)ctl };
	size_t csl = pdu_controls(ctls, sizeof(ctls), &bv, 1);
	if (csl == (size_t)-1 || oplen == 0)
		return -1;
	size_t total = pdu_message_size(msgid, oplen + csl);
	unsigned char env[PDU_HEAD_MAX];
	size_t n = pdu_envelope(env, msgid, oplen + csl);
	struct evbuffer_iovec v;
	unsigned char *w = n + oplen + csl == total ? pdu_reserve(out, total, &v) : NULL;
	size_t off = w != NULL ? pdu_put_raw(w, total, 0, env, n) : 0;
	if (off != 0)
		off = pdu_put_raw(w, total, off, op, oplen);
	if (off != 0)
		off = pdu_put_raw(w, total, off, ctls, csl);
	if (off != total)
		return -1;
	return pdu_commit(out, &v, total);
}

size_t
pdu_add_attr(unsigned char *out, size_t cap, const void *type, size_t typelen, const void *vals, size_t valslen)
{
	if (out == NULL || typelen > cap || valslen > cap)
		return 0;
	size_t o = pdu_put_tl(out, cap, 0, 0x30, enc_tlv_size(typelen) + valslen);
	o = o ? pdu_put_octets(out, cap, o, 0x04, type, typelen) : 0;
	return o && valslen ? pdu_put_raw(out, cap, o, vals, valslen) : o;
}

size_t
pdu_add_op(unsigned char *out, size_t cap, const char *dn, size_t dnlen, const void *attrs, size_t attrslen)
{
	if (out == NULL || dnlen > cap || attrslen > cap)
		return 0;
	size_t o = pdu_put_tl(out, cap, 0, PDU_ADD_REQ, enc_tlv_size(dnlen) + enc_tlv_size(attrslen));
	o = o ? pdu_put_octets(out, cap, o, 0x04, dn, dnlen) : 0;
	o = o ? pdu_put_tl(out, cap, o, 0x30, attrslen) : 0;
	return o && attrslen ? pdu_put_raw(out, cap, o, attrs, attrslen) : o;
}

size_t
pdu_del_op(unsigned char *out, size_t cap, const char *dn, size_t dnlen)
{
	return out == NULL ? 0 : pdu_put_octets(out, cap, 0, PDU_DEL_REQ, dn, dnlen);
}

size_t
pdu_moddn_op(unsigned char *out, size_t cap, const char *dn, size_t dnlen, const void *newrdn, size_t rdnlen,
    int deleteoldrdn, const char *newsup, size_t suplen)
{
	if (out == NULL || dnlen > cap || rdnlen > cap || (newsup != NULL && suplen > cap))
		return 0;
	size_t body = enc_tlv_size(dnlen) + enc_tlv_size(rdnlen) + 3 + (newsup != NULL ? enc_tlv_size(suplen) : 0);
	unsigned char b = deleteoldrdn ? 0xff : 0x00;
	size_t o = pdu_put_tl(out, cap, 0, PDU_MODDN_REQ, body);
	o = o ? pdu_put_octets(out, cap, o, 0x04, dn, dnlen) : 0;
	o = o ? pdu_put_octets(out, cap, o, 0x04, newrdn, rdnlen) : 0;
	o = o ? pdu_put_octets(out, cap, o, 0x01, &b, 1) : 0;
	return o && newsup != NULL ? pdu_put_octets(out, cap, o, 0x80, newsup, suplen) : o;
}
