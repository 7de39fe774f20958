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

bool results_write(int dir_fd, const struct results *r)
{
	char approver[RESULTS_APPROVER_MAX];
	char comment[RESULTS_COMMENT_MAX];
	char waited[24];
	bool ok = true;

	escape_value(approver, sizeof(approver), r->approver, r->approver_len,
		     0);
	escape_value(comment, sizeof(comment), r->comment, r->comment_len, 0);
	snprintf(waited, sizeof(waited), "%" PRId64, r->waited_ms / 1000);

	ok &= write_result(dir_fd, "approver", approver);
	ok &= write_result(dir_fd, "comment", comment);
	ok &= write_result(dir_fd, "waited-seconds", waited);
	ok &= write_result(dir_fd, "decision", r->decision);
	return ok;
}
