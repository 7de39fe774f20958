#include "wait.h"

#include "key.h"
#include "log.h"
#include "monotonic.h"
#include "readfile.h"
#include "report.h"
#include "snapshot.h"
#include "tally.h"

#include <stdio.h>
#include <string.h>

/* A deadline or next re-read that never comes. */
#define NEVER (-1)

/*
 * The count of the volume's votes. Static because it is large (tally.h)
 * and needed for every look at the directory, one at a time, until exit.
 */
static struct tally volume_votes;

static void add_vote(void *tally, const char *name, const struct content *c)
{
	tally_add(tally, name, c);
}

/*
 * The classic approve-task's one key for every run, which its users (and
 * the article's `kubectl patch`) write. Said once per run when it holds a
 * decision while this run, with a key of its own, waits.
 */
#define SHARED_KEY "status"
static bool shared_key_noted;

/*
 * A decision in the shared key does not decide a run with its own key;
 * without this note, the article's command would be silently ignored.
 */
static void note_shared_key(const struct options *opts)
{
	struct content c;
	struct decision d;

	if (shared_key_noted || strcmp(opts->key, SHARED_KEY) == 0)
		return;
	readfile_read(opts->dir, SHARED_KEY, &c);
	if (c.status != CONTENT_OK)
		return;
	decision_parse(c.data, c.len, &d);
	if (d.verdict != VERDICT_APPROVED && d.verdict != VERDICT_REFUSED)
		return;
	shared_key_noted = true;
	report_other_key(opts, SHARED_KEY, c.data, c.len);
}

/* What the volume says now: its one key, or the votes of one snapshot. */
static enum verdict check_volume(const struct options *opts, struct seen *s,
				 struct decision *d)
{
	struct content c;
	enum verdict v;

	if (options_vote_mode(opts)) {
		tally_begin(&volume_votes, opts, s);
		if (!snapshot_votes(opts->dir, opts->key, add_vote,
				    &volume_votes))
			return VERDICT_PENDING;
		return tally_end(&volume_votes, d);
	}
	readfile_read(opts->dir, opts->key, &c);
	v = key_check(s, &c, d);
	if (v == VERDICT_PENDING)
		note_shared_key(opts);
	return v;
}

/* The sooner of the deadline and the next periodic re-read, or NEVER. */
static int64_t next_wake(int64_t deadline, int64_t next_poll)
{
	if (deadline == NEVER)
		return next_poll;
	if (next_poll == NEVER)
		return deadline;
	return deadline < next_poll ? deadline : next_poll;
}

static enum outcome_kind from_verdict(enum verdict v)
{
	return v == VERDICT_APPROVED ? OUTCOME_APPROVED : OUTCOME_REFUSED;
}

/*
 * One message however it is noticed (an event, or the path naming another
 * directory when a decision is read): a decision there is not trusted.
 */
static void log_dir_gone(const struct watch *w)
{
	log_error("%s was deleted, moved or unmounted while waiting; cannot "
		  "see a decision any more",
		  w->path);
}

/* Waits once; returns false and sets out->kind when the wait is over. */
static bool wait_once(struct watch *w, int64_t wake_at, struct outcome *out)
{
	int64_t ms = wake_at == NEVER ? -1 : wake_at - monotonic_ms();

	/* watch_wait: < 0 waits without limit; a wake time passed is 0. */
	switch (watch_wait(w, ms < 0 && wake_at != NEVER ? 0 : ms,
			   &out->signo)) {
	case WATCH_CHANGED:
	case WATCH_TIMER:
		return true;
	case WATCH_SIGNAL:
		out->kind = OUTCOME_CANCELLED;
		return false;
	case WATCH_GONE:
		log_dir_gone(w);
		out->kind = OUTCOME_FAILED;
		return false;
	case WATCH_ERROR:
		break;
	}
	out->kind = OUTCOME_FAILED;
	return false;
}

void wait_for_decision(const struct options *opts, struct watch *w,
		       int64_t start_ms, struct outcome *out)
{
	int64_t deadline =
		opts->timeout_ms ? start_ms + opts->timeout_ms : NEVER;
	int64_t poll_ms = opts->poll_ms, next_poll = NEVER;
	char where[LOG_LINE_MAX];
	struct seen volume;

	memset(out, 0, sizeof(*out));
	snprintf(where, sizeof(where), "%s/%s", opts->dir, opts->key);
	seen_init(&volume, where, "");
	for (;;) {
		enum verdict v = check_volume(opts, &volume, &out->decision);
		int64_t now = monotonic_ms();

		out->waited_ms = now - start_ms;
		if (v == VERDICT_APPROVED || v == VERDICT_REFUSED) {
			/* Only a decision read from the watched directory. */
			out->kind = from_verdict(v);
			if (!watch_same_dir(w)) {
				log_dir_gone(w);
				out->kind = OUTCOME_FAILED;
			}
			return;
		}
		if (deadline != NEVER && now >= deadline) {
			out->kind = OUTCOME_TIMEOUT;
			return;
		}
		if (poll_ms > 0 && (next_poll == NEVER || now >= next_poll))
			next_poll = now + poll_ms;
		if (!wait_once(w, next_wake(deadline, next_poll), out)) {
			out->waited_ms = monotonic_ms() - start_ms;
			return;
		}
	}
}
