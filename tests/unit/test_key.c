/* The single-key rule on content handed to it, and the log lines it names. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "key.h"
#include "log_capture.h"

#include <errno.h>
#include <string.h>

static struct seen s;
static struct decision d;

static int setup(void **state)
{
	(void)state;
	seen_init(&s, "/ws/run-1", "");
	return log_capture_start();
}

static struct content bytes(const char *text)
{
	return (struct content){.status = CONTENT_OK, .data = text,
				.len = strlen(text)};
}

static enum verdict check(struct content c)
{
	return key_check(&s, &c, &d);
}

static void decisions(void **state)
{
	(void)state;
	assert_int_equal(check((struct content){.status = CONTENT_MISSING}),
			 VERDICT_PENDING);
	assert_int_equal(check(bytes("notified")), VERDICT_PENDING);
	assert_int_equal(check(bytes("approved\n")), VERDICT_APPROVED);
	assert_int_equal(check(bytes("{\"decision\":\"refused\",\"approver\":"
				     "\"bob\",\"comment\":\"not today\"}")),
			 VERDICT_REFUSED);
	assert_string_equal(d.approver, "bob");
	assert_string_equal(d.comment, "not today");
}

static void pending_leaves_no_approver(void **state)
{
	(void)state;
	assert_int_equal(check(bytes("{\"decision\":\"pending\",\"approver\":"
				     "\"bob\",\"comment\":\"soon\"}")),
			 VERDICT_PENDING);
	assert_int_equal(d.approver_len, 0);
	assert_int_equal(d.comment_len, 0);
	assert_int_equal(check(bytes("yes")), VERDICT_PENDING);
	assert_int_equal(check((struct content){.status = CONTENT_FAILED,
						.err = EACCES}),
			 VERDICT_PENDING);
}

/* Each state is logged once, named by the label, the warning once. */
static void logs_each_state_once(void **state)
{
	(void)state;
	check((struct content){.status = CONTENT_MISSING});
	check((struct content){.status = CONTENT_MISSING});
	assert_string_equal(logged(), "approve-step: /ws/run-1 does not exist "
				      "yet: pending\n");
	check(bytes("yes"));
	check(bytes("notified"));
	check(bytes("yes"));
	assert_string_equal(
		logged(),
		"approve-step: warning: /ws/run-1 holds \"yes\", not a "
		"decision word; still waiting (approve: approved, approve, "
		"success; refuse: refused, refuse, rejected, reject, denied)\n"
		"approve-step: /ws/run-1 is \"notified\": pending\n");
	check((struct content){.status = CONTENT_FAILED, .err = EACCES});
	check((struct content){.status = CONTENT_TOO_BIG});
	assert_string_equal(logged(),
			    "approve-step: warning: cannot read /ws/run-1: "
			    "Permission denied; still waiting\n"
			    "approve-step: warning: cannot read /ws/run-1: is "
			    "larger than 1 MiB; still waiting\n");
}

/* Another source names itself and ends its lines its own way. */
static void another_source_labels_its_lines(void **state)
{
	(void)state;
	seen_init(&s, "configmap ci/approvals key run-1", " (through the API)");
	check((struct content){.status = CONTENT_MISSING});
	check(bytes("pending"));
	assert_string_equal(logged(),
			    "approve-step: configmap ci/approvals key run-1 "
			    "does not exist yet: pending (through the API)\n"
			    "approve-step: configmap ci/approvals key run-1 "
			    "is \"pending\": pending (through the API)\n");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(decisions,
			setup, log_capture_teardown),
		cmocka_unit_test_setup_teardown(pending_leaves_no_approver,
			setup, log_capture_teardown),
		cmocka_unit_test_setup_teardown(logs_each_state_once,
			setup, log_capture_teardown),
		cmocka_unit_test_setup_teardown(another_source_labels_its_lines,
			setup, log_capture_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
