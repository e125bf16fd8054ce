#!/usr/bin/env bash
# e2e on a real node: caplet runs as the DaemonSet from config/ and the
# controller as its Deployment, both in pods the kubelet made through
# containerd; a CapsuleRun succeeds on each kind of pod (a tool-less
# application container, the second container of a two-container pod, a pod
# with shareProcessNamespace), each execution sees exactly what its target
# container sees; an Iterative run with failurePolicy Stop
# halts at the failing target; a target pod deleted mid-run gives TargetGone;
# an execution that names one pod but the container of another namespace's
# pod is refused by caplet through the CRI and runs nothing there, while a
# truthful one runs; a readiness probe that starts failing fires a Capsule's
# podCondition and podEvent triggers once each; nothing is left on the node.
#   pods.sh CAPLET CAPSULE CONTROLLER SOURCE_ROOT KUBECTL_CAPSULE
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
rn_up "$1" "$2" "$3" "$4"
mkdir -p "$T/plugin" && ln -s "$(realpath "$5")" "$T/plugin/kubectl-capsule"
export PATH=$T/plugin:$PATH

ns_create shop
kubectl apply -n shop -f - >/dev/null <<YAML
apiVersion: v1
kind: Pod
metadata: {name: toolless, labels: {kind: toolless}}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - {name: app, image: $RECAP_NODE_PAUSE_IMAGE, imagePullPolicy: Never}
---
apiVersion: v1
kind: Pod
metadata: {name: two, labels: {kind: two}}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - {name: app, image: $RECAP_NODE_PAUSE_IMAGE, imagePullPolicy: Never}
  - {name: side, image: $RECAP_NODE_BUSYBOX_IMAGE, imagePullPolicy: Never, command: [sleep, "3600"]}
---
apiVersion: v1
kind: Pod
metadata: {name: shared, labels: {kind: shared}}
spec:
  terminationGracePeriodSeconds: 1
  shareProcessNamespace: true
  containers:
  - {name: app, image: $RECAP_NODE_PAUSE_IMAGE, imagePullPolicy: Never}
  - {name: side, image: $RECAP_NODE_BUSYBOX_IMAGE, imagePullPolicy: Never, command: [sleep, "3600"]}
YAML
check "the three target pods run on the real node" \
	kubectl wait -n shop --for=condition=Ready pod --all --timeout=60s

# capsule KIND CONTAINER: a Capsule for the pods of that kind, and a run of it.
# Its output: the processes it sees (its PID namespace is the target's), and
# the target's root at /target.
capsule() {
	kubectl apply -n shop -f - >/dev/null <<YAML
apiVersion: recap.dev/v1alpha1
kind: Capsule
metadata: {name: look-$1}
spec:
  image: $IMAGE
  command: [sh, -c, 'ps -o comm; echo ==; ls /target']
  targets: {selector: {matchLabels: {kind: $1}}, container: $2}
---
apiVersion: recap.dev/v1alpha1
kind: CapsuleRun
metadata: {name: look-$1-1}
spec:
  capsuleRef: {name: look-$1}
YAML
}
capsule toolless app
capsule two side
capsule shared app

phase() { kubectl get caprun -n shop "look-$1-1" -o jsonpath='{.status.phase}'; }
finished() { [[ $(phase "$1") =~ ^(Succeeded|Failed|PartiallyFailed|Cancelled)$ ]]; }
succeeded() { wait_until 90 finished "$1" && [[ $(phase "$1") == Succeeded ]]; }
stdout_of() { kubectl get cexec -n shop -l "recap.dev/run=look-$1-1" -o jsonpath='{.items[0].status.stdoutTail}'; }
escaped() { [[ $(kubectl get cexec -n shop -l "recap.dev/run=look-$1-1" -o jsonpath='{.items[0].status.escaped}') == true ]]; }
# sees KIND PROCS FILE: the execution saw exactly PROCS (besides its own sh,
# ps and the executor's capsule-init), and FILE in /target.
sees() {
	local out procs
	out=$(stdout_of "$1")
	procs=$(sed -n '1,/^==$/p' <<<"$out" | grep -v -x -e COMMAND -e sh -e ps -e capsule-init -e == | sort | tr '\n' ' ')
	[[ $procs == "$2 " ]] && grep -qx "$3" <<<"$out" ||
		{ echo "  $1: expected processes '$2' and /target/$3, got: $out" >&2; return 1; }
}
for k in toolless two shared; do
	check "the run on the $k pod succeeds" succeeded "$k"
	check "its execution escaped" escaped "$k"
done
# A tool-less container: only its own program, and its image at /target.
check "tool-less: sees pause alone, /target/pause" sees toolless "pause" pause
# The second container: its own PID namespace, its own image.
check "two-container pod, container side: sees sleep alone, /target/bin" sees two "sleep" bin
# A shared PID namespace: the sandbox, both containers.
check "shareProcessNamespace: sees the sandbox's pause, app's pause and side's sleep" \
	sees shared "pause pause sleep" pause
check "kubectl get capsuleruns shows 1/1 for each" \
	bash -c '[[ $(kubectl get capsuleruns -n shop --no-headers | awk "{print \$5 \$6 \$7 \$8}" | sort -u) == 110Succeeded ]]'
# Iterative, failurePolicy Stop, over the three pods in name order (shared,
# toolless, two) where the 2nd fails: the 3rd never runs.
kubectl apply -n shop -f - >/dev/null <<YAML
apiVersion: recap.dev/v1alpha1
kind: Capsule
metadata: {name: rotate}
spec:
  image: $IMAGE
  command: [sh, -c, 'test "\$(hostname)" != toolless']
  targets: {selector: {matchExpressions: [{key: kind, operator: Exists}]}}
  strategy: {type: Iterative, maxConcurrent: 1, order: Name, failurePolicy: Stop}
---
apiVersion: recap.dev/v1alpha1
kind: CapsuleRun
metadata: {name: rotate-1}
spec: {capsuleRef: {name: rotate}}
YAML
run_is() { [[ $(kubectl get caprun -n shop "$1" -o jsonpath='{.status.phase}') == "$2" ]]; }
executions() { # RUN: "pod phase" lines, sorted
	kubectl get cexec -n shop -l "recap.dev/run=$1" \
		-o jsonpath='{range .items[*]}{.spec.target.pod} {.status.phase}{"\n"}{end}' | sort
}
check "Iterative, failurePolicy Stop: the run fails" wait_until 90 run_is rotate-1 Failed
sleep 2 # nothing more may start
check "Iterative: 1st succeeded, 2nd failed, 3rd never ran" equals "$(executions rotate-1 | tr '\n' ';')" \
	"shared Succeeded;toolless Failed;"

# The target pod deleted mid-run: the kubelet stops its containers, the
# execution fails TargetGone and is escaped.
kubectl apply -n shop -f - >/dev/null <<YAML
apiVersion: v1
kind: Pod
metadata: {name: victim, labels: {victim: "yes"}}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - {name: app, image: $RECAP_NODE_PAUSE_IMAGE, imagePullPolicy: Never}
---
apiVersion: recap.dev/v1alpha1
kind: Capsule
metadata: {name: linger}
spec:
  image: $IMAGE
  command: [sleep, "120"]
  targets: {selector: {matchLabels: {victim: "yes"}}}
YAML
check "the victim pod runs" kubectl wait -n shop --for=condition=Ready pod/victim --timeout=60s
kubectl apply -n shop -f - >/dev/null <<YAML
apiVersion: recap.dev/v1alpha1
kind: CapsuleRun
metadata: {name: linger-1}
spec: {capsuleRef: {name: linger}}
YAML
exec_field() { kubectl get cexec -n shop -l recap.dev/run=linger-1 -o jsonpath="{.items[0].status.$1}"; }
exec_is() { [[ $(exec_field phase) == "$1" ]]; }
check "the execution on the victim runs" wait_until 60 exec_is Running
# Its cgroup is below the kubelet's kubepods in every hierarchy the limits
# use: the node's allocatable bounds it as it bounds pods.
run_cgroups() {
	local h uid seen=0 kp=${RN_CGP%/recap}
	uid=$(kubectl get cexec -n shop -l recap.dev/run=linger-1 -o jsonpath='{.items[0].metadata.uid}')
	for h in memory pids cpu unified ""; do
		[[ -d /sys/fs/cgroup/$h/$kp ]] || continue # a hierarchy this host lacks
		seen=$((seen + 1))
		[[ -d /sys/fs/cgroup/$h/$RN_CGP/ce-${uid//-/} ]] ||
			{ echo "  no /sys/fs/cgroup/$h/$RN_CGP/ce-${uid//-/}" >&2; return 1; }
	done
	((seen > 0)) || { echo "  no kubepods cgroup found for $kp" >&2; return 1; }
}
check "its cgroup is below the kubelet's kubepods cgroup ($RN_CGP)" run_cgroups
kubectl delete pod -n shop victim --wait=false >/dev/null
gone_reason() { exec_is Failed && [[ $(exec_field reason) == TargetGone ]]; }
check "deleting the target pod mid-run: Failed, TargetGone" wait_until 60 gone_reason
check "... and escaped" equals "$(exec_field escaped)" true
check "... and the pod is gone" wait_until 60 bash -c '! kubectl get pod -n shop victim >/dev/null 2>&1'

# A forged execution (what a compromised controller could write): it names
# pod two (namespace shop) but the container of pod vault in namespace bank.
# caplet asks the node's containerd (CRI) and refuses it before anything
# starts; the marker its command would write is never in vault. The same
# execution with two's own container runs.
ns_create bank
kubectl apply -n bank -f - >/dev/null <<YAML
apiVersion: v1
kind: Pod
metadata: {name: vault}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - {name: side, image: $RECAP_NODE_BUSYBOX_IMAGE, imagePullPolicy: Never, command: [sleep, "3600"]}
YAML
check "the other namespace's pod runs" kubectl wait -n bank --for=condition=Ready pod/vault --timeout=60s
# /target writable for shop's Capsules, so that the command could leave a mark
kubectl apply -f - >/dev/null <<YAML
apiVersion: recap.dev/v1alpha1
kind: CapsulePolicy
metadata: {name: shop-writes}
spec:
  namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: shop}}
  targetFilesystem: {max: ReadWrite}
YAML
cid_of() { kubectl get pod -n "$1" "$2" -o jsonpath="{.status.containerStatuses[?(@.name==\"$3\")].containerID}"; }
two_uid=$(kubectl get pod -n shop two -o jsonpath='{.metadata.uid}')
# by_hand NAME CONTAINER_ID: an execution for pod two's side container
by_hand() {
	kubectl apply -n shop -f - >/dev/null <<YAML
apiVersion: recap.dev/v1alpha1
kind: CapsuleExecution
metadata: {name: $1, labels: {recap.dev/run: $1, recap.dev/node: $RECAP_NODE_NAME}}
spec:
  runRef: {name: $1}
  node: $RECAP_NODE_NAME
  target: {pod: two, podUID: $two_uid, container: side, containerID: "$2"}
  capsule:
    image: "$IMAGE"
    command: [sh, -c, 'hostname > /target/recap-marker-$1; hostname']
    targetFilesystem: ReadWrite
YAML
}
by_hand forged "$(cid_of bank vault side)"
by_hand truthful "$(cid_of shop two side)"
by_hand unknown containerd://0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
cexec() { kubectl get cexec -n shop "$1" -o jsonpath="{.status.$2}"; }
ended() { [[ $(cexec "$1" phase) =~ ^(Succeeded|Failed)$ ]]; }
check "the forged execution ends" wait_until 60 ended forged
check "... Failed, InvalidSpec" equals "$(cexec forged phase) $(cexec forged reason)" "Failed InvalidSpec"
check "... the message names the namespace that differs" \
	grep -q "belongs to namespace 'bank', the execution names 'shop'" <<<"$(cexec forged message)"
check "... it never attached nor ran" equals "$(cexec forged attachStartTime)$(cexec forged runStartTime)$(cexec forged stdoutTail)" ""
check "... and nothing was written into the other namespace's container" \
	bash -c '! kubectl exec -n bank vault -- test -e /recap-marker-forged'
check "the truthful execution succeeds" wait_until 60 ended truthful
check "... Succeeded in pod two" equals "$(cexec truthful phase) $(cexec truthful stdoutTail)" "Succeeded two"
check "... its marker is in two's side container" kubectl exec -n shop two -c side -- test -e /recap-marker-truthful
check "an execution naming a container the CRI does not know ends" wait_until 60 ended unknown
check "... Failed, TargetNotFound, named by the CRI" \
	equals "$(cexec unknown phase) $(cexec unknown reason) $(cexec unknown message | grep -o 'does not know')" \
	"Failed TargetNotFound does not know"

# A readiness probe that starts failing, as the real kubelet sees it: its
# Ready condition turns False and it records Unhealthy Events. One Capsule
# fires on the condition, one on the Event; each exactly once (the pod's
# cooldown holds the kubelet's repeated Events back), on that pod alone.
# The Capsules come once both pods are Ready: a pod still starting is not
# Ready either, and on a loaded node that can last longer than forSeconds
# (which then fires, rightly). The first probe waits a second, so that it
# never runs before the container has made the file it reads.
ns_create probe
kubectl apply -n probe -f - >/dev/null <<YAML
apiVersion: v1
kind: Pod
metadata: {name: flaky, labels: {app: flaky}}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: app
    image: $RECAP_NODE_BUSYBOX_IMAGE
    imagePullPolicy: Never
    command: [sh, -c, "touch /tmp/ready; sleep 3600"]
    readinessProbe:
      exec: {command: [cat, /tmp/ready]}
      initialDelaySeconds: 1
      periodSeconds: 1
      failureThreshold: 1
---
apiVersion: v1
kind: Pod
metadata: {name: steady, labels: {app: flaky}}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - {name: app, image: $RECAP_NODE_BUSYBOX_IMAGE, imagePullPolicy: Never, command: [sleep, "3600"]}
YAML
check "both pods become Ready on the real node" kubectl wait -n probe --for=condition=Ready pod --all --timeout=60s
kubectl apply -n probe -f - >/dev/null <<YAML
apiVersion: recap.dev/v1alpha1
kind: Capsule
metadata: {name: on-not-ready}
spec:
  image: $IMAGE
  command: [sh, -c, "hostname; ls /target/tmp"]
  targets: {selector: {matchLabels: {app: flaky}}}
  triggers: [{podCondition: {type: Ready, status: "False", forSeconds: 2}}]
---
apiVersion: recap.dev/v1alpha1
kind: Capsule
metadata: {name: on-unhealthy}
spec:
  image: $IMAGE
  command: [hostname]
  targets: {selector: {matchLabels: {app: flaky}}}
  triggers: [{podEvent: {reasons: [Unhealthy], type: Warning}}]
YAML
sleep 3
probe_runs() { # CAPSULE: "trigger pod phase" per run
	kubectl get caprun -n probe -l "recap.dev/capsule=$1" \
		-o jsonpath='{range .items[*]}{.spec.trigger} {.spec.cause.pod} {.status.phase}{"\n"}{end}'
}
check "no run while the pods are Ready" equals "$(probe_runs on-not-ready)$(probe_runs on-unhealthy)" ""
kubectl exec -n probe flaky -- rm /tmp/ready
probe_done() { [[ $(probe_runs "$1") == "$2 flaky Succeeded" ]]; }
check "the kubelet's Ready=False fires one run on that pod, which succeeds" \
	wait_or_say 60 probe_done on-not-ready PodCondition
check "the kubelet's Unhealthy Event fires one run on that pod, which succeeds" \
	wait_or_say 60 probe_done on-unhealthy PodEvent
check "the condition's run saw the target's /tmp without the file" \
	equals "$(kubectl get cexec -n probe -l recap.dev/capsule=on-not-ready -o jsonpath='{.items[0].status.stdoutTail}')" "flaky"
unhealthy_count() {
	kubectl get events -n probe --field-selector involvedObject.name=flaky,reason=Unhealthy \
		-o jsonpath='{range .items[*]}{.count}{"\n"}{end}' | awk '{n += $1} END {print n + 0}'
}
repeated() { (($(unhealthy_count) >= 3)); }
check "the kubelet keeps recording Unhealthy" wait_until 30 repeated
check "its repeats fire nothing more (the pod's cooldown)" equals "$(probe_runs on-unhealthy | wc -l)" 1
check "the Ready pod never had a run" bash -c "! kubectl get caprun -n probe -o jsonpath='{.items[*].spec.cause.pod}' | grep -q steady"
kubectl delete ns probe --wait=false >/dev/null

check "nothing of the executions or the attach is left on the node" node_clean
finish
