#!/usr/bin/env bash
# What an execution costs on its node when its image is already in the store,
# by the path caplet takes (docs/caplet.md, Image): a plain capsule runs from
# the store (`capsule run --image REF -- /bin/busybox true`); one a CapsulePolicy wants
# signed, or one pulled with credentials, is pulled again first (manifest,
# and for a signed one its .sig tag and payload, through the registry; blobs
# cached) and then run by the digest the pull reported. A docker-registry on
# loopback, an image signed by the real cosign CLI (no transparency log),
# interleaved, medians of N runs.
#
#   bench/signed-capsule.sh [CAPSULE-BINARY] [RUNS]   (as root; default build/cmd/capsule/capsule, 20)
set -euo pipefail
# shellcheck source=hack/lib/errtrap.sh
. "$(dirname "${BASH_SOURCE[0]}")/../hack/lib/errtrap.sh"
root=$(cd "$(dirname "$0")/.." && pwd)
CAPSULE=${1:-$root/build/cmd/capsule/capsule}
RUNS=${2:-20}
COSIGN=${RECAP_COSIGN:-$("$root/hack/build-cosign")}
source "$root/test/oci/lib.sh"
cgp=recap-bench-signed-$$
bench_cleanup() {
	set +e
	"$CAPSULE" --root "$T/store" --cgroup-parent "$cgp" sweep --force >/dev/null 2>&1
	oci_cleanup
	local d
	for d in /sys/fs/cgroup/*/"$cgp" /sys/fs/cgroup/"$cgp"; do [[ ! -d $d ]] || rmdir "$d"; done
}
trap bench_cleanup EXIT

registry_start A
image_build "$T/src" bb amd64
push "$T/src:bb" "$REG_A/bench/signed:v1"
dead=127.0.0.1:$(free_port)
mkdir -p "$T/cosign"
(cd "$T/cosign" && HOME=$T/cosign COSIGN_PASSWORD=bench TUF_ROOT=$T/cosign/tuf TUF_MIRROR=http://$dead \
	"$COSIGN" generate-key-pair >/dev/null 2>&1)
HOME=$T/cosign COSIGN_PASSWORD=bench TUF_ROOT=$T/cosign/tuf TUF_MIRROR=http://$dead \
	HTTPS_PROXY=http://$dead HTTP_PROXY=http://$dead NO_PROXY=127.0.0.1 \
	"$COSIGN" sign --key "$T/cosign/cosign.key" --tlog-upload=false --allow-insecure-registry \
	--allow-http-registry -y "$REG_A/bench/signed:v1" >"$T/sign.log" 2>&1 || { cat "$T/sign.log" >&2; exit 1; }
ref=$REG_A/bench/signed:v1
"$CAPSULE" --root "$T/store" pull --insecure-registry "$REG_A" "$ref" >/dev/null
sleep 3600 &
PIDS+=($!)
target=$!

now() { date +%s%N; }
ms() { awk "BEGIN {printf \"%.1f\", ($2 - $1) / 1000000}"; }
run_digest() { # the pull's first line names the digest; run by it
	local digest
	digest=$(awk 'NR == 1 {print $2}' "$T/pull.out")
	"$CAPSULE" --root "$T/store" --cgroup-parent "$cgp" run --target "$target" \
		--image "$REG_A/bench/signed@$digest" -- /bin/busybox true
}
declare -a plain signed repull
for _ in $(seq "$RUNS"); do
	t0=$(now)
	"$CAPSULE" --root "$T/store" --cgroup-parent "$cgp" run --target "$target" --image "$ref" -- /bin/busybox true
	t1=$(now)
	"$CAPSULE" --root "$T/store" pull --insecure-registry "$REG_A" --verify-key "$T/cosign/cosign.pub" "$ref" \
		>"$T/pull.out"
	run_digest
	t2=$(now)
	"$CAPSULE" --root "$T/store" pull --insecure-registry "$REG_A" "$ref" >"$T/pull.out"
	run_digest
	t3=$(now)
	plain+=("$(ms "$t0" "$t1")") signed+=("$(ms "$t1" "$t2")") repull+=("$(ms "$t2" "$t3")")
done
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
p=$(median "${plain[@]}") s=$(median "${signed[@]}") r=$(median "${repull[@]}")
printf '\n%s runs, interleaved, medians (ms); load before: %s\n\n' "$RUNS" "$(cut -d' ' -f1-3 /proc/loadavg)"
printf '| %-52s | %8s | %6s |\n' "an execution of a cached image" "ms" "ratio" \
	"----------------------------------------------------" "--------" "------"
printf '| %-52s | %8s | %6s |\n' "plain: run from the store" "$p" "1.00" \
	"signed: pull --verify-key, run by digest" "$s" "$(awk "BEGIN {printf \"%.2f\", $s / $p}")" \
	"with credentials: pull again, run by digest" "$r" "$(awk "BEGIN {printf \"%.2f\", $r / $p}")"
