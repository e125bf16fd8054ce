/* Conditions: one per type, lastTransitionTime kept while the status stays. */
#include "api/conditions.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "api/names.h"
#include "base/json.h"
#include "base/timeutil.h"

json_t *recap_api_condition_get(json_t *conds, const char *type)
{
	size_t i;
	json_t *c;
	json_array_foreach (conds, i, c) {
		const char *t = recap_api_condition_type(c);
		if (t && strcmp(t, type) == 0)
			return c;
	}
	return NULL;
}

static json_t *condition_new(const char *type, const char *status, const char *reason, const char *message,
			     int64_t generation, const char *when)
{
	/* reason must not be empty (schema); message may be. */
	return json_pack("{s:s, s:s, s:s, s:s, s:I, s:s}", RECAP_API_CONDITION_TYPE, type,
			 RECAP_API_CONDITION_STATUS, status, RECAP_API_CONDITION_REASON,
			 reason && *reason ? reason : "Unknown", RECAP_API_CONDITION_MESSAGE,
			 message ? message : "", RECAP_API_CONDITION_OBSERVED_GENERATION,
			 (json_int_t)generation, RECAP_API_CONDITION_LAST_TRANSITION_TIME, when);
}

json_t *recap_api_condition_set(json_t *conds, const char *type, const char *status, const char *reason,
				const char *message, int64_t generation, time_t now)
{
	json_t *out = json_array();
	if (!out)
		return NULL;
	char when[32];
	if (recap_time_format(now, when, sizeof(when)) < 0)
		when[0] = '\0';
	json_t *old = recap_api_condition_get(conds, type);
	const char *old_status = recap_json_str(old, RECAP_API_CONDITION_STATUS);
	const char *old_when = recap_api_condition_last_transition_time(old);
	if (old_status && old_when && strcmp(old_status, status) == 0)
		snprintf(when, sizeof(when), "%s", old_when);
	size_t i;
	json_t *c;
	bool placed = false;
	json_array_foreach (conds, i, c) {
		if (c == old) {
			json_array_append_new(out,
					      condition_new(type, status, reason, message, generation, when));
			placed = true;
		} else {
			json_array_append(out, c);
		}
	}
	if (!placed)
		json_array_append_new(out, condition_new(type, status, reason, message, generation, when));
	return out;
}

int recap_api_exec_phase_conditions(json_t *status, json_t *exec, time_t now)
{
	const char *phase = recap_json_str(status, "phase");
	if (!phase)
		return 0;
	bool failed = strcmp(phase, RECAP_PHASE_FAILED) == 0;
	bool ended = failed || strcmp(phase, RECAP_PHASE_SUCCEEDED) == 0;
	const char *reason = failed ? recap_json_str(status, "reason") : NULL;
	reason = reason && *reason ? reason : phase;
	const char *message = recap_json_str(status, "message");
	message = message && *message ? message : phase;
	int64_t gen = recap_api_meta_generation(exec);
	json_t *c1 =
	    recap_api_condition_set(recap_api_exec_status_conditions(exec), RECAP_CONDITION_RECONCILING,
				    recap_api_condition_status_of(!ended), reason, message, gen, now);
	json_t *c2 =
	    c1 ? recap_api_condition_set(c1, RECAP_CONDITION_STALLED, recap_api_condition_status_of(failed),
					 reason, message, gen, now)
	       : NULL;
	json_decref(c1);
	return c2 ? json_object_set_new(status, "conditions", c2) : -ENOMEM;
}
