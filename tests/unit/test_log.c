/* Log lines: one prefixed line each, values quoted, names joined. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "escape.h"
#include "log.h"
#include "log_capture.h"

#include <string.h>

static int setup(void **state)
{
	(void)state;
	return log_capture_start();
}

static void one_line_each(void **state)
{
	char q[LOG_VALUE_MAX];
	(void)state;
	log_info("waiting for %s", "DIR/KEY");
	log_warn("holds %s", log_quote(q, "a\nb\"c", 5));
	log_error("stop");
	assert_string_equal(logged(), "approve-step: waiting for DIR/KEY\n"
				      "approve-step: warning: holds "
				      "\"a\\nb\\\"c\"\n"
				      "approve-step: error: stop\n");
}

static void join_names(void **state)
{
	const char *names[] = {"alice", "bob", "carol"};
	char out[LOG_VALUE_MAX];
	(void)state;
	assert_int_equal(log_join(out, names, 3), strlen("alice, bob, carol"));
	assert_string_equal(out, "alice, bob, carol");
	assert_int_equal(log_join(out, names, 0), 0);
	assert_string_equal(out, "");
}

/* Too many names: cut with the one mark, which the quoted form keeps. */
static void join_cut_visibly(void **state)
{
	static char name[300];
	const char *names[] = {name, name, name};
	const size_t mark = strlen(ESCAPE_CUT_MARK);
	char out[LOG_VALUE_MAX], q[LOG_VALUE_MAX];
	size_t len;
	(void)state;
	memset(name, 'n', sizeof(name) - 1);
	len = log_join(out, names, 3);
	assert_int_equal(len, LOG_VALUE_MAX - 1);
	assert_string_equal(out + len - mark, ESCAPE_CUT_MARK);
	log_quote(q, out, len);
	assert_true(strlen(q) < LOG_VALUE_MAX);
	assert_memory_equal(q + strlen(q) - mark - 1, ESCAPE_CUT_MARK, mark);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(one_line_each,
			setup, log_capture_teardown),
		cmocka_unit_test(join_names),
		cmocka_unit_test(join_cut_visibly),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
