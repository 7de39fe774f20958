/*
 * A voter's username as the suffix of a vote key KEY.USER: bytes outside
 * [-.a-zA-Z0-9] as _xx (lower-case hex), exactly one spelling per name,
 * so that an admission policy can hold every user to their own key.
 */
#ifndef APPROVE_STEP_VOTER_H
#define APPROVE_STEP_VOTER_H

#include <stdbool.h>
#include <stddef.h>

/* Longest username handled (Kubernetes allows long OIDC subjects). */
#define VOTER_NAME_MAX 253

/*
 * Encodes name; false if the result does not fit in outsz (out then
 * holds the encoding of the longest prefix that fits).
 */
bool voter_name_encode(const char *name, char *out, size_t outsz);

/*
 * Decodes an encoded name; false unless it is exactly the encoding of
 * some name (one spelling per user, no NUL bytes).
 */
bool voter_name_decode(const char *encoded, char *out, size_t outsz);

#endif
