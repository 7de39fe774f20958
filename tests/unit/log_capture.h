/*
 * For unit tests that check log lines: stderr goes to a file while a test
 * runs, read back through a descriptor of its own (own file offset).
 */
#ifndef APPROVE_STEP_TEST_LOG_CAPTURE_H
#define APPROVE_STEP_TEST_LOG_CAPTURE_H

#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

static int log_capture_fd = -1;
static int log_capture_saved = -1;

static int log_capture_start(void)
{
	char path[] = "/tmp/approve-step-log-XXXXXX";
	int fd = mkstemp(path);

	if (fd < 0)
		return -1;
	log_capture_fd = open(path, O_RDONLY | O_CLOEXEC);
	unlink(path);
	log_capture_saved = dup(2);
	dup2(fd, 2);
	close(fd);
	return log_capture_fd < 0 || log_capture_saved < 0 ? -1 : 0;
}

static void log_capture_stop(void)
{
	dup2(log_capture_saved, 2);
	close(log_capture_saved);
	close(log_capture_fd);
}

/* A cmocka teardown for tests whose setup ends with log_capture_start(). */
static inline int log_capture_teardown(void **state)
{
	(void)state;
	log_capture_stop();
	return 0;
}

/* Everything logged since the last call. */
static const char *logged(void)
{
	static char text[16384];
	ssize_t n = read(log_capture_fd, text, sizeof(text) - 1);

	text[n > 0 ? n : 0] = '\0';
	return text;
}

#endif
