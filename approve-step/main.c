/*
 * approve-step: a Tekton step that waits for a human go / no-go written
 * to a mounted ConfigMap (or any directory), without polling.
 */
#include "log.h"
#include "options.h"
#include "report.h"
#include "results.h"
#include "wait.h"
#include "watch.h"

#include <signal.h>
#include <unistd.h>

/* Network file systems report no remote writes: re-read them this often. */
#define REMOTE_POLL_MS 5000

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

	/* Before anything else, so that a cancel during start-up is queued. */
	watch_block_signals(&signals);
	log_guard_std_fds();
	start = now_ms();

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
	if (opts.poll_ms == POLL_AUTO)
		opts.poll_ms = watch.remote_fs ? REMOTE_POLL_MS : 0;

	report_start(&opts, &watch);
	wait_for_decision(&opts, &watch, start, &out);
	report_outcome(&opts, &out, &results);
	if (results_fd >= 0 && results.decision != NULL)
		results_write(results_fd, &results);
	code = outcome_exit_code(&opts, &out);
out:
	watch_close(&watch);
	if (results_fd >= 0)
		close(results_fd);
	return (int)code;
}
