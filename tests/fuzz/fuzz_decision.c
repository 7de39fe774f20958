/*
 * decision_parse: the content of a decision file, as anyone who may patch
 * the ConfigMap writes it. Besides the sanitizers, checks it against an
 * independent reading of the contract: a verdict of approved or refused
 * only for a decision word (trimmed, any case) or a JSON object whose
 * "decision" member is one, read whole (an escaped NUL does not end a
 * JSON string: {"decision": "approved\u0000 - NOT"} is no decision);
 * everything else pending or unknown; the approver and comment bounded,
 * NUL-terminated and copied exactly.
 */
#include "decision.h"

#include "check.h"

#include <cjson/cJSON.h>
#include <stdint.h>
#include <string.h>

static const char *const approve[] = {"approved", "approve", "success"};
static const char *const refuse[] = {"refused", "refuse", "rejected",
				     "reject", "denied"};
static const char *const pending[] = {"",	  "init",     "pending",
				      "notifying", "notified", "waiting"};

static int in_list(const char *w, size_t n, const char *const *list,
		   size_t list_len)
{
	for (size_t i = 0; i < list_len; i++)
		if (strlen(list[i]) == n && memcmp(list[i], w, n) == 0)
			return 1;
	return 0;
}

/* The contract's reading of a word, written independently of decision.c. */
static enum verdict ref_word(const char *s, size_t len)
{
	static char low[DECISION_FILE_MAX + 1];
	const char *ws = " \t\n\r\v\f";
	size_t a = 0, b = len;

	while (a < b && s[a] != '\0' && strchr(ws, s[a]))
		a++;
	while (b > a && s[b - 1] != '\0' && strchr(ws, s[b - 1]))
		b--;
	for (size_t i = a; i < b; i++) {
		char c = s[i];
		if (c == '\0')
			return VERDICT_UNKNOWN;
		low[i - a] = (c >= 'A' && c <= 'Z') ? (char)(c + 32) : c;
	}
	if (in_list(low, b - a, approve, 3))
		return VERDICT_APPROVED;
	if (in_list(low, b - a, refuse, 5))
		return VERDICT_REFUSED;
	if (in_list(low, b - a, pending, 6))
		return VERDICT_PENDING;
	return VERDICT_UNKNOWN;
}

/*
 * A JSON string token at *p (after the opening quote), decoded: ASCII as
 * is, \u0000 as a NUL byte, anything non-ASCII as one 0x80 placeholder
 * (enough to tell a decision word from anything else). Returns the length
 * and leaves *p after the closing quote. Only for text cJSON accepted.
 */
static size_t decode_string(const char **p, char *out, size_t outsz)
{
	const char *s = *p;
	size_t n = 0;

	while (*s != '"') {
		unsigned c = (unsigned char)*s++;
		if (c == '\\') {
			char e = *s++;
			if (e == 'u') {
				c = (unsigned)strtoul((char[]){s[0], s[1], s[2], s[3],
							       '\0'},
						      NULL, 16);
				s += 4;
				if (c >= 0xd800 && c <= 0xdbff && s[0] == '\\' &&
				    s[1] == 'u')
					s += 6; /* the low surrogate */
				if (c >= 0x80)
					c = 0x80;
			} else {
				c = e == 'b' ? '\b' : e == 'f' ? '\f' : e == 'n' ? '\n'
				    : e == 'r' ? '\r' : e == 't' ? '\t' : (unsigned)e;
			}
		} else if (c >= 0x80) {
			c = 0x80;
		}
		if (n < outsz)
			out[n] = (char)c;
		n++;
	}
	*p = s + 1;
	return n < outsz ? n : outsz;
}

/*
 * Between tokens cJSON skips every byte from 1 to 32, not only JSON's four
 * blanks. Such text is malformed to a strict parser, but no word reads
 * differently because of it: follow cJSON here.
 */
static const char *skip_ws(const char *s)
{
	while (*s != '\0' && (unsigned char)*s <= 32)
		s++;
	return s;
}

/* Skips one JSON value (text cJSON accepted). */
static const char *skip_value(const char *s)
{
	int depth = 0;

	do {
		if (*s == '"') {
			for (s++; *s != '"'; s++)
				if (*s == '\\')
					s++;
			s++;
			continue;
		}
		if (*s == '{' || *s == '[')
			depth++;
		else if (*s == '}' || *s == ']')
			depth--;
		else if (depth == 0 && *s == ',')
			break;
		if (depth < 0)
			break;
		s++;
	} while (depth > 0 || (*s != ',' && *s != '}' && *s != ']'));
	return s;
}

/*
 * The verdict of the first member whose whole key is "decision", read
 * from the raw text: unlike a C string, an escaped NUL (\u0000) inside the
 * key or the word does not end it.
 */
static enum verdict ref_json(const char *buf)
{
	static char key[64], word[DECISION_FILE_MAX];
	const char *s = skip_ws(buf) + 1; /* after '{' */

	for (;;) {
		size_t klen, wlen;
		s = skip_ws(s);
		if (*s != '"')
			return VERDICT_UNKNOWN; /* '}': no "decision" */
		s++;
		klen = decode_string(&s, key, sizeof(key));
		s = skip_ws(skip_ws(s) + 1); /* past ':' */
		if (klen == 8 && memcmp(key, "decision", 8) == 0) {
			if (*s != '"')
				return VERDICT_UNKNOWN;
			s++;
			wlen = decode_string(&s, word, sizeof(word));
			return ref_word(word, wlen);
		}
		s = skip_ws(skip_value(s));
		if (*s != ',')
			return VERDICT_UNKNOWN;
		s++;
	}
}

static int is_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
	       (c >= 'A' && c <= 'F');
}

/*
 * Whether the text holds an escape that no strict JSON parser reads as a
 * character of a string: \u0000 (a C string would end there) or a \u not
 * followed by four hex digits (malformed; cJSON reads it as a NUL).
 */
static int has_nul_or_bad_escape(const char *buf, size_t len)
{
	for (size_t i = 0; i + 1 < len; i++) {
		if (buf[i] != '\\')
			continue;
		if (buf[i + 1] == 'u') {
			if (i + 5 >= len || !is_hex(buf[i + 2]) ||
			    !is_hex(buf[i + 3]) || !is_hex(buf[i + 4]) ||
			    !is_hex(buf[i + 5]))
				return 1;
			if (memcmp(buf + i + 2, "0000", 4) == 0)
				return 1;
		}
		i++; /* the escaped character, maybe a backslash */
	}
	return 0;
}

/* Whether the text holds a \u escape without four hex digits. */
static int has_bad_escape(const char *buf, size_t len)
{
	for (size_t i = 0; i + 1 < len; i++) {
		if (buf[i] != '\\')
			continue;
		if (buf[i + 1] == 'u' &&
		    (i + 5 >= len || !is_hex(buf[i + 2]) || !is_hex(buf[i + 3]) ||
		     !is_hex(buf[i + 4]) || !is_hex(buf[i + 5])))
			return 1;
		i++;
	}
	return 0;
}

static int decided(enum verdict v)
{
	return v == VERDICT_APPROVED || v == VERDICT_REFUSED;
}

static void check_field(const char *field, size_t len, const cJSON *item)
{
	CHECK(len <= DECISION_FIELD_MAX);
	CHECK(field[len] == '\0');
	CHECK(strlen(field) == len);
	if (cJSON_IsString(item) && item->valuestring != NULL) {
		size_t want = strlen(item->valuestring);
		if (want > DECISION_FIELD_MAX)
			want = DECISION_FIELD_MAX;
		CHECK(len == want);
		CHECK(memcmp(field, item->valuestring, len) == 0);
	} else {
		CHECK(len == 0);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct decision d;
	size_t i = 0;
	char *buf;

	if (size > DECISION_FILE_MAX)
		return 0;
	/* Exactly size + 1 bytes, so ASan sees any read past the NUL. */
	buf = malloc(size + 1);
	memcpy(buf, data, size);
	buf[size] = '\0';
	memset(&d, 0x5a, sizeof(d));
	decision_parse(buf, size, &d);

	CHECK(d.verdict == VERDICT_PENDING || d.verdict == VERDICT_APPROVED ||
	      d.verdict == VERDICT_REFUSED || d.verdict == VERDICT_UNKNOWN);
	CHECK((d.verdict == VERDICT_UNKNOWN) == (d.problem != NULL));
	CHECK(d.approver_len <= DECISION_FIELD_MAX);
	CHECK(d.comment_len <= DECISION_FIELD_MAX);

	if (memchr(buf, '\0', size) != NULL) {
		/* Binary data is never a decision. */
		CHECK(d.verdict == VERDICT_UNKNOWN);
		CHECK(d.approver_len == 0 && d.comment_len == 0);
		goto out;
	}
	while (i < size && strchr(" \t\n\r\v\f", buf[i]))
		i++;
	if (i == size || buf[i] != '{') {
		/* A word: exactly the contract's lists, nothing else. */
		CHECK(d.verdict == ref_word(buf, size));
		CHECK(d.approver_len == 0 && d.comment_len == 0);
		CHECK(d.approver[0] == '\0' && d.comment[0] == '\0');
		goto out;
	}
	{
		cJSON *root = cJSON_ParseWithLengthOpts(buf, size + 1, NULL, 1);
		const cJSON *word = cJSON_GetObjectItemCaseSensitive(root,
								     "decision");
		int odd = has_nul_or_bad_escape(buf, size);
		/* Strict JSON: a bad \u escape makes the text malformed. */
		enum verdict want = !cJSON_IsObject(root) || has_bad_escape(buf, size)
					    ? VERDICT_UNKNOWN
					    : ref_json(buf);

		/*
		 * Approved or refused exactly when the whole "decision" member is
		 * such a word (pending and unknown may differ: both wait). Taking
		 * no decision from a text with an escaped NUL is fine too.
		 */
		if (decided(d.verdict) || decided(want))
			CHECK(d.verdict == want ||
			      (d.verdict == VERDICT_UNKNOWN &&
			       (odd || strstr(d.problem, "twice"))));
		if (decided(d.verdict) && !odd) {
			check_field(d.approver, d.approver_len,
				    cJSON_GetObjectItemCaseSensitive(root,
								     "approver"));
			check_field(d.comment, d.comment_len,
				    cJSON_GetObjectItemCaseSensitive(root,
								     "comment"));
		}
		if (!cJSON_IsObject(root) || !cJSON_IsString(word))
			CHECK(d.approver_len == 0 && d.comment_len == 0);
		cJSON_Delete(root);
	}
out:
	free(buf);
	return 0;
}
