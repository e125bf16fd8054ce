#!/usr/bin/env bash
# Client certificates and RBAC: a user without rights is forbidden, the admin
# is not, and a user made with `hack/cluster user` gets exactly what a
# RoleBinding for its group gives.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

up c
d=$scratch/c
url=$(cluster_env "$d" RECAP_APISERVER_URL)

if "$kubectl" --kubeconfig "$d/users/nobody.kubeconfig" get configmaps -n default >/dev/null 2>"$scratch/err"; then
	fail "nobody may list configmaps"
fi
grep -q 'Forbidden.*User "nobody" cannot list resource "configmaps"' "$scratch/err" ||
	fail "nobody: not Forbidden: $(cat "$scratch/err")"
code=$(curl -s -o /dev/null -w '%{http_code}' --cacert "$d/pki/ca.crt" \
	--cert "$d/pki/users/nobody.crt" --key "$d/pki/users/nobody.key" "$url/api/v1/namespaces/default/configmaps")
[[ $code == 403 ]] || fail "nobody over HTTP: $code, want 403"
ok "nobody is authenticated and forbidden (403)"

kc "$d" create namespace team >/dev/null
kc "$d" get namespace team >/dev/null || fail "admin: namespace team missing"
ok "admin creates a namespace"

kcfg=$("$cluster" user --dir "$d" reader --group readers)
[[ $kcfg == "$d/users/reader.kubeconfig" && -f $kcfg ]] || fail "user: printed $kcfg"
"$kubectl" --kubeconfig "$kcfg" auth whoami -o jsonpath='{.status.userInfo.username} {.status.userInfo.groups}' >"$scratch/who"
grep -q '^reader .*"readers"' "$scratch/who" || fail "whoami: $(cat "$scratch/who")"
if "$kubectl" --kubeconfig "$kcfg" get configmaps -n team >/dev/null 2>&1; then fail "reader may list before any binding"; fi
kc "$d" create rolebinding readers -n team --clusterrole=view --group=readers >/dev/null
eventually 30 "reader lists configmaps in team" "$kubectl" --kubeconfig "$kcfg" get configmaps -n team
if "$kubectl" --kubeconfig "$kcfg" get configmaps -n default >/dev/null 2>&1; then fail "reader may list in default"; fi
if "$kubectl" --kubeconfig "$kcfg" create configmap x -n team >/dev/null 2>&1; then fail "reader may create"; fi
ok "user reader in group readers: view in team only"

if "$cluster" user --dir "$d" 'bad/name' 2>"$scratch/err"; then fail "user accepted bad/name"; fi
grep -q 'user name must be' "$scratch/err" || fail "bad name: $(cat "$scratch/err")"
ok "a bad user name is refused with a message"
