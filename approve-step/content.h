/*
 * What one source found under one key: its bytes, or why there are none.
 * The directory reading (readfile.c) and the API watch produce it; the
 * decision rules (key.c, tally.c) judge it and never read anything
 * themselves.
 */
#ifndef APPROVE_STEP_CONTENT_H
#define APPROVE_STEP_CONTENT_H

#include <stddef.h>

enum content_status {
	CONTENT_OK,
	CONTENT_MISSING,  /* no such key (yet), or a dangling symlink */
	CONTENT_FAILED,	  /* see err: permissions, a symlink loop, I/O */
	CONTENT_NOT_FILE, /* a directory, FIFO or device in its place */
	CONTENT_TOO_BIG,  /* more than DECISION_FILE_MAX bytes */
	CONTENT_OUTSIDE,  /* a symlink out of the directory: not followed */
};

struct content {
	enum content_status status;
	int err;	  /* errno for CONTENT_FAILED */
	const char *data; /* CONTENT_OK: len bytes, and data[len] == '\0' */
	size_t len;
};

/* A short description of a failed read, for the log ("does not exist"). */
const char *content_status_text(const struct content *c);

#endif
