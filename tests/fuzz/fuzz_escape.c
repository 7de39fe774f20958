/*
 * escape_value: every byte anyone writes into the ConfigMap reaches the
 * log and the Tekton results through it. For any input, flags and output
 * size (the buffer is allocated to exactly outsz bytes):
 *  - the output is NUL-terminated within outsz;
 *  - it holds no control byte (C0, DEL) and no C1 control, bidirectional
 *    override, line/paragraph separator or BOM, and is valid UTF-8, so a
 *    value can neither forge a log line nor reorder what a reader sees;
 *  - with ESCAPE_QUOTES it holds no bare '"' and reads back to exactly
 *    the input (or, when cut, to a prefix of it, followed by the mark);
 *  - it is cut only when the whole escaped value does not fit.
 * Input: byte 0 flags, bytes 1-2 the output size, the rest the value.
 */
#include "escape.h"

#include "check.h"

#include <stdint.h>
#include <string.h>

#define MARK_LEN (sizeof(ESCAPE_CUT_MARK) - 1)

/* Length of the valid UTF-8 sequence at s, 0 if invalid; *cp its value. */
static size_t utf8(const unsigned char *s, size_t len, uint32_t *cp)
{
	size_t n;

	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2, *cp = s[0] & 0x1f;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3, *cp = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4, *cp = s[0] & 0x07;
	else
		return 0;
	if (n > len)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		*cp = *cp << 6 | (s[i] & 0x3f);
	}
	if ((n == 3 && *cp < 0x800) || (n == 4 && *cp < 0x10000) ||
	    *cp > 0x10ffff || (*cp >= 0xd800 && *cp <= 0xdfff))
		return 0;
	return n;
}

static int unsafe(uint32_t cp)
{
	return cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp <= 0x9f) ||
	       cp == 0xad || cp == 0x061c || cp == 0x180e ||
	       (cp >= 0x200b && cp <= 0x200f) ||
	       (cp >= 0x202a && cp <= 0x202e) ||
	       (cp >= 0x2060 && cp <= 0x2064) ||
	       (cp >= 0x2066 && cp <= 0x2069) || cp == 0x2028 ||
	       cp == 0x2029 || cp == 0xfeff ||
	       (cp >= 0xe0000 && cp <= 0xe007f);
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

static size_t put_utf8(uint32_t cp, unsigned char *o)
{
	if (cp < 0x80) {
		o[0] = (unsigned char)cp;
		return 1;
	}
	if (cp < 0x800) {
		o[0] = (unsigned char)(0xc0 | cp >> 6);
		o[1] = (unsigned char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		o[0] = (unsigned char)(0xe0 | cp >> 12);
		o[1] = (unsigned char)(0x80 | (cp >> 6 & 0x3f));
		o[2] = (unsigned char)(0x80 | (cp & 0x3f));
		return 3;
	}
	o[0] = (unsigned char)(0xf0 | cp >> 18);
	o[1] = (unsigned char)(0x80 | (cp >> 12 & 0x3f));
	o[2] = (unsigned char)(0x80 | (cp >> 6 & 0x3f));
	o[3] = (unsigned char)(0x80 | (cp & 0x3f));
	return 4;
}

/*
 * Reads an escaped value (ESCAPE_QUOTES) back into bytes; returns the
 * length, or -1 if it is not a well-formed escaped value.
 */
static long unescape(const char *s, size_t len, unsigned char *o)
{
	long n = 0;

	for (size_t i = 0; i < len;) {
		if (s[i] == '"')
			return -1; /* would end the quoted value early */
		if (s[i] != '\\') {
			o[n++] = (unsigned char)s[i++];
			continue;
		}
		if (i + 1 >= len)
			return -1;
		switch (s[i + 1]) {
		case 'n': o[n++] = '\n'; i += 2; break;
		case 'r': o[n++] = '\r'; i += 2; break;
		case 't': o[n++] = '\t'; i += 2; break;
		case '"': o[n++] = '"'; i += 2; break;
		case '\\': o[n++] = '\\'; i += 2; break;
		case 'x':
			if (i + 3 >= len || hexval(s[i + 2]) < 0 ||
			    hexval(s[i + 3]) < 0)
				return -1;
			o[n++] = (unsigned char)(hexval(s[i + 2]) * 16 +
						 hexval(s[i + 3]));
			i += 4;
			break;
		case 'u': {
			uint32_t cp = 0;
			size_t j = i + 2, digits = 0;
			if (j >= len || s[j] != '{')
				return -1;
			for (j++; j < len && hexval(s[j]) >= 0 && digits < 6;
			     j++, digits++)
				cp = cp * 16 + (uint32_t)hexval(s[j]);
			if (j >= len || s[j] != '}' || digits < 4)
				return -1;
			n += (long)put_utf8(cp, o + n);
			i = j + 1;
			break;
		}
		default:
			return -1;
		}
	}
	return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned flags;
	size_t outsz, len, n, full_len;
	const char *in;
	char *out, *full;
	bool cut, full_cut;

	if (size < 3 || size > 65536)
		return 0;
	flags = data[0] & 1 ? ESCAPE_QUOTES : 0;
	/* Above the mark, as escape.h requires; up to the largest in use. */
	outsz = MARK_LEN + 1 + ((size_t)data[1] | (size_t)data[2] << 8) % 2100;
	in = (const char *)data + 3;
	len = size - 3;

	out = malloc(outsz);
	cut = escape_value(out, outsz, in, len, flags);
	CHECK(memchr(out, '\0', outsz) != NULL);
	n = strlen(out);
	CHECK(n < outsz);

	/* Printable, valid UTF-8, nothing a terminal acts on. */
	for (size_t i = 0; i < n;) {
		uint32_t cp;
		size_t k = utf8((const unsigned char *)out + i, n - i, &cp);
		CHECK(k > 0);
		CHECK(!unsafe(cp));
		i += k;
	}

	/* Cut only when needed; the whole value escaped, for comparison. */
	full = malloc(16 * len + MARK_LEN + 2);
	full_cut = escape_value(full, 16 * len + MARK_LEN + 2, in, len, flags);
	CHECK(!full_cut);
	full_len = strlen(full);
	CHECK(cut == (full_len > outsz - 1));
	if (!cut) {
		CHECK(n == full_len && memcmp(out, full, n) == 0);
	} else {
		CHECK(n >= MARK_LEN &&
		      memcmp(out + n - MARK_LEN, ESCAPE_CUT_MARK, MARK_LEN) == 0);
		/* What is kept is a prefix of the whole escaped value. */
		CHECK(memcmp(out, full, n - MARK_LEN) == 0);
	}

	/* Quoted values read back to exactly the input: nothing hidden. */
	if (flags & ESCAPE_QUOTES) {
		unsigned char *back = malloc(full_len + 1);
		long b = unescape(full, full_len, back);
		CHECK(b == (long)len && memcmp(back, in, len) == 0);
		free(back);
	}
	free(full);
	free(out);
	return 0;
}
