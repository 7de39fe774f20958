/*
 * The least possible inotify waiter: the floor that no real waiter can beat
 * on this kernel, for the benchmark only.
 *
 *   floor DIR [KEY]     exit 0 once DIR/KEY (default: status) starts with
 *                       "approved"; 2 on any error
 *
 * Watch the directory before the first read (so no swap is missed), then on
 * every batch of events re-read the file by its path: the kubelet replaces
 * the `..data` symlink, so the file itself is never written. No option
 * parsing, no signal handling, no JSON, no timeout, no poll(): one blocking
 * read() per wakeup. It writes one line when watching and one when approved,
 * so that its log can be timed like approve-step's.
 *
 * Built with -DCLOSE_BEFORE_EXIT it closes its descriptors itself before
 * it exits (the benchmark's "floor-close"), to show what that moves.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <string.h>
#include <sys/inotify.h>
#include <unistd.h>

static int approved(int dir_fd, const char *key)
{
	char buf[16];
	ssize_t n;
	int fd = openat(dir_fd, key, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf));
	close(fd);
	return n >= 8 && memcmp(buf, "approved", 8) == 0;
}

int main(int argc, char **argv)
{
	static const char watching[] = "floor: watching\n";
	static const char done[] = "floor: approved\n";
	char events[4096] __attribute__((aligned(8)));
	const char *key = argc > 2 ? argv[2] : "status";
	int in, dir_fd;

	if (argc < 2)
		return 2;
	in = inotify_init1(IN_CLOEXEC);
	if (in < 0 || inotify_add_watch(in, argv[1],
					IN_CREATE | IN_DELETE | IN_MOVED_FROM |
						IN_MOVED_TO | IN_CLOSE_WRITE |
						IN_ATTRIB | IN_ONLYDIR) < 0)
		return 2;
	dir_fd = open(argv[1], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dir_fd < 0)
		return 2;
	if (write(2, watching, sizeof(watching) - 1) < 0)
		return 2;
	while (!approved(dir_fd, key))
		if (read(in, events, sizeof(events)) <= 0)
			return 2;
	if (write(2, done, sizeof(done) - 1) < 0)
		return 2;
#ifdef CLOSE_BEFORE_EXIT
	/* Variant "floor-close": close the watch before exiting, as
	 * approve-step does, instead of leaving it to exit(). */
	close(in);
	close(dir_fd);
#endif
	return 0;
}
