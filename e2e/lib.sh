# Shared by the e2e scenarios (sourced): a control plane with the CRDs, a
# docker-registry with a busybox capsule image, a containerd (hack/node up
# --runtime-only: its CRI, a CNI bridge of its own, a cgroup root) that runs
# the pods, the node stand-in that plays the kubelet through that CRI, the
# controller and one caplet per simulated node, each given the same CRI
# socket. Everything lives under $T (what cannot, the bridge and the cgroup
# root, is named after it) and is stopped and removed by e2e_cleanup (the
# EXIT trap), also on failure.
#   e2e_up CAPLET CAPSULE CONTROLLER SLEEPER SOURCE_ROOT NODE...
# Extra hack/cluster options (e.g. an API server audit log to trace where a
# run's time goes, bench/README.md): $E2E_CLUSTER_ARGS.
set -euo pipefail
# shellcheck source=hack/lib/errtrap.sh
. "$(dirname "${BASH_SOURCE[0]}")/../hack/lib/errtrap.sh"

T=$(mktemp -d /tmp/recap-e2e.XXXXXX)
PIDS=()
NODES=()
FAILS=0
CGP=recap-e2e-$$
RUNTIME_PID=

e2e_cleanup() {
	set +e
	# a second TERM (a timeout's, after the first) must not cut the cleanup short
	trap '' TERM INT
	local p
	# caplets and the controller first (they cancel and escape), then the stand-in
	for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; done
	for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
	local n
	for n in "${NODES[@]}"; do
		"$E2E_CAPSULE" --root "$T/node-$n" --cgroup-parent "$CGP-$n" sweep --force >/dev/null 2>&1
		for d in /sys/fs/cgroup/*/"$CGP-$n" /sys/fs/cgroup/"$CGP-$n"; do [[ -d $d ]] && rmdir "$d"; done
	done
	# every sandbox left, containerd and its shims, mounts, cgroups, the
	# bridge; a start still under way (e2e_up failed meanwhile) ends first
	[[ -n $RUNTIME_PID ]] && wait "$RUNTIME_PID" 2>/dev/null
	# (beside the control plane's, which nothing of it needs)
	"$E2E_SRC/hack/node" down --dir "$T/cri" >"$T/cri-down.out" 2>&1 &
	local runtime_down=$!
	"$E2E_SRC/hack/cluster" down --dir "$T/cluster" >/dev/null 2>&1
	wait "$runtime_down" || { echo "hack/node down failed:" >&2; cat "$T/cri-down.out" >&2; }
	grep -o " $T[^ ]*" /proc/self/mountinfo | sort -r | xargs -r -n1 umount -l
	rm -rf "$T"
}
trap e2e_cleanup EXIT
trap 'exit 143' TERM INT

# shellcheck source=checks.sh
. "$(dirname "${BASH_SOURCE[0]}")/checks.sh"
# shellcheck source=../hack/lib/node-images.sh
. "$(dirname "${BASH_SOURCE[0]}")/../hack/lib/node-images.sh"
finish() {
	if ((FAILS)); then
		echo "$FAILS check(s) failed; logs:" >&2
		tail -n 20 "$T"/*.log >&2
		# E2E_KEEP_LOGS=DIR keeps every component's whole log for a post-mortem
		if [[ -n ${E2E_KEEP_LOGS:-} ]]; then
			mkdir -p "$E2E_KEEP_LOGS" && cp "$T"/*.log "$E2E_KEEP_LOGS"/ &&
				echo "logs kept in $E2E_KEEP_LOGS" >&2
		fi
		exit 1
	fi
	echo "all checks passed"
}

free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}


registry_up() {
	local port
	port=$(free_port)
	mkdir -p "$T/registry"
	printf '%s\n' "version: 0.1" "log: {level: error, accesslog: {disabled: true}}" \
		"storage: {filesystem: {rootdirectory: $T/registry}}" "http: {addr: 127.0.0.1:$port}" \
		>"$T/registry.yml"
	docker-registry serve "$T/registry.yml" >"$T/registry.log" 2>&1 &
	PIDS+=($!)
	REGISTRY=127.0.0.1:$port
	wait_until 20 curl -sf "http://$REGISTRY/v2/"
	mkdir -p "$T/layer/bin"
	cp "$(command -v busybox)" "$T/layer/bin/busybox"
	local a
	for a in $(busybox --list); do [[ $a == busybox ]] || ln -s busybox "$T/layer/bin/$a"; done
	(cd "$T" && umoci init --layout img && umoci new --image img:v1 &&
		umoci insert --image img:v1 layer/bin /bin &&
		umoci config --image img:v1 --config.env PATH=/bin && umoci gc --layout img) >/dev/null
	skopeo copy -q --dest-tls-verify=false "oci:$T/img:v1" "docker://$REGISTRY/capsules/busybox:v1" >/dev/null
	IMAGE=$REGISTRY/capsules/busybox:v1
}

e2e_up() {
	E2E_CAPLET=$1 E2E_CAPSULE=$2 E2E_CONTROLLER=$3 E2E_SLEEPER=$4 E2E_SRC=$5
	shift 5
	NODES=("$@")
	if ((EUID != 0)); then
		echo "SKIP: needs root (runc, namespaces, overlayfs, cgroups)"
		exit 77
	fi
	# the runtime comes up while the control plane does
	runtime_up >"$T/cri-up.out" 2>&1 &
	RUNTIME_PID=$!
	# shellcheck disable=SC2086
	"$E2E_SRC/hack/cluster" up --dir "$T/cluster" ${E2E_CLUSTER_ARGS:-} >"$T/cluster-up.out" 2>&1 ||
		{ echo "hack/cluster up failed:" >&2; cat "$T/cluster-up.out" >&2; exit 1; }
	# shellcheck disable=SC1091
	. "$T/cluster/env"
	command -v crictl >/dev/null ||
		{ echo "crictl is not in $RECAP_KUBE_BIN (hack/build-kube builds it beside kubectl)" >&2; exit 1; }
	local f
	for f in "$E2E_SRC"/crds/recap.dev_*.yaml; do kubectl apply -f "$f" >/dev/null; done
	"$E2E_SRC/hack/wait-crds" --all
	registry_up
	wait "$RUNTIME_PID" || { echo "the e2e containerd did not start:" >&2; cat "$T/cri-up.out" >&2; exit 1; }
	# shellcheck disable=SC1091
	. "$T/cri/env"
	CRI_SOCKET=$RECAP_NODE_CONTAINERD
	local nodes n
	nodes=$(IFS=,; echo "${NODES[*]}")
	"$E2E_SRC/e2e/node-standin/standin.py" --nodes "$nodes" --cri-endpoint "$CRI_SOCKET" \
		--image "$SLEEPER_IMAGE" --cgroup-parent "/$RECAP_NODE_CGROUP_ROOT" --dir "$T/standin" \
		>"$T/standin.log" 2>&1 &
	PIDS+=($!)
	[[ -z $E2E_BEFORE_COMPONENTS ]] || "$E2E_BEFORE_COMPONENTS"
	controller_start
	for n in "${NODES[@]}"; do caplet_start "$n"; done
	for n in "${NODES[@]}"; do caplet_wait "$n"; done
}

# runtime_up: the containerd the stand-in runs pods in (hack/node's, without
# kubelet), and the image of their containers: the static sleeper the
# scenarios are given.
runtime_up() {
	"$E2E_SRC/hack/node" up --dir "$T/cri" --runtime-only || return 1
	local archive
	archive=$(SLEEPER_BIN=$E2E_SLEEPER image_archive sleeper build_sleeper "$E2E_SLEEPER") &&
		"$E2E_SRC/hack/node" import --dir "$T/cri" --base-name "${SLEEPER_IMAGE%:*}" "$archive"
}

# Set by a scenario before e2e_up: E2E_BEFORE_COMPONENTS, a function run once
# the control plane, the registry and the stand-in are up, before the
# components start; COMPONENT_KUBECONFIG, the kubeconfig the controller and
# the caplets use (empty: the cluster's, $KUBECONFIG); CONTROLLER_ARGS, more
# flags for recap-controller.
E2E_BEFORE_COMPONENTS=
COMPONENT_KUBECONFIG=
CONTROLLER_ARGS=()
CAPLET_ARGS=() # more flags for every caplet
# CAPLET_KUBECONFIGS[NODE]: that node's caplet's kubeconfig instead of
# COMPONENT_KUBECONFIG (e.g. a token bound to the node, as a caplet pod's is)
declare -A CAPLET_KUBECONFIGS=()
# E2E_WRAP: a command the next controller_start / caplet_start runs the
# process under (e2e/faults.sh: a skewed clock). CONTROLLER_HEALTH: the
# address of the controller's /healthz and /readyz, CONTROLLER_METRICS of its
# /metrics.
controller_start() {
	CONTROLLER_HEALTH=127.0.0.1:$(free_port) CONTROLLER_METRICS=127.0.0.1:$(free_port)
	${E2E_WRAP:-} "$E2E_CONTROLLER" --leader-elect=false --metrics-addr "$CONTROLLER_METRICS" \
		--health-addr "$CONTROLLER_HEALTH" ${COMPONENT_KUBECONFIG:+--kubeconfig "$COMPONENT_KUBECONFIG"} \
		"${CONTROLLER_ARGS[@]}" >>"$T/controller.log" 2>&1 &
	CONTROLLER_PID=$!
	PIDS+=($!)
}

declare -A CAPLET_PID SYNCED_BEFORE
# caplet_start NODE: one caplet for NODE, its own store and cgroup parent.
caplet_start() {
	local n=$1
	SYNCED_BEFORE[$n]=$(grep -c "executions of node $n synced" "$T/caplet-$n.log" 2>/dev/null || true)
	local kc=${CAPLET_KUBECONFIGS[$n]:-$COMPONENT_KUBECONFIG}
	${E2E_WRAP:-} "$E2E_CAPLET" --node-name "$n" --root "$T/node-$n" --capsule "$E2E_CAPSULE" \
		${kc:+--kubeconfig "$kc"} \
		--cgroup-parent "$CGP-$n" --cri-endpoint "unix://$CRI_SOCKET" --insecure-registry "$REGISTRY" \
		--metrics-address 127.0.0.1:0 "${CAPLET_ARGS[@]}" >>"$T/caplet-$n.log" 2>&1 &
	CAPLET_PID[$n]=$!
	PIDS+=($!)
}
caplet_synced() { # NODE: synced since its last start
	local now
	now=$(grep -c "executions of node $1 synced" "$T/caplet-$1.log" 2>/dev/null || true)
	((${now:-0} > ${SYNCED_BEFORE[$1]:-0}))
}
caplet_wait() { # NODE
	wait_until 30 caplet_synced "$1" || { echo "caplet $1 did not start" >&2; exit 1; }
}

# No run dir, mount or cgroup of any execution is left on any node.
nodes_clean() {
	local n left=""
	# a node that never ran anything has no runs/ (ls fails), a cgroup may go
	# while find walks (find fails): what they list is what counts
	for n in "${NODES[@]}"; do
		left+=$(ls "$T/node-$n/runs" 2>/dev/null || true)
		left+=$(find /sys/fs/cgroup -maxdepth 4 -mindepth 2 -type d -path "*$CGP-$n/*" 2>/dev/null || true)
	done
	left+=$(grep -F "$T/node-" /proc/self/mountinfo || true)
	[[ -z $left ]] || { echo "  left behind: $left" >&2; return 1; }
}

# writable_targets NS: a CapsulePolicy, NS-rw, that lets the Capsules of NS
# write into their targets (targetFilesystem ReadWrite): what a command that
# counts its starts in its target needs.
writable_targets() {
	kubectl apply -f - >/dev/null <<YAML
apiVersion: recap.dev/v1alpha1
kind: CapsulePolicy
metadata: {name: $1-rw}
spec:
  namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: $1}}
  targetFilesystem: {max: ReadWrite}
YAML
}
# target_pid NS POD: the host PID of POD's first container, whose root the
# host reads at /proc/PID/root.
target_pid() {
	local id
	id=$(kubectl get pod -n "$1" "$2" -o jsonpath='{.status.containerStatuses[0].containerID}')
	[[ -n $id ]] || { echo "  pod $1/$2 has no container yet" >&2; return 1; }
	crictl --runtime-endpoint "unix://$CRI_SOCKET" inspect -o go-template --template '{{.info.pid}}' \
		"${id#containerd://}" 2>/dev/null
}

# The streaming path on the stand-in (docs/streaming.md): the controller
# issues the relay and serving certificates into recap-system's Secrets, each
# caplet's relay listens on loopback, recap-apiserver runs on this host and the
# aggregation layer reaches it through an ExternalName Service (localhost) and
# the APIService, its certificate checked for recap-apiserver.recap-system.svc
# against the caBundle the controller sets. streams_prepare before e2e_up;
# then streams_up APISERVER_BINARY (or its steps, to check each).
streams_prepare() {
	CONTROLLER_ARGS+=(--certs-namespace recap-system --cert-check-seconds 2)
	CAPLET_ARGS+=(--relay-address 127.0.0.1:0 --relay-cert-file "$T/relay/tls.crt" --relay-key-file "$T/relay/tls.key"
		--relay-ca-file "$T/relay/ca.crt" --relay-client-name recap-apiserver)
	E2E_BEFORE_COMPONENTS=streams_register
}
streams_register() {
	kubectl create namespace recap-system >/dev/null
	APISERVER_PORT=$(free_port)
	kubectl apply -f - >/dev/null <<YAML
apiVersion: v1
kind: Service
metadata: {name: recap-apiserver, namespace: recap-system}
spec: {type: ExternalName, externalName: localhost}
---
apiVersion: apiregistration.k8s.io/v1
kind: APIService
metadata: {name: v1alpha1.subresources.recap.dev}
spec:
  group: subresources.recap.dev
  version: v1alpha1
  groupPriorityMinimum: 1000
  versionPriority: 15
  service: {namespace: recap-system, name: recap-apiserver, port: $APISERVER_PORT}
YAML
}
# What kubelet's Secret volumes would hold: the controller's Secrets as files.
streams_secret_files() { # SECRET DIR
	mkdir -p "$2"
	local k
	for k in tls.crt tls.key ca.crt; do
		kubectl get secret -n recap-system "$1" -o "jsonpath={.data.${k//./\\.}}" | base64 -d >"$2/$k.new" &&
			[[ -s $2/$k.new ]] && mv "$2/$k.new" "$2/$k" || return 1
	done
}
streams_secrets() {
	streams_secret_files recap-caplet-tls "$T/relay" && streams_secret_files recap-relay-client-tls "$T/relay-client" &&
		streams_secret_files recap-apiserver-tls "$T/apiserver"
}
streams_ca_bundle() {
	[[ -n $(kubectl get apiservice v1alpha1.subresources.recap.dev -o jsonpath='{.spec.caBundle}') ]]
}
streams_apiserver_start() { # BINARY
	"$1" --secure-address "127.0.0.1:$APISERVER_PORT" --tls-cert-file "$T/apiserver/tls.crt" \
		--tls-key-file "$T/apiserver/tls.key" --relay-cert-file "$T/relay-client/tls.crt" \
		--relay-key-file "$T/relay-client/tls.key" --relay-ca-file "$T/relay-client/ca.crt" \
		--relay-server-name caplet.recap-system.svc --log-level debug >>"$T/apiserver.log" 2>&1 &
	PIDS+=($!)
}
streams_available() {
	[[ $(kubectl get apiservice v1alpha1.subresources.recap.dev \
		-o jsonpath='{.status.conditions[?(@.type=="Available")].status}') == True ]]
}
# streams_failed WHAT: says so with the logs that tell why, and ends the test.
streams_failed() {
	echo "$1; logs:" >&2
	tail -n 30 "$T"/*.log >&2
	exit 1
}
streams_up() { # BINARY
	wait_until 30 streams_secrets || streams_failed "the controller issued no relay certificates"
	wait_until 30 streams_ca_bundle || streams_failed "the controller set no APIService caBundle"
	streams_apiserver_start "$1"
	wait_until 60 streams_available || streams_failed "recap-apiserver did not become Available"
	kubectl apply -f "$E2E_SRC"/config/rbac/streams_view_role.yaml -f "$E2E_SRC"/config/rbac/streams_edit_role.yaml >/dev/null
}
