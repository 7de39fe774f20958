#include "configmap.h"

#include "decision.h"

#include <string.h>

static const cJSON *member(const cJSON *object, const char *name)
{
	return cJSON_IsObject(object)
		       ? cJSON_GetObjectItemCaseSensitive(object, name)
		       : NULL;
}

static const char *string_member(const cJSON *object, const char *name)
{
	const cJSON *v = member(object, name);

	return cJSON_IsString(v) && v->valuestring ? v->valuestring : NULL;
}

const char *configmap_resource_version(const cJSON *object)
{
	return string_member(member(object, "metadata"), "resourceVersion");
}

bool configmap_is_list(const cJSON *list)
{
	return cJSON_IsArray(member(list, "items"));
}

bool configmap_is_named(const cJSON *object, const char *name)
{
	const char *n = string_member(member(object, "metadata"), "name");

	return n != NULL && strcmp(n, name) == 0;
}

const cJSON *configmap_list_item(const cJSON *list, const char *name)
{
	const cJSON *item;

	cJSON_ArrayForEach(item, member(list, "items"))
		if (configmap_is_named(item, name))
			return item;
	return NULL;
}

const char *configmap_event(const cJSON *event, const cJSON **object)
{
	const char *type = string_member(event, "type");

	*object = member(event, "object");
	return type != NULL && cJSON_IsObject(*object) ? type : NULL;
}

int configmap_status_code(const cJSON *status)
{
	const cJSON *code = member(status, "code");

	return cJSON_IsNumber(code) && code->valuedouble >= 0 &&
			       code->valuedouble < 1000
		       ? (int)code->valuedouble
		       : 0;
}

const char *configmap_value(const cJSON *object, const char *key,
			    size_t *len)
{
	const char *v = string_member(member(object, "data"), key);

	*len = v ? strlen(v) : 0;
	return v;
}

void configmap_content(const char *value, struct content *c)
{
	size_t len = value ? strlen(value) : 0;

	*c = (struct content){.status = CONTENT_MISSING};
	if (value == NULL)
		return;
	/* The same bound as a file: a ConfigMap holds at most 1 MiB. */
	c->status = len > DECISION_FILE_MAX ? CONTENT_TOO_BIG : CONTENT_OK;
	c->data = value;
	c->len = len;
}

const cJSON *configmap_next_key(const cJSON *object, const cJSON *prev)
{
	const cJSON *data = member(object, "data");

	if (!cJSON_IsObject(data))
		return NULL;
	return prev ? prev->next : data->child;
}

void configmap_mask_nul(char *json, size_t len)
{
	for (size_t i = 0; i + 1 < len; i++) {
		if (json[i] != '\\')
			continue;
		if (json[i + 1] == 'u' && i + 6 <= len &&
		    memcmp(json + i + 2, "0000", 4) == 0)
			json[i + 5] = '1';
		i++; /* the escaped character is never a backslash to look at */
	}
}
