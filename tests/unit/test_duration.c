/* Durations: every value a user might type, good and bad; how they read back. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "duration.h"

#include <string.h>

static void durations_accepted(void **state)
{
	static const struct {
		const char *in;
		int64_t ms;
	} cases[] = {
		{"0", 0},		{"86400", 86400000},
		{"1", 1000},		{"90s", 90000},
		{"15m", 900000},	{"24h", 86400000},
		{"1h30m", 5400000},	{"1h30m15s", 5415000},
		{"500ms", 500},		{"2s500ms", 2500},
		{"0s", 0},		{"30m1h", 5400000},
		{"007", 7000},		{"876000h", 876000LL * 3600000},
		/* Go's decimal fractions, truncated to the millisecond */
		{"1.5h", 5400000},	{".5s", 500},
		{"1.h", 3600000},	{"0.25m", 15000},
		{"1.5h30m", 7200000},	{"2.0005s", 2000},
		{"1.0000000009h", 3600000}, {"1.999999999999s", 1999},
		{"875999.5h", 8759995LL * 360000},
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int64_t ms = -1;
		assert_true(duration_parse(cases[i].in, &ms));
		assert_int_equal(ms, cases[i].ms);
	}
}

static void durations_rejected(void **state)
{
	static const char *const bad[] = {
		"",	 "-1",	 "+5",	 " 5",	"5 ",	 "5x",	"h",  "1h-5m",
		"1.5",	 ".",	 ".h",	 "1..5h", "1.5.5h", "-1.5h", "1,5h", ". 5s",
		"876000.5h", "1d",	 "10us", "1e3", "0x10", "5m ", "s5", "m",
		"876001h", "99999999999999999999", "9223372036854775807s",
	};
	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int64_t ms = 42;
		if (duration_parse(bad[i], &ms))
			fail_msg("accepted duration \"%s\"", bad[i]);
		assert_int_equal(ms, 42);
	}
}

static void durations_formatted_round_trip(void **state)
{
	static const int64_t values[] = {0,	   500,	    1000,   90000,
					 5400000,  86400000, 5415250};
	char buf[32];
	(void)state;
	for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
		duration_format(buf, sizeof(buf), values[i]);
		if (values[i] % 1000 == 0 && values[i] > 0) {
			int64_t back;
			assert_true(duration_parse(buf, &back));
			assert_int_equal(back, values[i]);
		}
	}
	duration_format(buf, sizeof(buf), 5400000);
	assert_string_equal(buf, "1h30m");
	duration_format(buf, sizeof(buf), 2500);
	assert_string_equal(buf, "2.500s");
	duration_format(buf, sizeof(buf), 0);
	assert_string_equal(buf, "0s");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(durations_accepted),
		cmocka_unit_test(durations_rejected),
		cmocka_unit_test(durations_formatted_round_trip),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
