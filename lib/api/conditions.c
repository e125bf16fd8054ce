/* Conditions: one per type, lastTransitionTime kept while the status stays. */
#include "api/conditions.h"

#include <stdio.h>
#include <string.h>

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
