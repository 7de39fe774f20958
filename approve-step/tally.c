#include "tally.h"

#include "escape.h"
#include "log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Fingerprint seeds: a vote's content, an undecodable name, the progress. */
#define SEED_VOTE_NAME 1
#define SEED_PROGRESS 2
/* The "more vote entries than remembered" warning, given once. */
#define FLOOD_WARNING 0x766f7465666c6f6fULL /* "votefloo" */

bool tally_is_vote(const char *name, const char *key)
{
	size_t key_len = strlen(key);

	return strncmp(name, key, key_len) == 0 && name[key_len] == '.' &&
	       name[key_len + 1] != '\0';
}

void tally_begin(struct tally *t, const struct options *opts,
		 struct seen *seen)
{
	t->opts = opts;
	t->seen = seen;
	t->refused = false;
	t->yes_kept = 0;
	t->approvals = 0;
}

static int by_voter(const void *a, const void *b)
{
	return strcmp(((const struct tally_vote *)a)->voter,
		      ((const struct tally_vote *)b)->voter);
}

/*
 * Kubernetes' own identities (ServiceAccounts, system:serviceaccount:NS:
 * NAME; nodes; controllers) all start "system:". Whoever can run a pod as
 * two ServiceAccounts would have two voices, so they vote only when named.
 */
#define SYSTEM_USER_PREFIX "system:"

static bool on_approvers(const struct options *o, const char *voter)
{
	if (o->approvers_len == 0)
		return strncmp(voter, SYSTEM_USER_PREFIX,
			       sizeof(SYSTEM_USER_PREFIX) - 1) != 0;
	for (int i = 0; i < o->approvers_len; i++)
		if (strcmp(o->approvers[i], voter) == 0)
			return true;
	return false;
}

/*
 * The same voter approving twice: a ConfigMap's JSON may hold a member
 * twice (cJSON keeps both). Names decode one way only (voter.c), so equal
 * voters are equal strings. Counted once; said once.
 */
#define SEED_TWICE 3
static bool approved_before(struct tally *t, const struct tally_vote *v)
{
	char who[LOG_VALUE_MAX];

	for (int i = 0; i < t->yes_kept; i++) {
		if (strcmp(t->yes[i].voter, v->voter) != 0)
			continue;
		if (seen_first_warning(t->seen,
				       seen_fingerprint(SEED_TWICE, v->voter,
							strlen(v->voter))))
			log_warn("%s approves in more than one entry: counted "
				 "once%s",
				 log_quote(who, v->voter, strlen(v->voter)),
				 t->seen->via);
		return true;
	}
	return false;
}

/* Judges one vote entry; *fp is what its log line is remembered by. */
static void judge_vote(struct tally *t, const struct content *c,
		       struct tally_vote *v, uint64_t *fp)
{
	const struct options *o = t->opts;
	const char *encoded = v->name + strlen(o->key) + 1;
	struct decision *d = &t->parsed;

	v->not_counted = NULL;
	v->missing = false;
	v->verdict = VERDICT_PENDING;
	v->comment_len = 0;
	v->comment[0] = '\0';
	if (!voter_name_decode(encoded, v->voter, sizeof(v->voter))) {
		snprintf(v->voter, sizeof(v->voter), "%s", encoded);
		v->verdict = VERDICT_UNKNOWN;
		v->not_counted = "its name is not an encoded username";
		*fp = seen_fingerprint(SEED_VOTE_NAME, v->name, strlen(v->name));
		return;
	}
	v->missing = c->status == CONTENT_MISSING;
	*fp = seen_fingerprint(c->status, c->data,
			       c->status == CONTENT_OK ? c->len : 0);
	if (c->status != CONTENT_OK)
		return; /* a vote being written or removed: pending */
	decision_parse(c->data, c->len, d);
	v->verdict = d->verdict;
	v->comment_len = d->comment_len < TALLY_COMMENT_MAX ? d->comment_len
							    : TALLY_COMMENT_MAX;
	memcpy(v->comment, d->comment, v->comment_len);
	v->comment[v->comment_len] = '\0';
	if (d->verdict == VERDICT_UNKNOWN)
		v->not_counted = d->problem;
	else if (o->requester && strcmp(o->requester, v->voter) == 0)
		v->not_counted = "the requester may not approve their own run";
	else if (!on_approvers(o, v->voter))
		v->not_counted = o->approvers_len
					 ? "not on --approvers"
					 : "a ServiceAccount or other system: "
					   "user votes only when named in "
					   "--approvers";
}

/* True if this vote entry's content changed since it was last logged. */
static bool vote_changed(struct tally *t, const char *name, uint64_t fp)
{
	struct seen *s = t->seen;

	switch (seen_item(s, seen_fingerprint(0, name, strlen(name)), fp)) {
	case SEEN_ITEM_CHANGED:
		return true;
	case SEEN_ITEM_FULL:
		/* A flood of vote entries: say so once, not per entry. */
		if (seen_first_warning(s, FLOOD_WARNING))
			log_warn("more than %d vote files: changes to the "
				 "others are counted but not logged%s",
				 SEEN_REMEMBERED, s->via);
		return false;
	case SEEN_ITEM_SAME:
		break;
	}
	return false;
}

static void log_vote(struct tally *t, const struct tally_vote *v, uint64_t fp)
{
	char who[LOG_VALUE_MAX], name[LOG_VALUE_MAX];
	const char *via = t->seen->via;

	if (v->missing || !vote_changed(t, v->name, fp))
		return;
	/* Entry names are as untrusted as contents. */
	log_quote(name, v->name, strlen(v->name));
	log_quote(who, v->voter, strlen(v->voter));
	if (v->not_counted && v->verdict != VERDICT_PENDING) {
		log_warn("vote %s by %s: %s, not counted: %s%s", name, who,
			 verdict_name(v->verdict), v->not_counted, via);
	} else {
		log_info("vote %s by %s: %s%s", name, who,
			 verdict_name(v->verdict), via);
	}
}

void tally_add(struct tally *t, const char *name, const struct content *c)
{
	struct tally_vote *v = &t->current;
	uint64_t fp;

	snprintf(v->name, sizeof(v->name), "%s", name);
	judge_vote(t, c, v, &fp);
	log_vote(t, v, fp);
	if (v->not_counted)
		return;
	if (v->verdict == VERDICT_REFUSED && !t->refused) {
		t->no = *v;
		t->refused = true;
	} else if (v->verdict == VERDICT_APPROVED && !approved_before(t, v)) {
		/* Past the limit the quorum (at most that many) is reached. */
		if (t->yes_kept < OPTIONS_APPROVERS_MAX)
			t->yes[t->yes_kept++] = *v;
		t->approvals++;
	}
}

/* Appends to an approver or comment field, cut and marked when full. */
static void append(char *field, size_t *len, const char *s, size_t n)
{
	escape_append(field, DECISION_FIELD_MAX, len, s, n);
}

/* "alice,bob" and "alice: LGTM; bob: ship it" for the results. */
static void describe(const struct tally_vote *const *who, int n,
		     struct decision *d)
{
	d->approver_len = d->comment_len = 0;
	d->approver[0] = d->comment[0] = '\0';
	for (int i = 0; i < n; i++) {
		const struct tally_vote *v = who[i];
		if (i > 0)
			append(d->approver, &d->approver_len, ",", 1);
		append(d->approver, &d->approver_len, v->voter,
		       strlen(v->voter));
		if (v->comment_len == 0)
			continue;
		if (d->comment_len > 0)
			append(d->comment, &d->comment_len, "; ", 2);
		append(d->comment, &d->comment_len, v->voter, strlen(v->voter));
		append(d->comment, &d->comment_len, ": ", 2);
		append(d->comment, &d->comment_len, v->comment, v->comment_len);
	}
}

/* Logs how far the quorum has got, when that changes. */
static void log_progress(struct tally *t, const struct tally_vote *const *yes,
			 int n)
{
	char names[LOG_VALUE_MAX], shown[LOG_VALUE_MAX];
	const char *voters[OPTIONS_APPROVERS_MAX];
	uint64_t fp = seen_fingerprint(SEED_PROGRESS, &n, sizeof(n));
	size_t len;

	for (int i = 0; i < n; i++) {
		voters[i] = yes[i]->voter;
		fp = seen_fingerprint(fp, voters[i], strlen(voters[i]));
	}
	if (!seen_new_state(t->seen, fp))
		return;
	len = log_join(names, voters, n);
	log_info("%d of %ld approvals so far%s%s%s", n, t->opts->approvals,
		 n ? ": " : "", n ? log_quote(shown, names, len) : "",
		 t->seen->via);
}

enum verdict tally_end(struct tally *t, struct decision *d)
{
	const struct tally_vote *yes[OPTIONS_APPROVERS_MAX], *no = &t->no;

	/* Entry order is arbitrary: name the voters in a stable order. */
	qsort(t->yes, (size_t)t->yes_kept, sizeof(t->yes[0]), by_voter);
	for (int i = 0; i < t->yes_kept; i++)
		yes[i] = &t->yes[i];
	if (t->refused) {
		describe(&no, 1, d);
		d->verdict = VERDICT_REFUSED;
	} else if (t->approvals >= t->opts->approvals) {
		describe(yes, t->yes_kept, d);
		d->verdict = VERDICT_APPROVED;
	} else {
		log_progress(t, yes, t->yes_kept);
		describe(yes, 0, d);
		d->verdict = VERDICT_PENDING;
	}
	return d->verdict;
}
