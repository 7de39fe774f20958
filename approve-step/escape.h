/* Make untrusted bytes safe to show in a log line or a Tekton result. */
#ifndef APPROVE_STEP_ESCAPE_H
#define APPROVE_STEP_ESCAPE_H

#include <stdbool.h>
#include <stddef.h>

/* Appended when a value did not fit, so a cut is never silent. */
#define ESCAPE_CUT_MARK "...[truncated]"

enum escape_flags {
	/* Also escape '"' and '\\', for values shown inside quotes in logs. */
	ESCAPE_QUOTES = 1 << 0,
};

/*
 * Writes `in` (len bytes, any content) to `out` as one line of printable
 * text: control characters, invalid UTF-8, C1 controls and the Unicode
 * characters that reorder or break lines are written as \n, \xNN or
 * \u{XXXX}. At most outsz - 1 bytes plus a NUL; a value that does not fit
 * is cut on a character boundary and ends in ESCAPE_CUT_MARK.
 * Returns true when the value was cut. outsz must exceed the mark.
 */
bool escape_value(char *out, size_t outsz, const char *in, size_t len,
		  unsigned flags);

/*
 * The one truncation helper for text built from parts: appends n raw
 * bytes of s to buf, which holds *len bytes and has room for cap bytes and
 * a NUL. What does not fit is cut, and ESCAPE_CUT_MARK then ends the
 * buffer exactly at cap (once, however many parts follow). Returns false
 * when a cut was made. cap must exceed the mark. Nothing is escaped: the
 * result is escaped when it is shown.
 */
bool escape_append(char *buf, size_t cap, size_t *len, const char *s,
		   size_t n);

/*
 * The bytes Go's json.Marshal writes for the character at s (len > 0),
 * quotes excluded: '<', '>' and '&' as \u003c (6), '"' and '\\' as two,
 * \n \r \t as two, other control bytes as \u00XX (6; Go 1.22 writes \b
 * and \f in two, so this is an upper bound), U+2028 and U+2029 as six,
 * each invalid UTF-8 byte as \ufffd (6). *used: the bytes of s it covers.
 * Tekton's entrypoint writes results this way into the termination message.
 */
size_t escape_json_char(const char *s, size_t len, size_t *used);

/* The value of a hexadecimal digit (0-9, a-f, A-F), or -1. */
int escape_hex_digit(char c);

#endif
