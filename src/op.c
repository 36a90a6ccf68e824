/*
 * op.c — an operation's life: creation, the generic steps its handler
 * uses (forwarding a response re-addressed, finishing, failing), freeing.
 * What an operation does with its answers is its handler's business
 * (bind.c, search_result.c, visible.c: its lookups and visible_forward_handler).  See op.h.
 */
#include "op.h"

#include <stdlib.h>
#include <string.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <ldap.h>

#include "backend.h"
#include "client.h"
#include "access.h"
#include "log.h"
#include "request.h"
#include "state.h"
#include "policy.h"
#include "share.h"
#include "upstream.h"

/* Recycled ops: the hot path never calls malloc for an op. */
static struct op *op_cache;
static size_t op_cache_len;
#define OP_CACHE_MAX 4096

static struct op *
op_alloc(void)
{
	struct op *op = op_cache;
	if (op != NULL) {
		op_cache = *(struct op **)op;
		op_cache_len--;
	} else if ((op = malloc(sizeof(*op))) == NULL) {
		return NULL;
	}
	memset(op, 0, sizeof(*op));
	op->start_us = now_us();
	return op;
}

struct op *
op_new(struct client *c, int msgid, unsigned tag, const struct op_handler *handler)
{
	struct op *op = op_alloc();
	if (op == NULL)
		return NULL;
	op->client = c;
	op->handler = handler;
	op->arrived_us = c->req_start_us;  /* etime counts from here, waits for capacity included */
	op->conn_id = c->id;
	op->client_msgid = msgid;
	op->tag = tag;
	op->profile = profile_hold(c->profile);
	TAILQ_INSERT_TAIL(&c->ops, op, c_link);
	c->nops++;
	/* counted in its shares until it ends, even as an orphan or after a rebind */
	op->shares[0] = share_hold(c->addr_share);
	op->shares[1] = share_hold(c->id_share);
	share_op_begin(op->shares[0]);
	share_op_begin(op->shares[1]);
	return op;
}

struct op *
op_new_internal(struct op *parent, unsigned tag, const struct op_handler *handler)
{
	struct op *op = op_alloc();
	if (op == NULL)
		return NULL;
	op->conn_id = parent->conn_id;
	op->client_msgid = parent->client_msgid;
	op->tag = tag;
	op->flags = OP_INTERNAL;
	op->handler = handler;
	op->profile = profile_hold(parent->bind_profile ? parent->bind_profile : parent->profile);
	op->parent = parent;
	parent->child = op;
	return op;
}

struct op *
op_send_own(struct backend *be, const struct profile *p, const struct op_handler *handler, const void *req, size_t len)
{
	struct op *op = len > 0 ? op_alloc() : NULL;
	if (op == NULL)
		return NULL;
	op->tag = PDU_SEARCH_REQ;
	op->flags = OP_INTERNAL;
	op->handler = handler;
	op->profile = profile_hold(p);
	struct evbuffer_iovec part = { (void *)req, len };
	if (backend_send_internal(be, op, NULL, &part, 1) < 0) {
		op_free(op);
		return NULL;
	}
	return op;
}

void
op_free(struct op *op)
{
	if (op->up != NULL)
		upstream_detach(op->up, op);
	if ((op->flags & OP_BULK) && op->client != NULL) {
		/* a slot for the bulk searches waiting (search.c) */
		struct backend *be = op->client->srv->backend;
		op->client->nbulk--;
		be->bulk--;
		backend_wake_all(be);
	}
	if (op->client != NULL) {
		TAILQ_REMOVE(&op->client->ops, op, c_link);
		op->client->nops--;
	}
	if (op->waitq != NULL)
		TAILQ_REMOVE(op->waitq, op, u_link);
	for (int i = 0; i < 2; i++) {
		share_op_end(op->shares[i]);
		share_put(op->shares[i]);
	}
	if (op->held != NULL) {
		size_t n = evbuffer_get_length(op->held);
		unsigned char *p = evbuffer_pullup(op->held, -1);
		if (p != NULL)
			explicit_bzero(p, n);
		evbuffer_free(op->held);
	}
	free(op->bind_dn);
	free(op->bind_real);
	free(op->target);
	free(op->attrs);
	free(op->want);
	profile_drop(op->profile);
	profile_drop(op->bind_profile);
	if (op->parent != NULL)
		op->parent->child = NULL;
	if (op->child != NULL) {
		struct op *child = op->child;
		child->parent = NULL;   /* the lookup finds no one to answer and is dropped */
		if (child->waitq != NULL)
			op_free(child);     /* not sent yet: no need to */
	}
	if (op_cache_len < OP_CACHE_MAX) {
		*(struct op **)op = op_cache;
		op_cache = op;
		op_cache_len++;
	} else {
		free(op);
	}
}

void
op_cache_clear(void)
{
	while (op_cache != NULL) {
		struct op *next = *(struct op **)op_cache;
		free(op_cache);
		op_cache = next;
	}
	op_cache_len = 0;
}

unsigned
op_response_tag(unsigned request_tag)
{
	switch (request_tag) {
	case PDU_BIND_REQ: return PDU_BIND_RES;
	case PDU_SEARCH_REQ: return PDU_SEARCH_DONE;
	case PDU_COMPARE_REQ: return PDU_COMPARE_RES;
	case PDU_MODIFY_REQ: return PDU_MODIFY_RES;
	case PDU_ADD_REQ: return PDU_ADD_RES;
	case PDU_DEL_REQ: return PDU_DEL_RES;
	case PDU_MODDN_REQ: return PDU_MODDN_RES;
	default: return PDU_EXT_RES;
	}
}

unsigned
op_request_tag(unsigned response_tag)
{
	switch (response_tag) {
	case PDU_BIND_RES: return PDU_BIND_REQ;
	case PDU_SEARCH_DONE: return PDU_SEARCH_REQ;
	case PDU_COMPARE_RES: return PDU_COMPARE_REQ;
	case PDU_MODIFY_RES: return PDU_MODIFY_REQ;
	case PDU_ADD_RES: return PDU_ADD_REQ;
	case PDU_DEL_RES: return PDU_DEL_REQ;
	case PDU_MODDN_RES: return PDU_MODDN_REQ;
	default: return PDU_EXT_REQ;
	}
}

/* The access line and metrics of a finished op; a write is also an audit record. */
/* The audit name of a write the directory answered, or NULL for any other operation. */
static const char *
write_operation(unsigned tag)
{
	switch (tag) {
	case PDU_MODIFY_REQ: return "modify";
	case PDU_EXT_REQ: return "password_modify";
	case PDU_ADD_REQ: return "add";
	case PDU_DEL_REQ: return "delete";
	case PDU_MODDN_REQ: return "modrdn";
	default: return NULL;
	}
}

static void
op_log(const struct op *op, int code, const char *diag)
{
	struct client *c = op->client;
	const struct profile *p = op->tag == PDU_BIND_REQ ? op->bind_profile : op->profile;
	if (c == NULL)
		return;         /* an orphaned bind: its client has gone */
	uint64_t from = op->arrived_us ? op->arrived_us : op->start_us;
	struct op_done d = { op->client_msgid, op_kind_of(op->tag), code, from, op->nentries, p ? p->name : NULL,
		op->tag == PDU_BIND_REQ ? (op->bind_dn ? op->bind_dn : c->bound_dn) : op->target, diag };
	client_op_account(c, &d);
	if (op->target != NULL && write_operation(op->tag) != NULL && audit_enabled()) {
		struct audit_rec r;
		audit_begin(&r, "write", code == LDAP_SUCCESS ? AUDIT_SUCCESS : AUDIT_FAILURE);
		client_audit(&r, c);
		audit_num(&r, AK_OP, op->client_msgid);
		audit_str(&r, AK_USER, c->bound_dn);
		audit_str(&r, AK_USER_DN, c->bound_real);
		audit_str(&r, AK_OPERATION, write_operation(op->tag));
		audit_str(&r, AK_TARGET, op->target);
		audit_str(&r, AK_ATTRIBUTES, op->attrs);
		audit_num(&r, AK_RESULT, code);
		audit_str(&r, AK_MESSAGE, diag);
		audit_emit(&r);
	}
}

int
op_result_code(struct evbuffer *in, const struct pdu_head *h)
{
	unsigned char b[PDU_HEAD_MAX + 16];
	size_t want = h->prefix + 12 < h->total ? h->prefix + 12 : h->total;
	if (evbuffer_copyout(in, b, want) != (ev_ssize_t)want)
		return -1;
	size_t i = h->prefix + 1;
	if (i >= want)
		return -1;
	i += b[i] < 0x80 ? 1 : 1 + (b[i] & 0x7f);
	if (i + 2 >= want || b[i] != 0x0a || b[i + 1] < 1 || b[i + 1] > 4 || i + 2 + b[i + 1] > want)
		return -1;
	int code = 0;
	for (int k = 0; k < b[i + 1]; k++)
		code = (code << 8) | b[i + 2 + k];
	return code;
}

/* Bytes of a TLV's tag and length octets at b (n bytes available); 0 if unreadable or indefinite. */
static size_t
tl_size(const unsigned char *b, size_t n)
{
	if (n < 2 || b[1] == 0x80)
		return 0;
	size_t hl = b[1] < 0x80 ? 2 : 2 + (size_t)(b[1] & 0x7f);
	return hl <= n && hl <= 6 ? hl : 0;
}

/* Length of the protocolOp TLV at h->prefix (read from its first bytes); 0 if unreadable. */
static size_t
op_tlv_len(struct evbuffer *in, const struct pdu_head *h)
{
	unsigned char b[PDU_HEAD_MAX + 8];
	size_t n = h->total < sizeof(b) ? h->total : sizeof(b);
	if (evbuffer_copyout(in, b, n) != (ev_ssize_t)n || h->prefix >= n)
		return 0;
	size_t hl = tl_size(b + h->prefix, n - h->prefix);
	if (hl == 0)
		return 0;
	size_t len = 0;
	if (hl == 2)
		len = b[h->prefix + 1];
	else
		for (size_t k = 2; k < hl; k++)
			len = (len << 8) | b[h->prefix + k];
	return h->prefix + hl + len <= h->total ? hl + len : 0;
}

/*
 * Forwards a response re-addressed to the client's messageID, with only
 * the controls policy_response_control() lets through (none on entries).
 * Without controls the bytes move without a copy.
 */
static void
forward_response(struct op *op, struct evbuffer *in, const struct pdu_head *h, struct evbuffer *out)
{
	unsigned char env[PDU_HEAD_MAX];
	size_t oplen = op_tlv_len(in, h);
	if (oplen == 0) {
		log_warn("conn=%llu msgid=%d: malformed response from %s dropped", (unsigned long long)op->conn_id,
		    op->client_msgid, op->up->name);
		evbuffer_drain(in, h->total);
		return;
	}
	if (h->prefix + oplen == h->total) {
		size_t n = pdu_envelope(env, op->client_msgid, oplen);
		if (evbuffer_add(out, env, n) < 0)
			goto oom;
		evbuffer_drain(in, h->prefix);
		if (evbuffer_remove_buffer(in, out, oplen) != (int)oplen) {
			evbuffer_drain(in, oplen);
			client_output_failed(op->client);
		}
		return;
	}
	/* [0] Controls follow: keep the allowed ones */
	const unsigned char *msg = evbuffer_pullup(in, (ev_ssize_t)h->total);
	struct berval kept[REQ_MAX_CONTROLS];
	size_t nkept = 0, p = h->prefix + oplen;
	size_t cend = msg != NULL && msg[p] == PDU_CONTROLS ? pdu_tlv_end(msg, h->total, p) : 0;
	if (cend != 0)
		p += tl_size(msg + p, cend - p);
	while (cend != 0 && p < cend && nkept < REQ_MAX_CONTROLS) {
		/* Control ::= SEQUENCE { controlType LDAPOID, ... } */
		size_t e = pdu_tlv_end(msg, cend, p), hl = tl_size(msg + p, cend - p);
		if (e == 0 || hl == 0 || msg[p] != 0x30 || msg[p + hl] != 0x04)
			break;
		size_t ohl = tl_size(msg + p + hl, e - p - hl), oend = pdu_tlv_end(msg, e, p + hl);
		if (ohl == 0 || oend == 0)
			break;
		if (policy_response_control(op->tag, h->op_tag, (const char *)msg + p + hl + ohl, oend - (p + hl + ohl)))
			kept[nkept++] = (struct berval){ e - p, (char *)msg + p };
		p = e;
	}
	unsigned char ctl[2048];
	size_t cl = pdu_controls(ctl, sizeof(ctl), kept, nkept);
	if (cl == (size_t)-1)
		cl = 0;
	size_t n = pdu_envelope(env, op->client_msgid, oplen + cl);
	/* room for the whole message first: the adds below cannot fail half-way */
	if (msg == NULL || evbuffer_expand(out, n + oplen + cl) < 0)
		goto oom;
	evbuffer_add(out, env, n);
	evbuffer_add(out, msg + h->prefix, oplen);
	evbuffer_add(out, ctl, cl);
	evbuffer_drain(in, h->total);
	return;
oom:
	evbuffer_drain(in, h->total);
	client_output_failed(op->client);
}

void
op_forward(struct op *op, struct evbuffer *in, const struct pdu_head *h)
{
	struct client *c = op->client;
	if (c == NULL || c->state == C_CLOSING) {
		evbuffer_drain(in, h->total);
		return;
	}
	forward_response(op, in, h, bufferevent_get_output(c->bev));
	client_check_output(c);
}

void
op_finish(struct op *op, int code)
{
	struct client *c = op->client;
	op_log(op, code, NULL);
	op_free(op);
	if (c != NULL)
		client_op_done(c);
}

void
op_reply_fail(struct op *op, int code, const char *diag)
{
	struct client *c = op->client;
	int msgid = op->client_msgid;
	unsigned rtag = op_response_tag(op->tag);
	op_log(op, code, diag);
	op_free(op);
	if (c != NULL && c->state != C_CLOSING) {
		client_reply(c, msgid, rtag, code, diag);
		client_op_done(c);
	}
}

void
op_internal_fail(struct op *op, int code, const char *diag)
{
	/* a failed lookup fails the operation it serves */
	struct op *parent = op->parent;
	op_free(op);
	if (parent != NULL)
		op_fail(parent, code, diag);
}

void
op_response(struct op *op, struct evbuffer *in, const struct pdu_head *h)
{
	op->handler->response(op, in, h);
}

void
op_fail(struct op *op, int code, const char *diag)
{
	op->handler->fail(op, code, diag);
}
