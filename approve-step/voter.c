#include "voter.h"

#include "escape.h"

#include <stdio.h>

static bool plain_byte(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '-' || c == '.';
}

bool voter_name_encode(const char *name, char *out, size_t outsz)
{
	size_t o = 0;

	for (const unsigned char *p = (const void *)name; *p != '\0'; p++) {
		size_t need = plain_byte(*p) ? 1 : 3;
		if (o + need + 1 > outsz) {
			if (o < outsz)
				out[o] = '\0';
			return false;
		}
		if (need == 1)
			out[o] = (char)*p;
		else
			snprintf(out + o, 4, "_%02x", *p);
		o += need;
	}
	out[o] = '\0';
	return true;
}

/* A digit of an _xx escape: lower case only, one spelling per name. */
static int hex_digit(char c)
{
	return c >= 'A' && c <= 'F' ? -1 : escape_hex_digit(c);
}

bool voter_name_decode(const char *encoded, char *out, size_t outsz)
{
	size_t o = 0;

	if (*encoded == '\0')
		return false;
	for (const char *p = encoded; *p != '\0'; o++) {
		unsigned char c = (unsigned char)*p;
		if (o + 1 >= outsz)
			return false;
		if (plain_byte(c)) {
			out[o] = (char)c;
			p++;
			continue;
		}
		if (c != '_' || hex_digit(p[1]) < 0 || hex_digit(p[2]) < 0)
			return false;
		c = (unsigned char)(hex_digit(p[1]) * 16 + hex_digit(p[2]));
		/* A byte that needs no escape must not have one. */
		if (c == '\0' || plain_byte(c))
			return false;
		out[o] = (char)c;
		p += 3;
	}
	out[o] = '\0';
	return true;
}
