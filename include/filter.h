/*
 * filter.h — LDAP search filters as trees (RFC 4511 4.5.1.7, RFC 4515).
 *
 * A filter tree lives in an arena (one request's scratch) and is freed
 * with it.  filter_decode() reads the BER filter of a request,
 * filter_encode() writes one back, filter_parse() and filter_print()
 * convert the string form (aldproxyctl explain, tests, profiles).
 */
#ifndef ALDPROXY_FILTER_H
#define ALDPROXY_FILTER_H

#include <stddef.h>
#include <lber.h>

#include "arena.h"

enum fkind {
	F_AND, F_OR, F_NOT,
	F_EQ, F_SUB, F_GE, F_LE, F_PRESENT, F_APPROX, F_EXT,
	F_TRUE, F_FALSE,        /* absolute filters; encoded as (objectClass=*) and its negation */
};

struct fnode {
	enum fkind kind;
	struct berval attr;         /* attribute description (empty for EXT without a type) */
	struct berval value;        /* EQ/GE/LE/APPROX/EXT assertion value */
	struct berval rule;         /* EXT matching rule OID, may be empty */
	int dnattrs;                /* EXT dnAttributes */
	struct berval initial, final;       /* SUB, bv_val NULL when absent */
	struct berval *any;                 /* SUB */
	size_t nany;
	struct fnode *child;        /* AND/OR/NOT: first child */
	struct fnode *next;         /* next sibling */
};

#define FILTER_MAX_NODES 4096

/* BER → tree.  0, or -1 (malformed, too deep or arena exhausted). */
int filter_decode(struct arena *a, const struct berval *ber, struct fnode **out);
/* tree → BER into buf; returns the length, or 0 when it does not fit. */
size_t filter_encode(const struct fnode *f, unsigned char *buf, size_t cap);
/* string → tree; 0, or -1 with *err describing the problem. */
int filter_parse(struct arena *a, const char *s, struct fnode **out, const char **err);
/* tree → string (values escaped per RFC 4515); returns the length or -1 if it does not fit. */
int filter_print(const struct fnode *f, char *buf, size_t cap);

/* Constructors for rewrites (arena-allocated; NULL when exhausted). */
struct fnode *fnode_new(struct arena *a, enum fkind kind);
struct fnode *fnode_eq(struct arena *a, const char *attr, const char *value, size_t vlen);
struct fnode *fnode_present(struct arena *a, const char *attr);
struct fnode *fnode_list(struct arena *a, enum fkind kind, struct fnode *first);   /* AND/OR over a sibling chain */
struct fnode *fnode_not(struct arena *a, struct fnode *f);

/* case-insensitive berval/string comparison of attribute names (options ignored: cn;lang-ru is cn) */
int attr_eq(const struct berval *a, const char *name);

#endif
