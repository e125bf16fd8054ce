/* Parallel and Iterative planning of a CapsuleRun, and its status, as pure
 * functions of the run's targets and its existing CapsuleExecutions.
 *
 * The controller calls recap_strategy_plan() on every reconcile of a run,
 * creates the executions it lists (an AlreadyExists answer means a previous
 * pass created it), and writes recap_strategy_aggregate()'s summary to the
 * run's status. Nothing here remembers anything between calls: after a
 * restart the same inputs give the same plan, and execution names are
 * deterministic, so no target runs twice in one run (at most once).
 */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/error.h"
#include "sched/names.h"

#define RECAP_STRATEGY_TARGETS_MAX 100000
#define RECAP_STRATEGY_BATCH_DEFAULT 50
#define RECAP_STRATEGY_FAILURES_MAX 10
/* Longest value of one RECAP_ROLE_<ROLE>_IPS variable. */
#define RECAP_STRATEGY_ROLE_ENV_MAX 32768

enum recap_exec_phase {
	RECAP_EXEC_PENDING,
	RECAP_EXEC_PULLING,
	RECAP_EXEC_ATTACHING,
	RECAP_EXEC_RUNNING,
	RECAP_EXEC_ESCAPING,
	RECAP_EXEC_SUCCEEDED,
	RECAP_EXEC_FAILED,
};

enum recap_run_phase {
	RECAP_RUN_PENDING,
	RECAP_RUN_RUNNING,
	RECAP_RUN_SUCCEEDED,
	RECAP_RUN_FAILED,
	RECAP_RUN_PARTIALLY_FAILED,
	RECAP_RUN_CANCELLED,
};

/* status.phase of a CapsuleExecution; NULL or "" is Pending. */
int recap_strategy_exec_phase_parse(const char *s, enum recap_exec_phase *ret);
const char *recap_strategy_run_phase_name(enum recap_run_phase p);

/* One container to run in: a Running pod's container, resolved by the controller. */
struct recap_target {
	const char *pod, *ns, *uid, *node, *container, *container_id, *pod_ip;
	int64_t created;  /* the pod's creationTimestamp */
	json_t *labels;	  /* the pod's labels (not used for planning) */
	const char *role; /* role name, NULL when the Capsule has no roles */
};

struct recap_role {
	const char *name;
	const char *const *start_after; /* roles whose executions must all be running first */
	size_t n_start_after;
};

/* An existing CapsuleExecution of the run. */
struct recap_execution {
	const char *name, *pod, *container, *node;
	enum recap_exec_phase phase;
	const char *reason, *message; /* status.reason / status.message */
	int exit_code;		      /* -1 when none */
};

enum recap_strategy_type { RECAP_STRATEGY_PARALLEL, RECAP_STRATEGY_ITERATIVE };
enum recap_strategy_order { RECAP_ORDER_NAME, RECAP_ORDER_CREATION };
enum recap_failure_policy { RECAP_FAILURE_STOP, RECAP_FAILURE_CONTINUE };

struct recap_strategy {
	enum recap_strategy_type type;
	size_t max_concurrent; /* Iterative: executions in flight at once (0 = 1) */
	enum recap_strategy_order order;
	enum recap_failure_policy failure_policy;
	size_t batch_size; /* executions created per plan (0 = RECAP_STRATEGY_BATCH_DEFAULT) */
	const struct recap_role *roles;
	size_t n_roles;
};

/* Reads spec.strategy and spec.roles of a Capsule; the roles array (which
 * borrows strings from `spec`) is allocated: free(ret->roles) and each
 * role's start_after. Iterative defaults: maxConcurrent 1, order Name,
 * failurePolicy Stop. */
int recap_strategy_parse(json_t *spec, struct recap_strategy *ret, struct recap_error **err);
void recap_strategy_clear(struct recap_strategy *s);

struct recap_plan_input {
	const char *run;
	const struct recap_strategy *strategy;
	const struct recap_target *targets;
	size_t n_targets;
	const struct recap_execution *execs;
	size_t n_execs;
	bool cancel; /* spec.cancel: nothing new starts */
};

struct recap_plan_item {
	size_t target; /* index into input.targets */
	char name[RECAP_NAME_MAX + 1];
	json_t *env; /* [{name, value}] RECAP_ROLE_<ROLE>_IPS, NULL without roles */
};

struct recap_plan {
	struct recap_plan_item *create;
	size_t n_create;
	size_t waiting; /* targets that will get an execution later */
	size_t blocked; /* targets that never will (Stop, a failed startAfter role, cancel) */
};

int recap_strategy_plan(const struct recap_plan_input *in, struct recap_plan *ret, struct recap_error **err);
void recap_strategy_plan_clear(struct recap_plan *p);

struct recap_run_failure {
	const char *execution, *pod, *container, *node, *reason, *message;
	int exit_code;
};

struct recap_run_status {
	enum recap_run_phase phase;
	bool complete;	 /* nothing runs and nothing more will start */
	bool no_targets; /* the run had no target at all (phase Failed) */
	bool halted;	 /* Iterative with failurePolicy Stop stopped at a failure */
	size_t targets, pending, running, succeeded, failed, cancelled, skipped;
	struct recap_run_failure failures[RECAP_STRATEGY_FAILURES_MAX];
	size_t n_failures;
};

int recap_strategy_aggregate(const struct recap_plan_input *in, struct recap_run_status *ret,
			     struct recap_error **err);

/* "<run>-<10 hex digits of a hash of (run, pod, container)>", within 63. */
int recap_strategy_exec_name(const char *run, const char *pod, const char *container,
			     char out[RECAP_NAME_MAX + 1]);
/* "RECAP_ROLE_<ROLE>_IPS": upper case, every other non-alphanumeric as '_'. */
int recap_strategy_role_env_name(const char *role, char *out, size_t size);
