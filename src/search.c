/*
 * search.c — Search and Compare: the profile's scope and attribute policy,
 * controls, the rootDSE, and forwarding to a pooled connection.
 *
 * A search is forwarded byte for byte (only the messageID changes) unless
 * the profile's attribute allowlist or the secret-attribute rule requires
 * a new attribute list; then the SearchRequest is re-encoded around the
 * original base, scope and filter bytes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <ldap.h>

#include "backend.h"
#include "chain.h"
#include "client.h"
#include "config.h"
#include "dn.h"
#include "access.h"
#include "log.h"
#include "request.h"
#include "policy.h"
#include "pdu.h"
#include "search_result.h"
#include "state.h"
#include "rewrite.h"
#include "upstream.h"
#include "visible.h"
#include "visset.h"

#define ATTRS_BUF 16384

/* What the rootDSE advertises: the controls policy_controls() lets through. */
static const char *const supported_controls[] = { OID_PAGED_RESULTS, OID_PPOLICY, NULL };

/*
 * Appends the [0] Controls of a forwarded request to parts: the controls
 * the policy let through as received, plus aldproxy's own paged-results
 * control when given.  buf (cap bytes) holds the encoding.  Returns the
 * new count, or -1 when the controls do not fit.
 */
static int
controls_parts(const struct request *r, struct evbuffer_iovec *parts, int n, unsigned char *buf, size_t cap,
    const struct berval *paged)
{
	struct berval ctls[REQ_MAX_CONTROLS + 1];
	size_t k = request_forwarded_controls(r, ctls, REQ_MAX_CONTROLS);
	if (paged != NULL)
		ctls[k++] = *paged;
	size_t len = pdu_controls(buf, cap, ctls, k);
	if (len == (size_t)-1)
		return -1;
	if (len > 0) {
		parts[n].iov_base = buf;
		parts[n++].iov_len = len;
	}
	return n;
}

/* ---- rootDSE ----------------------------------------------------------- */

static int
wanted(const struct req_search *s, const char *name, int operational)
{
	if (s->nattrs == 0)
		return 1;
	for (size_t i = 0; i < s->nattrs; i++) {
		const struct berval *a = &s->attrs[i];
		if ((a->bv_len == 1 && a->bv_val[0] == '*') || (a->bv_len == 1 && a->bv_val[0] == '+' && operational))
			return 1;
		if (a->bv_len == strlen(name) && strncasecmp(a->bv_val, name, a->bv_len) == 0)
			return 1;
	}
	return 0;
}

/*
 * The rootDSE is answered by aldproxy itself (RFC 4512 5.1): what it
 * advertises is what a client may use through the proxy, not what the
 * directory behind it supports.
 */
static const char *
naming_context(const struct profile *p)
{
	return p->virtual_suffix ? p->virtual_suffix : p->search_base;
}

static void
rootdse_send(struct client *c, struct request *r)
{
	const struct req_search *s = &r->u.search;
	const char *contexts[64];
	size_t ncontexts = 0;
	const struct profile_set *set = c->srv->profiles;
	const struct profile *p = c->profile;
	if (p != NULL)
		contexts[ncontexts++] = naming_context(p);
	else
		for (size_t i = 0; i < set->n && ncontexts < 64; i++) {
			int dup = 0;
			for (size_t k = 0; k < ncontexts; k++)
				dup |= strcasecmp(contexts[k], naming_context(set->v[i])) == 0;
			if (!dup)
				contexts[ncontexts++] = naming_context(set->v[i]);
		}
	static const char *const oc[] = { "top", "extensibleObject" };
	static const char *const versions[] = { "3" };
	static const char *const exts[] = { OID_STARTTLS, OID_WHOAMI };
	static const char *const vendor[] = { "aldproxy" };
	static const char *const level[] = { "7" };
	static const char *const no[] = { "FALSE" };
	static const char *const caps[] = { "1.2.840.113556.1.4.800", "1.2.840.113556.1.4.1670", "1.2.840.113556.1.4.1791" };
	const char *const *ctrls = supported_controls;
	size_t nctrls = 0;
	while (ctrls[nctrls] != NULL)
		nctrls++;
	char cfgnc[DN_MAX + 32], schemanc[DN_MAX + 48];
	const char *dflt[1], *cfgv[1] = { cfgnc }, *schv[1] = { schemanc };
	struct pdu_attr all[16] = {
		{ "objectClass", oc, 2 },
		{ "namingContexts", contexts, ncontexts },
		{ "supportedLDAPVersion", versions, 1 },
		{ "supportedControl", ctrls, nctrls },
		{ "supportedExtension", c->srv->tls_server ? exts : exts + 1, c->srv->tls_server ? 2 : 1 },
		{ "vendorName", vendor, 1 },
	};
	size_t nall = 6;
	if (p != NULL && p->rootdse_ad) {
		/* what AD connectors read before anything else (MS-ADTS 3.1.1.3.2) */
		dflt[0] = naming_context(p);
		snprintf(cfgnc, sizeof(cfgnc), "CN=Configuration,%s", dflt[0]);
		snprintf(schemanc, sizeof(schemanc), "CN=Schema,CN=Configuration,%s", dflt[0]);
		all[nall++] = (struct pdu_attr){ "defaultNamingContext", dflt, 1 };
		all[nall++] = (struct pdu_attr){ "rootDomainNamingContext", dflt, 1 };
		all[nall++] = (struct pdu_attr){ "configurationNamingContext", cfgv, 1 };
		all[nall++] = (struct pdu_attr){ "schemaNamingContext", schv, 1 };
		all[nall++] = (struct pdu_attr){ "supportedCapabilities", caps, 3 };
		all[nall++] = (struct pdu_attr){ "domainFunctionality", level, 1 };
		all[nall++] = (struct pdu_attr){ "forestFunctionality", level, 1 };
		all[nall++] = (struct pdu_attr){ "domainControllerFunctionality", level, 1 };
		all[nall++] = (struct pdu_attr){ "isGlobalCatalogReady", no, 1 };
	}
	struct pdu_attr out[16];
	size_t n = 0;
	for (size_t i = 0; i < nall; i++)
		if (wanted(s, all[i].name, i != 0)) {
			out[n] = all[i];
			if (s->typesonly)
				out[n].nvalues = 0;
			n++;
		}
	struct evbuffer *o = bufferevent_get_output(c->bev);
	int code = LDAP_SUCCESS, sent = pdu_entry(o, r->msgid, "", out, n) == 0;
	if (!sent)
		code = LDAP_ADMINLIMIT_EXCEEDED;        /* the rootDSE does not fit: say so, never stay silent */
	if (pdu_result(o, r->msgid, PDU_SEARCH_DONE, code, "", sent ? NULL : "aldproxy: the rootDSE is too large") < 0) {
		client_close(c, LDAP_OTHER, "out of memory for a response");
		return;
	}
	client_check_output(c);
	client_account(c, r->msgid, PDU_SEARCH_REQ, code, sent, NULL, NULL);
}

/* ---- policy ------------------------------------------------------------- */

/* 0 when base is inside the profile's subtree; else an LDAP code and diag. */
static int
check_base(struct client *c, const struct berval *base, int scope, char *diag, size_t dlen)
{
	char nb[DN_MAX];
	int nl = dn_normalize(base->bv_val, base->bv_len, nb, sizeof(nb));
	if (nl < 0) {
		snprintf(diag, dlen, "aldproxy: invalid base DN");
		return LDAP_INVALID_DN_SYNTAX;
	}
	const struct profile *p = c->profile;
	if (dn_is_under(nb, (size_t)nl, p->search_base_norm, p->search_base_len))
		return LDAP_SUCCESS;
	/* the schema may be read (clients check attribute syntaxes) */
	if (scope == LDAP_SCOPE_BASE && (strcmp(nb, "cn=subschema") == 0 || strcmp(nb, "cn=schema") == 0))
		return LDAP_SUCCESS;
	snprintf(diag, dlen, "aldproxy: '%.*s' is outside the subtree of profile %s (%s)",
	    (int)(base->bv_len > 200 ? 200 : base->bv_len), base->bv_val, p->name, p->search_base);
	return LDAP_NO_SUCH_OBJECT;
}

/*
 * Builds the attribute selection the directory gets, into out (cap bytes).
 * Returns 1 with *outlen set when the original must be replaced, 0 to keep
 * it, -1 when it does not fit, or -2 when out of memory.  (Entries are
 * checked again on the way back, see scrub_entry(): a supertype or an alias
 * can still bring a secret.)
 */
static int
allowlist_attrs(const struct profile *p, const struct req_search *s, unsigned char *out, size_t cap, size_t *outlen)
{
	int all_user = s->nattrs == 0, all_oper = 0, change = 0;
	for (size_t i = 0; i < s->nattrs; i++) {
		const struct berval *a = &s->attrs[i];
		if (a->bv_len == 1 && a->bv_val[0] == '*')
			all_user = 1;
		else if (a->bv_len == 1 && a->bv_val[0] == '+')
			all_oper = 1;
		else if (!(a->bv_len == 3 && memcmp(a->bv_val, "1.1", 3) == 0) &&
		    !policy_attr_allowed(p, a->bv_val, a->bv_len))
			change = 1;
	}
	if (p->all_attributes) {
		if (!change)
			return 0;
	} else if (!all_user && !all_oper && !change) {
		return 0;
	}
	/* a new list: the allowed names asked for, or the allowlist for '*' */
	struct berval *names = malloc((s->nattrs + p->nattributes + 2) * sizeof(*names));
	size_t n = 0;
	if (names == NULL)
		return -2;
#define ADD_ATTR(ptr, len) (names[n++] = (struct berval){ (len), (char *)(ptr) })
	for (size_t i = 0; i < s->nattrs; i++) {
		const struct berval *a = &s->attrs[i];
		if (a->bv_len == 1 && (a->bv_val[0] == '*' || a->bv_val[0] == '+')) {
			if (p->all_attributes)
				ADD_ATTR(a->bv_val, a->bv_len);
			continue;
		}
		if ((a->bv_len == 3 && memcmp(a->bv_val, "1.1", 3) == 0) || policy_attr_allowed(p, a->bv_val, a->bv_len))
			ADD_ATTR(a->bv_val, a->bv_len);
	}
	if (all_user && !p->all_attributes) {
		/* '*' means the allowlist's user attributes; its operational ones come with '+' or by name */
		ADD_ATTR("objectClass", (size_t)11);     /* always allowed, see policy_attr_allowed() */
		for (size_t i = 0; i < p->nattributes; i++)
			if (strcasecmp(p->attributes[i], "objectClass") != 0 &&
			    (all_oper || !policy_attr_operational(p->attributes[i], strlen(p->attributes[i]))))
				ADD_ATTR(p->attributes[i], strlen(p->attributes[i]));
	}
	if (n == 0)
		ADD_ATTR("1.1", (size_t)3);     /* nothing allowed was asked for: no attributes */
#undef ADD_ATTR
	size_t len = pdu_attr_selection(out, cap, names, n);
	free(names);
	if (len == 0)
		return -1;
	*outlen = len;
	return 1;
}

/* Forwards op to upstream u with the given protocolOp parts and the request's controls. */
static int
forward_ctl(struct client *c, struct request *r, struct op *op, struct upstream *u,
    struct evbuffer_iovec *parts, int nparts, const struct berval *paged)
{
	unsigned char cbuf[4096];
	struct evbuffer_iovec all[8];
	memcpy(all, parts, sizeof(*parts) * (size_t)nparts);
	int n = controls_parts(r, all, nparts, cbuf, sizeof(cbuf), paged);
	if (n < 0) {
		op_fail(op, LDAP_ADMINLIMIT_EXCEEDED, "aldproxy: the request's controls are too large");
		return 0;
	}
	if (op->tag == PDU_SEARCH_REQ && c->profile->nvisible_groups > 0) {
		/* a base the profile does not see answers like a missing one, whatever the scope */
		char real[DN_MAX];
		int rl = rewrite_dn_in(c->profile, r->u.search.base.bv_val, r->u.search.base.bv_len, real, sizeof(real));
		if (rl < 0) {
			op_fail(op, LDAP_INVALID_DN_SYNTAX, "aldproxy: invalid base DN");
			return 0;
		}
		return visible_then_send(c, op, real, (size_t)rl, u, all, n);
	}
	if (upstream_send(u, op, all, n) < 0) {
		op_fail(op, LDAP_BUSY, "aldproxy: the directory connection is saturated; retry");
		return 0;
	}
	/* with several controllers, keep the request: if this one dies before
	 * answering, the search is sent again to another (upstream_fail()) */
	if (c->srv->backend->nservers > 1 && !(op->flags & OP_PAGED) && op->held == NULL &&
	    (op->held = evbuffer_new()) != NULL)
		for (int i = 0; i < n; i++)
			if (evbuffer_add(op->held, all[i].iov_base, all[i].iov_len) < 0) {
				/* out of memory: no copy rather than a truncated one sent again */
				evbuffer_free(op->held);
				op->held = NULL;
				break;
			}
	(void)c;
	return 0;
}

static int
forward(struct client *c, struct request *r, struct op *op, struct upstream *u, struct evbuffer_iovec *parts,
    int nparts)
{
	return forward_ctl(c, r, op, u, parts, nparts, NULL);
}

/*
 * The SearchRequest in the directory's terms: base and filter from the
 * virtual tree and AD names to ALD Pro's, attributes to what must be read
 * to build the entries the client expects (*want).  The new protocolOp is
 * in the request arena.  Returns LDAP_SUCCESS or a result code with diag.
 */
static int
rewrite_search(struct client *c, struct request *r, struct fnode *f, struct berval *out, struct want **want,
    char *diag, size_t dlen)
{
	const struct profile *p = c->profile;
	struct req_search *s = &r->u.search;
	struct arena *a = &c->srv->arena;
	char base[DN_MAX];
	int bl = rewrite_dn_in(p, s->base.bv_val, s->base.bv_len, base, sizeof(base));
	if (bl < 0) {
		snprintf(diag, dlen, "aldproxy: invalid base DN");
		return LDAP_INVALID_DN_SYNTAX;
	}
	if ((f = rewrite_filter(p, a, f, 1, chain_resolve)) == NULL) {
		snprintf(diag, dlen, "aldproxy: the rewritten filter is too large");
		return LDAP_ADMINLIMIT_EXCEEDED;
	}
	int code = policy_filter_matchable(f, diag, dlen);
	if (code != LDAP_SUCCESS)
		return code;
	size_t fcap = 65536, acap = ATTRS_BUF;
	unsigned char *fb = arena_alloc_bytes(a, fcap), *ab = arena_alloc_bytes(a, acap);
	size_t fl = fb ? filter_encode(f, fb, fcap) : 0;
	size_t al = ab ? rewrite_attrs(p, s->attrs, s->nattrs, s->typesonly, ab, acap, want) : 0;
	if (fl == 0 || al == 0) {
		free(*want);
		*want = NULL;
		snprintf(diag, dlen, "aldproxy: the rewritten request is too large");
		return LDAP_ADMINLIMIT_EXCEEDED;
	}
	/* scope, deref, limits and typesOnly as received: between the base and the filter */
	const unsigned char *mid = (const unsigned char *)s->base.bv_val + s->base.bv_len;
	size_t midlen = (size_t)((const unsigned char *)s->filter.bv_val - mid);
	size_t oplen = pdu_search_op(NULL, 0, base, (size_t)bl, mid, midlen, fb, fl, ab, al);
	unsigned char *op = arena_alloc_bytes(a, oplen);
	size_t n = op != NULL ? pdu_search_op(op, oplen, base, (size_t)bl, mid, midlen, fb, fl, ab, al) : 0;
	if (n == 0) {
		free(*want);
		*want = NULL;
		snprintf(diag, dlen, "aldproxy: the rewritten request is too large");
		return LDAP_ADMINLIMIT_EXCEEDED;
	}
	/* visibility needs each entry's memberOf values: typesOnly is applied by rewrite_entry() instead */
	unsigned char *q = op + n - fl - al;    /* just after scope..typesOnly */
	if (p->nvisible_groups > 0 && midlen >= 3 && q[-3] == 0x01 && q[-2] == 0x01)
		q[-1] = 0;
	out->bv_len = n;
	out->bv_val = (char *)op;
	return LDAP_SUCCESS;
}

/*
 * Aliases are never dereferenced through the proxy: the derefAliases
 * ENUMERATED (after the base and the scope) is set to neverDerefAliases
 * in the received bytes, which are what is forwarded.  -1 when the
 * encoding is not the one request_decode() accepted.
 */
static int
deref_never(struct req_search *s, const unsigned char *end)
{
	unsigned char *p = (unsigned char *)s->base.bv_val + s->base.bv_len;
	for (int field = 0; field < 2; field++) {
		if (p + 2 > end || p[0] != 0x0a || p[1] == 0 || p[1] > 4 || p + 2 + p[1] > end)
			return -1;
		if (field == 1)
			memset(p + 2, 0, p[1]);
		p += 2 + p[1];
	}
	s->deref = LDAP_DEREF_NEVER;
	return 0;
}

/*
 * The profile's policy on a search (policy.c): controls, base, attribute
 * list, filter (decoded into the request arena as *tree).  LDAP_SUCCESS,
 * or the answer to send: a code, diag, and whether it is a refusal of the
 * profile's policy (audited) rather than a protocol error.
 */
static int
search_policy(struct client *c, struct request *r, struct fnode **tree, char *diag, size_t dlen, int *denied)
{
	const struct profile *p = c->profile;
	struct req_search *s = &r->u.search;
	int code;
	*denied = 0;
	if ((code = policy_controls(PDU_SEARCH_REQ, &r->ctrls, r->ctrls.verdict, diag, dlen)) != LDAP_SUCCESS)
		return code;
	if ((code = check_base(c, &s->base, s->scope, diag, dlen)) != LDAP_SUCCESS) {
		*denied = code == LDAP_NO_SUCH_OBJECT;
		return code;
	}
	if ((code = policy_attrlist_check(s->attrs, s->nattrs, diag, dlen)) != LDAP_SUCCESS)
		return code;
	arena_reset(&c->srv->arena);
	if (filter_decode(&c->srv->arena, &s->filter, tree) < 0) {
		snprintf(diag, dlen, "aldproxy: malformed, too deep or too large search filter");
		return LDAP_PROTOCOL_ERROR;
	}
	if ((code = policy_filter_check(p, *tree, diag, dlen)) != LDAP_SUCCESS) {
		*denied = code == LDAP_INSUFFICIENT_ACCESS;
		return code;
	}
	/* what reaches the directory unchanged must be matchable (rewritten filters: rewrite_search()) */
	if (!rewrite_active(p) && (code = policy_filter_matchable(*tree, diag, dlen)) != LDAP_SUCCESS)
		return code;
	if (deref_never(s, (const unsigned char *)r->op.bv_val + r->op.bv_len) < 0) {
		snprintf(diag, dlen, "aldproxy: malformed search request");
		return LDAP_PROTOCOL_ERROR;
	}
	return LDAP_SUCCESS;
}

/*
 * Whether a search may return much: anything but a base read, a small
 * sizeLimit, or a filter that names one value of an attribute other than
 * objectClass (uid=alice, member=DN, mail=...).  Such searches are limited
 * in number on the shared connections (limits.max_bulk_searches, and per
 * client), so a few clients streaming the whole directory — or never reading
 * it — cannot hold up everyone's logins: the small searches never wait for
 * them.  Paged searches run on their own leased connections.
 */
static int
selective(const struct fnode *f)
{
	switch (f->kind) {
	case F_EQ:
		return !attr_eq(&f->attr, "objectClass");
	case F_EXT:
		return f->attr.bv_len > 0 && !attr_eq(&f->attr, "objectClass") && !f->dnattrs;
	case F_AND:
		for (const struct fnode *k = f->child; k != NULL; k = k->next)
			if (selective(k))
				return 1;
		return 0;
	case F_OR:
		for (const struct fnode *k = f->child; k != NULL; k = k->next)
			if (!selective(k))
				return 0;
		return f->child != NULL;
	default:
		return 0;
	}
}

static int
search_is_bulk(const struct req_search *s, const struct fnode *tree)
{
	if (s->scope == LDAP_SCOPE_BASE || (s->sizelimit > 0 && s->sizelimit <= 100))
		return 0;
	return !selective(tree);
}

static long
bulk_limit(const struct config *cfg)
{
	return cfg->max_bulk_searches > 0 ? cfg->max_bulk_searches : cfg->pool_size * 2 > 2 ? cfg->pool_size * 2 : 2;
}

/* What the directory gets in place of the client's SearchRequest. */
enum search_body {
	BODY_AS_RECEIVED,       /* the protocolOp as received */
	BODY_NEW_ATTRS,         /* as received up to the filter, then the allowlisted attribute list */
	BODY_REWRITTEN,         /* re-encoded by rewrite.c (virtual tree, maps, computed attributes) */
};

/* One search on its way to the directory, step by step (search_handle()). */
struct search_plan {
	struct fnode *tree;                     /* the decoded filter (arena) */
	enum search_body body;
	struct berval rewritten;                /* BODY_REWRITTEN (arena) */
	unsigned char attrs[ATTRS_BUF + 8];     /* BODY_NEW_ATTRS */
	size_t attrs_len;
	struct want *want;                      /* the client's view of a rewritten search; owned until the op takes it */
	int bulk;                               /* may return much: counted for fairness */
	struct upstream *u;                     /* where it goes */
	unsigned flags;                         /* OP_* for the op */
	unsigned char pctl[1100];               /* aldproxy's paged-results control for the directory */
	struct berval pctl_bv;
};

/* A step's outcome: go on, answered (and done), or wait for capacity (HANDLER_WAIT). */
enum { STEP_GO = -1, STEP_ANSWERED = 0, STEP_WAIT = HANDLER_WAIT };

/* The rootDSE (base "", scope base): aldproxy answers it, under the same rules for controls and names. */
static int
rootdse_request(struct client *c, struct request *r)
{
	struct req_search *s = &r->u.search;
	struct fnode *tree = NULL;
	char diag[400];
	int code;
	arena_reset(&c->srv->arena);
	if ((code = policy_controls(PDU_SEARCH_REQ, &r->ctrls, r->ctrls.verdict, diag, sizeof(diag))) != LDAP_SUCCESS ||
	    (code = policy_attrlist_check(s->attrs, s->nattrs, diag, sizeof(diag))) != LDAP_SUCCESS ||
	    (code = filter_decode(&c->srv->arena, &s->filter, &tree) < 0 ? LDAP_PROTOCOL_ERROR :
	    policy_filter_wellformed(tree, diag, sizeof(diag))) != LDAP_SUCCESS) {
		if (code == LDAP_PROTOCOL_ERROR && tree == NULL)
			snprintf(diag, sizeof(diag), "aldproxy: malformed search filter");
		client_result(c, r->msgid, PDU_SEARCH_DONE, code, diag);
		return 0;
	}
	rootdse_send(c, r);
	return 0;
}

/* What (member:1.2.840.113556.1.4.1941:=USER) items need (chain.h): every user's groups read. */
struct chain_ask {
	struct client *c;
	int waited;                     /* the request waited already: a failed read is its answer */
	int wait;                       /* a read is in flight */
	char why[300];                  /* a read failed */
};

static int
chain_need(const char *ndn, size_t len, void *arg)
{
	struct chain_ask *k = arg;
	const char *const *g;
	size_t n;
	const char *why;
	switch (chain_groups(ndn, len, now_us(), &g, &n, &why)) {
	case CHAIN_READY:
		return 0;
	case CHAIN_PENDING:
		k->wait = 1;
		return 1;
	case CHAIN_FAILED:
		if (k->waited) {
			snprintf(k->why, sizeof(k->why), "aldproxy: cannot read the groups of %.*s: %s", (int)len, ndn, why);
			return 1;
		}
		/* an earlier request's failure: this one reads again */
		/* FALLTHROUGH */
	case CHAIN_UNKNOWN:
		if (chain_request(k->c->srv->backend, ndn, len) < 0) {
			snprintf(k->why, sizeof(k->why), "aldproxy: cannot read the groups of %.*s: no directory connection",
			    (int)len, ndn);
			return 1;
		}
		k->wait = 1;
		return 1;
	}
	return 0;
}

/* Step 1: bound, the profile's visible users known, the policy satisfied, a bulk slot free. *//* Step 1: bound, the profile's visible users known, the policy satisfied, a bulk slot free. */
static int
search_admit(struct client *c, struct request *r, struct search_plan *sp)
{
	char diag[400];
	int code, denied;
	if (c->bound_dn == NULL || c->profile == NULL) {
		client_deny(c, r->msgid, PDU_SEARCH_DONE, LDAP_INSUFFICIENT_ACCESS,
		    "aldproxy: bind first; only the rootDSE may be read without a bind");
		return STEP_ANSWERED;
	}
	/* a profile with visible groups needs its visible users read once (visset.h): wait up to 5 s */
	const struct visset *vis = c->profile->vis;
	if (vis != NULL && !visset_ready(vis) && backend_ready_count(c->srv->backend, UP_SHARED) > 0 &&
	    now_us() - c->req_start_us < 5000000)
		return STEP_WAIT;
	if ((code = search_policy(c, r, &sp->tree, diag, sizeof(diag), &denied)) != LDAP_SUCCESS) {
		(denied ? client_deny : client_result)(c, r->msgid, PDU_SEARCH_DONE, code, diag);
		return STEP_ANSWERED;
	}
	/* nested groups of a user asked with AD's in-chain rule: the user's memberOf is read first */
	if (rewrite_active(c->profile)) {
		struct chain_ask k = { c, c->req_waited, 0, "" };
		rewrite_chain_users(c->profile, sp->tree, chain_need, &k);
		if (k.wait && now_us() - c->req_start_us < (uint64_t)(c->srv->cfg->operation_timeout * 1e6))
			return STEP_WAIT;
		if (k.wait || k.why[0] != '\0') {
			client_result(c, r->msgid, PDU_SEARCH_DONE, LDAP_UNAVAILABLE, k.why[0] ? k.why :
			    "aldproxy: the directory did not answer reading a user's groups in time");
			return STEP_ANSWERED;
		}
	}
	/* fairness: searches that may return much wait for a slot; small ones never wait for them */
	const struct config *cfg = c->srv->cfg;
	struct backend *be = c->srv->backend;
	sp->bulk = request_control(r, OID_PAGED_RESULTS) == NULL && search_is_bulk(&r->u.search, sp->tree);
	if (sp->bulk && ((long)be->bulk >= bulk_limit(cfg) || (long)c->nbulk >= cfg->max_bulk_searches_per_client) &&
	    backend_ready_count(be, UP_SHARED) > 0) {
		c->wait_bulk = 1;       /* woken when a bulk search ends, not by a freed slot */
		return STEP_WAIT;
	}
	return STEP_GO;
}

/* Step 2: what the directory is asked: the profile's rewrite, or the allowlisted attributes. */
static int
search_body(struct client *c, struct request *r, struct search_plan *sp)
{
	char diag[400];
	if (rewrite_active(c->profile)) {
		int rc = rewrite_search(c, r, sp->tree, &sp->rewritten, &sp->want, diag, sizeof(diag));
		if (rc != LDAP_SUCCESS) {
			client_result(c, r->msgid, PDU_SEARCH_DONE, rc, diag);
			return STEP_ANSWERED;
		}
		sp->body = BODY_REWRITTEN;
		return STEP_GO;
	}
	int rc = allowlist_attrs(c->profile, &r->u.search, sp->attrs, sizeof(sp->attrs), &sp->attrs_len);
	if (rc == -2) {
		client_result(c, r->msgid, PDU_SEARCH_DONE, LDAP_OTHER, "aldproxy: out of memory");
		return STEP_ANSWERED;
	}
	if (rc < 0) {
		client_result(c, r->msgid, PDU_SEARCH_DONE, LDAP_ADMINLIMIT_EXCEEDED, "aldproxy: too many attributes requested");
		return STEP_ANSWERED;
	}
	sp->body = rc == 1 ? BODY_NEW_ATTRS : BODY_AS_RECEIVED;
	return STEP_GO;
}

/* Step 3, paged results: the lease the cookie names, or a new one; aldproxy's control for the directory. */
static int
search_paged_lease(struct client *c, struct request *r, const struct req_control *paged, struct search_plan *sp)
{
	struct backend *be = c->srv->backend;
	struct berval cookie = { 0, NULL };
	ber_int_t size;
	BerElement *pb = paged->value.bv_val ? ber_init((struct berval *)&paged->value) : NULL;
	ber_len_t rest = 1;
	int ok = pb != NULL && bscan(pb, "{im}", &size, &cookie) == 0 && size >= 0 &&
	    ber_get_option(pb, LBER_OPT_REMAINING_BYTES, &rest) == LBER_OPT_SUCCESS && rest == 0;
	if (!ok) {
		if (pb)
			ber_free(pb, 1);
		client_result(c, r->msgid, PDU_SEARCH_DONE, LDAP_PROTOCOL_ERROR, "aldproxy: malformed paged results control");
		return STEP_ANSWERED;
	}
	int capped = 0, fresh = cookie.bv_len == 0;
	struct upstream *u = fresh ? backend_lease(be, c, &capped) : backend_leased(be, c, cookie.bv_val, cookie.bv_len);
	ber_free(pb, 1);
	if (u == NULL) {
		unsigned ready = backend_ready_count(be, UP_PAGED);
		if (fresh && capped)
			client_result(c, r->msgid, PDU_SEARCH_DONE, LDAP_BUSY,
			    "aldproxy: this account already runs its share of paged searches (half of "
			    "backend.paged_pool_size); finish or abandon one, then retry");
		else if (fresh)
			client_result(c, r->msgid, PDU_SEARCH_DONE, ready ? LDAP_BUSY : LDAP_UNAVAILABLE, ready ?
			    "aldproxy: all paged-results connections are in use (backend.paged_pool_size); retry" :
			    "aldproxy: no directory server is available");
		else
			client_result(c, r->msgid, PDU_SEARCH_DONE, LDAP_UNWILLING_TO_PERFORM,
			    "aldproxy: unknown or expired paged results cookie");
		return STEP_ANSWERED;
	}
	if (u->nops > 0) {
		client_result(c, r->msgid, PDU_SEARCH_DONE, LDAP_UNWILLING_TO_PERFORM,
		    "aldproxy: the previous page of this search is still in progress");
		return STEP_ANSWERED;
	}
	/* the directory gets its own cookie back (kept with the lease); the control is aldproxy's own */
	size_t pl = pdu_paged_control(sp->pctl, sizeof(sp->pctl), paged->critical, size,
	    fresh ? (const void *)"" : u->cookie, fresh ? 0 : u->cookie_len);
	if (pl == (size_t)-1) {
		client_result(c, r->msgid, PDU_SEARCH_DONE, LDAP_ADMINLIMIT_EXCEEDED,
		    "aldproxy: the directory's paged results cookie is too large");
		return STEP_ANSWERED;
	}
	sp->pctl_bv.bv_val = (char *)sp->pctl;
	sp->pctl_bv.bv_len = pl;
	sp->flags |= OP_PAGED;
	sp->u = u;
	return STEP_GO;
}

/* Step 3: where it goes: a leased connection for paged results, else a shared one. */
static int
search_destination(struct client *c, struct request *r, struct search_plan *sp)
{
	struct backend *be = c->srv->backend;
	const struct req_control *paged = request_control(r, OID_PAGED_RESULTS);
	sp->flags = OP_SCRUB;   /* every entry is checked for secrets on the way back */
	if (paged != NULL)
		return search_paged_lease(c, r, paged, sp);
	if ((sp->u = sp->bulk ? backend_pick_bulk(be) : backend_pick(be)) != NULL)
		return STEP_GO;
	if (backend_saturated(be))
		return STEP_WAIT;
	client_result(c, r->msgid, PDU_SEARCH_DONE, LDAP_UNAVAILABLE, "aldproxy: no directory server is available");
	return STEP_ANSWERED;
}

/* Step 4: the op, and the request's bytes as parts; then forward_ctl() sends it. */
static int
search_send(struct client *c, struct request *r, struct search_plan *sp)
{
	struct backend *be = c->srv->backend;
	struct op *op = op_new(c, r->msgid, PDU_SEARCH_REQ, &search_handler);
	if (op == NULL) {
		client_result(c, r->msgid, PDU_SEARCH_DONE, LDAP_OTHER, "aldproxy: out of memory");
		return STEP_ANSWERED;
	}
	c->srv->stats.searches++;
	op->flags = sp->flags;
	if (sp->bulk) {
		op->flags |= OP_BULK;
		c->nbulk++;
		be->bulk++;
	}
	op->want = sp->want;    /* the op owns it now */
	sp->want = NULL;
	struct evbuffer_iovec parts[3];
	unsigned char tag_hdr[PDU_HEAD_MAX];
	int nparts = 1;
	switch (sp->body) {
	case BODY_REWRITTEN:
		parts[0] = (struct evbuffer_iovec){ sp->rewritten.bv_val, sp->rewritten.bv_len };
		break;
	case BODY_AS_RECEIVED:
		parts[0] = (struct evbuffer_iovec){ r->op.bv_val, r->op.bv_len };
		break;
	case BODY_NEW_ATTRS: {
		/* [APPLICATION 3] header, then base..filter as received, then the new list */
		const unsigned char *op_start = (const unsigned char *)r->op.bv_val;
		size_t hdr = (op_start[1] < 0x80) ? 2 : 2 + (size_t)(op_start[1] & 0x7f);
		const unsigned char *mid = op_start + hdr;
		size_t mid_len = (size_t)((const unsigned char *)r->u.search.attrs_raw.bv_val - mid);
		size_t tl = pdu_put_tl(tag_hdr, sizeof(tag_hdr), 0, PDU_SEARCH_REQ, mid_len + sp->attrs_len);
		if (tl == 0) {
			op_fail(op, LDAP_ADMINLIMIT_EXCEEDED, "aldproxy: too many attributes requested");
			return STEP_ANSWERED;
		}
		parts[0] = (struct evbuffer_iovec){ tag_hdr, tl };
		parts[1] = (struct evbuffer_iovec){ (void *)mid, mid_len };
		parts[2] = (struct evbuffer_iovec){ sp->attrs, sp->attrs_len };
		nparts = 3;
		break;
	}
	}
	return forward_ctl(c, r, op, sp->u, parts, nparts, sp->pctl_bv.bv_len ? &sp->pctl_bv : NULL);
}

int
search_handle(struct client *c, struct request *r, unsigned char *buf, size_t len)
{
	(void)buf;
	(void)len;
	if (r->u.search.base.bv_len == 0 && r->u.search.scope == LDAP_SCOPE_BASE)
		return rootdse_request(c, r);
	struct search_plan sp;
	sp.tree = NULL;
	sp.want = NULL;
	sp.bulk = 0;
	sp.pctl_bv = (struct berval){ 0, NULL };
	int rc;
	if ((rc = search_admit(c, r, &sp)) == STEP_GO && (rc = search_body(c, r, &sp)) == STEP_GO &&
	    (rc = search_destination(c, r, &sp)) == STEP_GO)
		return search_send(c, r, &sp);
	free(sp.want);
	return rc;
}

int
compare_handle(struct client *c, struct request *r, unsigned char *buf, size_t len)
{
	struct req_compare *cmp = &r->u.compare;
	char diag[400];
	int code;
	(void)buf;
	(void)len;
	if (c->bound_dn == NULL || c->profile == NULL) {
		client_deny(c, r->msgid, PDU_COMPARE_RES, LDAP_INSUFFICIENT_ACCESS, "aldproxy: bind first");
		return 0;
	}
	if ((code = policy_controls(PDU_COMPARE_REQ, &r->ctrls, r->ctrls.verdict, diag, sizeof(diag))) != LDAP_SUCCESS) {
		client_result(c, r->msgid, PDU_COMPARE_RES, code, diag);
		return 0;
	}
	if (!policy_attrdesc_valid(cmp->attr.bv_val, cmp->attr.bv_len, NULL)) {
		client_result(c, r->msgid, PDU_COMPARE_RES, LDAP_PROTOCOL_ERROR,
		    "aldproxy: the compare names no valid attribute description (RFC 4512 2.5)");
		return 0;
	}
	if ((code = check_base(c, &cmp->dn, LDAP_SCOPE_SUBTREE, diag, sizeof(diag))) != LDAP_SUCCESS) {
		(code == LDAP_NO_SUCH_OBJECT ? client_deny : client_result)(c, r->msgid, PDU_COMPARE_RES, code, diag);
		return 0;
	}
	if (!policy_attr_allowed(c->profile, cmp->attr.bv_val, cmp->attr.bv_len)) {
		snprintf(diag, sizeof(diag), "aldproxy: profile %s does not allow attribute '%.*s'", c->profile->name,
		    (int)(cmp->attr.bv_len > 100 ? 100 : cmp->attr.bv_len), cmp->attr.bv_val);
		client_deny(c, r->msgid, PDU_COMPARE_RES, LDAP_INSUFFICIENT_ACCESS, diag);
		return 0;
	}
	struct upstream *u = backend_pick(c->srv->backend);
	if (u == NULL && backend_saturated(c->srv->backend))
		return HANDLER_WAIT;
	if (u == NULL) {
		client_result(c, r->msgid, PDU_COMPARE_RES, LDAP_UNAVAILABLE, "aldproxy: no directory server is available");
		return 0;
	}
	struct evbuffer_iovec part = { r->op.bv_val, r->op.bv_len };
	if (rewrite_active(c->profile)) {
		/* CompareRequest { entry, { attributeDesc, assertionValue } } in the directory's terms */
		const struct profile *p = c->profile;
		struct arena *a = &c->srv->arena;
		struct fnode *f;
		char dn[DN_MAX];
		int dl = rewrite_dn_in(p, cmp->dn.bv_val, cmp->dn.bv_len, dn, sizeof(dn));
		arena_reset(a);
		f = fnode_new(a, F_EQ);
		if (f == NULL || dl < 0 || arena_bv(a, &f->attr, cmp->attr.bv_val, cmp->attr.bv_len) < 0 ||
		    arena_bv(a, &f->value, cmp->value.bv_val, cmp->value.bv_len) < 0) {
			client_result(c, r->msgid, PDU_COMPARE_RES, LDAP_INVALID_DN_SYNTAX, "aldproxy: invalid DN");
			return 0;
		}
		struct fnode *g = rewrite_filter(p, a, f, 0, NULL);
		if (g == NULL || g->kind != F_EQ) {
			/* a computed attribute: the directory has nothing to compare */
			client_result(c, r->msgid, PDU_COMPARE_RES, LDAP_UNWILLING_TO_PERFORM,
			    "aldproxy: compare on a computed attribute is not supported; search for it instead");
			return 0;
		}
		size_t cl = pdu_compare_op(NULL, 0, dn, (size_t)dl, g->attr.bv_val, g->attr.bv_len, g->value.bv_val,
		    g->value.bv_len);
		unsigned char *buf = arena_alloc_bytes(a, cl);
		size_t n = buf != NULL ? pdu_compare_op(buf, cl, dn, (size_t)dl, g->attr.bv_val, g->attr.bv_len,
		    g->value.bv_val, g->value.bv_len) : 0;
		if (n == 0) {
			client_result(c, r->msgid, PDU_COMPARE_RES, LDAP_ADMINLIMIT_EXCEEDED, "aldproxy: request too large");
			return 0;
		}
		part.iov_base = buf;
		part.iov_len = n;
	}
	struct op *op = op_new(c, r->msgid, PDU_COMPARE_REQ, &visible_forward_handler);
	if (op == NULL) {
		client_result(c, r->msgid, PDU_COMPARE_RES, LDAP_OTHER, "aldproxy: out of memory");
		return 0;
	}
	if (c->profile->nvisible_groups > 0) {
		/* compareTrue/False would reveal an entry the profile does not see */
		char real[DN_MAX];
		int rl = rewrite_dn_in(c->profile, cmp->dn.bv_val, cmp->dn.bv_len, real, sizeof(real));
		op->target = strndup(cmp->dn.bv_val, cmp->dn.bv_len > DN_MAX ? DN_MAX : cmp->dn.bv_len);
		if (rl < 0) {
			op_fail(op, LDAP_INVALID_DN_SYNTAX, "aldproxy: invalid DN");
			return 0;
		}
		return visible_then_send(c, op, real, (size_t)rl, NULL, &part, 1);
	}
	return forward(c, r, op, u, &part, 1);
}
