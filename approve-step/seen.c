#include "seen.h"

#include <string.h>

void seen_init(struct seen *s, const char *where, const char *via)
{
	memset(s, 0, sizeof(*s));
	s->where = where;
	s->via = via;
}

uint64_t seen_fingerprint(uint64_t seed, const void *data, size_t len)
{
	const unsigned char *p = data;
	uint64_t h = seed ^ 0xcbf29ce484222325ULL; /* FNV-1a offset basis */

	for (size_t i = 0; i < len; i++)
		h = (h ^ p[i]) * 0x100000001b3ULL; /* FNV-1a prime */
	return h;
}

bool seen_new_state(struct seen *s, uint64_t fp)
{
	if (fp == s->last_state)
		return false;
	s->last_state = fp;
	return true;
}

bool seen_first_warning(struct seen *s, uint64_t fp)
{
	for (unsigned i = 0; i < SEEN_REMEMBERED; i++)
		if (s->warned[i] == fp)
			return false;
	s->warned[s->warned_next++ % SEEN_REMEMBERED] = fp;
	return true;
}

enum seen_item_change seen_item(struct seen *s, uint64_t name, uint64_t state)
{
	unsigned i;

	for (i = 0; i < s->items_len; i++)
		if (s->items[i].name == name)
			break;
	if (i == s->items_len) {
		if (s->items_len == SEEN_REMEMBERED)
			return SEEN_ITEM_FULL;
		s->items[s->items_len++].name = name;
	} else if (s->items[i].state == state) {
		return SEEN_ITEM_SAME;
	}
	s->items[i].state = state;
	return SEEN_ITEM_CHANGED;
}
