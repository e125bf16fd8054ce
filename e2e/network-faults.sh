#!/usr/bin/env bash
# e2e: network faults between the components and the API server. The
# controller and the caplet reach kube-apiserver only through Toxiproxy
# (toxiproxy-server, built by hack/build-kube), with a copy of the cluster's
# kubeconfig whose server is the proxy (the API server's certificate names
# 127.0.0.1, so TLS is verified as before); kubectl here talks to the API
# server directly. Each target's command appends a line to /dev/shm/starts in
# its target, read through the target's /proc/PID/root: after every fault,
# each target has been started exactly once per run.
#   1. 300 ms of latency each way while a run executes: it succeeds.
#   2. every connection reset a second after it is first used, while two runs
#      are created: both succeed.
#   3. a hung connection (data dropped, the connection kept open) while a run
#      is created: nothing starts meanwhile; ending the hang closes the hung
#      connections (Toxiproxy's timeout toxic does on removal), and the run
#      succeeds.
#   4. an outage of E2E_OUTAGE_SECONDS (default 30; a bench may pass 600): the
#      proxy drops every connection, then resets each new one. /readyz is 503,
#      connection attempts stay under 5 a second on average (counted at the
#      proxy: backoff), the resident size of the controller and the caplet
#      grows less than 8 MiB; afterwards /readyz is 200 again and a new run
#      succeeds.
#   5. a leader-elected controller behind a second proxy whose Lease renewals
#      hang exits (it must stop acting) within its renew deadline and 5 s.
#   network-faults.sh CAPLET CAPSULE CONTROLLER SLEEPER SOURCE_ROOT
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
OUTAGE_S=${E2E_OUTAGE_SECONDS:-30}
HANG_S=6
RENEW_MS=4000

# ---- the proxy ---------------------------------------------------------------
toxi() { # METHOD PATH [JSON]
	curl -sf -X "$1" "http://$TOXI$2" ${3:+-d "$3"} >/dev/null
}
# proxy_create NAME: a proxy to the API server and $T/NAME.kubeconfig through it.
proxy_create() {
	local listen
	listen=127.0.0.1:$(free_port)
	toxi POST /proxies "{\"name\":\"$1\",\"listen\":\"$listen\",\"upstream\":\"127.0.0.1:$RECAP_APISERVER_PORT\"}"
	kubectl config view --raw >"$T/$1.kubeconfig"
	kubectl config set-cluster recap-local --server "https://$listen" --kubeconfig "$T/$1.kubeconfig" >/dev/null
}
# toxics_add PROXY NAME TYPE ATTRIBUTES: NAME-up and NAME-down, both ways.
toxics_add() {
	toxi POST "/proxies/$1/toxics" "{\"name\":\"$2-up\",\"type\":\"$3\",\"stream\":\"upstream\",\"attributes\":$4}"
	toxi POST "/proxies/$1/toxics" "{\"name\":\"$2-down\",\"type\":\"$3\",\"stream\":\"downstream\",\"attributes\":$4}"
}
toxics_del() { toxi DELETE "/proxies/$1/toxics/$2-up" && toxi DELETE "/proxies/$1/toxics/$2-down"; }
proxy_up() {
	command -v toxiproxy-server >/dev/null ||
		{ echo "toxiproxy-server is not in $RECAP_KUBE_BIN (hack/build-kube builds it beside kubectl)" >&2; exit 1; }
	TOXI=127.0.0.1:$(free_port)
	toxiproxy-server -host 127.0.0.1 -port "${TOXI#*:}" >"$T/toxiproxy.log" 2>&1 &
	PIDS+=($!)
	wait_until 20 curl -sf "http://$TOXI/version" || { echo "toxiproxy-server did not start" >&2; exit 1; }
	proxy_create api
	proxy_create lease
	COMPONENT_KUBECONFIG=$T/api.kubeconfig
}
# connections PROXY: how many clients the proxy has accepted so far.
connections() { grep -c "\"name\":\"$1\".*\"message\":\"Accepted client\"" "$T/toxiproxy.log" || true; }
E2E_BEFORE_COMPONENTS=proxy_up
e2e_up "$@" node-1

# ---- targets that count their starts -------------------------------------------
ns_create net
writable_targets net
for p in app-1 app-2; do pod_create net "$p" node-1 app registry.local/app:1 app=app; done
kubectl apply -n net -f - >/dev/null <<YAML
apiVersion: recap.dev/v1alpha1
kind: Capsule
metadata: {name: mark}
spec:
  image: $IMAGE
  command: [sh, -c, 'echo start >>/target/dev/shm/starts']
  targetFilesystem: ReadWrite
  targets: {selector: {matchLabels: {app: app}}}
  strategy: {type: Parallel}
YAML
check "the stand-in runs the 2 target pods" wait_until 30 pods_running net 2
declare -A TPID
for p in app-1 app-2; do TPID[$p]=$(target_pid net "$p"); done
# started_each N: each target's command has started N times in all.
started_each() {
	local p n
	for p in app-1 app-2; do
		n=$(wc -l <"/proc/${TPID[$p]}/root/dev/shm/starts" 2>/dev/null || echo 0)
		[[ $n == "$1" ]] || { echo "  $p: started $n times, expected $1" >&2; return 1; }
	done
}
run_is() { [[ $(kubectl get caprun -n net "$1" -o jsonpath='{.status.phase}' 2>/dev/null) == "$2" ]]; }
runs_succeed() { # SECONDS NAME...
	local s=$1 r
	shift
	for r in "$@"; do wait_or_say "$s" run_is "$r" Succeeded || return 1; done
}
ms() { echo $(($(date +%s%N) / 1000000)); }

# ---- 1. latency ------------------------------------------------------------------
toxics_add api slow latency '{"latency":300,"jitter":0}'
t0=$(ms)
run_create net slow-1 mark
check "with 300 ms each way the run succeeds" runs_succeed 60 slow-1
echo "  (in $(($(ms) - t0)) ms)"
check "each target started once" started_each 1
toxics_del api slow

# ---- 2. resets -----------------------------------------------------------------
# Every second the proxy drops every connection (closed and opened again).
(while :; do
	sleep 1
	toxi POST /proxies/api '{"enabled":false}'
	toxi POST /proxies/api '{"enabled":true}'
done) &
resets=$!
PIDS+=($!)
t0=$(ms) c0=$(connections api)
run_create net reset-1 mark
sleep 2
run_create net reset-2 mark
check "with every connection dropped each second, both runs succeed" runs_succeed 60 reset-1 reset-2
echo "  (in $(($(ms) - t0)) ms, $(($(connections api) - c0)) connections)"
kill "$resets"
wait "$resets" 2>/dev/null || true
toxi POST /proxies/api '{"enabled":true}'
check "each target started once per run" started_each 3

# ---- 3. a hung connection ------------------------------------------------------
toxics_add api hang timeout '{"timeout":0}'
run_create net hang-1 mark
sleep "$HANG_S"
check "while the connection hangs the run does not start" started_each 3
toxics_del api hang
t0=$(ms)
check "once the hang ends the run succeeds" runs_succeed 90 hang-1
echo "  (in $(($(ms) - t0)) ms after the hang ended)"
check "each target started once per run" started_each 4

# ---- 4. an outage -------------------------------------------------------------
rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }
ready_code() { curl -s -o /dev/null -w '%{http_code}' "http://$CONTROLLER_HEALTH/readyz"; }
ready_is() { [[ $(ready_code) == "$1" ]]; }
check "the controller is ready before the outage" ready_is 200
caplet=${CAPLET_PID[node-1]}
rss_ctl=$(rss_kib "$CONTROLLER_PID") rss_caplet=$(rss_kib "$caplet")
# Every connection is dropped, then each new one is accepted (and counted)
# and reset as soon as the client speaks.
toxi POST /proxies/api/toxics '{"name":"down","type":"reset_peer","stream":"upstream","attributes":{"timeout":0}}'
toxi POST /proxies/api '{"enabled":false}'
toxi POST /proxies/api '{"enabled":true}'
t0=$(ms) c0=$(connections api)
check "during the outage /readyz is 503" wait_or_say 15 ready_is 503
sleep $((OUTAGE_S - ($(ms) - t0) / 1000))
n=$(($(connections api) - c0)) elapsed=$(($(ms) - t0))
bounded() { # connection attempts under 5 a second
	echo "  $n connections in $elapsed ms"
	((n * 1000 < 5 * elapsed))
}
check "connection attempts during the outage are bounded (backoff)" bounded
check "/readyz is still 503 at its end" ready_is 503
grown() { # PID BEFORE_KIB NAME: resident size grew less than 8 MiB
	local now
	now=$(rss_kib "$1")
	echo "  $3: VmRSS $2 kB before, $now kB after"
	((now - $2 < 8192))
}
check "the controller's resident size stays bounded" grown "$CONTROLLER_PID" "$rss_ctl" controller
check "the caplet's resident size stays bounded" grown "$caplet" "$rss_caplet" caplet
toxi DELETE /proxies/api/toxics/down
t0=$(ms)
check "after the outage /readyz is 200 again" wait_or_say 60 ready_is 200
echo "  (in $(($(ms) - t0)) ms)"
run_create net after-1 mark
check "a run created after the outage succeeds" runs_succeed 60 after-1
check "each target started once per run" started_each 5
check "nothing is left on the node" wait_until 30 nodes_clean

# ---- 5. a leader whose renewals hang -----------------------------------------
health=127.0.0.1:$(free_port) metrics=127.0.0.1:$(free_port)
"$E2E_CONTROLLER" --kubeconfig "$T/lease.kubeconfig" --leader-elect=true --leader-elect-identity net-leader \
	--lease-duration-ms 6000 --renew-deadline-ms "$RENEW_MS" --retry-period-ms 1000 \
	--metrics-addr "$metrics" --health-addr "$health" >>"$T/leader.log" 2>&1 &
leader=$!
PIDS+=($!)
leading() { curl -sf "http://$metrics/metrics" | grep -qx 'recap_controller_leader 1'; }
check "the elected controller leads" wait_until 30 leading
toxics_add lease hang timeout '{"timeout":0}'
t0=$(ms)
gone() { ! kill -0 "$leader" 2>/dev/null; }
wait_until $((RENEW_MS / 1000 + 10)) gone || true
elapsed=$(($(ms) - t0))
in_time() {
	echo "  it exited $elapsed ms after its renewals began to hang (renew deadline $RENEW_MS ms)"
	gone && ((elapsed < RENEW_MS + 5000))
}
check "with its Lease renewals hanging it exits within its renew deadline and 5 s" in_time
status=0
wait "$leader" 2>/dev/null || status=$?
check "with status 1" equals "$status" 1
toxics_del lease hang
finish
