#!/usr/bin/env bash
# e2e: what goes wrong on nodes, driven with kubectl. One Parallel run of a
# long command over 2 pods on 2 nodes; mid-run the first target pod is
# deleted (its execution: TargetGone) and the second node's caplet is killed
# with SIGKILL and restarted (its execution: NodeAgentRestarted, never run
# again). The run ends Failed with 2 failures; nothing is left on the nodes.
#   node-failures.sh CAPLET CAPSULE CONTROLLER SLEEPER SOURCE_ROOT
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
e2e_up "$@" node-1 node-2

ns_create ops
for i in 1 2; do pod_create ops "db-$i" "node-$i" db registry.local/db:1 app=db; done
check "the stand-in runs the 2 target pods" wait_until 30 pods_running ops 2

kubectl apply -n ops -f - >/dev/null <<YAML
apiVersion: recap.dev/v1alpha1
kind: Capsule
metadata: {name: watcher}
spec:
  image: $IMAGE
  command: [sleep, "1666"]
  timeoutSeconds: 120
  targets: {selector: {matchLabels: {app: db}}}
---
apiVersion: recap.dev/v1alpha1
kind: CapsuleRun
metadata: {name: watcher-1}
spec:
  capsuleRef: {name: watcher}
YAML

exec_of() { # POD: the name of its execution
	kubectl get cexec -n ops -o jsonpath="{range .items[?(@.spec.target.pod==\"$1\")]}{.metadata.name}{end}"
}
phase_of() { kubectl get cexec -n ops "$(exec_of "$1")" -o jsonpath='{.status.phase}' 2>/dev/null; }
reason_of() { kubectl get cexec -n ops "$(exec_of "$1")" -o jsonpath='{.status.reason}' 2>/dev/null; }
both_running() { [[ $(phase_of db-1) == Running && $(phase_of db-2) == Running ]]; }
check "both executions run" wait_until 60 both_running

kubectl delete pod -n ops db-1 --wait=false >/dev/null
gone_target() { [[ $(reason_of db-1) == TargetGone ]]; }
check "deleting the target pod mid-run: TargetGone" wait_until 30 gone_target

kill -9 "${CAPLET_PID[node-2]}"
wait "${CAPLET_PID[node-2]}" 2>/dev/null || true
caplet_start node-2
caplet_wait node-2
restarted() { [[ $(reason_of db-2) == NodeAgentRestarted ]]; }
check "kill -9 of caplet mid-run, restart: NodeAgentRestarted" wait_until 30 restarted
not_running() { ! pgrep -f "^sleep 1666" >/dev/null; }
check "the command is not running anywhere (and was not started again)" not_running
run_failed() {
	[[ $(kubectl get capsuleruns -n ops watcher-1 --no-headers | awk '{print $5, $6, $7, $8}') == "2 0 2 Failed" ]]
}
check "kubectl get capsuleruns: 2 targets, 0 succeeded, 2 failed, Failed" wait_until 30 run_failed
check "nothing is left on any node" nodes_clean
finish
