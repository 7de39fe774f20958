/*
 * How the wait ended: the one result that the last log line, the Tekton
 * results and the exit code are made from.
 */
#ifndef APPROVE_STEP_OUTCOME_H
#define APPROVE_STEP_OUTCOME_H

#include "decision.h"

#include <stdbool.h>
#include <stdint.h>

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
	/* OUTCOME_APPROVED, OUTCOME_REFUSED: who decided and why. */
	struct decision decision;
	bool through_api; /* the decision was read through the API */
	const char *api_server; /* then its host:port, as the watch logs it */
};

#endif
