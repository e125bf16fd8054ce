#!/usr/bin/env bash
# e2e: processes die at the worst moments, through the failpoints compiled
# into test builds (base/failpoint.h), and a node reboots. Each case is one
# run of a Capsule whose command appends a line to a file in its target
# (ReadWrite), read back from the host through the target's /proc/PID/root:
# a target's command started at most once is counted where it happens, not
# in the API. Every run must reach a final phase whose status agrees with
# that count, and nothing may be left on any node.
#   controller.after-create        the controller dies between creating an
#                                  execution and writing the run's status
#   controller.create-answer-lost  a create is stored but its answer lost: it
#                                  is sent again, and the target runs once
#   caplet.before-attaching-write  caplet dies with the execution claimed for
#                                  the pull, before it claims the start
#   caplet.after-attaching-write   caplet dies right after the start is claimed
#   caplet.attaching-answer-lost   the start's claim is stored but its answer
#                                  lost: caplet writes it again, reads its own
#                                  claim back and runs the target once
#   caplet.during-escape           caplet dies when the executor escapes
#   capsule.during-escape          the executor dies halfway through escaping
#   node reboot                    caplet, the executor and the capsule's
#                                  processes killed, their mounts and cgroups
#                                  gone, the node's store left
#   clock skew                     caplet 10 minutes ahead, the controller 10
#                                  minutes ahead, then behind
#   faults.sh CAPLET CAPSULE CONTROLLER SLEEPER SOURCE_ROOT
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
if RECAP_FAILPOINTS=probe=error "$2" 2>&1 | grep -q "no failpoints"; then
	echo "SKIP: this build has no failpoints (hack/test configures -Dfailpoints=true)"
	exit 77
fi
e2e_up "$@" node-1 node-2

ns_create faults
writable_targets faults
for i in 1 2; do pod_create faults "db-$i" "node-$i" db registry.local/db:1 app=db "slot=s$i"; done
check "the stand-in runs the 2 target pods" wait_until 30 pods_running faults 2

# case CASE SLOTS SECONDS: a Capsule and its run, both named CASE, over the
# pods of SLOTS ("1", "2" or "1 2"); the command marks /dev/shm/CASE in its
# target, then sleeps SECONDS.
case_start() {
	local name=$1 slots=$2 secs=$3
	kubectl apply -n faults -f - >/dev/null <<YAML
apiVersion: recap.dev/v1alpha1
kind: Capsule
metadata: {name: $name}
spec:
  image: $IMAGE
  command: [sh, -c, 'echo start >>/target/dev/shm/$name && sleep $secs']
  targetFilesystem: ReadWrite
  timeoutSeconds: 120
  targets:
    selector:
      matchExpressions: [{key: slot, operator: In, values: [$(echo "s$slots" | sed 's/ /, s/g')]}]
YAML
	run_create faults "$name" "$name"
}
# starts CASE SLOT: how many times CASE's command started in pod db-SLOT,
# read on the host from the target container's root.
starts() {
	local pid
	pid=$(target_pid faults "db-$2") && [[ -n $pid ]] || { echo "  no PID for the container of db-$2" >&2; return 1; }
	cat "/proc/$pid/root/dev/shm/$1" 2>/dev/null | wc -l
}
run_phase() { kubectl get caprun -n faults "$1" -o jsonpath='{.status.phase}' 2>/dev/null; }
run_final() { [[ $(run_phase "$1") =~ ^(Succeeded|Failed|PartiallyFailed)$ ]]; }
run_is() { [[ $(run_phase "$1") == "$2" ]]; }
# exec_field RUN SLOT JSONPATH: a field of RUN's execution on db-SLOT.
exec_field() {
	kubectl get cexec -n faults -l "recap.dev/run=$1" \
		-o jsonpath="{range .items[?(@.spec.target.pod==\"db-$2\")]}{$3}{end}" 2>/dev/null
}
exec_is() { [[ $(exec_field "$1" "$2" .status.phase) == "$3" ]]; }
# exec_phase_is RUN SLOT PHASE: as exec_is, and when it is not, the
# execution's reason and message are shown
exec_phase_is() {
	local got
	got=$(exec_field "$1" "$2" '.status.phase')
	[[ $got == "$3" ]] && return 0
	echo "  $1 on db-$2: expected phase $3, got '$got': $(exec_field "$1" "$2" '.status.reason'): $(exec_field "$1" "$2" '.status.message')" >&2
	return 1
}
# settled CASE SLOT STARTS PHASE [REASON]: the run is final, its execution
# on db-SLOT ended PHASE (for REASON), and the target shows STARTS starts.
settled() {
	local name=$1 slot=$2 want=$3 phase=$4 reason=${5:-}
	wait_or_say 60 run_final "$name" || { echo "  $name: phase $(run_phase "$name")" >&2; return 1; }
	exec_phase_is "$name" "$slot" "$phase" || return 1
	[[ -z $reason ]] || equals "$(exec_field "$name" "$slot" .status.reason)" "$reason" || return 1
	equals "$(starts "$name" "$slot")" "$want"
}
log_has() { grep -q "$2" "$T/$1.log"; }
# died PID: the process is gone (reaped).
died() { ! kill -0 "$1" 2>/dev/null; }
caplet_restart() { # NODE [FAILPOINTS]
	kill -TERM "${CAPLET_PID[$1]}" 2>/dev/null
	wait "${CAPLET_PID[$1]}" 2>/dev/null || true
	RECAP_FAILPOINTS=${2:-} caplet_start "$1"
	caplet_wait "$1"
}
# after_kill NODE: caplet of NODE died at its failpoint; a new one starts.
after_kill() {
	wait_until 60 died "${CAPLET_PID[$1]}" || return 1
	wait "${CAPLET_PID[$1]}" 2>/dev/null || true
	caplet_start "$1"
	caplet_wait "$1"
}

# ---- the controller dies between the creates and the run's status ---------
kill -TERM "$CONTROLLER_PID"
wait "$CONTROLLER_PID" 2>/dev/null || true
RECAP_FAILPOINTS=controller.after-create=kill@1 controller_start
case_start ctl-create "1 2" 1
check "controller.after-create: the controller dies at its first create" \
	wait_until 60 died "$CONTROLLER_PID"
wait "$CONTROLLER_PID" 2>/dev/null || true
controller_start
# Both creates are in flight at once: the kill comes when the first answers,
# which may be either's. A target whose create was not sent was recorded as
# dispatched, so it never runs and counts failed ExecutionDeleted.
once_or_never() { # SLOT
	if [[ -n $(exec_field ctl-create "$1" .metadata.name) ]]; then
		exec_phase_is ctl-create "$1" Succeeded && equals "$(starts ctl-create "$1")" 1
	else
		kubectl get caprun -n faults ctl-create -o jsonpath='{.status.failures[*].reason}' | grep -qw ExecutionDeleted &&
			equals "$(starts ctl-create "$1")" 0
	fi
}
created_ran() { # the create that answered made an execution that ran once
	wait_or_say 60 run_final ctl-create || return 1
	local s n=0
	for s in 1 2; do
		[[ -z $(exec_field ctl-create "$s" .metadata.name) ]] ||
			{ exec_phase_is ctl-create "$s" Succeeded && equals "$(starts ctl-create "$s")" 1 && n=$((n + 1)); } || return 1
	done
	((n >= 1)) || { echo "  neither target has an execution" >&2; return 1; }
}
check "after a restart the target whose create answered ran once" created_ran
check "  each target ran once, or never and counts failed ExecutionDeleted" eval 'once_or_never 1 && once_or_never 2'

# ---- a create stored whose answer is lost ----------------------------------
kill -TERM "$CONTROLLER_PID"
wait "$CONTROLLER_PID" 2>/dev/null || true
RECAP_FAILPOINTS=controller.create-answer-lost=error@1 controller_start
case_start answer-lost 1 1
check "controller.create-answer-lost: the create is sent again, the target runs once" \
	settled answer-lost 1 1 Succeeded
resent() { curl -s "http://$CONTROLLER_METRICS/metrics" | grep -q '^recap_controller_execution_creates_resent_total 1$'; }
check "  the controller counts one create sent again" resent
kill -TERM "$CONTROLLER_PID"
wait "$CONTROLLER_PID" 2>/dev/null || true
controller_start

# ---- caplet dies before it claims the start --------------------------------
caplet_restart node-1 caplet.before-attaching-write=kill
case_start before-attach 1 1
check "caplet.before-attaching-write: caplet dies" after_kill node-1
check "the new caplet runs it once (nothing had started)" settled before-attach 1 1 Succeeded

# ---- caplet dies right after it claimed the start --------------------------
caplet_restart node-2 caplet.after-attaching-write=kill
case_start after-attach 2 1
check "caplet.after-attaching-write: caplet dies" after_kill node-2
check "the execution fails NodeAgentRestarted, never started" \
	settled after-attach 2 0 Failed NodeAgentRestarted

# ---- the start's claim is stored, its answer lost ----------------------------
caplet_restart node-2 caplet.attaching-answer-lost=error@1
case_start answer-lost-claim 2 1
check "caplet.attaching-answer-lost: written again, its own claim read back, started once" \
	settled answer-lost-claim 2 1 Succeeded
check "  caplet said the write was retried" log_has caplet-node-2 "answer-lost-claim.*writing Attaching (retried): failpoint"
caplet_restart node-2

# ---- caplet dies while the executor escapes --------------------------------
# (the executor's escape made to last 3 s, so caplet sees it)
caplet_restart node-1 "caplet.during-escape=kill;capsule.during-escape=sleep:3000"
case_start agent-escape 1 1
check "caplet.during-escape: caplet dies" after_kill node-1
check "the execution ends NodeAgentRestarted, started once" \
	settled agent-escape 1 1 Failed NodeAgentRestarted

# ---- the executor dies halfway through its escape --------------------------
caplet_restart node-2 capsule.during-escape=kill
case_start executor-escape 2 1
check "capsule.during-escape: the executor dies mid-escape" \
	wait_until 60 log_has caplet-node-2 "failpoint capsule.during-escape: kill"
check "the execution fails (its run swept), started once" settled executor-escape 2 1 Failed
caplet_restart node-2

# ---- the node reboots mid-run ----------------------------------------------
case_start reboot 1 1888
check "the execution runs" wait_until 60 exec_is reboot 1 Running
kill -9 "${CAPLET_PID[node-1]}"
wait "${CAPLET_PID[node-1]}" 2>/dev/null || true
# every process of the node's runs (the executor, the capsule), then what a
# reboot takes with them: mounts and cgroups; the store on disk stays
pkill -9 -f -- "--root $T/node-node-1 " || true
for cg in $(find /sys/fs/cgroup -mindepth 2 -depth -type d -path "*/$CGP-node-1/*" 2>/dev/null); do
	xargs -r kill -9 <"$cg/cgroup.procs" 2>/dev/null || true
done
grep -oF " $T/node-node-1/" /proc/self/mountinfo >/dev/null &&
	awk -v d="$T/node-node-1/" 'index($5, d) == 1 {print $5}' /proc/self/mountinfo | sort -r |
	xargs -r -n1 umount -l
find /sys/fs/cgroup -mindepth 2 -depth -type d -path "*/$CGP-node-1/*" -exec rmdir {} + 2>/dev/null || true
caplet_start node-1
caplet_wait node-1
check "after the reboot the execution fails NodeAgentRestarted, started once" \
	settled reboot 1 1 Failed NodeAgentRestarted
sleep 2
check "  and is not started again" equals "$(starts reboot 1)" 1

# ---- clocks that are off ----------------------------------------------------
# libfaketime sets the process's wall clock (its monotonic one stays): both
# judge spec.deadline on the API server's clock, learnt from its answers'
# Date headers, so a node 10 minutes ahead still runs an execution whose
# deadline is 2 minutes away, and a controller 10 minutes ahead still writes
# a deadline 2 minutes from the API server's now.
FAKETIME_LIB=/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1
[[ -f $FAKETIME_LIB ]] || { echo "libfaketime is not installed (hack/deps installs it)" >&2; exit 1; }
AHEAD="env LD_PRELOAD=$FAKETIME_LIB FAKETIME=+10m FAKETIME_DONT_FAKE_MONOTONIC=1"
check "libfaketime moves a process's clock 10 minutes ahead" \
	test $(($($AHEAD date +%s) - $(date +%s))) -ge 590
# deadlines 2 minutes (and 5 s) away: by a clock 10 minutes ahead, long past
kill -TERM "${CAPLET_PID[node-1]}" "$CONTROLLER_PID"
wait "${CAPLET_PID[node-1]}" "$CONTROLLER_PID" 2>/dev/null || true
CONTROLLER_ARGS=(--execution-start-grace-seconds 5)
controller_start
E2E_WRAP=$AHEAD caplet_start node-1
caplet_wait node-1
case_start skew-node 1 1
check "a node 10 minutes ahead: the execution runs, once" settled skew-node 1 1 Succeeded
kill -TERM "${CAPLET_PID[node-1]}" "$CONTROLLER_PID"
wait "${CAPLET_PID[node-1]}" "$CONTROLLER_PID" 2>/dev/null || true
caplet_start node-1
caplet_wait node-1
E2E_WRAP=$AHEAD controller_start
CONTROLLER_ARGS=()
case_start skew-controller 1 1
check "a controller 10 minutes ahead: the execution runs, once" settled skew-controller 1 1 Succeeded
deadline_in() { # RUN: seconds from now (this host's clock) to its execution's spec.deadline
	python3 - "$(exec_field "$1" 1 .spec.deadline)" <<'PY'
import datetime, sys, time
d = datetime.datetime.strptime(sys.argv[1], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=datetime.timezone.utc)
print(int(d.timestamp() - time.time()))
PY
}
left=$(deadline_in skew-controller)
check "  its spec.deadline is on the API server's clock (${left}s away: 120 + 5 at most)" \
	test "$left" -le 125
# and 10 minutes behind: without the API server's clock, its deadlines
# would have passed 8 minutes before they were written
kill -TERM "$CONTROLLER_PID"
wait "$CONTROLLER_PID" 2>/dev/null || true
CONTROLLER_ARGS=(--execution-start-grace-seconds 5)
E2E_WRAP=${AHEAD/+10m/-10m} controller_start
CONTROLLER_ARGS=()
case_start skew-behind 1 1
check "a controller 10 minutes behind: the execution runs, once" settled skew-behind 1 1 Succeeded
left=$(deadline_in skew-behind)
check "  its spec.deadline is on the API server's clock (${left}s away: 120 + 5 at most, more than 60)" \
	test "$left" -le 125 -a "$left" -gt 60
kill -TERM "$CONTROLLER_PID"
wait "$CONTROLLER_PID" 2>/dev/null || true
controller_start

all_final() {
	local r
	for r in ctl-create before-attach after-attach agent-escape executor-escape reboot skew-node skew-controller skew-behind; do
		run_final "$r" || { echo "  $r: $(run_phase "$r")" >&2; return 1; }
	done
}
check "every run ended" all_final
check "nothing is left on any node" nodes_clean
finish
