/* Finding the target container's init process and holding it. */
#pragma once

#include <stdint.h>
#include <sys/types.h>

#include "base/error.h"

struct recap_target {
	pid_t pid;
	int pidfd;	     /* held against PID reuse */
	uint64_t start_time; /* /proc/<pid>/stat field 22 */
};

/* Pid of a container by its id: scans /proc/<pid>/cgroup under proc_root for
 * a path component equal to the id, possibly with a runtime prefix
 * (cri-containerd-, crio-, docker-, libpod-) and a .scope suffix; the oldest
 * such process is the container's init. -ESRCH when none. */
int recap_target_find_container(const char *proc_root, const char *id, pid_t *ret, struct recap_error **err);
/* True when the cgroup file text names the container id. */
int recap_target_cgroup_matches(const char *cgroup_text, const char *id);

/* A pid (all digits) or a container id -> pid + pidfd. -ESRCH: TargetNotFound. */
int recap_target_resolve(const char *target, struct recap_target *ret, struct recap_error **err);
/* The process pid, confirmed by the caller to be container id's init (the
 * CRI's answer), held by a pidfd and checked against id in its
 * /proc/<pid>/cgroup: -ESRCH when it is gone or its cgroup does not name
 * the container (a PID reused since). Nothing is scanned. */
int recap_target_resolve_pid(const char *id, pid_t pid, struct recap_target *ret, struct recap_error **err);
/* 0 while the target is the same live process, -ESRCH when it is gone. */
int recap_target_alive(const struct recap_target *t);
void recap_target_release(struct recap_target *t);

int recap_pidfd_open(pid_t pid);
/* Start time in clock ticks since boot, to tell a reused pid apart; -ESRCH
 * for a pid that is gone, a zombie included (it only waits to be reaped). */
int recap_pid_start_time(pid_t pid, uint64_t *ret);
