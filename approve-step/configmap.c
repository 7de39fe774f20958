#include "configmap.h"

#include "decision.h"

#include <stdlib.h>
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

const char *configmap_meta(const cJSON *object, const char *field)
{
	return string_member(member(object, "metadata"), field);
}

const char *configmap_label(const cJSON *object, const char *label)
{
	return string_member(member(member(object, "metadata"), "labels"),
			     label);
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

void configmap_content(const struct configmap *cm, const char *key,
		       struct content *c, char **owned)
{
	size_t len, len2;
	const char *value = configmap_value(cm->object, key, &len);
	const char *other = configmap_value(cm->shadow, key, &len2);
	char *exact;

	*owned = NULL;
	*c = (struct content){.status = CONTENT_MISSING};
	if (value == NULL)
		return;
	/* The same bound as a file: a ConfigMap holds at most 1 MiB. */
	if (len > DECISION_FILE_MAX) {
		c->status = CONTENT_TOO_BIG;
		return;
	}
	c->status = CONTENT_OK;
	c->data = value;
	c->len = len;
	if (other == NULL || len2 != len || memcmp(value, other, len) == 0 ||
	    (exact = malloc(len + 1)) == NULL)
		return;
	/* \u0000 read as 1 in one reading and as 2 in the other: a NUL. */
	for (size_t i = 0; i <= len; i++)
		exact[i] = value[i] == 1 && other[i] == 2 ? '\0' : value[i];
	c->data = *owned = exact;
}

const cJSON *configmap_next_key(const cJSON *object, const cJSON *prev)
{
	const cJSON *data = member(object, "data");

	if (!cJSON_IsObject(data))
		return NULL;
	return prev ? prev->next : data->child;
}

size_t configmap_mask_nul(char *json, size_t len, char digit)
{
	size_t n = 0;

	for (size_t i = 0; i + 1 < len; i++) {
		if (json[i] != '\\')
			continue;
		if (json[i + 1] == 'u' && i + 6 <= len &&
		    memcmp(json + i + 2, "0000", 4) == 0) {
			json[i + 5] = digit;
			n++;
		}
		i++; /* the escaped character is never a backslash to look at */
	}
	return n;
}

bool configmap_parse(struct configmap_json *j, char *text, size_t len)
{
	char *copy;

	*j = (struct configmap_json){0};
	if (memchr(text, '\0', len) != NULL)
		return false;
	if (configmap_mask_nul(text, len, '0') > 0) {
		copy = malloc(len);
		if (copy == NULL)
			return false;
		memcpy(copy, text, len);
		configmap_mask_nul(copy, len, '2');
		j->shadow = cJSON_ParseWithLength(copy, len);
		free(copy);
		if (j->shadow == NULL)
			return false;
	}
	configmap_mask_nul(text, len, '1');
	j->root = cJSON_ParseWithLength(text, len);
	if (j->root == NULL) {
		configmap_free(j);
		return false;
	}
	return true;
}

void configmap_free(struct configmap_json *j)
{
	cJSON_Delete(j->root);
	cJSON_Delete(j->shadow);
	*j = (struct configmap_json){0};
}
