# shellcheck shell=bash
# Sourced by every script that runs under `set -e`: a command that ends the
# script says so on stderr with the script, the line, the command and its
# exit status, and the functions it was called through. Without it, a
# pipeline that fails under pipefail (a grep that matched nothing) ends the
# script with no word at all.
#
#   . "$(dirname "${BASH_SOURCE[0]}")/lib/errtrap.sh"     (from hack/)
#
# errtrace carries the trap into functions and subshells. bash turns `-e`
# off inside `$(...)`, so a failure there is reported by the command that
# used it; a process substitution `<(...)` keeps `-e`, so a failure there is
# reported although the script goes on (its reader decides).

recap_errtrap_report() { # status command
	local rc=$1 cmd=$2 i calls=""
	# Under `set +e` a failing command is the script's to handle, not an end.
	[[ $- == *e* ]] || return 0
	for ((i = 1; i < ${#FUNCNAME[@]}; i++)); do
		[[ ${FUNCNAME[i]} == main ]] && break
		calls+="${calls:+, }${FUNCNAME[i]} called at ${BASH_SOURCE[i + 1]:-?}:${BASH_LINENO[i]}"
	done
	printf '%s:%s: command failed with status %s: %s%s\n' \
		"${BASH_SOURCE[1]:-$0}" "${BASH_LINENO[0]}" "$rc" "$cmd" "${calls:+ (in $calls)}" >&2
}
set -o errtrace
trap 'recap_errtrap_report $? "$BASH_COMMAND"' ERR
