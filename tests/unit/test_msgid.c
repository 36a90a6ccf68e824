/*
 * test_msgid.c — unit tests for the slot + generation message-ID table.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "msgid.h"

#define MAXID 0x7fffffff

static int vals[70000];
#define V(i) ((void *)&vals[(i)])

static void
test_init_rounds_capacity(void **state)
{
	(void)state;
	static const struct {
		uint32_t ask, cap, bits;
	} cases[] = {
		{ 1, 1, 0 }, { 2, 2, 1 }, { 3, 4, 2 }, { 4, 4, 2 }, { 5, 8, 3 }, { 100, 128, 7 },
		{ 1000, 1024, 10 }, { 32769, 65536, 16 }, { 65536, 65536, 16 },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct msgid_table t;
		assert_int_equal(msgid_table_init(&t, cases[i].ask), 0);
		assert_int_equal(t.cap, cases[i].cap);
		assert_int_equal(t.bits, cases[i].bits);
		assert_int_equal(t.used, 0);
		assert_int_equal(t.nfree, cases[i].cap);
		/* exactly cap ids fit */
		for (uint32_t k = 0; k < cases[i].cap; k++)
			assert_true(msgid_alloc(&t, V(k)) > 0);
		assert_int_equal(msgid_alloc(&t, V(0)), -1);
		msgid_table_free(&t);
	}
}

static void
test_init_zero_capacity(void **state)
{
	(void)state;
	struct msgid_table t;
	memset(&t, 0, sizeof(t));
	assert_int_equal(msgid_table_init(&t, 0), -1);
}

static void
test_init_too_large(void **state)
{
	(void)state;
	struct msgid_table t;
	memset(&t, 0, sizeof(t));
	assert_int_equal(msgid_table_init(&t, 65537), -1);
	assert_int_equal(msgid_table_init(&t, UINT32_MAX), -1);
}

static void
test_alloc_distinct_positive(void **state)
{
	(void)state;
	struct msgid_table t;
	int ids[64];
	assert_int_equal(msgid_table_init(&t, 64), 0);
	for (int i = 0; i < 64; i++) {
		ids[i] = msgid_alloc(&t, V(i));
		assert_true(ids[i] >= 1);
		assert_true(ids[i] <= MAXID);
		for (int j = 0; j < i; j++)
			assert_int_not_equal(ids[i], ids[j]);
	}
	assert_int_equal(t.used, 64);
	msgid_table_free(&t);
}

static void
test_first_ids_small(void **state)
{
	(void)state;
	/* a fresh table hands out 1, 2, 3, ... (short BER encodings) */
	struct msgid_table t;
	assert_int_equal(msgid_table_init(&t, 16), 0);
	assert_int_equal(msgid_alloc(&t, V(0)), 1);
	assert_int_equal(msgid_alloc(&t, V(1)), 2);
	assert_int_equal(msgid_alloc(&t, V(2)), 3);
	msgid_table_free(&t);
}

static void
test_lookup_finds_values(void **state)
{
	(void)state;
	struct msgid_table t;
	int ids[100];
	assert_int_equal(msgid_table_init(&t, 100), 0);
	for (int i = 0; i < 100; i++)
		ids[i] = msgid_alloc(&t, V(i));
	for (int i = 0; i < 100; i++)
		assert_ptr_equal(msgid_lookup(&t, ids[i]), V(i));
	/* lookup does not consume */
	for (int i = 0; i < 100; i++)
		assert_ptr_equal(msgid_lookup(&t, ids[i]), V(i));
	assert_int_equal(t.used, 100);
	msgid_table_free(&t);
}

static void
test_alloc_null_value(void **state)
{
	(void)state;
	struct msgid_table t;
	assert_int_equal(msgid_table_init(&t, 4), 0);
	assert_int_equal(msgid_alloc(&t, NULL), -1);
	assert_int_equal(t.used, 0);
	assert_int_equal(t.nfree, 4);
	msgid_table_free(&t);
}

static void
test_release_frees(void **state)
{
	(void)state;
	struct msgid_table t;
	assert_int_equal(msgid_table_init(&t, 2), 0);
	int a = msgid_alloc(&t, V(1));
	int b = msgid_alloc(&t, V(2));
	assert_int_equal(msgid_alloc(&t, V(3)), -1);
	assert_ptr_equal(msgid_release(&t, a), V(1));
	assert_int_equal(t.used, 1);
	assert_null(msgid_lookup(&t, a));
	assert_ptr_equal(msgid_lookup(&t, b), V(2));
	/* the slot is free again */
	int c = msgid_alloc(&t, V(3));
	assert_true(c > 0);
	assert_int_not_equal(c, a);
	assert_int_not_equal(c, b);
	assert_ptr_equal(msgid_lookup(&t, c), V(3));
	msgid_table_free(&t);
}

static void
test_release_twice(void **state)
{
	(void)state;
	struct msgid_table t;
	assert_int_equal(msgid_table_init(&t, 4), 0);
	int a = msgid_alloc(&t, V(1));
	assert_ptr_equal(msgid_release(&t, a), V(1));
	assert_null(msgid_release(&t, a));
	assert_int_equal(t.used, 0);
	assert_int_equal(t.nfree, 4);
	msgid_table_free(&t);
}

static void
test_release_unknown(void **state)
{
	(void)state;
	struct msgid_table t;
	assert_int_equal(msgid_table_init(&t, 4), 0);
	int a = msgid_alloc(&t, V(1));
	assert_null(msgid_release(&t, a + 1));     /* never allocated */
	assert_null(msgid_release(&t, 0));
	assert_null(msgid_release(&t, -1));
	assert_int_equal(t.used, 1);
	assert_int_equal(t.nfree, 3);
	assert_ptr_equal(msgid_lookup(&t, a), V(1));
	msgid_table_free(&t);
}

static void
test_stale_after_reuse(void **state)
{
	(void)state;
	struct msgid_table t;
	assert_int_equal(msgid_table_init(&t, 4), 0);
	int a = msgid_alloc(&t, V(1));
	assert_ptr_equal(msgid_release(&t, a), V(1));
	/* LIFO free list: the same slot comes back with a new generation */
	int b = msgid_alloc(&t, V(2));
	assert_int_not_equal(a, b);
	assert_int_equal((uint32_t)(a - 1) & (t.cap - 1), (uint32_t)(b - 1) & (t.cap - 1));
	assert_null(msgid_lookup(&t, a));
	assert_null(msgid_release(&t, a));
	/* releasing the stale id did not disturb the live one */
	assert_ptr_equal(msgid_lookup(&t, b), V(2));
	assert_int_equal(t.used, 1);
	msgid_table_free(&t);
}

static void
test_stale_many_generations(void **state)
{
	(void)state;
	struct msgid_table t;
	int old[1000];
	assert_int_equal(msgid_table_init(&t, 8), 0);
	for (int i = 0; i < 1000; i++) {
		old[i] = msgid_alloc(&t, V(i));
		assert_ptr_equal(msgid_release(&t, old[i]), V(i));
	}
	int live = msgid_alloc(&t, V(5000));
	for (int i = 0; i < 1000; i++) {
		assert_int_not_equal(old[i], live);
		assert_null(msgid_lookup(&t, old[i]));
	}
	assert_ptr_equal(msgid_lookup(&t, live), V(5000));
	msgid_table_free(&t);
}

static void
test_table_full(void **state)
{
	(void)state;
	struct msgid_table t;
	assert_int_equal(msgid_table_init(&t, 8), 0);
	int ids[8];
	for (int i = 0; i < 8; i++)
		ids[i] = msgid_alloc(&t, V(i));
	assert_int_equal(msgid_alloc(&t, V(9)), -1);
	assert_int_equal(msgid_alloc(&t, V(9)), -1);
	/* a failed alloc changed nothing */
	assert_int_equal(t.used, 8);
	for (int i = 0; i < 8; i++)
		assert_ptr_equal(msgid_lookup(&t, ids[i]), V(i));
	msgid_release(&t, ids[3]);
	assert_true(msgid_alloc(&t, V(9)) > 0);
	assert_int_equal(msgid_alloc(&t, V(10)), -1);
	msgid_table_free(&t);
}

static void
test_table_full_cap1(void **state)
{
	(void)state;
	struct msgid_table t;
	assert_int_equal(msgid_table_init(&t, 1), 0);
	int a = msgid_alloc(&t, V(0));
	assert_true(a > 0);
	assert_int_equal(msgid_alloc(&t, V(1)), -1);
	msgid_table_free(&t);
}

static void
test_lookup_zero_negative(void **state)
{
	(void)state;
	struct msgid_table t;
	assert_int_equal(msgid_table_init(&t, 4), 0);
	for (int i = 0; i < 4; i++)
		msgid_alloc(&t, V(i));
	assert_null(msgid_lookup(&t, 0));
	assert_null(msgid_lookup(&t, -1));
	assert_null(msgid_lookup(&t, -2147483647 - 1));
	assert_null(msgid_lookup(&t, MAXID));
	msgid_table_free(&t);
}

static void
test_lookup_after_free(void **state)
{
	(void)state;
	/* a freed (or never initialized but zeroed) table answers NULL */
	struct msgid_table t;
	assert_int_equal(msgid_table_init(&t, 4), 0);
	int a = msgid_alloc(&t, V(0));
	msgid_table_free(&t);
	assert_null(msgid_lookup(&t, a));
	assert_null(msgid_release(&t, a));
	assert_int_equal(msgid_alloc(&t, V(0)), -1);
}

/* Churns one slot through many generations; every id must be a valid
 * positive LDAP MessageID and map back to its value. */
static void
churn(uint32_t cap, long rounds)
{
	struct msgid_table t;
	assert_int_equal(msgid_table_init(&t, cap), 0);
	int prev = 0;
	for (long i = 0; i < rounds; i++) {
		int id = msgid_alloc(&t, V(i & 1));
		if (id < 1 || id > MAXID)
			fail_msg("round %ld: id %d out of range", i, id);
		if (id == prev)
			fail_msg("round %ld: id %d repeated at once", i, id);
		if (msgid_lookup(&t, id) != V(i & 1))
			fail_msg("round %ld: lookup(%d) lost the value", i, id);
		if (prev != 0 && msgid_lookup(&t, prev) != NULL)
			fail_msg("round %ld: released id %d still live", i, prev);
		if (msgid_release(&t, id) != V(i & 1))
			fail_msg("round %ld: release(%d) failed", i, id);
		prev = id;
	}
	assert_int_equal(t.used, 0);
	msgid_table_free(&t);
}

static void
test_generations_cap1(void **state)
{
	(void)state;
	churn(1, 3000000);
}

static void
test_generations_cap65536(void **state)
{
	(void)state;
	/* slot 0 has 2^15 generations: this wraps it about 90 times */
	churn(65536, 3000000);
}

static void
test_generations_cap65536_last_slot(void **state)
{
	(void)state;
	/* the one id that would be 2^31 (top slot, top generation) is skipped */
	struct msgid_table t;
	assert_int_equal(msgid_table_init(&t, 65536), 0);
	int last = 0;
	for (int i = 0; i < 65536; i++)
		last = msgid_alloc(&t, V(i));
	assert_int_equal(last, 65536);  /* slot 65535, generation 0 */
	int maxseen = 0, prev = last, wrapped = 0;
	for (int g = 0; g < 3 * 32768; g++) {
		assert_ptr_equal(msgid_release(&t, prev), V(65535));
		int id = msgid_alloc(&t, V(65535));
		assert_true(id >= 1);
		assert_true(id <= MAXID);
		assert_int_equal((uint32_t)(id - 1) & 0xffff, 0xffff);
		assert_ptr_equal(msgid_lookup(&t, id), V(65535));
		assert_null(msgid_lookup(&t, prev));
		if (id > maxseen)
			maxseen = id;
		if (id == 65536)
			wrapped++;
		prev = id;
	}
	/* slot 65535 at generation 2^15-1 would be 2^31: the highest it
	 * reaches is generation 2^15-2 */
	assert_int_equal(maxseen, 0x7fff0000);
	assert_int_equal(wrapped, 3);
	/* other slots untouched */
	assert_ptr_equal(msgid_lookup(&t, 1), V(0));
	assert_ptr_equal(msgid_lookup(&t, 65535), V(65534));
	msgid_table_free(&t);
}

static void
test_generation_wrap_cap1(void **state)
{
	(void)state;
	/* white box: put slot 0 of a 1-slot table just below 2^31 */
	struct msgid_table t;
	assert_int_equal(msgid_table_init(&t, 1), 0);
	t.gen[0] = 0x7ffffffd;
	int a = msgid_alloc(&t, V(1));
	assert_int_equal(a, 0x7ffffffe);
	assert_ptr_equal(msgid_release(&t, a), V(1));
	int b = msgid_alloc(&t, V(2));
	assert_int_equal(b, MAXID);
	assert_ptr_equal(msgid_lookup(&t, b), V(2));
	assert_ptr_equal(msgid_release(&t, b), V(2));
	/* generation 0x7fffffff would give 2^31: skipped, wraps to 1 */
	int c = msgid_alloc(&t, V(3));
	assert_int_equal(c, 1);
	assert_ptr_equal(msgid_lookup(&t, c), V(3));
	assert_null(msgid_lookup(&t, b));
	assert_ptr_equal(msgid_release(&t, c), V(3));
	int d = msgid_alloc(&t, V(4));
	assert_int_equal(d, 2);
	assert_null(msgid_lookup(&t, c));
	msgid_table_free(&t);
}

static void
test_many_live_ids(void **state)
{
	(void)state;
	/* fill, release every other one, refill: all live ids still resolve */
	struct msgid_table t;
	static int ids[65536];
	assert_int_equal(msgid_table_init(&t, 65536), 0);
	for (int i = 0; i < 65536; i++)
		ids[i] = msgid_alloc(&t, V(i));
	for (int i = 0; i < 65536; i += 2)
		assert_ptr_equal(msgid_release(&t, ids[i]), V(i));
	for (int i = 0; i < 65536; i += 2) {
		int old = ids[i];
		ids[i] = msgid_alloc(&t, V(i));
		assert_true(ids[i] > 0);
		assert_null(msgid_lookup(&t, old));
	}
	assert_int_equal(msgid_alloc(&t, V(0)), -1);
	for (int i = 0; i < 65536; i++)
		assert_ptr_equal(msgid_lookup(&t, ids[i]), V(i));
	msgid_table_free(&t);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_init_rounds_capacity),
		cmocka_unit_test(test_init_zero_capacity),
		cmocka_unit_test(test_init_too_large),
		cmocka_unit_test(test_alloc_distinct_positive),
		cmocka_unit_test(test_first_ids_small),
		cmocka_unit_test(test_lookup_finds_values),
		cmocka_unit_test(test_alloc_null_value),
		cmocka_unit_test(test_release_frees),
		cmocka_unit_test(test_release_twice),
		cmocka_unit_test(test_release_unknown),
		cmocka_unit_test(test_stale_after_reuse),
		cmocka_unit_test(test_stale_many_generations),
		cmocka_unit_test(test_table_full),
		cmocka_unit_test(test_table_full_cap1),
		cmocka_unit_test(test_lookup_zero_negative),
		cmocka_unit_test(test_lookup_after_free),
		cmocka_unit_test(test_generations_cap1),
		cmocka_unit_test(test_generations_cap65536),
		cmocka_unit_test(test_generations_cap65536_last_slot),
		cmocka_unit_test(test_generation_wrap_cap1),
		cmocka_unit_test(test_many_live_ids),
	};
	return cmocka_run_group_tests_name("msgid", tests, NULL, NULL);
}
