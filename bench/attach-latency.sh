#!/usr/bin/env bash
# Attach latency, image cached, command `true`, joining net+pid+ipc+uts:
# `capsule run --image REF` as a user calls it (the image resolved from the
# node store, its copy-on-write root, /target, cgroup, sandbox and the
# verified escape) vs `nsenter -t PID -n -p -i -u true` vs `runc exec` vs
# `crun exec` on the same kind of target.
#
#   bench/attach-latency.sh [CAPSULE-BINARY] [RUNS]   (as root; default build/cmd/capsule/capsule, 50)
#
# Timing: bench/proctime (built beside CAPSULE, in <build>/bench/proctime;
# PROCTIME= names another) times each whole process from fork to reaped, and
# runs every command once per round in a shuffled order: paired samples, so
# each command's ratio to nsenter and to runc exec is the median of the
# per-round ratios, with a 95% interval. When hyperfine is installed (Debian
# package `hyperfine`), `hyperfine --shell=none --warmup 5 --runs RUNS` times
# the same commands too, each in a block of its own (not interleaved), and
# its means are printed beside, so that the two methods meet in one run.
#
# BASELINE=path/to/another/capsule[:path/to/a/third/capsule...] adds each
# build's `run --image`, interleaved with the others on the same target and
# store (a before/after under the same load), with its ratio to CAPSULE.
# LOAD="0 2" measures once per level, each with that many CPU burners
# (`yes >/dev/null`, not pinned) running for the whole pass; default 0.
# PHASES=1 adds the median of each phase `capsule run -o json` reports.
# One run under `strace -c -w -f` and one under `strace -f -T` show where
# the time goes.
set -euo pipefail
# shellcheck source=hack/lib/errtrap.sh
. "$(dirname "${BASH_SOURCE[0]}")/../hack/lib/errtrap.sh"
root=$(cd "$(dirname "$0")/.." && pwd)
CAPSULE=${1:-$root/build/cmd/capsule/capsule}
RUNS=${2:-${RUNS:-50}}
PROCTIME=${PROCTIME:-$(dirname "$CAPSULE")/../../bench/proctime}
LOAD=${LOAD:-0}
PHASES=${PHASES:-0}
WARMUP=5

if [[ ! -x $PROCTIME ]]; then
	echo "attach-latency: no $PROCTIME: build it (ninja -C <build>) or set PROCTIME=" >&2
	exit 1
fi
read -ra levels <<<"$LOAD"
for level in "${levels[@]}"; do
	[[ $level =~ ^[0-9]+$ ]] || { echo "attach-latency: LOAD is a list of burner counts, not '$LOAD'" >&2; exit 2; }
done

T=$(mktemp -d /tmp/recap-bench-attach.XXXXXX)
cid=recap-bench-$$
burners=()
tool=""
# A measuring tool runs in the background with the default signal dispositions,
# so that a signal to this script is handled at once, not when the tool ends.
run_tool() { # command...
	(
		trap - INT QUIT
		exec "$@"
	) &
	tool=$!
	local rc=0
	wait "$tool" || rc=$?
	tool=""
	return "$rc"
}
# proctime reaps the run in progress before it exits; whatever a tool had
# started still gets up to 10 s to end before the target and store go.
stop_tool() {
	[[ -n $tool ]] || return 0
	local children c i
	children=$(pgrep -P "$tool")
	kill "$tool" 2>/dev/null
	wait "$tool" 2>/dev/null
	for c in $children; do
		for ((i = 0; i < 200; i++)); do
			kill -0 "$c" 2>/dev/null || break
			sleep 0.05
		done
	done
	tool=""
}
stop_burners() {
	((${#burners[@]})) || return 0
	kill "${burners[@]}" 2>/dev/null || true
	wait "${burners[@]}" 2>/dev/null || true
	burners=()
}
cleanup() {
	set +e
	stop_tool
	stop_burners
	runc delete -f "$cid" >/dev/null 2>&1
	crun delete -f "$cid-crun" >/dev/null 2>&1
	"$CAPSULE" --root "$T/store" --cgroup-parent "recap-bench-$$" sweep --force >/dev/null 2>&1
	rmdir /sys/fs/cgroup/*/"recap-bench-$$" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

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
# crun refuses hybrid cgroup hosts: then its row says why instead of a time
crun_refused=""
if ! crun run -d --bundle "$T/bundle" "$cid-crun" </dev/null >/dev/null 2>"$T/crun.err"; then
	crun_refused="crun run refused: $(head -n1 "$T/crun.err")"
elif ! crun exec "$cid-crun" /true </dev/null >/dev/null 2>"$T/crun.err"; then
	crun_refused="crun exec refused: $(head -n1 "$T/crun.err")"
fi
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

# The commands, as bench/proctime takes them: `:: NAME ARGV...` each.
run_args=(--root "$T/store" --cgroup-parent "recap-bench-$$" run --target "$pid" --image "$image"
	--join "net,pid,ipc,uts")
baselines=()
[[ -n ${BASELINE:-} ]] && IFS=: read -ra baselines <<<"$BASELINE"
commands=(:: capsule "$CAPSULE" "${run_args[@]}" -- true)
for b in "${baselines[@]}"; do
	commands+=(:: "baseline:$b" "$b" "${run_args[@]}" -- true)
done
commands+=(:: start "$CAPSULE" --help)
commands+=(:: nsenter nsenter -t "$pid" -n -p -i -u true)
commands+=(:: runc runc exec "$cid" /true)
[[ -n $crun_refused ]] || commands+=(:: crun crun exec "$cid-crun" /true)
ratio_to=(-b nsenter -b runc)
((${#baselines[@]} == 0)) || ratio_to+=(-b capsule)

start_burners() { # count
	local i
	for ((i = 0; i < $1; i++)); do
		yes >/dev/null &
		burners+=($!)
	done
	((${#burners[@]} == 0)) || sleep 1 # running before the first sample
}

# The same commands for hyperfine: `-n NAME 'ARGV'` each, words quoted.
hyperfine_args() {
	local i=0 name words
	while ((i < ${#commands[@]})); do
		name=${commands[i + 1]} words=""
		for ((i += 2; i < ${#commands[@]}; i++)); do
			[[ ${commands[i]} != "::" ]] || break
			words+="${words:+ }$(printf '%q' "${commands[i]}")"
		done
		printf '%s\0' -n "$name" "$words"
	done
}

run_hyperfine() { # tag
	local args
	mapfile -d '' args < <(hyperfine_args)
	if ! run_tool hyperfine --shell=none --style basic --warmup "$WARMUP" --runs "$RUNS" \
		--export-json "$T/$1.hyperfine.json" "${args[@]}" >"$T/$1.hyperfine.out" 2>&1; then
		cat "$T/$1.hyperfine.out" >&2
		echo "attach-latency: hyperfine failed (its output above)" >&2
		exit 1
	fi
}

measure_pass() { # burner count
	local tag=load$1
	start_burners "$1"
	cut -d" " -f1-3 /proc/loadavg >"$T/$tag.loadavg"
	echo "## $1 CPU burners: bench/proctime, $RUNS rounds"
	echo
	run_tool "$PROCTIME" -r "$RUNS" -w "$WARMUP" "${ratio_to[@]}" -t "$T/$tag.tsv" "${commands[@]}" || {
		echo "attach-latency: bench/proctime failed with status $? (why: above)" >&2
		exit 1
	}
	if command -v hyperfine >/dev/null; then
		run_hyperfine "$tag"
	else
		echo "hyperfine is not installed (apt-get install hyperfine): its column is left out"
	fi
	cut -d" " -f1-3 /proc/loadavg >>"$T/$tag.loadavg"
	stop_burners
	echo
}

for level in "${levels[@]}"; do
	measure_pass "$level"
done

# One table: each load level a column.
python3 - "$T" "$RUNS" "$crun_refused" "${levels[@]}" <<'PY'
import json, os, sys

tmp, runs, crun_refused, levels = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
labels = {"capsule": "capsule run --image (cached)", "start": "  of which: process start (`capsule --help`)",
          "nsenter": "nsenter -t PID -n -p -i -u true", "runc": "runc exec", "crun": "crun exec"}
label = lambda n: labels.get(n) or "baseline: " + n[len("baseline:"):] + " run --image"
shorts = {"capsule": "capsule run", "start": "capsule --help", "runc": "runc exec", "crun": "crun exec"}
short = lambda n: shorts.get(n) or n.replace("baseline:", "baseline ")
times, ratios, hyper, loads = {}, {}, {}, {}
for lv in levels:
    for f in (l.rstrip("\n").split("\t") for l in open(f"{tmp}/load{lv}.tsv")):
        if f[0] == "time":
            times[lv, f[1]] = [float(x) for x in f[2:]]
        else:
            ratios[lv, f[1], f[2]] = [float(x) for x in f[3:]]
    path = f"{tmp}/load{lv}.hyperfine.json"
    if os.path.exists(path):
        for r in json.load(open(path))["results"]:
            hyper[lv, r["command"]] = r
    loads[lv] = " → ".join(open(f"{tmp}/load{lv}.loadavg").read().split("\n")[:2])
names = list(dict.fromkeys(n for (_, n) in times))
rows = [("| " + " | ".join([f"attach + true, {runs} rounds, ms"] +
                           [f"{lv} burners (load {loads[lv]})" for lv in levels]) + " |"),
        "| --- |" + " --- |" * len(levels)]
row = lambda name, cells: rows.append("| " + " | ".join([name] + cells) + " |")
for n in names:
    row(label(n) + ", median (p10–p90)",
        [f"{t[0]:.2f} ({t[1]:.2f}–{t[2]:.2f})" for t in (times[lv, n] for lv in levels)])
if crun_refused:
    row("crun exec", [crun_refused.replace("|", "/")] * len(levels))
pairs = [("capsule", "nsenter"), ("capsule", "runc")] + [(n, "capsule") for n in names if n.startswith("baseline:")]
for a, b in pairs:
    row(f"**{short(a)} / {short(b)}**, paired median [95% interval]",
        [f"**{q[0]:.2f}** [{q[1]:.2f}, {q[2]:.2f}]" for q in (ratios[lv, a, b] for lv in levels)])
if hyper:
    for n in names:
        row(f"hyperfine: {short(n)}, mean ± sd",
            [f"{1e3 * h['mean']:.2f} ± {1e3 * h['stddev']:.2f}" for h in (hyper[lv, n] for lv in levels)])
    for a, b in (("capsule", "nsenter"), ("capsule", "runc")):
        row(f"hyperfine: {short(a)} / {short(b)}, ratio of means",
            [f"{hyper[lv, a]['mean'] / hyper[lv, b]['mean']:.2f}" for lv in levels])
print("\n".join(rows))
PY

if [[ $PHASES == 1 ]]; then
	for _ in $(seq "$RUNS"); do
		"$CAPSULE" "${run_args[@]}" -o json -- true >>"$T/phases.jsonl"
	done
	echo
	python3 - "$T/phases.jsonl" "$RUNS" <<'PY'
import json, statistics, sys
rows = [json.loads(l)["phasesMs"] for l in open(sys.argv[1])]
print(f"phases of `capsule run -o json` (phasesMs, whole ms), {sys.argv[2]} runs, no burners:\n")
print("| phase | median | mean | max |\n| --- | ---: | ---: | ---: |")
for p in rows[0]:
    v = [r[p] for r in rows]
    print(f"| {p} | {statistics.median(v):g} | {statistics.mean(v):.1f} | {max(v)} |")
PY
fi

# Where the time goes. strace -c's system time per call is counted in
# scheduler ticks on this kind of VM (a whole run can read 0), so the summary
# is of the time spent in each call (-w), waits included; then the single
# calls that took longest, a call split across processes (`<unfinished ...>`,
# `<... resumed>`) joined again. A traced run is slower than an untraced one.
longest_calls() { # strace -f -T -y output
	awk '/ <unfinished \.\.\.>$/ { sub(/ <unfinished \.\.\.>$/, ""); pending[$1] = $0; next }
	/<\.\.\. [a-z0-9_]+ resumed>/ && ($1 in pending) { pid = $1; sub(/^.*resumed>/, ""); $0 = pending[pid] $0; delete pending[pid] }
	$2 ~ /^(wait4|waitid|poll|ppoll|epoll_wait)\(/ { next }
	match($0, / <[0-9.]+>$/) { print substr($0, RSTART + 2, RLENGTH - 3), substr($0, 1, RSTART - 1) }' "$1" |
		sort -rn | awk 'NR <= 10 { print "    " substr($0, 1, 200) }'
}
if command -v strace >/dev/null; then
	strace -c -w -f -o "$T/strace.txt" "$CAPSULE" "${run_args[@]}" -- true >/dev/null
	echo
	echo "one \`capsule run\` under \`strace -c -w -f\`, the 15 syscalls with the most time in them:"
	echo
	{ head -n 17 "$T/strace.txt"; tail -n 1 "$T/strace.txt"; } | sed 's/^/    /'
	strace -f -T -y -o "$T/strace-calls.txt" "$CAPSULE" "${run_args[@]}" -- true >/dev/null
	echo
	echo "one \`capsule run\` under \`strace -f -T -y\`, its 10 longest calls but the waits for a child (s, pid, call):"
	echo
	longest_calls "$T/strace-calls.txt"
else
	echo "strace is not installed (hack/deps installs it): no syscall summary"
fi
