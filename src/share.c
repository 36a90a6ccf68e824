/*
 * share.c — operations in flight per identity and per address.  See share.h.
 */
#include "share.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define NBUCKETS 1024

struct share {
	struct share *next;
	enum share_kind kind;
	unsigned refs;
	unsigned ops;
	TAILQ_HEAD(, share_waiter) waiters;
	TAILQ_ENTRY(share) waiting_link;    /* in `waiting` while it has waiters */
	char key[];
};

static struct share *buckets[2][NBUCKETS];
static TAILQ_HEAD(, share) waiting = TAILQ_HEAD_INITIALIZER(waiting);
static long caps[2] = { 1024, 512 };

void
share_configure(long per_address, long per_identity)
{
	caps[SHARE_ADDRESS] = per_address;
	caps[SHARE_IDENTITY] = per_identity;
}

/* Resumes waiters of s while it has slots they have not been offered. */
static void
wake(struct share *s)
{
	long room = caps[s->kind] - (long)s->ops;
	struct share_waiter *w;
	while (room-- > 0 && (w = TAILQ_FIRST(&s->waiters)) != NULL) {
		share_unwait(w);
		w->wake(w);             /* a client: deferred, it reads again from its resume event */
	}
}

static size_t
hash(const char *s)
{
	size_t h = 2166136261u;
	for (; *s; s++)
		h = (h ^ (unsigned char)tolower((unsigned char)*s)) * 16777619u;
	return h % NBUCKETS;
}

struct share *
share_get(enum share_kind kind, const char *key)
{
	size_t h = hash(key);
	struct share *s;
	for (s = buckets[kind][h]; s != NULL; s = s->next)
		if (strcasecmp(s->key, key) == 0) {
			s->refs++;
			return s;
		}
	size_t n = strlen(key);
	if ((s = calloc(1, sizeof(*s) + n + 1)) == NULL)
		return NULL;
	memcpy(s->key, key, n);
	s->kind = kind;
	s->refs = 1;
	TAILQ_INIT(&s->waiters);
	s->next = buckets[kind][h];
	buckets[kind][h] = s;
	return s;
}

struct share *
share_hold(struct share *s)
{
	if (s != NULL)
		s->refs++;
	return s;
}

void
share_put(struct share *s)
{
	if (s == NULL || --s->refs > 0)
		return;
	/* no client holds it, so none waits on it and no op counts in it */
	struct share **pp = &buckets[s->kind][hash(s->key)];
	while (*pp != s)
		pp = &(*pp)->next;
	*pp = s->next;
	free(s);
}

void
share_op_begin(struct share *s)
{
	if (s != NULL)
		s->ops++;
}

void
share_op_end(struct share *s)
{
	if (s == NULL)
		return;
	s->ops--;
	/* one slot freed: one waiter (it re-waits if another share of it is full) */
	struct share_waiter *w = TAILQ_FIRST(&s->waiters);
	if (w != NULL && (long)s->ops < caps[s->kind]) {
		share_unwait(w);
		w->wake(w);
	}
}

int
share_full(const struct share *s)
{
	return s != NULL && (long)s->ops >= caps[s->kind];
}

void
share_kick(void)
{
	struct share *s, *next;
	for (s = TAILQ_FIRST(&waiting); s != NULL; s = next) {
		next = TAILQ_NEXT(s, waiting_link);
		wake(s);
	}
}

void
share_wait(struct share *s, struct share_waiter *w)
{
	if (w->on == s)
		return;
	share_unwait(w);
	w->on = s;
	if (TAILQ_EMPTY(&s->waiters))
		TAILQ_INSERT_TAIL(&waiting, s, waiting_link);
	TAILQ_INSERT_TAIL(&s->waiters, w, link);
}

void
share_unwait(struct share_waiter *w)
{
	if (w->on == NULL)
		return;
	struct share *s = w->on;
	TAILQ_REMOVE(&s->waiters, w, link);
	if (TAILQ_EMPTY(&s->waiters))
		TAILQ_REMOVE(&waiting, s, waiting_link);
	w->on = NULL;
}

unsigned
share_ops(const struct share *s)
{
	return s != NULL ? s->ops : 0;
}
