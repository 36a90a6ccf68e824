/*
 * rewrite.c — the profile applied to requests (virtual → real) and to
 * entries (real → virtual).  See rewrite.h and docs/profiles.md.
 */
#include "rewrite.h"
#include "policy.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <event2/buffer.h>

#include "dn.h"
#include "pdu.h"
#include "request.h"

#define ENTRY_MAX_ATTRS 512

int
rewrite_active(const struct profile *p)
{
	return p->ndn_maps || p->nattr_maps || p->noc_maps || p->nvattrs || p->ndefaults ||
	    p->memberof_groups_only || p->nvisible_groups || p->ndn_attributes;
}

/* ---- DNs ----------------------------------------------------------------- */

/* Offsets where each RDN of dn starts (unescaped commas), up to max; returns the count. */
static size_t
rdn_starts(const char *dn, size_t len, size_t *pos, size_t max)
{
	size_t n = 0;
	if (len == 0)
		return 0;
	pos[n++] = 0;
	for (size_t i = 0; i < len; i++) {
		if (dn[i] == '\\') {
			i++;
			continue;
		}
		if (dn[i] == ',' || dn[i] == ';') {
			if (n == max)
				return (size_t)-1;      /* deeper than any directory: refused */
			pos[n++] = i + 1;
		}
	}
	return n;
}

/*
 * Replaces the suffix `from` (normalized, nfrom RDNs long) of dn with `to`,
 * keeping the leading RDNs as written.
 */
static int
replace_suffix(const char *dn, size_t len, const char *nfrom, const char *to, char *out, size_t outlen)
{
	size_t fpos[128], dpos[128];
	size_t fn = rdn_starts(nfrom, strlen(nfrom), fpos, 128);
	size_t dnn = rdn_starts(dn, len, dpos, 128);
	if (fn == (size_t)-1 || dnn == (size_t)-1 || dnn < fn)
		return -1;
	size_t keep = dnn - fn;
	int n;
	if (keep == 0) {
		n = snprintf(out, outlen, "%s", to);
	} else {
		size_t plen = dpos[keep] - 1;     /* up to the comma before the suffix */
		while (plen > 0 && dn[plen - 1] == ' ') {
			size_t bs = 0;      /* an escaped space ("\\ ") is part of the value */
			while (bs + 1 < plen && dn[plen - 2 - bs] == '\\')
				bs++;
			if (bs % 2 == 1)
				break;
			plen--;
		}
		size_t s = 0;
		while (s < plen && dn[s] == ' ')
			s++;
		n = snprintf(out, outlen, "%.*s%s%s", (int)(plen - s), dn + s, *to ? "," : "", to);
	}
	return n < 0 || (size_t)n >= outlen ? -1 : n;
}

static int
map_dn(const struct profile *p, const char *dn, size_t len, char *out, size_t outlen, int inbound)
{
	char ndn[DN_MAX];
	int nl = dn_normalize(dn, len, ndn, sizeof(ndn));
	if (nl < 0)
		return -1;
	const struct dn_map *best = NULL;
	for (size_t i = 0; i < p->ndn_maps; i++) {
		const struct dn_map *m = &p->dn_maps[i];
		const char *from = inbound ? m->nvirt : m->nreal;
		size_t flen = inbound ? m->nvlen : m->nrlen;
		if (dn_is_under(ndn, (size_t)nl, from, flen) &&
		    (best == NULL || flen > (inbound ? best->nvlen : best->nrlen)))
			best = m;
	}
	if (best == NULL) {
		if (len >= outlen)
			return -1;
		memcpy(out, dn, len);
		out[len] = '\0';
		return (int)len;
	}
	return replace_suffix(dn, len, inbound ? best->nvirt : best->nreal, inbound ? best->real : best->virt, out,
	    outlen);
}

int
rewrite_dn_in(const struct profile *p, const char *dn, size_t len, char *out, size_t outlen)
{
	return map_dn(p, dn, len, out, outlen, 1);
}

int
rewrite_dn_out(const struct profile *p, const char *dn, size_t len, char *out, size_t outlen)
{
	return map_dn(p, dn, len, out, outlen, 0);
}

/* ---- names ----------------------------------------------------------------- */

static int
name_is(const struct berval *bv, const char *s)
{
	return attr_eq(bv, s);
}

static const struct vattr *
find_vattr(const struct profile *p, const struct berval *name)
{
	for (size_t i = 0; i < p->nvattrs; i++)
		if (name_is(name, p->vattrs[i].name))
			return &p->vattrs[i];
	return NULL;
}

static const char *
real_of(const struct profile *p, const struct berval *name)
{
	for (size_t i = 0; i < p->nattr_maps; i++)
		if (name_is(name, p->attr_maps[i].virt))
			return p->attr_maps[i].real;
	return NULL;
}

static int
is_dn_attr(const struct profile *p, const struct berval *name)
{
	static const char *const builtin[] = { "member", "memberOf", "manager", "secretary", "uniqueMember",
		"owner", "seeAlso", "entryDN", NULL };
	for (const char *const *b = builtin; *b; b++)
		if (name_is(name, *b))
			return 1;
	for (size_t i = 0; i < p->ndn_attributes; i++)
		if (name_is(name, p->dn_attributes[i]))
			return 1;
	return 0;
}

/* ---- GUIDs ----------------------------------------------------------------- */

static int
hex2(const char *s)
{
	int v = 0;
	for (int i = 0; i < 2; i++) {
		char c = s[i];
		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= c - '0';
		else if (c >= 'a' && c <= 'f')
			v |= c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			v |= c - 'A' + 10;
		else
			return -1;
	}
	return v;
}

/* AD stores the first three fields of a GUID little-endian. */
static const int guid_order[16] = { 3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15 };

int
guid_from_uuid(const char *uuid, size_t len, unsigned char out[16])
{
	unsigned char b[16];
	size_t k = 0;
	for (size_t i = 0; i < len;) {
		if (k == 16)
			return -1;      /* trailing text */
		if (uuid[i] == '-') {
			i++;
			continue;
		}
		if (i + 1 >= len)
			return -1;
		int v = hex2(uuid + i);
		if (v < 0)
			return -1;
		b[k++] = (unsigned char)v;
		i += 2;
	}
	if (k != 16)
		return -1;
	for (int i = 0; i < 16; i++)
		out[i] = b[guid_order[i]];
	return 0;
}

int
uuid_from_guid(const unsigned char g[16], char out[37])
{
	unsigned char b[16];
	for (int i = 0; i < 16; i++)
		b[guid_order[i]] = g[i];
	snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1], b[2],
	    b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
	return 0;
}

/*
 * A SID in AD's binary layout (MS-DTYP 2.4.2.2): revision, the number of
 * sub-authorities, the 48-bit identifier authority big-endian, then each
 * sub-authority as 32 bits little-endian.
 */
size_t
sid_from_string(const char *s, size_t len, unsigned char out[SID_MAX])
{
	if (len < 4 || (s[0] != 'S' && s[0] != 's') || s[1] != '-')
		return 0;
	unsigned long long part[2 + 15];
	size_t n = 0, i = 2;
	while (i < len && n < sizeof(part) / sizeof(part[0])) {
		unsigned long long v = 0;
		size_t start = i;
		while (i < len && s[i] >= '0' && s[i] <= '9' && i - start < 16)
			v = v * 10 + (unsigned)(s[i++] - '0');
		if (i == start || (i < len && s[i] != '-'))
			return 0;
		part[n++] = v;
		if (i < len)
			i++;                    /* the '-' */
		if (i == len && s[len - 1] == '-')
			return 0;
	}
	/* revision 1, an authority, one to fifteen sub-authorities of 32 bits */
	if (i < len || n < 3 || part[0] != 1 || part[1] >= (1ULL << 48))
		return 0;
	out[0] = 1;
	out[1] = (unsigned char)(n - 2);
	for (int b = 0; b < 6; b++)
		out[2 + b] = (unsigned char)(part[1] >> (8 * (5 - b)));
	for (size_t k = 2; k < n; k++) {
		if (part[k] > 0xffffffffULL)
			return 0;
		for (int b = 0; b < 4; b++)
			out[8 + 4 * (k - 2) + (size_t)b] = (unsigned char)(part[k] >> (8 * b));
	}
	return 8 + 4 * (n - 2);
}

int
sid_to_string(const unsigned char *sid, size_t len, char *out, size_t cap)
{
	if (len < 8 || sid[0] != 1 || sid[1] == 0 || sid[1] > 15 || len != 8 + 4 * (size_t)sid[1])
		return -1;
	unsigned long long auth = 0;
	for (int b = 0; b < 6; b++)
		auth = auth << 8 | sid[2 + b];
	int o = snprintf(out, cap, "S-1-%llu", auth);
	for (size_t k = 0; k < sid[1] && o > 0 && (size_t)o < cap; k++) {
		const unsigned char *p = sid + 8 + 4 * k;
		unsigned long v = (unsigned long)p[0] | (unsigned long)p[1] << 8 | (unsigned long)p[2] << 16 |
		    (unsigned long)p[3] << 24;
		o += snprintf(out + o, cap - (size_t)o, "-%lu", v);
	}
	return o > 0 && (size_t)o < cap ? o : -1;
}

/* ---- filters ----------------------------------------------------------------- */

static struct fnode *
mk_false(struct arena *a)
{
	return fnode_new(a, F_FALSE);
}

static struct fnode *
mk_class(struct arena *a, const char *cls)
{
	return fnode_eq(a, "objectClass", cls, strlen(cls));
}

static struct fnode *
mk_locked(struct arena *a, const char *src)
{
	return fnode_eq(a, src, "TRUE", 4);
}

/* (&(objectClass=cls)(src=TRUE)), or with `locked` 0 (&(objectClass=cls)(!(src=TRUE))). */
static struct fnode *
mk_user_lock(struct arena *a, const char *cls, const char *src, int locked)
{
	struct fnode *c = mk_class(a, cls), *l = mk_locked(a, src);
	if (c == NULL || l == NULL || (!locked && (l = fnode_not(a, l)) == NULL))
		return NULL;
	c->next = l;
	return fnode_list(a, F_AND, c);
}

/* Keeps f's sibling link when replacing it. */
static struct fnode *
replace(struct fnode *old, struct fnode *n)
{
	if (n != NULL)
		n->next = old->next;
	return n;
}

static long
parse_long(const struct berval *v, int *ok)
{
	char buf[32];
	*ok = 0;
	if (v->bv_len == 0 || v->bv_len >= sizeof(buf))
		return 0;
	memcpy(buf, v->bv_val, v->bv_len);
	buf[v->bv_len] = '\0';
	char *end;
	long l = strtol(buf, &end, 10);
	*ok = *end == '\0';
	return l;
}

/*
 * userAccountControl from an account-lock attribute: aldproxy computes
 * 512 (normal account) or 514 (normal + ACCOUNTDISABLE), so tests on it
 * become tests on the lock and the user class.
 */
static struct fnode *
rewrite_uac(const struct profile *p, struct arena *a, const struct vattr *v, struct fnode *f)
{
	const char *cls = v->when_class ? v->when_class : p->user_class;
	int ok;
	if (f->kind == F_PRESENT)
		return mk_class(a, cls);
	if (f->kind == F_EXT && f->rule.bv_len) {
		long bits = parse_long(&f->value, &ok);
		if (!ok)
			return mk_false(a);
		int and_rule = attr_eq(&f->rule, AD_RULE_AND);
		int or_rule = attr_eq(&f->rule, AD_RULE_OR);
		if (!and_rule && !or_rule)
			return mk_false(a);
		/* the computed value has bit 512 always, bit 2 when locked */
		long other = bits & ~(2L | 512L);
		if (and_rule && other)
			return mk_false(a);
		if (!and_rule && (bits & 512))
			return mk_class(a, cls);
		if (bits & 2)
			return mk_user_lock(a, cls, v->source, 1);
		return and_rule ? mk_class(a, cls) : mk_false(a);
	}
	if (f->kind == F_EQ) {
		long val = parse_long(&f->value, &ok);
		if (ok && (val == 514 || val == 512))
			return mk_user_lock(a, cls, v->source, val == 514);
		return mk_false(a);
	}
	return mk_false(a);
}

/* The first RDN value of a DN-looking value ("CN=Person,CN=Schema,..." → "Person"). */
static void
first_rdn_value(const char *v, size_t len, const char **out, size_t *olen)
{
	const char *eq = memchr(v, '=', len);
	const char *comma = memchr(v, ',', len);
	if (eq != NULL && (comma == NULL || eq < comma)) {
		const char *s = eq + 1;
		const char *e = comma ? comma : v + len;
		*out = s;
		*olen = (size_t)(e - s);
	} else {
		*out = v;
		*olen = len;
	}
}

static struct fnode *
rewrite_category(const struct vattr *v, struct arena *a, struct fnode *f)
{
	if (f->kind == F_PRESENT) {
		struct fnode *first = NULL, **tail = &first;
		for (size_t i = 0; i < v->ncases; i++) {
			struct fnode *c = mk_class(a, v->cases[i].real_class);
			if (c == NULL)
				return NULL;
			*tail = c;
			tail = &c->next;
		}
		return first ? fnode_list(a, F_OR, first) : mk_false(a);
	}
	if (f->kind != F_EQ)
		return mk_false(a);
	const char *fv;
	size_t fl;
	first_rdn_value(f->value.bv_val, f->value.bv_len, &fv, &fl);
	for (size_t i = 0; i < v->ncases; i++) {
		const struct vattr_case *c = &v->cases[i];
		const char *cv;
		size_t cl;
		first_rdn_value(c->value, strlen(c->value), &cv, &cl);
		if ((cl == fl && strncasecmp(cv, fv, fl) == 0) ||
		    (strlen(c->real_class) == fl && strncasecmp(c->real_class, fv, fl) == 0))
			return mk_class(a, c->real_class);
	}
	return mk_false(a);
}

/* uid=<value escaped as RFC 4514 asks>,<the profile's first user base>: the user a memberUid names.  Length or -1. */
static int
member_uid_dn(const struct profile *p, const char *uid, size_t len, char *out, size_t cap)
{
	if (p->nreal_user_bases == 0 || len == 0 || cap < 8)
		return -1;
	memcpy(out, "uid=", 4);
	size_t o = 4;
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)uid[i];
		if (o + 4 >= cap)
			return -1;
		if (ch < 0x20 || ch == 0x7f)
			o += (size_t)snprintf(out + o, cap - o, "\\%02x", ch);
		else {
			if (strchr(",+\"\\<>;=", ch) != NULL || (i == 0 && (ch == '#' || ch == ' ')) ||
			    (i == len - 1 && ch == ' '))
				out[o++] = '\\';
			out[o++] = (char)ch;
		}
	}
	int n = snprintf(out + o, cap - o, ",%s", p->real_user_bases[0]);
	return n < 0 || (size_t)n >= cap - o ? -1 : (int)(o + (size_t)n);
}

/* The uid of a user DN under one of the profile's user bases (uid=X,<base>), unescaped, into out; length or -1. */
static int
uid_of_member(const struct profile *p, const char *dn, size_t len, char *out, size_t cap)
{
	char nd[DN_MAX];
	int nl = dn_normalize(dn, len, nd, sizeof(nd));
	if (nl < 4 || strncmp(nd, "uid=", 4) != 0)
		return -1;
	const char *comma = NULL;
	for (int i = 4; i < nl; i++) {
		if (nd[i] == '\\') {
			i++;
			continue;
		}
		if (nd[i] == ',') {
			comma = nd + i;
			break;
		}
	}
	if (comma == NULL)
		return -1;
	size_t rest = (size_t)(nl - (comma + 1 - nd));
	int under = 0;
	for (size_t b = 0; b < p->nreal_user_bases && !under; b++)
		under = strlen(p->real_user_bases[b]) == rest && memcmp(comma + 1, p->real_user_bases[b], rest) == 0;
	if (!under)
		return -1;
	/* the value as written in the original DN (normalization lower-cases it): same offsets */
	const char *v = dn + 4;
	size_t vl = (size_t)(comma - nd) - 4, o = 0;
	if (len < 4 + vl)
		return -1;
	for (size_t i = 0; i < vl; i++) {
		char ch = v[i];
		if (ch == '\\' && i + 1 < vl) {
			int h = i + 2 < vl ? hex2(v + i + 1) : -1;
			if (h >= 0) {
				ch = (char)h;
				i += 2;
			} else {
				ch = v[++i];
			}
		}
		if (o + 1 >= cap)
			return -1;
		out[o++] = ch;
	}
	out[o] = '\0';
	return (int)o;
}

/* (member:1.2.840.113556.1.4.1941:=DN), member by its real name: "the groups of DN, nested ones included". */
static int
is_chain_member(const struct profile *p, const struct fnode *f)
{
	if (f->kind != F_EXT || f->rule.bv_len == 0 || !attr_eq(&f->rule, AD_RULE_CHAIN) || f->attr.bv_len == 0)
		return 0;
	const char *real = real_of(p, &f->attr);
	return real != NULL ? strcasecmp(real, "member") == 0 : name_is(&f->attr, "member");
}

/* f (an equality on member, its value a real DN) widened to the groups that hold one of the user's groups. */
static struct fnode *
chain_widen(const struct profile *p, struct arena *a, struct fnode *f, rewrite_groups_fn groups)
{
	char nd[DN_MAX];
	const char *const *g;
	size_t n;
	int nl = dn_normalize(f->value.bv_val, f->value.bv_len, nd, sizeof(nd));
	if (nl < 0 || groups == NULL || !groups(nd, (size_t)nl, &g, &n) || n == 0)
		return f;       /* not known (explain) or in no group: its direct groups, if any */
	/* a new chain: f->next is its sibling in the parent's list (replace() keeps it) */
	struct fnode *direct = fnode_eq(a, "member", f->value.bv_val, f->value.bv_len);
	if (direct == NULL)
		return NULL;
	struct fnode **tail = &direct->next;
	for (size_t i = 0; i < n; i++) {
		/* groups the profile hides are left out of the chain as they are out of memberOf */
		if (p->memberof_groups_only) {
			char gd[DN_MAX];
			int gl = dn_normalize(g[i], strlen(g[i]), gd, sizeof(gd));
			if (gl < 0 || !dn_is_under(gd, (size_t)gl, p->groups_base_norm, p->groups_base_len))
				continue;
		}
		struct fnode *m = fnode_eq(a, "member", g[i], strlen(g[i]));
		if (m == NULL)
			return NULL;
		*tail = m;
		tail = &m->next;
	}
	return fnode_list(a, F_OR, direct);
}

int
rewrite_chain_users(const struct profile *p, const struct fnode *f, int (*fn)(const char *ndn, size_t len, void *arg),
    void *arg)
{
	if (f->kind == F_AND || f->kind == F_OR || f->kind == F_NOT) {
		for (const struct fnode *c = f->child; c != NULL; c = c->next) {
			int rc = rewrite_chain_users(p, c, fn, arg);
			if (rc != 0)
				return rc;
		}
		return 0;
	}
	char real[DN_MAX], nd[DN_MAX];
	int rl;
	const struct vattr *v = f->kind == F_EQ && f->attr.bv_len ? find_vattr(p, &f->attr) : NULL;
	if (v != NULL && v->kind == VA_MEMBER_UID)
		rl = member_uid_dn(p, f->value.bv_val, f->value.bv_len, real, sizeof(real));
	else if (is_chain_member(p, f))
		rl = rewrite_dn_in(p, f->value.bv_val, f->value.bv_len, real, sizeof(real));
	else
		return 0;
	int nl = rl < 0 ? -1 : dn_normalize(real, (size_t)rl, nd, sizeof(nd));
	return nl < 0 ? 0 : fn(nd, (size_t)nl, arg);
}

static struct fnode *
rewrite_leaf(const struct profile *p, struct arena *a, struct fnode *f, rewrite_groups_fn groups)
{
	const struct vattr *v = f->attr.bv_len ? find_vattr(p, &f->attr) : NULL;
	if (v != NULL) {
		switch (v->kind) {
		case VA_GUID:
			if (f->kind == F_PRESENT)
				return fnode_present(a, v->source);
			if (f->kind == F_EQ && f->value.bv_len == 16) {
				char uuid[37];
				uuid_from_guid((const unsigned char *)f->value.bv_val, uuid);
				return fnode_eq(a, v->source, uuid, 36);
			}
			if (f->kind == F_EQ && f->value.bv_len == 36)       /* already a UUID string */
				return fnode_eq(a, v->source, f->value.bv_val, 36);
			return mk_false(a);
		case VA_UAC:
			return rewrite_uac(p, a, v, f);
		case VA_MEMBER_UID: {
			/* (memberUid=alice): every group alice is in, nested ones included (her memberOf) */
			if (f->kind == F_PRESENT)
				return fnode_present(a, v->source);
			char dn[DN_MAX];
			int n = f->kind == F_EQ ? member_uid_dn(p, f->value.bv_val, f->value.bv_len, dn, sizeof(dn)) : -1;
			struct fnode *m = n < 0 ? NULL : fnode_eq(a, v->source, dn, (size_t)n);
			if (n < 0)
				return mk_false(a);
			if (m == NULL)
				return NULL;
			if (p->nvisible_groups > 0 && !policy_dn_value_visible(p, dn, (size_t)n))
				return mk_false(a);
			return chain_widen(p, a, m, groups);
		}
		case VA_SID: {
			/* (objectSid=<binary>) or AD's string form (objectSid=S-1-5-21-...) */
			if (f->kind == F_PRESENT)
				return fnode_present(a, v->source);
			unsigned char sid[SID_MAX];
			char str[SID_STR_MAX];
			size_t sl = f->kind == F_EQ ? sid_from_string(f->value.bv_val, f->value.bv_len, sid) : 0;
			const unsigned char *bin = sl ? sid : (const unsigned char *)f->value.bv_val;
			int n = f->kind != F_EQ ? -1 : sid_to_string(bin, sl ? sl : f->value.bv_len, str, sizeof(str));
			return n < 0 ? mk_false(a) : fnode_eq(a, v->source, str, (size_t)n);
		}
		case VA_DN:
			if (f->kind == F_PRESENT)
				return fnode_new(a, F_TRUE);
			if (f->kind == F_EQ) {
				char real[DN_MAX];
				int n = rewrite_dn_in(p, f->value.bv_val, f->value.bv_len, real, sizeof(real));
				return n < 0 ? mk_false(a) : fnode_eq(a, "entryDN", real, (size_t)n);
			}
			return mk_false(a);
		case VA_CATEGORY:
			return rewrite_category(v, a, f);
		}
	}
	/* AD's in-chain rule: FreeIPA's memberOf is already transitive; on member, the user's memberOf widens it */
	int chain = is_chain_member(p, f);
	if (f->kind == F_EXT && f->rule.bv_len && attr_eq(&f->rule, AD_RULE_CHAIN) && f->attr.bv_len) {
		f->kind = F_EQ;
		f->rule.bv_len = 0;
		f->dnattrs = 0;
	}
	const char *real = real_of(p, &f->attr);
	if (real != NULL && arena_bv(a, &f->attr, real, strlen(real)) < 0)
		return NULL;
	if (f->kind == F_EQ && name_is(&f->attr, "objectClass"))
		for (size_t i = 0; i < p->noc_maps; i++)
			if (f->value.bv_len == strlen(p->oc_maps[i].virt) &&
			    strncasecmp(f->value.bv_val, p->oc_maps[i].virt, f->value.bv_len) == 0) {
				if (arena_bv(a, &f->value, p->oc_maps[i].real, strlen(p->oc_maps[i].real)) < 0)
					return NULL;
				break;
			}
	if ((f->kind == F_EQ || f->kind == F_GE || f->kind == F_LE) && is_dn_attr(p, &f->attr)) {
		char real_dn[DN_MAX];
		int n = rewrite_dn_in(p, f->value.bv_val, f->value.bv_len, real_dn, sizeof(real_dn));
		if (n >= 0 && arena_bv(a, &f->value, real_dn, (size_t)n) < 0)
			return NULL;
		/* memberOf values the profile hides (roles, HBAC and sudo rules) cannot be tested either */
		if (f->kind == F_EQ && p->memberof_groups_only && name_is(&f->attr, "memberOf")) {
			char nd[DN_MAX];
			int nl = dn_normalize(f->value.bv_val, f->value.bv_len, nd, sizeof(nd));
			if (nl < 0 || !dn_is_under(nd, (size_t)nl, p->groups_base_norm, p->groups_base_len) ||
			    (size_t)nl == p->groups_base_len)
				return mk_false(a);
		}
		/* (member=DN) of an entry the profile does not see matches nothing, as if it did not exist */
		if (f->kind == F_EQ && p->nvisible_groups > 0 && !policy_dn_value_visible(p, f->value.bv_val, f->value.bv_len))
			return mk_false(a);
		if (chain)
			return chain_widen(p, a, f, groups);
	}
	if (f->kind == F_EQ && p->nvisible_groups > 0 && name_is(&f->attr, "memberUid") &&
	    !policy_uid_visible(p, f->value.bv_val, f->value.bv_len))
		return mk_false(a);
	return f;
}

static struct fnode *
walk(const struct profile *p, struct arena *a, struct fnode *f, rewrite_groups_fn groups)
{
	switch (f->kind) {
	case F_AND:
	case F_OR:
	case F_NOT: {
		struct fnode **link = &f->child;
		while (*link != NULL) {
			struct fnode *n = replace(*link, walk(p, a, *link, groups));
			if (n == NULL)
				return NULL;
			*link = n;
			link = &n->next;
		}
		return f;
	}
	case F_TRUE:
	case F_FALSE:
		return f;
	default:
		return rewrite_leaf(p, a, f, groups);
	}
}

struct fnode *
rewrite_filter(const struct profile *p, struct arena *a, struct fnode *f, int visibility, rewrite_groups_fn groups)
{
	struct fnode *r = walk(p, a, f, groups);
	if (r == NULL || !visibility || p->nvisible_groups == 0)
		return r;
	/* only members of the visible groups exist for this product (non-people stay visible) */
	struct fnode *alt = fnode_not(a, mk_class(a, p->user_class)), **tail;
	if (alt == NULL)
		return NULL;
	tail = &alt->next;
	for (size_t i = 0; i < p->nvisible_groups; i++) {
		struct fnode *m = fnode_eq(a, "memberOf", p->visible_groups[i], strlen(p->visible_groups[i]));
		if (m == NULL)
			return NULL;
		*tail = m;
		tail = &m->next;
	}
	struct fnode *vis = fnode_list(a, F_OR, alt);
	if (vis == NULL)
		return NULL;
	r->next = vis;
	return fnode_list(a, F_AND, r);
}

/* ---- attribute lists ------------------------------------------------------------ */

struct list {
	struct berval v[REQ_MAX_ATTRS + 64];
	size_t n;
};

static int
list_has(const struct list *l, const char *s, size_t n)
{
	for (size_t i = 0; i < l->n; i++)
		if (l->v[i].bv_len == n && strncasecmp(l->v[i].bv_val, s, n) == 0)
			return 1;
	return 0;
}

static void
list_add(struct list *l, const char *s, size_t n)
{
	if (!list_has(l, s, n) && l->n < sizeof(l->v) / sizeof(l->v[0])) {
		l->v[l->n].bv_val = (char *)s;
		l->v[l->n].bv_len = n;
		l->n++;
	}
}

static void
add_sources(const struct profile *p, const struct berval *name, struct list *real)
{
	const struct vattr *v = find_vattr(p, name);
	if (v != NULL) {
		if (v->source)
			list_add(real, v->source, strlen(v->source));
		if (v->kind == VA_UAC || v->kind == VA_CATEGORY || v->kind == VA_MEMBER_UID)
			list_add(real, "objectClass", 11);
		return;
	}
	for (size_t i = 0; i < p->ndefaults; i++) {
		const struct default_attr *d = &p->defaults[i];
		if (!name_is(name, d->name))
			continue;
		list_add(real, "objectClass", 11);
		for (const char *s = d->tmpl; (s = strchr(s, '{')) != NULL; s++) {
			const char *e = strchr(s, '}');
			if (e != NULL)
				list_add(real, s + 1, (size_t)(e - s - 1));
		}
	}
}

size_t
rewrite_attrs(const struct profile *p, const struct berval *attrs, size_t nattrs, int typesonly, unsigned char *out,
    size_t cap, struct want **wantp)
{
	struct list asked = { .n = 0 }, real = { .n = 0 };
	int all_user = nattrs == 0, all_oper = 0;
	*wantp = NULL;
	for (size_t i = 0; i < nattrs; i++) {
		const struct berval *a = &attrs[i];
		if (a->bv_len == 1 && a->bv_val[0] == '*')
			all_user = 1;
		else if (a->bv_len == 1 && a->bv_val[0] == '+')
			all_oper = 1;
		else if (a->bv_len == 3 && memcmp(a->bv_val, "1.1", 3) == 0)
			;
		else if (policy_attr_allowed(p, a->bv_val, a->bv_len))
			list_add(&asked, a->bv_val, a->bv_len);
	}
	if (all_user && !p->all_attributes) {
		/* '*' means the allowlist's user attributes; its operational ones come with '+' or by name */
		for (size_t i = 0; i < p->nattributes; i++)
			if (all_oper || !policy_attr_operational(p->attributes[i], strlen(p->attributes[i])))
				list_add(&asked, p->attributes[i], strlen(p->attributes[i]));
		list_add(&asked, "objectClass", 11);
	}
	if (all_user && p->all_attributes)
		list_add(&real, "*", 1);
	if (all_oper && p->all_attributes)
		list_add(&real, "+", 1);
	for (size_t i = 0; i < asked.n; i++) {
		const struct berval *a = &asked.v[i];
		const char *r = real_of(p, a);
		if (find_vattr(p, a) == NULL)
			list_add(&real, r ? r : a->bv_val, r ? strlen(r) : a->bv_len);
		add_sources(p, a, &real);
	}
	if (all_user && p->all_attributes) {
		for (size_t i = 0; i < p->nvattrs; i++) {
			struct berval n = { strlen(p->vattrs[i].name), p->vattrs[i].name };
			add_sources(p, &n, &real);
		}
		for (size_t i = 0; i < p->ndefaults; i++) {
			struct berval n = { strlen(p->defaults[i].name), p->defaults[i].name };
			add_sources(p, &n, &real);
		}
	}
	/* every entry's memberOf, to decide its visibility (rewrite_entry()) */
	if (p->nvisible_groups > 0)
		list_add(&real, "memberOf", 8);
	if (real.n == 0)
		list_add(&real, "1.1", 3);

	/* the client's view, kept with the op */
	size_t bytes = sizeof(struct want) + (asked.n + real.n) * sizeof(struct berval);
	for (size_t i = 0; i < asked.n; i++)
		bytes += asked.v[i].bv_len + 1;
	for (size_t i = 0; i < real.n; i++)
		bytes += real.v[i].bv_len + 1;
	struct want *w = calloc(1, bytes);
	if (w == NULL)
		return 0;
	w->all_user = all_user;
	w->all_oper = all_oper;
	w->typesonly = typesonly;
	w->names = (struct berval *)(w + 1);
	w->extra = w->names + asked.n;
	char *s = (char *)(w->extra + real.n);
	for (size_t i = 0; i < asked.n; i++) {
		memcpy(s, asked.v[i].bv_val, asked.v[i].bv_len);
		w->names[w->n].bv_val = s;
		w->names[w->n++].bv_len = asked.v[i].bv_len;
		s += asked.v[i].bv_len + 1;
	}
	/*
	 * extras: with '*' every user attribute comes back anyway; operational
	 * ones added only to compute others (the lock flag) stay hidden unless
	 * asked for by name.  Without '*' only named attributes are returned.
	 */
	static const char *const operational[] = { "nsAccountLock", "entryDN", "entryUUID", "nsUniqueId",
		"createTimestamp", "modifyTimestamp", NULL };
	for (size_t i = 0; all_user && i < real.n; i++) {
		const struct berval *r = &real.v[i];
		int op = 0;
		for (const char *const *o = operational; *o; o++)
			op |= attr_eq(r, *o);
		if (!op || list_has(&asked, r->bv_val, r->bv_len))
			continue;
		memcpy(s, r->bv_val, r->bv_len);
		w->extra[w->nextra].bv_val = s;
		w->extra[w->nextra++].bv_len = r->bv_len;
		s += r->bv_len + 1;
	}

	/* encode the real list */
	size_t len = pdu_attr_selection(out, cap, real.v, real.n);
	if (len == 0) {
		free(w);
		return 0;
	}
	*wantp = w;
	return len;
}

/* ---- entries ---------------------------------------------------------------- */

struct eattr {
	struct berval name;
	struct berval *vals;
	size_t n;
};

static const struct eattr *
entry_get(const struct eattr *e, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (name_is(&e[i].name, name))
			return &e[i];
	return NULL;
}

static int
has_class(const struct eattr *e, size_t n, const char *cls)
{
	const struct eattr *oc = entry_get(e, n, "objectClass");
	for (size_t i = 0; oc != NULL && i < oc->n; i++)
		if (oc->vals[i].bv_len == strlen(cls) && strncasecmp(oc->vals[i].bv_val, cls, oc->vals[i].bv_len) == 0)
			return 1;
	return 0;
}

static int
is_extra(const struct want *w, const struct berval *name)
{
	for (size_t i = 0; i < w->nextra; i++)
		if (name->bv_len == w->extra[i].bv_len && strncasecmp(name->bv_val, w->extra[i].bv_val, name->bv_len) == 0)
			return 1;
	return 0;
}

/* Whether the client gets attribute `name` (its own name for it): named, or "*" (operational ones with "+"). */
static int
wanted(const struct want *w, const char *name, size_t len)
{
	struct berval b = { len, (char *)name };
	for (size_t i = 0; i < w->n; i++)
		if (w->names[i].bv_len == len && strncasecmp(w->names[i].bv_val, name, len) == 0)
			return 1;
	return w->all_user && !is_extra(w, &b) && (w->all_oper || !policy_attr_operational(name, len));
}

/* Whether the client named the attribute with options ("mail;binary"). */
static int
asked_with_options(const struct want *w, const char *name, size_t len)
{
	for (size_t i = 0; i < w->n; i++)
		if (w->names[i].bv_len > len && w->names[i].bv_val[len] == ';' &&
		    strncasecmp(w->names[i].bv_val, name, len) == 0)
			return 1;
	return 0;
}

/* Expands {attr} with the entry's first values and {suffix} with the virtual suffix. */
static int
expand(const struct profile *p, const char *tmpl, const struct eattr *e, size_t n, struct arena *a,
    struct berval *out)
{
	char buf[1024];
	size_t o = 0;
	for (const char *s = tmpl; *s; s++) {
		if (*s != '{') {
			if (o + 1 >= sizeof(buf))
				return -1;
			buf[o++] = *s;
			continue;
		}
		const char *end = strchr(s, '}');
		if (end == NULL)
			return -1;
		char key[64];
		size_t kl = (size_t)(end - s - 1);
		if (kl == 0 || kl >= sizeof(key))
			return -1;
		memcpy(key, s + 1, kl);
		key[kl] = '\0';
		const char *val;
		size_t vl;
		if (strcmp(key, "suffix") == 0) {
			val = p->virtual_suffix ? p->virtual_suffix : p->search_base;
			vl = strlen(val);
		} else {
			const struct eattr *src = entry_get(e, n, key);
			if (src == NULL || src->n == 0)
				return -1;      /* nothing to build the value from */
			val = src->vals[0].bv_val;
			vl = src->vals[0].bv_len;
		}
		if (o + vl >= sizeof(buf))
			return -1;
		memcpy(buf + o, val, vl);
		o += vl;
		s = end;
	}
	return arena_bv(a, out, buf, o) < 0 ? -2 : 0;   /* -2: out of scratch, -1: nothing to build from */
}

static int
emit(struct pdu_battr *o, size_t *no, const char *name, size_t nlen, struct berval *vals, size_t n)
{
	if (n == 0)
		return 0;       /* every value was dropped (memberOf cleaning): no attribute, RFC 4511 4.1.7 */
	if (*no >= ENTRY_MAX_ATTRS)
		return -1;
	for (size_t i = 0; i < *no; i++)
		if (o[i].name.bv_len == nlen && strncasecmp(o[i].name.bv_val, name, nlen) == 0)
			return 0;       /* already there */
	o[*no].name.bv_val = (char *)name;
	o[*no].name.bv_len = nlen;
	o[*no].vals = vals;
	o[*no].n = n;
	(*no)++;
	return 0;
}

static struct berval *
one_value(struct arena *a, const void *v, size_t len)
{
	struct berval *bv = arena_alloc(a, sizeof(*bv));
	if (bv == NULL || arena_bv(a, bv, v, len) < 0)
		return NULL;
	return bv;
}

/* Values of a real attribute as the client sees them (DNs mapped, memberOf cleaned, classes added). */
static struct berval *
client_values(const struct profile *p, struct arena *a, const struct eattr *e, size_t *n)
{
	int dnv = is_dn_attr(p, &e->name);
	int memberof = name_is(&e->name, "memberOf");
	int oc = name_is(&e->name, "objectClass");
	int uids = p->nvisible_groups > 0 && name_is(&e->name, "memberUid");
	if (!dnv && !oc && !uids) {
		*n = e->n;
		return e->vals;
	}
	struct berval *out = arena_alloc(a, (e->n + p->noc_maps + 1) * sizeof(*out));
	if (out == NULL)
		return NULL;
	size_t k = 0;
	for (size_t i = 0; i < e->n; i++) {
		if (oc) {
			out[k++] = e->vals[i];
			continue;
		}
		/* values naming entries the profile does not see are not shown (visset.h) */
		if (uids) {
			if (policy_uid_visible(p, e->vals[i].bv_val, e->vals[i].bv_len))
				out[k++] = e->vals[i];
			continue;
		}
		if (p->nvisible_groups > 0 && !policy_dn_value_visible(p, e->vals[i].bv_val, e->vals[i].bv_len))
			continue;
		if (memberof && p->memberof_groups_only) {
			char nd[DN_MAX];
			int nl = dn_normalize(e->vals[i].bv_val, e->vals[i].bv_len, nd, sizeof(nd));
			if (nl < 0 || !dn_is_under(nd, (size_t)nl, p->groups_base_norm, p->groups_base_len) ||
			    (size_t)nl == p->groups_base_len)
				continue;
		}
		char vdn[DN_MAX];
		int vl = rewrite_dn_out(p, e->vals[i].bv_val, e->vals[i].bv_len, vdn, sizeof(vdn));
		if (vl < 0)
			out[k++] = e->vals[i];
		else if (arena_bv(a, &out[k++], vdn, (size_t)vl) < 0)
			return NULL;
	}
	if (oc)
		for (size_t m = 0; m < p->noc_maps; m++) {
			const struct oc_map *om = &p->oc_maps[m];
			int has_real = 0, has_virt = 0;
			for (size_t i = 0; i < e->n; i++) {
				has_real |= e->vals[i].bv_len == strlen(om->real) &&
				    strncasecmp(e->vals[i].bv_val, om->real, e->vals[i].bv_len) == 0;
				has_virt |= e->vals[i].bv_len == strlen(om->virt) &&
				    strncasecmp(e->vals[i].bv_val, om->virt, e->vals[i].bv_len) == 0;
			}
			for (size_t i = 0; i < k; i++)
				has_virt |= out[i].bv_len == strlen(om->virt) && strncasecmp(out[i].bv_val, om->virt, out[i].bv_len) == 0;
			if (has_real && !has_virt)
				out[k++] = (struct berval){ strlen(om->virt), om->virt };
		}
	*n = k;
	return out;
}

/* Two names of the same attribute type: equal, or aliases in the directory's schema. */
static int
same_type(const char *a, size_t al, const char *b, size_t bl)
{
	if (al == bl && strncasecmp(a, b, al) == 0)
		return 1;
	const char *ca = policy_attr_canonical(a, al), *cb = policy_attr_canonical(b, bl);
	return ca != NULL && cb != NULL && strcmp(ca, cb) == 0;
}

/* An entry as the directory sent it, and the one the client gets, being built (rewrite_entry()). */
struct entry_in {
	struct berval dn;
	struct eattr *e;            /* the directory's attributes */
	size_t ne;
};
struct entry_out {
	char vdn[DN_MAX];           /* the DN in the product's tree */
	int vdl;
	struct pdu_battr *o;        /* the attributes the client gets */
	size_t no;
};

/* Step 1: the entry's DN and attributes, values pointing into msg.  -1 if malformed or too large. */
static int
entry_read(struct arena *a, BerElement *ber, const unsigned char *msg, size_t len, struct entry_in *in)
{
	struct berval bv = { len, (char *)msg };
	ber_int_t id;
	ber_len_t blen;
	char *last, *vlast;
	if ((in->e = arena_alloc_bytes(a, ENTRY_MAX_ATTRS * sizeof(*in->e))) == NULL)
		return -1;
	in->ne = 0;
	ber_init2(ber, &bv, LBER_USE_DER);
	if (bscan(ber, "{i{m", &id, &in->dn) < 0 || ber_peek_tag(ber, &blen) != LBER_SEQUENCE)
		return -1;
	for (ber_tag_t t = ber_first_element(ber, &blen, &last); t != LBER_DEFAULT; t = ber_next_element(ber, &blen, last)) {
		if (in->ne == ENTRY_MAX_ATTRS)
			return -1;
		struct eattr *ea = &in->e[in->ne++];
		memset(ea, 0, sizeof(*ea));
		if (bscan(ber, "{m", &ea->name) < 0 || ber_peek_tag(ber, &blen) != LBER_SET)
			return -1;
		size_t cap = 8;
		ea->vals = arena_alloc(a, cap * sizeof(*ea->vals));
		for (ber_tag_t vt = ber_first_element(ber, &blen, &vlast); vt != LBER_DEFAULT;
		     vt = ber_next_element(ber, &blen, vlast)) {
			if (ea->vals == NULL)
				return -1;
			if (ea->n == cap) {
				struct berval *nv = arena_alloc(a, cap * 2 * sizeof(*nv));
				if (nv == NULL)
					return -1;
				memcpy(nv, ea->vals, cap * sizeof(*nv));
				ea->vals = nv;
				cap *= 2;
			}
			if (bscan(ber, "m", &ea->vals[ea->n]) < 0)
				return -1;
			ea->n++;
		}
	}
	return 0;
}

/* Step 2: visibility (groups.visible), decided on what the directory returned. */
static int
entry_visible(const struct profile *p, const struct entry_in *in)
{
	if (p->nvisible_groups == 0)
		return 1;
	char nd[DN_MAX];
	int nl = dn_normalize(in->dn.bv_val, in->dn.bv_len, nd, sizeof(nd));
	enum policy_vis v = nl < 0 ? VIS_NONE : policy_visibility(p, nd, (size_t)nl);
	const struct eattr *m = entry_get(in->e, in->ne, "memberOf");
	return v != VIS_NONE && (v != VIS_USER || (m != NULL && policy_member_visible(p, m->vals, m->n)));
}

/* Step 3: the DN in the product's tree (as received when it lies outside the mapped suffix). */
static int
entry_dn(const struct profile *p, const struct entry_in *in, struct entry_out *out)
{
	out->vdl = rewrite_dn_out(p, in->dn.bv_val, in->dn.bv_len, out->vdn, sizeof(out->vdn));
	if (out->vdl >= 0)
		return 0;
	if (in->dn.bv_len >= sizeof(out->vdn))
		return -1;
	memcpy(out->vdn, in->dn.bv_val, in->dn.bv_len);
	out->vdl = (int)in->dn.bv_len;
	return 0;
}

/* Step 4: real attributes, under their own and their virtual names; never a secret. */
static int
entry_real_attrs(const struct profile *p, const struct want *w, struct arena *a, const struct entry_in *in,
    struct entry_out *out)
{
	for (size_t i = 0; i < in->ne; i++) {
		const struct eattr *ea = &in->e[i];
		if (policy_attr_secret(ea->name.bv_val, ea->name.bv_len))
			continue;
		size_t nv;
		struct berval *vals = NULL;
		if (wanted(w, ea->name.bv_val, ea->name.bv_len) &&
		    policy_attr_allowed(p, ea->name.bv_val, ea->name.bv_len)) {
			if ((vals = client_values(p, a, ea, &nv)) == NULL)
				return -1;
			if (emit(out->o, &out->no, ea->name.bv_val, ea->name.bv_len, vals, nv) < 0)
				return -1;
		}
		for (size_t m = 0; m < p->nattr_maps; m++) {
			const struct attr_map *am = &p->attr_maps[m];
			if (!name_is(&ea->name, am->real) || !wanted(w, am->virt, strlen(am->virt)) ||
			    !policy_attr_allowed(p, am->virt, strlen(am->virt)))
				continue;
			if (vals == NULL && (vals = client_values(p, a, ea, &nv)) == NULL)
				return -1;
			if (emit(out->o, &out->no, am->virt, strlen(am->virt), vals, nv) < 0)
				return -1;
		}
	}
	return 0;
}

/* memberUid of a POSIX group: the uid of each user among its members.  -1 out of memory. */
static int
member_uids(const struct profile *p, const struct vattr *v, struct arena *a, const struct entry_in *in,
    struct berval **val, size_t *nval)
{
	const struct eattr *src = entry_get(in->e, in->ne, v->source);
	if (src == NULL || src->n == 0 || !has_class(in->e, in->ne, v->when_class ? v->when_class : "posixGroup"))
		return 0;
	struct berval *vals = arena_alloc_bytes(a, src->n * sizeof(*vals));
	if (vals == NULL)
		return -1;
	size_t n = 0;
	for (size_t i = 0; i < src->n; i++) {
		char uid[256];
		int ul = uid_of_member(p, src->vals[i].bv_val, src->vals[i].bv_len, uid, sizeof(uid));
		if (ul <= 0)
			continue;       /* a nested group, or an entry outside the user bases */
		if (arena_bv(a, &vals[n], uid, (size_t)ul) < 0)
			return -1;
		n++;
	}
	*val = n ? vals : NULL;
	*nval = n;
	return 0;
}

/* One computed attribute's values (*val NULL: the entry gets none; *nval of them).  -1 out of memory. */
static int
vattr_value(const struct profile *p, const struct vattr *v, struct arena *a, const struct entry_in *in,
    const struct entry_out *out, struct berval **val, size_t *nval)
{
	*val = NULL;
	*nval = 1;
	switch (v->kind) {
	case VA_MEMBER_UID:
		return member_uids(p, v, a, in, val, nval);
	case VA_GUID: {
		const struct eattr *src = entry_get(in->e, in->ne, v->source);
		unsigned char g[16];
		if (src != NULL && src->n > 0 && guid_from_uuid(src->vals[0].bv_val, src->vals[0].bv_len, g) == 0 &&
		    (*val = one_value(a, g, 16)) == NULL)
			return -1;
		break;
	}
	case VA_UAC:
		if (has_class(in->e, in->ne, v->when_class ? v->when_class : p->user_class)) {
			const struct eattr *src = entry_get(in->e, in->ne, v->source);
			int locked = src != NULL && src->n > 0 && src->vals[0].bv_len == 4 &&
			    strncasecmp(src->vals[0].bv_val, "TRUE", 4) == 0;
			if ((*val = one_value(a, locked ? "514" : "512", 3)) == NULL)
				return -1;
		}
		break;
	case VA_SID: {
		const struct eattr *src = entry_get(in->e, in->ne, v->source);
		unsigned char sid[SID_MAX];
		size_t sl = src != NULL && src->n > 0 ? sid_from_string(src->vals[0].bv_val, src->vals[0].bv_len, sid) : 0;
		if (sl > 0 && (*val = one_value(a, sid, sl)) == NULL)
			return -1;
		break;
	}
	case VA_DN:
		if ((*val = one_value(a, out->vdn, (size_t)out->vdl)) == NULL)
			return -1;
		break;
	case VA_CATEGORY:
		for (size_t k = 0; k < v->ncases && *val == NULL; k++)
			if (has_class(in->e, in->ne, v->cases[k].real_class)) {
				struct berval x;
				int xr = expand(p, v->cases[k].value, in->e, in->ne, a, &x);
				if (xr == -2 || (xr == 0 && (*val = one_value(a, x.bv_val, x.bv_len)) == NULL))
					return -1;
			}
		break;
	}
	return 0;
}

/* Step 5: computed attributes (objectGUID, userAccountControl, distinguishedName, objectCategory ...). */
static int
entry_computed_attrs(const struct profile *p, const struct want *w, struct arena *a, const struct entry_in *in,
    struct entry_out *out)
{
	for (size_t i = 0; i < p->nvattrs; i++) {
		const struct vattr *v = &p->vattrs[i];
		struct berval *val;
		size_t nval;
		if (!wanted(w, v->name, strlen(v->name)) || !policy_attr_allowed(p, v->name, strlen(v->name)))
			continue;
		if (vattr_value(p, v, a, in, out, &val, &nval) < 0)
			return -1;
		if (val != NULL && emit(out->o, &out->no, v->name, strlen(v->name), val, nval) < 0)
			return -1;
	}
	return 0;
}

/* Step 6: defaults for attributes the entry lacks. */
static int
entry_defaults(const struct profile *p, const struct want *w, struct arena *a, const struct entry_in *in,
    struct entry_out *out)
{
	for (size_t i = 0; i < p->ndefaults; i++) {
		const struct default_attr *d = &p->defaults[i];
		size_t dl = strlen(d->name);
		/* the entry has the attribute, under any of its names (389-ds answers with the name asked for) */
		int present = 0;
		for (size_t k = 0; k < out->no; k++)
			present |= same_type(out->o[k].name.bv_val, out->o[k].name.bv_len, d->name, dl);
		for (size_t k = 0; k < in->ne; k++)
			present |= same_type(in->e[k].name.bv_val, in->e[k].name.bv_len, d->name, dl);
		/* asked for with options, 389-ds leaves the attribute out even when the entry has it:
		 * a default would stand in for a value that exists */
		if (present || asked_with_options(w, d->name, dl) || !wanted(w, d->name, dl) ||
		    !policy_attr_allowed(p, d->name, dl) ||
		    !has_class(in->e, in->ne, d->when_class ? d->when_class : p->user_class))
			continue;
		struct berval x, *dv;
		int xr = expand(p, d->tmpl, in->e, in->ne, a, &x);
		if (xr == -2)
			return -1;
		if (xr < 0)
			continue;       /* a placeholder's attribute is missing: no default */
		if ((dv = one_value(a, x.bv_val, x.bv_len)) == NULL || emit(out->o, &out->no, d->name, dl, dv, 1) < 0)
			return -1;
	}
	return 0;
}

/* Step 7: the SearchResultEntry the client gets, to out (whole, or nothing: -1). */
static int
entry_write(const struct want *w, const struct entry_out *e, int msgid, struct evbuffer *out)
{
	return pdu_entry_bv(out, msgid, e->vdn, (size_t)e->vdl, e->o, e->no, w->typesonly);
}

int
rewrite_entry(const struct profile *p, const struct want *w, struct arena *a, BerElement *ber,
    const unsigned char *msg, size_t len, int msgid, struct evbuffer *out)
{
	struct entry_in in;
	struct entry_out *eo = arena_alloc(a, sizeof(*eo));
	if (eo == NULL || (eo->o = arena_alloc_bytes(a, ENTRY_MAX_ATTRS * sizeof(*eo->o))) == NULL ||
	    entry_read(a, ber, msg, len, &in) < 0)
		return -1;
	eo->no = 0;
	if (!entry_visible(p, &in))
		return 1;
	if (entry_dn(p, &in, eo) < 0 || entry_real_attrs(p, w, a, &in, eo) < 0 ||
	    entry_computed_attrs(p, w, a, &in, eo) < 0 || entry_defaults(p, w, a, &in, eo) < 0)
		return -1;
	return entry_write(w, eo, msgid, out) < 0 ? -2 : 0;
}

/* ---- bind names ---------------------------------------------------------------- */

int
rewrite_bind_is_login(const struct profile *p, const char *name, size_t len)
{
	if (memchr(name, '=', len) != NULL)
		return 0;
	const char *at = memchr(name, '@', len);
	const char *bs = memchr(name, '\\', len);
	if (at != NULL)
	{
		if (!p->bind_upn || at == name)
			return 0;
		size_t rl = (size_t)(name + len - at - 1);
		for (size_t i = 0; i < p->nrealms; i++)
			if (rl == strlen(p->realms[i]) && strncasecmp(at + 1, p->realms[i], rl) == 0)
				return 1;
		return 0;
	}
	if (bs != NULL)
		return p->bind_netbios && p->netbios != NULL && (size_t)(bs - name) == strlen(p->netbios) &&
		    strncasecmp(name, p->netbios, strlen(p->netbios)) == 0 && bs + 1 < name + len;
	return p->bind_login && len > 0;
}

int
rewrite_bind_name(const struct profile *p, const char *name, size_t len, char *out, size_t outlen)
{
	if (!rewrite_bind_is_login(p, name, len))
		return rewrite_dn_in(p, name, len, out, outlen);
	const char *user = name;
	size_t ulen = len;
	const char *at = memchr(name, '@', len);
	const char *bs = memchr(name, '\\', len);
	if (at != NULL)
		ulen = (size_t)(at - name);
	else if (bs != NULL) {
		user = bs + 1;
		ulen = (size_t)(name + len - user);
	}
	/* RFC 4514 escaping of the value */
	char esc[512];
	size_t o = 0;
	for (size_t i = 0; i < ulen; i++) {
		char c = user[i];
		if (o + 3 >= sizeof(esc) || c == '\0' || (unsigned char)c < 0x20)
			return -1;      /* no control characters in a login */
		if (strchr(",+\"\\<>;=#", c) != NULL || (c == ' ' && (i == 0 || i + 1 == ulen)))
			esc[o++] = '\\';
		esc[o++] = (char)tolower((unsigned char)c);
	}
	int n = snprintf(out, outlen, "%s=%.*s,%s", p->login_attr, (int)o, esc, p->login_base);
	return n < 0 || (size_t)n >= outlen ? -1 : n;
}
