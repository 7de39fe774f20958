/*
 * Reading the API's JSON: a ConfigMapList, a watch event, a ConfigMap's
 * data. Only shapes are checked here; what a value means is decision.c's.
 */
#ifndef APPROVE_STEP_CONFIGMAP_H
#define APPROVE_STEP_CONFIGMAP_H

#include "content.h"

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>

/* metadata.resourceVersion of an object or a list, or NULL. */
const char *configmap_resource_version(const cJSON *object);

/* True when list has an "items" array. */
bool configmap_is_list(const cJSON *list);

/* The item of the list named name, or NULL. */
const cJSON *configmap_list_item(const cJSON *list, const char *name);

/* True when object's metadata.name is name. */
bool configmap_is_named(const cJSON *object, const char *name);

/*
 * A watch event's type, with *object its object; NULL when the event is
 * not {"type": string, "object": {...}}.
 */
const char *configmap_event(const cJSON *event, const cJSON **object);

/* A Status object's code (410 Gone), or 0. */
int configmap_status_code(const cJSON *status);

/*
 * data[key] as a string, or NULL (absent, or not a string); *len its
 * length. A NULL object (none exists) has no keys.
 */
const char *configmap_value(const cJSON *object, const char *key,
			    size_t *len);

/* A value (NULL: absent) as the decision rules take content. */
void configmap_content(const char *value, struct content *c);

/* The data member after prev (NULL: the first); NULL at the end. */
const cJSON *configmap_next_key(const cJSON *object, const cJSON *prev);

/*
 * cJSON cuts a string at an escaped NUL (\u0000), so "approved\u0000x"
 * would read as "approved" where the volume shows the NUL. Rewrites each
 * such escape in a JSON text to \u0001 (a control character, never a
 * decision), before parsing.
 */
void configmap_mask_nul(char *json, size_t len);

#endif
