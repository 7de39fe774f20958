/*
 * Sleep until something happens in the watched directory, a signal
 * arrives, or a timer runs out: one poll() over an inotify descriptor and
 * a signalfd, so nothing runs while nothing changes.
 */
#ifndef APPROVE_STEP_WATCH_H
#define APPROVE_STEP_WATCH_H

#include "limit.h"

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct pollfd;

struct watch {
	const char *path; /* NULL: no directory, only signals */
	dev_t dev;      /* the directory watched, to notice a replacement */
	ino_t ino;
	int inotify_fd; /* -1: not open */
	int wd;
	int signal_fd; /* -1: not open */
	/* Non-NULL when the file system gives no events for remote writes. */
	const char *remote_fs;
	/*
	 * Not LIMIT_NONE when a kernel limit kept inotify from us: no events
	 * come (inotify_fd is -1), so the caller must re-read on a timer.
	 */
	enum limit_kind limit;
	const char *limit_call; /* the call that failed, for the log */
	int limit_errno;
};

enum watch_wake {
	WATCH_CHANGED, /* something in the directory changed: re-read */
	WATCH_TIMER,   /* the timeout given to watch_wait ran out */
	WATCH_SIGNAL,  /* a cancelling signal arrived */
	WATCH_GONE,    /* the directory was deleted, moved or unmounted */
	WATCH_ERROR,   /* poll or read failed; already logged */
	WATCH_OTHER,   /* only the other descriptor is ready */
};

/*
 * Sets the watch up before anything is read; logs why it could not.
 * signals: the cancelling signals, already blocked (main sets them up).
 * When a limit keeps inotify from us (w->limit), it still succeeds: only
 * the signals and the timer wake watch_wait then.
 * path NULL: signals only (the API alone), no inotify instance.
 */
bool watch_open(struct watch *w, const char *path, const sigset_t *signals);

/*
 * Waits at most timeout_ms (< 0: no limit). *signo is set on WATCH_SIGNAL.
 * Without inotify (w->limit), a timer wake whose path no longer names the
 * directory is WATCH_GONE, as an inotify event would have said.
 * other (NULL, or fd -1: none) is one more descriptor to wait on, the API
 * connection; its revents are set whatever the wake.
 */
enum watch_wake watch_wait(struct watch *w, int64_t timeout_ms, int *signo,
			   struct pollfd *other);

/* False once the path no longer names the directory being watched. */
bool watch_same_dir(const struct watch *w);

void watch_close(struct watch *w);

#endif
