#!/usr/bin/env bash
# Cold pull + unpack: `capsule pull` vs `skopeo copy` + `umoci unpack` of the
# same image from the same local docker-registry, medians of N runs.
#
#   bench/pull.sh [CAPSULE-BINARY] [RUNS]    (as root; default build/cmd/capsule/capsule, 5)
#
# The image: busybox-static plus /usr/lib/python3.11 (about 50 MiB and 1,500
# files in two gzip layers), built with umoci and pushed with skopeo.
set -euo pipefail
# shellcheck source=hack/lib/errtrap.sh
. "$(dirname "${BASH_SOURCE[0]}")/../hack/lib/errtrap.sh"
root=$(cd "$(dirname "$0")/.." && pwd)
CAPSULE=${1:-$root/build/cmd/capsule/capsule}
RUNS=${2:-5}
source "$root/test/oci/lib.sh"

registry_start A
umoci init --layout "$T/src" >/dev/null
umoci new --image "$T/src:bench"
umoci insert --image "$T/src:bench" /bin/busybox /bin/busybox >/dev/null
umoci insert --image "$T/src:bench" /usr/lib/python3.11 /usr/lib/python3.11 >/dev/null
push "$T/src:bench" "$REG_A/bench/img:v1"
ref=$REG_A/bench/img:v1
size=$(du -sb "$T/src/blobs" | cut -f1)

now() { date +%s.%N; }
ours=() theirs=()
for i in $(seq "$RUNS"); do
	rm -rf "$T/store" "$T/oci" "$T/bundle"
	sync
	t0=$(now)
	"$CAPSULE" --root "$T/store" pull --insecure-registry "$REG_A" "$ref" >/dev/null
	t1=$(now)
	skopeo copy -q --src-tls-verify=false "docker://$ref" "oci:$T/oci:v1" >/dev/null
	umoci unpack --image "$T/oci:v1" "$T/bundle" >/dev/null 2>&1
	t2=$(now)
	ours+=("$(awk "BEGIN {print $t1 - $t0}")")
	theirs+=("$(awk "BEGIN {print $t2 - $t1}")")
done
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
m1=$(median "${ours[@]}")
m2=$(median "${theirs[@]}")
printf '\ncold pull + unpack, %s runs, image %s MiB compressed (medians, seconds)\n\n' "$RUNS" "$((size / 1048576))"
printf '| %-34s | %8s |\n' "tool" "median" "----------------------------------" "--------"
printf '| %-34s | %8.3f |\n' "capsule pull" "$m1" "skopeo copy + umoci unpack" "$m2"
printf '\nratio capsule/peers: %.2f (goal <= 1)\n' "$(awk "BEGIN {print $m1 / $m2}")"
