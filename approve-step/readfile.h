/* Reads one key of the watched directory by name, safely, whatever is there. */
#ifndef APPROVE_STEP_READFILE_H
#define APPROVE_STEP_READFILE_H

#include "content.h"

/*
 * Opens name in dir, following symlinks only while they stay inside dir
 * (the kubelet's KEY -> ..data/KEY; a link out of dir is CONTENT_OUTSIDE),
 * without blocking on FIFOs, and reads it whole.
 * out->data stays valid until the next call: every read shares one buffer.
 */
void readfile_read(const char *dir, const char *name, struct content *out);

#endif
