/* Decision words and JSON objects, as approvers write them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "decision.h"

#include <stdio.h>
#include <string.h>

static struct decision d;

static enum verdict parse(const char *s)
{
	decision_parse(s, strlen(s), &d);
	return d.verdict;
}

static void words(void **state)
{
	static const struct {
		const char *in;
		enum verdict v;
	} cases[] = {
		{"approved", VERDICT_APPROVED}, {"approve", VERDICT_APPROVED},
		{"success", VERDICT_APPROVED},	{"APPROVED", VERDICT_APPROVED},
		{"Success\n", VERDICT_APPROVED}, {" \t approved \r\n", VERDICT_APPROVED},
		{"refused", VERDICT_REFUSED},	{"refuse", VERDICT_REFUSED},
		{"rejected", VERDICT_REFUSED},	{"reject", VERDICT_REFUSED},
		{"denied", VERDICT_REFUSED},	{"DENIED\n", VERDICT_REFUSED},
		{"", VERDICT_PENDING},		{"\n", VERDICT_PENDING},
		{"init", VERDICT_PENDING},	{"pending", VERDICT_PENDING},
		{"notifying", VERDICT_PENDING}, {"notified\n", VERDICT_PENDING},
		{"waiting", VERDICT_PENDING},	{"aproved", VERDICT_UNKNOWN},
		{"approved!", VERDICT_UNKNOWN}, {"approved approved", VERDICT_UNKNOWN},
		{"yes", VERDICT_UNKNOWN},	{"\"approved\"", VERDICT_UNKNOWN},
		{"approv\xc3\xa9", VERDICT_UNKNOWN}, {"[\"approved\"]", VERDICT_UNKNOWN},
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (parse(cases[i].in) != cases[i].v)
			fail_msg("\"%s\": got %s, want %s", cases[i].in,
				 verdict_name(d.verdict),
				 verdict_name(cases[i].v));
	assert_int_equal(parse("aproved"), VERDICT_UNKNOWN);
	assert_string_equal(d.problem, "not a decision word");
}

static void json(void **state)
{
	(void)state;
	assert_int_equal(parse("{\"decision\":\"approved\",\"approver\":\"alice\","
			       "\"comment\":\"LGTM\"}"),
			 VERDICT_APPROVED);
	assert_string_equal(d.approver, "alice");
	assert_int_equal(d.approver_len, 5);
	assert_string_equal(d.comment, "LGTM");
	assert_int_equal(parse("  {\"decision\": \" Refused \"}\n"),
			 VERDICT_REFUSED);
	assert_int_equal(d.approver_len, 0);
	assert_int_equal(parse("{\"decision\":\"notified\"}"), VERDICT_PENDING);
	/* Escapes that are not NUL are fine; an escaped backslash is no escape. */
	assert_int_equal(parse("{\"decision\":\"\\u0061pproved\","
			       "\"comment\":\"C:\\\\u0000 \\ud83d\\ude80\"}"),
			 VERDICT_APPROVED);
	assert_string_equal(d.comment, "C:\\u0000 \xf0\x9f\x9a\x80");
	assert_int_equal(parse("{\"decision\":\"approved\",\"x\":[1,{}]}"),
			 VERDICT_APPROVED);
	/* Non-string fields are ignored, not trusted. */
	assert_int_equal(parse("{\"decision\":\"refused\",\"approver\":7,"
			       "\"comment\":null}"),
			 VERDICT_REFUSED);
	assert_int_equal(d.approver_len, 0);
	assert_int_equal(d.comment_len, 0);
}

#define TWICE "JSON naming \"decision\", \"approver\" or \"comment\" twice"

static void bad_json(void **state)
{
	static const struct {
		const char *in, *problem;
	} cases[] = {
		{"{\"decision\":\"approved\"", "malformed JSON"},
		{"{\"decision\":\"approved\"} trailing", "malformed JSON"},
		{"{decision: approved}", "malformed JSON"},
		{"{\"decision\":true}", "JSON without a string \"decision\""},
		{"{\"decision\":[\"approved\"]}",
		 "JSON without a string \"decision\""},
		{"{\"Decision\":\"approved\"}",
		 "JSON without a string \"decision\""},
		{"{}", "JSON without a string \"decision\""},
		{"{\"decision\":\"yes\"}",
		 "a \"decision\" that is not a decision word"},
		/* cJSON would end the string at the NUL: "approved". */
		{"{\"decision\":\"approved\\u0000 - NOT\"}",
		 "JSON with a \\u0000 or an invalid \\u escape"},
		{"{\"decision\\u0000x\":\"approved\",\"decision\":\"init\"}",
		 "JSON with a \\u0000 or an invalid \\u escape"},
		{"{\"decision\":\"approved\\uZZZZ\"}",
		 "JSON with a \\u0000 or an invalid \\u escape"},
		{"{\"decision\":\"approved\\u00\"}",
		 "JSON with a \\u0000 or an invalid \\u escape"},
		/* cJSON reads the first, Go and CEL the last: neither. */
		{"{\"decision\":\"approved\",\"decision\":\"refused\"}", TWICE},
		{"{\"decision\":\"approved\",\"decision\":\"approved\"}", TWICE},
		{"{\"decision\":\"approved\",\"approver\":\"a\",\"approver\":\"b\"}",
		 TWICE},
		{"{\"decision\":\"approved\",\"comment\":\"\",\"comment\":\"x\"}",
		 TWICE},
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(parse(cases[i].in), VERDICT_UNKNOWN);
		assert_string_equal(d.problem, cases[i].problem);
	}
}

static void deeply_nested_json(void **state)
{
	static char buf[20002];
	(void)state;
	memset(buf, '[', 10000);
	memset(buf + 10000, ']', 10000);
	buf[0] = '{';
	strcpy(buf + 19999, "}");
	assert_int_equal(parse(buf), VERDICT_UNKNOWN);
	assert_string_equal(d.problem, "malformed JSON");
}

static void binary(void **state)
{
	static const char with_nul[] = "approved\0junk";
	static const char json_nul[] = "{\"decision\":\"approved\"}\0x";
	(void)state;
	decision_parse(with_nul, sizeof(with_nul) - 1, &d);
	assert_int_equal(d.verdict, VERDICT_UNKNOWN);
	assert_string_equal(d.problem, "binary data");
	decision_parse(json_nul, sizeof(json_nul) - 1, &d);
	assert_int_equal(d.verdict, VERDICT_UNKNOWN);
	assert_int_equal(parse("\xff\xfe\x01"), VERDICT_UNKNOWN);
}

static void long_fields_are_bounded(void **state)
{
	static char buf[3 * DECISION_FIELD_MAX];
	size_t n;
	(void)state;
	n = (size_t)sprintf(buf, "{\"decision\":\"approved\",\"comment\":\"");
	memset(buf + n, 'x', 2 * DECISION_FIELD_MAX);
	strcpy(buf + n + 2 * DECISION_FIELD_MAX, "\"}");
	assert_int_equal(parse(buf), VERDICT_APPROVED);
	assert_int_equal(d.comment_len, DECISION_FIELD_MAX);
	assert_int_equal(strlen(d.comment), DECISION_FIELD_MAX);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(words),
		cmocka_unit_test(json),
		cmocka_unit_test(bad_json),
		cmocka_unit_test(deeply_nested_json),
		cmocka_unit_test(binary),
		cmocka_unit_test(long_fields_are_bounded),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
