/* Durations as people type and read them: "90s", "1h30m", "500ms", "86400". */
#ifndef APPROVE_STEP_DURATION_H
#define APPROVE_STEP_DURATION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Longest accepted duration: 100 years is "forever" for any pipeline. */
#define DURATION_MAX_MS ((int64_t)100 * 365 * 24 * 3600 * 1000)

/*
 * Seconds ("86400") or a Go-style duration ("90s", "1h30m", "500ms").
 * Returns false on anything else, including negative and empty values,
 * and leaves *ms alone then.
 */
bool duration_parse(const char *s, int64_t *ms);

/* Formats ms for people: "1h30m", "45s", "2.500s" (whole seconds read back). */
void duration_format(char *out, size_t outsz, int64_t ms);

#endif
