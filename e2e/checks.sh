# shellcheck shell=bash
# The checks every e2e script reports with: "ok   - WHAT" or "FAIL - WHAT"
# (counted in FAILS), and bounded polling. Sourced by e2e/lib.sh and
# e2e/real-node/lib.sh; each has its own finish.
FAILS=${FAILS:-0}
pass() { echo "ok   - $*"; }
fail() {
	echo "FAIL - $*" >&2
	FAILS=$((FAILS + 1))
}
# check WHAT CMD...: CMD's status decides.
check() {
	local what=$1
	shift
	if "$@"; then pass "$what"; else fail "$what"; fi
}
equals() { [[ $1 == "$2" ]] || { echo "  expected '$2', got '$1'" >&2; return 1; }; }
# wait_until SECONDS CMD...: polls CMD every 0.2 s.
wait_until() {
	local n=$(($1 * 5)) i
	shift
	for ((i = 0; i < n; i++)); do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.2
	done
	return 1
}
# wait_or_say SECONDS CMD...: wait_until, and when CMD never holds, runs it
# once more with its output, to say what it saw instead.
wait_or_say() {
	wait_until "$@" && return 0
	shift
	"$@"
}
CHECKS_SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# object_json KIND NS NAME: the live object (NS empty: cluster-scoped).
object_json() { kubectl get "$1" ${2:+-n "$2"} "$3" -o json; }
# kstatus_is KIND NS NAME WANT: kstatus, the library Flux reads health with
# (hack/kstatus, built beside kubectl by hack/build-kube), computes WANT
# (Current, InProgress, Failed, Terminating) for the live object.
kstatus_is() {
	local json got
	json=$(object_json "$1" "$2" "$3") || return 1
	got=$(kstatus <<<"$json") || return 1
	[[ ${got%% *} == "$4" ]] || { echo "  $1 $3: kstatus says '$got', expected $4" >&2; return 1; }
}
# argo_health_is KIND NS NAME WANT: RECap's Argo CD health script of KIND
# (config/argocd/, run by hack/argocd-health) reads WANT (Healthy,
# Progressing, Degraded, Suspended) from the live object.
argo_health_is() {
	local json got
	json=$(object_json "$1" "$2" "$3") || return 1
	got=$("$CHECKS_SRC/hack/argocd-health" "$1" <<<"$json") || return 1
	[[ ${got%% *} == "$4" ]] || { echo "  $1 $3: Argo CD health '$got', expected $4" >&2; return 1; }
}
# ns_create NAME...: creates the namespaces and waits until each has its
# `default` ServiceAccount, which kube-controller-manager makes a moment
# after the namespace: a pod created before that is refused by the
# ServiceAccount admission ("serviceaccount default not found").
ns_create() {
	local ns
	for ns in "$@"; do kubectl create namespace "$ns" >/dev/null || return 1; done
	sa_wait "$@"
}
# sa_wait NAME...: waits until each namespace has its default ServiceAccount.
sa_wait() {
	local ns
	for ns in "$@"; do
		wait_until 30 kubectl get serviceaccount default -n "$ns" ||
			{ echo "namespace $ns has no default ServiceAccount after 30 s" >&2; return 1; }
	done
}
# pod_create NS NAME NODE CONTAINER IMAGE LABEL=VALUE...: a pod bound to
# NODE (that node's stand-in runs it) with one container and those labels.
pod_create() {
	local ns=$1 name=$2 node=$3 container=$4 image=$5 labels="" l
	shift 5
	for l in "$@"; do labels+="${labels:+, }${l%%=*}: ${l#*=}"; done
	kubectl apply -n "$ns" -f - >/dev/null <<YAML
apiVersion: v1
kind: Pod
metadata: {name: $name, labels: {$labels}}
spec:
  nodeName: $node
  containers: [{name: $container, image: $image}]
YAML
}
# pods_running NS N: N pods of NS are Running.
pods_running() {
	[[ $(kubectl get pods -n "$1" -o jsonpath='{range .items[*]}{.status.phase}{"\n"}{end}' | grep -c Running) == "$2" ]]
}
# run_create NS NAME CAPSULE: a CapsuleRun of CAPSULE.
run_create() {
	kubectl apply -n "$1" -f - >/dev/null <<YAML
apiVersion: recap.dev/v1alpha1
kind: CapsuleRun
metadata: {name: $2}
spec: {capsuleRef: {name: $3}}
YAML
}
# run_phase_is NS RUN PHASE: the CapsuleRun is in PHASE.
run_phase_is() { [[ $(kubectl get caprun -n "$1" "$2" -o jsonpath='{.status.phase}' 2>/dev/null) == "$3" ]]; }
# run_exec NS RUN: the name of the run's first execution.
run_exec() { kubectl get cexec -n "$1" -l "recap.dev/run=$2" -o jsonpath='{.items[0].metadata.name}'; }
# run_exec_field NS RUN FIELD: a field (jsonpath) of the run's first execution.
run_exec_field() { kubectl get cexec -n "$1" "$(run_exec "$1" "$2")" -o jsonpath="{$3}"; }
# run_refused NS RUN REASON NEEDLE: the run failed within 60 s, its execution
# with REASON and NEEDLE in its message, and its command printed nothing.
run_refused() {
	wait_until 60 run_phase_is "$1" "$2" Failed || { echo "  run $2 did not fail" >&2; return 1; }
	local reason msg out
	reason=$(run_exec_field "$1" "$2" .status.reason) msg=$(run_exec_field "$1" "$2" .status.message)
	out=$(run_exec_field "$1" "$2" .status.stdoutTail)
	[[ $reason == "$3" && $msg == *"$4"* && -z $out ]] ||
		{ echo "  $2: reason $reason, output '$out', message: $msg" >&2; return 1; }
}
# An installed caplet runs its capsules under the executor's default cgroup
# parent, "recap", in every hierarchy a run's limits need.
# default_parents_note records where it exists before a test;
# default_parents_remove removes, with everything below it, each one the
# test made.
DEFAULT_PARENTS_BEFORE=""
default_parents() { find /sys/fs/cgroup -maxdepth 2 -type d -name recap 2>/dev/null || true; }
default_parents_note() { DEFAULT_PARENTS_BEFORE=" $(default_parents | tr '\n' ' ') "; }
default_parents_remove() {
	local d
	for d in $(default_parents); do
		[[ $DEFAULT_PARENTS_BEFORE == *" $d "* ]] || find "$d" -depth -type d -exec rmdir {} + 2>/dev/null
	done
	return 0
}
