/*
 * extop.c — extended operations answered by aldproxy itself:
 * StartTLS (RFC 4511 4.14, RFC 4513 3) and Who am I? (RFC 4532).
 * Password Modify is refused until profiles allow writes; any other
 * request name is a protocolError (RFC 4511 4.12).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <event2/bufferevent.h>
#include <ldap.h>

#include "client.h"
#include "log.h"
#include "pdu.h"
#include "state.h"

static int
is_oid(const struct berval *bv, const char *oid)
{
	return bv->bv_len == strlen(oid) && memcmp(bv->bv_val, oid, bv->bv_len) == 0;
}

static void
ext_reply(struct client *c, int msgid, int code, const char *diag, const char *oid, const void *val, size_t vlen)
{
	if (pdu_ext_result(bufferevent_get_output(c->bev), msgid, code, diag, oid, val, vlen) < 0) {
		/* never silence: an answer that cannot be encoded becomes an error result */
		code = LDAP_OTHER;
		diag = "aldproxy: the response does not fit; nothing was changed";
		if (pdu_ext_result(bufferevent_get_output(c->bev), msgid, code, diag, NULL, NULL, 0) < 0) {
			client_close(c, LDAP_OTHER, "cannot encode a response");
			return;
		}
	}
	client_check_output(c);
	client_account(c, msgid, PDU_EXT_REQ, code, 0, NULL, diag);
}

int
extop_handle(struct client *c, struct request *r, unsigned char *buf, size_t len)
{
	const struct req_ext *e = &r->u.ext;
	(void)buf;
	(void)len;
	if (is_oid(&e->oid, OID_STARTTLS)) {
		if (c->srv->tls_server == NULL)
			ext_reply(c, r->msgid, LDAP_UNAVAILABLE, "aldproxy: StartTLS is not configured (tls.certificate)",
			    OID_STARTTLS, NULL, 0);
		else if (c->tls)
			ext_reply(c, r->msgid, LDAP_OPERATIONS_ERROR, "aldproxy: TLS is already established",
			    OID_STARTTLS, NULL, 0);
		else if (c->nops > 0)
			/* RFC 4511 4.14.1: no outstanding operations */
			ext_reply(c, r->msgid, LDAP_OPERATIONS_ERROR,
			    "aldproxy: StartTLS with operations outstanding", OID_STARTTLS, NULL, 0);
		else {
			ext_reply(c, r->msgid, LDAP_SUCCESS, NULL, OID_STARTTLS, NULL, 0);
			c->starttls_pending = 1;
		}
		return 0;
	}
	if (is_oid(&e->oid, OID_WHOAMI)) {
		char authzid[3500];
		int n = 0;
		if (c->bound_dn != NULL)
			n = snprintf(authzid, sizeof(authzid), "dn:%s", c->bound_dn);
		if (n < 0 || (size_t)n >= sizeof(authzid))
			ext_reply(c, r->msgid, LDAP_OTHER, "aldproxy: the bound name is too long to report", NULL, NULL, 0);
		else
			ext_reply(c, r->msgid, LDAP_SUCCESS, NULL, NULL, authzid, (size_t)n);
		return 0;
	}
	if (is_oid(&e->oid, OID_PASSWD_MODIFY))
		return passwd_handle(c, r);
	char diag[200];
	snprintf(diag, sizeof(diag), "aldproxy: unsupported extended operation %.*s",
	    (int)(e->oid.bv_len > 100 ? 100 : e->oid.bv_len), e->oid.bv_val);
	ext_reply(c, r->msgid, LDAP_PROTOCOL_ERROR, diag, NULL, NULL, 0);
	return 0;
}
