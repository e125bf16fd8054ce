#!/usr/bin/env bash
# e2e: execution deadlines. The controller gives every execution a
# spec.deadline (creation + timeoutSeconds + the start grace, here 2 s); caplet
# never starts a command past it. With maxConcurrentPerNode 1, a quick run
# queued behind a long one on the same node misses its deadline while it
# waits: DeadlineExceeded, it never ran, the run is Failed with that reason;
# the long one is then cancelled and nothing is left on the node. kstatus and
# Argo CD read the running run InProgress/Progressing, the failed one
# Failed/Degraded, and so the NodeLost execution below. Then a lost
# node: its agent is killed mid-run and stays down; the controller ends the
# execution NodeLost once spec.deadline plus its margin (here 5 s) has
# passed, the run fails with that reason, and deleting the run does not leave
# the execution Terminating for want of the dead agent's finalizer.
#   deadline.sh CAPLET CAPSULE CONTROLLER SLEEPER SOURCE_ROOT
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
CONTROLLER_ARGS=(--execution-start-grace-seconds 2 --execution-lost-after-seconds 5)
e2e_up "$@" node-1

ns_create ops
kubectl apply -f - >/dev/null <<YAML
apiVersion: recap.dev/v1alpha1
kind: CapsulePolicy
metadata: {name: one-at-a-time}
spec:
  limits: {maxConcurrentPerNode: 1}
YAML
pod_create ops app-1 node-1 app registry.local/app:1 app=app
kubectl apply -n ops -f - >/dev/null <<YAML
apiVersion: recap.dev/v1alpha1
kind: Capsule
metadata: {name: hog}
spec:
  image: $IMAGE
  command: [sleep, "1888$$"]
  timeoutSeconds: 300
  targets: {selector: {matchLabels: {app: app}}}
---
apiVersion: recap.dev/v1alpha1
kind: Capsule
metadata: {name: quick}
spec:
  image: $IMAGE
  command: [touch, /out/ran]
  timeoutSeconds: 2
  targets: {selector: {matchLabels: {app: app}}}
---
apiVersion: recap.dev/v1alpha1
kind: Capsule
metadata: {name: stuck}
spec:
  image: $IMAGE
  command: [sleep, "1999$$"]
  timeoutSeconds: 4
  targets: {selector: {matchLabels: {app: app}}}
YAML
check "the stand-in runs the target pod" wait_until 30 pods_running ops 1

run() { run_create ops "$1" "$2"; } # NAME CAPSULE
run_is() { [[ $(kubectl get caprun -n ops "$1" -o jsonpath='{.status.phase}' 2>/dev/null) == "$2" ]]; }
exec_of() { kubectl get cexec -n ops -l "recap.dev/run=$1" -o jsonpath='{.items[0].metadata.name}' 2>/dev/null; }
exec_field() { kubectl get cexec -n ops "$(exec_of "$1")" -o "jsonpath={$2}" 2>/dev/null; }
exec_phase() { [[ $(exec_field "$1" .status.phase) == "$2" ]]; }
seconds() { date -u -d "$1" +%s; }

run hog-1 hog
check "the long execution holds the node's only slot" wait_until 60 exec_phase hog-1 Running
check "kstatus reads the running run InProgress" wait_or_say 20 kstatus_is CapsuleRun ops hog-1 InProgress
check "Argo CD reads it Progressing" wait_or_say 20 argo_health_is CapsuleRun ops hog-1 Progressing
run quick-1 quick
check "the quick run gets its execution" wait_until 30 exec_of quick-1
deadline=$(exec_field quick-1 .spec.deadline)
created=$(exec_field quick-1 .metadata.creationTimestamp)
# timeoutSeconds 2 + grace 2, counted from the controller's pass (<= creation)
in_window() {
	local d=$(($(seconds "$deadline") - $(seconds "$created")))
	((d >= 0 && d <= 4)) || { echo "  deadline $deadline is $d s after creation $created" >&2; return 1; }
}
check "the controller set spec.deadline: creation + timeoutSeconds + the grace" in_window
check "the queued execution misses its deadline: DeadlineExceeded" \
	wait_until 30 eval '[[ $(exec_field quick-1 .status.reason) == DeadlineExceeded ]]'
check "it says it waited for a slot" eval '[[ $(exec_field quick-1 .status.message) == *slot* ]]'
check "it never ran" test ! -e "$T/node-node-1/out/ce-$(exec_field quick-1 .metadata.uid | tr -d -)"
check "the run is Failed" wait_until 30 run_is quick-1 Failed
check "and lists the reason" equals \
	"$(kubectl get caprun -n ops quick-1 -o jsonpath='{.status.failures[0].reason}')" DeadlineExceeded
check "kstatus reads the failed run Failed" wait_or_say 20 kstatus_is CapsuleRun ops quick-1 Failed
check "Argo CD reads it Degraded" wait_or_say 20 argo_health_is CapsuleRun ops quick-1 Degraded
check "the long execution still runs" exec_phase hog-1 Running

kubectl patch caprun -n ops hog-1 --type=merge -p '{"spec":{"cancel":true}}' >/dev/null
check "the long run is cancelled" wait_until 30 run_is hog-1 Cancelled
no_hog() { ! pgrep -f "sleep 1888$$\$" >/dev/null; }
check "its command is gone" wait_until 30 no_hog
check "nothing is left on the node" wait_until 30 nodes_clean

run stuck-1 stuck
check "an execution runs on node-1" wait_until 60 exec_phase stuck-1 Running
stuck=$(exec_of stuck-1)
kill -9 "${CAPLET_PID[node-1]}"
wait "${CAPLET_PID[node-1]}" 2>/dev/null || true
# deadline: timeoutSeconds 4 + grace 2; lost 5 s after it
check "node-1's agent is gone: the controller ends the execution NodeLost" \
	wait_until 40 eval '[[ $(exec_field stuck-1 .status.reason) == NodeLost ]]'
check "the run is Failed with that reason" wait_until 30 run_is stuck-1 Failed
check "its failures say so" equals \
	"$(kubectl get caprun -n ops stuck-1 -o jsonpath='{.status.failures[0].reason}')" NodeLost
check "kstatus reads the NodeLost execution Failed" wait_or_say 20 kstatus_is CapsuleExecution ops "$stuck" Failed
check "Argo CD reads it Degraded" wait_or_say 20 argo_health_is CapsuleExecution ops "$stuck" Degraded
no_stuck() { ! pgrep -f "sleep 1999$$\$" >/dev/null; }
check "the command ended by its own timeout" wait_until 30 no_stuck
kubectl delete caprun -n ops stuck-1 --wait=false >/dev/null
stuck_gone() { ! kubectl get cexec -n ops "$stuck" >/dev/null 2>&1; }
check "deleting the run removes the execution (the lost agent's finalizer goes too)" wait_until 60 stuck_gone
caplet_start node-1
caplet_wait node-1
check "nothing is left on the node once its agent is back" wait_until 30 nodes_clean
finish
