/*
 * request.c — client request decoding on liblber.  See request.h.
 */
#include "request.h"

#include <stdarg.h>
#include <string.h>

#include "pdu.h"

int
bscan(BerElement *ber, const char *fmt, ...)
{
	va_list ap;
	int rc = 0;
	ber_len_t len;
	va_start(ap, fmt);
	for (const char *f = fmt; *f != '\0' && rc == 0; f++) {
		switch (*f) {
		case '{':
			rc = ber_skip_tag(ber, &len) == LBER_DEFAULT ? -1 : 0;
			break;
		case '}':
			break;
		case 'i':
			rc = ber_get_int(ber, va_arg(ap, ber_int_t *)) == LBER_DEFAULT ? -1 : 0;
			break;
		case 'e':
			rc = ber_get_enum(ber, va_arg(ap, ber_int_t *)) == LBER_DEFAULT ? -1 : 0;
			break;
		case 'b':
			rc = ber_get_boolean(ber, va_arg(ap, ber_int_t *)) == LBER_DEFAULT ? -1 : 0;
			break;
		case 'm':
			rc = ber_get_stringbv(ber, va_arg(ap, struct berval *), LBER_BV_NOTERM) == LBER_DEFAULT ? -1 : 0;
			break;
		case 'x': {
			struct berval skip;
			rc = ber_skip_element(ber, &skip) == LBER_DEFAULT ? -1 : 0;
			break;
		}
		case 'n':
			rc = ber_get_null(ber) == LBER_DEFAULT ? -1 : 0;
			break;
		default:
			rc = -1;
		}
	}
	va_end(ap);
	return rc;
}

size_t
ber_cursor(BerElement *ber, size_t total)
{
	ber_len_t remaining = 0;
	ber_get_option(ber, LBER_OPT_REMAINING_BYTES, &remaining);
	return total - remaining;
}

/* Whether the next element has this tag: liblber's scanners ('i', 'm' ...) take any. */
static int
is_tag(BerElement *ber, ber_tag_t tag)
{
	ber_len_t len;
	return ber_peek_tag(ber, &len) == tag;
}

/* An INTEGER with contents (liblber reads none as 0). */
static int
is_int(BerElement *ber)
{
	ber_len_t len;
	return ber_peek_tag(ber, &len) == LBER_INTEGER && len > 0;
}

static int
skip_raw(BerElement *ber, const unsigned char *buf, size_t len, struct berval *raw)
{
	size_t start = ber_cursor(ber, len);
	struct berval bv;
	if (ber_skip_element(ber, &bv) == LBER_DEFAULT)
		return -1;
	raw->bv_val = (char *)buf + start;
	raw->bv_len = ber_cursor(ber, len) - start;
	return 0;
}

static int
decode_controls(BerElement *ber, const unsigned char *buf, size_t len, struct req_controls *c, const char **why)
{
	ber_len_t blen;
	c->n = 0;
	c->raw.bv_val = NULL;
	c->raw.bv_len = 0;
	if (ber_peek_tag(ber, &blen) != PDU_CONTROLS)
		return 0;
	size_t start = ber_cursor(ber, len);
	char *last;
	ber_tag_t tag;
	for (tag = ber_first_element(ber, &blen, &last); tag != LBER_DEFAULT;
	     tag = ber_next_element(ber, &blen, last)) {
		if (c->n == REQ_MAX_CONTROLS) {
			*why = "too many controls";
			return -1;
		}
		struct req_control *ct = &c->c[c->n++];
		size_t cstart = ber_cursor(ber, len);
		size_t cend = pdu_tlv_end(buf, len, cstart);
		memset(ct, 0, sizeof(*ct));
		if (tag != LBER_SEQUENCE || cend == 0 || bscan(ber, "{") < 0 ||
		    ber_peek_tag(ber, &blen) != LBER_OCTETSTRING || bscan(ber, "m", &ct->oid) < 0 ||
		    ct->oid.bv_len == 0) {
			*why = "malformed control";
			return -1;
		}
		if (ber_peek_tag(ber, &blen) == LBER_BOOLEAN) {
			ber_int_t b;
			if (blen != 1 || bscan(ber, "b", &b) < 0) {   /* one contents octet (X.690 8.2.1) */
				*why = "malformed control criticality";
				return -1;
			}
			ct->critical = b != 0;
		}
		if (ber_peek_tag(ber, &blen) == LBER_OCTETSTRING) {
			if (bscan(ber, "m", &ct->value) < 0) {
				*why = "malformed control value";
				return -1;
			}
		}
		if (bscan(ber, "}") < 0) {
			*why = "malformed control";
			return -1;
		}
		if (ber_cursor(ber, len) != cend) {
			*why = "malformed control: length mismatch";
			return -1;
		}
		ct->raw.bv_val = (char *)buf + cstart;
		ct->raw.bv_len = cend - cstart;
	}
	c->raw.bv_val = (char *)buf + start;
	c->raw.bv_len = ber_cursor(ber, len) - start;
	return 0;
}

static int
decode_search(BerElement *ber, const unsigned char *buf, size_t len, size_t opstart, struct req_search *s,
    const char **why)
{
	ber_int_t scope, deref, sl, tl, to;
	if (bscan(ber, "{meeiib", &s->base, &scope, &deref, &sl, &tl, &to) < 0) {
		*why = "malformed search request";
		return -1;
	}
	s->scope = scope;
	s->deref = deref;
	s->sizelimit = sl;
	s->timelimit = tl;
	s->typesonly = to;
	if (scope < 0 || scope > 3 || deref < 0 || deref > 3 || sl < 0 || tl < 0) {
		*why = "search request field out of range";
		return -1;
	}
	if (skip_raw(ber, buf, len, &s->filter) < 0) {
		*why = "malformed search filter";
		return -1;
	}
	/*
	 * What liblber let through must also be what RFC 4511 says, since these
	 * bytes may be forwarded as received: base OCTET STRING, scope and
	 * derefAliases ENUMERATED, the limits INTEGER, typesOnly a one-byte BOOLEAN.
	 */
	static const unsigned char tags[] = { 0x04, 0x0a, 0x0a, 0x02, 0x02, 0x01 };
	size_t end = (size_t)((const unsigned char *)s->filter.bv_val - buf);
	size_t off = opstart + (buf[opstart + 1] < 0x80 ? 2 : 2 + (size_t)(buf[opstart + 1] & 0x7f));
	for (size_t k = 0; k < sizeof(tags); k++) {
		size_t e = off < end ? pdu_tlv_end(buf, end, off) : 0;
		size_t hdr = e == 0 ? 0 : buf[off + 1] < 0x80 ? 2 : 2 + (size_t)(buf[off + 1] & 0x7f);
		/* an INTEGER or ENUMERATED has at least one contents octet (X.690 8.3.1) */
		if (e == 0 || buf[off] != tags[k] || (tags[k] == 0x01 && e - off != 3) ||
		    (tags[k] != 0x04 && e == off + hdr)) {
			*why = "malformed search request";
			return -1;
		}
		off = e;
	}
	if (off != end) {
		*why = "malformed search request";
		return -1;
	}
	size_t astart = ber_cursor(ber, len);
	ber_len_t blen;
	char *last;
	s->nattrs = 0;
	if (ber_peek_tag(ber, &blen) != LBER_SEQUENCE) {
		*why = "malformed attribute selection";
		return -1;
	}
	for (ber_tag_t t = ber_first_element(ber, &blen, &last); t != LBER_DEFAULT;
	     t = ber_next_element(ber, &blen, last)) {
		if (s->nattrs == REQ_MAX_ATTRS) {
			*why = "too many attributes requested";
			return -1;
		}
		if (t != LBER_OCTETSTRING || bscan(ber, "m", &s->attrs[s->nattrs]) < 0) {
			*why = "malformed attribute selection";
			return -1;
		}
		s->nattrs++;
	}
	if (ber_cursor(ber, len) != pdu_tlv_end(buf, len, astart)) {
		*why = "malformed attribute selection";   /* its length is not that of its contents */
		return -1;
	}
	s->attrs_raw.bv_val = (char *)buf + astart;
	s->attrs_raw.bv_len = ber_cursor(ber, len) - astart;
	if (bscan(ber, "}") < 0) {
		*why = "malformed search request";
		return -1;
	}
	return 0;
}

/* Each request decoder reads the protocolOp at the decoder's cursor into r. */

static int
decode_bind(BerElement *ber, const unsigned char *buf, size_t len, size_t opstart, struct request *r, const char **why)
{
	struct req_bind *b = &r->u.bind;
	ber_int_t version;
	ber_len_t blen;
	(void)buf;
	(void)len;
	(void)opstart;
	memset(b, 0, sizeof(*b));
	if (bscan(ber, "{") < 0 || !is_int(ber) || bscan(ber, "i", &version) < 0 ||
	    !is_tag(ber, LBER_OCTETSTRING) || bscan(ber, "m", &b->dn) < 0) {
		*why = "malformed bind request";
		return -1;
	}
	b->version = version;
	b->auth_tag = (unsigned)ber_peek_tag(ber, &blen);
	if (b->auth_tag == 0x80) {
		if (bscan(ber, "m}", &b->cred) < 0) {
			*why = "malformed simple credentials";
			return -1;
		}
	} else if (b->auth_tag == 0xa3) {
		if (bscan(ber, "{m", &b->mech) < 0 ||
		    (ber_peek_tag(ber, &blen) == LBER_OCTETSTRING && bscan(ber, "m", &b->cred) < 0) ||
		    bscan(ber, "}}") < 0) {
			*why = "malformed SASL credentials";
			return -1;
		}
	} else if (bscan(ber, "x}") < 0) {
		/* an unknown authentication choice: RFC 4511 4.2 leaves it to the
		 * handler to answer authMethodNotSupported */
		*why = "malformed bind request";
		return -1;
	}
	return 0;
}

static int
decode_search_op(BerElement *ber, const unsigned char *buf, size_t len, size_t opstart, struct request *r,
    const char **why)
{
	return decode_search(ber, buf, len, opstart, &r->u.search, why);
}

static int
decode_compare(BerElement *ber, const unsigned char *buf, size_t len, size_t opstart, struct request *r,
    const char **why)
{
	struct req_compare *c = &r->u.compare;
	(void)opstart;
	if (bscan(ber, "{") < 0 || !is_tag(ber, LBER_OCTETSTRING) || bscan(ber, "m", &c->dn) < 0 ||
	    !is_tag(ber, LBER_SEQUENCE)) {
		*why = "malformed compare request";
		return -1;
	}
	/* the AttributeValueAssertion ends where its length says (the request is forwarded as received) */
	size_t avastart = ber_cursor(ber, len);
	if (bscan(ber, "{") < 0 || !is_tag(ber, LBER_OCTETSTRING) || bscan(ber, "m", &c->attr) < 0 ||
	    !is_tag(ber, LBER_OCTETSTRING) || bscan(ber, "m", &c->value) < 0 ||
	    ber_cursor(ber, len) != pdu_tlv_end(buf, len, avastart)) {
		*why = "malformed compare request";
		return -1;
	}
	return 0;
}

static int
decode_ext(BerElement *ber, const unsigned char *buf, size_t len, size_t opstart, struct request *r, const char **why)
{
	struct req_ext *e = &r->u.ext;
	ber_len_t blen;
	(void)buf;
	(void)len;
	(void)opstart;
	memset(e, 0, sizeof(*e));
	if (bscan(ber, "{") < 0 || !is_tag(ber, 0x80) || bscan(ber, "m", &e->oid) < 0 ||
	    (ber_peek_tag(ber, &blen) == 0x81 && bscan(ber, "m", &e->value) < 0) || bscan(ber, "}") < 0) {
		*why = "malformed extended request";
		return -1;
	}
	return 0;
}

static int
decode_abandon(BerElement *ber, const unsigned char *buf, size_t len, size_t opstart, struct request *r,
    const char **why)
{
	ber_int_t id;
	(void)buf;
	(void)len;
	(void)opstart;
	if (bscan(ber, "i", &id) < 0) {
		*why = "malformed abandon request";
		return -1;
	}
	r->u.abandon_msgid = id;
	return 0;
}

static int
decode_unbind(BerElement *ber, const unsigned char *buf, size_t len, size_t opstart, struct request *r,
    const char **why)
{
	(void)buf;
	(void)len;
	(void)opstart;
	(void)r;
	if (bscan(ber, "n") < 0) {
		*why = "malformed unbind request";
		return -1;
	}
	return 0;
}

/* An LDAPDN or RelativeLDAPDN with this tag (an OCTET STRING, or an implicit tag of one). */
static int
get_dn(BerElement *ber, ber_tag_t tag, struct berval *dn)
{
	return is_tag(ber, tag) && bscan(ber, "m", dn) == 0 ? 0 : -1;
}

/*
 * AddRequest ::= [APPLICATION 8] SEQUENCE { entry LDAPDN, attributes AttributeList }
 * AttributeList ::= SEQUENCE OF attribute SEQUENCE { type, vals SET OF value }
 * Checked whole, every element ending where its length says: write.c
 * walks the list again without checks of its own.
 */
static int
decode_add(BerElement *ber, const unsigned char *buf, size_t len, size_t opstart, struct request *r, const char **why)
{
	struct req_add *a = &r->u.add;
	ber_len_t blen;
	char *last, *vlast;
	(void)opstart;
	memset(a, 0, sizeof(*a));
	*why = "malformed add request";
	if (bscan(ber, "{") < 0 || get_dn(ber, LBER_OCTETSTRING, &a->dn) < 0 || !is_tag(ber, LBER_SEQUENCE))
		return -1;
	size_t lstart = ber_cursor(ber, len);
	for (ber_tag_t t = ber_first_element(ber, &blen, &last); t != LBER_DEFAULT; t = ber_next_element(ber, &blen, last)) {
		size_t astart = ber_cursor(ber, len);
		struct berval type, v;
		if (t != LBER_SEQUENCE || bscan(ber, "{") < 0 || !is_tag(ber, LBER_OCTETSTRING) || bscan(ber, "m", &type) < 0 ||
		    type.bv_len == 0 || !is_tag(ber, LBER_SET))
			return -1;
		size_t vstart = ber_cursor(ber, len);
		for (ber_tag_t vt = ber_first_element(ber, &blen, &vlast); vt != LBER_DEFAULT;
		     vt = ber_next_element(ber, &blen, vlast))
			if (vt != LBER_OCTETSTRING || bscan(ber, "m", &v) < 0)
				return -1;
		if (ber_cursor(ber, len) != pdu_tlv_end(buf, len, vstart) || ber_cursor(ber, len) != pdu_tlv_end(buf, len, astart))
			return -1;
		a->nattrs++;
	}
	if (ber_cursor(ber, len) != pdu_tlv_end(buf, len, lstart))
		return -1;
	a->attrs.bv_val = (char *)buf + lstart;
	a->attrs.bv_len = ber_cursor(ber, len) - lstart;
	return 0;
}

/* DelRequest ::= [APPLICATION 10] LDAPDN */
static int
decode_del(BerElement *ber, const unsigned char *buf, size_t len, size_t opstart, struct request *r, const char **why)
{
	(void)buf;
	(void)len;
	(void)opstart;
	if (get_dn(ber, PDU_DEL_REQ, &r->u.del) < 0) {
		*why = "malformed delete request";
		return -1;
	}
	return 0;
}

/*
 * ModifyDNRequest ::= [APPLICATION 12] SEQUENCE { entry LDAPDN, newrdn RelativeLDAPDN,
 *     deleteoldrdn BOOLEAN, newSuperior [0] LDAPDN OPTIONAL }
 */
static int
decode_moddn(BerElement *ber, const unsigned char *buf, size_t len, size_t opstart, struct request *r, const char **why)
{
	struct req_moddn *m = &r->u.moddn;
	ber_len_t blen;
	ber_int_t del;
	(void)buf;
	(void)len;
	(void)opstart;
	memset(m, 0, sizeof(*m));
	if (bscan(ber, "{") < 0 || get_dn(ber, LBER_OCTETSTRING, &m->dn) < 0 || get_dn(ber, LBER_OCTETSTRING, &m->newrdn) < 0 ||
	    ber_peek_tag(ber, &blen) != LBER_BOOLEAN || blen != 1 || bscan(ber, "b", &del) < 0 ||
	    ((m->has_newsup = is_tag(ber, 0x80)) && get_dn(ber, 0x80, &m->newsup) < 0)) {
		*why = "malformed modify DN request";
		return -1;
	}
	m->deleteoldrdn = del != 0;
	return 0;
}

/* Modify: the envelope only (its handler reads what it needs). */
static int
decode_update(BerElement *ber, const unsigned char *buf, size_t len, size_t opstart, struct request *r,
    const char **why)
{
	struct berval skip;
	(void)buf;
	(void)len;
	(void)opstart;
	(void)r;
	if (ber_skip_element(ber, &skip) == LBER_DEFAULT) {
		*why = "malformed update request";
		return -1;
	}
	return 0;
}

typedef int (*decode_fn)(BerElement *, const unsigned char *, size_t, size_t, struct request *, const char **);

/* The decoder of every request REQUEST_OPS (request.h) lists; any other tag is refused. */
static const struct {
	unsigned tag;
	decode_fn fn;
} decoders[] = {
#define DECODER(tag, decode, handle) { tag, decode },
	REQUEST_OPS(DECODER)
#undef DECODER
};

int
request_decode(BerElement *ber, const unsigned char *buf, size_t len, struct request *r, const char **why)
{
	struct berval bv = { len, (char *)buf };
	ber_int_t msgid;
	ber_len_t blen;
	ber_init2(ber, &bv, LBER_USE_DER);
	*why = "malformed LDAPMessage";
	if (bscan(ber, "{i", &msgid) < 0)
		return -1;
	r->msgid = msgid;
	r->tag = (unsigned)ber_peek_tag(ber, &blen);
	size_t opstart = ber_cursor(ber, len);
	decode_fn fn = NULL;
	for (size_t i = 0; i < sizeof(decoders) / sizeof(decoders[0]); i++)
		if (decoders[i].tag == r->tag)
			fn = decoders[i].fn;
	if (fn == NULL) {
		*why = "unknown protocolOp";
		return -1;
	}
	if (fn(ber, buf, len, opstart, r, why) < 0)
		return -1;
	/* the protocolOp must end exactly where its length says */
	size_t opend = pdu_tlv_end(buf, len, opstart);
	if (opend == 0 || ber_cursor(ber, len) != opend) {
		*why = "protocolOp length does not match its contents";
		return -1;
	}
	r->op.bv_val = (char *)buf + opstart;
	r->op.bv_len = opend - opstart;
	if (decode_controls(ber, buf, len, &r->ctrls, why) < 0)
		return -1;
	if (bscan(ber, "}") < 0 || ber_cursor(ber, len) != len) {
		*why = "trailing data in LDAPMessage";
		return -1;
	}
	return 0;
}

struct walker {
	BerElement *ber;
	const unsigned char *buf;
	size_t total;
	filter_attr_cb cb;
	void *arg;
};

static int walk_elem(struct walker *w, int depth);

/* Each element must end where its length says: a NOT may not hide a second filter. */
static int
walk(struct walker *w, int depth)
{
	size_t start = ber_cursor(w->ber, w->total);
	size_t end = pdu_tlv_end(w->buf, w->total, start);
	if (end == 0)
		return -1;
	int rc = walk_elem(w, depth);
	if (rc == 0 && ber_cursor(w->ber, w->total) != end)
		return -1;
	return rc;
}

static int
walk_elem(struct walker *w, int depth)
{
	BerElement *ber = w->ber;
	filter_attr_cb cb = w->cb;
	void *arg = w->arg;
	ber_len_t len;
	char *last;
	struct berval attr, val;
	if (depth > FILTER_MAX_DEPTH)
		return -1;
	ber_tag_t tag = ber_peek_tag(ber, &len);
	switch (tag) {
	case 0xa0: /* and */
	case 0xa1: /* or */
		for (ber_tag_t t = ber_first_element(ber, &len, &last); t != LBER_DEFAULT;
		     t = ber_next_element(ber, &len, last)) {
			int rc = walk(w, depth + 1);
			if (rc != 0)
				return rc;
		}
		return 0;
	case 0xa2: /* not */
		if (ber_skip_tag(ber, &len) == LBER_DEFAULT)
			return -1;
		return walk(w, depth + 1);
	case 0xa3: /* equalityMatch */
	case 0xa5: /* greaterOrEqual */
	case 0xa6: /* lessOrEqual */
	case 0xa8: /* approxMatch */
		if (bscan(ber, "{mm}", &attr, &val) < 0)
			return -1;
		return cb(&attr, arg);
	case 0xa4: /* substrings */
		if (bscan(ber, "{mx}", &attr) < 0)
			return -1;
		return cb(&attr, arg);
	case 0x87: /* present */
		if (bscan(ber, "m", &attr) < 0)
			return -1;
		return cb(&attr, arg);
	case 0xa9: { /* extensibleMatch */
		struct berval rule = { 0, NULL };
		attr.bv_len = 0;
		attr.bv_val = NULL;
		if (ber_skip_tag(ber, &len) == LBER_DEFAULT)
			return -1;
		if (ber_peek_tag(ber, &len) == 0x81 && bscan(ber, "m", &rule) < 0)
			return -1;
		if (ber_peek_tag(ber, &len) == 0x82 && bscan(ber, "m", &attr) < 0)
			return -1;
		if (ber_peek_tag(ber, &len) != 0x83 || bscan(ber, "m", &val) < 0)
			return -1;
		if (ber_peek_tag(ber, &len) == 0x84 && bscan(ber, "x") < 0)
			return -1;
		return attr.bv_len ? cb(&attr, arg) : 0;
	}
	default:
		return -1;
	}
}

int
filter_walk(BerElement *ber, const struct berval *filter, filter_attr_cb cb, void *arg)
{
	struct berval bv = *filter;
	ber_init2(ber, &bv, LBER_USE_DER);
	struct walker w = { ber, (const unsigned char *)filter->bv_val, filter->bv_len, cb, arg };
	int rc = walk(&w, 0);
	if (rc == 0 && ber_cursor(ber, filter->bv_len) != filter->bv_len)
		return -1;
	return rc;
}

const struct req_control *
request_control(const struct request *r, const char *oid)
{
	size_t ol = strlen(oid);
	for (size_t i = 0; i < r->ctrls.n; i++)
		if (r->ctrls.c[i].oid.bv_len == ol && memcmp(r->ctrls.c[i].oid.bv_val, oid, ol) == 0)
			return &r->ctrls.c[i];
	return NULL;
}

size_t
request_forwarded_controls(const struct request *r, struct berval *out, size_t max)
{
	size_t k = 0;
	for (size_t i = 0; i < r->ctrls.n && k < max; i++)
		if (r->ctrls.verdict[i] == 1)       /* PCTL_FORWARD */
			out[k++] = r->ctrls.c[i].raw;
	return k;
}
