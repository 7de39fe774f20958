/* Read a decision file by its name, safely, whatever sits there. */
#ifndef APPROVE_STEP_READFILE_H
#define APPROVE_STEP_READFILE_H

#include <stddef.h>

enum read_status {
	READ_OK,
	READ_MISSING,  /* no such file (yet), or a dangling symlink */
	READ_FAILED,   /* see err: permissions, a symlink loop, I/O */
	READ_NOT_FILE, /* a directory, FIFO or device in its place */
	READ_TOO_BIG,  /* more than DECISION_FILE_MAX bytes */
};

struct file_content {
	enum read_status status;
	int err;    /* errno for READ_FAILED */
	char *data; /* READ_OK: len bytes and a NUL; valid until the next read */
	size_t len;
};

/*
 * Opens dir/name by its path (following symlinks, as the kubelet's
 * KEY -> ..data/KEY needs) without blocking on FIFOs, and reads it whole.
 */
void read_decision_file(const char *dir, const char *name,
			struct file_content *out);

/* A short description of a failed read, for the log ("does not exist"). */
const char *read_status_text(const struct file_content *c);

#endif
