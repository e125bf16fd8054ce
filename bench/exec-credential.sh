#!/usr/bin/env bash
# What an exec credential plugin (how EKS, GKE, AKS and OIDC logins work)
# costs a user, measured as wall time of whole processes, interleaved, on a
# private loopback control plane with the whole system (e2e/lib.sh):
#   capsule-cert  kubectl capsule run --capsule lat --pod web --rm, the
#                 admin's client certificate from the kubeconfig
#   capsule-exec  the same, the kubeconfig's user an exec plugin (a shell
#                 script printing an ExecCredential with a service-account
#                 token bound to cluster-admin); the plugin runs once per
#                 process, before the first connection, and its token is
#                 cached for every later request of that process
#   kubectl-cert / kubectl-exec  kubectl get pods, the same two kubeconfigs
#   plugin        the exec plugin alone (its own cost)
#
#   bench/exec-credential.sh [RUNS]   (as root, from a tree built in build/; default 20)
set -euo pipefail
# shellcheck source=hack/lib/errtrap.sh
. "$(dirname "${BASH_SOURCE[0]}")/../hack/lib/errtrap.sh"
root=$(cd "$(dirname "$0")/.." && pwd)
RUNS=${1:-20}
if ! [[ $RUNS =~ ^[0-9]+$ ]] || ((RUNS < 1 || RUNS > 1000)); then
	echo "RUNS must be a number in 1..1000, got '$RUNS'" >&2
	exit 2
fi
B=$root/build
# shellcheck source-path=SCRIPTDIR source=../e2e/lib.sh
. "$root/e2e/lib.sh"
e2e_up "$B/cmd/caplet/caplet" "$B/cmd/capsule/capsule" "$B/cmd/recap-controller/recap-controller" \
	"$B/test/runtime/recap-test-sleeper" "$root" node-1
mkdir -p "$T/bin"
ln -s "$B/cmd/kubectl-capsule/kubectl-capsule" "$T/bin/kubectl-capsule"
export PATH=$T/bin:$PATH

kubectl create namespace bench >/dev/null
kubectl apply -f - >/dev/null <<YAML
apiVersion: v1
kind: Pod
metadata: {name: web, namespace: bench, labels: {app: web}}
spec:
  nodeName: node-1
  containers: [{name: app, image: registry.local/app:1}]
---
apiVersion: recap.dev/v1alpha1
kind: Capsule
metadata: {name: lat, namespace: bench}
spec:
  image: $IMAGE
  command: ["true"]
  targets: {selector: {matchLabels: {app: web}}}
YAML
running() { [[ $(kubectl get pod -n bench web -o jsonpath='{.status.phase}') == Running ]]; }
wait_until 30 running || { echo "the target pod does not run" >&2; exit 1; }

# the exec plugin's user: a service account bound to cluster-admin
kubectl create serviceaccount -n bench bencher >/dev/null
kubectl create clusterrolebinding bencher --clusterrole cluster-admin --serviceaccount bench:bencher >/dev/null
kubectl create token -n bench bencher --duration 2h >"$T/token"
cat >"$T/get-token" <<'SH'
#!/bin/sh
exp=$(date -u -d '+1 hour' +%Y-%m-%dT%H:%M:%SZ)
printf '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"%s","expirationTimestamp":"%s"}}\n' \
	"$(cat "$(dirname "$0")/token")" "$exp"
SH
chmod 0700 "$T/get-token"
python3 - "$KUBECONFIG" "$T/exec.kubeconfig" "$T/get-token" <<'PY'
import os, sys, yaml
src, dst, plugin = sys.argv[1:]
conf = yaml.safe_load(open(src))
base = os.path.dirname(src)
for c in conf["clusters"]:
    ca = c["cluster"].get("certificate-authority")
    if ca:
        c["cluster"]["certificate-authority"] = os.path.join(base, ca)
for u in conf["users"]:
    u["user"] = {"exec": {"apiVersion": "client.authentication.k8s.io/v1", "command": plugin,
                          "interactiveMode": "Never"}}
yaml.safe_dump(conf, open(dst, "w"))
PY
CERT=$KUBECONFIG EXEC=$T/exec.kubeconfig
run_as() { KUBECONFIG=$1 kubectl capsule run -n bench --capsule lat --pod web --rm --wait-timeout 60 >/dev/null 2>&1; }
get_as() { KUBECONFIG=$1 kubectl get pods -n bench >/dev/null 2>&1; }
capsule_cert() { run_as "$CERT"; }
capsule_exec() { run_as "$EXEC"; }
kubectl_cert() { get_as "$CERT"; }
kubectl_exec() { get_as "$EXEC"; }
plugin_alone() { "$T/get-token" >/dev/null; }
for f in capsule_cert capsule_exec kubectl_exec; do $f || { echo "warm-up: $f failed" >&2; exit 1; }; done

time_ms() {
	local t0 t1
	t0=$(date +%s%N)
	"$@" || { echo "FAILED"; return; }
	t1=$(date +%s%N)
	echo $(((t1 - t0) / 1000000))
}
for ((i = 0; i < RUNS; i++)); do
	for f in capsule_cert capsule_exec kubectl_cert kubectl_exec plugin_alone; do echo "$f $(time_ms $f)"; done
done >"$T/times"
python3 - "$T/times" "$RUNS" "$(cut -d' ' -f1-3 /proc/loadavg)" "$(git -C "$root" rev-parse --short HEAD)" <<'PY'
import sys
rows = [l.split() for l in open(sys.argv[1])]
def stats(kind):
    v = sorted(int(t) for k, t in rows if k == kind and t != "FAILED")
    failed = sum(1 for k, t in rows if k == kind and t == "FAILED")
    q = lambda p: v[min(len(v) - 1, int(p * len(v)))] if v else 0
    return q(0.5), q(0.95), failed
print("commit %s; %s runs each, interleaved; load average at the end %s; ms" % (sys.argv[4], sys.argv[2], sys.argv[3]))
print("| %-62s | %5s | %5s | %6s |" % ("command", "p50", "p95", "failed"))
print("| %s | ----: | ----: | -----: |" % ("-" * 62))
for kind, what in (("capsule_cert", "kubectl capsule run --capsule lat --pod web --rm (certificate)"),
                   ("capsule_exec", "kubectl capsule run ... (exec plugin, a token)"),
                   ("kubectl_cert", "kubectl get pods (certificate)"),
                   ("kubectl_exec", "kubectl get pods (exec plugin, a token)"),
                   ("plugin_alone", "the exec plugin alone")):
    print("| %-62s | %5d | %5d | %6d |" % ((what,) + stats(kind)))
PY
