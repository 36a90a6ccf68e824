/*
 * peers.h — what aldproxy remembers of the addresses clients come from and
 * of the accounts they bind as, to stand up to hostile clients
 * (docs/security.md, "Hostile clients"):
 *
 *  - connections open per source address (limits.max_connections_per_address);
 *  - failed binds per account and per address, a count that halves every
 *    minute: past limits.account_failures_delay (address_failures_delay)
 *    the next bind of that account (address) waits 0.1 s, doubling with
 *    every further failure up to 10 s; past limits.address_failures_block
 *    the address is refused binds for limits.address_block_time.  An account is
 *    never blocked, only slowed: locking accounts out is ALD Pro's
 *    password policy's job, and a lockout by aldproxy would hand an
 *    attacker a way to lock anyone out;
 *  - a budget of binds sent to the directory per second
 *    (limits.max_binds_per_second), since each costs the controllers a
 *    slow password hash.
 *
 * Tables are bounded; entries with nothing to remember are dropped by
 * peers_sweep().
 */
#ifndef ALDPROXY_PEERS_H
#define ALDPROXY_PEERS_H

#include <stddef.h>
#include <stdint.h>

struct config;

/* Counts a new connection from ip; -1 (nothing counted) when the address has its limit. */
int  peers_connect(const struct config *cfg, const char *ip);
void peers_disconnect(const char *ip);

/*
 * Before a bind of account (the name as sent) from ip: 0 to go now, or the
 * microseconds to wait.  *blocked is set when the address is blocked
 * (the bind is refused); *until then says for how many seconds.
 */
uint64_t peers_bind_wait(const struct config *cfg, const char *ip, const char *account, size_t alen, uint64_t now,
    int *blocked, double *until);
/* The outcome of a bind: failures (invalid credentials) count; returns 1 when this one blocked the address. */
int  peers_bind_failed(const struct config *cfg, const char *ip, const char *account, size_t alen, uint64_t now);
void peers_bind_ok(const char *account, size_t alen);

/* The directory bind budget: 0 and a bind is taken from it, or the microseconds until one is free. */
uint64_t peers_bind_budget(const struct config *cfg, uint64_t now);

/* Drops entries with nothing left to remember (called every second). */
void peers_sweep(uint64_t now);
void peers_free(void);

#endif
