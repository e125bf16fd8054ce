/* metav1.Condition lists (status.conditions of every kind): read one, set
 * one. Pure; shared by the controller and the node agent, which both write
 * conditions. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "api/types.h"

/* The condition of that type in conds, or NULL (borrowed). */
json_t *recap_api_condition_get(json_t *conds, const char *type);
/* A copy of the conditions array `conds` (NULL: none) with condition
 * `type` set. lastTransitionTime stays as it was unless the status flips
 * (or the condition is new): then it is `now`. An empty reason becomes
 * "Unknown" (the schema wants one). NULL when out of memory. */
json_t *recap_api_condition_set(json_t *conds, const char *type, const char *status, const char *reason,
				const char *message, int64_t generation, time_t now);
/* Adds to status (a CapsuleExecution's .status as a writer is about to
 * write it) the conditions its phase implies, over exec's current ones:
 * Reconciling True until the execution has ended, Stalled True once it
 * Failed (reason: status.reason), so GitOps tools (kstatus) read it as in
 * progress, failed or current. Nothing when status has no phase; -ENOMEM.
 * The node agent writes them with every status; the controller with the
 * status it writes for an execution whose node is lost. */
int recap_api_exec_phase_conditions(json_t *status, json_t *exec, time_t now);
/* A condition's status: "True" when b, else "False". */
static inline const char *recap_api_condition_status_of(bool b)
{
	return recap_api_condition_status_names[b ? RECAP_API_CONDITION_STATUS_TRUE
						  : RECAP_API_CONDITION_STATUS_FALSE];
}
