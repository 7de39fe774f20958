/* Escaping: nothing from a file can forge a log line or drive a terminal. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "escape.h"

#include <string.h>

static char out[256];

static const char *esc(const char *in, size_t len, unsigned flags)
{
	escape_value(out, sizeof(out), in, len, flags);
	return out;
}

#define ESC(s, f) esc(s, sizeof(s) - 1, f)

static void plain_text_unchanged(void **state)
{
	(void)state;
	assert_string_equal(ESC("LGTM, ship it", 0), "LGTM, ship it");
	assert_string_equal(ESC("caf\xc3\xa9 \xe2\x9c\x93 \xf0\x9f\x9a\x80", 0),
			    "caf\xc3\xa9 \xe2\x9c\x93 \xf0\x9f\x9a\x80");
	assert_string_equal(ESC("", 0), "");
}

static void controls_escaped(void **state)
{
	(void)state;
	assert_string_equal(ESC("a\nb\rc\td", 0), "a\\nb\\rc\\td");
	assert_string_equal(ESC("\x1b[31mred\x07", 0), "\\x1b[31mred\\x07");
	assert_string_equal(ESC("\x7f", 0), "\\x7f");
	assert_string_equal(ESC("a\0b", 0), "a\\x00b");
	assert_string_equal(ESC("say \"hi\" \\o/", ESCAPE_QUOTES),
			    "say \\\"hi\\\" \\\\o/");
	assert_string_equal(ESC("say \"hi\"", 0), "say \"hi\"");
}

static void unsafe_unicode_escaped(void **state)
{
	(void)state;
	/* U+009B is CSI on some terminals; U+202E reverses text. */
	assert_string_equal(ESC("\xc2\x9b" "31m", 0), "\\u{009b}31m");
	assert_string_equal(ESC("a\xe2\x80\xae" "b", 0), "a\\u{202e}b");
	assert_string_equal(ESC("\xe2\x80\xa8", 0), "\\u{2028}");
	assert_string_equal(ESC("\xef\xbb\xbf", 0), "\\u{feff}");
	/* Invisible characters: "alice" and "ali<ZWSP>ce" must not look alike. */
	assert_string_equal(ESC("ali\xe2\x80\x8b" "ce", 0), "ali\\u{200b}ce");
	assert_string_equal(ESC("\xc2\xad\xe1\xa0\x8e\xe2\x80\x8c\xe2\x80\x8d", 0),
			    "\\u{00ad}\\u{180e}\\u{200c}\\u{200d}");
	assert_string_equal(ESC("\xe2\x81\xa0\xe2\x81\xa4", 0), "\\u{2060}\\u{2064}");
	assert_string_equal(ESC("\xf3\xa0\x80\x81\xf3\xa0\x81\xbf", 0), "\\u{e0001}\\u{e007f}");
	/* Their neighbours are left alone. */
	assert_string_equal(ESC("\xe2\x81\xa5\xf3\xa0\x82\x80", 0), "\xe2\x81\xa5\xf3\xa0\x82\x80");
	/* Every bidi control and separator, each alone. */
	assert_string_equal(ESC("\xd8\x9c", 0), "\\u{061c}");
	assert_string_equal(ESC("\xe2\x80\x8e\xe2\x80\x8f", 0),
			    "\\u{200e}\\u{200f}");
	assert_string_equal(ESC("\xe2\x80\xaa\xe2\x81\xa6\xe2\x81\xa9", 0),
			    "\\u{202a}\\u{2066}\\u{2069}");
	assert_string_equal(ESC("\xe2\x80\xa9", 0), "\\u{2029}");
	/* Neighbours stay as they are: U+061B, U+200A (a hair space), U+2065. */
	assert_string_equal(ESC("\xd8\x9b\xe2\x80\x8a\xe2\x81\xa5", 0),
			    "\xd8\x9b\xe2\x80\x8a\xe2\x81\xa5");
}

static void invalid_utf8_escaped(void **state)
{
	(void)state;
	assert_string_equal(ESC("\xff", 0), "\\xff");
	assert_string_equal(ESC("\xc3", 0), "\\xc3");		  /* cut short */
	assert_string_equal(ESC("\xc0\xaf", 0), "\\xc0\\xaf");	  /* overlong */
	assert_string_equal(ESC("\xed\xa0\x80", 0), "\\xed\\xa0\\x80"); /* surrogate */
	assert_string_equal(ESC("\xf4\x90\x80\x80", 0),
			    "\\xf4\\x90\\x80\\x80"); /* > U+10FFFF */
}

static void cut_visibly_on_boundaries(void **state)
{
	char small[24], in[100];
	(void)state;
	memset(in, 'x', sizeof(in));
	assert_true(escape_value(small, sizeof(small), in, sizeof(in), 0));
	assert_int_equal(strlen(small), sizeof(small) - 1);
	assert_string_equal(small + strlen(small) - strlen(ESCAPE_CUT_MARK),
			    ESCAPE_CUT_MARK);
	/* Never half an escape or half a character before the mark. */
	memset(in, '\n', sizeof(in));
	assert_true(escape_value(small, sizeof(small), in, sizeof(in), 0));
	assert_string_equal(small, "\\n\\n\\n\\n" ESCAPE_CUT_MARK);
	for (size_t i = 0; i + 1 < sizeof(in); i += 2)
		memcpy(in + i, "\xc3\xa9", 2);
	assert_true(escape_value(small, sizeof(small), in, sizeof(in), 0));
	assert_string_equal(small, "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9" ESCAPE_CUT_MARK);
	/* Exactly full: no mark. */
	assert_false(escape_value(small, sizeof(small), in, 22, 0));
	assert_int_equal(strlen(small), 22);
}

/* Parts appended to a bounded buffer: cut once, ending in the one mark. */
static void append_cuts_once_with_the_mark(void **state)
{
	char buf[32 + 1];
	size_t len = 0;
	const size_t cap = 32, mark = strlen(ESCAPE_CUT_MARK);
	(void)state;
	buf[0] = '\0';
	assert_true(escape_append(buf, cap, &len, "alice", 5));
	assert_true(escape_append(buf, cap, &len, ",", 1));
	assert_string_equal(buf, "alice,");
	assert_int_equal(len, 6);
	assert_false(escape_append(buf, cap, &len, "bobbobbobbobbobbobbobbobbobbob",
				   30));
	assert_int_equal(len, cap);
	assert_string_equal(buf, "alice,bobbobbobbob" ESCAPE_CUT_MARK);
	assert_int_equal(strlen(buf), cap);
	/* Later parts change nothing: the mark stays, once. */
	assert_false(escape_append(buf, cap, &len, "carol", 5));
	assert_string_equal(buf, "alice,bobbobbobbob" ESCAPE_CUT_MARK);
	/* Already past the room before the mark: the mark overwrites. */
	len = 0;
	memset(buf, 'x', cap - 2);
	buf[cap - 2] = '\0';
	len = cap - 2;
	assert_false(escape_append(buf, cap, &len, "yyy", 3));
	assert_int_equal(strlen(buf), cap);
	assert_memory_equal(buf + cap - mark, ESCAPE_CUT_MARK, mark);
}

static void hex_digits(void **state)
{
	(void)state;
	assert_int_equal(escape_hex_digit('0'), 0);
	assert_int_equal(escape_hex_digit('9'), 9);
	assert_int_equal(escape_hex_digit('a'), 10);
	assert_int_equal(escape_hex_digit('F'), 15);
	assert_int_equal(escape_hex_digit('g'), -1);
	assert_int_equal(escape_hex_digit('\0'), -1);
	assert_int_equal(escape_hex_digit('/'), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(plain_text_unchanged),
		cmocka_unit_test(controls_escaped),
		cmocka_unit_test(unsafe_unicode_escaped),
		cmocka_unit_test(invalid_utf8_escaped),
		cmocka_unit_test(cut_visibly_on_boundaries),
		cmocka_unit_test(append_cuts_once_with_the_mark),
		cmocka_unit_test(hex_digits),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
