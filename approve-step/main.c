/*
 * approve-step: a Tekton step that waits for a human go / no-go written
 * to a ConfigMap, mounted (or any directory) or read through the
 * Kubernetes API, without polling.
 *
 * From what is read to the exit code:
 *   options_parse     the command line                      (options.c)
 *   watch_open        inotify on --dir, signalfd for cancels (watch.c)
 *   apiwatch_prepare  with --api: the server and credentials (apiwatch.c)
 *   report_start      the first lines: what we wait for     (report.c)
 *   wait_for_decision the loop: on every change it reads the directory
 *                     (readfile.c, snapshot.c) or takes the ConfigMap's
 *                     new state from the watch (apiwatch.c, configmap.c)
 *                     and judges what it read (key.c for one key,
 *                     tally.c for votes; decision.c reads one value),
 *                     until a decision, the deadline or a signal: a
 *                     struct outcome                         (wait.c)
 *   report_outcome    the last line and the Tekton results   (report.c,
 *                                                            results.c)
 *   exit_code_for     the outcome as the exit status         (below)
 */
#include "apiwatch.h"
#include "log.h"
#include "monotonic.h"
#include "options.h"
#include "report.h"
#include "results.h"
#include "wait.h"
#include "watch.h"

#include <signal.h>
#include <unistd.h>

/* Network file systems report no remote writes: re-read them this often. */
#define REMOTE_POLL_MS 5000
/* Without inotify (a kernel limit ran out), re-read this often. */
#define NO_INOTIFY_POLL_MS 5000

/* The exit status Tekton sees (README, "Exit codes"). */
enum exit_code { EXIT_APPROVED = 0, EXIT_REFUSED = 1, EXIT_SETUP = 2 };

static enum exit_code exit_code_for(const struct options *opts,
				    const struct outcome *out)
{
	switch (out->kind) {
	case OUTCOME_APPROVED:
		return EXIT_APPROVED;
	case OUTCOME_TIMEOUT:
		return opts->approve_on_timeout ? EXIT_APPROVED : EXIT_REFUSED;
	case OUTCOME_REFUSED:
	case OUTCOME_CANCELLED:
		return EXIT_REFUSED;
	case OUTCOME_FAILED:
		break;
	}
	return EXIT_SETUP;
}

/*
 * The one place signals are set up. The cancelling signals are blocked
 * (watch_open reads them from a signalfd) before anything else, so that a
 * cancel during start-up is queued, not lost or fatal.
 */
static void block_signals(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGTERM);
	sigaddset(set, SIGINT);
	sigaddset(set, SIGHUP);
	sigprocmask(SIG_BLOCK, set, NULL);
	/* A closed log pipe is reported by write(); it must not kill us. */
	signal(SIGPIPE, SIG_IGN);
}

/*
 * How often to re-read besides the events: --poll-interval if given; on a
 * network file system REMOTE_POLL_MS; without events at all at least
 * every NO_INOTIFY_POLL_MS, even with --poll-interval 0, or no decision
 * would ever be seen.
 */
static int64_t poll_interval(const struct options *opts,
			     const struct watch *w)
{
	int64_t ms = opts->poll_ms;

	if (ms == OPTIONS_POLL_AUTO)
		ms = w->remote_fs ? REMOTE_POLL_MS : 0;
	if (w->limit != LIMIT_NONE && ms == 0)
		ms = NO_INOTIFY_POLL_MS;
	return ms;
}

/*
 * Large buffers (TLS records, the answer's head): not on the stack, and
 * zero-initialised (in .bss, not 64 KiB of the file).
 */
static struct apiwatch api;

int main(int argc, char **argv)
{
	struct options opts;
	struct watch watch = {.inotify_fd = -1, .signal_fd = -1};
	struct outcome out;
	struct results results;
	enum exit_code code = EXIT_SETUP;
	int64_t start;
	int results_fd = -1;
	sigset_t signals;

	block_signals(&signals);
	log_guard_std_fds();
	api.fd = -1;
	start = monotonic_ms();

	switch (options_parse(argc, argv, &opts)) {
	case OPTIONS_RUN:
		break;
	case OPTIONS_EXIT_OK:
		return EXIT_APPROVED;
	case OPTIONS_USAGE_ERROR:
		return EXIT_SETUP;
	}
	if (opts.results_dir && (results_fd = results_open(opts.results_dir)) < 0)
		goto out;
	if (!watch_open(&watch, opts.dir, &signals))
		goto out;
	opts.poll_ms = poll_interval(&opts, &watch);

	/* Nothing here touches the network: the list starts after the first lines. */
	if (opts.api != API_OFF &&
	    apiwatch_prepare(&api, opts.api_server, opts.api_credentials,
			     opts.namespace, opts.configmap) &&
	    opts.namespace == NULL)
		opts.namespace = api.ns;
	report_start(&opts, &watch);
	if (opts.api != API_OFF && !api.unusable)
		apiwatch_start(&api, monotonic_ms());
	wait_for_decision(&opts, &watch, opts.api != API_OFF ? &api : NULL,
			  start, &out);
	report_outcome(&opts, &out, &results);
	if (results_fd >= 0 && results.decision != NULL)
		results_write(results_fd, &results);
	code = exit_code_for(&opts, &out);
out:
	apiwatch_close(&api);
	watch_close(&watch);
	if (results_fd >= 0)
		close(results_fd);
	return (int)code;
}
