/*
 * chain.h — the groups of a user, nested ones included, for Active
 * Directory's LDAP_MATCHING_RULE_IN_CHAIN on `member`:
 * (member:1.2.840.113556.1.4.1941:=<user DN>), "every group this user is
 * in, directly or through other groups", as Keycloak's AD group mapper,
 * GitLab-style connectors and AD tools send it.
 *
 * ALD Pro (FreeIPA's memberOf plug-in) already keeps the transitive set in
 * the user's memberOf, so one base read of the user's memberOf answers it;
 * rewrite.c then turns the filter item into
 * (|(member=USER)(member=G1)...(member=Gn)): a group is in the set exactly
 * when it holds the user or one of the user's groups.
 *
 * A search that needs a user not yet read waits (HANDLER_WAIT) while
 * chain_request() reads it as an internal op; the answer is kept
 * CHAIN_TTL_US for the searches that follow (a login reads the user, then
 * its groups, within milliseconds), at most CHAIN_MAX users.
 */
#ifndef ALDPROXY_CHAIN_H
#define ALDPROXY_CHAIN_H

#include <stddef.h>
#include <stdint.h>

#define CHAIN_TTL_US (5 * 1000000ULL)
#define CHAIN_MAX 256

struct backend;

enum chain_state {
	CHAIN_UNKNOWN,          /* not read, or read too long ago */
	CHAIN_PENDING,          /* being read */
	CHAIN_READY,            /* *groups, *n: the user's memberOf (real DNs); none if the user does not exist */
	CHAIN_FAILED,           /* the read failed: *why says why */
};

/* What is known of the user with normalized real DN ndn at now. */
enum chain_state chain_groups(const char *ndn, size_t len, uint64_t now, const char *const **groups, size_t *n,
    const char **why);
/*
 * Starts reading the user's memberOf (ndn normalized, real) unless a read
 * is in flight; the searches waiting are woken (backend_wake_all()) when it
 * ends.  0, or -1 (no directory connection, out of memory).
 */
int  chain_request(struct backend *be, const char *ndn, size_t len);
/* The rewrite.c resolver: the user's groups when CHAIN_READY; 1 with *groups, *n, else 0. */
int  chain_resolve(const char *ndn, size_t len, const char *const **groups, size_t *n);
/* Frees the cache at exit. */
void chain_free(void);

#endif
