/* What a person reads: the first lines (what we wait for, how to decide) and the last. */
#ifndef APPROVE_STEP_REPORT_H
#define APPROVE_STEP_REPORT_H

#include "options.h"
#include "results.h"
#include "outcome.h"
#include "watch.h"

void report_start(const struct options *opts, const struct watch *w);

/* The last log line and the results for an outcome. */
void report_outcome(const struct options *opts, const struct outcome *out,
		    struct results *results);

#endif
