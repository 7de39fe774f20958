#!/bin/sh
# Tests of policy/approve-step-votes.yaml with an independent CEL evaluator.
# Needs node (18 or later) and npm (Debian: apt-get install nodejs npm); the
# first run installs the pinned packages of package-lock.json into
# tests/policy/node_modules.
set -eu
here=$(CDPATH='' cd -- "$(dirname -- "$0")" && pwd)
cd "$here"
# shellcheck source=tests/lib/checks.sh
. "$here/../lib/checks.sh"
need_tools tests/policy "Debian: apt-get install nodejs npm" node npm
# (Re)install when node_modules is missing or was made from another lock file.
if ! cmp -s package-lock.json node_modules/.installed-from-lock 2>/dev/null; then
	npm ci --no-audit --no-fund --loglevel=error >&2
	cp package-lock.json node_modules/.installed-from-lock
fi
exec node test.mjs "$@"
