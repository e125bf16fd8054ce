#!/usr/bin/env bash
# e2e: policy. A CapsulePolicy for namespaces labelled env=prod allows only
# registry.local images: a Capsule there with another image is refused (Ready
# False, PolicyViolation, the rule named; kstatus Failed, Argo CD Degraded)
# and its run starts nothing, while one of an allowed image is admitted
# (kstatus Current, Argo CD Healthy); an
# execution created by hand in that namespace (as a compromised controller
# could) is refused by caplet itself (PolicyDenied) and never runs.
#   policy.sh CAPLET CAPSULE CONTROLLER SLEEPER SOURCE_ROOT
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
e2e_up "$@" node-1

kubectl apply -f - >/dev/null <<YAML
apiVersion: v1
kind: Namespace
metadata: {name: prod, labels: {env: prod}}
---
apiVersion: recap.dev/v1alpha1
kind: CapsulePolicy
metadata: {name: production}
spec:
  namespaceSelector: {matchLabels: {env: prod}}
  images: {allowed: ["registry.local/capsules/*"]}
YAML
# (a pod needs the namespace's default ServiceAccount, made a moment later)
sa_wait prod
kubectl apply -n prod -f - >/dev/null <<YAML
apiVersion: v1
kind: Pod
metadata: {name: shop-1, labels: {app: shop}}
spec:
  nodeName: node-1
  containers: [{name: shop, image: registry.local/shop:1}]
---
apiVersion: recap.dev/v1alpha1
kind: Capsule
metadata: {name: debug}
spec:
  image: $IMAGE
  command: [ps]
  targets: {selector: {matchLabels: {app: shop}}}
YAML
running() { [[ $(kubectl get pod -n prod shop-1 -o jsonpath='{.status.phase}') == Running ]]; }
check "the stand-in runs the target pod" wait_until 30 running
refused() {
	[[ $(kubectl get capsule -n prod debug -o jsonpath='{.status.conditions[?(@.type=="Ready")].reason}') == PolicyViolation ]]
}
check "the Capsule is refused: PolicyViolation" wait_until 30 refused
msg=$(kubectl get capsule -n prod debug -o jsonpath='{.status.conditions[?(@.type=="Ready")].message}')
contains_rule() { [[ $msg == *images.allowed* ]] || { echo "  message: $msg" >&2; return 1; }; }
check "the Capsule's message names images.allowed" contains_rule
check "kstatus reads the refused Capsule Failed" wait_or_say 20 kstatus_is Capsule prod debug Failed
check "Argo CD reads it Degraded" wait_or_say 20 argo_health_is Capsule prod debug Degraded
kubectl apply -n prod -f - >/dev/null <<YAML
apiVersion: recap.dev/v1alpha1
kind: Capsule
metadata: {name: allowed}
spec:
  image: registry.local/capsules/busybox:v1
  command: [ps]
  targets: {selector: {matchLabels: {app: shop}}}
YAML
admitted() {
	[[ $(kubectl get capsule -n prod allowed -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}') == True ]]
}
check "a Capsule of an allowed image is admitted" wait_until 30 admitted
check "kstatus reads it Current" wait_or_say 20 kstatus_is Capsule prod allowed Current
check "Argo CD reads it Healthy" wait_or_say 20 argo_health_is Capsule prod allowed Healthy
check "kstatus reads the CapsulePolicy Current" wait_or_say 20 kstatus_is CapsulePolicy "" production Current
check "Argo CD reads it Healthy" wait_or_say 20 argo_health_is CapsulePolicy "" production Healthy

kubectl apply -n prod -f - >/dev/null <<YAML
apiVersion: recap.dev/v1alpha1
kind: CapsuleRun
metadata: {name: debug-1}
spec: {capsuleRef: {name: debug}}
YAML
sleep 3
check "its run starts no execution" equals "$(kubectl get cexec -n prod -l recap.dev/run=debug-1 -o name)" ""

cid=$(kubectl get pod -n prod shop-1 -o jsonpath='{.status.containerStatuses[0].containerID}')
uid=$(kubectl get pod -n prod shop-1 -o jsonpath='{.metadata.uid}')
kubectl apply -n prod -f - >/dev/null <<YAML
apiVersion: recap.dev/v1alpha1
kind: CapsuleExecution
metadata: {name: by-hand, labels: {recap.dev/run: by-hand, recap.dev/node: node-1}}
spec:
  runRef: {name: by-hand}
  node: node-1
  target: {pod: shop-1, podUID: $uid, container: shop, containerID: "$cid"}
  capsule: {image: "$IMAGE", command: [touch, /out/ran]}
YAML
denied() { [[ $(kubectl get cexec -n prod by-hand -o jsonpath='{.status.reason}') == PolicyDenied ]]; }
check "caplet refuses a hand-made execution that violates policy" wait_until 30 denied
hand_uid=$(kubectl get cexec -n prod by-hand -o jsonpath='{.metadata.uid}')
check "and never runs it" test ! -e "$T/node-node-1/out/ce-${hand_uid//-/}"
check "nothing is left on the node" nodes_clean
finish
