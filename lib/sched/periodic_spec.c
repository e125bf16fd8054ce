/* Capsule spec.schedule (JSON) to a recap_periodic_schedule. */
#include <errno.h>

#include "api/types.h"
#include "base/json.h"
#include "sched/periodic.h"

int recap_periodic_concurrency_parse(const char *s, enum recap_concurrency *ret, struct recap_error **err)
{
	switch (s && *s ? recap_api_enum_index(recap_api_concurrency_policy_names,
					       RECAP_API_CONCURRENCY_POLICY_COUNT, s)
			: RECAP_API_CONCURRENCY_POLICY_ALLOW) {
	case RECAP_API_CONCURRENCY_POLICY_ALLOW:
		*ret = RECAP_CONCURRENCY_ALLOW;
		return 0;
	case RECAP_API_CONCURRENCY_POLICY_FORBID:
		*ret = RECAP_CONCURRENCY_FORBID;
		return 0;
	case RECAP_API_CONCURRENCY_POLICY_REPLACE:
		*ret = RECAP_CONCURRENCY_REPLACE;
		return 0;
	default:
		return recap_error_set(
		    err, EINVAL,
		    "spec.schedule.concurrencyPolicy: \"%s\" is not one of Allow, Forbid, Replace", s);
	}
}

static int optional_string(json_t *obj, const char *key, const char **ret, struct recap_error **err)
{
	json_t *v = json_object_get(obj, key);
	*ret = NULL;
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_string(v))
		return recap_error_set(err, EINVAL, "spec.schedule.%s: must be a string", key);
	*ret = json_string_value(v);
	return 0;
}

static int parse_scalars(json_t *schedule, struct recap_periodic_schedule *s, struct recap_error **err)
{
	json_t *v = json_object_get(schedule, "startingDeadlineSeconds");
	s->starting_deadline = RECAP_PERIODIC_NONE;
	if (v && !json_is_null(v)) {
		if (!json_is_integer(v) || json_integer_value(v) < 0)
			return recap_error_set(
			    err, EINVAL, "spec.schedule.startingDeadlineSeconds: must be an integer >= 0");
		s->starting_deadline = json_integer_value(v);
	}
	v = json_object_get(schedule, "suspend");
	if (v && !json_is_null(v) && !json_is_boolean(v))
		return recap_error_set(err, EINVAL, "spec.schedule.suspend: must be a boolean");
	s->suspend = json_is_true(v);
	const char *policy;
	int r = optional_string(schedule, "concurrencyPolicy", &policy, err);
	if (r < 0)
		return r;
	return recap_periodic_concurrency_parse(policy, &s->concurrency, err);
}

int recap_periodic_schedule_parse(json_t *schedule, struct recap_periodic_schedule *ret,
				  struct recap_tz **ret_tz, struct recap_error **err)
{
	if (!json_is_object(schedule))
		return recap_error_set(err, EINVAL, "spec.schedule: must be an object");
	struct recap_periodic_schedule s = {0};
	const char *cron, *zone;
	int r = optional_string(schedule, "cron", &cron, err);
	if (r < 0)
		return r;
	if (!cron)
		return recap_error_set(err, EINVAL, "spec.schedule.cron: required");
	if ((r = recap_cron_parse(cron, &s.cron, err)) < 0)
		return recap_error_wrap(err, r, "spec.schedule.cron");
	if ((r = parse_scalars(schedule, &s, err)) < 0)
		return r;
	if ((r = optional_string(schedule, "timeZone", &zone, err)) < 0)
		return r;
	struct recap_tz *tz = NULL;
	if ((r = recap_tz_load(zone, &tz, err)) < 0)
		return recap_error_wrap(err, r, "spec.schedule.timeZone");
	s.tz = tz;
	*ret = s;
	*ret_tz = tz;
	return 0;
}
