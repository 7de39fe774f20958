/*
 * duration_parse (--timeout, --poll-interval): checked against a second,
 * independent reading of the grammar
 *     digits | (term ("ms" | "h" | "m" | "s"))+
 *     term = digits ["." [digits]] | "." digits        (Go's time.ParseDuration)
 * with exact 128-bit arithmetic, so every accepted value is the right one
 * (a term's fraction counts to its first 9 digits, the value is truncated
 * to the millisecond),
 * never negative and never above DURATION_MAX_MS, and everything outside
 * the grammar is refused. duration_format of every accepted value must fit
 * the 32-byte buffers the log uses, and whole seconds must read back.
 */
#include "duration.h"

#include "check.h"

#include <stdint.h>
#include <string.h>

typedef __int128 i128;

static int is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* Reads digits at *p into *n (saturating far above any limit). */
static int digits(const char **p, i128 *n)
{
	const char *s = *p;

	*n = 0;
	if (!is_digit(*s))
		return 0;
	for (; is_digit(*s); s++) {
		*n = *n * 10 + (*s - '0');
		if (*n > (i128)1 << 100)
			*n = (i128)1 << 100;
	}
	*p = s;
	return 1;
}

static int ref_parse(const char *s, int64_t *ms)
{
	const i128 max = DURATION_MAX_MS;
	const char *p = s;
	i128 n, total = 0;

	if (digits(&p, &n) && *p == '\0') {
		if (n * 1000 > max)
			return 0;
		*ms = (int64_t)(n * 1000);
		return 1;
	}
	p = s;
	if (*p == '\0')
		return 0;
	while (*p != '\0') {
		i128 unit, frac = 0, scale = 1;
		int whole = digits(&p, &n);
		if (!whole)
			n = 0;
		if (*p == '.') {
			p++;
			if (!whole && !is_digit(*p))
				return 0;
			for (; is_digit(*p); p++) {
				if (scale < 1000000000) {
					frac = frac * 10 + (*p - '0');
					scale *= 10;
				}
			}
		} else if (!whole) {
			return 0;
		}
		if (n > max)
			return 0;
		if (p[0] == 'm' && p[1] == 's') {
			unit = 1;
			p += 2;
		} else if (*p == 'h') {
			unit = 3600000;
			p++;
		} else if (*p == 'm') {
			unit = 60000;
			p++;
		} else if (*p == 's') {
			unit = 1000;
			p++;
		} else {
			return 0;
		}
		total += (n * scale + frac) * unit / scale;
		if (total > max)
			return 0;
	}
	*ms = (int64_t)total;
	return 1;
}

static void check_format(int64_t ms)
{
	char *out = malloc(32); /* the size report.c and options.c use */
	int64_t back = -1;

	duration_format(out, 32, ms);
	CHECK(memchr(out, '\0', 32) != NULL);
	CHECK(strlen(out) > 0);
	if (ms % 1000 == 0) {
		CHECK(duration_parse(out, &back));
		CHECK(back == ms);
	}
	free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	int64_t got = -1, want = -1;
	int ok, ref_ok;

	memcpy(s, data, size);
	s[size] = '\0';
	ok = duration_parse(s, &got);
	ref_ok = ref_parse(s, &want);
	CHECK(ok == ref_ok);
	if (ok) {
		CHECK(got == want);
		CHECK(got >= 0 && got <= DURATION_MAX_MS);
		check_format(got);
	}
	/* Any value the program may format: waited time, limits. */
	if (size >= 8) {
		uint64_t raw;
		memcpy(&raw, data, 8);
		check_format((int64_t)(raw % ((uint64_t)DURATION_MAX_MS + 1)));
	}
	free(s);
	return 0;
}
