/* Escape: remove every trace of a run and prove it. */
#pragma once

#include "base/error.h"
#include "runtime/cgroup.h"
#include "runtime/state.h"

/* Kills every process in the run's cgroup, unmounts whatever of the run is
 * visible in the caller's mount namespace (normally nothing: the run's
 * mounts live in its own namespace), deletes upper/work/rootfs without
 * following symlinks, removes the cgroup, then verifies that no mount,
 * process, cgroup or file of the run is left and removes the state. 0 means
 * verified escaped; the artifacts in out/<id> are kept. */
int recap_escape(const struct recap_run_paths *p, const struct recap_cgroup *cg, struct recap_error **err);

/* Number of mounts at or below dir in the caller's mount namespace. */
int recap_mounts_count_under(const char *dir);
