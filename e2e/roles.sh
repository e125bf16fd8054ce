#!/usr/bin/env bash
# e2e: roles in one Parallel run, iperf-style: a server role (busybox nc
# listening) in one pod and a client role in two pods on other nodes that
# connect to the servers' pod IPs from RECAP_ROLE_SERVER_IPS once the server
# runs (startAfter). The stand-in's pods are on the CNI bridge of the e2e
# containerd, so pod IPs reach each other.
#   roles.sh CAPLET CAPSULE CONTROLLER SLEEPER SOURCE_ROOT
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
e2e_up "$@" node-1 node-2 node-3

ns_create perf
pod() { pod_create perf "$1" "$2" main registry.local/app:1 app=perf "side=$3"; } # NAME NODE ROLE
pod server-1 node-1 server
pod client-1 node-2 client
pod client-2 node-3 client
check "the stand-in runs the 3 pods" wait_until 30 pods_running perf 3

kubectl apply -n perf -f - >/dev/null <<YAML
apiVersion: recap.dev/v1alpha1
kind: Capsule
metadata: {name: echo}
spec:
  image: $IMAGE
  join: [net, uts]
  timeoutSeconds: 60
  strategy: {type: Parallel}
  roles:
    - name: server
      selector: {matchLabels: {side: server}}
      command: [sh, -c, 'for i in 1 2; do sleep 5 | nc -l -p 5000; done']
    - name: client
      selector: {matchLabels: {side: client}}
      command: [sh, -c, 'for i in \$(seq 50); do echo "hello from \$(hostname)" | nc -w 2 "\$RECAP_ROLE_SERVER_IPS" 5000 && exit 0; sleep 0.2; done; exit 1']
      startAfter: [server]
---
apiVersion: recap.dev/v1alpha1
kind: CapsuleRun
metadata: {name: echo-1}
spec: {capsuleRef: {name: echo}}
YAML
run_is() { [[ $(kubectl get caprun -n perf echo-1 -o jsonpath='{.status.phase}' 2>/dev/null) == "$1" ]]; }
check "the run succeeds" wait_until 90 run_is Succeeded
server_out() {
	local e out
	e=$(kubectl get cexec -n perf -o jsonpath='{range .items[?(@.spec.target.pod=="server-1")]}{.metadata.name}{end}')
	out=$(kubectl get cexec -n perf "$e" -o jsonpath='{.status.stdoutTail}')
	[[ $out == *"hello from client-1"* && $out == *"hello from client-2"* ]] ||
		{ echo "  server output: $out" >&2; return 1; }
}
check "the server heard both clients over the pods' IPs" server_out
check "nothing is left on any node" nodes_clean
finish
