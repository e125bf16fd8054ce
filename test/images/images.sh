#!/usr/bin/env bash
# The images hack/build-images makes from the Containerfiles, used for real:
# every capsule image is pushed to a real docker-registry with skopeo and run
# by `capsule run --image` against tool-less runc containers (a static
# sleeper only): ps sees the target's processes, tcpdump captures traffic of
# the target's network namespace, strace traces the target's PID 1, md5check
# finds a modified file, logrotate rotates a target's log, an iperf3 client
# measures an iperf3 server. The agents' images (caplet, recap-controller,
# recap-apiserver) are unpacked and their binaries started from their own
# roots (their library closure is complete), and the OCI archives carry the
# name containerd gives them. Everything is removed at the end, also on failure.
#
#   images.sh SRC BUILDDIR CAPSULE SLEEPER
set -euo pipefail
# shellcheck source=hack/lib/errtrap.sh
. "$(dirname "${BASH_SOURCE[0]}")/../../hack/lib/errtrap.sh"
src=$1 builddir=$2 capsule_bin=$3 sleeper=$4

if ((EUID != 0)); then
	echo "SKIP: needs root (runc containers, namespaces, overlayfs, cgroups)"
	exit 77
fi
for tool in runc umoci skopeo docker-registry containerd ctr python3 apt-get dpkg-deb nsenter gzip; do
	command -v "$tool" >/dev/null || { echo "missing $tool (hack/deps installs it)" >&2; exit 1; }
done

# shellcheck source=../oci/lib.sh
. "$src/test/oci/lib.sh" # $T, pass/fail/finish, registry_start, PIDS (stopped at exit)
cid=recap-img-$$-$RANDOM
cgp=recap-test-img-$$
store=$T/store
out=$T/oci
bundle=$T/bundle

cleanup() {
	set +e
	runc kill "$cid" KILL >/dev/null 2>&1
	runc delete -f "$cid" >/dev/null 2>&1
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
equals() { [[ $1 == "$2" ]] || { echo "  expected '$2', got '$1'" >&2; return 1; }; }
matches() { grep -Eq -- "$2" <<<"$1" || { echo "  expected /$2/ in: $1" >&2; return 1; }; }

# cap NAME [capsule run options] [-- CMD...]: the capsule image NAME from the
# registry, attached to the target.
cap() {
	local name=$1
	shift
	"$capsule_bin" --root "$store" --cgroup-parent "$cgp" run --target "$cid" \
		--image "$REG_r/capsules/$name:$tag" --insecure-registry "$REG_r" "$@"
}

make_target() { # a sleeper, a log, files with a package database's checksums
	local r=$bundle/rootfs
	mkdir -p "$r/var/log" "$r/usr/share/app" "$r/var/lib/dpkg/info" "$r/etc"
	cp "$sleeper" "$r/sleeper"
	echo "alpha" >"$r/usr/share/app/a.txt"
	echo "beta" >"$r/usr/share/app/b.txt"
	(cd "$r" && md5sum usr/share/app/a.txt usr/share/app/b.txt >var/lib/dpkg/info/app.md5sums)
	(cd "$r" && sha256sum sleeper >etc/app.sha256)
	seq 1 2000 | sed 's/^/log line /' >"$r/var/log/app.log"
	(cd "$bundle" && runc spec)
	python3 - "$bundle/config.json" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
c["process"]["args"] = ["/sleeper"]
c["process"]["terminal"] = False
c["root"]["readonly"] = False
json.dump(c, open(sys.argv[1], "w"))
PY
	runc run -d --bundle "$bundle" "$cid" </dev/null >/dev/null 2>&1
	tpid=$(runc state "$cid" | python3 -c 'import json,sys; print(json.load(sys.stdin)["pid"])')
	# an address only the target's network namespace has
	nsenter -t "$tpid" -n ip addr add 10.213.7.1/32 dev lo
	nsenter -t "$tpid" -n ip link set lo up
}

build_and_push() {
	local t0 t1
	registry_start r
	t0=$(date +%s)
	if ! "$src/hack/build-images" --out "$out" --binaries-from "$builddir" --push "$REG_r" --insecure \
		>"$T/build.log" 2>&1; then
		cat "$T/build.log" >&2
		fail "hack/build-images"
		finish
	fi
	t1=$(date +%s)
	pass "hack/build-images: $(wc -l <"$out/images.txt") images built and pushed to $REG_r in $((t1 - t0)) s"
	tag=$(awk '$1 == "ps" {print $2}' "$out/images.txt")
	tag=${tag##*:}
}

test_ps() {
	local o
	o=$(cap ps 2>&1)
	check "ps: the image's command lists the target's PID 1" contains "$o" "/sleeper"
	check "ps: the target's init is PID 1, as root" matches "$o" '^ +1 +0 +root .*/sleeper$'
	o=$(cap ps -- top -b -n 1 2>&1)
	check "ps: top -b runs" contains "$o" "sleeper"
	o=$(cap ps -- sh -c 'free -m; uptime' 2>&1)
	check "ps: free and uptime run" contains "$o" "Mem:"
}

test_tcpdump() {
	local o rc=0 i pid
	cap tcpdump --cap-add NET_RAW,NET_ADMIN -- tcpdump -i lo -nn -c 4 -l host 10.213.7.1 >"$T/tcpdump.out" 2>&1 &
	pid=$!
	# connection attempts from inside the target's namespace (refused: SYN, RST)
	for i in $(seq 100); do
		kill -0 "$pid" 2>/dev/null || break
		nsenter -t "$tpid" -n busybox nc -w 1 10.213.7.1 9 </dev/null >/dev/null 2>&1 || true
		sleep 0.1
	done
	wait "$pid" || rc=$?
	o=$(cat "$T/tcpdump.out")
	check "tcpdump: exits 0 after 4 packets" equals "$rc" 0
	check "tcpdump: captured the target's own address" contains "$o" "10.213.7.1.9: Flags [S]"
	check "tcpdump: 4 packets captured" contains "$o" "4 packets captured"
	rc=0
	o=$(cap tcpdump -- tcpdump -i lo -c 1 2>&1) || rc=$?
	check "tcpdump: refused without NET_RAW" contains "$o" "Operation not permitted"
}

test_strace() {
	local o rc=0
	# tracing changes the target: ReadOnly and None runs cannot (Landlock)
	o=$(cap strace --cap-add SYS_PTRACE --target-fs rw -- sh -c 'timeout -s INT 2 strace -p 1 2>&1; exit 0' 2>&1)
	check "strace: attaches to the target's PID 1" contains "$o" "Process 1 attached"
	check "strace: sees it in pause()" contains "$o" "pause("
	o=$(cap strace -- strace -p 1 2>&1) || rc=$?
	check "strace: refused without SYS_PTRACE" contains "$o" "Operation not permitted"
}

test_md5check() {
	local o rc=0
	o=$(cap md5check 2>&1) || rc=$?
	check "md5check: an intact target passes" equals "$rc" 0
	check "md5check: both files of the package database checked" contains "$o" "2 files checked, 0 modified, 0 missing"
	echo "tampered" >"$bundle/rootfs/usr/share/app/b.txt"
	rc=0
	o=$(cap md5check 2>&1) || rc=$?
	check "md5check: a modified file fails the run" equals "$rc" 1
	check "md5check: the modified file is named with its package" contains "$o" "MODIFIED /usr/share/app/b.txt  (app)"
	rc=0
	o=$(cap md5check -- sumcheck /target/etc/app.sha256 2>&1) || rc=$?
	check "md5check: a sha256 list from the target passes" contains "$o" "1 files checked, 0 modified"
	rc=0
	o=$(cap md5check -- sumcheck /target/no/such/list 2>&1) || rc=$?
	check "md5check: an unreadable list is an error (exit 2)" equals "$rc" 2
}

test_logrotate() {
	local o rc=0 r=$bundle/rootfs/var/log
	o=$(cap logrotate -- logrotate --force --state /out/state /etc/logrotate.conf 2>&1) || rc=$?
	check "logrotate: fails on a read-only /target" test "$rc" -ne 0
	check "logrotate: says so" contains "$o" "Read-only file system"
	check "logrotate: the log is untouched then" test ! -e "$r/app.log.1.gz"
	rc=0
	o=$(cap logrotate --target-fs rw -- logrotate --force --state /out/state /etc/logrotate.conf 2>&1) ||
		rc=$?
	check "logrotate: rotates with ReadWrite" equals "$rc" 0
	check "logrotate: the live log is truncated" equals "$(stat -c %s "$r/app.log")" 0
	check "logrotate: the rotated log is compressed and complete" \
		equals "$(gzip -dc "$r/app.log.1.gz" 2>/dev/null | tail -n1)" "log line 2000"
}

test_iperf3() {
	local o rc=0 pid
	cap iperf3 -- true >/dev/null 2>&1 # pulled once, before server and client start
	cap iperf3 --join net --timeout 60 -- iperf3 --server --one-off --bind 10.213.7.1 >"$T/iperf-server.out" 2>&1 &
	pid=$!
	o=$(cap iperf3 --join net -- sh -c \
		'for i in $(seq 100); do iperf3 --client 10.213.7.1 --time 1 --json >/tmp/r 2>&1 && ! grep -q "\"error\"" /tmp/r && cat /tmp/r && exit 0; sleep 0.2; done; cat /tmp/r; exit 1' \
		2>"$T/iperf-client.err") || rc=$?
	wait "$pid" || true
	check "iperf3: the client ran against the server in the target's namespace" equals "$rc" 0
	local bps
	bps=$(python3 -c 'import json,sys; print(int(json.load(sys.stdin)["end"]["sum_received"]["bits_per_second"]))' \
		<<<"$o" 2>/dev/null) || { echo "  iperf3 client: $o $(cat "$T/iperf-client.err")" >&2; bps=0; }
	check "iperf3: reports a throughput ($((bps / 1000000)) Mbit/s)" test "$bps" -gt 0
}

# run_image NAME USER ARGS...: the image's entry binary from its own unpacked root.
run_image() {
	local name=$1 user=$2
	shift 2
	chroot --userspec="$user" "$T/unpacked-$name/rootfs" "$@"
}

test_agent_images() {
	local name o
	for name in caplet recap-controller recap-apiserver; do
		umoci unpack --image "$out/$name:$tag" "$T/unpacked-$name" >/dev/null || fail "unpack $name"
	done
	o=$(run_image caplet 0:0 /usr/bin/caplet --help 2>&1)
	check "caplet image: caplet starts from its own root" contains "$o" "usage: caplet"
	o=$(run_image caplet 0:0 capsule --help 2>&1)
	check "caplet image: capsule starts from its own root" contains "$o" "usage: capsule"
	o=$(run_image caplet 0:0 /usr/bin/capsule-pull --help 2>&1)
	check "caplet image: capsule-pull starts from its own root" contains "$o" "usage: capsule-pull"
	o=$(run_image caplet 0:0 /usr/bin/capsule-cri --help 2>&1)
	check "caplet image: capsule-cri starts from its own root" contains "$o" "usage: capsule-cri"
	o=$(run_image caplet 0:0 /usr/bin/caplet-tar --help 2>&1)
	check "caplet image: caplet-tar starts from its own root" contains "$o" "usage: caplet-tar"
	check "caplet image: the CA bundle for registries is there" test -s "$T/unpacked-caplet/rootfs/etc/ssl/certs/ca-certificates.crt"
	o=$(run_image recap-controller 65532:65532 /usr/bin/recap-controller --help 2>&1)
	check "controller image: starts from its own root as 65532" contains "$o" "usage: recap-controller"
	o=$(python3 -c 'import json,sys; c=json.load(open(sys.argv[1])); print(c["process"]["user"]["uid"], c["process"]["args"][0])' \
		"$T/unpacked-recap-controller/config.json")
	check "controller image: runs as 65532, entrypoint recap-controller" equals "$o" "65532 /usr/bin/recap-controller"
	check "controller image: no shell" test ! -e "$T/unpacked-recap-controller/rootfs/bin/sh"
	o=$(run_image recap-apiserver 65532:65532 /usr/bin/recap-apiserver --help 2>&1)
	check "recap-apiserver image: starts from its own root as 65532" contains "$o" "usage: recap-apiserver"
	check "recap-apiserver image: no shell" test ! -e "$T/unpacked-recap-apiserver/rootfs/bin/sh"
}

test_archives() {
	local name want o
	for name in caplet recap-controller recap-apiserver; do
		want=$(grep -ho "image: recap/$name:[^ ]*" "$src"/config/*/*.yaml | head -1)
		want=docker.io/${want#image: }
		o=$(tar -xOf "$out/$name.tar" index.json | python3 -c \
			'import json,sys; print(json.load(sys.stdin)["manifests"][0]["annotations"]["io.containerd.image.name"])')
		check "$name.tar: named $want for containerd, as config/ installs it" equals "$o" "$want"
		o=$(skopeo inspect --raw "oci-archive:$out/$name.tar" | python3 -c \
			'import json,sys; print(json.load(sys.stdin)["config"]["mediaType"])')
		check "$name.tar: a valid OCI archive" equals "$o" "application/vnd.oci.image.config.v1+json"
	done
}

# A private containerd (no CRI, its own root, state and socket under $T):
# the agents' archives import under the names config/ installs, and the
# image containerd unpacked runs its entry binary.
test_containerd_import() {
	local d=$T/containerd name want o i
	mkdir -p "$d"
	cat >"$d/config.toml" <<TOML
version = 2
root = "$d/root"
state = "$d/state"
disabled_plugins = ["io.containerd.grpc.v1.cri", "io.containerd.internal.v1.opt",
  "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs",
  "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.aufs",
  "io.containerd.tracing.processor.v1.otlp"]
[grpc]
  address = "$d/sock"
[ttrpc]
  address = "$d/sock.ttrpc"
[debug]
  address = ""
[metrics]
  address = ""
TOML
	containerd --config "$d/config.toml" >"$d/log" 2>&1 &
	PIDS+=($!)
	for i in $(seq 100); do
		ctr -a "$d/sock" version >/dev/null 2>&1 && break
		sleep 0.1
	done
	for name in caplet recap-controller recap-apiserver; do
		want=$(grep -ho "image: recap/$name:[^ ]*" "$src"/config/*/*.yaml | head -1)
		want=docker.io/${want#image: }
		ctr -a "$d/sock" -n k8s.io images import "$out/$name.tar" >"$d/import.out" 2>&1 ||
			{ fail "ctr import $name.tar: $(cat "$d/import.out")"; continue; }
		o=$(ctr -a "$d/sock" -n k8s.io images ls -q)
		check "containerd: $name.tar imports as $want" contains "$o" "$want"
		mkdir -p "$d/mnt-$name"
		ctr -a "$d/sock" -n k8s.io images mount "$want" "$d/mnt-$name" >"$d/mount.out" 2>&1 ||
			{ fail "ctr images mount $want: $(cat "$d/mount.out")"; continue; }
		o=$(chroot "$d/mnt-$name" "/usr/bin/$name" --help 2>&1)
		check "containerd: $name runs from the root containerd unpacked" contains "$o" "usage: $name"
		ctr -a "$d/sock" -n k8s.io images unmount --rm "$d/mnt-$name" >/dev/null 2>&1 ||
			fail "ctr images unmount $d/mnt-$name"
	done
}

make_target
before=$(cd "/proc/$tpid/root" && find . -xdev -path ./var/log -prune -o -path ./usr/share/app -prune -o \
	-printf '%p %y %s %m\n' | sort)
set +e
build_and_push
test_ps
test_tcpdump
test_strace
test_md5check
test_logrotate
test_iperf3
test_agent_images
test_archives
test_containerd_import
after=$(cd "/proc/$tpid/root" && find . -xdev -path ./var/log -prune -o -path ./usr/share/app -prune -o \
	-printf '%p %y %s %m\n' | sort)
check "the target's files are unchanged (but the ones the tests changed)" equals "$after" "$before"
check "no run directory left (only spares, runs/.spare-<k>)" test -z "$(ls "$store/runs")"
check "no run cgroup left" test -z "$(find /sys/fs/cgroup/*/"$cgp" -mindepth 1 -maxdepth 1 -type d 2>/dev/null)"
check "no mount of the store left" bash -c "! grep -q '$store' /proc/self/mountinfo"
finish
