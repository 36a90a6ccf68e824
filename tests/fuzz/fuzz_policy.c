/*
 * fuzz_policy.c — the policy gate's questions on names and controls
 * (policy.c), and the directory's schema behind names.
 *
 * Every input is first taken whole as an attribute description:
 * policy_attrdesc_valid() is compared with an independent reading of
 * RFC 4512 2.5 written here, and policy_attr_secret() /
 * policy_attr_allowed() must agree with it and among themselves (options
 * and case never turn a secret into a non-secret).
 *
 * An input starting with 0x30 is also an LDAPMessage: request_decode(),
 * then, as the handlers do, policy_controls() for its operation (and for
 * every other operation), policy_attrlist_check() on a search's attribute
 * list, the name checks on a compare's attribute.
 *
 * An input starting with '(' is also a list of attributeTypes values (one
 * per line), as the directory publishes them: policy_schema_parse(), then
 * the checks above run again with that schema in force.
 */
#include <ctype.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>
#include <ldap.h>

#include "fuzz_common.h"
#include "pdu.h"
#include "policy.h"
#include "request.h"

static BerElement *ber;
static struct request req;
static int schema_in_force;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fz_profiles();
	ber = ber_alloc_t(LBER_USE_DER);
	FZ_CHECK(ber != NULL);
	return 0;
}

/* RFC 4512 2.5, read independently of policy.c: 1 valid (with the type's length), 0 not. */
static int
ref_keychar(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-';
}

static int
ref_attrdesc(const char *s, size_t n, size_t *typelen)
{
	if (n == 0 || n > POLICY_ATTR_MAX)
		return 0;
	size_t semi = n;
	for (size_t i = 0; i < n; i++)
		if (s[i] == ';') {
			semi = i;
			break;
		}
	/* the type: keystring or numericoid */
	unsigned char c0 = (unsigned char)s[0];
	if ((c0 >= 'a' && c0 <= 'z') || (c0 >= 'A' && c0 <= 'Z')) {
		for (size_t i = 1; i < semi; i++)
			if (!ref_keychar((unsigned char)s[i]))
				return 0;
	} else if (c0 >= '0' && c0 <= '9') {
		size_t arcs = 0, start = 0;
		for (size_t i = 0; i <= semi; i++) {
			if (i < semi && s[i] >= '0' && s[i] <= '9')
				continue;
			if (i < semi && s[i] != '.')
				return 0;
			/* an arc s[start..i): non-empty, no leading zero */
			if (i == start || (s[start] == '0' && i - start > 1))
				return 0;
			arcs++;
			start = i + 1;
		}
		if (arcs < 2)
			return 0;
	} else {
		return 0;
	}
	/* options: ";" 1*keychar each */
	for (size_t i = semi; i < n;) {
		size_t start = ++i;
		while (i < n && s[i] != ';') {
			if (!ref_keychar((unsigned char)s[i]))
				return 0;
			i++;
		}
		if (i == start)
			return 0;
	}
	*typelen = semi;
	return 1;
}

static void
check_name(const char *s, size_t n)
{
	const struct fz_profiles *pr = fz_profiles();
	size_t tl = (size_t)-1, rtl = (size_t)-1;
	int valid = policy_attrdesc_valid(s, n, &tl);
	int ref = ref_attrdesc(s, n, &rtl);
	FZ_CHECK(valid == ref);
	int secret = policy_attr_secret(s, n);
	if (!valid) {
		FZ_CHECK(secret);       /* malformed descriptions count as secrets */
		FZ_CHECK(!policy_attr_allowed(pr->ad, s, n) && !policy_attr_allowed(pr->crm, s, n));
		return;
	}
	FZ_CHECK(tl == rtl && tl > 0 && tl <= n);
	/* options never matter: the type alone decides */
	FZ_CHECK(policy_attr_secret(s, tl) == secret);
	/* nor does case */
	char up[POLICY_ATTR_MAX], low[POLICY_ATTR_MAX];
	for (size_t i = 0; i < n; i++) {
		up[i] = (char)toupper((unsigned char)s[i]);
		low[i] = (char)tolower((unsigned char)s[i]);
	}
	FZ_CHECK(policy_attr_secret(up, n) == secret && policy_attr_secret(low, n) == secret);
	const struct profile *ps[] = { pr->ad, pr->vis, pr->crm };
	for (size_t i = 0; i < sizeof(ps) / sizeof(ps[0]); i++) {
		int allowed = policy_attr_allowed(ps[i], s, n);
		if (allowed)
			FZ_CHECK(!secret && !policy_attr_is_oid(s, n));
		FZ_CHECK(policy_attr_allowed(ps[i], up, n) == allowed);
		if (ps[i]->all_attributes)
			FZ_CHECK(allowed == (!secret && !policy_attr_is_oid(s, n)));
	}
	/* an alias of a secret is a secret (built-in aliases; a schema's are checked in check_schema) */
	const char *c = policy_attr_canonical(s, tl);
	if (c != NULL && policy_attr_secret(c, strlen(c)) && !policy_attr_is_oid(c, strlen(c)) && !schema_in_force)
		FZ_CHECK(secret);
}

static const unsigned ops[] = { PDU_BIND_REQ, PDU_SEARCH_REQ, PDU_MODIFY_REQ, PDU_ADD_REQ, PDU_DEL_REQ,
	PDU_MODDN_REQ, PDU_COMPARE_REQ, PDU_EXT_REQ, PDU_ABANDON_REQ, PDU_UNBIND_REQ };

static int
oid_is(const struct berval *o, const char *s)
{
	return o->bv_len == strlen(s) && memcmp(o->bv_val, s, o->bv_len) == 0;
}

static void
check_controls(unsigned op, const struct req_controls *cs)
{
	unsigned char verdict[REQ_MAX_CONTROLS];
	char diag[512] = "";
	memset(verdict, 0xee, sizeof(verdict));
	int code = policy_controls(op, cs, verdict, diag, sizeof(diag));
	if (code != LDAP_SUCCESS) {
		FZ_CHECK(code == LDAP_PROTOCOL_ERROR || code == LDAP_UNAVAILABLE_CRITICAL_EXTENSION);
		FZ_CHECK(strncmp(diag, "aldproxy: ", 10) == 0);
		return;
	}
	for (size_t i = 0; i < cs->n; i++) {
		const struct req_control *c = &cs->c[i];
		FZ_CHECK(verdict[i] == PCTL_DROP || verdict[i] == PCTL_FORWARD || verdict[i] == PCTL_PAGED);
		/* no control twice */
		for (size_t k = 0; k < i; k++)
			FZ_CHECK(!(c->oid.bv_len == cs->c[k].oid.bv_len &&
			    memcmp(c->oid.bv_val, cs->c[k].oid.bv_val, c->oid.bv_len) == 0));
		/* the allowlist of docs/security.md, "Controls" */
		if (verdict[i] == PCTL_PAGED)
			FZ_CHECK(op == PDU_SEARCH_REQ && oid_is(&c->oid, OID_PAGED_RESULTS));
		if (verdict[i] == PCTL_FORWARD)
			FZ_CHECK((op == PDU_BIND_REQ || op == PDU_MODIFY_REQ || op == PDU_EXT_REQ) &&
			    oid_is(&c->oid, OID_PPOLICY) && c->value.bv_val == NULL);
		/* a critical control is never silently dropped, but for AD's domain scope on a search */
		if (c->critical && verdict[i] == PCTL_DROP)
			FZ_CHECK(op == PDU_SEARCH_REQ && oid_is(&c->oid, OID_AD_DOMAIN_SCOPE));
	}
}

static void
check_message(const uint8_t *data, size_t size)
{
	struct pdu_head h;
	if (pdu_frame(data, size, 1 << 20, &h) != PDU_OK || h.total > size)
		return;
	unsigned char *buf = fz_dup(data, h.total);
	const char *why;
	memset(&req, 0, sizeof(req));
	if (request_decode(ber, buf, h.total, &req, &why) != 0) {
		fz_free(buf);
		return;
	}
	for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++)
		check_controls(ops[i], &req.ctrls);
	/* request_forwarded_controls() hands on exactly the FORWARD verdicts */
	char diag[512];
	if (policy_controls(req.tag, &req.ctrls, req.ctrls.verdict, diag, sizeof(diag)) == LDAP_SUCCESS) {
		struct berval fw[REQ_MAX_CONTROLS];
		size_t nf = request_forwarded_controls(&req, fw, REQ_MAX_CONTROLS), want = 0;
		for (size_t i = 0; i < req.ctrls.n; i++)
			want += req.ctrls.verdict[i] == PCTL_FORWARD;
		FZ_CHECK(nf == want);
	}
	if (req.tag == PDU_SEARCH_REQ) {
		const struct req_search *s = &req.u.search;
		int code = policy_attrlist_check(s->attrs, s->nattrs, diag, sizeof(diag));
		int ok = 1;
		for (size_t i = 0; i < s->nattrs; i++) {
			const struct berval *a = &s->attrs[i];
			size_t tl;
			int sel = a->bv_len == 0 || (a->bv_len == 1 && (a->bv_val[0] == '*' || a->bv_val[0] == '+'));
			if (!sel && !ref_attrdesc(a->bv_val, a->bv_len, &tl))
				ok = 0;
			check_name(a->bv_val, a->bv_len);
		}
		FZ_CHECK((code == LDAP_SUCCESS) == ok);
		if (code != LDAP_SUCCESS)
			FZ_CHECK(code == LDAP_PROTOCOL_ERROR);
	} else if (req.tag == PDU_COMPARE_REQ) {
		check_name(req.u.compare.attr.bv_val, req.u.compare.attr.bv_len);
	}
	fz_free(buf);
}

/* A few names whose verdicts a schema may change. */
static const char *const probes[] = { "userPassword", "pwdHistory", "passwordHistory", "cn", "uid", "mail",
	"2.5.4.35", "memberOf", "krbPrincipalKey", "ipaNTHash", "description", NULL };

static void
check_schema(const uint8_t *data, size_t size)
{
	/* one value per line, as the directory's attributeTypes values */
	struct berval vals[256];
	size_t n = 0, start = 0;
	char *copy = (char *)fz_dup(data, size);
	for (size_t i = 0; i <= size && n < 256; i++)
		if (i == size || data[i] == '\n') {
			vals[n].bv_val = copy + start;
			vals[n++].bv_len = i - start;
			start = i + 1;
		}
	size_t skipped = 0;
	struct policy_schema *sc = policy_schema_parse(vals, n, &skipped);
	FZ_CHECK(sc != NULL);
	FZ_CHECK(skipped <= n && policy_schema_types(sc) + skipped == n);
	/* a secret stays a secret whatever the directory's schema says */
	int before[sizeof(probes) / sizeof(probes[0])];
	for (size_t i = 0; probes[i] != NULL; i++)
		before[i] = policy_attr_secret(probes[i], strlen(probes[i]));
	struct policy_schema *old = policy_schema_set(sc);
	schema_in_force = 1;
	for (size_t i = 0; probes[i] != NULL; i++) {
		int now = policy_attr_secret(probes[i], strlen(probes[i]));
		if (before[i])
			FZ_CHECK(now);
		check_name(probes[i], strlen(probes[i]));
	}
	/* every name the schema defines, and the input itself, under that schema */
	for (size_t i = 0; i < n; i++) {
		/* the quoted names of the value */
		const char *q = vals[i].bv_val, *e = q + vals[i].bv_len;
		while ((q = memchr(q, '\'', (size_t)(e - q))) != NULL) {
			const char *q2 = memchr(q + 1, '\'', (size_t)(e - q - 1));
			if (q2 == NULL)
				break;
			check_name(q + 1, (size_t)(q2 - q - 1));
			q = q2 + 1;
		}
	}
	check_name((const char *)data, size);
	FZ_CHECK(policy_schema_set(old) == sc);
	schema_in_force = 0;
	policy_schema_free(sc);
	fz_free((unsigned char *)copy);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = (char *)fz_dup(data, size);
	check_name(s, size);
	fz_free((unsigned char *)s);
	if (size > 0 && data[0] == 0x30)
		check_message(data, size);
	else if (size > 0 && data[0] == '(')
		check_schema(data, size);
	return 0;
}
