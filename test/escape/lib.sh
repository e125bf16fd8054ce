# Sourced by test/escape/escape.sh: a runc target with no tools (a static
# sleeper), a busybox capsule layer with the attack helper, and the writable
# target; the harness is common.sh.
#
# Needs: capsule_bin, attack, sleeper set by the caller.

# shellcheck source=test/escape/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

make_layer() {
	mkdir -p "$layer/bin"
	cp "$(command -v busybox)" "$layer/bin/busybox"
	local a
	for a in $("$layer/bin/busybox" --list); do
		[[ $a == busybox ]] || ln -s busybox "$layer/bin/$a"
	done
	cp "$attack" "$layer/bin/attack"
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
