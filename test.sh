#!/bin/sh
# Builds approve-step and runs every test: unit and integration tests on
# the meson build, again under ASan+UBSan and valgrind, against the static
# musl build and the container image, the catalog and policy checks, the
# fuzzers, the stress and bad-input tests, and a short benchmark.
#
#   ./test.sh              everything (what CI runs)
#   ./test.sh unit asan    only the named steps (see STEPS below)
set -u
cd "$(dirname "$0")"
. tools/deps.sh

STEPS="unit asan valgrind static image catalog policy plugin fuzz stress badinput bench"

need_packages $BUILD_PACKAGES libcmocka-dev valgrind clang libclang-rt-14-dev \
	musl-tools dpkg-dev file binutils podman buildah runc debootstrap \
	uidmap slirp4netns fuse-overlayfs strace util-linux yamllint python3-yaml \
	python3-jsonschema python3-kubernetes debian-archive-keyring shellcheck gnuplot-nox || exit 1
command -v npm >/dev/null 2>&1 || need_packages nodejs npm || exit 1

setup() { # BUILDDIR [meson options]
	dir=$1
	shift
	[ -d "$dir" ] || meson setup "$dir" "$@" >/dev/null || return 1
	meson compile -C "$dir" >/dev/null
}

step_unit() {
	setup build && meson test -C build --print-errorlogs
}

step_asan() {
	setup build-asan -Db_sanitize=address,undefined -Db_lundef=false &&
		ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:detect_stack_use_after_return=1 \
		UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
		meson test -C build-asan --print-errorlogs &&
		SANITIZE_BUILD="$PWD/build-asan" SANITIZE_ONLY=asan \
		tests/sanitize/run.sh "${STRESS_SECONDS:-30}"
}

step_valgrind() {
	setup build &&
		APPROVE_STEP_WRAPPER="valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect --track-fds=yes" \
		meson test -C build --suite integration --print-errorlogs &&
		PLAIN_BUILD="$PWD/build" SANITIZE_ONLY=valgrind \
		tests/sanitize/run.sh "${STRESS_SECONDS:-30}"
}

step_static() {
	tools/build-static.sh build-static &&
		tests/image/check-static.sh build-static/approve-step &&
		setup build &&
		APPROVE_STEP_BIN="$PWD/build-static/approve-step" \
		meson test -C build --suite integration --print-errorlogs
}

step_image() { tests/image/run.sh; }
step_catalog() { tests/catalog/run.sh; }
step_policy() { tests/policy/run.sh; }
step_plugin() { tests/plugin/run.sh; }
step_fuzz() { tests/fuzz/run.sh "${FUZZ_SECONDS:-20}"; }
step_stress() { setup build && APPROVE_STEP_BIN="$PWD/build/approve-step/approve-step" python3 tests/stress/run.py; }
step_badinput() { setup build && APPROVE_STEP_BIN="$PWD/build/approve-step/approve-step" python3 tests/badinput/run.py; }
step_bench() { setup build && bench/run --quick; }

[ $# -gt 0 ] && STEPS="$*"
passed=0
failed=0
failed_steps=""
for step in $STEPS; do
	echo "=== $step"
	start=$(date +%s)
	if "step_$step"; then
		passed=$((passed + 1))
		echo "=== $step: PASS ($(($(date +%s) - start))s)"
	else
		failed=$((failed + 1))
		failed_steps="$failed_steps $step"
		echo "=== $step: FAIL ($(($(date +%s) - start))s)"
	fi
done
[ -n "$failed_steps" ] && echo "failed steps:$failed_steps"
echo "steps: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
