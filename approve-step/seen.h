/*
 * What has been logged about one source of decisions (the volume, or the
 * ConfigMap read through the API), so that each new state is logged once
 * and each warning once per value, however often the source is re-read;
 * and how that source's lines name where their content came from.
 */
#ifndef APPROVE_STEP_SEEN_H
#define APPROVE_STEP_SEEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Distinct warnings, and distinct vote entries, remembered per source. */
#define SEEN_REMEMBERED 64

struct seen {
	/* The single key in log lines: "DIR/KEY", "configmap NS/NAME key KEY". */
	const char *where;
	/* Ends every state line: "" for the volume, " (through the API)". */
	const char *via;
	uint64_t last_state;		    /* fingerprint last logged; 0: none */
	uint64_t warned[SEEN_REMEMBERED]; /* fingerprints warned about */
	unsigned warned_next;
	struct seen_item {
		uint64_t name, state;
	} items[SEEN_REMEMBERED];	    /* vote entries: last logged state */
	unsigned items_len;
};

/* where and via must outlive s. */
void seen_init(struct seen *s, const char *where, const char *via);

/* FNV-1a from seed: enough to tell one content from the next. */
uint64_t seen_fingerprint(uint64_t seed, const void *data, size_t len);

/* True when fp differs from the state last passed here: log it. */
bool seen_new_state(struct seen *s, uint64_t fp);

/* True the first time fp is passed: warn once per value. */
bool seen_first_warning(struct seen *s, uint64_t fp);

enum seen_item_change {
	SEEN_ITEM_SAME,	   /* as last logged */
	SEEN_ITEM_CHANGED, /* new, or changed since: log it */
	SEEN_ITEM_FULL,	   /* new, but SEEN_REMEMBERED are tracked already */
};

/* Records that the item named by fingerprint name is now in state. */
enum seen_item_change seen_item(struct seen *s, uint64_t name,
				uint64_t state);

#endif
