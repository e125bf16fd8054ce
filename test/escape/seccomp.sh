#!/usr/bin/env bash
# The capsule's system call filter, capabilities, supervisor and executor,
# attacked from inside capsules against a real runc target, as root. Each
# case runs with the default capabilities and once more with every capability
# a CapsulePolicy could grant: what is always refused must stay refused then. The host is checked
# afterwards. Everything is removed at the end, also on failure.
#
#   seccomp.sh CAPSULE SYS_PROBE SLEEPER
set -euo pipefail
# shellcheck source=hack/lib/errtrap.sh
. "$(dirname "${BASH_SOURCE[0]}")/../../hack/lib/errtrap.sh"
capsule_bin=$1 probe=$2 sleeper=$3

if ((EUID != 0)); then
	echo "SKIP: needs root (runc containers, namespaces, overlayfs, cgroups)"
	exit 77
fi
for tool in runc busybox python3 capsh; do
	command -v "$tool" >/dev/null || { echo "missing $tool (hack/deps installs it)" >&2; exit 1; }
done

# shellcheck source=test/escape/seccomp-lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/seccomp-lib.sh"

# Everything caplet holds and a policy can therefore grant (docs/security.md),
# plus what a node's own root could add: the filter must hold without them.
all_caps=SYS_ADMIN,SYS_PTRACE,NET_ADMIN,NET_RAW,SYS_CHROOT,SETPCAP,MKNOD,DAC_READ_SEARCH,SYS_MODULE
all_caps+=,SYS_BOOT,SYS_RAWIO,SYS_TIME,SYSLOG,BPF,PERFMON,SYS_PACCT,SYS_NICE,IPC_LOCK

# Refused with every capability: not namespaced, or an escape by design (the
# mount calls: with SYS_ADMIN an unmount lifts the masked /proc paths).
always=(mount umount2 pivot_root io_uring_setup io_uring_enter io_uring_register userfaultfd keyctl add_key request_key
	kexec_load kexec_file_load init_module finit_module delete_module open_by_handle_at
	name_to_handle_at swapon swapoff reboot acct iopl ioperm quotactl)
# Refused unless the capability that needs them was granted.
gated=(unshare_user unshare_mnt setns clone_newuser bpf perf_event_open
	ptrace process_vm_readv kcmp clock_settime syslog chroot)

expect_calls() { # label, capabilities granted (or ""), expected result of the gated calls
	local label=$1 caps=$2 want_gated=$3 out c r
	out=$(run ${caps:+--cap-add "$caps"} -- sys_probe calls 2>&1)
	for c in "${always[@]}"; do
		check "$label: $c refused (EPERM)" equals "$(result_of "$c" "$out")" EPERM
	done
	for c in "${gated[@]}"; do
		r=$(result_of "$c" "$out")
		if [[ $want_gated == EPERM ]]; then
			check "$label: $c refused without its capability" equals "$r" EPERM
		else
			check "$label: $c passes the filter with its capability" test -n "$r" -a "$r" != EPERM
		fi
	done
	if [[ $want_gated == EPERM ]]; then
		check "$label: clone3 gets ENOSYS (libc falls back to clone)" equals "$(result_of clone3 "$out")" ENOSYS
	fi
	check "$label: a call on no list gets ENOSYS (modify_ldt)" equals "$(result_of modify_ldt "$out")" ENOSYS
	check "$label: personality(READ_IMPLIES_EXEC) refused" lacks "$(result_of personality_read_implies_exec "$out")" ok
	check "$label: personality query allowed" equals "$(result_of personality_query "$out")" ok
}

test_allow_list() {
	expect_calls "default caps" "" EPERM
	expect_calls "all grantable caps" "$all_caps" pass
}

test_abi() {
	local out
	out=$(run --seccomp unconfined -- sys_probe abi)
	check "control: unconfined, an i386 int 0x80 call reaches the kernel" equals "$(result_of i386_getpid "$out")" ok
	local caps label
	for caps in "" "$all_caps"; do
		label=${caps:+all grantable caps}
		label=${label:-default caps}
		out=$(run ${caps:+--cap-add "$caps"} -- sys_probe abi)
		check "$label: i386 ABI refused" equals "$(result_of i386_getpid "$out")" EPERM
		check "$label: x32 ABI refused" contains " EPERM ENOSYS " " $(result_of x32_getpid "$out") "
	done
}

# status line NAME of /proc/PID/status (tabs and spaces squeezed)
status_field() { sed -n "s/^$2:[[:space:]]*//p" "/proc/$1/status"; }

test_command_caps() {
	local out
	out=$(run -- sys_probe caps)
	check "root: inheritable set empty" contains "$out" "CapInh:	0000000000000000"
	check "root: ambient set empty" contains "$out" "CapAmb:	0000000000000000"
	check "root: permitted = granted" contains "$out" "CapPrm:	00000000200004fb"
	check "root: effective = granted" contains "$out" "CapEff:	00000000200004fb"
	check "root: bounding = granted" contains "$out" "CapBnd:	00000000200004fb"
	out=$(run --cap-add SYS_PTRACE,NET_RAW -- sys_probe caps)
	check "root + SYS_PTRACE,NET_RAW: inheritable empty" contains "$out" "CapInh:	0000000000000000"
	check "root + SYS_PTRACE,NET_RAW: effective = granted" contains "$out" "CapEff:	00000000200824fb"
	out=$(run --user 0:5 -- sys_probe caps)
	check "root with a group: inheritable empty" contains "$out" "CapInh:	0000000000000000"
	check "root with a group: ambient empty" contains "$out" "CapAmb:	0000000000000000"
	out=$(run --user 1000:1000 --cap-add NET_RAW -- sys_probe caps)
	check "user 1000 + NET_RAW: effective = NET_RAW" contains "$out" "CapEff:	0000000000002000"
	check "user 1000 + NET_RAW: permitted = NET_RAW" contains "$out" "CapPrm:	0000000000002000"
	check "user 1000 + NET_RAW: ambient = NET_RAW (survives exec)" contains "$out" "CapAmb:	0000000000002000"
	check "user 1000 + NET_RAW: inheritable = NET_RAW only (ambient needs it)" \
		contains "$out" "CapInh:	0000000000002000"
	out=$(run --user 1000:1000 -- sys_probe caps)
	check "user 1000: nothing inheritable or ambient" \
		contains "$out" "CapInh:	0000000000000000"$'\n'"CapPrm:	0000000000000000"
}

wait_running() { # id: until its state says Running (at most 10 s)
	local i
	for ((i = 0; i < 200; i++)); do
		grep -q '"phase":"Running"' "$root/runs/$1/state" 2>/dev/null && return 0
		sleep 0.05
	done
	return 1
}

supervisor_pid() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["supervisorPid"])' "$root/runs/$1/state"; }

# The run's /out as the node sees it while the run lives: a tmpfs in the
# run's own mount namespace, reached through the supervisor's root (out/<id>
# on the store gets its files only at the end).
run_out() { echo "/proc/$(supervisor_pid "$1")/root/out"; }

# a run that waits for /out/go (run_out), started in the background; $! is its executor
start_waiting_run() { # id, run options...
	local id=$1
	shift
	"$capsule_bin" --root "$root" --cgroup-parent "$cgp" run --target "$cid" --rootfs-layers "$layer" --id "$id" \
		--timeout 60 "$@" -- sh -c 'sys_probe supervisor >/out/attack; while [ ! -e /out/go ]; do sleep 0.05; done' \
		>"$tmp/$id.out" 2>&1 &
}

test_supervisor() {
	local caps id sup out f
	for caps in "" SYS_PTRACE "$all_caps"; do
		id=sup-${#caps}
		start_waiting_run "$id" ${caps:+--cap-add "$caps"}
		local bg=$!
		if ! wait_running "$id"; then
			fail "supervisor ($id): the run never ran: $(cat "$tmp/$id.out")"
			kill "$bg"
			wait "$bg" || true
			continue
		fi
		sup=$(supervisor_pid "$id")
		check "supervisor ($id) is capsule-init" equals "$(cat "/proc/$sup/comm")" capsule-init
		for f in CapInh CapPrm CapEff CapBnd CapAmb; do
			check "supervisor ($id): $f empty" equals "$(status_field "$sup" "$f")" 0000000000000000
		done
		check "supervisor ($id): no_new_privs" equals "$(status_field "$sup" NoNewPrivs)" 1
		check "supervisor ($id): under a seccomp filter" equals "$(status_field "$sup" Seccomp)" 2
		for ((f = 0; f < 100; f++)); do [[ -s $(run_out "$id")/attack ]] && break; sleep 0.05; done
		out=$(cat "$(run_out "$id")/attack")
		check "supervisor ($id): found by the tool" lacks "$out" "supervisor 0"
		for f in ptrace_attach ptrace_seize process_vm_readv pidfd_open; do
			check "supervisor ($id, caps '${caps:-default}'): $f refused" \
				equals "$(result_of "$f" "$out")" EPERM
		done
		echo "  note: /proc/<supervisor>/mem opened read-write by the tool: $(result_of proc_mem_rw "$out");" \
			"with SYS_PTRACE it opens, and what it reaches holds no capability and runs under its own filter"
		touch "$(run_out "$id")/go"
		wait "$bg" || fail "supervisor ($id): the run failed: $(cat "$tmp/$id.out")"
	done
}

test_executor_dumpable() {
	# Without CAP_SYS_PTRACE on either side, only the dumpable flag keeps a
	# process of the same user and capabilities out of the executor.
	local id=dumpable bg out rc=0
	capsh --drop=cap_sys_ptrace -- -c "exec $capsule_bin --root $root --cgroup-parent $cgp run --target $cid \
		--rootfs-layers $layer --id $id --timeout 60 -- sh -c 'while [ ! -e /out/go ]; do sleep 0.05; done'" \
		>"$tmp/$id.out" 2>&1 &
	bg=$!
	if ! wait_running "$id"; then
		fail "executor: the run never ran: $(cat "$tmp/$id.out")"
		kill "$bg"
		wait "$bg" || true
		return
	fi
	# (environ is not a measure: this kernel lets any root peer read it)
	out=$(capsh --drop=cap_sys_ptrace -- -c "readlink /proc/$bg/cwd" 2>&1) || rc=$?
	check "executor is not dumpable: a peer without SYS_PTRACE cannot follow its cwd" test "$rc" -ne 0
	rc=0
	out=$(capsh --drop=cap_sys_ptrace -- -c "head -c0 /proc/$bg/fd/0" 2>&1) || rc=$?
	check "... nor open its fds" test "$rc" -ne 0
	rc=0
	out=$(capsh --drop=cap_sys_ptrace -- -c "readlink /proc/$bg/root" 2>&1) || rc=$?
	check "... nor follow its root" test "$rc" -ne 0
	touch "$(run_out "$id")/go"
	wait "$bg" || fail "executor: the run failed: $(cat "$tmp/$id.out")"
}

test_tools() { # ordinary tools keep working under the allow-list
	local out rc
	out=$(run -- sh -c 'top -b -n1 | head -3; free; echo x >/tmp/l; gzip /tmp/l && ls /tmp/l.gz; tar cf /tmp/t /bin/busybox && echo tar-ok')
	check "busybox top, free, gzip, tar" contains "$out" "tar-ok"
	out=$(run --cap-add NET_RAW -- ping -c1 -W2 127.0.0.1 2>&1) || true
	check "busybox ping with NET_RAW" contains "$out" "1 packets received"
	# connect until the listener is up (a loaded machine may take a while),
	# then wait for it to end with what it got
	out=$(run -- sh -c 'nc -l -p 5201 >/tmp/got & l=$!; i=0
		until echo payload | nc -w1 127.0.0.1 5201 2>/dev/null; do
			i=$((i + 1)); [ $i -lt 50 ] || break; sleep 0.1
		done; wait $l; cat /tmp/got')
	check "busybox nc over the target's loopback" contains "$out" "payload"
	local t
	for t in "${tools[@]}"; do
		case $t in
		ps)
			out=$(run -- ps -e -o pid,comm)
			check "ps (procps) lists the target's init" contains "$out" "1 sleeper"
			;;
		md5sum)
			out=$(run -- md5sum /target/data/hello.txt)
			check "md5sum of a target file" equals "${out%% *}" "$(md5sum <"$bundle/rootfs/data/hello.txt" | cut -d' ' -f1)"
			;;
		strace)
			out=$(run --cap-add SYS_PTRACE -- strace -f -e trace=write sh -c 'echo traced' 2>&1)
			check "strace -f of a child" contains "$out" "traced"
			# attaching to a target process is writing to it: ReadWrite only
			out=$(run --cap-add SYS_PTRACE --target-fs rw -- sh -c 'timeout 1 strace -p 1 2>&1; true')
			check "strace -p 1 attaches to the target's init" contains "$out" "Process 1 attached"
			out=$(run -- strace -f true 2>&1) || true
			check "strace without SYS_PTRACE is refused" contains "$out" "Operation not permitted"
			;;
		gdb)
			rc=0
			out=$(run --cap-add SYS_PTRACE --target-fs rw -- gdb -nx -batch -ex 'info proc' -p 1 2>&1) || rc=$?
			check "gdb attaches to the target's init" contains "$out" "process 1"
			;;
		esac
	done
	check "tools found on the host and tried: ${tools[*]}" test "${#tools[@]}" -ge 1
}

make_layer
make_target
set +e
before=$(host_fingerprint)
test_allow_list
test_abi
test_command_caps
test_supervisor
test_executor_dumpable
test_tools
after=$(host_fingerprint)
check "the target's mounts and files, the host's swap and modules are unchanged" equals "$after" "$before"
check "no run directory left" test -z "$(ls "$root/runs")"
check "no run cgroup left" test -z "$(find /sys/fs/cgroup/*/"$cgp" -mindepth 1 -maxdepth 1 -type d 2>/dev/null)"
check "no mount of the store in the host namespace" bash -c "! grep -q '$root' /proc/self/mountinfo"
check "the target still runs" test -d "/proc/$tpid"

if ((failures)); then
	echo "$failures check(s) failed" >&2
	exit 1
fi
echo "all checks passed"
