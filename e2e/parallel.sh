#!/usr/bin/env bash
# e2e: one Parallel CapsuleRun over 6 pods on 3 simulated nodes, driven with
# kubectl as a user would: every execution succeeds on its pod's node with
# the pod's own view, `kubectl get capsuleruns` shows 6/6, nothing is left on
# any node.
#   parallel.sh CAPLET CAPSULE CONTROLLER SLEEPER SOURCE_ROOT
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
e2e_up "$@" node-1 node-2 node-3

ns_create shop
for i in 1 2 3 4 5 6; do
	node=node-$(((i - 1) % 3 + 1))
	kubectl apply -n shop -f - >/dev/null <<YAML
apiVersion: v1
kind: Pod
metadata: {name: web-$i, labels: {app: web}}
spec:
  nodeName: $node
  containers: [{name: app, image: registry.local/app:1}]
YAML
done
running() { [[ $(kubectl get pods -n shop -o jsonpath='{range .items[*]}{.status.phase}{"\n"}{end}' | grep -c Running) == 6 ]]; }
check "the stand-in runs the 6 target pods" wait_until 30 running

kubectl apply -n shop -f - >/dev/null <<YAML
apiVersion: recap.dev/v1alpha1
kind: Capsule
metadata: {name: whoami}
spec:
  image: $IMAGE
  command: [sh, -c, 'echo "\$(hostname) \$(ps -o comm | grep -c sleeper)"']
  targets: {selector: {matchLabels: {app: web}}}
  strategy: {type: Parallel}
---
apiVersion: recap.dev/v1alpha1
kind: CapsuleRun
metadata: {name: whoami-1}
spec:
  capsuleRef: {name: whoami}
YAML

run_phase() { kubectl get caprun -n shop whoami-1 -o jsonpath='{.status.phase}'; }
succeeded() { [[ $(run_phase) == Succeeded ]]; }
check "the run succeeds" wait_until 90 succeeded
equals_cols() {
	local row
	row=$(kubectl get capsuleruns -n shop whoami-1 --no-headers | awk '{print $5, $6, $7, $8}')
	equals "$row" "6 6 0 Succeeded"
}
check "kubectl get capsuleruns shows 6 targets, 6 succeeded, 0 failed" equals_cols

outputs_match() { # every execution ran on its pod's node and saw its pod
	local rows bad
	rows=$(kubectl get cexec -n shop -o json | python3 -c '
import json, sys
for e in json.load(sys.stdin)["items"]:
    s, sp = e.get("status", {}), e["spec"]
    print(sp["target"]["pod"], sp["node"], s.get("phase"), s.get("escaped"), repr(s.get("stdoutTail", "")))')
	echo "$rows" >"$T/executions.txt"
	[[ $(wc -l <<<"$rows") == 6 ]] || { echo "  executions: $rows" >&2; return 1; }
	bad=$(kubectl get pods -n shop -o jsonpath='{range .items[*]}{.metadata.name} {.spec.nodeName}{"\n"}{end}' |
		while read -r pod node; do
			grep -qx "$pod $node Succeeded True '$pod 1\\\\n'" "$T/executions.txt" || echo "$pod"
		done)
	[[ -z $bad ]] || { echo "  wrong or missing: $bad in $(cat "$T/executions.txt")" >&2; return 1; }
}
check "each pod's execution ran on its node, in its namespaces, escaped" outputs_match
one_pull_per_node() { # two executions of one image on a node share one pull
	local n port pulls
	for n in "${NODES[@]}"; do
		port=$(sed -n 's/.*metrics on port \([0-9]*\).*/\1/p' "$T/caplet-$n.log" | tail -1)
		pulls=$(curl -sf "http://127.0.0.1:$port/metrics" | awk '/^recap_caplet_pulls_total/ {print $2}')
		[[ $pulls == 1 ]] || { echo "  $n: $pulls pulls" >&2; return 1; }
	done
}
check "one pull per node for two executions of the image" one_pull_per_node
check "nothing is left on any node" nodes_clean
finish
