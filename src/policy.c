/*
 * policy.c — allowlists: attribute descriptions, secrets, filters,
 * controls, and the directory's schema behind names.  See policy.h.
 */
#include "policy.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <ldap.h>

#include "dn.h"
#include "pdu.h"
#include "visset.h"

/* ---- attribute descriptions (RFC 4512 2.5) -------------------------------------- */

static int
keychar(unsigned char c)
{
	return isascii(c) && (isalnum(c) || c == '-');
}

int
policy_attrdesc_valid(const char *s, size_t n, size_t *typelen)
{
	size_t i = 0;
	if (n == 0 || n > POLICY_ATTR_MAX)
		return 0;
	unsigned char c0 = (unsigned char)s[0];
	if (isascii(c0) && isalpha(c0)) {
		/* keystring = leadkeychar *keychar */
		while (i < n && keychar((unsigned char)s[i]))
			i++;
	} else if (isascii(c0) && isdigit(c0)) {
		/* numericoid = number 1*( DOT number ), number = DIGIT / ( LDIGIT 1*DIGIT ) */
		int arcs = 0;
		for (;;) {
			size_t start = i;
			while (i < n && isdigit((unsigned char)s[i]))
				i++;
			if (i == start || (s[start] == '0' && i - start > 1))
				return 0;
			arcs++;
			if (i < n && s[i] == '.') {
				i++;
				continue;
			}
			break;
		}
		if (arcs < 2)
			return 0;
	} else {
		return 0;
	}
	if (typelen != NULL)
		*typelen = i;
	/* options = *( SEMI option ), option = 1*keychar */
	while (i < n) {
		if (s[i] != ';')
			return 0;
		size_t start = ++i;
		while (i < n && keychar((unsigned char)s[i]))
			i++;
		if (i == start)
			return 0;
	}
	return 1;
}

int
policy_attr_is_oid(const char *s, size_t n)
{
	return n > 0 && s[0] >= '0' && s[0] <= '9';
}

/* ---- secrets --------------------------------------------------------------------- */

/*
 * Attribute types whose values are secrets in a FreeIPA / ALD Pro, 389-ds,
 * OpenLDAP, Samba or AD directory (lower case).  docs/security.md lists
 * them for administrators.
 */
static const char *const secret_names[] = {
	/* passwords */
	"userpassword", "authpassword", "unicodepwd", "sambantpassword", "sambalmpassword",
	"sambacleartextpassword", "sambapreviouscleartextpassword", "ntuserntpassword",
	"netscapereversiblepassword", "dbcspwd", "userpkcs12", "msds-executescriptpassword",
	/* password history */
	"passwordhistory", "pwdhistory", "sambapasswordhistory", "krbpwdhistory", "ntpwdhistory", "lmpwdhistory",
	/* Kerberos */
	"krbprincipalkey", "krbmkey", "krbextradata",
	/* FreeIPA */
	"ipanthash", "ipantsecurityidentifier-secret", "ipatokenotpkey", "ipatokenhotpcounter",
	"ipatokenradiussecret", "ipasecretkey", "ipaprivatekey", "ipanttrustauthincoming", "ipanttrustauthoutgoing",
	/* 389-ds internals */
	"nssymmetrickey", "nsds5replicacredentials", "nsds5replicabootstrapcredentials", "replicacredentials",
	"nsbindpassword", "cirbindcredentials", "nsslapd-rootpw", "olcrootpw",
	/* Active Directory and PKI */
	"supplementalcredentials", "mspkiaccountcredentials", "mspkidpapimasterkeys", "privatekey",
	NULL
};

/* OIDs of secrets, for schemas that give them other names. */
static const char *const secret_oids[] = {
	"2.5.4.35",                         /* userPassword */
	"1.3.6.1.4.1.4203.1.3.4",           /* authPassword */
	"1.2.840.113556.1.4.90",            /* unicodePwd */
	"1.3.6.1.4.1.7165.2.1.24",          /* sambaLMPassword */
	"1.3.6.1.4.1.7165.2.1.25",          /* sambaNTPassword */
	"1.3.6.1.4.1.7165.2.1.54",          /* sambaPasswordHistory */
	"1.3.6.1.4.1.7165.2.1.68",          /* sambaClearTextPassword */
	"2.16.840.1.113730.3.1.96",         /* passwordHistory (389-ds) */
	"1.3.6.1.4.1.42.2.27.8.1.20",       /* pwdHistory (OpenLDAP ppolicy) */
	"2.16.840.1.113719.1.301.4.2.1",    /* krbPrincipalKey */
	"2.16.840.1.113730.3.8.11.1",       /* ipaNTHash */
	NULL
};

/* Aliases the built-in list knows without a schema: alias → type. */
static const char *const builtin_aliases[][2] = {
	{ "pwdhistory", "passwordhistory" },            /* 389-ds */
	{ NULL, NULL }
};

static int
in_list(const char *const *list, const char *s, size_t n)
{
	for (const char *const *l = list; *l != NULL; l++)
		if (strlen(*l) == n && strncasecmp(*l, s, n) == 0)
			return 1;
	return 0;
}

/* ---- the directory's schema ---------------------------------------------------------- */

struct stype {
	char *oid;
	char **names;               /* lower case; names[0] canonical */
	size_t nnames;
	char *sup;                  /* as written, lower case */
	long supi;                  /* index of the supertype, -1 */
	int secret;
	int ordering;               /* an ORDERING rule, its own or its supertype's */
	int unordered_syntax;       /* DN, OID or name-and-UID syntax (its own or its supertype's) */
	int has_syntax;
	int operational;            /* USAGE other than userApplications */
};

struct policy_schema {
	struct stype *t;
	size_t n;
	long *slots;                /* hash: name or OID → type index + 1, 0 empty */
	size_t nslots;
};

static struct policy_schema *schema_now;

static size_t
hash_ci(const char *s, size_t n)
{
	size_t h = 5381;
	for (size_t i = 0; i < n; i++)
		h = h * 33 + (size_t)tolower((unsigned char)s[i]);
	return h;
}

static long
schema_find(const struct policy_schema *sc, const char *s, size_t n)
{
	if (sc == NULL || sc->nslots == 0)
		return -1;
	for (size_t i = hash_ci(s, n) & (sc->nslots - 1);; i = (i + 1) & (sc->nslots - 1)) {
		long v = sc->slots[i];
		if (v == 0)
			return -1;
		const struct stype *t = &sc->t[v - 1];
		if (strlen(t->oid) == n && strncasecmp(t->oid, s, n) == 0)
			return v - 1;
		for (size_t k = 0; k < t->nnames; k++)
			if (strlen(t->names[k]) == n && strncasecmp(t->names[k], s, n) == 0)
				return v - 1;
	}
}

static void
schema_index(struct policy_schema *sc, const char *key, long idx)
{
	size_t n = strlen(key);
	if (schema_find(sc, key, n) >= 0)
		return;         /* the first definition wins */
	for (size_t i = hash_ci(key, n) & (sc->nslots - 1);; i = (i + 1) & (sc->nslots - 1))
		if (sc->slots[i] == 0) {
			sc->slots[i] = idx + 1;
			return;
		}
}

/* One token of an RFC 4512 description: a quoted string, a parenthesis or a bare word. */
static const char *
tok(const char *p, const char *end, const char **ts, size_t *tl)
{
	while (p < end && (*p == ' ' || *p == '\t' || *p == '\n'))
		p++;
	if (p >= end)
		return NULL;
	if (*p == '(' || *p == ')') {
		*ts = p;
		*tl = 1;
		return p + 1;
	}
	if (*p == '\'') {
		const char *q = memchr(p + 1, '\'', (size_t)(end - p - 1));
		if (q == NULL)
			return NULL;
		*ts = p + 1;
		*tl = (size_t)(q - p - 1);
		return q + 1;
	}
	const char *q = p;
	while (q < end && *q != ' ' && *q != '\t' && *q != '\n' && *q != '(' && *q != ')')
		q++;
	*ts = p;
	*tl = (size_t)(q - p);
	return q;
}

static char *
lowdup(const char *s, size_t n)
{
	char *d = malloc(n + 1);
	if (d == NULL)
		return NULL;
	for (size_t i = 0; i < n; i++)
		d[i] = (char)tolower((unsigned char)s[i]);
	d[n] = '\0';
	return d;
}

static int
tok_is(const char *ts, size_t tl, const char *w)
{
	return tl == strlen(w) && strncasecmp(ts, w, tl) == 0;
}

/* ( oid NAME ( 'a' 'b' ) ... SUP x ... ) → t; 0 or -1. */
static int
parse_type(const struct berval *v, struct stype *t)
{
	const char *p = v->bv_val, *end = v->bv_val + v->bv_len, *ts;
	size_t tl;
	memset(t, 0, sizeof(*t));
	t->supi = -1;
	if ((p = tok(p, end, &ts, &tl)) == NULL || !tok_is(ts, tl, "("))
		return -1;
	if ((p = tok(p, end, &ts, &tl)) == NULL || !policy_attrdesc_valid(ts, tl, NULL) || tl == 0)
		return -1;
	if ((t->oid = lowdup(ts, tl)) == NULL)
		return -1;
	while ((p = tok(p, end, &ts, &tl)) != NULL && !tok_is(ts, tl, ")")) {
		if (tok_is(ts, tl, "NAME")) {
			int list = 0;
			if ((p = tok(p, end, &ts, &tl)) == NULL)
				return -1;
			if (tok_is(ts, tl, "(")) {
				list = 1;
				if ((p = tok(p, end, &ts, &tl)) == NULL)
					return -1;
			}
			while (!tok_is(ts, tl, ")")) {
				char **nn = realloc(t->names, (t->nnames + 1) * sizeof(*nn));
				if (nn == NULL)
					return -1;
				t->names = nn;
				if ((t->names[t->nnames] = lowdup(ts, tl)) == NULL)
					return -1;
				t->nnames++;
				if (!list || (p = tok(p, end, &ts, &tl)) == NULL)
					break;
			}
			if (p == NULL)
				return -1;      /* NAME ( ... never closed */
		} else if (tok_is(ts, tl, "ORDERING")) {
			t->ordering = 1;
		} else if (tok_is(ts, tl, "SYNTAX")) {
			if ((p = tok(p, end, &ts, &tl)) == NULL)
				return -1;
			/* 1.3.6.1.4.1.1466.115.121.1.12 DN, .34 Name and Optional UID, .38 OID: no ordering at all */
			static const char *const dn_oid[] = { "1.3.6.1.4.1.1466.115.121.1.12", "1.3.6.1.4.1.1466.115.121.1.34",
				"1.3.6.1.4.1.1466.115.121.1.38", NULL };
			size_t sl = 0;
			while (sl < tl && ts[sl] != '{')
				sl++;
			t->has_syntax = 1;
			t->unordered_syntax = in_list(dn_oid, ts, sl);
		} else if (tok_is(ts, tl, "USAGE")) {
			if ((p = tok(p, end, &ts, &tl)) == NULL)
				return -1;
			t->operational = !tok_is(ts, tl, "userApplications");
		} else if (tok_is(ts, tl, "SUP")) {
			if ((p = tok(p, end, &ts, &tl)) == NULL)
				return -1;
			free(t->sup);
			if ((t->sup = lowdup(ts, tl)) == NULL)
				return -1;
		}
	}
	return p == NULL ? -1 : 0;
}

static void
stype_free(struct stype *t)
{
	free(t->oid);
	for (size_t k = 0; k < t->nnames; k++)
		free(t->names[k]);
	free(t->names);
	free(t->sup);
}

void
policy_schema_free(struct policy_schema *sc)
{
	if (sc == NULL)
		return;
	for (size_t i = 0; i < sc->n; i++)
		stype_free(&sc->t[i]);
	free(sc->t);
	free(sc->slots);
	free(sc);
}

size_t
policy_schema_types(const struct policy_schema *sc)
{
	return sc ? sc->n : 0;
}

struct policy_schema *
policy_schema_parse(const struct berval *values, size_t n, size_t *skipped)
{
	struct policy_schema *sc = calloc(1, sizeof(*sc));
	*skipped = 0;
	if (sc == NULL || (sc->t = calloc(n ? n : 1, sizeof(*sc->t))) == NULL)
		goto oom;
	for (size_t i = 0; i < n; i++) {
		if (parse_type(&values[i], &sc->t[sc->n]) < 0) {
			stype_free(&sc->t[sc->n]);
			(*skipped)++;
			continue;
		}
		sc->n++;
	}
	size_t keys = 0;
	for (size_t i = 0; i < sc->n; i++)
		keys += 1 + sc->t[i].nnames;
	for (sc->nslots = 64; sc->nslots < keys * 2; sc->nslots *= 2)
		;
	if ((sc->slots = calloc(sc->nslots, sizeof(*sc->slots))) == NULL)
		goto oom;
	for (size_t i = 0; i < sc->n; i++) {
		schema_index(sc, sc->t[i].oid, (long)i);
		for (size_t k = 0; k < sc->t[i].nnames; k++)
			schema_index(sc, sc->t[i].names[k], (long)i);
	}
	/* supertypes, and the secrets among the types */
	for (size_t i = 0; i < sc->n; i++) {
		struct stype *t = &sc->t[i];
		if (t->sup != NULL)
			t->supi = schema_find(sc, t->sup, strlen(t->sup));
		t->secret = in_list(secret_oids, t->oid, strlen(t->oid));
		for (size_t k = 0; k < t->nnames && !t->secret; k++)
			t->secret = in_list(secret_names, t->names[k], strlen(t->names[k]));
	}
	/* an ORDERING rule and the syntax are inherited from the supertype */
	for (size_t i = 0; i < sc->n; i++) {
		size_t depth = 0;
		for (long k = sc->t[i].supi; k >= 0 && !sc->t[i].ordering && depth < 32; k = sc->t[k].supi, depth++)
			sc->t[i].ordering = sc->t[k].ordering;
		depth = 0;
		for (long k = sc->t[i].supi; k >= 0 && !sc->t[i].has_syntax && depth < 32; k = sc->t[k].supi, depth++)
			if (sc->t[k].has_syntax) {
				sc->t[i].has_syntax = 1;
				sc->t[i].unordered_syntax = sc->t[k].unordered_syntax;
			}
	}
	/* subtypes of secrets are secrets; so are supertypes (a filter on one tests the secret) */
	for (int changed = 1; changed;) {
		changed = 0;
		for (size_t i = 0; i < sc->n; i++) {
			struct stype *t = &sc->t[i];
			size_t depth = 0;
			for (long s = t->supi; s >= 0 && depth < 32; s = sc->t[s].supi, depth++) {
				if (sc->t[s].secret && !t->secret)
					changed = t->secret = 1;
				if (t->secret && !sc->t[s].secret)
					changed = sc->t[s].secret = 1;
			}
		}
	}
	return sc;
oom:
	policy_schema_free(sc);
	return NULL;
}

struct policy_schema *
policy_schema_set(struct policy_schema *sc)
{
	struct policy_schema *old = schema_now;
	schema_now = sc;
	return old;
}

const char *
policy_attr_canonical(const char *s, size_t n)
{
	long i = schema_find(schema_now, s, n);
	if (i >= 0)
		return schema_now->t[i].nnames ? schema_now->t[i].names[0] : schema_now->t[i].oid;
	for (size_t k = 0; builtin_aliases[k][0] != NULL; k++)
		if (strlen(builtin_aliases[k][0]) == n && strncasecmp(builtin_aliases[k][0], s, n) == 0)
			return builtin_aliases[k][1];
	return NULL;
}

int
policy_attr_secret(const char *s, size_t n)
{
	size_t tl;
	if (!policy_attrdesc_valid(s, n, &tl))
		return 1;
	if (in_list(secret_names, s, tl) || in_list(secret_oids, s, tl))
		return 1;
	long i = schema_find(schema_now, s, tl);
	if (i >= 0)
		return schema_now->t[i].secret;
	const char *c = policy_attr_canonical(s, tl);
	return c != NULL && in_list(secret_names, c, strlen(c));
}

/*
 * What no provisioning write may set, whatever the profile lists
 * (docs/profiles.md "Writes"): what decides access or identity.  Exact
 * names, then prefixes (krbPrincipalName, pwdPolicySubentry,
 * passwordExpirationTime, nsRoleDN ...).
 */
static const char *const unwritable_names[] = {
	"objectclass",          /* only through writes.add.object_classes */
	"memberof", "nsaccountlock", "aci", "ipauniqueid", "ipantsecurityidentifier", "ipasshpubkey",
	"usercertificate", "memberuser", "memberhost", "memberservice",
	"memberallowcmd", "memberdenycmd", "ipasudorunas", "ipasudorunasgroup", NULL
};
static const char *const unwritable_prefixes[] = { "krb", "pwd", "password", "nsrole", "ipant", NULL };

static int
unwritable_type(const char *s, size_t tl)
{
	if (in_list(unwritable_names, s, tl))
		return 1;
	for (const char *const *pf = unwritable_prefixes; *pf != NULL; pf++)
		if (tl >= strlen(*pf) && strncasecmp(s, *pf, strlen(*pf)) == 0)
			return 1;
	return 0;
}

int
policy_attr_unwritable(const char *s, size_t n)
{
	size_t tl;
	if (!policy_attrdesc_valid(s, n, &tl) || policy_attr_is_oid(s, n) || policy_attr_secret(s, n))
		return 1;
	if (unwritable_type(s, tl))
		return 1;
	const char *c = policy_attr_canonical(s, tl);
	return c != NULL && unwritable_type(c, strlen(c));
}

/* The profile's list names the type (by any of its names). */
static int
listed(const struct profile *p, const char *s, size_t tl)
{
	if (tl == 11 && strncasecmp(s, "objectclass", 11) == 0)
		return 1;
	for (size_t i = 0; i < p->nattributes; i++)
		if (strlen(p->attributes[i]) == tl && strncasecmp(p->attributes[i], s, tl) == 0)
			return 1;
	/* an alias of a listed type: compare the types */
	const char *c = policy_attr_canonical(s, tl);
	if (c == NULL)
		return 0;
	for (size_t i = 0; i < p->nattributes; i++) {
		const char *lc = policy_attr_canonical(p->attributes[i], strlen(p->attributes[i]));
		if (lc != NULL && strcmp(lc, c) == 0)
			return 1;
	}
	return 0;
}

int
policy_attr_allowed(const struct profile *p, const char *s, size_t n)
{
	size_t tl;
	/* numeric OIDs cannot be checked against names: only names are accepted */
	if (!policy_attrdesc_valid(s, n, &tl) || policy_attr_is_oid(s, n) || policy_attr_secret(s, n))
		return 0;
	return p->all_attributes || listed(p, s, tl);
}

/* ---- filters and attribute lists ---------------------------------------------------- */

static int
refuse(int code, char *diag, size_t dlen, const char *fmt, const struct berval *attr, const char *name)
{
	char a[POLICY_ATTR_MAX + 1];
	size_t al = attr ? (attr->bv_len > POLICY_ATTR_MAX ? POLICY_ATTR_MAX : attr->bv_len) : 0;
	for (size_t i = 0; i < al; i++) {
		unsigned char c = (unsigned char)attr->bv_val[i];
		a[i] = c >= 0x20 && c < 0x7f ? (char)c : '?';
	}
	a[al] = '\0';
	snprintf(diag, dlen, fmt, a, name);
	return code;
}

/* An extensible match's rule, when given: a name or a numeric OID (RFC 4512 1.4), nothing else reaches the directory. */
static int
rule_ok(const struct fnode *f)
{
	size_t tl;
	return f->kind != F_EXT || f->rule.bv_len == 0 ||
	    (policy_attrdesc_valid(f->rule.bv_val, f->rule.bv_len, &tl) && tl == f->rule.bv_len);
}

int
policy_filter_check(const struct profile *p, const struct fnode *f, char *diag, size_t dlen)
{
	switch (f->kind) {
	case F_AND:
	case F_OR:
	case F_NOT:
		for (const struct fnode *c = f->child; c != NULL; c = c->next) {
			int code = policy_filter_check(p, c, diag, dlen);
			if (code != LDAP_SUCCESS)
				return code;
		}
		return LDAP_SUCCESS;
	case F_TRUE:
	case F_FALSE:
		return LDAP_SUCCESS;
	default:
		break;
	}
	if (!rule_ok(f))
		return refuse(LDAP_PROTOCOL_ERROR, diag, dlen,
		    "aldproxy: '%s' in the filter is not a matching rule name or OID%s", &f->rule, "");
	if (f->kind == F_EXT && f->attr.bv_len == 0)
		return refuse(LDAP_INSUFFICIENT_ACCESS, diag, dlen,
		    "aldproxy: an extensible match without an attribute type%s tests every attribute; profile %s "
		    "allows only named ones", NULL, p->name);
	if (!policy_attrdesc_valid(f->attr.bv_val, f->attr.bv_len, NULL))
		return refuse(LDAP_PROTOCOL_ERROR, diag, dlen,
		    "aldproxy: '%s' in the filter is not an attribute description (RFC 4512 2.5)%s", &f->attr, "");
	if (!policy_attr_allowed(p, f->attr.bv_val, f->attr.bv_len))
		return refuse(LDAP_INSUFFICIENT_ACCESS, diag, dlen,
		    policy_attr_is_oid(f->attr.bv_val, f->attr.bv_len) ?
		    "aldproxy: the filter tests attribute '%s', which profile %s does not allow (use attribute names, not OIDs)" :
		    "aldproxy: the filter tests attribute '%s', which profile %s does not allow", &f->attr, p->name);
	if (f->kind == F_EXT && f->dnattrs && !p->all_attributes)
		return refuse(LDAP_INSUFFICIENT_ACCESS, diag, dlen,
		    "aldproxy: the filter on '%s' asks for dnAttributes, which tests every attribute of the DN; "
		    "profile %s does not allow every attribute", &f->attr, p->name);
	return LDAP_SUCCESS;
}

int
policy_attrlist_check(const struct berval *attrs, size_t n, char *diag, size_t dlen)
{
	for (size_t i = 0; i < n; i++) {
		const struct berval *a = &attrs[i];
		/* selectors; an empty name asks for nothing (PHP's ldap_read(..., [''])) and is dropped */
		if (a->bv_len == 0 || (a->bv_len == 1 && (a->bv_val[0] == '*' || a->bv_val[0] == '+')))
			continue;
		if (policy_attrdesc_valid(a->bv_val, a->bv_len, NULL))
			continue;       /* "1.1" is a valid numericoid */
		return refuse(LDAP_PROTOCOL_ERROR, diag, dlen,
		    "aldproxy: '%s' in the attribute list is not an attribute description (RFC 4512 2.5)%s", a, "");
	}
	return LDAP_SUCCESS;
}

/* ---- controls ------------------------------------------------------------------------ */

static int
oid_is(const struct berval *oid, const char *s)
{
	return oid->bv_len == strlen(s) && memcmp(oid->bv_val, s, oid->bv_len) == 0;
}

int
policy_controls(unsigned op_tag, const struct req_controls *cs, unsigned char *verdict, char *diag, size_t dlen)
{
	for (size_t i = 0; i < cs->n; i++) {
		const struct req_control *ct = &cs->c[i];
		for (size_t k = 0; k < i; k++)
			if (ct->oid.bv_len == cs->c[k].oid.bv_len && memcmp(ct->oid.bv_val, cs->c[k].oid.bv_val, ct->oid.bv_len) == 0)
				return refuse(LDAP_PROTOCOL_ERROR, diag, dlen, "aldproxy: control %s appears twice%s", &ct->oid, "");
		verdict[i] = PCTL_DROP;
		if (op_tag == PDU_SEARCH_REQ && oid_is(&ct->oid, OID_PAGED_RESULTS)) {
			verdict[i] = PCTL_PAGED;
		} else if (op_tag == PDU_SEARCH_REQ && oid_is(&ct->oid, OID_AD_DOMAIN_SCOPE)) {
			/* AD: "do not return referrals" — aldproxy never does, so it is honoured by dropping it */
			if (ct->value.bv_val != NULL && ct->critical)
				return refuse(LDAP_PROTOCOL_ERROR, diag, dlen, "aldproxy: control %s takes no value%s", &ct->oid, "");
		} else if ((op_tag == PDU_BIND_REQ || op_tag == PDU_MODIFY_REQ || op_tag == PDU_EXT_REQ) &&
		    oid_is(&ct->oid, OID_PPOLICY)) {
			if (ct->value.bv_val != NULL)
				return refuse(LDAP_PROTOCOL_ERROR, diag, dlen, "aldproxy: control %s takes no value%s", &ct->oid, "");
			verdict[i] = PCTL_FORWARD;
		} else if (ct->critical) {
			return refuse(LDAP_UNAVAILABLE_CRITICAL_EXTENSION, diag, dlen,
			    "aldproxy: critical control %s is not allowed through the proxy for this operation%s", &ct->oid, "");
		}
	}
	return LDAP_SUCCESS;
}

int
policy_response_control(unsigned req_tag, unsigned resp_tag, const char *oid, size_t len)
{
	struct berval o = { len, (char *)oid };
	switch (resp_tag) {
	case PDU_BIND_RES:
		return oid_is(&o, OID_PPOLICY) || oid_is(&o, OID_NS_PW_EXPIRED) || oid_is(&o, OID_NS_PW_EXPIRING);
	case PDU_MODIFY_RES:
		return oid_is(&o, OID_PPOLICY);
	case PDU_EXT_RES:
		return req_tag == PDU_EXT_REQ && oid_is(&o, OID_PPOLICY);
	default:
		return 0;   /* entries, references, intermediate responses, search and compare results: none */
	}
}

/* ---- visibility ------------------------------------------------------------------------ */

enum policy_vis
policy_visibility(const struct profile *p, const char *ndn, size_t len)
{
	if (p->nvisible_groups == 0)
		return VIS_CONTAINER;
	/* a container: an ancestor of (or) a user base or the groups' container */
	if (p->groups_base_norm != NULL && dn_is_under(p->groups_base_norm, p->groups_base_len, ndn, len))
		return VIS_CONTAINER;
	for (size_t i = 0; i < p->nreal_user_bases; i++)
		if (dn_is_under(p->real_user_bases[i], strlen(p->real_user_bases[i]), ndn, len))
			return VIS_CONTAINER;
	if (p->groups_base_norm != NULL && dn_is_under(ndn, len, p->groups_base_norm, p->groups_base_len))
		return VIS_GROUP;
	for (size_t i = 0; i < p->nreal_user_bases; i++)
		if (dn_is_under(ndn, len, p->real_user_bases[i], strlen(p->real_user_bases[i])))
			return VIS_USER;
	return VIS_NONE;
}

int
policy_member_visible(const struct profile *p, const struct berval *memberof, size_t n)
{
	char nd[DN_MAX];
	for (size_t i = 0; i < n; i++) {
		int nl = dn_normalize(memberof[i].bv_val, memberof[i].bv_len, nd, sizeof(nd));
		if (nl < 0)
			continue;
		for (size_t g = 0; g < p->nvisible_groups; g++)
			if (strlen(p->visible_groups[g]) == (size_t)nl && memcmp(p->visible_groups[g], nd, (size_t)nl) == 0)
				return 1;
	}
	return 0;
}

int
policy_dn_value_visible(const struct profile *p, const char *dn, size_t len)
{
	char nd[DN_MAX];
	if (p->nvisible_groups == 0)
		return 1;
	int nl = dn_normalize(dn, len, nd, sizeof(nd));
	if (nl < 0)
		return 0;
	switch (policy_visibility(p, nd, (size_t)nl)) {
	case VIS_NONE:
		return 0;
	case VIS_USER:
		return visset_has_dn(p->vis, nd, (size_t)nl);
	default:
		return 1;
	}
}

int
policy_uid_visible(const struct profile *p, const char *uid, size_t len)
{
	return p->nvisible_groups == 0 || visset_has_uid(p->vis, uid, len);
}

/* ---- matching rules and usage ------------------------------------------------------------ */

/*
 * Types known to have no ordering rule without a schema to say so: DN and
 * OID syntaxes, where an ordering match crashes 389-ds 2.3.
 */
static const char *const unordered[] = { "objectclass", "member", "memberof", "uniquemember", "manager",
	"secretary", "owner", "seealso", "entrydn", "roleoccupant", "nsroledn", "managedby", "memberuser",
	"memberhost", "ipaallowedtoperform", NULL };

/* Operational types known without a schema (they come back only when asked by name or with "+"). */
static const char *const operational_names[] = { "createtimestamp", "modifytimestamp", "creatorsname",
	"modifiersname", "entrydn", "entryuuid", "entrycsn", "nsuniqueid", "structuralobjectclass",
	"subschemasubentry", "hassubordinates", "numsubordinates", "aci", "nsaccountlock", "nsroledn", "nsrole",
	"passwordexpirationtime", "passwordretrycount", "retrycountresettime", "accountunlocktime",
	"pwdchangedtime", "pwdfailuretime", "pwdaccountlockedtime", "ldapsubentry", "parentid", "entryid", NULL };

int
policy_attr_orderable(const char *s, size_t n)
{
	size_t tl;
	if (!policy_attrdesc_valid(s, n, &tl))
		return 0;
	/* without an ordering rule, directories order by syntax, except DN and OID values (389-ds 2.3 crashes) */
	long i = schema_find(schema_now, s, tl);
	if (i >= 0 && (schema_now->t[i].ordering || !schema_now->t[i].unordered_syntax))
		return !in_list(unordered, s, tl) || schema_now->t[i].ordering;
	if (i >= 0)
		return 0;
	return !in_list(unordered, s, tl);
}

int
policy_attr_operational(const char *s, size_t n)
{
	size_t tl;
	if (!policy_attrdesc_valid(s, n, &tl))
		return 0;
	/* a user attribute in FreeIPA / 389-ds, ALD Pro's server (OpenLDAP's overlay makes it operational) */
	if (tl == 8 && strncasecmp(s, "memberOf", 8) == 0)
		return 0;
	long i = schema_find(schema_now, s, tl);
	if (i >= 0 && schema_now->t[i].operational)
		return 1;
	return in_list(operational_names, s, tl);
}

/* Applies check to every leaf of f (AND/OR/NOT walked); the first code that is not LDAP_SUCCESS. */
static int
each_leaf(const struct fnode *f, int (*check)(const struct fnode *, char *, size_t), char *diag, size_t dlen)
{
	if (f->kind == F_AND || f->kind == F_OR || f->kind == F_NOT) {
		for (const struct fnode *c = f->child; c != NULL; c = c->next) {
			int code = each_leaf(c, check, diag, dlen);
			if (code != LDAP_SUCCESS)
				return code;
		}
		return LDAP_SUCCESS;
	}
	return f->kind == F_TRUE || f->kind == F_FALSE ? LDAP_SUCCESS : check(f, diag, dlen);
}

static int
leaf_matchable(const struct fnode *f, char *diag, size_t dlen)
{
	if ((f->kind == F_GE || f->kind == F_LE) && !policy_attr_orderable(f->attr.bv_val, f->attr.bv_len))
		return refuse(LDAP_INAPPROPRIATE_MATCHING, diag, dlen,
		    "aldproxy: attribute '%s' has no ordering rule: >= and <= do not apply to it%s", &f->attr, "");
	return LDAP_SUCCESS;
}

int
policy_filter_matchable(const struct fnode *f, char *diag, size_t dlen)
{
	return each_leaf(f, leaf_matchable, diag, dlen);
}

static int
leaf_wellformed(const struct fnode *f, char *diag, size_t dlen)
{
	if (!rule_ok(f))
		return refuse(LDAP_PROTOCOL_ERROR, diag, dlen,
		    "aldproxy: '%s' in the filter is not a matching rule name or OID%s", &f->rule, "");
	if (f->attr.bv_len == 0 || policy_attrdesc_valid(f->attr.bv_val, f->attr.bv_len, NULL))
		return LDAP_SUCCESS;
	return refuse(LDAP_PROTOCOL_ERROR, diag, dlen,
	    "aldproxy: '%s' in the filter is not an attribute description (RFC 4512 2.5)%s", &f->attr, "");
}

int
policy_filter_wellformed(const struct fnode *f, char *diag, size_t dlen)
{
	return each_leaf(f, leaf_wellformed, diag, dlen);
}
