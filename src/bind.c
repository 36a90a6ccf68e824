/*
 * bind.c — client binds (RFC 4511 4.2, RFC 4513 5.1).
 *
 * Only simple binds with a DN and a password are accepted; anonymous and
 * unauthenticated binds are refused whatever the configuration says.  The
 * DN chooses the profile (profile.c); the password is verified by the
 * directory on a bind connection (backend.c), never on a shared one.
 * While the bind is in flight the client's reading is paused, so its next
 * request is handled under the new identity (RFC 4511 4.2.1).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <ldap.h>

#include "backend.h"
#include "client.h"
#include "config.h"
#include "dn.h"
#include "peers.h"
#include "policy.h"
#include "rewrite.h"
#include "select.h"
#include "upstream.h"
#include "listener.h"
#include "access.h"
#include "log.h"
#include "state.h"

static const struct op_handler bind_handler, group_check_handler;

/* The audit record of a bind: success, or failure with a reason keyword (docs/audit.md). */
static void
audit_bind(const struct client *c, int msgid, const char *name, const char *real, const struct profile *p,
    enum bind_role role, int code, const char *reason, const char *message)
{
	if (!audit_enabled())
		return;
	struct audit_rec r;
	audit_begin(&r, code == LDAP_SUCCESS ? "bind_success" : "bind_failure",
	    code == LDAP_SUCCESS ? AUDIT_SUCCESS : AUDIT_FAILURE);
	client_audit(&r, c);
	audit_num(&r, AK_OP, msgid);
	if (p != NULL && (c->profile == NULL || c->profile != p))
		audit_str(&r, AK_PROFILE, p->name);
	audit_str(&r, AK_USER, name);
	audit_str(&r, AK_USER_DN, real);
	if (code == LDAP_SUCCESS)
		audit_str(&r, AK_ROLE, role == ROLE_SERVICE ? "service" : "user");
	audit_num(&r, AK_RESULT, code);
	audit_str(&r, AK_REASON, reason);
	audit_str(&r, AK_MESSAGE, message);
	audit_emit(&r);
}

/* A failed bind counts against the address and the account (peers.h); blocking is audited once. */
static void
bind_failure_counted(struct client *c, const char *name, size_t len)
{
	const struct config *cfg = c->srv->cfg;
	if (peers_bind_failed(cfg, c->peer_ip, name, len, now_us())) {
		log_warn("binds from %s refused for %.0f s: limits.address_failures_block (%ld) failed binds", c->peer_ip,
		    cfg->address_block_time, cfg->address_failures_block);
		if (audit_enabled()) {
			struct audit_rec r;
			audit_begin(&r, "address_blocked", AUDIT_DENIED);
			client_audit(&r, c);
			audit_num(&r, AK_RESULT, LDAP_UNWILLING_TO_PERFORM);
			audit_str(&r, AK_REASON, "too_many_failed_binds");
			audit_str(&r, AK_MESSAGE, "the address is refused binds for limits.address_block_time");
			audit_emit(&r);
		}
	}
}

/* A bind refused by aldproxy itself, before the directory is asked. */
static int
refuse(struct client *c, struct request *r, int code, const char *diag, const char *logwhy, const char *reason,
    const struct profile *p)
{
	struct req_bind *b = &r->u.bind;
	char name[300];
	snprintf(name, sizeof(name), "%.*s", (int)(b->dn.bv_len > 256 ? 256 : b->dn.bv_len),
	    b->dn.bv_val ? b->dn.bv_val : "");
	c->srv->stats.binds_failed++;
	if (pdu_result(bufferevent_get_output(c->bev), r->msgid, PDU_BIND_RES, code, "", diag) < 0)
		client_close(c, LDAP_OTHER, "out of memory for a response");
	client_check_output(c);
	client_account(c, r->msgid, PDU_BIND_REQ, code, 0, name, logwhy);
	audit_bind(c, r->msgid, b->dn.bv_len ? name : NULL, NULL, p, ROLE_NONE, code, reason, logwhy);
	if (code == LDAP_INVALID_CREDENTIALS)
		bind_failure_counted(c, b->dn.bv_val, b->dn.bv_len);
	return 0;
}

static const char *
bind_reason(int code)
{
	switch (code) {
	case LDAP_SUCCESS: return NULL;
	case LDAP_INVALID_CREDENTIALS: return "invalid_credentials";
	case LDAP_UNWILLING_TO_PERFORM: return "account_disabled";      /* 389-ds: nsAccountLock */
	case LDAP_CONSTRAINT_VIOLATION: return "account_locked";        /* 389-ds: retry limit */
	case LDAP_UNAVAILABLE: case LDAP_BUSY: return "directory_unavailable";
	default: return "directory_error";
	}
}

/* AD's answer for a failed bind (MS-ADTS: the "data" code names the reason). */
static const char *
ad_diagnostic(int code)
{
	switch (code) {
	case LDAP_UNWILLING_TO_PERFORM:     /* 389-ds: account inactivated */
		return "80090308: LdapErr: DSID-0C09044E, comment: AcceptSecurityContext error, data 533, v4563";
	case LDAP_CONSTRAINT_VIOLATION:     /* 389-ds: password retry limit exceeded */
		return "80090308: LdapErr: DSID-0C09044E, comment: AcceptSecurityContext error, data 775, v4563";
	default:
		return "80090308: LdapErr: DSID-0C09044E, comment: AcceptSecurityContext error, data 52e, v4563";
	}
}

static int
bind_start(struct client *c, struct request *r, const struct profile *prev)
{
	struct req_bind *b = &r->u.bind;
	char real[DN_MAX];
	/* the listener, the SNI and the source address choose among the profiles (profile_select()) */
	struct bind_origin origin = { c->peer_ip, c->sni[0] ? c->sni : NULL };
	struct bind_choice ch;
	const struct profile *p = profile_select(c->srv->profiles, c->fixed, prev, &origin, b->dn.bv_val, b->dn.bv_len,
	    real, sizeof(real), &ch);
	enum bind_role role = ch.role;
	const struct service_account *sa = ch.sa;
	if (p == NULL && ch.refused != NULL) {
		char why[200];
		snprintf(why, sizeof(why), "profile %s does not allow clients from %s (clients)", ch.refused->name, c->peer_ip);
		log_notice("conn=%llu msgid=%d BIND: %s", (unsigned long long)c->id, r->msgid, why);
		return refuse(c, r, LDAP_INVALID_CREDENTIALS, ch.refused->ad_diagnostics ? ad_diagnostic(49) : NULL, why,
		    "client_address_not_allowed", ch.refused);
	}
	if (p == NULL)
		/* the same answer as a wrong password: reveal nothing */
		return refuse(c, r, LDAP_INVALID_CREDENTIALS, NULL, "no profile accepts this name", "unknown_name", NULL);
	if (c->fixed == NULL)
		log_debug("conn=%llu msgid=%d BIND: profile %s by %s%s%s", (unsigned long long)c->id, r->msgid, p->name,
		    select_step_name(ch.step), c->sni[0] ? "; server name " : "", c->sni);
	if (sa != NULL && sa->hash != NULL) {
		/* a service account kept in the profile: verified here, the directory is not asked */
		/* the password that matched last time costs one HMAC; anything else the full (slow) hash */
		int ok = password_memo_match(sa->memo, b->cred.bv_val, b->cred.bv_len) ||
		    password_hash_check(sa->hash, b->cred.bv_val, b->cred.bv_len) == 1;
		if (ok)
			password_memo_set(sa->memo, b->cred.bv_val, b->cred.bv_len);
		if (!ok)
			return refuse(c, r, LDAP_INVALID_CREDENTIALS, p->ad_diagnostics ? ad_diagnostic(49) : NULL,
			    "wrong password for a profile service account", "invalid_credentials", p);
		c->bound_dn = strndup(b->dn.bv_val, b->dn.bv_len);
		client_set_profile(c, p);
		c->role = ROLE_SERVICE;
		c->srv->stats.binds_ok++;
		client_bound(c);
		if (pdu_result(bufferevent_get_output(c->bev), r->msgid, PDU_BIND_RES, LDAP_SUCCESS, "", NULL) < 0)
			client_close(c, LDAP_OTHER, "out of memory for a response");
		client_check_output(c);
		client_account(c, r->msgid, PDU_BIND_REQ, LDAP_SUCCESS, 0, NULL, NULL);
		audit_bind(c, r->msgid, c->bound_dn, NULL, p, ROLE_SERVICE, LDAP_SUCCESS, NULL, "service account of the profile");
		return 0;
	}
	struct op *op = op_new(c, r->msgid, PDU_BIND_REQ, &bind_handler);
	if (op == NULL || (op->bind_dn = strndup(b->dn.bv_val, b->dn.bv_len)) == NULL ||
	    (op->bind_real = strdup(real)) == NULL) {
		if (op != NULL)
			op_free(op);
		return refuse(c, r, LDAP_OTHER, "aldproxy: out of memory", "out of memory", "internal_error", NULL);
	}
	op->bind_profile = profile_hold(p);
	op->bind_role = role;
	/* the request as received, or re-encoded when the name was translated */
	unsigned char hdr[PDU_HEAD_MAX * 2 + DN_MAX + 4096];
	struct evbuffer_iovec parts[3];
	int nparts = 0;
	size_t rl = strlen(real);
	if (rl == b->dn.bv_len && memcmp(real, b->dn.bv_val, rl) == 0) {
		parts[nparts].iov_base = r->op.bv_val;
		parts[nparts++].iov_len = r->op.bv_len;
	} else {
		if (b->cred.bv_len > 4000) {
			op_free(op);
			return refuse(c, r, LDAP_INVALID_CREDENTIALS, NULL, "password longer than 4000 bytes",
			    "invalid_credentials", NULL);
		}
		size_t n = pdu_simple_bind_op(hdr, sizeof(hdr), real, rl, b->cred.bv_val, b->cred.bv_len);
		if (n == 0) {
			op_free(op);
			return refuse(c, r, LDAP_INVALID_CREDENTIALS, NULL, "bind request too large", "invalid_credentials",
			    NULL);
		}
		parts[nparts].iov_base = hdr;
		parts[nparts++].iov_len = n;
	}
	struct berval ctls[REQ_MAX_CONTROLS];
	unsigned char cbuf[1024];
	size_t cl = pdu_controls(cbuf, sizeof(cbuf), ctls, request_forwarded_controls(r, ctls, REQ_MAX_CONTROLS));
	if (cl == (size_t)-1) {
		op_free(op);
		return refuse(c, r, LDAP_ADMINLIMIT_EXCEEDED, "aldproxy: the bind's controls are too large", "controls too large",
		    "internal_error", NULL);
	}
	if (cl > 0) {
		parts[nparts].iov_base = cbuf;
		parts[nparts++].iov_len = cl;
	}
	c->state = C_BINDING;
	int sent = backend_bind_submit(c->srv->backend, op, parts, nparts);
	explicit_bzero(hdr, sizeof(hdr));
	if (sent < 0)
		op_fail(op, LDAP_UNAVAILABLE, "aldproxy: no directory server is available");
	return 0;
}

int
bind_handle(struct client *c, struct request *r, unsigned char *buf, size_t len)
{
	struct req_bind *b = &r->u.bind;
	(void)buf;
	(void)len;
	int rc;
	char cdiag[300];
	int ccode;
	const struct config *cfg = c->srv->cfg;
	uint64_t now = now_us();

	/* failed binds from this address or for this account slow the next ones (peers.h) */
	int blocked = 0;
	double block_left = 0;
	if (b->auth_tag == 0x80 && b->dn.bv_len > 0 && b->cred.bv_len > 0) {
		uint64_t wait = peers_bind_wait(cfg, c->peer_ip, b->dn.bv_val, b->dn.bv_len, now, &blocked, &block_left);
		if (wait == 0 && !blocked)
			wait = peers_bind_budget(cfg, now);     /* the controllers' CPU */
		if (wait > 0) {
			client_delay(c, wait);
			return HANDLER_WAIT;
		}
	}

	/* RFC 4511 4.2.1: a bind, whatever its outcome, first drops the old identity;
	 * the old profile still guides the choice of the new one (a product
	 * re-binding as the user it just found) */
	const struct profile *prev = profile_hold(c->profile);
	client_forget_identity(c);
	if (c->fixed == NULL)
		client_set_profile(c, NULL);

	if (blocked) {
		snprintf(cdiag, sizeof(cdiag), "aldproxy: too many failed binds from %s; binds from it are refused for "
		    "another %.0f s", c->peer_ip, block_left);
		rc = refuse(c, r, LDAP_UNWILLING_TO_PERFORM, cdiag, "address blocked after failed binds", "address_blocked",
		    NULL);
	} else if (b->version != 3)
		rc = refuse(c, r, LDAP_PROTOCOL_ERROR, "aldproxy: only LDAP version 3 is supported", "LDAP version 2",
		    "protocol_version", NULL);
	else if (b->auth_tag == 0xa3)
		rc = refuse(c, r, LDAP_AUTH_METHOD_NOT_SUPPORTED,
		    "aldproxy: SASL binds are not supported; use a simple bind over TLS", "SASL bind", "sasl_refused", NULL);
	else if (b->auth_tag != 0x80)
		rc = refuse(c, r, LDAP_AUTH_METHOD_NOT_SUPPORTED, "aldproxy: unknown authentication method",
		    "unknown authentication choice", "auth_method", NULL);
	else if (b->dn.bv_len == 0)
		/* RFC 4513 5.1.1 anonymous (and a password without a name) */
		rc = refuse(c, r, LDAP_INAPPROPRIATE_AUTH,
		    "aldproxy: anonymous binds are not allowed; bind with a DN and a password", "anonymous bind",
		    "anonymous_refused", NULL);
	else if (b->cred.bv_len == 0)
		/* RFC 4513 5.1.2: unauthenticated binds fail with unwillingToPerform */
		rc = refuse(c, r, LDAP_UNWILLING_TO_PERFORM,
		    "aldproxy: unauthenticated bind (DN with an empty password) is not allowed", "empty password",
		    "empty_password", NULL);
	else if ((ccode = policy_controls(PDU_BIND_REQ, &r->ctrls, r->ctrls.verdict, cdiag, sizeof(cdiag))) != LDAP_SUCCESS)
		rc = refuse(c, r, ccode, cdiag, ccode == LDAP_UNAVAILABLE_CRITICAL_EXTENSION ? "unsupported critical control" :
		    "malformed control", "critical_control", NULL);
	else if (c->srv->cfg->require_tls && !c->tls)
		rc = refuse(c, r, LDAP_CONFIDENTIALITY_REQUIRED,
		    "aldproxy: use ldaps:// or StartTLS before sending a password", "bind without TLS", "tls_required", NULL);
	else
		rc = bind_start(c, r, prev);
	profile_drop(prev);
	if (b->cred.bv_val != NULL)
		explicit_bzero(b->cred.bv_val, b->cred.bv_len);
	return rc;
}

/*
 * The directory answered a bind (or it failed locally): record the new
 * identity on success and let the client read again.  The op is still
 * linked; the caller frees it.
 */
static void
bind_finish(struct op *op, int code)
{
	struct client *c = op->client;
	if (c == NULL)
		return;
	if (code == LDAP_SUCCESS) {
		/* the identity in the product's terms: the directory DN seen through the virtual tree */
		char vdn[DN_MAX];
		if (op->bind_real != NULL && rewrite_dn_out(op->bind_profile, op->bind_real, strlen(op->bind_real), vdn,
		    sizeof(vdn)) >= 0) {
			c->bound_dn = strdup(vdn);
		} else {
			c->bound_dn = op->bind_dn;
			op->bind_dn = NULL;
		}
		client_set_profile(c, op->bind_profile);
		c->bound_real = op->bind_real;
		op->bind_real = NULL;
		c->role = op->bind_role;
		c->srv->stats.binds_ok++;
		client_bound(c);
		if (op->bind_dn != NULL)
			peers_bind_ok(op->bind_dn, strlen(op->bind_dn));
		audit_bind(c, op->client_msgid, c->bound_dn, c->bound_real, c->profile, c->role, code, NULL, NULL);
	} else {
		c->srv->stats.binds_failed++;
		if (code == LDAP_INVALID_CREDENTIALS && op->bind_dn != NULL)
			bind_failure_counted(c, op->bind_dn, strlen(op->bind_dn));
		audit_bind(c, op->client_msgid, op->bind_dn, op->bind_real, op->bind_profile, op->bind_role, code,
		    op->deny_reason ? op->deny_reason : bind_reason(code),
		    op->deny_reason ? NULL : code == LDAP_INVALID_CREDENTIALS ? NULL : ldap_err2string(code));
	}
	if (c->state == C_BINDING)
		c->state = C_ACTIVE;
	client_resume(c);
}

/* ---- group check after a successful bind ---------------------------------- */

static int
in_groups(const struct profile *p, const struct berval *dn)
{
	char nd[DN_MAX];
	int nl = dn_normalize(dn->bv_val, dn->bv_len, nd, sizeof(nd));
	char **groups = p->nlogin_groups ? p->login_groups : p->visible_groups;
	size_t n = p->nlogin_groups ? p->nlogin_groups : p->nvisible_groups;
	for (size_t i = 0; nl >= 0 && i < n; i++)
		if (strcmp(nd, groups[i]) == 0)
			return 1;
	return 0;
}

static int
bind_needs_group_check(const struct op *op)
{
	const struct profile *p = op->bind_profile;
	return p != NULL && op->bind_role == ROLE_USER && (p->nlogin_groups > 0 || p->nvisible_groups > 0);
}

static const char *
bind_failure_diag(const struct op *op, int code)
{
	return op->bind_profile != NULL && op->bind_profile->ad_diagnostics ? ad_diagnostic(code) : NULL;
}

/*
 * The directory accepted the password; now read the user's memberOf on a
 * shared connection and let the bind succeed only for members of the
 * profile's login (or visible) groups.  The bind op waits, detached from
 * any connection, until bind_lookup_response() finishes it.
 */
static int
bind_group_check_start(struct op *op)
{
	struct client *c = op->client;
	struct op *lk = op_new_internal(op, PDU_SEARCH_REQ, &group_check_handler);
	if (lk == NULL)
		return -1;
	unsigned char buf[DN_MAX + 128];
	size_t n = pdu_base_search(buf, sizeof(buf), op->bind_real, strlen(op->bind_real), NULL, 0, "memberOf");
	struct evbuffer_iovec part = { buf, n };
	if (n == 0) {
		op_free(lk);
		return -1;
	}
	/* it may wait for a reserved slot, not fail, when clients fill the connections */
	if (backend_send_internal(c->srv->backend, lk, NULL, &part, 1) < 0) {
		op_free(lk);
		return -1;
	}
	return 0;
}

static void
group_check_response(struct op *lk, struct evbuffer *in, const struct pdu_head *h)
{
	if (h->op_tag == PDU_SEARCH_ENTRY) {
		unsigned char *msg = evbuffer_pullup(in, (ev_ssize_t)h->total);
		struct berval bv = { h->total, (char *)msg }, dn, name, val;
		BerElement *ber = lk->up->ber;
		ber_int_t id;
		ber_len_t len;
		char *last, *vlast;
		ber_init2(ber, &bv, LBER_USE_DER);
		if (lk->profile != NULL && bscan(ber, "{i{m", &id, &dn) == 0)
			for (ber_tag_t t = ber_first_element(ber, &len, &last); t != LBER_DEFAULT;
			     t = ber_next_element(ber, &len, last)) {
				if (bscan(ber, "{m", &name) < 0)
					break;
				int mo = attr_eq(&name, "memberOf");
				for (ber_tag_t vt = ber_first_element(ber, &len, &vlast); vt != LBER_DEFAULT;
				     vt = ber_next_element(ber, &len, vlast)) {
					if (bscan(ber, "m", &val) < 0)
						break;
					if (mo && in_groups(lk->profile, &val))
						lk->group_ok = 1;
				}
			}
		evbuffer_drain(in, h->total);
		return;
	}
	if (h->op_tag == PDU_SEARCH_REF || h->op_tag == PDU_INTERMEDIATE) {
		evbuffer_drain(in, h->total);
		return;
	}
	evbuffer_drain(in, h->total);
	struct op *parent = lk->parent;
	int ok = lk->group_ok;
	op_free(lk);
	if (parent == NULL)
		return;         /* the client left meanwhile */
	struct client *c = parent->client;
	if (!ok) {
		log_notice("conn=%llu msgid=%d BIND dn=\"%s\": not a member of profile %s's login groups",
		    (unsigned long long)parent->conn_id, parent->client_msgid, parent->bind_dn, parent->bind_profile->name);
		parent->deny_reason = "not_in_login_group";
		op_fail(parent, LDAP_INVALID_CREDENTIALS, bind_failure_diag(parent, LDAP_INVALID_CREDENTIALS));
		return;
	}
	int msgid = parent->client_msgid;
	bind_finish(parent, LDAP_SUCCESS);
	op_free(parent);
	if (c != NULL && c->state != C_CLOSING) {
		client_result(c, msgid, PDU_BIND_RES, LDAP_SUCCESS, NULL);
		client_op_done(c);
	}
}

static const struct op_handler group_check_handler = { group_check_response, op_internal_fail };

/*
 * A bind answered by the directory: plain pass-through, or held back for
 * the profile's group check, or answered AD-style.
 */
static void
bind_response(struct op *op, struct evbuffer *in, const struct pdu_head *h)
{
	struct client *c = op->client;
	struct backend *be = op->up->be;
	if (h->op_tag != PDU_BIND_RES) {
		evbuffer_drain(in, h->total);
		return;
	}
	int code = op_result_code(in, h);
	if (c != NULL && c->state != C_CLOSING) {
		if (code == LDAP_SUCCESS && bind_needs_group_check(op)) {
			evbuffer_drain(in, h->total);
			upstream_detach(op->up, op);
			backend_bind_dispatch(be);
			if (bind_group_check_start(op) < 0)
				op_fail(op, LDAP_UNAVAILABLE, "aldproxy: no directory connection for the group check");
			return;
		}
		if (code != LDAP_SUCCESS && bind_failure_diag(op, code) != NULL) {
			evbuffer_drain(in, h->total);
			upstream_detach(op->up, op);
			backend_bind_dispatch(be);
			/* AD answers every failed simple bind with invalidCredentials and a reason code */
			op->deny_reason = bind_reason(code);
			op_fail(op, LDAP_INVALID_CREDENTIALS, bind_failure_diag(op, code));
			return;
		}
	}
	bind_finish(op, code);
	op_forward(op, in, h);
	op_finish(op, code);
	backend_bind_dispatch(be);
}

static void
bind_fail(struct op *op, int code, const char *diag)
{
	bind_finish(op, code);
	op_reply_fail(op, code, diag);
}

static const struct op_handler bind_handler = { bind_response, bind_fail };
