/*
 * rewrite.h — applying a profile to requests and responses.
 *
 * Requests go from the product's view (virtual tree, AD-style names) to
 * ALD Pro's (real tree, FreeIPA names); entries come back the other way.
 * Everything here is a pure function of the profile and its inputs, so
 * `aldproxyctl explain` and the unit tests run exactly what the daemon
 * runs.  Scratch memory comes from the caller's arena.
 */
#ifndef ALDPROXY_REWRITE_H
#define ALDPROXY_REWRITE_H

#include <stddef.h>
#include <lber.h>

#include "arena.h"
#include "filter.h"
#include "profile.h"

#define AD_RULE_AND "1.2.840.113556.1.4.803"
#define AD_RULE_OR "1.2.840.113556.1.4.804"
#define AD_RULE_CHAIN "1.2.840.113556.1.4.1941"

/* Whether p changes anything beyond the attribute allowlist (fast path otherwise). */
int rewrite_active(const struct profile *p);

/*
 * DN from the product's view to the directory's (virtual → real) and back.
 * Writes a NUL-terminated DN to out; returns its length, or -1 when it
 * does not fit or is not a DN.  A DN outside every mapped subtree is
 * returned normalized but otherwise unchanged.
 */
int rewrite_dn_in(const struct profile *p, const char *dn, size_t len, char *out, size_t outlen);
int rewrite_dn_out(const struct profile *p, const char *dn, size_t len, char *out, size_t outlen);

/*
 * The transitive groups (real DNs) of the user with normalized real DN
 * ndn, for (member:1.2.840.113556.1.4.1941:=USER): 1 with *groups and *n,
 * or 0 when not known (chain_resolve() in the daemon; NULL in explain).
 */
typedef int (*rewrite_groups_fn)(const char *ndn, size_t len, const char *const **groups, size_t *n);

/*
 * Rewrites a filter tree in place (and in a); with `visibility`, adds the
 * condition that hides users outside the profile's visible groups.
 * (member:1.2.840.113556.1.4.1941:=USER) becomes
 * (|(member=USER)(member=G1)...) over the user's groups that `groups`
 * knows (only (member=USER), its direct groups, when it knows none); the
 * rule on any other attribute becomes an equality (memberOf is transitive).
 * Returns the new root, or NULL when the arena is exhausted.
 */
struct fnode *rewrite_filter(const struct profile *p, struct arena *a, struct fnode *f, int visibility,
    rewrite_groups_fn groups);
/*
 * Calls fn with the normalized real DN of the user of every
 * (member:1.2.840.113556.1.4.1941:=USER) in f (the client's filter), until
 * fn returns nonzero; returns that, or 0.
 */
int rewrite_chain_users(const struct profile *p, const struct fnode *f, int (*fn)(const char *ndn, size_t len, void *arg),
    void *arg);

/*
 * What the client asked for, in its own names; kept with the operation to
 * shape each returned entry.  One malloc'd block, freed with free().
 */
struct want {
	int all_user;           /* "*" or an empty list */
	int all_oper;           /* "+" */
	int typesonly;
	size_t n;               /* names asked for explicitly */
	struct berval *names;
	size_t nextra;          /* real attributes added only to compute others */
	struct berval *extra;
};

/*
 * Builds the real attribute list (BER SEQUENCE OF, into out) for the
 * requested virtual names, applying the allowlist.  Returns the encoded
 * length, 0 if it does not fit; *wantp gets the block to keep with the op
 * (NULL when the profile needs no response rewriting).
 */
size_t rewrite_attrs(const struct profile *p, const struct berval *attrs, size_t nattrs, int typesonly,
    unsigned char *out, size_t cap, struct want **wantp);

/*
 * Rewrites one SearchResultEntry (msg: the whole LDAPMessage, contiguous)
 * for the client: DN, names, DN values, computed and default attributes,
 * allowlist and secrets.  Appends the new message, re-addressed to msgid,
 * to out.  Returns 0, 1 when the entry is not visible to the profile
 * (nothing appended), -1 for a malformed entry, or -2 when out of memory
 * for the new message (nothing appended either).
 */
struct evbuffer;
int rewrite_entry(const struct profile *p, const struct want *w, struct arena *a, BerElement *ber,
    const unsigned char *msg, size_t len, int msgid, struct evbuffer *out);

/* Bind names: user@REALM, NETBIOS\user, bare login, virtual DN → real DN.  0 or -1. */
int rewrite_bind_name(const struct profile *p, const char *name, size_t len, char *out, size_t outlen);
/* Whether the name is a login form (no '=') the profile translates. */
int rewrite_bind_is_login(const struct profile *p, const char *name, size_t len);


/* GUID bytes (AD byte order) from a UUID string; 0 or -1. */
int guid_from_uuid(const char *uuid, size_t len, unsigned char out[16]);
int uuid_from_guid(const unsigned char guid[16], char out[37]);

#define SID_MAX (8 + 4 * 15)        /* a binary SID: at most 15 sub-authorities */
#define SID_STR_MAX 192
/* A SID string ("S-1-5-21-...") in AD's binary layout: its length, or 0 if it is not one. */
size_t sid_from_string(const char *s, size_t len, unsigned char out[SID_MAX]);
/* A binary SID as its string; the length, or -1 if it is not one or does not fit. */
int sid_to_string(const unsigned char *sid, size_t len, char *out, size_t cap);

#endif
