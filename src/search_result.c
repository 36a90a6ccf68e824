/*
 * search_result.c — what comes back for a forwarded search: each entry
 * checked against the profile (secrets and hidden attributes dropped) or
 * rewritten into the profile's view (rewrite.c), references dropped, the
 * paged-results cookie swapped for aldproxy's own, missing entries answered
 * like invisible ones.  The search op's handler (search_handler).
 */
#include "search_result.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <ldap.h>

#include "arena.h"
#include "backend.h"
#include "client.h"
#include "clock.h"
#include "log.h"
#include "pdu.h"
#include "policy.h"
#include "request.h"
#include "rewrite.h"
#include "state.h"
#include "upstream.h"
#include "visible.h"

/*
 * Copies a SearchResultEntry to the client without the attributes its
 * profile may not see (secrets always).  Pass 0 measures; when nothing is
 * dropped it returns 0 and the caller forwards the entry as received;
 * otherwise pass 1 writes the reduced entry (whole, or nothing) and it
 * returns 1.  -1 for a malformed entry, -2 when out of memory for it.
 */
static int
scrub_entry(struct op *op, struct evbuffer *in, const struct pdu_head *h, struct evbuffer *out)
{
	BerElement *ber = op->up->ber;
	unsigned char *msg = evbuffer_pullup(in, (ev_ssize_t)h->total);
	struct berval bv = { h->total, (char *)msg };
	struct berval dn, name;
	ber_int_t msgid;
	ber_len_t len;
	char *last;
	size_t dn_start, kept = 0, all = 0;
	struct evbuffer_iovec v;
	unsigned char *w = NULL;
	size_t total = 0, off = 0;

	if (msg == NULL)
		return -2;
	for (int pass = 0; pass < 2; pass++) {
		ber_init2(ber, &bv, LBER_USE_DER);
		if (bscan(ber, "{i{", &msgid) < 0)
			return -1;
		dn_start = ber_cursor(ber, h->total);
		if (bscan(ber, "m", &dn) < 0)
			return -1;
		size_t dn_end = ber_cursor(ber, h->total);
		if (pass == 1) {
			/* the entry's controls, if any, are not forwarded (policy_response_control()) */
			size_t dnl = dn_end - dn_start;
			total = pdu_message_size(op->client_msgid, enc_tlv_size(dnl + enc_tlv_size(kept)));
			if ((w = pdu_reserve(out, total, &v)) == NULL)
				return -2;
			off = pdu_entry_head(w, total, op->client_msgid, dnl, kept);
			if (off != 0)
				off = pdu_put_raw(w, total, off, msg + dn_start, dnl);
			if (off != 0)
				off = pdu_put_tl(w, total, off, 0x30, kept);
			if (off == 0)
				return -1;
		}
		for (ber_tag_t t = ber_first_element(ber, &len, &last); t != LBER_DEFAULT;
		     t = ber_next_element(ber, &len, last)) {
			size_t a_start = ber_cursor(ber, h->total);
			if (bscan(ber, "{mx}", &name) < 0)
				return -1;
			size_t a_end = ber_cursor(ber, h->total);
			if (pass == 0)
				all += a_end - a_start;
			if (policy_attr_secret(name.bv_val, name.bv_len) ||
			    (op->profile && !policy_attr_allowed(op->profile, name.bv_val, name.bv_len)))
				continue;
			if (pass == 0)
				kept += a_end - a_start;
			else if ((off = pdu_put_raw(w, total, off, msg + a_start, a_end - a_start)) == 0)
				return -1;
		}
		if (bscan(ber, "}") < 0)
			return -1;
		if (pass == 0 && kept == all)
			return 0;       /* nothing to drop: forward as received */
	}
	if (off != total)
		return -1;              /* what pass 1 kept is not what pass 0 measured: nothing is sent */
	if (pdu_commit(out, &v, total) < 0)
		return -2;
	evbuffer_drain(in, h->total);
	return 1;
}

/*
 * The last message of a page.  The directory's cookie stays with the
 * leased connection; the client gets aldproxy's own cookie naming the
 * lease (389-ds hands out the same cookie on every connection, so its
 * cookie cannot tell two paged searches apart).  An empty cookie ends the
 * lease.  Writes the re-addressed message to out (NULL: client gone).
 * 0, or -1 when out of memory for it (nothing written).
 */
static int
paged_forward(struct op *op, struct evbuffer *in, const struct pdu_head *h, int code, struct evbuffer *out)
{
	struct upstream *u = op->up;
	BerElement *ber = u->ber;
	unsigned char *msg = evbuffer_pullup(in, (ev_ssize_t)h->total);
	struct berval bv = { h->total, (char *)msg }, oid, value, cookie = { 0, NULL };
	ber_int_t msgid, size = 0;
	ber_len_t len;
	char *last;
	size_t op_start = h->prefix, op_end = pdu_tlv_end(msg, h->total, h->prefix);
	ber_init2(ber, &bv, LBER_USE_DER);
	if (code == LDAP_SUCCESS && op_end != 0 && bscan(ber, "{ix", &msgid) == 0 &&
	    ber_peek_tag(ber, &len) == PDU_CONTROLS) {
		for (ber_tag_t t = ber_first_element(ber, &len, &last); t != LBER_DEFAULT;
		     t = ber_next_element(ber, &len, last)) {
			value.bv_len = 0;
			if (bscan(ber, "{m", &oid) < 0)
				break;
			if (ber_peek_tag(ber, &len) == LBER_BOOLEAN && bscan(ber, "x") < 0)
				break;
			if (ber_peek_tag(ber, &len) == LBER_OCTETSTRING && bscan(ber, "m", &value) < 0)
				break;
			if (oid.bv_len == strlen(OID_PAGED_RESULTS) && memcmp(oid.bv_val, OID_PAGED_RESULTS, oid.bv_len) == 0) {
				BerElement *inner = ber_init(&value);
				struct berval ck;
				if (inner != NULL && bscan(inner, "{im}", &size, &ck) == 0 && ck.bv_len > 0 &&
				    (cookie.bv_val = malloc(ck.bv_len)) != NULL) {
					memcpy(cookie.bv_val, ck.bv_val, ck.bv_len);
					cookie.bv_len = ck.bv_len;
				}
				if (inner != NULL)
					ber_free(inner, 1);
			}
		}
	}
	free(u->cookie);
	u->cookie = (unsigned char *)cookie.bv_val;
	u->cookie_len = cookie.bv_len;
	u->lease_used_us = now_us();
	unsigned char mine[12] = { 'A', 'L', 'D', 'P' };
	size_t minelen = 0;
	if (cookie.bv_len == 0) {
		upstream_lease_release(u);
	} else {
		for (int k = 0; k < 4; k++) {
			mine[4 + k] = (unsigned char)((uint32_t)u->index >> (24 - 8 * k));
			mine[8 + k] = (unsigned char)(u->lease_gen >> (24 - 8 * k));
		}
		minelen = 12;
	}
	if (out != NULL) {
		if (op_end == 0) {
			evbuffer_drain(in, h->total);
			return 0;
		}
		/* a paged search's result always carries the control (RFC 2696) */
		if (pdu_paged_done(out, op->client_msgid, msg + op_start, op_end - op_start, size, mine, minelen) < 0) {
			evbuffer_drain(in, h->total);
			return -1;
		}
	}
	evbuffer_drain(in, h->total);
	return 0;
}

/* An entry: the profile's view, the profile's attributes, or as received. */
static void
search_entry(struct op *op, struct evbuffer *in, const struct pdu_head *h)
{
	struct client *c = op->client;
	if (c == NULL || c->state == C_CLOSING) {
		evbuffer_drain(in, h->total);
		return;
	}
	struct evbuffer *out = bufferevent_get_output(c->bev);
	int sent = 1, done = 0;
	if (op->want != NULL) {
		/* the profile's view: DN, names, computed attributes; invisible entries dropped */
		struct server *srv = c->srv;
		unsigned char *msg = evbuffer_pullup(in, (ev_ssize_t)h->total);
		arena_reset(&srv->resp_arena);
		int rc = rewrite_entry(op->profile, op->want, &srv->resp_arena, op->up->ber, msg, h->total,
		    op->client_msgid, out);
		if (rc == -2)
			log_warn("conn=%llu msgid=%d: out of memory for an entry from %s; dropped",
			    (unsigned long long)op->conn_id, op->client_msgid, op->up->name);
		else if (rc < 0)
			log_warn("conn=%llu msgid=%d: entry from %s could not be rewritten; dropped",
			    (unsigned long long)op->conn_id, op->client_msgid, op->up->name);
		sent = rc == 0;
		evbuffer_drain(in, h->total);
		done = 1;
	} else if (op->flags & OP_SCRUB) {
		done = scrub_entry(op, in, h, out);
		if (done < 0) {
			/* nothing of it was written: the client never gets a truncated entry */
			log_warn("conn=%llu msgid=%d: %s entry from %s dropped", (unsigned long long)op->conn_id,
			    op->client_msgid, done == -2 ? "out of memory for an" : "malformed", op->up->name);
			evbuffer_drain(in, h->total);
			sent = 0;
		}
	}
	if (done == 0)
		op_forward(op, in, h);
	else
		client_check_output(c);
	if (sent) {
		op->nentries++;
		c->srv->stats.entries++;
	}
}

static void
search_response(struct op *op, struct evbuffer *in, const struct pdu_head *h)
{
	struct client *c = op->client;
	if (h->op_tag == PDU_SEARCH_ENTRY) {
		search_entry(op, in, h);
		return;
	}
	if (h->op_tag == PDU_SEARCH_REF || h->op_tag == PDU_INTERMEDIATE) {
		/* aldproxy chases no referrals and allows no control that streams intermediate responses */
		evbuffer_drain(in, h->total);
		return;
	}
	int code = op_result_code(in, h);
	if (op->flags & OP_PAGED) {
		int alive = c != NULL && c->state != C_CLOSING;
		struct evbuffer *out = alive ? bufferevent_get_output(c->bev) : NULL;
		if (paged_forward(op, in, h, code, out) < 0) {
			/* the result with its control could not be written: a short one instead */
			log_warn("conn=%llu msgid=%d: out of memory for the result of a paged search",
			    (unsigned long long)op->conn_id, op->client_msgid);
			code = LDAP_OTHER;
			if (pdu_result(out, op->client_msgid, PDU_SEARCH_DONE, code, "", "aldproxy: out of memory") < 0)
				log_warn("conn=%llu msgid=%d: no result sent", (unsigned long long)op->conn_id,
				    op->client_msgid);
		}
		if (alive)
			client_check_output(c);
	} else if (visible_hides_missing(op, code)) {
		evbuffer_drain(in, h->total);
		op_fail(op, LDAP_NO_SUCH_OBJECT, NULL);
		return;
	} else {
		op_forward(op, in, h);
	}
	op_finish(op, code);
}

const struct op_handler search_handler = { search_response, op_reply_fail };
