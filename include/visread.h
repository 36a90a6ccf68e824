/*
 * visread.h — the visible users of each profile with groups.visible
 * (visset.h), read from the directory when a shared connection becomes
 * ready, after a reload, and every VISSET_REFRESH seconds.
 *
 * A read that fails keeps the set in use and is tried again in 10 s (1 s
 * while no read has completed, since searches that need the set wait for
 * it); a read that does not finish within backend.operation_timeout fails.
 */
#ifndef ALDPROXY_VISREAD_H
#define ALDPROXY_VISREAD_H

#include <stdint.h>

struct backend;

/* Starts the next read that is due, when none is in flight and a shared connection is ready. */
void visread_tick(struct backend *be, uint64_t now);

#endif
