/*
 * Tekton results: small files that later tasks read. They travel in the
 * container's termination message (4096 bytes shared with Tekton's own
 * data), so together they stay under RESULTS_TOTAL_MAX.
 */
#ifndef APPROVE_STEP_RESULTS_H
#define APPROVE_STEP_RESULTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RESULTS_TOTAL_MAX 3072
#define RESULTS_APPROVER_MAX 1000 /* escaped bytes, including a cut mark */
#define RESULTS_COMMENT_MAX 2000

struct results {
	/* approved, refused, timeout, cancelled; NULL: write no results */
	const char *decision;
	const char *approver; /* raw; escaped and bounded when written */
	size_t approver_len;
	const char *comment;
	size_t comment_len;
	int64_t waited_ms;
};

/* Opens the results directory at start-up, so a bad path fails early. */
int results_open(const char *dir);

/*
 * Writes every result file so a reader never sees half of one (a temporary
 * file renamed into place, which also replaces rather than follows a
 * planted symlink), the decision last. Logs and returns false on failure.
 */
bool results_write(int dir_fd, const struct results *r);

#endif
