/* The gate on a real directory: one key, or votes counted to a quorum. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "gate.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char dir[64];
static int dir_fd;
static struct gate g;
static struct options o;
static struct verdict_detail detail;

static int setup(void **state)
{
	(void)state;
	strcpy(dir, "/tmp/approve-step-gate-XXXXXX");
	if (mkdtemp(dir) == NULL)
		return -1;
	dir_fd = open(dir, O_RDONLY | O_DIRECTORY);
	o = (struct options){.dir = dir, .key = "run-1", .approvals = 1};
	return dir_fd < 0 ? -1 : 0;
}

static int teardown(void **state)
{
	DIR *d = opendir(dir);
	(void)state;
	for (struct dirent *e; d && (e = readdir(d)) != NULL;)
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			unlinkat(dir_fd, e->d_name, 0);
	if (d)
		closedir(d);
	close(dir_fd);
	rmdir(dir);
	return 0;
}

static void put(const char *name, const char *content)
{
	int fd = openat(dir_fd, name, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, content, strlen(content)),
			 (ssize_t)strlen(content));
	close(fd);
}

static enum verdict check(void)
{
	return gate_check(&g, &detail);
}

static void single_key(void **state)
{
	(void)state;
	gate_init(&g, &o);
	assert_int_equal(check(), VERDICT_PENDING); /* missing */
	put("run-1", "notified");
	assert_int_equal(check(), VERDICT_PENDING);
	put("run-2", "approved"); /* another run's key */
	assert_int_equal(check(), VERDICT_PENDING);
	put("run-1.alice", "approved"); /* votes don't count here */
	assert_int_equal(check(), VERDICT_PENDING);
	put("run-1", "{\"decision\":\"refused\",\"approver\":\"bob\","
		     "\"comment\":\"not today\"}");
	assert_int_equal(check(), VERDICT_REFUSED);
	assert_string_equal(detail.approver, "bob");
	assert_string_equal(detail.comment, "not today");
}

static void quorum(void **state)
{
	(void)state;
	o.approvals = 2;
	o.approvers[0] = "alice@example.com";
	o.approvers[1] = "bob";
	o.approvers[2] = "carol";
	o.approvers_len = 3;
	o.requester = "carol";
	gate_init(&g, &o);
	put("run-1", "approved"); /* the plain key does not count */
	assert_int_equal(check(), VERDICT_PENDING);
	put("run-1.carol", "approved"); /* the requester */
	put("run-1.mallory", "approved"); /* not an approver */
	put("run-1.alice@example.com", "approved"); /* not encoded */
	put("run-1.bob", "yes"); /* not a decision word */
	put("run-2.bob", "approved"); /* another run */
	assert_int_equal(check(), VERDICT_PENDING);
	put("run-1.alice_40example.com", "{\"decision\":\"approved\","
					 "\"comment\":\"LGTM\"}");
	assert_int_equal(check(), VERDICT_PENDING);
	put("run-1.bob", "approve");
	assert_int_equal(check(), VERDICT_APPROVED);
	assert_string_equal(detail.approver, "alice@example.com,bob");
	assert_string_equal(detail.comment, "alice@example.com: LGTM");
}

static void one_refusal_decides(void **state)
{
	(void)state;
	o.approvals = 2;
	gate_init(&g, &o);
	put("run-1.alice", "approved");
	put("run-1.bob", "approved");
	put("run-1.dave", "{\"decision\":\"denied\",\"comment\":\"no\"}");
	assert_int_equal(check(), VERDICT_REFUSED);
	assert_string_equal(detail.approver, "dave");
	assert_string_equal(detail.comment, "dave: no");
}

static void requester_alone_turns_on_votes(void **state)
{
	(void)state;
	o.requester = "alice";
	gate_init(&g, &o);
	put("run-1", "approved");
	put("run-1.alice", "approved");
	assert_int_equal(check(), VERDICT_PENDING);
	put("run-1.bob", "success");
	assert_int_equal(check(), VERDICT_APPROVED);
	assert_string_equal(detail.approver, "bob");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(single_key, setup, teardown),
		cmocka_unit_test_setup_teardown(quorum, setup, teardown),
		cmocka_unit_test_setup_teardown(one_refusal_decides, setup,
						teardown),
		cmocka_unit_test_setup_teardown(requester_alone_turns_on_votes,
						setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
