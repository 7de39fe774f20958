/* Options: every value a user might type, good and bad. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "options.h"

#include <string.h>

static void keys(void **state)
{
	char long_key[300];
	(void)state;
	assert_true(options_valid_key("status"));
	assert_true(options_valid_key("run-1.approval_x"));
	assert_true(options_valid_key(".hidden"));
	assert_false(options_valid_key(""));
	assert_false(options_valid_key("."));
	assert_false(options_valid_key(".."));
	assert_false(options_valid_key("..data"));
	assert_false(options_valid_key("a/b"));
	assert_false(options_valid_key("../x"));
	assert_false(options_valid_key("a b"));
	assert_false(options_valid_key("caf\xc3\xa9"));
	memset(long_key, 'a', 253);
	long_key[253] = '\0';
	assert_true(options_valid_key(long_key));
	long_key[253] = 'a';
	long_key[254] = '\0';
	assert_false(options_valid_key(long_key));
}

/* Runs options_parse on a NULL-terminated argument list. */
static enum options_result parse(struct options *o, ...)
{
	char *argv[32] = {"approve-step"};
	int argc = 1;
	va_list ap;

	va_start(ap, o);
	for (char *a; (a = va_arg(ap, char *)) != NULL;)
		argv[argc++] = a;
	va_end(ap);
	return options_parse(argc, argv, o);
}

static void defaults(void **state)
{
	struct options o;
	(void)state;
	assert_int_equal(parse(&o, "--dir", "/d", NULL), OPTIONS_RUN);
	assert_string_equal(o.dir, "/d");
	assert_string_equal(o.key, "status");
	assert_int_equal(o.timeout_ms, 24 * 3600 * 1000);
	assert_false(o.approve_on_timeout);
	assert_null(o.results_dir);
	assert_null(o.configmap);
	assert_int_equal(o.poll_ms, OPTIONS_POLL_AUTO);
	assert_int_equal(o.approvals, 1);
	assert_false(options_vote_mode(&o));
}

static void every_option(void **state)
{
	struct options o;
	char approvers[] = "alice@example.com, bob ,carol,,";
	(void)state;
	assert_int_equal(parse(&o, "--dir", "/d", "--key", "run-7",
			       "--timeout", "1h30m", "--on-timeout", "approve",
			       "--results-dir", "/r", "--configmap", "approve-cm",
			       "--namespace", "ci", "--poll-interval", "2s",
			       "--approvals", "2", "--approvers", approvers,
			       "--requester", "bob", "--bindings-pinned", "true",
			       NULL),
			 OPTIONS_RUN);
	assert_true(o.bindings_pinned);
	assert_true(options_volume_votes(&o));
	assert_string_equal(o.key, "run-7");
	assert_int_equal(o.timeout_ms, 5400000);
	assert_true(o.approve_on_timeout);
	assert_string_equal(o.results_dir, "/r");
	assert_string_equal(o.configmap, "approve-cm");
	assert_string_equal(o.namespace, "ci");
	assert_int_equal(o.poll_ms, 2000);
	assert_int_equal(o.approvals, 2);
	assert_int_equal(o.approvers_len, 3);
	assert_string_equal(o.approvers[0], "alice@example.com");
	assert_string_equal(o.approvers[2], "carol");
	assert_string_equal(o.requester, "bob");
	assert_true(options_vote_mode(&o));
}

/* Tekton passes unset string params as "": that means "not set". */
static void empty_means_unset(void **state)
{
	struct options o;
	char none[] = "";
	(void)state;
	assert_int_equal(parse(&o, "--dir", "/d", "--configmap", "",
			       "--namespace", "", "--requester", "",
			       "--approvers", none, "--poll-interval", "",
			       NULL),
			 OPTIONS_RUN);
	assert_null(o.configmap);
	assert_null(o.namespace);
	assert_null(o.requester);
	assert_int_equal(o.approvers_len, 0);
	assert_int_equal(o.poll_ms, OPTIONS_POLL_AUTO);
	assert_false(options_vote_mode(&o));
}

static void usage_errors(void **state)
{
	struct options o;
	char three[] = "a,b,c";
	(void)state;
	assert_int_equal(parse(&o, NULL), OPTIONS_USAGE_ERROR);
	assert_int_equal(parse(&o, "--dir", "", NULL), OPTIONS_USAGE_ERROR);
	assert_int_equal(parse(&o, "--dir", NULL), OPTIONS_USAGE_ERROR);
	assert_int_equal(parse(&o, "--dir", "/d", "--key", "a/b", NULL),
			 OPTIONS_USAGE_ERROR);
	assert_int_equal(parse(&o, "--dir", "/d", "--key", "", NULL),
			 OPTIONS_USAGE_ERROR);
	assert_int_equal(parse(&o, "--dir", "/d", "--timeout", "", NULL),
			 OPTIONS_USAGE_ERROR);
	assert_int_equal(parse(&o, "--dir", "/d", "--timeout", "-1", NULL),
			 OPTIONS_USAGE_ERROR);
	assert_int_equal(parse(&o, "--dir", "/d", "--on-timeout", "yes", NULL),
			 OPTIONS_USAGE_ERROR);
	assert_int_equal(parse(&o, "--dir", "/d", "--results-dir", "", NULL),
			 OPTIONS_USAGE_ERROR);
	assert_int_equal(parse(&o, "--dir", "/d", "--configmap", "Bad_Name",
			       NULL),
			 OPTIONS_USAGE_ERROR);
	assert_int_equal(parse(&o, "--dir", "/d", "--namespace", "a.b", NULL),
			 OPTIONS_USAGE_ERROR);
	assert_int_equal(parse(&o, "--dir", "/d", "--poll-interval", "10ms",
			       NULL),
			 OPTIONS_USAGE_ERROR);
	assert_int_equal(parse(&o, "--dir", "/d", "--approvals", "0", NULL),
			 OPTIONS_USAGE_ERROR);
	assert_int_equal(parse(&o, "--dir", "/d", "--approvals", "2x", NULL),
			 OPTIONS_USAGE_ERROR);
	assert_int_equal(parse(&o, "--dir", "/d", "--approvals", " 2", NULL),
			 OPTIONS_USAGE_ERROR);
	assert_int_equal(parse(&o, "--dir", "/d", "--approvals", "65", NULL),
			 OPTIONS_USAGE_ERROR);
	assert_int_equal(parse(&o, "--dir", "/d", "--bogus", NULL),
			 OPTIONS_USAGE_ERROR);
	assert_int_equal(parse(&o, "--dir", "/d", "extra", NULL),
			 OPTIONS_USAGE_ERROR);
	/* Votes split KEY.USER at the first dot, as the policy does. */
	assert_int_equal(parse(&o, "--dir", "/d", "--key", "run.1",
			       "--requester", "b", "--bindings-pinned", "true",
			       NULL),
			 OPTIONS_USAGE_ERROR);
	assert_int_equal(parse(&o, "--dir", "/d", "--key", "run.1", NULL),
			 OPTIONS_RUN);
	/* Three approvals from a, b, c can't happen if b started the run. */
	assert_int_equal(parse(&o, "--dir", "/d", "--approvals", "3",
			       "--approvers", three, "--requester", "b",
			       "--bindings-pinned", "true", NULL),
			 OPTIONS_USAGE_ERROR);
}

/* Votes on a volume prove nothing about their writers unless bindings are pinned. */
static void volume_votes_need_pinned_bindings(void **state)
{
	struct options o;
	(void)state;
	assert_int_equal(parse(&o, "--dir", "/d", "--approvals", "2", NULL),
			 OPTIONS_USAGE_ERROR);
	assert_int_equal(parse(&o, "--dir", "/d", "--requester", "b",
			       "--bindings-pinned", "", NULL),
			 OPTIONS_USAGE_ERROR);
	assert_int_equal(parse(&o, "--dir", "/d", "--requester", "b",
			       "--bindings-pinned", "yes", NULL),
			 OPTIONS_USAGE_ERROR);
	assert_int_equal(parse(&o, "--dir", "/d", "--approvals", "2", "--api",
			       "auto", "--configmap", "cm", NULL),
			 OPTIONS_RUN);
	assert_false(options_volume_votes(&o));
	assert_int_equal(parse(&o, "--approvals", "2", "--api", "on",
			       "--configmap", "cm", NULL),
			 OPTIONS_RUN);
	assert_false(options_volume_votes(&o));
	assert_int_equal(parse(&o, "--dir", "/d", "--approvals", "2",
			       "--bindings-pinned", "true", NULL),
			 OPTIONS_RUN);
	assert_true(options_volume_votes(&o));
	/* A plain key is not a vote: the volume decides as before. */
	assert_int_equal(parse(&o, "--dir", "/d", NULL), OPTIONS_RUN);
	assert_true(options_volume_votes(&o));
}

static void help_and_version(void **state)
{
	struct options o;
	(void)state;
	assert_int_equal(parse(&o, "--help", NULL), OPTIONS_EXIT_OK);
	assert_int_equal(parse(&o, "-h", NULL), OPTIONS_EXIT_OK);
	assert_int_equal(parse(&o, "--version", NULL), OPTIONS_EXIT_OK);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(keys),
		cmocka_unit_test(defaults),
		cmocka_unit_test(every_option),
		cmocka_unit_test(empty_means_unset),
		cmocka_unit_test(usage_errors),
		cmocka_unit_test(volume_votes_need_pinned_bindings),
		cmocka_unit_test(help_and_version),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
