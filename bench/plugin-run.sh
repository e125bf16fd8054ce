#!/usr/bin/env bash
# What a user waits for: one command that fires a Capsule on one pod, waits
# for the result and prints the output, measured as wall time of whole
# processes (kubectl's own start included), side by side, interleaved:
#   plugin   kubectl capsule run --capsule lat --pod web --rm
#   kubectl  the same with kubectl alone: create a CapsuleRun, kubectl wait
#            for its phase, kubectl get the execution's stdout, delete the run
#   adhoc    kubectl capsule run IMAGE --pod web --rm -- true (Capsule generated
#            and garbage-collected with the run)
# on a private loopback control plane (e2e/lib.sh: API server, etcd, registry,
# node stand-in, recap-controller, one caplet), image cached by a warm-up.
#
#   bench/plugin-run.sh [RUNS]   (as root, from a tree built in build/; default 20)
set -euo pipefail
# shellcheck source=hack/lib/errtrap.sh
. "$(dirname "${BASH_SOURCE[0]}")/../hack/lib/errtrap.sh"
root=$(cd "$(dirname "$0")/.." && pwd)
RUNS=${1:-20}
if ! [[ $RUNS =~ ^[0-9]+$ ]] || ((RUNS < 1 || RUNS > 1000)); then
	echo "RUNS must be a number in 1..1000, got '$RUNS'" >&2
	exit 2
fi
B=$root/build
# shellcheck source-path=SCRIPTDIR source=../e2e/lib.sh
. "$root/e2e/lib.sh"
e2e_up "$B/cmd/caplet/caplet" "$B/cmd/capsule/capsule" "$B/cmd/recap-controller/recap-controller" \
	"$B/test/runtime/recap-test-sleeper" "$root" node-1
mkdir -p "$T/bin"
ln -s "$B/cmd/kubectl-capsule/kubectl-capsule" "$T/bin/kubectl-capsule"
export PATH=$T/bin:$PATH

kubectl create namespace bench >/dev/null
kubectl config set-context --current --namespace=bench >/dev/null
kubectl apply -f - >/dev/null <<YAML
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
running() { [[ $(kubectl get pod web -o jsonpath='{.status.phase}') == Running ]]; }
wait_until 30 running || { echo "the target pod does not run" >&2; exit 1; }

plugin() { kubectl capsule run --capsule lat --pod web --rm --wait-timeout 60 >/dev/null 2>&1; }
adhoc() { kubectl capsule run "$IMAGE" --pod web --rm --wait-timeout 60 -- true >/dev/null 2>&1; }
kubectl_only() {
	local name
	name=$(kubectl create -o jsonpath='{.metadata.name}' -f - <<YAML
apiVersion: recap.dev/v1alpha1
kind: CapsuleRun
metadata: {generateName: lat-}
spec: {capsuleRef: {name: lat}, targets: [web]}
YAML
	)
	kubectl wait --for=jsonpath='{.status.phase}'=Succeeded "capsulerun/$name" --timeout=60s >/dev/null &&
		kubectl get capsuleexecutions -l "recap.dev/run=$name" -o jsonpath='{.items[*].status.stdoutTail}' \
			>/dev/null &&
		kubectl delete capsulerun "$name" --wait=false >/dev/null
}
plugin || { echo "warm-up run failed" >&2; exit 1; }

# time_ms CMD: runs CMD, prints its wall time in ms; a failure is counted.
time_ms() {
	local t0 t1
	t0=$(date +%s%N)
	"$@" || { echo "FAILED" ; return; }
	t1=$(date +%s%N)
	echo $(((t1 - t0) / 1000000))
}
for ((i = 0; i < RUNS; i++)); do
	echo "plugin $(time_ms plugin)"
	echo "kubectl $(time_ms kubectl_only)"
	echo "adhoc $(time_ms adhoc)"
done >"$T/times"
python3 - "$T/times" "$RUNS" "$(cut -d' ' -f1 /proc/loadavg)" <<'PY'
import sys
rows = [l.split() for l in open(sys.argv[1])]
def stats(kind):
    v = sorted(int(t) for k, t in rows if k == kind and t != "FAILED")
    failed = sum(1 for k, t in rows if k == kind and t == "FAILED")
    q = lambda p: v[min(len(v) - 1, int(p * len(v)))] if v else 0
    return q(0.5), q(0.95), v[-1] if v else 0, failed
print("runs %s each, interleaved; load average at the end %s; ms" % (sys.argv[2], sys.argv[3]))
print("| %-52s | %5s | %5s | %5s | %6s |" % ("command (fire, wait, output, delete)", "p50", "p95", "max", "failed"))
print("| %s | ----: | ----: | ----: | -----: |" % ("-" * 52))
for kind, what in (("plugin", "kubectl capsule run --capsule lat --pod web --rm"),
                   ("kubectl", "kubectl create + wait + get + delete (4 processes)"),
                   ("adhoc", "kubectl capsule run IMAGE --pod web --rm -- true")):
    print("| %-52s | %5d | %5d | %5d | %6d |" % ((what,) + stats(kind)))
PY
