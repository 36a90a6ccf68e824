/*
 * test_share.c — unit tests for share.c: operations in flight per address
 * and per identity, refcounting, and the waiters woken one per freed slot.
 * Each waiter's wake() records who was woken.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "share.h"

static struct share_waiter *woken[16];
static int nwoken;

static void
record_wake(struct share_waiter *w)
{
	woken[nwoken++] = w;
}

static void
waiters_init(struct share_waiter *w, size_t n)
{
	memset(w, 0, n * sizeof(*w));
	for (size_t i = 0; i < n; i++)
		w[i].wake = record_wake;
}

static int
setup(void **state)
{
	(void)state;
	nwoken = 0;
	share_configure(3, 2);
	return 0;
}

static void
test_same_key_same_share(void **state)
{
	(void)state;
	struct share *a = share_get(SHARE_ADDRESS, "10.0.0.1");
	struct share *b = share_get(SHARE_ADDRESS, "10.0.0.1");
	struct share *i = share_get(SHARE_IDENTITY, "10.0.0.1");
	struct share *u = share_get(SHARE_IDENTITY, "UID=Alice,cn=users");
	struct share *v = share_get(SHARE_IDENTITY, "uid=alice,CN=USERS");
	assert_ptr_equal(a, b);
	assert_ptr_not_equal(a, i);         /* addresses and identities never mix */
	assert_ptr_equal(u, v);             /* keys compare without case */
	share_put(a);
	share_put(b);
	share_put(i);
	share_put(u);
	share_put(v);
}

static void
test_cap_counts_ops(void **state)
{
	(void)state;
	struct share *s = share_get(SHARE_IDENTITY, "uid=bob");
	assert_false(share_full(s));
	share_op_begin(s);
	assert_false(share_full(s));
	share_op_begin(s);
	assert_true(share_full(s));         /* cap 2 */
	assert_int_equal(share_ops(s), 2);
	share_op_end(s);
	assert_false(share_full(s));
	share_op_end(s);
	assert_false(share_full(NULL));     /* no share (out of memory): never capped */
	share_put(s);
}

static void
test_one_waiter_per_freed_slot(void **state)
{
	(void)state;
	struct share_waiter c[3];
	waiters_init(c, 3);
	struct share *s = share_get(SHARE_ADDRESS, "192.0.2.7");
	for (int i = 0; i < 3; i++)
		share_op_begin(s);
	assert_true(share_full(s));
	for (int i = 0; i < 3; i++)
		share_wait(s, &c[i]);
	share_wait(s, &c[0]);               /* waiting twice is waiting once */
	share_op_end(s);
	assert_int_equal(nwoken, 1);
	assert_ptr_equal(woken[0], &c[0]);  /* first come, first woken */
	assert_null(c[0].on);
	/* c[0] did not take the slot (it left): the kick offers it to the next */
	share_kick();
	assert_int_equal(nwoken, 2);
	assert_ptr_equal(woken[1], &c[1]);
	/* a client that goes away stops waiting */
	share_unwait(&c[2]);
	share_op_end(s);
	share_op_end(s);
	assert_int_equal(nwoken, 2);
	share_put(s);
}

static void
test_raised_cap_wakes_on_kick(void **state)
{
	(void)state;
	struct share_waiter c[2];
	waiters_init(c, 2);
	struct share *s = share_get(SHARE_IDENTITY, "uid=carol");
	share_op_begin(s);
	share_op_begin(s);
	share_wait(s, &c[0]);
	share_wait(s, &c[1]);
	share_kick();
	assert_int_equal(nwoken, 0);        /* still full */
	share_configure(3, 4);              /* a reload raised the cap by two */
	share_kick();
	assert_int_equal(nwoken, 2);
	share_op_end(s);
	share_op_end(s);
	share_put(s);
}

static void
test_ops_keep_a_share_alive(void **state)
{
	(void)state;
	/* an op holds its share: the client's reference may go first (an orphaned bind) */
	struct share *s = share_get(SHARE_ADDRESS, "198.51.100.1");
	struct share *held = share_hold(s);
	share_op_begin(held);
	share_put(s);
	assert_int_equal(share_ops(held), 1);
	struct share *again = share_get(SHARE_ADDRESS, "198.51.100.1");
	assert_ptr_equal(again, held);
	share_op_end(held);
	share_put(held);
	share_put(again);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_same_key_same_share, setup),
		cmocka_unit_test_setup(test_cap_counts_ops, setup),
		cmocka_unit_test_setup(test_one_waiter_per_freed_slot, setup),
		cmocka_unit_test_setup(test_raised_cap_wakes_on_kick, setup),
		cmocka_unit_test_setup(test_ops_keep_a_share_alive, setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
