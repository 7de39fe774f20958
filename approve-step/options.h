/* The command line: what to wait for, for how long, and where to report. */
#ifndef APPROVE_STEP_OPTIONS_H
#define APPROVE_STEP_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define OPTIONS_APPROVERS_MAX 64
/* Below this a re-read loop would be busy polling, which we exist to avoid. */
#define OPTIONS_POLL_MIN_MS 100
#define OPTIONS_POLL_AUTO (-1)

/* Whether the ConfigMap is also watched through the Kubernetes API. */
enum api_mode {
	API_OFF,  /* the volume only; nothing touches the network */
	API_AUTO, /* the API if usable at start, else the volume alone */
	API_ON,	  /* the API is required */
};

/* --approvers' value, bytes: 64 names of a vote key's 253 and ", ". */
#define OPTIONS_APPROVERS_LIST_MAX (OPTIONS_APPROVERS_MAX * 256)

/*
 * --message's longest value, bytes: what a quoted value in the log (512
 * bytes) shows whole when nothing in it needs escaping.
 */
#define OPTIONS_MESSAGE_MAX 500

struct options {
	const char *dir; /* NULL only with API_ON: the API alone */
	const char *key;
	int64_t timeout_ms; /* 0: no deadline */
	bool approve_on_timeout;
	const char *results_dir; /* NULL: no results */
	const char *configmap;	 /* NULL: not known, only for hints */
	/* --configmap was on the command line, even empty (a Task's param). */
	bool configmap_given;
	const char *namespace;
	int64_t poll_ms; /* OPTIONS_POLL_AUTO, 0 (never) or an interval */
	long approvals;
	const char *approvers[OPTIONS_APPROVERS_MAX];
	int approvers_len;
	/*
	 * The copy of --approvers' value that approvers[] points into: the
	 * value is split on commas, and splitting argv itself would change
	 * what ps and /proc/PID/cmdline show.
	 */
	char approvers_list[OPTIONS_APPROVERS_LIST_MAX];
	const char *requester; /* NULL: anyone may vote */
	/*
	 * What the approvers are asked to approve ("Deploy v1.4.2 to prod"),
	 * shown in the first lines; NULL: none. Any bytes: escaped when shown.
	 */
	const char *message;
	/*
	 * Votes on the volume count only when the cluster pins the
	 * workspace's binding (policy/approve-step-runs.yaml): otherwise
	 * whoever creates the run chooses the files. The weaker mode.
	 */
	bool bindings_pinned;
	enum api_mode api;
	const char *api_server;	     /* NULL: from KUBERNETES_SERVICE_* */
	const char *api_credentials; /* the ServiceAccount directory */
};

enum options_result { OPTIONS_RUN, OPTIONS_EXIT_OK, OPTIONS_USAGE_ERROR };

/* Fills opts; prints --help/--version or the reason for a usage error. */
enum options_result options_parse(int argc, char **argv, struct options *opts);

/* True when only KEY.NAME vote files decide, not the plain KEY file. */
bool options_vote_mode(const struct options *opts);

/*
 * True when the volume may decide: always for a plain key; for votes only
 * with --bindings-pinned true (else whoever binds the workspace could
 * plant vote files).
 */
bool options_volume_votes(const struct options *opts);

/* A ConfigMap key: [-._a-zA-Z0-9]{1,253}, not "." and not starting "..". */
bool options_valid_key(const char *s);

#endif
