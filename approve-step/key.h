/*
 * The single-key rule: the content of one key (KEY) decides. Used for the
 * volume's file DIR/KEY and for the ConfigMap's data[KEY] read through the
 * API alike.
 */
#ifndef APPROVE_STEP_KEY_H
#define APPROVE_STEP_KEY_H

#include "content.h"
#include "decision.h"
#include "seen.h"

/*
 * Judges c, the key's content as its source found it (missing, unreadable
 * or its bytes), and logs each new state once, naming it s->where and
 * ending with s->via: "DIR/KEY does not exist yet: pending", "DIR/KEY is
 * \"notified\": pending", a warning for what cannot be read or is not a
 * decision. Returns VERDICT_APPROVED or VERDICT_REFUSED with d's approver
 * and comment, or VERDICT_PENDING with both empty. s is the source's own.
 */
enum verdict key_check(struct seen *s, const struct content *c,
		       struct decision *d);

#endif
