/*
 * arena.h — a bump allocator for per-request scratch (filter trees,
 * rewritten values).  The server owns one; it is reset before each request
 * is handled, so nothing allocated from it outlives the request.  When it
 * is exhausted arena_alloc() returns NULL and the request is refused with
 * adminLimitExceeded rather than grown without bound.
 */
#ifndef ALDPROXY_ARENA_H
#define ALDPROXY_ARENA_H

#include <stddef.h>
#include <lber.h>

struct arena {
	unsigned char *buf;
	size_t used, cap;
};

int   arena_init(struct arena *a, size_t cap);
void  arena_free(struct arena *a);
void  arena_reset(struct arena *a);
void *arena_alloc(struct arena *a, size_t n);          /* zeroed, 8-byte aligned */
/* Not zeroed: for buffers written before they are read (encoded requests, arrays filled element by element). */
void *arena_alloc_bytes(struct arena *a, size_t n);
char *arena_strndup(struct arena *a, const char *s, size_t n);   /* NUL-terminated copy */
/* A berval holding a copy of s[0..n); returns -1 when exhausted. */
int   arena_bv(struct arena *a, struct berval *out, const char *s, size_t n);

#endif
