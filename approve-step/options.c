#include "options.h"

#include "duration.h"
#include "kube.h"
#include "log.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef APPROVE_STEP_VERSION
#define APPROVE_STEP_VERSION "unknown"
#endif

static const char usage[] =
	"Usage: approve-step --dir DIR [options]\n"
	"       approve-step --api on --configmap NAME [options]\n"
	"\n"
	"Wait until the file KEY in DIR (or the key KEY of the ConfigMap, read\n"
	"through the Kubernetes API) holds a decision, then exit 0 if it\n"
	"approves and 1 if it refuses, on timeout, or when cancelled.\n"
	"\n"
	"  --dir DIR              directory holding the decision (the workspace);\n"
	"                         may be omitted with --api on\n"
	"  --key NAME             file in DIR with the decision (default: status)\n"
	"  --timeout DURATION     86400, 90s, 15m, 1.5h, 1h30m; 0 waits forever\n"
	"                         (default: 24h)\n"
	"  --on-timeout ACTION    refuse or approve (default: refuse)\n"
	"  --results-dir DIR      write Tekton results (decision, approver,\n"
	"                         comment, waited-seconds) into DIR\n"
	"  --configmap NAME       ConfigMap behind DIR: for kubectl commands, and\n"
	"                         the one watched (required) with --api auto|on\n"
	"  --namespace NS         its namespace (default with --api: the\n"
	"                         namespace file of --api-credentials)\n"
	"  --poll-interval DUR    also re-read every DUR, at least 100ms; 0 never\n"
	"                         (default: only on network file systems, every\n"
	"                         5s; without inotify, its limits used up, 5s\n"
	"                         even for 0)\n"
	"  --approvals N          approving votes needed, 1 to 64 (default: 1)\n"
	"  --approvers A,B,...    only these users' votes count (without it:\n"
	"                         anyone's but ServiceAccounts' and system: users')\n"
	"  --requester NAME       this user's votes never count\n"
	"  --message TEXT         what the approvers are asked to approve\n"
	"                         (\"Deploy v1.4.2 to prod\"), shown in the\n"
	"                         log; at most 500 bytes\n"
	"  --bindings-pinned B    true: the cluster pins the workspace's binding\n"
	"                         (policy/approve-step-runs.yaml), so votes on\n"
	"                         the volume count too (the weaker mode); false\n"
	"                         (default): votes count only through the API\n"
	"  --api MODE             also watch the ConfigMap through the Kubernetes\n"
	"                         API with the pod's ServiceAccount: off, auto\n"
	"                         (if usable at start) or on (required)\n"
	"                         (default: off)\n"
	"  --api-server URL       https://HOST[:PORT] (default: https://\n"
	"                         $KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT)\n"
	"  --api-credentials DIR  token, ca.crt, namespace (default: /var/run/\n"
	"                         secrets/kubernetes.io/serviceaccount)\n"
	"  -h, --help             show this help\n"
	"  --version              show the version\n"
	"\n"
	"Decisions: approved, approve, success | refused, refuse, rejected,\n"
	"reject, denied | pending: empty, init, pending, notifying, notified,\n"
	"waiting; or JSON {\"decision\": ..., \"approver\": ..., \"comment\": ...}.\n"
	"With --approvals > 1, --approvers or --requester, votes are files\n"
	"KEY.USER (USER encoded: bytes outside [-.a-zA-Z0-9] as _xx).\n"
	"\n"
	"Exit status: 0 approved; 1 refused, timed out or cancelled;\n"
	"2 usage or setup error.\n";

enum {
	OPT_DIR = 256,
	OPT_KEY,
	OPT_TIMEOUT,
	OPT_ON_TIMEOUT,
	OPT_RESULTS_DIR,
	OPT_CONFIGMAP,
	OPT_NAMESPACE,
	OPT_POLL_INTERVAL,
	OPT_APPROVALS,
	OPT_APPROVERS,
	OPT_REQUESTER,
	OPT_MESSAGE,
	OPT_BINDINGS_PINNED,
	OPT_API,
	OPT_API_SERVER,
	OPT_API_CREDENTIALS,
	OPT_VERSION,
};

static const struct option long_options[] = {
	{"dir", required_argument, NULL, OPT_DIR},
	{"key", required_argument, NULL, OPT_KEY},
	{"timeout", required_argument, NULL, OPT_TIMEOUT},
	{"on-timeout", required_argument, NULL, OPT_ON_TIMEOUT},
	{"results-dir", required_argument, NULL, OPT_RESULTS_DIR},
	{"configmap", required_argument, NULL, OPT_CONFIGMAP},
	{"namespace", required_argument, NULL, OPT_NAMESPACE},
	{"poll-interval", required_argument, NULL, OPT_POLL_INTERVAL},
	{"approvals", required_argument, NULL, OPT_APPROVALS},
	{"approvers", required_argument, NULL, OPT_APPROVERS},
	{"requester", required_argument, NULL, OPT_REQUESTER},
	{"message", required_argument, NULL, OPT_MESSAGE},
	{"bindings-pinned", required_argument, NULL, OPT_BINDINGS_PINNED},
	{"api", required_argument, NULL, OPT_API},
	{"api-server", required_argument, NULL, OPT_API_SERVER},
	{"api-credentials", required_argument, NULL, OPT_API_CREDENTIALS},
	{"help", no_argument, NULL, 'h'},
	{"version", no_argument, NULL, OPT_VERSION},
	{NULL, 0, NULL, 0},
};

static bool is_digits(const char *s, size_t n)
{
	if (n == 0)
		return false;
	for (size_t i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return true;
}

static bool all_chars_in(const char *s, const char *extra)
{
	for (; *s != '\0'; s++) {
		char c = *s;
		bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			     (c >= '0' && c <= '9');
		if (!alnum && strchr(extra, c) == NULL)
			return false;
	}
	return true;
}

bool options_valid_key(const char *s)
{
	size_t len = strlen(s);
	return len >= 1 && len <= 253 && all_chars_in(s, "-._") &&
	       strcmp(s, ".") != 0 && strncmp(s, "..", 2) != 0;
}

/* A DNS-1123 name as Kubernetes requires for ConfigMaps and namespaces. */
static bool valid_dns_name(const char *s, size_t max, const char *extra)
{
	size_t len = strlen(s);
	if (len < 1 || len > max || !all_chars_in(s, extra))
		return false;
	for (const char *p = s; *p != '\0'; p++)
		if (*p >= 'A' && *p <= 'Z')
			return false;
	return strchr(extra, s[0]) == NULL && strchr(extra, s[len - 1]) == NULL;
}

static bool parse_approvers(const char *arg, struct options *opts)
{
	char *list = opts->approvers_list;

	if (strlen(arg) >= sizeof(opts->approvers_list)) {
		log_error("--approvers: longer than %zu bytes",
			  sizeof(opts->approvers_list) - 1);
		return false;
	}
	memcpy(list, arg, strlen(arg) + 1);
	opts->approvers_len = 0;
	for (char *save = NULL, *name = strtok_r(list, ",", &save);
	     name != NULL; name = strtok_r(NULL, ",", &save)) {
		/* "alice, bob" is what people type: drop the blanks. */
		char *end = name + strlen(name);
		while (*name == ' ')
			name++;
		while (end > name && end[-1] == ' ')
			*--end = '\0';
		if (*name == '\0')
			continue;
		if (opts->approvers_len == OPTIONS_APPROVERS_MAX) {
			log_error("--approvers: more than %d names",
				  OPTIONS_APPROVERS_MAX);
			return false;
		}
		opts->approvers[opts->approvers_len++] = name;
	}
	return true;
}

static bool usage_error(const char *option, const char *value,
			const char *expected)
{
	char q[LOG_VALUE_MAX];
	log_error("%s %s: expected %s (see --help)", option,
		  log_quote(q, value, strlen(value)), expected);
	return false;
}

static bool set_option(int opt, char *arg, struct options *opts)
{
	struct kube_url url;
	char *end;

	switch (opt) {
	case OPT_DIR:
		opts->dir = arg;
		return *arg != '\0' ||
		       usage_error("--dir", arg, "a directory");
	case OPT_KEY:
		opts->key = arg;
		return options_valid_key(arg) ||
		       usage_error("--key", arg,
				   "a ConfigMap key: letters, digits, '-', "
				   "'_', '.', not starting with '..'");
	case OPT_TIMEOUT:
		return duration_parse(arg, &opts->timeout_ms) ||
		       usage_error("--timeout", arg,
				   "seconds (86400) or a duration (90s, 15m, "
				   "1.5h, 1h30m; units h, m, s, ms); 0 waits "
				   "forever");
	case OPT_ON_TIMEOUT:
		opts->approve_on_timeout = strcmp(arg, "approve") == 0;
		return opts->approve_on_timeout || strcmp(arg, "refuse") == 0 ||
		       usage_error("--on-timeout", arg, "refuse or approve");
	case OPT_RESULTS_DIR:
		opts->results_dir = arg;
		return *arg != '\0' ||
		       usage_error("--results-dir", arg, "a directory");
	case OPT_CONFIGMAP:
		opts->configmap = *arg ? arg : NULL;
		opts->configmap_given = true;
		return !*arg || valid_dns_name(arg, 253, "-.") ||
		       usage_error("--configmap", arg, "a ConfigMap name");
	case OPT_NAMESPACE:
		opts->namespace = *arg ? arg : NULL;
		return !*arg || valid_dns_name(arg, 63, "-") ||
		       usage_error("--namespace", arg, "a namespace name");
	case OPT_POLL_INTERVAL:
		if (*arg == '\0') {
			opts->poll_ms = OPTIONS_POLL_AUTO;
			return true;
		}
		return (duration_parse(arg, &opts->poll_ms) &&
			(opts->poll_ms == 0 || opts->poll_ms >= OPTIONS_POLL_MIN_MS)) ||
		       usage_error("--poll-interval", arg,
				   "0 or a duration of at least 100ms");
	case OPT_APPROVALS:
		errno = 0;
		opts->approvals = strtol(arg, &end, 10);
		return (is_digits(arg, strlen(arg)) && errno == 0 &&
			*end == '\0' && opts->approvals >= 1 &&
			opts->approvals <= OPTIONS_APPROVERS_MAX) ||
		       usage_error("--approvals", arg,
				   "a whole number from 1 to 64");
	case OPT_APPROVERS:
		return parse_approvers(arg, opts);
	case OPT_REQUESTER:
		opts->requester = *arg ? arg : NULL;
		return true;
	case OPT_MESSAGE:
		opts->message = *arg ? arg : NULL;
		if (strlen(arg) <= OPTIONS_MESSAGE_MAX)
			return true;
		log_error("--message is %zu bytes; at most %d", strlen(arg),
			  OPTIONS_MESSAGE_MAX);
		return false;
	case OPT_BINDINGS_PINNED:
		opts->bindings_pinned = !strcmp(arg, "true");
		return opts->bindings_pinned || !*arg ||
		       !strcmp(arg, "false") ||
		       usage_error("--bindings-pinned", arg, "true or false");
	case OPT_API:
		opts->api = !strcmp(arg, "on")	   ? API_ON
			    : !strcmp(arg, "auto") ? API_AUTO
						   : API_OFF;
		return opts->api != API_OFF || !*arg || !strcmp(arg, "off") ||
		       usage_error("--api", arg, "off, auto or on");
	case OPT_API_SERVER:
		opts->api_server = *arg ? arg : NULL;
		return !*arg || kube_url_parse(arg, &url) ||
		       usage_error("--api-server", arg,
				   "https://HOST[:PORT], HOST an IPv4 "
				   "address, [an IPv6 address] or a DNS name, "
				   "nothing after the port");
	case OPT_API_CREDENTIALS:
		opts->api_credentials = *arg ? arg : KUBE_CREDENTIALS_DIR;
		return true;
	}
	return false;
}

/* Checks that need all options: a quorum that can never be reached. */
static bool check_quorum(const struct options *opts)
{
	int eligible = opts->approvers_len;

	if (eligible == 0)
		return true;
	for (int i = 0; i < opts->approvers_len; i++)
		if (opts->requester &&
		    strcmp(opts->approvers[i], opts->requester) == 0)
			eligible--;
	if (opts->approvals <= eligible)
		return true;
	log_error("--approvals %ld can never be reached: only %d of the "
		  "--approvers may vote%s",
		  opts->approvals, eligible,
		  eligible < opts->approvers_len ? " (the requester may not)"
						 : "");
	return false;
}

bool options_vote_mode(const struct options *opts)
{
	return opts->approvals > 1 || opts->approvers_len > 0 ||
	       opts->requester != NULL;
}

enum options_result options_parse(int argc, char **argv, struct options *opts)
{
	int opt;

	*opts = (struct options){
		.key = "status",
		.timeout_ms = 24 * 3600 * 1000,
		.poll_ms = OPTIONS_POLL_AUTO,
		.approvals = 1,
		.api_credentials = KUBE_CREDENTIALS_DIR,
	};
	opterr = 0; /* our own messages, in our log format */
	optind = 1;
	while ((opt = getopt_long(argc, argv, ":h", long_options, NULL)) != -1) {
		if (opt == 'h') {
			fputs(usage, stdout);
			return OPTIONS_EXIT_OK;
		} else if (opt == OPT_VERSION) {
			puts("approve-step " APPROVE_STEP_VERSION);
			return OPTIONS_EXIT_OK;
		} else if (opt == ':') {
			log_error("%s needs a value (see --help)",
				  argv[optind - 1]);
			return OPTIONS_USAGE_ERROR;
		} else if (opt == '?') {
			char q[LOG_VALUE_MAX];
			const char *arg = argv[optind - 1];
			log_error("unknown option %s (see --help)",
				  log_quote(q, arg, strlen(arg)));
			return OPTIONS_USAGE_ERROR;
		} else if (!set_option(opt, optarg, opts)) {
			return OPTIONS_USAGE_ERROR;
		}
	}
	if (optind < argc) {
		char q[LOG_VALUE_MAX];
		log_error("unexpected argument %s (see --help)",
			  log_quote(q, argv[optind], strlen(argv[optind])));
		return OPTIONS_USAGE_ERROR;
	}
	/*
	 * The API needs a ConfigMap to watch. Only auto with an empty one (a
	 * Task passing its configmap param through, unset) goes on: the
	 * empty name is one more reason the API cannot be used, said by
	 * apiwatch_prepare, and the volume decides alone.
	 */
	if (opts->api != API_OFF && opts->configmap == NULL &&
	    (opts->api == API_ON || !opts->configmap_given)) {
		log_error("--api %s needs --configmap NAME: the ConfigMap to "
			  "watch (see --help)",
			  opts->api == API_ON ? "on" : "auto");
		return OPTIONS_USAGE_ERROR;
	}
	if (opts->dir == NULL && opts->api != API_ON) {
		log_error("--dir is required, unless --api on (see --help)");
		return OPTIONS_USAGE_ERROR;
	}
	if (options_vote_mode(opts) && strchr(opts->key, '.') != NULL) {
		/*
		 * A vote key is KEY.USER split at its first dot, which is how
		 * the admission policy reads it: a dotted KEY would credit a
		 * vote to someone else.
		 */
		log_error("--key %s has a dot: with votes (--approvals, "
			  "--approvers, --requester) the key must have none",
			  opts->key);
		return OPTIONS_USAGE_ERROR;
	}
	if (!check_quorum(opts))
		return OPTIONS_USAGE_ERROR;
	if (options_vote_mode(opts) && opts->api == API_OFF &&
	    !opts->bindings_pinned) {
		/* A vote file on the volume proves nothing about its writer. */
		log_error("votes (--approvals, --approvers, --requester) are "
			  "read through the Kubernetes API: give --api on or "
			  "auto with --configmap (and the Role of "
			  "examples/api-watch/), or --bindings-pinned true "
			  "where the cluster pins the workspace's binding "
			  "(policy/approve-step-runs.yaml; the weaker mode)");
		return OPTIONS_USAGE_ERROR;
	}
	return OPTIONS_RUN;
}

bool options_volume_votes(const struct options *opts)
{
	return opts->dir != NULL &&
	       (!options_vote_mode(opts) || opts->bindings_pinned);
}
