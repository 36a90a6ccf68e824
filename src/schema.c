/*
 * schema.c — reading the directory's attribute types.  See schema.h; the
 * parsing and the decisions are policy.c's.
 */
#include "schema.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <ldap.h>

#include "backend.h"
#include "log.h"
#include "op.h"
#include "policy.h"
#include "request.h"
#include "upstream.h"

#define SCHEMA_MAX_VALUES 20000

enum step { S_NEEDED, S_ROOTDSE, S_SUBSCHEMA, S_LOADED };

static const struct op_handler read_handler;

static struct {
	enum step step;
	struct op *op;              /* the read in flight, or NULL */
	char dn[512];               /* subschemaSubentry */
	int found;                  /* the entry of the current step arrived */
} st;

static int
send_read(struct backend *be, const char *dn, const char *attr)
{
	unsigned char req[700];
	size_t rl = pdu_base_search(req, sizeof(req), dn, strlen(dn), NULL, 0, attr);
	struct op *op = op_send_own(be, NULL, &read_handler, req, rl);
	if (op == NULL)
		return -1;
	st.op = op;
	st.found = 0;
	return 0;
}

void
schema_maybe_request(struct backend *be)
{
	if (st.step != S_NEEDED || st.op != NULL || backend_pick_internal(be) == NULL)
		return;
	if (send_read(be, "", "subschemaSubentry") == 0)
		st.step = S_ROOTDSE;
}

/* The values of attribute `name` in a SearchResultEntry (whole message msg), into vals (at most max). */
static size_t
entry_values(BerElement *ber, const unsigned char *msg, size_t len, const char *name, struct berval *vals, size_t max,
    int *bad)
{
	struct berval bv = { len, (char *)msg }, dn, type;
	ber_int_t id;
	ber_len_t blen;
	char *last, *vlast;
	size_t n = 0;
	*bad = 1;
	ber_init2(ber, &bv, LBER_USE_DER);
	if (bscan(ber, "{i{m", &id, &dn) < 0 || ber_peek_tag(ber, &blen) != LBER_SEQUENCE)
		return 0;
	for (ber_tag_t t = ber_first_element(ber, &blen, &last); t != LBER_DEFAULT; t = ber_next_element(ber, &blen, last)) {
		if (bscan(ber, "{m", &type) < 0 || ber_peek_tag(ber, &blen) != LBER_SET)
			return 0;
		int want = type.bv_len == strlen(name) && strncasecmp(type.bv_val, name, type.bv_len) == 0;
		for (ber_tag_t vt = ber_first_element(ber, &blen, &vlast); vt != LBER_DEFAULT;
		     vt = ber_next_element(ber, &blen, vlast)) {
			struct berval v;
			if (bscan(ber, "m", &v) < 0)
				return 0;
			if (want && n < max)
				vals[n++] = v;
		}
		if (bscan(ber, "}") < 0)
			return 0;
	}
	*bad = 0;
	return n;
}

static void
load_types(struct upstream *u, const unsigned char *msg, size_t len)
{
	struct berval *vals = malloc(SCHEMA_MAX_VALUES * sizeof(*vals));
	int bad;
	size_t n = vals ? entry_values(u->ber, msg, len, "attributeTypes", vals, SCHEMA_MAX_VALUES, &bad) : 0;
	size_t skipped = 0;
	struct policy_schema *sc = n > 0 ? policy_schema_parse(vals, n, &skipped) : NULL;
	free(vals);
	if (sc == NULL) {
		log_warn("directory schema: no attribute types could be read from %s on %s; the built-in secret list "
		    "and aliases apply", st.dn, u->name);
		return;
	}
	policy_schema_free(policy_schema_set(sc));
	st.step = S_LOADED;
	log_notice("directory schema: %zu attribute types read from %s on %s%s", policy_schema_types(sc), st.dn,
	    u->name, skipped ? " (some definitions did not parse and were skipped)" : "");
}

static void
read_response(struct op *op, struct evbuffer *in, const struct pdu_head *h)
{
	struct upstream *u = op->up;
	if (h->op_tag == PDU_SEARCH_ENTRY && !st.found) {
		unsigned char *msg = evbuffer_pullup(in, (ev_ssize_t)h->total);
		st.found = 1;
		if (msg != NULL && st.step == S_ROOTDSE) {
			struct berval v;
			int bad;
			if (entry_values(u->ber, msg, h->total, "subschemaSubentry", &v, 1, &bad) == 1 && v.bv_len < sizeof(st.dn)) {
				memcpy(st.dn, v.bv_val, v.bv_len);
				st.dn[v.bv_len] = '\0';
			}
		} else if (msg != NULL && st.step == S_SUBSCHEMA) {
			load_types(u, msg, h->total);
		}
	}
	evbuffer_drain(in, h->total);
	if (h->op_tag == PDU_SEARCH_ENTRY || h->op_tag == PDU_SEARCH_REF || h->op_tag == PDU_INTERMEDIATE)
		return;
	/* the result of the step */
	struct backend *be = u->be;
	st.op = NULL;
	op_free(op);
	if (st.step == S_ROOTDSE) {
		if (st.dn[0] == '\0') {
			log_warn("directory schema: %s names no subschemaSubentry; the built-in secret list and aliases apply",
			    u->name);
			st.step = S_LOADED;         /* nothing to read; a reload tries again */
			return;
		}
		st.step = send_read(be, st.dn, "attributeTypes") == 0 ? S_SUBSCHEMA : S_NEEDED;
	} else {
		st.step = S_LOADED;             /* loaded, or reported; a reload tries again */
	}
}

static void
read_fail(struct op *op, int code, const char *diag)
{
	(void)code;
	(void)diag;
	/* asked again on the next tick, on another connection if this one was lost */
	st.op = NULL;
	st.step = S_NEEDED;
	op_free(op);
}

static const struct op_handler read_handler = { read_response, read_fail };

void
schema_invalidate(void)
{
	if (st.step == S_LOADED)
		st.step = S_NEEDED;
}

void
schema_free(void)
{
	policy_schema_free(policy_schema_set(NULL));
}
