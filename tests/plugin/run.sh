#!/bin/sh
# Tests of plugin/kubectl-approve with a stand-in kubectl (tests/plugin/fake).
# Needs python3, awk, mktemp and the shellcheck linter (Debian: apt-get install
# python3 shellcheck). No cluster and no real kubectl.
set -eu
here=$(CDPATH='' cd -- "$(dirname -- "$0")" && pwd)
# shellcheck source=tests/lib/checks.sh
. "$here/../lib/checks.sh"
need_tools tests/plugin "Debian: apt-get install python3 shellcheck" python3 shellcheck
exec python3 "$here/test_plugin.py" "$@"
