#!/bin/bash
# Build the approve-step image for linux/amd64 and linux/arm64, push the
# manifest list to your registry, and write the catalog Task and StepAction
# with the image pinned by digest.
#
#   tools/release.sh [--archive] [--no-push] IMAGE[:TAG] OUTDIR
#
#   IMAGE     where to push, e.g. registry.example.com/ci/approve-step
#             (TAG defaults to the project version)
#   OUTDIR    gets approve-step.yaml (Task + StepAction, image pinned as
#             IMAGE@sha256:DIGEST, for `kubectl apply -f`) and digest
#   --archive also write OUTDIR/approve-step.oci (OCI layout of the list,
#             its digest in OUTDIR/list-digest) and
#             OUTDIR/approve-step-amd64.tar, OUTDIR/approve-step-arm64.tar
#             (docker archives named IMAGE:TAG, for
#             `kind load image-archive` / `minikube image load`; needs skopeo)
#   --no-push build and write the archives only (implies --archive); the
#             YAML then names IMAGE:TAG, which the cluster must already have
#
# Prints the manifest list's digest (sha256:...) on stdout.
#
# Credentials and TLS come from the containers tools' own configuration,
# never from arguments: log in first (`podman login REGISTRY`, which writes
# auth.json), and mark a registry without TLS insecure in registries.conf.
#
# Environment:
#   APPROVE_STEP_BUILDER_IMAGE  the build stage's base (default: the
#                               Containerfile's pinned Debian image); an
#                               offline machine points it at a local
#                               debootstrap image (tests/lib/debian-base.sh)
#   SOURCE_DATE_EPOCH           default: the commit's time (git log -1 %ct);
#                               image creation time and file times
#   APPROVE_STEP_SIGN_KEY       a sigstore private key: the pushed list and
#                               its images are signed with it
#                               (podman manifest push
#                               --sign-by-sigstore-private-key)
#   APPROVE_STEP_SIGN_PASSPHRASE_FILE  the key's passphrase
#
# Exit status: 0 done, 1 a step failed (the message says which and what to
# do), 2 usage.
set -eu
umask 022

me=release
say() { printf '%s: %s\n' "$me" "$*" >&2; }
die() {
	say "error: $*"
	exit 1
}
usage() {
	sed -n '6,23s/^# \{0,1\}//p' "$0" >&2
	exit 2
}

top=$(cd "$(dirname "$0")/.." && pwd)
archive=
push=1
while [ $# -gt 0 ]; do
	case $1 in
	--archive) archive=1 ;;
	--no-push)
		push=
		archive=1
		;;
	-h | --help) usage ;;
	--) shift && break ;;
	-*)
		say "unknown option $1"
		usage
		;;
	*) break ;;
	esac
	shift
done
[ $# -eq 2 ] || usage
ref=$1
outdir=$2

# IMAGE[:TAG]: a registry host, a repository, an optional tag; no digest
# (the digest is what this script finds out).
case $ref in
*@*)
	say "IMAGE must not carry a digest ($ref): give IMAGE or IMAGE:TAG"
	exit 2
	;;
esac
last=${ref##*/}
if [ "${last#*:}" != "$last" ]; then
	tag=${last#*:}
	repo=${ref%:*}
else
	tag=
	repo=$ref
fi
if ! printf '%s\n' "$repo" | grep -Eq '^[a-z0-9]([a-z0-9.-]*[a-z0-9])?(:[0-9]+)?(/[a-z0-9]+([._-]+[a-z0-9]+)*)+$'; then
	say "IMAGE must be REGISTRY/REPOSITORY (lower case, e.g. registry.example.com/ci/approve-step), got '$repo'"
	exit 2
fi
if [ -n "$tag" ] && ! printf '%s\n' "$tag" | grep -Eq '^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$'; then
	say "TAG '$tag' is not a valid tag"
	exit 2
fi

command -v podman >/dev/null || die "podman is needed (apt-get install podman runc)"
[ -n "${APPROVE_STEP_SIGN_KEY:-}" ] && ! [ -r "$APPROVE_STEP_SIGN_KEY" ] &&
	die "APPROVE_STEP_SIGN_KEY=$APPROVE_STEP_SIGN_KEY is not a readable file"

version=$(sed -n "s/.*version[[:space:]]*:[[:space:]]*'\([^']*\)'.*/\1/p" "$top/meson.build" | head -n 1)
[ -n "$version" ] || die "no version in $top/meson.build"
tag=${tag:-$version}

# The commit: its time for reproducible timestamps, its id for the label.
revision=unknown
if git -C "$top" rev-parse --verify -q HEAD >/dev/null 2>&1; then
	revision=$(git -C "$top" rev-parse HEAD)
	if [ -n "$(git -C "$top" status --porcelain -- Containerfile tools/build-static.sh approve-step meson.build 2>/dev/null)" ]; then
		say "warning: uncommitted changes in what the image is built from: the image is not $revision's"
		revision=$revision-dirty
	fi
	: "${SOURCE_DATE_EPOCH:=$(git -C "$top" log -1 --format=%ct)}"
fi
[ -n "${SOURCE_DATE_EPOCH:-}" ] || die "not a git checkout: set SOURCE_DATE_EPOCH (seconds) for a reproducible build"
case $SOURCE_DATE_EPOCH in *[!0-9]*) die "SOURCE_DATE_EPOCH must be seconds since 1970, got '$SOURCE_DATE_EPOCH'" ;; esac
created=$(date -u -d "@$SOURCE_DATE_EPOCH" +%Y-%m-%dT%H:%M:%SZ)

mkdir -p "$outdir" || die "cannot create $outdir"
outdir=$(cd "$outdir" && pwd)
for f in "$top/catalog/task/approve-step/0.1/approve-step.yaml" \
	"$top/catalog/stepaction/approve-step/0.1/approve-step.yaml"; do
	[ -r "$f" ] || die "$f missing"
done

list=localhost/approve-step-release:$$
cleanup() { podman manifest rm "$list" >/dev/null 2>&1 || true; }
trap cleanup EXIT
cleanup

# ---------------------------------------------------------------- build

build_args=(--build-arg "VERSION=$version" --build-arg "REVISION=$revision"
	--build-arg "CREATED=$created" --build-arg "SOURCE_DATE_EPOCH=$SOURCE_DATE_EPOCH")
# The build stage runs on this machine's platform. Podman 4.3 (buildah 1.28)
# sets BUILDPLATFORM to the target platform in a multi-platform build, which
# would ask for an arm64 builder base (and emulation): name it here.
host_arch=$(podman info --format '{{.Host.Arch}}' 2>/dev/null) || die "podman info failed: is podman set up (podman info)?"
build_args+=(--build-arg "BUILDPLATFORM=linux/$host_arch")
if [ -n "${APPROVE_STEP_BUILDER_IMAGE:-}" ]; then
	build_args+=(--build-arg "BUILDER_IMAGE=$APPROVE_STEP_BUILDER_IMAGE")
fi
say "building linux/amd64 and linux/arm64 ($version, $revision, SOURCE_DATE_EPOCH=$SOURCE_DATE_EPOCH)"
# One platform after the other: a multi-platform build adds each image to
# the list as its build ends, so the list's order, and with it the digest,
# would follow which build finished first.
# Without the layer cache: podman 4.3 finds a cached final-stage layer by
# the instruction's text alone (LABEL with ${REVISION} unexpanded, and not
# --timestamp), so a cached image would carry another build's labels and
# times. The build stage (a minute or two: packages and sources from the
# Debian archive) is redone each time.
: >"$outdir/build.log"
for arch in amd64 arm64; do
	if ! podman build --no-cache --network=host --platform "linux/$arch" --manifest "$list" \
		--timestamp "$SOURCE_DATE_EPOCH" "${build_args[@]}" \
		-f "$top/Containerfile" "$top" >>"$outdir/build.log" 2>&1; then
		tail -n 30 "$outdir/build.log" >&2
		die "podman build for linux/$arch failed (full log: $outdir/build.log)"
	fi
done
grep '^build-static: built' "$outdir/build.log" | sed 's/^/  /' >&2 || true

# ---------------------------------------------------------------- archives

# The whole list as an OCI layout (what a registry would get: the same
# digest), then one docker archive per architecture from it.
if [ -n "$archive" ]; then
	command -v skopeo >/dev/null || die "--archive needs skopeo (apt-get install skopeo)"
	rm -rf "$outdir/approve-step.oci" "$outdir/list-digest"
	podman manifest push --all --format oci --digestfile "$outdir/list-digest" \
		"$list" "oci:$outdir/approve-step.oci:$tag" >"$outdir/oci.log" 2>&1 || {
		cat "$outdir/oci.log" >&2
		die "writing the OCI layout $outdir/approve-step.oci failed"
	}
	say "wrote $outdir/approve-step.oci (OCI layout, both platforms, $(cat "$outdir/list-digest"))"
	for arch in amd64 arm64; do
		rm -f "$outdir/approve-step-$arch.tar"
		skopeo copy -q --override-os linux --override-arch "$arch" \
			"oci:$outdir/approve-step.oci:$tag" \
			"docker-archive:$outdir/approve-step-$arch.tar:$repo:$tag" >"$outdir/archive.log" 2>&1 || {
			cat "$outdir/archive.log" >&2
			die "writing the $arch docker archive failed"
		}
		say "wrote $outdir/approve-step-$arch.tar ($repo:$tag, linux/$arch): kind load image-archive / minikube image load"
	done
fi

# ---------------------------------------------------------------- push

if [ -n "$push" ]; then
	sign=()
	if [ -n "${APPROVE_STEP_SIGN_KEY:-}" ]; then
		sign=(--sign-by-sigstore-private-key "$APPROVE_STEP_SIGN_KEY")
		[ -n "${APPROVE_STEP_SIGN_PASSPHRASE_FILE:-}" ] &&
			sign+=(--sign-passphrase-file "$APPROVE_STEP_SIGN_PASSPHRASE_FILE")
	fi
	say "pushing the manifest list to $repo:$tag"
	rm -f "$outdir/digest"
	if ! podman manifest push --all --format oci "${sign[@]}" --digestfile "$outdir/digest" \
		"$list" "docker://$repo:$tag" >"$outdir/push.log" 2>&1; then
		sed 's/^/  /' "$outdir/push.log" >&2
		host=${repo%%/*}
		die "pushing to $repo:$tag failed (above). Check that $host is reachable, that you are logged in (podman login $host: credentials live in auth.json, never on this command line), and, for a registry without TLS, that registries.conf marks $host insecure; then run this again"
	fi
	digest=$(cat "$outdir/digest")
	case $digest in sha256:????????????????????????????????????????????????????????????????) ;; *)
		die "podman manifest push wrote no digest ('$digest')"
		;;
	esac
	pinned=$repo@$digest
else
	digest=
	pinned=$repo:$tag
fi

# ---------------------------------------------------------------- YAML

{
	printf '# approve-step %s: the catalog Task and StepAction, image %s\n' "$version" "$pinned"
	printf '# (%s:%s, commit %s). kubectl apply -f this file.\n' "$repo" "$tag" "$revision"
	first=1
	for f in "$top/catalog/task/approve-step/0.1/approve-step.yaml" \
		"$top/catalog/stepaction/approve-step/0.1/approve-step.yaml"; do
		[ -n "$first" ] || printf -- '---\n'
		first=
		# Only the image param's default changes; the rest is the catalog's.
		awk -v img="$pinned" '
			/^---$/ { next }
			/^ *- name: image$/ { inimage = 1 }
			inimage && /^ *default:/ { sub(/default:.*/, "default: \"" img "\""); inimage = 0; n++ }
			{ print }
			END { if (n != 1) exit 3 }' "$f" || die "$f: no image param default to pin"
	done
} >"$outdir/approve-step.yaml.tmp"
mv "$outdir/approve-step.yaml.tmp" "$outdir/approve-step.yaml"
say "wrote $outdir/approve-step.yaml (image $pinned): kubectl apply -f $outdir/approve-step.yaml"
if [ -n "$digest" ]; then printf '%s\n' "$digest"; fi
