/*
 * share.h — operations in flight per bound identity and per source address
 * (limits.max_ops_per_identity, limits.max_ops_per_address), so that no
 * product account and no host can hold every slot of the shared directory
 * connections however many connections it opens (docs/security.md,
 * "Hostile clients").
 *
 * A share is refcounted: each client holds its address's share from accept
 * and its identity's from a successful bind; each client op holds the
 * shares it was counted in until it ends, so a rebind mid-flight uncounts
 * the right identity.  A client that finds a share full stops reading and
 * waits on that share; the first waiter is resumed when an op of the share
 * ends (one at a time: each wake-up can use one freed slot).
 */
#ifndef ALDPROXY_SHARE_H
#define ALDPROXY_SHARE_H

#include <stddef.h>
#include <sys/queue.h>

struct share;

/*
 * One who may wait for a slot of a full share (a client embeds one): on at
 * most one share at a time; wake() is called when a slot frees for it.
 */
struct share_waiter {
	struct share *on;               /* the full share it waits on, or NULL */
	TAILQ_ENTRY(share_waiter) link;
	void (*wake)(struct share_waiter *w);
};

enum share_kind { SHARE_ADDRESS, SHARE_IDENTITY };

/* The share of key (an address, or a normalized DN), held; NULL when out of memory. */
struct share *share_get(enum share_kind kind, const char *key);
void share_put(struct share *s);
/* Another reference to s (NULL passes through). */
struct share *share_hold(struct share *s);

/* The caps (limits.max_ops_per_address, limits.max_ops_per_identity); at start and reload. */
void share_configure(long per_address, long per_identity);

/* An op begins / ends in s (NULL is ignored). */
void share_op_begin(struct share *s);
void share_op_end(struct share *s);

/* Whether s has no free slot. */
int  share_full(const struct share *s);
/* w waits on s for a slot (at most one share at a time); share_unwait: no longer. */
void share_wait(struct share *s, struct share_waiter *w);
void share_unwait(struct share_waiter *w);
/*
 * Wakes waiters of every share with free slots (from the backend's tick):
 * a woken client that left or sent nothing does not strand the others.
 */
void share_kick(void);

/* Ops in flight in s, for stats and tests. */
unsigned share_ops(const struct share *s);

#endif
