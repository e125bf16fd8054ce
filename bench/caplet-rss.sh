#!/usr/bin/env bash
# caplet idle RSS: a private control plane with the CRDs, NAMESPACES (20)
# namespaces and POLICIES (5) CapsulePolicies (what the agent caches), caplet
# started for one node with no executions, sampled 3 s after its executions
# informer synced, stopped; ROUNDS (3) times. Then, in the same run, the
# floor under any such agent: a process that only sleeps, and the smallest
# client that holds one TLS connection to the same API server with a client
# certificate, once on OpenSSL and once on mbedTLS (bench/caplet-rss/probe.c).
#   bench/caplet-rss.sh [BUILD_DIR]   (as root, from the top of the tree)
# BASELINE=path/to/another/caplet adds that build, interleaved round by round.
# Prints VmRSS per round (and the last round's peak, VmHWM), then each process's resident memory by component
# (/proc/PID/smaps of the last round: Rss and what the process itself
# dirtied, Private_Dirty).
set -euo pipefail
# shellcheck source=hack/lib/errtrap.sh
. "$(dirname "${BASH_SOURCE[0]}")/../hack/lib/errtrap.sh"
build=${1:-build}
rounds=${ROUNDS:-3}
here=$(dirname "$0")
ninja -C "$build" cmd/caplet/caplet cmd/capsule/capsule bench/bench-tls-rss-openssl \
	bench/bench-tls-rss-mbedtls >/dev/null
export RECAP_KUBE_BIN=${RECAP_KUBE_BIN:-$(hack/build-kube)}
tmp=$(mktemp -d /tmp/recap-bench-caplet.XXXXXX)
pid=""
cleanup() {
	# a process that dies of the SIGTERM (sleep, a probe) makes wait return 143:
	# under set -e that ended the cleanup there, before the cluster's down
	if [[ -n $pid ]] && kill "$pid" 2>/dev/null; then wait "$pid" 2>/dev/null || true; fi
	hack/cluster down --dir "$tmp/cluster" >/dev/null 2>&1 || true
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 143' TERM INT
hack/cluster up --dir "$tmp/cluster" >"$tmp/cluster-up.out" 2>&1 ||
	{ echo "hack/cluster up failed:" >&2; cat "$tmp/cluster-up.out" >&2; exit 1; }
# shellcheck disable=SC1091
. "$tmp/cluster/env"
for f in crds/recap.dev_*.yaml; do kubectl apply -f "$f" >/dev/null; done
"$here/../hack/wait-crds" --all
for i in $(seq "${NAMESPACES:-20}"); do kubectl create namespace "bench-$i" >/dev/null; done
for i in $(seq "${POLICIES:-5}"); do
	kubectl apply -f - >/dev/null <<YAML
apiVersion: recap.dev/v1alpha1
kind: CapsulePolicy
metadata: {name: policy-$i}
spec: {namespaceSelector: {matchLabels: {team: t$i}}, limits: {maxConcurrentPerNode: 4}}
YAML
done

# The file names of the libraries BIN links itself (components.awk).
direct_libs() {
	local so path
	for so in $(readelf -d "$1" | sed -n 's/.*Shared library: \[\(.*\)\]/\1/p'); do
		path=$(ldd "$1" | awk -v so="$so" '$1 == so {print $3}')
		[[ -n $path ]] && basename "$(readlink -f "$path")"
	done | tr '\n' ' '
}

# sample LABEL BIN: VmRSS of $pid into $tmp/rss.LABEL, its components into $tmp/comp.LABEL
sample() {
	awk '/^VmRSS/ {print $2}' "/proc/$pid/status" >>"$tmp/rss.$1"
	awk '/^VmHWM/ {print $2}' "/proc/$pid/status" >"$tmp/hwm.$1"
	awk -v bin="$(basename "$2")" -v direct="$(direct_libs "$2")" -f "$here/caplet-rss/components.awk" \
		"/proc/$pid/smaps" | sort -t $'\t' -k2,2 -rn >"$tmp/comp.$1"
}

stop() {
	kill "$pid"
	for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
	wait "$pid" 2>/dev/null || true
	pid=""
}

measure_caplet() { # LABEL BINARY
	local log=$tmp/log.$1
	rm -rf "$tmp/store"
	"$2" --node-name bench --root "$tmp/store" --capsule "$build/cmd/capsule/capsule" \
		--metrics-address 127.0.0.1:0 >"$log" 2>&1 &
	pid=$!
	for _ in $(seq 200); do grep -q 'synced' "$log" && break; sleep 0.1; done
	grep -q 'synced' "$log" || { cat "$log" >&2; echo "caplet did not sync in 20 s" >&2; exit 1; }
	sleep 3
	sample "$1" "$2"
	stop
}

measure_probe() { # LABEL BINARY
	local port=${RECAP_APISERVER_URL##*:} ready
	coproc PROBE ("$2" "$port" "$RECAP_CA_FILE" "$RECAP_ADMIN_CERT" "$RECAP_ADMIN_KEY")
	pid=$PROBE_PID
	read -r -t 20 ready <&"${PROBE[0]}" || true
	[[ $ready == "ready HTTP/1.1 200"* ]] || { echo "$2: no answer from the API server ($ready)" >&2; exit 1; }
	sample "$1" "$2"
	local input=${PROBE[1]}
	exec {input}>&-
	wait "$pid" 2>/dev/null || true
	pid=""
}

for _ in $(seq "$rounds"); do
	measure_caplet caplet "$build/cmd/caplet/caplet"
	[[ -n ${BASELINE:-} ]] && measure_caplet baseline "$BASELINE"
done
sleep 60 &
pid=$!
sleep 0.5
sample sleep "$(command -v sleep)"
stop
measure_probe openssl "$build/bench/bench-tls-rss-openssl"
measure_probe mbedtls "$build/bench/bench-tls-rss-mbedtls"

labels=(caplet)
[[ -n ${BASELINE:-} ]] && labels+=(baseline)
labels+=(sleep openssl mbedtls)
declare -A title=([caplet]="caplet ($build)" [baseline]="caplet (\$BASELINE)" [sleep]="sleep (bare libc process)"
	[openssl]="TLS client, OpenSSL" [mbedtls]="TLS client, mbedTLS")
printf '| %-28s | %-24s | %11s | %11s |\n' "process" "VmRSS KiB, each round" "median KiB" "peak VmHWM"
printf '| %-28s | %-24s | %11s | %11s |\n' "----------------------------" "------------------------" "-----------" \
	"-----------"
for l in "${labels[@]}"; do
	printf '| %-28s | %-24s | %11d | %11d |\n' "${title[$l]}" "$(paste -sd ' ' "$tmp/rss.$l")" \
		"$(sort -n "$tmp/rss.$l" | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}')" "$(cat "$tmp/hwm.$l")"
done
for l in "${labels[@]}"; do
	printf '\n%s, by component:\n\n' "${title[$l]}"
	printf '| %-48s | %7s | %13s |\n' "component" "Rss KiB" "Private_Dirty"
	printf '| %-48s | %7s | %13s |\n' "------------------------------------------------" "-------" "-------------"
	awk -F '\t' '{printf "| %-48s | %7d | %13d |\n", $1, $2, $3; r += $2; d += $3}
		END {printf "| %-48s | %7d | %13d |\n", "total", r, d}' "$tmp/comp.$l"
done
