#include "escape.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* Length of the valid UTF-8 sequence at s (1-4), or 0 if invalid. */
static size_t utf8_decode(const unsigned char *s, size_t len, uint32_t *cp)
{
	size_t n;
	uint32_t min;

	if (s[0] < 0xc2 || s[0] > 0xf4)
		return 0;
	if (s[0] < 0xe0) {
		n = 2;
		min = 0x80;
		*cp = s[0] & 0x1f;
	} else if (s[0] < 0xf0) {
		n = 3;
		min = 0x800;
		*cp = s[0] & 0x0f;
	} else {
		n = 4;
		min = 0x10000;
		*cp = s[0] & 0x07;
	}
	if (n > len)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		*cp = (*cp << 6) | (s[i] & 0x3f);
	}
	if (*cp < min || *cp > 0x10ffff || (*cp >= 0xd800 && *cp <= 0xdfff))
		return 0;
	return n;
}

/*
 * Code points a terminal or log viewer may act on, or that hide: C1
 * controls (some terminals treat U+009B as CSI), bidirectional overrides
 * that make text read differently than it is stored, line and paragraph
 * separators, the byte order mark, and the invisible format characters
 * (soft hyphen, zero-width space and joiners, word joiner and invisible
 * operators, the Mongolian vowel separator, tags), with which two names
 * that differ look the same. U+061C (Arabic letter mark) is a bidi
 * control too.
 */
static bool is_unsafe_codepoint(uint32_t cp)
{
	return (cp >= 0x80 && cp <= 0x9f) || cp == 0xad || cp == 0x061c ||
	       cp == 0x180e || (cp >= 0x200b && cp <= 0x200f) ||
	       (cp >= 0x202a && cp <= 0x202e) ||
	       (cp >= 0x2060 && cp <= 0x2064) ||
	       (cp >= 0x2066 && cp <= 0x2069) || cp == 0x2028 ||
	       cp == 0x2029 || cp == 0xfeff ||
	       (cp >= 0xe0000 && cp <= 0xe007f);
}

/* The escaped form of the character at in[0], in piece; returns bytes used. */
static size_t escape_one(const unsigned char *in, size_t len, unsigned flags,
			 char piece[16], size_t *piece_len)
{
	uint32_t cp;
	unsigned char c = in[0];
	size_t used;

	if (c >= 0x80) {
		used = utf8_decode(in, len, &cp);
		if (used == 0) {
			*piece_len = (size_t)snprintf(piece, 16, "\\x%02x", c);
			return 1;
		}
		if (is_unsafe_codepoint(cp)) {
			*piece_len = (size_t)snprintf(piece, 16, "\\u{%04x}",
						      (unsigned)cp);
		} else {
			memcpy(piece, in, used);
			*piece_len = used;
		}
		return used;
	}
	if (c == '\n' || c == '\r' || c == '\t') {
		piece[0] = '\\';
		piece[1] = c == '\n' ? 'n' : c == '\r' ? 'r' : 't';
		*piece_len = 2;
	} else if (c < 0x20 || c == 0x7f) {
		*piece_len = (size_t)snprintf(piece, 16, "\\x%02x", c);
	} else if ((flags & ESCAPE_QUOTES) && (c == '"' || c == '\\')) {
		piece[0] = '\\';
		piece[1] = (char)c;
		*piece_len = 2;
	} else {
		piece[0] = (char)c;
		*piece_len = 1;
	}
	return 1;
}

bool escape_value(char *out, size_t outsz, const char *in, size_t len,
		  unsigned flags)
{
	const unsigned char *s = (const unsigned char *)in;
	const size_t mark = sizeof(ESCAPE_CUT_MARK) - 1;
	size_t o = 0, i = 0, fits = 0;

	/* Copy what fits; remember the last cut that leaves room for the mark. */
	while (i < len) {
		char piece[16];
		size_t piece_len;
		size_t used = escape_one(s + i, len - i, flags, piece, &piece_len);

		if (o + piece_len > outsz - 1)
			break;
		memcpy(out + o, piece, piece_len);
		o += piece_len;
		i += used;
		if (o + mark <= outsz - 1)
			fits = o;
	}
	if (i == len) {
		out[o] = '\0';
		return false;
	}
	memcpy(out + fits, ESCAPE_CUT_MARK, mark + 1);
	return true;
}

bool escape_append(char *buf, size_t cap, size_t *len, const char *s, size_t n)
{
	const size_t mark = sizeof(ESCAPE_CUT_MARK) - 1;

	if (*len + n <= cap) {
		memcpy(buf + *len, s, n);
		*len += n;
		buf[*len] = '\0';
		return true;
	}
	if (*len < cap - mark)
		memcpy(buf + *len, s, cap - mark - *len);
	memcpy(buf + cap - mark, ESCAPE_CUT_MARK, mark + 1);
	*len = cap;
	return false;
}

size_t escape_json_char(const char *s, size_t len, size_t *used)
{
	const unsigned char *u = (const unsigned char *)s;
	uint32_t cp;

	*used = 1;
	if (u[0] >= 0x80) {
		*used = utf8_decode(u, len, &cp);
		if (*used == 0) {
			*used = 1;
			return 6; /* \ufffd */
		}
		return cp == 0x2028 || cp == 0x2029 ? 6 : *used;
	}
	switch (u[0]) {
	case '<':
	case '>':
	case '&':
		return 6;
	case '"':
	case '\\':
	case '\n':
	case '\r':
	case '\t':
		return 2;
	}
	return u[0] < 0x20 ? 6 : 1;
}

int escape_hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}
