#!/usr/bin/env bash
# e2e: one Parallel CapsuleRun over 6 pods on 3 simulated nodes, driven with
# kubectl as a user would: every execution succeeds on its pod's node with
# the pod's own view, `kubectl get capsuleruns` shows 6/6, nothing is left on
# any node; kstatus reads the run and its executions Current, Argo CD Healthy.
# Then at most once: in a two-target run, deleting one execution
# while it runs does not run that target again (the command appends to a
# file in the target's /dev/shm, and a later run counts the lines there)
# and the run ends with the target failed (ExecutionDeleted); deleting an
# unfinished run in the foreground (as Argo CD prunes) creates no execution.
#   parallel.sh CAPLET CAPSULE CONTROLLER SLEEPER SOURCE_ROOT
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
e2e_up "$@" node-1 node-2 node-3

ns_create shop
for i in 1 2 3 4 5 6; do
	pod_create shop "web-$i" "node-$(((i - 1) % 3 + 1))" app registry.local/app:1 app=web
done
check "the stand-in runs the 6 target pods" wait_until 30 pods_running shop 6

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
check "kstatus reads the succeeded run Current" wait_or_say 20 kstatus_is CapsuleRun shop whoami-1 Current
check "Argo CD reads it Healthy" wait_or_say 20 argo_health_is CapsuleRun shop whoami-1 Healthy
one_exec=$(kubectl get cexec -n shop -l recap.dev/run=whoami-1 -o jsonpath='{.items[0].metadata.name}')
check "kstatus reads one of its executions Current" wait_or_say 20 kstatus_is CapsuleExecution shop "$one_exec" Current
check "Argo CD reads it Healthy" wait_or_say 20 argo_health_is CapsuleExecution shop "$one_exec" Healthy

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
# ---- at most once --------------------------------------------------------
# Writing into the targets (ReadWrite) needs a policy that allows it.
ns_create once || exit 1
writable_targets once
for i in 1 2; do pod_create once "db-$i" "node-$i" db registry.local/db:1 app=db; done
# marker-N: each start appends a line to /dev/shm/starts-N in its target;
# count: prints how many lines each of those files has.
kubectl apply -n once -f - >/dev/null <<YAML
apiVersion: recap.dev/v1alpha1
kind: Capsule
metadata: {name: marker-1}
spec:
  image: $IMAGE
  command: [sh, -c, 'echo start >>/target/dev/shm/starts-1 && sleep 12']
  targetFilesystem: ReadWrite
  targets: {selector: {matchLabels: {app: db}}}
---
apiVersion: recap.dev/v1alpha1
kind: Capsule
metadata: {name: marker-2}
spec:
  image: $IMAGE
  command: [sh, -c, 'echo start >>/target/dev/shm/starts-2 && if [ \$(hostname) != db-1 ]; then sleep 1777; fi']
  targetFilesystem: ReadWrite
  targets: {selector: {matchLabels: {app: db}}}
---
apiVersion: recap.dev/v1alpha1
kind: Capsule
metadata: {name: count}
spec:
  image: $IMAGE
  command: [sh, -c, 'for n in 1 2; do printf "%s " \$(cat /target/dev/shm/starts-\$n 2>/dev/null | wc -l); done']
  targets: {selector: {matchLabels: {app: db}}}
YAML
check "the stand-in runs the 2 db pods" wait_until 30 pods_running once 2
once_run() { # NAME CAPSULE, and a watch of its executions in $T/NAME.watch
	kubectl get cexec -n once -l "recap.dev/run=$1" -w -o json --output-watch-events >"$T/$1.watch" 2>/dev/null &
	WATCHES+=($!)
	PIDS+=($!)
	sleep 0.5
	run_create once "$1" "$2"
}
WATCHES=()
stop_watches() {
	local w
	for w in "${WATCHES[@]}"; do kill "$w" 2>/dev/null || true; done
	for w in "${WATCHES[@]}"; do wait "$w" 2>/dev/null || true; done
	WATCHES=()
}
# UIDS FILE: how many executions (distinct uids) a watch saw.
uids() {
	python3 - "$1" <<'PY'
import json, sys
dec, text, uids, i = json.JSONDecoder(), open(sys.argv[1]).read(), set(), 0
while i < len(text):
    while i < len(text) and text[i].isspace():
        i += 1
    if i >= len(text):
        break
    o, i = dec.raw_decode(text, i)
    uids.add(o["object"]["metadata"]["uid"])
print(len(uids))
PY
}
execs_running() { # RUN N
	[[ $(kubectl get cexec -n once -l "recap.dev/run=$1" -o jsonpath='{range .items[*]}{.status.phase}{"\n"}{end}' |
		grep -c Running) == "$2" ]]
}
once_phase() { kubectl get caprun -n once "$1" -o jsonpath='{.status.phase}' 2>/dev/null; }

once_run once-1 marker-1
check "both executions of once-1 run" wait_until 60 execs_running once-1 2
dispatched=$(kubectl get caprun -n once once-1 -o jsonpath='{.status.dispatched[*]}' | wc -w)
check "once-1 records its 2 targets as dispatched" equals "$dispatched" 2
victim=$(kubectl get cexec -n once -l recap.dev/run=once-1 -o jsonpath='{range .items[?(@.spec.target.pod=="db-2")]}{.metadata.name}{end}')
kubectl delete cexec -n once "$victim" --wait=false >/dev/null
victim_gone() { ! kubectl get cexec -n once "$victim" >/dev/null 2>&1; }
check "the deleted execution goes (killed and escaped first)" wait_until 30 victim_gone
victim_stays_gone() { # 5 s without an execution of that name
	local i
	for ((i = 0; i < 25; i++)); do victim_gone || return 1; sleep 0.2; done
}
check "no new execution of that name appears" victim_stays_gone
once_done() { [[ $(once_phase once-1) == PartiallyFailed ]]; }
check "once-1 ends PartiallyFailed (db-1 succeeded)" wait_until 60 once_done
counts=$(kubectl get caprun -n once once-1 -o jsonpath='{.status.targets} {.status.succeeded} {.status.failed}')
check "once-1: 2 targets, 1 succeeded, 1 failed" equals "$counts" "2 1 1"
failure=$(kubectl get caprun -n once once-1 -o jsonpath='{range .status.failures[*]}{.execution} {.pod} {.reason}{"\n"}{end}')
check "once-1: the one failure is db-2's deleted execution" equals "$failure" "$victim db-2 ExecutionDeleted"

once_run once-2 marker-2
exec_on() { # RUN POD
	kubectl get cexec -n once -l "recap.dev/run=$1" \
		-o jsonpath="{range .items[?(@.spec.target.pod==\"$2\")]}{.metadata.name}{end}"
}
exec_field() { kubectl get cexec -n once "$1" -o jsonpath="$2" 2>/dev/null; }
db1_done_db2_runs() {
	[[ $(exec_field "$(exec_on once-2 db-1)" '{.status.phase}') == Succeeded &&
		$(exec_field "$(exec_on once-2 db-2)" '{.status.phase}') == Running ]]
}
check "once-2: db-1's execution succeeds, db-2's runs" wait_until 60 db1_done_db2_runs
# The agent's last write, the release of its finalizer, drops the field
# ownership records; the running execution keeps them until then.
managed_fields() { kubectl get cexec -n once "$1" -o json --show-managed-fields | jq -c '.metadata.managedFields'; }
released_bare() {
	local e
	e=$(exec_on once-1 db-1)
	[[ -n $e && $(exec_field "$e" '{.metadata.finalizers}') == '' && $(managed_fields "$e") == null &&
		$(exec_field "$e" '{.status.phase} {.spec.target.pod}') == 'Succeeded db-1' ]]
}
check "once-1: db-1's finished execution keeps its spec and status, and no managedFields" wait_until 30 released_bare
running_managed=$(managed_fields "$(exec_on once-2 db-2)" | jq -r '[.[].manager] | unique | join(",")')
check "once-2: db-2's running execution still has its writers' managedFields" equals "$running_managed" "caplet,recap-controller"
# A finalizer of the test's holds db-2's execution, and so the run (which
# the garbage collector deletes last in the foreground), in deletion.
held=$(exec_on once-2 db-2)
kubectl patch cexec -n once "$held" --type=json \
	-p '[{"op":"add","path":"/metadata/finalizers/-","value":"e2e.recap.dev/hold"}]' >/dev/null
kubectl delete caprun -n once once-2 --cascade=foreground --wait=false >/dev/null
escaped_and_held() { # caplet has killed it, escaped it and released its own finalizer
	[[ $(exec_field "$held" '{.status.phase} {.status.escaped} {.metadata.finalizers}') == 'Failed true ["e2e.recap.dev/hold"]' &&
		-z $(exec_on once-2 db-1) ]]
}
check "once-2 in foreground deletion: db-2's execution killed and escaped, db-1's gone" wait_until 30 escaped_and_held
only_held() { # 3 s with no execution but the held one, the run being deleted
	local i gone=0 run
	for ((i = 0; i < 15; i++)); do
		# (once in a CI run the garbage collector removed the run before the
		# held execution: then no run is left to create executions for, and
		# the executions are still checked)
		run=$(kubectl get caprun -n once once-2 --ignore-not-found -o jsonpath='{.metadata.uid} {.metadata.deletionTimestamp}')
		if [[ -z $run ]]; then
			gone=$((gone + 1))
		elif [[ $run != *' '?* ]]; then
			echo "  once-2 is not being deleted" >&2
			return 1
		fi
		[[ $(kubectl get cexec -n once -l recap.dev/run=once-2 -o jsonpath='{.items[*].metadata.name}') == "$held" ]] || return 1
		sleep 0.2
	done
	((gone < 15)) || echo "  (once-2 was already gone)" >&2
}
check "once-2, being deleted, gets no new execution" only_held
kubectl patch cexec -n once "$held" --type=merge -p '{"metadata":{"finalizers":null}}' >/dev/null
run_gone() { ! kubectl get caprun -n once once-2 >/dev/null 2>&1; }
check "once-2 goes with its executions" wait_until 60 run_gone
sleep 1
stop_watches
check "once-1 had 2 executions, none created again" equals "$(uids "$T/once-1.watch")" 2
check "once-2 had 2 executions, none created during its deletion" equals "$(uids "$T/once-2.watch")" 2

once_run count-1 count
count_done() { [[ $(once_phase count-1) == Succeeded ]]; }
check "the counting run succeeds" wait_until 60 count_done
stop_watches
starts() { # POD: the starts of marker-1 and marker-2 its target saw
	kubectl get cexec -n once -l recap.dev/run=count-1 \
		-o jsonpath="{range .items[?(@.spec.target.pod==\"$1\")]}{.status.stdoutTail}{end}"
}
check "db-1: each marker command started once" equals "$(starts db-1)" "1 1 "
check "db-2: each marker command started once (one execution deleted mid-run)" equals "$(starts db-2)" "1 1 "

check "nothing is left on any node" nodes_clean
finish
