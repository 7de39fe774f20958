#!/bin/sh
# Builds the libFuzzer harnesses for approve-step's parsers of outside input
# (the project's own .c files, the system cJSON) and runs each one for a
# bounded time, starting from the seed corpus in tests/fuzz/corpus/.
#
#   tests/fuzz/run.sh [SECONDS]     fuzz each harness SECONDS (default 30)
#   tests/fuzz/run.sh 0             only replay the seed corpus once
#
# Environment:
#   FUZZ_OUT   build and working directory (default: /tmp/approve-step-fuzz)
#   FUZZ_JOBS  harnesses fuzzed at the same time (default: number of CPUs)
#   FUZZ_ONLY  space-separated harness names to run (default: all)
#   CC         a clang with libFuzzer (default: clang)
#
# New corpus entries go to $FUZZ_OUT/corpus/<harness>, never into the repo;
# a crash is saved as $FUZZ_OUT/crash-<harness>-<sha1> with the command to
# reproduce it. Prints one PASS/FAIL line per harness with its executions,
# then "N passed, M failed"; exits 1 if any harness crashed or a sanitizer
# reported anything.
set -eu

seconds=${1:-30}
case $seconds in
'' | *[!0-9]*)
	echo "usage: $0 [SECONDS]" >&2
	exit 2
	;;
esac

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
out=${FUZZ_OUT:-/tmp/approve-step-fuzz}
cc=${CC:-clang}
jobs=${FUZZ_JOBS:-$(nproc 2>/dev/null || echo 2)}
harnesses=${FUZZ_ONLY:-decision duration names escape http certname event}

san="-fsanitize=address,undefined -fno-sanitize-recover=all"
cflags="-std=c11 -g -O1 -fno-omit-frame-pointer -Wall -Wextra -Werror
	-D_POSIX_C_SOURCE=200809L -I$root/approve-step"
cjson_cflags=$(pkg-config --cflags libcjson 2>/dev/null || echo "")
cjson_libs=$(pkg-config --libs libcjson 2>/dev/null || echo "-lcjson")
# The TLS client links BearSSL (Debian's libbearssl-dev; no pkg-config file).
cjson_libs="$cjson_libs -lbearssl"

mkdir -p "$out/obj" "$out/bin" "$out/log" "$out/corpus"

# The project's sources, every one but main(): the same code the binary runs.
echo "building harnesses in $out with $cc"
objs=
for src in "$root"/approve-step/*.c; do
	name=$(basename "$src" .c)
	[ "$name" = main ] && continue
	# shellcheck disable=SC2086
	$cc $cflags $cjson_cflags $san -fsanitize=fuzzer-no-link \
		-c "$src" -o "$out/obj/$name.o"
	objs="$objs $out/obj/$name.o"
done
for h in $harnesses; do
	# shellcheck disable=SC2086
	$cc $cflags $cjson_cflags $san -fsanitize=fuzzer \
		"$here/fuzz_$h.c" $objs $cjson_libs -o "$out/bin/fuzz_$h"
done

export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"

# One harness: fuzz (or replay), then write its verdict line to log/$h.result.
run_one() {
	h=$1
	bin=$out/bin/fuzz_$h
	log=$out/log/$h.log
	dict=
	[ -f "$here/fuzz_$h.dict" ] && dict="-dict=$here/fuzz_$h.dict"
	mkdir -p "$out/corpus/$h"
	set +e
	if [ "$seconds" -eq 0 ]; then
		# shellcheck disable=SC2086
		"$bin" -runs=0 -print_final_stats=1 -artifact_prefix="$out/crash-$h-" \
			"$here/corpus/$h" >"$log" 2>&1
	else
		# New inputs land in the first directory, the work corpus.
		# shellcheck disable=SC2086
		"$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
			-max_len=65536 -print_final_stats=1 $dict \
			-artifact_prefix="$out/crash-$h-" \
			"$out/corpus/$h" "$here/corpus/$h" >"$log" 2>&1
	fi
	rc=$?
	set -e
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
	cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
	if [ $rc -eq 0 ] && ! grep -qE 'ERROR: (Address|Leak|Undefined)Sanitizer|runtime error:|invariant failed' "$log"; then
		echo "PASS fuzz/$h: ${execs:-?} executions in ${seconds}s, ${cov:-?} edges covered" >"$out/log/$h.result"
	else
		{
			echo "FAIL fuzz/$h: exit $rc after ${execs:-?} executions (log: $log)"
			grep -E 'invariant failed|ERROR: |runtime error:|SUMMARY|Test unit written' "$log" | head -20 | sed 's/^/    /'
			for c in "$out"/crash-"$h"-*; do
				[ -e "$c" ] && echo "    reproduce: $bin $c"
			done
		} >"$out/log/$h.result"
	fi
}

rm -f "$out"/log/*.result "$out"/crash-*
running=0
for h in $harnesses; do
	run_one "$h" &
	running=$((running + 1))
	if [ "$running" -ge "$jobs" ]; then
		wait
		running=0
	fi
done
wait

# shellcheck source=tests/lib/checks.sh
. "$here/../lib/checks.sh"
for h in $harnesses; do
	if [ -f "$out/log/$h.result" ]; then
		count_verdict "$out/log/$h.result"
	else
		fail "fuzz/$h: no result"
	fi
done
summary
