/* Results: the files later Tekton tasks read. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "results.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct fixture {
	char dir[64];
	int fd;
};

static int setup(void **state)
{
	static struct fixture f;
	strcpy(f.dir, "/tmp/approve-step-results-XXXXXX");
	if (mkdtemp(f.dir) == NULL)
		return -1;
	f.fd = results_open(f.dir);
	*state = &f;
	return f.fd < 0 ? -1 : 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	DIR *d = opendir(f->dir);
	for (struct dirent *e; d && (e = readdir(d)) != NULL;)
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			unlinkat(f->fd, e->d_name, 0);
	if (d)
		closedir(d);
	close(f->fd);
	rmdir(f->dir);
	return 0;
}

static size_t read_result(struct fixture *f, const char *name, char *buf,
			  size_t size)
{
	int fd = openat(f->fd, name, O_RDONLY | O_NOFOLLOW);
	ssize_t n;
	assert_true(fd >= 0);
	n = read(fd, buf, size - 1);
	close(fd);
	assert_true(n >= 0);
	buf[n] = '\0';
	return (size_t)n;
}

static void writes_every_result(void **state)
{
	struct fixture *f = *state;
	struct results r = {.decision = "approved", .approver = "alice",
			    .approver_len = 5, .comment = "LGTM\nship",
			    .comment_len = 9, .waited_ms = 61999};
	char buf[64];
	assert_true(results_write(f->fd, &r));
	read_result(f, "decision", buf, sizeof(buf));
	assert_string_equal(buf, "approved"); /* no trailing newline */
	read_result(f, "approver", buf, sizeof(buf));
	assert_string_equal(buf, "alice");
	read_result(f, "comment", buf, sizeof(buf));
	assert_string_equal(buf, "LGTM\\nship");
	read_result(f, "waited-seconds", buf, sizeof(buf));
	assert_string_equal(buf, "61");
}

static void bounded_in_total(void **state)
{
	struct fixture *f = *state;
	static char big[1024 * 1024], buf[4096];
	size_t total = 0;
	memset(big, '\x1b', sizeof(big)); /* escapes to 4x its size */
	struct results r = {.decision = "cancelled", .approver = big,
			    .approver_len = sizeof(big), .comment = big,
			    .comment_len = sizeof(big), .waited_ms = 1};
	assert_true(results_write(f->fd, &r));
	const char *names[] = {"decision", "approver", "comment",
			       "waited-seconds"};
	for (size_t i = 0; i < 4; i++)
		total += read_result(f, names[i], buf, sizeof(buf));
	assert_true(total <= RESULTS_TOTAL_MAX);
	read_result(f, "comment", buf, sizeof(buf));
	assert_non_null(strstr(buf, "...[truncated]"));
}

/*
 * The termination message Tekton's entrypoint would write for these
 * results: Go's json.Marshal of [{"key","value","type":1}...], counted
 * here byte by byte from Go's rules, independently of results.c.
 */
static size_t go_json_string(const char *s)
{
	size_t n = 2; /* quotes */
	for (const unsigned char *p = (const void *)s; *p; p++) {
		if (*p == '<' || *p == '>' || *p == '&')
			n += 6;
		else if (*p == '"' || *p == '\\' || *p == '\n' || *p == '\r' ||
			 *p == '\t')
			n += 2;
		else if (*p < 0x20)
			n += 6;
		else if (p[0] == 0xe2 && p[1] == 0x80 &&
			 (p[2] == 0xa8 || p[2] == 0xa9))
			n += 6, p += 2;
		else
			n += 1; /* valid UTF-8 here: results are escaped first */
	}
	return n;
}

static size_t message_size(struct fixture *f)
{
	static char buf[8192];
	const char *names[] = {"decision", "approver", "comment",
			       "waited-seconds"};
	size_t total = 1; /* [ */
	for (size_t i = 0; i < 4; i++) {
		read_result(f, names[i], buf, sizeof(buf));
		/* {"key":NAME,"value":VALUE,"type":1} and , or ] */
		total += strlen("{\"key\":,\"value\":,\"type\":1}") + 1 +
			 go_json_string(names[i]) + go_json_string(buf);
	}
	return total;
}

/* Tekton's own entries in the same message: StartedAt, with a wide margin. */
#define TEKTON_OWN 256

static void budgeted_as_tekton_escapes(void **state)
{
	struct fixture *f = *state;
	static char lt[2001], mixed[6001], buf[4096];
	memset(lt, '<', 2000);
	for (size_t i = 0; i < 6000; i += 3)
		memcpy(mixed + i, "&\"\\", 3);
	struct results r = {.decision = "approved", .approver = mixed,
			    .approver_len = 6000, .comment = lt,
			    .comment_len = 2000, .waited_ms = 5000};
	assert_true(results_write(f->fd, &r));
	assert_true(message_size(f) <= RESULTS_TOTAL_MAX);
	assert_true(message_size(f) + TEKTON_OWN <= 4096);
	read_result(f, "decision", buf, sizeof(buf));
	assert_string_equal(buf, "approved");
	read_result(f, "comment", buf, sizeof(buf));
	assert_non_null(strstr(buf, "<<<<<<<<<<"));
	assert_non_null(strstr(buf, "...[truncated]"));
	/* A comment Tekton carries as is stays whole. */
	r.approver = "alice", r.approver_len = 5;
	r.comment = lt, r.comment_len = 300;
	assert_true(results_write(f->fd, &r));
	read_result(f, "comment", buf, sizeof(buf));
	assert_int_equal(strlen(buf), 300);
}

static void replaces_planted_symlink(void **state)
{
	struct fixture *f = *state;
	char victim[] = "/tmp/approve-step-victim-XXXXXX", buf[64], tmp[64];
	int vfd = mkstemp(victim);
	struct stat st;
	struct results r = {.decision = "refused", .approver = "",
			    .comment = "", .waited_ms = 0};
	assert_true(vfd >= 0);
	assert_int_equal(write(vfd, "keep", 4), 4);
	close(vfd);
	assert_int_equal(symlinkat(victim, f->fd, "decision"), 0);
	/* Also where the temporary file will go. */
	snprintf(tmp, sizeof(tmp), ".comment.tmp.%ld", (long)getpid());
	assert_int_equal(symlinkat(victim, f->fd, tmp), 0);
	assert_true(results_write(f->fd, &r));
	assert_int_equal(fstatat(f->fd, "decision", &st, AT_SYMLINK_NOFOLLOW),
			 0);
	assert_true(S_ISREG(st.st_mode));
	read_result(f, "decision", buf, sizeof(buf));
	assert_string_equal(buf, "refused");
	vfd = open(victim, O_RDONLY);
	assert_int_equal(read(vfd, buf, sizeof(buf)), 4);
	close(vfd);
	unlink(victim);
}

static void missing_dir_fails(void **state)
{
	(void)state;
	assert_true(results_open("/nonexistent/results") < 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(writes_every_result, setup,
						teardown),
		cmocka_unit_test_setup_teardown(bounded_in_total, setup,
						teardown),
		cmocka_unit_test_setup_teardown(budgeted_as_tekton_escapes,
						setup, teardown),
		cmocka_unit_test_setup_teardown(replaces_planted_symlink, setup,
						teardown),
		cmocka_unit_test(missing_dir_fails),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
