#!/usr/bin/env bash
# Soak: RUNS CapsuleRuns (default 1000) of mixed strategies on a private
# loopback system (e2e/lib.sh: API server, etcd, registry, containerd through
# the node stand-in, recap-controller, one caplet per node; all real) with 3
# nodes and 6 target pods, at most INFLIGHT (default 20) unfinished at once,
# while the controller and the caplets of node-1 and node-2 are killed
# (SIGKILL) in turn every KILL_EVERY seconds (default 15) and started again.
# node-3's caplet is never killed, and the controller only in the first half
# of the runs: their resident size over the rest is the leak check.
#
# Each run has its own Capsule, whose command appends the run's name to
# /dev/shm/starts in its target (ReadWrite), read back on the host through
# the target's /proc/PID/root. At the end (bench/soak/check.py):
#   * every run reached a final phase;
#   * in every target, each run's command started at most once, and exactly
#     once where its execution Succeeded;
#   * nothing is left on any node (run directories, mounts, cgroups, executor
#     processes);
#   * the resident size (VmRSS) of the controller and of node-3's caplet,
#     sampled every 10 s: the curve, and its growth over the second half.
#
# With TTL set, finished runs are deleted as they go: what the API no longer
# holds is checked by the starts in the targets alone (each run's command at
# most once in each target; every run created, counted by its starts).
#
#   [TTL=SECONDS] bench/soak.sh [RUNS]   (as root, from a tree built in build/ with
#                           -Dfailpoints=true or not; hack/build-kube done)
set -euo pipefail
# shellcheck source=hack/lib/errtrap.sh
. "$(dirname "${BASH_SOURCE[0]}")/../hack/lib/errtrap.sh"
root=$(cd "$(dirname "$0")/.." && pwd)
RUNS=${1:-1000}
INFLIGHT=${INFLIGHT:-20}
KILL_EVERY=${KILL_EVERY:-15}
# TTL=SECONDS: each run's ttlSecondsAfterFinished, so finished runs (and
# their executions) go as they would in a cluster that keeps none for long:
# the resident size then shows whether anything grows but the cache
TTL=${TTL:-}
for v in RUNS INFLIGHT KILL_EVERY ${TTL:+TTL}; do
	if ! [[ ${!v} =~ ^[0-9]+$ ]] || ((${!v} < 1 || ${!v} > 100000)); then
		echo "$v must be a number in 1..100000, got '${!v}'" >&2
		exit 2
	fi
done
B=$root/build
# shellcheck source-path=SCRIPTDIR source=../e2e/lib.sh
. "$root/e2e/lib.sh"
e2e_up "$B/cmd/caplet/caplet" "$B/cmd/capsule/capsule" "$B/cmd/recap-controller/recap-controller" \
	"$B/test/runtime/recap-test-sleeper" "$root" node-1 node-2 node-3

ns_create soak
writable_targets soak
for n in 1 2 3; do
	for k in a b; do pod_create soak "db-$n$k" "node-$n" db registry.local/db:1 app=db "node=n$n"; done
done
wait_until 60 pods_running soak 6 || { echo "the 6 target pods do not run" >&2; exit 1; }

# capsule_and_run I: run soak-I of Capsule soak-I; the strategy turns with I.
capsule_and_run() {
	local i=$1 strategy selector
	case $((i % 3)) in
	0) strategy='{type: Parallel}' selector='{matchLabels: {app: db}}' ;;
	1) strategy='{type: Iterative, maxConcurrent: 2, failurePolicy: Continue}' selector='{matchLabels: {app: db}}' ;;
	2) strategy='{type: Parallel}' selector="{matchLabels: {node: n$((i % 2 + 1))}}" ;;
	esac
	kubectl apply -n soak -f - >/dev/null <<YAML
apiVersion: recap.dev/v1alpha1
kind: Capsule
metadata: {name: soak-$i}
spec:
  image: $IMAGE
  command: [sh, -c, 'echo soak-$i >>/target/dev/shm/starts && sleep 0.$((i % 9 + 1))']
  targetFilesystem: ReadWrite
  timeoutSeconds: 60
  strategy: $strategy
  targets: {selector: $selector}
---
apiVersion: recap.dev/v1alpha1
kind: CapsuleRun
metadata: {name: soak-$i}
spec: {capsuleRef: {name: soak-$i}${TTL:+, ttlSecondsAfterFinished: $TTL}}
YAML
}
unfinished() {
	kubectl get caprun -n soak -o jsonpath='{range .items[*]}{.status.phase}{"\n"}{end}' |
		grep -cvE '^(Succeeded|Failed|PartiallyFailed|Cancelled)$' || true
}
rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }

# chaos: the next victim in turn (the controller only in the first half)
victims=(node-1 controller node-2)
kills=0
chaos() {
	local v=${victims[kills % ${#victims[@]}]}
	if [[ $v == controller ]]; then
		((created < RUNS / 2)) || v=node-1
	fi
	if [[ $v == controller ]]; then
		kill -9 "$CONTROLLER_PID"
		wait "$CONTROLLER_PID" 2>/dev/null || true
		controller_start
	else
		kill -9 "${CAPLET_PID[$v]}"
		wait "${CAPLET_PID[$v]}" 2>/dev/null || true
		caplet_start "$v"
		caplet_wait "$v"
	fi
	kills=$((kills + 1))
	echo "$(date +%s) killed $v" >>"$T/chaos.log"
}

curve=$T/rss.tsv
printf 't_s\truns_created\tcontroller_kib\tcaplet_node3_kib\n' >"$curve"
start=$(date +%s)
last_kill=$start last_sample=0 created=0
echo "soak: $RUNS runs, at most $INFLIGHT unfinished, a kill every ${KILL_EVERY}s; load $(cut -d' ' -f1-3 /proc/loadavg)"
while ((created < RUNS)) || (($(unfinished) > 0)); do
	now=$(date +%s)
	if ((now - last_sample >= 10)); then
		printf '%d\t%d\t%s\t%s\n' $((now - start)) "$created" "$(rss_kib "$CONTROLLER_PID")" \
			"$(rss_kib "${CAPLET_PID[node-3]}")" >>"$curve"
		last_sample=$now
	fi
	if ((created < RUNS && now - last_kill >= KILL_EVERY)); then
		chaos
		last_kill=$now
	fi
	if ((created < RUNS)) && (($(unfinished) < INFLIGHT)); then
		created=$((created + 1))
		capsule_and_run "$created"
		((created % 100)) || echo "soak: $created runs created after $((now - start))s, $kills kills"
		continue
	fi
	if ((now - start > RUNS * 10 + 600)); then
		echo "soak: runs still unfinished after $((now - start))s" >&2
		break
	fi
	sleep 1
done
elapsed=$(($(date +%s) - start))
echo "soak: all $RUNS runs created and ended in ${elapsed}s, $kills kills; load $(cut -d' ' -f1-3 /proc/loadavg)"

# every target's starts file, as pod<TAB>line
starts=$T/starts.tsv
: >"$starts"
for n in 1 2 3; do
	for k in a b; do
		pid=$(target_pid soak "db-$n$k") || { echo "no PID for the container of db-$n$k" >&2; exit 1; }
		sed "s/^/db-$n$k\t/" "/proc/$pid/root/dev/shm/starts" >>"$starts" 2>/dev/null || true
	done
done
kubectl get caprun -n soak -o json >"$T/runs.json"
kubectl get cexec -n soak -o json >"$T/execs.json"
status=0
"$root/bench/soak/check.py" "$T/runs.json" "$T/execs.json" "$starts" "$curve" "$RUNS" "${TTL:+expired}" || status=1
if nodes_clean && ! pgrep -f -- "--root $T/node-[^ ]* run" >/dev/null; then
	echo "residue: none (run directories, mounts, cgroups, executor processes)"
else
	echo "residue: something was left on a node (above)" >&2
	status=1
fi
exit $status
