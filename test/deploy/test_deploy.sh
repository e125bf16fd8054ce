#!/usr/bin/env bash
# The installation as an operator uses it: the kustomize bases in config/
# and the Helm chart charts/recap (helm lint, helm template with default and
# custom values; the same content as config/default) render, and everything
# rendered is accepted by a real kube-apiserver (server-side dry run after
# the CRDs are applied for real). The RBAC of the
# controller, caplet and recap-apiserver has no wildcard and grants what the
# code calls and no more; a run's log is in "view", its artifacts and attach
# only in "edit"; the controller's and recap-apiserver's pods pass Pod
# Security "restricted" enforced by the API server's admission. Then recap-controller and caplet run under exactly
# the identities installed (service-account tokens, caplet's bound to a pod
# on its node) and carry a run to its end: the RBAC is enough, not only
# small. One cluster for the whole file.
# shellcheck source-path=SCRIPTDIR source=../cluster/lib.sh
. "${RECAP_SRC:?}/test/cluster/lib.sh"

cd "$src"
PY=/usr/bin/python3
[[ -x $PY ]] || PY=python3
helm=${RECAP_HELM_BIN:-$("$src/hack/build-helm" --print)}/helm
if [[ ! -x $helm ]]; then
	echo "SKIP: $helm missing (run hack/build-helm or hack/test)" >&2
	exit 77
fi
out=$scratch/out
mkdir -p "$out"

# --- rendering ---------------------------------------------------------------

"$kubectl" kustomize config/default >"$out/default.yaml" || fail "kustomize config/default"
"$kubectl" kustomize config/samples >"$out/samples.yaml" || fail "kustomize config/samples"
kinds=$(grep -c '^kind:' "$out/default.yaml" || true) # none: 0, judged below
((kinds >= 27)) || fail "config/default renders $kinds objects"
for want in 'kind: CustomResourceDefinition' 'kind: Deployment' 'kind: DaemonSet' \
	'image: recap/recap-controller:0.1.0' 'image: recap/caplet:0.1.0' 'name: recap-capsule-editor' \
	'image: recap/recap-apiserver:0.1.0' 'kind: APIService' 'name: v1alpha1.subresources.recap.dev' \
	'name: recap-streams-view' 'name: recap-streams-edit' 'name: system:auth-delegator' \
	'name: extension-apiserver-authentication-reader' 'secretName: recap-apiserver-tls' \
	'secretName: recap-relay-client-tls' 'secretName: recap-caplet-tls' '--relay-address=0.0.0.0:10350'; do
	grep -qF -- "$want" "$out/default.yaml" || fail "config/default: no '$want'"
done
ok "config/default renders $kinds objects"

chart=charts/recap
"$helm" lint --strict "$chart" >"$scratch/lint" 2>&1 || fail "helm lint: $(cat "$scratch/lint")"
"$helm" lint --strict "$chart" -f test/deploy/custom-values.yaml >"$scratch/lint" 2>&1 ||
	fail "helm lint (custom values): $(cat "$scratch/lint")"
ok "helm lint --strict: default and custom values"
"$helm" template recap "$chart" -n recap-system --include-crds >"$out/helm.yaml" || fail "helm template"
"$helm" template recap "$chart" -n recap-system -f test/deploy/custom-values.yaml >"$out/helm-custom.yaml" ||
	fail "helm template (custom values)"
"$PY" test/deploy/same.py "$out/default.yaml" "$out/helm.yaml" >"$scratch/same" 2>&1 ||
	fail "chart and config/default differ: $(cat "$scratch/same")"
ok "helm template (defaults) = config/default: $(grep -c ': same$' "$scratch/same") objects compared"

c=$out/helm-custom.yaml
for want in 'image: registry.local/recap/recap-controller:1.2.3' 'image: registry.local/recap/caplet:1.2.3' \
	'imagePullPolicy: Always' 'name: regcred' '--leader-elect=false' '--log-level=debug' '--log-format=text' \
	'--metrics-addr=:9090' '--health-addr=:9091' '--metrics-address=0.0.0.0:9743' \
	'--insecure-registry=registry.local:5000' 'path: /data/recap' '--registry-config=/etc/recap/registries' \
	'path: /etc/containerd/certs.d' \
	'--cri-endpoint=/run/k3s/containerd/containerd.sock' 'path: /run/k3s/containerd' 'kind: CapsulePolicy' 'name: cluster-default' \
	'node-role.kubernetes.io/control-plane: ""' 'kubernetes.io/os: linux' 'value: db' 'memory: 8Mi' \
	'priorityClassName: system-cluster-critical' 'image: registry.local/recap/recap-apiserver:1.2.3' \
	'replicas: 3' '--secure-address=0.0.0.0:9443' 'containerPort: 9443' '--relay-address=0.0.0.0:10351' \
	'hostPort: 10351' 'memory: 48Mi' 'resourceNames: ["cosign-keys"]'; do
	grep -qF -- "$want" "$c" || fail "custom values: no '$want'"
done
grep -q -- '--registry-config' "$out/helm.yaml" && fail "default values: --registry-config rendered"
for absent in 'name: recap-leader-election$' 'aggregate-to-' 'kind: ValidatingAdmissionPolicy' 'NET_ADMIN' 'system-node-critical' '- operator: Exists$' 'kind: CustomResourceDefinition'; do
	grep -q -- "$absent" "$c" && fail "custom values: '$absent' still rendered"
done
grep -q 'NET_ADMIN' "$out/helm.yaml" || fail "default values: NET_ADMIN not grantable"
"$helm" template recap "$chart" -n recap-system --set caplet.relay.enabled=false >"$out/helm-norelay.yaml" ||
	fail "helm template (relay off)"
for absent in '--relay-address' 'NODE_IP' 'hostPort' 'secretName: recap-caplet-tls'; do
	grep -q -- "$absent" "$out/helm-norelay.yaml" && fail "relay off: '$absent' still rendered"
done
# The APIService's caBundle is the controller's: never rendered from values.
grep -qE '^ *caBundle:' "$out/helm.yaml" "$out/default.yaml" && fail "a caBundle is rendered"
grep -q 'insecureSkipTLSVerify' "$out/helm.yaml" "$out/default.yaml" && fail "insecureSkipTLSVerify rendered"
ok "helm template (custom values): every value shows up; relay off renders no relay"

# bad_value SET MESSAGE: helm template refuses --set SET naming the problem.
bad_value() {
	if "$helm" template recap "$chart" --set "$1" >/dev/null 2>"$scratch/err"; then fail "accepted --set $1"; fi
	grep -qF "$2" "$scratch/err" || fail "--set $1: $(cat "$scratch/err")"
}
bad_value logLevel=loud "at '/logLevel': value must be one of 'error', 'warn', 'info', 'debug'"
bad_value logFormat=xml "at '/logFormat': value must be one of 'text', 'json'"
bad_value controller.leaderElection.enabled=false 'controller.replicas > 1 needs controller.leaderElection.enabled'
bad_value 'caplet.grantableCapabilities[0]=cap_net_raw' "'cap_net_raw' does not match pattern"
bad_value controller.metricsPort=70000 "at '/controller/metricsPort': maximum"
bad_value caplet.storePath=var/lib/recap "at '/caplet/storePath'"
bad_value caplet.criEndpoint=/containerd.sock "at '/caplet/criEndpoint'"
bad_value controler.replicas=1 "additional properties 'controler' not allowed"
bad_value apiserver.port=70000 "at '/apiserver/port': maximum"
bad_value caplet.relay.port=0 "at '/caplet/relay/port': minimum"
ok "helm template refuses bad values with a message"

# --- a real API server -------------------------------------------------------

up c >/dev/null 2>"$scratch/up.err" || fail "cluster up: $(cat "$scratch/up.err")"
d=$scratch/c
k() { kc "$d" "$@"; }

k apply --server-side -k config/crd >/dev/null || fail "apply CRDs"
KUBECTL=$kubectl KUBECONFIG=$d/kubeconfig "$RECAP_SRC/hack/wait-crds" --all || fail "CRDs not established"
ok "CRDs applied through config/crd"

# dry_run NAME FILE: every object of FILE accepted by the API server.
dry_run() {
	k apply --dry-run=server -f "$2" >"$scratch/dry.out" 2>"$scratch/dry.err" ||
		fail "$1 refused by the API server: $(cat "$scratch/dry.err")"
	local n
	n=$(grep -c . "$scratch/dry.out" || true) # nothing printed: 0, said below (grep -c exited 1 and ended the script)
	((n > 0)) || fail "$1: the server dry run printed no object"
	ok "$1: $n objects accepted (server dry run)"
}

# The namespace must exist for the namespaced objects' dry run.
k create namespace recap-system >/dev/null
dry_run config/default "$out/default.yaml"
# The chart's CRDs are the ones applied above (same.py); the rest:
"$PY" - "$out/helm.yaml" >"$out/helm-nocrd.yaml" <<'PY'
import sys, yaml
docs = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d and d["kind"] != "CustomResourceDefinition"]
yaml.safe_dump_all(docs, sys.stdout)
PY
dry_run "helm template" "$out/helm-nocrd.yaml"
dry_run "helm template (custom values)" "$out/helm-custom.yaml"
for ns in shop prod; do k create namespace "$ns" >/dev/null; done
grep -q 'namespace:' "$out/samples.yaml" && fail "samples name a namespace"
k apply --dry-run=server -n shop -f "$out/samples.yaml" >/dev/null 2>"$scratch/dry.err" ||
	fail "config/samples refused: $(cat "$scratch/dry.err")"
ok "config/samples accepted (server dry run)"
# The ready capsules' Capsules (capsules/*/capsule.yaml), in a namespace of
# their own: some share a name with a sample above.
"$kubectl" kustomize capsules >"$out/capsules.yaml" || fail "kustomize capsules"
k create namespace capsules >/dev/null
k apply --dry-run=server -n capsules -f "$out/capsules.yaml" >/dev/null 2>"$scratch/dry.err" ||
	fail "capsules/*/capsule.yaml refused: $(cat "$scratch/dry.err")"
n=$(grep -c '^kind: Capsule$' "$out/capsules.yaml" || true) # none: 0, judged below
((n == $(ls capsules/*/Containerfile | wc -l))) || fail "capsules: $n Capsules for $(ls capsules/*/Containerfile | wc -l) images"
ok "capsules: $n sample Capsules accepted (server dry run)"

# --- RBAC --------------------------------------------------------------------

"$PY" test/deploy/rbac_check.py "$out/default.yaml" >"$scratch/rbac" 2>&1 || fail "rbac: $(cat "$scratch/rbac")"
# custom values add a signing-key Secret the controller may read by name
"$PY" test/deploy/rbac_check.py "$out/helm-custom.yaml" >/dev/null 2>"$scratch/rbac-custom" ||
	fail "rbac (custom values): $(cat "$scratch/rbac-custom")"
ok "rbac: $(paste -sd ';' "$scratch/rbac")"

# The roles for real, then what each service account may do, as the API
# server's authorizer answers it.
"$PY" - "$out/default.yaml" >"$out/rbac.yaml" <<'PY'
import sys, yaml
docs = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d]
keep = {"Namespace", "ServiceAccount", "Role", "ClusterRole", "RoleBinding", "ClusterRoleBinding"}
yaml.safe_dump_all([d for d in docs if d["kind"] in keep and d["kind"] != "Namespace"], sys.stdout)
PY
k apply -f "$out/rbac.yaml" >/dev/null || fail "apply RBAC"

# can SA yes|no VERB RESOURCE [FLAGS]...
can() {
	local sa=$1 want=$2 got
	shift 2
	got=$(k auth can-i --as "system:serviceaccount:recap-system:$sa" "$@" 2>/dev/null || true)
	[[ $got == "$want" ]] || fail "$sa can-i $*: $got, want $want"
}
ctl() { can recap-controller "$@"; }
cpl() { can recap-caplet "$@"; }
asv() { can recap-apiserver "$@"; }
# Aggregation into edit/view is done by kube-controller-manager.
# The authorizer sees new roles asynchronously: wait for one rule of each.
sa_can() { [[ $(k auth can-i --as "system:serviceaccount:recap-system:$1" "${@:2}" 2>/dev/null) == yes ]]; }
rbac_visible() {
	sa_can recap-controller list pods -A && sa_can recap-caplet list capsulepolicies.recap.dev &&
		sa_can recap-controller update leases.coordination.k8s.io/recap-controller -n recap-system &&
		sa_can recap-apiserver watch capsuleexecutions.recap.dev -A &&
		sa_can recap-apiserver create subjectaccessreviews.authorization.k8s.io &&
		sa_can recap-apiserver get configmaps/extension-apiserver-authentication -n kube-system
}
eventually 30 "rbac visible to the authorizer" rbac_visible
ctl yes list pods -A
ctl yes watch namespaces
ctl yes create capsuleexecutions.recap.dev -n shop
ctl yes delete capsuleruns.recap.dev -n shop
ctl yes patch capsules.recap.dev --subresource status -n shop
ctl yes create events.events.k8s.io -n shop
ctl yes watch events -A
ctl no create events -n shop
ctl no delete events -n shop
ctl yes update leases.coordination.k8s.io/recap-controller -n recap-system
ctl no update leases.coordination.k8s.io/other -n recap-system
ctl no get leases.coordination.k8s.io/recap-controller -n shop
ctl no get secrets -n shop
ctl yes get secrets/recap-ca -n recap-system
ctl yes update secrets/recap-caplet-tls -n recap-system
ctl yes create secrets -n recap-system
ctl no get secrets/other -n recap-system
ctl no list secrets -n recap-system
ctl no delete secrets/recap-ca -n recap-system
ctl yes get configmaps/signing-keys -n recap-system
ctl no list configmaps -n recap-system
ctl no get configmaps/signing-keys -n shop
ctl no update configmaps/signing-keys -n recap-system
ctl yes patch apiservices.apiregistration.k8s.io/v1alpha1.subresources.recap.dev
ctl no patch apiservices.apiregistration.k8s.io/v1.apps
ctl no create pods/exec -n shop
ctl no patch pods -n shop
ctl no update capsuleexecutions.recap.dev -n shop
ctl yes patch capsuleexecutions.recap.dev -n shop
ctl yes patch capsuleexecutions.recap.dev --subresource status -n shop
ctl no create capsulepolicies.recap.dev
ok "controller: exactly its calls (pods, runs, executions, status, events, its Lease, its relay certificates' Secrets and APIService, signing keys' ConfigMaps by name), no other secret, no exec"
cpl yes watch capsuleexecutions.recap.dev -A
cpl yes patch capsuleexecutions.recap.dev --subresource status -n shop
cpl yes list capsulepolicies.recap.dev
cpl no create capsuleexecutions.recap.dev -n shop
cpl no delete capsuleexecutions.recap.dev -n shop
cpl no create capsuleruns.recap.dev -n shop
cpl no patch capsulepolicies.recap.dev
cpl no get pods -n shop
cpl no get secrets -n shop
# caplet_sub RESOURCE SUBRESOURCE: whether caplet may get it in shop, in
# subresources.recap.dev (a SubjectAccessReview, as dev_streams below)
caplet_sub() {
	k create -o 'jsonpath={.status.allowed}' -f - 2>/dev/null <<YAML
apiVersion: authorization.k8s.io/v1
kind: SubjectAccessReview
spec:
  user: system:serviceaccount:recap-system:recap-caplet
  groups: [system:serviceaccounts, "system:serviceaccounts:recap-system", system:authenticated]
  resourceAttributes: {namespace: shop, verb: get, group: subresources.recap.dev, resource: $1, subresource: $2}
YAML
}
[[ $(caplet_sub capsuleexecutions pullcredentials) == true ]] || fail "caplet may not get capsuleexecutions/pullcredentials"
[[ $(caplet_sub capsuleruns log) != true ]] || fail "caplet may get capsuleruns/log"
ok "caplet: executions watch/patch/status, policies and namespaces read, pull credentials asked of recap-apiserver, nothing else"
asv yes get capsuleruns.recap.dev -n shop
asv yes list capsuleexecutions.recap.dev -A
asv yes create tokenreviews.authentication.k8s.io
asv yes create subjectaccessreviews.authorization.k8s.io
asv yes get configmaps/extension-apiserver-authentication -n kube-system
asv no get configmaps/other -n kube-system
asv no list configmaps -n kube-system
asv no patch capsuleruns.recap.dev -n shop
asv no patch capsuleexecutions.recap.dev --subresource status -n shop
asv no get capsules.recap.dev -n shop
asv yes get secrets/regcred -n shop
asv no list secrets -n shop
asv no watch secrets -A
asv no update secrets/regcred -n shop
asv yes get pods -n shop
asv no list pods -n shop
asv no create pods -n shop
asv yes create events -n shop
asv no patch events -n shop
asv no list events -n shop
asv no patch apiservices.apiregistration.k8s.io
ok "recap-apiserver: reads runs and executions, Secrets and pods by name (pull credentials, the pod an alert names), records Events (alerts), delegates authentication and authorization, nothing else"

# caplet writes only executions of its own node: the admission policy checks
# the node name the API server puts in a pod-bound token.
"$PY" - "$out/default.yaml" >"$out/vap.yaml" <<'PY'
import sys, yaml
docs = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d]
yaml.safe_dump_all([d for d in docs if d["kind"].startswith("ValidatingAdmissionPolicy")], sys.stdout)
PY
k apply -f "$out/vap.yaml" >/dev/null || fail "apply the admission policy"
for n in node-a node-b; do
	printf 'apiVersion: v1\nkind: Node\nmetadata: {name: %s}\n' "$n" | k create -f - >/dev/null
	"$PY" - "$n" config/samples/capsuleexecution.yaml >"$scratch/ce-$n.yaml" <<'PY'
import sys, yaml
node, path = sys.argv[1:]
d = yaml.safe_load(open(path))
d["metadata"] = {"name": "ce-" + node, "namespace": "shop"}
d["spec"]["node"] = node
yaml.safe_dump(d, sys.stdout)
PY
	k create -f "$scratch/ce-$n.yaml" >/dev/null || fail "create execution for $n"
done
k run caplet-a -n recap-system --image=recap/caplet --overrides \
	'{"spec":{"nodeName":"node-a","serviceAccountName":"recap-caplet"}}' >/dev/null || fail "caplet pod"
uid=$(k get pod caplet-a -n recap-system -o jsonpath='{.metadata.uid}')
tok=$(k create token recap-caplet -n recap-system --bound-object-kind Pod --bound-object-name caplet-a \
	--bound-object-uid "$uid") || fail "token for caplet-a"
unbound=$(k create token recap-caplet -n recap-system) || fail "unbound token"
# patch_as TOKEN NAME[/status] BODY: the merge patch caplet sends (it never
# GETs, so kubectl patch, which does, cannot stand in); prints the HTTP code.
url=$(cluster_env "$d" RECAP_APISERVER_URL)
patch_as() {
	curl -s -o "$scratch/body" -w '%{http_code}' --cacert "$d/pki/ca.crt" -H "Authorization: Bearer $1" \
		-H 'Content-Type: application/merge-patch+json' -X PATCH --data "$3" \
		"$url/apis/recap.dev/v1alpha1/namespaces/shop/capsuleexecutions/$2"
}
fin='{"metadata":{"finalizers":["recap.dev/escape"]}}'
st='{"status":{"phase":"Pulling"}}'
# The API server loads a new admission policy asynchronously: wait until it
# refuses, then check what it admits.
refused_b() {
	[[ $(patch_as "$tok" ce-node-b "$fin") == 403 ]] &&
		grep -q 'caplet may only write CapsuleExecutions of its own node, not of node \\"node-b\\"' "$scratch/body"
}
eventually 30 "the admission policy refuses caplet of node-a on node-b" refused_b
[[ $(patch_as "$tok" ce-node-a "$fin") == 200 ]] || fail "caplet of node-a cannot add its finalizer on node-a: $(cat "$scratch/body")"
[[ $(patch_as "$tok" ce-node-a/status "$st") == 200 ]] || fail "caplet of node-a cannot write status on node-a: $(cat "$scratch/body")"
code=$(patch_as "$tok" ce-node-b/status "$st")
[[ $code == 403 ]] || fail "caplet of node-a wrote the status of node-b: $code"
code=$(patch_as "$unbound" ce-node-a/status "$st")
[[ $code == 403 ]] || fail "a caplet token without a node wrote a status: $code"
k patch capsuleexecution ce-node-b -n shop --type merge -p "$fin" >/dev/null || fail "admin refused by the policy"
k patch capsuleexecution ce-node-a -n shop --type merge -p '{"metadata":{"finalizers":null}}' >/dev/null
k patch capsuleexecution ce-node-b -n shop --type merge -p '{"metadata":{"finalizers":null}}' >/dev/null
ok "caplet writes executions of its own node only (admission policy on the pod-bound token's node)"

k create serviceaccount dev -n shop >/dev/null
k create rolebinding dev-edit -n shop --clusterrole=edit --serviceaccount=shop:dev >/dev/null
k create rolebinding dev-view -n prod --clusterrole=view --serviceaccount=shop:dev >/dev/null
dev() { can dev "$@"; }
dev_can() { [[ $(k auth can-i --as system:serviceaccount:shop:dev "$@" 2>/dev/null) == yes ]]; }
# dev_streams VERB SUBRESOURCE NS: whether dev may VERB capsuleruns/SUBRESOURCE
# of subresources.recap.dev in NS. A SubjectAccessReview: kubectl auth can-i
# cannot name a group no running server serves (it would ask for resource
# "capsuleruns.subresources.recap.dev" in the core group).
dev_streams() {
	k create -o 'jsonpath={.status.allowed}' -f - 2>/dev/null <<YAML
apiVersion: authorization.k8s.io/v1
kind: SubjectAccessReview
spec:
  user: system:serviceaccount:shop:dev
  groups: [system:serviceaccounts, "system:serviceaccounts:shop", system:authenticated]
  resourceAttributes: {namespace: $3, verb: $1, group: subresources.recap.dev, resource: capsuleruns, subresource: $2}
YAML
}
aggregated() {
	dev_can create capsules.recap.dev -n shop && dev_can list capsuleexecutions.recap.dev -n prod &&
		[[ $(dev_streams get log prod) == true && $(dev_streams create attach shop) == true ]]
}
eventually 30 "edit and view aggregate recap-capsule-editor, -viewer and recap-streams-edit, -view" aggregated
can() {
	local sa=$1 want=$2 got
	shift 2
	got=$(k auth can-i --as "system:serviceaccount:shop:$sa" "$@" 2>/dev/null || true)
	[[ $got == "$want" ]] || fail "$sa can-i $*: $got, want $want"
}
dev yes create capsuleruns.recap.dev -n shop
dev no create capsuleexecutions.recap.dev -n shop
dev no patch capsuleruns.recap.dev --subresource status -n shop
dev yes list capsuleexecutions.recap.dev -n prod
dev no create capsules.recap.dev -n prod
dev no create capsulepolicies.recap.dev
ok "aggregated roles: edit creates Capsules and runs (not executions), view reads them"
# streams yes|no VERB SUBRESOURCE NS
streams() {
	local got want=false
	[[ $1 == yes ]] && want=true
	got=$(dev_streams "$2" "$3" "$4") || fail "SubjectAccessReview for dev $2 capsuleruns/$3 -n $4"
	[[ $got == "$want" ]] || fail "dev $2 capsuleruns/$3 -n $4: allowed '$got', want $want"
}
streams yes get log prod
streams yes get log shop
streams no get artifacts prod
streams yes get artifacts shop
streams no create attach prod
streams no get attach prod
streams yes create attach shop
streams no get log default
streams no delete log shop
ok "streams: a run's log in view, its artifacts and attach in edit only"

# --- Pod Security ------------------------------------------------------------

# pick KIND NAME NS FILE: one rendered object moved to namespace NS.
pick() {
	"$PY" - "$@" <<'PY'
import sys, yaml
kind, name, ns, path = sys.argv[1:]
for d in yaml.safe_load_all(open(path)):
    if d and d["kind"] == kind and d["metadata"]["name"] == name:
        d["metadata"]["namespace"] = ns
        yaml.safe_dump(d, sys.stdout)
        break
else:
    sys.exit(f"no {kind} {name}")
PY
}

k create namespace strict >/dev/null
k label namespace strict pod-security.kubernetes.io/enforce=restricted \
	pod-security.kubernetes.io/enforce-version=latest >/dev/null
for sa in recap-controller recap-caplet recap-apiserver; do k create serviceaccount "$sa" -n strict >/dev/null; done
# Deployments are checked when their pods are created; a bare pod with the
# template's spec is what admission enforces on.
# podof FILE NAME: a Pod with the pod template of the Deployment/DaemonSet NAME.
podof() {
	"$PY" - "$@" <<'PY'
import sys, yaml
path, name = sys.argv[1:]
for d in yaml.safe_load_all(open(path)):
    if d and d["kind"] in ("Deployment", "DaemonSet") and d["metadata"]["name"] == name:
        t = d["spec"]["template"]
        yaml.safe_dump({"apiVersion": "v1", "kind": "Pod",
                        "metadata": {"name": name, "namespace": "strict", "labels": t["metadata"]["labels"]},
                        "spec": t["spec"]}, sys.stdout)
        break
else:
    sys.exit(f"no workload {name}")
PY
}
# restricted NAME FILE: the pod template of workload NAME passes "restricted".
restricted() {
	local f=$scratch/pod-$1.yaml
	podof "$2" "$1" >"$f" || fail "no workload $1"
	k apply --dry-run=server -f "$f" 2>&1
}
for f in "$out/default.yaml" "$out/helm.yaml" "$out/helm-custom.yaml"; do
	for w in recap-controller recap-apiserver; do
		restricted "$w" "$f" >"$scratch/ps" || fail "$w pod of $f refused by restricted: $(cat "$scratch/ps")"
		grep -q 'Warning' "$scratch/ps" && fail "$w pod of $f warned by restricted: $(cat "$scratch/ps")"
	done
done
pick Deployment recap-controller strict "$out/default.yaml" >"$scratch/deploy.yaml"
k apply --dry-run=server -f "$scratch/deploy.yaml" >"$scratch/ps" 2>&1 || fail "controller Deployment: $(cat "$scratch/ps")"
grep -q 'violate PodSecurity' "$scratch/ps" && fail "controller Deployment warned: $(cat "$scratch/ps")"
# The same check refuses caplet: the admission is really on.
if restricted recap-caplet "$out/default.yaml" >"$scratch/ps"; then fail "caplet pod admitted by restricted"; fi
grep -q 'violates PodSecurity "restricted:latest"' "$scratch/ps" || fail "caplet: $(cat "$scratch/ps")"
ok "controller and recap-apiserver pods (kustomize, helm default and custom) pass Pod Security restricted (caplet's is refused there)"

# --- the daemons under the installed identities ------------------------------

controller=${RECAP_CONTROLLER:-$src/build/cmd/recap-controller/recap-controller}
caplet=${RECAP_CAPLET:-$src/build/cmd/caplet/caplet}
capsule=${RECAP_CAPSULE:-$src/build/cmd/capsule/capsule}
for b in "$controller" "$caplet" "$capsule"; do [[ -x $b ]] || fail "$b missing (build first)"; done
cgp=recap-deploy-$$
daemons=()
# Daemons first (caplet escapes what it runs), then the cluster (lib.sh).
d_cleanup() {
	local rc=$? p c
	set +e # a daemon's exit status or a missing cgroup must not cut the cleanup short
	for p in "${daemons[@]}"; do kill -TERM "$p" 2>/dev/null; done
	for p in "${daemons[@]}"; do wait "$p" 2>/dev/null; done
	"$capsule" --root "$scratch/node-a" --cgroup-parent "$cgp" sweep --force >/dev/null 2>&1
	for c in /sys/fs/cgroup/*/"$cgp" /sys/fs/cgroup/"$cgp"; do [[ -d $c ]] && rmdir "$c"; done
	(exit "$rc")
	t_cleanup
}
trap d_cleanup EXIT
free_port() { "$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# token_kubeconfig FILE TOKEN: a kubeconfig with that bearer token only.
token_kubeconfig() {
	cat >"$1" <<KC
apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "$url", certificate-authority: "$d/pki/ca.crt"}}]
users: [{name: u, user: {token: "$2"}}]
contexts: [{name: c, context: {cluster: c, user: u, namespace: recap-system}}]
current-context: c
KC
}
ctl_tok=$(k create token recap-controller -n recap-system --duration 1h) || fail "controller token"
token_kubeconfig "$scratch/controller.kubeconfig" "$ctl_tok"
token_kubeconfig "$scratch/caplet.kubeconfig" "$tok"
hport=$(free_port)
"$controller" --kubeconfig "$scratch/controller.kubeconfig" --leader-elect=true \
	--leader-elect-namespace recap-system --leader-elect-identity deploy-test \
	--metrics-addr "127.0.0.1:$(free_port)" --health-addr "127.0.0.1:$hport" >"$scratch/controller.log" 2>&1 &
daemons+=($!)
mkdir -p "$scratch/node-a"
cport=$(free_port)
dead=127.0.0.1:$(free_port)
"$caplet" --kubeconfig "$scratch/caplet.kubeconfig" --node-name node-a --root "$scratch/node-a" \
	--capsule "$capsule" --cgroup-parent "$cgp" --insecure-registry "$dead" \
	--metrics-address "127.0.0.1:$cport" >"$scratch/caplet.log" 2>&1 &
daemons+=($!)
logs() { echo "controller: $(tail -5 "$scratch/controller.log")"; echo "caplet: $(tail -5 "$scratch/caplet.log")"; }
eventually 30 "controller leads (its Lease)" grep -q 'leading as deploy-test' "$scratch/controller.log"
eventually 30 "caplet ready" curl -sf "http://127.0.0.1:$cport/readyz"
eventually 10 "controller ready" curl -sf "http://127.0.0.1:$hport/readyz"
[[ $(k get lease recap-controller -n recap-system -o jsonpath='{.spec.holderIdentity}') == deploy-test ]] ||
	fail "Lease not held by the controller"
ok "controller (leader, Lease recap-system/recap-controller) and caplet (node-a) start under their own tokens"

# A target on node-a as a kubelet would report it, a Capsule whose image
# cannot be pulled: the controller creates the execution, caplet takes it
# (finalizer), fails the pull, writes the result, the run ends Failed.
k run web -n shop --image=nginx -l app=web --overrides '{"spec":{"nodeName":"node-a"}}' >/dev/null
now=$(date -u +%Y-%m-%dT%H:%M:%SZ)
k patch pod web -n shop --subresource status --type merge -p '{"status":{"phase":"Running","podIP":"10.0.0.5",
 "conditions":[{"type":"Ready","status":"True"}],"containerStatuses":[{"name":"web","ready":true,"restartCount":0,
 "image":"nginx","imageID":"","containerID":"containerd://'"$(printf 'a%.0s' {1..64})"'",
 "state":{"running":{"startedAt":"'"$now"'"}}}]}}' >/dev/null || fail "pod status"
k apply -n shop -f - >/dev/null <<YAML || fail "capsule and run"
apiVersion: recap.dev/v1alpha1
kind: Capsule
metadata: {name: ps}
spec:
  image: $dead/capsules/none:1
  command: [ps]
  targets: {selector: {matchLabels: {app: web}}}
---
apiVersion: recap.dev/v1alpha1
kind: CapsuleRun
metadata: {name: ps-1}
spec: {capsuleRef: {name: ps}}
YAML
phase() { k get capsulerun ps-1 -n shop -o jsonpath='{.status.phase}'; }
failed() { [[ $(phase) == Failed ]]; }
eventually 60 "run ps-1 Failed (phase now '$(phase)')" failed
ex=$(k get capsuleexecutions -n shop -l recap.dev/run=ps-1 -o jsonpath='{range .items[*]}{.spec.node} {.status.phase} {.status.reason} {.metadata.finalizers}{"\n"}{end}')
[[ $ex == "node-a Failed ImagePullFailed " ]] || fail "execution: '$ex'; $(logs)"
[[ $(k get capsule ps -n shop -o jsonpath='{.status.conditions[?(@.type=="Ready")].reason}') == Admitted ]] ||
	fail "capsule ps not Admitted"
k get events.events.k8s.io -n shop -o jsonpath='{.items[*].reason}' | grep ExecutionsCreated >/dev/null ||
	fail "no ExecutionsCreated Event"
if grep -qi 'forbidden' "$scratch/controller.log" "$scratch/caplet.log"; then
	fail "a daemon was refused: $(grep -hi forbidden "$scratch/controller.log" "$scratch/caplet.log" | head -3)"
fi
ok "a run carried through: Capsule Admitted, execution on node-a ImagePullFailed (finalizer removed), run Failed, Event; nothing forbidden"
