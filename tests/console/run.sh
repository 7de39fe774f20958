#!/bin/sh
# Browser tests of the approver console (kubectl approve ui): Debian's
# Chromium, headless, driven by playwright-core, against the real kubectl
# proxy and the fake API server of tests/lib/fakeapi.py. Needs node (18 or
# later), npm, python3, openssl, kubectl and chromium (Debian: apt-get install
# nodejs npm python3 openssl chromium); the first run installs the pinned
# packages of package-lock.json into tests/console/node_modules (no browser
# is downloaded). Writes docs/console.png and docs/console-dark-phone.png.
set -eu
here=$(CDPATH='' cd -- "$(dirname -- "$0")" && pwd)
cd "$here"
# shellcheck source=tests/lib/checks.sh
. "$here/../lib/checks.sh"
need_tools tests/console "Debian: apt-get install nodejs npm python3 openssl chromium; kubectl from your cluster's vendor" \
	node npm python3 openssl kubectl "${CHROMIUM:-/usr/bin/chromium}"
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 # Debian's Chromium, no download
npm_ci_locked
exec node test.mjs "$@"
