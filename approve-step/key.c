#include "key.h"

#include "log.h"

/* Distinguishes the content states, not only the bytes. */
static uint64_t content_fingerprint(const struct content *c)
{
	int what[2] = {(int)c->status, c->err};
	uint64_t h = seen_fingerprint(0, what, sizeof(what));

	return c->status == CONTENT_OK ? seen_fingerprint(h, c->data, c->len)
				       : h;
}

/*
 * One line for each new state of the key; warnings once per value. A
 * value that decides nothing is shown by a short prefix only.
 */
static void log_state(struct seen *s, const struct content *c,
		      const struct decision *d, uint64_t fp)
{
	char q[LOG_SHORT_MAX];

	if (!seen_new_state(s, fp))
		return;
	if (c->status == CONTENT_MISSING) {
		log_info("%s does not exist yet: pending%s", s->where, s->via);
	} else if (c->status != CONTENT_OK) {
		if (seen_first_warning(s, fp))
			log_warn("cannot read %s: %s; still waiting%s",
				 s->where, content_status_text(c), s->via);
	} else if (d->verdict == VERDICT_PENDING) {
		log_info("%s is %s: pending%s", s->where,
			 log_quote_short(q, c->data, c->len), s->via);
	} else if (d->verdict == VERDICT_UNKNOWN && seen_first_warning(s, fp)) {
		log_warn("%s holds %s, %s; still waiting (approve: %s; "
			 "refuse: %s)%s",
			 s->where, log_quote_short(q, c->data, c->len), d->problem,
			 decision_approve_words, decision_refuse_words, s->via);
	}
}

enum verdict key_check(struct seen *s, const struct content *c,
		       struct decision *d)
{
	d->verdict = VERDICT_PENDING;
	if (c->status == CONTENT_OK)
		decision_parse(c->data, c->len, d);
	log_state(s, c, d, content_fingerprint(c));
	if (d->verdict != VERDICT_APPROVED && d->verdict != VERDICT_REFUSED) {
		d->verdict = VERDICT_PENDING;
		d->approver_len = d->comment_len = 0;
		d->approver[0] = d->comment[0] = '\0';
	}
	return d->verdict;
}
