#include "limit.h"

#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

enum limit_kind limit_of_inotify_init(int err, int probe_fd)
{
	int fd;

	switch (err) {
	case EMFILE:
		fd = fcntl(probe_fd, F_DUPFD_CLOEXEC, 0);
		if (fd < 0 && errno == EMFILE)
			return LIMIT_OPEN_FILES;
		if (fd >= 0)
			close(fd);
		return LIMIT_INSTANCES;
	case ENFILE:
		return LIMIT_SYSTEM_FILES;
	case ENOMEM:
		return LIMIT_MEMORY;
	}
	return LIMIT_NONE;
}

enum limit_kind limit_of_add_watch(int err)
{
	return err == ENOSPC ? LIMIT_WATCHES : LIMIT_NONE;
}

/* The first line of a /proc/sys file, or "?". */
static void read_sysctl(const char *path, char *out, size_t outsz)
{
	ssize_t n = -1;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd >= 0) {
		do
			n = read(fd, out, outsz - 1);
		while (n < 0 && errno == EINTR);
		close(fd);
	}
	if (n <= 0)
		n = snprintf(out, outsz, "?");
	out[n] = '\0';
	out[strcspn(out, "\n")] = '\0';
}

/*
 * One inotify limit: "fs.inotify.NODE = 128", with "; this user
 * namespace's user.NS = 10" when the namespace's own limit (which holds
 * too) differs, and how to raise it.
 */
static void describe_inotify(const char *what, const char *node,
			     const char *ns, const char *raise_to, char *out,
			     size_t outsz, char *fix, size_t fixsz)
{
	char path[96], node_value[32], ns_value[32];
	bool differs;

	snprintf(path, sizeof(path), "/proc/sys/fs/inotify/%s", node);
	read_sysctl(path, node_value, sizeof(node_value));
	snprintf(path, sizeof(path), "/proc/sys/user/%s", ns);
	read_sysctl(path, ns_value, sizeof(ns_value));
	differs = strcmp(ns_value, "?") != 0 && strcmp(ns_value, node_value) != 0;
	if (differs)
		snprintf(out, outsz,
			 "this user has used up its inotify %s (fs.inotify.%s "
			 "= %s; this user namespace's user.%s = %s)",
			 what, node, node_value, ns, ns_value);
	else
		snprintf(out, outsz,
			 "this user has used up its inotify %s (fs.inotify.%s "
			 "= %s)",
			 what, node, node_value);
	snprintf(fix, fixsz,
		 "raise it on the node: sysctl -w fs.inotify.%s=%s%s%s", node,
		 raise_to, differs ? ", and user." : "", differs ? ns : "");
	if (differs)
		snprintf(fix + strlen(fix), fixsz - strlen(fix),
			 " in this user namespace");
}

void limit_describe(enum limit_kind kind, char *what, size_t whatsz,
		    char *fix, size_t fixsz)
{
	char value[32];
	struct rlimit rl;

	switch (kind) {
	case LIMIT_INSTANCES:
		describe_inotify("instances", "max_user_instances",
				 "max_inotify_instances", "1024", what, whatsz,
				 fix, fixsz);
		return;
	case LIMIT_WATCHES:
		describe_inotify("watches", "max_user_watches",
				 "max_inotify_watches", "524288", what, whatsz,
				 fix, fixsz);
		return;
	case LIMIT_OPEN_FILES:
		if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
			rl.rlim_cur = 0;
		snprintf(what, whatsz,
			 "this process has used up its open files limit (%llu)",
			 (unsigned long long)rl.rlim_cur);
		snprintf(fix, fixsz, "raise the container's nofile limit");
		return;
	case LIMIT_SYSTEM_FILES:
		read_sysctl("/proc/sys/fs/file-max", value, sizeof(value));
		snprintf(what, whatsz,
			 "the node has used up its open files (fs.file-max = "
			 "%s)",
			 value);
		snprintf(fix, fixsz, "raise it on the node: sysctl -w "
				     "fs.file-max=...");
		return;
	case LIMIT_MEMORY:
		snprintf(what, whatsz,
			 "the kernel could not allocate an inotify instance");
		snprintf(fix, fixsz, "raise the container's memory limit or "
				     "free memory on the node");
		return;
	case LIMIT_NONE:
		break;
	}
	snprintf(what, whatsz, "no limit");
	snprintf(fix, fixsz, "nothing to raise");
}
