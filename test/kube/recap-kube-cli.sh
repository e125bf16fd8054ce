#!/usr/bin/env bash
# recap-kube against a real API server (run through with-cluster.sh):
#   recap-kube-cli.sh PATH-TO-recap-kube
set -euo pipefail
# shellcheck source=hack/lib/errtrap.sh
. "$(dirname "${BASH_SOURCE[0]}")/../../hack/lib/errtrap.sh"
rk=$1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() {
	echo "FAIL: $*" >&2
	exit 1
}

cat >"$work/cm.yaml" <<'YAML'
apiVersion: v1
kind: ConfigMap
metadata: {name: cli-demo}
data: {owner: alice}
YAML
"$rk" apply configmaps -f "$work/cm.yaml" --field-manager alice >/dev/null
# `recap-kube ... | grep` reads to the end (grep -q's early exit could kill the
# writer with SIGPIPE and, under pipefail, fail a check that matched)
"$rk" get configmaps cli-demo | grep '"owner": "alice"' >/dev/null || fail "get after apply"

sed -i 's/alice/bob/' "$work/cm.yaml"
if "$rk" apply configmaps -f "$work/cm.yaml" --field-manager bob 2>"$work/err"; then
	fail "a conflicting apply succeeded"
fi
grep -q '409 Conflict' "$work/err" || fail "conflict not reported: $(cat "$work/err")"
"$rk" apply configmaps -f "$work/cm.yaml" --field-manager bob --force >/dev/null
"$rk" get v1/configmaps cli-demo | grep '"owner": "bob"' >/dev/null || fail "forced apply"

"$rk" list configmaps -l nothing=here | grep '"items": \[\]' >/dev/null || fail "empty list by selector"
"$rk" delete configmaps cli-demo >/dev/null
if "$rk" get configmaps cli-demo 2>"$work/err"; then fail "deleted object still there"; fi
grep -q '404 NotFound: configmaps "cli-demo" not found' "$work/err" || fail "404 message: $(cat "$work/err")"

if "$rk" --kubeconfig "$RECAP_CLUSTER_DIR/users/nobody.kubeconfig" list pods 2>"$work/err"; then
	fail "nobody may list pods"
fi
grep -q '403 Forbidden' "$work/err" || fail "403 message: $(cat "$work/err")"

if "$rk" get a/b/c/d x 2>"$work/err"; then fail "bad resource accepted"; fi
grep -q "bad resource 'a/b/c/d'" "$work/err" || fail "bad resource message"
echo "recap-kube: ok"
