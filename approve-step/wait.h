/* The wait loop: re-check on every hint until a decision, the deadline or a signal. */
#ifndef APPROVE_STEP_WAIT_H
#define APPROVE_STEP_WAIT_H

#include "options.h"
#include "outcome.h"
#include "watch.h"

#include <stdint.h>

struct apiwatch;

/*
 * api: the ConfigMap through the API, prepared (apiwatch_prepare, maybe
 * unusable) and started; NULL with --api off.
 */
void wait_for_decision(const struct options *opts, struct watch *w,
		       struct apiwatch *api, int64_t start_ms,
		       struct outcome *out);

#endif
