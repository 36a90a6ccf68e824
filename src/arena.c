/*
 * arena.c — per-request bump allocator.  See arena.h.
 */
#include "arena.h"

#include <stdlib.h>
#include <string.h>

int
arena_init(struct arena *a, size_t cap)
{
	a->buf = malloc(cap);
	a->used = 0;
	a->cap = a->buf ? cap : 0;
	return a->buf ? 0 : -1;
}

void
arena_free(struct arena *a)
{
	free(a->buf);
	a->buf = NULL;
	a->used = a->cap = 0;
}

void
arena_reset(struct arena *a)
{
	a->used = 0;
}

void *
arena_alloc_bytes(struct arena *a, size_t n)
{
	size_t off = (a->used + 7) & ~(size_t)7;
	if (n > a->cap || off > a->cap - n)
		return NULL;
	a->used = off + n;
	return a->buf + off;
}

void *
arena_alloc(struct arena *a, size_t n)
{
	void *p = arena_alloc_bytes(a, n);
	if (p != NULL)
		memset(p, 0, n);
	return p;
}

char *
arena_strndup(struct arena *a, const char *s, size_t n)
{
	char *p = arena_alloc(a, n + 1);
	if (p != NULL && n > 0)
		memcpy(p, s, n);
	return p;
}

int
arena_bv(struct arena *a, struct berval *out, const char *s, size_t n)
{
	char *p = arena_strndup(a, s, n);
	if (p == NULL)
		return -1;
	out->bv_val = p;
	out->bv_len = n;
	return 0;
}
