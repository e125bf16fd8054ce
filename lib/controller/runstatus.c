#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "api/names.h"
#include "api/types.h"
#include "base/json.h"
#include "controller/runstatus.h"
#include "controller/status.h"

#define FAILURE_MESSAGE_MAX 1024

static json_t *failure_json(const struct recap_run_failure *f)
{
	json_t *o =
	    json_pack("{s:s, s:s}", RECAP_API_FAILURE_EXECUTION, f->execution, RECAP_API_FAILURE_REASON,
		      f->reason && *f->reason ? f->reason : RECAP_REASON_FAILED);
	if (!o)
		return NULL;
	if (f->pod)
		json_object_set_new(o, RECAP_API_FAILURE_POD, json_string(f->pod));
	if (f->container)
		json_object_set_new(o, RECAP_API_FAILURE_CONTAINER, json_string(f->container));
	if (f->node)
		json_object_set_new(o, RECAP_API_FAILURE_NODE, json_string(f->node));
	if (f->exit_code >= 0 && f->exit_code <= 255)
		json_object_set_new(o, RECAP_API_FAILURE_EXIT_CODE, json_integer(f->exit_code));
	if (f->message && *f->message) {
		size_t n = strnlen(f->message, FAILURE_MESSAGE_MAX);
		/* Cut on a UTF-8 boundary so the result stays valid. */
		if (n == FAILURE_MESSAGE_MAX) {
			while (n > 0 && (f->message[n] & 0xC0) == 0x80)
				n--;
		}
		json_object_set_new(o, RECAP_API_FAILURE_MESSAGE, json_stringn(f->message, n));
	}
	return o;
}

static void set_counts(json_t *s, const struct recap_run_status *st)
{
	json_object_set_new(s, "phase", json_string(recap_strategy_run_phase_name(st->phase)));
	json_object_set_new(s, "targets", json_integer((json_int_t)st->targets));
	json_object_set_new(s, "pending", json_integer((json_int_t)st->pending));
	json_object_set_new(s, "running", json_integer((json_int_t)st->running));
	json_object_set_new(s, "succeeded", json_integer((json_int_t)st->succeeded));
	json_object_set_new(s, "failed", json_integer((json_int_t)st->failed));
	json_object_set_new(s, "cancelled", json_integer((json_int_t)st->cancelled));
	json_t *f = json_array();
	for (size_t i = 0; i < st->n_failures; i++)
		json_array_append_new(f, failure_json(&st->failures[i]));
	json_object_set_new(s, "failures", f);
}

/* Keeps an old timestamp, else sets now (old: the old status). */
static void stamp(json_t *s, json_t *old, const char *key, time_t now)
{
	json_t *v = json_object_get(old, key);
	char buf[32];
	recap_controller_time(now, buf);
	json_object_set_new(s, key, v ? json_incref(v) : json_string(buf));
}

static const char *complete_reason(const struct recap_run_status *st)
{
	if (st->no_targets)
		return RECAP_CONDITION_REASON_NO_TARGETS;
	if (st->halted)
		return RECAP_CONDITION_REASON_FAILURE_POLICY_STOP;
	return recap_strategy_run_phase_name(st->phase);
}

/* Sets one condition of *conds (replaced by the new list; NULL once out of
 * memory). */
static void set(json_t **conds, const char *type, bool status, const char *reason, const char *msg,
		const struct recap_controller_run_view *v, int64_t gen)
{
	json_t *next = *conds ? recap_api_condition_set(*conds, type, recap_api_condition_status_of(status),
							reason, msg, gen, v->now)
			      : NULL;
	json_decref(*conds);
	*conds = next;
}

/* Admitted; then, as a Job does, Complete (succeeded) and Failed (ended
 * without success); and the kstatus pair GitOps tools read: Reconciling
 * while the run goes on, Stalled once it failed. A refusal other than a
 * missing Capsule (which the run waits for) ends the run failed. */
static json_t *conditions(const struct recap_controller_run_view *v, int64_t gen)
{
	bool ok = !v->refused_reason;
	json_t *c = json_incref(recap_api_run_status_conditions(v->run));
	if (!c)
		c = json_array();
	set(&c, RECAP_CONDITION_ADMITTED, ok, ok ? RECAP_CONDITION_REASON_ADMITTED : v->refused_reason,
	    ok ? "the Capsule is admitted by policy" : v->refused_message, v, gen);
	bool done = v->st && v->st->complete;
	bool failed_refusal = !ok && strcmp(v->refused_reason, RECAP_CONDITION_REASON_CAPSULE_NOT_FOUND) != 0;
	bool succeeded = done && v->st->phase == RECAP_RUN_SUCCEEDED;
	bool failed = failed_refusal || (done && !succeeded);
	const char *reason = done	      ? complete_reason(v->st)
			     : failed_refusal ? v->refused_reason
			     : ok	      ? RECAP_CONDITION_REASON_IN_PROGRESS
					      : v->refused_reason;
	char msg[160];
	if (v->st)
		snprintf(msg, sizeof(msg),
			 "%zu of %zu targets succeeded, %zu failed, %zu cancelled, %zu skipped",
			 v->st->succeeded, v->st->targets, v->st->failed, v->st->cancelled, v->st->skipped);
	else
		snprintf(msg, sizeof(msg), "the run did not start");
	set(&c, RECAP_CONDITION_COMPLETE, succeeded, reason, msg, v, gen);
	set(&c, RECAP_CONDITION_FAILED, failed, reason, msg, v, gen);
	set(&c, RECAP_CONDITION_RECONCILING, !succeeded && !failed, reason, msg, v, gen);
	set(&c, RECAP_CONDITION_STALLED, failed, reason, msg, v, gen);
	json_t *cause = recap_api_run_spec_cause(v->run);
	if (cause) {
		/* What fired it, for kubectl describe and get -o wide readers. */
		char why[1500];
		const char *m = recap_json_str(cause, "message");
		snprintf(why, sizeof(why), "pod %s: %s%s%s", recap_json_str(cause, "pod") ?: "?",
			 recap_json_str(cause, "reason") ?: "?", m && *m ? ": " : "", m && *m ? m : "");
		set(&c, RECAP_CONDITION_TRIGGERED, true,
		    recap_api_trigger_names[recap_api_run_spec_trigger(v->run) < RECAP_API_TRIGGER_COUNT
						? recap_api_run_spec_trigger(v->run)
						: RECAP_API_TRIGGER_MANUAL],
		    why, v, gen);
	}
	return c;
}

json_t *recap_controller_run_status(const struct recap_controller_run_view *v)
{
	json_t *old = recap_api_run_status(v->run);
	int64_t gen = recap_api_meta_generation(v->run);
	json_t *s = json_object();
	if (!s)
		return NULL;
	json_object_set_new(s, "observedGeneration", json_integer(gen));
	if (v->st) {
		set_counts(s, v->st);
	} else {
		bool fail = v->refused_reason &&
			    strcmp(v->refused_reason, RECAP_CONDITION_REASON_CAPSULE_NOT_FOUND) != 0;
		json_object_set_new(s, "phase", json_string(fail ? RECAP_PHASE_FAILED : RECAP_PHASE_PENDING));
		if (fail)
			stamp(s, old, "completionTime", v->now);
	}
	if (v->capsule_spec) {
		json_object_set_new(s, "capsuleGeneration", json_integer(v->capsule_generation));
		json_object_set_new(s, "capsuleSpec", json_incref(v->capsule_spec));
	}
	json_t *dispatched = v->dispatched ? v->dispatched : recap_api_run_status_dispatched(v->run);
	if (json_array_size(dispatched) > 0)
		json_object_set_new(s, "dispatched", json_incref(dispatched));
	if (v->started || recap_json_path(v->run, RECAP_API_RUN_STATUS_START_TIME))
		stamp(s, old, "startTime", v->now);
	if (v->st && v->st->complete)
		stamp(s, old, "completionTime", v->now);
	json_object_set_new(s, "conditions", conditions(v, gen));
	return s;
}
