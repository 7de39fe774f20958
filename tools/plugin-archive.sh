#!/bin/sh
# Makes the kubectl plugin's release archive and its krew manifest:
#
#   tools/plugin-archive.sh OUTDIR
#
#   OUTDIR/kubectl-approve-VERSION.tar.gz   kubectl-approve, console/, LICENSE
#   OUTDIR/approve.yaml                     plugin/krew/approve.yaml with the
#                                           archive's sha256 filled in
#
# VERSION is the plugin's VERSION line (meson.build's version). The archive
# is reproducible: names sorted, owner and group 0, modes 0755/0644, every
# mtime SOURCE_DATE_EPOCH (default: the last commit's time, git log -1 %ct),
# gzip without a name or time. Prints the archive's sha256 on stdout.
#
# The manifest in the tree holds SHA256_OF_THE_ARCHIVE where the sha256
# goes: the sha256 depends on the commit's time, so only a release knows
# it. Upload the archive to the release (the manifest's uri) and submit
# OUTDIR/approve.yaml (comments dropped). To try it first:
#   kubectl krew install --manifest=OUTDIR/approve.yaml --archive=OUTDIR/kubectl-approve-VERSION.tar.gz
set -eu
top=$(CDPATH='' cd -- "$(dirname -- "$0")/.." && pwd)
die() { echo "plugin-archive.sh: $*" >&2; exit 1; }
[ $# -eq 1 ] || { echo "usage: tools/plugin-archive.sh OUTDIR" >&2; exit 2; }
out=$1
version=$(sed -n 's/^VERSION=\([0-9][0-9.]*\).*/\1/p' "$top/plugin/kubectl-approve")
[ -n "$version" ] || die "no VERSION line in plugin/kubectl-approve"
if [ -z "${SOURCE_DATE_EPOCH:-}" ]; then
	SOURCE_DATE_EPOCH=$(git -C "$top" log -1 --format=%ct 2>/dev/null) ||
		die "not a git checkout: set SOURCE_DATE_EPOCH (seconds) for a reproducible archive"
fi
case $SOURCE_DATE_EPOCH in '' | *[!0-9]*) die "SOURCE_DATE_EPOCH must be seconds since 1970, got '$SOURCE_DATE_EPOCH'" ;; esac
grep -q '^    sha256: SHA256_OF_THE_ARCHIVE$' "$top/plugin/krew/approve.yaml" ||
	die "plugin/krew/approve.yaml has no 'sha256: SHA256_OF_THE_ARCHIVE' line"
grep -q "^  version: v$version\$" "$top/plugin/krew/approve.yaml" ||
	die "plugin/krew/approve.yaml's spec.version is not v$version"

mkdir -p "$out"
out=$(CDPATH='' cd -- "$out" && pwd)
stage=$(mktemp -d "${TMPDIR:-/tmp}/plugin-archive.XXXXXX")
trap 'rm -rf "$stage"' EXIT
mkdir "$stage/console"
install -m 0755 "$top/plugin/kubectl-approve" "$stage/kubectl-approve"
install -m 0644 "$top/LICENSE" "$stage/LICENSE"
for f in "$top"/plugin/console/*; do
	[ -f "$f" ] && install -m 0644 "$f" "$stage/console/"
done
chmod 0755 "$stage/console"
archive=$out/kubectl-approve-$version.tar.gz
(cd "$stage" && LC_ALL=C tar --sort=name --format=gnu --mtime="@$SOURCE_DATE_EPOCH" \
	--owner=0 --group=0 --numeric-owner -cf - kubectl-approve console LICENSE) |
	gzip -n -9 >"$archive"
sum=$(sha256sum "$archive" | cut -d' ' -f1)
sed -e '/^#/d' -e "s/^    sha256: SHA256_OF_THE_ARCHIVE\$/    sha256: $sum/" "$top/plugin/krew/approve.yaml" >"$out/approve.yaml"
echo "$sum"
