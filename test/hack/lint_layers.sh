#!/usr/bin/env bash
# hack/lint-layers: the real tree passes, and a tree with one include that
# goes up, one that goes sideways, one past the only header the client may
# take from its transport, and one module the order does not name each fail,
# named.
set -euo pipefail
. "$RECAP_SRC/hack/lib/errtrap.sh"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failures=0
check() { # description, then a command that must succeed
	local what=$1
	shift
	if "$@"; then echo "ok   - $what"; else echo "FAIL - $what" >&2; failures=$((failures + 1)); fi
}
lint() { "$RECAP_SRC/hack/lint-layers" --root "$1" 2>&1; }

check "the source tree passes" lint "$RECAP_SRC"

# one bad include at a time in a copy of lib/ and cmd/
bad_case() { # name, file, include line, expected message part
	local d=$tmp/$1 out
	mkdir -p "$d"
	cp -r "$RECAP_SRC/lib" "$RECAP_SRC/cmd" "$d/"
	mkdir -p "$(dirname "$d/$2")"
	printf '#include "%s"\n' "$3" >>"$d/$2"
	if out=$(lint "$d"); then
		echo "  passed: $out" >&2
		return 1
	fi
	[[ $out == *"$4"* ]] || { echo "  expected '$4' in: $out" >&2; return 1; }
}
check "an upward include fails (runtime includes caplet)" \
	bad_case up lib/runtime/cgroup.c caplet/caplet.h \
	'lib/runtime/cgroup.c:'
check "the message names both modules" \
	bad_case up2 lib/runtime/cgroup.c caplet/caplet.h \
	'runtime includes "caplet/caplet.h": caplet is not below runtime'
check "a sideways include fails (oci includes runtime)" \
	bad_case side lib/oci/store.c runtime/runtime.h 'oci includes "runtime/runtime.h"'
check "policy may take the label selectors, not the API client" \
	bad_case policy lib/policy/rules.c kube/client.h 'policy includes "kube/client.h": kube is not below policy'
check "the client may take only the transport's interface" \
	bad_case only lib/kube/request.c kubehttp/transport.h 'kube may include only kubehttp/http.h'
check "the cache toolkit may not reach past the client to its transport" \
	bad_case cache lib/kubecache/informer.c kubehttp/http.h 'kubehttp is not below kubecache'
check "a module the order does not name fails" \
	bad_case unknown lib/extra/x.c base/buf.h 'lib/extra: a module the layer order'
check "a binary cannot include another binary's module" \
	bad_case cmd cmd/capsule/run.c nosuch/x.h 'nosuch is not a module'
((failures == 0)) || { echo "$failures check(s) failed" >&2; exit 1; }
