#!/bin/sh
# Tests of plugin/kubectl-approve with a stand-in kubectl (tests/plugin/fake),
# of its install (tools/install-plugin.sh, tools/plugin-archive.sh) and of
# its krew manifest (install.py). Needs python3 with yaml and jsonschema,
# awk, mktemp, tar, gzip and the shellcheck linter (Debian: apt-get install
# python3 python3-yaml python3-jsonschema shellcheck). No cluster and no
# real kubectl.
set -eu
here=$(CDPATH='' cd -- "$(dirname -- "$0")" && pwd)
# shellcheck source=tests/lib/checks.sh
. "$here/../lib/checks.sh"
need_tools tests/plugin "Debian: apt-get install python3 python3-yaml python3-jsonschema shellcheck" python3 shellcheck tar gzip
exec python3 "$here/test_plugin.py" "$@"
