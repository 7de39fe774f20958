/*
 * Sleep until something happens in the watched directory, a signal
 * arrives, or a timer runs out: one poll() over an inotify descriptor and
 * a signalfd, so nothing runs while nothing changes.
 */
#ifndef APPROVE_STEP_WATCH_H
#define APPROVE_STEP_WATCH_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct watch {
	const char *path;
	dev_t dev;      /* the directory watched, to notice a replacement */
	ino_t ino;
	int inotify_fd; /* -1: not open */
	int wd;
	int signal_fd; /* -1: not open */
	/* Non-NULL when the file system gives no events for remote writes. */
	const char *remote_fs;
};

enum watch_wake {
	WATCH_CHANGED, /* something in the directory changed: re-read */
	WATCH_TIMER,   /* the timeout given to watch_wait ran out */
	WATCH_SIGNAL,  /* a cancelling signal arrived */
	WATCH_GONE,    /* the directory was deleted, moved or unmounted */
	WATCH_ERROR,   /* poll or read failed; already logged */
};

/*
 * Sets the watch up before anything is read; logs why it could not.
 * signals: the cancelling signals, already blocked (main sets them up).
 */
bool watch_open(struct watch *w, const char *path, const sigset_t *signals);

/* Waits at most timeout_ms (< 0: no limit). *signo is set on WATCH_SIGNAL. */
enum watch_wake watch_wait(struct watch *w, int64_t timeout_ms, int *signo);

/* False once the path no longer names the directory being watched. */
bool watch_same_dir(const struct watch *w);

void watch_close(struct watch *w);

#endif
