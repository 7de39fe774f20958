#include "duration.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool is_digits(const char *s)
{
	if (*s == '\0')
		return false;
	for (; *s != '\0'; s++)
		if (*s < '0' || *s > '9')
			return false;
	return true;
}

/* One "<digits><unit>" term of a duration; advances *s past it. */
static bool parse_term(const char **s, int64_t *ms)
{
	static const struct {
		const char *name;
		int64_t ms;
	} units[] = {{"ms", 1}, {"h", 3600000}, {"m", 60000}, {"s", 1000}};
	const char *p = *s;
	char *end;
	long long n;

	if (*p < '0' || *p > '9')
		return false;
	errno = 0;
	n = strtoll(p, &end, 10);
	if (errno == ERANGE)
		return false;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		size_t len = strlen(units[i].name);
		if (strncmp(end, units[i].name, len) != 0)
			continue;
		if (n > DURATION_MAX_MS / units[i].ms)
			return false;
		*ms = n * units[i].ms;
		*s = end + len;
		return true;
	}
	return false;
}

bool duration_parse(const char *s, int64_t *ms)
{
	char *end;
	long long n;
	int64_t total = 0;

	if (is_digits(s)) {
		errno = 0;
		n = strtoll(s, &end, 10);
		if (errno == ERANGE || *end != '\0' || n > DURATION_MAX_MS / 1000)
			return false;
		*ms = n * 1000;
		return true;
	}
	if (*s == '\0')
		return false;
	while (*s != '\0') {
		int64_t term;
		if (!parse_term(&s, &term) || term > DURATION_MAX_MS - total)
			return false;
		total += term;
	}
	*ms = total;
	return true;
}

void duration_format(char *out, size_t outsz, int64_t ms)
{
	int64_t h = ms / 3600000, m = ms / 60000 % 60, s = ms / 1000 % 60;
	int64_t frac = ms % 1000;
	int n = 0;

	out[0] = '\0';
	if (h > 0)
		n += snprintf(out + n, outsz - (size_t)n, "%lldh", (long long)h);
	if (m > 0 && (size_t)n < outsz)
		n += snprintf(out + n, outsz - (size_t)n, "%lldm", (long long)m);
	if ((s > 0 || frac > 0 || n == 0) && (size_t)n < outsz) {
		if (frac > 0)
			snprintf(out + n, outsz - (size_t)n, "%lld.%03llds",
				 (long long)s, (long long)frac);
		else
			snprintf(out + n, outsz - (size_t)n, "%llds",
				 (long long)s);
	}
}
