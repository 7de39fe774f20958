# shellcheck shell=sh
# What the shell test scripts share: PASS/FAIL bookkeeping (one line per
# check and a closing "N passed, M failed" line) and the check that the
# tools a suite needs are there. POSIX sh; sourced, never run.
passed=0
failed=0
pass() {
	printf 'PASS: %s\n' "$*"
	passed=$((passed + 1))
}
fail() {
	printf 'FAIL: %s\n' "$*"
	failed=$((failed + 1))
}
check() { # check DESCRIPTION COMMAND...
	_check_what=$1
	shift
	if "$@"; then pass "$_check_what"; else fail "$_check_what"; fi
}
count_verdict() { # count_verdict FILE: shows a verdict written earlier
	# (a "PASS ..." or "FAIL ..." line, details under it) and counts it
	cat "$1"
	case $(head -c4 "$1") in
	PASS) passed=$((passed + 1)) ;;
	*) failed=$((failed + 1)) ;;
	esac
}
summary() { # prints the closing line; true when nothing failed
	printf '%d passed, %d failed\n' "$passed" "$failed"
	[ "$failed" -eq 0 ]
}
npm_ci_locked() { # in a suite's folder: installs the pinned packages of
	# package-lock.json into node_modules when missing or made from another
	# lock file
	if ! cmp -s package-lock.json node_modules/.installed-from-lock 2>/dev/null; then
		npm ci --no-audit --no-fund --loglevel=error >&2
		cp package-lock.json node_modules/.installed-from-lock
	fi
}
finish() { # prints the closing line and exits: 0 when nothing failed, else 1
	if summary; then exit 0; fi
	exit 1
}
abort() { # abort DESCRIPTION: a failure that ends the script
	fail "$*"
	finish
}
need_tools() { # need_tools SUITE HINT TOOL...: exit 2 if a tool is missing
	_need_suite=$1
	_need_hint=$2
	shift 2
	for _need_tool; do
		command -v "$_need_tool" >/dev/null 2>&1 && continue
		echo "$_need_suite: $_need_tool not found ($_need_hint)" >&2
		exit 2
	done
}
