/* The vote rule on entries handed to it: quorum, refusal, who, logs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "log_capture.h"
#include "tally.h"

#include <string.h>

static struct tally t; /* large: off the stack */
static struct seen s;
static struct options o;
static struct decision d;

static int setup(void **state)
{
	(void)state;
	o = (struct options){.key = "run-1", .approvals = 1};
	seen_init(&s, "/ws/run-1", "");
	return log_capture_start();
}

/* One snapshot: pairs of entry name and content, NULL-terminated. */
static enum verdict count(const char *const *entries)
{
	tally_begin(&t, &o, &s);
	for (; entries[0] != NULL; entries += 2) {
		struct content c = {.status = CONTENT_OK, .data = entries[1],
				    .len = strlen(entries[1])};
		if (entries[1][0] == '\0')
			c = (struct content){.status = CONTENT_MISSING};
		tally_add(&t, entries[0], &c);
	}
	return tally_end(&t, &d);
}

static void vote_names(void **state)
{
	(void)state;
	assert_true(tally_is_vote("run-1.alice", "run-1"));
	assert_true(tally_is_vote("run-1.a.b", "run-1"));
	assert_false(tally_is_vote("run-1", "run-1"));
	assert_false(tally_is_vote("run-1.", "run-1"));
	assert_false(tally_is_vote("run-10.alice", "run-1"));
	assert_false(tally_is_vote("run-2.alice", "run-1"));
}

static void quorum(void **state)
{
	const char *const some[] = {
		"run-1.carol", "approved",		 /* the requester */
		"run-1.mallory", "approved",		 /* not an approver */
		"run-1.alice@example.com", "approved", /* not encoded */
		"run-1.bob", "yes",			 /* not a decision word */
		NULL,
	};
	const char *const enough[] = {
		"run-1.alice_40example.com",
		"{\"decision\":\"approved\",\"comment\":\"LGTM\"}",
		"run-1.bob", "approve", NULL,
	};
	(void)state;
	o.approvals = 2;
	o.approvers[0] = "alice@example.com";
	o.approvers[1] = "bob";
	o.approvers[2] = "carol";
	o.approvers_len = 3;
	o.requester = "carol";
	assert_int_equal(count(some), VERDICT_PENDING);
	assert_int_equal(d.approver_len, 0);
	assert_int_equal(count(enough), VERDICT_APPROVED);
	assert_string_equal(d.approver, "alice@example.com,bob");
	assert_string_equal(d.comment, "alice@example.com: LGTM");
}

static void one_refusal_decides(void **state)
{
	const char *const votes[] = {
		"run-1.alice", "approved", "run-1.bob", "approved",
		"run-1.dave", "{\"decision\":\"denied\",\"comment\":\"no\"}",
		NULL,
	};
	(void)state;
	o.approvals = 2;
	assert_int_equal(count(votes), VERDICT_REFUSED);
	assert_string_equal(d.approver, "dave");
	assert_string_equal(d.comment, "dave: no");
}

static void requester_may_not_approve(void **state)
{
	const char *const own[] = {"run-1.alice", "approved", NULL};
	const char *const other[] = {"run-1.alice", "approved", "run-1.bob",
				     "success", NULL};
	(void)state;
	o.requester = "alice";
	assert_int_equal(count(own), VERDICT_PENDING);
	assert_int_equal(count(other), VERDICT_APPROVED);
	assert_string_equal(d.approver, "bob");
}

/* Votes and progress logged once per change, with the source's ending. */
static void logs_changes_once(void **state)
{
	const char *const one[] = {"run-1.alice", "approved", "run-1.bob", "",
				   NULL};
	const char *const refused[] = {"run-1.alice", "approved",
				       "run-1.bob", "refused", NULL};
	(void)state;
	o.approvals = 2;
	seen_init(&s, "configmap ci/approvals key run-1", " (through the API)");
	count(one);
	count(one);
	assert_string_equal(logged(),
			    "approve-step: vote \"run-1.alice\" by \"alice\": "
			    "approved (through the API)\n"
			    "approve-step: 1 of 2 approvals so far: \"alice\" "
			    "(through the API)\n");
	assert_int_equal(count(refused), VERDICT_REFUSED);
	assert_string_equal(logged(), "approve-step: vote \"run-1.bob\" by "
				      "\"bob\": refused (through the API)\n");
}

static void not_counted_says_why(void **state)
{
	const char *const votes[] = {"run-1.alice", "approved",
				     "run-1.Bob_2", "approved", NULL};
	(void)state;
	o.requester = "alice";
	assert_int_equal(count(votes), VERDICT_PENDING);
	assert_string_equal(
		logged(),
		"approve-step: warning: vote \"run-1.alice\" by \"alice\": "
		"approved, not counted: the requester may not approve their "
		"own run\n"
		"approve-step: warning: vote \"run-1.Bob_2\" by \"Bob_2\": "
		"unknown, not counted: its name is not an encoded username\n"
		"approve-step: 0 of 1 approvals so far\n");
}

/* One voter in two entries (a JSON member twice, or a non-canonical name). */
static void one_voter_counts_once(void **state)
{
	const char *const twice[] = {"run-1.alice", "approved", "run-1.alice",
				     "approved", NULL};
	const char *const spelt[] = {"run-1.alice_40x", "approved",
				     "run-1.alice_40x", "approve", "run-1._61",
				     "approved", NULL};
	(void)state;
	o.approvals = 2;
	assert_int_equal(count(twice), VERDICT_PENDING);
	assert_non_null(strstr(logged(), "warning: \"alice\" approves in "
					 "more than one entry: counted once"));
	assert_int_equal(count(spelt), VERDICT_PENDING);
	assert_non_null(strstr(logged(), "not an encoded username"));
	/* A second, distinct voter still makes the quorum. */
	{
		const char *const two[] = {"run-1.alice", "approved",
					   "run-1.alice", "approved",
					   "run-1.bob", "approved", NULL};
		assert_int_equal(count(two), VERDICT_APPROVED);
		assert_string_equal(d.approver, "alice,bob");
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(vote_names),
		cmocka_unit_test_setup_teardown(quorum,
			setup, log_capture_teardown),
		cmocka_unit_test_setup_teardown(one_refusal_decides,
			setup, log_capture_teardown),
		cmocka_unit_test_setup_teardown(requester_may_not_approve,
			setup, log_capture_teardown),
		cmocka_unit_test_setup_teardown(logs_changes_once,
			setup, log_capture_teardown),
		cmocka_unit_test_setup_teardown(not_counted_says_why,
			setup, log_capture_teardown),
		cmocka_unit_test_setup_teardown(one_voter_counts_once,
			setup, log_capture_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
