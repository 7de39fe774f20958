#include "log.h"

#include "escape.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/*
 * False once stderr turned out to be closed with no /dev/null to stand in
 * (log_guard_std_fds): for the whole run, so that no log line ever lands
 * in a file we opened.
 */
static bool log_enabled = true;

void log_guard_std_fds(void)
{
	for (int fd = 0; fd <= 2; fd++) {
		if (fcntl(fd, F_GETFD) >= 0 || errno != EBADF)
			continue;
		int null = open("/dev/null", O_RDWR);
		if (null != fd) {
			/*
			 * No /dev/null: leave the slot to whatever opens next
			 * and stop logging, rather than write log lines into
			 * one of our own files.
			 */
			if (null >= 0)
				close(null);
			if (fd == 2)
				log_enabled = false;
		}
	}
}

static const char *const level_prefix[] = {
	[LOG_INFO] = "",
	[LOG_WARN] = "warning: ",
	[LOG_ERROR] = "error: ",
};

void log_msg(enum log_level level, const char *fmt, ...)
{
	char line[LOG_LINE_MAX];
	int saved_errno = errno;
	va_list ap;
	int n;
	size_t len;

	if (!log_enabled)
		return;
	n = snprintf(line, sizeof(line), "approve-step: %s",
		     level_prefix[level]);
	va_start(ap, fmt);
	n += vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
	va_end(ap);
	len = (size_t)n < sizeof(line) - 1 ? (size_t)n : sizeof(line) - 2;
	line[len++] = '\n';

	/* A closed or broken stderr must not change the outcome: ignore it. */
	for (size_t off = 0; off < len;) {
		ssize_t w = write(2, line + off, len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			break;
		off += (size_t)w;
	}
	errno = saved_errno;
}

size_t log_join(char out[LOG_VALUE_MAX], const char *const *names, int n)
{
	size_t len = 0;

	out[0] = '\0';
	for (int i = 0; i < n; i++) {
		const size_t cap = LOG_VALUE_MAX - 1;
		if ((i > 0 && !escape_append(out, cap, &len, ", ", 2)) ||
		    !escape_append(out, cap, &len, names[i], strlen(names[i])))
			break;
	}
	return len;
}

const char *log_quote(char buf[LOG_VALUE_MAX], const char *value, size_t len)
{
	buf[0] = '"';
	escape_value(buf + 1, LOG_VALUE_MAX - 2, value, len, ESCAPE_QUOTES);
	strcat(buf, "\"");
	return buf;
}

const char *log_quote_short(char buf[LOG_SHORT_MAX], const char *value,
			    size_t len)
{
	buf[0] = '"';
	escape_value(buf + 1, LOG_SHORT_MAX - 2, value, len, ESCAPE_QUOTES);
	strcat(buf, "\"");
	return buf;
}
