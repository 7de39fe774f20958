/*
 * The vote rule: several approvers each vote under a key KEY.USER of
 * their own (USER encoded, voter.h); a quorum of counted approvals
 * approves, one counted refusal refuses. Used for the volume's vote files
 * and for the ConfigMap's vote keys read through the API alike.
 *
 * One count: tally_begin, then tally_add for every KEY.USER entry of ONE
 * consistent snapshot of the source (the kubelet's ..data snapshot, one
 * ConfigMap object), then tally_end. Every entry must be added, however
 * many there are, so that no refusal hides behind a flood of others. A
 * source that finds its snapshot replaced while it read skips tally_end
 * (and takes the count as pending): an approval and a refusal written in
 * one update are then never counted apart.
 */
#ifndef APPROVE_STEP_TALLY_H
#define APPROVE_STEP_TALLY_H

#include "content.h"
#include "decision.h"
#include "options.h"
#include "seen.h"
#include "voter.h"

#include <stdbool.h>

/* Kept of each vote's comment: the comment result is bounded below this. */
#define TALLY_COMMENT_MAX 1024
/* Longest entry name: a ConfigMap key (253) or a file name (255). */
#define TALLY_NAME_MAX 255

struct tally_vote {
	char name[TALLY_NAME_MAX + 1]; /* the entry, KEY.USER */
	char voter[VOTER_NAME_MAX + 1];
	enum verdict verdict;
	const char *not_counted; /* why it does not count, or NULL */
	bool missing;		 /* listed, then gone: a torn snapshot */
	char comment[TALLY_COMMENT_MAX + 1];
	size_t comment_len;
};

/*
 * One count in progress; the caller owns it (about 110 KiB: keep it off
 * the stack). Only the approvals needed to describe the result are kept.
 */
struct tally {
	const struct options *opts; /* key, approvals, approvers, requester */
	struct seen *seen;	    /* the source's log memory and labels */
	struct decision parsed;	    /* the vote being read */
	struct tally_vote current;
	struct tally_vote no; /* the first counted refusal */
	bool refused;
	struct tally_vote yes[OPTIONS_APPROVERS_MAX];
	int yes_kept;
	long approvals;
};

/* True when name is a vote entry for key: "KEY.USER", USER not empty. */
bool tally_is_vote(const char *name, const char *key);

void tally_begin(struct tally *t, const struct options *opts,
		 struct seen *seen);

/*
 * Counts the vote entry name (tally_is_vote) with content c, and logs
 * it when it changed: "vote \"KEY.USER\" by \"USER\": approved", or a
 * warning saying why it does not count, each line ending with seen->via.
 * A missing entry is pending and not logged (listed, then removed).
 */
void tally_add(struct tally *t, const char *name, const struct content *c);

/*
 * The count's verdict: VERDICT_REFUSED (d names the first refusal),
 * VERDICT_APPROVED (d names the approvers in order and their comments)
 * or VERDICT_PENDING (d empty; "N of M approvals so far" logged when
 * that changed).
 */
enum verdict tally_end(struct tally *t, struct decision *d);

#endif
