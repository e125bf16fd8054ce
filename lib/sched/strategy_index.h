/* A run's targets joined with their executions and roles. Internal. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "sched/strategy.h"

#define ROLES_MAX 64
#define UNDISPATCHED (-1)
/* dispatch[] of a target whose execution name is another target's (a hash
 * collision): never run, counted failed (RECAP_REASON_EXECUTION_NAME_COLLISION) */
#define NAME_COLLISION (-2)

struct run_index {
	size_t n;
	size_t *order;	/* target indexes in the stable order (the strategy's) */
	size_t *by_key; /* target indexes by (pod, container) */
	long *exec;	/* per target: index into execs, -1 when none */
	int *role;	/* per target: index into roles, -1 without roles */
	/* per target without an execution: recorded as dispatched, and what
	 * became of it; UNDISPATCHED when not recorded; NAME_COLLISION */
	int *dispatch;
	/* dispatched ids that match no target (the pod is gone and the cache
	 * shows no execution): lost ones count as failed targets, in-flight
	 * ones as pending targets */
	size_t n_orphans_lost, n_orphans_in_flight;
	char orphans[RECAP_STRATEGY_FAILURES_MAX][RECAP_NAME_MAX + 1]; /* the first lost ones */
	/* per role */
	size_t role_targets[ROLES_MAX], role_ready[ROLES_MAX];
	bool role_failed[ROLES_MAX], role_dead[ROLES_MAX];
};

int recap_sched_run_index(const struct recap_plan_input *in, struct run_index *ix, struct recap_error **err);
void recap_sched_run_index_free(struct run_index *ix);

bool recap_sched_exec_terminal(enum recap_exec_phase p);
/* A role's dependencies are all running, so its targets may start. */
bool recap_sched_role_startable(const struct recap_plan_input *in, const struct run_index *ix, int role);
/* A dependency of the role failed: its targets never start. */
bool recap_sched_role_blocked(const struct recap_plan_input *in, const struct run_index *ix, int role);
