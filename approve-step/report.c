#include "report.h"

#include "duration.h"
#include "escape.h"
#include "log.h"
#include "voter.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static void format_deadline(const struct options *opts, char *out,
			    size_t outsz)
{
	char dur[32], at[32];
	time_t t = time(NULL) + (time_t)(opts->timeout_ms / 1000);
	struct tm tm;

	if (opts->timeout_ms == 0) {
		snprintf(out, outsz, "no timeout");
		return;
	}
	duration_format(dur, sizeof(dur), opts->timeout_ms);
	gmtime_r(&t, &tm);
	strftime(at, sizeof(at), "%Y-%m-%dT%H:%M:%SZ", &tm);
	snprintf(out, outsz, "timeout %s, at %s; then %s", dur, at,
		 opts->approve_on_timeout ? "approve" : "refuse");
}

/* Right after the "waiting for" line: what the approvers approve. */
static void report_message(const struct options *opts)
{
	char q[LOG_VALUE_MAX];

	if (opts->message)
		log_info("message: %s", log_quote(q, opts->message,
						  strlen(opts->message)));
}

static void report_what(const struct options *opts, const char *deadline)
{
	char who[LOG_VALUE_MAX] = "", list[LOG_VALUE_MAX], where[600];
	size_t len;

	/* The API alone (or for votes): the ConfigMap's key, else the file. */
	if (!options_volume_votes(opts) && opts->namespace)
		snprintf(where, sizeof(where), "configmap %s/%s key %s",
			 opts->namespace, opts->configmap, opts->key);
	else if (!options_volume_votes(opts))
		snprintf(where, sizeof(where),
			 "configmap %s (namespace unknown) key %s",
			 opts->configmap, opts->key);
	else
		snprintf(where, sizeof(where), "%s/%s", opts->dir, opts->key);

	if (!options_vote_mode(opts)) {
		log_info("waiting for a decision in %s (%s)", where, deadline);
		report_message(opts);
		return;
	}
	len = log_join(list, opts->approvers, opts->approvers_len);
	if (len > 0)
		log_quote(who, list, len);
	log_info("waiting for %ld approval%s in %s.USER%s%s (%s)",
		 opts->approvals, opts->approvals > 1 ? "s" : "", where,
		 len ? " from " : "", who, deadline);
	report_message(opts);
	if (opts->dir && !options_volume_votes(opts))
		log_info("vote files in %s are not counted: a volume holds "
			 "whatever its binding maps in; votes count through "
			 "the API (--bindings-pinned true where the cluster "
			 "pins the binding)",
			 opts->dir);
	if (opts->requester) {
		char encoded[3 * VOTER_NAME_MAX + 1], q[LOG_VALUE_MAX];
		const char *r = opts->requester;
		const size_t mark = sizeof(ESCAPE_CUT_MARK) - 1;
		if (!voter_name_encode(r, encoded, sizeof(encoded) - mark))
			strcat(encoded, ESCAPE_CUT_MARK);
		log_info("votes of the requester %s (%s.%s) do not count",
			 log_quote(q, r, strlen(r)), opts->key, encoded);
		if (opts->approvers_len == 0)
			log_warn("--requester without --approvers is weak: "
				 "any user allowed to write a vote counts, so "
				 "a requester with a second user name can "
				 "approve their own run; name the approvers "
				 "with --approvers");
	}
}

/*
 * The length of the TaskRun's name in a key: the Task's key is NAME-UID
 * (a Kubernetes UID, 8-4-4-4-12 hex digits), and kubectl approve takes the
 * name and finds the UID itself. Any other key is taken whole.
 */
static int run_name_len(const char *key)
{
	static const char uid[] = "-xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx";
	size_t len = strlen(key), n = sizeof(uid) - 1;

	if (len <= n)
		return (int)len;
	for (size_t i = 0; i < n; i++) {
		char c = key[len - n + i];
		if (uid[i] == '-' ? c != '-' : escape_hex_digit(c) < 0)
			return (int)len;
	}
	return (int)(len - n);
}

static void report_how(const struct options *opts)
{
	const char *cm = opts->configmap, *key = opts->key;
	char ns[80] = "", host[256] = "";

	if (cm == NULL) {
		log_info("to approve, write approved to %s/%s%s; to refuse, "
			 "write refused (or a JSON object {\"decision\", "
			 "\"approver\", \"comment\"})",
			 opts->dir, key,
			 options_vote_mode(opts) ? ".USER" : "");
		return;
	}
	if (opts->namespace)
		snprintf(ns, sizeof(ns), " -n %s", opts->namespace);
	if (options_vote_mode(opts)) {
		log_info("to vote: kubectl approve %.*s%s [--refuse] [-m "
			 "COMMENT], or set key %s.USER (USER: your encoded "
			 "username) of configmap %s to approved or refused",
			 run_name_len(key), key, ns, key, cm);
	} else {
		/* A raw patch leaves the approver empty; the plugin names them. */
		log_info("to approve or refuse as yourself (recorded as the "
			 "approver): kubectl approve %.*s%s [--refuse] [-m "
			 "COMMENT]",
			 run_name_len(key), key, ns);
		log_info("to approve: kubectl patch configmap %s%s "
			 "--type=merge -p '{\"data\":{\"%s\":\"approved\"}}'",
			 cm, ns, key);
		log_info("to refuse:  kubectl patch configmap %s%s "
			 "--type=merge -p '{\"data\":{\"%s\":\"refused\"}}'",
			 cm, ns, key);
	}
	/*
	 * In a pod (the kubelet sets this variable) the host name is its name.
	 * Through the API alone there is no kubelet delay to shorten.
	 */
	if (opts->dir != NULL && getenv("KUBERNETES_SERVICE_HOST") != NULL &&
	    gethostname(host, sizeof(host) - 1) == 0 && host[0] != '\0' &&
	    strspn(host, "abcdefghijklmnopqrstuvwxyz0123456789-.") ==
		    strlen(host))
		log_info("the kubelet shows a change within 90s; to show it "
			 "now: kubectl annotate pod %s%s "
			 "approve-step/nudge=\"$(date +%%s)\" --overwrite",
			 host, ns);
}

/* A kernel limit kept inotify from us: which, what instead, how to raise it. */
static void report_no_inotify(const struct options *opts,
			      const struct watch *w)
{
	char what[256], fix[256], every[32];

	limit_describe(w->limit, what, sizeof(what), fix, sizeof(fix));
	duration_format(every, sizeof(every), opts->poll_ms);
	log_warn("cannot watch %s for changes: %s: %s: %s; re-reading %s/%s%s "
		 "every %s instead; to be woken at once, %s",
		 opts->dir, w->limit_call, strerror(w->limit_errno), what,
		 opts->dir, opts->key, options_vote_mode(opts) ? ".USER" : "",
		 every, fix);
}

void report_other_key(const struct options *opts, const char *other,
		      const char *value, size_t len)
{
	char q[LOG_VALUE_MAX];

	log_info("%s/%s holds %s, but this run waits on the key %s: that "
		 "decision is not this run's and does not count",
		 opts->dir, other, log_quote(q, value, len), opts->key);
	report_how(opts);
}

void report_start(const struct options *opts, const struct watch *w)
{
	char deadline[128];

	format_deadline(opts, deadline, sizeof(deadline));
	report_what(opts, deadline);
	report_how(opts);
	if (w->remote_fs && opts->poll_ms > 0) {
		char every[32];
		duration_format(every, sizeof(every), opts->poll_ms);
		log_info("%s is on %s, which reports no changes made on other "
			 "machines: re-reading every %s",
			 opts->dir, w->remote_fs, every);
	} else if (w->remote_fs) {
		log_warn("%s is on %s, which reports no changes made on other "
			 "machines, and --poll-interval is 0: such changes are "
			 "missed",
			 opts->dir, w->remote_fs);
	}
	if (w->limit != LIMIT_NONE)
		report_no_inotify(opts, w);
}

static const char *signal_name(int signo)
{
	switch (signo) {
	case SIGTERM:
		return "SIGTERM";
	case SIGINT:
		return "SIGINT";
	case SIGHUP:
		return "SIGHUP";
	}
	return "a signal";
}

/* The last log line for a decision someone made. */
static void report_decided(const char *word, const struct outcome *out,
			   const char *waited)
{
	const struct decision *d = &out->decision;
	char who[LOG_VALUE_MAX], why[LOG_VALUE_MAX];

	/* Which server it came from, first list or watch event alike. */
	log_info("%s%s%s after %s%s%s%s%s%s", word,
		 d->approver_len ? " by " : "",
		 d->approver_len ? log_quote(who, d->approver, d->approver_len)
				 : "",
		 waited, d->comment_len ? ": " : "",
		 d->comment_len ? log_quote(why, d->comment, d->comment_len)
				: "",
		 out->through_api ? " (through the API at " : "",
		 out->through_api && out->api_server ? out->api_server : "",
		 out->through_api ? ")" : "");
}

/*
 * What ended a wait no one decided (timeout, cancel): the last log line,
 * and the comment result. Static because the results point into it until
 * main has written them.
 */
static char ending_note[128];

void report_outcome(const struct options *opts, const struct outcome *out,
		    struct results *r)
{
	char waited[32], limit[32];

	duration_format(waited, sizeof(waited), out->waited_ms / 1000 * 1000);
	duration_format(limit, sizeof(limit), opts->timeout_ms);
	*r = (struct results){
		.approver = out->decision.approver,
		.approver_len = out->decision.approver_len,
		.comment = out->decision.comment,
		.comment_len = out->decision.comment_len,
		.waited_ms = out->waited_ms,
	};
	switch (out->kind) {
	case OUTCOME_APPROVED:
	case OUTCOME_REFUSED:
		r->decision = out->kind == OUTCOME_APPROVED ? "approved"
							    : "refused";
		report_decided(r->decision, out, waited);
		return;
	case OUTCOME_TIMEOUT:
		r->decision = opts->approve_on_timeout ? "approved" : "timeout";
		snprintf(ending_note, sizeof(ending_note),
			 "no decision within %s: %s (--on-timeout %s)", limit,
			 opts->approve_on_timeout ? "approved" : "refused",
			 opts->approve_on_timeout ? "approve" : "refuse");
		break;
	case OUTCOME_CANCELLED:
		r->decision = "cancelled";
		snprintf(ending_note, sizeof(ending_note),
			 "cancelled by %s after %s: refused",
			 signal_name(out->signo), waited);
		break;
	case OUTCOME_FAILED:
		r->decision = NULL;
		return;
	}
	log_info("%s", ending_note);
	r->approver_len = 0;
	r->comment = ending_note;
	r->comment_len = strlen(ending_note);
}
