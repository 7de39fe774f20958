/* Usernames as ConfigMap key suffixes: one spelling per user. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "voter.h"

#include <string.h>

static void encode(void **state)
{
	static const struct {
		const char *name, *encoded;
	} cases[] = {
		{"alice", "alice"},
		{"alice@example.com", "alice_40example.com"},
		{"system:serviceaccount:ci:deployer",
		 "system_3aserviceaccount_3aci_3adeployer"},
		{"first_last", "first_5flast"},
		{"a+b c", "a_2bb_20c"},
		{"J\xc3\xb6rg", "J_c3_b6rg"},
	};
	char out[128], back[128];
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_true(voter_name_encode(cases[i].name, out, sizeof(out)));
		assert_string_equal(out, cases[i].encoded);
		assert_true(voter_name_decode(out, back, sizeof(back)));
		assert_string_equal(back, cases[i].name);
	}
}

static void decode_rejects_other_spellings(void **state)
{
	static const char *const bad[] = {
		"",	       "alice_4",    "alice_4g",   "alice_40Example_2",
		"alice_4A",    "_61lice",    "a_2d",	   "a_2e",
		"a_00b",       "a b",	     "a/b",	   "alice_",
	};
	char out[64];
	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (voter_name_decode(bad[i], out, sizeof(out)))
			fail_msg("accepted \"%s\" as \"%s\"", bad[i], out);
}

static void bounded(void **state)
{
	char out[8];
	(void)state;
	assert_false(voter_name_encode("a@b.com", out, sizeof(out)));
	assert_string_equal(out, "a_40b.c"); /* the prefix that fits */
	assert_true(voter_name_encode("abcdefg", out, sizeof(out)));
	assert_false(voter_name_decode("abcdefgh", out, sizeof(out)));
	assert_true(voter_name_decode("abcdefg", out, sizeof(out)));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(encode),
		cmocka_unit_test(decode_rejects_other_spellings),
		cmocka_unit_test(bounded),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
