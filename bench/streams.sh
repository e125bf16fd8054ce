#!/usr/bin/env bash
# The streaming path on a real node (hack/node: kubelet, containerd, runc;
# config/default with caplet, recap-controller and recap-apiserver in pods,
# e2e/real-node/lib.sh), against what kubectl offers for pods, in the same
# run, every command as a user with rights in the namespace only:
#  1. time to first byte, N rounds interleaved: `kubectl capsule logs -f RUN`
#     (a run that printed a line and sleeps; also curl on the same URL, the
#     path without kubectl's start) against `kubectl exec POD -- echo
#     hi`, `kubectl logs -f POD` (a pod that printed a line and sleeps) and
#     `kubectl debug POD -it --image=busybox -- echo hi` (an ephemeral
#     container; -t through a terminal made here; patching
#     pods/ephemeralcontainers is granted by a Role, no built-in role has it),
#     and `kubectl capsule attach POD --image=busybox -- echo hi` (an
#     interactive run made, admitted and attached through the API server)
#     (bench/streams/ttfb.py);
#  2. fetching a 256 MiB file (from /dev/urandom) ROUNDS times interleaved: a
#     run's artifact (`kubectl capsule cp RUN:/out/big`, `kubectl get --raw
#     .../artifacts?path=big`, a tar, and curl on the same URL) against
#     `kubectl cp POD:/big` of a file made in the pod the same way; every copy
#     checked against the file's SHA-256;
#  3. VmRSS of caplet and recap-apiserver (scaled to one replica, so that one
#     process carries every follower): idle, while 100 followers (curl with the
#     user's client certificate, `.../log?follow=true` through kube-apiserver)
#     follow one run that keeps writing, and after; and that each of the 100
#     got every byte of the run's log.
#
#   bench/streams.sh [N [ROUNDS]]   (as root, from a tree built in build/;
#                                    defaults 10 and 3)
set -euo pipefail
# shellcheck source=hack/lib/errtrap.sh
. "$(dirname "${BASH_SOURCE[0]}")/../hack/lib/errtrap.sh"
root=$(cd "$(dirname "$0")/.." && pwd)
N=${1:-10} ROUNDS=${2:-3}
# shellcheck source=bench/real-node/lib.sh
. "$root/bench/real-node/lib.sh"
bench_counts 1000 N ROUNDS
B=$root/build
PLUGIN=$B/cmd/kubectl-capsule/kubectl-capsule
[[ -x $PLUGIN && -x $B/cmd/recap-apiserver/recap-apiserver ]] ||
	{ echo "$B: build first (meson setup build && ninja -C build)" >&2; exit 2; }
FOLLOWERS=100
# caplet's artifact quota on the node, above the 256 MiB artifact (default 1Gi)
RN_CAPLET_ARGS=(--artifacts-quota=2Gi)
# shellcheck source-path=SCRIPTDIR source=../e2e/real-node/lib.sh
. "$root/e2e/real-node/lib.sh"
rn_up "$B/cmd/caplet/caplet" "$B/cmd/capsule/capsule" "$B/cmd/recap-controller/recap-controller" "$root"
mkdir -p "$T/plugin" && ln -s "$PLUGIN" "$T/plugin/kubectl-capsule"
export PATH=$T/plugin:$PATH
echo "commit $(git -C "$root" rev-parse --short HEAD), $(nproc) cores, load at start $(cut -d' ' -f1-3 /proc/loadavg)"

# -- VmRSS (KiB) of a component's containers' processes, one per line
pids_of() { # COMPONENT
	local cid tasks
	tasks=$(ctr -a "$RECAP_NODE_CONTAINERD" -n k8s.io task ls)
	for cid in $(KUBECONFIG=$ADMIN kubectl get pod -n recap-system -l "app.kubernetes.io/component=$1" \
		-o jsonpath='{range .items[*]}{.status.containerStatuses[0].containerID}{"\n"}{end}'); do
		awk -v id="${cid#containerd://}" '$1 == id {print $2}' <<<"$tasks"
	done
}
rss() { # COMPONENT: "KiB KiB ..." of its processes
	local p out=""
	for p in $(pids_of "$1"); do out+="$(awk '/^VmRSS:/ {print $2}' "/proc/$p/status") "; done
	echo "${out% }"
}
ADMIN=$KUBECONFIG
sleep 10 # settle: probes, informers, the certificates
IDLE_CAPLET=$(rss caplet) IDLE_API=$(rss apiserver)

# -- the namespace, its user, the pods
ns_create bench
kubectl create rolebinding alice-admin -n bench --clusterrole admin --user alice >/dev/null
# kubectl debug patches pods/ephemeralcontainers, which no built-in role grants
kubectl create role debugger -n bench --verb=patch,update --resource=pods/ephemeralcontainers >/dev/null
kubectl create rolebinding alice-debug -n bench --role debugger --user alice >/dev/null
ALICE=$("$RN_SRC/hack/cluster" user --dir "$T/cluster" alice)
kubectl apply -n bench -f - >/dev/null <<YAML
apiVersion: v1
kind: Pod
metadata: {name: web, labels: {app: web}}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - {name: app, image: $RECAP_NODE_BUSYBOX_IMAGE, imagePullPolicy: Never, command: [sleep, "3600"]}
---
apiVersion: v1
kind: Pod
metadata: {name: talker, labels: {app: talker}}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - {name: app, image: $RECAP_NODE_BUSYBOX_IMAGE, imagePullPolicy: Never, command: [sh, -c, 'echo hi; sleep 3600']}
YAML
kubectl wait -n bench --for=condition=Ready pod/web pod/talker --timeout=60s >/dev/null
export KUBECONFIG=$ALICE
api=/apis/subresources.recap.dev/v1alpha1/namespaces/bench/capsuleruns
run_name() {
	sed -n -e 's/^run \([a-z]*-[a-z0-9]*\):.*/\1/p' -e 's|^capsulerun.recap.dev/\([a-z]*-[a-z0-9]*\) created|\1|p' "$@" |
		head -1
}
start_run() { # ARGS of kubectl capsule run: the run's name
	kubectl capsule run -n bench --no-wait "$@" >"$T/run.out" 2>&1 ||
		{ cat "$T/run.out" >&2; return 1; }
	run_name "$T/run.out"
}
log_has() { kubectl get --raw "$api/$1/log" 2>/dev/null | grep -q "$2"; }

# -- 1. time to first byte
FOLLOW=$(start_run "$IMAGE" --pod web -- sh -c 'echo hi; sleep 3600')
wait_until 60 log_has "$FOLLOW" hi || { echo "run $FOLLOW printed nothing" >&2; exit 1; }
ttfb() { "$root/bench/streams/ttfb.py" "$@"; }
TOOLS=(capsule_logs curl_follow kexec klogs kdebug kattach)
users=$T/cluster/pki/users
USER_CURL=(curl -sS --cacert "$RECAP_CA_FILE" --cert "$users/alice.crt" --key "$users/alice.key")
capsule_logs() { ttfb hi kubectl capsule logs -n bench "$FOLLOW" -f --raw; }
curl_follow() { ttfb hi "${USER_CURL[@]}" -N "$RECAP_APISERVER_URL$api/$FOLLOW/log?follow=true"; }
kexec() { ttfb hi kubectl exec -n bench web -c app -- echo hi; }
klogs() { ttfb hi kubectl logs -n bench -f talker; }
# With a terminal the container's output before kubectl attached is lost: an
# attempt that printed nothing is counted and made again (at most 3 times).
kdebug() {
	local a
	for a in 1 2 3; do
		ttfb --pty hi kubectl debug -n bench web -it --quiet --profile=general \
			--image="$RECAP_NODE_BUSYBOX_IMAGE" --image-pull-policy=Never -- echo hi 2>>"$T/debug.err" && return 0
		echo "attempt $a" >>"$T/debug.misses"
	done
	cat "$T/debug.err" >&2
	return 1
}
# A session through the API server: an interactive Capsule and its run made,
# admitted, started on the node, then the WebSocket (removed again: --rm).
kattach() {
	ttfb --pty hi kubectl capsule attach -n bench web --image "$IMAGE" -- echo hi 2>>"$T/attach.err" ||
		{ cat "$T/attach.err" >&2; return 1; }
}
declare -A MS
for t in "${TOOLS[@]}"; do MS[$t]=""; done
for ((i = 0; i < N; i++)); do
	for t in "${TOOLS[@]}"; do
		MS[$t]+="$($t) " || { echo "$t failed" >&2; exit 1; }
	done
done
kubectl capsule cancel -n bench "$FOLLOW" >/dev/null
pct() { # P: the P-th percentile (nearest rank) of the numbers on stdin
	tr ' ' '\n' | grep . | sort -n | awk -v p="$1" '{a[NR] = $1} END {r = int((p * NR + 99) / 100); print a[r < 1 ? 1 : r]}'
}
median() { tr ' ' '\n' | grep . | sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }

# -- 2. 256 MiB
kubectl apply -n bench -f - >/dev/null <<YAML
apiVersion: recap.dev/v1alpha1
kind: Capsule
metadata: {name: big}
spec:
  image: $IMAGE
  command: [sh, -c, 'dd if=/dev/urandom of=/out/big bs=1M count=256 2>/dev/null && sha256sum /out/big']
  output: {outSize: 300Mi}
  targets: {selector: {matchLabels: {app: web}}}
YAML
BIG=$(start_run --capsule big)
succeeded() { [[ $(kubectl get caprun -n bench "$1" -o jsonpath='{.status.phase}') == Succeeded ]]; }
wait_until 180 succeeded "$BIG" || { echo "run $BIG did not succeed" >&2; kubectl get cexec -n bench -o yaml >&2; exit 1; }
want_art=$(kubectl get cexec -n bench -l "recap.dev/run=$BIG" -o json | python3 -c \
	'import json,sys; print([f["digest"][7:] for f in json.load(sys.stdin)["items"][0]["status"]["artifacts"]["files"] if f["path"] == "big"][0])')
want_pod=$(kubectl exec -n bench web -c app -- sh -c 'dd if=/dev/urandom of=/big bs=1M count=256 2>/dev/null && sha256sum /big' |
	cut -c1-64)
now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", b - a}'; }
declare -A SECS=([capsule_cp]="" [artifact]="" [curl]="" [cp]="")
for ((i = 0; i < ROUNDS; i++)); do
	t0=$(now)
	kubectl capsule cp -n bench "$BIG:/out/big" "$T/big.ccp"
	t1=$(now)
	SECS[capsule_cp]+="$(secs "$t0" "$t1") "
	got=$(sha256sum <"$T/big.ccp" | cut -c1-64)
	[[ $got == "$want_art" ]] || { echo "kubectl capsule cp: sha256 $got, status.artifacts says $want_art" >&2; exit 1; }
	rm -f "$T/big.ccp"
	t0=$(now)
	"${USER_CURL[@]}" -o "$T/big.tar" "$RECAP_APISERVER_URL$api/$BIG/artifacts?path=big"
	t1=$(now)
	SECS[curl]+="$(secs "$t0" "$t1") "
	got=$(tar -xOf "$T/big.tar" big | sha256sum | cut -c1-64)
	[[ $got == "$want_art" ]] || { echo "artifact (curl): sha256 $got, status.artifacts says $want_art" >&2; exit 1; }
	rm -f "$T/big.tar"
	t0=$(now)
	kubectl get --raw "$api/$BIG/artifacts?path=big" >"$T/big.tar"
	t1=$(now)
	SECS[artifact]+="$(secs "$t0" "$t1") "
	got=$(tar -xOf "$T/big.tar" big | sha256sum | cut -c1-64)
	[[ $got == "$want_art" ]] || { echo "artifact: sha256 $got, status.artifacts says $want_art" >&2; exit 1; }
	rm -f "$T/big.tar"
	t0=$(now)
	kubectl cp -n bench -c app web:/big "$T/big.cp" 2>/dev/null
	t1=$(now)
	SECS[cp]+="$(secs "$t0" "$t1") "
	got=$(sha256sum <"$T/big.cp" | cut -c1-64)
	[[ $got == "$want_pod" ]] || { echo "kubectl cp: sha256 $got, the pod's file is $want_pod" >&2; exit 1; }
	rm -f "$T/big.cp"
done

# -- 3. 100 followers of one run, through one recap-apiserver
KUBECONFIG=$ADMIN kubectl scale deploy -n recap-system recap-apiserver --replicas=1 >/dev/null
one_endpoint() {
	[[ $(KUBECONFIG=$ADMIN kubectl get endpointslices -n recap-system \
		-l kubernetes.io/service-name=recap-apiserver -o jsonpath='{.items[*].endpoints[*].addresses[0]}' |
		wc -w) == 1 ]] && [[ $(pids_of apiserver | wc -l) == 1 ]]
}
wait_until 60 one_endpoint || { echo "recap-apiserver did not scale to one" >&2; exit 1; }
sleep 5
IDLE1_API=$(rss apiserver)
CHATTY=$(start_run "$IMAGE" --pod web -- sh -c 'echo start; sleep 60; i=0
while [ $i -lt 16 ]; do head -c 65536 /dev/zero | tr "\0" y; echo; i=$((i + 1)); sleep 0.5; done; echo end')
wait_until 60 log_has "$CHATTY" start || { echo "run $CHATTY printed nothing" >&2; exit 1; }
mkdir -p "$T/followers"
fpids=()
for ((i = 0; i < FOLLOWERS; i++)); do
	"${USER_CURL[@]}" -N --max-time 180 -o "$T/followers/$i" "$RECAP_APISERVER_URL$api/$CHATTY/log?follow=true" \
		2>"$T/followers/$i.err" &
	fpids+=($!)
done
following() { grep -l '^start$' "$T"/followers/? "$T"/followers/?? 2>/dev/null | wc -l; }
all_following() { [[ $(following) == "$FOLLOWERS" ]]; }
if ! wait_until 50 all_following; then
	echo "$(following) of $FOLLOWERS followers got the first line; their errors:" >&2
	cat "$T"/followers/*.err | sort | uniq -c >&2
	for f in "$T"/followers/? "$T"/followers/??; do grep -q '^start$' "$f" || echo "  $f: $(head -c 300 "$f")"; done >&2
	ss -tnp state established "( dport = :8443 or dport = :10350 )" | awk '{print $4, $NF}' | sed 's/:[0-9]* / /;s/,fd=[0-9]*//' | sort | uniq -c >&2
	for p in $(pids_of apiserver) $(pids_of caplet); do
		echo "pid $p: $(grep 'open files' /proc/$p/limits)" >&2
		for f in /proc/$p/fd/*; do readlink "$f"; done | sed 's/:\[[0-9]*\]//; s|^/.*|file|' | sort | uniq -c >&2
	done
	KUBECONFIG=$ADMIN kubectl logs -n recap-system deploy/recap-apiserver --tail=15 >&2
	KUBECONFIG=$ADMIN kubectl logs -n recap-system ds/recap-caplet --tail=15 >&2
	exit 1
fi
peak_caplet=0 peak_api=0 samples=0
while kill -0 "${fpids[0]}" 2>/dev/null; do
	c=$(rss caplet) a=$(rss apiserver)
	((c > peak_caplet)) && peak_caplet=$c
	((a > peak_api)) && peak_api=$a
	samples=$((samples + 1))
	sleep 0.5
done
bad=0
for ((i = 0; i < FOLLOWERS; i++)); do wait "${fpids[$i]}" || bad=$((bad + 1)); done
kubectl get --raw "$api/$CHATTY/log" >"$T/whole"
complete=0
for ((i = 0; i < FOLLOWERS; i++)); do cmp -s "$T/followers/$i" "$T/whole" && complete=$((complete + 1)); done
sleep 5
AFTER_CAPLET=$(rss caplet) AFTER_API=$(rss apiserver)

echo
echo "== time to first byte of 'hi' (ms, $N interleaved rounds; load $(cut -d' ' -f1-3 /proc/loadavg))"
printf '%-58s %8s %8s\n' command median p90
label() {
	case $1 in
	capsule_logs) echo "kubectl capsule logs -f RUN" ;;
	curl_follow) echo "curl .../capsuleruns/RUN/log?follow=true (no kubectl)" ;;
	kexec) echo "kubectl exec POD -- echo hi" ;;
	klogs) echo "kubectl logs -f POD" ;;
	kdebug) echo "kubectl debug POD -it --image=busybox -- echo hi" ;;
	kattach) echo "kubectl capsule attach POD --image=busybox -- echo hi" ;;
	esac
}
for t in "${TOOLS[@]}"; do
	printf '%-58s %8s %8s\n' "$(label "$t")" "$(median <<<"${MS[$t]}")" "$(pct 90 <<<"${MS[$t]}")"
done
echo "kubectl debug -it attempts that printed nothing (made again): $(cat "$T/debug.misses" 2>/dev/null | wc -l)"
echo
echo "== 256 MiB from /dev/urandom, $ROUNDS interleaved rounds (every copy's SHA-256 checked)"
printf '%-58s %10s %10s\n' command "median s" "MiB/s"
for t in capsule_cp artifact curl cp; do
	m=$(median <<<"${SECS[$t]}")
	case $t in
	capsule_cp) l="kubectl capsule cp RUN:/out/big ./file" ;;
	artifact) l="kubectl get --raw .../artifacts?path=big > file (a tar)" ;;
	curl) l="curl .../artifacts?path=big -o file (no kubectl)" ;;
	cp) l="kubectl cp POD:/big ./file" ;;
	esac
	printf '%-58s %10s %10s\n' "$l" "$m" "$(awk -v s="$m" 'BEGIN {printf "%.1f", 256 / s}')"
done
echo "  (seconds: capsule cp ${SECS[capsule_cp]}; get --raw ${SECS[artifact]}; curl ${SECS[curl]}; cp ${SECS[cp]})"
echo
echo "== VmRSS, KiB ($FOLLOWERS followers of one run through one recap-apiserver; $samples samples while they followed)"
printf '%-44s %10s %14s %10s\n' process idle "100 followers" after
printf '%-44s %10s %14s %10s\n' caplet "$IDLE_CAPLET" "$peak_caplet" "$AFTER_CAPLET"
printf '%-44s %10s %14s %10s\n' "recap-apiserver (2 replicas idle: $IDLE_API)" "$IDLE1_API" "$peak_api" "$AFTER_API"
polled=$(KUBECONFIG=$ADMIN kubectl logs -n recap-system ds/recap-caplet | grep -c "no inotify watch for a follower" || true)
echo "caplet's relay fell back to polling for some followers (the host's fs.inotify.max_user_instances," \
	"$(sysctl -n fs.inotify.max_user_instances), reached): $( ((polled)) && echo yes || echo no)"
echo "followers that got every byte ($(wc -c <"$T/whole") bytes): $complete of $FOLLOWERS; curl failures: $bad"
echo "load at end: $(cut -d' ' -f1-3 /proc/loadavg)"
((complete == FOLLOWERS && bad == 0)) || exit 1
