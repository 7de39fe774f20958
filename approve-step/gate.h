/*
 * The gate: turns what is in the directory now into approved, refused or
 * still pending, and logs each change it sees once.
 */
#ifndef APPROVE_STEP_GATE_H
#define APPROVE_STEP_GATE_H

#include "decision.h"
#include "options.h"

#include <stdint.h>

#define GATE_REMEMBERED 64 /* distinct warnings and votes tracked */

/* Who decided and why, as the results and the last log line show it. */
struct verdict_detail {
	char approver[DECISION_FIELD_MAX + 1];
	size_t approver_len;
	char comment[DECISION_FIELD_MAX + 1];
	size_t comment_len;
};

struct gate {
	const struct options *opts;
	uint64_t last_state;		   /* fingerprint of what was last logged */
	uint64_t warned[GATE_REMEMBERED]; /* fingerprints already warned about */
	unsigned warned_next;
	struct vote_log {
		uint64_t name, state;
	} votes[GATE_REMEMBERED];	   /* vote mode: last logged per voter */
	unsigned votes_len;
};

void gate_init(struct gate *g, const struct options *opts);

/*
 * Reads the decision (or the votes) and returns VERDICT_APPROVED,
 * VERDICT_REFUSED or VERDICT_PENDING; fills *detail on a decision.
 */
enum verdict gate_check(struct gate *g, struct verdict_detail *detail);

/* Helpers shared with the vote counting. */
uint64_t gate_fingerprint(uint64_t seed, const void *data, size_t len);
/* True the first time a fingerprint is passed: warn once per value. */
bool gate_first_warning(struct gate *g, uint64_t fingerprint);

#endif
