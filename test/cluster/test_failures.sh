#!/usr/bin/env bash
# hack/cluster refuses bad input with a message, never deletes a directory
# that is not a cluster's, and cleans up after an `up` that fails or is killed.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

# expect_error MESSAGE COMMAND...: COMMAND fails and says MESSAGE on stderr.
expect_error() {
	local msg=$1
	shift
	if "$@" >/dev/null 2>"$scratch/err"; then fail "succeeded: $*"; fi
	grep -q -- "$msg" "$scratch/err" || fail "$*: want '$msg', got: $(cat "$scratch/err")"
}

d=$(cluster_dir c)
expect_error 'unknown command: frobnicate' "$cluster" frobnicate --dir "$d"
expect_error -- '--dir DIR is required' "$cluster" up
expect_error 'unknown option: --bogus' "$cluster" up --dir "$d" --bogus
expect_error 'not a duration' "$cluster" up --dir "$d" --compaction-interval 5x
expect_error 'not a whole number' "$cluster" up --dir "$d" --timeout soon
expect_error "$scratch/nobin/etcd: missing" "$cluster" up --dir "$d" --bin "$scratch/nobin"
expect_error 'no cluster here' "$cluster" env --dir "$d"
[[ ! -e $d ]] || fail "a refused up left $d"
ok "bad options and commands are refused with a message"

mkdir -p "$scratch/keep"
echo precious >"$scratch/keep/file"
expect_error 'not empty' "$cluster" up --dir "$scratch/keep" --bin "$RECAP_KUBE_BIN"
expect_error 'not a cluster directory' "$cluster" down --dir "$scratch/keep"
[[ $(cat "$scratch/keep/file") == precious ]] || fail "a foreign directory was touched"
"$cluster" down --dir "$scratch/missing" || fail "down of a missing directory failed"
ok "a foreign directory is neither used nor deleted; down of nothing succeeds"

expect_error 'unknown flag: --no-such-flag' "$cluster" up --dir "$d" --bin "$RECAP_KUBE_BIN" --apiserver-arg=--no-such-flag
[[ ! -e $d ]] || fail "a failed up left $d"
[[ -z $(cluster_pids "$d") ]] || fail "a failed up left processes"
ok "a failed up shows the log, stops what it started and removes DIR"

# Killed with SIGKILL halfway: down finds the pid files and stops the rest,
# and finds a component without a pid file by its flags.
"$cluster" up --dir "$d" --bin "$RECAP_KUBE_BIN" 2>/dev/null &
up_pid=$!
eventually 30 "up starts kube-apiserver" test -s "$d/run/kube-apiserver.pid"
kill -KILL "$up_pid"
wait "$up_pid" || true
[[ -n $(cluster_pids "$d") ]] || fail "nothing ran when up was killed"
# As if up had died between starting etcd and writing its pid file.
rm "$d/run/etcd.pid"
"$cluster" down --dir "$d"
[[ ! -e $d ]] || fail "down after a killed up left $d"
[[ -z $(cluster_pids "$d") ]] || fail "down after a killed up left processes"
ok "down after a killed up leaves nothing"
