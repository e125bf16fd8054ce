/* Parallel and Iterative planning of a CapsuleRun, and its status, as pure
 * functions of the run's targets, its existing CapsuleExecutions and the
 * targets its status records as dispatched.
 *
 * The controller calls recap_strategy_plan() on every reconcile of a run,
 * records the planned executions in the run's status.dispatched
 * (recap_strategy_dispatched()), and only once that write succeeded creates
 * them; it writes recap_strategy_aggregate()'s summary to the same status.
 * Nothing here remembers anything between calls: the run's status is the
 * memory. A target recorded as dispatched is never planned again, whether
 * its execution exists, was deleted, or was never created because the
 * controller died between the two writes: such a target counts as failed
 * (reason ExecutionDeleted). So no target runs twice in one run (at most
 * once), and none stays pending forever.
 */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "api/names.h"
#include "base/error.h"
#include "sched/names.h"

#define RECAP_STRATEGY_TARGETS_MAX 100000
#define RECAP_STRATEGY_BATCH_DEFAULT 50
#define RECAP_STRATEGY_FAILURES_MAX 10
/* Longest value of one RECAP_ROLE_<ROLE>_IPS variable. */
#define RECAP_STRATEGY_ROLE_ENV_MAX 32768
/* status.dispatched holds, per dispatched target, the hash part of its
 * execution's name: "<run>-<id>". */
#define RECAP_STRATEGY_DISPATCH_ID_LEN RECAP_NAME_HASH_LEN
/* The failure recorded for a target whose execution went away unfinished
 * (reason RECAP_REASON_EXECUTION_DELETED). */
#define RECAP_STRATEGY_DELETED_MESSAGE                                                                       \
	"execution deleted before it finished (or its create never happened); the target is not run again"

/* The failure recorded for a target whose execution name (a hash of run,
 * pod and container) is another target's of the same run (reason
 * RECAP_REASON_EXECUTION_NAME_COLLISION). */
#define RECAP_STRATEGY_COLLISION_MESSAGE                                                                     \
	"its execution's name is another target's of this run (a hash collision, about one in 2^40 pairs); " \
	"the target is not run"

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
	bool deleting;		      /* metadata.deletionTimestamp is set */
};

/* What the controller knows of a dispatched target's execution that its
 * cache does not show. */
enum recap_dispatch_state {
	RECAP_DISPATCH_LOST,	  /* deleted, or never created: counted failed, never again */
	RECAP_DISPATCH_IN_FLIGHT, /* created (or being created), not seen yet */
	RECAP_DISPATCH_RETRY,	  /* the API server refused the create: nothing exists */
};
typedef enum recap_dispatch_state (*recap_dispatch_fn)(const char *execution, void *ctx);

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
	bool cancel;   /* spec.cancel: nothing new starts */
	bool deleting; /* the run's metadata.deletionTimestamp is set: nothing new starts */
	/* status.dispatched: ids (RECAP_STRATEGY_DISPATCH_ID_LEN hex digits) of
	 * the executions this run created or was about to create. */
	const char *const *dispatched;
	size_t n_dispatched;
	/* For a dispatched target without an execution; NULL: always LOST. */
	recap_dispatch_fn unseen;
	void *unseen_ctx;
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
	size_t blocked; /* targets that never will (Stop, a failed startAfter role, cancel, deletion) */
	size_t lost;	/* dispatched targets whose execution is gone: never again */
};

int recap_strategy_plan(const struct recap_plan_input *in, struct recap_plan *ret, struct recap_error **err);
void recap_strategy_plan_clear(struct recap_plan *p);

struct recap_run_failure {
	char execution[RECAP_NAME_MAX + 1];
	const char *pod, *container, *node, *reason, *message;
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

/* The run's next status.dispatched: in->dispatched, the existing executions
 * and the plan's creates, sorted, each once (a JSON array of ids). More
 * than RECAP_STRATEGY_TARGETS_MAX is an error. */
int recap_strategy_dispatched(const struct recap_plan_input *in, const struct recap_plan *plan, json_t **ret,
			      struct recap_error **err);
/* "<run>-<id>": the execution name an id of status.dispatched stands for. */
int recap_strategy_exec_name_of_id(const char *run, const char *id, char out[RECAP_NAME_MAX + 1]);
/* The id of an execution name ("<run>-<id>"), or NULL when it has none. */
const char *recap_strategy_dispatch_id(const char *execution);

/* "<run>-<10 hex digits of a hash of (run, pod, container)>", within 63. */
int recap_strategy_exec_name(const char *run, const char *pod, const char *container,
			     char out[RECAP_NAME_MAX + 1]);
/* "RECAP_ROLE_<ROLE>_IPS": upper case, every other non-alphanumeric as '_'. */
int recap_strategy_role_env_name(const char *role, char *out, size_t size);
