/*
 * write.c — the writes a profile may allow: Modify of listed attributes
 * and the Password Modify extended operation (RFC 3062), for IDM products.
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
 * directory DN); target and attrs (the client's terms) go to the audit trail.
 */
static int
forward_write(struct client *c, struct request *r, struct upstream *u, unsigned tag, const unsigned char *op,
    size_t oplen, const char *real, const char *target, size_t target_len, const char *attrs)
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
	if (c->profile->nvisible_groups > 0)
		return visible_then_send(c, o, real, strlen(real), u, parts, 2);
	if (upstream_send(u, o, parts, 2) < 0)
		op_fail(o, LDAP_BUSY, "aldproxy: the directory connection is saturated; retry");
	return 0;
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
