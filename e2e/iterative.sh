#!/usr/bin/env bash
# e2e: the Iterative strategy, driven with kubectl.
# 1. failurePolicy Stop over 4 pods where the 2nd target fails: the 1st
#    succeeded, the 2nd failed, the 3rd and 4th never ran.
# 2. kill -9 of the controller in the middle of an Iterative run over 3 pods,
#    then a restart: every target ran exactly once and the run succeeded.
#   iterative.sh CAPLET CAPSULE CONTROLLER SLEEPER SOURCE_ROOT
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
e2e_up "$@" node-1 node-2

ns_create roll
for i in 1 2 3 4; do
	pod_create roll "web-$i" "node-$(((i - 1) % 2 + 1))" web registry.local/web:1 app=web
done
check "the stand-in runs the 4 pods" wait_until 30 pods_running roll 4

kubectl apply -n roll -f - >/dev/null <<YAML
apiVersion: recap.dev/v1alpha1
kind: Capsule
metadata: {name: rotate}
spec:
  image: $IMAGE
  command: [sh, -c, 'test "\$(hostname)" != web-2']
  targets: {selector: {matchLabels: {app: web}}}
  strategy: {type: Iterative, maxConcurrent: 1, order: Name, failurePolicy: Stop}
---
apiVersion: recap.dev/v1alpha1
kind: Capsule
metadata: {name: slow}
spec:
  image: $IMAGE
  command: [sleep, "2"]
  targets: {selector: {matchLabels: {app: web}}}
  strategy: {type: Iterative, maxConcurrent: 1, order: Name, failurePolicy: Continue}
---
apiVersion: recap.dev/v1alpha1
kind: CapsuleRun
metadata: {name: rotate-1}
spec: {capsuleRef: {name: rotate}}
YAML
run_phase() { kubectl get caprun -n roll "$1" -o jsonpath='{.status.phase}' 2>/dev/null; }
run_is() { [[ $(run_phase "$1") == "$2" ]]; }
executions() { # RUN: "pod phase" lines, sorted
	kubectl get cexec -n roll -l "recap.dev/run=$1" \
		-o jsonpath='{range .items[*]}{.spec.target.pod} {.status.phase}{"\n"}{end}' | sort
}
check "failurePolicy Stop: the run fails" wait_until 60 run_is rotate-1 Failed
sleep 2 # nothing more may start
check "1st succeeded, 2nd failed, 3rd and 4th never ran" equals "$(executions rotate-1 | tr '\n' ';')" \
	"web-1 Succeeded;web-2 Failed;"

kubectl apply -n roll -f - >/dev/null <<YAML
apiVersion: recap.dev/v1alpha1
kind: CapsuleRun
metadata: {name: slow-1}
spec: {capsuleRef: {name: slow}}
YAML
# Killed while the second target runs, not while the controller records the
# next one as dispatched: killed between that status write and the create,
# it would count that target failed (at most once, docs/controller.md).
second_runs() { [[ $(executions slow-1 | tr '\n' ';') == "web-1 Succeeded;web-2 Running;" ]]; }
check "the slow run progresses" wait_until 60 second_runs
kill -9 "$CONTROLLER_PID"
wait "$CONTROLLER_PID" 2>/dev/null || true
sleep 1
controller_start
check "after kill -9 and restart of the controller the run succeeds" wait_until 90 run_is slow-1 Succeeded
check "every target ran exactly once" equals "$(executions slow-1 | tr '\n' ';')" \
	"web-1 Succeeded;web-2 Succeeded;web-3 Succeeded;web-4 Succeeded;"
check "nothing is left on any node" nodes_clean
finish
