#!/usr/bin/env bash
# CapsuleRun created -> Succeeded, one target, image cached, command `true`:
# p50/p95/max of the total and of each phase over RUNS runs created one after
# another, on a private loopback control plane (e2e/lib.sh: API server, etcd,
# registry, node stand-in with containers through containerd's CRI,
# recap-controller, one caplet).
# Timed from a Python client speaking to the API server directly (no kubectl
# process start in the timed path): bench/f-latency/measure.py.
#
#   bench/f-latency.sh [RUNS]   (as root, from a tree built in build/; default 100)
#
# BASELINE=DIR (another build tree, e.g. of the previous commit; its caplet
# must take --cri-endpoint, which e2e/lib.sh passes): its
# recap-controller, caplet and executor (cmd/capsule/capsule) take turns with
# build/'s, in BLOCKS blocks (default 10) of RUNS/BLOCKS runs per side, on the
# same cluster, node, target and node store, so both sides see the same load;
# one table, side by side.
set -euo pipefail
# shellcheck source=hack/lib/errtrap.sh
. "$(dirname "${BASH_SOURCE[0]}")/../hack/lib/errtrap.sh"
root=$(cd "$(dirname "$0")/.." && pwd)
RUNS=${1:-100}
if ! [[ $RUNS =~ ^[0-9]+$ ]] || ((RUNS < 1 || RUNS > 10000)); then
	echo "RUNS must be a number in 1..10000, got '$RUNS'" >&2
	exit 2
fi
B=$root/build
BASE=${BASELINE:-}
BLOCKS=${BLOCKS:-10}
if [[ -n $BASE ]] && { [[ ! -x $BASE/cmd/caplet/caplet ]] || [[ ! -x $BASE/cmd/recap-controller/recap-controller ]] ||
	[[ ! -x $BASE/cmd/capsule/capsule ]] ||
	! [[ $BLOCKS =~ ^[0-9]+$ ]] || ((BLOCKS < 1 || BLOCKS > RUNS)); }; then
	echo "BASELINE must be a build tree with cmd/caplet/caplet, cmd/capsule/capsule and cmd/recap-controller/recap-controller," \
		"and BLOCKS a number in 1..RUNS; got '$BASE', '$BLOCKS'" >&2
	exit 2
fi
# shellcheck source-path=SCRIPTDIR source=../e2e/lib.sh
. "$root/e2e/lib.sh"
e2e_up "$B/cmd/caplet/caplet" "$B/cmd/capsule/capsule" "$B/cmd/recap-controller/recap-controller" \
	"$B/test/runtime/recap-test-sleeper" "$root" node-1

kubectl create namespace bench >/dev/null
kubectl apply -n bench -f - >/dev/null <<YAML
apiVersion: v1
kind: Pod
metadata: {name: web, labels: {app: web}}
spec:
  nodeName: node-1
  containers: [{name: app, image: registry.local/app:1}]
---
apiVersion: recap.dev/v1alpha1
kind: Capsule
metadata: {name: lat}
spec:
  image: $IMAGE
  command: ["true"]
  targets: {selector: {matchLabels: {app: web}}}
YAML
running() { [[ $(kubectl get pod -n bench web -o jsonpath='{.status.phase}') == Running ]]; }
wait_until 30 running || { echo "the target pod does not run" >&2; exit 1; }

# stop_started PID: stops a process this script started and forgets it.
stop_started() {
	local keep=() p
	kill -TERM "$1" 2>/dev/null || true
	wait "$1" 2>/dev/null || true
	for p in "${PIDS[@]}"; do [[ $p == "$1" ]] || keep+=("$p"); done
	PIDS=("${keep[@]}")
}
# use_build DIR: that build's controller, caplet and executor in place of the running ones.
use_build() {
	stop_started "$CONTROLLER_PID"
	stop_started "${CAPLET_PID[node-1]}"
	E2E_CONTROLLER=$1/cmd/recap-controller/recap-controller
	E2E_CAPLET=$1/cmd/caplet/caplet
	E2E_CAPSULE=$1/cmd/capsule/capsule
	controller_start
	caplet_start node-1
	caplet_wait node-1
}

echo "load before: $(cut -d' ' -f1-3 /proc/loadavg), $(nproc) cores"
if [[ -z $BASE ]]; then
	"$root/bench/f-latency/measure.py" bench lat "$RUNS"
else
	samples=$T/samples.jsonl
	for ((b = 1; b <= BLOCKS; b++)); do
		for side in build baseline; do
			dir=$B
			[[ $side == baseline ]] && dir=$BASE
			use_build "$dir"
			"$root/bench/f-latency/measure.py" bench lat $((RUNS / BLOCKS)) "$side-$b" "$samples" |
				sed "s/^/$side block $b: /"
		done
	done
	sed -i 's/"label": "\(build\|baseline\)-[0-9]*"/"label": "\1"/' "$samples"
	"$root/bench/f-latency/measure.py" --report "$samples"
fi
echo "load after:  $(cut -d' ' -f1-3 /proc/loadavg)"
nodes_clean || { echo "executions left state behind" >&2; exit 1; }
