/* A run's targets joined with their executions and roles. Internal. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "sched/strategy.h"

#define ROLES_MAX 64

struct run_index {
	size_t n;
	size_t *order;	/* target indexes in the stable order (the strategy's) */
	size_t *by_key; /* target indexes by (pod, container) */
	long *exec;	/* per target: index into execs, -1 when none */
	int *role;	/* per target: index into roles, -1 without roles */
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
