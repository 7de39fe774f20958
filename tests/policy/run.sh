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
npm_ci_locked
exec node test.mjs "$@"
