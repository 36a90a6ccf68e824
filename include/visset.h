/*
 * visset.h — the users a profile with groups.visible may see: the DNs and
 * uids of the members (direct or nested) of its visible groups, read from
 * the directory and kept as a sorted set per profile.
 *
 * Entries are checked one by one as they come back (rewrite_entry()), but
 * DN values inside entries (a group's member, a user's manager) and DN
 * assertions in filters ((member=DN)) name other entries: those are checked
 * against this set.  It is read when a shared connection becomes ready,
 * after a reload, and every VISSET_REFRESH seconds; a search that needs it
 * waits until the first read is complete.  Until then, and for a user who
 * joined a visible group since the last read, the answer is "not visible":
 * the set errs on the side of showing less.
 */
#ifndef ALDPROXY_VISSET_H
#define ALDPROXY_VISSET_H

#include <stddef.h>
#include <stdint.h>

#include "pdu.h"

#define VISSET_REFRESH 30           /* seconds between reads */

struct visset;
struct profile;
struct profile_set;
struct upstream;
struct backend;
struct evbuffer;

struct visset *visset_new(void);
void visset_free(struct visset *v);

/* Whether the set has been read at least once. */
int  visset_ready(const struct visset *v);
/* Membership: a normalized DN, or a uid (case-insensitive). */
int  visset_has_dn(const struct visset *v, const char *ndn, size_t len);
int  visset_has_uid(const struct visset *v, const char *uid, size_t len);

/* Replaces the set (what a completed read does; also for tests and explain).  0 or -1. */
int  visset_replace(struct visset *v, const char *const *dns, size_t n, const char *const *uids, size_t m);

/*
 * For `aldproxyctl explain`, which has no directory: every user counts as
 * visible, and explain says that the daemon checks them at run time.
 */
void visset_assume_all(struct visset *v);

/* Starts the next read that is due, on u (a ready shared connection) when nothing is in flight. */
void visset_tick(struct backend *be, struct upstream *u, uint64_t now);
/* Whether h on u answers the read in flight; then it is consumed here. */
int  visset_response(struct upstream *u, struct evbuffer *in, const struct pdu_head *h);
/* u failed: a read in flight on it starts again later. */
void visset_upstream_lost(struct upstream *u);

#endif
