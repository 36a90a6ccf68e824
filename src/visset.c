/*
 * visset.c — the users each profile with visible groups may see: sorted
 * sets of DNs and uids, and the set being read beside them until the read
 * completes.  See visset.h; visread.c reads them from the directory.
 */
#include "visset.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dn.h"

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

void
visset_read_begin(struct visset *v)
{
	strset_clear(&v->bdns);
	strset_clear(&v->buids);
}

int
visset_read_dn(struct visset *v, const char *ndn, size_t len)
{
	return strset_add(&v->bdns, ndn, len);
}

int
visset_read_uid(struct visset *v, const char *uid, size_t len)
{
	return strset_add(&v->buids, uid, len);
}

size_t
visset_read_commit(struct visset *v, uint64_t now)
{
	install(v);
	v->loaded = 1;
	v->loaded_us = now;
	v->due_us = now + VISSET_REFRESH * 1000000ULL;
	return v->dns.n;
}

void
visset_read_abort(struct visset *v, uint64_t due_us)
{
	visset_read_begin(v);
	v->due_us = due_us;
}

int
visset_due(const struct visset *v, uint64_t now)
{
	return v != NULL && now >= v->due_us;
}
