/*
 * visset.c — the users each profile with visible groups may see.  See
 * visset.h.  One read is in flight at a time, on a shared connection,
 * marked by its messageID like the health probe: a subtree search of each
 * user base for (|(memberOf=G1)...) returning uid.
 */
#include "visset.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <ldap.h>

#include "arena.h"
#include "backend.h"
#include "dn.h"
#include "filter.h"
#include "log.h"
#include "msgid.h"
#include "profile.h"
#include "request.h"
#include "server.h"
#include "upstream.h"

struct strset {
	char **v;
	size_t n, cap;
};

struct visset {
	struct strset dns, uids;        /* sorted, what lookups see */
	struct strset bdns, buids;      /* being read */
	int loaded;
	int assume_all;                 /* explain: no directory to ask */
	uint64_t loaded_us;
	uint64_t due_us;                /* next read */
};

static struct {
	const struct profile *p;        /* held while its read is in flight */
	struct upstream *u;
	int msgid;
	size_t base;                    /* which of p's user bases */
	uint64_t sent_us;
} rd;

static void
strset_clear(struct strset *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->v[i]);
	free(s->v);
	memset(s, 0, sizeof(*s));
}

static int
strset_add(struct strset *s, const char *v, size_t len)
{
	if (s->n == s->cap) {
		size_t nc = s->cap ? s->cap * 2 : 256;
		char **nv = realloc(s->v, nc * sizeof(*nv));
		if (nv == NULL)
			return -1;
		s->v = nv;
		s->cap = nc;
	}
	char *d = malloc(len + 1);
	if (d == NULL)
		return -1;
	for (size_t i = 0; i < len; i++)
		d[i] = (char)tolower((unsigned char)v[i]);
	d[len] = '\0';
	s->v[s->n++] = d;
	return 0;
}

static int
cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int
strset_has(const struct strset *s, const char *v, size_t len)
{
	char key[DN_MAX];
	if (len >= sizeof(key))
		return 0;
	for (size_t i = 0; i < len; i++)
		key[i] = (char)tolower((unsigned char)v[i]);
	key[len] = '\0';
	const char *k = key;
	return bsearch(&k, s->v, s->n, sizeof(*s->v), cmp) != NULL;
}

struct visset *
visset_new(void)
{
	return calloc(1, sizeof(struct visset));
}

void
visset_free(struct visset *v)
{
	if (v == NULL)
		return;
	strset_clear(&v->dns);
	strset_clear(&v->uids);
	strset_clear(&v->bdns);
	strset_clear(&v->buids);
	free(v);
}

int
visset_ready(const struct visset *v)
{
	return v != NULL && v->loaded;
}

int
visset_has_dn(const struct visset *v, const char *ndn, size_t len)
{
	return v != NULL && (v->assume_all || strset_has(&v->dns, ndn, len));
}

int
visset_has_uid(const struct visset *v, const char *uid, size_t len)
{
	return v != NULL && (v->assume_all || strset_has(&v->uids, uid, len));
}

void
visset_assume_all(struct visset *v)
{
	if (v != NULL)
		v->assume_all = v->loaded = 1;
}

/* The set being built becomes the one lookups see. */
static void
install(struct visset *v)
{
	strset_clear(&v->dns);
	strset_clear(&v->uids);
	v->dns = v->bdns;
	v->uids = v->buids;
	memset(&v->bdns, 0, sizeof(v->bdns));
	memset(&v->buids, 0, sizeof(v->buids));
	qsort(v->dns.v, v->dns.n, sizeof(*v->dns.v), cmp);
	qsort(v->uids.v, v->uids.n, sizeof(*v->uids.v), cmp);
}

int
visset_replace(struct visset *v, const char *const *dns, size_t n, const char *const *uids, size_t m)
{
	char nd[DN_MAX];
	strset_clear(&v->bdns);
	strset_clear(&v->buids);
	for (size_t i = 0; i < n; i++) {
		int nl = dn_normalize(dns[i], strlen(dns[i]), nd, sizeof(nd));
		if (nl < 0 || strset_add(&v->bdns, nd, (size_t)nl) < 0)
			return -1;
	}
	for (size_t i = 0; i < m; i++)
		if (strset_add(&v->buids, uids[i], strlen(uids[i])) < 0)
			return -1;
	install(v);
	v->loaded = 1;
	return 0;
}

/* Sends the read of p's user base `base` on u.  0 or -1. */
static int
send_read(const struct profile *p, size_t base, struct upstream *u, struct arena *a, uint64_t now)
{
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
	unsigned char *fb = arena_alloc(a, fcap), *q = arena_alloc(a, qcap);
	size_t fl = f && fb ? filter_encode(f, fb, fcap) : 0;
	const char *dn = p->real_user_bases[base];
	size_t ql = fl && q ? pdu_search(q, qcap, dn, strlen(dn), LDAP_SCOPE_SUBTREE, 0, fb, fl, "uid") : 0;
	int id = upstream_send_own(u, q, ql);
	if (id < 0)
		return -1;
	rd.p = profile_hold(p);
	rd.u = u;
	rd.msgid = id;
	rd.base = base;
	rd.sent_us = now;
	return 0;
}

static void
read_end(void)
{
	if (rd.u != NULL && rd.msgid != 0)
		msgid_release(&rd.u->ids, rd.msgid);
	profile_drop(rd.p);
	memset(&rd, 0, sizeof(rd));
}

void
visset_tick(struct backend *be, struct upstream *u, uint64_t now)
{
	if (rd.p != NULL) {
		if (now - rd.sent_us > 120 * 1000000ULL) {
			log_warn("visible users of profile %s: no answer from %s in 120 s; reading again later",
			    rd.p->name, rd.u->name);
			rd.p->vis->due_us = now + 10 * 1000000ULL;
			read_end();
		}
		return;
	}
	if (u == NULL || u->state != UP_READY || u->kind != UP_SHARED)
		return;
	const struct profile_set *set = be->srv->profiles;
	for (size_t i = 0; set != NULL && i < set->n; i++) {
		const struct profile *p = set->v[i];
		struct visset *v = p->vis;
		if (v == NULL || p->nreal_user_bases == 0 || now < v->due_us)
			continue;
		strset_clear(&v->bdns);
		strset_clear(&v->buids);
		if (send_read(p, 0, u, &be->srv->visset_arena, now) < 0) {
			v->due_us = now + 10 * 1000000ULL;
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
	if (nl < 0 || strset_add(&v->bdns, nd, (size_t)nl) < 0 || ber_peek_tag(ber, &blen) != LBER_SEQUENCE)
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
				strset_add(&v->buids, val.bv_val, val.bv_len);
		}
		if (bscan(ber, "}") < 0)
			return;
	}
}

int
visset_response(struct upstream *u, struct evbuffer *in, const struct pdu_head *h)
{
	if (rd.u != u || rd.msgid == 0 || h->msgid != rd.msgid)
		return 0;
	struct visset *v = rd.p->vis;
	if (h->op_tag == PDU_SEARCH_ENTRY) {
		unsigned char *msg = evbuffer_pullup(in, (ev_ssize_t)h->total);
		if (msg != NULL)
			add_entry(v, u->ber, msg, h->total);
	}
	int final = h->op_tag != PDU_SEARCH_ENTRY && h->op_tag != PDU_SEARCH_REF && h->op_tag != PDU_INTERMEDIATE;
	unsigned char b[PDU_HEAD_MAX + 8];
	size_t cl = h->total < sizeof(b) ? h->total : sizeof(b);
	int code = -1;
	if (final && evbuffer_copyout(in, b, cl) == (ev_ssize_t)cl) {
		size_t i = h->prefix + 1;
		i += i < cl && b[i] < 0x80 ? 1 : i < cl ? 1 + (size_t)(b[i] & 0x7f) : 0;
		if (i + 2 < cl && b[i] == 0x0a && b[i + 1] == 1)
			code = b[i + 2];
	}
	evbuffer_drain(in, h->total);
	if (!final)
		return 1;
	const struct profile *p = rd.p;
	size_t next = rd.base + 1;
	uint64_t now = now_us();
	/* a missing user base is empty; anything else is a failed read: keep the old set, try again soon */
	if (code != LDAP_SUCCESS && code != LDAP_NO_SUCH_OBJECT) {
		log_warn("visible users of profile %s: the directory answered %d reading %s; reading again in 10 s",
		    p->name, code, p->real_user_bases[rd.base]);
		v->due_us = now + 10 * 1000000ULL;
		read_end();
		return 1;
	}
	struct backend *be = u->be;
	read_end();
	if (next < p->nreal_user_bases) {
		if (send_read(p, next, u, &be->srv->visset_arena, now) < 0) {
			v->due_us = now + 10 * 1000000ULL;
			strset_clear(&v->bdns);
			strset_clear(&v->buids);
		}
		return 1;
	}
	/* complete: the new set replaces the old one */
	install(v);
	if (!v->loaded)
		log_info("visible users of profile %s: %zu", p->name, v->dns.n);
	v->loaded = 1;
	v->loaded_us = now;
	v->due_us = now + VISSET_REFRESH * 1000000ULL;
	backend_wake_all(be);           /* searches waiting for the first read */
	visset_tick(be, u, now);        /* the next profile, if due */
	return 1;
}

void
visset_upstream_lost(struct upstream *u)
{
	if (rd.u != u)
		return;
	struct visset *v = rd.p->vis;
	strset_clear(&v->bdns);
	strset_clear(&v->buids);
	v->due_us = 0;
	read_end();
}
