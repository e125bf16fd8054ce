#!/usr/bin/env bash
# stop-apiserver kills kube-apiserver (etcd and the data stay); start-apiserver
# brings it back on the same port with the same flags.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

up c
d=$scratch/c
url=$(cluster_env "$d" RECAP_APISERVER_URL)
kc "$d" create configmap before >/dev/null
read -r pid _ <"$d/run/kube-apiserver.pid"
read -r etcd_pid _ <"$d/run/etcd.pid"
tr '\0' '\n' <"/proc/$pid/cmdline" >"$scratch/cmdline.1"

"$cluster" stop-apiserver --dir "$d"
# its state: gone (no /proc/PID/stat, also if it goes between two looks) or a zombie
state=$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null || true)
[[ -z $state || $state == Z ]] || fail "kube-apiserver $pid still runs (state $state)"
port=$(cluster_env "$d" RECAP_APISERVER_PORT)
if listening "$port"; then fail "port $port still listening after stop-apiserver"; fi
rc=0
curl -s --max-time 5 --cacert "$d/pki/ca.crt" "$url/readyz" >/dev/null || rc=$?
((rc == 7)) || fail "after stop-apiserver, curl exits $rc, want 7 (connection refused)"
kill -0 "$etcd_pid" || fail "etcd stopped with the apiserver"
if "$cluster" stop-apiserver --dir "$d" 2>"$scratch/err"; then fail "a second stop-apiserver succeeded"; fi
grep -q 'not running' "$scratch/err" || fail "second stop: $(cat "$scratch/err")"
ok "stop-apiserver: connection refused, etcd still up"

"$cluster" start-apiserver --dir "$d"
listening "$port" || fail "nothing listens on $port after start-apiserver"
read -r pid2 _ <"$d/run/kube-apiserver.pid"
[[ $pid2 != "$pid" ]] || fail "same pid after restart"
tr '\0' '\n' <"/proc/$pid2/cmdline" >"$scratch/cmdline.2"
cmp -s "$scratch/cmdline.1" "$scratch/cmdline.2" || fail "flags differ after restart: $(diff "$scratch/cmdline.1" "$scratch/cmdline.2")"
kc "$d" get configmap before >/dev/null || fail "configmap lost across the restart"
kc "$d" create configmap after >/dev/null
if "$cluster" start-apiserver --dir "$d" 2>"$scratch/err"; then fail "a second start-apiserver succeeded"; fi
grep -q 'already running' "$scratch/err" || fail "second start: $(cat "$scratch/err")"
ok "start-apiserver: same port and flags, data kept"
