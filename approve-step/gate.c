#include "gate.h"

#include "log.h"
#include "readfile.h"
#include "votes.h"

#include <string.h>

void gate_init(struct gate *g, const struct options *opts)
{
	memset(g, 0, sizeof(*g));
	g->opts = opts;
}

/* FNV-1a: enough to tell one file content from the next. */
uint64_t gate_fingerprint(uint64_t seed, const void *data, size_t len)
{
	const unsigned char *p = data;
	uint64_t h = seed ^ 0xcbf29ce484222325ULL;

	for (size_t i = 0; i < len; i++)
		h = (h ^ p[i]) * 0x100000001b3ULL;
	return h;
}

bool gate_first_warning(struct gate *g, uint64_t fingerprint)
{
	for (unsigned i = 0; i < GATE_REMEMBERED; i++)
		if (g->warned[i] == fingerprint)
			return false;
	g->warned[g->warned_next++ % GATE_REMEMBERED] = fingerprint;
	return true;
}

static uint64_t content_fingerprint(const struct file_content *c)
{
	int what[2] = {(int)c->status, c->err};
	uint64_t h = gate_fingerprint(0, what, sizeof(what));

	return c->status == READ_OK ? gate_fingerprint(h, c->data, c->len) : h;
}

/* One line for each new state of the file; warnings once per value. */
static void log_state(struct gate *g, const struct file_content *c,
		      const struct decision *d, uint64_t fp)
{
	const char *dir = g->opts->dir, *key = g->opts->key;
	char q[LOG_VALUE_MAX];

	if (fp == g->last_state)
		return;
	g->last_state = fp;
	if (c->status == READ_MISSING) {
		log_info("%s/%s does not exist yet: pending", dir, key);
	} else if (c->status != READ_OK) {
		if (gate_first_warning(g, fp))
			log_warn("cannot read %s/%s: %s; still waiting", dir,
				 key, read_status_text(c));
	} else if (d->verdict == VERDICT_PENDING) {
		log_info("%s/%s is %s: pending", dir, key,
			 log_quote(q, c->data, c->len));
	} else if (d->verdict == VERDICT_UNKNOWN && gate_first_warning(g, fp)) {
		log_warn("%s/%s holds %s, %s; still waiting (approve: %s; "
			 "refuse: %s)",
			 dir, key, log_quote(q, c->data, c->len), d->problem,
			 decision_approve_words, decision_refuse_words);
	}
}

static enum verdict check_key(struct gate *g, struct verdict_detail *detail)
{
	static struct decision d;
	struct file_content c;

	read_decision_file(g->opts->dir, g->opts->key, &c);
	d.verdict = VERDICT_PENDING;
	if (c.status == READ_OK)
		decision_parse(c.data, c.len, &d);
	log_state(g, &c, &d, content_fingerprint(&c));
	if (d.verdict != VERDICT_APPROVED && d.verdict != VERDICT_REFUSED)
		return VERDICT_PENDING;
	memcpy(detail->approver, d.approver, d.approver_len + 1);
	detail->approver_len = d.approver_len;
	memcpy(detail->comment, d.comment, d.comment_len + 1);
	detail->comment_len = d.comment_len;
	return d.verdict;
}

enum verdict gate_check(struct gate *g, struct verdict_detail *detail)
{
	if (options_vote_mode(g->opts))
		return votes_check(g, detail);
	return check_key(g, detail);
}
