/* The clock every deadline and wait is measured on. */
#ifndef APPROVE_STEP_MONOTONIC_H
#define APPROVE_STEP_MONOTONIC_H

#include <stdint.h>

/* Monotonic milliseconds: wall-clock jumps must not move the deadline. */
int64_t monotonic_ms(void);

#endif
