#!/bin/bash
# CI test of the approve-step container image, offline: no image is pulled.
#
#   tests/image/run.sh
#
# 1. Makes a local Debian bookworm builder base with debootstrap (minbase),
#    cached as a tarball and as a local podman image, and imports it.
# 2. Builds the Containerfile against it (--build-arg BUILDER_IMAGE=...).
# 3. Checks the image: size <= 1 MiB, one file (/approve-step), numeric
#    non-root user, exec-form entrypoint, OCI labels; checks the binary in it
#    with check-static.sh.
# 4. Runs it locked down (--read-only, --network none, --user 65532:65532,
#    --cap-drop ALL, no-new-privileges) on a read-only directory that is
#    updated from the host the way the kubelet updates a ConfigMap volume:
#    an approval (exit 0) and a refusal (exit 1), with Tekton results
#    written to a writable mount.
#
# Runs as root (podman, debootstrap). Installs what it needs with apt-get.
# Environment:
#   APPROVE_STEP_IMAGE_CACHE  where the base tarball is kept
#                             (default /var/cache/approve-step-image)
#   APPROVE_STEP_BASE_IMAGE   local base image name
#                             (default localhost/approve-step-builder:bookworm-minbase)
#   APPROVE_STEP_IMAGE        image built and tested (default localhost/approve-step:test)
#   APPROVE_STEP_REBUILD_BASE=1  make the base anew
set -eu
umask 022

top=$(cd "$(dirname "$0")/../.." && pwd)
cache=${APPROVE_STEP_IMAGE_CACHE:-/var/cache/approve-step-image}
base=${APPROVE_STEP_BASE_IMAGE:-localhost/approve-step-builder:bookworm-minbase}
image=${APPROVE_STEP_IMAGE:-localhost/approve-step:test}
suite=bookworm
image_limit=1048576
name=approve-step-test-$$

say() { printf 'image-test: %s\n' "$*"; }
# shellcheck source=tests/lib/checks.sh
. "$(dirname "$0")/../lib/checks.sh"

# ---------------------------------------------------------------- setup

install_deps() {
	local missing=()
	command -v podman >/dev/null || missing+=(podman)
	command -v runc >/dev/null || missing+=(runc)
	command -v debootstrap >/dev/null || missing+=(debootstrap)
	command -v python3 >/dev/null || missing+=(python3)
	command -v readelf >/dev/null || missing+=(binutils)
	[ -e /usr/share/keyrings/debian-archive-keyring.gpg ] || missing+=(debian-archive-keyring)
	[ "${#missing[@]}" -eq 0 ] && return 0
	say "installing ${missing[*]}"
	apt-get -q update
	DEBIAN_FRONTEND=noninteractive apt-get -q install -y --no-install-recommends "${missing[@]}"
}

[ "$(id -u)" -eq 0 ] || {
	echo "image-test: run as root (podman, debootstrap)" >&2
	exit 2
}
install_deps

tmp=$(mktemp -d /var/tmp/approve-step-image-test.XXXXXX)
chmod 0755 "$tmp"
mounted=
# shellcheck disable=SC2317 # called by the EXIT trap
cleanup() {
	local c
	for c in approve refuse cancel version usage; do
		podman --runtime runc rm -f --ignore "$name-$c" >/dev/null 2>&1 || true
	done
	if [ -n "$mounted" ]; then podman image unmount "$image" >/dev/null 2>&1 || true; fi
	rm -rf "$tmp"
}
trap cleanup EXIT

# ---------------------------------------------------------------- base image

# shellcheck source=tests/lib/debian-base.sh
. "$top/tests/lib/debian-base.sh"

start=$(date +%s)
need_base "local builder base $base"

# ---------------------------------------------------------------- build

version=$(sed -n "s/.*version[[:space:]]*:[[:space:]]*'\([^']*\)'.*/\1/p" "$top/meson.build" 2>/dev/null | head -n 1)
version=${version:-0.1.0}
say "podman build (BUILDER_IMAGE=$base, VERSION=$version)"
if pm build --network=host -f "$top/Containerfile" \
	--build-arg "BUILDER_IMAGE=$base" --build-arg "VERSION=$version" \
	-t "$image" "$top" >"$tmp/build.log" 2>&1; then
	pass "podman build of the Containerfile"
else
	tail -n 40 "$tmp/build.log"
	abort "podman build of the Containerfile"
fi
grep '^build-static: ' "$tmp/build.log" | sed 's/^/  /' || true
say "build took $(($(date +%s) - start)) s so far"

# ---------------------------------------------------------------- the image

size=$(pm image inspect -f '{{.Size}}' "$image")
printf 'figure: image size %d bytes (%d.%d KiB)\n' "$size" $((size / 1024)) $((size % 1024 * 10 / 1024))
check "image size $size <= $image_limit bytes" test "$size" -le "$image_limit"

user=$(pm image inspect -f '{{.Config.User}}' "$image")
check "image user is 65532:65532 (got $user)" test "$user" = 65532:65532
entry=$(pm image inspect -f '{{json .Config.Entrypoint}}' "$image")
check "image entrypoint is [\"/approve-step\"] (got $entry)" test "$entry" = '["/approve-step"]'
label() { pm image inspect -f "{{index .Config.Labels \"org.opencontainers.image.$1\"}}" "$image"; }
check "label licenses=MIT" test "$(label licenses)" = MIT
check "label version=$version" test "$(label version)" = "$version"
check "label title=approve-step" test "$(label title)" = approve-step
check "labels source and description set" test -n "$(label source)" -a -n "$(label description)"

if mnt=$(pm image mount "$image"); then
	mounted=1
	files=$(cd "$mnt" && find . -mindepth 1 | sort | tr '\n' ' ')
	check "the image holds only /approve-step (has: $files)" test "$files" = "./approve-step "
	cp "$mnt/approve-step" "$tmp/approve-step"
	pm image unmount "$image" >/dev/null
	mounted=
	if "$top/tests/image/check-static.sh" "$tmp/approve-step" >"$tmp/check-static.log" 2>&1; then
		pass "check-static.sh on the image's binary"
	else
		fail "check-static.sh on the image's binary"
	fi
	grep -v '^[0-9]* passed, [0-9]* failed$' "$tmp/check-static.log" | sed 's/^/  check-static: /'

else
	fail "podman image mount $image"
fi

# ---------------------------------------------------------------- runs

lockdown=(--read-only --network none --user 65532:65532 --cap-drop ALL
	--security-opt no-new-privileges --ulimit host --log-driver k8s-file)

out=$(pm run --rm --name "$name-version" "${lockdown[@]}" "$image" --version 2>&1) || true
check "--version in the container says 'approve-step $version' (got '$out')" test "$out" = "approve-step $version"

rc=0
pm run --rm --name "$name-usage" "${lockdown[@]}" "$image" --dir /nonexistent --timeout 5s >"$tmp/usage.log" 2>&1 || rc=$?
check "a missing --dir exits 2 (got $rc)" test "$rc" -eq 2

# The container's main process is waiting once it holds an inotify watch.
waiting() {
	local pid fd
	pid=$(pm inspect -f '{{.State.Pid}}' "$1" 2>/dev/null) || return 1
	if [ -z "$pid" ] || [ "$pid" = 0 ]; then return 1; fi
	for fd in /proc/"$pid"/fdinfo/*; do
		grep -q '^inotify wd:' "$fd" 2>/dev/null && return 0
	done
	return 1
}

# run_case NAME ACTION EXPECTED_RC EXPECTED_DECISION EXPECTED_APPROVER
# ACTION: a status value written kubelet-style while the container waits,
# or "stop" (podman stop sends SIGTERM to the container's PID 1).
run_case() {
	local case=$1 action=$2 want_rc=$3 want_decision=$4 want_approver=$5
	local data="$tmp/$case-data" res="$tmp/$case-results" c="$name-$case" rc got what
	mkdir -m 0755 "$data"
	mkdir "$res"
	chmod 0777 "$res"
	python3 "$top/tests/lib/volume.py" "$data" status=init

	if ! pm run -d --name "$c" "${lockdown[@]}" \
		-v "$data:/data:ro" -v "$res:/tekton/results" \
		"$image" --dir /data --timeout 60s --results-dir /tekton/results >/dev/null 2>"$tmp/$case-run.log"; then
		cat "$tmp/$case-run.log"
		fail "$case: podman run"
		return
	fi
	for _ in $(seq 200); do
		waiting "$c" && break
		[ "$(pm inspect -f '{{.State.Running}}' "$c")" = true ] || break
		sleep 0.05
	done
	if ! waiting "$c"; then
		pm logs "$c" 2>&1 | sed 's/^/  log: /'
		fail "$case: the container waits on the read-only /data (status=init)"
		return
	fi
	pass "$case: the container waits on the read-only /data (status=init)"
	if [ "$case" = approve ]; then
		local pid
		pid=$(pm inspect -f '{{.State.Pid}}' "$c")
		printf 'figure: in the container, VmRSS %s KiB, VmHWM %s KiB while waiting\n' \
			"$(sed -n 's/^VmRSS:[[:space:]]*\([0-9]*\).*/\1/p' "/proc/$pid/status")" \
			"$(sed -n 's/^VmHWM:[[:space:]]*\([0-9]*\).*/\1/p' "/proc/$pid/status")"
	fi

	if [ "$action" = stop ]; then
		what="podman stop (SIGTERM)"
		pm stop -t 10 "$c" >/dev/null 2>&1 || true
	else
		what="a kubelet-style update to status=$action"
		python3 "$top/tests/lib/volume.py" "$data" "status=$action"
	fi
	rc=$(timeout 30 podman --runtime runc wait "$c" 2>/dev/null) || rc=timeout
	pm logs "$c" 2>&1 | sed 's/^/  log: /'
	check "$case: exits $want_rc after $what (got $rc)" test "$rc" = "$want_rc"
	got=$(cat "$res/decision" 2>/dev/null || echo '<missing>')
	check "$case: result decision is '$want_decision' (got '$got')" test "$got" = "$want_decision"
	got=$(cat "$res/approver" 2>/dev/null || echo '<missing>')
	check "$case: result approver is '$want_approver' (got '$got')" test "$got" = "$want_approver"
	pm rm -f "$c" >/dev/null 2>&1 || true
}

run_case approve '{"decision": "approved", "approver": "alice", "comment": "ship it"}' 0 approved alice
run_case refuse '{"decision": "refused", "approver": "bob", "comment": "not today"}' 1 refused bob
run_case cancel stop 1 cancelled ''

say "took $(($(date +%s) - start)) s"
finish
