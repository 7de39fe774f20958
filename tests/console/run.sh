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
for tool in node npm python3 openssl kubectl "${CHROMIUM:-/usr/bin/chromium}"; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		echo "tests/console: $tool not found (Debian: apt-get install nodejs npm python3 openssl chromium; kubectl from your cluster's vendor)" >&2
		exit 2
	fi
done
# (Re)install when node_modules is missing or was made from another lock file.
if ! cmp -s package-lock.json node_modules/.installed-from-lock 2>/dev/null; then
	PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error >&2
	cp package-lock.json node_modules/.installed-from-lock
fi
exec node test.mjs "$@"
