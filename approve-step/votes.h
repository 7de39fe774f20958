/*
 * Several approvers: each votes in a file KEY.USER of its own, USER being
 * the username encoded for a ConfigMap key (bytes outside [-.a-zA-Z0-9]
 * as _xx), so that an admission policy can hold every user to their own
 * file.
 */
#ifndef APPROVE_STEP_VOTES_H
#define APPROVE_STEP_VOTES_H

#include "gate.h"

#include <stdbool.h>
#include <stddef.h>

/* gate_check for vote mode. */
enum verdict votes_check(struct gate *g, struct verdict_detail *detail);

#endif
