#!/bin/sh
# Tests of plugin/kubectl-approve with a stand-in kubectl (tests/plugin/fake).
# Needs python3, awk, mktemp and the shellcheck linter (Debian: apt-get install
# python3 shellcheck). No cluster and no real kubectl.
set -eu
here=$(CDPATH='' cd -- "$(dirname -- "$0")" && pwd)
for tool in python3 shellcheck; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		echo "tests/plugin: $tool not found (Debian: apt-get install python3 shellcheck)" >&2
		exit 2
	fi
done
exec python3 "$here/test_plugin.py" "$@"
