# report.sh: counting helpers for the tests/abi shell checks (sourced, not run).
# pass / fail WHAT [DETAIL...] / expect_none WHAT LIST (one offender a line),
# then `report NAME` prints "NAME: N passed, N failed" and sets the exit status.

passed=0
failed=0

pass() { passed=$((passed + 1)); }
fail() {
	failed=$((failed + 1))
	printf 'not ok: %s\n' "$1" >&2
	shift
	if [ $# -gt 0 ]; then
		printf '    %s\n' "$@" >&2
	fi
}

# Pass when the list is empty; else fail with its lines as the offenders.
expect_none() {
	local what="$1" offenders="$2"
	if [ -z "$offenders" ]; then
		pass
	else
		local IFS=$'\n'
		# shellcheck disable=SC2086
		fail "$what" $offenders
	fi
}
