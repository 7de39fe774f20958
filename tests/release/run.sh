#!/bin/bash
# CI test of the release path, against Debian's real registry on loopback:
#
#   tests/release/run.sh
#
# 1. Starts docker-registry (the CNCF distribution registry) on 127.0.0.1
#    with a free port and storage in a temp dir, marked insecure through
#    CONTAINERS_REGISTRIES_CONF.
# 2. tools/release.sh --archive to it: both
#    architectures built offline on the local debootstrap base.
# 3. skopeo inspect --raw of the pushed list: linux/amd64 and linux/arm64;
#    each platform's layer copied out: one file, a static binary of its
#    architecture (`file`), check-static.sh on both (arm64 under qemu).
# 4. (Signing: Debian's podman and skopeo are built without sigstore, see
#    docs/image.md "Signing"; nothing is signed here.)
# 5. Reproducible: the binaries are byte-identical to a second build
#    (tools/build-static.sh on this machine, in another directory, with a
#    fresh BearSSL build), and a second release.sh build of a copy of the
#    tree in another directory gives the same list digest; its push, to a
#    port where nothing listens, fails with exit 1 and says what to check.
# 6. The arm64 binary passes the integration suite (volume and API) under
#    qemu-aarch64-static (APPROVE_STEP_WRAPPER), on the meson build in
#    APPROVE_STEP_MESON_BUILD (default build/).
# 7. The amd64 image pulled by the digest written into approve-step.yaml
#    approves and refuses a step: --read-only, non-root, the volume
#    read-only, updated kubelet-style.
#
# Runs as root. Environment: as tests/image/run.sh (APPROVE_STEP_IMAGE_CACHE,
# APPROVE_STEP_BASE_IMAGE); APPROVE_STEP_RELEASE_SECOND=0 skips the second
# image build (5, the slow part).
set -eu
umask 022

top=$(cd "$(dirname "$0")/../.." && pwd)
cache=${APPROVE_STEP_IMAGE_CACHE:-/var/cache/approve-step-image}
base=${APPROVE_STEP_BASE_IMAGE:-localhost/approve-step-builder:bookworm-minbase}
meson_build=${APPROVE_STEP_MESON_BUILD:-$top/build}
# shellcheck disable=SC2034 # suite: read by tests/lib/debian-base.sh
suite=bookworm
name=approve-step-release-$$
py=/usr/bin/python3 # Debian's, with python3-nacl and python3-yaml

say() { printf 'release-test: %s\n' "$*"; }
abort() {
	fail "$*"
	finish
}
# shellcheck source=tests/lib/checks.sh
. "$(dirname "$0")/../lib/checks.sh"

[ "$(id -u)" -eq 0 ] || {
	echo "release-test: run as root (podman, debootstrap)" >&2
	exit 2
}
for t in podman docker-registry skopeo qemu-aarch64-static debootstrap file openssl; do
	command -v "$t" >/dev/null || {
		echo "release-test: $t missing (./test.sh release installs its packages)" >&2
		exit 2
	}
done

tmp=$(mktemp -d /var/tmp/approve-step-release-test.XXXXXX)
chmod 0755 "$tmp"
registry_pid=
# shellcheck disable=SC2317 # called by the EXIT trap
cleanup() {
	local c
	for c in approve refuse; do podman --runtime runc rm -f --ignore "$name-$c" >/dev/null 2>&1 || true; done
	if [ -n "$registry_pid" ]; then kill "$registry_pid" 2>/dev/null || true; fi
	rm -rf "$tmp"
}
trap cleanup EXIT

# shellcheck source=tests/lib/debian-base.sh
. "$top/tests/lib/debian-base.sh"
start=$(date +%s)
elapsed() { echo "$(($(date +%s) - start)) s"; }
need_base "local builder base $base"
# The commit being released: its time is the images' creation time.
commit_time=$(git -C "$top" log -1 --format=%ct)

# ---------------------------------------------------------------- registry

port=$("$py" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
reg=127.0.0.1:$port
mkdir -p "$tmp/registry"
cat >"$tmp/registry.yml" <<EOF
version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: $tmp/registry
http:
  addr: $reg
EOF
docker-registry serve "$tmp/registry.yml" >"$tmp/registry.log" 2>&1 &
registry_pid=$!
up=
for _ in $(seq 100); do
	if "$py" -c 'import sys, urllib.request; urllib.request.urlopen("http://" + sys.argv[1] + "/v2/", timeout=1)' "$reg" 2>/dev/null; then
		up=1
		break
	fi
	sleep 0.1
done
[ -n "$up" ] || {
	cat "$tmp/registry.log"
	abort "docker-registry serves on $reg"
}
pass "docker-registry serves on $reg"
cat >"$tmp/registries.conf" <<EOF
unqualified-search-registries = []

[[registry]]
location = "$reg"
insecure = true
EOF
export CONTAINERS_REGISTRIES_CONF="$tmp/registries.conf"
# Debian's skopeo 1.9 reads only /etc/containers/registries.conf (no
# CONTAINERS_REGISTRIES_CONF, no --registries-conf): the test's own reads
# of the loopback registry say --tls-verify=false instead. tools/release.sh
# pushes with podman, which honours the file above.
sk() {
	local cmd=$1
	shift
	case $cmd in
	inspect) skopeo inspect --tls-verify=false "$@" ;;
	copy) skopeo copy --src-tls-verify=false "$@" ;;
	esac
}
# ---------------------------------------------------------------- release

repo=$reg/ci/approve-step
rc=0
tools_out=$tmp/out
say "tools/release.sh --archive $repo $tools_out"
APPROVE_STEP_BUILDER_IMAGE=$base "$top/tools/release.sh" --archive "$repo" "$tools_out" >"$tmp/release.out" 2>"$tmp/release.err" || rc=$?
sed 's/^/  /' "$tmp/release.err"
if [ "$rc" -ne 0 ]; then
	tail -n 30 "$tools_out/build.log" 2>/dev/null | sed 's/^/  build: /'
	abort "tools/release.sh exits 0 (got $rc)"
fi
digest=$(cat "$tmp/release.out")
check "release.sh prints the list's digest (got '$digest')" \
	grep -Eqx 'sha256:[0-9a-f]{64}' "$tmp/release.out"
say "released $repo@$digest ($(elapsed))"
printf 'figure: manifest list digest %s\n' "$digest"

rc=0
"$top/tools/release.sh" "$repo" >/dev/null 2>&1 || rc=$?
check "release.sh with one argument is a usage error (exit 2, got $rc)" test "$rc" -eq 2
rc=0
"$top/tools/release.sh" "$repo@$digest" "$tmp/x" >/dev/null 2>&1 || rc=$?
check "release.sh refuses IMAGE@DIGEST (exit 2, got $rc)" test "$rc" -eq 2

# The YAML: Task and StepAction, the image pinned by the printed digest.
yaml_images=$("$py" - "$tools_out/approve-step.yaml" <<'EOF'
import sys, yaml
docs = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d]
for d in docs:
    img = [p["default"] for p in d["spec"]["params"] if p["name"] == "image"]
    print(d["kind"], img[0] if img else "-")
EOF
) || yaml_images=
check "approve-step.yaml holds the Task and the StepAction pinned as $repo@$digest" \
	test "$yaml_images" = "Task $repo@$digest
StepAction $repo@$digest"

# ---------------------------------------------------------------- the list

sk inspect --raw "docker://$repo@$digest" >"$tmp/list.json" || abort "skopeo inspect --raw of the list"
platforms=$("$py" -c '
import json, sys
l = json.load(open(sys.argv[1]))
print(" ".join(sorted(m["platform"]["os"] + "/" + m["platform"]["architecture"] for m in l["manifests"])))
' "$tmp/list.json")
check "the pushed list has linux/amd64 and linux/arm64 (has: $platforms)" test "$platforms" = "linux/amd64 linux/arm64"

platform_digest() { "$py" -c '
import json, sys
for m in json.load(open(sys.argv[1]))["manifests"]:
    if m["platform"]["architecture"] == sys.argv[2]:
        print(m["digest"])' "$tmp/list.json" "$1"; }

# binary ARCH: copies ARCH's image out of the registry (dir: layout) and
# unpacks its one layer into $tmp/ARCH/root.
binary() {
	local arch=$1 d files
	d=$(platform_digest "$arch")
	mkdir -p "$tmp/$arch"
	sk copy -q "docker://$repo@$d" "dir:$tmp/$arch/img" >/dev/null || return 1
	mkdir -p "$tmp/$arch/root"
	for l in $("$py" -c '
import json, sys
for l in json.load(open(sys.argv[1]))["layers"]:
    print(l["digest"].split(":")[1])' "$tmp/$arch/img/manifest.json"); do
		tar -xzf "$tmp/$arch/img/$l" -C "$tmp/$arch/root" || return 1
	done
	files=$(cd "$tmp/$arch/root" && find . -mindepth 1 | sort | tr '\n' ' ')
	check "$arch: the image holds only /approve-step (has: $files)" test "$files" = "./approve-step "
	sk inspect --config "docker://$repo@$d" >"$tmp/$arch/config.json"
}
want_file() {
	case $1 in
	amd64) echo "ELF 64-bit LSB pie executable, x86-64, version 1 (SYSV), static-pie linked, stripped" ;;
	arm64) echo "ELF 64-bit LSB pie executable, ARM aarch64, version 1 (SYSV), static-pie linked, stripped" ;;
	esac
}
for arch in amd64 arm64; do
	if ! binary "$arch"; then
		fail "$arch: copy the image out with skopeo and unpack its layer"
		continue
	fi
	bin=$tmp/$arch/root/approve-step
	got=$(file -b "$bin")
	want=$(want_file "$arch")
	check "$arch: file says '$want' (got '$got')" test "$got" = "$want"
	cfg=$("$py" -c '
import json, sys
c = json.load(open(sys.argv[1]))
print(c["architecture"], c["config"].get("User"), json.dumps(c["config"].get("Entrypoint")), c["created"])' "$tmp/$arch/config.json")
	check "$arch: config is $arch, user 65532:65532, entrypoint [\"/approve-step\"], created at the commit (got $cfg)" \
		test "$cfg" = "$arch 65532:65532 [\"/approve-step\"] $(date -u -d "@$commit_time" +%Y-%m-%dT%H:%M:%SZ)"
	printf 'figure: %s binary %d bytes\n' "$arch" "$(stat -c %s "$bin")"
	printf 'figure: %s image (compressed layer + config) %d bytes\n' "$arch" \
		"$(cat "$tmp/$arch/img/"[0-9a-f]* | wc -c)"
	if "$top/tests/image/check-static.sh" "$bin" >"$tmp/$arch/check-static.log" 2>&1; then
		pass "$arch: check-static.sh on the pushed binary"
	else
		fail "$arch: check-static.sh on the pushed binary"
	fi
	grep -e '^figure' -e '^FAIL' "$tmp/$arch/check-static.log" | sed "s/^/  $arch check-static: /"
done

for a in amd64 arm64; do
	[ -f "$tools_out/approve-step-$a.tar" ] && tar -xOf "$tools_out/approve-step-$a.tar" manifest.json >"$tmp/$a.archive.json" 2>/dev/null &&
		grep -q "\"$repo:0" "$tmp/$a.archive.json"
	check "release.sh --archive wrote approve-step-$a.tar naming $repo:VERSION (for kind load / minikube image load)" test $? -eq 0
done

# ---------------------------------------------------------------- reproducible

say "second build of both binaries with tools/build-static.sh in another directory ($(elapsed))"
second=$tmp/second-build/elsewhere
mkdir -p "$second/cache"
# Debian's sources as downloaded once (kept between runs); BearSSL and
# everything else compiled anew.
srccache=$cache/release-sources
APPROVE_STEP_CACHE=$srccache "$top/tools/build-static.sh" --arch aarch64 --prepare >"$tmp/prepare.log" 2>&1 ||
	{ cat "$tmp/prepare.log"; abort "tools/build-static.sh --prepare"; }
cp -a "$srccache/cjson" "$srccache/bearssl" "$second/cache/"
for pair in x86_64:amd64 aarch64:arm64; do
	a=${pair%:*} g=${pair#*:}
	if APPROVE_STEP_CACHE=$second/cache "$top/tools/build-static.sh" --arch "$a" "$second/$a" >"$tmp/second-$a.log" 2>&1; then
		check "$g: the image's binary is byte-identical to a build in $second/$a ($(sha256sum <"$second/$a/approve-step" | cut -c1-16) vs $(sha256sum <"$tmp/$g/root/approve-step" | cut -c1-16))" \
			cmp -s "$second/$a/approve-step" "$tmp/$g/root/approve-step"
	else
		tail -n 20 "$tmp/second-$a.log"
		fail "$g: second build with tools/build-static.sh"
	fi
done

if [ "${APPROVE_STEP_RELEASE_SECOND:-1}" != 0 ]; then
	say "second podman build from a copy of the tree in another directory ($(elapsed))"
	tree=$tmp/second-tree/approve-step-copy
	mkdir -p "$tree"
	(cd "$top" && git ls-files -z --cached --others --exclude-standard | xargs -0 cp --parents -t "$tree" 2>/dev/null) || true
	cp -a "$top/.git" "$tree/.git" 2>/dev/null || git -C "$top" rev-parse --git-dir >/dev/null
	# Built and archived like the release, then pushed to a port where no
	# registry listens: the same list digest, and a failed push that says
	# what failed and what to check.
	dead=$("$py" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	rc=0
	APPROVE_STEP_BUILDER_IMAGE=$base SOURCE_DATE_EPOCH=$commit_time \
		"$tree/tools/release.sh" --archive "127.0.0.1:$dead/ci/approve-step" "$tmp/out2" \
		>"$tmp/release2.out" 2>"$tmp/release2.err" || rc=$?
	if [ -f "$tmp/out2/list-digest" ]; then
		d2=$(cat "$tmp/out2/list-digest")
		printf 'figure: second build list digest %s\n' "$d2"
		check "a second build in another directory gives the same list digest ($d2)" test "$d2" = "$digest"
	else
		sed 's/^/  /' "$tmp/release2.err"
		fail "second build of the image (exit $rc)"
	fi
	check "a push to 127.0.0.1:$dead (nothing listening) exits 1 (got $rc)" test "$rc" -eq 1
	msg=$(grep 'release: error:' "$tmp/release2.err" || true)
	check "the failed push says what failed and what to do ($(printf %s "$msg" | cut -c1-120)...)" \
		sh -c 'printf %s "$1" | grep -q "pushing to 127.0.0.1:$2/ci/approve-step:0" &&
			printf %s "$1" | grep -q "podman login" && printf %s "$1" | grep -q registries.conf' sh "$msg" "$dead"
	check "a failed push prints no digest" test ! -s "$tmp/release2.out"
fi

# ---------------------------------------------------------------- qemu

if [ -f "$meson_build/build.ninja" ] && [ -f "$tmp/arm64/root/approve-step" ]; then
	say "integration suite on the arm64 binary under qemu-aarch64-static ($(elapsed))"
	if APPROVE_STEP_BIN=$tmp/arm64/root/approve-step APPROVE_STEP_WRAPPER=qemu-aarch64-static \
		meson test -C "$meson_build" --suite integration --print-errorlogs >"$tmp/qemu.log" 2>&1; then
		pass "arm64 under qemu: the integration suite passes"
	else
		tail -n 60 "$tmp/qemu.log"
		fail "arm64 under qemu: the integration suite passes"
	fi
	grep -E '^[0-9]+/[0-9]+ ' "$tmp/qemu.log" | sed 's/^/  qemu: /'
	cat "$meson_build/meson-logs/testlog.txt" | grep -E '^integration: [0-9]+ passed' | sed 's/^/  qemu: /' | sort -u
else
	fail "arm64 under qemu: needs the arm64 binary and the meson build in $meson_build (./test.sh release sets it up)"
fi

# ---------------------------------------------------------------- run it

ref=$(awk '/^kind: Task$/ { t = 1 } t && /default: ".*@sha256:/ { gsub(/.*default: "|".*/, ""); print; exit }' "$tools_out/approve-step.yaml")
say "podman pull --platform linux/amd64 $ref (the Task's default in approve-step.yaml)"
if ! pm pull -q --platform linux/amd64 "$ref" >"$tmp/pull.log" 2>&1; then
	cat "$tmp/pull.log"
	abort "pull the amd64 image by the YAML's digest"
fi
pass "pull the amd64 image by the YAML's digest"
arch=$(pm image inspect -f '{{.Architecture}}' "$ref")
check "the pulled image is amd64 (got $arch)" test "$arch" = amd64

lockdown=(--read-only --network none --user 65532:65532 --cap-drop ALL
	--security-opt no-new-privileges --ulimit host --log-driver k8s-file)
waiting() {
	local pid fd
	pid=$(pm inspect -f '{{.State.Pid}}' "$1" 2>/dev/null) || return 1
	if [ -z "$pid" ] || [ "$pid" = 0 ]; then return 1; fi
	for fd in /proc/"$pid"/fdinfo/*; do
		grep -q '^inotify wd:' "$fd" 2>/dev/null && return 0
	done
	return 1
}
run_case() { # NAME STATUS EXPECTED_RC EXPECTED_DECISION
	local case=$1 status=$2 want_rc=$3 want=$4 c="$name-$1" data="$tmp/$1-data" res="$tmp/$1-results" rc got
	mkdir -m 0755 "$data" "$res"
	chmod 0777 "$res"
	python3 "$top/tests/lib/volume.py" "$data" status=init
	pm run -d --name "$c" "${lockdown[@]}" -v "$data:/data:ro" -v "$res:/tekton/results" \
		"$ref" --dir /data --timeout 60s --results-dir /tekton/results >/dev/null 2>"$tmp/$case.log" ||
		{
			cat "$tmp/$case.log"
			fail "$case: podman run"
			return
		}
	for _ in $(seq 200); do
		waiting "$c" && break
		sleep 0.05
	done
	check "$case: the container waits on the read-only volume" waiting "$c"
	python3 "$top/tests/lib/volume.py" "$data" "status=$status"
	rc=$(timeout 30 podman --runtime runc wait "$c" 2>/dev/null) || rc=timeout
	check "$case: exits $want_rc (got $rc)" test "$rc" = "$want_rc"
	got=$(cat "$res/decision" 2>/dev/null || echo '<missing>')
	check "$case: result decision '$want' (got '$got')" test "$got" = "$want"
	pm rm -f "$c" >/dev/null 2>&1 || true
}
run_case approve '{"decision": "approved", "approver": "alice"}' 0 approved
run_case refuse '{"decision": "refused", "approver": "bob"}' 1 refused

say "took $(elapsed)"
finish
