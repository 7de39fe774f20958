/* What a person reads: the first lines (what we wait for, how to decide) and the last. */
#ifndef APPROVE_STEP_REPORT_H
#define APPROVE_STEP_REPORT_H

#include "options.h"
#include "results.h"
#include "outcome.h"
#include "watch.h"

void report_start(const struct options *opts, const struct watch *w);

/*
 * Says that the key `other` of the same directory holds value (len bytes),
 * a decision for some other run or for the classic shared key, and not
 * for this run's key; then, again, the exact commands for this run's key.
 */
void report_other_key(const struct options *opts, const char *other,
		      const char *value, size_t len);

/* The last log line and the results for an outcome. */
void report_outcome(const struct options *opts, const struct outcome *out,
		    struct results *results);

#endif
