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

/*
 * The fraction after a term's '.', as Go's time.ParseDuration reads it:
 * digits, none required if the integer part had some. Only the first 9
 * count (a millisecond of an hour is 7 digits; more are truncated, as Go
 * truncates below a nanosecond), so value * unit cannot overflow.
 */
static const char *parse_fraction(const char *p, int64_t *value, int64_t *scale)
{
	*value = 0;
	*scale = 1;
	for (; *p >= '0' && *p <= '9'; p++) {
		if (*scale < 1000000000) {
			*value = *value * 10 + (*p - '0');
			*scale *= 10;
		}
	}
	return p;
}

/*
 * One "<digits>[.<digits>]<unit>" term of a duration (Go's form: "1.5h",
 * ".5s", "1h30m"); advances *s past it. No sign, no space, and no unit
 * below a millisecond: the deadline counts in milliseconds.
 */
static bool parse_term(const char **s, int64_t *ms)
{
	static const struct {
		const char *name;
		int64_t ms;
	} units[] = {{"ms", 1}, {"h", 3600000}, {"m", 60000}, {"s", 1000}};
	const char *p = *s;
	const char *end;
	char *int_end;
	long long n = 0;
	int64_t frac = 0, scale = 1;

	if (!(*p >= '0' && *p <= '9') && !(*p == '.' && p[1] >= '0' && p[1] <= '9'))
		return false;
	end = p;
	if (*p != '.') {
		errno = 0;
		n = strtoll(p, &int_end, 10);
		if (errno == ERANGE)
			return false;
		end = int_end;
	}
	if (*end == '.')
		end = parse_fraction(end + 1, &frac, &scale);
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		size_t len = strlen(units[i].name);
		if (strncmp(end, units[i].name, len) != 0)
			continue;
		if (n > DURATION_MAX_MS / units[i].ms)
			return false;
		*ms = n * units[i].ms;
		if (frac * units[i].ms / scale > DURATION_MAX_MS - *ms)
			return false;
		*ms += frac * units[i].ms / scale;
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
