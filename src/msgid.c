/*
 * msgid.c — slot + generation message-ID table.  See msgid.h.
 *
 * msgid = ((gen << bits) | slot) + 1, kept below 2^31 by masking the
 * generation, so it is always a valid positive LDAP MessageID.
 */
#include "msgid.h"

#include <stdlib.h>

int
msgid_table_init(struct msgid_table *t, uint32_t capacity)
{
	uint32_t cap = 1, bits = 0;
	if (capacity < 1 || capacity > 65536)
		return -1;
	while (cap < capacity) {
		cap <<= 1;
		bits++;
	}
	t->slots = calloc(cap, sizeof(*t->slots));
	t->gen = calloc(cap, sizeof(*t->gen));
	t->free_stack = calloc(cap, sizeof(*t->free_stack));
	if (t->slots == NULL || t->gen == NULL || t->free_stack == NULL) {
		msgid_table_free(t);
		return -1;
	}
	t->cap = cap;
	t->bits = bits;
	t->used = 0;
	/* lowest slots on top of the stack, so IDs start small */
	t->nfree = cap;
	for (uint32_t i = 0; i < cap; i++)
		t->free_stack[i] = cap - 1 - i;
	return 0;
}

void
msgid_table_free(struct msgid_table *t)
{
	free(t->slots);
	free(t->gen);
	free(t->free_stack);
	t->slots = NULL;
	t->gen = NULL;
	t->free_stack = NULL;
	t->cap = t->nfree = t->used = 0;
}

static uint32_t
gen_mask(const struct msgid_table *t)
{
	return (uint32_t)((1UL << (31 - t->bits)) - 1);
}

int
msgid_alloc(struct msgid_table *t, void *value)
{
	if (t->nfree == 0 || value == NULL)
		return -1;
	uint32_t slot = t->free_stack[--t->nfree];
	t->slots[slot] = value;
	t->used++;
	uint32_t id = ((t->gen[slot] & gen_mask(t)) << t->bits) | slot;
	/* id + 1 must stay <= 2^31 - 1; the single overflowing value is skipped */
	if (id == 0x7fffffffU) {
		t->gen[slot]++;
		id = ((t->gen[slot] & gen_mask(t)) << t->bits) | slot;
	}
	return (int)(id + 1);
}

static uint32_t
slot_of(const struct msgid_table *t, int msgid, int *ok)
{
	*ok = 0;
	if (msgid <= 0 || t->cap == 0)
		return 0;
	uint32_t v = (uint32_t)msgid - 1;
	uint32_t slot = v & (t->cap - 1);
	uint32_t gen = v >> t->bits;
	if (t->slots[slot] != NULL && (t->gen[slot] & gen_mask(t)) == gen)
		*ok = 1;
	return slot;
}

void *
msgid_lookup(const struct msgid_table *t, int msgid)
{
	int ok;
	uint32_t slot = slot_of(t, msgid, &ok);
	return ok ? t->slots[slot] : NULL;
}

void *
msgid_release(struct msgid_table *t, int msgid)
{
	int ok;
	uint32_t slot = slot_of(t, msgid, &ok);
	if (!ok)
		return NULL;
	void *v = t->slots[slot];
	t->slots[slot] = NULL;
	t->gen[slot]++;
	t->free_stack[t->nfree++] = slot;
	t->used--;
	return v;
}
