# shellcheck shell=bash
# PASS/FAIL bookkeeping for the shell test scripts: one line per check and
# a closing "N passed, M failed" line.
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
	local what=$1
	shift
	if "$@"; then pass "$what"; else fail "$what"; fi
}
summary() { # prints the closing line; true when nothing failed
	printf '%d passed, %d failed\n' "$passed" "$failed"
	[ "$failed" -eq 0 ]
}
