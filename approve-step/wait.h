/* The wait loop: re-check on every hint until a decision, the deadline or a signal. */
#ifndef APPROVE_STEP_WAIT_H
#define APPROVE_STEP_WAIT_H

#include "gate.h"
#include "options.h"
#include "watch.h"

enum outcome_kind {
	OUTCOME_APPROVED,
	OUTCOME_REFUSED,
	OUTCOME_TIMEOUT, /* deadline passed; see opts->approve_on_timeout */
	OUTCOME_CANCELLED,
	OUTCOME_FAILED, /* the directory went away or the watch failed */
};

struct outcome {
	enum outcome_kind kind;
	int signo; /* OUTCOME_CANCELLED */
	int64_t waited_ms;
	struct verdict_detail detail;
};

void wait_for_decision(const struct options *opts, struct watch *w,
		       int64_t start_ms, struct outcome *out);

#endif
