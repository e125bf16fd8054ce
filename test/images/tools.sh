#!/usr/bin/env bash
# The capsules gdb, clamav, sysstat, tar and metrics, used for real: each
# image is built by hack/build-images from its Containerfile, pushed to a
# real docker-registry with skopeo and run by `capsule run --image` against
# a tool-less runc container (a static sleeper as PID 1, a static spinner
# started in it for CPU work; a second one runs a dynamically linked sleep):
# gdb prints the stack of the target's PID 1, its libraries read through
# /target, and gdbserver serves it to the host's gdb; clamscan finds a test
# signature planted in the target and passes an intact one; pidstat sees
# the spinner's CPU; tar archives planted files into /out and refuses a
# missing path; metrics prints the target cgroup's counters (its own limits,
# not the run's) and its network counters as valid Prometheus text.
# Everything is removed at the end, also on failure.
#
#   tools.sh SRC CAPSULE SLEEPER SPINNER
set -euo pipefail
# shellcheck source=hack/lib/errtrap.sh
. "$(dirname "${BASH_SOURCE[0]}")/../../hack/lib/errtrap.sh"
src=$1 capsule_bin=$2 sleeper=$3 spinner=$4

if ((EUID != 0)); then
	echo "SKIP: needs root (runc containers, namespaces, overlayfs, cgroups)"
	exit 77
fi
for tool in runc umoci skopeo docker-registry python3 apt-get dpkg-deb nsenter gdb promtool busybox gzip; do
	command -v "$tool" >/dev/null || { echo "missing $tool (hack/deps installs it)" >&2; exit 1; }
done

# shellcheck source=../oci/lib.sh
. "$src/test/oci/lib.sh" # $T, pass/fail/finish, registry_start, PIDS (stopped at exit)
cid=recap-tools-$$-$RANDOM
cid_dyn=$cid-dyn
cgp=recap-test-tools-$$
store=$T/store
out=$T/oci
bundle=$T/bundle
r=$bundle/rootfs
images=gdb,clamav,sysstat,tar,metrics

cleanup() {
	set +e
	for c in "$cid" "$cid_dyn"; do
		runc kill "$c" KILL >/dev/null 2>&1
		runc delete -f "$c" >/dev/null 2>&1
	done
	"$capsule_bin" --root "$store" --cgroup-parent "$cgp" sweep --force >/dev/null 2>&1
	for d in /sys/fs/cgroup/*/"$cgp" /sys/fs/cgroup/"$cgp"; do
		[[ -d $d ]] && rmdir "$d"
	done
	grep -o " $T[^ ]*" /proc/self/mountinfo | sort -r | xargs -r -n1 umount -l
	oci_cleanup
}
trap cleanup EXIT

check() { # description, then a command that must succeed
	local what=$1
	shift
	if "$@"; then pass "$what"; else fail "$what"; fi
}
contains() { [[ $1 == *"$2"* ]] || { echo "  expected '$2' in: $1" >&2; return 1; }; }
lacks() { [[ $1 != *"$2"* ]] || { echo "  did not expect '$2' in: $1" >&2; return 1; }; }
equals() { [[ $1 == "$2" ]] || { echo "  expected '$2', got '$1'" >&2; return 1; }; }
matches() { grep -Eq -- "$2" <<<"$1" || { echo "  expected /$2/ in: $1" >&2; return 1; }; }

# cap NAME [capsule run options] [-- CMD...]: the capsule image NAME from the
# registry, attached to the target ($target, default the sleeper's container).
cap() {
	local name=$1
	shift
	"$capsule_bin" --root "$store" --cgroup-parent "$cgp" run --target "${target:-$cid}" \
		--image "$REG_r/capsules/$name:$tag" --insecure-registry "$REG_r" "$@"
}

target_alive() { # the target's PID 1 is still the sleeper, and running
	[[ $(runc state "$cid" 2>/dev/null | python3 -c 'import json,sys; print(json.load(sys.stdin)["status"])') == running ]] &&
		[[ $(cat "/proc/$tpid/comm" 2>/dev/null) == sleeper ]]
}

make_target() { # the sleeper as PID 1 under a memory and a PIDs limit, the spinner beside it
	mkdir -p "$r/usr/share/app" "$r/etc"
	cp "$sleeper" "$r/sleeper"
	cp "$spinner" "$r/spinner"
	echo "listen 8080" >"$r/etc/app.conf"
	(cd "$bundle" && runc spec)
	python3 - "$bundle/config.json" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
c["process"]["args"] = ["/sleeper"]
c["process"]["terminal"] = False
c["root"]["readonly"] = False
# limits the run's own cgroup does not have (512Mi, 1024 PIDs by default):
# the metrics capsule must report these
c["linux"].setdefault("resources", {})["memory"] = {"limit": 200 * 1024 * 1024}
c["linux"]["resources"]["pids"] = {"limit": 77}
json.dump(c, open(sys.argv[1], "w"))
PY
	runc run -d --bundle "$bundle" "$cid" </dev/null >/dev/null 2>&1
	tpid=$(runc state "$cid" | python3 -c 'import json,sys; print(json.load(sys.stdin)["pid"])')
	nsenter -t "$tpid" -n ip link set lo up
}

# A second target, dynamically linked: the host's sleep and exactly its
# libraries, which hack/image-rootfs links with absolute symlinks (as
# Debian's /lib64/ld-linux-x86-64.so.2 is): inside a capsule they resolve in
# the capsule's root, not the target's.
make_dynamic_target() {
	local b=$T/bundle-dyn
	mkdir -p "$b"
	"$src/hack/image-rootfs" / "$b/rootfs" /usr/bin/sleep >/dev/null
	(cd "$b" && runc spec)
	python3 - "$b/config.json" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
c["process"]["args"] = ["/usr/bin/sleep", "3600"]
c["process"]["terminal"] = False
json.dump(c, open(sys.argv[1], "w"))
PY
	runc run -d --bundle "$b" "$cid_dyn" </dev/null >/dev/null 2>&1
}

build_and_push() {
	local t0 t1
	registry_start r
	t0=$(date +%s)
	if ! "$src/hack/build-images" --out "$out" --only "$images" --push "$REG_r" --insecure >"$T/build.log" 2>&1; then
		cat "$T/build.log" >&2
		fail "hack/build-images --only $images"
		finish
	fi
	t1=$(date +%s)
	pass "hack/build-images: $(wc -l <"$out/images.txt") images built and pushed to $REG_r in $((t1 - t0)) s"
	tag=$(awk '$1 == "gdb" {print $2}' "$out/images.txt")
	tag=${tag##*:}
}

test_gdb() {
	local o rc=0 pid i port=2345
	# the image's command: every thread's stack, then gdb detaches
	o=$(cap gdb --cap-add SYS_PTRACE --target-fs rw --timeout 60 2>&1) || rc=$?
	check "gdb: exits 0" equals "$rc" 0
	check "gdb: the backtrace names the target's frame in pause()" matches "$o" '#0 .* in pause \(\)'
	check "gdb: ... called from its main()" matches "$o" '#1 .* in main \(\)'
	check "gdb: reads the target's symbols from /target (no warning)" lacks "$o" "can't open to read symbols"
	check "gdb: detaches, the target runs on" target_alive
	rc=0
	o=$(target=$cid_dyn cap gdb --cap-add SYS_PTRACE --target-fs rw --timeout 60 2>&1) || rc=$?
	check "gdb: a dynamically linked target: exits 0" equals "$rc" 0
	check "gdb: ... its frames in its libc named (libraries found in /target)" \
		matches "$o" '#[01] .* in (clock_)?nanosleep \(\) from /[^ ]*libc\.so\.6'
	check "gdb: ... no library left unread" lacks "$o" "Could not load shared library symbols"
	# the sample Capsule's core file, kept from /out
	rc=0
	o=$(cap gdb --cap-add SYS_PTRACE --target-fs rw --timeout 60 --id "gdb-$$" -- \
		gdb -p 1 -batch -ex "gcore /out/core" 2>&1) || rc=$?
	check "gdb: writes a core file of the target to /out" equals "$rc" 0
	local core=$store/out/gdb-$$/core
	check "gdb: ... an ELF core file (magic, e_type 4)" equals \
		"$({ od -An -tx1 -N 4 "$core" && od -An -tx1 -j 16 -N 2 "$core"; } 2>/dev/null | tr -d ' \n')" 7f454c460400
	check "gdb: ... the target runs on" target_alive
	rc=0
	o=$(cap gdb --target-fs rw --timeout 60 2>&1) || rc=$?
	check "gdb: cannot attach without SYS_PTRACE" contains "$o" "ptrace: Operation not permitted"

	# gdbserver in the target's network namespace, the host's gdb as client
	cap gdb --cap-add SYS_PTRACE --target-fs rw --join net,pid --timeout 60 -- \
		gdbserver --once --attach "127.0.0.1:$port" 1 >"$T/gdbserver.out" 2>&1 &
	pid=$!
	for i in $(seq 200); do
		grep -q "Listening on port" "$T/gdbserver.out" 2>/dev/null && break
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	o=$(timeout 60 nsenter -t "$tpid" -n gdb -nx -batch -ex "set debuginfod enabled off" \
		-ex "set sysroot $r" -ex "file $r/sleeper" -ex "target remote 127.0.0.1:$port" -ex bt -ex detach 2>&1) ||
		true
	rc=0
	wait "$pid" || rc=$?
	check "gdbserver: the host's gdb gets the target's backtrace through it" matches "$o" '#1 .* in main \(\)'
	check "gdbserver: attached to the target's PID 1 and served a client" \
		contains "$(cat "$T/gdbserver.out")" "Remote debugging from host 127.0.0.1"
	check "gdbserver: exits 0 once the client detached" equals "$rc" 0
	check "gdbserver: the target runs on" target_alive
}

test_clamav() {
	local o rc=0 a b
	o=$(cap clamav 2>&1) || rc=$?
	check "clamav: an intact target passes (exit 0)" equals "$rc" 0
	check "clamav: the test signature is loaded" contains "$o" "Known viruses: 1"
	check "clamav: the target's files were scanned, /proc, /sys and /dev not" \
		matches "$o" 'Scanned files: [1-9][0-9]?$'
	# the EICAR test file, written in two halves so no file of the repository holds it
	a='X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR'
	b='-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*'
	mkdir -p "$r/usr/share/app/cache"
	printf '%s%s\n' "$a" "$b" >"$r/usr/share/app/cache/update.bin"
	rc=0
	o=$(cap clamav 2>&1) || rc=$?
	check "clamav: an infected target fails the run (exit 1)" equals "$rc" 1
	check "clamav: names the infected file" contains "$o" "/target/usr/share/app/cache/update.bin: Recap.Test.EICAR"
	check "clamav: one file infected" contains "$o" "Infected files: 1"
	# a database the target carries
	mkdir -p "$r/usr/share/app/db"
	cp "$src/capsules/clamav/recap-test.ndb" "$r/usr/share/app/db/"
	rc=0
	o=$(cap clamav -- clamscan --database=/target/usr/share/app/db --infected /target/usr/share/app/cache 2>&1) ||
		rc=$?
	check "clamav: a database directory under /target is used" contains "$o" "update.bin: Recap.Test.EICAR"
	rc=0
	o=$(cap clamav -- clamscan --database=/no/such/db /target/usr/share/app 2>&1) || rc=$?
	check "clamav: a missing database is an error (exit 2)" equals "$rc" 2
	check "clamav: ... that names it" contains "$o" "/no/such/db"
	rm -rf "$r/usr/share/app/cache" "$r/usr/share/app/db"
}

test_sysstat() {
	local o rc=0 cpu
	runc exec -d "$cid" /spinner 20 </dev/null >/dev/null 2>&1 || fail "runc exec /spinner"
	o=$(cap sysstat --target-fs none -- pidstat -u -d -p ALL 1 3 2>&1) || rc=$?
	check "sysstat: pidstat exits 0" equals "$rc" 0
	cpu=$(awk '$1 == "Average:" && $NF == "spinner" && NF == 10 { print int($8) }' <<<"$o" | head -1)
	check "sysstat: pidstat sees the target's spinner busy (${cpu:-no} %CPU)" test "${cpu:-0}" -ge 5
	check "sysstat: ... and its I/O line" test "$(grep -c '^Average: .* spinner$' <<<"$o")" -eq 2
	check "sysstat: ... and the target's PID 1" matches "$o" '^Average: +0 +1 .* sleeper$'
	rc=0
	o=$(cap sysstat --join uts -- pidstat -p ALL 2>&1) || rc=$?
	check "sysstat: without the target's PID namespace its processes are not seen" lacks "$o" "spinner"
	rc=0
	o=$(cap sysstat -- sh -c 'iostat -d 1 1 && mpstat 1 1' 2>&1) || rc=$?
	check "sysstat: iostat and mpstat run" equals "$rc" 0
	check "sysstat: iostat reports devices" matches "$o" '^Device +tps'
	check "sysstat: mpstat reports all CPUs" matches "$o" '^Average: +all '
}

test_tar() {
	local o rc=0 got
	mkdir -p "$r/srv/data/sub"
	echo "alpha" >"$r/srv/data/a.txt"
	echo "beta" >"$r/srv/data/sub/b.txt"
	o=$(cap tar --id "tar-$$" --env "ARCHIVE_PATHS=srv/data /etc/app.conf" 2>&1) || rc=$?
	check "tar: archives ARCHIVE_PATHS (exit 0)" equals "$rc" 0
	check "tar: says where the archive is" contains "$o" "archive: /out/archive.tar.gz,"
	local a=$store/out/tar-$$/archive.tar.gz
	got=$(tar -tzf "$a" 2>&1 | sort | tr '\n' ' ')
	check "tar: the archive in /out holds the planted files, named relative to the target's root" equals "$got" \
		"etc/app.conf srv/data/ srv/data/a.txt srv/data/sub/ srv/data/sub/b.txt "
	check "tar: a file's content survives" equals "$(tar -xzOf "$a" srv/data/sub/b.txt 2>&1)" "beta"
	check "tar: ... and the other's" equals "$(tar -xzOf "$a" etc/app.conf 2>&1)" "listen 8080"
	rc=0
	o=$(cap tar --id "tar-all-$$" -- archive / 2>&1) || rc=$?
	got=$(tar -tzf "$store/out/tar-all-$$/archive.tar.gz" 2>&1)
	check "tar: / archives the whole target" contains "$got" "./srv/data/sub/b.txt"
	check "tar: ... but its /proc, /sys and /dev" equals "$(grep -cE '^\./(proc|sys|dev)/' <<<"$got")" 0
	rc=0
	o=$(cap tar --id "tar-missing-$$" -- archive srv/data no/such/file 2>&1) || rc=$?
	check "tar: a missing path is an error (exit 2)" equals "$rc" 2
	check "tar: ... that names it" contains "$o" "archive: no/such/file: no such file or directory in the target"
	check "tar: ... and leaves no archive" test ! -e "$store/out/tar-missing-$$/archive.tar.gz"
	rc=0
	o=$(cap tar -- archive ../../etc 2>&1) || rc=$?
	check "tar: a path out of the target's root is refused (exit 2)" equals "$rc" 2
	check "tar: ... and says so" contains "$o" "leaves the target's root"
	ln -s /etc "$r/srv/etc-link" # the target's /etc for the target, the capsule's for tar
	rc=0
	o=$(cap tar -- archive srv/etc-link/app.conf 2>&1) || rc=$?
	check "tar: a path through a symlinked directory is refused (exit 2)" equals "$rc" 2
	check "tar: ... and says so" contains "$o" "a directory on its way is a symlink out of the target's root"
	rc=0
	o=$(cap tar 2>&1) || rc=$?
	check "tar: no path is an error (exit 2)" equals "$rc" 2
	check "tar: ... that says what to give" contains "$o" "give PATH... or set ARCHIVE_PATHS"
	rm -rf "$r/srv"
}

# metric TEXT NAME: the value of the sample NAME (with its labels) in TEXT.
metric() { awk -v n="$2" '$1 == n { print $2; exit }' <<<"$1"; }
positive() { awk -v v="$1" 'BEGIN { exit !(v + 0 > 0) }'; }

test_metrics() {
	local o rc=0 lint
	# traffic on the target's loopback, and CPU in its cgroup
	nsenter -t "$tpid" -n bash -c 'for i in 1 2 3; do echo ping >/dev/udp/127.0.0.1/9; done' 2>/dev/null || true
	runc exec "$cid" /spinner 1 </dev/null >/dev/null 2>&1 || fail "runc exec /spinner"
	o=$(cap metrics --join net,pid --id "metrics-$$" 2>"$T/metrics.err") || rc=$?
	check "metrics: exits 0" equals "$rc" 0
	lint=$(promtool check metrics <<<"$o" 2>&1) || lint="promtool failed: $lint"
	check "metrics: promtool accepts the output as Prometheus text" equals "$lint" ""
	check "metrics: the same text in /out/metrics.prom" equals "$(cat "$store/out/metrics-$$/metrics.prom" 2>&1)" "$o"
	check "metrics: read from the target's cgroup v1 controllers" contains "$o" 'recap_target_info{cgroup_version="1"'
	check "metrics: the target's memory limit (200Mi), not the run's" \
		equals "$(metric "$o" recap_target_memory_limit_bytes)" $((200 * 1024 * 1024))
	check "metrics: the target's PIDs limit (77), not the run's" equals "$(metric "$o" recap_target_pids_limit)" 77
	check "metrics: memory in use ($(metric "$o" recap_target_memory_usage_bytes) bytes)" \
		positive "$(metric "$o" recap_target_memory_usage_bytes)"
	check "metrics: CPU used, the spinner's second included ($(metric "$o" recap_target_cpu_usage_seconds_total) s)" \
		awk -v v="$(metric "$o" recap_target_cpu_usage_seconds_total)" 'BEGIN { exit !(v + 0 >= 0.5) }'
	check "metrics: the target's loopback received bytes" \
		positive "$(metric "$o" 'recap_target_network_receive_bytes_total{interface="lo"}')"
	check "metrics: ... and only the target's interfaces (no node interface)" \
		equals "$(grep -o 'interface="[^"]*"' <<<"$o" | sort -u | tr '\n' ' ')" 'interface="lo" '
	rc=0
	o=$(cap metrics --join net,pid --target-fs none 2>&1) || rc=$?
	check "metrics: without /target it fails (exit 1)" equals "$rc" 1
	check "metrics: ... and says why" contains "$o" "metrics: no cgroup of the target at /target/sys/fs/cgroup"
	check "metrics: ... the network counters still printed" contains "$o" 'recap_target_network_receive_bytes_total{interface="lo"}'
	test_metrics_v2
}

# The unified hierarchy (cgroup v2), which this host's runc does not use
# for the target: the script on a copied tree of a v2 cgroup's files.
test_metrics_v2() {
	local f=$T/v2 o rc=0
	mkdir -p "$f/sys/fs/cgroup/kubepods/pod1/c1" "$f/proc/1" "$f/proc/net"
	local d=$f/sys/fs/cgroup/kubepods/pod1/c1
	echo "cpu memory io pids" >"$f/sys/fs/cgroup/cgroup.controllers"
	echo "0::/kubepods/pod1/c1" >"$f/proc/1/cgroup"
	printf 'usage_usec 2500000\nuser_usec 2000000\nsystem_usec 500000\nnr_periods 10\nnr_throttled 2\nthrottled_usec 1500\n' \
		>"$d/cpu.stat"
	echo 1048576 >"$d/memory.current"
	echo max >"$d/memory.max"
	printf 'anon 4096\nfile 8192\ninactive_file 1024\n' >"$d/memory.stat"
	printf 'low 0\nhigh 0\nmax 0\noom 0\noom_kill 3\n' >"$d/memory.events"
	echo 3 >"$d/pids.current"
	echo 100 >"$d/pids.max"
	echo '8:0 rbytes=4096 wbytes=8192 rios=1 wios=2 dbytes=0 dios=0' >"$d/io.stat"
	printf 'Inter-|   Receive\n face |bytes\n    lo: 1234 5 0 0 0 0 0 0 1234 5 0 0 0 0 0 0\n' >"$f/proc/net/dev"
	o=$(METRICS_ROOT=$f METRICS_PROC=$f/proc busybox sh "$src/capsules/metrics/metrics" 2>&1) || rc=$?
	check "metrics v2: exits 0" equals "$rc" 0
	check "metrics v2: promtool accepts it" equals "$(promtool check metrics <<<"$o" 2>&1)" ""
	check "metrics v2: the init's cgroup below the mount" \
		contains "$o" 'recap_target_info{cgroup_version="2",cgroup="/kubepods/pod1/c1"} 1'
	check "metrics v2: CPU seconds from usage_usec" equals "$(metric "$o" recap_target_cpu_usage_seconds_total)" 2.500000000
	check "metrics v2: working set = current - inactive_file" \
		equals "$(metric "$o" recap_target_memory_working_set_bytes)" 1047552
	check "metrics v2: no limit sample for memory.max 'max'" lacks "$o" "recap_target_memory_limit_bytes"
	check "metrics v2: OOM kills" equals "$(metric "$o" recap_target_memory_oom_kills_total)" 3
	check "metrics v2: io.stat written bytes by device" \
		equals "$(metric "$o" 'recap_target_io_bytes_total{device="8:0",op="write"}')" 8192
}

make_target
make_dynamic_target
before=$(cd "/proc/$tpid/root" && find . -xdev -path ./usr/share/app -prune -o -path ./srv -prune -o \
	-printf '%p %y %s %m\n' | sort)
set +e
build_and_push
test_gdb
test_clamav
test_sysstat
test_tar
test_metrics
after=$(cd "/proc/$tpid/root" && find . -xdev -path ./usr/share/app -prune -o -path ./srv -prune -o \
	-printf '%p %y %s %m\n' | sort)
check "the target's files are unchanged (but the ones the tests planted)" equals "$after" "$before"
check "the target's PID 1 survived every capsule" target_alive
check "no run directory left (only spares, runs/.spare-<k>)" test -z "$(ls "$store/runs")"
check "no run cgroup left" test -z "$(find /sys/fs/cgroup/*/"$cgp" -mindepth 1 -maxdepth 1 -type d 2>/dev/null)"
check "no mount of the store left" bash -c "! grep -q '$store' /proc/self/mountinfo"
finish
