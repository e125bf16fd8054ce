# shellcheck shell=bash
# Sourced by seccomp.sh: a tool-less runc target (a static sleeper, as in
# test/runtime/runtime.sh), a capsule layer (busybox-static, the static
# sys_probe, and host tools copied with their library closure), checks, and
# the cleanup that leaves no container, run, cgroup, mount or file.
#
# The caller sets capsule_bin, probe, sleeper before sourcing.

tmp=$(mktemp -d /tmp/recap-escape-seccomp.XXXXXX)
cid=recap-esc-sc-$$-$RANDOM
cgp=recap-test-$$
root=$tmp/store
layer=$tmp/layer
bundle=$tmp/bundle
failures=0

cleanup() {
	set +e
	local p
	for p in $(jobs -p); do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	runc kill "$cid" KILL >/dev/null 2>&1
	runc delete -f "$cid" >/dev/null 2>&1
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
# the result of one call in sys_probe's output ("<name> <result>")
result_of() { sed -n "s/^$1 //p" <<<"$2"; }

# copies a host executable and every library it loads into the layer
copy_tool() {
	local exe lib
	exe=$(command -v "$1") || return 1
	mkdir -p "$layer/$(dirname "$exe")"
	cp -L "$exe" "$layer/$exe"
	for lib in $(ldd "$exe" | grep -o '/[^ ]*'); do
		mkdir -p "$layer/$(dirname "$lib")"
		cp -L "$lib" "$layer/$lib"
	done
}

make_layer() {
	mkdir -p "$layer/bin" "$layer/etc"
	cp "$(command -v busybox)" "$layer/bin/busybox"
	local a
	for a in $("$layer/bin/busybox" --list); do
		[[ $a == busybox ]] || ln -s busybox "$layer/bin/$a"
	done
	cp "$probe" "$layer/bin/sys_probe"
	echo 'root:x:0:0:root:/root:/bin/sh' >"$layer/etc/passwd"
	echo 'root:x:0:' >"$layer/etc/group"
	tools=()
	for a in strace gdb ps md5sum; do
		if copy_tool "$a"; then tools+=("$a"); fi
	done
	# gdb does not start without its Python's standard library
	local py
	for py in /usr/lib/python3.*; do
		if [[ " ${tools[*]} " == *" gdb "* && -d $py ]]; then
			mkdir -p "$layer/usr/lib"
			cp -a "$py" "$layer/usr/lib/"
		fi
	done
}

make_target() {
	mkdir -p "$bundle/rootfs/data"
	cp "$sleeper" "$bundle/rootfs/sleeper"
	echo hello-target >"$bundle/rootfs/data/hello.txt"
	(cd "$bundle" && runc spec)
	python3 - "$bundle/config.json" "$cid" <<'PY'
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

# what a capsule must not change on the host: the target's mounts and files,
# the node's swap and modules (not its mount table or keyrings: other tests
# on the host change those while this one runs)
host_fingerprint() {
	cat "/proc/$tpid/mountinfo"
	(cd "/proc/$tpid/root" && find . -xdev -printf '%p %y %s %m\n' | sort)
	cat /proc/swaps
	cut -d' ' -f1 /proc/modules | sort
}
