#!/usr/bin/env bash
# --compaction-interval reaches kube-apiserver as --etcd-compaction-interval,
# and it works: with the watch cache off (--apiserver-arg), a watch from an
# old resourceVersion ends in 410 Gone once etcd has compacted past it.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

up c --compaction-interval 1s --apiserver-arg=--watch-cache=false
d=$scratch/c
url=$(cluster_env "$d" RECAP_APISERVER_URL)

read -r pid _ <"$d/run/kube-apiserver.pid"
tr '\0' '\n' <"/proc/$pid/cmdline" >"$scratch/cmdline"
grep -qx -- '--etcd-compaction-interval=1s' "$scratch/cmdline" || fail "kube-apiserver runs without --etcd-compaction-interval=1s"
grep -qx -- '--watch-cache=false' "$scratch/cmdline" || fail "kube-apiserver runs without the extra --watch-cache=false"
ok "kube-apiserver has --etcd-compaction-interval=1s and the extra argument"

kc "$d" create configmap w >/dev/null
rv=$(kc "$d" get configmap w -o 'jsonpath={.metadata.resourceVersion}')
for i in 1 2 3; do kc "$d" label configmap w "n=$i" --overwrite >/dev/null; done
watch_from() {
	curl -sS -N --max-time 5 --cacert "$d/pki/ca.crt" --cert "$d/pki/admin.crt" --key "$d/pki/admin.key" \
		"$url/api/v1/namespaces/default/configmaps?watch=1&resourceVersion=$1&timeoutSeconds=1"
}
expired() { watch_from "$rv" | grep -q '"code":410'; }
eventually 30 "a watch from resourceVersion $rv gets 410 Gone" expired
ok "a watch from resourceVersion $rv gets 410 Gone after compaction"
