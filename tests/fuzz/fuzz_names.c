/*
 * Names from outside: file names in the watched directory (vote files
 * KEY.NAME, decoded by voter_name_decode), --key (options_valid_key) and user
 * names (voter_name_encode). Checks, besides the sanitizers:
 *  - options_valid_key accepts exactly [-._a-zA-Z0-9]{1,253}, not "." nor "..*";
 *  - decoding accepts exactly the encodings (one spelling per user, so
 *    nobody can vote twice under two spellings), and decode(x) encodes
 *    back to x;
 *  - encode(name) decodes back to name and is a valid key suffix;
 *  - no write past outsz (buffers are allocated to the exact size).
 * The first input byte picks the buffer size, the rest is the name.
 */
#include "options.h"
#include "voter.h"

#include "check.h"

#include <stdint.h>
#include <string.h>

static int plain(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '-' || c == '.';
}

static int ref_valid_key(const char *s)
{
	size_t n = strlen(s);

	if (n < 1 || n > 253 || strcmp(s, ".") == 0 ||
	    strncmp(s, "..", 2) == 0)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!plain((unsigned char)s[i]) && s[i] != '_')
			return 0;
	return 1;
}

static int hex(char c)
{
	static const char digits[] = "0123456789abcdef";
	const char *p = c ? strchr(digits, c) : NULL;
	return p ? (int)(p - digits) : -1;
}

/* Decoded length, or -1 if s is not exactly the encoding of a name. */
static long ref_decode(const char *s, char *out)
{
	long n = 0;

	if (*s == '\0')
		return -1;
	while (*s) {
		if (plain((unsigned char)*s)) {
			out[n++] = *s++;
		} else if (*s == '_' && hex(s[1]) >= 0 && hex(s[2]) >= 0) {
			unsigned char c = (unsigned char)(hex(s[1]) * 16 + hex(s[2]));
			if (c == 0 || plain(c))
				return -1;
			out[n++] = (char)c;
			s += 3;
		} else {
			return -1;
		}
	}
	out[n] = '\0';
	return n;
}

static size_t encoded_len(const char *name)
{
	size_t n = 0;
	for (; *name; name++)
		n += plain((unsigned char)*name) ? 1 : 3;
	return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t outsz;
	char *s, *out, *ref, *big;
	long ref_len;
	bool ok;

	if (size < 1 || size > 4096)
		return 0;
	/* Mostly the size tally.c uses; sometimes a small or odd one. */
	outsz = data[0] < 128 ? VOTER_NAME_MAX + 1 : (size_t)data[0] - 127;
	s = malloc(size);
	memcpy(s, data + 1, size - 1);
	s[size - 1] = '\0';

	CHECK(options_valid_key(s) == ref_valid_key(s));

	/* Decode: exactly the encodings, bounded by outsz. */
	out = malloc(outsz);
	ref = malloc(size + 1);
	big = malloc(3 * size + 1);
	ok = voter_name_decode(s, out, outsz);
	ref_len = ref_decode(s, ref);
	CHECK(ok == (ref_len >= 0 && (size_t)ref_len + 1 <= outsz));
	if (ok) {
		CHECK(strlen(out) == (size_t)ref_len);
		CHECK(memcmp(out, ref, (size_t)ref_len + 1) == 0);
		CHECK(voter_name_encode(out, big, 3 * size + 1));
		CHECK(strcmp(big, s) == 0); /* one spelling per name */
	}
	free(out);

	/* Encode: any name round-trips through a file name. */
	out = malloc(outsz);
	ok = voter_name_encode(s, out, outsz);
	if (encoded_len(s) + 1 > outsz)
		CHECK(!ok);
	if (encoded_len(s) + 4 <= outsz)
		CHECK(ok); /* encode asks for room for one escape at a time */
	if (ok) {
		CHECK(strlen(out) == encoded_len(s));
		for (const char *p = out; *p; p++)
			CHECK(plain((unsigned char)*p) || *p == '_');
		if (*s != '\0') {
			CHECK(voter_name_decode(out, big, 3 * size + 1));
			CHECK(strcmp(big, s) == 0);
		}
		/* "status." + the encoded name is a ConfigMap key. */
		if (strlen(out) + 7 <= 253) {
			char key[256];
			snprintf(key, sizeof(key), "status.%s", out);
			CHECK(options_valid_key(key));
		}
	}
	free(out);
	free(ref);
	free(big);
	free(s);
	return 0;
}
