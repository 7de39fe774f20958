#include "wait.h"

#include "apiwatch.h"
#include "configmap.h"
#include "key.h"
#include "log.h"
#include "monotonic.h"
#include "readfile.h"
#include "report.h"
#include "snapshot.h"
#include "tally.h"

#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A deadline or next re-read that never comes. */
#define NEVER (-1)
/* The most a ConfigMap may hold (keys and values), and when to say so. */
#define CONFIGMAP_MAX (1024 * 1024)
#define CONFIGMAP_NEARLY_FULL (CONFIGMAP_MAX / 8 * 7)
#define FULL_WARNING 0x66756c6cULL /* "full" */
/* The fingerprint seed of "not the gate" warnings. */
#define GATE_SEED 0x67617465ULL /* "gate" */

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

static enum outcome_kind from_verdict(enum verdict v)
{
	return v == VERDICT_APPROVED ? OUTCOME_APPROVED : OUTCOME_REFUSED;
}

/* The ConfigMap read through the API, judged by the same rules. */
struct api_view {
	struct apiwatch *watch; /* NULL: off, or fell back to the volume */
	const struct options *opts;
	struct seen seen;
	enum verdict verdict;
	struct decision decision;
};

/* Also static and large: the count of one ConfigMap object's votes. */
static struct tally api_votes;

/* The label the vote policy guards a ConfigMap by (policy/). */
#define GATE_LABEL "approve-step/gate"

/*
 * Why this object's votes cannot count, or NULL: votes count only from the
 * ConfigMap the vote policy guards, the one named, in the run's namespace,
 * labelled approve-step/gate=true. An unlabelled ConfigMap is one the
 * policy does not look at: anyone who may patch it writes any vote.
 */
static const char *not_the_gate(const struct api_view *v, const cJSON *o)
{
	const char *ns = configmap_meta(o, "namespace");
	const char *name = configmap_meta(o, "name");
	const char *gate = configmap_label(o, GATE_LABEL);

	if (name == NULL || strcmp(name, v->watch->name) != 0 || ns == NULL ||
	    strcmp(ns, v->watch->ns) != 0)
		return "the API answered with another object";
	if (gate == NULL || strcmp(gate, "true") != 0)
		return "it is not labelled " GATE_LABEL "=true, so the vote "
		       "policy does not guard its votes: label it (see "
		       "docs/approvers.md)";
	return NULL;
}

/* Logs, once per cause, that this object's votes are not counted. */
static void log_not_the_gate(struct api_view *v, const char *why)
{
	uint64_t fp = seen_fingerprint(GATE_SEED, why, strlen(why));

	if (seen_first_warning(&v->seen, fp))
		log_warn("votes in configmap %s/%s are not counted: %s%s",
			 v->watch->ns, v->watch->name, why, v->seen.via);
}

/*
 * Votes accumulate, and a ConfigMap holds 1 MiB at most: past that the API
 * server refuses every new vote. Said once, while there is room left, so
 * that a full gate is an error someone reads, not a silent stall.
 */
static void check_capacity(struct api_view *v, const cJSON *object)
{
	size_t total = 0, len;

	for (const cJSON *k = configmap_next_key(object, NULL); k;
	     k = configmap_next_key(object, k)) {
		if (configmap_value(object, k->string, &len) != NULL)
			total += len;
		total += strlen(k->string);
	}
	if (total >= CONFIGMAP_NEARLY_FULL &&
	    seen_first_warning(&v->seen, FULL_WARNING))
		log_warn("configmap %s/%s holds %zu of the %d bytes a "
			 "ConfigMap may hold: new votes will soon be refused; "
			 "archive it and start an empty one, or use a "
			 "ConfigMap per run (docs/approvers.md, Capacity)%s",
			 v->watch->ns, v->watch->name, total, CONFIGMAP_MAX,
			 v->seen.via);
}

/*
 * One state of the ConfigMap (NULL: it does not exist): its data[KEY], or
 * the KEY.USER keys of this one object, a consistent snapshot as ..data.
 */
static bool on_api_change(void *arg, const struct configmap *cm)
{
	struct api_view *v = arg;
	const char *key = v->opts->key;
	const char *why;
	struct content c;
	char *owned;

	if (cm->object)
		check_capacity(v, cm->object);
	if (options_vote_mode(v->opts) && cm->object &&
	    (why = not_the_gate(v, cm->object)) != NULL) {
		log_not_the_gate(v, why);
		v->verdict = VERDICT_PENDING;
		return false;
	}
	if (options_vote_mode(v->opts)) {
		tally_begin(&api_votes, v->opts, &v->seen);
		for (const cJSON *k = configmap_next_key(cm->object, NULL); k;
		     k = configmap_next_key(cm->object, k)) {
			if (!tally_is_vote(k->string, key))
				continue;
			configmap_content(cm, k->string, &c, &owned);
			tally_add(&api_votes, k->string, &c);
			free(owned);
		}
		v->verdict = tally_end(&api_votes, &v->decision);
	} else {
		configmap_content(cm, key, &c, &owned);
		v->verdict = key_check(&v->seen, &c, &v->decision);
		free(owned);
	}
	return v->verdict == VERDICT_APPROVED || v->verdict == VERDICT_REFUSED;
}

/*
 * The API could not be used before its first watch: with --api auto the
 * volume goes on alone, with --api on the wait ends (exit 2).
 */
static bool api_unusable(struct api_view *v)
{
	const struct apiwatch *a = v->watch;

	v->watch = NULL;
	if (v->opts->api == API_AUTO && options_volume_votes(v->opts)) {
		log_warn("cannot use the Kubernetes API (%s); %s; waiting on "
			 "the volume only", a->cause, a->fix);
		return true;
	}
	log_error("cannot use the Kubernetes API (%s); %s%s", a->cause, a->fix,
		  v->opts->api == API_AUTO
			  ? "; votes are not read from the volume unless "
			    "--bindings-pinned true"
			  : "");
	return false;
}

/* Moves the API on after a wake; false when the wait is over. */
static bool api_step(struct api_view *v, const struct pollfd *p,
		     struct outcome *out)
{
	int64_t now = monotonic_ms(), at;

	if (v->watch == NULL)
		return true;
	at = apiwatch_wake_at(v->watch);
	if (p->revents == 0 && (at == NEVER || now < at))
		return true;
	switch (apiwatch_step(v->watch, p->revents, now)) {
	case APIWATCH_NOTHING:
		return true;
	case APIWATCH_DECIDED:
		out->kind = from_verdict(v->verdict);
		out->decision = v->decision;
		out->through_api = true;
		out->api_server = v->watch->url.hostport;
		return false;
	case APIWATCH_UNUSABLE:
		break;
	}
	if (api_unusable(v))
		return true;
	out->kind = OUTCOME_FAILED;
	return false;
}

/* The sooner of two wake times, or NEVER. */
static int64_t sooner(int64_t a, int64_t b)
{
	if (a == NEVER)
		return b;
	if (b == NEVER)
		return a;
	return a < b ? a : b;
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
static bool wait_once(struct watch *w, struct api_view *api, int64_t wake_at,
		      struct outcome *out)
{
	struct pollfd p = {.fd = -1};
	int64_t ms;

	if (api->watch) {
		p.fd = apiwatch_fd(api->watch, &p.events);
		wake_at = sooner(wake_at, apiwatch_wake_at(api->watch));
	}
	ms = wake_at == NEVER ? -1 : wake_at - monotonic_ms();
	/* watch_wait: < 0 waits without limit; a wake time passed is 0. */
	switch (watch_wait(w, ms < 0 && wake_at != NEVER ? 0 : ms, &out->signo,
			   &p)) {
	case WATCH_CHANGED:
	case WATCH_TIMER:
	case WATCH_OTHER:
		return api_step(api, &p, out);
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

/* Hooks the API's changes to its view; false when it ends the wait. */
static bool api_begin(struct api_view *v, char *where, size_t wheresz,
		      struct outcome *out)
{
	const struct options *o = v->opts;

	if (v->watch == NULL)
		return true;
	/* No ConfigMap only with --api auto, where it is unusable (below). */
	snprintf(where, wheresz, "configmap %s/%s key %s", v->watch->ns
		 ? v->watch->ns : "?", o->configmap ? o->configmap : "?",
		 o->key);
	seen_init(&v->seen, where, " (through the API)");
	v->watch->on_change = on_api_change;
	v->watch->arg = v;
	if (!v->watch->unusable || api_unusable(v))
		return true;
	out->kind = OUTCOME_FAILED;
	return false;
}

void wait_for_decision(const struct options *opts, struct watch *w,
		       struct apiwatch *api, int64_t start_ms,
		       struct outcome *out)
{
	int64_t deadline =
		opts->timeout_ms ? start_ms + opts->timeout_ms : NEVER;
	int64_t poll_ms = opts->poll_ms, next_poll = NEVER;
	char where[LOG_LINE_MAX], api_where[LOG_LINE_MAX];
	struct seen volume;
	struct api_view view = {.watch = api, .opts = opts};

	memset(out, 0, sizeof(*out));
	snprintf(where, sizeof(where), "%s/%s", opts->dir ? opts->dir : "",
		 opts->key);
	seen_init(&volume, where, "");
	if (!api_begin(&view, api_where, sizeof(api_where), out))
		return;
	for (;;) {
		/* The volume, if there is one; the API reports as it goes. */
		enum verdict v = options_volume_votes(opts)
					 ? check_volume(opts, &volume,
							&out->decision)
					 : VERDICT_PENDING;
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
		if (!wait_once(w, &view, sooner(deadline, next_poll), out)) {
			out->waited_ms = monotonic_ms() - start_ms;
			return;
		}
	}
}
