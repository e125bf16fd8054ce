#!/usr/bin/env bash
# On a real node (hack/node: kubelet, containerd, runc; caplet as the config/
# DaemonSet, recap-controller as the Deployment, e2e/real-node/lib.sh):
#  1. f_latency: CapsuleRun created -> Succeeded, one tool-less target, image
#     cached, command `true` (bench/f-latency/measure.py, RUNS runs), then the
#     same on the node stand-in (bench/f-latency.sh) in the same invocation;
#  2. time to a command's first output on the same pod, cold and warm:
#     `kubectl debug` (an ephemeral container) against `kubectl capsule run`
#     (an ad hoc CapsuleRun) and `kubectl capsule attach` (kubectl exec into
#     the node's caplet pod), each started as a user would start it; and
#     `kubectl exec` into a pod whose image has the tool baked in (busybox),
#     the imperative way a capsule replaces. Warm rounds interleave the tools
#     in an order shuffled per round.
#
#   bench/real-node.sh [RUNS [WARM]]   (as root, from a tree built in build/;
#                                        defaults 100 and 5)
set -euo pipefail
# shellcheck source=hack/lib/errtrap.sh
. "$(dirname "${BASH_SOURCE[0]}")/../hack/lib/errtrap.sh"
root=$(cd "$(dirname "$0")/.." && pwd)
RUNS=${1:-100} WARM=${2:-5}
# shellcheck source=bench/real-node/lib.sh
. "$root/bench/real-node/lib.sh"
bench_counts 10000 RUNS WARM
bench_node_up "$root"

kubectl create namespace bench >/dev/null
kubectl apply -n bench -f - >/dev/null <<YAML
apiVersion: v1
kind: Pod
metadata: {name: web, labels: {app: web}}
spec:
  terminationGracePeriodSeconds: 1
  containers: [{name: app, image: $RECAP_NODE_PAUSE_IMAGE, imagePullPolicy: Never}]
---
apiVersion: v1
kind: Pod
metadata: {name: tools}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - {name: app, image: $RECAP_NODE_BUSYBOX_IMAGE, imagePullPolicy: Never, command: [sleep, "86400"]}
---
apiVersion: recap.dev/v1alpha1
kind: Capsule
metadata: {name: lat}
spec:
  image: $IMAGE
  command: ["true"]
  targets: {selector: {matchLabels: {app: web}}}
YAML
kubectl wait -n bench --for=condition=Ready pod/web pod/tools --timeout=60s >/dev/null

echo "== f_latency, real node (load before: $(cut -d' ' -f1-3 /proc/loadavg), $(nproc) cores)"
"$root/bench/f-latency/measure.py" bench lat "$RUNS"
node_clean || { echo "executions left state behind" >&2; exit 1; }

# The run's cold start pulls the capsule image into caplet's store. attach
# then finds it there: it has no option for a plain-HTTP registry, so its
# cold start is its first session, without a pull. kubectl debug's image is
# on the node already (imported: the node never pulls).
skopeo copy -q --src-tls-verify=false --dest-tls-verify=false \
	"docker://$IMAGE" "docker://$REGISTRY/capsules/busybox:cold" >/dev/null
first() { "$root/bench/real-node/first_output.py" first "$@"; }
# kubectl debug loses what the container prints before it has attached: an
# attempt that printed nothing is made again (up to three; the lost ones are
# not counted, which favours kubectl debug)
debug() {
	local i
	for i in 1 2 3; do
		first kubectl debug -n bench web -i --quiet --target=app --image="$RECAP_NODE_BUSYBOX_IMAGE" \
			--image-pull-policy=Never -- sh -c 'echo first' 2>/dev/null && return 0
	done
	echo "kubectl debug printed nothing three times" >&2
	return 1
}
capsule_run() { first kubectl capsule run -n bench "$REGISTRY/capsules/busybox:cold" --pod web -- echo first; }
capsule_attach() {
	first kubectl capsule attach -n bench web --image "$REGISTRY/capsules/busybox:cold" -- echo first
}
exec_baked() { first kubectl exec -n bench tools -- echo first; }
TOOLS=(exec_baked debug capsule_run capsule_attach)
declare -A COLD WARMS
for tool in "${TOOLS[@]}"; do
	COLD[$tool]=$($tool) || { echo "$tool failed" >&2; exit 1; }
	WARMS[$tool]=""
done
for ((i = 0; i < WARM; i++)); do
	for tool in $(printf '%s\n' "${TOOLS[@]}" | shuf); do
		WARMS[$tool]+="$($tool) " || { echo "$tool failed" >&2; exit 1; }
	done
done
median() { tr ' ' '\n' | grep . | sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
echo
echo "== time to first output of 'echo first' on pod bench/web, kubectl exec on bench/tools (ms; warm: median of $WARM)"
printf '%-28s %12s %12s %14s %14s %12s\n' tool "cold first" "cold exit" "warm first" "warm exit" "warm / exec"
declare -A WF
for tool in "${TOOLS[@]}"; do
	WF[$tool]=$(awk '{for (i = 1; i <= NF; i += 2) print $i}' <<<"${WARMS[$tool]}" | median)
done
for tool in "${TOOLS[@]}"; do
	read -r cf ce <<<"${COLD[$tool]}"
	we=$(awk '{for (i = 2; i <= NF; i += 2) print $i}' <<<"${WARMS[$tool]}" | median)
	ratio=$(awk -v a="${WF[$tool]}" -v b="${WF[exec_baked]}" 'BEGIN {printf "%.2fx", a / b}')
	printf '%-28s %12s %12s %14s %14s %12s\n' "${tool/_/ }" "$cf" "$ce" "${WF[$tool]}" "$we" "$ratio"
done
node_clean || { echo "executions left state behind" >&2; exit 1; }
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
trap - EXIT
(rn_cleanup) >/dev/null 2>&1 || { echo "the real node's teardown failed" >&2; exit 1; }

echo
echo "== f_latency, node stand-in, same invocation"
"$root/bench/f-latency.sh" "$RUNS"
