#!/bin/sh
# Builds approve-step and runs every test: unit and integration tests on
# the meson build, again under ASan+UBSan and valgrind, against the static
# musl build and the container image, the release to a loopback registry
# (both architectures, arm64 under qemu, reproducibility), the README's two commands on a fresh
# Debian root, the catalog, docs and policy checks, the plugin and its
# browser console (Debian's Chromium), the fuzzers, the stress and
# bad-input tests, and a short benchmark. Each step installs only the
# Debian packages it needs (step_packages).
#
#   ./test.sh              everything (what CI runs)
#   ./test.sh unit asan    only the named steps (see STEPS below)
set -u
cd "$(dirname "$0")"
. tools/deps.sh

STEPS="unit tls asan valgrind static image release fresh catalog docs examples policy plugin console fuzz stress badinput bench"
ALL_STEPS="$STEPS"

# What each step needs besides the build's packages, so that a step run
# alone (./test.sh unit) installs only its own.
step_packages() {
	case $1 in
	unit | asan) echo libcmocka-dev openssl ;; # openssl: the fake API server's certificates
	valgrind) echo libcmocka-dev valgrind openssl ;;
	tls) echo libcmocka-dev openssl golang-go ;; # Go's crypto/x509 gives the verdicts
	static) echo libcmocka-dev musl-tools dpkg-dev file binutils openssl ;;
	image) echo podman buildah runc debootstrap uidmap slirp4netns fuse-overlayfs \
		debian-archive-keyring musl-tools dpkg-dev file binutils ;;
	# the release against Debian's registry; arm64 under qemu; the second
	# (reproducibility) build on this machine needs the cross compiler
	release) echo podman buildah runc debootstrap uidmap slirp4netns fuse-overlayfs \
		debian-archive-keyring docker-registry skopeo qemu-user-static \
		gcc-aarch64-linux-gnu musl-tools dpkg-dev file binutils libcmocka-dev openssl python3-yaml ;;
	fresh) echo podman runc debootstrap uidmap slirp4netns fuse-overlayfs \
		debian-archive-keyring ;;
	docs) echo libcmocka-dev python3-yaml ;;
	# jq: the READMEs' commands; openssl, kubectl: the API examples' fake
	# API server and the real kubectl with the plugin
	examples) echo libcmocka-dev python3-yaml jq openssl "$(command -v kubectl >/dev/null 2>&1 || echo kubernetes-client)" ;;
	catalog) echo libcmocka-dev yamllint python3-yaml python3-jsonschema python3-kubernetes ;;
	plugin) echo shellcheck jq python3-yaml python3-jsonschema ;; # yaml, jsonschema: the krew manifest
	# Debian's Chromium for the browser; kubectl's own package only where
	# there is no kubectl (Debian's is old: 1.20 serves the console, but
	# has no `auth whoami` for the plugin's vote in the same test)
	console) echo chromium openssl jq "$(command -v kubectl >/dev/null 2>&1 || echo kubernetes-client)" ;;
	fuzz) echo clang libclang-rt-14-dev ;;
	stress) echo libcmocka-dev util-linux openssl ;; # openssl: certificates of the fake API server
	badinput) echo libcmocka-dev strace util-linux ;;
	bench) echo libcmocka-dev strace gnuplot-nox file binutils openssl ;; # openssl: as for stress
	esac
}

# Sets up (once) and compiles a build with the tests required, showing
# meson's output only when it fails. A build made by demo.sh (tests=auto,
# perhaps before cmocka was installed) is switched to tests=enabled.
setup() { # BUILDDIR [meson options]
	dir=$1
	shift
	if ! [ -f "$dir/build.ninja" ]; then
		rm -rf "$dir"
		quietly meson setup "$dir" -Dtests=enabled "$@" || return 1
	elif ! grep -q '"name": "tests", "value": "enabled"' "$dir/meson-info/intro-buildoptions.json" 2>/dev/null; then
		quietly meson configure "$dir" -Dtests=enabled || return 1
	fi
	quietly meson compile -C "$dir"
}

step_unit() {
	setup build && meson test -C build --print-errorlogs
}

# The sanitizer build runs two to three times slower: its timing bounds
# (an exit within 100 ms of SIGTERM) scale by APPROVE_STEP_SLOW.
step_asan() {
	setup build-asan -Db_sanitize=address,undefined -Db_lundef=false &&
		ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:detect_stack_use_after_return=1 \
		UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
		APPROVE_STEP_SLOW=${APPROVE_STEP_SLOW:-3} \
		meson test -C build-asan --print-errorlogs &&
		SANITIZE_BUILD="$PWD/build-asan" SANITIZE_ONLY=asan \
		tests/sanitize/run.sh "${STRESS_SECONDS:-30}"
}

# The differential TLS test: the binary accepts a server's chain exactly when
# Go's crypto/x509 (client-go's verifier) does (tests/tlsdiff/run.py).
step_tls() {
	setup build && APPROVE_STEP_BIN="$PWD/build/approve-step/approve-step" \
		python3 tests/tlsdiff/run.py
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
step_release() { setup build && tests/release/run.sh; }
step_fresh() { tests/fresh/run.sh; }
step_catalog() { tests/catalog/run.sh; }
step_docs() { setup build && python3 tests/docs/check.py --binary "$PWD/build/approve-step/approve-step" --self-test; }
step_examples() { setup build && APPROVE_STEP_BIN="$PWD/build/approve-step/approve-step" python3 tests/examples/check.py --self-test; }
step_policy() { tests/policy/run.sh; }
step_plugin() { tests/plugin/run.sh; }
step_console() { tests/console/run.sh; }
step_fuzz() { tests/fuzz/run.sh "${FUZZ_SECONDS:-20}"; }
step_stress() { setup build && APPROVE_STEP_BIN="$PWD/build/approve-step/approve-step" python3 tests/stress/run.py; }
step_badinput() { setup build && APPROVE_STEP_BIN="$PWD/build/approve-step/approve-step" python3 tests/badinput/run.py; }
step_bench() { setup build && bench/run --quick; }

[ $# -gt 0 ] && STEPS="$*"
packages=""
for step in $STEPS; do
	case " $ALL_STEPS " in
	*" $step "*) packages="$packages $(step_packages "$step")" ;;
	*)
		echo "test.sh: no step '$step'; steps: $ALL_STEPS" >&2
		exit 2
		;;
	esac
done
# shellcheck disable=SC2086 # word splitting of the package lists is intended
need_packages $BUILD_PACKAGES $packages || exit 1
case " $STEPS " in
*" policy "* | *" console "*) command -v npm >/dev/null 2>&1 || need_packages nodejs npm || exit 1 ;;
esac

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
