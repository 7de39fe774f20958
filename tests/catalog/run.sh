#!/bin/sh
# Offline checks of catalog/ and examples/: YAML syntax, yamllint, Tekton API
# schemas, the catalog's rules, Task/StepAction/README/image/binary
# consistency, then a self-test that breaks copies on purpose and requires
# each check to fail. One PASS/FAIL line per check, then "N passed, M failed";
# exits non-zero when a check fails. Needs no cluster and no network.
#
# Debian packages: python3 python3-yaml python3-jsonschema python3-kubernetes yamllint
# Tekton's OpenAPI definitions: $TEKTON_API_DIR, else <repo>/../shared/tekton-api
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(git -C "$here" rev-parse --show-toplevel 2>/dev/null || (cd "$here/../.." && pwd))
: "${TEKTON_API_DIR:=$root/../shared/tekton-api}"
export TEKTON_API_DIR
exec /usr/bin/python3 "$here/check.py" --root "$root" --self-test "$@"
