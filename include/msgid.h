/*
 * msgid.h — the message-ID table of one upstream connection.
 *
 * Many clients' operations share a pooled directory connection, so each
 * forwarded operation gets an upstream messageID from this table
 * (lloadd does the same).  The ID encodes a slot and the slot's
 * generation, so lookups are O(1) without hashing and a late reply to an
 * abandoned operation never reaches the operation that reused its slot.
 * The table owns only its arrays; the values are borrowed pointers.
 */
#ifndef ALDPROXY_MSGID_H
#define ALDPROXY_MSGID_H

#include <stddef.h>
#include <stdint.h>

struct msgid_table {
	void **slots;
	uint32_t *gen;
	uint32_t *free_stack;
	uint32_t nfree;
	uint32_t cap;       /* power of two */
	uint32_t bits;      /* log2(cap) */
	uint32_t used;
};

/* capacity is rounded up to a power of two (at most 65536). */
int  msgid_table_init(struct msgid_table *t, uint32_t capacity);
void msgid_table_free(struct msgid_table *t);

/* Returns a new messageID (1 .. 2^31-1) mapped to value, or -1 when full. */
int   msgid_alloc(struct msgid_table *t, void *value);
/* The value mapped to msgid, or NULL (unknown, stale or released). */
void *msgid_lookup(const struct msgid_table *t, int msgid);
/* Releases msgid; returns its value or NULL if it was not live. */
void *msgid_release(struct msgid_table *t, int msgid);

#endif
