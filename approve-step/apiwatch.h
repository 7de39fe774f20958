/*
 * The ConfigMap through the Kubernetes API: list it, then watch it from
 * the list's resourceVersion, one nonblocking connection at a time,
 * driven by the one poll() loop (apiwatch_fd, apiwatch_wake_at,
 * apiwatch_step). Everything it learns is the latest object, or none.
 */
#ifndef APPROVE_STEP_APIWATCH_H
#define APPROVE_STEP_APIWATCH_H

#include "configmap.h"
#include "http.h"
#include "kube.h"
#include "tls.h"

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdint.h>

/* Connecting, the TLS handshake and the answer's head must take no longer. */
#define APIWATCH_CONNECT_MS 10000
/* The watch's own renewal: the server ends it after this many seconds. */
#define APIWATCH_RENEW_MIN_S 300
#define APIWATCH_RENEW_MAX_S 600
/* Retries back off up to this, never faster than one attempt a second. */
#define APIWATCH_BACKOFF_MAX_MS 30000
#define APIWATCH_ATTEMPT_MIN_MS 1000

#define APIWATCH_CAUSE_MAX 512

struct apiwatch {
	/* What to watch, and where; set by apiwatch_open. */
	struct kube_url url;
	const char *credentials;
	const char *ns, *name;
	char ns_file[64]; /* the namespace read from the credentials */
	struct tls_ca ca;

	enum apiwatch_state {
		APIWATCH_IDLE,	  /* waiting for retry_at */
		APIWATCH_CONNECT, /* TCP connect in progress */
		APIWATCH_HEAD,	  /* TLS handshake, request, answer's head */
		APIWATCH_BODY,	  /* the list's body or the watch stream */
	} state;
	bool watching; /* this connection is a watch, not a list */
	int fd;
	short events;
	int64_t deadline; /* the current state's time limit; -1: none */
	int64_t retry_at, last_attempt;
	unsigned failures;
	unsigned timeout_s; /* of the current watch */

	char head[HTTP_HEAD_MAX];
	size_t head_len;
	struct http_head answer;
	struct chunked chunked;
	int64_t body_left; /* Content-Length still to come; -1: unknown */
	struct lines lines;

	char rv[128]; /* the resourceVersion to watch from */
	bool started; /* the first watch was established */
	bool unusable;
	bool retrying; /* a failure after start was logged */
	char cause[APIWATCH_CAUSE_MAX];
	char fix[APIWATCH_CAUSE_MAX];
	uint64_t logged_cause; /* to log a repeated failure once */
	bool warned_bad_event;

	/*
	 * Called with each new state of the ConfigMap (NULL: it does not
	 * exist); returns true when that state decides, which ends the watch.
	 */
	bool (*on_change)(void *arg, const struct configmap *cm);
	void *arg;
	uint64_t rng;

	struct tls tls;
};

/*
 * Reads where the server is and the credentials (ns NULL: the namespace
 * file), without touching the network. False when the API cannot be used:
 * cause and fix say why and what to do.
 */
bool apiwatch_prepare(struct apiwatch *a, const char *server,
		      const char *credentials, const char *ns,
		      const char *name);

/* Starts the first list; false as apiwatch_prepare. */
bool apiwatch_start(struct apiwatch *a, int64_t now);

/* The descriptor to poll and for what; -1 when none. */
int apiwatch_fd(const struct apiwatch *a, short *events);

/* When apiwatch_step must run even without an event; -1: never. */
int64_t apiwatch_wake_at(const struct apiwatch *a);

enum apiwatch_event {
	APIWATCH_NOTHING,
	APIWATCH_DECIDED,  /* on_change returned true */
	APIWATCH_UNUSABLE, /* failed before the first watch: cause, fix */
};

/* Moves on after poll reported revents (0: a timer ran out). */
enum apiwatch_event apiwatch_step(struct apiwatch *a, short revents,
				  int64_t now);

void apiwatch_close(struct apiwatch *a);

#endif
