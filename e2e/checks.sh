# shellcheck shell=bash
# The checks every e2e script reports with: "ok   - WHAT" or "FAIL - WHAT"
# (counted in FAILS), and bounded polling. Sourced by e2e/lib.sh,
# e2e/real-node/lib.sh and e2e/plugin-attach.sh; each has its own finish.
FAILS=${FAILS:-0}
pass() { echo "ok   - $*"; }
fail() {
	echo "FAIL - $*" >&2
	FAILS=$((FAILS + 1))
}
# check WHAT CMD...: CMD's status decides.
check() {
	local what=$1
	shift
	if "$@"; then pass "$what"; else fail "$what"; fi
}
equals() { [[ $1 == "$2" ]] || { echo "  expected '$2', got '$1'" >&2; return 1; }; }
# wait_until SECONDS CMD...: polls CMD every 0.2 s.
wait_until() {
	local n=$(($1 * 5)) i
	shift
	for ((i = 0; i < n; i++)); do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.2
	done
	return 1
}
