/* The volume's votes: from the kubelet's ..data snapshot, or DIR itself. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "log_capture.h"
#include "put_file.h"
#include "snapshot.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[64];
static char seen_entries[4096]; /* "name=content;" for each entry handed over */

static int setup(void **state)
{
	(void)state;
	strcpy(dir, "/tmp/approve-step-snapshot-XXXXXX");
	seen_entries[0] = '\0';
	if (mkdtemp(dir) == NULL)
		return -1;
	return log_capture_start();
}

static int teardown(void **state)
{
	char cmd[128];
	(void)state;
	log_capture_stop();
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void put(const char *name, const char *content)
{
	put_file(dir, name, content);
}

/* DIR/NAME, written into path. */
static char *path_in(char *path, size_t size, const char *name)
{
	snprintf(path, size, "%s/%s", dir, name);
	return path;
}

/* Makes the directory DIR/NAME; its path into path. */
static char *make_dir(char *path, size_t size, const char *name)
{
	assert_int_equal(mkdir(path_in(path, size, name), 0755), 0);
	return path;
}

static void link_to(const char *target, const char *name)
{
	char path[256];

	assert_int_equal(symlink(target, path_in(path, sizeof(path), name)), 0);
}

static void record(void *ctx, const char *name, const struct content *c)
{
	char one[256];

	(void)ctx;
	snprintf(one, sizeof(one), "%s=%s;", name,
		 c->status == CONTENT_OK ? c->data : "?");
	strcat(seen_entries, one);
}

/* The entries handed over, in name order (directory order is arbitrary). */
static const char *entries(void)
{
	static char sorted[4096];
	char *names[64], *save = NULL;
	int n = 0;

	for (char *p = strtok_r(seen_entries, ";", &save); p && n < 64;
	     p = strtok_r(NULL, ";", &save))
		names[n++] = p;
	for (int i = 1; i < n; i++)
		for (int j = i; j > 0 && strcmp(names[j - 1], names[j]) > 0; j--) {
			char *x = names[j];
			names[j] = names[j - 1];
			names[j - 1] = x;
		}
	sorted[0] = '\0';
	for (int i = 0; i < n; i++) {
		strcat(sorted, names[i]);
		strcat(sorted, ";");
	}
	return sorted;
}

static void plain_directory(void **state)
{
	(void)state;
	put("run-1", "approved");
	put("run-1.alice", "approved");
	put("run-1.bob", "refused");
	put("run-2.carol", "approved");
	assert_true(snapshot_votes(dir, "run-1", record, NULL));
	assert_string_equal(entries(),
			    "run-1.alice=approved;run-1.bob=refused;");
}

/* Only the snapshot ..data names counts, not stray files beside it. */
static void kubelet_snapshot(void **state)
{
	char snap[128];
	(void)state;
	make_dir(snap, sizeof(snap), "..2026_12_01_00_00_00.1");
	put("..2026_12_01_00_00_00.1/run-1.alice", "approved");
	put("..2026_12_01_00_00_00.1/run-1.bob", "refused");
	link_to("..2026_12_01_00_00_00.1", "..data");
	link_to("..data/run-1.alice", "run-1.alice");
	link_to("..data/run-1.bob", "run-1.bob");
	put("run-1.mallory", "approved"); /* not in the snapshot */
	assert_true(snapshot_votes(dir, "run-1", record, NULL));
	assert_string_equal(entries(),
			    "run-1.alice=approved;run-1.bob=refused;");
}

/* A writer of an emptyDir points ..data at ".." to have votes read outside. */
static void data_link_out_of_the_volume(void **state)
{
	char vol[128];
	(void)state;
	make_dir(vol, sizeof(vol), "vol");
	put("run-1.alice", "approved"); /* beside the volume, not in it */
	link_to("..", "vol/..data");
	assert_true(snapshot_votes(vol, "run-1", record, NULL));
	assert_string_equal(entries(), "");
}

static void unlisted(void **state)
{
	char gone[128];
	(void)state;
	assert_false(snapshot_votes(path_in(gone, sizeof(gone), "nothing-here"),
				    "run-1", record, NULL));
	assert_non_null(strstr(logged(), "approve-step: warning: cannot list "));
	/* A snapshot removed under us is an update, not a warning. */
	link_to("..2026_12_01_00_00_00.9", "..data");
	assert_false(snapshot_votes(dir, "run-1", record, NULL));
	assert_string_equal(logged(), "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(plain_directory, setup,
						teardown),
		cmocka_unit_test_setup_teardown(kubelet_snapshot, setup,
						teardown),
		cmocka_unit_test_setup_teardown(data_link_out_of_the_volume,
						setup, teardown),
		cmocka_unit_test_setup_teardown(unlisted, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
