#!/usr/bin/env bash
# The target's filesystem through /target against native: reading and
# checksumming every file of the target's /usr, a tar of it, and small-file
# creation in the target, done by the same static busybox
#
#   * natively, inside the target's mount namespace
#     (`nsenter -t PID -m`: the container's own view of its files), and
#   * by `capsule run --image` through /target, with targetFilesystem
#     ReadOnly (Landlock, seccomp) and ReadWrite (seccomp),
#
# each command timed as a whole process (bench/proctime: every command once
# per round in a shuffled order, paired ratios to native with a 95%
# interval). A capsule run's time includes its attach and escape; the last
# table times those alone (`true`). The filesystem's own part is timed
# too, from inside: each workload runs under a small static timer (in the
# target's root and in the capsule's image alike) that reads the monotonic
# clock around the workload's process alone, so that the path through
# /target is compared without the run's fixed cost (whose spread on a
# hybrid cgroup host, the v1 moves' RCU grace periods, is larger than a
# short workload's difference).
#
#   bench/target-fs.sh [CAPSULE-BINARY] [ROUNDS]   (as root; default build/cmd/capsule/capsule, 10)
#
# The target: a runc container whose root is a Debian package set unpacked
# with dpkg-deb (libc, libstdc++, ICU, OpenSSL, GnuTLS, Kerberos, libcurl,
# ClamAV, gdb, procps, sysstat, tar, tcpdump, strace, Python's standard
# library, tzdata and their libraries: about 150 MB and 2,300 files in
# /usr), a static sleeper as PID 1 and busybox-static at /bench/busybox. The
# .deb files are taken from hack/build-images' cache
# (~/.cache/recap/debs) and fetched into it with `apt-get download` when
# missing. PACKAGES= names another set.
#
# Each workload makes a run take about half a second or more on the 2-core
# development VM, so the fixed cost of a capsule run is a few percent of it:
# sha256sum of every regular file under /usr (busybox `find -exec {} +`,
# output to /dev/null), TAR_PASSES tars of /usr into a pipe (default 1), and
# CREATE_FILES small files (default 2000; 6 bytes each) written into a new
# directory of the target's /var/tmp and removed again. /var/tmp is a tmpfs
# of the target's (as a container's /tmp often is): on the development VM's
# ext4, mounted discard, the same files took 0.07 to 1.5 s from one round to
# the next, which drowned the path's own cost. The page cache is
# warm (two warm-up rounds): this measures the path through the mounts, the
# sandbox's per-call costs (seccomp, Landlock) and the run's cgroup, not the
# disk. The capsule runs get the run defaults (one CPU, 512Mi);
# CAPSULE_OPTS="--cpus 2" (words added to every `capsule run`) takes the CPU
# quota out of the comparison: the tar workload is two busy processes (tar
# and the wc it writes to), which one CPU's quota throttles, while native
# runs them without a limit.
set -euo pipefail
# shellcheck source=hack/lib/errtrap.sh
. "$(dirname "${BASH_SOURCE[0]}")/../hack/lib/errtrap.sh"
root=$(cd "$(dirname "$0")/.." && pwd)
CAPSULE=${1:-$root/build/cmd/capsule/capsule}
ROUNDS=${2:-${ROUNDS:-10}}
PROCTIME=${PROCTIME:-$(dirname "$CAPSULE")/../../bench/proctime}
TAR_PASSES=${TAR_PASSES:-1}
CREATE_FILES=${CREATE_FILES:-2000}
read -ra capsule_opts <<<"${CAPSULE_OPTS:-}"
WARMUP=2
PACKAGES=${PACKAGES:-"libc6 libgcc-s1 libstdc++6 libicu72 libssl3 libxml2 libgnutls30 libkrb5-3
	libcurl4 libclamav12 clamav gdb-minimal procps sysstat tar tcpdump strace zlib1g libzstd1
	liblzma5 libbz2-1.0 ncurses-base libncursesw6 libtinfo6 libreadline8 libsystemd0 libpcre2-8-0
	libselinux1 libunistring2 libidn2-0 libp11-kit0 libtasn1-6 libnettle8 libhogweed6 libgmp10
	libffi8 libexpat1 libpython3.11-minimal libpython3.11-stdlib tzdata"}
debs=${XDG_CACHE_HOME:-$HOME/.cache}/recap/debs

if ((EUID != 0)); then
	echo "target-fs: needs root (runc, namespaces, cgroups)" >&2
	exit 1
fi
for tool in runc umoci nsenter busybox dpkg-deb apt-get gcc python3; do
	command -v "$tool" >/dev/null || { echo "target-fs: missing $tool (hack/deps installs it)" >&2; exit 1; }
done
if [[ ! -x $PROCTIME ]]; then
	echo "target-fs: no $PROCTIME: build it (ninja -C <build>) or set PROCTIME=" >&2
	exit 1
fi
[[ $TAR_PASSES =~ ^[1-9][0-9]*$ && $CREATE_FILES =~ ^[1-9][0-9]*$ ]] ||
	{ echo "target-fs: TAR_PASSES and CREATE_FILES are positive numbers" >&2; exit 2; }

T=$(mktemp -d /tmp/recap-bench-targetfs.XXXXXX)
cid=recap-bench-fs-$$
cgp=recap-bench-fs-$$
tool=""
# proctime runs in the background with the default signal dispositions, so
# that a signal to this script is handled at once (as bench/attach-latency.sh)
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
cleanup() {
	set +e
	if [[ -n $tool ]]; then
		kill "$tool" 2>/dev/null
		wait "$tool" 2>/dev/null
	fi
	runc delete -f "$cid" >/dev/null 2>&1
	"$CAPSULE" --root "$T/store" --cgroup-parent "$cgp" sweep --force >/dev/null 2>&1
	rmdir /sys/fs/cgroup/*/"$cgp" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# The target's root: the package set, unpacked.
rootfs=$T/bundle/rootfs
mkdir -p "$rootfs/bench" "$rootfs/var/tmp" "$debs"
for p in $PACKAGES; do
	deb=$(compgen -G "$debs/${p}_*.deb" | head -n1 || true)
	if [[ -z $deb ]]; then
		(cd "$debs" && apt-get download -q "$p" >/dev/null 2>"$T/apt.err") ||
			{ cat "$T/apt.err" >&2; echo "target-fs: cannot fetch package $p" >&2; exit 1; }
		deb=$(compgen -G "$debs/${p}_*.deb" | head -n1)
	fi
	dpkg-deb -x "$deb" "$rootfs"
done
printf '#include <unistd.h>\nint main(void){for(;;)pause();}\n' >"$T/sleeper.c"
gcc -static -O2 -o "$rootfs/sleeper" "$T/sleeper.c"
# walltime COMMAND...: runs it and prints "walltime_us N" (its monotonic
# wall time) on stderr; exits with its status.
cat >"$T/walltime.c" <<'C'
#include <stdio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
static long long now_us(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1000000LL + t.tv_nsec / 1000;
}
int main(int argc, char **argv)
{
	if (argc < 2)
		return 2;
	long long t0 = now_us();
	pid_t p = fork();
	if (p == 0) {
		execvp(argv[1], argv + 1);
		_exit(127);
	}
	int st = 0;
	if (p < 0 || waitpid(p, &st, 0) < 0)
		return 2;
	fprintf(stderr, "walltime_us %lld\n", now_us() - t0);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 1;
}
C
gcc -static -O2 -o "$rootfs/bench/walltime" "$T/walltime.c"
cp "$(command -v busybox)" "$rootfs/bench/busybox"
usr_files=$(find "$rootfs/usr" -type f | wc -l)
usr_mib=$(($(du -sb "$rootfs/usr" | cut -f1) / 1048576))
(cd "$T/bundle" && runc spec)
python3 - "$T/bundle/config.json" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
c["process"]["args"] = ["/sleeper"]
c["process"]["terminal"] = False
c["root"]["readonly"] = False
# the small-file workload writes here, on both sides (/target/var/tmp in a run)
c["mounts"].append({"destination": "/var/tmp", "type": "tmpfs", "source": "tmpfs",
                    "options": ["nosuid", "nodev", "mode=1777", "size=64m"]})
json.dump(c, open(sys.argv[1], "w"))
PY
runc run -d --bundle "$T/bundle" "$cid" </dev/null >/dev/null 2>&1
pid=$(runc state "$cid" | python3 -c 'import json,sys; print(json.load(sys.stdin)["pid"])')

# The capsule: the same busybox-static, as an OCI image in the store.
mkdir -p "$T/layer/bin"
cp "$(command -v busybox)" "$T/layer/bin/busybox"
cp "$rootfs/bench/walltime" "$T/layer/bin/walltime"
umoci init --layout "$T/image" >/dev/null
umoci new --image "$T/image:bench" >/dev/null
umoci insert --image "$T/image:bench" "$T/layer/bin" /bin >/dev/null
image=oci:$T/image:bench
"$CAPSULE" --root "$T/store" pull "$image" >/dev/null

# The workloads, as `sh -c` scripts of busybox BB with the target's root at R.
sum_sh='cd "$R/" && $BB find usr -type f -exec $BB sha256sum {} + >/dev/null'
tar_sh='cd "$R/" && i=0 && while [ $i -lt '"$TAR_PASSES"' ]; do $BB tar -cf - usr | $BB wc -c >/dev/null; i=$((i + 1)); done'
create_sh='d="$R/var/tmp/bench.$$" && $BB mkdir "$d" && cd "$d" && i=0 &&
while [ $i -lt '"$CREATE_FILES"' ]; do echo small >f$i; i=$((i + 1)); done && cd / && $BB rm -rf "$d"'
# native|capsule ... [TIMER] SCRIPT: the argv of a workload, each side's
# under TIMER when given (walltime: the workload's process timed from
# inside, for proctime -i).
native() { # workload script [timer]
	printf '%s\0' nsenter -t "$pid" -m ${2:+/bench/$2} /bench/busybox env BB=/bench/busybox R= \
		/bench/busybox sh -c "$1"
}
capsule() { # ro|rw, workload script [timer]
	printf '%s\0' "$CAPSULE" --root "$T/store" --cgroup-parent "$cgp" run --target "$pid" --image "$image" \
		--target-fs "$1" "${capsule_opts[@]}" -- ${3:+$3} busybox env BB=/bin/busybox R=/target busybox sh -c "$2"
}

measure() { # tag, [proctime options] then `:: NAME ARGV...` for proctime
	local tag=$1
	shift
	echo "## $tag: $ROUNDS rounds after $WARMUP warm-up"
	echo
	run_tool "$PROCTIME" -r "$ROUNDS" -w "$WARMUP" -b native -t "$T/$tag.tsv" "$@" || {
		echo "target-fs: bench/proctime failed with status $? (why: above)" >&2
		exit 1
	}
	echo
}
argv() { mapfile -d '' -t "$1" < <("${@:2}"); }
# tag [timer [proctime options]]: the three workloads, each side measured
# once per round
workloads() {
	local tag=$1 timer=${2:-} w script
	shift $(($# < 2 ? $# : 2))
	for w in sum tar create; do
		script=${w}_sh
		argv n native "${!script}" "$timer"
		argv ro capsule ro "${!script}" "$timer"
		argv rw capsule rw "${!script}" "$timer"
		if [[ $w == create ]]; then # a ReadOnly run cannot write the target
			measure "$tag$w" "$@" :: native "${n[@]}" :: rw "${rw[@]}"
		else
			measure "$tag$w" "$@" :: native "${n[@]}" :: ro "${ro[@]}" :: rw "${rw[@]}"
		fi
	done
}
cut -d" " -f1-3 /proc/loadavg >"$T/loadavg"
workloads ""
argv n native 'true'
argv ro capsule ro 'true'
argv rw capsule rw 'true'
measure fixed :: native "${n[@]}" :: ro "${ro[@]}" :: rw "${rw[@]}"
# The workloads alone: each side's workload process timed from inside.
workloads inner- walltime -i
cut -d" " -f1-3 /proc/loadavg >>"$T/loadavg"

python3 - "$T" "$ROUNDS" "$usr_files" "$usr_mib" "$TAR_PASSES" "$CREATE_FILES" "${CAPSULE_OPTS:-}" <<'PY'
import sys
tmp, rounds, files, mib, passes, nfiles, opts = sys.argv[1:]
load = " → ".join(open(f"{tmp}/loadavg").read().split("\n")[:2])
names = {"sum": f"sha256sum of every file of /usr ({files} files, {mib} MiB)",
         "tar": f"busybox tar of /usr into a pipe ({passes} pass{'es' if passes != '1' else ''})",
         "create": f"create {nfiles} files of 6 bytes in the target's /var/tmp (a tmpfs), then remove them",
         "fixed": "`true` (the fixed cost: attach and escape)"}
extra = f" {opts}" if opts else ""
cols = {"native": "native (nsenter -m)", "ro": f"capsule run{extra}, ReadOnly", "rw": f"capsule run{extra}, ReadWrite"}
print(f"/target against native, {rounds} rounds, load {load}; ms, median (p10–p90), and the paired median ratio to native [95% interval]\n")
def table(prefix, workloads):
    print("| workload | " + " | ".join(cols.values()) + " |")
    print("| --- |" + " --- |" * len(cols))
    for w in workloads:
        times, ratios = {}, {}
        for f in (l.rstrip("\n").split("\t") for l in open(f"{tmp}/{prefix}{w}.tsv")):
            if f[0] == "time":
                times[f[1]] = [float(x) for x in f[2:]]
            elif f[2] == "native":
                ratios[f[1]] = [float(x) for x in f[3:]]
        cells = []
        for c in cols:
            if c not in times:
                cells.append("n/a (read-only)")
                continue
            t = times[c]
            cell = f"{t[0]:.1f} ({t[1]:.1f}–{t[2]:.1f})"
            if c in ratios and c != "native":
                q = ratios[c]
                cell += f", **{q[0]:.3f}×** [{q[1]:.3f}, {q[2]:.3f}]"
            cells.append(cell)
        print(f"| {names[w]} | " + " | ".join(cells) + " |")


table("", ("sum", "tar", "create", "fixed"))
print(f"\nThe workloads alone, timed from inside (walltime around the workload's process; no attach or escape), {rounds} rounds; ms, median (p10–p90), and the paired median ratio to native [95% interval]\n")
table("inner-", ("sum", "tar", "create"))
PY
