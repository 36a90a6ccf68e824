/*
 * filter.c — filter trees: BER decode/encode, RFC 4515 strings.  See filter.h.
 */
#include "filter.h"

#include <string.h>
#include <strings.h>

#include "pdu.h"
#include "request.h"

struct fnode *
fnode_new(struct arena *a, enum fkind kind)
{
	struct fnode *f = arena_alloc(a, sizeof(*f));
	if (f != NULL)
		f->kind = kind;
	return f;
}

static int
set_attr(struct arena *a, struct berval *bv, const char *s, size_t n)
{
	return arena_bv(a, bv, s, n);
}

struct fnode *
fnode_eq(struct arena *a, const char *attr, const char *value, size_t vlen)
{
	struct fnode *f = fnode_new(a, F_EQ);
	if (f == NULL || set_attr(a, &f->attr, attr, strlen(attr)) < 0 || arena_bv(a, &f->value, value, vlen) < 0)
		return NULL;
	return f;
}

struct fnode *
fnode_present(struct arena *a, const char *attr)
{
	struct fnode *f = fnode_new(a, F_PRESENT);
	if (f == NULL || set_attr(a, &f->attr, attr, strlen(attr)) < 0)
		return NULL;
	return f;
}

struct fnode *
fnode_list(struct arena *a, enum fkind kind, struct fnode *first)
{
	struct fnode *f = fnode_new(a, kind);
	if (f != NULL)
		f->child = first;
	return f;
}

struct fnode *
fnode_not(struct arena *a, struct fnode *c)
{
	if (c == NULL)
		return NULL;
	struct fnode *f = fnode_new(a, F_NOT);
	if (f != NULL)
		f->child = c;
	return f;
}

int
attr_eq(const struct berval *a, const char *name)
{
	size_t n = strlen(name), base = a->bv_len;
	for (size_t i = 0; i < a->bv_len; i++)
		if (a->bv_val[i] == ';') {
			base = i;
			break;
		}
	return base == n && strncasecmp(a->bv_val, name, n) == 0;
}

/* ---- BER decode ---------------------------------------------------------- */

struct dec {
	BerElement *ber;
	struct arena *a;
	int nodes;
	const unsigned char *buf;
	size_t total;
};

/* Offset of the decoder's cursor. */
static size_t
dcur(struct dec *d)
{
	return ber_cursor(d->ber, d->total);
}

static int
dup_bv(struct arena *a, struct berval *dst, const struct berval *src)
{
	return arena_bv(a, dst, src->bv_val ? src->bv_val : "", src->bv_len);
}

static struct fnode *dec_elem(struct dec *d, int depth);

/* An OCTET STRING: liblber's 'm' takes any tag. */
static int
dec_octets(struct dec *d, struct berval *bv)
{
	ber_len_t len;
	return ber_peek_tag(d->ber, &len) == LBER_OCTETSTRING && bscan(d->ber, "m", bv) == 0 ? 0 : -1;
}

/* One filter element, which must end exactly where its length says. */
static struct fnode *
dec(struct dec *d, int depth)
{
	size_t start = dcur(d);
	size_t end = pdu_tlv_end(d->buf, d->total, start);
	if (end == 0)
		return NULL;
	struct fnode *f = dec_elem(d, depth);
	return f != NULL && dcur(d) == end ? f : NULL;
}

static struct fnode *
dec_elem(struct dec *d, int depth)
{
	ber_len_t len;
	char *last;
	struct berval attr, val;
	if (depth > FILTER_MAX_DEPTH || ++d->nodes > FILTER_MAX_NODES)
		return NULL;
	ber_tag_t tag = ber_peek_tag(d->ber, &len);
	struct fnode *f;
	switch (tag) {
	case 0xa0:
	case 0xa1: {
		f = fnode_new(d->a, tag == 0xa0 ? F_AND : F_OR);
		if (f == NULL)
			return NULL;
		struct fnode **tail = &f->child;
		if (len == 0) {
			/* RFC 4526 absolute true (&) / false (|) */
			if (ber_skip_tag(d->ber, &len) == LBER_DEFAULT)
				return NULL;
			f->kind = tag == 0xa0 ? F_TRUE : F_FALSE;
			return f;
		}
		for (ber_tag_t t = ber_first_element(d->ber, &len, &last); t != LBER_DEFAULT;
		     t = ber_next_element(d->ber, &len, last)) {
			struct fnode *c = dec(d, depth + 1);
			if (c == NULL)
				return NULL;
			*tail = c;
			tail = &c->next;
		}
		return f;
	}
	case 0xa2:
		if (ber_skip_tag(d->ber, &len) == LBER_DEFAULT)
			return NULL;
		return fnode_not(d->a, dec(d, depth + 1));
	case 0xa3:
	case 0xa5:
	case 0xa6:
	case 0xa8:
		if (ber_skip_tag(d->ber, &len) == LBER_DEFAULT || dec_octets(d, &attr) < 0 || dec_octets(d, &val) < 0)
			return NULL;
		f = fnode_new(d->a, tag == 0xa3 ? F_EQ : tag == 0xa5 ? F_GE : tag == 0xa6 ? F_LE : F_APPROX);
		if (f == NULL || attr.bv_len == 0 || dup_bv(d->a, &f->attr, &attr) < 0 || dup_bv(d->a, &f->value, &val) < 0)
			return NULL;
		return f;
	case 0x87:
		if (bscan(d->ber, "m", &attr) < 0 || attr.bv_len == 0)
			return NULL;
		f = fnode_new(d->a, F_PRESENT);
		if (f == NULL || dup_bv(d->a, &f->attr, &attr) < 0)
			return NULL;
		return f;
	case 0xa4: {
		if (ber_skip_tag(d->ber, &len) == LBER_DEFAULT || dec_octets(d, &attr) < 0 || attr.bv_len == 0)
			return NULL;
		f = fnode_new(d->a, F_SUB);
		if (f == NULL || dup_bv(d->a, &f->attr, &attr) < 0)
			return NULL;
		struct berval parts[64];
		size_t nany = 0;
		/* the substrings: one SEQUENCE that ends where its length says (liblber checks neither) */
		size_t sstart = dcur(d), send = pdu_tlv_end(d->buf, d->total, sstart);
		if (send == 0 || d->buf[sstart] != LBER_SEQUENCE)
			return NULL;
		for (ber_tag_t t = ber_first_element(d->ber, &len, &last); t != LBER_DEFAULT;
		     t = ber_next_element(d->ber, &len, last)) {
			if (bscan(d->ber, "m", &val) < 0)
				return NULL;
			if (t == 0x80 && f->initial.bv_val == NULL && nany == 0 && f->final.bv_val == NULL) {
				if (dup_bv(d->a, &f->initial, &val) < 0)
					return NULL;
			} else if (t == 0x81 && nany < 64 && f->final.bv_val == NULL) {
				parts[nany++] = val;
			} else if (t == 0x82 && f->final.bv_val == NULL) {
				if (dup_bv(d->a, &f->final, &val) < 0)
					return NULL;
			} else {
				return NULL;        /* out of order, repeated or too many */
			}
		}
		if (dcur(d) != send)
			return NULL;
		if (f->initial.bv_val == NULL && f->final.bv_val == NULL && nany == 0)
			return NULL;
		if (nany) {
			f->any = arena_alloc(d->a, nany * sizeof(*f->any));
			if (f->any == NULL)
				return NULL;
			for (size_t i = 0; i < nany; i++)
				if (dup_bv(d->a, &f->any[i], &parts[i]) < 0)
					return NULL;
			f->nany = nany;
		}
		return f;
	}
	case 0xa9: {
		struct berval rule = { 0, NULL };
		attr.bv_len = 0;
		attr.bv_val = NULL;
		ber_int_t dnattrs = 0;
		if (ber_skip_tag(d->ber, &len) == LBER_DEFAULT)
			return NULL;
		/* matchingRule [1] and type [2] are optional, but never empty when present */
		if (ber_peek_tag(d->ber, &len) == 0x81 && (bscan(d->ber, "m", &rule) < 0 || rule.bv_len == 0))
			return NULL;
		if (ber_peek_tag(d->ber, &len) == 0x82 && (bscan(d->ber, "m", &attr) < 0 || attr.bv_len == 0))
			return NULL;
		if (ber_peek_tag(d->ber, &len) != 0x83 || bscan(d->ber, "m", &val) < 0)
			return NULL;
		if (ber_peek_tag(d->ber, &len) == 0x84 && bscan(d->ber, "b", &dnattrs) < 0)
			return NULL;
		if (rule.bv_len == 0 && attr.bv_len == 0)
			return NULL;
		f = fnode_new(d->a, F_EXT);
		if (f == NULL || dup_bv(d->a, &f->attr, &attr) < 0 || dup_bv(d->a, &f->rule, &rule) < 0 ||
		    dup_bv(d->a, &f->value, &val) < 0)
			return NULL;
		f->dnattrs = dnattrs != 0;
		return f;
	}
	default:
		return NULL;
	}
}

int
filter_decode(struct arena *a, const struct berval *filter, struct fnode **out)
{
	BerElement *ber = ber_alloc_t(LBER_USE_DER);
	if (ber == NULL)
		return -1;
	struct berval bv = *filter;
	ber_init2(ber, &bv, LBER_USE_DER);
	struct dec d = { ber, a, 0, (const unsigned char *)filter->bv_val, filter->bv_len };
	*out = dec(&d, 0);
	/* the whole buffer is the filter: nothing may follow it */
	if (*out != NULL && dcur(&d) != filter->bv_len)
		*out = NULL;
	ber_free(ber, 0);
	return *out ? 0 : -1;
}

/* ---- BER encode ---------------------------------------------------------- */

static size_t
octets_size(const struct berval *bv)
{
	return enc_tlv_size(bv->bv_len);
}

/* Size of the SEQUENCE OF substrings contents of a SUB node. */
static size_t
sub_parts_size(const struct fnode *f)
{
	size_t n = 0;
	if (f->initial.bv_val)
		n += octets_size(&f->initial);
	for (size_t i = 0; i < f->nany; i++)
		n += octets_size(&f->any[i]);
	if (f->final.bv_val)
		n += octets_size(&f->final);
	return n;
}

/* Size of the contents (not tag/length) of node f. */
static size_t
content_size(const struct fnode *f)
{
	size_t n = 0;
	switch (f->kind) {
	case F_AND:
	case F_OR:
		for (const struct fnode *c = f->child; c != NULL; c = c->next)
			n += enc_tlv_size(content_size(c));
		return n;
	case F_NOT:
		return enc_tlv_size(content_size(f->child));
	case F_EQ:
	case F_GE:
	case F_LE:
	case F_APPROX:
		return octets_size(&f->attr) + octets_size(&f->value);
	case F_PRESENT:
		return f->attr.bv_len;
	case F_SUB:
		return octets_size(&f->attr) + enc_tlv_size(sub_parts_size(f));
	case F_EXT:
		if (f->rule.bv_len)
			n += octets_size(&f->rule);
		if (f->attr.bv_len)
			n += octets_size(&f->attr);
		n += octets_size(&f->value);
		if (f->dnattrs)
			n += 3;
		return n;
	case F_TRUE:
		return 11;      /* (objectClass=*) */
	case F_FALSE:
		return 13;      /* (!(objectClass=*)) */
	}
	return 0;
}

static unsigned
tag_of(const struct fnode *f)
{
	static const unsigned tags[] = { 0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0x87, 0xa8, 0xa9, 0x87, 0xa2 };
	return tags[f->kind];
}

static unsigned char *
put_octets(unsigned char *p, unsigned tag, const struct berval *bv)
{
	return enc_put_octets(p, tag, bv->bv_val, bv->bv_len);
}

static unsigned char *
enc(const struct fnode *f, unsigned char *p)
{
	*p++ = (unsigned char)tag_of(f);
	p = enc_put_len(p, content_size(f));
	switch (f->kind) {
	case F_AND:
	case F_OR:
		for (const struct fnode *c = f->child; c != NULL; c = c->next)
			p = enc(c, p);
		return p;
	case F_NOT:
		return enc(f->child, p);
	case F_EQ:
	case F_GE:
	case F_LE:
	case F_APPROX:
		p = put_octets(p, 0x04, &f->attr);
		return put_octets(p, 0x04, &f->value);
	case F_PRESENT:
		memcpy(p, f->attr.bv_val, f->attr.bv_len);
		return p + f->attr.bv_len;
	case F_SUB:
		p = put_octets(p, 0x04, &f->attr);
		*p++ = 0x30;
		p = enc_put_len(p, sub_parts_size(f));
		if (f->initial.bv_val)
			p = put_octets(p, 0x80, &f->initial);
		for (size_t i = 0; i < f->nany; i++)
			p = put_octets(p, 0x81, &f->any[i]);
		if (f->final.bv_val)
			p = put_octets(p, 0x82, &f->final);
		return p;
	case F_EXT:
		if (f->rule.bv_len)
			p = put_octets(p, 0x81, &f->rule);
		if (f->attr.bv_len)
			p = put_octets(p, 0x82, &f->attr);
		p = put_octets(p, 0x83, &f->value);
		if (f->dnattrs) {
			*p++ = 0x84;
			*p++ = 1;
			*p++ = 0xff;
		}
		return p;
	case F_TRUE:
		memcpy(p, "objectClass", 11);
		return p + 11;
	case F_FALSE:
		*p++ = 0x87;
		*p++ = 11;
		memcpy(p, "objectClass", 11);
		return p + 11;
	}
	return p;
}

size_t
filter_encode(const struct fnode *f, unsigned char *buf, size_t cap)
{
	size_t n = enc_tlv_size(content_size(f));
	if (n > cap)
		return 0;
	unsigned char *end = enc(f, buf);
	return (size_t)(end - buf);
}

/* ---- RFC 4515 strings ------------------------------------------------------ */

struct parser {
	struct arena *a;
	const char *s;
	const char *err;
	int depth, nodes;
};

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Unescapes s[0..n) (\XX) into an arena berval. */
static int
unescape(struct parser *ps, const char *s, size_t n, struct berval *out)
{
	char *v = arena_alloc(ps->a, n + 1);
	if (v == NULL) {
		ps->err = "filter too large";
		return -1;
	}
	size_t o = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '\\') {
			int h, l;
			if (i + 2 >= n) {
				ps->err = "truncated escape in filter value";
				return -1;
			}
			h = hexval(s[i + 1]);
			l = hexval(s[i + 2]);
			if (h < 0 || l < 0) {
				ps->err = "bad escape in filter value (use \\XX with two hex digits)";
				return -1;
			}
			v[o++] = (char)(h * 16 + l);
			i += 2;
		} else {
			v[o++] = s[i];
		}
	}
	out->bv_val = v;
	out->bv_len = o;
	return 0;
}

static struct fnode *parse_filter(struct parser *ps);

static struct fnode *
parse_item(struct parser *ps)
{
	const char *start = ps->s;
	const char *end = start;
	/* the item runs to the closing parenthesis (escapes make ')' impossible inside values) */
	while (*end != '\0' && *end != ')' && *end != '(')
		end++;
	if (*end != ')') {
		ps->err = "unbalanced parentheses or '(' inside a value";
		return NULL;
	}
	ps->s = end;
	const char *eq = memchr(start, '=', (size_t)(end - start));
	if (eq == NULL || eq == start) {
		ps->err = "expected attribute=value";
		return NULL;
	}
	const char *val = eq + 1;
	size_t vlen = (size_t)(end - val);
	const char *aend = eq;
	enum fkind kind = F_EQ;
	if (aend[-1] == '~' || aend[-1] == '>' || aend[-1] == '<' || aend[-1] == ':') {
		kind = aend[-1] == '~' ? F_APPROX : aend[-1] == '>' ? F_GE : aend[-1] == '<' ? F_LE : F_EXT;
		aend--;
	}
	struct fnode *f = fnode_new(ps->a, kind);
	if (f == NULL) {
		ps->err = "filter too large";
		return NULL;
	}
	if (kind != F_EXT && aend == start) {
		ps->err = "expected attribute=value (no attribute before the operator)";
		return NULL;
	}
	if (kind == F_EXT) {
		/* attr[:dn][:rule]:=value, or [:dn]:rule:=value */
		const char *p = start;
		const char *colon = memchr(p, ':', (size_t)(aend - p));
		if (colon == NULL)
			colon = aend;
		if (colon > p && arena_bv(ps->a, &f->attr, p, (size_t)(colon - p)) < 0)
			return NULL;
		p = colon;
		while (p < aend) {
			p++;    /* skip ':' */
			const char *q = memchr(p, ':', (size_t)(aend - p));
			if (q == NULL)
				q = aend;
			if ((size_t)(q - p) == 2 && strncasecmp(p, "dn", 2) == 0)
				f->dnattrs = 1;
			else if (q > p && arena_bv(ps->a, &f->rule, p, (size_t)(q - p)) < 0)
				return NULL;
			p = q;
		}
		if (f->attr.bv_len == 0 && f->rule.bv_len == 0) {
			ps->err = "extensible match needs an attribute or a matching rule";
			return NULL;
		}
		if (unescape(ps, val, vlen, &f->value) < 0)
			return NULL;
		return f;
	}
	if (arena_bv(ps->a, &f->attr, start, (size_t)(aend - start)) < 0)
		return NULL;
	if (kind == F_EQ && vlen == 1 && val[0] == '*') {
		f->kind = F_PRESENT;
		return f;
	}
	if (kind == F_EQ && memchr(val, '*', vlen) != NULL) {
		f->kind = F_SUB;
		struct berval parts[64] = { { 0, NULL } };
		size_t np = 0;
		const char *p = val, *vend = val + vlen;
		while (p <= vend) {
			if (np == 64) {
				ps->err = "too many '*' in a substring filter (at most 63)";
				return NULL;
			}
			const char *q = memchr(p, '*', (size_t)(vend - p));
			if (q == NULL)
				q = vend;
			if (unescape(ps, p, (size_t)(q - p), &parts[np++]) < 0)
				return NULL;
			p = q + 1;
		}
		if (parts[0].bv_len)
			f->initial = parts[0];
		if (parts[np - 1].bv_len)
			f->final = parts[np - 1];
		size_t nany = 0;
		for (size_t i = 1; i + 1 < np; i++)
			if (parts[i].bv_len)
				nany++;
		if (nany) {
			f->any = arena_alloc(ps->a, nany * sizeof(*f->any));
			if (f->any == NULL)
				return NULL;
			for (size_t i = 1; i + 1 < np; i++)
				if (parts[i].bv_len)
					f->any[f->nany++] = parts[i];
		} else if (f->initial.bv_val == NULL && f->final.bv_val == NULL) {
			/* (a=**): one empty any, as libldap sends it (a SubstringFilter is never empty) */
			if ((f->any = arena_alloc(ps->a, sizeof(*f->any))) == NULL)
				return NULL;
			f->any[f->nany++] = parts[1];
		}
		return f;
	}
	if (unescape(ps, val, vlen, &f->value) < 0)
		return NULL;
	return f;
}

static struct fnode *
parse_filter(struct parser *ps)
{
	if (++ps->depth > FILTER_MAX_DEPTH || ++ps->nodes > FILTER_MAX_NODES) {
		ps->err = "filter nested too deeply or too large";
		return NULL;
	}
	while (*ps->s == ' ')
		ps->s++;
	if (*ps->s != '(') {
		ps->err = "expected '('";
		return NULL;
	}
	ps->s++;
	struct fnode *f;
	char op = *ps->s;
	if (op == '&' || op == '|' || op == '!') {
		ps->s++;
		f = fnode_new(ps->a, op == '&' ? F_AND : op == '|' ? F_OR : F_NOT);
		if (f == NULL)
			return NULL;
		struct fnode **tail = &f->child;
		int n = 0;
		while (*ps->s == ' ')
			ps->s++;
		while (*ps->s == '(') {
			struct fnode *c = parse_filter(ps);
			if (c == NULL)
				return NULL;
			*tail = c;
			tail = &c->next;
			n++;
			while (*ps->s == ' ')
				ps->s++;
		}
		if (op == '!' && n != 1) {
			ps->err = "'!' takes exactly one filter";
			return NULL;
		}
		if (n == 0)
			f->kind = op == '&' ? F_TRUE : F_FALSE;
	} else {
		f = parse_item(ps);
		if (f == NULL)
			return NULL;
	}
	if (*ps->s != ')') {
		ps->err = "expected ')'";
		return NULL;
	}
	ps->s++;
	ps->depth--;
	return f;
}

int
filter_parse(struct arena *a, const char *s, struct fnode **out, const char **err)
{
	struct parser ps = { a, s, NULL, 0, 0 };
	/* a bare item without parentheses is accepted, as many tools do */
	char wrapped[4096];
	if (*s != '(' && strlen(s) + 3 < sizeof(wrapped)) {
		wrapped[0] = '(';
		strcpy(wrapped + 1, s);
		strcat(wrapped, ")");
		ps.s = wrapped;
	}
	*out = parse_filter(&ps);
	if (*out != NULL) {
		while (*ps.s == ' ')
			ps.s++;
		if (*ps.s != '\0') {
			*out = NULL;
			ps.err = "text after the end of the filter";
		}
	}
	if (*out == NULL)
		*err = ps.err ? ps.err : "filter too large";
	return *out ? 0 : -1;
}

struct out {
	char *buf;
	size_t cap, len;
	int over;
};

static void
put(struct out *o, const char *s, size_t n)
{
	if (n == 0)
		return;
	if (o->len + n >= o->cap) {
		o->over = 1;
		return;
	}
	memcpy(o->buf + o->len, s, n);
	o->len += n;
}

static void
puts_(struct out *o, const char *s)
{
	put(o, s, strlen(s));
}

static void
put_value(struct out *o, const struct berval *v)
{
	for (size_t i = 0; i < v->bv_len; i++) {
		unsigned char c = (unsigned char)v->bv_val[i];
		if (c == '*' || c == '(' || c == ')' || c == '\\' || c < 0x20 || c >= 0x7f) {
			char hex[4];
			static const char digits[] = "0123456789abcdef";
			hex[0] = '\\';
			hex[1] = digits[c >> 4];
			hex[2] = digits[c & 15];
			put(o, hex, 3);
		} else {
			put(o, (const char *)&c, 1);
		}
	}
}

static void
print_node(const struct fnode *f, struct out *o)
{
	switch (f->kind) {
	case F_AND:
	case F_OR:
	case F_NOT:
		puts_(o, f->kind == F_AND ? "(&" : f->kind == F_OR ? "(|" : "(!");
		for (const struct fnode *c = f->child; c != NULL; c = c->next)
			print_node(c, o);
		puts_(o, ")");
		return;
	case F_TRUE:
		puts_(o, "(&)");
		return;
	case F_FALSE:
		puts_(o, "(|)");
		return;
	default:
		break;
	}
	puts_(o, "(");
	put(o, f->attr.bv_val, f->attr.bv_len);
	switch (f->kind) {
	case F_EQ: puts_(o, "="); put_value(o, &f->value); break;
	case F_GE: puts_(o, ">="); put_value(o, &f->value); break;
	case F_LE: puts_(o, "<="); put_value(o, &f->value); break;
	case F_APPROX: puts_(o, "~="); put_value(o, &f->value); break;
	case F_PRESENT: puts_(o, "=*"); break;
	case F_SUB:
		puts_(o, "=");
		if (f->initial.bv_val)
			put_value(o, &f->initial);
		puts_(o, "*");
		for (size_t i = 0; i < f->nany; i++) {
			put_value(o, &f->any[i]);
			puts_(o, "*");
		}
		if (f->final.bv_val)
			put_value(o, &f->final);
		break;
	case F_EXT:
		if (f->dnattrs)
			puts_(o, ":dn");
		if (f->rule.bv_len) {
			puts_(o, ":");
			put(o, f->rule.bv_val, f->rule.bv_len);
		}
		puts_(o, ":=");
		put_value(o, &f->value);
		break;
	default:
		break;
	}
	puts_(o, ")");
}

int
filter_print(const struct fnode *f, char *buf, size_t cap)
{
	struct out o = { buf, cap, 0, 0 };
	if (cap == 0)
		return -1;
	print_node(f, &o);
	if (o.over)
		return -1;
	buf[o.len] = '\0';
	return (int)o.len;
}
