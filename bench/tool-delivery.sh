#!/usr/bin/env bash
# Four ways to get a tool (tcpdump) working in a running container, on a real
# node (hack/node: kubelet, containerd, runc; caplet as the DaemonSet and
# recap-controller as the Deployment of config/, e2e/real-node/lib.sh), timed
# from the user's command to the tool's first output, the capture of a packet:
#   (a) in the image already: `kubectl exec` into an nginx pod whose image has
#       tcpdump (examples/nginx-tcpdump);
#   (b) rebuild and redeploy: the nginx Deployment's image rebuilt with
#       tcpdump (hack/build-images, Debian packages already in its cache),
#       put on the node (`hack/node import`: this node never pulls, so the
#       import stands for push + pull), `kubectl set image` and `kubectl
#       rollout status`, then `kubectl exec` into the new pod;
#   (c) a capsule, its image on the node: `kubectl capsule run` of the
#       tcpdump capsule on the tool-less nginx pod (examples/nginx);
#   (d) the same capsule, its image not on the node: removed from caplet's
#       store (`capsule rmi` + `capsule gc`) before each such run, so caplet
#       pulls it from the registry (on this node's bridge: no WAN in it).
# Traffic: a busybox pod fetches the page of every nginx pod (nc) 50 times
# a second, so each capture waits for its first packet for 20 ms at most.
# Then the scenario itself: tcpdump from a capsule on the tool-less nginx pod
# captures the client's HTTP exchange, once printed (-A) and once written to
# /out as a pcap and copied back with `kubectl capsule cp`; both are checked.
# Rounds interleave (a) and (c) in a shuffled order WARM times, then (d) once
# and (b) once; the table gives medians over the rounds.
#
#   bench/tool-delivery.sh [ROUNDS [WARM]]   (as root, from a tree built in
#                                             build/; defaults 3 and 5)
set -euo pipefail
# shellcheck source=hack/lib/errtrap.sh
. "$(dirname "${BASH_SOURCE[0]}")/../hack/lib/errtrap.sh"
root=$(cd "$(dirname "$0")/.." && pwd)
ROUNDS=${1:-3} WARM=${2:-5}
# shellcheck source=bench/real-node/lib.sh
. "$root/bench/real-node/lib.sh"
bench_counts 1000 ROUNDS WARM
bench_node_up "$root"
die() {
	echo "tool-delivery: $*" >&2
	exit 1
}
now_ms() { echo $(($(date +%s%N) / 1000000)); }

# -- images: the two nginx workloads and the tcpdump capsule, from their
# Containerfiles; this first build also fills the Debian package cache (b) uses
"$root/hack/build-images" --out "$T/apps" --only nginx,nginx-tcpdump,tcpdump --push "$REGISTRY" --insecure \
	>"$T/apps.log" 2>&1 || die "hack/build-images of the example images failed: $(cat "$T/apps.log")"
ref_of() { awk -v n="$1" '$1 == n {print $2}' "$T/apps/images.txt"; }
NGINX=$(ref_of nginx) NGINX_TOOLS=$(ref_of nginx-tcpdump) TCPDUMP=$REGISTRY/$(ref_of tcpdump)
"$root/hack/node" import --dir "$T/node" "$T/apps/nginx.tar" "$T/apps/nginx-tcpdump.tar" ||
	die "hack/node import of the nginx images failed"

kubectl create namespace bench >/dev/null
deployment() { # NAME IMAGE
	cat <<YAML
apiVersion: apps/v1
kind: Deployment
metadata: {name: $1}
spec:
  replicas: 1
  selector: {matchLabels: {app: $1}}
  template:
    metadata: {labels: {app: $1}}
    spec:
      terminationGracePeriodSeconds: 1
      containers:
      - name: app
        image: $2
        imagePullPolicy: Never
        ports: [{containerPort: 80}]
        readinessProbe: {httpGet: {path: /, port: 80}, periodSeconds: 1}
---
YAML
}
{
	deployment web "$NGINX"
	deployment web-tools "$NGINX_TOOLS"
	cat <<YAML
apiVersion: v1
kind: Pod
metadata: {name: client}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: client
    image: $RECAP_NODE_BUSYBOX_IMAGE
    imagePullPolicy: Never
    command:
    - sh
    - -c
    - |
      while :; do
        for ip in \$(cat /tmp/targets 2>/dev/null); do
          printf 'GET / HTTP/1.1\\r\\nHost: web\\r\\nConnection: close\\r\\n\\r\\n' | nc -w 1 \$ip 80 >/dev/null
        done
        usleep 20000
      done
---
apiVersion: recap.dev/v1alpha1
kind: CapsulePolicy
metadata: {name: bench-capture}
spec:
  namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: bench}}
  capabilities: {allowed: [NET_RAW, NET_ADMIN]}
YAML
} | kubectl apply -n bench -f - >/dev/null
kubectl rollout status -n bench deploy/web deploy/web-tools --timeout=90s >/dev/null ||
	die "the nginx Deployments did not become available"
kubectl wait -n bench --for=condition=Ready pod/client --timeout=60s >/dev/null || die "the client pod is not Ready"

# live: the pods of label selector $1 that run and are not going away (a
# rollout's old pod runs on for its grace period)
live() {
	kubectl get pods -n bench -l "$1" --field-selector=status.phase=Running -o go-template="{{range .items}}{{if not .metadata.deletionTimestamp}}{{$2}}{{\"\\n\"}}{{end}}{{end}}"
}
pod_of() { live "app=$1" .metadata.name | head -1; }
# retarget: the client fetches from every nginx pod there is now
retarget() {
	local ips
	ips=$(live 'app in (web,web-tools)' .status.podIP | tr '\n' ' ')
	kubectl exec -n bench client -- sh -c "echo '$ips' >/tmp/targets" || die "the client pod could not be retargeted"
	# the loop may be waiting out its 1 s timeout on a pod just gone: the next
	# capture must not wait for that
	sleep 1.5
}
retarget

CAPTURE=(tcpdump --immediate-mode -i any -nn -l -c 1 tcp port 80)
first() { "$root/bench/real-node/first_output.py" " IP " "$@"; }
exec_baked() { first kubectl exec -n bench "$(pod_of web-tools)" -c app -- "${CAPTURE[@]}"; }
capsule_run() {
	first kubectl capsule run -n bench "$TCPDUMP" --pod "$(pod_of web)" --cap-add NET_RAW,NET_ADMIN \
		--join net,uts --target-fs None --timeout 30 -- "${CAPTURE[@]}"
}
capsule_cold() {
	"$B/cmd/capsule/capsule" --root "$T/store" rmi "$TCPDUMP" >/dev/null || die "capsule rmi $TCPDUMP failed"
	"$B/cmd/capsule/capsule" --root "$T/store" gc >/dev/null || die "capsule gc failed"
	capsule_run
}
# rebuild: prints "BUILD IMPORT ROLLOUT EXEC_FIRST" (ms); the deployment is
# put back on the tool-less image afterwards, untimed
rebuild() {
	local t0 t1 t2 t3 e
	t0=$(now_ms)
	"$root/hack/build-images" --out "$T/rebuild" --only nginx-tcpdump >"$T/rebuild.log" 2>&1 ||
		die "the rebuild failed: $(cat "$T/rebuild.log")"
	t1=$(now_ms)
	"$root/hack/node" import --dir "$T/node" "$T/rebuild/nginx-tcpdump.tar" || die "hack/node import failed"
	t2=$(now_ms)
	kubectl set image -n bench deploy/web "app=$NGINX_TOOLS" >/dev/null || die "kubectl set image failed"
	kubectl rollout status -n bench deploy/web --timeout=120s >/dev/null || die "the rollout did not finish"
	t3=$(now_ms)
	# the client finds the new pod (not timed: a Service would, with kube-proxy)
	retarget
	e=$(first kubectl exec -n bench deploy/web -c app -- "${CAPTURE[@]}") || die "kubectl exec after the rollout failed"
	echo "$((t1 - t0)) $((t2 - t1)) $((t3 - t2)) ${e%% *}"
	kubectl set image -n bench deploy/web "app=$NGINX" >/dev/null || die "kubectl set image back failed"
	kubectl rollout status -n bench deploy/web --timeout=120s >/dev/null || die "the rollback did not finish"
	retarget
}

echo "== time to tcpdump's first captured packet (load before: $(cut -d' ' -f1-3 /proc/loadavg), $(nproc) cores)"
declare -A FIRSTS=([exec_baked]="" [capsule_run]="" [capsule_cold]="")
REBUILDS=()
# one untimed round of each first: the plugin's and kubectl's first start
exec_baked >/dev/null || die "kubectl exec of tcpdump failed"
capsule_run >/dev/null || die "kubectl capsule run of tcpdump failed"
for ((r = 0; r < ROUNDS; r++)); do
	for ((i = 0; i < WARM; i++)); do
		for tool in $(printf '%s\n' exec_baked capsule_run | shuf); do
			o=$($tool) || die "$tool failed"
			FIRSTS[$tool]+="${o%% *} "
		done
	done
	o=$(capsule_cold) || die "capsule_cold failed"
	FIRSTS[capsule_cold]+="${o%% *} "
	o=$(rebuild) || die "rebuild failed"
	REBUILDS+=("$o")
	echo "round $((r + 1)) of $ROUNDS: rebuild + redeploy $o ms (build, import, rollout, exec)" >&2
done
median() { tr ' ' '\n' | grep . | sort -n | awk '{a[NR]=$1} END {printf "%.1f\n", (NR % 2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
col() { printf '%s\n' "${REBUILDS[@]}" | awk -v c="$1" '{print $c}' | median; }
total=$(printf '%s\n' "${REBUILDS[@]}" | awk '{print $1 + $2 + $3 + $4}' | median)
A=$(median <<<"${FIRSTS[exec_baked]}") C=$(median <<<"${FIRSTS[capsule_run]}") D=$(median <<<"${FIRSTS[capsule_cold]}")
ratio() { awk -v a="$1" -v b="$A" 'BEGIN {printf "%.2fx", a / b}'; }
echo
printf '%-58s %12s %10s\n' "way (median ms; (a), (c) of $((ROUNDS * WARM)), (b), (d) of $ROUNDS)" "first packet" "/ (a)"
printf '%-58s %12s %10s\n' "(a) tool in the image: kubectl exec" "$A" "$(ratio "$A")"
printf '%-58s %12s %10s\n' "(b) rebuild + redeploy + kubectl exec" "$total" "$(ratio "$total")"
printf '%-58s %12s\n' "      hack/build-images (package cache warm)" "$(col 1)"
printf '%-58s %12s\n' "      hack/node import" "$(col 2)"
printf '%-58s %12s\n' "      kubectl set image + rollout status" "$(col 3)"
printf '%-58s %12s\n' "      kubectl exec" "$(col 4)"
printf '%-58s %12s %10s\n' "(c) capsule, image on the node: kubectl capsule run" "$C" "$(ratio "$C")"
printf '%-58s %12s %10s\n' "(d) capsule, image not on the node: kubectl capsule run" "$D" "$(ratio "$D")"

# -- the scenario: the client's HTTP exchange with the tool-less nginx pod
web=$(pod_of web) client_ip=$(kubectl get pod -n bench client -o jsonpath='{.status.podIP}')
echo
echo "== tcpdump in a capsule on pod bench/$web (nginx, no tools), client $client_ip"
kubectl capsule run -n bench "$TCPDUMP" --pod "$web" --cap-add NET_RAW,NET_ADMIN --join net,uts --target-fs None \
	--timeout 60 -- tcpdump -i any -nn -l -A -s 0 -c 8 'tcp port 80 and (tcp[tcpflags] & tcp-push != 0)' \
	>"$T/capture.txt" 2>"$T/capture.err" || die "the printed capture failed: $(cat "$T/capture.err")"
for want in "$client_ip." "GET / HTTP/1.1" "HTTP/1.1 200 OK" "served by nginx in examples/nginx"; do
	grep -qF -- "$want" "$T/capture.txt" || die "the printed capture has no '$want': $(head -c 2000 "$T/capture.txt")"
done
echo "printed capture: the request from $client_ip, nginx's 200 and the page's text are in it"
kubectl capsule run -n bench "$TCPDUMP" --pod "$web" --cap-add NET_RAW,NET_ADMIN --join net,uts --target-fs None \
	--timeout 60 -- tcpdump -i any -nn -s 0 -c 20 -w /out/capture.pcap 'tcp port 80' \
	>"$T/pcap.out" 2>"$T/pcap.err" || die "the pcap capture failed: $(cat "$T/pcap.err")"
run=$(sed -n 's/^run \([a-z]*-[a-z0-9]*\):.*/\1/p' "$T/pcap.out" "$T/pcap.err" | head -1)
[[ -n $run ]] || run=$(kubectl get caprun -n bench --sort-by=.metadata.creationTimestamp -o jsonpath='{.items[-1].metadata.name}')
kubectl capsule cp -n bench "$run:/out/capture.pcap" "$T/capture.pcap" >/dev/null 2>"$T/cp.err" ||
	die "kubectl capsule cp of the pcap failed: $(cat "$T/cp.err")"
python3 - "$T/capture.pcap" "$client_ip" <<'PY' || die "the pcap is not the capture asked for"
import socket, struct, sys
data = open(sys.argv[1], "rb").read()
magic = struct.unpack("<I", data[:4])[0]
if magic not in (0xA1B2C3D4, 0xA1B23C4D):
    sys.exit("not a pcap file (magic %08x)" % magic)
link = struct.unpack("<I", data[20:24])[0]
off, packets, src, get = 24, 0, 0, 0
client = socket.inet_aton(sys.argv[2])
while off + 16 <= len(data):
    incl = struct.unpack("<I", data[off + 8:off + 12])[0]
    pkt = data[off + 16:off + 16 + incl]
    off += 16 + incl
    packets += 1
    src += client in pkt
    get += b"GET / HTTP/1.1" in pkt
if off != len(data) or packets != 20 or not src or not get:
    sys.exit("%d bytes read of %d, %d packets (20 asked), %d from the client, %d with the GET"
             % (off, len(data), packets, src, get))
print("pcap from /out: link type %d, %d packets, %d of them the client's, %d with its GET" % (link, packets, src, get))
PY
wait_until 30 node_clean || die "executions left state behind on the node"
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
