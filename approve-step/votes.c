#include "votes.h"

#include "log.h"
#include "readfile.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define VOTES_MAX 256 /* vote files looked at; more is an attack, not a team */

static bool plain_byte(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '-' || c == '.';
}

bool voter_name_encode(const char *name, char *out, size_t outsz)
{
	size_t o = 0;

	for (const unsigned char *p = (const void *)name; *p != '\0'; p++) {
		size_t need = plain_byte(*p) ? 1 : 3;
		if (o + need + 1 > outsz)
			return false;
		if (need == 1)
			out[o] = (char)*p;
		else
			snprintf(out + o, 4, "_%02x", *p);
		o += need;
	}
	out[o] = '\0';
	return true;
}

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1; /* upper case too: one spelling per name */
}

bool voter_name_decode(const char *encoded, char *out, size_t outsz)
{
	size_t o = 0;

	if (*encoded == '\0')
		return false;
	for (const char *p = encoded; *p != '\0'; o++) {
		unsigned char c = (unsigned char)*p;
		if (o + 1 >= outsz)
			return false;
		if (plain_byte(c)) {
			out[o] = (char)c;
			p++;
			continue;
		}
		if (c != '_' || hex_digit(p[1]) < 0 || hex_digit(p[2]) < 0)
			return false;
		c = (unsigned char)(hex_digit(p[1]) * 16 + hex_digit(p[2]));
		/* A byte that needs no escape must not have one. */
		if (c == '\0' || plain_byte(c))
			return false;
		out[o] = (char)c;
		p += 3;
	}
	out[o] = '\0';
	return true;
}

struct vote {
	char file[256];
	char voter[VOTER_NAME_MAX + 1];
	enum verdict verdict;
	const char *not_counted; /* why it does not count, or NULL */
	char comment[DECISION_FIELD_MAX + 1];
	size_t comment_len;
};

static struct vote votes[VOTES_MAX];

static int by_file(const void *a, const void *b)
{
	return strcmp(((const struct vote *)a)->file,
		      ((const struct vote *)b)->file);
}

/* The file names KEY.SOMETHING in the directory, sorted. */
static int list_vote_files(struct gate *g)
{
	size_t key_len = strlen(g->opts->key);
	int n = 0;
	struct dirent *e;
	DIR *dir = opendir(g->opts->dir); /* glibc and musl: O_CLOEXEC */

	if (dir == NULL) {
		log_warn("cannot list %s: %s; still waiting", g->opts->dir,
			 strerror(errno));
		return 0;
	}
	while ((e = readdir(dir)) != NULL && n < VOTES_MAX) {
		if (strncmp(e->d_name, g->opts->key, key_len) != 0 ||
		    e->d_name[key_len] != '.' || e->d_name[key_len + 1] == '\0')
			continue;
		snprintf(votes[n].file, sizeof(votes[n].file), "%s", e->d_name);
		n++;
	}
	closedir(dir);
	qsort(votes, (size_t)n, sizeof(votes[0]), by_file);
	return n;
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
static void read_vote(struct gate *g, struct vote *v, uint64_t *fp)
{
	static struct decision d;
	const char *encoded = v->file + strlen(g->opts->key) + 1;
	struct file_content c;

	v->not_counted = NULL;
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
	read_decision_file(g->opts->dir, v->file, &c);
	*fp = gate_fingerprint(c.status, c.data, c.status == READ_OK ? c.len : 0);
	if (c.status != READ_OK)
		return; /* a vote being written or removed: pending */
	decision_parse(c.data, c.len, &d);
	v->verdict = d.verdict;
	memcpy(v->comment, d.comment, d.comment_len + 1);
	v->comment_len = d.comment_len;
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
		if (g->votes_len == GATE_REMEMBERED)
			return true; /* a flood of voters: log every change */
		g->votes[g->votes_len++].name = name;
	} else if (g->votes[i].state == fp) {
		return false;
	}
	g->votes[i].state = fp;
	return true;
}

static void log_vote(struct gate *g, const struct vote *v, uint64_t fp)
{
	char who[LOG_VALUE_MAX];

	if (!vote_changed(g, v->file, fp))
		return;
	log_quote(who, v->voter, strlen(v->voter));
	if (v->not_counted && v->verdict != VERDICT_PENDING) {
		log_warn("vote %s by %s: %s, not counted: %s", v->file, who,
			 verdict_name(v->verdict), v->not_counted);
	} else {
		log_info("vote %s by %s: %s", v->file, who,
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
	char names[LOG_VALUE_MAX] = "", shown[LOG_VALUE_MAX];
	uint64_t fp = gate_fingerprint(2, &n, sizeof(n));
	size_t len = 0;

	for (int i = 0; i < n; i++)
		fp = gate_fingerprint(fp, yes[i]->voter, strlen(yes[i]->voter));
	if (fp == g->last_state)
		return;
	g->last_state = fp;
	for (int i = 0; i < n && len < sizeof(names) - 1; i++)
		len += (size_t)snprintf(names + len, sizeof(names) - len,
					"%s%s", i ? ", " : "", yes[i]->voter);
	if (len > sizeof(names) - 1)
		len = sizeof(names) - 1;
	log_info("%d of %ld approvals so far%s%s", n, g->opts->approvals,
		 n ? ": " : "", n ? log_quote(shown, names, len) : "");
}

enum verdict votes_check(struct gate *g, struct verdict_detail *detail)
{
	const struct vote *yes[VOTES_MAX], *no = NULL;
	int n = list_vote_files(g), approvals = 0;

	for (int i = 0; i < n; i++) {
		uint64_t fp;
		read_vote(g, &votes[i], &fp);
		log_vote(g, &votes[i], fp);
		if (votes[i].not_counted)
			continue;
		if (votes[i].verdict == VERDICT_REFUSED && no == NULL)
			no = &votes[i];
		else if (votes[i].verdict == VERDICT_APPROVED)
			yes[approvals++] = &votes[i];
	}
	if (no != NULL) {
		describe(&no, 1, detail);
		return VERDICT_REFUSED;
	}
	if (approvals >= g->opts->approvals) {
		describe(yes, approvals, detail);
		return VERDICT_APPROVED;
	}
	log_progress(g, yes, approvals);
	return VERDICT_PENDING;
}
