/*
 * One line of a watch stream, as the server sends it: the NUL-escape
 * mask, cJSON, the event's shape and the ConfigMap's data as content for
 * the decision rules. No escaped NUL survives the mask (cJSON would cut a
 * value there), the mask changes nothing else, and a value handed on is
 * bounded and NUL-terminated at its length.
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

static void judge(const char *value)
{
	static struct decision d;
	struct content c;

	configmap_content(value, &c);
	if (c.status != CONTENT_OK)
		return;
	CHECK(c.data[c.len] == '\0' && c.len <= DECISION_FILE_MAX);
	decision_parse(c.data, c.len, &d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *line = malloc(size + 1);
	const cJSON *object, *k;
	const char *type;
	size_t len, changed = 0;
	cJSON *ev;

	memcpy(line, data, size);
	line[size] = '\0';
	configmap_mask_nul(line, size);
	CHECK(!has_nul_escape(line, size));
	for (size_t i = 0; i < size; i++)
		changed += line[i] != (char)data[i];
	CHECK(changed == 0 || has_nul_escape((const char *)data, size));
	ev = cJSON_ParseWithLength(line, size);
	type = configmap_event(ev, &object);
	if (type != NULL) {
		CHECK(cJSON_IsObject(object));
		(void)configmap_status_code(object);
		(void)configmap_resource_version(object);
		judge(configmap_value(object, "status", &len));
		for (k = configmap_next_key(object, NULL); k;
		     k = configmap_next_key(object, k))
			judge(cJSON_IsString(k) ? k->valuestring : NULL);
	}
	(void)configmap_list_item(ev, "approvals");
	cJSON_Delete(ev);
	free(line);
	return 0;
}
