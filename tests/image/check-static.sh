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
# Limits (override with the environment): SIZE_LIMIT bytes (327680, the
# 320 KiB of issue 10), RSS_LIMIT_KIB for VmRSS while waiting on a volume
# (384; measured 256-324: mostly the binary's clean code pages, which the
# kernel maps 64 KiB around each fault, more when more of the file is in
# the page cache), API_RSS_LIMIT_KIB while waiting on an open watch through the API
# (448; measured ~370: TLS records, the end-entity certificate and the
# answer's head are buffers of 16 KiB each).
# An aarch64 binary on another machine runs under qemu-aarch64-static: the
# checks are the same, but its default SIZE_LIMIT is 393216 (384 KiB: the
# code is as large as on x86_64, but arm64's linker aligns the segments to
# 64 KiB, for kernels with 64 KiB pages, which pads the file by ~60 KiB) and
# the memory figures are the emulator's, printed but not held to a limit.
# Needs: binutils (readelf), coreutils, python3 and openssl (the fake API
# server of tests/lib/fakeapi.py). Exit 0 when every check passes.
set -eu

size_limit=${SIZE_LIMIT:-}
rss_limit_kib=${RSS_LIMIT_KIB:-384}
api_rss_limit_kib=${API_RSS_LIMIT_KIB:-448}

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
run=()
emulated=
case $machine in
AArch64)
	size_limit=${size_limit:-393216}
	if [ "$(uname -m)" != aarch64 ]; then
		command -v qemu-aarch64-static >/dev/null || {
			echo "check-static: an aarch64 binary needs qemu-aarch64-static here (apt-get install qemu-user-static)" >&2
			exit 2
		}
		run=(qemu-aarch64-static)
		emulated=1
	fi
	;;
esac
size_limit=${size_limit:-327680}
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

status_figures() { # PID LABEL LIMIT
	local rss hwm
	rss=$(sed -n 's/^VmRSS:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$1/status")
	hwm=$(sed -n 's/^VmHWM:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$1/status")
	if [ -n "$emulated" ]; then
		printf 'figure: under qemu (the emulator'"'"'s memory, not held to a limit) %s VmRSS %s KiB, peak VmHWM %s KiB\n' "$2" "$rss" "$hwm"
		return 0
	fi
	printf 'figure: resident memory while waiting %s VmRSS %s KiB, peak VmHWM %s KiB\n' "$2" "$rss" "$hwm"
	check "VmRSS $rss <= $3 KiB while waiting $2" test "$rss" -le "$3"
}

watching() {
	local fd
	for fd in /proc/"$1"/fdinfo/*; do
		grep -q '^inotify wd:' "$fd" 2>/dev/null && return 0
	done
	return 1
}

"${run[@]}" "$bin" --dir "$tmp/data" --timeout 30s </dev/null 2>"$tmp/log" &
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
	status_figures "$pid" "on a volume" "$rss_limit_kib"

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

# Memory while waiting through the API alone, with its watch open on the
# fake API server; then approve through it.
api_waits() {
	local url line n=0
	coproc FAKEAPI { exec python3 "$(dirname "$0")/../lib/fakeapi.py" serve \
		--creds "$tmp/creds" --data status=init 2>"$tmp/fakeapi.log"; }
	read -r -t 20 line <&"${FAKEAPI[0]}" || return 1
	url=${line#fakeapi: serving }
	url=${url%%;*}
	"${run[@]}" "$bin" --api on --configmap approvals --api-server "$url" \
		--api-credentials "$tmp/creds" --timeout 30s </dev/null 2>"$tmp/api.log" &
	pid=$!
	while ! grep -q 'through the API at' "$tmp/api.log"; do
		n=$((n + 1))
		if ! kill -0 "$pid" 2>/dev/null || [ "$n" -gt 100 ]; then return 1; fi
		sleep 0.05
	done
	sleep 0.2
	status_figures "$pid" "through the API" "$api_rss_limit_kib"
	echo "patch status=approved" >&"${FAKEAPI[1]}"
	rc=0
	wait "$pid" || rc=$?
	pid=
	echo quit >&"${FAKEAPI[1]}"
	check "exits 0 after status=approved through the API (got $rc)" test "$rc" -eq 0
}
if command -v openssl >/dev/null; then
	api_waits || fail "waits with a watch open through the API (log: $(head -c 300 "$tmp/api.log" 2>/dev/null))"
else
	fail "openssl is needed for the fake API server (apt-get install openssl)"
fi

summary
