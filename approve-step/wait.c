#include "wait.h"

#include "log.h"
#include "monotonic.h"

#include <string.h>

/* The sooner of the deadline and the next periodic re-read; -1: none. */
static int64_t next_wake(int64_t deadline, int64_t next_poll)
{
	if (deadline < 0)
		return next_poll;
	if (next_poll < 0)
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
	int64_t ms = wake_at < 0 ? -1 : wake_at - monotonic_ms();

	switch (watch_wait(w, ms < 0 && wake_at >= 0 ? 0 : ms, &out->signo)) {
	case WAKE_CHANGED:
	case WAKE_TIMER:
		return true;
	case WAKE_SIGNAL:
		out->kind = OUTCOME_CANCELLED;
		return false;
	case WAKE_GONE:
		log_dir_gone(w);
		out->kind = OUTCOME_FAILED;
		return false;
	case WAKE_ERROR:
		break;
	}
	out->kind = OUTCOME_FAILED;
	return false;
}

void wait_for_decision(const struct options *opts, struct watch *w,
		       int64_t start_ms, struct outcome *out)
{
	int64_t deadline = opts->timeout_ms ? start_ms + opts->timeout_ms : -1;
	int64_t poll_ms = opts->poll_ms, next_poll = -1;
	struct gate gate;

	memset(out, 0, sizeof(*out));
	gate_init(&gate, opts);
	for (;;) {
		enum verdict v = gate_check(&gate, &out->detail);
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
		if (deadline >= 0 && now >= deadline) {
			out->kind = OUTCOME_TIMEOUT;
			return;
		}
		if (poll_ms > 0 && (next_poll < 0 || now >= next_poll))
			next_poll = now + poll_ms;
		if (!wait_once(w, next_wake(deadline, next_poll), out)) {
			out->waited_ms = monotonic_ms() - start_ms;
			return;
		}
	}
}
