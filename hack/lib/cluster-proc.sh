# shellcheck shell=bash
# Processes of hack/cluster. Each component runs as the leader of its own
# session (setsid), so it and anything it spawns can be found again by session
# id. Its pid file holds "PID STARTTIME": the start time (field 22 of
# /proc/PID/stat) tells our process from a later one that reused the pid.
# Sourced by hack/cluster.

# proc_stat PID: prints "STATE STARTTIME SID", fails when there is no such process.
proc_stat() {
	local stat rest
	read -r stat 2>/dev/null <"/proc/$1/stat" || return 1
	rest=${stat##*) } # the command name may hold spaces and parentheses
	# shellcheck disable=SC2086
	set -- $rest
	echo "$1 ${20} $4"
}

# proc_start PIDFILE LOG COMMAND...: starts COMMAND in a new session, detached
# from our stdin/stdout, and records it. Prints the pid.
proc_start() {
	local pidfile=$1 log=$2 pid st
	shift 2
	setsid "$@" </dev/null >>"$log" 2>&1 &
	pid=$!
	# A child of a non-interactive shell is no group leader, so setsid(1)
	# calls setsid(2) and execs in place: $! is the component itself.
	local state start
	st=$(proc_stat "$pid") || st="? 0 0"
	read -r state start _ <<<"$st"
	echo "$pid $start" >"$pidfile"
	echo "$pid"
}

# proc_members PIDFILE: the processes of that component's session (zombies
# too), none when the pid now belongs to someone else.
proc_members() {
	local pid start st state now
	[[ -f $1 ]] || return 0
	read -r pid start <"$1" || return 0
	[[ $pid =~ ^[0-9]+$ ]] || return 0
	if st=$(proc_stat "$pid"); then
		read -r state now _ <<<"$st"
		# A pid in use as a session id is never handed out again, so a
		# different start time means our session is gone entirely.
		[[ $now == "$start" ]] || return 0
	fi
	ps -e -o pid= -o sid= | awk -v s="$pid" '$2 == s { print $1 }'
}

proc_alive() { # PIDFILE
	local p
	for p in $(proc_members "$1"); do
		if proc_running "$p"; then return 0; fi
	done
	return 1
}

# proc_stop GRACE_SECONDS PIDFILE...: TERM every member of those sessions,
# KILL what is left after GRACE_SECONDS, and wait until all are gone.
proc_stop() {
	local grace=$1 f
	shift
	local pids=()
	for f in "$@"; do mapfile -t -O "${#pids[@]}" pids < <(proc_members "$f"); done
	((${#pids[@]})) || return 0
	kill -TERM "${pids[@]}" 2>/dev/null || true
	proc_wait_gone "$grace" "${pids[@]}" && return 0
	kill -KILL "${pids[@]}" 2>/dev/null || true
	proc_wait_gone 10 "${pids[@]}"
}

# proc_wait_gone SECONDS PID...: polls until none of PIDs runs.
proc_wait_gone() {
	local deadline=$(($(now_ms) + $1 * 1000)) p left
	shift
	while :; do
		left=0
		for p in "$@"; do
			if proc_running "$p"; then left=1; break; fi
		done
		((left)) || return 0
		(($(now_ms) < deadline)) || return 1
		sleep 0.02
	done
}

# proc_running PID: a zombie counts as gone (its parent reaps it; it holds no
# port and no file) once its last thread has exited: a killed multi-threaded
# process shows Z for its leader while the other threads still hold its files.
proc_running() {
	local st tasks
	st=$(proc_stat "$1") || return 1
	[[ $st == Z* ]] || return 0
	tasks=("/proc/$1/task/"*)
	((${#tasks[@]} > 1))
}

now_ms() {
	local t=${EPOCHREALTIME/./}
	echo $((10#$t / 1000))
}

# proc_leader_alive PIDFILE: whether the component itself still runs (cheap:
# reads /proc only).
proc_leader_alive() {
	local pid start st state now
	read -r pid start 2>/dev/null <"$1" || return 1
	st=$(proc_stat "$pid") || return 1
	read -r state now _ <<<"$st"
	[[ $state != Z* && $now == "$start" ]]
}
