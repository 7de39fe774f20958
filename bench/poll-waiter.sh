#!/bin/bash
# The sleep-polling approval step that approve-step replaces, written for the
# benchmark in the spirit of the widely copied Tekton article: every round
# `cat` the decision file, exit 0 on success, 1 on refused, else sleep 2 s,
# until the timeout runs out.
#
#   poll-waiter.sh DIR [KEY] [TIMEOUT_SECONDS]
#
# It accepts `approved` as well as the article's `success`, so the benchmark
# can give every waiter the same update. One line on stderr when it starts
# (an echo, a builtin: no fork) and one when it decides, so that its start-up
# and its decision can be timed like the other waiters'.
dir=${1:?usage: poll-waiter.sh DIR [KEY] [TIMEOUT_SECONDS]}
key=${2:-status}
timeout=${3:-86400}

echo "poll-waiter: waiting for $dir/$key" >&2
start=$SECONDS
while true; do
	status=$(cat "$dir/$key")
	if [ "$status" = "success" ] || [ "$status" = "approved" ]; then
		echo "poll-waiter: approved" >&2
		exit 0
	elif [ "$status" = "refused" ]; then
		echo "poll-waiter: refused" >&2
		exit 1
	fi
	if [ $((SECONDS - start)) -ge "$timeout" ]; then
		echo "poll-waiter: timed out" >&2
		exit 1
	fi
	sleep 2
done
