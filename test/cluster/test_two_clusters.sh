#!/usr/bin/env bash
# Two clusters at once in different directories: separate ports and data,
# kubectl and server at the pinned version, and `down` of one leaves nothing
# of it behind while the other keeps working.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

a=$(cluster_dir a)
b=$(cluster_dir b)
"$cluster" up --dir "$a" --bin "$RECAP_KUBE_BIN" &
pa=$!
"$cluster" up --dir "$b" --bin "$RECAP_KUBE_BIN" &
pb=$!
wait "$pa" || fail "up --dir a"
wait "$pb" || fail "up --dir b"
ok "two clusters up at once"

port_a=$(cluster_env "$a" RECAP_APISERVER_PORT)
port_b=$(cluster_env "$b" RECAP_APISERVER_PORT)
[[ $port_a != "$port_b" ]] || fail "both clusters on port $port_a"
kc "$a" create namespace only-in-a >/dev/null
kc "$a" get namespace only-in-a >/dev/null || fail "namespace missing in a"
if kc "$b" get namespace only-in-a >/dev/null 2>&1; then fail "cluster b sees a's namespace"; fi
ok "separate ports ($port_a, $port_b) and data"

# The env file puts the pinned kubectl first on PATH and names the kubeconfig.
bash -c '. "$1/env" && command -v kubectl && kubectl version' _ "$a" >"$scratch/version.out" 2>"$scratch/version.err"
grep -qx "$RECAP_KUBE_BIN/kubectl" "$scratch/version.out" || fail "kubectl from env: $(head -1 "$scratch/version.out")"
grep -qx 'Client Version: v1.34.4' "$scratch/version.out" || fail "client version: $(cat "$scratch/version.out")"
grep -qx 'Server Version: v1.34.4' "$scratch/version.out" || fail "server version: $(cat "$scratch/version.out")"
[[ ! -s $scratch/version.err ]] || fail "kubectl version wrote to stderr: $(cat "$scratch/version.err")"
[[ $("$cluster" env --dir "$a") == "$(cat "$a/env")" ]] || fail "env --dir differs from DIR/env"
ok "kubectl version: client and server v1.34.4, no warning"

etcd_port=$(cluster_env "$a" RECAP_ETCD_PORT)
read -r pid _ <"$a/run/kube-apiserver.pid"
# grep without -q reads to the end: tr killed by SIGPIPE after a match would
# make the pipeline fail under pipefail and hide the flag
if tr '\0' '\n' <"/proc/$pid/cmdline" | grep -- --etcd-compaction-interval >/dev/null; then
	fail "kube-apiserver has --etcd-compaction-interval without --compaction-interval"
fi
mapfile -t pids < <(cluster_pids "$a")
((${#pids[@]} == 3)) || fail "want 3 processes naming $a, have ${#pids[@]}"
mapfile -t ports < <(listening_ports "${pids[@]}")
printf '%s\n' "${ports[@]}" | grep -qx "$port_a" || fail "kube-apiserver port $port_a not among ${ports[*]}"
printf '%s\n' "${ports[@]}" | grep -qx "$etcd_port" || fail "etcd port $etcd_port not among ${ports[*]}"
"$cluster" down --dir "$a"
[[ ! -e $a ]] || fail "$a still exists after down"
left=$(cluster_pids "$a")
[[ -z $left ]] || fail "processes left after down: $(ps -o pid=,args= -p "${left//$'\n'/,}")"
for p in "${ports[@]}"; do
	if listening "$p"; then fail "port $p still listening after down"; fi
done
"$cluster" down --dir "$a" || fail "a second down failed"
kc "$b" get namespace default >/dev/null || fail "cluster b broken by a's down"
ok "down: no process, port or file left; idempotent; the other cluster unaffected"
