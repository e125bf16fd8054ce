/* The run's own cgroup: limits, process tracking, kill, OOM, removal.
 *
 * Works on cgroup v2, v1, and hybrid hosts (v1 controllers plus a v2 mount
 * without controllers): v2 tracks processes and kills (cgroup.kill, freeze)
 * wherever it is mounted; each limit goes to the hierarchy that has its
 * controller. Run cgroups are <mount>/<parent>/<id>, parent "recap" unless
 * the caller says otherwise (NULL). */
#define RECAP_CGROUP_PARENT "recap"
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "base/error.h"

#define RECAP_CGROUP_MAX_DIRS 6

struct recap_cgroup_limits {
	int64_t memory_bytes; /* 0: none */
	int64_t pids;
	int64_t cpu_millis;
};

struct recap_cgroup {
	char *dirs[RECAP_CGROUP_MAX_DIRS]; /* dirs[0] tracks the processes */
	size_t n;
	int v2;	    /* index of the v2 dir, -1 if none */
	int memory; /* index of the dir with the memory controller, -1 if none */
	int freezer;
	char parent[128];
};

/* A parent name: [A-Za-z0-9._-] components separated by '/', no "..". */
bool recap_cgroup_parent_valid(const char *parent);
int recap_cgroup_create(const char *parent, const char *id, const struct recap_cgroup_limits *l,
			struct recap_cgroup *ret, struct recap_error **err);
/* Rebuilds the handle of an existing run (for sweep): the dirs that exist. */
int recap_cgroup_open_existing(const char *parent, const char *id, struct recap_cgroup *ret);
/* Moves the caller, which must be single-threaded, into every dir of the
 * run (but the v2 one when skip_v2: it was born there). A v1 hierarchy gets
 * "0" in its `tasks` file: a thread that moves itself takes no global lock
 * on current kernels, where a process moved through `cgroup.procs` takes
 * cgroup_threadgroup_rwsem for writing and, unless another migration just
 * did, waits a whole RCU grace period (about 5 ms, off the CPU). An older
 * kernel takes the lock either way: the same move, slower. */
int recap_cgroup_enter_self(const struct recap_cgroup *cg, bool skip_v2, struct recap_error **err);
/* fork() straight into the run's v2 cgroup (clone3 CLONE_INTO_CGROUP): no
 * migration, which costs a synchronize_rcu. -ENOSYS where the kernel or the
 * host cannot; the caller then forks and enters. clone_flags are added
 * (CLONE_NEWPID: the child is the first process of a new PID namespace). */
pid_t recap_cgroup_fork(const struct recap_cgroup *cg, uint64_t clone_flags);
/* Pids in the run (as seen from the caller's pid namespace); count or -errno. */
int recap_cgroup_pids(const struct recap_cgroup *cg, pid_t *pids, size_t max);
/* Sends sig to every process but `spare` (0: none); frozen while it does. */
int recap_cgroup_signal(const struct recap_cgroup *cg, int sig, pid_t spare);
/* SIGKILL to every process, then waits up to timeout_ms for the cgroup to empty. */
int recap_cgroup_kill(const struct recap_cgroup *cg, unsigned timeout_ms);
bool recap_cgroup_oom_killed(const struct recap_cgroup *cg);
/* Removes every dir; -EBUSY while processes remain. */
int recap_cgroup_remove(const struct recap_cgroup *cg, struct recap_error **err);
/* 0 when no dir of the run exists any more. */
int recap_cgroup_verify_gone(const struct recap_cgroup *cg, struct recap_error **err);
void recap_cgroup_free(struct recap_cgroup *cg);

/* Writes value to dir/file; -errno. */
int recap_cgroup_write(const char *dir, const char *file, const char *value);
