/* Finished runs are deleted some time after they finished, as Jobs with
 * ttlSecondsAfterFinished are: Manual runs would otherwise stay in etcd,
 * with their executions, for ever. */
#include <stdbool.h>
#include <stdio.h>
#include <time.h>

#include "api/names.h"
#include "api/types.h"
#include "base/json.h"
#include "base/timeutil.h"
#include "controller/capsulestatus.h"
#include "controller/ctl.h"

#define RUN_TTL_DEFAULT_S (7 * 86400)

/* The run's time to live after it finished, in seconds; -1: kept. */
static int64_t ttl_of(struct recap_controller *ctl, json_t *run)
{
	if (recap_json_path(run, RECAP_API_RUN_SPEC_TTL_SECONDS_AFTER_FINISHED))
		return recap_api_run_spec_ttl_seconds_after_finished(run);
	if (ctl->opts.run_ttl_s_set)
		return ctl->opts.run_ttl_s ? (int64_t)ctl->opts.run_ttl_s : -1;
	return RUN_TTL_DEFAULT_S;
}

/* A Periodic run may go only once its Capsule, as cached, records its
 * scheduled time (status.lastScheduleTime): the schedule judges whether a
 * time already started from that record or from the run (capsule.c). */
static bool recorded(struct recap_controller *ctl, json_t *run)
{
	if (recap_api_run_spec_trigger(run) != RECAP_API_TRIGGER_PERIODIC)
		return true;
	char key[600];
	snprintf(key, sizeof(key), "%s/%s", recap_api_meta_namespace(run) ?: "",
		 recap_api_run_spec_capsule_ref_name(run) ?: "");
	_cleanup_json_ json_t *cap = recap_kube_store_get(ctl_store(ctl, INF_CAPSULE), key);
	const char *last = recap_api_capsule_status_last_schedule_time(cap);
	const char *sched = recap_api_run_spec_scheduled_time(run);
	time_t l, s;
	if (!cap) /* its Capsule is gone: nothing can schedule the time again */
		return true;
	return last && sched && recap_time_parse(last, &l) == 0 && recap_time_parse(sched, &s) == 0 && s <= l;
}

void recap_ctl_run_expire(struct ctl_op *op, json_t *run, time_t now)
{
	int64_t ttl = ttl_of(op->ctl, run);
	const char *done = recap_api_run_status_completion_time(run);
	time_t t;
	if (ttl < 0 || !done || recap_time_parse(done, &t) < 0)
		return;
	if (t + ttl > now) {
		recap_ctl_op_requeue(op, (uint64_t)(t + ttl - now) * 1000000000ull + 500000000ull);
		return;
	}
	/* A triggered run is its pod's cooldown and its cause's record. */
	int64_t keep = recap_api_run_spec_cause(run) ? recap_controller_triggered_keep_until(run) : 0;
	if (keep > (int64_t)now) {
		recap_ctl_op_requeue(op, (uint64_t)(keep - (int64_t)now) * 1000000000ull + 500000000ull);
		return;
	}
	if (!recorded(op->ctl, run)) {
		recap_ctl_op_requeue(op, 5000000000ull);
		return;
	}
	recap_ctl_op_delete(op, &recap_ctl_runs, recap_api_meta_namespace(run), recap_api_meta_name(run),
			    recap_api_meta_uid(run));
	op->ctl->runs_deleted++;
	recap_ctl_op_event(op, run, RECAP_KIND_CAPSULE_RUN, "Normal", "RunExpired",
			   "deleted %lld s after it finished (ttlSecondsAfterFinished)", (long long)ttl);
}
