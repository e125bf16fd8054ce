#!/usr/bin/env bash
# recap-controller on a simulated cluster of NODES nodes (default 1,000) and
# PODS pods (default 30,000), on the private control plane of hack/cluster:
# kwok (sigs.k8s.io/kwok, bench/build-kwok) plays the nodes' kubelets (Nodes
# and Pods are real API objects; its Stages report the pods Running, with
# container IDs), and a load generator (bench/scale/load.py caplets) stands
# in for the 1,000 nodes' caplets, writing each execution's status as caplet
# does. Both exist in bench/ only. Measures:
#   1. creating the nodes and pods at a client limit of QPS (default 100)
#   2. the controller's initial sync (start -> /readyz 200) and its RSS after
#   3. a Parallel CapsuleRun over TARGETS pods (default 10,000): time until
#      every CapsuleExecution exists, the controller's peak RSS meanwhile;
#      then the stand-in's writes (caplet's four: its finalizer, Running,
#      Succeeded, the finalizer's release), time until the run is Succeeded
#   4. etcd bytes per execution (the stored values) and the largest object
#   5. priority-and-fairness rejections (apiserver_flowcontrol_rejected_
#      requests_total) before and after
#   6. CPU seconds (user + system) of the controller, kube-apiserver and
#      etcd during the controller's sync, the fan-out and the stand-in's writes
# Prints tables; see bench/README.md. A failure names the step.
#
#   bench/scale.sh [NODES [PODS [TARGETS]]]   (BUILD=DIR, default build)
#
# Identities, as in a real cluster: the controller a ServiceAccount's user
# bound to config/rbac/controller_role.yaml (priority level workload-low),
# kwok a user in system:nodes (level system), the loader and the stand-in a
# plain user (level global-default): none is exempt from priority and
# fairness. QPS (default 100): the loader's client limit for pods;
# CAPLET_QPS (default 1000) and CAPLET_WORKERS (default 32): the stand-in's
# limit and connections; TAIL_BYTES (default 256): each execution's stdout
# tail.
set -euo pipefail
# shellcheck source=hack/lib/errtrap.sh
. "$(dirname "${BASH_SOURCE[0]}")/../hack/lib/errtrap.sh"
root=$(cd "$(dirname "$0")/.." && pwd)
nodes=${1:-1000}
pods=${2:-30000}
targets=${3:-10000}
qps=${QPS:-100}
tail_bytes=${TAIL_BYTES:-256}
build=${BUILD:-build}
for v in "$nodes" "$pods" "$targets" "$qps" "$tail_bytes"; do
	[[ $v =~ ^[0-9]+$ ]] || { echo "usage: bench/scale.sh [NODES [PODS [TARGETS]]]; got '$*'" >&2; exit 2; }
done
((targets <= pods && nodes > 0 && targets > 0)) || { echo "need 0 < TARGETS <= PODS, NODES > 0" >&2; exit 2; }
cd "$root"
step="build"
ninja -C "$build" cmd/recap-controller/recap-controller >/dev/null
ctlbin=$(cd "$build" && pwd)/cmd/recap-controller/recap-controller
export RECAP_KUBE_BIN=${RECAP_KUBE_BIN:-$(hack/build-kube)}
kwokdir=$(bench/build-kwok)

work=$(mktemp -d /tmp/recap-scale.XXXXXX)
dir=$work/cluster
ctl="" kwok=""
stop() { # PID: TERM, then wait; a process that dies of it is no failure
	if [[ -n $1 ]] && kill "$1" 2>/dev/null; then wait "$1" 2>/dev/null || true; fi
}
cleanup() {
	local rc=$?
	trap - EXIT
	stop "$ctl"
	stop "$kwok"
	hack/cluster down --dir "$dir" >/dev/null 2>&1 || true
	if ((rc)); then
		echo "scale: failed at step '$step' (exit $rc); controller log tail:" >&2
		tail -n 20 "$work/ctl.log" 2>/dev/null | sed 's/^/  | /' >&2 || true
	fi
	rm -rf "$work"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 143' TERM INT
load() { python3 "$root/bench/scale/load.py" "$@"; }

step="cluster up"
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
hack/cluster up --dir "$dir" >&2
# shellcheck disable=SC1091
. "$dir/env"
kubectl apply -k crds >/dev/null
hack/wait-crds --all
kubectl create namespace bench >/dev/null
kubectl apply -f config/rbac/controller_role.yaml -f config/rbac/controller_role_binding.yaml >/dev/null
sa=system:serviceaccount:recap-system:recap-controller
ctlcfg=$(hack/cluster user --dir "$dir" "$sa" --group system:serviceaccounts \
	--group system:serviceaccounts:recap-system)
kwokcfg=$(hack/cluster user --dir "$dir" recap-bench-kwok --group system:nodes)
hack/cluster user --dir "$dir" recap-bench-load >/dev/null
kubectl create clusterrolebinding recap-bench-admins --clusterrole=cluster-admin \
	--user=recap-bench-kwok --user=recap-bench-load >/dev/null
export SCALE_CERT=$dir/pki/users/recap-bench-load.crt SCALE_KEY=$dir/pki/users/recap-bench-load.key
[[ -f $SCALE_CERT && -f $SCALE_KEY ]] || { echo "no client certificate at $SCALE_CERT" >&2; exit 1; }
for _ in $(seq 100); do
	kubectl -n bench get serviceaccount default >/dev/null 2>&1 && break
	sleep 0.2
done
m0=$(load metrics)

step="kwok"
for f in "$kwokdir"/stages/*.yaml bench/scale/kwok-pod-stages.yaml; do
	cat "$f"
	echo ---
done >"$work/kwok.yaml"
"$kwokdir/bin/kwok" --kubeconfig="$kwokcfg" --config="$work/kwok.yaml" \
	--manage-all-nodes=false --manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake \
	--cidr=10.0.0.0/8 --node-ip=10.255.255.254 --server-address=127.0.0.1:0 >"$work/kwok.log" 2>&1 &
kwok=$!

step="nodes and pods"
t0=$(date +%s.%N)
load nodes "$nodes" >"$work/nodes.json"
load pods "$pods" "$nodes" "$targets" "$qps" >"$work/pods.json"
t1=$(date +%s.%N)
m1=$(load metrics)

# cpu PID: its CPU seconds so far (user + system, /proc/PID/stat)
cpu() {
	awk -v hz="$(getconf CLK_TCK)" '{sub(/^.*\) /, ""); printf "%.2f\n", ($12 + $13) / hz}' "/proc/$1/stat"
}
pid_of() { read -r p _ <"$dir/run/$1.pid" && echo "$p"; }
apiserver=$(pid_of kube-apiserver)
etcd=$(pid_of etcd)

step="controller sync"
c_sync0="0 $(cpu "$apiserver") $(cpu "$etcd")"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
s0=$(date +%s.%N)
"$ctlbin" --kubeconfig="$ctlcfg" --leader-elect=false --cert-check-seconds=0 \
	--metrics-addr="127.0.0.1:$port" --health-addr="127.0.0.1:$port" 2>>"$work/ctl.log" &
ctl=$!
ready=""
for _ in $(seq 6000); do
	if curl -sf "http://127.0.0.1:$port/readyz" >/dev/null 2>&1; then ready=$(date +%s.%N); break; fi
	kill -0 "$ctl" || { echo "the controller exited" >&2; exit 1; }
	sleep 0.05
done
[[ -n $ready ]] || { echo "the controller was not ready after 300 s" >&2; exit 1; }
sync_peak=$(awk '/^VmHWM/ {print $2}' "/proc/$ctl/status")
c_sync1="$(cpu "$ctl") $(cpu "$apiserver") $(cpu "$etcd")"
# Settled: queues empty (the Capsule-less cluster has nothing to do), the
# first lists' memory returned (malloc_trim 200 ms after the sync).
for _ in $(seq 120); do
	curl -sf "http://127.0.0.1:$port/metrics" | grep -E '^recap_controller_queue_depth' | grep -qv ' 0$' || break
	sleep 0.5
done
sleep 3
sync_rss=$(awk '/^VmRSS/ {print $2}' "/proc/$ctl/status")
cached=$(curl -sf "http://127.0.0.1:$port/metrics" | awk '/cached_objects\{resource="pods"/ {print $2}')

step="Capsule matching the targets"
load capsule "$targets" >"$work/capsule.json"
m2=$(load metrics)
step="fan-out"
c_run0="$(cpu "$ctl") $(cpu "$apiserver") $(cpu "$etcd")"
load run scale "$targets" "$ctl" >"$work/run.json"
c_run1="$(cpu "$ctl") $(cpu "$apiserver") $(cpu "$etcd")"
m_run=$(load metrics)
step="caplet stand-in"
c_cap0="$(cpu "$ctl") $(cpu "$apiserver") $(cpu "$etcd")"
SCALE_WORKERS=${CAPLET_WORKERS:-32} load caplets scale "$targets" "${CAPLET_QPS:-1000}" "$tail_bytes" >"$work/caplets.json"
c_cap1="$(cpu "$ctl") $(cpu "$apiserver") $(cpu "$etcd")"
step="sizes"
load sizes scale >"$work/sizes.json"
m3=$(load metrics)
final_rss=$(awk '/^VmRSS/ {print $2}' "/proc/$ctl/status")
grep -E '^recap_controller_(executions_created|execution_creates_resent|reconcile_total)' <(curl -sf "http://127.0.0.1:$port/metrics") \
	>"$work/ctl-metrics.txt" || true
step="report"
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)" >&2

python3 - "$work" "$nodes" "$pods" "$targets" "$qps" "$tail_bytes" "$t0" "$t1" "$s0" "$ready" \
	"$sync_peak" "$sync_rss" "${cached:-?}" "$final_rss" "$c_sync0" "$c_sync1" "$c_run0" "$c_run1" "$c_cap0" "$c_cap1" \
	"$m0" "$m1" "$m2" "$m3" "$m_run" <<'PY'
import json, sys
(work, nodes, pods, targets, qps, tail, t0, t1, s0, ready, sync_peak, sync_rss, cached, final_rss,
 c_sync0, c_sync1, c_run0, c_run1, c_cap0, c_cap1, *ms) = sys.argv[1:]
def cpu(a, b):
    d = [float(y) - float(x) for x, y in zip(a.split(), b.split())]
    return f"controller {d[0]:.2f} s, kube-apiserver {d[1]:.2f} s, etcd {d[2]:.2f} s"
j = lambda f: json.load(open(f"{work}/{f}.json"))
m = [json.loads(x) for x in ms]
pod, run, cap, size = j("pods"), j("run"), j("caplets"), j("sizes")
def lat(a, b, key):
    x, y = a["latency"].get(key, {"sum": 0, "count": 0}), b["latency"].get(key, {"sum": 0, "count": 0})
    c = y["count"] - x["count"]
    return f"{(y['sum'] - x['sum']) / c * 1000:.1f} ms mean over {c:.0f} calls" if c else "no calls"


mib = lambda kib: f"{int(kib) / 1024:.1f} MiB"
rows = [
    ("cluster", f"{nodes} kwok nodes, {pods} pods, {targets} targets", ""),
    ("nodes + pods created (client limit %s/s)" % qps, f"{float(t1) - float(t0):.0f} s to all Running",
     f"pods created in {pod['created_s']} s"),
    ("controller initial sync (start -> /readyz)", f"{float(ready) - float(s0):.2f} s", f"{cached} pods cached"),
    ("controller RSS after sync", mib(sync_rss), f"peak {mib(sync_peak)}; goal <= 64 MiB"),
    ("  CPU during the sync", cpu(c_sync0, c_sync1), ""),
    ("fan-out: all executions exist", f"{run['all_s']} s", f"first after {run['first_s']} s"),
    ("fan-out rate", f"{run['per_s']} executions/s", "goal >= 1,000/s"),
    ("  CPU during the fan-out", cpu(c_run0, c_run1), ""),
    ("  API server time per execution create", lat(m[2], m[4], "POST capsuleexecutions"), ""),
    ("  API server time per run status write", lat(m[2], m[4], "PATCH capsuleruns/status"), ""),
    ("controller peak RSS during fan-out", mib(run["peak_rss_kib"]), f"after it {mib(run['rss_kib'])}"),
    ("stand-in writes (finalizer, Running, Succeeded, release)", f"{cap['writes']} in {cap['written_s']} s",
     f"{cap['writes_per_s']} writes/s"),
    ("  API server time per execution status write", lat(m[4], m[3], "PATCH capsuleexecutions/status"), ""),
    ("  API server time per execution finalizer write", lat(m[4], m[3], "PATCH capsuleexecutions"), ""),
    ("run Succeeded after the first write", f"{cap['final_s']} s", f"{cap['executions_per_s']} executions/s"),
    ("  CPU during the stand-in's writes", cpu(c_cap0, c_cap1), ""),
    ("controller RSS at the end", mib(final_rss), ""),
    ("etcd bytes per execution (stored value)", f"{size['exec_mean_b']} B", f"max {size['exec_max_b']} B, "
     f"stdout tail {tail} B; goal <= 2 KiB"),
    ("  one execution, JSON bytes by part", ", ".join(f"{k} {v}" for k, v in size["exec_parts"].items()), ""),
    ("the CapsuleRun as stored", f"{size['run_b']} B", ""),
    ("largest recap.dev object", f"{size['largest_b']} B", size["largest_key"]),
    ("etcd db in use: growth over run + statuses",
     f"{(m[3]['etcd_db_in_use_bytes'] - m[2]['etcd_db_in_use_bytes']) / 1048576:.1f} MiB",
     f"{(m[3]['etcd_db_in_use_bytes'] - m[2]['etcd_db_in_use_bytes']) / int(targets):.0f} B per execution, "
     "history included"),
    ("APF rejections: before / after pods / after all",
     f"{m[0]['apf_rejected']:.0f} / {m[1]['apf_rejected']:.0f} / {m[3]['apf_rejected']:.0f}",
     f"429s seen by the loader: {pod['throttled']}, by the stand-in: {cap['throttled']}"),
]
w = max(len(r[0]) for r in rows)
v = max(len(r[1]) for r in rows)
for r in rows:
    print(f"{r[0]:<{w}}  {r[1]:<{v}}  {r[2]}")
PY
echo "controller API calls (its /metrics):"
sed 's/^/  /' "$work/ctl-metrics.txt"
