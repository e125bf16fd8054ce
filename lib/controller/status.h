/* Pure helpers for status writes: minimal patches, times (conditions:
 * api/conditions.h). */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "api/conditions.h"
#include "api/types.h"

/* {"status": new} as a JSON merge patch over old: keys of old that new
 * lacks become null. NULL when old and new are equal: nothing to write. */
json_t *recap_controller_status_patch(json_t *old_status, json_t *new_status);

/* metav1.Time text for t; "" on failure (never for real times). */
void recap_controller_time(time_t t, char out[32]);
