/*
 * visread.c — reading the visible users of each profile with visible
 * groups (visset.h) from the directory.  See visread.h.
 *
 * One read is in flight at a time: an internal op (op_send_own()) with its
 * own handler, a subtree search of one user base for (|(memberOf=G1)...)
 * returning uid, sent on a shared connection's reserved slots.  Its entries
 * go into the set being read; its result moves on to the profile's next
 * user base or completes the set.
 */
#include "visread.h"

#include <stdlib.h>
#include <string.h>
#include <event2/buffer.h>
#include <ldap.h>

#include "arena.h"
#include "backend.h"
#include "clock.h"
#include "dn.h"
#include "filter.h"
#include "log.h"
#include "op.h"
#include "profile.h"
#include "state.h"
#include "upstream.h"
#include "visset.h"

#define RETRY_US (10 * 1000000ULL)      /* after a failed read */
#define FIRST_RETRY_US 1000000ULL       /* ... while no read has completed yet */

static const struct op_handler read_handler;

static struct {
	struct op *op;                  /* the read in flight (it holds its profile), or NULL */
	size_t base;                    /* which of the profile's user bases */
} rd;

/* Sends the read of p's user base `base`.  0 or -1. */
static int
send_read(struct backend *be, const struct profile *p, size_t base)
{
	struct arena *a = &be->srv->visset_arena;
	arena_reset(a);
	struct fnode *first = NULL, **tail = &first;
	for (size_t i = 0; i < p->nvisible_groups; i++) {
		struct fnode *m = fnode_eq(a, "memberOf", p->visible_groups[i], strlen(p->visible_groups[i]));
		if (m == NULL)
			return -1;
		*tail = m;
		tail = &m->next;
	}
	struct fnode *f = fnode_list(a, F_OR, first);
	size_t fcap = 65536, qcap = fcap + DN_MAX + 64;
	unsigned char *fb = arena_alloc_bytes(a, fcap), *q = arena_alloc_bytes(a, qcap);
	size_t fl = f && fb ? filter_encode(f, fb, fcap) : 0;
	const char *dn = p->real_user_bases[base];
	size_t ql = fl && q ? pdu_search(q, qcap, dn, strlen(dn), LDAP_SCOPE_SUBTREE, 0, fb, fl, "uid") : 0;
	struct op *op = op_send_own(be, p, &read_handler, q, ql);
	if (op == NULL)
		return -1;
	rd.op = op;
	rd.base = base;
	return 0;
}

void
visread_tick(struct backend *be, uint64_t now)
{
	if (rd.op != NULL || backend_pick_internal(be) == NULL)
		return;         /* one read at a time; none before a connection is ready */
	const struct profile_set *set = be->srv->profiles;
	for (size_t i = 0; set != NULL && i < set->n; i++) {
		const struct profile *p = set->v[i];
		struct visset *v = p->vis;
		if (v == NULL || p->nreal_user_bases == 0 || !visset_due(v, now))
			continue;
		visset_read_begin(v);
		if (send_read(be, p, 0) < 0) {
			visset_read_abort(v, now + RETRY_US);
			continue;
		}
		return;
	}
}

/* The DN and uid of an entry the read returned. */
static void
add_entry(struct visset *v, BerElement *ber, unsigned char *msg, size_t len)
{
	struct berval bv = { len, (char *)msg }, dn, type, val;
	ber_int_t id;
	ber_len_t blen;
	char *last, *vlast, nd[DN_MAX];
	ber_init2(ber, &bv, LBER_USE_DER);
	if (bscan(ber, "{i{m", &id, &dn) < 0)
		return;
	int nl = dn_normalize(dn.bv_val, dn.bv_len, nd, sizeof(nd));
	if (nl < 0 || visset_read_dn(v, nd, (size_t)nl) < 0 || ber_peek_tag(ber, &blen) != LBER_SEQUENCE)
		return;
	for (ber_tag_t t = ber_first_element(ber, &blen, &last); t != LBER_DEFAULT; t = ber_next_element(ber, &blen, last)) {
		if (bscan(ber, "{m", &type) < 0 || ber_peek_tag(ber, &blen) != LBER_SET)
			return;
		int uid = attr_eq(&type, "uid");
		for (ber_tag_t vt = ber_first_element(ber, &blen, &vlast); vt != LBER_DEFAULT;
		     vt = ber_next_element(ber, &blen, vlast)) {
			if (bscan(ber, "m", &val) < 0)
				return;
			if (uid)
				visset_read_uid(v, val.bv_val, val.bv_len);
		}
		if (bscan(ber, "}") < 0)
			return;
	}
}

static void
read_response(struct op *op, struct evbuffer *in, const struct pdu_head *h)
{
	const struct profile *p = op->profile;
	struct visset *v = p->vis;
	struct backend *be = op->up->be;
	if (h->op_tag == PDU_SEARCH_ENTRY) {
		unsigned char *msg = evbuffer_pullup(in, (ev_ssize_t)h->total);
		if (msg != NULL)
			add_entry(v, op->up->ber, msg, h->total);
	}
	if (h->op_tag == PDU_SEARCH_ENTRY || h->op_tag == PDU_SEARCH_REF || h->op_tag == PDU_INTERMEDIATE) {
		evbuffer_drain(in, h->total);
		return;
	}
	int code = op_result_code(in, h);
	evbuffer_drain(in, h->total);
	size_t base = rd.base, next = base + 1;
	uint64_t now = now_us();
	profile_hold(p);                /* beyond the op, which ends here */
	rd.op = NULL;
	op_free(op);
	if (code != LDAP_SUCCESS && code != LDAP_NO_SUCH_OBJECT) {
		/* a missing user base is empty; anything else is a failed read: keep the old set, try again soon */
		log_warn("visible users of profile %s: the directory answered %d reading %s; reading again in 10 s",
		    p->name, code, p->real_user_bases[base]);
		visset_read_abort(v, now + RETRY_US);
	} else if (next < p->nreal_user_bases) {
		if (send_read(be, p, next) < 0)
			visset_read_abort(v, now + RETRY_US);
	} else {
		/* complete: the new set replaces the old one */
		int first = !visset_ready(v);
		size_t n = visset_read_commit(v, now);
		if (first)
			log_info("visible users of profile %s: %zu", p->name, n);
		backend_wake_all(be);   /* searches waiting for the first read */
	}
	profile_drop(p);
	if (rd.op == NULL)
		visread_tick(be, now);  /* the next profile, if due */
}

static void
read_fail(struct op *op, int code, const char *diag)
{
	const struct profile *p = op->profile;
	(void)code;
	/* searches wait for a first read: soon; a set in use stays, read again in 10 s */
	int first = !visset_ready(p->vis);
	uint64_t due = now_us() + (first ? FIRST_RETRY_US : RETRY_US);
	log_warn("visible users of profile %s: reading %s failed (%s); reading again in %s", p->name,
	    p->real_user_bases[rd.base], diag ? diag : "no answer", first ? "1 s" : "10 s");
	visset_read_abort(p->vis, due);
	rd.op = NULL;
	op_free(op);
}

static const struct op_handler read_handler = { read_response, read_fail };
