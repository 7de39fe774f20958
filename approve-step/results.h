/*
 * Tekton results: small files that later tasks read. Tekton's entrypoint
 * carries them in the container's termination message, json.Marshal'd
 * (a '<' takes six bytes there) with about 30 bytes of framing each, and
 * fails the step if the message passes 4096 bytes. So the results are
 * budgeted as Tekton writes them: all four, framing included, take at most
 * RESULTS_TOTAL_MAX bytes of the message, which leaves 1024 for Tekton's
 * own entries (StartedAt, about 63 bytes; ExitCode, Reason).
 */
#ifndef APPROVE_STEP_RESULTS_H
#define APPROVE_STEP_RESULTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RESULTS_TOTAL_MAX 3072
/* Escaped bytes, and bytes in the message, including a cut mark. */
#define RESULTS_APPROVER_MAX 1000
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
