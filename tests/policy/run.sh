#!/bin/sh
# Tests of policy/approve-step-votes.yaml with an independent CEL evaluator.
# Needs node (18 or later) and npm (Debian: apt-get install nodejs npm); the
# first run installs the pinned packages of package-lock.json into
# tests/policy/node_modules.
set -eu
here=$(CDPATH='' cd -- "$(dirname -- "$0")" && pwd)
cd "$here"
for tool in node npm; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		echo "tests/policy: $tool not found (Debian: apt-get install nodejs npm)" >&2
		exit 2
	fi
done
# (Re)install when node_modules is missing or was made from another lock file.
if ! cmp -s package-lock.json node_modules/.installed-from-lock 2>/dev/null; then
	npm ci --no-audit --no-fund --loglevel=error >&2
	cp package-lock.json node_modules/.installed-from-lock
fi
exec node test.mjs "$@"
