#!/usr/bin/env bash
# e2e: cancel a run mid-execution (the execution is killed and escaped before
# it disappears; the run says Cancelled), then restart the API server (kill -9
# and start on the same port): the controller and caplet reconnect by
# themselves and the next run succeeds.
#   cancel-restart.sh CAPLET CAPSULE CONTROLLER SLEEPER SOURCE_ROOT
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
e2e_up "$@" node-1

ns_create ops
pod_create ops app-1 node-1 app registry.local/app:1 app=app
kubectl apply -n ops -f - >/dev/null <<YAML
apiVersion: recap.dev/v1alpha1
kind: Capsule
metadata: {name: long}
spec:
  image: $IMAGE
  command: [sleep, "1777"]
  targets: {selector: {matchLabels: {app: app}}}
---
apiVersion: recap.dev/v1alpha1
kind: Capsule
metadata: {name: short}
spec:
  image: $IMAGE
  command: [hostname]
  targets: {selector: {matchLabels: {app: app}}}
YAML
check "the stand-in runs the target pod" wait_until 30 pods_running ops 1

run() { run_create ops "$1" "$2"; } # NAME CAPSULE
run_phase() { kubectl get caprun -n ops "$1" -o jsonpath='{.status.phase}' 2>/dev/null; }
run_is() { [[ $(run_phase "$1") == "$2" ]]; }
exec_of() { kubectl get cexec -n ops -l "recap.dev/run=$1" -o jsonpath='{.items[0].metadata.name}' 2>/dev/null; }
exec_phase() { [[ $(kubectl get cexec -n ops "$(exec_of "$1")" -o jsonpath='{.status.phase}' 2>/dev/null) == "$2" ]]; }

run long-1 long
check "the long execution runs" wait_until 60 exec_phase long-1 Running
exec=$(exec_of long-1)
kubectl get cexec -n ops "$exec" -w -o json --output-watch-events >"$T/cancel.watch" 2>/dev/null &
watch=$!
sleep 0.3
kubectl patch caprun -n ops long-1 --type=merge -p '{"spec":{"cancel":true}}' >/dev/null
check "cancelling the run cancels it" wait_until 30 run_is long-1 Cancelled
exec_gone() { ! kubectl get cexec -n ops "$exec" >/dev/null 2>&1; }
check "the execution goes" wait_until 30 exec_gone
kill "$watch" 2>/dev/null
wait "$watch" 2>/dev/null || true
last_state() {
	local got
	got=$(python3 - "$T/cancel.watch" <<'PY'
import json, sys
dec, text, objs, i = json.JSONDecoder(), open(sys.argv[1]).read(), [], 0
while i < len(text):
    while i < len(text) and text[i].isspace():
        i += 1
    if i >= len(text):
        break
    o, i = dec.raw_decode(text, i)
    objs.append(o)
final = [o["object"] for o in objs if o["type"] != "DELETED"][-1]
s = final.get("status", {})
print(s.get("phase"), s.get("reason"), s.get("escaped"))
PY
)
	equals "$got" "Failed Cancelled True"
}
check "its last state before it went: Cancelled, escaped" last_state
not_running() { ! pgrep -f "^sleep 1777" >/dev/null; }
check "the command is not running" not_running

"$E2E_SRC/hack/cluster" stop-apiserver --dir "$T/cluster" >/dev/null 2>&1
sleep 2
"$E2E_SRC/hack/cluster" start-apiserver --dir "$T/cluster" >/dev/null 2>&1
run short-1 short
check "after an API server restart the next run succeeds" wait_until 90 run_is short-1 Succeeded
out=$(kubectl get cexec -n ops "$(exec_of short-1)" -o jsonpath='{.status.stdoutTail}')
check "with the target's hostname in its output" equals "$out" "app-1"
check "nothing is left on the node" nodes_clean
finish
