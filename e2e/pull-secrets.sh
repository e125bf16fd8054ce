#!/usr/bin/env bash
# e2e: a capsule image in a private registry (docker-registry with htpasswd).
# The Capsule names a pull Secret (spec.imagePullSecrets); each caplet runs
# as the recap-caplet service account with its own RBAC and a token bound to
# its node, as a caplet pod's is; recap-apiserver (through the aggregation
# layer) gives an execution's credentials to its node's caplet only, which
# hands them to the pull on a pipe. Checked: the private capsule runs; the
# same image, now in the node's store, is not run for a Capsule without the
# credentials; a missing Secret, one of another type and a wrong password
# each fail the execution with a message that names the problem; as a
# compromised node would, another node's caplet token, a token bound to no
# node and a namespace editor ask for an execution's credentials and are
# refused, as is the right node once the execution ended; the password is
# nowhere in the executions, the nodes' stores or the components' logs, nor
# anywhere a capsule pulled with them can read (its processes, environment,
# root, /target). And
# the nodes' registry configuration (--registry-config, containerd's
# certs.d): an image of a registry that is down runs from its mirror.
#   pull-secrets.sh CAPLET CAPSULE CONTROLLER SLEEPER SOURCE_ROOT APISERVER
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
APISERVER_BIN=$(realpath "$6")
PASSWORD=s3cret-$RANDOM$RANDOM

# The private registry, and the capsule image copied into it.
private_registry_up() {
	local port
	port=$(free_port)
	mkdir -p "$T/private"
	python3 -W ignore - "$T/private/htpasswd" "$PASSWORD" <<'PY'
import crypt, sys
open(sys.argv[1], "w").write("tester:" + crypt.crypt(sys.argv[2], crypt.mksalt(crypt.METHOD_BLOWFISH)).replace("$2b$", "$2y$", 1) + "\n")
PY
	printf '%s\n' "version: 0.1" "log: {level: error, accesslog: {disabled: true}}" \
		"storage: {filesystem: {rootdirectory: $T/private/data}}" "http: {addr: 127.0.0.1:$port}" \
		"auth: {htpasswd: {realm: recap-e2e, path: $T/private/htpasswd}}" >"$T/private.yml"
	docker-registry serve "$T/private.yml" >"$T/private-registry.log" 2>&1 &
	PIDS+=($!)
	PRIVATE=127.0.0.1:$port
	wait_until 20 curl -s -o /dev/null "http://$PRIVATE/v2/"
	skopeo copy -q --src-tls-verify=false --dest-tls-verify=false --dest-creds "tester:$PASSWORD" \
		"docker://$IMAGE" "docker://$PRIVATE/private/busybox:v1" >/dev/null
	PRIVATE_IMAGE=$PRIVATE/private/busybox:v1
	CAPLET_ARGS+=(--insecure-registry "$PRIVATE")
}

# caplet's service account, role and admission policy from config/rbac, and
# for each node a kubeconfig with a token of it bound to the Node object.
node_bound_caplets() {
	kubectl apply -f "$E2E_SRC/config/rbac/service_account.yaml" -f "$E2E_SRC/config/rbac/caplet_role.yaml" \
		-f "$E2E_SRC/config/rbac/caplet_role_binding.yaml" -f "$E2E_SRC/config/rbac/caplet_node_policy.yaml" \
		>/dev/null
	local n tok
	for n in "${NODES[@]}"; do
		wait_until 30 kubectl get node "$n" -o name >/dev/null ||
			{ echo "the stand-in made no Node $n" >&2; exit 1; }
		tok=$(kubectl create token recap-caplet -n recap-system --bound-object-kind Node \
			--bound-object-name "$n" --duration 1h)
		token_kubeconfig "$T/caplet-$n.kubeconfig" "$tok"
		CAPLET_KUBECONFIGS[$n]=$T/caplet-$n.kubeconfig
	done
}
token_kubeconfig() { # FILE TOKEN
	cat >"$1" <<KC
apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "$RECAP_APISERVER_URL", certificate-authority: "$RECAP_CA_FILE"}}]
users: [{name: u, user: {token: "$2"}}]
contexts: [{name: c, context: {cluster: c, user: u}}]
current-context: c
KC
}
# The node's registry configuration (containerd's certs.d): a registry that
# does not answer, mirrored by the e2e registry.
registry_config() {
	DEAD=127.0.0.1:$(free_port)
	mkdir -p "$T/certs.d/$DEAD"
	printf 'server = "http://%s"\n[host."http://%s"]\n  capabilities = ["pull", "resolve"]\n' "$DEAD" \
		"$REGISTRY" >"$T/certs.d/$DEAD/hosts.toml"
	CAPLET_ARGS+=(--registry-config "$T/certs.d")
}
before_components() {
	streams_register
	private_registry_up
	registry_config
	node_bound_caplets
}

streams_prepare
E2E_BEFORE_COMPONENTS=before_components
e2e_up "$1" "$2" "$3" "$4" "$5" node-1 node-2
streams_up "$APISERVER_BIN"

ns_create shop
pod_create shop web-1 node-1 app registry.local/app:1 app=web
check "the stand-in runs the target pod" wait_until 30 pods_running shop 1
kubectl create secret docker-registry regcred -n shop --docker-server="$PRIVATE" --docker-username=tester \
	--docker-password="$PASSWORD" >/dev/null
kubectl create secret docker-registry badcred -n shop --docker-server="$PRIVATE" --docker-username=tester \
	--docker-password=wrong >/dev/null
kubectl create secret generic opaque -n shop --from-literal=password="$PASSWORD" >/dev/null

# capsule NAME SECRETS COMMAND: a Capsule of the private image on web-1 and its run NAME-1.
capsule() {
	kubectl apply -n shop -f - >/dev/null <<YAML
apiVersion: recap.dev/v1alpha1
kind: Capsule
metadata: {name: $1}
spec:
  image: $PRIVATE_IMAGE
  imagePullSecrets: $2
  command: [sh, -c, '$3']
  timeoutSeconds: 60
  targets: {selector: {matchLabels: {app: web}}}
---
apiVersion: recap.dev/v1alpha1
kind: CapsuleRun
metadata: {name: $1-1}
spec: {capsuleRef: {name: $1}}
YAML
}
run_is() { run_phase_is shop "$@"; }
exec_of() { run_exec shop "$1"; }
exec_field() { run_exec_field shop "$@"; }
failed_with() { run_refused shop "$1" ImagePullFailed "$2"; } # RUN NEEDLE

# -- the private capsule runs with its pull secret; the node's store marks the image
capsule private '[{name: regcred}]' 'echo private-ok; sleep 12'
running() { [[ $(exec_field private-1 .status.phase 2>/dev/null) == Running ]]; }
check "the private capsule's execution runs on node-1" wait_until 60 running
E=$(exec_of private-1)
stored_with_credentials() {
	python3 -c 'import json,sys
e=json.load(open(sys.argv[1]+"/index.json"))["images"].get(sys.argv[2], {})
sys.exit(0 if e.get("credentials") is True else 1)' "$T/node-node-1" "$PRIVATE_IMAGE"
}
check "node-1's store has the image, marked as pulled with credentials" stored_with_credentials
check "node-2 pulled nothing" eval '[[ ! -e $T/node-node-2/index.json ]] || ! grep -qF "$PRIVATE_IMAGE" "$T/node-node-2/index.json"'

# -- as a compromised node would: ask recap-apiserver for the execution's credentials
api="/apis/subresources.recap.dev/v1alpha1/namespaces/shop/capsuleexecutions/$E/pullcredentials"
ask() { # KUBECONFIG: the answer in $T/creds.out/err, RC
	RC=0
	KUBECONFIG=$1 kubectl get --raw "$api" >"$T/creds.out" 2>"$T/creds.err" || RC=$?
}
has_err() { grep -qF -- "$1" "$T/creds.err" || { echo "  '$1' not in: $(cat "$T/creds.err")" >&2; return 1; }; }
ask "${CAPLET_KUBECONFIGS[node-1]}"
check "node-1's caplet (the execution's node) gets the credentials" \
	eval '((RC == 0)) && python3 -c "import json,sys; a=json.load(open(sys.argv[1]))[\"auths\"]; sys.exit(0 if sys.argv[2] in a else 1)" "$T/creds.out" "$PRIVATE"'
ask "${CAPLET_KUBECONFIGS[node-2]}"
check "node-2's caplet is refused: the execution is node-1's" \
	eval '((RC != 0)) && has_err "for the node agent of node \"node-1\" only" && [[ ! -s $T/creds.out ]]'
token_kubeconfig "$T/unbound.kubeconfig" "$(kubectl create token recap-caplet -n recap-system --duration 10m)"
ask "$T/unbound.kubeconfig"
check "caplet's token bound to no node is refused" eval '((RC != 0)) && has_err "holds no token bound to that node"'
kubectl create rolebinding alice-edit -n shop --clusterrole edit --user alice >/dev/null
ALICE=$("$E2E_SRC/hack/cluster" user --dir "$T/cluster" alice)
ask "$ALICE"
check "a namespace editor is refused by RBAC" \
	eval '((RC != 0)) && has_err "cannot get resource \"capsuleexecutions/pullcredentials\""'
check "the private run succeeds" wait_until 60 run_is private-1 Succeeded
check "its output is the capsule's" eval '[[ $(exec_field private-1 .status.stdoutTail) == *private-ok* ]]'
ask "${CAPLET_KUBECONFIGS[node-1]}"
check "once the execution ended, its node's caplet is refused too" eval '((RC != 0)) && has_err "has ended"'

# -- from inside a capsule whose own image was just pulled with the
# credentials: look for them everywhere it can read (every visible process's
# command line and environment, its own environment, every regular file of its
# root, /target and /out, past any proc, sys or dev directory). The needles are the password's fixed prefix and the start
# of the base64 "tester:<password>" a registry auth holds, each written split
# so that the probe's own command line does not hold it. One needle planted in
# the capsule's /tmp shows the search finds what is there: that must be all.
probe='n1=s3""cret-; n2=dGVzdGVy""OnMzY3Jl; hits=; echo "$n1" >/tmp/planted;'
probe+=' for f in /proc/[0-9]*/cmdline /proc/[0-9]*/environ; do grep -qsF -e "$n1" -e "$n2" "$f" && hits="$hits $f"; done;'
probe+=' env | grep -qF -e "$n1" -e "$n2" && hits="$hits env";'
probe+=' for d in /*; do case $d in /proc|/sys|/dev) continue;; esac;'
probe+=' for f in $(find "$d" \( -name proc -o -name sys -o -name dev \) -prune -o -type f -exec grep -lsF -e "$n1" -e "$n2" {} +); do hits="$hits $f"; done; done;'
probe+=' echo "probe: processes $(ls -d /proc/[0-9]* | wc -l), found:${hits:- nothing}"'
capsule probe '[{name: regcred}]' "$probe"
check "a capsule pulled with the credentials finds them nowhere it can read" \
	eval 'wait_until 60 run_is probe-1 Succeeded &&
	[[ $(exec_field probe-1 .status.stdoutTail) == *"found: /tmp/planted" ]] ||
	{ echo "  probe: $(exec_field probe-1 .status.phase) $(exec_field probe-1 .status.reason) $(exec_field probe-1 .status.message): $(exec_field probe-1 .status.stdoutTail)" >&2; false; }'

# -- the same image, in node-1's store now, for a Capsule without the credentials
capsule anonymous '[]' 'echo must-not-run'
check "a Capsule without the pull secret does not run the stored private image" \
	failed_with anonymous-1 "requires credentials"
check "its command never ran" eval '[[ -z $(exec_field anonymous-1 .status.stdoutTail) ]]'

# -- each bad credential is named
capsule missing '[{name: nope}]' 'true'
check "a missing Secret is named" failed_with missing-1 'secret "nope" (spec.capsule.imagePullSecrets) not found'
capsule wrongtype '[{name: opaque}]' 'true'
check "a Secret of another type is named" failed_with wrongtype-1 'secret "opaque" is of type "Opaque"'
capsule badpass '[{name: badcred}]' 'true'
check "a wrong password is the registry's refusal" failed_with badpass-1 "access denied (HTTP 401)"

# -- a mirror from the node's registry configuration
kubectl apply -n shop -f - >/dev/null <<YAML
apiVersion: recap.dev/v1alpha1
kind: Capsule
metadata: {name: mirrored}
spec:
  image: $DEAD/capsules/busybox:v1
  command: [sh, -c, 'echo mirrored-ok']
  timeoutSeconds: 60
  targets: {selector: {matchLabels: {app: web}}}
---
apiVersion: recap.dev/v1alpha1
kind: CapsuleRun
metadata: {name: mirrored-1}
spec: {capsuleRef: {name: mirrored}}
YAML
check "an image of a registry that is down runs from the mirror the node's hosts.toml names" \
	eval 'wait_until 60 run_is mirrored-1 Succeeded && [[ $(exec_field mirrored-1 .status.stdoutTail) == *mirrored-ok* ]]'

# -- the password went nowhere it should not
leaked() {
	local b64
	b64=$(printf 'tester:%s' "$PASSWORD" | base64 -w0)
	kubectl get cexec,caprun -n shop -o json >"$T/objects.json"
	if grep -rlF -e "$PASSWORD" -e "$b64" "$T/objects.json" "$T"/node-node-* "$T"/caplet-*.log "$T"/controller.log \
		"$T"/apiserver.log 2>/dev/null; then
		return 0
	fi
	return 1
}
check "the password is in no execution, run, node store or component log" eval '! leaked'
check "the admission policy admitted the node-bound caplets' writes (no refusal logged)" \
	eval '! grep -h "may only write CapsuleExecutions of its own node" "$T"/caplet-*.log'
check "nothing is left on any node" nodes_clean
finish
