/* The executor's command lines (run, sweep, pull, cri-status): one builder,
 * bounded, so the global options are spelled once. */
#include <errno.h>

#include "caplet/agent.h"

void caplet_argv_executor(struct caplet_argv *a, struct recap_caplet *c, bool cgroup)
{
	a->n = 0;
	a->full = false;
	caplet_argv_add(a, c->o.capsule_bin);
	caplet_argv_add(a, "--root");
	caplet_argv_add(a, c->o.root);
	if (cgroup && c->o.cgroup_parent) {
		caplet_argv_add(a, "--cgroup-parent");
		caplet_argv_add(a, c->o.cgroup_parent);
	}
}

void caplet_argv_add(struct caplet_argv *a, const char *arg)
{
	if (a->n + 1 >= CAPLET_ARGV_MAX) {
		a->full = true;
		return;
	}
	a->v[a->n++] = arg;
	a->v[a->n] = NULL;
}

int caplet_argv_done(const struct caplet_argv *a, struct recap_error **err)
{
	return a->full ? recap_error_set(err, E2BIG, "the executor's command line is longer than %d words",
					 CAPLET_ARGV_MAX - 1)
		       : 0;
}
