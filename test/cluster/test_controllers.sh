#!/usr/bin/env bash
# kube-controller-manager does its part: the garbage collector deletes a
# dependent once its owner is gone, and service-account tokens (signed with
# the cluster's keys) authenticate as their service account.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

up c
d=$scratch/c
url=$(cluster_env "$d" RECAP_APISERVER_URL)

kc "$d" create configmap owner >/dev/null
kc "$d" create configmap bystander >/dev/null
uid=$(kc "$d" get configmap owner -o 'jsonpath={.metadata.uid}')
kc "$d" apply -f - >/dev/null <<YAML
apiVersion: v1
kind: ConfigMap
metadata:
  name: dependent
  ownerReferences:
  - {apiVersion: v1, kind: ConfigMap, name: owner, uid: "$uid"}
YAML
kc "$d" get configmap dependent >/dev/null || fail "dependent not created"
kc "$d" delete configmap owner --wait=false >/dev/null
gone() { ! kc "$d" get configmap dependent >/dev/null 2>&1; }
eventually 60 "the garbage collector deletes the dependent" gone
kc "$d" get configmap bystander >/dev/null || fail "the configmap without owner was deleted"
ok "garbage collection: dependent deleted after its owner, bystander kept"

# TokenRequest: signed by the apiserver with --service-account-signing-key-file.
token=$(kc "$d" create token default)
who() {
	curl -sS --fail --cacert "$d/pki/ca.crt" -H "Authorization: Bearer $1" -H 'Content-Type: application/json' \
		-X POST -d '{"apiVersion":"authentication.k8s.io/v1","kind":"SelfSubjectReview"}' \
		"$url/apis/authentication.k8s.io/v1/selfsubjectreviews"
}
who "$token" | grep '"username": *"system:serviceaccount:default:default"' >/dev/null ||
	fail "token of default does not authenticate"
ok "a requested token authenticates as system:serviceaccount:default:default"

# A legacy token Secret: filled in by the controller manager's token controller.
kc "$d" apply -f - >/dev/null <<YAML
apiVersion: v1
kind: Secret
metadata:
  name: default-token
  annotations: {kubernetes.io/service-account.name: default}
type: kubernetes.io/service-account-token
YAML
filled() { [[ -n $(kc "$d" get secret default-token -o 'jsonpath={.data.token}') ]]; }
eventually 30 "the token controller fills the secret" filled
legacy=$(kc "$d" get secret default-token -o 'jsonpath={.data.token}' | base64 -d)
who "$legacy" | grep '"username": *"system:serviceaccount:default:default"' >/dev/null ||
	fail "legacy token does not authenticate"
ok "the service-account token controller fills a token secret that authenticates"
