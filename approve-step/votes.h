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

/* Longest username handled (Kubernetes allows long OIDC subjects). */
#define VOTER_NAME_MAX 253

/* Encodes name; false if the result does not fit in outsz. */
bool voter_name_encode(const char *name, char *out, size_t outsz);

/*
 * Decodes an encoded name; false unless it is exactly the encoding of
 * some name (one spelling per user, no NUL bytes).
 */
bool voter_name_decode(const char *encoded, char *out, size_t outsz);

/* gate_check for vote mode. */
enum verdict votes_check(struct gate *g, struct verdict_detail *detail);

#endif
