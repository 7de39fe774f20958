/*
 * decision_parse: the content of a decision file, as anyone who may patch
 * the ConfigMap writes it. Besides the sanitizers, checks it against an
 * independent reading of the contract: a verdict of approved or refused
 * only for a decision word (trimmed, any case) or a JSON object whose
 * "decision" is one; everything else pending or unknown; the approver
 * and comment bounded, NUL-terminated and copied exactly.
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
		enum verdict want = VERDICT_UNKNOWN;

		if (cJSON_IsObject(root) && cJSON_IsString(word) &&
		    word->valuestring != NULL)
			want = ref_word(word->valuestring,
					strlen(word->valuestring));
		CHECK(d.verdict == want);
		if (cJSON_IsObject(root) && cJSON_IsString(word) &&
		    word->valuestring != NULL) {
			check_field(d.approver, d.approver_len,
				    cJSON_GetObjectItemCaseSensitive(root,
								     "approver"));
			check_field(d.comment, d.comment_len,
				    cJSON_GetObjectItemCaseSensitive(root,
								     "comment"));
		} else {
			CHECK(d.approver_len == 0 && d.comment_len == 0);
		}
		cJSON_Delete(root);
	}
out:
	free(buf);
	return 0;
}
