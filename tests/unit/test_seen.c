/* The log-once memory: new states, warnings once, entries up to a bound. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "seen.h"

static struct seen s;

static void states(void **state)
{
	uint64_t a = seen_fingerprint(0, "a", 1), b = seen_fingerprint(0, "b", 1);
	(void)state;
	seen_init(&s, "DIR/KEY", "");
	assert_true(a != b);
	assert_true(a != seen_fingerprint(1, "a", 1)); /* the seed counts */
	assert_true(seen_new_state(&s, a));
	assert_false(seen_new_state(&s, a));
	assert_true(seen_new_state(&s, b));
	assert_true(seen_new_state(&s, a)); /* back again: logged again */
}

static void warnings_once(void **state)
{
	(void)state;
	seen_init(&s, "DIR/KEY", "");
	assert_true(seen_first_warning(&s, 7));
	assert_false(seen_first_warning(&s, 7));
	assert_true(seen_first_warning(&s, 8));
	/* The oldest is forgotten once SEEN_REMEMBERED others came after. */
	for (uint64_t fp = 100; fp < 100 + SEEN_REMEMBERED; fp++)
		assert_true(seen_first_warning(&s, fp));
	assert_true(seen_first_warning(&s, 7));
}

static void items(void **state)
{
	(void)state;
	seen_init(&s, "DIR/KEY", "");
	assert_int_equal(seen_item(&s, 1, 10), SEEN_ITEM_CHANGED);
	assert_int_equal(seen_item(&s, 1, 10), SEEN_ITEM_SAME);
	assert_int_equal(seen_item(&s, 1, 11), SEEN_ITEM_CHANGED);
	for (uint64_t name = 2; name <= SEEN_REMEMBERED; name++)
		assert_int_equal(seen_item(&s, name, 0), SEEN_ITEM_CHANGED);
	assert_int_equal(seen_item(&s, 1000, 0), SEEN_ITEM_FULL);
	assert_int_equal(seen_item(&s, 1, 12), SEEN_ITEM_CHANGED);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(states),
		cmocka_unit_test(warnings_once),
		cmocka_unit_test(items),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
