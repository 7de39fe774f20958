/* Shared by the fuzz harnesses: an invariant that must hold for any input. */
#ifndef APPROVE_STEP_FUZZ_CHECK_H
#define APPROVE_STEP_FUZZ_CHECK_H

#include <stdio.h>
#include <stdlib.h>

/* abort() is what libFuzzer reports as a crash, with the input saved. */
#define CHECK(cond)                                                          \
	do {                                                                 \
		if (!(cond)) {                                               \
			fprintf(stderr, "invariant failed: %s (%s:%d)\n",    \
				#cond, __FILE__, __LINE__);                  \
			abort();                                             \
		}                                                            \
	} while (0)

#endif
