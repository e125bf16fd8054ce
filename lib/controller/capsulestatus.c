#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/names.h"
#include "api/types.h"
#include "base/json.h"
#include "base/timeutil.h"
#include "controller/capsulestatus.h"
#include "controller/runstatus.h"
#include "controller/status.h"

#define ACTIVE_MAX 100

static int cmp_str(const void *a, const void *b)
{
	return strcmp(json_string_value(*(json_t *const *)a), json_string_value(*(json_t *const *)b));
}

json_t *recap_controller_active_runs(json_t *runs)
{
	size_t i, n = 0;
	json_t *r;
	json_t **v = calloc(json_array_size(runs) + 1, sizeof(*v));
	if (!v)
		return NULL;
	json_array_foreach (runs, i, r) {
		const char *name = recap_api_meta_name(r);
		if (name && !recap_run_phase_final(recap_json_str(r, RECAP_API_RUN_STATUS_PHASE)))
			v[n++] = json_string(name);
	}
	qsort(v, n, sizeof(*v), cmp_str);
	json_t *out = json_array();
	for (i = 0; i < n; i++) {
		if (i < ACTIVE_MAX)
			json_array_append(out, v[i]);
		json_decref(v[i]);
	}
	free(v);
	return out;
}

static time_t time_at(json_t *obj, const char *path)
{
	time_t t = 0;
	const char *s = recap_json_str(obj, path);
	if (!s || recap_time_parse(s, &t) < 0)
		return 0;
	return t;
}

static bool periodic(json_t *run)
{
	return recap_api_run_spec_trigger(run) == RECAP_API_TRIGGER_PERIODIC;
}

/* The latest completion of a succeeded Periodic run, or the old value. */
static json_t *last_successful(json_t *runs, json_t *capsule)
{
	time_t best = time_at(capsule, RECAP_API_CAPSULE_STATUS_LAST_SUCCESSFUL_TIME);
	size_t i;
	json_t *r;
	json_array_foreach (runs, i, r) {
		time_t t = time_at(r, RECAP_API_RUN_STATUS_COMPLETION_TIME);
		if (periodic(r) && recap_api_run_status_phase(r) == RECAP_API_RUN_PHASE_SUCCEEDED && t > best)
			best = t;
	}
	if (best == 0)
		return NULL;
	char buf[32];
	recap_controller_time(best, buf);
	return json_string(buf);
}

static void set_time(json_t *s, const char *key, int64_t t)
{
	if (t == INT64_MIN)
		return;
	char buf[32];
	recap_controller_time((time_t)t, buf);
	json_object_set_new(s, key, json_string(buf));
}

json_t *recap_controller_capsule_status(const struct recap_controller_capsule_view *v)
{
	int64_t gen = recap_api_meta_generation(v->capsule);
	json_t *s = json_object();
	if (!s)
		return NULL;
	json_object_set_new(s, "observedGeneration", json_integer(gen));
	json_object_set_new(s, "matchedTargets", json_integer((json_int_t)v->matched));
	set_time(s, "lastScheduleTime", v->last_schedule);
	set_time(s, "nextScheduleTime", v->next_schedule);
	json_t *ls = last_successful(v->runs, v->capsule);
	if (ls)
		json_object_set_new(s, "lastSuccessfulTime", ls);
	json_t *active = recap_controller_active_runs(v->runs);
	if (json_array_size(active) > 0)
		json_object_set_new(s, "active", active);
	else
		json_decref(active);
	char msg[128];
	if (v->governing > 0)
		snprintf(msg, sizeof(msg), "admitted by %zu CapsulePolicies", v->governing);
	else
		snprintf(msg, sizeof(msg),
			 "admitted by the baseline policy (no CapsulePolicy selects namespace)");
	/* Ready, and Stalled for kstatus: a refused Capsule stays refused until
	 * it or a policy changes. */
	bool ok = !v->refused_reason;
	const char *reason = ok ? RECAP_CONDITION_REASON_ADMITTED : v->refused_reason;
	const char *message = ok ? msg : v->refused_message;
	json_t *ready =
	    recap_api_condition_set(recap_api_capsule_status_conditions(v->capsule), RECAP_CONDITION_READY,
				    recap_api_condition_status_of(ok), reason, message, gen, v->now);
	json_t *both =
	    ready ? recap_api_condition_set(ready, RECAP_CONDITION_STALLED,
					    recap_api_condition_status_of(!ok), reason, message, gen, v->now)
		  : NULL;
	json_decref(ready);
	json_object_set_new(s, "conditions", both);
	return s;
}

struct aged {
	const char *name;
	time_t when;
	bool succeeded;
};

static int by_age_desc(const void *pa, const void *pb)
{
	const struct aged *a = pa, *b = pb;
	if (a->when != b->when)
		return a->when > b->when ? -1 : 1;
	return strcmp(b->name, a->name);
}

int64_t recap_controller_triggered_keep_until(json_t *run)
{
	json_t *spec = recap_api_run_status_capsule_spec(run);
	int64_t cool = recap_api_capsule_spec_trigger_limits_cooldown_seconds(spec);
	int64_t age = recap_api_capsule_spec_trigger_limits_max_cause_age_seconds(spec);
	return (int64_t)time_at(run, RECAP_API_META_CREATION_TIMESTAMP) + (cool > age ? cool : age);
}

/* Appends to out (oldest first) the runs of v (n of them) beyond the
 * limits, newest kept. */
static void prune_pool(struct aged *v, size_t n, int64_t keep_succeeded, int64_t keep_failed, json_t *out)
{
	qsort(v, n, sizeof(*v), by_age_desc);
	int64_t kept_ok = 0, kept_bad = 0;
	size_t at = json_array_size(out);
	/* Newest first here; inserting at one place makes the output oldest first. */
	for (size_t i = 0; i < n; i++) {
		int64_t *kept = v[i].succeeded ? &kept_ok : &kept_bad;
		int64_t keep = v[i].succeeded ? keep_succeeded : keep_failed;
		if (*kept < keep)
			(*kept)++;
		else
			json_array_insert_new(out, at, json_string(v[i].name));
	}
}

json_t *recap_controller_history_prune(json_t *runs, int64_t keep_succeeded, int64_t keep_failed,
				       time_t recorded, time_t now)
{
	size_t i, n = 0, nt = 0;
	json_t *r;
	struct aged *v = calloc(json_array_size(runs) + 1, sizeof(*v));
	struct aged *tv = calloc(json_array_size(runs) + 1, sizeof(*tv));
	json_t *out = json_array();
	if (!v || !tv || !out) {
		free(v);
		free(tv);
		json_decref(out);
		return NULL;
	}
	json_array_foreach (runs, i, r) {
		const char *name = recap_api_meta_name(r);
		bool trig = recap_api_run_spec_cause(r) != NULL;
		if (!name || !(periodic(r) || trig) ||
		    !recap_run_phase_final(recap_json_str(r, RECAP_API_RUN_STATUS_PHASE)))
			continue;
		bool ok = recap_api_run_status_phase(r) == RECAP_API_RUN_PHASE_SUCCEEDED;
		if (trig) {
			/* Its record holds the pod's cooldown and the cause's
			 * deduplication: it stays that long, whatever the limits. */
			if (recap_controller_triggered_keep_until(r) <= (int64_t)now)
				tv[nt++] =
				    (struct aged){name, time_at(r, RECAP_API_META_CREATION_TIMESTAMP), ok};
			continue;
		}
		time_t t = time_at(r, RECAP_API_RUN_SPEC_SCHEDULED_TIME);
		if (t && t > recorded)
			continue;
		v[n++] = (struct aged){name, t ? t : time_at(r, RECAP_API_META_CREATION_TIMESTAMP), ok};
	}
	prune_pool(v, n, keep_succeeded, keep_failed, out);
	prune_pool(tv, nt, keep_succeeded, keep_failed, out);
	free(v);
	free(tv);
	return out;
}
