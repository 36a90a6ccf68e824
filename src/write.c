/*
 * write.c — the writes a profile may allow: Modify of listed attributes,
 * the Password Modify extended operation (RFC 3062), and Add, Delete and
 * ModifyDN confined to listed subtrees (and, for Add, object classes and
 * attributes), for IDM and provisioning products.
 *
 * aldproxy never writes as itself: the operation goes to a shared
 * connection carrying the proxied authorization control (RFC 4370) for the
 * bound user's directory DN, so the directory applies that user's own
 * access rights.  aldproxy's account needs proxy rights on the directory
 * (389-ds: an ACI granting "proxy"; OpenLDAP: authzTo) — docs/operations.md.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <ldap.h>

#include "backend.h"
#include "client.h"
#include "dn.h"
#include "log.h"
#include "pdu.h"
#include "policy.h"
#include "request.h"
#include "rewrite.h"
#include "state.h"
#include "upstream.h"
#include "visible.h"

#define OID_PROXY_AUTHZ "2.16.840.1.113730.3.4.18"
#define WRITE_BUF 65536

static int
may_write(const struct profile *p, const struct berval *attr)
{
	for (size_t i = 0; i < p->nwrite_attrs; i++)
		if (attr_eq(attr, p->write_attrs[i]))
			return 1;
	return 0;
}

/* The controls policy_controls() let through, plus proxied authorization for c's directory DN. */
static size_t
controls_with_proxy(struct client *c, const struct request *r, unsigned char *out, size_t cap)
{
	char authz[DN_MAX + 8];
	unsigned char proxy[DN_MAX + 64];
	int al = snprintf(authz, sizeof(authz), "dn:%s", c->bound_real);
	struct berval ctls[REQ_MAX_CONTROLS + 1];
	size_t n = request_forwarded_controls(r, ctls, REQ_MAX_CONTROLS);
	/* critical: never run the write as aldproxy itself */
	size_t pl = al > 0 && (size_t)al < sizeof(authz) ?
	    pdu_control(proxy, sizeof(proxy), OID_PROXY_AUTHZ, 1, authz, (size_t)al) : (size_t)-1;
	if (pl == (size_t)-1)
		return 0;
	ctls[n++] = (struct berval){ pl, (char *)proxy };
	size_t len = pdu_controls(out, cap, ctls, n);
	return len == (size_t)-1 ? 0 : len;
}

/* Common checks: bound with a directory identity, and a connection to send on. 0 or a result code. */
static int
write_preflight(struct client *c, struct upstream **u, const char **diag)
{
	if (c->bound_dn == NULL || c->profile == NULL) {
		*diag = "aldproxy: bind first";
		return LDAP_INSUFFICIENT_ACCESS;
	}
	if (c->bound_real == NULL) {
		*diag = "aldproxy: this identity exists only in the profile; it cannot write to the directory";
		return LDAP_UNWILLING_TO_PERFORM;
	}
	if ((*u = backend_pick(c->srv->backend)) == NULL) {
		*diag = backend_saturated(c->srv->backend) ? NULL : "aldproxy: no directory server is available";
		return backend_saturated(c->srv->backend) ? -1 : LDAP_UNAVAILABLE;
	}
	return LDAP_SUCCESS;
}

/*
 * Sends a write as the bound user, to an entry the profile sees (real: its
 * directory DN; with visible groups, checked first when check_visible);
 * target and attrs (the client's terms) go to the audit trail.
 */
static int
forward_write_as(struct client *c, struct request *r, struct upstream *u, unsigned tag, const unsigned char *op,
    size_t oplen, const char *real, const char *target, size_t target_len, const char *attrs, int check_visible)
{
	unsigned char ctl[DN_MAX + 4096];
	size_t cl = controls_with_proxy(c, r, ctl, sizeof(ctl));
	struct op *o = cl ? op_new(c, r->msgid, tag, &visible_forward_handler) : NULL;
	if (o == NULL || (o->target = strndup(target, target_len)) == NULL ||
	    (attrs != NULL && (o->attrs = strdup(attrs)) == NULL)) {
		if (o != NULL)
			op_free(o);
		client_result(c, r->msgid, op_response_tag(tag), LDAP_OTHER, "aldproxy: request too large");
		return 0;
	}
	struct evbuffer_iovec parts[2] = { { (void *)op, oplen }, { ctl, cl } };
	if (check_visible && c->profile->nvisible_groups > 0)
		return visible_then_send(c, o, real, strlen(real), u, parts, 2);
	if (upstream_send(u, o, parts, 2) < 0)
		op_fail(o, LDAP_BUSY, "aldproxy: the directory connection is saturated; retry");
	return 0;
}

static int
forward_write(struct client *c, struct request *r, struct upstream *u, unsigned tag, const unsigned char *op,
    size_t oplen, const char *real, const char *target, size_t target_len, const char *attrs)
{
	return forward_write_as(c, r, u, tag, op, oplen, real, target, target_len, attrs, 1);
}

/* An ExtendedResponse of aldproxy's own; out of memory for it, the client is disconnected (as client_reply()). */
static void
ext_reply(struct client *c, int msgid, int code, const char *diag)
{
	if (pdu_ext_result(bufferevent_get_output(c->bev), msgid, code, diag, NULL, NULL, 0) < 0) {
		client_close(c, LDAP_OTHER, "out of memory for a response");
		return;
	}
	client_check_output(c);
}

/* A Password Modify answered by aldproxy itself. */
static int
passwd_reply(struct client *c, struct request *r, int code, const char *diag)
{
	ext_reply(c, r->msgid, code, diag);
	client_account(c, r->msgid, PDU_EXT_REQ, code, 0, NULL, diag);
	if (code == LDAP_INSUFFICIENT_ACCESS || code == LDAP_UNWILLING_TO_PERFORM || code == LDAP_NO_SUCH_OBJECT)
		client_audit_denied(c, r->msgid, PDU_EXT_REQ, code, diag);    /* the profile's policy said no */
	return 0;
}

int
modify_handle(struct client *c, struct request *r, unsigned char *buf, size_t len)
{
	const struct profile *p = c->profile;
	struct upstream *u;
	const char *diag;
	char d[400];
	(void)buf;
	(void)len;
	int code = write_preflight(c, &u, &diag);
	if (code < 0)
		return HANDLER_WAIT;
	if (code == LDAP_SUCCESS && p->nwrite_attrs == 0) {
		snprintf(d, sizeof(d), "aldproxy: write operations are not allowed by profile %s", p->name);
		diag = d;
		code = LDAP_UNWILLING_TO_PERFORM;
	}
	if (code != LDAP_SUCCESS) {
		(code == LDAP_UNAVAILABLE ? client_result : client_deny)(c, r->msgid, PDU_MODIFY_RES, code, diag);
		return 0;
	}
	if ((code = policy_controls(PDU_MODIFY_REQ, &r->ctrls, r->ctrls.verdict, d, sizeof(d))) != LDAP_SUCCESS) {
		client_result(c, r->msgid, PDU_MODIFY_RES, code, d);
		return 0;
	}
	/* ModifyRequest ::= [APPLICATION 6] SEQUENCE { object, changes SEQUENCE OF change } */
	BerElement *ber = c->ber;
	struct berval opbv = r->op, dn, type;
	ber_len_t blen;
	char *last;
	ber_init2(ber, &opbv, LBER_USE_DER);
	if (bscan(ber, "{m", &dn) < 0 || ber_peek_tag(ber, &blen) != LBER_SEQUENCE) {
		client_result(c, r->msgid, PDU_MODIFY_RES, LDAP_PROTOCOL_ERROR, "aldproxy: malformed modify request");
		return 0;
	}
	char ndn[DN_MAX], real[DN_MAX];
	int nl = dn_normalize(dn.bv_val, dn.bv_len, ndn, sizeof(ndn));
	if (nl < 0 || !dn_is_under(ndn, (size_t)nl, p->search_base_norm, p->search_base_len) ||
	    rewrite_dn_in(p, dn.bv_val, dn.bv_len, real, sizeof(real)) < 0) {
		client_deny(c, r->msgid, PDU_MODIFY_RES, LDAP_NO_SUCH_OBJECT, "aldproxy: the entry is outside this profile");
		return 0;
	}
	arena_reset(&c->srv->arena);
	unsigned char *out = arena_alloc_bytes(&c->srv->arena, WRITE_BUF);
	unsigned char *changes = arena_alloc_bytes(&c->srv->arena, WRITE_BUF);
	size_t cl = 0, al = 0;
	char names[512] = "";       /* the attributes changed, for the audit trail */
	for (ber_tag_t t = ber_first_element(ber, &blen, &last); t != LBER_DEFAULT; t = ber_next_element(ber, &blen, last)) {
		ber_int_t mop;
		struct berval vals, content;
		ber_len_t before = 0, after = 0;
		int bad = bscan(ber, "{e{m", &mop, &type) < 0;
		/* the vals SET as a whole TLV (ber_skip_element gives its contents only) */
		ber_get_option(ber, LBER_OPT_REMAINING_BYTES, &before);
		bad = bad || ber_skip_element(ber, &content) == LBER_DEFAULT;
		ber_get_option(ber, LBER_OPT_REMAINING_BYTES, &after);
		if (bad || before < after) {
			client_result(c, r->msgid, PDU_MODIFY_RES, LDAP_PROTOCOL_ERROR, "aldproxy: malformed modification");
			return 0;
		}
		vals.bv_val = r->op.bv_val + (r->op.bv_len - before);
		vals.bv_len = before - after;
		if (!policy_attrdesc_valid(type.bv_val, type.bv_len, NULL)) {
			client_result(c, r->msgid, PDU_MODIFY_RES, LDAP_PROTOCOL_ERROR,
			    "aldproxy: a modification names no valid attribute description (RFC 4512 2.5)");
			return 0;
		}
		if (mop < 0 || mop > 3) {
			client_result(c, r->msgid, PDU_MODIFY_RES, LDAP_PROTOCOL_ERROR, "aldproxy: unknown modification operation");
			return 0;
		}
		if (!may_write(p, &type) || !policy_attr_allowed(p, type.bv_val, type.bv_len)) {
			snprintf(d, sizeof(d), "aldproxy: profile %s does not allow modifying '%.*s'", p->name,
			    (int)(type.bv_len > 100 ? 100 : type.bv_len), type.bv_val);
			client_deny(c, r->msgid, PDU_MODIFY_RES, LDAP_INSUFFICIENT_ACCESS, d);
			return 0;
		}
		if (al + type.bv_len + 2 < sizeof(names))
			al += (size_t)snprintf(names + al, sizeof(names) - al, "%s%.*s", al ? "," : "", (int)type.bv_len,
			    type.bv_val);
		/* the real attribute name, the values as received */
		struct berval rt = type;
		for (size_t i = 0; i < p->nattr_maps; i++)
			if (attr_eq(&type, p->attr_maps[i].virt)) {
				rt.bv_val = p->attr_maps[i].real;
				rt.bv_len = strlen(rt.bv_val);
			}
		size_t ch = out != NULL && changes != NULL ?
		    pdu_modify_change(changes + cl, WRITE_BUF - cl, mop, rt.bv_val, rt.bv_len, vals.bv_val, vals.bv_len) : 0;
		if (ch == 0) {
			client_result(c, r->msgid, PDU_MODIFY_RES, LDAP_ADMINLIMIT_EXCEEDED, "aldproxy: modify request too large");
			return 0;
		}
		cl += ch;
	}
	size_t ol = out != NULL && changes != NULL ? pdu_modify_op(out, WRITE_BUF, real, strlen(real), changes, cl) : 0;
	if (ol == 0) {
		client_result(c, r->msgid, PDU_MODIFY_RES, LDAP_ADMINLIMIT_EXCEEDED, "aldproxy: modify request too large");
		return 0;
	}
	return forward_write(c, r, u, PDU_MODIFY_REQ, out, ol, real, dn.bv_val, dn.bv_len, names);
}

int
passwd_handle(struct client *c, struct request *r)
{
	const struct profile *p = c->profile;
	struct upstream *u;
	const char *diag;
	char d[300];
	int code = write_preflight(c, &u, &diag);
	if (code < 0)
		return HANDLER_WAIT;
	if (code == LDAP_SUCCESS && !p->write_password) {
		snprintf(d, sizeof(d), "aldproxy: password changes are not allowed by profile %s", p->name);
		diag = d;
		code = LDAP_UNWILLING_TO_PERFORM;
	}
	if (code != LDAP_SUCCESS)
		return passwd_reply(c, r, code, diag);
	if ((code = policy_controls(PDU_EXT_REQ, &r->ctrls, r->ctrls.verdict, d, sizeof(d))) != LDAP_SUCCESS) {
		ext_reply(c, r->msgid, code, d);
		client_account(c, r->msgid, PDU_EXT_REQ, code, 0, NULL, d);
		return 0;
	}
	/* PasswdModifyRequestValue ::= SEQUENCE { userIdentity [0], oldPasswd [1], newPasswd [2] } (all optional) */
	struct berval id = { 0, NULL }, oldpw = { 0, NULL }, newpw = { 0, NULL }, v = r->u.ext.value;
	ber_len_t blen;
	if (v.bv_val != NULL) {
		BerElement *ber = c->ber;
		ber_init2(ber, &v, LBER_USE_DER);
		int bad = bscan(ber, "{") < 0;
		if (!bad && ber_peek_tag(ber, &blen) == 0x80)
			bad = bscan(ber, "m", &id) < 0;
		if (!bad && ber_peek_tag(ber, &blen) == 0x81)
			bad = bscan(ber, "m", &oldpw) < 0;
		if (!bad && ber_peek_tag(ber, &blen) == 0x82)
			bad = bscan(ber, "m", &newpw) < 0;
		if (bad)
			return passwd_reply(c, r, LDAP_PROTOCOL_ERROR, "aldproxy: malformed password modify request");
	}
	char real[DN_MAX];
	const char *target = id.bv_val ? id.bv_val : c->bound_dn;
	size_t target_len = id.bv_val ? id.bv_len : strlen(c->bound_dn);
	if (id.bv_val == NULL) {
		/* the bound user's own password: name it, so the directory never takes the
		 * connection's identity (aldproxy) for the target */
		snprintf(real, sizeof(real), "%s", c->bound_real);
		id.bv_val = real;
		id.bv_len = strlen(real);
	} else {
		char ndn[DN_MAX];
		int nl = dn_normalize(id.bv_val, id.bv_len, ndn, sizeof(ndn));
		if (nl < 0 || !dn_is_under(ndn, (size_t)nl, p->search_base_norm, p->search_base_len) ||
		    rewrite_dn_in(p, id.bv_val, id.bv_len, real, sizeof(real)) < 0)
			return passwd_reply(c, r, LDAP_NO_SUCH_OBJECT, "aldproxy: the user is outside this profile");
	}
	/* the same request with the identity in directory terms */
	unsigned char out[DN_MAX + 2200];
	size_t n = pdu_passwd_modify_op(out, sizeof(out), id.bv_val ? real : NULL, strlen(real), oldpw.bv_val, oldpw.bv_len,
	    newpw.bv_val, newpw.bv_len);
	int rc = n == 0 ? passwd_reply(c, r, LDAP_ADMINLIMIT_EXCEEDED, "aldproxy: request too large") :
	    forward_write(c, r, u, PDU_EXT_REQ, out, n, real, target, target_len, "userPassword");
	explicit_bzero(out, sizeof(out));
	if (oldpw.bv_val)
		explicit_bzero(oldpw.bv_val, oldpw.bv_len);
	if (newpw.bv_val)
		explicit_bzero(newpw.bv_val, newpw.bv_len);
	return rc;
}

/* ---- Add, Delete, ModifyDN (writes.add, writes.delete, writes.modrdn) ---------------------- */

#define ADD_BUF (256 * 1024)    /* the re-encoded attributes of one AddRequest, and one attribute's values */

/* The words of a refusal: "add entries", "delete entries", "rename entries". */
static const char *
scope_verb(unsigned tag)
{
	return tag == PDU_ADD_REQ ? "add" : tag == PDU_DEL_REQ ? "delete" : "rename";
}

static const struct write_scope *
scope_of(const struct profile *p, unsigned tag)
{
	return tag == PDU_ADD_REQ ? &p->write_add : tag == PDU_DEL_REQ ? &p->write_delete : &p->write_moddn;
}

/* A refusal by the profile's policy: insufficientAccessRights and an access_denied audit record. */
static int
scope_deny(struct client *c, struct request *r, const char *fmt, const char *a, size_t alen)
{
	char d[400], arg[130];
	size_t n = alen > 128 ? 128 : alen;
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)a[i];
		arg[i] = ch >= 0x20 && ch < 0x7f ? (char)ch : '?';
	}
	arg[n] = '\0';
	snprintf(d, sizeof(d), fmt, c->profile->name, scope_verb(r->tag), arg);
	client_deny(c, r->msgid, op_response_tag(r->tag), LDAP_INSUFFICIENT_ACCESS, d);
	return 0;
}

/*
 * What Add, Delete and ModifyDN check first: a bound directory identity,
 * the profile's writes.<op>, a connection, the controls.  Returns 1 to go
 * on, else 0 with *ret what the handler returns (the answer is sent).
 */
static int
scope_begin(struct client *c, struct request *r, struct upstream **u, int *ret)
{
	const char *diag;
	char d[300];
	unsigned rtag = op_response_tag(r->tag);
	*ret = 0;
	if (c->bound_dn != NULL && c->profile != NULL && !scope_of(c->profile, r->tag)->allowed) {
		const char *key = r->tag == PDU_ADD_REQ ? "add" : r->tag == PDU_DEL_REQ ? "delete" : "modrdn";
		scope_deny(c, r, "aldproxy: profile %s may not %s entries (writes.%s is not set)", key, strlen(key));
		return 0;
	}
	int code = write_preflight(c, u, &diag);
	if (code < 0) {
		*ret = HANDLER_WAIT;
		return 0;
	}
	if (code != LDAP_SUCCESS) {
		(code == LDAP_UNAVAILABLE ? client_result : client_deny)(c, r->msgid, rtag, code, diag);
		return 0;
	}
	if ((code = policy_controls(r->tag, &r->ctrls, r->ctrls.verdict, d, sizeof(d))) != LDAP_SUCCESS) {
		client_result(c, r->msgid, rtag, code, d);
		return 0;
	}
	return 1;
}

/*
 * The client's DN in the directory's tree: real (as sent on), nreal
 * (normalized, for the comparisons).  0, or -1 when it is not a DN, is
 * outside search_base or does not map.
 */
static int
dn_to_real(const struct profile *p, const struct berval *dn, char *real, size_t rcap, char *nreal, size_t ncap,
    size_t *nlen)
{
	char nd[DN_MAX];
	int nl = dn_normalize(dn->bv_val, dn->bv_len, nd, sizeof(nd));
	if (nl < 0 || !dn_is_under(nd, (size_t)nl, p->search_base_norm, p->search_base_len))
		return -1;
	int rl = rewrite_dn_in(p, dn->bv_val, dn->bv_len, real, rcap);
	nl = rl < 0 ? -1 : dn_normalize(real, strlen(real), nreal, ncap);
	if (nl < 0)
		return -1;
	*nlen = (size_t)nl;
	return 0;
}

/* Whether the real normalized DN is inside one of the scope's subtrees: strictly under it, or (!strict) equal. */
static int
in_scope(const struct write_scope *w, const char *nreal, size_t nl, int strict)
{
	for (size_t i = 0; i < w->nsubtrees; i++) {
		size_t bl = strlen(w->real_subtrees[i]);
		if (dn_is_under(nreal, nl, w->real_subtrees[i], bl) && (!strict || nl != bl))
			return 1;
	}
	return 0;
}

/*
 * The attribute types of the first RDN of a normalized DN, one at a time:
 * *pos starts at 0; returns 1 with type set, 0 at the end of the RDN.
 */
static int
rdn_next_type(const char *ndn, size_t len, size_t *pos, struct berval *type)
{
	size_t i = *pos;
	if (i >= len || (i > 0 && ndn[i - 1] == ','))
		return 0;
	size_t start = i;
	while (i < len && ndn[i] != '=')
		i++;
	type->bv_val = (char *)ndn + start;
	type->bv_len = i - start;
	/* the value: up to an unescaped '+' (another AVA) or ',' (the next RDN) */
	while (i < len && ndn[i] != '+' && ndn[i] != ',') {
		if (ndn[i] == '\\' && i + 1 < len)
			i++;
		i++;
	}
	*pos = i < len ? i + 1 : len;
	if (i < len && ndn[i] == ',')
		*pos = len;         /* the first RDN ends here */
	return type->bv_len > 0;
}

/* Whether the type (options dropped, by any of its names) is in the list. */
static int
type_listed(char *const *list, size_t n, const char *s, size_t tl)
{
	const char *c = policy_attr_canonical(s, tl);
	for (size_t i = 0; i < n; i++) {
		if (strlen(list[i]) == tl && strncasecmp(list[i], s, tl) == 0)
			return 1;
		const char *lc = c ? policy_attr_canonical(list[i], strlen(list[i])) : NULL;
		if (lc != NULL && strcasecmp(lc, c) == 0)
			return 1;
	}
	return 0;
}

/* Attributes whose values are DNs, mapped into the directory's tree on the way in. */
static int
dn_valued(const struct profile *p, const char *s, size_t tl)
{
	static char *const builtin[] = { "member", "uniqueMember", "manager", "secretary", "owner", "seeAlso" };
	return type_listed(builtin, sizeof(builtin) / sizeof(builtin[0]), s, tl) ||
	    type_listed(p->dn_attributes, p->ndn_attributes, s, tl);
}

/* The directory's name of the type (attribute_map), with the options as sent, into out: its length, or 0. */
static size_t
real_type(const struct profile *p, const struct berval *desc, size_t tl, char *out, size_t cap)
{
	const char *t = desc->bv_val;
	size_t n = tl;
	for (size_t i = 0; i < p->nattr_maps; i++)
		if (strlen(p->attr_maps[i].virt) == tl && strncasecmp(p->attr_maps[i].virt, desc->bv_val, tl) == 0) {
			t = p->attr_maps[i].real;
			n = strlen(t);
		}
	if (n + desc->bv_len - tl > cap)
		return 0;
	memcpy(out, t, n);
	memcpy(out + n, desc->bv_val + tl, desc->bv_len - tl);
	return n + desc->bv_len - tl;
}

/* The directory's name of an object class (objectclass_map), or the value as sent. */
static struct berval
real_class(const struct profile *p, const struct berval *v)
{
	for (size_t i = 0; i < p->noc_maps; i++)
		if (strlen(p->oc_maps[i].virt) == v->bv_len && strncasecmp(p->oc_maps[i].virt, v->bv_val, v->bv_len) == 0)
			return (struct berval){ strlen(p->oc_maps[i].real), p->oc_maps[i].real };
	return *v;
}

int
add_handle(struct client *c, struct request *r, unsigned char *buf, size_t len)
{
	struct upstream *u;
	int ret;
	(void)buf;
	(void)len;
	if (!scope_begin(c, r, &u, &ret))
		return ret;
	const struct profile *p = c->profile;
	const struct write_scope *w = &p->write_add;
	struct berval dn = r->u.add.dn;
	char real[DN_MAX], nreal[DN_MAX];
	size_t nl;
	if (dn_to_real(p, &dn, real, sizeof(real), nreal, sizeof(nreal), &nl) < 0 || !in_scope(w, nreal, nl, 1))
		return scope_deny(c, r, "aldproxy: profile %s may not %s entries at '%s' (outside writes.add.subtrees)",
		    dn.bv_val, dn.bv_len);
	/* the naming attributes are set by the DN itself (389-ds adds a missing one): they too must be allowed */
	struct berval rt;
	size_t pos = 0;
	while (rdn_next_type(nreal, nl, &pos, &rt))
		if (policy_attr_unwritable(rt.bv_val, rt.bv_len) || !type_listed(w->attrs, w->nattrs, rt.bv_val, rt.bv_len))
			return scope_deny(c, r, "aldproxy: profile %s may not %s entries named by '%s' (not in writes.add.attributes)",
			    rt.bv_val, rt.bv_len);
	arena_reset(&c->srv->arena);
	unsigned char *attrs = arena_alloc_bytes(&c->srv->arena, ADD_BUF);
	unsigned char *vals = arena_alloc_bytes(&c->srv->arena, ADD_BUF);
	unsigned char *out = arena_alloc_bytes(&c->srv->arena, ADD_BUF + DN_MAX + 64);
	if (attrs == NULL || vals == NULL || out == NULL) {
		client_result(c, r->msgid, PDU_ADD_RES, LDAP_OTHER, "aldproxy: out of memory for the request");
		return 0;
	}
	/* the AttributeList, checked whole by the decoder (request.c) */
	BerElement *ber = c->ber;
	struct berval list = r->u.add.attrs;
	ber_len_t blen;
	char *last, *vlast;
	size_t al = 0, nl2 = 0;
	int has_class = 0;
	char names[512] = "";       /* for the audit trail */
	ber_init2(ber, &list, LBER_USE_DER);
	for (ber_tag_t t = ber_first_element(ber, &blen, &last); t != LBER_DEFAULT; t = ber_next_element(ber, &blen, last)) {
		struct berval type, v;
		size_t tl;
		if (bscan(ber, "{m", &type) < 0) {
			client_result(c, r->msgid, PDU_ADD_RES, LDAP_PROTOCOL_ERROR, "aldproxy: malformed add request");
			return 0;
		}
		if (!policy_attrdesc_valid(type.bv_val, type.bv_len, &tl)) {
			client_result(c, r->msgid, PDU_ADD_RES, LDAP_PROTOCOL_ERROR,
			    "aldproxy: an attribute names no valid attribute description (RFC 4512 2.5)");
			return 0;
		}
		int is_class = tl == 11 && strncasecmp(type.bv_val, "objectClass", 11) == 0 && type.bv_len == tl;
		/* the directory's name of the type (attribute_map), with the options as sent */
		char rtype[POLICY_ATTR_MAX + 64];
		size_t rtl = real_type(p, &type, tl, rtype, sizeof(rtype));
		if (!is_class && (policy_attr_unwritable(type.bv_val, type.bv_len) || rtl == 0 ||
		    policy_attr_unwritable(rtype, rtl)))
			return scope_deny(c, r, "aldproxy: profile %s may not %s entries with '%s' (never writable through aldproxy)",
			    type.bv_val, type.bv_len);
		if (!is_class && !type_listed(w->attrs, w->nattrs, type.bv_val, tl))
			return scope_deny(c, r, "aldproxy: profile %s may not %s entries with '%s' (not in writes.add.attributes)",
			    type.bv_val, type.bv_len);
		size_t rtt = 0;
		while (rtt < rtl && rtype[rtt] != ';')
			rtt++;
		int map_dn = !is_class && (dn_valued(p, type.bv_val, tl) || dn_valued(p, rtype, rtt));
		/* the values, as sent or mapped (object classes, DNs), into vals */
		size_t vl = 0, nv = 0;
		for (ber_tag_t vt = ber_first_element(ber, &blen, &vlast); vt != LBER_DEFAULT;
		     vt = ber_next_element(ber, &blen, vlast)) {
			char rv[DN_MAX];
			if (bscan(ber, "m", &v) < 0) {
				client_result(c, r->msgid, PDU_ADD_RES, LDAP_PROTOCOL_ERROR, "aldproxy: malformed add request");
				return 0;
			}
			nv++;
			if (is_class) {
				size_t k;
				for (k = 0; k < w->nclasses; k++)
					if (strlen(w->classes[k]) == v.bv_len && strncasecmp(w->classes[k], v.bv_val, v.bv_len) == 0)
						break;
				if (k == w->nclasses)
					return scope_deny(c, r, "aldproxy: profile %s may not %s entries of class '%s' "
					    "(not in writes.add.object_classes)", v.bv_val, v.bv_len);
				v = real_class(p, &v);
			} else if (map_dn) {
				int rl = rewrite_dn_in(p, v.bv_val, v.bv_len, rv, sizeof(rv));
				if (rl < 0) {
					client_result(c, r->msgid, PDU_ADD_RES, LDAP_INVALID_DN_SYNTAX,
					    "aldproxy: a value of a DN-valued attribute is not a DN");
					return 0;
				}
				v.bv_val = rv;
				v.bv_len = strlen(rv);
			}
			size_t e = pdu_put_octets(vals, ADD_BUF, vl, 0x04, v.bv_val, v.bv_len);
			if (e == 0) {
				client_result(c, r->msgid, PDU_ADD_RES, LDAP_ADMINLIMIT_EXCEEDED, "aldproxy: add request too large");
				return 0;
			}
			vl = e;
		}
		if (nv == 0) {
			client_result(c, r->msgid, PDU_ADD_RES, LDAP_PROTOCOL_ERROR,
			    "aldproxy: an attribute of an add request has no value (RFC 4511 4.7)");
			return 0;
		}
		has_class |= is_class;
		/* the attribute: { type (the directory's name), SET OF value } */
		unsigned char set[PDU_TLV_HEAD_MAX];
		size_t sh = rtl ? pdu_put_tl(set, sizeof(set), 0, 0x31, vl) : 0;
		size_t need = sh ? enc_tlv_size(enc_tlv_size(rtl) + sh + vl) : 0;
		size_t o = need && al + need <= ADD_BUF ? pdu_put_tl(attrs, ADD_BUF, al, 0x30, enc_tlv_size(rtl) + sh + vl) : 0;
		o = o ? pdu_put_octets(attrs, ADD_BUF, o, 0x04, rtype, rtl) : 0;
		o = o ? pdu_put_raw(attrs, ADD_BUF, o, set, sh) : 0;
		o = o ? pdu_put_raw(attrs, ADD_BUF, o, vals, vl) : 0;
		if (o == 0) {
			client_result(c, r->msgid, PDU_ADD_RES, LDAP_ADMINLIMIT_EXCEEDED, "aldproxy: add request too large");
			return 0;
		}
		al = o;
		if (nl2 + type.bv_len + 2 < sizeof(names))
			nl2 += (size_t)snprintf(names + nl2, sizeof(names) - nl2, "%s%.*s", nl2 ? "," : "", (int)type.bv_len,
			    type.bv_val);
	}
	if (!has_class)
		return scope_deny(c, r, "aldproxy: profile %s may not %s entries without an objectClass%s", "", 0);
	size_t ol = pdu_add_op(out, ADD_BUF + DN_MAX + 64, real, strlen(real), attrs, al);
	if (ol == 0) {
		client_result(c, r->msgid, PDU_ADD_RES, LDAP_ADMINLIMIT_EXCEEDED, "aldproxy: add request too large");
		return 0;
	}
	/* the entry does not exist yet: no visibility lookup */
	return forward_write_as(c, r, u, PDU_ADD_REQ, out, ol, real, dn.bv_val, dn.bv_len, names, 0);
}

int
delete_handle(struct client *c, struct request *r, unsigned char *buf, size_t len)
{
	struct upstream *u;
	int ret;
	(void)buf;
	(void)len;
	if (!scope_begin(c, r, &u, &ret))
		return ret;
	const struct profile *p = c->profile;
	struct berval dn = r->u.del;
	char real[DN_MAX], nreal[DN_MAX];
	size_t nl;
	if (dn_to_real(p, &dn, real, sizeof(real), nreal, sizeof(nreal), &nl) < 0 || !in_scope(&p->write_delete, nreal, nl, 1))
		return scope_deny(c, r, "aldproxy: profile %s may not %s '%s' (outside writes.delete.subtrees)", dn.bv_val,
		    dn.bv_len);
	unsigned char out[DN_MAX + 16];
	size_t ol = pdu_del_op(out, sizeof(out), real, strlen(real));
	if (ol == 0) {
		client_result(c, r->msgid, PDU_DEL_RES, LDAP_ADMINLIMIT_EXCEEDED, "aldproxy: delete request too large");
		return 0;
	}
	return forward_write(c, r, u, PDU_DEL_REQ, out, ol, real, dn.bv_val, dn.bv_len, NULL);
}

int
moddn_handle(struct client *c, struct request *r, unsigned char *buf, size_t len)
{
	struct upstream *u;
	int ret;
	(void)buf;
	(void)len;
	if (!scope_begin(c, r, &u, &ret))
		return ret;
	const struct profile *p = c->profile;
	const struct write_scope *w = &p->write_moddn;
	const struct req_moddn *m = &r->u.moddn;
	char real[DN_MAX], nreal[DN_MAX], sup[DN_MAX], nsup[DN_MAX];
	size_t nl, sl = 0;
	if (dn_to_real(p, &m->dn, real, sizeof(real), nreal, sizeof(nreal), &nl) < 0 || !in_scope(w, nreal, nl, 1))
		return scope_deny(c, r, "aldproxy: profile %s may not %s '%s' (outside writes.modrdn.subtrees)", m->dn.bv_val,
		    m->dn.bv_len);
	if (m->has_newsup && (dn_to_real(p, &m->newsup, sup, sizeof(sup), nsup, sizeof(nsup), &sl) < 0 ||
	    !in_scope(w, nsup, sl, 0)))
		return scope_deny(c, r, "aldproxy: profile %s may not %s entries to '%s' (outside writes.modrdn.subtrees)",
		    m->newsup.bv_val, m->newsup.bv_len);
	/* the new RDN: one value of the attribute that names the entry now (uid=old -> uid=new) */
	char nrdn[DN_MAX];
	int rl = dn_normalize(m->newrdn.bv_val, m->newrdn.bv_len, nrdn, sizeof(nrdn));
	struct berval old_t, new_t, extra;
	size_t po = 0, pn = 0;
	if (rl <= 0) {
		client_result(c, r->msgid, PDU_MODDN_RES, LDAP_INVALID_DN_SYNTAX, "aldproxy: the new RDN is not an RDN");
		return 0;
	}
	int one_old = rdn_next_type(nreal, nl, &po, &old_t) && !rdn_next_type(nreal, nl, &po, &extra);
	int one_new = rdn_next_type(nrdn, (size_t)rl, &pn, &new_t) && !rdn_next_type(nrdn, (size_t)rl, &pn, &extra) &&
	    memchr(nrdn, ',', (size_t)rl) == NULL;
	if (!one_new && memchr(nrdn, ',', (size_t)rl) != NULL) {
		client_result(c, r->msgid, PDU_MODDN_RES, LDAP_INVALID_DN_SYNTAX, "aldproxy: the new RDN is not an RDN");
		return 0;
	}
	if (!one_old || !one_new || old_t.bv_len != new_t.bv_len ||
	    strncasecmp(old_t.bv_val, new_t.bv_val, old_t.bv_len) != 0 || policy_attr_unwritable(new_t.bv_val, new_t.bv_len))
		return scope_deny(c, r, "aldproxy: profile %s may not %s entries to the RDN '%s' (only a new value of the "
		    "attribute that names the entry)", m->newrdn.bv_val, m->newrdn.bv_len);
	/* the new RDN with the directory's name of its type, its value as sent */
	char rrdn[DN_MAX + POLICY_ATTR_MAX];
	struct berval nt = { new_t.bv_len, new_t.bv_val };
	size_t tl = real_type(p, &nt, new_t.bv_len, rrdn, POLICY_ATTR_MAX);
	const char *eq = memchr(m->newrdn.bv_val, '=', m->newrdn.bv_len);
	size_t vlen = eq ? m->newrdn.bv_len - (size_t)(eq - m->newrdn.bv_val) : 0;
	if (tl == 0 || eq == NULL || tl + vlen >= sizeof(rrdn)) {
		client_result(c, r->msgid, PDU_MODDN_RES, LDAP_INVALID_DN_SYNTAX, "aldproxy: the new RDN is not an RDN");
		return 0;
	}
	memcpy(rrdn + tl, eq, vlen);
	tl += vlen;
	unsigned char out[3 * DN_MAX + 64];
	size_t ol = pdu_moddn_op(out, sizeof(out), real, strlen(real), rrdn, tl, m->deleteoldrdn,
	    m->has_newsup ? sup : NULL, m->has_newsup ? strlen(sup) : 0);
	if (ol == 0) {
		client_result(c, r->msgid, PDU_MODDN_RES, LDAP_ADMINLIMIT_EXCEEDED, "aldproxy: modify DN request too large");
		return 0;
	}
	char what[POLICY_ATTR_MAX + 1];
	snprintf(what, sizeof(what), "%.*s", (int)(new_t.bv_len > POLICY_ATTR_MAX ? POLICY_ATTR_MAX : new_t.bv_len),
	    new_t.bv_val);
	return forward_write(c, r, u, PDU_MODDN_REQ, out, ol, real, m->dn.bv_val, m->dn.bv_len, what);
}
