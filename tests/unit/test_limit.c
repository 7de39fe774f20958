/* Which kernel limit kept inotify from us, and what the log says of it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "limit.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

static void which_limit(void **state)
{
	(void)state;
	assert_int_equal(limit_of_inotify_init(EMFILE, 0), LIMIT_INSTANCES);
	assert_int_equal(limit_of_inotify_init(ENFILE, 0), LIMIT_SYSTEM_FILES);
	assert_int_equal(limit_of_inotify_init(ENOMEM, 0), LIMIT_MEMORY);
	assert_int_equal(limit_of_inotify_init(EINVAL, 0), LIMIT_NONE);
	assert_int_equal(limit_of_inotify_init(ENOSYS, 0), LIMIT_NONE);
	assert_int_equal(limit_of_add_watch(ENOSPC), LIMIT_WATCHES);
	assert_int_equal(limit_of_add_watch(ENOENT), LIMIT_NONE);
	assert_int_equal(limit_of_add_watch(EACCES), LIMIT_NONE);
}

/* EMFILE while no descriptor can be opened at all: the process's limit. */
static void open_files_limit_told_apart(void **state)
{
	struct rlimit saved, low;
	int lowest = dup(0);
	(void)state;
	assert_true(lowest >= 0);
	close(lowest);
	assert_int_equal(getrlimit(RLIMIT_NOFILE, &saved), 0);
	low = saved;
	low.rlim_cur = (rlim_t)lowest; /* every descriptor below is open */
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &low), 0);
	enum limit_kind k = limit_of_inotify_init(EMFILE, 0);
	setrlimit(RLIMIT_NOFILE, &saved);
	assert_int_equal(k, LIMIT_OPEN_FILES);
}

/* The first line of a /proc/sys file, as the log should show it. */
static void sysctl(const char *path, char *out, size_t outsz)
{
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	assert_non_null(fgets(out, (int)outsz, f));
	out[strcspn(out, "\n")] = '\0';
	fclose(f);
}

/* An inotify limit as the log shows it: its name, its sysctl with the
 * value now, and the sysctl command that raises it. */
static void assert_inotify_described(enum limit_kind kind, const char *label,
				     const char *name)
{
	char what[256], fix[256], path[128], value[32], expected[160];

	snprintf(path, sizeof(path), "/proc/sys/fs/inotify/%s", name);
	sysctl(path, value, sizeof(value));
	limit_describe(kind, what, sizeof(what), fix, sizeof(fix));
	snprintf(expected, sizeof(expected), "inotify %s (fs.inotify.%s = %s",
		 label, name, value);
	assert_non_null(strstr(what, expected));
	snprintf(expected, sizeof(expected), "sysctl -w fs.inotify.%s=", name);
	assert_non_null(strstr(fix, expected));
}

static void described_with_values_and_fix(void **state)
{
	char what[256], fix[256];
	(void)state;
	assert_inotify_described(LIMIT_INSTANCES, "instances",
				 "max_user_instances");
	assert_inotify_described(LIMIT_WATCHES, "watches", "max_user_watches");

	limit_describe(LIMIT_SYSTEM_FILES, what, sizeof(what), fix, sizeof(fix));
	assert_non_null(strstr(what, "fs.file-max = "));
	limit_describe(LIMIT_OPEN_FILES, what, sizeof(what), fix, sizeof(fix));
	assert_non_null(strstr(what, "open files limit ("));
	assert_non_null(strstr(fix, "nofile"));
	limit_describe(LIMIT_MEMORY, what, sizeof(what), fix, sizeof(fix));
	assert_non_null(strstr(fix, "memory"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(which_limit),
		cmocka_unit_test(open_files_limit_told_apart),
		cmocka_unit_test(described_with_values_and_fix),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
