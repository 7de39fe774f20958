/*
 * Opening a key without following links out of the volume, with openat2
 * and without it (a kernel before 5.6, a seccomp filter, valgrind): the
 * same files are read and the same links refused either way.
 */
#define _GNU_SOURCE /* syscall() */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "put_file.h"
#include "readfile.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef SYS_openat2
#define SYS_openat2 437
#endif

static char top[64], dir[96];
static bool openat2_missing;

/* Linked with --wrap=syscall: readfile's only system call through it. */
long __real_syscall(long number, ...);
long __wrap_syscall(long number, ...)
{
	va_list ap;
	long a, b, c, d;

	if (number == SYS_openat2 && openat2_missing) {
		errno = ENOSYS;
		return -1;
	}
	va_start(ap, number);
	a = va_arg(ap, long);
	b = va_arg(ap, long);
	c = va_arg(ap, long);
	d = va_arg(ap, long);
	va_end(ap);
	return __real_syscall(number, a, b, c, d);
}

static int setup(void **state)
{
	openat2_missing = *state != NULL;
	strcpy(top, "/tmp/approve-step-readfile-XXXXXX");
	if (mkdtemp(top) == NULL)
		return -1;
	snprintf(dir, sizeof(dir), "%s/vol", top);
	return mkdir(dir, 0755);
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", top);
	return system(cmd) == 0 ? 0 : -1;
}

static void link_to(const char *target, const char *name)
{
	char path[160];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	assert_int_equal(symlink(target, path), 0);
}

static void assert_reads(const char *name, const char *want)
{
	struct content c;

	readfile_read(dir, name, &c);
	assert_int_equal(c.status, CONTENT_OK);
	assert_string_equal(c.data, want);
}

static void assert_status(const char *name, enum content_status want)
{
	struct content c;

	readfile_read(dir, name, &c);
	assert_int_equal(c.status, want);
}

static void plain_file_and_missing_key(void **state)
{
	(void)state;
	put_file(dir, "status", "approved");
	assert_reads("status", "approved");
	assert_status("other", CONTENT_MISSING);
}

/* KEY -> ..data/KEY, ..data -> ..2026_12_01_00_00_00.123 */
static void kubelet_layout(void **state)
{
	char ts[160];

	(void)state;
	snprintf(ts, sizeof(ts), "%s/..2026_12_01_00_00_00.123", dir);
	assert_int_equal(mkdir(ts, 0755), 0);
	put_file(ts, "status", "refused");
	link_to("..2026_12_01_00_00_00.123", "..data");
	link_to("..data/status", "status");
	assert_reads("status", "refused");
}

static void link_to_a_sibling(void **state)
{
	(void)state;
	put_file(dir, "inside", "approved");
	link_to("inside", "run-4");
	assert_reads("run-4", "approved");
}

static void links_out_are_not_followed(void **state)
{
	char outside[96];

	(void)state;
	put_file(top, "outside", "approved");
	snprintf(outside, sizeof(outside), "%s/outside", top);
	link_to(outside, "absolute");
	link_to("../outside", "up");
	link_to("/proc/self/environ", "environ");
	assert_status("absolute", CONTENT_OUTSIDE);
	assert_status("up", CONTENT_OUTSIDE);
	assert_status("environ", CONTENT_OUTSIDE);
}

/* A sibling that is itself a link out: the second hop is not followed. */
static void link_to_a_link_out(void **state)
{
	(void)state;
	put_file(top, "outside", "approved");
	link_to("../outside", "hop");
	link_to("hop", "status");
	assert_status("status", CONTENT_OUTSIDE);
}

/* Loops are loops with and without openat2, not links out. */
static void symlink_loops(void **state)
{
	struct content c;

	(void)state;
	link_to("self", "self");
	link_to("b", "a");
	link_to("a", "b");
	readfile_read(dir, "self", &c);
	assert_int_equal(c.status, CONTENT_FAILED);
	assert_int_equal(c.err, ELOOP);
	readfile_read(dir, "a", &c);
	assert_int_equal(c.status, CONTENT_FAILED);
	assert_int_equal(c.err, ELOOP);
}

/* A chain of siblings ends at the file. */
static void chain_of_siblings(void **state)
{
	(void)state;
	put_file(dir, "end", "approved");
	link_to("end", "two");
	link_to("two", "one");
	assert_reads("one", "approved");
}

#define BOTH(fn)                                                             \
	cmocka_unit_test_prestate_setup_teardown(fn, setup, teardown, NULL),   \
	cmocka_unit_test_prestate_setup_teardown(fn, setup, teardown,        \
						 (void *)1)

int main(void)
{
	const struct CMUnitTest tests[] = {
		BOTH(plain_file_and_missing_key),
		BOTH(kubelet_layout),
		BOTH(link_to_a_sibling),
		BOTH(links_out_are_not_followed),
		BOTH(link_to_a_link_out),
		BOTH(symlink_loops),
		BOTH(chain_of_siblings),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
