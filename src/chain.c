/*
 * chain.c — the transitive groups of users, read from their memberOf, for
 * (member:1.2.840.113556.1.4.1941:=USER).  See chain.h.
 */
#include "chain.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <event2/buffer.h>
#include <ldap.h>

#include "backend.h"
#include "clock.h"
#include "dn.h"
#include "filter.h"
#include "log.h"
#include "op.h"
#include "request.h"
#include "upstream.h"

#define CHAIN_MAX_GROUPS 4096

struct user {
	char *ndn;                      /* the key: normalized real DN; NULL: a free slot */
	enum chain_state state;
	char **groups;
	size_t n;
	uint64_t read_us;               /* when the read ended (READY, FAILED) */
	struct op *op;                  /* the read in flight (PENDING) */
	char why[200];                  /* FAILED */
};

static struct user users[CHAIN_MAX];
static struct backend *chain_be;       /* where the reads go: its waiting searches are woken after each */

static const struct op_handler read_handler;

static void
clear(struct user *u)
{
	for (size_t i = 0; i < u->n; i++)
		free(u->groups[i]);
	free(u->groups);
	u->groups = NULL;
	u->n = 0;
}

static struct user *
find(const char *ndn, size_t len)
{
	for (size_t i = 0; i < CHAIN_MAX; i++)
		if (users[i].ndn != NULL && strlen(users[i].ndn) == len && memcmp(users[i].ndn, ndn, len) == 0)
			return &users[i];
	return NULL;
}

/* The entry of op (PENDING), or NULL if it was evicted meanwhile. */
static struct user *
of_op(const struct op *op)
{
	for (size_t i = 0; i < CHAIN_MAX; i++)
		if (users[i].ndn != NULL && users[i].op == op)
			return &users[i];
	return NULL;
}

enum chain_state
chain_groups(const char *ndn, size_t len, uint64_t now, const char *const **groups, size_t *n, const char **why)
{
	struct user *u = find(ndn, len);
	if (u == NULL)
		return CHAIN_UNKNOWN;
	if (u->state != CHAIN_PENDING && now - u->read_us > CHAIN_TTL_US)
		return CHAIN_UNKNOWN;
	*groups = (const char *const *)u->groups;
	*n = u->n;
	*why = u->why;
	return u->state;
}

int
chain_resolve(const char *ndn, size_t len, const char *const **groups, size_t *n)
{
	const char *why;
	return chain_groups(ndn, len, now_us(), groups, n, &why) == CHAIN_READY;
}

/* A slot for a new user: a free one, else the oldest one not being read. */
static struct user *
slot(void)
{
	struct user *old = NULL;
	for (size_t i = 0; i < CHAIN_MAX; i++) {
		if (users[i].ndn == NULL)
			return &users[i];
		if (users[i].state != CHAIN_PENDING && (old == NULL || users[i].read_us < old->read_us))
			old = &users[i];
	}
	if (old != NULL) {
		clear(old);
		free(old->ndn);
		old->ndn = NULL;
	}
	return old;
}

int
chain_request(struct backend *be, const char *ndn, size_t len)
{
	struct user *u = find(ndn, len);
	if (u != NULL && u->state == CHAIN_PENDING)
		return 0;
	if (u == NULL && (u = slot()) == NULL)
		return -1;      /* every slot is being read: the search waits and asks again */
	if (u->ndn == NULL && (u->ndn = strndup(ndn, len)) == NULL)
		return -1;
	chain_be = be;
	unsigned char req[DN_MAX + 64];
	size_t rl = pdu_base_search(req, sizeof(req), ndn, len, NULL, 0, "memberOf");
	struct op *op = op_send_own(be, NULL, &read_handler, req, rl);
	if (op == NULL)
		return -1;
	clear(u);
	u->state = CHAIN_PENDING;
	u->op = op;
	u->why[0] = '\0';
	return 0;
}

/* The memberOf values of a SearchResultEntry (whole message msg) into u. */
static void
add_groups(struct user *u, BerElement *ber, unsigned char *msg, size_t len)
{
	struct berval bv = { len, (char *)msg }, dn, type, val;
	ber_int_t id;
	ber_len_t blen;
	char *last, *vlast;
	ber_init2(ber, &bv, LBER_USE_DER);
	if (bscan(ber, "{i{m", &id, &dn) < 0 || ber_peek_tag(ber, &blen) != LBER_SEQUENCE)
		return;
	for (ber_tag_t t = ber_first_element(ber, &blen, &last); t != LBER_DEFAULT; t = ber_next_element(ber, &blen, last)) {
		if (bscan(ber, "{m", &type) < 0 || ber_peek_tag(ber, &blen) != LBER_SET)
			return;
		int want = attr_eq(&type, "memberOf");
		for (ber_tag_t vt = ber_first_element(ber, &blen, &vlast); vt != LBER_DEFAULT;
		     vt = ber_next_element(ber, &blen, vlast)) {
			if (bscan(ber, "m", &val) < 0)
				return;
			if (!want || u->n >= CHAIN_MAX_GROUPS)
				continue;
			char **g = realloc(u->groups, (u->n + 1) * sizeof(*g));
			if (g == NULL)
				return;
			u->groups = g;
			if ((g[u->n] = strndup(val.bv_val, val.bv_len)) != NULL)
				u->n++;
		}
		if (bscan(ber, "}") < 0)
			return;
	}
}

static void
end_read(struct user *u, struct op *op, enum chain_state state, const char *why)
{
	op_free(op);
	if (u != NULL) {
		if (state != CHAIN_READY)
			clear(u);
		u->op = NULL;
		u->state = state;
		u->read_us = now_us();
		snprintf(u->why, sizeof(u->why), "%s", why ? why : "");
	}
	if (chain_be != NULL)
		backend_wake_all(chain_be);     /* the searches waiting for it are handled again */
}

static void
read_response(struct op *op, struct evbuffer *in, const struct pdu_head *h)
{
	struct user *u = of_op(op);
	if (h->op_tag == PDU_SEARCH_ENTRY) {
		unsigned char *msg = evbuffer_pullup(in, (ev_ssize_t)h->total);
		if (msg != NULL && u != NULL)
			add_groups(u, op->up->ber, msg, h->total);
	}
	if (h->op_tag == PDU_SEARCH_ENTRY || h->op_tag == PDU_SEARCH_REF || h->op_tag == PDU_INTERMEDIATE) {
		evbuffer_drain(in, h->total);
		return;
	}
	int code = op_result_code(in, h);
	evbuffer_drain(in, h->total);
	if (code == LDAP_SUCCESS || code == LDAP_NO_SUCH_OBJECT) {
		/* a user that does not exist is in no group */
		end_read(u, op, CHAIN_READY, NULL);
		return;
	}
	char why[160];
	snprintf(why, sizeof(why), "the directory answered %d reading the user's groups", code);
	if (u != NULL)
		log_warn("nested groups of %s: %s", u->ndn, why);
	end_read(u, op, CHAIN_FAILED, why);
}

static void
read_fail(struct op *op, int code, const char *diag)
{
	(void)code;
	end_read(of_op(op), op, CHAIN_FAILED, diag ? diag : "no answer from the directory");
}

static const struct op_handler read_handler = { read_response, read_fail };

void
chain_free(void)
{
	chain_be = NULL;
	for (size_t i = 0; i < CHAIN_MAX; i++) {
		clear(&users[i]);
		free(users[i].ndn);
		users[i].ndn = NULL;
	}
}
