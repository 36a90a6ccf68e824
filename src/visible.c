/*
 * visible.c — visibility checked with the directory before forwarding.
 * See visible.h; the rule itself is policy_visibility() in policy.c.
 */
#include "visible.h"

#include <stdlib.h>
#include <string.h>
#include <ldap.h>

#include "access.h"
#include "audit.h"
#include "backend.h"
#include "client.h"
#include "dn.h"
#include "filter.h"
#include "log.h"
#include "op.h"
#include "policy.h"
#include "state.h"
#include "upstream.h"

static const struct op_handler lookup_handler;

static const char *
operation_name(unsigned tag)
{
	switch (tag) {
	case PDU_SEARCH_REQ: return "search";
	case PDU_COMPARE_REQ: return "compare";
	case PDU_MODIFY_REQ: return "modify";
	case PDU_EXT_REQ: return "password_modify";
	case PDU_ADD_REQ: return "add";
	case PDU_DEL_REQ: return "delete";
	case PDU_MODDN_REQ: return "modrdn";
	default: return "other";
	}
}

void
visible_not_found(struct op *op)
{
	struct client *c = op->client;
	if (c != NULL && audit_enabled()) {
		struct audit_rec r;
		audit_begin(&r, "access_denied", AUDIT_DENIED);
		client_audit(&r, c);
		audit_num(&r, AK_OP, op->client_msgid);
		audit_str(&r, AK_USER, c->bound_dn);
		audit_str(&r, AK_OPERATION, operation_name(op->tag));
		audit_str(&r, AK_TARGET, op->target);
		audit_num(&r, AK_RESULT, LDAP_NO_SUCH_OBJECT);
		audit_str(&r, AK_REASON, "not_visible");
		audit_str(&r, AK_MESSAGE, "the entry is outside the profile's visible groups");
		audit_emit(&r);
	}
	/* exactly what a missing entry gets: no matchedDN, no message */
	op_fail(op, LDAP_NO_SUCH_OBJECT, NULL);
}

static void
send_held(struct op *op, struct backend *be)
{
	/* admitted before its visibility lookup: it may use the reserved slots too */
	size_t n = evbuffer_get_length(op->held);
	struct evbuffer_iovec part = { evbuffer_pullup(op->held, -1), n };
	if (backend_send_internal(be, op, op->dest, &part, 1) < 0)
		op_fail(op, LDAP_UNAVAILABLE, "aldproxy: no directory connection for the operation");
}

int
visible_then_send(struct client *c, struct op *op, const char *real, size_t rl, struct upstream *dest,
    const struct evbuffer_iovec *parts, int nparts)
{
	const struct profile *p = c->profile;
	char nd[DN_MAX];
	int nl = dn_normalize(real, rl, nd, sizeof(nd));
	enum policy_vis v = nl < 0 ? VIS_NONE : policy_visibility(p, nd, (size_t)nl);
	if (op->target == NULL && op->tag != PDU_SEARCH_REQ)
		op->target = strndup(real, rl > DN_MAX ? DN_MAX : rl);
	if (v == VIS_NONE) {
		visible_not_found(op);
		return 0;
	}
	if (v != VIS_USER) {
		struct upstream *u = dest != NULL ? dest : backend_pick(c->srv->backend);
		if (u == NULL || upstream_send(u, op, parts, nparts) < 0)
			op_fail(op, LDAP_BUSY, "aldproxy: the directory connection is saturated; retry");
		return 0;
	}
	/* a user: hold the request (its parts may live in the arena reused below) */
	if ((op->held = evbuffer_new()) == NULL) {
		op_fail(op, LDAP_OTHER, "aldproxy: cannot check the entry's visibility");
		return 0;
	}
	for (int i = 0; i < nparts; i++)
		if (evbuffer_add(op->held, parts[i].iov_base, parts[i].iov_len) < 0) {
			op_fail(op, LDAP_OTHER, "aldproxy: cannot check the entry's visibility");
			return 0;
		}
	/* a member of a visible group?  (|(memberOf=G1)...) on a base lookup */
	struct arena *a = &c->srv->arena;
	arena_reset(a);
	struct fnode *first = NULL, **tail = &first;
	for (size_t i = 0; i < p->nvisible_groups; i++) {
		struct fnode *m = fnode_eq(a, "memberOf", p->visible_groups[i], strlen(p->visible_groups[i]));
		if (m == NULL)
			break;
		*tail = m;
		tail = &m->next;
	}
	struct fnode *f = first ? fnode_list(a, F_OR, first) : NULL;
	unsigned char *fb = arena_alloc_bytes(a, 16384), *req = arena_alloc_bytes(a, 16384 + DN_MAX + 64);
	size_t fl = f && fb ? filter_encode(f, fb, 16384) : 0;
	size_t ql = fl && req ? pdu_base_search(req, 16384 + DN_MAX + 64, real, rl, fb, fl, "1.1") : 0;
	struct op *lk = ql > 0 ? op_new_internal(op, PDU_SEARCH_REQ, &lookup_handler) : NULL;
	if (lk == NULL) {
		op_fail(op, LDAP_OTHER, "aldproxy: cannot check the entry's visibility");
		return 0;
	}
	op->dest = dest;
	struct evbuffer_iovec sp = { req, ql };
	if (backend_send_internal(c->srv->backend, lk, NULL, &sp, 1) < 0) {
		op_free(lk);
		op_fail(op, LDAP_BUSY, "aldproxy: the directory connection is saturated; retry");
	}
	return 0;
}

static void
lookup_response(struct op *lk, struct evbuffer *in, const struct pdu_head *h)
{
	if (h->op_tag == PDU_SEARCH_ENTRY)
		lk->group_ok = 1;
	evbuffer_drain(in, h->total);
	if (h->op_tag == PDU_SEARCH_ENTRY || h->op_tag == PDU_SEARCH_REF || h->op_tag == PDU_INTERMEDIATE)
		return;
	struct op *parent = lk->parent;
	int visible = lk->group_ok;
	struct backend *be = lk->up->be;
	op_free(lk);
	if (parent == NULL)
		return;         /* its client has gone */
	if (!visible)
		visible_not_found(parent);
	else
		send_held(parent, be);
}

static const struct op_handler lookup_handler = { lookup_response, op_internal_fail };

int
visible_hides_missing(const struct op *op, int code)
{
	/* a missing entry answers exactly like an invisible one (visible_not_found()): no matchedDN */
	return code == LDAP_NO_SUCH_OBJECT && op->profile != NULL && op->profile->nvisible_groups > 0;
}

/* Compare, Modify, Password Modify: one answer, forwarded as it is; a missing entry answered like an invisible one. */
static void
forward_one(struct op *op, struct evbuffer *in, const struct pdu_head *h)
{
	if (h->op_tag == PDU_SEARCH_ENTRY || h->op_tag == PDU_SEARCH_REF || h->op_tag == PDU_INTERMEDIATE) {
		/* aldproxy allows no control that streams intermediate responses */
		evbuffer_drain(in, h->total);
		return;
	}
	int code = op_result_code(in, h);
	if (visible_hides_missing(op, code)) {
		evbuffer_drain(in, h->total);
		op_fail(op, LDAP_NO_SUCH_OBJECT, NULL);
		return;
	}
	op_forward(op, in, h);
	op_finish(op, code);
}

const struct op_handler visible_forward_handler = { forward_one, op_reply_fail };
