#include "readfile.h"

#include "decision.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* One buffer for every read: files are read one at a time. */
static char buffer[DECISION_FILE_MAX + 2];

static void read_all(int fd, struct file_content *out)
{
	size_t len = 0;

	/* Read one byte past the limit to tell "exactly 1 MiB" from "more". */
	while (len < DECISION_FILE_MAX + 1) {
		ssize_t n = read(fd, buffer + len, DECISION_FILE_MAX + 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			out->status = READ_FAILED;
			out->err = errno;
			return;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	if (len > DECISION_FILE_MAX) {
		out->status = READ_TOO_BIG;
		return;
	}
	buffer[len] = '\0';
	out->status = READ_OK;
	out->data = buffer;
	out->len = len;
}

void read_decision_file(const char *dir, const char *name,
			struct file_content *out)
{
	char path[PATH_MAX];
	struct stat st;
	int fd;

	*out = (struct file_content){.status = READ_FAILED};
	if (snprintf(path, sizeof(path), "%s/%s", dir, name) >=
	    (int)sizeof(path)) {
		out->err = ENAMETOOLONG;
		return;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		out->err = errno;
		out->status = errno == ENOENT ? READ_MISSING : READ_FAILED;
		return;
	}
	if (fstat(fd, &st) < 0) {
		out->err = errno;
	} else if (!S_ISREG(st.st_mode)) {
		out->status = READ_NOT_FILE;
	} else {
		read_all(fd, out);
	}
	close(fd);
}

const char *read_status_text(const struct file_content *c)
{
	switch (c->status) {
	case READ_OK:
		return "read";
	case READ_MISSING:
		return "does not exist";
	case READ_NOT_FILE:
		return "is not a regular file";
	case READ_TOO_BIG:
		return "is larger than 1 MiB";
	case READ_FAILED:
		break;
	}
	return strerror(c->err);
}
