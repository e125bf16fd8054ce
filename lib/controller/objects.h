/* The objects the controller creates, built as pure functions. */
#pragma once

#include <jansson.h>
#include <stdint.h>
#include <time.h>

#include "api/names.h"
#include "controller/causes.h"
#include "sched/strategy.h"

/* The fields of a Capsule spec an execution carries (spec.capsule): every
 * field of a profile (recap_api_profile_fields, from the schema) but those
 * that hold a default it need not store (api/profile.h); a role's command
 * replaces the Capsule's and `extra_env` (RECAP_ROLE_*_IPS, may be NULL) is
 * appended to env. */
json_t *recap_controller_exec_profile(json_t *capsule_spec, const char *role, json_t *extra_env);

/* A CapsuleExecution for one planned target of `run`: deterministic name,
 * labels recap.dev/run, recap.dev/node, recap.dev/capsule (and role), an
 * ownerReference to the run (controller, blockOwnerDeletion). Label values
 * longer than 63 characters are left out (spec.node always has the node). */
json_t *recap_controller_exec_build(json_t *run, json_t *capsule_spec, const struct recap_target *t,
				    const struct recap_plan_item *item);

/* Time an execution has, beyond the command's timeoutSeconds, to get
 * started on its node (image pull, a free slot under maxConcurrentPerNode),
 * unless the controller is told otherwise. */
#define RECAP_EXEC_START_GRACE_S 600

/* Sets exec's spec.deadline to now + spec.capsule.timeoutSeconds (its
 * schema default when absent) + grace_s: the node agent never starts the
 * command after it and kills a command still running at it
 * (DeadlineExceeded). now: when the execution is created. */
int recap_controller_exec_set_deadline(json_t *exec, time_t now, int64_t grace_s);

/* A Periodic CapsuleRun of `capsule` for scheduled time `scheduled`, owned
 * by the Capsule. */
json_t *recap_controller_periodic_run_build(json_t *capsule, const char *name, int64_t scheduled);

/* The CapsuleRun a trigger's cause fires: named c->run_name, owned by the
 * Capsule, one target (the cause's pod), trigger and spec.cause from c. */
json_t *recap_controller_triggered_run_build(json_t *capsule, const struct recap_controller_cause *c);
