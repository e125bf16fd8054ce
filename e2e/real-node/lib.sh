# shellcheck shell=bash
# The e2e scenarios on a real node (hack/node: kubelet + containerd + runc):
# control plane, node, a docker-registry on the node's bridge address (pods
# pull from it), the caplet and recap-controller images made by
# hack/build-images from the build tree of these binaries and imported, and
# the installation from config/ (caplet as the DaemonSet, the controller and
# recap-apiserver as Deployments, the APIService) with an overlay that only
# points the caplet at this test's store, cgroup parent, registry and the
# node's CRI socket, and has it advertise its relay at its pod's address
# (this node's CNI has no port mapping for the hostPort). kube-apiserver runs
# with --enable-aggregator-routing: there is no kube-proxy, so it dials a
# ready endpoint (a recap-apiserver pod's address on the bridge) of the
# unchanged ClusterIP Service (docs/development.md, "The local node").
# Everything is removed by rn_cleanup (the EXIT trap), also on failure.
# Extra hack/cluster options (an API server audit log, as for e2e/lib.sh):
# $E2E_CLUSTER_ARGS.
#   rn_up CAPLET CAPSULE CONTROLLER SOURCE_ROOT   (binaries of one build tree)
set -euo pipefail
# shellcheck source=hack/lib/errtrap.sh
. "$(dirname "${BASH_SOURCE[0]}")/../../hack/lib/errtrap.sh"

T=$(mktemp -d /tmp/recap-e2e-node.XXXXXX)
FAILS=0
REGISTRY_PID=""
[[ -v RN_CAPLET_ARGS ]] || RN_CAPLET_ARGS=()
export no_proxy=127.0.0.1,localhost NO_PROXY=127.0.0.1,localhost

rn_cleanup() {
	local rc=$?
	set +e
	# a second TERM (a timeout's, after the first) must not cut the cleanup short
	trap '' TERM INT
	[[ -z $REGISTRY_PID ]] || { kill "$REGISTRY_PID"; wait "$REGISTRY_PID"; } 2>/dev/null
	"$RN_SRC/hack/node" down --dir "$T/node" >"$T/node-down.log" 2>&1 || {
		echo "FAIL - hack/node down: $(cat "$T/node-down.log")" >&2
		rc=1
	}
	if [[ -n ${RN_CGP:-} ]]; then
		for d in /sys/fs/cgroup/*/"$RN_CGP" /sys/fs/cgroup/"$RN_CGP"; do
			[[ -d $d ]] && find "$d" -depth -type d -exec rmdir {} + 2>/dev/null
		done
	fi
	default_parents_remove
	"$RN_SRC/hack/cluster" down --dir "$T/cluster" >/dev/null 2>&1
	grep -o " $T[^ ]*" /proc/self/mountinfo | sort -r | xargs -r -n1 umount -l
	rm -rf "$T"
	exit "$rc"
}
trap rn_cleanup EXIT
trap 'exit 143' TERM INT

# shellcheck source=../checks.sh
. "$(dirname "${BASH_SOURCE[0]}")/../checks.sh"
default_parents_note
finish() {
	if ((FAILS)); then
		echo "$FAILS check(s) failed" >&2
		# what is there to show: one that cannot be read (a pod whose container
		# never started has no log) does not cut the others short
		kubectl get pods -A -o wide >&2 || true
		kubectl get cexec -A -o jsonpath='{range .items[*]}{.metadata.name}: {.status.phase} {.status.reason} {.status.message}{"\n"}{end}' >&2 || true
		kubectl logs -n recap-system -l app.kubernetes.io/component=caplet --tail=30 >&2 || true
		kubectl logs -n recap-system -l app.kubernetes.io/component=controller --tail=30 >&2 || true
		exit 1
	fi
	echo "all checks passed"
}

# registry_up: docker-registry on the node's bridge address, with a busybox
# capsule image (the one the node's workload image is made of).
registry_up() {
	local gw port
	gw=$(. "$T/node/run/state" && echo "$gateway")
	port=$(python3 -c 'import socket,sys; s=socket.socket(); s.bind((sys.argv[1],0)); print(s.getsockname()[1])' "$gw")
	mkdir -p "$T/registry"
	printf '%s\n' "version: 0.1" "log: {level: error, accesslog: {disabled: true}}" \
		"storage: {filesystem: {rootdirectory: $T/registry}}" "http: {addr: $gw:$port}" >"$T/registry.yml"
	docker-registry serve "$T/registry.yml" >"$T/registry.log" 2>&1 &
	REGISTRY_PID=$!
	REGISTRY=$gw:$port
	wait_until 20 curl -sf "http://$REGISTRY/v2/" || { echo "registry did not start" >&2; exit 1; }
	mkdir -p "$T/bb" && tar -C "$T/bb" -xf "$RECAP_NODE_BUSYBOX_ARCHIVE"
	skopeo copy -q --dest-tls-verify=false "oci:$T/bb" "docker://$REGISTRY/capsules/busybox:v1" >/dev/null
	IMAGE=$REGISTRY/capsules/busybox:v1
}

# deploy: config/default through an overlay: the caplet's store under $T,
# the test registry, hack/node's containerd as the CRI (its socket's
# directory where config/ mounts /run/containerd), the relay advertised at
# the caplet pod's address instead of a hostPort (docs/install.md: the CNI
# here has no portmap plugin) and RN_CAPLET_ARGS (more caplet flags, one an
# element), if any.
deploy() {
	local cri_dir=${RECAP_NODE_CONTAINERD%/*} cri_sock=${RECAP_NODE_CONTAINERD##*/}
	mkdir -p "$T/overlay"
	cp -r "$RN_SRC/config" "$RN_SRC/crds" "$T/overlay/"
	cat >"$T/overlay/kustomization.yaml" <<EOF
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
  - config/default
patches:
  - target: {kind: DaemonSet, name: recap-caplet}
    patch: |-
      - op: add
        path: /spec/template/spec/containers/0/args/-
        value: --insecure-registry=$REGISTRY
      - op: add
        path: /spec/template/spec/containers/0/args/-
        value: --cri-endpoint=/run/containerd/$cri_sock
      - op: replace
        path: /spec/template/spec/volumes/0/hostPath/path
        value: $T/store
      - op: test
        path: /spec/template/spec/volumes/3/name
        value: cri
      - op: replace
        path: /spec/template/spec/volumes/3/hostPath/path
        value: $cri_dir
      - op: test
        path: /spec/template/spec/containers/0/env/1/name
        value: NODE_IP
      - op: replace
        path: /spec/template/spec/containers/0/env/1/valueFrom/fieldRef/fieldPath
        value: status.podIP
      - op: test
        path: /spec/template/spec/containers/0/ports/1/hostPort
        value: 10350
      - op: remove
        path: /spec/template/spec/containers/0/ports/1/hostPort
EOF
	local a
	for a in "${RN_CAPLET_ARGS[@]}"; do
		printf '      - op: add\n        path: /spec/template/spec/containers/0/args/-\n        value: "%s"\n' "$a"
	done >>"$T/overlay/kustomization.yaml"
	kubectl apply -k "$T/overlay" >"$T/apply.log" 2>&1 || { cat "$T/apply.log" >&2; return 1; }
	"$RN_SRC/hack/wait-crds" --all
}

caplet_ready() {
	[[ $(kubectl get ds -n recap-system recap-caplet -o jsonpath='{.status.numberReady}') == 1 ]]
}
controller_ready() {
	[[ $(kubectl get deploy -n recap-system recap-controller -o jsonpath='{.status.readyReplicas}') == 2 ]]
}
apiserver_ready() {
	[[ $(kubectl get deploy -n recap-system recap-apiserver -o jsonpath='{.status.readyReplicas}') == 2 ]]
}
# The aggregation layer reaches recap-apiserver: until then every kubectl
# that discovers resources warns about subresources.recap.dev on stderr.
apiservice_available() {
	[[ $(kubectl get apiservice v1alpha1.subresources.recap.dev \
		-o jsonpath='{.status.conditions[?(@.type=="Available")].status}') == True ]]
}

rn_up() {
	local caplet b
	caplet=$(realpath "$1")
	RN_SRC=$4
	for b in "$(realpath "$2")" "$(realpath "$3")"; do
		[[ $b == "${caplet%/cmd/caplet/caplet}"/* ]] || { echo "$b: not in the build tree of $caplet" >&2; exit 2; }
	done
	if ((EUID != 0)); then
		echo "SKIP: needs root (a real node: containerd, cgroups, a bridge)"
		exit 77
	fi
	# no kube-proxy on this node: the aggregator dials an endpoint of the
	# APIService's Service, a pod address on the bridge, which this host reaches
	# shellcheck disable=SC2086 # the extra options are words
	"$RN_SRC/hack/cluster" up --dir "$T/cluster" --apiserver-arg --enable-aggregator-routing=true \
		${E2E_CLUSTER_ARGS:-} >"$T/cluster-up.log" 2>&1 ||
		{ cat "$T/cluster-up.log" >&2; exit 1; }
	# shellcheck disable=SC1091
	. "$T/cluster/env"
	"$RN_SRC/hack/node" up --dir "$T/node" --cluster "$T/cluster" --name real-node >"$T/node-up.log" 2>&1 ||
		{ cat "$T/node-up.log" >&2; exit 1; }
	# shellcheck disable=SC1091
	. "$T/node/env"
	# caplet in its pod puts runs below the kubelet's kubepods (docs/caplet.md)
	RN_CGP=$RECAP_NODE_CGROUP_ROOT/kubepods/recap
	# The images of config/ from this build's binaries (docs/images.md).
	"$RN_SRC/hack/build-images" --out "$T/images" --only caplet,recap-controller,recap-apiserver \
		--binaries-from "${caplet%/cmd/caplet/caplet}" >"$T/build-images.log" 2>&1 ||
		{ cat "$T/build-images.log" >&2; exit 1; }
	"$RN_SRC/hack/node" import --dir "$T/node" "$T/images/caplet.tar" "$T/images/recap-controller.tar" \
		"$T/images/recap-apiserver.tar"
	registry_up
	deploy || exit 1
	wait_until 90 caplet_ready || { echo "the caplet DaemonSet is not ready" >&2; FAILS=1; finish; }
	wait_until 90 controller_ready || { echo "the controller Deployment is not ready" >&2; FAILS=1; finish; }
	wait_until 90 apiserver_ready || { echo "the recap-apiserver Deployment is not ready" >&2; FAILS=1; finish; }
	wait_until 60 apiservice_available ||
		{ echo "the APIService v1alpha1.subresources.recap.dev is not Available" >&2; FAILS=1; finish; }
}

# No run dir, mount or cgroup of any execution is left on the node.
node_clean() {
	local left=""
	# no runs/ yet (ls fails), a cgroup going while find walks (find fails):
	# what they list is what counts
	left+=$(ls "$T/store/runs" 2>/dev/null || true)
	left+=$(find /sys/fs/cgroup -maxdepth 6 -mindepth 2 -type d -path "*/$RN_CGP/*" 2>/dev/null || true)
	left+=$(grep -F "$T/store/" /proc/self/mountinfo || true)
	[[ -z $left ]] || { echo "  left behind: $left" >&2; return 1; }
}
