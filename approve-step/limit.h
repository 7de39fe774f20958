/*
 * The kernel limits that can keep the step from having inotify: which one
 * a failure ran into, its value, and how to raise it. The step then waits
 * by re-reading on a timer (main.c, report.c) instead of failing.
 */
#ifndef APPROVE_STEP_LIMIT_H
#define APPROVE_STEP_LIMIT_H

#include <stddef.h>

enum limit_kind {
	LIMIT_NONE,	    /* not a limit: a real setup error */
	LIMIT_INSTANCES,    /* fs.inotify.max_user_instances (EMFILE) */
	LIMIT_OPEN_FILES,   /* RLIMIT_NOFILE (EMFILE): fatal, reads need fds */
	LIMIT_SYSTEM_FILES, /* fs.file-max (ENFILE) */
	LIMIT_MEMORY,	    /* kernel or cgroup memory (ENOMEM) */
	LIMIT_WATCHES,	    /* fs.inotify.max_user_watches (ENOSPC) */
};

/*
 * The limit inotify_init1 failing with err ran into. probe_fd is any open
 * descriptor: EMFILE means the user's inotify instances unless the process
 * cannot open another descriptor either.
 */
enum limit_kind limit_of_inotify_init(int err, int probe_fd);

/* The limit inotify_add_watch failing with err ran into. */
enum limit_kind limit_of_add_watch(int err);

/*
 * For the log: what ran out, with its current value(s) ("this user has
 * used up its inotify instances (fs.inotify.max_user_instances = 128)"),
 * and how to raise it ("raise it on the node: sysctl -w ..."). The user
 * namespace's own limit (/proc/sys/user/max_inotify_*) is named too when
 * it differs from the node's.
 */
void limit_describe(enum limit_kind kind, char *what, size_t whatsz,
		    char *fix, size_t fixsz);

#endif
