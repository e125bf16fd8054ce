#!/usr/bin/env bash
# caplet on a full node: PODS pods (default 110, the kubelet's default
# maximum) running on one node through containerd's CRI, and one Parallel
# CapsuleRun over all of them whose executions a CapsulePolicy lets run
# IN_FLIGHT (default 10) at a time on the node, each `sleep SLEEP_S` (default
# 2) in a cached busybox capsule. On the private loopback cluster of
# e2e/lib.sh (API server, etcd, registry, containerd, the node stand-in,
# recap-controller, one real caplet). ROUNDS (default 3) runs, one after
# another.
#
# Per round: caplet's RSS (VmRSS sampled every 100 ms, its peak VmHWM reset
# before the run through /proc/PID/clear_refs), its own CPU per execution
# (utime + stime) and that of the children it waited for (the executor
# `capsule run` and the CRI check `capsule cri-status`: cutime + cstime),
# the most executors (`capsule run`) alive at once, and the run's wall time. Before
# the first round: caplet's RSS with the pods running and nothing to do.
#
#   bench/caplet-full-node.sh   (as root, from a tree built in build/)
set -euo pipefail
# shellcheck source=hack/lib/errtrap.sh
. "$(dirname "${BASH_SOURCE[0]}")/../hack/lib/errtrap.sh"
root=$(cd "$(dirname "$0")/.." && pwd)
PODS=${PODS:-110}
IN_FLIGHT=${IN_FLIGHT:-10}
SLEEP_S=${SLEEP_S:-2}
ROUNDS=${ROUNDS:-3}
for v in PODS IN_FLIGHT SLEEP_S ROUNDS; do
	if ! [[ ${!v} =~ ^[1-9][0-9]{0,3}$ ]]; then
		echo "$v must be a number in 1..9999, got '${!v}'" >&2
		exit 2
	fi
done
B=$root/build
# shellcheck source-path=SCRIPTDIR source=../e2e/lib.sh
. "$root/e2e/lib.sh"
e2e_up "$B/cmd/caplet/caplet" "$B/cmd/capsule/capsule" "$B/cmd/recap-controller/recap-controller" \
	"$B/test/runtime/recap-test-sleeper" "$root" node-1

kubectl create namespace bench >/dev/null
kubectl label namespace bench team=bench >/dev/null
{
	for ((i = 0; i < PODS; i++)); do
		cat <<YAML
---
apiVersion: v1
kind: Pod
metadata: {name: app-$i, labels: {app: full}}
spec:
  nodeName: node-1
  containers: [{name: app, image: $SLEEPER_IMAGE}]
YAML
	done
	cat <<YAML
---
apiVersion: recap.dev/v1alpha1
kind: CapsulePolicy
metadata: {name: full-node}
spec: {namespaceSelector: {matchLabels: {team: bench}}, limits: {maxConcurrentPerNode: $IN_FLIGHT}}
---
apiVersion: recap.dev/v1alpha1
kind: Capsule
metadata: {name: full}
spec:
  image: $IMAGE
  command: [sleep, "$SLEEP_S"]
  targets: {selector: {matchLabels: {app: full}}}
YAML
} | kubectl apply -n bench -f - >/dev/null
all_running() { pods_running bench "$PODS"; }
wait_until 600 all_running || { echo "the $PODS pods did not all run" >&2; exit 1; }
caplet=${CAPLET_PID[node-1]}
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg), $(nproc) cores; $PODS pods running on node-1"

kib() { awk -v k="$1" '$1 == k":" {print $2}' "/proc/$caplet/status"; }
# CPU ticks of caplet: own (utime + stime) and its waited-for children's
cpu_ticks() { awk '{sub(/.*\) /, ""); print $12 + $13, $14 + $15}' "/proc/$caplet/stat"; }
tck=$(getconf CLK_TCK)

# the image pulled once, so that every round runs from the store
kubectl apply -n bench -f - >/dev/null <<YAML
apiVersion: recap.dev/v1alpha1
kind: CapsuleRun
metadata: {name: warm}
spec: {capsuleRef: {name: full}, targets: [app-0]}
YAML
warm_done() { run_phase_is bench warm Succeeded; }
wait_until 120 warm_done || { echo "the warm-up run did not succeed" >&2; exit 1; }
sleep 3
echo "caplet RSS with $PODS pods and nothing to do: $(kib VmRSS) KiB"

printf '%-6s %9s %12s %12s %14s %16s %13s\n' round wall_s rss_peak_kib rss_end_kib "caplet_ms/exec" "children_ms/exec" max_executors
for ((r = 1; r <= ROUNDS; r++)); do
	name=full-$r
	echo 5 >"/proc/$caplet/clear_refs"
	read -r own0 kids0 < <(cpu_ticks)
	# the most executors (`capsule run` children of caplet) alive at once,
	# sampled every 50 ms while the run lasts
	(
		most=0
		while [[ ! -e $T/$name.done ]]; do
			k=$({ pgrep -P "$caplet" -f "^[^ ]*capsule (.* )?run( |$)" || true; } | wc -l)
			((k > most)) && most=$k && echo "$most" >"$T/$name.most"
			sleep 0.05
		done
	) &
	sampler=$!
	PIDS+=($sampler)
	sleep 0.5
	t0=$(date +%s.%N)
	run_create bench "$name" full
	done_ok() { run_phase_is bench "$name" Succeeded; }
	wait_until 600 done_ok || { echo "round $r: the run did not succeed" >&2; exit 1; }
	t1=$(date +%s.%N)
	read -r own1 kids1 < <(cpu_ticks)
	touch "$T/$name.done"
	wait "$sampler" 2>/dev/null || true
	n=$(kubectl get caprun -n bench "$name" -o jsonpath='{.status.succeeded}')
	[[ $n == "$PODS" ]] || { echo "round $r: $n of $PODS executions succeeded" >&2; exit 1; }
	most=$(cat "$T/$name.most" 2>/dev/null || echo 0)
	((most >= 1)) || { echo "round $r: no executor seen by the sampler" >&2; exit 1; }
	((most <= IN_FLIGHT)) || { echo "round $r: $most executors ran at once, over $IN_FLIGHT" >&2; exit 1; }
	printf '%-6s %9.1f %12s %12s %14.1f %16.1f %13s\n' "$r" "$(echo "$t1 - $t0" | bc)" "$(kib VmHWM)" \
		"$(kib VmRSS)" "$(echo "($own1 - $own0) * 1000 / $tck / $PODS" | bc -l)" \
		"$(echo "($kids1 - $kids0) * 1000 / $tck / $PODS" | bc -l)" "$most"
done
echo "caplet's resident memory at the end by mapping (KiB, smaps Rss; the largest):"
awk '/^[0-9a-f]+-[0-9a-f]+ / {name = NF >= 6 ? $6 : "[anon]"} /^Rss:/ {rss[name] += $2}
	END {for (n in rss) if (rss[n] > 0) printf "  %6d  %s\n", rss[n], n}' "/proc/$caplet/smaps" | sort -rn | head -12
echo "load after:  $(cut -d' ' -f1-3 /proc/loadavg)"
nodes_clean || { echo "executions left state behind" >&2; exit 1; }
