#!/usr/bin/env bash
# The relay certificates against a real API server: recap-controller (no
# election, short lifetimes) makes the CA and the three leaf Secrets in
# recap-system, keeps the APIService's caBundle equal to ca.crt, re-issues
# leaves before they expire, rotates the CA keeping the previous one
# trusted, makes a deleted Secret again, and leaves a young CA alone when
# restarted.
#   test_certs.sh RECAP_CONTROLLER
# shellcheck source-path=SCRIPTDIR source=../cluster/lib.sh
. "${RECAP_SRC:?}/test/cluster/lib.sh"

controller=${1:?usage: test_certs.sh RECAP_CONTROLLER}
ns=recap-system
ctl_pid=

certs_cleanup() {
	local rc=$?
	[[ -n $ctl_pid ]] && kill "$ctl_pid" 2>/dev/null && wait "$ctl_pid" 2>/dev/null
	(exit "$rc")
	t_cleanup
}
trap certs_cleanup EXIT

up c >/dev/null 2>"$scratch/up.err" || fail "cluster up: $(cat "$scratch/up.err")"
d=$scratch/c
k() { kc "$d" "$@" 2>/dev/null; }

k create namespace "$ns" >/dev/null || fail "create namespace"
kc "$d" apply -f - >/dev/null <<'YAML' || fail "create the APIService"
apiVersion: apiregistration.k8s.io/v1
kind: APIService
metadata:
  name: v1alpha1.subresources.recap.dev
spec:
  group: subresources.recap.dev
  version: v1alpha1
  service: {namespace: recap-system, name: recap-apiserver}
  groupPriorityMinimum: 1000
  versionPriority: 15
YAML

start_controller() {
	"$controller" --kubeconfig "$d/kubeconfig" --leader-elect=false --metrics-addr "" --health-addr "" \
		--certs-namespace "$ns" --ca-validity-seconds 30 --cert-validity-seconds 12 \
		--cert-check-seconds 1 >>"$scratch/ctl.log" 2>&1 &
	ctl_pid=$!
}
stop_controller() {
	kill "$ctl_pid" 2>/dev/null
	wait "$ctl_pid" 2>/dev/null || true
	ctl_pid=
}

# get SECRET KEY FILE: the Secret's data KEY, decoded, into FILE.
get() {
	local v
	v=$(k get secret "$1" -n "$ns" -o "jsonpath={.data.${2//./\\.}}") || return 1
	[[ -n $v ]] && base64 -d <<<"$v" >"$3"
}
serial() { openssl x509 -noout -serial -in "$1"; }
ncerts() { grep -c 'BEGIN CERTIFICATE' "$1"; }

# leaf_ok SECRET PURPOSE SANS EKU [CA-FILE]: its chain verifies against its
# ca.crt (or CA-FILE) for PURPOSE, its names and usages are these, the key
# is the certificate's and its type is kubernetes.io/tls.
leaf_ok() {
	local s=$1 dir=$scratch/$1
	mkdir -p "$dir"
	get "$s" tls.crt "$dir/tls.crt" && get "$s" tls.key "$dir/tls.key" && get "$s" ca.crt "$dir/ca.crt" || return 1
	[[ $(k get secret "$s" -n "$ns" -o 'jsonpath={.type}') == kubernetes.io/tls ]] || return 1
	openssl verify -purpose "$2" -CAfile "${5:-$dir/ca.crt}" "$dir/tls.crt" >/dev/null 2>&1 || return 1
	openssl x509 -noout -ext subjectAltName,extendedKeyUsage -in "$dir/tls.crt" >"$dir/ext" || return 1
	grep -qx "    $3" "$dir/ext" || [[ $3 == none && $(grep -c 'Alternative Name' "$dir/ext") == 0 ]] || return 1
	grep -qx "    $4" "$dir/ext" || return 1
	[[ $(openssl pkey -pubout -in "$dir/tls.key") == $(openssl x509 -noout -pubkey -in "$dir/tls.crt") ]]
}

all_ok() {
	get recap-ca tls.crt "$scratch/ca.pem" && get recap-ca ca.crt "$scratch/bundle.pem" || return 1
	[[ $(k get secret recap-ca -n "$ns" -o 'jsonpath={.type}') == Opaque ]] || return 1
	openssl verify -CAfile "$scratch/ca.pem" "$scratch/ca.pem" >/dev/null 2>&1 || return 1
	# the current CA first in ca.crt
	[[ $(openssl x509 -in "$scratch/bundle.pem" -noout -serial) == $(serial "$scratch/ca.pem") ]] || return 1
	leaf_ok recap-apiserver-tls sslserver \
		"DNS:recap-apiserver.$ns.svc, DNS:recap-apiserver.$ns.svc.cluster.local" "TLS Web Server Authentication" \
		"$scratch/ca.pem" &&
		leaf_ok recap-relay-client-tls sslclient none "TLS Web Client Authentication" "$scratch/ca.pem" &&
		leaf_ok recap-caplet-tls sslserver "DNS:caplet.$ns.svc" "TLS Web Server Authentication" "$scratch/ca.pem"
}

cabundle_ok() {
	local b
	b=$(k get apiservice v1alpha1.subresources.recap.dev -o 'jsonpath={.spec.caBundle}') && [[ -n $b ]] &&
		get recap-ca ca.crt "$scratch/b1" && cmp -s <(base64 -d <<<"$b") "$scratch/b1"
}

start_controller
eventually 30 "the CA and the three leaves, valid chains" all_ok
ok "recap-ca (Opaque) and recap-apiserver-tls, recap-relay-client-tls, recap-caplet-tls (kubernetes.io/tls): chains, SANs, usages, keys"
[[ $(openssl x509 -noout -subject -in "$scratch/recap-relay-client-tls/tls.crt") == "subject=CN = recap-apiserver" ]] ||
	fail "relay client CN: $(openssl x509 -noout -subject -in "$scratch/recap-relay-client-tls/tls.crt")"
eventually 10 "APIService caBundle = ca.crt" cabundle_ok
ok "APIService v1alpha1.subresources.recap.dev: caBundle is ca.crt"

# A young CA is left alone by a controller that starts again.
ca_serial=$(serial "$scratch/ca.pem")
stop_controller
start_controller
sleep 3
get recap-ca tls.crt "$scratch/ca2.pem" || fail "recap-ca gone"
[[ $(serial "$scratch/ca2.pem") == "$ca_serial" ]] || fail "a restarted controller replaced a valid CA"
ok "a restarted controller keeps the valid CA"

# Leaves re-issued before they expire (12 s; due at 8 s).
get recap-caplet-tls tls.crt "$scratch/leaf1.pem" || fail "caplet leaf"
leaf_serial=$(serial "$scratch/leaf1.pem")
leaf_end=$(date -d "$(openssl x509 -noout -enddate -in "$scratch/leaf1.pem" | cut -d= -f2)" +%s)
leaf_renewed() { get recap-caplet-tls tls.crt "$scratch/leaf2.pem" && [[ $(serial "$scratch/leaf2.pem") != "$leaf_serial" ]]; }
eventually 15 "recap-caplet-tls re-issued" leaf_renewed
(($(date +%s) < leaf_end)) || fail "recap-caplet-tls re-issued only after it expired"
eventually 5 "every chain valid after re-issue" all_ok
grep -q 'issued recap-caplet-tls, valid until ' "$scratch/ctl.log" || fail "no issuance logged: $(cat "$scratch/ctl.log")"
ok "leaves re-issued before expiry (serial changed), logged"

# CA rotation (30 s; due at 20 s): the previous CA stays in ca.crt.
ca_rotated() { get recap-ca tls.crt "$scratch/ca3.pem" && [[ $(serial "$scratch/ca3.pem") != "$ca_serial" ]]; }
eventually 30 "recap-ca rotated" ca_rotated
rotated_ok() {
	all_ok && (($(ncerts "$scratch/bundle.pem") == 2)) &&
		csplit -s -z -f "$scratch/part" "$scratch/bundle.pem" '/BEGIN CERTIFICATE/' '{*}' &&
		[[ $(serial "$scratch/part01") == "$ca_serial" ]] && cabundle_ok &&
		get recap-caplet-tls ca.crt "$scratch/cb.pem" && cmp -s "$scratch/cb.pem" "$scratch/bundle.pem"
}
eventually 10 "after rotation: new CA first, the previous one second, leaves by the new CA" rotated_ok
ok "CA rotated: ca.crt holds the new CA then the previous one; leaves signed by the new CA; caBundle follows"

# A Secret deleted by hand is made again.
k delete secret recap-caplet-tls -n "$ns" >/dev/null || fail "delete"
eventually 10 "recap-caplet-tls made again" all_ok
ok "a deleted Secret is made again"

kill -0 "$ctl_pid" || fail "the controller exited: $(tail -20 "$scratch/ctl.log")"
if grep -q 'relay certificates: ' "$scratch/ctl.log"; then
	fail "errors logged: $(grep 'relay certificates: ' "$scratch/ctl.log" | head -5)"
fi
ok "no error logged; $(grep -c 'issued ' "$scratch/ctl.log") certificates issued"
