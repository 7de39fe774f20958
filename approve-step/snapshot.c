#include "snapshot.h"

#include "log.h"
#include "readfile.h"
#include "tally.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/*
 * Where the snapshot is: DIR/<target of DIR/..data>, written to out.
 * Returns false when there is no snapshot (out is then DIR).
 */
static bool snapshot_path(const char *dir, char *out, size_t outsz)
{
	char link[PATH_MAX], target[NAME_MAX + 1];
	ssize_t n;

	snprintf(out, outsz, "%s", dir);
	if (snprintf(link, sizeof(link), "%s/..data", dir) >= (int)sizeof(link))
		return false;
	n = readlink(link, target, sizeof(target) - 1);
	if (n <= 0)
		return false;
	target[n] = '\0';
	/* Not the kubelet's layout: ".." would list the volume's parent. */
	if (strchr(target, '/') != NULL || strcmp(target, ".") == 0 ||
	    strcmp(target, "..") == 0)
		return false;
	return snprintf(out, outsz, "%s/%s", dir, target) < (int)outsz;
}

/* Hands every vote entry in path to each(); false if it could not be listed. */
static bool read_entries(const char *path, bool snapshot, const char *key,
			 snapshot_entry_fn *each, void *ctx)
{
	DIR *dir = opendir(path); /* glibc and musl: O_CLOEXEC */
	struct dirent *e;

	if (dir == NULL) {
		/* A snapshot removed under us is an update: its event follows. */
		if (!snapshot || errno != ENOENT)
			log_warn("cannot list %s: %s; still waiting", path,
				 strerror(errno));
		return false;
	}
	while ((e = readdir(dir)) != NULL) {
		struct content c;
		if (!tally_is_vote(e->d_name, key))
			continue;
		readfile_read(path, e->d_name, &c);
		each(ctx, e->d_name, &c);
	}
	closedir(dir);
	return true;
}

bool snapshot_votes(const char *dir, const char *key, snapshot_entry_fn *each,
		    void *ctx)
{
	char scanned[PATH_MAX], now[PATH_MAX];
	bool snapshot = snapshot_path(dir, scanned, sizeof(scanned));

	if (!read_entries(scanned, snapshot, key, each, ctx))
		return false;
	/* Replaced while we read it: the rename's event makes us look again. */
	return !snapshot || (snapshot_path(dir, now, sizeof(now)) &&
			     strcmp(now, scanned) == 0);
}
