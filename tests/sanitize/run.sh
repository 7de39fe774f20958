#!/bin/sh
# The stress and bad-input suites against approve-step under the sanitizers:
#   1. a build with AddressSanitizer and UndefinedBehaviorSanitizer (leak
#      detection on), and
#   2. the regular build under valgrind memcheck.
# Any sanitizer or valgrind report fails: the suites accept only log lines
# that start with "approve-step: ", and valgrind's --error-exitcode changes
# the exit code they check.
#
#   tests/sanitize/run.sh [STRESS_SECONDS]    (default 45 per build)
#
# Environment:
#   SANITIZE_BUILD  meson build directory with the sanitizers
#                   (default /tmp/approve-step-build-asan; set up if missing)
#   PLAIN_BUILD     meson build directory without (default: build, set up if
#                   missing)
#   SANITIZE_ONLY   "asan" or "valgrind" to run only one of the two
set -eu

seconds=${1:-45}
top=$(cd "$(dirname "$0")/../.." && pwd)
asan_build=${SANITIZE_BUILD:-/tmp/approve-step-build-asan}
plain_build=${PLAIN_BUILD:-$top/build}
only=${SANITIZE_ONLY:-}
status=0

say() { printf 'sanitize: %s\n' "$*"; }

build() { # DIR [meson options...]
	dir=$1
	shift
	if [ ! -f "$dir/build.ninja" ]; then
		meson setup "$dir" "$top" "$@" >/dev/null
	fi
	meson compile -C "$dir" approve-step/approve-step >/dev/null
}

suites() { # label
	say "$1: bad-input matrix"
	"$top/tests/badinput/run.py" || status=1
	say "$1: stress, ${seconds}s"
	"$top/tests/stress/run.py" --duration "$seconds" || status=1
}

if [ "$only" != valgrind ]; then
	build "$asan_build" -Db_sanitize=address,undefined -Db_lundef=false
	APPROVE_STEP_BIN=$asan_build/approve-step/approve-step
	ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:halt_on_error=1}
	UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
	export APPROVE_STEP_BIN ASAN_OPTIONS UBSAN_OPTIONS
	unset APPROVE_STEP_WRAPPER
	suites "ASan+UBSan"
fi
if [ "$only" != asan ]; then
	build "$plain_build"
	APPROVE_STEP_BIN=$plain_build/approve-step/approve-step
	APPROVE_STEP_WRAPPER=${APPROVE_STEP_WRAPPER:-valgrind --error-exitcode=99 --leak-check=full -q}
	export APPROVE_STEP_BIN APPROVE_STEP_WRAPPER
	suites "valgrind"
fi
if [ $status -eq 0 ]; then
	say "no sanitizer or valgrind report"
else
	say "FAILED"
fi
exit $status
