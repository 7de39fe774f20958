/* What a value, a key or a count of votes comes to. */
#ifndef APPROVE_STEP_VERDICT_H
#define APPROVE_STEP_VERDICT_H

enum verdict {
	VERDICT_PENDING,  /* a pending word, or empty */
	VERDICT_APPROVED,
	VERDICT_REFUSED,
	VERDICT_UNKNOWN,  /* not a decision: a typo, bad JSON, binary data */
};

/* "approved", "refused", "pending" or "unknown". */
const char *verdict_name(enum verdict v);

#endif
