#!/usr/bin/env bash
# e2e: runs fired by what happens to a pod (spec.triggers). On the stand-in
# node, with the real API server:
#   - a pod's Ready condition turns False: after forSeconds (not before) one
#     run for that pod alone, trigger PodCondition, its cause in spec and in
#     the Triggered condition; a controller restart does not fire it again;
#     the pod's cooldown holds a second transition back until it ends;
#   - a pod created after the Capsule gets one run (PodCreated), an older
#     one none;
#   - a recorded Event with a listed reason fires (PodEvent), with the
#     Event's name and message; another reason, another type, and an Event
#     about an unselected pod do not;
#   - a storm (eight pods NotReady at once) with maxConcurrentRuns 3 and a
#     CapsulePolicy bounding the namespace to 2: never more than 2 triggered
#     runs unfinished, a TriggerCapped event, and in the end exactly one run
#     per pod.
#   triggers.sh CAPLET CAPSULE CONTROLLER SLEEPER SOURCE_ROOT
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
e2e_up "$@" node-1

ns_create trig
now_utc() { date -u +%Y-%m-%dT%H:%M:%SZ; }
# set_ready NS POD STATUS: the pod's Ready condition, as a kubelet writes it
set_ready() {
	kubectl patch pod -n "$1" "$2" --subresource=status --type=merge -p "{\"status\":{\"conditions\":[
		{\"type\":\"Ready\",\"status\":\"$3\",\"lastTransitionTime\":\"$(now_utc)\"},
		{\"type\":\"ContainersReady\",\"status\":\"True\"}]}}" >/dev/null
}
# runs NS CAPSULE: "name trigger cause.pod phase" per run of CAPSULE
runs() {
	kubectl get caprun -n "$1" -l "recap.dev/capsule=$2" \
		-o jsonpath='{range .items[*]}{.metadata.name} {.spec.trigger} {.spec.cause.pod} {.status.phase}{"\n"}{end}'
}
count_runs() { runs "$1" "$2" | grep -c . || true; }
has_runs() { [[ $(count_runs "$1" "$2") == "$3" ]]; }
all_done() { # NS CAPSULE N: N runs, all finished
	local r
	r=$(runs "$1" "$2")
	[[ $(grep -c . <<<"$r") == "$3" ]] && ! grep -Eq ' (Pending|Running)?$' <<<"$r"
}

pod_create trig web-1 node-1 app registry.local/app:1 app=web
pod_create trig web-2 node-1 app registry.local/app:1 app=web
check "the stand-in runs the target pods" wait_until 60 pods_running trig 2

# --- podCondition ----------------------------------------------------------
kubectl apply -n trig -f - >/dev/null <<YAML
apiVersion: recap.dev/v1alpha1
kind: Capsule
metadata: {name: not-ready}
spec:
  image: $IMAGE
  command: [hostname]
  targets: {selector: {matchLabels: {app: web}}}
  triggers:
  - podCondition: {type: Ready, status: "False", forSeconds: 4}
  triggerLimits: {cooldownSeconds: 30, maxCauseAgeSeconds: 120}
YAML
sleep 2
check "a Ready pod fires nothing" has_runs trig not-ready 0
set_ready trig web-1 False
sleep 2
check "nothing fires before forSeconds has passed" has_runs trig not-ready 0
check "after forSeconds, one run for the pod" wait_or_say 30 has_runs trig not-ready 1
read -r run1 trigger pod _ <<<"$(runs trig not-ready)"
check "its trigger is PodCondition" equals "$trigger" PodCondition
check "its one target is the pod whose condition changed" equals "$pod" web-1
check "its targets are that pod alone" equals "$(kubectl get caprun -n trig "$run1" -o jsonpath='{.spec.targets}')" '["web-1"]'
check "the cause's reason" equals "$(kubectl get caprun -n trig "$run1" -o jsonpath='{.spec.cause.reason}')" "Ready=False"
check "the run succeeds on that pod" wait_until 60 run_phase_is trig "$run1" Succeeded
check "it ran in web-1" equals "$(run_exec_field trig "$run1" .status.stdoutTail)" web-1
triggered_cond() {
	local c
	c=$(kubectl get caprun -n trig "$run1" -o jsonpath='{.status.conditions[?(@.type=="Triggered")].reason}/{.status.conditions[?(@.type=="Triggered")].message}')
	[[ $c == "PodCondition/pod web-1: Ready=False: condition Ready has been False since "* ]] ||
		{ echo "  Triggered condition: $c" >&2; return 1; }
}
check "the status names the cause (condition Triggered)" wait_or_say 10 triggered_cond
check "kubectl get shows the trigger" eval 'kubectl get caprun -n trig "$run1" | grep -q PodCondition'

kill "$CONTROLLER_PID"
wait "$CONTROLLER_PID" 2>/dev/null || true
controller_start
sleep 6
check "a restarted controller does not fire the same cause again" has_runs trig not-ready 1
# a second transition within the pod's cooldown waits for its end
set_ready trig web-1 True
sleep 1
set_ready trig web-1 False
sleep 6 # the new cause is due after forSeconds (4): without the cooldown it would fire now
check "a new cause within the pod's cooldown does not fire yet" has_runs trig not-ready 1
run1_at=$(date -d "$(kubectl get caprun -n trig "$run1" -o jsonpath='{.metadata.creationTimestamp}')" +%s)
check "... (checked within the cooldown: $(($(date +%s) - run1_at)) s after the first run)" test $(($(date +%s) - run1_at)) -lt 30
check "once the cooldown has passed, it fires" wait_or_say 60 has_runs trig not-ready 2
check "still nothing for the Ready pod" eval '! runs trig not-ready | grep -q web-2'
kubectl delete capsule -n trig not-ready --wait=false >/dev/null

# --- podCreated ------------------------------------------------------------
pod_create trig old-1 node-1 app registry.local/app:1 app=fresh
check "a pod exists before the Capsule" wait_until 60 pods_running trig 3
sleep 1.1 # creation times are in whole seconds: the same second counts as after
kubectl apply -n trig -f - >/dev/null <<YAML
apiVersion: recap.dev/v1alpha1
kind: Capsule
metadata: {name: new-pods}
spec:
  image: $IMAGE
  command: [hostname]
  targets: {selector: {matchLabels: {app: fresh}}}
  triggers: [{podCreated: {}}]
YAML
sleep 3
pod_create trig new-1 node-1 app registry.local/app:1 app=fresh
check "a pod created after the Capsule gets a run once it runs" wait_or_say 60 has_runs trig new-pods 1
check "for that pod, trigger PodCreated" eval '[[ $(runs trig new-pods) == *" PodCreated new-1 "* ]]'
check "it succeeds" wait_until 60 all_done trig new-pods 1
check "the older pod gets none" eval '! runs trig new-pods | grep -q old-1'

# --- podEvent --------------------------------------------------------------
kubectl apply -n trig -f - >/dev/null <<YAML
apiVersion: recap.dev/v1alpha1
kind: Capsule
metadata: {name: on-event}
spec:
  image: $IMAGE
  command: [hostname]
  targets: {selector: {matchLabels: {app: web}}}
  triggers:
  - podEvent: {reasons: [Unhealthy, BackOff], type: Warning}
YAML
# event NAME POD REASON TYPE: a core Event about POD, as the kubelet records one
event() {
	local uid
	uid=$(kubectl get pod -n trig "$2" -o jsonpath='{.metadata.uid}' 2>/dev/null || echo 00000000-0000-0000-0000-000000000000)
	kubectl create -n trig -f - >/dev/null <<YAML
apiVersion: v1
kind: Event
metadata: {name: $1}
involvedObject: {kind: Pod, namespace: trig, name: $2, uid: "$uid", apiVersion: v1}
reason: $3
type: $4
message: "Readiness probe failed: HTTP probe failed with statuscode: 503"
source: {component: kubelet, host: node-1}
firstTimestamp: "$(now_utc)"
lastTimestamp: "$(now_utc)"
count: 1
YAML
}
sleep 2
event ev-other web-1 Pulled Normal
event ev-normal web-1 Unhealthy Normal
event ev-unselected new-1 Unhealthy Warning
sleep 4
check "other reasons, types and pods fire nothing" has_runs trig on-event 0
event ev-probe web-2 Unhealthy Warning
check "a recorded Unhealthy Warning fires a run for its pod" wait_or_say 30 has_runs trig on-event 1
ev_run=$(runs trig on-event | awk '{print $1}')
check "trigger PodEvent for web-2" eval '[[ $(runs trig on-event) == *" PodEvent web-2 "* ]]'
check "the cause names the Event and its message" equals \
	"$(kubectl get caprun -n trig "$ev_run" -o jsonpath='{.spec.cause.event}|{.spec.cause.reason}|{.spec.cause.message}')" \
	"ev-probe|Unhealthy|Readiness probe failed: HTTP probe failed with statuscode: 503"
check "it succeeds in web-2" wait_until 60 all_done trig on-event 1
kubectl delete capsule -n trig on-event new-pods --wait=false >/dev/null

# --- a storm ---------------------------------------------------------------
ns_create storm
kubectl apply -f - >/dev/null <<YAML
apiVersion: recap.dev/v1alpha1
kind: CapsulePolicy
metadata: {name: storm-bound}
spec:
  namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: storm}}
  limits: {maxConcurrentTriggeredRuns: 2}
YAML
for i in 1 2 3 4 5 6 7 8; do pod_create storm "s-$i" node-1 app registry.local/app:1 app=storm; done
check "eight storm pods run" wait_until 120 pods_running storm 8
kubectl apply -n storm -f - >/dev/null <<YAML
apiVersion: recap.dev/v1alpha1
kind: Capsule
metadata: {name: storm}
spec:
  image: $IMAGE
  command: [sh, -c, "hostname; sleep 2"]
  targets: {selector: {matchLabels: {app: storm}}}
  triggers:
  - podCondition: {type: Ready, status: "False"}
  triggerLimits: {maxConcurrentRuns: 3, maxCauseAgeSeconds: 600}
YAML
sleep 2
setters=()
for i in 1 2 3 4 5 6 7 8; do
	set_ready storm "s-$i" False &
	setters+=($!)
done
wait "${setters[@]}"
most=0 deadline=$((SECONDS + 150))
while ((SECONDS < deadline)); do
	r=$(runs storm storm)
	unfinished=$(grep -Ec ' (Pending|Running)?$' <<<"$r" || true)
	((unfinished > most)) && most=$unfinished
	all_done storm storm 8 && break
	sleep 0.3
done
check "every pod's cause fired in the end: 8 runs, all finished" all_done storm storm 8
check "never more than the namespace's bound (2) unfinished at once" test "$most" -le 2
check "the bound was reached (2 at once)" test "$most" -eq 2
check "one run per pod" equals "$(runs storm storm | awk '{print $3}' | sort -u | wc -l)" 8
capped() {
	local ev
	ev=$(kubectl get events.events.k8s.io -n storm -o jsonpath='{range .items[*]}{.reason}: {.note}{"\n"}{end}')
	grep -Eq "^TriggerCapped: [0-9]+ causes wait: at most 2 triggered runs of the namespace" <<<"$ev" ||
		{ echo "  events: $ev" >&2; return 1; }
}
check "the held causes are reported (TriggerCapped, the namespace's bound)" wait_or_say 10 capped
kubectl delete capsulepolicy storm-bound >/dev/null
check "nothing is left on the node" wait_until 30 nodes_clean
finish
