#!/usr/bin/env bash
# Attach latency, image cached, command `true`, joining net+pid+ipc+uts:
# `capsule run --image REF` as a user calls it (the image resolved from the
# node store, its copy-on-write root, /target, cgroup, sandbox and the
# verified escape) vs `nsenter -t PID -n -p -i -u true` vs `runc exec` vs
# `crun exec` on the same kind of target, interleaved, medians of N runs.
#
#   bench/attach-latency.sh [CAPSULE-BINARY] [RUNS]   (as root; default build/cmd/capsule/capsule, 50)
#
# BASELINE=path/to/another/capsule[:path/to/a/third/capsule...] adds each
# build's `run --image`, interleaved with the others on the same target and
# store: a before/after under the same load.
set -euo pipefail
# shellcheck source=hack/lib/errtrap.sh
. "$(dirname "${BASH_SOURCE[0]}")/../hack/lib/errtrap.sh"
root=$(cd "$(dirname "$0")/.." && pwd)
CAPSULE=${1:-$root/build/cmd/capsule/capsule}
RUNS=${2:-50}

T=$(mktemp -d /tmp/recap-bench-attach.XXXXXX)
cid=recap-bench-$$
cleanup() {
	set +e
	runc delete -f "$cid" >/dev/null 2>&1
	crun delete -f "$cid-crun" >/dev/null 2>&1
	"$CAPSULE" --root "$T/store" --cgroup-parent "recap-bench-$$" sweep --force >/dev/null 2>&1
	rmdir /sys/fs/cgroup/*/"recap-bench-$$" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT

# the target: a static sleeper and a static `true`, nothing else
mkdir -p "$T/bundle/rootfs" "$T/layer/bin"
printf '#include <unistd.h>\nint main(void){for(;;)pause();}\n' >"$T/sleeper.c"
printf 'int main(void){return 0;}\n' >"$T/true.c"
gcc -static -O2 -o "$T/bundle/rootfs/sleeper" "$T/sleeper.c"
gcc -static -O2 -o "$T/bundle/rootfs/true" "$T/true.c"
(cd "$T/bundle" && runc spec)
python3 - "$T/bundle/config.json" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
c["process"]["args"] = ["/sleeper"]
c["process"]["terminal"] = False
json.dump(c, open(sys.argv[1], "w"))
PY
runc run -d --bundle "$T/bundle" "$cid" </dev/null >/dev/null 2>&1
crun run -d --bundle "$T/bundle" "$cid-crun" </dev/null >/dev/null 2>&1 || true
pid=$(runc state "$cid" | python3 -c 'import json,sys; print(json.load(sys.stdin)["pid"])')
# the capsule: busybox-static (`true` is an applet) as an OCI image, pulled
# into the store once: every run below finds it cached
cp "$(command -v busybox)" "$T/layer/bin/busybox"
ln -s busybox "$T/layer/bin/true"
umoci init --layout "$T/image" >/dev/null
umoci new --image "$T/image:bench" >/dev/null
umoci insert --image "$T/image:bench" "$T/layer/bin" /bin >/dev/null
image=oci:$T/image:bench
"$CAPSULE" --root "$T/store" pull "$image" >/dev/null

load_start=$(cut -d" " -f1-3 /proc/loadavg)
now() { date +%s%N; }
declare -A samples
measure() { # name, command...
	local name=$1 t0 t1
	shift
	t0=$(now)
	"$@" >/dev/null
	t1=$(now)
	samples[$name]+="$(((t1 - t0) / 1000)) "
}
baselines=()
[[ -n ${BASELINE:-} ]] && IFS=: read -ra baselines <<<"$BASELINE"
have_crun=0
crun state "$cid-crun" >/dev/null 2>&1 && have_crun=1
for _ in $(seq "$RUNS"); do
	measure capsule "$CAPSULE" --root "$T/store" --cgroup-parent "recap-bench-$$" run --target "$pid" \
		--image "$image" --join net,pid,ipc,uts -- true
	for b in "${baselines[@]}"; do
		measure "$b" "$b" --root "$T/store" --cgroup-parent "recap-bench-$$" run --target "$pid" \
			--image "$image" --join net,pid,ipc,uts -- true
	done
	measure start "$CAPSULE" --help
	measure nsenter nsenter -t "$pid" -n -p -i -u true
	measure runc runc exec "$cid" /true
	((have_crun)) && measure crun crun exec "$cid-crun" /true
done

median() { tr ' ' '\n' <<<"$1" | grep . | sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
printf '| %-58s | %11s |\n' "attach + true ($RUNS runs, interleaved)" "median (ms)"
printf '| %-58s | %11s |\n' "$(printf '%.0s-' {1..58})" "-----------"
declare -A med
for name in capsule start "${baselines[@]}" nsenter runc crun; do
	[[ -n ${samples[$name]:-} ]] || continue
	med[$name]=$(median "${samples[$name]}")
	label=$name
	case $name in
	capsule) label="capsule run --image (cached; CoW root, /target, escape)" ;;
	start) label="  of which: capsule process start (capsule --help)" ;;
	/*) label="baseline: $name run --image" ;;
	nsenter) label="nsenter -t PID -n -p -i -u true" ;;
	runc) label="runc exec" ;;
	crun) label="crun exec" ;;
	esac
	awk -v l="$label" -v us="${med[$name]}" 'BEGIN {printf "| %-58s | %11.1f |\n", l, us / 1000}'
done
awk -v c="${med[capsule]}" -v n="${med[nsenter]}" -v r="${med[runc]}" \
	'BEGIN {printf "\nload average: at start '"$load_start"', at end '"$(cut -d' ' -f1-3 /proc/loadavg)"'\ncapsule run/nsenter = %.2f (goal <= 2), capsule run/runc exec = %.2f (goal <= 0.5)\n", c / n, c / r}'
