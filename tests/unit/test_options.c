/* Options: every value a user might type, good and bad. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "options.h"

#include <stdbool.h>
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

/* Runs options_parse on ARGS, up to its NULL, after the program name; on
 * a copy, since getopt may permute it. */
static enum options_result parse_list(struct options *o, char *const *args)
{
	char *argv[32] = {"approve-step"};
	int argc = 1;

	while (*args != NULL && argc < 31)
		argv[argc++] = *args++;
	return options_parse(argc, argv, o);
}

/* parse_list on a NULL-terminated argument list. */
static enum options_result parse(struct options *o, ...)
{
	char *args[32];
	int n = 0;
	va_list ap;

	va_start(ap, o);
	for (char *a; (a = va_arg(ap, char *)) != NULL && n < 31;)
		args[n++] = a;
	va_end(ap);
	args[n] = NULL;
	return parse_list(o, args);
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
	/* Split in a copy: ps shows the argument as it was given. */
	assert_string_equal(approvers, "alice@example.com, bob ,carol,,");
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

/* Each row of rows (n of them) is refused as a usage error; a failure
 * names the row and its third and fourth words. */
static void assert_usage_errors(char *const (*rows)[8], size_t n)
{
	struct options o;

	for (size_t i = 0; i < n; i++)
		if (parse_list(&o, rows[i]) != OPTIONS_USAGE_ERROR)
			fail_msg("row %zu (%s %s) was not a usage error", i,
				 rows[i][2] ? rows[i][2] : "",
				 rows[i][2] && rows[i][3] ? rows[i][3] : "");
}

/* Each refused as a usage error. */
static char *const refused[][8] = {
	{NULL},
	{"--dir", "", NULL},
	{"--dir", NULL},
	{"--dir", "/d", "--key", "a/b", NULL},
	{"--dir", "/d", "--key", "", NULL},
	{"--dir", "/d", "--timeout", "", NULL},
	{"--dir", "/d", "--timeout", "-1", NULL},
	{"--dir", "/d", "--on-timeout", "yes", NULL},
	{"--dir", "/d", "--results-dir", "", NULL},
	{"--dir", "/d", "--configmap", "Bad_Name", NULL},
	{"--dir", "/d", "--namespace", "a.b", NULL},
	{"--dir", "/d", "--poll-interval", "10ms", NULL},
	{"--dir", "/d", "--approvals", "0", NULL},
	{"--dir", "/d", "--approvals", "2x", NULL},
	{"--dir", "/d", "--approvals", " 2", NULL},
	{"--dir", "/d", "--approvals", "65", NULL},
	{"--dir", "/d", "--bogus", NULL},
	{"--dir", "/d", "extra", NULL},
};

static void usage_errors(void **state)
{
	struct options o;
	char three[] = "a,b,c";
	(void)state;
	assert_usage_errors(refused, sizeof(refused) / sizeof(refused[0]));
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

/* Votes on a volume prove nothing about their writers unless bindings are
 * pinned: these are refused. */
static char *const unpinned[][8] = {
	{"--dir", "/d", "--approvals", "2", NULL},
	{"--dir", "/d", "--requester", "b", "--bindings-pinned", "", NULL},
	{"--dir", "/d", "--requester", "b", "--bindings-pinned", "yes", NULL},
};

/* Accepted, and whether votes are read from the volume. */
static const struct {
	char *args[10];
	bool volume_votes;
} accepted[] = {
	{{"--dir", "/d", "--approvals", "2", "--api", "auto", "--configmap",
	  "cm", NULL},
	 false},
	{{"--approvals", "2", "--api", "on", "--configmap", "cm", NULL}, false},
	{{"--dir", "/d", "--approvals", "2", "--bindings-pinned", "true",
	  NULL},
	 true},
	/* A plain key is not a vote: the volume decides as before. */
	{{"--dir", "/d", NULL}, true},
};

static void volume_votes_need_pinned_bindings(void **state)
{
	struct options o;
	(void)state;
	assert_usage_errors(unpinned, sizeof(unpinned) / sizeof(unpinned[0]));
	for (size_t i = 0; i < sizeof(accepted) / sizeof(accepted[0]); i++) {
		assert_int_equal(parse_list(&o, accepted[i].args), OPTIONS_RUN);
		if (options_volume_votes(&o) != accepted[i].volume_votes)
			fail_msg("accepted[%zu]: volume votes %d, expected %d",
				 i, options_volume_votes(&o),
				 accepted[i].volume_votes);
	}
}

/* --message: any bytes up to 500 (escaped when shown), "" is none. */
static void message(void **state)
{
	struct options o;
	char text[1026], odd[] = "Deploy\napprove-step: approved\x1b[2J\xff";
	(void)state;
	assert_int_equal(parse(&o, "--dir", "/d", NULL), OPTIONS_RUN);
	assert_null(o.message);
	assert_int_equal(parse(&o, "--dir", "/d", "--message", "", NULL),
			 OPTIONS_RUN);
	assert_null(o.message);
	assert_int_equal(parse(&o, "--dir", "/d", "--message", odd, NULL),
			 OPTIONS_RUN);
	assert_string_equal(o.message, odd);
	memset(text, 'm', 500);
	text[500] = '\0';
	assert_int_equal(parse(&o, "--dir", "/d", "--message", text, NULL),
			 OPTIONS_RUN);
	assert_int_equal(strlen(o.message), 500);
	text[500] = 'm';
	text[501] = '\0';
	assert_int_equal(parse(&o, "--dir", "/d", "--message", text, NULL),
			 OPTIONS_USAGE_ERROR);
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
		cmocka_unit_test(message),
		cmocka_unit_test(help_and_version),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
