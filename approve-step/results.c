#define _GNU_SOURCE /* O_DIRECTORY, O_NOFOLLOW */
#include "results.h"

#include "escape.h"
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int results_open(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		log_error("--results-dir %s: %s: give a writable directory, "
			  "e.g. /tekton/results",
			  dir, strerror(errno));
	return fd;
}

static bool write_all(int fd, const char *data, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, data, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return false;
		data += n;
		len -= (size_t)n;
	}
	return true;
}

static bool write_result(int dir_fd, const char *name, const char *value)
{
	char tmp[64];
	int fd;

	snprintf(tmp, sizeof(tmp), ".%s.tmp.%ld", name, (long)getpid());
	/* A leftover (or planted) temporary name is removed, never followed. */
	unlinkat(dir_fd, tmp, 0);
	fd = openat(dir_fd, tmp,
		    O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0) {
		log_error("cannot write result %s: %s", name, strerror(errno));
		return false;
	}
	if (!write_all(fd, value, strlen(value))) {
		log_error("cannot write result %s: %s", name, strerror(errno));
		close(fd);
		unlinkat(dir_fd, tmp, 0);
		return false;
	}
	close(fd);
	if (renameat(dir_fd, tmp, dir_fd, name) < 0) {
		log_error("cannot write result %s: rename: %s", name,
			  strerror(errno));
		unlinkat(dir_fd, tmp, 0);
		return false;
	}
	return true;
}

/*
 * What one result costs in the termination message besides its name and
 * value: Tekton's entrypoint writes each as a RunResult,
 * {"key":"NAME","value":"VALUE","type":1}, json.Marshal'd into one array,
 * with a comma between entries (pkg/result, pkg/termination).
 */
#define ENTRY_OVERHEAD (sizeof("{\"key\":\"\",\"value\":\"\",\"type\":1},") - 1)
#define ARRAY_OVERHEAD 2 /* [ ] */

/* The bytes json.Marshal writes for s, without its quotes. */
static size_t json_size(const char *s)
{
	size_t len = strlen(s), total = 0, used;

	for (size_t i = 0; i < len; i += used)
		total += escape_json_char(s + i, len - i, &used);
	return total;
}

/*
 * Cuts s (escaped text) so that json.Marshal writes at most budget bytes
 * for it, ending in ESCAPE_CUT_MARK when cut. Returns that size.
 */
static size_t fit_json(char *s, size_t budget)
{
	const size_t mark = sizeof(ESCAPE_CUT_MARK) - 1;
	size_t len = strlen(s), total = json_size(s), i = 0, used, n;

	if (total <= budget)
		return total;
	for (total = 0; i < len; i += used, total += n) {
		n = escape_json_char(s + i, len - i, &used);
		if (total + n + mark > budget)
			break;
	}
	memcpy(s + i, ESCAPE_CUT_MARK, mark + 1);
	return total + mark;
}

/* What a result costs in the termination message. */
static size_t entry_size(const char *name, size_t value_json)
{
	return ENTRY_OVERHEAD + strlen(name) + value_json;
}

bool results_write(int dir_fd, const struct results *r)
{
	char approver[RESULTS_APPROVER_MAX];
	char comment[RESULTS_COMMENT_MAX];
	char waited[24];
	size_t used = ARRAY_OVERHEAD;
	bool ok = true;

	escape_value(approver, sizeof(approver), r->approver, r->approver_len,
		     0);
	escape_value(comment, sizeof(comment), r->comment, r->comment_len, 0);
	snprintf(waited, sizeof(waited), "%" PRId64, r->waited_ms / 1000);

	/* Budgeted as Tekton writes them: a '<' costs six bytes, not one. */
	used += entry_size("decision", json_size(r->decision));
	used += entry_size("waited-seconds", json_size(waited));
	used += entry_size("approver",
			   fit_json(approver, RESULTS_APPROVER_MAX - 1));
	used += entry_size("comment", 0);
	fit_json(comment, RESULTS_TOTAL_MAX - used);

	ok &= write_result(dir_fd, "approver", approver);
	ok &= write_result(dir_fd, "comment", comment);
	ok &= write_result(dir_fd, "waited-seconds", waited);
	ok &= write_result(dir_fd, "decision", r->decision);
	return ok;
}
