/*
 * visset.h — the users a profile with groups.visible may see: the DNs and
 * uids of the members (direct or nested) of its visible groups, read from
 * the directory (visread.c) and kept as a sorted set per profile.
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

#define VISSET_REFRESH 30           /* seconds between reads */

struct visset;

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

/*
 * A read (visread.c): begin clears the set being read, dn/uid add to it
 * (0, or -1 out of memory), commit makes it the one lookups see and
 * schedules the next read (returns the users in it), abort drops it and
 * schedules a new try at due_us.
 */
void visset_read_begin(struct visset *v);
int  visset_read_dn(struct visset *v, const char *ndn, size_t len);
int  visset_read_uid(struct visset *v, const char *uid, size_t len);
size_t visset_read_commit(struct visset *v, uint64_t now);
void visset_read_abort(struct visset *v, uint64_t due_us);
/* Whether a read is due at now. */
int  visset_due(const struct visset *v, uint64_t now);

#endif
