#!/bin/bash
# Check that an approve-step binary is fit for a FROM-scratch image:
# fully static, stripped, small, and small in memory while it waits.
#
#   tests/image/check-static.sh BINARY
#
# Static means no program interpreter and no shared library:
#  - a classic static executable (ELF type EXEC) has no INTERP program
#    header and no DYNAMIC segment at all;
#  - a static PIE (ELF type DYN, what build-static.sh makes when it can) has
#    a DYNAMIC segment, because its start code (musl's rcrt1.o) relocates
#    the binary itself at whatever address the kernel loaded it (that is
#    what gives it ASLR), but no INTERP and no NEEDED entry: the kernel runs
#    it directly and nothing else is loaded.
#
# Limits (override with the environment): SIZE_LIMIT bytes (131072),
# RSS_LIMIT_KIB for VmRSS while waiting (256).
# Needs: binutils (readelf), coreutils. Exit 0 when every check passes.
set -eu

size_limit=${SIZE_LIMIT:-131072}
rss_limit_kib=${RSS_LIMIT_KIB:-256}

[ $# -eq 1 ] || {
	echo "usage: $0 BINARY" >&2
	exit 2
}
bin=$1
case $bin in /*) ;; *) bin=$PWD/$bin ;; esac
command -v readelf >/dev/null || {
	echo "check-static: readelf missing (apt-get install binutils)" >&2
	exit 2
}

# shellcheck source=tests/lib/checks.sh
. "$(dirname "$0")/../lib/checks.sh"

if ! [ -f "$bin" ] || ! [ -x "$bin" ]; then
	fail "$bin is an executable file"
	summary
	exit 1
fi

header=$(readelf -hW "$bin" 2>&1) || true
segments=$(readelf -lW "$bin" 2>&1) || true
dynamic=$(readelf -dW "$bin" 2>&1) || true
sections=$(readelf -SW "$bin" 2>&1) || true

elftype=$(printf '%s\n' "$header" | sed -n 's/^ *Type: *\([A-Z]*\).*/\1/p')
machine=$(printf '%s\n' "$header" | sed -n 's/^ *Machine: *//p')
has() { printf '%s\n' "$1" | grep -q -e "$2"; }
hasnt() { ! has "$@"; }

check "ELF executable (type $elftype, $machine)" test "$elftype" = EXEC -o "$elftype" = DYN
check "no program interpreter (INTERP)" hasnt "$segments" '^ *INTERP '
case $elftype in
EXEC)
	check "static executable: no DYNAMIC segment" hasnt "$segments" '^ *DYNAMIC '
	check "static executable: no .dynamic section" hasnt "$sections" ' \.dynamic '
	;;
DYN)
	# A static PIE keeps DYNAMIC for its self-relocation; it must need nothing.
	check "static PIE: no NEEDED shared library" hasnt "$dynamic" '(NEEDED)'
	check "static PIE: flagged PIE" has "$dynamic" 'FLAGS_1.*PIE'
	;;
esac
check "stripped: no .symtab" hasnt "$sections" ' \.symtab '
check "stripped: no debug sections" hasnt "$sections" ' \.debug_'
check "no executable stack" hasnt "$segments" 'GNU_STACK.* RWE '

size=$(stat -c %s "$bin")
printf 'figure: binary size %d bytes (%d.%d KiB)\n' "$size" $((size / 1024)) $((size % 1024 * 10 / 1024))
check "size $size <= $size_limit bytes" test "$size" -le "$size_limit"

# Memory while waiting: run it on an empty directory; once it holds an
# inotify watch it is waiting, then read its status. Approve to end it.
tmp=$(mktemp -d)
pid=
cleanup() {
	if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; fi
	rm -rf "$tmp"
}
trap cleanup EXIT
mkdir "$tmp/data"

watching() {
	local fd
	for fd in /proc/"$1"/fdinfo/*; do
		grep -q '^inotify wd:' "$fd" 2>/dev/null && return 0
	done
	return 1
}

"$bin" --dir "$tmp/data" --timeout 30s </dev/null 2>"$tmp/log" &
pid=$!
waited=0
while ! watching "$pid"; do
	if ! kill -0 "$pid" 2>/dev/null || [ "$waited" -ge 100 ]; then break; fi
	sleep 0.05
	waited=$((waited + 1))
done
if watching "$pid"; then
	pass "waits with an inotify watch on --dir"
	sleep 0.2 # let it settle in its wait
	rss=$(sed -n 's/^VmRSS:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$pid/status")
	hwm=$(sed -n 's/^VmHWM:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$pid/status")
	printf 'figure: resident memory while waiting VmRSS %s KiB, peak VmHWM %s KiB\n' "$rss" "$hwm"
	check "VmRSS $rss <= $rss_limit_kib KiB while waiting" test "$rss" -le "$rss_limit_kib"

	printf approved >"$tmp/data/.status.tmp"
	mv "$tmp/data/.status.tmp" "$tmp/data/status"
	rc=0
	for _ in $(seq 100); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.05
	done
	if kill -0 "$pid" 2>/dev/null; then
		fail "exits after status=approved is renamed in (still running after 5 s)"
	else
		wait "$pid" || rc=$?
		pid=
		check "exits 0 after status=approved is renamed in (got $rc)" test "$rc" -eq 0
	fi
else
	fail "waits with an inotify watch on --dir (log: $(head -c 300 "$tmp/log"))"
fi

summary
