/* For unit tests that read files: write one, failing the test if it cannot. */
#ifndef APPROVE_STEP_TEST_PUT_FILE_H
#define APPROVE_STEP_TEST_PUT_FILE_H

#include <stdio.h>

/* Needs cmocka.h (assert_non_null) included before. */
static inline void put_file(const char *dir, const char *name,
			    const char *content)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(content, f);
	fclose(f);
}

#endif
