#define _GNU_SOURCE /* O_DIRECTORY; signalfd and inotify are Linux-only */
#include "watch.h"

#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

/*
 * No IN_MODIFY: a file written in place is read once, on IN_CLOSE_WRITE,
 * not half-way through. IN_ATTRIB catches a file made readable by chmod.
 */
#define WATCH_MASK                                                           \
	(IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO |               \
	 IN_CLOSE_WRITE | IN_ATTRIB | IN_DELETE_SELF | IN_MOVE_SELF |        \
	 IN_ONLYDIR)

#define GONE_MASK (IN_DELETE_SELF | IN_MOVE_SELF | IN_UNMOUNT | IN_IGNORED)

/* File systems whose remote changes inotify never reports (statfs f_type). */
static const struct {
	unsigned long magic;
	const char *name;
} remote_fs[] = {
	{0x6969, "nfs"},	   {0x517b, "smb"},	 {0xfe534d42, "smb2"},
	{0xff534d42, "cifs"},	   {0x65735546, "fuse"}, {0x01021997, "9p"},
	{0x00c36400, "ceph"},	   {0x5346414f, "afs"},	 {0x6b414653, "afs"},
	{0x73757245, "coda"},	   {0x7461636f, "ocfs2"},
	{0x01161970, "gfs2"},	   {0x0bd00bd0, "lustre"},
	{0x47504653, "gpfs"},
};

static const char *remote_fs_name(const char *path)
{
	struct statfs sf;

	if (statfs(path, &sf) < 0)
		return NULL;
	for (size_t i = 0; i < sizeof(remote_fs) / sizeof(remote_fs[0]); i++)
		if ((unsigned long)sf.f_type == remote_fs[i].magic)
			return remote_fs[i].name;
	return NULL;
}

static void log_inotify_init_error(void)
{
	log_error("inotify_init1: %s: cannot watch for changes (is inotify "
		  "enabled in this kernel?)",
		  strerror(errno));
}

static void log_add_watch_error(const char *path, int err)
{
	if (err == ENOENT || err == ENOTDIR) {
		log_error("--dir %s: %s: give the workspace directory that "
			  "holds the decision",
			  path, err == ENOENT ? "no such directory"
					      : "not a directory");
	} else {
		log_error("inotify_add_watch %s: %s", path, strerror(err));
	}
}

/*
 * Notes that a limit kept inotify from us; false if err is no limit the
 * step can wait through. The open files limit is not one: reading the key
 * needs a descriptor too.
 */
static bool limit_hit(struct watch *w, enum limit_kind kind, const char *call,
		      int err)
{
	if (kind == LIMIT_NONE)
		return false;
	if (kind == LIMIT_OPEN_FILES) {
		char what[256], fix[128];
		limit_describe(kind, what, sizeof(what), fix, sizeof(fix));
		log_error("%s: %s: %s; %s", call, strerror(err), what, fix);
		return false;
	}
	w->limit = kind;
	w->limit_call = call;
	w->limit_errno = err;
	if (w->inotify_fd >= 0)
		close(w->inotify_fd);
	w->inotify_fd = -1;
	return true;
}

/* inotify on path, or a limit noted in w; false (logged) on other errors. */
static bool watch_dir(struct watch *w, const char *path)
{
	w->inotify_fd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
	if (w->inotify_fd < 0) {
		int err = errno;
		enum limit_kind kind = limit_of_inotify_init(err, w->signal_fd);
		if (limit_hit(w, kind, "inotify_init1", err))
			return true;
		errno = err;
		if (kind == LIMIT_NONE)
			log_inotify_init_error();
		return false;
	}
	/* The watch comes first: a change after it is never missed. */
	w->wd = inotify_add_watch(w->inotify_fd, path, WATCH_MASK);
	if (w->wd < 0) {
		int err = errno;
		if (limit_hit(w, limit_of_add_watch(err), "inotify_add_watch",
			      err))
			return true;
		log_add_watch_error(path, err);
		return false;
	}
	return true;
}

bool watch_open(struct watch *w, const char *path, const sigset_t *signals)
{
	struct stat st;

	*w = (struct watch){.path = path, .inotify_fd = -1, .signal_fd = -1};

	w->signal_fd = signalfd(-1, signals, SFD_CLOEXEC | SFD_NONBLOCK);
	if (w->signal_fd < 0) {
		log_error("signalfd: %s", strerror(errno));
		return false;
	}
	if (path == NULL)
		return true; /* the API alone: no inotify instance at all */
	if (!watch_dir(w, path))
		return false;
	/*
	 * No descriptor is kept on the directory: files are read by path, and
	 * an open descriptor would keep a deleted directory alive and silence
	 * its IN_DELETE_SELF.
	 */
	if (stat(path, &st) < 0) {
		int err = errno;
		/* Without inotify, this is the first look at the directory. */
		if (w->limit != LIMIT_NONE && (err == ENOENT || err == ENOTDIR))
			log_add_watch_error(path, err);
		else
			log_error("stat --dir %s: %s", path, strerror(err));
		return false;
	}
	if (!S_ISDIR(st.st_mode)) { /* only without inotify's IN_ONLYDIR */
		log_add_watch_error(path, ENOTDIR);
		return false;
	}
	w->dev = st.st_dev;
	w->ino = st.st_ino;
	w->remote_fs = remote_fs_name(path);
	return true;
}

/* Reads every queued event; reports whether the directory itself went. */
static enum watch_wake drain_events(struct watch *w)
{
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	enum watch_wake wake = WATCH_CHANGED;

	for (;;) {
		ssize_t n = read(w->inotify_fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return wake;
		if (n <= 0) {
			log_error("read inotify events: %s",
				  n < 0 ? strerror(errno) : "end of file");
			return WATCH_ERROR;
		}
		for (char *p = buf; p < buf + n;) {
			const struct inotify_event *ev = (const void *)p;
			if (ev->wd == w->wd && (ev->mask & GONE_MASK))
				wake = WATCH_GONE;
			else if (ev->mask & IN_Q_OVERFLOW)
				log_warn("inotify event queue overflowed: "
					 "re-reading");
			p += sizeof(*ev) + ev->len;
		}
	}
}

bool watch_same_dir(const struct watch *w)
{
	struct stat st;

	if (w->path == NULL)
		return true;
	return stat(w->path, &st) == 0 && st.st_dev == w->dev &&
	       st.st_ino == w->ino;
}

static bool read_signal(struct watch *w, int *signo)
{
	struct signalfd_siginfo si;
	ssize_t n;

	do
		n = read(w->signal_fd, &si, sizeof(si));
	while (n < 0 && errno == EINTR);
	if (n != sizeof(si))
		return false;
	*signo = (int)si.ssi_signo;
	return true;
}

enum watch_wake watch_wait(struct watch *w, int64_t timeout_ms, int *signo,
			   struct pollfd *other)
{
	struct pollfd fds[3] = {
		{.fd = w->signal_fd, .events = POLLIN},
		{.fd = w->inotify_fd, .events = POLLIN},
		{.fd = other ? other->fd : -1,
		 .events = other ? other->events : 0},
	};
	int n, ms = timeout_ms < 0		 ? -1
		    : timeout_ms > INT_MAX ? INT_MAX
					   : (int)timeout_ms;

	do
		n = poll(fds, 3, ms);
	while (n < 0 && errno == EINTR);
	if (other)
		other->revents = n > 0 ? fds[2].revents : 0;
	if (n < 0) {
		log_error("poll: %s", strerror(errno));
		return WATCH_ERROR;
	}
	if (n == 0) /* without inotify, only this look notices a new dir */
		return w->limit == LIMIT_NONE || watch_same_dir(w) ? WATCH_TIMER
								 : WATCH_GONE;
	if ((fds[0].revents & POLLIN) && read_signal(w, signo))
		return WATCH_SIGNAL;
	if (fds[1].revents & POLLIN) {
		enum watch_wake wake = drain_events(w);
		/* Events can be lost (queue overflow): check the path too. */
		return wake == WATCH_CHANGED && !watch_same_dir(w) ? WATCH_GONE
								  : wake;
	}
	return fds[2].revents ? WATCH_OTHER : WATCH_CHANGED;
}

void watch_close(struct watch *w)
{
	if (w->inotify_fd >= 0)
		close(w->inotify_fd);
	if (w->signal_fd >= 0)
		close(w->signal_fd);
}
