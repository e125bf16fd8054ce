#!/usr/bin/env bash
# What GitOps tools read from RECap's objects, on fixed objects that carry the
# conditions the controller and caplet write (docs/gitops.md): kstatus (the
# library Flux uses, hack/kstatus built by hack/build-kube) and the Argo CD
# health scripts of config/argocd/ run by hack/argocd-health (Lua 5.4). Also:
# the argocd-cm patch carries those scripts unchanged, and both tools refuse
# bad input with a message.
set -euo pipefail
# shellcheck source=hack/lib/errtrap.sh
. "$(dirname "${BASH_SOURCE[0]}")/../../hack/lib/errtrap.sh"
src=${RECAP_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
RECAP_KUBE_BIN=${RECAP_KUBE_BIN:-$("$src/hack/build-kube" --print)}
kstatus=$RECAP_KUBE_BIN/kstatus
if [[ ! -x $kstatus ]]; then
	echo "SKIP: $kstatus missing (run hack/build-kube or hack/test)" >&2
	exit 77
fi
argo=$src/hack/argocd-health
fixtures=$src/test/gitops/fixtures
# shellcheck source=e2e/checks.sh
. "$src/e2e/checks.sh"

# FIXTURE KSTATUS ARGO [WORDS]: kstatus prints KSTATUS, the Argo CD script ARGO,
# and its message holds WORDS.
expect() {
	local f=$fixtures/$1.json words=${4:-} kind ks ar
	kind=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["kind"])' "$f")
	ks=$("$kstatus" <"$f") || { fail "$1: kstatus failed"; return; }
	ar=$("$argo" "$kind" <"$f") || { fail "$1: argocd-health failed"; return; }
	check "$1: kstatus ${2}" equals "${ks%% *}" "$2"
	check "$1: Argo CD ${3}" equals "${ar%% *}" "$3"
	[[ -z $words ]] || check "$1: Argo CD's message says '$words'" eval '[[ $ar == *"$words"* ]]'
}

expect run-pending InProgress Progressing
expect run-running InProgress Progressing "1 of 2 executions running"
expect run-succeeded Current Healthy "2 of 2 succeeded"
expect run-failed Failed Degraded FailurePolicyStop
expect run-partiallyfailed Failed Degraded PartiallyFailed
expect run-cancelled Failed Degraded Cancelled
expect run-policyviolation Failed Degraded images.allowed
expect run-spec-changed InProgress Progressing "generation 2"

expect capsule-admitted Current Healthy
expect capsule-refused-policy Failed Degraded "PolicyViolation: CapsulePolicy production: images.allowed"
expect capsule-invalid Failed Degraded InvalidSpec
expect capsule-suspended Current Suspended
expect capsule-refused-suspended Failed Degraded spec.timeoutSeconds

for p in pending pulling attaching running escaping; do expect "exec-$p" InProgress Progressing; done
expect exec-succeeded Current Healthy
expect exec-failed-nodelost Failed Degraded "NodeLost: node agent of node-1 lost"
expect exec-failed-error Failed Degraded Error

expect policy-ready Current Healthy
expect policy-keys-unavailable Failed Degraded "ConfigMap recap-system/keys does not exist"

same_scripts() {
	python3 - "$src/config/argocd" <<'PY'
import os, sys, yaml
d = sys.argv[1]
data = yaml.safe_load(open(os.path.join(d, "argocd-cm-patch.yaml")))["data"]
kinds = ["Capsule", "CapsuleRun", "CapsuleExecution", "CapsulePolicy"]
keys = ["resource.customizations.health.recap.dev_" + k for k in kinds]
if sorted(data) != sorted(keys):
    sys.exit(f"  keys: {sorted(data)}")
for k, key in zip(kinds, keys):
    if data[key] != open(os.path.join(d, f"health-{k.lower()}.lua")).read():
        sys.exit(f"  {key} differs from health-{k.lower()}.lua")
PY
}
check "argocd-cm-patch.yaml carries each kind's script unchanged" same_scripts

# refuses: CMD INPUT WORDS: CMD fails on INPUT and says WORDS.
refuses() {
	local out
	if out=$("$1" "${@:4}" <<<"$2" 2>&1); then echo "  accepted: $out" >&2; return 1; fi
	[[ $out == *"$3"* ]] || { echo "  said: $out" >&2; return 1; }
}
check "kstatus refuses an empty input" refuses "$kstatus" "" "no object on stdin"
check "kstatus refuses what is not JSON" refuses "$kstatus" "{" "not a JSON object"
check "kstatus refuses an object without kind" refuses "$kstatus" '{"apiVersion":"v1"}' "not a Kubernetes object"
check "kstatus refuses two objects" refuses "$kstatus" '{"apiVersion":"v1","kind":"A"}{}' "more than one"
check "argocd-health refuses what is not JSON" refuses "$argo" "{" "not JSON" Capsule
check "argocd-health refuses another kind" refuses "$argo" "$(cat "$fixtures/run-running.json")" "not a Capsule" Capsule
check "argocd-health refuses two objects" refuses "$argo" '{"kind":"Capsule"} {}' "more than one" Capsule

if ((FAILS)); then
	echo "$FAILS check(s) failed" >&2
	exit 1
fi
echo "all checks passed"
