#!/usr/bin/env bash
# e2e: signed capsules. A CapsulePolicy requires cosign signatures by a key
# (spec.images.signatures); images are signed with the real cosign CLI (key
# pairs of its own making, no transparency log) in the e2e registry. Checked:
# a signed capsule runs; an unsigned one, one signed by another key, one
# carrying another image's signature, one whose signed payload was altered,
# and an unsigned one already in the node's store are each refused before
# they run (SignatureRefused, the message saying why); a second policy with another
# key makes both keys required (the refusal names the key set) until the
# image carries both signatures; a namespace no such policy selects runs the
# unsigned image. The controller checks too, when it admits a Capsule and
# before a run's first execution: while it cannot reach the registry (first
# part: it talks TLS to the plain-HTTP e2e registry) the node's check
# decides; once it can, a Capsule of an unsigned image is refused
# (SignatureRefused) and its run starts no execution. Keys held in a ConfigMap
# or Secret of the controller's signing-key namespace (publicKeyRefs; the
# Secret made by cosign generate-key-pair k8s://...) reach the policy's
# status and the node's check; a missing object or a key that is not a public
# key refuses what the policy governs (KeysUnavailable, SignatureRefused); a
# key rotated in its ConfigMap takes effect.
#   signatures.sh CAPLET CAPSULE CONTROLLER SLEEPER SOURCE_ROOT
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
COSIGN=${RECAP_COSIGN:-$("$5/hack/build-cosign")}
CONTROLLER_ARGS=(--signing-keys-namespace recap-keys --signing-keys-check-seconds 2)
e2e_up "$@" node-1

# cosign with nowhere to go but loopback: its trust root and any proxy are a
# closed local port, so a step that would reach the network fails here.
dead=127.0.0.1:$(free_port)
mkdir -p "$T/cosign-home"
cosign() {
	HOME=$T/cosign-home COSIGN_PASSWORD=e2e TUF_ROOT=$T/cosign-home/tuf TUF_MIRROR=http://$dead \
		HTTPS_PROXY=http://$dead HTTP_PROXY=http://$dead https_proxy=http://$dead http_proxy=http://$dead \
		NO_PROXY=127.0.0.1 no_proxy=127.0.0.1 "$COSIGN" "$@"
}
sign() { # KEY REF
	cosign sign --key "$1" --tlog-upload=false --allow-insecure-registry --allow-http-registry -y "$2" \
		>"$T/sign.log" 2>&1 || { cat "$T/sign.log" >&2; return 1; }
}
for k in k1 k2; do
	mkdir -p "$T/$k"
	(cd "$T/$k" && cosign generate-key-pair >/dev/null 2>&1) || { echo "cosign generate-key-pair failed" >&2; exit 1; }
done

# Images of distinct digests (the busybox capsule with a label each).
repo=$REGISTRY/capsules/sig
for tag in signed unsigned other copied tampered k1only k8s; do
	(cd "$T" && umoci config --image img:v1 --tag "$tag" --config.label "recap.test=$tag") >/dev/null
	skopeo copy -q --dest-tls-verify=false "oci:$T/img:$tag" "docker://$repo:$tag" >/dev/null
done
sign "$T/k1/cosign.key" "$repo:signed"
sign "$T/k2/cosign.key" "$repo:other"
sign "$T/k1/cosign.key" "$repo:k1only"
# Forgeries (test/oci/sigtool.py): the signed image's signature copied to
# another image's .sig tag; an image signed, then its payload altered.
sign "$T/k1/cosign.key" "$repo:tampered"
sig_tag() { # TAG -> its .sig tag
	local d
	d=$(skopeo inspect --tls-verify=false --format '{{.Digest}}' "docker://$repo:$1")
	printf 'sha256-%s.sig' "${d#sha256:}"
}
SIGTOOL=$E2E_SRC/test/oci/sigtool.py
python3 "$SIGTOOL" copy "$REGISTRY" capsules/sig "$(sig_tag signed)" capsules/sig "$(sig_tag copied)"
python3 "$SIGTOOL" tamper "$REGISTRY" capsules/sig "$(sig_tag tampered)"

ns_create shop free
pod_create shop web-1 node-1 app registry.local/app:1 app=web
pod_create free web-2 node-1 app registry.local/app:1 app=web
check "the stand-in runs the target pods" eval 'wait_until 30 pods_running shop 1 && wait_until 30 pods_running free 1'
signing_policy() { # NAME SIGNATURES: a policy over shop with that images.signatures (YAML)
	kubectl apply -f - >/dev/null <<YAML
apiVersion: recap.dev/v1alpha1
kind: CapsulePolicy
metadata: {name: $1}
spec:
  namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: shop}}
  images:
    signatures:
$2
YAML
}
policy() { # NAME KEYFILE
	signing_policy "$1" "      publicKeys:
        - |
$(sed 's/^/          /' "$2")"
}
policy signed-by-k1 "$T/k1/cosign.pub"

# capsule NS NAME TAG: a Capsule of repo:TAG on the namespace's pod, and its run NAME-1.
capsule() {
	kubectl apply -n "$1" -f - >/dev/null <<YAML
apiVersion: recap.dev/v1alpha1
kind: Capsule
metadata: {name: $2}
spec:
  image: $repo:$3
  command: [sh, -c, 'echo ran-$2']
  timeoutSeconds: 60
  targets: {selector: {matchLabels: {app: web}}}
---
apiVersion: recap.dev/v1alpha1
kind: CapsuleRun
metadata: {name: $2-1}
spec: {capsuleRef: {name: $2}}
YAML
}
run_is() { run_phase_is "$@"; }
exec_field() { run_exec_field "$@"; } # NS RUN FIELD
ran() { # NS NAME
	wait_until 60 run_is "$1" "$2-1" Succeeded || { echo "  run $2-1 did not succeed" >&2; return 1; }
	[[ $(exec_field "$1" "$2-1" .status.stdoutTail) == *"ran-$2"* ]]
}
refused() { run_refused "$1" "$2-1" SignatureRefused "$3"; } # NS NAME NEEDLE

capsule shop good signed
check "an image signed by the policy's key runs" ran shop good
signed_digest=$(skopeo inspect --tls-verify=false --format '{{.Digest}}' "docker://$repo:signed")
check "the digest it ran is the signed one" eval '[[ $(exec_field shop good-1 .status.imageDigest) == "$signed_digest" ]]'
check "the policy's key is a file in the node's store" eval 'ls "$T/node-node-1/keys/"*.pem >/dev/null'
capsule shop plain unsigned
check "an unsigned image is refused, saying so" refused shop plain "is not signed"
capsule shop foreign other
check "an image signed by another key is refused" refused shop foreign "does not verify with"
capsule shop copied copied
check "an image carrying another image's signature is refused" refused shop copied "a signature of another image"
capsule shop tampered tampered
check "an image whose signed payload was altered is refused" refused shop tampered "does not verify with"
# the unsigned image put in the node's store beforehand, as another run would
"$E2E_CAPSULE" --root "$T/node-node-1" pull --insecure-registry "$REGISTRY" "$repo:unsigned" >/dev/null
capsule shop cached unsigned
check "an unsigned image already in the node's store is refused too" refused shop cached "is not signed"
capsule free elsewhere unsigned
check "a namespace no signing policy selects runs the unsigned image" ran free elsewhere

# Two policies: each key is required.
policy signed-by-k2 "$T/k2/cosign.pub"
capsule shop both signed
check "a second policy's key is required as well (the refusal names the key set)" refused shop both "key set 2 of 2"
sign "$T/k2/cosign.key" "$repo:signed"
capsule shop both-signed signed
check "signed by both keys, it runs" ran shop both-signed
check "the controller said it could not check (the node decided)" \
	eval 'grep -q "not checked by the controller" "$T/controller.log"'

# Keys by reference, still decided by the node: the controller reads them
# into the policy's status (it needs no registry for that).
kubectl delete capsulepolicy signed-by-k1 signed-by-k2 >/dev/null
kubectl create namespace recap-keys >/dev/null
ref_policy() { # NAME configMapKeyRef|secretKeyRef OBJECT
	signing_policy "$1" "      publicKeyRefs: [{$2: {name: $3, key: cosign.pub}}]"
}
policy_ready() { # NAME STATUS REASON
	[[ $(kubectl get capsulepolicy "$1" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}/{.status.conditions[?(@.type=="Ready")].reason}') == "$2/$3" ]]
}
policy_key_is() { # NAME PEMFILE: status.signatures holds exactly that key
	[[ $(kubectl get capsulepolicy "$1" -o jsonpath='{.status.signatures.publicKeys[0]}') == "$(cat "$2")" ]]
}
capsule_is() { # NS NAME STATUS REASON
	[[ $(kubectl get capsule -n "$1" "$2" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}/{.status.conditions[?(@.type=="Ready")].reason}') == "$3/$4" ]]
}
ready_message() { kubectl get "$1" "${@:2}" -o jsonpath='{.status.conditions[?(@.type=="Ready")].message}'; }
ref_policy by-configmap configMapKeyRef keys
check "a policy whose ConfigMap does not exist: Ready False, KeysUnavailable" \
	wait_until 30 policy_ready by-configmap False KeysUnavailable
check "and Stalled (what GitOps tools read as failed)" eval '[[ $(kubectl get capsulepolicy by-configmap \
	-o jsonpath="{.status.conditions[?(@.type==\"Stalled\")].status}") == True ]]'
msg=$(ready_message capsulepolicy by-configmap)
check "its message names the key, the ConfigMap and why" \
	eval '[[ $msg == *"key \"cosign.pub\" of ConfigMap recap-keys/keys does not exist"* ]] || { echo "  message: $msg" >&2; false; }'
capsule shop ref-missing signed
check "a Capsule it governs is refused (SignatureRefused), even of a signed image" \
	wait_until 30 capsule_is shop ref-missing False SignatureRefused
msg=$(ready_message capsule -n shop ref-missing)
check "the Capsule's message names the policy and the missing ConfigMap" \
	eval '[[ $msg == *"CapsulePolicy \"by-configmap\""* && $msg == *"ConfigMap recap-keys/keys does not exist"* ]] || { echo "  message: $msg" >&2; false; }'
check "its run started no execution" eval 'wait_until 30 run_is shop ref-missing-1 Failed &&
	[[ -z $(kubectl get cexec -n shop -l recap.dev/run=ref-missing-1 -o name) ]]'
kubectl create configmap keys -n recap-keys --from-file=cosign.pub="$T/k1/cosign.pub" >/dev/null
check "once the ConfigMap exists the policy holds its key (status.signatures) and is Ready" \
	eval 'wait_until 30 policy_ready by-configmap True Observed && policy_key_is by-configmap "$T/k1/cosign.pub"'
capsule shop ref-good signed
check "an image signed by the referenced key runs (checked by the node)" ran shop ref-good
capsule shop ref-unsigned unsigned
check "an unsigned image is refused by the node" refused shop ref-unsigned "is not signed"
kubectl create configmap keys -n recap-keys --from-file=cosign.pub="$T/k2/cosign.pub" --dry-run=client -o yaml |
	kubectl apply -f - >/dev/null 2>&1
check "a key rotated in the ConfigMap reaches the policy's status" \
	wait_until 30 policy_key_is by-configmap "$T/k2/cosign.pub"
capsule shop ref-rotated other
check "after the rotation an image signed by the new key runs" ran shop ref-rotated
capsule shop ref-old k1only
check "and one signed only by the old key is refused" refused shop ref-old "does not verify with"
kubectl create configmap notakey -n recap-keys --from-file=cosign.pub="$T/k1/cosign.key" >/dev/null
ref_policy not-a-key configMapKeyRef notakey
check "a referenced value that is not a public key: KeysUnavailable, saying so" \
	eval 'wait_until 30 policy_ready not-a-key False KeysUnavailable &&
	[[ $(ready_message capsulepolicy not-a-key) == *"is not a usable public key"* ]]'
check "and what the policy governs is refused meanwhile" \
	eval 'capsule shop ref-not-a-key other && wait_until 30 capsule_is shop ref-not-a-key False SignatureRefused'
kubectl delete capsulepolicy not-a-key by-configmap >/dev/null
# A key pair cosign keeps in a Secret, and an image it signs with that Secret.
check "cosign generate-key-pair k8s://recap-keys/cosign-keys makes its Secret" \
	eval '(cd "$T" && cosign generate-key-pair k8s://recap-keys/cosign-keys) >"$T/k8s-keys.log" 2>&1 ||
	{ cat "$T/k8s-keys.log" >&2; false; }'
sign k8s://recap-keys/cosign-keys "$repo:k8s"
ref_policy by-secret secretKeyRef cosign-keys
check "a policy whose key is in that Secret holds its public key" \
	eval 'wait_until 30 policy_ready by-secret True Observed &&
	[[ $(kubectl get capsulepolicy by-secret -o jsonpath="{.status.signatures.publicKeys[0]}") == "-----BEGIN PUBLIC KEY-----"* ]]'
check "and nothing of the Secret's private key or password" \
	eval '! kubectl get capsulepolicy by-secret -o json | grep -q "PRIVATE KEY"'
capsule shop by-secret k8s
check "an image cosign signed with the Secret's key runs" ran shop by-secret
capsule shop by-secret-other other
check "an image signed by another key is refused" refused shop by-secret-other "does not verify with"
kubectl delete capsulepolicy by-secret >/dev/null
policy signed-by-k1 "$T/k1/cosign.pub"

# The controller reaches the registry now: it refuses at admission.
kill -TERM "$CONTROLLER_PID"
wait "$CONTROLLER_PID" 2>/dev/null || true
# (through the registry configuration a node would have: the server is plain HTTP)
mkdir -p "$T/certs.d/$REGISTRY"
printf 'server = "http://%s"\n' "$REGISTRY" >"$T/certs.d/$REGISTRY/hosts.toml"
CONTROLLER_ARGS+=(--registry-config "$T/certs.d")
controller_start
capsule shop unsigned-at-admission unsigned
check "a Capsule of an unsigned image is refused at admission: SignatureRefused" \
	wait_until 30 capsule_is shop unsigned-at-admission False SignatureRefused
msg=$(kubectl get capsule -n shop unsigned-at-admission -o jsonpath='{.status.conditions[?(@.type=="Ready")].message}')
check "its message says the image is not signed and names the policy" \
	eval '[[ $msg == *"CapsulePolicy \"signed-by-k1\""* && $msg == *"is not signed"* ]] || { echo "  message: $msg" >&2; false; }'
run_failed() { wait_until 30 run_is shop unsigned-at-admission-1 Failed; }
check "its run fails" run_failed
check "its run started no execution" \
	equals "$(kubectl get cexec -n shop -l recap.dev/run=unsigned-at-admission-1 -o name)" ""
capsule shop foreign-at-admission other
check "a Capsule of an image signed by another key is refused at admission" \
	wait_until 30 capsule_is shop foreign-at-admission False SignatureRefused
for forged in copied tampered; do
	capsule shop "$forged-at-admission" "$forged"
	check "a Capsule of the $forged image is refused at admission" \
		wait_until 30 capsule_is shop "$forged-at-admission" False SignatureRefused
done
msg=$(kubectl get capsule -n shop copied-at-admission -o jsonpath='{.status.conditions[?(@.type=="Ready")].message}')
check "the copied signature's refusal says it is another image's" \
	eval '[[ $msg == *"a signature of another image"* ]] || { echo "  message: $msg" >&2; false; }'
capsule shop good-at-admission signed
check "a Capsule of a signed image is admitted and runs" \
	eval 'wait_until 30 capsule_is shop good-at-admission True Admitted && ran shop good-at-admission'
check "nothing is left on any node" nodes_clean
finish
