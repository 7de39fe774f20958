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

/*
 * A JSON text parsed so that values keep their NUL bytes. cJSON ends a
 * string at an escaped NUL (\u0000), which would read "approved\u0000x"
 * as approved where the volume shows binary data. So the text is parsed
 * with each such escape read as \u0001 and, only when there is one, again
 * with each read as \u0002: where the two readings of a value differ, the
 * value holds a NUL (configmap_content puts it back).
 */
struct configmap_json {
	cJSON *root;
	cJSON *shadow; /* the second reading; NULL when no NUL is escaped */
};

/*
 * Parses text (len bytes; changed in place). False when it is not JSON,
 * or holds a raw NUL byte (never in JSON; cJSON would end a string there).
 */
bool configmap_parse(struct configmap_json *j, char *text, size_t len);
void configmap_free(struct configmap_json *j);

/* One ConfigMap, and the same object in the second reading (or NULL). */
struct configmap {
	const cJSON *object; /* NULL: the ConfigMap does not exist */
	const cJSON *shadow;
};

/* metadata.resourceVersion of an object or a list, or NULL. */
const char *configmap_resource_version(const cJSON *object);

/* metadata.FIELD of an object as a string (name, namespace), or NULL. */
const char *configmap_meta(const cJSON *object, const char *field);

/* metadata.labels[label] of an object as a string, or NULL. */
const char *configmap_label(const cJSON *object, const char *label);

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

/*
 * data[key] of cm as the decision rules take content, byte for byte (NUL
 * bytes too): missing, too big, or its bytes. *owned is set to a buffer
 * to free once c is judged, or NULL.
 */
void configmap_content(const struct configmap *cm, const char *key,
		       struct content *c, char **owned);

/* The data member after prev (NULL: the first); NULL at the end. */
const cJSON *configmap_next_key(const cJSON *object, const cJSON *prev);

/*
 * Rewrites each \u0000 escape of a JSON text (not an escaped backslash
 * followed by "u0000") to \u000D, D the digit given ('0': only count);
 * returns how many there are.
 */
size_t configmap_mask_nul(char *json, size_t len, char digit);

#endif
