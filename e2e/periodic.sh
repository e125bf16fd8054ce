#!/usr/bin/env bash
# e2e: Periodic. A Capsule with a one-minute cron runs in the context of its
# target once per minute: over two scheduled minutes exactly two runs exist
# (deterministic names, one per minute), each Succeeded on the target.
#   periodic.sh CAPLET CAPSULE CONTROLLER SLEEPER SOURCE_ROOT
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
e2e_up "$@" node-1

ns_create cron
pod_create cron app-1 node-1 app registry.local/app:1 app=app
check "the stand-in runs the target pod" wait_until 30 pods_running cron 1
kubectl apply -n cron -f - >/dev/null <<YAML
apiVersion: recap.dev/v1alpha1
kind: Capsule
metadata: {name: tick}
spec:
  image: $IMAGE
  command: [hostname]
  targets: {selector: {matchLabels: {app: app}}}
  schedule: {cron: "* * * * *"}
YAML
runs() { # "name scheduledTime phase" per run, by name
	kubectl get caprun -n cron -o jsonpath='{range .items[*]}{.metadata.name} {.spec.scheduledTime} {.status.phase}{"\n"}{end}' |
		sort
}
some_run() { [[ -n $(runs) ]]; }
check "a first run is scheduled within a minute" wait_until 70 some_run
first=$(runs | awk 'NR == 1 {print $2}')
[[ -n $first ]] || { fail "a first run with a scheduledTime to count the next minute from: $(runs)"; finish; }
# until the next scheduled minute, then until its run has ended: a second run
# for either minute would have been made by then
next=$(($(date -d "$first" +%s) + 60))
sleep $((next - $(date +%s) > 0 ? next - $(date +%s) : 0))
two_ended() { [[ $(runs | awk '$3 == "Succeeded" || $3 == "Failed"' | wc -l) -ge 2 ]]; }
wait_until 30 two_ended || true
two_minutes() {
	local got
	got=$(runs)
	[[ $(wc -l <<<"$got") == 2 ]] || { echo "  runs: $got" >&2; return 1; }
	[[ $(awk '{print $2}' <<<"$got" | sort -u | wc -l) == 2 ]] || { echo "  runs: $got" >&2; return 1; }
	[[ $(awk '$3 == "Succeeded"' <<<"$got" | wc -l) == 2 ]] || { echo "  runs: $got" >&2; return 1; }
}
check "exactly one run per minute over two minutes, each Succeeded" two_minutes
outputs() {
	[[ $(kubectl get cexec -n cron -o jsonpath='{range .items[*]}{.status.stdoutTail}{end}' | grep -cx app-1) == 2 ]]
}
check "each ran on the target" outputs
check "nothing is left on the node" nodes_clean
finish
