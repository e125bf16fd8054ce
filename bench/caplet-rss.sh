#!/usr/bin/env bash
# caplet idle RSS: a private control plane with the CRDs, 20 namespaces and 5
# CapsulePolicies (what the agent caches), caplet started for one node with
# no executions, RSS sampled after it has synced and settled.
#   bench/caplet-rss.sh [BUILD_DIR]   (as root, from the top of the tree)
set -euo pipefail
build=${1:-build}
tmp=$(mktemp -d /tmp/recap-bench-caplet.XXXXXX)
pid=""
cleanup() {
	[[ -n $pid ]] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	hack/cluster down --dir "$tmp/cluster" >/dev/null 2>&1 || true
	rm -rf "$tmp"
}
trap cleanup EXIT
hack/cluster up --dir "$tmp/cluster" >/dev/null 2>&1
# shellcheck disable=SC1091
. "$tmp/cluster/env"
for f in crds/recap.dev_*.yaml; do kubectl apply -f "$f" >/dev/null; done
kubectl wait --for=condition=Established crd --all >/dev/null
for i in $(seq 20); do kubectl create namespace "bench-$i" >/dev/null; done
for i in $(seq 5); do
	kubectl apply -f - >/dev/null <<YAML
apiVersion: recap.dev/v1alpha1
kind: CapsulePolicy
metadata: {name: policy-$i}
spec: {namespaceSelector: {matchLabels: {team: t$i}}, limits: {maxConcurrentPerNode: 4}}
YAML
done
"$build/cmd/caplet/caplet" --node-name bench --root "$tmp/store" --capsule "$build/cmd/capsule/capsule" \
	--metrics-address 127.0.0.1:0 >"$tmp/log" 2>&1 &
pid=$!
for _ in $(seq 100); do grep -q synced "$tmp/log" && break; sleep 0.1; done
sleep 3
rss=$(awk '/^VmRSS/ {print $2}' "/proc/$pid/status")
hwm=$(awk '/^VmHWM/ {print $2}' "/proc/$pid/status")
priv=$(awk '/^(Private_Clean|Private_Dirty)/ {s += $2} END {print s}' "/proc/$pid/smaps_rollup")
pss=$(awk '/^Pss:/ {print $2}' "/proc/$pid/smaps_rollup")
anon=$(awk '/^Anonymous:/ {print $2}' "/proc/$pid/smaps_rollup")
printf '| %-28s | %8s |\n' "measure" "KiB"
printf '| %-28s | %8s |\n' "----------------------------" "--------"
printf '| %-28s | %8d |\n' "caplet idle VmRSS" "$rss" "caplet peak VmHWM" "$hwm" \
	"caplet PSS" "$pss" "caplet private (not shared)" "$priv" "caplet anonymous (heap etc.)" "$anon"
