#include "readfile.h"

#include "decision.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/*
 * The bytes of the last file read. Static because it is large (up to
 * 1 MiB and a byte, to tell "exactly 1 MiB" from "more") and because a
 * read's content is judged before the next read: one buffer serves all.
 */
static char last_read[DECISION_FILE_MAX + 2];

static void read_all(int fd, struct content *out)
{
	size_t len = 0;

	/* Read one byte past the limit to tell "exactly 1 MiB" from "more". */
	while (len < DECISION_FILE_MAX + 1) {
		ssize_t n = read(fd, last_read + len, DECISION_FILE_MAX + 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			out->status = CONTENT_FAILED;
			out->err = errno;
			return;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	if (len > DECISION_FILE_MAX) {
		out->status = CONTENT_TOO_BIG;
		return;
	}
	last_read[len] = '\0';
	out->status = CONTENT_OK;
	out->data = last_read;
	out->len = len;
}

void readfile_read(const char *dir, const char *name, struct content *out)
{
	char path[PATH_MAX];
	struct stat st;
	int fd;

	*out = (struct content){.status = CONTENT_FAILED};
	if (snprintf(path, sizeof(path), "%s/%s", dir, name) >=
	    (int)sizeof(path)) {
		out->err = ENAMETOOLONG;
		return;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		out->err = errno;
		out->status = errno == ENOENT ? CONTENT_MISSING : CONTENT_FAILED;
		return;
	}
	if (fstat(fd, &st) < 0) {
		out->err = errno;
	} else if (!S_ISREG(st.st_mode)) {
		out->status = CONTENT_NOT_FILE;
	} else {
		read_all(fd, out);
	}
	close(fd);
}
