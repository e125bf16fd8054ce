# Sourced by test/escape/escape.sh: a runc target with no tools (a static
# sleeper), a busybox capsule layer with the attack helper, the check
# helpers, and a cleanup that leaves no container, run, cgroup, mount,
# process or file behind (also on failure). The patterns are those of
# test/runtime/runtime.sh.
#
# Needs: capsule_bin, attack, sleeper set by the caller.

tmp=$(mktemp -d /tmp/recap-escape.XXXXXX)
cid=recap-esc-$$-$RANDOM
cgp=recap-test-$$
root=$tmp/store
layer=$tmp/layer
bundle=$tmp/bundle
wcid=recap-escw-$$-$RANDOM # the writable target (make_wtarget)
wbundle=$tmp/wbundle
failures=0
host_pids=() # host processes this test started, killed at the end

cleanup() {
	set +e
	local p
	for p in "${host_pids[@]}"; do kill -9 "$p" 2>/dev/null && wait "$p" 2>/dev/null; done
	for c in "$cid" "$wcid"; do
		runc kill "$c" KILL >/dev/null 2>&1
		runc delete -f "$c" >/dev/null 2>&1
	done
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
differs() { [[ $1 != "$2" ]] || { echo "  expected something other than '$2'" >&2; return 1; }; }

make_layer() {
	mkdir -p "$layer/bin"
	cp "$(command -v busybox)" "$layer/bin/busybox"
	local a
	for a in $("$layer/bin/busybox" --list); do
		[[ $a == busybox ]] || ln -s busybox "$layer/bin/$a"
	done
	cp "$attack" "$layer/bin/attack"
}

runc_target() { # bundle, id, writable root (true|false), args...
	local b=$1 id=$2 rw=$3
	shift 3
	(cd "$b" && runc spec)
	python3 - "$b/config.json" "$id" "$rw" "$@" <<'PY'
import json, sys
p, name, rw, args = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
c = json.load(open(p))
c["process"]["args"] = args
c["process"]["terminal"] = False
c["hostname"] = name[-30:]
c["root"]["readonly"] = rw != "true"
json.dump(c, open(p, "w"))
PY
	runc run -d --bundle "$b" "$id" </dev/null >/dev/null 2>&1
	runc state "$id" | python3 -c 'import json,sys; print(json.load(sys.stdin)["pid"])'
}

make_target() {
	mkdir -p "$bundle/rootfs/data"
	cp "$sleeper" "$bundle/rootfs/sleeper"
	echo hello-target >"$bundle/rootfs/data/hello.txt"
	tpid=$(runc_target "$bundle" "$cid" false /sleeper)
}

# A target whose root is writable and which runs with runc's default
# capabilities (fewer than a capsule's), its init in /data and holding
# /data/held.txt open for appending as fd 3: what a ReadOnly capsule must not
# write through /proc/<pid>/root, cwd, fd/3 or mem.
make_wtarget() {
	mkdir -p "$wbundle/rootfs/data" "$wbundle/rootfs/bin"
	cp "$sleeper" "$wbundle/rootfs/sleeper"
	cp "$(command -v busybox)" "$wbundle/rootfs/bin/busybox"
	echo target-file >"$wbundle/rootfs/data/w.txt"
	echo target-held >"$wbundle/rootfs/data/held.txt"
	wtpid=$(runc_target "$wbundle" "$wcid" true /bin/busybox sh -c \
		'cd /data && exec 3>>/data/held.txt && exec /sleeper')
}

# Every capability a CapsulePolicy can grant: what caplet holds
# (docs/security.md, "The node agent"), the default set included.
all_caps=SYS_ADMIN,SYS_CHROOT,SYS_PTRACE,SETPCAP,MKNOD,NET_RAW,NET_ADMIN,KILL,DAC_OVERRIDE,CHOWN,FOWNER
all_caps+=,FSETID,SETGID,SETUID,NET_BIND_SERVICE,AUDIT_WRITE

# The variants every attack runs in: the default capabilities, then all.
variants=("default" "all-caps")
variant_flags() { # variant -> extra `capsule run` flags
	[[ $1 == all-caps ]] && echo "--cap-add $all_caps"
	return 0
}
