#!/usr/bin/env bash
# e2e: the streaming data path. recap-apiserver is registered with the real
# API server's aggregation layer (an APIService; its Service an ExternalName
# to this host) and reached only through it; recap-controller issues and
# rotates the certificates (recap-system Secrets, the APIService's
# caBundle); each caplet's relay serves its node's runs over mutual TLS.
# A user with namespace rights only (hack/cluster user, the edit role in
# shop) follows a run's log while it runs, reads its whole log past the
# status tails, and fetches its artifacts as a tar whose digests match
# status.artifacts; is refused (403 from the API server) in a namespace
# where they have no rights, as is a user with none; a forged relay request
# (a certificate that is not the relay client's, or another node's run) is
# refused by caplet; a request for a run whose artifacts expired gets 410.
#   streams.sh CAPLET CAPSULE CONTROLLER SLEEPER SOURCE_ROOT KUBECTL_CAPSULE APISERVER
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
PLUGIN=$(realpath "$6")
APISERVER_BIN=$(realpath "$7")
streams_prepare
e2e_up "$1" "$2" "$3" "$4" "$5" node-1 node-2
check "the controller issues the relay and serving certificates" wait_until 30 streams_secrets
check "the controller sets the APIService's caBundle" wait_until 30 streams_ca_bundle
streams_apiserver_start "$APISERVER_BIN"
check "the APIService becomes Available through the aggregation layer" wait_until 60 streams_available

# -- users: alice edits shop (the built-in role, which RECap's roles aggregate into), bob has nothing
for f in "$E2E_SRC"/config/rbac/capsule_editor_role.yaml "$E2E_SRC"/config/rbac/capsule_viewer_role.yaml \
	"$E2E_SRC"/config/rbac/streams_*_role.yaml; do
	kubectl apply -f "$f" >/dev/null
done
ns_create shop
ns_create other
for i in 1 2; do pod_create shop "web-$i" "node-$i" app registry.local/app:1 app=web; done
pod_create other "db-1" node-1 db registry.local/db:1 app=db
check "the stand-in runs the target pods" wait_until 30 pods_running shop 2
kubectl create rolebinding alice-edit -n shop --clusterrole edit --user alice >/dev/null
ALICE=$("$E2E_SRC/hack/cluster" user --dir "$T/cluster" alice)
BOB=$("$E2E_SRC/hack/cluster" user --dir "$T/cluster" bob)
mkdir -p "$T/bin"
ln -s "$PLUGIN" "$T/bin/kubectl-capsule"
export PATH=$T/bin:$PATH
as() { # KUBECONFIG ARGS...: a command as that user; stdout $T/out, stderr $T/err, status RC
	local kc=$1
	shift
	RC=0
	KUBECONFIG=$kc "$@" >"$T/out" 2>"$T/err" || RC=$?
}
has() { [[ $(cat "$1") == *"$2"* ]] || { echo "  '$2' not in $1: $(cat "$1")" >&2; return 1; }; }

# -- a run that writes slowly: its log followed while it runs
as "$ALICE" kubectl capsule run -n shop "$IMAGE" --pod web-1 --no-wait -- \
	sh -c 'echo first; sleep 4; echo second; head -c 300000 /dev/zero | tr "\0" x; echo; echo done >&2'
run_name() { sed -n -e 's/^run \([a-z]*-[a-z0-9]*\):.*/\1/p' -e 's|^capsulerun.recap.dev/\([a-z]*-[a-z0-9]*\) created|\1|p' "$@" | head -1; }
RUN=$(run_name "$T/out" "$T/err")
[[ -n $RUN ]] || { echo "alice's run was not made:" >&2; cat "$T/out" "$T/err" >&2; exit 1; }
KUBECONFIG=$ALICE kubectl capsule logs -n shop "$RUN" -f --raw >"$T/follow.out" 2>"$T/follow.err" &
follower=$!
first_line() { grep -q '^first$' "$T/follow.out"; }
check "logs -f prints the first line while the run still runs" wait_until 20 first_line
running() { [[ $(kubectl get caprun -n shop "$RUN" -o jsonpath='{.status.phase}') != Succeeded ]]; }
check "... before the run ended" running
wait "$follower"
check "logs -f: exit status 0 when the run's log ended" test $? -eq 0
follow_whole() {
	[[ $(head -2 "$T/follow.out") == $'first\nsecond' ]] && [[ $(grep -c x "$T/follow.out") == 1 ]] &&
		[[ $(tr -cd x <"$T/follow.out" | wc -c) == 300000 ]] && grep -q '^done$' "$T/follow.out"
}
check "logs -f: every byte, stdout and stderr in order (300 KB past the 4 KiB tail)" follow_whole
as "$ALICE" kubectl capsule logs -n shop "$RUN" --raw
whole_again() { cmp -s <(tail -n +2 "$T/out") "$T/follow.out"; }
check "logs: the whole log again, after its header" whole_again
check "logs: the header names the target" has "$T/out" "=== pod web-1, container app (node node-1): Succeeded"
as "$ALICE" kubectl capsule logs -n shop "$RUN" --target web-1 --limit-bytes 6 --raw
check "logs --limit-bytes: the first bytes only" equals "$(cat "$T/out")" "first"
as "$ALICE" kubectl capsule logs -n shop "$RUN" --tails -o json
check "logs --tails: the status tails as before" has "$T/out" '"stdoutBytes": 300014'

api=/apis/subresources.recap.dev/v1alpha1/namespaces/shop/capsuleruns
# -- 100 followers of one run, through the API server, each gets every byte
as "$ALICE" kubectl capsule run -n shop "$IMAGE" --pod web-2 --no-wait -- sh -c 'sleep 4; echo one; sleep 1; echo two'
RUNF=$(run_name "$T/out" "$T/err")
for i in $(seq 100); do
	curl -sS --max-time 60 --cacert "$T/cluster/pki/ca.crt" --cert "$T/cluster/pki/users/alice.crt" \
		--key "$T/cluster/pki/users/alice.key" -o "$T/f$i" \
		"$RECAP_APISERVER_URL$api/$RUNF/log?follow=true" 2>"$T/f$i.err" &
	followers+=($!)
done
bad=0
for p in "${followers[@]}"; do wait "$p" || bad=$((bad + 1)); done
all_whole() {
	local i n=0
	for i in $(seq 100); do [[ $(cat "$T/f$i") == $'one\ntwo' ]] && n=$((n + 1)); done
	for i in $(seq 100); do [[ $(cat "$T/f$i") == $'one\ntwo' ]] || { echo "  follower $i got: $(head -c 300 "$T/f$i")" >&2; break; }; done
	[[ $n == 100 && $bad == 0 ]] || { echo "  $n of 100 whole, $bad failed: $(cat "$T/f1.err")" >&2; return 1; }
}
check "100 followers of one run through the API server each get the whole log" all_whole

# -- artifacts: a tar whose files match status.artifacts
as "$ALICE" kubectl capsule run -n shop "$IMAGE" --pod web-2 --wait-timeout 120 -- \
	sh -c 'mkdir -p /out/d && head -c 1048576 /dev/urandom >/out/d/blob && echo hi >/out/note &&
		head -c 25165824 /dev/urandom >/out/big'
RUN2=$(run_name "$T/err")
as "$ALICE" kubectl get --raw "$api/$RUN2/artifacts"
cp "$T/out" "$T/art.tar"
digests_match() {
	mkdir -p "$T/art" && tar -xf "$T/art.tar" -C "$T/art" || return 1
	local want got
	want=$(kubectl get capsuleexecutions -n shop -l "recap.dev/run=$RUN2" -o json |
		python3 -c 'import json,sys; e=json.load(sys.stdin)["items"][0]; print(" ".join(sorted(f["digest"][7:]+":"+f["path"] for f in e["status"]["artifacts"]["files"])))')
	got=$(cd "$T/art" && find . -type f -printf '%P\n' | sort | while read -r f; do echo "$(sha256sum "$f" | cut -c1-64):$f"; done | sort | tr '\n' ' ')
	[[ "$want " == "$got" ]] || { echo "  want $want, got $got" >&2; return 1; }
}
check "artifacts: the tar's files have the digests status.artifacts lists" digests_match
as "$ALICE" kubectl get --raw "$api/$RUN2/artifacts?path=note"
one_file() { tar -xOf "$T/out" note | grep -qx hi; }
check "artifacts?path=: that file only" one_file

# -- refused
as "$BOB" kubectl get --raw "$api/$RUN/log"
check "a user with no rights: 403 from the API server" has "$T/err" "Forbidden"
kubectl capsule run -n other "$IMAGE" --pod db-1 --no-wait -- true >"$T/theirs.out" 2>&1
THEIRS=$(run_name "$T/theirs.out")
as "$ALICE" kubectl get --raw "/apis/subresources.recap.dev/v1alpha1/namespaces/other/capsuleruns/$THEIRS/log"
check "alice in a namespace she has no rights in: 403" has "$T/err" "Forbidden"
as "$ALICE" kubectl get --raw "$api/nosuch/log"
check "an unknown run: 404 naming it" has "$T/err" 'capsuleruns.recap.dev "nosuch" not found'

# -- recap-apiserver itself: only the front proxy, and each user's own rights
direct() { # CERT KEY HEADER... -> HTTP code in $T/code, body in $T/direct.body
	local crt=$1 key=$2
	shift 2
	curl -sS --max-time 10 --cacert "$T/apiserver/ca.crt" --resolve "recap-apiserver.recap-system.svc:$APISERVER_PORT:127.0.0.1" \
		--cert "$crt" --key "$key" "$@" -o "$T/direct.body" -w '%{http_code}' \
		"https://recap-apiserver.recap-system.svc:$APISERVER_PORT$api/$RUN/log" >"$T/code" 2>"$T/direct.err" || true
}
fp=$T/cluster/pki/front-proxy
direct "$T/cluster/pki/users/alice.crt" "$T/cluster/pki/users/alice.key" -H "X-Remote-User: system:admin" \
	-H "X-Remote-Group: system:masters"
check "a user's own certificate claiming to be the front proxy: 401" equals "$(cat "$T/code")" 401
check "... saying the certificate is not the front proxy's" has "$T/direct.body" "not the front proxy's"
direct "$fp/client.crt" "$fp/client.key" -H "X-Remote-User: bob"
check "the front proxy's certificate for a user without rights: 403 from recap-apiserver's own review" \
	equals "$(cat "$T/code")" 403
check "... naming the user and the subresource" has "$T/direct.body" 'User \"bob\" cannot get resource \"capsuleruns/log\"'
direct "$fp/client.crt" "$fp/client.key" -H "X-Remote-User: alice"
check "the front proxy's certificate for alice: her run's log" equals "$(cat "$T/code")" 200
as "$ALICE" kubectl get --raw "$api/$RUN2/artifacts?path=..%2F..%2Fetc%2Fpasswd"
check "artifacts?path= with .. is refused" has "$T/err" "BadRequest"
as "$ALICE" kubectl get --raw "$api/$RUN2/artifacts?path=%2Fetc%2Fpasswd"
check "artifacts?path= outside /out is refused" has "$T/err" "BadRequest"
as "$ALICE" kubectl get --raw "$api/$RUN/attach"
check "attach without a WebSocket is refused" has "$T/err" "attach is a WebSocket"

# -- the relay: only the relay client, only its node's runs
endpoint=$(kubectl get capsuleexecutions -n shop -l "recap.dev/run=$RUN" -o jsonpath='{.items[0].status.relayEndpoint}')
uid=$(kubectl get capsuleexecutions -n shop -l "recap.dev/run=$RUN" -o jsonpath='{.items[0].metadata.uid}')
id=ce-${uid//-/}
relay_get() { # CERTDIR-or-user NODE -> http code in $T/code
	curl -sS --max-time 10 --cacert "$T/relay/ca.crt" --resolve "caplet.recap-system.svc:${endpoint##*:}:127.0.0.1" \
		"$@" -o "$T/relay.body" -w '%{http_code}' "https://caplet.recap-system.svc:${endpoint##*:}/v1/runs/$id/log" \
		>"$T/code" 2>"$T/relay.err"
}
if relay_get --cert "$T/cluster/pki/users/alice.crt" --key "$T/cluster/pki/users/alice.key" -H "X-Recap-Node: node-1"; then
	check "a forged relay request with a user's certificate is refused" false
else
	check "a forged relay request with a user's certificate is refused" grep -q "client certificate was refused" "$T/caplet-node-1.log"
fi
relay_get --cert "$T/relay-client/tls.crt" --key "$T/relay-client/tls.key" -H "X-Recap-Node: node-2" || true
check "the relay client asking node-1 for node-2's run: 404" equals "$(cat "$T/code")" 404

# -- expiry: a run kept for 0 s answers 410 once the sweep removed it
kubectl apply -n shop -f - >/dev/null <<YAML
apiVersion: recap.dev/v1alpha1
kind: Capsule
metadata: {name: brief}
spec:
  image: $IMAGE
  command: [sh, -c, "echo x >/out/x"]
  output: {retentionSeconds: 0}
  targets: {selector: {matchLabels: {app: web}}}
YAML
as "$ALICE" kubectl capsule run -n shop --capsule brief --wait-timeout 120
RUN3=$(run_name "$T/err")
gone() {
	KUBECONFIG=$ALICE kubectl get --raw "$api/$RUN3/artifacts?target=web-1" >/dev/null 2>"$T/gone.err" && return 1
	grep -q "expired" "$T/gone.err"
}
check "expired artifacts: the request says they expired" wait_until 90 gone

# -- kubectl capsule cp: the artifacts extracted as they arrive, as alice
digest_of() { # RUN PATH: the sha256 status.artifacts lists for it
	kubectl get capsuleexecutions -n shop -l "recap.dev/run=$1" -o json | P="$2" python3 -c '
import json, os, sys
e = json.load(sys.stdin)["items"][0]
print([f["digest"][7:] for f in e["status"]["artifacts"]["files"] if f["path"] == os.environ["P"]][0])'
}
as "$ALICE" kubectl capsule cp -n shop "$RUN2:/out/d/blob" "$T/blob"
check "cp: a file, exit 0 and nothing printed" equals "$RC:$(cat "$T/out" "$T/err")" "0:"
check "cp: the 1 MiB file has the digest status.artifacts lists" \
	equals "$(sha256sum <"$T/blob" | cut -c1-64)" "$(digest_of "$RUN2" d/blob)"
as "$ALICE" kubectl capsule cp -n shop "$RUN2:web-2:/out/note" -
check "cp to -: the file's bytes on stdout" equals "$RC:$(cat "$T/out")" "0:hi"
as "$ALICE" kubectl capsule cp -n shop "$RUN2:/out/d/blob" -
check "cp to -: 1 MiB byte for byte" cmp -s "$T/out" "$T/blob"
# a reader that takes nothing for 3 s: the stream is held back, not cut
slow_copy() {
	KUBECONFIG=$ALICE kubectl capsule cp -n shop "$RUN2:/out/big" - 2>"$T/err" | { sleep 3; sha256sum; } | cut -c1-64
}
check "cp to a reader that waits 3 s first: all 24 MiB, the digest status.artifacts lists" \
	equals "$(slow_copy)" "$(digest_of "$RUN2" big)"
mkdir "$T/into"
as "$ALICE" kubectl capsule cp -n shop "$RUN2:/out/note" "$T/into"
check "cp into an existing directory: the file under its name" equals "$(cat "$T/into/note")" hi
as "$ALICE" kubectl capsule cp -n shop "$RUN2:/out/" "$T/tree"
tree_whole() { cmp -s "$T/tree/d/blob" "$T/blob" && [[ $(cat "$T/tree/note") == hi ]]; }
check "cp /out/: the whole tree into a new directory" tree_whole
as "$ALICE" kubectl capsule cp -n shop "$RUN2:/out/d" -
check "cp of a directory to -: the tar itself" equals "$(tar -tf "$T/out" | sort | tr '\n' ' ')" "d/ d/blob "
as "$ALICE" kubectl capsule cp -n shop "$RUN2:web-2:/etc/passwd" "$T/x"
check "cp outside /out: refused (exit 2)" equals "$RC" 2
check "cp outside /out: the reason" has "$T/err" "a run's files are under /out"
as "$ALICE" kubectl capsule cp -n shop "$RUN2:/out/d/../../etc" "$T/x"
check "cp with ..: refused" has "$T/err" "'..' is not allowed"
as "$ALICE" kubectl capsule cp -n shop "$RUN2:/out/missing" "$T/x"
check "cp of a missing file: exit 1" equals "$RC" 1
check "cp of a missing file: the server's 404" has "$T/err" "missing"
as "$ALICE" kubectl capsule cp -n shop "$RUN3:/out/x" "$T/x"
check "cp of a run with two targets and no POD: they are named" has "$T/err" "2 targets (web-1, web-2)"
as "$ALICE" kubectl capsule cp -n shop "$RUN3:web-1:/out/x" "$T/x"
check "cp of expired artifacts: they expired" has "$T/err" "expired"
check "no refused copy wrote anything" test ! -e "$T/x"

# -- kubectl capsule run streams each target's output while it runs
KUBECONFIG=$ALICE kubectl capsule run -n shop "$IMAGE" --pod web-1 --wait-timeout 60 -- \
	sh -c 'echo a; sleep 3; echo b' >"$T/live.out" 2>"$T/live.err" &
live=$!
first_a() { grep -qx a "$T/live.out"; }
check "run: the first line is printed while it runs" wait_until 20 first_a
not_yet() { kill -0 "$live" && ! grep -q b "$T/live.out"; }
check "... before the run ended" not_yet
rc=0
wait "$live" || rc=$?
check "run (streamed): exit status 0, both lines" equals "$rc:$(cat "$T/live.out")" $'0:a\nb'
check "run (streamed): the summary on stderr" has "$T/live.err" "Succeeded, 1 targets"
as "$ALICE" kubectl capsule run -n shop "$IMAGE" --pod web-1,web-2 --wait-timeout 60 -- sh -c 'echo a; sleep 1; echo b'
check "run with two targets: each line prefixed with its pod" \
	equals "$RC:$(sort "$T/out" | tr '\n' ' ')" "0:[web-1] a [web-1] b [web-2] a [web-2] b "
# -- a run on one pod follows its log from the start (before the run counts
# an execution); refused by policy, it never gets one: that follow is dropped
# without a word, and the summary gives the reason
as "$ALICE" kubectl capsule run -n shop "$IMAGE" --pod web-1 --cap-add NET_RAW --wait-timeout 60 -- true
check "a refused run on one pod: exit status 1" equals "$RC" 1
check "... the policy's reason on stderr" grep -q "^run busybox-[a-z0-9]*: Failed, .*NET_RAW" "$T/err"
no_log_warning() { ! grep -q "warning: the log" "$T/err" || { echo "  stderr: $(cat "$T/err")" >&2; return 1; }; }
check "... and no warning about the log it never had" no_log_warning

check "nothing is left on the nodes" wait_until 30 nodes_clean
finish
