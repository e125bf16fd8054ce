#!/usr/bin/env bash
# Integration test of caplet: a real control plane with the CRDs, a real
# node (hack/node: kubelet, containerd) whose pods are the targets and whose
# containerd is caplet's CRI, caplet with the real executor, a busybox capsule
# image served from an OCI layout by a loopback registry (slow_registry.py,
# no delay): a cluster execution takes registry references only.
# CapsuleExecutions are created by hand, as the controller would. Everything
# is removed at the end, also on failure.
#
#   caplet.sh CAPLET CAPSULE SOURCE_ROOT
set -euo pipefail
# shellcheck source=hack/lib/errtrap.sh
. "$(dirname "${BASH_SOURCE[0]}")/../../hack/lib/errtrap.sh"
caplet_bin=$1 capsule_bin=$2 src=$3

if ((EUID != 0)); then
	echo "SKIP: needs root (a real node, namespaces, overlayfs, cgroups)"
	exit 77
fi
for tool in umoci busybox curl; do
	command -v "$tool" >/dev/null || { echo "missing $tool (hack/deps installs it)" >&2; exit 1; }
done

tmp=$(mktemp -d /tmp/recap-caplet.XXXXXX)
cid="" cid2="" # the target pods' containers (make_target)
cgp=recap-caplet-test-$$
root=$tmp/store
node=node-a
caplet_pid=""
registry_pid=""
main_registry_pid=""
main_registry=""
failures=0

cleanup() {
	set +e
	[[ -n $caplet_pid ]] && kill -9 "$caplet_pid" 2>/dev/null && wait "$caplet_pid" 2>/dev/null
	[[ -n $registry_pid ]] && kill "$registry_pid" 2>/dev/null && wait "$registry_pid" 2>/dev/null
	[[ -n $main_registry_pid ]] && kill "$main_registry_pid" 2>/dev/null && wait "$main_registry_pid" 2>/dev/null
	local p # executors of this test only: their argv names its private store
	for p in /proc/[0-9]*; do
		tr '\0' ' ' 2>/dev/null <"$p/cmdline" | grep -qF -- "--root $root " && kill -9 "${p#/proc/}"
	done
	"$capsule_bin" --root "$root" --cgroup-parent "$cgp" sweep --force >/dev/null 2>&1
	for d in /sys/fs/cgroup/*/"$cgp" /sys/fs/cgroup/"$cgp"; do
		[[ -d $d ]] && rmdir "$d"
	done
	[[ -d $tmp/node ]] && { "$src/hack/node" down --dir "$tmp/node" >"$tmp/node-down.log" 2>&1 ||
		echo "hack/node down: $(cat "$tmp/node-down.log")" >&2; }
	"$src/hack/cluster" down --dir "$tmp/cluster" >/dev/null 2>&1
	grep -o " $tmp[^ ]*" /proc/self/mountinfo | sort -r | xargs -r -n1 umount -l
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 143' TERM INT

pass() { echo "ok   - $*"; }
fail() {
	echo "FAIL - $*" >&2
	failures=$((failures + 1))
}
check() {
	local what=$1
	shift
	if "$@"; then pass "$what"; else fail "$what"; fi
}
contains() { [[ $1 == *"$2"* ]] || { echo "  expected '$2' in: $1" >&2; return 1; }; }
equals() { [[ $1 == "$2" ]] || { echo "  expected '$2', got '$1'" >&2; return 1; }; }
not_contains() { [[ $1 != *"$2"* ]] || { echo "  did not expect '$2' in: ${1:0:300}" >&2; return 1; }; }

field() { kubectl get cexec "$1" -o "jsonpath={$2}" 2>/dev/null; }

# wait_for NAME JSONPATH VALUE [SECONDS]
wait_for() {
	local i
	for ((i = 0; i < ${4:-30} * 10; i++)); do
		[[ $(field "$1" "$2") == "$3" ]] && return 0
		sleep 0.1
	done
	echo "  $1: $2 is '$(field "$1" "$2")', not '$3'" >&2
	return 1
}

gone() { # NAME: the execution no longer exists (within 30 s)
	local i
	for ((i = 0; i < 300; i++)); do
		kubectl get cexec "$1" >/dev/null 2>&1 || return 0
		sleep 0.1
	done
	echo "  $1 still exists" >&2
	return 1
}

# target_of CONTAINER-ID: the execution's target, the pod that container is
# in (any other ID: pod target's identity with that ID)
target_of() {
	local pod=target
	[[ $1 == "$cid2" ]] && pod=target-2
	echo "{pod: $pod, podUID: $(kubectl get pod "$pod" -o jsonpath='{.metadata.uid}'), container: app, containerID: \"containerd://$1\"}"
}

# execution NAME CONTAINER-ID IMAGE COMMAND-JSON
execution() {
	kubectl apply -f - >/dev/null <<YAML
apiVersion: recap.dev/v1alpha1
kind: CapsuleExecution
metadata:
  name: $1
  namespace: default
  labels: {recap.dev/run: run-1, recap.dev/node: $node}
spec:
  runRef: {name: run-1}
  node: $node
  target: $(target_of "$2")
  capsule:
    image: "$3"
    command: $4
YAML
}

# A command sleeping N followed by this test's pid: a concurrent run of this
# test (another build) sleeps other lengths, so the residue checks see only
# this one's processes.
long_sleep() { echo "[busybox, sleep, \"$1$$\"]"; }

# run_id NAME: the execution's run id, ce-<uid without dashes>. An execution
# that cannot be read is an error, not "ce-" (a path that never exists, so
# "it never ran" checks passed on it).
run_id() {
	local uid
	uid=$(kubectl get cexec "$1" -o jsonpath='{.metadata.uid}') || uid=""
	[[ -n $uid ]] || { echo "  no uid for execution $1" >&2; return 1; }
	echo "ce-${uid//-/}"
}

no_residue() { # RUN-ID: nothing of the run is left on the node
	local left
	[[ -n $1 ]] || { echo "  no run id to look for" >&2; return 1; }
	left=$(
		ls "$root/runs" 2>/dev/null
		find /sys/fs/cgroup -maxdepth 3 -name "$1" 2>/dev/null
		grep -F "$root/runs" /proc/self/mountinfo
		pgrep -f "busybox sleep (1535|1636|1737|1838|1939)$$\$"
	) || true
	[[ -z $left ]] || {
		echo "  left behind: $left" >&2
		ps -o pid,ppid,stat,args -p "$(pgrep -d, -f "busybox sleep (1535|1636|1737|1838|1939)$$\$" || echo 1)" >&2
		return 1
	}
}

start_caplet() { # [CAPLET OPTION]...
	"$caplet_bin" --node-name "$node" --root "$root" --capsule "$capsule_bin" --cgroup-parent "$cgp" \
		--cri-endpoint "$RECAP_NODE_CONTAINERD" --metrics-address 127.0.0.1:0 --insecure-registry "$main_registry" \
		--log-level debug "$@" >>"$tmp/caplet.log" 2>&1 &
	caplet_pid=$!
	local i
	for ((i = 0; i < 100; i++)); do
		metrics_port=$(sed -n 's/.*metrics on port \([0-9]*\).*/\1/p' "$tmp/caplet.log" | tail -1)
		[[ -n $metrics_port ]] && curl -sf "http://127.0.0.1:$metrics_port/readyz" >/dev/null && return 0
		sleep 0.1
	done
	echo "caplet did not become ready:" >&2
	cat "$tmp/caplet.log" >&2
	exit 1
}

make_image() {
	mkdir -p "$tmp/layer/bin"
	cp "$(command -v busybox)" "$tmp/layer/bin/busybox"
	(cd "$tmp" && umoci init --layout img && umoci new --image img:v1 &&
		umoci insert --image img:v1 layer/bin /bin &&
		umoci config --image img:v1 --config.env PATH=/bin && umoci gc --layout img) >/dev/null
	# not a coproc: test_stop_while_pulling starts one, and bash has one at a time
	python3 "$src/test/caplet/slow_registry.py" "$tmp/img" 0 >"$tmp/registry.port" &
	main_registry_pid=$!
	local i
	for ((i = 0; i < 100; i++)); do [[ -s $tmp/registry.port ]] && break; sleep 0.1; done
	[[ -s $tmp/registry.port ]] || { echo "the loopback registry did not start" >&2; exit 1; }
	main_registry=127.0.0.1:$(<"$tmp/registry.port")
	image=$main_registry/caplet/busybox:v1
}

# make_target POD: a pod of the node (its hostname caplet-target, the node's
# sleeping pause image, restartPolicy Never); prints its container's ID.
make_target() {
	kubectl apply -f - >/dev/null <<YAML
apiVersion: v1
kind: Pod
metadata: {name: $1, namespace: default}
spec:
  hostname: caplet-target
  restartPolicy: Never
  terminationGracePeriodSeconds: 1
  containers:
  - {name: app, image: $RECAP_NODE_PAUSE_IMAGE, imagePullPolicy: Never}
YAML
	kubectl wait --for=condition=Ready "pod/$1" --timeout=60s >/dev/null || return 1
	local id
	id=$(kubectl get pod "$1" -o jsonpath='{.status.containerStatuses[0].containerID}')
	echo "${id#containerd://}"
}

test_success() {
	execution ok "$cid" "$image" '[busybox, sh, -c, "echo from $(hostname); ps -o comm | grep -c pause"]'
	check "a hand-made execution succeeds" wait_for ok '.status.phase' Succeeded
	local out id
	out=$(field ok '.status.stdoutTail')
	check "the output tail is in status (run in the target's uts namespace)" contains "$out" "from caplet-target"
	check "the capsule saw the target's processes" contains "$out" $'\n1'
	check "escaped: true" equals "$(field ok '.status.escaped')" true
	check "exit code 0" equals "$(field ok '.status.exitCode')" 0
	check "the image digest is reported" contains "$(field ok '.status.imageDigest')" "sha256:"
	check "every phase has its timestamp" test -n "$(field ok '.status.pullStartTime')" \
		-a -n "$(field ok '.status.attachStartTime')" -a -n "$(field ok '.status.runStartTime')" \
		-a -n "$(field ok '.status.completionTime')"
	check "the finalizer is released" equals "$(field ok '.metadata.finalizers')" ""
	id=$(run_id ok)
	check "no residue after success" no_residue "$id"
}

# An execution naming pod target with another pod's container is refused
# through the CRI before anything starts; so is one whose pod UID is not the
# container's pod's (a recreated pod of the same name).
test_target_confirmed() {
	local other
	other=$(make_target bystander)
	kubectl apply -f - >/dev/null <<YAML
apiVersion: recap.dev/v1alpha1
kind: CapsuleExecution
metadata: {name: forged, namespace: default}
spec:
  runRef: {name: run-1}
  node: $node
  target: {pod: target, podUID: $(kubectl get pod target -o jsonpath='{.metadata.uid}'), container: app, containerID: "containerd://$other"}
  capsule: {image: "$image", command: [busybox, touch, /out/ran]}
---
apiVersion: recap.dev/v1alpha1
kind: CapsuleExecution
metadata: {name: stale-uid, namespace: default}
spec:
  runRef: {name: run-1}
  node: $node
  target: {pod: target, podUID: 0b6f2c1e-1111-4a4a-9c9c-000000000001, container: app, containerID: "containerd://$cid"}
  capsule: {image: "$image", command: [busybox, touch, /out/ran]}
YAML
	check "another pod's container is refused: InvalidSpec" wait_for forged '.status.reason' InvalidSpec
	check "the message names the pod it belongs to" contains "$(field forged '.status.message')" \
		"belongs to pod 'bystander', the execution names 'target'"
	check "it never attached nor ran" equals "$(field forged '.status.attachStartTime')" ""
	check "and left no output" test ! -e "$root/out/$(run_id forged)"
	check "another pod UID is refused: InvalidSpec" wait_for stale-uid '.status.reason' InvalidSpec
	check "the message names the UID" contains "$(field stale-uid '.status.message')" "podUID"
	kubectl delete pod bystander --wait=false >/dev/null
}

# No CRI, no execution: nothing falls back to the unverified container ID.
test_cri_unreachable() {
	start_caplet --cri-endpoint "$tmp/no-cri.sock"
	execution blind "$cid" "$image" '[busybox, touch, /out/ran]'
	check "an unreachable CRI fails the execution: StartFailed" wait_for blind '.status.reason' StartFailed
	check "the message names the socket" contains "$(field blind '.status.message')" "$tmp/no-cri.sock"
	check "it never ran" test ! -e "$root/out/$(run_id blind)"
	kill -TERM "$caplet_pid"
	wait "$caplet_pid" || true
	caplet_pid=""
}

test_policy() {
	kubectl apply -f - >/dev/null <<'YAML'
apiVersion: recap.dev/v1alpha1
kind: CapsulePolicy
metadata: {name: only-registry}
spec:
  images: {allowed: ["registry.local/capsules/*"]}
YAML
	sleep 0.5 # the policy reaches caplet's informer
	execution denied "$cid" "$image" '[busybox, touch, /out/ran]'
	check "a policy-violating execution is refused" wait_for denied '.status.reason' PolicyDenied
	check "the refusal names the rule" contains "$(field denied '.status.message')" "images.allowed"
	check "phase Failed" equals "$(field denied '.status.phase')" Failed
	check "it never ran" test ! -e "$root/out/$(run_id denied)"
	kubectl delete capsulepolicy only-registry >/dev/null
}

test_capabilities() {
	kubectl apply -f - >/dev/null <<YAML
apiVersion: recap.dev/v1alpha1
kind: CapsuleExecution
metadata: {name: dropped, namespace: default}
spec:
  runRef: {name: run-1}
  node: $node
  target: $(target_of "$cid")
  capsule:
    image: "$image"
    command: [busybox, grep, -E, "^Cap(Eff|Bnd):", /proc/self/status]
    security: {capabilities: {drop: [KILL, CHOWN]}}
YAML
	check "capabilities.drop is run, not refused" wait_for dropped '.status.phase' Succeeded
	local out
	out=$(field dropped '.status.stdoutTail')
	check "the dropped capabilities are not effective (default 200004fb minus KILL, CHOWN)" \
		contains "$out" "CapEff:	00000000200004da"
	check "nor in the bounding set" contains "$out" "CapBnd:	00000000200004da"
}

test_target_missing() {
	execution lost no-such-container "$image" '[busybox, "true"]'
	check "an execution whose target is not there fails" wait_for lost '.status.reason' TargetNotFound
	check "and says it escaped" equals "$(field lost '.status.escaped')" true
}

test_refusals() {
	execution nopull "$cid" "$main_registry/caplet/busybox:no-such-tag" '[busybox, "true"]'
	check "an image that cannot be pulled: ImagePullFailed" wait_for nopull '.status.reason' ImagePullFailed
	check "the message says what failed" contains "$(field nopull '.status.message')" "no-such-tag"
	kubectl apply -f - >/dev/null <<YAML
apiVersion: recap.dev/v1alpha1
kind: CapsuleExecution
metadata: {name: late, namespace: default}
spec:
  runRef: {name: run-1}
  node: $node
  target: $(target_of "$cid")
  capsule: {image: "$image", command: [busybox, touch, /out/ran]}
  deadline: "2020-01-01T00:00:00Z"
YAML
	check "a deadline already passed: DeadlineExceeded" wait_for late '.status.reason' DeadlineExceeded
	check "and it never ran" test ! -e "$root/out/$(run_id late)"
}

# deadline_execution NAME SECONDS-FROM-NOW COMMAND-JSON: timeoutSeconds far beyond the deadline
deadline_execution() {
	kubectl apply -f - >/dev/null <<YAML
apiVersion: recap.dev/v1alpha1
kind: CapsuleExecution
metadata: {name: $1, namespace: default}
spec:
  runRef: {name: run-1}
  node: $node
  target: $(target_of "$cid")
  capsule: {image: "$image", command: $3, timeoutSeconds: 3600}
  deadline: "$(date -u -d "+$2 seconds" +%Y-%m-%dT%H:%M:%SZ)"
YAML
}

test_deadline() {
	deadline_execution overdue 4 "$(long_sleep 1535)"
	check "a command still running at spec.deadline is killed: DeadlineExceeded" \
		wait_for overdue '.status.reason' DeadlineExceeded 40
	check "phase Failed" equals "$(field overdue '.status.phase')" Failed
	check "it had started (runStartTime)" test -n "$(field overdue '.status.runStartTime')"
	check "and escaped" equals "$(field overdue '.status.escaped')" true
	check "no residue after the deadline" no_residue "$(run_id overdue)"
	kubectl apply -f - >/dev/null <<'YAML'
apiVersion: recap.dev/v1alpha1
kind: CapsulePolicy
metadata: {name: one-slot}
spec:
  limits: {maxConcurrentPerNode: 1}
YAML
	sleep 0.5
	execution blocker "$cid" "$image" "$(long_sleep 1636)"
	check "a long command holds the only slot" wait_for blocker '.status.phase' Running
	deadline_execution waiter 3 '[busybox, touch, /out/ran]'
	check "an execution whose deadline passes while queued: DeadlineExceeded" \
		wait_for waiter '.status.reason' DeadlineExceeded 40
	check "the message says it waited for a slot" contains "$(field waiter '.status.message')" "slot"
	check "it never ran" test ! -e "$root/out/$(run_id waiter)"
	check "the blocker still runs" equals "$(field blocker '.status.phase')" Running
	local id
	id=$(run_id blocker)
	kubectl delete cexec blocker --wait=false >/dev/null
	check "the blocker is cancelled" gone blocker
	check "no residue after the blocker" no_residue "$id"
	kubectl delete capsulepolicy one-slot >/dev/null
}

test_target_gone() {
	cid2=$(make_target target-2)
	execution doomed "$cid2" "$image" "$(long_sleep 1939)"
	local i
	for ((i = 0; i < 100; i++)); do pgrep -f "busybox sleep 1939$$\$" >/dev/null && break; sleep 0.1; done
	check "the command runs in the second target" pgrep -f "busybox sleep 1939$$\$" >/dev/null
	local id
	id=$(run_id doomed)
	kubectl delete pod target-2 --grace-period=0 --force --wait=false >/dev/null 2>&1
	check "a target that goes away mid-run gives TargetGone" wait_for doomed '.status.reason' TargetGone
	check "and the run escaped" equals "$(field doomed '.status.escaped')" true
	check "no residue after the target went" no_residue "$id"
}

test_delete_mid_run() {
	execution del "$cid" "$image" "$(long_sleep 1737)"
	check "Running is reported while the command runs" wait_for del '.status.phase' Running
	local i
	for ((i = 0; i < 100; i++)); do pgrep -f "busybox sleep 1737$$\$" >/dev/null && break; sleep 0.1; done
	check "the long command runs" pgrep -f "busybox sleep 1737$$\$" >/dev/null
	local id
	id=$(run_id del)
	kubectl get cexec del -w -o json --output-watch-events >"$tmp/del.watch" 2>/dev/null &
	local watch=$!
	sleep 0.3
	kubectl delete cexec del --wait=false >/dev/null
	check "a deleted execution disappears" gone del
	kill "$watch" 2>/dev/null
	wait "$watch" 2>/dev/null || true
	local last
	last=$(python3 - "$tmp/del.watch" <<'PY'
import json, sys
dec, text, objs = json.JSONDecoder(), open(sys.argv[1]).read(), []
i = 0
while i < len(text):
    while i < len(text) and text[i].isspace():
        i += 1
    if i >= len(text):
        break
    o, i = dec.raw_decode(text, i)
    objs.append(o)
final = [o["object"] for o in objs if o["type"] != "DELETED"][-1]
s = final.get("status", {})
print(s.get("phase"), s.get("reason"), s.get("escaped"), bool(final["metadata"].get("deletionTimestamp")))
PY
)
	check "its last state before removal: killed, escaped, while being deleted" equals "$last" "Failed Cancelled True True"
	check "no residue after deletion" no_residue "$id"
}

test_restart() {
	execution crash "$cid" "$image" "$(long_sleep 1838)"
	local i
	for ((i = 0; i < 100; i++)); do pgrep -f "busybox sleep 1838$$\$" >/dev/null && break; sleep 0.1; done
	check "the command runs before the crash" pgrep -f "busybox sleep 1838$$\$" >/dev/null
	local id
	id=$(run_id crash)
	kill -9 "$caplet_pid"
	wait "$caplet_pid" 2>/dev/null || true
	start_caplet
	check "after kill -9 and restart: Failed, NodeAgentRestarted" wait_for crash '.status.reason' NodeAgentRestarted
	check "phase Failed" equals "$(field crash '.status.phase')" Failed
	check "escaped after the restart" equals "$(field crash '.status.escaped')" true
	check "no residue after the restart (process, mount, cgroup, run dir)" no_residue "$id"
	check "the finalizer is released" equals "$(field crash '.metadata.finalizers')" ""
}

test_concurrency() {
	kubectl apply -f - >/dev/null <<'YAML'
apiVersion: recap.dev/v1alpha1
kind: CapsulePolicy
metadata: {name: one-at-a-time}
spec:
  limits: {maxConcurrentPerNode: 1}
YAML
	sleep 0.5
	local n
	for n in c1 c2 c3; do execution "$n" "$cid" "$image" '[busybox, sleep, "1"]'; done
	for n in c1 c2 c3; do check "$n succeeds" wait_for "$n" '.status.phase' Succeeded; done
	local overlap
	overlap=$(for n in c1 c2 c3; do
		echo "$(field "$n" '.status.attachStartTime') $(field "$n" '.status.completionTime')"
	done | sort | python3 -c '
import sys
rows = [l.split() for l in sys.stdin if l.strip()]
print(sum(1 for a, b in zip(rows, rows[1:]) if b[0] < a[1]))')
	check "maxConcurrentPerNode 1: no two executions overlap" equals "$overlap" 0
	kubectl delete capsulepolicy one-at-a-time >/dev/null
}

test_graceful_stop() {
	execution term "$cid" "$image" "$(long_sleep 1737)"
	check "a command runs when caplet is asked to stop" wait_for term '.status.phase' Running
	local id rc=0
	id=$(run_id term)
	kill -TERM "$caplet_pid"
	wait "$caplet_pid" || rc=$?
	caplet_pid=""
	check "caplet exits cleanly on SIGTERM" equals "$rc" 0
	check "the running execution was cancelled" equals "$(field term '.status.reason')" Cancelled
	check "and escaped" equals "$(field term '.status.escaped')" true
	check "and its finalizer released" equals "$(field term '.metadata.finalizers')" ""
	check "no residue after the stop" no_residue "$id"
}

# SIGTERM while an execution's image is still being pulled: once the pull
# ends the agent does not start it (Cancelled, never Attaching), then exits.
test_stop_while_pulling() {
	coproc SLOW { exec python3 "$src/test/caplet/slow_registry.py" "$tmp/img" 3; }
	registry_pid=$SLOW_PID
	local port
	read -r port <&"${SLOW[0]}"
	start_caplet --insecure-registry "127.0.0.1:$port"
	execution slow "$cid" "127.0.0.1:$port/slow/busybox:v1" "$(long_sleep 1838)"
	check "the execution is pulling from the slow registry" wait_for slow '.status.phase' Pulling
	local rc=0 start=$SECONDS
	kill -TERM "$caplet_pid"
	wait "$caplet_pid" || rc=$?
	caplet_pid=""
	check "caplet exits cleanly on SIGTERM during a pull" equals "$rc" 0
	check "after the pull ended, within the stop's 30 s" test $((SECONDS - start)) -lt 30
	check "the pulled execution was not started: Cancelled" equals "$(field slow '.status.reason')" Cancelled
	check "with the stop as the reason" equals "$(field slow '.status.message')" \
		"the node agent stopped before it started"
	check "it never reached Attaching" equals "$(field slow '.status.attachStartTime')" ""
	check "its finalizer released" equals "$(field slow '.metadata.finalizers')" ""
	check "no residue" no_residue "$(run_id slow)"
	kill "$registry_pid"
	wait "$registry_pid" 2>/dev/null || true
	registry_pid=""
}

# Another writer claims an execution while this caplet pulls its image: its
# status becomes Attaching with another attachStartTime, as a second caplet
# for the node would write it. The claim is a compare-and-swap, so this
# caplet stands down: the command never runs, nothing more is written, and
# the execution is not swept as an orphan (NodeAgentRestarted). A second
# execution whose labels change meanwhile is still claimed and runs.
test_claim_lost() {
	coproc SLOW { exec python3 "$src/test/caplet/slow_registry.py" "$tmp/img" 2; }
	registry_pid=$SLOW_PID
	local port
	read -r port <&"${SLOW[0]}"
	start_caplet --insecure-registry "127.0.0.1:$port"
	local ref=127.0.0.1:$port/claim/busybox:v1 other=2026-01-01T00:00:00.000000Z
	execution taken "$cid" "$ref" '[busybox, touch, /out/ran]'
	execution relabelled "$cid" "$ref" '[busybox, touch, /out/ran]'
	check "the execution is pulling from the slow registry" wait_for taken '.status.phase' Pulling
	kubectl patch cexec taken --subresource=status --type=merge \
		-p "{\"status\": {\"phase\": \"Attaching\", \"attachStartTime\": \"$other\"}}" >/dev/null
	kubectl label cexec relabelled recap.dev/test-changed=yes >/dev/null
	local rv
	rv=$(field taken '.metadata.resourceVersion')
	check "an execution whose labels changed is still claimed and runs" \
		wait_for relabelled '.status.phase' Succeeded
	check "it ran once" test -e "$root/out/$(run_id relabelled)/ran"
	local i
	for ((i = 0; i < 100; i++)); do
		grep -q "execution default/taken: claimed by another writer" "$tmp/caplet.log" && break
		sleep 0.1
	done
	check "caplet stands down from the claimed execution" \
		grep -q "execution default/taken: claimed by another writer" "$tmp/caplet.log"
	sleep 2.5 # a tick of the agent: nothing comes later either
	check "the command never ran here" test ! -e "$root/out/$(run_id taken)"
	check "caplet wrote nothing more to it" equals "$(field taken '.metadata.resourceVersion')" "$rv"
	check "the other writer's claim stands" equals "$(field taken '.status.attachStartTime')" "$other"
	check "it was not swept as an orphan" equals "$(field taken '.status.reason')" ""
	check "no residue of the stood-down run" no_residue "$(run_id taken)"
	local rc=0
	kill -TERM "$caplet_pid"
	wait "$caplet_pid" || rc=$?
	caplet_pid=""
	check "caplet exits cleanly with the stood-down execution" equals "$rc" 0
	kubectl patch cexec taken --type=merge -p '{"metadata": {"finalizers": null}}' >/dev/null
	kubectl delete cexec taken --wait=false >/dev/null
	check "the claimed execution can go" gone taken
	kill "$registry_pid"
	wait "$registry_pid" 2>/dev/null || true
	registry_pid=""
}

# An oci:<dir> image names a path on the node. The CRDs refuse it; for
# defence in depth caplet and the executor it runs must too. The CRD is
# applied without that rule (a cluster whose CRDs predate caplet), and the
# "layout" is a FIFO: a pull that opened it would hang.
test_layout_refused() {
	mkdir -p "$tmp/trap"
	mkfifo "$tmp/trap/index.json" "$tmp/trap/oci-layout"
	python3 - "$src/crds/recap.dev_capsuleexecutions.yaml" >"$tmp/stale-crd.json" <<'PY'
import json, sys, yaml
crd = yaml.safe_load(open(sys.argv[1]))
image = (crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"]
         ["properties"]["capsule"]["properties"]["image"])
image["x-kubernetes-validations"] = [r for r in image["x-kubernetes-validations"]
                                     if "oci:" not in r["rule"]]
json.dump(crd, sys.stdout)
PY
	kubectl apply -f "$tmp/stale-crd.json" >/dev/null
	sleep 1 # the API server reads the new schema
	execution layout "$cid" "oci:$tmp/trap:v1" '[busybox, touch, /out/ran]'
	check "an oci: image is refused by caplet: InvalidSpec" wait_for layout '.status.reason' InvalidSpec
	check "the refusal says registry references only" contains "$(field layout '.status.message')" \
		"registry references only"
	check "it was never pulled" equals "$(field layout '.status.pullStartTime')" ""
	check "no executor opened the layout" not_contains "$(pgrep -af "oci:$tmp/trap" || true)" "oci:"
	kubectl apply -f "$src/crds/recap.dev_capsuleexecutions.yaml" >/dev/null
	local out rc=0
	out=$(timeout 20 "$capsule_bin" --root "$root" --registry-only pull "oci:$tmp/trap:v1" 2>&1) || rc=$?
	check "capsule --registry-only pull refuses oci: at once" equals "$rc" 1
	check "and says why" contains "$out" "only registry references are allowed here (--registry-only)"
	rc=0
	out=$(timeout 20 "$capsule_bin" --root "$root" --registry-only run --target "$cid" \
		--image "oci:$tmp/trap:v1" -- true 2>&1) || rc=$?
	check "capsule --registry-only run --image oci: is refused" equals "$rc" 125
	check "and says why" contains "$out" "(--registry-only)"
	rm -rf "$tmp/trap"
}

test_metrics() {
	local m
	m=$(curl -sf "http://127.0.0.1:$metrics_port/metrics")
	check "/metrics counts results" contains "$m" 'recap_caplet_executions_total{reason="Completed"}'
	check "/metrics has the duration histogram" contains "$m" 'recap_caplet_execution_duration_seconds_count'
	check "/healthz answers" equals "$(curl -sf "http://127.0.0.1:$metrics_port/healthz")" ok
}

# Every execution above went through the agent's state machine
# (docs/caplet.md, States and events): its changes are logged, and no event
# came that the table does not list for the state it came in.
test_machine_log() {
	local log
	log=$(cat "$tmp/caplet.log")
	check "state changes are logged" contains "$log" ": ATTACHING -> RUNNING (go)"
	check "recovery went through the table" contains "$log" ": LISTED -> RECOVERING (found-started)"
	check "no event came that the table refuses" not_contains "$log" "cannot happen in state"
}

# caplet speaks to the API server over its own HTTP/1.1-over-mbedTLS transport
# (docs/kube-client.md, Transports): neither libcurl nor OpenSSL's TLS is
# loaded in the running agent.
test_lean_transport() {
	local maps
	maps=$(cat "/proc/$caplet_pid/maps")
	check "caplet has mbedTLS mapped" contains "$maps" libmbedtls
	check "caplet has no libcurl mapped" not_contains "$maps" libcurl
	check "caplet has no libssl mapped" not_contains "$maps" libssl
	check "caplet has no libcrypto mapped" not_contains "$maps" /libcrypto.so
	# the artifacts' tar is caplet-tar's (docs/caplet.md, Memory)
	check "caplet has no libarchive mapped" not_contains "$maps" libarchive
	check "caplet has no libxml2 mapped" not_contains "$maps" libxml2
}

# With its relay on, caplet starts only when caplet-tar (which writes the
# artifacts' tar) is beside it, and says so.
test_tar_helper_required() {
	mkdir -p "$tmp/alone"
	cp "$caplet_bin" "$tmp/alone/caplet"
	local out rc=0
	out=$(timeout 20 "$tmp/alone/caplet" --node-name alone --relay-address 127.0.0.1:0 \
		--root "$tmp/alone/root" 2>&1) || rc=$?
	check "caplet without caplet-tar beside it refuses to start" test "$rc" -ne 0 -a "$rc" -ne 124
	check "... and names the missing helper" contains "$out" "$tmp/alone/caplet-tar: No such file or directory"
	rm -rf "$tmp/alone"
}

# The API limit's flags take a whole number in 1..100000; anything else
# stops caplet at once with the flag named (exit 2: a usage error).
test_api_limit_flags() {
	local flag v out rc
	for flag in --kube-api-qps --kube-api-burst; do
		for v in 0 -5 abc 100001 7x ""; do
			rc=0
			out=$(timeout 20 "$caplet_bin" --node-name n "$flag" "$v" 2>&1) || rc=$?
			check "caplet $flag '$v' is refused (exit 2)" equals "$rc" 2
			check "... and names the flag and the value" contains "$out" "bad $flag '$v'"
		done
	done
}

"$src/hack/cluster" up --dir "$tmp/cluster" >"$tmp/cluster-up.out" 2>&1 ||
	{ echo "hack/cluster up failed:" >&2; cat "$tmp/cluster-up.out" >&2; exit 1; }
# shellcheck disable=SC1091
. "$tmp/cluster/env"
kubectl apply -f "$src/crds/recap.dev_capsuleexecutions.yaml" -f "$src/crds/recap.dev_capsulepolicies.yaml" >/dev/null
"$src/hack/wait-crds" capsuleexecutions.recap.dev capsulepolicies.recap.dev
"$src/hack/node" up --dir "$tmp/node" --cluster "$tmp/cluster" --name "$node" >"$tmp/node-up.out" 2>&1 ||
	{ echo "hack/node up failed:" >&2; cat "$tmp/node-up.out" >&2; exit 1; }
# shellcheck disable=SC1091
. "$tmp/node/env"
make_image
cid=$(make_target target)
start_caplet

test_lean_transport
test_tar_helper_required
test_api_limit_flags
test_success
test_target_confirmed
test_policy
test_capabilities
test_target_missing
test_refusals
test_layout_refused
test_deadline
test_target_gone
test_delete_mid_run
test_restart
test_concurrency
test_metrics
test_graceful_stop
test_stop_while_pulling
test_claim_lost
test_cri_unreachable
test_machine_log

if ((failures)); then
	echo "$failures check(s) failed; caplet log:" >&2
	tail -50 "$tmp/caplet.log" >&2
	exit 1
fi
echo "all checks passed"
