#define _GNU_SOURCE /* O_PATH, O_NOFOLLOW, O_DIRECTORY, syscall() */
#include "readfile.h"

#include "decision.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

/*
 * openat2(2) (Linux 5.6), declared here because musl's headers and older
 * kernel headers lack it; the numbers are the kernel's ABI.
 */
#ifndef SYS_openat2
#define SYS_openat2 437
#endif
struct readfile_open_how {
	uint64_t flags;
	uint64_t mode;
	uint64_t resolve;
};
#define READFILE_RESOLVE_NO_MAGICLINKS 0x02
#define READFILE_RESOLVE_BENEATH 0x08

#define OPEN_FLAGS (O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK)

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

/*
 * Without openat2 (a kernel before 5.6, or a seccomp filter that refuses
 * it, or valgrind, which does not know it), only links that plainly stay
 * in dir are followed, as openat2 would: a link to a sibling by its bare
 * name, and the kubelet's KEY -> ..data/KEY with ..data -> a snapshot
 * directory named without a '/'. A link out is EXDEV; a loop, ELOOP.
 */
#define READFILE_HOPS_MAX 40 /* the kernel's own limit on nested links */

static bool plain_name(const char *s)
{
	return *s != '\0' && strchr(s, '/') == NULL && strcmp(s, ".") != 0 &&
	       strcmp(s, "..") != 0;
}

/* KEY -> ..data/KEY: opens the snapshot's KEY, which is no link itself. */
static int open_kubelet_key(int dir_fd, const char *name)
{
	char link[NAME_MAX + 1], path[2 * NAME_MAX + 2];
	ssize_t n = readlinkat(dir_fd, "..data", link, sizeof(link) - 1);

	if (n <= 0 || (link[n] = '\0', !plain_name(link)))
		return errno = EXDEV, -1;
	snprintf(path, sizeof(path), "%s/%s", link, name);
	return openat(dir_fd, path, OPEN_FLAGS | O_NOFOLLOW);
}

static int open_plain_links(int dir_fd, const char *name)
{
	char cur[NAME_MAX + 1], link[NAME_MAX + 16], want[NAME_MAX + 16];

	snprintf(cur, sizeof(cur), "%s", name);
	for (int hops = 0; hops <= READFILE_HOPS_MAX; hops++) {
		int fd = openat(dir_fd, cur, OPEN_FLAGS | O_NOFOLLOW);
		ssize_t n;

		if (fd >= 0 || errno != ELOOP)
			return fd;
		n = readlinkat(dir_fd, cur, link, sizeof(link) - 1);
		if (n <= 0)
			return errno = EXDEV, -1;
		link[n] = '\0';
		snprintf(want, sizeof(want), "..data/%s", cur);
		if (strcmp(link, want) == 0)
			return open_kubelet_key(dir_fd, cur);
		if (!plain_name(link))
			return errno = EXDEV, -1;
		memcpy(cur, link, (size_t)n + 1);
	}
	return errno = ELOOP, -1;
}

/*
 * Opens name in dir without following a link out of dir: whoever can
 * write the volume (an emptyDir, a PVC) could otherwise point a key at
 * /proc/self/environ or the ServiceAccount token and have the step read
 * it. Links inside dir (the kubelet's ..data) are followed.
 */
static int open_beneath(const char *dir, const char *name)
{
	struct readfile_open_how how = {
		.flags = OPEN_FLAGS,
		.resolve = READFILE_RESOLVE_BENEATH |
			   READFILE_RESOLVE_NO_MAGICLINKS,
	};
	int dir_fd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC), fd, err;

	if (dir_fd < 0)
		return -1;
	do
		fd = (int)syscall(SYS_openat2, dir_fd, name, &how, sizeof(how));
	while (fd < 0 && errno == EAGAIN);
	if (fd < 0 && (errno == ENOSYS || errno == EPERM))
		fd = open_plain_links(dir_fd, name);
	err = errno;
	close(dir_fd);
	errno = err;
	return fd;
}

void readfile_read(const char *dir, const char *name, struct content *out)
{
	struct stat st;
	int fd;

	*out = (struct content){.status = CONTENT_FAILED};
	if (strchr(name, '/') != NULL || strlen(dir) >= PATH_MAX) {
		out->err = ENAMETOOLONG;
		return;
	}
	fd = open_beneath(dir, name);
	if (fd < 0) {
		out->err = errno;
		out->status = errno == ENOENT  ? CONTENT_MISSING
			      : errno == EXDEV ? CONTENT_OUTSIDE
					       : CONTENT_FAILED;
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
