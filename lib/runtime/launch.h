/* Internal: how the executor starts the run's first child. */
#pragma once

#include <signal.h>

#include "runtime/cgroup.h"
#include "runtime/escape.h"
#include "runtime/exec.h"
#include "runtime/spec.h"
#include "runtime/target.h"

int recap_launch_argv(const struct recap_run_spec *s, struct recap_strv *ret);
int recap_launch_env(const struct recap_run_spec *s, struct recap_strv *ret);

struct recap_launch {
	const struct recap_run_spec *spec;
	const struct recap_run_paths *paths;
	const struct recap_target *target;
	const struct recap_cgroup *cgroup;
	struct recap_exec_ctx exec;
	sigset_t mask;	     /* restored in the child */
	bool born_in_cgroup; /* forked into the v2 cgroup already */
	int out_fd;	     /* the run's /out tmpfs (recap_out_make) */
};

/* The run's first process, born in the target's PID namespace (when it is
 * joined) and the run's cgroup: private mount namespace, the run's tmpfs,
 * overlay root, /target, /out, /dev, the other namespaces joined,
 * pivot_root; then it reports RECAP_SYNC_PID (or an error) on exec.sync_fd
 * and becomes the supervisor. Never returns. */
_Noreturn void recap_launch_child(const struct recap_launch *l);
