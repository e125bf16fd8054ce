#!/usr/bin/env bash
# Integration tests of `capsule run` against a real runc container with no
# tools inside (a static sleeper only), as root. The capsule layer is
# busybox-static plus a static probe. Everything is removed at the end, also
# on failure: the container, the runs, their cgroups, mounts and temp files.
#
#   runtime.sh CAPSULE PROBE SLEEPER
set -euo pipefail
# shellcheck source=hack/lib/errtrap.sh
. "$(dirname "${BASH_SOURCE[0]}")/../../hack/lib/errtrap.sh"
capsule_bin=$1 probe=$2 sleeper=$3

if ((EUID != 0)); then
	echo "SKIP: needs root (runc containers, namespaces, overlayfs, cgroups)"
	exit 77
fi
for tool in runc busybox umoci python3; do
	command -v "$tool" >/dev/null || { echo "missing $tool (hack/deps installs it)" >&2; exit 1; }
done

tmp=$(mktemp -d /tmp/recap-runtime.XXXXXX)
cid=recap-rt-$$-$RANDOM
cgp=recap-test-$$
root=$tmp/store
layer=$tmp/layer
bundle=$tmp/bundle
failures=0

cleanup() {
	set +e
	runc kill "$cid" KILL >/dev/null 2>&1
	runc delete -f "$cid" >/dev/null 2>&1
	runc delete -f "$cid-2" >/dev/null 2>&1
	"$capsule_bin" --root "$root" --cgroup-parent "$cgp" sweep --force >/dev/null 2>&1
	for d in /sys/fs/cgroup/*/"$cgp" /sys/fs/cgroup/"$cgp"; do
		[[ -d $d ]] && rmdir "$d"
	done
	grep -o " $tmp[^ ]*" /proc/self/mountinfo | sort -r | xargs -r -n1 umount -l
	rm -rf "$tmp"
}
trap cleanup EXIT

capsule() { "$capsule_bin" --root "$root" --cgroup-parent "$cgp" "$@"; }
run() { capsule run --target "$cid" --rootfs-layers "$layer" "$@"; }
pass() { echo "ok   - $*"; }
fail() {
	echo "FAIL - $*" >&2
	failures=$((failures + 1))
}
check() { # description, then a command that must succeed
	local what=$1
	shift
	if "$@"; then pass "$what"; else fail "$what"; fi
}
contains() { [[ $1 == *"$2"* ]] || { echo "  expected '$2' in: $1" >&2; return 1; }; }
lacks() { [[ $1 != *"$2"* ]] || { echo "  did not expect '$2' in: $1" >&2; return 1; }; }
equals() { [[ $1 == "$2" ]] || { echo "  expected '$2', got '$1'" >&2; return 1; }; }
# runs in progress or left behind (spares, runs/.spare-<k>, are directories for the next run)
runs_left() { ls "$1/runs"; }
json() { sed -n 's/.*"'"$1"'":\("[^"]*"\|[^,}]*\).*/\1/p' <<<"$2" | tr -d '"'; }

make_layer() {
	mkdir -p "$layer/bin"
	cp "$(command -v busybox)" "$layer/bin/busybox"
	local a
	for a in $("$layer/bin/busybox" --list); do
		[[ $a == busybox ]] || ln -s busybox "$layer/bin/$a"
	done
	cp "$probe" "$layer/bin/probe"
}

make_target() {
	mkdir -p "$bundle/rootfs/data"
	cp "$sleeper" "$bundle/rootfs/sleeper"
	echo hello-target >"$bundle/rootfs/data/hello.txt"
	(cd "$bundle" && runc spec)
	local cfg=$bundle/config.json
	python3 - "$cfg" "$cid" <<'PY'
import json, sys
p, name = sys.argv[1], sys.argv[2]
c = json.load(open(p))
c["process"]["args"] = ["/sleeper"]
c["process"]["terminal"] = False
c["hostname"] = name[-30:]
json.dump(c, open(p, "w"))
PY
	runc run -d --bundle "$bundle" "$cid" </dev/null >/dev/null 2>&1
	tpid=$(runc state "$cid" | python3 -c 'import json,sys; print(json.load(sys.stdin)["pid"])')
}

target_fingerprint() { # the target's own view: its mounts and its files
	cat "/proc/$tpid/mountinfo"
	(cd "/proc/$tpid/root" && find . -xdev -printf '%p %y %s %m %T@\n' | sort)
}

test_views() {
	local out
	out=$(run -- ps -o pid,comm)
	check "ps sees the target's init as pid 1" contains "$out" "1 sleeper"
	check "ps does not see the host's processes" lacks "$out" "runc"
	check "ps sees few processes" test "$(wc -l <<<"$out")" -le 6
	out=$(run -- sh -c 'hostname; cat /proc/net/dev; for n in net uts ipc pid; do readlink /proc/self/ns/$n; done')
	check "hostname is the target's" contains "$out" "${cid: -30}"
	check "network view is the target's (loopback only)" lacks "$out" "eth0"
	local ns
	for ns in net uts ipc pid; do
		check "$ns namespace is the target's" contains "$out" "$(readlink "/proc/$tpid/ns/$ns")"
	done
	out=$(run -- cat /target/data/hello.txt)
	check "/target shows the target's files" equals "$out" "hello-target"
}

test_isolation() {
	local out rc
	run -- sh -c 'echo one >/written-by-run; echo two >/bin/extra; rm /bin/ls' >/dev/null
	out=$(run -- sh -c 'ls /written-by-run /bin/extra 2>&1; ls -l /bin/ls | wc -l')
	check "a file written by one run is absent in the next" contains "$out" "No such file"
	check "a file deleted by one run is back in the next" contains "$out" "1"
	check "a run's writes never reach the target" test ! -e "/proc/$tpid/root/written-by-run"
	check "a run's writes never reach the layer" test -e "$layer/bin/ls" -a ! -e "$layer/bin/extra"
	rc=0
	out=$(run -- sh -c 'touch /target/data/x 2>&1' 2>&1) || rc=$?
	check "writes under /target fail by default (ro)" contains "$out" "Read-only"
	rc=0
	out=$(run --target-fs ro -- sh -c 'echo x >/target/new 2>&1; mount -o remount,rw /target 2>&1' 2>&1) || rc=$?
	check "--target-fs ro: writes fail" contains "$out" "Read-only"
	check "--target-fs ro: no remount" test ! -e "/proc/$tpid/root/new"
	out=$(run --target-fs none -- ls -A /target)
	check "--target-fs none: /target is empty" equals "$out" ""
	out=$(run -o json --id artifact-run -- sh -c 'echo result >/out/report.txt; mkdir /out/d; seq 1 20000 >/out/d/n')
	check "/out keeps artifacts" equals "$(cat "$root/out/artifact-run/report.txt")" "result"
	check "the result counts the files kept" equals "$(json outFiles "$out")" 2
	local f listed
	for f in report.txt d/n; do
		listed=$(python3 -c 'import json,sys; r=json.loads(sys.argv[1]); f=[e for e in r["outList"] if e["path"]==sys.argv[2]]; print(f[0]["digest"], f[0]["size"]) if f else print("missing")' "$out" "$f")
		check "outList: $f with the sha256 and size of the kept file" equals "$listed" \
			"sha256:$(sha256sum <"$root/out/artifact-run/$f" | cut -d' ' -f1) $(stat -c %s "$root/out/artifact-run/$f")"
	done
	check "outUnlisted: none" equals "$(json outUnlisted "$out")" 0
}

test_sandbox() {
	local out
	out=$(run -- sh -c 'grep -E "^(CapEff|CapBnd|CapPrm|NoNewPrivs|Seccomp):" /proc/self/status; probe fds')
	check "default capabilities (effective)" contains "$out" "CapEff:	00000000200004fb"
	check "default capabilities (bounding)" contains "$out" "CapBnd:	00000000200004fb"
	check "no_new_privs" contains "$out" "NoNewPrivs:	1"
	check "seccomp filter on" contains "$out" "Seccomp:	2"
	check "only stdio is open" contains "$out" "fds: 0 1 2"
	out=$(run --cap-add NET_RAW,sys_ptrace -- grep -E "^CapBnd:" /proc/self/status)
	check "--cap-add adds to the bounding set" contains "$out" "CapBnd:	00000000200824fb"
	out=$(run --cap-drop KILL,chown -- grep -E "^Cap(Eff|Bnd):" /proc/self/status)
	check "--cap-drop removes from the effective set" contains "$out" "CapEff:	00000000200004da"
	check "--cap-drop removes from the bounding set" contains "$out" "CapBnd:	00000000200004da"
	out=$(run --cap-drop ALL --cap-add NET_RAW -- grep -E "^CapEff:" /proc/self/status)
	check "--cap-drop ALL keeps only what is added" contains "$out" "CapEff:	0000000000002000"
	out=$(run --cap-drop ALL -- grep -E "^Cap(Eff|Prm):" /proc/self/status)
	check "--cap-drop ALL: no capability" contains "$out" "CapEff:	0000000000000000"
	check "--cap-drop ALL: none permitted" contains "$out" "CapPrm:	0000000000000000"
	out=$(run --cap-drop KILL --cap-add KILL -- true 2>&1) || true
	check "a capability both added and dropped is refused" contains "$out" "both added and dropped"
	out=$(run --user 1000:1001 --cap-add NET_RAW -- sh -c 'id; grep -E "^Cap(Eff|Amb):" /proc/self/status')
	check "--user runs as that uid and gid" contains "$out" "uid=1000 gid=1001 groups=1001"
	check "a non-root user keeps only the added capabilities" contains "$out" "CapEff:	0000000000002000"
	check "added capabilities survive exec as ambient" contains "$out" "CapAmb:	0000000000002000"
	out=$(run --user nobody -- true 2>&1)
	check "a user name is refused clearly" contains "$out" "numeric uid"
	out=$(run -- probe syscalls)
	local call
	for call in mount umount2 unshare setns keyctl bpf ptrace open_by_handle_at pivot_root kexec_load \
		init_module swapon clone_newns; do
		check "seccomp denies $call" contains "$out" "$call EPERM"
	done
	out=$(run --seccomp unconfined -- probe syscalls)
	check "unconfined allows unshare (user ns)" contains "$out" "unshare ok"
	out=$(run --cap-add SYS_PTRACE -- probe syscalls)
	check "SYS_PTRACE lets ptrace through the filter" lacks "$out" "ptrace EPERM"
	cat >"$tmp/profile.json" <<'JSON'
{"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_X86_64"],
 "syscalls": [{"names": ["getcwd"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13}]}
JSON
	out=$(run --seccomp "$tmp/profile.json" -- probe getcwd)
	check "OCI profile applied (getcwd -> EACCES)" equals "$out" "getcwd EACCES"
	local rc=0
	out=$(run --seccomp "$tmp/missing.json" -- true 2>&1) || rc=$?
	check "a missing profile is refused clearly" contains "$out" "missing.json"
	check "a missing profile exits 125" equals "$rc" 125
}

test_status() {
	local rc=0 out
	run -- sh -c 'exit 7' || rc=$?
	check "exit code propagates" equals "$rc" 7
	rc=0
	run -- sh -c 'kill -9 $$' || rc=$?
	check "death by signal gives 128+signal" equals "$rc" 137
	rc=0
	run -- no-such-tool 2>/dev/null || rc=$?
	check "unknown command exits 127" equals "$rc" 127
	out=$(run -o json -- sh -c 'echo out; echo err >&2')
	check "json: reason" equals "$(json reason "$out")" Completed
	check "json: escaped" equals "$(json escaped "$out")" true
	check "json: stdout tail" contains "$out" '"stdout":"out\n"'
	check "json: stderr tail" contains "$out" '"stderr":"err\n"'
	check "json: phase times" contains "$out" '"phasesMs":{"pull":0,"attach":'
	out=$(run -o json --tail-bytes 8 -- sh -c 'seq 1 1000')
	check "tail keeps the last bytes" contains "$out" '"stdout":"99\n1000\n"'
	check "tail counts every byte" equals "$(json stdoutBytes "$out")" 3893
	cat >"$tmp/spec.json" <<JSON
{"target": "$cid", "layers": ["$layer"], "command": ["sh", "-c", "echo \$GREETING"],
 "env": ["GREETING=from-spec"], "join": ["pid", "net"], "timeoutSeconds": 30}
JSON
	out=$(capsule run --spec-file "$tmp/spec.json")
	check "--spec-file runs the document" equals "$out" "from-spec"
	out=$(capsule run --spec-fd 3 3<"$tmp/spec.json")
	check "--spec-fd runs the document" equals "$out" "from-spec"
}

test_limits() {
	local out t0 t1
	t0=$(date +%s%N)
	# The sleeps' length ends in this test's pid: a concurrent run of this test
	# (another build) never passes for this one's residue.
	local nap=1000$$
	out=$(run -o json --timeout 1 -- sh -c "trap '' TERM; (trap '' TERM; sleep $nap; echo) & sleep $nap; echo")
	t1=$(date +%s%N)
	check "timeout gives DeadlineExceeded" equals "$(json reason "$out")" DeadlineExceeded
	check "timeout kills within the grace period" test $(((t1 - t0) / 1000000)) -lt 6000
	check "the grandchild that ignored SIGTERM is gone" bash -c "! pgrep -f '[s]leep $nap\$' >/dev/null"
	out=$(run -o json --memory 16Mi -- probe alloc 256)
	check "memory limit yields OOMKilled" equals "$(json reason "$out")" OOMKilled
	out=$(run -o json --pids 8 -- sh -c 'for i in $(seq 20); do sleep 1 & done; wait; echo done')
	check "pids limit holds" contains "$out" "fork"
}

cgroup_value_of() { # run id, file in its cgroup on whichever hierarchy has it
	local f
	for f in /sys/fs/cgroup/*/"$cgp"/"$1"/"$2" /sys/fs/cgroup/"$cgp"/"$1"/"$2"; do
		[[ -f $f ]] && { cat "$f"; return; }
	done
	echo "missing $2"
}
cgroup_value() { cgroup_value_of limits-run "$1"; }

test_cgroup_limits() { # the limits as the kernel holds them, read while the run lives
	local pid i
	"$capsule_bin" --root "$root" --cgroup-parent "$cgp" run --target "$cid" --rootfs-layers "$layer" \
		--id limits-run --memory 32Mi --pids 20 --cpus 0.5 -- sleep 30 >/dev/null 2>&1 &
	pid=$!
	for i in $(seq 100); do
		[[ $(cat "$root/runs/limits-run/state" 2>/dev/null) == *'"phase":"Running"'* ]] && break
		sleep 0.05
	done
	local mem quota pids
	mem=$(cgroup_value memory.limit_in_bytes)
	[[ $mem == missing* ]] && mem=$(cgroup_value memory.max)
	quota=$(cgroup_value cpu.cfs_quota_us)
	[[ $quota == missing* ]] && quota=$(cgroup_value cpu.max | cut -d' ' -f1)
	pids=$(cgroup_value pids.max)
	check "memory limit set in the run's cgroup" equals "$mem" 33554432
	check "cpu quota set in the run's cgroup" equals "$quota" 50000
	check "pids limit set in the run's cgroup" equals "$pids" 20
	kill -TERM "$pid"
	wait "$pid"
	check "SIGTERM to the executor cancels and escapes" test ! -e "$root/runs/limits-run"
	check "a cancelled run leaves no cgroup" bash -c "! ls -d /sys/fs/cgroup/*/$cgp/limits-run 2>/dev/null"
}

# No limit asked for: the run's cgroup still holds the defaults
# (docs/executor-spec.md), so no capsule takes the node's memory, CPU or PIDs.
test_default_limits() {
	local pid i mem quota pids
	"$capsule_bin" --root "$root" --cgroup-parent "$cgp" run --target "$cid" --rootfs-layers "$layer" \
		--id defaults-run -- sleep 30 >/dev/null 2>&1 &
	pid=$!
	for i in $(seq 100); do
		[[ $(cat "$root/runs/defaults-run/state" 2>/dev/null) == *'"phase":"Running"'* ]] && break
		sleep 0.05
	done
	mem=$(cgroup_value_of defaults-run memory.limit_in_bytes)
	[[ $mem == missing* ]] && mem=$(cgroup_value_of defaults-run memory.max)
	quota=$(cgroup_value_of defaults-run cpu.cfs_quota_us)
	[[ $quota == missing* ]] && quota=$(cgroup_value_of defaults-run cpu.max | cut -d' ' -f1)
	pids=$(cgroup_value_of defaults-run pids.max)
	check "no memory limit asked: the run's cgroup holds 512Mi" equals "$mem" 536870912
	check "no cpu limit asked: the run's cgroup holds one core" equals "$quota" 100000
	check "no pids limit asked: the run's cgroup holds 1024" equals "$pids" 1024
	kill -TERM "$pid"
	wait "$pid"
	check "the default-limits run escapes" test ! -e "$root/runs/defaults-run"
}

test_target_not_found() {
	local rc=0 out p
	sleep 0 &
	p=$!
	wait "$p"
	out=$(capsule run -o json --target "$p" --rootfs-layers "$layer" -- true) || rc=$?
	check "an exited target gives TargetNotFound" equals "$(json reason "$out")" TargetNotFound
	check "TargetNotFound exits 125" equals "$rc" 125
	rc=0
	out=$(capsule run -o json --target no-such-container-id --rootfs-layers "$layer" -- true) || rc=$?
	check "an unknown container id gives TargetNotFound" equals "$(json reason "$out")" TargetNotFound
	# a second container that dies while a run is attached to it
	runc run -d --bundle "$bundle" "$cid-2" </dev/null >/dev/null 2>&1
	(sleep 1 && runc kill "$cid-2" KILL) &
	out=$(capsule run -o json --target "$cid-2" --rootfs-layers "$layer" -- sleep 30)
	wait
	check "a target exiting mid-run gives TargetNotFound" equals "$(json reason "$out")" TargetNotFound
	check "a target exiting mid-run still escapes" equals "$(json escaped "$out")" true
	runc delete -f "$cid-2" >/dev/null 2>&1
}

# The executor moves its first child into the run's v1 cgroups while the child
# builds the root (a hybrid host: the v2 one it was born in). A move that fails
# halfway (memory entered, pids not) ends the run with the cgroup named; the
# command never ran, and nothing of the run is left.
test_cgroup_move_fails() {
	local rc=0 out id=move-fails
	if RECAP_FAILPOINTS=probe=error "$capsule_bin" --help 2>&1 | grep -q "no failpoints"; then
		echo "skip - a failed cgroup move: this build has no failpoints (-Dfailpoints=true)"
		return 0
	fi
	if ! ls -d /sys/fs/cgroup/memory /sys/fs/cgroup/pids >/dev/null 2>&1; then
		echo "skip - a failed cgroup move: no v1 memory and pids hierarchies (the child is born in every cgroup)"
		return 0
	fi
	out=$(RECAP_FAILPOINTS=capsule.cgroup-enter=error@2 capsule run -o json --id "$id" --target "$cid" \
		--rootfs-layers "$layer" --target-fs rw -- sh -c 'echo ran >/out/ran; echo ran >/target/data/ran' 2>&1) ||
		rc=$?
	check "a failed cgroup move exits 125" equals "$rc" 125
	check "... as AttachFailed" contains "$out" '"reason":"AttachFailed"'
	check "... naming the process and the cgroup it could not enter" contains "$out" \
		"is not in the run's cgroups: cannot move process"
	check "... the pids hierarchy" contains "$out" "/pids/$cgp/$id"
	check "... escaped" equals "$(json escaped "$out")" true
	check "the command never ran (no artifact)" test ! -e "$root/out/$id"
	check "the command never ran (the target's files)" test ! -e "$bundle/rootfs/data/ran"
	# a cgroup is removed only once empty: the first process is gone too
	check "no cgroup of the run left, so no process of it" bash -c "! ls -d /sys/fs/cgroup/*/$cgp/$id 2>/dev/null"
	check "no run directory left" test ! -e "$root/runs/$id"
	check "no mount of the run left" bash -c "! grep -q '$root/runs/$id' /proc/self/mountinfo"
	# moved, the command is in the run's v1 cgroups (the target's cgroup
	# namespace joined: the paths as the node names them)
	out=$(capsule run --id move-ok --target "$cid" --rootfs-layers "$layer" --join net,pid,ipc,uts,cgroup -- \
		grep -E '^[0-9]+:(memory|pids|cpu):' /proc/self/cgroup 2>&1)
	check "the next run's command is in its memory cgroup" contains "$out" "memory:/$cgp/move-ok"
	check "... and its pids cgroup" contains "$out" "pids:/$cgp/move-ok"
	check "... and its cpu cgroup" contains "$out" "cpu:/$cgp/move-ok"
}

# Escape reads the node's mount table only when the run's directory may hold
# a mount (a mount root found by statx). Something on the node that mounts
# into a live run's directory (a tmpfs on a directory, a file bound over a
# file) must still be detached by escape, and the run must say it escaped.
test_escape_detaches_node_mounts() {
	local id=hostmount out rc=0 i
	run --id "$id" -o json -- sleep 3 >"$tmp/hostmount.json" 2>&1 &
	local bg=$!
	for ((i = 0; i < 50; i++)); do
		[[ -d $root/runs/$id ]] && break
		sleep 0.1
	done
	mkdir -p "$root/runs/$id/node-dir" && mount -t tmpfs none "$root/runs/$id/node-dir" &&
		echo x >"$root/runs/$id/node-dir/f" && touch "$root/runs/$id/node-file" "$tmp/hostmount-src" &&
		mount --bind "$tmp/hostmount-src" "$root/runs/$id/node-file"
	check "a tmpfs and a file are mounted into the live run's directory" \
		bash -c "[[ \$(grep -c ' $root/runs/$id/node-' /proc/self/mountinfo) == 2 ]]"
	wait "$bg" || rc=$?
	out=$(cat "$tmp/hostmount.json")
	check "the run ends well (exit 0)" equals "$rc" 0
	check "... and says it escaped" equals "$(json escaped "$out")" true
	check "escape detached both mounts" bash -c "! grep -q ' $root/runs/$id' /proc/self/mountinfo"
	check "... and removed the run's directory" test ! -e "$root/runs/$id"
	check "... without touching the file bound from elsewhere" test -f "$tmp/hostmount-src"
	check "... and no spare for the next run holds what was put there" \
		bash -c "! ls -d '$root'/runs/.spare-*/node-* 2>/dev/null"
}

test_upper() { # the writable layer: a tmpfs of --upper-size, charged to the run's memory cgroup
	# in /tmp: a ReadOnly run makes nothing directly in / (Landlock, docs/security.md)
	local out rc
	out=$(run --upper-size 8Mi -- sh -c 'dd if=/dev/zero of=/tmp/f bs=1M count=2 2>/dev/null && echo written')
	check "upper: a write within --upper-size succeeds" equals "$out" "written"
	out=$(run -o json --upper-size 4Mi -- dd if=/dev/zero of=/tmp/big bs=1M count=10)
	check "upper: a write past --upper-size fails" equals "$(json reason "$out")" Failed
	check "upper: the command sees ENOSPC" contains "$out" "No space left on device"
	check "upper: the result says the writable layer is full" contains "$(json message "$out")" \
		"writable layer (upperSize 4194304 bytes) is full"
	check "upper: a full layer still escapes" equals "$(json escaped "$out")" true
	out=$(run -o json --memory 16Mi --upper-size 64Mi -- dd if=/dev/zero of=/tmp/big bs=1M count=32)
	check "upper: its pages are charged to the run's memory limit" equals "$(json reason "$out")" OOMKilled
	out=$(run -- cat /proc/self/mountinfo)
	check "upper: /out is the store's disk, not the tmpfs" lacks "$(grep ' /out ' <<<"$out")" "recap-run-"
	rc=0
	out=$(run --upper-size 512Ki -- true 2>&1) || rc=$?
	check "upper: a size below 1Mi is refused" contains "$out" "upper size 524288 out of range (1Mi to 1Ti)"
	check "upper: ... before anything runs (125)" equals "$rc" 125
	out=$(run --upper-size lots -- true 2>&1) || true
	check "upper: a bad size is refused" contains "$out" "bad size 'lots'"
	out=$(echo '{"upperSize": "2Ti"}' | run --spec-fd 0 -- true 2>&1) || true
	check "upper: the spec's upperSize is checked too" contains "$out" "upper size 2199023255552 out of range"
}

test_crash_and_sweep() {
	local pid state out i
	"$capsule_bin" --root "$root" --cgroup-parent "$cgp" run --target "$cid" --rootfs-layers "$layer" \
		--id crashed-run -- sleep "1001$$" &
	pid=$!
	for i in $(seq 100); do
		state=$(cat "$root/runs/crashed-run/state" 2>/dev/null || true)
		[[ $state == *'"phase":"Running"'* ]] && break
		sleep 0.05
	done
	out=$(capsule ps)
	check "ps lists the run in progress" contains "$out" "crashed-run"
	local runpid runns runpids procs
	# any hierarchy the run's cgroup is in (hybrid hosts: several; v2 only: the root)
	for procs in /sys/fs/cgroup/*/"$cgp"/crashed-run/cgroup.procs /sys/fs/cgroup/"$cgp"/crashed-run/cgroup.procs; do
		[[ -f $procs ]] && break
	done
	runpids=$(cat "$procs")
	runpid=$(head -1 <<<"$runpids")
	runns=$(readlink "/proc/$runpid/ns/mnt")
	# statfs of an overlay root is its upper's: the run's 256Mi tmpfs, not the store's disk
	check "the run's writes go to its own 256Mi layer" equals "$(($(stat -f -c '%b * %S' "/proc/$runpid/root/")))" \
		268435456
	check "... not to the store's disk" test ! -e "$root/runs/crashed-run/upper"
	check "... and it is not in the host's mount table" bash -c "! grep -q 'recap-run-' /proc/self/mountinfo"
	kill -9 "$pid"
	wait "$pid" 2>/dev/null || true
	out=$(capsule ps)
	check "ps shows the run orphaned" contains "$out" "Orphaned"
	capsule sweep >/dev/null
	check "sweep: no run left" test -z "$(runs_left "$root")"
	check "sweep: no cgroup left" bash -c "! ls -d /sys/fs/cgroup/*/$cgp/crashed-run 2>/dev/null"
	check "sweep: no process left" bash -c "! pgrep -f '[s]leep 1001$$\$' >/dev/null"
	check "sweep: no mount left" bash -c "! grep -q '$root' /proc/self/mountinfo"
	# (by the run's own pids: a namespace inode number is soon reused)
	local held="" p
	for p in $runpids; do
		[[ $(readlink "/proc/$p/ns/mnt" 2>/dev/null) == "$runns" ]] && held+="$p "
	done
	check "sweep: no process holds the run's mount namespace (and its tmpfs)" test -z "$held"
	# states are rewritten in place: one that does not parse is being written
	# if it is fresh (left alone), damaged if it is not (swept)
	mkdir -p "$root/runs/damaged-run" "$root/runs/busy-run"
	printf '{"id":"damaged-run","executorPid":1,' >"$root/runs/damaged-run/state"
	touch -d '1 minute ago' "$root/runs/damaged-run/state" "$root/runs/damaged-run"
	printf '{"id":"busy-run","executorPid":1,' >"$root/runs/busy-run/state"
	capsule sweep >/dev/null
	check "sweep: a run whose state is damaged is swept" test ! -e "$root/runs/damaged-run"
	check "sweep: one whose state is being written is left alone" test -e "$root/runs/busy-run/state"
	capsule sweep --force >/dev/null
	check "sweep --force: sweeps it too" test ! -e "$root/runs/busy-run"
	mkdir -p "$root/mountpoints.tmp-old/tmp" "$root/mountpoints.tmp-new"
	touch -d '1 minute ago' "$root/mountpoints.tmp-old"
	capsule sweep >/dev/null
	check "sweep: a mount-point layer left half-made by a crash is removed" test ! -e "$root/mountpoints.tmp-old"
	check "sweep: one being made now is left alone" test -d "$root/mountpoints.tmp-new"
	capsule sweep --force >/dev/null
	check "sweep --force: removes it too" test ! -e "$root/mountpoints.tmp-new"
}

test_image() { # the same layer as an OCI image (umoci), through the store
	local img=$tmp/oci-image out
	umoci init --layout "$img" && umoci new --image "$img:bb" &&
		umoci unpack --image "$img:bb" "$tmp/unpacked" >/dev/null &&
		cp -a "$layer/bin" "$tmp/unpacked/rootfs/" &&
		umoci repack --image "$img:bb" "$tmp/unpacked" >/dev/null &&
		umoci config --image "$img:bb" --config.env GREET=from-image --config.cmd sh --config.cmd -c \
			--config.cmd 'echo $GREET' || { fail "cannot build the OCI image"; return; }
	out=$(capsule run -o json --target "$cid" --image "oci:$img:bb")
	check "--image: the image's Cmd and Env run" contains "$out" '"stdout":"from-image\n"'
	check "--image: pulled into the store first" test "$(json pull "$out")" -ge 0
	out=$(capsule run --target "$cid" --image "oci:$img:bb" -- sh -c 'echo $GREET; cat /target/data/hello.txt')
	check "--image: a command replaces the image's, env kept" equals "$out" "from-image
hello-target"
}

test_gc_race() { # a run started from spec layers (as caplet starts it) keeps them from gc
	local img=oci:$tmp/oci-image:bb hex l out rc want
	capsule pull "$img" >/dev/null || { fail "cannot pull $img"; return; }
	hex=$(ls "$root/layers" | head -1)
	l=$root/layers/$hex
	want=$(md5sum <"$layer/bin/busybox")
	"$capsule_bin" --root "$root" --cgroup-parent "$cgp" run -o json --id gc-race --target "$cid" \
		--rootfs-layers "$l" -- sh -c 'touch /out/started; sleep 2; md5sum </bin/busybox' >"$tmp/race.json" &
	local bg=$! i
	# /out reaches the node only at the end of the run: Running is the sign
	for ((i = 0; i < 100; i++)); do
		[[ $(cat "$root/runs/gc-race/state" 2>/dev/null) == *'"phase":"Running"'* ]] && break
		sleep 0.05
	done
	check "the run from spec layers names its layer in its state, runs/<id>/state" \
		equals "$(python3 -c 'import json,sys; print(" ".join(json.load(open(sys.argv[1]))["layers"]))' \
			"$root/runs/gc-race/state" 2>&1)" "$hex"
	check "and writes no other claim file" test ! -e "$root/runs/gc-race/layers"
	capsule rmi "$img" >/dev/null
	capsule gc >/dev/null
	check "gc keeps a layer a live run mounts, its image removed" test -d "$l"
	wait "$bg"
	out=$(cat "$tmp/race.json")
	check "the run reads its whole layer after gc" contains "$out" "\"stdout\":\"${want%% *}"
	check "the run escaped" equals "$(json escaped "$out")" true
	capsule gc >/dev/null
	check "gc removes the layer once the run is gone" test ! -e "$l"
	rc=0
	out=$("$capsule_bin" --root "$root" --cgroup-parent "$cgp" run --target "$cid" --rootfs-layers "$l" -- true 2>&1) || rc=$?
	check "a run whose layer was removed is refused, naming it" contains "$out" "capsule layer $l is gone"
	check "and exits 125" equals "$rc" 125
	# gc, rmi and pull in a loop while runs start from the layer's path:
	# each run either reads its whole layer or is refused, never half a
	# layer. Until both outcomes were seen a few times (at most 60 s).
	(while [[ ! -e $tmp/churn.stop ]]; do
		capsule pull "$img" && capsule rmi "$img" && capsule gc
	done >/dev/null 2>&1) &
	local churn=$! ok=0 gone=0 bad=0 end=$((SECONDS + 60))
	while ((SECONDS < end && (ok < 5 || gone < 5))); do
		out=$("$capsule_bin" --root "$root" --cgroup-parent "$cgp" run -o json --target "$cid" \
			--rootfs-layers "$l" -- sh -c 'md5sum </bin/busybox' 2>/dev/null)
		if [[ $out == *"\"stdout\":\"${want%% *}"* ]]; then
			ok=$((ok + 1))
		elif [[ $out == *"is gone"* ]]; then
			gone=$((gone + 1))
		else
			bad=$((bad + 1))
			((bad > 3)) || echo "  unexpected: $out" >&2
		fi
	done
	touch "$tmp/churn.stop"
	wait "$churn"
	echo "  runs during gc churn: $ok read the layer, $gone refused"
	check "runs racing gc either read their whole layer or are refused cleanly" equals "$bad" 0
	check "runs raced gc both ways (5 read the layer, 5 refused)" test "$ok" -ge 5 -a "$gone" -ge 5
}

test_attach() {
	local out
	out=$(timeout 60 python3 "$(dirname "$0")/attach.py" "$capsule_bin" --root "$root" --cgroup-parent "$cgp" \
		attach --target "$cid" --rootfs-layers "$layer" 2>&1)
	local rc=$?
	echo "$out"
	check "attach session passes every check" equals "$rc" 0
	# the size is there before the command's first instruction, every time
	local i bad=0
	for i in 1 2 3 4 5; do
		rc=0
		out=$(timeout 60 python3 "$(dirname "$0")/attach.py" --first-size "$capsule_bin" --root "$root" \
			--cgroup-parent "$cgp" attach --target "$cid" --rootfs-layers "$layer" -- stty size 2>&1) || rc=$?
		((rc == 0)) || { echo "$out"; bad=$((bad + 1)); }
	done
	check "a command's first stty size sees the caller's terminal size (5 of 5)" equals "$bad" 0
}

# A session (spec.session, docs/executor-spec.md "Sessions"): the command's
# terminal is the one client of runs/<id>/session.sock, as caplet's relay is
# (session.py speaks the channel messages).
session_spec() { # id, command (JSON array), session (JSON object)
	cat <<JSON
{"id": "$1", "target": "$cid", "layers": ["$layer"], "command": $2, "tty": true,
 "logBytes": "1Mi", "session": $3}
JSON
}

test_session() {
	local py out rc t0 t1 idle_pid mode
	py=$(dirname "$0")/session.py
	# the idle case takes 10 s (the minimum): beside the others
	session_spec sess-idle '["sh"]' '{"idleTimeoutSeconds": 10}' >"$tmp/sess-idle.json"
	capsule run -o json --spec-file "$tmp/sess-idle.json" >"$tmp/sess-idle.out" 2>&1 &
	idle_pid=$!
	python3 "$py" idle "$root/runs/sess-idle/session.sock" "1003$$" &
	local idle_client=$!

	session_spec sess-a '["sh"]' '{"attachTimeoutSeconds": 20}' >"$tmp/sess-a.json"
	capsule run -o json --spec-file "$tmp/sess-a.json" >"$tmp/sess-a.out" 2>&1 &
	local bg=$! i
	for ((i = 0; i < 200; i++)); do
		[[ -S $root/runs/sess-a/session.sock ]] && break
		sleep 0.05
	done
	mode=$(stat -c '%A %U' "$root/runs/sess-a/session.sock" 2>&1)
	check "session: the socket is root's, mode 0600" equals "$mode" "srw------- root"
	out=$(capsule ps)
	check "session: ps shows the run Attaching while no one is attached" \
		contains "$(grep sess-a <<<"$out")" "Attaching"
	out=$(timeout 60 python3 "$py" interact "$root/runs/sess-a/session.sock" 2>&1)
	rc=$?
	echo "$out"
	check "session: the client's checks pass" equals "$rc" 0
	wait "$bg"
	out=$(cat "$tmp/sess-a.out")
	check "session: the result is the command's exit (Failed, 3)" \
		equals "$(json reason "$out")/$(json exitCode "$out")" "Failed/3"
	check "session: the run escaped" equals "$(json escaped "$out")" true
	check "session: no socket left after escape" test ! -e "$root/runs/sess-a"
	check "session: the log holds the transcript" \
		bash -c "grep -q 'hello-42' '$root/logs/sess-a' && grep -q '27 91' '$root/logs/sess-a'"

	session_spec sess-none '["sh", "-c", "echo ran"]' '{"attachTimeoutSeconds": 1}' >"$tmp/sess-none.json"
	t0=$(date +%s%N)
	rc=0
	out=$(capsule run -o json --spec-file "$tmp/sess-none.json" 2>/dev/null) || rc=$?
	t1=$(date +%s%N)
	check "session: no one attached: Cancelled" equals "$(json reason "$out")" Cancelled
	check "session: ... the message names attachTimeoutSeconds" contains "$(json message "$out")" \
		"no one attached within 1 s (session.attachTimeoutSeconds)"
	check "session: ... the command never ran (no exit code, no output, 125)" \
		equals "$(json exitCode "$out")/$(json stdoutBytes "$out")/$rc" "/0/125"
	check "session: ... after about 1 s" test $(((t1 - t0) / 1000000)) -ge 1000 -a $(((t1 - t0) / 1000000)) -lt 5000
	check "session: ... escaped, its socket gone" bash -c "[[ '$(json escaped "$out")' == true && ! -e '$root/runs/sess-none' ]]"

	session_spec sess-hup '["sh"]' '{}' >"$tmp/sess-hup.json"
	capsule run -o json --spec-file "$tmp/sess-hup.json" >"$tmp/sess-hup.out" 2>&1 &
	bg=$!
	out=$(timeout 60 python3 "$py" hangup "$root/runs/sess-hup/session.sock" "1002$$" 2>&1) || echo "$out"
	t0=$(date +%s%N)
	wait "$bg"
	t1=$(date +%s%N)
	out=$(cat "$tmp/sess-hup.out")
	check "session: the client went away: Cancelled" equals "$(json reason "$out")" Cancelled
	check "session: ... the message says so" equals "$(json message "$out")" "the session's client went away"
	check "session: ... escaped" equals "$(json escaped "$out")" true
	check "session: ... at once (SIGHUP, then the stop)" test $(((t1 - t0) / 1000000)) -lt 4000
	check "session: ... no process left" bash -c "! pgrep -f '[s]leep 1002$$\$' >/dev/null"

	# an executor that crashed while it waited: sweep removes the socket with the run
	session_spec sess-crash '["sh"]' '{}' >"$tmp/sess-crash.json"
	"$capsule_bin" --root "$root" --cgroup-parent "$cgp" run -o json --spec-file "$tmp/sess-crash.json" \
		>/dev/null 2>&1 &
	bg=$!
	for ((i = 0; i < 200; i++)); do
		[[ -S $root/runs/sess-crash/session.sock ]] && break
		sleep 0.05
	done
	for ((i = 0; i < 160; i++)); do
		grep -q '"phase":"Running"' "$root/runs/sess-idle/state" 2>/dev/null && break
		sleep 0.05
	done
	check "session: ps shows a live session Running, not Orphaned" \
		contains "$(capsule ps | grep sess-idle)" "Running"
	kill -9 "$bg"
	wait "$bg" 2>/dev/null
	capsule sweep >/dev/null 2>&1 # never the live sess-idle: its client's checks below
	check "session: sweep of a crashed session's run removes its socket and directory" \
		bash -c "[[ ! -e '$root/runs/sess-crash' && -z \$(find '$root/runs' -name session.sock -not -path '*/sess-idle/*') ]]"

	wait "$idle_client"
	check "session: the idle client's checks pass" equals "$?" 0
	wait "$idle_pid"
	out=$(cat "$tmp/sess-idle.out")
	check "session: an idle session is Cancelled" equals "$(json reason "$out")" Cancelled
	check "session: ... the message names idleTimeoutSeconds" equals "$(json message "$out")" \
		"the session was idle for 10 s (session.idleTimeoutSeconds)"
	check "session: ... escaped, no process left" \
		bash -c "[[ '$(json escaped "$out")' == true ]] && ! pgrep -f '[s]leep 1003$$\$' >/dev/null"
	rc=0
	out=$(session_spec sess-notty '["sh"]' '{}' | sed 's/"tty": true/"tty": false/' |
		capsule run --spec-fd 0 2>&1) || rc=$?
	check "session: without tty it is refused, naming both" contains "$out" "'session' needs 'tty': true"
}

test_mountpoints() { # made in the upper only where no layer has them; a non-directory is refused
	local l1=$tmp/mp-lower l2=$tmp/mp-upper out rc
	mkdir -p "$l1/tmp/kept" "$l2" && ln -s /etc "$l1/proc" && mknod "$l2/proc" c 0 0 && mkdir "$l2/sys"
	out=$(capsule run --target "$cid" --rootfs-layers "$layer:$l1:$l2" -- sh -c 'ls /tmp; ls -ld /proc /sys /dev /out /target | cut -c1')
	check "an image's own /tmp is kept" contains "$out" "kept"
	check "mount points over a whiteout, a layer's dir and absent ones are directories" equals "$(tail -n5 <<<"$out" | tr -d '\n')" "ddddd"
	rc=0
	out=$(capsule run --target "$cid" --rootfs-layers "$layer:$l1" -- true 2>&1) || rc=$?
	check "a mount point that is a symlink in the image is refused" contains "$out" "/proc in the capsule image is not a directory"
	check "the refusal exits 125" equals "$rc" 125
	run -- sh -c 'echo x >/tmp/written; mkdir /out/d' >/dev/null
	check "the store's mount-point layer stays empty" equals "$(find "$root/mountpoints" -mindepth 2 | wc -l)" 0
	chmod 0777 "$root/mountpoints/tmp"
	rc=0
	out=$(run -- true 2>&1) || rc=$?
	chmod 0755 "$root/mountpoints/tmp"
	check "a mount-point layer writable by others is refused" contains "$out" "mountpoints is not the store's mount-point layer"
	local s2=$tmp/store-race pids=() p
	for p in 1 2 3 4; do
		"$capsule_bin" --root "$s2" --cgroup-parent "$cgp" run --target "$cid" --rootfs-layers "$layer" -- true &
		pids+=($!)
	done
	rc=0
	for p in "${pids[@]}"; do wait "$p" || rc=$?; done
	check "first runs racing on a fresh store all succeed" equals "$rc" 0
	check "racing runs leave one mount-point layer and no temporary" equals "$(ls "$s2" | tr '\n' ' ')" "mountpoints out runs "
}

test_spares() { # an escaped run's directory and state inode are the next run's
	local before during ino pids=() p rc=0 i
	run -- true >/dev/null
	check "an escaped run leaves only spares: runs/.spare-<0-7>, each with its old state's inode" \
		test -z "$(runs_left "$root")" -a -e "$root/runs/.spare-0/state.tmp"
	before=$(stat -c %i "$root"/runs/.spare-* "$root"/runs/.spare-*/state.tmp | sort -n | tr '\n' ' ')
	"$capsule_bin" --root "$root" --cgroup-parent "$cgp" run --target "$cid" --rootfs-layers "$layer" \
		--id spare-run -- sleep 1 >/dev/null &
	p=$!
	for ((i = 0; i < 100; i++)); do
		grep -q '"phase":"Running"' "$root/runs/spare-run/state" 2>/dev/null && break
		sleep 0.05
	done
	during=$(stat -c %i "$root/runs/spare-run" "$root/runs/spare-run/state" 2>&1)
	for ino in $during; do
		check "a run takes a spare's directory and state inode ($ino)" contains " $before" " $ino "
	done
	wait "$p"
	check "and gives them back: no new inode" equals \
		"$(stat -c %i "$root"/runs/.spare-* "$root"/runs/.spare-*/state.tmp | sort -n | tr '\n' ' ')" "$before"
	for p in $(seq 12); do
		"$capsule_bin" --root "$root" --cgroup-parent "$cgp" run --target "$cid" --rootfs-layers "$layer" \
			-- sleep 0.5 >/dev/null &
		pids+=($!)
	done
	for p in "${pids[@]}"; do wait "$p" || rc=$?; done
	check "12 runs at once succeed" equals "$rc" 0
	local out
	run --id no-artifact -- true >/dev/null
	check "a run that leaves nothing in /out leaves no out/<id>" test ! -e "$root/out/no-artifact"
	check "an emptied out/<id> is never kept for another run" bash -c "! ls -A '$root/out' | grep -q '^\.'"
	run --id with-artifact -- sh -c 'echo x >/out/a' >/dev/null
	check "a run's artifacts stay in out/<id>" equals "$(cat "$root/out/with-artifact/a")" x
	rm -rf "$root/out/with-artifact"
	out=$(run -- sh -c 'ls -A /out; stat -c %a /out')
	check "a run's /out is empty and 755" equals "$out" "755"
	check "and leave at most 8 spares, nothing else" equals \
		"$(ls -A "$root/runs" | grep -vc '^\.spare-[0-7]$')/$(find "$root/runs" -mindepth 2 ! -name state.tmp | wc -l)" "0/0"
}

# 128 layers (busybox's and 127 more), under paths as long as a real store's
# (where mount(2) would need more than a page of options): each layer adds
# /l/N and overwrites /v; layer 1 makes /data/x and /data/y, layer 64 deletes
# /data/x with a whiteout (as unpacking an image's .wh.x makes it).
test_many_layers() {
	local d=$tmp/a-store-with-long-paths/blobs/sha256-unpacked-layers list=$layer i out
	for ((i = 1; i <= 127; i++)); do
		mkdir -p "$d/layer-$(printf '%064d' "$i")/l" &&
			echo "$i" >"$d/layer-$(printf '%064d' "$i")/v" &&
			: >"$d/layer-$(printf '%064d' "$i")/l/$i"
		list+=":$d/layer-$(printf '%064d' "$i")"
	done
	mkdir -p "$d/layer-$(printf '%064d' 1)/data" "$d/layer-$(printf '%064d' 64)/data"
	: >"$d/layer-$(printf '%064d' 1)/data/x"
	: >"$d/layer-$(printf '%064d' 1)/data/y"
	mknod "$d/layer-$(printf '%064d' 64)/data/x" c 0 0
	check "128 layers: their paths pass a page" test "${#list}" -gt 4096
	out=$(capsule run --target "$cid" --rootfs-layers "$list" -- sh -c 'ls /l | wc -l; ls /data; cat /v' 2>&1)
	check "128 layers: every layer's file, the whiteout's file gone, the top layer's /v" \
		equals "$(tr '\n' ' ' <<<"$out")" "127 y 127 "
	# attack through a layer of that root: the node's own disk as a device
	# node, and a setuid-root shell run by an unprivileged user; the root
	# must be nodev and nosuid (read only: a working attack must not write)
	local top disk
	top=$d/layer-$(printf '%064d' 127)
	disk=$(mountpoint -d /)
	mknod "$top/disk" b "${disk%:*}" "${disk#*:}" && mkdir "$top/suid" && cp "$layer/bin/busybox" "$top/suid/id" && chmod 4755 "$top/suid/id"
	out=$(capsule run --target "$cid" --rootfs-layers "$list" -- \
		sh -c 'dd if=/disk bs=512 count=1 2>&1 | tail -n1; awk '\''$5 == "/" {print $6}'\'' /proc/self/mountinfo' 2>&1)
	check "a layer's node of the node's disk cannot be opened (nodev)" contains "$out" "Permission denied"
	check "the root is nosuid,nodev as the kernel shows it inside" contains "$out" "nosuid,nodev"
	out=$(capsule run --user 1000:1000 --target "$cid" --rootfs-layers "$list" -- /suid/id -u 2>&1)
	check "a layer's setuid-root binary runs as its caller (nosuid, no_new_privs)" equals "$out" 1000
	check "on the node the layer still holds the node and the binary unchanged" \
		equals "$(stat -c '%F %t:%T' "$top/disk") $(stat -c '%a %u' "$top/suid/id")" \
		"block special file $(printf '%x:%x' "${disk%:*}" "${disk#*:}") 4755 0"
	rm -rf "$tmp/a-store-with-long-paths"
}

make_layer
make_target
# a failing command is a failed check, not the end of the script
set +e
before=$(target_fingerprint)
test_views
test_isolation
test_sandbox
test_status
test_limits
test_cgroup_limits
test_default_limits
test_target_not_found
test_cgroup_move_fails
test_escape_detaches_node_mounts
test_attach
test_session
test_image
test_gc_race
test_mountpoints
test_upper
test_many_layers
test_crash_and_sweep
test_spares
after=$(target_fingerprint)
check "the target's mounts and files are byte-for-byte unchanged" equals "$after" "$before"
check "no run directory left" test -z "$(runs_left "$root")"
check "no run cgroup left" test -z "$(find /sys/fs/cgroup/*/"$cgp" -mindepth 1 -maxdepth 1 -type d 2>/dev/null)"
check "no mount of the store in the host namespace" bash -c "! grep -q '$root' /proc/self/mountinfo"
check "the target still runs" test -d "/proc/$tpid"

if ((failures)); then
	echo "$failures check(s) failed" >&2
	exit 1
fi
echo "all checks passed"
