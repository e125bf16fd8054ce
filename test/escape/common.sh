# shellcheck shell=bash
# The harness of the escape suites (escape.sh, seccomp.sh), sourced through
# their lib.sh and seccomp-lib.sh: the scratch directory, the names of the
# run's store, cgroup parent and targets, the check helpers, and a cleanup
# that leaves no container, run, cgroup, mount, process or file behind (also
# on failure). The patterns are those of test/runtime/runtime.sh.
#
# Needs: capsule_bin set by the caller.

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
	for p in "${host_pids[@]}" $(jobs -p); do kill -9 "$p" 2>/dev/null && wait "$p" 2>/dev/null; done
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
