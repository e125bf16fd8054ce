#!/usr/bin/env bash
# The sandbox, attacked:
# each case runs an attack from inside a capsule attached to a runc target,
# asserts that it failed, and checks on the host that nothing changed. Every
# case runs twice: with the default capabilities and with every capability
# a CapsulePolicy can grant (lib.sh, all_caps). As root; everything the test
# makes is removed at the end, also on failure.
#
#   escape.sh CAPSULE ATTACK SLEEPER
set -euo pipefail
# shellcheck source=hack/lib/errtrap.sh
. "$(dirname "${BASH_SOURCE[0]}")/../../hack/lib/errtrap.sh"
capsule_bin=$1 attack=$2 sleeper=$3

if ((EUID != 0)); then
	echo "SKIP: needs root (runc containers, namespaces, overlayfs, cgroups)"
	exit 77
fi
for tool in runc busybox python3; do
	command -v "$tool" >/dev/null || { echo "missing $tool (hack/deps installs it)" >&2; exit 1; }
done
# shellcheck source=test/escape/lib.sh
source "$(dirname "$0")/lib.sh"

# The OCI runtime spec's defaults (runc's spec and config/linux.md).
masked_paths="/proc/acpi /proc/asound /proc/kcore /proc/keys /proc/latency_stats /proc/timer_list"
masked_paths+=" /proc/timer_stats /proc/sched_debug /proc/scsi /sys/firmware /sys/devices/virtual/powercap"
ro_paths="/proc/bus /proc/fs /proc/irq /proc/sys /proc/sysrq-trigger /sys"

# Attack 1: the node's kernel through /proc and /sys. core_pattern is global:
# writing it makes the node run a program of the attacker's choice on the
# next crash. sysrq-trigger is only opened, never written.
test_proc() {
	local v=$1 before after out p
	local bad="core.recap-escape-$$"
	before=$(cat /proc/sys/kernel/core_pattern)
	# shellcheck disable=SC2046
	out=$(run $(variant_flags "$v") -- sh -c "
		attack write /proc/sys/kernel/core_pattern $bad
		attack umount /proc/sys
		attack remount-rw /proc/sys
		attack write /proc/sys/kernel/core_pattern $bad
		attack openw /proc/sysrq-trigger
		for p in $masked_paths; do attack masked \$p; done
		for p in $ro_paths; do attack ro \$p; done" 2>&1)
	after=$(cat /proc/sys/kernel/core_pattern)
	[[ $after == "$before" ]] || echo "$before" >/proc/sys/kernel/core_pattern
	check "proc[$v]: writing core_pattern from the capsule fails" lacks "$out" \
		"write /proc/sys/kernel/core_pattern ok"
	check "proc[$v]: ... with EROFS" contains "$out" "write /proc/sys/kernel/core_pattern EROFS"
	check "proc[$v]: the host's core_pattern is unchanged" equals "$after" "$before"
	check "proc[$v]: /proc/sys cannot be unmounted" lacks "$out" "umount /proc/sys ok"
	check "proc[$v]: /proc/sys cannot be remounted read-write" lacks "$out" "remount-rw /proc/sys ok"
	check "proc[$v]: /proc/sysrq-trigger cannot be opened for writing" lacks "$out" "openw /proc/sysrq-trigger ok"
	[[ -e /proc/sysrq-trigger ]] && check "proc[$v]: ... (present on the host) with EROFS" contains "$out" \
		"openw /proc/sysrq-trigger EROFS"
	for p in $masked_paths; do
		check "proc[$v]: $p is masked or absent" lacks "$out" "masked $p no"
		[[ -e $p ]] && check "proc[$v]: $p (present on the host) is masked" contains "$out" "masked $p yes"
	done
	for p in $ro_paths; do
		check "proc[$v]: $p is read-only or absent" lacks "$out" "ro $p no"
		[[ -e $p ]] && check "proc[$v]: $p (present on the host) is read-only" contains "$out" "ro $p yes"
	done
}

# Attack 2: CVE-2024-21626. An fd of the executor's (the cgroup directory
# opened for clone3, or any other) left open in the command is a way out of
# its root: /proc/self/fd/N as the working directory, then "..".
test_workdir() {
	local v=$1 n out wd escaped=0 refused=0 dots=../../../../../../../../../..
	local secret="host-secret-$$-$v"
	echo "$secret" >"$tmp/host-secret"
	echo untouched >"$tmp/canary"
	local attack_cmd="attack cwd; cat $dots$tmp/host-secret; echo pwned >$dots$tmp/canary"
	for n in $(seq 3 31); do
		wd=/proc/self/fd/$n
		# shellcheck disable=SC2046
		out=$(run $(variant_flags "$v") --workdir "$wd" -- sh -c "$attack_cmd" 2>&1) || true
		[[ $out == *"$secret"* ]] && escaped=$((escaped + 1)) && echo "  escaped via --workdir $wd: $out" >&2
		[[ $out == *"working directory $wd"* && $out != *"cwd "* ]] && refused=$((refused + 1))
		# the same through the image's WorkingDir (as caplet passes it)
		printf '{"target": "%s", "layers": ["%s"], "imageConfig": {"WorkingDir": "%s"}, "command": ["sh", "-c", "%s"]}' \
			"$cid" "$layer" "$wd" "$attack_cmd" >"$tmp/spec.json"
		# shellcheck disable=SC2046
		out=$(capsule run $(variant_flags "$v") --spec-file "$tmp/spec.json" 2>&1) || true
		[[ $out == *"$secret"* ]] && escaped=$((escaped + 1)) && echo "  escaped via WorkingDir $wd: $out" >&2
		[[ $out == *"working directory $wd"* && $out != *"cwd "* ]] && refused=$((refused + 1))
	done
	check "workdir[$v]: no /proc/self/fd/N working directory reaches a host file" equals "$escaped" 0
	check "workdir[$v]: the host canary is untouched" equals "$(cat "$tmp/canary")" untouched
	check "workdir[$v]: each is refused before the command runs, naming it" equals "$refused" 58
	# the run's own processes (the supervisor) hold no fd of the host's
	# either: with SYS_PTRACE their /proc/<pid>/fd links can be followed
	echo untouched >"$tmp/canary"
	# shellcheck disable=SC2046
	out=$(run $(variant_flags "$v") -- sh -c "for l in /proc/[0-9]*/fd/* /proc/[0-9]*/cwd /proc/[0-9]*/root; do
		cat \$l/$dots$tmp/host-secret; echo pwned >\$l/$dots$tmp/canary; done 2>/dev/null; echo walked")
	check "workdir[$v]: no fd or cwd of a process in the capsule leads to a host file" lacks "$out" "$secret"
	check "workdir[$v]: ... nor lets one be written" equals "$(cat "$tmp/canary")" untouched
	check "workdir[$v]: ... (every link tried)" contains "$out" "walked"
	# shellcheck disable=SC2046
	out=$(run $(variant_flags "$v") --workdir /target/data -- sh -c 'attack cwd; cat hello.txt')
	check "workdir[$v]: a working directory inside the root still works" equals "$out" "cwd /target/data
hello-target"
	# shellcheck disable=SC2046
	out=$(capsule run $(variant_flags "$v") --target "$cid" --rootfs-layers "$layer:$tmp/wdlayer" \
		--workdir /up -- attack cwd)
	check "workdir[$v]: a symlink climbing above / resolves inside the root" equals "$out" "cwd /target/data"
}

# Attack 3: namespaces left out of `join`. They must be new, never the
# executor's (the node's): no host process visible or killable, no host
# interface, no host hostname to change.
ns_of() { readlink "/proc/$1/ns/$2"; }

ns_script() { # the attack, run inside the capsule (markers split: ps shows the script)
	local guard_kill=$1
	cat <<SH
for t in pid net ipc uts cgroup; do echo "ns \$t \$(readlink /proc/self/ns/\$t)"; done
echo "pid1 \$(tr '\0' ' ' </proc/1/cmdline)"
echo "lo \$(cat /sys/class/net/lo/flags)"
cat /proc/net/dev
ps -o pid,args
hostname recap-esc-$$ 2>/dev/null
if [ -d /proc/$canary ] || ps -o args | grep -q '[s]leep 1002$$'; then
	echo HOST""-VISIBLE
elif [ $guard_kill = kill ] && [ \$(ls -d /proc/[0-9]* | wc -l) -lt 20 ]; then
	kill -9 -1; echo "KILLED""-ALL"
fi
SH
}

check_ns_join() { # variant, join list, output
	local v=$1 join=$2 out=$3 t self target
	for t in pid net ipc uts cgroup; do
		self=$(ns_of $$ "$t")
		target=$(ns_of "$tpid" "$t")
		if [[ ,$join, == *",$t,"* ]]; then
			check "ns[$v, join '$join']: $t is the target's" contains "$out" "ns $t $target"
		else
			check "ns[$v, join '$join']: $t is not the executor's (the node's)" lacks "$out" "ns $t $self"
			check "ns[$v, join '$join']: $t is not the target's" lacks "$out" "ns $t $target"
		fi
	done
}

test_namespaces() {
	local v=$1 join out host_name host_pid1 i
	host_name=$(hostname)
	host_pid1=$(tr '\0' ' ' </proc/1/cmdline)
	sleep "1002$$" &
	canary=$!
	host_pids+=("$canary")
	for join in net "" pid ipc,uts,cgroup; do
		local guard=kill
		[[ $join == *pid* ]] && guard=nokill
		# shellcheck disable=SC2046
		out=$(run $(variant_flags "$v") --join "$join" -- sh -c "$(ns_script $guard)" 2>&1)
		local now_name
		now_name=$(hostname)
		[[ $now_name == "$host_name" ]] || hostname "$host_name"
		check_ns_join "$v" "$join" "$out"
		check "ns[$v, join '$join']: the capsule does not see the host's processes" lacks "$out" "HOST-VISIBLE"
		check "ns[$v, join '$join']: ... nor the host's init" lacks "$out" "pid1 $host_pid1"
		[[ $guard == kill ]] && check "ns[$v, join '$join']: kill -9 -1 ran in the capsule" contains "$out" "KILLED-ALL"
		check "ns[$v, join '$join']: a host process survives kill -9 -1" kill -0 "$canary"
		check "ns[$v, join '$join']: the target survives" test -d "/proc/$tpid"
		check "ns[$v, join '$join']: the host's hostname is unchanged" equals "$now_name" "$host_name"
		[[ $join == *net* ]] && continue
		for i in $(sed -n 's/^ *\([^ :]*\):.*/\1/p' /proc/net/dev); do
			[[ $i == lo ]] || check "ns[$v, join '$join']: no host interface ($i)" lacks "$out" " $i:"
		done
		check "ns[$v, join '$join']: the new network namespace's lo is up" contains "$out" "lo 0x9"
	done
}

# Attack 4: ReadOnly bypassed through the target's own processes. With pid
# joined, /proc/<pid>/root, cwd and fd/N of a target process lead into its
# filesystem past the read-only /target, and /proc/<pid>/mem into its memory,
# whenever the tool passes the ptrace access check (a target with fewer
# capabilities than the tool: runc's defaults). Inside, the target's init is 1.
wtarget_reset() {
	echo target-file >"$wbundle/rootfs/data/w.txt"
	echo target-held >"$wbundle/rootfs/data/held.txt"
}

test_readonly() {
	local v=$1 fs out
	wtarget_reset
	for fs in ro none; do
		# shellcheck disable=SC2046
		out=$(capsule run --target "$wcid" --rootfs-layers "$layer" --target-fs "$fs" \
			$(variant_flags "$v") -- sh -c '
			attack write /proc/1/root/data/w.txt pwned-root
			attack write /proc/1/cwd/w.txt pwned-cwd
			attack write /proc/1/fd/3 pwned-fd
			attack mem 1
			attack ptrace 1
			attack vmwrite 1
			attack getfd 1 3 pwned-getfd
			echo tmp-ok >/tmp/t && cat /tmp/t
			echo out-ok >/out/t && cat /out/t
			echo dev-ok >/dev/null && echo dev-null-ok' 2>&1)
		check "readonly[$v, $fs]: /proc/<target>/root is not writable" lacks "$out" "write /proc/1/root/data/w.txt ok"
		check "readonly[$v, $fs]: ... refused (EACCES)" contains "$out" "write /proc/1/root/data/w.txt EACCES"
		check "readonly[$v, $fs]: /proc/<target>/cwd is not writable" lacks "$out" "write /proc/1/cwd/w.txt ok"
		check "readonly[$v, $fs]: /proc/<target>/fd/3 cannot be reopened for writing" lacks "$out" \
			"write /proc/1/fd/3 ok"
		check "readonly[$v, $fs]: /proc/<target>/mem is not writable" lacks "$out" "mem 1 ok"
		check "readonly[$v, $fs]: ... refused" contains "$out" "mem 1 E"
		check "readonly[$v, $fs]: the target's processes cannot be traced" lacks "$out" "ptrace 1 ok"
		check "readonly[$v, $fs]: the target's memory cannot be written by process_vm_writev" lacks "$out" \
			"vmwrite 1 ok"
		check "readonly[$v, $fs]: ... refused (EPERM)" contains "$out" "vmwrite 1 EPERM"
		check "readonly[$v, $fs]: the target's fd cannot be taken by pidfd_getfd" lacks "$out" "getfd-write"
		check "readonly[$v, $fs]: ... refused (EPERM)" contains "$out" "getfd 1:3 EPERM"
		check "readonly[$v, $fs]: the target's file is unchanged on the host" equals \
			"$(cat "$wbundle/rootfs/data/w.txt")" target-file
		check "readonly[$v, $fs]: the target's held file is unchanged on the host" equals \
			"$(cat "$wbundle/rootfs/data/held.txt")" target-held
		check "readonly[$v, $fs]: /tmp is still writable" contains "$out" "tmp-ok"
		check "readonly[$v, $fs]: /out is still writable" contains "$out" "out-ok"
		check "readonly[$v, $fs]: /dev/null is still writable" contains "$out" "dev-null-ok"
		wtarget_reset
	done
	# ReadWrite is what it says: /target writes reach the target, and a
	# debugger (SYS_PTRACE) may trace the target's processes
	# shellcheck disable=SC2046
	out=$(capsule run --target "$wcid" --rootfs-layers "$layer" --target-fs rw $(variant_flags "$v") -- \
		sh -c 'attack write /target/data/w.txt written-rw; attack ptrace 1; attack vmwrite 1' 2>&1)
	# the attacks above work where nothing stops them: a debugger's ReadWrite run
	[[ $v == all-caps ]] && check "readonly[$v, rw]: with SYS_PTRACE the target's processes can be traced" \
		contains "$out" "ptrace 1 ok"
	[[ $v == all-caps ]] && check "readonly[$v, rw]: ... and their memory written by process_vm_writev" \
		contains "$out" "vmwrite 1 ok"
	check "readonly[$v, rw]: a ReadWrite run writes /target" contains "$out" "write /target/data/w.txt ok"
	check "readonly[$v, rw]: ... into the target (on the host)" equals \
		"$(head -c 10 "$wbundle/rootfs/data/w.txt")" written-rw
	wtarget_reset
}

# Attack 5: the CVE classes runc, crun and containerd have had.
host_blockdev() { # the node's root disk, else its first block device
	local d
	d=$(mountpoint -d / 2>/dev/null) || d=
	[[ $d == 0:* || -z $d ]] && d=$(cat /sys/block/*/dev 2>/dev/null | head -n 1)
	echo "$d"
}

release_agents() { cat /sys/fs/cgroup/*/release_agent 2>/dev/null || true; }

# a process whose command line holds marker, on the node
marker_alive() {
	local f
	for f in /proc/[0-9]*/cmdline; do
		[[ $(tr '\0' ' ' <"$f" 2>/dev/null) == *"$1"* ]] && return 0
	done
	return 1
}

no_marker() { ! marker_alive "$1"; }

test_cves() {
	local v=$1 fs out ra_before sum_before layer_sum dev d
	ra_before=$(release_agents)
	dev=$(host_blockdev)
	# shellcheck disable=SC2046
	out=$(run $(variant_flags "$v") -- sh -c "
		attack cgroup1 /tmp/cg; attack cgroup1 /out/cg
		for d in /tmp /out /dev; do attack blockdev \$d/blk $dev; done
		attack module /bin/busybox
		attack shocker" 2>&1)
	printf '  attacks said: %s\n' "$out" >&2
	check "cve[$v]: no cgroup v1 hierarchy can be mounted (CVE-2022-0492)" lacks "$out" "cgroup1 /tmp/cg ok"
	check "cve[$v]: ... on /out either" lacks "$out" "cgroup1 /out/cg ok"
	check "cve[$v]: ... nor its release_agent written" lacks "$out" "release_agent"
	check "cve[$v]: the node's release_agents are unchanged" equals "$(release_agents)" "$ra_before"
	for d in /tmp /out /dev; do
		check "cve[$v]: the node's disk ($dev) cannot be read through a node made in $d" lacks "$out" \
			"readblk $d/blk ok"
	done
	check "cve[$v]: finit_module refused" lacks "$out" "finit_module /bin/busybox ok"
	check "cve[$v]: init_module refused" lacks "$out" "init_module /bin/busybox ok"
	check "cve[$v]: ... (tried)" contains "$out" "init_module /bin/busybox E"
	check "cve[$v]: open_by_handle_at refused (shocker)" lacks "$out" "open_by_handle_at / ok"
	check "cve[$v]: ... (tried)" contains "$out" "open_by_handle_at / E"
	# CVE-2019-5736: the executor's binary (the supervisor's /proc/<pid>/exe)
	# or the command's own opened for writing; ReadWrite too (no Landlock)
	sum_before=$(sha256sum <"$capsule_bin")
	layer_sum=$(sha256sum <"$layer/bin/busybox")
	for fs in ro rw; do
		# shellcheck disable=SC2046
		out=$(run --target-fs "$fs" $(variant_flags "$v") -- sh -c '
			attack openw /proc/self/exe
			for p in /proc/[0-9]*; do
				[ "$(cat $p/comm 2>/dev/null)" = capsule-init ] && attack openw $p/exe && echo found-sup
			done' 2>&1)
		printf '  attacks said: %s\n' "$out" >&2
		check "cve[$v, $fs]: /proc/self/exe cannot be opened for writing" lacks "$out" "openw /proc/self/exe ok"
		check "cve[$v, $fs]: the supervisor is in view" contains "$out" "found-sup"
		check "cve[$v, $fs]: its /proc/<pid>/exe cannot be opened for writing" lacks "$out" "/exe ok"
	done
	check "cve[$v]: the node's capsule binary is unchanged" equals "$(sha256sum <"$capsule_bin")" "$sum_before"
	check "cve[$v]: the capsule layer's binary is unchanged" equals "$(sha256sum <"$layer/bin/busybox")" "$layer_sum"
	# a daemon: double fork, setsid, SIGTERM and SIGHUP ignored
	for join in pid ""; do
		# shellcheck disable=SC2046
		out=$(run --join "$join" $(variant_flags "$v") -- sh -c \
			"(setsid sh -c 'trap \"\" TERM HUP; exec sleep 7$$' </dev/null >/dev/null 2>&1 &); sleep 0.2; echo forked" 2>&1)
		check "cve[$v, join '$join']: the daemon was started" contains "$out" forked
		check "cve[$v, join '$join']: no process of it survives the run" no_marker "sleep 7$$"
		check "cve[$v, join '$join']: the run's cgroup is gone" test -z \
			"$(find /sys/fs/cgroup/*/"$cgp" -mindepth 1 -maxdepth 1 -type d 2>/dev/null)"
	done
}

# Attack 9: the 2025 runc mount CVEs (masked paths' /dev/null and
# /dev/console swapped for symlinks, so the runtime binds a /proc file of
# the attacker's choice writable into the container). The image ships
# /dev/null, /dev/console and /dev/ptmx as symlinks to core_pattern and
# sysrq-trigger; in other images a mount point itself (/dev, /proc, /sys,
# /out, /target, /tmp) is a symlink out of the root. The executor's /dev is
# a fresh tmpfs of its own, and a mount point that is not a directory in the
# image is refused before anything is mounted there.
make_symlink_layers() {
	mkdir -p "$tmp/devlayer/dev"
	ln -sf /proc/sys/kernel/core_pattern "$tmp/devlayer/dev/null"
	ln -sf /proc/sysrq-trigger "$tmp/devlayer/dev/console"
	ln -sf /proc/sys/kernel/core_pattern "$tmp/devlayer/dev/ptmx"
	local m
	for m in dev proc sys out target tmp; do
		mkdir -p "$tmp/mp-$m"
		ln -sfn "/$tmp/canary-dir" "$tmp/mp-$m/$m"
	done
	mkdir -p "$tmp/canary-dir"
}

test_symlinks() {
	local v=$1 before after out m
	before=$(cat /proc/sys/kernel/core_pattern)
	# shellcheck disable=SC2046
	out=$(capsule run --target "$cid" --rootfs-layers "$layer:$tmp/devlayer" $(variant_flags "$v") -- sh -c '
		for d in null console ptmx; do
			[ -L /dev/$d ] && echo "link /dev/$d -> $(readlink /dev/$d)"
		done
		stat -c "null %F %t:%T" /dev/null
		echo core.recap-escape-'$$' >/dev/null && echo wrote-null
		echo core.recap-escape-'$$' >/dev/ptmx 2>/dev/null && echo wrote-ptmx
		echo c >/dev/console 2>/dev/null && echo wrote-console
		true' 2>&1)
	after=$(cat /proc/sys/kernel/core_pattern)
	[[ $after == "$before" ]] || echo "$before" >/proc/sys/kernel/core_pattern
	check "symlinks[$v]: the image's /dev symlinks are not in the capsule's /dev" lacks "$out" "-> /proc"
	check "symlinks[$v]: ... its /dev/ptmx is the executor's link to its own devpts" contains "$out" \
		"link /dev/ptmx -> pts/ptmx"
	check "symlinks[$v]: /dev/null is the null device" contains "$out" "null character special file 1:3"
	check "symlinks[$v]: ... and writable as such" contains "$out" "wrote-null"
	check "symlinks[$v]: the host's core_pattern is unchanged" equals "$after" "$before"
	for m in dev proc sys out target tmp; do
		# shellcheck disable=SC2046
		out=$(capsule run --target "$cid" --rootfs-layers "$layer:$tmp/mp-$m" $(variant_flags "$v") -- sh -c 'echo ran' 2>&1 || true)
		check "symlinks[$v]: an image whose /$m is a symlink is refused" contains "$out" \
			"/$m in the capsule image is not a directory"
		check "symlinks[$v]: ... before its command ran" lacks "$out" "ran"
		check "symlinks[$v]: ... and nothing was mounted at the symlink's target" test -z \
			"$(grep -F "$tmp/canary-dir" /proc/self/mountinfo)"
		check "symlinks[$v]: ... nor made in it" test -z "$(ls -A "$tmp/canary-dir")"
	done
}

# Attack 6: /out, the artifacts that stay on the node. During the run /out
# is a tmpfs of outSize (64Mi by default), nosuid, nodev, noexec; at the end
# only its regular files and directories are copied to out/<id>, without
# setuid, setgid or execute bits. A setuid-root binary, a device node of the
# node's disk, a FIFO and symlinks out are made there; a file is executed
# from it; it is filled past its size, and a sparse file larger than it made.
json_field() { python3 -c 'import json,sys; print(json.loads(sys.stdin.read()).get(sys.argv[1], ""))' "$1"; }

out_attack() { # run id, variant -> the run's JSON result
	local dev
	dev=$(host_blockdev)
	# shellcheck disable=SC2046
	run -o json --id "$1" $(variant_flags "$2") -- sh -c "
		mkdir -p /out/sub/deeper && echo payload-$2 >/out/sub/deeper/file.txt
		cp /bin/busybox /out/busybox
		cp /bin/busybox /out/suid && chmod 6755 /out/suid
		attack blockdev /out/blk $dev
		ln -s /etc/passwd /out/link; ln -s $tmp /out/hostlink; mkfifo /out/fifo
		attack exec /out/busybox true" 2>/dev/null || true
}

test_out() {
	local v=$1 out dir tail
	dir=$root/out/out-$v-$$
	out=$(out_attack "out-$v-$$" "$v")
	tail=$(json_field stdout <<<"$out")
	check "out[$v]: the run completes" equals "$(json_field reason <<<"$out")" Completed
	check "out[$v]: a file cannot be executed from /out (noexec)" contains "$tail" "exec /out/busybox EACCES"
	check "out[$v]: a file written to /out arrives intact in out/<id>" equals \
		"$(cat "$dir/sub/deeper/file.txt" 2>&1)" "payload-$v"
	check "out[$v]: ... a binary too" equals "$(sha256sum <"$dir/busybox")" "$(sha256sum <"$layer/bin/busybox")"
	check "out[$v]: the setuid-root file is not setuid on the node" test -f "$dir/suid" -a ! -u "$dir/suid"
	check "out[$v]: ... nor setgid" test ! -g "$dir/suid"
	check "out[$v]: ... nor executable" equals "$(stat -c %a "$dir/suid")" 644
	check "out[$v]: no device node of the node's disk in out/<id>" test ! -e "$dir/blk" -a ! -b "$dir/blk"
	check "out[$v]: no symlink in out/<id>" test ! -L "$dir/link" -a ! -L "$dir/hostlink"
	check "out[$v]: no FIFO in out/<id>" test ! -e "$dir/fifo"
	check "out[$v]: the result counts what was not kept" test "$(json_field outSkipped <<<"$out")" -ge 2
	# past the limit: ENOSPC inside, the run completes, the node's disk holds
	# at most the limit (a sparse file larger than it is not copied)
	dir=$root/out/full-$v-$$
	# shellcheck disable=SC2046
	out=$(run -o json --id "full-$v-$$" $(variant_flags "$v") -- sh -c \
		'attack fill /out/big; truncate -s 1G /out/sparse; echo after-fill' 2>/dev/null) || true
	tail=$(json_field stdout <<<"$out")
	check "out[$v]: writing past /out's limit fails with ENOSPC" contains "$tail" "fill /out/big ENOSPC"
	check "out[$v]: ... and the run goes on and completes" contains "$tail" after-fill
	check "out[$v]: ... (Completed)" equals "$(json_field reason <<<"$out")" Completed
	check "out[$v]: out/<id> holds at most the limit (64Mi)" test \
		"$(find "$dir" -type f -printf '%s\n' | awk '{ n += $1 } END { print n + 0 }')" -le $((64 << 20))
	check "out[$v]: ... and the filled file, up to it" test -s "$dir/big"
	check "out[$v]: the sparse file past the limit is not copied" test ! -e "$dir/sparse"
	check "out[$v]: ... and the result says so" contains "$(json_field message <<<"$out")" "outSize"
	# an empty /out leaves no out/<id>
	run --id "empty-$v-$$" -- true
	check "out[$v]: an empty /out leaves no out/<id>" test ! -e "$root/out/empty-$v-$$"
}

# Attack 7: a fork bomb in a run that sets no limit. The run's cgroup holds
# the default pids limit (1024, docs/executor-spec.md): fork fails with
# EAGAIN inside, the node keeps forking, the run ends and escapes.
test_forkbomb() {
	local v=$1 out forked
	# shellcheck disable=SC2046
	out=$(run $(variant_flags "$v") -- attack forkbomb 4096 2>&1)
	forked=$(sed -n 's/^forked //p' <<<"$out")
	check "forkbomb[$v]: fork fails inside the capsule with EAGAIN" contains "$out" "forkbomb 4096 EAGAIN"
	check "forkbomb[$v]: ... below the default of 1024 processes" test "${forked:-9999}" -lt 1024
	check "forkbomb[$v]: the node still forks" bash -c true
	check "forkbomb[$v]: the target survives" test -d "/proc/$tpid"
	check "forkbomb[$v]: the run's cgroup is gone" test -z \
		"$(find /sys/fs/cgroup/*/"$cgp" -mindepth 1 -maxdepth 1 -type d 2>/dev/null)"
}

# Attack 8: a target process pins the run's mount namespace by opening
# /proc/<tool pid>/ns/mnt during the run and keeping it after. With the
# default capabilities the tool holds capabilities the target lacks, so the
# ptrace access check refuses the target; a tool with none (--cap-drop ALL)
# is dumpable again after its execve and the target gets the namespace
# (the kernel's rule, not prevented). The defence: escape detaches the
# namespace's whole tree, so what the target holds is empty. The tool
# writes into its root's tmpfs and into /out first, so a namespace that was
# not emptied still shows the capsule's files.
ns_pin() { # cap flags... -> prints "refused", "pinned-empty" or "pinned-full"
	local hostpid="" nspid pinpid="" i
	capsule run --target "$wcid" --rootfs-layers "$layer" "$@" -- \
		sh -c "echo x >/tmp/pin-mark && echo x >/out/pin-mark && exec sleep 3.$$" \
		>/dev/null 2>&1 &
	local runpid=$!
	for i in $(seq 100); do
		hostpid=$(pgrep -f "^sleep 3\.$$\$" -n 2>/dev/null) && break
		sleep 0.05
	done
	nspid=$(awk '/^NSpid:/ {print $NF}' "/proc/$hostpid/status")
	rm -f "$tmp/pin.pid"
	runc exec -d --pid-file "$tmp/pin.pid" "$wcid" /bin/busybox sh -c \
		"exec 4</proc/$nspid/ns/mnt && exec /sleeper" >/dev/null 2>&1 || true
	wait "$runpid"
	[[ -s $tmp/pin.pid ]] && pinpid=$(cat "$tmp/pin.pid")
	sleep 0.2
	if [[ -n $pinpid ]] && readlink "/proc/$pinpid/fd/4" 2>/dev/null | grep -q '^mnt:'; then
		# what the held namespace still shows: the capsule's busybox and
		# the marks, or nothing
		if nsenter --mount="/proc/$pinpid/fd/4" /bin/busybox test -e /tmp/pin-mark \
			>/dev/null 2>&1; then
			echo pinned-full
		else
			echo pinned-empty
		fi
	else
		echo refused
	fi
	[[ -n $pinpid ]] && kill -9 "$pinpid" 2>/dev/null
	return 0
}

test_ns_pin() {
	check "nspin: with the default capabilities the target cannot open the tool's mount namespace" \
		equals "$(ns_pin)" refused
	check "nspin: a tool with no capabilities is pinned by the target, but what it holds is empty" \
		equals "$(ns_pin --cap-drop ALL)" pinned-empty
	check "nspin: the run's cgroup is gone all the same" test -z \
		"$(find /sys/fs/cgroup/*/"$cgp" -mindepth 1 -maxdepth 1 -type d 2>/dev/null)"
}

make_layer
make_symlink_layers
mkdir -p "$tmp/wdlayer" && ln -s ../../../../../../target/data "$tmp/wdlayer/up"
make_target
make_wtarget
# a failing command is a failed check, not the end of the script
set +e
for variant in "${variants[@]}"; do
	test_proc "$variant"
	test_workdir "$variant"
	test_namespaces "$variant"
	test_readonly "$variant"
	test_cves "$variant"
	test_forkbomb "$variant"
	test_out "$variant"
	test_symlinks "$variant"
done
test_ns_pin
check "no run directory left" test -z "$(ls "$root/runs" 2>/dev/null | grep -v '^\.spare-')"
check "no run cgroup left" test -z "$(find /sys/fs/cgroup/*/"$cgp" -mindepth 1 -maxdepth 1 -type d 2>/dev/null)"
check "no mount of the store in the host namespace" bash -c "! grep -q '$root' /proc/self/mountinfo"
check "the target still runs" test -d "/proc/$tpid"
check "the writable target still runs" test -d "/proc/$wtpid"

if ((failures)); then
	echo "$failures check(s) failed" >&2
	exit 1
fi
echo "all checks passed"
