/*
 * The votes of the watched directory, read from one consistent snapshot.
 * A ConfigMap volume's ..data links to an immutable snapshot of every key,
 * which the kubelet replaces with one rename: reading the votes there sees
 * one update whole or not at all. Elsewhere (emptyDir, PVC) DIR itself is
 * read.
 */
#ifndef APPROVE_STEP_SNAPSHOT_H
#define APPROVE_STEP_SNAPSHOT_H

#include "content.h"

#include <stdbool.h>

/* Called with each vote entry's name (KEY.USER) and content. */
typedef void snapshot_entry_fn(void *ctx, const char *name,
			       const struct content *c);

/*
 * Reads every vote entry for key (tally_is_vote) in dir's snapshot and
 * hands each to each(ctx, ...). Returns true when they all came from one
 * snapshot; false when the directory could not be listed (logged: "cannot
 * list PATH") or the snapshot was replaced while it was read (its rename
 * event makes the caller look again): what was handed over then is not
 * one consistent set.
 */
bool snapshot_votes(const char *dir, const char *key, snapshot_entry_fn *each,
		    void *ctx);

#endif
