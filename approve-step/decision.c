#include "decision.h"

#include "escape.h"

#include <cjson/cJSON.h>
#include <string.h>

const char decision_approve_words[] = "approved, approve, success";
const char decision_refuse_words[] =
	"refused, refuse, rejected, reject, denied";

static const struct {
	const char *word;
	enum verdict verdict;
} words[] = {
	{"approved", VERDICT_APPROVED}, {"approve", VERDICT_APPROVED},
	{"success", VERDICT_APPROVED},	{"refused", VERDICT_REFUSED},
	{"refuse", VERDICT_REFUSED},	{"rejected", VERDICT_REFUSED},
	{"reject", VERDICT_REFUSED},	{"denied", VERDICT_REFUSED},
	{"", VERDICT_PENDING},		{"init", VERDICT_PENDING},
	{"pending", VERDICT_PENDING},	{"notifying", VERDICT_PENDING},
	{"notified", VERDICT_PENDING},	{"waiting", VERDICT_PENDING},
};

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' ||
	       c == '\f';
}

static char ascii_lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

enum verdict decision_word(const char *word, size_t len)
{
	while (len > 0 && is_space(word[0])) {
		word++;
		len--;
	}
	while (len > 0 && is_space(word[len - 1]))
		len--;
	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
		if (strlen(words[i].word) != len)
			continue;
		size_t j = 0;
		while (j < len && ascii_lower(word[j]) == words[i].word[j])
			j++;
		if (j == len)
			return words[i].verdict;
	}
	return VERDICT_UNKNOWN;
}

/* Copies a JSON string member, if it is one, bounded. */
static void copy_field(const cJSON *obj, const char *name, char *out,
		       size_t *out_len)
{
	const cJSON *item = cJSON_GetObjectItemCaseSensitive(obj, name);
	size_t len;

	*out_len = 0;
	out[0] = '\0';
	if (!cJSON_IsString(item) || item->valuestring == NULL)
		return;
	len = strlen(item->valuestring);
	if (len > DECISION_FIELD_MAX)
		len = DECISION_FIELD_MAX;
	memcpy(out, item->valuestring, len);
	out[len] = '\0';
	*out_len = len;
}

/*
 * cJSON decodes "\u0000", and reads an invalid \u escape as one, into a
 * NUL that silently ends its C string: "approved\u0000 - NOT" would read as
 * "approved". Backslashes only occur in JSON strings, each escaping the
 * next character, so one pass finds every \u escape.
 */
static bool has_nul_escape(const char *buf, size_t len)
{
	for (size_t i = 0; i + 1 < len; i++) {
		int v = 0;
		if (buf[i] != '\\')
			continue;
		if (buf[++i] != 'u')
			continue;
		for (size_t j = 1; j <= 4; j++) {
			int h = i + j < len ? escape_hex_digit(buf[i + j]) : -1;
			if (h < 0)
				return true;
			v = v * 16 + h;
		}
		if (v == 0)
			return true;
	}
	return false;
}

/*
 * JSON allows a member twice; readers disagree on which one wins (cJSON
 * takes the first, Go and CEL the last). A vote that says two things is
 * no decision: one pass counts the members that are read.
 */
static bool names_a_member_twice(const cJSON *root)
{
	static const char *const read[] = {"decision", "approver", "comment"};
	int count[3] = {0, 0, 0};

	for (const cJSON *m = root->child; m; m = m->next)
		for (int i = 0; i < 3; i++)
			if (m->string && strcmp(m->string, read[i]) == 0 &&
			    ++count[i] > 1)
				return true;
	return false;
}

static void parse_json(const char *buf, size_t len, struct decision *d)
{
	/* len + 1: cJSON wants the terminating NUL inside the length. */
	cJSON *root = NULL;
	const cJSON *word;

	if (has_nul_escape(buf, len)) {
		d->problem = "JSON with a \\u0000 or an invalid \\u escape";
		return;
	}
	root = cJSON_ParseWithLengthOpts(buf, len + 1, NULL, 1);
	if (root == NULL) {
		d->problem = "malformed JSON";
		goto out;
	}
	if (!cJSON_IsObject(root)) {
		d->problem = "JSON that is not an object";
		goto out;
	}
	if (names_a_member_twice(root)) {
		d->problem = "JSON naming \"decision\", \"approver\" or "
			     "\"comment\" twice";
		goto out;
	}
	word = cJSON_GetObjectItemCaseSensitive(root, "decision");
	if (!cJSON_IsString(word) || word->valuestring == NULL) {
		d->problem = "JSON without a string \"decision\"";
		goto out;
	}
	d->verdict = decision_word(word->valuestring,
				   strlen(word->valuestring));
	if (d->verdict == VERDICT_UNKNOWN)
		d->problem = "a \"decision\" that is not a decision word";
	copy_field(root, "approver", d->approver, &d->approver_len);
	copy_field(root, "comment", d->comment, &d->comment_len);
out:
	cJSON_Delete(root);
}

void decision_parse(const char *buf, size_t len, struct decision *d)
{
	size_t i = 0;

	d->verdict = VERDICT_UNKNOWN;
	d->problem = NULL;
	d->approver[0] = d->comment[0] = '\0';
	d->approver_len = d->comment_len = 0;

	if (memchr(buf, '\0', len) != NULL) {
		d->problem = "binary data";
		return;
	}
	while (i < len && is_space(buf[i]))
		i++;
	if (i < len && buf[i] == '{') {
		parse_json(buf, len, d);
		return;
	}
	d->verdict = decision_word(buf, len);
	if (d->verdict == VERDICT_UNKNOWN)
		d->problem = "not a decision word";
}
