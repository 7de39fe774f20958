#!/bin/sh
# Builds approve-step, then runs one approval round trip on a temporary
# directory laid out like a ConfigMap volume: no cluster needed.
set -eu
cd "$(dirname "$0")"
. tools/deps.sh
need_packages $BUILD_PACKAGES || exit 1

# meson's output only when a step fails (quietly, in tools/deps.sh).
echo "== building approve-step (meson, in build/)"
if ! [ -f build/build.ninja ]; then
	rm -rf build
	quietly meson setup build || exit 1
fi
quietly meson compile -C build || exit 1

dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
mkdir "$dir/data" "$dir/results"
volume() { python3 tests/lib/volume.py "$dir/data" "$@"; }

echo "== a ConfigMap volume with status=init, and approve-step waiting on it"
volume status=init
build/approve-step/approve-step --dir "$dir/data" --key status \
	--timeout 1m --results-dir "$dir/results" --configmap approve-cm &
step=$!
sleep 1

echo "== an approver approves (kubectl patch, then the kubelet swaps ..data)"
volume 'status={"decision":"approved","approver":"you","comment":"looks good"}'

status=0
wait "$step" || status=$?
echo "== approve-step exited $status; its Tekton results:"
for r in decision approver comment waited-seconds; do
	printf '   %-15s %s\n' "$r" "$(cat "$dir/results/$r" 2>/dev/null || echo '<missing>')"
done
[ "$status" -eq 0 ] || {
	echo "demo: approve-step exited $status, not 0 (approved): see its log above" >&2
	exit 1
}
