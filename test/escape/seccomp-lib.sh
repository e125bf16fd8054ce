# shellcheck shell=bash
# Sourced by seccomp.sh: a tool-less runc target (a static sleeper, as in
# test/runtime/runtime.sh) and a capsule layer (busybox-static, the static
# sys_probe, and host tools copied with their library closure); the harness
# is common.sh.
#
# The caller sets capsule_bin, probe, sleeper before sourcing.

# shellcheck source=test/escape/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

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
	tpid=$(runc_target "$bundle" "$cid" false /sleeper)
}

# what a capsule must not change on the host: the target's mounts and files,
# the node's swap and modules (not its mount table or keyrings: other tests
# on the host change those while this one runs)
host_fingerprint() {
	cat "/proc/$tpid/mountinfo"
	(cd "/proc/$tpid/root" && find . -xdev -printf '%p %y %s %m\n' | sort)
	cat /proc/swaps
	[[ ! -r /proc/modules ]] || cut -d' ' -f1 /proc/modules | sort
}
