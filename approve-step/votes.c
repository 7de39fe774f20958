#include "votes.h"

#include "log.h"
#include "readfile.h"
#include "voter.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Kept of each vote's comment: the comment result is bounded below this. */
#define VOTE_COMMENT_MAX 1024

struct vote {
	char file[256];
	char voter[VOTER_NAME_MAX + 1];
	enum verdict verdict;
	const char *not_counted; /* why it does not count, or NULL */
	bool missing;		 /* listed, then gone: a scan torn by an update */
	char comment[VOTE_COMMENT_MAX + 1];
	size_t comment_len;
};

/*
 * What one look at the directory found. Every vote file is read, however
 * many there are, so that no refusal can hide behind a flood of others;
 * only the approvals needed to describe the result are kept.
 */
static struct tally {
	struct vote current;
	struct vote no; /* the first counted refusal */
	bool refused;
	struct vote yes[APPROVERS_MAX];
	int yes_kept;
	long approvals;
} t;

static int by_voter(const void *a, const void *b)
{
	return strcmp(((const struct vote *)a)->voter,
		      ((const struct vote *)b)->voter);
}

static bool is_vote_file(const char *name, const char *key, size_t key_len)
{
	return strncmp(name, key, key_len) == 0 && name[key_len] == '.' &&
	       name[key_len + 1] != '\0';
}

static bool on_approvers(const struct options *o, const char *voter)
{
	if (o->approvers_len == 0)
		return true;
	for (int i = 0; i < o->approvers_len; i++)
		if (strcmp(o->approvers[i], voter) == 0)
			return true;
	return false;
}

/* Reads one vote file and decides whether it counts. */
static void read_vote(struct gate *g, const char *dir, struct vote *v,
		      uint64_t *fp)
{
	static struct decision d;
	const char *encoded = v->file + strlen(g->opts->key) + 1;
	struct file_content c;

	v->not_counted = NULL;
	v->missing = false;
	v->verdict = VERDICT_PENDING;
	v->comment_len = 0;
	v->comment[0] = '\0';
	if (!voter_name_decode(encoded, v->voter, sizeof(v->voter))) {
		snprintf(v->voter, sizeof(v->voter), "%s", encoded);
		v->verdict = VERDICT_UNKNOWN;
		v->not_counted = "its name is not an encoded username";
		*fp = gate_fingerprint(1, v->file, strlen(v->file));
		return;
	}
	read_decision_file(dir, v->file, &c);
	v->missing = c.status == READ_MISSING;
	*fp = gate_fingerprint(c.status, c.data, c.status == READ_OK ? c.len : 0);
	if (c.status != READ_OK)
		return; /* a vote being written or removed: pending */
	decision_parse(c.data, c.len, &d);
	v->verdict = d.verdict;
	v->comment_len = d.comment_len < VOTE_COMMENT_MAX ? d.comment_len
							  : VOTE_COMMENT_MAX;
	memcpy(v->comment, d.comment, v->comment_len);
	v->comment[v->comment_len] = '\0';
	if (d.verdict == VERDICT_UNKNOWN)
		v->not_counted = d.problem;
	else if (g->opts->requester && strcmp(g->opts->requester, v->voter) == 0)
		v->not_counted = "the requester may not approve their own run";
	else if (!on_approvers(g->opts, v->voter))
		v->not_counted = "not on --approvers";
}

/* True if this vote file's content changed since it was last logged. */
static bool vote_changed(struct gate *g, const char *file, uint64_t fp)
{
	uint64_t name = gate_fingerprint(0, file, strlen(file));
	unsigned i;

	for (i = 0; i < g->votes_len; i++)
		if (g->votes[i].name == name)
			break;
	if (i == g->votes_len) {
		if (g->votes_len == GATE_REMEMBERED) {
			/* A flood of vote files: say so once, not per file. */
			if (gate_first_warning(g, 0x766f7465666c6f6fULL))
				log_warn("more than %d vote files: changes to "
					 "the others are counted but not logged",
					 GATE_REMEMBERED);
			return false;
		}
		g->votes[g->votes_len++].name = name;
	} else if (g->votes[i].state == fp) {
		return false;
	}
	g->votes[i].state = fp;
	return true;
}

static void log_vote(struct gate *g, const struct vote *v, uint64_t fp)
{
	char who[LOG_VALUE_MAX], file[LOG_VALUE_MAX];

	if (v->missing || !vote_changed(g, v->file, fp))
		return;
	/* File names are as untrusted as contents. */
	log_quote(file, v->file, strlen(v->file));
	log_quote(who, v->voter, strlen(v->voter));
	if (v->not_counted && v->verdict != VERDICT_PENDING) {
		log_warn("vote %s by %s: %s, not counted: %s", file, who,
			 verdict_name(v->verdict), v->not_counted);
	} else {
		log_info("vote %s by %s: %s", file, who,
			 verdict_name(v->verdict));
	}
}

/* Appends s to a bounded buffer; a cut is marked once. */
static void append(char *buf, size_t *len, const char *s, size_t n)
{
	const size_t mark = sizeof("...") - 1;

	if (*len + n > DECISION_FIELD_MAX) {
		n = *len + mark <= DECISION_FIELD_MAX
			    ? DECISION_FIELD_MAX - mark - *len
			    : 0;
		memcpy(buf + *len, s, n);
		*len += n;
		if (*len + mark <= DECISION_FIELD_MAX) {
			memcpy(buf + *len, "...", mark);
			*len += mark;
		}
	} else {
		memcpy(buf + *len, s, n);
		*len += n;
	}
	buf[*len] = '\0';
}

/* "alice,bob" and "alice: LGTM; bob: ship it" for the results. */
static void describe(const struct vote *const *who, int n,
		     struct verdict_detail *detail)
{
	detail->approver_len = detail->comment_len = 0;
	detail->approver[0] = detail->comment[0] = '\0';
	for (int i = 0; i < n; i++) {
		const struct vote *v = who[i];
		if (i > 0)
			append(detail->approver, &detail->approver_len, ",", 1);
		append(detail->approver, &detail->approver_len, v->voter,
		       strlen(v->voter));
		if (v->comment_len == 0)
			continue;
		if (detail->comment_len > 0)
			append(detail->comment, &detail->comment_len, "; ", 2);
		append(detail->comment, &detail->comment_len, v->voter,
		       strlen(v->voter));
		append(detail->comment, &detail->comment_len, ": ", 2);
		append(detail->comment, &detail->comment_len, v->comment,
		       v->comment_len);
	}
}

/* Logs how far the quorum has got, when that changes. */
static void log_progress(struct gate *g, const struct vote *const *yes, int n)
{
	char names[LOG_VALUE_MAX], shown[LOG_VALUE_MAX];
	const char *voters[APPROVERS_MAX];
	uint64_t fp = gate_fingerprint(2, &n, sizeof(n));
	size_t len;

	for (int i = 0; i < n; i++) {
		voters[i] = yes[i]->voter;
		fp = gate_fingerprint(fp, voters[i], strlen(voters[i]));
	}
	if (fp == g->last_state)
		return;
	g->last_state = fp;
	len = log_join(names, voters, n);
	log_info("%d of %ld approvals so far%s%s", n, g->opts->approvals,
		 n ? ": " : "", n ? log_quote(shown, names, len) : "");
}

/* Reads one vote file and adds it to the tally. */
static void count_vote(struct gate *g, const char *dir, const char *file)
{
	struct vote *v = &t.current;
	uint64_t fp;

	snprintf(v->file, sizeof(v->file), "%s", file);
	read_vote(g, dir, v, &fp);
	log_vote(g, v, fp);
	if (v->not_counted)
		return;
	if (v->verdict == VERDICT_REFUSED && !t.refused) {
		t.no = *v;
		t.refused = true;
	} else if (v->verdict == VERDICT_APPROVED) {
		if (t.yes_kept < APPROVERS_MAX)
			t.yes[t.yes_kept++] = *v;
		t.approvals++;
	}
}

/*
 * A ConfigMap volume's ..data links to an immutable snapshot of every key,
 * which the kubelet replaces with one rename: reading the votes there sees
 * one update whole or not at all, so an approval and a refusal written
 * together are never counted apart. Elsewhere (emptyDir, PVC): DIR itself.
 * Returns false when there is no snapshot.
 */
static bool snapshot_dir(const char *dir, char *out, size_t outsz)
{
	char link[PATH_MAX], target[NAME_MAX + 1];
	ssize_t n;

	snprintf(out, outsz, "%s", dir);
	if (snprintf(link, sizeof(link), "%s/..data", dir) >= (int)sizeof(link))
		return false;
	n = readlink(link, target, sizeof(target) - 1);
	if (n <= 0)
		return false;
	target[n] = '\0';
	if (strchr(target, '/') != NULL)
		return false; /* not the kubelet's layout */
	return snprintf(out, outsz, "%s/%s", dir, target) < (int)outsz;
}

/* Tallies every vote file in one directory; false if it could not be listed. */
static bool scan_votes(struct gate *g, const char *path, bool snapshot)
{
	size_t key_len = strlen(g->opts->key);
	DIR *dir = opendir(path); /* glibc and musl: O_CLOEXEC */
	struct dirent *e;

	t.refused = false;
	t.yes_kept = 0;
	t.approvals = 0;
	if (dir == NULL) {
		/* A snapshot removed under us is an update: its event follows. */
		if (!snapshot || errno != ENOENT)
			log_warn("cannot list %s: %s; still waiting", path,
				 strerror(errno));
		return false;
	}
	while ((e = readdir(dir)) != NULL)
		if (is_vote_file(e->d_name, g->opts->key, key_len))
			count_vote(g, path, e->d_name);
	closedir(dir);
	return true;
}

enum verdict votes_check(struct gate *g, struct verdict_detail *detail)
{
	const struct vote *yes[APPROVERS_MAX], *no = &t.no;
	char scanned[PATH_MAX], now[PATH_MAX];
	bool snapshot = snapshot_dir(g->opts->dir, scanned, sizeof(scanned));

	if (!scan_votes(g, scanned, snapshot))
		return VERDICT_PENDING;
	/* Replaced while we read it: the rename's event makes us look again. */
	if (snapshot && (!snapshot_dir(g->opts->dir, now, sizeof(now)) ||
			 strcmp(now, scanned) != 0))
		return VERDICT_PENDING;

	/* Directory order is arbitrary: name the voters in a stable order. */
	qsort(t.yes, (size_t)t.yes_kept, sizeof(t.yes[0]), by_voter);
	for (int i = 0; i < t.yes_kept; i++)
		yes[i] = &t.yes[i];
	if (t.refused) {
		describe(&no, 1, detail);
		return VERDICT_REFUSED;
	}
	if (t.approvals >= g->opts->approvals) {
		describe(yes, t.yes_kept, detail);
		return VERDICT_APPROVED;
	}
	log_progress(g, yes, t.yes_kept);
	return VERDICT_PENDING;
}
