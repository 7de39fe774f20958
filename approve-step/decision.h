/* What a decision file says: approve, refuse, still pending, or nonsense. */
#ifndef APPROVE_STEP_DECISION_H
#define APPROVE_STEP_DECISION_H

#include "verdict.h"

#include <stdbool.h>
#include <stddef.h>

/* A ConfigMap holds at most 1 MiB; anything larger is not ours. */
#define DECISION_FILE_MAX (1024 * 1024)
/* Raw bytes kept of "approver" and "comment"; outputs bound them further. */
#define DECISION_FIELD_MAX 4096

struct decision {
	enum verdict verdict;
	/* For VERDICT_UNKNOWN: what is wrong, for the log. */
	const char *problem;
	char approver[DECISION_FIELD_MAX + 1];
	size_t approver_len;
	char comment[DECISION_FIELD_MAX + 1];
	size_t comment_len;
};

/*
 * Reads buf (len bytes; buf[len] must be '\0') as a decision word or a
 * JSON object {"decision", "approver", "comment"}.
 */
void decision_parse(const char *buf, size_t len, struct decision *d);

/* The verdict a word (any case, surrounding white space) stands for. */
enum verdict decision_word(const char *word, size_t len);

/* The accepted words, for messages: "approved, approve, success". */
extern const char decision_approve_words[];
extern const char decision_refuse_words[];

#endif
