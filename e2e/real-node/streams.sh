#!/usr/bin/env bash
# e2e on a real node: the streaming data path as config/default installs it.
# recap-apiserver runs as its Deployment (two pods the kubelet made), behind
# its ClusterIP Service and the APIService, whose caBundle recap-controller
# sets; kube-apiserver (a host process, no kube-proxy here) reaches it with
# --enable-aggregator-routing at a pod's address on the node's bridge and
# verifies it as recap-apiserver.recap-system.svc. caplet's relay is
# advertised at its pod's address (no portmap plugin for the hostPort here)
# and recap-apiserver reaches it there. A user with namespace rights only
# (hack/cluster user, the edit role in shop) follows a run's log while it
# runs, and reads its whole log with `kubectl get --raw .../log` and
# `kubectl capsule logs`; a user with no rights gets 403.
#   streams.sh CAPLET CAPSULE CONTROLLER SOURCE_ROOT KUBECTL_CAPSULE
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
rn_up "$1" "$2" "$3" "$4"
mkdir -p "$T/plugin" && ln -s "$(realpath "$5")" "$T/plugin/kubectl-capsule"
export PATH=$T/plugin:$PATH

# -- how it is reached: exactly the production objects
svc() { kubectl get svc -n recap-system recap-apiserver -o jsonpath="{$1}"; }
check "the APIService's Service is config/'s ClusterIP Service, port 443" \
	equals "$(svc .spec.type) $(svc .spec.ports[0].port)" "ClusterIP 443"
check "the APIService names it and carries a caBundle" equals "$(kubectl get apiservice \
	v1alpha1.subresources.recap.dev -o jsonpath='{.spec.service.name} {.spec.insecureSkipTLSVerify}')$(
	kubectl get apiservice v1alpha1.subresources.recap.dev -o jsonpath='{.spec.caBundle}' | cut -c1-4)" \
	"recap-apiserver LS0t"
subnet=$(sed -n "s/^subnet=['\"]\{0,1\}\([^'\"]*\).*/\1/p" "$T/node/run/state")
on_bridge() { # the Service's ready endpoints: pod addresses in the node's subnet
	local ips
	ips=$(kubectl get endpointslices -n recap-system -l kubernetes.io/service-name=recap-apiserver \
		-o jsonpath='{range .items[*].endpoints[?(@.conditions.ready==true)]}{.addresses[0]}{"\n"}{end}')
	# shellcheck disable=SC2086 # one address a word
	if [[ $(wc -l <<<"$ips") != 2 ]] || ! python3 -c 'import ipaddress,sys; n=ipaddress.ip_network(sys.argv[1])
sys.exit(not all(ipaddress.ip_address(a) in n for a in sys.argv[2:]))' "$subnet" $ips; then
		echo "  endpoints: $ips (subnet $subnet)" >&2
		return 1
	fi
}
check "its two ready endpoints are pods on the node's bridge ($subnet)" on_bridge
check "no discovery warning: kubectl api-resources is clean" \
	bash -c 'kubectl api-resources --api-group=subresources.recap.dev 2>&1 >/dev/null | { ! grep .; }'

# -- a user with namespace rights only; one with none
ns_create shop
kubectl apply -n shop -f - >/dev/null <<YAML
apiVersion: v1
kind: Pod
metadata: {name: web, labels: {app: web}}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - {name: app, image: $RECAP_NODE_BUSYBOX_IMAGE, imagePullPolicy: Never, command: [sleep, "3600"]}
YAML
check "the target pod runs" kubectl wait -n shop --for=condition=Ready pod/web --timeout=60s
kubectl create rolebinding alice-edit -n shop --clusterrole edit --user alice >/dev/null
ALICE=$("$RN_SRC/hack/cluster" user --dir "$T/cluster" alice)
BOB=$("$RN_SRC/hack/cluster" user --dir "$T/cluster" bob)
as() { # KUBECONFIG ARGS...: stdout $T/out, stderr $T/err, status RC
	local kc=$1
	shift
	RC=0
	KUBECONFIG=$kc "$@" >"$T/out" 2>"$T/err" || RC=$?
}
has() { [[ $(cat "$1") == *"$2"* ]] || { echo "  '$2' not in $1: $(cat "$1")" >&2; return 1; }; }
run_name() {
	sed -n -e 's/^run \([a-z]*-[a-z0-9]*\):.*/\1/p' -e 's|^capsulerun.recap.dev/\([a-z]*-[a-z0-9]*\) created|\1|p' "$@" |
		head -1
}

# -- a run that writes slowly: followed while it runs, then read whole
as "$ALICE" kubectl capsule run -n shop "$IMAGE" --pod web --no-wait -- \
	sh -c 'echo first; sleep 4; echo second; head -c 300000 /dev/zero | tr "\0" x; echo; echo done >&2'
RUN=$(run_name "$T/out" "$T/err")
[[ -n $RUN ]] || { echo "alice's run was not made:" >&2; cat "$T/out" "$T/err" >&2; exit 1; }
KUBECONFIG=$ALICE kubectl capsule logs -n shop "$RUN" -f --raw >"$T/follow.out" 2>"$T/follow.err" &
follower=$!
first_line() { grep -q '^first$' "$T/follow.out"; }
check "logs -f prints the first line while the run still runs" wait_until 30 first_line
running() { [[ $(kubectl get caprun -n shop "$RUN" -o jsonpath='{.status.phase}') != Succeeded ]]; }
check "... before the run ended" running
follow_rc=0
wait "$follower" || follow_rc=$?
check "logs -f: exit status 0 when the run's log ended" equals "$follow_rc $(cat "$T/follow.err")" "0 "
whole() { # FILE: every byte of the run's output, stdout and stderr in order
	[[ $(head -2 "$1") == $'first\nsecond' ]] && [[ $(grep -c x "$1") == 1 ]] &&
		[[ $(tr -cd x <"$1" | wc -c) == 300000 ]] && [[ $(tail -1 "$1") == "done" ]] ||
		{ echo "  $1: $(head -c 200 "$1")... ($(wc -c <"$1") bytes)" >&2; return 1; }
}
check "logs -f: every byte (300 KB past the 4 KiB status tail)" whole "$T/follow.out"
cexec() { kubectl get cexec -n shop -l "recap.dev/run=$RUN" -o jsonpath="{.items[0].$1}"; }
caplet_ip=$(kubectl get pod -n recap-system -l app.kubernetes.io/component=caplet -o jsonpath='{.items[0].status.podIP}')
check "the execution's relayEndpoint is the caplet pod's address, port 10350" \
	equals "$(cexec status.relayEndpoint)" "$caplet_ip:10350"
api=/apis/subresources.recap.dev/v1alpha1/namespaces/shop/capsuleruns
as "$ALICE" kubectl get --raw "$api/$RUN/log"
check "kubectl get --raw .../log: status 0, nothing on stderr" equals "$RC $(cat "$T/err")" "0 "
cp "$T/out" "$T/raw.out"
check "kubectl get --raw .../log: the whole output" whole "$T/raw.out"
as "$ALICE" kubectl capsule logs -n shop "$RUN"
check "kubectl capsule logs: status 0" equals "$RC" 0
check "... its header names the target" has "$T/out" "=== pod web, container app (node $RECAP_NODE_NAME): Succeeded"
check "... then the whole output" cmp -s <(tail -n +2 "$T/out") "$T/raw.out"

# -- refused
as "$BOB" kubectl get --raw "$api/$RUN/log"
check "a user with no rights: 403 from the API server" has "$T/err" "Forbidden"
as "$ALICE" kubectl get --raw "$api/nosuch/log"
check "an unknown run: 404 naming it" has "$T/err" 'capsuleruns.recap.dev "nosuch" not found'

# -- from inside a capsule: the relay over the node's network. The capsule (in
# the target pod's network namespace, as any pod) reaches the caplet's port but
# holds no client certificate of the relay CA: a request naming the first run's
# log is refused by the relay (its log says so) and no byte comes back. (TLS
# clients without a certificate, with another CA's or another name's are
# refused in test/relay.)
caplet_pod=$(kubectl get pod -n recap-system -l app.kubernetes.io/component=caplet -o jsonpath='{.items[0].metadata.name}')
refusals() { kubectl logs -n recap-system "$caplet_pod" | grep -c 'relay: a connection was refused' || true; }
refused_before=$(refusals)
uid=$(cexec metadata.uid)
path="/v1/runs/ce-${uid//-/}/log"
as "$ALICE" kubectl capsule run -n shop "$IMAGE" --pod web -- sh -c "
printf 'GET $path HTTP/1.1\\r\\nHost: x\\r\\nX-Recap-Node: $RECAP_NODE_NAME\\r\\n\\r\\n' |
	nc -w 5 $caplet_ip 10350 >/tmp/got; echo nc-exit=\$? got-bytes=\$(wc -c </tmp/got); cat /tmp/got"
check "inside a capsule: a request to the relay gets no byte back" has "$T/out" "got-bytes=0"
no_log_bytes() { ! grep -q -e '^first$' -e 'xxxxxxxx' "$T/out" || { echo "  the log came back: $(head -c 300 "$T/out")" >&2; return 1; }; }
check "... none of the run's log" no_log_bytes
refused_there() {
	(($(refusals) > refused_before)) ||
		{ echo "  the relay's log has no refusal; the capsule printed: $(cat "$T/out" "$T/err")" >&2; return 1; }
}
check "... the connection reached the relay and was refused there (its log)" refused_there

check "nothing of the executions is left on the node" wait_until 30 node_clean
finish
