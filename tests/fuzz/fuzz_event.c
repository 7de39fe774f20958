/*
 * One line of a watch stream, as the server sends it: the NUL-escape
 * mask, the two readings with cJSON, the event's shape and the
 * ConfigMap's data as content for the decision rules. No escaped NUL
 * survives the mask (cJSON would cut a value there), the mask changes only
 * those escapes, a text with a raw NUL is refused, and a value handed on
 * is bounded and NUL-terminated at its length.
 */
#include "configmap.h"
#include "decision.h"

#include "check.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* True if text still holds a \u0000 escape (not an escaped backslash). */
static bool has_nul_escape(const char *s, size_t len)
{
	for (size_t i = 0; i + 1 < len; i++) {
		if (s[i] != '\\')
			continue;
		if (s[i + 1] == 'u' && i + 6 <= len &&
		    memcmp(s + i + 2, "0000", 4) == 0)
			return true;
		i++;
	}
	return false;
}

static void judge(const struct configmap *cm, const char *key)
{
	static struct decision d;
	struct content c;
	char *owned;

	configmap_content(cm, key, &c, &owned);
	if (c.status == CONTENT_OK) {
		CHECK(c.data[c.len] == '\0' && c.len <= DECISION_FILE_MAX);
		decision_parse(c.data, c.len, &d);
	}
	free(owned);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *line = malloc(size + 1), *copy = malloc(size + 1);
	struct configmap_json j;
	struct configmap cm = {0};
	const cJSON *k;
	size_t changed = 0, nuls;

	memcpy(line, data, size);
	memcpy(copy, data, size);
	/* The mask: only \u0000 escapes change, each in its last digit. */
	nuls = configmap_mask_nul(copy, size, '1');
	CHECK(!has_nul_escape(copy, size));
	for (size_t i = 0; i < size; i++)
		changed += copy[i] != (char)data[i];
	CHECK(changed == nuls);
	if (configmap_parse(&j, line, size)) {
		CHECK(memchr(data, '\0', size) == NULL);
		CHECK(nuls == 0 || j.shadow != NULL);
		if (configmap_event(j.root, &cm.object) != NULL) {
			configmap_event(j.shadow, &cm.shadow);
			CHECK(cJSON_IsObject(cm.object));
			(void)configmap_status_code(cm.object);
			(void)configmap_resource_version(cm.object);
			judge(&cm, "status");
			for (k = configmap_next_key(cm.object, NULL); k;
			     k = configmap_next_key(cm.object, k))
				if (k->string)
					judge(&cm, k->string);
		}
		(void)configmap_list_item(j.root, "approvals");
		configmap_free(&j);
	}
	free(line);
	free(copy);
	return 0;
}
