#!/usr/bin/env bash
# e2e: `kubectl capsule attach` end to end on a real node (hack/node: kubelet,
# containerd, runc). A caplet pod (an image holding the capsule executor,
# labelled as the DaemonSet's pods are) runs on the node beside a tool-less
# target pod; the plugin finds it and hands over to the real `kubectl exec`,
# which streams through the API server and the kubelet into `capsule attach`
# there: the command sees the target's processes and hostname, its exit
# status comes back, the TTY form works, and no run is left on the node.
#   plugin-attach.sh CAPSULE KUBECTL_CAPSULE SOURCE_ROOT
set -euo pipefail
# shellcheck source=hack/lib/errtrap.sh
. "$(dirname "${BASH_SOURCE[0]}")/../hack/lib/errtrap.sh"
CAPSULE_BIN=$(realpath "$1") PLUGIN=$(realpath "$2") src=$3
if ((EUID != 0)); then
	echo "SKIP: needs root (containerd, cgroups, a bridge)"
	exit 77
fi
RECAP_KUBE_BIN=${RECAP_KUBE_BIN:-$("$src/hack/build-kube")}
export RECAP_KUBE_BIN no_proxy=127.0.0.1,localhost NO_PROXY=127.0.0.1,localhost
T=$(mktemp -d /tmp/recap-e2e-attach.XXXXXX)
C=$T/cluster N=$T/node
FAILS=0
cleanup() {
	set +e
	"$src/hack/node" down --dir "$N" >/dev/null 2>&1
	"$src/hack/cluster" down --dir "$C" >/dev/null 2>&1
	grep -o " ${T}[^ ]*" /proc/self/mountinfo | sort -r | xargs -r -n1 umount -l
	rm -rf "$T"
	default_parents_remove
}
trap cleanup EXIT
trap 'exit 143' TERM INT
# shellcheck source=checks.sh
. "$(dirname "$0")/checks.sh"
default_parents_note
die() {
	echo "FAIL - $*" >&2
	exit 1
}

# The caplet pod's image: the capsule executor with the libraries it links,
# busybox for sleep. Built from this tree's binary, imported into the node.
caplet_image() {
	local root=$T/caplet-rootfs lib a
	mkdir -p "$root/usr/local/bin" "$root/bin" "$root/var/lib/recap" "$root/tmp"
	# The executor and its helpers beside it (capsule-pull: fetching images).
	local bins=("$CAPSULE_BIN") b
	mapfile -t -O 1 bins < <(find "${CAPSULE_BIN%/*}" -maxdepth 1 -type f -executable -name 'capsule-*')
	for b in "${bins[@]}"; do
		cp "$b" "$root/usr/local/bin/${b##*/}"
		for lib in $(ldd "$b" | awk '$2 == "=>" && $3 ~ /^\// {print $3} $1 ~ /^\// {print $1}'); do
			cp --parents -L "$lib" "$root"
		done
	done
	cp "$(command -v busybox)" "$root/bin/busybox"
	for a in sh sleep; do ln -s busybox "$root/bin/$a"; done
	(cd "$T" && umoci init --layout caplet && umoci new --image caplet:1 &&
		umoci insert --image caplet:1 caplet-rootfs / &&
		umoci config --image caplet:1 --config.env PATH=/usr/local/bin:/bin &&
		umoci gc --layout caplet) >/dev/null
	skopeo copy -q "oci:$T/caplet:1" "docker-archive:$T/caplet.tar:recap.local/caplet-test:1" >/dev/null
	"$src/hack/node" import --dir "$N" "$T/caplet.tar"
}

# The capsule attached: busybox in an OCI layout on the node, read by
# `capsule attach` through a hostPath (an air-gapped node's oci: reference).
capsule_image() {
	local a
	mkdir -p "$T/layer/bin" "$T/images"
	cp "$(command -v busybox)" "$T/layer/bin/busybox"
	for a in $(busybox --list); do [[ $a == busybox ]] || ln -s busybox "$T/layer/bin/$a"; done
	(cd "$T/images" && umoci init --layout bb && umoci new --image bb:1 &&
		umoci insert --image bb:1 "$T/layer/bin" /bin && umoci config --image bb:1 --config.env PATH=/bin &&
		umoci gc --layout bb) >/dev/null
}

"$src/hack/cluster" up --dir "$C" --bin "$RECAP_KUBE_BIN" >"$T/up.out" 2>&1 || {
	cat "$T/up.out" >&2
	die "cluster up"
}
"$src/hack/node" up --dir "$N" --cluster "$C" --name node-a 2>"$T/up.err" || {
	cat "$T/up.err" >&2
	die "node up"
}
# shellcheck disable=SC1091
. "$C/env"
# shellcheck disable=SC1091
. "$N/env"
caplet_image || die "caplet image"
capsule_image || die "capsule image"
mkdir -p "$T/bin"
ln -s "$PLUGIN" "$T/bin/kubectl-capsule"
export PATH=$T/bin:$PATH

ns_create recap-system
ns_create shop
# The caplet pod is the DaemonSet's pod template (config/node: labels, host
# PIDs, capabilities, seccomp and AppArmor, cgroup and store mounts) with this
# test's image, a sleep instead of the agent (attach needs only the executor)
# and the store and the capsule image under $T.
caplet_pod() {
	python3 - "$src/config/node/daemonset.yaml" "$RECAP_NODE_NAME" "$T" <<'PY'
import json, sys, yaml
ds = yaml.safe_load(open(sys.argv[1]))
node, tmp = sys.argv[2], sys.argv[3]
spec = ds["spec"]["template"]["spec"]
for k in ("serviceAccountName", "priorityClassName"):
    spec.pop(k)  # the RBAC and priority class of a full install are not needed here
spec["nodeName"] = node
spec["terminationGracePeriodSeconds"] = 1
c = spec["containers"][0]
assert c["name"] == "caplet"
for k in ("args", "livenessProbe", "readinessProbe", "ports"):
    c.pop(k, None)
c.update(image="recap.local/caplet-test:1", imagePullPolicy="Never", command=["sleep", "3600"])
c["volumeMounts"].append({"name": "images", "mountPath": "/images", "readOnly": True})
for v in spec["volumes"]:
    if v["name"] == "store":
        v["hostPath"]["path"] = tmp + "/store"
spec["volumes"].append({"name": "images", "hostPath": {"path": tmp + "/images", "type": "Directory"}})
pod = {"apiVersion": "v1", "kind": "Pod", "spec": spec,
       "metadata": {"name": "recap-caplet-test", "namespace": "recap-system",
                    "labels": ds["spec"]["template"]["metadata"]["labels"]}}
print(json.dumps(pod))
PY
}
caplet_pod | kubectl apply -f - >/dev/null
kubectl apply -f - >/dev/null <<YAML
apiVersion: v1
kind: Pod
metadata: {name: app, namespace: shop}
spec:
  nodeName: $RECAP_NODE_NAME
  terminationGracePeriodSeconds: 1
  containers:
  - {name: app, image: $RECAP_NODE_PAUSE_IMAGE, imagePullPolicy: Never}
YAML
kubectl wait --for=condition=Ready -n recap-system pod/recap-caplet-test --timeout=60s >/dev/null ||
	die "the caplet pod is not Ready: $(kubectl describe pod -n recap-system recap-caplet-test)"
kubectl wait --for=condition=Ready -n shop pod/app --timeout=60s >/dev/null || die "pod app is not Ready"
pass "a caplet pod and a tool-less target pod run on the real node"

attach() { # ARGS...: output in $T/out (stdin: nothing), status in RC
	RC=0
	kubectl capsule attach -n shop app --image oci:/images/bb:1 "$@" </dev/null >"$T/out" 2>"$T/err" || RC=$?
	tr -d '\r' <"$T/out" >"$T/out.txt"
}
# shellcheck disable=SC2016 # expanded in the target
attach -- sh -c 'echo "host=$(hostname)"; echo "pid1=$(cat /proc/1/cmdline)"; ls -1 /target'
check "attach: exit status 0" test "$RC" = 0
check "attach: the command ran in the target's UTS and PID namespaces" \
	grep -qx "host=app" "$T/out.txt"
check "attach: process 1 is the target's (/pause)" \
	grep -q "pid1=/pause" "$T/out.txt"
check "attach: the target's root is at /target" grep -qx "pause" "$T/out.txt"
attach -- sh -c 'exit 7'
check "attach: the command's exit status comes back through kubectl exec" test "$RC" = 7
# On a terminal the plugin asks for kubectl exec -it: the terminal's size
# reaches the command's own terminal through the API server and the kubelet.
# kubectl sends the size on its resize stream after the exec has started, so
# the exec'd `capsule attach` may begin with no size yet: the command waits
# (up to 5 s) for one, and it must be the caller's.
# shellcheck disable=SC2016 # expanded in the capsule
wait_size='i=0; while [ $i -lt 50 ]; do s=$(stty size 2>/dev/null); [ -n "$s" ] && [ "$s" != "0 0" ] && break; i=$((i+1)); sleep 0.1; done; echo "size=$s"'
script -qec "stty cols 123 rows 45; kubectl capsule attach -n shop app --image oci:/images/bb:1 -- sh -c '$wait_size'" \
	/dev/null >"$T/tty.out" </dev/null
tty_ok() { grep -qa "size=45 123" "$T/tty.out" || { cat -A "$T/tty.out" >&2; return 1; }; }
check "attach on a terminal: kubectl exec -it carries the terminal (its size) to the command" tty_ok
left() { kubectl exec -n recap-system recap-caplet-test -c caplet -- capsule ps; }
no_runs() {
	local ps rows
	# capsule ps failing is no answer, not "no run" (its empty output counted 0 lines)
	ps=$(left) || { echo "  capsule ps in the caplet pod failed" >&2; return 1; }
	[[ -z $(ls "$T/store/runs" 2>/dev/null) ]] || { echo "  in the store: $(ls "$T/store/runs")" >&2; return 1; }
	rows=$(grep -v '^ID' <<<"$ps" || true)
	[[ -z $rows ]] || { echo "  capsule ps: $ps" >&2; return 1; }
}
check "no run of any attach is left on the node (store, capsule ps)" no_runs

if ((FAILS)); then
	echo "$FAILS check(s) failed" >&2
	cat "$T/err" >&2
	exit 1
fi
echo "all checks passed"
