#!/usr/bin/env bash
# hack/node: a real kubelet + containerd + runc node joins a hack/cluster
# control plane, runs a pod to Running with a pod IP from its bridge (the pod
# reaches the apiserver at the kubernetes Service, kubectl exec and logs go
# through the kubelet), and `down` leaves nothing: no process, mount, cgroup,
# link, network namespace, iptables rule, host directory entry or changed
# kernel setting. Bad input is refused with a message naming the problem.
# A runtime-only node (containerd and its bridge, no kubelet) runs a sandbox
# through its CRI with crictl, adds no iptables rule, and its `down`, with
# the sandbox still running, leaves nothing either.
set -euo pipefail
# shellcheck source=hack/lib/errtrap.sh
. "$(dirname "${BASH_SOURCE[0]}")/../../hack/lib/errtrap.sh"
src=${RECAP_SRC:?RECAP_SRC must name the source tree}
if ((EUID != 0)); then
	echo "SKIP: needs root (containerd, cgroups, a bridge)" >&2
	exit 77
fi
# --fresh-netns: all of it in a new network namespace, which has only `lo` and
# no iptables table: a fresh machine's network, whatever this host has had.
if [[ ${1:-} == --fresh-netns ]]; then
	exec unshare --net -- bash -c 'ip link set lo up && exec bash "$1"' fresh-netns "${BASH_SOURCE[0]}"
fi
RECAP_KUBE_BIN=${RECAP_KUBE_BIN:-$("$src/hack/build-kube")}
export RECAP_KUBE_BIN no_proxy=127.0.0.1,localhost NO_PROXY=127.0.0.1,localhost
kubectl=$RECAP_KUBE_BIN/kubectl
T=$(mktemp -d /tmp/recap-test-node.XXXXXX)
C=$T/cluster N=$T/node R=$T/runtime

cleanup() {
	local rc=$?
	"$src/hack/node" down --dir "$N" >/dev/null 2>&1 || rc=1
	"$src/hack/node" down --dir "$R" >/dev/null 2>&1 || rc=1
	"$src/hack/cluster" down --dir "$C" >/dev/null 2>&1 || rc=1
	rm -rf "$T"
	exit "$rc"
}
trap cleanup EXIT
fail() {
	echo "FAIL: $*" >&2
	exit 1
}
ok() { echo "ok: $*"; }
kc() { "$kubectl" --kubeconfig "$C/kubeconfig" "$@"; }

# must_refuse WHAT MESSAGE_PART COMMAND...: COMMAND fails naming the problem.
must_refuse() {
	local what=$1 msg=$2 out
	shift 2
	if out=$("$@" 2>&1); then fail "$what: accepted"; fi
	grep -qF -- "$msg" <<<"$out" || fail "$what: message '$out' does not say '$msg'"
	ok "refused: $what"
}

"$src/hack/cluster" up --dir "$C" --bin "$RECAP_KUBE_BIN" >/dev/null 2>&1 || fail "cluster up"

must_refuse "no --cluster" "--cluster CLUSTER_DIR is required" "$src/hack/node" up --dir "$N"
must_refuse "not a cluster" "no hack/cluster control plane" "$src/hack/node" up --dir "$N" --cluster "$T"
mkdir -p "$T/full" && touch "$T/full/x"
must_refuse "non-empty dir" "not empty" "$src/hack/node" up --dir "$T/full" --cluster "$C"
must_refuse "bad node name" "--name: not a DNS label" "$src/hack/node" up --dir "$N" --cluster "$C" --name Bad_Name
must_refuse "down of a foreign dir" "not a node directory" "$src/hack/node" down --dir "$T/full"
[[ -f $T/full/x ]] || fail "down deleted a directory that is no node's"
must_refuse "unknown command" "unknown command" "$src/hack/node" sideways --dir "$N"
must_refuse "--runtime-only with --cluster" "--runtime-only joins no cluster" \
	"$src/hack/node" up --dir "$R" --runtime-only --cluster "$C"
must_refuse "--runtime-only on down" "--runtime-only is an option of up" \
	"$src/hack/node" down --dir "$R" --runtime-only

# What the host looks like without the node.
cgroups() { find /sys/fs/cgroup -maxdepth 3 -type d -name 'recap-node-*' -o -maxdepth 3 -type d -name kubepods; }
snapshot() {
	(
		set +e +o pipefail
		echo "## mounts"
		awk '{ print $5 }' /proc/self/mountinfo | grep -v "^/tmp/recap-" | sort
		echo "## cgroups"
		cgroups | sort
		echo "## links"
		ip -o link show | awk -F': ' '{ print $2 }' | grep -E '^(rn-|veth)' | sort
		echo "## netns"
		ls /var/run/netns 2>/dev/null
		echo "## iptables"
		iptables-save | grep -E '^[*:]|^-A' | sed 's/ \[[0-9:]*\]$//' | sort
		echo "## sysctl"
		sysctl -n kernel.panic kernel.panic_on_oops vm.overcommit_memory vm.panic_on_oom net.ipv4.ip_forward
		echo "## host dirs"
		ls -d /run/containerd /var/lib/cni /var/log/containers /var/lib/kubelet /run/recap-node.made 2>/dev/null
		ls /run/containerd/s /var/lib/cni/results /var/log/containers /var/lib/kubelet/device-plugins 2>/dev/null
		true
	)
}
snapshot >"$T/before"
sysctl -n kernel.panic kernel.panic_on_oops vm.overcommit_memory vm.panic_on_oom >"$T/sysctl.before"

# An up that fails half way removes what it made, whatever the machine's
# speed: with the API server stopped the kubelet can never register, so the
# wait for its Node ends by the timeout, after containerd, the scheduler and
# the kubelet were started and the images imported.
"$src/hack/cluster" stop-apiserver --dir "$C" >/dev/null || fail "cluster stop-apiserver"
if "$src/hack/node" up --dir "$T/failed" --cluster "$C" --name node-f --timeout 5 2>"$T/failed.err"; then
	fail "up with the API server stopped succeeded"
fi
"$src/hack/cluster" start-apiserver --dir "$C" >/dev/null || fail "cluster start-apiserver"
grep -q "timed out after 5s waiting for Node node-f Ready" "$T/failed.err" ||
	fail "failed up says: $(cat "$T/failed.err")"
grep -q "up failed; removing what was made" "$T/failed.err" || fail "failed up did not clean up: $(cat "$T/failed.err")"
[[ ! -e $T/failed ]] || fail "a failed up left $T/failed"
left=$(pgrep -af -- "$T/failed/" || true)
[[ -z $left ]] || fail "a failed up left processes running: $left"
snapshot >"$T/after-failed"
diff -u "$T/before" "$T/after-failed" >&2 || fail "the host differs after a failed up (above)"
ok "a failed up leaves nothing"

"$src/hack/node" up --dir "$N" --cluster "$C" --name node-a 2>"$T/up.err" || { cat "$T/up.err" >&2; fail "node up"; }
ok "node up: $(tail -1 "$T/up.err")"
# shellcheck disable=SC1091
. "$N/env"
[[ $(kc get node node-a -o 'jsonpath={.status.conditions[?(@.type=="Ready")].status}') == True ]] ||
	fail "node-a is not Ready"
[[ $(kc get node node-a -o 'jsonpath={.status.nodeInfo.containerRuntimeVersion}') == containerd://* ]] ||
	fail "node-a runs no containerd"
ok "Node node-a Ready on containerd"

kc apply -f - >/dev/null <<EOF
apiVersion: v1
kind: Pod
metadata: {name: bb, namespace: default}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: bb
    image: $RECAP_NODE_BUSYBOX_IMAGE
    imagePullPolicy: Never
    command: [sh, -c, "wget -qO- --no-check-certificate https://\$KUBERNETES_SERVICE_HOST:\$KUBERNETES_SERVICE_PORT/version; echo; echo started; exec sleep 3600"]
EOF
kc wait --for=condition=Ready pod/bb --timeout=60s >/dev/null || {
	kc describe pod bb >&2
	fail "pod bb not Ready"
}
ip=$(kc get pod bb -o 'jsonpath={.status.podIP}')
subnet=$(. "$N/run/state" && echo "$subnet")
[[ $ip == "${subnet%.0/24}".* ]] || fail "pod IP '$ip' not in the node's subnet $subnet"
ok "pod Running with IP $ip"
# the logs read whole, then matched: `kc logs | grep -q` fails under pipefail
# when grep has its match and leaves before kubectl wrote the rest (SIGPIPE)
logs=
for _ in $(seq 50); do
	logs=$(kc logs bb 2>/dev/null) || true
	[[ $logs == *started* ]] && break
	sleep 0.2
done
[[ $logs == *'"gitVersion": "v1.34.4"'* ]] || fail "the pod did not reach the apiserver: $logs"
ok "the pod reaches the apiserver at the kubernetes Service"
[[ $(kc exec bb -- cat /proc/1/cmdline | tr '\0' ' ') == "sleep 3600 " ]] || fail "kubectl exec: wrong process 1"
ok "kubectl exec through the kubelet"
cid=$(kc get pod bb -o 'jsonpath={.status.containerStatuses[0].containerID}')
cid=${cid#containerd://}
grep -h "$cid" /proc/[0-9]*/cgroup >"$T/cgroups" 2>/dev/null || true
grep -q ":/$RECAP_NODE_CGROUP_ROOT/kubepods/.*/$cid\$" "$T/cgroups" ||
	fail "container $cid is not under /$RECAP_NODE_CGROUP_ROOT/kubepods"
ok "the container's cgroup carries its id under the node's cgroup root"
sysctl -n kernel.panic kernel.panic_on_oops vm.overcommit_memory vm.panic_on_oom >"$T/sysctl.during"
diff "$T/sysctl.before" "$T/sysctl.during" >&2 || fail "kernel settings changed while the node runs (above)"
ok "kernel settings untouched while the kubelet runs"

# down with the pod still running: nothing may be left.
"$src/hack/node" down --dir "$N" 2>"$T/down.err" || { cat "$T/down.err" >&2; fail "node down"; }
[[ ! -e $N ]] || fail "$N still exists"
snapshot >"$T/after"
diff -u "$T/before" "$T/after" >&2 || fail "the host differs after down (above)"
pgrep -f -- "$N/" && fail "processes of the node left"
grep -F "$T/" /proc/self/mountinfo && fail "mounts of the node left"
ok "down left nothing: $(tail -1 "$T/down.err")"
"$src/hack/node" down --dir "$N" || fail "second down"
ok "down is idempotent"

# The runtime alone: a sandbox and a container through the CRI, as the e2e
# node stand-in makes them, and a down with both running.
"$src/hack/node" up --dir "$R" --runtime-only 2>"$T/rt-up.err" || { cat "$T/rt-up.err" >&2; fail "runtime-only up"; }
ok "runtime-only up: $(tail -1 "$T/rt-up.err")"
# shellcheck disable=SC1091
. "$R/env"
printf 'runtime-endpoint: unix://%s\nimage-endpoint: unix://%s\ntimeout: 30\n' \
	"$RECAP_NODE_CONTAINERD" "$RECAP_NODE_CONTAINERD" >"$T/crictl.yaml"
crictl() { "$RECAP_KUBE_BIN/crictl" --config "$T/crictl.yaml" "$@"; }
labels='"io.kubernetes.pod.name": "p", "io.kubernetes.pod.namespace": "ns", "io.kubernetes.pod.uid": "u1"'
printf '%s\n' '{"metadata": {"name": "p", "namespace": "ns", "uid": "u1"}, "hostname": "p",' \
	"\"labels\": {$labels}, \"linux\": {\"cgroup_parent\": \"/$RECAP_NODE_CGROUP_ROOT/podu1\"}}" >"$T/pod.json"
printf '%s\n' "{\"metadata\": {\"name\": \"c\"}, \"image\": {\"image\": \"$RECAP_NODE_BUSYBOX_IMAGE\"}," \
	"\"command\": [\"sleep\", \"3600\"], \"labels\": {$labels, \"io.kubernetes.container.name\": \"c\"}}" >"$T/ctr.json"
sandbox=$(crictl runp "$T/pod.json") || fail "crictl runp"
ctr=$(crictl create --no-pull "$sandbox" "$T/ctr.json" "$T/pod.json") || fail "crictl create"
crictl start "$ctr" >/dev/null || fail "crictl start"
ip=$(crictl inspectp "$sandbox" | jq -r .status.network.ip)
# shellcheck disable=SC1091,SC2154 # the state file sets subnet and id
read -r subnet rt_id < <(. "$R/run/state" && echo "$subnet $id")
[[ $ip == "${subnet%.0/24}".* ]] || fail "sandbox IP '$ip' not in the runtime's subnet $subnet"
state=$(crictl inspect "$ctr" | jq -r '.status.labels["io.kubernetes.pod.uid"] + " " + .status.state')
[[ $state == "u1 CONTAINER_RUNNING" ]] || fail "the container is not running with its labels: $state"
grep -q ":/$RECAP_NODE_CGROUP_ROOT/podu1/$ctr\$" "/proc/$(crictl inspect "$ctr" | jq .info.pid)/cgroup" ||
	fail "container $ctr is not in /$RECAP_NODE_CGROUP_ROOT/podu1/$ctr"
ok "a sandbox ($ip) and a container through the CRI, in the runtime's cgroup root"
! iptables-save | grep -q "recap-node-$rt_id" || fail "a runtime-only node added iptables rules"
ok "no iptables rule"
"$src/hack/node" down --dir "$R" 2>"$T/rt-down.err" || { cat "$T/rt-down.err" >&2; fail "runtime-only down"; }
snapshot >"$T/after-runtime"
diff -u "$T/before" "$T/after-runtime" >&2 || fail "the host differs after a runtime-only down (above)"
pgrep -f -- "$R/" && fail "processes of the runtime left"
ok "runtime-only down left nothing: $(tail -1 "$T/rt-down.err")"
