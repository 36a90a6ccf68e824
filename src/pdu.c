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
 * fields).  Strings longer than the stack buffer are truncated.
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
	if (evbuffer_add(out, buf, (size_t)(p - buf)) < 0)
		return -1;
	return extralen ? evbuffer_add(out, extra, extralen) : 0;
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

int
pdu_entry(struct evbuffer *out, int msgid, const char *dn, const struct pdu_attr *attrs, size_t nattrs)
{
	/* sizes first: PartialAttribute ::= SEQUENCE { type, vals SET OF value } */
	size_t attrs_len = 0;
	for (size_t i = 0; i < nattrs; i++) {
		size_t vals = 0;
		for (size_t v = 0; v < attrs[i].nvalues; v++)
			vals += enc_tlv_size(strlen(attrs[i].values[v]));
		attrs_len += enc_tlv_size(enc_tlv_size(strlen(attrs[i].name)) + enc_tlv_size(vals));
	}
	size_t dl = strlen(dn);
	size_t body = enc_tlv_size(dl) + enc_tlv_size(attrs_len);
	unsigned char hdr[PDU_HEAD_MAX + 16];
	unsigned char *p = hdr + pdu_envelope(hdr, msgid, enc_tlv_size(body));
	*p++ = PDU_SEARCH_ENTRY;
	p = enc_put_len(p, body);
	if (evbuffer_add(out, hdr, (size_t)(p - hdr)) < 0)
		return -1;
	unsigned char t[16];    /* tag + length twice: 12 bytes at most */
	p = t;
	*p++ = 0x04;
	p = enc_put_len(p, dl);
	evbuffer_add(out, t, (size_t)(p - t));
	evbuffer_add(out, dn, dl);
	p = t;
	*p++ = 0x30;
	p = enc_put_len(p, attrs_len);
	evbuffer_add(out, t, (size_t)(p - t));
	for (size_t i = 0; i < nattrs; i++) {
		size_t nl = strlen(attrs[i].name), vals = 0;
		for (size_t v = 0; v < attrs[i].nvalues; v++)
			vals += enc_tlv_size(strlen(attrs[i].values[v]));
		p = t;
		*p++ = 0x30;
		p = enc_put_len(p, enc_tlv_size(nl) + enc_tlv_size(vals));
		*p++ = 0x04;
		p = enc_put_len(p, nl);
		evbuffer_add(out, t, (size_t)(p - t));
		evbuffer_add(out, attrs[i].name, nl);
		p = t;
		*p++ = 0x31;
		p = enc_put_len(p, vals);
		evbuffer_add(out, t, (size_t)(p - t));
		for (size_t v = 0; v < attrs[i].nvalues; v++) {
			size_t vl = strlen(attrs[i].values[v]);
			p = t;
			*p++ = 0x04;
			p = enc_put_len(p, vl);
			evbuffer_add(out, t, (size_t)(p - t));
			evbuffer_add(out, attrs[i].values[v], vl);
		}
	}
	return 0;
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
