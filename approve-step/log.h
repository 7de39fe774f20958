/* One line per message on stderr, prefixed so it is easy to grep in Tekton logs. */
#ifndef APPROVE_STEP_LOG_H
#define APPROVE_STEP_LOG_H

#include <stddef.h>

enum log_level { LOG_INFO, LOG_WARN, LOG_ERROR };

/* Longest line written; longer messages are cut (values are bounded first). */
#define LOG_LINE_MAX 4096

/* Room for one escaped value in a log line. */
#define LOG_VALUE_MAX 512

/*
 * Reopen any of fds 0-2 that are closed onto /dev/null, so that a later
 * open() can never land on fd 2 and receive log lines meant for stderr.
 */
void log_guard_std_fds(void);

/* Writes the message as one line with a single write(2); keeps errno. */
void log_msg(enum log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_WARN, __VA_ARGS__)
#define log_error(...) log_msg(LOG_ERROR, __VA_ARGS__)

/*
 * A value from outside, escaped and bounded for a log line, in quotes.
 * Returns buf.
 */
const char *log_quote(char buf[LOG_VALUE_MAX], const char *value, size_t len);

/*
 * Room for a short prefix of a value that is not a decision: enough to
 * see what was written, too little to leak a file a link pointed at.
 */
#define LOG_SHORT_MAX 64

/* log_quote for at most LOG_SHORT_MAX - 3 bytes of it, cut and marked. */
const char *log_quote_short(char buf[LOG_SHORT_MAX], const char *value,
			    size_t len);

/* Joins n names with ", " into out, cut and marked to fit; returns its length. */
size_t log_join(char out[LOG_VALUE_MAX], const char *const *names, int n);

#endif
