#!/bin/bash
# The newcomer's path, checked in CI: the README's first two commands on a
# fresh, minimal Debian bookworm root where nothing but what the scripts
# install is present.
#
#   tests/fresh/run.sh
#
# 1. Takes the image test's debootstrap minbase (tests/lib/debian-base.sh:
#    made once from this machine's Debian mirror, then cached) and checks
#    that it holds none of the build's tools.
# 2. Copies the working tree (tracked and new files, no build directories)
#    into a container of that base (podman --runtime runc, host network for
#    the Debian mirror only) and runs, as root, ./demo.sh and then
#    ./test.sh's first step (unit); both must pass, and the unit and
#    integration tests must all have run.
# 3. Breaks a copy of main.c and requires ./demo.sh to fail loudly: the
#    compiler's error and the failed command, not a silent exit 1.
#
# Every run starts from the untouched base and downloads what the scripts
# install (apt-get update included). Prints the time of each command as
# "figure:" lines.
#
# Runs as root (podman, debootstrap). Environment as tests/image/run.sh:
#   APPROVE_STEP_IMAGE_CACHE, APPROVE_STEP_BASE_IMAGE, APPROVE_STEP_REBUILD_BASE
set -eu
umask 022

top=$(cd "$(dirname "$0")/../.." && pwd)
cache=${APPROVE_STEP_IMAGE_CACHE:-/var/cache/approve-step-image}
base=${APPROVE_STEP_BASE_IMAGE:-localhost/approve-step-builder:bookworm-minbase}
suite=bookworm
name=approve-step-fresh-$$

say() { printf 'fresh-test: %s\n' "$*"; }
# shellcheck source=tests/lib/checks.sh
. "$top/tests/lib/checks.sh"

[ "$(id -u)" -eq 0 ] || {
	echo "fresh-test: run as root (podman, debootstrap)" >&2
	exit 2
}
for tool in podman runc debootstrap; do
	command -v "$tool" >/dev/null || {
		echo "fresh-test: $tool not found (Debian: apt-get install podman runc debootstrap debian-archive-keyring)" >&2
		exit 2
	}
done

tmp=$(mktemp -d /var/tmp/approve-step-fresh-test.XXXXXX)
chmod 0755 "$tmp"
# shellcheck disable=SC2317 # called by the EXIT trap
cleanup() {
	podman --runtime runc rm -f --ignore "$name" >/dev/null 2>&1 || true
	rm -rf "$tmp"
}
trap cleanup EXIT

# shellcheck source=tests/lib/debian-base.sh
. "$top/tests/lib/debian-base.sh"

start=$(date +%s)
need_base "fresh Debian $suite minbase $base"

# ---------------------------------------------------------------- the root

# The working tree as a newcomer's clone has it: no build directories, no
# node_modules (both ignored by git).
mkdir "$tmp/src"
(cd "$top" && git ls-files -z --cached --others --exclude-standard |
	while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done |
	tar --null -T - -cf -) | tar -C "$tmp/src" -xf -
check "the source tree is copied (demo.sh, test.sh, meson.build)" \
	test -x "$tmp/src/demo.sh" -a -x "$tmp/src/test.sh" -a -f "$tmp/src/meson.build"

if ! pm run -d --name "$name" --network host \
	-v "$tmp/src:/src" -w /src \
	"$base" sleep infinity >/dev/null 2>"$tmp/run.log"; then
	cat "$tmp/run.log"
	abort "podman run of $base"
fi
in_root() { pm exec -w /src "$name" "$@"; }

# Nothing of the build is there before the scripts run.
present=""
for pkg in gcc meson ninja-build pkg-config libcjson-dev python3 libcmocka-dev; do
	if in_root dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
		present="$present $pkg"
	fi
done
check "the fresh root has none of the build's packages (has:${present:- none})" test -z "$present"

# timed LABEL LOG COMMAND...: runs COMMAND in the root, output to LOG;
# prints the figure and leaves the exit code in $rc.
timed() {
	local label=$1 log=$2 t0 t1
	shift 2
	t0=$(date +%s%N)
	rc=0
	in_root "$@" >"$log" 2>&1 || rc=$?
	t1=$(date +%s%N)
	printf 'figure: %s took %d.%d s (exit %d)\n' "$label" \
		$(((t1 - t0) / 1000000000)) $(((t1 - t0) / 100000000 % 10)) "$rc"
}
show() { sed 's/^/  | /' "$1"; }

# ---------------------------------------------------------------- demo.sh

timed "./demo.sh in the fresh root" "$tmp/demo.log" ./demo.sh
show "$tmp/demo.log"
check "./demo.sh exits 0 (got $rc)" test "$rc" -eq 0
check "./demo.sh shows the step approved with its results" \
	grep -q '^   decision        approved$' "$tmp/demo.log"

# ---------------------------------------------------------------- test.sh

timed "./test.sh unit in the fresh root, after ./demo.sh" "$tmp/unit.log" ./test.sh unit
show "$tmp/unit.log"
check "./test.sh unit exits 0 (got $rc)" test "$rc" -eq 0
check "./test.sh unit closes with 'steps: 1 passed, 0 failed'" \
	grep -q '^steps: 1 passed, 0 failed$' "$tmp/unit.log"
# Every test meson knows ran and passed, the unit tests included (a build
# set up by demo.sh before cmocka was installed must not lose them).
listed=$(in_root meson test -C build --list 2>/dev/null | grep -E '^[^ ]+:[^ ]+ / [^ ]+$' || true)
check "meson lists the unit tests in the root's build" grep -q ':unit / ' <<<"$listed"
while read -r t; do
	[ -n "$t" ] || continue
	check "test $t ran and passed" grep -Eq "^ *[0-9]+/[0-9]+ $t +OK " "$tmp/unit.log"
done <<<"$listed"

# ---------------------------------------------------------------- a failure

# A compile error must be shown with the failed command, never a silent exit.
in_root sh -c 'rm -rf /broken && mkdir /broken && cp -a /src/. /broken/ &&
	rm -rf /broken/build* && printf "this is not C\n" >>/broken/approve-step/main.c' >/dev/null 2>&1
rc=0
pm exec -w /broken "$name" ./demo.sh >"$tmp/broken.log" 2>&1 || rc=$?
check "./demo.sh with a broken main.c exits non-zero (got $rc)" test "$rc" -ne 0
check "... and shows the compiler's error in main.c" grep -q 'main\.c.*error' "$tmp/broken.log"
check "... and names the command that failed" grep -q '^approve-step: failed (exit [0-9]*): meson compile -C build$' "$tmp/broken.log"
tail -n 6 "$tmp/broken.log" | sed 's/^/  | /'

say "took $(($(date +%s) - start)) s"
finish
