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
#include "listener.h"
#include "log.h"
#include "server.h"

static int
refuse(struct client *c, struct request *r, int code, const char *diag, const char *logwhy)
{
	struct req_bind *b = &r->u.bind;
	c->srv->stats.binds_failed++;
	log_notice("conn=%llu msgid=%d BIND dn=\"%.*s\" refused: %s", (unsigned long long)c->id, r->msgid,
	    (int)(b->dn.bv_len > 256 ? 256 : b->dn.bv_len), b->dn.bv_val ? b->dn.bv_val : "", logwhy);
	pdu_result(bufferevent_get_output(c->bev), r->msgid, PDU_BIND_RES, code, "", diag);
	client_check_output(c);
	return 0;
}

int
bind_handle(struct client *c, struct request *r, unsigned char *buf, size_t len)
{
	struct req_bind *b = &r->u.bind;
	(void)buf;
	(void)len;
	int rc;
	const char *cdiag;

	/* RFC 4511 4.2.1: a bind, whatever its outcome, first drops the old identity */
	free(c->bound_dn);
	c->bound_dn = NULL;
	c->role = ROLE_NONE;
	if (c->li->profile == NULL)
		c->profile = NULL;

	if (b->version != 3)
		rc = refuse(c, r, LDAP_PROTOCOL_ERROR, "aldproxy: only LDAP version 3 is supported", "LDAP version 2");
	else if (b->auth_tag == 0xa3)
		rc = refuse(c, r, LDAP_AUTH_METHOD_NOT_SUPPORTED,
		    "aldproxy: SASL binds are not supported; use a simple bind over TLS", "SASL bind");
	else if (b->auth_tag != 0x80)
		rc = refuse(c, r, LDAP_AUTH_METHOD_NOT_SUPPORTED, "aldproxy: unknown authentication method",
		    "unknown authentication choice");
	else if (b->dn.bv_len == 0)
		/* RFC 4513 5.1.1 anonymous (and a password without a name) */
		rc = refuse(c, r, LDAP_INAPPROPRIATE_AUTH,
		    "aldproxy: anonymous binds are not allowed; bind with a DN and a password", "anonymous bind");
	else if (b->cred.bv_len == 0)
		/* RFC 4513 5.1.2: unauthenticated binds fail with unwillingToPerform */
		rc = refuse(c, r, LDAP_UNWILLING_TO_PERFORM,
		    "aldproxy: unauthenticated bind (DN with an empty password) is not allowed", "empty password");
	else if (controls_check(r, &cdiag) != LDAP_SUCCESS)
		rc = refuse(c, r, LDAP_UNAVAILABLE_CRITICAL_EXTENSION, cdiag, "unsupported critical control");
	else if (c->srv->cfg->require_tls && !c->tls)
		rc = refuse(c, r, LDAP_CONFIDENTIALITY_REQUIRED,
		    "aldproxy: use ldaps:// or StartTLS before sending a password", "bind without TLS");
	else {
		char ndn[DN_MAX];
		int nl = dn_normalize(b->dn.bv_val, b->dn.bv_len, ndn, sizeof(ndn));
		enum bind_role role;
		const struct service_account *sa;
		const struct profile *p = nl < 0 ? NULL :
		    profile_for_bind(c->srv->profiles, c->li->profile, c->profile, ndn, (size_t)nl, &role, &sa);
		if (nl < 0)
			rc = refuse(c, r, LDAP_INVALID_DN_SYNTAX, "aldproxy: invalid DN", "invalid DN");
		else if (p == NULL)
			/* the same answer as a wrong password: reveal nothing */
			rc = refuse(c, r, LDAP_INVALID_CREDENTIALS, NULL, "no profile accepts this DN");
		else {
			struct op *op = op_new(c, r->msgid, PDU_BIND_REQ);
			if (op == NULL || (op->bind_dn = malloc(b->dn.bv_len + 1)) == NULL) {
				if (op != NULL)
					op_free(op);
				rc = refuse(c, r, LDAP_OTHER, "aldproxy: out of memory", "out of memory");
			} else {
				memcpy(op->bind_dn, b->dn.bv_val, b->dn.bv_len);
				op->bind_dn[b->dn.bv_len] = '\0';
				op->bind_profile = p;
				op->bind_role = role;
				/* forward the request as received: BindRequest and its controls */
				struct evbuffer_iovec parts[2] = {
					{ r->op.bv_val, r->op.bv_len }, { r->ctrls.raw.bv_val, r->ctrls.raw.bv_len } };
				c->state = C_BINDING;
				if (backend_bind_submit(c->srv->backend, op, parts, r->ctrls.raw.bv_len ? 2 : 1) < 0)
					op_fail(op, LDAP_UNAVAILABLE, "aldproxy: no directory server is available");
				rc = 0;
			}
		}
	}
	if (b->cred.bv_val != NULL)
		explicit_bzero(b->cred.bv_val, b->cred.bv_len);
	return rc;
}

/*
 * The directory answered a bind (or it failed locally): record the new
 * identity on success and let the client read again.  The op is still
 * linked; the caller frees it.
 */
void
bind_finish(struct op *op, int code)
{
	struct client *c = op->client;
	if (c == NULL)
		return;
	if (code == LDAP_SUCCESS) {
		c->bound_dn = op->bind_dn;
		op->bind_dn = NULL;
		c->profile = op->bind_profile;
		c->role = op->bind_role;
		c->srv->stats.binds_ok++;
		log_info("conn=%llu msgid=%d BIND dn=\"%s\" profile=%s role=%s result=0", (unsigned long long)c->id,
		    op->client_msgid, c->bound_dn, c->profile->name, c->role == ROLE_SERVICE ? "service" : "user");
	} else {
		c->srv->stats.binds_failed++;
		log_notice("conn=%llu msgid=%d BIND dn=\"%s\" result=%d (%s)", (unsigned long long)c->id,
		    op->client_msgid, op->bind_dn ? op->bind_dn : "", code, ldap_err2string(code));
	}
	if (c->state == C_BINDING)
		c->state = C_ACTIVE;
	client_resume(c);
}
