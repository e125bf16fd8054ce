#!/usr/bin/env bash
# An image of 128 gzip layers with whiteouts across them (test/oci/fixtures.py
# stack, as test/oci/layers_test.sh checks it) vs one of a single layer with
# the same busybox, both in a local docker-registry: cold `capsule pull` into
# an empty store, then `capsule run --image REF -- true` against a sleeping
# process with the image cached (the overlay of 128 lower layers vs one),
# interleaved, medians of N runs.
#
#   bench/many-layers.sh [CAPSULE-BINARY] [RUNS]   (as root; default build/cmd/capsule/capsule, 10)
set -euo pipefail
# shellcheck source=hack/lib/errtrap.sh
. "$(dirname "${BASH_SOURCE[0]}")/../hack/lib/errtrap.sh"
root=$(cd "$(dirname "$0")/.." && pwd)
CAPSULE=${1:-$root/build/cmd/capsule/capsule}
RUNS=${2:-10}
source "$root/test/oci/lib.sh"
cgp=recap-bench-layers-$$
bench_cleanup() {
	set +e
	local s d
	for s in "$T"/store-*; do "$CAPSULE" --root "$s" --cgroup-parent "$cgp" sweep --force >/dev/null 2>&1; done
	oci_cleanup
	for d in /sys/fs/cgroup/*/"$cgp" /sys/fs/cgroup/"$cgp"; do [[ ! -d $d ]] || rmdir "$d"; done
}
trap bench_cleanup EXIT

registry_start A
python3 "$FIXTURES" stack "$T/many" many 128 "$(command -v busybox)" >/dev/null
python3 "$FIXTURES" stack "$T/one" one 1 "$(command -v busybox)" >/dev/null
push "$T/many:many" "$REG_A/bench/many:v1"
push "$T/one:one" "$REG_A/bench/one:v1"
sleep 3600 &
PIDS+=($!)
target=$!

now() { date +%s%N; }
ms() { awk "BEGIN {printf \"%.1f\", ($2 - $1) / 1000000}"; }
declare -A t
for kind in many one; do t[pull-$kind]="" t[run-$kind]=""; done
for i in $(seq "$RUNS"); do
	for kind in many one; do
		rm -rf "$T/store-$kind"
		sync
		t0=$(now)
		"$CAPSULE" --root "$T/store-$kind" pull --insecure-registry "$REG_A" "$REG_A/bench/$kind:v1" >/dev/null
		t1=$(now)
		t[pull-$kind]+=" $(ms "$t0" "$t1")"
	done
	for kind in many one; do
		t0=$(now)
		"$CAPSULE" --root "$T/store-$kind" --cgroup-parent "$cgp" run --target "$target" \
			--image "$REG_A/bench/$kind:v1" -- true
		t1=$(now)
		t[run-$kind]+=" $(ms "$t0" "$t1")"
	done
done
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
printf '\n%s runs, interleaved, medians (ms); load before: %s\n\n' "$RUNS" "$(cut -d' ' -f1-3 /proc/loadavg)"
printf '| %-10s | %-28s | %-28s |\n' "image" "cold capsule pull" "capsule run --image, true" \
	"----------" "----------------------------" "----------------------------"
# shellcheck disable=SC2086
printf '| %-10s | %28s | %28s |\n' "128 layers" "$(median ${t[pull-many]})" "$(median ${t[run-many]})" \
	"1 layer" "$(median ${t[pull-one]})" "$(median ${t[run-one]})"
