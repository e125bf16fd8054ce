#!/usr/bin/env bash
# CapsuleRun created -> Succeeded, one target, image cached, command `true`:
# p50/p95/max of the total and of each phase over RUNS runs created one after
# another, on a private loopback control plane (e2e/lib.sh: API server, etcd,
# registry, node stand-in with runc containers, recap-controller, one caplet).
# Timed from a Python client speaking to the API server directly (no kubectl
# process start in the timed path): bench/f-latency/measure.py.
#
#   bench/f-latency.sh [RUNS]   (as root, from a tree built in build/; default 100)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
RUNS=${1:-100}
if ! [[ $RUNS =~ ^[0-9]+$ ]] || ((RUNS < 1 || RUNS > 10000)); then
	echo "RUNS must be a number in 1..10000, got '$RUNS'" >&2
	exit 2
fi
B=$root/build
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

echo "load before: $(cut -d' ' -f1-3 /proc/loadavg), $(nproc) cores"
"$root/bench/f-latency/measure.py" bench lat "$RUNS"
echo "load after:  $(cut -d' ' -f1-3 /proc/loadavg)"
nodes_clean || { echo "executions left state behind" >&2; exit 1; }
