/* Pure helpers for status writes: conditions and minimal patches. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "api/types.h"

/* A copy of the conditions array `conds` (NULL: none) with condition
 * `type` set. lastTransitionTime stays as it was unless the status flips
 * (or the condition is new): then it is `now`. */
json_t *recap_controller_condition_set(json_t *conds, const char *type, const char *status,
				       const char *reason, const char *message, int64_t generation,
				       time_t now);
/* A condition's status: "True" when b, else "False". */
static inline const char *recap_controller_condition_status(bool b)
{
	return recap_api_condition_status_names[b ? RECAP_API_CONDITION_STATUS_TRUE
						  : RECAP_API_CONDITION_STATUS_FALSE];
}
/* The condition of that type in conds, or NULL (borrowed). */
json_t *recap_controller_condition_get(json_t *conds, const char *type);

/* {"status": new} as a JSON merge patch over old: keys of old that new
 * lacks become null. NULL when old and new are equal: nothing to write. */
json_t *recap_controller_status_patch(json_t *old_status, json_t *new_status);

/* metav1.Time text for t; "" on failure (never for real times). */
void recap_controller_time(time_t t, char out[32]);
